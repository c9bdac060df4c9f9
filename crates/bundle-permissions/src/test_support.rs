//! A store and users for the unit tests.

use auth_core::users::{create_user, NewUser};
use storage::{DatabaseUrl, DbConn};
use time::OffsetDateTime;

use crate::users::Caller;

pub(crate) fn store() -> storage::Pool {
    let url = DatabaseUrl::parse("sqlite::memory:").unwrap();
    storage::open_pool(&url, 1).unwrap()
}

pub(crate) fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-12-06 12:00:00 UTC)
}

/// A user `id` with username `id` and e-mail `<id>@example.org`; the caller it makes.
pub(crate) fn user(conn: &mut DbConn, id: &str, admin: bool) -> Caller {
    let user = create_user(
        conn,
        NewUser {
            id: id.to_owned(),
            username: id.to_owned(),
            email: format!("{id}@example.org"),
            password_hash: "unused".to_owned(),
            admin,
            description: None,
            website: None,
            gravatar: false,
            extra: None,
        },
        now(),
    )
    .unwrap();
    Caller::from_user(&user)
}

/// The id of a shipped bundle.
pub(crate) fn bundle_id(conn: &mut DbConn, name: &str) -> i64 {
    crate::bundles::find_by_name(conn, name)
        .unwrap()
        .unwrap()
        .id
}

/// A user reference by e-mail.
pub(crate) fn by_email(id: &str) -> crate::Field<crate::users::UserRef> {
    crate::Field::Value(crate::users::UserRef::Email(format!("{id}@example.org")))
}

/// `caller` asks for `bundle` on behalf of `allowed` over `target`'s data.
pub(crate) fn ask(
    conn: &mut DbConn,
    caller: &Caller,
    allowed: &str,
    target: &str,
    bundle: &str,
) -> Result<crate::requests::CreatedRequest, crate::BundleError> {
    let bundle = bundle_id(conn, bundle);
    crate::requests::create(
        conn,
        caller,
        crate::requests::NewRequest {
            user_target: by_email(target),
            user_allowed: by_email(allowed),
            bundle: crate::Field::Value(bundle),
            ..Default::default()
        },
        "https://id.example.org",
        now(),
    )
}

/// The field names of an `Invalid` outcome.
pub(crate) fn fields<T: std::fmt::Debug>(
    outcome: Result<T, crate::BundleError>,
) -> Vec<&'static str> {
    match outcome {
        Err(crate::BundleError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// The caller of an existing user.
pub(crate) fn user_caller(conn: &mut DbConn, id: &str) -> Caller {
    let user = auth_core::users::find_user(conn, id).unwrap().unwrap();
    Caller::from_user(&user)
}
