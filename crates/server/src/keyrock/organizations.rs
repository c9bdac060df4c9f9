//! `/v1/organizations` handlers (keyrock.md 4.4).

use actix_web::{web, HttpResponse};
use keyrock_idm::organizations::{self, Membership, Organization};
use serde::Serialize;
use utoipa::ToSchema;

use super::commands::{self, requests::OrganizationRequest};
use super::error::KeyrockErrorBody;
use super::extract::{KeyrockCaller, RawBody};
use super::views::{created, ok, view_with_changes};
use super::ApiError;
use crate::app::State;
use crate::db;

view_with_changes! {
    /// An organization as its read shows it.
    pub struct OrganizationView / OrganizationChanges / OrganizationUpdate {
        pub id: String,
        pub name: String,
        pub description: Option<String>,
        pub website: Option<String>,
        pub image: String,
    }
}

/// `GET /v1/organizations/{organization_id}`, and the 201 of `POST /v1/organizations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationBody {
    pub organization: OrganizationView,
}

/// One of the caller's organizations, with the caller's role in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationListEntry {
    /// `owner` or `member`.
    pub role: String,
    #[serde(rename = "Organization")]
    pub organization: OrganizationView,
}

/// `GET /v1/organizations`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationList {
    pub organizations: Vec<OrganizationListEntry>,
}

/// A user's membership of an organization.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationMember {
    pub user_id: String,
    pub organization_id: String,
    /// `owner` or `member`.
    pub role: String,
}

/// `GET /v1/organizations/{organization_id}/users`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationMemberList {
    pub organization_users: Vec<OrganizationMember>,
}

/// `GET .../users/{user_id}/organization_roles`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationMemberBody {
    pub organization_user: OrganizationMember,
}

/// The 201 of `PUT .../users/{user_id}/organization_roles/{organization_role}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationMemberAssignment {
    pub user_organization_assignments: OrganizationMember,
}

fn organization(o: &Organization) -> OrganizationView {
    OrganizationView {
        id: o.id.clone(),
        name: o.name.clone(),
        description: o.description.clone(),
        website: o.website.clone(),
        image: o.image.clone(),
    }
}

fn membership(m: Membership) -> OrganizationMember {
    OrganizationMember {
        user_id: m.user_id,
        organization_id: m.organization_id,
        role: m.role,
    }
}

#[utoipa::path(get, path = "/v1/organizations", tag = "keyrock", operation_id = "keyrock_list_organizations", security(("x_auth_token" = [])),
    responses((status = 200, description = "The caller's organizations with the caller's role", body = OrganizationList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organizations not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn list(state: State, caller: KeyrockCaller) -> Result<HttpResponse, ApiError> {
    let rows = db::with_conn(&state.pool, move |conn| {
        organizations::list(conn, &caller.0)
    })
    .await?;
    let organizations = rows
        .into_iter()
        .map(|(role, o)| OrganizationListEntry {
            role,
            organization: organization(&o),
        })
        .collect();
    Ok(ok(&OrganizationList { organizations }))
}

#[utoipa::path(post, path = "/v1/organizations", tag = "keyrock", operation_id = "keyrock_create_organization", security(("x_auth_token" = [])),
    request_body(content = OrganizationRequest, description = "The new organization: name required"),
    responses((status = 201, description = "The organization; the caller is its owner", body = OrganizationBody),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter organization in body request; Missing parameter name in body request or empty name", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action (a PEP proxy's token)", body = KeyrockErrorBody),
              (status = 404, description = "Token not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&OrganizationBody {
        organization: organization(&org),
    }))
}

#[utoipa::path(get, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_get_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    responses((status = 200, description = "The organization (owners only)", body = OrganizationBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&OrganizationBody {
        organization: organization(&org),
    }))
}

#[utoipa::path(patch, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_update_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    request_body(content = OrganizationRequest, description = "The fields to change"),
    responses((status = 200, description = "values_updated, or the no-change message", body = OrganizationUpdate),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body; Missing parameter organization in body request; Cannot set id; Cannot set empty name", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let body = organization(&updated.after).updated(&updated.changed, "organization");
    Ok(ok(&body))
}

#[utoipa::path(delete, path = "/v1/organizations/{organization_id}", tag = "keyrock", operation_id = "keyrock_delete_organization", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path)),
    responses((status = 204, description = "Deleted with its memberships and role assignments"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    responses((status = 200, description = "Owners and members", body = OrganizationMemberList),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    let organization_users = list.into_iter().map(membership).collect();
    Ok(ok(&OrganizationMemberList { organization_users }))
}

#[utoipa::path(get, path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles", tag = "keyrock", operation_id = "keyrock_get_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, description = "The user's role in the organization", body = OrganizationMemberBody),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found; User not found; Assignment not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(ok(&OrganizationMemberBody {
        organization_user: membership(m),
    }))
}

#[utoipa::path(method(put, post), path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_set_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path), ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 201, description = "The membership (replaces the user's previous role); POST is accepted too", body = OrganizationMemberAssignment),
              (status = 400, description = "Missing parameter: header Content-Type: application/json; Expecting to find X-Auth-token/Authorization in requests; Malformed JSON body (the body could not be read; its content is ignored)", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found; User not found; Organization role not found", body = KeyrockErrorBody),
              (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
              (status = 413, description = "Request body too large", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
    Ok(created(&OrganizationMemberAssignment {
        user_organization_assignments: membership(m),
    }))
}

#[utoipa::path(delete, path = "/v1/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}", tag = "keyrock", operation_id = "keyrock_remove_organization_member_role", security(("x_auth_token" = [])),
    params(("organization_id" = String, Path), ("user_id" = String, Path), ("organization_role" = String, Path, description = "owner or member")),
    responses((status = 204, description = "Removed"),
              (status = 400, description = "Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
              (status = 401, description = "Token has expired", body = KeyrockErrorBody),
              (status = 403, description = "User not allow to perform the action", body = KeyrockErrorBody),
              (status = 404, description = "Token not found; Organization not found; User not found; Organization role not found; Assignments not found", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
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
