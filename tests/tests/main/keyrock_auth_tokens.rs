//! `/v1/auth/tokens` and the `/v1` request rules (keyrock.md 1.2, 1.4, 4.1), over HTTP.

use std::time::Duration;

use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{oauth_clients, pep_proxies, users};
use tessera_tests::{json, Options, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

const INVALID: &str = "Invalid email or password";

fn login_resp(server: &Server, body: serde_json::Value) -> tessera_tests::Resp {
    server.request("POST", "/v1/auth/tokens").json(&body).send()
}

/// Registers an application with a PEP proxy straight in the store (the PEP proxy API is
/// another issue's); returns (pep id, password).
fn insert_pep_proxy(db: &TestDb, app_id: &str) -> (String, String) {
    let mut conn = db.conn();
    diesel::insert_into(oauth_clients::table)
        .values((oauth_clients::id.eq(app_id), oauth_clients::name.eq(app_id)))
        .execute(&mut *conn)
        .unwrap();
    let id = format!("pep_proxy_{}", uuid::Uuid::new_v4());
    let password = format!("pep_proxy_{}", uuid::Uuid::new_v4());
    diesel::insert_into(pep_proxies::table)
        .values((
            pep_proxies::id.eq(&id),
            pep_proxies::password_digest.eq(auth_core::secrets::sha256_hex(&password)),
            pep_proxies::oauth_client_id.eq(app_id),
        ))
        .execute(&mut *conn)
        .unwrap();
    (id, password)
}

#[test]
fn password_login_returns_a_token_header_and_keyrock_body() {
    let (server, _db) = Server::start();
    let resp = login_resp(
        &server,
        json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let token = resp.header("x-subject-token").unwrap();
    let parsed = uuid::Uuid::parse_str(&token).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
    let body = resp.json();
    assert_eq!(body["token"]["methods"], json!(["password"]));
    let expires = body["token"]["expires_at"].as_str().unwrap();
    assert!(
        expires.len() == 24 && expires.ends_with('Z') && expires.as_bytes()[19] == b'.',
        "{expires}"
    );
    assert_eq!(
        body["idm_authorization_config"],
        json!({"level": "basic", "authzforce": false})
    );
    // The token works on the API.
    assert_eq!(
        server.request("GET", "/v1").token(&token).send().status,
        200
    );
}

#[test]
fn login_accepts_form_bodies_and_matches_emails_case_insensitively() {
    let (server, _db) = Server::start();
    let form = format!("name=ADMIN%40Localhost&password={ADMIN_PASSWORD}");
    let resp = server
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(form.into_bytes())
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert!(resp.header("x-subject-token").is_some());
}

#[test]
fn token_method_mints_a_new_token_for_the_same_owner() {
    let (server, _db) = Server::start();
    let first = server.admin_token();
    let resp = login_resp(&server, json!({"token": first}));
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.json()["token"]["methods"], json!(["token"]));
    let second = resp.header("x-subject-token").unwrap();
    assert_ne!(first, second);
    let info = server
        .request("GET", "/v1/auth/tokens")
        .token(&second)
        .header("X-Subject-Token", &second)
        .send();
    assert_eq!(info.json()["User"]["id"], "admin");

    // Both methods for one owner: methods in the order password, token.
    let both = login_resp(
        &server,
        json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "token": first}),
    );
    assert_eq!(both.status, 201, "{}", both.body);
    assert_eq!(
        both.json()["token"]["methods"],
        json!(["password", "token"])
    );

    // Both methods, different owners.
    let admin = server.admin_token();
    server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let mixed = login_resp(
        &server,
        json!({"name": "bob@example.org", "password": "bobpw", "token": first}),
    );
    mixed.assert_keyrock_error(401, "Token not correspond to user");
}

#[test]
fn every_login_failure_is_invalid_email_or_password() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let cases = [
        json!({"name": ADMIN_EMAIL, "password": "wrong"}),
        json!({"name": "nobody@example.org", "password": "whatever"}),
        json!({"name": ADMIN_EMAIL}),
        json!({"password": ADMIN_PASSWORD}),
        json!({}),
        json!({"name": ADMIN_EMAIL, "password": ""}),
        json!({"token": "00000000-0000-4000-8000-000000000000"}),
        json!({"name": 5, "password": true}),
        json!(["not", "an", "object"]),
    ];
    for body in cases {
        login_resp(&server, body.clone()).assert_keyrock_error(401, INVALID);
    }
    // Malformed JSON.
    server
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "application/json")
        .raw(b"{\"name\":".to_vec())
        .send()
        .assert_keyrock_error(401, INVALID);
    // Right credentials, wrong Content-Type.
    server
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "text/plain")
        .raw(
            json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
                .to_string()
                .into_bytes(),
        )
        .send()
        .assert_keyrock_error(401, INVALID);
    // A disabled user cannot log in, with the right password.
    diesel::update(users::table)
        .filter(users::id.eq(&bob))
        .set(users::enabled.eq(false))
        .execute(&mut *db.conn())
        .unwrap();
    login_resp(
        &server,
        json!({"name": "bob@example.org", "password": "bobpw"}),
    )
    .assert_keyrock_error(401, INVALID);
}

#[test]
fn pep_proxies_log_in_by_id_and_wrong_passwords_say_invalid_id() {
    let (server, db) = Server::start();
    let (pep, password) = insert_pep_proxy(&db, "app-1");
    let resp = login_resp(&server, json!({"name": pep, "password": password}));
    assert_eq!(resp.status, 201, "{}", resp.body);
    let token = resp.header("x-subject-token").unwrap();
    login_resp(&server, json!({"name": pep, "password": "wrong"}))
        .assert_keyrock_error(401, "Invalid id or password");
    // PEP ids are matched exactly.
    login_resp(
        &server,
        json!({"name": pep.to_uppercase(), "password": password}),
    )
    .assert_keyrock_error(401, INVALID);

    // A PEP proxy inspects its own token...
    let info = server
        .request("GET", "/v1/auth/tokens")
        .token(&token)
        .header("X-Subject-Token", &token)
        .send();
    assert_eq!(info.status, 200, "{}", info.body);
    let body = info.json();
    assert_eq!(body["PepProxy"], json!({"id": pep}));
    assert!(body.get("User").is_none());
    // ...but may call nothing else.
    server
        .request("GET", "/v1")
        .token(&token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
    server
        .request("GET", "/v1/users")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
}

#[test]
fn legacy_keyrock_password_hashes_verify_and_are_upgraded() {
    let (server, db) = Server::start();
    let salt = "fbba54b6750b16e8";
    let legacy = auth_core::password::legacy_keyrock_hash("test", Some(salt));
    diesel::insert_into(users::table)
        .values((
            users::id.eq("legacy-user"),
            users::username.eq("legacy"),
            users::email.eq("legacy@test.com"),
            users::email_key.eq("legacy@test.com"),
            users::password_hash.eq(&legacy),
            users::password_salt.eq(salt),
        ))
        .execute(&mut *db.conn())
        .unwrap();
    login_resp(
        &server,
        json!({"name": "legacy@test.com", "password": "nope"}),
    )
    .assert_keyrock_error(401, INVALID);
    server.login("legacy@test.com", "test");
    let (hash, stored_salt): (Option<String>, Option<String>) = users::table
        .filter(users::id.eq("legacy-user"))
        .select((users::password_hash, users::password_salt))
        .first(&mut *db.conn())
        .unwrap();
    assert!(hash.unwrap().starts_with("$2"), "replaced by bcrypt");
    assert_eq!(stored_salt, None);
    server.login("legacy@test.com", "test");
}

#[test]
fn get_token_info_shows_the_subject_and_masks_every_failure() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    server.create_user(&admin, "carol", "carol@example.org", "carolpw");
    let bob = server.login("bob@example.org", "bobpw");
    let carol = server.login("carol@example.org", "carolpw");

    let own = server
        .request("GET", "/v1/auth/tokens")
        .token(&bob)
        .header("X-Subject-Token", &bob)
        .send();
    assert_eq!(own.status, 200, "{}", own.body);
    let body = own.json();
    assert_eq!(body["access_token"], bob);
    assert_eq!(body["valid"], true);
    assert!(body["expires"].as_str().unwrap().ends_with('Z'));
    let user = body["User"].as_object().unwrap();
    let mut keys: Vec<_> = user.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "admin",
            "date_password",
            "email",
            "enabled",
            "id",
            "username"
        ]
    );
    assert_eq!(user["id"], bob_id.as_str());
    assert_eq!(user["admin"], false);

    // An admin may inspect any user's token, with Authorization: Bearer too.
    let by_admin = server
        .request("GET", "/v1/auth/tokens")
        .header("Authorization", &format!("Bearer {admin}"))
        .header("X-Subject-Token", &bob)
        .send();
    assert_eq!(by_admin.status, 200);
    assert_eq!(by_admin.json()["User"]["username"], "bob");

    let cases: Vec<(Option<&str>, Option<&str>)> = vec![
        (Some(&carol), Some(&bob)), // not owner, not admin
        (Some(&bob), None),         // no subject
        (None, Some(&bob)),         // no caller token
        (Some("00000000-0000-4000-8000-000000000000"), Some(&bob)), // unknown caller
        (Some(&bob), Some("00000000-0000-4000-8000-000000000000")), // unknown subject
    ];
    for (auth, subject) in cases {
        let mut req = server.request("GET", "/v1/auth/tokens");
        if let Some(a) = auth {
            req = req.token(a);
        }
        if let Some(s) = subject {
            req = req.header("X-Subject-Token", s);
        }
        req.send().assert_keyrock_error(401, INVALID);
    }
}

#[test]
fn delete_token_reports_each_failure_and_revokes() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    server.create_user(&admin, "carol", "carol@example.org", "carolpw");
    let bob = server.login("bob@example.org", "bobpw");
    let carol = server.login("carol@example.org", "carolpw");
    let unknown = "00000000-0000-4000-8000-000000000000";
    let delete = |auth: Option<&str>, subject: Option<&str>| {
        let mut req = server.request("DELETE", "/v1/auth/tokens");
        if let Some(a) = auth {
            req = req.token(a);
        }
        if let Some(s) = subject {
            req = req.header("X-Subject-Token", s);
        }
        req.send()
    };
    delete(Some(&bob), None)
        .assert_keyrock_error(400, "Expecting to find X-Subject-token in requests");
    delete(None, Some(&bob)).assert_keyrock_error(
        400,
        "Expecting to find X-Auth-token/Authorization in requests",
    );
    delete(Some(unknown), Some(&bob)).assert_keyrock_error(404, "Auth Token not found");
    delete(Some(&bob), Some(unknown)).assert_keyrock_error(404, "Subject Token not found");
    delete(Some(&carol), Some(&bob))
        .assert_keyrock_error(403, "User must be admin or owner of the two tokens");

    let (pep_a, pw_a) = insert_pep_proxy(&db, "app-a");
    let (pep_b, pw_b) = insert_pep_proxy(&db, "app-b");
    let pep_a_token = server.login(&pep_a, &pw_a);
    let pep_b_token = server.login(&pep_b, &pw_b);
    delete(Some(&pep_a_token), Some(&pep_b_token))
        .assert_keyrock_error(403, "Pep Proxy must be owner of the two tokens");
    delete(Some(&admin), Some(&pep_a_token)).assert_keyrock_error(
        403,
        "Subject and auth token are not owned by the same entity",
    );
    delete(Some(&pep_a_token), Some(&bob)).assert_keyrock_error(
        403,
        "Subject and auth token are not owned by the same entity",
    );

    // Successes: own token, a PEP proxy's own token, an admin deleting a user's token.
    let bob2 = server.login("bob@example.org", "bobpw");
    assert_eq!(delete(Some(&bob), Some(&bob2)).status, 204);
    assert_eq!(delete(Some(&pep_a_token), Some(&pep_a_token)).status, 204);
    assert_eq!(delete(Some(&admin), Some(&carol)).status, 204);
    // Deleted tokens are refused from now on.
    server
        .request("GET", "/v1")
        .token(&bob2)
        .send()
        .assert_keyrock_error(404, "Token not found");
    server
        .request("GET", "/v1")
        .token(&carol)
        .send()
        .assert_keyrock_error(404, "Token not found");
    assert_eq!(
        login_resp(&server, json!({"token": pep_a_token})).status,
        401,
        "a deleted PEP token cannot mint another"
    );
    // Deleting an already deleted token: the subject is not found.
    delete(Some(&bob), Some(&bob2)).assert_keyrock_error(404, "Subject Token not found");
}

#[test]
fn expired_tokens_are_refused_everywhere_with_keyrock_messages() {
    let (server, _db) =
        Server::start_with(Options::default().env("TESSERA_API_TOKEN_LIFETIME", "1"));
    let admin = server.admin_token();
    let fresh_caller_for_later = admin.clone();
    std::thread::sleep(Duration::from_millis(1300));
    // A caller token past its lifetime.
    server
        .request("GET", "/v1")
        .token(&admin)
        .send()
        .assert_keyrock_error(401, "Token has expired");
    server
        .request("GET", "/v1/users")
        .header("Authorization", &format!("Bearer {admin}"))
        .send()
        .assert_keyrock_error(401, "Token has expired");
    // The token method with an expired token.
    login_resp(&server, json!({"token": admin})).assert_keyrock_error(401, "Token has expired");
    // DELETE with an expired caller token; GET masks it.
    let new = server.admin_token();
    server
        .request("DELETE", "/v1/auth/tokens")
        .token(&fresh_caller_for_later)
        .header("X-Subject-Token", &new)
        .send()
        .assert_keyrock_error(401, "Auth Token has expired");
    server
        .request("GET", "/v1/auth/tokens")
        .token(&fresh_caller_for_later)
        .header("X-Subject-Token", &new)
        .send()
        .assert_keyrock_error(401, INVALID);
    // An expired subject is "not found".
    std::thread::sleep(Duration::from_millis(1300));
    let current = server.admin_token();
    server
        .request("DELETE", "/v1/auth/tokens")
        .token(&current)
        .header("X-Subject-Token", &new)
        .send()
        .assert_keyrock_error(404, "Subject Token not found");
    // No sliding renewal: the lifetime is fixed from creation.
    let resp = login_resp(
        &server,
        json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    );
    let expires = resp.json()["token"]["expires_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = resp.header("x-subject-token").unwrap();
    let info = server
        .request("GET", "/v1/auth/tokens")
        .token(&token)
        .header("X-Subject-Token", &token)
        .send();
    assert_eq!(info.json()["expires"], expires.as_str());
}

#[test]
fn v1_index_and_caller_rules() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let resp = server.request("GET", "/v1").token(&admin).send();
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json(),
        json!({
            "auth_url": "/v1/auth",
            "access_tokens_url": "/v1/access-tokens",
            "applications_url": "/v1/applications",
            "organizations_url": "/v1/organizations",
            "service_providers_url": "/v1/service_providers",
            "users_url": "/v1/users",
        })
    );
    server.request("GET", "/v1").send().assert_keyrock_error(
        400,
        "Expecting to find X-Auth-token/Authorization in requests",
    );
    server
        .request("GET", "/v1")
        .token("not-a-token")
        .send()
        .assert_keyrock_error(404, "Token not found");
    // Authorization: Bearer wins over X-Auth-Token when both are sent.
    let resp = server
        .request("GET", "/v1")
        .header("Authorization", &format!("Bearer {admin}"))
        .token("not-a-token")
        .send();
    assert_eq!(resp.status, 200);
    // Header names are case-insensitive.
    assert_eq!(
        server
            .request("GET", "/v1")
            .header("x-auth-token", &admin)
            .send()
            .status,
        200
    );
}

#[test]
fn content_type_token_and_json_checks_run_in_keyrock_order() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let body =
        json!({"user": {"username": "x", "email": "x@example.org", "password": "x"}}).to_string();
    // Wrong Content-Type is reported before the missing token.
    server
        .request("POST", "/v1/users")
        .header("Content-Type", "text/plain")
        .raw(body.clone().into_bytes())
        .send()
        .assert_keyrock_error(
            400,
            "Missing parameter: header Content-Type: application/json",
        );
    // No Content-Type at all, on PATCH, with a token.
    server
        .request("PATCH", "/v1/users/admin")
        .token(&admin)
        .raw(body.clone().into_bytes())
        .send()
        .assert_keyrock_error(
            400,
            "Missing parameter: header Content-Type: application/json",
        );
    // The missing token is reported before the malformed body.
    server
        .request("POST", "/v1/users")
        .header("Content-Type", "application/json")
        .raw(b"{not json".to_vec())
        .send()
        .assert_keyrock_error(
            400,
            "Expecting to find X-Auth-token/Authorization in requests",
        );
    server
        .request("POST", "/v1/users")
        .token(&admin)
        .header("Content-Type", "application/json; charset=utf-8")
        .raw(b"{not json".to_vec())
        .send()
        .assert_keyrock_error(400, "Malformed JSON body");
    // An empty body with the JSON Content-Type is {}.
    server
        .request("POST", "/v1/users")
        .token(&admin)
        .header("Content-Type", "application/json")
        .send()
        .assert_keyrock_error(400, "Missing parameter user in body request");
}

#[test]
fn oversized_bodies_get_413_in_the_keyrock_envelope() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let big = format!(
        "{{\"user\":{{\"username\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    server
        .request("POST", "/v1/users")
        .token(&admin)
        .header("Content-Type", "application/json")
        .raw(big.clone().into_bytes())
        .send()
        .assert_keyrock_error(413, "Request body too large");
    server
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "application/json")
        .raw(big.into_bytes())
        .send()
        .assert_keyrock_error(413, "Request body too large");
    // The server is still fine afterwards.
    assert_eq!(
        server.request("GET", "/v1").token(&admin).send().status,
        200
    );
}

#[test]
fn unknown_paths_and_methods_answer_the_json_envelope() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    for path in [
        "/v1/nope",
        "/v1/users/admin/extra",
        "/v1/access-tokens/abc",
        "/v3/nope",
        "/v1/auth",
    ] {
        server
            .request("GET", path)
            .token(&admin)
            .send()
            .assert_keyrock_error(404, "Path not found");
    }
    // No token is needed to learn a path does not exist.
    server
        .request("GET", "/v1/nope")
        .send()
        .assert_keyrock_error(404, "Path not found");
    server
        .request("PUT", "/v1/users")
        .token(&admin)
        .header("Content-Type", "application/json")
        .send()
        .assert_keyrock_error(405, "Method not allowed");
    server
        .request("PATCH", "/v1/auth/tokens")
        .send()
        .assert_keyrock_error(405, "Method not allowed");
}

#[test]
fn v3_alias_and_trailing_slashes_behave_like_v1() {
    let (server, _db) = Server::start();
    let resp = server
        .request("POST", "/v3/auth/tokens")
        .json(&json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    let token = resp.header("x-subject-token").unwrap();
    for path in ["/v3/users", "/v1/users/", "/v3/users/admin/", "/v1/"] {
        let resp = server.request("GET", path).token(&token).send();
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
    }
    server
        .request("GET", "/v3/users/nobody")
        .token(&token)
        .send()
        .assert_keyrock_error(404, "User not found");
}
