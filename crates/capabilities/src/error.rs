use auth_core::AuthError;
use storage::StorageError;

/// A KHEOPS outcome other than success. The server's one KHEOPS error mapper turns each
/// into a status and the `{"message","detail"}` body; details are KHEOPS's strings.
#[derive(Debug, thiserror::Error)]
pub enum KheopsError {
    /// No usable `Authorization` header.
    #[error("missing or malformed credentials")]
    MalformedCredentials,
    /// A credential that resolves to nothing usable.
    #[error("invalid credential")]
    InvalidCredential,
    /// A capability token used for capability management.
    #[error("capability used for capability management")]
    CapabilityNotAllowed,
    /// Creating an album token as a member who is not an admin.
    #[error("not an admin of the album")]
    NotAdmin,
    /// A bad form parameter: the detail text.
    #[error("{0}")]
    BadForm(String),
    /// A bad query parameter (and the form checks KHEOPS reports so): the detail text.
    #[error("{0}")]
    BadQuery(String),
    #[error("album not found")]
    AlbumNotFound,
    #[error("user unknown")]
    UserUnknown,
    #[error("user not a member")]
    UserNotMember,
    #[error("capability token not found")]
    CapabilityNotFound,
    /// Refused on this album or with this kind of token: the detail text.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal: {0}")]
    Internal(String),
}

/// 403 details (kheops.md 11).
pub const NO_PERMISSION_ON_ALBUM: &str = "You don't have the permission to do this on this album";
pub const WRONG_TOKEN_TYPE: &str =
    "You don't have the permission to do this with this type of token";

impl From<AuthError> for KheopsError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Storage(e) => KheopsError::Storage(e),
            other => KheopsError::Internal(other.to_string()),
        }
    }
}

impl From<storage::diesel::result::Error> for KheopsError {
    fn from(err: storage::diesel::result::Error) -> Self {
        KheopsError::Storage(err.into())
    }
}
