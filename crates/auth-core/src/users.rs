//! User accounts: the identity store every family reads.

use diesel::prelude::*;
use storage::schema::users;
use storage::{to_db_time, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::AuthError;

/// A stored user account. `password_hash` never leaves the domain crates.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub num_id: i64,
    pub id: String,
    pub username: String,
    pub email: String,
    pub email_key: String,
    pub password_hash: Option<String>,
    pub password_salt: Option<String>,
    pub date_password: Option<PrimitiveDateTime>,
    pub enabled: bool,
    pub admin: bool,
    pub description: Option<String>,
    pub website: Option<String>,
    pub gravatar: bool,
    pub image: String,
    pub extra: Option<String>,
    pub starters_tour_ended: bool,
    pub eidas_id: Option<String>,
    pub created_at: PrimitiveDateTime,
}

/// The key emails are unique and matched by: case-insensitive.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A user to create. The password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub admin: bool,
    pub description: Option<String>,
    pub website: Option<String>,
    pub gravatar: bool,
    pub extra: Option<String>,
}

/// Inserts a user. A taken email (or id) is `Conflict("email")` / `Conflict("id")`.
pub fn create_user(
    conn: &mut DbConn,
    new: NewUser,
    now: OffsetDateTime,
) -> Result<User, AuthError> {
    let key = email_key(&new.email);
    if find_user_by_email(conn, &new.email)?.is_some() {
        return Err(AuthError::Conflict("email"));
    }
    if find_user(conn, &new.id)?.is_some() {
        return Err(AuthError::Conflict("id"));
    }
    let now = to_db_time(now);
    let inserted = diesel::insert_into(users::table)
        .values((
            users::id.eq(&new.id),
            users::username.eq(&new.username),
            users::email.eq(&new.email),
            users::email_key.eq(&key),
            users::password_hash.eq(Some(&new.password_hash)),
            users::date_password.eq(Some(now)),
            users::enabled.eq(true),
            users::admin.eq(new.admin),
            users::description.eq(&new.description),
            users::website.eq(&new.website),
            users::gravatar.eq(new.gravatar),
            users::extra.eq(&new.extra),
            users::created_at.eq(now),
        ))
        .execute(conn);
    match inserted.map_err(storage::StorageError::from) {
        Ok(_) => {}
        // A concurrent insert of the same email won the race between the check and the insert.
        Err(storage::StorageError::Conflict(_)) => return Err(AuthError::Conflict("email")),
        Err(e) => return Err(e.into()),
    }
    find_user(conn, &new.id)?.ok_or(AuthError::NotFound)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> Result<Option<User>, AuthError> {
    if !storage::is_storable(id) {
        return Ok(None);
    }
    Ok(users::table
        .filter(users::id.eq(id))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Case-insensitive lookup by email.
pub fn find_user_by_email(conn: &mut DbConn, email: &str) -> Result<Option<User>, AuthError> {
    if !storage::is_storable(email) {
        return Ok(None);
    }
    Ok(users::table
        .filter(users::email_key.eq(email_key(email)))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

/// Every user, oldest first.
pub fn list_users(conn: &mut DbConn) -> Result<Vec<User>, AuthError> {
    Ok(users::table
        .order(users::num_id.asc())
        .select(User::as_select())
        .load(conn)?)
}

/// True when at least one admin account exists.
pub fn any_admin(conn: &mut DbConn) -> Result<bool, AuthError> {
    let n: i64 = users::table
        .filter(users::admin.eq(true))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub username: Option<String>,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub password_hash: Option<Option<String>>,
    pub password_salt: Option<Option<String>>,
    pub date_password: Option<Option<PrimitiveDateTime>>,
    pub description: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub gravatar: Option<bool>,
    pub extra: Option<Option<String>>,
}

impl UserChanges {
    fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.password_hash.is_none()
            && self.password_salt.is_none()
            && self.date_password.is_none()
            && self.description.is_none()
            && self.website.is_none()
            && self.gravatar.is_none()
            && self.extra.is_none()
    }
}

/// Applies `changes` to user `id`. A new email that another user has is `Conflict("email")`.
pub fn update_user(
    conn: &mut DbConn,
    id: &str,
    mut changes: UserChanges,
) -> Result<User, AuthError> {
    if let Some(email) = &changes.email {
        if let Some(other) = find_user_by_email(conn, email)? {
            if other.id != id {
                return Err(AuthError::Conflict("email"));
            }
        }
        changes.email_key = Some(email_key(email));
    }
    if !changes.is_empty() {
        let updated = diesel::update(users::table.filter(users::id.eq(id)))
            .set(&changes)
            .execute(conn)
            .map_err(storage::StorageError::from);
        match updated {
            Ok(0) => return Err(AuthError::NotFound),
            Ok(_) => {}
            Err(storage::StorageError::Conflict(_)) => return Err(AuthError::Conflict("email")),
            Err(e) => return Err(e.into()),
        }
    }
    find_user(conn, id)?.ok_or(AuthError::NotFound)
}

/// Replaces a user's password hash (used to upgrade legacy hashes after a login).
pub fn set_password_hash(conn: &mut DbConn, id: &str, hash: &str) -> Result<(), AuthError> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::password_hash.eq(Some(hash)),
            users::password_salt.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Deletes a user; its tokens, memberships and assignments go with it (foreign keys cascade).
/// Returns false when there was no such user.
pub fn delete_user(conn: &mut DbConn, id: &str) -> Result<bool, AuthError> {
    let n = diesel::delete(users::table.filter(users::id.eq(id))).execute(conn)?;
    Ok(n > 0)
}

/// Whether `password` is the user's. A legacy Keyrock hash that verifies is replaced by
/// bcrypt at once (keyrock.md 8), so every login path that calls this upgrades it (the
/// Keyrock API login, the password grant, the authorize form, the easydb login). A user
/// without a password costs the same time as one with a wrong password. No connection is
/// held while bcrypt runs.
pub fn verify_password(
    pool: &storage::Pool,
    hasher: &crate::password::PasswordHasher,
    user: &User,
    password: &str,
) -> Result<bool, AuthError> {
    let Some(hash) = user.password_hash.as_deref() else {
        hasher.verify_dummy(password);
        return Ok(false);
    };
    let stored = crate::password::StoredPassword::classify(hash, user.password_salt.as_deref());
    if !hasher.verify(password, &stored) {
        return Ok(false);
    }
    if stored.is_legacy() {
        let upgraded = hasher.hash(password)?;
        let mut conn = pool.get()?;
        set_password_hash(&mut conn, &user.id, &upgraded)?;
    }
    Ok(true)
}
