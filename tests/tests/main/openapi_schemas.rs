//! The Keyrock half of `/openapi.json` as a client generator reads it: every `/v1` (and
//! `/v3`) success body is a named schema, every error is the Keyrock envelope, the token
//! routes document their token failures, and the server's real answers (and the requests
//! Keyrock clients send) validate against what is documented.

use std::collections::BTreeSet;

use serde_json::Value;
use tessera_tests::routes::{operations, Operation};
use tessera_tests::schema::{assert_matches, component, is_informative, operation_id, Checked};
use tessera_tests::{json, string_field, Server};

const ERROR_REF: &str = "#/components/schemas/KeyrockErrorBody";

fn is_keyrock_path(path: &str) -> bool {
    ["/v1", "/v3"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

fn keyrock_operations(s: &Server) -> Vec<Operation> {
    operations(s)
        .into_iter()
        .filter(|op| is_keyrock_path(&op.path))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The document alone.

#[test]
fn every_keyrock_response_is_described_by_a_schema() {
    let (s, _db) = Server::start();
    let doc = s.get("/openapi.json").assert_status(200).json();
    let envelope = component(&doc, ERROR_REF);
    assert_eq!(envelope["required"], json!(["error"]), "{envelope}");
    let detail = component(
        &doc,
        envelope["properties"]["error"]["$ref"].as_str().unwrap(),
    );
    assert_eq!(
        detail["required"].as_array().map(|r| r.len()),
        Some(3),
        "{detail}"
    );

    let ops = keyrock_operations(&s);
    assert!(ops.len() > 100, "{} Keyrock operations", ops.len());
    for op in &ops {
        let name = format!("{} ({})", op.name(), operation_id(op));
        let responses = op.doc["responses"].as_object().expect("responses");
        let mut statuses = BTreeSet::new();
        for (status, response) in responses {
            let code: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("{name}: {status}"));
            statuses.insert(code);
            let schema = &response["content"]["application/json"]["schema"];
            match code {
                204 => assert!(response.get("content").is_none(), "{name}: 204 with a body"),
                200..=299 => {
                    assert!(is_informative(&doc, schema), "{name} {code}: {response}");
                }
                400..=599 => assert_eq!(schema["$ref"], ERROR_REF, "{name} {code}: {response}"),
                _ => panic!("{name}: unexpected status {code}"),
            }
        }
        assert!(
            statuses.iter().any(|c| (200..300).contains(c)),
            "{name}: no success"
        );
        // Every route reads the database; every one that takes a token can be refused one.
        assert!(statuses.contains(&503), "{name}: no 503");
        let takes_token = op.doc["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("x_auth_token").is_some()));
        if takes_token {
            assert!(
                statuses.contains(&401),
                "{name}: no 401 for an expired token"
            );
        }
        if let Some(content) = op.doc["requestBody"]["content"].as_object() {
            for (media, body) in content {
                assert!(
                    is_informative(&doc, &body["schema"]),
                    "{name}: request {media} {body}"
                );
            }
            assert!(
                statuses.contains(&413),
                "{name}: reads a body but has no 413"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server's answers against the document.

#[test]
fn keyrock_answers_match_their_documented_schemas() {
    let (s, _db) = Server::start();
    let doc = s.get("/openapi.json").assert_status(200).json();
    let ops = keyrock_operations(&s);
    let mut c = Checked {
        s: &s,
        doc,
        ops,
        seen: BTreeSet::new(),
    };

    // Tokens: a user's by password (JSON) and by token, then inspected.
    let login =
        json!({"name": tessera_tests::ADMIN_EMAIL, "password": tessera_tests::ADMIN_PASSWORD});
    let resp = c.send("POST", "/v1/auth/tokens", None, Some(&login));
    let admin = resp.assert_status(201).header("x-subject-token").unwrap();
    let renewed = json!({"token": admin});
    let resp = c.send("POST", "/v3/auth/tokens", None, Some(&renewed));
    let second = resp.assert_status(201).header("x-subject-token").unwrap();
    let headers = [("X-Subject-Token", second.as_str())];
    let resp = c.send_with("GET", "/v1/auth/tokens", Some(&admin), None, &headers);
    assert!(resp.assert_status(200).json()["User"].is_object());
    let a = &admin;
    let index = c.expect(200, "GET", "/v1", a, None);
    assert_eq!(index["users_url"], "/v1/users");

    // Users: create (every field, and the least), read, list, change, no change.
    let full = json!({"user": {"username": "bob", "email": "bob@example.org", "password": "bob-pw",
        "description": "d", "website": "https://bob.example.org", "gravatar": true,
        "extra": {"team": ["blue", null]}}});
    let bob = string_field(
        &c.expect(201, "POST", "/v1/users", a, Some(&full))["user"],
        "id",
    );
    let least = json!({"user": {"username": "carol", "email": "carol@example.org", "password": "carol-pw"}});
    let carol = string_field(
        &c.expect(201, "POST", "/v1/users", a, Some(&least))["user"],
        "id",
    );
    c.expect(200, "GET", "/v1/users", a, None);
    c.expect(200, "GET", &format!("/v1/users/{carol}"), a, None);
    let bob_path = format!("/v1/users/{bob}");
    let change = json!({"user": {"description": null, "website": "https://b.example.org", "extra": "text", "gravatar": false}});
    let updated = c.expect(200, "PATCH", &bob_path, a, Some(&change));
    assert_eq!(updated["values_updated"]["description"], Value::Null);
    let unchanged = c.expect(200, "PATCH", &bob_path, a, Some(&json!({"user": {}})));
    assert_eq!(unchanged["code"], 200);
    c.expect(
        200,
        "PATCH",
        &bob_path,
        a,
        Some(&json!({"user": {"password": "bob-pw2"}})),
    );

    // Applications: lists of strings and plain strings alike.
    let app_body = json!({"application": {"name": "app", "description": "d", "url": "https://app",
        "redirect_uri": ["https://app/cb", "https://app/cb2"], "redirect_sign_out_uri": "https://app/out",
        "grant_type": ["password", "authorization_code"], "token_types": ["jwt", "permanent"],
        "scope": "openid"}});
    let created = c.expect(201, "POST", "/v1/applications", a, Some(&app_body));
    let app = string_field(&created["application"], "id");
    let other = json!({"application": {"name": "other", "redirect_uri": "https://other/cb"}});
    let other = string_field(
        &c.expect(201, "POST", "/v1/applications", a, Some(&other))["application"],
        "id",
    );
    let app_path = format!("/v1/applications/{app}");
    c.expect(200, "GET", "/v1/applications", a, None);
    c.expect(200, "GET", &app_path, a, None);
    let change = json!({"application": {"name": "app2", "description": null, "scope": ["a", "b"], "grant_type": ["client_credentials"]}});
    c.expect(200, "PATCH", &app_path, a, Some(&change));
    c.expect(
        200,
        "PATCH",
        &app_path,
        a,
        Some(&json!({"application": {}})),
    );
    c.expect(200, "POST", &format!("{app_path}/reset_secret"), a, None);

    // Roles and permissions (a number where a string is expected is spelled).
    let role = json!({"role": {"name": "r"}});
    let role = string_field(
        &c.expect(201, "POST", &format!("{app_path}/roles"), a, Some(&role))["role"],
        "id",
    );
    let role_path = format!("{app_path}/roles/{role}");
    c.expect(200, "GET", &format!("{app_path}/roles"), a, None);
    c.expect(200, "GET", &role_path, a, None);
    c.expect(200, "GET", &format!("{app_path}/roles/provider"), a, None);
    c.expect(
        200,
        "PATCH",
        &role_path,
        a,
        Some(&json!({"role": {"name": "r2"}})),
    );
    c.expect(200, "PATCH", &role_path, a, Some(&json!({"role": {}})));
    let permission =
        json!({"permission": {"name": "p", "description": 7, "action": "GET", "resource": "/r"}});
    let permission = c.expect(
        201,
        "POST",
        &format!("{app_path}/permissions"),
        a,
        Some(&permission),
    );
    let permission = string_field(&permission["permission"], "id");
    let regex = json!({"permission": {"name": "p2", "action": "GET", "resource": "/r/.*", "is_regex": true}});
    c.expect(
        201,
        "POST",
        &format!("{app_path}/permissions"),
        a,
        Some(&regex),
    );
    let permission_path = format!("{app_path}/permissions/{permission}");
    c.expect(200, "GET", &format!("{app_path}/permissions"), a, None);
    c.expect(200, "GET", &permission_path, a, None);
    c.expect(200, "GET", &format!("{app_path}/permissions/1"), a, None);
    let change =
        json!({"permission": {"description": null, "is_regex": true, "resource": "/x/.*"}});
    c.expect(200, "PATCH", &permission_path, a, Some(&change));
    c.expect(
        200,
        "PATCH",
        &permission_path,
        a,
        Some(&json!({"permission": {}})),
    );
    let link = format!("{role_path}/permissions/{permission}");
    c.expect(201, "PUT", &link, a, None);
    c.expect(201, "POST", &link, a, None);
    c.expect(200, "GET", &format!("{role_path}/permissions"), a, None);

    // Role assignments to users.
    let assignment = format!("{app_path}/users/{bob}/roles/{role}");
    c.expect(201, "PUT", &assignment, a, None);
    c.expect(
        201,
        "POST",
        &format!("{app_path}/users/{carol}/roles/{role}"),
        a,
        None,
    );
    c.expect(200, "GET", &format!("{app_path}/users"), a, None);
    c.expect(
        200,
        "GET",
        &format!("{app_path}/users/{bob}/roles"),
        a,
        None,
    );

    // Organizations, their members, and their role assignments.
    let org =
        json!({"organization": {"name": "org", "description": "d", "website": "https://org"}});
    let org = string_field(
        &c.expect(201, "POST", "/v1/organizations", a, Some(&org))["organization"],
        "id",
    );
    let org_path = format!("/v1/organizations/{org}");
    c.expect(200, "GET", "/v1/organizations", a, None);
    c.expect(200, "GET", &org_path, a, None);
    let change = json!({"organization": {"name": "org2", "description": null}});
    c.expect(200, "PATCH", &org_path, a, Some(&change));
    c.expect(
        200,
        "PATCH",
        &org_path,
        a,
        Some(&json!({"organization": {}})),
    );
    let member = format!("{org_path}/users/{bob}/organization_roles/member");
    c.expect(201, "PUT", &member, a, None);
    c.expect(
        201,
        "POST",
        &format!("{org_path}/users/{carol}/organization_roles/owner"),
        a,
        None,
    );
    c.expect(200, "GET", &format!("{org_path}/users"), a, None);
    c.expect(
        200,
        "GET",
        &format!("{org_path}/users/{bob}/organization_roles"),
        a,
        None,
    );
    let org_role = format!("{app_path}/organizations/{org}/roles/{role}/organization_roles/member");
    c.expect(201, "PUT", &org_role, a, None);
    c.expect(
        201,
        "POST",
        &format!("{app_path}/organizations/{org}/roles/{role}/organization_roles/owner"),
        a,
        None,
    );
    c.expect(200, "GET", &format!("{app_path}/organizations"), a, None);
    c.expect(
        200,
        "GET",
        &format!("{app_path}/organizations/{org}/roles"),
        a,
        None,
    );

    // The PEP proxy, its token (by form) and its inspection.
    let pep_path = format!("{app_path}/pep_proxies");
    let pep = string_field(
        &c.expect(201, "POST", &pep_path, a, None)["pep_proxy"],
        "id",
    );
    c.expect(200, "GET", &pep_path, a, None);
    let password = string_field(&c.expect(200, "PATCH", &pep_path, a, None), "new_password");
    let resp = s
        .request("POST", "/v1/auth/tokens")
        .form(&[("name", pep.as_str()), ("password", password.as_str())])
        .send();
    let pep_token = resp.assert_status(201).header("x-subject-token").unwrap();
    let op = c.operation("POST", "/v1/auth/tokens").clone();
    let schema = &op.doc["responses"]["201"]["content"]["application/json"]["schema"];
    assert_matches(&c.doc, schema, &resp.json(), "form login");
    let form_schema =
        &op.doc["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_matches(
        &c.doc,
        form_schema,
        &json!({"name": pep, "password": password}),
        "form",
    );
    let headers = [("X-Subject-Token", pep_token.as_str())];
    let resp = c.send_with("GET", "/v1/auth/tokens", Some(&pep_token), None, &headers);
    assert_eq!(resp.assert_status(200).json()["PepProxy"]["id"], pep);

    // IoT agents, trusted applications, the service provider configuration.
    let iot_path = format!("{app_path}/iot_agents");
    let iot = string_field(
        &c.expect(201, "POST", &iot_path, a, None)["iot_agent"],
        "id",
    );
    c.expect(200, "GET", &iot_path, a, None);
    c.expect(200, "GET", &format!("{iot_path}/{iot}"), a, None);
    c.expect(200, "PATCH", &format!("{iot_path}/{iot}"), a, None);
    let trusted = format!("{app_path}/trusted_applications/{other}");
    c.expect(201, "PUT", &trusted, a, None);
    c.expect(204, "DELETE", &trusted, a, None);
    c.expect(201, "POST", &trusted, a, None);
    c.expect(
        200,
        "GET",
        &format!("{app_path}/trusted_applications"),
        a,
        None,
    );
    c.expect(400, "PUT", &trusted, a, None);
    c.expect(200, "GET", "/v1/service_providers/configs", a, None);

    // Failures, each in the envelope its operation documents.
    c.send("GET", "/v1/users", None, None).assert_status(400);
    c.send("GET", "/v1/users", Some("no-such-token"), None)
        .assert_status(404);
    c.send("GET", "/v1/users", Some(&pep_token), None)
        .assert_status(403);
    let resp = c.send("POST", "/v1/users", Some(a), Some(&least));
    resp.assert_status(409);
    let resp = c.send(
        "POST",
        "/v1/users",
        Some(a),
        Some(&json!({"user": {"username": "x"}})),
    );
    resp.assert_status(400);
    let too_large = json!({"user": {"username": "x".repeat(1024 * 1024 + 1)}});
    c.send("POST", "/v1/users", Some(a), Some(&too_large))
        .assert_status(413);
    c.send("GET", &format!("{app_path}/iot_agents/none"), Some(a), None)
        .assert_status(404);
    let bad = json!({"name": "nobody@example.org", "password": "x"});
    c.send("POST", "/v1/auth/tokens", None, Some(&bad))
        .assert_status(401);
    let headers = [("X-Subject-Token", "none")];
    c.send_with("GET", "/v1/auth/tokens", Some(a), None, &headers)
        .assert_status(401);

    // Everything removed again, each DELETE answering 204 without a body.
    for path in [
        trusted.clone(),
        format!("{iot_path}/{iot}"),
        pep_path.clone(),
        org_role.clone(),
        member.clone(),
        format!("{org_path}/users/{carol}/organization_roles/owner"),
        assignment.clone(),
        link.clone(),
        permission_path.clone(),
        role_path.clone(),
        org_path.clone(),
        app_path.clone(),
        bob_path.clone(),
    ] {
        c.expect(204, "DELETE", &path, a, None);
    }
    let headers = [("X-Subject-Token", second.as_str())];
    c.send_with("DELETE", "/v1/auth/tokens", Some(a), None, &headers)
        .assert_no_content();

    // Every documented `/v1` operation answered with its success status at least once.
    let missing: Vec<String> = c
        .ops
        .iter()
        .filter(|op| op.path.starts_with("/v1"))
        .filter(|op| {
            !op.doc["responses"]
                .as_object()
                .unwrap()
                .keys()
                .filter_map(|k| k.parse::<u16>().ok())
                .filter(|k| (200..300).contains(k))
                .any(|k| c.seen.contains(&(operation_id(op).to_owned(), k)))
        })
        .map(Operation::name)
        .collect();
    assert!(
        missing.is_empty(),
        "never answered with success: {missing:?}"
    );
}
