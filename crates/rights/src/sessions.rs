//! easydb sessions (easydb-rights.md §4): started unauthenticated, authenticated by the
//! `easydb` method with a Tessera user's login and password, stored only as the SHA-256
//! digest of their token, and ending `lifetime` after their start or last login.

use auth_core::password::PasswordHasher;
use auth_core::secrets::{random_alnum, sha256_hex};
use auth_core::users::{self, User};
use auth_core::AuthError;
use storage::diesel;
use storage::diesel::prelude::*;
use storage::schema::{easydb_sessions, users as users_table};
use storage::{from_db_time, to_db_time, DbConn, Pool, StorageError};
use time::{Duration, OffsetDateTime};

use crate::catalog::RightsSpec;
use crate::holders::{self, Holder, HoldersError};
use crate::system::{self, Principal};

/// The frontend languages Tessera supports; the first is the default.
pub const LANGUAGES: [&str; 2] = ["en-US", "de-DE"];
/// The one authentication method.
pub const METHOD: &str = "easydb";
/// Token length: 43 alphanumeric characters, about 256 bits, URL-safe.
const TOKEN_CHARS: usize = 43;

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub language: String,
    /// The authenticated user's Keyrock id and when the login happened.
    pub login: Option<(String, OffsetDateTime)>,
    pub expires_at: OffsetDateTime,
}

/// Why a session call is refused; each names one easydb error code.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("language {0:?} is not supported")]
    LanguageNotFound(String),
    /// Unknown or expired token.
    #[error("no live session for this token")]
    SessionNotFound,
    /// A live session that nobody is logged into.
    #[error("the session is not authenticated")]
    NotAuthenticated,
    #[error("authentication method {0:?} is not allowed")]
    MethodNotAllowed(String),
    #[error("login or password is empty")]
    UsernameOrPasswordEmpty,
    #[error("login failed")]
    LoginFailed,
    #[error("the user is disabled")]
    LoginDisabled,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for SessionError {
    fn from(e: diesel::result::Error) -> Self {
        SessionError::Storage(e.into())
    }
}

impl From<AuthError> for SessionError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Storage(e) => SessionError::Storage(e),
            other => SessionError::Storage(StorageError::Internal(other.to_string())),
        }
    }
}

fn language(given: Option<&str>) -> Result<&'static str, SessionError> {
    match given {
        None => Ok(LANGUAGES[0]),
        Some(l) => LANGUAGES
            .into_iter()
            .find(|known| *known == l)
            .ok_or_else(|| SessionError::LanguageNotFound(l.to_owned())),
    }
}

/// Starts an unauthenticated session (§4.1) and returns its token, shown this once.
pub fn start(
    conn: &mut DbConn,
    requested_language: Option<&str>,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<(String, Session), SessionError> {
    let language = language(requested_language)?;
    let token = random_alnum(TOKEN_CHARS);
    let expires_at = now + lifetime;
    diesel::insert_into(easydb_sessions::table)
        .values((
            easydb_sessions::digest.eq(sha256_hex(&token)),
            easydb_sessions::language.eq(language),
            easydb_sessions::expires_at.eq(to_db_time(expires_at)),
            easydb_sessions::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok((
        token,
        Session {
            language: language.to_owned(),
            login: None,
            expires_at,
        },
    ))
}

/// The live session of `token` (§4.2); unknown and expired tokens alike are
/// [`SessionError::SessionNotFound`].
pub fn find(conn: &mut DbConn, token: &str, now: OffsetDateTime) -> Result<Session, SessionError> {
    if !storage::is_storable(token) {
        return Err(SessionError::SessionNotFound);
    }
    let row: Option<(
        String,
        Option<String>,
        Option<time::PrimitiveDateTime>,
        time::PrimitiveDateTime,
    )> = easydb_sessions::table
        .filter(easydb_sessions::digest.eq(sha256_hex(token)))
        .select((
            easydb_sessions::language,
            easydb_sessions::user_id,
            easydb_sessions::authenticated_at,
            easydb_sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    let (language, user, at, expires) = row.ok_or(SessionError::SessionNotFound)?;
    let expires_at = from_db_time(expires);
    if expires_at <= now {
        return Err(SessionError::SessionNotFound);
    }
    Ok(Session {
        language,
        login: user.zip(at.map(from_db_time)),
        expires_at,
    })
}

/// The user a live, authenticated session is logged into (its Keyrock id): all that
/// calls which check no system right need (one query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser(pub String);

/// The logged-in user of a live session (§1: every call but the session calls needs one).
pub fn session_user(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<SessionUser, SessionError> {
    let (user_id, _) = find(conn, token, now)?
        .login
        .ok_or(SessionError::NotAuthenticated)?;
    Ok(SessionUser(user_id))
}

/// The logged-in user of a live session with its effective system rights (two queries).
pub fn principal(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<Principal, SessionError> {
    let (session, user) = load(conn, token, now)?;
    let login = describe_loaded(conn, session, user)?
        .login
        .ok_or(SessionError::NotAuthenticated)?;
    Ok(Principal {
        user_id: login.user.keyrock_id,
        effective: login.effective,
    })
}

/// What the session object shows (§4.5), read from the store on every request.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub language: String,
    pub login: Option<LoggedIn>,
}

/// The logged-in part of a session object.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedIn {
    pub at: OffsetDateTime,
    /// The user with its own rights and its groups.
    pub user: Holder,
    /// Its effective system rights (§9).
    pub effective: RightsSpec,
}

/// The session object's content for a session just read or changed.
pub fn describe(conn: &mut DbConn, session: Session) -> Result<SessionView, SessionError> {
    let user = match &session.login {
        None => None,
        Some((user_id, _)) => users_table::table
            .filter(users_table::id.eq(user_id))
            .select(holders::user_columns())
            .first(conn)
            .optional()?,
    };
    describe_loaded(conn, session, user)
}

/// Reads the session of `token` with its object's content (§4.2), switching its language
/// when one is given: the session and its user in one query, its groups in another.
pub fn read_view(
    conn: &mut DbConn,
    token: &str,
    requested_language: Option<&str>,
    now: OffsetDateTime,
) -> Result<SessionView, SessionError> {
    let (mut session, user) = load(conn, token, now)?;
    if let Some(requested) = requested_language {
        session.language = set_language(conn, token, requested)?.to_owned();
    }
    describe_loaded(conn, session, user)
}

/// The live session of `token` and, when it is logged in, its user's row.
fn load(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<(Session, Option<holders::UserRow>), SessionError> {
    if !storage::is_storable(token) {
        return Err(SessionError::SessionNotFound);
    }
    #[allow(clippy::type_complexity)]
    let row: Option<(
        String,
        Option<String>,
        Option<time::PrimitiveDateTime>,
        time::PrimitiveDateTime,
        Option<holders::UserRow>,
    )> = easydb_sessions::table
        .left_join(users_table::table.on(easydb_sessions::user_id.eq(users_table::id.nullable())))
        .filter(easydb_sessions::digest.eq(sha256_hex(token)))
        .select((
            easydb_sessions::language,
            easydb_sessions::user_id,
            easydb_sessions::authenticated_at,
            easydb_sessions::expires_at,
            holders::user_columns().nullable(),
        ))
        .first(conn)
        .optional()?;
    let (language, user, at, expires, row) = row.ok_or(SessionError::SessionNotFound)?;
    let expires_at = from_db_time(expires);
    if expires_at <= now {
        return Err(SessionError::SessionNotFound);
    }
    let session = Session {
        language,
        login: user.zip(at.map(from_db_time)),
        expires_at,
    };
    Ok((session, row))
}

fn describe_loaded(
    conn: &mut DbConn,
    session: Session,
    user: Option<holders::UserRow>,
) -> Result<SessionView, SessionError> {
    let login = match session.login {
        None => None,
        Some((user_id, at)) => {
            // Deleted meanwhile: its sessions are gone with it.
            let row = user.ok_or(SessionError::SessionNotFound)?;
            let groups = holders::groups_with_rights(conn, &user_id).map_err(holders_error)?;
            let (refs, sets): (Vec<_>, Vec<_>) = groups.into_iter().unzip();
            let user = holders::user_with(row, refs).map_err(holders_error)?;
            let effective = system::merge(user.rights.clone(), sets);
            Some(LoggedIn {
                at,
                user,
                effective,
            })
        }
    };
    Ok(SessionView {
        language: session.language,
        login,
    })
}

fn holders_error(e: HoldersError) -> SessionError {
    match e {
        HoldersError::Storage(e) => SessionError::Storage(e),
        other => SessionError::Storage(StorageError::Internal(other.to_string())),
    }
}

/// Reads the session, switching its language when one is given (§4.2).
pub fn read(
    conn: &mut DbConn,
    token: &str,
    requested_language: Option<&str>,
    now: OffsetDateTime,
) -> Result<Session, SessionError> {
    let mut session = find(conn, token, now)?;
    if let Some(requested) = requested_language {
        session.language = set_language(conn, token, requested)?.to_owned();
    }
    Ok(session)
}

fn set_language(
    conn: &mut DbConn,
    token: &str,
    requested: &str,
) -> Result<&'static str, SessionError> {
    let language = language(Some(requested))?;
    diesel::update(easydb_sessions::table.filter(easydb_sessions::digest.eq(sha256_hex(token))))
        .set(easydb_sessions::language.eq(language))
        .execute(conn)?;
    Ok(language)
}

/// What `POST /api/v1/session/authenticate` carries; empty values count as absent.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// Comma-separated methods; absent means `easydb`.
    pub method: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
}

/// Logs a user into the session (§4.3), checks in the specified order: the token, the
/// method, empty login or password, the credentials (one answer whether the login is
/// unknown or the password wrong), a disabled user. A Keyrock legacy hash is upgraded on
/// success. The session's lifetime restarts; the token stays.
pub fn authenticate(
    pool: &Pool,
    hasher: &PasswordHasher,
    token: &str,
    credentials: Credentials,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<Session, SessionError> {
    let session = find(&mut *pool.get()?, token, now)?;
    if let Some(methods) = credentials.method.as_deref().filter(|m| !m.is_empty()) {
        if let Some(other) = methods.split(',').map(str::trim).find(|m| *m != METHOD) {
            return Err(SessionError::MethodNotAllowed(other.to_owned()));
        }
    }
    let non_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let (Some(login), Some(password)) = (
        non_empty(credentials.login),
        non_empty(credentials.password),
    ) else {
        return Err(SessionError::UsernameOrPasswordEmpty);
    };
    let user = find_login(&mut *pool.get()?, &login)?;
    let Some(user) = user else {
        hasher.verify_dummy(&password);
        return Err(SessionError::LoginFailed);
    };
    if !users::verify_password(pool, hasher, &user, &password)? {
        return Err(SessionError::LoginFailed);
    }
    if !user.enabled {
        return Err(SessionError::LoginDisabled);
    }
    let expires_at = now + lifetime;
    let mut conn = pool.get()?;
    let updated = diesel::update(
        easydb_sessions::table.filter(easydb_sessions::digest.eq(sha256_hex(token))),
    )
    .set((
        easydb_sessions::user_id.eq(&user.id),
        easydb_sessions::authenticated_at.eq(to_db_time(now)),
        easydb_sessions::expires_at.eq(to_db_time(expires_at)),
    ))
    .execute(&mut *conn)?;
    if updated == 0 {
        // Logged out and gone (the user deleted, the session expired) meanwhile.
        return Err(SessionError::SessionNotFound);
    }
    Ok(Session {
        language: session.language,
        login: Some((user.id, now)),
        expires_at,
    })
}

/// The user a login names: the e-mail address (case-insensitively) or, failing that, the
/// username exactly. Usernames are not unique in Keyrock: one shared by several users
/// names nobody.
fn find_login(conn: &mut DbConn, login: &str) -> Result<Option<User>, SessionError> {
    if !storage::is_storable(login) {
        return Ok(None);
    }
    if let Some(user) = users::find_user_by_email(conn, login)? {
        return Ok(Some(user));
    }
    let ids: Vec<String> = users_table::table
        .filter(users_table::username.eq(login))
        .select(users_table::id)
        .limit(2)
        .load(conn)?;
    match ids.as_slice() {
        [id] => Ok(users::find_user(conn, id)?),
        _ => Ok(None),
    }
}

/// Logs the session's user out (§4.4); the token stays valid, unauthenticated.
pub fn deauthenticate(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<Session, SessionError> {
    let mut session = find(conn, token, now)?;
    if session.login.is_some() {
        diesel::update(
            easydb_sessions::table.filter(easydb_sessions::digest.eq(sha256_hex(token))),
        )
        .set((
            easydb_sessions::user_id.eq(None::<String>),
            easydb_sessions::authenticated_at.eq(None::<time::PrimitiveDateTime>),
        ))
        .execute(conn)?;
        session.login = None;
    }
    Ok(session)
}

/// Deletes sessions that expired before `now` (they are refused anyway; this keeps the
/// table small). Returns how many were deleted.
pub fn purge_expired(conn: &mut DbConn, now: OffsetDateTime) -> Result<usize, SessionError> {
    Ok(diesel::delete(
        easydb_sessions::table.filter(easydb_sessions::expires_at.le(to_db_time(now))),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests;
