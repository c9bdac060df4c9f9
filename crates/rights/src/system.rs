//! System rights (easydb-rights.md §9): stored as a rights specification of the `system`
//! context on users and on organizations; a user's effective rights are its own united
//! with those of every organization it belongs to.

use std::collections::BTreeMap;

use storage::diesel;
use storage::diesel::prelude::*;
use storage::schema::{organizations, user_organizations, users};
use storage::{DbConn, StorageError};

use crate::catalog::{canonical, Given, RightsSpec, PRESET_MANAGER, ROOT};

#[derive(Debug, thiserror::Error)]
pub enum SystemRightsError {
    #[error("no user {0}")]
    UserNotFound(String),
    /// A stored set that does not read: written by something other than this crate.
    #[error("the stored system rights of {0} do not read")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<storage::diesel::result::Error> for SystemRightsError {
    fn from(e: storage::diesel::result::Error) -> Self {
        SystemRightsError::Storage(e.into())
    }
}

/// An authenticated session's user, with its effective system rights read at the start
/// of the request (§4.5: never cached across requests).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The Keyrock id.
    pub user_id: String,
    pub effective: RightsSpec,
}

/// A set of system rights as stored, with its `_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRights {
    pub rights: RightsSpec,
    pub version: i64,
}

/// The user's own system rights, by Keyrock id.
pub fn user_rights(conn: &mut DbConn, user_id: &str) -> Result<StoredRights, SystemRightsError> {
    let (text, version): (String, i64) = users::table
        .filter(users::id.eq(user_id))
        .select((users::system_rights, users::rights_version))
        .first(conn)
        .optional()?
        .ok_or_else(|| SystemRightsError::UserNotFound(user_id.to_owned()))?;
    Ok(StoredRights {
        rights: read(&text, user_id)?,
        version,
    })
}

/// The user's effective system rights (§9): its own, then those of its organizations
/// (owner or member) in ascending `_id`. A right from several sources merges its
/// parameters: a boolean is true when any source says so; any other value comes from the
/// first source that has it.
pub fn effective(conn: &mut DbConn, user_id: &str) -> Result<RightsSpec, SystemRightsError> {
    let own = user_rights(conn, user_id)?.rights;
    effective_with(conn, user_id, own)
}

/// [`effective`] for a user whose own set was read already.
pub fn effective_with(
    conn: &mut DbConn,
    user_id: &str,
    own: RightsSpec,
) -> Result<RightsSpec, SystemRightsError> {
    let groups: Vec<(String, String)> = user_organizations::table
        .inner_join(
            organizations::table.on(organizations::id.eq(user_organizations::organization_id)),
        )
        .filter(user_organizations::user_id.eq(user_id))
        .order(organizations::num_id.asc())
        .select((organizations::id, organizations::system_rights))
        .load(conn)?;
    let sets = groups
        .iter()
        .map(|(id, text)| read(text, id))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge(own, sets))
}

/// A user's own set united with its groups' sets, given in ascending `_id` (§9).
pub fn merge(own: RightsSpec, groups: impl IntoIterator<Item = RightsSpec>) -> RightsSpec {
    let mut merged = own.0;
    for group in groups {
        for (name, params) in group.0 {
            match merged.get_mut(&name) {
                None => {
                    merged.insert(name, params);
                }
                Some(existing) => merge_parameters(existing, &params),
            }
        }
    }
    RightsSpec(merged)
}

fn merge_parameters(into: &mut Given, from: &Given) {
    let (Given::Map(into), Given::Map(from)) = (into, from) else {
        return;
    };
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(Given::Bool(a)), Given::Bool(b)) => *a = *a || *b,
            (Some(_), _) => {}
            (None, v) => {
                into.insert(key.clone(), v.clone());
            }
        }
    }
}

/// Whether effective rights pass a check for `right` (§9): they hold it, or
/// `system.root`; the preset manager's alias counts as the right itself.
pub fn holds(effective: &RightsSpec, right: &str) -> bool {
    let right = canonical(right);
    effective.0.contains_key(ROOT)
        || effective.0.contains_key(right)
        || (right == PRESET_MANAGER && effective.0.keys().any(|k| canonical(k) == PRESET_MANAGER))
}

/// Makes a user created in the same transaction hold `system.root` from its creation:
/// the bootstrap admin (§9). Its `_version` stays 1.
/// (The operator's way to give root later is `holders::operator_change`, which counts a
/// version.)
pub fn create_as_root(conn: &mut DbConn, user_id: &str) -> Result<(), SystemRightsError> {
    let stored = user_rights(conn, user_id)?;
    if stored.rights.0.contains_key(ROOT) {
        return Ok(());
    }
    let mut rights = stored.rights.0;
    rights.insert(ROOT.to_owned(), Given::Map(BTreeMap::new()));
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set(users::system_rights.eq(RightsSpec(rights).to_stored()))
        .execute(conn)?;
    Ok(())
}

fn read(text: &str, owner: &str) -> Result<RightsSpec, SystemRightsError> {
    RightsSpec::from_stored(text).ok_or_else(|| SystemRightsError::Corrupt(owner.to_owned()))
}

#[cfg(test)]
pub(crate) mod tests;
