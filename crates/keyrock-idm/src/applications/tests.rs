use super::*;

#[test]
fn grant_types_are_filtered_ordered_and_derive_response_types() {
    let grants = parse_grants(&serde_json::json!([
        "refresh_token",
        "password",
        "bogus",
        "authorization_code"
    ]))
    .unwrap();
    assert_eq!(
        grants,
        vec!["password", "authorization_code", "refresh_token"]
    );
    assert_eq!(
        derive_grants(Some(grants), None),
        (
            "password,authorization_code,refresh_token".to_owned(),
            "code".to_owned()
        )
    );
    assert_eq!(
        derive_grants(Some(vec!["implicit", "password"]), None).1,
        "token"
    );
    assert_eq!(derive_grants(Some(vec!["password"]), None).1, "");
    assert_eq!(
        derive_grants(Some(vec!["password"]), Some("openid")),
        (
            "password,hybrid,authorization_code,implicit".to_owned(),
            "code,token,id_token".to_owned()
        )
    );
    assert_eq!(
        derive_grants(None, None),
        (DEFAULT_GRANTS.to_owned(), "code,token,none".to_owned())
    );
    assert!(parse_grants(&serde_json::json!("password")).is_err());
    assert!(parse_grants(&serde_json::json!(["bogus"])).is_err());
}

#[test]
fn token_types_append_bearer_and_refuse_unknown_values() {
    assert_eq!(
        parse_token_types(&serde_json::json!(["jwt", "permanent"])).unwrap(),
        "jwt,permanent,bearer"
    );
    assert_eq!(parse_token_types(&serde_json::json!([])).unwrap(), "bearer");
    assert!(parse_token_types(&serde_json::json!(["bearer"])).is_err());
    assert!(parse_token_types(&serde_json::json!("jwt")).is_err());
}
