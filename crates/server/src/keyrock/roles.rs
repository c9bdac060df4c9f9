//! Roles, permissions and role–permission links of an application (keyrock.md 4.5-4.7).

use actix_web::{web, HttpResponse};
use keyrock_idm::permissions::{self, Permission};
use keyrock_idm::roles::{self, Role};
use serde_json::{json, Value};

use super::commands;
use super::extract::{KeyrockCaller, RawBody};
use super::views::values_updated;
use super::ApiError;
use crate::app::State;
use crate::db;

fn role_full(r: &Role) -> Value {
    json!({"id": r.id, "name": r.name, "is_internal": r.is_internal, "oauth_client_id": r.oauth_client_id})
}

/// Keyrock's 0/1 spelling of the two permission flags on every read (keyrock.md 1.5).
fn bit(b: bool) -> u8 {
    u8::from(b)
}

fn permission_full(p: &Permission) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "is_internal": p.is_internal,
        "action": p.action,
        "resource": p.resource,
        "authorization_service_header": p.authorization_service_header,
        "use_authorization_service_header": bit(p.use_authorization_service_header),
        "regex_entity_ids": p.regex_entity_ids,
        "regex_attributes": p.regex_attributes,
        "regex_types": p.regex_types,
        "is_regex": bit(p.is_regex),
        "xml": p.xml,
        "oauth_client_id": p.oauth_client_id,
    })
}

/// `full` without the named keys: the list and link shapes are subsets of it.
fn without(mut full: Value, keys: &[&str]) -> Value {
    if let Value::Object(map) = &mut full {
        for key in keys {
            map.remove(*key);
        }
    }
    full
}

fn permission_list_entry(p: &Permission) -> Value {
    without(
        permission_full(p),
        &["is_internal", "is_regex", "oauth_client_id"],
    )
}

/// The 201 of a create: the full object, but the two flags as JSON booleans.
fn permission_created(p: &Permission) -> Value {
    let mut v = permission_full(p);
    v["is_regex"] = json!(p.is_regex);
    v["use_authorization_service_header"] = json!(p.use_authorization_service_header);
    v
}

fn role_permission_entry(p: &Permission) -> Value {
    without(permission_full(p), &["is_regex", "oauth_client_id"])
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/roles", tag = "keyrock", operation_id = "keyrock_list_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "With perm 3 every role of the application plus provider and purchaser, otherwise the caller's changeable roles; id descending", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Roles not found")))]
pub async fn list_roles(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| roles::list(conn, &caller.0, &app)).await?;
    let list: Vec<_> = list
        .iter()
        .map(|r| json!({"id": r.id, "name": r.name}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "roles": list })))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/roles", tag = "keyrock", operation_id = "keyrock_create_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = Object, description = "{\"role\":{\"name\"}}"),
    responses((status = 201, description = "The new role", body = Object),
              (status = 400, description = "Missing parameter role in body request; Missing parameter name in body request or empty name"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
pub async fn create_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::role(&body.json()?);
    let app = path.into_inner();
    let role = db::with_conn(&state.pool, move |conn| {
        roles::create(conn, &caller.0, &app, &command)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "role": role_full(&role) })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_get_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 200, description = "The role (provider and purchaser resolve to the internal roles)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found")))]
pub async fn get_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, role) = path.into_inner();
    let role = db::with_conn(&state.pool, move |conn| {
        roles::get(conn, &caller.0, &app, &role)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "role": role_full(&role) })))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_update_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    request_body(content = Object, description = "{\"role\":{\"name\"}}"),
    responses((status = 200, description = "values_updated, or the no-change message", body = Object),
              (status = 400, description = "Missing parameter role in body request; Cannot set empty name; Cannot set id or is_internal"),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found")))]
pub async fn update_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::role(&body.json()?);
    let (app, role) = path.into_inner();
    let updated = db::with_conn(&state.pool, move |conn| {
        roles::update(conn, &caller.0, &app, &role, &command)
    })
    .await?;
    let full = role_full(&updated.after);
    Ok(HttpResponse::Ok().json(values_updated(&full, &updated.changed, "role")))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_delete_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204, description = "Deleted with its permission links and assignments"),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found")))]
pub async fn delete_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, role) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        roles::delete(conn, &caller.0, &app, &role)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/permissions", tag = "keyrock", operation_id = "keyrock_list_permissions", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "The application's permissions plus the six internal ones, id descending", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
pub async fn list_permissions(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        permissions::list(conn, &caller.0, &app)
    })
    .await?;
    let list: Vec<_> = list.iter().map(permission_list_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "permissions": list })))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/permissions", tag = "keyrock", operation_id = "keyrock_create_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = Object, description = "{\"permission\":{\"name\",\"description\",\"action\",\"resource\",\"is_regex\",\"use_authorization_service_header\",\"authorization_service_header\",\"regex_entity_ids\",\"regex_attributes\",\"regex_types\",\"xml\"}}"),
    responses((status = 201, description = "The new permission (flags as JSON booleans)", body = Object),
              (status = 400, description = "The first failing rule of keyrock.md 4.6"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found")))]
pub async fn create_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::permission(&body.json()?);
    let app = path.into_inner();
    let level = state.settings.pdp_level;
    let permission = db::with_conn(&state.pool, move |conn| {
        permissions::create(conn, &caller.0, &app, &command, level)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "permission": permission_created(&permission) })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_get_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 200, description = "The permission (\"1\"..\"6\" resolve to the internal ones)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; permission not found")))]
pub async fn get_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, permission) = path.into_inner();
    let permission = db::with_conn(&state.pool, move |conn| {
        permissions::get(conn, &caller.0, &app, &permission)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "permission": permission_full(&permission) })))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_update_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    request_body(content = Object, description = "{\"permission\":{...}}"),
    responses((status = 200, description = "values_updated, or the no-change message", body = Object),
              (status = 400, description = "The first failing PATCH rule of keyrock.md 4.6"),
              (status = 403, description = "Not allowed (\"1\"..\"6\"); User not allow to perform the action"),
              (status = 404, description = "Application not found; permission not found")))]
pub async fn update_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let command = commands::permission(&body.json()?);
    let (app, permission) = path.into_inner();
    let level = state.settings.pdp_level;
    let updated = db::with_conn(&state.pool, move |conn| {
        permissions::update(conn, &caller.0, &app, &permission, &command, level)
    })
    .await?;
    let full = permission_full(&updated.after);
    Ok(HttpResponse::Ok().json(values_updated(&full, &updated.changed, "permission")))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_delete_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 204, description = "Deleted with its role links"),
              (status = 403, description = "Not allowed (\"1\"..\"6\"); User not allow to perform the action"),
              (status = 404, description = "Application not found; permission not found")))]
pub async fn delete_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, permission) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        permissions::delete(conn, &caller.0, &app, &permission)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/roles/{role_id}/permissions", tag = "keyrock", operation_id = "keyrock_list_role_permissions", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 200, description = "The permissions linked to the role, id descending", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found; Assignments not found")))]
pub async fn list_role_permissions(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, role) = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        permissions::of_role(conn, &caller.0, &app, &role)
    })
    .await?;
    let list: Vec<_> = list.iter().map(role_permission_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "role_permission_assignments": list })))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/roles/{role_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_link_role_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 201, description = "Linked (idempotent); POST is accepted too", body = Object),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found; permission not found")))]
pub async fn link_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    // Any body is ignored, but an oversized one still gets its 413.
    body.bytes()?;
    let (app, role, permission) = path.into_inner();
    let (role_id, permission_id) = db::with_conn(&state.pool, move |conn| {
        permissions::link(conn, &caller.0, &app, &role, &permission)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "role_permission_assignments": {"role_id": role_id, "permission_id": permission_id}
    })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/roles/{role_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_unlink_role_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 204, description = "Unlinked"),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action"),
              (status = 404, description = "Application not found; Role not found; permission not found; Assignments not found")))]
pub async fn unlink_permission(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, role, permission) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        permissions::unlink(conn, &caller.0, &app, &role, &permission)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
