//! PEP proxies (keyrock.md 4.10), IoT agents (4.11), trusted applications (4.12) and the
//! service provider configuration (4.13), over HTTP. Generated passwords must appear only
//! in the create and reset answers and be stored only as SHA-256 digests (7, decision 14).

use auth_core::secrets::sha256_hex;
use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{iot_agents, organizations, pep_proxies, trusted_applications};
use tessera_tests::{json, keys, Resp, Server, TestDb};

const NOT_PERMITTED: &str = "User not allow to perform the action";

/// Everything a test needs: an admin, `alice` (provider of her applications), `bob`.
struct World {
    admin: String,
    alice: String,
    bob: String,
    bob_id: String,
}

fn world(server: &Server) -> World {
    let admin = server.admin_token();
    server.create_user(&admin, "alice", "alice@test.com", "alice-pw");
    let bob_id = server.create_user(&admin, "bob", "bob@test.com", "bob-pw");
    World {
        alice: server.login("alice@test.com", "alice-pw"),
        bob: server.login("bob@test.com", "bob-pw"),
        admin,
        bob_id,
    }
}

fn new_app(server: &Server, token: &str, name: &str) -> String {
    let resp = server
        .request("POST", "/v1/applications")
        .token(token)
        .json(&json!({"application": {"name": name, "redirect_uri": "http://localhost/cb"}}))
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A bodiless POST/PUT/PATCH as Keyrock clients send it, or a GET/DELETE.
fn call(server: &Server, method: &str, path: &str, token: &str) -> Resp {
    let req = server.request(method, path).token(token);
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req.header("Content-Type", "application/json").send()
    } else {
        req.send()
    }
}

/// `<prefix><uuid v4>`.
#[track_caller]
fn assert_generated(value: &serde_json::Value, prefix: &str) -> String {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    let rest = s
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{s} lacks {prefix}"));
    assert_eq!(
        uuid::Uuid::parse_str(rest).unwrap().get_version_num(),
        4,
        "{s}"
    );
    assert_eq!(rest, rest.to_ascii_lowercase(), "{s}");
    s.to_owned()
}

/// No password, known secret or hash-like field anywhere in a response.
#[track_caller]
fn assert_no_secret(resp: &Resp, secrets: &[&str]) {
    fn walk(v: &serde_json::Value, body: &str) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    assert!(
                        !["password", "new_password", "digest", "salt", "hash"]
                            .iter()
                            .any(|bad| k.contains(bad)),
                        "{body}"
                    );
                    walk(v, body);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, body)),
            _ => {}
        }
    }
    walk(&resp.json(), &resp.body);
    for secret in secrets {
        assert!(!resp.body.contains(secret), "{}", resp.body);
    }
}

fn pep_rows(db: &TestDb) -> Vec<(String, String, Option<String>, String)> {
    pep_proxies::table
        .select((
            pep_proxies::id,
            pep_proxies::password_digest,
            pep_proxies::password_salt,
            pep_proxies::oauth_client_id,
        ))
        .load(&mut *db.conn())
        .unwrap()
}

fn iot_rows(db: &TestDb) -> Vec<(String, String, Option<String>, String)> {
    iot_agents::table
        .select((
            iot_agents::id,
            iot_agents::password_digest,
            iot_agents::password_salt,
            iot_agents::oauth_client_id,
        ))
        .order(iot_agents::id.asc())
        .load(&mut *db.conn())
        .unwrap()
}

/// The stored row holds the digest of `password`, no salt, and the plaintext nowhere.
#[track_caller]
fn assert_stored_as_digest(row: &(String, String, Option<String>, String), password: &str) {
    assert_eq!(row.1, sha256_hex(password));
    assert_eq!(row.1.len(), 64);
    assert_eq!(row.2, None);
    for field in [&row.0, &row.1, &row.3] {
        assert!(!field.contains(password), "plaintext stored: {row:?}");
    }
}

fn pep_login(server: &Server, id: &str, password: &str) -> Resp {
    server
        .request("POST", "/v1/auth/tokens")
        .json(&json!({"name": id, "password": password}))
        .send()
}

/// `GET /v1/auth/tokens` with the token as both caller and subject.
fn inspect(server: &Server, token: &str) -> Resp {
    server
        .request("GET", "/v1/auth/tokens")
        .token(token)
        .header("X-Subject-Token", token)
        .send()
}

#[test]
fn pep_proxy_lifecycle_login_reset_and_delete() {
    let (server, db) = Server::start();
    let w = world(&server);
    let app = new_app(&server, &w.alice, "shop");
    let pep_path = format!("/v1/applications/{app}/pep_proxies");

    // Nothing registered yet.
    for method in ["GET", "PATCH", "DELETE"] {
        call(&server, method, &pep_path, &w.alice).assert_keyrock_error(404, "Pep Proxy not found");
    }

    // Authorization comes first (1.7): internal app, unknown app, callers without perm 2.
    // GET needs permission 2 too (decision 2): a purchaser (perm 5) may not read it.
    let assign = call(
        &server,
        "PUT",
        &format!("/v1/applications/{app}/users/{}/roles/purchaser", w.bob_id),
        &w.alice,
    );
    assert_eq!(assign.status, 201, "{}", assign.body);
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        call(
            &server,
            method,
            "/v1/applications/idm_admin_app/pep_proxies",
            &w.alice,
        )
        .assert_keyrock_error(403, "Not allowed");
        call(
            &server,
            method,
            "/v1/applications/no-such-app/pep_proxies",
            &w.alice,
        )
        .assert_keyrock_error(404, "Application not found");
        call(&server, method, &pep_path, &w.bob).assert_keyrock_error(403, NOT_PERMITTED);
        call(&server, method, &pep_path, &w.admin).assert_keyrock_error(403, NOT_PERMITTED);
        call(&server, method, &format!("{pep_path}?x=1"), &w.bob)
            .assert_keyrock_error(403, NOT_PERMITTED);
    }
    // A bodiless POST still needs the JSON Content-Type.
    server
        .request("POST", &pep_path)
        .token(&w.alice)
        .send()
        .assert_keyrock_error(
            400,
            "Missing parameter: header Content-Type: application/json",
        );
    assert!(pep_rows(&db).is_empty());

    // Create: id and password shown once.
    let created = call(&server, "POST", &pep_path, &w.alice);
    assert_eq!(created.status, 201, "{}", created.body);
    let body = created.json();
    assert_eq!(keys(&body), ["pep_proxy"]);
    assert_eq!(keys(&body["pep_proxy"]), ["id", "password"]);
    let pep_id = assert_generated(&body["pep_proxy"]["id"], "pep_proxy_");
    let password = assert_generated(&body["pep_proxy"]["password"], "pep_proxy_");
    assert_ne!(pep_id, password);
    let rows = pep_rows(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, pep_id);
    assert_eq!(rows[0].3, app);
    assert_stored_as_digest(&rows[0], &password);

    // At most one per application.
    call(&server, "POST", &pep_path, &w.alice)
        .assert_keyrock_error(409, "Pep Proxy already registered");
    // An ignored JSON body is fine.
    let with_body = server
        .request("POST", &pep_path)
        .token(&w.alice)
        .json(&json!({"pep_proxy": {"id": "mine", "password": "mine"}}))
        .send();
    with_body.assert_keyrock_error(409, "Pep Proxy already registered");
    assert_eq!(pep_rows(&db).len(), 1);

    // Read: id and application, never the password.
    let got = call(&server, "GET", &pep_path, &w.alice);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(
        got.json(),
        json!({"pep_proxy": {"id": pep_id, "oauth_client_id": app}})
    );
    assert_no_secret(&got, &[&password]);
    let v3 = call(
        &server,
        "GET",
        &format!("/v3/applications/{app}/pep_proxies/"),
        &w.alice,
    );
    assert_eq!(v3.json(), got.json());

    // The proxy logs in with its id and password.
    let login = pep_login(&server, &pep_id, &password);
    assert_eq!(login.status, 201, "{}", login.body);
    assert_no_secret(&login, &[&password]);
    let pep_token = login.header("x-subject-token").unwrap();
    let seen = inspect(&server, &pep_token);
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.json()["PepProxy"], json!({"id": pep_id}));
    assert_no_secret(&seen, &[&password]);
    // ... but may use nothing else, not even its own application's routes.
    call(&server, "GET", &pep_path, &pep_token).assert_keyrock_error(403, NOT_PERMITTED);
    pep_login(&server, &pep_id, "pep_proxy_wrong")
        .assert_keyrock_error(401, "Invalid id or password");

    // Reset: a new password, shown once; the old one and the old tokens stop working.
    let reset = call(&server, "PATCH", &pep_path, &w.alice);
    assert_eq!(reset.status, 200, "{}", reset.body);
    let reset_body = reset.json();
    assert_eq!(keys(&reset_body), ["new_password"]);
    let new_password = assert_generated(&reset_body["new_password"], "pep_proxy_");
    assert_ne!(new_password, password);
    assert!(!reset.body.contains(&password));
    let rows = pep_rows(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, pep_id, "the id survives a reset");
    assert_stored_as_digest(&rows[0], &new_password);
    assert!(!rows[0].1.contains(&password));

    inspect(&server, &pep_token).assert_keyrock_error(401, "Invalid email or password");
    pep_login(&server, &pep_id, &password).assert_keyrock_error(401, "Invalid id or password");
    let login = pep_login(&server, &pep_id, &new_password);
    assert_eq!(login.status, 201, "{}", login.body);
    let pep_token = login.header("x-subject-token").unwrap();
    assert_eq!(inspect(&server, &pep_token).status, 200);
    let got = call(&server, "GET", &pep_path, &w.alice);
    assert_no_secret(&got, &[&password, &new_password]);

    // Delete: the proxy and its tokens go; its credentials no longer log in.
    let deleted = call(&server, "DELETE", &pep_path, &w.alice);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(deleted.body.is_empty());
    assert!(pep_rows(&db).is_empty());
    inspect(&server, &pep_token).assert_keyrock_error(401, "Invalid email or password");
    pep_login(&server, &pep_id, &new_password)
        .assert_keyrock_error(401, "Invalid email or password");
    for method in ["GET", "PATCH", "DELETE"] {
        call(&server, method, &pep_path, &w.alice).assert_keyrock_error(404, "Pep Proxy not found");
    }

    // The slot is free again, with new credentials.
    let again = call(&server, "POST", &pep_path, &w.alice);
    assert_eq!(again.status, 201, "{}", again.body);
    let again_id = assert_generated(&again.json()["pep_proxy"]["id"], "pep_proxy_");
    assert_ne!(again_id, pep_id);
}

#[test]
fn iot_agents_lifecycle_and_application_scoping() {
    let (server, db) = Server::start();
    let w = world(&server);
    let app = new_app(&server, &w.alice, "sensors");
    let other = new_app(&server, &w.alice, "other");
    let list_path = format!("/v1/applications/{app}/iot_agents");

    call(&server, "GET", &list_path, &w.alice).assert_keyrock_error(404, "Iot agents not found");

    // Authorization (1.7) before the agent is looked up.
    let assign = call(
        &server,
        "PUT",
        &format!("/v1/applications/{app}/users/{}/roles/purchaser", w.bob_id),
        &w.alice,
    );
    assert_eq!(assign.status, 201, "{}", assign.body);
    for (method, suffix) in [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/no-such-agent"),
        ("PATCH", "/no-such-agent"),
        ("DELETE", "/no-such-agent"),
    ] {
        call(
            &server,
            method,
            &format!("/v1/applications/idm_admin_app/iot_agents{suffix}"),
            &w.alice,
        )
        .assert_keyrock_error(403, "Not allowed");
        call(
            &server,
            method,
            &format!("/v1/applications/no-such-app/iot_agents{suffix}"),
            &w.alice,
        )
        .assert_keyrock_error(404, "Application not found");
        call(&server, method, &format!("{list_path}{suffix}"), &w.bob)
            .assert_keyrock_error(403, NOT_PERMITTED);
    }
    for method in ["GET", "PATCH", "DELETE"] {
        call(
            &server,
            method,
            &format!("{list_path}/no-such-agent"),
            &w.alice,
        )
        .assert_keyrock_error(404, "Iot Agent not found");
    }
    assert!(iot_rows(&db).is_empty());

    // Any number per application; each answer shows its password once.
    let mut agents = Vec::new();
    for _ in 0..2 {
        let created = call(&server, "POST", &list_path, &w.alice);
        assert_eq!(created.status, 201, "{}", created.body);
        let body = created.json();
        assert_eq!(keys(&body), ["iot_agent"]);
        assert_eq!(keys(&body["iot_agent"]), ["id", "password"]);
        let id = assert_generated(&body["iot_agent"]["id"], "iot_sensor_");
        let password = assert_generated(&body["iot_agent"]["password"], "iot_sensor_");
        assert_ne!(id, password);
        agents.push((id, password));
    }
    agents.sort();
    let rows = iot_rows(&db);
    assert_eq!(rows.len(), 2);
    for (row, (id, password)) in rows.iter().zip(&agents) {
        assert_eq!(&row.0, id);
        assert_eq!(row.3, app);
        assert_stored_as_digest(row, password);
    }
    let passwords: Vec<&str> = agents.iter().map(|(_, p)| p.as_str()).collect();

    // Reads show ids, never passwords.
    let listed = call(&server, "GET", &list_path, &w.alice);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let mut ids: Vec<String> = listed.json()["iot_agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(keys(e), ["id"]);
            e["id"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        agents.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()
    );
    assert_no_secret(&listed, &passwords);
    let (first, first_password) = agents[0].clone();
    let one_path = format!("{list_path}/{first}");
    let one = call(&server, "GET", &one_path, &w.alice);
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(
        one.json(),
        json!({"iot_agent": {"id": first, "oauth_client_id": app}})
    );
    assert_no_secret(&one, &passwords);

    // An agent of another application is not found through this one.
    let foreign = format!("/v1/applications/{other}/iot_agents/{first}");
    for method in ["GET", "PATCH", "DELETE"] {
        call(&server, method, &foreign, &w.alice).assert_keyrock_error(404, "Iot Agent not found");
    }
    call(
        &server,
        "GET",
        &format!("/v1/applications/{other}/iot_agents"),
        &w.alice,
    )
    .assert_keyrock_error(404, "Iot agents not found");
    assert_eq!(
        iot_rows(&db),
        rows,
        "nothing changed through the wrong application"
    );

    // Reset: a new password, shown once; only that agent's digest changes.
    let reset = call(&server, "PATCH", &one_path, &w.alice);
    assert_eq!(reset.status, 200, "{}", reset.body);
    let reset_body = reset.json();
    assert_eq!(keys(&reset_body), ["new_password"]);
    let new_password = assert_generated(&reset_body["new_password"], "iot_sensor_");
    assert_ne!(new_password, first_password);
    let after = iot_rows(&db);
    assert_eq!(after[0].0, first);
    assert_stored_as_digest(&after[0], &new_password);
    assert_eq!(after[1], rows[1]);
    let one = call(&server, "GET", &one_path, &w.alice);
    assert_no_secret(&one, &[&new_password, &first_password]);

    // Delete one agent, then the other.
    let deleted = call(&server, "DELETE", &one_path, &w.alice);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(deleted.body.is_empty());
    for method in ["GET", "PATCH", "DELETE"] {
        call(&server, method, &one_path, &w.alice).assert_keyrock_error(404, "Iot Agent not found");
    }
    let listed = call(&server, "GET", &list_path, &w.alice);
    assert_eq!(listed.json(), json!({"iot_agents": [{"id": agents[1].0}]}));
    let second = format!("{list_path}/{}", agents[1].0);
    assert_eq!(call(&server, "DELETE", &second, &w.alice).status, 204);
    call(&server, "GET", &list_path, &w.alice).assert_keyrock_error(404, "Iot agents not found");
    assert!(iot_rows(&db).is_empty());
}

#[test]
fn trusted_applications_rules_and_check_order() {
    let (server, db) = Server::start();
    let w = world(&server);
    let app = new_app(&server, &w.alice, "a");
    let b = new_app(&server, &w.alice, "b");
    // Bob's application: trusting it needs rights in `app` only.
    let c = new_app(&server, &w.bob, "c");
    let list_path = format!("/v1/applications/{app}/trusted_applications");
    let link = |other: &str| format!("{list_path}/{other}");

    call(&server, "GET", &list_path, &w.alice)
        .assert_keyrock_error(404, "Trusted applications nof found");

    // Authorization of the application in the path comes first (1.7).
    for (method, path) in [
        ("GET", list_path.clone()),
        ("PUT", link("idm_admin_app")),
        ("POST", link("idm_admin_app")),
        ("DELETE", link("idm_admin_app")),
    ] {
        call(&server, method, &path, &w.bob).assert_keyrock_error(403, NOT_PERMITTED);
        call(&server, method, &path, &w.admin).assert_keyrock_error(403, NOT_PERMITTED);
        let unknown = path.replace(&app, "no-such-app");
        call(&server, method, &unknown, &w.alice)
            .assert_keyrock_error(404, "Application not found");
        let internal = path.replace(&app, "idm_admin_app");
        call(&server, method, &internal, &w.alice).assert_keyrock_error(403, "Not allowed");
    }

    // Then the other application, then the pair, then the link itself.
    for method in ["PUT", "POST", "DELETE"] {
        call(&server, method, &link("idm_admin_app"), &w.alice)
            .assert_keyrock_error(403, "Not allowed");
        call(&server, method, &link("no-such-app"), &w.alice)
            .assert_keyrock_error(404, "Application to be add as trusted not found");
        call(&server, method, &link(&app), &w.alice).assert_keyrock_error(400, "Bad request");
    }
    call(&server, "DELETE", &link(&b), &w.alice)
        .assert_keyrock_error(400, "Application has not that trusted application added");
    server
        .request("PUT", &link(&b))
        .token(&w.alice)
        .send()
        .assert_keyrock_error(
            400,
            "Missing parameter: header Content-Type: application/json",
        );
    let count = || -> i64 {
        trusted_applications::table
            .count()
            .get_result(&mut *db.conn())
            .unwrap()
    };
    assert_eq!(count(), 0);

    // PUT answers 201; adding twice is an error, not an upsert.
    let added = call(&server, "PUT", &link(&b), &w.alice);
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.json(),
        json!({"oauth_client_id": app, "trusted_oauth_client_id": b})
    );
    for method in ["PUT", "POST"] {
        call(&server, method, &link(&b), &w.alice)
            .assert_keyrock_error(400, "Trusted application already added");
    }
    // The deprecated POST, by a purchaser (permission 5 suffices).
    let assign = call(
        &server,
        "PUT",
        &format!("/v1/applications/{app}/users/{}/roles/purchaser", w.bob_id),
        &w.alice,
    );
    assert_eq!(assign.status, 201, "{}", assign.body);
    let added = call(&server, "POST", &link(&c), &w.bob);
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.json(),
        json!({"oauth_client_id": app, "trusted_oauth_client_id": c})
    );

    let listed = call(&server, "GET", &list_path, &w.bob);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let mut ids: Vec<String> = listed.json()["trusted_applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut expected = vec![b.clone(), c.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let stored: Vec<(String, String)> = trusted_applications::table
        .select((
            trusted_applications::oauth_client_id,
            trusted_applications::trusted_oauth_client_id,
        ))
        .order(trusted_applications::trusted_oauth_client_id.asc())
        .load(&mut *db.conn())
        .unwrap();
    assert_eq!(
        stored,
        expected
            .iter()
            .map(|t| (app.clone(), t.clone()))
            .collect::<Vec<_>>()
    );
    // Trust is one-way.
    call(
        &server,
        "GET",
        &format!("/v1/applications/{b}/trusted_applications"),
        &w.alice,
    )
    .assert_keyrock_error(404, "Trusted applications nof found");

    // Remove one; removing it again names the missing link.
    let removed = call(&server, "DELETE", &link(&b), &w.alice);
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert!(removed.body.is_empty());
    call(&server, "DELETE", &link(&b), &w.alice)
        .assert_keyrock_error(400, "Application has not that trusted application added");
    let listed = call(&server, "GET", &list_path, &w.alice);
    assert_eq!(listed.json(), json!({"trusted_applications": [c]}));

    // Deleting the trusted application removes the link.
    assert_eq!(
        call(&server, "DELETE", &format!("/v1/applications/{c}"), &w.bob).status,
        204
    );
    call(&server, "GET", &list_path, &w.alice)
        .assert_keyrock_error(404, "Trusted applications nof found");
    assert_eq!(count(), 0);
}

#[test]
fn service_provider_configs_counts_for_admins_only() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let path = "/v1/service_providers/configs";

    // A fresh store: the bootstrap admin and idm_admin_app.
    let resp = call(&server, "GET", path, &admin);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"information": {"total_users": 1, "total_organizations": 0, "total_applications": 1}})
    );

    let w = world(&server);
    new_app(&server, &w.alice, "one");
    new_app(&server, &w.bob, "two");
    diesel::insert_into(organizations::table)
        .values((organizations::id.eq("org-1"), organizations::name.eq("Org")))
        .execute(&mut *db.conn())
        .unwrap();

    call(&server, "GET", path, &w.alice)
        .assert_keyrock_error(403, "User not authorized to perform action");
    let resp = call(&server, "GET", "/v3/service_providers/configs/", &w.admin);
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"information": {"total_users": 3, "total_organizations": 1, "total_applications": 3}})
    );
    assert_eq!(
        call(&server, "POST", path, &admin).status,
        405,
        "only GET is served"
    );
}
