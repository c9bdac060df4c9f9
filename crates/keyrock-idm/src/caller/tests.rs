use super::*;
use crate::test_support::{app, message, pool, user};
use auth_core::api_tokens::{issue, TokenOwner};
use time::Duration;

#[test]
fn a_caller_is_a_users_unexpired_token_and_never_a_proxys() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let conn = &mut pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let owner = TokenOwner::User(alice.id.clone());
    let token = issue(conn, &owner, now, Duration::hours(1)).unwrap().token;
    assert_eq!(authenticate(conn, Some(&token), now).unwrap().id, alice.id);
    assert_eq!(message(authenticate(conn, None, now)), MISSING_TOKEN);
    assert_eq!(
        message(authenticate(conn, Some("nope"), now)),
        "Token not found"
    );
    let later = now + Duration::hours(2);
    assert_eq!(
        message(authenticate(conn, Some(&token), later)),
        "Token has expired"
    );
    let app = app(conn, &alice, "app");
    let pep = crate::pep_proxies::create(conn, &alice, &app, now).unwrap();
    let proxy = TokenOwner::PepProxy(pep.id);
    let proxy_token = issue(conn, &proxy, now, Duration::hours(1)).unwrap().token;
    assert_eq!(
        message(authenticate(conn, Some(&proxy_token), now)),
        "User not allow to perform the action"
    );
}
