//! `/v1/auth/tokens` and the `/v1` request rules (keyrock.md 1.2, 1.4, 4.1), over HTTP.

use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{oauth_clients, pep_proxies, users};
use tessera_tests::keyrock::{INVALID_LOGIN as INVALID, JSON_TYPE_MISSING, NOT_PERMITTED};
use tessera_tests::time::{parse_time, sleep_until};
use tessera_tests::{
    json, keys, Options, Resp, Server, TestDb, World, ADMIN_EMAIL, ADMIN_PASSWORD,
};

const NO_TOKEN: &str = "Expecting to find X-Auth-token/Authorization in requests";

/// Registers an application with a PEP proxy straight in the store (the PEP proxy API is
/// another suite's); returns (pep id, password).
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

/// `METHOD /v1/auth/tokens` with an optional caller token and subject token.
fn tokens(s: &Server, method: &str, auth: Option<&str>, subject: Option<&str>) -> Resp {
    let mut req = s.request(method, "/v1/auth/tokens");
    if let Some(a) = auth {
        req = req.token(a);
    }
    if let Some(subject) = subject {
        req = req.header("X-Subject-Token", subject);
    }
    req.send()
}

/// A password login of the admin: (token, `expires_at` in milliseconds).
fn admin_login(s: &Server) -> (String, i64) {
    let resp = s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD);
    let expires = parse_time(&resp.assert_status(201).json()["token"]["expires_at"]);
    (resp.header("x-subject-token").unwrap(), expires)
}

#[test]
fn password_login_returns_a_token_header_and_keyrock_body() {
    let (s, _db) = Server::start();
    let resp = s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD);
    let body = resp.assert_status(201).json();
    let token = resp.header("x-subject-token").unwrap();
    assert_eq!(uuid::Uuid::parse_str(&token).unwrap().get_version_num(), 4);
    assert_eq!(body["token"]["methods"], json!(["password"]));
    // `2018-10-22T14:20:59.790Z`, in the future.
    assert!(parse_time(&body["token"]["expires_at"]) > tessera_tests::time::now_ms());
    assert_eq!(
        body["idm_authorization_config"],
        json!({"level": "basic", "authzforce": false})
    );
    // The token works on the API.
    s.keyrock("GET", "/v1", &token).assert_status(200);
}

#[test]
fn login_accepts_form_bodies_and_matches_emails_case_insensitively() {
    let (s, _db) = Server::start();
    let form = format!("name=ADMIN%40Localhost&password={ADMIN_PASSWORD}");
    let resp = s
        .request("POST", "/v1/auth/tokens")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(form.into_bytes())
        .send();
    assert!(resp.assert_status(201).header("x-subject-token").is_some());
}

#[test]
fn token_method_mints_a_new_token_for_the_same_owner() {
    let (s, _db) = Server::start();
    let first = s.admin_token();
    let resp = s.try_login(&json!({"token": first}));
    assert_eq!(
        resp.assert_status(201).json()["token"]["methods"],
        json!(["token"])
    );
    let second = resp.header("x-subject-token").unwrap();
    assert_ne!(first, second);
    assert_eq!(s.inspect(&second).json()["User"]["id"], "admin");

    // Both methods for one owner: methods in the order password, token.
    let both = json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "token": first});
    let both = s.try_login(&both).assert_status(201).json();
    assert_eq!(both["token"]["methods"], json!(["password", "token"]));

    // Both methods, different owners.
    World::new(&s);
    let mixed = json!({"name": "bob@test.com", "password": "bob-pw", "token": first});
    s.try_login(&mixed)
        .assert_keyrock_error(401, "Token not correspond to user");
}

#[test]
fn every_login_failure_is_invalid_email_or_password() {
    let (s, db) = Server::start();
    let bob = World::new(&s).bob_id;
    for body in [
        json!({"name": ADMIN_EMAIL, "password": "wrong"}),
        json!({"name": "nobody@example.org", "password": "whatever"}),
        json!({"name": ADMIN_EMAIL}),
        json!({"password": ADMIN_PASSWORD}),
        json!({}),
        json!({"name": ADMIN_EMAIL, "password": ""}),
        json!({"token": "00000000-0000-4000-8000-000000000000"}),
        json!({"name": 5, "password": true}),
        json!(["not", "an", "object"]),
    ] {
        s.try_login(&body).assert_keyrock_error(401, INVALID);
    }
    // Malformed JSON; right credentials with the wrong Content-Type.
    let right = json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).to_string();
    for (content_type, body) in [
        ("application/json", "{\"name\":".to_owned()),
        ("text/plain", right),
    ] {
        s.request("POST", "/v1/auth/tokens")
            .header("Content-Type", content_type)
            .raw(body.into_bytes())
            .send()
            .assert_keyrock_error(401, INVALID);
    }
    // A disabled user cannot log in, with the right password.
    diesel::update(users::table)
        .filter(users::id.eq(&bob))
        .set(users::enabled.eq(false))
        .execute(&mut *db.conn())
        .unwrap();
    s.try_password("bob@test.com", "bob-pw")
        .assert_keyrock_error(401, INVALID);
}

#[test]
fn pep_proxies_log_in_by_id_and_wrong_passwords_say_invalid_id() {
    let (s, db) = Server::start();
    let (pep, password) = insert_pep_proxy(&db, "app-1");
    let resp = s.try_password(&pep, &password);
    let token = resp.assert_status(201).header("x-subject-token").unwrap();
    s.try_password(&pep, "wrong")
        .assert_keyrock_error(401, "Invalid id or password");
    // PEP ids are matched exactly.
    s.try_password(&pep.to_uppercase(), &password)
        .assert_keyrock_error(401, INVALID);

    // A PEP proxy inspects its own token...
    let body = s.inspect(&token).assert_status(200).json();
    assert_eq!(body["PepProxy"], json!({"id": pep}));
    assert!(body.get("User").is_none());
    // ...but may call nothing else.
    s.keyrock("GET", "/v1", &token)
        .assert_keyrock_error(403, NOT_PERMITTED);
    s.request("GET", "/v1/users")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .assert_keyrock_error(403, NOT_PERMITTED);
}

#[test]
fn legacy_keyrock_password_hashes_verify_and_are_upgraded() {
    let (s, db) = Server::start();
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
    s.try_password("legacy@test.com", "nope")
        .assert_keyrock_error(401, INVALID);
    s.login("legacy@test.com", "test");
    let (hash, stored_salt): (Option<String>, Option<String>) = users::table
        .filter(users::id.eq("legacy-user"))
        .select((users::password_hash, users::password_salt))
        .first(&mut *db.conn())
        .unwrap();
    assert!(hash.unwrap().starts_with("$2"), "replaced by bcrypt");
    assert_eq!(stored_salt, None);
    s.login("legacy@test.com", "test");
}

#[test]
fn get_token_info_shows_the_subject_and_masks_every_failure() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, carol) = (&w.admin, &w.bob, &w.carol);

    let body = s.inspect(bob).assert_status(200).json();
    assert_eq!(body["access_token"], bob.as_str());
    assert_eq!(body["valid"], true);
    parse_time(&body["expires"]);
    let user = &body["User"];
    let fields = [
        "admin",
        "date_password",
        "email",
        "enabled",
        "id",
        "username",
    ];
    assert_eq!(keys(user), fields);
    assert_eq!(user["id"], w.bob_id.as_str());
    assert_eq!(user["admin"], false);

    // An admin may inspect any user's token, with Authorization: Bearer too.
    let by_admin = s
        .request("GET", "/v1/auth/tokens")
        .header("Authorization", &format!("Bearer {admin}"))
        .header("X-Subject-Token", bob)
        .send();
    assert_eq!(
        by_admin.assert_status(200).json()["User"]["username"],
        "bob"
    );

    let unknown = "00000000-0000-4000-8000-000000000000";
    for (auth, subject) in [
        (Some(carol.as_str()), Some(bob.as_str())), // not owner, not admin
        (Some(bob), None),                          // no subject
        (None, Some(bob)),                          // no caller token
        (Some(unknown), Some(bob)),                 // unknown caller
        (Some(bob), Some(unknown)),                 // unknown subject
    ] {
        tokens(&s, "GET", auth, subject).assert_keyrock_error(401, INVALID);
    }
}

#[test]
fn delete_token_reports_each_failure_and_revokes() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, carol) = (&w.admin, &w.bob, &w.carol);
    let unknown = "00000000-0000-4000-8000-000000000000";
    let delete = |auth: Option<&str>, subject: Option<&str>| tokens(&s, "DELETE", auth, subject);
    delete(Some(bob), None)
        .assert_keyrock_error(400, "Expecting to find X-Subject-token in requests");
    delete(None, Some(bob)).assert_keyrock_error(400, NO_TOKEN);
    delete(Some(unknown), Some(bob)).assert_keyrock_error(404, "Auth Token not found");
    delete(Some(bob), Some(unknown)).assert_keyrock_error(404, "Subject Token not found");
    delete(Some(carol), Some(bob))
        .assert_keyrock_error(403, "User must be admin or owner of the two tokens");

    let (pep_a, pw_a) = insert_pep_proxy(&db, "app-a");
    let (pep_b, pw_b) = insert_pep_proxy(&db, "app-b");
    let pep_a_token = s.login(&pep_a, &pw_a);
    let pep_b_token = s.login(&pep_b, &pw_b);
    delete(Some(&pep_a_token), Some(&pep_b_token))
        .assert_keyrock_error(403, "Pep Proxy must be owner of the two tokens");
    let not_same = "Subject and auth token are not owned by the same entity";
    delete(Some(admin), Some(&pep_a_token)).assert_keyrock_error(403, not_same);
    delete(Some(&pep_a_token), Some(bob)).assert_keyrock_error(403, not_same);

    // Successes: own token, a PEP proxy's own token, an admin deleting a user's token.
    let bob2 = s.login("bob@test.com", "bob-pw");
    delete(Some(bob), Some(&bob2)).assert_status(204);
    delete(Some(&pep_a_token), Some(&pep_a_token)).assert_status(204);
    delete(Some(admin), Some(carol)).assert_status(204);
    // Deleted tokens are refused from now on.
    for token in [&bob2, carol] {
        s.keyrock("GET", "/v1", token)
            .assert_keyrock_error(404, "Token not found");
    }
    let again = s.try_login(&json!({"token": pep_a_token}));
    assert_eq!(again.status, 401, "a deleted PEP token cannot mint another");
    // Deleting an already deleted token: the subject is not found.
    delete(Some(bob), Some(&bob2)).assert_keyrock_error(404, "Subject Token not found");
}

#[test]
fn expired_tokens_are_refused_everywhere_with_keyrock_messages() {
    let (s, _db) = Server::start_with(Options::default().env("TESSERA_API_TOKEN_LIFETIME", "1"));
    // Every wait is computed from the expires_at the API reports.
    let (admin, expires) = admin_login(&s);
    sleep_until(expires + 1);
    // A caller token past its lifetime.
    s.keyrock("GET", "/v1", &admin)
        .assert_keyrock_error(401, "Token has expired");
    s.request("GET", "/v1/users")
        .header("Authorization", &format!("Bearer {admin}"))
        .send()
        .assert_keyrock_error(401, "Token has expired");
    // The token method with an expired token.
    s.try_login(&json!({"token": admin}))
        .assert_keyrock_error(401, "Token has expired");
    // DELETE with an expired caller token; GET masks it.
    let (new, new_expires) = admin_login(&s);
    tokens(&s, "DELETE", Some(&admin), Some(&new))
        .assert_keyrock_error(401, "Auth Token has expired");
    tokens(&s, "GET", Some(&admin), Some(&new)).assert_keyrock_error(401, INVALID);
    // An expired subject is "not found".
    sleep_until(new_expires + 1);
    let current = s.admin_token();
    tokens(&s, "DELETE", Some(&current), Some(&new))
        .assert_keyrock_error(404, "Subject Token not found");
    // No sliding renewal: the lifetime is fixed from creation.
    let resp = s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD);
    let expires = resp.json()["token"]["expires_at"].clone();
    let token = resp.header("x-subject-token").unwrap();
    assert_eq!(s.inspect(&token).json()["expires"], expires);
}

#[test]
fn v1_index_and_caller_rules() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    assert_eq!(
        s.keyrock("GET", "/v1", &admin).assert_status(200).json(),
        json!({
            "auth_url": "/v1/auth",
            "access_tokens_url": "/v1/access-tokens",
            "applications_url": "/v1/applications",
            "organizations_url": "/v1/organizations",
            "service_providers_url": "/v1/service_providers",
            "users_url": "/v1/users",
        })
    );
    s.get("/v1").assert_keyrock_error(400, NO_TOKEN);
    s.keyrock("GET", "/v1", "not-a-token")
        .assert_keyrock_error(404, "Token not found");
    // Authorization: Bearer wins over X-Auth-Token when both are sent.
    s.request("GET", "/v1")
        .header("Authorization", &format!("Bearer {admin}"))
        .token("not-a-token")
        .send()
        .assert_status(200);
    // Header names are case-insensitive.
    s.request("GET", "/v1")
        .header("x-auth-token", &admin)
        .send()
        .assert_status(200);
}

#[test]
fn content_type_token_and_json_checks_run_in_keyrock_order() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let body = json!({"user": {"username": "x", "email": "x@example.org", "password": "x"}});
    let body = body.to_string().into_bytes();
    let send = |method: &str, path: &str, token: Option<&str>, ct: Option<&str>, body: &[u8]| {
        let mut req = s.request(method, path).raw(body.to_vec());
        if let Some(t) = token {
            req = req.token(t);
        }
        if let Some(ct) = ct {
            req = req.header("Content-Type", ct);
        }
        req.send()
    };
    // Wrong Content-Type is reported before the missing token.
    send("POST", "/v1/users", None, Some("text/plain"), &body)
        .assert_keyrock_error(400, JSON_TYPE_MISSING);
    // No Content-Type at all, on PATCH, with a token.
    send("PATCH", "/v1/users/admin", Some(&admin), None, &body)
        .assert_keyrock_error(400, JSON_TYPE_MISSING);
    // The missing token is reported before the malformed body.
    send(
        "POST",
        "/v1/users",
        None,
        Some("application/json"),
        b"{not json",
    )
    .assert_keyrock_error(400, NO_TOKEN);
    let json_utf8 = Some("application/json; charset=utf-8");
    send("POST", "/v1/users", Some(&admin), json_utf8, b"{not json")
        .assert_keyrock_error(400, "Malformed JSON body");
    // An empty body with the JSON Content-Type is {}.
    s.keyrock("POST", "/v1/users", &admin)
        .assert_keyrock_error(400, "Missing parameter user in body request");
}

#[test]
fn oversized_bodies_get_413_in_the_keyrock_envelope() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let big = format!(
        "{{\"user\":{{\"username\":\"{}\"}}}}",
        "x".repeat(2 * 1024 * 1024)
    );
    for (path, token) in [("/v1/users", Some(&admin)), ("/v1/auth/tokens", None)] {
        let mut req = s.request("POST", path);
        if let Some(t) = token {
            req = req.token(t);
        }
        req.header("Content-Type", "application/json")
            .raw(big.clone().into_bytes())
            .send()
            .assert_keyrock_error(413, "Request body too large");
    }
    // The server is still fine afterwards.
    s.keyrock("GET", "/v1", &admin).assert_status(200);
}

#[test]
fn unknown_paths_and_methods_answer_the_json_envelope() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    for path in [
        "/v1/nope",
        "/v1/users/admin/extra",
        "/v1/access-tokens/abc",
        "/v3/nope",
        "/v1/auth",
    ] {
        s.keyrock("GET", path, &admin)
            .assert_keyrock_error(404, "Path not found");
    }
    // No token is needed to learn a path does not exist.
    s.get("/v1/nope")
        .assert_keyrock_error(404, "Path not found");
    s.keyrock("PUT", "/v1/users", &admin)
        .assert_keyrock_error(405, "Method not allowed");
    s.request("PATCH", "/v1/auth/tokens")
        .send()
        .assert_keyrock_error(405, "Method not allowed");
}

#[test]
fn v3_alias_and_trailing_slashes_behave_like_v1() {
    let (s, _db) = Server::start();
    let body = json!({"name": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let resp = s.request("POST", "/v3/auth/tokens").json(&body).send();
    let token = resp.assert_status(201).header("x-subject-token").unwrap();
    for path in ["/v3/users", "/v1/users/", "/v3/users/admin/", "/v1/"] {
        let resp = s.keyrock("GET", path, &token);
        assert_eq!(resp.status, 200, "{path}: {}", resp.body);
    }
    s.keyrock("GET", "/v3/users/nobody", &token)
        .assert_keyrock_error(404, "User not found");
}
