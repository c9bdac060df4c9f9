//! Role assignments in an application: to users (keyrock.md 4.8) and to the owners or
//! members of organizations (4.9), limited to the caller's changeable roles (2.4).

use auth_core::principal::UserPrincipal;
use auth_core::users;
use diesel::prelude::*;
use storage::schema::{organizations, role_assignments, roles};
use storage::{write_tx, DbConn};

use crate::authz::{self, AppAccess, Operation, INTERNAL_ROLES, NOT_PERMITTED};
use crate::KeyrockError;

const NO_ASSIGNMENTS: KeyrockError = KeyrockError::NotFound("Assignments not found");

/// A direct role assignment of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAssignment {
    pub user_id: String,
    pub role_id: String,
    pub oauth_client_id: String,
}

/// A role assignment to the owners or members of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationAssignment {
    pub organization_id: String,
    pub role_id: String,
    pub role_organization: String,
    pub oauth_client_id: String,
}

/// `provider` and `purchaser` always name the internal roles; any other role must belong
/// to the application.
pub fn resolve_role(
    conn: &mut DbConn,
    app_id: &str,
    role_id: &str,
) -> Result<String, KeyrockError> {
    if INTERNAL_ROLES.contains(&role_id) {
        return Ok(role_id.to_owned());
    }
    roles::table
        .filter(roles::id.eq(role_id))
        .filter(roles::oauth_client_id.eq(app_id))
        .select(roles::id)
        .first::<String>(conn)
        .optional()?
        .ok_or(KeyrockError::NotFound("Role not found"))
}

fn require_user(conn: &mut DbConn, user_id: &str) -> Result<(), KeyrockError> {
    users::find_user(conn, user_id)?
        .map(|_| ())
        .ok_or(KeyrockError::NotFound("User not found"))
}

fn require_organization(conn: &mut DbConn, org_id: &str) -> Result<(), KeyrockError> {
    let found: i64 = organizations::table
        .filter(organizations::id.eq(org_id))
        .count()
        .get_result(conn)?;
    if found == 0 {
        return Err(KeyrockError::NotFound("Organization not found"));
    }
    Ok(())
}

fn require_org_role(org_role: &str) -> Result<(), KeyrockError> {
    match org_role {
        "owner" | "member" => Ok(()),
        _ => Err(KeyrockError::NotFound("Organization role not found")),
    }
}

/// The checks every assign and remove runs, in keyrock.md's order: authorization, the
/// target (user or organization) exists, the role resolves, then `after_role` (the
/// organization role), and last the role must be changeable by the caller.
fn checked_role(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
    require_target: impl FnOnce(&mut DbConn) -> Result<(), KeyrockError>,
    after_role: impl FnOnce() -> Result<(), KeyrockError>,
) -> Result<String, KeyrockError> {
    let access: AppAccess = authz::authorize(conn, caller, app_id, Operation::AssignRoles)?;
    require_target(conn)?;
    let role_id = resolve_role(conn, app_id, role_id)?;
    after_role()?;
    if authz::changeable_roles(conn, &access)?.contains(&role_id) {
        Ok(role_id)
    } else {
        Err(NOT_PERMITTED)
    }
}

fn user_assignments(
    conn: &mut DbConn,
    app_id: &str,
    user_id: Option<&str>,
) -> Result<Vec<UserAssignment>, KeyrockError> {
    let mut query = role_assignments::table
        .filter(role_assignments::oauth_client_id.eq(app_id))
        .filter(role_assignments::user_id.is_not_null())
        .select((role_assignments::user_id, role_assignments::role_id))
        .order(role_assignments::num_id.asc())
        .into_boxed();
    if let Some(user_id) = user_id {
        query = query.filter(role_assignments::user_id.eq(user_id));
    }
    let rows: Vec<(Option<String>, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, role_id)| {
            Some(UserAssignment {
                user_id: user_id?,
                role_id,
                oauth_client_id: app_id.to_owned(),
            })
        })
        .collect())
}

/// `GET /applications/{app}/users`: direct assignments whose role the caller may change.
pub fn list_user_assignments(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<UserAssignment>, KeyrockError> {
    let access = authz::authorize(conn, caller, app_id, Operation::AssignRoles)?;
    let changeable = authz::changeable_roles(conn, &access)?;
    let list: Vec<_> = user_assignments(conn, app_id, None)?
        .into_iter()
        .filter(|a| changeable.contains(&a.role_id))
        .collect();
    if list.is_empty() {
        return Err(NO_ASSIGNMENTS);
    }
    Ok(list)
}

/// `GET /applications/{app}/users/{user}/roles`.
pub fn list_roles_of_user(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    user_id: &str,
) -> Result<Vec<UserAssignment>, KeyrockError> {
    let access = authz::authorize(conn, caller, app_id, Operation::AssignRoles)?;
    require_user(conn, user_id)?;
    let changeable = authz::changeable_roles(conn, &access)?;
    let list: Vec<_> = user_assignments(conn, app_id, Some(user_id))?
        .into_iter()
        .filter(|a| changeable.contains(&a.role_id))
        .collect();
    if list.is_empty() {
        return Err(NO_ASSIGNMENTS);
    }
    Ok(list)
}

/// `PUT /applications/{app}/users/{user}/roles/{role}`: idempotent.
pub fn assign_role_to_user(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    user_id: &str,
    role_id: &str,
) -> Result<UserAssignment, KeyrockError> {
    write_tx(conn, |c| {
        let role_id = checked_role(
            c,
            caller,
            app_id,
            role_id,
            |c| require_user(c, user_id),
            || Ok(()),
        )?;
        // Idempotent in one statement: a concurrent PUT of the same assignment is not a
        // conflict (role_assignments_user is unique).
        storage::each_backend!(c, |c| diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::oauth_client_id.eq(app_id),
                role_assignments::role_id.eq(&role_id),
                role_assignments::user_id.eq(user_id),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(UserAssignment {
            user_id: user_id.to_owned(),
            role_id,
            oauth_client_id: app_id.to_owned(),
        })
    })
}

/// `DELETE /applications/{app}/users/{user}/roles/{role}`.
pub fn remove_role_from_user(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    user_id: &str,
    role_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        let role_id = checked_role(
            c,
            caller,
            app_id,
            role_id,
            |c| require_user(c, user_id),
            || Ok(()),
        )?;
        let removed = diesel::delete(
            role_assignments::table
                .filter(role_assignments::oauth_client_id.eq(app_id))
                .filter(role_assignments::role_id.eq(&role_id))
                .filter(role_assignments::user_id.eq(user_id)),
        )
        .execute(c)?;
        if removed == 0 {
            return Err(NO_ASSIGNMENTS);
        }
        Ok(())
    })
}

fn organization_assignments(
    conn: &mut DbConn,
    app_id: &str,
    org_id: Option<&str>,
) -> Result<Vec<OrganizationAssignment>, KeyrockError> {
    let mut query = role_assignments::table
        .filter(role_assignments::oauth_client_id.eq(app_id))
        .filter(role_assignments::organization_id.is_not_null())
        .select((
            role_assignments::organization_id,
            role_assignments::role_id,
            role_assignments::role_organization,
        ))
        .order(role_assignments::num_id.asc())
        .into_boxed();
    if let Some(org_id) = org_id {
        query = query.filter(role_assignments::organization_id.eq(org_id));
    }
    let rows: Vec<(Option<String>, String, Option<String>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(org, role_id, org_role)| {
            Some(OrganizationAssignment {
                organization_id: org?,
                role_id,
                role_organization: org_role.unwrap_or_else(|| "member".to_owned()),
                oauth_client_id: app_id.to_owned(),
            })
        })
        .collect())
}

/// `GET /applications/{app}/organizations`: every organization assignment, unfiltered.
pub fn list_organization_assignments(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<OrganizationAssignment>, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::AssignRoles)?;
    let list = organization_assignments(conn, app_id, None)?;
    if list.is_empty() {
        return Err(NO_ASSIGNMENTS);
    }
    Ok(list)
}

/// `GET /applications/{app}/organizations/{org}/roles`: filtered to changeable roles.
pub fn list_roles_of_organization(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    org_id: &str,
) -> Result<Vec<OrganizationAssignment>, KeyrockError> {
    let access = authz::authorize(conn, caller, app_id, Operation::AssignRoles)?;
    require_organization(conn, org_id)?;
    let changeable = authz::changeable_roles(conn, &access)?;
    let list: Vec<_> = organization_assignments(conn, app_id, Some(org_id))?
        .into_iter()
        .filter(|a| changeable.contains(&a.role_id))
        .collect();
    if list.is_empty() {
        return Err(NO_ASSIGNMENTS);
    }
    Ok(list)
}

/// `PUT /applications/{app}/organizations/{org}/roles/{role}/organization_roles/{owner|member}`.
pub fn assign_role_to_organization(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    org_id: &str,
    role_id: &str,
    org_role: &str,
) -> Result<OrganizationAssignment, KeyrockError> {
    write_tx(conn, |c| {
        let role_id = checked_role(
            c,
            caller,
            app_id,
            role_id,
            |c| require_organization(c, org_id),
            || require_org_role(org_role),
        )?;
        // Idempotent in one statement (role_assignments_org is unique).
        storage::each_backend!(c, |c| diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::oauth_client_id.eq(app_id),
                role_assignments::role_id.eq(&role_id),
                role_assignments::organization_id.eq(org_id),
                role_assignments::role_organization.eq(org_role),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(OrganizationAssignment {
            organization_id: org_id.to_owned(),
            role_id,
            role_organization: org_role.to_owned(),
            oauth_client_id: app_id.to_owned(),
        })
    })
}

/// `DELETE` of the same path.
pub fn remove_role_from_organization(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    org_id: &str,
    role_id: &str,
    org_role: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        let role_id = checked_role(
            c,
            caller,
            app_id,
            role_id,
            |c| require_organization(c, org_id),
            || require_org_role(org_role),
        )?;
        let removed = diesel::delete(
            role_assignments::table
                .filter(role_assignments::oauth_client_id.eq(app_id))
                .filter(role_assignments::role_id.eq(&role_id))
                .filter(role_assignments::organization_id.eq(org_id))
                .filter(role_assignments::role_organization.eq(org_role)),
        )
        .execute(c)?;
        if removed == 0 {
            return Err(NO_ASSIGNMENTS);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
