//! What the server does with input no client should send, and the HTTP rules every family
//! shares: panics become logged 500s, text with control characters is refused where it is
//! decoded (and never reaches PostgreSQL), far-away times are refused, metrics labels
//! stay bounded, request bodies are read within a time limit, 405 carries `Allow`, HEAD is
//! served wherever GET is, passwords longer than bcrypt reads are refused, and every
//! OpenAPI operation has its own id.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use storage::schema::{oauth_clients, users};
use tessera_tests::keyrock::INVALID_LOGIN;
use tessera_tests::kheops::{FORM, USER_UNKNOWN};
use tessera_tests::routes::{is_hexoskin_path, is_kheops_path, operations};
use tessera_tests::{count, json, Options, Server, ADMIN_EMAIL, ADMIN_PASSWORD, PANIC_MARK};

// ---------------------------------------------------------------------------------------
// Panics.

#[test]
fn a_panic_inside_a_request_is_a_logged_500_and_the_server_goes_on() {
    let (s, _db) = Server::start_with(Options::default().with_panic_hook());
    // More panics than worker threads: none of them takes a worker down.
    for _ in 0..4 {
        let resp = s.get("/__test/panic");
        resp.assert_keyrock_error(500, "Internal error");
        let request_id = resp.header("x-request-id").expect("X-Request-Id");
        let log = s.log();
        let panic_line = log
            .lines()
            .find(|l| l.contains(PANIC_MARK) && l.contains(&request_id))
            .unwrap_or_else(|| panic!("no panic logged with request id {request_id}:\n{log}"));
        assert!(panic_line.contains("ERROR"), "{panic_line}");
        let finished = |l: &&str| l.contains(&request_id) && l.contains("status=500");
        assert!(log.lines().any(|l| finished(&l)), "{log}");
        s.get("/health").assert_status(200);
    }
    // Real work still runs on the blocking pool afterwards.
    let token = s.admin_token();
    s.keyrock("GET", "/v1/users", &token).assert_status(200);
    assert!(!s.log().contains("did not answer in time"));
}

#[test]
fn the_panic_hook_route_exists_only_when_the_test_hooks_are_enabled() {
    let (s, _db) = Server::start();
    let resp = s.get("/__test/panic");
    assert_eq!(resp.status, 404, "{}", resp.body);
    assert_eq!(resp.json(), json!({"status": "not found"}));
}

#[test]
fn each_family_answers_its_own_unknown_paths_and_no_family_answers_for_the_rest() {
    let (s, _db) = Server::start();
    for path in ["/v1/nope", "/v3/x/y", "/oauth2/nope", "/user/x"] {
        s.get(path).assert_keyrock_error(404, "Path not found");
    }
    for path in ["/albums/a/b/c/d", "/api/capabilities/x/y", "/token/nope"] {
        s.get(path)
            .assert_kheops_error(404, "Not Found", "This path is not served");
    }
    for path in ["/nope", "/api", "/v2/users", "/healthz"] {
        let resp = s.get(path);
        assert_eq!(resp.status, 404, "{path}: {}", resp.body);
        assert_eq!(resp.json(), json!({"status": "not found"}), "{path}");
    }
}

#[test]
fn keyrock_json_is_matched_by_media_type_not_by_prefix() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let body = br#"{"organization":{"name":"o"}}"#.to_vec();
    for content_type in ["application/json-seq", "application/jsonx", "text/json"] {
        s.request("POST", "/v1/organizations")
            .token(&admin)
            .header("Content-Type", content_type)
            .raw(body.clone())
            .send()
            .assert_keyrock_error(
                400,
                "Missing parameter: header Content-Type: application/json",
            );
    }
    let resp = s
        .request("POST", "/v1/organizations")
        .token(&admin)
        .header("Content-Type", "Application/JSON; charset=utf-8")
        .raw(body)
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
}

// ---------------------------------------------------------------------------------------
// Times outside 0000..=9999.

#[test]
fn times_that_leave_years_0000_to_9999_in_utc_are_bad_requests() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    for prefix in ["", "/api"] {
        for (param, value) in [
            ("expiration_time", "9999-12-31T23:59:59-23:59"),
            ("not_before_time", "9999-12-31T23:00:00-01:00"),
            ("not_before_time", "0000-01-01T00:00:00+00:01"),
            ("expiration_time", "0000-01-01T00:30+01:00"),
        ] {
            s.request("POST", &format!("{prefix}/capabilities"))
                .bearer(&admin)
                .form(&[("title", "t"), ("scope_type", "user"), (param, value)])
                .send()
                .assert_bad_query(&format!("An error occurred while parsing '{param}'"));
        }
    }
    // The edge of the range is still a time (and too far away for the lifetime rule).
    let fields = [
        ("title", "t"),
        ("scope_type", "user"),
        ("expiration_time", "9999-12-31T23:59:59.999Z"),
    ];
    let resp = s.create_cap(&admin, &fields);
    assert_eq!(
        resp.assert_status(400).json()["message"],
        "Bad Form Parameter"
    );
    s.get("/health").assert_status(200);
}

// ---------------------------------------------------------------------------------------
// Control characters.

fn user_count(db: &tessera_tests::TestDb) -> i64 {
    count!(db, users::table)
}

#[test]
fn a_login_name_with_a_control_character_is_an_invalid_login() {
    let (s, _db) = Server::start();
    for name in ["admin@localhost\u{0}", "adm\u{0}in@localhost", "\u{1}"] {
        s.try_password(name, ADMIN_PASSWORD)
            .assert_keyrock_error(401, INVALID_LOGIN);
    }
    s.request("POST", "/v1/auth/tokens")
        .header("Content-Type", FORM)
        .raw(b"name=admin%40localhost%00&password=admin-test-password".to_vec())
        .send()
        .assert_keyrock_error(401, INVALID_LOGIN);
    // The same name without the NUL logs in: the 401 came from the character.
    s.login(ADMIN_EMAIL, ADMIN_PASSWORD);
}

#[test]
fn keyrock_fields_with_control_characters_are_bad_requests_and_nothing_is_written() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let before = user_count(&db);
    let message = "Control characters are not allowed in the JSON body";
    let user = |user: Value| s.send_json("POST", "/v1/users", &admin, &json!({ "user": user }));
    for username in ["a\u{0}b", "a\u{1b}b", "a\u{7f}"] {
        user(json!({"username": username, "email": "n@test.com", "password": "p"}))
            .assert_keyrock_error(400, message);
    }
    // In a key, and deep inside `extra`.
    user(
        json!({"username": "n", "email": "n@test.com", "password": "p",
                "extra": {"list": ["ok", "no\u{0}"], "k\u{2}": 1}}),
    )
    .assert_keyrock_error(400, message);
    assert_eq!(user_count(&db), before);
    // Tab, CR and LF are text.
    user(
        json!({"username": "n", "email": "n@test.com", "password": "p",
                "description": "line one\r\n\tline two"}),
    )
    .assert_status(201);
    assert_eq!(user_count(&db), before + 1);

    let apps_before = count!(db, oauth_clients::table);
    let app = json!({"application": {"name": "shop\u{0}", "redirect_uri": "http://localhost/cb"}});
    s.send_json("POST", "/v1/applications", &admin, &app)
        .assert_keyrock_error(400, message);
    assert_eq!(count!(db, oauth_clients::table), apps_before);

    let org = s.new_organization(&admin, "org");
    let path = format!("/v1/organizations/{org}");
    let body = json!({"organization": {"description": "\u{0}"}});
    s.send_json("PATCH", &path, &admin, &body)
        .assert_keyrock_error(400, message);
    let resp = s.keyrock("GET", &path, &admin);
    assert_eq!(resp.json()["organization"]["description"], Value::Null);
}

#[test]
fn a_path_with_a_control_character_names_no_resource_in_either_family() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let album = s.new_album(&admin, "album");
    let app = s.new_application(&admin, "app");
    for (method, path) in [
        ("GET", "/v1/users/abc%00def".to_owned()),
        ("GET", "/v1/users/admin%0a".to_owned()),
        ("GET", format!("/v1/applications/{app}/roles/x%00")),
        ("GET", "/v3/organizations/%1f".to_owned()),
        ("DELETE", "/v1/users/abc%00def".to_owned()),
    ] {
        s.keyrock(method, &path, &admin)
            .assert_keyrock_error(404, "Path not found");
    }
    for (method, path) in [
        ("GET", "/albums/abc%00defgh".to_owned()),
        ("GET", format!("/api/albums/{album}/users/x%00")),
        ("GET", "/capabilities/%7Fbcdefghi".to_owned()),
        ("PUT", format!("/albums/{album}/users/abc%00")),
    ] {
        s.kheops(method, &path, &admin).assert_kheops_error(
            404,
            "Not Found",
            "This path is not served",
        );
    }
    // The same paths without the character are served.
    s.album(&admin, &album).assert_status(200);
}

#[test]
fn kheops_text_with_control_characters_is_refused_and_a_filter_with_one_matches_nothing() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let post = |path: &str, body: &[u8]| {
        s.request("POST", path)
            .bearer(&admin)
            .header("Content-Type", FORM)
            .raw(body.to_vec())
            .send()
    };
    post("/albums", b"name=a%00b").assert_bad_form("Param 'name' contains a control character");
    assert_eq!(db.all_albums(), 0);
    post("/capabilities", b"title=t%01&scope_type=user")
        .assert_bad_form("Param 'title' contains a control character");
    // A filter: the same answer as any user that does not exist.
    for query in ["user=abc%00", "user=admin%00", "user=admin%40localhost%00"] {
        s.list_caps(&admin, &format!("?{query}"))
            .assert_kheops_error(404, "User Not Found", USER_UNKNOWN);
    }
    let album = s.new_album(&admin, "album");
    // Introspection never answers an error for a bad token.
    let resp = s
        .request("POST", "/token/introspect")
        .header("Content-Type", FORM)
        .raw(b"token=abc%00".to_vec())
        .send();
    assert_eq!(resp.assert_status(200).json(), json!({"active": false}));
    s.get_as(&admin, &format!("/albums/{album}/users"))
        .assert_status(200);
}

// ---------------------------------------------------------------------------------------
// Metrics labels.

/// The label sets of `tessera_http_requests_total`.
fn request_series(s: &Server) -> BTreeSet<String> {
    let resp = s.get("/metrics");
    resp.assert_status(200)
        .body
        .lines()
        .filter(|l| l.starts_with("tessera_http_requests_total{"))
        .filter_map(|l| l.split_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

#[test]
fn clients_cannot_grow_the_metrics_label_set() {
    let (s, _db) = Server::start();
    s.get("/health").assert_status(200);
    let before = request_series(&s);
    let size_before = s.get("/metrics").body.len();
    std::thread::scope(|scope| {
        for part in 0..4 {
            let s = &s;
            scope.spawn(move || {
                for i in (part..10_000).step_by(4) {
                    let method = format!("M{i}X");
                    let path = if i % 2 == 0 {
                        format!("/nowhere/{i}")
                    } else {
                        "/health".to_owned()
                    };
                    let resp = s.request(&method, &path).send();
                    assert!(
                        matches!(resp.status, 404 | 405),
                        "{method} {path}: {}",
                        resp.status
                    );
                }
            });
        }
    });
    let after = request_series(&s);
    let added: Vec<&String> = after.difference(&before).collect();
    // (OTHER, unmatched, 404), (OTHER, /health, 405), and the /metrics reads themselves.
    assert!(added.len() <= 4, "{} new series: {added:#?}", added.len());
    assert!(added.iter().all(|s| !s.contains("M1")), "{added:#?}");
    let size_after = s.get("/metrics").body.len();
    let grew = format!("/metrics grew from {size_before} to {size_after} bytes");
    assert!(size_after < size_before + 8 * 1024, "{grew}");
}

// ---------------------------------------------------------------------------------------
// Body time limit.

/// Sends the head of a request announcing 100 bytes of body, then one byte every 200 ms;
/// returns what the server answered and when the connection ended (or `None` if it was
/// still open after `give_up`).
fn trickle(s: &Server, head: &str, give_up: Duration) -> (String, Option<Duration>) {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    stream.write_all(head.as_bytes()).expect("head");
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let text = |answer: &[u8]| String::from_utf8_lossy(answer).into_owned();
    while started.elapsed() < give_up {
        if stream.write_all(b"a").is_err() {
            return (text(&answer), Some(started.elapsed()));
        }
        match stream.read(&mut buf) {
            Ok(0) => return (text(&answer), Some(started.elapsed())),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (text(&answer), Some(started.elapsed())),
        }
    }
    (text(&answer), None)
}

#[test]
fn a_body_that_trickles_in_is_cut_off_at_the_body_time_limit() {
    let (s, _db) = Server::start_with(Options::default().env("TESSERA_BODY_TIMEOUT", "2"));
    let admin = s.admin_token();
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
        let (answer, ended) = trickle(&s, &head, Duration::from_secs(15));
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
    s.post_album(&admin, &[("name", "in time")])
        .assert_status(201);
}

// ---------------------------------------------------------------------------------------
// 405 with Allow, and HEAD, on every route the OpenAPI document lists.

/// Every path of `/openapi.json` (parameters filled with `x`) and its documented methods.
fn documented_routes(s: &Server) -> BTreeMap<String, BTreeSet<String>> {
    let mut routes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for op in operations(s) {
        let path = op.fill(|_| "x".to_owned());
        routes.entry(path).or_default().insert(op.method);
    }
    routes
}

#[test]
fn every_405_names_the_allowed_methods() {
    let (s, _db) = Server::start();
    let routes = documented_routes(&s);
    assert!(routes.len() > 80, "{} routes", routes.len());
    for (path, methods) in routes {
        let unserved = ["PATCH", "PUT", "DELETE", "POST", "GET"]
            .into_iter()
            .find(|m| !methods.contains(*m))
            .expect("a method the route does not serve");
        let resp = s.request(unserved, &path).send();
        // easydb answers every API condition with 400 (easydb-rights.md 1, 2).
        let easydb = path.starts_with("/api/v1/");
        let status = if easydb { 400 } else { 405 };
        assert_eq!(resp.status, status, "{unserved} {path}: {}", resp.body);
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
        if easydb {
            assert_eq!(
                resp.json()["code"],
                "error.api.invalid_request_method",
                "{path}"
            );
        } else if is_kheops_path(&path) {
            assert_eq!(resp.json()["message"], "Method Not Allowed", "{path}");
        } else if [
            "/oauth2/authorize",
            "/oauth2/enable_app",
            "/oauth2/static/tessera.css",
            "/auth/logout",
        ]
        .contains(&path.as_str())
        {
            // The browser flow answers pages (keyrock.md 5.3).
            let ct = resp.header("content-type").unwrap_or_default();
            assert!(ct.starts_with("text/html"), "{path}: {ct}");
            assert!(
                resp.body.contains("Method not allowed"),
                "{path}: {}",
                resp.body
            );
        } else if path.starts_with("/oauth2/") {
            // RFC 6749's format (keyrock.md 5.1).
            let body = resp.json();
            assert_eq!(body["error"], "invalid_request", "{path}");
            assert_eq!(
                body["error_description"],
                "Invalid request: method must be POST"
            );
            assert_eq!(resp.header("cache-control").as_deref(), Some("no-store"));
        } else if is_hexoskin_path(&path) {
            // Hexoskin's envelope (hexoskin-bundles.md 1.7).
            assert_eq!(
                resp.json(),
                json!({"error": "method not allowed"}),
                "{path}"
            );
        } else if path == "/user" {
            // /user answers bare strings (keyrock.md 6).
            assert_eq!(resp.json(), "Method not allowed", "{path}");
        } else {
            resp.assert_keyrock_error(405, "Method not allowed");
        }
    }
}

#[test]
fn head_is_answered_wherever_get_is() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let resp = s.request("HEAD", "/health").send();
    assert_eq!((resp.status, resp.body.as_str()), (200, ""));
    assert_eq!(
        resp.header("content-type").as_deref(),
        Some("application/json")
    );
    for (path, methods) in documented_routes(&s) {
        if !methods.contains("GET") {
            continue;
        }
        let send = |method: &str| s.request(method, &path).token(&admin).bearer(&admin).send();
        let (get, head) = (send("GET"), send("HEAD"));
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert_eq!(head.body, "", "HEAD {path}");
    }
}

// ---------------------------------------------------------------------------------------
// Passwords and bcrypt's 72 bytes.

#[test]
fn passwords_longer_than_72_bytes_are_refused_and_never_match() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let at_limit = "x".repeat(72);
    let before = user_count(&db);
    let too_long = "Password must be at most 72 bytes";
    for long in [format!("{at_limit}A"), format!("{}é", "x".repeat(71))] {
        let user = json!({"user": {"username": "l", "email": "l@test.com", "password": long}});
        s.send_json("POST", "/v1/users", &admin, &user)
            .assert_keyrock_error(400, too_long);
    }
    assert_eq!(user_count(&db), before);
    let id = s.create_user(&admin, "l", "l@test.com", &at_limit);
    s.login("l@test.com", &at_limit);
    // bcrypt alone would let all of these in: it reads only the first 72 bytes.
    for presented in [
        format!("{at_limit}B"),
        format!("{at_limit}x"),
        "x".repeat(1_000_000),
    ] {
        s.try_password("l@test.com", &presented)
            .assert_keyrock_error(401, INVALID_LOGIN);
    }
    let own = s.login("l@test.com", &at_limit);
    let body = json!({"user": {"password": format!("{at_limit}Z")}});
    s.send_json("PATCH", &format!("/v1/users/{id}"), &own, &body)
        .assert_keyrock_error(400, too_long);
    s.login("l@test.com", &at_limit);
}

// ---------------------------------------------------------------------------------------
// OpenAPI operation ids.

#[test]
fn every_openapi_operation_has_its_own_descriptive_id() {
    let (s, _db) = Server::start();
    let mut ids = Vec::new();
    for op in operations(&s) {
        let id = op.doc["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no operationId", op.name()));
        let shape_ok = id.split('_').count() >= 2
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && ["ops_", "keyrock_", "kheops_", "easydb_", "hexoskin_"]
                .iter()
                .any(|p| id.starts_with(p));
        assert!(shape_ok, "{}: {id}", op.name());
        ids.push(id.to_owned());
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

/// A NUL byte can arrive where no body decoder refuses it: in `/user`'s query, in a Basic
/// client id, in the unverified `app_id` claim of a forged JWT. PostgreSQL cannot hold it
/// in text, so such values must match nothing before any query: the family's own 401/400,
/// never a 500 (CI's second run makes this meaningful on PostgreSQL).
#[test]
fn nul_bytes_in_oauth_inputs_match_nothing() {
    use base64::Engine;
    use tessera_tests::oauth::*;
    let (s, _db) = Server::start();
    let w = tessera_tests::World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let t = s.user_tokens(&app, "bob", None);

    let unknown_app = json!({"message": "Unauthorized", "code": 401, "title": "Unauthorized"});
    let resp = s.get(&format!("/user?access_token={}&app_id=a%00b", t.access));
    assert_eq!((resp.status, resp.json()), (401, unknown_app));
    s.get("/user?access_token=a%00b")
        .assert_bare(401, TOKEN_UNKNOWN);

    s.request("POST", "/oauth2/token")
        .basic("a\u{0}b", "secret")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .assert_basic_refused();

    // A JWT whose payload names an application id with a NUL (the signature is never
    // reached): unknown to /user, introspection and KHEOPS alike.
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let forged = format!(
        "{}.{}.c2ln",
        b64(&json!({"alg": "HS256", "typ": "JWT"})),
        b64(&json!({"id": w.bob_id, "type": "user", "app_id": "x\u{0}y"}))
    );
    s.get(&format!("/user?access_token={forged}&app_id={}", app.id))
        .assert_bare(401, TOKEN_UNKNOWN);
    assert_eq!(s.introspection(&app, &forged), json!({"active": false}));
    let resp = s.request("GET", "/albums").bearer(&forged).send();
    assert_eq!(resp.status, 401, "{}", resp.body);
}
