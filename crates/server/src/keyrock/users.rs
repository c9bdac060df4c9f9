//! `/v1/users` handlers.

use actix_web::{web, HttpResponse};
use keyrock_idm::users;

use super::commands::{self, requests::UserRequest};
use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{
    created, ok, user_created, user_full, user_list_entry, CreatedUserBody, UserBody, UserList,
    UserUpdate,
};
use super::ApiError;
use crate::app::State;
use crate::db;

#[utoipa::path(get, path = "/v1/users", tag = "keyrock", operation_id = "keyrock_list_users", security(("x_auth_token" = [])),
    responses((status = 200, description = "Every user (admin only)", body = UserList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Users not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let all = db::with_conn(&state.pool, move |conn| users::list(conn, &caller.0)).await?;
    let list: Vec<_> = all.iter().map(user_list_entry).collect();
    Ok(ok(&UserList { users: list }))
}

#[utoipa::path(post, path = "/v1/users", tag = "keyrock", operation_id = "keyrock_create_user", security(("x_auth_token" = [])),
    request_body(content = UserRequest, description = "The new user: username, email and password required"),
    responses((status = 201, description = "The created user", body = CreatedUserBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; a missing or invalid field", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 409, description = "Email already used", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&CreatedUserBody {
        user: user_created(&user),
    }))
}

#[utoipa::path(get, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_get_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    responses((status = 200, description = "The user", body = UserBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; User not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn get(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let user = db::with_conn(&state.pool, move |conn| users::get(conn, &caller.0, &id)).await?;
    Ok(ok(&UserBody {
        user: user_full(&user),
    }))
}

#[utoipa::path(patch, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_update_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    request_body(content = UserRequest, description = "The fields to change"),
    responses((status = 200, description = "values_updated, or the no-change message", body = UserUpdate),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter user in body request; Cannot set id; an invalid field", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; User not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 409, description = "Email already used", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(
        &user_full(&outcome.after).updated(&outcome.changed, "user")
    ))
}

#[utoipa::path(delete, path = "/v1/users/{user_id}", tag = "keyrock", operation_id = "keyrock_delete_user", security(("x_auth_token" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204, description = "Deleted with its tokens, memberships and assignments"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not authorized to perform action; User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; User not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn delete(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::with_conn(&state.pool, move |conn| users::delete(conn, &caller.0, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
