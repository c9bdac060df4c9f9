//! `/albums` handlers (kheops.md 4).

use actix_web::{web, HttpRequest, HttpResponse};
use capabilities::albums;

use super::commands::KheopsAlbumForm;
use super::error::{KheopsErrorBody, KheopsRefusals};
use super::extract::{self, Body};
use super::views::{KheopsAlbum, KheopsAlbumFull, KheopsMember};
use super::{listed, run, views, KheopsApiError};
use crate::app::State;

#[utoipa::path(post, path = "/albums", tag = "kheops", operation_id = "kheops_create_album", security(("bearer" = []), ("basic" = [])),
    request_body(content = KheopsAlbumForm, content_type = "application/x-www-form-urlencoded",
        description = "name (required), description and the six permission flags"),
    responses((status = 201, description = "The album; the caller is its admin", body = KheopsAlbumFull),
              (status = 400, description = "Bad Form Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error (album-scope token)", body = KheopsErrorBody),
              (status = 413, description = "Payload Too Large", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn create(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Form, true)?;
    let credential = extract::credential(&req)?;
    let form = extract::form(&req, payload).await?.album_form();
    let album = run(&state, credential, move |conn, principal, now| {
        albums::create(conn, principal, form, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(views::member_album(&album)?))
}

#[utoipa::path(get, path = "/albums", tag = "kheops", operation_id = "kheops_list_albums", security(("bearer" = []), ("basic" = [])),
    params(("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query),
           ("canCreateCapabilityToken" = Option<bool>, Query),
           ("sort" = Option<String>, Query, description = "created_time, last_event_time, name or number_of_users, '-' for descending")),
    responses((status = 200, description = "The caller's albums; X-Total-Count", body = Vec<KheopsAlbumFull>,
                headers(("X-Total-Count" = i64, description = "Albums matching before limit and offset"))),
              (status = 400, description = "Bad Query Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error (album-scope token)", body = KheopsErrorBody)))]
pub async fn list(state: State, req: HttpRequest) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Ignored, true)?;
    let credential = extract::credential(&req)?;
    let query = extract::query(&req)?;
    let page = run(&state, credential, move |conn, principal, _| {
        albums::list(conn, principal, query.album_query())
    })
    .await?;
    let items = page
        .items
        .iter()
        .map(views::member_album)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(listed(&items, page.total))
}

#[utoipa::path(get, path = "/albums/{album_id}", tag = "kheops", operation_id = "kheops_get_album", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("includeUsers" = Option<bool>, Query)),
    responses((status = 200, description = "The album (reduced for album-scope tokens)", body = KheopsAlbum),
              (status = 400, description = "Bad Query Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found", body = KheopsErrorBody)))]
pub async fn get(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Ignored, true)?;
    let credential = extract::credential(&req)?;
    let query = extract::query(&req)?;
    let album_id = path.into_inner();
    let album = run(&state, credential, move |conn, principal, _| {
        albums::get(conn, principal, &album_id, query.bool("includeUsers"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::album(&album)))
}

#[utoipa::path(patch, path = "/albums/{album_id}", tag = "kheops", operation_id = "kheops_update_album", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path)),
    request_body(content = KheopsAlbumForm, content_type = "application/x-www-form-urlencoded",
        description = "any of name, description and the six permission flags"),
    responses((status = 200, description = "The updated album", body = KheopsAlbumFull),
              (status = 400, description = "Bad Form Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error (not an admin)", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found", body = KheopsErrorBody),
              (status = 413, description = "Payload Too Large", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn update(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Form, true)?;
    let credential = extract::credential(&req)?;
    let form = extract::form(&req, payload).await?.album_form();
    let album_id = path.into_inner();
    let album = run(&state, credential, move |conn, principal, now| {
        albums::update(conn, principal, &album_id, form, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::member_album(&album)?))
}

#[utoipa::path(delete, path = "/albums/{album_id}", tag = "kheops", operation_id = "kheops_delete_album", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path)),
    responses((status = 204, description = "Deleted with its memberships and capability tokens"),
              (status = 401, description = "Unauthorized", body = KheopsErrorBody),
              (status = 403, description = "Authorization error (not an admin)", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn delete(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, false)?;
    let credential = extract::credential(&req)?;
    let album_id = path.into_inner();
    run(&state, credential, move |conn, principal, _| {
        albums::delete(conn, principal, &album_id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/albums/{album_id}/users", tag = "kheops", operation_id = "kheops_list_album_members", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("limit" = Option<u32>, Query), ("offset" = Option<u32>, Query)),
    responses((status = 200, description = "Members sorted by email, with is_admin; X-Total-Count", body = Vec<KheopsMember>,
                headers(("X-Total-Count" = i64, description = "Members before limit and offset"))),
              (status = 400, description = "Bad Query Parameter", body = KheopsErrorBody),
              KheopsRefusals,
              (status = 403, description = "Authorization error (album-scope token)", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found", body = KheopsErrorBody)))]
pub async fn members(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::Ignored, true)?;
    let credential = extract::credential(&req)?;
    let query = extract::query(&req)?;
    let album_id = path.into_inner();
    let page = run(&state, credential, move |conn, principal, _| {
        albums::members(conn, principal, &album_id, query.page())
    })
    .await?;
    let items: Vec<_> = page.items.iter().map(views::member).collect();
    Ok(listed(&items, page.total))
}

#[utoipa::path(put, path = "/albums/{album_id}/users/{user}", tag = "kheops", operation_id = "kheops_add_album_member", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("user" = String, Path, description = "sub or email")),
    responses((status = 201, description = "A member (also when already one)"),
              (status = 401, description = "Unauthorized", body = KheopsErrorBody),
              (status = 403, description = "Authorization error", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found; User Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn add_member(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, false)?;
    let credential = extract::credential(&req)?;
    let (album_id, user) = path.into_inner();
    run(&state, credential, move |conn, principal, now| {
        albums::add_member(conn, principal, &album_id, &user, now)
    })
    .await?;
    Ok(HttpResponse::Created().finish())
}

#[utoipa::path(delete, path = "/albums/{album_id}/users/{user}", tag = "kheops", operation_id = "kheops_remove_album_member", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("user" = String, Path, description = "sub or email")),
    responses((status = 204, description = "Removed (the album goes when its last member leaves)"),
              (status = 401, description = "Unauthorized", body = KheopsErrorBody),
              (status = 403, description = "Authorization error", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found; User Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn remove_member(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, false)?;
    let credential = extract::credential(&req)?;
    let (album_id, user) = path.into_inner();
    run(&state, credential, move |conn, principal, now| {
        albums::remove_member(conn, principal, &album_id, &user, now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(put, path = "/albums/{album_id}/users/{user}/admin", tag = "kheops", operation_id = "kheops_grant_album_admin", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("user" = String, Path, description = "sub or email")),
    responses((status = 204, description = "An admin (added as one if not a member)"),
              (status = 401, description = "Unauthorized", body = KheopsErrorBody),
              (status = 403, description = "Authorization error", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found; User Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn grant_admin(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, false)?;
    let credential = extract::credential(&req)?;
    let (album_id, user) = path.into_inner();
    run(&state, credential, move |conn, principal, now| {
        albums::grant_admin(conn, principal, &album_id, &user, now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(delete, path = "/albums/{album_id}/users/{user}/admin", tag = "kheops", operation_id = "kheops_revoke_album_admin", security(("bearer" = []), ("basic" = [])),
    params(("album_id" = String, Path), ("user" = String, Path, description = "sub or email")),
    responses((status = 204, description = "Not an admin any more; their album tokens are revoked"),
              (status = 401, description = "Unauthorized", body = KheopsErrorBody),
              (status = 403, description = "Authorization error", body = KheopsErrorBody),
              (status = 404, description = "Album Not Found; User Not Found", body = KheopsErrorBody),
              (status = 415, description = "Unsupported Media Type", body = KheopsErrorBody)))]
pub async fn revoke_admin(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, KheopsApiError> {
    extract::negotiate(&req, Body::FormOrNone, false)?;
    let credential = extract::credential(&req)?;
    let (album_id, user) = path.into_inner();
    run(&state, credential, move |conn, principal, now| {
        albums::revoke_admin(conn, principal, &album_id, &user, now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
