use super::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn bcrypt_round_trip_uses_the_configured_cost() {
    let hasher = PasswordHasher::new(4, 2);
    let hash = hasher.hash("s3cret").unwrap();
    assert!(hash.starts_with("$2b$04$"), "{hash}");
    let stored = StoredPassword::classify(&hash, None);
    assert!(!stored.is_legacy());
    assert!(hasher.verify("s3cret", &stored));
    assert!(!hasher.verify("s3cret ", &stored));
    assert!(!hasher.verify("s3cret", &StoredPassword::Bcrypt("$2b$04$garbage")));
}

#[test]
fn legacy_keyrock_hash_matches_the_reference_algorithm() {
    // Reference: HMAC-SHA1(key="fbba54b6750b16e8", msg="test"), as Keyrock's fixture stores it.
    let hash = legacy_keyrock_hash("test", Some("fbba54b6750b16e8"));
    assert_eq!(hash.len(), 40);
    let hasher = PasswordHasher::new(4, 1);
    let stored = StoredPassword::classify(&hash, Some("fbba54b6750b16e8"));
    assert!(stored.is_legacy());
    assert!(hasher.verify("test", &stored));
    assert!(!hasher.verify("Test", &stored));
    // No salt falls back to Keyrock's fixed key, and an empty salt is the same.
    assert_eq!(
        legacy_keyrock_hash("pw", None),
        legacy_keyrock_hash("pw", Some(""))
    );
    assert_ne!(
        legacy_keyrock_hash("pw", None),
        legacy_keyrock_hash("pw", Some("x"))
    );
}

#[test]
fn known_hmac_sha1_vector() {
    // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert_eq!(
        legacy_keyrock_hash("what do ya want for nothing?", Some("Jefe")),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
}

#[test]
fn concurrency_is_bounded() {
    let permits = Arc::new(Permits {
        free: Mutex::new(1),
        released: Condvar::new(),
    });
    let held = permits.acquire();
    let p2 = Arc::clone(&permits);
    let start = Instant::now();
    let waiter = std::thread::spawn(move || {
        let _p = p2.acquire();
        start.elapsed()
    });
    std::thread::sleep(Duration::from_millis(150));
    drop(held);
    let waited = waiter.join().unwrap();
    assert!(waited >= Duration::from_millis(140), "{waited:?}");
}

#[test]
fn passwords_over_72_bytes_are_never_hashed_and_never_match() {
    let hasher = PasswordHasher::new(4, 1);
    let at_limit = "x".repeat(72);
    let hash = hasher.hash(&at_limit).unwrap();
    let stored = StoredPassword::classify(&hash, None);
    assert!(hasher.verify(&at_limit, &stored));
    // bcrypt itself would accept these: it only reads the first 72 bytes.
    for longer in [
        format!("{at_limit}A"),
        format!("{at_limit}B"),
        "x".repeat(1 << 20),
    ] {
        assert!(matches!(
            hasher.hash(&longer),
            Err(AuthError::PasswordTooLong)
        ));
        assert!(
            !hasher.verify(&longer, &stored),
            "{} bytes matched",
            longer.len()
        );
    }
    // Legacy hashes have no such limit, but the rule is the same at every login.
    let long = "y".repeat(73);
    let legacy = legacy_keyrock_hash(&long, Some("salt"));
    assert!(!hasher.verify(&long, &StoredPassword::classify(&legacy, Some("salt"))));
}
