//! The KHEOPS family (kheops.md): albums, capability tokens and introspection, served at
//! the root paths and again under `/api`.

mod albums;
mod capabilities;
mod commands;
mod error;
mod extract;
mod views;

use actix_web::{web, HttpResponse};
use serde_json::Value;
use storage::DbConn;
use time::OffsetDateTime;

pub use error::KheopsApiError;

use crate::http::route::{self, Res};

use crate::app::State;
use crate::db;

/// The mount points (kheops.md 1.1).
pub const PREFIXES: [&str; 2] = ["", "/api"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in PREFIXES {
        let at = |path: &str| resource(&format!("{prefix}{path}"));
        cfg.service(
            at("/capabilities")
                .post(capabilities::create)
                .get(capabilities::list),
        )
        .service(at("/capabilities/{capability_id}").get(capabilities::get))
        .service(at("/capabilities/{capability_id}/revoke").post(capabilities::revoke))
        .service(at("/token/introspect").post(capabilities::introspect))
        .service(at("/albums").post(albums::create).get(albums::list))
        .service(
            at("/albums/{album_id}")
                .get(albums::get)
                .patch(albums::update)
                .delete(albums::delete),
        )
        .service(at("/albums/{album_id}/users").get(albums::members))
        .service(
            at("/albums/{album_id}/users/{user}")
                .put(albums::add_member)
                .delete(albums::remove_member),
        )
        .service(
            at("/albums/{album_id}/users/{user}/admin")
                .put(albums::grant_admin)
                .delete(albums::revoke_admin),
        );
    }
}

/// A resource whose unserved methods answer 405 (with `Allow`) in the KHEOPS body.
fn resource(path: &str) -> Res<KheopsApiError> {
    route::resource(path)
}

/// Whether `path` belongs to this family (for the family's own 404).
pub fn serves(path: &str) -> bool {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    ["capabilities", "albums", "token"].contains(&first)
}

/// Resolves the credential and runs the domain operation with the principal, on one
/// pooled connection off the worker threads.
async fn run<T, F>(state: &State, credential: String, f: F) -> Result<T, KheopsApiError>
where
    F: FnOnce(
            &mut DbConn,
            &::capabilities::principal::KheopsPrincipal,
            OffsetDateTime,
        ) -> Result<T, ::capabilities::KheopsError>
        + Send
        + 'static,
    T: Send + 'static,
{
    let now = OffsetDateTime::now_utc();
    db::with_conn(&state.pool, move |conn| {
        let principal = ::capabilities::principal::resolve(conn, &credential, now)?;
        Ok(f(conn, &principal, now)?)
    })
    .await
}

/// A list answer: the array and its total before paging (kheops.md 1.3).
fn listed(items: Vec<Value>, total: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .insert_header(("Access-Control-Expose-Headers", "X-Total-Count"))
        .json(Value::Array(items))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        capabilities::create, capabilities::list, capabilities::get, capabilities::revoke,
        capabilities::introspect,
        albums::create, albums::list, albums::get, albums::update, albums::delete,
        albums::members, albums::add_member, albums::remove_member, albums::grant_admin,
        albums::revoke_admin,
    ),
    tags((name = "kheops", description = "KHEOPS albums and capability tokens (also served under /api)")),
)]
pub struct KheopsApi;
