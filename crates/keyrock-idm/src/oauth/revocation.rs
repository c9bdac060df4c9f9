//! `POST /oauth2/revoke` (RFC 7009, keyrock.md 5.5) and `POST /oauth2/introspect`
//! (RFC 7662, 5.6).

use auth_core::oauth::{self, Standing, Subject};
use diesel::prelude::*;
use storage::schema::oauth_clients;
use storage::{write_tx, DbConn};
use time::OffsetDateTime;

use super::cache::TokenInfoCache;
use super::client::{self, ClientAuth};
use super::userinfo::{trusts, JwtIdentity};
use super::OAuthError;

/// Which kind of token the client says it presents (`token_type_hint`); other values are
/// ignored (decision 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHint {
    AccessToken,
    RefreshToken,
    None,
}

impl TokenHint {
    pub fn parse(hint: Option<&str>) -> TokenHint {
        match hint {
            Some("access_token") => TokenHint::AccessToken,
            Some("refresh_token") => TokenHint::RefreshToken,
            _ => TokenHint::None,
        }
    }
}

/// A revocation or introspection request.
#[derive(Debug, Clone)]
pub struct TokenQuery {
    pub client: ClientAuth,
    pub token: Option<String>,
    pub hint: TokenHint,
}

const MISSING_TOKEN: OAuthError = OAuthError::InvalidRequest("Missing parameter: `token`");

/// `POST /oauth2/revoke`: revokes the token if it is the caller's; succeeds whatever the
/// token was (RFC 7009 2.2). A refresh token takes the access tokens issued with it along.
/// This process's `/user` evaluations are forgotten, so it refuses the token at once.
pub fn revoke(
    conn: &mut DbConn,
    evaluations: &TokenInfoCache,
    query: &TokenQuery,
) -> Result<(), OAuthError> {
    let client = client::authenticate(conn, &query.client, None, &[])?;
    let token = query.token.as_deref().ok_or(MISSING_TOKEN)?;
    let app = client.app.id;
    write_tx(conn, |c| {
        let revoked = match query.hint {
            TokenHint::RefreshToken => oauth::revoke_refresh(c, token, &app)?,
            _ => oauth::revoke_access(c, token, &app)?,
        };
        if !revoked {
            match query.hint {
                TokenHint::RefreshToken => oauth::revoke_access(c, token, &app)?,
                _ => oauth::revoke_refresh(c, token, &app)?,
            };
        }
        Ok::<_, OAuthError>(())
    })?;
    evaluations.clear();
    Ok(())
}

/// `token_type` of an active token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntrospectedType {
    Bearer,
    Jwt,
    RefreshToken,
}

impl IntrospectedType {
    pub fn as_str(self) -> &'static str {
        match self {
            IntrospectedType::Bearer => "bearer",
            IntrospectedType::Jwt => "jwt",
            IntrospectedType::RefreshToken => "refresh_token",
        }
    }
}

/// An active token as introspection describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    /// The scope items joined with single spaces.
    pub scope: String,
    pub client_id: String,
    pub username: Option<String>,
    pub sub: Option<String>,
    pub exp: Option<i64>,
    pub iat: i64,
    pub token_type: IntrospectedType,
}

/// What introspection answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    Active(ActiveToken),
    Inactive,
}

/// `POST /oauth2/introspect`: active only for a valid token of the caller, or of an
/// application the caller trusts (decision 26).
pub fn introspect(
    conn: &mut DbConn,
    query: &TokenQuery,
    now: OffsetDateTime,
) -> Result<Introspection, OAuthError> {
    let client = client::authenticate(conn, &query.client, None, &[])?;
    let token = query.token.as_deref().ok_or(MISSING_TOKEN)?;
    let found = match query.hint {
        TokenHint::RefreshToken => match refresh(conn, token, now)? {
            Some(found) => Some(found),
            None => access(conn, token, now)?,
        },
        _ => match access(conn, token, now)? {
            Some(found) => Some(found),
            None => refresh(conn, token, now)?,
        },
    };
    let found = match found {
        Some(found) => Some(found),
        None => jwt(conn, token, now)?,
    };
    let Some(active) = found else {
        return Ok(Introspection::Inactive);
    };
    let visible = active.client_id == client.app.id
        || trusts(conn, &client.app.id, &active.client_id)
            .map_err(|e| OAuthError::Internal(e.to_string()))?;
    Ok(if visible {
        Introspection::Active(active)
    } else {
        Introspection::Inactive
    })
}

fn described(
    conn: &mut DbConn,
    client_id: String,
    subject: &Subject,
    scope: &[String],
    exp: Option<i64>,
    iat: i64,
    token_type: IntrospectedType,
) -> Result<ActiveToken, OAuthError> {
    let (username, sub) = match subject {
        Subject::User(id) => {
            let user = auth_core::users::find_user(conn, id)?;
            (user.map(|u| u.username), Some(id.clone()))
        }
        Subject::IotAgent(id) => (None, Some(id.clone())),
        Subject::Client => (None, None),
    };
    Ok(ActiveToken {
        scope: scope.join(" "),
        client_id,
        username,
        sub,
        exp,
        iat,
        token_type,
    })
}

fn access(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<ActiveToken>, OAuthError> {
    let Some(stored) = oauth::find_access(conn, token)? else {
        return Ok(None);
    };
    if stored.standing(now) != Standing::Valid {
        return Ok(None);
    }
    described(
        conn,
        stored.client_id,
        &stored.subject,
        &stored.scope,
        stored.expires_at.map(OffsetDateTime::unix_timestamp),
        stored.created_at.unix_timestamp(),
        IntrospectedType::Bearer,
    )
    .map(Some)
}

fn refresh(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<ActiveToken>, OAuthError> {
    let Some(stored) = oauth::find_refresh(conn, token)? else {
        return Ok(None);
    };
    if stored.standing(now) != Standing::Valid {
        return Ok(None);
    }
    described(
        conn,
        stored.client_id,
        &stored.subject,
        &stored.scope,
        Some(stored.expires_at.unix_timestamp()),
        stored.created_at.unix_timestamp(),
        IntrospectedType::RefreshToken,
    )
    .map(Some)
}

/// The claims introspection reads from a JWT access token besides the identity.
#[derive(serde::Deserialize)]
struct JwtTimes {
    iat: Option<i64>,
    exp: Option<i64>,
}

/// A JWT access token is active when it verifies with the `jwt_secret` of the application
/// in its `app_id` claim and has not expired.
fn jwt(
    conn: &mut DbConn,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<ActiveToken>, OAuthError> {
    let Some(claimed) = auth_core::jwt::unverified_claims::<JwtIdentity>(token)
        .filter(|c| storage::is_storable(&c.app_id))
    else {
        return Ok(None);
    };
    let secret: Option<Option<String>> = oauth_clients::table
        .filter(oauth_clients::id.eq(&claimed.app_id))
        .select(oauth_clients::jwt_secret)
        .first(conn)
        .optional()?;
    let Some(secret) = secret.flatten() else {
        return Ok(None);
    };
    let unix = now.unix_timestamp();
    let Ok(identity) = auth_core::jwt::verify_hs256::<JwtIdentity>(token, secret.as_bytes(), unix)
    else {
        return Ok(None);
    };
    let Ok(times) = auth_core::jwt::verify_hs256::<JwtTimes>(token, secret.as_bytes(), unix) else {
        return Ok(None);
    };
    let Some(subject) = identity.subject() else {
        return Ok(None);
    };
    let mut scope = vec!["jwt".to_owned()];
    if times.exp.is_none() {
        scope.push("permanent".to_owned());
    }
    described(
        conn,
        identity.app_id,
        &subject,
        &scope,
        times.exp,
        times.iat.unwrap_or(unix),
        IntrospectedType::Jwt,
    )
    .map(Some)
}
