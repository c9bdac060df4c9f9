use storage::schema::users;

use crate::test_support::{bundle_id, by_email, fields, now, store, user};
use crate::{BundleError, Field};

use super::*;

fn new(conn: &mut DbConn, bundle: &str, allowed: &str, target: &str) -> NewPermission {
    NewPermission {
        bundle: Field::Value(bundle_id(conn, bundle)),
        user_allowed: by_email(allowed),
        user_target: by_email(target),
        name: Field::Absent,
    }
}

#[test]
fn the_target_grants_and_an_existing_triple_is_reused() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let mut cmd = new(&mut conn, "coach", "alice", "bob");
    cmd.name = Field::Value("my coach".to_owned());
    let created = match create(&mut conn, &bob, cmd, now()).unwrap() {
        Granted::Created(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(created.bundle.name, "coach");
    assert_eq!(created.user_allowed.username, "alice");
    assert_eq!(created.user_target.username, "bob");
    assert_eq!(created.name.as_deref(), Some("my coach"));

    // The same triple again: the existing permission, unchanged (its name kept).
    let mut again = new(&mut conn, "coach", "alice", "bob");
    again.name = Field::Value("other".to_owned());
    match create(&mut conn, &bob, again, now()).unwrap() {
        Granted::Existing(p) => assert_eq!(p, created),
        other => panic!("{other:?}"),
    }
    // Another bundle is another triple.
    let friend = new(&mut conn, "friend", "alice", "bob");
    assert!(matches!(
        create(&mut conn, &bob, friend, now()).unwrap(),
        Granted::Created(_)
    ));
}

#[test]
fn only_the_target_or_an_admin_grants() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let carol = user(&mut conn, "carol", false);
    user(&mut conn, "bob", false);
    let root = user(&mut conn, "root", true);
    for caller in [&alice, &carol] {
        let cmd = new(&mut conn, "friend", "alice", "bob");
        assert!(matches!(
            create(&mut conn, caller, cmd, now()),
            Err(BundleError::Forbidden)
        ));
    }
    let cmd = new(&mut conn, "admin", "alice", "bob");
    assert!(matches!(
        create(&mut conn, &root, cmd, now()).unwrap(),
        Granted::Created(_)
    ));
}

#[test]
fn fields_are_checked_before_the_caller_and_together() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    // A third party with a bad body gets the field errors, not Forbidden.
    assert_eq!(
        fields(create(&mut conn, &alice, NewPermission::default(), now())),
        ["bundle", "user_allowed", "user_target"]
    );
    let same = new(&mut conn, "friend", "alice", "alice");
    assert_eq!(
        fields(create(&mut conn, &alice, same, now())),
        ["user_target"]
    );
    let unknown = NewPermission {
        bundle: Field::Value(999),
        user_allowed: Field::Value(UserRef::Id(999)),
        user_target: by_email("alice"),
        name: Field::Value("x".repeat(256)),
    };
    match create(&mut conn, &alice, unknown, now()) {
        Err(BundleError::Invalid(errors)) => {
            let got: Vec<(&str, &str)> = errors
                .iter()
                .map(|e| (e.field, e.message.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("bundle", "no bundle matches \"/api/bundle/999/\""),
                    ("user_allowed", "no user matches \"/api/user/999/\""),
                    ("name", "at most 255 characters"),
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn parties_see_and_delete_others_get_not_found() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let carol = user(&mut conn, "carol", false);
    let root = user(&mut conn, "root", true);
    let cmd = new(&mut conn, "friend", "alice", "bob");
    let p = create(&mut conn, &bob, cmd, now())
        .unwrap()
        .into_permission();
    let cmd = new(&mut conn, "coach", "carol", "bob");
    let q = create(&mut conn, &bob, cmd, now())
        .unwrap()
        .into_permission();
    for caller in [&alice, &bob, &root] {
        assert_eq!(get(&mut conn, caller, p.id).unwrap(), p);
    }
    assert!(matches!(
        get(&mut conn, &carol, p.id),
        Err(BundleError::NotFound)
    ));
    assert!(matches!(
        delete(&mut conn, &carol, p.id),
        Err(BundleError::NotFound)
    ));

    let ids = |page: Page<BundlePermission>| page.items.iter().map(|p| p.id).collect::<Vec<_>>();
    let all = PermissionQuery::default();
    assert_eq!(ids(list(&mut conn, &alice, &all).unwrap()), [p.id]);
    assert_eq!(ids(list(&mut conn, &bob, &all).unwrap()), [p.id, q.id]);
    assert_eq!(ids(list(&mut conn, &root, &all).unwrap()), [p.id, q.id]);
    let desc = PermissionQuery {
        order: vec![Order::desc(PermissionOrder::Id)],
        ..Default::default()
    };
    assert_eq!(ids(list(&mut conn, &root, &desc).unwrap()), [q.id, p.id]);
    let by_allowed = PermissionQuery {
        filter: PermissionFilter {
            user_allowed: Some(vec![UserRef::Email("CAROL@example.org".to_owned())]),
            user_target: Some(vec![UserRef::Id(bob.num_id), UserRef::Id(999)]),
            ..Default::default()
        },
        ..Default::default()
    };
    let page = list(&mut conn, &root, &by_allowed).unwrap();
    assert_eq!((page.total, ids(page)), (1, vec![q.id]));
    // A reference that does not resolve matches nothing.
    let nobody = PermissionQuery {
        filter: PermissionFilter {
            user_allowed: Some(vec![UserRef::Email("nobody@example.org".to_owned())]),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(list(&mut conn, &root, &nobody).unwrap().total, 0);
    let by_bundle = PermissionQuery {
        filter: PermissionFilter {
            bundle: Some(vec![p.bundle.id]),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(ids(list(&mut conn, &bob, &by_bundle).unwrap()), [p.id]);

    // user_allowed gives up access; the target withdraws it.
    delete(&mut conn, &alice, p.id).unwrap();
    assert!(matches!(
        get(&mut conn, &bob, p.id),
        Err(BundleError::NotFound)
    ));
    delete(&mut conn, &bob, q.id).unwrap();
    assert_eq!(list(&mut conn, &root, &all).unwrap().total, 0);
}

#[test]
fn deleting_a_user_deletes_its_permissions() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let root = user(&mut conn, "root", true);
    let cmd = new(&mut conn, "friend", "alice", "bob");
    create(&mut conn, &bob, cmd, now()).unwrap();
    diesel::delete(users::table.filter(users::id.eq("alice")))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        list(&mut conn, &root, &PermissionQuery::default())
            .unwrap()
            .total,
        0
    );
}
