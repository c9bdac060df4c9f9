use super::*;
use crate::test_support::{message, pool, user};

fn names(list: &[&str]) -> Given<Vec<String>> {
    Given::Value(list.iter().map(|s| (*s).to_owned()).collect())
}

fn valid() -> NewApplication {
    NewApplication {
        name: Given::Value("app".into()),
        redirect_uri: Given::Value("http://localhost/cb".into()),
        ..Default::default()
    }
}

#[test]
fn grant_types_are_filtered_ordered_and_derive_response_types() {
    let grants = parse_grants(&names(&[
        "refresh_token",
        "password",
        "bogus",
        "authorization_code",
    ]))
    .unwrap()
    .unwrap();
    use GrantType::*;
    assert_eq!(grants, vec![Password, AuthorizationCode, RefreshToken]);
    assert_eq!(
        derive_grants(Some(grants), None),
        (
            "password,authorization_code,refresh_token".to_owned(),
            "code".to_owned()
        )
    );
    assert_eq!(
        derive_grants(Some(vec![Implicit, Password]), None).1,
        "token"
    );
    assert_eq!(derive_grants(Some(vec![Password]), None).1, "");
    assert_eq!(
        derive_grants(Some(vec![Password]), Some("openid")),
        (
            "password,hybrid,authorization_code,implicit".to_owned(),
            "code,token,id_token".to_owned()
        )
    );
    assert_eq!(
        derive_grants(None, None),
        (
            "client_credentials,password,implicit,authorization_code,hybrid,refresh_token"
                .to_owned(),
            "code,token,none".to_owned()
        )
    );
    assert_eq!(
        derive_grants(None, Some("a openid")).1,
        "code,token,none,id_token"
    );
    assert!(parse_grants(&Given::Unusable).is_err());
    assert!(parse_grants(&names(&["bogus"])).is_err());
    assert_eq!(parse_grants(&Given::Null).unwrap(), None);
}

#[test]
fn token_types_append_bearer_and_refuse_unknown_values() {
    use TokenType::*;
    assert_eq!(
        parse_token_types(&names(&["jwt", "permanent", "jwt"])).unwrap(),
        Some(vec![Jwt, Permanent, Bearer])
    );
    assert_eq!(parse_token_types(&names(&[])).unwrap(), Some(vec![Bearer]));
    assert!(parse_token_types(&names(&["bearer"])).is_err());
    assert!(parse_token_types(&Given::Unusable).is_err());
    assert_eq!(parse_token_types(&Given::Absent).unwrap(), None);
}

#[test]
fn create_rules_run_in_keyrock_order() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let mut create = |cmd: Given<NewApplication>| message(create(&mut conn, &alice, &cmd, now));
    assert_eq!(
        create(Given::Absent),
        "Missing parameter application in body request"
    );
    // Every field wrong at once: the first rule answers.
    let all_wrong = NewApplication {
        name: Given::Value(String::new()),
        redirect_uri: Given::Unusable,
        grant_types: Given::Unusable,
        token_types: names(&["bearer"]),
        ..Default::default()
    };
    assert_eq!(
        create(all_wrong.clone().into()),
        "Missing parameter name in body request or empty name"
    );
    let cmd = NewApplication {
        name: Given::Value("n".into()),
        ..all_wrong
    };
    assert_eq!(
        create(cmd.clone().into()),
        "Missing parameter redirect_uri in body request"
    );
    let cmd = NewApplication {
        redirect_uri: Given::Value("http://x".into()),
        ..cmd
    };
    assert_eq!(
        create(cmd.clone().into()),
        "Invalid token type in body request"
    );
    let cmd = NewApplication {
        token_types: names(&["jwt"]),
        ..cmd
    };
    assert_eq!(create(cmd.into()), "Invalid Grant Type");
}

#[test]
fn create_stores_derived_types_and_makes_the_caller_provider() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let cmd = NewApplication {
        token_types: names(&["jwt"]),
        grant_types: names(&["password"]),
        ..valid()
    };
    let (app, secret) = create(&mut conn, &alice, &cmd.into(), OffsetDateTime::now_utc()).unwrap();
    assert_eq!(app.token_types.as_deref(), Some("jwt,bearer"));
    assert_eq!(app.grant_type.as_deref(), Some("password"));
    assert_eq!(app.response_type.as_deref(), Some(""));
    assert!(app.jwt_secret.is_some(), "jwt needs a key");
    assert_eq!(
        app.secret_digest.as_deref(),
        Some(sha256_hex(&secret).as_str())
    );
    let access = authz::authorize(&mut conn, &alice, &app.id, Operation::UpdateApplication);
    assert!(access.is_ok(), "the creator is provider and may manage it");
}

#[test]
fn update_authorizes_before_it_reads_the_request_then_checks_in_order() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let (app, _) = create(&mut conn, &alice, &valid().into(), now).unwrap();
    let mut update = |who: &UserPrincipal, cmd: ApplicationChanges| {
        message(update(&mut conn, who, &app.id, &cmd.into()))
    };
    let all_wrong = ApplicationChanges {
        name: Given::Value(String::new()),
        redirect_uri: Given::Value(String::new()),
        sets_read_only: true,
        token_types: Given::Unusable,
        grant_types: Given::Unusable,
        ..Default::default()
    };
    assert_eq!(
        update(&bob, all_wrong.clone()),
        "User not allow to perform the action"
    );
    assert_eq!(update(&alice, all_wrong.clone()), "Cannot set empty name");
    let cmd = ApplicationChanges {
        name: Given::Null,
        ..all_wrong
    };
    assert_eq!(update(&alice, cmd.clone()), "Cannot set empty redirect_uri");
    let cmd = ApplicationChanges {
        redirect_uri: Given::Absent,
        ..cmd
    };
    assert_eq!(
        update(&alice, cmd.clone()),
        "Cannot set id, secret or response_type"
    );
    let cmd = ApplicationChanges {
        sets_read_only: false,
        ..cmd
    };
    assert_eq!(
        update(&alice, cmd.clone()),
        "Invalid token type in body request"
    );
    let cmd = ApplicationChanges {
        token_types: Given::Absent,
        ..cmd
    };
    assert_eq!(update(&alice, cmd), "Invalid Grant Type");
    let missing = message(super::update(&mut conn, &alice, &app.id, &Given::Absent));
    assert_eq!(missing, "Missing parameter application in body request");
}

#[test]
fn update_reports_exactly_the_fields_whose_stored_value_changed() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let (app, _) = create(
        &mut conn,
        &alice,
        &valid().into(),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let same = ApplicationChanges {
        name: Given::Value("app".into()),
        ..Default::default()
    };
    let outcome = update(&mut conn, &alice, &app.id, &same.into()).unwrap();
    assert!(!outcome.anything_changed());
    let change = ApplicationChanges {
        name: Given::Value("renamed".into()),
        description: Given::Value("d".into()),
        grant_types: names(&["authorization_code"]),
        ..Default::default()
    };
    let outcome = update(&mut conn, &alice, &app.id, &change.into()).unwrap();
    assert_eq!(
        outcome.changed,
        vec!["name", "description", "grant_type", "response_type"]
    );
    assert_eq!(outcome.after.app.name, "renamed");
    assert_eq!(outcome.after.app.response_type.as_deref(), Some("code"));
    let rotate = ApplicationChanges {
        token_types: names(&["jwt"]),
        ..Default::default()
    };
    let first = update(&mut conn, &alice, &app.id, &rotate.clone().into()).unwrap();
    assert_eq!(first.changed, vec!["token_types", "jwt_secret"]);
    let second = update(&mut conn, &alice, &app.id, &rotate.into()).unwrap();
    assert_eq!(
        second.changed,
        vec!["jwt_secret"],
        "sending jwt rotates the key"
    );
    assert_ne!(first.after.app.jwt_secret, second.after.app.jwt_secret);
}
