use super::*;
use crate::test_support::{app, message, pool, user};

#[test]
fn links_check_in_keyrock_order_and_are_added_once() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let conn = &mut pool.get().unwrap();
    let a = app(conn, &alice, "a");
    let b = app(conn, &bob, "b");
    // Authorization on the path's application, then the other one, then not itself.
    assert_eq!(
        message(add(conn, &bob, &a, "nope")),
        "User not allow to perform the action"
    );
    assert_eq!(message(add(conn, &alice, &a, IDM_ADMIN_APP)), "Not allowed");
    assert_eq!(
        message(add(conn, &alice, &a, "nope")),
        "Application to be add as trusted not found"
    );
    assert_eq!(message(add(conn, &alice, &a, &a)), "Bad request");
    add(conn, &alice, &a, &b).unwrap();
    assert_eq!(
        message(add(conn, &alice, &a, &b)),
        "Trusted application already added"
    );
    assert_eq!(list(conn, &alice, &a).unwrap(), vec![b.clone()]);
    remove(conn, &alice, &a, &b).unwrap();
    assert!(
        remove(conn, &alice, &a, &b).is_err(),
        "nothing left to remove"
    );
}
