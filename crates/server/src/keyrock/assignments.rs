//! Role assignments to users and organizations in an application (keyrock.md 4.8, 4.9).

use actix_web::{web, HttpResponse};
use keyrock_idm::assignments::{self, OrganizationAssignment, UserAssignment};
use serde_json::{json, Value};

use super::extract::{KeyrockCaller, RawBody};
use super::ApiError;
use crate::app::State;
use crate::db;

fn user_entry(a: &UserAssignment) -> Value {
    json!({"user_id": a.user_id, "role_id": a.role_id})
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/users", tag = "keyrock", operation_id = "keyrock_list_application_users", security(("x_auth_token" = [])),
    params(("application_id" = String, Path)),
    responses((status = 200, description = "Direct user assignments whose role the caller may change", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Assignments not found")))]
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
    let list: Vec<_> = list.iter().map(user_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "role_user_assignments": list })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/users/{user_id}/roles", tag = "keyrock", operation_id = "keyrock_list_user_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, description = "The user's direct assignments (changeable roles only)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; User not found; Assignments not found")))]
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
    let list: Vec<_> = list.iter().map(user_entry).collect();
    Ok(HttpResponse::Ok().json(json!({ "role_user_assignments": list })))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/users/{user_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_assign_user_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 201, description = "Assigned (idempotent); POST is accepted too", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; User not found; Role not found")))]
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
    Ok(HttpResponse::Created().json(json!({
        "role_user_assignments": {"role_id": a.role_id, "user_id": a.user_id, "oauth_client_id": a.oauth_client_id}
    })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/users/{user_id}/roles/{role_id}", tag = "keyrock", operation_id = "keyrock_remove_user_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("user_id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; User not found; Role not found; Assignments not found")))]
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
    responses((status = 200, description = "Every organization assignment of the application", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Assignments not found")))]
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
    let list: Vec<_> = list
        .iter()
        .map(|a: &OrganizationAssignment| {
            json!({"organization_id": a.organization_id, "role_organization": a.role_organization, "role_id": a.role_id})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "role_organization_assignments": list })))
}

#[utoipa::path(get, path = "/v1/applications/{application_id}/organizations/{organization_id}/roles", tag = "keyrock", operation_id = "keyrock_list_organization_roles", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path)),
    responses((status = 200, description = "The organization's assignments (changeable roles only)", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Organization not found; Assignments not found")))]
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
    let list: Vec<_> = list
        .iter()
        .map(|a| json!({"organization_id": a.organization_id, "role_id": a.role_id}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "role_organization_assignments": list })))
}

#[utoipa::path(method(put, post), path = "/v1/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_assign_organization_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path), ("role_id" = String, Path),
           ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 201, description = "Assigned (idempotent); POST is accepted too", body = Object),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Organization not found; Role not found; Organization role not found")))]
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
    Ok(HttpResponse::Created().json(json!({
        "role_organization_assignments": {
            "role_id": a.role_id,
            "organization_id": a.organization_id,
            "oauth_client_id": a.oauth_client_id,
            "role_organization": a.role_organization,
        }
    })))
}

#[utoipa::path(delete, path = "/v1/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_remove_organization_role", security(("x_auth_token" = [])),
    params(("application_id" = String, Path), ("organization_id" = String, Path), ("role_id" = String, Path),
           ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Not allowed; User not allow to perform the action"),
              (status = 404, description = "Application not found; Organization not found; Role not found; Organization role not found; Assignments not found")))]
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
