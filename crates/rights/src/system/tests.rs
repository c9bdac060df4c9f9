use std::collections::BTreeMap;

use auth_core::users::{create_user, NewUser};
use storage::diesel::prelude::*;
use storage::schema::{organizations, user_organizations, users};
use storage::{DatabaseUrl, DbConn};
use time::OffsetDateTime;

use super::*;

pub(crate) fn store() -> storage::Pool {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    storage::open_pool(&url, 1).unwrap()
}

pub(crate) fn user(conn: &mut DbConn, id: &str) {
    create_user(
        conn,
        NewUser {
            id: id.to_owned(),
            username: id.to_owned(),
            email: format!("{id}@example.org"),
            password_hash: "unused".to_owned(),
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

pub(crate) fn set_user_rights(conn: &mut DbConn, id: &str, json: &str) {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::system_rights.eq(json))
        .execute(conn)
        .unwrap();
}

pub(crate) fn group(conn: &mut DbConn, id: &str, json: &str, members: &[&str]) {
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id),
            organizations::name.eq(id),
            organizations::created_at.eq(storage::to_db_time(OffsetDateTime::now_utc())),
            organizations::system_rights.eq(json),
        ))
        .execute(conn)
        .unwrap();
    for (i, member) in members.iter().enumerate() {
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(*member),
                user_organizations::organization_id.eq(id),
                user_organizations::role.eq(if i == 0 { "owner" } else { "member" }),
            ))
            .execute(conn)
            .unwrap();
    }
}

fn names(spec: &RightsSpec) -> Vec<&str> {
    spec.0.keys().map(String::as_str).collect()
}

#[test]
fn a_new_user_has_no_system_rights_at_version_one() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice");
    let stored = user_rights(&mut conn, "alice").unwrap();
    assert_eq!(stored.version, 1);
    assert!(stored.rights.0.is_empty());
    assert!(matches!(
        user_rights(&mut conn, "nobody"),
        Err(SystemRightsError::UserNotFound(_))
    ));
}

#[test]
fn effective_rights_unite_the_user_and_its_groups_and_merge_parameters() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice");
    user(&mut conn, "bob");
    set_user_rights(
        &mut conn,
        "alice",
        r#"{"system.user":{"create":false,"edit_system_rights":false},"system.search":{}}"#,
    );
    group(
        &mut conn,
        "curators",
        r#"{"system.user":{"create":true,"hide_frontend_app":true},"system.rightpresetmanager":{}}"#,
        &["alice"],
    );
    group(
        &mut conn,
        "others",
        r#"{"system.rightsmanagement":{}}"#,
        &["bob"],
    );
    let alice = effective(&mut conn, "alice").unwrap();
    assert_eq!(
        names(&alice),
        ["system.rightpresetmanager", "system.search", "system.user"]
    );
    let expected: BTreeMap<String, Given> = [
        ("create", Given::Bool(true)),
        ("edit_system_rights", Given::Bool(false)),
        ("hide_frontend_app", Given::Bool(true)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(alice.0["system.user"], Given::Map(expected));
    // Another group's rights stay with its members.
    assert_eq!(
        names(&effective(&mut conn, "bob").unwrap()),
        ["system.rightsmanagement"]
    );
}

#[test]
fn checks_pass_on_the_right_on_root_and_on_the_alias() {
    let spec = |names: &[&str]| {
        RightsSpec(
            names
                .iter()
                .map(|n| ((*n).to_owned(), Given::Map(BTreeMap::new())))
                .collect(),
        )
    };
    assert!(holds(&spec(&[PRESET_MANAGER]), PRESET_MANAGER));
    assert!(holds(
        &spec(&[PRESET_MANAGER]),
        crate::catalog::PRESET_MANAGER_ALIAS
    ));
    assert!(holds(
        &spec(&[crate::catalog::PRESET_MANAGER_ALIAS]),
        PRESET_MANAGER
    ));
    assert!(holds(&spec(&[ROOT]), "system.rightsmanagement"));
    assert!(!holds(&spec(&["system.search"]), "system.rightsmanagement"));
    assert!(!holds(&spec(&[]), ROOT));
}

#[test]
fn a_stored_set_that_does_not_read_is_an_error_not_an_empty_set() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice");
    set_user_rights(&mut conn, "alice", "[1,2]");
    assert!(matches!(
        effective(&mut conn, "alice"),
        Err(SystemRightsError::Corrupt(_))
    ));
}

#[test]
fn a_user_created_as_root_holds_it_at_version_one() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "admin");
    create_as_root(&mut conn, "admin").unwrap();
    let stored = user_rights(&mut conn, "admin").unwrap();
    assert_eq!(names(&stored.rights), [ROOT]);
    assert_eq!(stored.version, 1);
    assert!(holds(
        &effective(&mut conn, "admin").unwrap(),
        PRESET_MANAGER
    ));
}
