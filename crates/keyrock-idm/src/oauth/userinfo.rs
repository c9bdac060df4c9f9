//! `GET /user` (keyrock.md 6): which token, whose it is, what it may see, and the policy
//! decision. The token-info documents are also the payload of JWT access tokens (5.9), so
//! their serialized form is defined here, once.

use std::sync::Arc;

use auth_core::oauth::{self, Standing, Subject};
use auth_core::users::{find_user, User};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use storage::schema::{
    oauth_clients, organizations, role_assignments, roles, trusted_applications,
    user_authorized_applications, user_organizations,
};
use storage::DbConn;
use time::OffsetDateTime;

use super::cache::{Evaluation, TokenInfoCache};
use super::pdp::{self, Decision, PatternCache};
use crate::authz::INTERNAL_ROLES;
use crate::permissions::PdpLevel;

/// Where `/user` found the token (keyrock.md 6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationHeader {
    Absent,
    Bearer(String),
    /// Present, but not `Bearer <token>`.
    Malformed,
}

/// A `/user` request as the wire decoder read it.
#[derive(Debug, Clone)]
pub struct UserInfoRequest {
    pub access_token: Option<String>,
    pub authorization: AuthorizationHeader,
    pub app_id: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    pub authorization_service_header: Option<String>,
    pub authzforce: Option<String>,
}

/// Why `/user` answers no token info. Keyrock's bodies are bare strings, except where
/// named.
#[derive(Debug, thiserror::Error)]
pub enum UserInfoError {
    /// 400, bare string.
    #[error("{0}")]
    Invalid(&'static str),
    /// 401, bare string.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 400 `{"message":"Cannot handle 2 authentications levels at the same time",...}`.
    #[error("Cannot handle 2 authentications levels at the same time")]
    TwoLevels,
    /// 401 `{"message":"Unauthorized","code":401,"title":"Unauthorized"}`: `app_id` names
    /// no application.
    #[error("Unauthorized")]
    UnknownApplication,
    /// 501, bare string.
    #[error("{0}")]
    NotSupported(&'static str),
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
}

impl From<diesel::result::Error> for UserInfoError {
    fn from(e: diesel::result::Error) -> Self {
        UserInfoError::Storage(e.into())
    }
}

impl From<auth_core::AuthError> for UserInfoError {
    fn from(e: auth_core::AuthError) -> Self {
        match e {
            auth_core::AuthError::Storage(s) => UserInfoError::Storage(s),
            other => UserInfoError::Storage(storage::StorageError::Other(other.to_string())),
        }
    }
}

pub const TOKEN_INVALID: &str = "Invalid token: access token is invalid";
pub const TOKEN_REVOKED: &str = "Invalid token: access token is no longer valid";
pub const TOKEN_EXPIRED: &str = "Invalid token: access token has expired";
pub const NOT_TRUSTED: &str = "User not authorized in application";
pub const ADVANCED_NOT_SUPPORTED: &str = "PDP level advanced (AuthZForce) is not supported";

/// A JSON document stored as text (a user's `extra`), serialized as JSON, not as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl Serialize for JsonText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::value::RawValue::from_string(self.0.clone()) {
            Ok(raw) => raw.serialize(serializer),
            // Stored text that is not JSON is shown as a string rather than lost.
            Err(_) => serializer.serialize_str(&self.0),
        }
    }
}

/// `{"id","name"}` of a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoleRef {
    pub id: String,
    pub name: String,
}

/// An organization through which the user holds roles in the application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizationRoles {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub roles: Vec<RoleRef>,
}

/// `isGravatarEnabled`: the user's gravatar flag when the user shares `gravatar`, else `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GravatarShared {
    Flag(bool),
    NotShared,
}

impl Serialize for GravatarShared {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GravatarShared::Flag(flag) => s.serialize_bool(*flag),
            GravatarShared::NotShared => s.serialize_str(""),
        }
    }
}

/// An empty JSON object (`eidas_profile`, `attributes`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// The token info of a user token (keyrock.md 6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserTokenInfo {
    pub organizations: Vec<OrganizationRoles>,
    #[serde(rename = "displayName")]
    pub display_name: &'static str,
    pub roles: Vec<RoleRef>,
    pub app_id: String,
    pub trusted_apps: Vec<String>,
    /// `true`/`false` when shared, else `""`.
    #[serde(rename = "isGravatarEnabled")]
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub is_gravatar_enabled: GravatarShared,
    pub id: String,
    pub authorization_decision: Decision,
    pub app_azf_domain: &'static str,
    /// Always `{}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub eidas_profile: Empty,
    /// Always `{}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub attributes: Empty,
    pub shared_attributes: &'static str,
    /// `""` unless the user shares it with the token's application.
    pub username: String,
    /// `""` unless the user shares it with the token's application.
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub image: &'static str,
    pub gravatar: &'static str,
    /// The user's `extra` JSON document, or null.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub extra: Option<JsonText>,
    pub sub: String,
}

/// The token info of an IoT agent token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IotTokenInfo {
    #[serde(rename = "displayName")]
    pub display_name: &'static str,
    pub roles: Vec<RoleRef>,
    pub app_id: String,
    pub trusted_apps: Vec<String>,
    pub id: String,
    pub app_azf_domain: &'static str,
    #[serde(skip_serializing_if = "Decision::not_asked")]
    pub authorization_decision: Decision,
}

/// The token info of a `client_credentials` token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientTokenInfo {
    pub app_id: String,
    #[serde(skip_serializing_if = "Decision::not_asked")]
    pub authorization_decision: Decision,
}

/// What `/user` answers for a valid token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum TokenInfo {
    User(Box<UserTokenInfo>),
    IotAgent(IotTokenInfo),
    Client(ClientTokenInfo),
}

/// The identity claims `/user` reads from a JWT access token (5.9).
#[derive(Debug, Clone, Deserialize)]
pub struct JwtIdentity {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub app_id: String,
    pub exp: Option<i64>,
}

impl JwtIdentity {
    pub fn subject(&self) -> Option<Subject> {
        match (self.kind.as_str(), &self.id) {
            ("user", Some(id)) => Some(Subject::User(id.clone())),
            ("iot", Some(id)) => Some(Subject::IotAgent(id.clone())),
            ("app", _) => Some(Subject::Client),
            _ => None,
        }
    }
}

/// Whose token it is and which application it was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHolder {
    pub app_id: String,
    pub subject: Subject,
    /// `None`: permanent.
    pub expires_at: Option<OffsetDateTime>,
}

/// The action the PDP is asked about.
#[derive(Debug, Clone)]
pub struct PdpQuestion<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub authorization_service_header: Option<&'a str>,
}

/// What `/user` asks besides the token: the decision question, if any.
fn question(request: &UserInfoRequest) -> Option<PdpQuestion<'_>> {
    match (&request.action, &request.resource) {
        (Some(action), Some(resource)) => Some(PdpQuestion {
            action,
            resource,
            authorization_service_header: request.authorization_service_header.as_deref(),
        }),
        _ => None,
    }
}

/// The checks that need no store: 6.1, and the `advanced` level's 501.
fn precheck(request: &UserInfoRequest, level: PdpLevel) -> Result<&str, UserInfoError> {
    let token = token_source(request)?;
    if level == PdpLevel::Advanced && (question(request).is_some() || request.authzforce.is_some())
    {
        return Err(UserInfoError::NotSupported(ADVANCED_NOT_SUPPORTED));
    }
    Ok(token)
}

/// `GET /user` from the cache alone: `None` when the cache has no fresh evaluation of this
/// token and `app_id` (then call [`user_info`] with a connection).
pub fn user_info_cached(
    cache: &TokenInfoCache,
    patterns: &PatternCache,
    level: PdpLevel,
    request: &UserInfoRequest,
    now: OffsetDateTime,
) -> Option<Result<TokenInfo, UserInfoError>> {
    let token = match precheck(request, level) {
        Ok(token) => token,
        Err(e) => return Some(Err(e)),
    };
    let evaluation = cache.fresh(token, request.app_id.as_deref(), now)?;
    Some(answer(&evaluation, patterns, request, now))
}

/// `GET /user`: 6.1 to 6.4 in order. The evaluation (everything but the decision) is kept
/// in `cache` for at most [`STALENESS`].
pub fn user_info(
    conn: &mut DbConn,
    cache: &TokenInfoCache,
    patterns: &PatternCache,
    level: PdpLevel,
    request: &UserInfoRequest,
    now: OffsetDateTime,
) -> Result<TokenInfo, UserInfoError> {
    let token = precheck(request, level)?;
    let evaluation = match cache.fresh(token, request.app_id.as_deref(), now) {
        Some(found) => found,
        None => {
            let fresh = Arc::new(evaluate(conn, token, request.app_id.as_deref(), now)?);
            cache.put(token, request.app_id.as_deref(), fresh.clone());
            fresh
        }
    };
    answer(&evaluation, patterns, request, now)
}

/// The answer for an evaluation: its token info, with the decision when one is asked for.
fn answer(
    evaluation: &Evaluation,
    patterns: &PatternCache,
    request: &UserInfoRequest,
    now: OffsetDateTime,
) -> Result<TokenInfo, UserInfoError> {
    if evaluation.expires_at.is_some_and(|exp| exp <= now) {
        return Err(UserInfoError::Unauthenticated(TOKEN_EXPIRED));
    }
    let mut info = evaluation.info.clone();
    if let Some(q) = question(request) {
        let decision = match &mut info {
            TokenInfo::User(user) => &mut user.authorization_decision,
            TokenInfo::IotAgent(iot) => &mut iot.authorization_decision,
            TokenInfo::Client(client) => &mut client.authorization_decision,
        };
        *decision = if evaluation.rules.iter().any(|r| r.matches(patterns, &q)) {
            Decision::Permit
        } else {
            Decision::Deny
        };
    }
    Ok(info)
}

/// 6.2 to 6.4 without the decision: whose token, evaluated in which application, with the
/// permissions the user's roles carry there (none for IoT and client tokens).
fn evaluate(
    conn: &mut DbConn,
    token: &str,
    app_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<Evaluation, UserInfoError> {
    let holder = resolve(conn, token, app_id, now)?;
    let evaluated = app_id.unwrap_or(&holder.app_id);
    if evaluated != holder.app_id && !trusts(conn, evaluated, &holder.app_id)? {
        return Err(UserInfoError::Unauthenticated(NOT_TRUSTED));
    }
    let trusted_apps = match app_id {
        Some(app) => trusted_by(conn, app)?,
        None => Vec::new(),
    };
    let (info, rules) = match &holder.subject {
        Subject::User(user_id) => {
            let user =
                find_user(conn, user_id)?.ok_or(UserInfoError::Unauthenticated(TOKEN_INVALID))?;
            if !user.enabled {
                return Err(UserInfoError::Unauthenticated(TOKEN_REVOKED));
            }
            let mut info = user_token_info(conn, &user, &holder.app_id, evaluated)?;
            info.trusted_apps = trusted_apps;
            let rules = pdp::rules(conn, evaluated, &info.all_role_ids())?;
            (TokenInfo::User(Box::new(info)), rules)
        }
        Subject::IotAgent(id) => (
            TokenInfo::IotAgent(IotTokenInfo {
                trusted_apps,
                ..iot_token_info(id, &holder.app_id)
            }),
            Vec::new(),
        ),
        Subject::Client => (
            TokenInfo::Client(ClientTokenInfo {
                app_id: holder.app_id.clone(),
                authorization_decision: Decision::NotAsked,
            }),
            Vec::new(),
        ),
    };
    Ok(Evaluation {
        info,
        rules,
        expires_at: holder.expires_at,
        evaluated_at: now,
    })
}

/// 6.1: where the token comes from.
fn token_source(request: &UserInfoRequest) -> Result<&str, UserInfoError> {
    let header_present = request.authorization != AuthorizationHeader::Absent;
    let token = match (&request.access_token, &request.authorization) {
        (Some(_), _) if header_present => {
            return Err(UserInfoError::Invalid(
                "Invalid request: only one authentication method is allowed",
            ))
        }
        (Some(token), _) => token.as_str(),
        (None, AuthorizationHeader::Absent) => {
            return Err(UserInfoError::Unauthenticated(
                "Unauthorized request: no authentication given",
            ))
        }
        (None, AuthorizationHeader::Malformed) => {
            return Err(UserInfoError::Invalid(
                "Invalid request: malformed authorization header",
            ))
        }
        (None, AuthorizationHeader::Bearer(token)) => token.as_str(),
    };
    let second_level = request.action.is_some()
        || request.resource.is_some()
        || request.authorization_service_header.is_some()
        || header_present;
    if request.authzforce.is_some() && second_level {
        return Err(UserInfoError::TwoLevels);
    }
    Ok(token)
}

/// 6.2: whose token it is. A JWT is tried only with `app_id`, against that application's
/// `jwt_secret`; anything else is an opaque token looked up by digest.
fn resolve(
    conn: &mut DbConn,
    token: &str,
    app_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<TokenHolder, UserInfoError> {
    if let Some(app_id) = app_id {
        if !storage::is_storable(app_id) {
            return Err(UserInfoError::UnknownApplication);
        }
        let app: Option<(Option<String>, Option<String>)> = oauth_clients::table
            .filter(oauth_clients::id.eq(app_id))
            .select((oauth_clients::token_types, oauth_clients::jwt_secret))
            .first(conn)
            .optional()?;
        let (token_types, jwt_secret) = app.ok_or(UserInfoError::UnknownApplication)?;
        let jwt_enabled = token_types
            .as_deref()
            .is_some_and(|t| t.split(',').any(|t| t == "jwt"));
        if let (true, Some(secret)) = (jwt_enabled, jwt_secret) {
            let verified = auth_core::jwt::verify_hs256::<JwtIdentity>(
                token,
                secret.as_bytes(),
                now.unix_timestamp(),
            );
            if let Ok(claims) = verified {
                if let Some(subject) = claims.subject() {
                    let expires_at = claims
                        .exp
                        .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok());
                    return Ok(TokenHolder {
                        app_id: claims.app_id,
                        subject,
                        expires_at,
                    });
                }
            }
        }
    }
    let stored =
        oauth::find_access(conn, token)?.ok_or(UserInfoError::Unauthenticated(TOKEN_INVALID))?;
    match stored.standing(now) {
        Standing::Valid => Ok(TokenHolder {
            app_id: stored.client_id,
            subject: stored.subject,
            expires_at: stored.expires_at,
        }),
        Standing::Revoked => Err(UserInfoError::Unauthenticated(TOKEN_REVOKED)),
        Standing::Expired => Err(UserInfoError::Unauthenticated(TOKEN_EXPIRED)),
    }
}

/// Whether application `app` trusts application `other` (4.12).
pub fn trusts(conn: &mut DbConn, app: &str, other: &str) -> Result<bool, UserInfoError> {
    let n: i64 = trusted_applications::table
        .filter(trusted_applications::oauth_client_id.eq(app))
        .filter(trusted_applications::trusted_oauth_client_id.eq(other))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

fn trusted_by(conn: &mut DbConn, app: &str) -> Result<Vec<String>, UserInfoError> {
    Ok(trusted_applications::table
        .filter(trusted_applications::oauth_client_id.eq(app))
        .order(trusted_applications::trusted_oauth_client_id.asc())
        .select(trusted_applications::trusted_oauth_client_id)
        .load(conn)?)
}

impl UserTokenInfo {
    /// The roles the PDP evaluates: direct and organization-derived (6.4 step 1).
    pub fn all_role_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.roles.iter().map(|r| r.id.clone()).collect();
        for org in &self.organizations {
            ids.extend(org.roles.iter().map(|r| r.id.clone()));
        }
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The user's token info for a token of application `token_app`, evaluated in application
/// `evaluated`; no trusted apps and no decision yet.
pub fn user_token_info(
    conn: &mut DbConn,
    user: &User,
    token_app: &str,
    evaluated: &str,
) -> Result<UserTokenInfo, UserInfoError> {
    let shared: Option<String> = user_authorized_applications::table
        .filter(user_authorized_applications::user_id.eq(&user.id))
        .filter(user_authorized_applications::oauth_client_id.eq(token_app))
        .select(user_authorized_applications::shared_attributes)
        .first(conn)
        .optional()?;
    let shared = shared.unwrap_or_else(|| "username,email".to_owned());
    let shares = |attribute: &str| shared.split(',').any(|a| a.trim() == attribute);
    let value = |yes: bool, v: &str| if yes { v.to_owned() } else { String::new() };
    Ok(UserTokenInfo {
        organizations: organization_roles(conn, &user.id, evaluated)?,
        display_name: "",
        roles: direct_roles(conn, &user.id, evaluated)?,
        app_id: token_app.to_owned(),
        trusted_apps: Vec::new(),
        is_gravatar_enabled: if shares("gravatar") {
            GravatarShared::Flag(user.gravatar)
        } else {
            GravatarShared::NotShared
        },
        id: user.id.clone(),
        authorization_decision: Decision::NotAsked,
        app_azf_domain: "",
        eidas_profile: Empty {},
        attributes: Empty {},
        shared_attributes: "",
        username: value(shares("username"), &user.username),
        email: value(shares("email"), &user.email),
        given_name: user.username.clone(),
        family_name: user.username.clone(),
        image: "",
        gravatar: "",
        extra: user.extra.clone().map(JsonText),
        sub: user.id.clone(),
    })
}

/// The token info of an IoT agent token of `app_id`.
pub fn iot_token_info(id: &str, app_id: &str) -> IotTokenInfo {
    IotTokenInfo {
        display_name: "",
        roles: Vec::new(),
        app_id: app_id.to_owned(),
        trusted_apps: Vec::new(),
        id: id.to_owned(),
        app_azf_domain: "",
        authorization_decision: Decision::NotAsked,
    }
}

fn is_public_role(id: &str) -> bool {
    !INTERNAL_ROLES.contains(&id)
}

/// The user's direct roles in the application, `provider` and `purchaser` left out.
fn direct_roles(
    conn: &mut DbConn,
    user_id: &str,
    app_id: &str,
) -> Result<Vec<RoleRef>, UserInfoError> {
    let rows: Vec<(String, String)> = role_assignments::table
        .inner_join(roles::table.on(roles::id.eq(role_assignments::role_id)))
        .filter(role_assignments::oauth_client_id.eq(app_id))
        .filter(role_assignments::user_id.eq(user_id))
        .select((roles::id, roles::name))
        .order(roles::id.asc())
        .load(conn)?;
    let mut out: Vec<RoleRef> = Vec::new();
    for (id, name) in rows {
        if is_public_role(&id) && out.last().is_none_or(|r| r.id != id) {
            out.push(RoleRef { id, name });
        }
    }
    Ok(out)
}

type OrgRoleRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// The organizations through which the user holds roles in the application: assignments
/// to an organization the user belongs to, for exactly the user's organization role (2.5).
fn organization_roles(
    conn: &mut DbConn,
    user_id: &str,
    app_id: &str,
) -> Result<Vec<OrganizationRoles>, UserInfoError> {
    let rows: Vec<OrgRoleRow> = user_organizations::table
        .inner_join(
            role_assignments::table.on(role_assignments::organization_id
                .eq(user_organizations::organization_id.nullable())
                .and(role_assignments::role_organization.eq(user_organizations::role.nullable()))),
        )
        .inner_join(roles::table.on(roles::id.eq(role_assignments::role_id)))
        .inner_join(
            organizations::table.on(organizations::id.eq(user_organizations::organization_id)),
        )
        .filter(user_organizations::user_id.eq(user_id))
        .filter(role_assignments::oauth_client_id.eq(app_id))
        .select((
            organizations::id,
            organizations::name,
            organizations::description,
            organizations::website,
            roles::id,
            roles::name,
        ))
        .order((organizations::id.asc(), roles::id.asc()))
        .load(conn)?;
    let mut out: Vec<OrganizationRoles> = Vec::new();
    for (org_id, name, description, website, role_id, role_name) in rows {
        if !is_public_role(&role_id) {
            continue;
        }
        let role = RoleRef {
            id: role_id,
            name: role_name,
        };
        match out.last_mut() {
            Some(org) if org.id == org_id => {
                if org.roles.last().is_none_or(|r| r.id != role.id) {
                    org.roles.push(role);
                }
            }
            _ => out.push(OrganizationRoles {
                id: org_id,
                name,
                description,
                website,
                roles: vec![role],
            }),
        }
    }
    Ok(out)
}
