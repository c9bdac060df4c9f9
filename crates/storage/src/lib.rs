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
mod error;
pub mod schema;
mod time_fmt;

pub use conn::{
    migrate, open_pool, write_tx, Backend, DatabaseUrl, DbConn, Pool, PoolState, PooledConn,
};
pub use error::StorageError;
pub use time_fmt::{from_db_time, to_db_time};

/// Re-exported so the domain crates use exactly the diesel this crate was built with.
pub use diesel;
