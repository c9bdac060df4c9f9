use storage::schema::{bundle_permission_requests, mail_queue};

use crate::requests::{self, CreatedRequest};
use crate::test_support::{ask, courier, now, store, token_in, user, Capturing, PUBLIC_URL};

use super::*;

fn request(conn: &mut DbConn, by_admin: bool) -> CreatedRequest {
    let alice = user(conn, "alice", false);
    user(conn, "bob", false);
    let root = user(conn, "root", true);
    ask(
        conn,
        if by_admin { &root } else { &alice },
        "alice",
        "bob",
        "admin",
    )
    .unwrap()
}

#[test]
fn the_link_follows_the_redeem_url_rule() {
    assert_eq!(
        redeem_link("https://id.example.org", None, "tok"),
        "https://id.example.org/api/bundle_permission_request/tok/"
    );
    assert_eq!(
        redeem_link("https://id.example.org/", None, "tok"),
        "https://id.example.org/api/bundle_permission_request/tok/"
    );
    assert_eq!(
        redeem_link("", Some("https://app.example.org/accept"), "tok"),
        "https://app.example.org/accept?token=tok"
    );
    assert_eq!(
        redeem_link("", Some("https://app.example.org/accept?lang=de"), "tok"),
        "https://app.example.org/accept?lang=de&token=tok"
    );
}

#[test]
fn the_expiry_is_written_in_utc() {
    let t = time::macros::datetime!(2026-12-13 13:04:05 +02:00);
    assert_eq!(utc_instant(t), "2026-12-13T11:04:05Z");
}

fn queued_body(conn: &mut DbConn) -> String {
    mail_queue::table
        .select(mail_queue::body)
        .first(conn)
        .unwrap()
}

#[test]
fn the_body_says_everything_in_order() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, true);
    let root = crate::users::resolve(
        &mut conn,
        &crate::users::UserRef::Email("root@example.org".into()),
    )
    .unwrap()
    .unwrap();
    let message = compose(&created.request, Some(&root));
    assert_eq!(message.recipient, "bob@example.org");
    assert_eq!(
        message.subject,
        "alice asks for access to your data (admin)"
    );
    let body = &message.body;
    assert!(
        body.lines().any(|l| l == LINK_PLACEHOLDER),
        "the placeholder is on a line of its own"
    );
    let order = [
        "alice <alice@example.org> asks",
        "administrator root",
        "Bundle: admin",
        "Administrator: may view and edit the target's data",
        "read (",
        "write (",
        LINK_PLACEHOLDER,
        "works only once",
        "signed in as bob",
        "2026-12-13T12:00:00Z",
        "nothing changes",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|piece| {
            body.find(piece)
                .unwrap_or_else(|| panic!("{piece:?} missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{body}");
    // The queued message is this one.
    assert_eq!(&queued_body(&mut conn), body);
    // Asked by user_allowed itself: no admin line.
    let own = compose(&created.request, None);
    assert!(!own.body.contains("administrator"));

    // Delivered: the link replaces the placeholder, and nothing else changes.
    let mailer = Capturing::default();
    let claimed = created.message.clone();
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap(),
        Delivery::Sent
    );
    let token = mailer.last_token();
    let link = format!("{PUBLIC_URL}/api/bundle_permission_request/{token}/");
    let sent = mailer.sent.borrow()[0].clone();
    assert_eq!(sent.body, body.replace(LINK_PLACEHOLDER, &link));
    assert_eq!(sent.subject, message.subject);
    assert!(!format!("{sent:?}").contains(&token));
}

#[test]
fn the_placeholder_cannot_come_from_user_data() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let mut created = request(&mut conn, false).request;
    created.bundle.description = format!("x\n{LINK_PLACEHOLDER}\ny");
    created.user_allowed.username = LINK_PLACEHOLDER.to_owned();
    let message = compose(&created, None);
    assert_eq!(
        message
            .body
            .lines()
            .filter(|l| *l == LINK_PLACEHOLDER)
            .count(),
        1
    );
    assert_eq!(message.body.matches(LINK_PLACEHOLDER).count(), 1);
    assert!(message.body.contains("[[tessera: link]]"));
    let filled = with_link(&message.body, "LINK").unwrap();
    assert!(filled.contains("\n\nLINK\n\n"), "{filled}");
    assert_eq!(with_link("no placeholder", "LINK"), None);
}

#[test]
fn a_redeem_url_is_linked_with_the_token() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let bundle = crate::test_support::bundle_id(&mut conn, "friend");
    let created = requests::create(
        &mut conn,
        &alice,
        requests::NewRequest {
            user_target: crate::test_support::by_email("bob"),
            user_allowed: crate::test_support::by_email("alice"),
            bundle: crate::Field::Value(bundle),
            redeem_url: crate::Field::Value("https://app.example.org/accept?lang=de".to_owned()),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    let mailer = Capturing::default();
    let claimed = created.message.clone();
    deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap();
    let body = mailer.sent.borrow()[0].body.clone();
    let token = token_in(&body);
    let link = format!("https://app.example.org/accept?lang=de&token={token}");
    assert!(body.lines().any(|l| l == link));
    assert!(requests::by_token(&mut conn, &bob, &token, now()).is_ok());
}

#[test]
fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
    let waits: Vec<i64> = (1..=9)
        .map(|n| backoff(n, FIRST_BACKOFF).whole_seconds())
        .collect();
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(backoff(1000, FIRST_BACKOFF).whole_seconds(), 3600);
    assert_eq!(backoff(3, Duration::seconds(1)).whole_seconds(), 4);
}

fn email_sent(conn: &mut DbConn) -> bool {
    bundle_permission_requests::table
        .select(bundle_permission_requests::email_sent)
        .first(conn)
        .unwrap()
}

#[test]
fn the_queue_claims_leases_backs_off_and_marks_sent() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let lease = Duration::seconds(60);
    let t0 = now();

    // A new message is leased to its creator for the first attempt: nobody else gets it
    // until the lease is over (then a background sender takes it over).
    let claimed = created.message.clone();
    assert_eq!(claimed.message.recipient, "bob@example.org");
    assert_eq!(claimed.request_id, Some(created.request.id));
    assert!(claimed.message.body.contains(LINK_PLACEHOLDER));
    assert!(claim(&mut conn, created.message.id, t0, lease)
        .unwrap()
        .is_none());
    assert!(claim_due(&mut conn, t0, lease).unwrap().is_empty());
    let almost = t0 + FIRST_ATTEMPT_LEASE - Duration::seconds(1);
    assert!(claim_due(&mut conn, almost, lease).unwrap().is_empty());

    // It fails: due again 30 s later, then 60 s after the second failure.
    assert_eq!(
        mark_failed_attempt(
            &mut conn,
            claimed.id,
            "connection refused",
            t0,
            FIRST_BACKOFF
        )
        .unwrap(),
        Retry::At(t0 + Duration::seconds(30))
    );
    assert!(claim_due(&mut conn, t0 + Duration::seconds(29), lease)
        .unwrap()
        .is_empty());
    let t1 = t0 + Duration::seconds(30);
    let due = claim_due(&mut conn, t1, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert!(claim_due(&mut conn, t1, lease).unwrap().is_empty());
    // A lease that ran out (a node died) lets another node claim it.
    assert_eq!(claim_due(&mut conn, t1 + lease, lease).unwrap().len(), 1);
    assert_eq!(
        mark_failed_attempt(&mut conn, claimed.id, "timeout", t1, FIRST_BACKOFF).unwrap(),
        Retry::At(t1 + Duration::seconds(60))
    );
    let last_error: Option<String> = mail_queue::table
        .select(mail_queue::last_error)
        .first(&mut conn)
        .unwrap();
    assert_eq!(last_error.as_deref(), Some("timeout"));
    assert!(!email_sent(&mut conn));

    // It is sent: the request says so, the body keeps its placeholder, nothing is due.
    let t2 = t1 + Duration::seconds(60);
    let due = claim_due(&mut conn, t2, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert!(mark_sent(&mut conn, due[0].id, t2).unwrap());
    assert!(!mark_sent(&mut conn, due[0].id, t2).unwrap());
    assert!(email_sent(&mut conn));
    assert_eq!(queued_body(&mut conn), claimed.message.body);
    assert!(claim_due(&mut conn, t2 + Duration::days(2), lease)
        .unwrap()
        .is_empty());
    assert_eq!(
        mark_failed_attempt(&mut conn, due[0].id, "late", t2, FIRST_BACKOFF).unwrap(),
        Retry::Settled
    );
    let bob = crate::test_support::user_caller(&mut conn, "bob");
    let request = requests::get(&mut conn, &bob, created.request.id).unwrap();
    assert!(request.email_sent);
}

#[test]
fn a_message_is_given_up_after_a_day() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let id = created.message.id;
    // The wait never goes past the end of the retry window.
    let late = now() + RETRY_WINDOW - Duration::seconds(10);
    assert_eq!(
        mark_failed_attempt(&mut conn, id, "down", late, FIRST_BACKOFF).unwrap(),
        Retry::At(now() + RETRY_WINDOW)
    );
    let end = now() + RETRY_WINDOW;
    assert_eq!(
        claim_due(&mut conn, end, Duration::seconds(60))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        mark_failed_attempt(&mut conn, id, "down", end, FIRST_BACKOFF).unwrap(),
        Retry::GaveUp
    );
    let (failed_at, attempts, body): (Option<PrimitiveDateTime>, i32, String) = mail_queue::table
        .select((
            mail_queue::failed_at,
            mail_queue::attempts,
            mail_queue::body,
        ))
        .first(&mut conn)
        .unwrap();
    assert!(failed_at.is_some());
    assert_eq!(attempts, 2);
    assert!(body.contains(LINK_PLACEHOLDER));
    assert!(
        claim_due(&mut conn, end + Duration::days(1), Duration::seconds(60))
            .unwrap()
            .is_empty()
    );
    assert!(!email_sent(&mut conn));
}

/// Every text of `mail_queue` and `bundle_permission_requests`, row by row.
fn dump(conn: &mut DbConn) -> String {
    use bundle_permission_requests as r;
    use mail_queue as m;
    type ReqText = (
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let requests: Vec<ReqText> = r::table
        .select((
            r::token_digest,
            r::user_allowed,
            r::user_target,
            r::created_by,
            r::redeem_url,
        ))
        .load(conn)
        .unwrap();
    let mails: Vec<(String, String, String, Option<String>)> = m::table
        .select((m::recipient, m::subject, m::body, m::last_error))
        .load(conn)
        .unwrap();
    format!("{requests:?}\n{mails:?}")
}

fn digest(conn: &mut DbConn) -> Option<String> {
    bundle_permission_requests::table
        .select(bundle_permission_requests::token_digest)
        .first(conn)
        .unwrap()
}

#[test]
fn deliver_sends_once_and_records_the_outcome() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let bob = crate::test_support::user_caller(&mut conn, "bob");
    let lease = Duration::seconds(60);
    let mailer = Capturing::default();
    mailer.fail.set(true);
    let claimed = created.message.clone();
    match deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap() {
        Delivery::Failed { error, retry } => {
            assert_eq!(error, MailError::Delivery("smtp down".to_owned()));
            assert_eq!(retry, Retry::At(now() + FIRST_BACKOFF));
        }
        other => panic!("{other:?}"),
    }
    // The failed attempt minted a token (its digest is stored) that reached nobody.
    let first_digest = digest(&mut conn).expect("a digest after the first attempt");
    mailer.fail.set(false);
    let later = now() + FIRST_BACKOFF;
    for message in claim_due(&mut conn, later, lease).unwrap() {
        assert_eq!(
            deliver(&mut conn, &courier(&mailer), &message, || later).unwrap(),
            Delivery::Sent
        );
    }
    assert!(claim_due(&mut conn, later + Duration::hours(1), lease)
        .unwrap()
        .is_empty());
    assert_eq!(mailer.sent.borrow().len(), 1);
    assert!(email_sent(&mut conn));
    // The second attempt replaced the digest: only its token works.
    let token = mailer.last_token();
    let second_digest = digest(&mut conn).unwrap();
    assert_ne!(first_digest, second_digest);
    assert_eq!(second_digest, auth_core::secrets::sha256_hex(&token));
    assert_eq!(
        requests::by_token(&mut conn, &bob, &token, later)
            .unwrap()
            .id,
        created.request.id
    );
    // The database holds the placeholder and the digest, never the token.
    let dump = dump(&mut conn);
    assert!(!dump.contains(&token), "{dump}");
    assert!(queued_body(&mut conn).contains(LINK_PLACEHOLDER));
    assert!(!queued_body(&mut conn).contains("/api/bundle_permission_request/"));
}

#[test]
fn a_lost_answer_leaves_only_the_retry_link_working() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let bob = crate::test_support::user_caller(&mut conn, "bob");
    let lease = Duration::seconds(60);
    // The SMTP server took the first e-mail, but the answer was lost: a failed attempt.
    let mailer = Capturing::default();
    let claimed = created.message.clone();
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap(),
        Delivery::Sent
    );
    let first = mailer.last_token();
    // Pretend it failed and retry.
    diesel::update(mail_queue::table)
        .set(mail_queue::sent_at.eq(None::<PrimitiveDateTime>))
        .execute(&mut conn)
        .unwrap();
    let again = claim(&mut conn, created.message.id, now(), lease)
        .unwrap()
        .expect("a message that is not sent is claimable once its lease is released");
    deliver(&mut conn, &courier(&mailer), &again, now).unwrap();
    let second = mailer.last_token();
    assert_ne!(first, second);
    assert!(matches!(
        requests::by_token(&mut conn, &bob, &first, now()),
        Err(crate::BundleError::NotFound)
    ));
    assert!(matches!(
        requests::redeem(&mut conn, &bob, &first, now()),
        Err(crate::BundleError::NotFound)
    ));
    assert!(requests::redeem(&mut conn, &bob, &second, now()).is_ok());
}

#[test]
fn a_message_for_an_expired_or_redeemed_request_is_not_sent() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let lease = Duration::seconds(60);
    let mailer = Capturing::default();
    mailer.fail.set(true);
    let claimed = created.message.clone();
    deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap();
    let minted = digest(&mut conn);
    mailer.fail.set(false);
    // The retry comes after the request expired (a long outage with a short ttl).
    let expired = created.request.expires_at;
    let due = claim_due(&mut conn, expired, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &due[0], || expired).unwrap(),
        Delivery::NotSent(REQUEST_EXPIRED)
    );
    assert!(mailer.sent.borrow().is_empty());
    assert_eq!(digest(&mut conn), minted, "no new token was minted");
    let (failed_at, last_error): (Option<PrimitiveDateTime>, Option<String>) = mail_queue::table
        .select((mail_queue::failed_at, mail_queue::last_error))
        .first(&mut conn)
        .unwrap();
    assert!(failed_at.is_some());
    assert_eq!(last_error.as_deref(), Some(REQUEST_EXPIRED));
    assert!(claim_due(&mut conn, expired + Duration::hours(2), lease)
        .unwrap()
        .is_empty());
    assert!(!email_sent(&mut conn));

    // A redeemed request: not sent either.
    let other = request_again(&mut conn);
    diesel::update(
        bundle_permission_requests::table
            .filter(bundle_permission_requests::num_id.eq(other.request.id)),
    )
    .set(bundle_permission_requests::redeemed_at.eq(Some(to_db_time(now()))))
    .execute(&mut conn)
    .unwrap();
    let claimed = other.message.clone();
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap(),
        Delivery::NotSent(REQUEST_REDEEMED)
    );
    assert!(mailer.sent.borrow().is_empty());
}

fn request_again(conn: &mut DbConn) -> CreatedRequest {
    let alice = crate::test_support::user_caller(conn, "alice");
    ask(conn, &alice, "alice", "bob", "friend").unwrap()
}

#[test]
fn no_token_reaches_the_database_file() {
    let dir =
        std::env::temp_dir().join(format!("tessera_bp_{}", auth_core::secrets::random_hex(16)));
    let url =
        storage::DatabaseUrl::parse(&format!("sqlite://{}", dir.join("t.db").display())).unwrap();
    let pool = storage::open_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let lease = Duration::seconds(60);
    let mailer = Capturing::default();
    mailer.fail.set(true);
    let claimed = created.message.clone();
    deliver(&mut conn, &courier(&mailer), &claimed, now).unwrap();
    mailer.fail.set(false);
    let later = now() + FIRST_BACKOFF;
    let due = claim_due(&mut conn, later, lease).unwrap();
    deliver(&mut conn, &courier(&mailer), &due[0], || later).unwrap();
    let token = mailer.last_token();
    let bob = crate::test_support::user_caller(&mut conn, "bob");
    assert!(requests::by_token(&mut conn, &bob, &token, later).is_ok());
    // Every byte of the database files (the WAL included): no token.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(bytes
        .windows(LINK_PLACEHOLDER.len())
        .any(|w| w == LINK_PLACEHOLDER.as_bytes()));
    assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    assert!(!dump(&mut conn).contains(&token));
    drop(conn);
    drop(pool);
    let _ = std::fs::remove_dir_all(dir);
}

/// Needs a PostgreSQL server: runs when TESSERA_TEST_DATABASE_URL names one (CI does). The
/// migration, a request with its mail, `FOR UPDATE SKIP LOCKED` and a redeem on PostgreSQL.
#[test]
fn the_queue_skips_locked_messages_on_postgres() {
    use storage::diesel::connection::SimpleConnection;
    let Some(pg) = crate::test_support::PgStore::new() else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL is not set");
        return;
    };
    let pool = pg.pool.as_ref().unwrap();
    let mut conn = pool.get().unwrap();
    let mut other = pool.get().unwrap();
    let created = request(&mut conn, false);
    assert_eq!(
        crate::bundles::list(&mut conn, &Default::default())
            .unwrap()
            .total,
        3
    );
    let lease = Duration::seconds(60);

    // The creator's first attempt never came (its node died): once its lease is over,
    // another node holds the row locked: it is skipped, not waited for.
    let later = now() + FIRST_ATTEMPT_LEASE;
    other
        .batch_execute("BEGIN; SELECT num_id FROM mail_queue FOR UPDATE;")
        .unwrap();
    assert!(claim_due(&mut conn, later, lease).unwrap().is_empty());
    other.batch_execute("ROLLBACK;").unwrap();
    let due = claim_due(&mut conn, later, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert!(claim_due(&mut other, later, lease).unwrap().is_empty());
    let mailer = Capturing::default();
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &due[0], now).unwrap(),
        Delivery::Sent
    );
    assert!(email_sent(&mut conn));
    let token = &mailer.last_token();
    assert!(!dump(&mut conn).contains(token.as_str()));
    assert_eq!(created.message.id, due[0].id);

    let bob = crate::test_support::user_caller(&mut conn, "bob");
    assert!(matches!(
        requests::redeem(&mut conn, &bob, token, now()).unwrap(),
        crate::permissions::Granted::Created(_)
    ));
    assert!(matches!(
        requests::redeem(&mut other, &bob, token, now()),
        Err(crate::BundleError::Gone)
    ));
}

#[test]
fn a_message_whose_first_attempt_never_came_is_taken_over_after_the_lease() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let lease = Duration::seconds(60);
    // Its creator died between the commit and the first attempt.
    assert!(claim_due(&mut conn, now(), lease).unwrap().is_empty());
    let due = claim_due(&mut conn, now() + FIRST_ATTEMPT_LEASE, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, created.message.id);
    let mailer = Capturing::default();
    let later = now() + FIRST_ATTEMPT_LEASE;
    assert_eq!(
        deliver(&mut conn, &courier(&mailer), &due[0], || later).unwrap(),
        Delivery::Sent
    );
    assert!(email_sent(&mut conn));
}
