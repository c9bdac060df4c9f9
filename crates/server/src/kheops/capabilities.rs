//! `/capabilities` and `/token/introspect` handlers (kheops.md 5).

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpRequest, HttpResponse};
use capabilities::tokens;

use super::commands::{KheopsCapabilityForm, KheopsIntrospectForm};
use super::error::{KheopsErrorBody, KheopsRefusals};
use super::extract::{self, Body};
use super::views::{KheopsCapability, KheopsIntrospection, KheopsNewCapability};
use super::{listed, run, views, KheopsApiError};
use crate::app::State;
use crate::db;

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}

#[utoipa::path(post, path = "/capabilities", tag = "kheops", operation_id = "kheops_create_capability", security(("bearer" = []), ("basic" = [])),
    request_body(content = KheopsCapabilityForm, content_type = "application/x-www-form-urlencoded",
        description = "title, scope_type (user|album), album, read_permission, write_permission, download_permission, appropriate_permission, not_before_time, expiration_time"),
    responses((status = 201, description = "The token with its secret, shown this once (Cache-Control: no-store)", body = KheopsNewCapability),
              (status = 400, description = "Bad Form Parameter / Bad Query Parameter", body = KheopsErrorBody),
              (status = 401, description = "Unauthorized; Not admin (album scope, member but not admin)", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found", body = KheopsErrorBody),
              (status = 406, description = "Not Acceptable", body = KheopsErrorBody),
              (status = 413, description = "Payload Too Large", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn create(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Form, true)?;
    let credential = extract::credential(&req)?;
    let command = extract::form(&req, payload).await?.create_capability();
    let lifetimes = state.settings.capability_lifetimes();
    let created = run(&state, credential, move |conn, principal, now| {
        tokens::create(conn, principal, command, lifetimes, now)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(no_store())
        .json(views::new_capability(&created.view, &created.secret)))
}

#[utoipa::path(get, path = "/capabilities", tag = "kheops", operation_id = "kheops_list_capabilities", security(("bearer" = []), ("basic" = [])),
    params(("valid" = Option<bool>, Query), ("album" = Option<String>, Query),
           ("user" = Option<String>, Query, description = "sub or email"),
           ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "Tokens, newest first; X-Total-Count", body = Vec<KheopsCapability>,
                headers(("X-Total-Count" = i64, description = "Tokens matching before limit and offset"))),
              (status = 400, description = "Bad Query Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error (album mode, not an admin)", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found; User Not Found", body = KheopsErrorBody)))]
pub async fn list(state: State, req: HttpRequest) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Ignored, true)?;
    let credential = extract::credential(&req)?;
    let command = extract::query(&req)?.capability_query();
    let page = run(&state, credential, move |conn, principal, now| {
        tokens::list(conn, principal, command, now)
    })
    .await?;
    let items: Vec<_> = page.items.iter().map(views::capability).collect();
    Ok(listed(&items, page.total))
}

#[utoipa::path(get, path = "/capabilities/{capability_id}", tag = "kheops", operation_id = "kheops_get_capability", security(("bearer" = []), ("basic" = [])),
    params(("capability_id" = String, Path)),
    responses((status = 200, description = "The token, without its secret", body = KheopsCapability),
              KheopsRefusals,
              (status = 403, description = "Authorization error (album-scope token)", body = KheopsErrorBody),
              (status = 404, description = "Not Found", body = KheopsErrorBody)))]
pub async fn get(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Ignored, true)?;
    let credential = extract::credential(&req)?;
    let id = path.into_inner();
    let view = run(&state, credential, move |conn, principal, _| {
        tokens::get(conn, principal, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::capability(&view)))
}

#[utoipa::path(post, path = "/capabilities/{capability_id}/revoke", tag = "kheops", operation_id = "kheops_revoke_capability", security(("bearer" = []), ("basic" = [])),
    params(("capability_id" = String, Path)),
    responses((status = 200, description = "The token as it now is (a no-op when already revoked or expired)", body = KheopsCapability),
              KheopsRefusals,
              (status = 404, description = "Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn revoke(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, true)?;
    let credential = extract::credential(&req)?;
    let id = path.into_inner();
    let view = run(&state, credential, move |conn, principal, now| {
        tokens::revoke(conn, principal, &id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::capability(&view)))
}

#[utoipa::path(post, path = "/token/introspect", tag = "kheops", operation_id = "kheops_introspect_token",
    request_body(content = KheopsIntrospectForm, content_type = "application/x-www-form-urlencoded", description = "token=<secret>"),
    responses((status = 200, description = "{\"active\":false}, or the active token's sub, scope, cap_token, album_id, exp, iat, nbf (Cache-Control: no-store)", body = KheopsIntrospection),
              (status = 406, description = "Not Acceptable", body = KheopsErrorBody),
              (status = 413, description = "Payload Too Large", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn introspect(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Form, true)?;
    // A body that does not decode carries no valid token: inactive, never an error (5.8).
    let token = match extract::form(&req, payload).await {
        Ok(form) => form.text("token"),
        Err(KheopsApiError::Domain(::capabilities::KheopsError::BadForm(_))) => None,
        Err(e) => return Err(e),
    };
    let now = time::OffsetDateTime::now_utc();
    let result = db::with_conn(&state.pool, move |conn| {
        tokens::introspect(conn, token.as_deref(), now).map_err(KheopsApiError::from)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(no_store())
        .insert_header((header::PRAGMA, "no-cache"))
        .json(views::introspection(&result)))
}
