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

/// Runs `f` on the blocking pool (for work that takes connections itself).
pub async fn blocking<T, E, F>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    match web::block(f).await {
        Ok(result) => result,
        Err(_) => Err(E::from(StorageError::Unavailable(
            "blocking pool unavailable".to_owned(),
        ))),
    }
}
