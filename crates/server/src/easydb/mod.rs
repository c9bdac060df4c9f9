//! The easydb family (easydb-rights.md): sessions, the rights catalog, right presets and
//! system rights on users and groups, under `/api/v1/`. Every answer is JSON with the
//! `X-Easydb-*` headers; every failure is 400 or 500 in the family's envelope.

mod commands;
mod error;
mod extract;
mod holders;
mod rights_api;
mod sessions;
mod views;

use std::sync::LazyLock;

use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::{web, HttpResponse};
use rights::catalog::Catalog;
use rights::system::Principal;
use serde::Serialize;
use storage::DbConn;
use time::OffsetDateTime;

pub use error::EasydbApiError;

use crate::app::State;
use crate::db;
use crate::http::route::{self, Route};
use crate::route;

/// Where the family is mounted.
pub const MOUNT: &str = "/api/v1";

/// An easydb route (no family facts beyond the operation).
pub type EasydbRoute = Route<EasydbApiError, ()>;

/// The easydb route table.
pub fn routes() -> Vec<EasydbRoute> {
    vec![
        route!(sessions::session),
        route!(sessions::authenticate),
        route!(sessions::deauthenticate),
        route!(rights_api::catalog_all),
        route!(rights_api::catalog_context),
        route!(rights_api::list_presets),
        route!(rights_api::save_presets),
        route!(rights_api::delete_preset),
        route!(holders::list_users),
        route!(holders::change_users),
        route!(holders::get_user),
        route!(holders::list_groups),
        route!(holders::change_groups),
        route!(holders::get_group),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    route::register(cfg, &routes(), MOUNT, MOUNT);
}

/// Whether `path` belongs to this family: everything under `/api/v1/` (an unknown path
/// there is `error.api.invalid_api`).
pub fn serves(path: &str) -> bool {
    path == MOUNT || path.starts_with("/api/v1/")
}

/// The headers of every answer of the family (§1).
pub fn family_headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        ),
        (
            HeaderName::from_static("x-easydb-api-version"),
            HeaderValue::from_static("1"),
        ),
        (
            HeaderName::from_static("x-easydb-base-schema-version"),
            HeaderValue::from_static("1"),
        ),
        (
            HeaderName::from_static("x-easydb-user-schema-version"),
            HeaderValue::from_static("1"),
        ),
    ]
}

/// A 200 answer of the family.
fn ok<T: Serialize>(body: &T) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for header in family_headers() {
        response.insert_header(header);
    }
    response.json(body)
}

static CATALOG: LazyLock<Option<Catalog>> = LazyLock::new(|| Catalog::shipped().ok());

/// The shipped catalog (read once; it is compiled in, and a unit test reads it).
fn catalog() -> Result<&'static Catalog, EasydbApiError> {
    CATALOG
        .as_ref()
        .ok_or_else(|| EasydbApiError::internal("the shipped rights catalog does not read"))
}

/// Resolves the session token to its logged-in user (§1: no token is
/// `not_authenticated`, a dead one `session_not_found`, a session nobody is logged into
/// `not_authenticated`) and runs the domain operation, on one pooled connection off the
/// worker threads.
async fn run<T, F>(state: &State, call: extract::Call, f: F) -> Result<T, EasydbApiError>
where
    F: FnOnce(&mut DbConn, &Principal, OffsetDateTime) -> Result<T, EasydbApiError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let token = call.token.ok_or_else(EasydbApiError::not_authenticated)?;
    let now = OffsetDateTime::now_utc();
    db::with_conn(&state.pool, move |conn| {
        let principal = rights::sessions::principal(conn, &token, now)
            .map_err(|e| EasydbApiError::session(e, &token))?;
        f(conn, &principal, now)
    })
    .await
}
