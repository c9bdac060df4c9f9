use super::*;
use serde::Deserialize;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

#[test]
fn round_trip_and_refusals() {
    let claims = Claims {
        sub: "u1".into(),
        exp: Some(1_000),
    };
    let token = issue_hs256(&claims, b"0123456789abcdef").unwrap();
    let back: Claims = verify_hs256(&token, b"0123456789abcdef", 999).unwrap();
    assert_eq!(back, claims);
    assert_eq!(
        verify_hs256::<Claims>(&token, b"0123456789abcdef", 1_000),
        Err(JwtError::Expired)
    );
    assert_eq!(
        verify_hs256::<Claims>(&token, b"another-secret!!", 999),
        Err(JwtError::Invalid)
    );
    assert_eq!(
        verify_hs256::<Claims>("not.a.jwt", b"0123456789abcdef", 0),
        Err(JwtError::Invalid)
    );
    let permanent = issue_hs256(
        &Claims {
            sub: "u1".into(),
            exp: None,
        },
        b"k",
    )
    .unwrap();
    assert!(verify_hs256::<Claims>(&permanent, b"k", i64::MAX).is_ok());
}
