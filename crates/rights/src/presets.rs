//! Right presets (easydb-rights.md §7, §8): named rights specifications per context with
//! the `preset` capability, ordered by a per-context `_position`, changed under `_version`
//! optimistic concurrency, a whole request at a time.

use std::collections::BTreeMap;

use storage::diesel;
use storage::diesel::prelude::*;
use storage::schema::right_presets;
use storage::{to_db_time, DbConn, StorageError};
use time::OffsetDateTime;

use crate::catalog::{Catalog, Context, Given, RightsSpec, SpecError, PRESET_MANAGER};
use crate::system::{holds, Principal};

/// A localisation map: language to text.
pub type Localised = BTreeMap<String, String>;

/// `tagfilter`: tag ids of which a record must carry all, any, or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub all: Option<Vec<i64>>,
    pub any: Option<Vec<i64>>,
    pub not: Option<Vec<i64>>,
}

impl TagFilter {
    fn is_empty(&self) -> bool {
        [&self.all, &self.any, &self.not]
            .iter()
            .all(|l| l.as_ref().is_none_or(Vec::is_empty))
    }
}

/// A stored preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    pub id: i64,
    pub version: i64,
    pub position: i64,
    pub displayname: Localised,
    pub description: Localised,
    pub rights: RightsSpec,
    pub tagfilter: Option<TagFilter>,
}

/// One element of a POST: an insert (no `id`) or an update, structurally checked by the
/// edge already.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetWrite {
    pub id: Option<i64>,
    pub version: i64,
    pub position: Option<i64>,
    pub displayname: Localised,
    pub description: Localised,
    /// The rights as given; checked against the context's catalog here.
    pub rights: Given,
    pub tagfilter: Option<TagFilter>,
}

/// Why a preset call is refused; each names one easydb error code.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The caller may not change presets (`system.rightpresetmanager`, its alias or root).
    #[error("the session user lacks system.rightpresetmanager")]
    NoSystemRight,
    #[error("right context {0:?} is unknown")]
    UnknownContext(String),
    #[error("right context {0:?} does not support presets")]
    NoPresets(String),
    #[error("_id {0} occurs more than once in the request")]
    DuplicateId(i64),
    #[error("no right preset {0} in this context")]
    NotFound(i64),
    #[error("_version {provided} given, {expected} expected")]
    VersionMismatch { provided: i64, expected: i64 },
    #[error("{0}")]
    InvalidRights(#[from] SpecError),
    #[error("tagfilter needs at least one non-empty list of all, any or not")]
    EmptyTagFilter,
    /// Two presets of the context would share a `_position` after the request.
    #[error("two presets of the context would share _position {0}")]
    PositionClash(i64),
    /// A stored preset that does not read (written by something else).
    #[error("stored preset {0} does not read")]
    Corrupt(i64),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<diesel::result::Error> for PresetError {
    fn from(e: diesel::result::Error) -> Self {
        PresetError::Storage(e.into())
    }
}

/// The context of `name`, if it has presets.
pub fn preset_context<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c Context, PresetError> {
    let context = catalog
        .context(name)
        .ok_or_else(|| PresetError::UnknownContext(name.to_owned()))?;
    if context.has_presets() {
        Ok(context)
    } else {
        Err(PresetError::NoPresets(name.to_owned()))
    }
}

type Row = (i64, i64, i64, String, String, String, Option<String>);

fn columns() -> (
    right_presets::num_id,
    right_presets::version,
    right_presets::position,
    right_presets::displayname,
    right_presets::description,
    right_presets::rights,
    right_presets::tagfilter,
) {
    (
        right_presets::num_id,
        right_presets::version,
        right_presets::position,
        right_presets::displayname,
        right_presets::description,
        right_presets::rights,
        right_presets::tagfilter,
    )
}

/// The context's presets by `_position` (§7.2).
pub fn list(conn: &mut DbConn, context: &Context) -> Result<Vec<Preset>, PresetError> {
    let rows: Vec<Row> = right_presets::table
        .filter(right_presets::context.eq(&context.name))
        .order((right_presets::position.asc(), right_presets::num_id.asc()))
        .select(columns())
        .load(conn)?;
    rows.into_iter().map(read).collect()
}

/// Inserts and updates a whole request (§7.3) in one transaction: the first failing
/// element (in input order) is the answer and nothing is stored; positions are checked on
/// the state after every element. Returns the stored presets in input order.
pub fn save(
    conn: &mut DbConn,
    caller: &Principal,
    context: &Context,
    writes: Vec<PresetWrite>,
    now: OffsetDateTime,
) -> Result<Vec<Preset>, PresetError> {
    authorize(caller)?;
    refuse_duplicates(&writes)?;
    storage::write_tx(conn, |conn| {
        if let DbConn::Postgres(c) = conn {
            // One writer per context at a time, so the position check after the request
            // sees every concurrent change (SQLite's write lock already serializes).
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind::<diesel::sql_types::Text, _>(&context.name)
                .execute(c)?;
        }
        // Check every element in input order before writing anything.
        let rights = check_writes(conn, context, &writes)?;
        let checked: Vec<_> = writes.into_iter().zip(rights).collect();
        // Updates and inserts with a position first; inserts without one go last.
        let mut ids = vec![0; checked.len()];
        for (i, (write, rights)) in checked.iter().enumerate() {
            if let Some(id) = write.id {
                update(conn, id, write, rights)?;
                ids[i] = id;
            } else if let Some(position) = write.position {
                ids[i] = insert(conn, context, position, write, rights, now)?;
            }
        }
        for (i, (write, rights)) in checked.iter().enumerate() {
            if write.id.is_none() && write.position.is_none() {
                let last: Option<i64> = right_presets::table
                    .filter(right_presets::context.eq(&context.name))
                    .select(diesel::dsl::max(right_presets::position))
                    .first(conn)?;
                let position = last.map_or(0, |p| p + 1);
                ids[i] = insert(conn, context, position, write, rights, now)?;
            }
        }
        let clash: Option<i64> = right_presets::table
            .filter(right_presets::context.eq(&context.name))
            .group_by(right_presets::position)
            .having(diesel::dsl::count(right_presets::num_id).gt(1))
            .select(right_presets::position)
            .first(conn)
            .optional()?;
        if let Some(position) = clash {
            return Err(PresetError::PositionClash(position));
        }
        ids.into_iter()
            .map(|id| find(conn, context, id)?.ok_or(PresetError::NotFound(id)))
            .collect()
    })
}

/// The checks of [`save`] without writing: the edge calls it on the elements before one
/// it cannot decode, so the first failure in input order is the answer.
pub fn check(
    conn: &mut DbConn,
    context: &Context,
    writes: &[PresetWrite],
) -> Result<(), PresetError> {
    refuse_duplicates(writes)?;
    check_writes(conn, context, writes).map(|_| ())
}

fn refuse_duplicates(writes: &[PresetWrite]) -> Result<(), PresetError> {
    let mut seen = std::collections::BTreeSet::new();
    match writes
        .iter()
        .filter_map(|w| w.id)
        .find(|id| !seen.insert(*id))
    {
        Some(id) => Err(PresetError::DuplicateId(id)),
        None => Ok(()),
    }
}

/// Per element, in input order: the `_id` lookup, `_version`, the rights, the tag filter.
fn check_writes(
    conn: &mut DbConn,
    context: &Context,
    writes: &[PresetWrite],
) -> Result<Vec<RightsSpec>, PresetError> {
    let mut checked = Vec::with_capacity(writes.len());
    for write in writes {
        if let Some(id) = write.id {
            let stored = find(conn, context, id)?.ok_or(PresetError::NotFound(id))?;
            let expected = stored.version + 1;
            if write.version != expected {
                return Err(PresetError::VersionMismatch {
                    provided: write.version,
                    expected,
                });
            }
        } else if write.version != 1 {
            return Err(PresetError::VersionMismatch {
                provided: write.version,
                expected: 1,
            });
        }
        let rights = context.validate(&write.rights)?;
        if write.tagfilter.as_ref().is_some_and(TagFilter::is_empty) {
            return Err(PresetError::EmptyTagFilter);
        }
        checked.push(rights);
    }
    Ok(checked)
}

/// Whether the caller may change presets (§7.3): it holds `system.rightpresetmanager`
/// (or the alias, or root).
pub fn authorize(caller: &Principal) -> Result<(), PresetError> {
    if holds(&caller.effective, PRESET_MANAGER) {
        Ok(())
    } else {
        Err(PresetError::NoSystemRight)
    }
}

/// Deletes a preset of the context (§7.4); other positions stay as they are.
pub fn delete(
    conn: &mut DbConn,
    caller: &Principal,
    context: &Context,
    id: i64,
) -> Result<(), PresetError> {
    authorize(caller)?;
    let deleted = diesel::delete(
        right_presets::table
            .filter(right_presets::num_id.eq(id))
            .filter(right_presets::context.eq(&context.name)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(PresetError::NotFound(id));
    }
    Ok(())
}

fn find(conn: &mut DbConn, context: &Context, id: i64) -> Result<Option<Preset>, PresetError> {
    let row: Option<Row> = right_presets::table
        .filter(right_presets::num_id.eq(id))
        .filter(right_presets::context.eq(&context.name))
        .select(columns())
        .first(conn)
        .optional()?;
    row.map(read).transpose()
}

fn update(
    conn: &mut DbConn,
    id: i64,
    write: &PresetWrite,
    rights: &RightsSpec,
) -> Result<(), PresetError> {
    let target = right_presets::table
        .filter(right_presets::num_id.eq(id))
        .filter(right_presets::version.eq(write.version - 1));
    let fields = (
        right_presets::version.eq(write.version),
        right_presets::displayname.eq(json_map(&write.displayname)),
        right_presets::description.eq(json_map(&write.description)),
        right_presets::rights.eq(rights.to_stored()),
        right_presets::tagfilter.eq(write.tagfilter.as_ref().map(tagfilter_json)),
    );
    let changed = match write.position {
        Some(position) => diesel::update(target)
            .set((fields, right_presets::position.eq(position)))
            .execute(conn)?,
        None => diesel::update(target).set(fields).execute(conn)?,
    };
    if changed == 0 {
        // Another writer took this version between the check and the update.
        return Err(PresetError::VersionMismatch {
            provided: write.version,
            expected: write.version + 1,
        });
    }
    Ok(())
}

fn insert(
    conn: &mut DbConn,
    context: &Context,
    position: i64,
    write: &PresetWrite,
    rights: &RightsSpec,
    now: OffsetDateTime,
) -> Result<i64, PresetError> {
    let values = (
        right_presets::context.eq(&context.name),
        right_presets::position.eq(position),
        right_presets::version.eq(1_i64),
        right_presets::displayname.eq(json_map(&write.displayname)),
        right_presets::description.eq(json_map(&write.description)),
        right_presets::rights.eq(rights.to_stored()),
        right_presets::tagfilter.eq(write.tagfilter.as_ref().map(tagfilter_json)),
        right_presets::created_at.eq(to_db_time(now)),
    );
    let id = match conn {
        DbConn::Postgres(c) => diesel::insert_into(right_presets::table)
            .values(values)
            .returning(right_presets::num_id)
            .get_result::<i64>(c)?,
        DbConn::Sqlite(c) => {
            diesel::insert_into(right_presets::table)
                .values(values)
                .execute(c)?;
            // This connection's last insert, inside the write transaction.
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "last_insert_rowid()",
            ))
            .get_result::<i64>(c)?
        }
    };
    Ok(id)
}

fn json_map(map: &Localised) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".to_owned())
}

fn tagfilter_json(filter: &TagFilter) -> String {
    let mut out = serde_json::Map::new();
    for (key, list) in [
        ("all", &filter.all),
        ("any", &filter.any),
        ("not", &filter.not),
    ] {
        if let Some(list) = list {
            out.insert(key.to_owned(), serde_json::json!(list));
        }
    }
    serde_json::Value::Object(out).to_string()
}

fn read(row: Row) -> Result<Preset, PresetError> {
    let (id, version, position, displayname, description, rights, tagfilter) = row;
    let corrupt = || PresetError::Corrupt(id);
    let displayname: Localised = serde_json::from_str(&displayname).map_err(|_| corrupt())?;
    let description: Localised = serde_json::from_str(&description).map_err(|_| corrupt())?;
    let rights = RightsSpec::from_stored(&rights).ok_or_else(corrupt)?;
    let tagfilter = match tagfilter {
        None => None,
        Some(text) => {
            let value: BTreeMap<String, Vec<i64>> =
                serde_json::from_str(&text).map_err(|_| corrupt())?;
            Some(TagFilter {
                all: value.get("all").cloned(),
                any: value.get("any").cloned(),
                not: value.get("not").cloned(),
            })
        }
    };
    Ok(Preset {
        id,
        version,
        position,
        displayname,
        description,
        rights,
        tagfilter,
    })
}

#[cfg(test)]
mod tests;
