//! The PEP proxy of an application (keyrock.md 4.10). Its password appears only in the
//! create and reset answers.

use actix_web::{web, HttpResponse};
use keyrock_idm::pep_proxies;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok, NewPassword};
use super::ApiError;
use crate::app::State;
use crate::db;

/// An application's PEP proxy (never its password).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PepProxyView {
    pub id: String,
    pub oauth_client_id: String,
}

/// `GET /v1/applications/{application_id}/pep_proxies`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PepProxyBody {
    pub pep_proxy: PepProxyView,
}

/// A new PEP proxy with its password, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewPepProxy {
    pub id: String,
    pub password: String,
}

/// The 201 of `POST /v1/applications/{application_id}/pep_proxies`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewPepProxyBody {
    pub pep_proxy: NewPepProxy,
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_get_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"pep_proxy\":{\"id\",\"oauth_client_id\"}} (never the password)", body = PepProxyBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Pep Proxy not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&PepProxyBody {
        pep_proxy: PepProxyView {
            id: pep.id,
            oauth_client_id: pep.oauth_client_id,
        },
    }))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_create_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 201, description = "{\"pep_proxy\":{\"id\",\"password\"}}: the only time the password is shown", body = NewPepProxyBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 409, description = "Pep Proxy already registered", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let new = db::with_conn(&state.pool, move |conn| {
        pep_proxies::create(conn, &caller.0, &app, now)
    })
    .await?;
    Ok(created(&NewPepProxyBody {
        pep_proxy: NewPepProxy {
            id: new.id,
            password: new.password,
        },
    }))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_reset_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"new_password\":\"pep_proxy_<uuid>\"}; the proxy's API tokens are revoked", body = NewPassword),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Pep Proxy not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&NewPassword {
        new_password: password,
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/pep_proxies", tag = "keyrock", operation_id = "keyrock_delete_pep_proxy", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 204, description = "Deleted; its API tokens are revoked"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Pep Proxy not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
