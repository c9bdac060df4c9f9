//! Secrets: generation from the OS random source, SHA-256 digests, constant-time compare.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `n` bytes from the operating system's random source.
///
/// # Panics
/// Only if the OS random source fails, which leaves no safe way to mint a secret.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut buf).expect("the OS random source failed");
    buf
}

/// `chars` lowercase hex characters (4 random bits each), e.g. 40 for an OAuth token.
pub fn random_hex(chars: usize) -> String {
    let mut s = hex::encode(random_bytes(chars.div_ceil(2)));
    s.truncate(chars);
    s
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters from `[A-Za-z0-9]`, uniformly (rejection sampling avoids modulo bias).
pub fn random_alnum(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len * 2) {
            // 248 = 4 * 62: bytes above it would bias the first characters.
            if b < 248 && out.len() < len {
                out.push(ALNUM[(b % 62) as usize] as char);
            }
        }
    }
    out
}

/// A UUID v4 string (122 random bits from the OS source), Keyrock's token format.
pub fn random_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Lowercase hex SHA-256 of a secret: the only form in which bearer secrets are stored.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests;
