//! The KHEOPS family (kheops.md): albums, capability tokens and introspection, served at
//! the root paths and again under `/api`.

mod albums;
mod capabilities;
mod commands;
mod error;
mod extract;
mod views;

use actix_web::{web, HttpResponse};
use storage::DbConn;
use time::OffsetDateTime;

pub use error::KheopsApiError;

use crate::http::route::{self, Route};
use crate::route;

use crate::app::State;
use crate::db;

/// The mount points (kheops.md 1.1).
pub const PREFIXES: [&str; 2] = ["", "/api"];

/// A KHEOPS route (no family facts beyond the operation).
pub type KheopsRoute = Route<KheopsApiError, ()>;

/// The KHEOPS route table: every route once, documented at the root; `configure` mounts it
/// again under `/api`.
pub fn routes() -> Vec<KheopsRoute> {
    vec![
        route!(capabilities::create),
        route!(capabilities::list),
        route!(capabilities::get),
        route!(capabilities::revoke),
        route!(capabilities::introspect),
        route!(albums::create),
        route!(albums::list),
        route!(albums::get),
        route!(albums::update),
        route!(albums::delete),
        route!(albums::members),
        route!(albums::add_member),
        route!(albums::remove_member),
        route!(albums::grant_admin),
        route!(albums::revoke_admin),
    ]
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    let table = routes();
    for prefix in PREFIXES {
        route::register(cfg, &table, "", prefix);
    }
}

/// Whether `path` belongs to this family (for the family's own 404).
pub fn serves(path: &str) -> bool {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let first = path.split('/').find(|s| !s.is_empty()).unwrap_or("");
    // The first segments of the family's own routes: a new resource is owned at once.
    !first.is_empty()
        && routes()
            .iter()
            .any(|r| r.path.split('/').find(|s| !s.is_empty()) == Some(first))
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
fn listed<T: serde::Serialize + utoipa::ToSchema>(items: &[T], total: i64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("X-Total-Count", total.to_string()))
        .insert_header(("Access-Control-Expose-Headers", "X-Total-Count"))
        .json(items)
}
