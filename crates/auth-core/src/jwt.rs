//! JWT helpers (HS256) for the OAuth2 and OIDC endpoints.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{de::DeserializeOwned, Serialize};

/// Why a JWT was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

/// Signs `claims` with HS256 and `secret`.
pub fn issue_hs256<C: Serialize>(claims: &C, secret: &[u8]) -> Result<String, JwtError> {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|_| JwtError::Invalid)
}

/// Verifies signature and, when present, `exp` (no leeway) against `now_unix`.
/// Claims without `exp` are accepted (Keyrock's permanent JWTs have none).
pub fn verify_hs256<C: DeserializeOwned>(
    token: &str,
    secret: &[u8],
    now_unix: i64,
) -> Result<C, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = decode::<serde_json::Value>(token, &DecodingKey::from_secret(secret), &validation)
        .map_err(|_| JwtError::Invalid)?;
    // exp is checked here against the caller's clock, so domain code never reads the wall clock.
    if let Some(exp) = data.claims.get("exp") {
        match exp.as_i64() {
            Some(exp) if exp > now_unix => {}
            Some(_) => return Err(JwtError::Expired),
            None => return Err(JwtError::Invalid),
        }
    }
    serde_json::from_value(data.claims).map_err(|_| JwtError::Invalid)
}

#[cfg(test)]
mod tests;
