use super::*;
use crate::test_support::{app, message, pool, text, user};

#[test]
fn create_and_update_check_in_keyrock_order() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let mut conn = pool.get().unwrap();
    let app = app(&mut conn, &alice, "app");
    let empty = RoleFields {
        name: text(""),
        sets_read_only: true,
    };
    let refused = create(&mut conn, &bob, &app, &empty.clone().into());
    assert_eq!(message(refused), "User not allow to perform the action");
    assert_eq!(
        message(create(&mut conn, &alice, &app, &Given::Absent)),
        "Missing parameter role in body request"
    );
    assert_eq!(
        message(create(&mut conn, &alice, &app, &empty.clone().into())),
        "Missing parameter name in body request or empty name"
    );
    let role = create(
        &mut conn,
        &alice,
        &app,
        &RoleFields {
            name: text("r"),
            sets_read_only: false,
        }
        .into(),
    )
    .unwrap();

    let mut update = |who: &UserPrincipal, role_id: &str, cmd: RoleFields| {
        message(update(&mut conn, who, &app, role_id, &cmd.into()))
    };
    assert_eq!(
        update(&bob, &role.id, empty.clone()),
        "User not allow to perform the action"
    );
    assert_eq!(update(&alice, "nope", empty.clone()), "Role not found");
    assert_eq!(update(&alice, "provider", empty.clone()), "Not allowed");
    assert_eq!(
        update(&alice, &role.id, empty.clone()),
        "Cannot set empty name"
    );
    let read_only = RoleFields {
        name: Given::Null,
        ..empty
    };
    assert_eq!(
        update(&alice, &role.id, read_only),
        "Cannot set id or is_internal"
    );
}

#[test]
fn update_reports_a_changed_name_only_when_it_differs() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let app = app(&mut conn, &alice, "app");
    let named = |n: &str| {
        Given::Value(RoleFields {
            name: text(n),
            sets_read_only: false,
        })
    };
    let role = create(&mut conn, &alice, &app, &named("r")).unwrap();
    let same = update(&mut conn, &alice, &app, &role.id, &named("r")).unwrap();
    assert!(!same.anything_changed());
    let renamed = update(&mut conn, &alice, &app, &role.id, &named("s")).unwrap();
    assert_eq!(renamed.changed, vec!["name"]);
    assert_eq!(get(&mut conn, &alice, &app, &role.id).unwrap().name, "s");
}
