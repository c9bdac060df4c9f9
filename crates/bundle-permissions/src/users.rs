//! Users as this family sees them (§2.1, §2.2): the caller, references to users, the user
//! object, and who sees whom.

use std::collections::HashMap;
use std::fmt;

use auth_core::users::{email_key, User};
use storage::diesel::prelude::*;
use storage::schema::{bundle_permissions, users};
use storage::DbConn;

use crate::error::BundleError;
use crate::paging::{Order, Page, Paging};

/// The authenticated caller: a Tessera user (the edge resolves the bearer token and refuses
/// disabled users and tokens that stand for no user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The Keyrock string id (`users.id`).
    pub keyrock_id: String,
    /// The store id (`users.num_id`), the `id` of the user object.
    pub num_id: i64,
    /// The Keyrock admin flag.
    pub admin: bool,
}

impl Caller {
    pub fn from_user(user: &User) -> Caller {
        Caller {
            keyrock_id: user.id.clone(),
            num_id: user.num_id,
            admin: user.admin,
        }
    }

    pub(crate) fn is(&self, user: &UserObject) -> bool {
        self.keyrock_id == user.keyrock_id
    }
}

/// A reference to a user (§1.8), already taken out of its URI by the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// The store id (`/api/user/<id>/`, an integer or a string of digits).
    Id(i64),
    /// An e-mail address, matched case-insensitively.
    Email(String),
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserRef::Id(id) => write!(f, "\"/api/user/{id}/\""),
            UserRef::Email(email) => write!(f, "{email:?}"),
        }
    }
}

/// The user object (§2.1; `first_name` and `last_name` are always empty and left to the
/// edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserObject {
    pub id: i64,
    /// The Keyrock string id; not part of the wire object.
    pub keyrock_id: String,
    pub username: String,
    pub email: String,
}

/// The account object (§2.2): the caller with its admin flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: UserObject,
    pub is_staff: bool,
}

type Row = (i64, String, String, String);

fn columns() -> (users::num_id, users::id, users::username, users::email) {
    (users::num_id, users::id, users::username, users::email)
}

fn object((id, keyrock_id, username, email): Row) -> UserObject {
    UserObject {
        id,
        keyrock_id,
        username,
        email,
    }
}

/// The user a reference names, if any (any existing user, visible or not).
pub fn resolve(conn: &mut DbConn, reference: &UserRef) -> Result<Option<UserObject>, BundleError> {
    let row: Option<Row> = match reference {
        UserRef::Id(id) => users::table
            .filter(users::num_id.eq(*id))
            .select(columns())
            .first(conn)
            .optional()?,
        UserRef::Email(email) => {
            if !storage::is_storable(email) {
                return Ok(None);
            }
            users::table
                .filter(users::email_key.eq(email_key(email)))
                .select(columns())
                .first(conn)
                .optional()?
        }
    };
    Ok(row.map(object))
}

/// The Keyrock ids of the users `references` name; references that do not resolve are left
/// out (in a filter they match nothing, §1.8).
pub(crate) fn resolve_all(
    conn: &mut DbConn,
    references: &[UserRef],
) -> Result<Vec<String>, BundleError> {
    let mut ids = Vec::with_capacity(references.len());
    for reference in references {
        if let Some(user) = resolve(conn, reference)? {
            ids.push(user.keyrock_id);
        }
    }
    Ok(ids)
}

/// The user objects of these Keyrock ids, by Keyrock id.
pub(crate) fn load_map(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> Result<HashMap<String, UserObject>, BundleError> {
    let rows: Vec<Row> = users::table
        .filter(users::id.eq_any(ids))
        .select(columns())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.1.clone(), object(row)))
        .collect())
}

/// Looks up one user of `map`, or reports the row that refers to it as corrupt.
pub(crate) fn take(
    map: &HashMap<String, UserObject>,
    id: &str,
    what: &str,
) -> Result<UserObject, BundleError> {
    map.get(id)
        .cloned()
        .ok_or_else(|| BundleError::Corrupt(format!("{what}: user {id:?} is missing")))
}

/// The caller's account (§2.2).
pub fn account(conn: &mut DbConn, caller: &Caller) -> Result<Account, BundleError> {
    let user = resolve(conn, &UserRef::Id(caller.num_id))?.ok_or(BundleError::NotFound)?;
    Ok(Account {
        user,
        is_staff: caller.admin,
    })
}

/// The Keyrock ids of the users linked to the caller by a bundle permission in either
/// direction.
fn linked(conn: &mut DbConn, caller: &Caller) -> Result<Vec<String>, BundleError> {
    let mut ids: Vec<String> = bundle_permissions::table
        .filter(bundle_permissions::user_allowed.eq(&caller.keyrock_id))
        .select(bundle_permissions::user_target)
        .load(conn)?;
    let allowed: Vec<String> = bundle_permissions::table
        .filter(bundle_permissions::user_target.eq(&caller.keyrock_id))
        .select(bundle_permissions::user_allowed)
        .load(conn)?;
    ids.extend(allowed);
    ids.push(caller.keyrock_id.clone());
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Whether the caller sees `user`: itself, a user linked by a permission either way, or
/// anyone for an admin. Pending requests do not make users visible.
pub fn is_visible(
    conn: &mut DbConn,
    caller: &Caller,
    user: &UserObject,
) -> Result<bool, BundleError> {
    if caller.admin || caller.is(user) {
        return Ok(true);
    }
    let n: i64 = bundle_permissions::table
        .filter(
            bundle_permissions::user_allowed
                .eq(&caller.keyrock_id)
                .and(bundle_permissions::user_target.eq(&user.keyrock_id))
                .or(bundle_permissions::user_target
                    .eq(&caller.keyrock_id)
                    .and(bundle_permissions::user_allowed.eq(&user.keyrock_id))),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The user list's filters (`exact` is a one-element list, `in` any list); `None` is no
/// filter. E-mail addresses are matched case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub id: Option<Vec<i64>>,
    pub username: Option<Vec<String>>,
    pub email: Option<Vec<String>>,
}

/// The fields the user list orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOrder {
    Id,
    Username,
    Email,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub filter: UserFilter,
    /// Empty: by id ascending. Ties are broken by id.
    pub order: Vec<Order<UserOrder>>,
    pub paging: Paging,
}

/// The users the caller sees (§2.1).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    query: &UserQuery,
) -> Result<Page<UserObject>, BundleError> {
    let visible = if caller.admin {
        None
    } else {
        Some(linked(conn, caller)?)
    };
    let filter = &query.filter;
    let emails: Option<Vec<String>> = filter
        .email
        .as_ref()
        .map(|list| list.iter().map(|e| email_key(e)).collect());
    let filtered = || {
        let mut q = users::table.select(columns()).into_boxed();
        if let Some(ids) = &visible {
            q = q.filter(users::id.eq_any(ids.clone()));
        }
        if let Some(ids) = &filter.id {
            q = q.filter(users::num_id.eq_any(ids.clone()));
        }
        if let Some(names) = &filter.username {
            q = q.filter(users::username.eq_any(names.clone()));
        }
        if let Some(keys) = &emails {
            q = q.filter(users::email_key.eq_any(keys.clone()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let mut q = filtered();
    for order in &query.order {
        q = match (order.field, order.descending) {
            (UserOrder::Id, false) => q.then_order_by(users::num_id.asc()),
            (UserOrder::Id, true) => q.then_order_by(users::num_id.desc()),
            (UserOrder::Username, false) => q.then_order_by(users::username.asc()),
            (UserOrder::Username, true) => q.then_order_by(users::username.desc()),
            (UserOrder::Email, false) => q.then_order_by(users::email.asc()),
            (UserOrder::Email, true) => q.then_order_by(users::email.desc()),
        };
    }
    let rows: Vec<Row> = q
        .then_order_by(users::num_id.asc())
        .limit(query.paging.limit)
        .offset(query.paging.offset)
        .load(conn)?;
    Ok(Page {
        paging: query.paging,
        total,
        items: rows.into_iter().map(object).collect(),
    })
}

/// One user the caller sees; `NotFound` for a user that does not exist or is not visible.
pub fn get(conn: &mut DbConn, caller: &Caller, id: i64) -> Result<UserObject, BundleError> {
    let user = resolve(conn, &UserRef::Id(id))?.ok_or(BundleError::NotFound)?;
    if is_visible(conn, caller, &user)? {
        Ok(user)
    } else {
        Err(BundleError::NotFound)
    }
}

#[cfg(test)]
mod tests;
