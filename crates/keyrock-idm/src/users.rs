//! `/v1/users` (keyrock.md 4.3): admin-only listing and creation, self-or-admin for the rest.

use auth_core::password::{fits_bcrypt, PasswordHasher};
use auth_core::principal::UserPrincipal;
use auth_core::users::{self, NewUser, User, UserChanges};
use serde_json::{Map, Value};
use storage::{to_db_time, write_tx, DbConn, Pool};
use time::OffsetDateTime;

use crate::error::PASSWORD_TOO_LONG;
use crate::validate::{is_valid_email, MAX_USERNAME_CHARS};
use crate::KeyrockError;

const NOT_AUTHORIZED: KeyrockError =
    KeyrockError::Forbidden("User not authorized to perform action");
const NOT_FOUND: KeyrockError = KeyrockError::NotFound("User not found");

/// A validated `POST /v1/users` body.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub email: String,
    pub password: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub gravatar: bool,
    pub extra: Option<Value>,
}

fn wrapper<'a>(
    body: &'a Value,
    key: &str,
    message: &'static str,
) -> Result<&'a Map<String, Value>, KeyrockError> {
    body.get(key)
        .and_then(Value::as_object)
        .ok_or(KeyrockError::BadRequest(message))
}

fn non_empty_str(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn opt_str(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl CreateUser {
    /// Checks the body in Keyrock's order; the first failing rule answers.
    pub fn from_body(body: &Value) -> Result<Self, KeyrockError> {
        let user = wrapper(body, "user", "Missing parameter user in body request")?;
        let username = non_empty_str(user, "username").ok_or(KeyrockError::BadRequest(
            "Missing parameter username in body request or empty username",
        ))?;
        let password = non_empty_str(user, "password").ok_or(KeyrockError::BadRequest(
            "Missing parameter password in body request or empty password",
        ))?;
        let email = non_empty_str(user, "email").ok_or(KeyrockError::BadRequest(
            "Missing parameter email in body request or empty email",
        ))?;
        if username.chars().count() > MAX_USERNAME_CHARS {
            return Err(KeyrockError::BadRequest(
                "Username must be at most 64 characters",
            ));
        }
        if !is_valid_email(&email) {
            return Err(KeyrockError::BadRequest("Email not valid"));
        }
        if !fits_bcrypt(&password) {
            return Err(KeyrockError::BadRequest(PASSWORD_TOO_LONG));
        }
        Ok(CreateUser {
            username,
            email,
            password,
            description: opt_str(user, "description"),
            website: opt_str(user, "website"),
            gravatar: user
                .get("gravatar")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            extra: user.get("extra").filter(|v| !v.is_null()).cloned(),
        })
    }
}

/// `GET /v1/users`.
pub fn list(conn: &mut DbConn, caller: &UserPrincipal) -> Result<Vec<User>, KeyrockError> {
    if !caller.admin {
        return Err(NOT_AUTHORIZED);
    }
    let all = users::list_users(conn)?;
    if all.is_empty() {
        return Err(KeyrockError::NotFound("Users not found"));
    }
    Ok(all)
}

/// `POST /v1/users`. Takes the pool: the password is hashed before a connection is taken.
pub fn create(
    pool: &Pool,
    hasher: &PasswordHasher,
    caller: &UserPrincipal,
    body: &Value,
    now: OffsetDateTime,
) -> Result<User, KeyrockError> {
    if !caller.admin {
        return Err(NOT_AUTHORIZED);
    }
    let input = CreateUser::from_body(body)?;
    {
        // Fail fast on a taken email before spending a bcrypt hash on it.
        let mut conn = pool.get()?;
        if users::find_user_by_email(&mut conn, &input.email)?.is_some() {
            return Err(KeyrockError::Conflict("Email already used"));
        }
    }
    let password_hash = hasher.hash(&input.password)?;
    let mut conn = pool.get()?;
    let new = NewUser {
        id: auth_core::secrets::random_uuid(),
        username: input.username,
        email: input.email,
        password_hash,
        admin: false,
        description: input.description,
        website: input.website,
        gravatar: input.gravatar,
        extra: input.extra.map(|v| v.to_string()),
    };
    write_tx(&mut conn, |c| Ok(users::create_user(c, new, now)?))
}

/// Finds the target user, then checks that the caller is that user or an admin.
fn target(conn: &mut DbConn, caller: &UserPrincipal, id: &str) -> Result<User, KeyrockError> {
    let user = users::find_user(conn, id)?.ok_or(NOT_FOUND)?;
    if caller.id != user.id && !caller.admin {
        return Err(NOT_AUTHORIZED);
    }
    Ok(user)
}

/// `GET /v1/users/{id}`.
pub fn get(conn: &mut DbConn, caller: &UserPrincipal, id: &str) -> Result<User, KeyrockError> {
    target(conn, caller, id)
}

/// `DELETE /v1/users/{id}`: the user's tokens, memberships and assignments go with it.
pub fn delete(conn: &mut DbConn, caller: &UserPrincipal, id: &str) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        target(c, caller, id)?;
        users::delete_user(c, id)?;
        Ok(())
    })
}

/// A validated `PATCH /v1/users/{id}` body. `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub gravatar: Option<bool>,
    pub extra: Option<Value>,
}

impl UpdateUser {
    /// Checks the body in Keyrock's order. `admin` and `enabled` are ignored (decision 23).
    pub fn from_body(body: &Value) -> Result<Self, KeyrockError> {
        let user = wrapper(body, "user", "Missing parameter user in body request")?;
        if user.contains_key("id") {
            return Err(KeyrockError::BadRequest("Cannot set id"));
        }
        let present = |key: &str| user.get(key).filter(|v| !v.is_null());
        let empty = |key: &str| present(key).is_some_and(|v| v.as_str() == Some(""));
        if empty("username") {
            return Err(KeyrockError::BadRequest("Cannot set empty username"));
        }
        if empty("email") {
            return Err(KeyrockError::BadRequest("Cannot set empty email"));
        }
        if empty("password") {
            return Err(KeyrockError::BadRequest("Cannot set empty password"));
        }
        let username = present("username")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if username
            .as_ref()
            .is_some_and(|u| u.chars().count() > MAX_USERNAME_CHARS)
        {
            return Err(KeyrockError::BadRequest(
                "Username must be at most 64 characters",
            ));
        }
        let email = present("email").and_then(Value::as_str).map(str::to_owned);
        if email.as_ref().is_some_and(|e| !is_valid_email(e)) {
            return Err(KeyrockError::BadRequest("Email not valid"));
        }
        let password = present("password")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if password.as_deref().is_some_and(|p| !fits_bcrypt(p)) {
            return Err(KeyrockError::BadRequest(PASSWORD_TOO_LONG));
        }
        Ok(UpdateUser {
            username,
            email,
            password,
            description: present("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            website: present("website")
                .and_then(Value::as_str)
                .map(str::to_owned),
            gravatar: present("gravatar").and_then(Value::as_bool),
            extra: present("extra").cloned(),
        })
    }
}

/// Which visible fields a PATCH changed, in Keyrock's field names.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    pub user: User,
    pub changed: Vec<&'static str>,
    /// True when only the password changed (Keyrock answers `{"values_updated":{}}`).
    pub password_changed: bool,
}

/// `PATCH /v1/users/{id}`. Takes the pool: a new password is hashed without holding a connection.
pub fn update(
    pool: &Pool,
    hasher: &PasswordHasher,
    caller: &UserPrincipal,
    id: &str,
    body: &Value,
    now: OffsetDateTime,
) -> Result<UpdateOutcome, KeyrockError> {
    {
        let mut conn = pool.get()?;
        target(&mut conn, caller, id)?;
    }
    let input = UpdateUser::from_body(body)?;
    let password_hash = match &input.password {
        Some(p) => Some(hasher.hash(p)?),
        None => None,
    };
    let mut conn = pool.get()?;
    write_tx(&mut conn, |c| {
        let before = target(c, caller, id)?;
        let mut changes = UserChanges::default();
        let mut changed = Vec::new();
        if let Some(v) = input.username.filter(|v| *v != before.username) {
            changes.username = Some(v);
            changed.push("username");
        }
        if let Some(v) = input.email.filter(|v| *v != before.email) {
            changes.email = Some(v);
            changed.push("email");
        }
        if let Some(v) = input
            .description
            .filter(|v| Some(v) != before.description.as_ref())
        {
            changes.description = Some(Some(v));
            changed.push("description");
        }
        if let Some(v) = input.website.filter(|v| Some(v) != before.website.as_ref()) {
            changes.website = Some(Some(v));
            changed.push("website");
        }
        if let Some(v) = input.gravatar.filter(|v| *v != before.gravatar) {
            changes.gravatar = Some(v);
            changed.push("gravatar");
        }
        if let Some(v) = input.extra {
            let stored_before = before
                .extra
                .as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok());
            if stored_before.as_ref() != Some(&v) {
                changes.extra = Some(Some(v.to_string()));
                changed.push("extra");
            }
        }
        let password_changed = password_hash.is_some();
        if let Some(hash) = password_hash {
            changes.password_hash = Some(Some(hash));
            changes.password_salt = Some(None);
            changes.date_password = Some(Some(to_db_time(now)));
        }
        let user = users::update_user(c, id, changes)?;
        Ok(UpdateOutcome {
            user,
            changed,
            password_changed,
        })
    })
}

#[cfg(test)]
mod tests;
