use super::*;
use crate::test_support::{message, pool, text, user};

#[test]
fn create_and_update_check_in_keyrock_order() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let bob = user(&pool, "bob", false);
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        message(create(&mut conn, &alice, &Given::Absent, now)),
        "Missing parameter organization in body request"
    );
    let unnamed = OrganizationFields {
        name: Given::Unusable,
        ..Default::default()
    };
    assert_eq!(
        message(create(&mut conn, &alice, &unnamed.into(), now)),
        "Missing parameter name in body request or empty name"
    );
    let fields = OrganizationFields {
        name: text("org"),
        description: text("d"),
        ..Default::default()
    };
    let org = create(&mut conn, &alice, &fields.into(), now).unwrap();
    assert_eq!(org.description.as_deref(), Some("d"));

    let all_wrong = OrganizationFields {
        name: text(""),
        sets_id: true,
        ..Default::default()
    };
    let mut update = |who: &UserPrincipal, cmd: OrganizationFields| {
        message(update(&mut conn, who, &org.id, &cmd.into()))
    };
    assert_eq!(
        update(&bob, all_wrong.clone()),
        "User not allow to perform the action"
    );
    assert_eq!(update(&alice, all_wrong.clone()), "Cannot set id");
    let cmd = OrganizationFields {
        sets_id: false,
        ..all_wrong
    };
    assert_eq!(update(&alice, cmd), "Cannot set empty name");
}

#[test]
fn update_reports_the_changed_fields() {
    let pool = pool();
    let alice = user(&pool, "alice", false);
    let mut conn = pool.get().unwrap();
    let now = OffsetDateTime::now_utc();
    let fields = OrganizationFields {
        name: text("org"),
        website: text("http://w"),
        ..Default::default()
    };
    let org = create(&mut conn, &alice, &fields.into(), now).unwrap();
    let change = OrganizationFields {
        name: text("org"),
        description: text("new"),
        website: Given::Null,
        ..Default::default()
    };
    let updated = update(&mut conn, &alice, &org.id, &change.into()).unwrap();
    assert_eq!(updated.changed, vec!["description"]);
    assert_eq!(updated.after.description.as_deref(), Some("new"));
    assert_eq!(
        updated.after.website.as_deref(),
        Some("http://w"),
        "null leaves it"
    );
}
