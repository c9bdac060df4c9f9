use crate::test_support::{fields, now, store, user};
use crate::{BundleError, Field, Order, Paging};

use super::*;

fn new_bundle(name: &str, permissions: &[&str]) -> NewBundle {
    NewBundle {
        name: Field::Value(name.to_owned()),
        description: Field::Absent,
        permissions: Field::Value(permissions.iter().map(|p| (*p).to_owned()).collect()),
    }
}

#[test]
fn the_three_bundles_are_shipped() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let page = list(&mut conn, &BundleQuery::default()).unwrap();
    assert_eq!(page.total, 3);
    let shipped: Vec<(&str, &str, Vec<Permission>)> = page
        .items
        .iter()
        .map(|b| {
            (
                b.name.as_str(),
                b.description.as_str(),
                b.permissions.clone(),
            )
        })
        .collect();
    assert_eq!(
        shipped,
        vec![
            (
                "friend",
                "Friends and relatives: may view the target's data",
                vec![Permission::Read]
            ),
            (
                "coach",
                "Coach: may view the athlete's data",
                vec![Permission::Read]
            ),
            (
                "admin",
                "Administrator: may view and edit the target's data",
                vec![Permission::Read, Permission::Write]
            ),
        ]
    );
    let coach = find_by_name(&mut conn, "COACH").unwrap().unwrap();
    assert_eq!(get(&mut conn, coach.id).unwrap(), coach);
    assert!(matches!(get(&mut conn, 999), Err(BundleError::NotFound)));
}

#[test]
fn bundles_are_ordered_and_paged() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let query = BundleQuery {
        order: vec![Order::desc(BundleOrder::Name)],
        paging: Paging::new(Some(2), Some(1)),
    };
    let page = list(&mut conn, &query).unwrap();
    assert_eq!(page.total, 3);
    let names: Vec<&str> = page.items.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["coach", "admin"]);
    assert_eq!(Paging::new(Some(0), None).limit, 1000);
    assert_eq!(Paging::new(Some(5000), None).limit, 1000);
    assert_eq!(Paging::default().limit, 20);
}

#[test]
fn only_admins_create_bundles_before_any_field_check() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    assert!(matches!(
        create(&mut conn, &alice, NewBundle::default(), now()),
        Err(BundleError::Forbidden)
    ));
    assert!(matches!(
        create(&mut conn, &alice, new_bundle("physio", &["read"]), now()),
        Err(BundleError::Forbidden)
    ));
    assert_eq!(list(&mut conn, &BundleQuery::default()).unwrap().total, 3);
}

#[test]
fn an_admin_creates_a_bundle_with_collapsed_ordered_permissions() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let root = user(&mut conn, "root", true);
    let created = create(
        &mut conn,
        &root,
        new_bundle("Physio", &["write", "read", "write"]),
        now(),
    )
    .unwrap();
    assert_eq!(created.name, "Physio");
    assert_eq!(created.description, "");
    assert_eq!(created.permissions, [Permission::Read, Permission::Write]);
    assert_eq!(get(&mut conn, created.id).unwrap(), created);
    let mut named = new_bundle(&"x".repeat(64), &["read"]);
    named.description = Field::Value("Sixty-four".to_owned());
    assert_eq!(
        create(&mut conn, &root, named, now()).unwrap().description,
        "Sixty-four"
    );
}

#[test]
fn bundle_field_errors_are_reported_together() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let root = user(&mut conn, "root", true);
    assert_eq!(
        fields(create(&mut conn, &root, NewBundle::default(), now())),
        ["name", "permissions"]
    );
    assert_eq!(
        fields(create(&mut conn, &root, new_bundle("", &[]), now())),
        ["name", "permissions"]
    );
    assert_eq!(
        fields(create(
            &mut conn,
            &root,
            new_bundle(&"x".repeat(65), &["read", "delete"]),
            now()
        )),
        ["name", "permissions"]
    );
    // Names are unique case-insensitively.
    assert_eq!(
        fields(create(
            &mut conn,
            &root,
            new_bundle("FRIEND", &["read"]),
            now()
        )),
        ["name"]
    );
    let mut invalid = new_bundle("ok", &["read"]);
    invalid.description = Field::Invalid("must be a string".to_owned());
    match create(&mut conn, &root, invalid, now()) {
        Err(BundleError::Invalid(errors)) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].field, "description");
            assert_eq!(errors[0].message, "must be a string");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(list(&mut conn, &BundleQuery::default()).unwrap().total, 3);
}
