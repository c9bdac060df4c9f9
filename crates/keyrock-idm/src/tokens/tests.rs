use super::*;
use crate::test_support::{message, pool, user};
use auth_core::users::{update_user, UserChanges};

fn with_password(pool: &Pool, hasher: &PasswordHasher, name: &str, password: &str) -> String {
    let u = user(pool, name, false);
    let changes = UserChanges {
        password_hash: Some(Some(hasher.hash(password).unwrap())),
        ..Default::default()
    };
    update_user(&mut pool.get().unwrap(), &u.id, changes).unwrap();
    u.email
}

#[test]
fn login_by_password_by_token_or_both_and_its_refusals() {
    let pool = pool();
    let hasher = PasswordHasher::new(4, 1);
    let now = OffsetDateTime::now_utc();
    let hour = Duration::hours(1);
    let alice = with_password(&pool, &hasher, "alice", "alice-pw");
    let bob = with_password(&pool, &hasher, "bob", "bob-pw");
    let input = |name: &str, password: &str, token: Option<&str>| LoginInput {
        name: Some(name.to_owned()),
        password: Some(password.to_owned()),
        token: token.map(str::to_owned),
    };
    let login_at = |i: LoginInput, at| login(&pool, &hasher, i, at, hour);

    let first = login_at(input(&alice, "alice-pw", None), now).unwrap();
    assert_eq!(first.methods, vec!["password"]);
    // Stored at millisecond precision.
    assert!((first.expires_at - (now + hour)).abs() < Duration::milliseconds(1));
    // Empty strings are absent: nothing to log in with.
    assert_eq!(
        message(login_at(input("", "", None), now)),
        "Invalid email or password"
    );
    assert_eq!(
        message(login_at(input(&alice, "wrong", None), now)),
        "Invalid email or password"
    );
    assert_eq!(
        message(login_at(input("nobody@example.org", "x", None), now)),
        "Invalid email or password",
        "an unknown account answers as a wrong password"
    );
    let both = login_at(input(&alice, "alice-pw", Some(&first.token)), now).unwrap();
    assert_eq!(both.methods, vec!["password", "token"]);
    assert_eq!(
        message(login_at(input(&bob, "bob-pw", Some(&first.token)), now)),
        "Token not correspond to user"
    );
    let by_token = LoginInput {
        token: Some(first.token.clone()),
        ..Default::default()
    };
    assert_eq!(
        message(login_at(by_token, now + Duration::hours(2))),
        "Token has expired"
    );
}
