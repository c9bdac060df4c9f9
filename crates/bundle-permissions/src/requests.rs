//! Bundle permission requests (§2.5): proposals to create a bundle permission, accepted by
//! user_target through a single-use token that only the e-mail carries. The token is minted
//! when the e-mail is delivered ([`mail::deliver`]); only its SHA-256 digest is stored.

use auth_core::secrets::{random_bytes, sha256_hex};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use storage::diesel::prelude::*;
use storage::schema::bundle_permission_requests as requests;
use storage::{from_db_time, to_db_time, write_tx, DbConn};
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::bundles::{self, Bundle};
use crate::error::{BundleError, FieldErrors};
use crate::input::Field;
use crate::mail;
use crate::paging::{Order, Page, Paging};
use crate::permissions::{self, Granted, SAME_USER};
use crate::users::{self, Caller, UserObject, UserRef};

/// `ttl` when none is given: 7 days.
pub const DEFAULT_TTL: i64 = 604_800;
/// The longest `ttl`: 30 days.
pub const MAX_TTL: i64 = 2_592_000;
/// The longest `redeem_url`, in characters.
pub const REDEEM_URL_MAX_CHARS: usize = 2048;
/// The field error of a `ttl` out of range (also the edge's message for a non-integer).
pub const TTL_MESSAGE: &str = "must be an integer between 1 and 2592000";
/// The field error of a bad `redeem_url`.
pub const REDEEM_URL_MESSAGE: &str =
    "must be an absolute http or https URL of at most 2048 characters without fragment";

/// A request's state at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Redeemed,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Redeemed => "redeemed",
            Status::Expired => "expired",
        }
    }
}

/// A stored request, with its bundle and users in full.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionRequest {
    pub id: i64,
    pub bundle: Bundle,
    pub user_allowed: UserObject,
    pub user_target: UserObject,
    pub redeem_url: Option<String>,
    pub expires_at: OffsetDateTime,
    pub redeemed_at: Option<OffsetDateTime>,
    pub email_sent: bool,
    pub created_at: OffsetDateTime,
}

impl PermissionRequest {
    /// Redeemed once redeemed; else expired from `expires_at` on; else pending.
    pub fn status(&self, now: OffsetDateTime) -> Status {
        if self.redeemed_at.is_some() {
            Status::Redeemed
        } else if now >= self.expires_at {
            Status::Expired
        } else {
            Status::Pending
        }
    }

    /// Whole seconds until the token expires (rounded down); 0 once expired or redeemed.
    pub fn ttl(&self, now: OffsetDateTime) -> i64 {
        match self.status(now) {
            Status::Pending => (self.expires_at - now).whole_seconds().max(0),
            Status::Redeemed | Status::Expired => 0,
        }
    }

    fn involves(&self, caller: &Caller) -> bool {
        caller.admin || caller.is(&self.user_allowed) || caller.is(&self.user_target)
    }
}

/// A request's secret token: 43 characters of base64url. Minted at delivery and shown once,
/// in the e-mail; never stored, returned by the API or logged (its `Debug` is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct RequestToken(String);

impl RequestToken {
    /// 32 bytes from the OS random source, base64url without padding; drawn again in the rare
    /// case that it is only digits (it would read as an id in the path).
    pub fn generate() -> RequestToken {
        loop {
            let token = URL_SAFE_NO_PAD.encode(random_bytes(32));
            if !token.bytes().all(|b| b.is_ascii_digit()) {
                return RequestToken(token);
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored form.
    pub fn digest(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl std::fmt::Debug for RequestToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestToken(<redacted>)")
    }
}

type Row = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    PrimitiveDateTime,
    Option<PrimitiveDateTime>,
    bool,
    PrimitiveDateTime,
);

fn columns() -> (
    requests::num_id,
    requests::bundle_id,
    requests::user_allowed,
    requests::user_target,
    requests::redeem_url,
    requests::expires_at,
    requests::redeemed_at,
    requests::email_sent,
    requests::created_at,
) {
    (
        requests::num_id,
        requests::bundle_id,
        requests::user_allowed,
        requests::user_target,
        requests::redeem_url,
        requests::expires_at,
        requests::redeemed_at,
        requests::email_sent,
        requests::created_at,
    )
}

/// The rows with their bundles and users.
fn populate(conn: &mut DbConn, rows: Vec<Row>) -> Result<Vec<PermissionRequest>, BundleError> {
    let bundle_ids = rows.iter().map(|r| r.1).collect();
    let user_ids = rows
        .iter()
        .flat_map(|r| [r.2.clone(), r.3.clone()])
        .collect();
    let bundle_map = bundles::load_map(conn, bundle_ids)?;
    let user_map = users::load_map(conn, user_ids)?;
    rows.into_iter()
        .map(
            |(id, bundle_id, allowed, target, redeem_url, expires, redeemed, sent, created)| {
                let what = format!("bundle permission request {id}");
                Ok(PermissionRequest {
                    id,
                    bundle: bundles::take(&bundle_map, bundle_id, &what)?,
                    user_allowed: users::take(&user_map, &allowed, &what)?,
                    user_target: users::take(&user_map, &target, &what)?,
                    redeem_url,
                    expires_at: from_db_time(expires),
                    redeemed_at: redeemed.map(from_db_time),
                    email_sent: sent,
                    created_at: from_db_time(created),
                })
            },
        )
        .collect()
}

pub(crate) fn find(conn: &mut DbConn, id: i64) -> Result<Option<PermissionRequest>, BundleError> {
    let row: Option<Row> = requests::table
        .filter(requests::num_id.eq(id))
        .select(columns())
        .first(conn)
        .optional()?;
    Ok(match row {
        Some(row) => populate(conn, vec![row])?.pop(),
        None => None,
    })
}

/// `POST /api/bundle_permission_request/`'s body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRequest {
    pub user_target: Field<UserRef>,
    pub user_allowed: Field<UserRef>,
    /// The bundle's id (the edge takes it out of the URI).
    pub bundle: Field<i64>,
    /// Seconds; absent or null: [`DEFAULT_TTL`].
    pub ttl: Field<i64>,
    /// Absent, null or `""`: none.
    pub redeem_url: Field<String>,
}

/// A stored request (without a token yet) and its queued e-mail, leased to the caller for
/// the first delivery attempt ([`mail::deliver`], which mints the token) until
/// [`mail::FIRST_ATTEMPT_LEASE`] has passed.
#[derive(Debug, Clone)]
pub struct CreatedRequest {
    pub request: PermissionRequest,
    pub message: mail::QueuedMessage,
}

/// Whether `url` is an absolute `http`/`https` URL with a host, at most 2048 characters,
/// without fragment, whitespace or control characters.
fn valid_redeem_url(url: &str) -> bool {
    if url.chars().count() > REDEEM_URL_MAX_CHARS
        || url.contains('#')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?']).next().unwrap_or("");
    !host.is_empty() && !host.starts_with(':') && !host.contains('@')
}

/// Creates a request (§2.5): the fields first (every problem together), then the caller
/// must be the user_allowed or an admin (`Forbidden`). In one transaction the request is
/// stored without a token (`token_digest` NULL) and with `now + ttl` as its expiry, and its
/// e-mail is queued with [`mail::LINK_PLACEHOLDER`] where the link goes. The token is
/// minted by [`mail::deliver`] at each delivery attempt, so no database row ever holds it.
pub fn create(
    conn: &mut DbConn,
    caller: &Caller,
    new: NewRequest,
    now: OffsetDateTime,
) -> Result<CreatedRequest, BundleError> {
    write_tx(conn, |conn| {
        let mut errors = FieldErrors::default();
        let target = permissions::required_user(conn, &mut errors, "user_target", new.user_target)?;
        let allowed =
            permissions::required_user(conn, &mut errors, "user_allowed", new.user_allowed)?;
        let bundle = permissions::required_bundle(conn, &mut errors, new.bundle)?;
        if let (Some(a), Some(t)) = (&allowed, &target) {
            if a.keyrock_id == t.keyrock_id {
                errors.add("user_target", SAME_USER);
            }
        }
        let ttl = match new.ttl.optional() {
            Ok(None) => DEFAULT_TTL,
            Ok(Some(ttl)) if (1..=MAX_TTL).contains(&ttl) => ttl,
            Ok(Some(_)) => {
                errors.add("ttl", TTL_MESSAGE);
                DEFAULT_TTL
            }
            Err(message) => {
                errors.add("ttl", message);
                DEFAULT_TTL
            }
        };
        let redeem_url = match new.redeem_url.optional() {
            Ok(None) => None,
            Ok(Some(url)) if url.is_empty() => None,
            Ok(Some(url)) if valid_redeem_url(&url) => Some(url),
            Ok(Some(_)) => {
                errors.add("redeem_url", REDEEM_URL_MESSAGE);
                None
            }
            Err(message) => {
                errors.add("redeem_url", message);
                None
            }
        };
        errors.check()?;
        let (Some(target), Some(allowed), Some(bundle)) = (target, allowed, bundle) else {
            return Err(BundleError::Invalid(Vec::new()));
        };
        if !(caller.admin || caller.is(&allowed)) {
            return Err(BundleError::Forbidden);
        }
        let now_db = to_db_time(now);
        let values = (
            requests::token_digest.eq(None::<String>),
            requests::bundle_id.eq(bundle.id),
            requests::user_allowed.eq(&allowed.keyrock_id),
            requests::user_target.eq(&target.keyrock_id),
            requests::created_by.eq(Some(&caller.keyrock_id)),
            requests::redeem_url.eq(&redeem_url),
            requests::expires_at.eq(to_db_time(now + time::Duration::seconds(ttl))),
            requests::email_sent.eq(false),
            requests::created_at.eq(now_db),
        );
        let id = match conn {
            DbConn::Postgres(c) => diesel::insert_into(requests::table)
                .values(values)
                .returning(requests::num_id)
                .get_result::<i64>(c)?,
            DbConn::Sqlite(c) => {
                diesel::insert_into(requests::table)
                    .values(values)
                    .execute(c)?;
                // This connection's last insert, inside the write transaction.
                diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                    "last_insert_rowid()",
                ))
                .get_result::<i64>(c)?
            }
        };
        let request = find(conn, id)?.ok_or(BundleError::NotFound)?;
        let requested_by = if caller.is(&allowed) {
            None
        } else {
            users::resolve(conn, &UserRef::Id(caller.num_id))?
        };
        let message = mail::compose(&request, requested_by.as_ref());
        let message = mail::enqueue(conn, id, &message, now)?;
        Ok(CreatedRequest { request, message })
    })
}

/// A request asked through [`ask`]: as it stands after the first delivery attempt, with that
/// attempt's outcome (an error when the attempt could not even be recorded; the message is
/// then left to the background senders once its first-attempt lease is over).
#[derive(Debug)]
pub struct Asked {
    pub request: PermissionRequest,
    pub message_id: i64,
    pub first_attempt: Result<mail::Delivery, BundleError>,
}

/// `POST /api/bundle_permission_request/` as §3 wants it: [`create`] (request and message
/// committed together), then the first delivery attempt through `courier` before the caller
/// answers, then the request read again, so that its `email_sent` says whether that attempt
/// worked. `now` is read for the creation and again around the attempt.
pub fn ask(
    conn: &mut DbConn,
    caller: &Caller,
    new: NewRequest,
    courier: &mail::Courier<'_>,
    now: impl Fn() -> OffsetDateTime,
) -> Result<Asked, BundleError> {
    let created = create(conn, caller, new, now())?;
    let first_attempt = mail::deliver(conn, courier, &created.message, &now);
    let request = find(conn, created.request.id)?.ok_or(BundleError::NotFound)?;
    Ok(Asked {
        request,
        message_id: created.message.id,
        first_attempt,
    })
}

/// The only field the request list orders by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOrder {
    Id,
}

/// The request list has no filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestQuery {
    /// Empty: by id ascending.
    pub order: Vec<Order<RequestOrder>>,
    pub paging: Paging,
}

/// The requests the caller takes part in, whatever their status (admins: all).
pub fn list(
    conn: &mut DbConn,
    caller: &Caller,
    query: &RequestQuery,
) -> Result<Page<PermissionRequest>, BundleError> {
    let filtered = || {
        let mut q = requests::table.select(columns()).into_boxed();
        if !caller.admin {
            q = q.filter(
                requests::user_allowed
                    .eq(caller.keyrock_id.clone())
                    .or(requests::user_target.eq(caller.keyrock_id.clone())),
            );
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let descending = query.order.first().is_some_and(|o| o.descending);
    let q = if descending {
        filtered().order(requests::num_id.desc())
    } else {
        filtered().order(requests::num_id.asc())
    };
    let rows: Vec<Row> = q
        .limit(query.paging.limit)
        .offset(query.paging.offset)
        .load(conn)?;
    Ok(Page {
        paging: query.paging,
        total,
        items: populate(conn, rows)?,
    })
}

/// One request by id, for its user_allowed, its user_target or an admin; else `NotFound`.
pub fn get(conn: &mut DbConn, caller: &Caller, id: i64) -> Result<PermissionRequest, BundleError> {
    match find(conn, id)? {
        Some(r) if r.involves(caller) => Ok(r),
        _ => Err(BundleError::NotFound),
    }
}

/// Deletes a request by id (withdrawn by user_allowed, declined by user_target, or by an
/// admin): its token stops working; a permission already redeemed is kept. Anyone else:
/// `NotFound`.
pub fn delete(conn: &mut DbConn, caller: &Caller, id: i64) -> Result<(), BundleError> {
    write_tx(conn, |conn| {
        let parties: Option<(String, String)> = requests::table
            .filter(requests::num_id.eq(id))
            .select((requests::user_allowed, requests::user_target))
            .first(conn)
            .optional()?;
        match parties {
            Some((allowed, target))
                if caller.admin || caller.keyrock_id == allowed || caller.keyrock_id == target =>
            {
                diesel::delete(requests::table.filter(requests::num_id.eq(id))).execute(conn)?;
                Ok(())
            }
            _ => Err(BundleError::NotFound),
        }
    })
}

/// The request of a token, if the caller is its user_target (admins included: an admin
/// who is not the target is anyone else). Unknown token or anyone else: `NotFound`.
fn for_target(
    conn: &mut DbConn,
    caller: &Caller,
    token: &str,
) -> Result<PermissionRequest, BundleError> {
    let digest = sha256_hex(token);
    let row: Option<Row> = requests::table
        .filter(requests::token_digest.eq(&digest))
        .filter(requests::user_target.eq(&caller.keyrock_id))
        .select(columns())
        .first(conn)
        .optional()?;
    match row {
        Some(row) => populate(conn, vec![row])?
            .pop()
            .ok_or(BundleError::NotFound),
        None => Err(BundleError::NotFound),
    }
}

/// `GET` at the token location: the pending request for its user_target; `Gone` once
/// expired or redeemed; `NotFound` for anyone else or an unknown token.
pub fn by_token(
    conn: &mut DbConn,
    caller: &Caller,
    token: &str,
    now: OffsetDateTime,
) -> Result<PermissionRequest, BundleError> {
    let request = for_target(conn, caller, token)?;
    match request.status(now) {
        Status::Pending => Ok(request),
        Status::Redeemed | Status::Expired => Err(BundleError::Gone),
    }
}

/// `PUT` at the token location (decision 6): in one transaction, marks the request
/// redeemed only if it is still pending and unexpired (a conditional UPDATE: of two
/// concurrent redeems exactly one wins, the other is `Gone`), and creates the permission
/// with no name or finds the identical one.
pub fn redeem(
    conn: &mut DbConn,
    caller: &Caller,
    token: &str,
    now: OffsetDateTime,
) -> Result<Granted, BundleError> {
    write_tx(conn, |conn| {
        let request = for_target(conn, caller, token)?;
        let now_db = to_db_time(now);
        let updated = diesel::update(
            requests::table
                .filter(requests::num_id.eq(request.id))
                .filter(requests::redeemed_at.is_null())
                .filter(requests::expires_at.gt(now_db)),
        )
        .set(requests::redeemed_at.eq(Some(now_db)))
        .execute(conn)?;
        if updated == 0 {
            return Err(BundleError::Gone);
        }
        permissions::grant(
            conn,
            request.bundle.id,
            &request.user_allowed,
            &request.user_target,
            None,
            now,
        )
    })
}

/// `DELETE` at the token location: the user_target declines, whatever the state; anyone
/// else or an unknown token: `NotFound`.
pub fn delete_by_token(conn: &mut DbConn, caller: &Caller, token: &str) -> Result<(), BundleError> {
    write_tx(conn, |conn| {
        let request = for_target(conn, caller, token)?;
        diesel::delete(requests::table.filter(requests::num_id.eq(request.id))).execute(conn)?;
        Ok(())
    })
}

/// How long a redeemed or expired request stays listed before [`purge_settled`] may delete
/// it (§2.5: "Tessera may purge them 30 days after they expired or were redeemed").
pub const SETTLED_KEEP: time::Duration = time::Duration::days(30);

/// Deletes the requests redeemed or expired at least [`SETTLED_KEEP`] before `now` (their
/// queued e-mails go with them); the number deleted. Every node may run it: it is
/// idempotent.
pub fn purge_settled(conn: &mut DbConn, now: OffsetDateTime) -> Result<usize, BundleError> {
    let before = to_db_time(now - SETTLED_KEEP);
    Ok(diesel::delete(
        requests::table.filter(
            requests::redeemed_at
                .le(before)
                .or(requests::expires_at.le(before)),
        ),
    )
    .execute(conn)?)
}

#[cfg(test)]
mod tests;
