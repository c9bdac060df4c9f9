//! The one resolver that answers "who is this bearer?" for the credentials every family
//! accepts. Family-specific credentials (capability secrets, easydb sessions, Hexoskin
//! request tokens) are resolved by their own crates, which fall back to this one.

use diesel::prelude::*;
use storage::schema::pep_proxies;
use storage::DbConn;
use time::OffsetDateTime;

use crate::api_tokens::{self, TokenOwner};
use crate::users::{find_user, User};
use crate::AuthError;

/// A user acting through a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub id: String,
    pub num_id: i64,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub enabled: bool,
}

impl From<&User> for UserPrincipal {
    fn from(u: &User) -> Self {
        UserPrincipal {
            id: u.id.clone(),
            num_id: u.num_id,
            username: u.username.clone(),
            email: u.email.clone(),
            admin: u.admin,
            enabled: u.enabled,
        }
    }
}

/// Who presented a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(UserPrincipal),
    /// A Keyrock PEP proxy (Wilma); it may only manage its own API tokens.
    PepProxy {
        id: String,
        oauth_client_id: String,
    },
}

/// A resolved credential: who, and until when.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub principal: Principal,
    pub expires_at: OffsetDateTime,
}

/// Why a credential did not resolve.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No such credential (never issued, revoked, purged, or its owner is gone).
    #[error("unknown credential")]
    Unknown,
    /// The credential exists but its lifetime is over.
    #[error("credential expired")]
    Expired,
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Resolves a presented bearer credential at `now`.
pub fn resolve(
    conn: &mut DbConn,
    credential: &str,
    now: OffsetDateTime,
) -> Result<Resolved, ResolveError> {
    let token = api_tokens::find(conn, credential)?.ok_or(ResolveError::Unknown)?;
    if token.is_expired(now) {
        return Err(ResolveError::Expired);
    }
    let principal = match &token.owner {
        TokenOwner::User(id) => {
            let user = find_user(conn, id)?.ok_or(ResolveError::Unknown)?;
            Principal::User(UserPrincipal::from(&user))
        }
        TokenOwner::PepProxy(id) => {
            let oauth_client_id = pep_proxies::table
                .filter(pep_proxies::id.eq(id))
                .select(pep_proxies::oauth_client_id)
                .first::<String>(conn)
                .optional()
                .map_err(AuthError::from)?
                .ok_or(ResolveError::Unknown)?;
            Principal::PepProxy {
                id: id.clone(),
                oauth_client_id,
            }
        }
    };
    Ok(Resolved {
        principal,
        expires_at: token.expires_at,
    })
}

#[cfg(test)]
mod tests;
