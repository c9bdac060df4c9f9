//! `/v1/users` handlers.

use actix_web::{web, HttpResponse};
use keyrock_idm::users;
use serde_json::json;

use super::commands;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{user_created, user_full, user_list_entry, values_updated};
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/users", tag = "keyrock", operation_id = "keyrock_list_users", security(("x_auth_token" = [])),
    responses((status = 200, description = "Every user (admin only)", body = Object),
              (status = 403, description = "User not authorized to perform action"),
              (status = 404, description = "Users not found")))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let all = db::with_conn(&state.pool, move |conn| users::list(conn, &caller.0)).await?;
    let list: Vec<_> = all.iter().map(user_list_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "users": list })))
}

#[utoipa::path(post, path = "/v1/users", tag = "keyrock", operation_id = "keyrock_create_user", security(("x_auth_token" = [])),
    request_body(content = Object, description = "{\"user\":{\"username\",\"email\",\"password\",\"description\",\"website\",\"gravatar\",\"extra\"}}"),
    responses((status = 201, description = "The created user", body = Object),
              (status = 400, description = "Missing or invalid field"),
              (status = 403, description = "User not authorized to perform action"),
              (status = 409, description = "Email already used"),
              (status = 413, description = "Body too large")))]
pub async fn create(
    state: State,
    caller: KeyrockCaller,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::new_user(&body.json()?);
    let now = time::OffsetDateTime::now_utc();
    let (pool, hasher) = (state.pool.clone(), state.hasher.clone());
    let user =
        db::blocking(move || users::create(&pool, &hasher, &caller.0, &command, now)).await?;
    Ok(HttpResponse::Created().json(json!({ "user": user_created(&user) })))
}

#[utoipa::path(get, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_get_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, description = "The user", body = Object),
              (status = 403, description = "User not authorized to perform action"),
              (status = 404, description = "User not found")))]
pub async fn get(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let user = db::with_conn(&state.pool, move |conn| users::get(conn, &caller.0, &id)).await?;
    Ok(HttpResponse::Ok().json(json!({ "user": user_full(&user) })))
}

#[utoipa::path(patch, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_update_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    request_body(content = Object, description = "{\"user\":{...}}"),
    responses((status = 200, description = "values_updated, or the no-change message", body = Object),
              (status = 400, description = "Invalid field"),
              (status = 403, description = "User not authorized to perform action"),
              (status = 404, description = "User not found"),
              (status = 409, description = "Email already used")))]
pub async fn update(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::user_changes(&body.json()?);
    let id = path.into_inner();
    let now = time::OffsetDateTime::now_utc();
    let (pool, hasher) = (state.pool.clone(), state.hasher.clone());
    let outcome =
        db::blocking(move || users::update(&pool, &hasher, &caller.0, &id, &command, now)).await?;
    let full = user_full(&outcome.after);
    Ok(HttpResponse::Ok().json(values_updated(&full, &outcome.changed, "user")))
}

#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_delete_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204, description = "Deleted with its tokens, memberships and assignments"),
              (status = 403, description = "User not authorized to perform action"),
              (status = 404, description = "User not found")))]
pub async fn delete(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::with_conn(&state.pool, move |conn| users::delete(conn, &caller.0, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
