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
