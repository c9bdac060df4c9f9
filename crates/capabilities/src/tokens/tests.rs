//! The validity window and the create rules at exact instants: `now` is passed in, so the
//! 5-second leeway is checked to the millisecond, which the black-box suites cannot do.

use auth_core::users::{create_user, NewUser};
use storage::{open_pool, DatabaseUrl, Pool};
use time::macros::datetime;

use super::*;
use crate::albums;

const T0: OffsetDateTime = datetime!(2026-01-01 12:00:00 UTC);

fn store() -> (Pool, KheopsPrincipal) {
    let pool = open_pool(&DatabaseUrl::parse("sqlite::memory:").unwrap(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    let user = create_user(
        &mut conn,
        NewUser {
            id: "jane".into(),
            username: "Jane Doe".into(),
            email: "jane@example.org".into(),
            password_hash: "x".into(),
            admin: false,
            description: None,
            website: None,
            gravatar: false,
            extra: None,
        },
        T0,
    )
    .unwrap();
    drop(conn);
    (pool, KheopsPrincipal::User(UserInfo::from(&user)))
}

/// A create command from form pairs (booleans spelled `true`).
fn form(pairs: &[(&str, &str)]) -> CreateCapability {
    let mut cmd = CreateCapability::default();
    for (name, value) in pairs {
        let text = Some((*value).to_owned());
        match *name {
            "title" => cmd.title = text,
            "scope_type" => cmd.scope_type = text,
            "album" => cmd.album = text,
            "not_before_time" => cmd.not_before_time = text,
            "expiration_time" => cmd.expiration_time = text,
            "read_permission" => cmd.read_permission = Ok(Some(*value == "true")),
            other => panic!("no test mapping for {other}"),
        }
    }
    cmd
}

fn usable_at(conn: &mut DbConn, secret: &str, at: OffsetDateTime) -> bool {
    let capability = find_by_secret(conn, secret).unwrap().unwrap();
    usable_creator(conn, &capability, at).unwrap().is_some()
}

#[test]
fn the_validity_window_has_five_seconds_of_leeway_on_both_ends() {
    let (pool, jane) = store();
    let conn = &mut pool.get().unwrap();
    let created = create(
        conn,
        &jane,
        form(&[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", "2026-01-01T13:00:00Z"),
            ("expiration_time", "2026-01-01T14:00:00Z"),
        ]),
        Lifetimes::default(),
        T0,
    )
    .unwrap();
    let secret = created.secret;
    let ms = Duration::milliseconds;
    let nbf = datetime!(2026-01-01 13:00:00 UTC);
    let exp = datetime!(2026-01-01 14:00:00 UTC);
    assert!(!usable_at(conn, &secret, nbf - LEEWAY - ms(1)));
    assert!(usable_at(conn, &secret, nbf - LEEWAY));
    assert!(usable_at(conn, &secret, exp + LEEWAY));
    assert!(!usable_at(conn, &secret, exp + LEEWAY + ms(1)));
    // Revocation ends it at once, leeway or not.
    revoke(conn, &jane, &created.view.capability.id, nbf).unwrap();
    assert!(!usable_at(conn, &secret, nbf + ms(1)));
}

#[test]
fn the_maximum_lifetime_has_five_seconds_of_tolerance() {
    let (pool, jane) = store();
    let conn = &mut pool.get().unwrap();
    let lifetimes = Lifetimes {
        default: Duration::hours(1),
        max: Duration::hours(2),
    };
    let mut at = |expiration: &str| {
        create(
            conn,
            &jane,
            form(&[
                ("title", "t"),
                ("scope_type", "user"),
                ("expiration_time", expiration),
            ]),
            lifetimes,
            T0,
        )
    };
    assert!(at("2026-01-01T14:00:05Z").is_ok());
    match at("2026-01-01T14:00:05.001Z") {
        Err(KheopsError::BadForm(d)) => assert_eq!(
            d,
            "'expiration_time' exceeds the maximum lifetime of 7200 seconds"
        ),
        other => panic!("{other:?}"),
    }
    // Defaults: not before = issue time, expiration = issue time + default lifetime.
    let created = create(
        conn,
        &jane,
        form(&[("title", "t"), ("scope_type", "USER")]),
        lifetimes,
        T0,
    )
    .unwrap();
    let c = &created.view.capability;
    assert_eq!(c.not_before_time, to_db_time(T0));
    assert_eq!(c.issued_at_time, to_db_time(T0));
    assert_eq!(c.expiration_time, to_db_time(T0 + Duration::hours(1)));
    assert_eq!(c.scope_type, "user");
}

#[test]
fn an_album_token_dies_with_its_album_when_the_last_member_leaves() {
    let (pool, jane) = store();
    let conn = &mut pool.get().unwrap();
    let albums::AlbumView::Full { album, .. } = albums::create(
        conn,
        &jane,
        albums::AlbumForm {
            name: Some("Study".into()),
            ..Default::default()
        },
        T0,
    )
    .unwrap() else {
        panic!("a member sees the full album");
    };
    let created = create(
        conn,
        &jane,
        form(&[
            ("title", "viewer"),
            ("scope_type", "album"),
            ("album", &album.id),
            ("read_permission", "true"),
        ]),
        Lifetimes::default(),
        T0,
    )
    .unwrap();
    assert!(usable_at(conn, &created.secret, T0));
    albums::remove_member(conn, &jane, &album.id, "jane", T0).unwrap();
    assert!(find_by_secret(conn, &created.secret).unwrap().is_none());
    assert_eq!(albums::name_of(conn, &album.id).unwrap(), None);
}
