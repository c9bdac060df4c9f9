//! `/v1/organizations` handlers (keyrock.md 4.4).

use actix_web::{web, HttpResponse};
use keyrock_idm::organizations::{self, Membership, Organization};
use serde_json::{json, Value};

use super::commands;
use super::extract::{KeyrockCaller, RawBody};
use super::views::values_updated;
use super::ApiError;
use crate::app::State;
use crate::db;

fn organization(o: &Organization) -> Value {
    json!({
        "id": o.id,
        "name": o.name,
        "description": o.description,
        "website": o.website,
        "image": o.image,
    })
}

fn membership(m: &Membership) -> Value {
    json!({"user_id": m.user_id, "organization_id": m.organization_id, "role": m.role})
}

#[utoipa::path(get, path = "/v1/organizations", tag = "keyrock", operation_id = "keyrock_list_organizations", security(("x_auth_token" = [])),
    responses((status = 200, description = "The caller's organizations with the caller's role", body = Object),
              (status = 404, description = "Organizations not found")))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let rows = db::with_conn(&state.pool, move |conn| {
        organizations::list(conn, &caller.0)
    })
    .await?;
    let list: Vec<_> = rows
        .iter()
        .map(|(role, o)| json!({"role": role, "Organization": organization(o)}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "organizations": list })))
}

#[utoipa::path(post, path = "/v1/organizations", tag = "keyrock", operation_id = "keyrock_create_organization", security(("x_auth_token" = [])),
    request_body(content = Object, description = "{\"organization\":{\"name\",\"description\",\"website\"}}"),
    responses((status = 201, description = "The organization; the caller is its owner", body = Object),
              (status = 400, description = "Missing parameter organization in body request; Missing parameter name in body request or empty name")))]
pub async fn create(
    state: State,
    caller: KeyrockCaller,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::organization(&body.json()?);
    let now = time::OffsetDateTime::now_utc();
    let org = db::with_conn(&state.pool, move |conn| {
        organizations::create(conn, &caller.0, &command, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({"organization": {
        "id": org.id, "image": org.image, "name": org.name,
        "description": org.description, "website": org.website,
    }})))
}

#[utoipa::path(get, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_get_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    responses((status = 200, description = "The organization (owners only)", body = Object),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found")))]
pub async fn get(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let org = db::with_conn(&state.pool, move |conn| {
        organizations::get(conn, &caller.0, &id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "organization": organization(&org) })))
}

#[utoipa::path(patch, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_update_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    request_body(content = Object, description = "{\"organization\":{\"name\",\"description\",\"website\"}}"),
    responses((status = 200, description = "values_updated, or the no-change message", body = Object),
              (status = 400, description = "Missing parameter organization in body request; Cannot set id; Cannot set empty name"),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found")))]
pub async fn update(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::organization(&body.json()?);
    let id = path.into_inner();
    let updated = db::with_conn(&state.pool, move |conn| {
        organizations::update(conn, &caller.0, &id, &command)
    })
    .await?;
    let full = organization(&updated.after);
    Ok(HttpResponse::Ok().json(values_updated(&full, &updated.changed, "organization")))
}

#[utoipa::path(delete, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_delete_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    responses((status = 204, description = "Deleted with its memberships and role assignments"),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found")))]
pub async fn delete(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        organizations::delete(conn, &caller.0, &id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/organizations/{organization_id}/users", tag = "keyrock", operation_id = "keyrock_list_organization_members", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    responses((status = 200, description = "Owners and members", body = Object),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found; Assignments not found")))]
pub async fn members(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        organizations::members(conn, &caller.0, &id)
    })
    .await?;
    let list: Vec<_> = list.iter().map(membership).collect();
    Ok(HttpResponse::Ok().json(json!({ "organization_users": list })))
}

#[utoipa::path(get, path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles", tag = "keyrock", operation_id = "keyrock_get_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, description = "The user's role in the organization", body = Object),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found; User not found; Assignment not found")))]
pub async fn member_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, user) = path.into_inner();
    let m = db::with_conn(&state.pool, move |conn| {
        organizations::member_role(conn, &caller.0, &org, &user)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "organization_user": membership(&m) })))
}

#[utoipa::path(method(put, post), path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_set_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path), ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 201, description = "The membership (replaces the user's previous role); POST is accepted too", body = Object),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found; User not found; Organization role not found")))]
pub async fn set_member_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let (org, user, role) = path.into_inner();
    let m = db::with_conn(&state.pool, move |conn| {
        organizations::set_member_role(conn, &caller.0, &org, &user, &role)
    })
    .await?;
    Ok(
        HttpResponse::Created().json(json!({"user_organization_assignments": {
            "role": m.role, "organization_id": m.organization_id, "user_id": m.user_id,
        }})),
    )
}

#[utoipa::path(delete, path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_remove_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path), ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "User not allow to perform the action"),
              (status = 404, description = "Organization not found; User not found; Organization role not found; Assignments not found")))]
pub async fn remove_member_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, user, role) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        organizations::remove_member_role(conn, &caller.0, &org, &user, &role)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
