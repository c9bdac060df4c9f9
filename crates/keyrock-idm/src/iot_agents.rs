//! `/v1/applications/{app}/iot_agents` (keyrock.md 4.11): any number per application.
//! Passwords are generated secrets, shown once and stored only as SHA-256 digests
//! (decision 14).

use auth_core::principal::UserPrincipal;
use auth_core::secrets::{random_uuid, sha256_hex};
use diesel::prelude::*;
use storage::schema::iot_agents;
use storage::{to_db_time, write_tx, DbConn};
use time::OffsetDateTime;

use crate::authz::{self, Operation};
use crate::KeyrockError;

/// Prefix of IoT agent ids and passwords (keyrock.md 7).
pub const PREFIX: &str = "iot_sensor_";

const NOT_FOUND: KeyrockError = KeyrockError::NotFound("Iot Agent not found");

/// An IoT agent as reads show it: never its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IotAgent {
    pub id: String,
    pub oauth_client_id: String,
}

/// A new IoT agent with its plaintext password, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IotAgentCredentials {
    pub id: String,
    pub password: String,
}

fn generated() -> String {
    format!("{PREFIX}{}", random_uuid())
}

/// The agent, if it belongs to the application (an agent of another application is not found).
fn find_in_application(
    conn: &mut DbConn,
    app_id: &str,
    iot_id: &str,
) -> Result<IotAgent, KeyrockError> {
    iot_agents::table
        .filter(iot_agents::id.eq(iot_id))
        .filter(iot_agents::oauth_client_id.eq(app_id))
        .select((iot_agents::id, iot_agents::oauth_client_id))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(id, oauth_client_id)| IotAgent {
            id,
            oauth_client_id,
        })
        .ok_or(NOT_FOUND)
}

/// `GET /v1/applications/{app}/iot_agents` (perm 2): the agents' ids, oldest first.
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<String>, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageIotAgents)?;
    let ids: Vec<String> = iot_agents::table
        .filter(iot_agents::oauth_client_id.eq(app_id))
        .order((iot_agents::created_at.asc(), iot_agents::id.asc()))
        .select(iot_agents::id)
        .load(conn)?;
    if ids.is_empty() {
        return Err(KeyrockError::NotFound("Iot agents not found"));
    }
    Ok(ids)
}

/// `POST /v1/applications/{app}/iot_agents` (perm 2): a new agent and its credentials.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    now: OffsetDateTime,
) -> Result<IotAgentCredentials, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageIotAgents)?;
        let credentials = IotAgentCredentials {
            id: generated(),
            password: generated(),
        };
        diesel::insert_into(iot_agents::table)
            .values((
                iot_agents::id.eq(&credentials.id),
                iot_agents::password_digest.eq(sha256_hex(&credentials.password)),
                iot_agents::password_salt.eq(None::<String>),
                iot_agents::oauth_client_id.eq(app_id),
                iot_agents::created_at.eq(to_db_time(now)),
            ))
            .execute(c)?;
        Ok(credentials)
    })
}

/// `GET /v1/applications/{app}/iot_agents/{iot}` (perm 2).
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    iot_id: &str,
) -> Result<IotAgent, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageIotAgents)?;
    find_in_application(conn, app_id, iot_id)
}

/// `PATCH /v1/applications/{app}/iot_agents/{iot}` (perm 2): a new password, shown once;
/// the old one stops working.
pub fn reset_password(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    iot_id: &str,
) -> Result<String, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageIotAgents)?;
        let agent = find_in_application(c, app_id, iot_id)?;
        let password = generated();
        diesel::update(iot_agents::table.filter(iot_agents::id.eq(&agent.id)))
            .set((
                iot_agents::password_digest.eq(sha256_hex(&password)),
                iot_agents::password_salt.eq(None::<String>),
            ))
            .execute(c)?;
        Ok(password)
    })
}

/// `DELETE /v1/applications/{app}/iot_agents/{iot}` (perm 2). Its OAuth access and refresh
/// tokens go with it: the token tables reference `iot_agents(id)` with `ON DELETE CASCADE`.
pub fn delete(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    iot_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManageIotAgents)?;
        let agent = find_in_application(c, app_id, iot_id)?;
        diesel::delete(iot_agents::table.filter(iot_agents::id.eq(&agent.id))).execute(c)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests;
