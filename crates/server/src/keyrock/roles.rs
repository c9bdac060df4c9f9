//! Roles, permissions and role–permission links of an application (keyrock.md 4.5-4.7).

use actix_web::{web, HttpResponse};
use keyrock_idm::permissions::{self, Permission};
use keyrock_idm::roles::{self, Role};
use serde::Serialize;
use utoipa::ToSchema;

use super::commands;
use super::commands::requests::{PermissionRequest, RoleRequest};
use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok, view_with_changes};
use super::ApiError;
use crate::app::State;
use crate::db;

view_with_changes! {
    /// A role as its read shows it.
    pub struct RoleView / RoleChanges / RoleUpdate {
        pub id: String,
        pub name: String,
        /// `provider` and `purchaser`, the two roles every application has.
        pub is_internal: bool,
        pub oauth_client_id: String,
    }
}

/// `GET .../roles/{role_id}`, and the 201 of `POST .../roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleBody {
    pub role: RoleView,
}

/// A role in `GET .../roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleListEntry {
    pub id: String,
    pub name: String,
}

/// `GET /v1/applications/{application_id}/roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleList {
    pub roles: Vec<RoleListEntry>,
}

fn role_full(r: &Role) -> RoleView {
    RoleView {
        id: r.id.clone(),
        name: r.name.clone(),
        is_internal: r.is_internal,
        oauth_client_id: r.oauth_client_id.clone(),
    }
}

/// Keyrock's 0/1 spelling of the two permission flags on every read (keyrock.md 1.5).
fn bit(b: bool) -> u8 {
    u8::from(b)
}

view_with_changes! {
    /// A permission as its read shows it: the two flags spelled 0 or 1.
    pub struct PermissionView / PermissionChanges / PermissionUpdate {
        pub id: String,
        pub name: String,
        pub description: Option<String>,
        /// The six permissions every application has.
        pub is_internal: bool,
        pub action: Option<String>,
        pub resource: Option<String>,
        pub authorization_service_header: Option<String>,
        /// 0 or 1.
        #[schema(maximum = 1)]
        pub use_authorization_service_header: u8,
        pub regex_entity_ids: Option<String>,
        pub regex_attributes: Option<String>,
        pub regex_types: Option<String>,
        /// 0 or 1.
        #[schema(maximum = 1)]
        pub is_regex: u8,
        pub xml: Option<String>,
        pub oauth_client_id: String,
    }
}

/// `GET .../permissions/{permission_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionBody {
    pub permission: PermissionView,
}

/// A permission in `GET .../permissions`: the read without `is_internal`, `is_regex` and
/// `oauth_client_id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionListEntry {
    pub id: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    #[schema(required)]
    pub action: Option<String>,
    #[schema(required)]
    pub resource: Option<String>,
    #[schema(required)]
    pub authorization_service_header: Option<String>,
    /// 0 or 1.
    #[schema(maximum = 1)]
    pub use_authorization_service_header: u8,
    #[schema(required)]
    pub regex_entity_ids: Option<String>,
    #[schema(required)]
    pub regex_attributes: Option<String>,
    #[schema(required)]
    pub regex_types: Option<String>,
    #[schema(required)]
    pub xml: Option<String>,
}

/// `GET /v1/applications/{application_id}/permissions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PermissionList {
    pub permissions: Vec<PermissionListEntry>,
}

/// The permission in the 201 of a create: the read, but the two flags as JSON booleans.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedPermission {
    pub id: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    pub is_internal: bool,
    #[schema(required)]
    pub action: Option<String>,
    #[schema(required)]
    pub resource: Option<String>,
    #[schema(required)]
    pub authorization_service_header: Option<String>,
    pub use_authorization_service_header: bool,
    #[schema(required)]
    pub regex_entity_ids: Option<String>,
    #[schema(required)]
    pub regex_attributes: Option<String>,
    #[schema(required)]
    pub regex_types: Option<String>,
    pub is_regex: bool,
    #[schema(required)]
    pub xml: Option<String>,
    pub oauth_client_id: String,
}

/// The 201 of `POST /v1/applications/{application_id}/permissions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedPermissionBody {
    pub permission: CreatedPermission,
}

/// A permission linked to a role: the read without `is_regex` and `oauth_client_id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RolePermissionEntry {
    pub id: String,
    pub name: String,
    #[schema(required)]
    pub description: Option<String>,
    pub is_internal: bool,
    #[schema(required)]
    pub action: Option<String>,
    #[schema(required)]
    pub resource: Option<String>,
    #[schema(required)]
    pub authorization_service_header: Option<String>,
    /// 0 or 1.
    #[schema(maximum = 1)]
    pub use_authorization_service_header: u8,
    #[schema(required)]
    pub regex_entity_ids: Option<String>,
    #[schema(required)]
    pub regex_attributes: Option<String>,
    #[schema(required)]
    pub regex_types: Option<String>,
    #[schema(required)]
    pub xml: Option<String>,
}

/// `GET .../roles/{role_id}/permissions`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RolePermissionList {
    pub role_permission_assignments: Vec<RolePermissionEntry>,
}

/// A role–permission link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RolePermissionLink {
    pub role_id: String,
    pub permission_id: String,
}

/// The 201 of `PUT .../roles/{role_id}/permissions/{permission_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RolePermissionLinkBody {
    pub role_permission_assignments: RolePermissionLink,
}

fn permission_full(p: &Permission) -> PermissionView {
    PermissionView {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        is_internal: p.is_internal,
        action: p.action.clone(),
        resource: p.resource.clone(),
        authorization_service_header: p.authorization_service_header.clone(),
        use_authorization_service_header: bit(p.use_authorization_service_header),
        regex_entity_ids: p.regex_entity_ids.clone(),
        regex_attributes: p.regex_attributes.clone(),
        regex_types: p.regex_types.clone(),
        is_regex: bit(p.is_regex),
        xml: p.xml.clone(),
        oauth_client_id: p.oauth_client_id.clone(),
    }
}

fn permission_list_entry(p: &Permission) -> PermissionListEntry {
    PermissionListEntry {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        action: p.action.clone(),
        resource: p.resource.clone(),
        authorization_service_header: p.authorization_service_header.clone(),
        use_authorization_service_header: bit(p.use_authorization_service_header),
        regex_entity_ids: p.regex_entity_ids.clone(),
        regex_attributes: p.regex_attributes.clone(),
        regex_types: p.regex_types.clone(),
        xml: p.xml.clone(),
    }
}

fn permission_created(p: &Permission) -> CreatedPermission {
    CreatedPermission {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        is_internal: p.is_internal,
        action: p.action.clone(),
        resource: p.resource.clone(),
        authorization_service_header: p.authorization_service_header.clone(),
        use_authorization_service_header: p.use_authorization_service_header,
        regex_entity_ids: p.regex_entity_ids.clone(),
        regex_attributes: p.regex_attributes.clone(),
        regex_types: p.regex_types.clone(),
        is_regex: p.is_regex,
        xml: p.xml.clone(),
        oauth_client_id: p.oauth_client_id.clone(),
    }
}

fn role_permission_entry(p: &Permission) -> RolePermissionEntry {
    RolePermissionEntry {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        is_internal: p.is_internal,
        action: p.action.clone(),
        resource: p.resource.clone(),
        authorization_service_header: p.authorization_service_header.clone(),
        use_authorization_service_header: bit(p.use_authorization_service_header),
        regex_entity_ids: p.regex_entity_ids.clone(),
        regex_attributes: p.regex_attributes.clone(),
        regex_types: p.regex_types.clone(),
        xml: p.xml.clone(),
    }
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/roles", tag = "keyrock", operation_id = "keyrock_list_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "With perm 3 every role of the application plus provider and purchaser, otherwise the caller's changeable roles; id descending", body = RoleList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Roles not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list_roles(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| roles::list(conn, &caller.0, &app)).await?;
    let roles = list
        .iter()
        .map(|r| RoleListEntry {
            id: r.id.clone(),
            name: r.name.clone(),
        })
        .collect();
    Ok(ok(&RoleList { roles }))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/roles", tag = "keyrock", operation_id = "keyrock_create_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = RoleRequest, description = "The new role: name required"),
    responses((status = 201, description = "The new role", body = RoleBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter role in body request; Missing parameter name in body request or empty name", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&RoleBody {
        role: role_full(&role),
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_get_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 200, description = "The role (provider and purchaser resolve to the internal roles)", body = RoleBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&RoleBody {
        role: role_full(&role),
    }))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_update_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    request_body(content = RoleRequest, description = "The fields to change"),
    responses((status = 200, description = "values_updated, or the no-change message", body = RoleUpdate),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter role in body request; Cannot set empty name; Cannot set id or is_internal", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(
        &role_full(&updated.after).updated(&updated.changed, "role")
    ))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_delete_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204, description = "Deleted with its permission links and assignments"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    responses((status = 200, description = "The application's permissions plus the six internal ones, id descending", body = PermissionList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let permissions = list.iter().map(permission_list_entry).collect();
    Ok(ok(&PermissionList { permissions }))
}

#[utoipa::path(post, path = "/v1/applications/{application_id}/permissions", tag = "keyrock", operation_id = "keyrock_create_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    request_body(content = PermissionRequest, description = "The new permission (keyrock.md 4.6)"),
    responses((status = 201, description = "The new permission (flags as JSON booleans)", body = CreatedPermissionBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; The first failing rule of keyrock.md 4.6", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&CreatedPermissionBody {
        permission: permission_created(&permission),
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_get_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 200, description = "The permission (\"1\"..\"6\" resolve to the internal ones)", body = PermissionBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; permission not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&PermissionBody {
        permission: permission_full(&permission),
    }))
}

#[utoipa::path(patch, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_update_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    request_body(content = PermissionRequest, description = "The fields to change"),
    responses((status = 200, description = "values_updated, or the no-change message", body = PermissionUpdate),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; The first failing PATCH rule of keyrock.md 4.6", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (\"1\"..\"6\"); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; permission not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let body = permission_full(&updated.after).updated(&updated.changed, "permission");
    Ok(ok(&body))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_delete_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 204, description = "Deleted with its role links"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (\"1\"..\"6\"); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; permission not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    responses((status = 200, description = "The permissions linked to the role, id descending", body = RolePermissionList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let role_permission_assignments = list.iter().map(role_permission_entry).collect();
    Ok(ok(&RolePermissionList {
        role_permission_assignments,
    }))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/roles/{role_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_link_role_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 201, description = "Linked (idempotent); POST is accepted too", body = RolePermissionLinkBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found; permission not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&RolePermissionLinkBody {
        role_permission_assignments: RolePermissionLink {
            role_id,
            permission_id,
        },
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/roles/{role_id}/permissions/{permission_id}", tag = "keyrock", operation_id = "keyrock_unlink_role_permission", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("role_id" = String, Path), ("permission_id" = String, Path)),
    responses((status = 204, description = "Unlinked"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed (provider, purchaser); User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Role not found; permission not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
