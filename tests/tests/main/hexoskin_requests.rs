//! `/api/bundle_permission_request/` over HTTP (hexoskin-bundles.md §2.5 and decisions 4.1,
//! 4.4–4.8, 4.14): creating a request, its validation and who may ask; the list; the by-id
//! location; and the token location, whose token only the e-mail carries. Every server
//! writes its mail to an `.eml` outbox, from which the tests read the link.
//!
//! Every response a test receives goes through [`Setup::checked`], which fails the test if
//! it (body or headers) contains any request token seen so far in a mail, or if a token
//! later found in a mail was in an earlier response: "the token is never part of any API
//! response".

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_tests::hexoskin::{
    self, admin, assert_error, assert_not_found, assert_plain_error, assert_unauthenticated,
    bundle_id, bundle_uri, ids, link_token, token_in, user, Eml, Outbox, Person,
};
use tessera_tests::{json, keys, sorted, Options, Resp, Server, TestDb};

const LIST: &str = "/api/bundle_permission_request/";
const DEFAULT_TTL: i64 = 604_800;
const MAX_TTL: i64 = 2_592_000;
const REQUEST_FIELDS: [&str; 9] = [
    "bundle",
    "email_sent",
    "id",
    "redeem_url",
    "resource_uri",
    "status",
    "ttl",
    "user_allowed",
    "user_target",
];
const PERMISSION_FIELDS: [&str; 6] = [
    "bundle",
    "id",
    "name",
    "resource_uri",
    "user_allowed",
    "user_target",
];

// ---------------------------------------------------------------------------------------
// One server with its people

/// A server writing to its own outbox; the bootstrap admin; alice (asked), bob (asks),
/// carol (a third party); the shipped bundles `friend` and `coach`.
struct Setup {
    s: Server,
    _db: TestDb,
    outbox: RefCell<Outbox>,
    admin: Person,
    alice: Person,
    bob: Person,
    carol: Person,
    friend: i64,
    coach: i64,
    /// Every token read from a mail.
    tokens: RefCell<Vec<String>>,
    /// Every response received, as text (headers and body).
    seen: RefCell<Vec<String>>,
}

fn setup() -> Setup {
    let db = TestDb::new();
    let outbox = Outbox::new();
    let options = Options::default().env("TESSERA_OUTBOX_DIR", &outbox.dir.to_string_lossy());
    let s = Server::start_on(&db, options);
    let admin = admin(&s);
    let alice = user(&s, &admin, "alice");
    let bob = user(&s, &admin, "bob");
    let carol = user(&s, &admin, "carol");
    let friend = bundle_id(&s, &alice.token, "friend");
    let coach = bundle_id(&s, &alice.token, "coach");
    Setup {
        s,
        _db: db,
        outbox: RefCell::new(outbox),
        admin,
        alice,
        bob,
        carol,
        friend,
        coach,
        tokens: RefCell::new(Vec::new()),
        seen: RefCell::new(Vec::new()),
    }
}

/// `/api/bundle_permission_request/<id>/`.
fn by_id(id: i64) -> String {
    format!("{LIST}{id}/")
}

/// `/api/bundle_permission_request/<token>/`.
fn at(token: &str) -> String {
    format!("{LIST}{token}/")
}

impl Setup {
    /// Records a response and fails if it carries a known token.
    fn checked(&self, resp: Resp) -> Resp {
        let text = format!("{:?}\n{}", resp.headers, resp.body);
        for token in self.tokens.borrow().iter() {
            assert!(
                !text.contains(token.as_str()),
                "a response carries a request token: {text}"
            );
        }
        self.seen.borrow_mut().push(text);
        resp
    }

    /// A token read from a mail: no response so far may have carried it.
    fn learn(&self, token: &str) {
        for text in self.seen.borrow().iter() {
            assert!(
                !text.contains(token),
                "a response carried a request token: {text}"
            );
        }
        self.tokens.borrow_mut().push(token.to_owned());
    }

    fn call(&self, method: &str, path: &str, who: &Person, body: Option<&Value>) -> Resp {
        self.checked(hexoskin::call(&self.s, method, path, &who.token, body))
    }

    /// A call without credentials.
    fn anon(&self, method: &str, path: &str) -> Resp {
        self.checked(self.s.request(method, path).send())
    }

    fn get(&self, path: &str, who: &Person) -> Resp {
        self.call("GET", path, who, None)
    }

    fn ask(
        &self,
        by: &Person,
        bundle: i64,
        allowed: &Person,
        target: &Person,
        extra: Value,
    ) -> Resp {
        self.checked(hexoskin::ask(&self.s, by, bundle, allowed, target, extra))
    }

    /// POSTs `body` as `by`.
    fn post(&self, by: &Person, body: &Value) -> Resp {
        self.call("POST", LIST, by, Some(body))
    }

    /// The next mail, whose token is remembered.
    fn mail(&self) -> Eml {
        self.outbox.borrow_mut().next_mail()
    }

    /// The token of the next mail's default link.
    fn mail_token(&self) -> String {
        let mail = self.mail();
        let token = token_in(&mail.lines(), &self.s.base);
        self.learn(&token);
        token
    }

    fn assert_no_mail(&self) {
        self.outbox.borrow().assert_nothing_new();
    }

    /// `by` asks `target` to grant `allowed` the bundle: asserts 201; the request object and
    /// the token of its mail.
    fn create(
        &self,
        by: &Person,
        bundle: i64,
        allowed: &Person,
        target: &Person,
        extra: Value,
    ) -> (Value, String) {
        let resp = self.ask(by, bundle, allowed, target, extra);
        assert_eq!(resp.status, 201, "{}", resp.body);
        (resp.json(), self.mail_token())
    }

    /// bob asks alice for `friend`: the request's id and token.
    fn bob_asks_alice(&self) -> (i64, String) {
        let (body, token) = self.create(&self.bob, self.friend, &self.bob, &self.alice, json!({}));
        (body["id"].as_i64().expect("id"), token)
    }

    /// The request by id, as `who` (asserts 200).
    fn request(&self, id: i64, who: &Person) -> Value {
        let resp = self.get(&by_id(id), who);
        assert_eq!(resp.status, 200, "{}", resp.body);
        resp.json()
    }

    /// A list answer (asserts 200).
    fn list(&self, query: &str, who: &Person) -> Value {
        let resp = self.get(&format!("{LIST}{query}"), who);
        assert_eq!(resp.status, 200, "{query}: {}", resp.body);
        resp.assert_json_type();
        resp.json()
    }

    /// The ids of `who`'s bundle permissions.
    fn permission_ids(&self, who: &Person) -> Vec<i64> {
        let resp = self.get("/api/bundle_permission/?limit=0", who);
        assert_eq!(resp.status, 200, "{}", resp.body);
        ids(&resp.json())
    }

    /// The user object of `p` as the family embeds it.
    fn user_object(&self, p: &Person) -> Value {
        json!({
            "id": p.id,
            "username": p.username,
            "email": p.email,
            "first_name": "",
            "last_name": "",
            "resource_uri": p.uri(),
        })
    }

    fn friend_object(&self) -> Value {
        json!({
            "id": self.friend,
            "name": "friend",
            "description": "Friends and relatives: may view the target's data",
            "permissions": ["read"],
            "resource_uri": bundle_uri(self.friend),
        })
    }

    fn coach_object(&self) -> Value {
        json!({
            "id": self.coach,
            "name": "coach",
            "description": "Coach: may view the athlete's data",
            "permissions": ["read"],
            "resource_uri": bundle_uri(self.coach),
        })
    }

    /// Polls the request (as its user_allowed `who`) until it is expired (at most 5 s).
    fn wait_expired(&self, id: i64, who: &Person) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r = self.request(id, who);
            if r["status"] == "expired" {
                return r;
            }
            assert_eq!(r["status"], "pending", "{r}");
            assert!(Instant::now() < deadline, "still pending: {r}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Assertions

/// A field-error 400 of this resource with exactly `fields`.
#[track_caller]
fn assert_fields(resp: &Resp, fields: &[&str]) {
    hexoskin::assert_fields(resp, "bundle_permission_request", fields);
}

/// A 405 whose `Allow` lists every method of `allowed` and none of `refused`.
#[track_caller]
fn assert_not_allowed(resp: &Resp, allowed: &[&str], refused: &[&str]) {
    assert_error(resp, 405);
    let allow = resp
        .header("allow")
        .unwrap_or_else(|| panic!("405 without Allow: {resp:?}"));
    let methods: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .collect();
    for m in allowed {
        assert!(methods.iter().any(|x| x == m), "Allow: {allow}");
    }
    for m in refused {
        assert!(!methods.iter().any(|x| x == m), "Allow: {allow}");
    }
}

/// The object without its `ttl` (which counts down between two reads).
fn without_ttl(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().expect("an object").remove("ttl");
    v
}

/// Path and query parameters of a relative URI.
fn split_uri(uri: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("a query");
    (path.to_owned(), params.into_iter().collect())
}

#[track_caller]
fn assert_link(link: &Value, params: &[(&str, &str)]) {
    let (path, query) = split_uri(link.as_str().unwrap_or_else(|| panic!("no link: {link}")));
    assert_eq!(path, LIST);
    let expected: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(query, expected, "{link}");
}

// ---------------------------------------------------------------------------------------
// Create

#[test]
fn a_created_request_is_201_with_its_absolute_location_and_the_full_object() {
    let w = setup();
    let resp = w.ask(&w.bob, w.friend, &w.bob, &w.alice, json!({}));
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.assert_json_type();
    let body = resp.json();
    assert_eq!(keys(&body), sorted(&REQUEST_FIELDS), "{body}");
    let id = body["id"].as_i64().expect("an integer id");
    assert!(id > 0);
    assert_eq!(body["resource_uri"], by_id(id));
    assert_eq!(
        resp.header("location"),
        Some(format!("{}{}", w.s.base, by_id(id)))
    );
    assert_eq!(body["bundle"], w.friend_object());
    assert_eq!(body["user_allowed"], w.user_object(&w.bob));
    assert_eq!(body["user_target"], w.user_object(&w.alice));
    assert_eq!(body["redeem_url"], Value::Null);
    assert_eq!(body["status"], "pending");
    assert_eq!(body["email_sent"], true, "{body}");
    let ttl = body["ttl"].as_i64().expect("an integer ttl");
    assert!((DEFAULT_TTL - 1..=DEFAULT_TTL).contains(&ttl), "{ttl}");

    // One mail, to alice, with the default link (decision 8).
    let mail = w.mail();
    assert_eq!(mail.header("to"), Some("alice@test.com"));
    let token = token_in(&mail.lines(), &w.s.base);
    w.learn(&token);
    w.assert_no_mail();

    // The stored object reads back the same, with or without the final slash and with
    // format=json, and the token works at its location.
    for path in [
        by_id(id),
        format!("{LIST}{id}"),
        format!("{}?format=json", by_id(id)),
    ] {
        let resp = w.get(&path, &w.bob);
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
        resp.assert_json_type();
        assert_eq!(without_ttl(&resp.json()), without_ttl(&body), "{path}");
    }
    let resp = w.get(&at(&token), &w.alice);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["id"], id);

    // Read-only and unknown fields are ignored on input (§1.3).
    let (other, _) = w.create(
        &w.bob,
        w.coach,
        &w.bob,
        &w.alice,
        json!({
            "id": 4242,
            "resource_uri": "/api/bundle_permission_request/4242/",
            "status": "redeemed",
            "email_sent": false,
            "token": "A".repeat(43),
            "colour": "blue",
        }),
    );
    assert_ne!(other["id"], 4242);
    assert_eq!(other["resource_uri"], by_id(other["id"].as_i64().unwrap()));
    assert_eq!(other["status"], "pending");
    assert_eq!(other["email_sent"], true);
    assert_eq!(keys(&other), sorted(&REQUEST_FIELDS));
}

#[test]
fn missing_fields_and_unresolvable_references_are_reported_together() {
    let w = setup();
    assert_fields(
        &w.post(&w.bob, &json!({})),
        &["bundle", "user_allowed", "user_target"],
    );
    assert_fields(
        &w.post(
            &w.bob,
            &json!({"bundle": null, "user_allowed": null, "user_target": null}),
        ),
        &["bundle", "user_allowed", "user_target"],
    );
    // References in each accepted form that name nothing.
    assert_fields(
        &w.post(
            &w.bob,
            &json!({
                "bundle": "/api/bundle/999999/",
                "user_allowed": "nobody@test.com",
                "user_target": "/api/user/999999/",
            }),
        ),
        &["bundle", "user_allowed", "user_target"],
    );
    assert_fields(
        &w.post(
            &w.bob,
            &json!({"bundle": 999999, "user_allowed": "999998", "user_target": 999999}),
        ),
        &["bundle", "user_allowed", "user_target"],
    );
    // A reference to an object of another resource does not resolve.
    assert_fields(
        &w.post(
            &w.bob,
            &json!({
                "bundle": w.bob.uri(),
                "user_allowed": w.bob.uri(),
                "user_target": bundle_uri(w.friend),
            }),
        ),
        &["bundle", "user_target"],
    );
    // One bad reference among good ones is reported alone.
    assert_fields(
        &w.ask(
            &w.bob,
            w.friend,
            &w.bob,
            &w.alice,
            json!({"user_target": "ALICE@test.org"}),
        ),
        &["user_target"],
    );
    // Every kind of problem of one body together.
    assert_fields(
        &w.post(
            &w.bob,
            &json!({
                "user_allowed": "/api/user/999999/",
                "user_target": "nobody@test.com",
                "ttl": "60",
                "redeem_url": "ftp://app.example/accept",
            }),
        ),
        &["bundle", "redeem_url", "ttl", "user_allowed", "user_target"],
    );
    // Not a JSON object at all.
    for raw in ["[]", "\"x\"", "{", "not json"] {
        let resp = w.checked(
            w.s.request("POST", LIST)
                .bearer(&w.bob.token)
                .header("Content-Type", "application/json")
                .raw(raw.as_bytes().to_vec())
                .send(),
        );
        assert_error(&resp, 400);
    }
    // Nothing was stored or sent.
    w.assert_no_mail();
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 0);
}

#[test]
fn user_target_and_user_allowed_must_differ() {
    let w = setup();
    // The same person named two ways (decision 7).
    assert_fields(
        &w.post(
            &w.bob,
            &json!({
                "bundle": bundle_uri(w.friend),
                "user_allowed": w.bob.uri(),
                "user_target": "BOB@Test.com",
            }),
        ),
        &["user_target"],
    );
    assert_fields(
        &w.post(
            &w.admin,
            &json!({"bundle": w.friend, "user_allowed": w.alice.id, "user_target": w.alice.uri()}),
        ),
        &["user_target"],
    );
    w.assert_no_mail();
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 0);
}

#[test]
fn users_and_bundles_are_named_by_uri_id_digit_string_absolute_url_or_email() {
    let w = setup();
    let check = |resp: Resp, bundle: Value| {
        assert_eq!(resp.status, 201, "{}", resp.body);
        let body = resp.json();
        assert_eq!(body["bundle"], bundle);
        assert_eq!(body["user_allowed"], w.user_object(&w.bob));
        assert_eq!(body["user_target"], w.user_object(&w.alice));
        w.mail_token();
    };
    check(
        w.post(
            &w.bob,
            &json!({"bundle": w.friend, "user_allowed": "BOB@Test.COM", "user_target": w.alice.id}),
        ),
        w.friend_object(),
    );
    check(
        w.post(
            &w.bob,
            &json!({
                "bundle": format!("{}{}", w.s.base, bundle_uri(w.coach)),
                "user_allowed": format!("{}{}", w.s.base, w.bob.uri()),
                "user_target": w.alice.id.to_string(),
            }),
        ),
        w.coach_object(),
    );
    check(
        w.post(
            &w.bob,
            &json!({
                "bundle": bundle_uri(w.friend),
                "user_allowed": w.bob.id,
                "user_target": "alice@test.com",
            }),
        ),
        w.friend_object(),
    );
    assert_eq!(ids(&w.list("", &w.bob)).len(), 3);
}

#[test]
fn ttl_is_an_integer_from_1_to_2592000_and_defaults_to_604800() {
    let w = setup();
    for bad in [
        json!("60"),
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(-604800),
        json!(MAX_TTL + 1),
        json!(1.5),
        json!(604800.5),
        json!([60]),
        json!({"seconds": 60}),
    ] {
        let resp = w.ask(&w.bob, w.friend, &w.bob, &w.alice, json!({ "ttl": bad }));
        assert_fields(&resp, &["ttl"]);
    }
    w.assert_no_mail();
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 0);

    for (ttl, range) in [
        (json!(null), DEFAULT_TTL - 1..=DEFAULT_TTL),
        (json!(1), 0..=1),
        (json!(60), 59..=60),
        (json!(MAX_TTL), MAX_TTL - 1..=MAX_TTL),
    ] {
        let (body, _) = w.create(&w.bob, w.friend, &w.bob, &w.alice, json!({ "ttl": ttl }));
        let got = body["ttl"].as_i64().expect("an integer ttl");
        assert!(range.contains(&got), "ttl {ttl}: {got}");
        let id = body["id"].as_i64().unwrap();
        let read = w.request(id, &w.alice)["ttl"].as_i64().unwrap();
        assert!(
            read <= got && read >= range.start() - 2,
            "ttl {ttl}: {read}"
        );
    }
}

#[test]
fn redeem_url_is_an_absolute_http_url_without_fragment_of_at_most_2048_characters() {
    let w = setup();
    let longest = format!("https://app.example/{}", "a".repeat(2048 - 20));
    assert_eq!(longest.len(), 2048);
    let too_long = format!("{longest}b");
    for bad in [
        json!("ftp://app.example/accept"),
        json!("mailto:alice@test.com"),
        json!("javascript:alert(1)"),
        json!("/accept"),
        json!("accept"),
        json!("app.example/accept"),
        json!("https://"),
        json!("https://app.example/accept#top"),
        json!("https://app.example/accept?x=1#"),
        json!(too_long),
        json!(42),
        json!(true),
        json!(["https://app.example/accept"]),
    ] {
        let resp = w.ask(
            &w.bob,
            w.friend,
            &w.bob,
            &w.alice,
            json!({ "redeem_url": bad }),
        );
        assert_fields(&resp, &["redeem_url"]);
    }
    w.assert_no_mail();
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 0);

    // "" and null mean none: the link is the token location.
    for none in [json!(""), json!(null)] {
        let (body, token) = w.create(
            &w.bob,
            w.friend,
            &w.bob,
            &w.alice,
            json!({ "redeem_url": none }),
        );
        assert_eq!(body["redeem_url"], Value::Null, "{none}");
        assert_eq!(w.get(&at(&token), &w.alice).status, 200);
    }
    for good in ["http://app.example/accept", longest.as_str()] {
        let resp = w.ask(
            &w.bob,
            w.friend,
            &w.bob,
            &w.alice,
            json!({ "redeem_url": good }),
        );
        assert_eq!(resp.status, 201, "{}", resp.body);
        assert_eq!(resp.json()["redeem_url"], good);
        let mail = w.mail();
        let token = link_token(&mail.lines(), &format!("{good}?token="), "");
        w.learn(&token);
        let resp = w.get(&at(&token), &w.alice);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json()["redeem_url"], good);
    }
}

#[test]
fn only_the_user_allowed_or_an_admin_may_ask_and_the_body_is_checked_first() {
    let w = setup();
    // Valid bodies from the target or a third party: 403 (decision 1); nothing is sent.
    for by in [&w.alice, &w.carol] {
        let resp = w.ask(by, w.friend, &w.bob, &w.alice, json!({}));
        assert_plain_error(&resp, 403, None);
    }
    w.assert_no_mail();
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 0);

    // An invalid body is 400 whoever sends it.
    for by in [&w.alice, &w.carol] {
        assert_fields(
            &w.ask(by, w.friend, &w.bob, &w.alice, json!({"ttl": 0})),
            &["ttl"],
        );
        assert_fields(
            &w.post(
                by,
                &json!({"user_allowed": w.bob.uri(), "user_target": w.alice.uri()}),
            ),
            &["bundle"],
        );
        assert_fields(
            &w.ask(by, w.friend, &w.bob, &w.bob, json!({})),
            &["user_target"],
        );
    }
    w.assert_no_mail();

    // The user_allowed itself, and an admin on someone's behalf.
    let (own, _) = w.create(&w.bob, w.friend, &w.bob, &w.alice, json!({}));
    let (on_behalf, _) = w.create(&w.admin, w.coach, &w.bob, &w.alice, json!({}));
    assert_eq!(on_behalf["user_allowed"], w.user_object(&w.bob));
    assert_eq!(on_behalf["user_target"], w.user_object(&w.alice));
    assert_eq!(on_behalf["bundle"], w.coach_object());
    // bob takes part in both; the admin's request is bob's like his own.
    assert_eq!(
        ids(&w.list("", &w.bob)),
        [
            own["id"].as_i64().unwrap(),
            on_behalf["id"].as_i64().unwrap()
        ]
    );
    assert_eq!(w.list("", &w.admin)["meta"]["total_count"], 2);
    w.assert_no_mail();
}

// ---------------------------------------------------------------------------------------
// Authentication and methods

#[test]
fn calls_without_valid_credentials_are_401() {
    let w = setup();
    let (id, token) = w.bob_asks_alice();
    let body = json!({
        "bundle": bundle_uri(w.friend),
        "user_allowed": w.bob.uri(),
        "user_target": w.alice.uri(),
    });
    let calls = [
        ("GET", LIST.to_owned()),
        ("POST", LIST.to_owned()),
        ("GET", by_id(id)),
        ("DELETE", by_id(id)),
        ("GET", at(&token)),
        ("PUT", at(&token)),
        ("DELETE", at(&token)),
    ];
    for (method, path) in &calls {
        let resp = w.checked(w.s.request(method, path).json(&body).send());
        assert_unauthenticated(&resp);
        for credential in ["not-a-token", &format!("{}x", w.alice.token), ""] {
            let resp = w.checked(
                w.s.request(method, path)
                    .bearer(credential)
                    .json(&body)
                    .send(),
            );
            assert_unauthenticated(&resp);
        }
        // Another scheme is no credential either.
        let resp = w.checked(
            w.s.request(method, path)
                .basic("alice@test.com", "alice-password")
                .json(&body)
                .send(),
        );
        assert_unauthenticated(&resp);
    }
    // Nothing happened: no new request or mail, the request is still pending.
    w.assert_no_mail();
    assert_eq!(ids(&w.list("", &w.admin)), [id]);
    let resp = w.get(&at(&token), &w.alice);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["status"], "pending");
}

/// §1.2: a call without valid credentials is 401, whatever its body (only 405 comes before
/// authentication, §1.5); a malformed body must not be looked at first.
#[test]
fn authentication_comes_before_the_body() {
    let w = setup();
    for raw in ["", "not json", "[]", "{"] {
        let resp = w.checked(
            w.s.request("POST", LIST)
                .header("Content-Type", "application/json")
                .raw(raw.as_bytes().to_vec())
                .send(),
        );
        assert_unauthenticated(&resp);
        let resp = w.checked(
            w.s.request("POST", LIST)
                .bearer("not-a-token")
                .header("Content-Type", "application/json")
                .raw(raw.as_bytes().to_vec())
                .send(),
        );
        assert_unauthenticated(&resp);
    }
    w.assert_no_mail();
}

#[test]
fn other_methods_are_405_with_allow_before_authentication() {
    let w = setup();
    let (id, token) = w.bob_asks_alice();
    let bogus = "x".repeat(43);
    // PUT on an id: redeeming goes through the token location (§2.5).
    for path in [by_id(id), by_id(999_999), format!("{LIST}{id}")] {
        assert_not_allowed(&w.anon("PUT", &path), &["GET", "DELETE"], &["PUT", "POST"]);
        assert_not_allowed(
            &w.call("PUT", &path, &w.alice, Some(&json!({}))),
            &["GET", "DELETE"],
            &["PUT", "POST"],
        );
        assert_not_allowed(
            &w.checked(w.s.request("PUT", &path).bearer(&bogus).send()),
            &["GET", "DELETE"],
            &["PUT", "POST"],
        );
    }
    for method in ["PUT", "PATCH", "DELETE"] {
        assert_not_allowed(&w.anon(method, LIST), &["GET", "POST"], &["PUT", "DELETE"]);
        assert_not_allowed(
            &w.call(method, LIST, &w.admin, Some(&json!({}))),
            &["GET", "POST"],
            &["PUT", "DELETE"],
        );
    }
    for path in [at(&token), at(&bogus)] {
        for method in ["POST", "PATCH"] {
            assert_not_allowed(&w.anon(method, &path), &["GET", "PUT", "DELETE"], &["POST"]);
            assert_not_allowed(
                &w.call(method, &path, &w.alice, Some(&json!({}))),
                &["GET", "PUT", "DELETE"],
                &["POST"],
            );
        }
    }
    // The request is untouched and no permission was made.
    let r = w.request(id, &w.bob);
    assert_eq!(r["status"], "pending");
    assert!(w.permission_ids(&w.alice).is_empty());
}

/// §1.5: the by-id view allows GET and DELETE only, so every other method's `Allow` says so
/// (PUT is not allowed there either).
#[test]
fn post_and_patch_on_a_request_id_allow_only_get_and_delete() {
    let w = setup();
    let (id, _) = w.bob_asks_alice();
    for path in [by_id(id), by_id(999_999), format!("{LIST}{id}")] {
        for method in ["POST", "PATCH"] {
            assert_not_allowed(&w.anon(method, &path), &["GET", "DELETE"], &["PUT", "POST"]);
            assert_not_allowed(
                &w.call(method, &path, &w.bob, Some(&json!({}))),
                &["GET", "DELETE"],
                &["PUT", "POST"],
            );
        }
    }
    assert_eq!(w.request(id, &w.bob)["status"], "pending");
}

// ---------------------------------------------------------------------------------------
// List

#[test]
fn the_list_holds_the_callers_requests_in_every_status() {
    let w = setup();
    let (r1, _) = w.bob_asks_alice();
    let (b2, t2) = w.create(&w.carol, w.coach, &w.carol, &w.alice, json!({}));
    let r2 = b2["id"].as_i64().unwrap();
    let (b3, t3) = w.create(&w.carol, w.friend, &w.carol, &w.bob, json!({"ttl": 1}));
    let r3 = b3["id"].as_i64().unwrap();
    let (b4, _) = w.create(&w.bob, w.coach, &w.bob, &w.carol, json!({}));
    let r4 = b4["id"].as_i64().unwrap();
    assert_eq!(w.call("PUT", &at(&t2), &w.alice, None).status, 200);
    w.wait_expired(r3, &w.carol);

    let status = |list: &Value| -> Vec<(i64, String, i64)> {
        list["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                assert_eq!(keys(o), sorted(&REQUEST_FIELDS), "{o}");
                (
                    o["id"].as_i64().unwrap(),
                    o["status"].as_str().unwrap().to_owned(),
                    o["ttl"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    for (who, expected) in [
        (&w.alice, vec![r1, r2]),
        (&w.bob, vec![r1, r3, r4]),
        (&w.carol, vec![r2, r3, r4]),
        (&w.admin, vec![r1, r2, r3, r4]),
    ] {
        let list = w.list("", who);
        assert_eq!(ids(&list), expected, "{}", who.username);
        assert_eq!(keys(&list), sorted(&["meta", "objects"]));
        let meta = &list["meta"];
        assert_eq!(meta["total_count"], expected.len(), "{}", who.username);
        assert_eq!(meta["limit"], 20);
        assert_eq!(meta["offset"], 0);
        assert_eq!(meta["next"], Value::Null);
        assert_eq!(meta["previous"], Value::Null);
        for (id, st, ttl) in status(&list) {
            match id {
                i if i == r1 || i == r4 => {
                    assert_eq!(st, "pending");
                    assert!(ttl > DEFAULT_TTL - 60, "{ttl}");
                }
                i if i == r2 => assert_eq!((st.as_str(), ttl), ("redeemed", 0)),
                _ => assert_eq!((st.as_str(), ttl), ("expired", 0)),
            }
        }
    }
    // The object in the list is the one by id.
    let list = w.list("", &w.carol);
    assert_eq!(list["objects"][0], w.request(r2, &w.carol));
    // The redeemed and the expired token are 410 for their targets.
    assert_plain_error(&w.get(&at(&t2), &w.alice), 410, None);
    assert_plain_error(&w.get(&at(&t3), &w.bob), 410, None);
}

#[test]
fn the_list_orders_by_id_pages_and_has_no_filters() {
    let w = setup();
    let mut r = Vec::new();
    for (bundle, target) in [
        (w.friend, &w.alice),
        (w.coach, &w.alice),
        (w.friend, &w.carol),
        (w.coach, &w.carol),
        (w.friend, &w.alice),
    ] {
        let (body, _) = w.create(&w.bob, bundle, &w.bob, target, json!({}));
        r.push(body["id"].as_i64().unwrap());
    }
    let reversed: Vec<i64> = r.iter().rev().copied().collect();
    assert_eq!(ids(&w.list("", &w.bob)), r);
    assert_eq!(ids(&w.list("?order_by=id", &w.bob)), r);
    assert_eq!(ids(&w.list("?order_by=-id", &w.bob)), reversed);
    assert_eq!(
        ids(&w.list("?order_by=-id&format=json&foo=bar", &w.bob)),
        reversed
    );
    for field in [
        "ttl",
        "status",
        "bundle",
        "user_target",
        "name",
        "-email_sent",
    ] {
        let resp = w.get(&format!("{LIST}?order_by={field}"), &w.bob);
        assert_plain_error(&resp, 400, None);
    }

    let page = w.list("?limit=2", &w.bob);
    assert_eq!(ids(&page), r[..2]);
    assert_eq!(page["meta"]["limit"], 2);
    assert_eq!(page["meta"]["offset"], 0);
    assert_eq!(page["meta"]["total_count"], 5);
    assert_link(&page["meta"]["next"], &[("limit", "2"), ("offset", "2")]);
    assert_eq!(page["meta"]["previous"], Value::Null);

    let page = w.list("?order_by=-id&limit=2&offset=2", &w.bob);
    assert_eq!(ids(&page), reversed[2..4]);
    assert_link(
        &page["meta"]["next"],
        &[("order_by", "-id"), ("limit", "2"), ("offset", "4")],
    );
    assert_link(
        &page["meta"]["previous"],
        &[("order_by", "-id"), ("limit", "2"), ("offset", "0")],
    );

    let page = w.list("?limit=2&offset=4", &w.bob);
    assert_eq!(ids(&page), r[4..]);
    assert_eq!(page["meta"]["next"], Value::Null);
    assert_link(
        &page["meta"]["previous"],
        &[("limit", "2"), ("offset", "2")],
    );

    let page = w.list("?offset=10", &w.bob);
    assert!(ids(&page).is_empty());
    assert_eq!(page["meta"]["total_count"], 5);
    for (query, limit) in [("?limit=0", 1000), ("?limit=5000", 1000)] {
        let page = w.list(query, &w.bob);
        assert_eq!(ids(&page), r, "{query}");
        assert_eq!(page["meta"]["limit"], limit, "{query}");
    }
    for query in [
        "limit=-1",
        "limit=x",
        "offset=-1",
        "offset=1.5",
        "limit=2.0",
    ] {
        assert_plain_error(&w.get(&format!("{LIST}?{query}"), &w.bob), 400, None);
    }

    // No field of the resource is a filter (§2.5, §1.4).
    let alice_uri = w.alice.uri();
    let friend_uri = bundle_uri(w.friend);
    let in_list = format!("{},{}", w.alice.id, w.carol.id);
    let first = r[0].to_string();
    for (name, value) in [
        ("bundle", friend_uri.as_str()),
        ("bundle__in", friend_uri.as_str()),
        ("user_target", alice_uri.as_str()),
        ("user_target__exact", alice_uri.as_str()),
        ("user_allowed", "bob@test.com"),
        ("user_target__in", in_list.as_str()),
        ("id", first.as_str()),
        ("id__gt", "0"),
        ("status", "pending"),
        ("ttl", "0"),
        ("email_sent", "true"),
        ("redeem_url", "https://app.example/"),
        ("resource_uri", "x"),
    ] {
        let query = serde_urlencoded::to_string([(name, value)]).unwrap();
        let resp = w.get(&format!("{LIST}?{query}"), &w.bob);
        assert_eq!(resp.status, 400, "{query}: {}", resp.body);
        assert_error(&resp, 400);
    }
}

// ---------------------------------------------------------------------------------------
// By id

#[test]
fn by_id_get_and_delete_are_for_the_parties_and_admins_only() {
    let w = setup();
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(w.bob_asks_alice());
    }
    let r1 = made[0].0;

    // Reading: both parties and an admin; a third party and unknown ids are 404.
    let by_bob = w.request(r1, &w.bob);
    for who in [&w.alice, &w.admin] {
        assert_eq!(without_ttl(&w.request(r1, who)), without_ttl(&by_bob));
    }
    assert_not_found(&w.get(&by_id(r1), &w.carol));
    assert_not_found(&w.get(&format!("{LIST}{r1}"), &w.carol));
    for missing in ["999999", "0", "00"] {
        assert_not_found(&w.get(&format!("{LIST}{missing}/"), &w.admin));
        assert_not_found(&w.call("DELETE", &format!("{LIST}{missing}/"), &w.admin, None));
    }

    // A third party cannot delete it either.
    assert_not_found(&w.call("DELETE", &by_id(r1), &w.carol, None));
    assert_eq!(w.request(r1, &w.bob)["status"], "pending");

    // Withdrawn by user_allowed, declined by user_target, removed by an admin.
    for ((id, token), who) in made.iter().zip([&w.bob, &w.alice, &w.admin]) {
        w.call("DELETE", &by_id(*id), who, None).assert_no_content();
        for reader in [&w.alice, &w.bob, &w.admin] {
            assert_not_found(&w.get(&by_id(*id), reader));
        }
        assert_not_found(&w.call("DELETE", &by_id(*id), who, None));
        // Its token stops working.
        for method in ["GET", "PUT", "DELETE"] {
            assert_not_found(&w.call(method, &at(token), &w.alice, None));
        }
    }
    for who in [&w.alice, &w.bob, &w.admin] {
        let list = w.list("", who);
        assert!(ids(&list).is_empty(), "{list}");
        assert_eq!(list["meta"]["total_count"], 0);
    }
    assert!(w.permission_ids(&w.alice).is_empty());
}

#[test]
fn deleting_a_redeemed_request_keeps_its_permission() {
    let w = setup();
    let (id, token) = w.bob_asks_alice();
    let resp = w.call("PUT", &at(&token), &w.alice, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let permission = resp.json();
    let pid = permission["id"].as_i64().unwrap();
    assert_plain_error(&w.get(&at(&token), &w.alice), 410, None);

    w.call("DELETE", &by_id(id), &w.bob, None)
        .assert_no_content();
    assert_not_found(&w.get(&by_id(id), &w.alice));
    for method in ["GET", "PUT", "DELETE"] {
        assert_not_found(&w.call(method, &at(&token), &w.alice, None));
    }
    for who in [&w.alice, &w.bob] {
        assert_eq!(w.permission_ids(who), [pid]);
        let resp = w.get(&format!("/api/bundle_permission/{pid}/"), who);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json(), permission);
    }
}

#[test]
fn deleting_a_user_deletes_the_requests_it_takes_part_in() {
    let w = setup();
    let (b1, _) = w.create(&w.bob, w.friend, &w.bob, &w.carol, json!({}));
    let (b2, _) = w.create(&w.carol, w.coach, &w.carol, &w.alice, json!({}));
    let (r3, _) = w.bob_asks_alice();
    let resp = w.checked(
        w.s.request("DELETE", &format!("/v1/users/{}", w.carol.keyrock_id))
            .token(&w.admin.token)
            .send(),
    );
    assert_eq!(resp.status, 204, "{}", resp.body);
    for id in [&b1["id"], &b2["id"]] {
        assert_not_found(&w.get(&by_id(id.as_i64().unwrap()), &w.admin));
    }
    for who in [&w.alice, &w.bob, &w.admin] {
        let list = w.list("", who);
        assert_eq!(ids(&list), [r3], "{}", who.username);
        assert_eq!(list["meta"]["total_count"], 1);
    }
}

// ---------------------------------------------------------------------------------------
// The token location

#[test]
fn the_token_location_answers_the_user_target_only() {
    let w = setup();
    let (id, token) = w.bob_asks_alice();
    let by_id_object = w.request(id, &w.bob);

    // alice: the request object (its resource_uri is the by-id location).
    for path in [
        at(&token),
        format!("{LIST}{token}"),
        format!("{}?format=json", at(&token)),
    ] {
        let resp = w.get(&path, &w.alice);
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
        resp.assert_json_type();
        let got = resp.json();
        assert_eq!(keys(&got), sorted(&REQUEST_FIELDS));
        assert_eq!(without_ttl(&got), without_ttl(&by_id_object));
        assert_eq!(got["status"], "pending");
        assert_eq!(got["resource_uri"], by_id(id));
    }

    // Anyone else, admins included: 404 for every method (decision 4), and nothing changes.
    for who in [&w.bob, &w.admin, &w.carol] {
        for method in ["GET", "PUT", "DELETE"] {
            assert_not_found(&w.call(method, &at(&token), who, None));
        }
    }
    assert_eq!(w.request(id, &w.bob)["status"], "pending");
    assert!(w.permission_ids(&w.bob).is_empty());

    // Unknown tokens are 404 for alice too.
    let mut altered = token.clone().into_bytes();
    altered[42] = if altered[42] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for unknown in [altered.as_str(), "A".repeat(43).as_str(), "not-a-token"] {
        for method in ["GET", "PUT", "DELETE"] {
            assert_not_found(&w.call(method, &at(unknown), &w.alice, None));
        }
    }
    assert_eq!(w.request(id, &w.bob)["status"], "pending");

    // alice declines while it is pending: 204, and the token is gone.
    let resp = w.call("DELETE", &at(&token), &w.alice, None);
    resp.assert_no_content();
    for method in ["GET", "PUT", "DELETE"] {
        assert_not_found(&w.call(method, &at(&token), &w.alice, None));
    }
    assert_not_found(&w.get(&by_id(id), &w.bob));
    assert!(ids(&w.list("", &w.bob)).is_empty());
    assert!(w.permission_ids(&w.alice).is_empty());

    // An admin who is the target uses the token like any target.
    let (body, token) = w.create(&w.bob, w.friend, &w.bob, &w.admin, json!({}));
    assert_eq!(body["user_target"]["id"], w.admin.id);
    assert_not_found(&w.get(&at(&token), &w.bob));
    let resp = w.get(&at(&token), &w.admin);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["id"], body["id"]);
    let resp = w.call("PUT", &at(&token), &w.admin, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["user_target"]["id"], w.admin.id);
    assert_eq!(resp.json()["user_allowed"], w.user_object(&w.bob));
}

#[test]
fn redeeming_grants_the_permission_once_and_spends_the_token() {
    let w = setup();
    let (id, token) = w.bob_asks_alice();
    let resp = w.call("PUT", &at(&token), &w.alice, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.assert_json_type();
    let permission = resp.json();
    assert_eq!(
        keys(&permission),
        sorted(&PERMISSION_FIELDS),
        "{permission}"
    );
    let pid = permission["id"].as_i64().expect("an integer id");
    let uri = format!("/api/bundle_permission/{pid}/");
    assert_eq!(permission["resource_uri"], uri);
    assert_eq!(resp.header("location"), Some(format!("{}{uri}", w.s.base)));
    assert_eq!(permission["bundle"], w.friend_object());
    assert_eq!(permission["user_allowed"], w.user_object(&w.bob));
    assert_eq!(permission["user_target"], w.user_object(&w.alice));
    assert_eq!(permission["name"], Value::Null);

    // The permission exists for both parties, not for others.
    for who in [&w.alice, &w.bob] {
        assert_eq!(w.permission_ids(who), [pid], "{}", who.username);
        let resp = w.get(&uri, who);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json(), permission);
    }
    assert!(w.permission_ids(&w.carol).is_empty());

    // Spent: 410 for alice, 404 for everyone else.
    for method in ["PUT", "GET"] {
        assert_plain_error(&w.call(method, &at(&token), &w.alice, None), 410, None);
        for who in [&w.bob, &w.admin, &w.carol] {
            assert_not_found(&w.call(method, &at(&token), who, None));
        }
    }
    let r = w.request(id, &w.bob);
    assert_eq!(
        (r["status"].as_str(), r["ttl"].as_i64()),
        (Some("redeemed"), Some(0))
    );
    assert_eq!(r["email_sent"], true);
    assert_eq!(w.list("", &w.alice)["objects"][0]["status"], "redeemed");
    assert_eq!(w.permission_ids(&w.bob), [pid]);

    // Declining a redeemed request: 404 for others, 204 for alice; the permission stays.
    for who in [&w.bob, &w.admin, &w.carol] {
        assert_not_found(&w.call("DELETE", &at(&token), who, None));
    }
    assert_eq!(w.request(id, &w.bob)["status"], "redeemed");
    w.call("DELETE", &at(&token), &w.alice, None)
        .assert_no_content();
    for method in ["GET", "PUT", "DELETE"] {
        assert_not_found(&w.call(method, &at(&token), &w.alice, None));
    }
    assert_not_found(&w.get(&by_id(id), &w.bob));
    assert_eq!(w.permission_ids(&w.alice), [pid]);
}

#[test]
fn redeem_ignores_any_body() {
    let w = setup();
    // A body naming other things changes nothing.
    let (_, t1) = w.bob_asks_alice();
    let junk = json!({
        "bundle": bundle_uri(w.coach),
        "user_allowed": w.carol.uri(),
        "user_target": w.bob.uri(),
        "name": "sneaky",
        "status": "expired",
    });
    let resp = w.call("PUT", &at(&t1), &w.alice, Some(&junk));
    assert_eq!(resp.status, 200, "{}", resp.body);
    let p1 = resp.json();
    assert_eq!(p1["bundle"], w.friend_object());
    assert_eq!(p1["user_allowed"], w.user_object(&w.bob));
    assert_eq!(p1["user_target"], w.user_object(&w.alice));
    assert_eq!(p1["name"], Value::Null);

    // So is a body that is not JSON.
    let (_, t2) = w.create(&w.bob, w.coach, &w.bob, &w.alice, json!({}));
    let resp = w.checked(
        w.s.request("PUT", &at(&t2))
            .bearer(&w.alice.token)
            .header("Content-Type", "application/json")
            .raw(b"this is not json".to_vec())
            .send(),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let p2 = resp.json();
    assert_eq!(p2["bundle"], w.coach_object());
    assert_eq!(p2["user_allowed"], w.user_object(&w.bob));

    let mut expected = vec![p1["id"].as_i64().unwrap(), p2["id"].as_i64().unwrap()];
    expected.sort();
    assert_eq!(w.permission_ids(&w.alice), expected);
    assert!(w.permission_ids(&w.carol).is_empty());
}

#[test]
fn redeeming_a_granted_triple_answers_the_existing_permission() {
    let w = setup();
    let resp = w.call(
        "POST",
        "/api/bundle_permission/",
        &w.alice,
        Some(&json!({
            "bundle": bundle_uri(w.friend),
            "user_allowed": w.bob.uri(),
            "user_target": w.alice.uri(),
            "name": "gym",
        })),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let existing = resp.json();
    let pid = existing["id"].as_i64().unwrap();

    // Asking for a granted triple is allowed.
    let (id, token) = w.bob_asks_alice();
    let resp = w.call("PUT", &at(&token), &w.alice, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), existing, "the existing permission, unchanged");
    assert_eq!(resp.json()["name"], "gym");
    assert_eq!(
        resp.header("location"),
        Some(format!("{}/api/bundle_permission/{pid}/", w.s.base))
    );
    // The token is spent all the same (decision 6).
    assert_plain_error(&w.call("PUT", &at(&token), &w.alice, None), 410, None);
    assert_eq!(w.request(id, &w.bob)["status"], "redeemed");
    assert_eq!(w.permission_ids(&w.bob), [pid]);
}

#[test]
fn two_requests_for_one_triple_have_their_own_tokens() {
    let w = setup();
    let (r1, t1) = w.bob_asks_alice();
    let (r2, t2) = w.bob_asks_alice();
    assert_ne!(r1, r2);
    assert_ne!(t1, t2);
    for (id, token) in [(r1, &t1), (r2, &t2)] {
        let resp = w.get(&at(token), &w.alice);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json()["id"], id);
    }
    let resp = w.call("PUT", &at(&t2), &w.alice, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let pid = resp.json()["id"].as_i64().unwrap();
    // The other one is still pending, and redeems to the same permission.
    let resp = w.get(&at(&t1), &w.alice);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["status"], "pending");
    let resp = w.call("PUT", &at(&t1), &w.alice, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["id"], pid);
    for token in [&t1, &t2] {
        assert_plain_error(&w.call("PUT", &at(token), &w.alice, None), 410, None);
    }
    for id in [r1, r2] {
        assert_eq!(w.request(id, &w.bob)["status"], "redeemed");
    }
    assert_eq!(w.permission_ids(&w.alice), [pid]);
}

#[test]
fn an_expired_token_is_410_for_the_target_and_404_for_others() {
    let w = setup();
    let (body, token) = w.create(&w.bob, w.friend, &w.bob, &w.alice, json!({"ttl": 1}));
    let id = body["id"].as_i64().unwrap();
    let r = w.wait_expired(id, &w.bob);
    assert_eq!(r["ttl"], 0);
    for method in ["GET", "PUT"] {
        assert_plain_error(&w.call(method, &at(&token), &w.alice, None), 410, None);
        for who in [&w.bob, &w.admin, &w.carol] {
            assert_not_found(&w.call(method, &at(&token), who, None));
        }
    }
    // The failed redeem made nothing.
    assert!(w.permission_ids(&w.alice).is_empty());
    let r = w.request(id, &w.admin);
    assert_eq!(
        (r["status"].as_str(), r["ttl"].as_i64()),
        (Some("expired"), Some(0))
    );
    assert_eq!(w.list("", &w.alice)["objects"][0]["status"], "expired");

    // Declining an expired request: 404 for others, 204 for alice.
    for who in [&w.bob, &w.admin, &w.carol] {
        assert_not_found(&w.call("DELETE", &at(&token), who, None));
    }
    w.call("DELETE", &at(&token), &w.alice, None)
        .assert_no_content();
    for method in ["GET", "PUT", "DELETE"] {
        assert_not_found(&w.call(method, &at(&token), &w.alice, None));
    }
    assert_not_found(&w.get(&by_id(id), &w.bob));
}

#[test]
fn of_two_concurrent_redeems_exactly_one_succeeds() {
    let w = setup();
    let mut tokens = Vec::new();
    for bundle in [w.friend, w.coach, w.friend] {
        let (_, token) = w.create(&w.bob, bundle, &w.bob, &w.alice, json!({}));
        tokens.push(token);
    }
    let (s, alice) = (&w.s, &w.alice);
    let mut granted = Vec::new();
    for token in &tokens {
        let barrier = Barrier::new(2);
        let answers: Vec<Resp> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        hexoskin::call(s, "PUT", &at(token), &alice.token, None)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let answers: Vec<Resp> = answers.into_iter().map(|a| w.checked(a)).collect();
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 410], "{answers:?}");
        let won = answers.iter().find(|a| a.status == 200).unwrap();
        let lost = answers.iter().find(|a| a.status == 410).unwrap();
        assert_plain_error(lost, 410, None);
        granted.push(won.json()["id"].as_i64().unwrap());
    }
    // friend twice: the same permission; coach: another one.
    assert_eq!(granted[0], granted[2]);
    assert_ne!(granted[0], granted[1]);
    let mut expected = vec![granted[0], granted[1]];
    expected.sort();
    assert_eq!(w.permission_ids(&w.bob), expected);
}

#[test]
fn a_redeem_url_carries_the_token_as_a_query_parameter() {
    let w = setup();
    for (redeem_url, prefix) in [
        (
            "https://app.example/accept",
            "https://app.example/accept?token=",
        ),
        (
            "https://app.example/accept?x=1",
            "https://app.example/accept?x=1&token=",
        ),
    ] {
        let resp = w.ask(
            &w.bob,
            w.friend,
            &w.bob,
            &w.alice,
            json!({ "redeem_url": redeem_url }),
        );
        assert_eq!(resp.status, 201, "{}", resp.body);
        let body = resp.json();
        assert_eq!(body["redeem_url"], redeem_url);
        let id = body["id"].as_i64().unwrap();

        let mail = w.mail();
        let lines = mail.lines();
        let token = link_token(&lines, prefix, "");
        w.learn(&token);
        // The link is the redeem_url one, not the token location.
        let location = format!("{}{LIST}", w.s.base);
        assert!(!lines.iter().any(|l| l.contains(&location)), "{lines:?}");
        // The token works at the token location.
        let resp = w.get(&at(&token), &w.alice);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json()["id"], id);
        assert_eq!(resp.json()["redeem_url"], redeem_url);
        let resp = w.call("PUT", &at(&token), &w.alice, None);
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(w.request(id, &w.bob)["status"], "redeemed");
    }
}
