//! Identities and credentials shared by every Tessera API family.
//!
//! - [`secrets`]: random secrets from the OS source, SHA-256 digests, constant-time compare.
//! - [`password`]: bcrypt (and legacy Keyrock HMAC-SHA1 verification) behind a
//!   [`password::PasswordHasher`] that bounds how many hashes run at once.
//! - [`jwt`]: HS256 issue/verify helpers.
//! - [`users`]: user accounts in the shared store.
//! - [`api_tokens`]: Keyrock API tokens, stored by digest.
//! - [`oauth`]: OAuth2 codes, access and refresh tokens, stored by digest.
//! - [`sessions`]: browser sessions of the OAuth2 authorize flow, stored by digest.
//! - [`server_key`]: the server's RS256 signing key (generated once, stored, cached).
//! - [`principal`]: the one resolver from a presented bearer credential to a [`Principal`].

pub mod api_tokens;
pub mod jwt;
pub mod oauth;
pub mod password;
pub mod principal;
pub mod secrets;
pub mod server_key;
pub mod sessions;
pub mod users;

pub use principal::{resolve, resolve_api_token, Principal, ResolveError, UserPrincipal};

use storage::StorageError;

/// Outcomes of auth-core operations, named for the domain, not for HTTP.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write; the field is named.
    #[error("{0} already used")]
    Conflict(&'static str),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A password longer than bcrypt reads (`password::MAX_PASSWORD_BYTES`).
    #[error("password longer than 72 bytes")]
    PasswordTooLong,
    /// The server's signing key could not be generated or a stored one does not parse.
    #[error("server key: {0}")]
    Key(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<storage::diesel::result::Error> for AuthError {
    fn from(err: storage::diesel::result::Error) -> Self {
        AuthError::Storage(err.into())
    }
}
