//! KHEOPS capability tokens over HTTP (kheops.md 1, 2, 3, 5, 10, 11): create, list, get,
//! revoke and introspect, the settings of their lifetimes, the order of the create checks,
//! time and boolean parsing, expiry and revocation on the wire (also across two server
//! processes), the secret shown once and stored only as its SHA-256 digest, and the
//! `/api` mount point.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::secrets::sha256_hex;
use serde_json::Value;
use tessera_tests::{json, keys, sorted, string_field, Options, Req, Resp, Server, TestDb};

const THREE_DAYS_MS: i64 = 259_200_000;
const FORM: &str = "application/x-www-form-urlencoded";
const CAP_RESOURCES: &str = "The bearer token is not valid for access to capability resources";
const NOT_VALID: &str = "The token is not valid";
const MALFORMED: &str = "Missing or malformed Authorization header";
const ALBUM_NOT_FOUND: &str = "The album does not exist or you don't have access";
const TOKEN_TYPE: &str = "You don't have the permission to do this with this type of token";
const ON_ALBUM: &str = "You don't have the permission to do this on this album";

// ---------------------------------------------------------------------------------------
// Time helpers (UTC, milliseconds since the epoch).

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (`YYYY-MM-DD`, `HH:MM:SS`, milliseconds) of an instant.
fn parts(ms: i64) -> (String, String, i64) {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}:{:02}:{:02}", sod / 3600, sod % 3600 / 60, sod % 60),
        milli,
    )
}

/// `2018-10-22T14:20:59.790Z`.
fn fmt_ms(ms: i64) -> String {
    let (date, time, milli) = parts(ms);
    format!("{date}T{time}.{milli:03}Z")
}

/// Parses a response time, asserting the exact format `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[track_caller]
fn parse_time(value: &Value) -> i64 {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time string"));
    let b = s.as_bytes();
    let ok = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(ok, "{s:?} is not formatted like 2018-10-22T14:20:59.790Z");
    let n = |a: usize, z: usize| s[a..z].parse::<i64>().unwrap();
    let days = days_from_civil(n(0, 4), n(5, 7), n(8, 10));
    let ms = ((days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19)) * 1000) + n(20, 23);
    assert_eq!(fmt_ms(ms), s, "not a valid calendar time");
    ms
}

fn sleep_until(deadline_ms: i64) {
    let left = deadline_ms - now_ms();
    if left > 0 {
        std::thread::sleep(Duration::from_millis(left as u64));
    }
}

// ---------------------------------------------------------------------------------------
// World and request helpers.

/// Users of a test: `alice` ("Alice Smith"), `bob` ("bob"), `carol` ("Mary Ann Lee"),
/// `dave`, and the Tessera admin.
struct World {
    admin: String,
    alice: String,
    alice_id: String,
    bob: String,
    bob_id: String,
    carol: String,
    carol_id: String,
    dave: String,
}

fn world(server: &Server) -> World {
    let admin = server.admin_token();
    let alice_id = server.create_user(&admin, "Alice Smith", "alice@test.com", "alice-pw");
    let bob_id = server.create_user(&admin, "bob", "bob@test.com", "bob-pw");
    let carol_id = server.create_user(&admin, "Mary Ann Lee", "carol@test.com", "carol-pw");
    server.create_user(&admin, "dave", "dave@test.com", "dave-pw");
    World {
        alice: server.login("alice@test.com", "alice-pw"),
        bob: server.login("bob@test.com", "bob-pw"),
        carol: server.login("carol@test.com", "carol-pw"),
        dave: server.login("dave@test.com", "dave-pw"),
        admin,
        alice_id,
        bob_id,
        carol_id,
    }
}

fn create_album(server: &Server, token: &str, name: &str) -> String {
    let resp = server
        .request("POST", "/albums")
        .bearer(token)
        .form(&[("name", name)])
        .send();
    assert_eq!(resp.status, 201, "create album: {}", resp.body);
    resp.json()["album_id"].as_str().unwrap().to_owned()
}

fn add_member(server: &Server, token: &str, album: &str, user: &str) {
    let resp = server
        .request("PUT", &format!("/albums/{album}/users/{user}"))
        .bearer(token)
        .send();
    assert_eq!(resp.status, 201, "add member: {}", resp.body);
}

fn make_admin(server: &Server, token: &str, album: &str, user: &str) {
    let resp = server
        .request("PUT", &format!("/albums/{album}/users/{user}/admin"))
        .bearer(token)
        .send();
    assert_eq!(resp.status, 204, "grant admin: {}", resp.body);
}

fn create(server: &Server, token: &str, fields: &[(&str, &str)]) -> Resp {
    server
        .request("POST", "/capabilities")
        .bearer(token)
        .form(fields)
        .send()
}

#[track_caller]
fn create_ok(server: &Server, token: &str, fields: &[(&str, &str)]) -> Value {
    let resp = create(server, token, fields);
    assert_eq!(resp.status, 201, "create capability: {}", resp.body);
    resp.json()
}

#[track_caller]
fn user_token(server: &Server, token: &str, title: &str) -> Value {
    create_ok(server, token, &[("title", title), ("scope_type", "user")])
}

#[track_caller]
fn album_token(server: &Server, token: &str, album: &str, title: &str) -> Value {
    create_ok(
        server,
        token,
        &[
            ("title", title),
            ("scope_type", "album"),
            ("album", album),
            ("read_permission", "true"),
        ],
    )
}

fn get_cap(server: &Server, token: &str, id: &str) -> Resp {
    server
        .request("GET", &format!("/capabilities/{id}"))
        .bearer(token)
        .send()
}

fn list(server: &Server, token: &str, query: &str) -> Resp {
    server
        .request("GET", &format!("/capabilities{query}"))
        .bearer(token)
        .send()
}

fn revoke(server: &Server, token: &str, id: &str) -> Resp {
    server
        .request("POST", &format!("/capabilities/{id}/revoke"))
        .bearer(token)
        .send()
}

fn introspect(server: &Server, secret: &str) -> Resp {
    server
        .request("POST", "/token/introspect")
        .form(&[("token", secret)])
        .send()
}

#[track_caller]
fn assert_no_null(v: &Value) {
    fn walk(v: &Value, whole: &Value) {
        match v {
            Value::Null => panic!("null field in {whole}"),
            Value::Object(map) => map.values().for_each(|x| walk(x, whole)),
            Value::Array(items) => items.iter().for_each(|x| walk(x, whole)),
            _ => {}
        }
    }
    walk(v, v);
}

#[track_caller]
fn assert_alnum(value: &Value, len: usize) -> String {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    assert_eq!(s.len(), len, "{s:?}");
    assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()), "{s:?}");
    s.to_owned()
}

#[track_caller]
fn assert_no_store(resp: &Resp) {
    let cc = resp.header("cache-control").unwrap_or_default();
    assert!(
        cc.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-store")),
        "Cache-Control: {cc:?}"
    );
}

#[track_caller]
fn assert_json_type(resp: &Resp) {
    assert!(
        resp.header("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "content-type: {:?}",
        resp.header("content-type")
    );
}

/// A 200 list: the array, with `X-Total-Count` and the expose header checked.
#[track_caller]
fn assert_list(resp: &Resp, total: usize) -> Vec<Value> {
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_json_type(resp);
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
    let items = resp.json().as_array().expect("an array").clone();
    for item in &items {
        assert!(item.get("secret").is_none(), "{item}");
        assert!(item.get("access_token").is_none(), "{item}");
        assert_no_null(item);
    }
    items
}

fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| string_field(i, "id")).collect()
}

/// The list order of 5.5: `issued_at_time` descending, ties by `id` ascending (bytes).
#[track_caller]
fn assert_sorted(items: &[Value]) {
    for pair in items.windows(2) {
        let (a, b) = (
            parse_time(&pair[0]["issued_at_time"]),
            parse_time(&pair[1]["issued_at_time"]),
        );
        assert!(
            a > b
                || (a == b
                    && string_field(&pair[0], "id").as_bytes()
                        < string_field(&pair[1], "id").as_bytes()),
            "not sorted: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

/// `WWW-Authenticate` values of a 401 (all of them; the kit keeps only the first).
fn challenges(server: &Server, method: &str, path: &str) -> Vec<String> {
    let url = format!("{}{}", server.base, path);
    let req = ureq::request(method, &url);
    let result = if method == "GET" {
        req.call()
    } else {
        req.set("Content-Type", FORM)
            .send_string("title=t&scope_type=user")
    };
    match result {
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
    let joined = values.join(", ").to_ascii_lowercase();
    assert!(joined.contains("bearer"), "WWW-Authenticate: {values:?}");
    assert!(joined.contains("basic"), "WWW-Authenticate: {values:?}");
}

/// The secret as Bearer, or as the Basic password.
fn auth<'a>(req: Req<'a>, secret: &str, basic: bool) -> Req<'a> {
    if basic {
        req.basic("kheops", secret)
    } else {
        req.bearer(secret)
    }
}

fn user_object(email: &str, sub: &str, name: &str, first: &str, last: &str) -> Value {
    json!({"email": email, "sub": sub, "name": name, "first_name": first, "last_name": last})
}

// ---------------------------------------------------------------------------------------
// 5.3, 5.4: the create response.

#[test]
fn create_answers_the_token_json_field_by_field_for_both_scopes() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Study group");

    // Album scope.
    let before = now_ms();
    let resp = create(
        &server,
        &w.alice,
        &[
            ("title", "Twitter token"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "true"),
            ("download_permission", "true"),
        ],
    );
    let after = now_ms();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_json_type(&resp);
    assert_no_store(&resp);
    let t = resp.json();
    assert_no_null(&t);
    assert_eq!(
        keys(&t),
        sorted(&[
            "id",
            "secret",
            "access_token",
            "token_type",
            "title",
            "scope_type",
            "issued_at_time",
            "not_before_time",
            "expiration_time",
            "revoked",
            "album",
            "read_permission",
            "write_permission",
            "download_permission",
            "appropriate_permission",
            "created_by",
        ]),
        "{t}"
    );
    assert_alnum(&t["id"], 10);
    let secret = assert_alnum(&t["secret"], 22);
    assert_eq!(t["access_token"], secret.as_str());
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["title"], "Twitter token");
    assert_eq!(t["scope_type"], "album");
    assert_eq!(t["revoked"], false);
    assert_eq!(
        t["album"],
        json!({"id": album, "album_id": album, "name": "Study group"})
    );
    assert_eq!(t["read_permission"], true);
    assert_eq!(t["write_permission"], false);
    assert_eq!(t["download_permission"], true);
    assert_eq!(t["appropriate_permission"], false);
    assert_eq!(
        t["created_by"],
        user_object(
            "alice@test.com",
            &w.alice_id,
            "Alice Smith",
            "Alice",
            "Smith"
        )
    );
    // Defaults: not_before = issued_at, expiration = issued_at + 3 days.
    let issued = parse_time(&t["issued_at_time"]);
    assert!(
        issued >= before - 1000 && issued <= after + 1000,
        "issued_at_time {issued} not within [{before}, {after}]"
    );
    assert_eq!(t["not_before_time"], t["issued_at_time"]);
    assert_eq!(parse_time(&t["not_before_time"]), issued);
    assert_eq!(parse_time(&t["expiration_time"]), issued + THREE_DAYS_MS);

    // User scope, by a user without a space in the name; `album` is ignored, the
    // permission parameters are validated but not reported.
    let resp = create(
        &server,
        &w.bob,
        &[
            ("title", "script"),
            ("scope_type", "user"),
            ("album", "NoSuchAlbm"),
            ("read_permission", "true"),
            ("write_permission", "true"),
        ],
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_no_store(&resp);
    let u = resp.json();
    assert_no_null(&u);
    assert_eq!(
        keys(&u),
        sorted(&[
            "id",
            "secret",
            "access_token",
            "token_type",
            "title",
            "scope_type",
            "issued_at_time",
            "not_before_time",
            "expiration_time",
            "revoked",
            "created_by",
        ]),
        "{u}"
    );
    assert_alnum(&u["id"], 10);
    let user_secret = assert_alnum(&u["secret"], 22);
    assert_eq!(u["access_token"], user_secret.as_str());
    assert_eq!(u["token_type"], "Bearer");
    assert_eq!(u["title"], "script");
    assert_eq!(u["scope_type"], "user");
    assert_eq!(u["revoked"], false);
    assert_eq!(
        u["created_by"],
        user_object("bob@test.com", &w.bob_id, "bob", "bob", "")
    );
    let issued = parse_time(&u["issued_at_time"]);
    assert_eq!(u["not_before_time"], u["issued_at_time"]);
    assert_eq!(parse_time(&u["expiration_time"]), issued + THREE_DAYS_MS);

    // first_name is up to the first space, last_name the rest.
    let c = user_token(&server, &w.carol, "carol's");
    assert_eq!(
        c["created_by"],
        user_object(
            "carol@test.com",
            &w.carol_id,
            "Mary Ann Lee",
            "Mary",
            "Ann Lee"
        )
    );

    // scope_type is case-insensitive and reported in lower case; a write-only album
    // token is valid; the title is kept as given (not trimmed) and may repeat.
    let w_only = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "  Twitter token "),
            ("scope_type", "ALBUM"),
            ("album", &album),
            ("write_permission", "true"),
        ],
    );
    assert_eq!(w_only["scope_type"], "album");
    assert_eq!(w_only["title"], "  Twitter token ");
    assert_eq!(w_only["read_permission"], false);
    assert_eq!(w_only["write_permission"], true);
    assert_eq!(w_only["download_permission"], false);
    assert_eq!(w_only["appropriate_permission"], false);
    let all = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "all"),
            ("scope_type", "Album"),
            ("album", &album),
            ("read_permission", "true"),
            ("write_permission", "true"),
            ("download_permission", "true"),
            ("appropriate_permission", "true"),
        ],
    );
    for p in [
        "read_permission",
        "write_permission",
        "download_permission",
        "appropriate_permission",
    ] {
        assert_eq!(all[p], true, "{p}");
    }
    let user_upper = create_ok(&server, &w.alice, &[("title", "u"), ("scope_type", "USER")]);
    assert_eq!(user_upper["scope_type"], "user");

    // A title of 255 Unicode scalar values is accepted.
    let long: String = "é".repeat(255);
    let l = create_ok(
        &server,
        &w.alice,
        &[("title", &long), ("scope_type", "user")],
    );
    assert_eq!(l["title"], long.as_str());

    // Ids and secrets are all distinct.
    let mut all_ids = vec![
        string_field(&t, "id"),
        string_field(&u, "id"),
        string_field(&c, "id"),
        string_field(&w_only, "id"),
        string_field(&all, "id"),
    ];
    all_ids.extend([string_field(&user_upper, "id"), string_field(&l, "id")]);
    let mut dedup = all_ids.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), all_ids.len(), "{all_ids:?}");
    let mut secrets = vec![
        string_field(&t, "secret"),
        string_field(&u, "secret"),
        string_field(&c, "secret"),
        string_field(&w_only, "secret"),
    ];
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), 4);

    // Accept admitting JSON is fine.
    for accept in [
        "application/json",
        "application/*",
        "*/*",
        "text/html, application/json;q=0.5",
    ] {
        let resp = server
            .request("POST", "/capabilities")
            .bearer(&w.alice)
            .header("Accept", accept)
            .form(&[("title", "t"), ("scope_type", "user")])
            .send();
        assert_eq!(resp.status, 201, "Accept {accept}: {}", resp.body);
    }
}

// ---------------------------------------------------------------------------------------
// 5.4: the checks, in order, and 3.1/3.2 on create.

#[test]
fn create_runs_the_checks_in_the_order_of_the_table() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "A");
    add_member(&server, &w.alice, &album, &w.carol_id);
    let future = fmt_ms(now_ms() + 3_600_000);
    let past = fmt_ms(now_ms() - 3_600_000);
    let bad_form = "Bad Form Parameter";
    let bad_query = "Bad Query Parameter";

    // 1: no credential (also with otherwise bad parameters), and the 401 challenges.
    let resp = server
        .request("POST", "/capabilities")
        .form(&[("scope_type", "user")])
        .send();
    resp.assert_kheops_error(401, "Unauthorized", MALFORMED);
    assert_challenges(&challenges(&server, "POST", "/capabilities"));
    for header in [
        "Bearer ".to_owned(),
        "Token abc".to_owned(),
        "Basic !!!notbase64".to_owned(),
        "Basic bm9jb2xvbg==".to_owned(), // "nocolon"
    ] {
        server
            .request("POST", "/capabilities")
            .header("Authorization", &header)
            .form(&[("title", "t"), ("scope_type", "user")])
            .send()
            .assert_kheops_error(401, "Unauthorized", MALFORMED);
    }
    for bad in ["not-a-token", "ABCDEFGHIJKLMNOPQRSTUV"] {
        create(&server, bad, &[("scope_type", "user")]).assert_kheops_error(
            401,
            "Unauthorized",
            NOT_VALID,
        );
    }
    // A capability principal fails rule 1 before rule 2.
    let cap = user_token(&server, &w.alice, "cap");
    create(
        &server,
        &string_field(&cap, "secret"),
        &[("scope_type", "user")],
    )
    .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
    // The scheme name is case-insensitive, surrounding whitespace ignored.
    let resp = server
        .request("POST", "/capabilities")
        .header("Authorization", &format!("bEaReR   {}  ", w.alice))
        .form(&[("title", "t"), ("scope_type", "user")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);

    // 2: title missing or empty, before 5.
    let title_req = "Param 'title' is required";
    create(&server, &w.alice, &[("scope_type", "user")])
        .assert_kheops_error(400, bad_form, title_req);
    create(
        &server,
        &w.alice,
        &[
            ("title", ""),
            ("scope_type", "user"),
            ("read_permission", "yes"),
        ],
    )
    .assert_kheops_error(400, bad_form, title_req);
    create(&server, &w.alice, &[]).assert_kheops_error(400, bad_form, title_req);

    // 3: title too long (counted in Unicode scalar values), before 4.
    let long: String = "é".repeat(256);
    create(&server, &w.alice, &[("title", &long)]).assert_kheops_error(
        400,
        bad_form,
        "Param 'title' is too long max expected: 255 characters but got :256",
    );
    let long: String = "x".repeat(300);
    create(
        &server,
        &w.alice,
        &[("title", &long), ("scope_type", "user")],
    )
    .assert_kheops_error(
        400,
        bad_form,
        "Param 'title' is too long max expected: 255 characters but got :300",
    );

    // 4: scope_type missing or empty, before 5.
    let scope_req = "Param 'scope_type' is required";
    create(
        &server,
        &w.alice,
        &[("title", "t"), ("read_permission", "1")],
    )
    .assert_kheops_error(400, bad_form, scope_req);
    create(&server, &w.alice, &[("title", "t"), ("scope_type", "")])
        .assert_kheops_error(400, bad_form, scope_req);

    // 5: a permission that is not a boolean, before 6.
    for name in [
        "read_permission",
        "write_permission",
        "download_permission",
        "appropriate_permission",
    ] {
        for value in ["1", "yes", "0", "no", "truee"] {
            create(
                &server,
                &w.alice,
                &[("title", "t"), ("scope_type", "user"), (name, value)],
            )
            .assert_kheops_error(
                400,
                bad_form,
                &format!("Param '{name}' must be 'true' or 'false'"),
            );
        }
    }
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "yes"),
            ("appropriate_permission", "true"),
        ],
    )
    .assert_kheops_error(
        400,
        bad_form,
        "Param 'read_permission' must be 'true' or 'false'",
    );

    // 6: appropriate without read, before 7 (also for user scope).
    let appr = "'appropriate_permission' is available only if 'read_permission' is true";
    let down = "'download_permission' is available only if 'read_permission' is true";
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("appropriate_permission", "true"),
            ("download_permission", "true"),
        ],
    )
    .assert_kheops_error(400, bad_query, appr);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "false"),
            ("appropriate_permission", "true"),
        ],
    )
    .assert_kheops_error(400, bad_query, appr);

    // 7: download without read, before 8.
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("download_permission", "true"),
            ("not_before_time", "yesterday"),
        ],
    )
    .assert_kheops_error(400, bad_query, down);

    // 8: not_before_time unparsable, before 9.
    let nbf_err = "An error occurred while parsing 'not_before_time'";
    let exp_err = "An error occurred while parsing 'expiration_time'";
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", "soon"),
            ("expiration_time", "later"),
        ],
    )
    .assert_kheops_error(400, bad_query, nbf_err);

    // 9: expiration_time unparsable, before 10.
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "group"),
            ("expiration_time", "later"),
        ],
    )
    .assert_kheops_error(400, bad_query, exp_err);

    // 10: bad scope_type, before 11.
    let scope_bad = "'scope_type' must be 'user' or 'album'";
    create(
        &server,
        &w.alice,
        &[("title", "t"), ("scope_type", "group")],
    )
    .assert_kheops_error(400, bad_query, scope_bad);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "albums"),
            ("expiration_time", &past),
        ],
    )
    .assert_kheops_error(400, bad_query, scope_bad);

    // 11: album scope without album (absent or empty), before 12.
    let album_req = "'album' query parameter must be set with an album id";
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("not_before_time", &future),
            ("expiration_time", &past),
        ],
    )
    .assert_kheops_error(400, bad_query, album_req);
    create(
        &server,
        &w.alice,
        &[("title", "t"), ("scope_type", "album"), ("album", "")],
    )
    .assert_kheops_error(400, bad_query, album_req);

    // 12: expiration not after not_before, before 13 and 15.
    let after_nbf = "'expiration_time' must be after 'not_before_time'";
    let in_future = "'expiration_time' must be in the future";
    let in_two_hours = fmt_ms(now_ms() + 7_200_000);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &in_two_hours),
            ("expiration_time", &future),
        ],
    )
    .assert_kheops_error(400, bad_form, after_nbf);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &future),
            ("expiration_time", &future),
        ],
    )
    .assert_kheops_error(400, bad_form, after_nbf);
    // ... an expiration in the past that is also before not_before: rule 12.
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", "NoSuchAlbm"),
            ("not_before_time", &future),
            ("expiration_time", &past),
        ],
    )
    .assert_kheops_error(400, bad_form, after_nbf);
    // ... only not_before given, after the default expiration.
    let in_four_days = fmt_ms(now_ms() + 4 * 86_400_000);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &in_four_days),
        ],
    )
    .assert_kheops_error(400, bad_form, after_nbf);

    // 13: expiration not in the future, before 15.
    let two_hours_ago = fmt_ms(now_ms() - 7_200_000);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", "NoSuchAlbm"),
            ("not_before_time", &two_hours_ago),
            ("expiration_time", &past),
        ],
    )
    .assert_kheops_error(400, bad_form, in_future);
    // Without not_before_time it defaults to the issue time, so a past expiration alone
    // already fails rule 12.
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("expiration_time", &past),
        ],
    )
    .assert_kheops_error(400, bad_form, after_nbf);

    // 14: beyond the maximum lifetime (365 days by default), before 15.
    let too_late = fmt_ms(now_ms() + 366 * 86_400_000);
    let max_err = "'expiration_time' exceeds the maximum lifetime of 31536000 seconds";
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", "NoSuchAlbm"),
            ("expiration_time", &too_late),
        ],
    )
    .assert_kheops_error(400, bad_form, max_err);
    let ok_late = fmt_ms(now_ms() + 364 * 86_400_000);
    let t = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("expiration_time", &ok_late),
        ],
    );
    assert_eq!(t["expiration_time"], ok_late.as_str());

    // 15: album malformed, unknown, or the caller is not a member (the Tessera admin
    // has no special rights here).
    for (token, id) in [
        (&w.alice, "NoSuchAlbm"),
        (&w.alice, "short"),
        (&w.alice, "bad-album!"),
        (&w.dave, album.as_str()),
        (&w.admin, album.as_str()),
    ] {
        create(
            &server,
            token,
            &[("title", "t"), ("scope_type", "album"), ("album", id)],
        )
        .assert_kheops_error(404, "Album Not Found", ALBUM_NOT_FOUND);
    }

    // 16: a member that is not an admin.
    let resp = create(
        &server,
        &w.carol,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "true"),
        ],
    );
    resp.assert_kheops_error(
        401,
        "Not admin",
        "Only an admin can generate a capability token for an album",
    );
    // Every 401 of the family carries the challenges (1.3).
    let www = resp.header("www-authenticate").unwrap_or_default();
    assert!(
        www.to_ascii_lowercase().contains("bearer") || www.to_ascii_lowercase().contains("basic"),
        "WWW-Authenticate on the Not admin 401: {www:?}"
    );
    // ... who can once promoted.
    make_admin(&server, &w.alice, &album, &w.carol_id);
    let t = create_ok(
        &server,
        &w.carol,
        &[("title", "t"), ("scope_type", "album"), ("album", &album)],
    );
    assert_eq!(t["read_permission"], false);
}

// ---------------------------------------------------------------------------------------
// 1.2: times, booleans, empty and repeated parameters.

#[test]
fn create_parses_times_as_rfc3339_with_an_offset() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let exp = |value: &str| {
        create(
            &server,
            &w.alice,
            &[
                ("title", "t"),
                ("scope_type", "user"),
                ("expiration_time", value),
            ],
        )
    };
    // A whole second, one day ahead.
    let t = (now_ms() / 1000 + 86_400) * 1000;
    let (date, time, _) = parts(t);
    let accepted = |value: String, expected: String| {
        let resp = exp(&value);
        assert_eq!(resp.status, 201, "{value}: {}", resp.body);
        assert_eq!(resp.json()["expiration_time"], expected.as_str(), "{value}");
    };
    accepted(format!("{date}T{time}Z"), fmt_ms(t));
    let (ld, lt, _) = parts(t + 2 * 3_600_000);
    accepted(format!("{ld}T{lt}+02:00"), fmt_ms(t));
    let (ld, lt, _) = parts(t - 5 * 3_600_000 - 30 * 60_000);
    accepted(format!("{ld}T{lt}-05:30"), fmt_ms(t));
    accepted(format!("{date}T{time}+00:00"), fmt_ms(t));
    accepted(format!("{date}T{time}.5Z"), fmt_ms(t + 500));
    accepted(format!("{date}T{time}.123456Z"), fmt_ms(t + 123));
    accepted(format!("{date}T{time}.9999Z"), fmt_ms(t + 999));
    let (ld, lt, _) = parts(t + 2 * 3_600_000);
    accepted(format!("{ld}T{lt}.5+02:00"), fmt_ms(t + 500));
    // The KHEOPS form without seconds.
    let m = (now_ms() / 60_000 + 1440) * 60_000;
    let (md, mt, _) = parts(m);
    accepted(format!("{md}T{}Z", &mt[..5]), fmt_ms(m));

    // Rejected forms.
    let (ld, lt, _) = parts(t + 2 * 3_600_000);
    for value in [
        (t / 1000).to_string(),
        t.to_string(),
        format!("{date}T{time}"),
        format!("{date}T{time}.250"),
        date.clone(),
        format!("{ld}T{lt}+0200"),
        format!("{date}T{time}+02"),
        "tomorrow".to_owned(),
    ] {
        exp(&value).assert_kheops_error(
            400,
            "Bad Query Parameter",
            "An error occurred while parsing 'expiration_time'",
        );
        create(
            &server,
            &w.alice,
            &[
                ("title", "t"),
                ("scope_type", "user"),
                ("not_before_time", &value),
            ],
        )
        .assert_kheops_error(
            400,
            "Bad Query Parameter",
            "An error occurred while parsing 'not_before_time'",
        );
    }

    // not_before_time in the past with an offset; the default expiration still counts
    // from the issue time.
    let nbf = (now_ms() / 1000 - 3600) * 1000;
    let (ld, lt, _) = parts(nbf + 2 * 3_600_000);
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &format!("{ld}T{lt}.25+02:00")),
        ],
    );
    assert_eq!(tok["not_before_time"], fmt_ms(nbf + 250).as_str());
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + THREE_DAYS_MS);
    // not_before_time in the future: expiration still issue time + 3 days.
    let nbf = now_ms() + 3_600_000;
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &fmt_ms(nbf)),
        ],
    );
    assert_eq!(tok["not_before_time"], fmt_ms(nbf).as_str());
    let issued = parse_time(&tok["issued_at_time"]);
    assert_eq!(parse_time(&tok["expiration_time"]), issued + THREE_DAYS_MS);
}

#[test]
fn create_parses_booleans_and_treats_empty_parameters_as_absent() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "A");
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "TRUE"),
            ("write_permission", "True"),
            ("download_permission", "tRuE"),
            ("appropriate_permission", "FALSE"),
        ],
    );
    assert_eq!(tok["read_permission"], true);
    assert_eq!(tok["write_permission"], true);
    assert_eq!(tok["download_permission"], true);
    assert_eq!(tok["appropriate_permission"], false);

    // Empty values are absent: defaults apply.
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", ""),
            ("write_permission", ""),
            ("download_permission", ""),
            ("appropriate_permission", ""),
            ("not_before_time", ""),
            ("expiration_time", ""),
        ],
    );
    for p in [
        "read_permission",
        "write_permission",
        "download_permission",
        "appropriate_permission",
    ] {
        assert_eq!(tok[p], false, "{p}");
    }
    assert_eq!(tok["not_before_time"], tok["issued_at_time"]);
    assert_eq!(
        parse_time(&tok["expiration_time"]),
        parse_time(&tok["issued_at_time"]) + THREE_DAYS_MS
    );
    // An empty read with download=true: read is false, so rule 7 fires.
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("read_permission", ""),
            ("download_permission", "true"),
        ],
    )
    .assert_kheops_error(
        400,
        "Bad Query Parameter",
        "'download_permission' is available only if 'read_permission' is true",
    );

    // The first occurrence of a repeated parameter wins; unknown parameters are ignored;
    // names are case-sensitive.
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "first"),
            ("title", "second"),
            ("scope_type", "user"),
            ("scope_type", "bogus"),
            ("colour", "blue"),
        ],
    );
    assert_eq!(tok["title"], "first");
    assert_eq!(tok["scope_type"], "user");
    create(&server, &w.alice, &[("Title", "t"), ("scope_type", "user")]).assert_kheops_error(
        400,
        "Bad Form Parameter",
        "Param 'title' is required",
    );
    // '+' in a raw form body decodes to a space.
    let resp = server
        .request("POST", "/capabilities")
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .raw(b"title=a+b%2Bc&scope_type=user".to_vec())
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.json()["title"], "a b+c");
}

// ---------------------------------------------------------------------------------------
// 1.2: Content-Type and Accept, decided before authentication.

#[test]
fn content_type_and_accept_are_checked_before_authentication() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let unsupported = |resp: Resp| {
        resp.assert_kheops_error(
            415,
            "Unsupported Media Type",
            "Content-Type must be application/x-www-form-urlencoded",
        )
    };
    let not_acceptable = |resp: Resp| {
        resp.assert_kheops_error(
            406,
            "Not Acceptable",
            "This resource only produces application/json",
        )
    };
    let body = b"title=t&scope_type=user".to_vec();

    // Create: JSON, missing, other type; with and without a credential.
    unsupported(
        server
            .request("POST", "/capabilities")
            .bearer(&w.alice)
            .json(&json!({"title": "t", "scope_type": "user"}))
            .send(),
    );
    unsupported(
        server
            .request("POST", "/capabilities")
            .bearer(&w.alice)
            .raw(body.clone())
            .send(),
    );
    unsupported(
        server
            .request("POST", "/capabilities")
            .bearer(&w.alice)
            .header("Content-Type", "text/plain")
            .raw(body.clone())
            .send(),
    );
    unsupported(
        server
            .request("POST", "/capabilities")
            .json(&json!({"title": "t", "scope_type": "user"}))
            .send(),
    );
    unsupported(
        server
            .request("POST", "/capabilities")
            .raw(body.clone())
            .send(),
    );
    unsupported(
        server
            .request("POST", "/capabilities")
            .bearer("ABCDEFGHIJKLMNOPQRSTUV")
            .json(&json!({}))
            .send(),
    );
    // Media type compared case-insensitively, parameters allowed.
    for ct in [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-Urlencoded",
    ] {
        let resp = server
            .request("POST", "/capabilities")
            .bearer(&w.alice)
            .header("Content-Type", ct)
            .raw(body.clone())
            .send();
        assert_eq!(resp.status, 201, "{ct}: {}", resp.body);
    }

    // Accept not admitting JSON: 406, before authentication.
    for accept in ["text/html", "application/xml", "application/json;q=0"] {
        not_acceptable(
            server
                .request("POST", "/capabilities")
                .bearer(&w.alice)
                .header("Accept", accept)
                .form(&[("title", "t"), ("scope_type", "user")])
                .send(),
        );
    }
    not_acceptable(
        server
            .request("POST", "/capabilities")
            .header("Accept", "text/html")
            .form(&[("title", "t"), ("scope_type", "user")])
            .send(),
    );
    not_acceptable(
        server
            .request("GET", "/capabilities")
            .header("Accept", "text/html")
            .send(),
    );
    not_acceptable(
        server
            .request("GET", "/capabilities")
            .bearer(&w.alice)
            .header("Accept", "text/html")
            .send(),
    );

    // Revoke: a missing or form Content-Type is fine, any other is 415 (also unauthenticated).
    let a = user_token(&server, &w.alice, "a");
    let b = user_token(&server, &w.alice, "b");
    let c = user_token(&server, &w.alice, "c");
    for id in [string_field(&a, "id"), string_field(&b, "id")] {
        unsupported(
            server
                .request("POST", &format!("/capabilities/{id}/revoke"))
                .bearer(&w.alice)
                .json(&json!({}))
                .send(),
        );
    }
    unsupported(
        server
            .request(
                "POST",
                &format!("/capabilities/{}/revoke", string_field(&a, "id")),
            )
            .header("Content-Type", "text/plain")
            .raw(b"x".to_vec())
            .send(),
    );
    assert_eq!(
        get_cap(&server, &w.alice, &string_field(&a, "id")).json()["revoked"],
        false
    );
    let resp = revoke(&server, &w.alice, &string_field(&a, "id"));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["revoked"], true);
    let resp = server
        .request(
            "POST",
            &format!("/capabilities/{}/revoke", string_field(&b, "id")),
        )
        .bearer(&w.alice)
        .form(&[("ignored", "x")])
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["revoked"], true);
    let resp = server
        .request(
            "POST",
            &format!("/capabilities/{}/revoke", string_field(&c, "id")),
        )
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);

    // Introspection: form only; Accept honoured.
    unsupported(
        server
            .request("POST", "/token/introspect")
            .json(&json!({"token": "x"}))
            .send(),
    );
    unsupported(
        server
            .request("POST", "/token/introspect")
            .raw(b"token=x".to_vec())
            .send(),
    );
    not_acceptable(
        server
            .request("POST", "/token/introspect")
            .header("Accept", "text/html")
            .form(&[("token", "x")])
            .send(),
    );
}

// ---------------------------------------------------------------------------------------
// 2: settings.

#[test]
fn lifetime_settings_apply_and_bad_values_stop_the_server() {
    let db = TestDb::new();
    let server = Server::start_on(
        &db,
        Options::default()
            .env("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "3600")
            .env("TESSERA_CAPABILITY_MAX_LIFETIME", "7200"),
    );
    let w = world(&server);
    let tok = user_token(&server, &w.alice, "t");
    assert_eq!(
        parse_time(&tok["expiration_time"]),
        parse_time(&tok["issued_at_time"]) + 3_600_000
    );
    // Within max (+ 5 s tolerance).
    let ok = fmt_ms(now_ms() + 7_202_000);
    let tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("expiration_time", &ok),
        ],
    );
    assert_eq!(tok["expiration_time"], ok.as_str());
    // Beyond.
    let late = fmt_ms(now_ms() + 7_260_000);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("expiration_time", &late),
        ],
    )
    .assert_kheops_error(
        400,
        "Bad Form Parameter",
        "'expiration_time' exceeds the maximum lifetime of 7200 seconds",
    );
    // Only not_before given, after the configured default expiration: rule 12.
    let nbf = fmt_ms(now_ms() + 3_700_000);
    create(
        &server,
        &w.alice,
        &[
            ("title", "t"),
            ("scope_type", "user"),
            ("not_before_time", &nbf),
        ],
    )
    .assert_kheops_error(
        400,
        "Bad Form Parameter",
        "'expiration_time' must be after 'not_before_time'",
    );
    drop(server);

    // Default equal to max is fine.
    let same = Server::try_start_on(
        &db,
        Options::default()
            .env("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "600")
            .env("TESSERA_CAPABILITY_MAX_LIFETIME", "600"),
    );
    assert!(same.is_ok(), "{:?}", same.err());
    drop(same);

    // Bad values: the server does not start.
    for env in [
        vec![("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "0")],
        vec![("TESSERA_CAPABILITY_MAX_LIFETIME", "0")],
        vec![("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "-5")],
        vec![("TESSERA_CAPABILITY_MAX_LIFETIME", "abc")],
        vec![
            ("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "7200"),
            ("TESSERA_CAPABILITY_MAX_LIFETIME", "3600"),
        ],
        // Default above the default maximum of 365 days.
        vec![("TESSERA_CAPABILITY_DEFAULT_LIFETIME", "40000000")],
    ] {
        let mut options = Options::default();
        for (k, v) in &env {
            options = options.env(k, v);
        }
        match Server::try_start_on(&db, options) {
            Ok(_) => panic!("started with {env:?}"),
            // The one-line reason names the bad setting.
            Err(log) => assert!(
                log.to_ascii_lowercase().contains("capability"),
                "{env:?}: {log}"
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5.5: list.

#[test]
fn list_in_user_mode_filters_sorts_and_pages() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let a1 = create_album(&server, &w.alice, "A1");
    let a2 = create_album(&server, &w.alice, "A2");

    // Nothing yet: [] with X-Total-Count 0.
    let items = assert_list(&list(&server, &w.alice, ""), 0);
    assert!(items.is_empty());
    assert_eq!(list(&server, &w.alice, "").body.trim(), "[]");

    let mut mine = vec![
        user_token(&server, &w.alice, "u1"),
        album_token(&server, &w.alice, &a1, "a1"),
        album_token(&server, &w.alice, &a2, "a2"),
        user_token(&server, &w.alice, "u2"),
    ];
    let future_nbf = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "later"),
            ("scope_type", "user"),
            ("not_before_time", &fmt_ms(now_ms() + 3_600_000)),
        ],
    );
    mine.push(future_nbf.clone());
    let revoked = user_token(&server, &w.alice, "revoked");
    assert_eq!(
        revoke(&server, &w.alice, &string_field(&revoked, "id")).status,
        200
    );
    mine.push(revoked.clone());
    // Bob's token never shows in Alice's list.
    let bobs = user_token(&server, &w.bob, "bob's");

    let items = assert_list(&list(&server, &w.alice, ""), 6);
    assert_sorted(&items);
    let mut got = ids(&items);
    got.sort();
    let mut want: Vec<String> = mine.iter().map(|t| string_field(t, "id")).collect();
    want.sort();
    assert_eq!(got, want);
    assert!(!got.contains(&string_field(&bobs, "id")));
    // Items carry the token JSON without the secret.
    let a1_item = items.iter().find(|i| i["id"] == mine[1]["id"]).unwrap();
    let mut expected = mine[1].clone();
    expected.as_object_mut().unwrap().remove("secret");
    expected.as_object_mut().unwrap().remove("access_token");
    assert_eq!(*a1_item, expected);
    let revoked_item = items.iter().find(|i| i["id"] == revoked["id"]).unwrap();
    assert_eq!(revoked_item["revoked"], true);
    parse_time(&revoked_item["revoke_time"]);
    assert_eq!(
        revoked_item["revoked_by"],
        user_object(
            "alice@test.com",
            &w.alice_id,
            "Alice Smith",
            "Alice",
            "Smith"
        )
    );

    // valid=true: not revoked, not before not_before.
    let valid = assert_list(&list(&server, &w.alice, "?valid=true"), 4);
    assert_sorted(&valid);
    let valid_ids = ids(&valid);
    assert!(!valid_ids.contains(&string_field(&revoked, "id")));
    assert!(!valid_ids.contains(&string_field(&future_nbf, "id")));
    assert_list(&list(&server, &w.alice, "?valid=TRUE"), 4);
    assert_list(&list(&server, &w.alice, "?valid=false"), 6);
    assert_list(&list(&server, &w.alice, "?valid=False"), 6);
    assert_list(&list(&server, &w.alice, "?valid="), 6);

    // limit / offset: the total is counted before them.
    let all_ids = ids(&items);
    let page = assert_list(&list(&server, &w.alice, "?limit=2"), 6);
    assert_eq!(ids(&page), all_ids[..2].to_vec());
    let page = assert_list(&list(&server, &w.alice, "?limit=2&offset=2"), 6);
    assert_eq!(ids(&page), all_ids[2..4].to_vec());
    let page = assert_list(&list(&server, &w.alice, "?offset=5"), 6);
    assert_eq!(ids(&page), all_ids[5..].to_vec());
    let page = assert_list(&list(&server, &w.alice, "?offset=6"), 6);
    assert!(page.is_empty());
    let page = assert_list(&list(&server, &w.alice, "?limit=0"), 6);
    assert!(page.is_empty());
    let page = assert_list(&list(&server, &w.alice, "?limit=5000"), 6);
    assert_eq!(ids(&page), all_ids);
    let page = assert_list(&list(&server, &w.alice, "?limit=1&offset=1&valid=true"), 4);
    assert_eq!(ids(&page), ids(&valid)[1..2].to_vec());

    // Bad query parameters.
    for (query, name) in [
        ("?valid=yes", "valid"),
        ("?valid=1", "valid"),
        ("?limit=-1", "limit"),
        ("?limit=abc", "limit"),
        ("?limit=1.5", "limit"),
        ("?offset=-1", "offset"),
        ("?offset=x", "offset"),
        ("?limit=-1&album=NoSuchAlbm", "limit"),
        ("?offset=-1&user=nobody@test.com", "offset"),
    ] {
        let resp = list(&server, &w.alice, query);
        assert_eq!(resp.status, 400, "{query}: {}", resp.body);
        assert_eq!(resp.json()["message"], "Bad Query Parameter", "{query}");
        let detail = string_field(&resp.json(), "detail");
        assert!(
            detail.starts_with(&format!("Param '{name}'")),
            "{query}: {detail}"
        );
    }

    // user=: sub or email (case-insensitive, trimmed, no wildcards).
    for who in [
        w.alice_id.clone(),
        "alice@test.com".to_owned(),
        "ALICE@Test.COM".to_owned(),
        "%20alice@test.com%20".to_owned(),
    ] {
        assert_list(&list(&server, &w.alice, &format!("?user={who}")), 6);
    }
    let other = assert_list(&list(&server, &w.alice, &format!("?user={}", w.bob_id)), 0);
    assert!(other.is_empty());
    assert_list(&list(&server, &w.alice, "?user=bob@test.com"), 0);
    for who in [
        "nobody@test.com",
        "%25@test.com",
        "alice%25",
        "_lice@test.com",
        "no-such-sub",
    ] {
        list(&server, &w.alice, &format!("?user={who}")).assert_kheops_error(
            404,
            "User Not Found",
            "The user is unknown",
        );
    }
    // The sub must match exactly.
    list(
        &server,
        &w.alice,
        &format!("?user={}", w.alice_id.to_uppercase()),
    )
    .assert_kheops_error(404, "User Not Found", "The user is unknown");

    // Bob sees his one token; Dave has none.
    let b = assert_list(&list(&server, &w.bob, ""), 1);
    assert_eq!(ids(&b), vec![string_field(&bobs, "id")]);
    assert_list(&list(&server, &w.dave, ""), 0);
}

#[test]
fn list_in_album_mode_needs_an_admin_and_shows_every_creator() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Shared");
    let other = create_album(&server, &w.alice, "Other");
    make_admin(&server, &w.alice, &album, &w.bob_id);
    add_member(&server, &w.alice, &album, &w.carol_id);

    let a1 = album_token(&server, &w.alice, &album, "a1");
    let a2 = album_token(&server, &w.alice, &album, "a2");
    let b1 = album_token(&server, &w.bob, &album, "b1");
    let _user = user_token(&server, &w.alice, "user scope");
    let _elsewhere = album_token(&server, &w.alice, &other, "other album");

    for token in [&w.alice, &w.bob] {
        let items = assert_list(&list(&server, token, &format!("?album={album}")), 3);
        assert_sorted(&items);
        let mut got = ids(&items);
        got.sort();
        let mut want = vec![
            string_field(&a1, "id"),
            string_field(&a2, "id"),
            string_field(&b1, "id"),
        ];
        want.sort();
        assert_eq!(got, want);
    }
    let items = assert_list(
        &list(
            &server,
            &w.alice,
            &format!("?album={album}&user={}", w.bob_id),
        ),
        1,
    );
    assert_eq!(ids(&items), vec![string_field(&b1, "id")]);
    assert_eq!(
        items[0]["created_by"],
        user_object("bob@test.com", &w.bob_id, "bob", "bob", "")
    );
    let items = assert_list(
        &list(
            &server,
            &w.bob,
            &format!("?album={album}&user=ALICE@TEST.COM"),
        ),
        2,
    );
    assert_sorted(&items);
    let items = assert_list(
        &list(
            &server,
            &w.alice,
            &format!("?album={album}&limit=1&offset=1"),
        ),
        3,
    );
    assert_eq!(items.len(), 1);
    // A user with no token on the album.
    assert_list(
        &list(
            &server,
            &w.alice,
            &format!("?album={album}&user={}", w.carol_id),
        ),
        0,
    );
    // valid=true drops revoked ones.
    assert_eq!(
        revoke(&server, &w.bob, &string_field(&a1, "id")).status,
        200
    );
    let items = assert_list(
        &list(&server, &w.alice, &format!("?album={album}&valid=true")),
        2,
    );
    assert!(!ids(&items).contains(&string_field(&a1, "id")));

    // Non-admin member: 403 (before the user check).
    list(&server, &w.carol, &format!("?album={album}")).assert_kheops_error(
        403,
        "Authorization error",
        ON_ALBUM,
    );
    list(
        &server,
        &w.carol,
        &format!("?album={album}&user=nobody@test.com"),
    )
    .assert_kheops_error(403, "Authorization error", ON_ALBUM);
    // Not a member, unknown, malformed: 404 (before the user check).
    for (token, id) in [
        (&w.dave, album.as_str()),
        (&w.admin, album.as_str()),
        (&w.alice, "NoSuchAlbm"),
        (&w.alice, "bad"),
    ] {
        list(&server, token, &format!("?album={id}&user=nobody@test.com")).assert_kheops_error(
            404,
            "Album Not Found",
            ALBUM_NOT_FOUND,
        );
    }
    // Unknown user for an admin.
    list(
        &server,
        &w.alice,
        &format!("?album={album}&user=nobody@test.com"),
    )
    .assert_kheops_error(404, "User Not Found", "The user is unknown");
    // An album without tokens.
    let empty = create_album(&server, &w.dave, "Empty");
    let items = assert_list(&list(&server, &w.dave, &format!("?album={empty}")), 0);
    assert!(items.is_empty());
}

// ---------------------------------------------------------------------------------------
// 5.6: get one.

#[test]
fn get_one_is_visible_to_the_creator_and_current_album_admins_only() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    make_admin(&server, &w.alice, &album, &w.bob_id);
    add_member(&server, &w.alice, &album, &w.carol_id);

    let created = album_token(&server, &w.alice, &album, "viewer");
    let id = string_field(&created, "id");
    let user = user_token(&server, &w.alice, "script");
    let user_id = string_field(&user, "id");
    let not_found =
        |resp: Resp| resp.assert_kheops_error(404, "Not Found", "Capability token not found");

    // The creator: the create JSON without the secret.
    let resp = get_cap(&server, &w.alice, &id);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_json_type(&resp);
    let got = resp.json();
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    expected.as_object_mut().unwrap().remove("access_token");
    assert_eq!(got, expected);
    assert_no_null(&got);
    let resp = get_cap(&server, &w.alice, &user_id);
    assert_eq!(resp.status, 200, "{}", resp.body);
    let mut expected = user.clone();
    expected.as_object_mut().unwrap().remove("secret");
    expected.as_object_mut().unwrap().remove("access_token");
    assert_eq!(resp.json(), expected);

    // Another current admin of the album sees album tokens, not the creator's user tokens.
    assert_eq!(get_cap(&server, &w.bob, &id).json(), got);
    not_found(get_cap(&server, &w.bob, &user_id));
    // A non-admin member, an outsider, the Tessera admin: not found.
    for token in [&w.carol, &w.dave, &w.admin] {
        not_found(get_cap(&server, token, &id));
        not_found(get_cap(&server, token, &user_id));
    }
    // Unknown and malformed ids.
    for bad in ["NoSuchCap0", "short", "toolongid123", "bad-id-!!!"] {
        not_found(get_cap(&server, &w.alice, bad));
    }

    // The album name shown is the current one.
    let resp = server
        .request("PATCH", &format!("/albums/{album}"))
        .bearer(&w.alice)
        .form(&[("name", "Renamed")])
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        get_cap(&server, &w.alice, &id).json()["album"],
        json!({"id": album, "album_id": album, "name": "Renamed"})
    );

    // An album-scope secret as credential: 403.
    let album_secret = string_field(&created, "secret");
    get_cap(&server, &album_secret, &id).assert_kheops_error(
        403,
        "Authorization error",
        TOKEN_TYPE,
    );
    server
        .request("GET", &format!("/capabilities/{user_id}"))
        .basic("x", &album_secret)
        .send()
        .assert_kheops_error(403, "Authorization error", TOKEN_TYPE);
    // A user-scope secret acts as its creator (Bearer and Basic).
    let user_secret = string_field(&user, "secret");
    for resp in [
        get_cap(&server, &user_secret, &id),
        server
            .request("GET", &format!("/capabilities/{id}"))
            .basic("anything", &user_secret)
            .send(),
    ] {
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.json()["id"], id.as_str());
        assert!(resp.json().get("secret").is_none());
    }
    let resp = get_cap(&server, &user_secret, &user_id);
    assert_eq!(resp.status, 200, "{}", resp.body);
    // ... but sees only what the creator sees.
    let bob_user = user_token(&server, &w.bob, "bob");
    not_found(get_cap(
        &server,
        &user_secret,
        &string_field(&bob_user, "id"),
    ));

    // Bob stops being an admin: he no longer sees Alice's album token.
    let resp = server
        .request(
            "DELETE",
            &format!("/albums/{album}/users/{}/admin", w.bob_id),
        )
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 204, "{}", resp.body);
    not_found(get_cap(&server, &w.bob, &id));
    // Carol promoted now sees it.
    make_admin(&server, &w.alice, &album, &w.carol_id);
    assert_eq!(get_cap(&server, &w.carol, &id).status, 200);
    // No credential.
    server
        .request("GET", &format!("/capabilities/{id}"))
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    assert_challenges(&challenges(&server, "GET", &format!("/capabilities/{id}")));
}

// ---------------------------------------------------------------------------------------
// 5.7: revoke.

#[test]
fn revoke_sets_time_and_revoker_once_and_refuses_the_token() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    make_admin(&server, &w.alice, &album, &w.bob_id);
    add_member(&server, &w.alice, &album, &w.carol_id);
    let tok = album_token(&server, &w.alice, &album, "viewer");
    let id = string_field(&tok, "id");
    let secret = string_field(&tok, "secret");
    let not_found =
        |resp: Resp| resp.assert_kheops_error(404, "Not Found", "Capability token not found");

    // Usable before.
    assert_eq!(
        server
            .request("GET", &format!("/albums/{album}"))
            .bearer(&secret)
            .send()
            .status,
        200
    );

    // Not visible: 404, nothing changes.
    for token in [&w.carol, &w.dave, &w.admin] {
        not_found(revoke(&server, token, &id));
    }
    for bad in ["NoSuchCap0", "short", "bad-id-!!!"] {
        not_found(revoke(&server, &w.alice, bad));
    }
    assert_eq!(get_cap(&server, &w.alice, &id).json()["revoked"], false);

    // Bob, another admin of the album, revokes Alice's token.
    let before = now_ms();
    let resp = revoke(&server, &w.bob, &id);
    let after = now_ms();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_json_type(&resp);
    let r = resp.json();
    assert_no_null(&r);
    assert!(!resp.body.contains(&secret));
    assert_eq!(r["revoked"], true);
    let revoke_time = parse_time(&r["revoke_time"]);
    assert!(revoke_time >= before - 1000 && revoke_time <= after + 1000);
    let bob_obj = user_object("bob@test.com", &w.bob_id, "bob", "bob", "");
    assert_eq!(r["revoked_by"], bob_obj);
    parse_time(&r["last_used"]);
    let mut expected = tok.clone();
    {
        let obj = expected.as_object_mut().unwrap();
        obj.remove("secret");
        obj.remove("access_token");
        obj.insert("revoked".into(), json!(true));
        obj.insert("revoke_time".into(), r["revoke_time"].clone());
        obj.insert("revoked_by".into(), bob_obj.clone());
        if let Some(last_used) = r.get("last_used") {
            obj.insert("last_used".into(), last_used.clone());
        }
    }
    assert_eq!(r, expected);

    // Second revoke, by the creator: a 200 no-op.
    std::thread::sleep(Duration::from_millis(20));
    let again = revoke(&server, &w.alice, &id);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json(), r);
    assert_eq!(get_cap(&server, &w.alice, &id).json(), r);
    assert_eq!(get_cap(&server, &w.bob, &id).json(), r);

    // Refused at once everywhere.
    server
        .request("GET", &format!("/albums/{album}"))
        .bearer(&secret)
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    let resp = introspect(&server, &secret);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json(), json!({"active": false}));
    // A revoked secret on capability management: not usable, so "not valid".
    create(&server, &secret, &[("title", "t"), ("scope_type", "user")]).assert_kheops_error(
        401,
        "Unauthorized",
        NOT_VALID,
    );

    // The creator revokes a user-scope token: revoked_by is the creator.
    let u = user_token(&server, &w.alice, "script");
    let resp = revoke(&server, &w.alice, &string_field(&u, "id"));
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json()["revoked_by"],
        user_object(
            "alice@test.com",
            &w.alice_id,
            "Alice Smith",
            "Alice",
            "Smith"
        )
    );
    server
        .request("GET", "/albums")
        .bearer(&string_field(&u, "secret"))
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    // Bob (album admin) cannot see or revoke Alice's user-scope token.
    let u2 = user_token(&server, &w.alice, "script 2");
    not_found(revoke(&server, &w.bob, &string_field(&u2, "id")));

    // No credential.
    server
        .request(
            "POST",
            &format!("/capabilities/{}/revoke", string_field(&u2, "id")),
        )
        .send()
        .assert_kheops_error(401, "Unauthorized", MALFORMED);
    assert_eq!(
        get_cap(&server, &w.alice, &string_field(&u2, "id")).json()["revoked"],
        false
    );
}

// ---------------------------------------------------------------------------------------
// 3.3: capability secrets cannot manage capability tokens.

#[test]
fn capability_secrets_are_refused_on_create_list_and_revoke() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let album_tok = album_token(&server, &w.alice, &album, "viewer");
    let user_tok = user_token(&server, &w.alice, "script");
    let target = user_token(&server, &w.alice, "target");
    let target_id = string_field(&target, "id");

    for tok in [&album_tok, &user_tok] {
        assert!(get_cap(&server, &w.alice, &string_field(tok, "id"))
            .json()
            .get("last_used")
            .is_none());
        let secret = string_field(tok, "secret");
        let with = |req, basic| auth(req, &secret, basic);
        for basic in [false, true] {
            with(server.request("POST", "/capabilities"), basic)
                .form(&[("title", "t"), ("scope_type", "user")])
                .send()
                .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
            with(server.request("POST", "/capabilities"), basic)
                .form(&[
                    ("title", "t"),
                    ("scope_type", "album"),
                    ("album", &album),
                    ("read_permission", "true"),
                ])
                .send()
                .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
            with(server.request("GET", "/capabilities"), basic)
                .send()
                .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
            with(
                server.request("GET", &format!("/capabilities?album={album}")),
                basic,
            )
            .send()
            .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
            let resp = with(
                server.request("POST", &format!("/capabilities/{target_id}/revoke")),
                basic,
            )
            .send();
            resp.assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
            let www = resp.header("www-authenticate").unwrap_or_default();
            assert!(!www.is_empty(), "401 without WWW-Authenticate");
            with(
                server.request(
                    "POST",
                    &format!("/capabilities/{}/revoke", string_field(tok, "id")),
                ),
                basic,
            )
            .send()
            .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
        }
        // The refused uses still count as uses (5.2).
        let after = get_cap(&server, &w.alice, &string_field(tok, "id")).json();
        let last_used = parse_time(&after["last_used"]);
        assert!(last_used >= parse_time(&after["issued_at_time"]), "{after}");
        assert_eq!(after["revoked"], false);
    }
    // Nothing was created or revoked.
    assert_list(&list(&server, &w.alice, ""), 3);
    assert_eq!(
        get_cap(&server, &w.alice, &target_id).json()["revoked"],
        false
    );
}

// ---------------------------------------------------------------------------------------
// 5.8: introspection.

#[test]
fn introspection_reports_active_tokens_and_only_active_false_otherwise() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let perms = |read: &str, write: &str, download: &str, appropriate: &str| {
        create_ok(
            &server,
            &w.alice,
            &[
                ("title", "t"),
                ("scope_type", "album"),
                ("album", &album),
                ("read_permission", read),
                ("write_permission", write),
                ("download_permission", download),
                ("appropriate_permission", appropriate),
            ],
        )
    };
    let cases = [
        (
            perms("true", "false", "true", "false"),
            Some("read downloadbutton"),
        ),
        (
            perms("true", "true", "true", "true"),
            Some("read write downloadbutton send"),
        ),
        (perms("true", "false", "false", "true"), Some("read send")),
        (perms("false", "true", "false", "false"), Some("write")),
        (perms("true", "false", "false", "false"), Some("read")),
        (perms("false", "false", "false", "false"), None),
    ];
    for (tok, scope) in &cases {
        assert!(get_cap(&server, &w.alice, &string_field(tok, "id"))
            .json()
            .get("last_used")
            .is_none());
        let before = now_ms();
        let resp = introspect(&server, &string_field(tok, "secret"));
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_json_type(&resp);
        assert_no_store(&resp);
        let body = resp.json();
        let mut want = json!({
            "active": true,
            "sub": w.alice_id,
            "cap_token": string_field(tok, "id"),
            "album_id": album,
            "exp": parse_time(&tok["expiration_time"]).div_euclid(1000),
            "iat": parse_time(&tok["issued_at_time"]).div_euclid(1000),
            "nbf": parse_time(&tok["not_before_time"]).div_euclid(1000),
        });
        if let Some(scope) = scope {
            want["scope"] = json!(scope);
        }
        assert_eq!(body, want);
        assert!(body["exp"].is_i64() && body["iat"].is_i64() && body["nbf"].is_i64());
        assert!(!resp.body.contains(&string_field(tok, "secret")));
        // Counts as a use.
        let after = get_cap(&server, &w.alice, &string_field(tok, "id")).json();
        let last_used = parse_time(&after["last_used"]);
        assert!(
            last_used >= before - 1000 && last_used <= now_ms() + 1000,
            "{after}"
        );
    }

    // User scope: always every word, no album_id, whatever the permission parameters.
    for tok in [
        user_token(&server, &w.alice, "u"),
        create_ok(
            &server,
            &w.alice,
            &[
                ("title", "u"),
                ("scope_type", "user"),
                ("write_permission", "true"),
            ],
        ),
    ] {
        let resp = introspect(&server, &string_field(&tok, "secret"));
        assert_no_store(&resp);
        assert_eq!(
            resp.json(),
            json!({
                "active": true,
                "sub": w.alice_id,
                "scope": "user read write downloadbutton send",
                "cap_token": string_field(&tok, "id"),
                "exp": parse_time(&tok["expiration_time"]).div_euclid(1000),
                "iat": parse_time(&tok["issued_at_time"]).div_euclid(1000),
                "nbf": parse_time(&tok["not_before_time"]).div_euclid(1000),
            })
        );
    }
    // A time with a fraction is rounded down.
    let exp = (now_ms() / 1000 + 7200) * 1000 + 999;
    let tok = create_ok(
        &server,
        &w.bob,
        &[
            ("title", "u"),
            ("scope_type", "user"),
            ("expiration_time", &fmt_ms(exp)),
        ],
    );
    let body = introspect(&server, &string_field(&tok, "secret")).json();
    assert_eq!(body["exp"], exp / 1000);
    assert_eq!(body["sub"], w.bob_id.as_str());

    // token_type_hint and an Authorization header are ignored.
    let (tok, _) = &cases[0];
    let resp = server
        .request("POST", "/token/introspect")
        .bearer("garbage")
        .form(&[
            ("token", &string_field(tok, "secret")),
            ("token_type_hint", "refresh_token"),
        ])
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json()["active"], true);

    // Inactive: exactly {"active": false}, with no-store.
    let revoked = user_token(&server, &w.alice, "revoked");
    assert_eq!(
        revoke(&server, &w.alice, &string_field(&revoked, "id")).status,
        200
    );
    let later = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "later"),
            ("scope_type", "user"),
            ("not_before_time", &fmt_ms(now_ms() + 3_600_000)),
        ],
    );
    let inactive = |resp: Resp| {
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_no_store(&resp);
        assert_json_type(&resp);
        assert_eq!(resp.json(), json!({"active": false}));
    };
    inactive(introspect(&server, &string_field(&revoked, "secret")));
    inactive(introspect(&server, &string_field(&later, "secret")));
    inactive(introspect(&server, "ABCDEFGHIJKLMNOPQRSTUV"));
    inactive(introspect(&server, "not a token"));
    inactive(introspect(&server, ""));
    inactive(introspect(&server, &string_field(&later, "id")));
    inactive(introspect(&server, &w.alice));
    inactive(introspect(&server, &w.admin));
    inactive(
        server
            .request("POST", "/token/introspect")
            .form(&[("token_type_hint", "access_token")])
            .send(),
    );
    inactive(
        server
            .request("POST", "/token/introspect")
            .header("Content-Type", FORM)
            .send(),
    );
    // An unusable token is not marked as used.
    assert!(get_cap(&server, &w.alice, &string_field(&later, "id"))
        .json()
        .get("last_used")
        .is_none());
    assert!(get_cap(&server, &w.alice, &string_field(&revoked, "id"))
        .json()
        .get("last_used")
        .is_none());
    // last_used also shows in the list.
    let items = assert_list(&list(&server, &w.alice, ""), 10);
    let used = items.iter().find(|i| i["id"] == cases[0].0["id"]).unwrap();
    parse_time(&used["last_used"]);
}

// ---------------------------------------------------------------------------------------
// 5.2 on the wire: expiry with its 5 s leeway.

#[test]
fn expired_tokens_stop_working_after_the_leeway() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let exp = now_ms() + 1500;
    let exp_s = fmt_ms(exp);
    let album_tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "short"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "true"),
            ("expiration_time", &exp_s),
        ],
    );
    let user_tok = create_ok(
        &server,
        &w.alice,
        &[
            ("title", "short user"),
            ("scope_type", "user"),
            ("expiration_time", &exp_s),
        ],
    );
    let lasting = user_token(&server, &w.alice, "lasting");
    assert_eq!(album_tok["expiration_time"], exp_s.as_str());
    let (album_secret, user_secret) = (
        string_field(&album_tok, "secret"),
        string_field(&user_tok, "secret"),
    );

    // Works now.
    let resp = server
        .request("GET", &format!("/albums/{album}"))
        .bearer(&album_secret)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        keys(&resp.json()),
        sorted(&["album_id", "id", "name", "description"])
    );
    assert_eq!(
        server
            .request("GET", &format!("/albums/{album}"))
            .bearer(&user_secret)
            .send()
            .status,
        200
    );
    assert_eq!(introspect(&server, &album_secret).json()["active"], true);
    let valid = assert_list(&list(&server, &w.alice, "?valid=true"), 3);
    assert_eq!(valid.len(), 3);

    // Past expiration, within the leeway: not "valid" in lists (no leeway there), still
    // usable.
    sleep_until(exp + 1000);
    let valid = assert_list(&list(&server, &w.alice, "?valid=true"), 1);
    assert_eq!(ids(&valid), vec![string_field(&lasting, "id")]);
    assert_list(&list(&server, &w.alice, ""), 3);
    assert_eq!(introspect(&server, &user_secret).json()["active"], true);

    // Past the leeway: inactive and refused.
    sleep_until(exp + 6000);
    for secret in [&album_secret, &user_secret] {
        let resp = introspect(&server, secret);
        assert_eq!(resp.json(), json!({"active": false}));
        server
            .request("GET", &format!("/albums/{album}"))
            .bearer(secret)
            .send()
            .assert_kheops_error(401, "Unauthorized", NOT_VALID);
        server
            .request("GET", &format!("/albums/{album}"))
            .basic("user", secret)
            .send()
            .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    }
    // Revoking an expired token changes nothing.
    for tok in [&album_tok, &user_tok] {
        let before = get_cap(&server, &w.alice, &string_field(tok, "id")).json();
        let resp = revoke(&server, &w.alice, &string_field(tok, "id"));
        assert_eq!(resp.status, 200, "{}", resp.body);
        let r = resp.json();
        assert_eq!(r["revoked"], false, "{r}");
        assert!(r.get("revoke_time").is_none(), "{r}");
        assert!(r.get("revoked_by").is_none(), "{r}");
        assert_eq!(r, before);
        assert_eq!(
            get_cap(&server, &w.alice, &string_field(tok, "id")).json(),
            before
        );
    }
}

// ---------------------------------------------------------------------------------------
// 6: revocation seen by a second server process on the same database.

#[test]
fn a_second_server_sees_tokens_and_revocations_at_once() {
    let db = TestDb::new();
    let a = Server::start_on(&db, Options::default());
    let b = Server::start_on(&db, Options::default());
    let w = world(&a);
    let album = create_album(&a, &w.alice, "Album");
    let tok = album_token(&a, &w.alice, &album, "viewer");
    let secret = string_field(&tok, "secret");
    let path = format!("/albums/{album}");

    assert_eq!(b.request("GET", &path).bearer(&secret).send().status, 200);
    assert_eq!(introspect(&b, &secret).json()["active"], true);
    assert_eq!(
        get_cap(&b, &w.alice, &string_field(&tok, "id")).json()["id"],
        tok["id"]
    );

    // Revoked on A, refused by B at once.
    assert_eq!(revoke(&a, &w.alice, &string_field(&tok, "id")).status, 200);
    b.request("GET", &path)
        .bearer(&secret)
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert_eq!(introspect(&b, &secret).json(), json!({"active": false}));

    // And the other way round.
    let u = user_token(&b, &w.alice, "from b");
    let u_secret = string_field(&u, "secret");
    assert_eq!(a.request("GET", &path).bearer(&u_secret).send().status, 200);
    let items = assert_list(&list(&a, &w.alice, ""), 2);
    assert!(ids(&items).contains(&string_field(&u, "id")));
    assert_eq!(revoke(&b, &w.alice, &string_field(&u, "id")).status, 200);
    a.request("GET", &path)
        .bearer(&u_secret)
        .send()
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert_eq!(introspect(&a, &u_secret).json(), json!({"active": false}));
}

// ---------------------------------------------------------------------------------------
// 5.1: the secret is shown once and stored only as its digest.

#[test]
fn the_secret_is_shown_once_and_stored_only_as_its_sha256_digest() {
    let (server, db) = Server::start();
    let w = world(&server);
    let album = create_album(&server, &w.alice, "Album");
    let album_tok = album_token(&server, &w.alice, &album, "viewer");
    let user_tok = user_token(&server, &w.alice, "script");

    for tok in [&album_tok, &user_tok] {
        let secret = string_field(tok, "secret");
        let id = string_field(tok, "id");
        // Use it, so that it is touched in the database.
        assert_eq!(introspect(&server, &secret).json()["active"], true);
        assert_eq!(
            server
                .request("GET", &format!("/albums/{album}"))
                .bearer(&secret)
                .send()
                .status,
            200
        );
        let mut bodies = vec![
            list(&server, &w.alice, "").body,
            list(&server, &w.alice, &format!("?album={album}")).body,
            get_cap(&server, &w.alice, &id).body,
            introspect(&server, &secret).body,
        ];
        let r = revoke(&server, &w.alice, &id);
        assert_eq!(r.status, 200);
        bodies.push(r.body);
        bodies.push(revoke(&server, &w.alice, &id).body);
        bodies.push(get_cap(&server, &w.alice, &id).body);
        bodies.push(introspect(&server, &secret).body);
        for body in &bodies {
            assert!(!body.contains(&secret), "secret in {body}");
        }

        let dump = db.dump_text();
        assert!(!dump.contains(&secret), "plaintext secret stored");
        assert!(dump.contains(&sha256_hex(&secret)), "digest not stored");
        assert!(dump.contains(&id));
        assert!(!server.log().contains(&secret), "secret logged");
    }
}

// ---------------------------------------------------------------------------------------
// 1.1: the /api mount point.

#[test]
fn the_api_prefix_serves_the_same_routes() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let resp = server
        .request("POST", "/api/albums")
        .bearer(&w.alice)
        .form(&[("name", "Study group")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let album = string_field(&resp.json(), "album_id");

    let resp = server
        .request("POST", "/api/capabilities")
        .bearer(&w.alice)
        .form(&[
            ("title", "viewer"),
            ("scope_type", "album"),
            ("album", &album),
            ("read_permission", "true"),
            ("download_permission", "true"),
        ])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_no_store(&resp);
    let tok = resp.json();
    let id = string_field(&tok, "id");
    let secret = assert_alnum(&tok["secret"], 22);
    assert_eq!(tok["access_token"], secret.as_str());
    assert_eq!(
        tok["album"],
        json!({"id": album, "album_id": album, "name": "Study group"})
    );
    let user = create_ok(
        &server,
        &w.alice,
        &[("title", "root"), ("scope_type", "user")],
    );

    // Lists under both mounts agree.
    let api = server
        .request("GET", "/api/capabilities")
        .bearer(&w.alice)
        .send();
    let items = assert_list(&api, 2);
    let root_items = assert_list(&list(&server, &w.alice, ""), 2);
    assert_eq!(items, root_items);
    let api = server
        .request("GET", &format!("/api/capabilities?album={album}&limit=1"))
        .bearer(&w.alice)
        .send();
    assert_eq!(ids(&assert_list(&api, 1)), vec![id.clone()]);
    server
        .request("GET", "/api/capabilities?limit=x")
        .bearer(&w.alice)
        .send()
        .assert_kheops_error(400, "Bad Query Parameter", &{
            let resp = list(&server, &w.alice, "?limit=x");
            string_field(&resp.json(), "detail")
        });

    // Get one.
    let resp = server
        .request("GET", &format!("/api/capabilities/{id}"))
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), get_cap(&server, &w.alice, &id).json());
    server
        .request("GET", "/api/capabilities/NoSuchCap0")
        .bearer(&w.alice)
        .send()
        .assert_kheops_error(404, "Not Found", "Capability token not found");
    server
        .request("GET", &format!("/api/capabilities/{id}"))
        .bearer(&secret)
        .send()
        .assert_kheops_error(403, "Authorization error", TOKEN_TYPE);

    // Introspection.
    let resp = server
        .request("POST", "/api/token/introspect")
        .form(&[("token", &secret)])
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_no_store(&resp);
    assert_eq!(
        resp.json(),
        json!({
            "active": true,
            "sub": w.alice_id,
            "scope": "read downloadbutton",
            "cap_token": id,
            "album_id": album,
            "exp": parse_time(&tok["expiration_time"]).div_euclid(1000),
            "iat": parse_time(&tok["issued_at_time"]).div_euclid(1000),
            "nbf": parse_time(&tok["not_before_time"]).div_euclid(1000),
        })
    );
    server
        .request("POST", "/api/token/introspect")
        .json(&json!({"token": secret}))
        .send()
        .assert_kheops_error(
            415,
            "Unsupported Media Type",
            "Content-Type must be application/x-www-form-urlencoded",
        );

    // Capability secrets refused on management under /api too.
    server
        .request("POST", "/api/capabilities")
        .basic("x", &string_field(&user, "secret"))
        .form(&[("title", "t"), ("scope_type", "user")])
        .send()
        .assert_kheops_error(401, "Unauthorized", CAP_RESOURCES);
    server
        .request("POST", "/api/capabilities")
        .bearer(&w.alice)
        .json(&json!({"title": "t", "scope_type": "user"}))
        .send()
        .assert_kheops_error(
            415,
            "Unsupported Media Type",
            "Content-Type must be application/x-www-form-urlencoded",
        );
    server
        .request("POST", "/api/capabilities")
        .bearer(&w.carol)
        .form(&[("title", "t"), ("scope_type", "album"), ("album", &album)])
        .send()
        .assert_kheops_error(404, "Album Not Found", ALBUM_NOT_FOUND);

    // Revoke under /api; the root mount sees it.
    let resp = server
        .request("POST", &format!("/api/capabilities/{id}/revoke"))
        .bearer(&w.alice)
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let r = resp.json();
    assert_eq!(r["revoked"], true);
    assert_eq!(
        r["revoked_by"],
        user_object(
            "alice@test.com",
            &w.alice_id,
            "Alice Smith",
            "Alice",
            "Smith"
        )
    );
    assert_eq!(get_cap(&server, &w.alice, &id).json(), r);
    let resp = server
        .request("POST", "/api/token/introspect")
        .form(&[("token", &secret)])
        .send();
    assert_eq!(resp.json(), json!({"active": false}));
    server
        .request(
            "POST",
            &format!("/api/capabilities/{}/revoke", string_field(&user, "id")),
        )
        .bearer(&w.bob)
        .send()
        .assert_kheops_error(404, "Not Found", "Capability token not found");
}
