//! KHEOPS albums over HTTP (kheops.md 1, 3, 4, 5.2, 5.9, 10, 11): authentication of the
//! family (Bearer and Basic, user credentials and capability secrets), albums and their
//! JSON, listing, editing and deleting, memberships and the admin role, the effects of
//! losing the admin role and of deleting a user on capability tokens, what capability
//! secrets may do on album endpoints, content negotiation, and the `/api` mount point.
//! Capability create/list/get/revoke/introspect themselves are covered by
//! `kheops_capabilities.rs`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{album_users, albums, capabilities};
use tessera_tests::{json, keys, sorted, string_field, Options, Resp, Server, TestDb};

const FORM: &str = "application/x-www-form-urlencoded";
const MALFORMED: &str = "Missing or malformed Authorization header";
const NOT_VALID: &str = "The token is not valid";
const ALBUM_NOT_FOUND: &str = "The album does not exist or you don't have access";
const ON_ALBUM: &str = "You don't have the permission to do this on this album";
const TOKEN_TYPE: &str = "You don't have the permission to do this with this type of token";
const PATCH_ADMIN: &str = "The user must be an admin for editing name, description or permissions";
const REMOVE_OTHER: &str = "You must be an admin for removing another user";
const ADD_YOURSELF: &str = "You can not add yourself to the album";
const USER_UNKNOWN: &str = "The user is unknown";
const NOT_MEMBER: &str = "The user is not a member of the album";
const UNSUPPORTED: &str = "Content-Type must be application/x-www-form-urlencoded";
const NOT_ACCEPTABLE: &str = "This resource only produces application/json";

/// Form names of the six album-wide permissions and their JSON fields and defaults (4.1).
const FLAGS: [(&str, &str, bool); 6] = [
    ("addUser", "add_user", false),
    ("downloadSeries", "download_series", true),
    ("sendSeries", "send_series", true),
    ("deleteSeries", "delete_series", false),
    ("addSeries", "add_series", true),
    ("writeComments", "write_comments", true),
];

// ---------------------------------------------------------------------------------------
// Time helpers.

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A response time (1.3): `YYYY-MM-DDTHH:MM:SS.mmmZ`, as milliseconds since the epoch.
#[track_caller]
fn parse_time(value: &Value) -> i64 {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time string"));
    let b = s.as_bytes();
    let shape_ok = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape_ok, "not YYYY-MM-DDTHH:MM:SS.mmmZ: {s:?}");
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let days = days_from_civil(n(0..4), n(5..7), n(8..10));
    ((days * 24 + n(11..13)) * 60 + n(14..16)) * 60_000 + n(17..19) * 1000 + n(20..23)
}

/// Lets the clock move on, so that the next event gets a later millisecond.
fn pause() {
    std::thread::sleep(Duration::from_millis(20));
}

// ---------------------------------------------------------------------------------------
// World and request helpers.

/// Users of a test: `alice`, `bob`, `jane` ("Jane Doe"), `mary` ("Mary Ann Lee"), and the
/// Tessera admin (a user like any other in this family).
struct World {
    admin: String,
    alice: String,
    alice_id: String,
    bob: String,
    bob_id: String,
    jane: String,
    jane_id: String,
    mary: String,
    mary_id: String,
}

fn world(server: &Server) -> World {
    let admin = server.admin_token();
    let alice_id = server.create_user(&admin, "alice", "alice@test.com", "alice-pw");
    let bob_id = server.create_user(&admin, "bob", "bob@test.com", "bob-pw");
    let jane_id = server.create_user(&admin, "Jane Doe", "jane@test.com", "jane-pw");
    let mary_id = server.create_user(&admin, "Mary Ann Lee", "mary@test.com", "mary-pw");
    World {
        alice: server.login("alice@test.com", "alice-pw"),
        bob: server.login("bob@test.com", "bob-pw"),
        jane: server.login("jane@test.com", "jane-pw"),
        mary: server.login("mary@test.com", "mary-pw"),
        admin,
        alice_id,
        bob_id,
        jane_id,
        mary_id,
    }
}

fn post_album(server: &Server, token: &str, fields: &[(&str, &str)]) -> Resp {
    server
        .request("POST", "/albums")
        .bearer(token)
        .form(fields)
        .send()
}

#[track_caller]
fn create_album(server: &Server, token: &str, name: &str) -> String {
    let resp = post_album(server, token, &[("name", name)]);
    assert_eq!(resp.status, 201, "create album: {}", resp.body);
    string_field(&resp.json(), "album_id")
}

fn get(server: &Server, token: &str, path: &str) -> Resp {
    server.request("GET", path).bearer(token).send()
}

fn get_album(server: &Server, token: &str, album: &str) -> Resp {
    get(server, token, &format!("/albums/{album}"))
}

#[track_caller]
fn album_json(server: &Server, token: &str, album: &str) -> Value {
    let resp = get_album(server, token, album);
    assert_eq!(resp.status, 200, "GET album: {}", resp.body);
    resp.json()
}

fn patch(server: &Server, token: &str, album: &str, fields: &[(&str, &str)]) -> Resp {
    server
        .request("PATCH", &format!("/albums/{album}"))
        .bearer(token)
        .form(fields)
        .send()
}

/// A bodiless request without Content-Type, as KHEOPS clients send PUT and DELETE.
fn call(server: &Server, method: &str, path: &str, token: &str) -> Resp {
    server.request(method, path).bearer(token).send()
}

fn put_member(server: &Server, token: &str, album: &str, user: &str) -> Resp {
    call(
        server,
        "PUT",
        &format!("/albums/{album}/users/{user}"),
        token,
    )
}

fn del_member(server: &Server, token: &str, album: &str, user: &str) -> Resp {
    call(
        server,
        "DELETE",
        &format!("/albums/{album}/users/{user}"),
        token,
    )
}

fn put_admin(server: &Server, token: &str, album: &str, user: &str) -> Resp {
    call(
        server,
        "PUT",
        &format!("/albums/{album}/users/{user}/admin"),
        token,
    )
}

fn del_admin(server: &Server, token: &str, album: &str, user: &str) -> Resp {
    call(
        server,
        "DELETE",
        &format!("/albums/{album}/users/{user}/admin"),
        token,
    )
}

#[track_caller]
fn assert_status(resp: &Resp, status: u16) {
    assert_eq!(resp.status, status, "body: {}", resp.body);
}

#[track_caller]
fn assert_no_content(resp: &Resp) {
    assert_eq!(resp.status, 204, "body: {}", resp.body);
    assert!(resp.body.is_empty(), "204 with a body: {:?}", resp.body);
}

#[track_caller]
fn assert_album_not_found(resp: &Resp) {
    resp.assert_kheops_error(404, "Album Not Found", ALBUM_NOT_FOUND);
}

#[track_caller]
fn assert_forbidden(resp: &Resp, detail: &str) {
    resp.assert_kheops_error(403, "Authorization error", detail);
}

/// Creates a capability token; returns (id, secret).
#[track_caller]
fn capability(server: &Server, token: &str, fields: &[(&str, &str)]) -> (String, String) {
    let resp = server
        .request("POST", "/capabilities")
        .bearer(token)
        .form(fields)
        .send();
    assert_eq!(resp.status, 201, "create capability: {}", resp.body);
    let body = resp.json();
    (string_field(&body, "id"), string_field(&body, "secret"))
}

/// An album-scope token with `read_permission=true`.
#[track_caller]
fn album_cap(server: &Server, token: &str, album: &str) -> (String, String) {
    capability(
        server,
        token,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", album),
            ("read_permission", "true"),
        ],
    )
}

#[track_caller]
fn user_cap(server: &Server, token: &str) -> (String, String) {
    capability(server, token, &[("title", "t"), ("scope_type", "user")])
}

fn get_cap(server: &Server, token: &str, id: &str) -> Resp {
    get(server, token, &format!("/capabilities/{id}"))
}

#[track_caller]
fn active(server: &Server, secret: &str) -> bool {
    let resp = server
        .request("POST", "/token/introspect")
        .form(&[("token", secret)])
        .send();
    assert_eq!(resp.status, 200, "introspect: {}", resp.body);
    let body = resp.json();
    match body["active"].as_bool() {
        Some(true) => true,
        Some(false) => {
            assert_eq!(body, json!({"active": false}));
            false
        }
        None => panic!("no active field: {body}"),
    }
}

#[track_caller]
fn assert_cap_not_found(resp: &Resp) {
    resp.assert_kheops_error(404, "Not Found", "Capability token not found");
}

const ALBUM_KEYS: [&str; 14] = [
    "album_id",
    "id",
    "name",
    "description",
    "created_time",
    "last_event_time",
    "number_of_users",
    "add_user",
    "download_series",
    "send_series",
    "delete_series",
    "add_series",
    "write_comments",
    "is_admin",
];

/// The full album JSON of 4.2 (no `users`).
#[track_caller]
fn assert_album_shape(album: &Value) {
    assert_eq!(keys(album), sorted(&ALBUM_KEYS), "{album}");
    let id = string_field(album, "album_id");
    assert_eq!(album["id"], id.as_str(), "{album}");
    assert_eq!(id.len(), 10, "{id:?}");
    assert!(id.bytes().all(|c| c.is_ascii_alphanumeric()), "{id:?}");
    parse_time(&album["created_time"]);
    parse_time(&album["last_event_time"]);
    assert!(album["number_of_users"].is_u64(), "{album}");
    for (_, field, _) in FLAGS {
        assert!(album[field].is_boolean(), "{field} in {album}");
    }
    assert!(album["is_admin"].is_boolean(), "{album}");
}

/// A 200 list: the array, with `X-Total-Count` and the expose header checked.
#[track_caller]
fn assert_list(resp: &Resp, total: usize) -> Vec<Value> {
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(
        resp.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "content-type: {:?}",
        resp.header("content-type")
    );
    assert_eq!(
        resp.header("x-total-count").as_deref(),
        Some(total.to_string().as_str()),
        "{}",
        resp.body
    );
    let expose = resp
        .header("access-control-expose-headers")
        .unwrap_or_default();
    assert!(
        expose
            .split(',')
            .any(|h| h.trim().eq_ignore_ascii_case("x-total-count")),
        "Access-Control-Expose-Headers: {expose:?}"
    );
    resp.json().as_array().expect("an array").clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| string_field(i, "album_id")).collect()
}

fn user_object(email: &str, sub: &str, name: &str, first: &str, last: &str) -> Value {
    json!({"email": email, "sub": sub, "name": name, "first_name": first, "last_name": last})
}

fn member(email: &str, sub: &str, name: &str, first: &str, last: &str, admin: bool) -> Value {
    let mut v = user_object(email, sub, name, first, last);
    v["is_admin"] = json!(admin);
    v
}

/// `WWW-Authenticate` values of a 401 (all of them; the kit keeps only the first value).
fn challenges(server: &Server, path: &str, authorization: Option<&str>) -> Vec<String> {
    let url = format!("{}{}", server.base, path);
    let mut req = ureq::get(&url);
    if let Some(a) = authorization {
        req = req.set("Authorization", a);
    }
    match req.call() {
        Err(ureq::Error::Status(401, r)) => r
            .all("www-authenticate")
            .iter()
            .map(|v| v.to_string())
            .collect(),
        Ok(r) => panic!("expected 401, got {}", r.status()),
        Err(e) => panic!("expected 401, got {e}"),
    }
}

#[track_caller]
fn assert_challenges(values: &[String]) {
    let lower: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
    let has = |scheme: &str| {
        lower.iter().any(|v| {
            v.split(',')
                .any(|part| part.trim_start().starts_with(scheme))
        })
    };
    assert!(has("bearer"), "WWW-Authenticate: {values:?}");
    assert!(has("basic"), "WWW-Authenticate: {values:?}");
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

// ---------------------------------------------------------------------------------------
// Database helpers.

fn album_rows(db: &TestDb, album: &str) -> i64 {
    albums::table
        .filter(albums::id.eq(album))
        .count()
        .get_result(&mut *db.conn())
        .unwrap()
}

/// (user id, admin) of every membership of an album, by user id.
fn membership_rows(db: &TestDb, album: &str) -> Vec<(String, bool)> {
    let mut rows: Vec<(String, bool)> = album_users::table
        .filter(album_users::album_id.eq(album))
        .select((album_users::user_id, album_users::admin))
        .load(&mut *db.conn())
        .unwrap();
    rows.sort();
    rows
}

fn memberships_of_user(db: &TestDb, user: &str) -> i64 {
    album_users::table
        .filter(album_users::user_id.eq(user))
        .count()
        .get_result(&mut *db.conn())
        .unwrap()
}

fn capability_rows(db: &TestDb, id: &str) -> i64 {
    capabilities::table
        .filter(capabilities::id.eq(id))
        .count()
        .get_result(&mut *db.conn())
        .unwrap()
}

/// (revoked, revoked_by) of a stored capability token.
fn revocation_row(db: &TestDb, id: &str) -> (bool, Option<String>) {
    capabilities::table
        .filter(capabilities::id.eq(id))
        .select((
            capabilities::revoke_time.is_not_null(),
            capabilities::revoked_by,
        ))
        .first(&mut *db.conn())
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// 3.1, 3.2: presenting and resolving credentials.

#[test]
fn bearer_and_basic_carry_user_credentials() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let path = format!("/albums/{album}");
    let ok = |authorization: &str| {
        let resp = server
            .request("GET", &path)
            .header("Authorization", authorization)
            .send();
        assert_eq!(resp.status, 200, "{authorization:?}: {}", resp.body);
        assert_eq!(resp.json()["album_id"], album.as_str());
        assert_eq!(resp.json()["is_admin"], true);
    };
    // The scheme name is case-insensitive; whitespace around the credential is ignored.
    ok(&format!("Bearer {}", w.alice));
    ok(&format!("bearer {}", w.alice));
    ok(&format!("BEARER {}", w.alice));
    ok(&format!("bEaReR {}", w.alice));
    ok(&format!("Bearer    {}   ", w.alice));
    // Basic: the credential is the password; the user name is ignored.
    ok(&format!(
        "Basic {}",
        b64(&format!("alice@test.com:{}", w.alice))
    ));
    ok(&format!("Basic {}", b64(&format!("anything:{}", w.alice))));
    ok(&format!(
        "Basic {}",
        b64(&format!("bob@test.com:{}", w.alice))
    ));
    ok(&format!("Basic {}", b64(&format!(":{}", w.alice))));
    ok(&format!("basic {}", b64(&format!("x:{}", w.alice))));
    ok(&format!("BASIC {}", b64(&format!("x:{}", w.alice))));
    let resp = server
        .request("GET", &path)
        .basic("whoever", &w.alice)
        .send();
    assert_status(&resp, 200);

    // The credential is everything after the FIRST ':'.
    server
        .request("GET", &path)
        .header(
            "Authorization",
            &format!("Basic {}", b64(&format!("a:b:{}", w.alice))),
        )
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);

    // The same Keyrock API token acts as alice everywhere in the family.
    let resp = post_album(&server, &w.alice, &[("name", "Second")]);
    assert_status(&resp, 201);
    let list = assert_list(&get(&server, &w.alice, "/albums"), 2);
    assert_eq!(list.len(), 2);
    let resp = server.request("GET", "/albums").basic("", &w.alice).send();
    assert_eq!(assert_list(&resp, 2).len(), 2);
    // A credential of another user is that user: bob is no member of alice's album.
    assert_album_not_found(&get_album(&server, &w.bob, &album));
    assert_album_not_found(
        &server
            .request("GET", &path)
            .basic("alice@test.com", &w.bob)
            .send(),
    );
}

#[test]
fn missing_malformed_and_invalid_credentials_are_refused() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let path = format!("/albums/{album}");

    // 3.1: missing or malformed header.
    let malformed = |authorization: Option<&str>| {
        let mut req = server.request("GET", &path);
        if let Some(a) = authorization {
            req = req.header("Authorization", a);
        }
        let resp = req.send();
        resp.assert_kheops_error(401, "Unauthorized", MALFORMED);
        assert!(
            resp.header("www-authenticate").is_some(),
            "{authorization:?}: no WWW-Authenticate"
        );
    };
    malformed(None);
    malformed(Some(&format!("Token {}", w.alice)));
    malformed(Some(&format!("Digest {}", w.alice)));
    malformed(Some(&w.alice));
    malformed(Some(&format!("Bearer{}", w.alice)));
    malformed(Some("Bearer"));
    malformed(Some("Bearer   "));
    malformed(Some("Basic"));
    malformed(Some("Basic !!not*base64!!"));
    malformed(Some(&format!(
        "Basic {}",
        b64(&format!("no-colon-{}", w.alice))
    )));
    malformed(Some(&format!("Basic {}", b64(&w.alice))));
    malformed(Some(&format!("Basic {}", b64("alice@test.com:"))));
    malformed(Some(&format!("Basic {}", b64("alice@test.com:   "))));
    // The Keyrock header is not this family's Authorization header.
    server
        .request("GET", &path)
        .token(&w.alice)
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    // Also on lists and membership routes.
    server
        .request("GET", "/albums")
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    server
        .request("POST", "/albums")
        .form(&[("name", "x")])
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    server
        .request("PUT", &format!("/albums/{album}/users/{}", w.bob_id))
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    assert_challenges(&challenges(&server, &path, None));
    assert_challenges(&challenges(&server, "/albums", Some("Token abc")));

    // 3.2: unknown credentials.
    let not_valid = |authorization: &str| {
        let resp = server
            .request("GET", &path)
            .header("Authorization", authorization)
            .send();
        resp.assert_kheops_error(401, "Unauthorized", NOT_VALID);
        assert!(
            resp.header("www-authenticate").is_some(),
            "{authorization:?}"
        );
    };
    not_valid("Bearer nope");
    not_valid("Bearer 00000000-0000-4000-8000-000000000000");
    not_valid("Bearer ABCDEFGHIJKLMNOPQRSTUV");
    not_valid(&format!("Basic {}", b64("x:ABCDEFGHIJKLMNOPQRSTUV")));
    // A user's password is never a credential here, whatever the user name.
    not_valid(&format!("Basic {}", b64("alice@test.com:alice-pw")));
    not_valid(&format!("Basic {}", b64("alice:alice-pw")));
    not_valid("Bearer alice-pw");
    assert_challenges(&challenges(&server, &path, Some("Bearer nope")));
    assert_challenges(&challenges(
        &server,
        &path,
        Some(&format!("Basic {}", b64("alice@test.com:alice-pw"))),
    ));

    // A revoked Keyrock token.
    let second = server.login("alice@test.com", "alice-pw");
    assert_status(&get_album(&server, &second, &album), 200);
    let resp = server
        .request("DELETE", "/v1/auth/tokens")
        .token(&w.alice)
        .header("X-Subject-Token", &second)
        .send();
    assert_eq!(resp.status, 204, "{}", resp.body);
    get_album(&server, &second, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert_status(&get_album(&server, &w.alice, &album), 200);

    // The token of a deleted user.
    let gone_id = server.create_user(&w.admin, "gone", "gone@test.com", "gone-pw");
    let gone = server.login("gone@test.com", "gone-pw");
    assert_status(&get(&server, &gone, "/albums"), 200);
    let resp = server
        .request("DELETE", &format!("/v1/users/{gone_id}"))
        .token(&w.admin)
        .send();
    assert_eq!(resp.status, 204, "{}", resp.body);
    get(&server, &gone, "/albums").assert_kheops_error(401, "Unauthorized", NOT_VALID);
    server
        .request("GET", "/albums")
        .basic("gone@test.com", &gone)
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
}

#[test]
fn an_expired_keyrock_token_is_not_valid() {
    let (server, _db) =
        Server::start_with(Options::default().env("TESSERA_API_TOKEN_LIFETIME", "1"));
    // The Tessera admin is a user like any other in this family.
    let admin = server.admin_token();
    let album = create_album(&server, &admin, "Short");
    std::thread::sleep(Duration::from_millis(1500));
    get_album(&server, &admin, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    server
        .request("GET", "/albums")
        .basic("admin", &admin)
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
}

// ---------------------------------------------------------------------------------------
// 4.1, 4.2, 4.3: POST /albums.

#[test]
fn create_answers_the_album_json_field_by_field() {
    let (server, db) = Server::start();
    let w = world(&server);

    let before = now_ms();
    let resp = post_album(&server, &w.alice, &[("name", "Study group")]);
    let after = now_ms();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert!(
        resp.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        resp.header("content-type")
    );
    let album = resp.json();
    assert_album_shape(&album);
    let id = string_field(&album, "album_id");
    assert_eq!(album["id"], id.as_str());
    assert_eq!(album["name"], "Study group");
    assert_eq!(album["description"], "");
    assert_eq!(album["number_of_users"], 1);
    assert_eq!(album["is_admin"], true);
    for (_, field, default) in FLAGS {
        assert_eq!(album[field], default, "{field}");
    }
    let created = parse_time(&album["created_time"]);
    let last = parse_time(&album["last_event_time"]);
    assert!(
        created >= before - 5000 && created <= after + 5000,
        "{album}"
    );
    assert!(last >= created, "{album}");
    // Read back: the same object.
    assert_eq!(album_json(&server, &w.alice, &id), album);
    // Stored: the album and its first admin.
    assert_eq!(album_rows(&db, &id), 1);
    assert_eq!(membership_rows(&db, &id), vec![(w.alice_id.clone(), true)]);

    // Every parameter; name and description trimmed; booleans case-insensitive.
    let resp = post_album(
        &server,
        &w.alice,
        &[
            ("name", "  Trimmed name \t"),
            ("description", "  A description \n"),
            ("addUser", "TRUE"),
            ("downloadSeries", "False"),
            ("sendSeries", "fAlSe"),
            ("deleteSeries", "true"),
            ("addSeries", "FALSE"),
            ("writeComments", "false"),
            ("unknown", "ignored"),
        ],
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let other = resp.json();
    assert_album_shape(&other);
    assert_ne!(other["album_id"], album["album_id"]);
    assert_eq!(other["name"], "Trimmed name");
    assert_eq!(other["description"], "A description");
    assert_eq!(other["add_user"], true);
    assert_eq!(other["download_series"], false);
    assert_eq!(other["send_series"], false);
    assert_eq!(other["delete_series"], true);
    assert_eq!(other["add_series"], false);
    assert_eq!(other["write_comments"], false);
    assert_eq!(other["is_admin"], true);
    assert_eq!(other["number_of_users"], 1);
    assert_eq!(
        album_json(&server, &w.alice, &string_field(&other, "id")),
        other
    );

    // Empty values count as absent: the defaults apply. A repeated parameter: the first wins.
    let mut fields: Vec<(&str, &str)> =
        vec![("name", "First"), ("name", "Second"), ("description", "")];
    for (param, _, _) in FLAGS {
        fields.push((param, ""));
    }
    let resp = post_album(&server, &w.alice, &fields);
    assert_eq!(resp.status, 201, "{}", resp.body);
    let third = resp.json();
    assert_eq!(third["name"], "First");
    assert_eq!(third["description"], "");
    for (_, field, default) in FLAGS {
        assert_eq!(third[field], default, "{field}");
    }

    // Limits: 255 characters of name and 2048 of description, counted in characters.
    let name = "é".repeat(255);
    let description = "d".repeat(2048);
    let resp = post_album(
        &server,
        &w.alice,
        &[("name", &name), ("description", &description)],
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.json()["name"], name.as_str());
    assert_eq!(resp.json()["description"], description.as_str());

    // The Tessera admin creates albums like any user; they are its own.
    let resp = post_album(&server, &w.admin, &[("name", "Admin's")]);
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.json()["is_admin"], true);
    assert_eq!(assert_list(&get(&server, &w.alice, "/albums"), 4).len(), 4);
}

#[test]
fn create_validates_the_form() {
    let (server, db) = Server::start();
    let w = world(&server);
    let bad = |fields: &[(&str, &str)], detail: &str| {
        post_album(&server, &w.alice, fields).assert_kheops_error(
            400,
            "Bad Form Parameter",
            detail,
        );
    };
    let empty = "Param 'name' can not be empty";
    bad(&[], empty);
    bad(&[("description", "no name")], empty);
    bad(&[("name", "")], empty);
    bad(&[("name", "   ")], empty);
    bad(&[("name", " \t ")], empty);
    bad(&[("Name", "wrong case")], empty);
    bad(
        &[("name", &"n".repeat(256))],
        "Param 'name' is too long max expected: 255 characters but got :256",
    );
    bad(
        &[("name", &"é".repeat(300))],
        "Param 'name' is too long max expected: 255 characters but got :300",
    );
    bad(
        &[("name", "ok"), ("description", &"d".repeat(2049))],
        "Param 'description' is too long max expected: 2048 characters but got :2049",
    );
    for (param, _, _) in FLAGS {
        for value in ["yes", "1", "0", "no", "truee"] {
            bad(
                &[("name", "ok"), (param, value)],
                &format!("Param '{param}' must be 'true' or 'false'"),
            );
        }
    }
    // Nothing was created.
    assert_eq!(
        assert_list(&get(&server, &w.alice, "/albums"), 0),
        Vec::<Value>::new()
    );
    assert_eq!(memberships_of_user(&db, &w.alice_id), 0);
}

// ---------------------------------------------------------------------------------------
// 4.3: GET /albums.

/// Asserts that `items` are ordered by `key` (ascending, or descending when `desc`), ties
/// by `album_id` ascending (bytes).
#[track_caller]
fn assert_order(items: &[Value], key: &str, desc: bool) {
    let value = |v: &Value| -> (i64, String) {
        match key {
            "created_time" | "last_event_time" => (parse_time(&v[key]), String::new()),
            "number_of_users" => (v[key].as_i64().unwrap(), String::new()),
            _ => (0, string_field(v, key)),
        }
    };
    for pair in items.windows(2) {
        let (a, b) = (value(&pair[0]), value(&pair[1]));
        let strictly = if desc { a > b } else { a < b };
        let tie = a == b
            && string_field(&pair[0], "album_id").as_bytes()
                < string_field(&pair[1], "album_id").as_bytes();
        assert!(
            strictly || tie,
            "sort {key} desc={desc}: {} before {}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn list_shows_the_callers_albums_sorted_and_paged() {
    let (server, _db) = Server::start();
    let w = world(&server);

    // alice: delta (alone), alpha (3 users), charlie (2 users); bob: bravo (alice a plain
    // member, 2 users) and echo (alice not a member).
    let delta = create_album(&server, &w.alice, "delta");
    pause();
    let alpha = create_album(&server, &w.alice, "alpha");
    pause();
    let charlie = create_album(&server, &w.alice, "charlie");
    pause();
    let bravo = create_album(&server, &w.bob, "bravo");
    pause();
    let echo = create_album(&server, &w.bob, "echo");
    pause();
    assert_status(&put_member(&server, &w.alice, &alpha, &w.bob_id), 201);
    assert_status(&put_member(&server, &w.alice, &alpha, &w.jane_id), 201);
    assert_status(&put_member(&server, &w.alice, &charlie, &w.mary_id), 201);
    assert_status(&put_member(&server, &w.bob, &bravo, &w.alice_id), 201);
    pause();
    assert_status(
        &patch(&server, &w.alice, &delta, &[("description", "edited last")]),
        200,
    );

    // Default: -created_time.
    let items = assert_list(&get(&server, &w.alice, "/albums"), 4);
    assert_eq!(
        ids(&items),
        vec![bravo.clone(), charlie.clone(), alpha.clone(), delta.clone()]
    );
    assert!(!ids(&items).contains(&echo));
    for item in &items {
        assert_album_shape(item);
        assert!(item.get("users").is_none(), "{item}");
        // Each item is what GET /albums/{album} answers.
        assert_eq!(
            *item,
            album_json(&server, &w.alice, &string_field(item, "id"))
        );
    }
    let by_id = |id: &str| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(by_id(&alpha)["number_of_users"], 3);
    assert_eq!(by_id(&charlie)["number_of_users"], 2);
    assert_eq!(by_id(&bravo)["number_of_users"], 2);
    assert_eq!(by_id(&delta)["number_of_users"], 1);
    assert_eq!(by_id(&bravo)["is_admin"], false);
    assert_eq!(by_id(&alpha)["is_admin"], true);
    assert_eq!(by_id(&delta)["description"], "edited last");

    // Sort keys.
    let sort =
        |value: &str| assert_list(&get(&server, &w.alice, &format!("/albums?sort={value}")), 4);
    assert_eq!(ids(&sort("-created_time")), ids(&items));
    let asc = sort("created_time");
    assert_eq!(
        ids(&asc),
        vec![delta.clone(), alpha.clone(), charlie.clone(), bravo.clone()]
    );
    assert_order(&asc, "created_time", false);
    let names = sort("name");
    assert_eq!(
        ids(&names),
        vec![alpha.clone(), bravo.clone(), charlie.clone(), delta.clone()]
    );
    assert_order(&names, "name", false);
    let names = sort("-name");
    assert_eq!(
        ids(&names),
        vec![delta.clone(), charlie.clone(), bravo.clone(), alpha.clone()]
    );
    let events = sort("-last_event_time");
    assert_eq!(string_field(&events[0], "id"), delta);
    assert_order(&events, "last_event_time", true);
    let events = sort("last_event_time");
    assert_eq!(string_field(&events[3], "id"), delta);
    assert_order(&events, "last_event_time", false);
    let users = sort("number_of_users");
    assert_order(&users, "number_of_users", false);
    assert_eq!(string_field(&users[0], "id"), delta);
    assert_eq!(string_field(&users[3], "id"), alpha);
    let users = sort("-number_of_users");
    assert_order(&users, "number_of_users", true);
    assert_eq!(string_field(&users[0], "id"), alpha);
    assert_eq!(string_field(&users[3], "id"), delta);

    // Paging: X-Total-Count before limit/offset.
    let page = |query: &str| assert_list(&get(&server, &w.alice, &format!("/albums?{query}")), 4);
    assert_eq!(ids(&page("limit=2")), vec![bravo.clone(), charlie.clone()]);
    assert_eq!(
        ids(&page("limit=2&offset=1")),
        vec![charlie.clone(), alpha.clone()]
    );
    assert_eq!(ids(&page("offset=3")), vec![delta.clone()]);
    assert_eq!(ids(&page("offset=4")), Vec::<String>::new());
    assert_eq!(ids(&page("offset=100&limit=1")), Vec::<String>::new());
    assert_eq!(ids(&page("limit=0")), Vec::<String>::new());
    assert_eq!(page("limit=5000").len(), 4);
    assert_eq!(
        ids(&page("sort=name&limit=2&offset=2")),
        vec![charlie.clone(), delta.clone()]
    );

    // canCreateCapabilityToken=true: only albums where the caller is admin.
    let admin_only =
        |query: &str| assert_list(&get(&server, &w.alice, &format!("/albums?{query}")), 3);
    assert_eq!(
        ids(&admin_only("canCreateCapabilityToken=true")),
        vec![charlie.clone(), alpha.clone(), delta.clone()]
    );
    assert_eq!(
        ids(&admin_only(
            "canCreateCapabilityToken=TRUE&sort=name&limit=1"
        )),
        vec![alpha.clone()]
    );
    assert_eq!(page("canCreateCapabilityToken=false").len(), 4);

    // Bob sees his own: bravo, echo, alpha (member).
    let bob_items = assert_list(&get(&server, &w.bob, "/albums?sort=name"), 3);
    assert_eq!(
        ids(&bob_items),
        vec![alpha.clone(), bravo.clone(), echo.clone()]
    );
    assert_eq!(bob_items[0]["is_admin"], false);
    // Nobody else's albums: the Tessera admin has none.
    assert_list(&get(&server, &w.admin, "/albums"), 0);
    assert_list(
        &get(&server, &w.admin, "/albums?canCreateCapabilityToken=true"),
        0,
    );

    // Bad query parameters.
    let bad = |query: &str, param: &str| {
        let resp = get(&server, &w.alice, &format!("/albums?{query}"));
        assert_eq!(resp.status, 400, "{query}: {}", resp.body);
        let body = resp.json();
        assert_eq!(body["message"], "Bad Query Parameter", "{query}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(
            detail.starts_with(&format!("Param '{param}'")),
            "{query}: {body}"
        );
    };
    bad("sort=foo", "sort");
    bad("sort=-foo", "sort");
    bad("sort=--name", "sort");
    bad("sort=Name", "sort");
    bad("sort=album_id", "sort");
    bad("limit=abc", "limit");
    bad("limit=-1", "limit");
    bad("limit=1.5", "limit");
    bad("offset=-2", "offset");
    bad("offset=x", "offset");
    bad("canCreateCapabilityToken=yes", "canCreateCapabilityToken");
    bad("canCreateCapabilityToken=1", "canCreateCapabilityToken");
}

// ---------------------------------------------------------------------------------------
// 4.3: GET /albums/{album}.

#[test]
fn get_album_answers_members_and_hides_the_rest() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    assert_status(&put_member(&server, &w.alice, &album, &w.jane_id), 201);

    let as_alice = album_json(&server, &w.alice, &album);
    assert_album_shape(&as_alice);
    assert_eq!(as_alice["number_of_users"], 3);
    assert_eq!(as_alice["is_admin"], true);
    // A plain member: the same album, is_admin false.
    let as_bob = album_json(&server, &w.bob, &album);
    assert_album_shape(&as_bob);
    assert_eq!(as_bob["is_admin"], false);
    let mut expected = as_alice.clone();
    expected["is_admin"] = json!(false);
    assert_eq!(as_bob, expected);

    // includeUsers=true adds the member list of GET /albums/{album}/users.
    let users = assert_list(&get(&server, &w.bob, &format!("/albums/{album}/users")), 3);
    for query in ["includeUsers=true", "includeUsers=TRUE"] {
        let resp = get(&server, &w.bob, &format!("/albums/{album}?{query}"));
        assert_eq!(resp.status, 200, "{}", resp.body);
        let mut with_users = resp.json();
        assert_eq!(with_users["users"], Value::Array(users.clone()), "{query}");
        with_users.as_object_mut().unwrap().remove("users");
        assert_eq!(with_users, as_bob);
    }
    let resp = get(
        &server,
        &w.bob,
        &format!("/albums/{album}?includeUsers=false"),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), as_bob);
    let resp = get(
        &server,
        &w.bob,
        &format!("/albums/{album}?includeUsers=maybe"),
    );
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.json()["message"], "Bad Query Parameter");

    // Not a member (the Tessera admin included), unknown, malformed: all the same 404.
    assert_album_not_found(&get_album(&server, &w.mary, &album));
    assert_album_not_found(&get_album(&server, &w.admin, &album));
    assert_album_not_found(&get(
        &server,
        &w.mary,
        &format!("/albums/{album}?includeUsers=true"),
    ));
    assert_album_not_found(&get_album(&server, &w.alice, "AAAAAAAAAA"));
    assert_album_not_found(&get_album(&server, &w.alice, "short"));
    assert_album_not_found(&get_album(&server, &w.alice, &format!("{album}x")));
    assert_album_not_found(&get_album(&server, &w.alice, &album[..9]));
    assert_album_not_found(&get_album(&server, &w.alice, "abcde-ghij"));
    assert_album_not_found(&get_album(&server, &w.alice, "abcde%20ghij"));
    let lower = album.to_ascii_lowercase();
    if lower != album {
        assert_album_not_found(&get_album(&server, &w.alice, &lower));
    }
}

// ---------------------------------------------------------------------------------------
// 4.3: PATCH /albums/{album}.

#[test]
fn patch_is_for_admins_and_changes_only_what_is_given() {
    let (server, db) = Server::start();
    let w = world(&server);
    let resp = post_album(
        &server,
        &w.alice,
        &[("name", "Original"), ("description", "Old description")],
    );
    assert_status(&resp, 201);
    let original = resp.json();
    let album = string_field(&original, "id");
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    let before = album_json(&server, &w.alice, &album);

    // A plain member, a non-member, an unknown album.
    assert_forbidden(
        &patch(&server, &w.bob, &album, &[("name", "Bob's")]),
        PATCH_ADMIN,
    );
    assert_forbidden(
        &patch(&server, &w.bob, &album, &[("addUser", "true")]),
        PATCH_ADMIN,
    );
    assert_album_not_found(&patch(&server, &w.jane, &album, &[("name", "Jane's")]));
    assert_album_not_found(&patch(&server, &w.alice, "AAAAAAAAAA", &[("name", "x")]));
    assert_album_not_found(&patch(&server, &w.alice, "bad", &[("name", "x")]));
    assert_eq!(album_json(&server, &w.alice, &album), before);

    // Name only: trimmed; the rest unchanged; last_event_time moves on.
    pause();
    let resp = patch(&server, &w.alice, &album, &[("name", "  Renamed  ")]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let after = resp.json();
    assert_album_shape(&after);
    assert_eq!(after["name"], "Renamed");
    assert_eq!(after["description"], "Old description");
    assert_eq!(after["is_admin"], true);
    assert_eq!(after["number_of_users"], 2);
    assert_eq!(after["created_time"], before["created_time"]);
    assert!(
        parse_time(&after["last_event_time"]) > parse_time(&before["last_event_time"]),
        "{before} then {after}"
    );
    for (_, field, default) in FLAGS {
        assert_eq!(after[field], default, "{field}");
    }
    assert_eq!(album_json(&server, &w.alice, &album), after);

    // Flags and description; empty values are absent (unchanged).
    pause();
    let resp = patch(
        &server,
        &w.alice,
        &album,
        &[
            ("name", ""),
            ("description", "  New description "),
            ("addUser", "True"),
            ("deleteSeries", "TRUE"),
            ("writeComments", "false"),
            ("sendSeries", ""),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let edited = resp.json();
    assert_eq!(edited["name"], "Renamed");
    assert_eq!(edited["description"], "New description");
    assert_eq!(edited["add_user"], true);
    assert_eq!(edited["download_series"], true);
    assert_eq!(edited["send_series"], true);
    assert_eq!(edited["delete_series"], true);
    assert_eq!(edited["add_series"], true);
    assert_eq!(edited["write_comments"], false);
    assert!(parse_time(&edited["last_event_time"]) > parse_time(&after["last_event_time"]));
    // Members see the new values (is_admin their own).
    let as_bob = album_json(&server, &w.bob, &album);
    let mut expected = edited.clone();
    expected["is_admin"] = json!(false);
    assert_eq!(as_bob, expected);

    // An empty description is "absent"; every other flag can be turned off again.
    let resp = patch(
        &server,
        &w.alice,
        &album,
        &[
            ("description", ""),
            ("downloadSeries", "false"),
            ("addSeries", "false"),
            ("addUser", "false"),
        ],
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    let edited = resp.json();
    assert_eq!(edited["description"], "New description");
    assert_eq!(edited["download_series"], false);
    assert_eq!(edited["add_series"], false);
    assert_eq!(edited["add_user"], false);
    assert_eq!(edited["delete_series"], true);

    // Validation as for creation; a refused edit changes nothing.
    let current = album_json(&server, &w.alice, &album);
    let bad = |fields: &[(&str, &str)], detail: &str| {
        patch(&server, &w.alice, &album, fields).assert_kheops_error(
            400,
            "Bad Form Parameter",
            detail,
        );
    };
    bad(&[("name", "   ")], "Param 'name' can not be empty");
    bad(
        &[("name", &"n".repeat(256))],
        "Param 'name' is too long max expected: 255 characters but got :256",
    );
    bad(
        &[("description", &"d".repeat(2049))],
        "Param 'description' is too long max expected: 2048 characters but got :2049",
    );
    for (param, _, _) in FLAGS {
        bad(
            &[(param, "yes")],
            &format!("Param '{param}' must be 'true' or 'false'"),
        );
    }
    assert_eq!(album_json(&server, &w.alice, &album), current);

    // A second admin may edit too.
    assert_no_content(&put_admin(&server, &w.alice, &album, &w.bob_id));
    let resp = patch(&server, &w.bob, &album, &[("name", "Bob's now")]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["name"], "Bob's now");
    let stored: String = albums::table
        .filter(albums::id.eq(&album))
        .select(albums::name)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(stored, "Bob's now");
}

// ---------------------------------------------------------------------------------------
// 4.3, 4.4: DELETE /albums/{album}.

#[test]
fn delete_album_is_for_admins_and_removes_its_tokens() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Doomed");
    let other = create_album(&server, &w.alice, "Kept");
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    assert_status(&put_member(&server, &w.alice, &album, &w.jane_id), 201);
    assert_no_content(&put_admin(&server, &w.alice, &album, &w.jane_id));
    let (cap_a, secret_a) = album_cap(&server, &w.alice, &album);
    let (cap_j, secret_j) = album_cap(&server, &w.jane, &album);
    let (cap_k, secret_k) = album_cap(&server, &w.alice, &other);
    let (cap_u, secret_u) = user_cap(&server, &w.alice);
    assert!(active(&server, &secret_a));
    assert!(active(&server, &secret_j));

    // A plain member, a non-member, unknown and malformed ids.
    assert_forbidden(
        &call(&server, "DELETE", &format!("/albums/{album}"), &w.bob),
        ON_ALBUM,
    );
    assert_album_not_found(&call(
        &server,
        "DELETE",
        &format!("/albums/{album}"),
        &w.mary,
    ));
    assert_album_not_found(&call(&server, "DELETE", "/albums/AAAAAAAAAA", &w.alice));
    assert_album_not_found(&call(&server, "DELETE", "/albums/nope", &w.alice));
    assert_eq!(album_json(&server, &w.bob, &album)["number_of_users"], 3);

    // The admin deletes it: 204, then it is unknown to everyone.
    assert_no_content(&call(
        &server,
        "DELETE",
        &format!("/albums/{album}"),
        &w.alice,
    ));
    assert_album_not_found(&get_album(&server, &w.alice, &album));
    assert_album_not_found(&get_album(&server, &w.bob, &album));
    assert_album_not_found(&call(
        &server,
        "DELETE",
        &format!("/albums/{album}"),
        &w.alice,
    ));
    assert_album_not_found(&put_member(&server, &w.alice, &album, &w.mary_id));
    let left = assert_list(&get(&server, &w.bob, "/albums"), 0);
    assert!(left.is_empty());
    assert_eq!(
        ids(&assert_list(&get(&server, &w.alice, "/albums"), 1)),
        vec![other.clone()]
    );

    // Its tokens are removed, not revoked: unknown everywhere (of both creators).
    for (cap, secret) in [(&cap_a, &secret_a), (&cap_j, &secret_j)] {
        assert!(!active(&server, secret));
        assert_cap_not_found(&get_cap(&server, &w.alice, cap));
        assert_cap_not_found(&get_cap(&server, &w.jane, cap));
        get_album(&server, secret, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
        assert_eq!(capability_rows(&db, cap), 0);
    }
    // Tokens of other albums and user-scope tokens stay.
    assert!(active(&server, &secret_k));
    assert!(active(&server, &secret_u));
    assert_eq!(get_cap(&server, &w.alice, &cap_k).status, 200);
    assert_eq!(get_cap(&server, &w.alice, &cap_u).json()["revoked"], false);
    // Stored state: no album row, no memberships.
    assert_eq!(album_rows(&db, &album), 0);
    assert!(membership_rows(&db, &album).is_empty());
    assert_eq!(album_rows(&db, &other), 1);
}

// ---------------------------------------------------------------------------------------
// 4.2, 4.3: GET /albums/{album}/users.

#[test]
fn members_are_listed_by_email_with_user_objects() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.jane, "Jane's");
    // Added in another order than the emails sort.
    assert_status(&put_member(&server, &w.jane, &album, &w.mary_id), 201);
    assert_status(&put_member(&server, &w.jane, &album, &w.bob_id), 201);
    assert_status(&put_member(&server, &w.jane, &album, &w.alice_id), 201);
    assert_no_content(&put_admin(&server, &w.jane, &album, &w.mary_id));

    let alice = member("alice@test.com", &w.alice_id, "alice", "alice", "", false);
    let bob = member("bob@test.com", &w.bob_id, "bob", "bob", "", false);
    let jane = member("jane@test.com", &w.jane_id, "Jane Doe", "Jane", "Doe", true);
    let mary = member(
        "mary@test.com",
        &w.mary_id,
        "Mary Ann Lee",
        "Mary",
        "Ann Lee",
        true,
    );
    let path = format!("/albums/{album}/users");
    for token in [&w.alice, &w.bob, &w.jane, &w.mary] {
        let items = assert_list(&get(&server, token, &path), 4);
        assert_eq!(
            items,
            vec![alice.clone(), bob.clone(), jane.clone(), mary.clone()]
        );
    }
    // limit/offset as for GET /albums.
    let items = assert_list(
        &get(&server, &w.bob, &format!("{path}?limit=2&offset=1")),
        4,
    );
    assert_eq!(items, vec![bob.clone(), jane.clone()]);
    let items = assert_list(&get(&server, &w.bob, &format!("{path}?offset=3")), 4);
    assert_eq!(items, vec![mary.clone()]);
    let items = assert_list(&get(&server, &w.bob, &format!("{path}?limit=1")), 4);
    assert_eq!(items, vec![alice.clone()]);
    let items = assert_list(&get(&server, &w.bob, &format!("{path}?offset=9")), 4);
    assert!(items.is_empty());
    for query in ["limit=-1", "limit=x", "offset=-1"] {
        let resp = get(&server, &w.bob, &format!("{path}?{query}"));
        assert_eq!(resp.status, 400, "{query}: {}", resp.body);
        assert_eq!(resp.json()["message"], "Bad Query Parameter", "{query}");
    }

    // Non-members and unknown albums.
    assert_album_not_found(&get(&server, &w.admin, &path));
    assert_album_not_found(&get(&server, &w.alice, "/albums/AAAAAAAAAA/users"));
    assert_album_not_found(&get(&server, &w.alice, "/albums/bad/users"));
}

// ---------------------------------------------------------------------------------------
// 4.3: PUT /albums/{album}/users/{user}.

#[test]
fn adding_members_by_sub_or_email() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let bobs = create_album(&server, &w.bob, "Bob's");
    let users_path = format!("/albums/{album}/users");
    let members = || -> Vec<(String, bool)> {
        get(&server, &w.alice, &users_path)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (string_field(u, "email"), u["is_admin"].as_bool().unwrap()))
            .collect()
    };

    // By sub: 201; last_event_time moves on.
    let t0 = parse_time(&album_json(&server, &w.alice, &album)["last_event_time"]);
    pause();
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    let after = album_json(&server, &w.alice, &album);
    assert!(parse_time(&after["last_event_time"]) > t0, "{after}");
    assert_eq!(after["number_of_users"], 2);
    assert_eq!(album_json(&server, &w.bob, &album)["is_admin"], false);

    // By email: case-insensitive, trimmed.
    assert_status(&put_member(&server, &w.alice, &album, "JANE@Test.COM"), 201);
    assert_status(
        &put_member(&server, &w.alice, &album, "%20mary@test.com%20"),
        201,
    );
    assert_eq!(
        members(),
        vec![
            ("alice@test.com".to_owned(), true),
            ("bob@test.com".to_owned(), false),
            ("jane@test.com".to_owned(), false),
            ("mary@test.com".to_owned(), false),
        ]
    );

    // Already a member: 201 and nothing changes (an admin stays admin).
    assert_no_content(&put_admin(&server, &w.alice, &album, &w.jane_id));
    let snapshot = members();
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    assert_status(&put_member(&server, &w.alice, &album, "bob@test.com"), 201);
    assert_status(&put_member(&server, &w.alice, &album, &w.jane_id), 201);
    assert_eq!(members(), snapshot);
    assert_eq!(album_json(&server, &w.alice, &album)["number_of_users"], 4);

    // Adding yourself: by sub or by email, admin or not.
    assert_forbidden(
        &put_member(&server, &w.alice, &album, &w.alice_id),
        ADD_YOURSELF,
    );
    assert_forbidden(
        &put_member(&server, &w.alice, &album, "Alice@Test.com"),
        ADD_YOURSELF,
    );
    assert_forbidden(
        &put_member(&server, &w.jane, &album, &w.jane_id),
        ADD_YOURSELF,
    );

    // Unknown users.
    for user in [
        "nobody",
        "00000000-0000-4000-8000-000000000000",
        "nobody@test.com",
        "%25@test.com",
        "alice@test.co",
    ] {
        put_member(&server, &w.alice, &album, user).assert_kheops_error(
            404,
            "User Not Found",
            USER_UNKNOWN,
        );
    }
    // A sub is matched exactly.
    put_member(&server, &w.alice, &album, &w.bob_id.to_ascii_uppercase()).assert_kheops_error(
        404,
        "User Not Found",
        USER_UNKNOWN,
    );

    // A plain member may add only when add_user is true.
    let admin_user = tessera_tests::ADMIN_EMAIL;
    assert_forbidden(&put_member(&server, &w.bob, &album, admin_user), ON_ALBUM);
    assert_eq!(album_json(&server, &w.alice, &album)["number_of_users"], 4);
    assert_status(
        &patch(&server, &w.alice, &album, &[("addUser", "true")]),
        200,
    );
    assert_status(&put_member(&server, &w.bob, &album, admin_user), 201);
    let added = album_json(&server, &w.admin, &album);
    assert_eq!(added["is_admin"], false);
    assert_eq!(added["number_of_users"], 5);
    assert_forbidden(
        &put_member(&server, &w.bob, &album, &w.bob_id),
        ADD_YOURSELF,
    );
    // Even with add_user, a member cannot reach an album they are not in.
    assert_album_not_found(&put_member(&server, &w.alice, &bobs, &w.jane_id));
    assert_album_not_found(&put_member(&server, &w.alice, "AAAAAAAAAA", &w.jane_id));
    assert_album_not_found(&put_member(&server, &w.alice, "bad", &w.jane_id));

    // Stored memberships.
    let mut expected = vec![
        (w.alice_id.clone(), true),
        (w.bob_id.clone(), false),
        (w.jane_id.clone(), true),
        (w.mary_id.clone(), false),
    ];
    let admin_id = string_field(
        &assert_list(&get(&server, &w.alice, &users_path), 5)
            .into_iter()
            .find(|u| u["email"] == admin_user)
            .unwrap(),
        "sub",
    );
    expected.push((admin_id, false));
    expected.sort();
    assert_eq!(membership_rows(&db, &album), expected);
    assert_eq!(membership_rows(&db, &bobs), vec![(w.bob_id.clone(), true)]);
}

// ---------------------------------------------------------------------------------------
// 4.3, 4.4: DELETE /albums/{album}/users/{user}.

#[test]
fn removing_members_leaving_and_the_last_one_out() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    for user in [&w.bob_id, &w.jane_id, &w.mary_id] {
        assert_status(&put_member(&server, &w.alice, &album, user), 201);
    }

    // A plain member cannot remove someone else.
    assert_forbidden(
        &del_member(&server, &w.bob, &album, &w.jane_id),
        REMOVE_OTHER,
    );
    assert_forbidden(
        &del_member(&server, &w.bob, &album, &w.alice_id),
        REMOVE_OTHER,
    );
    assert_forbidden(
        &del_member(&server, &w.bob, &album, "jane@test.com"),
        REMOVE_OTHER,
    );
    assert_eq!(album_json(&server, &w.alice, &album)["number_of_users"], 4);

    // A member may leave.
    let t0 = parse_time(&album_json(&server, &w.alice, &album)["last_event_time"]);
    pause();
    assert_no_content(&del_member(&server, &w.bob, &album, &w.bob_id));
    assert_album_not_found(&get_album(&server, &w.bob, &album));
    let after = album_json(&server, &w.alice, &album);
    assert_eq!(after["number_of_users"], 3);
    assert!(parse_time(&after["last_event_time"]) > t0);
    // Now bob is not a member: he cannot act on the album at all.
    assert_album_not_found(&del_member(&server, &w.bob, &album, &w.bob_id));
    assert_album_not_found(&del_member(&server, &w.bob, &album, &w.jane_id));

    // The admin removes others, by sub or by email.
    del_member(&server, &w.alice, &album, &w.bob_id).assert_kheops_error(
        404,
        "User Not Found",
        NOT_MEMBER,
    );
    del_member(&server, &w.alice, &album, "BOB@test.com").assert_kheops_error(
        404,
        "User Not Found",
        NOT_MEMBER,
    );
    for user in ["nobody", "nobody@test.com"] {
        del_member(&server, &w.alice, &album, user).assert_kheops_error(
            404,
            "User Not Found",
            USER_UNKNOWN,
        );
    }
    assert_no_content(&del_member(&server, &w.alice, &album, "Jane@Test.com"));
    assert_album_not_found(&get_album(&server, &w.jane, &album));
    assert_eq!(membership_rows(&db, &album), {
        let mut v = vec![(w.alice_id.clone(), true), (w.mary_id.clone(), false)];
        v.sort();
        v
    });

    // The last admin leaves: the album stays, without an admin, for its other member.
    let (cap, secret) = album_cap(&server, &w.alice, &album);
    assert_no_content(&del_member(&server, &w.alice, &album, &w.alice_id));
    let left = album_json(&server, &w.mary, &album);
    assert_eq!(left["number_of_users"], 1);
    assert_eq!(left["is_admin"], false);
    assert_eq!(
        membership_rows(&db, &album),
        vec![(w.mary_id.clone(), false)]
    );
    assert!(!active(&server, &secret));
    assert_eq!(get_cap(&server, &w.alice, &cap).json()["revoked"], true);
    // Mary cannot edit (no admin left), but may leave: the album is then deleted.
    assert_forbidden(
        &patch(&server, &w.mary, &album, &[("name", "x")]),
        PATCH_ADMIN,
    );
    assert_no_content(&del_member(&server, &w.mary, &album, "mary@test.com"));
    assert_eq!(album_rows(&db, &album), 0);
    assert!(membership_rows(&db, &album).is_empty());
    assert_cap_not_found(&get_cap(&server, &w.alice, &cap));
    assert_eq!(capability_rows(&db, &cap), 0);
    assert_album_not_found(&get_album(&server, &w.mary, &album));

    // A sole admin leaving deletes the album and its tokens at once.
    let solo = create_album(&server, &w.jane, "Solo");
    let (solo_cap, solo_secret) = album_cap(&server, &w.jane, &solo);
    let (user_cap_id, user_secret) = user_cap(&server, &w.jane);
    assert!(active(&server, &solo_secret));
    assert_no_content(&del_member(&server, &w.jane, &solo, &w.jane_id));
    assert_album_not_found(&get_album(&server, &w.jane, &solo));
    assert_eq!(album_rows(&db, &solo), 0);
    assert!(!active(&server, &solo_secret));
    assert_cap_not_found(&get_cap(&server, &w.jane, &solo_cap));
    assert_eq!(capability_rows(&db, &solo_cap), 0);
    get_album(&server, &solo_secret, &solo).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    // Her user-scope token is untouched.
    assert!(active(&server, &user_secret));
    assert_eq!(capability_rows(&db, &user_cap_id), 1);
    assert_list(&get(&server, &w.jane, "/albums"), 0);
}

// ---------------------------------------------------------------------------------------
// 4.3: PUT and DELETE /albums/{album}/users/{user}/admin.

#[test]
fn granting_and_revoking_the_admin_role() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    let roles = || -> Vec<(String, bool)> {
        let resp = get(&server, &w.alice, &format!("/albums/{album}/users"));
        let count = resp.json().as_array().map_or(0, Vec::len);
        assert_list(&resp, count)
            .iter()
            .map(|u| (string_field(u, "email"), u["is_admin"].as_bool().unwrap()))
            .collect()
    };
    let pair = |e: &str, a: bool| (e.to_owned(), a);

    // Plain members cannot grant or revoke.
    assert_forbidden(&put_admin(&server, &w.bob, &album, &w.jane_id), ON_ALBUM);
    assert_forbidden(&put_admin(&server, &w.bob, &album, &w.bob_id), ON_ALBUM);
    assert_forbidden(&del_admin(&server, &w.bob, &album, &w.alice_id), ON_ALBUM);
    assert_forbidden(&del_admin(&server, &w.bob, &album, &w.bob_id), ON_ALBUM);
    assert_album_not_found(&put_admin(&server, &w.jane, &album, &w.bob_id));
    assert_album_not_found(&del_admin(&server, &w.jane, &album, &w.alice_id));
    assert_album_not_found(&put_admin(&server, &w.alice, "AAAAAAAAAA", &w.bob_id));
    assert_album_not_found(&del_admin(&server, &w.alice, "nope", &w.bob_id));
    assert_eq!(
        roles(),
        vec![pair("alice@test.com", true), pair("bob@test.com", false)]
    );

    // Promote a member; again is still 204.
    let t0 = parse_time(&album_json(&server, &w.alice, &album)["last_event_time"]);
    pause();
    assert_no_content(&put_admin(&server, &w.alice, &album, &w.bob_id));
    assert!(parse_time(&album_json(&server, &w.alice, &album)["last_event_time"]) > t0);
    assert_no_content(&put_admin(&server, &w.alice, &album, "BOB@test.com"));
    assert_eq!(album_json(&server, &w.bob, &album)["is_admin"], true);
    // A non-member is added as an admin.
    assert_no_content(&put_admin(&server, &w.alice, &album, "jane@test.com"));
    let as_jane = album_json(&server, &w.jane, &album);
    assert_eq!(as_jane["is_admin"], true);
    assert_eq!(as_jane["number_of_users"], 3);
    // The new admin can grant too.
    assert_no_content(&put_admin(&server, &w.jane, &album, &w.mary_id));
    assert_eq!(
        roles(),
        vec![
            pair("alice@test.com", true),
            pair("bob@test.com", true),
            pair("jane@test.com", true),
            pair("mary@test.com", true),
        ]
    );
    // Yourself; unknown users.
    assert_forbidden(
        &put_admin(&server, &w.alice, &album, &w.alice_id),
        ADD_YOURSELF,
    );
    assert_forbidden(
        &put_admin(&server, &w.alice, &album, "alice@TEST.com"),
        ADD_YOURSELF,
    );
    for user in ["nobody", "nobody@test.com"] {
        put_admin(&server, &w.alice, &album, user).assert_kheops_error(
            404,
            "User Not Found",
            USER_UNKNOWN,
        );
        del_admin(&server, &w.alice, &album, user).assert_kheops_error(
            404,
            "User Not Found",
            USER_UNKNOWN,
        );
    }

    // Demote: 204, also when not (or no longer) an admin; the member stays.
    assert_no_content(&del_admin(&server, &w.alice, &album, &w.mary_id));
    assert_no_content(&del_admin(&server, &w.alice, &album, "MARY@test.com"));
    assert_eq!(album_json(&server, &w.mary, &album)["is_admin"], false);
    assert_forbidden(
        &put_admin(&server, &w.mary, &album, tessera_tests::ADMIN_EMAIL),
        ON_ALBUM,
    );
    // Not a member: 404.
    del_admin(&server, &w.alice, &album, tessera_tests::ADMIN_EMAIL).assert_kheops_error(
        404,
        "User Not Found",
        NOT_MEMBER,
    );
    // Demote bob and jane; alice demotes herself: no admin left, members stay.
    assert_no_content(&del_admin(&server, &w.alice, &album, &w.bob_id));
    assert_no_content(&del_admin(&server, &w.jane, &album, &w.jane_id));
    assert_no_content(&del_admin(&server, &w.alice, &album, &w.alice_id));
    assert_eq!(
        roles(),
        vec![
            pair("alice@test.com", false),
            pair("bob@test.com", false),
            pair("jane@test.com", false),
            pair("mary@test.com", false),
        ]
    );
    assert_eq!(album_json(&server, &w.alice, &album)["number_of_users"], 4);
    assert_forbidden(&put_admin(&server, &w.alice, &album, &w.bob_id), ON_ALBUM);
    assert_forbidden(&del_admin(&server, &w.alice, &album, &w.alice_id), ON_ALBUM);
    assert_forbidden(
        &patch(&server, &w.alice, &album, &[("name", "x")]),
        PATCH_ADMIN,
    );
    assert!(membership_rows(&db, &album).iter().all(|(_, admin)| !admin));
    assert_eq!(membership_rows(&db, &album).len(), 4);
}

// ---------------------------------------------------------------------------------------
// 4.4: losing the admin role revokes the tokens created for that album.

#[test]
fn losing_the_admin_role_revokes_ones_own_tokens_of_that_album() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Shared");
    let other = create_album(&server, &w.alice, "Other");
    assert_no_content(&put_admin(&server, &w.alice, &album, &w.bob_id));
    assert_status(&put_member(&server, &w.alice, &album, &w.jane_id), 201);

    let (a0, a0_secret) = album_cap(&server, &w.alice, &album);
    let (a1, a1_secret) = album_cap(&server, &w.alice, &album);
    let (a2, a2_secret) = album_cap(&server, &w.alice, &other);
    let (au, au_secret) = user_cap(&server, &w.alice);
    let (b1, b1_secret) = album_cap(&server, &w.bob, &album);
    // a0 was already revoked by alice herself.
    let resp = server
        .request("POST", &format!("/capabilities/{a0}/revoke"))
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let a0_before = resp.json();
    assert_eq!(a0_before["revoked"], true);
    assert_status(&get_album(&server, &a1_secret, &album), 200);

    // Bob demotes alice.
    pause();
    assert_no_content(&del_admin(&server, &w.bob, &album, &w.alice_id));
    let bob_obj = user_object("bob@test.com", &w.bob_id, "bob", "bob", "");
    let alice_obj = user_object("alice@test.com", &w.alice_id, "alice", "alice", "");
    let resp = get_cap(&server, &w.bob, &a1);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let a1_json = resp.json();
    assert_eq!(a1_json["revoked"], true, "{a1_json}");
    assert_eq!(a1_json["revoked_by"], bob_obj, "{a1_json}");
    let revoked_at = parse_time(&a1_json["revoke_time"]);
    assert!((revoked_at - now_ms()).abs() < 10_000, "{a1_json}");
    assert_eq!(a1_json["created_by"], alice_obj);
    // The creator sees the same.
    assert_eq!(get_cap(&server, &w.alice, &a1).json(), a1_json);
    // The token stops working.
    get_album(&server, &a1_secret, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert!(!active(&server, &a1_secret));
    assert_eq!(revocation_row(&db, &a1), (true, Some(w.bob_id.clone())));
    // The already revoked one keeps its first revocation.
    let a0_after = get_cap(&server, &w.bob, &a0).json();
    assert_eq!(a0_after["revoked_by"], alice_obj);
    assert_eq!(a0_after["revoke_time"], a0_before["revoke_time"]);
    assert_eq!(revocation_row(&db, &a0), (true, Some(w.alice_id.clone())));
    assert!(!active(&server, &a0_secret));
    // Other admins' tokens, other albums, user scope: untouched.
    assert!(active(&server, &b1_secret));
    assert_eq!(get_cap(&server, &w.bob, &b1).json()["revoked"], false);
    assert!(active(&server, &a2_secret));
    assert_eq!(get_cap(&server, &w.alice, &a2).json()["revoked"], false);
    assert!(active(&server, &au_secret));
    assert_eq!(get_cap(&server, &w.alice, &au).json()["revoked"], false);
    assert_eq!(revocation_row(&db, &b1), (false, None));
    // Alice is still a member.
    assert_eq!(album_json(&server, &w.alice, &album)["is_admin"], false);

    // Promoted again, she creates a3; bob removes her: a3 is revoked by bob.
    assert_no_content(&put_admin(&server, &w.bob, &album, &w.alice_id));
    let (a3, a3_secret) = album_cap(&server, &w.alice, &album);
    assert_status(&get_album(&server, &a3_secret, &album), 200);
    // a1 stays revoked even though alice is admin again.
    get_album(&server, &a1_secret, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert_no_content(&del_member(&server, &w.bob, &album, &w.alice_id));
    let a3_json = get_cap(&server, &w.bob, &a3).json();
    assert_eq!(a3_json["revoked"], true, "{a3_json}");
    assert_eq!(a3_json["revoked_by"], bob_obj, "{a3_json}");
    get_album(&server, &a3_secret, &album).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert!(active(&server, &a2_secret));
    assert!(active(&server, &b1_secret));

    // Bob creates b2 and leaves (jane stays): his tokens are revoked by himself.
    let (b2, b2_secret) = album_cap(&server, &w.bob, &album);
    assert_no_content(&del_member(&server, &w.bob, &album, &w.bob_id));
    for (cap, secret) in [(&b1, &b1_secret), (&b2, &b2_secret)] {
        let json = get_cap(&server, &w.bob, cap).json();
        assert_eq!(json["revoked"], true, "{json}");
        assert_eq!(json["revoked_by"], bob_obj, "{json}");
        assert!(!active(&server, secret));
        assert_eq!(revocation_row(&db, cap), (true, Some(w.bob_id.clone())));
    }
    assert_eq!(album_json(&server, &w.jane, &album)["number_of_users"], 1);

    // A self-demotion revokes one's own tokens too, with oneself as revoker.
    assert_status(&put_member(&server, &w.alice, &other, &w.mary_id), 201);
    assert_no_content(&del_admin(&server, &w.alice, &other, &w.alice_id));
    let a2_json = get_cap(&server, &w.alice, &a2).json();
    assert_eq!(a2_json["revoked"], true, "{a2_json}");
    assert_eq!(a2_json["revoked_by"], alice_obj, "{a2_json}");
    get_album(&server, &a2_secret, &other).assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert!(active(&server, &au_secret));
}

// ---------------------------------------------------------------------------------------
// 5.9: capability secrets on album endpoints.

#[test]
fn album_scope_secrets_read_only_their_own_album() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Shared");
    let other = create_album(&server, &w.alice, "Other");
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    assert_status(
        &patch(&server, &w.alice, &album, &[("description", "Some text")]),
        200,
    );
    let (_, read) = album_cap(&server, &w.alice, &album);
    let (_, write_only) = capability(
        &server,
        &w.alice,
        &[
            ("title", "w"),
            ("scope_type", "album"),
            ("album", &album),
            ("write_permission", "true"),
        ],
    );
    let (_, nothing) = capability(
        &server,
        &w.alice,
        &[("title", "n"), ("scope_type", "album"), ("album", &album)],
    );
    let full = album_json(&server, &w.alice, &album);
    let reduced =
        json!({"album_id": album, "id": album, "name": "Shared", "description": "Some text"});

    // GET /albums/X with read: the reduced form, as Bearer or as the Basic password.
    let resp = get_album(&server, &read, &album);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), reduced);
    let resp = server
        .request("GET", &format!("/albums/{album}"))
        .basic("anyone", &read)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), reduced);
    let resp = server
        .request("GET", &format!("/albums/{album}"))
        .header("Authorization", &format!("bearer   {read} "))
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), reduced);
    let resp = get(
        &server,
        &read,
        &format!("/albums/{album}?includeUsers=false"),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), reduced);
    // The reduced form follows the album.
    assert_status(
        &patch(&server, &w.alice, &album, &[("name", "Renamed")]),
        200,
    );
    assert_eq!(get_album(&server, &read, &album).json()["name"], "Renamed");

    // Without read_permission: 403.
    for secret in [&write_only, &nothing] {
        assert_forbidden(&get_album(&server, secret, &album), ON_ALBUM);
        assert_forbidden(
            &server
                .request("GET", &format!("/albums/{album}"))
                .basic("x", secret)
                .send(),
            ON_ALBUM,
        );
    }

    for secret in [&read, &write_only, &nothing] {
        // Another album, even one the creator administers: 404 first.
        assert_album_not_found(&get_album(&server, secret, &other));
        assert_album_not_found(&patch(&server, secret, &other, &[("name", "x")]));
        assert_album_not_found(&call(
            &server,
            "DELETE",
            &format!("/albums/{other}"),
            secret,
        ));
        assert_album_not_found(&get(&server, secret, &format!("/albums/{other}/users")));
        assert_album_not_found(&put_member(&server, secret, &other, &w.jane_id));
        assert_album_not_found(&del_member(&server, secret, &other, &w.alice_id));
        assert_album_not_found(&put_admin(&server, secret, &other, &w.jane_id));
        assert_album_not_found(&del_admin(&server, secret, &other, &w.alice_id));
        assert_album_not_found(&get_album(&server, secret, "AAAAAAAAAA"));
        assert_album_not_found(&get_album(&server, secret, "bad"));

        // PATCH and DELETE on its own album: 403 "on this album".
        assert_forbidden(
            &patch(&server, secret, &album, &[("name", "Hacked")]),
            ON_ALBUM,
        );
        assert_forbidden(
            &patch(&server, secret, &album, &[("addUser", "true")]),
            ON_ALBUM,
        );
        assert_forbidden(
            &call(&server, "DELETE", &format!("/albums/{album}"), secret),
            ON_ALBUM,
        );

        // User endpoints: 403 "this type of token".
        assert_forbidden(&get(&server, secret, "/albums"), TOKEN_TYPE);
        assert_forbidden(
            &get(&server, secret, "/albums?canCreateCapabilityToken=true"),
            TOKEN_TYPE,
        );
        assert_forbidden(
            &post_album(&server, secret, &[("name", "Mine")]),
            TOKEN_TYPE,
        );
        assert_forbidden(
            &get(&server, secret, &format!("/albums/{album}/users")),
            TOKEN_TYPE,
        );
        assert_forbidden(&put_member(&server, secret, &album, &w.jane_id), TOKEN_TYPE);
        assert_forbidden(&del_member(&server, secret, &album, &w.bob_id), TOKEN_TYPE);
        assert_forbidden(
            &del_member(&server, secret, &album, &w.alice_id),
            TOKEN_TYPE,
        );
        assert_forbidden(&put_admin(&server, secret, &album, &w.bob_id), TOKEN_TYPE);
        assert_forbidden(&del_admin(&server, secret, &album, &w.alice_id), TOKEN_TYPE);
        // The same as a Basic password.
        assert_forbidden(
            &server.request("GET", "/albums").basic("u", secret).send(),
            TOKEN_TYPE,
        );
    }
    assert_forbidden(
        &get(
            &server,
            &read,
            &format!("/albums/{album}?includeUsers=true"),
        ),
        TOKEN_TYPE,
    );

    // Nothing changed.
    let mut now = album_json(&server, &w.alice, &album);
    assert_eq!(now["name"], "Renamed");
    now["name"] = full["name"].clone();
    now["last_event_time"] = full["last_event_time"].clone();
    assert_eq!(now, full);
    assert_eq!(membership_rows(&db, &album), {
        let mut v = vec![(w.alice_id.clone(), true), (w.bob_id.clone(), false)];
        v.sort();
        v
    });
    assert_eq!(album_rows(&db, &other), 1);
    assert_eq!(assert_list(&get(&server, &w.alice, "/albums"), 2).len(), 2);
}

#[test]
fn user_scope_secrets_act_as_their_creator() {
    let (server, db) = Server::start();
    let w = world(&server);
    let (_, secret) = user_cap(&server, &w.alice);
    let bobs = create_album(&server, &w.bob, "Bob's");
    assert_status(&put_member(&server, &w.bob, &bobs, &w.alice_id), 201);
    let janes = create_album(&server, &w.jane, "Jane's");

    // Create an album with the secret: alice is its admin.
    let resp = post_album(&server, &secret, &[("name", "Via token")]);
    assert_eq!(resp.status, 201, "{}", resp.body);
    let created = resp.json();
    assert_album_shape(&created);
    assert_eq!(created["is_admin"], true);
    assert_eq!(created["number_of_users"], 1);
    let album = string_field(&created, "id");
    assert_eq!(
        membership_rows(&db, &album),
        vec![(w.alice_id.clone(), true)]
    );
    assert_eq!(album_json(&server, &w.alice, &album), created);

    // Lists and reads are alice's.
    assert_eq!(
        get(&server, &secret, "/albums").body,
        get(&server, &w.alice, "/albums").body
    );
    let items = assert_list(&get(&server, &secret, "/albums?sort=name"), 2);
    assert_eq!(ids(&items), vec![bobs.clone(), album.clone()]);
    assert_list(
        &get(&server, &secret, "/albums?canCreateCapabilityToken=true"),
        1,
    );
    assert_eq!(
        get_album(&server, &secret, &bobs).json(),
        album_json(&server, &w.alice, &bobs)
    );
    assert_eq!(
        get(
            &server,
            &secret,
            &format!("/albums/{bobs}?includeUsers=true")
        )
        .json(),
        get(
            &server,
            &w.alice,
            &format!("/albums/{bobs}?includeUsers=true")
        )
        .json()
    );
    assert_album_not_found(&get_album(&server, &secret, &janes));

    // Full rights as alice, and only alice's: admin on hers, plain member on bob's.
    let resp = patch(&server, &secret, &album, &[("description", "edited")]);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["description"], "edited");
    assert_forbidden(
        &patch(&server, &secret, &bobs, &[("name", "x")]),
        PATCH_ADMIN,
    );
    assert_forbidden(&put_member(&server, &secret, &bobs, &w.jane_id), ON_ALBUM);
    assert_forbidden(
        &del_member(&server, &secret, &bobs, &w.bob_id),
        REMOVE_OTHER,
    );
    assert_forbidden(&put_admin(&server, &secret, &bobs, &w.jane_id), ON_ALBUM);
    assert_status(&put_member(&server, &secret, &album, &w.bob_id), 201);
    assert_status(&put_member(&server, &secret, &album, "jane@test.com"), 201);
    assert_forbidden(
        &put_member(&server, &secret, &album, &w.alice_id),
        ADD_YOURSELF,
    );
    assert_no_content(&put_admin(&server, &secret, &album, &w.bob_id));
    assert_no_content(&del_admin(&server, &secret, &album, &w.bob_id));
    assert_no_content(&del_member(&server, &secret, &album, &w.jane_id));
    let users = assert_list(&get(&server, &secret, &format!("/albums/{album}/users")), 2);
    assert_eq!(
        users,
        vec![
            member("alice@test.com", &w.alice_id, "alice", "alice", "", true),
            member("bob@test.com", &w.bob_id, "bob", "bob", "", false),
        ]
    );
    // The same secret as a Basic password.
    let resp = server
        .request("GET", &format!("/albums/{album}"))
        .basic("whatever", &secret)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["is_admin"], true);
    let resp = server
        .request("POST", "/albums")
        .basic("x", &secret)
        .form(&[("name", "Basic made")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let basic_made = string_field(&resp.json(), "id");
    assert_eq!(
        membership_rows(&db, &basic_made),
        vec![(w.alice_id.clone(), true)]
    );

    // Leaving and deleting as alice.
    assert_no_content(&del_member(&server, &secret, &bobs, &w.alice_id));
    assert_album_not_found(&get_album(&server, &w.alice, &bobs));
    assert_no_content(&call(
        &server,
        "DELETE",
        &format!("/albums/{album}"),
        &secret,
    ));
    assert_album_not_found(&get_album(&server, &w.bob, &album));
    assert_eq!(album_rows(&db, &album), 0);
    assert_eq!(
        ids(&assert_list(&get(&server, &secret, "/albums"), 1)),
        vec![basic_made]
    );
}

// ---------------------------------------------------------------------------------------
// 1.2: Content-Type and Accept.

#[test]
fn an_oversized_form_is_refused_in_the_kheops_body_and_stores_nothing() {
    let (server, db) = Server::start();
    let w = world(&server);
    let mut body = b"name=big&description=".to_vec();
    body.resize(1024 * 1024 + 1, b'x');
    let resp = server
        .request("POST", "/albums")
        .bearer(&w.alice)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(body)
        .send();
    resp.assert_kheops_error(413, "Payload Too Large", "Request body too large");
    let stored: i64 = albums::table.count().get_result(&mut *db.conn()).unwrap();
    assert_eq!(stored, 0, "no album was stored");
}

#[test]
fn content_type_and_accept_are_checked_before_authentication() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let unsupported = |resp: Resp| {
        resp.assert_kheops_error(415, "Unsupported Media Type", UNSUPPORTED);
    };
    let not_acceptable = |resp: Resp| {
        resp.assert_kheops_error(406, "Not Acceptable", NOT_ACCEPTABLE);
    };

    // POST /albums and PATCH need the form type, with or without a (valid) credential.
    for bearer in [None, Some(w.alice.as_str()), Some("nope")] {
        let with = |method: &str, path: &str| {
            let req = server.request(method, path);
            match bearer {
                Some(b) => req.bearer(b),
                None => req,
            }
        };
        unsupported(with("POST", "/albums").json(&json!({"name": "x"})).send());
        unsupported(
            with("POST", "/albums")
                .header("Content-Type", "text/plain")
                .raw(b"name=x".to_vec())
                .send(),
        );
        unsupported(with("POST", "/albums").raw(b"name=x".to_vec()).send());
        unsupported(with("POST", "/albums").send());
        unsupported(
            with("POST", "/albums")
                .header("Content-Type", "multipart/form-data; boundary=x")
                .raw(b"--x--".to_vec())
                .send(),
        );
        let patch_path = format!("/albums/{album}");
        unsupported(
            with("PATCH", &patch_path)
                .json(&json!({"name": "x"}))
                .send(),
        );
        unsupported(with("PATCH", &patch_path).raw(b"name=x".to_vec()).send());
        // Bodiless routes: any other type than the form type.
        let member_path = format!("/albums/{album}/users/{}", w.bob_id);
        for (method, path) in [
            ("PUT", member_path.clone()),
            ("DELETE", member_path.clone()),
            ("PUT", format!("{member_path}/admin")),
            ("DELETE", format!("{member_path}/admin")),
            ("DELETE", format!("/albums/{album}")),
        ] {
            unsupported(
                with(method, &path)
                    .header("Content-Type", "text/plain")
                    .send(),
            );
            unsupported(
                with(method, &path)
                    .header("Content-Type", "application/json")
                    .send(),
            );
        }
        // Accept that does not admit JSON.
        not_acceptable(with("GET", "/albums").header("Accept", "text/html").send());
        not_acceptable(
            with("GET", &patch_path)
                .header("Accept", "text/html")
                .send(),
        );
        not_acceptable(
            with("GET", "/albums")
                .header("Accept", "application/json;q=0")
                .send(),
        );
        not_acceptable(
            with("GET", "/albums")
                .header("Accept", "application/xml, text/*")
                .send(),
        );
        not_acceptable(
            with("POST", "/albums")
                .header("Accept", "text/html")
                .form(&[("name", "Refused")])
                .send(),
        );
        not_acceptable(
            with("GET", &format!("/albums/{album}/users"))
                .header("Accept", "image/png")
                .send(),
        );
    }
    // Nothing was created, edited or changed.
    assert_eq!(
        ids(&assert_list(&get(&server, &w.alice, "/albums"), 1)),
        vec![album.clone()]
    );
    assert_eq!(album_json(&server, &w.alice, &album)["name"], "Album");
    assert_eq!(
        membership_rows(&db, &album),
        vec![(w.alice_id.clone(), true)]
    );

    // Accepted forms of the form type.
    for content_type in [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=utf-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "Application/X-Www-Form-Urlencoded; Charset=UTF-8",
    ] {
        let resp = server
            .request("POST", "/albums")
            .bearer(&w.alice)
            .header("Content-Type", content_type)
            .raw(b"name=Typed+album".to_vec())
            .send();
        assert_eq!(resp.status, 201, "{content_type}: {}", resp.body);
        assert_eq!(resp.json()["name"], "Typed album", "{content_type}");
        let resp = server
            .request("PATCH", &format!("/albums/{album}"))
            .bearer(&w.alice)
            .header("Content-Type", content_type)
            .raw(b"description=a+b%2Bc".to_vec())
            .send();
        assert_eq!(resp.status, 200, "{content_type}: {}", resp.body);
        assert_eq!(resp.json()["description"], "a b+c", "{content_type}");
    }
    // Bodiless routes: no Content-Type, or the form type with an empty body.
    assert_status(&put_member(&server, &w.alice, &album, &w.bob_id), 201);
    let resp = server
        .request("PUT", &format!("/albums/{album}/users/{}", w.jane_id))
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let resp = server
        .request("PUT", &format!("/albums/{album}/users/{}/admin", w.jane_id))
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .send();
    assert_no_content(&resp);
    let resp = server
        .request(
            "DELETE",
            &format!("/albums/{album}/users/{}/admin", w.jane_id),
        )
        .bearer(&w.alice)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .send();
    assert_no_content(&resp);
    let resp = server
        .request("DELETE", &format!("/albums/{album}/users/{}", w.jane_id))
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .send();
    assert_no_content(&resp);
    assert_no_content(&del_member(&server, &w.alice, &album, &w.bob_id));
    assert_eq!(
        membership_rows(&db, &album),
        vec![(w.alice_id.clone(), true)]
    );

    // GET ignores Content-Type.
    let resp = server
        .request("GET", "/albums")
        .bearer(&w.alice)
        .header("Content-Type", "text/plain")
        .send();
    assert_list(&resp, 5);
    let resp = server
        .request("GET", &format!("/albums/{album}"))
        .bearer(&w.alice)
        .header("Content-Type", "application/json")
        .send();
    assert_status(&resp, 200);

    // Accept values that admit JSON.
    for accept in [
        "application/json",
        "application/*",
        "*/*",
        "text/html, application/json",
        "text/html;q=0.9, application/json;q=0.1",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/html, */*;q=0.1",
    ] {
        let resp = server
            .request("GET", "/albums")
            .bearer(&w.alice)
            .header("Accept", accept)
            .send();
        assert_eq!(resp.status, 200, "{accept}: {}", resp.body);
        let resp = server
            .request("GET", &format!("/albums/{album}"))
            .bearer(&w.alice)
            .header("Accept", accept)
            .send();
        assert_eq!(resp.status, 200, "{accept}: {}", resp.body);
    }
    let resp = server
        .request("POST", "/albums")
        .bearer(&w.alice)
        .header("Accept", "application/*")
        .form(&[("name", "Accepted")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    // After 415/406 comes authentication.
    server
        .request("POST", "/albums")
        .header("Accept", "*/*")
        .form(&[("name", "x")])
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
}

// ---------------------------------------------------------------------------------------
// 1.1: the /api mount point.

#[test]
fn the_api_prefix_gives_the_same_answers() {
    let (server, db) = Server::start();
    let w = world(&server);

    // Create under /api, read under both.
    let resp = server
        .request("POST", "/api/albums")
        .bearer(&w.alice)
        .form(&[("name", " Api album "), ("addUser", "true")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let created = resp.json();
    assert_album_shape(&created);
    assert_eq!(created["name"], "Api album");
    assert_eq!(created["add_user"], true);
    let album = string_field(&created, "id");
    create_album(&server, &w.alice, "Root album");

    let same = |method: &str, path: &str, token: Option<&str>| {
        let send = |prefix: &str| {
            let req = server.request(method, &format!("{prefix}{path}"));
            match token {
                Some(t) => req.bearer(t).send(),
                None => req.send(),
            }
        };
        let (root, api) = (send(""), send("/api"));
        assert_eq!(
            root.status, api.status,
            "{method} {path}: {} / {}",
            root.body, api.body
        );
        assert_eq!(root.body, api.body, "{method} {path}");
        for h in [
            "x-total-count",
            "access-control-expose-headers",
            "content-type",
        ] {
            assert_eq!(root.header(h), api.header(h), "{method} {path}: {h}");
        }
        root
    };
    assert_eq!(
        same("GET", &format!("/albums/{album}"), Some(&w.alice)).json(),
        created
    );
    assert_list(&same("GET", "/albums", Some(&w.alice)), 2);
    same("GET", "/albums?sort=name&limit=1&offset=1", Some(&w.alice));
    same(
        "GET",
        "/albums?canCreateCapabilityToken=true",
        Some(&w.alice),
    );
    same("GET", "/albums?sort=bogus", Some(&w.alice));
    same("GET", &format!("/albums/{album}"), Some(&w.bob));
    same("GET", "/albums/AAAAAAAAAA", Some(&w.alice));
    same("GET", "/albums", None).assert_kheops_error(401, "Unauthorized", MALFORMED);
    same("GET", "/albums", Some("nope")).assert_kheops_error(401, "Unauthorized", NOT_VALID);

    // Membership routes under /api.
    let resp = server
        .request("PUT", &format!("/api/albums/{album}/users/{}", w.bob_id))
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let resp = server
        .request("PUT", &format!("/api/albums/{album}/users/jane@test.com"))
        .bearer(&w.bob)
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let resp = server
        .request(
            "PUT",
            &format!("/api/albums/{album}/users/{}/admin", w.jane_id),
        )
        .bearer(&w.alice)
        .send();
    assert_no_content(&resp);
    let resp = server
        .request("PUT", &format!("/api/albums/{album}/users/{}", w.alice_id))
        .bearer(&w.alice)
        .send();
    assert_forbidden(&resp, ADD_YOURSELF);
    let users = assert_list(
        &same("GET", &format!("/albums/{album}/users"), Some(&w.bob)),
        3,
    );
    assert_eq!(users[2]["email"], "jane@test.com");
    assert_eq!(users[2]["is_admin"], true);
    same(
        "GET",
        &format!("/albums/{album}?includeUsers=true"),
        Some(&w.jane),
    );
    same(
        "GET",
        &format!("/albums/{album}/users?limit=1"),
        Some(&w.bob),
    );
    let resp = server
        .request(
            "DELETE",
            &format!("/api/albums/{album}/users/{}/admin", w.jane_id),
        )
        .bearer(&w.alice)
        .send();
    assert_no_content(&resp);
    let resp = server
        .request(
            "DELETE",
            &format!("/api/albums/{album}/users/{}", w.jane_id),
        )
        .bearer(&w.bob)
        .send();
    assert_forbidden(&resp, REMOVE_OTHER);
    let resp = server
        .request(
            "DELETE",
            &format!("/api/albums/{album}/users/{}", w.jane_id),
        )
        .bearer(&w.jane)
        .send();
    assert_no_content(&resp);

    // PATCH under /api; the error bodies match the root ones.
    let resp = server
        .request("PATCH", &format!("/api/albums/{album}"))
        .bearer(&w.alice)
        .form(&[("description", "via api")])
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["description"], "via api");
    assert_eq!(
        resp.json(),
        album_json(&server, &w.alice, &album),
        "PATCH answer and GET agree"
    );
    let resp = server
        .request("PATCH", &format!("/api/albums/{album}"))
        .bearer(&w.bob)
        .form(&[("name", "x")])
        .send();
    assert_forbidden(&resp, PATCH_ADMIN);
    let resp = server
        .request("PATCH", &format!("/api/albums/{album}"))
        .bearer(&w.alice)
        .json(&json!({"name": "x"}))
        .send();
    resp.assert_kheops_error(415, "Unsupported Media Type", UNSUPPORTED);
    let resp = server
        .request("GET", "/api/albums")
        .bearer(&w.alice)
        .header("Accept", "text/html")
        .send();
    resp.assert_kheops_error(406, "Not Acceptable", NOT_ACCEPTABLE);
    let resp = server
        .request("POST", "/api/albums")
        .bearer(&w.alice)
        .form(&[("name", "")])
        .send();
    resp.assert_kheops_error(400, "Bad Form Parameter", "Param 'name' can not be empty");

    // Capability secrets under /api.
    let (_, secret) = album_cap(&server, &w.alice, &album);
    let reduced = same("GET", &format!("/albums/{album}"), Some(&secret));
    assert_eq!(
        keys(&reduced.json()),
        sorted(&["album_id", "id", "name", "description"])
    );
    assert_forbidden(&same("GET", "/albums", Some(&secret)), TOKEN_TYPE);

    // DELETE under /api.
    let resp = server
        .request("DELETE", &format!("/api/albums/{album}"))
        .bearer(&w.bob)
        .send();
    assert_forbidden(&resp, ON_ALBUM);
    let resp = server
        .request("DELETE", &format!("/api/albums/{album}"))
        .bearer(&w.alice)
        .send();
    assert_no_content(&resp);
    assert_album_not_found(&same("GET", &format!("/albums/{album}"), Some(&w.alice)));
    assert!(!active(&server, &secret));
    assert_eq!(album_rows(&db, &album), 0);
}

// ---------------------------------------------------------------------------------------
// 4.4: deleting a user through the Keyrock-compatible API.

#[test]
fn deleting_a_user_cleans_up_memberships_and_tokens() {
    let (server, db) = Server::start();
    let w = world(&server);
    let solo = create_album(&server, &w.alice, "Alice alone");
    let shared = create_album(&server, &w.alice, "Shared");
    assert_no_content(&put_admin(&server, &w.alice, &shared, &w.bob_id));
    assert_status(&put_member(&server, &w.alice, &shared, &w.jane_id), 201);
    let bobs = create_album(&server, &w.bob, "Bob's");
    assert_status(&put_member(&server, &w.bob, &bobs, &w.alice_id), 201);

    let (a_solo, a_solo_secret) = album_cap(&server, &w.alice, &solo);
    let (a_shared, a_shared_secret) = album_cap(&server, &w.alice, &shared);
    let (a_user, a_user_secret) = user_cap(&server, &w.alice);
    let (b_shared, b_shared_secret) = album_cap(&server, &w.bob, &shared);
    let (b_kept, b_kept_secret) = album_cap(&server, &w.bob, &shared);
    let (b_user, b_user_secret) = user_cap(&server, &w.bob);
    // Alice (admin of the album) revokes one of bob's tokens.
    let resp = server
        .request("POST", &format!("/capabilities/{b_shared}/revoke"))
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let revoked_before = resp.json();
    assert_eq!(revoked_before["revoked_by"]["sub"], w.alice_id.as_str());
    assert_eq!(
        revocation_row(&db, &b_shared),
        (true, Some(w.alice_id.clone()))
    );
    assert_eq!(memberships_of_user(&db, &w.alice_id), 3);

    let resp = server
        .request("DELETE", &format!("/v1/users/{}", w.alice_id))
        .token(&w.admin)
        .send();
    assert_eq!(resp.status, 204, "{}", resp.body);

    // Memberships are gone; the album she was alone in is deleted.
    assert_eq!(memberships_of_user(&db, &w.alice_id), 0);
    assert_eq!(album_rows(&db, &solo), 0);
    assert!(membership_rows(&db, &solo).is_empty());
    let shared_now = album_json(&server, &w.bob, &shared);
    assert_eq!(shared_now["number_of_users"], 2);
    assert_eq!(
        assert_list(&get(&server, &w.bob, &format!("/albums/{shared}/users")), 2)
            .iter()
            .map(|u| string_field(u, "email"))
            .collect::<Vec<_>>(),
        vec!["bob@test.com", "jane@test.com"]
    );
    assert_eq!(album_json(&server, &w.bob, &bobs)["number_of_users"], 1);
    assert_eq!(membership_rows(&db, &bobs), vec![(w.bob_id.clone(), true)]);

    // Her tokens are deleted: unknown everywhere.
    for (cap, secret) in [
        (&a_solo, &a_solo_secret),
        (&a_shared, &a_shared_secret),
        (&a_user, &a_user_secret),
    ] {
        assert!(!active(&server, secret));
        assert_eq!(capability_rows(&db, cap), 0);
        assert_cap_not_found(&get_cap(&server, &w.bob, cap));
        get(&server, secret, "/albums").assert_kheops_error(401, "Unauthorized", NOT_VALID);
    }
    // Her credential is no longer valid.
    get(&server, &w.alice, "/albums").assert_kheops_error(401, "Unauthorized", NOT_VALID);

    // The token she revoked stays revoked, without revoked_by.
    let resp = get_cap(&server, &w.bob, &b_shared);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let revoked_after = resp.json();
    assert_eq!(revoked_after["revoked"], true, "{revoked_after}");
    assert_eq!(revoked_after["revoke_time"], revoked_before["revoke_time"]);
    assert!(revoked_after.get("revoked_by").is_none(), "{revoked_after}");
    assert!(!active(&server, &b_shared_secret));
    assert_eq!(revocation_row(&db, &b_shared), (true, None));
    get_album(&server, &b_shared_secret, &shared).assert_kheops_error(
        401,
        "Unauthorized",
        NOT_VALID,
    );
    // Bob's other tokens are untouched.
    assert!(active(&server, &b_kept_secret));
    assert!(active(&server, &b_user_secret));
    assert_eq!(revocation_row(&db, &b_kept), (false, None));
    assert_eq!(get_cap(&server, &w.bob, &b_user).json()["revoked"], false);
    assert_status(&get_album(&server, &b_kept_secret, &shared), 200);
    // Jane's membership is untouched.
    assert_eq!(album_json(&server, &w.jane, &shared)["is_admin"], false);
}
