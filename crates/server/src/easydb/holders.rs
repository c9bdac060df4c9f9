//! `/api/v1/user` and `/api/v1/group` (easydb-rights.md §10): reading users and groups
//! and changing their system rights.

use actix_web::{web, HttpRequest, HttpResponse};
use rights::holders::{self, Kind};

use super::error::{EasydbApiError, EasydbErrorBody};
use super::views::{self, EasydbGroup, EasydbUser};
use super::{catalog, commands, extract, ok, run};
use crate::app::State;

/// The holders of a listing, or one by id, as the kind's views.
async fn read(
    state: State,
    req: HttpRequest,
    kind: Kind,
    id: Option<String>,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let page = extract::page(&call.query)?;
    let found = run(&state, call, move |conn, principal, _| match id {
        None => Ok(holders::list(conn, principal, kind, page)?),
        Some(id) => {
            let id = extract::path_id(&id, "the id")?;
            Ok(vec![holders::get(conn, principal, kind, id)?])
        }
    })
    .await?;
    Ok(answer(kind, &found))
}

fn answer(kind: Kind, found: &[holders::Holder]) -> HttpResponse {
    match kind {
        Kind::User => ok(&found.iter().map(views::user).collect::<Vec<_>>()),
        Kind::Group => ok(&found.iter().map(views::group).collect::<Vec<_>>()),
    }
}

/// Changes the system rights of a whole request of holders of the kind.
async fn change(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
    kind: Kind,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let body = extract::body(&req, payload).await?;
    let changed = run(&state, call, move |conn, principal, _| {
        holders::authorize_change(principal)?;
        let catalog = catalog()?;
        let name = match kind {
            Kind::User => "user",
            Kind::Group => "group",
        };
        let changes = commands::rights_changes(&extract::json(&body)?, name)?
            .checked(|prefix| holders::check(conn, principal, kind, prefix, catalog))?;
        Ok(holders::change(conn, principal, kind, changes, catalog)?)
    })
    .await?;
    Ok(answer(kind, &changed))
}

#[utoipa::path(get, path = "/api/v1/user", tag = "easydb", operation_id = "easydb_list_users",
    params(("limit" = Option<String>, Query, description = "0..1000 (larger counts as 1000)"), ("offset" = Option<String>, Query),
           ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "Users by _id, with their own system rights", body = Vec<EasydbUser>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value, no_system_right (system.user)", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn list_users(state: State, req: HttpRequest) -> Result<HttpResponse, EasydbApiError> {
    read(state, req, Kind::User, None).await
}

#[utoipa::path(get, path = "/api/v1/user/{id}", tag = "easydb", operation_id = "easydb_get_user",
    params(("id" = String, Path, description = "the user's _id"), ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "A one-element array", body = Vec<EasydbUser>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value, no_system_right (system.user), user_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn get_user(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, EasydbApiError> {
    read(state, req, Kind::User, Some(path.into_inner())).await
}

#[utoipa::path(post, path = "/api/v1/user", tag = "easydb", operation_id = "easydb_change_users",
    params(("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    request_body(content = Vec<EasydbUser>, description = "Per element only _basetype, user._id, user._version (stored + 1) and _system_rights are read; all or nothing"),
    responses((status = 200, description = "The changed users in input order", body = Vec<EasydbUser>),
              (status = 400, description = "not_authenticated, session_not_found, no_system_right, invalid_content, type_mismatch, attribute_expected, invalid_value, user_not_found, version_mismatch, right_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn change_users(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, EasydbApiError> {
    change(state, req, payload, Kind::User).await
}

#[utoipa::path(get, path = "/api/v1/group", tag = "easydb", operation_id = "easydb_list_groups",
    params(("limit" = Option<String>, Query, description = "0..1000 (larger counts as 1000)"), ("offset" = Option<String>, Query),
           ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "Groups (Keyrock organizations) by _id, with their system rights", body = Vec<EasydbGroup>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value, no_system_right (system.group)", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn list_groups(state: State, req: HttpRequest) -> Result<HttpResponse, EasydbApiError> {
    read(state, req, Kind::Group, None).await
}

#[utoipa::path(get, path = "/api/v1/group/{id}", tag = "easydb", operation_id = "easydb_get_group",
    params(("id" = String, Path, description = "the group's _id"), ("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "A one-element array", body = Vec<EasydbGroup>),
              (status = 400, description = "not_authenticated, session_not_found, invalid_value, no_system_right (system.group), group_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn get_group(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, EasydbApiError> {
    read(state, req, Kind::Group, Some(path.into_inner())).await
}

#[utoipa::path(post, path = "/api/v1/group", tag = "easydb", operation_id = "easydb_change_groups",
    params(("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    request_body(content = Vec<EasydbGroup>, description = "Per element only _basetype, group._id, group._version (stored + 1) and _system_rights are read; all or nothing"),
    responses((status = 200, description = "The changed groups in input order", body = Vec<EasydbGroup>),
              (status = 400, description = "not_authenticated, session_not_found, no_system_right, invalid_content, type_mismatch, attribute_expected, invalid_value, group_not_found, version_mismatch, right_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn change_groups(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, EasydbApiError> {
    change(state, req, payload, Kind::Group).await
}
