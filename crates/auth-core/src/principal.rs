//! The one resolver that answers "who is this bearer?" for the credentials every family
//! accepts: Keyrock API tokens and OAuth2 user access tokens (opaque or JWT). Keyrock's
//! `/v1` accepts API tokens only ([`resolve_api_token`]). Family-specific credentials
//! (capability secrets, easydb sessions, Hexoskin request tokens) are resolved by their own
//! crates, which fall back to [`resolve`].

use diesel::prelude::*;
use storage::schema::{oauth_clients, pep_proxies};
use storage::DbConn;
use time::OffsetDateTime;

use crate::api_tokens::{self, TokenOwner};
use crate::jwt;
use crate::oauth::{self, Standing, Subject};
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

/// A resolved credential: who, and until when (`None`: a permanent OAuth token).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub principal: Principal,
    pub expires_at: Option<OffsetDateTime>,
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

/// Resolves a user credential at `now`: a Keyrock API token, else an OAuth2 access token
/// of a user (opaque, looked up by digest; or a JWT verified with the `jwt_secret` of the
/// application in its `app_id` claim). Tokens of IoT agents and of applications themselves
/// are not user credentials. A revoked OAuth token is unknown at once, on every node: the
/// lookup reads the shared store.
pub fn resolve(
    conn: &mut DbConn,
    credential: &str,
    now: OffsetDateTime,
) -> Result<Resolved, ResolveError> {
    match resolve_api_token(conn, credential, now) {
        Err(ResolveError::Unknown) => {}
        other => return other,
    }
    if let Some(token) = oauth::find_access(conn, credential)? {
        return match (token.standing(now), &token.subject) {
            (Standing::Valid, Subject::User(id)) => Ok(Resolved {
                principal: user_principal(conn, id)?,
                expires_at: token.expires_at,
            }),
            (Standing::Expired, Subject::User(_)) => Err(ResolveError::Expired),
            _ => Err(ResolveError::Unknown),
        };
    }
    resolve_jwt(conn, credential, now)
}

/// The identity claims of a Keyrock JWT access token (keyrock.md 5.9).
#[derive(serde::Deserialize)]
struct JwtClaims {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    app_id: String,
    exp: Option<i64>,
}

fn resolve_jwt(
    conn: &mut DbConn,
    credential: &str,
    now: OffsetDateTime,
) -> Result<Resolved, ResolveError> {
    let claimed: JwtClaims = jwt::unverified_claims(credential)
        .filter(|c: &JwtClaims| storage::is_storable(&c.app_id))
        .ok_or(ResolveError::Unknown)?;
    let secret: Option<Option<String>> = oauth_clients::table
        .filter(oauth_clients::id.eq(&claimed.app_id))
        .select(oauth_clients::jwt_secret)
        .first(conn)
        .optional()
        .map_err(AuthError::from)?;
    let secret = secret.flatten().ok_or(ResolveError::Unknown)?;
    let claims: JwtClaims =
        match jwt::verify_hs256(credential, secret.as_bytes(), now.unix_timestamp()) {
            Ok(claims) => claims,
            Err(jwt::JwtError::Expired) => return Err(ResolveError::Expired),
            Err(jwt::JwtError::Invalid) => return Err(ResolveError::Unknown),
        };
    match (claims.kind.as_str(), &claims.id) {
        ("user", Some(id)) => Ok(Resolved {
            principal: user_principal(conn, id)?,
            expires_at: claims
                .exp
                .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok()),
        }),
        _ => Err(ResolveError::Unknown),
    }
}

fn user_principal(conn: &mut DbConn, id: &str) -> Result<Principal, ResolveError> {
    let user = find_user(conn, id)?.ok_or(ResolveError::Unknown)?;
    Ok(Principal::User(UserPrincipal::from(&user)))
}

/// Resolves a Keyrock API token at `now` (the `/v1` credential).
pub fn resolve_api_token(
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
        expires_at: Some(token.expires_at),
    })
}

#[cfg(test)]
mod tests;
