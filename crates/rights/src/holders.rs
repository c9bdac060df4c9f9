//! Reading and changing who holds system rights (easydb-rights.md §10): users and groups
//! (Keyrock organizations) seen through their integer `_id`, their own sets with
//! `_version`, and a whole request of changes at a time.
//!
//! The caller is an authenticated session's [`Principal`]. Checks follow §10: the listing
//! rights, the self/member exception for one record, no probing of unknown ids, the
//! version rule, known right names, valid parameters, and root only from root.

use std::collections::{BTreeMap, BTreeSet};

use storage::diesel;
use storage::diesel::prelude::*;
use storage::schema::{organizations, user_organizations, users};
use storage::{DbConn, StorageError};

use crate::catalog::{Catalog, Given, RightsSpec, SpecError, ROOT};
use crate::system::{holds, Principal};

/// The listing limit's default and maximum (§10.1).
pub const MAX_LIMIT: u32 = 1000;

/// Users or groups: the two kinds of holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    /// The right that lets a caller read every holder of this kind.
    pub fn listing_right(self) -> &'static str {
        match self {
            Kind::User => "system.user",
            Kind::Group => "system.group",
        }
    }
}

/// The right that lets a caller change anyone's system rights (with root).
pub const RIGHTS_MANAGEMENT: &str = "system.rightsmanagement";

/// A group as a user's membership shows it (short format).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRef {
    pub id: i64,
    pub keyrock_id: String,
    pub name: String,
}

/// A holder with its own system rights. `email` and `groups` are a user's only.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub kind: Kind,
    pub id: i64,
    pub keyrock_id: String,
    /// The username or the organization's name.
    pub name: String,
    pub email: Option<String>,
    pub version: i64,
    pub rights: RightsSpec,
    pub groups: Vec<GroupRef>,
}

/// One element of a change request: the holder, the version the client read plus one, and
/// the new set (`None` keeps the set, `Some(Given::Null)` empties it).
#[derive(Debug, Clone, PartialEq)]
pub struct RightsChange {
    pub id: i64,
    pub version: i64,
    pub rights: Option<Given>,
}

/// A page of a listing; `limit` above [`MAX_LIMIT`] counts as the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Why a call is refused; each names one easydb error code.
#[derive(Debug, thiserror::Error)]
pub enum HoldersError {
    /// The caller lacks this right (`error.user.no_system_right`).
    #[error("the session user lacks {0}")]
    NoSystemRight(&'static str),
    #[error("no {kind:?} with _id {id}")]
    NotFound { kind: Kind, id: i64 },
    #[error("_id {0} occurs more than once in the request")]
    DuplicateId(i64),
    #[error("_version {provided} given, {expected} expected")]
    VersionMismatch { provided: i64, expected: i64 },
    /// A name that is no system right (`error.user.right_not_found`).
    #[error("{0:?} is not a system right")]
    RightNotFound(String),
    #[error("{0}")]
    InvalidRights(#[from] SpecError),
    #[error("the stored system rights of {0} do not read")]
    Corrupt(String),
    /// An operator's name for a holder that names none, or several.
    #[error("{0}")]
    UnknownHolder(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for HoldersError {
    fn from(e: diesel::result::Error) -> Self {
        HoldersError::Storage(e.into())
    }
}

type UserRow = (i64, String, String, String, i64, String);
type GroupRow = (i64, String, String, i64, String);

/// Every holder of the kind, by `_id` (§10.1, §10.3), for a caller holding the listing
/// right, `system.rightsmanagement` or root.
pub fn list(
    conn: &mut DbConn,
    caller: &Principal,
    kind: Kind,
    page: Page,
) -> Result<Vec<Holder>, HoldersError> {
    if !may_list(caller, kind) {
        return Err(HoldersError::NoSystemRight(kind.listing_right()));
    }
    let limit = i64::from(page.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT));
    let offset = i64::from(page.offset.unwrap_or(0));
    match kind {
        Kind::User => {
            let rows: Vec<UserRow> = users::table
                .order(users::num_id.asc())
                .limit(limit)
                .offset(offset)
                .select(user_columns())
                .load(conn)?;
            let ids: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
            let mut groups = groups_of_all(conn, &ids)?;
            rows.into_iter()
                .map(|row| {
                    let of_user = groups.remove(&row.1).unwrap_or_default();
                    user_with(row, of_user)
                })
                .collect()
        }
        Kind::Group => {
            let rows: Vec<GroupRow> = organizations::table
                .order(organizations::num_id.asc())
                .limit(limit)
                .offset(offset)
                .select(group_columns())
                .load(conn)?;
            rows.into_iter().map(group).collect()
        }
    }
}

/// One holder (§10.1, §10.3): a user may read itself and a group its owner or members may
/// read; the listing rights read any. An unknown id is reported only to callers who may
/// list, so nobody else can probe ids.
pub fn get(
    conn: &mut DbConn,
    caller: &Principal,
    kind: Kind,
    id: i64,
) -> Result<Holder, HoldersError> {
    let may_list = may_list(caller, kind);
    let refused = || HoldersError::NoSystemRight(kind.listing_right());
    let Some(holder) = find(conn, kind, id)? else {
        return Err(if may_list {
            HoldersError::NotFound { kind, id }
        } else {
            refused()
        });
    };
    if may_list || takes_part(conn, caller, &holder)? {
        Ok(holder)
    } else {
        Err(refused())
    }
}

/// Replaces the own sets of a whole request of holders (§10.2, §10.3) in one transaction:
/// the first failing element (in input order) is the answer and nothing is stored. Needs
/// `system.rightsmanagement` or root; only root adds or removes root. Returns the holders
/// as stored, in input order.
pub fn change(
    conn: &mut DbConn,
    caller: &Principal,
    kind: Kind,
    changes: Vec<RightsChange>,
    catalog: &Catalog,
) -> Result<Vec<Holder>, HoldersError> {
    authorize_change(caller)?;
    refuse_duplicates(&changes)?;
    storage::write_tx(conn, |conn| {
        let checked = check_changes(conn, caller, kind, &changes, catalog)?;
        for (change, (holder, rights)) in changes.iter().zip(&checked) {
            store(conn, kind, holder, rights, change.version)?;
        }
        checked
            .iter()
            .map(|(holder, _)| {
                find(conn, kind, holder.id)?.ok_or(HoldersError::NotFound {
                    kind,
                    id: holder.id,
                })
            })
            .collect()
    })
}

/// The checks of [`change`] without writing: the edge calls it on the elements before one
/// it cannot decode, so the first failure in input order is the answer.
pub fn check(
    conn: &mut DbConn,
    caller: &Principal,
    kind: Kind,
    changes: &[RightsChange],
    catalog: &Catalog,
) -> Result<(), HoldersError> {
    authorize_change(caller)?;
    refuse_duplicates(changes)?;
    check_changes(conn, caller, kind, changes, catalog).map(|_| ())
}

/// Whether the caller may change system rights (§10.2): `system.rightsmanagement` or root.
pub fn authorize_change(caller: &Principal) -> Result<(), HoldersError> {
    if holds(&caller.effective, RIGHTS_MANAGEMENT) {
        Ok(())
    } else {
        Err(HoldersError::NoSystemRight(RIGHTS_MANAGEMENT))
    }
}

fn refuse_duplicates(changes: &[RightsChange]) -> Result<(), HoldersError> {
    let mut seen = BTreeSet::new();
    match changes.iter().find(|c| !seen.insert(c.id)) {
        Some(c) => Err(HoldersError::DuplicateId(c.id)),
        None => Ok(()),
    }
}

/// Per element, in this order: known id, version, right names, parameters, the root rule.
fn check_changes(
    conn: &mut DbConn,
    caller: &Principal,
    kind: Kind,
    changes: &[RightsChange],
    catalog: &Catalog,
) -> Result<Vec<(Holder, RightsSpec)>, HoldersError> {
    let caller_is_root = caller.effective.0.contains_key(ROOT);
    let mut checked = Vec::with_capacity(changes.len());
    for change in changes {
        let holder = find(conn, kind, change.id)?.ok_or(HoldersError::NotFound {
            kind,
            id: change.id,
        })?;
        let expected = holder.version + 1;
        if change.version != expected {
            return Err(HoldersError::VersionMismatch {
                provided: change.version,
                expected,
            });
        }
        let rights = match &change.rights {
            None => holder.rights.clone(),
            Some(given) => system_rights(catalog, given)?,
        };
        if rights.0.contains_key(ROOT) != holder.rights.0.contains_key(ROOT) && !caller_is_root {
            return Err(HoldersError::NoSystemRight(ROOT));
        }
        checked.push((holder, rights));
    }
    Ok(checked)
}

/// A set of system rights as given: `null` is the empty set; every name must be a system
/// right (or the alias), then the parameters must be valid.
pub fn system_rights(catalog: &Catalog, given: &Given) -> Result<RightsSpec, HoldersError> {
    let system = catalog
        .context("system")
        .ok_or_else(|| HoldersError::Storage(StorageError::Internal("no system context".into())))?;
    match given {
        Given::Null => Ok(RightsSpec(BTreeMap::new())),
        Given::Map(map) => {
            if let Some(name) = map.keys().find(|name| system.right(name).is_none()) {
                return Err(HoldersError::RightNotFound(name.clone()));
            }
            Ok(system.validate(given)?)
        }
        _ => Err(SpecError::NotAnObject("_system_rights".to_owned()).into()),
    }
}

/// Writes a holder's set at `version`, if nobody changed it since it was read.
pub(crate) fn store(
    conn: &mut DbConn,
    kind: Kind,
    holder: &Holder,
    rights: &RightsSpec,
    version: i64,
) -> Result<(), HoldersError> {
    let text = rights.to_stored();
    let changed = match kind {
        Kind::User => diesel::update(
            users::table
                .filter(users::num_id.eq(holder.id))
                .filter(users::rights_version.eq(holder.version)),
        )
        .set((
            users::system_rights.eq(text),
            users::rights_version.eq(version),
        ))
        .execute(conn)?,
        Kind::Group => diesel::update(
            organizations::table
                .filter(organizations::num_id.eq(holder.id))
                .filter(organizations::rights_version.eq(holder.version)),
        )
        .set((
            organizations::system_rights.eq(text),
            organizations::rights_version.eq(version),
        ))
        .execute(conn)?,
    };
    if changed == 0 {
        // Another writer changed the set between the read and this write.
        return Err(HoldersError::VersionMismatch {
            provided: version,
            expected: version + 1,
        });
    }
    Ok(())
}

/// The operator's change (§10.4): what to do with one right of a holder's own set.
#[derive(Debug, Clone, PartialEq)]
pub enum OperatorChange {
    /// Add the right, or replace its parameters.
    Grant { right: String, parameters: Given },
    /// Remove the right (nothing to do when it is not held; the version still counts).
    Revoke { right: String },
}

/// The holder an operator names: a user by Keyrock id, e-mail address or username; a
/// group by Keyrock id or name. A name shared by several holders names none.
pub fn find_named(conn: &mut DbConn, kind: Kind, who: &str) -> Result<Holder, HoldersError> {
    let unknown = |why: &str| {
        HoldersError::UnknownHolder(match kind {
            Kind::User => {
                format!("{why} user {who:?} (give a username, e-mail address or Keyrock id)")
            }
            Kind::Group => format!("{why} group {who:?} (give an organization name or Keyrock id)"),
        })
    };
    if !storage::is_storable(who) {
        return Err(unknown("no"));
    }
    let ids: Vec<i64> = match kind {
        Kind::User => {
            let by_id: Option<i64> = users::table
                .filter(users::id.eq(who))
                .select(users::num_id)
                .first(conn)
                .optional()?;
            match by_id {
                Some(id) => vec![id],
                None => match auth_core::users::find_user_by_email(conn, who)
                    .map_err(|e| StorageError::Internal(e.to_string()))?
                {
                    Some(user) => users::table
                        .filter(users::id.eq(&user.id))
                        .select(users::num_id)
                        .load(conn)?,
                    None => users::table
                        .filter(users::username.eq(who))
                        .select(users::num_id)
                        .limit(2)
                        .load(conn)?,
                },
            }
        }
        Kind::Group => {
            let by_id: Vec<i64> = organizations::table
                .filter(organizations::id.eq(who))
                .select(organizations::num_id)
                .load(conn)?;
            if by_id.is_empty() {
                organizations::table
                    .filter(organizations::name.eq(who))
                    .select(organizations::num_id)
                    .limit(2)
                    .load(conn)?
            } else {
                by_id
            }
        }
    };
    match ids.as_slice() {
        [id] => find(conn, kind, *id)?.ok_or_else(|| unknown("no")),
        [] => Err(unknown("no")),
        _ => Err(unknown("more than one")),
    }
}

/// Applies an operator's change to a holder's own set, one version up (§10.4). Works
/// while servers run: a set changed meanwhile is read again.
pub fn operator_change(
    conn: &mut DbConn,
    kind: Kind,
    who: &str,
    change: &OperatorChange,
    catalog: &Catalog,
) -> Result<Holder, HoldersError> {
    loop {
        let outcome = storage::write_tx(conn, |conn| {
            let holder = find_named(conn, kind, who)?;
            let mut rights = holder.rights.0.clone();
            match change {
                OperatorChange::Grant { right, parameters } => {
                    let one = Given::Map([(right.clone(), parameters.clone())].into());
                    rights.extend(system_rights(catalog, &one)?.0);
                }
                OperatorChange::Revoke { right } => {
                    let canonical = crate::catalog::canonical(right);
                    let known = catalog
                        .context("system")
                        .is_some_and(|system| system.right(canonical).is_some());
                    if !known {
                        return Err(HoldersError::RightNotFound(right.clone()));
                    }
                    rights.remove(canonical);
                }
            }
            store(conn, kind, &holder, &RightsSpec(rights), holder.version + 1)?;
            find(conn, kind, holder.id)?.ok_or(HoldersError::NotFound {
                kind,
                id: holder.id,
            })
        });
        match outcome {
            // A server changed the set between the read and the write: read it again.
            Err(HoldersError::VersionMismatch { .. }) => continue,
            other => return other,
        }
    }
}

fn may_list(caller: &Principal, kind: Kind) -> bool {
    holds(&caller.effective, kind.listing_right()) || holds(&caller.effective, RIGHTS_MANAGEMENT)
}

/// Whether the caller is this user, or the owner or a member of this group.
fn takes_part(
    conn: &mut DbConn,
    caller: &Principal,
    holder: &Holder,
) -> Result<bool, HoldersError> {
    Ok(match holder.kind {
        Kind::User => holder.keyrock_id == caller.user_id,
        Kind::Group => diesel::select(diesel::dsl::exists(
            user_organizations::table
                .filter(user_organizations::user_id.eq(&caller.user_id))
                .filter(user_organizations::organization_id.eq(&holder.keyrock_id)),
        ))
        .get_result(conn)?,
    })
}

/// The holder of this `_id`.
pub fn find(conn: &mut DbConn, kind: Kind, id: i64) -> Result<Option<Holder>, HoldersError> {
    match kind {
        Kind::User => {
            let row: Option<UserRow> = users::table
                .filter(users::num_id.eq(id))
                .select(user_columns())
                .first(conn)
                .optional()?;
            row.map(|row| user(conn, row)).transpose()
        }
        Kind::Group => {
            let row: Option<GroupRow> = organizations::table
                .filter(organizations::num_id.eq(id))
                .select(group_columns())
                .first(conn)
                .optional()?;
            row.map(group).transpose()
        }
    }
}

/// The user of this Keyrock id, with its groups.
pub fn user_by_keyrock_id(
    conn: &mut DbConn,
    keyrock_id: &str,
) -> Result<Option<Holder>, HoldersError> {
    let row: Option<UserRow> = users::table
        .filter(users::id.eq(keyrock_id))
        .select(user_columns())
        .first(conn)
        .optional()?;
    row.map(|row| user(conn, row)).transpose()
}

/// The groups a user belongs to (owner or member), by `_id`.
pub fn groups_of(conn: &mut DbConn, keyrock_id: &str) -> Result<Vec<GroupRef>, HoldersError> {
    Ok(groups_of_all(conn, &[keyrock_id])?
        .remove(keyrock_id)
        .unwrap_or_default())
}

/// The groups of each of these users (by Keyrock id), each list by `_id`, in one query.
fn groups_of_all(
    conn: &mut DbConn,
    keyrock_ids: &[&str],
) -> Result<BTreeMap<String, Vec<GroupRef>>, HoldersError> {
    let rows: Vec<(String, i64, String, String)> = user_organizations::table
        .inner_join(
            organizations::table.on(organizations::id.eq(user_organizations::organization_id)),
        )
        .filter(user_organizations::user_id.eq_any(keyrock_ids))
        .order(organizations::num_id.asc())
        .select((
            user_organizations::user_id,
            organizations::num_id,
            organizations::id,
            organizations::name,
        ))
        .load(conn)?;
    let mut by_user: BTreeMap<String, Vec<GroupRef>> = BTreeMap::new();
    for (user, id, keyrock_id, name) in rows {
        by_user.entry(user).or_default().push(GroupRef {
            id,
            keyrock_id,
            name,
        });
    }
    Ok(by_user)
}

#[allow(clippy::type_complexity)]
fn user_columns() -> (
    users::num_id,
    users::id,
    users::username,
    users::email,
    users::rights_version,
    users::system_rights,
) {
    (
        users::num_id,
        users::id,
        users::username,
        users::email,
        users::rights_version,
        users::system_rights,
    )
}

fn group_columns() -> (
    organizations::num_id,
    organizations::id,
    organizations::name,
    organizations::rights_version,
    organizations::system_rights,
) {
    (
        organizations::num_id,
        organizations::id,
        organizations::name,
        organizations::rights_version,
        organizations::system_rights,
    )
}

fn user(conn: &mut DbConn, row: UserRow) -> Result<Holder, HoldersError> {
    let groups = groups_of(conn, &row.1)?;
    user_with(row, groups)
}

fn user_with(row: UserRow, groups: Vec<GroupRef>) -> Result<Holder, HoldersError> {
    let (id, keyrock_id, name, email, version, text) = row;
    Ok(Holder {
        kind: Kind::User,
        id,
        rights: read(&text, &keyrock_id)?,
        keyrock_id,
        name,
        email: Some(email),
        version,
        groups,
    })
}

fn group(row: GroupRow) -> Result<Holder, HoldersError> {
    let (id, keyrock_id, name, version, text) = row;
    Ok(Holder {
        kind: Kind::Group,
        id,
        rights: read(&text, &keyrock_id)?,
        keyrock_id,
        name,
        email: None,
        version,
        groups: Vec::new(),
    })
}

fn read(text: &str, owner: &str) -> Result<RightsSpec, HoldersError> {
    RightsSpec::from_stored(text).ok_or_else(|| HoldersError::Corrupt(owner.to_owned()))
}

#[cfg(test)]
mod tests;
