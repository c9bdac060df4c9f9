//! Routes that exist only in debug builds, and only when the environment sets
//! `TESSERA_TEST_HOOKS=1`: the test suite uses them to reach code paths no real request
//! can (a panic inside a request). Release builds do not compile this module.

use actix_web::{web, HttpResponse};
use storage::StorageError;

use crate::db;
use crate::keyrock::ApiError;

/// The message of the injected panic (the test kit's log check skips it).
pub const INJECTED_PANIC: &str = "tessera test hook: injected panic";

pub fn configure(cfg: &mut web::ServiceConfig) {
    if std::env::var("TESSERA_TEST_HOOKS").as_deref() == Ok("1") {
        cfg.service(
            crate::http::route::resource::<ApiError>("/__test/panic").get(panic_in_blocking_task),
        );
    }
}

/// Panics inside a blocking task, as a defect in a domain function would.
async fn panic_in_blocking_task() -> Result<HttpResponse, ApiError> {
    db::blocking(|| -> Result<(), StorageError> { panic!("{INJECTED_PANIC}") }).await?;
    Ok(HttpResponse::NoContent().finish())
}
