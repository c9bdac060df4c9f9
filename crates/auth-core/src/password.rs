//! Password hashing: bcrypt for new hashes, legacy Keyrock HMAC-SHA1 for imported ones.
//!
//! Hashing is CPU-heavy by design. [`PasswordHasher`] caps how many hashes run at once, so
//! a burst of logins queues here instead of occupying every thread that could serve others.

use std::sync::{Condvar, Mutex};

use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::secrets::constant_time_eq;
use crate::AuthError;

/// bcrypt reads at most this many bytes of a password and silently ignores the rest, so
/// longer passwords are refused where they are set, and never match at login.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Whether `password` fits bcrypt's input (at most [`MAX_PASSWORD_BYTES`] bytes of UTF-8).
pub fn fits_bcrypt(password: &str) -> bool {
    password.len() <= MAX_PASSWORD_BYTES
}

/// Keyrock's HMAC key for rows without a salt.
const LEGACY_DEFAULT_KEY: &str = "nodejs_idm";

/// How a stored password hash must be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPassword<'a> {
    /// A bcrypt hash (`$2b$...`).
    Bcrypt(&'a str),
    /// Keyrock's lowercase hex HMAC-SHA1, keyed by the salt (or `nodejs_idm` when empty).
    LegacyKeyrock {
        hash: &'a str,
        salt: Option<&'a str>,
    },
}

impl<'a> StoredPassword<'a> {
    /// Classifies a stored hash: bcrypt hashes start with `$2`; anything else is legacy.
    pub fn classify(hash: &'a str, salt: Option<&'a str>) -> Self {
        if hash.starts_with("$2") {
            StoredPassword::Bcrypt(hash)
        } else {
            StoredPassword::LegacyKeyrock { hash, salt }
        }
    }

    /// True for hashes that should be replaced by bcrypt after a successful login.
    pub fn is_legacy(&self) -> bool {
        matches!(self, StoredPassword::LegacyKeyrock { .. })
    }
}

/// Keyrock's legacy hash: hex(HMAC-SHA1(key = salt ASCII, message = password UTF-8)).
pub fn legacy_keyrock_hash(password: &str, salt: Option<&str>) -> String {
    let key = match salt {
        Some(s) if !s.is_empty() => s,
        _ => LEGACY_DEFAULT_KEY,
    };
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha1>::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(password.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A counting semaphore: at most `permits` holders at once, others wait.
struct Permits {
    free: Mutex<usize>,
    released: Condvar,
}

struct Permit<'a>(&'a Permits);

impl Permits {
    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.released.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0.released.notify_one();
    }
}

/// bcrypt with a configured cost and bounded concurrency. Call it from a blocking thread
/// (actix `web::block`), never from an async worker.
pub struct PasswordHasher {
    cost: u32,
    permits: Permits,
    dummy: std::sync::OnceLock<String>,
}

impl PasswordHasher {
    /// `cost` must be in bcrypt's range 4..=31; `max_concurrent` is at least 1.
    pub fn new(cost: u32, max_concurrent: usize) -> Self {
        PasswordHasher {
            cost,
            permits: Permits {
                free: Mutex::new(max_concurrent.max(1)),
                released: Condvar::new(),
            },
            dummy: std::sync::OnceLock::new(),
        }
    }

    /// Spends the time of one bcrypt verification on a fixed hash, so that a login for an
    /// unknown account takes as long as one with a wrong password.
    pub fn verify_dummy(&self, password: &str) {
        let hash = self
            .dummy
            .get_or_init(|| bcrypt::hash("tessera-dummy-password", self.cost).unwrap_or_default());
        let _ = self.verify(password, &StoredPassword::Bcrypt(hash));
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// A new bcrypt hash of `password`. A password over [`MAX_PASSWORD_BYTES`] is refused
    /// (callers check first and answer in their own words).
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        if !fits_bcrypt(password) {
            return Err(AuthError::PasswordTooLong);
        }
        let _permit = self.permits.acquire();
        bcrypt::hash(password, self.cost).map_err(|e| AuthError::Hash(e.to_string()))
    }

    /// True when `password` matches the stored hash. Malformed hashes never match, and
    /// neither does a password over [`MAX_PASSWORD_BYTES`] (bcrypt would compare only its
    /// first 72 bytes).
    pub fn verify(&self, password: &str, stored: &StoredPassword<'_>) -> bool {
        if !fits_bcrypt(password) {
            return false;
        }
        match stored {
            StoredPassword::Bcrypt(hash) => {
                let _permit = self.permits.acquire();
                bcrypt::verify(password, hash).unwrap_or(false)
            }
            StoredPassword::LegacyKeyrock { hash, salt } => {
                let computed = legacy_keyrock_hash(password, *salt);
                constant_time_eq(computed.as_bytes(), hash.to_ascii_lowercase().as_bytes())
            }
        }
    }
}

#[cfg(test)]
mod tests;
