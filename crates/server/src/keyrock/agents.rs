//! PEP proxies, IoT agents, trusted applications (keyrock.md 4.10-4.12) and the service
//! provider configuration (4.13). Passwords appear only in the create and reset answers.

use actix_web::{web, HttpResponse};
use keyrock_idm::{iot_agents, pep_proxies, service_providers, trusted_applications};
use serde_json::json;

use super::extract::{KeyrockCaller, RawBody};
use super::ApiError;
use crate::app::State;
use crate::db;

// ---- PEP proxies (4.10) ----

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

// ---- IoT agents (4.11) ----

#[utoipa::path(get, path = "/v1/applications/{application_id}/iot_agents", tag = "keyrock", operation_id = "keyrock_list_iot_agents", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"iot_agents\":[{\"id\"}...]}", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Iot agents not found")))]
pub async fn list_iot_agents(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let ids = db::with_conn(&state.pool, move |conn| {
        iot_agents::list(conn, &caller.0, &app)
    })
    .await?;
    let list: Vec<_> = ids.iter().map(|id| json!({ "id": id })).collect();
    Ok(HttpResponse::Ok().json(json!({ "iot_agents": list })))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/iot_agents", tag = "keyrock", operation_id = "keyrock_create_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 201, description = "{\"iot_agent\":{\"id\",\"password\"}}: the only time the password is shown", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
pub async fn create_iot_agent(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let app = path.into_inner();
    let now = time::OffsetDateTime::now_utc();
    let created = db::with_conn(&state.pool, move |conn| {
        iot_agents::create(conn, &caller.0, &app, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "iot_agent": {"id": created.id, "password": created.password}
    })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_get_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 200, description = "{\"iot_agent\":{\"id\",\"oauth_client_id\"}} (never the password)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Iot Agent not found")))]
pub async fn get_iot_agent(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, iot) = path.into_inner();
    let agent = db::with_conn(&state.pool, move |conn| {
        iot_agents::get(conn, &caller.0, &app, &iot)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "iot_agent": {"id": agent.id, "oauth_client_id": agent.oauth_client_id}
    })))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_reset_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 200, description = "{\"new_password\":\"iot_sensor_<uuid>\"}", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Iot Agent not found")))]
pub async fn reset_iot_agent(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let (app, iot) = path.into_inner();
    let password = db::with_conn(&state.pool, move |conn| {
        iot_agents::reset_password(conn, &caller.0, &app, &iot)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "new_password": password })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_delete_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Iot Agent not found")))]
pub async fn delete_iot_agent(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, iot) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        iot_agents::delete(conn, &caller.0, &app, &iot)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- Trusted applications (4.12) ----

#[utoipa::path(get, path = "/v1/applications/{application_id}/trusted_applications", tag = "keyrock", operation_id = "keyrock_list_trusted_applications", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"trusted_applications\":[\"<app id>\",...]}", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Trusted applications nof found")))]
pub async fn list_trusted_applications(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let ids = db::with_conn(&state.pool, move |conn| {
        trusted_applications::list(conn, &caller.0, &app)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "trusted_applications": ids })))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/trusted_applications/{trusted_application_id}", tag = "keyrock", operation_id = "keyrock_add_trusted_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("trusted_application_id" = String, Path)),
    responses((status = 201, description = "{\"oauth_client_id\",\"trusted_oauth_client_id\"}; POST is accepted too (deprecated)", body = Object),
              (status = 400, description = "Bad request; Trusted application already added"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Application to be add as trusted not found")))]
pub async fn add_trusted_application(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let (app, other) = path.into_inner();
    let link = db::with_conn(&state.pool, move |conn| {
        trusted_applications::add(conn, &caller.0, &app, &other)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "oauth_client_id": link.oauth_client_id,
        "trusted_oauth_client_id": link.trusted_oauth_client_id,
    })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/trusted_applications/{trusted_application_id}", tag = "keyrock", operation_id = "keyrock_remove_trusted_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("trusted_application_id" = String, Path)),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Bad request; Application has not that trusted application added"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Application to be add as trusted not found")))]
pub async fn remove_trusted_application(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, other) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        trusted_applications::remove(conn, &caller.0, &app, &other)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

// ---- Service provider configuration (4.13) ----

#[utoipa::path(get, path = "/v1/service_providers/configs", tag = "keyrock", operation_id = "keyrock_get_service_provider_configs", security(("x_auth_token" = [])),
    responses((status = 200, description = "{\"information\":{\"total_users\",\"total_organizations\",\"total_applications\"}} (idm_admin_app counted)", body = Object),
              (status = 403, description = "User not authorized to perform action")))]
pub async fn service_provider_configs(
    state: State,
    caller: KeyrockCaller,
) -> Result<HttpResponse, ApiError> {
    let info = db::with_conn(&state.pool, move |conn| {
        service_providers::configs(conn, &caller.0)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({
        "information": {
            "total_users": info.total_users,
            "total_organizations": info.total_organizations,
            "total_applications": info.total_applications,
        }
    })))
}
