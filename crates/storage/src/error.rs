use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What went wrong in the store, in terms a domain service can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The row the caller asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness or foreign-key rule refused the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached, or is busy beyond the configured wait.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database URL or the database itself is unusable (bad scheme, failed migration).
    #[error("database setup failed: {0}")]
    Setup(String),
    /// Anything else the database reported; logged, never shown to clients.
    #[error("database error: {0}")]
    Other(String),
    /// The work around the store failed outside the database (a task that panicked);
    /// logged, never shown to clients, never reported as the database's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DieselError> for StorageError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => StorageError::NotFound,
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation => {
                    StorageError::Conflict(info.message().to_owned())
                }
                DatabaseErrorKind::ClosedConnection
                | DatabaseErrorKind::SerializationFailure
                | DatabaseErrorKind::ReadOnlyTransaction => {
                    StorageError::Unavailable(info.message().to_owned())
                }
                _ => {
                    let message = info.message();
                    // SQLite reports a lock it could not get within busy_timeout this way.
                    if message.contains("database is locked") || message.contains("busy") {
                        StorageError::Unavailable(message.to_owned())
                    } else {
                        StorageError::Other(message.to_owned())
                    }
                }
            },
            DieselError::BrokenTransactionManager => {
                StorageError::Unavailable("broken transaction manager".to_owned())
            }
            other => StorageError::Other(other.to_string()),
        }
    }
}

impl From<r2d2::Error> for StorageError {
    fn from(err: r2d2::Error) -> Self {
        StorageError::Unavailable(err.to_string())
    }
}

impl From<diesel::ConnectionError> for StorageError {
    fn from(err: diesel::ConnectionError) -> Self {
        StorageError::Unavailable(err.to_string())
    }
}
