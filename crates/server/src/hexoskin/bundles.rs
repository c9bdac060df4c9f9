//! `/api/bundle/` (hexoskin-bundles.md §2.3): every caller lists and reads bundles; admins
//! create them; nobody changes or deletes them.

use actix_web::{web, HttpRequest, HttpResponse};
use bundle_permissions::bundles::{self, BundleOrder, BundleQuery, NewBundle};
use bundle_permissions::BundleError;
use serde::Deserialize;
use utoipa::ToSchema;

use super::error::{HexoskinApiError, HexoskinBodyRefusals, HexoskinErrorBody, HexoskinRefusals};
use super::extract::{self, ListSpec};
use super::views::{self, HexoskinBundle, HexoskinBundleList};
use super::{created, ok, run, Resource};
use crate::app::State;

const LIST: ListSpec<BundleOrder> = ListSpec {
    fields: &["id", "name", "description", "permissions", "resource_uri"],
    filters: &[],
    order: &[("id", BundleOrder::Id), ("name", BundleOrder::Name)],
};

const PERMISSIONS_MESSAGE: &str = "must be a list of \"read\" and \"write\"";

/// `POST /api/bundle/`'s body.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewBundleBody {
    /// 1 to 64 characters, unique (case-insensitively).
    name: String,
    /// Default `""`.
    description: Option<String>,
    /// A non-empty list of `read` and `write`.
    permissions: Vec<String>,
}

#[utoipa::path(get, path = "/api/bundle/", tag = "hexoskin", operation_id = "hexoskin_list_bundles",
    security(("bearer" = [])),
    params(("limit" = Option<u32>, Query, description = "page size; 0 or more than 1000 means 1000"),
           ("offset" = Option<u32>, Query),
           ("order_by" = Option<String>, Query, description = "id, name; '-' for descending")),
    responses((status = 200, description = "Every bundle", body = HexoskinBundleList),
              (status = 400, description = "a bad limit, offset, filter or order_by", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn list(state: State, req: HttpRequest) -> Result<HttpResponse, HexoskinApiError> {
    let listing = extract::listing(&req, &LIST)?;
    let query = BundleQuery {
        order: listing.order.clone(),
        paging: listing.paging,
    };
    let page = run(&state, &req, Resource::Bundle, move |conn, _, _| {
        Ok(bundles::list(conn, &query)?)
    })
    .await?;
    let list: HexoskinBundleList =
        views::list(&page, views::bundle, |o| listing.link("/api/bundle/", o));
    Ok(ok(&list))
}

#[utoipa::path(post, path = "/api/bundle/", tag = "hexoskin", operation_id = "hexoskin_create_bundle",
    security(("bearer" = [])),
    request_body = NewBundleBody,
    responses((status = 201, description = "Created; Location names it", body = HexoskinBundle,
               headers(("Location" = String, description = "the bundle's absolute URI"))),
              (status = 400, description = "invalid data, with field errors under `bundle`", body = HexoskinErrorBody),
              (status = 403, description = "the caller is not an admin", body = HexoskinErrorBody),
              HexoskinRefusals, HexoskinBodyRefusals))]
pub async fn create(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, HexoskinApiError> {
    // Non-admins are refused before the body is looked at (§2.3).
    let body = extract::object(&req, payload).await;
    let bundle = run(&state, &req, Resource::Bundle, move |conn, caller, now| {
        bundles::authorize_create(caller)?;
        let body = body?;
        let new = NewBundle {
            name: extract::text_field(&body, "name"),
            description: extract::text_field(&body, "description"),
            permissions: extract::strings_field(&body, "permissions", PERMISSIONS_MESSAGE),
        };
        Ok(bundles::create(conn, caller, new, now)?)
    })
    .await?;
    Ok(created(
        &state,
        &views::bundle_uri(bundle.id),
        &views::bundle(&bundle),
    ))
}

#[utoipa::path(get, path = "/api/bundle/{id}/", tag = "hexoskin", operation_id = "hexoskin_get_bundle",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the bundle's id")),
    responses((status = 200, description = "The bundle", body = HexoskinBundle),
              (status = 404, description = "not found", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn get(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let id = extract::path_id(&id);
    let bundle = run(&state, &req, Resource::Bundle, move |conn, _, _| {
        Ok(bundles::get(conn, id.ok_or(BundleError::NotFound)?)?)
    })
    .await?;
    Ok(ok(&views::bundle(&bundle)))
}
