//! The check order of an assignment and the changeable-role rules of keyrock.md 2.4,
//! without HTTP.

use super::*;
use crate::roles::{self, RoleFields};
use crate::test_support::{app, message, pool, text, user};

fn role(conn: &mut DbConn, owner: &UserPrincipal, app: &str, name: &str) -> String {
    let fields = RoleFields {
        name: text(name),
        sets_read_only: false,
    };
    roles::create(conn, owner, app, &fields.into()).unwrap().id
}

#[test]
fn assignments_check_in_order_and_follow_the_changeable_role_rules() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let carol = user(&pool, "carol", false);
    let dave = user(&pool, "dave", false);
    let eve = user(&pool, "eve", false);
    let conn = &mut pool.get().unwrap();
    let app = app(conn, &alice, "app");
    let r1 = role(conn, &alice, &app, "r1");
    // A custom role carrying only permission 6: "assign only public owned roles".
    let r6 = role(conn, &alice, &app, "r6");
    crate::permissions::link(conn, &alice, &app, &r6, "6").unwrap();
    assign_role_to_user(conn, &alice, &app, &bob.id, "purchaser").unwrap();
    assign_role_to_user(conn, &alice, &app, &carol.id, &r6).unwrap();

    // Order: authorization, then the user, then the role, then changeability.
    let assign = |conn: &mut DbConn, who: &UserPrincipal, target: &str, role: &str| {
        assign_role_to_user(conn, who, &app, target, role)
    };
    assert_eq!(
        message(assign(conn, &eve, "nobody", "no-role")),
        "User not allow to perform the action"
    );
    assert_eq!(
        message(assign(conn, &alice, "nobody", "no-role")),
        "User not found"
    );
    assert_eq!(
        message(assign(conn, &alice, &dave.id, "no-role")),
        "Role not found"
    );

    // Provider (permissions 1-6): internal and application roles alike.
    assert!(assign(conn, &alice, &dave.id, "provider").is_ok());
    assert!(assign(conn, &alice, &dave.id, &r1).is_ok());
    // Purchaser (permission 5): every application role, no internal one.
    assert!(assign(conn, &bob, &eve.id, &r1).is_ok());
    assert_eq!(
        message(assign(conn, &bob, &eve.id, "purchaser")),
        "User not allow to perform the action"
    );
    // Permission 6 only: exactly the application roles the caller holds.
    assert!(assign(conn, &carol, &eve.id, &r6).is_ok());
    assert_eq!(
        message(assign(conn, &carol, &eve.id, &r1)),
        "User not allow to perform the action"
    );
    // What each caller may change is also what each may list.
    let access = authz::authorize(conn, &carol, &app, Operation::AssignRoles).unwrap();
    let changeable = authz::changeable_roles(conn, &access).unwrap();
    assert_eq!(changeable.into_iter().collect::<Vec<_>>(), vec![r6.clone()]);
    let access = authz::authorize(conn, &bob, &app, Operation::AssignRoles).unwrap();
    let changeable = authz::changeable_roles(conn, &access).unwrap();
    assert!(changeable.contains(&r1) && changeable.contains(&r6));
    assert!(!changeable.contains("provider") && !changeable.contains("purchaser"));
}
