//! The OAuth2 browser flow (keyrock.md 5.3): `/oauth2/authorize` (login page and login
//! form), `/oauth2/enable_app` (consent), `/auth/logout`, and the pages' stylesheet.
//! Pages are askama templates (escaped, checked at compile time) served with `no-store`,
//! `X-Frame-Options: DENY` and a strict Content-Security-Policy; forms carry a double-submit
//! CSRF value bound to a cookie.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use askama::Template;
use auth_core::secrets::{constant_time_eq, random_hex};
use keyrock_idm::oauth::authorize::{
    self, Authorization, AuthorizeRequest, ClientRedirect, PageError, Refusal, SharedAttribute,
};
use keyrock_idm::oauth::id_token::{IdTokenAlgorithm, Oidc};
use time::OffsetDateTime;

use crate::app::{AppState, State};
use crate::db;
use crate::http::params::Params;
use crate::http::{body, text, HttpError};
use crate::settings::JwtAlgorithm;

const SESSION_COOKIE: &str = "tessera_session";
const CSRF_COOKIE: &str = "tessera_csrf";
const CSRF_FIELD: &str = "_csrf";
const SHARED_FIELD: &str = "user_authorized_application[shared_attributes]";
const INVALID_LOGIN: &str = "Invalid email or password";
const CSRF_REFUSED: &str = "Invalid or missing CSRF token";
/// No third-party origin, no script, no framing; the stylesheet is Tessera's own.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the browser flow answers besides its pages: an error page.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("{}", .0.text())]
    Page(PageError),
    #[error("CSRF check failed")]
    Csrf,
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("{0}")]
    Failed(String),
}

impl From<storage::StorageError> for BrowserError {
    fn from(e: storage::StorageError) -> Self {
        BrowserError::Failed(e.to_string())
    }
}

impl From<keyrock_idm::KeyrockError> for BrowserError {
    fn from(e: keyrock_idm::KeyrockError) -> Self {
        BrowserError::Failed(e.to_string())
    }
}

impl From<keyrock_idm::oauth::OAuthError> for BrowserError {
    fn from(e: keyrock_idm::oauth::OAuthError) -> Self {
        BrowserError::Failed(e.to_string())
    }
}

impl BrowserError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            BrowserError::Page(e) => {
                let status = if e.is_not_found() {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                (
                    status,
                    "This request cannot be authorized",
                    e.text().to_owned(),
                )
            }
            BrowserError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                CSRF_REFUSED.to_owned(),
            ),
            BrowserError::Http(HttpError::MethodNotAllowed) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "Method not allowed".to_owned(),
            ),
            BrowserError::Http(HttpError::PathNotFound) => (
                StatusCode::NOT_FOUND,
                "Not found",
                "Path not found".to_owned(),
            ),
            BrowserError::Http(HttpError::PayloadTooLarge) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request too large",
                "Request body too large".to_owned(),
            ),
            BrowserError::Http(HttpError::BodyTimeout) => (
                StatusCode::REQUEST_TIMEOUT,
                "Request timeout",
                "Request body not received in time".to_owned(),
            ),
            BrowserError::Http(HttpError::BodyUnreadable) => (
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The form could not be read".to_owned(),
            ),
            BrowserError::Failed(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Internal error".to_owned(),
            ),
        }
    }
}

impl ResponseError for BrowserError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, heading, text) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let page = MessagePage {
            heading,
            text: &text,
            class: "error",
        };
        html(status, &page)
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    app_name: &'a str,
    app_description: Option<&'a str>,
    error: Option<&'a str>,
    query: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    app_name: &'a str,
    app_description: Option<&'a str>,
    username: &'a str,
    query: &'a str,
    csrf: &'a str,
    attributes: Vec<(&'static str, &'static str, bool)>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    heading: &'a str,
    text: &'a str,
    class: &'a str,
}

/// A page with the headers every page carries.
fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    let body = match page.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let mut response = HttpResponse::build(status);
    no_store(&mut response);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

fn no_store(response: &mut actix_web::HttpResponseBuilder) {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
}

/// The 302 back to the client, with the result or the error.
fn to_client(redirect: &ClientRedirect) -> HttpResponse {
    let encoded = serde_urlencoded::to_string(&redirect.params).unwrap_or_default();
    let uri = &redirect.redirect_uri;
    let location = if redirect.in_fragment {
        format!("{uri}#{encoded}")
    } else if uri.contains('?') {
        format!("{uri}&{encoded}")
    } else {
        format!("{uri}?{encoded}")
    };
    let mut response = HttpResponse::Found();
    no_store(&mut response);
    match HeaderValue::from_str(&location) {
        Ok(value) => response.insert_header((header::LOCATION, value)).finish(),
        Err(_) => BrowserError::Page(PageError::RedirectMismatch).error_response(),
    }
}

/// A 303 to another page of the flow (post/redirect/get).
fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    no_store(&mut response);
    response
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

fn cookie<'a>(state: &AppState, name: &'a str, value: String) -> Cookie<'a> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.public_url.starts_with("https://"))
        .finish()
}

/// The authorization request of the query string (first occurrence wins; empty is absent).
fn authorize_request(req: &HttpRequest) -> Result<AuthorizeRequest, BrowserError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| BrowserError::Page(PageError::InvalidResponseType))?;
    let params = Params::new(pairs);
    Ok(AuthorizeRequest {
        response_type: params.text("response_type"),
        client_id: params.text("client_id"),
        redirect_uri: params.text("redirect_uri"),
        state: params.text("state"),
        scope: params.text("scope"),
        nonce: params.text("nonce"),
        code_challenge: params.text("code_challenge"),
        code_challenge_method: params.text("code_challenge_method"),
    })
}

/// The form body's pairs, in order (repeated names kept).
async fn form(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<Vec<(String, String)>, BrowserError> {
    let bytes = body::read(req, payload.into_inner()).await?;
    text::form(&bytes).map_err(|_| BrowserError::Http(HttpError::BodyUnreadable))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The double-submit check: the form's `_csrf` equals the CSRF cookie.
fn check_csrf(req: &HttpRequest, pairs: &[(String, String)]) -> Result<(), BrowserError> {
    let cookie = req.cookie(CSRF_COOKIE);
    match (cookie.as_ref().map(Cookie::value), field(pairs, CSRF_FIELD)) {
        (Some(expected), Some(sent))
            if !expected.is_empty() && constant_time_eq(expected.as_bytes(), sent.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(BrowserError::Csrf),
    }
}

/// The CSRF value of this browser: its cookie's, or a new one.
fn csrf_value(req: &HttpRequest) -> String {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| random_hex(64))
}

pub(super) fn oidc(state: &AppState) -> Oidc<'_> {
    Oidc {
        public_url: &state.public_url,
        algorithm: match state.settings.oidc_jwt_algorithm {
            JwtAlgorithm::Hs256 => IdTokenAlgorithm::Hs256,
            JwtAlgorithm::Rs256 => IdTokenAlgorithm::Rs256,
        },
        keys: &state.server_key,
        lifetime: state.oauth.access_lifetime,
    }
}

/// What the flow does next.
enum Next {
    Login { error: bool },
    Consent { username: String },
}

/// The outcome of a step of the flow, made on the blocking pool.
enum Step {
    Page(Box<Authorization>, Next),
    Client(ClientRedirect),
    /// A login succeeded: a new session, then the same request again (post/redirect/get).
    SignedIn(String),
    /// No session where one is needed: back to the login page.
    NoSession,
}

/// The request checked (5.3): a page error, a redirected error, or the authorization.
fn checked(
    conn: &mut storage::DbConn,
    state: &AppState,
    request: &AuthorizeRequest,
) -> Result<Result<Authorization, Step>, BrowserError> {
    match authorize::check(conn, request, state.settings.oauth_allow_empty_state) {
        Ok(a) => Ok(Ok(a)),
        Err(Refusal::Page(e)) => Err(BrowserError::Page(e)),
        Err(Refusal::Redirect(redirect)) => Ok(Err(Step::Client(redirect))),
        Err(Refusal::Failed(e)) => Err(BrowserError::Failed(e)),
    }
}

/// The user of the browser's session cookie.
fn session_user(
    conn: &mut storage::DbConn,
    session: Option<&str>,
    now: OffsetDateTime,
) -> Result<Option<auth_core::users::User>, BrowserError> {
    match session {
        Some(session) => Ok(authorize::session_user(conn, session, now)?),
        None => Ok(None),
    }
}

fn render(state: &AppState, req: &HttpRequest, step: Step) -> HttpResponse {
    let (authorization, next) = match step {
        Step::Page(authorization, next) => (authorization, next),
        Step::Client(redirect) => return to_client(&redirect),
        Step::NoSession => return see_other(&format!("/oauth2/authorize?{}", req.query_string())),
        Step::SignedIn(session) => {
            let mut response = see_other(&format!("/oauth2/authorize?{}", req.query_string()));
            let mut cookie = cookie(state, SESSION_COOKIE, session);
            cookie.set_max_age(time::Duration::seconds(i64::from(
                state.settings.session_lifetime,
            )));
            let _ = response.add_cookie(&cookie);
            return response;
        }
    };
    let app = &authorization.app;
    let csrf = csrf_value(req);
    let query = req.query_string();
    let mut response = match &next {
        Next::Login { error } => html(
            StatusCode::OK,
            &LoginPage {
                app_name: &app.name,
                app_description: app.description.as_deref(),
                error: error.then_some(INVALID_LOGIN),
                query,
                csrf: &csrf,
            },
        ),
        Next::Consent { username } => html(
            StatusCode::OK,
            &ConsentPage {
                app_name: &app.name,
                app_description: app.description.as_deref(),
                username,
                query,
                csrf: &csrf,
                attributes: SharedAttribute::ALL
                    .iter()
                    .map(|a| (a.as_str(), label(*a), a.default_selected()))
                    .collect(),
            },
        ),
    };
    let _ = response.add_cookie(&cookie(state, CSRF_COOKIE, csrf));
    response
}

fn label(attribute: SharedAttribute) -> &'static str {
    match attribute {
        SharedAttribute::Username => "Username",
        SharedAttribute::Email => "Email address",
        SharedAttribute::Gravatar => "Gravatar setting",
    }
}

/// With a signed-in user: consent first if needed, else the result.
fn continue_as(
    conn: &mut storage::DbConn,
    state: &AppState,
    authorization: Authorization,
    user: &auth_core::users::User,
    now: OffsetDateTime,
) -> Result<Step, BrowserError> {
    if state.settings.oauth_ask_authorization
        && !authorize::has_consented(conn, &user.id, &authorization.app.id)?
    {
        let next = Next::Consent {
            username: user.username.clone(),
        };
        return Ok(Step::Page(Box::new(authorization), next));
    }
    let redirect = authorize::grant(conn, &state.oauth, &oidc(state), &authorization, user, now)?;
    Ok(Step::Client(redirect))
}

#[utoipa::path(get, path = "/oauth2/authorize", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_authorize",
    params(("response_type" = Option<String>, Query, description = "code, token, id_token, or a space-separated combination"),
           ("client_id" = Option<String>, Query), ("redirect_uri" = Option<String>, Query), ("state" = Option<String>, Query),
           ("scope" = Option<String>, Query), ("nonce" = Option<String>, Query), ("code_challenge" = Option<String>, Query),
           ("code_challenge_method" = Option<String>, Query)),
    responses((status = 200, description = "The login page, or the consent page with a session", content_type = "text/html", body = String),
              (status = 302, description = "Back to the client with the result or a redirected error"),
              (status = 400, description = "Error page: invalid response_type, missing client_id, redirect_uri mismatch", content_type = "text/html", body = String),
              (status = 404, description = "Error page: unknown client_id", content_type = "text/html", body = String),
              (status = 500, description = "Error page", content_type = "text/html", body = String)))]
pub async fn authorize_page(state: State, req: HttpRequest) -> Result<HttpResponse, BrowserError> {
    let request = authorize_request(&req)?;
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let now = OffsetDateTime::now_utc();
    let st = state.clone();
    let step = db::with_conn(&state.pool, move |conn| {
        let authorization = match checked(conn, &st, &request)? {
            Ok(a) => a,
            Err(step) => return Ok(step),
        };
        match session_user(conn, session.as_deref(), now)? {
            None => Ok(Step::Page(
                Box::new(authorization),
                Next::Login { error: false },
            )),
            Some(user) => continue_as(conn, &st, authorization, &user, now),
        }
    })
    .await?;
    Ok(render(&state, &req, step))
}

#[utoipa::path(post, path = "/oauth2/authorize", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_login",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "The login page again: Invalid email or password", content_type = "text/html", body = String),
              (status = 302, description = "Back to the client with a redirected error"),
              (status = 303, description = "Signed in: the session cookie, and the same authorization request again"),
              (status = 400, description = "Error page", content_type = "text/html", body = String),
              (status = 403, description = "Error page: Invalid or missing CSRF token", content_type = "text/html", body = String),
              (status = 404, description = "Error page: unknown client_id", content_type = "text/html", body = String),
              (status = 413, description = "Error page: body too large", content_type = "text/html", body = String),
              (status = 500, description = "Error page", content_type = "text/html", body = String)))]
pub async fn login(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, BrowserError> {
    let request = authorize_request(&req)?;
    let pairs = form(&req, payload).await?;
    check_csrf(&req, &pairs)?;
    let email = field(&pairs, "email").map(str::to_owned);
    let password = field(&pairs, "password").map(str::to_owned);
    let old_session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let now = OffsetDateTime::now_utc();
    let lifetime = time::Duration::seconds(i64::from(state.settings.session_lifetime));
    let st = state.clone();
    let step = db::blocking(move || {
        let authorization = {
            let mut conn = st.pool.get()?;
            match checked(&mut conn, &st, &request)? {
                Ok(a) => a,
                Err(step) => return Ok(step),
            }
        };
        let user = authorize::login(&st.pool, &st.hasher, email.as_deref(), password.as_deref())?;
        let Some(user) = user else {
            return Ok(Step::Page(
                Box::new(authorization),
                Next::Login { error: true },
            ));
        };
        let mut conn = st.pool.get()?;
        // A new id at every login: a session id planted before it is worth nothing.
        if let Some(old) = old_session {
            auth_core::sessions::end(&mut conn, &old).map_err(keyrock_idm::KeyrockError::from)?;
        }
        let session = auth_core::sessions::start(&mut conn, &user.id, now, lifetime)
            .map_err(keyrock_idm::KeyrockError::from)?;
        Ok::<_, BrowserError>(Step::SignedIn(session))
    })
    .await?;
    Ok(render(&state, &req, step))
}

#[utoipa::path(post, path = "/oauth2/enable_app", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_enable_app",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 302, description = "Back to the client with the result, or access_denied"),
              (status = 303, description = "No session: to the login page"),
              (status = 400, description = "Error page", content_type = "text/html", body = String),
              (status = 403, description = "Error page: Invalid or missing CSRF token", content_type = "text/html", body = String),
              (status = 404, description = "Error page: unknown client_id", content_type = "text/html", body = String),
              (status = 413, description = "Error page: body too large", content_type = "text/html", body = String),
              (status = 500, description = "Error page", content_type = "text/html", body = String)))]
pub async fn enable_app(
    state: State,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, BrowserError> {
    let request = authorize_request(&req)?;
    let pairs = form(&req, payload).await?;
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let now = OffsetDateTime::now_utc();
    let st = state.clone();
    let checked_csrf = check_csrf(&req, &pairs);
    let step = db::with_conn(&state.pool, move |conn| {
        let Some(user) = session_user(conn, session.as_deref(), now)? else {
            return Ok(Step::NoSession);
        };
        checked_csrf?;
        let authorization = match checked(conn, &st, &request)? {
            Ok(a) => a,
            Err(step) => return Ok(step),
        };
        if field(&pairs, "deny").is_some() {
            return Ok(Step::Client(authorization.denied()));
        }
        let shared: Vec<SharedAttribute> = pairs
            .iter()
            .filter(|(k, _)| k == SHARED_FIELD)
            .filter_map(|(_, v)| SharedAttribute::parse(v))
            .collect();
        authorize::record_consent(conn, &user.id, &authorization.app.id, &shared, now)?;
        let redirect = authorize::grant(conn, &st.oauth, &oidc(&st), &authorization, &user, now)?;
        Ok::<_, BrowserError>(Step::Client(redirect))
    })
    .await?;
    Ok(render(&state, &req, step))
}

#[utoipa::path(get, path = "/auth/logout", tag = "keyrock-oauth2", operation_id = "keyrock_logout",
    responses((status = 200, description = "Signed out: the session ends and its cookie is cleared", content_type = "text/html", body = String),
              (status = 500, description = "Error page", content_type = "text/html", body = String)))]
pub async fn logout(state: State, req: HttpRequest) -> Result<HttpResponse, BrowserError> {
    if let Some(session) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        db::with_conn(&state.pool, move |conn| {
            auth_core::sessions::end(conn, &session)
                .map_err(|e| BrowserError::Failed(e.to_string()))
        })
        .await?;
    }
    let page = MessagePage {
        heading: "Signed out",
        text: "You are signed out.",
        class: "info",
    };
    let mut response = html(StatusCode::OK, &page);
    let mut gone = cookie(&state, SESSION_COOKIE, String::new());
    gone.make_removal();
    let _ = response.add_cookie(&gone);
    Ok(response)
}

/// The pages' stylesheet.
#[utoipa::path(get, path = "/oauth2/static/tessera.css", tag = "keyrock-oauth2", operation_id = "keyrock_oauth2_stylesheet",
    responses((status = 200, description = "The sign-in pages' stylesheet", content_type = "text/css", body = String)))]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(include_str!("../../static/tessera.css"))
}

/// The login form (keyrock.md 5.3).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginForm {
    email: String,
    password: String,
    /// The value of the page's hidden field; it must equal the `tessera_csrf` cookie.
    _csrf: String,
}

/// The consent form (keyrock.md 5.3).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ConsentForm {
    _csrf: String,
    /// Repeated: `username`, `email`, `gravatar`.
    #[schema(rename = "user_authorized_application[shared_attributes]")]
    shared_attributes: Option<Vec<String>>,
    /// Present: the user denies.
    deny: Option<String>,
    authorize: Option<String>,
}
