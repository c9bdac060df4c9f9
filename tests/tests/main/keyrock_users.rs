//! `/v1/users` (keyrock.md 4.3), over HTTP.

use tessera_tests::{json, keys, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

fn create(server: &Server, token: &str, user: serde_json::Value) -> tessera_tests::Resp {
    server
        .request("POST", "/v1/users")
        .token(token)
        .json(&json!({ "user": user }))
        .send()
}

#[test]
fn admin_creates_a_user_who_can_log_in_at_once() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let resp = create(
        &server,
        &admin,
        json!({"username": "alice", "email": "Alice@Example.org", "password": "test",
               "description": "first", "website": "https://alice.example.org",
               "gravatar": true, "extra": {"team": "blue"}, "admin": true, "enabled": false}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let user = &resp.json()["user"];
    assert_eq!(
        keys(user),
        [
            "admin",
            "date_password",
            "description",
            "eidas_id",
            "email",
            "enabled",
            "extra",
            "gravatar",
            "id",
            "image",
            "starters_tour_ended",
            "username",
            "website"
        ]
    );
    assert_eq!(
        uuid::Uuid::parse_str(user["id"].as_str().unwrap())
            .unwrap()
            .get_version_num(),
        4
    );
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "Alice@Example.org", "stored as given");
    assert_eq!(user["description"], "first");
    assert_eq!(user["website"], "https://alice.example.org");
    assert_eq!(user["image"], "default");
    assert_eq!(user["gravatar"], true);
    assert_eq!(user["enabled"], true, "enabled cannot be set");
    assert_eq!(user["admin"], false, "admin cannot be set");
    assert_eq!(user["starters_tour_ended"], false);
    assert_eq!(user["eidas_id"], serde_json::Value::Null);
    assert_eq!(user["extra"], json!({"team": "blue"}));
    assert!(user["date_password"].as_str().unwrap().ends_with('Z'));
    // Enabled immediately, with a 4-character password, email matched case-insensitively.
    server.login("alice@example.org", "test");
}

#[test]
fn only_admins_list_and_create_users() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let bob = server.login("bob@example.org", "bobpw");

    let list = server.request("GET", "/v1/users").token(&admin).send();
    assert_eq!(list.status, 200);
    let users = list.json()["users"].as_array().unwrap().clone();
    assert_eq!(users.len(), 2);
    assert_eq!(
        keys(&users[1]),
        [
            "date_password",
            "description",
            "email",
            "enabled",
            "gravatar",
            "id",
            "username",
            "website"
        ]
    );
    assert_eq!(users[0]["id"], "admin");
    assert_eq!(users[1]["id"], bob_id.as_str());
    assert!(users
        .iter()
        .all(|u| u.get("password").is_none() && u.get("salt").is_none()));
    assert!(!list.body.contains("$2"), "no hash: {}", list.body);

    server
        .request("GET", "/v1/users")
        .token(&bob)
        .send()
        .assert_keyrock_error(403, "User not authorized to perform action");
    create(
        &server,
        &bob,
        json!({"username": "x", "email": "x@example.org", "password": "x"}),
    )
    .assert_keyrock_error(403, "User not authorized to perform action");
    // The 403 comes before body validation.
    create(&server, &bob, json!({}))
        .assert_keyrock_error(403, "User not authorized to perform action");
    // Nothing was created.
    assert_eq!(
        server
            .request("GET", "/v1/users")
            .token(&admin)
            .send()
            .json()["users"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn create_validation_follows_keyrocks_order_and_messages() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let missing_user = server
        .request("POST", "/v1/users")
        .token(&admin)
        .json(&json!({"username": "x"}))
        .send();
    missing_user.assert_keyrock_error(400, "Missing parameter user in body request");
    let cases = [
        (
            json!({}),
            "Missing parameter username in body request or empty username",
        ),
        (
            json!({"username": "", "email": "", "password": ""}),
            "Missing parameter username in body request or empty username",
        ),
        (
            json!({"username": "x"}),
            "Missing parameter password in body request or empty password",
        ),
        (
            json!({"username": "x", "email": "x@example.org", "password": ""}),
            "Missing parameter password in body request or empty password",
        ),
        (
            json!({"username": "x", "password": "x"}),
            "Missing parameter email in body request or empty email",
        ),
        (
            json!({"username": "x".repeat(65), "email": "not-an-email", "password": "x"}),
            "Username must be at most 64 characters",
        ),
        (
            json!({"username": "x", "email": "not-an-email", "password": "x"}),
            "Email not valid",
        ),
        (
            json!({"username": "x", "email": "a b@example.org", "password": "x"}),
            "Email not valid",
        ),
        (
            json!({"username": "x", "email": "x@nodot", "password": "x"}),
            "Email not valid",
        ),
        (
            json!({"username": "x", "email": "@example.org", "password": "x"}),
            "Email not valid",
        ),
    ];
    for (user, message) in cases {
        create(&server, &admin, user.clone()).assert_keyrock_error(400, message);
    }
    // 64 characters is fine; localhost domains are fine.
    let ok = create(
        &server,
        &admin,
        json!({"username": "y".repeat(64), "email": "y@localhost", "password": "y"}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
    // Emails are unique, case-insensitively.
    create(
        &server,
        &admin,
        json!({"username": "z", "email": "Y@LOCALHOST", "password": "z"}),
    )
    .assert_keyrock_error(409, "Email already used");
    create(
        &server,
        &admin,
        json!({"username": "z", "email": ADMIN_EMAIL, "password": "z"}),
    )
    .assert_keyrock_error(409, "Email already used");
}

#[test]
fn reading_a_user_is_for_the_user_and_admins() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let carol_id = server.create_user(&admin, "carol", "carol@example.org", "carolpw");
    let bob = server.login("bob@example.org", "bobpw");

    let own = server
        .request("GET", &format!("/v1/users/{bob_id}"))
        .token(&bob)
        .send();
    assert_eq!(own.status, 200);
    let user = &own.json()["user"];
    assert_eq!(
        keys(user),
        [
            "admin",
            "date_password",
            "description",
            "email",
            "enabled",
            "extra",
            "gravatar",
            "id",
            "image",
            "username",
            "website"
        ]
    );
    assert_eq!(user["username"], "bob");
    assert_eq!(user["admin"], false);
    let by_admin = server
        .request("GET", &format!("/v1/users/{bob_id}"))
        .token(&admin)
        .send();
    assert_eq!(by_admin.status, 200);
    assert_eq!(by_admin.json()["user"]["email"], "bob@example.org");
    let admin_self = server
        .request("GET", "/v1/users/admin")
        .token(&admin)
        .send();
    assert_eq!(admin_self.json()["user"]["admin"], true);

    server
        .request("GET", &format!("/v1/users/{carol_id}"))
        .token(&bob)
        .send()
        .assert_keyrock_error(403, "User not authorized to perform action");
    // Not found is checked first, even for a caller who could not read it anyway.
    server
        .request("GET", "/v1/users/no-such-user")
        .token(&bob)
        .send()
        .assert_keyrock_error(404, "User not found");
}

#[test]
fn patch_reports_exactly_the_changed_fields() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let bob = server.login("bob@example.org", "bobpw");
    let path = format!("/v1/users/{bob_id}");
    let patch = |token: &str, body: serde_json::Value| {
        server
            .request("PATCH", &path)
            .token(token)
            .json(&body)
            .send()
    };

    let resp = patch(
        &bob,
        json!({"user": {"username": "robert", "email": "bob@example.org", "description": "hi",
                        "gravatar": true, "extra": {"a": 1}, "admin": true, "enabled": false}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"values_updated": {"username": "robert", "description": "hi", "gravatar": true, "extra": {"a": 1}}})
    );
    // admin and enabled were ignored.
    let after = server.request("GET", &path).token(&admin).send().json();
    assert_eq!(after["user"]["admin"], false);
    assert_eq!(after["user"]["enabled"], true);
    assert_eq!(after["user"]["username"], "robert");

    // The same values again: nothing changes.
    let same = patch(&bob, json!({"user": {"username": "robert", "admin": true}}));
    assert_eq!(same.status, 200);
    assert_eq!(
        same.json(),
        json!({"message": "Request don't change the user parameters", "code": 200, "title": "OK"})
    );

    // The admin changes the email; the new one logs in, case-insensitively.
    let email = patch(
        &admin,
        json!({"user": {"email": "Robert@Example.org", "website": "w"}}),
    );
    assert_eq!(
        email.json(),
        json!({"values_updated": {"email": "Robert@Example.org", "website": "w"}})
    );
    server.login("robert@example.org", "bobpw");

    // A password change answers an empty values_updated and moves date_password.
    let before =
        server.request("GET", &path).token(&admin).send().json()["user"]["date_password"].clone();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let pw = patch(&bob, json!({"user": {"password": "new-password"}}));
    assert_eq!(pw.status, 200, "{}", pw.body);
    assert_eq!(pw.json(), json!({"values_updated": {}}));
    assert!(!pw.body.contains("new-password"));
    let after =
        server.request("GET", &path).token(&admin).send().json()["user"]["date_password"].clone();
    assert_ne!(before, after);
    server.login("robert@example.org", "new-password");
    let old = server
        .request("POST", "/v1/auth/tokens")
        .json(&json!({"name": "robert@example.org", "password": "bobpw"}))
        .send();
    old.assert_keyrock_error(401, "Invalid email or password");
}

#[test]
fn patch_refuses_bad_bodies_and_foreign_callers() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let carol_id = server.create_user(&admin, "carol", "carol@example.org", "carolpw");
    let bob = server.login("bob@example.org", "bobpw");
    let path = format!("/v1/users/{bob_id}");
    let patch = |token: &str, path: &str, body: serde_json::Value| {
        server
            .request("PATCH", path)
            .token(token)
            .json(&body)
            .send()
    };
    let cases = [
        (
            json!({"username": "x"}),
            "Missing parameter user in body request",
        ),
        (
            json!({"user": "x"}),
            "Missing parameter user in body request",
        ),
        (
            json!({"user": {"id": "other", "username": ""}}),
            "Cannot set id",
        ),
        (
            json!({"user": {"username": "", "email": ""}}),
            "Cannot set empty username",
        ),
        (
            json!({"user": {"email": "", "password": ""}}),
            "Cannot set empty email",
        ),
        (
            json!({"user": {"password": ""}}),
            "Cannot set empty password",
        ),
        (
            json!({"user": {"username": "u".repeat(65), "email": "bad"}}),
            "Username must be at most 64 characters",
        ),
        (json!({"user": {"email": "bad"}}), "Email not valid"),
    ];
    for (body, message) in cases {
        patch(&bob, &path, body.clone()).assert_keyrock_error(400, message);
    }
    patch(&bob, &path, json!({"user": {"email": "CAROL@example.org"}}))
        .assert_keyrock_error(409, "Email already used");
    // Another user's record: 403; an unknown one: 404 (checked first).
    patch(
        &bob,
        &format!("/v1/users/{carol_id}"),
        json!({"user": {"username": "x"}}),
    )
    .assert_keyrock_error(403, "User not authorized to perform action");
    patch(&bob, "/v1/users/nobody", json!({"user": {"username": "x"}}))
        .assert_keyrock_error(404, "User not found");
    // Nothing changed through any of those.
    let carol = server
        .request("GET", &format!("/v1/users/{carol_id}"))
        .token(&admin)
        .send()
        .json();
    assert_eq!(carol["user"]["username"], "carol");
    let bob_now = server.request("GET", &path).token(&admin).send().json();
    assert_eq!(bob_now["user"]["email"], "bob@example.org");
}

#[test]
fn delete_removes_the_user_and_its_tokens() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob_id = server.create_user(&admin, "bob", "bob@example.org", "bobpw");
    let carol_id = server.create_user(&admin, "carol", "carol@example.org", "carolpw");
    let bob = server.login("bob@example.org", "bobpw");
    let carol = server.login("carol@example.org", "carolpw");

    server
        .request("DELETE", &format!("/v1/users/{carol_id}"))
        .token(&bob)
        .send()
        .assert_keyrock_error(403, "User not authorized to perform action");
    server
        .request("DELETE", "/v1/users/nobody")
        .token(&bob)
        .send()
        .assert_keyrock_error(404, "User not found");

    // A user deletes himself: his tokens go with him.
    let resp = server
        .request("DELETE", &format!("/v1/users/{bob_id}"))
        .token(&bob)
        .send();
    assert_eq!(resp.status, 204);
    assert!(resp.body.is_empty());
    server
        .request("GET", "/v1")
        .token(&bob)
        .send()
        .assert_keyrock_error(404, "Token not found");
    server
        .request("GET", &format!("/v1/users/{bob_id}"))
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "User not found");
    server
        .request("POST", "/v1/auth/tokens")
        .json(&json!({"name": "bob@example.org", "password": "bobpw"}))
        .send()
        .assert_keyrock_error(401, "Invalid email or password");

    // The admin deletes another user.
    assert_eq!(
        server
            .request("DELETE", &format!("/v1/users/{carol_id}"))
            .token(&admin)
            .send()
            .status,
        204
    );
    server
        .request("GET", "/v1")
        .token(&carol)
        .send()
        .assert_keyrock_error(404, "Token not found");
    // The email is free again.
    server.create_user(&admin, "bob2", "bob@example.org", "again");
    server.login(ADMIN_EMAIL, ADMIN_PASSWORD);
}
