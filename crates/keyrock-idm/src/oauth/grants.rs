//! `POST /oauth2/token` (keyrock.md 5.4): the `password`, `client_credentials`,
//! `authorization_code` and `refresh_token` grants, checked in the spec's order.

use auth_core::oauth::{self, IssuedTokens, NewTokens, Standing, Subject};
use auth_core::password::PasswordHasher;
use auth_core::users::find_user_by_email;
use diesel::prelude::*;
use serde::Serialize;
use storage::schema::iot_agents;
use storage::{write_tx, DbConn, Pool};
use time::OffsetDateTime;

use super::cache::TokenInfoCache;
use super::client::{self, cannot_retrieve, grants_of, Client, ClientAuth, ClientKind};
use super::id_token::{self, Oidc};
use super::pdp::Decision;
use super::userinfo::{iot_token_info, user_token_info};
use super::{scope, OAuthError, OAuthSettings};
use crate::applications::Application;
use crate::tokens::{verify_generated_secret, verify_user_password, SecretCheck};
use crate::vocabulary::GrantType;

/// A token request as the wire decoder read it (first occurrence of each parameter; empty
/// values are absent).
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub client: ClientAuth,
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

/// `token_type` of an access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessTokenType {
    Bearer,
    Jwt,
}

impl AccessTokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessTokenType::Bearer => "bearer",
            AccessTokenType::Jwt => "jwt",
        }
    }
}

/// A successful token response (5.4 success table).
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: AccessTokenType,
    /// Seconds, the lifetime minus one; none for JWT and permanent tokens.
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub scope: Vec<String>,
    /// The authorization_code grant, when the code's scope holds `openid` (5.8).
    pub id_token: Option<String>,
}

const INVALID_USER: OAuthError =
    OAuthError::InvalidGrant("Invalid grant: user credentials are invalid");
const CODE_INVALID: OAuthError =
    OAuthError::InvalidGrant("Invalid grant: authorization code is invalid");
const REFRESH_INVALID: OAuthError =
    OAuthError::InvalidGrant("Invalid grant: refresh token is invalid");
const REFRESH_USED: OAuthError =
    OAuthError::InvalidGrant("Invalid grant: refresh token is no longer valid");
const VERIFIER_INVALID: OAuthError =
    OAuthError::InvalidGrant("Invalid grant: code verifier is invalid");

fn missing(param: &'static str) -> OAuthError {
    OAuthError::InvalidRequest(param)
}

/// `POST /oauth2/token`. Takes the pool, not a connection: the `password` grant runs bcrypt,
/// and no connection is held meanwhile.
pub fn token(
    pool: &Pool,
    hasher: &PasswordHasher,
    settings: &OAuthSettings,
    oidc: &Oidc<'_>,
    evaluations: &TokenInfoCache,
    request: TokenRequest,
    now: OffsetDateTime,
) -> Result<TokenResponse, OAuthError> {
    let grant = request.grant_type.as_deref().and_then(GrantType::parse);
    let mut conn = pool.get()?;
    let client = client::authenticate(&mut conn, &request.client, grant, &settings.public_grants)?;
    let name = request
        .grant_type
        .as_deref()
        .ok_or_else(|| missing("Missing parameter: `grant_type`"))?;
    let grant = match GrantType::parse(name) {
        Some(
            g @ (GrantType::AuthorizationCode
            | GrantType::Password
            | GrantType::ClientCredentials
            | GrantType::RefreshToken),
        ) => g,
        _ => {
            return Err(OAuthError::UnsupportedGrantType(
                "Unsupported grant type: `grant_type` is invalid",
            ))
        }
    };
    if !grants_of(&client.app).contains(&grant) {
        return Err(OAuthError::UnauthorizedClient(
            "Unauthorized client: `grant_type` is invalid",
        ));
    }
    match grant {
        GrantType::Password => {
            // No connection is held while bcrypt runs.
            drop(conn);
            password_grant(pool, hasher, settings, &client, &request, now)
        }
        GrantType::ClientCredentials => {
            let scope = scope::granted(request.scope.as_deref(), &client.app)?;
            // One insert, atomic by itself: no transaction round trips.
            issue(
                &mut conn,
                settings,
                &client.app,
                &Subject::Client,
                &scope,
                false,
                None,
                now,
            )
        }
        GrantType::AuthorizationCode => code_grant(
            &mut conn,
            settings,
            oidc,
            evaluations,
            &client,
            &request,
            now,
        ),
        _ => refresh_grant(&mut conn, settings, &client, &request, now),
    }
}

/// Issues an access token for `subject` (a JWT when the scope says so), and a refresh token
/// when `refreshable` and the token is not permanent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue(
    conn: &mut DbConn,
    settings: &OAuthSettings,
    app: &Application,
    subject: &Subject,
    scope: &[String],
    refreshable: bool,
    code_digest: Option<&str>,
    now: OffsetDateTime,
) -> Result<TokenResponse, OAuthError> {
    let permanent = scope::is_permanent(scope);
    let jwt = scope::is_jwt(scope);
    let access_expires_at = (!permanent).then(|| now + settings.access_lifetime);
    let refresh_expires_at = (refreshable && !permanent).then(|| now + settings.refresh_lifetime);
    let issued: IssuedTokens = oauth::issue_tokens(
        conn,
        &NewTokens {
            client_id: &app.id,
            subject,
            scope,
            opaque_access: !jwt,
            access_expires_at,
            refresh_expires_at,
            code_digest,
        },
        now,
    )?;
    let (access_token, token_type, expires_in) = match issued.access_token {
        Some(token) => (
            token,
            AccessTokenType::Bearer,
            (!permanent).then(|| settings.expires_in()),
        ),
        None => (
            jwt_access_token(conn, app, subject, now, access_expires_at)?,
            AccessTokenType::Jwt,
            None,
        ),
    };
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in,
        refresh_token: issued.refresh_token,
        scope: scope.to_vec(),
        id_token: None,
    })
}

/// The claims of a JWT access token (5.9): the token info at issue time plus `type`,
/// `iat` and (unless permanent) `exp`.
#[derive(Serialize)]
struct JwtClaims<T: Serialize> {
    #[serde(flatten)]
    info: T,
    #[serde(rename = "type")]
    kind: &'static str,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

#[derive(Serialize)]
struct AppClaims<'a> {
    app_id: &'a str,
}

fn jwt_access_token(
    conn: &mut DbConn,
    app: &Application,
    subject: &Subject,
    now: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
) -> Result<String, OAuthError> {
    let secret = app
        .jwt_secret
        .as_deref()
        .ok_or_else(|| OAuthError::Internal("application without jwt_secret".to_owned()))?;
    let iat = now.unix_timestamp();
    let exp = expires_at.map(OffsetDateTime::unix_timestamp);
    let signed = match subject {
        Subject::User(id) => {
            let user = auth_core::users::find_user(conn, id)?.ok_or(INVALID_USER)?;
            let mut info = user_token_info(conn, &user, &app.id, &app.id)
                .map_err(|e| OAuthError::Internal(e.to_string()))?;
            info.authorization_decision = Decision::NotAsked;
            let claims = JwtClaims {
                info,
                kind: "user",
                iat,
                exp,
            };
            auth_core::jwt::issue_hs256(&claims, secret.as_bytes())
        }
        Subject::IotAgent(id) => {
            let claims = JwtClaims {
                info: iot_token_info(id, &app.id),
                kind: "iot",
                iat,
                exp,
            };
            auth_core::jwt::issue_hs256(&claims, secret.as_bytes())
        }
        Subject::Client => {
            let claims = JwtClaims {
                info: AppClaims { app_id: &app.id },
                kind: "app",
                iat,
                exp,
            };
            auth_core::jwt::issue_hs256(&claims, secret.as_bytes())
        }
    };
    signed.map_err(|e| OAuthError::Internal(e.to_string()))
}

/// Who a `username` of the password grant names.
enum Candidate {
    User(Box<auth_core::users::User>),
    IotAgent {
        id: String,
        digest: String,
        salt: Option<String>,
    },
    Nobody,
}

fn password_grant(
    pool: &Pool,
    hasher: &PasswordHasher,
    settings: &OAuthSettings,
    client: &Client,
    request: &TokenRequest,
    now: OffsetDateTime,
) -> Result<TokenResponse, OAuthError> {
    let scope = scope::granted(request.scope.as_deref(), &client.app)?;
    let username = request
        .username
        .as_deref()
        .ok_or_else(|| missing("Missing parameter: `username`"))?;
    let password = request
        .password
        .as_deref()
        .ok_or_else(|| missing("Missing parameter: `password`"))?;
    let candidate = {
        let mut conn = pool.get()?;
        find_candidate(&mut conn, &client.app.id, username)?
    };
    let subject = match candidate {
        Candidate::User(user) => {
            if !verify_user_password(pool, hasher, &user, password)? || !user.enabled {
                return Err(INVALID_USER);
            }
            Subject::User(user.id)
        }
        Candidate::IotAgent { id, digest, salt } => {
            match verify_generated_secret(hasher, &digest, salt.as_deref(), password) {
                SecretCheck::Wrong => return Err(INVALID_USER),
                SecretCheck::Right => {}
                SecretCheck::RightLegacy => {
                    let mut conn = pool.get()?;
                    diesel::update(iot_agents::table.filter(iot_agents::id.eq(&id)))
                        .set((
                            iot_agents::password_digest
                                .eq(auth_core::secrets::sha256_hex(password)),
                            iot_agents::password_salt.eq(None::<String>),
                        ))
                        .execute(&mut *conn)?;
                }
            }
            Subject::IotAgent(id)
        }
        Candidate::Nobody => {
            hasher.verify_dummy(password);
            return Err(INVALID_USER);
        }
    };
    let mut conn = pool.get()?;
    write_tx(&mut conn, |c| {
        issue(c, settings, &client.app, &subject, &scope, true, None, now)
    })
}

/// A user by email (case-insensitive), or an IoT agent of this application by id.
fn find_candidate(
    conn: &mut DbConn,
    app_id: &str,
    username: &str,
) -> Result<Candidate, OAuthError> {
    if !storage::is_storable(username) {
        return Ok(Candidate::Nobody);
    }
    let agent: Option<(String, Option<String>)> = iot_agents::table
        .filter(iot_agents::id.eq(username))
        .filter(iot_agents::oauth_client_id.eq(app_id))
        .select((iot_agents::password_digest, iot_agents::password_salt))
        .first(conn)
        .optional()?;
    if let Some((digest, salt)) = agent {
        return Ok(Candidate::IotAgent {
            id: username.to_owned(),
            digest,
            salt,
        });
    }
    Ok(match find_user_by_email(conn, username)? {
        Some(user) => Candidate::User(Box::new(user)),
        None => Candidate::Nobody,
    })
}

/// What redeeming a code came to inside its transaction. A replay is committed (its tokens
/// are revoked) and then refused.
enum Redeemed {
    Issued(TokenResponse),
    Replayed,
}

fn code_grant(
    conn: &mut DbConn,
    settings: &OAuthSettings,
    oidc: &Oidc<'_>,
    evaluations: &TokenInfoCache,
    client: &Client,
    request: &TokenRequest,
    now: OffsetDateTime,
) -> Result<TokenResponse, OAuthError> {
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| missing("Missing parameter: `code`"))?;
    let outcome = write_tx(conn, |c| {
        let stored = oauth::find_code(c, code)?
            .filter(|s| s.client_id == client.app.id)
            .ok_or(CODE_INVALID)?;
        if stored.used {
            oauth::revoke_issued_from_code(c, &stored.digest)?;
            return Ok(Redeemed::Replayed);
        }
        if stored.expires_at <= now {
            return Err(OAuthError::InvalidGrant(
                "Invalid grant: authorization code has expired",
            ));
        }
        if let Some(expected) = &stored.redirect_uri {
            if request.redirect_uri.as_deref() != Some(expected.as_str()) {
                return Err(OAuthError::InvalidGrant(
                    "Invalid request: `redirect_uri` is invalid",
                ));
            }
        }
        match (&stored.pkce, request.code_verifier.as_deref()) {
            (Some(_), None) => return Err(missing("Missing parameter: `code_verifier`")),
            (Some(pkce), Some(verifier)) if !pkce.verifies(verifier) => {
                return Err(VERIFIER_INVALID)
            }
            (None, Some(_)) => return Err(VERIFIER_INVALID),
            (None, None) if client.kind == ClientKind::Public => return Err(cannot_retrieve()),
            _ => {}
        }
        if !oauth::consume_code(c, &stored.digest)? {
            oauth::revoke_issued_from_code(c, &stored.digest)?;
            return Ok(Redeemed::Replayed);
        }
        let subject = Subject::User(stored.user_id.clone());
        let Some(user) = auth_core::users::find_user(c, &stored.user_id)?.filter(|u| u.enabled)
        else {
            return Err(CODE_INVALID);
        };
        let mut response = issue(
            c,
            settings,
            &client.app,
            &subject,
            &stored.scope,
            true,
            Some(&stored.digest),
            now,
        )?;
        if stored.scope.iter().any(|s| s == "openid") {
            response.id_token = Some(id_token::issue(
                c,
                oidc,
                &client.app,
                &user,
                stored.nonce.as_deref(),
                Some(&response.access_token),
                now,
            )?);
        }
        Ok(Redeemed::Issued(response))
    })?;
    match outcome {
        Redeemed::Issued(response) => Ok(response),
        Redeemed::Replayed => {
            // The replay revoked tokens: /user must not answer for them from memory.
            evaluations.clear();
            Err(CODE_INVALID)
        }
    }
}

fn refresh_grant(
    conn: &mut DbConn,
    settings: &OAuthSettings,
    client: &Client,
    request: &TokenRequest,
    now: OffsetDateTime,
) -> Result<TokenResponse, OAuthError> {
    let presented = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| missing("Missing parameter: `refresh_token`"))?;
    write_tx(conn, |c| {
        let stored = oauth::find_refresh(c, presented)?
            .filter(|s| s.client_id == client.app.id)
            .ok_or(REFRESH_INVALID)?;
        match stored.standing(now) {
            Standing::Valid => {}
            Standing::Revoked => return Err(REFRESH_USED),
            Standing::Expired => {
                return Err(OAuthError::InvalidGrant(
                    "Invalid grant: refresh token has expired",
                ))
            }
        }
        let scope = match request.scope.as_deref() {
            None => stored.scope.clone(),
            Some(requested) => scope::granted(Some(requested), &client.app)?,
        };
        if let Subject::User(id) = &stored.subject {
            let user = auth_core::users::find_user(c, id)?;
            if !user.is_some_and(|u| u.enabled) {
                return Err(REFRESH_USED);
            }
        }
        if !oauth::consume_refresh(c, &stored.digest)? {
            return Err(REFRESH_USED);
        }
        issue(
            c,
            settings,
            &client.app,
            &stored.subject,
            &scope,
            true,
            None,
            now,
        )
    })
}
