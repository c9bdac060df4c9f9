//! Discovery and keys (keyrock.md 5.7): the RFC 8414 authorization-server metadata, the
//! global OIDC discovery document, Keyrock's per-application discovery document, and the
//! JWKS documents (global and per application; both serve the one server key, decision 25).
//! No caller authentication; errors use the Keyrock envelope.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use auth_core::server_key::{Jwk, ServerKey};
use keyrock_idm::applications::{find_application, Application};
use keyrock_idm::authz::IDM_ADMIN_APP;
use keyrock_idm::KeyrockError;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::KeyrockErrorBody;
use super::views::ok;
use super::ApiError;
use crate::app::{AppState, State};
use crate::db;
use crate::http::route::Route;
use crate::route;
use crate::settings::JwtAlgorithm;

/// The discovery routes, at the root (`/.well-known/...`, `/idm/...`).
pub fn routes() -> Vec<Route<ApiError, ()>> {
    vec![
        route!(authorization_server_metadata),
        route!(openid_configuration),
        route!(jwks),
        route!(application_openid_configuration),
        route!(application_certs),
    ]
}

const APPLICATION_NOT_FOUND: KeyrockError = KeyrockError::NotFound("Application not found");

/// The grant types the token endpoint serves (keyrock.md 5.7).
const GRANT_TYPES: [&str; 5] = [
    "authorization_code",
    "implicit",
    "password",
    "client_credentials",
    "refresh_token",
];

/// The response types `/oauth2/authorize` serves (keyrock.md 5.3).
const RESPONSE_TYPES: [&str; 7] = [
    "code",
    "token",
    "id_token",
    "id_token token",
    "code id_token",
    "code token",
    "code id_token token",
];

const SCOPES: [&str; 4] = ["openid", "bearer", "jwt", "permanent"];
const CODE_CHALLENGE_METHODS: [&str; 2] = ["S256", "plain"];
/// Client authentication with a secret (keyrock.md 5.1, steps 1 and 2).
const SECRET_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The RFC 8414 authorization-server metadata (`/.well-known/oauth-authorization-server`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationServerMetadata {
    /// `TESSERA_PUBLIC_URL`.
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    /// Keyrock's token-info endpoint, `/user`.
    pub userinfo_endpoint: String,
    /// Only with `TESSERA_OIDC_JWT_ALGORITHM=RS256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    /// `client_secret_basic`, `client_secret_post`, and `none` when
    /// `TESSERA_OAUTH_PUBLIC_GRANTS` names a grant type.
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    /// This server's `/openapi.json`.
    pub service_documentation: String,
}

/// The global OIDC discovery document: the RFC 8414 members plus two OIDC ones.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub userinfo_endpoint: String,
    /// Only with `TESSERA_OIDC_JWT_ALGORITHM=RS256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub service_documentation: String,
    /// Always `["public"]`.
    pub subject_types_supported: Vec<String>,
    /// `[TESSERA_OIDC_JWT_ALGORITHM]`.
    pub id_token_signing_alg_values_supported: Vec<String>,
}

impl OpenIdConfiguration {
    fn new(m: AuthorizationServerMetadata, algorithm: &str) -> Self {
        OpenIdConfiguration {
            issuer: m.issuer,
            authorization_endpoint: m.authorization_endpoint,
            token_endpoint: m.token_endpoint,
            revocation_endpoint: m.revocation_endpoint,
            introspection_endpoint: m.introspection_endpoint,
            userinfo_endpoint: m.userinfo_endpoint,
            jwks_uri: m.jwks_uri,
            response_types_supported: m.response_types_supported,
            grant_types_supported: m.grant_types_supported,
            token_endpoint_auth_methods_supported: m.token_endpoint_auth_methods_supported,
            revocation_endpoint_auth_methods_supported: m
                .revocation_endpoint_auth_methods_supported,
            introspection_endpoint_auth_methods_supported: m
                .introspection_endpoint_auth_methods_supported,
            code_challenge_methods_supported: m.code_challenge_methods_supported,
            scopes_supported: m.scopes_supported,
            service_documentation: m.service_documentation,
            subject_types_supported: strings(&["public"]),
            id_token_signing_alg_values_supported: strings(&[algorithm]),
        }
    }
}

/// Keyrock's per-application discovery document. Empty lists are omitted.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationOpenIdConfiguration {
    /// `P/idm/applications/<id>`, the `iss` of the application's id_tokens.
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    /// `P/idm/applications/<id>/certs`.
    pub jwks_uri: String,
    /// Keyrock's name for the revocation endpoint.
    pub revoke_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    /// The application's `scope`, as a list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub scopes_supported: Vec<String>,
    /// The application's `response_type`, as a list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub response_types_supported: Vec<String>,
    /// The application's `grant_type`, as a list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub service_documentation: String,
}

/// A public signing key (RFC 7517).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwkBody {
    /// Always `RSA`.
    pub kty: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
    /// Always `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    #[schema(rename = "use")]
    pub key_use: String,
    /// RFC 7638 thumbprint of the key.
    pub kid: String,
}

impl From<&Jwk> for JwkBody {
    fn from(jwk: &Jwk) -> Self {
        JwkBody {
            kty: jwk.kty.to_owned(),
            n: jwk.n.clone(),
            e: jwk.e.clone(),
            alg: jwk.alg.to_owned(),
            key_use: jwk.key_use.to_owned(),
            kid: jwk.kid.clone(),
        }
    }
}

/// A JWK set: the server's RS256 key, or no key with HS256.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwkSet {
    pub keys: Vec<JwkBody>,
}

impl JwkSet {
    fn of(key: Option<&ServerKey>) -> JwkSet {
        JwkSet {
            keys: key.map(|k| JwkBody::from(k.jwk())).into_iter().collect(),
        }
    }
}

fn algorithm(state: &AppState) -> &'static str {
    match state.settings.oidc_jwt_algorithm {
        JwtAlgorithm::Hs256 => "HS256",
        JwtAlgorithm::Rs256 => "RS256",
    }
}

fn rs256(state: &AppState) -> bool {
    state.settings.oidc_jwt_algorithm == JwtAlgorithm::Rs256
}

fn metadata(state: &AppState) -> AuthorizationServerMetadata {
    let p = &state.public_url;
    let mut token_auth = strings(&SECRET_AUTH_METHODS);
    let public_grants = state
        .settings
        .oauth_public_grants
        .split(',')
        .any(|g| !g.trim().is_empty());
    if public_grants {
        token_auth.push("none".to_owned());
    }
    AuthorizationServerMetadata {
        issuer: p.clone(),
        authorization_endpoint: format!("{p}/oauth2/authorize"),
        token_endpoint: format!("{p}/oauth2/token"),
        revocation_endpoint: format!("{p}/oauth2/revoke"),
        introspection_endpoint: format!("{p}/oauth2/introspect"),
        userinfo_endpoint: format!("{p}/user"),
        jwks_uri: rs256(state).then(|| format!("{p}/.well-known/jwks.json")),
        response_types_supported: strings(&RESPONSE_TYPES),
        grant_types_supported: strings(&GRANT_TYPES),
        token_endpoint_auth_methods_supported: token_auth,
        revocation_endpoint_auth_methods_supported: strings(&SECRET_AUTH_METHODS),
        introspection_endpoint_auth_methods_supported: strings(&SECRET_AUTH_METHODS),
        code_challenge_methods_supported: strings(&CODE_CHALLENGE_METHODS),
        scopes_supported: strings(&SCOPES),
        service_documentation: format!("{p}/openapi.json"),
    }
}

/// A stored comma-separated list (`grant_type`, `response_type`, `scope`) as its items.
fn items(stored: Option<&str>) -> Vec<String> {
    stored
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The application a discovery route names. `idm_admin_app` is not an OAuth client
/// (keyrock.md 5.1), so it has no discovery document and no keys: not found.
fn oauth_application(conn: &mut storage::DbConn, id: &str) -> Result<Application, ApiError> {
    if id == IDM_ADMIN_APP || !storage::is_storable(id) {
        return Err(APPLICATION_NOT_FOUND.into());
    }
    find_application(conn, id)?.ok_or_else(|| APPLICATION_NOT_FOUND.into())
}

/// The JWK set of the server, after checking the application a per-application route names.
async fn key_set(state: &State, application: Option<String>) -> Result<JwkSet, ApiError> {
    if application.is_none() {
        if !rs256(state) {
            return Ok(JwkSet::of(None));
        }
        if let Some(key) = state.server_key.cached() {
            return Ok(JwkSet::of(Some(&key)));
        }
    }
    let shared = state.clone();
    let now = time::OffsetDateTime::now_utc();
    db::with_conn(&state.pool, move |conn| {
        if let Some(id) = &application {
            oauth_application(conn, id)?;
        }
        if !rs256(&shared) {
            return Ok(JwkSet::of(None));
        }
        let key: Arc<ServerKey> = shared
            .server_key
            .get(conn, now)
            .map_err(KeyrockError::from)?;
        Ok(JwkSet::of(Some(&key)))
    })
    .await
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "keyrock", operation_id = "keyrock_get_authorization_server_metadata",
    responses((status = 200, description = "RFC 8414 metadata (jwks_uri only with RS256; `none` among the token endpoint's methods only with public grants)", body = AuthorizationServerMetadata)))]
pub async fn authorization_server_metadata(state: State) -> HttpResponse {
    ok(&metadata(&state))
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "keyrock", operation_id = "keyrock_get_openid_configuration",
    responses((status = 200, description = "The RFC 8414 members plus subject_types_supported and id_token_signing_alg_values_supported", body = OpenIdConfiguration)))]
pub async fn openid_configuration(state: State) -> HttpResponse {
    ok(&OpenIdConfiguration::new(
        metadata(&state),
        algorithm(&state),
    ))
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "keyrock", operation_id = "keyrock_get_jwks",
    responses((status = 200, description = "{\"keys\":[<the server's RS256 key>]} with RS256; {\"keys\":[]} with HS256", body = JwkSet),
              (status = 500, description = "Internal error", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn jwks(state: State) -> Result<HttpResponse, ApiError> {
    Ok(ok(&key_set(&state, None).await?))
}

#[utoipa::path(get, path = "/idm/applications/{application_id}/.well-known/openid-configuration", tag = "keyrock", operation_id = "keyrock_get_application_openid_configuration",
    params(("application_id" = String, Path)),
    responses((status = 200, description = "Keyrock's per-application discovery document (empty lists omitted)", body = ApplicationOpenIdConfiguration),
              (status = 404, description = "Application not found", body = KeyrockErrorBody),
              (status = 500, description = "Internal error", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn application_openid_configuration(
    state: State,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let app = db::with_conn(&state.pool, move |conn| oauth_application(conn, &id)).await?;
    let p = &state.public_url;
    let issuer = format!("{p}/idm/applications/{}", app.id);
    Ok(ok(&ApplicationOpenIdConfiguration {
        authorization_endpoint: format!("{p}/oauth2/authorize"),
        token_endpoint: format!("{p}/oauth2/token"),
        userinfo_endpoint: format!("{p}/user"),
        jwks_uri: format!("{issuer}/certs"),
        revoke_endpoint: format!("{p}/oauth2/revoke"),
        revocation_endpoint: format!("{p}/oauth2/revoke"),
        introspection_endpoint: format!("{p}/oauth2/introspect"),
        scopes_supported: items(app.scope.as_deref()),
        response_types_supported: items(app.response_type.as_deref()),
        grant_types_supported: items(app.grant_type.as_deref()),
        subject_types_supported: strings(&["public"]),
        id_token_signing_alg_values_supported: strings(&[algorithm(&state)]),
        code_challenge_methods_supported: strings(&CODE_CHALLENGE_METHODS),
        service_documentation: format!("{p}/openapi.json"),
        issuer,
    }))
}

#[utoipa::path(get, path = "/idm/applications/{application_id}/certs", tag = "keyrock", operation_id = "keyrock_get_application_certs",
    params(("application_id" = String, Path)),
    responses((status = 200, description = "The server's JWK set (the same for every application)", body = JwkSet),
              (status = 404, description = "Application not found", body = KeyrockErrorBody),
              (status = 500, description = "Internal error", body = KeyrockErrorBody),
              (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn application_certs(
    state: State,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok(&key_set(&state, Some(path.into_inner())).await?))
}

#[cfg(test)]
mod tests {
    use super::items;

    #[test]
    fn stored_lists_split_into_items_without_empties() {
        assert_eq!(
            items(Some("code,token,id_token")),
            ["code", "token", "id_token"]
        );
        assert_eq!(items(Some("openid, profile")), ["openid", "profile"]);
        assert!(items(Some("")).is_empty());
        assert!(items(None).is_empty());
    }
}
