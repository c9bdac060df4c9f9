//! Roles (keyrock.md 4.5), permissions (4.6) and role–permission links (4.7), over HTTP:
//! every success case and every listed error, the list filters of 2.4, the 0/1 flags, the
//! validation order and the PDP-level rules, and the state left in the store.

use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{permissions, role_assignments, role_permissions, roles};
use tessera_tests::{json, keys, sorted, Options, Resp, Server, TestDb};

const NOT_PERMITTED: &str = "User not allow to perform the action";

/// An admin, `alice` (provider of the application), `bob` (no role yet) and the application.
struct World {
    alice: String,
    bob: String,
    bob_id: String,
    app: String,
}

impl World {
    fn path(&self, suffix: &str) -> String {
        format!("/v1/applications/{}{suffix}", self.app)
    }
}

fn world(server: &Server) -> World {
    let admin = server.admin_token();
    server.create_user(&admin, "alice", "alice@test.com", "alice-pw");
    let bob_id = server.create_user(&admin, "bob", "bob@test.com", "bob-pw");
    let alice = server.login("alice@test.com", "alice-pw");
    let app = new_app(server, &alice, "shop");
    World {
        alice,
        bob: server.login("bob@test.com", "bob-pw"),
        bob_id,
        app,
    }
}

fn new_app(server: &Server, token: &str, name: &str) -> String {
    let resp = server
        .request("POST", "/v1/applications")
        .token(token)
        .json(&json!({"application": {"name": name, "redirect_uri": "http://localhost/cb"}}))
        .send();
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A bodiless PUT/POST as Keyrock clients send it, or a GET/DELETE.
fn call(server: &Server, method: &str, path: &str, token: &str) -> Resp {
    let req = server.request(method, path).token(token);
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req.header("Content-Type", "application/json").send()
    } else {
        req.send()
    }
}

fn send(server: &Server, method: &str, path: &str, token: &str, body: serde_json::Value) -> Resp {
    server.request(method, path).token(token).json(&body).send()
}

fn new_role(server: &Server, w: &World, name: &str) -> String {
    let resp = send(
        server,
        "POST",
        &w.path("/roles"),
        &w.alice,
        json!({"role": {"name": name}}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["role"]["id"].as_str().unwrap().to_owned()
}

fn new_permission(server: &Server, w: &World, name: &str) -> String {
    let resp = send(
        server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": name, "action": "GET", "resource": "/orders"}}),
    );
    assert_eq!(resp.status, 201, "{}", resp.body);
    resp.json()["permission"]["id"].as_str().unwrap().to_owned()
}

fn ids(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Byte-wise descending, as Keyrock orders role and permission lists.
#[track_caller]
fn assert_id_descending(ids: &[String]) {
    let mut expected = ids.to_vec();
    expected.sort_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    assert_eq!(ids, expected);
}

fn role_name(db: &TestDb, id: &str) -> Option<String> {
    roles::table
        .filter(roles::id.eq(id))
        .select(roles::name)
        .first(&mut *db.conn())
        .ok()
}

fn links_of(db: &TestDb, role: &str) -> Vec<String> {
    let mut v: Vec<String> = role_permissions::table
        .filter(role_permissions::role_id.eq(role))
        .select(role_permissions::permission_id)
        .load(&mut *db.conn())
        .unwrap();
    v.sort();
    v
}

#[test]
fn roles_create_get_update_delete() {
    let (server, db) = Server::start();
    let w = world(&server);

    // Create: the 201 body field by field.
    let created = send(
        &server,
        "POST",
        &w.path("/roles"),
        &w.alice,
        json!({"role": {"name": "Clerk", "ignored": 1}}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let role = &created.json()["role"];
    assert_eq!(
        keys(role),
        sorted(&["id", "is_internal", "name", "oauth_client_id"])
    );
    assert_eq!(role["name"], "Clerk");
    assert_eq!(role["is_internal"], false);
    assert_eq!(role["oauth_client_id"], w.app.as_str());
    let id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(
        uuid::Uuid::parse_str(&id).unwrap().get_version_num(),
        4,
        "{id}"
    );
    assert_eq!(role_name(&db, &id).as_deref(), Some("Clerk"));

    for (body, message) in [
        (json!({}), "Missing parameter role in body request"),
        (
            json!({"role": "Clerk"}),
            "Missing parameter role in body request",
        ),
        (
            json!({"role": {}}),
            "Missing parameter name in body request or empty name",
        ),
        (
            json!({"role": {"name": ""}}),
            "Missing parameter name in body request or empty name",
        ),
        (
            json!({"role": {"name": 7}}),
            "Missing parameter name in body request or empty name",
        ),
    ] {
        send(&server, "POST", &w.path("/roles"), &w.alice, body).assert_keyrock_error(400, message);
    }

    // Get: own role, the internal roles through this application, 404s.
    let got = call(&server, "GET", &w.path(&format!("/roles/{id}")), &w.alice);
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["role"], *role);
    for internal in ["provider", "purchaser"] {
        let got = call(
            &server,
            "GET",
            &w.path(&format!("/roles/{internal}")),
            &w.alice,
        );
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.json()["role"]["is_internal"], true);
        assert_eq!(got.json()["role"]["oauth_client_id"], "idm_admin_app");
        assert_eq!(got.json()["role"]["id"], internal);
    }
    assert_eq!(
        call(&server, "GET", &w.path("/roles/provider"), &w.alice).json()["role"]["name"],
        "Provider"
    );
    call(&server, "GET", &w.path("/roles/nope"), &w.alice)
        .assert_keyrock_error(404, "Role not found");
    // A role of another application is not found through this one.
    let other = new_app(&server, &w.alice, "other");
    let foreign = send(
        &server,
        "POST",
        &format!("/v1/applications/{other}/roles"),
        &w.alice,
        json!({"role": {"name": "Foreign"}}),
    )
    .json()["role"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for method in ["GET", "DELETE"] {
        call(
            &server,
            method,
            &w.path(&format!("/roles/{foreign}")),
            &w.alice,
        )
        .assert_keyrock_error(404, "Role not found");
    }
    send(
        &server,
        "PATCH",
        &w.path(&format!("/roles/{foreign}")),
        &w.alice,
        json!({"role": {"name": "x"}}),
    )
    .assert_keyrock_error(404, "Role not found");
    assert_eq!(role_name(&db, &foreign).as_deref(), Some("Foreign"));

    // Patch.
    let path = w.path(&format!("/roles/{id}"));
    let patched = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"role": {"name": "Senior clerk"}}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        patched.json(),
        json!({"values_updated": {"name": "Senior clerk"}})
    );
    assert_eq!(role_name(&db, &id).as_deref(), Some("Senior clerk"));
    let same = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"role": {"name": "Senior clerk"}}),
    );
    assert_eq!(
        same.json(),
        json!({"message": "Request don't change the role parameters", "code": 200, "title": "OK"})
    );
    for (body, message) in [
        (
            json!({"name": "x"}),
            "Missing parameter role in body request",
        ),
        (json!({"role": {"name": ""}}), "Cannot set empty name"),
        (
            json!({"role": {"name": "", "id": "x"}}),
            "Cannot set empty name",
        ),
        (
            json!({"role": {"name": "x", "id": "x"}}),
            "Cannot set id or is_internal",
        ),
        (
            json!({"role": {"is_internal": true}}),
            "Cannot set id or is_internal",
        ),
    ] {
        send(&server, "PATCH", &path, &w.alice, body).assert_keyrock_error(400, message);
    }
    assert_eq!(role_name(&db, &id).as_deref(), Some("Senior clerk"));
    send(
        &server,
        "PATCH",
        &w.path("/roles/nope"),
        &w.alice,
        json!({"role": {"name": "x"}}),
    )
    .assert_keyrock_error(404, "Role not found");

    // The internal roles: refused before the body is looked at.
    for internal in ["provider", "purchaser"] {
        let p = w.path(&format!("/roles/{internal}"));
        for body in [json!({"role": {"name": "Mine"}}), json!({})] {
            send(&server, "PATCH", &p, &w.alice, body).assert_keyrock_error(403, "Not allowed");
        }
        call(&server, "DELETE", &p, &w.alice).assert_keyrock_error(403, "Not allowed");
        assert!(role_name(&db, internal).is_some());
    }
    assert_eq!(role_name(&db, "provider").as_deref(), Some("Provider"));

    // Delete.
    call(&server, "DELETE", &w.path("/roles/nope"), &w.alice)
        .assert_keyrock_error(404, "Role not found");
    assert_eq!(call(&server, "DELETE", &path, &w.alice).status, 204);
    assert_eq!(role_name(&db, &id), None);
    call(&server, "GET", &path, &w.alice).assert_keyrock_error(404, "Role not found");
    // Bob holds no role: every role route is refused, nothing changes.
    send(
        &server,
        "POST",
        &w.path("/roles"),
        &w.bob,
        json!({"role": {"name": "Bob's"}}),
    )
    .assert_keyrock_error(403, NOT_PERMITTED);
}

#[test]
fn deleting_a_role_removes_its_links_and_assignments() {
    let (server, db) = Server::start();
    let w = world(&server);
    let role = new_role(&server, &w, "Clerk");
    let perm = new_permission(&server, &w, "read orders");
    assert_eq!(
        call(
            &server,
            "PUT",
            &w.path(&format!("/roles/{role}/permissions/{perm}")),
            &w.alice
        )
        .status,
        201
    );
    assert_eq!(
        call(
            &server,
            "PUT",
            &w.path(&format!("/users/{}/roles/{role}", w.bob_id)),
            &w.alice
        )
        .status,
        201
    );
    let count_assignments = || -> i64 {
        role_assignments::table
            .filter(role_assignments::role_id.eq(&role))
            .count()
            .get_result(&mut *db.conn())
            .unwrap()
    };
    assert_eq!(count_assignments(), 1);
    assert_eq!(links_of(&db, &role), vec![perm.clone()]);

    assert_eq!(
        call(
            &server,
            "DELETE",
            &w.path(&format!("/roles/{role}")),
            &w.alice
        )
        .status,
        204
    );
    assert_eq!(count_assignments(), 0);
    assert!(links_of(&db, &role).is_empty());
    assert_eq!(role_name(&db, &role), None);
    // The permission itself stays, and bob lost the role.
    let got = call(
        &server,
        "GET",
        &w.path(&format!("/permissions/{perm}")),
        &w.alice,
    );
    assert_eq!(got.status, 200);
    call(
        &server,
        "GET",
        &w.path(&format!("/users/{}/roles", w.bob_id)),
        &w.alice,
    )
    .assert_keyrock_error(404, "Assignments not found");
}

#[test]
fn role_list_is_filtered_by_changeable_roles() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let admin = server.admin_token();
    // Ids are random: the expected order is computed, not assumed.
    let clerk = new_role(&server, &w, "Clerk");
    let auditor = new_role(&server, &w, "Auditor");

    // Perm 3 (provider): every role of the application plus provider and purchaser.
    let all = call(&server, "GET", &w.path("/roles"), &w.alice);
    assert_eq!(all.status, 200, "{}", all.body);
    let listed = ids(&all.json()["roles"]);
    assert_eq!(
        sorted(&listed.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&[&clerk, &auditor, "provider", "purchaser"])
    );
    assert_id_descending(&listed);
    for entry in all.json()["roles"].as_array().unwrap() {
        assert_eq!(keys(entry), sorted(&["id", "name"]));
    }

    // Perm 5 (purchaser): every role of the application, not the internal ones.
    call(
        &server,
        "PUT",
        &w.path(&format!("/users/{}/roles/purchaser", w.bob_id)),
        &w.alice,
    );
    let bob_sees = call(&server, "GET", &w.path("/roles"), &w.bob);
    assert_eq!(bob_sees.status, 200, "{}", bob_sees.body);
    let listed = ids(&bob_sees.json()["roles"]);
    assert_eq!(
        sorted(&listed.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&[&clerk, &auditor])
    );
    assert_id_descending(&listed);

    // Perm 6 only: the non-internal roles the caller holds himself.
    let carol_id = server.create_user(&admin, "carol", "carol@test.com", "carol-pw");
    let carol = server.login("carol@test.com", "carol-pw");
    let owner_only = new_role(&server, &w, "Owner-only");
    assert_eq!(
        call(
            &server,
            "PUT",
            &w.path(&format!("/roles/{owner_only}/permissions/6")),
            &w.alice
        )
        .status,
        201
    );
    for role in [&owner_only, &clerk] {
        let put = call(
            &server,
            "PUT",
            &w.path(&format!("/users/{carol_id}/roles/{role}")),
            &w.alice,
        );
        assert_eq!(put.status, 201, "{}", put.body);
    }
    let carol_sees = call(&server, "GET", &w.path("/roles"), &carol);
    assert_eq!(carol_sees.status, 200, "{}", carol_sees.body);
    let listed = ids(&carol_sees.json()["roles"]);
    assert_eq!(
        sorted(&listed.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&[&owner_only, &clerk])
    );

    // Perm 1 only: the internal roles.
    let dave_id = server.create_user(&admin, "dave", "dave@test.com", "dave-pw");
    let dave = server.login("dave@test.com", "dave-pw");
    let internal_only = new_role(&server, &w, "Internal-only");
    call(
        &server,
        "PUT",
        &w.path(&format!("/roles/{internal_only}/permissions/1")),
        &w.alice,
    );
    call(
        &server,
        "PUT",
        &w.path(&format!("/users/{dave_id}/roles/{internal_only}")),
        &w.alice,
    );
    let dave_sees = call(&server, "GET", &w.path("/roles"), &dave);
    assert_eq!(dave_sees.status, 200, "{}", dave_sees.body);
    assert_eq!(
        ids(&dave_sees.json()["roles"]),
        vec!["purchaser".to_owned(), "provider".to_owned()]
    );

    // Perm 5 in an application without roles of its own: nothing to see.
    let bare = new_app(&server, &w.alice, "bare");
    call(
        &server,
        "PUT",
        &format!("/v1/applications/{bare}/users/{}/roles/purchaser", w.bob_id),
        &w.alice,
    );
    call(
        &server,
        "GET",
        &format!("/v1/applications/{bare}/roles"),
        &w.bob,
    )
    .assert_keyrock_error(404, "Roles not found");
    // No role at all.
    server.create_user(&admin, "eve", "eve@test.com", "eve-pw");
    let eve = server.login("eve@test.com", "eve-pw");
    call(&server, "GET", &w.path("/roles"), &eve).assert_keyrock_error(403, NOT_PERMITTED);
}

#[test]
fn permissions_create_and_read_with_keyrock_shapes() {
    let (server, db) = Server::start();
    let w = world(&server);
    let created = send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {
            "name": "read orders", "description": "GET on orders",
            "action": "GET", "resource": "/orders/.*", "is_regex": true,
            "use_authorization_service_header": true,
            "authorization_service_header": "Fiware-Service",
        }}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let p = &created.json()["permission"];
    assert_eq!(
        keys(p),
        sorted(&[
            "id",
            "is_internal",
            "name",
            "description",
            "action",
            "resource",
            "is_regex",
            "use_authorization_service_header",
            "authorization_service_header",
            "regex_entity_ids",
            "regex_attributes",
            "regex_types",
            "xml",
            "oauth_client_id",
        ])
    );
    assert_eq!(p["is_internal"], false);
    assert_eq!(p["name"], "read orders");
    assert_eq!(p["description"], "GET on orders");
    assert_eq!(p["action"], "GET");
    assert_eq!(p["resource"], "/orders/.*");
    // The 201 echoes the flags as JSON booleans; every read gives 0/1.
    assert_eq!(p["is_regex"], true);
    assert_eq!(p["use_authorization_service_header"], true);
    assert_eq!(p["authorization_service_header"], "Fiware-Service");
    assert_eq!(p["xml"], serde_json::Value::Null);
    assert_eq!(p["regex_entity_ids"], serde_json::Value::Null);
    assert_eq!(p["oauth_client_id"], w.app.as_str());
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);

    // Defaults: flags false.
    let plain = send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "write", "action": "POST", "resource": "/orders",
               "is_regex": null}}),
    );
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(plain.json()["permission"]["is_regex"], false);
    assert_eq!(
        plain.json()["permission"]["use_authorization_service_header"],
        false
    );
    assert_eq!(
        plain.json()["permission"]["description"],
        serde_json::Value::Null
    );
    let plain_id = plain.json()["permission"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The full object.
    let got = call(
        &server,
        "GET",
        &w.path(&format!("/permissions/{id}")),
        &w.alice,
    );
    assert_eq!(got.status, 200, "{}", got.body);
    let full = &got.json()["permission"];
    assert_eq!(
        keys(full),
        sorted(&[
            "id",
            "name",
            "description",
            "is_internal",
            "action",
            "resource",
            "authorization_service_header",
            "use_authorization_service_header",
            "regex_entity_ids",
            "regex_attributes",
            "regex_types",
            "is_regex",
            "xml",
            "oauth_client_id",
        ])
    );
    assert_eq!(full["is_regex"], 1);
    assert_eq!(full["use_authorization_service_header"], 1);
    assert_eq!(full["is_internal"], false);
    let got_plain = call(
        &server,
        "GET",
        &w.path(&format!("/permissions/{plain_id}")),
        &w.alice,
    );
    assert_eq!(got_plain.json()["permission"]["is_regex"], 0);
    assert_eq!(
        got_plain.json()["permission"]["use_authorization_service_header"],
        0
    );
    // Internal permissions resolve through any application.
    let internal = call(&server, "GET", &w.path("/permissions/3"), &w.alice);
    assert_eq!(internal.status, 200, "{}", internal.body);
    let i = &internal.json()["permission"];
    assert_eq!(i["name"], "Manage roles");
    assert_eq!(i["is_internal"], true);
    assert_eq!(i["oauth_client_id"], "idm_admin_app");
    for key in ["description", "action", "resource", "xml"] {
        assert_eq!(i[key], serde_json::Value::Null, "{key}");
    }
    call(&server, "GET", &w.path("/permissions/nope"), &w.alice)
        .assert_keyrock_error(404, "permission not found");
    let other = new_app(&server, &w.alice, "other");
    call(
        &server,
        "GET",
        &format!("/v1/applications/{other}/permissions/{id}"),
        &w.alice,
    )
    .assert_keyrock_error(404, "permission not found");

    // The list: the application's permissions plus the six internal ones, id descending.
    let list = call(&server, "GET", &w.path("/permissions"), &w.alice);
    assert_eq!(list.status, 200, "{}", list.body);
    let entries = list.json()["permissions"].clone();
    let listed = ids(&entries);
    assert_eq!(
        sorted(&listed.iter().map(String::as_str).collect::<Vec<_>>()),
        sorted(&["1", "2", "3", "4", "5", "6", &id, &plain_id])
    );
    assert_id_descending(&listed);
    for entry in entries.as_array().unwrap() {
        assert_eq!(
            keys(entry),
            sorted(&[
                "id",
                "name",
                "description",
                "action",
                "resource",
                "authorization_service_header",
                "use_authorization_service_header",
                "regex_entity_ids",
                "regex_attributes",
                "regex_types",
                "xml",
            ])
        );
        let expected = if entry["id"] == id.as_str() { 1 } else { 0 };
        assert_eq!(entry["use_authorization_service_header"], expected);
    }
    // Another application's list holds only the internal ones.
    let other_list = call(
        &server,
        "GET",
        &format!("/v1/applications/{other}/permissions"),
        &w.alice,
    );
    assert_eq!(
        ids(&other_list.json()["permissions"]),
        ["6", "5", "4", "3", "2", "1"]
    );

    // Stored as sent.
    let stored: (bool, bool, Option<String>) = permissions::table
        .filter(permissions::id.eq(&id))
        .select((
            permissions::is_regex,
            permissions::use_authorization_service_header,
            permissions::authorization_service_header,
        ))
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(stored, (true, true, Some("Fiware-Service".to_owned())));
    // Bob holds no role.
    call(&server, "GET", &w.path("/permissions"), &w.bob).assert_keyrock_error(403, NOT_PERMITTED);
}

fn permission_count(db: &TestDb, app: &str) -> i64 {
    permissions::table
        .filter(permissions::oauth_client_id.eq(app))
        .count()
        .get_result(&mut *db.conn())
        .unwrap()
}

#[test]
fn permission_create_validation_rules_in_order() {
    let (server, db) = Server::start();
    let w = world(&server);
    let cases = [
        (json!({}), "Missing parameter permission in body request"),
        (
            json!({"permission": {"action": "GET", "resource": "/x"}}),
            "Missing parameter name in body request or empty name",
        ),
        (
            json!({"permission": {"name": "", "action": "GET", "resource": "/x"}}),
            "Missing parameter name in body request or empty name",
        ),
        // Rule 3 before rule 4.
        (
            json!({"permission": {"name": "p", "xml": "<Rule/>"}}),
            "Idm is not configured to create XACML advanced rules",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET"}}),
            "Set action and resource",
        ),
        (
            json!({"permission": {"name": "p", "resource": "/x", "action": ""}}),
            "Set action and resource",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x", "is_regex": "yes"}}),
            "is_regex attribute must be a boolean",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x", "is_regex": 1,
                   "use_authorization_service_header": "x"}}),
            "is_regex attribute must be a boolean",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "use_authorization_service_header": 1}}),
            "use_authorization_service_header attribute must be a boolean",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "use_authorization_service_header": true}}),
            "if use_authorization_service_header is set, authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "use_authorization_service_header": true, "authorization_service_header": ""}}),
            "if use_authorization_service_header is set, authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "authorization_service_header": "Fiware-Service"}}),
            "if authorization_service_header is set, use_authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "authorization_service_header": "Fiware-Service",
                   "use_authorization_service_header": false}}),
            "if authorization_service_header is set, use_authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "regex_entity_ids": "urn:.*", "regex_types": "Room"}}),
            "Cannot set regex_entity_ids unless running in payload mode",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "regex_attributes": "temp.*"}}),
            "Cannot set regex_attributes unless running in payload mode",
        ),
        (
            json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                   "regex_types": "Room"}}),
            "Cannot set regex_types unless running in payload mode",
        ),
    ];
    for (body, message) in cases {
        let resp = send(
            &server,
            "POST",
            &w.path("/permissions"),
            &w.alice,
            body.clone(),
        );
        assert_eq!(resp.json()["error"]["message"], message, "{body}");
        resp.assert_keyrock_error(400, message);
    }
    assert_eq!(
        permission_count(&db, &w.app),
        0,
        "no failed create stored a row"
    );
    // Empty regex fields are not rules.
    let ok = send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
               "regex_entity_ids": "", "xml": ""}}),
    );
    assert_eq!(ok.status, 201, "{}", ok.body);
}

#[test]
fn pdp_levels_decide_xml_and_regex_rules() {
    // payload: regex fields allowed, XACML still refused.
    let (server, _db) = Server::start_with(Options::default().env("TESSERA_PDP_LEVEL", "payload"));
    let w = world(&server);
    let regex = send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "p", "action": "GET", "resource": "/v2/entities",
               "regex_entity_ids": "urn:ngsi-ld:Room:.*", "regex_attributes": "temp.*",
               "regex_types": "Room"}}),
    );
    assert_eq!(regex.status, 201, "{}", regex.body);
    assert_eq!(
        regex.json()["permission"]["regex_entity_ids"],
        "urn:ngsi-ld:Room:.*"
    );
    assert_eq!(regex.json()["permission"]["regex_types"], "Room");
    let id = regex.json()["permission"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patched = send(
        &server,
        "PATCH",
        &w.path(&format!("/permissions/{id}")),
        &w.alice,
        json!({"permission": {"regex_attributes": "hum.*"}}),
    );
    assert_eq!(
        patched.json(),
        json!({"values_updated": {"regex_attributes": "hum.*"}})
    );
    send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "x", "xml": "<Rule/>"}}),
    )
    .assert_keyrock_error(400, "Idm is not configured to create XACML advanced rules");
    drop(server);

    // advanced: an XACML rule needs no action or resource; regex fields are refused.
    let (server, _db) = Server::start_with(Options::default().env("TESSERA_PDP_LEVEL", "advanced"));
    let w = world(&server);
    let xml = send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "x", "xml": "<Rule RuleId=\"r\"/>"}}),
    );
    assert_eq!(xml.status, 201, "{}", xml.body);
    assert_eq!(xml.json()["permission"]["xml"], "<Rule RuleId=\"r\"/>");
    assert_eq!(xml.json()["permission"]["action"], serde_json::Value::Null);
    send(
        &server,
        "POST",
        &w.path("/permissions"),
        &w.alice,
        json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
               "regex_types": "Room"}}),
    )
    .assert_keyrock_error(400, "Cannot set regex_types unless running in payload mode");
}

#[test]
fn permission_update_and_delete() {
    let (server, db) = Server::start();
    let w = world(&server);
    let id = new_permission(&server, &w, "read orders");
    let path = w.path(&format!("/permissions/{id}"));

    // Values changed, encoded as in GET (flags 0/1).
    let patched = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"permission": {"name": "read all orders", "description": "d",
               "is_regex": true, "use_authorization_service_header": true,
               "authorization_service_header": "Fiware-Service"}}),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        patched.json(),
        json!({"values_updated": {
            "name": "read all orders", "description": "d", "is_regex": 1,
            "use_authorization_service_header": 1,
            "authorization_service_header": "Fiware-Service",
        }})
    );
    // action alone is ignored; both together change.
    let alone = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"permission": {"action": "DELETE"}}),
    );
    assert_eq!(
        alone.json(),
        json!({"message": "Request don't change the permission parameters", "code": 200, "title": "OK"})
    );
    let both = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"permission": {"action": "DELETE", "resource": "/orders"}}),
    );
    assert_eq!(both.json(), json!({"values_updated": {"action": "DELETE"}}));
    // Empty name and description do not change the stored values; a flag key present does.
    let flags_off = send(
        &server,
        "PATCH",
        &path,
        &w.alice,
        json!({"permission": {"description": "", "is_regex": false,
               "use_authorization_service_header": false, "authorization_service_header": null}}),
    );
    assert_eq!(
        flags_off.json(),
        json!({"values_updated": {"is_regex": 0, "use_authorization_service_header": 0,
               "authorization_service_header": null}})
    );
    let got = call(&server, "GET", &path, &w.alice).json()["permission"].clone();
    assert_eq!(got["name"], "read all orders");
    assert_eq!(got["description"], "d");
    assert_eq!(got["action"], "DELETE");
    assert_eq!(got["resource"], "/orders");
    assert_eq!(got["is_regex"], 0);

    // Errors, in the PATCH order of keyrock.md 4.6.
    for (body, message) in [
        (json!({"name": "x"}), "Missing parameter permission in body request"),
        (
            json!({"permission": {"name": "", "xml": "<Rule/>", "id": "1"}}),
            "Cannot set empty name",
        ),
        (
            json!({"permission": {"xml": "<Rule/>", "id": "1"}}),
            "Idm is not configured to create XACML advanced rules",
        ),
        (
            json!({"permission": {"id": "1", "is_regex": "x"}}),
            "Cannot set id or is_internal",
        ),
        (
            json!({"permission": {"is_internal": true}}),
            "Cannot set id or is_internal",
        ),
        (
            json!({"permission": {"is_regex": "x", "use_authorization_service_header": "x"}}),
            "is_regex attribute must be a boolean",
        ),
        (
            json!({"permission": {"use_authorization_service_header": "x"}}),
            "use_authorization_service_header attribute must be a boolean",
        ),
        (
            json!({"permission": {"use_authorization_service_header": true}}),
            "if use_authorization_service_header is set, authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"authorization_service_header": "H"}}),
            "if authorization_service_header is set, use_authorization_service_header needs to be set",
        ),
        (
            json!({"permission": {"regex_entity_ids": "x"}}),
            "Cannot set regex_entity_ids unless running in payload mode",
        ),
        (
            json!({"permission": {"regex_attributes": "x"}}),
            "Cannot set regex_attributes unless running in payload mode",
        ),
        (
            json!({"permission": {"regex_types": "x"}}),
            "Cannot set regex_types unless running in payload mode",
        ),
    ] {
        send(&server, "PATCH", &path, &w.alice, body).assert_keyrock_error(400, message);
    }
    assert_eq!(
        call(&server, "GET", &path, &w.alice).json()["permission"],
        got,
        "refused PATCHes changed nothing"
    );
    send(
        &server,
        "PATCH",
        &w.path("/permissions/nope"),
        &w.alice,
        json!({"permission": {"name": "x"}}),
    )
    .assert_keyrock_error(404, "permission not found");

    // The internal permissions: 403 before the body, for PATCH and DELETE.
    for internal in ["1", "2", "3", "4", "5", "6"] {
        let p = w.path(&format!("/permissions/{internal}"));
        for body in [json!({"permission": {"name": "mine"}}), json!({})] {
            send(&server, "PATCH", &p, &w.alice, body).assert_keyrock_error(403, "Not allowed");
        }
        call(&server, "DELETE", &p, &w.alice).assert_keyrock_error(403, "Not allowed");
    }
    let internal_name: String = permissions::table
        .filter(permissions::id.eq("2"))
        .select(permissions::name)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(internal_name, "Manage the application");

    // Delete removes its role links.
    let role = new_role(&server, &w, "Clerk");
    call(
        &server,
        "PUT",
        &w.path(&format!("/roles/{role}/permissions/{id}")),
        &w.alice,
    );
    assert_eq!(links_of(&db, &role), vec![id.clone()]);
    call(&server, "DELETE", &w.path("/permissions/nope"), &w.alice)
        .assert_keyrock_error(404, "permission not found");
    assert_eq!(call(&server, "DELETE", &path, &w.alice).status, 204);
    assert!(links_of(&db, &role).is_empty());
    assert_eq!(permission_count(&db, &w.app), 0);
    call(&server, "GET", &path, &w.alice).assert_keyrock_error(404, "permission not found");
}

#[test]
fn role_permission_links() {
    let (server, db) = Server::start();
    let w = world(&server);
    let role = new_role(&server, &w, "Clerk");
    let perm = new_permission(&server, &w, "read orders");
    let link = w.path(&format!("/roles/{role}/permissions/{perm}"));

    call(
        &server,
        "GET",
        &w.path(&format!("/roles/{role}/permissions")),
        &w.alice,
    )
    .assert_keyrock_error(404, "Assignments not found");
    call(&server, "GET", &w.path("/roles/nope/permissions"), &w.alice)
        .assert_keyrock_error(404, "Role not found");

    // PUT twice and POST: 201 each time, one row.
    for method in ["PUT", "PUT", "POST"] {
        let resp = call(&server, method, &link, &w.alice);
        assert_eq!(resp.status, 201, "{method}: {}", resp.body);
        assert_eq!(
            resp.json(),
            json!({"role_permission_assignments": {"role_id": role, "permission_id": perm}})
        );
    }
    // A body is ignored.
    let with_body = send(&server, "PUT", &link, &w.alice, json!({"anything": 1}));
    assert_eq!(with_body.status, 201);
    assert_eq!(links_of(&db, &role), vec![perm.clone()]);

    let listed = call(
        &server,
        "GET",
        &w.path(&format!("/roles/{role}/permissions")),
        &w.alice,
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let entries = listed.json()["role_permission_assignments"].clone();
    assert_eq!(ids(&entries), vec![perm.clone()]);
    assert_eq!(
        keys(&entries[0]),
        sorted(&[
            "id",
            "is_internal",
            "name",
            "description",
            "action",
            "resource",
            "authorization_service_header",
            "use_authorization_service_header",
            "regex_entity_ids",
            "regex_attributes",
            "regex_types",
            "xml",
        ])
    );
    assert_eq!(entries[0]["use_authorization_service_header"], 0);
    assert_eq!(entries[0]["name"], "read orders");
    // The provider role lists the six internal permissions.
    let provider = call(
        &server,
        "GET",
        &w.path("/roles/provider/permissions"),
        &w.alice,
    );
    assert_eq!(
        ids(&provider.json()["role_permission_assignments"]),
        ["6", "5", "4", "3", "2", "1"]
    );

    // 404s, left to right, then the internal-role refusal.
    for method in ["PUT", "POST", "DELETE"] {
        for (path, message) in [
            (format!("/roles/nope/permissions/{perm}"), "Role not found"),
            (
                format!("/roles/{role}/permissions/nope"),
                "permission not found",
            ),
            ("/roles/nope/permissions/nope".to_owned(), "Role not found"),
        ] {
            call(&server, method, &w.path(&path), &w.alice).assert_keyrock_error(404, message);
        }
    }
    let other = new_app(&server, &w.alice, "other");
    call(
        &server,
        "PUT",
        &format!("/v1/applications/{other}/roles/{role}/permissions/{perm}"),
        &w.alice,
    )
    .assert_keyrock_error(404, "Role not found");
    for method in ["PUT", "POST", "DELETE"] {
        for internal in ["provider", "purchaser"] {
            call(
                &server,
                method,
                &w.path(&format!("/roles/{internal}/permissions/{perm}")),
                &w.alice,
            )
            .assert_keyrock_error(403, "Not allowed");
        }
    }
    assert_eq!(links_of(&db, "purchaser"), vec!["5".to_owned()]);
    assert_eq!(links_of(&db, "provider").len(), 6);

    // Delete: 204, then "Assignments not found".
    assert_eq!(call(&server, "DELETE", &link, &w.alice).status, 204);
    assert!(links_of(&db, &role).is_empty());
    call(&server, "DELETE", &link, &w.alice).assert_keyrock_error(404, "Assignments not found");
}

#[test]
fn an_internal_permission_linked_to_a_custom_role_grants_rights_in_that_application_only() {
    let (server, _db) = Server::start();
    let w = world(&server);
    let other = new_app(&server, &w.alice, "other");
    let manager = new_role(&server, &w, "Role manager");
    call(&server, "GET", &w.path("/permissions"), &w.bob).assert_keyrock_error(403, NOT_PERMITTED);
    assert_eq!(
        call(
            &server,
            "PUT",
            &w.path(&format!("/roles/{manager}/permissions/3")),
            &w.alice
        )
        .status,
        201
    );
    assert_eq!(
        call(
            &server,
            "PUT",
            &w.path(&format!("/users/{}/roles/{manager}", w.bob_id)),
            &w.alice
        )
        .status,
        201
    );
    // Bob now manages roles and permissions here...
    assert_eq!(
        call(&server, "GET", &w.path("/permissions"), &w.bob).status,
        200
    );
    let created = send(
        &server,
        "POST",
        &w.path("/roles"),
        &w.bob,
        json!({"role": {"name": "Bob's role"}}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    // ...but not the application itself (perm 2), nor anything in the other application.
    send(
        &server,
        "PATCH",
        &w.path(""),
        &w.bob,
        json!({"application": {"name": "bob's"}}),
    )
    .assert_keyrock_error(403, NOT_PERMITTED);
    call(
        &server,
        "GET",
        &format!("/v1/applications/{other}/permissions"),
        &w.bob,
    )
    .assert_keyrock_error(403, NOT_PERMITTED);
    // Unlinking takes the right away at once.
    assert_eq!(
        call(
            &server,
            "DELETE",
            &w.path(&format!("/roles/{manager}/permissions/3")),
            &w.alice
        )
        .status,
        204
    );
    call(&server, "GET", &w.path("/permissions"), &w.bob).assert_keyrock_error(403, NOT_PERMITTED);
}
