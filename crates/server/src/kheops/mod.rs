//! The KHEOPS family (kheops.md): albums, capability tokens and introspection, served at
//! the root paths and again under `/api`.

mod albums;
mod capabilities;
mod error;
mod extract;
mod views;

use actix_web::{web, HttpResponse};
use serde_json::Value;
use storage::DbConn;
use time::OffsetDateTime;

pub use error::KheopsApiError;

use crate::app::State;
use crate::db;

/// The mount points (kheops.md 1.1).
pub const PREFIXES: [&str; 2] = ["", "/api"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for prefix in PREFIXES {
        let at = |path: &str| resource(&format!("{prefix}{path}"));
        cfg.service(
            at("/capabilities")
                .route(web::post().to(capabilities::create))
                .route(web::get().to(capabilities::list)),
        )
        .service(at("/capabilities/{capability_id}").route(web::get().to(capabilities::get)))
        .service(
            at("/capabilities/{capability_id}/revoke").route(web::post().to(capabilities::revoke)),
        )
        .service(at("/token/introspect").route(web::post().to(capabilities::introspect)))
        .service(
            at("/albums")
                .route(web::post().to(albums::create))
                .route(web::get().to(albums::list)),
        )
        .service(
            at("/albums/{album_id}")
                .route(web::get().to(albums::get))
                .route(web::patch().to(albums::update))
                .route(web::delete().to(albums::delete)),
        )
        .service(at("/albums/{album_id}/users").route(web::get().to(albums::members)))
        .service(
            at("/albums/{album_id}/users/{user}")
                .route(web::put().to(albums::add_member))
                .route(web::delete().to(albums::remove_member)),
        )
        .service(
            at("/albums/{album_id}/users/{user}/admin")
                .route(web::put().to(albums::grant_admin))
                .route(web::delete().to(albums::revoke_admin)),
        );
    }
}

/// A resource whose unserved methods answer 405 in the KHEOPS body.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
    actix_web::ResponseError::error_response(&KheopsApiError::MethodNotAllowed)
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
