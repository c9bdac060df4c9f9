//! Runs blocking domain work (diesel, bcrypt) on actix's blocking pool, never on a worker.

use actix_web::web;
use storage::{DbConn, Pool, StorageError};

/// Runs `f` with a pooled connection on the blocking pool.
pub async fn with_conn<T, E, F>(pool: &Pool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    let pool = pool.clone();
    blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
}

/// Runs `f` on the blocking pool (for work that takes connections itself), inside the
/// request's span, so what it logs carries the request id.
///
/// `web::block` fails only when `f` panicked (the pool outlives every request). That is a
/// defect, never a busy database: it becomes `StorageError::Internal`, which every family
/// answers as a 500 and logs once with the request id; the panic itself is reported by
/// the panic hook, and the server goes on serving.
pub async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    let span = tracing::Span::current();
    match web::block(move || span.in_scope(f)).await {
        Ok(result) => result,
        Err(_) => Err(E::from(StorageError::Internal(
            "a blocking task panicked".to_owned(),
        ))),
    }
}
