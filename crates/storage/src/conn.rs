use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::StorageError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a SQLite writer waits for the lock before the request fails as Unavailable.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// One connection to either backend. Queries are written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database engine a connection or URL speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgres(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// A parsed `TESSERA_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file; its folder is created when missing.
    SqliteFile(PathBuf),
    /// A throwaway in-memory SQLite database shared by the pool's connections.
    SqliteMemory(String),
    /// A PostgreSQL connection string, passed to libpq as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:` and `postgres://...`
    /// (`postgresql://` too). Anything else is a setup error naming the scheme.
    pub fn parse(url: &str) -> Result<Self, StorageError> {
        let url = url.trim();
        if url == "sqlite::memory:" || url == "sqlite://:memory:" {
            // A named shared-cache memory database, so every pooled connection sees the same data.
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("tessera-mem-{}-{n}", std::process::id());
            return Ok(DatabaseUrl::SqliteMemory(format!(
                "file:{name}?mode=memory&cache=shared"
            )));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StorageError::Setup(
                    "database URL sqlite:// names no file".to_owned(),
                ));
            }
            return Ok(DatabaseUrl::SqliteFile(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if url.len() <= "postgres://".len() {
                return Err(StorageError::Setup(format!(
                    "database URL {url:?} names no server"
                )));
            }
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StorageError::Setup(format!(
            "unknown database URL scheme {scheme:?} (expected sqlite:// or postgres://)"
        )))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Opens one connection, set up as the pool's are (no migrations run).
    pub fn connect(&self) -> Result<DbConn, StorageError> {
        match self {
            DatabaseUrl::Postgres(url) => Ok(DbConn::Postgres(PgConnection::establish(url)?)),
            DatabaseUrl::SqliteFile(path) => {
                ensure_parent_dir(path)?;
                let path_str = path.to_str().ok_or_else(|| {
                    StorageError::Setup(format!("SQLite path {path:?} is not UTF-8"))
                })?;
                let mut conn = SqliteConnection::establish(path_str)?;
                configure_sqlite(&mut conn, true)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::SqliteMemory(uri) => {
                let mut conn = SqliteConnection::establish(uri)?;
                configure_sqlite(&mut conn, false)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

fn ensure_parent_dir(path: &Path) -> Result<(), StorageError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() && !parent.exists() => {
            std::fs::create_dir_all(parent).map_err(|e| {
                StorageError::Setup(format!("cannot create database folder {parent:?}: {e}"))
            })
        }
        _ => Ok(()),
    }
}

/// Per-connection SQLite setup: WAL for concurrent readers, enforced foreign keys, a bounded
/// wait on the write lock, and NORMAL sync (safe with WAL, much faster than FULL).
fn configure_sqlite(conn: &mut SqliteConnection, wal: bool) -> Result<(), StorageError> {
    let journal = if wal {
        "PRAGMA journal_mode = WAL;"
    } else {
        ""
    };
    conn.batch_execute(&format!(
        "{journal} PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
         PRAGMA synchronous = NORMAL;"
    ))?;
    Ok(())
}

/// Applies every pending migration of the URL's backend on one connection and returns the
/// names of those applied. Safe to call from several processes at once on PostgreSQL.
pub fn migrate(url: &DatabaseUrl) -> Result<Vec<String>, StorageError> {
    let mut conn = url.connect()?;
    run_migrations(&mut conn)
}

/// Applies every pending migration on `conn` and returns the names of those applied. Inside
/// an open transaction the migrations become part of it (both backends run DDL in
/// transactions), so a caller can roll them back together with what it wrote after them.
pub fn run_migrations(conn: &mut DbConn) -> Result<Vec<String>, StorageError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
        DbConn::Postgres(c) => {
            // Several nodes may start at once; one migrates, the others wait and find nothing to do.
            c.batch_execute("SELECT pg_advisory_lock(7283641)")?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>());
            c.batch_execute("SELECT pg_advisory_unlock(7283641)")?;
            result
        }
    };
    applied.map_err(|e| StorageError::Setup(format!("migration failed: {e}")))
}

/// The r2d2 manager: opens a connection of the backend the URL names, set up for Tessera.
pub struct Manager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = StorageError;

    fn connect(&self) -> Result<DbConn, StorageError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), StorageError> {
        conn.batch_execute("SELECT 1").map_err(StorageError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// A pooled connection; derefs to [`DbConn`].
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// Connections in use and idle, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

/// The connection pool. Cheap to clone.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    backend: Backend,
    // An in-memory database lives as long as one connection to it does.
    _keepalive: Option<std::sync::Arc<std::sync::Mutex<DbConn>>>,
}

impl Pool {
    /// Takes a connection, waiting at most the pool's connection timeout.
    pub fn get(&self) -> Result<PooledConn, StorageError> {
        self.inner.get().map_err(StorageError::from)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn state(&self) -> PoolState {
        let state = self.inner.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max: self.inner.max_size(),
        }
    }

    /// True when a connection can be taken and reads the store. The query reads a table,
    /// not a constant: SQLite answers `SELECT 1` without reading its file, so a corrupt or
    /// replaced file would still look ready.
    pub fn is_ready(&self) -> bool {
        match self.inner.get_timeout(Duration::from_secs(2)) {
            Ok(mut conn) => conn
                .batch_execute("SELECT version FROM __diesel_schema_migrations LIMIT 1")
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// Runs the migrations on one connection, then opens the pool.
pub fn open_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, StorageError> {
    let mut first = url.connect()?;
    run_migrations(&mut first)?;
    let keepalive = match url {
        DatabaseUrl::SqliteMemory(_) => Some(std::sync::Arc::new(std::sync::Mutex::new(first))),
        _ => None,
    };
    let inner = r2d2::Pool::builder()
        .max_size(max_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(10))
        .build(Manager { url: url.clone() })?;
    Ok(Pool {
        inner,
        backend: url.backend(),
        _keepalive: keepalive,
    })
}

/// Runs `f` in a write transaction: committed when `f` returns Ok, rolled back otherwise.
/// On SQLite the transaction starts with `BEGIN IMMEDIATE`, so a writer takes the lock up
/// front (waiting up to busy_timeout) instead of failing mid-way on an upgrade.
/// Do not nest: `f` must not open another transaction.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<StorageError>,
{
    let begun = match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
    };
    begun.map_err(|e| E::from(StorageError::from(e)))?;
    match f(conn) {
        Ok(value) => {
            let committed = match conn {
                DbConn::Sqlite(c) => AnsiTransactionManager::commit_transaction(c),
                DbConn::Postgres(c) => AnsiTransactionManager::commit_transaction(c),
            };
            committed.map_err(|e| E::from(StorageError::from(e)))?;
            Ok(value)
        }
        Err(err) => {
            let rolled_back = match conn {
                DbConn::Sqlite(c) => AnsiTransactionManager::rollback_transaction(c),
                DbConn::Postgres(c) => AnsiTransactionManager::rollback_transaction(c),
            };
            if let Err(rollback_err) = rolled_back {
                tracing::error!(error = %rollback_err, "rollback failed");
            }
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests;
