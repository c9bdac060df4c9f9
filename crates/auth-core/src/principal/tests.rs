use super::*;
use crate::users::{create_user, NewUser};
use storage::{open_pool, DatabaseUrl};
use time::Duration;

fn pool() -> storage::Pool {
    open_pool(&DatabaseUrl::parse("sqlite::memory:").unwrap(), 1).unwrap()
}

#[test]
fn resolves_user_tokens_and_refuses_expired_and_unknown() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    create_user(
        &mut conn,
        NewUser {
            id: "u1".into(),
            username: "alice".into(),
            email: "Alice@Example.org".into(),
            password_hash: "$2b$04$x".into(),
            admin: false,
            description: None,
            website: None,
            gravatar: false,
            extra: None,
        },
        now,
    )
    .unwrap();
    let owner = TokenOwner::User("u1".into());
    let issued = api_tokens::issue(&mut conn, &owner, now, Duration::seconds(60)).unwrap();
    let resolved = resolve(&mut conn, &issued.token, now).unwrap();
    match resolved.principal {
        Principal::User(u) => {
            assert_eq!(u.id, "u1");
            assert_eq!(u.email, "Alice@Example.org");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        resolve(&mut conn, &issued.token, now + Duration::seconds(61)),
        Err(ResolveError::Expired)
    ));
    assert!(matches!(
        resolve(&mut conn, "not-a-token", now),
        Err(ResolveError::Unknown)
    ));
    // The plaintext is nowhere in the table: only its digest.
    let stored: Vec<String> = storage::schema::api_tokens::table
        .select(storage::schema::api_tokens::digest)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(stored, vec![crate::secrets::sha256_hex(&issued.token)]);
    assert!(api_tokens::revoke(&mut conn, &issued.token).unwrap());
    assert!(matches!(
        resolve(&mut conn, &issued.token, now),
        Err(ResolveError::Unknown)
    ));
}

#[test]
fn purge_removes_only_expired_tokens() {
    let pool = pool();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    create_user(
        &mut conn,
        NewUser {
            id: "u2".into(),
            username: "bob".into(),
            email: "bob@example.org".into(),
            password_hash: "$2b$04$x".into(),
            admin: false,
            description: None,
            website: None,
            gravatar: false,
            extra: None,
        },
        now,
    )
    .unwrap();
    let owner = TokenOwner::User("u2".into());
    let short = api_tokens::issue(&mut conn, &owner, now, Duration::seconds(10)).unwrap();
    let long = api_tokens::issue(&mut conn, &owner, now, Duration::seconds(100)).unwrap();
    let later = now + Duration::seconds(50);
    assert_eq!(api_tokens::purge_expired(&mut conn, later).unwrap(), 1);
    assert!(api_tokens::find(&mut conn, &short.token).unwrap().is_none());
    assert!(resolve(&mut conn, &long.token, later).is_ok());
}
