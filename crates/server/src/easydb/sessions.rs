//! `/api/v1/session` (easydb-rights.md §4): start or read a session, log in, log out.

use actix_web::{web, HttpRequest, HttpResponse};
use rights::sessions::{self, Credentials};
use serde_json::Value;
use time::OffsetDateTime;

use super::error::{ApiCode, EasydbApiError, EasydbErrorBody};
use super::extract::{self, Call};
use super::ok;
use super::views::{self, EasydbSession};
use crate::app::State;
use crate::db;
use crate::http::media;
use crate::http::params::Params;

fn lifetime(state: &State) -> time::Duration {
    time::Duration::seconds(i64::from(state.settings.session_lifetime))
}

#[utoipa::path(get, path = "/api/v1/session", tag = "easydb", operation_id = "easydb_session",
    params(("token" = Option<String>, Query, description = "Read this session; without a token (here or in x-easydb-token) a new one starts"),
           ("language" = Option<String>, Query, description = "en-US or de-DE"),
           ("x-easydb-token" = Option<String>, Header, description = "The token, when not in the query")),
    responses((status = 200, description = "The new or current session", body = EasydbSession),
              (status = 400, description = "session_not_found, language_not_found, invalid_value", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn session(state: State, req: HttpRequest) -> Result<HttpResponse, EasydbApiError> {
    let Call { query, token } = extract::call(&req)?;
    let language = query.text("language");
    let lifetime = lifetime(&state);
    let now = OffsetDateTime::now_utc();
    let (token, view) = db::with_conn(&state.pool, move |conn| {
        let language = language.as_deref();
        let (token, session) = match token {
            Some(token) => match sessions::read(conn, &token, language, now) {
                Ok(session) => (token, session),
                Err(e) => return Err(EasydbApiError::session(e, &token)),
            },
            None => sessions::start(conn, language, now, lifetime)
                .map_err(|e| EasydbApiError::session(e, ""))?,
        };
        let view =
            sessions::describe(conn, session).map_err(|e| EasydbApiError::session(e, &token))?;
        Ok((token, view))
    })
    .await?;
    Ok(ok(&views::session(token, view)))
}

#[utoipa::path(post, path = "/api/v1/session/authenticate", tag = "easydb", operation_id = "easydb_authenticate",
    params(("token" = Option<String>, Query), ("method" = Option<String>, Query, description = "easydb (the only method)"),
           ("login" = Option<String>, Query, description = "username or e-mail address"), ("password" = Option<String>, Query),
           ("x-easydb-token" = Option<String>, Header)),
    request_body(content = AuthenticateForm, content_type = "application/x-www-form-urlencoded",
        description = "The same parameters as the query (the body wins); a JSON object of strings is accepted too"),
    responses((status = 200, description = "The session, now authenticated; the token does not change", body = EasydbSession),
              (status = 400, description = "not_authenticated, session_not_found, authentication_method_not_allowed, username_or_password_empty, login_failed, login_disabled, invalid_content", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn authenticate(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, EasydbApiError> {
    let call = extract::call(&req)?;
    let body = extract::body(&req, payload).await?;
    let body = login_body(&req, &body)?;
    let param = |name: &str| body.text(name).or_else(|| call.query.text(name));
    let token = param("token")
        .or(call.token.clone())
        .ok_or_else(EasydbApiError::not_authenticated)?;
    let credentials = Credentials {
        method: param("method"),
        login: param("login"),
        password: param("password"),
    };
    let (pool, hasher, lifetime) = (state.pool.clone(), state.hasher.clone(), lifetime(&state));
    let now = OffsetDateTime::now_utc();
    let (token, view) = db::blocking(move || {
        let session = sessions::authenticate(&pool, &hasher, &token, credentials, now, lifetime)
            .and_then(|session| sessions::describe(&mut *pool.get()?, session))
            .map_err(|e| EasydbApiError::session(e, &token))?;
        Ok::<_, EasydbApiError>((token, session))
    })
    .await?;
    Ok(ok(&views::session(token, view)))
}

/// The parameters of a login body: a form, or a JSON object of strings, or nothing.
fn login_body(req: &HttpRequest, body: &[u8]) -> Result<Params, EasydbApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::default());
    }
    if media::content_type_is(req, &mime::APPLICATION_WWW_FORM_URLENCODED) {
        return extract::form(body);
    }
    let Value::Object(map) = extract::json(body)? else {
        return Err(EasydbApiError::api(
            ApiCode::TypeMismatch,
            "the login body must be an object",
        ));
    };
    map.into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => Ok((name, text)),
            _ => Err(EasydbApiError::api(
                ApiCode::TypeMismatch,
                format!("{name} must be a string"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Params::new)
}

/// The parameters of a login.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuthenticateForm {
    token: Option<String>,
    method: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/session/deauthenticate", tag = "easydb", operation_id = "easydb_deauthenticate",
    params(("token" = Option<String>, Query), ("x-easydb-token" = Option<String>, Header)),
    responses((status = 200, description = "The session, now unauthenticated; the token stays valid", body = EasydbSession),
              (status = 400, description = "not_authenticated (no token), session_not_found", body = EasydbErrorBody),
              (status = 500, description = "server error, with uuid", body = EasydbErrorBody)))]
pub async fn deauthenticate(
    state: State,
    req: HttpRequest,
) -> Result<HttpResponse, EasydbApiError> {
    let token = extract::call(&req)?
        .token
        .ok_or_else(EasydbApiError::not_authenticated)?;
    let now = OffsetDateTime::now_utc();
    let (token, view) = db::with_conn(&state.pool, move |conn| {
        let view = sessions::deauthenticate(conn, &token, now)
            .and_then(|session| sessions::describe(conn, session))
            .map_err(|e| EasydbApiError::session(e, &token))?;
        Ok::<_, EasydbApiError>((token, view))
    })
    .await?;
    Ok(ok(&views::session(token, view)))
}
