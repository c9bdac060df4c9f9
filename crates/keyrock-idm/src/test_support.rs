//! A world for the domain's unit tests: a migrated in-memory SQLite store and users.

use auth_core::principal::UserPrincipal;
use auth_core::users::{create_user, NewUser};
use storage::{DatabaseUrl, Pool};
use time::OffsetDateTime;

pub fn pool() -> Pool {
    let url = DatabaseUrl::parse("sqlite::memory:").expect("memory url");
    storage::open_pool(&url, 1).expect("in-memory store")
}

/// A stored user with the given name (email `<name>@example.org`), as a principal.
pub fn user(pool: &Pool, name: &str, admin: bool) -> UserPrincipal {
    let mut conn = pool.get().expect("connection");
    let new = NewUser {
        id: format!("{name}-id"),
        username: name.to_owned(),
        email: format!("{name}@example.org"),
        password_hash: "unused".to_owned(),
        admin,
        description: None,
        website: None,
        gravatar: false,
        extra: None,
    };
    let u = create_user(&mut conn, new, OffsetDateTime::now_utc()).expect("user");
    UserPrincipal::from(&u)
}

/// The message of a domain error, for comparing with Keyrock's text.
pub fn message<T: std::fmt::Debug>(result: Result<T, crate::KeyrockError>) -> String {
    result.expect_err("expected a refusal").to_string()
}

/// An application created by `owner` (who becomes its provider), by id.
pub fn app(conn: &mut storage::DbConn, owner: &UserPrincipal, name: &str) -> String {
    let cmd = crate::applications::NewApplication {
        name: crate::Given::Value(name.to_owned()),
        redirect_uri: crate::Given::Value("http://localhost/cb".to_owned()),
        ..Default::default()
    };
    crate::applications::create(conn, owner, &cmd.into(), OffsetDateTime::now_utc())
        .expect("application")
        .0
        .id
}

/// A text member sent with a value.
pub fn text(s: &str) -> crate::Given<String> {
    crate::Given::Value(s.to_owned())
}
