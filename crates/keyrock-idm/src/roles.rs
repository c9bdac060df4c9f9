//! `/v1/applications/{app}/roles` (keyrock.md 4.5). `provider` and `purchaser` always name
//! the internal roles, readable through any application and never editable.

use std::collections::BTreeSet;

use auth_core::principal::UserPrincipal;
use auth_core::secrets::random_uuid;
use diesel::prelude::*;
use storage::schema::roles;
use storage::{write_tx, DbConn};

use crate::authz::{self, Operation, INTERNAL_ROLES, NOT_ALLOWED};
use crate::input::{Given, Updated};
use crate::vocabulary::InternalPermission;
use crate::KeyrockError;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub is_internal: bool,
    pub oauth_client_id: String,
}

pub const NOT_FOUND: KeyrockError = KeyrockError::NotFound("Role not found");

/// The role named in the path: an internal one, or one of the application's (else 404).
pub fn find_in_application(
    conn: &mut DbConn,
    app_id: &str,
    role_id: &str,
) -> Result<Role, KeyrockError> {
    let mut query = roles::table
        .filter(roles::id.eq(role_id))
        .select(Role::as_select())
        .into_boxed();
    if !INTERNAL_ROLES.contains(&role_id) {
        query = query.filter(roles::oauth_client_id.eq(app_id));
    }
    query.first(conn).optional()?.ok_or(NOT_FOUND)
}

const MISSING_WRAPPER: KeyrockError =
    KeyrockError::Invalid("Missing parameter role in body request");

/// Members of the `role` object a PATCH may not name (keyrock.md 4.5).
pub const READ_ONLY_FIELDS: [&str; 2] = ["id", "is_internal"];

/// The `role` object of a create or PATCH request.
#[derive(Debug, Clone, Default)]
pub struct RoleFields {
    pub name: Given<String>,
    /// The request names `id` or `is_internal`, which cannot be set.
    pub sets_read_only: bool,
}

/// Keyrock's byte-wise descending id order, independent of the database's collation.
fn by_id_descending(mut list: Vec<Role>) -> Vec<Role> {
    list.sort_by(|a, b| b.id.as_bytes().cmp(a.id.as_bytes()));
    list
}

/// `GET .../roles` (perm 1, 3, 5 or 6): with perm 3 every role of the application plus the
/// internal ones; otherwise exactly the caller's changeable roles (2.4).
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<Role>, KeyrockError> {
    let access = authz::authorize(conn, caller, app_id, Operation::ListRoles)?;
    let visible: Vec<Role> = if access.has(InternalPermission::ManageRoles) {
        roles::table
            .filter(
                roles::oauth_client_id
                    .eq(app_id)
                    .or(roles::id.eq_any(INTERNAL_ROLES)),
            )
            .select(Role::as_select())
            .load(conn)?
    } else {
        let changeable: BTreeSet<String> = authz::changeable_roles(conn, &access)?;
        roles::table
            .filter(roles::id.eq_any(changeable.iter()))
            .select(Role::as_select())
            .load(conn)?
    };
    if visible.is_empty() {
        return Err(KeyrockError::NotFound("Roles not found"));
    }
    Ok(by_id_descending(visible))
}

/// `POST .../roles` (perm 3).
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    input: &Given<RoleFields>,
) -> Result<Role, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageRoles)?;
        let input = input.value().ok_or(MISSING_WRAPPER)?;
        let name = input.name.non_empty().ok_or(KeyrockError::Invalid(
            "Missing parameter name in body request or empty name",
        ))?;
        let role = Role {
            id: random_uuid(),
            name: name.to_owned(),
            is_internal: false,
            oauth_client_id: app_id.to_owned(),
        };
        diesel::insert_into(roles::table)
            .values((
                roles::id.eq(&role.id),
                roles::name.eq(&role.name),
                roles::is_internal.eq(false),
                roles::oauth_client_id.eq(app_id),
            ))
            .execute(c)?;
        Ok(role)
    })
}

/// `GET .../roles/{role}` (perm 3).
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
) -> Result<Role, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageRoles)?;
    find_in_application(conn, app_id, role_id)
}

/// `PATCH .../roles/{role}` (perm 3): the role after it, and whether its name changed.
pub fn update(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
    input: &Given<RoleFields>,
) -> Result<Updated<Role>, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageRoles)?;
        let mut role = find_in_application(c, app_id, role_id)?;
        if role.is_internal {
            return Err(NOT_ALLOWED);
        }
        let input = input.value().ok_or(MISSING_WRAPPER)?;
        if input.name.is_empty_text() {
            return Err(KeyrockError::Invalid("Cannot set empty name"));
        }
        if input.sets_read_only {
            return Err(KeyrockError::Invalid("Cannot set id or is_internal"));
        }
        let mut changed = Vec::new();
        if let Some(name) = input.name.value().filter(|n| **n != role.name) {
            diesel::update(roles::table.filter(roles::id.eq(&role.id)))
                .set(roles::name.eq(name))
                .execute(c)?;
            role.name.clone_from(name);
            changed.push("name");
        }
        Ok(Updated {
            after: role,
            changed,
        })
    })
}

/// `DELETE .../roles/{role}` (perm 3): its permission links and assignments go with it
/// (foreign keys cascade, one transaction).
pub fn delete(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageRoles)?;
        let role = find_in_application(c, app_id, role_id)?;
        if role.is_internal {
            return Err(NOT_ALLOWED);
        }
        diesel::delete(roles::table.filter(roles::id.eq(&role.id))).execute(c)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
