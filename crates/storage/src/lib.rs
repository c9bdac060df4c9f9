//! Storage for Tessera: one portable diesel schema over SQLite and PostgreSQL.
//!
//! - [`DbConn`] is a diesel `MultiConnection`; every query in the domain crates is written
//!   once against it.
//! - [`Pool`] is an r2d2 pool whose backend is chosen by the URL scheme
//!   (`sqlite://PATH`, `sqlite::memory:`, `postgres://...`).
//! - Migrations are embedded per backend and run on one connection before the pool opens.
//! - [`write_tx`] runs a closure in a write transaction (SQLite: `BEGIN IMMEDIATE`).
//! - [`StorageError`] names what a caller can act on: NotFound, Conflict, Unavailable.

mod conn;
mod db_time;
mod error;
pub mod schema;

pub use conn::{
    migrate, open_pool, run_migrations, write_tx, Backend, DatabaseUrl, DbConn, Pool, PoolState,
    PooledConn,
};
pub use db_time::{from_db_time, to_db_time};
pub use error::StorageError;

/// Whether `text` can be stored and compared on every backend: PostgreSQL text cannot hold
/// NUL. Nothing stored holds one (request decoding refuses it), so a lookup by a value that
/// is not storable matches nothing, and answers so without asking the database.
pub fn is_storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Runs one diesel statement on the concrete connection inside a [`DbConn`], for the SQL
/// that diesel's multi-backend cannot express but both backends share (`ON CONFLICT`).
/// `$body` is written once and compiled for each backend:
///
/// ```ignore
/// storage::each_backend!(conn, |c| diesel::insert_into(t).values(v).on_conflict_do_nothing().execute(c))?;
/// ```
#[macro_export]
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConn::Postgres($c) => $body,
            $crate::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Re-exported so the domain crates use exactly the diesel this crate was built with.
pub use diesel;
