//! `/v1/applications/{app}/pep_proxies` (keyrock.md 4.10): at most one PEP proxy per
//! application. Its password is a generated secret, shown once and stored only as a
//! SHA-256 digest (decision 14); resetting or deleting it revokes its API tokens.

use auth_core::api_tokens;
use auth_core::principal::UserPrincipal;
use auth_core::secrets::{random_uuid, sha256_hex};
use diesel::prelude::*;
use storage::schema::pep_proxies;
use storage::{to_db_time, write_tx, DbConn, StorageError};
use time::OffsetDateTime;

use crate::authz::{self, Operation};
use crate::KeyrockError;

/// Prefix of PEP proxy ids and passwords (keyrock.md 7).
pub const PREFIX: &str = "pep_proxy_";

const NOT_FOUND: KeyrockError = KeyrockError::NotFound("Pep Proxy not found");
const ALREADY_REGISTERED: KeyrockError = KeyrockError::Conflict("Pep Proxy already registered");

/// A registered PEP proxy as reads show it: never its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PepProxy {
    pub id: String,
    pub oauth_client_id: String,
}

/// A new PEP proxy with its plaintext password, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PepProxyCredentials {
    pub id: String,
    pub password: String,
}

fn generated() -> String {
    format!("{PREFIX}{}", random_uuid())
}

fn find_of_application(conn: &mut DbConn, app_id: &str) -> Result<PepProxy, KeyrockError> {
    pep_proxies::table
        .filter(pep_proxies::oauth_client_id.eq(app_id))
        .select((pep_proxies::id, pep_proxies::oauth_client_id))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(id, oauth_client_id)| PepProxy {
            id,
            oauth_client_id,
        })
        .ok_or(NOT_FOUND)
}

/// `GET /v1/applications/{app}/pep_proxies` (perm 2).
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<PepProxy, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManagePepProxy)?;
    find_of_application(conn, app_id)
}

/// `POST /v1/applications/{app}/pep_proxies` (perm 2): registers the application's one
/// PEP proxy and returns its credentials.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    now: OffsetDateTime,
) -> Result<PepProxyCredentials, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePepProxy)?;
        match find_of_application(c, app_id) {
            Ok(_) => return Err(ALREADY_REGISTERED),
            Err(KeyrockError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let credentials = PepProxyCredentials {
            id: generated(),
            password: generated(),
        };
        diesel::insert_into(pep_proxies::table)
            .values((
                pep_proxies::id.eq(&credentials.id),
                pep_proxies::password_digest.eq(sha256_hex(&credentials.password)),
                pep_proxies::password_salt.eq(None::<String>),
                pep_proxies::oauth_client_id.eq(app_id),
                pep_proxies::created_at.eq(to_db_time(now)),
            ))
            .execute(c)
            .map_err(|e| match StorageError::from(e) {
                // A concurrent registration won the race for the application's one slot.
                StorageError::Conflict(_) => ALREADY_REGISTERED,
                other => KeyrockError::Storage(other),
            })?;
        Ok(credentials)
    })
}

/// `PATCH /v1/applications/{app}/pep_proxies` (perm 2): a new password, shown once; the
/// old one stops working and the proxy's API tokens are revoked.
pub fn reset_password(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<String, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePepProxy)?;
        let pep = find_of_application(c, app_id)?;
        let password = generated();
        diesel::update(pep_proxies::table.filter(pep_proxies::id.eq(&pep.id)))
            .set((
                pep_proxies::password_digest.eq(sha256_hex(&password)),
                pep_proxies::password_salt.eq(None::<String>),
            ))
            .execute(c)?;
        api_tokens::revoke_for_pep_proxy(c, &pep.id)?;
        Ok(password)
    })
}

/// `DELETE /v1/applications/{app}/pep_proxies` (perm 2): the proxy and its API tokens go.
pub fn delete(conn: &mut DbConn, caller: &UserPrincipal, app_id: &str) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePepProxy)?;
        let pep = find_of_application(c, app_id)?;
        api_tokens::revoke_for_pep_proxy(c, &pep.id)?;
        diesel::delete(pep_proxies::table.filter(pep_proxies::id.eq(&pep.id))).execute(c)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
