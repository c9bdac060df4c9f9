//! `/v1/service_providers/configs` (keyrock.md 4.13): store-wide counts, for admins.

use auth_core::principal::UserPrincipal;
use diesel::prelude::*;
use storage::schema::{organizations, users};
use storage::DbConn;

use crate::authz;
use crate::KeyrockError;

/// What `GET /v1/service_providers/configs` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceProviderInfo {
    pub total_users: i64,
    pub total_organizations: i64,
    /// Every application, the internal `idm_admin_app` included (as Keyrock counts).
    pub total_applications: i64,
}

/// `GET /v1/service_providers/configs` (admin).
pub fn configs(
    conn: &mut DbConn,
    caller: &UserPrincipal,
) -> Result<ServiceProviderInfo, KeyrockError> {
    if !caller.admin {
        return Err(KeyrockError::Forbidden(
            "User not authorized to perform action",
        ));
    }
    Ok(ServiceProviderInfo {
        total_users: users::table.count().get_result(conn)?,
        total_organizations: organizations::table.count().get_result(conn)?,
        total_applications: authz::count_applications(conn)?,
    })
}

#[cfg(test)]
mod tests;
