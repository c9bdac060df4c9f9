//! KHEOPS albums over HTTP (kheops.md 1, 3, 4, 5.2, 5.9, 10, 11): authentication of the
//! family (Bearer and Basic, user credentials and capability secrets), albums and their
//! JSON, listing, editing and deleting, memberships and the admin role, the effects of
//! losing the admin role and of deleting a user on capability tokens, and what capability
//! secrets may do on album endpoints. Capability tokens themselves are in
//! `kheops_capabilities`; content negotiation and the `/api` mount in `kheops_routes`.

use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::albums;
use tessera_tests::kheops::*;
use tessera_tests::time::{now_ms, parse_time, pause, sleep_until};
use tessera_tests::{json, string_field, Options, Server, World, ADMIN_EMAIL, ADMIN_PASSWORD};

// ---------------------------------------------------------------------------------------
// 3.1, 3.2: presenting and resolving credentials.

#[test]
fn bearer_and_basic_carry_user_credentials() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let path = format!("/albums/{album}");
    let with = |authorization: &str| {
        s.request("GET", &path)
            .header("Authorization", authorization)
            .send()
    };
    // The scheme name is case-insensitive; whitespace around the credential is ignored.
    // Basic: the credential is the password; the user name is ignored.
    for authorization in [
        format!("Bearer {a}"),
        format!("bearer {a}"),
        format!("BEARER {a}"),
        format!("bEaReR {a}"),
        format!("Bearer    {a}   "),
        format!("Basic {}", b64(&format!("alice@test.com:{a}"))),
        format!("Basic {}", b64(&format!("anything:{a}"))),
        format!("Basic {}", b64(&format!("bob@test.com:{a}"))),
        format!("Basic {}", b64(&format!(":{a}"))),
        format!("basic {}", b64(&format!("x:{a}"))),
        format!("BASIC {}", b64(&format!("x:{a}"))),
    ] {
        let body = with(&authorization).assert_status(200).json();
        assert_eq!(body["album_id"], album.as_str(), "{authorization}");
        assert_eq!(body["is_admin"], true, "{authorization}");
    }
    s.request("GET", &path)
        .basic("whoever", a)
        .send()
        .assert_status(200);
    // The credential is everything after the FIRST ':'.
    with(&format!("Basic {}", b64(&format!("a:b:{a}")))).assert_unauthorized(NOT_VALID);

    // The same Keyrock API token acts as alice everywhere in the family.
    s.post_album(a, &[("name", "Second")]).assert_status(201);
    assert_eq!(s.get_as(a, "/albums").assert_list(2).len(), 2);
    let resp = s.request("GET", "/albums").basic("", a).send();
    assert_eq!(resp.assert_list(2).len(), 2);
    // A credential of another user is that user: bob is no member of alice's album.
    s.album(&w.bob, &album).assert_album_not_found();
    s.request("GET", &path)
        .basic("alice@test.com", &w.bob)
        .send()
        .assert_album_not_found();
}

#[test]
fn missing_malformed_and_invalid_credentials_are_refused() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let path = format!("/albums/{album}");
    let with = |authorization: &str| {
        s.request("GET", &path)
            .header("Authorization", authorization)
            .send()
    };

    // 3.1: missing or malformed header (each 401 carries WWW-Authenticate).
    s.get(&path).assert_unauthorized(MALFORMED);
    for authorization in [
        format!("Token {a}"),
        format!("Digest {a}"),
        a.clone(),
        format!("Bearer{a}"),
        "Bearer".to_owned(),
        "Bearer   ".to_owned(),
        "Basic".to_owned(),
        "Basic !!not*base64!!".to_owned(),
        format!("Basic {}", b64(&format!("no-colon-{a}"))),
        format!("Basic {}", b64(a)),
        format!("Basic {}", b64("alice@test.com:")),
        format!("Basic {}", b64("alice@test.com:   ")),
    ] {
        with(&authorization).assert_unauthorized(MALFORMED);
    }
    // The Keyrock header is not this family's Authorization header.
    s.request("GET", &path)
        .token(a)
        .send()
        .assert_unauthorized(MALFORMED);
    // Also on lists and membership routes.
    s.get("/albums").assert_unauthorized(MALFORMED);
    s.request("POST", "/albums")
        .form(&[("name", "x")])
        .send()
        .assert_unauthorized(MALFORMED);
    s.request("PUT", &format!("/albums/{album}/users/{}", w.bob_id))
        .send()
        .assert_unauthorized(MALFORMED);
    assert_challenges(&s.challenges("GET", &path, None));
    assert_challenges(&s.challenges("GET", "/albums", Some("Token abc")));

    // 3.2: unknown credentials; a user's password is never a credential here, whatever
    // the user name.
    for authorization in [
        "Bearer nope".to_owned(),
        "Bearer 00000000-0000-4000-8000-000000000000".to_owned(),
        "Bearer ABCDEFGHIJKLMNOPQRSTUV".to_owned(),
        format!("Basic {}", b64("x:ABCDEFGHIJKLMNOPQRSTUV")),
        format!("Basic {}", b64("alice@test.com:alice-pw")),
        format!("Basic {}", b64("alice:alice-pw")),
        "Bearer alice-pw".to_owned(),
    ] {
        with(&authorization).assert_unauthorized(NOT_VALID);
    }
    assert_challenges(&s.challenges("GET", &path, Some("Bearer nope")));
    let password = format!("Basic {}", b64("alice@test.com:alice-pw"));
    assert_challenges(&s.challenges("GET", &path, Some(&password)));

    // A revoked Keyrock token.
    let second = s.login("alice@test.com", "alice-pw");
    s.album(&second, &album).assert_status(200);
    s.request("DELETE", "/v1/auth/tokens")
        .token(a)
        .header("X-Subject-Token", &second)
        .send()
        .assert_status(204);
    s.album(&second, &album).assert_unauthorized(NOT_VALID);
    s.album(a, &album).assert_status(200);

    // The token of a deleted user.
    let gone_id = s.create_user(&w.admin, "gone", "gone@test.com", "gone-pw");
    let gone = s.login("gone@test.com", "gone-pw");
    s.get_as(&gone, "/albums").assert_status(200);
    s.request("DELETE", &format!("/v1/users/{gone_id}"))
        .token(&w.admin)
        .send()
        .assert_status(204);
    s.get_as(&gone, "/albums").assert_unauthorized(NOT_VALID);
    s.request("GET", "/albums")
        .basic("gone@test.com", &gone)
        .send()
        .assert_unauthorized(NOT_VALID);
}

#[test]
fn an_expired_keyrock_token_is_not_valid() {
    let (s, _db) = Server::start_with(Options::default().env("TESSERA_API_TOKEN_LIFETIME", "1"));
    // The Tessera admin is a user like any other in this family.
    let login = s.try_password(ADMIN_EMAIL, ADMIN_PASSWORD);
    let expires = parse_time(&login.assert_status(201).json()["token"]["expires_at"]);
    let admin = login.header("x-subject-token").expect("X-Subject-Token");
    // Accepted while valid (new_album asserts 201), refused once past its expires_at.
    let album = s.new_album(&admin, "Short");
    sleep_until(expires + 1);
    s.album(&admin, &album).assert_unauthorized(NOT_VALID);
    s.request("GET", "/albums")
        .basic("admin", &admin)
        .send()
        .assert_unauthorized(NOT_VALID);
}

// ---------------------------------------------------------------------------------------
// 4.1, 4.2, 4.3: POST /albums.

#[test]
fn create_answers_the_album_json_field_by_field() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;

    let before = now_ms();
    let resp = s.post_album(a, &[("name", "Study group")]);
    let after = now_ms();
    let album = resp.assert_status(201).json();
    resp.assert_json_type();
    assert_album_shape(&album);
    let id = string_field(&album, "album_id");
    assert_eq!(album["name"], "Study group");
    assert_eq!(album["description"], "");
    assert_eq!(album["number_of_users"], 1);
    assert_eq!(album["is_admin"], true);
    for (_, field, default) in FLAGS {
        assert_eq!(album[field], default, "{field}");
    }
    let created = parse_time(&album["created_time"]);
    let last = parse_time(&album["last_event_time"]);
    assert!(
        created >= before - 5000 && created <= after + 5000,
        "{album}"
    );
    assert!(last >= created, "{album}");
    // Read back: the same object.
    assert_eq!(s.album_json(a, &id), album);
    // Stored: the album and its first admin.
    assert_eq!(db.album_rows(&id), 1);
    assert_eq!(db.memberships(&id), rows(&[(&w.alice_id, true)]));

    // Every parameter; name and description trimmed; booleans case-insensitive.
    let resp = s.post_album(
        a,
        &[
            ("name", "  Trimmed name \t"),
            ("description", "  A description \n"),
            ("addUser", "TRUE"),
            ("downloadSeries", "False"),
            ("sendSeries", "fAlSe"),
            ("deleteSeries", "true"),
            ("addSeries", "FALSE"),
            ("writeComments", "false"),
            ("unknown", "ignored"),
        ],
    );
    let other = resp.assert_status(201).json();
    assert_album_shape(&other);
    assert_ne!(other["album_id"], album["album_id"]);
    assert_eq!(other["name"], "Trimmed name");
    assert_eq!(other["description"], "A description");
    let flags = [true, false, false, true, false, false];
    for ((_, field, _), value) in FLAGS.iter().zip(flags) {
        assert_eq!(other[field], value, "{field}");
    }
    assert_eq!(other["is_admin"], true);
    assert_eq!(other["number_of_users"], 1);
    assert_eq!(s.album_json(a, &string_field(&other, "id")), other);

    // Empty values count as absent: the defaults apply. A repeated parameter: the first wins.
    let mut fields = vec![("name", "First"), ("name", "Second"), ("description", "")];
    fields.extend(FLAGS.iter().map(|(param, _, _)| (*param, "")));
    let third = s.post_album(a, &fields).assert_status(201).json();
    assert_eq!(third["name"], "First");
    assert_eq!(third["description"], "");
    for (_, field, default) in FLAGS {
        assert_eq!(third[field], default, "{field}");
    }

    // Limits: 255 characters of name and 2048 of description, counted in characters.
    let name = "é".repeat(255);
    let description = "d".repeat(2048);
    let resp = s.post_album(a, &[("name", &name), ("description", &description)]);
    assert_eq!(resp.assert_status(201).json()["name"], name.as_str());
    assert_eq!(resp.json()["description"], description.as_str());

    // The Tessera admin creates albums like any user; they are its own.
    let resp = s.post_album(&w.admin, &[("name", "Admin's")]);
    assert_eq!(resp.assert_status(201).json()["is_admin"], true);
    assert_eq!(s.get_as(a, "/albums").assert_list(4).len(), 4);
}

#[test]
fn create_validates_the_form() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let bad = |fields: &[(&str, &str)], detail: &str| {
        s.post_album(&w.alice, fields).assert_bad_form(detail);
    };
    let empty = "Param 'name' can not be empty";
    bad(&[], empty);
    bad(&[("description", "no name")], empty);
    bad(&[("name", "")], empty);
    bad(&[("name", "   ")], empty);
    bad(&[("name", " \t ")], empty);
    bad(&[("Name", "wrong case")], empty);
    let too_long = |what: &str, max: usize, got: usize| {
        format!("Param '{what}' is too long max expected: {max} characters but got :{got}")
    };
    bad(&[("name", &"n".repeat(256))], &too_long("name", 255, 256));
    bad(&[("name", &"é".repeat(300))], &too_long("name", 255, 300));
    let description = "d".repeat(2049);
    let fields = [("name", "ok"), ("description", description.as_str())];
    bad(&fields, &too_long("description", 2048, 2049));
    for (param, _, _) in FLAGS {
        for value in ["yes", "1", "0", "no", "truee"] {
            let detail = format!("Param '{param}' must be 'true' or 'false'");
            bad(&[("name", "ok"), (param, value)], &detail);
        }
    }
    // Nothing was created.
    assert!(s.get_as(&w.alice, "/albums").assert_list(0).is_empty());
    assert_eq!(db.memberships_of_user(&w.alice_id), 0);
}

// ---------------------------------------------------------------------------------------
// 4.3: GET /albums.

/// Asserts that `items` are ordered by `key` (ascending, or descending when `desc`), ties
/// by `album_id` ascending (bytes).
#[track_caller]
fn assert_order(items: &[Value], key: &str, desc: bool) {
    let value = |v: &Value| -> (i64, String) {
        match key {
            "created_time" | "last_event_time" => (parse_time(&v[key]), String::new()),
            "number_of_users" => (v[key].as_i64().unwrap(), String::new()),
            _ => (0, string_field(v, key)),
        }
    };
    for pair in items.windows(2) {
        let (a, b) = (value(&pair[0]), value(&pair[1]));
        let strictly = if desc { a > b } else { a < b };
        let tie = a == b
            && string_field(&pair[0], "album_id").as_bytes()
                < string_field(&pair[1], "album_id").as_bytes();
        assert!(
            strictly || tie,
            "sort {key} desc={desc}: {} before {}",
            pair[0],
            pair[1]
        );
    }
}

#[test]
fn list_shows_the_callers_albums_sorted_and_paged() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;

    // alice: delta (alone), alpha (3 users), charlie (2 users); bob: bravo (alice a plain
    // member, 2 users) and echo (alice not a member).
    let mut made = Vec::new();
    for (owner, name) in [
        (a, "delta"),
        (a, "alpha"),
        (a, "charlie"),
        (&w.bob, "bravo"),
    ] {
        made.push(s.new_album(owner, name));
        pause();
    }
    let (delta, alpha, charlie, bravo) = (&*made[0], &*made[1], &*made[2], &*made[3]);
    let echo = s.new_album(&w.bob, "echo");
    pause();
    s.put_member(a, alpha, &w.bob_id).assert_status(201);
    s.put_member(a, alpha, &w.carol_id).assert_status(201);
    s.put_member(a, charlie, &w.dave_id).assert_status(201);
    s.put_member(&w.bob, bravo, &w.alice_id).assert_status(201);
    pause();
    s.patch_album(a, delta, &[("description", "edited last")])
        .assert_status(200);

    // Default: -created_time.
    let items = s.get_as(a, "/albums").assert_list(4);
    assert_eq!(ids(&items), [bravo, charlie, alpha, delta]);
    assert!(!ids(&items).contains(&echo));
    for item in &items {
        assert_album_shape(item);
        assert!(item.get("users").is_none(), "{item}");
        // Each item is what GET /albums/{album} answers.
        assert_eq!(*item, s.album_json(a, &string_field(item, "id")));
    }
    let by_id = |id: &str| items.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(by_id(alpha)["number_of_users"], 3);
    assert_eq!(by_id(charlie)["number_of_users"], 2);
    assert_eq!(by_id(bravo)["number_of_users"], 2);
    assert_eq!(by_id(delta)["number_of_users"], 1);
    assert_eq!(by_id(bravo)["is_admin"], false);
    assert_eq!(by_id(alpha)["is_admin"], true);
    assert_eq!(by_id(delta)["description"], "edited last");

    // Sort keys: the order rule checked pairwise, and the albums at some positions.
    let sort = |value: &str| s.get_as(a, &format!("/albums?sort={value}")).assert_list(4);
    assert_eq!(ids(&sort("-created_time")), ids(&items));
    fn all(v: [&str; 4]) -> Vec<(usize, &str)> {
        v.into_iter().enumerate().collect()
    }
    for (value, key, desc, at) in [
        (
            "created_time",
            "created_time",
            false,
            all([delta, alpha, charlie, bravo]),
        ),
        ("name", "name", false, all([alpha, bravo, charlie, delta])),
        ("-name", "name", true, all([delta, charlie, bravo, alpha])),
        (
            "-last_event_time",
            "last_event_time",
            true,
            vec![(0, delta)],
        ),
        (
            "last_event_time",
            "last_event_time",
            false,
            vec![(3, delta)],
        ),
        (
            "number_of_users",
            "number_of_users",
            false,
            vec![(0, delta), (3, alpha)],
        ),
        (
            "-number_of_users",
            "number_of_users",
            true,
            vec![(0, alpha), (3, delta)],
        ),
    ] {
        let listed = sort(value);
        assert_order(&listed, key, desc);
        for (i, id) in at {
            assert_eq!(listed[i]["id"], id, "{value}: {i}");
        }
    }

    // Paging: X-Total-Count before limit/offset.
    let page = |query: &str| ids(&s.get_as(a, &format!("/albums?{query}")).assert_list(4));
    assert_eq!(page("limit=2"), [bravo, charlie]);
    assert_eq!(page("limit=2&offset=1"), [charlie, alpha]);
    assert_eq!(page("offset=3"), [delta]);
    for query in ["offset=4", "offset=100&limit=1", "limit=0"] {
        assert!(page(query).is_empty(), "{query}");
    }
    assert_eq!(page("limit=5000").len(), 4);
    assert_eq!(page("sort=name&limit=2&offset=2"), [charlie, delta]);

    // canCreateCapabilityToken=true: only albums where the caller is admin.
    let admin_only = |query: &str| ids(&s.get_as(a, &format!("/albums?{query}")).assert_list(3));
    assert_eq!(
        admin_only("canCreateCapabilityToken=true"),
        [charlie, alpha, delta]
    );
    let query = "canCreateCapabilityToken=TRUE&sort=name&limit=1";
    assert_eq!(admin_only(query), [alpha]);
    assert_eq!(page("canCreateCapabilityToken=false").len(), 4);

    // Bob sees his own: bravo, echo, alpha (member).
    let bob_items = s.get_as(&w.bob, "/albums?sort=name").assert_list(3);
    assert_eq!(ids(&bob_items), [alpha, bravo, echo.as_str()]);
    assert_eq!(bob_items[0]["is_admin"], false);
    // Nobody else's albums: the Tessera admin has none.
    s.get_as(&w.admin, "/albums").assert_list(0);
    s.get_as(&w.admin, "/albums?canCreateCapabilityToken=true")
        .assert_list(0);

    // Bad query parameters.
    let sort_detail = "Param 'sort' must be one of created_time, last_event_time, name, \
                       number_of_users, optionally prefixed with '-'";
    let integer = |p: &str| format!("Param '{p}' must be a non-negative integer");
    let boolean = "Param 'canCreateCapabilityToken' must be 'true' or 'false'";
    for (query, detail) in [
        ("sort=foo", sort_detail.to_owned()),
        ("sort=-foo", sort_detail.to_owned()),
        ("sort=--name", sort_detail.to_owned()),
        ("sort=Name", sort_detail.to_owned()),
        ("sort=album_id", sort_detail.to_owned()),
        ("limit=abc", integer("limit")),
        ("limit=-1", integer("limit")),
        ("limit=1.5", integer("limit")),
        ("offset=-2", integer("offset")),
        ("offset=x", integer("offset")),
        ("canCreateCapabilityToken=yes", boolean.to_owned()),
        ("canCreateCapabilityToken=1", boolean.to_owned()),
    ] {
        s.get_as(a, &format!("/albums?{query}"))
            .assert_bad_query(&detail);
    }
}

// ---------------------------------------------------------------------------------------
// 4.3: GET /albums/{album}.

#[test]
fn get_album_answers_members_and_hides_the_rest() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    s.put_member(a, &album, &w.carol_id).assert_status(201);

    let as_alice = s.album_json(a, &album);
    assert_album_shape(&as_alice);
    assert_eq!(as_alice["number_of_users"], 3);
    assert_eq!(as_alice["is_admin"], true);
    // A plain member: the same album, is_admin false.
    let as_bob = s.album_json(&w.bob, &album);
    assert_album_shape(&as_bob);
    let mut expected = as_alice.clone();
    expected["is_admin"] = json!(false);
    assert_eq!(as_bob, expected);

    // includeUsers=true adds the member list of GET /albums/{album}/users.
    let users = s
        .get_as(&w.bob, &format!("/albums/{album}/users"))
        .assert_list(3);
    for query in ["includeUsers=true", "includeUsers=TRUE"] {
        let resp = s.get_as(&w.bob, &format!("/albums/{album}?{query}"));
        let mut with_users = resp.assert_status(200).json();
        assert_eq!(with_users["users"], Value::Array(users.clone()), "{query}");
        with_users.as_object_mut().unwrap().remove("users");
        assert_eq!(with_users, as_bob);
    }
    let resp = s.get_as(&w.bob, &format!("/albums/{album}?includeUsers=false"));
    assert_eq!(resp.assert_status(200).json(), as_bob);
    s.get_as(&w.bob, &format!("/albums/{album}?includeUsers=maybe"))
        .assert_bad_query("Param 'includeUsers' must be 'true' or 'false'");

    // Not a member (the Tessera admin included), unknown, malformed: all the same 404.
    s.album(&w.dave, &album).assert_album_not_found();
    s.album(&w.admin, &album).assert_album_not_found();
    s.get_as(&w.dave, &format!("/albums/{album}?includeUsers=true"))
        .assert_album_not_found();
    let lower = album.to_ascii_lowercase();
    for id in [
        "AAAAAAAAAA",
        "short",
        &format!("{album}x"),
        &album[..9],
        "abcde-ghij",
        "abcde%20ghij",
        if lower != album { &lower } else { "AAAAAAAAAB" },
    ] {
        s.album(a, id).assert_album_not_found();
    }
}

// ---------------------------------------------------------------------------------------
// 4.3: PATCH /albums/{album}.

#[test]
fn patch_is_for_admins_and_changes_only_what_is_given() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let fields = [("name", "Original"), ("description", "Old description")];
    let album = string_field(&s.post_album(a, &fields).assert_status(201).json(), "id");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    let before = s.album_json(a, &album);

    // A plain member, a non-member, an unknown album.
    s.patch_album(&w.bob, &album, &[("name", "Bob's")])
        .assert_forbidden(PATCH_ADMIN);
    s.patch_album(&w.bob, &album, &[("addUser", "true")])
        .assert_forbidden(PATCH_ADMIN);
    s.patch_album(&w.carol, &album, &[("name", "Carol's")])
        .assert_album_not_found();
    for id in ["AAAAAAAAAA", "bad"] {
        s.patch_album(a, id, &[("name", "x")])
            .assert_album_not_found();
    }
    assert_eq!(s.album_json(a, &album), before);

    // Name only: trimmed; the rest unchanged; last_event_time moves on.
    pause();
    let after = s
        .patch_album(a, &album, &[("name", "  Renamed  ")])
        .assert_status(200)
        .json();
    assert_album_shape(&after);
    assert_eq!(after["name"], "Renamed");
    assert_eq!(after["description"], "Old description");
    assert_eq!(after["is_admin"], true);
    assert_eq!(after["number_of_users"], 2);
    assert_eq!(after["created_time"], before["created_time"]);
    let moved = parse_time(&after["last_event_time"]) > parse_time(&before["last_event_time"]);
    assert!(moved, "{before} then {after}");
    for (_, field, default) in FLAGS {
        assert_eq!(after[field], default, "{field}");
    }
    assert_eq!(s.album_json(a, &album), after);

    // Flags and description; empty values are absent (unchanged).
    pause();
    let fields = [
        ("name", ""),
        ("description", "  New description "),
        ("addUser", "True"),
        ("deleteSeries", "TRUE"),
        ("writeComments", "false"),
        ("sendSeries", ""),
    ];
    let edited = s.patch_album(a, &album, &fields).assert_status(200).json();
    assert_eq!(edited["name"], "Renamed");
    assert_eq!(edited["description"], "New description");
    for ((_, field, _), value) in FLAGS.iter().zip([true, true, true, true, true, false]) {
        assert_eq!(edited[field], value, "{field}");
    }
    assert!(parse_time(&edited["last_event_time"]) > parse_time(&after["last_event_time"]));
    // Members see the new values (is_admin their own).
    let mut expected = edited.clone();
    expected["is_admin"] = json!(false);
    assert_eq!(s.album_json(&w.bob, &album), expected);

    // An empty description is "absent"; every other flag can be turned off again.
    let fields = [
        ("description", ""),
        ("downloadSeries", "false"),
        ("addSeries", "false"),
        ("addUser", "false"),
    ];
    let edited = s.patch_album(a, &album, &fields).assert_status(200).json();
    assert_eq!(edited["description"], "New description");
    assert_eq!(edited["download_series"], false);
    assert_eq!(edited["add_series"], false);
    assert_eq!(edited["add_user"], false);
    assert_eq!(edited["delete_series"], true);

    // Validation as for creation; a refused edit changes nothing.
    let current = s.album_json(a, &album);
    let bad = |fields: &[(&str, &str)], detail: &str| {
        s.patch_album(a, &album, fields).assert_bad_form(detail);
    };
    bad(&[("name", "   ")], "Param 'name' can not be empty");
    bad(
        &[("name", &"n".repeat(256))],
        "Param 'name' is too long max expected: 255 characters but got :256",
    );
    bad(
        &[("description", &"d".repeat(2049))],
        "Param 'description' is too long max expected: 2048 characters but got :2049",
    );
    for (param, _, _) in FLAGS {
        bad(
            &[(param, "yes")],
            &format!("Param '{param}' must be 'true' or 'false'"),
        );
    }
    assert_eq!(s.album_json(a, &album), current);

    // A second admin may edit too.
    s.put_admin(a, &album, &w.bob_id).assert_no_content();
    let resp = s.patch_album(&w.bob, &album, &[("name", "Bob's now")]);
    assert_eq!(resp.assert_status(200).json()["name"], "Bob's now");
    let stored: String = albums::table
        .filter(albums::id.eq(&album))
        .select(albums::name)
        .first(&mut *db.conn())
        .unwrap();
    assert_eq!(stored, "Bob's now");
}

// ---------------------------------------------------------------------------------------
// 4.3, 4.4: DELETE /albums/{album}.

#[test]
fn delete_album_is_for_admins_and_removes_its_tokens() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Doomed");
    let other = s.new_album(a, "Kept");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    s.put_member(a, &album, &w.carol_id).assert_status(201);
    s.put_admin(a, &album, &w.carol_id).assert_no_content();
    let cap_a = s.album_cap(a, &album, "t");
    let cap_c = s.album_cap(&w.carol, &album, "t");
    let cap_k = s.album_cap(a, &other, "t");
    let cap_u = s.user_cap(a, "t");
    assert!(s.active(&cap_a.secret));
    assert!(s.active(&cap_c.secret));

    // A plain member, a non-member, unknown and malformed ids.
    s.delete_album(&w.bob, &album).assert_forbidden(ON_ALBUM);
    s.delete_album(&w.dave, &album).assert_album_not_found();
    s.delete_album(a, "AAAAAAAAAA").assert_album_not_found();
    s.delete_album(a, "nope").assert_album_not_found();
    assert_eq!(s.album_json(&w.bob, &album)["number_of_users"], 3);

    // The admin deletes it: 204, then it is unknown to everyone.
    s.delete_album(a, &album).assert_no_content();
    s.album(a, &album).assert_album_not_found();
    s.album(&w.bob, &album).assert_album_not_found();
    s.delete_album(a, &album).assert_album_not_found();
    s.put_member(a, &album, &w.dave_id).assert_album_not_found();
    assert!(s.get_as(&w.bob, "/albums").assert_list(0).is_empty());
    assert_eq!(
        ids(&s.get_as(a, "/albums").assert_list(1)),
        [other.as_str()]
    );

    // Its tokens are removed, not revoked: unknown everywhere (of both creators).
    for cap in [&cap_a, &cap_c] {
        assert!(!s.active(&cap.secret));
        s.get_cap(a, &cap.id).assert_cap_not_found();
        s.get_cap(&w.carol, &cap.id).assert_cap_not_found();
        s.album(&cap.secret, &album).assert_unauthorized(NOT_VALID);
        assert_eq!(db.capability_rows(&cap.id), 0);
    }
    // Tokens of other albums and user-scope tokens stay.
    assert!(s.active(&cap_k.secret));
    assert!(s.active(&cap_u.secret));
    s.get_cap(a, &cap_k.id).assert_status(200);
    assert_eq!(s.get_cap(a, &cap_u.id).json()["revoked"], false);
    // Stored state: no album row, no memberships.
    assert_eq!(db.album_rows(&album), 0);
    assert!(db.memberships(&album).is_empty());
    assert_eq!(db.album_rows(&other), 1);
}

// ---------------------------------------------------------------------------------------
// 4.2, 4.3: GET /albums/{album}/users.

#[test]
fn members_are_listed_by_email_with_user_objects() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let album = s.new_album(&w.carol, "Carol's");
    // Added in another order than the emails sort.
    for user in [&w.dave_id, &w.bob_id, &w.alice_id] {
        s.put_member(&w.carol, &album, user).assert_status(201);
    }
    s.put_admin(&w.carol, &album, &w.dave_id)
        .assert_no_content();

    let all = [
        w.member("alice", false),
        w.member("bob", false),
        w.member("carol", true),
        w.member("dave", true),
    ];
    let path = format!("/albums/{album}/users");
    for token in [&w.alice, &w.bob, &w.carol, &w.dave] {
        assert_eq!(s.get_as(token, &path).assert_list(4), all);
    }
    // limit/offset as for GET /albums.
    let page = |query: &str| s.get_as(&w.bob, &format!("{path}?{query}")).assert_list(4);
    assert_eq!(page("limit=2&offset=1"), all[1..3]);
    assert_eq!(page("offset=3"), all[3..]);
    assert_eq!(page("limit=1"), all[..1]);
    assert!(page("offset=9").is_empty());
    for (query, param) in [
        ("limit=-1", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
    ] {
        s.get_as(&w.bob, &format!("{path}?{query}"))
            .assert_bad_query(&format!("Param '{param}' must be a non-negative integer"));
    }

    // Non-members and unknown albums.
    s.get_as(&w.admin, &path).assert_album_not_found();
    for id in ["AAAAAAAAAA", "bad"] {
        s.get_as(&w.alice, &format!("/albums/{id}/users"))
            .assert_album_not_found();
    }
}

// ---------------------------------------------------------------------------------------
// 4.3: PUT /albums/{album}/users/{user}.

#[test]
fn adding_members_by_sub_or_email() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let bobs = s.new_album(&w.bob, "Bob's");
    let pairs = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
        list.iter()
            .map(|(e, b)| (format!("{e}@test.com"), *b))
            .collect()
    };

    // By sub: 201; last_event_time moves on.
    let t0 = parse_time(&s.album_json(a, &album)["last_event_time"]);
    pause();
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    let after = s.album_json(a, &album);
    assert!(parse_time(&after["last_event_time"]) > t0, "{after}");
    assert_eq!(after["number_of_users"], 2);
    assert_eq!(s.album_json(&w.bob, &album)["is_admin"], false);

    // By email: case-insensitive, trimmed.
    s.put_member(a, &album, "CAROL@Test.COM").assert_status(201);
    s.put_member(a, &album, "%20dave@test.com%20")
        .assert_status(201);
    let expected = [
        ("alice", true),
        ("bob", false),
        ("carol", false),
        ("dave", false),
    ];
    assert_eq!(s.members_of(a, &album), pairs(&expected));

    // Already a member: 201 and nothing changes (an admin stays admin).
    s.put_admin(a, &album, &w.carol_id).assert_no_content();
    let snapshot = s.members_of(a, &album);
    for user in [w.bob_id.as_str(), "bob@test.com", &w.carol_id] {
        s.put_member(a, &album, user).assert_status(201);
    }
    assert_eq!(s.members_of(a, &album), snapshot);
    assert_eq!(s.album_json(a, &album)["number_of_users"], 4);

    // Adding yourself: by sub or by email, admin or not.
    s.put_member(a, &album, &w.alice_id)
        .assert_forbidden(ADD_YOURSELF);
    s.put_member(a, &album, "Alice@Test.com")
        .assert_forbidden(ADD_YOURSELF);
    s.put_member(&w.carol, &album, &w.carol_id)
        .assert_forbidden(ADD_YOURSELF);

    // Unknown users; a sub is matched exactly.
    for user in [
        "nobody",
        "00000000-0000-4000-8000-000000000000",
        "nobody@test.com",
        "%25@test.com",
        "alice@test.co",
        &w.bob_id.to_ascii_uppercase(),
    ] {
        s.put_member(a, &album, user).assert_user_unknown();
    }

    // A plain member may add only when add_user is true.
    s.put_member(&w.bob, &album, ADMIN_EMAIL)
        .assert_forbidden(ON_ALBUM);
    assert_eq!(s.album_json(a, &album)["number_of_users"], 4);
    s.patch_album(a, &album, &[("addUser", "true")])
        .assert_status(200);
    s.put_member(&w.bob, &album, ADMIN_EMAIL).assert_status(201);
    let added = s.album_json(&w.admin, &album);
    assert_eq!(added["is_admin"], false);
    assert_eq!(added["number_of_users"], 5);
    s.put_member(&w.bob, &album, &w.bob_id)
        .assert_forbidden(ADD_YOURSELF);
    // Even with add_user, a member cannot reach an album they are not in.
    for id in [bobs.as_str(), "AAAAAAAAAA", "bad"] {
        s.put_member(a, id, &w.carol_id).assert_album_not_found();
    }

    // Stored memberships (the bootstrap admin's id is `admin`).
    let expected = [
        (w.alice_id.as_str(), true),
        (&w.bob_id, false),
        (&w.carol_id, true),
        (&w.dave_id, false),
        ("admin", false),
    ];
    assert_eq!(db.memberships(&album), rows(&expected));
    assert_eq!(db.memberships(&bobs), rows(&[(&w.bob_id, true)]));
}

// ---------------------------------------------------------------------------------------
// 4.3, 4.4: DELETE /albums/{album}/users/{user}.

#[test]
fn removing_members_leaving_and_the_last_one_out() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    for user in [&w.bob_id, &w.carol_id, &w.dave_id] {
        s.put_member(a, &album, user).assert_status(201);
    }

    // A plain member cannot remove someone else.
    for user in [w.carol_id.as_str(), &w.alice_id, "carol@test.com"] {
        s.del_member(&w.bob, &album, user)
            .assert_forbidden(REMOVE_OTHER);
    }
    assert_eq!(s.album_json(a, &album)["number_of_users"], 4);

    // A member may leave.
    let t0 = parse_time(&s.album_json(a, &album)["last_event_time"]);
    pause();
    s.del_member(&w.bob, &album, &w.bob_id).assert_no_content();
    s.album(&w.bob, &album).assert_album_not_found();
    let after = s.album_json(a, &album);
    assert_eq!(after["number_of_users"], 3);
    assert!(parse_time(&after["last_event_time"]) > t0);
    // Now bob is not a member: he cannot act on the album at all.
    s.del_member(&w.bob, &album, &w.bob_id)
        .assert_album_not_found();
    s.del_member(&w.bob, &album, &w.carol_id)
        .assert_album_not_found();

    // The admin removes others, by sub or by email.
    for user in [w.bob_id.as_str(), "BOB@test.com"] {
        let resp = s.del_member(a, &album, user);
        resp.assert_kheops_error(404, "User Not Found", NOT_MEMBER);
    }
    for user in ["nobody", "nobody@test.com"] {
        s.del_member(a, &album, user).assert_user_unknown();
    }
    s.del_member(a, &album, "Carol@Test.com")
        .assert_no_content();
    s.album(&w.carol, &album).assert_album_not_found();
    let expected = rows(&[(&w.alice_id, true), (&w.dave_id, false)]);
    assert_eq!(db.memberships(&album), expected);

    // The last admin leaves: the album stays, without an admin, for its other member.
    let cap = s.album_cap(a, &album, "t");
    s.del_member(a, &album, &w.alice_id).assert_no_content();
    let left = s.album_json(&w.dave, &album);
    assert_eq!(left["number_of_users"], 1);
    assert_eq!(left["is_admin"], false);
    assert_eq!(db.memberships(&album), rows(&[(&w.dave_id, false)]));
    assert!(!s.active(&cap.secret));
    assert_eq!(s.get_cap(a, &cap.id).json()["revoked"], true);
    // Dave cannot edit (no admin left), but may leave: the album is then deleted.
    s.patch_album(&w.dave, &album, &[("name", "x")])
        .assert_forbidden(PATCH_ADMIN);
    s.del_member(&w.dave, &album, "dave@test.com")
        .assert_no_content();
    assert_eq!(db.album_rows(&album), 0);
    assert!(db.memberships(&album).is_empty());
    s.get_cap(a, &cap.id).assert_cap_not_found();
    assert_eq!(db.capability_rows(&cap.id), 0);
    s.album(&w.dave, &album).assert_album_not_found();

    // A sole admin leaving deletes the album and its tokens at once.
    let solo = s.new_album(&w.carol, "Solo");
    let solo_cap = s.album_cap(&w.carol, &solo, "t");
    let user_cap = s.user_cap(&w.carol, "t");
    assert!(s.active(&solo_cap.secret));
    s.del_member(&w.carol, &solo, &w.carol_id)
        .assert_no_content();
    s.album(&w.carol, &solo).assert_album_not_found();
    assert_eq!(db.album_rows(&solo), 0);
    assert!(!s.active(&solo_cap.secret));
    s.get_cap(&w.carol, &solo_cap.id).assert_cap_not_found();
    assert_eq!(db.capability_rows(&solo_cap.id), 0);
    s.album(&solo_cap.secret, &solo)
        .assert_unauthorized(NOT_VALID);
    // Her user-scope token is untouched.
    assert!(s.active(&user_cap.secret));
    assert_eq!(db.capability_rows(&user_cap.id), 1);
    s.get_as(&w.carol, "/albums").assert_list(0);
}

// ---------------------------------------------------------------------------------------
// 4.3: PUT and DELETE /albums/{album}/users/{user}/admin.

#[test]
fn granting_and_revoking_the_admin_role() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    let roles = |expected: &[(&str, bool)]| {
        let expected: Vec<(String, bool)> = expected
            .iter()
            .map(|(e, b)| (format!("{e}@test.com"), *b))
            .collect();
        assert_eq!(s.members_of(a, &album), expected);
    };

    // Plain members cannot grant or revoke.
    s.put_admin(&w.bob, &album, &w.carol_id)
        .assert_forbidden(ON_ALBUM);
    s.put_admin(&w.bob, &album, &w.bob_id)
        .assert_forbidden(ON_ALBUM);
    s.del_admin(&w.bob, &album, &w.alice_id)
        .assert_forbidden(ON_ALBUM);
    s.del_admin(&w.bob, &album, &w.bob_id)
        .assert_forbidden(ON_ALBUM);
    s.put_admin(&w.carol, &album, &w.bob_id)
        .assert_album_not_found();
    s.del_admin(&w.carol, &album, &w.alice_id)
        .assert_album_not_found();
    s.put_admin(a, "AAAAAAAAAA", &w.bob_id)
        .assert_album_not_found();
    s.del_admin(a, "nope", &w.bob_id).assert_album_not_found();
    roles(&[("alice", true), ("bob", false)]);

    // Promote a member; again is still 204.
    let t0 = parse_time(&s.album_json(a, &album)["last_event_time"]);
    pause();
    s.put_admin(a, &album, &w.bob_id).assert_no_content();
    assert!(parse_time(&s.album_json(a, &album)["last_event_time"]) > t0);
    s.put_admin(a, &album, "BOB@test.com").assert_no_content();
    assert_eq!(s.album_json(&w.bob, &album)["is_admin"], true);
    // A non-member is added as an admin.
    s.put_admin(a, &album, "carol@test.com").assert_no_content();
    let as_carol = s.album_json(&w.carol, &album);
    assert_eq!(as_carol["is_admin"], true);
    assert_eq!(as_carol["number_of_users"], 3);
    // The new admin can grant too.
    s.put_admin(&w.carol, &album, &w.dave_id)
        .assert_no_content();
    roles(&[
        ("alice", true),
        ("bob", true),
        ("carol", true),
        ("dave", true),
    ]);
    // Yourself; unknown users.
    s.put_admin(a, &album, &w.alice_id)
        .assert_forbidden(ADD_YOURSELF);
    s.put_admin(a, &album, "alice@TEST.com")
        .assert_forbidden(ADD_YOURSELF);
    for user in ["nobody", "nobody@test.com"] {
        s.put_admin(a, &album, user).assert_user_unknown();
        s.del_admin(a, &album, user).assert_user_unknown();
    }

    // Demote: 204, also when not (or no longer) an admin; the member stays.
    s.del_admin(a, &album, &w.dave_id).assert_no_content();
    s.del_admin(a, &album, "DAVE@test.com").assert_no_content();
    assert_eq!(s.album_json(&w.dave, &album)["is_admin"], false);
    s.put_admin(&w.dave, &album, ADMIN_EMAIL)
        .assert_forbidden(ON_ALBUM);
    // Not a member: 404.
    s.del_admin(a, &album, ADMIN_EMAIL)
        .assert_kheops_error(404, "User Not Found", NOT_MEMBER);
    // Demote bob and carol; alice demotes herself: no admin left, members stay.
    s.del_admin(a, &album, &w.bob_id).assert_no_content();
    s.del_admin(&w.carol, &album, &w.carol_id)
        .assert_no_content();
    s.del_admin(a, &album, &w.alice_id).assert_no_content();
    roles(&[
        ("alice", false),
        ("bob", false),
        ("carol", false),
        ("dave", false),
    ]);
    assert_eq!(s.album_json(a, &album)["number_of_users"], 4);
    s.put_admin(a, &album, &w.bob_id).assert_forbidden(ON_ALBUM);
    s.del_admin(a, &album, &w.alice_id)
        .assert_forbidden(ON_ALBUM);
    s.patch_album(a, &album, &[("name", "x")])
        .assert_forbidden(PATCH_ADMIN);
    assert!(db.memberships(&album).iter().all(|(_, admin)| !admin));
    assert_eq!(db.memberships(&album).len(), 4);
}

// ---------------------------------------------------------------------------------------
// 4.4: losing the admin role revokes the tokens created for that album.

#[test]
fn losing_the_admin_role_revokes_ones_own_tokens_of_that_album() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.shared_album(&w, "Shared");
    let other = s.new_album(a, "Other");

    let a0 = s.album_cap(a, &album, "t");
    let a1 = s.album_cap(a, &album, "t");
    let a2 = s.album_cap(a, &other, "t");
    let au = s.user_cap(a, "t");
    let b1 = s.album_cap(&w.bob, &album, "t");
    // a0 was already revoked by alice herself.
    let a0_before = s.revoke(a, &a0.id).assert_status(200).json();
    assert_eq!(a0_before["revoked"], true);
    s.album(&a1.secret, &album).assert_status(200);

    // Bob demotes alice.
    pause();
    s.del_admin(&w.bob, &album, &w.alice_id).assert_no_content();
    let a1_json = s.get_cap(&w.bob, &a1.id).assert_status(200).json();
    assert_eq!(a1_json["revoked"], true, "{a1_json}");
    assert_eq!(a1_json["revoked_by"], w.user("bob"), "{a1_json}");
    let revoked_at = parse_time(&a1_json["revoke_time"]);
    assert!((revoked_at - now_ms()).abs() < 10_000, "{a1_json}");
    assert_eq!(a1_json["created_by"], w.user("alice"));
    // The creator sees the same.
    assert_eq!(s.get_cap(a, &a1.id).json(), a1_json);
    // The token stops working.
    s.album(&a1.secret, &album).assert_unauthorized(NOT_VALID);
    assert!(!s.active(&a1.secret));
    assert_eq!(db.revocation(&a1.id), (true, Some(w.bob_id.clone())));
    // The already revoked one keeps its first revocation.
    let a0_after = s.get_cap(&w.bob, &a0.id).json();
    assert_eq!(a0_after["revoked_by"], w.user("alice"));
    assert_eq!(a0_after["revoke_time"], a0_before["revoke_time"]);
    assert_eq!(db.revocation(&a0.id), (true, Some(w.alice_id.clone())));
    assert!(!s.active(&a0.secret));
    // Other admins' tokens, other albums, user scope: untouched.
    for (creator, cap) in [(&w.bob, &b1), (a, &a2), (a, &au)] {
        assert!(s.active(&cap.secret));
        assert_eq!(s.get_cap(creator, &cap.id).json()["revoked"], false);
    }
    assert_eq!(db.revocation(&b1.id), (false, None));
    // Alice is still a member.
    assert_eq!(s.album_json(a, &album)["is_admin"], false);

    // Promoted again, she creates a3; bob removes her: a3 is revoked by bob.
    s.put_admin(&w.bob, &album, &w.alice_id).assert_no_content();
    let a3 = s.album_cap(a, &album, "t");
    s.album(&a3.secret, &album).assert_status(200);
    // a1 stays revoked even though alice is admin again.
    s.album(&a1.secret, &album).assert_unauthorized(NOT_VALID);
    s.del_member(&w.bob, &album, &w.alice_id)
        .assert_no_content();
    let a3_json = s.get_cap(&w.bob, &a3.id).json();
    assert_eq!(a3_json["revoked"], true, "{a3_json}");
    assert_eq!(a3_json["revoked_by"], w.user("bob"), "{a3_json}");
    s.album(&a3.secret, &album).assert_unauthorized(NOT_VALID);
    assert!(s.active(&a2.secret));
    assert!(s.active(&b1.secret));

    // Bob creates b2 and leaves (carol stays): his tokens are revoked by himself.
    let b2 = s.album_cap(&w.bob, &album, "t");
    s.del_member(&w.bob, &album, &w.bob_id).assert_no_content();
    for cap in [&b1, &b2] {
        let json = s.get_cap(&w.bob, &cap.id).json();
        assert_eq!(json["revoked"], true, "{json}");
        assert_eq!(json["revoked_by"], w.user("bob"), "{json}");
        assert!(!s.active(&cap.secret));
        assert_eq!(db.revocation(&cap.id), (true, Some(w.bob_id.clone())));
    }
    assert_eq!(s.album_json(&w.carol, &album)["number_of_users"], 1);

    // A self-demotion revokes one's own tokens too, with oneself as revoker.
    s.put_member(a, &other, &w.dave_id).assert_status(201);
    s.del_admin(a, &other, &w.alice_id).assert_no_content();
    let a2_json = s.get_cap(a, &a2.id).json();
    assert_eq!(a2_json["revoked"], true, "{a2_json}");
    assert_eq!(a2_json["revoked_by"], w.user("alice"), "{a2_json}");
    s.album(&a2.secret, &other).assert_unauthorized(NOT_VALID);
    assert!(s.active(&au.secret));
}

// ---------------------------------------------------------------------------------------
// 5.9: capability secrets on album endpoints.

#[test]
fn album_scope_secrets_read_only_their_own_album() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Shared");
    let other = s.new_album(a, "Other");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    s.patch_album(a, &album, &[("description", "Some text")])
        .assert_status(200);
    let read = s.album_cap(a, &album, "t").secret;
    let album_scope = [("scope_type", "album"), ("album", album.as_str())];
    let write = [("title", "w"), ("write_permission", "true")];
    let write_only = s.new_cap(a, &[&album_scope[..], &write].concat()).secret;
    let nothing = s
        .new_cap(a, &[&album_scope[..], &[("title", "n")]].concat())
        .secret;
    let full = s.album_json(a, &album);
    let reduced =
        json!({"album_id": album, "id": album, "name": "Shared", "description": "Some text"});

    // GET /albums/X with read: the reduced form, as Bearer or as the Basic password.
    let path = format!("/albums/{album}");
    for resp in [
        s.album(&read, &album),
        s.request("GET", &path).basic("anyone", &read).send(),
        s.request("GET", &path)
            .header("Authorization", &format!("bearer   {read} "))
            .send(),
        s.get_as(&read, &format!("{path}?includeUsers=false")),
    ] {
        assert_eq!(resp.assert_status(200).json(), reduced);
    }
    // The reduced form follows the album.
    s.patch_album(a, &album, &[("name", "Renamed")])
        .assert_status(200);
    assert_eq!(s.album(&read, &album).json()["name"], "Renamed");

    // Without read_permission: 403.
    for secret in [&write_only, &nothing] {
        s.album(secret, &album).assert_forbidden(ON_ALBUM);
        s.request("GET", &path)
            .basic("x", secret)
            .send()
            .assert_forbidden(ON_ALBUM);
    }

    for secret in [&read, &write_only, &nothing] {
        // Another album, even one the creator administers: 404 first.
        for resp in [
            s.album(secret, &other),
            s.patch_album(secret, &other, &[("name", "x")]),
            s.delete_album(secret, &other),
            s.get_as(secret, &format!("/albums/{other}/users")),
            s.put_member(secret, &other, &w.carol_id),
            s.del_member(secret, &other, &w.alice_id),
            s.put_admin(secret, &other, &w.carol_id),
            s.del_admin(secret, &other, &w.alice_id),
            s.album(secret, "AAAAAAAAAA"),
            s.album(secret, "bad"),
        ] {
            resp.assert_album_not_found();
        }
        // PATCH and DELETE on its own album: 403 "on this album".
        s.patch_album(secret, &album, &[("name", "Hacked")])
            .assert_forbidden(ON_ALBUM);
        s.patch_album(secret, &album, &[("addUser", "true")])
            .assert_forbidden(ON_ALBUM);
        s.delete_album(secret, &album).assert_forbidden(ON_ALBUM);
        // User endpoints: 403 "this type of token", also as a Basic password.
        for resp in [
            s.get_as(secret, "/albums"),
            s.get_as(secret, "/albums?canCreateCapabilityToken=true"),
            s.post_album(secret, &[("name", "Mine")]),
            s.get_as(secret, &format!("/albums/{album}/users")),
            s.put_member(secret, &album, &w.carol_id),
            s.del_member(secret, &album, &w.bob_id),
            s.del_member(secret, &album, &w.alice_id),
            s.put_admin(secret, &album, &w.bob_id),
            s.del_admin(secret, &album, &w.alice_id),
            s.request("GET", "/albums").basic("u", secret).send(),
        ] {
            resp.assert_forbidden(TOKEN_TYPE);
        }
    }
    s.get_as(&read, &format!("{path}?includeUsers=true"))
        .assert_forbidden(TOKEN_TYPE);

    // Nothing changed.
    let mut now = s.album_json(a, &album);
    assert_eq!(now["name"], "Renamed");
    now["name"] = full["name"].clone();
    now["last_event_time"] = full["last_event_time"].clone();
    assert_eq!(now, full);
    let expected = rows(&[(&w.alice_id, true), (&w.bob_id, false)]);
    assert_eq!(db.memberships(&album), expected);
    assert_eq!(db.album_rows(&other), 1);
    assert_eq!(s.get_as(a, "/albums").assert_list(2).len(), 2);
}

#[test]
fn user_scope_secrets_act_as_their_creator() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let secret = s.user_cap(a, "t").secret;
    let bobs = s.new_album(&w.bob, "Bob's");
    s.put_member(&w.bob, &bobs, &w.alice_id).assert_status(201);
    let carols = s.new_album(&w.carol, "Carol's");

    // Create an album with the secret: alice is its admin.
    let created = s
        .post_album(&secret, &[("name", "Via token")])
        .assert_status(201)
        .json();
    assert_album_shape(&created);
    assert_eq!(created["is_admin"], true);
    assert_eq!(created["number_of_users"], 1);
    let album = string_field(&created, "id");
    assert_eq!(db.memberships(&album), rows(&[(&w.alice_id, true)]));
    assert_eq!(s.album_json(a, &album), created);

    // Lists and reads are alice's.
    assert_eq!(
        s.get_as(&secret, "/albums").body,
        s.get_as(a, "/albums").body
    );
    let items = s.get_as(&secret, "/albums?sort=name").assert_list(2);
    assert_eq!(ids(&items), [bobs.as_str(), album.as_str()]);
    s.get_as(&secret, "/albums?canCreateCapabilityToken=true")
        .assert_list(1);
    assert_eq!(s.album(&secret, &bobs).json(), s.album_json(a, &bobs));
    let with_users = format!("/albums/{bobs}?includeUsers=true");
    assert_eq!(
        s.get_as(&secret, &with_users).json(),
        s.get_as(a, &with_users).assert_status(200).json()
    );
    s.album(&secret, &carols).assert_album_not_found();

    // Full rights as alice, and only alice's: admin on hers, plain member on bob's.
    let resp = s.patch_album(&secret, &album, &[("description", "edited")]);
    assert_eq!(resp.assert_status(200).json()["description"], "edited");
    s.patch_album(&secret, &bobs, &[("name", "x")])
        .assert_forbidden(PATCH_ADMIN);
    s.put_member(&secret, &bobs, &w.carol_id)
        .assert_forbidden(ON_ALBUM);
    s.del_member(&secret, &bobs, &w.bob_id)
        .assert_forbidden(REMOVE_OTHER);
    s.put_admin(&secret, &bobs, &w.carol_id)
        .assert_forbidden(ON_ALBUM);
    s.put_member(&secret, &album, &w.bob_id).assert_status(201);
    s.put_member(&secret, &album, "carol@test.com")
        .assert_status(201);
    s.put_member(&secret, &album, &w.alice_id)
        .assert_forbidden(ADD_YOURSELF);
    s.put_admin(&secret, &album, &w.bob_id).assert_no_content();
    s.del_admin(&secret, &album, &w.bob_id).assert_no_content();
    s.del_member(&secret, &album, &w.carol_id)
        .assert_no_content();
    let users = s
        .get_as(&secret, &format!("/albums/{album}/users"))
        .assert_list(2);
    assert_eq!(users, [w.member("alice", true), w.member("bob", false)]);
    // The same secret as a Basic password.
    let resp = s
        .request("GET", &format!("/albums/{album}"))
        .basic("whatever", &secret)
        .send();
    assert_eq!(resp.assert_status(200).json()["is_admin"], true);
    let resp = s
        .request("POST", "/albums")
        .basic("x", &secret)
        .form(&[("name", "Basic made")])
        .send();
    let basic_made = string_field(&resp.assert_status(201).json(), "id");
    assert_eq!(db.memberships(&basic_made), rows(&[(&w.alice_id, true)]));

    // Leaving and deleting as alice.
    s.del_member(&secret, &bobs, &w.alice_id)
        .assert_no_content();
    s.album(a, &bobs).assert_album_not_found();
    s.delete_album(&secret, &album).assert_no_content();
    s.album(&w.bob, &album).assert_album_not_found();
    assert_eq!(db.album_rows(&album), 0);
    let left = s.get_as(&secret, "/albums").assert_list(1);
    assert_eq!(ids(&left), [basic_made]);
}

// ---------------------------------------------------------------------------------------
// 1.2: an oversized form.

#[test]
fn an_oversized_form_is_refused_in_the_kheops_body_and_stores_nothing() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let mut body = b"name=big&description=".to_vec();
    body.resize(1024 * 1024 + 1, b'x');
    s.request("POST", "/albums")
        .bearer(&w.alice)
        .header("Content-Type", FORM)
        .raw(body)
        .send()
        .assert_kheops_error(413, "Payload Too Large", "Request body too large");
    assert_eq!(db.all_albums(), 0, "no album was stored");
}

// ---------------------------------------------------------------------------------------
// 4.4: deleting a user through the Keyrock-compatible API.

#[test]
fn deleting_a_user_cleans_up_memberships_and_tokens() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let solo = s.new_album(a, "Alice alone");
    let shared = s.shared_album(&w, "Shared");
    let bobs = s.new_album(&w.bob, "Bob's");
    s.put_member(&w.bob, &bobs, &w.alice_id).assert_status(201);

    let alices = [
        s.album_cap(a, &solo, "t"),
        s.album_cap(a, &shared, "t"),
        s.user_cap(a, "t"),
    ];
    let b_shared = s.album_cap(&w.bob, &shared, "t");
    let b_kept = s.album_cap(&w.bob, &shared, "t");
    let b_user = s.user_cap(&w.bob, "t");
    // Alice (admin of the album) revokes one of bob's tokens.
    let revoked_before = s.revoke(a, &b_shared.id).assert_status(200).json();
    assert_eq!(revoked_before["revoked_by"]["sub"], w.alice_id.as_str());
    let by_alice = (true, Some(w.alice_id.clone()));
    assert_eq!(db.revocation(&b_shared.id), by_alice);
    assert_eq!(db.memberships_of_user(&w.alice_id), 3);

    s.request("DELETE", &format!("/v1/users/{}", w.alice_id))
        .token(&w.admin)
        .send()
        .assert_status(204);

    // Memberships are gone; the album she was alone in is deleted.
    assert_eq!(db.memberships_of_user(&w.alice_id), 0);
    assert_eq!(db.album_rows(&solo), 0);
    assert!(db.memberships(&solo).is_empty());
    assert_eq!(s.album_json(&w.bob, &shared)["number_of_users"], 2);
    let members = s.members_of(&w.bob, &shared);
    let expected = [
        ("bob@test.com".to_owned(), true),
        ("carol@test.com".to_owned(), false),
    ];
    assert_eq!(members, expected);
    assert_eq!(s.album_json(&w.bob, &bobs)["number_of_users"], 1);
    assert_eq!(db.memberships(&bobs), rows(&[(&w.bob_id, true)]));

    // Her tokens are deleted: unknown everywhere.
    for cap in &alices {
        assert!(!s.active(&cap.secret));
        assert_eq!(db.capability_rows(&cap.id), 0);
        s.get_cap(&w.bob, &cap.id).assert_cap_not_found();
        s.get_as(&cap.secret, "/albums")
            .assert_unauthorized(NOT_VALID);
    }
    // Her credential is no longer valid.
    s.get_as(a, "/albums").assert_unauthorized(NOT_VALID);

    // The token she revoked stays revoked, without revoked_by.
    let revoked_after = s.get_cap(&w.bob, &b_shared.id).assert_status(200).json();
    assert_eq!(revoked_after["revoked"], true, "{revoked_after}");
    assert_eq!(revoked_after["revoke_time"], revoked_before["revoke_time"]);
    assert!(revoked_after.get("revoked_by").is_none(), "{revoked_after}");
    assert!(!s.active(&b_shared.secret));
    assert_eq!(db.revocation(&b_shared.id), (true, None));
    s.album(&b_shared.secret, &shared)
        .assert_unauthorized(NOT_VALID);
    // Bob's other tokens are untouched.
    assert!(s.active(&b_kept.secret));
    assert!(s.active(&b_user.secret));
    assert_eq!(db.revocation(&b_kept.id), (false, None));
    assert_eq!(s.get_cap(&w.bob, &b_user.id).json()["revoked"], false);
    s.album(&b_kept.secret, &shared).assert_status(200);
    // Carol's membership is untouched.
    assert_eq!(s.album_json(&w.carol, &shared)["is_admin"], false);
}
