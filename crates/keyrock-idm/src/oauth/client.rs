//! Client authentication for `/oauth2/token`, `/oauth2/revoke` and `/oauth2/introspect`
//! (keyrock.md 5.1), in the spec's order: Basic, then the body, then `client_id` alone for
//! public grants.

use auth_core::secrets::{constant_time_eq, sha256_hex};
use storage::DbConn;

use super::OAuthError;
use crate::applications::{find_application, Application};
use crate::authz::IDM_ADMIN_APP;
use crate::vocabulary::GrantType;

/// The client credentials a request carried, as the wire decoder found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic` that decodes to `id:secret` (RFC 6749 2.3.1).
    Basic {
        id: String,
        secret: String,
    },
    /// An `Authorization` header that is not decodable Basic credentials: no credentials
    /// (decision 16).
    Undecodable,
    /// `client_id` and `client_secret` in the body.
    Body {
        id: String,
        secret: String,
    },
    /// `client_id` alone in the body.
    IdOnly(String),
    Missing,
}

const CANNOT_RETRIEVE: &str = "Invalid client: cannot retrieve client credentials";
const CLIENT_INVALID: &str = "Invalid client: client is invalid";

/// How the client proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// With its secret.
    Confidential,
    /// With `client_id` alone, for a public grant.
    Public,
}

/// An authenticated client.
#[derive(Debug, Clone)]
pub struct Client {
    pub app: Application,
    pub kind: ClientKind,
}

pub(crate) fn cannot_retrieve() -> OAuthError {
    OAuthError::InvalidClient {
        message: CANNOT_RETRIEVE,
        challenge: false,
    }
}

/// Authenticates the client. `grant` is the requested grant type (`None` for revocation and
/// introspection, which need the secret); `client_id` alone is accepted only for a grant in
/// `public_grants`.
pub fn authenticate(
    conn: &mut DbConn,
    auth: &ClientAuth,
    grant: Option<GrantType>,
    public_grants: &[GrantType],
) -> Result<Client, OAuthError> {
    let (id, secret, challenge) = match auth {
        ClientAuth::Basic { id, secret } => (id, Some(secret), true),
        ClientAuth::Body { id, secret } => (id, Some(secret), false),
        ClientAuth::IdOnly(id) if grant.is_some_and(|g| public_grants.contains(&g)) => {
            (id, None, false)
        }
        ClientAuth::IdOnly(_) | ClientAuth::Undecodable | ClientAuth::Missing => {
            return Err(cannot_retrieve())
        }
    };
    let invalid = OAuthError::InvalidClient {
        message: CLIENT_INVALID,
        challenge,
    };
    if id == IDM_ADMIN_APP {
        return Err(invalid);
    }
    let Some(app) = find_application(conn, id)? else {
        return Err(invalid);
    };
    let kind = match secret {
        Some(secret) => {
            let matches = app.secret_digest.as_deref().is_some_and(|digest| {
                constant_time_eq(sha256_hex(secret).as_bytes(), digest.as_bytes())
            });
            if !matches {
                return Err(invalid);
            }
            ClientKind::Confidential
        }
        None => ClientKind::Public,
    };
    Ok(Client { app, kind })
}

/// The grant types an application enables (its stored comma-separated list).
pub fn grants_of(app: &Application) -> Vec<GrantType> {
    app.grant_type
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|g| GrantType::parse(g.trim()))
        .collect()
}
