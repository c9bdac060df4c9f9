//! The Hexoskin request e-mail (hexoskin-bundles.md §2.5, §3) over HTTP, against a real SMTP
//! server process (the kit's aiosmtpd) or the `.eml` outbox: the request/redeem loop end to
//! end, the mail's envelope, headers and body, durable delivery (a failed first attempt is
//! retried, a killed server's queue is sent after a restart, two PostgreSQL nodes never send
//! one message twice), and tokens that exist only in the e-mail.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_tests::hexoskin::{
    admin, ask, bundle_id, call, link_token, token_in, user, Outbox, Person,
};
use tessera_tests::smtp::{free_port, ReceivedMail, SmtpServer};
use tessera_tests::{json, Options, Resp, Server, TestDb};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const FROM: &str = "tessera@test.com";
const REQUESTS: &str = "/api/bundle_permission_request/";
/// The default `ttl` of a request (§2.5), seconds.
const DEFAULT_TTL: i64 = 604_800;
/// The shipped `friend` bundle's description (§2.3).
const FRIEND_DESCRIPTION: &str = "Friends and relatives: may view the target's data";
/// How long a test watches for a second copy of a message that arrived: longer than two
/// polls of the background sender (2 s) plus the fast retry's first waits (1 s, 2 s).
const QUIET: Duration = Duration::from_secs(6);
/// Longest wait for a delivery through the background sender. The deadline only bounds the
/// wait; it covers the node lease (60 s) that a server killed during an attempt leaves on
/// its message, plus a poll and the backoff reached meanwhile.
const RETRY_WAIT: Duration = Duration::from_secs(90);

/// The people of these tests, on one server.
struct Family {
    admin: Person,
    alice: Person,
    bob: Person,
    friend: i64,
}

fn family(s: &Server) -> Family {
    let admin = admin(s);
    let alice = user(s, &admin, "alice");
    let bob = user(s, &admin, "bob");
    let friend = bundle_id(s, &bob.token, "friend");
    Family {
        admin,
        alice,
        bob,
        friend,
    }
}

/// A server's settings: SMTP at `smtp_url`, mail from [`FROM`], and a fast retry (1 s after
/// the first failed attempt, doubling).
fn smtp_options(smtp_url: &str) -> Options {
    Options::default()
        .env("TESSERA_SMTP_URL", smtp_url)
        .env("TESSERA_MAIL_FROM", FROM)
        .env("TESSERA_MAIL_FIRST_RETRY_SECS", "1")
}

/// Asserts a `201` for a new request (its `Location` under `public_url`) and returns its
/// object.
#[track_caller]
fn created(public_url: &str, resp: &Resp) -> Value {
    resp.assert_status(201);
    resp.assert_json_type();
    let body = resp.json();
    let id = body["id"].as_i64().expect("id");
    assert_eq!(body["resource_uri"], format!("{REQUESTS}{id}/"), "{body}");
    assert_eq!(
        resp.header("location"),
        Some(format!("{public_url}{REQUESTS}{id}/")),
        "{body}"
    );
    assert_eq!(body["status"], "pending", "{body}");
    assert!(body["email_sent"].is_boolean(), "{body}");
    body
}

/// The request `id` as `who` reads it by id.
fn by_id(s: &Server, who: &Person, id: i64) -> Value {
    let resp = call(s, "GET", &format!("{REQUESTS}{id}/"), &who.token, None);
    resp.assert_status(200);
    resp.json()
}

/// Polls the request by id until `email_sent` is true.
fn wait_email_sent(s: &Server, who: &Person, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let request = by_id(s, who, id);
        if request["email_sent"] == true {
            return request;
        }
        assert!(
            Instant::now() < deadline,
            "email_sent stayed false: {request}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (up to `within`) until `count` messages arrived; all received.
fn wait_messages(smtp: &SmtpServer, count: usize, within: Duration) -> Vec<ReceivedMail> {
    let deadline = Instant::now() + within;
    loop {
        let got = smtp.messages();
        if got.len() >= count {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} messages arrived within {within:?}",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The messages received after a further [`QUIET`] period, to catch a second copy.
fn after_quiet(smtp: &SmtpServer) -> Vec<ReceivedMail> {
    std::thread::sleep(QUIET);
    smtp.messages()
}

/// The token of the default link `<public_url>/api/bundle_permission_request/<token>/`.
#[track_caller]
fn default_link_token(mail: &ReceivedMail, public_url: &str) -> String {
    link_token(&mail.lines(), &format!("{public_url}{REQUESTS}"), "/")
}

/// The token location of `token`.
fn token_path(token: &str) -> String {
    format!("{REQUESTS}{token}/")
}

/// `who` redeems `token` (an empty `PUT`); the answer.
fn redeem(s: &Server, who: &Person, token: &str) -> Resp {
    call(s, "PUT", &token_path(token), &who.token, None)
}

/// Asserts a redeem answer: `200` with the bundle permission (`bundle`, `allowed`, `target`)
/// and a `Location` pointing at it under `public_url`; the permission's id.
#[track_caller]
fn assert_redeemed(
    public_url: &str,
    resp: &Resp,
    bundle: i64,
    allowed: &Person,
    target: &Person,
) -> i64 {
    resp.assert_status(200);
    let permission = resp.json();
    let id = permission["id"].as_i64().expect("permission id");
    assert_eq!(permission["bundle"]["id"], bundle, "{permission}");
    assert_eq!(permission["user_allowed"]["id"], allowed.id, "{permission}");
    assert_eq!(permission["user_target"]["id"], target.id, "{permission}");
    assert_eq!(permission["name"], Value::Null, "{permission}");
    let uri = format!("/api/bundle_permission/{id}/");
    assert_eq!(permission["resource_uri"], uri.as_str(), "{permission}");
    assert_eq!(resp.header("location"), Some(format!("{public_url}{uri}")));
    id
}

/// The words of a line (runs of letters, digits and `_`).
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The instants `YYYY-MM-DDTHH:MM:SSZ` written in a line.
fn instants(line: &str) -> Vec<OffsetDateTime> {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    (0..line.len())
        .filter_map(|i| line.get(i..i + 20))
        .filter_map(|part| PrimitiveDateTime::parse(part, format).ok())
        .map(PrimitiveDateTime::assume_utc)
        .collect()
}

/// Where the parts §3 names are in a request e-mail's decoded body, checked in their order:
/// who asks, which bundle, the link, the once/signed-in notice, the expiry, the ignore
/// notice. Returns the lines before the bundle's name (the "who asks" part) and the expiry.
#[track_caller]
fn assert_body_order(
    lines: &[&str],
    asker: &Person,
    bundle: &str,
    description: &str,
    link: &str,
) -> (Vec<String>, OffsetDateTime) {
    let position = |from: usize, what: &str, found: &dyn Fn(&str) -> bool| -> usize {
        (from..lines.len())
            .find(|&i| found(lines[i]))
            .unwrap_or_else(|| panic!("no {what} at or after line {from} in {lines:?}"))
    };
    let who = position(0, "asker", &|l| {
        words(l).contains(&asker.username.as_str()) && l.contains(&asker.email)
    });
    let name = position(who + 1, "bundle name", &|l| words(l).contains(&bundle));
    let described = position(name, "bundle description", &|l| l.contains(description));
    let permissions = position(name, "permissions", &|l| words(l).contains(&"read"));
    let link_at = position(0, "link", &|l| l == link);
    assert!(
        described < link_at && permissions < link_at,
        "the bundle comes after the link: {lines:?}"
    );
    let once = position(link_at + 1, "works-once notice", &|l| {
        l.to_lowercase().contains("once")
    });
    let signed_in = position(link_at + 1, "signed-in notice", &|l| {
        l.to_lowercase().contains("signed in")
    });
    let expiry_at = position(once.max(signed_in), "expiry instant", &|l| {
        !instants(l).is_empty()
    });
    let ignore = position(expiry_at, "ignore notice", &|l| {
        l.to_lowercase().contains("ignore")
    });
    let rest = lines[ignore..].join(" ").to_lowercase();
    assert!(rest.contains("nothing changes"), "{lines:?}");
    let asking = lines[..name].iter().map(|l| (*l).to_owned()).collect();
    (asking, instants(lines[expiry_at])[0])
}

/// Asserts the envelope and headers of a request e-mail to `target` (§3).
#[track_caller]
fn assert_headers(mail: &ReceivedMail, target: &Person, subject: &str) {
    assert_eq!(mail.mail_from, FROM);
    assert_eq!(mail.rcpt_tos, [target.email.as_str()]);
    assert_eq!(mail.header("from"), Some(FROM), "{:?}", mail.headers);
    assert_eq!(
        mail.header("to"),
        Some(target.email.as_str()),
        "{:?}",
        mail.headers
    );
    assert_eq!(mail.header("subject"), Some(subject), "{:?}", mail.headers);
    assert_eq!(
        mail.header("mime-version"),
        Some("1.0"),
        "{:?}",
        mail.headers
    );
    for once in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
    ] {
        let n = mail
            .headers
            .iter()
            .filter(|(h, _)| h.eq_ignore_ascii_case(once))
            .count();
        assert_eq!(n, 1, "{once} appears {n} times: {:?}", mail.headers);
    }
    let date = mail.header("date").expect("Date");
    let date = OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822)
        .unwrap_or_else(|e| panic!("Date {date:?}: {e}"));
    let skew = (date - OffsetDateTime::now_utc()).abs();
    assert!(skew < time::Duration::minutes(5), "Date {date} is off");
    let message_id = mail.header("message-id").expect("Message-ID");
    assert!(
        message_id.starts_with('<') && message_id.ends_with('>') && message_id.contains('@'),
        "Message-ID {message_id:?}"
    );
    assert_eq!(
        (mail.content_type.as_str(), mail.multipart),
        ("text/plain", false),
        "{:?}",
        mail.headers
    );
    assert_eq!(
        mail.charset.as_deref().map(str::to_ascii_lowercase),
        Some("utf-8".to_owned())
    );
    if let Some(cte) = mail.header("content-transfer-encoding") {
        assert!(
            ["7bit", "8bit", "quoted-printable", "base64"].contains(&cte.to_lowercase().as_str()),
            "Content-Transfer-Encoding {cte:?}"
        );
    }
}

/// The seed's loop (§2.5, §3): bob asks alice over HTTP, the `201` already says the mail
/// went out, the mail is complete and in order, alice redeems the link once, and both see
/// the permission. One request, one message.
#[test]
fn the_request_mail_carries_a_link_that_alice_redeems_once() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&smtp.url()));
    let Family {
        admin,
        alice,
        bob,
        friend,
    } = family(&s);

    let before = OffsetDateTime::now_utc();
    let resp = ask(&s, &bob, friend, &bob, &alice, json!({}));
    let after = OffsetDateTime::now_utc();
    let request = created(&s.base, &resp);
    let id = request["id"].as_i64().unwrap();
    assert_eq!(request["email_sent"], true, "{request}");
    assert_eq!(request["redeem_url"], Value::Null, "{request}");
    assert_eq!(request["user_allowed"]["id"], bob.id, "{request}");
    assert_eq!(request["user_target"]["id"], alice.id, "{request}");
    assert_eq!(request["bundle"]["id"], friend, "{request}");
    let ttl = request["ttl"].as_i64().expect("ttl");
    assert!(
        (DEFAULT_TTL - 2..=DEFAULT_TTL).contains(&ttl),
        "ttl {ttl} is not the default"
    );
    // Handed to SMTP before the 201: the SMTP server has it already (it records a message
    // before it answers 250).
    let got = smtp.messages();
    assert_eq!(got.len(), 1, "the 201 came before the message was sent");
    let mail = &got[0];

    assert_headers(mail, &alice, "bob asks for access to your data (friend)");
    let lines = mail.lines();
    let token = default_link_token(mail, &s.base);
    let link = format!("{}{}", s.base, token_path(&token));
    let (asking, expiry) = assert_body_order(&lines, &bob, "friend", FRIEND_DESCRIPTION, &link);
    assert!(
        !asking.iter().any(|l| words(l).contains(&"admin")),
        "bob asked himself, yet the mail names an admin: {lines:?}"
    );
    // The expiry instant is the request's: created between `before` and `after`, with `ttl`
    // seconds left then.
    let expiry = expiry.unix_timestamp();
    assert!(
        (before.unix_timestamp() + ttl - 1..=after.unix_timestamp() + ttl + 1).contains(&expiry),
        "expiry {expiry} vs ttl {ttl} from {before} to {after}"
    );
    assert!(
        !resp.body.contains(&token),
        "the 201 carries the token: {}",
        resp.body
    );

    // The token location: alice reads the request; nobody else finds it.
    let read = call(&s, "GET", &token_path(&token), &alice.token, None);
    read.assert_status(200);
    assert_eq!(read.json()["id"], id, "{}", read.body);
    assert_eq!(read.json()["status"], "pending", "{}", read.body);
    for other in [&bob, &admin] {
        let resp = call(&s, "GET", &token_path(&token), &other.token, None);
        assert_eq!(resp.status, 404, "{}: {}", other.username, resp.body);
    }

    // Alice redeems it: the permission exists, both parties see it, and the token is spent.
    let resp = redeem(&s, &alice, &token);
    let permission = assert_redeemed(&s.base, &resp, friend, &bob, &alice);
    assert_eq!(
        resp.json()["bundle"]["permissions"],
        json!(["read"]),
        "{}",
        resp.body
    );
    for who in [&alice, &bob] {
        let list = call(&s, "GET", "/api/bundle_permission/", &who.token, None);
        list.assert_status(200);
        let listed: Vec<i64> = list.json()["objects"]
            .as_array()
            .expect("objects")
            .iter()
            .filter_map(|p| p["id"].as_i64())
            .collect();
        assert_eq!(listed, [permission], "{}: {}", who.username, list.body);
    }
    assert_eq!(redeem(&s, &alice, &token).status, 410);
    let request = by_id(&s, &bob, id);
    assert_eq!(
        (&request["status"], &request["ttl"], &request["email_sent"]),
        (&json!("redeemed"), &json!(0), &json!(true)),
        "{request}"
    );

    // Exactly one message for the one request: nothing sends it again.
    assert_eq!(after_quiet(&smtp).len(), 1);
}

/// §3: "when an admin created the request for someone else, also the admin's username".
#[test]
fn a_request_an_admin_makes_for_bob_names_the_admin_in_the_mail() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&smtp.url()));
    let f = family(&s);

    let resp = ask(&s, &f.admin, f.friend, &f.bob, &f.alice, json!({}));
    let request = created(&s.base, &resp);
    assert_eq!(request["email_sent"], true, "{request}");
    assert_eq!(request["user_allowed"]["id"], f.bob.id, "{request}");
    let got = smtp.messages();
    assert_eq!(got.len(), 1, "the 201 came before the message was sent");
    let mail = &got[0];
    assert_headers(mail, &f.alice, "bob asks for access to your data (friend)");
    let token = default_link_token(mail, &s.base);
    let link = format!("{}{}", s.base, token_path(&token));
    let (asking, _) = assert_body_order(&mail.lines(), &f.bob, "friend", FRIEND_DESCRIPTION, &link);
    assert!(
        asking
            .iter()
            .any(|l| words(l).contains(&f.admin.username.as_str())),
        "the admin's username is not among who asks: {asking:?}"
    );
    // The request is bob's all the same: alice's redeem gives bob the bundle.
    assert_redeemed(
        &s.base,
        &redeem(&s, &f.alice, &token),
        f.friend,
        &f.bob,
        &f.alice,
    );
}

/// §3 "Durable delivery": with nothing listening at the SMTP URL the request is stored and
/// answered `201` with `email_sent: false`; once an SMTP server listens there, the retry
/// delivers the message, once, with a working link, and `email_sent` becomes true.
#[test]
fn a_failed_first_attempt_is_retried_until_the_smtp_server_takes_the_message() {
    let port = free_port();
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&format!("smtp://127.0.0.1:{port}")));
    let f = family(&s);

    let request = created(
        &s.base,
        &ask(&s, &f.bob, f.friend, &f.bob, &f.alice, json!({})),
    );
    let id = request["id"].as_i64().unwrap();
    assert_eq!(request["email_sent"], false, "{request}");
    // Stored and valid: both parties read it, pending, its mail not sent yet.
    for who in [&f.bob, &f.alice] {
        let stored = by_id(&s, who, id);
        assert_eq!(
            (&stored["status"], &stored["email_sent"]),
            (&json!("pending"), &json!(false)),
            "{stored}"
        );
    }
    let listed = call(&s, "GET", REQUESTS, &f.bob.token, None);
    listed.assert_status(200);
    assert_eq!(listed.json()["meta"]["total_count"], 1, "{}", listed.body);
    // The failure is logged at warn with the request id.
    let log = s.log();
    let field = format!(" request={id} ");
    assert!(
        log.lines()
            .any(|l| l.contains(" WARN ") && l.contains(&field)),
        "no warning with{field}about the failed attempt: {log}"
    );

    let smtp = SmtpServer::start_on(port);
    let got = wait_messages(&smtp, 1, RETRY_WAIT);
    let mail = &got[0];
    assert_headers(mail, &f.alice, "bob asks for access to your data (friend)");
    let token = default_link_token(mail, &s.base);
    let request = wait_email_sent(&s, &f.bob, id);
    assert_eq!(request["status"], "pending", "{request}");
    assert_redeemed(
        &s.base,
        &redeem(&s, &f.alice, &token),
        f.friend,
        &f.bob,
        &f.alice,
    );
    assert_eq!(
        after_quiet(&smtp).len(),
        1,
        "the retry sent the message again"
    );
}

/// Sends SIGKILL to the server and waits until it is gone.
fn kill_9(s: &mut Server) {
    let status = Command::new("kill")
        .args(["-9", &s.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    // A death by a signal has no exit code; the server is reaped either way.
    s.wait_exit(Duration::from_secs(10));
    assert_eq!(s.get("/health").status, 0, "the server still answers");
}

/// §3: "A server that stops with queued messages sends them after it starts again", here
/// after SIGKILL (no shutdown code runs). The link is under the configured public URL.
#[test]
fn a_message_queued_when_the_server_was_killed_is_sent_once_after_a_restart() {
    let public_url = "https://id.example.test";
    let port = free_port();
    let db = TestDb::new();
    let options =
        smtp_options(&format!("smtp://127.0.0.1:{port}")).env("TESSERA_PUBLIC_URL", public_url);
    let mut first = Server::start_on(&db, options.clone());
    let f = family(&first);
    let request = created(
        public_url,
        &ask(&first, &f.bob, f.friend, &f.bob, &f.alice, json!({})),
    );
    let id = request["id"].as_i64().unwrap();
    assert_eq!(request["email_sent"], false, "{request}");
    kill_9(&mut first);
    drop(first);

    let smtp = SmtpServer::start_on(port);
    assert!(smtp.messages().is_empty());
    let s = Server::start_on(&db, options);
    let got = wait_messages(&smtp, 1, RETRY_WAIT);
    assert_headers(
        &got[0],
        &f.alice,
        "bob asks for access to your data (friend)",
    );
    let token = default_link_token(&got[0], public_url);
    let request = wait_email_sent(&s, &f.alice, id);
    assert_eq!(request["status"], "pending", "{request}");
    assert_redeemed(
        public_url,
        &redeem(&s, &f.alice, &token),
        f.friend,
        &f.bob,
        &f.alice,
    );
    assert_eq!(after_quiet(&smtp).len(), 1, "the message was sent twice");
}

/// §3: "with several nodes on PostgreSQL each queued message is claimed by one node at a
/// time": two servers on one database retry the same queue, and each request's message
/// arrives exactly once.
#[test]
fn two_nodes_on_postgresql_send_each_queued_message_once() {
    let db = TestDb::new();
    if !db.is_postgres() {
        eprintln!("two_nodes_on_postgresql_send_each_queued_message_once: PostgreSQL only (set TESSERA_TEST_DATABASE_URL)");
        return;
    }
    let public_url = "https://id.example.test";
    let port = free_port();
    let options =
        smtp_options(&format!("smtp://127.0.0.1:{port}")).env("TESSERA_PUBLIC_URL", public_url);
    let nodes = [
        Server::start_on(&db, options.clone()),
        Server::start_on(&db, options),
    ];
    let f = family(&nodes[0]);
    let targets: Vec<Person> = (0..10)
        .map(|i| user(&nodes[i % 2], &f.admin, &format!("target{i}")))
        .collect();
    let mut ids = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let s = &nodes[i % 2];
        let request = created(
            public_url,
            &ask(s, &f.bob, f.friend, &f.bob, target, json!({})),
        );
        assert_eq!(request["email_sent"], false, "{request}");
        ids.push(request["id"].as_i64().unwrap());
    }

    let smtp = SmtpServer::start_on(port);
    wait_messages(&smtp, targets.len(), RETRY_WAIT);
    let got = after_quiet(&smtp);
    let mut recipients: Vec<&str> = got.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
    recipients.sort_unstable();
    let mut expected: Vec<&str> = targets.iter().map(|t| t.email.as_str()).collect();
    expected.sort_unstable();
    assert_eq!(recipients, expected, "not one message per request");
    for (i, target) in targets.iter().enumerate() {
        let mail = got
            .iter()
            .find(|m| m.rcpt_tos == [target.email.as_str()])
            .unwrap();
        assert_eq!(mail.rcpt_tos.len(), 1);
        let token = default_link_token(mail, public_url);
        // Redeemed on the other node than the one that took the request.
        let s = &nodes[(i + 1) % 2];
        assert_redeemed(
            public_url,
            &redeem(s, target, &token),
            f.friend,
            &f.bob,
            target,
        );
        assert_eq!(redeem(&nodes[i % 2], target, &token).status, 410);
        wait_email_sent(s, &f.bob, ids[i]);
    }
}

/// §2.5 "Only the SHA-256 digest is stored. The token is never logged", and "The token
/// itself is never part of any API response": after one request was mailed and another
/// mailed and redeemed, no row, log line or answer holds either token.
#[test]
fn no_token_is_stored_logged_or_answered() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&smtp.url()));
    let f = family(&s);
    let mut answers: Vec<Resp> = Vec::new();
    // The redeem_url makes the request rows recognisable in the dump.
    let marker = format!("marker{}", uuid::Uuid::new_v4().simple());
    let redeem_url = format!("https://app.example.test/{marker}");

    let (mut tokens, mut ids) = (Vec::new(), Vec::new());
    for n in 0..2 {
        let resp = ask(
            &s,
            &f.bob,
            f.friend,
            &f.bob,
            &f.alice,
            json!({"redeem_url": redeem_url}),
        );
        let request = created(&s.base, &resp);
        assert_eq!(request["email_sent"], true, "{request}");
        ids.push(request["id"].as_i64().unwrap());
        answers.push(resp);
        let got = wait_messages(&smtp, n + 1, Duration::from_secs(20));
        tokens.push(link_token(
            &got[n].lines(),
            &format!("{redeem_url}?token="),
            "",
        ));
    }
    // The second one redeemed; every view of both requests and of the permission.
    answers.push(call(
        &s,
        "GET",
        &token_path(&tokens[1]),
        &f.alice.token,
        None,
    ));
    let redeemed = redeem(&s, &f.alice, &tokens[1]);
    assert_redeemed(&s.base, &redeemed, f.friend, &f.bob, &f.alice);
    answers.push(redeemed);
    answers.push(call(
        &s,
        "GET",
        &token_path(&tokens[0]),
        &f.alice.token,
        None,
    ));
    answers.push(redeem(&s, &f.alice, &tokens[1]));
    for who in [&f.alice, &f.bob, &f.admin] {
        answers.push(call(&s, "GET", REQUESTS, &who.token, None));
        answers.push(call(&s, "GET", "/api/bundle_permission/", &who.token, None));
        for id in &ids {
            answers.push(call(
                &s,
                "GET",
                &format!("{REQUESTS}{id}/"),
                &who.token,
                None,
            ));
        }
    }
    assert!(answers.iter().filter(|r| r.status == 200).count() >= 10);

    assert_ne!(tokens[0], tokens[1]);
    let dump = db.dump_text();
    assert!(
        dump.contains(&marker),
        "the dump does not hold the requests"
    );
    let log = s.log();
    for token in &tokens {
        assert!(
            !dump.contains(token.as_str()),
            "a token is stored in plaintext"
        );
        assert!(
            !log.contains(token.as_str()),
            "a token is in the log: {log}"
        );
        for resp in &answers {
            assert!(
                !resp.body.contains(token.as_str())
                    && !resp.headers.iter().any(|(_, v)| v.contains(token.as_str())),
                "an answer carries a token: {resp:?}"
            );
        }
    }
}

/// §3 and decision 8: with `redeem_url`, the link is `redeem_url?token=<token>`, or
/// `redeem_url&token=<token>` when the URL has a query already; the token is the one the
/// token location redeems.
#[test]
fn a_redeem_url_carries_the_token_as_a_query_parameter() {
    let smtp = SmtpServer::start();
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&smtp.url()));
    let f = family(&s);
    let coach = bundle_id(&s, &f.bob.token, "coach");
    let cases = [
        (f.friend, "https://app.example.test/accept", '?'),
        (coach, "https://app.example.test/accept?lang=en", '&'),
    ];
    for (n, (bundle, redeem_url, joiner)) in cases.into_iter().enumerate() {
        let resp = ask(
            &s,
            &f.bob,
            bundle,
            &f.bob,
            &f.alice,
            json!({"redeem_url": redeem_url}),
        );
        let request = created(&s.base, &resp);
        assert_eq!(request["email_sent"], true, "{request}");
        assert_eq!(request["redeem_url"], redeem_url, "{request}");
        let got = wait_messages(&smtp, n + 1, Duration::from_secs(20));
        let lines = got[n].lines();
        assert!(
            !lines.iter().any(|l| l.contains(REQUESTS)),
            "the token location is in the mail too: {lines:?}"
        );
        let token = link_token(&lines, &format!("{redeem_url}{joiner}token="), "");
        assert_redeemed(
            &s.base,
            &redeem(&s, &f.alice, &token),
            bundle,
            &f.bob,
            &f.alice,
        );
    }
}

/// §3: without `TESSERA_SMTP_URL` the message is one whole `.eml` file in
/// `TESSERA_OUTBOX_DIR`, written before the `201` (which says `email_sent: true`); its link
/// redeems.
#[test]
fn without_an_smtp_server_the_message_is_a_whole_eml_file_in_the_outbox() {
    let db = TestDb::new();
    let mut outbox = Outbox::new();
    let options = Options::default()
        .env("TESSERA_OUTBOX_DIR", &outbox.setting())
        .env("TESSERA_MAIL_FROM", FROM)
        .env("TESSERA_MAIL_FIRST_RETRY_SECS", "1");
    let s = Server::start_on(&db, options);
    let f = family(&s);
    let request = created(
        &s.base,
        &ask(&s, &f.bob, f.friend, &f.bob, &f.alice, json!({})),
    );
    assert_eq!(request["email_sent"], true, "{request}");

    // Written before the 201, whole: one `.eml` and no temporary file.
    let files = outbox.files();
    assert_eq!(files.len(), 1, "{files:?} in {}", outbox.dir.display());
    assert!(
        files[0].ends_with(".eml") && !files[0].starts_with('.'),
        "{files:?}"
    );
    let mail = outbox.next_mail();
    assert_eq!(mail.header("to"), Some("alice@test.com"), "{mail:?}");
    assert_eq!(mail.header("from"), Some(FROM), "{mail:?}");
    assert_eq!(
        mail.header("subject"),
        Some("bob asks for access to your data (friend)"),
        "{mail:?}"
    );
    assert_eq!(mail.header("mime-version"), Some("1.0"), "{mail:?}");
    assert_eq!(
        (
            mail.content_type.as_str(),
            mail.charset.as_str(),
            mail.multipart
        ),
        ("text/plain", "utf-8", false),
        "{mail:?}"
    );
    assert!(
        mail.header("date").is_some() && mail.header("message-id").is_some(),
        "{mail:?}"
    );
    let token = token_in(&mail.lines(), &s.base);
    assert_redeemed(
        &s.base,
        &redeem(&s, &f.alice, &token),
        f.friend,
        &f.bob,
        &f.alice,
    );
    std::thread::sleep(QUIET);
    assert_eq!(outbox.files().len(), 1, "the message was written again");
}

/// A `TESSERA_SMTP_URL` that is not `smtp[s]://host[:port]` stops the start: exit code 2 and
/// one line naming the setting.
#[test]
fn an_smtp_url_of_another_form_stops_the_start_with_one_line() {
    let db = TestDb::new();
    for url in [
        "http://127.0.0.1:25",
        "smtp://user@host:25",
        "smtp://host:99999",
        "smtp://relay:s3cret-pw@host:99999",
    ] {
        let options = Options::default().env("TESSERA_SMTP_URL", url);
        let error = Server::try_start_on(&db, options)
            .err()
            .unwrap_or_else(|| panic!("{url} was accepted"));
        let log = error
            .strip_prefix("exited with exit status: 2: ")
            .unwrap_or_else(|| panic!("{url}: not exit code 2: {error}"));
        assert_eq!(log.trim().lines().count(), 1, "{url}: {log}");
        assert!(log.starts_with("tessera: TESSERA_SMTP_URL"), "{url}: {log}");
        assert!(!log.contains("s3cret-pw"), "the password is shown: {log}");
    }
}

#[test]
fn an_smtp_relay_that_requires_auth_gets_the_user_and_password_of_the_url() {
    let smtp = SmtpServer::start_with_auth("relay@test.com", "p:ss w0rd");
    let url =
        |password: &str| format!("smtp://relay%40test.com:{password}@127.0.0.1:{}", smtp.port);

    // The right password (percent-encoded in the URL): the first attempt is delivered.
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&url("p%3Ass%20w0rd")));
    let f = family(&s);
    let request = created(
        &s.base,
        &ask(&s, &f.bob, f.friend, &f.bob, &f.alice, json!({})),
    );
    assert_eq!(request["email_sent"], true, "{request}");
    let got = wait_messages(&smtp, 1, Duration::from_secs(20));
    assert_eq!(got[0].rcpt_tos, ["alice@test.com"]);
    let token = default_link_token(&got[0], &s.base);
    assert_redeemed(
        &s.base,
        &redeem(&s, &f.alice, &token),
        f.friend,
        &f.bob,
        &f.alice,
    );
    assert!(!s.log().contains("p:ss w0rd") && !s.log().contains("p%3Ass"));

    // A wrong password: the relay refuses, the request stays queued and says so.
    let db = TestDb::new();
    let s = Server::start_on(&db, smtp_options(&url("wrong")));
    let f = family(&s);
    let request = created(
        &s.base,
        &ask(&s, &f.bob, f.friend, &f.bob, &f.alice, json!({})),
    );
    assert_eq!(request["email_sent"], false, "{request}");
    assert_eq!(
        smtp.messages().len(),
        1,
        "a refused login delivered a message"
    );
    assert!(
        s.log().contains("e-mail not sent; it will be retried"),
        "{}",
        s.log()
    );
}
