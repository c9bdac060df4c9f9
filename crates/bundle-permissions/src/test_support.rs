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
        now(),
    )
}

/// A `Mailer` that records what it sends, or fails every attempt while `fail` is set.
#[derive(Default)]
pub(crate) struct Capturing {
    pub(crate) fail: std::cell::Cell<bool>,
    pub(crate) sent: std::cell::RefCell<Vec<crate::mail::OutgoingMessage>>,
}

impl crate::mail::Mailer for Capturing {
    fn send(&self, message: &crate::mail::OutgoingMessage) -> Result<(), crate::mail::MailError> {
        if self.fail.get() {
            return Err(crate::mail::MailError::Delivery("smtp down".to_owned()));
        }
        self.sent.borrow_mut().push(message.clone());
        Ok(())
    }
}

impl Capturing {
    /// The token in the link line of the last message sent (under `PUBLIC_URL`, or a
    /// `redeem_url` with `token=`).
    pub(crate) fn last_token(&self) -> String {
        let sent = self.sent.borrow();
        let body = &sent.last().expect("nothing was sent").body;
        token_in(body)
    }
}

/// The public URL the tests deliver under.
pub(crate) const PUBLIC_URL: &str = "https://id.example.org";

/// The token of the link line in `body`.
pub(crate) fn token_in(body: &str) -> String {
    let prefix = format!("{PUBLIC_URL}/api/bundle_permission_request/");
    for line in body.lines() {
        if let Some(rest) = line.strip_prefix(&prefix) {
            return rest.trim_end_matches('/').to_owned();
        }
        if let Some((_, token)) = line.split_once("token=") {
            if line.starts_with("http") {
                return token.to_owned();
            }
        }
    }
    panic!("no link in the body")
}

/// Delivers with `mailer` under [`PUBLIC_URL`] and the service's backoff.
pub(crate) fn courier(mailer: &dyn crate::mail::Mailer) -> crate::mail::Courier<'_> {
    crate::mail::Courier {
        mailer,
        public_url: PUBLIC_URL,
        first_backoff: crate::mail::FIRST_BACKOFF,
    }
}

/// The first delivery attempt of a new request's message, which succeeds: the token the
/// e-mail carries.
pub(crate) fn send(conn: &mut DbConn, created: &crate::requests::CreatedRequest) -> String {
    let mailer = Capturing::default();
    let claimed = created.message.clone();
    assert_eq!(
        crate::mail::deliver(conn, &courier(&mailer), &claimed, now).unwrap(),
        crate::mail::Delivery::Sent
    );
    mailer.last_token()
}

/// A request asked and its e-mail sent.
pub(crate) struct Sent {
    pub(crate) request: crate::requests::PermissionRequest,
    pub(crate) token: String,
}

/// [`ask`], then the first delivery attempt (successful); the request as it is then.
pub(crate) fn ask_sent(
    conn: &mut DbConn,
    caller: &Caller,
    allowed: &str,
    target: &str,
    bundle: &str,
) -> Result<Sent, crate::BundleError> {
    let created = ask(conn, caller, allowed, target, bundle)?;
    let token = send(conn, &created);
    Ok(Sent {
        request: crate::requests::find(conn, created.request.id)?.expect("still stored"),
        token,
    })
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
