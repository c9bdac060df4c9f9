//! Bundles (§2.3): named sets of access rights. Everyone reads them; admins add them; they
//! are never changed or deleted.

use std::collections::HashMap;

use storage::diesel::prelude::*;
use storage::schema::bundles;
use storage::{to_db_time, write_tx, DbConn, StorageError};
use time::OffsetDateTime;

use crate::error::{BundleError, FieldErrors, REQUIRED};
use crate::input::Field;
use crate::paging::{Order, Page, Paging};
use crate::users::Caller;

/// The longest bundle name, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// An access right a bundle gives user_allowed over user_target's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// See the target's data and profile.
    Read,
    /// Create, change and delete the target's data.
    Write,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        match text {
            "read" => Some(Permission::Read),
            "write" => Some(Permission::Write),
            _ => None,
        }
    }
}

/// A stored bundle; `permissions` is non-empty, without duplicates, read before write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Permission>,
}

type Row = (i64, String, String, String);

fn columns() -> (
    bundles::num_id,
    bundles::name,
    bundles::description,
    bundles::permissions,
) {
    (
        bundles::num_id,
        bundles::name,
        bundles::description,
        bundles::permissions,
    )
}

fn from_row((id, name, description, stored): Row) -> Result<Bundle, BundleError> {
    let permissions: Option<Vec<Permission>> = stored.split(',').map(Permission::parse).collect();
    match permissions {
        Some(permissions) if !permissions.is_empty() => Ok(Bundle {
            id,
            name,
            description,
            permissions,
        }),
        _ => Err(BundleError::Corrupt(format!("bundle {id}"))),
    }
}

/// The stored form: the names comma-separated, in the canonical order.
fn stored(permissions: &[Permission]) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The key names are unique by.
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// The fields the bundle list orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleOrder {
    Id,
    Name,
}

/// The bundle list has no filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleQuery {
    /// Empty: by id ascending. Ties are broken by id.
    pub order: Vec<Order<BundleOrder>>,
    pub paging: Paging,
}

/// Every bundle (any authenticated caller may list them).
pub fn list(conn: &mut DbConn, query: &BundleQuery) -> Result<Page<Bundle>, BundleError> {
    let total: i64 = bundles::table.count().get_result(conn)?;
    let mut q = bundles::table.select(columns()).into_boxed();
    for order in &query.order {
        q = match (order.field, order.descending) {
            (BundleOrder::Id, false) => q.then_order_by(bundles::num_id.asc()),
            (BundleOrder::Id, true) => q.then_order_by(bundles::num_id.desc()),
            (BundleOrder::Name, false) => q.then_order_by(bundles::name.asc()),
            (BundleOrder::Name, true) => q.then_order_by(bundles::name.desc()),
        };
    }
    let rows: Vec<Row> = q
        .then_order_by(bundles::num_id.asc())
        .limit(query.paging.limit)
        .offset(query.paging.offset)
        .load(conn)?;
    Ok(Page {
        paging: query.paging,
        total,
        items: rows.into_iter().map(from_row).collect::<Result<_, _>>()?,
    })
}

/// The bundle with this id, if any.
pub fn find(conn: &mut DbConn, id: i64) -> Result<Option<Bundle>, BundleError> {
    let row: Option<Row> = bundles::table
        .filter(bundles::num_id.eq(id))
        .select(columns())
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// The bundle with this name (case-insensitively), if any.
pub fn find_by_name(conn: &mut DbConn, name: &str) -> Result<Option<Bundle>, BundleError> {
    if !storage::is_storable(name) {
        return Ok(None);
    }
    let row: Option<Row> = bundles::table
        .filter(bundles::name_key.eq(name_key(name)))
        .select(columns())
        .first(conn)
        .optional()?;
    row.map(from_row).transpose()
}

/// One bundle; `NotFound` if there is none with this id.
pub fn get(conn: &mut DbConn, id: i64) -> Result<Bundle, BundleError> {
    find(conn, id)?.ok_or(BundleError::NotFound)
}

/// The bundles of these ids, by id.
pub(crate) fn load_map(
    conn: &mut DbConn,
    ids: Vec<i64>,
) -> Result<HashMap<i64, Bundle>, BundleError> {
    let rows: Vec<Row> = bundles::table
        .filter(bundles::num_id.eq_any(ids))
        .select(columns())
        .load(conn)?;
    rows.into_iter()
        .map(|row| from_row(row).map(|b| (b.id, b)))
        .collect()
}

/// Looks up one bundle of `map`, or reports the row that refers to it as corrupt.
pub(crate) fn take(map: &HashMap<i64, Bundle>, id: i64, what: &str) -> Result<Bundle, BundleError> {
    map.get(&id)
        .cloned()
        .ok_or_else(|| BundleError::Corrupt(format!("{what}: bundle {id} is missing")))
}

/// `POST /api/bundle/`'s body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewBundle {
    pub name: Field<String>,
    /// Absent or null: `""`.
    pub description: Field<String>,
    /// The names as given; anything but `read` and `write` is a field error.
    pub permissions: Field<Vec<String>>,
}

/// Who may create bundles: admins only (§2.3). Checked before anything of the request is
/// looked at, its body included: an edge that parses the body calls this first.
pub fn authorize_create(caller: &Caller) -> Result<(), BundleError> {
    if caller.admin {
        Ok(())
    } else {
        Err(BundleError::Forbidden)
    }
}

/// Creates a bundle: admins only ([`authorize_create`], before the fields are looked at);
/// every field problem is reported together under `Invalid`.
pub fn create(
    conn: &mut DbConn,
    caller: &Caller,
    new: NewBundle,
    now: OffsetDateTime,
) -> Result<Bundle, BundleError> {
    authorize_create(caller)?;
    write_tx(conn, |conn| {
        let mut errors = FieldErrors::default();
        let name = match new.name {
            Field::Value(name) if name.is_empty() => {
                errors.add("name", "must not be empty");
                None
            }
            Field::Value(name) if name.chars().count() > NAME_MAX_CHARS => {
                errors.add("name", format!("at most {NAME_MAX_CHARS} characters"));
                None
            }
            Field::Value(name) if !storage::is_storable(&name) => {
                errors.add("name", "must not contain NUL");
                None
            }
            Field::Value(name) => {
                if find_by_name(conn, &name)?.is_some() {
                    errors.add("name", "a bundle with this name already exists");
                    None
                } else {
                    Some(name)
                }
            }
            Field::Invalid(message) => {
                errors.add("name", message);
                None
            }
            Field::Absent | Field::Null => {
                errors.add("name", REQUIRED);
                None
            }
        };
        let description = match new.description.optional() {
            Ok(d) => d.unwrap_or_default(),
            Err(message) => {
                errors.add("description", message);
                String::new()
            }
        };
        let permissions = match new.permissions {
            Field::Value(given) if given.is_empty() => {
                errors.add("permissions", "must name at least one of read, write");
                None
            }
            Field::Value(given) => {
                let mut parsed = Vec::with_capacity(given.len());
                for text in &given {
                    match Permission::parse(text) {
                        Some(p) => parsed.push(p),
                        None => {
                            errors.add("permissions", format!("{text:?} is not one of read, write"))
                        }
                    }
                }
                parsed.sort();
                parsed.dedup();
                Some(parsed)
            }
            Field::Invalid(message) => {
                errors.add("permissions", message);
                None
            }
            Field::Absent | Field::Null => {
                errors.add("permissions", REQUIRED);
                None
            }
        };
        errors.check()?;
        let (Some(name), Some(permissions)) = (name, permissions) else {
            return Err(BundleError::Invalid(Vec::new()));
        };
        let inserted = diesel::insert_into(bundles::table)
            .values((
                bundles::name.eq(&name),
                bundles::name_key.eq(name_key(&name)),
                bundles::description.eq(&description),
                bundles::permissions.eq(stored(&permissions)),
                bundles::created_at.eq(to_db_time(now)),
            ))
            .execute(conn);
        match inserted.map_err(StorageError::from) {
            Ok(_) => {}
            // Only possible if the check above raced another writer (PostgreSQL).
            Err(StorageError::Conflict(_)) => {
                let mut errors = FieldErrors::default();
                errors.add("name", "a bundle with this name already exists");
                errors.check()?;
            }
            Err(e) => return Err(e.into()),
        }
        find_by_name(conn, &name)?.ok_or(BundleError::NotFound)
    })
}

#[cfg(test)]
mod tests;
