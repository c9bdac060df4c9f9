//! `/v1/applications` (keyrock.md 4.2) and role assignments (4.8, 4.9), over HTTP.

use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::oauth_clients;
use tessera_tests::{json, keys, Resp, Server};

fn create_app(server: &Server, token: &str, app: serde_json::Value) -> Resp {
    server
        .request("POST", "/v1/applications")
        .token(token)
        .json(&json!({ "application": app }))
        .send()
}

fn new_app(server: &Server, token: &str) -> String {
    let resp = create_app(
        server,
        token,
        json!({"name": "app", "redirect_uri": "http://localhost/cb"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn create_returns_the_secret_once_and_derives_fields() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let resp = create_app(
        &server,
        &admin,
        json!({"name": "Shop", "description": "d", "url": "http://shop", "redirect_uri": "http://shop/cb",
               "redirect_sign_out_uri": "http://shop/out", "grant_type": ["refresh_token", "password", "nonsense", "authorization_code"],
               "token_types": ["jwt", "permanent"]}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let app = resp.json()["application"].clone();
    assert_eq!(
        keys(&app),
        [
            "description",
            "grant_type",
            "id",
            "image",
            "jwt_secret",
            "name",
            "redirect_sign_out_uri",
            "redirect_uri",
            "response_type",
            "scope",
            "secret",
            "token_types",
            "url"
        ]
    );
    let id = app["id"].as_str().unwrap().to_owned();
    let secret = app["secret"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(uuid::Uuid::parse_str(&secret).unwrap().get_version_num(), 4);
    assert_eq!(app["image"], "default");
    assert_eq!(
        app["grant_type"],
        "password,authorization_code,refresh_token"
    );
    assert_eq!(app["response_type"], "code");
    assert_eq!(app["token_types"], "jwt,permanent,bearer");
    let jwt = app["jwt_secret"].as_str().unwrap();
    assert!(
        jwt.len() == 16
            && jwt
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(app["scope"], serde_json::Value::Null);

    // Reads never show the secret; the provider sees jwt_secret.
    let got = server
        .request("GET", &format!("/v1/applications/{id}"))
        .token(&admin)
        .send();
    assert_eq!(got.status, 200);
    let full = got.json()["application"].clone();
    assert_eq!(
        keys(&full),
        [
            "client_type",
            "description",
            "extra",
            "grant_type",
            "id",
            "image",
            "jwt_secret",
            "name",
            "redirect_sign_out_uri",
            "redirect_uri",
            "response_type",
            "scope",
            "secret",
            "token_types",
            "url",
            "urls"
        ]
    );
    assert_eq!(full["secret"], serde_json::Value::Null);
    assert_eq!(full["jwt_secret"], jwt);
    assert_eq!(
        full["urls"]["roles_url"],
        format!("/v1/applications/{id}/roles")
    );
    assert!(!got.body.contains(&secret));
    let list = server
        .request("GET", "/v1/applications")
        .token(&admin)
        .send();
    assert!(!list.body.contains(&secret));
    // Stored only as a digest.
    let stored: Option<String> = oauth_clients::table
        .filter(oauth_clients::id.eq(&id))
        .select(oauth_clients::secret_digest)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(stored.unwrap(), auth_core::secrets::sha256_hex(&secret));
    assert!(!db.dump_text().contains(&secret));

    // Defaults: all six grants, bearer only, no jwt_secret.
    let plain = create_app(
        &server,
        &admin,
        json!({"name": "p", "redirect_uri": ["http://a", "http://b"]}),
    )
    .json();
    let plain = &plain["application"];
    assert_eq!(
        plain["grant_type"],
        "client_credentials,password,implicit,authorization_code,hybrid,refresh_token"
    );
    assert_eq!(plain["response_type"], "code,token,none");
    assert_eq!(plain["token_types"], "bearer");
    assert_eq!(plain["jwt_secret"], serde_json::Value::Null);
    assert_eq!(plain["redirect_uri"], "http://a,http://b");
    // openid adds hybrid, authorization_code and implicit, and a jwt_secret.
    let oidc = create_app(
        &server,
        &admin,
        json!({"name": "o", "redirect_uri": "http://o", "grant_type": ["password"], "scope": "openid"}),
    )
    .json();
    let oidc = &oidc["application"];
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
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    server
        .request("POST", "/v1/applications")
        .token(&admin)
        .json(&json!({"name": "x"}))
        .send()
        .assert_keyrock_error(400, "Missing parameter application in body request");
    let cases = [
        (
            json!({"redirect_uri": "http://x"}),
            "Missing parameter name in body request or empty name",
        ),
        (
            json!({"name": "", "redirect_uri": "http://x"}),
            "Missing parameter name in body request or empty name",
        ),
        (
            json!({"name": "x", "token_types": ["nope"]}),
            "Missing parameter redirect_uri in body request",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "token_types": ["bearer"], "grant_type": "password"}),
            "Invalid token type in body request",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "token_types": "jwt"}),
            "Invalid token type in body request",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "grant_type": "password"}),
            "Invalid Grant Type",
        ),
        (
            json!({"name": "x", "redirect_uri": "http://x", "grant_type": ["nonsense"]}),
            "Invalid Grant Type",
        ),
    ];
    for (app, message) in cases {
        create_app(&server, &admin, app.clone()).assert_keyrock_error(400, message);
    }
    assert_eq!(
        server
            .request("GET", "/v1/applications")
            .token(&admin)
            .send()
            .json(),
        json!({"applications": []})
    );
}

#[test]
fn list_shows_applications_with_a_role_directly_or_through_an_organization() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    server.create_user(&admin, "bob", "bob@example.org", "pw");
    let bob = server.login("bob@example.org", "pw");
    let mine = new_app(&server, &admin);
    let other = new_app(&server, &bob);
    let list = server
        .request("GET", "/v1/applications")
        .token(&admin)
        .send()
        .json();
    let apps = list["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0]["id"], mine.as_str());
    assert_eq!(
        keys(&apps[0]),
        [
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
            "urls"
        ]
    );
    // Through an organization whose members hold purchaser in bob's application.
    use storage::schema::{organizations, role_assignments, user_organizations};
    let mut conn = db.conn();
    diesel::insert_into(organizations::table)
        .values((organizations::id.eq("org1"), organizations::name.eq("Org")))
        .execute(&mut *conn)
        .unwrap();
    diesel::insert_into(user_organizations::table)
        .values((
            user_organizations::user_id.eq("admin"),
            user_organizations::organization_id.eq("org1"),
            user_organizations::role.eq("member"),
        ))
        .execute(&mut *conn)
        .unwrap();
    diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::oauth_client_id.eq(&other),
            role_assignments::role_id.eq("purchaser"),
            role_assignments::organization_id.eq("org1"),
            role_assignments::role_organization.eq("member"),
        ))
        .execute(&mut *conn)
        .unwrap();
    let list = server
        .request("GET", "/v1/applications")
        .token(&admin)
        .send()
        .json();
    let apps = list["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 2);
    let via_org = apps.iter().find(|a| a["id"] == other.as_str()).unwrap();
    assert_eq!(
        via_org["jwt_secret"],
        serde_json::Value::Null,
        "purchasers never see jwt_secret"
    );
    // A purchaser reads the application but gets no jwt_secret.
    let read = server
        .request("GET", &format!("/v1/applications/{other}"))
        .token(&admin)
        .send();
    assert_eq!(read.status, 200);
}

#[test]
fn patch_updates_derived_fields_and_reports_them() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let id = new_app(&server, &admin);
    let path = format!("/v1/applications/{id}");
    let patch = |body: serde_json::Value| {
        server
            .request("PATCH", &path)
            .token(&admin)
            .json(&body)
            .send()
    };

    let resp = patch(
        json!({"application": {"name": "renamed", "description": null, "grant_type": ["implicit", "password"]}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"values_updated": {"name": "renamed", "grant_type": "password,implicit", "response_type": "token"}})
    );
    let resp = patch(json!({"application": {"token_types": ["jwt"]}}));
    let updated = resp.json()["values_updated"].clone();
    assert_eq!(updated["token_types"], "jwt,bearer");
    let first_jwt = updated["jwt_secret"].as_str().unwrap().to_owned();
    // Sending jwt again rotates the key.
    let resp = patch(json!({"application": {"token_types": ["jwt"]}})).json();
    let second_jwt = resp["values_updated"]["jwt_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first_jwt, second_jwt);
    assert_eq!(resp["values_updated"].as_object().unwrap().len(), 1);
    // Without jwt the key goes.
    let resp = patch(json!({"application": {"token_types": []}})).json();
    assert_eq!(
        resp,
        json!({"values_updated": {"token_types": "bearer", "jwt_secret": null}})
    );
    // No change at all.
    assert_eq!(
        patch(json!({"application": {"name": "renamed"}})).json(),
        json!({"message": "Request don't change the application parameters", "code": 200, "title": "OK"})
    );
    let cases = [
        (
            json!({"name": "x"}),
            "Missing parameter application in body request",
        ),
        (
            json!({"application": {"name": "", "redirect_uri": ""}}),
            "Cannot set empty name",
        ),
        (
            json!({"application": {"redirect_uri": ""}}),
            "Cannot set empty redirect_uri",
        ),
        (
            json!({"application": {"id": "x"}}),
            "Cannot set id, secret or response_type",
        ),
        (
            json!({"application": {"secret": "x"}}),
            "Cannot set id, secret or response_type",
        ),
        (
            json!({"application": {"response_type": "code"}}),
            "Cannot set id, secret or response_type",
        ),
        (
            json!({"application": {"token_types": ["x"], "grant_type": "x"}}),
            "Invalid token type in body request",
        ),
        (
            json!({"application": {"grant_type": ["x"]}}),
            "Invalid Grant Type",
        ),
    ];
    for (body, message) in cases {
        patch(body.clone()).assert_keyrock_error(400, message);
    }
    let after = server.request("GET", &path).token(&admin).send().json();
    assert_eq!(after["application"]["name"], "renamed");
    assert_eq!(after["application"]["grant_type"], "password,implicit");
}

#[test]
fn reset_secret_and_delete() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let id = new_app(&server, &admin);
    let resp = server
        .request("POST", &format!("/v1/applications/{id}/reset_secret"))
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(resp.status, 200, "{}", resp.body);
    let secret = resp.json()["secret"].as_str().unwrap().to_owned();
    let stored: Option<String> = oauth_clients::table
        .filter(oauth_clients::id.eq(&id))
        .select(oauth_clients::secret_digest)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(stored.unwrap(), auth_core::secrets::sha256_hex(&secret));

    let gone = server
        .request("DELETE", &format!("/v1/applications/{id}"))
        .token(&admin)
        .send();
    assert_eq!(gone.status, 204);
    server
        .request("GET", &format!("/v1/applications/{id}"))
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Application not found");
    for path in [
        "/v1/applications/idm_admin_app",
        "/v1/applications/idm_admin_app/users",
    ] {
        server
            .request("GET", path)
            .token(&admin)
            .send()
            .assert_keyrock_error(403, "Not allowed");
    }
}

#[test]
fn user_role_assignments_follow_the_changeable_roles() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "pw");
    let carol = server.create_user(&admin, "carol", "carol@example.org", "pw");
    let bob_token = server.login("bob@example.org", "pw");
    let app = new_app(&server, &admin);
    let put = |token: &str, user: &str, role: &str| {
        server
            .request(
                "PUT",
                &format!("/v1/applications/{app}/users/{user}/roles/{role}"),
            )
            .token(token)
            .header("Content-Type", "application/json")
            .send()
    };
    let resp = put(&admin, &bob, "purchaser");
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"role_user_assignments": {"role_id": "purchaser", "user_id": bob, "oauth_client_id": app}})
    );
    assert_eq!(put(&admin, &bob, "purchaser").status, 201, "idempotent");
    // Deprecated POST works the same.
    let post = server
        .request(
            "POST",
            &format!("/v1/applications/{app}/users/{carol}/roles/provider"),
        )
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(post.status, 201);
    put(&admin, "nobody", "purchaser").assert_keyrock_error(404, "User not found");
    put(&admin, &bob, "no-such-role").assert_keyrock_error(404, "Role not found");
    // bob, a purchaser (perm 5), may assign the app's own roles but not the internal ones.
    put(&bob_token, &carol, "provider")
        .assert_keyrock_error(403, "User not allow to perform the action");

    let list = server
        .request("GET", &format!("/v1/applications/{app}/users"))
        .token(&admin)
        .send();
    assert_eq!(list.status, 200);
    let entries = list.json()["role_user_assignments"]
        .as_array()
        .unwrap()
        .clone();
    assert!(entries.contains(&json!({"user_id": bob, "role_id": "purchaser"})));
    assert!(entries.contains(&json!({"user_id": carol, "role_id": "provider"})));
    assert!(entries.contains(&json!({"user_id": "admin", "role_id": "provider"})));
    // bob sees none of them: internal roles are not changeable with perm 5 alone.
    server
        .request("GET", &format!("/v1/applications/{app}/users"))
        .token(&bob_token)
        .send()
        .assert_keyrock_error(404, "Assignments not found");
    let of_bob = server
        .request("GET", &format!("/v1/applications/{app}/users/{bob}/roles"))
        .token(&admin)
        .send();
    assert_eq!(
        of_bob.json(),
        json!({"role_user_assignments": [{"user_id": bob, "role_id": "purchaser"}]})
    );
    server
        .request("GET", &format!("/v1/applications/{app}/users/nobody/roles"))
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "User not found");

    let del = |user: &str, role: &str| {
        server
            .request(
                "DELETE",
                &format!("/v1/applications/{app}/users/{user}/roles/{role}"),
            )
            .token(&admin)
            .send()
    };
    assert_eq!(del(&bob, "purchaser").status, 204);
    del(&bob, "purchaser").assert_keyrock_error(404, "Assignments not found");
    server
        .request("GET", &format!("/v1/applications/{app}/users/{bob}/roles"))
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Assignments not found");
    // bob lost his role: the application is no longer his to read.
    server
        .request("GET", &format!("/v1/applications/{app}"))
        .token(&bob_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
}

#[test]
fn organization_role_assignments_reach_exactly_that_organization_role() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let owner = server.create_user(&admin, "owner", "owner@example.org", "pw");
    let member = server.create_user(&admin, "member", "member@example.org", "pw");
    let owner_token = server.login("owner@example.org", "pw");
    let member_token = server.login("member@example.org", "pw");
    let app = new_app(&server, &admin);
    {
        use storage::schema::{organizations, user_organizations};
        let mut conn = db.conn();
        diesel::insert_into(organizations::table)
            .values((organizations::id.eq("org1"), organizations::name.eq("Org")))
            .execute(&mut *conn)
            .unwrap();
        for (user, role) in [(&owner, "owner"), (&member, "member")] {
            diesel::insert_into(user_organizations::table)
                .values((
                    user_organizations::user_id.eq(user),
                    user_organizations::organization_id.eq("org1"),
                    user_organizations::role.eq(role),
                ))
                .execute(&mut *conn)
                .unwrap();
        }
    }
    let base = format!("/v1/applications/{app}/organizations");
    server
        .request("GET", &base)
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Assignments not found");
    let put = |org: &str, role: &str, org_role: &str| {
        server
            .request(
                "PUT",
                &format!("{base}/{org}/roles/{role}/organization_roles/{org_role}"),
            )
            .token(&admin)
            .header("Content-Type", "application/json")
            .send()
    };
    let resp = put("org1", "purchaser", "member");
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"role_organization_assignments": {"role_id": "purchaser", "organization_id": "org1", "oauth_client_id": app, "role_organization": "member"}})
    );
    assert_eq!(put("org1", "purchaser", "member").status, 201, "idempotent");
    put("nope", "purchaser", "member").assert_keyrock_error(404, "Organization not found");
    put("org1", "nope", "member").assert_keyrock_error(404, "Role not found");
    put("org1", "purchaser", "boss").assert_keyrock_error(404, "Organization role not found");

    // Members got purchaser; the owner did not.
    assert_eq!(
        server
            .request("GET", &format!("/v1/applications/{app}"))
            .token(&member_token)
            .send()
            .status,
        200
    );
    server
        .request("GET", &format!("/v1/applications/{app}"))
        .token(&owner_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");

    let all = server.request("GET", &base).token(&admin).send();
    assert_eq!(
        all.json(),
        json!({"role_organization_assignments": [{"organization_id": "org1", "role_organization": "member", "role_id": "purchaser"}]})
    );
    let of_org = server
        .request("GET", &format!("{base}/org1/roles"))
        .token(&admin)
        .send();
    assert_eq!(
        of_org.json(),
        json!({"role_organization_assignments": [{"organization_id": "org1", "role_id": "purchaser"}]})
    );
    server
        .request("GET", &format!("{base}/nope/roles"))
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Organization not found");
    // The member (purchaser: perm 5) cannot hand out provider.
    server
        .request(
            "PUT",
            &format!("{base}/org1/roles/provider/organization_roles/owner"),
        )
        .token(&member_token)
        .header("Content-Type", "application/json")
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");

    let del = |org_role: &str| {
        server
            .request(
                "DELETE",
                &format!("{base}/org1/roles/purchaser/organization_roles/{org_role}"),
            )
            .token(&admin)
            .send()
    };
    del("owner").assert_keyrock_error(404, "Assignments not found");
    assert_eq!(del("member").status, 204);
    server
        .request("GET", &format!("/v1/applications/{app}"))
        .token(&member_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
}
