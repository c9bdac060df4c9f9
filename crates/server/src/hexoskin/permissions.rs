//! `/api/bundle_permission/` (hexoskin-bundles.md §2.4): the permissions the caller takes
//! part in; granting by user_target or an admin; withdrawal by either party or an admin.

use actix_web::{web, HttpRequest, HttpResponse};
use bundle_permissions::permissions::{
    self, Granted, NewPermission, PermissionFilter, PermissionOrder, PermissionQuery,
};
use bundle_permissions::BundleError;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::error::{HexoskinApiError, HexoskinBodyRefusals, HexoskinErrorBody, HexoskinRefusals};
use super::extract::{self, ListSpec, Listing};
use super::views::{self, HexoskinBundlePermission, HexoskinBundlePermissionList};
use super::{created, no_content, ok, run, Resource};
use crate::app::State;

const LIST: ListSpec<PermissionOrder> = ListSpec {
    fields: &[
        "id",
        "bundle",
        "user_allowed",
        "user_target",
        "name",
        "resource_uri",
    ],
    filters: &["bundle", "user_allowed", "user_target"],
    order: &[("id", PermissionOrder::Id)],
};

/// `POST /api/bundle_permission/`'s body.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewPermissionBody {
    /// The bundle's resource URI or id.
    #[schema(example = "/api/bundle/1/")]
    bundle: String,
    /// The user who gets access: resource URI, id or e-mail address.
    #[schema(example = "/api/user/8/")]
    user_allowed: String,
    /// The user whose data is shared: resource URI, id or e-mail address.
    #[schema(example = "/api/user/7/")]
    user_target: String,
    /// A free label of at most 255 characters.
    name: Option<String>,
}

/// The command of a create body.
fn new_permission(body: &Map<String, Value>) -> NewPermission {
    NewPermission {
        bundle: extract::bundle_field(body),
        user_allowed: extract::user_field(body, "user_allowed"),
        user_target: extract::user_field(body, "user_target"),
        name: extract::text_field(body, "name"),
    }
}

/// The filters of a listing as the domain's.
fn filter(listing: &Listing<PermissionOrder>) -> PermissionFilter {
    let users = |field| {
        listing.filter(field).map(|values| {
            values
                .iter()
                .filter_map(|v| extract::user_ref_text(v))
                .collect()
        })
    };
    PermissionFilter {
        bundle: listing.filter("bundle").map(|values| {
            values
                .iter()
                .filter_map(|v| extract::bundle_ref_text(v))
                .collect()
        }),
        user_allowed: users("user_allowed"),
        user_target: users("user_target"),
    }
}

#[utoipa::path(get, path = "/api/bundle_permission/", tag = "hexoskin", operation_id = "hexoskin_list_permissions",
    security(("bearer" = [])),
    params(("limit" = Option<u32>, Query, description = "page size; 0 or more than 1000 means 1000"),
           ("offset" = Option<u32>, Query),
           ("bundle" = Option<String>, Query, description = "a bundle's URI or id"), ("bundle__in" = Option<String>, Query),
           ("user_allowed" = Option<String>, Query, description = "a user's URI, id or e-mail"), ("user_allowed__in" = Option<String>, Query),
           ("user_target" = Option<String>, Query), ("user_target__in" = Option<String>, Query),
           ("order_by" = Option<String>, Query, description = "id or -id")),
    responses((status = 200, description = "The permissions the caller is user_allowed or user_target of (admins: all)", body = HexoskinBundlePermissionList),
              (status = 400, description = "a bad limit, offset, filter or order_by", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn list(state: State, req: HttpRequest) -> Result<HttpResponse, HexoskinApiError> {
    let listing = extract::listing(&req, &LIST)?;
    let query = PermissionQuery {
        filter: filter(&listing),
        order: listing.order.clone(),
        paging: listing.paging,
    };
    let page = run(
        &state,
        &req,
        Resource::BundlePermission,
        move |conn, caller, _| Ok(permissions::list(conn, caller, &query)?),
    )
    .await?;
    let list: HexoskinBundlePermissionList = views::list(&page, views::permission, |o| {
        listing.link("/api/bundle_permission/", o)
    });
    Ok(ok(&list))
}

#[utoipa::path(post, path = "/api/bundle_permission/", tag = "hexoskin", operation_id = "hexoskin_create_permission",
    security(("bearer" = [])),
    request_body = NewPermissionBody,
    responses((status = 201, description = "Granted; Location names it", body = HexoskinBundlePermission,
               headers(("Location" = String, description = "the permission's absolute URI"))),
              (status = 200, description = "The triple was already granted: the existing permission, unchanged", body = HexoskinBundlePermission),
              (status = 400, description = "invalid data, with field errors under `bundle_permission`", body = HexoskinErrorBody),
              (status = 403, description = "the caller is neither the user_target nor an admin", body = HexoskinErrorBody),
              HexoskinRefusals, HexoskinBodyRefusals))]
pub async fn create(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, HexoskinApiError> {
    // Authentication comes first (§1.2): the body is looked at once the caller is known.
    let body = extract::object(&req, payload).await;
    let granted = run(
        &state,
        &req,
        Resource::BundlePermission,
        move |conn, caller, now| {
            Ok(permissions::create(
                conn,
                caller,
                new_permission(&body?),
                now,
            )?)
        },
    )
    .await?;
    Ok(match granted {
        Granted::Created(p) => {
            created(&state, &views::permission_uri(p.id), &views::permission(&p))
        }
        Granted::Existing(p) => ok(&views::permission(&p)),
    })
}

#[utoipa::path(get, path = "/api/bundle_permission/{id}/", tag = "hexoskin", operation_id = "hexoskin_get_permission",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the permission's id")),
    responses((status = 200, description = "The permission (for its parties and admins)", body = HexoskinBundlePermission),
              (status = 404, description = "not found (or the caller takes no part in it)", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn get(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let id = extract::path_id(&id);
    let permission = run(
        &state,
        &req,
        Resource::BundlePermission,
        move |conn, caller, _| {
            Ok(permissions::get(
                conn,
                caller,
                id.ok_or(BundleError::NotFound)?,
            )?)
        },
    )
    .await?;
    Ok(ok(&views::permission(&permission)))
}

#[utoipa::path(delete, path = "/api/bundle_permission/{id}/", tag = "hexoskin", operation_id = "hexoskin_delete_permission",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the permission's id")),
    responses((status = 204, description = "Withdrawn (by user_allowed, user_target or an admin)"),
              (status = 404, description = "not found (or the caller takes no part in it)", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn delete(
    state: State,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let id = extract::path_id(&id);
    run(
        &state,
        &req,
        Resource::BundlePermission,
        move |conn, caller, _| {
            Ok(permissions::delete(
                conn,
                caller,
                id.ok_or(BundleError::NotFound)?,
            )?)
        },
    )
    .await?;
    Ok(no_content())
}
