//! The response schemas of the Hexoskin family (hexoskin-bundles.md) in `/openapi.json`:
//! every answer of each of its 15 operations matches the schema the document gives for its
//! status, and every documented status is seen answered. The routes are driven through each
//! success shape (lists with and without `next` and `previous`, filters, empty pages;
//! created, existing and redeemed permissions; pending, redeemed and expired requests) and
//! each documented error (400 with and without field errors, 401, 403, 404, 405, 410).
//!
//! That every documented Hexoskin answer names a closed schema of components is
//! `openapi_kheops_schemas`'s check; this suite checks real answers against them.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use tessera_tests::hexoskin::{admin, bundle_id, bundle_uri, user, Outbox, Person};
use tessera_tests::routes::{is_hexoskin_path, operations, Operation};
use tessera_tests::schema::Doc;
use tessera_tests::{json, Options, Resp, Server, TestDb};

const USERS: &str = "/api/user/";
const ACCOUNT: &str = "/api/account/";
const BUNDLES: &str = "/api/bundle/";
const PERMISSIONS: &str = "/api/bundle_permission/";
const REQUESTS: &str = "/api/bundle_permission_request/";

/// Documented statuses no test here makes a route answer, with the reason.
const UNSEEN: [(u16, &str); 4] = [
    (
        500,
        "an internal error cannot be caused through the API on a sound database; \
         `a_broken_database_answers_a_documented_status` checks what a broken one answers",
    ),
    (
        503,
        "a database that does not answer in time (PostgreSQL); \
         `a_broken_database_answers_a_documented_status` checks it",
    ),
    (
        408,
        "a body that does not arrive in time; \
         `bodies_too_large_or_too_late_answer_a_documented_status` checks it",
    ),
    (
        413,
        "a body over 1 MiB; `bodies_too_large_or_too_late_answer_a_documented_status` checks it",
    ),
];

// ---------------------------------------------------------------------------------------
// Checked calls

/// Sends requests, checks each answer against the document, and remembers which
/// (method, documented path, status) were checked.
struct Checker<'a> {
    s: &'a Server,
    doc: &'a Doc,
    seen: BTreeSet<(String, String, u16)>,
}

impl Checker<'_> {
    /// Checks `resp`, the answer of `method` on the documented `path`: status, media type,
    /// body against the schema, and the documented headers present. Returns the body.
    #[track_caller]
    fn check(&mut self, method: &str, path: &str, resp: Resp) -> Value {
        let body = self.doc.check(method, path, &resp);
        let response = self.doc.response(method, path, resp.status);
        for header in response["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|h| h.0)
        {
            assert!(
                resp.header(header).is_some(),
                "{method} {path} {}: the documented {header} header is missing",
                resp.status
            );
        }
        self.seen
            .insert((method.to_owned(), path.to_owned(), resp.status));
        body
    }

    /// `method url` with `Authorization: Bearer <token>` (none when `None`) and `body`
    /// (`None`: no body), which must answer `status`; checked against the operation
    /// documented for `url`'s path. Returns the body.
    #[track_caller]
    fn call(
        &mut self,
        status: u16,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> Value {
        let mut req = self.s.request(method, url);
        if let Some(token) = token {
            req = req.bearer(token);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .raw(body.to_vec());
        }
        let resp = req.send();
        assert_eq!(
            resp.status, status,
            "{method} {url}: {} {}",
            resp.status, resp.body
        );
        let path = self.doc.template(method, url);
        self.check(method, &path, resp)
    }

    #[track_caller]
    fn get(&mut self, status: u16, url: &str, who: &Person) -> Value {
        self.call(status, "GET", url, Some(&who.token), None)
    }

    /// POSTs the JSON `body`.
    #[track_caller]
    fn post(&mut self, status: u16, url: &str, who: &Person, body: &Value) -> Value {
        let bytes = body.to_string().into_bytes();
        self.call(status, "POST", url, Some(&who.token), Some(&bytes))
    }

    /// An empty PUT (a redeem).
    #[track_caller]
    fn put(&mut self, status: u16, url: &str, who: &Person) -> Value {
        self.call(status, "PUT", url, Some(&who.token), None)
    }

    #[track_caller]
    fn delete(&mut self, status: u16, url: &str, who: &Person) -> Value {
        self.call(status, "DELETE", url, Some(&who.token), None)
    }

    /// A list page (200) whose `meta.next` and `meta.previous` are strings or null as
    /// `next` and `previous` say; its objects.
    #[track_caller]
    fn page(&mut self, url: &str, who: &Person, next: bool, previous: bool) -> Vec<Value> {
        let body = self.get(200, url, who);
        let meta = &body["meta"];
        assert_eq!(meta["next"].is_string(), next, "{url}: {meta}");
        assert_eq!(meta["previous"].is_string(), previous, "{url}: {meta}");
        body["objects"].as_array().expect("objects").clone()
    }

    /// A 400 whose body carries field errors under `resource` for exactly `fields`.
    #[track_caller]
    fn field_errors(
        &mut self,
        url: &str,
        who: &Person,
        body: &Value,
        resource: &str,
        fields: &[&str],
    ) {
        let answer = self.post(400, url, who, body);
        let errors = answer[resource]
            .as_object()
            .unwrap_or_else(|| panic!("POST {url} {body}: no {resource} field errors: {answer}"));
        let mut named: Vec<&str> = errors.keys().map(String::as_str).collect();
        named.sort_unstable();
        let mut expected = fields.to_vec();
        expected.sort_unstable();
        assert_eq!(named, expected, "POST {url} {body}: {answer}");
    }

    /// A 400 for a malformed body (not JSON, not an object): `error` only.
    #[track_caller]
    fn malformed(&mut self, url: &str, who: &Person, raw: &str) {
        let answer = self.call(400, "POST", url, Some(&who.token), Some(raw.as_bytes()));
        let keys: Vec<&String> = answer.as_object().expect("an object").keys().collect();
        assert_eq!(keys, ["error"], "POST {url} {raw:?}: {answer}");
    }
}

fn int(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {key} in {v}"))
}

/// The Hexoskin operations of the document.
fn hexoskin_operations(s: &Server) -> Vec<Operation> {
    let ops: Vec<Operation> = operations(s)
        .into_iter()
        .filter(|op| is_hexoskin_path(&op.path))
        .collect();
    assert_eq!(ops.len(), 15, "15 Hexoskin operations");
    ops
}

/// The URL of `op` with `id` for integer keys and `key` for the request key.
fn url_of(op: &Operation, id: &str, key: &str) -> String {
    op.fill(|name| if name == "key" { key } else { id }.to_owned())
}

// ---------------------------------------------------------------------------------------
// The routes

/// The people of a world: the bootstrap admin; alice, who is asked and grants; bob, who
/// asks; carol, a third party.
struct People {
    admin: Person,
    alice: Person,
    bob: Person,
    carol: Person,
}

/// `/api/user/` and `/api/user/<id>/`, before any permission links the people.
fn users(c: &mut Checker, p: &People) {
    let People {
        admin,
        alice,
        bob,
        carol,
    } = p;
    // alice alone sees herself; the admin sees everyone, page by page.
    assert_eq!(c.page(USERS, alice, false, false).len(), 1);
    assert!(c
        .page("/api/user/?username=bob", alice, false, false)
        .is_empty());
    let all = c.get(200, "/api/user/?format=json", admin);
    let total = int(&all["meta"], "total_count");
    assert!(total >= 4, "{all}");
    c.page("/api/user/?limit=1", admin, true, false);
    c.page("/api/user/?limit=1&offset=1", admin, true, true);
    let last = format!("/api/user/?order_by=-username&limit=1&offset={}", total - 1);
    assert_eq!(c.page(&last, admin, false, true).len(), 1);
    assert!(c
        .page("/api/user/?offset=1000", admin, false, true)
        .is_empty());
    for (query, count) in [
        ("username=carol".to_owned(), 1),
        ("username__exact=carol&order_by=email".to_owned(), 1),
        ("email__in=alice@test.com,bob@test.com".to_owned(), 2),
        (format!("id={}", alice.id), 1),
        (format!("id__in={},{}&order_by=-id", alice.id, bob.id), 2),
    ] {
        let objects = c.page(&format!("{USERS}?{query}"), admin, false, false);
        assert_eq!(objects.len(), count, "{query}");
    }
    for query in [
        "limit=x",
        "offset=-1",
        "first_name=x",
        "username__gt=a",
        "order_by=first_name",
    ] {
        c.get(400, &format!("{USERS}?{query}"), alice);
    }

    c.get(200, &alice.uri(), alice);
    c.get(200, &carol.uri(), admin);
    c.get(404, &bob.uri(), alice);
    c.get(404, "/api/user/999999/", admin);
    c.get(404, "/api/user/abc/", admin);
}

/// `/api/account/`.
fn account(c: &mut Checker, p: &People) {
    let mine = c.page(ACCOUNT, &p.alice, false, false);
    assert_eq!(mine[0]["is_staff"], false);
    let admins = c.page("/api/account/?limit=5&format=json", &p.admin, false, false);
    assert_eq!(admins[0]["is_staff"], true);
    assert!(c
        .page("/api/account/?offset=1", &p.alice, false, true)
        .is_empty());
    for query in ["limit=x", "offset=-1", "username=alice", "order_by=id"] {
        c.get(400, &format!("{ACCOUNT}?{query}"), &p.alice);
    }
}

/// `/api/bundle/` and `/api/bundle/<id>/`; returns the id of the bundle it creates.
fn bundles(c: &mut Checker, p: &People, friend: i64) -> i64 {
    let People { admin, alice, .. } = p;
    let trainer = c.post(
        201,
        BUNDLES,
        admin,
        &json!({"name": "trainer", "description": "Trainer: may view and edit",
                "permissions": ["write", "read", "write"]}),
    );
    assert_eq!(trainer["permissions"], json!(["read", "write"]));
    let viewer = c.post(
        201,
        BUNDLES,
        admin,
        &json!({"name": "viewer", "permissions": ["read"]}),
    );
    assert_eq!(viewer["description"], "");

    let all = c.page(BUNDLES, alice, false, false);
    assert_eq!(all.len(), 5, "three shipped, two created");
    c.page("/api/bundle/?limit=1", alice, true, false);
    c.page(
        "/api/bundle/?limit=2&offset=2&order_by=-name",
        alice,
        true,
        true,
    );
    c.page(
        "/api/bundle/?limit=2&offset=4&order_by=name,-id",
        alice,
        false,
        true,
    );
    assert!(c
        .page("/api/bundle/?offset=100", alice, false, true)
        .is_empty());
    for query in [
        "limit=x",
        "offset=1.5",
        "name=friend",
        "id__gt=1",
        "order_by=description",
    ] {
        c.get(400, &format!("{BUNDLES}?{query}"), alice);
    }

    c.field_errors(
        BUNDLES,
        admin,
        &json!({"name": "", "permissions": ["fly"]}),
        "bundle",
        &["name", "permissions"],
    );
    c.field_errors(
        BUNDLES,
        admin,
        &json!({"name": "n".repeat(65), "description": "x", "permissions": []}),
        "bundle",
        &["name", "permissions"],
    );
    c.field_errors(
        BUNDLES,
        admin,
        &json!({"name": "FRIEND", "permissions": ["read"]}),
        "bundle",
        &["name"],
    );
    c.field_errors(
        BUNDLES,
        admin,
        &json!({}),
        "bundle",
        &["name", "permissions"],
    );
    c.malformed(BUNDLES, admin, "{");
    c.malformed(BUNDLES, admin, "[]");
    c.post(
        403,
        BUNDLES,
        alice,
        &json!({"name": "mine", "permissions": ["read"]}),
    );

    c.get(200, &bundle_uri(friend), alice);
    c.get(404, "/api/bundle/999999/", alice);
    c.get(404, "/api/bundle/x/", alice);
    int(&trainer, "id")
}

/// `/api/bundle_permission/` and its detail view, but deletion; returns the id of the
/// permission alice grants bob (friend).
fn permissions(c: &mut Checker, p: &People, friend: i64, coach: i64) -> i64 {
    let People {
        admin,
        alice,
        bob,
        carol,
    } = p;
    let grant = json!({"bundle": bundle_uri(friend), "user_allowed": bob.uri(),
                       "user_target": alice.uri()});
    let granted = c.post(201, PERMISSIONS, alice, &grant);
    assert!(granted["name"].is_null(), "{granted}");
    let mut again = grant.clone();
    again["name"] = json!("ignored");
    let existing = c.post(200, PERMISSIONS, alice, &again);
    assert_eq!(existing, granted);
    // References by id, e-mail and URI; a name.
    let named = c.post(
        201,
        PERMISSIONS,
        admin,
        &json!({"bundle": coach, "user_allowed": carol.email, "user_target": bob.id,
                "name": "coaching"}),
    );
    assert_eq!(named["name"], "coaching");
    c.post(
        201,
        PERMISSIONS,
        alice,
        &json!({"bundle": coach.to_string(), "user_allowed": carol.uri(),
                "user_target": alice.uri(), "name": null}),
    );

    c.field_errors(
        PERMISSIONS,
        alice,
        &json!({}),
        "bundle_permission",
        &["bundle", "user_allowed", "user_target"],
    );
    c.field_errors(
        PERMISSIONS,
        alice,
        &json!({"bundle": "/api/bundle/999999/", "user_allowed": alice.uri(),
                "user_target": alice.uri(), "name": "n".repeat(256)}),
        "bundle_permission",
        &["bundle", "name", "user_target"],
    );
    c.field_errors(
        PERMISSIONS,
        alice,
        &json!({"bundle": friend, "user_allowed": "nobody@test.com",
                "user_target": alice.uri(), "name": 5}),
        "bundle_permission",
        &["name", "user_allowed"],
    );
    c.malformed(PERMISSIONS, alice, "not json");
    c.malformed(PERMISSIONS, alice, "\"a string\"");
    c.post(
        403,
        PERMISSIONS,
        carol,
        &json!({"bundle": friend, "user_allowed": carol.uri(), "user_target": alice.uri()}),
    );

    // The lists: alice takes part in two, the admin sees three.
    assert_eq!(c.page(PERMISSIONS, alice, false, false).len(), 2);
    let queries = [
        format!("user_allowed={}", bob.uri()),
        format!("user_allowed__exact={}&user_target={}", bob.id, alice.email),
        format!("bundle__in={friend},{}&order_by=-id", bundle_uri(coach)),
        format!("user_target__in={},{}", alice.uri(), carol.uri()),
    ];
    for (query, count) in queries.iter().zip([1, 1, 2, 2]) {
        let objects = c.page(&format!("{PERMISSIONS}?{query}"), alice, false, false);
        assert_eq!(objects.len(), count, "{query}");
    }
    let none = "/api/bundle_permission/?user_allowed=nobody@test.com";
    assert!(c.page(none, alice, false, false).is_empty());
    c.page("/api/bundle_permission/?limit=1", admin, true, false);
    c.page(
        "/api/bundle_permission/?limit=1&offset=1",
        admin,
        true,
        true,
    );
    c.page(
        "/api/bundle_permission/?limit=2&offset=2",
        admin,
        false,
        true,
    );
    assert!(c
        .page("/api/bundle_permission/?offset=50", admin, false, true)
        .is_empty());
    for query in [
        "limit=x",
        "offset=-2",
        "name=coaching",
        "bundle__gt=1",
        "order_by=name",
    ] {
        c.get(400, &format!("{PERMISSIONS}?{query}"), alice);
    }

    let id = int(&granted, "id");
    let uri = format!("{PERMISSIONS}{id}/");
    c.get(200, &uri, bob);
    c.get(200, &uri, admin);
    c.get(404, &uri, carol);
    c.get(404, "/api/bundle_permission/999999/", admin);
    c.get(404, "/api/bundle_permission/x/", admin);
    // Linked by a permission, bob is now visible to alice.
    c.get(200, &bob.uri(), alice);
    id
}

/// `/api/bundle_permission_request/`, by id and by token, in every state.
fn requests(
    c: &mut Checker,
    p: &People,
    outbox: &mut Outbox,
    friend: i64,
    coach: i64,
    trainer: i64,
) {
    let People {
        admin,
        alice,
        bob,
        carol,
    } = p;
    let base = c.s.base.clone();
    let by_id = |id: i64| format!("{REQUESTS}{id}/");
    let at = |token: &str| format!("{REQUESTS}{token}/");

    // bob asks alice for friend (already granted), and for coach with a redeem URL; the
    // admin asks her on carol's behalf for trainer; bob asks for coach for one second.
    let ask = |bundle: Value, allowed: &Person, target: Value| json!({"bundle": bundle, "user_allowed": allowed.uri(), "user_target": target});
    let r1 = c.post(
        201,
        REQUESTS,
        bob,
        &ask(json!(bundle_uri(friend)), bob, json!(alice.uri())),
    );
    assert!(r1["redeem_url"].is_null(), "{r1}");
    assert_eq!(r1["email_sent"], true, "{r1}");
    let t1 = outbox.token(&base);
    let mut body = ask(json!(coach), bob, json!(alice.email));
    body["ttl"] = json!(3600);
    body["redeem_url"] = json!("https://app.example/accept?from=tessera");
    let r2 = c.post(201, REQUESTS, bob, &body);
    assert!(r2["redeem_url"].is_string(), "{r2}");
    outbox.next_mail();
    let r3 = c.post(
        201,
        REQUESTS,
        admin,
        &ask(json!(trainer), carol, json!(alice.id)),
    );
    let t3 = outbox.token(&base);
    let mut body = ask(json!(coach), bob, json!(alice.uri()));
    body["ttl"] = json!(1);
    let r4 = c.post(201, REQUESTS, bob, &body);
    let t4 = outbox.token(&base);
    let (r1, r2, r3, r4) = (
        int(&r1, "id"),
        int(&r2, "id"),
        int(&r3, "id"),
        int(&r4, "id"),
    );

    c.field_errors(
        REQUESTS,
        bob,
        &json!({}),
        "bundle_permission_request",
        &["bundle", "user_allowed", "user_target"],
    );
    c.field_errors(
        REQUESTS,
        bob,
        &json!({"bundle": "/api/bundle/999999/", "user_allowed": bob.uri(),
                "user_target": bob.uri(), "ttl": 0, "redeem_url": "ftp://app.example/#x"}),
        "bundle_permission_request",
        &["bundle", "redeem_url", "ttl", "user_target"],
    );
    let mut body = ask(json!(friend), bob, json!(alice.uri()));
    body["ttl"] = json!("60");
    body["user_allowed"] = json!("/api/user/999999/");
    c.field_errors(
        REQUESTS,
        bob,
        &body,
        "bundle_permission_request",
        &["ttl", "user_allowed"],
    );
    c.malformed(REQUESTS, bob, "{\"bundle\": ");
    c.malformed(REQUESTS, bob, "[1, 2]");
    c.post(
        403,
        REQUESTS,
        carol,
        &ask(json!(friend), bob, json!(alice.uri())),
    );

    // The lists: bob takes part in three requests, alice in all four.
    assert_eq!(c.page(REQUESTS, bob, false, false).len(), 3);
    c.page(
        "/api/bundle_permission_request/?limit=1",
        alice,
        true,
        false,
    );
    c.page(
        "/api/bundle_permission_request/?limit=1&offset=1",
        alice,
        true,
        true,
    );
    let last = "/api/bundle_permission_request/?limit=2&offset=2&order_by=-id";
    assert_eq!(c.page(last, alice, false, true).len(), 2);
    assert!(c
        .page(
            "/api/bundle_permission_request/?offset=9",
            admin,
            false,
            true
        )
        .is_empty());
    assert_eq!(c.page(REQUESTS, carol, false, false).len(), 1);
    for query in [
        "limit=-1",
        "offset=x",
        "status=pending",
        "id=1",
        "order_by=status",
    ] {
        c.get(400, &format!("{REQUESTS}?{query}"), bob);
    }

    // By id: its parties and admins.
    for who in [bob, alice, admin] {
        let request = c.get(200, &by_id(r1), who);
        assert_eq!(request["status"], "pending");
    }
    c.get(404, &by_id(r1), carol);
    c.get(404, &by_id(999_999), admin);
    // By token: the user_target only.
    c.get(200, &at(&t1), alice);
    c.get(404, &at(&t1), bob);
    c.get(404, &at(&t1), admin);
    c.get(404, &at("no-such-token"), alice);

    // Redeeming: the existing friend permission, then a new trainer one (name null).
    c.put(404, &at(&t1), bob);
    c.put(404, &at("no-such-token"), alice);
    c.put(405, &by_id(r1), alice);
    c.call(405, "PUT", &by_id(r1), None, None);
    let existing = c.put(200, &at(&t1), alice);
    assert_eq!(existing["user_allowed"]["id"], bob.id);
    let created = c.put(200, &at(&t3), alice);
    assert!(created["name"].is_null(), "{created}");
    assert_eq!(created["bundle"]["id"], trainer);
    c.put(410, &at(&t1), alice);
    c.get(410, &at(&t1), alice);
    assert_eq!(c.get(200, &by_id(r1), bob)["status"], "redeemed");

    // The one-second request expires.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let request = c.get(200, &by_id(r4), bob);
        if request["status"] == "expired" {
            assert_eq!(request["ttl"], 0);
            break;
        }
        assert!(Instant::now() < deadline, "not expired: {request}");
        std::thread::sleep(Duration::from_millis(200));
    }
    c.get(410, &at(&t4), alice);
    c.put(410, &at(&t4), alice);
    c.get(404, &at(&t4), bob);
    let states: BTreeSet<String> = c
        .page(REQUESTS, alice, false, false)
        .iter()
        .map(|r| r["status"].as_str().expect("status").to_owned())
        .collect();
    assert_eq!(
        states,
        ["expired", "pending", "redeemed"].map(str::to_owned).into()
    );

    // Deleting: by token (the target, any state) and by id (a party or an admin).
    c.delete(404, &at(&t4), bob);
    c.delete(404, &at("no-such-token"), alice);
    c.delete(204, &at(&t4), alice);
    c.delete(404, &at(&t4), alice);
    c.delete(204, &at(&t1), alice);
    c.delete(404, &by_id(r2), carol);
    c.delete(404, &by_id(999_999), admin);
    c.delete(204, &by_id(r2), bob);
    c.delete(404, &by_id(r2), bob);
    c.delete(204, &by_id(r3), admin);
    assert!(c.page(REQUESTS, alice, false, false).is_empty());
}

/// Deleting bundle permissions.
fn withdraw(c: &mut Checker, p: &People, friend_permission: i64) {
    let uri = format!("{PERMISSIONS}{friend_permission}/");
    c.delete(404, &uri, &p.carol);
    c.delete(404, "/api/bundle_permission/999999/", &p.admin);
    c.delete(404, "/api/bundle_permission/x/", &p.admin);
    c.delete(204, &uri, &p.bob);
    c.delete(404, &uri, &p.alice);
    let rest = c.get(200, &format!("{PERMISSIONS}?limit=0"), &p.admin);
    for permission in rest["objects"].as_array().expect("objects") {
        c.delete(
            204,
            &format!("{PERMISSIONS}{}/", int(permission, "id")),
            &p.admin,
        );
    }
    assert!(c.page(PERMISSIONS, &p.admin, false, false).is_empty());
}

/// Every operation without a credential, with an unknown bearer token and with Basic
/// credentials: 401 (a PUT on a request id is 405 before authentication; the token
/// location is used instead).
fn unauthenticated(c: &mut Checker, ops: &[Operation], alice: &Person) {
    for op in ops {
        let url = url_of(op, &alice.id.to_string(), "some-token");
        // A body that parses, so that authentication is what fails.
        let answers = [
            c.s.request(&op.method, &url),
            c.s.request(&op.method, &url).bearer("not-a-token"),
            c.s.request(&op.method, &url)
                .basic(&alice.email, "alice-password"),
        ]
        .map(|req| {
            if op.method == "POST" {
                req.json(&json!({})).send()
            } else {
                req.send()
            }
        });
        for resp in answers {
            assert_eq!(resp.status, 401, "{}: {}", op.name(), resp.body);
            assert_eq!(
                resp.header("www-authenticate").as_deref(),
                Some("Bearer realm=\"tessera\""),
                "{}",
                op.name()
            );
            c.check(&op.method, &op.path, resp);
        }
    }
}

#[test]
fn real_answers_of_every_hexoskin_route_match_their_documented_schema() {
    let db = TestDb::new();
    let mut outbox = Outbox::new();
    let options = Options::default().env("TESSERA_OUTBOX_DIR", &outbox.dir.to_string_lossy());
    let s = Server::start_on(&db, options);
    let doc = Doc::fetch(&s);
    let ops = hexoskin_operations(&s);
    let admin = admin(&s);
    let people = People {
        alice: user(&s, &admin, "alice"),
        bob: user(&s, &admin, "bob"),
        carol: user(&s, &admin, "carol"),
        admin,
    };
    let friend = bundle_id(&s, &people.alice.token, "friend");
    let coach = bundle_id(&s, &people.alice.token, "coach");
    let mut c = Checker {
        s: &s,
        doc: &doc,
        seen: BTreeSet::new(),
    };

    users(&mut c, &people);
    account(&mut c, &people);
    let trainer = bundles(&mut c, &people, friend);
    let friend_permission = permissions(&mut c, &people, friend, coach);
    requests(&mut c, &people, &mut outbox, friend, coach, trainer);
    withdraw(&mut c, &people, friend_permission);
    unauthenticated(&mut c, &ops, &people.alice);

    // Every documented status of every Hexoskin operation was seen answered.
    let mut missing = Vec::new();
    for op in &ops {
        for status in op.doc["responses"].as_object().expect("responses").keys() {
            let status: u16 = status.parse().expect("a status");
            let seen = c
                .seen
                .contains(&(op.method.clone(), op.path.clone(), status));
            if !seen && !UNSEEN.iter().any(|(s, _)| *s == status) {
                missing.push(format!("{} {status}", op.name()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "documented, never seen answered: {missing:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Answers the edge gives before a route runs, and a broken database

/// The answer `resp` of `op` when it is documented (checked against its schema), else a
/// line for the report.
fn undocumented(doc: &Doc, op: &Operation, resp: &Resp, what: &str) -> Option<String> {
    let documented = doc.operation(&op.method, &op.path)["responses"]
        .get(resp.status.to_string())
        .is_some();
    if documented {
        doc.check(&op.method, &op.path, resp);
        None
    } else {
        Some(format!(
            "{} ({what}) answered {}, which it does not document: {}",
            op.name(),
            resp.status,
            resp.body
        ))
    }
}

/// Sends `head` and the first byte of a body that never completes; the status line and
/// body of the answer (read until the server closes, at most 15 s).
fn trickle(s: &Server, head: &str) -> Resp {
    let address = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    stream.write_all(head.as_bytes()).expect("send the head");
    stream.write_all(b"{").expect("send a byte");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// The routes that read a body: one larger than the server reads, and one that does not
/// arrive within `TESSERA_BODY_TIMEOUT`, must each answer a status their operation
/// documents, in its schema.
#[test]
fn bodies_too_large_or_too_late_answer_a_documented_status() {
    let (s, _db) = Server::start_with(Options::default().env("TESSERA_BODY_TIMEOUT", "1"));
    let doc = Doc::fetch(&s);
    let token = s.admin_token();
    let mut report = Vec::new();
    for op in hexoskin_operations(&s)
        .iter()
        .filter(|op| op.method == "POST")
    {
        let resp = s
            .request("POST", &op.path)
            .bearer(&token)
            .header("Content-Type", "application/json")
            .raw(vec![b' '; 1024 * 1024 + 1])
            .send();
        assert!(resp.status >= 400, "{}: {}", op.name(), resp.body);
        report.extend(undocumented(&doc, op, &resp, "a body of 1 MiB + 1 byte"));

        let head = format!(
            "POST {} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
            op.path
        );
        let resp = trickle(&s, &head);
        assert!(resp.status >= 400, "{}: {}", op.name(), resp.body);
        report.extend(undocumented(&doc, op, &resp, "a body that never completes"));
    }
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

/// With the database cut off, every Hexoskin operation answers a status it documents, in
/// its schema.
#[test]
fn a_broken_database_answers_a_documented_status() {
    let db = TestDb::new();
    let s = Server::start_on(&db, Options::default());
    let doc = Doc::fetch(&s);
    let ops = hexoskin_operations(&s);
    let token = s.admin_token();
    db.cut_off();
    let answers: Vec<Resp> = std::thread::scope(|scope| {
        let calls: Vec<_> = ops
            .iter()
            .map(|op| {
                let (s, token) = (&s, &token);
                scope.spawn(move || {
                    let url = url_of(op, "1", "some-token");
                    let req = s.request(&op.method, &url).bearer(token);
                    if op.method == "POST" {
                        req.json(&json!({})).send()
                    } else {
                        req.send()
                    }
                })
            })
            .collect();
        calls
            .into_iter()
            .map(|call| call.join().expect("a call"))
            .collect()
    });
    db.restore();
    let mut report = Vec::new();
    for (op, resp) in ops.iter().zip(&answers) {
        assert!(
            resp.status >= 500,
            "{}: {} {}",
            op.name(),
            resp.status,
            resp.body
        );
        report.extend(undocumented(&doc, op, resp, "the database cut off"));
    }
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}
