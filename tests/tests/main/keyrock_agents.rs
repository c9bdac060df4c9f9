//! PEP proxies (keyrock.md 4.10), IoT agents (4.11), trusted applications (4.12) and the
//! service provider configuration (4.13), over HTTP. Generated passwords must appear only
//! in the create and reset answers and be stored only as SHA-256 digests (7, decision 14).

use auth_core::secrets::sha256_hex;
use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{iot_agents, pep_proxies, trusted_applications};
use tessera_tests::keyrock::{JSON_TYPE_MISSING, NOT_AUTHORIZED};
use tessera_tests::{count, json, keys, Resp, Server, TestDb, World};

/// `<prefix><uuid v4>`, in lower case.
#[track_caller]
fn assert_generated(value: &Value, prefix: &str) -> String {
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
    fn walk(v: &Value, body: &str) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    let bad = ["password", "new_password", "digest", "salt", "hash"];
                    assert!(!bad.iter().any(|b| k.contains(b)), "{body}");
                    walk(v, body);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, body)),
            _ => {}
        }
    }
    walk(&resp.json(), &resp.body);
    for secret in secrets {
        assert!(!resp.body.contains(secret), "{}", resp.body);
    }
}

/// (id, password digest, salt, application) of every stored PEP proxy or IoT agent.
type AgentRow = (String, String, Option<String>, String);

fn pep_rows(db: &TestDb) -> Vec<AgentRow> {
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

fn iot_rows(db: &TestDb) -> Vec<AgentRow> {
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
fn assert_stored_as_digest(row: &AgentRow, password: &str) {
    assert_eq!(row.1, sha256_hex(password));
    assert_eq!(row.1.len(), 64);
    assert_eq!(row.2, None);
    for field in [&row.0, &row.1, &row.3] {
        assert!(!field.contains(password), "plaintext stored: {row:?}");
    }
}

/// Makes `user` a purchaser (permission 5) of `app`.
fn purchaser(s: &Server, w: &World, app: &str, user: &str) {
    let path = format!("/v1/applications/{app}/users/{user}/roles/purchaser");
    s.keyrock("PUT", &path, &w.alice).assert_status(201);
}

#[test]
fn pep_proxy_lifecycle_login_reset_and_delete() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let app = s.new_application(a, "shop");
    let pep_path = format!("/v1/applications/{app}/pep_proxies");
    let call = |method: &str| s.keyrock(method, &pep_path, a);

    // Nothing registered yet.
    for method in ["GET", "PATCH", "DELETE"] {
        call(method).assert_keyrock_error(404, "Pep Proxy not found");
    }

    // Authorization comes first (1.7): internal app, unknown app, callers without perm 2.
    // GET needs permission 2 too (decision 2): a purchaser (perm 5) may not read it.
    purchaser(&s, &w, &app, &w.bob_id);
    for method in ["GET", "POST", "PATCH", "DELETE"] {
        s.keyrock(method, "/v1/applications/idm_admin_app/pep_proxies", a)
            .assert_keyrock_error(403, "Not allowed");
        s.keyrock(method, "/v1/applications/no-such-app/pep_proxies", a)
            .assert_keyrock_error(404, "Application not found");
        s.keyrock(method, &pep_path, &w.bob).assert_not_permitted();
        s.keyrock(method, &pep_path, &w.admin)
            .assert_not_permitted();
        s.keyrock(method, &format!("{pep_path}?x=1"), &w.bob)
            .assert_not_permitted();
    }
    // A bodiless POST still needs the JSON Content-Type.
    s.request("POST", &pep_path)
        .token(a)
        .send()
        .assert_keyrock_error(400, JSON_TYPE_MISSING);
    assert!(pep_rows(&db).is_empty());

    // Create: id and password shown once.
    let body = call("POST").assert_status(201).json();
    assert_eq!(keys(&body), ["pep_proxy"]);
    assert_eq!(keys(&body["pep_proxy"]), ["id", "password"]);
    let pep_id = assert_generated(&body["pep_proxy"]["id"], "pep_proxy_");
    let password = assert_generated(&body["pep_proxy"]["password"], "pep_proxy_");
    assert_ne!(pep_id, password);
    let rows = pep_rows(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0].0, &rows[0].3), (&pep_id, &app));
    assert_stored_as_digest(&rows[0], &password);

    // At most one per application; an ignored JSON body is fine.
    call("POST").assert_keyrock_error(409, "Pep Proxy already registered");
    let body = json!({"pep_proxy": {"id": "mine", "password": "mine"}});
    s.send_json("POST", &pep_path, a, &body)
        .assert_keyrock_error(409, "Pep Proxy already registered");
    assert_eq!(pep_rows(&db).len(), 1);

    // Read: id and application, never the password.
    let got = call("GET");
    let expected = json!({"pep_proxy": {"id": pep_id, "oauth_client_id": app}});
    assert_eq!(got.assert_status(200).json(), expected);
    assert_no_secret(&got, &[&password]);
    let v3 = s.keyrock("GET", &format!("/v3/applications/{app}/pep_proxies/"), a);
    assert_eq!(v3.json(), expected);

    // The proxy logs in with its id and password.
    let login = s.try_password(&pep_id, &password);
    login.assert_status(201);
    assert_no_secret(&login, &[&password]);
    let pep_token = login.header("x-subject-token").unwrap();
    let seen = s.inspect(&pep_token);
    assert_eq!(
        seen.assert_status(200).json()["PepProxy"],
        json!({"id": pep_id})
    );
    assert_no_secret(&seen, &[&password]);
    // ... but may use nothing else, not even its own application's routes.
    s.keyrock("GET", &pep_path, &pep_token)
        .assert_not_permitted();
    s.try_password(&pep_id, "pep_proxy_wrong")
        .assert_keyrock_error(401, "Invalid id or password");

    // Reset: a new password, shown once; the old one and the old tokens stop working.
    let reset = call("PATCH");
    let reset_body = reset.assert_status(200).json();
    assert_eq!(keys(&reset_body), ["new_password"]);
    let new_password = assert_generated(&reset_body["new_password"], "pep_proxy_");
    assert_ne!(new_password, password);
    assert!(!reset.body.contains(&password));
    let rows = pep_rows(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, pep_id, "the id survives a reset");
    assert_stored_as_digest(&rows[0], &new_password);
    assert!(!rows[0].1.contains(&password));

    s.inspect(&pep_token)
        .assert_keyrock_error(401, "Invalid email or password");
    s.try_password(&pep_id, &password)
        .assert_keyrock_error(401, "Invalid id or password");
    let login = s.try_password(&pep_id, &new_password);
    let pep_token = login.assert_status(201).header("x-subject-token").unwrap();
    s.inspect(&pep_token).assert_status(200);
    assert_no_secret(&call("GET"), &[&password, &new_password]);

    // Delete: the proxy and its tokens go; its credentials no longer log in.
    call("DELETE").assert_no_content();
    assert!(pep_rows(&db).is_empty());
    s.inspect(&pep_token)
        .assert_keyrock_error(401, "Invalid email or password");
    s.try_password(&pep_id, &new_password)
        .assert_keyrock_error(401, "Invalid email or password");
    for method in ["GET", "PATCH", "DELETE"] {
        call(method).assert_keyrock_error(404, "Pep Proxy not found");
    }

    // The slot is free again, with new credentials.
    let again = call("POST").assert_status(201).json();
    let again_id = assert_generated(&again["pep_proxy"]["id"], "pep_proxy_");
    assert_ne!(again_id, pep_id);
}

#[test]
fn iot_agents_lifecycle_and_application_scoping() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let app = s.new_application(a, "sensors");
    let other = s.new_application(a, "other");
    let list_path = format!("/v1/applications/{app}/iot_agents");
    let call = |method: &str, path: &str| s.keyrock(method, path, a);
    let agents_not_found = |resp: Resp| resp.assert_keyrock_error(404, "Iot agents not found");
    let agent_not_found = |resp: Resp| resp.assert_keyrock_error(404, "Iot Agent not found");

    agents_not_found(call("GET", &list_path));

    // Authorization (1.7) before the agent is looked up.
    purchaser(&s, &w, &app, &w.bob_id);
    for (method, suffix) in [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/no-such-agent"),
        ("PATCH", "/no-such-agent"),
        ("DELETE", "/no-such-agent"),
    ] {
        call(
            method,
            &format!("/v1/applications/idm_admin_app/iot_agents{suffix}"),
        )
        .assert_keyrock_error(403, "Not allowed");
        call(
            method,
            &format!("/v1/applications/no-such-app/iot_agents{suffix}"),
        )
        .assert_keyrock_error(404, "Application not found");
        s.keyrock(method, &format!("{list_path}{suffix}"), &w.bob)
            .assert_not_permitted();
    }
    for method in ["GET", "PATCH", "DELETE"] {
        agent_not_found(call(method, &format!("{list_path}/no-such-agent")));
    }
    assert!(iot_rows(&db).is_empty());

    // Any number per application; each answer shows its password once.
    let mut agents = Vec::new();
    for _ in 0..2 {
        let body = call("POST", &list_path).assert_status(201).json();
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
        assert_eq!((&row.0, &row.3), (id, &app));
        assert_stored_as_digest(row, password);
    }
    let passwords: Vec<&str> = agents.iter().map(|(_, p)| p.as_str()).collect();

    // Reads show ids, never passwords.
    let listed = call("GET", &list_path);
    let listed_json = listed.assert_status(200).json();
    let mut ids: Vec<String> = listed_json["iot_agents"]
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
    let one = call("GET", &one_path);
    let expected = json!({"iot_agent": {"id": first, "oauth_client_id": app}});
    assert_eq!(one.assert_status(200).json(), expected);
    assert_no_secret(&one, &passwords);

    // An agent of another application is not found through this one.
    let foreign = format!("/v1/applications/{other}/iot_agents/{first}");
    for method in ["GET", "PATCH", "DELETE"] {
        agent_not_found(call(method, &foreign));
    }
    agents_not_found(call("GET", &format!("/v1/applications/{other}/iot_agents")));
    assert_eq!(
        iot_rows(&db),
        rows,
        "nothing changed through the wrong application"
    );

    // Reset: a new password, shown once; only that agent's digest changes.
    let reset_body = call("PATCH", &one_path).assert_status(200).json();
    assert_eq!(keys(&reset_body), ["new_password"]);
    let new_password = assert_generated(&reset_body["new_password"], "iot_sensor_");
    assert_ne!(new_password, first_password);
    let after = iot_rows(&db);
    assert_eq!(after[0].0, first);
    assert_stored_as_digest(&after[0], &new_password);
    assert_eq!(after[1], rows[1]);
    assert_no_secret(&call("GET", &one_path), &[&new_password, &first_password]);

    // Delete one agent, then the other.
    call("DELETE", &one_path).assert_no_content();
    for method in ["GET", "PATCH", "DELETE"] {
        agent_not_found(call(method, &one_path));
    }
    let listed = call("GET", &list_path).json();
    assert_eq!(listed, json!({"iot_agents": [{"id": agents[1].0}]}));
    call("DELETE", &format!("{list_path}/{}", agents[1].0)).assert_status(204);
    agents_not_found(call("GET", &list_path));
    assert!(iot_rows(&db).is_empty());
}

#[test]
fn trusted_applications_rules_and_check_order() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let app = s.new_application(a, "a");
    let b = s.new_application(a, "b");
    // Bob's application: trusting it needs rights in `app` only.
    let c = s.new_application(&w.bob, "c");
    let list_path = format!("/v1/applications/{app}/trusted_applications");
    let link = |other: &str| format!("{list_path}/{other}");
    let call = |method: &str, path: &str| s.keyrock(method, path, a);
    let none_yet = |resp: Resp| resp.assert_keyrock_error(404, "Trusted applications nof found");
    let not_added = "Application has not that trusted application added";

    none_yet(call("GET", &list_path));

    // Authorization of the application in the path comes first (1.7).
    for (method, path) in [
        ("GET", list_path.clone()),
        ("PUT", link("idm_admin_app")),
        ("POST", link("idm_admin_app")),
        ("DELETE", link("idm_admin_app")),
    ] {
        s.keyrock(method, &path, &w.bob).assert_not_permitted();
        s.keyrock(method, &path, &w.admin).assert_not_permitted();
        call(method, &path.replace(&app, "no-such-app"))
            .assert_keyrock_error(404, "Application not found");
        call(method, &path.replace(&app, "idm_admin_app")).assert_keyrock_error(403, "Not allowed");
    }

    // Then the other application, then the pair, then the link itself.
    for method in ["PUT", "POST", "DELETE"] {
        call(method, &link("idm_admin_app")).assert_keyrock_error(403, "Not allowed");
        call(method, &link("no-such-app"))
            .assert_keyrock_error(404, "Application to be add as trusted not found");
        call(method, &link(&app)).assert_keyrock_error(400, "Bad request");
    }
    call("DELETE", &link(&b)).assert_keyrock_error(400, not_added);
    s.request("PUT", &link(&b))
        .token(a)
        .send()
        .assert_keyrock_error(400, JSON_TYPE_MISSING);
    let stored = || count!(db, trusted_applications::table);
    assert_eq!(stored(), 0);

    // PUT answers 201; adding twice is an error, not an upsert.
    let added = call("PUT", &link(&b)).assert_status(201).json();
    assert_eq!(
        added,
        json!({"oauth_client_id": app, "trusted_oauth_client_id": b})
    );
    for method in ["PUT", "POST"] {
        call(method, &link(&b)).assert_keyrock_error(400, "Trusted application already added");
    }
    // The deprecated POST, by a purchaser (permission 5 suffices).
    purchaser(&s, &w, &app, &w.bob_id);
    let added = s
        .keyrock("POST", &link(&c), &w.bob)
        .assert_status(201)
        .json();
    assert_eq!(
        added,
        json!({"oauth_client_id": app, "trusted_oauth_client_id": c})
    );

    let listed = s
        .keyrock("GET", &list_path, &w.bob)
        .assert_status(200)
        .json();
    let mut ids: Vec<String> = listed["trusted_applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut expected = vec![b.clone(), c.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    let rows: Vec<(String, String)> = trusted_applications::table
        .select((
            trusted_applications::oauth_client_id,
            trusted_applications::trusted_oauth_client_id,
        ))
        .order(trusted_applications::trusted_oauth_client_id.asc())
        .load(&mut *db.conn())
        .unwrap();
    let pairs: Vec<(String, String)> = expected.iter().map(|t| (app.clone(), t.clone())).collect();
    assert_eq!(rows, pairs);
    // Trust is one-way.
    none_yet(call(
        "GET",
        &format!("/v1/applications/{b}/trusted_applications"),
    ));

    // Remove one; removing it again names the missing link.
    call("DELETE", &link(&b)).assert_no_content();
    call("DELETE", &link(&b)).assert_keyrock_error(400, not_added);
    assert_eq!(
        call("GET", &list_path).json(),
        json!({"trusted_applications": [c]})
    );

    // Deleting the trusted application removes the link.
    s.keyrock("DELETE", &format!("/v1/applications/{c}"), &w.bob)
        .assert_status(204);
    none_yet(call("GET", &list_path));
    assert_eq!(stored(), 0);
}

#[test]
fn service_provider_configs_counts_for_admins_only() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let path = "/v1/service_providers/configs";
    let counts = |users: usize, organizations: usize, applications: usize| {
        json!({"information": {"total_users": users, "total_organizations": organizations,
                               "total_applications": applications}})
    };

    // A fresh store: the bootstrap admin and idm_admin_app.
    let resp = s.keyrock("GET", path, &admin);
    assert_eq!(resp.assert_status(200).json(), counts(1, 0, 1));

    let w = World::new(&s);
    s.new_application(&w.alice, "one");
    s.new_application(&w.bob, "two");
    db.insert_organization("org-1", &[]);

    s.keyrock("GET", path, &w.alice)
        .assert_keyrock_error(403, NOT_AUTHORIZED);
    let resp = s.keyrock("GET", "/v3/service_providers/configs/", &w.admin);
    assert_eq!(resp.assert_status(200).json(), counts(5, 1, 3));
    assert_eq!(
        s.keyrock("POST", path, &admin).status,
        405,
        "only GET is served"
    );
}
