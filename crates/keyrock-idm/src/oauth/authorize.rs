//! `/oauth2/authorize` and `/oauth2/enable_app` (keyrock.md 5.3): checking an authorization
//! request (errors shown as a page, or redirected to the client), the login, consent
//! records, and the result sent back to the client. Pages, cookies and CSRF are the wire's.

use auth_core::oauth::{self, NewCode, PkceChallenge, PkceMethod, Subject};
use auth_core::password::PasswordHasher;
use auth_core::users::{find_user, find_user_by_email, User};
use diesel::prelude::*;
use storage::schema::user_authorized_applications;
use storage::{to_db_time, write_tx, DbConn, Pool};
use time::OffsetDateTime;

use super::client::grants_of;
use super::grants::issue;
use super::id_token::{self, Oidc};
use super::{scope, OAuthError, OAuthSettings};
use crate::applications::{find_application, Application};
use crate::authz::IDM_ADMIN_APP;
use crate::tokens::verify_user_password;
use crate::vocabulary::GrantType;
use crate::KeyrockError;

/// An authorization request's parameters (first occurrence each; empty is absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// The parts of a response type (space-separated, any order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseTypes {
    pub code: bool,
    pub token: bool,
    pub id_token: bool,
}

impl ResponseTypes {
    /// `None` for an empty value or an unknown word.
    pub fn parse(value: &str) -> Option<ResponseTypes> {
        let mut types = ResponseTypes::default();
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "code" => types.code = true,
                "token" => types.token = true,
                "id_token" => types.id_token = true,
                _ => return None,
            }
        }
        (types.code || types.token || types.id_token).then_some(types)
    }

    /// Results (and errors) go in the fragment when a token or id_token is involved.
    pub fn in_fragment(self) -> bool {
        self.token || self.id_token
    }
}

/// An error shown as a page, not redirected (the first table of 5.3), in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    InvalidResponseType,
    MissingClientId,
    UnknownClient,
    RedirectMismatch,
}

impl PageError {
    /// The text on the page.
    pub fn text(self) -> &'static str {
        match self {
            PageError::InvalidResponseType => {
                "invalid_request: response_type not valid or not exist"
            }
            PageError::MissingClientId => "invalid_request: include client_id in request",
            PageError::UnknownClient => "invalid_client: application id not found",
            PageError::RedirectMismatch => {
                "invalid_client: `redirect_uri` does not match client value"
            }
        }
    }

    /// Whether the page is a 404 (else a 400).
    pub fn is_not_found(self) -> bool {
        self == PageError::UnknownClient
    }
}

/// Where the browser is sent back to the client: `redirect_uri` with `params` in its query
/// or in its fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRedirect {
    pub redirect_uri: String,
    pub in_fragment: bool,
    pub params: Vec<(&'static str, String)>,
}

/// Why an authorization request does not reach the login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Page(PageError),
    Redirect(ClientRedirect),
    /// The store failed.
    Failed(String),
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub app: Application,
    /// The URI results go to: the request's, or the first registered one.
    pub redirect_uri: String,
    /// Whether the request named it (the code then remembers it, 5.4).
    pub redirect_given: bool,
    pub types: ResponseTypes,
    pub scope: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub pkce: Option<PkceChallenge>,
}

impl Authorization {
    fn redirect(&self, mut params: Vec<(&'static str, String)>) -> ClientRedirect {
        if let Some(state) = &self.state {
            params.push(("state", state.clone()));
        }
        ClientRedirect {
            redirect_uri: self.redirect_uri.clone(),
            in_fragment: self.types.in_fragment(),
            params,
        }
    }

    fn error(&self, error: &str, description: &str) -> ClientRedirect {
        self.redirect(vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
        ])
    }

    /// The user said no on the consent page.
    pub fn denied(&self) -> ClientRedirect {
        self.error(
            "access_denied",
            "Access denied: user denied access to application",
        )
    }
}

/// Schemes a browser must never be sent to, even when registered.
fn is_dangerous(uri: &str) -> bool {
    let scheme = uri
        .split(':')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    ["javascript", "data", "vbscript", "file"].contains(&scheme.as_str())
}

/// The registered redirect URIs (stored comma-separated).
fn registered(app: &Application) -> Vec<&str> {
    app.redirect_uri
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect()
}

/// RFC 7636 4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_valid_challenge(challenge: &str) -> bool {
    (43..=128).contains(&challenge.len())
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// Checks an authorization request in the order of 5.3: page errors, then the errors
/// redirected to the client.
pub fn check(
    conn: &mut DbConn,
    request: &AuthorizeRequest,
    allow_empty_state: bool,
) -> Result<Authorization, Refusal> {
    let page = |e| Err(Refusal::Page(e));
    let Some(types) = request
        .response_type
        .as_deref()
        .and_then(ResponseTypes::parse)
    else {
        return page(PageError::InvalidResponseType);
    };
    let Some(client_id) = request.client_id.as_deref() else {
        return page(PageError::MissingClientId);
    };
    let app = match find_application(conn, client_id) {
        Ok(Some(app)) if app.id != IDM_ADMIN_APP => app,
        Ok(_) => return page(PageError::UnknownClient),
        Err(e) => return Err(Refusal::Failed(e.to_string())),
    };
    let registered = registered(&app);
    let redirect_uri = match request.redirect_uri.as_deref() {
        Some(given) if registered.contains(&given) => given.to_owned(),
        Some(_) => return page(PageError::RedirectMismatch),
        None => match registered.first() {
            Some(first) => (*first).to_owned(),
            None => return page(PageError::RedirectMismatch),
        },
    };
    if is_dangerous(&redirect_uri) {
        return page(PageError::RedirectMismatch);
    }
    let mut authorization = Authorization {
        redirect_uri,
        redirect_given: request.redirect_uri.is_some(),
        types,
        scope: Vec::new(),
        state: request.state.clone(),
        nonce: request.nonce.clone(),
        pkce: None,
        app,
    };
    let refuse = |a: &Authorization, error: &str, description: &str| {
        Err(Refusal::Redirect(a.error(error, description)))
    };
    if !enabled(&authorization.app, types) {
        return refuse(
            &authorization,
            "unauthorized_client",
            "Unsupported grant type: `grant_type` is invalid",
        );
    }
    if authorization.state.is_none() && !allow_empty_state {
        return refuse(
            &authorization,
            "invalid_request",
            "Missing parameter: `state`",
        );
    }
    match scope::granted(request.scope.as_deref(), &authorization.app) {
        Ok(scope) => authorization.scope = scope,
        Err(_) => {
            return refuse(
                &authorization,
                "invalid_scope",
                "Invalid scope: Requested scope is invalid",
            )
        }
    }
    let method = match request.code_challenge_method.as_deref() {
        None => Some(PkceMethod::Plain),
        Some(m) => PkceMethod::parse(m),
    };
    authorization.pkce = match (request.code_challenge.as_deref(), method) {
        (None, _) if request.code_challenge_method.is_none() => None,
        (Some(challenge), Some(method)) if is_valid_challenge(challenge) => Some(PkceChallenge {
            method,
            challenge: challenge.to_owned(),
        }),
        _ => {
            return refuse(
                &authorization,
                "invalid_request",
                "Invalid parameter: `code_challenge`",
            )
        }
    };
    Ok(authorization)
}

/// Whether the application allows these response types: `code` needs the
/// `authorization_code` grant, `token` the `implicit` grant, `id_token` the application's
/// `id_token` response type, and `code` with anything else the `hybrid` grant.
fn enabled(app: &Application, types: ResponseTypes) -> bool {
    let grants = grants_of(app);
    let responses = app.response_type.as_deref().unwrap_or("");
    let has_id_token = responses.split(',').any(|r| r.trim() == "id_token");
    (!types.code || grants.contains(&GrantType::AuthorizationCode))
        && (!types.token || grants.contains(&GrantType::Implicit))
        && (!types.id_token || has_id_token)
        && (!(types.code && (types.token || types.id_token)) || grants.contains(&GrantType::Hybrid))
}

/// The login form: the user, when the email and password are right and the user is
/// enabled. A legacy Keyrock hash is upgraded to bcrypt here too. No connection is held
/// while bcrypt runs.
pub fn login(
    pool: &Pool,
    hasher: &PasswordHasher,
    email: Option<&str>,
    password: Option<&str>,
) -> Result<Option<User>, KeyrockError> {
    let (Some(email), Some(password)) = (email, password) else {
        return Ok(None);
    };
    let user = {
        let mut conn = pool.get()?;
        find_user_by_email(&mut conn, email)?
    };
    let Some(user) = user else {
        hasher.verify_dummy(password);
        return Ok(None);
    };
    let right = verify_user_password(pool, hasher, &user, password)?;
    Ok((right && user.enabled).then_some(user))
}

/// The attributes a user may share with an application (the consent page's choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedAttribute {
    Username,
    Email,
    Gravatar,
}

impl SharedAttribute {
    pub const ALL: [SharedAttribute; 3] = [
        SharedAttribute::Username,
        SharedAttribute::Email,
        SharedAttribute::Gravatar,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SharedAttribute::Username => "username",
            SharedAttribute::Email => "email",
            SharedAttribute::Gravatar => "gravatar",
        }
    }

    pub fn parse(s: &str) -> Option<SharedAttribute> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Pre-selected on the consent page.
    pub fn default_selected(self) -> bool {
        self != SharedAttribute::Gravatar
    }
}

/// Whether the user has authorized the application already (a consent record exists).
pub fn has_consented(conn: &mut DbConn, user_id: &str, app_id: &str) -> Result<bool, KeyrockError> {
    let n: i64 = user_authorized_applications::table
        .filter(user_authorized_applications::user_id.eq(user_id))
        .filter(user_authorized_applications::oauth_client_id.eq(app_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Records (or replaces) what the user shares with the application.
pub fn record_consent(
    conn: &mut DbConn,
    user_id: &str,
    app_id: &str,
    shared: &[SharedAttribute],
    now: OffsetDateTime,
) -> Result<(), KeyrockError> {
    let mut names: Vec<&str> = Vec::new();
    for attribute in SharedAttribute::ALL {
        if shared.contains(&attribute) {
            names.push(attribute.as_str());
        }
    }
    write_tx(conn, |c| {
        diesel::delete(
            user_authorized_applications::table
                .filter(user_authorized_applications::user_id.eq(user_id))
                .filter(user_authorized_applications::oauth_client_id.eq(app_id)),
        )
        .execute(c)?;
        diesel::insert_into(user_authorized_applications::table)
            .values((
                user_authorized_applications::user_id.eq(user_id),
                user_authorized_applications::oauth_client_id.eq(app_id),
                user_authorized_applications::shared_attributes.eq(names.join(",")),
                user_authorized_applications::created_at.eq(to_db_time(now)),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// The user of a session, if the session is live and the user still enabled.
pub fn session_user(
    conn: &mut DbConn,
    session: &str,
    now: OffsetDateTime,
) -> Result<Option<User>, KeyrockError> {
    let Some(user_id) = auth_core::sessions::user_of(conn, session, now)? else {
        return Ok(None);
    };
    Ok(find_user(conn, &user_id)?.filter(|u| u.enabled))
}

/// Issues what the response type asks for and says where the browser goes: a code in the
/// query; a token, an id_token (and a code) in the fragment. Never a refresh token here.
pub fn grant(
    conn: &mut DbConn,
    settings: &OAuthSettings,
    oidc: &Oidc<'_>,
    authorization: &Authorization,
    user: &User,
    now: OffsetDateTime,
) -> Result<ClientRedirect, OAuthError> {
    let a = authorization;
    write_tx(conn, |c| {
        let mut params: Vec<(&'static str, String)> = Vec::new();
        if a.types.code {
            let code = oauth::issue_code(
                c,
                &NewCode {
                    client_id: a.app.id.clone(),
                    user_id: user.id.clone(),
                    scope: a.scope.clone(),
                    redirect_uri: a.redirect_given.then(|| a.redirect_uri.clone()),
                    pkce: a.pkce.clone(),
                    nonce: a.nonce.clone(),
                    expires_at: now + settings.code_lifetime,
                },
                now,
            )?;
            params.push(("code", code));
        }
        let mut access = None;
        if a.types.token {
            let subject = Subject::User(user.id.clone());
            let issued = issue(c, settings, &a.app, &subject, &a.scope, false, None, now)?;
            params.push(("access_token", issued.access_token.clone()));
            params.push(("token_type", issued.token_type.as_str().to_owned()));
            // Unlike the token endpoint's JWT answer, the fragment names the lifetime of
            // every token but a permanent one (5.3).
            if !scope::is_permanent(&a.scope) {
                params.push(("expires_in", settings.expires_in().to_string()));
            }
            params.push(("scope", issued.scope.join(" ")));
            access = Some(issued.access_token);
        }
        if a.types.id_token {
            let token = id_token::issue(
                c,
                oidc,
                &a.app,
                user,
                a.nonce.as_deref(),
                access.as_deref(),
                now,
            )?;
            params.push(("id_token", token));
        }
        Ok(a.redirect(params))
    })
}
