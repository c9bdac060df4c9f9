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
