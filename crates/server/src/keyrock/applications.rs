//! `/v1/applications` handlers. Each names its domain operation; authorization happens in
//! `keyrock_idm::authz`, on the operation and the caller, never on the URL.

use actix_web::{web, HttpResponse};
use keyrock_idm::applications;
use serde_json::json;

use super::commands;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{application_created, application_full, application_list_entry, values_updated};
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/applications", tag = "keyrock", operation_id = "keyrock_list_applications", security(("x_auth_token" = [])),
    responses((status = 200, description = "Applications in which the caller holds a role ([] when none)", body = Object)))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let apps = db::with_conn(&state.pool, move |conn| applications::list(conn, &caller.0)).await?;
    let list: Vec<_> = apps.iter().map(application_list_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "applications": list })))
}

#[utoipa::path(post, path = "/v1/applications", tag = "keyrock", operation_id = "keyrock_create_application", security(("x_auth_token" = [])),
    request_body(content = Object, description = "{\"application\":{\"name\",\"redirect_uri\",\"description\",\"url\",\"redirect_sign_out_uri\",\"grant_type\":[..],\"token_types\":[..],\"scope\"}}"),
    responses((status = 201, description = "The application, with its secret shown this once", body = Object),
              (status = 400, description = "Missing parameter ...; Invalid token type in body request; Invalid Grant Type")))]
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
    Ok(HttpResponse::Created().json(json!({ "application": application_created(&app, &secret) })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_get_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "The application (secret null; jwt_secret only with permission 2)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
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
    Ok(HttpResponse::Ok().json(json!({ "application": application_full(&app) })))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_update_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = Object, description = "{\"application\":{...}}"),
    responses((status = 200, description = "values_updated, or the no-change message", body = Object),
              (status = 400, description = "Invalid field"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
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
    let full = application_full(&updated.after);
    Ok(HttpResponse::Ok().json(values_updated(&full, &updated.changed, "application")))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}", tag = "keyrock", operation_id = "keyrock_delete_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 204, description = "Deleted with everything that belongs to it"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
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
    responses((status = 200, description = "{\"secret\":\"<new uuid>\"}", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
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
    Ok(HttpResponse::Ok().json(json!({ "secret": secret })))
}
