//! `/v1/users` (keyrock.md 4.3), over HTTP.

use serde_json::Value;
use tessera_tests::keyrock::{INVALID_LOGIN, NOT_AUTHORIZED};
use tessera_tests::time::{parse_time, pause};
use tessera_tests::{json, keys, Resp, Server, World, ADMIN_EMAIL, ADMIN_PASSWORD};

fn create(s: &Server, token: &str, user: Value) -> Resp {
    s.send_json("POST", "/v1/users", token, &json!({ "user": user }))
}

/// The fields of one user as its own read shows them (creation adds `eidas_id` and
/// `starters_tour_ended`; the list leaves out `admin`, `extra` and `image`).
const USER_KEYS: [&str; 11] = [
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
    "website",
];

#[test]
fn admin_creates_a_user_who_can_log_in_at_once() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let resp = create(
        &s,
        &admin,
        json!({"username": "alice", "email": "Alice@Example.org", "password": "test",
               "description": "first", "website": "https://alice.example.org",
               "gravatar": true, "extra": {"team": "blue"}, "admin": true, "enabled": false}),
    );
    let user = &resp.assert_status(201).json()["user"];
    let mut created = USER_KEYS.to_vec();
    created.extend(["eidas_id", "starters_tour_ended"]);
    assert_eq!(keys(user), tessera_tests::sorted(&created));
    let id = user["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "Alice@Example.org", "stored as given");
    assert_eq!(user["description"], "first");
    assert_eq!(user["website"], "https://alice.example.org");
    assert_eq!(user["image"], "default");
    assert_eq!(user["gravatar"], true);
    assert_eq!(user["enabled"], true, "enabled cannot be set");
    assert_eq!(user["admin"], false, "admin cannot be set");
    assert_eq!(user["starters_tour_ended"], false);
    assert_eq!(user["eidas_id"], Value::Null);
    assert_eq!(user["extra"], json!({"team": "blue"}));
    parse_time(&user["date_password"]);
    // Enabled immediately, with a 4-character password, email matched case-insensitively.
    s.login("alice@example.org", "test");
}

#[test]
fn only_admins_list_and_create_users() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob) = (&w.admin, &w.bob);
    let list = || s.keyrock("GET", "/v1/users", admin);

    let resp = list();
    let users = resp.assert_status(200).json()["users"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(users.len(), 5);
    let listed: Vec<&str> = USER_KEYS
        .into_iter()
        .filter(|k| !["admin", "extra", "image"].contains(k))
        .collect();
    assert_eq!(keys(&users[1]), listed);
    let ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["admin", &w.alice_id, &w.bob_id, &w.carol_id, &w.dave_id]
    );
    let hidden = |u: &Value| u.get("password").is_none() && u.get("salt").is_none();
    assert!(users.iter().all(hidden));
    assert!(!resp.body.contains("$2"), "no hash: {}", resp.body);

    s.keyrock("GET", "/v1/users", bob)
        .assert_keyrock_error(403, NOT_AUTHORIZED);
    let x = json!({"username": "x", "email": "x@example.org", "password": "x"});
    create(&s, bob, x).assert_keyrock_error(403, NOT_AUTHORIZED);
    // The 403 comes before body validation.
    create(&s, bob, json!({})).assert_keyrock_error(403, NOT_AUTHORIZED);
    // Nothing was created.
    assert_eq!(list().json()["users"].as_array().unwrap().len(), 5);
}

#[test]
fn create_validation_follows_keyrocks_order_and_messages() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    s.send_json("POST", "/v1/users", &admin, &json!({"username": "x"}))
        .assert_keyrock_error(400, "Missing parameter user in body request");
    let missing = |what: &str| format!("Missing parameter {what} in body request or empty {what}");
    let (bad_email, long) = ("Email not valid".to_owned(), "x".repeat(65));
    for (user, message) in [
        (json!({}), missing("username")),
        (
            json!({"username": "", "email": "", "password": ""}),
            missing("username"),
        ),
        (json!({"username": "x"}), missing("password")),
        (
            json!({"username": "x", "email": "x@example.org", "password": ""}),
            missing("password"),
        ),
        (json!({"username": "x", "password": "x"}), missing("email")),
        (
            json!({"username": long, "email": "not-an-email", "password": "x"}),
            "Username must be at most 64 characters".to_owned(),
        ),
        (
            json!({"username": "x", "email": "not-an-email", "password": "x"}),
            bad_email.clone(),
        ),
        (
            json!({"username": "x", "email": "a b@example.org", "password": "x"}),
            bad_email.clone(),
        ),
        (
            json!({"username": "x", "email": "x@nodot", "password": "x"}),
            bad_email.clone(),
        ),
        (
            json!({"username": "x", "email": "@example.org", "password": "x"}),
            bad_email,
        ),
    ] {
        create(&s, &admin, user).assert_keyrock_error(400, &message);
    }
    // 64 characters is fine; localhost domains are fine.
    let ok = json!({"username": "y".repeat(64), "email": "y@localhost", "password": "y"});
    create(&s, &admin, ok).assert_status(201);
    // Emails are unique, case-insensitively.
    for email in ["Y@LOCALHOST", ADMIN_EMAIL] {
        create(
            &s,
            &admin,
            json!({"username": "z", "email": email, "password": "z"}),
        )
        .assert_keyrock_error(409, "Email already used");
    }
}

#[test]
fn reading_a_user_is_for_the_user_and_admins() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, bob_id, carol_id) = (&w.admin, &w.bob, &w.bob_id, &w.carol_id);
    let path = format!("/v1/users/{bob_id}");

    let own = s.keyrock("GET", &path, bob).assert_status(200).json();
    let user = &own["user"];
    assert_eq!(keys(user), USER_KEYS);
    assert_eq!(user["username"], "bob");
    assert_eq!(user["admin"], false);
    let by_admin = s.keyrock("GET", &path, admin);
    assert_eq!(
        by_admin.assert_status(200).json()["user"]["email"],
        "bob@test.com"
    );
    let admin_self = s.keyrock("GET", "/v1/users/admin", admin);
    assert_eq!(admin_self.json()["user"]["admin"], true);

    s.keyrock("GET", &format!("/v1/users/{carol_id}"), bob)
        .assert_keyrock_error(403, NOT_AUTHORIZED);
    // Not found is checked first, even for a caller who could not read it anyway.
    s.keyrock("GET", "/v1/users/no-such-user", bob)
        .assert_keyrock_error(404, "User not found");
}

#[test]
fn patch_reports_exactly_the_changed_fields() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob) = (&w.admin, &w.bob);
    let path = format!("/v1/users/{}", w.bob_id);
    let patch =
        |token: &str, user: Value| s.send_json("PATCH", &path, token, &json!({ "user": user }));
    let read = || s.keyrock("GET", &path, admin).json()["user"].clone();

    let resp = patch(
        bob,
        json!({"username": "robert", "email": "bob@test.com", "description": "hi",
               "gravatar": true, "extra": {"a": 1}, "admin": true, "enabled": false}),
    );
    assert_eq!(
        resp.assert_status(200).json(),
        json!({"values_updated": {"username": "robert", "description": "hi", "gravatar": true, "extra": {"a": 1}}})
    );
    // admin and enabled were ignored.
    let after = read();
    assert_eq!(after["admin"], false);
    assert_eq!(after["enabled"], true);
    assert_eq!(after["username"], "robert");

    // The same values again: nothing changes.
    let same = patch(bob, json!({"username": "robert", "admin": true}));
    let message = "Request don't change the user parameters";
    assert_eq!(
        same.assert_status(200).json(),
        json!({"message": message, "code": 200, "title": "OK"})
    );

    // The admin changes the email; the new one logs in, case-insensitively.
    let email = patch(
        admin,
        json!({"email": "Robert@Example.org", "website": "w"}),
    );
    assert_eq!(
        email.json(),
        json!({"values_updated": {"email": "Robert@Example.org", "website": "w"}})
    );
    s.login("robert@example.org", "bob-pw");

    // A password change answers an empty values_updated and moves date_password.
    let before = parse_time(&read()["date_password"]);
    pause();
    let pw = patch(bob, json!({"password": "new-password"}));
    assert_eq!(pw.assert_status(200).json(), json!({"values_updated": {}}));
    assert!(!pw.body.contains("new-password"));
    assert!(parse_time(&read()["date_password"]) > before);
    s.login("robert@example.org", "new-password");
    s.try_password("robert@example.org", "bob-pw")
        .assert_keyrock_error(401, INVALID_LOGIN);
}

#[test]
fn patch_refuses_bad_bodies_and_foreign_callers() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, carol_id) = (&w.admin, &w.carol_id);
    let path = format!("/v1/users/{}", w.bob_id);
    let patch = |path: &str, body: Value| s.send_json("PATCH", path, &w.bob, &body);
    let no_user = "Missing parameter user in body request";
    for (body, message) in [
        (json!({"username": "x"}), no_user),
        (json!({"user": "x"}), no_user),
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
    ] {
        patch(&path, body).assert_keyrock_error(400, message);
    }
    patch(&path, json!({"user": {"email": "CAROL@test.com"}}))
        .assert_keyrock_error(409, "Email already used");
    // Another user's record: 403; an unknown one: 404 (checked first).
    let rename = json!({"user": {"username": "x"}});
    patch(&format!("/v1/users/{carol_id}"), rename.clone())
        .assert_keyrock_error(403, NOT_AUTHORIZED);
    patch("/v1/users/nobody", rename).assert_keyrock_error(404, "User not found");
    // Nothing changed through any of those.
    let carol = s
        .keyrock("GET", &format!("/v1/users/{carol_id}"), admin)
        .json();
    assert_eq!(carol["user"]["username"], "Carol Ann Lee");
    let bob_now = s.keyrock("GET", &path, admin).json();
    assert_eq!(bob_now["user"]["email"], "bob@test.com");
}

#[test]
fn delete_removes_the_user_and_its_tokens() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, bob_id, carol_id) = (&w.admin, &w.bob, &w.bob_id, &w.carol_id);
    let token_gone = |token: &str| {
        s.keyrock("GET", "/v1", token)
            .assert_keyrock_error(404, "Token not found")
    };

    s.keyrock("DELETE", &format!("/v1/users/{carol_id}"), bob)
        .assert_keyrock_error(403, NOT_AUTHORIZED);
    s.keyrock("DELETE", "/v1/users/nobody", bob)
        .assert_keyrock_error(404, "User not found");

    // A user deletes himself: his tokens go with him.
    s.keyrock("DELETE", &format!("/v1/users/{bob_id}"), bob)
        .assert_no_content();
    token_gone(bob);
    s.keyrock("GET", &format!("/v1/users/{bob_id}"), admin)
        .assert_keyrock_error(404, "User not found");
    s.try_password("bob@test.com", "bob-pw")
        .assert_keyrock_error(401, INVALID_LOGIN);

    // The admin deletes another user.
    s.keyrock("DELETE", &format!("/v1/users/{carol_id}"), admin)
        .assert_status(204);
    token_gone(&w.carol);
    // The email is free again.
    s.create_user(admin, "bob2", "bob@test.com", "again");
    s.login(ADMIN_EMAIL, ADMIN_PASSWORD);
}
