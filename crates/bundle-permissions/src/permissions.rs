//! Bundle permissions (§2.4): the granted (bundle, user_allowed, user_target) triples.

use storage::diesel::prelude::*;
use storage::schema::bundle_permissions;
use storage::{to_db_time, write_tx, DbConn, StorageError};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::bundles::{self, Bundle};
use crate::error::{BundleError, FieldErrors, REQUIRED};
use crate::input::Field;
use crate::paging::{Order, Page, Paging};
use crate::users::{self, Caller, UserObject, UserRef};

/// The longest permission `name`, in characters.
pub const NAME_MAX_CHARS: usize = 255;

/// A granted permission, with its bundle and users in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundlePermission {
    pub id: i64,
    pub bundle: Bundle,
    pub user_allowed: UserObject,
    pub user_target: UserObject,
    pub name: Option<String>,
}

impl BundlePermission {
    fn involves(&self, caller: &Caller) -> bool {
        caller.admin || caller.is(&self.user_allowed) || caller.is(&self.user_target)
    }
}

/// What a create or a redeem found: a new triple, or the identical one already there
/// (unchanged, its `name` kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    Created(BundlePermission),
    Existing(BundlePermission),
}

impl Granted {
    pub fn permission(&self) -> &BundlePermission {
        match self {
            Granted::Created(p) | Granted::Existing(p) => p,
        }
    }

    pub fn into_permission(self) -> BundlePermission {
        match self {
            Granted::Created(p) | Granted::Existing(p) => p,
        }
    }
}

type Row = (i64, i64, String, String, Option<String>);

fn columns() -> (
    bundle_permissions::num_id,
    bundle_permissions::bundle_id,
    bundle_permissions::user_allowed,
    bundle_permissions::user_target,
    bundle_permissions::name,
) {
    (
        bundle_permissions::num_id,
        bundle_permissions::bundle_id,
        bundle_permissions::user_allowed,
        bundle_permissions::user_target,
        bundle_permissions::name,
    )
}

/// The rows with their bundles and users.
fn populate(conn: &mut DbConn, rows: Vec<Row>) -> Result<Vec<BundlePermission>, BundleError> {
    let bundle_ids = rows.iter().map(|r| r.1).collect();
    let user_ids = rows
        .iter()
        .flat_map(|r| [r.2.clone(), r.3.clone()])
        .collect();
    let bundle_map = bundles::load_map(conn, bundle_ids)?;
    let user_map = users::load_map(conn, user_ids)?;
    rows.into_iter()
        .map(|(id, bundle_id, allowed, target, name)| {
            let what = format!("bundle permission {id}");
            Ok(BundlePermission {
                id,
                bundle: bundles::take(&bundle_map, bundle_id, &what)?,
                user_allowed: users::take(&user_map, &allowed, &what)?,
                user_target: users::take(&user_map, &target, &what)?,
                name,
            })
        })
        .collect()
}

fn find(conn: &mut DbConn, id: i64) -> Result<Option<BundlePermission>, BundleError> {
    let row: Option<Row> = bundle_permissions::table
        .filter(bundle_permissions::num_id.eq(id))
        .select(columns())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) => populate(conn, vec![row])?.pop(),
        None => None,
    })
}

/// The list's filters (`exact` is a one-element list, `in` any list; `None` is no filter).
/// References that do not resolve match nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionFilter {
    pub bundle: Option<Vec<i64>>,
    pub user_allowed: Option<Vec<UserRef>>,
    pub user_target: Option<Vec<UserRef>>,
}

/// The only field the permission list orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionOrder {
    Id,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionQuery {
    pub filter: PermissionFilter,
    /// Empty: by id ascending.
    pub order: Vec<Order<PermissionOrder>>,
    pub paging: Paging,
}

/// The permissions the caller takes part in (admins: all) that match the filters.
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    query: &PermissionQuery,
) -> Result<Page<BundlePermission>, BundleError> {
    let allowed = match &query.filter.user_allowed {
        Some(refs) => Some(users::resolve_all(conn, refs)?),
        None => None,
    };
    let target = match &query.filter.user_target {
        Some(refs) => Some(users::resolve_all(conn, refs)?),
        None => None,
    };
    let filtered = || {
        let mut q = bundle_permissions::table.select(columns()).into_boxed();
        if !caller.admin {
            q = q.filter(
                bundle_permissions::user_allowed
                    .eq(caller.keyrock_id.clone())
                    .or(bundle_permissions::user_target.eq(caller.keyrock_id.clone())),
            );
        }
        if let Some(ids) = &query.filter.bundle {
            q = q.filter(bundle_permissions::bundle_id.eq_any(ids.clone()));
        }
        if let Some(ids) = &allowed {
            q = q.filter(bundle_permissions::user_allowed.eq_any(ids.clone()));
        }
        if let Some(ids) = &target {
            q = q.filter(bundle_permissions::user_target.eq_any(ids.clone()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let descending = query.order.first().is_some_and(|o| o.descending);
    let q = if descending {
        filtered().order(bundle_permissions::num_id.desc())
    } else {
        filtered().order(bundle_permissions::num_id.asc())
    };
    let rows: Vec<Row> = q
        .limit(query.paging.limit)
        .offset(query.paging.offset)
        .load(conn)?;
    Ok(Page {
        paging: query.paging,
        total,
        items: populate(conn, rows)?,
    })
}

/// One permission, for its user_allowed, its user_target or an admin; else `NotFound`.
pub fn get(conn: &mut DbConn, caller: &Caller, id: i64) -> Result<BundlePermission, BundleError> {
    match find(conn, id)? {
        Some(p) if p.involves(caller) => Ok(p),
        _ => Err(BundleError::NotFound),
    }
}

/// `POST /api/bundle_permission/`'s body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPermission {
    /// The bundle's id (the edge takes it out of the URI).
    pub bundle: Field<i64>,
    pub user_allowed: Field<UserRef>,
    pub user_target: Field<UserRef>,
    pub name: Field<String>,
}

/// A required user reference: the user, or a field error.
pub(crate) fn required_user(
    conn: &mut DbConn,
    errors: &mut FieldErrors,
    field: &'static str,
    given: Field<UserRef>,
) -> Result<Option<UserObject>, BundleError> {
    match given {
        Field::Value(reference) => match users::resolve(conn, &reference)? {
            Some(user) => Ok(Some(user)),
            None => {
                errors.add(field, format!("no user matches {reference}"));
                Ok(None)
            }
        },
        Field::Invalid(message) => {
            errors.add(field, message);
            Ok(None)
        }
        Field::Absent | Field::Null => {
            errors.add(field, REQUIRED);
            Ok(None)
        }
    }
}

/// A required bundle reference: the bundle, or a field error.
pub(crate) fn required_bundle(
    conn: &mut DbConn,
    errors: &mut FieldErrors,
    given: Field<i64>,
) -> Result<Option<Bundle>, BundleError> {
    match given {
        Field::Value(id) => match bundles::find(conn, id)? {
            Some(bundle) => Ok(Some(bundle)),
            None => {
                errors.add("bundle", format!("no bundle matches \"/api/bundle/{id}/\""));
                Ok(None)
            }
        },
        Field::Invalid(message) => {
            errors.add("bundle", message);
            Ok(None)
        }
        Field::Absent | Field::Null => {
            errors.add("bundle", REQUIRED);
            Ok(None)
        }
    }
}

/// The error on `user_target` when both users are the same.
pub(crate) const SAME_USER: &str = "must differ from user_allowed";

/// Grants a permission (§2.4): the fields first (all problems together), then the caller
/// must be the user_target or an admin (`Forbidden`). An existing triple is answered
/// unchanged as `Existing`.
pub fn create(
    conn: &mut DbConn,
    caller: &Caller,
    new: NewPermission,
    now: OffsetDateTime,
) -> Result<Granted, BundleError> {
    write_tx(conn, |conn| {
        let mut errors = FieldErrors::default();
        let bundle = required_bundle(conn, &mut errors, new.bundle)?;
        let allowed = required_user(conn, &mut errors, "user_allowed", new.user_allowed)?;
        let target = required_user(conn, &mut errors, "user_target", new.user_target)?;
        if let (Some(a), Some(t)) = (&allowed, &target) {
            if a.keyrock_id == t.keyrock_id {
                errors.add("user_target", SAME_USER);
            }
        }
        let name = match new.name.optional() {
            Ok(Some(name)) if name.chars().count() > NAME_MAX_CHARS => {
                errors.add("name", format!("at most {NAME_MAX_CHARS} characters"));
                None
            }
            Ok(Some(name)) if !storage::is_storable(&name) => {
                errors.add("name", "must not contain NUL");
                None
            }
            Ok(name) => name,
            Err(message) => {
                errors.add("name", message);
                None
            }
        };
        errors.check()?;
        let (Some(bundle), Some(allowed), Some(target)) = (bundle, allowed, target) else {
            return Err(BundleError::Invalid(Vec::new()));
        };
        if !(caller.admin || caller.is(&target)) {
            return Err(BundleError::Forbidden);
        }
        grant(conn, bundle.id, &allowed, &target, name.as_deref(), now)
    })
}

/// Inserts the triple unless it exists (one `INSERT ... ON CONFLICT DO NOTHING`, so
/// concurrent identical grants cannot collide), and reads it back.
pub(crate) fn grant(
    conn: &mut DbConn,
    bundle_id: i64,
    allowed: &UserObject,
    target: &UserObject,
    name: Option<&str>,
    now: OffsetDateTime,
) -> Result<Granted, BundleError> {
    let created_at: PrimitiveDateTime = to_db_time(now);
    let inserted = storage::each_backend!(conn, |c| diesel::insert_into(bundle_permissions::table)
        .values((
            bundle_permissions::bundle_id.eq(bundle_id),
            bundle_permissions::user_allowed.eq(&allowed.keyrock_id),
            bundle_permissions::user_target.eq(&target.keyrock_id),
            bundle_permissions::name.eq(name),
            bundle_permissions::created_at.eq(created_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))
    .map_err(StorageError::from)?;
    let id: i64 = bundle_permissions::table
        .filter(bundle_permissions::bundle_id.eq(bundle_id))
        .filter(bundle_permissions::user_allowed.eq(&allowed.keyrock_id))
        .filter(bundle_permissions::user_target.eq(&target.keyrock_id))
        .select(bundle_permissions::num_id)
        .first(conn)?;
    let permission = find(conn, id)?.ok_or(BundleError::NotFound)?;
    Ok(if inserted > 0 {
        Granted::Created(permission)
    } else {
        Granted::Existing(permission)
    })
}

/// Deletes a permission: by its user_allowed, its user_target or an admin; anyone else
/// (and a permission that does not exist) is `NotFound`.
pub fn delete(conn: &mut DbConn, caller: &Caller, id: i64) -> Result<(), BundleError> {
    write_tx(conn, |conn| {
        let row: Option<(String, String)> = bundle_permissions::table
            .filter(bundle_permissions::num_id.eq(id))
            .select((
                bundle_permissions::user_allowed,
                bundle_permissions::user_target,
            ))
            .first(conn)
            .optional()?;
        match row {
            Some((allowed, target))
                if caller.admin || caller.keyrock_id == allowed || caller.keyrock_id == target =>
            {
                diesel::delete(bundle_permissions::table.filter(bundle_permissions::num_id.eq(id)))
                    .execute(conn)?;
                Ok(())
            }
            _ => Err(BundleError::NotFound),
        }
    })
}

#[cfg(test)]
mod tests;
