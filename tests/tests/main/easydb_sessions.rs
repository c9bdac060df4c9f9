//! easydb sessions over HTTP (easydb-rights.md 4): start, read, language, log in by
//! username or e-mail (query, form body, both), the order of the login checks, log out,
//! the session object, lifetime, the end of a deleted user's sessions, and effective
//! system rights read from the store on every request, also across two server processes.

use std::time::Duration;

use tessera_tests::easydb::*;
use tessera_tests::time::{now_ms, sleep_until};
use tessera_tests::{json, Options, Server, World, ADMIN_EMAIL, ADMIN_PASSWORD};

#[test]
fn a_new_session_is_unauthenticated_and_reads_back_by_its_token() {
    let (s, _db) = Server::start();
    let resp = s.easydb_start();
    resp.assert_status(200);
    resp.assert_json_type();
    let session = resp.json();
    let token = session["token"].as_str().expect("token").to_owned();
    assert_token_shape(&token);
    assert_unauthenticated(&session, &token, "en-US");
    assert_eq!(s.easydb_session_of(&token), session);

    // Every start makes another session.
    let other = s.easydb_session();
    assert_token_shape(&other);
    assert_ne!(other, token);

    // An unknown token names no session; the id is the token as given.
    for bad in [
        "nope",
        "Q2h5bW9zLXRva2VuLWV4YW1wbGUtMDAwMDAwMDAwMDE",
        &token[..42],
    ] {
        let resp = s.easydb_get("/api/v1/session", bad);
        assert_user_error(&resp, "session_not_found", json!({ "id": bad }));
    }
}

#[test]
fn language_is_set_at_start_and_on_read() {
    let (s, _db) = Server::start();
    let german = s.get("/api/v1/session?language=de-DE");
    german.assert_status(200);
    let token = german.json()["token"].as_str().unwrap().to_owned();
    assert_unauthenticated(&german.json(), &token, "de-DE");
    assert_eq!(s.easydb_session_of(&token)["frontend_language"], "de-DE");

    let path = with_query(
        "/api/v1/session",
        &[("token", &token), ("language", "en-US")],
    );
    let english = s.get(&path);
    english.assert_status(200);
    assert_eq!(english.json()["frontend_language"], "en-US");
    // The switch is stored.
    assert_eq!(s.easydb_session_of(&token)["frontend_language"], "en-US");

    // Unsupported languages, at start and on read; the session keeps its language.
    let resp = s.get("/api/v1/session?language=fr-FR");
    assert_user_error(&resp, "language_not_found", json!({"id": "fr-FR"}));
    let path = with_query(
        "/api/v1/session",
        &[("token", &token), ("language", "fr-FR")],
    );
    assert_user_error(&s.get(&path), "language_not_found", json!({"id": "fr-FR"}));
    assert_eq!(s.easydb_session_of(&token)["frontend_language"], "en-US");

    // A logged-in session switches too.
    let admin = s.easydb_admin();
    let path = with_query(
        "/api/v1/session",
        &[("token", &admin), ("language", "de-DE")],
    );
    let resp = s.get(&path);
    resp.assert_status(200);
    assert_eq!(resp.json()["frontend_language"], "de-DE");
    assert!(resp.json().get("authenticated").is_some(), "{}", resp.body);
}

#[test]
fn login_by_username_or_email_shows_the_authenticated_session() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let bob = s.easydb_user(&admin, bob_id);
    assert_eq!(bob["user"]["login"], "bob");

    // By username.
    let token = s.easydb_session();
    let before = now_ms() / 1000;
    let resp = s.easydb_authenticate(&token, "bob", "bob-pw");
    resp.assert_status(200);
    resp.assert_json_type();
    let after = now_ms() / 1000;
    let at = assert_authenticated(&resp.json(), &token, &bob, &json!({}));
    assert!(
        before - 1 <= at && at <= after + 1,
        "{at} not in {before}..{after}"
    );
    assert_eq!(resp.json()["frontend_language"], "en-US");
    // Reading it gives the same session.
    assert_eq!(s.easydb_session_of(&token), resp.json());

    // By e-mail, whatever its case.
    for email in ["bob@test.com", "BOB@Test.COM"] {
        let token = s.easydb_session();
        let resp = s.easydb_authenticate(&token, email, "bob-pw");
        resp.assert_status(200);
        assert_authenticated(&resp.json(), &token, &bob, &json!({}));
    }
    // A username with a space logs in exactly as written; another case is no username.
    let alice_id = s.easydb_user_id(&admin, &w.alice_id);
    let alice = s.easydb_user(&admin, alice_id);
    let token = s.easydb_login("Alice Smith", "alice-pw");
    assert_authenticated(&s.easydb_session_of(&token), &token, &alice, &json!({}));
    let token = s.easydb_session();
    let resp = s.easydb_authenticate(&token, "alice smith", "alice-pw");
    assert_user_error(&resp, "login_failed", json!({}));
}

#[test]
fn the_bootstrap_admin_holds_root_and_has_the_lowest_id() {
    let (s, _db) = Server::start();
    let _w = World::new(&s);
    for login in [ADMIN_LOGIN, ADMIN_EMAIL] {
        let token = s.easydb_login(login, ADMIN_PASSWORD);
        let session = s.easydb_session_of(&token);
        assert_eq!(session["system_rights"], json!({"system.root": {}}));
        let user = &session["user"]["user"];
        assert_eq!(user["login"], ADMIN_LOGIN);
        assert_eq!(user["keyrock_id"], ADMIN_KEYROCK_ID);
        assert_eq!(user["_primary_email"], ADMIN_EMAIL);
        assert_eq!(user["type"], "easydb");
        let ids: Vec<i64> = s
            .easydb_users(&token)
            .iter()
            .map(|u| u["user"]["_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 5);
        assert_eq!(Some(&user["_id"].as_i64().unwrap()), ids.iter().min());
    }
}

#[test]
fn login_checks_run_in_order_and_failures_leave_the_session_alone() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let token = s.easydb_session();
    let auth = |params: &[(&str, &str)]| {
        s.request("POST", &with_query("/api/v1/session/authenticate", params))
            .send()
    };

    // 1. token.
    let resp = auth(&[("token", "nope"), ("method", "ldap"), ("login", "")]);
    assert_user_error(&resp, "session_not_found", json!({"id": "nope"}));
    // 2. method: only easydb; the first unsupported one is named.
    let resp = auth(&[("token", &token), ("method", "ldap"), ("login", "")]);
    assert_user_error(
        &resp,
        "authentication_method_not_allowed",
        json!({"method": "ldap"}),
    );
    let resp = auth(&[("token", &token), ("method", "easydb,ldap,sso")]);
    assert_user_error(
        &resp,
        "authentication_method_not_allowed",
        json!({"method": "ldap"}),
    );
    let ok = auth(&[
        ("token", &token),
        ("method", "easydb"),
        ("login", "bob"),
        ("password", "bob-pw"),
    ]);
    ok.assert_status(200);
    s.easydb("POST", "/api/v1/session/deauthenticate", &token)
        .send()
        .assert_status(200);
    // 3. empty login or password.
    for params in [
        vec![("token", token.as_str())],
        vec![("token", &token), ("login", "nobody")],
        vec![("token", &token), ("password", "x")],
        vec![("token", &token), ("login", ""), ("password", "bob-pw")],
        vec![("token", &token), ("login", "bob"), ("password", "")],
    ] {
        let resp = auth(&params);
        assert_user_error(&resp, "username_or_password_empty", json!({}));
    }
    // 4. credentials: one answer for an unknown login and a wrong password.
    let unknown = s.easydb_authenticate(&token, "nobody", "bob-pw");
    assert_user_error(&unknown, "login_failed", json!({}));
    let wrong = s.easydb_authenticate(&token, "bob", "alice-pw");
    assert_user_error(&wrong, "login_failed", json!({}));
    assert_eq!(unknown.json(), wrong.json());
    // No root impersonation.
    let resp = s.easydb_authenticate(&token, "bob", &format!("admin/{ADMIN_PASSWORD}"));
    assert_user_error(&resp, "login_failed", json!({}));
    let resp = s.easydb_authenticate(&token, "bob", &format!("{ADMIN_EMAIL}/{ADMIN_PASSWORD}"));
    assert_user_error(&resp, "login_failed", json!({}));
    // 5. a disabled user (no API changes `enabled`, keyrock.md 4.3): credentials first.
    db.set_user_enabled(&w.dave_id, false);
    let resp = s.easydb_authenticate(&token, "dave", "wrong");
    assert_user_error(&resp, "login_failed", json!({}));
    let resp = s.easydb_authenticate(&token, "dave", "dave-pw");
    assert_user_error(&resp, "login_disabled", json!({}));
    let resp = s.easydb_authenticate(&token, "dave@test.com", "dave-pw");
    assert_user_error(&resp, "login_disabled", json!({}));

    // None of it logged the session in.
    assert_unauthenticated(&s.easydb_session_of(&token), &token, "en-US");
    db.set_user_enabled(&w.dave_id, true);
    s.easydb_authenticate(&token, "dave", "dave-pw")
        .assert_status(200);
}

#[test]
fn authenticate_takes_query_form_body_or_both_and_the_body_wins() {
    let (s, _db) = Server::start();
    let _w = World::new(&s);
    let authenticate = "/api/v1/session/authenticate";
    let is_bob = |session: &serde_json::Value| session["user"]["user"]["login"] == "bob";

    // All in the form body.
    let token = s.easydb_session();
    let resp = s
        .request("POST", authenticate)
        .form(&[("token", &token), ("login", "bob"), ("password", "bob-pw")])
        .send();
    resp.assert_status(200);
    assert!(is_bob(&resp.json()), "{}", resp.body);
    assert_eq!(resp.json()["token"], token.as_str());

    // Split: the token in the query, the credentials in the body.
    let token = s.easydb_session();
    let resp = s
        .request("POST", &with_query(authenticate, &[("token", &token)]))
        .form(&[("login", "bob@test.com"), ("password", "bob-pw")])
        .send();
    resp.assert_status(200);
    assert!(is_bob(&resp.json()), "{}", resp.body);

    // Both carry the password: the body's counts.
    let token = s.easydb_session();
    let query = [
        ("token", token.as_str()),
        ("login", "bob"),
        ("password", "wrong"),
    ];
    let resp = s
        .request("POST", &with_query(authenticate, &query))
        .form(&[("password", "bob-pw")])
        .send();
    resp.assert_status(200);
    let query = [
        ("token", token.as_str()),
        ("login", "bob"),
        ("password", "bob-pw"),
    ];
    let resp = s
        .request("POST", &with_query(authenticate, &query))
        .form(&[("password", "wrong")])
        .send();
    assert_user_error(&resp, "login_failed", json!({}));
    // The login too: the query names bob, the body the admin.
    let token = s.easydb_session();
    let query = [("token", token.as_str()), ("login", "bob")];
    let resp = s
        .request("POST", &with_query(authenticate, &query))
        .form(&[("login", ADMIN_LOGIN), ("password", ADMIN_PASSWORD)])
        .send();
    resp.assert_status(200);
    assert_eq!(resp.json()["user"]["user"]["login"], ADMIN_LOGIN);
    // The body's token too.
    let other = s.easydb_session();
    let resp = s
        .request("POST", &with_query(authenticate, &[("token", "nope")]))
        .form(&[("token", &other), ("login", "bob"), ("password", "bob-pw")])
        .send();
    resp.assert_status(200);
    assert_eq!(resp.json()["token"], other.as_str());

    // Unsupported parameters are ignored.
    let token = s.easydb_session();
    let resp = s
        .request("POST", authenticate)
        .form(&[
            ("token", &token),
            ("login", "bob"),
            ("password", "bob-pw"),
            ("remember_me", "1"),
            ("success", "http://elsewhere/"),
            ("error", "http://elsewhere/"),
            ("response_type", "code"),
            ("log_event", "x"),
        ])
        .send();
    resp.assert_status(200);
    assert!(is_bob(&resp.json()), "{}", resp.body);
}

#[test]
fn the_token_survives_login_and_logout() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob = s.easydb_user(&admin, s.easydb_user_id(&admin, &w.bob_id));
    let carol = s.easydb_user(&admin, s.easydb_user_id(&admin, &w.carol_id));
    let logout = |token: &str| {
        s.easydb("POST", "/api/v1/session/deauthenticate", token)
            .send()
    };

    // Logging out an unauthenticated session changes nothing.
    let token = s.easydb_session();
    let resp = logout(&token);
    resp.assert_status(200);
    resp.assert_json_type();
    assert_unauthenticated(&resp.json(), &token, "en-US");

    s.easydb_authenticate(&token, "bob", "bob-pw")
        .assert_status(200);
    s.easydb_get("/api/v1/right", &token).assert_status(200);
    let resp = logout(&token);
    resp.assert_status(200);
    assert_unauthenticated(&resp.json(), &token, "en-US");
    assert_unauthenticated(&s.easydb_session_of(&token), &token, "en-US");
    assert_user_error(
        &s.easydb_get("/api/v1/right", &token),
        "not_authenticated",
        json!({}),
    );
    // Twice is fine.
    assert_unauthenticated(&logout(&token).json(), &token, "en-US");

    // The same token logs in again, and a second login replaces the user.
    let resp = s.easydb_authenticate(&token, "bob", "bob-pw");
    assert_authenticated(&resp.json(), &token, &bob, &json!({}));
    let resp = s.easydb_authenticate(&token, "carol@test.com", "carol-pw");
    assert_authenticated(&resp.json(), &token, &carol, &json!({}));
    assert_authenticated(&s.easydb_session_of(&token), &token, &carol, &json!({}));
    // A failed login keeps the user that was logged in.
    let resp = s.easydb_authenticate(&token, "bob", "wrong");
    assert_user_error(&resp, "login_failed", json!({}));
    assert_authenticated(&s.easydb_session_of(&token), &token, &carol, &json!({}));

    // Logging out an unknown token.
    assert_user_error(&logout("nope"), "session_not_found", json!({"id": "nope"}));
}

#[test]
fn a_session_expires_after_its_lifetime_and_a_login_restarts_it() {
    let s = Server::start_with(Options::default().env("TESSERA_SESSION_LIFETIME", "1"));
    let (s, _db) = s;
    let plain = s.easydb_session();
    let logged = s.easydb_admin();
    s.easydb_get("/api/v1/right", &logged).assert_status(200);
    std::thread::sleep(Duration::from_millis(2100));
    for token in [&plain, &logged] {
        let resp = s.easydb_get("/api/v1/session", token);
        assert_user_error(&resp, "session_not_found", json!({ "id": token }));
        let resp = s.easydb_get("/api/v1/right", token);
        assert_user_error(&resp, "session_not_found", json!({ "id": token }));
        let resp = s.easydb_authenticate(token, ADMIN_LOGIN, ADMIN_PASSWORD);
        assert_user_error(&resp, "session_not_found", json!({ "id": token }));
    }

    // A login restarts the lifetime (3 s here): a session logged in 1.5 s after its start
    // lives past 3 s from the start; one that was not logged in does not.
    let (s, _db) = Server::start_with(Options::default().env("TESSERA_SESSION_LIFETIME", "3"));
    let start = now_ms();
    let plain = s.easydb_session();
    let relogged = s.easydb_session();
    sleep_until(start + 1500);
    s.easydb_authenticate(&relogged, ADMIN_LOGIN, ADMIN_PASSWORD)
        .assert_status(200);
    sleep_until(start + 4100);
    let resp = s.easydb_get("/api/v1/session", &plain);
    assert_user_error(&resp, "session_not_found", json!({ "id": plain }));
    s.easydb_get("/api/v1/right", &relogged).assert_status(200);
}

#[test]
fn deleting_the_user_ends_its_sessions() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let first = s.easydb_login("bob", "bob-pw");
    let second = s.easydb_login("bob@test.com", "bob-pw");
    let carol = s.easydb_login("dave", "dave-pw");
    s.request("DELETE", &format!("/v1/users/{}", w.bob_id))
        .token(&w.admin)
        .send()
        .assert_no_content();
    for token in [&first, &second] {
        let resp = s.easydb_get("/api/v1/session", token);
        assert_user_error(&resp, "session_not_found", json!({ "id": token }));
        let resp = s.easydb_get("/api/v1/right", token);
        assert_user_error(&resp, "session_not_found", json!({ "id": token }));
    }
    // Another user's session lives on.
    s.easydb_get("/api/v1/right", &carol).assert_status(200);
}

#[test]
fn groups_in_the_session_and_rights_from_another_process_on_the_next_request() {
    let (a, db) = Server::start();
    let b = Server::start_on(&db, Options::default());
    let w = World::new(&a);
    let admin = b.easydb_admin();
    let bob_id = b.easydb_user_id(&admin, &w.bob_id);

    // Bob belongs to an organization he owns and one he is a member of.
    let (owned, owned_id) = a.easydb_new_group(&w.bob, &admin, "bobs");
    let (joined, joined_id) = a.easydb_new_group(&w.alice, &admin, "alices");
    a.add_member(&w.alice, &joined, &w.bob_id);
    let mut groups = vec![
        short_group(owned_id, "bobs", &owned),
        short_group(joined_id, "alices", &joined),
    ];
    groups.sort_by_key(|g| g["group"]["_id"].as_i64());

    let token = a.easydb_login("bob", "bob-pw");
    let bob = a.easydb_user(&admin, bob_id);
    assert_eq!(bob["_groups"], json!(groups));
    assert_authenticated(&a.easydb_session_of(&token), &token, &bob, &json!({}));
    assert_no_right(
        &a.post_presets(&token, "object", &json!([])),
        "system.rightpresetmanager",
    );

    // The other process grants; bob's session sees it on its next request, on both.
    let granted = b.grant_user(&admin, bob_id, json!({"system.rightpresetmanager": {}}));
    assert_eq!(granted["user"]["_version"], 2);
    let bob = a.easydb_user(&admin, bob_id);
    let rights = json!({"system.rightpresetmanager": {}});
    assert_authenticated(&a.easydb_session_of(&token), &token, &bob, &rights);
    assert_authenticated(&b.easydb_session_of(&token), &token, &bob, &rights);
    assert_eq!(
        a.save_presets(&token, "object", &json!([])),
        Vec::<serde_json::Value>::new()
    );

    // And takes it away again.
    b.grant_user(&admin, bob_id, json!({}));
    let bob = a.easydb_user(&admin, bob_id);
    assert_eq!(bob["user"]["_version"], 3);
    assert_authenticated(&a.easydb_session_of(&token), &token, &bob, &json!({}));
    assert_no_right(
        &a.post_presets(&token, "object", &json!([])),
        "system.rightpresetmanager",
    );

    // Leaving an organization shows on the next request too.
    a.request(
        "DELETE",
        &format!(
            "/v1/organizations/{joined}/users/{}/organization_roles/member",
            w.bob_id
        ),
    )
    .token(&w.alice)
    .send()
    .assert_no_content();
    let session = a.easydb_session_of(&token);
    assert_eq!(
        session["groups"],
        json!([short_group(owned_id, "bobs", &owned)])
    );
}

#[test]
fn authenticate_also_takes_a_json_object_of_strings_and_needs_a_token() {
    let (s, _db) = Server::start();
    let token = s.easydb_session();
    let json_login = |body: serde_json::Value| {
        s.request(
            "POST",
            &with_query("/api/v1/session/authenticate", &[("token", &token)]),
        )
        .json(&body)
        .send()
    };
    // A value that is no string is refused, and the session stays unauthenticated.
    assert_api_error(
        &json_login(json!({"login": "admin", "password": 7})),
        "type_mismatch",
    );
    assert!(s.easydb_session_of(&token).get("authenticated").is_none());
    assert_api_error(&json_login(json!(["admin"])), "type_mismatch");
    let session = json_login(json!({"login": "admin", "password": ADMIN_PASSWORD}))
        .assert_status(200)
        .json();
    assert_eq!(session["token"], token.as_str());
    assert_eq!(session["user"]["user"]["login"], "admin");
    // No token anywhere: not authenticated (§1), for log in and log out alike.
    for path in [
        "/api/v1/session/authenticate",
        "/api/v1/session/deauthenticate",
    ] {
        let resp = s
            .request("POST", path)
            .form(&[("login", "admin"), ("password", ADMIN_PASSWORD)])
            .send();
        assert_easydb_error(&resp, "user", "error.user.not_authenticated", json!({}));
    }
}
