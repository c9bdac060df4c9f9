use super::*;
use crate::test_support::{app, message, pool, user};

#[test]
fn one_proxy_per_application_its_password_stored_as_a_digest_and_rotated() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let conn = &mut pool.get().unwrap();
    let app = app(conn, &alice, "app");
    let now = OffsetDateTime::now_utc();
    assert_eq!(message(get(conn, &alice, &app)), "Pep Proxy not found");
    assert_eq!(
        message(create(conn, &bob, &app, now)),
        "User not allow to perform the action"
    );
    let created = create(conn, &alice, &app, now).unwrap();
    assert_eq!(
        message(create(conn, &alice, &app, now)),
        "Pep Proxy already registered"
    );
    let stored: String = pep_proxies::table
        .filter(pep_proxies::id.eq(&created.id))
        .select(pep_proxies::password_digest)
        .first(conn)
        .unwrap();
    assert_eq!(
        stored,
        sha256_hex(&created.password),
        "only the digest is kept"
    );
    let new_password = reset_password(conn, &alice, &app).unwrap();
    assert_ne!(new_password, created.password);
    assert_eq!(get(conn, &alice, &app).unwrap().id, created.id);
    delete(conn, &alice, &app).unwrap();
    assert_eq!(message(delete(conn, &alice, &app)), "Pep Proxy not found");
}
