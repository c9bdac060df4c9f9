use std::cell::RefCell;

use storage::schema::{bundle_permission_requests, mail_queue};

use crate::requests::{self, CreatedRequest};
use crate::test_support::{ask, now, store, user};

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
    let message = compose(
        &created.request,
        Some(&root),
        &created.token,
        "https://id.example.org",
    );
    assert_eq!(message.recipient, "bob@example.org");
    assert_eq!(
        message.subject,
        "alice asks for access to your data (admin)"
    );
    let link = format!(
        "https://id.example.org/api/bundle_permission_request/{}/",
        created.token.as_str()
    );
    let body = &message.body;
    assert!(
        body.lines().any(|l| l == link),
        "the link is on a line of its own"
    );
    let order = [
        "alice <alice@example.org> asks",
        "administrator root",
        "Bundle: admin",
        "Administrator: may view and edit the target's data",
        "read (",
        "write (",
        link.as_str(),
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
    let queued: String = mail_queue::table
        .select(mail_queue::body)
        .first(&mut conn)
        .unwrap();
    assert_eq!(&queued, body);
    // Asked by user_allowed itself: no admin line.
    let own = compose(
        &created.request,
        None,
        &created.token,
        "https://id.example.org",
    );
    assert!(!own.body.contains("administrator"));
    assert!(!format!("{own:?}").contains(created.token.as_str()));
}

#[test]
fn a_redeem_url_is_linked_with_the_token() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let mut with_url = created.request.clone();
    with_url.redeem_url = Some("https://app.example.org/accept?lang=de".to_owned());
    let message = compose(&with_url, None, &created.token, "https://id.example.org");
    let link = format!(
        "https://app.example.org/accept?lang=de&token={}",
        created.token.as_str()
    );
    assert!(message.body.lines().any(|l| l == link));
}

#[test]
fn backoff_doubles_from_thirty_seconds_up_to_an_hour() {
    let waits: Vec<i64> = (1..=9).map(|n| backoff(n).whole_seconds()).collect();
    assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(backoff(1000).whole_seconds(), 3600);
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

    // The first attempt claims the message; nobody else gets it while leased.
    let claimed = claim(&mut conn, created.message_id, t0, lease)
        .unwrap()
        .unwrap();
    assert_eq!(claimed.message.recipient, "bob@example.org");
    assert_eq!(claimed.request_id, Some(created.request.id));
    assert!(claimed.message.body.contains(created.token.as_str()));
    assert!(claim(&mut conn, created.message_id, t0, lease)
        .unwrap()
        .is_none());
    assert!(claim_due(&mut conn, t0, lease).unwrap().is_empty());

    // It fails: due again 30 s later, then 60 s after the second failure.
    assert_eq!(
        mark_failed_attempt(&mut conn, claimed.id, "connection refused", t0).unwrap(),
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
        mark_failed_attempt(&mut conn, claimed.id, "timeout", t1).unwrap(),
        Retry::At(t1 + Duration::seconds(60))
    );
    let last_error: Option<String> = mail_queue::table
        .select(mail_queue::last_error)
        .first(&mut conn)
        .unwrap();
    assert_eq!(last_error.as_deref(), Some("timeout"));
    assert!(!email_sent(&mut conn));

    // It is sent: the request says so, the body (and so the token) is gone, nothing is due.
    let t2 = t1 + Duration::seconds(60);
    let due = claim_due(&mut conn, t2, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert!(mark_sent(&mut conn, due[0].id, t2).unwrap());
    assert!(!mark_sent(&mut conn, due[0].id, t2).unwrap());
    assert!(email_sent(&mut conn));
    let body: String = mail_queue::table
        .select(mail_queue::body)
        .first(&mut conn)
        .unwrap();
    assert_eq!(body, "");
    assert!(claim_due(&mut conn, t2 + Duration::days(2), lease)
        .unwrap()
        .is_empty());
    assert_eq!(
        mark_failed_attempt(&mut conn, due[0].id, "late", t2).unwrap(),
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
    let id = created.message_id;
    // The wait never goes past the end of the retry window.
    let late = now() + RETRY_WINDOW - Duration::seconds(10);
    assert_eq!(
        mark_failed_attempt(&mut conn, id, "down", late).unwrap(),
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
        mark_failed_attempt(&mut conn, id, "down", end).unwrap(),
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
    assert_eq!(body, "");
    assert!(
        claim_due(&mut conn, end + Duration::days(1), Duration::seconds(60))
            .unwrap()
            .is_empty()
    );
    assert!(!email_sent(&mut conn));
}

struct Recording {
    fail: bool,
    sent: RefCell<Vec<OutgoingMessage>>,
}

impl Mailer for Recording {
    fn send(&self, message: &OutgoingMessage) -> Result<(), MailError> {
        if self.fail {
            return Err(MailError::Delivery("smtp down".to_owned()));
        }
        self.sent.borrow_mut().push(message.clone());
        Ok(())
    }
}

#[test]
fn deliver_sends_once_and_records_the_outcome() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let created = request(&mut conn, false);
    let lease = Duration::seconds(60);
    let failing = Recording {
        fail: true,
        sent: RefCell::default(),
    };
    let claimed = claim(&mut conn, created.message_id, now(), lease)
        .unwrap()
        .unwrap();
    match deliver(&mut conn, &failing, &claimed, now).unwrap() {
        Delivery::Failed { error, retry } => {
            assert_eq!(error, MailError::Delivery("smtp down".to_owned()));
            assert_eq!(retry, Retry::At(now() + FIRST_BACKOFF));
        }
        other => panic!("{other:?}"),
    }
    let working = Recording {
        fail: false,
        sent: RefCell::default(),
    };
    let later = now() + FIRST_BACKOFF;
    for message in claim_due(&mut conn, later, lease).unwrap() {
        assert_eq!(
            deliver(&mut conn, &working, &message, || later).unwrap(),
            Delivery::Sent
        );
    }
    assert!(claim_due(&mut conn, later + Duration::hours(1), lease)
        .unwrap()
        .is_empty());
    let sent = working.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains(created.token.as_str()));
    assert!(email_sent(&mut conn));
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

    // Another node holds the row locked: it is skipped, not waited for.
    other
        .batch_execute("BEGIN; SELECT num_id FROM mail_queue FOR UPDATE;")
        .unwrap();
    assert!(claim_due(&mut conn, now(), lease).unwrap().is_empty());
    other.batch_execute("ROLLBACK;").unwrap();
    let due = claim_due(&mut conn, now(), lease).unwrap();
    assert_eq!(due.len(), 1);
    assert!(claim_due(&mut other, now(), lease).unwrap().is_empty());
    assert!(mark_sent(&mut conn, due[0].id, now()).unwrap());
    assert!(email_sent(&mut conn));

    let bob = crate::test_support::user_caller(&mut conn, "bob");
    let token = created.token.as_str();
    assert!(matches!(
        requests::redeem(&mut conn, &bob, token, now()).unwrap(),
        crate::permissions::Granted::Created(_)
    ));
    assert!(matches!(
        requests::redeem(&mut other, &bob, token, now()),
        Err(crate::BundleError::Gone)
    ));
}
