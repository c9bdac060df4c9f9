//! `tessera import keyrock --dump FILE` (keyrock.md 8, 9, 11; issue 12), black-box: the
//! binary runs as a child process on a fresh database of either backend, then `tessera
//! serve` runs on what it wrote and the suite checks over HTTP what a Keyrock operator
//! relies on after the move: the fixture's users log in with their old passwords, its
//! applications, roles, permissions, organizations and assignments are there, its live
//! tokens and code work once, its dead ones are refused, legacy credentials are upgraded on
//! first use on every login path, bad dumps are refused with a one-line reason and leave
//! the database as it was, and dumps of other Keyrock versions import.

use std::collections::BTreeSet;

use auth_core::password::{legacy_keyrock_hash, PasswordHasher, StoredPassword};
use auth_core::secrets::sha256_hex;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{
    api_tokens, iot_agents, oauth_access_tokens, oauth_clients, organizations, pep_proxies,
    server_keys, users,
};
use tessera_tests::authorize::{query, Browser, BAD_LOGIN};
use tessera_tests::import::*;
use tessera_tests::keyrock::INVALID_LOGIN;
use tessera_tests::oauth::*;
use tessera_tests::{count, json, Options, Server, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

// ---------------------------------------------------------------------------------------
// Facts of the fixture (keyrock.md 11), read from tests/fixtures/keyrock-test-fixture.sql.

const ALICE: &str = "aaaaaaaa-good-0000-0000-000000000000";
const BOB: &str = "bbbbbbbb-good-0000-0000-000000000000";
const CHARLIE: &str = "cccccccc-good-0000-0000-000000000000";
const DETECTIVE1: &str = "detective1-good-0000-0000-0000000000";
const DETECTIVE2: &str = "detective2-good-0000-0000-0000000000";
const MANAGER1: &str = "manager1-good-0000-0000-000000000000";
const MANAGER2: &str = "manager2-good-0000-0000-000000000000";

/// `(id, username, email)` of every fixture user, in dump order.
const USERS: [(&str, &str, &str); 10] = [
    (ALICE, "alice", "alice-the-admin@test.com"),
    (BOB, "bob", "bob-the-manager@test.com"),
    (CHARLIE, "charlie", "charlie-security@test.com"),
    (DETECTIVE1, "detective1", "detective1@test.com"),
    (DETECTIVE2, "detective2", "detective2@test.com"),
    ("eve-evil-0000-0000-000000000000", "eve", "eve@example.com"),
    (
        "mallory-evil-0000-0000-000000000000",
        "mallory",
        "mallory@example.com",
    ),
    (MANAGER1, "manager1", "manager1@test.com"),
    (MANAGER2, "manager2", "manager2@test.com"),
    ("rob-evil-0000-0000-000000000000", "rob", "rob@example.com"),
];
/// Every fixture user's password.
const PASSWORD: &str = "test";
/// The salt and legacy hash every fixture user is stored with.
const FIXTURE_SALT: &str = "fbba54b6750b16e8";
const FIXTURE_HASH: &str = "89e48c55e4e4b3b86141fb15f5e6abf70f8c32c0";

const APP: &str = "tutorial-dckr-site-0000-xpresswebapp";
const APP_SECRET: &str = "tutorial-dckr-site-0000-clientsecret";
const APP2: &str = "tutorial-lcal-host-0000-xpresswebapp";
const APP2_SECRET: &str = "tutorial-lcal-host-0000-clientsecret";
const LOGIN_URI: &str = "http://localhost:3000/login";
const GRANTS: &str = "authorization_code,implicit,password,client_credentials,refresh_token";

const SECURITY_TEAM: &str = "security-team-0000-0000-000000000000";
const MANAGERS_TEAM: &str = "managers-team-0000-0000-000000000000";
const SECURITY_ROLE: &str = "security-role-0000-0000-000000000000";
const MANAGERS_ROLE: &str = "managers-role-0000-0000-000000000000";
const BELL: &str = "alrmbell-ring-0000-0000-000000000000";
const ATTRIBUTES: &str = "attribute-lvl-0000-0000-000000000000";
const UNLOCK: &str = "entrance-open-0000-0000-000000000000";
const ORDER_STOCK: &str = "increase-stck-0000-0000-000000000000";
const PRICE_CHANGE: &str = "pricechg-stck-0000-0000-000000000000";

/// The long-lived authorization code (until 2200, no redirect URI, no scope).
const CODE: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The long-lived refresh token (until 2218).
const REFRESH: &str = "r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3r3";
/// The long-lived access token (scope `bearer`, until 2216-07-30 12:14:21 UTC).
const ACCESS: &str = "m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4m4";
/// Its sibling, issued with [`REFRESH`].
const ACCESS3: &str = "m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3m3";
/// An expired code of the application (2016).
const EXPIRED_CODE: &str = "15682667caa4bb5ac15056fee3836b2980288bf2";
/// An expired refresh token of the application (2018).
const EXPIRED_REFRESH: &str = "4eb1f99f80f37c81a8ef85d92eae836919887e1e";
/// Access tokens of applications absent from the dump (and expired).
const DANGLING_ACCESS: [&str; 8] = [
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1",
    "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2",
    "15682667caa4bb5ac15056fee3836b2980288bf2",
    "m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2m2",
    "m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1m1",
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "cccccccccccccccccccccccccccccccccccccccc",
];

/// The summary the fixture must give, counted from the dump by hand:
/// - `role`: 4 rows, `provider` and `purchaser` are built-ins;
/// - `permission`: 11 rows, `1`..`6` are built-ins;
/// - `role_permission`: 13 rows, the 7 links among built-ins skipped;
/// - `role_assignment`: 10 rows, 4 name applications absent from the dump;
/// - `user_authorized_application`: 2 rows, 1 names an absent application;
/// - `oauth_access_token`: 10 rows, 8 name absent applications; `m3m3…`, `m4m4…` remain;
/// - the codes (one expired) and refresh tokens (one expired) all name the tutorial
///   application and alice;
/// - not imported: `SequelizeMeta` (43), `auth_token` (4), `authzforce` (1),
///   `user_registration_profile` (1).
fn fixture_summary() -> Summary {
    Summary {
        dry_run: false,
        imported: imported_counts(&[
            ("user", 10),
            ("oauth_client", 2),
            ("organization", 2),
            ("role", 2),
            ("permission", 5),
            ("role_permission", 6),
            ("role_assignment", 6),
            ("user_organization", 8),
            ("trusted_application", 0),
            ("user_authorized_application", 1),
            ("pep_proxy", 0),
            ("iot", 0),
            ("oauth_authorization_code", 2),
            ("oauth_refresh_token", 3),
            ("oauth_access_token", 2),
        ]),
        skipped: skipped_counts(&[
            ("role", 2, BUILT_IN),
            ("permission", 6, BUILT_IN),
            ("role_permission", 7, BUILT_IN),
            ("role_assignment", 4, DANGLING),
            ("user_authorized_application", 1, DANGLING),
            ("oauth_access_token", 8, DANGLING),
            ("SequelizeMeta", 43, NOT_IMPORTED),
            ("auth_token", 4, NOT_IMPORTED),
            ("authzforce", 1, NOT_IMPORTED),
            ("user_registration_profile", 1, NOT_IMPORTED),
        ]),
    }
}

/// The tutorial application as its owner knows it.
fn app() -> OAuthApp {
    OAuthApp {
        id: APP.to_owned(),
        secret: APP_SECRET.to_owned(),
        jwt_secret: None,
    }
}

/// A fresh database with the fixture imported, and a server on it.
fn fixture_server() -> (Server, TestDb) {
    let db = TestDb::new();
    import_fixture(&db);
    let server = Server::start_on(&db, Options::default());
    (server, db)
}

/// The email of a fixture user.
fn email_of(id: &str) -> &'static str {
    USERS
        .iter()
        .find(|(i, _, _)| *i == id)
        .map(|(_, _, e)| *e)
        .unwrap_or_else(|| panic!("no fixture user {id}"))
}

/// Unix seconds of a UTC wall-clock time.
fn utc(y: i32, month: u8, d: u8, h: u8, mi: u8, s: u8) -> i64 {
    let month = time::Month::try_from(month).expect("a month");
    time::Date::from_calendar_date(y, month, d)
        .expect("a date")
        .with_hms(h, mi, s)
        .expect("a time")
        .assume_utc()
        .unix_timestamp()
}

/// A sorted set of `(a, b)` string pairs read from every object of a JSON list.
fn pairs(list: &Value, a: &str, b: &str) -> BTreeSet<(String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| {
            (
                o[a].as_str()
                    .unwrap_or_else(|| panic!("{a} in {o}"))
                    .to_owned(),
                o[b].as_str()
                    .unwrap_or_else(|| panic!("{b} in {o}"))
                    .to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The ids of a JSON list of objects, in order.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| {
            o["id"]
                .as_str()
                .unwrap_or_else(|| panic!("id in {o}"))
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The fixture, end to end.

#[test]
fn the_fixture_imports_with_a_summary_of_every_table() {
    let db = TestDb::new();
    let run = import_file(&db, &fixture_path(), &[]);
    let summary = run.assert_success();
    assert_eq!(summary, fixture_summary(), "stderr: {}", run.stderr);
    // The ids are Keyrock's, and secrets are digests: no plaintext token, code or client
    // secret is stored, while the legacy password hash is kept as it was (keyrock.md 9).
    let mut stored: Vec<String> = users::table
        .select(users::id)
        .load(&mut *db.conn())
        .unwrap();
    stored.sort();
    let mut expected: Vec<String> = USERS.iter().map(|(id, _, _)| id.to_string()).collect();
    expected.sort();
    assert_eq!(stored, expected);
    assert_eq!(db.secret_digest(APP), Some(sha256_hex(APP_SECRET)));
    assert_eq!(db.secret_digest(APP2), Some(sha256_hex(APP2_SECRET)));
    let access: Vec<String> = oauth_access_tokens::table
        .select(oauth_access_tokens::digest)
        .order(oauth_access_tokens::digest)
        .load(&mut *db.conn())
        .unwrap();
    let mut expected = vec![sha256_hex(ACCESS), sha256_hex(ACCESS3)];
    expected.sort();
    assert_eq!(access, expected);
    let text = db.dump_text();
    for secret in [
        APP_SECRET,
        APP2_SECRET,
        CODE,
        REFRESH,
        ACCESS,
        ACCESS3,
        EXPIRED_CODE,
    ] {
        assert!(!text.contains(secret), "{secret} is stored in plaintext");
    }
    assert!(text.contains(FIXTURE_HASH), "the legacy hash is not kept");
}

#[test]
fn every_fixture_user_logs_in_with_the_password_test_and_alice_is_admin() {
    let (s, _db) = fixture_server();
    for (id, username, email) in USERS {
        let token = s.login(email, PASSWORD);
        let me = s.keyrock("GET", &format!("/v1/users/{id}"), &token);
        let user = me.assert_status(200).json()["user"].clone();
        assert_eq!(
            (&user["id"], &user["username"], &user["email"]),
            (&json!(id), &json!(username), &json!(email)),
            "{user}"
        );
        assert_eq!(user["admin"], json!(id == ALICE), "{user}");
        assert_eq!(user["enabled"], true, "{user}");
        assert_eq!(user["gravatar"], false, "{user}");
        assert_eq!(user["date_password"], "2018-07-30T11:41:14.000Z", "{user}");
        assert_eq!(user["website"], Value::Null, "{user}");
        // `extra` is parsed JSON, not the dump's escaped string.
        assert_eq!(
            user["extra"],
            json!({"visible_attributes": ["username", "description", "website",
                   "identity_attributes", "image", "gravatar"]}),
            "{user}"
        );
        s.try_password(email, "not-test")
            .assert_keyrock_error(401, INVALID_LOGIN);
    }
    let alice = s.login(email_of(ALICE), PASSWORD);
    let me = s.keyrock("GET", &format!("/v1/users/{ALICE}"), &alice);
    assert_eq!(
        me.assert_status(200).json()["user"]["description"],
        "Alice is the admin"
    );
    // Only an admin lists users: alice can, and sees every fixture user.
    let listed = s.keyrock("GET", "/v1/users", &alice);
    let listed: BTreeSet<String> = ids(&listed.assert_status(200).json()["users"])
        .into_iter()
        .collect();
    for (id, _, _) in USERS {
        assert!(listed.contains(id), "{id} not listed: {listed:?}");
    }
    let bob = s.login(email_of(BOB), PASSWORD);
    s.keyrock("GET", "/v1/users", &bob)
        .assert_keyrock_error(403, "User not authorized to perform action");
}

#[test]
fn alice_sees_her_applications_roles_permissions_organizations_and_assignments() {
    let (s, _db) = fixture_server();
    let alice = s.login(email_of(ALICE), PASSWORD);
    let get = |path: &str| s.keyrock("GET", path, &alice).assert_status(200).json();

    // Her applications: the two tutorial ones, provider of both.
    let apps = get("/v1/applications");
    let mut listed = ids(&apps["applications"]);
    listed.sort();
    assert_eq!(listed, [APP, APP2]);
    let full = get(&format!("/v1/applications/{APP}"))["application"].clone();
    for (key, value) in [
        ("id", json!(APP)),
        ("name", json!("FIWARE Tutorial")),
        (
            "description",
            json!("FIWARE Application protected by OAuth2 and Keyrock"),
        ),
        ("secret", Value::Null),
        ("url", json!("http://localhost:3000")),
        ("redirect_uri", json!(LOGIN_URI)),
        ("redirect_sign_out_uri", Value::Null),
        ("image", json!("default")),
        ("grant_type", json!(GRANTS)),
        ("response_type", json!("code")),
        ("token_types", json!("bearer")),
        ("jwt_secret", Value::Null),
        ("client_type", Value::Null),
        ("scope", Value::Null),
    ] {
        assert_eq!(full[key], value, "{key} of {full}");
    }
    assert_eq!(
        get(&format!("/v1/applications/{APP2}"))["application"]["name"],
        "localhost App"
    );

    // Roles: the application's two plus the internal ones, by id descending (4.5).
    let roles = get(&format!("/v1/applications/{APP}/roles"))["roles"].clone();
    assert_eq!(
        roles,
        json!([
            {"id": SECURITY_ROLE, "name": "Security Team"},
            {"id": "purchaser", "name": "Purchaser"},
            {"id": "provider", "name": "Provider"},
            {"id": MANAGERS_ROLE, "name": "Management"},
        ])
    );
    let role = get(&format!("/v1/applications/{APP}/roles/{MANAGERS_ROLE}"))["role"].clone();
    assert_eq!(
        role,
        json!({"id": MANAGERS_ROLE, "name": "Management", "is_internal": false,
               "oauth_client_id": APP})
    );

    // Permissions: the five of the tutorial plus the six internal ones, by id descending.
    let permissions = get(&format!("/v1/applications/{APP}/permissions"))["permissions"].clone();
    assert_eq!(
        ids(&permissions),
        [
            PRICE_CHANGE,
            ORDER_STOCK,
            UNLOCK,
            ATTRIBUTES,
            BELL,
            "6",
            "5",
            "4",
            "3",
            "2",
            "1"
        ]
    );
    let permission =
        get(&format!("/v1/applications/{APP}/permissions/{ATTRIBUTES}"))["permission"].clone();
    assert_eq!(
        permission,
        json!({"id": ATTRIBUTES, "name": "Attribute Level", "description": "Read Attributes",
               "is_internal": false, "action": "GET,POST,PATCH,DELETE",
               "resource": "/ngsi-ld/v1/entities", "authorization_service_header": null,
               "use_authorization_service_header": 0, "regex_entity_ids": "urn:ngsi-ld:.*",
               "regex_attributes": "[speed|location|name]", "regex_types": "[Car|Bus]",
               "is_regex": 0, "xml": null, "oauth_client_id": APP})
    );
    let bell = get(&format!("/v1/applications/{APP}/permissions/{BELL}"))["permission"].clone();
    assert_eq!(
        (&bell["name"], &bell["action"], &bell["resource"]),
        (&json!("Ring Alarm"), &json!("POST"), &json!("/bell/ring"))
    );

    // Role–permission links.
    let linked = |role: &str| -> BTreeSet<String> {
        ids(
            &get(&format!("/v1/applications/{APP}/roles/{role}/permissions"))
                ["role_permission_assignments"],
        )
        .into_iter()
        .collect()
    };
    assert_eq!(
        linked(MANAGERS_ROLE),
        [BELL, ORDER_STOCK, PRICE_CHANGE, ATTRIBUTES]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert_eq!(
        linked(SECURITY_ROLE),
        [BELL, UNLOCK].iter().map(|s| s.to_string()).collect()
    );

    // Role assignments to users and to organizations.
    let users = get(&format!("/v1/applications/{APP}/users"))["role_user_assignments"].clone();
    assert_eq!(
        pairs(&users, "user_id", "role_id"),
        set(&[
            (ALICE, "provider"),
            (CHARLIE, SECURITY_ROLE),
            (BOB, MANAGERS_ROLE)
        ])
    );
    let users2 = get(&format!("/v1/applications/{APP2}/users"))["role_user_assignments"].clone();
    assert_eq!(
        pairs(&users2, "user_id", "role_id"),
        set(&[(ALICE, "provider")])
    );
    let orgs = get(&format!("/v1/applications/{APP}/organizations"))
        ["role_organization_assignments"]
        .clone();
    let triples: BTreeSet<(String, String, String)> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["organization_id"].as_str().unwrap().to_owned(),
                o["role_organization"].as_str().unwrap().to_owned(),
                o["role_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        (SECURITY_TEAM, "member", SECURITY_ROLE),
        (MANAGERS_TEAM, "member", MANAGERS_ROLE),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(triples, expected);

    // Her organizations (owner of both) and their members.
    let mine = get("/v1/organizations")["organizations"].clone();
    let seen: BTreeSet<(String, String)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["Organization"]["id"].as_str().unwrap().to_owned(),
                o["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        set(&[(SECURITY_TEAM, "owner"), (MANAGERS_TEAM, "owner")])
    );
    let security = get(&format!("/v1/organizations/{SECURITY_TEAM}"))["organization"].clone();
    assert_eq!(
        security,
        json!({"id": SECURITY_TEAM, "name": "Security",
               "description": "Security Group for Store Detectives", "website": null,
               "image": "default"})
    );
    let members = |org: &str| {
        pairs(
            &get(&format!("/v1/organizations/{org}/users"))["organization_users"],
            "user_id",
            "role",
        )
    };
    assert_eq!(
        members(SECURITY_TEAM),
        set(&[
            (ALICE, "owner"),
            (CHARLIE, "owner"),
            (DETECTIVE1, "member"),
            (DETECTIVE2, "member")
        ])
    );
    assert_eq!(
        members(MANAGERS_TEAM),
        set(&[
            (ALICE, "owner"),
            (BOB, "owner"),
            (MANAGER1, "member"),
            (MANAGER2, "member")
        ])
    );
}

/// The imported roles, organizations and permissions decide over `/user` (6.3, 6.4): direct
/// roles, roles through an organization (exact member match), and none.
#[test]
fn the_fixture_roles_and_organizations_decide_on_user() {
    let (s, _db) = fixture_server();
    let app = app();
    let token = |id: &str| s.password_grant(&app, email_of(id), PASSWORD).access;
    let decide = |token: &str, action: &str, resource: &str| -> Value {
        let resp = s.user_info(&[
            ("access_token", token),
            ("action", action),
            ("resource", resource),
        ]);
        resp.assert_status(200).json()
    };

    // bob holds the managers role directly.
    let bob = token(BOB);
    let body = decide(&bob, "POST", "/bell/ring");
    assert_eq!(body["authorization_decision"], "Permit", "{body}");
    assert_eq!(
        body["roles"],
        json!([{"id": MANAGERS_ROLE, "name": "Management"}])
    );
    assert_eq!(body["organizations"], json!([]));
    assert_eq!(
        decide(&bob, "GET", "/app/price-change")["authorization_decision"],
        "Permit"
    );
    assert_eq!(
        decide(&bob, "POST", "/door/unlock")["authorization_decision"],
        "Deny"
    );

    // detective1 holds the security role as a member of the security team.
    let detective = token(DETECTIVE1);
    let body = decide(&detective, "POST", "/door/unlock");
    assert_eq!(body["authorization_decision"], "Permit", "{body}");
    assert_eq!(body["roles"], json!([]));
    let orgs = body["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 1, "{body}");
    assert_eq!(orgs[0]["id"], SECURITY_TEAM);
    assert_eq!(
        orgs[0]["roles"],
        json!([{"id": SECURITY_ROLE, "name": "Security Team"}])
    );
    assert_eq!(
        decide(&detective, "GET", "/app/price-change")["authorization_decision"],
        "Deny"
    );

    // manager2 through the managers team; charlie directly; alice is only provider.
    assert_eq!(
        decide(&token(MANAGER2), "GET", "/app/order-stock")["authorization_decision"],
        "Permit"
    );
    assert_eq!(
        decide(&token(CHARLIE), "POST", "/door/unlock")["authorization_decision"],
        "Permit"
    );
    assert_eq!(
        decide(&token(ALICE), "POST", "/bell/ring")["authorization_decision"],
        "Deny"
    );
    let eve = s.password_grant(&app, "eve@example.com", PASSWORD).access;
    let body = decide(&eve, "POST", "/bell/ring");
    assert_eq!(body["authorization_decision"], "Deny", "{body}");
    assert_eq!(body["roles"], json!([]));
}

#[test]
fn the_fixture_access_token_answers_user_with_alice() {
    let (s, _db) = fixture_server();
    for token in [ACCESS, ACCESS3] {
        let body = s.user_of(token).assert_status(200).json();
        assert_eq!(body["id"], ALICE, "{body}");
        assert_eq!(body["sub"], ALICE, "{body}");
        assert_eq!(body["app_id"], APP, "{body}");
        // alice's consent record shares username and email.
        assert_eq!(body["username"], "alice", "{body}");
        assert_eq!(body["email"], "alice-the-admin@test.com", "{body}");
        // provider is never listed; her organizations' roles go to members, not owners.
        assert_eq!(body["roles"], json!([]), "{body}");
        assert_eq!(body["organizations"], json!([]), "{body}");
    }
    // The dump's expiry is UTC.
    let info = s.introspection(&app(), ACCESS);
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["client_id"], APP, "{info}");
    assert_eq!(info["sub"], ALICE, "{info}");
    assert_eq!(info["scope"], "bearer", "{info}");
    assert_eq!(
        info["exp"].as_i64(),
        Some(utc(2216, 7, 30, 12, 14, 21)),
        "{info}"
    );
    // The token is bound to its application.
    s.user_info(&[("access_token", ACCESS), ("app_id", APP2)])
        .assert_bare(401, NOT_IN_APP);
    // Each access token is linked to the refresh token it came with: revoking r4r4…
    // revokes m4m4… (5.5), not m3m3….
    s.revoke_token(
        &app(),
        "r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4",
        Some("refresh_token"),
    )
    .assert_revoked();
    s.assert_token_refused(ACCESS, TOKEN_REVOKED);
    s.assert_token_valid(ACCESS3);
    s.revoke_token(&app(), ACCESS3, None).assert_revoked();
    s.assert_token_refused(ACCESS3, TOKEN_REVOKED);
}

#[test]
fn the_fixture_refresh_token_is_redeemed_once() {
    let (s, _db) = fixture_server();
    let app = app();
    let t = s.refresh(&app, REFRESH, None).tokens();
    t.assert_shape(&["bearer"], true);
    assert_ne!(t.refresh(), REFRESH);
    assert_eq!(s.user_of(&t.access).assert_status(200).json()["id"], ALICE);
    s.refresh(&app, REFRESH, None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    // The new one works, once.
    s.refresh(&app, t.refresh(), None).tokens();
    // Bound to its application.
    let other = OAuthApp {
        id: APP2.to_owned(),
        secret: APP2_SECRET.to_owned(),
        jwt_secret: None,
    };
    s.refresh(&other, "r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4r4", None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);
}

#[test]
fn the_fixture_code_is_redeemed_once_with_the_login_redirect() {
    let (s, _db) = fixture_server();
    let app = app();
    let t = s
        .redeem(&app, CODE, &[("redirect_uri", LOGIN_URI)])
        .tokens();
    t.assert_shape(&["bearer"], true);
    let body = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(body["id"], ALICE, "{body}");
    s.redeem(&app, CODE, &[("redirect_uri", LOGIN_URI)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
}

/// keyrock.md 11: the expired and dangling tokens and codes fail as invalid or expired
/// (401 on /user, 400 on the token endpoint, 200 on revoke).
/// A 400 `invalid_grant` with one of these descriptions (and the RFC 6749 body).
#[track_caller]
fn assert_invalid_grant(resp: &tessera_tests::Resp, descriptions: &[&str]) {
    let description = resp.json()["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        descriptions.contains(&description.as_str()),
        "{} {}",
        resp.status,
        resp.body
    );
    resp.assert_oauth_error(400, "invalid_grant", &description);
}

#[test]
fn the_fixture_expired_and_dangling_tokens_are_refused() {
    let (s, _db) = fixture_server();
    let app = app();
    for token in DANGLING_ACCESS {
        s.assert_token_refused(token, TOKEN_UNKNOWN);
        s.revoke_token(&app, token, None).assert_revoked();
        s.revoke_token(&app, token, Some("access_token"))
            .assert_revoked();
    }
    // Expired: "expired", or "invalid" once the server purged it (keyrock.md 7).
    assert_invalid_grant(
        &s.redeem(&app, EXPIRED_CODE, &[("redirect_uri", LOGIN_URI)]),
        &[CODE_EXPIRED, BAD_CODE],
    );
    assert_invalid_grant(
        &s.refresh(&app, EXPIRED_REFRESH, None),
        &[REFRESH_EXPIRED, BAD_REFRESH],
    );
    s.revoke_token(&app, EXPIRED_REFRESH, Some("refresh_token"))
        .assert_revoked();
    // An access token is no code and no refresh token.
    s.redeem(&app, ACCESS, &[("redirect_uri", LOGIN_URI)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    s.refresh(&app, ACCESS, None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);
}

#[test]
fn the_fixture_applications_authenticate_with_their_secrets() {
    let (s, _db) = fixture_server();
    for (id, secret) in [(APP, APP_SECRET), (APP2, APP2_SECRET)] {
        let client = OAuthApp {
            id: id.to_owned(),
            secret: secret.to_owned(),
            jwt_secret: None,
        };
        let t = s.client_credentials(&client, None);
        t.assert_shape(&["bearer"], false);
        assert_eq!(
            s.user_of(&t.access).assert_status(200).json(),
            json!({"app_id": id})
        );
        s.token(
            (id, "tutorial-xxxx-xxxx-0000-clientsecret"),
            &[("grant_type", "client_credentials")],
        )
        .assert_basic_refused();
    }
    // The secret of one application is not the other's.
    s.token((APP, APP2_SECRET), &[("grant_type", "client_credentials")])
        .assert_basic_refused();
}

// ---------------------------------------------------------------------------------------
// Legacy credentials upgrade on first use (keyrock.md 8).

/// `(password_hash, password_salt)` of a user.
fn user_hash(db: &TestDb, id: &str) -> (Option<String>, Option<String>) {
    users::table
        .filter(users::id.eq(id))
        .select((users::password_hash, users::password_salt))
        .first(&mut *db.conn())
        .unwrap()
}

/// Asserts that a user still holds the fixture's legacy hash and salt, as imported.
#[track_caller]
fn assert_fixture_legacy(db: &TestDb, id: &str) {
    assert_eq!(
        user_hash(db, id),
        (Some(FIXTURE_HASH.to_owned()), Some(FIXTURE_SALT.to_owned())),
        "the imported legacy hash of {id}"
    );
    // The fixture is what keyrock.md 8 says it is.
    assert_eq!(
        legacy_keyrock_hash(PASSWORD, Some(FIXTURE_SALT)),
        FIXTURE_HASH
    );
}

/// Asserts that a user's legacy hash was replaced by a bcrypt hash of `password`, the salt
/// dropped, and that the old Keyrock hash verifies no more: it is not what is stored, the
/// stored hash is not classified as legacy, and neither `password` under the old scheme nor
/// the old hash itself (as a password) matches it.
#[track_caller]
fn assert_upgraded(db: &TestDb, id: &str, password: &str, legacy: &str, salt: Option<&str>) {
    let (hash, stored_salt) = user_hash(db, id);
    let hash = hash.expect("a password hash");
    assert!(hash.starts_with("$2"), "not replaced by bcrypt: {hash}");
    assert_ne!(hash, legacy);
    assert_eq!(stored_salt, None, "the salt is kept");
    let stored = StoredPassword::classify(&hash, stored_salt.as_deref());
    assert!(!stored.is_legacy(), "still a legacy hash: {hash}");
    let hasher = PasswordHasher::new(4, 1);
    assert!(
        hasher.verify(password, &stored),
        "{password} does not verify"
    );
    assert!(!hasher.verify(legacy, &stored), "the old hash verifies");
    let old = StoredPassword::LegacyKeyrock { hash: &hash, salt };
    assert!(
        !hasher.verify(password, &old),
        "the stored hash still verifies as a Keyrock hash"
    );
}

#[test]
fn a_legacy_password_is_upgraded_by_the_api_login() {
    let (s, db) = fixture_server();
    assert_fixture_legacy(&db, BOB);
    s.try_password(email_of(BOB), "wrong")
        .assert_keyrock_error(401, INVALID_LOGIN);
    assert_fixture_legacy(&db, BOB);
    s.login(email_of(BOB), PASSWORD);
    assert_upgraded(&db, BOB, PASSWORD, FIXTURE_HASH, Some(FIXTURE_SALT));
    s.login(email_of(BOB), PASSWORD);
    s.try_password(email_of(BOB), FIXTURE_HASH)
        .assert_keyrock_error(401, INVALID_LOGIN);
    // Nobody else was touched.
    assert_fixture_legacy(&db, ALICE);
}

#[test]
fn a_legacy_password_is_upgraded_by_the_easydb_login() {
    let (s, db) = fixture_server();
    let token = s.get("/api/v1/session").assert_status(200).json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let authenticate = |password: &str| {
        s.request("POST", "/api/v1/session/authenticate")
            .form(&[
                ("token", token.as_str()),
                ("login", email_of(DETECTIVE1)),
                ("password", password),
            ])
            .send()
    };
    assert_fixture_legacy(&db, DETECTIVE1);
    let refused = authenticate("wrong");
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["code"], "error.user.login_failed");
    assert_fixture_legacy(&db, DETECTIVE1);
    let session = authenticate(PASSWORD).assert_status(200).json();
    assert_eq!(
        session["user"]["user"]["keyrock_id"], DETECTIVE1,
        "{session}"
    );
    assert_upgraded(&db, DETECTIVE1, PASSWORD, FIXTURE_HASH, Some(FIXTURE_SALT));
    authenticate(PASSWORD).assert_status(200);
    assert_eq!(
        authenticate(FIXTURE_HASH).json()["code"],
        "error.user.login_failed"
    );
    // The API login agrees.
    s.login(email_of(DETECTIVE1), PASSWORD);
    assert_fixture_legacy(&db, BOB);
}

#[test]
fn a_legacy_password_is_upgraded_by_the_password_grant() {
    let (s, db) = fixture_server();
    let app = app();
    assert_fixture_legacy(&db, CHARLIE);
    s.try_password_grant(&app, email_of(CHARLIE), "wrong", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    assert_fixture_legacy(&db, CHARLIE);
    let t = s.password_grant(&app, email_of(CHARLIE), PASSWORD);
    assert_eq!(
        s.user_of(&t.access).assert_status(200).json()["id"],
        CHARLIE
    );
    assert_upgraded(&db, CHARLIE, PASSWORD, FIXTURE_HASH, Some(FIXTURE_SALT));
    s.password_grant(&app, email_of(CHARLIE), PASSWORD);
    s.try_password_grant(&app, email_of(CHARLIE), FIXTURE_HASH, None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    // The API login agrees.
    s.login(email_of(CHARLIE), PASSWORD);
    assert_fixture_legacy(&db, BOB);
}

#[test]
fn a_legacy_password_is_upgraded_by_the_authorize_login_form() {
    let (s, db) = fixture_server();
    let q = query(&[
        ("response_type", "code"),
        ("client_id", APP),
        ("redirect_uri", LOGIN_URI),
        ("state", "st-import"),
    ]);
    assert_fixture_legacy(&db, DETECTIVE1);
    let mut b = Browser::new(&s);
    let page = b.authorize(&q);
    b.submit_login(&page, email_of(DETECTIVE1), "wrong")
        .assert_page(200, BAD_LOGIN);
    assert_fixture_legacy(&db, DETECTIVE1);
    let mut b = Browser::new(&s);
    b.sign_in(&q, email_of(DETECTIVE1), PASSWORD);
    assert_upgraded(&db, DETECTIVE1, PASSWORD, FIXTURE_HASH, Some(FIXTURE_SALT));
    let mut again = Browser::new(&s);
    again.sign_in(&q, email_of(DETECTIVE1), PASSWORD);
    let mut thief = Browser::new(&s);
    let page = thief.authorize(&q);
    thief
        .submit_login(&page, email_of(DETECTIVE1), FIXTURE_HASH)
        .assert_page(200, BAD_LOGIN);
    // The other login paths agree.
    s.login(email_of(DETECTIVE1), PASSWORD);
    assert_fixture_legacy(&db, DETECTIVE2);
}

// ---------------------------------------------------------------------------------------
// Small dumps written by hand, in the fixture's Keyrock 8 shape (its CREATE TABLEs, rows in
// their column order) unless said otherwise.

/// A dump string literal.
fn q(value: &str) -> String {
    sql_str(Some(value))
}

/// A dump string literal or NULL.
fn qn(value: Option<&str>) -> String {
    sql_str(value)
}

/// A dump of these tables, each as mysqldump writes it: `DROP TABLE`, the fixture's
/// `CREATE TABLE` (or `create` when given), `LOCK TABLES`, one extended `INSERT` of the rows
/// (one tuple per line), `UNLOCK TABLES`.
fn keyrock8_dump(tables: &[(&str, Vec<String>)]) -> String {
    let mut d = String::from(
        "/*M!999999\\- enable the sandbox mode */ \n\
         -- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n\
         /*!40101 SET NAMES utf8mb4 */;\n\
         /*!40103 SET TIME_ZONE='+00:00' */;\n\
         /*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n\n",
    );
    for (table, rows) in tables {
        let create = if *table == "audit_trail" {
            "CREATE TABLE `audit_trail` (\n  `id` int(11) NOT NULL,\n  `what` varchar(255) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n".to_owned()
        } else {
            fixture_create_table(table)
        };
        d.push_str(&format!(
            "DROP TABLE IF EXISTS `{table}`;\n{create}\nLOCK TABLES `{table}` WRITE;\n"
        ));
        if !rows.is_empty() {
            d.push_str(&format!(
                "INSERT INTO `{table}` VALUES\n{};\n",
                rows.join(",\n")
            ));
        }
        d.push_str("UNLOCK TABLES;\n\n");
    }
    d.push_str("/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n-- Dump completed\n");
    d
}

/// A `user` row: enabled unless said, legacy hash of `password` with `salt`.
fn user_row(id: &str, email: &str, password: &str, salt: Option<&str>, admin: bool) -> String {
    let hash = legacy_keyrock_hash(password, salt);
    let username = email.split('@').next().unwrap();
    format!(
        "({},{},NULL,NULL,'default',0,{},{},'2018-07-30 11:41:14',1,{},NULL,NULL,0,NULL,{})",
        q(id),
        q(username),
        q(email),
        q(&hash),
        u8::from(admin),
        qn(salt)
    )
}

/// An `oauth_client` row with a secret, redirect URI and grant types.
fn client_row(id: &str, secret: &str, grants: &str) -> String {
    format!(
        "({},{},NULL,{},'http://localhost','http://localhost/cb','default',{},'code',NULL,NULL,NULL,'bearer',NULL,NULL)",
        q(id),
        q(id),
        q(secret),
        q(grants)
    )
}

/// A `pep_proxy` or `iot` row: id, legacy hash, application, salt.
fn agent_row(id: &str, password: &str, app: &str, salt: Option<&str>) -> String {
    format!(
        "({},{},{},{})",
        q(id),
        q(&legacy_keyrock_hash(password, salt)),
        q(app),
        qn(salt)
    )
}

/// `(password_digest, password_salt)` of a PEP proxy or IoT agent.
fn pep_hash(db: &TestDb, id: &str) -> (String, Option<String>) {
    pep_proxies::table
        .filter(pep_proxies::id.eq(id))
        .select((pep_proxies::password_digest, pep_proxies::password_salt))
        .first(&mut *db.conn())
        .unwrap()
}

fn iot_hash(db: &TestDb, id: &str) -> (String, Option<String>) {
    iot_agents::table
        .filter(iot_agents::id.eq(id))
        .select((iot_agents::password_digest, iot_agents::password_salt))
        .first(&mut *db.conn())
        .unwrap()
}

const DEV_APP: &str = "dev-app-0000";
const DEV_SECRET: &str = "dev-app-secret-0000";
const PEP: &str = "pep_proxy_11111111-2222-4333-8444-555555555555";
const PEP_PASSWORD: &str = "pep_proxy_99999999-8888-4777-8666-555555555555";
const PEP_SALT: &str = "4f1c2a9d0b3e5f67";
const IOT: &str = "iot_sensor_11111111-2222-4333-8444-555555555555";
const IOT_PASSWORD: &str = "iot_sensor_99999999-8888-4777-8666-555555555555";
const IOT_SALT: &str = "a0b1c2d3e4f5a6b7";
/// An access token of the IoT agent, in the dump.
const IOT_TOKEN: &str = "10701070107010701070107010701070107010a0";

#[test]
fn legacy_pep_proxy_and_iot_agent_passwords_move_to_sha256_on_first_use() {
    let dump = keyrock8_dump(&[
        (
            "iot",
            vec![agent_row(IOT, IOT_PASSWORD, DEV_APP, Some(IOT_SALT))],
        ),
        (
            "oauth_client",
            vec![client_row(
                DEV_APP,
                DEV_SECRET,
                "password,client_credentials,refresh_token",
            )],
        ),
        (
            "oauth_access_token",
            vec![format!(
                "({},'2300-01-01 00:00:00','bearer',NULL,1,NULL,{},NULL,{},NULL,{})",
                q(IOT_TOKEN),
                q(DEV_APP),
                q(IOT),
                q(&sha256_hex(IOT_TOKEN))
            )],
        ),
        (
            "pep_proxy",
            vec![agent_row(PEP, PEP_PASSWORD, DEV_APP, Some(PEP_SALT))],
        ),
    ]);
    let db = TestDb::new();
    let summary = import_dump(&db, dump.as_bytes(), &[]).assert_success();
    assert_eq!(
        (summary.imported("pep_proxy"), summary.imported("iot")),
        (1, 1)
    );
    let pep_legacy = legacy_keyrock_hash(PEP_PASSWORD, Some(PEP_SALT));
    let iot_legacy = legacy_keyrock_hash(IOT_PASSWORD, Some(IOT_SALT));
    // Imported as Keyrock stored them.
    assert_eq!(
        pep_hash(&db, PEP),
        (pep_legacy.clone(), Some(PEP_SALT.to_owned()))
    );
    assert_eq!(
        iot_hash(&db, IOT),
        (iot_legacy.clone(), Some(IOT_SALT.to_owned()))
    );
    let s = Server::start_on(&db, Options::default());
    // The agent's imported token is the agent's.
    let body = s.user_of(IOT_TOKEN).assert_status(200).json();
    assert_eq!(
        (&body["id"], &body["app_id"]),
        (&json!(IOT), &json!(DEV_APP)),
        "{body}"
    );

    // The PEP proxy: API login with its id.
    s.try_password(PEP, "pep_proxy_wrong")
        .assert_keyrock_error(401, "Invalid id or password");
    assert_eq!(pep_hash(&db, PEP).0, pep_legacy);
    let login = s.try_password(PEP, PEP_PASSWORD);
    login.assert_status(201);
    let token = login.header("x-subject-token").expect("a token");
    assert_eq!(
        s.inspect(&token).assert_status(200).json()["PepProxy"],
        json!({"id": PEP})
    );
    assert_eq!(pep_hash(&db, PEP), (sha256_hex(PEP_PASSWORD), None));
    s.try_password(PEP, PEP_PASSWORD).assert_status(201);
    s.try_password(PEP, &pep_legacy)
        .assert_keyrock_error(401, "Invalid id or password");

    // The IoT agent: the password grant with its id.
    let app = OAuthApp {
        id: DEV_APP.to_owned(),
        secret: DEV_SECRET.to_owned(),
        jwt_secret: None,
    };
    s.try_password_grant(&app, IOT, "iot_sensor_wrong", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    assert_eq!(iot_hash(&db, IOT).0, iot_legacy);
    let t = s.password_grant(&app, IOT, IOT_PASSWORD);
    assert_eq!(s.user_of(&t.access).assert_status(200).json()["id"], IOT);
    assert_eq!(iot_hash(&db, IOT), (sha256_hex(IOT_PASSWORD), None));
    s.password_grant(&app, IOT, IOT_PASSWORD);
    s.try_password_grant(&app, IOT, &iot_legacy, None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
}

/// keyrock.md 8: a NULL salt means the HMAC key `nodejs_idm`, for users, PEP proxies and
/// IoT agents alike.
#[test]
fn unsalted_legacy_passwords_verify_with_keyrocks_default_key() {
    let dump = keyrock8_dump(&[
        ("iot", vec![agent_row(IOT, IOT_PASSWORD, DEV_APP, None)]),
        (
            "oauth_client",
            vec![client_row(
                DEV_APP,
                DEV_SECRET,
                "password,client_credentials",
            )],
        ),
        (
            "pep_proxy",
            vec![agent_row(PEP, PEP_PASSWORD, DEV_APP, None)],
        ),
        (
            "user",
            vec![user_row(
                "old-user-0000",
                "old@test.com",
                "old-pw",
                None,
                false,
            )],
        ),
    ]);
    let db = TestDb::new();
    import_dump(&db, dump.as_bytes(), &[]).assert_success();
    let user_legacy = legacy_keyrock_hash("old-pw", None);
    assert_eq!(
        user_legacy,
        legacy_keyrock_hash("old-pw", Some("nodejs_idm"))
    );
    assert_eq!(
        user_hash(&db, "old-user-0000"),
        (Some(user_legacy.clone()), None)
    );
    let s = Server::start_on(&db, Options::default());
    s.login("old@test.com", "old-pw");
    assert_upgraded(&db, "old-user-0000", "old-pw", &user_legacy, None);
    s.try_password(PEP, PEP_PASSWORD).assert_status(201);
    assert_eq!(pep_hash(&db, PEP), (sha256_hex(PEP_PASSWORD), None));
    let app = OAuthApp {
        id: DEV_APP.to_owned(),
        secret: DEV_SECRET.to_owned(),
        jwt_secret: None,
    };
    s.password_grant(&app, IOT, IOT_PASSWORD);
    assert_eq!(iot_hash(&db, IOT), (sha256_hex(IOT_PASSWORD), None));
}

// ---------------------------------------------------------------------------------------
// Bad dumps: a one-line reason naming the line, and the database as it was.

/// Migrates a fresh database, imports `dump`, which must be refused with a reason at
/// `line` mentioning every needle; the database must be unchanged. Returns the reason.
#[track_caller]
fn assert_dump_refused(dump: &[u8], line: usize, needles: &[&str]) -> String {
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    let reason = import_dump(&db, dump, &[]).assert_refused_at(line, needles);
    db.assert_unchanged(&before);
    // Nothing of the dump, whatever came before the fault.
    assert_eq!(count!(db, users::table), 0);
    assert_eq!(count!(db, organizations::table), 0);
    assert_eq!(
        count!(
            db,
            oauth_clients::table.filter(oauth_clients::id.ne("idm_admin_app"))
        ),
        0
    );
    reason
}

#[test]
fn a_dump_truncated_mid_statement_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    let insert = line_of(&fixture, "INSERT INTO `user` VALUES");
    // Cut after the third row of the user INSERT: the statement never ends.
    let kept: Vec<&str> = fixture.lines().take(insert + 3).collect();
    let dump = format!("{}\n", kept.join("\n"));
    assert!(dump.trim_end().ends_with("),"), "cut between two rows");
    assert_dump_refused(dump.as_bytes(), insert, &["ends inside a statement"]);
}

#[test]
fn an_unterminated_string_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    let row = line_of(&fixture, "'Alice is the admin'");
    // The dump ends inside alice's description.
    let cut = fixture.find("'Alice is the ").unwrap() + "'Alice is the ".len();
    let dump = &fixture[..cut];
    let reason = assert_dump_refused(dump.as_bytes(), row, &["string"]);
    assert!(reason.contains("ends inside"), "{reason}");
}

#[test]
fn a_row_with_the_wrong_column_count_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    let row = line_of(&fixture, "'Bob is the regional manager'");
    let bad = fixture.replacen(
        "'Bob is the regional manager',NULL,'default',",
        "'Bob is the regional manager',NULL,",
        1,
    );
    assert_ne!(bad, fixture);
    assert_dump_refused(bad.as_bytes(), row, &["user", "15 values", "16 columns"]);
}

#[test]
fn a_non_utf8_byte_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    let row = line_of(&fixture, "'detective2@test.com'");
    // A latin1 'é' (0xE9) in detective2's description.
    let mut bytes = Vec::new();
    let at = fixture.find("('detective2-good").unwrap();
    let word = at + fixture[at..].find("works for Charlie").unwrap();
    bytes.extend_from_slice(&fixture.as_bytes()[..word]);
    bytes.extend_from_slice(b"works for Charli\xe9");
    bytes.extend_from_slice(&fixture.as_bytes()[word + "works for Charlie".len()..]);
    assert!(String::from_utf8(bytes.clone()).is_err());
    assert_dump_refused(&bytes, row, &["UTF-8"]);
}

#[test]
fn an_unknown_table_named_like_a_known_one_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    let insert = line_of(&fixture, "INSERT INTO `user` VALUES");
    let bad = fixture.replacen("INSERT INTO `user` VALUES", "INSERT INTO `usr` VALUES", 1);
    assert_dump_refused(bad.as_bytes(), insert, &["unknown table usr", "user"]);
}

#[test]
fn a_table_without_a_required_column_is_refused_and_nothing_is_written() {
    let fixture = fixture_text();
    // The user table's `email` column is called something else in this dump.
    let create = fixture.find("CREATE TABLE `user` (").unwrap();
    let mut bad = fixture[..create].to_owned();
    bad.push_str(
        &fixture[create..]
            .replacen(
                "  `email` varchar(255) DEFAULT NULL,",
                "  `mail` varchar(255) DEFAULT NULL,",
                1,
            )
            .replacen(
                "UNIQUE KEY `email` (`email`)",
                "UNIQUE KEY `mail` (`mail`)",
                1,
            ),
    );
    assert_ne!(bad, fixture);
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    let reason = import_dump(&db, bad.as_bytes(), &[]).assert_refused();
    assert!(reason.starts_with("line "), "{reason}");
    assert!(
        reason.contains("table user has no column email"),
        "{reason}"
    );
    db.assert_unchanged(&before);
}

#[test]
fn a_fault_in_the_last_table_leaves_nothing_of_the_earlier_ones() {
    let fixture = fixture_text();
    // user_organization is the last table the importer maps in the fixture; break its
    // last row.
    let last = "(9,'member','detective2-good-0000-0000-0000000000','security-team-0000-0000-000000000000');";
    let row = line_of(&fixture, last);
    let bad = fixture.replacen(
        last,
        "(9,'detective2-good-0000-0000-0000000000','security-team-0000-0000-000000000000');",
        1,
    );
    assert_dump_refused(
        bad.as_bytes(),
        row,
        &["user_organization", "3 values", "4 columns"],
    );
}

#[test]
fn a_failed_import_into_a_fresh_database_leaves_no_tables() {
    let fixture = fixture_text();
    let insert = line_of(&fixture, "INSERT INTO `user` VALUES");
    let kept: Vec<&str> = fixture.lines().take(insert + 3).collect();
    let db = TestDb::new();
    assert!(db.table_names().is_empty());
    import_dump(&db, kept.join("\n").as_bytes(), &[])
        .assert_refused_at(insert, &["ends inside a statement"]);
    // The migrations ran in the same transaction and went with it.
    assert_eq!(db.table_names(), Vec::<String>::new());
    // And the database takes the dump afterwards.
    assert_eq!(import_fixture(&db), fixture_summary());
}

#[test]
fn a_second_import_into_the_same_database_is_refused_and_changes_nothing() {
    let db = TestDb::new();
    import_fixture(&db);
    let before = db.capture();
    let reason = import_file(&db, &fixture_path(), &[]).assert_refused();
    assert!(
        reason.starts_with("the target database is not empty"),
        "{reason}"
    );
    db.assert_unchanged(&before);
    // A dry run is refused the same way.
    let reason = import_file(&db, &fixture_path(), &["--dry-run"]).assert_refused();
    assert!(
        reason.starts_with("the target database is not empty"),
        "{reason}"
    );
    db.assert_unchanged(&before);
}

#[test]
fn a_database_with_data_made_through_the_api_is_refused() {
    let db = TestDb::new();
    {
        let s = Server::start_on(&db, Options::default());
        let admin = s.admin_token();
        s.create_user(&admin, "someone", "someone@test.com", "pw-someone");
    }
    let before = db.capture();
    let reason = import_file(&db, &fixture_path(), &[]).assert_refused();
    assert!(
        reason.starts_with("the target database is not empty"),
        "{reason}"
    );
    db.assert_unchanged(&before);
}

#[test]
fn a_database_that_only_served_takes_the_dump() {
    let db = TestDb::new();
    {
        // The bootstrap admin, its API token and the server's RS256 key are no data.
        let s = Server::start_on(
            &db,
            Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256"),
        );
        s.admin_token();
        s.get("/.well-known/jwks.json").assert_status(200);
    }
    assert_eq!(count!(db, api_tokens::table), 1);
    assert_eq!(count!(db, server_keys::table), 1);
    assert_eq!(import_fixture(&db), fixture_summary());
    let s = Server::start_on(&db, Options::default());
    s.admin_token();
    s.login(email_of(ALICE), PASSWORD);
    assert_eq!(count!(db, users::table), 11);
}

#[test]
fn a_dump_user_with_id_admin_replaces_the_bootstrap_admin() {
    let db = TestDb::new();
    {
        let s = Server::start_on(&db, Options::default());
        s.admin_token();
    }
    let dump = keyrock8_dump(&[(
        "user",
        vec![
            user_row(
                "admin",
                "admin@keyrock.test",
                "kr-admin-pw",
                Some("s-admin"),
                true,
            ),
            user_row(
                "plain-user-0000",
                "plain@keyrock.test",
                "plain-pw",
                Some("s-plain"),
                false,
            ),
        ],
    )]);
    let summary = import_dump(&db, dump.as_bytes(), &[]).assert_success();
    assert_eq!(summary.imported("user"), 2);
    assert_eq!(count!(db, users::table), 2);
    assert_eq!(count!(db, users::table.filter(users::id.eq("admin"))), 1);
    let s = Server::start_on(&db, Options::default());
    s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD)
        .assert_keyrock_error(401, INVALID_LOGIN);
    let admin = s.login("admin@keyrock.test", "kr-admin-pw");
    let me = s.keyrock("GET", "/v1/users/admin", &admin);
    let user = me.assert_status(200).json()["user"].clone();
    assert_eq!(
        (&user["email"], &user["admin"]),
        (&json!("admin@keyrock.test"), &json!(true)),
        "{user}"
    );
    s.login("plain@keyrock.test", "plain-pw");
}

#[test]
fn an_unreadable_file_is_refused() {
    let db = TestDb::new();
    let missing = std::env::temp_dir().join("tessera-no-such-dump.sql");
    let reason = import_file(&db, &missing, &[]).assert_refused();
    assert!(reason.starts_with("cannot read "), "{reason}");
    assert!(reason.contains("tessera-no-such-dump.sql"), "{reason}");
}

/// keyrock.md 9 lists `\0` among the string escapes an import must handle, and nothing
/// stored may hold a NUL (PostgreSQL text cannot; the storage layer relies on it): a value
/// with `\0` is either stored without the NUL, or the dump is refused with a reason naming
/// its line and nothing written; never a NUL in the store, never a bare database error.
#[test]
fn a_nul_escape_is_never_stored_nor_a_database_error() {
    let hash = legacy_keyrock_hash("nul-pw", Some("s-nul"));
    let dump = keyrock8_dump(&[(
        "user",
        vec![
            user_row("u-fine", "fine@test.com", "fine-pw", Some("s-fine"), true),
            format!(
                "('u-nul','nul','before\\0after',NULL,'default',0,'nul@test.com',{},NULL,1,0,NULL,NULL,0,NULL,'s-nul')",
                q(&hash)
            ),
        ],
    )]);
    assert!(dump.contains("'before\\0after'"));
    let row = line_of(&dump, "'u-nul'");
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    let run = import_dump(&db, dump.as_bytes(), &[]);
    if run.code == Some(0) {
        let description: Option<String> = users::table
            .filter(users::id.eq("u-nul"))
            .select(users::description)
            .first(&mut *db.conn())
            .unwrap();
        let description = description.unwrap_or_default();
        assert!(
            !description.contains('\0'),
            "a NUL was stored: {description:?}"
        );
        assert!(description.starts_with("before"), "{description:?}");
    } else {
        run.assert_refused_at(row, &[]);
        db.assert_unchanged(&before);
    }
}

// ---------------------------------------------------------------------------------------
// --dry-run, stdin, --help.

#[test]
fn a_dry_run_prints_the_same_summary_and_writes_nothing() {
    let db = TestDb::new();
    let run = import_file(&db, &fixture_path(), &["--dry-run"]);
    let dry = run.assert_success();
    assert!(
        run.last_line().starts_with(DRY_RUN_PREFIX),
        "{}",
        run.last_line()
    );
    assert!(dry.dry_run);
    assert_eq!(
        Summary {
            dry_run: false,
            ..dry.clone()
        },
        fixture_summary()
    );
    // Nothing written, not even the migrations.
    assert_eq!(db.table_names(), Vec::<String>::new());
    // On a migrated database too: byte for byte.
    migrate(&db);
    let before = db.capture();
    let again = import_file(&db, &fixture_path(), &["--dry-run"]).assert_success();
    assert_eq!(again, dry);
    db.assert_unchanged(&before);
    // The real import then runs as the dry run said.
    let real = import_fixture(&db);
    assert_eq!(real, fixture_summary());
    assert_eq!(count!(db, users::table), 10);
}

#[test]
fn dump_dash_reads_the_dump_from_stdin() {
    let db = TestDb::new();
    let bytes = std::fs::read(fixture_path()).unwrap();
    let summary = import_stdin(&db, &bytes, &[]).assert_success();
    assert_eq!(summary, fixture_summary());
    let s = Server::start_on(&db, Options::default());
    s.login(email_of(ALICE), PASSWORD);
    s.assert_token_valid(ACCESS);
    // A bad dump on stdin is refused the same way as from a file.
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    import_stdin(&db, b"INSERT INTO `usr` VALUES\n('x');\n", &[])
        .assert_refused_at(1, &["unknown table usr", "user"]);
    db.assert_unchanged(&before);
}

#[test]
fn import_keyrock_help_documents_its_flags() {
    let run = run_tessera(None, &["import", "keyrock", "--help"], None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for flag in ["--dump", "--dry-run"] {
        assert!(run.stdout.contains(flag), "{flag} not in:\n{}", run.stdout);
    }
    let run = run_tessera(None, &["import", "--help"], None);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("keyrock"), "{}", run.stdout);
}

#[test]
fn import_keyrock_without_dump_names_the_missing_flag() {
    let db = TestDb::new();
    let run = run_tessera(Some(&db), &["import", "keyrock"], None);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("--dump"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Skipped rows.

const KEEP_APP: &str = "keep-app-0000";
const KEEP_SECRET: &str = "keep-app-secret-0000";

const KEEP_APP2: &str = "keep-app-2-0000";

/// A Keyrock 8 dump with built-ins, rows whose references are absent (directly or because
/// the row they name was itself skipped), tables §9 does not import, an unknown table,
/// tokens with `valid = 0` (one issued from a used code), a custom role linked to the
/// internal permission 2, and a trusted application.
fn skipping_dump() -> String {
    let token = |t: &str| t.repeat(20);
    let access = |tok: &str, expires: &str, valid: u8, user: &str| {
        format!(
            "({},{},'bearer',NULL,{valid},NULL,{},{},NULL,NULL,{})",
            q(tok),
            q(expires),
            q(KEEP_APP),
            q(user),
            q(&sha256_hex(tok))
        )
    };
    keyrock8_dump(&[
        (
            "audit_trail",
            vec!["(1,'created')".into(), "(2,'deleted')".into()],
        ),
        (
            "auth_token",
            vec!["('0b9c1f0e-0000-4000-8000-000000000000','2016-07-30 13:02:37',1,'u-1',NULL)".into()],
        ),
        (
            "oauth_access_token",
            vec![
                access(&token("a1"), "2300-01-01 00:00:00", 1, "u-1"),
                access(&token("a0"), "2300-01-01 00:00:00", 0, "u-1"),
                access(&token("ae"), "2001-01-01 00:00:00", 1, "u-1"),
                access(&token("ag"), "2300-01-01 00:00:00", 1, "u-ghost"),
                // Issued from the used code c0….
                format!(
                    "({},'2300-01-01 00:00:00','bearer',NULL,1,NULL,{},'u-1',NULL,{},{})",
                    q(&token("a2")),
                    q(KEEP_APP),
                    q(&token("c0")),
                    q(&sha256_hex(&token("a2")))
                ),
                format!(
                    "(NULL,'2300-01-01 00:00:00','bearer',NULL,1,NULL,{},'u-1',NULL,NULL,{})",
                    q(KEEP_APP),
                    q(&"f".repeat(64))
                ),
            ],
        ),
        (
            "oauth_authorization_code",
            vec![format!(
                "({},'2300-01-01 00:00:00',NULL,NULL,0,NULL,{},'u-1',NULL)",
                q(&token("c0")),
                q(KEEP_APP)
            )],
        ),
        (
            "oauth_client",
            vec![
                "('idm_admin_app','idm',NULL,'idm','','',NULL,'','',NULL,NULL,NULL,NULL,NULL,NULL)"
                    .into(),
                client_row(
                    KEEP_APP,
                    KEEP_SECRET,
                    "password,client_credentials,refresh_token,authorization_code",
                ),
                client_row(KEEP_APP2, "keep-app-2-secret", "client_credentials"),
            ],
        ),
        (
            "oauth_refresh_token",
            vec![
                format!(
                    "({},'2300-01-01 00:00:00',NULL,{},'u-1',NULL,NULL,0)",
                    q(&token("b0")),
                    q(KEEP_APP)
                ),
                format!(
                    "({},'2300-01-01 00:00:00',NULL,{},'u-1',NULL,NULL,1)",
                    q(&token("b1")),
                    q(KEEP_APP)
                ),
                format!(
                    "({},'2300-01-01 00:00:00',NULL,'ghost-app','u-1',NULL,NULL,1)",
                    q(&token("bg"))
                ),
            ],
        ),
        ("oauth_scope", vec!["(1,'openid',1)".into()]),
        (
            "permission",
            vec![
                "('1','Get and assign all internal application roles',NULL,1,NULL,NULL,NULL,'idm_admin_app',0,NULL,0,NULL,NULL,NULL)".into(),
                format!("('p-keep','Keep','Keep it',0,'GET','/keep',NULL,{},0,NULL,0,NULL,NULL,NULL)", q(KEEP_APP)),
                "('p-ghost','Ghost',NULL,0,'GET','/ghost',NULL,'ghost-app',0,NULL,0,NULL,NULL,NULL)".into(),
            ],
        ),
        (
            "role",
            vec![
                "('provider','Provider',1,'idm_admin_app')".into(),
                format!("('r-keep','Keeper',0,{})", q(KEEP_APP)),
                "('r-ghost','Ghost',0,'ghost-app')".into(),
            ],
        ),
        (
            "role_assignment",
            vec![
                format!("(1,NULL,{},'provider',NULL,'u-1')", q(KEEP_APP)),
                format!("(2,NULL,{},'r-keep',NULL,'u-ghost')", q(KEEP_APP)),
                "(3,NULL,'ghost-app','r-keep',NULL,'u-1')".into(),
                format!("(4,NULL,{},'r-keep',NULL,'u-2')", q(KEEP_APP)),
            ],
        ),
        (
            "role_permission",
            vec![
                "(1,'provider','1')".into(),
                "(2,'r-keep','p-keep')".into(),
                "(3,'r-ghost','p-keep')".into(),
                "(4,'r-keep','p-ghost')".into(),
                // A custom role given the internal "Manage the application" (4.7).
                "(5,'r-keep','2')".into(),
            ],
        ),
        (
            "trusted_application",
            vec![
                format!("(1,{},'ghost-app')", q(KEEP_APP)),
                // keep-app-2 trusts keep-app: keep-app's tokens are valid for it.
                format!("(2,{},{})", q(KEEP_APP2), q(KEEP_APP)),
            ],
        ),
        (
            "user",
            vec![
                user_row("u-1", "one@test.com", "one-pw", Some("salt-1"), true),
                user_row("u-2", "two@test.com", "two-pw", Some("salt-2"), false),
            ],
        ),
        (
            "user_authorized_application",
            vec![
                format!("(1,'u-1',{},'username',NULL)", q(KEEP_APP)),
                format!("(2,'u-ghost',{},'username,email',NULL)", q(KEEP_APP)),
            ],
        ),
        (
            "user_organization",
            vec!["(1,'owner','u-1','org-ghost')".into()],
        ),
    ])
}

#[test]
fn skipped_rows_are_counted_by_reason_and_invalid_tokens_stay_invalid() {
    let db = TestDb::new();
    let summary = import_dump(&db, skipping_dump().as_bytes(), &[]).assert_success();
    assert_eq!(
        summary.imported,
        imported_counts(&[
            ("user", 2),
            ("oauth_client", 2),
            ("role", 1),
            ("permission", 1),
            ("role_permission", 2),
            ("role_assignment", 2),
            ("trusted_application", 1),
            ("user_authorized_application", 1),
            ("oauth_authorization_code", 1),
            ("oauth_refresh_token", 2),
            ("oauth_access_token", 4),
        ])
    );
    assert_eq!(
        summary.skipped,
        skipped_counts(&[
            ("oauth_client", 1, BUILT_IN),
            ("role", 1, BUILT_IN),
            ("role", 1, DANGLING),
            ("permission", 1, BUILT_IN),
            ("permission", 1, DANGLING),
            ("role_permission", 1, BUILT_IN),
            ("role_permission", 2, DANGLING),
            ("role_assignment", 2, DANGLING),
            ("user_organization", 1, DANGLING),
            ("trusted_application", 1, DANGLING),
            ("user_authorized_application", 1, DANGLING),
            ("oauth_access_token", 1, DANGLING),
            ("oauth_access_token", 1, NO_PLAINTEXT),
            ("oauth_refresh_token", 1, DANGLING),
            ("audit_trail", 2, UNKNOWN_TABLE),
            ("auth_token", 1, NOT_IMPORTED),
            ("oauth_scope", 1, NOT_IMPORTED),
        ])
    );
    let s = Server::start_on(&db, Options::default());
    let app = OAuthApp {
        id: KEEP_APP.to_owned(),
        secret: KEEP_SECRET.to_owned(),
        jwt_secret: None,
    };
    // valid = 1 and in the future: works.
    let body = s.user_of(&"a1".repeat(20)).assert_status(200).json();
    assert_eq!(body["id"], "u-1", "{body}");
    // The consent record holds `username` only.
    assert_eq!(
        (&body["username"], &body["email"]),
        (&json!("one"), &json!("")),
        "{body}"
    );
    // valid = 0: revoked or used.
    s.assert_token_refused(&"a0".repeat(20), TOKEN_REVOKED);
    s.refresh(&app, &"b0".repeat(20), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    s.assert_token_valid(&"a2".repeat(20));
    s.redeem(&app, &"c0".repeat(20), &[])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    // Presenting the used code revoked what was issued from it (5.4).
    s.assert_token_refused(&"a2".repeat(20), TOKEN_REVOKED);
    // Expired ("expired", or "invalid" once purged, keyrock.md 7), and skipped.
    let expired = s.user_of(&"ae".repeat(20));
    let message = expired.json();
    assert!(
        message == json!(TOKEN_EXPIRED) || message == json!(TOKEN_UNKNOWN),
        "{}",
        expired.body
    );
    expired.assert_bare(401, message.as_str().unwrap());
    s.assert_token_refused(&"ag".repeat(20), TOKEN_UNKNOWN);
    s.refresh(&app, &"bg".repeat(20), None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);
    s.refresh(&app, &"b1".repeat(20), None).tokens();
    // The kept role and its one link; u-1 provides the application.
    let one = s.login("one@test.com", "one-pw");
    let roles = s.keyrock("GET", &format!("/v1/applications/{KEEP_APP}/roles"), &one);
    assert_eq!(
        ids(&roles.assert_status(200).json()["roles"]),
        ["r-keep", "purchaser", "provider"]
    );
    let links = s.keyrock(
        "GET",
        &format!("/v1/applications/{KEEP_APP}/roles/r-keep/permissions"),
        &one,
    );
    let mut linked = ids(&links.assert_status(200).json()["role_permission_assignments"]);
    linked.sort();
    assert_eq!(linked, ["2", "p-keep"]);
    s.keyrock(
        "GET",
        &format!("/v1/applications/{KEEP_APP}/trusted_applications"),
        &one,
    )
    .assert_keyrock_error(404, "Trusted applications nof found");
    // keep-app-2 trusts keep-app.
    let body = s
        .user_info(&[("access_token", &"a1".repeat(20)), ("app_id", KEEP_APP2)])
        .assert_status(200)
        .json();
    assert_eq!(body["trusted_apps"], json!([KEEP_APP]), "{body}");
    // u-2's custom role carries the internal permission 2 in keep-app: it may manage the
    // PEP proxy there (none yet), and nothing in keep-app-2.
    let two = s.login("two@test.com", "two-pw");
    s.keyrock(
        "GET",
        &format!("/v1/applications/{KEEP_APP}/pep_proxies"),
        &two,
    )
    .assert_keyrock_error(404, "Pep Proxy not found");
    s.keyrock(
        "GET",
        &format!("/v1/applications/{KEEP_APP2}/pep_proxies"),
        &two,
    )
    .assert_not_permitted();
    // The built-in application is still the seeded one: no tokens for it.
    s.token(
        ("idm_admin_app", "idm"),
        &[("grant_type", "client_credentials")],
    )
    .assert_basic_refused();
}

/// An access-token row whose `access_token` is empty or NULL (a dump of a Keyrock that
/// kept only the `hash`) carries no plaintext: skipped as such, never a token of digest
/// SHA-256("").
#[test]
fn access_token_rows_without_plaintext_are_skipped() {
    let dump = keyrock8_dump(&[
        (
            "oauth_access_token",
            vec![
                format!(
                    "('','2300-01-01 00:00:00','bearer',NULL,1,NULL,{},'u-1',NULL,NULL,{})",
                    q(KEEP_APP),
                    q(&"e".repeat(64))
                ),
                format!(
                    "(NULL,'2300-01-01 00:00:00','bearer',NULL,1,NULL,{},'u-1',NULL,NULL,{})",
                    q(KEEP_APP),
                    q(&"f".repeat(64))
                ),
                format!(
                    "({},'2300-01-01 00:00:00','bearer',NULL,1,NULL,{},'u-1',NULL,NULL,{})",
                    q(&"a1".repeat(20)),
                    q(KEEP_APP),
                    q(&sha256_hex(&"a1".repeat(20)))
                ),
            ],
        ),
        (
            "oauth_client",
            vec![client_row(KEEP_APP, KEEP_SECRET, "password")],
        ),
        (
            "user",
            vec![user_row(
                "u-1",
                "one@test.com",
                "one-pw",
                Some("salt-1"),
                true,
            )],
        ),
    ]);
    let db = TestDb::new();
    let summary = import_dump(&db, dump.as_bytes(), &[]).assert_success();
    assert_eq!(summary.imported("oauth_access_token"), 1, "{summary:?}");
    assert_eq!(
        summary.skipped("oauth_access_token", NO_PLAINTEXT),
        2,
        "{summary:?}"
    );
    let digests: Vec<String> = oauth_access_tokens::table
        .select(oauth_access_tokens::digest)
        .load(&mut *db.conn())
        .unwrap();
    assert_eq!(digests, [sha256_hex(&"a1".repeat(20))]);
}

/// Every table keyrock.md 9 does not import, with a row each, is counted as such: none is
/// taken for an unknown table or for a typo of an imported one.
#[test]
fn every_table_section_9_leaves_out_is_counted_as_not_imported() {
    let nulls = |n: usize| vec!["NULL"; n].join(",");
    let dump = keyrock8_dump(&[
        // An empty `user` table: a Keyrock dump holds at least one table Keyrock has.
        ("user", vec![]),
        (
            "SequelizeMeta",
            vec!["('201802190000-CreateUserTable.js')".into()],
        ),
        (
            "auth_token",
            vec![
                "('0b9c1f0e-0000-4000-8000-000000000000','2016-07-30 13:02:37',1,NULL,NULL)".into(),
            ],
        ),
        (
            "authzforce",
            vec!["('NYP5CukQEei0BgJCrBIBDA','d72f7c1c',1,NULL)".into()],
        ),
        (
            "delegation_evidence",
            vec!["('EU.EORI.A','EU.EORI.B','{}')".into()],
        ),
        (
            "eidas_credentials",
            vec![format!("('e-1',{},'private')", nulls(15))],
        ),
        ("oauth_scope", vec!["(1,'openid',1)".into()]),
        ("ptp", vec!["(1,'job-1',NULL)".into()]),
        ("role_usage_policy", vec!["(1,NULL,NULL)".into()]),
        (
            "usage_policy",
            vec![format!("('up-1','Count','d','COUNT_POLICY',{})", nulls(6))],
        ),
        (
            "user_registration_profile",
            vec![format!("(1,'b26roiin0r',{})", nulls(8))],
        ),
    ]);
    let db = TestDb::new();
    let summary = import_dump(&db, dump.as_bytes(), &[]).assert_success();
    assert_eq!(summary.imported, imported_counts(&[]));
    assert_eq!(
        summary.skipped,
        skipped_counts(&[
            ("SequelizeMeta", 1, NOT_IMPORTED),
            ("auth_token", 1, NOT_IMPORTED),
            ("authzforce", 1, NOT_IMPORTED),
            ("delegation_evidence", 1, NOT_IMPORTED),
            ("eidas_credentials", 1, NOT_IMPORTED),
            ("oauth_scope", 1, NOT_IMPORTED),
            ("ptp", 1, NOT_IMPORTED),
            ("role_usage_policy", 1, NOT_IMPORTED),
            ("usage_policy", 1, NOT_IMPORTED),
            ("user_registration_profile", 1, NOT_IMPORTED),
        ])
    );
}

#[test]
fn a_dump_without_any_keyrock_table_is_refused() {
    // The wrong file (another application's dump) would otherwise import nothing, exit 0.
    let dump = keyrock8_dump(&[("audit_trail", vec!["(1,'login')".into()])]);
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    let reason = import_dump(&db, dump.as_bytes(), &[]).assert_refused();
    assert!(
        reason.contains("the dump holds no Keyrock table"),
        "{reason}"
    );
    db.assert_unchanged(&before);
}

// ---------------------------------------------------------------------------------------
// Another Keyrock version's dump.

const ZED_DESCRIPTION_SQL: &str = r#"'It\'s a \\ backslash,\na ''quoted'' \"word\"\r\Z; -- not a comment /* nor this */ caf\u00e9'"#;

/// A dump in the shape of another Keyrock version and another mysqldump: other column
/// orders, explicit column lists, tuples spread over several lines, no `hash` on
/// `oauth_access_token`, a `nonce` on `oauth_authorization_code`, every MySQL string escape,
/// comments of both kinds between and inside statements, `/*!…*/` directives, `SET`
/// statements (one with a `;` in a string), `LOCK`/`UNLOCK`.
fn other_version_dump() -> String {
    let zed = legacy_keyrock_hash("zed-pw", Some("salt-zed"));
    let amy = legacy_keyrock_hash("amy-pw", None);
    let mike = legacy_keyrock_hash("mike-pw", Some("salt-mike"));
    let description = ZED_DESCRIPTION_SQL.replace("\\u00e9", "\u{e9}");
    format!(
        r#"-- MySQL dump 10.13  Distrib 5.7.44, for Linux (x86_64)
--
-- Host: keyrock-db    Database: idm
-- ------------------------------------------------------

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET NAMES utf8 */;
/*!40103 SET TIME_ZONE='+00:00' */;
SET @saved_checks = @@FOREIGN_KEY_CHECKS;
SET FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0;
SET @note = 'a;b -- c';
/* A block comment over two lines;
   with a semicolon and a 'quote */

DROP TABLE IF EXISTS `oauth_client`;
CREATE TABLE `oauth_client` (
  `id` varchar(36) NOT NULL,
  `secret` char(36) DEFAULT NULL,
  `name` varchar(255) DEFAULT NULL,
  `description` text,
  `url` varchar(2000) DEFAULT NULL,
  `redirect_uri` varchar(2000) DEFAULT NULL,
  `redirect_sign_out_uri` varchar(2000) DEFAULT NULL,
  `image` varchar(255) DEFAULT 'default',
  `grant_type` varchar(255) DEFAULT NULL,
  `response_type` varchar(255) DEFAULT NULL,
  `token_types` varchar(15) DEFAULT NULL,
  `jwt_secret` varchar(255) DEFAULT NULL,
  `client_type` varchar(15) DEFAULT NULL,
  `scope` varchar(80) DEFAULT NULL,
  `extra` json DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

LOCK TABLES `oauth_client` WRITE;
/*!40000 ALTER TABLE `oauth_client` DISABLE KEYS */;
INSERT INTO `oauth_client` (`name`, `id`, `secret`, `description`, `url`,
  `redirect_uri`, `redirect_sign_out_uri`, `image`, `grant_type`, `response_type`,
  `token_types`, `jwt_secret`, `client_type`, `scope`, `extra`)
VALUES
  ('Other shop', 'other-app-0000', 'other-app-secret-0000',
   'Alice\'s shop; -- not a comment', 'https://shop.example',
   'https://shop.example/cb,https://shop.example/other', NULL, 'default',
   'authorization_code,password,refresh_token,client_credentials', 'code',
   'jwt,permanent,bearer', '0123456789abcdef', NULL, 'openid', NULL);
/*!40000 ALTER TABLE `oauth_client` ENABLE KEYS */;
UNLOCK TABLES;

DROP TABLE IF EXISTS `user`;
CREATE TABLE `user` (
  `salt` varchar(255) DEFAULT NULL,
  `id` varchar(36) NOT NULL,
  `email` varchar(255) DEFAULT NULL,
  `username` varchar(64) DEFAULT NULL,
  `password` varchar(40) DEFAULT NULL,
  `description` text,
  `website` varchar(2000) DEFAULT NULL,
  `image` varchar(255) DEFAULT 'default',
  `gravatar` tinyint(1) DEFAULT '0',
  `date_password` datetime DEFAULT NULL,
  `enabled` tinyint(1) DEFAULT '0',
  `admin` tinyint(1) DEFAULT '0',
  `extra` json DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;

LOCK TABLES `user` WRITE;
INSERT INTO `user` (`id`, `username`, `email`, `password`, `salt`, `description`,
  `website`, `image`, `gravatar`, `date_password`, `enabled`, `admin`, `extra`) VALUES
('zed-0000', 'zed', 'zed@test.com', '{zed}', 'salt-zed',
 {description},
 'https://zed.example', 'default', 1, '2019-01-02 03:04:05', 1, 1,
 '{{\"visible_attributes\": [\"username\"], \"k\": \"v\"}}'),
/* rows need not be sorted by id */
('amy-0000', 'amy', 'amy@test.com', '{amy}', NULL, NULL, NULL, 'default', 0,
 NULL, 1, 0, NULL);
-- mysqldump starts a new INSERT when one grows past --net-buffer-length.
INSERT INTO `user` (`id`, `username`, `email`, `password`, `salt`, `description`,
  `website`, `image`, `gravatar`, `date_password`, `enabled`, `admin`, `extra`) VALUES
('mike-0000','mike','mike@test.com','{mike}','salt-mike','Mike',NULL,'default',0,'2020-02-29 23:59:59',0,0,NULL);
UNLOCK TABLES;

-- Organizations: no column list, the column order is this CREATE TABLE's.
CREATE TABLE `organization` (
  `name` varchar(64) DEFAULT NULL,
  `id` varchar(36) NOT NULL,
  `description` text,
  `website` varchar(2000) DEFAULT NULL,
  `image` varchar(255) DEFAULT 'default',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
LOCK TABLES `organization` WRITE;
INSERT INTO `organization` VALUES ('Zeta','org-z','Zeta\'s team',NULL,'default'),('Alpha','org-a',NULL,'https://alpha.example','default');
UNLOCK TABLES;

CREATE TABLE `user_organization` (
  `organization_id` varchar(36) DEFAULT NULL,
  `user_id` varchar(36) DEFAULT NULL,
  `role` varchar(10) DEFAULT NULL
) ENGINE=InnoDB;
INSERT INTO `user_organization` (`organization_id`, `user_id`, `role`) VALUES
  ('org-z', 'zed-0000', 'owner'),
  ('org-z', 'amy-0000', 'member'),
  ('org-a', 'amy-0000', 'owner');

CREATE TABLE `role` (
  `id` varchar(36) NOT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `name` varchar(64) DEFAULT NULL,
  `is_internal` tinyint(1) DEFAULT '0',
  PRIMARY KEY (`id`)
);
INSERT INTO `role` VALUES ('r-buyer','other-app-0000','Buyer',0);

CREATE TABLE `permission` (
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `id` varchar(36) NOT NULL,
  `name` varchar(255) DEFAULT NULL,
  `description` text,
  `is_internal` tinyint(1) DEFAULT '0',
  `action` varchar(255) DEFAULT NULL,
  `resource` varchar(255) DEFAULT NULL,
  `xml` text,
  `is_regex` tinyint(1) NOT NULL DEFAULT '0',
  `authorization_service_header` varchar(255) DEFAULT NULL,
  `use_authorization_service_header` tinyint(1) NOT NULL DEFAULT '0',
  `regex_entity_ids` varchar(255) DEFAULT NULL,
  `regex_attributes` varchar(255) DEFAULT NULL,
  `regex_types` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`)
);
INSERT INTO `permission` VALUES
('other-app-0000','p-read','Read the shop','Any shop page',0,'GET','^/shop/.*',NULL,1,NULL,0,NULL,NULL,NULL);

CREATE TABLE `role_permission` (`role_id` varchar(36), `permission_id` varchar(36));
INSERT INTO `role_permission` (`permission_id`, `role_id`) VALUES ('p-read', 'r-buyer');

CREATE TABLE `role_assignment` (
  `role_organization` varchar(255) DEFAULT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `role_id` varchar(36) DEFAULT NULL,
  `organization_id` varchar(36) DEFAULT NULL,
  `user_id` varchar(36) DEFAULT NULL
);
INSERT INTO `role_assignment` (`role_id`, `user_id`, `oauth_client_id`, `organization_id`, `role_organization`) VALUES
  ('provider', 'zed-0000', 'other-app-0000', NULL, NULL),
  ('r-buyer', NULL, 'other-app-0000', 'org-z', 'member');

CREATE TABLE `user_authorized_application` (
  `user_id` varchar(36) DEFAULT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `shared_attributes` varchar(255) DEFAULT NULL,
  `login_date` datetime DEFAULT NULL
);
INSERT INTO `user_authorized_application` VALUES ('amy-0000','other-app-0000','username','2019-05-05 10:00:00');

CREATE TABLE `oauth_authorization_code` (
  `authorization_code` varchar(256) NOT NULL,
  `expires` datetime DEFAULT NULL,
  `redirect_uri` varchar(2000) DEFAULT NULL,
  `scope` varchar(2000) DEFAULT NULL,
  `valid` tinyint(1) DEFAULT NULL,
  `extra` json DEFAULT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `user_id` varchar(36) DEFAULT NULL,
  `nonce` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`authorization_code`)
);
INSERT INTO `oauth_authorization_code` (`nonce`, `authorization_code`, `expires`, `redirect_uri`,
  `scope`, `valid`, `extra`, `oauth_client_id`, `user_id`) VALUES
  ('n-0S6_WzA2Mj', 'c0dec0dec0dec0dec0dec0dec0dec0dec0dec0de', '2300-01-01 00:00:00',
   'https://shop.example/cb', 'openid', 1, NULL, 'other-app-0000', 'zed-0000'),
  (NULL, 'c1dec1dec1dec1dec1dec1dec1dec1dec1dec1de', '2300-01-01 00:00:00',
   'https://shop.example/other', NULL, 1, NULL, 'other-app-0000', 'amy-0000');

-- Keyrock before 8.1: no `hash` column.
CREATE TABLE `oauth_access_token` (
  `access_token` varchar(255) NOT NULL,
  `expires` datetime DEFAULT NULL,
  `scope` varchar(2000) DEFAULT NULL,
  `refresh_token` varchar(255) DEFAULT NULL,
  `valid` tinyint(1) DEFAULT NULL,
  `extra` json DEFAULT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `user_id` varchar(36) DEFAULT NULL,
  `iot_id` varchar(255) DEFAULT NULL,
  `authorization_code` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`access_token`)
);
LOCK TABLES `oauth_access_token` WRITE;
INSERT INTO `oauth_access_token` VALUES
('9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e',NULL,'permanent',NULL,1,NULL,
 'other-app-0000','amy-0000',NULL,NULL),
('5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a','2216-07-30 12:14:21','bearer',NULL,1,NULL,
 'other-app-0000','zed-0000',NULL,NULL);
UNLOCK TABLES;

CREATE TABLE `oauth_refresh_token` (
  `valid` tinyint(1) DEFAULT NULL,
  `refresh_token` varchar(256) NOT NULL,
  `oauth_client_id` varchar(36) DEFAULT NULL,
  `user_id` varchar(36) DEFAULT NULL,
  `iot_id` varchar(255) DEFAULT NULL,
  `authorization_code` varchar(255) DEFAULT NULL,
  `expires` datetime DEFAULT NULL,
  `scope` varchar(2000) DEFAULT NULL,
  PRIMARY KEY (`refresh_token`)
);
INSERT INTO `oauth_refresh_token` VALUES (1,'7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e','other-app-0000','amy-0000',NULL,NULL,'2300-01-01 00:00:00','openid,profile');
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;

-- Dump completed on 2024-01-01 12:00:00
"#
    )
}

#[test]
fn a_dump_of_another_keyrock_version_imports_value_for_value() {
    let db = TestDb::new();
    let summary = import_dump(&db, other_version_dump().as_bytes(), &[]).assert_success();
    assert_eq!(
        summary,
        Summary {
            dry_run: false,
            imported: imported_counts(&[
                ("user", 3),
                ("oauth_client", 1),
                ("organization", 2),
                ("role", 1),
                ("permission", 1),
                ("role_permission", 1),
                ("role_assignment", 2),
                ("user_organization", 3),
                ("user_authorized_application", 1),
                ("oauth_authorization_code", 2),
                ("oauth_refresh_token", 1),
                ("oauth_access_token", 2),
            ]),
            skipped: skipped_counts(&[]),
        }
    );

    // Users and organizations get their integer id in dump order, not id order.
    let order: Vec<String> = users::table
        .select(users::id)
        .order(users::num_id.asc())
        .load(&mut *db.conn())
        .unwrap();
    assert_eq!(order, ["zed-0000", "amy-0000", "mike-0000"]);
    let order: Vec<String> = organizations::table
        .select(organizations::id)
        .order(organizations::num_id.asc())
        .load(&mut *db.conn())
        .unwrap();
    assert_eq!(order, ["org-z", "org-a"]);

    let s = Server::start_on(&db, Options::default());
    let zed = s.login("zed@test.com", "zed-pw");
    let user = s
        .keyrock("GET", "/v1/users/zed-0000", &zed)
        .assert_status(200)
        .json()["user"]
        .clone();
    assert_eq!(
        user["description"],
        "It's a \\ backslash,\na 'quoted' \"word\"\r\u{1a}; -- not a comment /* nor this */ caf\u{e9}",
        "{user}"
    );
    for (key, value) in [
        ("id", json!("zed-0000")),
        ("username", json!("zed")),
        ("email", json!("zed@test.com")),
        ("website", json!("https://zed.example")),
        ("gravatar", json!(true)),
        ("enabled", json!(true)),
        ("admin", json!(true)),
        ("date_password", json!("2019-01-02T03:04:05.000Z")),
        (
            "extra",
            json!({"visible_attributes": ["username"], "k": "v"}),
        ),
    ] {
        assert_eq!(user[key], value, "{key} of {user}");
    }
    // A NULL salt (amy) verifies with Keyrock's default key; a disabled user (mike) cannot
    // log in.
    let amy = s.login("amy@test.com", "amy-pw");
    s.try_password("mike@test.com", "mike-pw")
        .assert_keyrock_error(401, INVALID_LOGIN);
    let mike = s
        .keyrock("GET", "/v1/users/mike-0000", &zed)
        .assert_status(200)
        .json()["user"]
        .clone();
    assert_eq!(
        (&mike["enabled"], &mike["admin"], &mike["description"]),
        (&json!(false), &json!(false), &json!("Mike")),
        "{mike}"
    );
    assert_eq!(mike["date_password"], "2020-02-29T23:59:59.000Z", "{mike}");

    // The application, as its provider reads it.
    let application = s
        .keyrock("GET", "/v1/applications/other-app-0000", &zed)
        .assert_status(200)
        .json()["application"]
        .clone();
    for (key, value) in [
        ("name", json!("Other shop")),
        ("description", json!("Alice's shop; -- not a comment")),
        ("secret", Value::Null),
        ("url", json!("https://shop.example")),
        (
            "redirect_uri",
            json!("https://shop.example/cb,https://shop.example/other"),
        ),
        (
            "grant_type",
            json!("authorization_code,password,refresh_token,client_credentials"),
        ),
        ("response_type", json!("code")),
        ("token_types", json!("jwt,permanent,bearer")),
        ("jwt_secret", json!("0123456789abcdef")),
        ("scope", json!("openid")),
    ] {
        assert_eq!(application[key], value, "{key} of {application}");
    }

    // Organizations without a column list: names and ids in their places.
    let orgs = s
        .keyrock("GET", "/v1/organizations", &amy)
        .assert_status(200)
        .json()["organizations"]
        .clone();
    let seen: BTreeSet<(String, String)> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["Organization"]["id"].as_str().unwrap().to_owned(),
                o["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(seen, set(&[("org-z", "member"), ("org-a", "owner")]));
    let alpha = s
        .keyrock("GET", "/v1/organizations/org-a", &amy)
        .assert_status(200)
        .json()["organization"]
        .clone();
    assert_eq!(
        alpha,
        json!({"id": "org-a", "name": "Alpha", "description": null,
               "website": "https://alpha.example", "image": "default"})
    );
    let zeta = s
        .keyrock("GET", "/v1/organizations/org-z", &zed)
        .assert_status(200)
        .json()["organization"]
        .clone();
    assert_eq!(
        (&zeta["name"], &zeta["description"]),
        (&json!("Zeta"), &json!("Zeta's team"))
    );

    // The permanent token of amy (no hash column, expires NULL): her consent shares the
    // username only; her role through org-z's members permits the regex resource.
    let body = s
        .user_info(&[
            ("access_token", "9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e"),
            ("action", "GET"),
            ("resource", "/shop/items/42"),
        ])
        .assert_status(200)
        .json();
    assert_eq!(body["id"], "amy-0000", "{body}");
    assert_eq!(
        (&body["username"], &body["email"]),
        (&json!("amy"), &json!("")),
        "{body}"
    );
    assert_eq!(body["authorization_decision"], "Permit", "{body}");
    let app = OAuthApp {
        id: "other-app-0000".to_owned(),
        secret: "other-app-secret-0000".to_owned(),
        jwt_secret: Some("0123456789abcdef".to_owned()),
    };
    let info = s.introspection(&app, "9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e9e");
    assert_eq!(
        (&info["active"], &info["scope"], info.get("exp")),
        (&json!(true), &json!("permanent"), None),
        "{info}"
    );
    let info = s.introspection(&app, "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a");
    assert_eq!(
        info["exp"].as_i64(),
        Some(utc(2216, 7, 30, 12, 14, 21)),
        "{info}"
    );
    assert_eq!(info["sub"], "zed-0000", "{info}");

    // The code with a nonce and a stored redirect URI: the id_token carries the nonce,
    // signed with the imported jwt_secret.
    s.redeem(&app, "c1dec1dec1dec1dec1dec1dec1dec1dec1dec1de", &[])
        .assert_oauth_error(400, "invalid_grant", BAD_REDIRECT);
    let t = s
        .redeem(
            &app,
            "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0de",
            &[("redirect_uri", "https://shop.example/cb")],
        )
        .tokens();
    assert_eq!(t.body["scope"], json!(["openid"]), "{}", t.body);
    let id_token = t.body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token: {}", t.body));
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["other-app-0000"]);
    let claims =
        jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_secret(b"0123456789abcdef"), &v)
            .unwrap_or_else(|e| panic!("the id_token does not verify with the jwt_secret: {e}"))
            .claims;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj", "{claims}");
    assert_eq!(claims["sub"], "zed-0000", "{claims}");
    // A refresh token's comma-separated scope is a list: the new tokens keep it (5.4).
    let t = s
        .refresh(&app, "7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e7e", None)
        .tokens();
    assert_eq!(t.body["scope"], json!(["openid", "profile"]), "{}", t.body);
    assert_eq!(
        s.user_of(&t.access).assert_status(200).json()["id"],
        "amy-0000"
    );
    // The application's secret works.
    s.client_credentials(&app, None);
}

/// A dump saved with Windows line endings imports the same, and its errors name the same
/// lines.
#[test]
fn a_dump_with_crlf_line_endings_imports_the_same() {
    let fixture = fixture_text();
    let crlf = fixture.replace('\n', "\r\n");
    let db = TestDb::new();
    assert_eq!(
        import_dump(&db, crlf.as_bytes(), &[]).assert_success(),
        fixture_summary()
    );
    let s = Server::start_on(&db, Options::default());
    s.login(email_of(BOB), PASSWORD);
    let me = s.keyrock(
        "GET",
        &format!("/v1/users/{BOB}"),
        &s.login(email_of(BOB), PASSWORD),
    );
    assert_eq!(
        me.assert_status(200).json()["user"]["description"],
        "Bob is the regional manager"
    );
    let row = line_of(&fixture, "'Bob is the regional manager'");
    let bad = crlf.replacen(
        "'Bob is the regional manager',NULL,'default',",
        "'Bob is the regional manager',NULL,",
        1,
    );
    let db = TestDb::new();
    migrate(&db);
    let before = db.capture();
    import_dump(&db, bad.as_bytes(), &[]).assert_refused_at(row, &["15 values"]);
    db.assert_unchanged(&before);
}

// ---------------------------------------------------------------------------------------
// The kit itself.

/// The before/after comparison the bad-dump tests rely on sees no change where there is
/// none (a second `tessera migrate`), and sees one row written.
#[test]
fn the_database_comparison_sees_one_row_and_nothing_else() {
    let db = TestDb::new();
    assert!(db.table_names().is_empty());
    migrate(&db);
    assert!(db.table_names().contains(&"users".to_owned()));
    let before = db.capture();
    migrate(&db);
    db.assert_unchanged(&before);
    db.insert_organization("org-written", &[]);
    let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        db.assert_unchanged(&before)
    }));
    assert!(seen.is_err(), "a written row went unseen");
}
