//! The server's RS256 signing key (keyrock.md 5.7, decision 25): one RSA 2048 key for the
//! whole deployment, generated in-process on first use and stored in `server_keys` as
//! PKCS#8 PEM, so every node signs with the same key and verifiers find it in the JWKS.
//!
//! [`current`] reads the stored key, or creates it: the key is generated outside any
//! transaction (it takes a moment), then inserted only if the table holds no RS256 key yet,
//! inside one write transaction that every node serializes on (SQLite `BEGIN IMMEDIATE`;
//! PostgreSQL `LOCK TABLE ... IN EXCLUSIVE MODE`). Then the oldest row is read again, so
//! two nodes racing on first use both end with the one key that was stored.
//!
//! [`KeyCache`] keeps the parsed key for the life of the process: signing never reads the
//! table, parses PEM or generates a key per request.

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde::Serialize;
use sha2::{Digest, Sha256};
use storage::schema::server_keys;
use storage::{to_db_time, write_tx, Backend, DbConn};
use time::OffsetDateTime;

use crate::jwt::JwtError;
use crate::AuthError;

/// The `algorithm` column of the server's signing key, and the JWS `alg` it signs with.
pub const ALGORITHM: &str = "RS256";

/// The modulus size of a generated key.
const KEY_BITS: usize = 2048;

/// A public key in JWK form (RFC 7517): `{"kty":"RSA","n","e","alg":"RS256","use":"sig","kid"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Always `RSA`.
    pub kty: &'static str,
    /// The modulus, big-endian, base64url without padding.
    pub n: String,
    /// The public exponent, big-endian, base64url without padding.
    pub e: String,
    /// Always `RS256`.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: &'static str,
    /// The RFC 7638 thumbprint of the key.
    pub kid: String,
}

/// The RFC 7638 thumbprint of an RSA public key given as base64url `n` and `e`: base64url
/// (no padding) of the SHA-256 of `{"e":"…","kty":"RSA","n":"…"}` (members in that order,
/// no spaces; base64url text needs no JSON escaping).
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The server's signing key, parsed once: what signs (RS256) and what verifies.
#[derive(Clone)]
pub struct ServerKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for ServerKey {
    /// Names the key, never its private part.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("kid", &self.jwk.kid)
            .finish_non_exhaustive()
    }
}

impl ServerKey {
    /// Parses a stored PKCS#8 PEM private key.
    fn from_pem(pem: &str) -> Result<ServerKey, AuthError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| AuthError::Key(format!("stored server key does not parse: {e}")))?;
        let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes())
            .map_err(|e| AuthError::Key(format!("stored server key is not usable: {e}")))?;
        let decoding = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|e| AuthError::Key(format!("server public key is not usable: {e}")))?;
        let kid = thumbprint(&n, &e);
        Ok(ServerKey {
            encoding,
            decoding,
            jwk: Jwk {
                kty: "RSA",
                n,
                e,
                alg: ALGORITHM,
                key_use: "sig",
                kid,
            },
        })
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.jwk.kid
    }

    /// The public key as served in the JWKS documents.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The private key, for `jsonwebtoken::encode` with RS256.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The public key, for `jsonwebtoken::decode` with RS256.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The JWS header of tokens this key signs: `{"typ":"JWT","alg":"RS256","kid":…}`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.jwk.kid.clone());
        header
    }

    /// Signs `claims` with RS256 under [`ServerKey::header`].
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, JwtError> {
        jsonwebtoken::encode(&self.header(), claims, &self.encoding).map_err(|_| JwtError::Invalid)
    }
}

/// The PEM of the oldest RS256 key, if one is stored.
fn stored_pem(conn: &mut DbConn) -> Result<Option<String>, AuthError> {
    Ok(server_keys::table
        .filter(server_keys::algorithm.eq(ALGORITHM))
        .order((server_keys::created_at.asc(), server_keys::kid.asc()))
        .select(server_keys::private_key)
        .first::<String>(conn)
        .optional()?)
}

/// A new RSA 2048 key from the OS random source, as PKCS#8 PEM with its kid.
fn generate() -> Result<(String, String), AuthError> {
    let private = RsaPrivateKey::new(&mut rand_core::OsRng, KEY_BITS)
        .map_err(|e| AuthError::Key(format!("RSA key generation failed: {e}")))?;
    let pem = private
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AuthError::Key(format!("RSA key encoding failed: {e}")))?;
    let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
    Ok((thumbprint(&n, &e), pem.to_string()))
}

/// Stores `pem` unless an RS256 key is stored already; every node serializes here, so at
/// most one key is ever inserted.
fn store_if_none(
    conn: &mut DbConn,
    kid: &str,
    pem: &str,
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    write_tx(conn, |conn| {
        if conn.backend() == Backend::Postgres {
            // Blocks other writers of the table (and their check below) until commit;
            // readers are not blocked.
            conn.batch_execute("LOCK TABLE server_keys IN EXCLUSIVE MODE")?;
        }
        if stored_pem(conn)?.is_none() {
            diesel::insert_into(server_keys::table)
                .values((
                    server_keys::kid.eq(kid),
                    server_keys::algorithm.eq(ALGORITHM),
                    server_keys::private_key.eq(pem),
                    server_keys::created_at.eq(to_db_time(now)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// The server's RS256 key: the stored one, or a new one stored now (see the module).
pub fn current(conn: &mut DbConn, now: OffsetDateTime) -> Result<ServerKey, AuthError> {
    if let Some(pem) = stored_pem(conn)? {
        return ServerKey::from_pem(&pem);
    }
    let (kid, pem) = generate()?;
    store_if_none(conn, &kid, &pem, now)?;
    // Ours, or the one another node stored first.
    let stored = stored_pem(conn)?.ok_or(AuthError::NotFound)?;
    ServerKey::from_pem(&stored)
}

/// The server key, read (or created) once per process and shared by every request.
#[derive(Debug, Default)]
pub struct KeyCache {
    key: OnceLock<Arc<ServerKey>>,
}

impl KeyCache {
    pub fn new() -> KeyCache {
        KeyCache::default()
    }

    /// The key if this process has read it already (no database work).
    pub fn cached(&self) -> Option<Arc<ServerKey>> {
        self.key.get().cloned()
    }

    /// The key: from the cache, else through [`current`]. Two threads missing the cache
    /// at once both read the one stored key, and the first to finish is kept.
    pub fn get(&self, conn: &mut DbConn, now: OffsetDateTime) -> Result<Arc<ServerKey>, AuthError> {
        if let Some(key) = self.key.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(current(conn, now)?);
        Ok(self.key.get_or_init(|| key).clone())
    }
}

#[cfg(test)]
mod tests;
