//! The Hexoskin request e-mail's delivery (hexoskin-bundles.md §3) by a running `tessera`:
//! requests are queued through the domain (their HTTP family comes next), and the server's
//! background sender delivers them to a real SMTP server process (the kit's aiosmtpd) or
//! to the `.eml` outbox. The queue is in the database, so a message queued while no server
//! runs goes out once one starts.

use std::time::{Duration, Instant};

use auth_core::users::find_user;
use bundle_permissions::bundles::find_by_name;
use bundle_permissions::requests::{self, NewRequest};
use bundle_permissions::users::{Caller, UserRef};
use bundle_permissions::Field;
use tessera_tests::smtp::SmtpServer;
use tessera_tests::{Options, Server, TestDb};
use time::OffsetDateTime;

const FROM: &str = "tessera@test.com";

fn caller(db: &TestDb, id: &str) -> Caller {
    let user = find_user(&mut db.conn(), id).unwrap().expect("the user");
    Caller::from_user(&user)
}

/// bob asks alice for the `friend` bundle; returns the request's id.
fn queue_request(db: &TestDb, alice: &str, bob: &str) -> i64 {
    let mut conn = db.conn();
    let (target, asker) = (caller(db, alice), caller(db, bob));
    let friend = find_by_name(&mut conn, "friend").unwrap().expect("shipped");
    let created = requests::create(
        &mut conn,
        &asker,
        NewRequest {
            user_target: Field::Value(UserRef::Id(target.num_id)),
            user_allowed: Field::Value(UserRef::Email("BOB@test.com".to_owned())),
            bundle: Field::Value(friend.id),
            ttl: Field::Absent,
            redeem_url: Field::Absent,
        },
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    assert!(!created.request.email_sent);
    created.request.id
}

fn users(s: &Server) -> (String, String) {
    let admin = s.admin_token();
    let alice = s.create_user(&admin, "alice", "alice@test.com", "alice-password");
    let bob = s.create_user(&admin, "bob", "bob@test.com", "bob-password");
    (alice, bob)
}

/// A server sending from [`FROM`] with `setting` = `value`, alice and bob, and bob's
/// request to alice queued: the server, alice's and bob's ids and the request's id.
fn serve_and_queue(db: &TestDb, setting: &str, value: &str) -> (Server, String, String, i64) {
    let options = Options::default()
        .env(setting, value)
        .env("TESSERA_MAIL_FROM", FROM);
    let s = Server::start_on(db, options);
    let (alice, bob) = users(&s);
    let id = queue_request(db, &alice, &bob);
    (s, alice, bob, id)
}

fn email_sent(db: &TestDb, alice: &str, id: i64) -> bool {
    requests::get(&mut db.conn(), &caller(db, alice), id)
        .unwrap()
        .email_sent
}

/// The token of the link line `<base>/api/bundle_permission_request/<token>/`.
fn token_of(lines: &[&str], base: &str) -> String {
    let prefix = format!("{base}/api/bundle_permission_request/");
    let line = lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no link line under {prefix} in {lines:?}"));
    let token = line[prefix.len()..].trim_end_matches('/').to_owned();
    assert_eq!(token.len(), 43, "{line}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    token
}

#[test]
fn the_background_sender_delivers_a_queued_request_over_smtp_once() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let (s, alice, bob, id) = serve_and_queue(&db, "TESSERA_SMTP_URL", &smtp.url());

    let got = smtp.wait_for(1);
    let mail = &got[0];
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_tos, ["alice@test.com"]);
    assert_eq!(
        mail.header("subject"),
        Some("bob asks for access to your data (friend)")
    );
    assert_eq!(mail.header("from"), Some(FROM));
    assert_eq!(mail.header("to"), Some("alice@test.com"));
    for name in ["date", "message-id"] {
        assert!(mail.header(name).is_some(), "no {name}: {:?}", mail.headers);
    }
    assert_eq!(mail.header("mime-version"), Some("1.0"));
    for once in [
        "mime-version",
        "content-type",
        "from",
        "to",
        "subject",
        "date",
        "message-id",
    ] {
        let n = mail
            .headers
            .iter()
            .filter(|(h, _)| h.eq_ignore_ascii_case(once))
            .count();
        assert_eq!(n, 1, "{once} appears {n} times: {:?}", mail.headers);
    }
    assert_eq!(
        (mail.content_type.as_str(), mail.multipart),
        ("text/plain", false)
    );
    assert_eq!(mail.charset.as_deref(), Some("utf-8"));
    let lines = mail.lines();
    let token = token_of(&lines, &s.base);
    assert!(
        lines.iter().any(|l| l.contains("bob <bob@test.com>")),
        "{lines:?}"
    );

    // The request knows its mail went out, and the token works for alice only.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !email_sent(&db, &alice, id) {
        assert!(Instant::now() < deadline, "email_sent stayed false");
        std::thread::sleep(Duration::from_millis(50));
    }
    let now = OffsetDateTime::now_utc();
    let found = requests::by_token(&mut db.conn(), &caller(&db, &alice), &token, now).unwrap();
    assert_eq!(found.id, id);
    assert!(requests::by_token(&mut db.conn(), &caller(&db, &bob), &token, now).is_err());
    // No row holds the token, only its digest.
    let dump = db.dump_text();
    assert!(!dump.contains(&token), "the token is stored in plaintext");
    assert!(dump.contains(&auth_core::secrets::sha256_hex(&token)));
    // Exactly one message: the sender does not send it again.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn a_message_queued_while_no_server_runs_is_sent_once_one_starts() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let options = Options::default().env("TESSERA_SMTP_URL", &smtp.url());
    let (alice, bob) = {
        let s = Server::start_on(&db, options.clone());
        users(&s)
        // The server stops here.
    };
    let id = queue_request(&db, &alice, &bob);
    std::thread::sleep(Duration::from_secs(3));
    assert!(smtp.messages().is_empty());
    assert!(!email_sent(&db, &alice, id));
    let _s = Server::start_on(&db, options);
    let got = smtp.wait_for(1);
    assert_eq!(got[0].rcpt_tos, ["alice@test.com"]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(smtp.messages().len(), 1);
}

#[test]
fn without_an_smtp_server_the_message_is_a_whole_eml_file_in_the_outbox() {
    let db = TestDb::new();
    let outbox =
        std::env::temp_dir().join(format!("tessera_outbox_{}", uuid::Uuid::new_v4().simple()));
    let (_s, alice, _, id) = serve_and_queue(&db, "TESSERA_OUTBOX_DIR", &outbox.to_string_lossy());
    let deadline = Instant::now() + Duration::from_secs(20);
    let files = loop {
        let names: Vec<String> = std::fs::read_dir(&outbox)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        if !names.is_empty() {
            break names;
        }
        assert!(
            Instant::now() < deadline,
            "no .eml file in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].ends_with(".eml") && !files[0].starts_with('.'),
        "{files:?}"
    );
    let text = std::fs::read_to_string(outbox.join(&files[0])).unwrap();
    assert!(text.contains("To: alice@test.com"), "{text}");
    assert!(text.contains(&format!("From: {FROM}")), "{text}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !email_sent(&db, &alice, id) {
        assert!(Instant::now() < deadline, "email_sent stayed false");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&outbox);
}

#[test]
fn an_smtp_url_of_another_form_stops_the_start_with_one_line() {
    let db = TestDb::new();
    for url in [
        "http://127.0.0.1:25",
        "smtp://user:pw@host:25",
        "smtp://host:99999",
    ] {
        let options = Options::default().env("TESSERA_SMTP_URL", url);
        let log = Server::try_start_on(&db, options)
            .err()
            .unwrap_or_else(|| panic!("{url} was accepted"));
        assert!(log.contains("tessera: TESSERA_SMTP_URL"), "{url}: {log}");
    }
}
