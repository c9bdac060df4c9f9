//! `/v1/applications` (keyrock.md 4.2): OAuth clients, their grant and token types, and
//! the secrets shown once.

use auth_core::principal::UserPrincipal;
use auth_core::secrets::{random_hex, random_uuid, sha256_hex};
use diesel::prelude::*;
use storage::schema::{oauth_clients, role_assignments};
use storage::{to_db_time, write_tx, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::authz::{self, Operation};
use crate::input::{Given, Updated};
use crate::vocabulary::{joined, GrantType, InternalPermission, ResponseType, TokenType};
use crate::KeyrockError;

/// A stored application. `secret_digest` never leaves the domain crates.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = oauth_clients)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub secret_digest: Option<String>,
    pub url: Option<String>,
    pub redirect_uri: Option<String>,
    pub redirect_sign_out_uri: Option<String>,
    pub image: String,
    pub grant_type: Option<String>,
    pub response_type: Option<String>,
    pub token_types: Option<String>,
    pub jwt_secret: Option<String>,
    pub client_type: Option<String>,
    pub scope: Option<String>,
    pub extra: Option<String>,
    pub created_at: PrimitiveDateTime,
}

/// An application as a given caller may see it: `jwt_secret` only with permission 2.
#[derive(Debug, Clone)]
pub struct VisibleApplication {
    pub app: Application,
    pub show_jwt_secret: bool,
}

pub fn find_application(conn: &mut DbConn, id: &str) -> Result<Option<Application>, KeyrockError> {
    if !storage::is_storable(id) {
        return Ok(None);
    }
    Ok(oauth_clients::table
        .filter(oauth_clients::id.eq(id))
        .select(Application::as_select())
        .first(conn)
        .optional()?)
}

/// What an application gets when the create request names no grant type.
const DEFAULT_GRANTS: [GrantType; 6] = [
    GrantType::ClientCredentials,
    GrantType::Password,
    GrantType::Implicit,
    GrantType::AuthorizationCode,
    GrantType::Hybrid,
    GrantType::RefreshToken,
];

const INVALID_GRANT: KeyrockError = KeyrockError::Invalid("Invalid Grant Type");
const INVALID_TOKEN_TYPE: KeyrockError =
    KeyrockError::Invalid("Invalid token type in body request");
const MISSING_WRAPPER: KeyrockError =
    KeyrockError::Invalid("Missing parameter application in body request");

/// What `POST /v1/applications` asks for. `redirect_uri` and `scope` arrive as text (a
/// list is joined with commas by the wire decoder).
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    pub name: Given<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub redirect_uri: Given<String>,
    pub redirect_sign_out_uri: Option<String>,
    pub client_type: Option<String>,
    pub scope: Option<String>,
    /// Grant type names; names Keyrock does not know are dropped.
    pub grant_types: Given<Vec<String>>,
    /// Token type names: each must be `jwt` or `permanent`.
    pub token_types: Given<Vec<String>>,
}

/// Members of the `application` object a PATCH may not name (keyrock.md 4.2).
pub const READ_ONLY_FIELDS: [&str; 3] = ["id", "secret", "response_type"];

/// What `PATCH /v1/applications/{app}` asks to change.
#[derive(Debug, Clone, Default)]
pub struct ApplicationChanges {
    pub name: Given<String>,
    pub description: Given<String>,
    pub url: Given<String>,
    pub redirect_uri: Given<String>,
    pub redirect_sign_out_uri: Given<String>,
    pub client_type: Given<String>,
    pub scope: Given<String>,
    pub grant_types: Given<Vec<String>>,
    pub token_types: Given<Vec<String>>,
    /// The request names `id`, `secret` or `response_type`, which cannot be set.
    pub sets_read_only: bool,
}

fn scope_has_openid(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .any(|part| part == "openid")
    })
}

/// Grant types must be sent as a list; unknown names are dropped, and none left is invalid.
/// The result is in stored order.
fn parse_grants(given: &Given<Vec<String>>) -> Result<Option<Vec<GrantType>>, KeyrockError> {
    let names = match given {
        Given::Absent | Given::Null => return Ok(None),
        Given::Unusable => return Err(INVALID_GRANT),
        Given::Value(names) => names,
    };
    let grants: Vec<GrantType> = GrantType::ALL
        .into_iter()
        .filter(|g| names.iter().any(|n| n == g.as_str()))
        .collect();
    if grants.is_empty() {
        return Err(INVALID_GRANT);
    }
    Ok(Some(grants))
}

/// Token types must be a list of `jwt`/`permanent`; `bearer` is always appended.
fn parse_token_types(given: &Given<Vec<String>>) -> Result<Option<Vec<TokenType>>, KeyrockError> {
    let names = match given {
        Given::Absent | Given::Null => return Ok(None),
        Given::Unusable => return Err(INVALID_TOKEN_TYPE),
        Given::Value(names) => names,
    };
    let mut types = Vec::new();
    for name in names {
        let t = TokenType::parse_choice(name).ok_or(INVALID_TOKEN_TYPE)?;
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types.push(TokenType::Bearer);
    Ok(Some(types))
}

/// The stored `grant_type` and derived `response_type` (keyrock.md 4.2).
fn derive_grants(grants: Option<Vec<GrantType>>, scope: Option<&str>) -> (String, String) {
    let openid = scope_has_openid(scope);
    let (grants, responses) = match grants {
        None => {
            let mut responses = vec![ResponseType::Code, ResponseType::Token, ResponseType::None];
            if openid {
                responses.push(ResponseType::IdToken);
            }
            (DEFAULT_GRANTS.to_vec(), responses)
        }
        Some(mut grants) if openid => {
            for extra in [
                GrantType::Hybrid,
                GrantType::AuthorizationCode,
                GrantType::Implicit,
            ] {
                if !grants.contains(&extra) {
                    grants.push(extra);
                }
            }
            let responses = vec![
                ResponseType::Code,
                ResponseType::Token,
                ResponseType::IdToken,
            ];
            (grants, responses)
        }
        Some(grants) => {
            let mut responses = Vec::new();
            if grants.contains(&GrantType::AuthorizationCode) {
                responses.push(ResponseType::Code);
            }
            if grants.contains(&GrantType::Implicit) {
                responses.push(ResponseType::Token);
            }
            (grants, responses)
        }
    };
    (
        joined(&grants, GrantType::as_str),
        joined(&responses, ResponseType::as_str),
    )
}

/// `POST /v1/applications`: any user; the caller becomes its provider. Returns the
/// application and its plaintext secret, shown this once.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    input: &Given<NewApplication>,
    now: OffsetDateTime,
) -> Result<(Application, String), KeyrockError> {
    let input = input.value().ok_or(MISSING_WRAPPER)?;
    let name = input.name.non_empty().ok_or(KeyrockError::Invalid(
        "Missing parameter name in body request or empty name",
    ))?;
    let redirect_uri = input.redirect_uri.value().ok_or(KeyrockError::Invalid(
        "Missing parameter redirect_uri in body request",
    ))?;
    let token_types = parse_token_types(&input.token_types)?.unwrap_or(vec![TokenType::Bearer]);
    let grants = parse_grants(&input.grant_types)?;
    let scope = input.scope.as_deref();
    let (grant_type, response_type) = derive_grants(grants, scope);
    let jwt_secret =
        (token_types.contains(&TokenType::Jwt) || scope_has_openid(scope)).then(|| random_hex(16));
    let id = random_uuid();
    let secret = random_uuid();
    write_tx(conn, |c| {
        diesel::insert_into(oauth_clients::table)
            .values((
                oauth_clients::id.eq(&id),
                oauth_clients::name.eq(name),
                oauth_clients::description.eq(&input.description),
                oauth_clients::secret_digest.eq(sha256_hex(&secret)),
                oauth_clients::url.eq(&input.url),
                oauth_clients::redirect_uri.eq(redirect_uri),
                oauth_clients::redirect_sign_out_uri.eq(&input.redirect_sign_out_uri),
                oauth_clients::grant_type.eq(&grant_type),
                oauth_clients::response_type.eq(&response_type),
                oauth_clients::token_types.eq(joined(&token_types, TokenType::as_str)),
                oauth_clients::jwt_secret.eq(&jwt_secret),
                oauth_clients::client_type.eq(&input.client_type),
                oauth_clients::scope.eq(scope),
                oauth_clients::created_at.eq(to_db_time(now)),
            ))
            .execute(c)?;
        diesel::insert_into(role_assignments::table)
            .values((
                role_assignments::oauth_client_id.eq(&id),
                role_assignments::role_id.eq("provider"),
                role_assignments::user_id.eq(&caller.id),
            ))
            .execute(c)?;
        Ok::<_, KeyrockError>(())
    })?;
    let app = find_application(conn, &id)?
        .ok_or(KeyrockError::Internal("application vanished".into()))?;
    Ok((app, secret))
}

/// `GET /v1/applications`: the applications in which the caller holds any role.
pub fn list(
    conn: &mut DbConn,
    caller: &UserPrincipal,
) -> Result<Vec<VisibleApplication>, KeyrockError> {
    let ids = authz::applications_of(conn, &caller.id)?;
    let mut out = Vec::new();
    for id in ids {
        if let Some(app) = find_application(conn, &id)? {
            let roles = authz::roles_of(conn, &caller.id, &id)?;
            let perms = authz::permissions_of_roles(conn, &roles)?;
            out.push(VisibleApplication {
                app,
                show_jwt_secret: perms.contains("2"),
            });
        }
    }
    out.sort_by(|a, b| {
        a.app
            .created_at
            .cmp(&b.app.created_at)
            .then(a.app.id.cmp(&b.app.id))
    });
    Ok(out)
}

/// `GET /v1/applications/{app}`.
pub fn get(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<VisibleApplication, KeyrockError> {
    let access = authz::authorize(conn, caller, app_id, Operation::ReadApplication)?;
    let show_jwt_secret = access.has(InternalPermission::ManageApplication);
    Ok(VisibleApplication {
        app: access.app,
        show_jwt_secret,
    })
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = oauth_clients)]
struct AppChanges {
    name: Option<String>,
    description: Option<String>,
    url: Option<String>,
    redirect_uri: Option<String>,
    redirect_sign_out_uri: Option<String>,
    client_type: Option<String>,
    scope: Option<String>,
    grant_type: Option<String>,
    response_type: Option<String>,
    token_types: Option<String>,
    jwt_secret: Option<Option<String>>,
}

/// The checked request of a PATCH, in Keyrock's order (keyrock.md 4.2).
struct CheckedChanges<'a> {
    changes: &'a ApplicationChanges,
    token_types: Option<Vec<TokenType>>,
    grants: Option<Vec<GrantType>>,
}

fn check_changes(input: &Given<ApplicationChanges>) -> Result<CheckedChanges<'_>, KeyrockError> {
    let changes = input.value().ok_or(MISSING_WRAPPER)?;
    if changes.name.is_empty_text() {
        return Err(KeyrockError::Invalid("Cannot set empty name"));
    }
    if changes.redirect_uri.is_empty_text() {
        return Err(KeyrockError::Invalid("Cannot set empty redirect_uri"));
    }
    if changes.sets_read_only {
        return Err(KeyrockError::Invalid(
            "Cannot set id, secret or response_type",
        ));
    }
    Ok(CheckedChanges {
        changes,
        token_types: parse_token_types(&changes.token_types)?,
        grants: parse_grants(&changes.grant_types)?,
    })
}

/// The stored columns a checked PATCH changes, and their names for `values_updated`.
#[derive(Default)]
struct Plan {
    columns: AppChanges,
    changed: Vec<&'static str>,
}

impl Plan {
    /// Records `new` for `field` when it differs from the stored value.
    fn text(
        &mut self,
        field: &'static str,
        new: Option<String>,
        old: Option<&str>,
    ) -> Option<String> {
        let new = new.filter(|n| old != Some(n.as_str()))?;
        self.changed.push(field);
        Some(new)
    }
}

/// Compares the request with the stored application. Sending `jwt` rotates the JWT key:
/// the one way to revoke JWT access tokens; an OpenID scope needs a key.
fn plan(before: &Application, req: CheckedChanges<'_>) -> Plan {
    let c = req.changes;
    let mut p = Plan::default();
    p.columns.name = p.text("name", c.name.text(), Some(&before.name));
    p.columns.description = p.text(
        "description",
        c.description.text(),
        before.description.as_deref(),
    );
    p.columns.url = p.text("url", c.url.text(), before.url.as_deref());
    p.columns.redirect_uri = p.text(
        "redirect_uri",
        c.redirect_uri.text(),
        before.redirect_uri.as_deref(),
    );
    p.columns.redirect_sign_out_uri = p.text(
        "redirect_sign_out_uri",
        c.redirect_sign_out_uri.text(),
        before.redirect_sign_out_uri.as_deref(),
    );
    p.columns.client_type = p.text(
        "client_type",
        c.client_type.text(),
        before.client_type.as_deref(),
    );
    p.columns.scope = p.text("scope", c.scope.text(), before.scope.as_deref());
    let scope_after = p.columns.scope.clone().or(before.scope.clone());
    if req.grants.is_some() {
        let (grant_type, response_type) = derive_grants(req.grants, scope_after.as_deref());
        p.columns.grant_type = p.text("grant_type", Some(grant_type), before.grant_type.as_deref());
        p.columns.response_type = p.text(
            "response_type",
            Some(response_type),
            before.response_type.as_deref(),
        );
    }
    let openid = scope_has_openid(scope_after.as_deref());
    let new_key = match &req.token_types {
        Some(types) => {
            let stored = joined(types, TokenType::as_str);
            p.columns.token_types =
                p.text("token_types", Some(stored), before.token_types.as_deref());
            if types.contains(&TokenType::Jwt) {
                Some(Some(random_hex(16)))
            } else if openid {
                Some(before.jwt_secret.clone().or_else(|| Some(random_hex(16))))
            } else {
                Some(None)
            }
        }
        None if openid && before.jwt_secret.is_none() => Some(Some(random_hex(16))),
        None => None,
    };
    if let Some(key) = new_key.filter(|k| *k != before.jwt_secret) {
        p.columns.jwt_secret = Some(key);
        p.changed.push("jwt_secret");
    }
    p
}

/// `PATCH /v1/applications/{app}` (perm 2): authorize, check the request, compare it with
/// the stored application, write what differs.
pub fn update(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    input: &Given<ApplicationChanges>,
) -> Result<Updated<VisibleApplication>, KeyrockError> {
    write_tx(conn, |c| {
        let before = authz::authorize(c, caller, app_id, Operation::UpdateApplication)?.app;
        let plan = plan(&before, check_changes(input)?);
        if !plan.changed.is_empty() {
            diesel::update(oauth_clients::table.filter(oauth_clients::id.eq(app_id)))
                .set(&plan.columns)
                .execute(c)?;
        }
        let app =
            find_application(c, app_id)?.ok_or(KeyrockError::NotFound("Application not found"))?;
        Ok(Updated {
            after: VisibleApplication {
                app,
                show_jwt_secret: true,
            },
            changed: plan.changed,
        })
    })
}

/// `DELETE /v1/applications/{app}` (perm 2): roles, permissions, assignments, PEP proxy,
/// IoT agents, trusted links and tokens go with it (foreign keys cascade, one transaction).
pub fn delete(conn: &mut DbConn, caller: &UserPrincipal, app_id: &str) -> Result<(), KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::DeleteApplication)?;
        diesel::delete(oauth_clients::table.filter(oauth_clients::id.eq(app_id))).execute(c)?;
        Ok(())
    })
}

/// `POST /v1/applications/{app}/reset_secret` (perm 2): a new secret, shown once; the old
/// one stops working at once.
pub fn reset_secret(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
) -> Result<String, KeyrockError> {
    write_tx(conn, |c| {
        authz::authorize(c, caller, app_id, Operation::ResetSecret)?;
        let secret = random_uuid();
        diesel::update(oauth_clients::table.filter(oauth_clients::id.eq(app_id)))
            .set(oauth_clients::secret_digest.eq(sha256_hex(&secret)))
            .execute(c)?;
        Ok(secret)
    })
}

#[cfg(test)]
mod tests;
