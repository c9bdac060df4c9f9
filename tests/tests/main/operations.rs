//! The always-on endpoints, logs, bootstrap and shutdown of operations.md, over HTTP.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tessera_tests::routes::operations;
use tessera_tests::{json, Options, Resp, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

#[test]
fn health_ready_and_version() {
    let (s, _db) = Server::start();
    let health = s.get("/health");
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
    let ready = s.get("/ready");
    assert_eq!(
        (ready.status, ready.json()),
        (200, json!({"status": "ready"}))
    );
    let v = s.get("/version").assert_status(200).json();
    assert!(v["keyrock"]["version"].is_string());
    assert!(v["keyrock"]["release_date"].is_string());
    assert!(v["keyrock"]["uptime"].as_str().unwrap().ends_with('s'));
    assert_eq!(v["keyrock"]["api"]["version"], "v1");
    assert_eq!(v["tessera"]["version"], env!("CARGO_PKG_VERSION"));
    // Every response carries a request id.
    assert!(uuid::Uuid::parse_str(&health.header("x-request-id").unwrap()).is_ok());
}

/// Asserts the answers of an unreachable database (operations.md): `/ready` 503 with its
/// body, `/health` still 200.
#[track_caller]
fn assert_not_ready(s: &Server) {
    let ready = s.get("/ready");
    assert_eq!(ready.status, 503, "/ready: {}", ready.body);
    assert_eq!(ready.json(), json!({"status": "unavailable"}));
    let health = s.get("/health");
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
}

#[test]
fn ready_answers_503_while_postgresql_refuses_connections() {
    let db = TestDb::new();
    if !db.is_postgres() {
        eprintln!("skipped on SQLite: this test cuts a PostgreSQL database off");
        return;
    }
    let s = Server::start_on(&db, Options::default());
    let admin = s.admin_token();
    s.get("/ready").assert_status(200);
    db.cut_off();
    assert_not_ready(&s);
    // Ready again once the database takes connections again.
    db.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut ready: Resp = s.get("/ready");
    while ready.status != 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        ready = s.get("/ready");
    }
    assert_eq!(
        (ready.status, ready.json()),
        (200, json!({"status": "ready"}))
    );
    s.keyrock("GET", "/v1/users", &admin).assert_status(200);
}

#[test]
fn ready_answers_503_when_the_sqlite_file_cannot_be_read() {
    let db = TestDb::new();
    if db.is_postgres() {
        eprintln!("skipped on PostgreSQL: this test makes a SQLite file unreadable");
        return;
    }
    let s = Server::start_on(&db, Options::default());
    let admin = s.admin_token();
    s.get("/ready").assert_status(200);
    db.cut_off();
    // The database no longer answers: reads of the store fail.
    let resp = s.keyrock("GET", "/v1/users", &admin);
    assert!(resp.status >= 500, "{} {}", resp.status, resp.body);
    assert_not_ready(&s);
}

#[test]
fn metrics_count_requests_per_route_and_status_and_show_the_pool() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    s.keyrock("GET", "/v1/users/admin", &admin);
    s.keyrock("GET", "/v1/users/nobody", &admin);
    let metrics = s.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.body;
    let series = |method: &str, route: &str, status: u16| {
        format!(
            r#"tessera_http_requests_total{{method="{method}",route="{route}",status="{status}"}} 1"#
        )
    };
    for needle in [
        series("GET", "/v1/users/{user_id}", 200),
        series("GET", "/v1/users/{user_id}", 404),
        series("POST", "/v1/auth/tokens", 201),
        r#"tessera_http_request_duration_seconds_bucket{method="POST",route="/v1/auth/tokens",status="201",le="+Inf"} 1"#.to_owned(),
        "tessera_db_pool_connections ".to_owned(),
        "tessera_db_pool_idle_connections ".to_owned(),
        "tessera_db_pool_max_connections ".to_owned(),
    ] {
        assert!(text.contains(&needle), "missing {needle} in\n{text}");
    }
    // Raw paths with ids never become labels.
    assert!(!text.contains("/v1/users/nobody"));
}

/// Every (method, path) the server serves; the OpenAPI document must list exactly these.
fn served_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut add = |prefixes: &[&str], table: &[(&str, &str)]| {
        for prefix in prefixes {
            for (methods, path) in table {
                for m in methods.split(' ') {
                    routes.insert((m.to_owned(), format!("{prefix}{path}")));
                }
            }
        }
    };
    let ops = ["/health", "/ready", "/version", "/metrics", "/openapi.json"];
    add(&[""], &ops.map(|p| ("get", p)));
    let app = "/applications/{application_id}";
    let org_role =
        "/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}";
    add(
        &["/v1", "/v3"],
        &[
            ("get", ""),
            ("post get delete", "/auth/tokens"),
            ("get post", "/users"),
            ("get patch delete", "/users/{user_id}"),
            ("get post", "/applications"),
            ("get patch delete", app),
            ("post", &format!("{app}/reset_secret")),
            ("get", &format!("{app}/users")),
            ("get", &format!("{app}/users/{{user_id}}/roles")),
            ("put post delete", &format!("{app}/users/{{user_id}}/roles/{{role_id}}")),
            ("get", &format!("{app}/organizations")),
            ("get", &format!("{app}/organizations/{{organization_id}}/roles")),
            ("put post delete", &format!("{app}{org_role}")),
            ("get post", "/organizations"),
            ("get patch delete", "/organizations/{organization_id}"),
            ("get", "/organizations/{organization_id}/users"),
            ("get", "/organizations/{organization_id}/users/{user_id}/organization_roles"),
            (
                "put post delete",
                "/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}",
            ),
            ("get post patch delete", &format!("{app}/pep_proxies")),
            ("get post", &format!("{app}/iot_agents")),
            ("get patch delete", &format!("{app}/iot_agents/{{iot_agent_id}}")),
            ("get", &format!("{app}/trusted_applications")),
            (
                "put post delete",
                &format!("{app}/trusted_applications/{{trusted_application_id}}"),
            ),
            ("get", "/service_providers/configs"),
            ("get post", &format!("{app}/roles")),
            ("get patch delete", &format!("{app}/roles/{{role_id}}")),
            ("get", &format!("{app}/roles/{{role_id}}/permissions")),
            ("put post delete", &format!("{app}/roles/{{role_id}}/permissions/{{permission_id}}")),
            ("get post", &format!("{app}/permissions")),
            ("get patch delete", &format!("{app}/permissions/{{permission_id}}")),
            // Further routes are listed here.
        ],
    );
    // KHEOPS, at the root and under /api (kheops.md 1.1).
    add(
        &["", "/api"],
        &[
            ("post get", "/capabilities"),
            ("get", "/capabilities/{capability_id}"),
            ("post", "/capabilities/{capability_id}/revoke"),
            ("post", "/token/introspect"),
            ("post get", "/albums"),
            ("get patch delete", "/albums/{album_id}"),
            ("get", "/albums/{album_id}/users"),
            ("put delete", "/albums/{album_id}/users/{user}"),
            ("put delete", "/albums/{album_id}/users/{user}/admin"),
        ],
    );
    // Keyrock's OAuth2 endpoints and token info (keyrock.md 5, 6).
    add(
        &[""],
        &[
            ("post", "/oauth2/token"),
            ("post", "/oauth2/revoke"),
            ("post", "/oauth2/introspect"),
            ("get", "/user"),
            // The browser flow (keyrock.md 5.3).
            ("get", "/oauth2/authorize"),
            ("post", "/oauth2/authorize"),
            ("post", "/oauth2/enable_app"),
            ("get", "/oauth2/static/tessera.css"),
            ("get", "/auth/logout"),
        ],
    );
    // The easydb family (easydb-rights.md).
    add(
        &["/api/v1"],
        &[
            ("get", "/session"),
            ("post", "/session/authenticate"),
            ("post", "/session/deauthenticate"),
            ("get", "/right"),
            ("get", "/right/{context}"),
            ("get post", "/right/{context}/presets"),
            ("delete", "/right/{context}/presets/{id}"),
            ("get post", "/user"),
            ("get", "/user/{id}"),
            ("get post", "/group"),
            ("get", "/group/{id}"),
        ],
    );
    // The Hexoskin family (hexoskin-bundles.md 1.5), documented with its final slash.
    add(
        &["/api"],
        &[
            ("get", "/user/"),
            ("get", "/user/{id}/"),
            ("get", "/account/"),
            ("get post", "/bundle/"),
            ("get", "/bundle/{id}/"),
            ("get post", "/bundle_permission/"),
            ("get delete", "/bundle_permission/{id}/"),
            ("get post", "/bundle_permission_request/"),
            ("get put delete", "/bundle_permission_request/{key}/"),
        ],
    );
    // Keyrock's discovery and keys, at the root (keyrock.md 5.7).
    let idm_app = "/idm/applications/{application_id}";
    add(
        &[""],
        &[
            ("get", "/.well-known/oauth-authorization-server"),
            ("get", "/.well-known/openid-configuration"),
            ("get", "/.well-known/jwks.json"),
            (
                "get",
                &format!("{idm_app}/.well-known/openid-configuration"),
            ),
            ("get", &format!("{idm_app}/certs")),
        ],
    );
    routes
}

#[test]
fn openapi_lists_every_route_and_every_listed_route_is_served() {
    let (s, _db) = Server::start();
    let doc = s.get("/openapi.json").assert_status(200).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let listed: BTreeSet<(String, String)> = operations(&s)
        .iter()
        .map(|op| (op.method.to_ascii_lowercase(), op.path.clone()))
        .collect();
    assert_eq!(listed, served_routes());
    let admin = s.admin_token();
    for op in operations(&s) {
        // Placeholders become ids that do not exist: the route answers, nothing is changed.
        let path = op.fill(|_| "no-such-id".to_owned());
        let resp = s
            .request(&op.method, &path)
            .token(&admin)
            .header("Content-Type", "application/json")
            .send();
        assert!(
            resp.status != 405 && !(resp.status == 404 && resp.body.contains("Path not found")),
            "{} is listed but not served: {} {}",
            op.name(),
            resp.status,
            resp.body
        );
        assert_ne!(resp.status, 500, "{}: {}", op.name(), resp.body);
    }
}

#[test]
fn logs_carry_request_ids_and_never_a_secret() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let bob = s.create_user(&admin, "bob", "bob@example.org", "bob-Secret-123");
    let bob_token = s.login("bob@example.org", "bob-Secret-123");
    let body = json!({"user": {"password": "bob-Secret-456"}});
    s.send_json("PATCH", &format!("/v1/users/{bob}"), &bob_token, &body);
    s.keyrock(
        "GET",
        &format!("/v1/users/{bob}?token={bob_token}"),
        &bob_token,
    );
    let log = s.log();
    assert!(log.contains("request_id"), "{log}");
    assert!(
        log.contains("/v1/users/{user_id}"),
        "routes are logged as patterns: {log}"
    );
    for secret in [
        &admin,
        &bob_token,
        "bob-Secret-123",
        "bob-Secret-456",
        ADMIN_PASSWORD,
    ] {
        assert!(!log.contains(secret), "secret {secret} in log:\n{log}");
    }
}

#[test]
fn no_plaintext_token_or_password_is_stored() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    s.create_user(&admin, "bob", "bob@example.org", "bob-Secret-123");
    let bob_token = s.login("bob@example.org", "bob-Secret-123");
    let dump = db.dump_text();
    // The dump does see the store: the digest of the token and the bob row are there.
    assert!(dump.contains(&auth_core::secrets::sha256_hex(&bob_token)));
    assert!(dump.contains("bob@example.org"));
    for secret in [&admin, &bob_token, "bob-Secret-123", ADMIN_PASSWORD] {
        assert!(!dump.contains(secret), "{secret} stored in plaintext");
    }
}

#[test]
fn bootstrap_generates_a_password_once_and_only_when_no_admin_exists() {
    let db = TestDb::new();
    let first = Server::start_on(&db, Options::default().env("TESSERA_ADMIN_PASSWORD", ""));
    let log = first.log();
    let line = log
        .lines()
        .find(|l| l.contains("generated password for admin"))
        .unwrap_or_else(|| panic!("no generated password in {log}"));
    let password = line.rsplit(": ").next().unwrap().trim().to_owned();
    assert_eq!(password.len(), 24);
    first.login(ADMIN_EMAIL, &password);
    drop(first);
    // A restart finds the admin and neither creates another nor prints a password.
    let options = Options::default().env("TESSERA_ADMIN_PASSWORD", "other");
    let second = Server::start_on(&db, options);
    assert!(!second.log().contains("generated password"));
    second.login(ADMIN_EMAIL, &password);
    let admin = second.login(ADMIN_EMAIL, &password);
    let users = second.keyrock("GET", "/v1/users", &admin).json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    assert_eq!(users["users"][0]["id"], "admin");
}

/// Sends `signal` (`-TERM`, `-INT`) to the server process.
fn signal(s: &Server, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &s.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (mut s, _db) = Server::start();
    s.get("/health").assert_status(200);
    // At once: the handler is installed before the server answers its first request.
    signal(&s, "-TERM");
    // Exit code 0: a death by the signal itself has no code.
    assert_eq!(s.wait_exit(Duration::from_secs(35)), Some(0));
}

#[test]
fn two_servers_on_one_database_share_tokens_and_revocations() {
    let db = TestDb::new();
    let a = Server::start_on(&db, Options::default());
    let b = Server::start_on(&db, Options::default());
    let token = a.admin_token();
    // Issued by A, accepted by B.
    b.keyrock("GET", "/v1", &token).assert_status(200);
    let bob = b.create_user(&token, "bob", "bob@example.org", "bobpw");
    // A user created on B logs in on A.
    let bob_token = a.login("bob@example.org", "bobpw");
    b.keyrock("GET", &format!("/v1/users/{bob}"), &bob_token)
        .assert_status(200);
    // Deleted on B, refused by A at once.
    let delete = |subject: &str| {
        b.request("DELETE", "/v1/auth/tokens")
            .token(&token)
            .header("X-Subject-Token", subject)
            .send()
    };
    delete(&bob_token).assert_status(204);
    a.keyrock("GET", "/v1", &bob_token)
        .assert_keyrock_error(404, "Token not found");
    delete(&token);
    a.keyrock("GET", "/v1", &token)
        .assert_keyrock_error(404, "Token not found");
}

#[test]
fn sigint_also_lets_in_flight_requests_finish() {
    // bcrypt cost 14 makes one login last about a second: long enough to signal mid-request.
    let (mut s, _db) = Server::start_with(Options::default().env("TESSERA_BCRYPT_COST", "14"));
    let login = std::thread::scope(|scope| {
        let pending = scope.spawn(|| s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD));
        std::thread::sleep(Duration::from_millis(300));
        signal(&s, "-INT");
        pending.join().unwrap()
    });
    assert_eq!(
        login.status, 201,
        "the in-flight login finished: {}",
        login.body
    );
    assert_eq!(s.wait_exit(Duration::from_secs(35)), Some(0));
}

#[test]
fn bootstrap_refuses_an_admin_email_held_by_an_ordinary_user() {
    let db = TestDb::new();
    let first = Server::start_on(&db, Options::default());
    let admin = first.admin_token();
    first.create_user(&admin, "bob", "bob@example.org", "bobpw");
    first
        .keyrock("DELETE", "/v1/users/admin", &admin)
        .assert_status(204);
    drop(first);
    let options = Options::default().env("TESSERA_ADMIN_EMAIL", "BOB@example.org");
    let err = match Server::try_start_on(&db, options) {
        Ok(_) => panic!("started without an admin"),
        Err(e) => e,
    };
    assert!(
        err.contains("already belongs to a user who is not an admin"),
        "{err}"
    );
    // With a free address the admin is created again.
    Server::start_on(&db, Options::default()).admin_token();
}

#[test]
fn a_locked_database_answers_503_in_the_family_envelope_not_500() {
    let db = TestDb::new();
    if db.is_postgres() {
        eprintln!("skipped on PostgreSQL: holding SQLite's write lock is what this test does");
        return;
    }
    let s = Server::start_on(&db, Options::default());
    let admin = s.admin_token();
    let mut conn = db.conn();
    use storage::diesel::connection::SimpleConnection;
    conn.batch_execute("BEGIN IMMEDIATE").unwrap();
    // Logging in writes a token: it waits for the lock (busy_timeout), then gives up.
    s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD)
        .assert_keyrock_error(503, "Service unavailable");
    conn.batch_execute("ROLLBACK").unwrap();
    // Reads kept working, and writes work again once the lock is gone.
    s.keyrock("GET", "/v1", &admin).assert_status(200);
    s.admin_token();
}

#[test]
fn version_links_security_scheme_and_405_on_operations_paths() {
    let (s, _db) = Server::start();
    let version = s.get("/version").json();
    assert_eq!(version["keyrock"]["api"]["link"], format!("{}/v1", s.base));
    let doc = s.get("/openapi.json").json();
    let scheme = &doc["components"]["securitySchemes"]["x_auth_token"];
    assert_eq!(scheme["name"], "X-Auth-Token");
    s.request("POST", "/health")
        .send()
        .assert_keyrock_error(405, "Method not allowed");
}

#[test]
fn the_bootstrap_admin_holds_easydb_system_root_from_its_creation() {
    use storage::diesel::prelude::*;
    use storage::schema::users;
    let (server, db) = Server::start();
    // The admin exists once the server answers.
    server.admin_token();
    let (rights, version): (String, i64) = users::table
        .filter(users::id.eq("admin"))
        .select((users::system_rights, users::rights_version))
        .first(&mut *db.conn())
        .unwrap();
    let rights: serde_json::Value = serde_json::from_str(&rights).unwrap();
    assert_eq!(rights, json!({"system.root": {}}));
    assert_eq!(version, 1);
    // An ordinary user holds nothing.
    let token = server.admin_token();
    let id = server.create_user(&token, "plain", "plain@test.com", "plain-pw");
    let plain: String = users::table
        .filter(users::id.eq(&id))
        .select(users::system_rights)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(plain, "{}");
}
