//! `/v1/applications` (keyrock.md 4.2): OAuth clients, their grant and token types, and
//! the secrets shown once.

use auth_core::principal::UserPrincipal;
use auth_core::secrets::{random_hex, random_uuid, sha256_hex};
use diesel::prelude::*;
use serde_json::{Map, Value};
use storage::schema::{oauth_clients, role_assignments};
use storage::{to_db_time, write_tx, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::authz::{self, Operation};
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
    Ok(oauth_clients::table
        .filter(oauth_clients::id.eq(id))
        .select(Application::as_select())
        .first(conn)
        .optional()?)
}

/// Grant types Keyrock knows, in the order they are stored.
const KNOWN_GRANTS: [&str; 6] = [
    "client_credentials",
    "password",
    "authorization_code",
    "implicit",
    "hybrid",
    "refresh_token",
];
/// What an application gets when the create request names no grant type.
const DEFAULT_GRANTS: &str =
    "client_credentials,password,implicit,authorization_code,hybrid,refresh_token";

const INVALID_GRANT: KeyrockError = KeyrockError::BadRequest("Invalid Grant Type");
const INVALID_TOKEN_TYPE: KeyrockError =
    KeyrockError::BadRequest("Invalid token type in body request");

fn scope_has_openid(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .any(|part| part == "openid")
    })
}

/// A string, or an array of strings joined with commas (redirect_uri, scope).
fn string_or_list(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// `grant_type` must be a JSON array; unknown values are dropped, and none left is invalid.
fn parse_grants(value: &Value) -> Result<Vec<&'static str>, KeyrockError> {
    let items = value.as_array().ok_or(INVALID_GRANT)?;
    let given: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
    let grants: Vec<&'static str> = KNOWN_GRANTS
        .iter()
        .copied()
        .filter(|g| given.contains(g))
        .collect();
    if grants.is_empty() {
        return Err(INVALID_GRANT);
    }
    Ok(grants)
}

/// `token_types` must be a JSON array of `jwt`/`permanent`; `bearer` is always appended.
fn parse_token_types(value: &Value) -> Result<String, KeyrockError> {
    let items = value.as_array().ok_or(INVALID_TOKEN_TYPE)?;
    let mut types: Vec<&str> = Vec::new();
    for item in items {
        match item.as_str() {
            Some(t @ ("jwt" | "permanent")) => {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            _ => return Err(INVALID_TOKEN_TYPE),
        }
    }
    types.push("bearer");
    Ok(types.join(","))
}

/// The stored `grant_type` and derived `response_type` (keyrock.md 4.2).
fn derive_grants(grants: Option<Vec<&'static str>>, scope: Option<&str>) -> (String, String) {
    let openid = scope_has_openid(scope);
    match grants {
        None => {
            let response = if openid {
                "code,token,none,id_token"
            } else {
                "code,token,none"
            };
            (DEFAULT_GRANTS.to_owned(), response.to_owned())
        }
        Some(mut grants) => {
            if openid {
                for extra in ["hybrid", "authorization_code", "implicit"] {
                    if !grants.contains(&extra) {
                        grants.push(extra);
                    }
                }
                return (grants.join(","), "code,token,id_token".to_owned());
            }
            let mut response = Vec::new();
            if grants.contains(&"authorization_code") {
                response.push("code");
            }
            if grants.contains(&"implicit") {
                response.push("token");
            }
            (grants.join(","), response.join(","))
        }
    }
}

fn wrapper(body: &Value) -> Result<&Map<String, Value>, KeyrockError> {
    body.get("application")
        .and_then(Value::as_object)
        .ok_or(KeyrockError::BadRequest(
            "Missing parameter application in body request",
        ))
}

fn opt_string(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// `POST /v1/applications`: any user; the caller becomes its provider. Returns the
/// application and its plaintext secret, shown this once.
pub fn create(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    body: &Value,
    now: OffsetDateTime,
) -> Result<(Application, String), KeyrockError> {
    let input = wrapper(body)?;
    let name = input
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(KeyrockError::BadRequest(
            "Missing parameter name in body request or empty name",
        ))?;
    let redirect_uri = string_or_list(input.get("redirect_uri")).ok_or(
        KeyrockError::BadRequest("Missing parameter redirect_uri in body request"),
    )?;
    let token_types = match input.get("token_types").filter(|v| !v.is_null()) {
        Some(v) => parse_token_types(v)?,
        None => "bearer".to_owned(),
    };
    let grants = match input.get("grant_type").filter(|v| !v.is_null()) {
        Some(v) => Some(parse_grants(v)?),
        None => None,
    };
    let scope = string_or_list(input.get("scope"));
    let (grant_type, response_type) = derive_grants(grants, scope.as_deref());
    let jwt_secret = (token_types.split(',').any(|t| t == "jwt")
        || scope_has_openid(scope.as_deref()))
    .then(|| random_hex(16));
    let id = random_uuid();
    let secret = random_uuid();
    write_tx(conn, |c| {
        diesel::insert_into(oauth_clients::table)
            .values((
                oauth_clients::id.eq(&id),
                oauth_clients::name.eq(name),
                oauth_clients::description.eq(opt_string(input, "description")),
                oauth_clients::secret_digest.eq(sha256_hex(&secret)),
                oauth_clients::url.eq(opt_string(input, "url")),
                oauth_clients::redirect_uri.eq(&redirect_uri),
                oauth_clients::redirect_sign_out_uri.eq(opt_string(input, "redirect_sign_out_uri")),
                oauth_clients::grant_type.eq(&grant_type),
                oauth_clients::response_type.eq(&response_type),
                oauth_clients::token_types.eq(&token_types),
                oauth_clients::jwt_secret.eq(&jwt_secret),
                oauth_clients::client_type.eq(opt_string(input, "client_type")),
                oauth_clients::scope.eq(&scope),
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
    let show_jwt_secret = access.has("2");
    Ok(VisibleApplication {
        app: access.app,
        show_jwt_secret,
    })
}

/// The outcome of a PATCH: the application after it, and the fields whose stored value changed.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    pub app: VisibleApplication,
    pub changed: Vec<&'static str>,
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

/// `PATCH /v1/applications/{app}` (perm 2).
pub fn update(
    conn: &mut DbConn,
    caller: &UserPrincipal,
    app_id: &str,
    body: &Value,
) -> Result<UpdateOutcome, KeyrockError> {
    write_tx(conn, |c| {
        let access = authz::authorize(c, caller, app_id, Operation::UpdateApplication)?;
        let before = access.app;
        let input = wrapper(body)?;
        let present = |key: &str| input.get(key).filter(|v| !v.is_null());
        if present("name").is_some_and(|v| v.as_str() == Some("")) {
            return Err(KeyrockError::BadRequest("Cannot set empty name"));
        }
        if present("redirect_uri").is_some_and(|v| v.as_str() == Some("")) {
            return Err(KeyrockError::BadRequest("Cannot set empty redirect_uri"));
        }
        if ["id", "secret", "response_type"]
            .iter()
            .any(|k| input.contains_key(*k))
        {
            return Err(KeyrockError::BadRequest(
                "Cannot set id, secret or response_type",
            ));
        }
        let token_types = present("token_types").map(parse_token_types).transpose()?;
        let grants = present("grant_type").map(parse_grants).transpose()?;

        let mut changes = AppChanges::default();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut set_text = |field: &'static str,
                            new: Option<String>,
                            old: &Option<String>,
                            slot: &mut Option<String>| {
            if let Some(new) = new {
                if old.as_ref() != Some(&new) {
                    *slot = Some(new);
                    changed.push(field);
                }
            }
        };
        set_text(
            "name",
            present("name").and_then(Value::as_str).map(str::to_owned),
            &Some(before.name.clone()),
            &mut changes.name,
        );
        set_text(
            "description",
            present("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            &before.description,
            &mut changes.description,
        );
        set_text(
            "url",
            present("url").and_then(Value::as_str).map(str::to_owned),
            &before.url,
            &mut changes.url,
        );
        set_text(
            "redirect_uri",
            string_or_list(present("redirect_uri")),
            &before.redirect_uri,
            &mut changes.redirect_uri,
        );
        set_text(
            "redirect_sign_out_uri",
            present("redirect_sign_out_uri")
                .and_then(Value::as_str)
                .map(str::to_owned),
            &before.redirect_sign_out_uri,
            &mut changes.redirect_sign_out_uri,
        );
        set_text(
            "client_type",
            present("client_type")
                .and_then(Value::as_str)
                .map(str::to_owned),
            &before.client_type,
            &mut changes.client_type,
        );
        set_text(
            "scope",
            string_or_list(present("scope")),
            &before.scope,
            &mut changes.scope,
        );
        let scope_after = changes.scope.clone().or(before.scope.clone());
        if grants.is_some() {
            let (grant_type, response_type) = derive_grants(grants, scope_after.as_deref());
            set_text(
                "grant_type",
                Some(grant_type),
                &before.grant_type,
                &mut changes.grant_type,
            );
            set_text(
                "response_type",
                Some(response_type),
                &before.response_type,
                &mut changes.response_type,
            );
        }
        let openid = scope_has_openid(scope_after.as_deref());
        if let Some(types) = token_types {
            let new_secret = if types.split(',').any(|t| t == "jwt") {
                // Sending jwt rotates the key: the one way to revoke JWT access tokens.
                Some(random_hex(16))
            } else if openid {
                before.jwt_secret.clone().or_else(|| Some(random_hex(16)))
            } else {
                None
            };
            set_text(
                "token_types",
                Some(types),
                &before.token_types,
                &mut changes.token_types,
            );
            if new_secret != before.jwt_secret {
                changes.jwt_secret = Some(new_secret);
                changed.push("jwt_secret");
            }
        } else if openid && before.jwt_secret.is_none() {
            changes.jwt_secret = Some(Some(random_hex(16)));
            changed.push("jwt_secret");
        }
        if !changed.is_empty() {
            diesel::update(oauth_clients::table.filter(oauth_clients::id.eq(app_id)))
                .set(&changes)
                .execute(c)?;
        }
        let app =
            find_application(c, app_id)?.ok_or(KeyrockError::NotFound("Application not found"))?;
        Ok(UpdateOutcome {
            app: VisibleApplication {
                app,
                show_jwt_secret: true,
            },
            changed,
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
