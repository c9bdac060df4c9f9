//! The easydb rights catalog and right presets over HTTP (easydb-rights.md 5-8): the eight
//! contexts as shipped, the preset round trip, the version rule, positions (append, swap,
//! clash, per context), delete, every validation error with its code, the order of the
//! checks, all-or-nothing requests, the permission (and its alias), and concurrent updates.

use serde_json::Value;
use tessera_tests::easydb::*;
use tessera_tests::{json, keys, sorted, Server, World};

// ---------------------------------------------------------------------------------------
// The catalog (5.1, 5.2, 6), without the comments (checked to be non-empty strings).

fn param(name: &str, kind: &str, required: bool) -> Value {
    json!({"name": name, "type": kind, "required": required})
}

fn versions() -> Value {
    json!({"name": "versions", "type": "string-list", "required": true,
           "choices": ["small", "preview", "huge", "original"]})
}

fn right(name: &str, group: &str, grantable: bool, parameters: Value) -> Value {
    json!({"name": name, "type": "right", "group": group, "has_grantable": grantable,
           "parameters": parameters})
}

fn plain(name: &str, group: &str) -> Value {
    right(name, group, false, json!([]))
}

fn choice(name: &str, group: &str, rights: [&str; 3], grantable: bool, parameters: Value) -> Value {
    let rights: Vec<Value> = rights
        .iter()
        .map(|r| right(r, group, grantable, parameters.clone()))
        .collect();
    json!({"name": name, "type": "choice", "group": group, "rights": rights})
}

fn access(grantable: bool, parameters: Value) -> Value {
    choice(
        "access",
        "access",
        ["read", "write", "delete"],
        grantable,
        parameters,
    )
}

fn bag_access() -> Value {
    choice(
        "bag_access",
        "bag_access",
        ["bag_read", "bag_write", "bag_delete"],
        false,
        json!([]),
    )
}

fn hints() -> Value {
    json!([
        param("create", "boolean", false),
        param("create_system_rights", "boolean", false),
        param("edit_system_rights", "boolean", false),
        param("hide_frontend_app", "boolean", false)
    ])
}

/// Every context's `rights`, as section 6 lists them.
fn expected_rights() -> Vec<(&'static str, Value)> {
    let ot = json!([param("objecttype_ids", "objecttype-select", false)]);
    let link = json!([
        param("objecttype_ids", "objecttype-select", false),
        param("pool_ids", "pool-select", false)
    ]);
    let asset = json!([versions(), param("column_ids", "column-select", false)]);
    vec![
        (
            "system",
            json!([
                plain("system.root", "main"),
                plain("system.rightsmanagement", "main"),
                plain("system.rightpresetmanager", "main"),
                right(
                    "system.search",
                    "main",
                    false,
                    json!([
                        param("show_fixed_searches", "boolean", false),
                        param("has_own_collections", "boolean", false)
                    ])
                ),
                right("system.user", "user", false, hints()),
                right("system.group", "user", false, hints()),
            ]),
        ),
        (
            "objecttype-without-pool",
            json!([
                access(true, json!([])),
                plain("create", "main"),
                plain("acl", "main"),
                plain("change_owner", "main"),
                right(
                    "mask",
                    "main",
                    false,
                    json!([param("mask_ids", "mask-select", true)])
                ),
            ]),
        ),
        (
            "tag",
            json!([access(true, json!([])), plain("acl", "main")]),
        ),
        (
            "pool",
            json!([
                access(true, ot.clone()),
                right("create", "main", false, ot.clone()),
                right("acl", "main", false, ot),
                bag_access(),
                plain("bag_acl", "bag"),
                plain("bag_create", "bag"),
            ]),
        ),
        (
            "collection",
            json!([
                access(true, json!([])),
                right("asset_download", "asset", true, asset.clone()),
                plain("create_in_collection", "main"),
                right("link", "main", false, link.clone()),
                right("unlink", "main", false, link),
                bag_access(),
                plain("bag_acl", "bag"),
                plain("bag_create", "bag"),
            ]),
        ),
        (
            "object",
            json!([
                access(true, json!([])),
                right("asset_show", "asset", true, asset.clone()),
                right("asset_download", "asset", true, asset),
            ]),
        ),
        ("user", json!([access(false, json!([]))])),
        (
            "group",
            json!([
                access(false, json!([])),
                bag_access(),
                plain("link", "main"),
                plain("unlink", "main"),
            ]),
        ),
    ]
}

/// Removes every `comment` (of rights, choices and parameters), asserting each is a
/// non-empty string.
#[track_caller]
fn strip_comments(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("name") && map.contains_key("type") {
                let comment = map.remove("comment");
                assert!(
                    comment
                        .as_ref()
                        .and_then(Value::as_str)
                        .is_some_and(|c| !c.is_empty()),
                    "no comment in {}",
                    Value::Object(map.clone())
                );
            }
            map.values_mut().for_each(strip_comments);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

#[test]
fn the_catalog_lists_the_eight_contexts_as_shipped() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let bob = s.easydb_login("bob", "bob-pw");
    let resp = s.easydb_get("/api/v1/right", &bob);
    resp.assert_status(200);
    resp.assert_json_type();
    assert!(
        !resp.body.contains("righpresetmanager"),
        "the alias is never shown"
    );
    let catalog = resp.json();
    let expected = expected_rights();
    let names: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(keys(&catalog), sorted(&names));
    for (name, rights) in expected {
        let context = &catalog[name];
        let presets = matches!(name, "collection" | "object");
        if presets {
            assert_eq!(
                keys(context),
                sorted(&["capabilities", "presets", "rights"])
            );
            assert_eq!(context["capabilities"], json!({"preset": {}}), "{name}");
            assert_eq!(context["presets"], json!([]), "{name}");
        } else {
            assert_eq!(keys(context), sorted(&["capabilities", "rights"]), "{name}");
            assert_eq!(context["capabilities"], json!({}), "{name}");
        }
        let mut actual = context["rights"].clone();
        strip_comments(&mut actual);
        // Name by name first, for a readable failure, then whole.
        let top = |v: &Value| -> Vec<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap_or("?").to_owned())
                .collect()
        };
        assert_eq!(top(&actual), top(&rights), "top-level rights of {name}");
        for (got, want) in actual
            .as_array()
            .unwrap()
            .iter()
            .zip(rights.as_array().unwrap())
        {
            assert_eq!(got, want, "{name}: {}", want["name"]);
        }
        assert_eq!(actual, rights, "{name}");

        // One context alone.
        let one = s.easydb_get(&format!("/api/v1/right/{name}"), &bob);
        one.assert_status(200);
        assert_eq!(keys(&one.json()), vec![name.to_owned()]);
        assert_eq!(one.json()[name], catalog[name]);
    }

    // Stored presets show in the catalog.
    let admin = s.easydb_admin();
    let saved = s.save_presets(
        &admin,
        "collection",
        &json!([preset(None, 1, None, json!({}))]),
    );
    // A Keyrock token is no easydb session.
    let resp = s.easydb_get("/api/v1/right", &w.bob);
    assert_user_error(&resp, "session_not_found", json!({ "id": w.bob }));
    let catalog = s.easydb_get("/api/v1/right", &bob).json();
    assert_eq!(catalog["collection"]["presets"], json!(saved));
    assert_eq!(catalog["object"]["presets"], json!([]));
    let one = s.easydb_get("/api/v1/right/collection", &bob).json();
    assert_eq!(one["collection"]["presets"], json!(saved));
}

#[test]
fn the_catalog_needs_an_authenticated_session_and_a_known_context() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    for path in [
        "/api/v1/right",
        "/api/v1/right/object",
        "/api/v1/right/object/presets",
    ] {
        assert_user_error(&s.get(path), "not_authenticated", json!({}));
        let fresh = s.easydb_session();
        assert_user_error(&s.easydb_get(path, &fresh), "not_authenticated", json!({}));
        assert_user_error(
            &s.easydb_get(path, "nope"),
            "session_not_found",
            json!({"id": "nope"}),
        );
    }
    for path in [
        "/api/v1/right/nope",
        "/api/v1/right/System",
        "/api/v1/right/nope/presets",
        "/api/v1/right/system/presets",
        "/api/v1/right/pool/presets",
        "/api/v1/right/user/presets",
    ] {
        assert_api_error(&s.easydb_get(path, &admin), "invalid_value");
    }
}

// ---------------------------------------------------------------------------------------
// Presets (7.2 - 7.4, 8).

/// What a stored preset looks like in a response.
fn stored(id: i64, version: i64, position: i64, names: Value, rights: Value) -> Value {
    json!({"_basetype": "right_preset", "right_preset": {
        "_id": id, "_version": version, "_position": position,
        "displayname": names, "description": {},
        "preset": {"rights": rights, "tagfilter": null}}})
}

#[test]
fn a_preset_round_trips_through_insert_get_edit_and_post() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    assert!(s.presets(&admin, "object").is_empty());

    let body = json!([{"_basetype": "right_preset", "right_preset": {
        "_version": 1,
        "displayname": {"en-US": "Read only", "de-DE": "Nur lesen"},
        "description": {"en-US": "View records, download previews"},
        "preset": {"rights": {"read": {}, "asset_download": {"versions": ["preview"]}},
                   "tagfilter": {"any": [3, 4]}}}}]);
    let resp = s.post_presets(&admin, "object", &body);
    resp.assert_status(200);
    resp.assert_json_type();
    let saved = resp.json();
    let id = preset_id(&saved[0]);
    assert!(id > 0);
    let mut want = body.clone();
    want[0]["right_preset"]["_id"] = json!(id);
    want[0]["right_preset"]["_position"] = json!(0);
    assert_eq!(saved, want);
    assert_eq!(json!(s.presets(&admin, "object")), want);

    // Edit what was read and send it back with the version bumped.
    let mut edited = s.presets(&admin, "object");
    let inner = &mut edited[0]["right_preset"];
    inner["_version"] = json!(2);
    inner["displayname"] = json!({"en-US": "Read and write"});
    inner["description"] = Value::Null;
    inner["preset"] = json!({"rights": {"write": {"_grantable": true},
                                        "asset_show": {"versions": ["small", "huge"],
                                                       "column_ids": [1, 2]}},
                             "tagfilter": {"all": [1], "not": [2]}});
    let resp = s.post_presets(&admin, "object", &json!(edited));
    resp.assert_status(200);
    let mut want = json!(edited);
    want[0]["right_preset"]["description"] = json!({});
    assert_eq!(resp.json(), want);
    assert_eq!(json!(s.presets(&admin, "object")), want);

    // Omitted fields of an update: position kept, names and tagfilter emptied.
    let resp = s.post_presets(
        &admin,
        "object",
        &json!([preset(Some(id), 3, None, json!({"delete": {}}))]),
    );
    resp.assert_status(200);
    let want = json!([stored(id, 3, 0, json!({}), json!({"delete": {}}))]);
    assert_eq!(resp.json(), want);
    assert_eq!(json!(s.presets(&admin, "object")), want);

    // Nothing went to the other context.
    assert!(s.presets(&admin, "collection").is_empty());
}

#[test]
fn inserts_get_fresh_ids_and_version_one_and_omitted_positions_append() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let one = s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]));
    assert_eq!(one[0]["right_preset"]["_position"], 0);
    assert_eq!(one[0]["right_preset"]["_version"], 1);
    let a = preset_id(&one[0]);

    // The omitted position goes after the rest of the request (7 here), not after 0.
    let two = s.save_presets(
        &admin,
        "object",
        &json!([
            preset(None, 1, None, json!({"read": {}})),
            preset(None, 1, Some(7), json!({"write": {}}))
        ]),
    );
    let (b, c) = (preset_id(&two[0]), preset_id(&two[1]));
    assert_eq!(two[0]["right_preset"]["_position"], 8);
    assert_eq!(two[1]["right_preset"]["_position"], 7);
    assert_eq!(two[0]["right_preset"]["_version"], 1);
    let mut ids = vec![a, b, c];
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "ids are fresh: {a} {b} {c}");

    // The list is ordered by position.
    let list: Vec<(i64, i64)> = s
        .presets(&admin, "object")
        .iter()
        .map(|p| {
            (
                preset_id(p),
                p["right_preset"]["_position"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(list, vec![(a, 0), (c, 7), (b, 8)]);

    // Positions are per context; ids are unique across contexts.
    let other = s.save_presets(
        &admin,
        "collection",
        &json!([
            preset(None, 1, None, json!({})),
            preset(None, 1, Some(7), json!({}))
        ]),
    );
    assert_eq!(other[0]["right_preset"]["_position"], 8);
    assert_eq!(other[1]["right_preset"]["_position"], 7);
    for p in &other {
        assert!(!ids.contains(&preset_id(p)), "{p}");
    }
    let other = s.save_presets(
        &admin,
        "collection",
        &json!([preset(None, 1, Some(0), json!({}))]),
    );
    assert_eq!(other[0]["right_preset"]["_position"], 0);

    // [] in, [] out, and nothing changes.
    assert_eq!(
        s.save_presets(&admin, "object", &json!([])),
        Vec::<Value>::new()
    );
    assert_eq!(s.presets(&admin, "object").len(), 3);
    assert_eq!(s.presets(&admin, "collection").len(), 3);
}

#[test]
fn the_version_rule_and_unknown_ids() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    // An insert must say version 1.
    for version in [2, 0] {
        let resp = s.post_presets(
            &admin,
            "object",
            &json!([preset(None, version, None, json!({}))]),
        );
        assert_version_mismatch(&resp, version, 1);
    }
    assert!(s.presets(&admin, "object").is_empty());
    let id =
        preset_id(&s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]))[0]);
    let collection_id = preset_id(
        &s.save_presets(
            &admin,
            "collection",
            &json!([preset(None, 1, None, json!({}))]),
        )[0],
    );

    // An update must say stored + 1.
    for version in [1, 3, 7] {
        let resp = s.post_presets(
            &admin,
            "object",
            &json!([preset(Some(id), version, None, json!({}))]),
        );
        assert_version_mismatch(&resp, version, 2);
    }
    s.save_presets(
        &admin,
        "object",
        &json!([preset(Some(id), 2, None, json!({"read": {}}))]),
    );
    // The stale version again.
    let resp = s.post_presets(
        &admin,
        "object",
        &json!([preset(Some(id), 2, None, json!({}))]),
    );
    assert_version_mismatch(&resp, 2, 3);
    let list = s.presets(&admin, "object");
    assert_eq!(list, vec![stored(id, 2, 0, json!({}), json!({"read": {}}))]);

    // Unknown ids, and ids of the other context; the lookup comes before the version.
    for (context, unknown) in [
        ("object", 999_999),
        ("object", collection_id),
        ("collection", id),
    ] {
        let resp = s.post_presets(
            &admin,
            context,
            &json!([preset(Some(unknown), 1, None, json!({}))]),
        );
        assert_user_error(
            &resp,
            "right_preset_not_found",
            json!({"id": unknown.to_string()}),
        );
    }
    assert_eq!(s.presets(&admin, "object").len(), 1);
    assert_eq!(
        s.presets(&admin, "collection")[0]["right_preset"]["_version"],
        1
    );
}

#[test]
fn positions_swap_in_one_request_and_a_clash_stores_nothing() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let saved = s.save_presets(
        &admin,
        "object",
        &json!([
            preset(None, 1, Some(0), json!({"read": {}})),
            preset(None, 1, Some(1), json!({"write": {}}))
        ]),
    );
    let (a, b) = (preset_id(&saved[0]), preset_id(&saved[1]));
    // Swap.
    let resp = s.post_presets(
        &admin,
        "object",
        &json!([
            preset(Some(a), 2, Some(1), json!({"read": {}})),
            preset(Some(b), 2, Some(0), json!({"write": {}}))
        ]),
    );
    resp.assert_status(200);
    let want = vec![
        stored(b, 2, 0, json!({}), json!({"write": {}})),
        stored(a, 2, 1, json!({}), json!({"read": {}})),
    ];
    assert_eq!(s.presets(&admin, "object"), want);

    let clash = json!({"constraint": "right_preset_position"});
    for body in [
        // A valid insert, then one onto a taken position.
        json!([
            preset(None, 1, Some(5), json!({"delete": {}})),
            preset(None, 1, Some(0), json!({}))
        ]),
        // A valid update, then an insert onto the position the update keeps.
        json!([
            preset(Some(a), 3, None, json!({"delete": {}})),
            preset(None, 1, Some(1), json!({}))
        ]),
        // Two inserts onto one free position.
        json!([
            preset(None, 1, Some(9), json!({})),
            preset(None, 1, Some(9), json!({}))
        ]),
        // A move onto the other's position without moving it away.
        json!([preset(Some(a), 3, Some(0), json!({}))]),
    ] {
        let resp = s.post_presets(&admin, "object", &body);
        assert_user_error(&resp, "integrity_constraint_violation", clash.clone());
        assert_eq!(s.presets(&admin, "object"), want, "after {body}");
    }
    // The same positions in the other context are fine.
    s.save_presets(
        &admin,
        "collection",
        &json!([
            preset(None, 1, Some(0), json!({})),
            preset(None, 1, Some(1), json!({}))
        ]),
    );
}

#[test]
fn delete_answers_an_empty_object_and_keeps_the_other_positions() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let saved = s.save_presets(
        &admin,
        "object",
        &json!([
            preset(None, 1, None, json!({})),
            preset(None, 1, None, json!({"read": {}})),
            preset(None, 1, None, json!({"write": {}}))
        ]),
    );
    let ids: Vec<i64> = saved.iter().map(preset_id).collect();
    let positions: Vec<i64> = saved
        .iter()
        .map(|p| p["right_preset"]["_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![0, 1, 2], "appended in input order");
    let other = preset_id(
        &s.save_presets(
            &admin,
            "collection",
            &json!([preset(None, 1, None, json!({}))]),
        )[0],
    );

    let resp = s.delete_preset(&admin, "object", &ids[1].to_string());
    resp.assert_status(200);
    resp.assert_json_type();
    assert_eq!(resp.json(), json!({}));
    let left: Vec<(i64, i64)> = s
        .presets(&admin, "object")
        .iter()
        .map(|p| {
            (
                preset_id(p),
                p["right_preset"]["_position"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(left, vec![(ids[0], 0), (ids[2], 2)]);

    // Twice, unknown, and the other context's id.
    for (context, id) in [
        ("object", ids[1]),
        ("object", 999_999),
        ("object", other),
        ("collection", ids[0]),
    ] {
        let resp = s.delete_preset(&admin, context, &id.to_string());
        assert_user_error(
            &resp,
            "right_preset_not_found",
            json!({"id": id.to_string()}),
        );
    }
    // Not an id, or a context without presets.
    for (context, id) in [
        ("object", "abc"),
        ("object", "-1"),
        ("object", "1.0"),
        ("object", "%201"),
        ("system", &ids[0].to_string()),
        ("nope", &ids[0].to_string()),
    ] {
        assert_api_error(&s.delete_preset(&admin, context, id), "invalid_value");
    }
    assert_eq!(s.presets(&admin, "object").len(), 2);
    assert_eq!(s.presets(&admin, "collection").len(), 1);

    // The next insert appends after the last one, not into the hole.
    let next = s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]));
    assert_eq!(next[0]["right_preset"]["_position"], 3);
    assert!(!ids.contains(&preset_id(&next[0])), "ids are never reused");
}

#[test]
fn inner_fields_are_always_present_with_empty_defaults() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let body = json!([
        {"_basetype": "right_preset", "right_preset": {"_version": 1, "preset": {"rights": {}}}},
        {"_basetype": "right_preset", "right_preset": {"_version": 1, "displayname": null,
            "description": null, "preset": {"rights": {"read": {"_grantable": false}},
                                             "tagfilter": null}}},
        {"_basetype": "right_preset", "right_preset": {"_version": 1, "_position": 10,
            "displayname": {}, "description": {"de-DE": "x"},
            "preset": {"rights": {}, "tagfilter": {"not": [5], "any": []}}}}
    ]);
    let saved = s.save_presets(&admin, "collection", &body);
    for p in &saved {
        assert_eq!(keys(p), sorted(&["_basetype", "right_preset"]));
        assert_eq!(
            keys(&p["right_preset"]),
            sorted(&[
                "_id",
                "_version",
                "_position",
                "displayname",
                "description",
                "preset"
            ])
        );
        assert_eq!(
            keys(&p["right_preset"]["preset"]),
            sorted(&["rights", "tagfilter"])
        );
    }
    assert_eq!(saved[0]["right_preset"]["displayname"], json!({}));
    assert_eq!(saved[0]["right_preset"]["description"], json!({}));
    assert_eq!(saved[0]["right_preset"]["preset"]["tagfilter"], Value::Null);
    assert_eq!(saved[1]["right_preset"]["displayname"], json!({}));
    assert_eq!(saved[1]["right_preset"]["preset"]["tagfilter"], Value::Null);
    assert_eq!(
        saved[1]["right_preset"]["preset"]["rights"],
        json!({"read": {"_grantable": false}})
    );
    assert_eq!(
        saved[2]["right_preset"]["description"],
        json!({"de-DE": "x"})
    );
    let filter = &saved[2]["right_preset"]["preset"]["tagfilter"];
    assert_eq!(filter["not"], json!([5]), "{filter}");
    // The two inserts without a position follow the one at 10, in input order.
    let positions: Vec<i64> = saved
        .iter()
        .map(|p| p["right_preset"]["_position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, vec![11, 12, 10]);
    let mut by_position = saved.clone();
    by_position.sort_by_key(|p| p["right_preset"]["_position"].as_i64());
    assert_eq!(s.presets(&admin, "collection"), by_position);
}

/// A preset body whose one element is `element`.
fn one(element: Value) -> Value {
    json!([element])
}

/// An insert element with this `right_preset` content.
fn inner(content: Value) -> Value {
    json!({"_basetype": "right_preset", "right_preset": content})
}

/// An insert element with these rights (and no tagfilter).
fn rights(rights: Value) -> Value {
    one(preset(None, 1, None, rights))
}

/// An insert element with this tagfilter.
fn tagfilter(filter: Value) -> Value {
    one(inner(
        json!({"_version": 1, "preset": {"rights": {}, "tagfilter": filter}}),
    ))
}

#[test]
fn every_malformed_request_is_refused_with_its_code_and_stores_nothing() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let existing = s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]));
    let id = preset_id(&existing[0]);
    let good = preset(None, 1, None, json!({"read": {}}));

    let cases: Vec<(&str, &str, Value)> = vec![
        // Types.
        ("object", "type_mismatch", json!({})),
        ("object", "type_mismatch", json!(good)),
        ("object", "type_mismatch", json!([1])),
        ("object", "type_mismatch", json!(["x"])),
        ("object", "type_mismatch", json!([good, []])),
        (
            "object",
            "type_mismatch",
            one(inner(
                json!({"_id": "1", "_version": 2, "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(
                json!({"_id": 1.5, "_version": 2, "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(json!({"_version": "1", "preset": {"rights": {}}}))),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(json!({"_version": 1, "preset": []}))),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(json!({"_version": 1, "preset": "read"}))),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(
                json!({"_version": 1, "_position": "0", "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "type_mismatch",
            one(inner(
                json!({"_version": 1, "displayname": "x", "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "type_mismatch",
            one(json!({"_basetype": "right_preset", "right_preset": []})),
        ),
        // Missing attributes.
        (
            "object",
            "attribute_expected",
            one(json!({"right_preset": {"_version": 1, "preset": {"rights": {}}}})),
        ),
        (
            "object",
            "attribute_expected",
            one(json!({"_basetype": "right_preset"})),
        ),
        (
            "object",
            "attribute_expected",
            one(inner(json!({"preset": {"rights": {}}}))),
        ),
        (
            "object",
            "attribute_expected",
            one(inner(json!({"_id": id, "preset": {"rights": {}}}))),
        ),
        (
            "object",
            "attribute_expected",
            one(inner(json!({"_version": 1}))),
        ),
        (
            "object",
            "attribute_expected",
            one(inner(json!({"_version": 1, "preset": {}}))),
        ),
        (
            "object",
            "attribute_expected",
            one(inner(json!({"_version": 1, "preset": {"tagfilter": null}}))),
        ),
        // Attributes this call does not know.
        (
            "object",
            "attribute_not_accepted",
            one(
                json!({"_basetype": "right_preset", "right_preset": {"_version": 1, "preset": {"rights": {}}}, "_mask": "x"}),
            ),
        ),
        (
            "object",
            "attribute_not_accepted",
            one(inner(
                json!({"_version": 1, "name": "x", "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "attribute_not_accepted",
            one(inner(
                json!({"_version": 1, "_basetype": "x", "preset": {"rights": {}}}),
            )),
        ),
        (
            "object",
            "attribute_not_accepted",
            one(inner(
                json!({"_version": 1, "preset": {"rights": {}, "acl": []}}),
            )),
        ),
        // Values.
        (
            "object",
            "invalid_value",
            one(
                json!({"_basetype": "user", "right_preset": {"_version": 1, "preset": {"rights": {}}}}),
            ),
        ),
        (
            "object",
            "invalid_value",
            one(
                json!({"_basetype": "Right_Preset", "right_preset": {"_version": 1, "preset": {"rights": {}}}}),
            ),
        ),
        ("nope", "invalid_value", json!([good])),
        ("system", "invalid_value", json!([good])),
        ("pool", "invalid_value", json!([good])),
        ("object", "invalid_value", rights(json!({"nope": {}}))),
        ("object", "invalid_value", rights(json!({"access": {}}))),
        (
            "object",
            "invalid_value",
            rights(json!({"system.root": {}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"system.rightpresetmanager": {}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"create_in_collection": {}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"read": {"objecttype_ids": [1]}})),
        ),
        ("object", "invalid_value", rights(json!({"read": true}))),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_download": {"versions": "preview"}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_download": {"versions": [1]}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_download": {"versions": ["thumbnail"]}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_download": {"versions": ["preview"], "column_ids": ["a"]}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_download": {}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"asset_show": {"column_ids": [1]}})),
        ),
        (
            "collection",
            "invalid_value",
            rights(json!({"create_in_collection": {"_grantable": true}})),
        ),
        (
            "collection",
            "invalid_value",
            rights(json!({"bag_read": {"_grantable": false}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"read": {"_grantable": "yes"}})),
        ),
        (
            "object",
            "invalid_value",
            rights(json!({"read": {"_grantable": 1}})),
        ),
        (
            "collection",
            "invalid_value",
            rights(json!({"link": {"pool_ids": [1, "2"]}})),
        ),
        ("object", "invalid_value", tagfilter(json!({}))),
        (
            "object",
            "invalid_value",
            tagfilter(json!({"all": [], "any": [], "not": []})),
        ),
        ("object", "invalid_value", tagfilter(json!({"any": []}))),
        ("object", "invalid_value", tagfilter(json!({"any": ["3"]}))),
        ("object", "invalid_value", tagfilter(json!({"all": [1.5]}))),
        ("object", "invalid_value", tagfilter(json!({"not": 3}))),
        // The same _id twice in one request.
        (
            "object",
            "invalid_value",
            json!([
                preset(Some(id), 2, None, json!({})),
                preset(Some(id), 3, None, json!({}))
            ]),
        ),
        // ... found before any element is looked at.
        (
            "object",
            "invalid_value",
            json!([
                inner(json!({"_id": id, "_version": 2})),
                preset(Some(id), 2, None, json!({}))
            ]),
        ),
    ];
    // Every case runs; the ones answered with another code are listed together.
    let mut wrong = Vec::new();
    for (context, code, body) in cases {
        let resp = s.post_presets(&admin, context, &body);
        if resp.status == 400 && resp.json()["code"] == format!("error.api.{code}") {
            assert_api_error(&resp, code);
        } else {
            wrong.push(format!("{context} {body}: want {code}, got {}", resp.body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing was stored by any of them.
    let list = s.presets(&admin, "object");
    assert_eq!(list, existing);
    assert!(s.presets(&admin, "collection").is_empty());

    // The same rights are fine where they belong.
    s.save_presets(
        &admin,
        "collection",
        &rights(json!({"create_in_collection": {}})),
    );
    s.save_presets(
        &admin,
        "collection",
        &rights(
            json!({"link": {"pool_ids": [1], "objecttype_ids": []}, "read": {"_grantable": true}}),
        ),
    );
}

#[test]
fn the_first_error_in_input_order_wins_and_the_whole_request_fails() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let good = preset(None, 1, None, json!({"read": {}}));
    let bad_right = preset(None, 1, None, json!({"nope": {}}));
    let bad_version = preset(None, 2, None, json!({}));
    let unknown = preset(Some(999_999), 5, None, json!({"nope": {}}));

    let resp = s.post_presets(&admin, "object", &json!([good, bad_right, bad_version]));
    assert_api_error(&resp, "invalid_value");
    let resp = s.post_presets(&admin, "object", &json!([good, bad_version, bad_right]));
    assert_version_mismatch(&resp, 2, 1);
    let resp = s.post_presets(&admin, "object", &json!([good, unknown, bad_version]));
    assert_user_error(&resp, "right_preset_not_found", json!({"id": "999999"}));
    // Within one element: structure, lookup, version, content.
    let resp = s.post_presets(
        &admin,
        "object",
        &one(inner(
            json!({"_id": 999_999, "_version": 5, "extra": 1, "preset": {"rights": {"nope": {}}}}),
        )),
    );
    assert_api_error(&resp, "attribute_not_accepted");
    let resp = s.post_presets(
        &admin,
        "object",
        &json!([preset(None, 3, None, json!({"nope": {}}))]),
    );
    assert_version_mismatch(&resp, 3, 1);
    assert!(s.presets(&admin, "object").is_empty());
}

#[test]
fn posting_and_deleting_need_the_preset_manager_right_or_its_alias() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let admin = s.easydb_admin();
    let bob_id = s.easydb_user_id(&admin, &w.bob_id);
    let saved = s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]));
    let id = preset_id(&saved[0]).to_string();
    let bob = s.easydb_login("bob", "bob-pw");

    // Reading needs only a session.
    assert_eq!(s.presets(&bob, "object"), saved);
    // Writing needs the right, checked after the path and before the body.
    let right = "system.rightpresetmanager";
    assert_no_right(
        &s.post_presets(&bob, "object", &json!([preset(None, 1, None, json!({}))])),
        right,
    );
    assert_no_right(
        &s.post_presets(&bob, "collection", &json!({"not": "an array"})),
        right,
    );
    let garbage = s
        .easydb("POST", "/api/v1/right/object/presets", &bob)
        .raw(b"{not json".to_vec())
        .send();
    assert_no_right(&garbage, right);
    assert_no_right(&s.delete_preset(&bob, "object", &id), right);
    assert_no_right(&s.delete_preset(&bob, "object", "999999"), right);
    assert_api_error(&s.post_presets(&bob, "system", &json!([])), "invalid_value");
    assert_api_error(&s.delete_preset(&bob, "object", "abc"), "invalid_value");
    assert_api_error(&s.delete_preset(&bob, "tag", &id), "invalid_value");
    assert_eq!(s.presets(&admin, "object"), saved);

    // The seed's spelling, granted, is stored canonically and lets bob write.
    let granted = s.grant_user(&admin, bob_id, json!({"system.righpresetmanager": {}}));
    assert_eq!(
        granted["_system_rights"],
        json!({"system.rightpresetmanager": {}})
    );
    assert!(!s
        .easydb_get("/api/v1/user", &admin)
        .body
        .contains("righpresetmanager"));
    let session = s.easydb_session_of(&bob);
    assert_eq!(
        session["system_rights"],
        json!({"system.rightpresetmanager": {}})
    );
    let mine = s.save_presets(
        &bob,
        "collection",
        &json!([preset(None, 1, None, json!({"read": {}}))]),
    );
    s.save_presets(
        &bob,
        "object",
        &json!([preset(Some(preset_id(&saved[0])), 2, None, json!({}))]),
    );
    let resp = s.delete_preset(&bob, "object", &id);
    assert_eq!(resp.assert_status(200).json(), json!({}));
    assert!(s.presets(&admin, "object").is_empty());
    assert_eq!(s.presets(&admin, "collection"), mine);
    // Root holds it too (the admin did all of the above), and system.rightsmanagement
    // does not.
    s.grant_user(&admin, bob_id, json!({"system.rightsmanagement": {}}));
    assert_no_right(&s.post_presets(&bob, "object", &json!([])), right);
}

#[test]
fn parallel_updates_of_one_preset_at_one_version_let_exactly_one_win() {
    const N: usize = 8;
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let saved = s.save_presets(
        &admin,
        "object",
        &json!([preset(None, 1, Some(4), json!({}))]),
    );
    let id = preset_id(&saved[0]);
    let choices = [
        "read", "write", "delete", "read", "write", "delete", "read", "write",
    ];
    let bodies: Vec<Value> = (0..N)
        .map(|i| json!([preset(Some(id), 2, None, json!({ choices[i]: {} }))]))
        .collect();
    let answers = post_together(&s, "/api/v1/right/object/presets", &admin, bodies.clone());
    let winners: Vec<usize> = (0..N).filter(|i| answers[*i].status == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (i, resp) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_version_mismatch(resp, 2, 3);
        }
    }
    let winner = &answers[winners[0]].json()[0];
    assert_eq!(winner["right_preset"]["_version"], 2);
    let list = s.presets(&admin, "object");
    assert_eq!(list, vec![winner.clone()]);
    assert_eq!(
        list[0]["right_preset"]["preset"]["rights"],
        bodies[winners[0]][0]["right_preset"]["preset"]["rights"]
    );
    assert_eq!(list[0]["right_preset"]["_position"], 4);
}
