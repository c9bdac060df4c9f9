//! The request e-mail (§3) and the durable mail queue that delivers it.
//!
//! The message row is inserted in the same transaction as its request
//! ([`crate::requests::create`]), so a committed request always has its message. The server
//! then makes a first attempt at once ([`claim`], [`deliver`]); a background sender picks
//! up what failed ([`claim_due`], [`deliver`]) with exponential backoff ([`backoff`]) for
//! [`RETRY_WINDOW`], after which the message is marked failed.
//!
//! No row ever holds the token. The queued body has the line [`LINK_PLACEHOLDER`] where the
//! link goes; each delivery attempt ([`deliver`]) mints a fresh token, stores only its digest
//! on the request (replacing the digest of any earlier attempt, whose token reached nobody
//! or, if the SMTP answer was lost, now links to nothing), and puts the link in place of the
//! placeholder in memory just before sending. A deleted request takes its queued message
//! with it (`ON DELETE CASCADE`).

use storage::diesel::prelude::*;
use storage::schema::{bundle_permission_requests, mail_queue};
use storage::{from_db_time, to_db_time, write_tx, DbConn};
use time::{Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::bundles::Permission;
use crate::error::BundleError;
use crate::requests::{PermissionRequest, RequestToken};
use crate::users::UserObject;

/// The line of a queued body where the link goes; [`deliver`] replaces it with the link of
/// the token it mints. [`compose`] writes it on a line of its own and makes sure no user
/// data (usernames, e-mails, bundle name and description) can contain it (see
/// [`neutral`]), so the body holds exactly one such line.
pub const LINK_PLACEHOLDER: &str = "[[tessera:link]]";

/// User text as it goes into a body: the only thing changed is an occurrence of
/// [`LINK_PLACEHOLDER`], which becomes `[[tessera: link]]`; nothing else is escaped.
fn neutral(text: &str) -> String {
    text.replace(LINK_PLACEHOLDER, "[[tessera: link]]")
}

/// `body` with its placeholder line replaced by `link`; `None` when it has no such line.
fn with_link(body: &str, link: &str) -> Option<String> {
    let mut found = false;
    let lines: Vec<&str> = body
        .split('\n')
        .map(|line| {
            if !found && line == LINK_PLACEHOLDER {
                found = true;
                link
            } else {
                line
            }
        })
        .collect();
    found.then(|| lines.join("\n"))
}

/// One plain-text message to send (the sender adds `From`, `Date`, `Message-ID` and the
/// MIME headers).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for OutgoingMessage {
    // A sent body carries the token, which is never logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("recipient", &self.recipient)
            .field("subject", &self.subject)
            .field("body", &"<redacted>")
            .finish()
    }
}

/// Why one delivery attempt failed; the message stays queued for a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The SMTP server or the outbox refused or could not be reached in time.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

/// Hands a message to SMTP or writes it to the outbox; the implementations live in the
/// server crate. A call is one attempt (bounded by the SMTP timeout).
pub trait Mailer {
    fn send(&self, message: &OutgoingMessage) -> Result<(), MailError>;
}

/// The link in the e-mail (§3, decision 8): `redeem_url` with `?token=` (or `&token=` when
/// it already has a query), else the token location under `public_url` (no trailing slash).
pub fn redeem_link(public_url: &str, redeem_url: Option<&str>, token: &str) -> String {
    match redeem_url {
        Some(url) if url.contains('?') => format!("{url}&token={token}"),
        Some(url) => format!("{url}?token={token}"),
        None => format!(
            "{}/api/bundle_permission_request/{token}/",
            public_url.trim_end_matches('/')
        ),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
pub fn utc_instant(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The e-mail of a new request (§3): to user_target, the subject, and a body that says in
/// this order who asks (and the admin who made the request for someone else, if any), which
/// bundle, the link on its own line, that it works once and only signed in as the
/// recipient, the expiry instant, and that ignoring it changes nothing. The link line is
/// [`LINK_PLACEHOLDER`]; [`deliver`] fills it in.
pub fn compose(request: &PermissionRequest, requested_by: Option<&UserObject>) -> OutgoingMessage {
    let allowed = &request.user_allowed;
    let target = &request.user_target;
    let bundle = &request.bundle;
    let permissions = bundle
        .permissions
        .iter()
        .map(|p| match p {
            Permission::Read => "read (view your data and profile)",
            Permission::Write => "write (create, change and delete your data)",
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut body = format!(
        "Hello {},\n\n{} <{}> asks for access to your data.\n",
        neutral(&target.username),
        neutral(&allowed.username),
        neutral(&allowed.email)
    );
    if let Some(admin) = requested_by.filter(|u| u.keyrock_id != allowed.keyrock_id) {
        body.push_str(&format!(
            "The request was made on their behalf by the administrator {}.\n",
            neutral(&admin.username)
        ));
    }
    body.push_str(&format!("\nBundle: {}\n", neutral(&bundle.name)));
    if !bundle.description.is_empty() {
        body.push_str(&format!("Description: {}\n", neutral(&bundle.description)));
    }
    body.push_str(&format!("Permissions: {permissions}\n"));
    body.push_str("\nTo grant this access, open the following link:\n\n");
    body.push_str(LINK_PLACEHOLDER);
    body.push_str("\n\n");
    body.push_str(&format!(
        "The link works only once, and only while you are signed in as {} ({}).\n",
        neutral(&target.username),
        neutral(&target.email)
    ));
    body.push_str(&format!(
        "It expires at {}.\n",
        utc_instant(request.expires_at)
    ));
    body.push_str("\nIf you ignore this message, nothing changes.\n");
    OutgoingMessage {
        recipient: target.email.clone(),
        subject: format!(
            "{} asks for access to your data ({})",
            neutral(&allowed.username),
            neutral(&bundle.name)
        ),
        body,
    }
}

/// How long the queue keeps retrying a message after it was queued.
pub const RETRY_WINDOW: Duration = Duration::hours(24);
/// The wait after the first failed attempt; it doubles after each further failure.
pub const FIRST_BACKOFF: Duration = Duration::seconds(30);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(1);
/// How many messages one [`claim_due`] takes at most.
pub const CLAIM_BATCH: i64 = 100;
/// The longest `last_error` kept, in characters.
const ERROR_MAX_CHARS: usize = 1000;

/// The wait after `failures` failed attempts (at least 1): `first` (30 s in service), then
/// doubling (60 s, 120 s, ...), capped at one hour.
pub fn backoff(failures: i32, first: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).clamp(0, 16) as u32;
    let wait = first * 2_i32.pow(doublings);
    wait.min(MAX_BACKOFF)
}

/// A queued message claimed by this node until its lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: i64,
    pub request_id: Option<i64>,
    pub message: OutgoingMessage,
    /// Failed attempts so far.
    pub attempts: i32,
    pub created_at: OffsetDateTime,
}

type Row = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    i32,
    PrimitiveDateTime,
);

fn columns() -> (
    mail_queue::num_id,
    mail_queue::request_id,
    mail_queue::recipient,
    mail_queue::subject,
    mail_queue::body,
    mail_queue::attempts,
    mail_queue::created_at,
) {
    (
        mail_queue::num_id,
        mail_queue::request_id,
        mail_queue::recipient,
        mail_queue::subject,
        mail_queue::body,
        mail_queue::attempts,
        mail_queue::created_at,
    )
}

fn queued((id, request_id, recipient, subject, body, attempts, created_at): Row) -> QueuedMessage {
    QueuedMessage {
        id,
        request_id,
        message: OutgoingMessage {
            recipient,
            subject,
            body,
        },
        attempts,
        created_at: from_db_time(created_at),
    }
}

/// How long a new message is leased to the node that queued it, for its first attempt
/// (made before the request's answer): the background senders leave it alone meanwhile,
/// and take it over if that node dies first.
pub const FIRST_ATTEMPT_LEASE: Duration = Duration::seconds(60);

/// Queues a message, due at once but leased to the caller for [`FIRST_ATTEMPT_LEASE`];
/// returns it as claimed. Called inside the transaction that stores the request.
pub(crate) fn enqueue(
    conn: &mut DbConn,
    request_id: i64,
    message: &OutgoingMessage,
    now: OffsetDateTime,
) -> Result<QueuedMessage, BundleError> {
    let leased_until = to_db_time(now + FIRST_ATTEMPT_LEASE);
    let now = to_db_time(now);
    diesel::insert_into(mail_queue::table)
        .values((
            mail_queue::request_id.eq(Some(request_id)),
            mail_queue::recipient.eq(&message.recipient),
            mail_queue::subject.eq(&message.subject),
            mail_queue::body.eq(&message.body),
            mail_queue::created_at.eq(now),
            mail_queue::next_attempt_at.eq(now),
            mail_queue::attempts.eq(0),
            mail_queue::claimed_until.eq(Some(leased_until)),
        ))
        .execute(conn)?;
    let row: Row = mail_queue::table
        .filter(mail_queue::request_id.eq(Some(request_id)))
        .select(columns())
        .order(mail_queue::num_id.desc())
        .first(conn)?;
    Ok(queued(row))
}

/// Takes a lease on those of the listed messages that are still unsent, not failed and
/// unclaimed, one conditional UPDATE per message (so a message is ours exactly when our
/// UPDATE changed it, and two nodes never hold the same one), and reads back those it got.
/// Runs inside the caller's write transaction.
fn lease(
    conn: &mut DbConn,
    ids: Vec<i64>,
    now: OffsetDateTime,
    node_lease: Duration,
) -> Result<Vec<QueuedMessage>, BundleError> {
    let now_db = to_db_time(now);
    let until = to_db_time(now + node_lease);
    let mut ours = Vec::with_capacity(ids.len());
    for id in ids {
        let updated = diesel::update(
            mail_queue::table
                .filter(mail_queue::num_id.eq(id))
                .filter(mail_queue::sent_at.is_null())
                .filter(mail_queue::failed_at.is_null())
                .filter(
                    mail_queue::claimed_until
                        .is_null()
                        .or(mail_queue::claimed_until.le(now_db)),
                ),
        )
        .set(mail_queue::claimed_until.eq(Some(until)))
        .execute(conn)?;
        if updated > 0 {
            ours.push(id);
        }
    }
    let rows: Vec<Row> = mail_queue::table
        .filter(mail_queue::num_id.eq_any(ours))
        .order(mail_queue::num_id.asc())
        .select(columns())
        .load(conn)?;
    Ok(rows.into_iter().map(queued).collect())
}

/// Claims up to [`CLAIM_BATCH`] due messages (unsent, not failed, `next_attempt_at` reached,
/// no live lease) for `node_lease`. On PostgreSQL the candidates are locked with
/// `FOR UPDATE SKIP LOCKED`, so concurrent nodes pick different messages; on SQLite the
/// write transaction already serializes the claim.
pub fn claim_due(
    conn: &mut DbConn,
    now: OffsetDateTime,
    node_lease: Duration,
) -> Result<Vec<QueuedMessage>, BundleError> {
    let now_db = to_db_time(now);
    write_tx(conn, |conn| {
        let due = mail_queue::table
            .filter(mail_queue::sent_at.is_null())
            .filter(mail_queue::failed_at.is_null())
            .filter(mail_queue::next_attempt_at.le(now_db))
            .filter(
                mail_queue::claimed_until
                    .is_null()
                    .or(mail_queue::claimed_until.le(now_db)),
            )
            .order(mail_queue::next_attempt_at.asc())
            .then_order_by(mail_queue::num_id.asc())
            .select(mail_queue::num_id)
            .limit(CLAIM_BATCH);
        let ids: Vec<i64> = match conn {
            DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
            DbConn::Sqlite(lite) => due.load(lite)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        lease(conn, ids, now, node_lease)
    })
}

/// Claims one message by id whatever its due time; `None` when it is sent, failed, or
/// leased (a new message is leased to its creator: [`FIRST_ATTEMPT_LEASE`]).
pub fn claim(
    conn: &mut DbConn,
    id: i64,
    now: OffsetDateTime,
    node_lease: Duration,
) -> Result<Option<QueuedMessage>, BundleError> {
    write_tx(conn, |conn| {
        Ok(lease(conn, vec![id], now, node_lease)?.pop())
    })
}

/// Records a successful attempt: the message is sent and its request's `email_sent` becomes
/// true. False when it was already sent. (The stored body keeps its placeholder.)
pub fn mark_sent(conn: &mut DbConn, id: i64, now: OffsetDateTime) -> Result<bool, BundleError> {
    write_tx(conn, |conn| {
        let updated = diesel::update(
            mail_queue::table
                .filter(mail_queue::num_id.eq(id))
                .filter(mail_queue::sent_at.is_null()),
        )
        .set((
            mail_queue::sent_at.eq(Some(to_db_time(now))),
            mail_queue::claimed_until.eq(None::<PrimitiveDateTime>),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        let request_id: Option<i64> = mail_queue::table
            .filter(mail_queue::num_id.eq(id))
            .select(mail_queue::request_id)
            .first(conn)?;
        if let Some(request_id) = request_id {
            diesel::update(
                bundle_permission_requests::table
                    .filter(bundle_permission_requests::num_id.eq(request_id)),
            )
            .set(bundle_permission_requests::email_sent.eq(true))
            .execute(conn)?;
        }
        Ok(true)
    })
}

/// What happens to a message after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Due again at this instant.
    At(OffsetDateTime),
    /// [`RETRY_WINDOW`] has passed since it was queued: marked failed.
    GaveUp,
    /// The message is gone (its request was deleted) or already settled.
    Settled,
}

/// Records a failed attempt: one more failure, the error kept, the lease released; due
/// again after [`backoff`] from `first_backoff` (never later than the end of the retry window, so the last
/// attempt happens at its end), or marked failed once the window has passed.
pub fn mark_failed_attempt(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    now: OffsetDateTime,
    first_backoff: Duration,
) -> Result<Retry, BundleError> {
    let error: String = error.chars().take(ERROR_MAX_CHARS).collect();
    write_tx(conn, |conn| {
        let row: Option<(i32, PrimitiveDateTime)> = mail_queue::table
            .filter(mail_queue::num_id.eq(id))
            .filter(mail_queue::sent_at.is_null())
            .filter(mail_queue::failed_at.is_null())
            .select((mail_queue::attempts, mail_queue::created_at))
            .first(conn)
            .optional()?;
        let Some((attempts, created_at)) = row else {
            return Ok(Retry::Settled);
        };
        let failures = attempts.saturating_add(1);
        let deadline = from_db_time(created_at) + RETRY_WINDOW;
        let target = mail_queue::table.filter(mail_queue::num_id.eq(id));
        if now >= deadline {
            diesel::update(target)
                .set((
                    mail_queue::attempts.eq(failures),
                    mail_queue::failed_at.eq(Some(to_db_time(now))),
                    mail_queue::claimed_until.eq(None::<PrimitiveDateTime>),
                    mail_queue::last_error.eq(Some(&error)),
                ))
                .execute(conn)?;
            return Ok(Retry::GaveUp);
        }
        let next = (now + backoff(failures, first_backoff)).min(deadline);
        diesel::update(target)
            .set((
                mail_queue::attempts.eq(failures),
                mail_queue::next_attempt_at.eq(to_db_time(next)),
                mail_queue::claimed_until.eq(None::<PrimitiveDateTime>),
                mail_queue::last_error.eq(Some(&error)),
            ))
            .execute(conn)?;
        Ok(Retry::At(next))
    })
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    Failed {
        error: MailError,
        retry: Retry,
    },
    /// Not sent, and never will be: the message is marked failed with this reason (its
    /// request expired, was redeemed or is gone), or it was already settled.
    NotSent(&'static str),
}

/// The reason kept for a message whose request expired before it could be sent.
pub const REQUEST_EXPIRED: &str = "the request expired before its e-mail was sent";
/// The reason kept for a message whose request was redeemed before it could be sent.
pub const REQUEST_REDEEMED: &str = "the request was redeemed before its e-mail was sent";
/// The reason kept for a message without its placeholder line or request.
pub const NO_LINK: &str = "the message has no link placeholder";

/// Marks a message failed for good, with `reason`, unless it is already settled.
fn settle(
    conn: &mut DbConn,
    id: i64,
    reason: &'static str,
    now: OffsetDateTime,
) -> Result<Delivery, BundleError> {
    diesel::update(
        mail_queue::table
            .filter(mail_queue::num_id.eq(id))
            .filter(mail_queue::sent_at.is_null())
            .filter(mail_queue::failed_at.is_null()),
    )
    .set((
        mail_queue::failed_at.eq(Some(to_db_time(now))),
        mail_queue::claimed_until.eq(None::<PrimitiveDateTime>),
        mail_queue::last_error.eq(Some(reason)),
    ))
    .execute(conn)?;
    Ok(Delivery::NotSent(reason))
}

/// What the first step of an attempt decided.
enum Minted {
    Send(OutgoingMessage),
    Stop(Delivery),
}

/// In one write transaction: for a message of a pending, unexpired request, mints a fresh
/// token, sets the request's `token_digest` to its digest (a conditional UPDATE, so a
/// request redeemed or expired meanwhile is not touched), and returns the message with the
/// link in place of its placeholder. Otherwise settles the message.
fn mint(
    conn: &mut DbConn,
    message: &QueuedMessage,
    public_url: &str,
    now: OffsetDateTime,
) -> Result<Minted, BundleError> {
    use bundle_permission_requests as r;
    write_tx(conn, |conn| {
        let Some(request_id) = message.request_id else {
            // Only request e-mails are queued; a row without a request has no link to mint.
            return settle(conn, message.id, NO_LINK, now).map(Minted::Stop);
        };
        let row: Option<(Option<String>, PrimitiveDateTime, Option<PrimitiveDateTime>)> = r::table
            .filter(r::num_id.eq(request_id))
            .select((r::redeem_url, r::expires_at, r::redeemed_at))
            .first(conn)
            .optional()?;
        let Some((redeem_url, expires_at, redeemed_at)) = row else {
            // The request is gone, and its message with it (ON DELETE CASCADE).
            return Ok(Minted::Stop(Delivery::NotSent(
                "the request was deleted before its e-mail was sent",
            )));
        };
        if redeemed_at.is_some() {
            return settle(conn, message.id, REQUEST_REDEEMED, now).map(Minted::Stop);
        }
        if now >= from_db_time(expires_at) {
            return settle(conn, message.id, REQUEST_EXPIRED, now).map(Minted::Stop);
        }
        let token = RequestToken::generate();
        let link = redeem_link(public_url, redeem_url.as_deref(), token.as_str());
        let Some(body) = with_link(&message.message.body, &link) else {
            return settle(conn, message.id, NO_LINK, now).map(Minted::Stop);
        };
        let now_db = to_db_time(now);
        let updated = diesel::update(
            r::table
                .filter(r::num_id.eq(request_id))
                .filter(r::redeemed_at.is_null())
                .filter(r::expires_at.gt(now_db)),
        )
        .set(r::token_digest.eq(Some(token.digest())))
        .execute(conn)?;
        if updated == 0 {
            return settle(conn, message.id, REQUEST_EXPIRED, now).map(Minted::Stop);
        }
        Ok(Minted::Send(OutgoingMessage {
            recipient: message.message.recipient.clone(),
            subject: message.message.subject.clone(),
            body,
        }))
    })
}

/// How a node delivers: its [`Mailer`], the public URL the default link is under, and the
/// wait after a first failed attempt ([`FIRST_BACKOFF`] in service; tests shorten it).
#[derive(Clone, Copy)]
pub struct Courier<'a> {
    pub mailer: &'a dyn Mailer,
    pub public_url: &'a str,
    pub first_backoff: Duration,
}

/// One attempt at a claimed message. Unless its request is gone, redeemed or expired (then
/// the message is settled and not sent), it mints a fresh token, commits the token's digest
/// on the request (replacing the previous attempt's: at most one token works at any time),
/// sends the message with the link in place of [`LINK_PLACEHOLDER`] (under `public_url`
/// unless the request has a `redeem_url`) and records the outcome ([`mark_sent`] or
/// [`mark_failed_attempt`]). `now` is the caller's clock, read before minting and again
/// after the send. The token exists only in memory and in the sent e-mail.
///
/// The connection is not in a transaction while the mailer runs, but it stays checked out
/// (up to the SMTP timeout).
pub fn deliver(
    conn: &mut DbConn,
    courier: &Courier<'_>,
    message: &QueuedMessage,
    now: impl Fn() -> OffsetDateTime,
) -> Result<Delivery, BundleError> {
    let outgoing = match mint(conn, message, courier.public_url, now())? {
        Minted::Send(outgoing) => outgoing,
        Minted::Stop(delivery) => return Ok(delivery),
    };
    match courier.mailer.send(&outgoing) {
        Ok(()) => {
            mark_sent(conn, message.id, now())?;
            Ok(Delivery::Sent)
        }
        Err(error) => {
            let retry = mark_failed_attempt(
                conn,
                message.id,
                &error.to_string(),
                now(),
                courier.first_backoff,
            )?;
            Ok(Delivery::Failed { error, retry })
        }
    }
}

#[cfg(test)]
mod tests;
