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
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_values_have_the_requested_shape_and_differ() {
        let a = random_hex(40);
        assert_eq!(a.len(), 40);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, random_hex(40));
        assert_eq!(random_hex(16).len(), 16);
        let s = random_alnum(22);
        assert_eq!(s.len(), 22);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, random_alnum(22));
        assert_eq!(
            uuid::Uuid::parse_str(&random_uuid())
                .unwrap()
                .get_version_num(),
            4
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
