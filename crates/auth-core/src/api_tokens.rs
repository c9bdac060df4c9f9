//! Keyrock API tokens (`X-Subject-Token`): UUID v4 values stored only as SHA-256 digests.

use diesel::prelude::*;
use storage::schema::api_tokens;
use storage::{from_db_time, to_db_time, DbConn};
use time::{Duration, OffsetDateTime};

use crate::secrets::{random_uuid, sha256_hex};
use crate::AuthError;

/// Who an API token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOwner {
    User(String),
    PepProxy(String),
}

/// A stored API token as looked up by its secret.
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub owner: TokenOwner,
    pub expires_at: OffsetDateTime,
}

impl ApiToken {
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at <= now
    }
}

/// A freshly minted token: the only moment its plaintext exists outside the client.
#[derive(Debug, Clone)]
pub struct IssuedApiToken {
    pub token: String,
    pub expires_at: OffsetDateTime,
}

/// Mints a token for `owner`, valid `lifetime` from `now`.
pub fn issue(
    conn: &mut DbConn,
    owner: &TokenOwner,
    now: OffsetDateTime,
    lifetime: Duration,
) -> Result<IssuedApiToken, AuthError> {
    let token = random_uuid();
    // Stored at millisecond precision, the precision of the wire format.
    let expires_at = truncate_to_millis(now + lifetime);
    let (user_id, pep_proxy_id) = match owner {
        TokenOwner::User(id) => (Some(id.as_str()), None),
        TokenOwner::PepProxy(id) => (None, Some(id.as_str())),
    };
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::digest.eq(sha256_hex(&token)),
            api_tokens::user_id.eq(user_id),
            api_tokens::pep_proxy_id.eq(pep_proxy_id),
            api_tokens::expires_at.eq(to_db_time(expires_at)),
            api_tokens::created_at.eq(to_db_time(now)),
        ))
        .execute(conn)?;
    Ok(IssuedApiToken { token, expires_at })
}

fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    let millis = t.millisecond();
    t.replace_nanosecond(u32::from(millis) * 1_000_000)
        .unwrap_or(t)
}

/// Looks a token up by the digest of the presented value.
pub fn find(conn: &mut DbConn, token: &str) -> Result<Option<ApiToken>, AuthError> {
    let row = api_tokens::table
        .filter(api_tokens::digest.eq(sha256_hex(token)))
        .select((
            api_tokens::user_id,
            api_tokens::pep_proxy_id,
            api_tokens::expires_at,
        ))
        .first::<(Option<String>, Option<String>, time::PrimitiveDateTime)>(conn)
        .optional()?;
    Ok(row.and_then(|(user_id, pep_id, expires_at)| {
        let owner = match (user_id, pep_id) {
            (Some(u), _) => TokenOwner::User(u),
            (None, Some(p)) => TokenOwner::PepProxy(p),
            (None, None) => return None,
        };
        Some(ApiToken {
            owner,
            expires_at: from_db_time(expires_at),
        })
    }))
}

/// Deletes one token; false when it did not exist.
pub fn revoke(conn: &mut DbConn, token: &str) -> Result<bool, AuthError> {
    let n = diesel::delete(api_tokens::table.filter(api_tokens::digest.eq(sha256_hex(token))))
        .execute(conn)?;
    Ok(n > 0)
}

/// Deletes every token of a PEP proxy (password reset, deletion).
pub fn revoke_for_pep_proxy(conn: &mut DbConn, pep_proxy_id: &str) -> Result<usize, AuthError> {
    Ok(
        diesel::delete(api_tokens::table.filter(api_tokens::pep_proxy_id.eq(pep_proxy_id)))
            .execute(conn)?,
    )
}

/// Removes tokens that expired before `now`; they would answer "not found" anyway.
pub fn purge_expired(conn: &mut DbConn, now: OffsetDateTime) -> Result<usize, AuthError> {
    Ok(
        diesel::delete(api_tokens::table.filter(api_tokens::expires_at.lt(to_db_time(now))))
            .execute(conn)?,
    )
}
