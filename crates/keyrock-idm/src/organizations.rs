//! `/v1/organizations` (keyrock.md 4.4): organizations and their owners and members.
//! Only owners read, change or delete an organization and manage its members.

use auth_core::principal::UserPrincipal;
use auth_core::secrets::random_uuid;
use auth_core::users;
use diesel::prelude::*;
use storage::schema::{organizations, user_organizations};
use storage::{to_db_time, write_tx, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::authz::NOT_PERMITTED;
use crate::input::{Given, Updated};
use crate::KeyrockError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub num_id: i64,
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub image: String,
    pub created_at: PrimitiveDateTime,
}

/// A membership row: `role` is `owner` or `member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub user_id: String,
    pub organization_id: String,
    pub role: String,
}

const NOT_FOUND: KeyrockError = KeyrockError::NotFound("Organization not found");

fn find(conn: &mut DbConn, id: &str) -> Result<Option<Organization>, KeyrockError> {
    Ok(organizations::table
        .filter(organizations::id.eq(id))
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

fn role_in(conn: &mut DbConn, user_id: &str, org_id: &str) -> Result<Option<String>, KeyrockError> {
    Ok(user_organizations::table
        .filter(user_organizations::user_id.eq(user_id))
        .filter(user_organizations::organization_id.eq(org_id))
        .select(user_organizations::role)
        .first(conn)
        .optional()?)
}

/// The organization exists (404), then the caller owns it (403): the order of keyrock.md 4.4.
fn owned(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
) -> Result<Organization, KeyrockError> {
    let org = find(conn, org_id)?.ok_or(NOT_FOUND)?;
    if role_in(conn, &caller.id, org_id)?.as_deref() != Some("owner") {
        return Err(NOT_PERMITTED);
    }
    Ok(org)
}

const MISSING_WRAPPER: KeyrockError =
    KeyrockError::Invalid("Missing parameter organization in body request");

/// Members of the `organization` object a PATCH may not name (keyrock.md 4.4).
pub const READ_ONLY_FIELDS: [&str; 1] = ["id"];

/// The `organization` object of a create or PATCH request.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFields {
    pub name: Given<String>,
    pub description: Given<String>,
    pub website: Given<String>,
    /// The request names `id`, which cannot be set.
    pub sets_id: bool,
}

/// `GET /v1/organizations`: every organization the caller belongs to, with the caller's role.
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
) -> Result<Vec<(String, Organization)>, KeyrockError> {
    let rows: Vec<(String, Organization)> = user_organizations::table
        .inner_join(
            organizations::table.on(organizations::id.eq(user_organizations::organization_id)),
        )
        .filter(user_organizations::user_id.eq(&caller.id))
        .order(organizations::num_id.asc())
        .select((user_organizations::role, Organization::as_select()))
        .load(conn)?;
    if rows.is_empty() {
        return Err(KeyrockError::NotFound("Organizations not found"));
    }
    Ok(rows)
}

/// `POST /v1/organizations`: any user; the caller becomes its owner.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    input: &Given<OrganizationFields>,
    now: OffsetDateTime,
) -> Result<Organization, KeyrockError> {
    let input = input.value().ok_or(MISSING_WRAPPER)?;
    let name = input.name.non_empty().ok_or(KeyrockError::Invalid(
        "Missing parameter name in body request or empty name",
    ))?;
    let id = random_uuid();
    write_tx(conn, |c| {
        diesel::insert_into(organizations::table)
            .values((
                organizations::id.eq(&id),
                organizations::name.eq(name),
                organizations::description.eq(input.description.value()),
                organizations::website.eq(input.website.value()),
                organizations::created_at.eq(to_db_time(now)),
            ))
            .execute(c)?;
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(&caller.id),
                user_organizations::organization_id.eq(&id),
                user_organizations::role.eq("owner"),
            ))
            .execute(c)?;
        find(c, &id)?.ok_or(KeyrockError::Internal("organization vanished".into()))
    })
}

/// `GET /v1/organizations/{org}`.
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
) -> Result<Organization, KeyrockError> {
    owned(conn, caller, org_id)
}

/// `PATCH /v1/organizations/{org}`: the organization after it, and the changed fields.
pub fn update(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
    input: &Given<OrganizationFields>,
) -> Result<Updated<Organization>, KeyrockError> {
    write_tx(conn, |c| {
        let before = owned(c, caller, org_id)?;
        let input = input.value().ok_or(MISSING_WRAPPER)?;
        if input.sets_id {
            return Err(KeyrockError::Invalid("Cannot set id"));
        }
        if input.name.is_empty_text() {
            return Err(KeyrockError::Invalid("Cannot set empty name"));
        }
        let differs = |new: &Given<String>, old: Option<&str>| {
            new.value().filter(|n| old != Some(n.as_str())).cloned()
        };
        let columns = OrganizationChanges {
            name: differs(&input.name, Some(&before.name)),
            description: differs(&input.description, before.description.as_deref()),
            website: differs(&input.website, before.website.as_deref()),
        };
        let changed: Vec<&'static str> = [
            ("name", columns.name.is_some()),
            ("description", columns.description.is_some()),
            ("website", columns.website.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect();
        if !changed.is_empty() {
            diesel::update(organizations::table.filter(organizations::id.eq(org_id)))
                .set(&columns)
                .execute(c)?;
        }
        let after = find(c, org_id)?.ok_or(NOT_FOUND)?;
        Ok(Updated { after, changed })
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = organizations)]
struct OrganizationChanges {
    name: Option<String>,
    description: Option<String>,
    website: Option<String>,
}

/// `DELETE /v1/organizations/{org}`: memberships and the organization's role assignments
/// go with it (foreign keys cascade, one transaction).
pub fn delete(conn: &mut DbConn, caller: &UserPrincipal, org_id: &str) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        owned(c, caller, org_id)?;
        diesel::delete(organizations::table.filter(organizations::id.eq(org_id))).execute(c)?;
        Ok(())
    })
}

/// `GET /v1/organizations/{org}/users`.
pub fn members(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
) -> Result<Vec<Membership>, KeyrockError> {
    owned(conn, caller, org_id)?;
    let rows: Vec<(String, String)> = user_organizations::table
        .filter(user_organizations::organization_id.eq(org_id))
        .order(user_organizations::user_id.asc())
        .select((user_organizations::user_id, user_organizations::role))
        .load(conn)?;
    if rows.is_empty() {
        return Err(KeyrockError::NotFound("Assignments not found"));
    }
    Ok(rows
        .into_iter()
        .map(|(user_id, role)| Membership {
            user_id,
            organization_id: org_id.to_owned(),
            role,
        })
        .collect())
}

fn require_user(conn: &mut DbConn, user_id: &str) -> Result<(), KeyrockError> {
    users::find_user(conn, user_id)?
        .map(|_| ())
        .ok_or(KeyrockError::NotFound("User not found"))
}

fn require_org_role(role: &str) -> Result<(), KeyrockError> {
    match role {
        "owner" | "member" => Ok(()),
        _ => Err(KeyrockError::NotFound("Organization role not found")),
    }
}

/// `GET /v1/organizations/{org}/users/{user}/organization_roles`.
pub fn member_role(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
    user_id: &str,
) -> Result<Membership, KeyrockError> {
    owned(conn, caller, org_id)?;
    require_user(conn, user_id)?;
    let role =
        role_in(conn, user_id, org_id)?.ok_or(KeyrockError::NotFound("Assignment not found"))?;
    Ok(Membership {
        user_id: user_id.to_owned(),
        organization_id: org_id.to_owned(),
        role,
    })
}

/// `PUT /v1/organizations/{org}/users/{user}/organization_roles/{owner|member}`: an upsert
/// that replaces the user's role in the organization.
pub fn set_member_role(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> Result<Membership, KeyrockError> {
    write_tx(conn, |c| {
        owned(c, caller, org_id)?;
        require_user(c, user_id)?;
        require_org_role(role)?;
        // One statement, so concurrent PUTs of the same membership all succeed.
        storage::each_backend!(c, |c| diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(user_id),
                user_organizations::organization_id.eq(org_id),
                user_organizations::role.eq(role),
            ))
            .on_conflict((
                user_organizations::user_id,
                user_organizations::organization_id
            ))
            .do_update()
            .set(user_organizations::role.eq(role))
            .execute(c))?;
        Ok(Membership {
            user_id: user_id.to_owned(),
            organization_id: org_id.to_owned(),
            role: role.to_owned(),
        })
    })
}

/// `DELETE` of the same path: the user must hold exactly that role.
pub fn remove_member_role(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        owned(c, caller, org_id)?;
        require_user(c, user_id)?;
        require_org_role(role)?;
        let removed = diesel::delete(
            user_organizations::table
                .filter(user_organizations::user_id.eq(user_id))
                .filter(user_organizations::organization_id.eq(org_id))
                .filter(user_organizations::role.eq(role)),
        )
        .execute(c)?;
        if removed == 0 {
            return Err(KeyrockError::NotFound("Assignments not found"));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
