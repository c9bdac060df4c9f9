use super::*;

fn admin() -> UserPrincipal {
    UserPrincipal {
        id: "admin".into(),
        num_id: 1,
        username: "admin".into(),
        email: "admin@localhost".into(),
        admin: true,
        enabled: true,
    }
}

#[test]
fn listing_an_empty_store_is_users_not_found() {
    // Over HTTP the caller is an existing admin, so this answer is only reachable here.
    let pool =
        storage::open_pool(&storage::DatabaseUrl::parse("sqlite::memory:").unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    match list(&mut conn, &admin()) {
        Err(KeyrockError::NotFound(m)) => assert_eq!(m, "Users not found"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn create_body_rules_run_in_order() {
    let err = |v: Value| CreateUser::from_body(&v).unwrap_err().to_string();
    assert_eq!(
        err(serde_json::json!({})),
        "Missing parameter user in body request"
    );
    assert_eq!(
        err(serde_json::json!({"user": {"username": "u", "email": "bad"}})),
        "Missing parameter password in body request or empty password"
    );
    assert!(CreateUser::from_body(
        &serde_json::json!({"user": {"username": "u", "email": "u@x.org", "password": "p"}})
    )
    .is_ok());
}

#[test]
fn passwords_over_72_bytes_are_refused_on_create_and_update() {
    let body =
        |p: &str| serde_json::json!({"user": {"username": "u", "email": "u@x.org", "password": p}});
    let at_limit = "x".repeat(72);
    assert!(CreateUser::from_body(&body(&at_limit)).is_ok());
    // 71 ASCII bytes and one two-byte character: 73 bytes, 72 characters.
    let multibyte = format!("{}é", "x".repeat(71));
    for long in ["x".repeat(73), multibyte] {
        assert_eq!(
            CreateUser::from_body(&body(&long)).unwrap_err().to_string(),
            "Password must be at most 72 bytes"
        );
        let patch = serde_json::json!({"user": {"password": long}});
        assert_eq!(
            UpdateUser::from_body(&patch).unwrap_err().to_string(),
            "Password must be at most 72 bytes"
        );
    }
    let patch = serde_json::json!({"user": {"password": at_limit}});
    assert!(UpdateUser::from_body(&patch).is_ok());
}
