//! The applications an application trusts (keyrock.md 4.12).

use actix_web::{web, HttpResponse};
use keyrock_idm::trusted_applications;
use serde_json::json;

use super::extract::{KeyrockCaller, RawBody};
use super::ApiError;
use crate::app::State;
use crate::db;

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
