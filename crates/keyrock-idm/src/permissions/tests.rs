use super::*;
use crate::test_support::{app, message, pool, text, user};

/// Fields that break every rule at once; each step of the test repairs the first.
fn all_wrong() -> PermissionFields {
    PermissionFields {
        name: text(""),
        xml: text("<xml/>"),
        is_regex: Given::Unusable,
        use_authorization_service_header: Given::Unusable,
        regex_types: text("t"),
        sets_read_only: true,
        ..Default::default()
    }
}

#[test]
fn create_checks_rules_one_to_nine_in_order() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let app = app(&mut conn, &alice, "app");
    let mut create =
        |cmd: PermissionFields, level| message(create(&mut conn, &alice, &app, &cmd.into(), level));
    let mut cmd = all_wrong();
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "Missing parameter name in body request or empty name"
    );
    cmd.name = text("p");
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "Idm is not configured to create XACML advanced rules"
    );
    cmd.xml = Given::Absent;
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "Set action and resource"
    );
    cmd.action = text("GET");
    cmd.resource = text("/r");
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "is_regex attribute must be a boolean"
    );
    cmd.is_regex = Given::Value(true);
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "use_authorization_service_header attribute must be a boolean"
    );
    cmd.use_authorization_service_header = Given::Value(true);
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "if use_authorization_service_header is set, authorization_service_header needs to be set"
    );
    cmd.use_authorization_service_header = Given::Absent;
    cmd.authorization_service_header = text("h");
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "if authorization_service_header is set, use_authorization_service_header needs to be set"
    );
    cmd.authorization_service_header = Given::Absent;
    assert_eq!(
        create(cmd.clone(), PdpLevel::Basic),
        "Cannot set regex_types unless running in payload mode"
    );
    // The same request passes in payload mode; read-only names only matter to PATCH.
    let passed = super::create(&mut conn, &alice, &app, &cmd.into(), PdpLevel::Payload);
    assert_eq!(passed.unwrap().regex_types.as_deref(), Some("t"));
}

#[test]
fn update_checks_after_authorization_and_keeps_internal_permissions() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let mut conn = pool.get().unwrap();
    let app = app(&mut conn, &alice, "app");
    let base = PermissionFields {
        name: text("p"),
        action: text("GET"),
        resource: text("/r"),
        ..Default::default()
    };
    let perm = create(&mut conn, &alice, &app, &base.into(), PdpLevel::Basic).unwrap();
    let mut update = |who: &UserPrincipal, id: &str, cmd: PermissionFields| {
        message(update(
            &mut conn,
            who,
            &app,
            id,
            &cmd.into(),
            PdpLevel::Basic,
        ))
    };
    let mut cmd = all_wrong();
    assert_eq!(
        update(&bob, &perm.id, cmd.clone()),
        "User not allow to perform the action"
    );
    assert_eq!(update(&alice, "1", cmd.clone()), "Not allowed");
    assert_eq!(
        update(&alice, &perm.id, cmd.clone()),
        "Cannot set empty name"
    );
    cmd.name = Given::Absent;
    assert_eq!(
        update(&alice, &perm.id, cmd.clone()),
        "Idm is not configured to create XACML advanced rules"
    );
    cmd.xml = Given::Null;
    assert_eq!(
        update(&alice, &perm.id, cmd.clone()),
        "Cannot set id or is_internal"
    );
    cmd.sets_read_only = false;
    assert_eq!(
        update(&alice, &perm.id, cmd),
        "is_regex attribute must be a boolean"
    );
}

#[test]
fn update_applies_action_and_resource_only_as_a_pair_and_reports_changes() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let app = app(&mut conn, &alice, "app");
    let base = PermissionFields {
        name: text("p"),
        action: text("GET"),
        resource: text("/r"),
        ..Default::default()
    };
    let perm = create(&mut conn, &alice, &app, &base.into(), PdpLevel::Basic).unwrap();
    let half = PermissionFields {
        action: text("POST"),
        is_regex: Given::Null,
        ..Default::default()
    };
    let outcome = update(
        &mut conn,
        &alice,
        &app,
        &perm.id,
        &half.into(),
        PdpLevel::Basic,
    )
    .unwrap();
    assert!(!outcome.anything_changed(), "{:?}", outcome.changed);
    let pair = PermissionFields {
        action: text("POST"),
        resource: text("/s"),
        is_regex: Given::Value(true),
        ..Default::default()
    };
    let outcome = update(
        &mut conn,
        &alice,
        &app,
        &perm.id,
        &pair.into(),
        PdpLevel::Basic,
    )
    .unwrap();
    assert_eq!(outcome.changed, vec!["action", "resource", "is_regex"]);
    assert_eq!(outcome.after.action.as_deref(), Some("POST"));
}
