//! `/v1/applications/{app}/permissions` (keyrock.md 4.6) and the role–permission links
//! (4.7). The ids `"1"`..`"6"` always name the internal permissions, which can be read and
//! linked to custom roles but never edited or deleted.

use auth_core::principal::UserPrincipal;
use auth_core::secrets::random_uuid;
use diesel::prelude::*;
use storage::schema::{permissions, role_permissions};
use storage::{write_tx, DbConn};

use crate::authz::{self, Operation, NOT_ALLOWED};
use crate::input::{Given, Updated};
use crate::roles::{self, Role};
use crate::vocabulary::InternalPermission;
use crate::KeyrockError;

/// The PDP level decides which rule kinds a permission may carry (keyrock.md 4.6, 6.6).
/// Spelled `basic`, `payload` or `advanced` in the settings and the login answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PdpLevel {
    #[default]
    Basic,
    Payload,
    Advanced,
}

impl PdpLevel {
    pub const ALL: [PdpLevel; 3] = [PdpLevel::Basic, PdpLevel::Payload, PdpLevel::Advanced];

    pub fn as_str(self) -> &'static str {
        match self {
            PdpLevel::Basic => "basic",
            PdpLevel::Payload => "payload",
            PdpLevel::Advanced => "advanced",
        }
    }
}

impl std::fmt::Display for PdpLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PDP level spelled other than `basic`, `payload` or `advanced`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PDP level {0:?} (expected basic, payload or advanced)")]
pub struct UnknownPdpLevel(pub String);

impl std::str::FromStr for PdpLevel {
    type Err = UnknownPdpLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PdpLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| UnknownPdpLevel(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = permissions)]
pub struct Permission {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_internal: bool,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub xml: Option<String>,
    pub is_regex: bool,
    pub authorization_service_header: Option<String>,
    pub use_authorization_service_header: bool,
    pub regex_entity_ids: Option<String>,
    pub regex_attributes: Option<String>,
    pub regex_types: Option<String>,
    pub oauth_client_id: String,
}

/// The internal permission ids, shared by every application.
fn internal_ids() -> [&'static str; 6] {
    InternalPermission::ALL.map(InternalPermission::id)
}

pub const NOT_FOUND: KeyrockError = KeyrockError::NotFound("permission not found");
const NO_ASSIGNMENTS: KeyrockError = KeyrockError::NotFound("Assignments not found");

/// The permission named in the path: an internal one, or one of the application's (else 404).
pub fn find_in_application(
    conn: &mut DbConn,
    app_id: &str,
    perm_id: &str,
) -> Result<Permission, KeyrockError> {
    let mut query = permissions::table
        .filter(permissions::id.eq(perm_id))
        .select(Permission::as_select())
        .into_boxed();
    if !InternalPermission::is_internal_id(perm_id) {
        query = query.filter(permissions::oauth_client_id.eq(app_id));
    }
    query.first(conn).optional()?.ok_or(NOT_FOUND)
}

fn by_id_descending(mut list: Vec<Permission>) -> Vec<Permission> {
    list.sort_by(|a, b| b.id.as_bytes().cmp(a.id.as_bytes()));
    list
}

const MISSING_WRAPPER: KeyrockError =
    KeyrockError::Invalid("Missing parameter permission in body request");

/// Members of the `permission` object a PATCH may not name (keyrock.md 4.6).
pub const READ_ONLY_FIELDS: [&str; 2] = ["id", "is_internal"];

/// The `permission` object of a create or PATCH request. Text fields carry numbers and
/// booleans in their JSON spelling (Keyrock's ORM coerced them the same way).
#[derive(Debug, Clone, Default)]
pub struct PermissionFields {
    pub name: Given<String>,
    pub description: Given<String>,
    pub action: Given<String>,
    pub resource: Given<String>,
    pub xml: Given<String>,
    pub is_regex: Given<bool>,
    pub use_authorization_service_header: Given<bool>,
    pub authorization_service_header: Given<String>,
    pub regex_entity_ids: Given<String>,
    pub regex_attributes: Given<String>,
    pub regex_types: Given<String>,
    /// The request names `id` or `is_internal`, which cannot be set.
    pub sets_read_only: bool,
}

impl PermissionFields {
    fn regex_fields(&self) -> [(&Given<String>, &'static str); 3] {
        [
            (
                &self.regex_entity_ids,
                "Cannot set regex_entity_ids unless running in payload mode",
            ),
            (
                &self.regex_attributes,
                "Cannot set regex_attributes unless running in payload mode",
            ),
            (
                &self.regex_types,
                "Cannot set regex_types unless running in payload mode",
            ),
        ]
    }
}

/// A boolean flag: absent or null is `None`, anything but a boolean is refused.
fn flag(given: &Given<bool>, message: &'static str) -> Result<Option<bool>, KeyrockError> {
    match given {
        Given::Absent | Given::Null => Ok(None),
        Given::Value(b) => Ok(Some(*b)),
        Given::Unusable => Err(KeyrockError::Invalid(message)),
    }
}

fn check_xml(input: &PermissionFields, level: PdpLevel) -> Result<(), KeyrockError> {
    if input.xml.non_empty().is_some() && level != PdpLevel::Advanced {
        return Err(KeyrockError::Invalid(
            "Idm is not configured to create XACML advanced rules",
        ));
    }
    Ok(())
}

/// Rules 5 to 9, shared by create and PATCH; they look at the request only.
fn check_flags_and_regex(
    input: &PermissionFields,
    level: PdpLevel,
) -> Result<(Option<bool>, Option<bool>), KeyrockError> {
    let is_regex = flag(&input.is_regex, "is_regex attribute must be a boolean")?;
    let use_header = flag(
        &input.use_authorization_service_header,
        "use_authorization_service_header attribute must be a boolean",
    )?;
    let header = input.authorization_service_header.non_empty();
    if use_header == Some(true) && header.is_none() {
        return Err(KeyrockError::Invalid(
            "if use_authorization_service_header is set, authorization_service_header needs to be set",
        ));
    }
    if header.is_some() && use_header != Some(true) {
        return Err(KeyrockError::Invalid(
            "if authorization_service_header is set, use_authorization_service_header needs to be set",
        ));
    }
    if level != PdpLevel::Payload {
        for (given, message) in input.regex_fields() {
            if given.non_empty().is_some() {
                return Err(KeyrockError::Invalid(message));
            }
        }
    }
    Ok((is_regex, use_header))
}

/// `GET .../permissions` (perm 3): the application's permissions and the six internal
/// ones, by id descending.
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<Vec<Permission>, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManagePermissions)?;
    let list: Vec<Permission> = permissions::table
        .filter(
            permissions::oauth_client_id
                .eq(app_id)
                .or(permissions::id.eq_any(internal_ids())),
        )
        .select(Permission::as_select())
        .load(conn)?;
    if list.is_empty() {
        return Err(KeyrockError::NotFound("permissions not found"));
    }
    Ok(by_id_descending(list))
}

/// `POST .../permissions` (perm 3), validated by rules 1-9 of keyrock.md 4.6.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    input: &Given<PermissionFields>,
    level: PdpLevel,
) -> Result<Permission, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePermissions)?;
        let input = input.value().ok_or(MISSING_WRAPPER)?;
        let name = input
            .name
            .non_empty()
            .map(str::to_owned)
            .ok_or(KeyrockError::Invalid(
                "Missing parameter name in body request or empty name",
            ))?;
        check_xml(input, level)?;
        let xml = input.xml.non_empty().map(str::to_owned);
        let action = input.action.non_empty().map(str::to_owned);
        let resource = input.resource.non_empty().map(str::to_owned);
        if xml.is_none() && (action.is_none() || resource.is_none()) {
            return Err(KeyrockError::Invalid("Set action and resource"));
        }
        let (is_regex, use_header) = check_flags_and_regex(input, level)?;
        let permission = Permission {
            id: random_uuid(),
            name,
            description: input.description.text(),
            is_internal: false,
            action,
            resource,
            xml,
            is_regex: is_regex.unwrap_or(false),
            authorization_service_header: input.authorization_service_header.text(),
            use_authorization_service_header: use_header.unwrap_or(false),
            regex_entity_ids: input.regex_entity_ids.text(),
            regex_attributes: input.regex_attributes.text(),
            regex_types: input.regex_types.text(),
            oauth_client_id: app_id.to_owned(),
        };
        insert(c, &permission)?;
        Ok(permission)
    })
}

fn insert(conn: &mut DbConn, p: &Permission) -> Result<(), KeyrockError> {
    diesel::insert_into(permissions::table)
        .values((
            permissions::id.eq(&p.id),
            permissions::name.eq(&p.name),
            permissions::description.eq(&p.description),
            permissions::is_internal.eq(p.is_internal),
            permissions::action.eq(&p.action),
            permissions::resource.eq(&p.resource),
            permissions::xml.eq(&p.xml),
            permissions::is_regex.eq(p.is_regex),
            permissions::authorization_service_header.eq(&p.authorization_service_header),
            permissions::use_authorization_service_header.eq(p.use_authorization_service_header),
            permissions::regex_entity_ids.eq(&p.regex_entity_ids),
            permissions::regex_attributes.eq(&p.regex_attributes),
            permissions::regex_types.eq(&p.regex_types),
            permissions::oauth_client_id.eq(&p.oauth_client_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// `GET .../permissions/{perm}` (perm 3).
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    perm_id: &str,
) -> Result<Permission, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManagePermissions)?;
    find_in_application(conn, app_id, perm_id)
}

/// `PATCH .../permissions/{perm}` (perm 3): the permission after it and the names of the
/// fields whose stored value changed.
pub fn update(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    perm_id: &str,
    input: &Given<PermissionFields>,
    level: PdpLevel,
) -> Result<Updated<Permission>, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePermissions)?;
        let before = find_in_application(c, app_id, perm_id)?;
        if before.is_internal {
            return Err(NOT_ALLOWED);
        }
        let input = input.value().ok_or(MISSING_WRAPPER)?;
        if input.name.is_empty_text() {
            return Err(KeyrockError::Invalid("Cannot set empty name"));
        }
        check_xml(input, level)?;
        if input.sets_read_only {
            return Err(KeyrockError::Invalid("Cannot set id or is_internal"));
        }
        let (is_regex, use_header) = check_flags_and_regex(input, level)?;

        let after = apply(&before, input, is_regex, use_header);

        let changed = changed_fields(&before, &after);
        if !changed.is_empty() {
            diesel::update(permissions::table.filter(permissions::id.eq(&before.id)))
                .set((
                    permissions::name.eq(&after.name),
                    permissions::description.eq(&after.description),
                    permissions::action.eq(&after.action),
                    permissions::resource.eq(&after.resource),
                    permissions::xml.eq(&after.xml),
                    permissions::is_regex.eq(after.is_regex),
                    permissions::authorization_service_header
                        .eq(&after.authorization_service_header),
                    permissions::use_authorization_service_header
                        .eq(after.use_authorization_service_header),
                    permissions::regex_entity_ids.eq(&after.regex_entity_ids),
                    permissions::regex_attributes.eq(&after.regex_attributes),
                    permissions::regex_types.eq(&after.regex_types),
                ))
                .execute(c)?;
        }
        Ok(Updated { after, changed })
    })
}

/// The permission as a checked PATCH leaves it.
fn apply(
    before: &Permission,
    input: &PermissionFields,
    is_regex: Option<bool>,
    use_header: Option<bool>,
) -> Permission {
    let mut after = before.clone();
    let non_empty = |g: &Given<String>| g.non_empty().map(str::to_owned);
    if let Some(name) = non_empty(&input.name) {
        after.name = name;
    }
    if let Some(description) = non_empty(&input.description) {
        after.description = Some(description);
    }
    // One of the pair alone would leave a rule that matches nothing Keyrock expects.
    if let (Some(action), Some(resource)) = (non_empty(&input.action), non_empty(&input.resource)) {
        after.action = Some(action);
        after.resource = Some(resource);
    }
    if let Some(xml) = non_empty(&input.xml) {
        after.xml = Some(xml);
    }
    if input.is_regex.is_sent() {
        after.is_regex = is_regex.unwrap_or(false);
    }
    if input.use_authorization_service_header.is_sent() {
        after.use_authorization_service_header = use_header.unwrap_or(false);
    }
    let texts = [
        (
            &input.authorization_service_header,
            &mut after.authorization_service_header,
        ),
        (&input.regex_entity_ids, &mut after.regex_entity_ids),
        (&input.regex_attributes, &mut after.regex_attributes),
        (&input.regex_types, &mut after.regex_types),
    ];
    for (given, slot) in texts {
        if given.is_sent() {
            *slot = given.text();
        }
    }
    after
}

fn changed_fields(before: &Permission, after: &Permission) -> Vec<&'static str> {
    let pairs = [
        ("name", before.name != after.name),
        ("description", before.description != after.description),
        ("action", before.action != after.action),
        ("resource", before.resource != after.resource),
        ("xml", before.xml != after.xml),
        ("is_regex", before.is_regex != after.is_regex),
        (
            "authorization_service_header",
            before.authorization_service_header != after.authorization_service_header,
        ),
        (
            "use_authorization_service_header",
            before.use_authorization_service_header != after.use_authorization_service_header,
        ),
        (
            "regex_entity_ids",
            before.regex_entity_ids != after.regex_entity_ids,
        ),
        (
            "regex_attributes",
            before.regex_attributes != after.regex_attributes,
        ),
        ("regex_types", before.regex_types != after.regex_types),
    ];
    pairs
        .into_iter()
        .filter(|(_, differs)| *differs)
        .map(|(field, _)| field)
        .collect()
}

/// `DELETE .../permissions/{perm}` (perm 3): its role links go with it.
pub fn delete(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    perm_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ManagePermissions)?;
        let permission = find_in_application(c, app_id, perm_id)?;
        if permission.is_internal {
            return Err(NOT_ALLOWED);
        }
        diesel::delete(permissions::table.filter(permissions::id.eq(&permission.id))).execute(c)?;
        Ok(())
    })
}

/// `GET .../roles/{role}/permissions` (perm 3): the permissions linked to the role.
pub fn of_role(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
) -> Result<Vec<Permission>, KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageRolePermissions)?;
    let role = roles::find_in_application(conn, app_id, role_id)?;
    let list: Vec<Permission> = role_permissions::table
        .inner_join(permissions::table.on(permissions::id.eq(role_permissions::permission_id)))
        .filter(role_permissions::role_id.eq(&role.id))
        .select(Permission::as_select())
        .load(conn)?;
    if list.is_empty() {
        return Err(NO_ASSIGNMENTS);
    }
    Ok(by_id_descending(list))
}

/// Path resolution of a link route, left to right, then the internal-role refusal.
fn editable_link(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
    perm_id: &str,
) -> Result<(Role, Permission), KeyrockError> {
    authz::authorize(conn, caller, app_id, Operation::ManageRolePermissions)?;
    let role = roles::find_in_application(conn, app_id, role_id)?;
    let permission = find_in_application(conn, app_id, perm_id)?;
    if role.is_internal {
        return Err(NOT_ALLOWED);
    }
    Ok((role, permission))
}

/// `PUT .../roles/{role}/permissions/{perm}` (perm 3): idempotent.
pub fn link(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
    perm_id: &str,
) -> Result<(String, String), KeyrockError> {
    write_tx(conn, |c| {
        let (role, permission) = editable_link(c, caller, app_id, role_id, perm_id)?;
        // Idempotent in one statement: concurrent PUTs of the same link all succeed.
        storage::each_backend!(c, |c| diesel::insert_into(role_permissions::table)
            .values((
                role_permissions::role_id.eq(&role.id),
                role_permissions::permission_id.eq(&permission.id),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok((role.id, permission.id))
    })
}

/// `DELETE .../roles/{role}/permissions/{perm}` (perm 3).
pub fn unlink(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    role_id: &str,
    perm_id: &str,
) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        let (role, permission) = editable_link(c, caller, app_id, role_id, perm_id)?;
        let removed = diesel::delete(
            role_permissions::table
                .filter(role_permissions::role_id.eq(&role.id))
                .filter(role_permissions::permission_id.eq(&permission.id)),
        )
        .execute(c)?;
        if removed == 0 {
            return Err(NO_ASSIGNMENTS);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
