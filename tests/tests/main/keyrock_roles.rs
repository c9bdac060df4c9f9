//! Roles (keyrock.md 4.5), permissions (4.6) and role–permission links (4.7), over HTTP:
//! every success case and every listed error, the list filters of 2.4, the 0/1 flags, the
//! validation order and the PDP-level rules, and the state left in the store.

use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{permissions, role_assignments, role_permissions, roles};
use tessera_tests::{count, json, keys, sorted, Options, Resp, Server, TestDb, World};

/// alice's application "shop" (she is its provider); bob holds no role in it.
struct Shop {
    w: World,
    app: String,
}

impl Shop {
    fn new(s: &Server) -> Shop {
        let w = World::new(s);
        let app = s.new_application(&w.alice, "shop");
        Shop { w, app }
    }

    fn path(&self, suffix: &str) -> String {
        format!("/v1/applications/{}{suffix}", self.app)
    }

    /// A bodiless request of alice's on the application.
    fn call(&self, s: &Server, method: &str, suffix: &str) -> Resp {
        s.keyrock(method, &self.path(suffix), &self.w.alice)
    }

    /// A request of alice's on the application with a JSON body.
    fn send(&self, s: &Server, method: &str, suffix: &str, body: Value) -> Resp {
        s.send_json(method, &self.path(suffix), &self.w.alice, &body)
    }
}

/// The `id`s of a list.
fn ids(list: &Value) -> Vec<String> {
    let items = list.as_array().unwrap().iter();
    items
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids sorted, to compare with an expected set.
fn set(ids: &[String]) -> Vec<String> {
    sorted(&ids.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Byte-wise descending, as Keyrock orders role and permission lists.
#[track_caller]
fn assert_id_descending(ids: &[String]) {
    let mut expected = ids.to_vec();
    expected.sort_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
    assert_eq!(ids, expected);
}

fn role_name(db: &TestDb, id: &str) -> Option<String> {
    let query = roles::table.filter(roles::id.eq(id)).select(roles::name);
    query.first(&mut *db.conn()).ok()
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

fn permission_count(db: &TestDb, app: &str) -> i64 {
    count!(
        db,
        permissions::table.filter(permissions::oauth_client_id.eq(app))
    )
}

/// The answer of a PATCH that changes nothing.
fn unchanged(what: &str) -> Value {
    let message = format!("Request don't change the {what} parameters");
    json!({"message": message, "code": 200, "title": "OK"})
}

/// Every field of a permission as reads show it (creation adds `oauth_client_id`).
const PERMISSION_KEYS: [&str; 13] = [
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
];

#[test]
fn roles_create_get_update_delete() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let (w, a) = (&shop.w, &shop.w.alice);

    // Create: the 201 body field by field.
    let body = json!({"role": {"name": "Clerk", "ignored": 1}});
    let created = shop
        .send(&s, "POST", "/roles", body)
        .assert_status(201)
        .json();
    let role = &created["role"];
    assert_eq!(
        keys(role),
        sorted(&["id", "is_internal", "name", "oauth_client_id"])
    );
    assert_eq!(role["name"], "Clerk");
    assert_eq!(role["is_internal"], false);
    assert_eq!(role["oauth_client_id"], shop.app.as_str());
    let id = role["id"].as_str().unwrap().to_owned();
    assert_eq!(
        uuid::Uuid::parse_str(&id).unwrap().get_version_num(),
        4,
        "{id}"
    );
    assert_eq!(role_name(&db, &id).as_deref(), Some("Clerk"));

    let no_name = "Missing parameter name in body request or empty name";
    for (body, message) in [
        (json!({}), "Missing parameter role in body request"),
        (
            json!({"role": "Clerk"}),
            "Missing parameter role in body request",
        ),
        (json!({"role": {}}), no_name),
        (json!({"role": {"name": ""}}), no_name),
        (json!({"role": {"name": 7}}), no_name),
    ] {
        shop.send(&s, "POST", "/roles", body)
            .assert_keyrock_error(400, message);
    }

    // Get: own role, the internal roles through this application, 404s.
    let got = shop.call(&s, "GET", &format!("/roles/{id}"));
    assert_eq!(got.assert_status(200).json()["role"], *role);
    for (internal, name) in [("provider", "Provider"), ("purchaser", "Purchaser")] {
        let got = shop.call(&s, "GET", &format!("/roles/{internal}"));
        let got = &got.assert_status(200).json()["role"];
        assert_eq!(got["is_internal"], true);
        assert_eq!(got["oauth_client_id"], "idm_admin_app");
        assert_eq!(got["id"], internal);
        if internal == "provider" {
            assert_eq!(got["name"], name);
        }
    }
    shop.call(&s, "GET", "/roles/nope")
        .assert_keyrock_error(404, "Role not found");
    // A role of another application is not found through this one.
    let other = s.new_application(a, "other");
    let foreign = s.new_role(a, &other, "Foreign");
    let foreign_path = format!("/roles/{foreign}");
    for method in ["GET", "DELETE"] {
        shop.call(&s, method, &foreign_path)
            .assert_keyrock_error(404, "Role not found");
    }
    shop.send(&s, "PATCH", &foreign_path, json!({"role": {"name": "x"}}))
        .assert_keyrock_error(404, "Role not found");
    assert_eq!(role_name(&db, &foreign).as_deref(), Some("Foreign"));

    // Patch.
    let path = format!("/roles/{id}");
    let patched = shop.send(
        &s,
        "PATCH",
        &path,
        json!({"role": {"name": "Senior clerk"}}),
    );
    let values = json!({"values_updated": {"name": "Senior clerk"}});
    assert_eq!(patched.assert_status(200).json(), values);
    assert_eq!(role_name(&db, &id).as_deref(), Some("Senior clerk"));
    let same = shop.send(
        &s,
        "PATCH",
        &path,
        json!({"role": {"name": "Senior clerk"}}),
    );
    assert_eq!(same.json(), unchanged("role"));
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
        shop.send(&s, "PATCH", &path, body)
            .assert_keyrock_error(400, message);
    }
    assert_eq!(role_name(&db, &id).as_deref(), Some("Senior clerk"));
    shop.send(&s, "PATCH", "/roles/nope", json!({"role": {"name": "x"}}))
        .assert_keyrock_error(404, "Role not found");

    // The internal roles: refused before the body is looked at.
    for internal in ["provider", "purchaser"] {
        let p = format!("/roles/{internal}");
        for body in [json!({"role": {"name": "Mine"}}), json!({})] {
            shop.send(&s, "PATCH", &p, body)
                .assert_keyrock_error(403, "Not allowed");
        }
        shop.call(&s, "DELETE", &p)
            .assert_keyrock_error(403, "Not allowed");
        assert!(role_name(&db, internal).is_some());
    }
    assert_eq!(role_name(&db, "provider").as_deref(), Some("Provider"));

    // Delete.
    shop.call(&s, "DELETE", "/roles/nope")
        .assert_keyrock_error(404, "Role not found");
    shop.call(&s, "DELETE", &path).assert_status(204);
    assert_eq!(role_name(&db, &id), None);
    shop.call(&s, "GET", &path)
        .assert_keyrock_error(404, "Role not found");
    // Bob holds no role: the role routes are refused.
    s.send_json(
        "POST",
        &shop.path("/roles"),
        &w.bob,
        &json!({"role": {"name": "Bob's"}}),
    )
    .assert_not_permitted();
}

#[test]
fn deleting_a_role_removes_its_links_and_assignments() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let (w, a) = (&shop.w, &shop.w.alice);
    let role = s.new_role(a, &shop.app, "Clerk");
    let perm = s.new_permission(a, &shop.app, "read orders");
    shop.call(&s, "PUT", &format!("/roles/{role}/permissions/{perm}"))
        .assert_status(201);
    shop.call(&s, "PUT", &format!("/users/{}/roles/{role}", w.bob_id))
        .assert_status(201);
    let assignments = || {
        count!(
            db,
            role_assignments::table.filter(role_assignments::role_id.eq(&role))
        )
    };
    assert_eq!(assignments(), 1);
    assert_eq!(links_of(&db, &role), [perm.as_str()]);

    shop.call(&s, "DELETE", &format!("/roles/{role}"))
        .assert_status(204);
    assert_eq!(assignments(), 0);
    assert!(links_of(&db, &role).is_empty());
    assert_eq!(role_name(&db, &role), None);
    // The permission itself stays, and bob lost the role.
    shop.call(&s, "GET", &format!("/permissions/{perm}"))
        .assert_status(200);
    shop.call(&s, "GET", &format!("/users/{}/roles", w.bob_id))
        .assert_keyrock_error(404, "Assignments not found");
}

#[test]
fn role_list_is_filtered_by_changeable_roles() {
    let (s, _db) = Server::start();
    let shop = Shop::new(&s);
    let (w, a) = (&shop.w, &shop.w.alice);
    let list = |token: &str| s.keyrock("GET", &shop.path("/roles"), token);
    let assign = |user: &str, role: &str| {
        shop.call(&s, "PUT", &format!("/users/{user}/roles/{role}"))
            .assert_status(201);
    };
    // Ids are random: the expected order is computed, not assumed.
    let clerk = s.new_role(a, &shop.app, "Clerk");
    let auditor = s.new_role(a, &shop.app, "Auditor");

    // Perm 3 (provider): every role of the application plus provider and purchaser.
    let all = list(a).assert_status(200).json();
    let listed = ids(&all["roles"]);
    assert_eq!(
        set(&listed),
        sorted(&[&clerk, &auditor, "provider", "purchaser"])
    );
    assert_id_descending(&listed);
    for entry in all["roles"].as_array().unwrap() {
        assert_eq!(keys(entry), sorted(&["id", "name"]));
    }

    // Perm 5 (purchaser): every role of the application, not the internal ones.
    assign(&w.bob_id, "purchaser");
    let listed = ids(&list(&w.bob).assert_status(200).json()["roles"]);
    assert_eq!(set(&listed), sorted(&[&clerk, &auditor]));
    assert_id_descending(&listed);

    // Perm 6 only: the non-internal roles the caller holds himself.
    let owner_only = s.new_role(a, &shop.app, "Owner-only");
    shop.call(&s, "PUT", &format!("/roles/{owner_only}/permissions/6"))
        .assert_status(201);
    assign(&w.carol_id, &owner_only);
    assign(&w.carol_id, &clerk);
    let listed = ids(&list(&w.carol).assert_status(200).json()["roles"]);
    assert_eq!(set(&listed), sorted(&[&owner_only, &clerk]));

    // Perm 1 only: the internal roles.
    let internal_only = s.new_role(a, &shop.app, "Internal-only");
    shop.call(&s, "PUT", &format!("/roles/{internal_only}/permissions/1"))
        .assert_status(201);
    assign(&w.dave_id, &internal_only);
    let listed = ids(&list(&w.dave).assert_status(200).json()["roles"]);
    assert_eq!(listed, ["purchaser", "provider"]);

    // Perm 5 in an application without roles of its own: nothing to see.
    let bare = s.new_application(a, "bare");
    let path = format!("/v1/applications/{bare}/users/{}/roles/purchaser", w.bob_id);
    s.keyrock("PUT", &path, a).assert_status(201);
    s.keyrock("GET", &format!("/v1/applications/{bare}/roles"), &w.bob)
        .assert_keyrock_error(404, "Roles not found");
    // No role at all.
    s.create_user(&w.admin, "eve", "eve@test.com", "eve-pw");
    list(&s.login("eve@test.com", "eve-pw")).assert_not_permitted();
}

#[test]
fn permissions_create_and_read_with_keyrock_shapes() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let (w, a) = (&shop.w, &shop.w.alice);
    let created = shop.send(
        &s,
        "POST",
        "/permissions",
        json!({"permission": {
            "name": "read orders", "description": "GET on orders",
            "action": "GET", "resource": "/orders/.*", "is_regex": true,
            "use_authorization_service_header": true,
            "authorization_service_header": "Fiware-Service",
        }}),
    );
    let p = &created.assert_status(201).json()["permission"];
    let mut created_keys = PERMISSION_KEYS.to_vec();
    created_keys.push("oauth_client_id");
    assert_eq!(keys(p), sorted(&created_keys));
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    // The 201 echoes the flags as JSON booleans; every read gives 0/1.
    for (key, value) in [
        ("is_internal", json!(false)),
        ("name", json!("read orders")),
        ("description", json!("GET on orders")),
        ("action", json!("GET")),
        ("resource", json!("/orders/.*")),
        ("is_regex", json!(true)),
        ("use_authorization_service_header", json!(true)),
        ("authorization_service_header", json!("Fiware-Service")),
        ("xml", Value::Null),
        ("regex_entity_ids", Value::Null),
        ("oauth_client_id", json!(shop.app)),
    ] {
        assert_eq!(p[key], value, "{key}");
    }

    // Defaults: flags false.
    let body = json!({"permission": {"name": "write", "action": "POST", "resource": "/orders",
                       "is_regex": null}});
    let plain = shop
        .send(&s, "POST", "/permissions", body)
        .assert_status(201)
        .json();
    let plain = &plain["permission"];
    assert_eq!(plain["is_regex"], false);
    assert_eq!(plain["use_authorization_service_header"], false);
    assert_eq!(plain["description"], Value::Null);
    let plain_id = plain["id"].as_str().unwrap().to_owned();

    // The full object.
    let got = shop.call(&s, "GET", &format!("/permissions/{id}"));
    let full = &got.assert_status(200).json()["permission"];
    assert_eq!(keys(full), sorted(&created_keys));
    assert_eq!(full["is_regex"], 1);
    assert_eq!(full["use_authorization_service_header"], 1);
    assert_eq!(full["is_internal"], false);
    let got_plain = shop
        .call(&s, "GET", &format!("/permissions/{plain_id}"))
        .json();
    assert_eq!(got_plain["permission"]["is_regex"], 0);
    assert_eq!(
        got_plain["permission"]["use_authorization_service_header"],
        0
    );
    // Internal permissions resolve through any application.
    let internal = shop.call(&s, "GET", "/permissions/3");
    let i = &internal.assert_status(200).json()["permission"];
    assert_eq!(i["name"], "Manage roles");
    assert_eq!(i["is_internal"], true);
    assert_eq!(i["oauth_client_id"], "idm_admin_app");
    for key in ["description", "action", "resource", "xml"] {
        assert_eq!(i[key], Value::Null, "{key}");
    }
    shop.call(&s, "GET", "/permissions/nope")
        .assert_keyrock_error(404, "permission not found");
    let other = s.new_application(a, "other");
    s.keyrock(
        "GET",
        &format!("/v1/applications/{other}/permissions/{id}"),
        a,
    )
    .assert_keyrock_error(404, "permission not found");

    // The list: the application's permissions plus the six internal ones, id descending.
    let list = shop.call(&s, "GET", "/permissions");
    let entries = list.assert_status(200).json()["permissions"].clone();
    let listed = ids(&entries);
    let expected = sorted(&["1", "2", "3", "4", "5", "6", &id, &plain_id]);
    assert_eq!(set(&listed), expected);
    assert_id_descending(&listed);
    let list_keys: Vec<&str> = PERMISSION_KEYS
        .into_iter()
        .filter(|k| !["is_internal", "is_regex"].contains(k))
        .collect();
    for entry in entries.as_array().unwrap() {
        assert_eq!(keys(entry), sorted(&list_keys));
        let expected = if entry["id"] == id.as_str() { 1 } else { 0 };
        assert_eq!(entry["use_authorization_service_header"], expected);
    }
    // Another application's list holds only the internal ones.
    let other_list = s.keyrock("GET", &format!("/v1/applications/{other}/permissions"), a);
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
    s.keyrock("GET", &shop.path("/permissions"), &w.bob)
        .assert_not_permitted();
}

#[test]
fn permission_create_validation_rules_in_order() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let service =
        "if use_authorization_service_header is set, authorization_service_header needs to be set";
    let use_service =
        "if authorization_service_header is set, use_authorization_service_header needs to be set";
    let payload = |field: &str| format!("Cannot set {field} unless running in payload mode");
    // The fields of each case are added to a valid name, action and resource.
    let cases: Vec<(Value, String)> = vec![
        (
            json!({}),
            "Missing parameter permission in body request".into(),
        ),
        (
            json!({"permission": {"action": "GET", "resource": "/x"}}),
            "Missing parameter name in body request or empty name".into(),
        ),
        (
            json!({"permission": {"name": "", "action": "GET", "resource": "/x"}}),
            "Missing parameter name in body request or empty name".into(),
        ),
        // Rule 3 before rule 4.
        (
            json!({"permission": {"name": "p", "xml": "<Rule/>"}}),
            "Idm is not configured to create XACML advanced rules".into(),
        ),
        (
            json!({"permission": {"name": "p", "action": "GET"}}),
            "Set action and resource".into(),
        ),
        (
            json!({"permission": {"name": "p", "resource": "/x", "action": ""}}),
            "Set action and resource".into(),
        ),
    ];
    let with_valid = |extra: Value, message: &str| {
        let mut body = json!({"name": "p", "action": "GET", "resource": "/x"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        (json!({ "permission": body }), message.to_owned())
    };
    let flags = [
        (
            json!({"is_regex": "yes"}),
            "is_regex attribute must be a boolean".to_owned(),
        ),
        (
            json!({"is_regex": 1, "use_authorization_service_header": "x"}),
            "is_regex attribute must be a boolean".to_owned(),
        ),
        (
            json!({"use_authorization_service_header": 1}),
            "use_authorization_service_header attribute must be a boolean".to_owned(),
        ),
        (
            json!({"use_authorization_service_header": true}),
            service.to_owned(),
        ),
        (
            json!({"use_authorization_service_header": true, "authorization_service_header": ""}),
            service.to_owned(),
        ),
        (
            json!({"authorization_service_header": "Fiware-Service"}),
            use_service.to_owned(),
        ),
        (
            json!({"authorization_service_header": "Fiware-Service",
                   "use_authorization_service_header": false}),
            use_service.to_owned(),
        ),
        (
            json!({"regex_entity_ids": "urn:.*", "regex_types": "Room"}),
            payload("regex_entity_ids"),
        ),
        (
            json!({"regex_attributes": "temp.*"}),
            payload("regex_attributes"),
        ),
        (json!({"regex_types": "Room"}), payload("regex_types")),
    ];
    let cases = cases
        .into_iter()
        .chain(flags.into_iter().map(|(extra, m)| with_valid(extra, &m)));
    for (body, message) in cases {
        let resp = shop.send(&s, "POST", "/permissions", body.clone());
        assert_eq!(resp.json()["error"]["message"], message.as_str(), "{body}");
        resp.assert_keyrock_error(400, &message);
    }
    assert_eq!(
        permission_count(&db, &shop.app),
        0,
        "no failed create stored a row"
    );
    // Empty regex fields are not rules.
    let (body, _) = with_valid(json!({"regex_entity_ids": "", "xml": ""}), "");
    shop.send(&s, "POST", "/permissions", body)
        .assert_status(201);
}

#[test]
fn pdp_levels_decide_xml_and_regex_rules() {
    // payload: regex fields allowed, XACML still refused.
    let level = |level: &str| Options::default().env("TESSERA_PDP_LEVEL", level);
    let (s, _db) = Server::start_with(level("payload"));
    let shop = Shop::new(&s);
    let regex = shop.send(
        &s,
        "POST",
        "/permissions",
        json!({"permission": {"name": "p", "action": "GET", "resource": "/v2/entities",
               "regex_entity_ids": "urn:ngsi-ld:Room:.*", "regex_attributes": "temp.*",
               "regex_types": "Room"}}),
    );
    let p = regex.assert_status(201).json()["permission"].clone();
    assert_eq!(p["regex_entity_ids"], "urn:ngsi-ld:Room:.*");
    assert_eq!(p["regex_types"], "Room");
    let path = format!("/permissions/{}", p["id"].as_str().unwrap());
    let patched = shop.send(
        &s,
        "PATCH",
        &path,
        json!({"permission": {"regex_attributes": "hum.*"}}),
    );
    assert_eq!(
        patched.json(),
        json!({"values_updated": {"regex_attributes": "hum.*"}})
    );
    shop.send(
        &s,
        "POST",
        "/permissions",
        json!({"permission": {"name": "x", "xml": "<Rule/>"}}),
    )
    .assert_keyrock_error(400, "Idm is not configured to create XACML advanced rules");
    drop(s);

    // advanced: an XACML rule needs no action or resource; regex fields are refused.
    let (s, _db) = Server::start_with(level("advanced"));
    let shop = Shop::new(&s);
    let rule = json!({"permission": {"name": "x", "xml": "<Rule RuleId=\"r\"/>"}});
    let xml = shop
        .send(&s, "POST", "/permissions", rule)
        .assert_status(201)
        .json();
    assert_eq!(xml["permission"]["xml"], "<Rule RuleId=\"r\"/>");
    assert_eq!(xml["permission"]["action"], Value::Null);
    let body = json!({"permission": {"name": "p", "action": "GET", "resource": "/x",
                       "regex_types": "Room"}});
    shop.send(&s, "POST", "/permissions", body)
        .assert_keyrock_error(400, "Cannot set regex_types unless running in payload mode");
}

#[test]
fn permission_update_and_delete() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let a = &shop.w.alice;
    // Created with action GET on resource /r.
    let id = s.new_permission(a, &shop.app, "read orders");
    let path = format!("/permissions/{id}");
    let patch = |body: Value| shop.send(&s, "PATCH", &path, json!({ "permission": body }));

    // Values changed, encoded as in GET (flags 0/1).
    let patched = patch(json!({"name": "read all orders", "description": "d",
               "is_regex": true, "use_authorization_service_header": true,
               "authorization_service_header": "Fiware-Service"}));
    assert_eq!(
        patched.assert_status(200).json(),
        json!({"values_updated": {
            "name": "read all orders", "description": "d", "is_regex": 1,
            "use_authorization_service_header": 1,
            "authorization_service_header": "Fiware-Service",
        }})
    );
    // action alone is ignored; both together change.
    assert_eq!(
        patch(json!({"action": "DELETE"})).json(),
        unchanged("permission")
    );
    let both = patch(json!({"action": "DELETE", "resource": "/r"}));
    assert_eq!(both.json(), json!({"values_updated": {"action": "DELETE"}}));
    // Empty name and description do not change the stored values; a flag key present does.
    let flags_off = patch(json!({"description": "", "is_regex": false,
               "use_authorization_service_header": false, "authorization_service_header": null}));
    assert_eq!(
        flags_off.json(),
        json!({"values_updated": {"is_regex": 0, "use_authorization_service_header": 0,
               "authorization_service_header": null}})
    );
    let got = shop.call(&s, "GET", &path).json()["permission"].clone();
    assert_eq!(got["name"], "read all orders");
    assert_eq!(got["description"], "d");
    assert_eq!(got["action"], "DELETE");
    assert_eq!(got["resource"], "/r");
    assert_eq!(got["is_regex"], 0);

    // Errors, in the PATCH order of keyrock.md 4.6.
    let service = "authorization_service_header";
    for (body, message) in [
        (
            json!({"name": "x"}),
            "Missing parameter permission in body request".to_owned(),
        ),
        (
            json!({"permission": {"name": "", "xml": "<Rule/>", "id": "1"}}),
            "Cannot set empty name".to_owned(),
        ),
        (
            json!({"permission": {"xml": "<Rule/>", "id": "1"}}),
            "Idm is not configured to create XACML advanced rules".to_owned(),
        ),
        (
            json!({"permission": {"id": "1", "is_regex": "x"}}),
            "Cannot set id or is_internal".to_owned(),
        ),
        (
            json!({"permission": {"is_internal": true}}),
            "Cannot set id or is_internal".to_owned(),
        ),
        (
            json!({"permission": {"is_regex": "x", "use_authorization_service_header": "x"}}),
            "is_regex attribute must be a boolean".to_owned(),
        ),
        (
            json!({"permission": {"use_authorization_service_header": "x"}}),
            "use_authorization_service_header attribute must be a boolean".to_owned(),
        ),
        (
            json!({"permission": {"use_authorization_service_header": true}}),
            format!("if use_{service} is set, {service} needs to be set"),
        ),
        (
            json!({"permission": {"authorization_service_header": "H"}}),
            format!("if {service} is set, use_{service} needs to be set"),
        ),
        (
            json!({"permission": {"regex_entity_ids": "x"}}),
            "Cannot set regex_entity_ids unless running in payload mode".to_owned(),
        ),
        (
            json!({"permission": {"regex_attributes": "x"}}),
            "Cannot set regex_attributes unless running in payload mode".to_owned(),
        ),
        (
            json!({"permission": {"regex_types": "x"}}),
            "Cannot set regex_types unless running in payload mode".to_owned(),
        ),
    ] {
        shop.send(&s, "PATCH", &path, body)
            .assert_keyrock_error(400, &message);
    }
    let now = shop.call(&s, "GET", &path).json()["permission"].clone();
    assert_eq!(now, got, "refused PATCHes changed nothing");
    shop.send(
        &s,
        "PATCH",
        "/permissions/nope",
        json!({"permission": {"name": "x"}}),
    )
    .assert_keyrock_error(404, "permission not found");

    // The internal permissions: 403 before the body, for PATCH and DELETE.
    for internal in ["1", "2", "3", "4", "5", "6"] {
        let p = format!("/permissions/{internal}");
        for body in [json!({"permission": {"name": "mine"}}), json!({})] {
            shop.send(&s, "PATCH", &p, body)
                .assert_keyrock_error(403, "Not allowed");
        }
        shop.call(&s, "DELETE", &p)
            .assert_keyrock_error(403, "Not allowed");
    }
    let internal_name: String = permissions::table
        .filter(permissions::id.eq("2"))
        .select(permissions::name)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(internal_name, "Manage the application");

    // Delete removes its role links.
    let role = s.new_role(a, &shop.app, "Clerk");
    shop.call(&s, "PUT", &format!("/roles/{role}/permissions/{id}"))
        .assert_status(201);
    assert_eq!(links_of(&db, &role), [id.as_str()]);
    shop.call(&s, "DELETE", "/permissions/nope")
        .assert_keyrock_error(404, "permission not found");
    shop.call(&s, "DELETE", &path).assert_status(204);
    assert!(links_of(&db, &role).is_empty());
    assert_eq!(permission_count(&db, &shop.app), 0);
    shop.call(&s, "GET", &path)
        .assert_keyrock_error(404, "permission not found");
}

#[test]
fn role_permission_links() {
    let (s, db) = Server::start();
    let shop = Shop::new(&s);
    let a = &shop.w.alice;
    let role = s.new_role(a, &shop.app, "Clerk");
    let perm = s.new_permission(a, &shop.app, "read orders");
    let link = format!("/roles/{role}/permissions/{perm}");
    let of_role = format!("/roles/{role}/permissions");

    shop.call(&s, "GET", &of_role)
        .assert_keyrock_error(404, "Assignments not found");
    shop.call(&s, "GET", "/roles/nope/permissions")
        .assert_keyrock_error(404, "Role not found");

    // PUT twice and POST: 201 each time, one row; a body is ignored.
    let assignment =
        json!({"role_permission_assignments": {"role_id": role, "permission_id": perm}});
    for method in ["PUT", "PUT", "POST"] {
        let resp = shop.call(&s, method, &link);
        assert_eq!(resp.assert_status(201).json(), assignment, "{method}");
    }
    shop.send(&s, "PUT", &link, json!({"anything": 1}))
        .assert_status(201);
    assert_eq!(links_of(&db, &role), [perm.as_str()]);

    let listed = shop.call(&s, "GET", &of_role);
    let entries = listed.assert_status(200).json()["role_permission_assignments"].clone();
    assert_eq!(ids(&entries), [perm.as_str()]);
    let entry_keys: Vec<&str> = PERMISSION_KEYS
        .into_iter()
        .filter(|k| *k != "is_regex")
        .collect();
    assert_eq!(keys(&entries[0]), sorted(&entry_keys));
    assert_eq!(entries[0]["use_authorization_service_header"], 0);
    assert_eq!(entries[0]["name"], "read orders");
    // The provider role lists the six internal permissions.
    let provider = shop.call(&s, "GET", "/roles/provider/permissions").json();
    assert_eq!(
        ids(&provider["role_permission_assignments"]),
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
            shop.call(&s, method, &path)
                .assert_keyrock_error(404, message);
        }
        for internal in ["provider", "purchaser"] {
            shop.call(&s, method, &format!("/roles/{internal}/permissions/{perm}"))
                .assert_keyrock_error(403, "Not allowed");
        }
    }
    let other = s.new_application(a, "other");
    s.keyrock("PUT", &format!("/v1/applications/{other}{link}"), a)
        .assert_keyrock_error(404, "Role not found");
    assert_eq!(links_of(&db, "purchaser"), ["5".to_owned()]);
    assert_eq!(links_of(&db, "provider").len(), 6);

    // Delete: 204, then "Assignments not found".
    shop.call(&s, "DELETE", &link).assert_status(204);
    assert!(links_of(&db, &role).is_empty());
    shop.call(&s, "DELETE", &link)
        .assert_keyrock_error(404, "Assignments not found");
}

#[test]
fn an_internal_permission_linked_to_a_custom_role_grants_rights_in_that_application_only() {
    let (s, _db) = Server::start();
    let shop = Shop::new(&s);
    let (w, a) = (&shop.w, &shop.w.alice);
    let bob = |method: &str, path: &str| s.keyrock(method, path, &w.bob);
    let other = s.new_application(a, "other");
    let manager = s.new_role(a, &shop.app, "Role manager");
    let link = format!("/roles/{manager}/permissions/3");
    bob("GET", &shop.path("/permissions")).assert_not_permitted();
    shop.call(&s, "PUT", &link).assert_status(201);
    shop.call(&s, "PUT", &format!("/users/{}/roles/{manager}", w.bob_id))
        .assert_status(201);
    // Bob now manages roles and permissions here...
    bob("GET", &shop.path("/permissions")).assert_status(200);
    let body = json!({"role": {"name": "Bob's role"}});
    s.send_json("POST", &shop.path("/roles"), &w.bob, &body)
        .assert_status(201);
    // ...but not the application itself (perm 2), nor anything in the other application.
    let body = json!({"application": {"name": "bob's"}});
    s.send_json("PATCH", &shop.path(""), &w.bob, &body)
        .assert_not_permitted();
    bob("GET", &format!("/v1/applications/{other}/permissions")).assert_not_permitted();
    // Unlinking takes the right away at once.
    shop.call(&s, "DELETE", &link).assert_status(204);
    bob("GET", &shop.path("/permissions")).assert_not_permitted();
}
