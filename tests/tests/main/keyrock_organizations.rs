//! `/v1/organizations` and their members (keyrock.md 4.4), over HTTP.

use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl};
use storage::schema::{role_assignments, user_organizations};
use tessera_tests::{count, json, Resp, Server, World};

fn create_org(s: &Server, token: &str, org: Value) -> Resp {
    s.send_json(
        "POST",
        "/v1/organizations",
        token,
        &json!({ "organization": org }),
    )
}

fn put_role(s: &Server, token: &str, org: &str, user: &str, role: &str) -> Resp {
    let path = format!("/v1/organizations/{org}/users/{user}/organization_roles/{role}");
    s.keyrock("PUT", &path, token)
}

#[test]
fn create_list_read_and_validate() {
    let (s, _db) = Server::start();
    let admin = s.admin_token();
    s.keyrock("GET", "/v1/organizations", &admin)
        .assert_keyrock_error(404, "Organizations not found");
    let body = json!({"name": "Team", "description": "d", "website": "http://t"});
    let org = create_org(&s, &admin, body).assert_status(201).json()["organization"].clone();
    let id = org["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let fields = json!({"id": id, "name": "Team", "description": "d", "website": "http://t",
                        "image": "default"});
    assert_eq!(org, fields);
    let list = s.keyrock("GET", "/v1/organizations", &admin);
    let expected = json!({"organizations": [{"role": "owner", "Organization": fields}]});
    assert_eq!(list.json(), expected);
    let one = s.keyrock("GET", &format!("/v1/organizations/{id}"), &admin);
    assert_eq!(
        one.assert_status(200).json()["organization"]["name"],
        "Team"
    );

    s.send_json("POST", "/v1/organizations", &admin, &json!({"name": "x"}))
        .assert_keyrock_error(400, "Missing parameter organization in body request");
    for org in [json!({}), json!({"name": ""}), json!({"description": "x"})] {
        create_org(&s, &admin, org)
            .assert_keyrock_error(400, "Missing parameter name in body request or empty name");
    }

    // Members see it in their list, but only owners may read it.
    let w = World::new(&s);
    let (bob, bob_token) = (&w.bob_id, &w.bob);
    put_role(&s, &admin, &id, bob, "member").assert_status(201);
    let bobs = s.keyrock("GET", "/v1/organizations", bob_token).json();
    assert_eq!(bobs["organizations"][0]["role"], "member");
    s.keyrock("GET", &format!("/v1/organizations/{id}"), bob_token)
        .assert_not_permitted();
    s.keyrock("GET", "/v1/organizations/nope", bob_token)
        .assert_keyrock_error(404, "Organization not found");
}

#[test]
fn patch_and_delete_are_for_owners() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, bob_token) = (&w.admin, &w.bob_id, &w.bob);
    let id = s.new_organization(admin, "Team");
    let path = format!("/v1/organizations/{id}");
    let patch = |token: &str, body: Value| s.send_json("PATCH", &path, token, &body);
    let resp = patch(
        admin,
        json!({"organization": {"name": "Team 2", "website": "http://w", "description": null}}),
    );
    assert_eq!(
        resp.assert_status(200).json(),
        json!({"values_updated": {"name": "Team 2", "website": "http://w"}})
    );
    let message = "Request don't change the organization parameters";
    assert_eq!(
        patch(admin, json!({"organization": {"name": "Team 2"}})).json(),
        json!({"message": message, "code": 200, "title": "OK"})
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
        patch(admin, body).assert_keyrock_error(400, message);
    }
    put_role(&s, admin, &id, bob, "member").assert_status(201);
    patch(bob_token, json!({"organization": {"name": "mine"}})).assert_not_permitted();
    s.keyrock("DELETE", &path, bob_token).assert_not_permitted();
    let body = json!({"organization": {"name": "x"}});
    s.send_json("PATCH", "/v1/organizations/nope", admin, &body)
        .assert_keyrock_error(404, "Organization not found");

    // An assignment of the organization in an application goes with it.
    let app = s.new_application(admin, "a");
    let assign = format!(
        "/v1/applications/{app}/organizations/{id}/roles/purchaser/organization_roles/member"
    );
    s.keyrock("PUT", &assign, admin).assert_status(201);
    s.keyrock("DELETE", &path, admin).assert_status(204);
    s.keyrock("GET", &path, admin)
        .assert_keyrock_error(404, "Organization not found");
    let members = count!(
        db,
        user_organizations::table.filter(user_organizations::organization_id.eq(&id))
    );
    let assignments = count!(
        db,
        role_assignments::table.filter(role_assignments::organization_id.eq(&id))
    );
    assert_eq!((members, assignments), (0, 0));
}

#[test]
fn members_and_their_roles() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let (admin, bob, carol, bob_token) = (&w.admin, &w.bob_id, &w.carol_id, &w.bob);
    let id = s.new_organization(admin, "Team");
    let base = format!("/v1/organizations/{id}/users");
    let org_path = format!("/v1/organizations/{id}");

    let resp = put_role(&s, admin, &id, bob, "member");
    assert_eq!(
        resp.assert_status(201).json(),
        json!({"user_organization_assignments": {"role": "member", "organization_id": id, "user_id": bob}})
    );
    put_role(&s, admin, &id, "nobody", "member").assert_keyrock_error(404, "User not found");
    put_role(&s, admin, &id, bob, "boss").assert_keyrock_error(404, "Organization role not found");
    put_role(&s, bob_token, &id, carol, "member").assert_not_permitted();
    put_role(&s, admin, "nope", bob, "member").assert_keyrock_error(404, "Organization not found");

    let list = s.keyrock("GET", &base, admin);
    let entries = list.assert_status(200).json()["organization_users"].clone();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for (user, role) in [("admin", "owner"), (bob.as_str(), "member")] {
        let entry = json!({"user_id": user, "organization_id": id, "role": role});
        assert!(entries.contains(&entry), "{entry}");
    }
    s.keyrock("GET", &base, bob_token).assert_not_permitted();

    let role_of =
        |user: &str| s.keyrock("GET", &format!("{base}/{user}/organization_roles"), admin);
    assert_eq!(
        role_of(bob).json(),
        json!({"organization_user": {"user_id": bob, "organization_id": id, "role": "member"}})
    );
    role_of("nobody").assert_keyrock_error(404, "User not found");
    role_of(carol).assert_keyrock_error(404, "Assignment not found");

    // PUT replaces the role (upsert); the deprecated POST does the same.
    s.keyrock(
        "POST",
        &format!("{base}/{bob}/organization_roles/owner"),
        admin,
    )
    .assert_status(201);
    assert_eq!(role_of(bob).json()["organization_user"]["role"], "owner");
    // Now an owner, bob reads the organization.
    s.keyrock("GET", &org_path, bob_token).assert_status(200);

    let del = |user: &str, role: &str| {
        s.keyrock(
            "DELETE",
            &format!("{base}/{user}/organization_roles/{role}"),
            admin,
        )
    };
    del(bob, "member").assert_keyrock_error(404, "Assignments not found");
    del("nobody", "owner").assert_keyrock_error(404, "User not found");
    del(bob, "boss").assert_keyrock_error(404, "Organization role not found");
    del(bob, "owner").assert_status(204);
    role_of(bob).assert_keyrock_error(404, "Assignment not found");
    s.keyrock("GET", &org_path, bob_token)
        .assert_not_permitted();
}
