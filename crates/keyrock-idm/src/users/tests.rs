use super::*;
use crate::test_support::{message, pool, text, user};

fn new_user(username: &str, email: &str, password: &str) -> CreateUser {
    CreateUser {
        username: text(username),
        email: text(email),
        password: text(password),
        ..Default::default()
    }
}

#[test]
fn listing_an_empty_store_is_users_not_found() {
    // Over HTTP the caller is an existing admin, so this answer is only reachable here.
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let admin = UserPrincipal {
        id: "admin".into(),
        num_id: 1,
        username: "admin".into(),
        email: "admin@localhost".into(),
        admin: true,
        enabled: true,
    };
    match list(&mut conn, &admin) {
        Err(KeyrockError::NotFound(m)) => assert_eq!(m, "Users not found"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn create_rules_run_in_order() {
    let check = |c: CreateUser| message(c.check());
    let mut all_wrong = new_user("", "bad", "");
    assert_eq!(
        check(all_wrong.clone()),
        "Missing parameter username in body request or empty username"
    );
    all_wrong.username = text(&"u".repeat(65));
    assert_eq!(
        check(all_wrong.clone()),
        "Missing parameter password in body request or empty password"
    );
    all_wrong.password = text("p");
    all_wrong.email = Given::Unusable;
    assert_eq!(
        check(all_wrong.clone()),
        "Missing parameter email in body request or empty email"
    );
    all_wrong.email = text("bad");
    assert_eq!(
        check(all_wrong.clone()),
        "Username must be at most 64 characters"
    );
    all_wrong.username = text("u");
    assert_eq!(check(all_wrong), "Email not valid");
    assert!(new_user("u", "u@x.org", "p").check().is_ok());
}

#[test]
fn create_refuses_non_admins_before_reading_the_request() {
    let pool = pool();
    let hasher = PasswordHasher::new(4, 1);
    let alice = user(&pool, "alice", false);
    let now = OffsetDateTime::now_utc();
    let refused = create(&pool, &hasher, &alice, &Given::Absent, now);
    assert_eq!(message(refused), "User not authorized to perform action");
    let admin = user(&pool, "root", true);
    let missing = create(&pool, &hasher, &admin, &Given::Absent, now);
    assert_eq!(message(missing), "Missing parameter user in body request");
    let taken = new_user("a2", "alice@example.org", "p").into();
    assert_eq!(
        message(create(&pool, &hasher, &admin, &taken, now)),
        "Email already used"
    );
}

#[test]
fn passwords_over_72_bytes_are_refused_on_create_and_update() {
    let at_limit = "x".repeat(72);
    assert!(new_user("u", "u@x.org", &at_limit).check().is_ok());
    // 71 ASCII bytes and one two-byte character: 73 bytes, 72 characters.
    let multibyte = format!("{}é", "x".repeat(71));
    for long in ["x".repeat(73), multibyte] {
        assert_eq!(
            message(new_user("u", "u@x.org", &long).check()),
            "Password must be at most 72 bytes"
        );
        let patch = UpdateUser {
            password: text(&long),
            ..Default::default()
        };
        assert_eq!(message(patch.check()), "Password must be at most 72 bytes");
    }
    let patch = UpdateUser {
        password: text(&at_limit),
        ..Default::default()
    };
    assert!(patch.check().is_ok());
}

#[test]
fn update_rules_run_in_order_after_the_target_check() {
    let pool = pool();
    let hasher = PasswordHasher::new(4, 1);
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let now = OffsetDateTime::now_utc();
    let mut all_wrong = UpdateUser {
        sets_id: true,
        username: text(""),
        email: text(""),
        password: text(""),
        ..Default::default()
    };
    let update_alice = |who: &UserPrincipal, cmd: &UpdateUser| {
        message(update(
            &pool,
            &hasher,
            who,
            &alice.id,
            &cmd.clone().into(),
            now,
        ))
    };
    assert_eq!(
        update_alice(&bob, &all_wrong),
        "User not authorized to perform action"
    );
    assert_eq!(update_alice(&alice, &all_wrong), "Cannot set id");
    all_wrong.sets_id = false;
    assert_eq!(
        update_alice(&alice, &all_wrong),
        "Cannot set empty username"
    );
    all_wrong.username = text(&"u".repeat(65));
    assert_eq!(update_alice(&alice, &all_wrong), "Cannot set empty email");
    all_wrong.email = text("bad");
    assert_eq!(
        update_alice(&alice, &all_wrong),
        "Cannot set empty password"
    );
    all_wrong.password = Given::Null;
    assert_eq!(
        update_alice(&alice, &all_wrong),
        "Username must be at most 64 characters"
    );
    all_wrong.username = Given::Absent;
    assert_eq!(update_alice(&alice, &all_wrong), "Email not valid");
}

#[test]
fn update_names_changed_fields_and_counts_a_password_change() {
    let pool = pool();
    let hasher = PasswordHasher::new(4, 1);
    let alice = user(&pool, "alice", false);
    let now = OffsetDateTime::now_utc();
    let run =
        |cmd: UpdateUser| update(&pool, &hasher, &alice, &alice.id, &cmd.into(), now).unwrap();
    let same = run(UpdateUser {
        username: text("alice"),
        gravatar: Given::Value(false),
        ..Default::default()
    });
    assert!(!same.anything_changed());
    let extra = run(UpdateUser {
        extra: Given::Value(JsonText(r#"{"b":1,"a":[true]}"#.into())),
        description: text("hi"),
        ..Default::default()
    });
    assert_eq!(extra.changed, vec!["description", "extra"]);
    // The same document spelled differently is no change.
    let respelled = run(UpdateUser {
        extra: Given::Value(JsonText(r#"{ "a": [true], "b": 1 }"#.into())),
        ..Default::default()
    });
    assert!(!respelled.anything_changed());
    let password = run(UpdateUser {
        password: text("new secret"),
        ..Default::default()
    });
    assert_eq!(password.changed, vec!["password"]);
    assert!(password.after.password_hash.is_some());
}
