//! Authentication of `/v1` calls other than `/v1/auth/tokens` (keyrock.md 1.2, steps 3-5).

use auth_core::principal::{resolve_api_token, Principal, ResolveError, UserPrincipal};
use storage::DbConn;
use time::OffsetDateTime;

use crate::KeyrockError;

pub const MISSING_TOKEN: &str = "Expecting to find X-Auth-token/Authorization in requests";

/// Resolves the caller's API token into the user it stands for. OAuth2 access tokens are
/// not `/v1` credentials (Keyrock keeps API tokens there).
pub fn authenticate(
    conn: &mut DbConn,
    token: Option<&str>,
    now: OffsetDateTime,
) -> Result<UserPrincipal, KeyrockError> {
    let token = token.ok_or(KeyrockError::Invalid(MISSING_TOKEN))?;
    match resolve_api_token(conn, token, now) {
        Ok(resolved) => match resolved.principal {
            Principal::User(user) => Ok(user),
            // PEP proxies may only use /v1/auth/tokens.
            Principal::PepProxy { .. } => Err(KeyrockError::Forbidden(
                "User not allow to perform the action",
            )),
        },
        Err(ResolveError::Unknown) => Err(KeyrockError::NotFound("Token not found")),
        Err(ResolveError::Expired) => Err(KeyrockError::Unauthenticated("Token has expired")),
        Err(ResolveError::Auth(e)) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
