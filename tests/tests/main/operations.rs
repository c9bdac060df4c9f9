//! The always-on endpoints, logs, bootstrap and shutdown of operations.md, over HTTP.

use std::collections::BTreeSet;
use std::time::Duration;

use tessera_tests::{json, Options, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

#[test]
fn health_ready_and_version() {
    let (server, _db) = Server::start();
    let health = server.get("/health");
    assert_eq!(
        (health.status, health.json()),
        (200, json!({"status": "ok"}))
    );
    let ready = server.get("/ready");
    assert_eq!(
        (ready.status, ready.json()),
        (200, json!({"status": "ready"}))
    );
    let version = server.get("/version");
    assert_eq!(version.status, 200);
    let v = version.json();
    assert!(v["keyrock"]["version"].is_string());
    assert!(v["keyrock"]["release_date"].is_string());
    assert!(v["keyrock"]["uptime"].as_str().unwrap().ends_with('s'));
    assert_eq!(v["keyrock"]["api"]["version"], "v1");
    assert_eq!(v["tessera"]["version"], env!("CARGO_PKG_VERSION"));
    // Every response carries a request id.
    assert!(uuid::Uuid::parse_str(&health.header("x-request-id").unwrap()).is_ok());
}

#[test]
fn metrics_count_requests_per_route_and_status_and_show_the_pool() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    server
        .request("GET", "/v1/users/admin")
        .token(&admin)
        .send();
    server
        .request("GET", "/v1/users/nobody")
        .token(&admin)
        .send();
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = metrics.body;
    for needle in [
        r#"tessera_http_requests_total{method="GET",route="/v1/users/{user_id}",status="200"} 1"#,
        r#"tessera_http_requests_total{method="GET",route="/v1/users/{user_id}",status="404"} 1"#,
        r#"tessera_http_requests_total{method="POST",route="/v1/auth/tokens",status="201"} 1"#,
        r#"tessera_http_request_duration_seconds_bucket{method="POST",route="/v1/auth/tokens",status="201",le="+Inf"} 1"#,
        "tessera_db_pool_connections ",
        "tessera_db_pool_idle_connections ",
        "tessera_db_pool_max_connections ",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    // Raw paths with ids never become labels.
    assert!(!text.contains("/v1/users/nobody"));
}

/// Every (method, path) the server serves; the OpenAPI document must list exactly these.
fn served_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (m, p) in [
        ("get", "/health"),
        ("get", "/ready"),
        ("get", "/version"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    ] {
        routes.insert((m.to_owned(), p.to_owned()));
    }
    for prefix in ["/v1", "/v3"] {
        for (m, p) in [
            ("get", ""),
            ("post", "/auth/tokens"),
            ("get", "/auth/tokens"),
            ("delete", "/auth/tokens"),
            ("get", "/users"),
            ("post", "/users"),
            ("get", "/users/{user_id}"),
            ("patch", "/users/{user_id}"),
            ("delete", "/users/{user_id}"),
            ("get", "/applications"),
            ("post", "/applications"),
            ("get", "/applications/{application_id}"),
            ("patch", "/applications/{application_id}"),
            ("delete", "/applications/{application_id}"),
            ("post", "/applications/{application_id}/reset_secret"),
            ("get", "/applications/{application_id}/users"),
            ("get", "/applications/{application_id}/users/{user_id}/roles"),
            ("put", "/applications/{application_id}/users/{user_id}/roles/{role_id}"),
            ("post", "/applications/{application_id}/users/{user_id}/roles/{role_id}"),
            ("delete", "/applications/{application_id}/users/{user_id}/roles/{role_id}"),
            ("get", "/applications/{application_id}/organizations"),
            ("get", "/applications/{application_id}/organizations/{organization_id}/roles"),
            ("put", "/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}"),
            ("post", "/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}"),
            ("delete", "/applications/{application_id}/organizations/{organization_id}/roles/{role_id}/organization_roles/{organization_role}"),
            ("get", "/organizations"),
            ("post", "/organizations"),
            ("get", "/organizations/{organization_id}"),
            ("patch", "/organizations/{organization_id}"),
            ("delete", "/organizations/{organization_id}"),
            ("get", "/organizations/{organization_id}/users"),
            ("get", "/organizations/{organization_id}/users/{user_id}/organization_roles"),
            ("put", "/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}"),
            ("post", "/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}"),
            ("delete", "/organizations/{organization_id}/users/{user_id}/organization_roles/{organization_role}"),
            ("get", "/applications/{application_id}/pep_proxies"),
            ("post", "/applications/{application_id}/pep_proxies"),
            ("patch", "/applications/{application_id}/pep_proxies"),
            ("delete", "/applications/{application_id}/pep_proxies"),
            ("get", "/applications/{application_id}/iot_agents"),
            ("post", "/applications/{application_id}/iot_agents"),
            ("get", "/applications/{application_id}/iot_agents/{iot_agent_id}"),
            ("patch", "/applications/{application_id}/iot_agents/{iot_agent_id}"),
            ("delete", "/applications/{application_id}/iot_agents/{iot_agent_id}"),
            ("get", "/applications/{application_id}/trusted_applications"),
            ("put", "/applications/{application_id}/trusted_applications/{trusted_application_id}"),
            ("post", "/applications/{application_id}/trusted_applications/{trusted_application_id}"),
            ("delete", "/applications/{application_id}/trusted_applications/{trusted_application_id}"),
            ("get", "/service_providers/configs"),
            ("get", "/applications/{application_id}/roles"),
            ("post", "/applications/{application_id}/roles"),
            ("get", "/applications/{application_id}/roles/{role_id}"),
            ("patch", "/applications/{application_id}/roles/{role_id}"),
            ("delete", "/applications/{application_id}/roles/{role_id}"),
            ("get", "/applications/{application_id}/roles/{role_id}/permissions"),
            ("put", "/applications/{application_id}/roles/{role_id}/permissions/{permission_id}"),
            ("post", "/applications/{application_id}/roles/{role_id}/permissions/{permission_id}"),
            ("delete", "/applications/{application_id}/roles/{role_id}/permissions/{permission_id}"),
            ("get", "/applications/{application_id}/permissions"),
            ("post", "/applications/{application_id}/permissions"),
            ("get", "/applications/{application_id}/permissions/{permission_id}"),
            ("patch", "/applications/{application_id}/permissions/{permission_id}"),
            ("delete", "/applications/{application_id}/permissions/{permission_id}"),
            // Further routes are listed here.
        ] {
            routes.insert((m.to_owned(), format!("{prefix}{p}")));
        }
    }
    // KHEOPS, at the root and under /api (kheops.md 1.1).
    for prefix in ["", "/api"] {
        for (m, p) in [
            ("post", "/capabilities"),
            ("get", "/capabilities"),
            ("get", "/capabilities/{capability_id}"),
            ("post", "/capabilities/{capability_id}/revoke"),
            ("post", "/token/introspect"),
            ("post", "/albums"),
            ("get", "/albums"),
            ("get", "/albums/{album_id}"),
            ("patch", "/albums/{album_id}"),
            ("delete", "/albums/{album_id}"),
            ("get", "/albums/{album_id}/users"),
            ("put", "/albums/{album_id}/users/{user}"),
            ("delete", "/albums/{album_id}/users/{user}"),
            ("put", "/albums/{album_id}/users/{user}/admin"),
            ("delete", "/albums/{album_id}/users/{user}/admin"),
        ] {
            routes.insert((m.to_owned(), format!("{prefix}{p}")));
        }
    }
    routes
}

#[test]
fn openapi_lists_every_route_and_every_listed_route_is_served() {
    let (server, _db) = Server::start();
    let doc = server.get("/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let mut listed = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                listed.insert((method.clone(), path.clone()));
            }
        }
    }
    assert_eq!(listed, served_routes());
    let admin = server.admin_token();
    for (method, path) in listed {
        // Placeholders become ids that do not exist: the route answers, nothing is changed.
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "no-such-id"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let resp = server
            .request(&method.to_uppercase(), &concrete)
            .token(&admin)
            .header("Content-Type", "application/json")
            .send();
        assert!(
            resp.status != 405 && !(resp.status == 404 && resp.body.contains("Path not found")),
            "{method} {path} is listed but not served: {} {}",
            resp.status,
            resp.body
        );
        assert_ne!(resp.status, 500, "{method} {path}: {}", resp.body);
    }
}

#[test]
fn logs_carry_request_ids_and_never_a_secret() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "bob-Secret-123");
    let bob_token = server.login("bob@example.org", "bob-Secret-123");
    server
        .request("PATCH", &format!("/v1/users/{bob}"))
        .token(&bob_token)
        .json(&json!({"user": {"password": "bob-Secret-456"}}))
        .send();
    server
        .request("GET", &format!("/v1/users/{bob}?token={bob_token}"))
        .token(&bob_token)
        .send();
    let log = server.log();
    assert!(log.contains("request_id"), "{log}");
    assert!(
        log.contains("/v1/users/{user_id}"),
        "routes are logged as patterns: {log}"
    );
    for secret in [
        admin.as_str(),
        bob_token.as_str(),
        "bob-Secret-123",
        "bob-Secret-456",
        ADMIN_PASSWORD,
    ] {
        assert!(!log.contains(secret), "secret {secret} in log:\n{log}");
    }
}

#[test]
fn no_plaintext_token_or_password_is_stored() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    server.create_user(&admin, "bob", "bob@example.org", "bob-Secret-123");
    let bob_token = server.login("bob@example.org", "bob-Secret-123");
    let dump = db.dump_text();
    // The dump does see the store: the digest of the token and the bob row are there.
    assert!(dump.contains(&auth_core::secrets::sha256_hex(&bob_token)));
    assert!(dump.contains("bob@example.org"));
    for secret in [
        admin.as_str(),
        bob_token.as_str(),
        "bob-Secret-123",
        ADMIN_PASSWORD,
    ] {
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
    let second = Server::start_on(
        &db,
        Options::default().env("TESSERA_ADMIN_PASSWORD", "other"),
    );
    assert!(!second.log().contains("generated password"));
    second.login(ADMIN_EMAIL, &password);
    let admin = second.login(ADMIN_EMAIL, &password);
    let users = second
        .request("GET", "/v1/users")
        .token(&admin)
        .send()
        .json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1);
    assert_eq!(users["users"][0]["id"], "admin");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let (mut server, _db) = Server::start();
    assert_eq!(server.get("/health").status, 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(server.wait_exit(Duration::from_secs(35)), Some(0));
}

#[test]
fn two_servers_on_one_database_share_tokens_and_revocations() {
    let db = TestDb::new();
    let a = Server::start_on(&db, Options::default());
    let b = Server::start_on(&db, Options::default());
    let token = a.admin_token();
    // Issued by A, accepted by B.
    assert_eq!(b.request("GET", "/v1").token(&token).send().status, 200);
    let bob = b.create_user(&token, "bob", "bob@example.org", "bobpw");
    // A user created on B logs in on A.
    let bob_token = a.login("bob@example.org", "bobpw");
    let seen = b
        .request("GET", &format!("/v1/users/{bob}"))
        .token(&bob_token)
        .send();
    assert_eq!(seen.status, 200);
    // Deleted on B, refused by A at once.
    let del = b
        .request("DELETE", "/v1/auth/tokens")
        .token(&token)
        .header("X-Subject-Token", &bob_token)
        .send();
    assert_eq!(del.status, 204);
    a.request("GET", "/v1")
        .token(&bob_token)
        .send()
        .assert_keyrock_error(404, "Token not found");
    b.request("DELETE", "/v1/auth/tokens")
        .token(&token)
        .header("X-Subject-Token", &token)
        .send();
    a.request("GET", "/v1")
        .token(&token)
        .send()
        .assert_keyrock_error(404, "Token not found");
}

#[test]
fn sigint_also_lets_in_flight_requests_finish() {
    // bcrypt cost 14 makes one login last about a second: long enough to signal mid-request.
    let (mut server, _db) = Server::start_with(Options::default().env("TESSERA_BCRYPT_COST", "14"));
    let login = std::thread::scope(|scope| {
        let pending = scope.spawn(|| {
            server
                .request("POST", "/v1/auth/tokens")
                .json(&json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
        });
        std::thread::sleep(Duration::from_millis(300));
        let status = std::process::Command::new("kill")
            .args(["-INT", &server.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        pending.join().unwrap()
    });
    assert_eq!(
        login.status, 201,
        "the in-flight login finished: {}",
        login.body
    );
    assert_eq!(server.wait_exit(Duration::from_secs(35)), Some(0));
}

#[test]
fn bootstrap_refuses_an_admin_email_held_by_an_ordinary_user() {
    let db = TestDb::new();
    let first = Server::start_on(&db, Options::default());
    let admin = first.admin_token();
    first.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let gone = first
        .request("DELETE", "/v1/users/admin")
        .token(&admin)
        .send();
    assert_eq!(gone.status, 204);
    drop(first);
    let err = match Server::try_start_on(
        &db,
        Options::default().env("TESSERA_ADMIN_EMAIL", "BOB@example.org"),
    ) {
        Ok(_) => panic!("started without an admin"),
        Err(e) => e,
    };
    assert!(
        err.contains("already belongs to a user who is not an admin"),
        "{err}"
    );
    // With a free address the admin is created again.
    let again = Server::start_on(&db, Options::default());
    again.admin_token();
}

#[test]
fn a_locked_database_answers_503_in_the_family_envelope_not_500() {
    let db = TestDb::new();
    if db.is_postgres() {
        eprintln!("skipped on PostgreSQL: holding SQLite's write lock is what this test does");
        return;
    }
    let server = Server::start_on(&db, Options::default());
    let admin = server.admin_token();
    let mut conn = db.conn();
    use storage::diesel::connection::SimpleConnection;
    conn.batch_execute("BEGIN IMMEDIATE").unwrap();
    // Logging in writes a token: it waits for the lock (busy_timeout), then gives up.
    let resp = server
        .request("POST", "/v1/auth/tokens")
        .json(&json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send();
    resp.assert_keyrock_error(503, "Service unavailable");
    conn.batch_execute("ROLLBACK").unwrap();
    // Reads kept working, and writes work again once the lock is gone.
    assert_eq!(
        server.request("GET", "/v1").token(&admin).send().status,
        200
    );
    server.admin_token();
}

#[test]
fn version_links_security_scheme_and_405_on_operations_paths() {
    let (server, _db) = Server::start();
    let version = server.get("/version").json();
    assert_eq!(
        version["keyrock"]["api"]["link"],
        format!("{}/v1", server.base)
    );
    let doc = server.get("/openapi.json").json();
    assert_eq!(
        doc["components"]["securitySchemes"]["x_auth_token"]["name"],
        "X-Auth-Token"
    );
    server
        .request("POST", "/health")
        .send()
        .assert_keyrock_error(405, "Method not allowed");
}
