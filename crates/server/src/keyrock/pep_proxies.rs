//! The PEP proxy of an application (keyrock.md 4.10). Its password appears only in the
//! create and reset answers.

use actix_web::{web, HttpResponse};
use keyrock_idm::pep_proxies;
use serde_json::json;

use super::extract::{KeyrockCaller, RawBody};
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_get_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"pep_proxy\":{\"id\",\"oauth_client_id\"}} (never the password)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Pep Proxy not found")))]
pub async fn get_pep_proxy(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let pep = db::with_conn(&state.pool, move |conn| {
        pep_proxies::get(conn, &caller.0, &app)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "pep_proxy": {"id": pep.id, "oauth_client_id": pep.oauth_client_id}
    })))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_create_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 201, description = "{\"pep_proxy\":{\"id\",\"password\"}}: the only time the password is shown", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found"),
              (status = 409, description = "Pep Proxy already registered")))]
pub async fn create_pep_proxy(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    // Keyrock clients send an empty JSON body; any body is ignored but must be readable.
    body.bytes()?;
    let app = path.into_inner();
    let now = time::OffsetDateTime::now_utc();
    let created = db::with_conn(&state.pool, move |conn| {
        pep_proxies::create(conn, &caller.0, &app, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "pep_proxy": {"id": created.id, "password": created.password}
    })))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_reset_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"new_password\":\"pep_proxy_<uuid>\"}; the proxy's API tokens are revoked", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Pep Proxy not found")))]
pub async fn reset_pep_proxy(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let app = path.into_inner();
    let password = db::with_conn(&state.pool, move |conn| {
        pep_proxies::reset_password(conn, &caller.0, &app)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "new_password": password })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_delete_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 204, description = "Deleted; its API tokens are revoked"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Pep Proxy not found")))]
pub async fn delete_pep_proxy(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        pep_proxies::delete(conn, &caller.0, &app)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
