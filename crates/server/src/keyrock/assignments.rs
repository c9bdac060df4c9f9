//! Role assignments to users and organizations in an application (keyrock.md 4.8, 4.9).

use actix_web::{web, HttpResponse};
use keyrock_idm::assignments::{self, OrganizationAssignment, UserAssignment};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok};
use super::ApiError;
use crate::app::State;
use crate::db;

/// A user's role in an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRoleEntry {
    pub user_id: String,
    pub role_id: String,
}

/// `GET .../users` and `GET .../users/{user_id}/roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRoleList {
    pub role_user_assignments: Vec<UserRoleEntry>,
}

/// A role assigned to a user in an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRoleAssignment {
    pub role_id: String,
    pub user_id: String,
    pub oauth_client_id: String,
}

/// The 201 of `PUT .../users/{user_id}/roles/{role_id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserRoleAssignmentBody {
    pub role_user_assignments: UserRoleAssignment,
}

/// A role of an organization's owners or members in an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleEntry {
    pub organization_id: String,
    /// `owner` or `member`.
    pub role_organization: String,
    pub role_id: String,
}

/// `GET /v1/applications/{application_id}/organizations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleList {
    pub role_organization_assignments: Vec<OrganizationRoleEntry>,
}

/// A role of an organization in an application, as `GET .../organizations/{organization_id}/roles`
/// lists it (without `role_organization`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleRef {
    pub organization_id: String,
    pub role_id: String,
}

/// `GET .../organizations/{organization_id}/roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleIdList {
    pub role_organization_assignments: Vec<OrganizationRoleRef>,
}

/// A role assigned to an organization's owners or members in an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleAssignment {
    pub role_id: String,
    pub organization_id: String,
    pub oauth_client_id: String,
    /// `owner` or `member`.
    pub role_organization: String,
}

/// The 201 of `PUT .../organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationRoleAssignmentBody {
    pub role_organization_assignments: OrganizationRoleAssignment,
}

fn user_entry(a: &UserAssignment) -> UserRoleEntry {
    UserRoleEntry {
        user_id: a.user_id.clone(),
        role_id: a.role_id.clone(),
    }
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/users", tag = "keyrock", operation_id = "keyrock_list_application_users", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "Direct user assignments whose role the caller may change", body = UserRoleList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list_users(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        assignments::list_user_assignments(conn, &caller.0, &app)
    })
    .await?;
    let role_user_assignments = list.iter().map(user_entry).collect();
    Ok(ok(&UserRoleList {
        role_user_assignments,
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/users/{user_id}/roles", tag = "keyrock", operation_id = "keyrock_list_user_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, description = "The user's direct assignments (changeable roles only)", body = UserRoleList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; User not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list_user_roles(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user) = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        assignments::list_roles_of_user(conn, &caller.0, &app, &user)
    })
    .await?;
    let role_user_assignments = list.iter().map(user_entry).collect();
    Ok(ok(&UserRoleList {
        role_user_assignments,
    }))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/users/{user_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_assign_user_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 201, description = "Assigned (idempotent); POST is accepted too", body = UserRoleAssignmentBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; User not found; Role not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn assign_user_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let (app, user, role) = path.into_inner();
    let a = db::with_conn(&state.pool, move |conn| {
        assignments::assign_role_to_user(conn, &caller.0, &app, &user, &role)
    })
    .await?;
    Ok(created(&UserRoleAssignmentBody {
        role_user_assignments: UserRoleAssignment {
            role_id: a.role_id,
            user_id: a.user_id,
            oauth_client_id: a.oauth_client_id,
        },
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/users/{user_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_remove_user_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; User not found; Role not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn remove_user_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, user, role) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        assignments::remove_role_from_user(conn, &caller.0, &app, &user, &role)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/organizations", tag = "keyrock", operation_id = "keyrock_list_application_organizations", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "Every organization assignment of the application", body = OrganizationRoleList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list_organizations(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let app = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        assignments::list_organization_assignments(conn, &caller.0, &app)
    })
    .await?;
    let role_organization_assignments = list
        .iter()
        .map(|a: &OrganizationAssignment| OrganizationRoleEntry {
            organization_id: a.organization_id.clone(),
            role_organization: a.role_organization.clone(),
            role_id: a.role_id.clone(),
        })
        .collect();
    Ok(ok(&OrganizationRoleList {
        role_organization_assignments,
    }))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/organizations/{organization_id}/roles", tag = "keyrock", operation_id = "keyrock_list_organization_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path)),
    responses((status = 200, description = "The organization's assignments (changeable roles only)", body = OrganizationRoleIdList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Organization not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list_organization_roles(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, org) = path.into_inner();
    let list = db::with_conn(&state.pool, move |conn| {
        assignments::list_roles_of_organization(conn, &caller.0, &app, &org)
    })
    .await?;
    let role_organization_assignments = list
        .iter()
        .map(|a| OrganizationRoleRef {
            organization_id: a.organization_id.clone(),
            role_id: a.role_id.clone(),
        })
        .collect();
    Ok(ok(&OrganizationRoleIdList {
        role_organization_assignments,
    }))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_assign_organization_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path), ("role_id" = String, Path),
           ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 201, description = "Assigned (idempotent); POST is accepted too", body = OrganizationRoleAssignmentBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Organization not found; Role not found; Organization role not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn assign_organization_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String, String)>,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    body.bytes()?;
    let (app, org, role, org_role) = path.into_inner();
    let a = db::with_conn(&state.pool, move |conn| {
        assignments::assign_role_to_organization(conn, &caller.0, &app, &org, &role, &org_role)
    })
    .await?;
    Ok(created(&OrganizationRoleAssignmentBody {
        role_organization_assignments: OrganizationRoleAssignment {
            role_id: a.role_id,
            organization_id: a.organization_id,
            oauth_client_id: a.oauth_client_id,
            role_organization: a.role_organization,
        },
    }))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_remove_organization_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path), ("role_id" = String, Path),
           ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "Not allowed; User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Application not found; Organization not found; Role not found; Organization role not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn remove_organization_role(
    state: State,
    caller: KeyrockCaller,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (app, org, role, org_role) = path.into_inner();
    db::with_conn(&state.pool, move |conn| {
        assignments::remove_role_from_organization(conn, &caller.0, &app, &org, &role, &org_role)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
