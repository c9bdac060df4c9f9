//! The IoT agents of an application (keyrock.md 4.11). Their passwords appear only in the
//! create and reset answers.

use actix_web::{web, HttpResponse};
use keyrock_idm::iot_agents;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok, NewPassword};
use super::ApiError;
use crate::app::State;
use crate::db;

/// An IoT agent in `GET .../iot_agents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IotAgentId {
    pub id: String,
}

/// `GET /v1/applications/{application_id}/iot_agents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IotAgentList {
    pub iot_agents: Vec<IotAgentId>,
}

/// An application's IoT agent (never its password).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IotAgentView {
    pub id: String,
    pub oauth_client_id: String,
}

/// `GET .../iot_agents/{iot_agent_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IotAgentBody {
    pub iot_agent: IotAgentView,
}

/// A new IoT agent with its password, shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewIotAgent {
    pub id: String,
    pub password: String,
}

/// The 201 of `POST /v1/applications/{application_id}/iot_agents`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewIotAgentBody {
    pub iot_agent: NewIotAgent,
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/iot_agents", tag = "keyrock", operation_id = "keyrock_list_iot_agents", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"iot_agents\":[{\"id\"}...]}", body = IotAgentList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Iot agents not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let iot_agents = ids.into_iter().map(|id| IotAgentId { id }).collect();
    Ok(ok(&IotAgentList { iot_agents }))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/iot_agents", tag = "keyrock", operation_id = "keyrock_create_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 201, description = "{\"iot_agent\":{\"id\",\"password\"}}: the only time the password is shown", body = NewIotAgentBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn create_iot_agent(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let app = path.into_inner();
    let now = time::OffsetDateTime::now_utc();
    let new = db::with_conn(&state.pool, move |conn| {
        iot_agents::create(conn, &caller.0, &app, now)
    })
    .await?;
    Ok(created(&NewIotAgentBody {
        iot_agent: NewIotAgent {
            id: new.id,
            password: new.password,
        },
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_get_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 200, description = "{\"iot_agent\":{\"id\",\"oauth_client_id\"}} (never the password)", body = IotAgentBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Iot Agent not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&IotAgentBody {
        iot_agent: IotAgentView {
            id: agent.id,
            oauth_client_id: agent.oauth_client_id,
        },
    }))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_reset_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 200, description = "{\"new_password\":\"iot_sensor_<uuid>\"}", body = NewPassword),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Iot Agent not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&NewPassword {
        new_password: password,
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/iot_agents/{iot_agent_id}", tag = "keyrock", operation_id = "keyrock_delete_iot_agent", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("iot_agent_id" = String, Path)),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Iot Agent not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
