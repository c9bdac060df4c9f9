use crate::permissions::{create as grant, NewPermission};
use crate::test_support::{ask, bundle_id, by_email, now, store, user};
use crate::{BundleError, Field, Order};

use super::*;

fn ids(page: Page<UserObject>) -> Vec<String> {
    page.items.into_iter().map(|u| u.username).collect()
}

#[test]
fn references_resolve_by_id_or_case_insensitive_email() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let by_id = resolve(&mut conn, &UserRef::Id(alice.num_id))
        .unwrap()
        .unwrap();
    assert_eq!(by_id.username, "alice");
    assert_eq!(by_id.email, "alice@example.org");
    let by_mail = resolve(&mut conn, &UserRef::Email("ALICE@Example.ORG".to_owned()))
        .unwrap()
        .unwrap();
    assert_eq!(by_mail, by_id);
    assert!(resolve(&mut conn, &UserRef::Id(999)).unwrap().is_none());
    assert!(resolve(&mut conn, &UserRef::Email("x\0@y".to_owned()))
        .unwrap()
        .is_none());
    let account = account(&mut conn, &alice).unwrap();
    assert_eq!(account.user, by_id);
    assert!(!account.is_staff);
}

#[test]
fn users_see_themselves_and_those_linked_by_a_permission() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let carol = user(&mut conn, "carol", false);
    let root = user(&mut conn, "root", true);
    assert_eq!(
        ids(list(&mut conn, &alice, &UserQuery::default()).unwrap()),
        ["alice"]
    );
    assert!(matches!(
        get(&mut conn, &alice, bob.num_id),
        Err(BundleError::NotFound)
    ));

    // A pending request does not make users visible.
    ask(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    assert_eq!(
        ids(list(&mut conn, &bob, &UserQuery::default()).unwrap()),
        ["bob"]
    );

    // Bob lets alice see his data: both see each other, carol sees neither.
    let friend = bundle_id(&mut conn, "friend");
    grant(
        &mut conn,
        &bob,
        NewPermission {
            bundle: Field::Value(friend),
            user_allowed: by_email("alice"),
            user_target: by_email("bob"),
            name: Field::Absent,
        },
        now(),
    )
    .unwrap();
    assert_eq!(
        ids(list(&mut conn, &alice, &UserQuery::default()).unwrap()),
        ["alice", "bob"]
    );
    assert_eq!(
        ids(list(&mut conn, &bob, &UserQuery::default()).unwrap()),
        ["alice", "bob"]
    );
    assert_eq!(
        get(&mut conn, &bob, alice.num_id).unwrap().username,
        "alice"
    );
    assert!(matches!(
        get(&mut conn, &carol, alice.num_id),
        Err(BundleError::NotFound)
    ));
    assert_eq!(
        ids(list(&mut conn, &root, &UserQuery::default()).unwrap()).len(),
        4
    );
    assert_eq!(
        get(&mut conn, &root, carol.num_id).unwrap().username,
        "carol"
    );
}

#[test]
fn the_user_list_filters_and_orders() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let root = user(&mut conn, "root", true);
    user(&mut conn, "alice", false);
    user(&mut conn, "bob", false);
    let query = UserQuery {
        filter: UserFilter {
            email: Some(vec![
                "ALICE@example.org".to_owned(),
                "bob@example.org".to_owned(),
            ]),
            ..Default::default()
        },
        order: vec![Order::desc(UserOrder::Username)],
        ..Default::default()
    };
    let page = list(&mut conn, &root, &query).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(ids(page), ["bob", "alice"]);
    let query = UserQuery {
        filter: UserFilter {
            username: Some(vec!["root".to_owned()]),
            id: Some(vec![]),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(list(&mut conn, &root, &query).unwrap().total, 0);
}
