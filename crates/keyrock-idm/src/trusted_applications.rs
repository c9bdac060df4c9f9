//! `/v1/applications/{app}/trusted_applications` (keyrock.md 4.12): application A trusts
//! application T when a token issued to T may be validated with `/user?app_id=A`.

use auth_core::principal::UserPrincipal;
use diesel::prelude::*;
use storage::schema::trusted_applications;
use storage::{write_tx, DbConn, StorageError};

use crate::applications::find_application;
use crate::authz::{self, Operation, IDM_ADMIN_APP, NOT_ALLOWED};
use crate::KeyrockError;

const ALREADY_ADDED: KeyrockError = KeyrockError::Invalid("Trusted application already added");

/// A trust link: `oauth_client_id` trusts `trusted_oauth_client_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustLink {
    pub oauth_client_id: String,
    pub trusted_oauth_client_id: String,
}

/// `GET /v1/applications/{app}/trusted_applications` (perm 1, 5 or 6): the trusted ids.
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<String>, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageTrustedApplications)?;
    let ids: Vec<String> = trusted_applications::table
        .filter(trusted_applications::oauth_client_id.eq(app_id))
        .order(trusted_applications::trusted_oauth_client_id.asc())
        .select(trusted_applications::trusted_oauth_client_id)
        .load(conn)?;
    if ids.is_empty() {
        // Keyrock's spelling, kept because clients match on it.
        return Err(KeyrockError::NotFound("Trusted applications nof found"));
    }
    Ok(ids)
}

/// Steps shared by add and remove, in keyrock.md's order: authorization on the application
/// of the path, then the other application (internal: 403, missing: 404), then it must not
/// be the application itself (400).
fn checked_pair(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    other_id: &str,
) -> Result<(), KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageTrustedApplications)?;
    if other_id == IDM_ADMIN_APP {
        return Err(NOT_ALLOWED);
    }
    if find_application(conn, other_id)?.is_none() {
        return Err(KeyrockError::NotFound(
            "Application to be add as trusted not found",
        ));
    }
    if other_id == app_id {
        return Err(KeyrockError::Invalid("Bad request"));
    }
    Ok(())
}

fn link_exists(conn: &mut DbConn, app_id: &str, other_id: &str) -> Result<bool, KeyrockError> {
    let n: i64 = trusted_applications::table
        .filter(trusted_applications::oauth_client_id.eq(app_id))
        .filter(trusted_applications::trusted_oauth_client_id.eq(other_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// `PUT /v1/applications/{app}/trusted_applications/{other}` (POST accepted, deprecated;
/// perm 1, 5 or 6): `app` now trusts `other`.
pub fn add(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    other_id: &str,
) -> Result<TrustLink, KeyrockError> {
    write_tx(conn, |c| {
        checked_pair(c, caller, app_id, other_id)?;
        if link_exists(c, app_id, other_id)? {
            return Err(ALREADY_ADDED);
        }
        diesel::insert_into(trusted_applications::table)
            .values((
                trusted_applications::oauth_client_id.eq(app_id),
                trusted_applications::trusted_oauth_client_id.eq(other_id),
            ))
            .execute(c)
            .map_err(|e| match StorageError::from(e) {
                // A concurrent request added the same link first.
                StorageError::Conflict(_) => ALREADY_ADDED,
                other => KeyrockError::Storage(other),
            })?;
        Ok(TrustLink {
            oauth_client_id: app_id.to_owned(),
            trusted_oauth_client_id: other_id.to_owned(),
        })
    })
}

/// `DELETE /v1/applications/{app}/trusted_applications/{other}` (perm 1, 5 or 6).
pub fn remove(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    other_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        checked_pair(c, caller, app_id, other_id)?;
        let deleted = diesel::delete(
            trusted_applications::table
                .filter(trusted_applications::oauth_client_id.eq(app_id))
                .filter(trusted_applications::trusted_oauth_client_id.eq(other_id)),
        )
        .execute(c)?;
        if deleted == 0 {
            return Err(KeyrockError::Invalid(
                "Application has not that trusted application added",
            ));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
