//! `/api/bundle_permission_request/` (hexoskin-bundles.md §2.5, §3): asking for access,
//! with the e-mail's first delivery attempt before the answer; the request by id; and the
//! token location, which works only for the request's user_target.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use bundle_permissions::requests::{self, NewRequest, RequestOrder, RequestQuery, TTL_MESSAGE};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::error::{HexoskinApiError, HexoskinBodyRefusals, HexoskinErrorBody, HexoskinRefusals};
use super::extract::{self, ListSpec};
use super::views::{
    self, HexoskinBundlePermission, HexoskinPermissionRequest, HexoskinPermissionRequestList,
};
use super::{created, located, no_content, ok, run, Resource};
use crate::app::State;

const LIST: ListSpec<RequestOrder> = ListSpec {
    fields: &[
        "id",
        "resource_uri",
        "bundle",
        "user_allowed",
        "user_target",
        "redeem_url",
        "ttl",
        "status",
        "email_sent",
    ],
    filters: &[],
    order: &[("id", RequestOrder::Id)],
};

const RESOURCE: Resource = Resource::BundlePermissionRequest;

/// `POST /api/bundle_permission_request/`'s body.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct NewRequestBody {
    /// The user who is asked: resource URI, id or e-mail address.
    #[schema(example = "/api/user/7/")]
    user_target: String,
    /// The user who asks for access: resource URI, id or e-mail address.
    #[schema(example = "/api/user/8/")]
    user_allowed: String,
    /// The bundle's resource URI or id.
    #[schema(example = "/api/bundle/1/")]
    bundle: String,
    /// Seconds, 1 to 2592000; default 604800.
    #[schema(minimum = 1, maximum = 2592000)]
    ttl: Option<i64>,
    /// An absolute http(s) URL the link is built on (`?token=`).
    redeem_url: Option<String>,
}

/// The command of a create body.
fn new_request(body: &Map<String, Value>) -> NewRequest {
    NewRequest {
        user_target: extract::user_field(body, "user_target"),
        user_allowed: extract::user_field(body, "user_allowed"),
        bundle: extract::bundle_field(body),
        ttl: extract::integer_field(body, "ttl", TTL_MESSAGE),
        redeem_url: extract::text_field(body, "redeem_url"),
    }
}

/// What a path key names: digits are an id, anything else a token (§2.5).
enum Key {
    Id(i64),
    Token(String),
}

fn key(text: &str) -> Key {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Too large for an id: no request has it.
        Key::Id(text.parse().unwrap_or(0))
    } else {
        Key::Token(text.to_owned())
    }
}

#[utoipa::path(get, path = "/api/bundle_permission_request/", tag = "hexoskin", operation_id = "hexoskin_list_requests",
    security(("bearer" = [])),
    params(("limit" = Option<u32>, Query, description = "page size; 0 or more than 1000 means 1000"),
           ("offset" = Option<u32>, Query),
           ("order_by" = Option<String>, Query, description = "id or -id")),
    responses((status = 200, description = "The requests the caller is user_allowed or user_target of, whatever their status (admins: all)", body = HexoskinPermissionRequestList),
              (status = 400, description = "a bad limit, offset, filter or order_by", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn list(state: State, req: HttpRequest) -> Result<HttpResponse, HexoskinApiError> {
    let listing = extract::listing(&req, &LIST)?;
    let query = RequestQuery {
        order: listing.order.clone(),
        paging: listing.paging,
    };
    let (page, now) = run(&state, &req, RESOURCE, move |conn, caller, now| {
        Ok((requests::list(conn, caller, &query)?, now))
    })
    .await?;
    let list: HexoskinPermissionRequestList = views::list(
        &page,
        |r| views::request(r, now),
        |o| listing.link("/api/bundle_permission_request/", o),
    );
    Ok(ok(&list))
}

#[utoipa::path(post, path = "/api/bundle_permission_request/", tag = "hexoskin", operation_id = "hexoskin_create_request",
    security(("bearer" = [])),
    request_body = NewRequestBody,
    responses((status = 201, description = "Stored, and the e-mail attempted once before this answer (`email_sent`); Location names the request", body = HexoskinPermissionRequest,
               headers(("Location" = String, description = "the request's absolute URI (not the token location)"))),
              (status = 400, description = "invalid data, with field errors under `bundle_permission_request`", body = HexoskinErrorBody),
              (status = 403, description = "the caller is neither the user_allowed nor an admin", body = HexoskinErrorBody),
              HexoskinRefusals, HexoskinBodyRefusals))]
pub async fn create(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, HexoskinApiError> {
    // Authentication comes first (§1.2): the body is looked at once the caller is known.
    let body = extract::object(&req, payload).await;
    let mail = state.mail.clone();
    let (asked, now) = run(&state, &req, RESOURCE, move |conn, caller, _| {
        let body = body?;
        let new = new_request(&body);
        let asked = requests::ask(conn, caller, new, &mail.courier(), OffsetDateTime::now_utc)?;
        crate::mail::log_first_attempt(&asked);
        // The answer's ttl and status as of now, after the attempt.
        Ok((asked, OffsetDateTime::now_utc()))
    })
    .await?;
    let request = asked.request;
    Ok(created(
        &state,
        &views::request_uri(request.id),
        &views::request(&request, now),
    ))
}

#[utoipa::path(get, path = "/api/bundle_permission_request/{key}/", tag = "hexoskin", operation_id = "hexoskin_get_request",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "digits: the request's id (for its parties and admins); anything else: the e-mailed token (for the user_target only)")),
    responses((status = 200, description = "The request", body = HexoskinPermissionRequest),
              (status = 404, description = "not found, or the caller may not see it or use the token", body = HexoskinErrorBody),
              (status = 410, description = "the token's request is expired or already redeemed", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn get(
    state: State,
    req: HttpRequest,
    key_text: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let key = key(&key_text);
    let (request, now) = run(&state, &req, RESOURCE, move |conn, caller, now| {
        let request = match key {
            Key::Id(id) => requests::get(conn, caller, id)?,
            Key::Token(token) => requests::by_token(conn, caller, &token, now)?,
        };
        Ok((request, now))
    })
    .await?;
    Ok(ok(&views::request(&request, now)))
}

#[utoipa::path(put, path = "/api/bundle_permission_request/{key}/", tag = "hexoskin", operation_id = "hexoskin_redeem_request",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "the e-mailed token (an id is 405: Allow GET, DELETE)")),
    request_body(content = Object, description = "ignored (an empty PUT redeems)"),
    responses((status = 200, description = "Redeemed: the bundle permission (created, or the identical one that existed); Location names it", body = HexoskinBundlePermission,
               headers(("Location" = String, description = "the permission's absolute URI"))),
              (status = 404, description = "unknown token, or the caller is not its user_target", body = HexoskinErrorBody),
              (status = 405, description = "a request id: redeeming goes through the token location", body = HexoskinErrorBody),
              (status = 410, description = "the request is expired or already redeemed", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn redeem(
    state: State,
    req: HttpRequest,
    key_text: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    // A PUT on an id never gets here: `request_id_methods` answers it with 405.
    let token = key_text.into_inner();
    let granted = run(&state, &req, RESOURCE, move |conn, caller, now| {
        Ok(requests::redeem(conn, caller, &token, now)?)
    })
    .await?;
    let permission = granted.permission();
    Ok(located(
        HttpResponseBuilder::new(StatusCode::OK),
        &state,
        &views::permission_uri(permission.id),
        &views::permission(permission),
    ))
}

#[utoipa::path(delete, path = "/api/bundle_permission_request/{key}/", tag = "hexoskin", operation_id = "hexoskin_delete_request",
    security(("bearer" = [])),
    params(("key" = String, Path, description = "digits: the request's id (its parties and admins may delete it); anything else: the token (the user_target declines, in any state)")),
    responses((status = 204, description = "Deleted; its token stops working"),
              (status = 404, description = "not found, or the caller may not see it or use the token", body = HexoskinErrorBody),
              HexoskinRefusals))]
pub async fn delete(
    state: State,
    req: HttpRequest,
    key_text: web::Path<String>,
) -> Result<HttpResponse, HexoskinApiError> {
    let key = key(&key_text);
    run(&state, &req, RESOURCE, move |conn, caller, _| {
        match key {
            Key::Id(id) => requests::delete(conn, caller, id)?,
            Key::Token(token) => requests::delete_by_token(conn, caller, &token)?,
        }
        Ok(())
    })
    .await?;
    Ok(no_content())
}
