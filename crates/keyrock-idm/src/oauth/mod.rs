//! Keyrock's OAuth2 side (keyrock.md 5, 6): client authentication, the scope rules, the
//! token endpoint's grants, revocation, introspection, and `/user` with its policy decision
//! point. Tokens are stored by `auth_core::oauth`; the rules of who gets what live here.

pub mod authorize;
pub mod cache;
pub mod client;
pub mod grants;
pub mod id_token;
pub mod pdp;
pub mod revocation;
pub mod scope;
pub mod userinfo;

use auth_core::AuthError;
use storage::StorageError;
use time::Duration;

use crate::vocabulary::GrantType;
use crate::KeyrockError;

pub use client::ClientAuth;

/// An OAuth2 failure (RFC 6749 5.2), named by its RFC code; the text is Keyrock's.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// `challenge`: the client used `Authorization: Basic`, so the answer is a 401 with
    /// `WWW-Authenticate` (RFC 6749 5.2).
    #[error("invalid_client: {message}")]
    InvalidClient {
        message: &'static str,
        challenge: bool,
    },
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(&'static str),
    #[error("invalid_scope: {0}")]
    InvalidScope(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Storage(s) => OAuthError::Storage(s),
            other => OAuthError::Internal(other.to_string()),
        }
    }
}

impl From<KeyrockError> for OAuthError {
    fn from(e: KeyrockError) -> Self {
        match e {
            KeyrockError::Storage(s) => OAuthError::Storage(s),
            other => OAuthError::Internal(other.to_string()),
        }
    }
}

impl From<storage::diesel::result::Error> for OAuthError {
    fn from(e: storage::diesel::result::Error) -> Self {
        OAuthError::Storage(e.into())
    }
}

/// The settings the OAuth2 rules read (keyrock.md 3, operations.md).
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    pub access_lifetime: Duration,
    pub refresh_lifetime: Duration,
    pub code_lifetime: Duration,
    /// Grant types for which a client may authenticate with `client_id` alone.
    pub public_grants: Vec<GrantType>,
}

impl OAuthSettings {
    /// `expires_in` of a token response: the lifetime minus one second (Keyrock's habit).
    pub fn expires_in(&self) -> i64 {
        self.access_lifetime.whole_seconds() - 1
    }
}
