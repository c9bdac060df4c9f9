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

/// The claims of a compact JWS, read WITHOUT verifying anything: only to learn which key
/// verifies it (the `app_id` of a Keyrock JWT access token). Never trust what it returns.
pub fn unverified_claims<C: DeserializeOwned>(token: &str) -> Option<C> {
    use base64::Engine;
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests;
