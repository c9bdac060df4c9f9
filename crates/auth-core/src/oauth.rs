//! The OAuth2 token store (keyrock.md 5, 7): authorization codes, refresh tokens and access
//! tokens, each 40 lowercase hex characters (160 random bits) handed out once and stored
//! only as its SHA-256 digest. Lookups go by digest. Rows go with their application, user
//! or IoT agent (the tables cascade), so deleting one of them revokes its tokens.
//!
//! The grant rules (which grant may issue what) live in `keyrock-idm`; this module only
//! stores, finds, consumes and revokes.

use diesel::prelude::*;
use storage::schema::{oauth_access_tokens, oauth_authorization_codes, oauth_refresh_tokens};
use storage::{from_db_time, to_db_time, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::secrets::{random_hex, sha256_hex};
use crate::AuthError;

/// A token, code or refresh token: 40 hex characters, 160 random bits.
const TOKEN_CHARS: usize = 40;

/// Who an OAuth token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A user, through the `password`, `authorization_code` or implicit grants.
    User(String),
    /// An IoT agent of the application, through the `password` grant.
    IotAgent(String),
    /// The application itself (`client_credentials`).
    Client,
}

impl Subject {
    fn columns(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Subject::User(id) => (Some(id.as_str()), None),
            Subject::IotAgent(id) => (None, Some(id.as_str())),
            Subject::Client => (None, None),
        }
    }

    fn from_columns(user_id: Option<String>, iot_agent_id: Option<String>) -> Subject {
        match (user_id, iot_agent_id) {
            (Some(user), _) => Subject::User(user),
            (None, Some(iot)) => Subject::IotAgent(iot),
            (None, None) => Subject::Client,
        }
    }
}

/// A scope as stored: the items joined with commas (none of them holds a comma or space).
pub fn join_scope(scope: &[String]) -> String {
    scope.join(",")
}

/// The stored scope split back into its items.
pub fn split_scope(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where a token stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Valid,
    /// Revoked, rotated or (for codes) already used.
    Revoked,
    Expired,
}

/// A stored access token, found by the digest of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub digest: String,
    pub client_id: String,
    pub subject: Subject,
    pub scope: Vec<String>,
    /// `None` for a permanent token.
    pub expires_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub revoked: bool,
}

impl AccessToken {
    pub fn standing(&self, now: OffsetDateTime) -> Standing {
        if self.revoked {
            Standing::Revoked
        } else if self.expires_at.is_some_and(|exp| exp <= now) {
            Standing::Expired
        } else {
            Standing::Valid
        }
    }
}

/// A stored refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub digest: String,
    pub client_id: String,
    pub subject: Subject,
    pub scope: Vec<String>,
    pub expires_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub revoked: bool,
}

impl RefreshToken {
    pub fn standing(&self, now: OffsetDateTime) -> Standing {
        if self.revoked {
            Standing::Revoked
        } else if self.expires_at <= now {
            Standing::Expired
        } else {
            Standing::Valid
        }
    }
}

/// How a PKCE challenge is derived from its verifier (RFC 7636 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkceMethod {
    S256,
    Plain,
}

impl PkceMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PkceMethod::S256 => "S256",
            PkceMethod::Plain => "plain",
        }
    }

    pub fn parse(s: &str) -> Option<PkceMethod> {
        match s {
            "S256" => Some(PkceMethod::S256),
            "plain" => Some(PkceMethod::Plain),
            _ => None,
        }
    }
}

/// A PKCE challenge carried by an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceChallenge {
    pub method: PkceMethod,
    pub challenge: String,
}

impl PkceChallenge {
    /// Whether `verifier` answers this challenge; compared in constant time.
    pub fn verifies(&self, verifier: &str) -> bool {
        let derived = match self.method {
            PkceMethod::S256 => {
                use base64::Engine;
                use sha2::Digest;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()))
            }
            PkceMethod::Plain => verifier.to_owned(),
        };
        crate::secrets::constant_time_eq(derived.as_bytes(), self.challenge.as_bytes())
    }
}

/// What an authorization code is issued for (the browser flow, or a test arranging one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    pub client_id: String,
    pub user_id: String,
    pub scope: Vec<String>,
    /// The `redirect_uri` of the authorization request, if it had one: the token request
    /// must then repeat it.
    pub redirect_uri: Option<String>,
    pub pkce: Option<PkceChallenge>,
    pub nonce: Option<String>,
    pub expires_at: OffsetDateTime,
}

/// A stored authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    pub digest: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: Vec<String>,
    pub redirect_uri: Option<String>,
    pub pkce: Option<PkceChallenge>,
    pub nonce: Option<String>,
    pub expires_at: OffsetDateTime,
    pub used: bool,
}

/// Stores a new code and returns its plaintext, shown this once.
pub fn issue_code(
    conn: &mut DbConn,
    code: &NewCode,
    now: OffsetDateTime,
) -> Result<String, AuthError> {
    let value = random_hex(TOKEN_CHARS);
    diesel::insert_into(oauth_authorization_codes::table)
        .values((
            oauth_authorization_codes::digest.eq(sha256_hex(&value)),
            oauth_authorization_codes::oauth_client_id.eq(&code.client_id),
            oauth_authorization_codes::user_id.eq(&code.user_id),
            oauth_authorization_codes::scope.eq(join_scope(&code.scope)),
            oauth_authorization_codes::redirect_uri.eq(&code.redirect_uri),
            oauth_authorization_codes::code_challenge.eq(code.pkce.as_ref().map(|p| &p.challenge)),
            oauth_authorization_codes::code_challenge_method
                .eq(code.pkce.as_ref().map(|p| p.method.as_str())),
            oauth_authorization_codes::nonce.eq(&code.nonce),
            oauth_authorization_codes::expires_at.eq(to_db_time(code.expires_at)),
            oauth_authorization_codes::used.eq(false),
            oauth_authorization_codes::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(value)
}

type CodeRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    PrimitiveDateTime,
    bool,
);

/// The code whose plaintext is `code`, if one is stored.
pub fn find_code(conn: &mut DbConn, code: &str) -> Result<Option<AuthorizationCode>, AuthError> {
    use oauth_authorization_codes as c;
    let row = c::table
        .filter(c::digest.eq(sha256_hex(code)))
        .select((
            c::digest,
            c::oauth_client_id,
            c::user_id,
            c::scope,
            c::redirect_uri,
            c::code_challenge,
            c::code_challenge_method,
            c::nonce,
            c::expires_at,
            c::used,
        ))
        .first::<CodeRow>(conn)
        .optional()?;
    Ok(row.map(
        |(digest, client_id, user_id, scope, redirect_uri, challenge, method, nonce, exp, used)| {
            let pkce = match (challenge, method.as_deref().and_then(PkceMethod::parse)) {
                (Some(challenge), Some(method)) => Some(PkceChallenge { method, challenge }),
                // A challenge stored without a known method is plain (RFC 7636 4.3 default).
                (Some(challenge), None) => Some(PkceChallenge {
                    method: PkceMethod::Plain,
                    challenge,
                }),
                (None, _) => None,
            };
            AuthorizationCode {
                digest,
                client_id,
                user_id,
                scope: split_scope(&scope),
                redirect_uri,
                pkce,
                nonce,
                expires_at: from_db_time(exp),
                used,
            }
        },
    ))
}

/// Marks the code used. False when it was already used: of two concurrent redemptions,
/// exactly one wins.
pub fn consume_code(conn: &mut DbConn, digest: &str) -> Result<bool, AuthError> {
    use oauth_authorization_codes as c;
    let n = diesel::update(
        c::table
            .filter(c::digest.eq(digest))
            .filter(c::used.eq(false)),
    )
    .set(c::used.eq(true))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes every access and refresh token issued from the code (a replayed code).
pub fn revoke_issued_from_code(conn: &mut DbConn, code_digest: &str) -> Result<usize, AuthError> {
    let access = diesel::update(
        oauth_access_tokens::table.filter(oauth_access_tokens::code_digest.eq(code_digest)),
    )
    .set(oauth_access_tokens::revoked.eq(true))
    .execute(conn)?;
    let refresh = diesel::update(
        oauth_refresh_tokens::table.filter(oauth_refresh_tokens::code_digest.eq(code_digest)),
    )
    .set(oauth_refresh_tokens::revoked.eq(true))
    .execute(conn)?;
    Ok(access + refresh)
}

/// What a grant issues: one access token, and a refresh token unless it is `None`.
#[derive(Debug, Clone)]
pub struct NewTokens<'a> {
    pub client_id: &'a str,
    pub subject: &'a Subject,
    pub scope: &'a [String],
    /// Store an opaque access token (a JWT access token is not stored, keyrock.md 7).
    pub opaque_access: bool,
    /// `None`: a permanent access token.
    pub access_expires_at: Option<OffsetDateTime>,
    /// `Some`: also issue a refresh token expiring then.
    pub refresh_expires_at: Option<OffsetDateTime>,
    /// The code these tokens are issued from.
    pub code_digest: Option<&'a str>,
}

/// Plaintexts of freshly issued tokens, shown this once.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    /// `None` when no opaque access token was asked for.
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// Stores an opaque access token and a refresh token, each when asked, and returns the
/// plaintexts.
pub fn issue_tokens(
    conn: &mut DbConn,
    new: &NewTokens<'_>,
    now: OffsetDateTime,
) -> Result<IssuedTokens, AuthError> {
    let (user_id, iot_agent_id) = new.subject.columns();
    let scope = join_scope(new.scope);
    let refresh_token = match new.refresh_expires_at {
        Some(expires_at) => {
            let value = random_hex(TOKEN_CHARS);
            diesel::insert_into(oauth_refresh_tokens::table)
                .values((
                    oauth_refresh_tokens::digest.eq(sha256_hex(&value)),
                    oauth_refresh_tokens::oauth_client_id.eq(new.client_id),
                    oauth_refresh_tokens::user_id.eq(user_id),
                    oauth_refresh_tokens::iot_agent_id.eq(iot_agent_id),
                    oauth_refresh_tokens::scope.eq(&scope),
                    oauth_refresh_tokens::expires_at.eq(to_db_time(expires_at)),
                    oauth_refresh_tokens::code_digest.eq(new.code_digest),
                    oauth_refresh_tokens::revoked.eq(false),
                    oauth_refresh_tokens::created_at.eq(to_db_time(now)),
                ))
                .execute(conn)?;
            Some(value)
        }
        None => None,
    };
    if !new.opaque_access {
        return Ok(IssuedTokens {
            access_token: None,
            refresh_token,
        });
    }
    let access_token = random_hex(TOKEN_CHARS);
    diesel::insert_into(oauth_access_tokens::table)
        .values((
            oauth_access_tokens::digest.eq(sha256_hex(&access_token)),
            oauth_access_tokens::oauth_client_id.eq(new.client_id),
            oauth_access_tokens::user_id.eq(user_id),
            oauth_access_tokens::iot_agent_id.eq(iot_agent_id),
            oauth_access_tokens::scope.eq(&scope),
            oauth_access_tokens::expires_at.eq(new.access_expires_at.map(to_db_time)),
            oauth_access_tokens::refresh_digest.eq(refresh_token.as_deref().map(sha256_hex)),
            oauth_access_tokens::code_digest.eq(new.code_digest),
            oauth_access_tokens::revoked.eq(false),
            oauth_access_tokens::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(IssuedTokens {
        access_token: Some(access_token),
        refresh_token,
    })
}

type TokenRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<PrimitiveDateTime>,
    PrimitiveDateTime,
    bool,
);

/// The access token whose plaintext is `token`, if one is stored.
pub fn find_access(conn: &mut DbConn, token: &str) -> Result<Option<AccessToken>, AuthError> {
    find_access_by_digest(conn, &sha256_hex(token))
}

/// The access token stored under `digest`.
pub fn find_access_by_digest(
    conn: &mut DbConn,
    digest: &str,
) -> Result<Option<AccessToken>, AuthError> {
    use oauth_access_tokens as a;
    let row = a::table
        .filter(a::digest.eq(digest))
        .select((
            a::digest,
            a::oauth_client_id,
            a::user_id,
            a::iot_agent_id,
            a::scope,
            a::expires_at,
            a::created_at,
            a::revoked,
        ))
        .first::<TokenRow>(conn)
        .optional()?;
    Ok(row.map(
        |(digest, client_id, user, iot, scope, expires_at, created_at, revoked)| AccessToken {
            digest,
            client_id,
            subject: Subject::from_columns(user, iot),
            scope: split_scope(&scope),
            expires_at: expires_at.map(from_db_time),
            created_at: from_db_time(created_at),
            revoked,
        },
    ))
}

/// The refresh token whose plaintext is `token`, if one is stored.
pub fn find_refresh(conn: &mut DbConn, token: &str) -> Result<Option<RefreshToken>, AuthError> {
    use oauth_refresh_tokens as r;
    let row = r::table
        .filter(r::digest.eq(sha256_hex(token)))
        .select((
            r::digest,
            r::oauth_client_id,
            r::user_id,
            r::iot_agent_id,
            r::scope,
            r::expires_at.nullable(),
            r::created_at,
            r::revoked,
        ))
        .first::<TokenRow>(conn)
        .optional()?;
    Ok(row.and_then(
        |(digest, client_id, user, iot, scope, expires_at, created_at, revoked)| {
            Some(RefreshToken {
                digest,
                client_id,
                subject: Subject::from_columns(user, iot),
                scope: split_scope(&scope),
                expires_at: from_db_time(expires_at?),
                created_at: from_db_time(created_at),
                revoked,
            })
        },
    ))
}

/// Marks a refresh token used (rotation). False when it was already used or revoked: of two
/// concurrent refreshes with one token, exactly one wins.
pub fn consume_refresh(conn: &mut DbConn, digest: &str) -> Result<bool, AuthError> {
    use oauth_refresh_tokens as r;
    let n = diesel::update(
        r::table
            .filter(r::digest.eq(digest))
            .filter(r::revoked.eq(false)),
    )
    .set(r::revoked.eq(true))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revokes an access token of `client_id`. False when there was none to revoke.
pub fn revoke_access(conn: &mut DbConn, token: &str, client_id: &str) -> Result<bool, AuthError> {
    use oauth_access_tokens as a;
    let n = diesel::update(
        a::table
            .filter(a::digest.eq(sha256_hex(token)))
            .filter(a::oauth_client_id.eq(client_id)),
    )
    .set(a::revoked.eq(true))
    .execute(conn)?;
    Ok(n > 0)
}

/// Revokes a refresh token of `client_id` and every access token issued together with it.
/// False when there was no such refresh token.
pub fn revoke_refresh(conn: &mut DbConn, token: &str, client_id: &str) -> Result<bool, AuthError> {
    use oauth_refresh_tokens as r;
    let digest = sha256_hex(token);
    let n = diesel::update(
        r::table
            .filter(r::digest.eq(&digest))
            .filter(r::oauth_client_id.eq(client_id)),
    )
    .set(r::revoked.eq(true))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::update(
        oauth_access_tokens::table.filter(oauth_access_tokens::refresh_digest.eq(&digest)),
    )
    .set(oauth_access_tokens::revoked.eq(true))
    .execute(conn)?;
    Ok(true)
}

/// Deletes codes and tokens that expired before `before`; they answer "invalid" afterwards
/// instead of "expired" (keyrock.md 7 allows it). The server passes a day ago, so a client
/// still hears "expired" for a day.
pub fn purge_expired(conn: &mut DbConn, before: OffsetDateTime) -> Result<usize, AuthError> {
    let cut = to_db_time(before);
    let codes = diesel::delete(
        oauth_authorization_codes::table.filter(oauth_authorization_codes::expires_at.lt(cut)),
    )
    .execute(conn)?;
    let access =
        diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::expires_at.lt(cut)))
            .execute(conn)?;
    let refresh = diesel::delete(
        oauth_refresh_tokens::table.filter(oauth_refresh_tokens::expires_at.lt(cut)),
    )
    .execute(conn)?;
    Ok(codes + access + refresh)
}
