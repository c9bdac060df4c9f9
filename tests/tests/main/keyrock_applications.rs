//! `/v1/applications` (keyrock.md 4.2) and role assignments (4.8, 4.9), over HTTP.

use serde_json::Value;
use storage::diesel::{self, ExpressionMethods, RunQueryDsl};
use storage::schema::role_assignments;
use tessera_tests::keyrock::NOT_PERMITTED;
use tessera_tests::{json, keys, sorted, Resp, Server, World};

fn create_app(s: &Server, token: &str, app: Value) -> Resp {
    s.send_json(
        "POST",
        "/v1/applications",
        token,
        &json!({ "application": app }),
    )
}

/// The fields of an application as its list shows them; a read adds `extra`, `scope` and
/// `secret` (always null).
const LISTED: [&str; 13] = [
    "client_type",
    "description",
    "grant_type",
    "id",
    "image",
    "jwt_secret",
    "name",
    "redirect_sign_out_uri",
    "redirect_uri",
    "response_type",
    "token_types",
    "url",
    "urls",
];

#[test]
fn create_returns_the_secret_once_and_derives_fields() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let resp = create_app(
        &s,
        &admin,
        json!({"name": "Shop", "description": "d", "url": "http://shop", "redirect_uri": "http://shop/cb",
               "redirect_sign_out_uri": "http://shop/out", "grant_type": ["refresh_token", "password", "nonsense", "authorization_code"],
               "token_types": ["jwt", "permanent"]}),
    );
    let app = resp.assert_status(201).json()["application"].clone();
    let mut created: Vec<&str> = LISTED
        .into_iter()
        .filter(|k| !["client_type", "urls"].contains(k))
        .collect();
    created.extend(["scope", "secret"]);
    assert_eq!(keys(&app), sorted(&created));
    let id = app["id"].as_str().unwrap().to_owned();
    let secret = app["secret"].as_str().unwrap().to_owned();
    for uuid in [&id, &secret] {
        assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);
    }
    assert_eq!(app["image"], "default");
    assert_eq!(
        app["grant_type"],
        "password,authorization_code,refresh_token"
    );
    assert_eq!(app["response_type"], "code");
    assert_eq!(app["token_types"], "jwt,permanent,bearer");
    let jwt = app["jwt_secret"].as_str().unwrap();
    let lower_hex = jwt
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    assert!(jwt.len() == 16 && lower_hex, "{jwt}");
    assert_eq!(app["scope"], Value::Null);

    // Reads never show the secret; the provider sees jwt_secret.
    let got = s.keyrock("GET", &format!("/v1/applications/{id}"), &admin);
    let full = got.assert_status(200).json()["application"].clone();
    let read = sorted(&[&LISTED[..], &["extra", "scope", "secret"]].concat());
    assert_eq!(keys(&full), read);
    assert_eq!(full["secret"], Value::Null);
    assert_eq!(full["jwt_secret"], jwt);
    assert_eq!(
        full["urls"]["roles_url"],
        format!("/v1/applications/{id}/roles")
    );
    assert!(!got.body.contains(&secret));
    let list = s.keyrock("GET", "/v1/applications", &admin);
    assert!(!list.body.contains(&secret));
    // Stored only as a digest.
    assert_eq!(
        db.secret_digest(&id).unwrap(),
        auth_core::secrets::sha256_hex(&secret)
    );
    assert!(!db.dump_text().contains(&secret));

    // Defaults: all six grants, bearer only, no jwt_secret.
    let plain = json!({"name": "p", "redirect_uri": ["http://a", "http://b"]});
    let plain = &create_app(&s, &admin, plain).json()["application"];
    assert_eq!(
        plain["grant_type"],
        "client_credentials,password,implicit,authorization_code,hybrid,refresh_token"
    );
    assert_eq!(plain["response_type"], "code,token,none");
    assert_eq!(plain["token_types"], "bearer");
    assert_eq!(plain["jwt_secret"], Value::Null);
    assert_eq!(plain["redirect_uri"], "http://a,http://b");
    // openid adds hybrid, authorization_code and implicit, and a jwt_secret.
    let oidc = json!({"name": "o", "redirect_uri": "http://o", "grant_type": ["password"], "scope": "openid"});
    let oidc = &create_app(&s, &admin, oidc).json()["application"];
    assert_eq!(
        oidc["grant_type"],
        "password,hybrid,authorization_code,implicit"
    );
    assert_eq!(oidc["response_type"], "code,token,id_token");
    assert_eq!(oidc["scope"], "openid");
    assert!(oidc["jwt_secret"].is_string());
}

#[test]
fn create_validation_messages_in_order() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    s.send_json("POST", "/v1/applications", &admin, &json!({"name": "x"}))
        .assert_keyrock_error(400, "Missing parameter application in body request");
    let no_name = "Missing parameter name in body request or empty name";
    let token_type = "Invalid token type in body request";
    for (app, message) in [
        (json!({"redirect_uri": "http://x"}), no_name),
        (json!({"name": "", "redirect_uri": "http://x"}), no_name),
        (
            json!({"name": "x", "token_types": ["nope"]}),
            "Missing parameter redirect_uri in body request",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "token_types": ["bearer"], "grant_type": "password"}),
            token_type,
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "token_types": "jwt"}),
            token_type,
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "grant_type": "password"}),
            "Invalid Grant Type",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "grant_type": ["nonsense"]}),
            "Invalid Grant Type",
        ),
    ] {
        create_app(&s, &admin, app).assert_keyrock_error(400, message);
    }
    let list = s.keyrock("GET", "/v1/applications", &admin).json();
    assert_eq!(list, json!({"applications": []}));
}

#[test]
fn list_shows_applications_with_a_role_directly_or_through_an_organization() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let admin = &w.admin;
    let mine = s.new_application(admin, "app");
    let other = s.new_application(&w.bob, "app");
    let list = || s.keyrock("GET", "/v1/applications", admin).json()["applications"].clone();
    let apps = list();
    assert_eq!(apps.as_array().unwrap().len(), 1);
    assert_eq!(apps[0]["id"], mine.as_str());
    assert_eq!(keys(&apps[0]), sorted(&LISTED));
    // Through an organization whose members hold purchaser in bob's application.
    db.insert_organization("org1", &[("admin", "member")]);
    diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::oauth_client_id.eq(&other),
            role_assignments::role_id.eq("purchaser"),
            role_assignments::organization_id.eq("org1"),
            role_assignments::role_organization.eq("member"),
        ))
        .execute(&mut *db.conn())
        .unwrap();
    let apps = list();
    assert_eq!(apps.as_array().unwrap().len(), 2);
    let via_org = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == other.as_str())
        .unwrap();
    assert_eq!(
        via_org["jwt_secret"],
        Value::Null,
        "purchasers never see jwt_secret"
    );
    // A purchaser reads the application.
    s.keyrock("GET", &format!("/v1/applications/{other}"), admin)
        .assert_status(200);
}

#[test]
fn patch_updates_derived_fields_and_reports_them() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    let id = s.new_application(&admin, "app");
    let path = format!("/v1/applications/{id}");
    let patch = |app: Value| s.send_json("PATCH", &path, &admin, &json!({ "application": app }));

    let resp = patch(
        json!({"name": "renamed", "description": null, "grant_type": ["implicit", "password"]}),
    );
    assert_eq!(
        resp.assert_status(200).json(),
        json!({"values_updated": {"name": "renamed", "grant_type": "password,implicit", "response_type": "token"}})
    );
    let updated = patch(json!({"token_types": ["jwt"]})).json()["values_updated"].clone();
    assert_eq!(updated["token_types"], "jwt,bearer");
    let first_jwt = updated["jwt_secret"].as_str().unwrap().to_owned();
    // Sending jwt again rotates the key.
    let resp = patch(json!({"token_types": ["jwt"]})).json();
    assert_ne!(
        resp["values_updated"]["jwt_secret"].as_str().unwrap(),
        first_jwt
    );
    assert_eq!(resp["values_updated"].as_object().unwrap().len(), 1);
    // Without jwt the key goes.
    assert_eq!(
        patch(json!({"token_types": []})).json(),
        json!({"values_updated": {"token_types": "bearer", "jwt_secret": null}})
    );
    // No change at all.
    let message = "Request don't change the application parameters";
    let unchanged = json!({"message": message, "code": 200, "title": "OK"});
    assert_eq!(patch(json!({"name": "renamed"})).json(), unchanged);
    s.send_json("PATCH", &path, &admin, &json!({"name": "x"}))
        .assert_keyrock_error(400, "Missing parameter application in body request");
    let fixed = "Cannot set id, secret or response_type";
    for (app, message) in [
        (
            json!({"name": "", "redirect_uri": ""}),
            "Cannot set empty name",
        ),
        (json!({"redirect_uri": ""}), "Cannot set empty redirect_uri"),
        (json!({"id": "x"}), fixed),
        (json!({"secret": "x"}), fixed),
        (json!({"response_type": "code"}), fixed),
        (
            json!({"token_types": ["x"], "grant_type": "x"}),
            "Invalid token type in body request",
        ),
        (json!({"grant_type": ["x"]}), "Invalid Grant Type"),
    ] {
        patch(app).assert_keyrock_error(400, message);
    }
    let after = s.keyrock("GET", &path, &admin).json();
    assert_eq!(after["application"]["name"], "renamed");
    assert_eq!(after["application"]["grant_type"], "password,implicit");
}

#[test]
fn reset_secret_and_delete() {
    let (s, db) = Server::start();
    let admin = s.admin_token();
    let id = s.new_application(&admin, "app");
    let resp = s.keyrock(
        "POST",
        &format!("/v1/applications/{id}/reset_secret"),
        &admin,
    );
    let secret = resp.assert_status(200).json()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        db.secret_digest(&id).unwrap(),
        auth_core::secrets::sha256_hex(&secret)
    );

    s.keyrock("DELETE", &format!("/v1/applications/{id}"), &admin)
        .assert_status(204);
    s.keyrock("GET", &format!("/v1/applications/{id}"), &admin)
        .assert_keyrock_error(404, "Application not found");
    for path in [
        "/v1/applications/idm_admin_app",
        "/v1/applications/idm_admin_app/users",
    ] {
        s.keyrock("GET", path, &admin)
            .assert_keyrock_error(403, "Not allowed");
    }
}

#[test]
fn user_role_assignments_follow_the_changeable_roles() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, carol, bob_token) = (&w.admin, &w.bob_id, &w.carol_id, &w.bob);
    let app = s.new_application(admin, "app");
    let users = format!("/v1/applications/{app}/users");
    let put = |token: &str, user: &str, role: &str| {
        s.keyrock("PUT", &format!("{users}/{user}/roles/{role}"), token)
    };
    let resp = put(admin, bob, "purchaser");
    assert_eq!(
        resp.assert_status(201).json(),
        json!({"role_user_assignments": {"role_id": "purchaser", "user_id": bob, "oauth_client_id": app}})
    );
    put(admin, bob, "purchaser").assert_status(201);
    // Deprecated POST works the same.
    s.keyrock("POST", &format!("{users}/{carol}/roles/provider"), admin)
        .assert_status(201);
    put(admin, "nobody", "purchaser").assert_keyrock_error(404, "User not found");
    put(admin, bob, "no-such-role").assert_keyrock_error(404, "Role not found");
    // bob, a purchaser (perm 5), may assign the app's own roles but not the internal ones.
    put(bob_token, carol, "provider").assert_not_permitted();

    let list = s.keyrock("GET", &users, admin);
    let entries = list.assert_status(200).json()["role_user_assignments"].clone();
    let entries = entries.as_array().unwrap();
    for (user, role) in [
        (bob.as_str(), "purchaser"),
        (carol, "provider"),
        ("admin", "provider"),
    ] {
        assert!(
            entries.contains(&json!({"user_id": user, "role_id": role})),
            "{user}"
        );
    }
    // bob sees none of them: internal roles are not changeable with perm 5 alone.
    s.keyrock("GET", &users, bob_token)
        .assert_keyrock_error(404, "Assignments not found");
    let of_bob = s.keyrock("GET", &format!("{users}/{bob}/roles"), admin);
    assert_eq!(
        of_bob.json(),
        json!({"role_user_assignments": [{"user_id": bob, "role_id": "purchaser"}]})
    );
    s.keyrock("GET", &format!("{users}/nobody/roles"), admin)
        .assert_keyrock_error(404, "User not found");

    let del = || s.keyrock("DELETE", &format!("{users}/{bob}/roles/purchaser"), admin);
    del().assert_status(204);
    del().assert_keyrock_error(404, "Assignments not found");
    s.keyrock("GET", &format!("{users}/{bob}/roles"), admin)
        .assert_keyrock_error(404, "Assignments not found");
    // bob lost his role: the application is no longer his to read.
    s.keyrock("GET", &format!("/v1/applications/{app}"), bob_token)
        .assert_keyrock_error(403, NOT_PERMITTED);
}

#[test]
fn organization_role_assignments_reach_exactly_that_organization_role() {
    let (s, db) = Server::start();
    // alice owns the organization, bob is a member.
    let w = World::new(&s);
    let (admin, owner_token, member_token) = (&w.admin, &w.alice, &w.bob);
    let app = s.new_application(admin, "app");
    db.insert_organization("org1", &[(&w.alice_id, "owner"), (&w.bob_id, "member")]);
    let base = format!("/v1/applications/{app}/organizations");
    let app_path = format!("/v1/applications/{app}");
    s.keyrock("GET", &base, admin)
        .assert_keyrock_error(404, "Assignments not found");
    let put = |org: &str, role: &str, org_role: &str| {
        let path = format!("{base}/{org}/roles/{role}/organization_roles/{org_role}");
        s.keyrock("PUT", &path, admin)
    };
    let resp = put("org1", "purchaser", "member");
    assert_eq!(
        resp.assert_status(201).json(),
        json!({"role_organization_assignments": {"role_id": "purchaser", "organization_id": "org1", "oauth_client_id": app, "role_organization": "member"}})
    );
    put("org1", "purchaser", "member").assert_status(201);
    put("nope", "purchaser", "member").assert_keyrock_error(404, "Organization not found");
    put("org1", "nope", "member").assert_keyrock_error(404, "Role not found");
    put("org1", "purchaser", "boss").assert_keyrock_error(404, "Organization role not found");

    // Members got purchaser; the owner did not.
    s.keyrock("GET", &app_path, member_token).assert_status(200);
    s.keyrock("GET", &app_path, owner_token)
        .assert_not_permitted();

    assert_eq!(
        s.keyrock("GET", &base, admin).json(),
        json!({"role_organization_assignments": [{"organization_id": "org1", "role_organization": "member", "role_id": "purchaser"}]})
    );
    assert_eq!(
        s.keyrock("GET", &format!("{base}/org1/roles"), admin)
            .json(),
        json!({"role_organization_assignments": [{"organization_id": "org1", "role_id": "purchaser"}]})
    );
    s.keyrock("GET", &format!("{base}/nope/roles"), admin)
        .assert_keyrock_error(404, "Organization not found");
    // The member (purchaser: perm 5) cannot hand out provider.
    let path = format!("{base}/org1/roles/provider/organization_roles/owner");
    s.keyrock("PUT", &path, member_token).assert_not_permitted();

    let del = |org_role: &str| {
        let path = format!("{base}/org1/roles/purchaser/organization_roles/{org_role}");
        s.keyrock("DELETE", &path, admin)
    };
    del("owner").assert_keyrock_error(404, "Assignments not found");
    del("member").assert_status(204);
    s.keyrock("GET", &app_path, member_token)
        .assert_not_permitted();
}
