//! `/v1/organizations` and their members (keyrock.md 4.4), over HTTP.

use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{role_assignments, user_organizations};
use tessera_tests::{json, Resp, Server};

fn create_org(server: &Server, token: &str, org: serde_json::Value) -> Resp {
    server
        .request("POST", "/v1/organizations")
        .token(token)
        .json(&json!({ "organization": org }))
        .send()
}

fn put_role(server: &Server, token: &str, org: &str, user: &str, role: &str) -> Resp {
    server
        .request(
            "PUT",
            &format!("/v1/organizations/{org}/users/{user}/organization_roles/{role}"),
        )
        .token(token)
        .header("Content-Type", "application/json")
        .send()
}

#[test]
fn create_list_read_and_validate() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    server
        .request("GET", "/v1/organizations")
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Organizations not found");
    let resp = create_org(
        &server,
        &admin,
        json!({"name": "Team", "description": "d", "website": "http://t"}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    let org = resp.json()["organization"].clone();
    let id = org["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    assert_eq!(
        org,
        json!({"id": id, "image": "default", "name": "Team", "description": "d", "website": "http://t"})
    );
    let list = server
        .request("GET", "/v1/organizations")
        .token(&admin)
        .send();
    assert_eq!(
        list.json(),
        json!({"organizations": [{"role": "owner", "Organization": {"id": id, "name": "Team", "description": "d", "website": "http://t", "image": "default"}}]})
    );
    let one = server
        .request("GET", &format!("/v1/organizations/{id}"))
        .token(&admin)
        .send();
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["organization"]["name"], "Team");

    server
        .request("POST", "/v1/organizations")
        .token(&admin)
        .json(&json!({"name": "x"}))
        .send()
        .assert_keyrock_error(400, "Missing parameter organization in body request");
    for org in [json!({}), json!({"name": ""}), json!({"description": "x"})] {
        create_org(&server, &admin, org)
            .assert_keyrock_error(400, "Missing parameter name in body request or empty name");
    }

    // Members see it in their list, but only owners may read it.
    let bob = server.create_user(&admin, "bob", "bob@example.org", "pw");
    let bob_token = server.login("bob@example.org", "pw");
    assert_eq!(put_role(&server, &admin, &id, &bob, "member").status, 201);
    let bobs = server
        .request("GET", "/v1/organizations")
        .token(&bob_token)
        .send()
        .json();
    assert_eq!(bobs["organizations"][0]["role"], "member");
    server
        .request("GET", &format!("/v1/organizations/{id}"))
        .token(&bob_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
    server
        .request("GET", "/v1/organizations/nope")
        .token(&bob_token)
        .send()
        .assert_keyrock_error(404, "Organization not found");
}

#[test]
fn patch_and_delete_are_for_owners() {
    let (server, db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "pw");
    let bob_token = server.login("bob@example.org", "pw");
    let id = create_org(&server, &admin, json!({"name": "Team"})).json()["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/organizations/{id}");
    let patch = |token: &str, body: serde_json::Value| {
        server
            .request("PATCH", &path)
            .token(token)
            .json(&body)
            .send()
    };
    let resp = patch(
        &admin,
        json!({"organization": {"name": "Team 2", "website": "http://w", "description": null}}),
    );
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"values_updated": {"name": "Team 2", "website": "http://w"}})
    );
    assert_eq!(
        patch(&admin, json!({"organization": {"name": "Team 2"}})).json(),
        json!({"message": "Request don't change the organization parameters", "code": 200, "title": "OK"})
    );
    for (body, message) in [
        (
            json!({"name": "x"}),
            "Missing parameter organization in body request",
        ),
        (
            json!({"organization": {"id": "x", "name": ""}}),
            "Cannot set id",
        ),
        (
            json!({"organization": {"name": ""}}),
            "Cannot set empty name",
        ),
    ] {
        patch(&admin, body).assert_keyrock_error(400, message);
    }
    assert_eq!(put_role(&server, &admin, &id, &bob, "member").status, 201);
    patch(&bob_token, json!({"organization": {"name": "mine"}}))
        .assert_keyrock_error(403, "User not allow to perform the action");
    server
        .request("DELETE", &path)
        .token(&bob_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
    server
        .request("PATCH", "/v1/organizations/nope")
        .token(&admin)
        .json(&json!({"organization": {"name": "x"}}))
        .send()
        .assert_keyrock_error(404, "Organization not found");

    // An assignment of the organization in an application goes with it.
    let app = server
        .request("POST", "/v1/applications")
        .token(&admin)
        .json(&json!({"application": {"name": "a", "redirect_uri": "http://a"}}))
        .send()
        .json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let assign = server
        .request("PUT", &format!("/v1/applications/{app}/organizations/{id}/roles/purchaser/organization_roles/member"))
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(assign.status, 201);
    assert_eq!(
        server.request("DELETE", &path).token(&admin).send().status,
        204
    );
    server
        .request("GET", &path)
        .token(&admin)
        .send()
        .assert_keyrock_error(404, "Organization not found");
    let mut conn = db.conn();
    let members: i64 = user_organizations::table
        .filter(user_organizations::organization_id.eq(&id))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    let assignments: i64 = role_assignments::table
        .filter(role_assignments::organization_id.eq(&id))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!((members, assignments), (0, 0));
}

#[test]
fn members_and_their_roles() {
    let (server, _db) = Server::start();
    let admin = server.admin_token();
    let bob = server.create_user(&admin, "bob", "bob@example.org", "pw");
    let carol = server.create_user(&admin, "carol", "carol@example.org", "pw");
    let bob_token = server.login("bob@example.org", "pw");
    let id = create_org(&server, &admin, json!({"name": "Team"})).json()["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/v1/organizations/{id}/users");

    let resp = put_role(&server, &admin, &id, &bob, "member");
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(
        resp.json(),
        json!({"user_organization_assignments": {"role": "member", "organization_id": id, "user_id": bob}})
    );
    put_role(&server, &admin, &id, "nobody", "member").assert_keyrock_error(404, "User not found");
    put_role(&server, &admin, &id, &bob, "boss")
        .assert_keyrock_error(404, "Organization role not found");
    put_role(&server, &bob_token, &id, &carol, "member")
        .assert_keyrock_error(403, "User not allow to perform the action");
    put_role(&server, &admin, "nope", &bob, "member")
        .assert_keyrock_error(404, "Organization not found");

    let list = server.request("GET", &base).token(&admin).send();
    assert_eq!(list.status, 200);
    let entries = list.json()["organization_users"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entries.len(), 2);
    assert!(entries.contains(&json!({"user_id": "admin", "organization_id": id, "role": "owner"})));
    assert!(entries.contains(&json!({"user_id": bob, "organization_id": id, "role": "member"})));
    server
        .request("GET", &base)
        .token(&bob_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");

    let role_of = |user: &str| {
        server
            .request("GET", &format!("{base}/{user}/organization_roles"))
            .token(&admin)
            .send()
    };
    assert_eq!(
        role_of(&bob).json(),
        json!({"organization_user": {"user_id": bob, "organization_id": id, "role": "member"}})
    );
    role_of("nobody").assert_keyrock_error(404, "User not found");
    role_of(&carol).assert_keyrock_error(404, "Assignment not found");

    // PUT replaces the role (upsert); the deprecated POST does the same.
    let post = server
        .request("POST", &format!("{base}/{bob}/organization_roles/owner"))
        .token(&admin)
        .header("Content-Type", "application/json")
        .send();
    assert_eq!(post.status, 201);
    assert_eq!(role_of(&bob).json()["organization_user"]["role"], "owner");
    // Now an owner, bob reads the organization.
    assert_eq!(
        server
            .request("GET", &format!("/v1/organizations/{id}"))
            .token(&bob_token)
            .send()
            .status,
        200
    );

    let del = |user: &str, role: &str| {
        server
            .request(
                "DELETE",
                &format!("{base}/{user}/organization_roles/{role}"),
            )
            .token(&admin)
            .send()
    };
    del(&bob, "member").assert_keyrock_error(404, "Assignments not found");
    del("nobody", "owner").assert_keyrock_error(404, "User not found");
    del(&bob, "boss").assert_keyrock_error(404, "Organization role not found");
    assert_eq!(del(&bob, "owner").status, 204);
    role_of(&bob).assert_keyrock_error(404, "Assignment not found");
    server
        .request("GET", &format!("/v1/organizations/{id}"))
        .token(&bob_token)
        .send()
        .assert_keyrock_error(403, "User not allow to perform the action");
}
