//! The IoT agents of an application (keyrock.md 4.11). Their passwords appear only in the
//! create and reset answers.

use actix_web::{web, HttpResponse};
use keyrock_idm::iot_agents;
use serde_json::json;

use super::extract::{KeyrockCaller, RawBody};
use super::ApiError;
use crate::app::State;
use crate::db;

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
