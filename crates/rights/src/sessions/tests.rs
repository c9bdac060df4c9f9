use auth_core::password::{legacy_keyrock_hash, PasswordHasher};
use auth_core::users::{create_user, NewUser};
use storage::diesel::prelude::*;
use storage::schema::users;
use storage::{DatabaseUrl, Pool};
use time::{Duration, OffsetDateTime};

use super::*;

const LIFETIME: Duration = Duration::hours(1);

fn store() -> (Pool, PasswordHasher) {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    (
        storage::open_pool(&url, 2).unwrap(),
        PasswordHasher::new(4, 2),
    )
}

fn user(pool: &Pool, hasher: &PasswordHasher, id: &str, password: &str) {
    create_user(
        &mut pool.get().unwrap(),
        NewUser {
            id: id.to_owned(),
            username: id.to_owned(),
            email: format!("{id}@Example.org"),
            password_hash: hasher.hash(password).unwrap(),
            admin: false,
            description: None,
            website: None,
            gravatar: false,
            extra: None,
        },
        OffsetDateTime::now_utc(),
    )
    .unwrap();
}

fn creds(login: &str, password: &str) -> Credentials {
    Credentials {
        method: None,
        login: Some(login.to_owned()),
        password: Some(password.to_owned()),
    }
}

#[test]
fn a_session_starts_unauthenticated_in_the_language_asked() {
    let (pool, _) = store();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let (token, session) = start(&mut conn, None, now, LIFETIME).unwrap();
    assert_eq!(token.len(), 43);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(session.language, "en-US");
    assert_eq!(session.login, None);
    let (_, german) = start(&mut conn, Some("de-DE"), now, LIFETIME).unwrap();
    assert_eq!(german.language, "de-DE");
    assert!(matches!(
        start(&mut conn, Some("fr-FR"), now, LIFETIME),
        Err(SessionError::LanguageNotFound(l)) if l == "fr-FR"
    ));
    // Only the digest is stored.
    let stored: Vec<String> = storage::schema::easydb_sessions::table
        .select(storage::schema::easydb_sessions::digest)
        .load(&mut *conn)
        .unwrap();
    assert!(!stored.contains(&token));
    assert!(stored.contains(&auth_core::secrets::sha256_hex(&token)));
}

#[test]
fn reading_finds_live_sessions_switches_language_and_forgets_expired_ones() {
    let (pool, _) = store();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut conn, None, now, LIFETIME).unwrap();
    assert_eq!(
        read(&mut conn, &token, Some("de-DE"), now)
            .unwrap()
            .language,
        "de-DE"
    );
    assert_eq!(find(&mut conn, &token, now).unwrap().language, "de-DE");
    assert!(matches!(
        read(&mut conn, &token, Some("xx"), now),
        Err(SessionError::LanguageNotFound(_))
    ));
    assert!(matches!(
        find(&mut conn, &token, now + LIFETIME),
        Err(SessionError::SessionNotFound)
    ));
    assert!(matches!(
        find(&mut conn, "no-such-token", now),
        Err(SessionError::SessionNotFound)
    ));
    assert!(matches!(
        find(&mut conn, "nul\0", now),
        Err(SessionError::SessionNotFound)
    ));
}

#[test]
fn authenticate_runs_its_checks_in_order() {
    let (pool, hasher) = store();
    user(&pool, &hasher, "alice", "alice-pw");
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut pool.get().unwrap(), None, now, LIFETIME).unwrap();
    let auth = |token: &str, c: Credentials| authenticate(&pool, &hasher, token, c, now, LIFETIME);
    // 1. token
    assert!(matches!(
        auth(
            "unknown",
            Credentials {
                method: Some("ldap".into()),
                ..Default::default()
            }
        ),
        Err(SessionError::SessionNotFound)
    ));
    // 2. method
    assert!(matches!(
        auth(&token, Credentials { method: Some("easydb,ldap".into()), ..Default::default() }),
        Err(SessionError::MethodNotAllowed(m)) if m == "ldap"
    ));
    // 3. empty login or password
    assert!(matches!(
        auth(
            &token,
            Credentials {
                login: Some("alice".into()),
                password: Some(String::new()),
                ..Default::default()
            }
        ),
        Err(SessionError::UsernameOrPasswordEmpty)
    ));
    // 4. credentials: the same answer for an unknown login and a wrong password
    assert!(matches!(
        auth(&token, creds("nobody", "x")),
        Err(SessionError::LoginFailed)
    ));
    assert!(matches!(
        auth(&token, creds("alice", "wrong")),
        Err(SessionError::LoginFailed)
    ));
    // 5. disabled
    diesel::update(users::table.filter(users::id.eq("alice")))
        .set(users::enabled.eq(false))
        .execute(&mut *pool.get().unwrap())
        .unwrap();
    assert!(matches!(
        auth(&token, creds("alice", "alice-pw")),
        Err(SessionError::LoginDisabled)
    ));
    assert_eq!(
        find(&mut pool.get().unwrap(), &token, now).unwrap().login,
        None
    );
}

#[test]
fn login_by_username_or_email_authenticates_and_logout_keeps_the_token() {
    let (pool, hasher) = store();
    user(&pool, &hasher, "alice", "alice-pw");
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut pool.get().unwrap(), None, now, Duration::seconds(10)).unwrap();
    let later = now + Duration::seconds(5);
    let by_email = authenticate(
        &pool,
        &hasher,
        &token,
        creds("ALICE@example.ORG", "alice-pw"),
        later,
        LIFETIME,
    )
    .unwrap();
    assert_eq!(
        by_email.login.as_ref().map(|(id, _)| id.as_str()),
        Some("alice")
    );
    // The lifetime restarts at the login.
    assert_eq!(by_email.expires_at, later + LIFETIME);
    assert!(find(
        &mut pool.get().unwrap(),
        &token,
        now + Duration::seconds(20)
    )
    .is_ok());
    let by_name = authenticate(
        &pool,
        &hasher,
        &token,
        creds("alice", "alice-pw"),
        later,
        LIFETIME,
    )
    .unwrap();
    assert_eq!(by_name.login.map(|(id, _)| id), Some("alice".to_owned()));
    let out = deauthenticate(&mut pool.get().unwrap(), &token, later).unwrap();
    assert_eq!(out.login, None);
    assert_eq!(
        find(&mut pool.get().unwrap(), &token, later).unwrap().login,
        None
    );
    // Logging out again changes nothing.
    assert_eq!(
        deauthenticate(&mut pool.get().unwrap(), &token, later)
            .unwrap()
            .login,
        None
    );
}

#[test]
fn a_username_shared_by_two_users_names_nobody() {
    let (pool, hasher) = store();
    user(&pool, &hasher, "alice", "pw-one");
    user(&pool, &hasher, "alice2", "pw-two");
    diesel::update(users::table.filter(users::id.eq("alice2")))
        .set(users::username.eq("alice"))
        .execute(&mut *pool.get().unwrap())
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut pool.get().unwrap(), None, now, LIFETIME).unwrap();
    assert!(matches!(
        authenticate(
            &pool,
            &hasher,
            &token,
            creds("alice", "pw-one"),
            now,
            LIFETIME
        ),
        Err(SessionError::LoginFailed)
    ));
}

#[test]
fn a_legacy_keyrock_hash_is_upgraded_at_the_easydb_login() {
    let (pool, hasher) = store();
    user(&pool, &hasher, "bob", "unused");
    let legacy = legacy_keyrock_hash("test", Some("fbba54b6750b16e8"));
    diesel::update(users::table.filter(users::id.eq("bob")))
        .set((
            users::password_hash.eq(&legacy),
            users::password_salt.eq("fbba54b6750b16e8"),
        ))
        .execute(&mut *pool.get().unwrap())
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut pool.get().unwrap(), None, now, LIFETIME).unwrap();
    authenticate(&pool, &hasher, &token, creds("bob", "test"), now, LIFETIME).unwrap();
    let (hash, salt): (Option<String>, Option<String>) = users::table
        .filter(users::id.eq("bob"))
        .select((users::password_hash, users::password_salt))
        .first(&mut *pool.get().unwrap())
        .unwrap();
    let hash = hash.unwrap();
    assert!(hash.starts_with("$2"), "{hash}");
    assert_ne!(hash, legacy);
    assert_eq!(salt, None);
}

#[test]
fn deleting_the_user_ends_its_sessions() {
    let (pool, hasher) = store();
    user(&pool, &hasher, "carol", "carol-pw");
    let now = OffsetDateTime::now_utc();
    let (token, _) = start(&mut pool.get().unwrap(), None, now, LIFETIME).unwrap();
    authenticate(
        &pool,
        &hasher,
        &token,
        creds("carol", "carol-pw"),
        now,
        LIFETIME,
    )
    .unwrap();
    auth_core::users::delete_user(&mut pool.get().unwrap(), "carol").unwrap();
    assert!(matches!(
        find(&mut pool.get().unwrap(), &token, now),
        Err(SessionError::SessionNotFound)
    ));
}

#[test]
fn purging_deletes_expired_sessions_only() {
    let (pool, _) = store();
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let (old, _) = start(
        &mut conn,
        None,
        now - LIFETIME - Duration::seconds(1),
        LIFETIME,
    )
    .unwrap();
    let (live, _) = start(&mut conn, None, now, LIFETIME).unwrap();
    assert_eq!(purge_expired(&mut conn, now).unwrap(), 1);
    assert_eq!(purge_expired(&mut conn, now).unwrap(), 0);
    assert!(find(&mut conn, &live, now).is_ok());
    let rows: i64 = storage::schema::easydb_sessions::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(rows, 1);
    assert!(matches!(
        find(&mut conn, &old, now - LIFETIME),
        Err(SessionError::SessionNotFound)
    ));
}
