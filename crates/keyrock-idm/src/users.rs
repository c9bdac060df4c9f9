//! `/v1/users` (keyrock.md 4.3): admin-only listing and creation, self-or-admin for the rest.

use auth_core::password::{fits_bcrypt, PasswordHasher};
use auth_core::principal::UserPrincipal;
use auth_core::users::{self, NewUser, User, UserChanges};
use storage::{to_db_time, write_tx, DbConn, Pool};
use time::OffsetDateTime;

use crate::error::PASSWORD_TOO_LONG;
use crate::input::{Given, Updated};
use crate::validate::{is_valid_email, MAX_USERNAME_CHARS};
use crate::KeyrockError;

const NOT_AUTHORIZED: KeyrockError =
    KeyrockError::Forbidden("User not authorized to perform action");
const NOT_FOUND: KeyrockError = KeyrockError::NotFound("User not found");

const MISSING_WRAPPER: KeyrockError =
    KeyrockError::Invalid("Missing parameter user in body request");
const TOO_LONG_USERNAME: KeyrockError =
    KeyrockError::Invalid("Username must be at most 64 characters");

/// A JSON document given as text (the user's free-form `extra`). Two are the same when they
/// parse to the same JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl JsonText {
    fn same_document(&self, stored: Option<&str>) -> bool {
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
        stored
            .and_then(parse)
            .is_some_and(|old| Some(old) == parse(&self.0))
    }
}

/// The `user` object of `POST /v1/users`.
#[derive(Debug, Clone, Default)]
pub struct CreateUser {
    pub username: Given<String>,
    pub email: Given<String>,
    pub password: Given<String>,
    pub description: Option<String>,
    pub website: Option<String>,
    pub gravatar: Option<bool>,
    pub extra: Option<JsonText>,
}

/// A create request that passed Keyrock's rules.
#[derive(Debug, Clone)]
struct ValidUser {
    username: String,
    email: String,
    password: String,
}

impl CreateUser {
    /// Keyrock's rules in order; the first failing one answers.
    fn check(&self) -> Result<ValidUser, KeyrockError> {
        let required = |g: &Given<String>, message| {
            g.non_empty()
                .map(str::to_owned)
                .ok_or(KeyrockError::Invalid(message))
        };
        let username = required(
            &self.username,
            "Missing parameter username in body request or empty username",
        )?;
        let password = required(
            &self.password,
            "Missing parameter password in body request or empty password",
        )?;
        let email = required(
            &self.email,
            "Missing parameter email in body request or empty email",
        )?;
        if username.chars().count() > MAX_USERNAME_CHARS {
            return Err(TOO_LONG_USERNAME);
        }
        if !is_valid_email(&email) {
            return Err(KeyrockError::Invalid("Email not valid"));
        }
        if !fits_bcrypt(&password) {
            return Err(KeyrockError::Invalid(PASSWORD_TOO_LONG));
        }
        Ok(ValidUser {
            username,
            email,
            password,
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
    input: &Given<CreateUser>,
    now: OffsetDateTime,
) -> Result<User, KeyrockError> {
    if !caller.admin {
        return Err(NOT_AUTHORIZED);
    }
    let request = input.value().ok_or(MISSING_WRAPPER)?;
    let input = request.check()?;
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
        description: request.description.clone(),
        website: request.website.clone(),
        gravatar: request.gravatar.unwrap_or(false),
        extra: request.extra.as_ref().map(|e| e.0.clone()),
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

/// Members of the `user` object a PATCH may not name (keyrock.md 4.3).
pub const READ_ONLY_FIELDS: [&str; 1] = ["id"];

/// The `user` object of `PATCH /v1/users/{id}`. `admin` and `enabled` are not part of it:
/// they are ignored (decision 23).
#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    /// The request names `id`, which cannot be set.
    pub sets_id: bool,
    pub username: Given<String>,
    pub email: Given<String>,
    pub password: Given<String>,
    pub description: Given<String>,
    pub website: Given<String>,
    pub gravatar: Given<bool>,
    pub extra: Given<JsonText>,
}

impl UpdateUser {
    /// Keyrock's rules in order; the first failing one answers.
    fn check(&self) -> Result<(), KeyrockError> {
        if self.sets_id {
            return Err(KeyrockError::Invalid("Cannot set id"));
        }
        let empties = [
            (&self.username, "Cannot set empty username"),
            (&self.email, "Cannot set empty email"),
            (&self.password, "Cannot set empty password"),
        ];
        for (given, message) in empties {
            if given.is_empty_text() {
                return Err(KeyrockError::Invalid(message));
            }
        }
        if self
            .username
            .value()
            .is_some_and(|u| u.chars().count() > MAX_USERNAME_CHARS)
        {
            return Err(TOO_LONG_USERNAME);
        }
        if self.email.value().is_some_and(|e| !is_valid_email(e)) {
            return Err(KeyrockError::Invalid("Email not valid"));
        }
        if self.password.value().is_some_and(|p| !fits_bcrypt(p)) {
            return Err(KeyrockError::Invalid(PASSWORD_TOO_LONG));
        }
        Ok(())
    }

    /// The stored columns this request changes (the password aside), and their names.
    fn plan(&self, before: &User) -> (UserChanges, Vec<&'static str>) {
        let mut changes = UserChanges::default();
        let mut changed = Vec::new();
        if let Some(v) = self.username.value().filter(|v| **v != before.username) {
            changes.username = Some(v.clone());
            changed.push("username");
        }
        if let Some(v) = self.email.value().filter(|v| **v != before.email) {
            changes.email = Some(v.clone());
            changed.push("email");
        }
        if let Some(v) = self
            .description
            .value()
            .filter(|v| Some(*v) != before.description.as_ref())
        {
            changes.description = Some(Some(v.clone()));
            changed.push("description");
        }
        if let Some(v) = self
            .website
            .value()
            .filter(|v| Some(*v) != before.website.as_ref())
        {
            changes.website = Some(Some(v.clone()));
            changed.push("website");
        }
        if let Some(v) = self.gravatar.value().filter(|v| **v != before.gravatar) {
            changes.gravatar = Some(*v);
            changed.push("gravatar");
        }
        if let Some(v) = self
            .extra
            .value()
            .filter(|v| !v.same_document(before.extra.as_deref()))
        {
            changes.extra = Some(Some(v.0.clone()));
            changed.push("extra");
        }
        (changes, changed)
    }
}

/// `PATCH /v1/users/{id}`. Takes the pool: a new password is hashed without holding a
/// connection. A changed password counts as a change (`"password"` in `changed`) but is
/// never shown.
pub fn update(
    pool: &Pool,
    hasher: &PasswordHasher,
    caller: &UserPrincipal,
    id: &str,
    input: &Given<UpdateUser>,
    now: OffsetDateTime,
) -> Result<Updated<User>, KeyrockError> {
    {
        let mut conn = pool.get()?;
        target(&mut conn, caller, id)?;
    }
    let input = input.value().ok_or(MISSING_WRAPPER)?;
    input.check()?;
    let password_hash = match input.password.value() {
        Some(p) => Some(hasher.hash(p)?),
        None => None,
    };
    let mut conn = pool.get()?;
    write_tx(&mut conn, |c| {
        let before = target(c, caller, id)?;
        let (mut changes, mut changed) = input.plan(&before);
        if let Some(hash) = password_hash {
            changes.password_hash = Some(Some(hash));
            changes.password_salt = Some(None);
            changes.date_password = Some(Some(to_db_time(now)));
            changed.push("password");
        }
        let after = users::update_user(c, id, changes)?;
        Ok(Updated { after, changed })
    })
}

#[cfg(test)]
mod tests;
