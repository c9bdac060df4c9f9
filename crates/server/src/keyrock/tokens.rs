//! `/v1/auth/tokens` handlers.

use actix_web::{HttpRequest, HttpResponse};
use keyrock_idm::tokens::{self, LoginInput, SubjectOwner};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::commands::requests::LoginRequest;
use super::error::KeyrockErrorBody;
use super::extract::{caller_token, RawBody};
use super::views::{ok, token_user, ts, TokenUser};
use super::ApiError;
use crate::app::State;
use crate::db;
use crate::http::credentials::header_text;
use crate::http::media::content_type_is;
use crate::http::text;

/// The new token's methods and expiry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    /// `password` and/or `token`, in that order.
    pub methods: Vec<&'static str>,
    pub expires_at: String,
}

/// The server's authorization level, as a PEP proxy reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdmAuthorizationConfig {
    /// `basic`, `payload` or `advanced`.
    pub level: &'static str,
    /// Always false: no AuthZForce.
    pub authzforce: bool,
}

/// The 201 of `POST /v1/auth/tokens` (the token itself is in `X-Subject-Token`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokenCreated {
    pub token: ApiToken,
    pub idm_authorization_config: IdmAuthorizationConfig,
}

/// A PEP proxy that owns a token.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPepProxy {
    pub id: String,
}

/// Who owns an inspected token: the key is `User` or `PepProxy`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub enum TokenOwner {
    User(TokenUser),
    PepProxy(TokenPepProxy),
}

/// `GET /v1/auth/tokens`: the subject token and its owner.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiTokenInspection {
    /// The inspected token, as sent in `X-Subject-Token`.
    #[schema(required)]
    pub access_token: Option<String>,
    pub expires: String,
    /// Always true (an invalid token is a 401).
    pub valid: bool,
    #[serde(flatten)]
    pub owner: TokenOwner,
}

/// JSON or form body; any other Content-Type, or a body that does not decode (control
/// characters included), carries no credentials.
fn login_input(req: &HttpRequest, body: RawBody) -> Result<LoginInput, ApiError> {
    let bytes = body.bytes()?;
    if content_type_is(req, &mime::APPLICATION_JSON) {
        let Ok(Value::Object(map)) = text::json(&bytes) else {
            return Ok(LoginInput::default());
        };
        let field = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        return Ok(LoginInput {
            name: field("name"),
            password: field("password"),
            token: field("token"),
        });
    }
    if content_type_is(req, &mime::APPLICATION_WWW_FORM_URLENCODED) {
        let pairs = text::form(&bytes).unwrap_or_default();
        let field = |key: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        return Ok(LoginInput {
            name: field("name"),
            password: field("password"),
            token: field("token"),
        });
    }
    Ok(LoginInput::default())
}

#[utoipa::path(post, path = "/v1/auth/tokens", tag = "keyrock", operation_id = "keyrock_create_api_token",
    request_body(description = "name (an email or a PEP proxy id) with password, and/or an existing token",
        content((LoginRequest = "application/json"), (LoginRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 201, description = "Token in the X-Subject-Token header", body = ApiTokenCreated,
            headers(("X-Subject-Token" = String, description = "The new API token"))),
        (status = 400, description = "Malformed JSON body (the body could not be read)", body = KeyrockErrorBody),
        (status = 401, description = "Invalid email or password; Invalid id or password; Token has expired; Token not correspond to user", body = KeyrockErrorBody),
        (status = 408, description = "Request body not received in time", body = KeyrockErrorBody),
        (status = 413, description = "Request body too large", body = KeyrockErrorBody),
        (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn create(
    req: HttpRequest,
    state: State,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let input = login_input(&req, body)?;
    let now = time::OffsetDateTime::now_utc();
    let lifetime = state.settings.api_token_lifetime();
    let (pool, hasher) = (state.pool.clone(), state.hasher.clone());
    let outcome = db::blocking(move || tokens::login(&pool, &hasher, input, now, lifetime)).await?;
    let body = ApiTokenCreated {
        token: ApiToken {
            methods: outcome.methods,
            expires_at: ts(outcome.expires_at),
        },
        idm_authorization_config: IdmAuthorizationConfig {
            level: state.settings.pdp_level.as_str(),
            authzforce: false,
        },
    };
    Ok(HttpResponse::Created()
        .insert_header(("X-Subject-Token", outcome.token))
        .json(body))
}

#[utoipa::path(get, path = "/v1/auth/tokens", tag = "keyrock", operation_id = "keyrock_inspect_api_token",
    params(("X-Subject-Token" = String, Header, description = "The token to inspect")),
    security(("x_auth_token" = [])),
    responses(
        (status = 200, description = "The subject token and its owner", body = ApiTokenInspection),
        (status = 401, description = "Invalid email or password (every failure)", body = KeyrockErrorBody),
        (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn inspect(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    let auth = caller_token(&req);
    let subject = header_text(&req, "x-subject-token");
    let now = time::OffsetDateTime::now_utc();
    let shown = subject.clone();
    let info = db::with_conn(&state.pool, move |conn| {
        tokens::inspect(conn, auth.as_deref(), subject.as_deref(), now)
    })
    .await?;
    let owner = match info.owner {
        SubjectOwner::User(user) => TokenOwner::User(token_user(&user)),
        SubjectOwner::PepProxy(id) => TokenOwner::PepProxy(TokenPepProxy { id }),
    };
    Ok(ok(&ApiTokenInspection {
        access_token: shown,
        expires: ts(info.expires_at),
        valid: true,
        owner,
    }))
}

#[utoipa::path(delete, path = "/v1/auth/tokens", tag = "keyrock", operation_id = "keyrock_delete_api_token",
    params(("X-Subject-Token" = String, Header, description = "The token to delete")),
    security(("x_auth_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Expecting to find X-Subject-token in requests; Expecting to find X-Auth-token/Authorization in requests", body = KeyrockErrorBody),
        (status = 401, description = "Auth Token has expired", body = KeyrockErrorBody),
        (status = 403, description = "User must be admin or owner of the two tokens; Pep Proxy must be owner of the two tokens; Subject and auth token are not owned by the same entity", body = KeyrockErrorBody),
        (status = 404, description = "Auth Token not found; Subject Token not found", body = KeyrockErrorBody),
        (status = 503, description = "Service unavailable", body = KeyrockErrorBody)))]
pub async fn delete(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    let auth = caller_token(&req);
    let subject = header_text(&req, "x-subject-token");
    let now = time::OffsetDateTime::now_utc();
    db::with_conn(&state.pool, move |conn| {
        tokens::delete(conn, auth.as_deref(), subject.as_deref(), now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
