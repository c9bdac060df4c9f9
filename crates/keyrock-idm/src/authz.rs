//! The one authorization decision of the application-scoped routes (keyrock.md 1.7, 2.3-2.5).
//!
//! Handlers name an [`Operation`]; the permissions it requires are a property of the
//! operation, never of the request URL, so query strings, encodings or slashes cannot
//! change the outcome.

use std::collections::BTreeSet;

use auth_core::principal::UserPrincipal;
use diesel::prelude::*;
use storage::schema::{
    oauth_clients, role_assignments, role_permissions, roles, user_organizations,
};
use storage::DbConn;

use crate::applications::{find_application, Application};
use crate::vocabulary::InternalPermission;
use crate::KeyrockError;

/// Keyrock's internal application: owns the internal roles and permissions.
pub const IDM_ADMIN_APP: &str = "idm_admin_app";
/// The internal roles, shared by every application.
pub const INTERNAL_ROLES: [&str; 2] = ["provider", "purchaser"];

pub const NOT_ALLOWED: KeyrockError = KeyrockError::Forbidden("Not allowed");
pub const NOT_PERMITTED: KeyrockError =
    KeyrockError::Forbidden("User not allow to perform the action");

/// Every operation below `/v1/applications/{app}`, one per route and method group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ReadApplication,
    UpdateApplication,
    DeleteApplication,
    ResetSecret,
    ListRoles,
    ManageRoles,
    ManagePermissions,
    ManageRolePermissions,
    ManagePepProxy,
    ManageIotAgents,
    AssignRoles,
    ManageTrustedApplications,
}

impl Operation {
    /// The internal permission ids of which the caller needs at least one (keyrock.md 2.3).
    pub fn required_permissions(self) -> &'static [InternalPermission] {
        use InternalPermission::*;
        match self {
            Operation::ReadApplication => &[
                AssignInternalRoles,
                ManageApplication,
                ManageRoles,
                AssignPublicRoles,
                AssignOwnedRoles,
            ],
            Operation::UpdateApplication
            | Operation::DeleteApplication
            | Operation::ResetSecret
            | Operation::ManagePepProxy
            | Operation::ManageIotAgents => &[ManageApplication],
            Operation::ListRoles => &[
                AssignInternalRoles,
                ManageRoles,
                AssignPublicRoles,
                AssignOwnedRoles,
            ],
            Operation::ManageRoles
            | Operation::ManagePermissions
            | Operation::ManageRolePermissions => &[ManageRoles],
            Operation::AssignRoles | Operation::ManageTrustedApplications => {
                &[AssignInternalRoles, AssignPublicRoles, AssignOwnedRoles]
            }
        }
    }
}

/// What the caller may do in one application, established by [`authorize`].
#[derive(Debug, Clone)]
pub struct AppAccess {
    pub app: Application,
    /// Role ids the caller holds in the application, directly or through organizations.
    pub roles: BTreeSet<String>,
    /// Permission ids those roles carry (internal ids 1-6 included).
    pub permissions: BTreeSet<String>,
}

impl AppAccess {
    pub fn has(&self, permission: InternalPermission) -> bool {
        self.permissions.contains(permission.id())
    }
}

/// Steps 1-3 of keyrock.md 1.7: the internal application is off limits, the application
/// must exist, and the caller must hold one of the operation's permissions in it.
/// Admins get no bypass.
pub fn authorize(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    operation: Operation,
) -> Result<AppAccess, KeyrockError> {
    if app_id == IDM_ADMIN_APP {
        return Err(NOT_ALLOWED);
    }
    let app =
        find_application(conn, app_id)?.ok_or(KeyrockError::NotFound("Application not found"))?;
    let roles = roles_of(conn, &caller.id, app_id)?;
    let permissions = permissions_of_roles(conn, &roles)?;
    let allowed = operation
        .required_permissions()
        .iter()
        .any(|p| permissions.contains(p.id()));
    if !allowed {
        return Err(NOT_PERMITTED);
    }
    Ok(AppAccess {
        app,
        roles,
        permissions,
    })
}

/// Roles of a user in an application: direct assignments, plus assignments to each
/// organization the user belongs to for exactly the user's organization role (2.5).
pub fn roles_of(
    conn: &mut DbConn,
    user_id: &str,
    app_id: &str,
) -> Result<BTreeSet<String>, KeyrockError> {
    let mut roles: BTreeSet<String> = role_assignments::table
        .filter(role_assignments::oauth_client_id.eq(app_id))
        .filter(role_assignments::user_id.eq(user_id))
        .select(role_assignments::role_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    for (app, role) in organization_grants(conn, user_id)? {
        if app == app_id {
            roles.insert(role);
        }
    }
    Ok(roles)
}

/// `(application, role)` pairs the user holds through organizations: assignments to an
/// organization the user belongs to, for exactly the user's organization role (2.5).
fn organization_grants(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<(String, String)>, KeyrockError> {
    let memberships: Vec<(String, String)> = user_organizations::table
        .filter(user_organizations::user_id.eq(user_id))
        .select((
            user_organizations::organization_id,
            user_organizations::role,
        ))
        .load(conn)?;
    let mut grants = Vec::new();
    for (org, org_role) in memberships {
        let via_org: Vec<(String, String)> = role_assignments::table
            .filter(role_assignments::organization_id.eq(&org))
            .filter(role_assignments::role_organization.eq(&org_role))
            .select((role_assignments::oauth_client_id, role_assignments::role_id))
            .load(conn)?;
        grants.extend(via_org);
    }
    Ok(grants)
}

/// Permission ids linked to any of the roles.
pub fn permissions_of_roles(
    conn: &mut DbConn,
    roles: &BTreeSet<String>,
) -> Result<BTreeSet<String>, KeyrockError> {
    if roles.is_empty() {
        return Ok(BTreeSet::new());
    }
    Ok(role_permissions::table
        .filter(role_permissions::role_id.eq_any(roles.iter()))
        .select(role_permissions::permission_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// Applications in which the user holds any role (directly or through an organization),
/// the internal application excluded.
pub fn applications_of(conn: &mut DbConn, user_id: &str) -> Result<BTreeSet<String>, KeyrockError> {
    let mut apps: BTreeSet<String> = role_assignments::table
        .filter(role_assignments::user_id.eq(user_id))
        .select(role_assignments::oauth_client_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    apps.extend(
        organization_grants(conn, user_id)?
            .into_iter()
            .map(|(app, _)| app),
    );
    apps.remove(IDM_ADMIN_APP);
    Ok(apps)
}

/// The roles the caller may see and (un)assign in the application (keyrock.md 2.4).
pub fn changeable_roles(
    conn: &mut DbConn,
    access: &AppAccess,
) -> Result<BTreeSet<String>, KeyrockError> {
    let mut changeable = BTreeSet::new();
    if access.has(InternalPermission::AssignInternalRoles) {
        changeable.extend(INTERNAL_ROLES.iter().map(|r| (*r).to_owned()));
    }
    let all_public = access.has(InternalPermission::AssignPublicRoles);
    if all_public || access.has(InternalPermission::AssignOwnedRoles) {
        let app_roles: Vec<(String, bool)> = roles::table
            .filter(roles::oauth_client_id.eq(&access.app.id))
            .select((roles::id, roles::is_internal))
            .load(conn)?;
        for (role, internal) in app_roles {
            if all_public || (!internal && access.roles.contains(&role)) {
                changeable.insert(role);
            }
        }
    }
    Ok(changeable)
}

/// Counts every application (the internal one too), for the service-provider configs.
pub fn count_applications(conn: &mut DbConn) -> Result<i64, KeyrockError> {
    Ok(oauth_clients::table.count().get_result(conn)?)
}
