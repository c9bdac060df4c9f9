use storage::schema::{bundle_permission_requests, mail_queue};
use time::Duration;

use crate::permissions::{self, NewPermission};
use crate::test_support::{ask, ask_sent, bundle_id, by_email, fields, now, store, user};
use crate::{BundleError, Field};

use super::*;

/// Every text stored for requests and queued mail, one string per row.
fn stored_text(conn: &mut DbConn) -> (Vec<String>, Vec<String>) {
    type ReqText = (
        Option<String>,
        String,
        String,
        Option<String>,
        Option<String>,
    );
    let requests: Vec<ReqText> = bundle_permission_requests::table
        .select((
            bundle_permission_requests::token_digest,
            bundle_permission_requests::user_allowed,
            bundle_permission_requests::user_target,
            bundle_permission_requests::created_by,
            bundle_permission_requests::redeem_url,
        ))
        .load(conn)
        .unwrap();
    let mails: Vec<(String, String, String)> = mail_queue::table
        .select((mail_queue::recipient, mail_queue::subject, mail_queue::body))
        .load(conn)
        .unwrap();
    (
        requests.into_iter().map(|r| format!("{r:?}")).collect(),
        mails.into_iter().map(|m| format!("{m:?}")).collect(),
    )
}

fn mail_rows(conn: &mut DbConn) -> i64 {
    mail_queue::table.count().get_result(conn).unwrap()
}

#[test]
fn a_request_is_stored_without_a_token_with_its_mail_in_the_same_transaction() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    user(&mut conn, "bob", false);
    let created = ask(&mut conn, &alice, "alice", "bob", "coach").unwrap();
    let request = &created.request;
    assert_eq!(request.bundle.name, "coach");
    assert_eq!(request.user_allowed.username, "alice");
    assert_eq!(request.user_target.username, "bob");
    assert_eq!(request.status(now()), Status::Pending);
    assert_eq!(request.ttl(now()), DEFAULT_TTL);
    assert_eq!(request.expires_at, now() + Duration::seconds(DEFAULT_TTL));
    assert!(!request.email_sent);
    assert_eq!(request.redeem_url, None);

    // No token exists yet: no digest, and the queued body has the placeholder line.
    let digest: Option<String> = bundle_permission_requests::table
        .select(bundle_permission_requests::token_digest)
        .first(&mut conn)
        .unwrap();
    assert_eq!(digest, None);
    let (requests, mails) = stored_text(&mut conn);
    assert_eq!(requests.len(), 1);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("bob@example.org"));
    assert!(!mails[0].contains("/api/bundle_permission_request/"));
    let body: String = mail_queue::table
        .select(mail_queue::body)
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        body.lines()
            .filter(|l| *l == crate::mail::LINK_PLACEHOLDER)
            .count(),
        1
    );
    let queued: (Option<i64>, i64) = mail_queue::table
        .select((mail_queue::request_id, mail_queue::num_id))
        .first(&mut conn)
        .unwrap();
    assert_eq!(queued, (Some(request.id), created.message.id));

    // The first delivery mints the token: 43 characters of base64url, stored by digest.
    let token = crate::test_support::send(&mut conn, &created);
    assert_eq!(token.len(), 43);
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let (requests, mails) = stored_text(&mut conn);
    assert!(requests[0].contains(&auth_core::secrets::sha256_hex(&token)));
    assert!(
        !requests[0].contains(&token) && !mails[0].contains(&token),
        "the token is stored in plaintext"
    );
}

#[test]
fn a_refused_request_stores_nothing_and_queues_no_mail() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let carol = user(&mut conn, "carol", false);
    // Only user_allowed (or an admin) may ask: not the target, not a third party.
    for caller in [&bob, &carol] {
        assert!(matches!(
            ask_sent(&mut conn, caller, "alice", "bob", "friend"),
            Err(BundleError::Forbidden)
        ));
    }
    assert_eq!(mail_rows(&mut conn), 0);
    let count: i64 = bundle_permission_requests::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn request_fields_are_checked_together_before_the_caller() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let carol = user(&mut conn, "carol", false);
    let friend = bundle_id(&mut conn, "friend");
    let make = |ttl: Field<i64>, url: &str| NewRequest {
        user_target: by_email("alice"),
        user_allowed: by_email("alice"),
        bundle: Field::Value(friend),
        ttl,
        redeem_url: Field::Value(url.to_owned()),
    };
    assert_eq!(
        fields(create(
            &mut conn,
            &carol,
            make(Field::Value(0), "https://x.org/#f"),
            now()
        )),
        ["user_target", "ttl", "redeem_url"]
    );
    assert_eq!(
        fields(create(&mut conn, &carol, NewRequest::default(), now())),
        ["user_target", "user_allowed", "bundle"]
    );
    let mut valid = make(Field::Value(MAX_TTL), "https://app.example.org/accept?x=1");
    valid.user_target = by_email("carol");
    let mut too_long = valid.clone();
    too_long.ttl = Field::Value(MAX_TTL + 1);
    assert_eq!(fields(create(&mut conn, &alice, too_long, now())), ["ttl"]);
    for bad in [
        "ftp://x.org/",
        "/relative",
        "https://",
        "http:///path",
        "https://a b.org/",
    ] {
        let mut cmd = valid.clone();
        cmd.redeem_url = Field::Value(bad.to_owned());
        assert_eq!(
            fields(create(&mut conn, &alice, cmd, now())),
            ["redeem_url"],
            "{bad}"
        );
    }
    let mut string_ttl = valid.clone();
    string_ttl.ttl = Field::Invalid(TTL_MESSAGE.to_owned());
    assert_eq!(
        fields(create(&mut conn, &alice, string_ttl, now())),
        ["ttl"]
    );

    // The target may be any existing user, visible or not; null/"" mean defaults.
    let created = create(&mut conn, &alice, valid, now()).unwrap();
    assert_eq!(created.request.ttl(now()), MAX_TTL);
    let mut defaults = make(Field::Null, "");
    defaults.user_target = by_email("carol");
    let created = create(&mut conn, &alice, defaults, now()).unwrap();
    assert_eq!(created.request.redeem_url, None);
    assert_eq!(created.request.ttl(now()), DEFAULT_TTL);
}

#[test]
fn the_token_works_only_for_the_target() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let carol = user(&mut conn, "carol", false);
    let root = user(&mut conn, "root", true);
    let created = ask_sent(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    let token = created.token.as_str();
    let found = by_token(&mut conn, &bob, token, now()).unwrap();
    assert_eq!(found, created.request);
    // Everyone else, the admin included, and an unknown token: NotFound, for every method.
    for caller in [&alice, &carol, &root] {
        assert!(matches!(
            by_token(&mut conn, caller, token, now()),
            Err(BundleError::NotFound)
        ));
        assert!(matches!(
            redeem(&mut conn, caller, token, now()),
            Err(BundleError::NotFound)
        ));
        assert!(matches!(
            delete_by_token(&mut conn, caller, token),
            Err(BundleError::NotFound)
        ));
    }
    assert!(matches!(
        by_token(&mut conn, &bob, "unknown-token", now()),
        Err(BundleError::NotFound)
    ));
    // By id: the parties and admins see it, others do not.
    for caller in [&alice, &bob, &root] {
        assert_eq!(
            get(&mut conn, caller, created.request.id).unwrap(),
            created.request
        );
    }
    assert!(matches!(
        get(&mut conn, &carol, created.request.id),
        Err(BundleError::NotFound)
    ));
    assert!(matches!(
        delete(&mut conn, &carol, created.request.id),
        Err(BundleError::NotFound)
    ));
    let all = RequestQuery::default();
    assert_eq!(list(&mut conn, &alice, &all).unwrap().total, 1);
    assert_eq!(list(&mut conn, &bob, &all).unwrap().total, 1);
    assert_eq!(list(&mut conn, &carol, &all).unwrap().total, 0);
    assert_eq!(list(&mut conn, &root, &all).unwrap().total, 1);
}

#[test]
fn an_expired_token_is_gone_for_the_target() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let created = ask_sent(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    let token = created.token.as_str();
    let almost = now() + Duration::seconds(DEFAULT_TTL) - Duration::milliseconds(500);
    let request = by_token(&mut conn, &bob, token, almost).unwrap();
    assert_eq!(request.ttl(almost), 0);
    assert_eq!(request.status(almost), Status::Pending);
    let expired = now() + Duration::seconds(DEFAULT_TTL);
    assert!(matches!(
        by_token(&mut conn, &bob, token, expired),
        Err(BundleError::Gone)
    ));
    assert!(matches!(
        redeem(&mut conn, &bob, token, expired),
        Err(BundleError::Gone)
    ));
    let listed = list(&mut conn, &alice, &RequestQuery::default()).unwrap();
    assert_eq!(listed.items[0].status(expired), Status::Expired);
    assert_eq!(listed.items[0].ttl(expired), 0);
    // Declining still works once expired.
    delete_by_token(&mut conn, &bob, token).unwrap();
    assert!(matches!(
        by_token(&mut conn, &bob, token, now()),
        Err(BundleError::NotFound)
    ));
}

#[test]
fn a_token_is_redeemed_once() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let created = ask_sent(&mut conn, &alice, "alice", "bob", "coach").unwrap();
    let token = created.token.as_str();
    let permission = match redeem(&mut conn, &bob, token, now()).unwrap() {
        Granted::Created(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(permission.bundle.name, "coach");
    assert_eq!(permission.user_allowed.username, "alice");
    assert_eq!(permission.user_target.username, "bob");
    assert_eq!(permission.name, None);
    assert!(matches!(
        redeem(&mut conn, &bob, token, now()),
        Err(BundleError::Gone)
    ));
    assert!(matches!(
        by_token(&mut conn, &bob, token, now()),
        Err(BundleError::Gone)
    ));
    let request = get(&mut conn, &alice, created.request.id).unwrap();
    assert_eq!(request.status(now()), Status::Redeemed);
    assert_eq!(request.ttl(now()), 0);
    // Deleting the redeemed request keeps the permission.
    delete(&mut conn, &alice, request.id).unwrap();
    assert_eq!(
        permissions::get(&mut conn, &alice, permission.id).unwrap(),
        permission
    );
}

#[test]
fn redeeming_reuses_an_existing_permission() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let root = user(&mut conn, "root", true);
    let created = ask_sent(&mut conn, &root, "alice", "bob", "friend").unwrap();
    let friend = bundle_id(&mut conn, "friend");
    let existing = permissions::create(
        &mut conn,
        &bob,
        NewPermission {
            bundle: Field::Value(friend),
            user_allowed: by_email("alice"),
            user_target: by_email("bob"),
            name: Field::Value("kept".to_owned()),
        },
        now(),
    )
    .unwrap()
    .into_permission();
    match redeem(&mut conn, &bob, created.token.as_str(), now()).unwrap() {
        Granted::Existing(p) => assert_eq!(p, existing),
        other => panic!("{other:?}"),
    }
    // The token is spent either way.
    assert!(matches!(
        redeem(&mut conn, &bob, created.token.as_str(), now()),
        Err(BundleError::Gone)
    ));
    let _ = alice;
}

#[test]
fn deleting_a_request_by_id_stops_its_token_and_its_mail() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let first = ask_sent(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    let second = ask_sent(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    assert_ne!(first.token, second.token);
    assert_eq!(mail_rows(&mut conn), 2);
    // Withdrawn by user_allowed; declined by the target.
    delete(&mut conn, &alice, first.request.id).unwrap();
    assert!(matches!(
        by_token(&mut conn, &bob, first.token.as_str(), now()),
        Err(BundleError::NotFound)
    ));
    assert!(matches!(
        redeem(&mut conn, &bob, first.token.as_str(), now()),
        Err(BundleError::NotFound)
    ));
    assert_eq!(mail_rows(&mut conn), 1);
    delete(&mut conn, &bob, second.request.id).unwrap();
    assert_eq!(mail_rows(&mut conn), 0);
    assert!(matches!(
        delete(&mut conn, &bob, second.request.id),
        Err(BundleError::NotFound)
    ));
}

#[test]
fn tokens_are_not_only_digits() {
    for _ in 0..100 {
        let token = RequestToken::generate();
        assert_eq!(token.as_str().len(), 43);
        assert!(!token.as_str().bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(
            token.digest(),
            auth_core::secrets::sha256_hex(token.as_str())
        );
    }
}

#[test]
fn deleting_users_keeps_or_removes_requests_as_the_schema_says() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    user(&mut conn, "carol", false);
    let root = user(&mut conn, "root", true);
    let asked_by_admin = ask_sent(&mut conn, &root, "alice", "bob", "friend").unwrap();
    let for_carol = ask_sent(&mut conn, &root, "alice", "carol", "friend").unwrap();
    let remove = |conn: &mut DbConn, id: &str| {
        diesel::delete(storage::schema::users::table.filter(storage::schema::users::id.eq(id)))
            .execute(conn)
            .unwrap();
    };
    // The admin who asked goes: the request stays (created_by is set to NULL) and works.
    remove(&mut conn, "root");
    let created_by: Option<String> = bundle_permission_requests::table
        .filter(bundle_permission_requests::num_id.eq(asked_by_admin.request.id))
        .select(bundle_permission_requests::created_by)
        .first(&mut conn)
        .unwrap();
    assert_eq!(created_by, None);
    assert_eq!(
        by_token(&mut conn, &bob, asked_by_admin.token.as_str(), now())
            .unwrap()
            .id,
        asked_by_admin.request.id
    );
    // A party goes: its requests and their queued mail go with it.
    remove(&mut conn, "carol");
    assert_eq!(mail_rows(&mut conn), 1);
    let left: Vec<i64> = bundle_permission_requests::table
        .select(bundle_permission_requests::num_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left, [asked_by_admin.request.id]);
    assert_ne!(left[0], for_carol.request.id);
}

/// Two threads redeem one token at the same moment, five times over.
fn race_redeems(pool: &storage::Pool) {
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    drop(conn);
    for _ in 0..5 {
        let mut conn = pool.get().unwrap();
        let created = ask_sent(&mut conn, &alice, "alice", "bob", "admin").unwrap();
        drop(conn);
        let barrier = std::sync::Barrier::new(2);
        let outcomes: Vec<Result<Granted, BundleError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut conn = pool.get().unwrap();
                        barrier.wait();
                        redeem(&mut conn, &bob, created.token.as_str(), now())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        let gone = outcomes
            .iter()
            .filter(|o| matches!(o, Err(BundleError::Gone)))
            .count();
        assert_eq!((won, gone), (1, 1), "{outcomes:?}");
    }
}

#[test]
fn of_two_concurrent_redeems_exactly_one_wins() {
    let dir =
        std::env::temp_dir().join(format!("tessera_bp_{}", auth_core::secrets::random_hex(16)));
    let url =
        storage::DatabaseUrl::parse(&format!("sqlite://{}", dir.join("t.db").display())).unwrap();
    let pool = storage::open_pool(&url, 4).unwrap();
    race_redeems(&pool);
    drop(pool);
    let _ = std::fs::remove_dir_all(dir);
}

/// Needs a PostgreSQL server: runs when TESSERA_TEST_DATABASE_URL names one (CI does).
#[test]
fn of_two_concurrent_redeems_exactly_one_wins_on_postgres() {
    let Some(pg) = crate::test_support::PgStore::new() else {
        eprintln!("skipped: TESSERA_TEST_DATABASE_URL is not set");
        return;
    };
    race_redeems(pg.pool.as_ref().unwrap());
}

#[test]
fn settled_requests_are_purged_thirty_days_on_and_pending_ones_stay() {
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    let bob = user(&mut conn, "bob", false);
    let kept = ask(&mut conn, &alice, "alice", "bob", "coach").unwrap();
    let redeemed = ask_sent(&mut conn, &alice, "alice", "bob", "friend").unwrap();
    redeem(&mut conn, &bob, &redeemed.token, now()).unwrap();
    let expires = kept.request.expires_at;

    // A day short of thirty after the redeem: nothing goes.
    let early = now() + SETTLED_KEEP - Duration::days(1);
    assert_eq!(purge_settled(&mut conn, early).unwrap(), 0);
    // Thirty days after the redeem: the redeemed request goes, with its mail; the pending
    // one stays, and the granted permission is not touched.
    assert_eq!(purge_settled(&mut conn, now() + SETTLED_KEEP).unwrap(), 1);
    assert!(matches!(
        get(&mut conn, &alice, redeemed.request.id),
        Err(BundleError::NotFound)
    ));
    assert!(get(&mut conn, &alice, kept.request.id).is_ok());
    assert_eq!(mail_rows(&mut conn), 1);
    let listed = permissions::list(&mut conn, &alice, &Default::default()).unwrap();
    assert_eq!(listed.total, 1);
    // Thirty days after the other expired, it goes too.
    assert_eq!(purge_settled(&mut conn, expires + SETTLED_KEEP).unwrap(), 1);
    assert_eq!(mail_rows(&mut conn), 0);
}

#[test]
fn ask_makes_the_first_attempt_and_answers_the_request_as_it_then_is() {
    use crate::mail::{claim_due, Delivery, Retry, FIRST_BACKOFF};
    use crate::test_support::{courier, Capturing};
    let pool = store();
    let mut conn = pool.get().unwrap();
    let alice = user(&mut conn, "alice", false);
    user(&mut conn, "bob", false);
    let friend = bundle_id(&mut conn, "friend");
    let new = || NewRequest {
        user_target: by_email("bob"),
        user_allowed: by_email("alice"),
        bundle: Field::Value(friend),
        ..Default::default()
    };

    // SMTP takes it: the answer already says email_sent, and the link is in the mail.
    let mailer = Capturing::default();
    let asked = super::ask(&mut conn, &alice, new(), &courier(&mailer), now).unwrap();
    assert!(matches!(asked.first_attempt, Ok(Delivery::Sent)));
    assert!(asked.request.email_sent);
    assert_eq!(mailer.sent.borrow().len(), 1);
    let token = mailer.last_token();
    let bob = crate::test_support::user_caller(&mut conn, "bob");
    assert_eq!(
        by_token(&mut conn, &bob, &token, now()).unwrap().id,
        asked.request.id
    );

    // SMTP is down: the request is stored, says so, and its message waits for the retry.
    mailer.fail.set(true);
    let asked = super::ask(&mut conn, &alice, new(), &courier(&mailer), now).unwrap();
    assert!(matches!(
        asked.first_attempt,
        Ok(Delivery::Failed { retry: Retry::At(at), .. }) if at == now() + FIRST_BACKOFF
    ));
    assert!(!asked.request.email_sent);
    assert!(!get(&mut conn, &alice, asked.request.id).unwrap().email_sent);
    assert!(claim_due(&mut conn, now(), Duration::seconds(60))
        .unwrap()
        .is_empty());
    let due = claim_due(&mut conn, now() + FIRST_BACKOFF, Duration::seconds(60)).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, asked.message_id);
}
