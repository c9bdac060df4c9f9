//! Mapping dumped rows to Tessera's tables (keyrock.md §9) and writing them in batches.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use auth_core::oauth::join_scope;
use auth_core::secrets::sha256_hex;
use storage::diesel::prelude::*;
use storage::schema::{
    albums, capabilities, iot_agents, oauth_access_tokens, oauth_authorization_codes,
    oauth_clients, oauth_refresh_tokens, organizations, pep_proxies, permissions, right_presets,
    role_assignments, role_permissions, roles, trusted_applications, user_authorized_applications,
    user_organizations, users,
};
use storage::{diesel, DbConn, StorageError};
use time::{OffsetDateTime, PrimitiveDateTime};

use super::dump::{DumpError, SqlValue};
use super::rows::{Columns, Row};
use super::{ImportError, SkipReason, Table, TableCount};

/// Keyrock's seeded built-ins (keyrock.md 2.1), which the target already holds.
const BUILT_IN_APP: &str = "idm_admin_app";
const BUILT_IN_ROLES: [&str; 2] = ["provider", "purchaser"];
const BUILT_IN_PERMISSIONS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
/// The bootstrap admin's Keyrock id.
const BOOTSTRAP_ADMIN: &str = "admin";

/// Rows per INSERT: the widest table (users, 17 columns) stays under SQLite's 32,766
/// bound parameters.
const CHUNK_ROWS: usize = 1000;
/// Ids per existence query.
const CHUNK_IDS: usize = 1000;

/// A table another row may reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ref {
    User,
    Client,
    Organization,
    Role,
    Permission,
    Iot,
}

/// A mapped row and the rows it references.
struct Mapped<T> {
    row: T,
    refs: Vec<(Ref, String)>,
}

enum Outcome<T> {
    Keep(Mapped<T>),
    Skip(SkipReason),
}

fn keep<T>(row: T, refs: Vec<(Ref, Option<String>)>) -> Outcome<T> {
    Outcome::Keep(Mapped {
        row,
        refs: refs
            .into_iter()
            .filter_map(|(r, id)| id.map(|id| (r, id)))
            .collect(),
    })
}

pub(crate) struct Writer {
    now: PrimitiveDateTime,
}

macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr, $count:expr) => {{
        let rows = $rows;
        let mut inserted = 0u64;
        match $conn {
            // SQLite: one row per statement, prepared once and cached; executing a
            // prepared statement in process costs less than preparing a 1,000-row one.
            DbConn::Sqlite(c) => {
                for row in &rows {
                    inserted += diesel::insert_into($table)
                        .values(row)
                        .on_conflict_do_nothing()
                        .execute(c)? as u64;
                }
            }
            DbConn::Postgres(c) => {
                for chunk in rows.chunks(CHUNK_ROWS) {
                    inserted += diesel::insert_into($table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c)? as u64;
                }
            }
        }
        $count.imported += inserted;
        $count.skip(SkipReason::Duplicate, rows.len() as u64 - inserted);
    }};
}

/// [`insert_all!`] for the token tables, which hold most rows of a real dump: on
/// PostgreSQL through `COPY` (binary), several times faster than INSERT. A token is its own
/// key in Keyrock, so a dump cannot hold one twice; if one does, the unique index refuses
/// it and the import stops.
macro_rules! copy_all {
    ($conn:expr, $table:expr, $rows:expr, $count:expr) => {{
        match $conn {
            DbConn::Postgres(c) => {
                let rows = $rows;
                let n = rows.len() as u64;
                if n > 0 {
                    diesel::copy_from($table)
                        .from_insertable(&rows)
                        .execute(c)?;
                }
                $count.imported += n;
            }
            conn => insert_all!(conn, $table, $rows, $count),
        }
    }};
}

impl Writer {
    pub(crate) fn new(now: OffsetDateTime) -> Self {
        Writer {
            now: storage::to_db_time(now),
        }
    }

    /// Maps and writes the rows of one `INSERT` statement of `table`.
    pub(crate) fn load(
        &mut self,
        conn: &mut DbConn,
        table: Table,
        columns: &Columns,
        rows: Vec<(u64, Vec<SqlValue>)>,
        count: &mut TableCount,
    ) -> Result<(), ImportError> {
        let now = self.now;
        macro_rules! load {
            ($map:expr, $table:expr) => {
                load!($map, $table, insert_all)
            };
            ($map:expr, $table:expr, $write:ident) => {{
                let batch = map_rows(columns, &rows, count, |row| $map(row, now))?;
                let kept = keep_referenced(conn, batch, count)?;
                $write!(conn, $table, kept, count);
            }};
        }
        match table {
            Table::User => {
                let batch = map_rows(columns, &rows, count, |row| map_user(row, now))?;
                let kept = keep_referenced(conn, batch, count)?;
                if kept.iter().any(|u| u.id == BOOTSTRAP_ADMIN) {
                    // The dump's admin replaces the bootstrap admin (and its sessions).
                    diesel::delete(users::table.filter(users::id.eq(BOOTSTRAP_ADMIN)))
                        .execute(conn)?;
                }
                insert_all!(conn, users::table, kept, count);
            }
            Table::OauthClient => load!(map_client, oauth_clients::table),
            Table::Organization => load!(map_organization, organizations::table),
            Table::Role => load!(map_role, roles::table),
            Table::Permission => load!(map_permission, permissions::table),
            Table::RolePermission => load!(map_role_permission, role_permissions::table),
            Table::RoleAssignment => load!(map_role_assignment, role_assignments::table),
            Table::UserOrganization => load!(map_user_organization, user_organizations::table),
            Table::TrustedApplication => load!(map_trusted, trusted_applications::table),
            Table::UserAuthorizedApplication => {
                load!(map_consent, user_authorized_applications::table)
            }
            Table::PepProxy => load!(map_pep_proxy, pep_proxies::table),
            Table::Iot => load!(map_iot, iot_agents::table),
            Table::AccessToken => {
                load!(map_access_token, oauth_access_tokens::table, copy_all)
            }
            Table::RefreshToken => {
                load!(map_refresh_token, oauth_refresh_tokens::table, copy_all)
            }
            Table::AuthorizationCode => {
                load!(map_code, oauth_authorization_codes::table, copy_all)
            }
        }
        Ok(())
    }
}

fn map_rows<T>(
    columns: &Columns,
    rows: &[(u64, Vec<SqlValue>)],
    count: &mut TableCount,
    map: impl Fn(&Row) -> Result<Outcome<T>, DumpError>,
) -> Result<Vec<Mapped<T>>, DumpError> {
    let mut out = Vec::with_capacity(rows.len());
    for (line, values) in rows {
        match map(&columns.row(*line, values))? {
            Outcome::Keep(m) => out.push(m),
            Outcome::Skip(reason) => count.skip(reason, 1),
        }
    }
    Ok(out)
}

/// The rows whose references all exist in the target; the others are counted as
/// dangling. One query per referenced table and batch.
fn keep_referenced<T>(
    conn: &mut DbConn,
    batch: Vec<Mapped<T>>,
    count: &mut TableCount,
) -> Result<Vec<T>, StorageError> {
    let mut wanted: BTreeMap<Ref, BTreeSet<&str>> = BTreeMap::new();
    for m in &batch {
        for (r, id) in &m.refs {
            wanted.entry(*r).or_default().insert(id);
        }
    }
    let mut found: BTreeMap<Ref, HashSet<String>> = BTreeMap::new();
    for (r, ids) in wanted {
        let ids: Vec<&str> = ids.into_iter().collect();
        let mut present = HashSet::new();
        for chunk in ids.chunks(CHUNK_IDS) {
            present.extend(existing(conn, r, chunk)?);
        }
        found.insert(r, present);
    }
    let before = batch.len();
    let kept: Vec<T> = batch
        .into_iter()
        .filter(|m| {
            m.refs
                .iter()
                .all(|(r, id)| found.get(r).is_some_and(|s| s.contains(id)))
        })
        .map(|m| m.row)
        .collect();
    count.skip(SkipReason::DanglingReference, (before - kept.len()) as u64);
    Ok(kept)
}

fn existing(conn: &mut DbConn, r: Ref, ids: &[&str]) -> QueryResult<Vec<String>> {
    match r {
        Ref::User => users::table
            .filter(users::id.eq_any(ids))
            .select(users::id)
            .load(conn),
        Ref::Client => oauth_clients::table
            .filter(oauth_clients::id.eq_any(ids))
            .select(oauth_clients::id)
            .load(conn),
        Ref::Organization => organizations::table
            .filter(organizations::id.eq_any(ids))
            .select(organizations::id)
            .load(conn),
        Ref::Role => roles::table
            .filter(roles::id.eq_any(ids))
            .select(roles::id)
            .load(conn),
        Ref::Permission => permissions::table
            .filter(permissions::id.eq_any(ids))
            .select(permissions::id)
            .load(conn),
        Ref::Iot => iot_agents::table
            .filter(iot_agents::id.eq_any(ids))
            .select(iot_agents::id)
            .load(conn),
    }
}

/// Refuses a target that holds more than Keyrock's built-ins and the bootstrap admin.
/// API tokens, browser and easydb sessions and the server key are not counted: they are not
/// identity data (and the bootstrap admin's go with it when the dump replaces it).
pub(crate) fn require_empty(conn: &mut DbConn) -> Result<(), ImportError> {
    let counts: [(&str, i64); 16] = [
        (
            "users",
            users::table
                .filter(users::id.ne(BOOTSTRAP_ADMIN))
                .count()
                .get_result(conn)?,
        ),
        (
            "applications",
            oauth_clients::table
                .filter(oauth_clients::id.ne(BUILT_IN_APP))
                .count()
                .get_result(conn)?,
        ),
        (
            "roles",
            roles::table
                .filter(roles::id.ne_all(BUILT_IN_ROLES))
                .count()
                .get_result(conn)?,
        ),
        (
            "permissions",
            permissions::table
                .filter(permissions::id.ne_all(BUILT_IN_PERMISSIONS))
                .count()
                .get_result(conn)?,
        ),
        (
            "role-permission links",
            role_permissions::table
                .filter(role_permissions::role_id.ne_all(BUILT_IN_ROLES))
                .count()
                .get_result(conn)?,
        ),
        (
            "organizations",
            organizations::table.count().get_result(conn)?,
        ),
        (
            "organization memberships",
            user_organizations::table.count().get_result(conn)?,
        ),
        (
            "role assignments",
            role_assignments::table.count().get_result(conn)?,
        ),
        (
            "trusted applications",
            trusted_applications::table.count().get_result(conn)?,
        ),
        (
            "consent records",
            user_authorized_applications::table
                .count()
                .get_result(conn)?,
        ),
        ("PEP proxies", pep_proxies::table.count().get_result(conn)?),
        ("IoT agents", iot_agents::table.count().get_result(conn)?),
        (
            "OAuth tokens",
            oauth_access_tokens::table.count().get_result::<i64>(conn)?
                + oauth_refresh_tokens::table
                    .count()
                    .get_result::<i64>(conn)?
                + oauth_authorization_codes::table
                    .count()
                    .get_result::<i64>(conn)?,
        ),
        ("albums", albums::table.count().get_result(conn)?),
        (
            "capability tokens",
            capabilities::table.count().get_result(conn)?,
        ),
        (
            "right presets",
            right_presets::table.count().get_result(conn)?,
        ),
    ];
    let held: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if held.is_empty() {
        Ok(())
    } else {
        Err(ImportError::NotEmpty(held.join(", ")))
    }
}

/// A scope column: items separated by commas (or spaces); NULL or empty is `bearer`.
fn scope(row: &Row, column: &str) -> String {
    let items: Vec<String> = row
        .text(column)
        .unwrap_or_default()
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if items.is_empty() {
        "bearer".to_owned()
    } else {
        join_scope(&items)
    }
}

/// `valid`: NULL counts as valid, 0 as revoked or used.
fn revoked(row: &Row) -> Result<bool, DumpError> {
    Ok(row.flag("valid")? == Some(false))
}

/// The SHA-256 digest of a secret column; an empty secret counts as none.
fn digest_of(row: &Row, column: &str) -> Option<String> {
    row.text(column).filter(|s| !s.is_empty()).map(sha256_hex)
}

macro_rules! some_or_skip {
    ($value:expr, $reason:expr) => {
        match $value {
            Some(v) => v,
            None => return Ok(Outcome::Skip($reason)),
        }
    };
}

#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct NewUser {
    id: String,
    username: String,
    email: String,
    email_key: String,
    password_hash: Option<String>,
    password_salt: Option<String>,
    date_password: Option<PrimitiveDateTime>,
    enabled: bool,
    admin: bool,
    description: Option<String>,
    website: Option<String>,
    gravatar: bool,
    image: String,
    extra: Option<String>,
    starters_tour_ended: bool,
    eidas_id: Option<String>,
    created_at: PrimitiveDateTime,
}

fn map_user(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewUser>, DumpError> {
    let id = some_or_skip!(row.owned("id"), SkipReason::MissingValue);
    let email = some_or_skip!(row.owned("email"), SkipReason::MissingValue);
    // `extra` is JSON in Keyrock; a value that does not parse is kept as a JSON string.
    let extra = row.text("extra").map(|e| {
        if serde_json::from_str::<serde_json::Value>(e).is_ok() {
            e.to_owned()
        } else {
            serde_json::Value::String(e.to_owned()).to_string()
        }
    });
    Ok(keep(
        NewUser {
            username: row.owned("username").unwrap_or_default(),
            email_key: email.to_lowercase(),
            email,
            // The legacy hash and salt as they are (keyrock.md 8): never re-hashed here.
            password_hash: row.owned("password"),
            password_salt: row.owned("salt"),
            date_password: row.time("date_password")?,
            enabled: row.flag("enabled")?.unwrap_or(false),
            admin: row.flag("admin")?.unwrap_or(false),
            description: row.owned("description"),
            website: row.owned("website"),
            gravatar: row.flag("gravatar")?.unwrap_or(false),
            image: row.owned("image").unwrap_or_else(|| "default".to_owned()),
            extra,
            starters_tour_ended: row.flag("starters_tour_ended")?.unwrap_or(false),
            eidas_id: row.owned("eidas_id"),
            created_at: now,
            id,
        },
        vec![],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = oauth_clients, treat_none_as_default_value = false)]
struct NewClient {
    id: String,
    name: String,
    description: Option<String>,
    secret_digest: Option<String>,
    url: Option<String>,
    redirect_uri: Option<String>,
    redirect_sign_out_uri: Option<String>,
    image: String,
    grant_type: Option<String>,
    response_type: Option<String>,
    token_types: Option<String>,
    jwt_secret: Option<String>,
    client_type: Option<String>,
    scope: Option<String>,
    extra: Option<String>,
    created_at: PrimitiveDateTime,
}

fn map_client(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewClient>, DumpError> {
    let id = some_or_skip!(row.owned("id"), SkipReason::MissingValue);
    if id == BUILT_IN_APP {
        return Ok(Outcome::Skip(SkipReason::BuiltIn));
    }
    Ok(keep(
        NewClient {
            name: row.owned("name").unwrap_or_default(),
            description: row.owned("description"),
            secret_digest: digest_of(row, "secret"),
            url: row.owned("url"),
            redirect_uri: row.owned("redirect_uri"),
            redirect_sign_out_uri: row.owned("redirect_sign_out_uri"),
            image: row.owned("image").unwrap_or_else(|| "default".to_owned()),
            grant_type: row.owned("grant_type"),
            response_type: row.owned("response_type"),
            token_types: row.owned("token_types"),
            jwt_secret: row.owned("jwt_secret"),
            client_type: row.owned("client_type"),
            scope: row.owned("scope"),
            extra: row.owned("extra"),
            created_at: now,
            id,
        },
        vec![],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = organizations, treat_none_as_default_value = false)]
struct NewOrganization {
    id: String,
    name: String,
    description: Option<String>,
    website: Option<String>,
    image: String,
    created_at: PrimitiveDateTime,
}

fn map_organization(
    row: &Row,
    now: PrimitiveDateTime,
) -> Result<Outcome<NewOrganization>, DumpError> {
    let id = some_or_skip!(row.owned("id"), SkipReason::MissingValue);
    Ok(keep(
        NewOrganization {
            name: row.owned("name").unwrap_or_default(),
            description: row.owned("description"),
            website: row.owned("website"),
            image: row.owned("image").unwrap_or_else(|| "default".to_owned()),
            created_at: now,
            id,
        },
        vec![],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = roles, treat_none_as_default_value = false)]
struct NewRole {
    id: String,
    name: String,
    is_internal: bool,
    oauth_client_id: String,
}

fn map_role(row: &Row, _now: PrimitiveDateTime) -> Result<Outcome<NewRole>, DumpError> {
    let id = some_or_skip!(row.owned("id"), SkipReason::MissingValue);
    if BUILT_IN_ROLES.contains(&id.as_str()) {
        return Ok(Outcome::Skip(SkipReason::BuiltIn));
    }
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    Ok(keep(
        NewRole {
            name: row.owned("name").unwrap_or_default(),
            is_internal: row.flag("is_internal")?.unwrap_or(false),
            oauth_client_id: app.clone(),
            id,
        },
        vec![(Ref::Client, Some(app))],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = permissions, treat_none_as_default_value = false)]
struct NewPermission {
    id: String,
    name: String,
    description: Option<String>,
    is_internal: bool,
    action: Option<String>,
    resource: Option<String>,
    xml: Option<String>,
    is_regex: bool,
    authorization_service_header: Option<String>,
    use_authorization_service_header: bool,
    regex_entity_ids: Option<String>,
    regex_attributes: Option<String>,
    regex_types: Option<String>,
    oauth_client_id: String,
}

fn map_permission(row: &Row, _now: PrimitiveDateTime) -> Result<Outcome<NewPermission>, DumpError> {
    let id = some_or_skip!(row.owned("id"), SkipReason::MissingValue);
    if BUILT_IN_PERMISSIONS.contains(&id.as_str()) {
        return Ok(Outcome::Skip(SkipReason::BuiltIn));
    }
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    Ok(keep(
        NewPermission {
            name: row.owned("name").unwrap_or_default(),
            description: row.owned("description"),
            is_internal: row.flag("is_internal")?.unwrap_or(false),
            action: row.owned("action"),
            resource: row.owned("resource"),
            xml: row.owned("xml"),
            is_regex: row.flag("is_regex")?.unwrap_or(false),
            authorization_service_header: row.owned("authorization_service_header"),
            use_authorization_service_header: row
                .flag("use_authorization_service_header")?
                .unwrap_or(false),
            regex_entity_ids: row.owned("regex_entity_ids"),
            regex_attributes: row.owned("regex_attributes"),
            regex_types: row.owned("regex_types"),
            oauth_client_id: app.clone(),
            id,
        },
        vec![(Ref::Client, Some(app))],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = role_permissions, treat_none_as_default_value = false)]
struct NewRolePermission {
    role_id: String,
    permission_id: String,
}

fn map_role_permission(
    row: &Row,
    _now: PrimitiveDateTime,
) -> Result<Outcome<NewRolePermission>, DumpError> {
    let role = some_or_skip!(row.owned("role_id"), SkipReason::DanglingReference);
    let permission = some_or_skip!(row.owned("permission_id"), SkipReason::DanglingReference);
    if BUILT_IN_ROLES.contains(&role.as_str())
        && BUILT_IN_PERMISSIONS.contains(&permission.as_str())
    {
        return Ok(Outcome::Skip(SkipReason::BuiltIn));
    }
    Ok(keep(
        NewRolePermission {
            role_id: role.clone(),
            permission_id: permission.clone(),
        },
        vec![(Ref::Role, Some(role)), (Ref::Permission, Some(permission))],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = role_assignments, treat_none_as_default_value = false)]
struct NewRoleAssignment {
    oauth_client_id: String,
    role_id: String,
    user_id: Option<String>,
    organization_id: Option<String>,
    role_organization: Option<String>,
}

fn map_role_assignment(
    row: &Row,
    _now: PrimitiveDateTime,
) -> Result<Outcome<NewRoleAssignment>, DumpError> {
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    let role = some_or_skip!(row.owned("role_id"), SkipReason::DanglingReference);
    let user = row.owned("user_id");
    let organization = row.owned("organization_id");
    let role_organization = match (&user, &organization) {
        (Some(_), None) => None,
        (None, Some(_)) => match row.text("role_organization") {
            Some(r @ ("owner" | "member")) => Some(r.to_owned()),
            _ => return Ok(Outcome::Skip(SkipReason::InconsistentRow)),
        },
        _ => return Ok(Outcome::Skip(SkipReason::InconsistentRow)),
    };
    Ok(keep(
        NewRoleAssignment {
            oauth_client_id: app.clone(),
            role_id: role.clone(),
            user_id: user.clone(),
            organization_id: organization.clone(),
            role_organization,
        },
        vec![
            (Ref::Client, Some(app)),
            (Ref::Role, Some(role)),
            (Ref::User, user),
            (Ref::Organization, organization),
        ],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = user_organizations, treat_none_as_default_value = false)]
struct NewMembership {
    user_id: String,
    organization_id: String,
    role: String,
}

fn map_user_organization(
    row: &Row,
    _now: PrimitiveDateTime,
) -> Result<Outcome<NewMembership>, DumpError> {
    let user = some_or_skip!(row.owned("user_id"), SkipReason::DanglingReference);
    let organization = some_or_skip!(row.owned("organization_id"), SkipReason::DanglingReference);
    let role = match row.text("role") {
        Some(r @ ("owner" | "member")) => r.to_owned(),
        _ => return Ok(Outcome::Skip(SkipReason::InconsistentRow)),
    };
    Ok(keep(
        NewMembership {
            user_id: user.clone(),
            organization_id: organization.clone(),
            role,
        },
        vec![
            (Ref::User, Some(user)),
            (Ref::Organization, Some(organization)),
        ],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = trusted_applications, treat_none_as_default_value = false)]
struct NewTrust {
    oauth_client_id: String,
    trusted_oauth_client_id: String,
}

fn map_trusted(row: &Row, _now: PrimitiveDateTime) -> Result<Outcome<NewTrust>, DumpError> {
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    let trusted = some_or_skip!(
        row.owned("trusted_oauth_client_id"),
        SkipReason::DanglingReference
    );
    Ok(keep(
        NewTrust {
            oauth_client_id: app.clone(),
            trusted_oauth_client_id: trusted.clone(),
        },
        vec![(Ref::Client, Some(app)), (Ref::Client, Some(trusted))],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = user_authorized_applications, treat_none_as_default_value = false)]
struct NewConsent {
    user_id: String,
    oauth_client_id: String,
    shared_attributes: String,
    created_at: PrimitiveDateTime,
}

fn map_consent(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewConsent>, DumpError> {
    let user = some_or_skip!(row.owned("user_id"), SkipReason::DanglingReference);
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    Ok(keep(
        NewConsent {
            user_id: user.clone(),
            oauth_client_id: app.clone(),
            // NULL (rows older than the column): what /user shares without a record.
            shared_attributes: row
                .owned("shared_attributes")
                .unwrap_or_else(|| "username,email".to_owned()),
            created_at: now,
        },
        vec![(Ref::User, Some(user)), (Ref::Client, Some(app))],
    ))
}

/// A PEP proxy or an IoT agent: the same columns in two tables.
macro_rules! secret_holder {
    ($name:ident, $table:ident) => {
        #[derive(Insertable)]
        #[diesel(table_name = $table, treat_none_as_default_value = false)]
        struct $name {
            id: String,
            password_digest: String,
            password_salt: Option<String>,
            oauth_client_id: String,
            created_at: PrimitiveDateTime,
        }

        impl From<(LegacySecret, PrimitiveDateTime)> for $name {
            fn from((s, created_at): (LegacySecret, PrimitiveDateTime)) -> Self {
                $name {
                    id: s.id,
                    password_digest: s.hash,
                    password_salt: Some(s.salt),
                    oauth_client_id: s.app,
                    created_at,
                }
            }
        }
    };
}
secret_holder!(NewPepProxy, pep_proxies);
secret_holder!(NewIotAgent, iot_agents);

/// A PEP proxy's or IoT agent's id, legacy password hash, salt and application.
struct LegacySecret {
    id: String,
    hash: String,
    /// Always set (empty when Keyrock's was NULL: the key `nodejs_idm`), because a NULL
    /// salt marks a Tessera SHA-256 digest.
    salt: String,
    app: String,
}

fn map_pep_proxy(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewPepProxy>, DumpError> {
    map_secret_holder(row, now)
}

fn map_iot(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewIotAgent>, DumpError> {
    map_secret_holder(row, now)
}

fn map_secret_holder<T: From<(LegacySecret, PrimitiveDateTime)>>(
    row: &Row,
    now: PrimitiveDateTime,
) -> Result<Outcome<T>, DumpError> {
    let secret = LegacySecret {
        id: some_or_skip!(row.owned("id"), SkipReason::MissingValue),
        hash: some_or_skip!(row.owned("password"), SkipReason::MissingValue),
        salt: row.owned("salt").unwrap_or_default(),
        app: some_or_skip!(row.owned("oauth_client_id"), SkipReason::MissingValue),
    };
    let app = secret.app.clone();
    Ok(keep(T::from((secret, now)), vec![(Ref::Client, Some(app))]))
}

#[derive(Insertable)]
#[diesel(table_name = oauth_authorization_codes, treat_none_as_default_value = false)]
struct NewCode {
    digest: String,
    oauth_client_id: String,
    user_id: String,
    scope: String,
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    nonce: Option<String>,
    expires_at: PrimitiveDateTime,
    used: bool,
    created_at: PrimitiveDateTime,
}

fn map_code(row: &Row, now: PrimitiveDateTime) -> Result<Outcome<NewCode>, DumpError> {
    let digest = some_or_skip!(
        digest_of(row, "authorization_code"),
        SkipReason::MissingValue
    );
    let expires_at = some_or_skip!(row.time("expires")?, SkipReason::MissingValue);
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    let user = some_or_skip!(row.owned("user_id"), SkipReason::DanglingReference);
    Ok(keep(
        NewCode {
            digest,
            oauth_client_id: app.clone(),
            user_id: user.clone(),
            scope: scope(row, "scope"),
            // NULL: the authorization request had no redirect_uri (keyrock.md 5.4).
            redirect_uri: row.owned("redirect_uri"),
            code_challenge: None,
            code_challenge_method: None,
            nonce: row.owned("nonce"),
            expires_at,
            used: revoked(row)?,
            created_at: now,
        },
        vec![(Ref::Client, Some(app)), (Ref::User, Some(user))],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = oauth_refresh_tokens, treat_none_as_default_value = false)]
struct NewRefreshToken {
    digest: String,
    oauth_client_id: String,
    user_id: Option<String>,
    iot_agent_id: Option<String>,
    scope: String,
    expires_at: PrimitiveDateTime,
    code_digest: Option<String>,
    revoked: bool,
    created_at: PrimitiveDateTime,
}

fn map_refresh_token(
    row: &Row,
    now: PrimitiveDateTime,
) -> Result<Outcome<NewRefreshToken>, DumpError> {
    let digest = some_or_skip!(digest_of(row, "refresh_token"), SkipReason::MissingValue);
    let expires_at = some_or_skip!(row.time("expires")?, SkipReason::MissingValue);
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    let user = row.owned("user_id");
    let iot = row.owned("iot_id");
    Ok(keep(
        NewRefreshToken {
            digest,
            oauth_client_id: app.clone(),
            user_id: user.clone(),
            iot_agent_id: iot.clone(),
            scope: scope(row, "scope"),
            expires_at,
            code_digest: digest_of(row, "authorization_code"),
            revoked: revoked(row)?,
            created_at: now,
        },
        vec![(Ref::Client, Some(app)), (Ref::User, user), (Ref::Iot, iot)],
    ))
}

#[derive(Insertable)]
#[diesel(table_name = oauth_access_tokens, treat_none_as_default_value = false)]
struct NewAccessToken {
    digest: String,
    oauth_client_id: String,
    user_id: Option<String>,
    iot_agent_id: Option<String>,
    scope: String,
    expires_at: Option<PrimitiveDateTime>,
    refresh_digest: Option<String>,
    code_digest: Option<String>,
    revoked: bool,
    created_at: PrimitiveDateTime,
}

fn map_access_token(
    row: &Row,
    now: PrimitiveDateTime,
) -> Result<Outcome<NewAccessToken>, DumpError> {
    let digest = some_or_skip!(digest_of(row, "access_token"), SkipReason::NoPlaintextToken);
    let app = some_or_skip!(row.owned("oauth_client_id"), SkipReason::DanglingReference);
    let user = row.owned("user_id");
    let iot = row.owned("iot_id");
    Ok(keep(
        NewAccessToken {
            digest,
            oauth_client_id: app.clone(),
            user_id: user.clone(),
            iot_agent_id: iot.clone(),
            scope: scope(row, "scope"),
            // NULL: a permanent token.
            expires_at: row.time("expires")?,
            refresh_digest: digest_of(row, "refresh_token"),
            code_digest: digest_of(row, "authorization_code"),
            revoked: revoked(row)?,
            created_at: now,
        },
        vec![(Ref::Client, Some(app)), (Ref::User, user), (Ref::Iot, iot)],
    ))
}

/// The Tessera tables the import fills.
const FILLED_TABLES: [&str; 15] = [
    "users",
    "oauth_clients",
    "organizations",
    "roles",
    "permissions",
    "role_permissions",
    "role_assignments",
    "user_organizations",
    "trusted_applications",
    "user_authorized_applications",
    "pep_proxies",
    "iot_agents",
    "oauth_authorization_codes",
    "oauth_refresh_tokens",
    "oauth_access_tokens",
];

#[derive(QueryableByName)]
struct Deferred {
    #[diesel(sql_type = diesel::sql_types::Text)]
    drop_sql: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    restore_sql: String,
}

/// Drops what makes bulk writes slow on the tables the import fills, and returns the
/// statements that restore it, read from the database itself (so they are exactly the
/// migrations'):
/// - the non-unique indexes: one index built by sorting at the end costs far less than a
///   million random insertions into it (unique indexes stay: they decide duplicates);
/// - on PostgreSQL, the foreign keys: checked once per table when restored, by one join,
///   instead of by a trigger per row. Nothing dangling is written (every row's references
///   are checked before it is), so restoring them cannot fail.
///
/// Inside the import's transaction: a failure or a dry run restores everything with the
/// rest.
pub(crate) fn defer_constraints(conn: &mut DbConn) -> Result<Vec<String>, StorageError> {
    let tables = FILLED_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut queries = Vec::new();
    match conn {
        DbConn::Sqlite(_) => queries.push(format!(
            "SELECT 'DROP INDEX \"' || name || '\"' AS drop_sql, sql AS restore_sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name IN ({tables}) AND sql IS NOT NULL \
             AND sql NOT LIKE 'CREATE UNIQUE%'"
        )),
        DbConn::Postgres(_) => {
            queries.push(format!(
                "SELECT 'DROP INDEX \"' || indexname || '\"' AS drop_sql, indexdef AS restore_sql \
                 FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ({tables}) \
                 AND indexdef NOT LIKE 'CREATE UNIQUE%'"
            ));
            queries.push(format!(
                "SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname) AS drop_sql, \
                 format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname, \
                 pg_get_constraintdef(c.oid)) AS restore_sql \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
                 JOIN pg_namespace n ON n.oid = t.relnamespace \
                 WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname IN ({tables})"
            ));
        }
    }
    let mut restore = Vec::new();
    for query in queries {
        let deferred: Vec<Deferred> = diesel::sql_query(query).load(conn)?;
        for d in deferred {
            diesel::sql_query(d.drop_sql).execute(conn)?;
            restore.push(d.restore_sql);
        }
    }
    Ok(restore)
}

/// Runs the statements [`defer_constraints`] returned.
pub(crate) fn restore_constraints(
    conn: &mut DbConn,
    statements: &[String],
) -> Result<(), StorageError> {
    for statement in statements {
        diesel::sql_query(statement.as_str()).execute(conn)?;
    }
    Ok(())
}
