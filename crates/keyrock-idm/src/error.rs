use auth_core::AuthError;
use storage::StorageError;

/// A Keyrock outcome other than success, named for what happened; the family's error mapper
/// picks the status. The message is Keyrock's exact text.
#[derive(Debug, thiserror::Error)]
pub enum KeyrockError {
    /// The request breaks a rule about its values.
    #[error("{0}")]
    Invalid(&'static str),
    /// No usable credential: missing, unknown or expired.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(&'static str),
    /// What the request names does not exist (or is not visible to the caller).
    #[error("{0}")]
    NotFound(&'static str),
    /// The request clashes with what is stored (a taken email, ...).
    #[error("{0}")]
    Conflict(&'static str),
    /// The store failed; never shown to clients beyond "Internal error".
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal: {0}")]
    Internal(String),
}

/// Tessera's rule where Keyrock is silent: bcrypt reads only 72 bytes of a password.
pub const PASSWORD_TOO_LONG: &str = "Password must be at most 72 bytes";

impl From<AuthError> for KeyrockError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Storage(e) => KeyrockError::Storage(e),
            AuthError::NotFound => KeyrockError::Internal("row vanished".to_owned()),
            AuthError::Conflict(_) => KeyrockError::Conflict("Email already used"),
            AuthError::Hash(e) | AuthError::Key(e) => KeyrockError::Internal(e),
            AuthError::PasswordTooLong => KeyrockError::Invalid(PASSWORD_TOO_LONG),
        }
    }
}

impl From<storage::diesel::result::Error> for KeyrockError {
    fn from(err: storage::diesel::result::Error) -> Self {
        KeyrockError::Storage(err.into())
    }
}
