//! System rights over HTTP (easydb-rights.md 3, 9, 10): `GET/POST /api/v1/user` and
//! `/api/v1/group` (formats, paging, who may read what, no probing of ids), granting and
//! revoking with the version rule, all-or-nothing requests, validation, the `system.root`
//! rule, rights of organizations reaching their owners and members (merged), and
//! concurrent grants.

use serde_json::Value;
use tessera_tests::easydb::*;
use tessera_tests::{json, keys, sorted, Server, World, ADMIN_EMAIL};

/// The ids of a list of users or groups (`kind` = "user" or "group").
fn ids(list: &[Value], kind: &str) -> Vec<i64> {
    list.iter()
        .map(|x| x[kind]["_id"].as_i64().expect("_id"))
        .collect()
}

/// A grant request for one user or group.
fn update(kind: &str, id: i64, version: i64, rights: Value) -> Value {
    json!([{"_basetype": kind, kind: {"_id": id, "_version": version}, "_system_rights": rights}])
}

#[test]
fn the_user_list_is_ordered_paged_and_in_full_format() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let resp = s.easydb_get("/api/v1/user", &admin);
    resp.assert_status(200);
    resp.assert_json_type();
    let users = resp.json().as_array().unwrap().clone();
    assert_eq!(users.len(), 5);
    let all = ids(&users, "user");
    let mut ordered = all.clone();
    ordered.sort_unstable();
    assert_eq!(all, ordered, "ordered by _id");
    assert!(all.iter().all(|id| *id > 0));

    for u in &users {
        assert_eq!(
            keys(u),
            sorted(&["_basetype", "user", "_system_rights", "_groups"])
        );
        assert_eq!(u["_basetype"], "user");
        assert_eq!(
            keys(&u["user"]),
            sorted(&[
                "_id",
                "_version",
                "login",
                "_primary_email",
                "_generated_displayname",
                "type",
                "keyrock_id"
            ])
        );
        assert_eq!(u["user"]["type"], "easydb");
        assert_eq!(u["user"]["_version"], 1);
        assert_eq!(u["_groups"], json!([]));
    }
    // The admin comes first and holds root; the others hold nothing.
    assert_eq!(users[0]["user"]["keyrock_id"], "admin");
    assert_eq!(users[0]["user"]["login"], "admin");
    assert_eq!(users[0]["user"]["_primary_email"], ADMIN_EMAIL);
    assert_eq!(users[0]["_system_rights"], json!({"system.root": {}}));
    let bob = users
        .iter()
        .find(|u| u["user"]["keyrock_id"] == w.bob_id.as_str())
        .expect("bob");
    assert_eq!(bob["user"]["login"], "bob");
    assert_eq!(bob["user"]["_primary_email"], "bob@test.com");
    assert_eq!(bob["user"]["_generated_displayname"], "bob");
    assert_eq!(users[0]["user"]["_generated_displayname"], "admin");
    assert_eq!(bob["_system_rights"], json!({}));
    let alice = users
        .iter()
        .find(|u| u["user"]["keyrock_id"] == w.alice_id.as_str())
        .expect("alice");
    assert_eq!(alice["user"]["login"], "Alice Smith");

    // One user by id: a one-element array.
    let one = s.easydb_get(&format!("/api/v1/user/{}", all[2]), &admin);
    assert_eq!(one.assert_status(200).json(), json!([users[2]]));

    // Paging.
    let page = |query: &str| {
        let resp = s.easydb_get(&format!("/api/v1/user?{query}"), &admin);
        resp.assert_status(200);
        ids(resp.json().as_array().unwrap(), "user")
    };
    assert_eq!(page("limit=2"), all[..2].to_vec());
    assert_eq!(page("offset=1&limit=2"), all[1..3].to_vec());
    assert_eq!(page("offset=3"), all[3..].to_vec());
    assert_eq!(page("offset=5"), Vec::<i64>::new());
    assert_eq!(page("offset=50&limit=1"), Vec::<i64>::new());
    assert_eq!(page("limit=0"), Vec::<i64>::new());
    assert_eq!(page("limit=5000"), all);
    assert_eq!(page("limit=1000&offset=0"), all);
    for bad in [
        "limit=-1",
        "limit=abc",
        "limit=1.5",
        "offset=-1",
        "offset=x",
        "offset=2.0",
    ] {
        let resp = s.easydb_get(&format!("/api/v1/user?{bad}"), &admin);
        assert_api_error(&resp, "invalid_value");
    }
    let resp = s.easydb_get("/api/v1/group?limit=-5", &admin);
    assert_api_error(&resp, "invalid_value");
}

#[test]
fn who_may_read_users_and_no_probing_of_ids() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let carol_id = s.easydb_user_id(&admin, &w.carol_id);
    let dave_id = s.easydb_user_id(&admin, &w.dave_id);
    let bob = s.easydb_login("bob", "bob-pw");

    // Bob reads himself, and nobody else.
    assert_eq!(s.easydb_user(&bob, bob_id), s.easydb_user(&admin, bob_id));
    for path in [
        "/api/v1/user".to_owned(),
        format!("/api/v1/user/{carol_id}"),
        "/api/v1/user/999999".to_owned(),
    ] {
        assert_no_right(&s.easydb_get(&path, &bob), "system.user");
    }
    assert_no_right(&s.easydb_get("/api/v1/group", &bob), "system.group");
    assert_no_right(&s.easydb_get("/api/v1/group/999999", &bob), "system.group");

    // Each listing right, and what it does not give.
    let listing = [
        (json!({"system.user": {}}), true, false),
        (json!({"system.group": {"create": true}}), false, true),
        (json!({"system.rightsmanagement": {}}), true, true),
        (json!({"system.root": {}}), true, true),
    ];
    for (rights, users, groups) in listing {
        s.grant_user(&admin, bob_id, rights.clone());
        let resp = s.easydb_get("/api/v1/user", &bob);
        let one = s.easydb_get(&format!("/api/v1/user/{dave_id}"), &bob);
        let unknown = s.easydb_get("/api/v1/user/999999", &bob);
        if users {
            assert_eq!(
                resp.assert_status(200).json().as_array().unwrap().len(),
                5,
                "{rights}"
            );
            assert_eq!(one.assert_status(200).json()[0]["user"]["_id"], dave_id);
            assert_user_error(&unknown, "user_not_found", json!({"id": "999999"}));
        } else {
            assert_no_right(&resp, "system.user");
            assert_no_right(&one, "system.user");
            assert_no_right(&unknown, "system.user");
        }
        let resp = s.easydb_get("/api/v1/group", &bob);
        let unknown = s.easydb_get("/api/v1/group/999999", &bob);
        if groups {
            assert_eq!(resp.assert_status(200).json(), json!([]), "{rights}");
            assert_user_error(&unknown, "group_not_found", json!({"id": "999999"}));
        } else {
            assert_no_right(&resp, "system.group");
            assert_no_right(&unknown, "system.group");
        }
    }
    // Ids that are no numbers, for every caller.
    for path in ["/api/v1/user/abc", "/api/v1/user/-1", "/api/v1/group/x1"] {
        assert_api_error(&s.easydb_get(path, &admin), "invalid_value");
        assert_api_error(&s.easydb_get(path, &bob), "invalid_value");
    }
    // A fresh session, or none, reads nothing.
    let fresh = s.easydb_session();
    let path = format!("/api/v1/user/{bob_id}");
    assert_user_error(&s.easydb_get(&path, &fresh), "not_authenticated", json!({}));
    assert_user_error(&s.get(&path), "not_authenticated", json!({}));
    assert_user_error(&s.get("/api/v1/group"), "not_authenticated", json!({}));
}

#[test]
fn grants_follow_the_version_rule_and_replace_the_own_set() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let post = |body: &Value| s.easydb_post("/api/v1/user", &admin, body);
    let read = || s.easydb_user(&admin, bob_id);
    let before = read();

    let rights = json!({"system.rightpresetmanager": {},
                        "system.user": {"create": false, "edit_system_rights": true}});
    let resp = post(&update("user", bob_id, 2, rights.clone()));
    resp.assert_status(200);
    resp.assert_json_type();
    let mut want = before.clone();
    want["user"]["_version"] = json!(2);
    want["_system_rights"] = rights.clone();
    assert_eq!(resp.json(), json!([want]));
    assert_eq!(read(), want);

    // Wrong versions.
    for version in [1, 2, 4] {
        let resp = post(&update("user", bob_id, version, json!({})));
        assert_version_mismatch(&resp, version, 3);
    }
    assert_eq!(read(), want);

    // What GET answered, sent back with the version bumped, is accepted as it is.
    let mut echo = read();
    echo["user"]["_version"] = json!(3);
    echo["_system_rights"]["system.search"] = json!({"show_fixed_searches": true});
    let resp = post(&json!([echo]));
    resp.assert_status(200);
    assert_eq!(resp.json()[0]["_system_rights"], echo["_system_rights"]);
    assert_eq!(resp.json()[0]["user"]["login"], "bob");

    // Omitted: the set stays, the version goes up.
    let resp = post(&json!([{"_basetype": "user", "user": {"_id": bob_id, "_version": 4}}]));
    resp.assert_status(200);
    assert_eq!(resp.json()[0]["user"]["_version"], 4);
    assert_eq!(resp.json()[0]["_system_rights"], echo["_system_rights"]);
    // {} and null remove everything.
    let resp = post(&update("user", bob_id, 5, json!({})));
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({})
    );
    s.grant_user(&admin, bob_id, json!({"system.search": {}}));
    let resp = post(&update("user", bob_id, 7, Value::Null));
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({})
    );
    assert_eq!(read()["user"]["_version"], 7);
    assert_eq!(read()["_system_rights"], json!({}));

    // The alias is stored and shown under the canonical name.
    let resp = post(&update(
        "user",
        bob_id,
        8,
        json!({"system.righpresetmanager": {}}),
    ));
    let canonical = json!({"system.rightpresetmanager": {}});
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        canonical
    );
    assert_eq!(read()["_system_rights"], canonical);
    let session = s.easydb_login("bob", "bob-pw");
    assert_eq!(s.easydb_session_of(&session)["system_rights"], canonical);

    // Several users in one request, answered in input order; [] changes nothing.
    let carol_id = s.easydb_user_id(&admin, &w.carol_id);
    let body = json!([
        {"_basetype": "user", "user": {"_id": carol_id, "_version": 2}, "_system_rights": {"system.group": {}}},
        {"_basetype": "user", "user": {"_id": bob_id, "_version": 9}, "_system_rights": {}}
    ]);
    let resp = post(&body);
    assert_eq!(
        ids(resp.assert_status(200).json().as_array().unwrap(), "user"),
        vec![carol_id, bob_id]
    );
    assert_eq!(post(&json!([])).assert_status(200).json(), json!([]));
    assert_eq!(read()["user"]["_version"], 9);
}

#[test]
fn a_failing_element_applies_nothing() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let carol_id = s.easydb_user_id(&admin, &w.carol_id);
    let before = (
        s.easydb_user(&admin, bob_id),
        s.easydb_user(&admin, carol_id),
    );
    let first = json!({"_basetype": "user", "user": {"_id": bob_id, "_version": 2},
                       "_system_rights": {"system.user": {}}});
    for (second, check) in [
        (
            json!({"_basetype": "user", "user": {"_id": carol_id, "_version": 3}, "_system_rights": {}}),
            "version",
        ),
        (
            json!({"_basetype": "user", "user": {"_id": carol_id, "_version": 2},
                   "_system_rights": {"system.nope": {}}}),
            "right",
        ),
        (
            json!({"_basetype": "user", "user": {"_id": 999_999, "_version": 2}}),
            "user",
        ),
    ] {
        let resp = s.easydb_post("/api/v1/user", &admin, &json!([first, second]));
        match check {
            "version" => assert_version_mismatch(&resp, 3, 2),
            "right" => assert_user_error(&resp, "right_not_found", json!({"id": "system.nope"})),
            _ => assert_user_error(&resp, "user_not_found", json!({"id": "999999"})),
        }
        let after = (
            s.easydb_user(&admin, bob_id),
            s.easydb_user(&admin, carol_id),
        );
        assert_eq!(after, before, "{check}");
    }
}

#[test]
fn every_malformed_grant_is_refused_with_its_code() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let (org, group_id) = s.easydb_new_group(&w.alice, &admin, "team");
    let user = |rights: Value| update("user", bob_id, 2, rights);

    let api: Vec<(&str, Value)> = vec![
        ("type_mismatch", json!({})),
        ("type_mismatch", json!([1])),
        (
            "type_mismatch",
            json!([{"_basetype": "user", "user": {"_id": "1", "_version": 2}}]),
        ),
        (
            "type_mismatch",
            json!([{"_basetype": "user", "user": {"_id": bob_id, "_version": "2"}}]),
        ),
        (
            "attribute_expected",
            json!([{"user": {"_id": bob_id, "_version": 2}}]),
        ),
        (
            "attribute_expected",
            json!([{"_basetype": "user", "user": {"_version": 2}}]),
        ),
        (
            "attribute_expected",
            json!([{"_basetype": "user", "user": {"_id": bob_id}}]),
        ),
        ("attribute_expected", json!([{"_basetype": "user"}])),
        (
            "invalid_value",
            json!([{"_basetype": "group", "user": {"_id": bob_id, "_version": 2}}]),
        ),
        (
            "invalid_value",
            user(json!({"system.user": {"nope": true}})),
        ),
        (
            "invalid_value",
            user(json!({"system.user": {"create": "yes"}})),
        ),
        (
            "invalid_value",
            user(json!({"system.search": {"show_fixed_searches": 1}})),
        ),
        (
            "invalid_value",
            user(json!({"system.root": {"_grantable": true}})),
        ),
        ("invalid_value", user(json!({"system.search": true}))),
        // The same _id twice, found before anything else.
        (
            "invalid_value",
            json!([
                {"_basetype": "user", "user": {"_id": bob_id}},
                {"_basetype": "user", "user": {"_id": bob_id, "_version": 2}}
            ]),
        ),
    ];
    let mut wrong = Vec::new();
    for (code, body) in api {
        let resp = s.easydb_post("/api/v1/user", &admin, &body);
        if resp.status == 400 && resp.json()["code"] == format!("error.api.{code}") {
            assert_api_error(&resp, code);
        } else {
            wrong.push(format!("{body}: want {code}, got {}", resp.body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for (name, body) in [
        ("system.nope", user(json!({"system.nope": {}}))),
        ("read", user(json!({"read": {}}))),
        ("access", user(json!({"access": {}}))),
    ] {
        let resp = s.easydb_post("/api/v1/user", &admin, &body);
        assert_user_error(&resp, "right_not_found", json!({ "id": name }));
    }
    // Order: the id before the version, the version before the names.
    let resp = s.easydb_post(
        "/api/v1/user",
        &admin,
        &update("user", 999_999, 7, json!({})),
    );
    assert_user_error(&resp, "user_not_found", json!({"id": "999999"}));
    let resp = s.easydb_post(
        "/api/v1/user",
        &admin,
        &update("user", bob_id, 7, json!({"system.nope": {}})),
    );
    assert_version_mismatch(&resp, 7, 2);
    let resp = s.easydb_post(
        "/api/v1/user",
        &admin,
        &user(json!({"system.nope": {}, "system.user": {"nope": 1}})),
    );
    assert_user_error(&resp, "right_not_found", json!({"id": "system.nope"}));
    assert_eq!(s.easydb_user(&admin, bob_id)["user"]["_version"], 1);

    // Groups: the same rules.
    let group = |rights: Value| update("group", group_id, 2, rights);
    for (code, body) in [
        (
            "attribute_expected",
            json!([{"_basetype": "group", "group": {"_version": 2}}]),
        ),
        (
            "attribute_expected",
            json!([{"_basetype": "group", "group": {"_id": group_id}}]),
        ),
        (
            "attribute_expected",
            json!([{"group": {"_id": group_id, "_version": 2}}]),
        ),
        (
            "invalid_value",
            json!([{"_basetype": "user", "group": {"_id": group_id, "_version": 2}}]),
        ),
        (
            "invalid_value",
            group(json!({"system.group": {"create": []}})),
        ),
        ("type_mismatch", json!({"_basetype": "group"})),
    ] {
        let resp = s.easydb_post("/api/v1/group", &admin, &body);
        assert_api_error(&resp, code);
    }
    let resp = s.easydb_post("/api/v1/group", &admin, &group(json!({"write": {}})));
    assert_user_error(&resp, "right_not_found", json!({"id": "write"}));
    let resp = s.easydb_post(
        "/api/v1/group",
        &admin,
        &update("group", 999_999, 2, json!({})),
    );
    assert_user_error(&resp, "group_not_found", json!({"id": "999999"}));
    let resp = s.easydb_post(
        "/api/v1/group",
        &admin,
        &update("group", group_id, 3, json!({})),
    );
    assert_version_mismatch(&resp, 3, 2);
    let stored = s.easydb_group(&admin, group_id);
    assert_eq!(stored["group"]["_version"], 1);
    assert_eq!(stored["group"]["keyrock_id"], org.as_str());
}

#[test]
fn changing_rights_needs_rights_management_and_only_root_touches_root() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let admin_id = s.easydb_user_id(&admin, "admin");
    let carol_id = s.easydb_user_id(&admin, &w.carol_id);
    let dave_id = s.easydb_user_id(&admin, &w.dave_id);
    let (_, group_id) = s.easydb_new_group(&w.alice, &admin, "team");
    let carol = s.easydb_login("carol@test.com", "carol-pw");

    // Without the right: nothing, whatever the body.
    let manage = "system.rightsmanagement";
    assert_no_right(
        &s.easydb_post(
            "/api/v1/user",
            &carol,
            &update("user", dave_id, 2, json!({})),
        ),
        manage,
    );
    assert_no_right(
        &s.easydb_post("/api/v1/user", &carol, &json!("garbage")),
        manage,
    );
    assert_no_right(
        &s.easydb_post(
            "/api/v1/group",
            &carol,
            &update("group", group_id, 2, json!({})),
        ),
        manage,
    );
    // Not even for herself, and system.user is not enough.
    s.grant_user(
        &admin,
        carol_id,
        json!({"system.user": {"edit_system_rights": true}}),
    );
    assert_no_right(
        &s.easydb_post(
            "/api/v1/user",
            &carol,
            &update("user", carol_id, 3, json!({"system.root": {}})),
        ),
        manage,
    );

    // With system.rightsmanagement: anything but root.
    s.grant_user(&admin, carol_id, json!({"system.rightsmanagement": {}}));
    let resp = s.easydb_post(
        "/api/v1/user",
        &carol,
        &update("user", dave_id, 2, json!({"system.user": {}})),
    );
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({"system.user": {}})
    );
    let resp = s.easydb_post(
        "/api/v1/group",
        &carol,
        &update("group", group_id, 2, json!({"system.search": {}})),
    );
    assert_eq!(resp.assert_status(200).json()[0]["group"]["_version"], 2);
    let root = "system.root";
    for body in [
        update("user", dave_id, 3, json!({"system.root": {}})),
        update(
            "user",
            dave_id,
            3,
            json!({"system.user": {}, "system.root": {}}),
        ),
        update(
            "user",
            carol_id,
            4,
            json!({"system.rightsmanagement": {}, "system.root": {}}),
        ),
        update("user", admin_id, 2, json!({})),
        update("user", admin_id, 2, Value::Null),
        update("user", admin_id, 2, json!({"system.user": {}})),
    ] {
        let resp = s.easydb_post("/api/v1/user", &carol, &body);
        assert_no_right(&resp, root);
    }
    let resp = s.easydb_post(
        "/api/v1/group",
        &carol,
        &update("group", group_id, 3, json!({"system.root": {}})),
    );
    assert_no_right(&resp, root);
    assert_eq!(
        s.easydb_user(&admin, admin_id)["_system_rights"],
        json!({"system.root": {}})
    );
    assert_eq!(s.easydb_user(&admin, admin_id)["user"]["_version"], 1);
    assert_eq!(
        s.easydb_user(&admin, dave_id)["_system_rights"],
        json!({"system.user": {}})
    );
    // Keeping root where it is, while changing the rest, is no change of root.
    let resp = s.easydb_post(
        "/api/v1/user",
        &carol,
        &update(
            "user",
            admin_id,
            2,
            json!({"system.root": {}, "system.search": {}}),
        ),
    );
    resp.assert_status(200);
    // The parameters come before the root rule.
    let resp = s.easydb_post(
        "/api/v1/user",
        &carol,
        &update("user", dave_id, 3, json!({"system.root": {"x": true}})),
    );
    assert_api_error(&resp, "invalid_value");
    // The version rule comes before the root rule.
    let resp = s.easydb_post(
        "/api/v1/user",
        &carol,
        &update("user", admin_id, 9, json!({})),
    );
    assert_version_mismatch(&resp, 9, 3);

    // Root grants root and takes it away.
    let resp = s.easydb_post(
        "/api/v1/user",
        &admin,
        &update("user", dave_id, 3, json!({"system.root": {}})),
    );
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({"system.root": {}})
    );
    let dave = s.easydb_login("dave", "dave-pw");
    assert_eq!(
        s.easydb_session_of(&dave)["system_rights"],
        json!({"system.root": {}})
    );
    let resp = s.easydb_post(
        "/api/v1/user",
        &admin,
        &update("user", dave_id, 4, json!({})),
    );
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({})
    );
    let resp = s.easydb_post(
        "/api/v1/group",
        &admin,
        &update("group", group_id, 3, json!({"system.root": {}})),
    );
    resp.assert_status(200);
    let resp = s.easydb_post(
        "/api/v1/group",
        &carol,
        &update("group", group_id, 4, json!({})),
    );
    assert_no_right(&resp, root);
    // Root through an organization counts: its owner may now hand out root.
    let alice = s.easydb_login("alice@test.com", "alice-pw");
    let resp = s.easydb_post(
        "/api/v1/user",
        &alice,
        &update("user", dave_id, 5, json!({"system.root": {}})),
    );
    assert_eq!(
        resp.assert_status(200).json()[0]["_system_rights"],
        json!({"system.root": {}})
    );
}

#[test]
fn organization_rights_reach_owners_and_members_merged_but_not_their_own_set() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let alice_id = s.easydb_user_id(&admin, &w.alice_id);
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let (org, group_id) = s.easydb_new_group(&w.alice, &admin, "curators");
    let (org2, group2_id) = s.easydb_new_group(&w.carol, &admin, "editors");
    s.add_member(&w.alice, &org, &w.bob_id);
    s.add_member(&w.carol, &org2, &w.bob_id);
    let alice = s.easydb_login("Alice Smith", "alice-pw");
    let bob = s.easydb_login("bob", "bob-pw");
    let dave = s.easydb_login("dave", "dave-pw");

    // The group in full format, and who may read it.
    let group = s.easydb_group(&admin, group_id);
    assert_eq!(
        keys(&group),
        sorted(&["_basetype", "group", "_system_rights"])
    );
    assert_eq!(
        group,
        json!({"_basetype": "group",
               "group": {"_id": group_id, "_version": 1, "name": "curators", "type": "easydb",
                         "displayname": {"en-US": "curators"}, "keyrock_id": org},
               "_system_rights": {}})
    );
    let listed = s.easydb_groups(&admin);
    let mut want_ids = vec![group_id, group2_id];
    want_ids.sort_unstable();
    assert_eq!(ids(&listed, "group"), want_ids);
    assert_eq!(s.easydb_group(&alice, group_id), group);
    assert_eq!(s.easydb_group(&bob, group_id), group);
    let path = format!("/api/v1/group/{group_id}");
    assert_no_right(&s.easydb_get(&path, &dave), "system.group");
    assert_no_right(
        &s.easydb_get(&format!("/api/v1/group/{group2_id}"), &alice),
        "system.group",
    );
    assert_no_right(&s.easydb_get("/api/v1/group", &alice), "system.group");
    // Users show their groups, short, by _id.
    let mut groups = vec![
        short_group(group_id, "curators", &org),
        short_group(group2_id, "editors", &org2),
    ];
    groups.sort_by_key(|g| g["group"]["_id"].as_i64());
    assert_eq!(s.easydb_user(&admin, bob_id)["_groups"], json!(groups));
    assert_eq!(
        s.easydb_user(&admin, alice_id)["_groups"],
        json!([short_group(group_id, "curators", &org)])
    );

    // A grant to the organization.
    let granted = s.grant_group(
        &admin,
        group_id,
        json!({"system.rightpresetmanager": {}, "system.user": {"create": true}}),
    );
    assert_eq!(granted["group"]["_version"], 2);
    assert_eq!(
        granted["_system_rights"],
        json!({"system.rightpresetmanager": {}, "system.user": {"create": true}})
    );
    assert_eq!(s.easydb_group(&admin, group_id), granted);
    // Owner and member hold it (the session shows effective rights), and it works.
    let effective = json!({"system.rightpresetmanager": {}, "system.user": {"create": true}});
    for token in [&alice, &bob] {
        assert_eq!(s.easydb_session_of(token)["system_rights"], effective);
    }
    s.save_presets(&bob, "object", &json!([preset(None, 1, None, json!({}))]));
    assert_eq!(s.easydb_users(&alice).len(), 5);
    assert_no_right(
        &s.post_presets(&dave, "object", &json!([])),
        "system.rightpresetmanager",
    );
    // Their own sets do not show it.
    assert_eq!(s.easydb_user(&admin, bob_id)["_system_rights"], json!({}));
    assert_eq!(s.easydb_user(&admin, alice_id)["_system_rights"], json!({}));
    assert_eq!(s.easydb_user(&admin, bob_id)["user"]["_version"], 1);

    // Merging: booleans are or'ed, parameters of every source are kept.
    s.grant_user(
        &admin,
        bob_id,
        json!({"system.user": {"create": false, "edit_system_rights": true}}),
    );
    s.grant_group(
        &admin,
        group2_id,
        json!({"system.user": {"hide_frontend_app": true, "create": false},
               "system.search": {"has_own_collections": true}}),
    );
    let session = s.easydb_session_of(&bob);
    assert_eq!(
        session["system_rights"],
        json!({"system.rightpresetmanager": {},
               "system.user": {"create": true, "edit_system_rights": true, "hide_frontend_app": true},
               "system.search": {"has_own_collections": true}})
    );
    assert_eq!(
        s.easydb_session_of(&alice)["system_rights"],
        json!({"system.rightpresetmanager": {}, "system.user": {"create": true}})
    );
    // Bob's own set is only his.
    assert_eq!(
        s.easydb_user(&admin, bob_id)["_system_rights"],
        json!({"system.user": {"create": false, "edit_system_rights": true}})
    );

    // Revoking from the organization takes it from its people.
    s.grant_group(&admin, group_id, json!({}));
    assert_eq!(s.easydb_session_of(&alice)["system_rights"], json!({}));
    assert_no_right(
        &s.post_presets(&alice, "object", &json!([])),
        "system.rightpresetmanager",
    );
}

#[test]
fn parallel_grants_to_one_user_at_one_version_let_exactly_one_win() {
    const N: usize = 8;
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let choices = [
        json!({"system.user": {}}),
        json!({"system.group": {}}),
        json!({"system.search": {}}),
        json!({"system.rightpresetmanager": {}}),
    ];
    let bodies: Vec<Value> = (0..N)
        .map(|i| update("user", bob_id, 2, choices[i % choices.len()].clone()))
        .collect();
    let answers = post_together(&s, "/api/v1/user", &admin, bodies.clone());
    let winners: Vec<usize> = (0..N).filter(|i| answers[*i].status == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (i, resp) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_version_mismatch(resp, 2, 3);
        }
    }
    let stored = s.easydb_user(&admin, bob_id);
    assert_eq!(stored["user"]["_version"], 2);
    assert_eq!(
        stored["_system_rights"],
        bodies[winners[0]][0]["_system_rights"]
    );
    assert_eq!(answers[winners[0]].json()[0], stored);
}

#[test]
fn a_limit_above_1000_is_1000() {
    use storage::diesel::{self, RunQueryDsl};
    let (s, db) = Server::start();
    let admin = s.easydb_admin();
    // 1000 users besides the admin, straight into the store in one statement.
    let rows: Vec<String> = (0..1000)
        .map(|i| format!("('bulk-{i:04}', 'bulk{i}', 'bulk{i}@test.com', 'bulk{i}@test.com')"))
        .collect();
    diesel::sql_query(format!(
        "INSERT INTO users (id, username, email, email_key) VALUES {}",
        rows.join(", ")
    ))
    .execute(&mut *db.conn())
    .expect("insert users");
    let page = |query: &str| {
        let resp = s.easydb_get(&format!("/api/v1/user{query}"), &admin);
        resp.assert_status(200);
        ids(resp.json().as_array().unwrap(), "user")
    };
    let first = page("");
    assert_eq!(first.len(), 1000);
    assert_eq!(page("?limit=5000"), first);
    assert_eq!(page("?limit=1001"), first);
    let rest = page("?offset=1000&limit=5000");
    assert_eq!(rest.len(), 1);
    assert!(rest[0] > first[999]);
    assert_eq!(page("?offset=999&limit=2"), vec![first[999], rest[0]]);
}

#[test]
fn keyrock_renames_and_deletions_show_through_the_easydb_views() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let (org, group_id) = s.easydb_new_group(&w.alice, &admin, "curators");
    s.add_member(&w.alice, &org, &w.bob_id);
    s.grant_group(&admin, group_id, json!({"system.rightpresetmanager": {}}));
    let bob = s.easydb_login("bob", "bob-pw");
    assert_eq!(
        s.easydb_session_of(&bob)["system_rights"],
        json!({"system.rightpresetmanager": {}})
    );

    // Renames.
    s.send_json(
        "PATCH",
        &format!("/v1/users/{}", w.bob_id),
        &w.bob,
        &json!({"user": {"username": "robert"}}),
    )
    .assert_status(200);
    s.send_json(
        "PATCH",
        &format!("/v1/organizations/{org}"),
        &w.alice,
        &json!({"organization": {"name": "keepers"}}),
    )
    .assert_status(200);
    let user = s.easydb_user(&admin, bob_id);
    assert_eq!(user["user"]["login"], "robert");
    assert_eq!(
        user["_groups"],
        json!([short_group(group_id, "keepers", &org)])
    );
    let group = s.easydb_group(&admin, group_id);
    assert_eq!(group["group"]["name"], "keepers");
    assert_eq!(group["group"]["displayname"], json!({"en-US": "keepers"}));
    let session = s.easydb_session_of(&bob);
    assert_eq!(session["user"]["user"]["login"], "robert");
    assert_eq!(
        session["groups"],
        json!([short_group(group_id, "keepers", &org)])
    );
    s.easydb_login("robert", "bob-pw");

    // The organization goes: its rights and membership go with it.
    s.request("DELETE", &format!("/v1/organizations/{org}"))
        .token(&w.alice)
        .send()
        .assert_no_content();
    let resp = s.easydb_get(&format!("/api/v1/group/{group_id}"), &admin);
    assert_user_error(
        &resp,
        "group_not_found",
        json!({ "id": group_id.to_string() }),
    );
    assert_eq!(s.easydb_groups(&admin), Vec::<Value>::new());
    let session = s.easydb_session_of(&bob);
    assert_eq!(session["system_rights"], json!({}));
    assert_eq!(session["groups"], json!([]));
    assert_no_right(
        &s.post_presets(&bob, "object", &json!([])),
        "system.rightpresetmanager",
    );
    // The user goes: an unknown id to the admin.
    s.request("DELETE", &format!("/v1/users/{}", w.bob_id))
        .token(&w.admin)
        .send()
        .assert_no_content();
    let resp = s.easydb_get(&format!("/api/v1/user/{bob_id}"), &admin);
    assert_user_error(&resp, "user_not_found", json!({ "id": bob_id.to_string() }));
    assert_eq!(s.easydb_users(&admin).len(), 4);
}
