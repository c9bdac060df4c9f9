//! `/v1/applications` handlers. Each names its domain operation; authorization happens in
//! `keyrock_idm::authz`, on the operation and the caller, never on the URL.

use actix_web::{web, HttpResponse};
use keyrock_idm::applications;

use super::commands::{self, requests::ApplicationRequest};
use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{
    application_created, application_full, application_list_entry, created, ok, ApplicationBody,
    ApplicationList, ApplicationSecret, ApplicationUpdate, CreatedApplicationBody,
};
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/applications", tag = "keyrock", operation_id = "keyrock_list_applications", security(("x_auth_token" = [])),
    responses((status = 200, description = "Applications in which the caller holds a role ([] when none)", body = ApplicationList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let apps = db::with_conn(&state.pool, move |conn| applications::list(conn, &caller.0)).await?;
    let list: Vec<_> = apps.iter().map(application_list_entry).collect();
    Ok(ok(&ApplicationList { applications: list }))
}

#[utoipa::path(post, path = "/v1/applications", tag = "keyrock", operation_id = "keyrock_create_application", security(("x_auth_token" = [])),
    request_body(content = ApplicationRequest, description = "The new application: name and redirect_uri required"),
    responses((status = 201, description = "The application, with its secret shown this once", body = CreatedApplicationBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter application in body request; Missing parameter name in body request or empty name; Missing parameter redirect_uri in body request; Invalid token type in body request; Invalid Grant Type", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn create(
    state: State,
    caller: KeyrockCaller,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::new_application(&body.json()?);
    let now = time::OffsetDateTime::now_utc();
    let (app, secret) = db::with_conn(&state.pool, move |conn| {
        applications::create(conn, &caller.0, &command, now)
    })
    .await?;
    Ok(created(&CreatedApplicationBody {
        application: application_created(&app, &secret),
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_get_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "The application (secret null; jwt_secret only with permission 2)", body = ApplicationBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn get(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let app = db::with_conn(&state.pool, move |conn| {
        applications::get(conn, &caller.0, &id)
    })
    .await?;
    Ok(ok(&ApplicationBody {
        application: application_full(&app),
    }))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_update_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = ApplicationRequest, description = "The fields to change"),
    responses((status = 200, description = "values_updated, or the no-change message", body = ApplicationUpdate),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter application in body request; Cannot set empty name; Cannot set empty redirect_uri; Cannot set id, secret or response_type; Invalid token type in body request; Invalid Grant Type", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn update(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::application_changes(&body.json()?);
    let id = path.into_inner();
    let updated = db::with_conn(&state.pool, move |conn| {
        applications::update(conn, &caller.0, &id, &command)
    })
    .await?;
    let body = application_full(&updated.after).updated(&updated.changed, "application");
    Ok(ok(&body))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_delete_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 204, description = "Deleted with everything that belongs to it"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn delete(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        applications::delete(conn, &caller.0, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/reset_secret", tag = "keyrock", operation_id = "keyrock_reset_application_secret", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"secret\":\"<new uuid>\"}", body = ApplicationSecret),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn reset_secret(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    // Keyrock clients send an empty JSON body; any body is ignored but must be readable.
    body.bytes()?;
    let id = path.into_inner();
    let secret = db::with_conn(&state.pool, move |conn| {
        applications::reset_secret(conn, &caller.0, &id)
    })
    .await?;
    Ok(ok(&ApplicationSecret { secret }))
}
