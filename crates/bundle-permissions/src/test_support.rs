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

/// A fresh PostgreSQL database, when `TESSERA_TEST_DATABASE_URL` names a server (CI sets
/// it); dropped again with the value.
pub(crate) struct PgStore {
    pub(crate) pool: Option<storage::Pool>,
    server: String,
    name: String,
}

impl PgStore {
    pub(crate) fn new() -> Option<PgStore> {
        use storage::diesel::RunQueryDsl;
        let server = std::env::var("TESSERA_TEST_DATABASE_URL").ok()?;
        let server = server.trim().to_owned();
        if server.is_empty() {
            return None;
        }
        let name = format!("tessera_bp_{}", auth_core::secrets::random_hex(16));
        let mut admin = DatabaseUrl::parse(&server).unwrap().connect().unwrap();
        storage::diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .unwrap();
        let url = DatabaseUrl::parse(&with_database(&server, &name)).unwrap();
        Some(PgStore {
            pool: Some(storage::open_pool(&url, 4).unwrap()),
            server,
            name,
        })
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        use storage::diesel::RunQueryDsl;
        self.pool.take();
        if let Ok(mut admin) = DatabaseUrl::parse(&self.server).unwrap().connect() {
            let _ = storage::diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// `postgres://user@host:port/db?params` with the database `name` instead of `db`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut url = format!("{}/{name}", &base[..path]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}
