//! OIDC id_tokens (keyrock.md 5.8): the user's token info for the application, plus `iss`,
//! `aud`, `iat`, `exp`, `nonce` and `at_hash`; HS256 with the application's `jwt_secret`,
//! or RS256 with the server key.

use auth_core::server_key::KeyCache;
use auth_core::users::User;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use storage::DbConn;
use time::{Duration, OffsetDateTime};

use super::userinfo::{user_token_info, UserTokenInfo};
use super::OAuthError;
use crate::applications::Application;

/// How id_tokens are signed (`TESSERA_OIDC_JWT_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTokenAlgorithm {
    /// With the application's `jwt_secret`.
    Hs256,
    /// With the server key, `kid` in the header.
    Rs256,
}

/// What issuing an id_token needs besides the user and the application.
#[derive(Debug, Clone, Copy)]
pub struct Oidc<'a> {
    /// `TESSERA_PUBLIC_URL`, without a trailing slash: issuers are `<it>/idm/applications/<id>`.
    pub public_url: &'a str,
    pub algorithm: IdTokenAlgorithm,
    pub keys: &'a KeyCache,
    /// The access-token lifetime: `exp` is `iat` plus it.
    pub lifetime: Duration,
}

impl Oidc<'_> {
    /// The issuer of the application's id_tokens (its per-application discovery document).
    pub fn issuer(&self, app_id: &str) -> String {
        format!("{}/idm/applications/{app_id}", self.public_url)
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    #[serde(flatten)]
    info: UserTokenInfo,
    iss: String,
    aud: &'a str,
    iat: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
}

/// `at_hash`: base64url of the left half of the SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Signs an id_token for `user` at `app`.
pub fn issue(
    conn: &mut DbConn,
    oidc: &Oidc<'_>,
    app: &Application,
    user: &User,
    nonce: Option<&str>,
    access_token: Option<&str>,
    now: OffsetDateTime,
) -> Result<String, OAuthError> {
    let info = user_token_info(conn, user, &app.id, &app.id)
        .map_err(|e| OAuthError::Internal(e.to_string()))?;
    let iat = now.unix_timestamp();
    let claims = Claims {
        info,
        iss: oidc.issuer(&app.id),
        aud: &app.id,
        iat,
        exp: (now + oidc.lifetime).unix_timestamp(),
        nonce,
        at_hash: access_token.map(at_hash),
    };
    let signed = match oidc.algorithm {
        IdTokenAlgorithm::Hs256 => {
            let secret = app
                .jwt_secret
                .as_deref()
                .ok_or_else(|| OAuthError::Internal("application without jwt_secret".to_owned()))?;
            auth_core::jwt::issue_hs256(&claims, secret.as_bytes())
        }
        IdTokenAlgorithm::Rs256 => oidc.keys.get(conn, now)?.sign(&claims),
    };
    signed.map_err(|e| OAuthError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_sha256_in_base64url() {
        // OIDC Core 3.1.3.6: 16 bytes, 22 base64url characters without padding.
        let h = at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNb0");
        assert_eq!(h.len(), 22);
        let full = Sha256::digest(b"jHkWEdUXMU1BwAsC4vtUsZwnNb0");
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&h)
            .unwrap();
        assert_eq!(decoded, full[..16]);
    }
}
