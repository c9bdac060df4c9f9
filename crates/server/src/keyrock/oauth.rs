//! `/oauth2/token`, `/oauth2/revoke` and `/oauth2/introspect` (keyrock.md 5.1, 5.4-5.6): the
//! OAuth2 wire format of the Keyrock family, RFC 6749 JSON errors with Keyrock's texts, and
//! `Cache-Control: no-store` with `Pragma: no-cache` on every answer.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use keyrock_idm::oauth::grants::{self, TokenRequest, TokenResponse};
use keyrock_idm::oauth::revocation::{self, Introspection, TokenHint, TokenQuery};
use keyrock_idm::oauth::{ClientAuth, OAuthError};
use serde::Serialize;
use storage::StorageError;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::app::State;
use crate::db;
use crate::http::credentials::{self, Authorization, Malformed};
use crate::http::error::{family_error, ErrorFormat};
use crate::http::params::Params;
use crate::http::{body, media, text, HttpError};

/// An OAuth2 failure as its clients see it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthApiError {
    #[error(transparent)]
    Domain(#[from] OAuthError),
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// RFC 6749 5.2: `{"error","error_description"}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthErrorBody {
    /// The RFC 6749 error code.
    pub error: &'static str,
    /// Keyrock's text.
    pub error_description: String,
}

const NOT_FORM: &str = "Invalid request: content must be application/x-www-form-urlencoded";

impl OAuthApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use StatusCode as S;
        let text = |m: &str| m.to_owned();
        match self {
            OAuthApiError::Domain(e) => match e {
                OAuthError::InvalidRequest(m) => (S::BAD_REQUEST, "invalid_request", text(m)),
                OAuthError::InvalidClient { message, challenge } => {
                    let status = if *challenge {
                        S::UNAUTHORIZED
                    } else {
                        S::BAD_REQUEST
                    };
                    (status, "invalid_client", text(message))
                }
                OAuthError::InvalidGrant(m) => (S::BAD_REQUEST, "invalid_grant", text(m)),
                OAuthError::UnauthorizedClient(m) => {
                    (S::BAD_REQUEST, "unauthorized_client", text(m))
                }
                OAuthError::UnsupportedGrantType(m) => {
                    (S::BAD_REQUEST, "unsupported_grant_type", text(m))
                }
                OAuthError::InvalidScope(m) => (S::BAD_REQUEST, "invalid_scope", text(m)),
                OAuthError::Storage(StorageError::Unavailable(_)) => (
                    S::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    text("Service unavailable"),
                ),
                OAuthError::Storage(_) | OAuthError::Internal(_) => (
                    S::INTERNAL_SERVER_ERROR,
                    "server_error",
                    text("Internal error"),
                ),
            },
            OAuthApiError::Http(e) => match e {
                HttpError::MethodNotAllowed => (
                    S::METHOD_NOT_ALLOWED,
                    "invalid_request",
                    text("Invalid request: method must be POST"),
                ),
                HttpError::PathNotFound => {
                    (S::NOT_FOUND, "invalid_request", text("Path not found"))
                }
                HttpError::PayloadTooLarge => (
                    S::PAYLOAD_TOO_LARGE,
                    "invalid_request",
                    text("Invalid request: body too large"),
                ),
                HttpError::BodyTimeout => (
                    S::REQUEST_TIMEOUT,
                    "invalid_request",
                    text("Invalid request: body not received in time"),
                ),
                HttpError::BodyUnreadable => (S::BAD_REQUEST, "invalid_request", text(NOT_FORM)),
            },
        }
    }
}

impl ErrorFormat for OAuthApiError {
    type Envelope = OAuthErrorBody;

    fn outcome(&self) -> (StatusCode, OAuthErrorBody) {
        let (status, error, error_description) = self.parts();
        (
            status,
            OAuthErrorBody {
                error,
                error_description,
            },
        )
    }

    fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut headers = vec![
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ];
        if let OAuthApiError::Domain(OAuthError::InvalidClient {
            challenge: true, ..
        }) = self
        {
            headers.push((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Service\""),
            ));
        }
        headers
    }
}

family_error!(OAuthApiError);

impl From<StorageError> for OAuthApiError {
    fn from(e: StorageError) -> Self {
        OAuthApiError::Domain(OAuthError::Storage(e))
    }
}

/// A 200 that no cache may keep.
fn no_store() -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    response
}

/// The form parameters of an OAuth2 POST: the form content type is required (5.1).
async fn form(req: &HttpRequest, payload: web::Payload) -> Result<Params, OAuthApiError> {
    if !media::content_type_is(req, &mime::APPLICATION_WWW_FORM_URLENCODED) {
        return Err(OAuthError::InvalidRequest(NOT_FORM).into());
    }
    let bytes = body::read(req, payload.into_inner()).await?;
    let pairs = text::form(&bytes).map_err(|_| OAuthError::InvalidRequest(NOT_FORM))?;
    Ok(Params::new(pairs))
}

/// The client's credentials in the spec's order: Basic, then the body (5.1).
fn client_auth(req: &HttpRequest, params: &Params) -> ClientAuth {
    match credentials::authorization(req) {
        Ok(Some(basic @ Authorization::Basic { .. })) => match basic.oauth_client() {
            Some((id, secret)) if !id.is_empty() => ClientAuth::Basic { id, secret },
            _ => ClientAuth::Undecodable,
        },
        Err(Malformed::BasicEncoding) => ClientAuth::Undecodable,
        _ => match (params.text("client_id"), params.text("client_secret")) {
            (Some(id), Some(secret)) => ClientAuth::Body { id, secret },
            (Some(id), None) => ClientAuth::IdOnly(id),
            (None, _) => ClientAuth::Missing,
        },
    }
}

/// The form of `POST /oauth2/token` (which members a grant reads: keyrock.md 5.4).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// `password`, `client_credentials`, `authorization_code` or `refresh_token`.
    grant_type: String,
    /// Comma- or space-separated: `bearer` (default), `jwt`, `permanent`, `openid`, ...
    scope: Option<String>,
    /// `password` grant: a user's email, or an IoT agent id of this application.
    username: Option<String>,
    password: Option<String>,
    /// `authorization_code` grant.
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    /// `refresh_token` grant.
    refresh_token: Option<String>,
    /// Client authentication in the body (instead of Basic).
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// A token response (keyrock.md 5.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// 40 lowercase hex characters, or a JWT.
    pub access_token: String,
    /// `bearer` or `jwt`.
    pub token_type: &'static str,
    /// The lifetime minus one second; absent for JWT and permanent tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The token's scope items.
    pub scope: Vec<String>,
    /// The authorization_code grant, when the code's scope holds `openid` (keyrock.md 5.8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl From<TokenResponse> for TokenBody {
    fn from(r: TokenResponse) -> Self {
        TokenBody {
            access_token: r.access_token,
            token_type: r.token_type.as_str(),
            expires_in: r.expires_in,
            refresh_token: r.refresh_token,
            scope: r.scope,
            id_token: r.id_token,
        }
    }
}

#[utoipa::path(post, path = "/oauth2/token", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_token",
    security((), ("basic" = [])),
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Tokens", body = TokenBody),
              (status = 400, description = "invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope", body = OAuthErrorBody),
              (status = 401, description = "invalid_client: Basic credentials that match no application (with WWW-Authenticate)", body = OAuthErrorBody),
              (status = 413, description = "Body too large", body = OAuthErrorBody),
              (status = 500, description = "server_error", body = OAuthErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
pub async fn token(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthApiError> {
    let params = form(&req, payload).await?;
    let request = TokenRequest {
        client: client_auth(&req, &params),
        grant_type: params.text("grant_type"),
        scope: params.text("scope"),
        username: params.text("username"),
        password: params.text("password"),
        code: params.text("code"),
        redirect_uri: params.text("redirect_uri"),
        code_verifier: params.text("code_verifier"),
        refresh_token: params.text("refresh_token"),
    };
    let now = OffsetDateTime::now_utc();
    let st = state.clone();
    let response = db::blocking(move || {
        let oidc = super::authorize::oidc(&st);
        grants::token(
            &st.pool,
            &st.hasher,
            &st.oauth,
            &oidc,
            &st.token_info,
            request,
            now,
        )
        .map_err(OAuthApiError::from)
    })
    .await?;
    Ok(no_store().json(TokenBody::from(response)))
}

/// The form of `POST /oauth2/revoke` and `POST /oauth2/introspect`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TokenQueryForm {
    token: String,
    /// `access_token` or `refresh_token`; other values are ignored.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn token_query(req: &HttpRequest, params: &Params) -> TokenQuery {
    TokenQuery {
        client: client_auth(req, params),
        token: params.text("token"),
        hint: TokenHint::parse(params.get("token_type_hint")),
    }
}

#[utoipa::path(post, path = "/oauth2/revoke", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_revoke",
    security((), ("basic" = [])),
    request_body(content = TokenQueryForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Revoked, or nothing to revoke (RFC 7009): an empty body"),
              (status = 400, description = "invalid_request, invalid_client", body = OAuthErrorBody),
              (status = 401, description = "invalid_client with Basic credentials", body = OAuthErrorBody),
              (status = 413, description = "Body too large", body = OAuthErrorBody),
              (status = 500, description = "server_error", body = OAuthErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
pub async fn revoke(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthApiError> {
    let params = form(&req, payload).await?;
    let query = token_query(&req, &params);
    let st = state.clone();
    db::with_conn(&state.pool, move |conn| {
        revocation::revoke(conn, &st.token_info, &query).map_err(OAuthApiError::from)
    })
    .await?;
    Ok(no_store().finish())
}

/// RFC 7662 2.2, as keyrock.md 5.6 fills it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectionBody {
    pub active: bool,
    /// The scope items joined with spaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user id or the IoT agent id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// `bearer`, `jwt` or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

impl From<Introspection> for IntrospectionBody {
    fn from(i: Introspection) -> Self {
        match i {
            Introspection::Inactive => IntrospectionBody {
                active: false,
                scope: None,
                client_id: None,
                username: None,
                sub: None,
                exp: None,
                iat: None,
                token_type: None,
            },
            Introspection::Active(t) => IntrospectionBody {
                active: true,
                scope: Some(t.scope),
                client_id: Some(t.client_id),
                username: t.username,
                sub: t.sub,
                exp: t.exp,
                iat: Some(t.iat),
                token_type: Some(t.token_type.as_str()),
            },
        }
    }
}

#[utoipa::path(post, path = "/oauth2/introspect", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_introspect",
    security((), ("basic" = [])),
    request_body(content = TokenQueryForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The token's description, or {\"active\":false}", body = IntrospectionBody),
              (status = 400, description = "invalid_request, invalid_client", body = OAuthErrorBody),
              (status = 401, description = "invalid_client with Basic credentials", body = OAuthErrorBody),
              (status = 413, description = "Body too large", body = OAuthErrorBody),
              (status = 500, description = "server_error", body = OAuthErrorBody),
              (status = 503, description = "temporarily_unavailable", body = OAuthErrorBody)))]
pub async fn introspect(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, OAuthApiError> {
    let params = form(&req, payload).await?;
    let query = token_query(&req, &params);
    let now = OffsetDateTime::now_utc();
    let found = db::with_conn(&state.pool, move |conn| {
        revocation::introspect(conn, &query, now).map_err(OAuthApiError::from)
    })
    .await?;
    Ok(no_store().json(IntrospectionBody::from(found)))
}
