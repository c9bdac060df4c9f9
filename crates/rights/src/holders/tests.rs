use storage::diesel::prelude::*;
use storage::schema::{organizations, users};

use super::*;
use crate::catalog::PRESET_MANAGER_ALIAS;
use crate::system::tests::{group, set_user_rights, store, user};
use crate::system::{effective, Principal};

fn catalog() -> Catalog {
    Catalog::shipped().unwrap_or_else(|_| panic!("the shipped catalog reads"))
}

fn principal(conn: &mut DbConn, id: &str) -> Principal {
    Principal {
        user_id: id.to_owned(),
        effective: effective(conn, id).unwrap(),
    }
}

fn num_id(conn: &mut DbConn, id: &str) -> i64 {
    users::table
        .filter(users::id.eq(id))
        .select(users::num_id)
        .first(conn)
        .unwrap()
}

fn spec(json: &str) -> Option<Given> {
    Some(serde_json::from_str(json).unwrap())
}

#[test]
fn only_root_adds_or_removes_root_and_a_refused_request_changes_nothing() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    for id in ["root", "manager", "alice"] {
        user(&mut conn, id);
    }
    set_user_rights(&mut conn, "root", r#"{"system.root":{}}"#);
    set_user_rights(&mut conn, "manager", r#"{"system.rightsmanagement":{}}"#);
    let manager = principal(&mut conn, "manager");
    let (alice, root, manager_id) = (
        num_id(&mut conn, "alice"),
        num_id(&mut conn, "root"),
        num_id(&mut conn, "manager"),
    );
    let grant = |id, rights: &str| RightsChange {
        id,
        version: 2,
        rights: spec(rights),
    };
    // The first element is fine, the second adds root to the manager: nothing is stored.
    let refused = change(
        &mut conn,
        &manager,
        Kind::User,
        vec![
            grant(alice, r#"{"system.search":{}}"#),
            grant(manager_id, r#"{"system.root":{}}"#),
        ],
        &catalog(),
    );
    assert!(matches!(refused, Err(HoldersError::NoSystemRight(ROOT))));
    assert_eq!(
        find(&mut conn, Kind::User, alice).unwrap().unwrap().version,
        1
    );
    let removed = change(
        &mut conn,
        &manager,
        Kind::User,
        vec![grant(root, "{}")],
        &catalog(),
    );
    assert!(matches!(removed, Err(HoldersError::NoSystemRight(ROOT))));
    // Keeping root where it is, while changing the rest, is no change of root.
    let kept = change(
        &mut conn,
        &manager,
        Kind::User,
        vec![grant(root, r#"{"system.root":{},"system.search":{}}"#)],
        &catalog(),
    )
    .unwrap();
    assert_eq!(kept[0].rights.0.len(), 2);
    let root_caller = principal(&mut conn, "root");
    let done = change(
        &mut conn,
        &root_caller,
        Kind::User,
        vec![grant(alice, r#"{"system.root":{}}"#)],
        &catalog(),
    )
    .unwrap();
    assert_eq!(done[0].version, 2);
    assert!(done[0].rights.0.contains_key(ROOT));
}

#[test]
fn the_alias_is_stored_canonically_and_unknown_names_are_right_not_found() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "root");
    user(&mut conn, "alice");
    set_user_rights(&mut conn, "root", r#"{"system.root":{}}"#);
    let caller = principal(&mut conn, "root");
    let alice = num_id(&mut conn, "alice");
    let unknown = change(
        &mut conn,
        &caller,
        Kind::User,
        vec![RightsChange {
            id: alice,
            version: 2,
            rights: spec(r#"{"read":{}}"#),
        }],
        &catalog(),
    );
    assert!(matches!(unknown, Err(HoldersError::RightNotFound(n)) if n == "read"));
    let done = change(
        &mut conn,
        &caller,
        Kind::User,
        vec![RightsChange {
            id: alice,
            version: 2,
            rights: spec(&format!(r#"{{"{PRESET_MANAGER_ALIAS}":{{}}}}"#)),
        }],
        &catalog(),
    )
    .unwrap();
    let names: Vec<&str> = done[0].rights.0.keys().map(String::as_str).collect();
    assert_eq!(names, ["system.rightpresetmanager"]);
    // Omitted rights keep the set; the version still counts.
    let kept = change(
        &mut conn,
        &caller,
        Kind::User,
        vec![RightsChange {
            id: alice,
            version: 3,
            rights: None,
        }],
        &catalog(),
    )
    .unwrap();
    assert_eq!((kept[0].version, kept[0].rights.0.len()), (3, 1));
    let stale = change(
        &mut conn,
        &caller,
        Kind::User,
        vec![RightsChange {
            id: alice,
            version: 3,
            rights: None,
        }],
        &catalog(),
    );
    assert!(matches!(
        stale,
        Err(HoldersError::VersionMismatch {
            provided: 3,
            expected: 4
        })
    ));
}

#[test]
fn unknown_ids_are_reported_only_to_callers_who_may_list() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "lister");
    user(&mut conn, "alice");
    set_user_rights(&mut conn, "lister", r#"{"system.group":{}}"#);
    group(&mut conn, "curators", "{}", &["alice"]);
    let curators: i64 = organizations::table
        .select(organizations::num_id)
        .first(&mut conn)
        .unwrap();
    let (lister, alice) = (
        principal(&mut conn, "lister"),
        principal(&mut conn, "alice"),
    );
    assert!(matches!(
        get(&mut conn, &lister, Kind::Group, 999),
        Err(HoldersError::NotFound { .. })
    ));
    assert!(matches!(
        get(&mut conn, &alice, Kind::Group, 999),
        Err(HoldersError::NoSystemRight("system.group"))
    ));
    // A member reads its own group; the lister reads it too.
    assert_eq!(
        get(&mut conn, &alice, Kind::Group, curators).unwrap().name,
        "curators"
    );
    assert!(get(&mut conn, &lister, Kind::Group, curators).is_ok());
    // Users: the lister of groups may not list users.
    assert!(matches!(
        list(&mut conn, &lister, Kind::User, Page::default()),
        Err(HoldersError::NoSystemRight("system.user"))
    ));
    let alice_id = num_id(&mut conn, "alice");
    let me = get(&mut conn, &alice, Kind::User, alice_id).unwrap();
    assert_eq!(me.groups.len(), 1);
    assert_eq!(me.groups[0].name, "curators");
}
