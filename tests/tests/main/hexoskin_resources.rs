//! The Hexoskin family's `user`, `account`, `bundle` and `bundle_permission` resources over
//! HTTP (hexoskin-bundles.md §1, §2.1-§2.4, §4): bearer authentication with Keyrock API
//! tokens and OAuth2 access tokens, 405 decided before authentication, paths without the
//! final slash, bodies, the Tastypie list envelope (paging, filters, ordering), references,
//! who sees which user, the shipped bundles and their creation by admins, and bundle
//! permissions: granting, the existing triple, every field error, visibility, deletion, and
//! users deleted through Keyrock.

use serde_json::Value;
use tessera_tests::easydb::with_query;
use tessera_tests::hexoskin::*;
use tessera_tests::{json, keys, sorted, Resp, Server, TestDb};

const FRIEND_DESCRIPTION: &str = "Friends and relatives: may view the target's data";
const COACH_DESCRIPTION: &str = "Coach: may view the athlete's data";
const ADMIN_DESCRIPTION: &str = "Administrator: may view and edit the target's data";

// ---------------------------------------------------------------------------------------
// Helpers.

/// Asserts 405 with an error body and exactly these methods in `Allow` (1.5). Tessera
/// serves `HEAD` wherever it serves `GET` (every family's routes do), so `Allow` may list
/// it beside `GET`; the test of 405s checks that it is really served.
#[track_caller]
fn assert_405(resp: &Resp, allowed: &[&str]) {
    assert_plain_error(resp, 405, None);
    let allow = resp
        .header("allow")
        .unwrap_or_else(|| panic!("405 without Allow: {}", resp.body));
    let mut got: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    got.sort();
    if allowed.contains(&"GET") {
        got.retain(|m| m != "HEAD");
    }
    assert_eq!(got, sorted(allowed), "Allow: {allow}");
}

/// A GET with a bearer token that must answer 200 JSON; the body.
#[track_caller]
fn get(s: &Server, path: &str, token: &str) -> Value {
    let resp = call(s, "GET", path, token, None);
    resp.assert_status(200);
    assert_json_utf8(&resp);
    resp.json()
}

/// The ids of a list that must answer 200.
#[track_caller]
fn list_ids(s: &Server, path: &str, token: &str) -> Vec<i64> {
    ids(&get(s, path, token))
}

/// Asserts a 201: JSON, `Location` = server base + `resource_uri`; the body.
#[track_caller]
fn assert_created(s: &Server, resp: &Resp) -> Value {
    resp.assert_status(201);
    assert_json_utf8(resp);
    let body = resp.json();
    let uri = body["resource_uri"]
        .as_str()
        .unwrap_or_else(|| panic!("no resource_uri: {}", resp.body));
    assert_eq!(
        resp.header("location"),
        Some(format!("{}{uri}", s.base)),
        "Location of {}",
        resp.body
    );
    body
}

/// `by` grants `allowed` the bundle over `target`'s data, which must create it; the body.
#[track_caller]
fn granted(s: &Server, by: &Person, bundle: i64, allowed: &Person, target: &Person) -> Value {
    assert_created(s, &grant(s, by, bundle, allowed, target))
}

fn id_of(object: &Value) -> i64 {
    object["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id: {object}"))
}

fn permission_uri(id: i64) -> String {
    format!("/api/bundle_permission/{id}/")
}

fn post(s: &Server, path: &str, token: &str, body: &Value) -> Resp {
    call(s, "POST", path, token, Some(body))
}

/// The user object of 2.1.
fn user_json(p: &Person) -> Value {
    json!({"id": p.id, "username": p.username, "email": p.email, "first_name": "",
           "last_name": "", "resource_uri": p.uri()})
}

/// The shipped bundle `name`'s object as 2.3 lists it.
fn shipped(id: i64, name: &str) -> Value {
    let (permissions, description) = match name {
        "friend" => (json!(["read"]), FRIEND_DESCRIPTION),
        "coach" => (json!(["read"]), COACH_DESCRIPTION),
        "admin" => (json!(["read", "write"]), ADMIN_DESCRIPTION),
        _ => panic!("not shipped: {name}"),
    };
    json!({"id": id, "name": name, "description": description, "permissions": permissions,
           "resource_uri": bundle_uri(id)})
}

/// A user `username` with this e-mail (its own password), logged in with a Keyrock token.
fn person_with_email(s: &Server, admin: &Person, username: &str, email: &str) -> Person {
    let password = format!("{username}-password");
    let keyrock_id = s.create_user(&admin.token, username, email, &password);
    let token = s.login(email, &password);
    let account = get(s, "/api/account/", &token);
    Person {
        keyrock_id,
        id: id_of(&account["objects"][0]),
        username: username.to_owned(),
        email: email.to_owned(),
        token,
    }
}

/// Asserts the envelope of 1.4 and these meta numbers.
#[track_caller]
fn assert_page(list: &Value, limit: i64, offset: i64, total: i64) {
    assert_eq!(keys(list), sorted(&["meta", "objects"]), "{list}");
    let meta = &list["meta"];
    assert_eq!(
        keys(meta),
        sorted(&["limit", "next", "offset", "previous", "total_count"]),
        "{list}"
    );
    assert_eq!(meta["limit"], limit, "limit: {list}");
    assert_eq!(meta["offset"], offset, "offset: {list}");
    assert_eq!(meta["total_count"], total, "total_count: {list}");
    assert!(list["objects"].is_array(), "{list}");
}

/// A relative URI's path and its query pairs, sorted (parameter order is free).
fn split_uri(uri: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).unwrap_or_else(|e| panic!("query of {uri}: {e}"));
    pairs.sort();
    (path.to_owned(), pairs)
}

/// Asserts a `next`/`previous` link: `path` with the request's `params`, `limit` and this
/// `offset` (1.4).
#[track_caller]
fn assert_link(link: &Value, path: &str, params: &[(&str, &str)], limit: i64, offset: i64) {
    let text = link
        .as_str()
        .unwrap_or_else(|| panic!("expected a link, got {link}"));
    let mut expected: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| *k != "limit" && *k != "offset")
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    expected.push(("limit".to_owned(), limit.to_string()));
    expected.push(("offset".to_owned(), offset.to_string()));
    expected.sort();
    assert_eq!(split_uri(text), (path.to_owned(), expected), "link {text}");
}

/// The server, its database, the bootstrap admin, alice, bob, carol (`<name>@test.com`), and
/// the ids of the shipped bundles.
struct Family {
    s: Server,
    db: TestDb,
    admin: Person,
    alice: Person,
    bob: Person,
    carol: Person,
    friend: i64,
    coach: i64,
    full: i64,
}

fn family() -> Family {
    let (s, db) = Server::start();
    let admin = admin(&s);
    let alice = user(&s, &admin, "alice");
    let bob = user(&s, &admin, "bob");
    let carol = user(&s, &admin, "carol");
    let friend = bundle_id(&s, &admin.token, "friend");
    let coach = bundle_id(&s, &admin.token, "coach");
    let full = bundle_id(&s, &admin.token, "admin");
    Family {
        s,
        db,
        admin,
        alice,
        bob,
        carol,
        friend,
        coach,
        full,
    }
}

// ---------------------------------------------------------------------------------------
// 1.2: authentication.

#[test]
fn calls_without_a_usable_bearer_credential_are_401_with_the_bearer_challenge() {
    let f = family();
    let s = &f.s;
    let p = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    let reads = [
        "/api/user/".to_owned(),
        f.alice.uri(),
        "/api/account/".to_owned(),
        "/api/bundle/".to_owned(),
        bundle_uri(f.friend),
        "/api/bundle_permission/".to_owned(),
        permission_uri(p),
    ];
    for path in &reads {
        // No header, an unknown token, an empty Bearer value.
        assert_unauthenticated(&s.request("GET", path).send());
        assert_unauthenticated(&s.request("GET", path).bearer("not-a-token").send());
        assert_unauthenticated(
            &s.request("GET", path)
                .header("Authorization", "Bearer")
                .send(),
        );
        // alice's real password as Basic credentials, and her Keyrock token in the Keyrock
        // header instead of Authorization: Bearer.
        assert_unauthenticated(
            &s.request("GET", path)
                .basic("alice@test.com", "alice-password")
                .send(),
        );
        assert_unauthenticated(&s.request("GET", path).token(&f.alice.token).send());
    }

    // Writes are refused the same way, and change nothing.
    let body = json!({"bundle": bundle_uri(f.coach), "user_allowed": f.bob.uri(),
                      "user_target": f.alice.uri()});
    assert_unauthenticated(
        &s.request("POST", "/api/bundle_permission/")
            .json(&body)
            .send(),
    );
    assert_unauthenticated(&post(s, "/api/bundle_permission/", "not-a-token", &body));
    assert_unauthenticated(
        &s.request("POST", "/api/bundle/")
            .basic(tessera_tests::ADMIN_EMAIL, tessera_tests::ADMIN_PASSWORD)
            .json(&json!({"name": "physio", "permissions": ["read"]}))
            .send(),
    );
    assert_unauthenticated(&s.request("DELETE", &permission_uri(p)).send());
    assert_unauthenticated(&call(s, "DELETE", &permission_uri(p), "nope", None));
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.admin.token),
        vec![p]
    );
    assert_eq!(
        get(s, "/api/bundle/", &f.admin.token)["meta"]["total_count"],
        3
    );

    // A revoked Keyrock token.
    let t = s.login("carol@test.com", "carol-password");
    get(s, "/api/account/", &t);
    s.request("DELETE", "/v1/auth/tokens")
        .token(&t)
        .header("X-Subject-Token", &t)
        .send()
        .assert_no_content();
    assert_unauthenticated(&call(s, "GET", "/api/account/", &t, None));

    // A disabled user, whose token otherwise works.
    f.db.set_user_enabled(&f.carol.keyrock_id, false);
    assert_unauthenticated(&call(s, "GET", "/api/account/", &f.carol.token, None));
    assert_unauthenticated(&call(s, "GET", "/api/bundle/", &f.carol.token, None));
    f.db.set_user_enabled(&f.carol.keyrock_id, true);
    assert_eq!(
        get(s, "/api/account/", &f.carol.token)["objects"][0]["id"],
        f.carol.id
    );
}

#[test]
fn oauth2_access_tokens_of_users_authenticate_and_client_tokens_do_not() {
    let f = family();
    let s = &f.s;
    let app = s.oauth_app(&f.admin.token, &["password", "client_credentials"], &[]);
    let alice = s
        .password_grant(&app, "alice@test.com", "alice-password")
        .access;

    // The OAuth2 token stands for alice exactly as her Keyrock token does.
    let account = get(s, "/api/account/", &alice);
    assert_eq!(account, get(s, "/api/account/", &f.alice.token));
    assert_eq!(account["objects"][0]["id"], f.alice.id);
    let created = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission/",
            &alice,
            &json!({"bundle": bundle_uri(f.friend), "user_allowed": f.bob.uri(),
                    "user_target": f.alice.uri()}),
        ),
    );
    assert_eq!(created["user_target"], user_json(&f.alice));
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &alice),
        vec![id_of(&created)]
    );
    assert_eq!(
        list_ids(s, "/api/user/", &alice),
        vec![f.alice.id, f.bob.id]
    );
    // Not an admin through OAuth2 either.
    assert_forbidden(&post(
        s,
        "/api/bundle/",
        &alice,
        &json!({"name": "physio", "permissions": ["read"]}),
    ));

    // An admin's OAuth2 token is an admin's.
    let admin = s
        .password_grant(
            &app,
            tessera_tests::ADMIN_EMAIL,
            tessera_tests::ADMIN_PASSWORD,
        )
        .access;
    assert_eq!(
        get(s, "/api/account/", &admin)["objects"][0]["is_staff"],
        true
    );
    assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            &admin,
            &json!({"name": "physio", "permissions": ["read"]}),
        ),
    );

    // A client-credentials token stands for no user.
    let client = s.client_credentials(&app, None).access;
    for path in ["/api/account/", "/api/user/", "/api/bundle/"] {
        assert_unauthenticated(&call(s, "GET", path, &client, None));
    }

    // A revoked OAuth2 token.
    s.revoke_token(&app, &alice, None).assert_revoked();
    assert_unauthenticated(&call(s, "GET", "/api/account/", &alice, None));
    assert_unauthenticated(&call(s, "GET", "/api/bundle_permission/", &alice, None));
}

// ---------------------------------------------------------------------------------------
// 1.5: methods.

#[test]
fn other_methods_are_405_with_allow_before_authentication() {
    let f = family();
    let s = &f.s;
    let friend = bundle_uri(f.friend);
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("POST", "/api/user/".into(), &["GET"]),
        ("PUT", "/api/user/".into(), &["GET"]),
        ("DELETE", "/api/user/".into(), &["GET"]),
        ("PATCH", "/api/user/".into(), &["GET"]),
        ("POST", f.alice.uri(), &["GET"]),
        ("PUT", f.alice.uri(), &["GET"]),
        ("DELETE", f.alice.uri(), &["GET"]),
        ("POST", "/api/account/".into(), &["GET"]),
        ("PUT", "/api/account/".into(), &["GET"]),
        ("DELETE", "/api/account/".into(), &["GET"]),
        ("PUT", "/api/bundle/".into(), &["GET", "POST"]),
        ("DELETE", "/api/bundle/".into(), &["GET", "POST"]),
        ("PATCH", "/api/bundle/".into(), &["GET", "POST"]),
        ("POST", friend.clone(), &["GET"]),
        ("PUT", friend.clone(), &["GET"]),
        ("PATCH", friend.clone(), &["GET"]),
        ("DELETE", friend.clone(), &["GET"]),
        ("PUT", "/api/bundle/999999/".into(), &["GET"]),
        ("DELETE", friend.trim_end_matches('/').to_owned(), &["GET"]),
        ("PUT", "/api/bundle_permission/".into(), &["GET", "POST"]),
        ("DELETE", "/api/bundle_permission/".into(), &["GET", "POST"]),
        ("PATCH", "/api/bundle_permission/".into(), &["GET", "POST"]),
        (
            "POST",
            "/api/bundle_permission/1/".into(),
            &["GET", "DELETE"],
        ),
        (
            "PUT",
            "/api/bundle_permission/1/".into(),
            &["GET", "DELETE"],
        ),
        (
            "PATCH",
            "/api/bundle_permission/1/".into(),
            &["GET", "DELETE"],
        ),
        ("PUT", "/api/bundle_permission/1".into(), &["GET", "DELETE"]),
        ("PUT", "/api/user".into(), &["GET"]),
    ];
    let body = json!({"name": "renamed", "permissions": ["write"]});
    for (method, path, allowed) in &cases {
        // No credentials, a bad token, an admin: the same 405.
        assert_405(&s.request(method, path).send(), allowed);
        assert_405(&call(s, method, path, "not-a-token", Some(&body)), allowed);
        assert_405(&call(s, method, path, &f.admin.token, Some(&body)), allowed);
    }
    // HEAD, which Allow may list beside GET, is served (not 405), and authenticated.
    for path in ["/api/user/", "/api/bundle/", "/api/bundle_permission/"] {
        let head = s.request("HEAD", path).send();
        assert_eq!(head.status, 401, "HEAD {path}");
        let head = call(s, "HEAD", path, &f.alice.token, None);
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty(), "HEAD {path} with a body");
    }

    // The bundles were not changed.
    let list = get(s, "/api/bundle/", &f.alice.token);
    assert_page(&list, 20, 0, 3);
    assert_eq!(get(s, &friend, &f.alice.token), shipped(f.friend, "friend"));
}

// ---------------------------------------------------------------------------------------
// 1.1, 1.3: paths and bodies.

#[test]
fn paths_without_the_final_slash_are_served_like_canonical_ones() {
    let f = family();
    let s = &f.s;
    let t = &f.alice.token;
    let p = granted(s, &f.alice, f.friend, &f.bob, &f.alice);
    for path in [
        "/api/user/".to_owned(),
        f.bob.uri(),
        "/api/account/".to_owned(),
        "/api/bundle/".to_owned(),
        bundle_uri(f.coach),
        "/api/bundle_permission/".to_owned(),
        permission_uri(id_of(&p)),
    ] {
        let canonical = get(s, &path, t);
        assert_eq!(
            get(s, path.trim_end_matches('/'), t),
            canonical,
            "{path} without the slash"
        );
    }
    // Not through a redirect that the client followed.
    let raw = s.raw(
        format!(
            "GET /api/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {t}\r\n\
             Connection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");

    // Writes too.
    let created = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission",
            t,
            &json!({"bundle": bundle_uri(f.coach), "user_allowed": f.carol.uri(),
                    "user_target": f.alice.uri()}),
        ),
    );
    assert_eq!(created["user_allowed"], user_json(&f.carol));
    let bundle = assert_created(
        s,
        &post(
            s,
            "/api/bundle",
            &f.admin.token,
            &json!({"name": "physio", "permissions": ["read"]}),
        ),
    );
    assert_eq!(bundle["name"], "physio");
    let path = permission_uri(id_of(&created));
    call(s, "DELETE", path.trim_end_matches('/'), t, None).assert_no_content();
    assert_not_found(&call(s, "GET", &path, t, None));
    assert_eq!(list_ids(s, "/api/bundle_permission", t), vec![id_of(&p)]);
}

#[test]
fn account_is_the_caller_alone_with_is_staff_and_has_no_detail() {
    let f = family();
    let s = &f.s;
    granted(s, &f.alice, f.friend, &f.bob, &f.alice);

    let mut alice = user_json(&f.alice);
    alice["is_staff"] = json!(false);
    let list = get(s, "/api/account/", &f.alice.token);
    assert_page(&list, 20, 0, 1);
    assert_eq!(list["meta"]["next"], Value::Null);
    assert_eq!(list["meta"]["previous"], Value::Null);
    assert_eq!(list["objects"], json!([alice]));
    // format=json is ignored; a permission does not put bob into alice's account.
    assert_eq!(get(s, "/api/account/?format=json", &f.alice.token), list);
    let mut bob = user_json(&f.bob);
    bob["is_staff"] = json!(false);
    assert_eq!(
        get(s, "/api/account/", &f.bob.token)["objects"],
        json!([bob])
    );

    let admin = get(s, "/api/account/", &f.admin.token);
    assert_page(&admin, 20, 0, 1);
    let mut me = user_json(&f.admin);
    me["is_staff"] = json!(true);
    assert_eq!(admin["objects"], json!([me]));
    assert_eq!(me["email"], tessera_tests::ADMIN_EMAIL);

    // Any detail path is 404, for the caller's own id too.
    for path in [
        format!("/api/account/{}/", f.alice.id),
        format!("/api/account/{}", f.alice.id),
        "/api/account/1/".to_owned(),
        "/api/account/me/".to_owned(),
        "/api/account/anything/else/".to_owned(),
    ] {
        assert_not_found(&call(s, "GET", &path, &f.alice.token, None));
        assert_not_found(&call(s, "GET", &path, &f.admin.token, None));
    }
}

#[test]
fn bodies_must_be_json_objects_whatever_the_content_type() {
    let f = family();
    let s = &f.s;
    let not_objects: [&[u8]; 8] = [
        b"{",
        b"",
        b"not json",
        b"[]",
        b"\"text\"",
        b"42",
        b"null",
        b"[{\"name\": \"x\", \"permissions\": [\"read\"]}]",
    ];
    for raw in not_objects {
        let by_alice = s
            .request("POST", "/api/bundle_permission/")
            .bearer(&f.alice.token)
            .header("Content-Type", "application/json")
            .raw(raw.to_vec())
            .send();
        assert_bad_request(&by_alice);
        let by_admin = s
            .request("POST", "/api/bundle/")
            .bearer(&f.admin.token)
            .header("Content-Type", "application/json")
            .raw(raw.to_vec())
            .send();
        assert_bad_request(&by_admin);
    }
    assert_eq!(
        get(s, "/api/bundle_permission/", &f.admin.token)["meta"]["total_count"],
        0
    );
    assert_eq!(
        get(s, "/api/bundle/", &f.admin.token)["meta"]["total_count"],
        3
    );

    // A JSON object is parsed whatever the header says, or without one.
    let body = |bundle: i64| {
        json!({"bundle": bundle_uri(bundle), "user_allowed": f.bob.uri(),
               "user_target": f.alice.uri()})
        .to_string()
        .into_bytes()
    };
    let text = s
        .request("POST", "/api/bundle_permission/")
        .bearer(&f.alice.token)
        .header("Content-Type", "text/plain")
        .raw(body(f.friend))
        .send();
    assert_eq!(assert_created(s, &text)["bundle"]["id"], f.friend);
    let bare = s
        .request("POST", "/api/bundle_permission/")
        .bearer(&f.alice.token)
        .raw(body(f.coach))
        .send();
    assert_eq!(assert_created(s, &bare)["bundle"]["id"], f.coach);
    let form = s
        .request("POST", "/api/bundle/")
        .bearer(&f.admin.token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .raw(br#"{"name": "physio", "permissions": ["write"]}"#.to_vec())
        .send();
    assert_eq!(assert_created(s, &form)["permissions"], json!(["write"]));
}

#[test]
fn read_only_and_unknown_fields_are_ignored_on_input() {
    let f = family();
    let s = &f.s;
    let p = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission/",
            &f.alice.token,
            &json!({"bundle": bundle_uri(f.friend), "user_allowed": f.bob.uri(),
                    "user_target": f.alice.uri(), "id": 4242,
                    "resource_uri": "/api/bundle_permission/4242/", "status": "redeemed",
                    "email_sent": true, "colour": "blue"}),
        ),
    );
    let id = id_of(&p);
    assert_ne!(id, 4242);
    assert_eq!(
        keys(&p),
        sorted(&[
            "bundle",
            "id",
            "name",
            "resource_uri",
            "user_allowed",
            "user_target"
        ])
    );
    assert_eq!(p["resource_uri"], permission_uri(id));
    assert_eq!(p["name"], Value::Null);
    assert_not_found(&call(s, "GET", &permission_uri(4242), &f.admin.token, None));

    let b = assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            &f.admin.token,
            &json!({"name": "physio", "permissions": ["read"], "id": 4242,
                    "resource_uri": "/api/bundle/4242/", "status": "x", "email_sent": false,
                    "colour": "blue"}),
        ),
    );
    let bid = id_of(&b);
    assert_ne!(bid, 4242);
    assert_eq!(
        b,
        json!({"id": bid, "name": "physio", "description": "", "permissions": ["read"],
               "resource_uri": bundle_uri(bid)})
    );
    assert_not_found(&call(s, "GET", &bundle_uri(4242), &f.admin.token, None));
}

// ---------------------------------------------------------------------------------------
// 1.4: lists.

#[test]
fn lists_page_with_the_tastypie_envelope() {
    let f = family();
    let s = &f.s;
    for i in 1..=22 {
        assert_created(
            s,
            &post(
                s,
                "/api/bundle/",
                &f.admin.token,
                &json!({"name": format!("b{i:02}"), "permissions": ["read"]}),
            ),
        );
    }
    let t = &f.alice.token;
    let all = list_ids(s, "/api/bundle/?limit=0", t);
    assert_eq!(all.len(), 25);
    let mut sorted_ids = all.clone();
    sorted_ids.sort();
    assert_eq!(all, sorted_ids, "default order is id ascending");

    // Default limit 20.
    let first = get(s, "/api/bundle/", t);
    assert_page(&first, 20, 0, 25);
    assert_eq!(ids(&first), all[..20].to_vec());
    assert_link(&first["meta"]["next"], "/api/bundle/", &[], 20, 20);
    assert_eq!(first["meta"]["previous"], Value::Null);
    // Following next.
    let next = first["meta"]["next"].as_str().unwrap().to_owned();
    let second = get(s, &next, t);
    assert_page(&second, 20, 20, 25);
    assert_eq!(ids(&second), all[20..].to_vec());
    assert_eq!(second["meta"]["next"], Value::Null);
    assert_link(&second["meta"]["previous"], "/api/bundle/", &[], 20, 0);

    // Explicit limit and offset.
    let page = get(s, "/api/bundle/?limit=10&offset=10", t);
    assert_page(&page, 10, 10, 25);
    assert_eq!(ids(&page), all[10..20].to_vec());
    assert_link(&page["meta"]["next"], "/api/bundle/", &[], 10, 20);
    assert_link(&page["meta"]["previous"], "/api/bundle/", &[], 10, 0);
    let page = get(s, "/api/bundle/?limit=10&offset=5", t);
    assert_eq!(ids(&page), all[5..15].to_vec());
    assert_link(&page["meta"]["previous"], "/api/bundle/", &[], 10, 0);
    assert_link(&page["meta"]["next"], "/api/bundle/", &[], 10, 15);
    let page = get(s, "/api/bundle/?offset=3&limit=1", t);
    assert_page(&page, 1, 3, 25);
    assert_eq!(ids(&page), vec![all[3]]);
    assert_link(&page["meta"]["next"], "/api/bundle/", &[], 1, 4);
    assert_link(&page["meta"]["previous"], "/api/bundle/", &[], 1, 2);

    // The links keep the other query parameters (ordering, format, unknown ones).
    let params = [
        ("order_by", "-id"),
        ("limit", "10"),
        ("offset", "10"),
        ("format", "json"),
        ("colour", "blue"),
    ];
    let page = get(s, &with_query("/api/bundle/", &params), t);
    assert_page(&page, 10, 10, 25);
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(ids(&page), reversed[10..20].to_vec());
    assert_link(&page["meta"]["next"], "/api/bundle/", &params, 10, 20);
    assert_link(&page["meta"]["previous"], "/api/bundle/", &params, 10, 0);
    let last = get(s, &next_of(&page), t);
    assert_eq!(ids(&last), reversed[20..].to_vec());
    assert_eq!(last["meta"]["next"], Value::Null);

    // Past the end.
    let end = get(s, "/api/bundle/?offset=25", t);
    assert_page(&end, 20, 25, 25);
    assert_eq!(end["objects"], json!([]));
    assert_eq!(end["meta"]["next"], Value::Null);
    let beyond = get(s, "/api/bundle/?offset=100", t);
    assert_page(&beyond, 20, 100, 25);
    assert_eq!(beyond["objects"], json!([]));
    assert_eq!(beyond["meta"]["next"], Value::Null);
    assert_link(&beyond["meta"]["previous"], "/api/bundle/", &[], 20, 80);

    // 0 is the maximum, 1000; larger limits are served as 1000.
    for limit in ["0", "1000", "5000"] {
        let page = get(s, &format!("/api/bundle/?limit={limit}"), t);
        assert_page(&page, 1000, 0, 25);
        assert_eq!(ids(&page), all);
        assert_eq!(page["meta"]["next"], Value::Null);
        assert_eq!(page["meta"]["previous"], Value::Null);
    }
}

fn next_of(list: &Value) -> String {
    list["meta"]["next"]
        .as_str()
        .unwrap_or_else(|| panic!("no next: {list}"))
        .to_owned()
}

#[test]
fn bad_limits_and_offsets_are_400_on_every_list() {
    let f = family();
    let s = &f.s;
    for list in [
        "/api/user/",
        "/api/account/",
        "/api/bundle/",
        "/api/bundle_permission/",
    ] {
        for query in [
            "limit=-1",
            "limit=abc",
            "limit=1.5",
            "limit=1e3",
            "offset=-1",
            "offset=x",
            "offset=2.0",
            "limit=20&offset=-20",
        ] {
            assert_bad_request(&call(
                s,
                "GET",
                &format!("{list}?{query}"),
                &f.alice.token,
                None,
            ));
        }
        // Good values next to them are fine.
        get(s, &format!("{list}?limit=5&offset=0"), &f.alice.token);
    }
}

#[test]
fn lists_order_by_the_listed_fields_only() {
    let f = family();
    let s = &f.s;
    // zed: the last username, the first e-mail address; abe: the other way round.
    let zed = person_with_email(s, &f.admin, "zed", "aazed@test.com").id;
    let abe = person_with_email(s, &f.admin, "abe", "zzabe@test.com").id;
    let (admin, alice, bob, carol) = (f.admin.id, f.alice.id, f.bob.id, f.carol.id);
    let users = |q: &str| list_ids(s, &format!("/api/user/{q}"), &f.admin.token);
    let by_id = vec![admin, alice, bob, carol, zed, abe];
    let by_name = vec![abe, admin, alice, bob, carol, zed];
    let by_email = vec![zed, admin, alice, bob, carol, abe];
    let rev = |v: &Vec<i64>| v.iter().rev().copied().collect::<Vec<i64>>();
    assert_eq!(users(""), by_id);
    assert_eq!(users("?order_by=id"), by_id);
    assert_eq!(users("?order_by=-id"), rev(&by_id));
    assert_eq!(users("?order_by=username"), by_name);
    assert_eq!(users("?order_by=-username"), rev(&by_name));
    assert_eq!(users("?order_by=email"), by_email);
    assert_eq!(users("?order_by=-email"), rev(&by_email));
    // Several fields: comma-separated or repeated; the first decides (all are unique).
    assert_eq!(users("?order_by=email,-id"), by_email);
    assert_eq!(users("?order_by=-email,username"), rev(&by_email));
    assert_eq!(users("?order_by=email&order_by=id"), by_email);
    assert_eq!(users("?order_by=-username&order_by=email"), rev(&by_name));
    for bad in [
        "first_name",
        "last_name",
        "resource_uri",
        "is_staff",
        "password",
        "bogus",
        "email,bogus",
        "+email",
    ] {
        assert_bad_request(&call(
            s,
            "GET",
            &with_query("/api/user/", &[("order_by", bad)]),
            &f.admin.token,
            None,
        ));
    }
    assert_bad_request(&call(
        s,
        "GET",
        "/api/user/?order_by=username&order_by=bogus",
        &f.admin.token,
        None,
    ));

    // Bundles: id and name.
    for name in ["zumba", "yoga"] {
        assert_created(
            s,
            &post(
                s,
                "/api/bundle/",
                &f.admin.token,
                &json!({"name": name, "permissions": ["read"]}),
            ),
        );
    }
    let t = &f.alice.token;
    let all = get(s, "/api/bundle/", t);
    let names = |list: &Value| -> Vec<String> {
        list["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut expected = names(&all);
    expected.sort();
    assert_eq!(expected, ["admin", "coach", "friend", "yoga", "zumba"]);
    assert_eq!(names(&get(s, "/api/bundle/?order_by=name", t)), expected);
    expected.reverse();
    assert_eq!(names(&get(s, "/api/bundle/?order_by=-name", t)), expected);
    let mut ids_desc = ids(&all);
    ids_desc.reverse();
    assert_eq!(list_ids(s, "/api/bundle/?order_by=-id", t), ids_desc);
    assert_eq!(list_ids(s, "/api/bundle/?order_by=-id,name", t), ids_desc);
    for bad in ["description", "permissions", "resource_uri", "bogus"] {
        assert_bad_request(&call(
            s,
            "GET",
            &format!("/api/bundle/?order_by={bad}"),
            t,
            None,
        ));
    }

    // Permissions: id only.
    let p1 = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    let p2 = id_of(&granted(s, &f.alice, f.coach, &f.carol, &f.alice));
    assert_eq!(list_ids(s, "/api/bundle_permission/", t), vec![p1, p2]);
    assert_eq!(
        list_ids(s, "/api/bundle_permission/?order_by=id", t),
        vec![p1, p2]
    );
    assert_eq!(
        list_ids(s, "/api/bundle_permission/?order_by=-id", t),
        vec![p2, p1]
    );
    for bad in ["name", "bundle", "user_allowed", "user_target", "bogus"] {
        assert_bad_request(&call(
            s,
            "GET",
            &format!("/api/bundle_permission/?order_by={bad}"),
            t,
            None,
        ));
    }
}

#[test]
fn user_filters_on_id_username_and_email_and_nothing_else() {
    let f = family();
    let s = &f.s;
    let t = &f.admin.token;
    let (alice, bob, carol) = (f.alice.id, f.bob.id, f.carol.id);
    let users = |params: &[(&str, &str)]| {
        let list = get(s, &with_query("/api/user/", params), t);
        let found = ids(&list);
        assert_eq!(list["meta"]["total_count"], found.len(), "{list}");
        found
    };
    let (a, b) = (alice.to_string(), bob.to_string());
    assert_eq!(users(&[("id", &a)]), vec![alice]);
    assert_eq!(users(&[("id__exact", &b)]), vec![bob]);
    assert_eq!(users(&[("id__in", &format!("{b},{a}"))]), vec![alice, bob]);
    assert_eq!(users(&[("username", "carol")]), vec![carol]);
    assert_eq!(users(&[("username__exact", "bob")]), vec![bob]);
    assert_eq!(
        users(&[("username__in", "alice,carol")]),
        vec![alice, carol]
    );
    assert_eq!(users(&[("email", "bob@test.com")]), vec![bob]);
    assert_eq!(users(&[("email__exact", "carol@test.com")]), vec![carol]);
    assert_eq!(
        users(&[("email__in", "alice@test.com,bob@test.com")]),
        vec![alice, bob]
    );
    assert_eq!(
        users(&[("email", tessera_tests::ADMIN_EMAIL)]),
        vec![f.admin.id]
    );
    // Filters combine; no match is an empty list.
    assert_eq!(
        users(&[("username", "alice"), ("email", "bob@test.com")]),
        Vec::<i64>::new()
    );
    assert_eq!(
        users(&[("username__in", "alice,bob"), ("id", &b)]),
        vec![bob]
    );
    assert_eq!(users(&[("username", "nobody")]), Vec::<i64>::new());
    // Unknown parameters and format are ignored.
    assert_eq!(
        users(&[("colour", "blue"), ("format", "json")]),
        vec![f.admin.id, alice, bob, carol]
    );

    // Filters and paging: total_count counts the matches, next keeps the filter.
    let params = [("username__in", "alice,bob,carol"), ("limit", "1")];
    let page = get(s, &with_query("/api/user/", &params), t);
    assert_page(&page, 1, 0, 3);
    assert_eq!(ids(&page), vec![alice]);
    assert_link(&page["meta"]["next"], "/api/user/", &params, 1, 1);

    // A user sees only visible users, whatever the filter.
    assert_eq!(
        list_ids(s, "/api/user/?username=carol", &f.alice.token),
        Vec::<i64>::new()
    );
    assert_eq!(
        list_ids(s, "/api/user/?username=alice", &f.alice.token),
        vec![alice]
    );

    // Other operators and other fields of the resource are 400.
    for query in [
        "id__gt=1",
        "id__lt=100",
        "id__gte=1",
        "username__startswith=a",
        "username__contains=li",
        "username__iexact=ALICE",
        "email__icontains=test",
        "first_name=",
        "last_name=x",
        "resource_uri=/api/user/1/",
    ] {
        assert_bad_request(&call(s, "GET", &format!("/api/user/?{query}"), t, None));
    }
    // Bundles have no filters; permissions filter on references only.
    for query in ["name=friend", "id=1", "permissions=read", "description=x"] {
        assert_bad_request(&call(s, "GET", &format!("/api/bundle/?{query}"), t, None));
    }
    assert_eq!(
        get(s, "/api/bundle/?colour=blue", t)["meta"]["total_count"],
        3
    );
    for query in [
        "name=x",
        "id=1",
        "resource_uri=/api/bundle_permission/1/",
        "bundle__gt=1",
        "user_allowed__startswith=a",
        "user_target__lt=5",
    ] {
        assert_bad_request(&call(
            s,
            "GET",
            &format!("/api/bundle_permission/?{query}"),
            t,
            None,
        ));
    }
}

// ---------------------------------------------------------------------------------------
// 2.1: users and who sees whom.

#[test]
fn users_see_themselves_and_the_users_linked_to_them_by_a_permission() {
    let f = family();
    let s = &f.s;
    let dave = user(s, &f.admin, "dave");
    let p = granted(s, &f.alice, f.friend, &f.bob, &f.alice);
    // A pending request links nobody.
    ask(s, &dave, f.friend, &dave, &f.carol, json!({})).assert_status(201);

    let alice_list = get(s, "/api/user/", &f.alice.token);
    assert_page(&alice_list, 20, 0, 2);
    assert_eq!(
        alice_list["objects"],
        json!([user_json(&f.alice), user_json(&f.bob)])
    );
    // Either direction: the user_allowed sees the user_target too.
    assert_eq!(get(s, "/api/user/", &f.bob.token), alice_list);
    assert_eq!(get(s, &f.bob.uri(), &f.alice.token), user_json(&f.bob));
    assert_eq!(get(s, &f.alice.uri(), &f.bob.token), user_json(&f.alice));
    assert_eq!(get(s, &f.alice.uri(), &f.alice.token), user_json(&f.alice));

    // carol and dave see only themselves, and not each other.
    assert_eq!(
        get(s, "/api/user/", &f.carol.token)["objects"],
        json!([user_json(&f.carol)])
    );
    assert_eq!(
        get(s, "/api/user/", &dave.token)["objects"],
        json!([user_json(&dave)])
    );
    assert_not_found(&call(s, "GET", &dave.uri(), &f.carol.token, None));
    assert_not_found(&call(s, "GET", &f.carol.uri(), &dave.token, None));
    assert_not_found(&call(s, "GET", &f.alice.uri(), &f.carol.token, None));
    assert_not_found(&call(s, "GET", &f.carol.uri(), &f.alice.token, None));
    assert_not_found(&call(s, "GET", "/api/user/999999/", &f.alice.token, None));
    assert_not_found(&call(s, "GET", "/api/user/abc/", &f.alice.token, None));

    // Admins see everyone.
    let all = get(s, "/api/user/", &f.admin.token);
    assert_page(&all, 20, 0, 5);
    assert_eq!(
        all["objects"],
        json!([
            user_json(&f.admin),
            user_json(&f.alice),
            user_json(&f.bob),
            user_json(&f.carol),
            user_json(&dave)
        ])
    );
    assert_eq!(get(s, &dave.uri(), &f.admin.token), user_json(&dave));
    assert_not_found(&call(s, "GET", "/api/user/999999/", &f.admin.token, None));

    // The store id is the easydb `_id` (4.13).
    let session = s.easydb_admin();
    assert_eq!(s.easydb_user_id(&session, &f.alice.keyrock_id), f.alice.id);
    assert_eq!(s.easydb_user_id(&session, &dave.keyrock_id), dave.id);

    // Withdrawing the permission hides bob from alice again.
    call(
        s,
        "DELETE",
        &permission_uri(id_of(&p)),
        &f.alice.token,
        None,
    )
    .assert_no_content();
    assert_eq!(list_ids(s, "/api/user/", &f.alice.token), vec![f.alice.id]);
    assert_not_found(&call(s, "GET", &f.bob.uri(), &f.alice.token, None));
    assert_not_found(&call(s, "GET", &f.alice.uri(), &f.bob.token, None));
}

// ---------------------------------------------------------------------------------------
// 2.3: bundles.

#[test]
fn three_bundles_are_shipped_and_everyone_reads_them() {
    let f = family();
    let s = &f.s;
    let expected = {
        let mut v = vec![
            shipped(f.friend, "friend"),
            shipped(f.coach, "coach"),
            shipped(f.full, "admin"),
        ];
        v.sort_by_key(id_of);
        Value::Array(v)
    };
    for t in [&f.alice.token, &f.admin.token] {
        let list = get(s, "/api/bundle/", t);
        assert_page(&list, 20, 0, 3);
        assert_eq!(list["objects"], expected);
        for (id, name) in [(f.friend, "friend"), (f.coach, "coach"), (f.full, "admin")] {
            assert_eq!(get(s, &bundle_uri(id), t), shipped(id, name));
        }
        assert_not_found(&call(s, "GET", "/api/bundle/999999/", t, None));
        assert_not_found(&call(s, "GET", "/api/bundle/friend/", t, None));
    }
}

#[test]
fn admins_create_bundles() {
    let f = family();
    let s = &f.s;
    let t = &f.admin.token;
    let physio = assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            t,
            &json!({"name": "physio", "description": "Physiotherapist: may edit the plan",
                    "permissions": ["write", "read", "write"]}),
        ),
    );
    let id = id_of(&physio);
    assert_eq!(
        physio,
        json!({"id": id, "name": "physio", "description": "Physiotherapist: may edit the plan",
               "permissions": ["read", "write"], "resource_uri": bundle_uri(id)})
    );
    assert_eq!(get(s, &bundle_uri(id), &f.alice.token), physio);

    // Description defaults to ""; duplicate permissions are collapsed; write alone.
    let viewer = assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            t,
            &json!({"name": "viewer", "permissions": ["read", "read"]}),
        ),
    );
    assert_eq!(viewer["description"], "");
    assert_eq!(viewer["permissions"], json!(["read"]));
    let writer = assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            t,
            &json!({"name": "writer", "description": "", "permissions": ["write"]}),
        ),
    );
    assert_eq!(writer["permissions"], json!(["write"]));
    // 64 characters, also when they take two bytes each.
    let long = "x".repeat(64);
    let wide = "é".repeat(64);
    for name in [&long, &wide] {
        let b = assert_created(
            s,
            &post(
                s,
                "/api/bundle/",
                t,
                &json!({"name": name, "permissions": ["read"]}),
            ),
        );
        assert_eq!(&b["name"], name.as_str());
        assert_eq!(get(s, &bundle_uri(id_of(&b)), t)["name"], name.as_str());
    }
    let list = get(s, "/api/bundle/", &f.alice.token);
    assert_page(&list, 20, 0, 8);
    assert_eq!(list["objects"][3], physio);

    // A new bundle works in a permission and is embedded in full.
    let p = granted(s, &f.alice, id, &f.bob, &f.alice);
    assert_eq!(p["bundle"], physio);
}

#[test]
fn only_admins_create_bundles_and_the_refusal_comes_before_the_body() {
    let f = family();
    let s = &f.s;
    // alice holds a permission over bob: no matter.
    granted(s, &f.bob, f.full, &f.alice, &f.bob);
    let valid = json!({"name": "physio", "permissions": ["read"]});
    for body in [
        valid.clone(),
        json!({}),
        json!({"name": "", "permissions": ["own"]}),
        json!({"name": "friend", "permissions": ["read"]}),
    ] {
        assert_forbidden(&post(s, "/api/bundle/", &f.alice.token, &body));
    }
    for raw in [&b"{"[..], b"[]", b""] {
        let resp = s
            .request("POST", "/api/bundle/")
            .bearer(&f.alice.token)
            .header("Content-Type", "application/json")
            .raw(raw.to_vec())
            .send();
        assert_forbidden(&resp);
    }
    assert_eq!(
        get(s, "/api/bundle/", &f.alice.token)["meta"]["total_count"],
        3
    );
    // The same body is fine for an admin.
    assert_created(s, &post(s, "/api/bundle/", &f.admin.token, &valid));
}

#[test]
fn invalid_bundles_are_400_with_every_field_problem() {
    let f = family();
    let s = &f.s;
    let t = &f.admin.token;
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({}), &["name", "permissions"]),
        (json!({"description": "only"}), &["name", "permissions"]),
        (
            json!({"name": "", "permissions": []}),
            &["name", "permissions"],
        ),
        (
            json!({"name": null, "permissions": null}),
            &["name", "permissions"],
        ),
        (
            json!({"name": "x".repeat(65), "permissions": ["read"]}),
            &["name"],
        ),
        (
            json!({"name": "é".repeat(65), "permissions": ["read"]}),
            &["name"],
        ),
        (
            json!({"name": "FRIEND", "permissions": ["read"]}),
            &["name"],
        ),
        (
            json!({"name": "Coach", "permissions": ["write"]}),
            &["name"],
        ),
        (json!({"name": 7, "permissions": ["read"]}), &["name"]),
        (
            json!({"name": "new", "permissions": ["read", "delete"]}),
            &["permissions"],
        ),
        (
            json!({"name": "new", "permissions": ["READ"]}),
            &["permissions"],
        ),
        (
            json!({"name": "new", "permissions": "read"}),
            &["permissions"],
        ),
        (json!({"name": "new", "permissions": [1]}), &["permissions"]),
        (json!({"name": "new"}), &["permissions"]),
        (
            json!({"name": "admin", "permissions": ["own"]}),
            &["name", "permissions"],
        ),
    ];
    for (body, fields) in &cases {
        assert_fields(&post(s, "/api/bundle/", t, body), "bundle", fields);
    }
    assert_eq!(get(s, "/api/bundle/", t)["meta"]["total_count"], 3);

    // A created name is taken too, whatever its case.
    assert_created(
        s,
        &post(
            s,
            "/api/bundle/",
            t,
            &json!({"name": "Physio", "permissions": ["read"]}),
        ),
    );
    for name in ["physio", "PHYSIO", "Physio"] {
        assert_fields(
            &post(
                s,
                "/api/bundle/",
                t,
                &json!({"name": name, "permissions": ["write"]}),
            ),
            "bundle",
            &["name"],
        );
    }
    assert_eq!(get(s, "/api/bundle/", t)["meta"]["total_count"], 4);
}

// ---------------------------------------------------------------------------------------
// 2.4: bundle permissions.

#[test]
fn a_target_grants_access_to_its_own_data_with_full_objects() {
    let f = family();
    let s = &f.s;
    let p = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission/",
            &f.alice.token,
            &json!({"bundle": bundle_uri(f.friend), "user_allowed": f.bob.uri(),
                    "user_target": f.alice.uri(), "name": "bob follows alice"}),
        ),
    );
    let id = id_of(&p);
    assert_eq!(
        p,
        json!({"id": id, "bundle": shipped(f.friend, "friend"), "user_allowed": user_json(&f.bob),
               "user_target": user_json(&f.alice), "name": "bob follows alice",
               "resource_uri": permission_uri(id)})
    );
    for t in [&f.alice.token, &f.bob.token, &f.admin.token] {
        assert_eq!(get(s, &permission_uri(id), t), p);
    }
    assert_not_found(&call(s, "GET", &permission_uri(id), &f.carol.token, None));

    // Without a name, name is null; the admin bundle carries read and write.
    let q = granted(s, &f.alice, f.full, &f.carol, &f.alice);
    assert_eq!(q["name"], Value::Null);
    assert_eq!(q["bundle"], shipped(f.full, "admin"));
    assert_eq!(q["user_allowed"], user_json(&f.carol));
    let named_null = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission/",
            &f.alice.token,
            &json!({"bundle": bundle_uri(f.coach), "user_allowed": f.bob.uri(),
                    "user_target": f.alice.uri(), "name": null}),
        ),
    );
    assert_eq!(named_null["name"], Value::Null);

    let qid = id_of(&q);
    let nid = id_of(&named_null);
    assert_eq!(
        get(s, "/api/bundle_permission/", &f.alice.token)["objects"],
        json!([p, q, named_null])
    );
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.bob.token),
        vec![id, nid]
    );
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.carol.token),
        vec![qid]
    );

    // The data service's question (2.3), with bob's own token.
    let query = with_query(
        "/api/bundle_permission/",
        &[
            ("user_allowed", &f.bob.uri()),
            ("user_target", &f.alice.uri()),
        ],
    );
    let answer = get(s, &query, &f.bob.token);
    assert_page(&answer, 20, 0, 2);
    assert_eq!(answer["objects"], json!([p, named_null]));
}

#[test]
fn only_the_target_or_an_admin_may_grant() {
    let f = family();
    let s = &f.s;
    // The user_allowed granting itself access, and a third party.
    assert_forbidden(&grant(s, &f.bob, f.friend, &f.bob, &f.alice));
    assert_forbidden(&grant(s, &f.carol, f.friend, &f.bob, &f.alice));
    assert_forbidden(&grant(s, &f.carol, f.full, &f.carol, &f.alice));
    assert_eq!(
        get(s, "/api/bundle_permission/", &f.admin.token)["meta"]["total_count"],
        0
    );
    assert_eq!(list_ids(s, "/api/user/", &f.bob.token), vec![f.bob.id]);

    // The body is checked first: field errors, not 403, for a third party.
    let carol = |body: Value| post(s, "/api/bundle_permission/", &f.carol.token, &body);
    assert_fields(
        &carol(
            json!({"bundle": bundle_uri(f.friend), "user_allowed": f.alice.uri(),
                      "user_target": f.alice.uri()}),
        ),
        "bundle_permission",
        &["user_target"],
    );
    assert_fields(
        &carol(
            json!({"bundle": "/api/bundle/999999/", "user_allowed": f.bob.uri(),
                      "user_target": f.alice.uri()}),
        ),
        "bundle_permission",
        &["bundle"],
    );
    assert_fields(
        &carol(
            json!({"bundle": bundle_uri(f.friend), "user_allowed": f.bob.uri(),
                      "user_target": f.alice.uri(), "name": "n".repeat(256)}),
        ),
        "bundle_permission",
        &["name"],
    );

    // An admin grants between any two users, itself included.
    let p = granted(s, &f.admin, f.coach, &f.bob, &f.alice);
    assert_eq!(p["user_allowed"], user_json(&f.bob));
    assert_eq!(p["user_target"], user_json(&f.alice));
    let q = granted(s, &f.admin, f.full, &f.admin, &f.carol);
    assert_eq!(q["user_allowed"], user_json(&f.admin));
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.bob.token),
        vec![id_of(&p)]
    );
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.carol.token),
        vec![id_of(&q)]
    );
    // Once granted, the target alone may still grant more; the allowed still may not.
    granted(s, &f.alice, f.friend, &f.bob, &f.alice);
    assert_forbidden(&grant(s, &f.bob, f.full, &f.bob, &f.alice));
    assert_eq!(
        get(s, "/api/bundle_permission/", &f.admin.token)["meta"]["total_count"],
        3
    );
}

#[test]
fn granting_an_existing_triple_answers_200_with_it_unchanged() {
    let f = family();
    let s = &f.s;
    let body = |name: Value| {
        json!({"bundle": bundle_uri(f.friend), "user_allowed": f.bob.uri(),
               "user_target": f.alice.uri(), "name": name})
    };
    let p = assert_created(
        s,
        &post(
            s,
            "/api/bundle_permission/",
            &f.alice.token,
            &body(json!("first")),
        ),
    );
    let again = post(
        s,
        "/api/bundle_permission/",
        &f.alice.token,
        &body(json!("second")),
    );
    again.assert_status(200);
    assert_json_utf8(&again);
    assert_eq!(again.json(), p);
    // The same triple in other reference forms, by the admin, with a null name.
    let other_forms = json!({"bundle": f.friend, "user_allowed": "BOB@Test.com",
                             "user_target": format!("{}{}", s.base, f.alice.uri()),
                             "name": null});
    for t in [&f.alice.token, &f.admin.token] {
        let resp = post(s, "/api/bundle_permission/", t, &other_forms);
        resp.assert_status(200);
        assert_eq!(resp.json(), p);
    }
    assert_eq!(
        get(s, &permission_uri(id_of(&p)), &f.bob.token)["name"],
        "first"
    );
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.admin.token),
        vec![id_of(&p)]
    );
    // Another bundle, or the other direction, is another triple.
    let coach = granted(s, &f.alice, f.coach, &f.bob, &f.alice);
    let back = granted(s, &f.bob, f.friend, &f.alice, &f.bob);
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.admin.token),
        vec![id_of(&p), id_of(&coach), id_of(&back)]
    );
    // A third party naming the existing triple is refused like any other grant.
    assert_forbidden(&post(
        s,
        "/api/bundle_permission/",
        &f.carol.token,
        &body(json!("x")),
    ));
}

#[test]
fn references_accept_uris_absolute_urls_ids_digit_strings_and_emails() {
    let f = family();
    let s = &f.s;
    let by_alice = |body: Value| {
        assert_created(
            s,
            &post(s, "/api/bundle_permission/", &f.alice.token, &body),
        )
    };
    let a = by_alice(json!({"bundle": f.friend, "user_allowed": "BOB@Test.COM",
                            "user_target": format!("{}{}", s.base, f.alice.uri())}));
    assert_eq!(a["bundle"], shipped(f.friend, "friend"));
    assert_eq!(a["user_allowed"], user_json(&f.bob));
    assert_eq!(a["user_target"], user_json(&f.alice));
    let b = by_alice(
        json!({"bundle": format!("{}{}", s.base, bundle_uri(f.coach)),
                            "user_allowed": f.bob.id.to_string(), "user_target": f.alice.id}),
    );
    assert_eq!(b["bundle"], shipped(f.coach, "coach"));
    assert_eq!(b["user_allowed"], user_json(&f.bob));
    assert_eq!(b["user_target"], user_json(&f.alice));
    let c = by_alice(
        json!({"bundle": bundle_uri(f.full), "user_allowed": f.carol.id,
                            "user_target": "alice@test.com"}),
    );
    assert_eq!(c["bundle"], shipped(f.full, "admin"));
    assert_eq!(c["user_allowed"], user_json(&f.carol));
    assert_eq!(c["user_target"], user_json(&f.alice));
    // Any existing user can be named, visible or not (carol was not visible to alice).
    assert_eq!(
        list_ids(s, "/api/user/", &f.alice.token),
        vec![f.alice.id, f.bob.id, f.carol.id]
    );
}

#[test]
fn invalid_permission_bodies_are_400_with_every_field_problem() {
    let f = family();
    let s = &f.s;
    let (friend, alice, bob) = (bundle_uri(f.friend), f.alice.uri(), f.bob.uri());
    let three: &[&str] = &["bundle", "user_allowed", "user_target"];
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({}), three),
        (json!({"name": "x"}), three),
        (
            json!({"bundle": null, "user_allowed": null, "user_target": null}),
            three,
        ),
        (
            json!({"bundle": "/api/bundle/999999/", "user_allowed": "nobody@test.com",
                   "user_target": 999_999}),
            three,
        ),
        (
            json!({"bundle": "", "user_allowed": "", "user_target": ""}),
            three,
        ),
        (
            json!({"bundle": 999_999, "user_allowed": bob, "user_target": alice}),
            &["bundle"],
        ),
        (
            json!({"bundle": alice, "user_allowed": bob, "user_target": alice}),
            &["bundle"],
        ),
        (
            json!({"bundle": friend, "user_allowed": friend, "user_target": alice}),
            &["user_allowed"],
        ),
        (
            json!({"bundle": friend, "user_allowed": "/api/user/abc/", "user_target": alice}),
            &["user_allowed"],
        ),
        (
            json!({"bundle": friend, "user_allowed": true, "user_target": alice}),
            &["user_allowed"],
        ),
        (
            json!({"bundle": friend, "user_allowed": "-1", "user_target": alice}),
            &["user_allowed"],
        ),
        (
            json!({"bundle": friend, "user_allowed": bob, "user_target": "/api/user/999999/"}),
            &["user_target"],
        ),
        (
            json!({"bundle": friend, "user_allowed": alice, "user_target": alice}),
            &["user_target"],
        ),
        (
            json!({"bundle": friend, "user_allowed": "ALICE@test.com", "user_target": f.alice.id}),
            &["user_target"],
        ),
        (
            json!({"bundle": friend, "user_allowed": bob, "user_target": alice,
                   "name": "n".repeat(256)}),
            &["name"],
        ),
        (
            json!({"bundle": friend, "user_allowed": bob, "user_target": alice, "name": 5}),
            &["name"],
        ),
        (
            json!({"bundle": friend, "user_allowed": bob, "user_target": alice,
                   "name": ["x"]}),
            &["name"],
        ),
        // Every problem at once.
        (
            json!({"bundle": "/api/bundle/999999/", "user_allowed": alice,
                   "user_target": alice, "name": "n".repeat(256)}),
            &["bundle", "name", "user_target"],
        ),
    ];
    for (body, fields) in &cases {
        assert_fields(
            &post(s, "/api/bundle_permission/", &f.alice.token, body),
            "bundle_permission",
            fields,
        );
    }
    assert_eq!(
        get(s, "/api/bundle_permission/", &f.admin.token)["meta"]["total_count"],
        0
    );

    // 255 characters is the most, counted in characters.
    for (bundle, name) in [(f.friend, "n".repeat(255)), (f.coach, "é".repeat(255))] {
        let p = assert_created(
            s,
            &post(
                s,
                "/api/bundle_permission/",
                &f.alice.token,
                &json!({"bundle": bundle_uri(bundle), "user_allowed": bob,
                        "user_target": alice, "name": name}),
            ),
        );
        assert_eq!(p["name"], name.as_str());
        assert_eq!(
            get(s, &permission_uri(id_of(&p)), &f.bob.token)["name"],
            name.as_str()
        );
    }
}

#[test]
fn permission_lists_show_the_callers_permissions_and_admins_see_all() {
    let f = family();
    let s = &f.s;
    let dave = user(s, &f.admin, "dave");
    let p1 = granted(s, &f.alice, f.friend, &f.bob, &f.alice);
    let p2 = granted(s, &f.carol, f.coach, &f.alice, &f.carol);
    let p3 = granted(s, &f.bob, f.friend, &f.carol, &f.bob);
    let (i1, i2, i3) = (id_of(&p1), id_of(&p2), id_of(&p3));
    let perms = |t: &str| list_ids(s, "/api/bundle_permission/", t);
    assert_eq!(perms(&f.alice.token), vec![i1, i2]);
    assert_eq!(perms(&f.bob.token), vec![i1, i3]);
    assert_eq!(perms(&f.carol.token), vec![i2, i3]);
    let none = get(s, "/api/bundle_permission/", &dave.token);
    assert_page(&none, 20, 0, 0);
    assert_eq!(none["objects"], json!([]));
    assert_eq!(none["meta"]["next"], Value::Null);
    let all = get(s, "/api/bundle_permission/", &f.admin.token);
    assert_page(&all, 20, 0, 3);
    assert_eq!(all["objects"], json!([p1, p2, p3]));
    assert_eq!(
        get(s, "/api/bundle_permission/?order_by=-id", &f.admin.token)["objects"],
        json!([p3, p2, p1])
    );
    // Paging a caller's own list.
    let page = get(s, "/api/bundle_permission/?limit=1", &f.alice.token);
    assert_page(&page, 1, 0, 2);
    assert_eq!(page["objects"], json!([p1]));
    assert_link(&page["meta"]["next"], "/api/bundle_permission/", &[], 1, 1);
    assert_eq!(
        get(s, &next_of(&page), &f.alice.token)["objects"],
        json!([p2])
    );

    // Details: parties and admins; anyone else, and unknown keys, 404.
    assert_eq!(get(s, &permission_uri(i2), &f.carol.token), p2);
    assert_eq!(get(s, &permission_uri(i2), &f.admin.token), p2);
    for (id, t) in [
        (i1, &dave.token),
        (i1, &f.carol.token),
        (i3, &f.alice.token),
    ] {
        assert_not_found(&call(s, "GET", &permission_uri(id), t, None));
    }
    for path in [
        "/api/bundle_permission/999999/",
        "/api/bundle_permission/abc/",
    ] {
        assert_not_found(&call(s, "GET", path, &f.admin.token, None));
    }
}

#[test]
fn permission_filters_resolve_references_and_unresolvable_values_match_nothing() {
    let f = family();
    let s = &f.s;
    let p1 = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    let p2 = id_of(&granted(s, &f.alice, f.coach, &f.carol, &f.alice));
    let p3 = id_of(&granted(s, &f.bob, f.friend, &f.alice, &f.bob));
    let abs = |uri: String| format!("{}{uri}", s.base);
    let filter = |t: &str, params: &[(&str, &str)]| {
        let list = get(s, &with_query("/api/bundle_permission/", params), t);
        let found = ids(&list);
        assert_eq!(list["meta"]["total_count"], found.len(), "{list}");
        found
    };
    let admin = |params: &[(&str, &str)]| filter(&f.admin.token, params);
    let (bob_id, carol_id) = (f.bob.id.to_string(), f.carol.id.to_string());
    let (friend_id, coach_id) = (f.friend.to_string(), f.coach.to_string());

    assert_eq!(admin(&[("user_allowed", &f.bob.uri())]), vec![p1]);
    assert_eq!(admin(&[("user_allowed", &bob_id)]), vec![p1]);
    assert_eq!(admin(&[("user_allowed", "BOB@TEST.COM")]), vec![p1]);
    assert_eq!(admin(&[("user_allowed", &abs(f.bob.uri()))]), vec![p1]);
    assert_eq!(
        admin(&[("user_allowed__exact", "carol@test.com")]),
        vec![p2]
    );
    assert_eq!(
        admin(&[("user_allowed__in", &format!("{},{carol_id}", f.bob.uri()))]),
        vec![p1, p2]
    );
    assert_eq!(
        admin(&[(
            "user_allowed__in",
            &format!("{},nobody@test.com", f.bob.uri())
        )]),
        vec![p1]
    );
    assert_eq!(admin(&[("user_target", &f.alice.uri())]), vec![p1, p2]);
    assert_eq!(admin(&[("user_target__exact", &bob_id)]), vec![p3]);
    assert_eq!(
        admin(&[("user_target__in", "alice@test.com,bob@test.com")]),
        vec![p1, p2, p3]
    );
    assert_eq!(admin(&[("bundle", &bundle_uri(f.friend))]), vec![p1, p3]);
    assert_eq!(admin(&[("bundle", &coach_id)]), vec![p2]);
    assert_eq!(admin(&[("bundle", &abs(bundle_uri(f.coach)))]), vec![p2]);
    assert_eq!(admin(&[("bundle__exact", &friend_id)]), vec![p1, p3]);
    assert_eq!(
        admin(&[(
            "bundle__in",
            &format!("{friend_id},{}", bundle_uri(f.coach))
        )]),
        vec![p1, p2, p3]
    );
    assert_eq!(
        admin(&[("bundle", &friend_id), ("user_target", &f.alice.uri())]),
        vec![p1]
    );
    // The data service's question, with the admin's token and with each party's own.
    let question = [
        ("user_allowed", f.bob.uri()),
        ("user_target", f.alice.uri()),
    ];
    let question: Vec<(&str, &str)> = question.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for t in [&f.admin.token, &f.bob.token, &f.alice.token] {
        assert_eq!(filter(t, &question), vec![p1]);
    }
    // A caller's filters stay within what it sees.
    assert_eq!(
        filter(&f.carol.token, &[("user_target", &f.alice.uri())]),
        vec![p2]
    );
    assert_eq!(
        filter(&f.carol.token, &[("user_allowed", &f.bob.uri())]),
        Vec::<i64>::new()
    );

    // Values that resolve to nothing match nothing.
    for (field, value) in [
        ("user_allowed", "nobody@test.com"),
        ("user_allowed", "/api/user/999999/"),
        ("user_allowed", "abc"),
        ("user_allowed", bundle_uri(f.friend).as_str()),
        ("user_target", "999999"),
        ("user_target__in", "nobody@test.com,999999"),
        ("bundle", "/api/bundle/999999/"),
        ("bundle", "abc"),
        ("bundle", f.alice.uri().as_str()),
        ("bundle__in", "999998,999999"),
    ] {
        assert_eq!(
            admin(&[(field, value)]),
            Vec::<i64>::new(),
            "{field}={value}"
        );
    }

    // A filtered list pages with the filter in its links.
    let params = [("user_target", f.alice.uri()), ("limit", "1".to_owned())];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = get(
        s,
        &with_query("/api/bundle_permission/", &params),
        &f.admin.token,
    );
    assert_page(&page, 1, 0, 2);
    assert_eq!(ids(&page), vec![p1]);
    assert_link(
        &page["meta"]["next"],
        "/api/bundle_permission/",
        &params,
        1,
        1,
    );
    assert_eq!(list_ids(s, &next_of(&page), &f.admin.token), vec![p2]);
}

#[test]
fn parties_and_admins_delete_permissions_and_others_get_404() {
    let f = family();
    let s = &f.s;
    let p1 = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    let p2 = id_of(&granted(s, &f.alice, f.coach, &f.bob, &f.alice));
    let p3 = id_of(&granted(s, &f.alice, f.full, &f.bob, &f.alice));
    let delete = |id: i64, t: &str| call(s, "DELETE", &permission_uri(id), t, None);

    // A third party: 404, and nothing changes.
    assert_not_found(&delete(p1, &f.carol.token));
    assert_eq!(
        list_ids(s, "/api/bundle_permission/", &f.alice.token),
        vec![p1, p2, p3]
    );

    // The user_allowed gives up access.
    delete(p1, &f.bob.token).assert_no_content();
    assert_not_found(&call(s, "GET", &permission_uri(p1), &f.alice.token, None));
    assert_not_found(&delete(p1, &f.bob.token));
    assert_not_found(&delete(p1, &f.admin.token));
    // The user_target withdraws it.
    delete(p2, &f.alice.token).assert_no_content();
    assert_not_found(&call(s, "GET", &permission_uri(p2), &f.bob.token, None));
    // An admin.
    delete(p3, &f.admin.token).assert_no_content();
    assert_not_found(&call(s, "GET", &permission_uri(p3), &f.admin.token, None));
    assert_not_found(&delete(999_999, &f.admin.token));

    for t in [&f.admin.token, &f.alice.token, &f.bob.token] {
        assert_eq!(
            get(s, "/api/bundle_permission/", t)["meta"]["total_count"],
            0
        );
    }
    // The triple can be granted again, as a new permission.
    let again = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    assert!(again != p1 && again != p2 && again != p3);
}

#[test]
fn deleting_a_user_through_keyrock_deletes_its_permissions() {
    let f = family();
    let s = &f.s;
    let p1 = id_of(&granted(s, &f.alice, f.friend, &f.bob, &f.alice));
    let p2 = id_of(&granted(s, &f.bob, f.coach, &f.carol, &f.bob));
    let p3 = granted(s, &f.carol, f.full, &f.alice, &f.carol);
    ask(s, &f.bob, f.friend, &f.bob, &f.carol, json!({})).assert_status(201);

    s.request("DELETE", &format!("/v1/users/{}", f.bob.keyrock_id))
        .token(&f.admin.token)
        .send()
        .assert_no_content();

    assert_eq!(
        get(s, "/api/bundle_permission/", &f.admin.token)["objects"],
        json!([p3])
    );
    for id in [p1, p2] {
        assert_not_found(&call(s, "GET", &permission_uri(id), &f.admin.token, None));
        assert_not_found(&call(s, "GET", &permission_uri(id), &f.alice.token, None));
    }
    assert_eq!(
        list_ids(s, "/api/user/", &f.alice.token),
        vec![f.alice.id, f.carol.id]
    );
    assert_eq!(
        list_ids(s, "/api/user/", &f.carol.token),
        vec![f.alice.id, f.carol.id]
    );
    assert_not_found(&call(s, "GET", &f.bob.uri(), &f.admin.token, None));
    assert_eq!(
        list_ids(s, "/api/user/", &f.admin.token),
        vec![f.admin.id, f.alice.id, f.carol.id]
    );
    // The user's requests are gone too.
    assert_eq!(
        get(s, "/api/bundle_permission_request/", &f.admin.token)["meta"]["total_count"],
        0
    );
    // The deleted user's token no longer authenticates; its references resolve to nothing.
    assert_unauthenticated(&call(s, "GET", "/api/account/", &f.bob.token, None));
    assert_eq!(
        list_ids(
            s,
            &with_query("/api/bundle_permission/", &[("user_allowed", &f.bob.uri())]),
            &f.admin.token
        ),
        Vec::<i64>::new()
    );
    assert_fields(
        &grant(s, &f.alice, f.friend, &f.bob, &f.alice),
        "bundle_permission",
        &["user_allowed"],
    );
}
