//! `/v1/auth/tokens` handlers.

use actix_web::{HttpRequest, HttpResponse};
use keyrock_idm::tokens::{self, LoginInput, SubjectOwner};
use serde_json::{json, Value};

use super::extract::{caller_token, RawBody};
use super::views::{token_user, ts};
use super::ApiError;
use crate::app::State;
use crate::db;
use crate::http::credentials::header_text;
use crate::http::media::content_type_is;
use crate::http::text;

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
    request_body(content = Object, description = "{\"name\":email or PEP proxy id,\"password\"} and/or {\"token\"}; JSON or application/x-www-form-urlencoded"),
    responses(
        (status = 201, description = "Token in the X-Subject-Token header", body = Object),
        (status = 401, description = "Invalid email or password; Invalid id or password; Token has expired; Token not correspond to user"),
        (status = 413, description = "Body too large")))]
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
    Ok(HttpResponse::Created()
        .insert_header(("X-Subject-Token", outcome.token))
        .json(json!({
            "token": {"methods": outcome.methods, "expires_at": ts(outcome.expires_at)},
            "idm_authorization_config": {
                "level": state.settings.pdp_level.as_str(),
                "authzforce": false,
            },
        })))
}

#[utoipa::path(get, path = "/v1/auth/tokens", tag = "keyrock", operation_id = "keyrock_inspect_api_token",
    params(("X-Subject-Token" = String, Header, description = "The token to inspect")),
    security(("x_auth_token" = [])),
    responses(
        (status = 200, description = "The subject token and its owner", body = Object),
        (status = 401, description = "Invalid email or password (every failure)")))]
pub async fn inspect(req: HttpRequest, state: State) -> Result<HttpResponse, ApiError> {
    let auth = caller_token(&req);
    let subject = header_text(&req, "x-subject-token");
    let now = time::OffsetDateTime::now_utc();
    let shown = subject.clone();
    let info = db::with_conn(&state.pool, move |conn| {
        tokens::inspect(conn, auth.as_deref(), subject.as_deref(), now)
    })
    .await?;
    let mut body = json!({
        "access_token": shown,
        "expires": ts(info.expires_at),
        "valid": true,
    });
    match info.owner {
        SubjectOwner::User(user) => body["User"] = token_user(&user),
        SubjectOwner::PepProxy(id) => body["PepProxy"] = json!({"id": id}),
    }
    Ok(HttpResponse::Ok().json(body))
}

#[utoipa::path(delete, path = "/v1/auth/tokens", tag = "keyrock", operation_id = "keyrock_delete_api_token",
    params(("X-Subject-Token" = String, Header, description = "The token to delete")),
    security(("x_auth_token" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Expecting to find X-Subject-token / X-Auth-token in requests"),
        (status = 401, description = "Auth Token has expired"),
        (status = 403, description = "Not the owner of both tokens"),
        (status = 404, description = "Auth Token not found; Subject Token not found")))]
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
