//! What the server does with input no client should send, and the HTTP rules every family
//! shares: panics become logged 500s, text with control characters is refused where it is
//! decoded (and never reaches PostgreSQL), far-away times are refused, metrics labels
//! stay bounded, request bodies are read within a time limit, 405 carries `Allow`, HEAD is
//! served wherever GET is, passwords longer than bcrypt reads are refused, and every
//! OpenAPI operation has its own id.

use std::collections::{BTreeSet, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use storage::diesel::{QueryDsl, RunQueryDsl};
use storage::schema::{albums, oauth_clients, users};
use tessera_tests::{json, Options, Server, ADMIN_EMAIL, ADMIN_PASSWORD, PANIC_MARK};

const INVALID_LOGIN: &str = "Invalid email or password";

// ---------------------------------------------------------------------------------------
// Panics.

#[test]
fn a_panic_inside_a_request_is_a_logged_500_and_the_server_goes_on() {
    let (server, _db) = Server::start_with(Options::default().with_panic_hook());
    // More panics than worker threads: none of them takes a worker down.
    for _ in 0..4 {
        let resp = server.get("/__test/panic");
        resp.assert_keyrock_error(500, "Internal error");
        let request_id = resp.header("x-request-id").expect("X-Request-Id");
        let log = server.log();
        let panic_line = log
            .lines()
            .find(|l| l.contains(PANIC_MARK) && l.contains(&request_id))
            .unwrap_or_else(|| panic!("no panic logged with request id {request_id}:\n{log}"));
        assert!(panic_line.contains("ERROR"), "{panic_line}");
        assert!(
            log.lines()
                .any(|l| l.contains(&request_id) && l.contains("status=500")),
            "{log}"
        );
        assert_eq!(server.get("/health").status, 200);
    }
    // Real work still runs on the blocking pool afterwards.
    let token = server.admin_token();
    assert_eq!(
        server
            .request("GET", "/v1/users")
            .token(&token)
            .send()
            .status,
        200
    );
    assert!(!server.log().contains("did not answer in time"));
}

#[test]
fn the_panic_hook_route_exists_only_when_the_test_hooks_are_enabled() {
    let (server, _db) = Server::start();
    server
        .get("/__test/panic")
        .assert_keyrock_error(404, "Path not found");
}

// ---------------------------------------------------------------------------------------
// Times outside 0000..=9999.

#[test]
fn times_that_leave_years_0000_to_9999_in_utc_are_bad_requests() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let cases = [
        (
            "expiration_time",
            "9999-12-31T23:59:59-23:59",
            "An error occurred while parsing 'expiration_time'",
        ),
        (
            "not_before_time",
            "9999-12-31T23:00:00-01:00",
            "An error occurred while parsing 'not_before_time'",
        ),
        (
            "not_before_time",
            "0000-01-01T00:00:00+00:01",
            "An error occurred while parsing 'not_before_time'",
        ),
        (
            "expiration_time",
            "0000-01-01T00:30+01:00",
            "An error occurred while parsing 'expiration_time'",
        ),
    ];
    for prefix in ["", "/api"] {
        for (param, value, detail) in cases {
            let resp = server
                .request("POST", &format!("{prefix}/capabilities"))
                .bearer(&admin)
                .form(&[("title", "t"), ("scope_type", "user"), (param, value)])
                .send();
            resp.assert_kheops_error(400, "Bad Query Parameter", detail);
        }
    }
    // The edge of the range is still a time (and too far away for the lifetime rule).
    let resp = server
        .request("POST", "/capabilities")
        .bearer(&admin)
        .form(&[
            ("title", "t"),
            ("scope_type", "user"),
            ("expiration_time", "9999-12-31T23:59:59.999Z"),
        ])
        .send();
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(
        resp.json()["message"],
        "Bad Form Parameter",
        "{}",
        resp.body
    );
    assert_eq!(server.get("/health").status, 200);
}

// ---------------------------------------------------------------------------------------
// Control characters.

fn user_count(db: &tessera_tests::TestDb) -> i64 {
    users::table
        .count()
        .get_result(&mut *db.conn())
        .expect("count users")
}

#[test]
fn a_login_name_with_a_control_character_is_an_invalid_login() {
    let (server, _db) = Server::start();
    for name in ["admin@localhost\u{0}", "adm\u{0}in@localhost", "\u{1}"] {
        server
            .request("POST", "/v1/auth/tokens")
            .json(&json!({"name": name, "password": ADMIN_PASSWORD}))
            .send()
            .assert_keyrock_error(401, INVALID_LOGIN);
    }
    let resp = server
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(b"name=admin%40localhost%00&password=admin-test-password".to_vec())
        .send();
    resp.assert_keyrock_error(401, INVALID_LOGIN);
    // The same name without the NUL logs in: the 401 came from the character.
    server.login(ADMIN_EMAIL, ADMIN_PASSWORD);
}

#[test]
fn keyrock_fields_with_control_characters_are_bad_requests_and_nothing_is_written() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let before = user_count(&db);
    let message = "Control characters are not allowed in the JSON body";
    for username in ["a\u{0}b", "a\u{1b}b", "a\u{7f}"] {
        server
            .request("POST", "/v1/users")
            .token(&admin)
            .json(&json!({"user": {"username": username, "email": "n@test.com", "password": "p"}}))
            .send()
            .assert_keyrock_error(400, message);
    }
    // In a key, and deep inside `extra`.
    server
        .request("POST", "/v1/users")
        .token(&admin)
        .json(
            &json!({"user": {"username": "n", "email": "n@test.com", "password": "p",
                                "extra": {"list": ["ok", "no\u{0}"], "k\u{2}": 1}}}),
        )
        .send()
        .assert_keyrock_error(400, message);
    assert_eq!(user_count(&db), before);
    // Tab, CR and LF are text.
    let resp = server
        .request("POST", "/v1/users")
        .token(&admin)
        .json(
            &json!({"user": {"username": "n", "email": "n@test.com", "password": "p",
                                "description": "line one\r\n\tline two"}}),
        )
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(user_count(&db), before + 1);

    let apps_before: i64 = oauth_clients::table
        .count()
        .get_result(&mut *db.conn())
        .unwrap();
    server
        .request("POST", "/v1/applications")
        .token(&admin)
        .json(&json!({"application": {"name": "shop\u{0}", "redirect_uri": "http://localhost/cb"}}))
        .send()
        .assert_keyrock_error(400, message);
    let apps_after: i64 = oauth_clients::table
        .count()
        .get_result(&mut *db.conn())
        .unwrap();
    assert_eq!(apps_after, apps_before);

    let org = server.new_organization(&admin, "org");
    server
        .request("PATCH", &format!("/v1/organizations/{org}"))
        .token(&admin)
        .json(&json!({"organization": {"description": "\u{0}"}}))
        .send()
        .assert_keyrock_error(400, message);
    let resp = server
        .request("GET", &format!("/v1/organizations/{org}"))
        .token(&admin)
        .send();
    assert_eq!(resp.json()["organization"]["description"], Value::Null);
}

#[test]
fn a_path_with_a_control_character_names_no_resource_in_either_family() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let album = server.new_album(&admin, "album");
    let app = server.new_application(&admin, "app");
    for path in [
        "/v1/users/abc%00def".to_owned(),
        "/v1/users/admin%0a".to_owned(),
        format!("/v1/applications/{app}/roles/x%00"),
        "/v3/organizations/%1f".to_owned(),
    ] {
        server
            .request("GET", &path)
            .token(&admin)
            .send()
            .assert_keyrock_error(404, "Path not found");
    }
    server
        .request("DELETE", "/v1/users/abc%00def")
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Path not found");
    for path in [
        "/albums/abc%00defgh".to_owned(),
        format!("/api/albums/{album}/users/x%00"),
        "/capabilities/%7Fbcdefghi".to_owned(),
    ] {
        server
            .request("GET", &path)
            .bearer(&admin)
            .send()
            .assert_kheops_error(404, "Not Found", "This path is not served");
    }
    server
        .request("PUT", &format!("/albums/{album}/users/abc%00"))
        .bearer(&admin)
        .send()
        .assert_kheops_error(404, "Not Found", "This path is not served");
    // The same paths without the character are served.
    assert_eq!(
        server
            .request("GET", &format!("/albums/{album}"))
            .bearer(&admin)
            .send()
            .status,
        200
    );
}

#[test]
fn kheops_text_with_control_characters_is_refused_and_a_filter_with_one_matches_nothing() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let resp = server
        .request("POST", "/albums")
        .bearer(&admin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(b"name=a%00b".to_vec())
        .send();
    resp.assert_kheops_error(
        400,
        "Bad Form Parameter",
        "Param 'name' contains a control character",
    );
    let count: i64 = albums::table.count().get_result(&mut *db.conn()).unwrap();
    assert_eq!(count, 0);
    let resp = server
        .request("POST", "/capabilities")
        .bearer(&admin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(b"title=t%01&scope_type=user".to_vec())
        .send();
    resp.assert_kheops_error(
        400,
        "Bad Form Parameter",
        "Param 'title' contains a control character",
    );
    // A filter: the same answer as any user that does not exist.
    for query in ["user=abc%00", "user=admin%00", "user=admin%40localhost%00"] {
        server
            .request("GET", &format!("/capabilities?{query}"))
            .bearer(&admin)
            .send()
            .assert_kheops_error(404, "User Not Found", "The user is unknown");
    }
    let album = server.new_album(&admin, "album");
    // Introspection never answers an error for a bad token.
    let resp = server
        .request("POST", "/token/introspect")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(b"token=abc%00".to_vec())
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.json(), json!({"active": false}));
    assert_eq!(
        server
            .request("GET", &format!("/albums/{album}/users"))
            .bearer(&admin)
            .send()
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------
// Metrics labels.

/// The label sets of `tessera_http_requests_total`.
fn request_series(server: &Server) -> BTreeSet<String> {
    let resp = server.get("/metrics");
    assert_eq!(resp.status, 200);
    resp.body
        .lines()
        .filter(|l| l.starts_with("tessera_http_requests_total{"))
        .filter_map(|l| l.split_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

#[test]
fn clients_cannot_grow_the_metrics_label_set() {
    let (server, _db) = Server::start();
    assert_eq!(server.get("/health").status, 200);
    let before = request_series(&server);
    let size_before = server.get("/metrics").body.len();
    std::thread::scope(|s| {
        for part in 0..4 {
            let server = &server;
            s.spawn(move || {
                for i in (part..10_000).step_by(4) {
                    let method = format!("M{i}X");
                    let path = if i % 2 == 0 {
                        format!("/nowhere/{i}")
                    } else {
                        "/health".to_owned()
                    };
                    let resp = server.request(&method, &path).send();
                    assert!(
                        matches!(resp.status, 404 | 405),
                        "{method} {path}: {}",
                        resp.status
                    );
                }
            });
        }
    });
    let after = request_series(&server);
    let added: Vec<&String> = after.difference(&before).collect();
    // (OTHER, unmatched, 404), (OTHER, /health, 405), and the /metrics reads themselves.
    assert!(added.len() <= 4, "{} new series: {added:#?}", added.len());
    assert!(added.iter().all(|s| !s.contains("M1")), "{added:#?}");
    let size_after = server.get("/metrics").body.len();
    assert!(
        size_after < size_before + 8 * 1024,
        "/metrics grew from {size_before} to {size_after} bytes"
    );
}

// ---------------------------------------------------------------------------------------
// Body time limit.

/// Sends the head of a request announcing 100 bytes of body, then one byte every 200 ms;
/// returns what the server answered and when the connection ended (or `None` if it was
/// still open after `give_up`).
fn trickle(server: &Server, head: &str, give_up: Duration) -> (String, Option<Duration>) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("head");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < give_up {
        if stream.write_all(b"a").is_err() {
            return (
                String::from_utf8_lossy(&answer).into(),
                Some(started.elapsed()),
            );
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                return (
                    String::from_utf8_lossy(&answer).into(),
                    Some(started.elapsed()),
                )
            }
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                return (
                    String::from_utf8_lossy(&answer).into(),
                    Some(started.elapsed()),
                )
            }
        }
    }
    (String::from_utf8_lossy(&answer).into(), None)
}

#[test]
fn a_body_that_trickles_in_is_cut_off_at_the_body_time_limit() {
    let (server, _db) = Server::start_with(Options::default().env("TESSERA_BODY_TIMEOUT", "2"));
    let admin = server.admin_token();
    let heads = [
        (
            format!(
                "POST /albums HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {admin}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            ),
            "\"message\":\"Request Timeout\"",
        ),
        (
            format!(
                "POST /v1/users HTTP/1.1\r\nHost: t\r\nX-Auth-Token: {admin}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            ),
            "\"message\":\"Request body not received in time\"",
        ),
    ];
    for (head, body) in heads {
        let (answer, ended) = trickle(&server, &head, Duration::from_secs(15));
        let ended = ended.unwrap_or_else(|| panic!("still open after 15 s: {answer}"));
        assert!(
            ended < Duration::from_secs(5),
            "closed only after {ended:?}"
        );
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains(body), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    // A body that arrives in time is read as before.
    let resp = server
        .request("POST", "/albums")
        .bearer(&admin)
        .form(&[("name", "in time")])
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
}

// ---------------------------------------------------------------------------------------
// 405 with Allow, and HEAD, on every route the OpenAPI document lists.

/// Every path of `/openapi.json` (parameters filled with `x`) and its documented methods.
fn documented_routes(server: &Server) -> Vec<(String, BTreeSet<String>)> {
    let doc = server.get("/openapi.json").json();
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .map(|(path, item)| {
            let concrete: String = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let methods = item
                .as_object()
                .expect("path item")
                .keys()
                .filter(|k| ["get", "put", "post", "patch", "delete"].contains(&k.as_str()))
                .map(|k| k.to_ascii_uppercase())
                .collect();
            (concrete, methods)
        })
        .collect()
}

#[test]
fn every_405_names_the_allowed_methods() {
    let (server, _db) = Server::start();
    let routes = documented_routes(&server);
    assert!(routes.len() > 80, "{} routes", routes.len());
    for (path, methods) in routes {
        let unserved = ["PATCH", "PUT", "DELETE", "POST", "GET"]
            .into_iter()
            .find(|m| !methods.contains(*m))
            .expect("a method the route does not serve");
        let resp = server.request(unserved, &path).send();
        assert_eq!(resp.status, 405, "{unserved} {path}: {}", resp.body);
        let allow: BTreeSet<String> = resp
            .header("allow")
            .unwrap_or_else(|| panic!("{unserved} {path}: no Allow"))
            .split(',')
            .map(|m| m.trim().to_owned())
            .collect();
        let mut expected = methods.clone();
        if expected.contains("GET") {
            expected.insert("HEAD".to_owned());
        }
        assert_eq!(allow, expected, "{unserved} {path}");
        let first = path
            .strip_prefix("/api")
            .unwrap_or(&path)
            .split('/')
            .nth(1)
            .unwrap_or("");
        if ["capabilities", "albums", "token"].contains(&first) {
            assert_eq!(resp.json()["message"], "Method Not Allowed", "{path}");
        } else {
            resp.assert_keyrock_error(405, "Method not allowed");
        }
    }
}

#[test]
fn head_is_answered_wherever_get_is() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let resp = server.request("HEAD", "/health").send();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, "");
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    for (path, methods) in documented_routes(&server) {
        if !methods.contains("GET") {
            continue;
        }
        let get = server
            .request("GET", &path)
            .token(&admin)
            .bearer(&admin)
            .send();
        let head = server
            .request("HEAD", &path)
            .token(&admin)
            .bearer(&admin)
            .send();
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert_eq!(head.body, "", "HEAD {path}");
    }
}

// ---------------------------------------------------------------------------------------
// Passwords and bcrypt's 72 bytes.

#[test]
fn passwords_longer_than_72_bytes_are_refused_and_never_match() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let at_limit = "x".repeat(72);
    let before = user_count(&db);
    for long in [format!("{at_limit}A"), format!("{}é", "x".repeat(71))] {
        server
            .request("POST", "/v1/users")
            .token(&admin)
            .json(&json!({"user": {"username": "l", "email": "l@test.com", "password": long}}))
            .send()
            .assert_keyrock_error(400, "Password must be at most 72 bytes");
    }
    assert_eq!(user_count(&db), before);
    let id = server.create_user(&admin, "l", "l@test.com", &at_limit);
    server.login("l@test.com", &at_limit);
    // bcrypt alone would let all of these in: it reads only the first 72 bytes.
    for presented in [
        format!("{at_limit}B"),
        format!("{at_limit}x"),
        "x".repeat(1_000_000),
    ] {
        server
            .request("POST", "/v1/auth/tokens")
            .json(&json!({"name": "l@test.com", "password": presented}))
            .send()
            .assert_keyrock_error(401, INVALID_LOGIN);
    }
    let own = server.login("l@test.com", &at_limit);
    server
        .request("PATCH", &format!("/v1/users/{id}"))
        .token(&own)
        .json(&json!({"user": {"password": format!("{at_limit}Z")}}))
        .send()
        .assert_keyrock_error(400, "Password must be at most 72 bytes");
    server.login("l@test.com", &at_limit);
}

// ---------------------------------------------------------------------------------------
// OpenAPI operation ids.

#[test]
fn every_openapi_operation_has_its_own_descriptive_id() {
    let (server, _db) = Server::start();
    let doc = server.get("/openapi.json").json();
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            if !["get", "put", "post", "patch", "delete", "head"].contains(&method.as_str()) {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            let shape_ok = id.split('_').count() >= 2
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                && ["ops_", "keyrock_", "kheops_"]
                    .iter()
                    .any(|p| id.starts_with(p));
            assert!(shape_ok, "{method} {path}: {id}");
            ids.push(id.to_owned());
        }
    }
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "repeated ids among {ids:?}");
    assert!(ids.len() > 150, "{} operations", ids.len());
    for expected in [
        "keyrock_create_application",
        "keyrock_create_application_v3",
        "keyrock_assign_user_role",
        "keyrock_assign_user_role_post",
        "kheops_create_capability",
        "kheops_create_capability_api",
        "ops_health",
    ] {
        assert!(
            distinct.contains(&expected.to_owned()),
            "{expected} missing"
        );
    }
}
