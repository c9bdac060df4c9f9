//! The applications an application trusts (keyrock.md 4.12).

use actix_web::{web, HttpResponse};
use keyrock_idm::trusted_applications;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok};
use super::ApiError;
use crate::app::State;
use crate::db;

/// `GET .../trusted_applications`: the ids of the trusted applications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustedApplicationList {
    pub trusted_applications: Vec<String>,
}

/// The 201 of `PUT .../trusted_applications/{trusted_application_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrustLink {
    pub oauth_client_id: String,
    pub trusted_oauth_client_id: String,
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/trusted_applications", tag = "keyrock", operation_id = "keyrock_list_trusted_applications", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "{\"trusted_applications\":[\"<app id>\",...]}", body = TrustedApplicationList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Trusted applications nof found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&TrustedApplicationList {
        trusted_applications: ids,
    }))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/trusted_applications/{trusted_application_id}", tag = "keyrock", operation_id = "keyrock_add_trusted_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("trusted_application_id" = String, Path)),
    responses((status = 201, description = "{\"oauth_client_id\",\"trusted_oauth_client_id\"}; POST is accepted too (deprecated)", body = TrustLink),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored); Bad request; Trusted application already added", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Application to be add as trusted not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&TrustLink {
        oauth_client_id: link.oauth_client_id,
        trusted_oauth_client_id: link.trusted_oauth_client_id,
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/trusted_applications/{trusted_application_id}", tag = "keyrock", operation_id = "keyrock_remove_trusted_application", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("trusted_application_id" = String, Path)),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests; Bad request; Application has not that trusted application added", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Application to be add as trusted not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
