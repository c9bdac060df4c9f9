use super::*;
use crate::test_support::{app, message, pool, user};

#[test]
fn agents_belong_to_their_application_and_rotate_their_password() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let conn = &mut pool.get().unwrap();
    let a = app(conn, &alice, "a");
    let b = app(conn, &bob, "b");
    let now = OffsetDateTime::now_utc();
    assert_eq!(message(list(conn, &alice, &a)), "Iot agents not found");
    assert_eq!(
        message(create(conn, &bob, &a, now)),
        "User not allow to perform the action"
    );
    let agent = create(conn, &alice, &a, now).unwrap();
    assert_eq!(list(conn, &alice, &a).unwrap().len(), 1);
    // Another application's agent is not found through this one.
    assert_eq!(
        message(get(conn, &bob, &b, &agent.id)),
        "Iot Agent not found"
    );
    let password = reset_password(conn, &alice, &a, &agent.id).unwrap();
    assert_ne!(password, agent.password);
    delete(conn, &alice, &a, &agent.id).unwrap();
    assert_eq!(
        message(get(conn, &alice, &a, &agent.id)),
        "Iot Agent not found"
    );
}
