//! Browser sessions (keyrock.md 5.3): a random id in an `HttpOnly` cookie, stored only as
//! its SHA-256 digest, for `TESSERA_SESSION_LIFETIME`.

use diesel::prelude::*;
use storage::schema::browser_sessions;
use storage::{from_db_time, to_db_time, DbConn};
use time::{Duration, OffsetDateTime};

use crate::secrets::{random_hex, sha256_hex};
use crate::AuthError;

/// 256 random bits.
const SESSION_CHARS: usize = 64;

/// Starts a session for the user and returns its id, shown this once (in the cookie).
pub fn start(
    conn: &mut DbConn,
    user_id: &str,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<String, AuthError> {
    let id = random_hex(SESSION_CHARS);
    diesel::insert_into(browser_sessions::table)
        .values((
            browser_sessions::digest.eq(sha256_hex(&id)),
            browser_sessions::user_id.eq(user_id),
            browser_sessions::expires_at.eq(to_db_time(now + lifetime)),
            browser_sessions::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// The user of a live session.
pub fn user_of(
    conn: &mut DbConn,
    id: &str,
    now: OffsetDateTime,
) -> Result<Option<String>, AuthError> {
    let row: Option<(String, time::PrimitiveDateTime)> = browser_sessions::table
        .filter(browser_sessions::digest.eq(sha256_hex(id)))
        .select((browser_sessions::user_id, browser_sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(user, expires_at)| (from_db_time(expires_at) > now).then_some(user)))
}

/// Ends a session; false when there was none.
pub fn end(conn: &mut DbConn, id: &str) -> Result<bool, AuthError> {
    let n =
        diesel::delete(browser_sessions::table.filter(browser_sessions::digest.eq(sha256_hex(id))))
            .execute(conn)?;
    Ok(n > 0)
}

/// Deletes sessions that expired before `now`.
pub fn purge_expired(conn: &mut DbConn, now: OffsetDateTime) -> Result<usize, AuthError> {
    Ok(diesel::delete(
        browser_sessions::table.filter(browser_sessions::expires_at.lt(to_db_time(now))),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_live_their_lifetime_and_end() {
        let url = storage::DatabaseUrl::parse("sqlite::memory:").unwrap();
        let pool = storage::open_pool(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let now = OffsetDateTime::now_utc();
        let user = crate::users::create_user(
            &mut conn,
            crate::users::NewUser {
                id: "u1".into(),
                username: "s".into(),
                email: "s@test.com".into(),
                password_hash: "$2b$04$x".into(),
                admin: false,
                description: None,
                website: None,
                gravatar: false,
                extra: None,
            },
            now,
        )
        .unwrap();
        let id = start(&mut conn, &user.id, now, Duration::seconds(60)).unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(
            user_of(&mut conn, &id, now).unwrap().as_deref(),
            Some(user.id.as_str())
        );
        assert_eq!(
            user_of(&mut conn, &id, now + Duration::seconds(61)).unwrap(),
            None
        );
        assert_eq!(user_of(&mut conn, "other", now).unwrap(), None);
        let stored: Vec<String> = browser_sessions::table
            .select(browser_sessions::digest)
            .load(&mut conn)
            .unwrap();
        assert_eq!(stored, vec![sha256_hex(&id)], "only the digest is stored");
        assert!(end(&mut conn, &id).unwrap());
        assert_eq!(user_of(&mut conn, &id, now).unwrap(), None);
    }
}
