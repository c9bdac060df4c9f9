//! Every KHEOPS route at once, as the server's own `/openapi.json` lists them (kheops.md
//! 1.1, 1.2), so that a new route is covered as soon as it is documented: Content-Type and
//! Accept decided before authentication (415, 406), and the `/api` mount answering exactly
//! what the root mount answers. Then what negotiation lets through, and whole flows run
//! under `/api`.

use serde_json::Value;
use tessera_tests::kheops::*;
use tessera_tests::routes::{kheops_operations, Operation};
use tessera_tests::time::parse_time;
use tessera_tests::{json, keys, sorted, string_field, Resp, Server, TestDb, World};

/// alice administers an album where bob is a plain member; she holds an album token
/// (read) and a user token; dave belongs to nothing.
struct Fixture {
    w: World,
    album: String,
    cap: Cap,
}

impl Fixture {
    fn new(s: &Server) -> Fixture {
        let w = World::new(s);
        let album = s.new_album(&w.alice, "Album");
        s.put_member(&w.alice, &album, &w.bob_id).assert_status(201);
        let cap = s.album_cap(&w.alice, &album, "viewer");
        s.user_cap(&w.alice, "script");
        Fixture { w, album, cap }
    }

    /// The path of `op` on real rows: the album, alice's album token, dave (no member).
    fn fill(&self, op: &Operation) -> String {
        op.fill(|name| match name {
            "album_id" => self.album.clone(),
            "capability_id" => self.cap.id.clone(),
            "user" => self.w.dave_id.clone(),
            other => panic!("{}: unknown placeholder {other}", op.name()),
        })
    }

    /// The path of `op` naming rows that do not exist.
    fn fill_unknown(&self, op: &Operation) -> String {
        op.fill(|name| match name {
            "album_id" => "AAAAAAAAAA".to_owned(),
            "capability_id" => "NoSuchCap0".to_owned(),
            _ => "nobody@test.com".to_owned(),
        })
    }

    /// What the route tables must leave as it was (last_used aside: uses are counted).
    fn state(&self, s: &Server, db: &TestDb) -> (Value, Vec<(String, bool)>, i64, Vec<Value>) {
        let caps = s.list_caps(&self.w.alice, "").assert_list(2);
        let caps = caps
            .into_iter()
            .map(|mut c| {
                c.as_object_mut().unwrap().remove("last_used");
                c
            })
            .collect();
        let album = s.album_json(&self.w.alice, &self.album);
        (album, db.memberships(&self.album), db.all_albums(), caps)
    }
}

/// A request with optional credential, Content-Type and Accept, and a raw body.
fn send(
    s: &Server,
    method: &str,
    path: &str,
    credential: Option<&str>,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &[u8],
) -> Resp {
    let mut req = s.request(method, path).raw(body.to_vec());
    if let Some(c) = credential {
        req = req.bearer(c);
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    req.send()
}

#[test]
fn every_route_decides_415_and_406_before_authentication() {
    let (s, db) = Server::start();
    let f = Fixture::new(&s);
    let ops = kheops_operations(&s);
    // 15 routes (kheops.md 7), each at the root and under /api.
    assert!(
        ops.len() >= 30,
        "{} KHEOPS operations documented",
        ops.len()
    );
    // The routes that take a form are those of 1.2 (the document may add more).
    for (method, path) in [
        ("POST", "/capabilities"),
        ("POST", "/albums"),
        ("PATCH", "/albums/{album_id}"),
        ("POST", "/token/introspect"),
    ] {
        for prefix in ["", "/api"] {
            let path = format!("{prefix}{path}");
            let op = ops.iter().find(|o| o.method == method && o.path == path);
            assert!(op.is_some_and(Operation::takes_form), "{method} {path}");
        }
    }
    let before = f.state(&s, &db);
    // A form every form route would act on, were it let through (the state is compared
    // at the end).
    let form = b"name=x&title=t&scope_type=user&token=x".as_slice();
    let credentials = [None, Some(f.w.alice.as_str()), Some("nope")];
    for op in &ops {
        let (name, path) = (op.name(), f.fill(op));
        let ask = |credential, content_type, accept, body| {
            send(
                &s,
                &op.method,
                &path,
                credential,
                content_type,
                accept,
                body,
            )
        };
        let unsupported = |resp: Resp, case: &str| {
            assert_eq!(resp.status, 415, "{name} {case}: {}", resp.body);
            resp.assert_kheops_error(415, "Unsupported Media Type", UNSUPPORTED);
        };
        let not_acceptable = |resp: Resp, case: &str| {
            assert_eq!(resp.status, 406, "{name} {case}: {}", resp.body);
            resp.assert_kheops_error(406, "Not Acceptable", NOT_ACCEPTABLE);
        };
        for credential in credentials {
            let case = |what: &str| format!("{what}, credential {credential:?}");
            // Content-Type: a form route needs the form type; a bodiless route takes none
            // or the form type; GET ignores it.
            let refused: Vec<(Option<&str>, &[u8])> = if op.takes_form() {
                vec![
                    (Some("application/json"), b"{\"name\":\"x\"}"),
                    (Some("text/plain"), form),
                    (Some("multipart/form-data; boundary=x"), b"--x--"),
                    (None, form),
                    (None, b""),
                ]
            } else if op.method != "GET" {
                vec![(Some("text/plain"), b""), (Some("application/json"), b"")]
            } else {
                vec![]
            };
            for (content_type, body) in refused {
                unsupported(
                    ask(credential, content_type, None, body),
                    &case(&format!("{content_type:?}")),
                );
                // 415 comes before 406.
                unsupported(
                    ask(credential, content_type, Some("text/html"), body),
                    &case("and Accept"),
                );
            }
            // Accept must admit JSON where the answer is JSON.
            if op.answers_json() {
                let content_type = op.takes_form().then_some(FORM);
                let body = if op.takes_form() { form } else { b"" };
                for accept in [
                    "text/html",
                    "application/json;q=0",
                    "application/xml, text/*",
                    "image/png",
                ] {
                    let resp = ask(credential, content_type, Some(accept), body);
                    not_acceptable(resp, &case(accept));
                }
            }
        }
        // What negotiation lets through reaches authentication: GET ignores Content-Type;
        // a route that answers no JSON ignores Accept.
        if op.method == "GET" {
            ask(None, Some("text/plain"), None, b"").assert_unauthorized(MALFORMED);
        }
        if !op.answers_json() {
            ask(None, None, Some("text/html"), b"").assert_unauthorized(MALFORMED);
        }
    }
    assert_eq!(
        f.state(&s, &db),
        before,
        "a refused request changed something"
    );
}

#[test]
fn what_negotiation_accepts() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let album = s.new_album(a, "Album");
    let typed = |method: &str, path: &str, content_type: &str, body: &[u8]| {
        send(&s, method, path, Some(a), Some(content_type), None, body)
    };
    let album_path = format!("/albums/{album}");

    // The form type, case-insensitive, with parameters.
    for content_type in [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=utf-8",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "Application/X-Www-Form-Urlencoded; Charset=UTF-8",
    ] {
        let resp = typed("POST", "/albums", content_type, b"name=Typed+album");
        assert_eq!(
            resp.assert_status(201).json()["name"],
            "Typed album",
            "{content_type}"
        );
        let resp = typed("PATCH", &album_path, content_type, b"description=a+b%2Bc");
        assert_eq!(
            resp.assert_status(200).json()["description"],
            "a b+c",
            "{content_type}"
        );
        typed(
            "POST",
            "/capabilities",
            content_type,
            b"title=t&scope_type=user",
        )
        .assert_status(201);
    }
    // Bodiless routes: no Content-Type, or the form type with an empty body.
    let member = |user: &str| format!("/albums/{album}/users/{user}");
    s.put_member(a, &album, &w.bob_id).assert_status(201);
    typed("PUT", &member(&w.carol_id), FORM, b"").assert_status(201);
    let admin = format!("{}/admin", member(&w.carol_id));
    typed("PUT", &admin, FORM, b"").assert_no_content();
    typed(
        "DELETE",
        &admin,
        "application/x-www-form-urlencoded; charset=UTF-8",
        b"",
    )
    .assert_no_content();
    typed("DELETE", &member(&w.carol_id), FORM, b"").assert_no_content();
    s.del_member(a, &album, &w.bob_id).assert_no_content();
    assert_eq!(db.memberships(&album), rows(&[(&w.alice_id, true)]));
    // Revoke: none, the form type, or a form body.
    let caps: Vec<Cap> = (0..3).map(|_| s.user_cap(a, "t")).collect();
    let revoke = |cap: &Cap| format!("/capabilities/{}/revoke", cap.id);
    for resp in [
        s.revoke(a, &caps[0].id),
        typed("POST", &revoke(&caps[1]), FORM, b"ignored=x"),
        typed("POST", &revoke(&caps[2]), FORM, b""),
    ] {
        assert_eq!(resp.assert_status(200).json()["revoked"], true);
    }

    // GET ignores Content-Type.
    typed("GET", "/albums", "text/plain", b"").assert_list(5);
    typed("GET", &album_path, "application/json", b"").assert_status(200);

    // Accept values that admit JSON.
    for accept in [
        "application/json",
        "application/*",
        "*/*",
        "text/html, application/json",
        "text/html;q=0.9, application/json;q=0.1",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/html, */*;q=0.1",
    ] {
        for path in ["/albums", &album_path] {
            let resp = send(&s, "GET", path, Some(a), None, Some(accept), b"");
            assert_eq!(resp.status, 200, "{accept} {path}: {}", resp.body);
        }
    }
    let resp = send(
        &s,
        "POST",
        "/albums",
        Some(a),
        Some(FORM),
        Some("application/*"),
        b"name=A",
    );
    resp.assert_status(201);
    // After 415/406 comes authentication.
    send(
        &s,
        "POST",
        "/albums",
        None,
        Some(FORM),
        Some("*/*"),
        b"name=x",
    )
    .assert_unauthorized(MALFORMED);
}

/// Asserts that the two answers are the same: status, body and the headers clients read.
#[track_caller]
fn assert_same(root: &Resp, api: &Resp, what: &str) {
    assert_eq!(
        root.status, api.status,
        "{what}: {} / {}",
        root.body, api.body
    );
    assert_eq!(root.body, api.body, "{what}");
    for h in [
        "content-type",
        "x-total-count",
        "access-control-expose-headers",
        "www-authenticate",
        "cache-control",
    ] {
        assert_eq!(root.header(h), api.header(h), "{what}: {h}");
    }
    assert_ne!(root.status, 405, "{what}: {}", root.body);
    assert!(root.status < 500, "{what}: {}", root.body);
    assert!(
        !api.body.contains("This path is not served"),
        "{what}: {}",
        api.body
    );
}

#[test]
fn every_route_answers_the_same_under_api() {
    let (s, db) = Server::start();
    let f = Fixture::new(&s);
    let w = &f.w;
    let ops = kheops_operations(&s);
    let root: Vec<&Operation> = ops
        .iter()
        .filter(|o| !o.path.starts_with("/api/"))
        .collect();
    assert!(root.len() >= 15, "{} root operations", root.len());
    for op in &root {
        let twin = format!("/api{}", op.path);
        let documented = ops.iter().any(|o| o.method == op.method && o.path == twin);
        assert!(
            documented,
            "{} has no /api twin in /openapi.json",
            op.name()
        );
    }
    let before = f.state(&s, &db);
    // Who asks, on which rows. None of these may change anything (checked at the end):
    // forms are empty, and only alice's GETs may succeed.
    let probes: [(&str, Option<&str>, bool); 7] = [
        ("no credential", None, false),
        ("unknown credential", Some("nope"), false),
        ("an outsider", Some(&w.dave), false),
        ("a plain member", Some(&w.bob), false),
        ("the album token", Some(&f.cap.secret), false),
        ("the admin, unknown ids", Some(&w.alice), true),
        ("the admin reading", Some(&w.alice), false),
    ];
    let mut compared = 0;
    for op in root {
        let introspect = op.path == "/token/introspect";
        let templated = op.path.contains('{');
        for (who, credential, unknown) in probes {
            if who == "the admin reading" && op.method != "GET" {
                continue;
            }
            let path = if unknown {
                f.fill_unknown(op)
            } else {
                f.fill(op)
            };
            let content_type = op.takes_form().then_some(FORM);
            let answer = |prefix: &str| {
                let path = format!("{prefix}{path}");
                send(&s, &op.method, &path, credential, content_type, None, b"")
            };
            let (r, api) = (answer(""), answer("/api"));
            let what = format!("{} as {who}", op.name());
            assert_same(&r, &api, &what);
            compared += 1;
            // And the answer is the right one.
            match who {
                _ if introspect => assert_eq!(r.json(), json!({"active": false}), "{what}"),
                "no credential" => r.assert_unauthorized(MALFORMED),
                "unknown credential" => r.assert_unauthorized(NOT_VALID),
                "an outsider" | "the admin, unknown ids" if templated => {
                    assert_eq!(r.status, 404, "{what}: {}", r.body)
                }
                "the admin reading" => assert_eq!(r.status, 200, "{what}: {}", r.body),
                _ => assert!(r.status >= 200 && r.status < 500, "{what}: {}", r.body),
            }
        }
    }
    assert!(compared >= 90, "{compared} comparisons");

    // Queries and bodies under both mounts, each with its expected answer.
    let album = &f.album;
    for (credential, path, status) in [
        (
            &w.alice,
            "/albums?sort=name&limit=1&offset=1".to_owned(),
            200,
        ),
        (
            &w.alice,
            "/albums?canCreateCapabilityToken=true".to_owned(),
            200,
        ),
        (&w.alice, "/albums?sort=bogus".to_owned(), 400),
        (&w.bob, format!("/albums/{album}?includeUsers=true"), 200),
        (&w.bob, format!("/albums/{album}/users?limit=1"), 200),
        (
            &w.alice,
            format!("/capabilities?album={album}&limit=1"),
            200,
        ),
        (&w.alice, "/capabilities?limit=x".to_owned(), 400),
    ] {
        let (r, api) = (
            s.get_as(credential, &path),
            s.get_as(credential, &format!("/api{path}")),
        );
        assert_same(&r, &api, &path);
        assert_eq!(r.status, status, "{path}: {}", r.body);
    }
    s.get_as(&w.alice, "/api/capabilities?limit=x")
        .assert_bad_query("Param 'limit' must be a non-negative integer");
    let introspected = |prefix: &str| {
        s.request("POST", &format!("{prefix}/token/introspect"))
            .form(&[("token", &f.cap.secret)])
            .send()
    };
    let (r, api) = (introspected(""), introspected("/api"));
    assert_same(&r, &api, "introspection");
    assert_eq!(r.json()["active"], true);
    assert_eq!(f.state(&s, &db), before, "a probe changed something");
}

#[test]
fn whole_flows_run_under_api() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let a = &w.alice;
    let api = |method: &str, path: &str, credential: &str| {
        s.request(method, &format!("/api{path}")).bearer(credential)
    };

    // Albums: create under /api, read under both.
    let created = api("POST", "/albums", a)
        .form(&[("name", " Api album "), ("addUser", "true")])
        .send()
        .assert_status(201)
        .json();
    assert_album_shape(&created);
    assert_eq!(created["name"], "Api album");
    assert_eq!(created["add_user"], true);
    let album = string_field(&created, "id");
    s.new_album(a, "Root album");
    assert_eq!(s.album_json(a, &album), created);
    assert_eq!(api("GET", "/albums", a).send().assert_list(2).len(), 2);

    // Memberships under /api.
    let users = format!("/albums/{album}/users");
    api("PUT", &format!("{users}/{}", w.bob_id), a)
        .send()
        .assert_status(201);
    api("PUT", &format!("{users}/carol@test.com"), &w.bob)
        .send()
        .assert_status(201);
    api("PUT", &format!("{users}/{}/admin", w.carol_id), a)
        .send()
        .assert_no_content();
    api("PUT", &format!("{users}/{}", w.alice_id), a)
        .send()
        .assert_forbidden(ADD_YOURSELF);
    let members = api("GET", &users, &w.bob).send().assert_list(3);
    assert_eq!(members[2], w.member("carol", true));
    api("DELETE", &format!("{users}/{}/admin", w.carol_id), a)
        .send()
        .assert_no_content();
    api("DELETE", &format!("{users}/{}", w.carol_id), &w.bob)
        .send()
        .assert_forbidden(REMOVE_OTHER);
    api("DELETE", &format!("{users}/{}", w.carol_id), &w.carol)
        .send()
        .assert_no_content();
    assert_eq!(
        db.memberships(&album),
        rows(&[(&w.alice_id, true), (&w.bob_id, false)])
    );

    // PATCH under /api; its answer is what GET answers; the errors are the family's.
    let resp = api("PATCH", &format!("/albums/{album}"), a)
        .form(&[("description", "via api")])
        .send();
    assert_eq!(resp.assert_status(200).json()["description"], "via api");
    assert_eq!(
        resp.json(),
        s.album_json(a, &album),
        "PATCH answer and GET agree"
    );
    api("PATCH", &format!("/albums/{album}"), &w.bob)
        .form(&[("name", "x")])
        .send()
        .assert_forbidden(PATCH_ADMIN);
    api("POST", "/albums", a)
        .form(&[("name", "")])
        .send()
        .assert_bad_form("Param 'name' can not be empty");

    // Capability tokens under /api.
    let fields = [
        ("title", "viewer"),
        ("scope_type", "album"),
        ("album", &album),
        ("read_permission", "true"),
        ("download_permission", "true"),
    ];
    let resp = api("POST", "/capabilities", a).form(&fields).send();
    let tok = resp.assert_status(201).json();
    resp.assert_no_store();
    let (id, secret) = (string_field(&tok, "id"), assert_alnum(&tok["secret"], 22));
    assert_eq!(tok["access_token"], secret.as_str());
    assert_eq!(
        tok["album"],
        json!({"id": album, "album_id": album, "name": "Api album"})
    );
    let user = s.user_cap(a, "root");
    let listed = api("GET", "/capabilities", a).send().assert_list(2);
    assert_eq!(listed, s.list_caps(a, "").assert_list(2));
    let page = api("GET", &format!("/capabilities?album={album}&limit=1"), a).send();
    assert_eq!(ids(&page.assert_list(1)), [&*id]);
    let resp = api("GET", &format!("/capabilities/{id}"), a).send();
    assert_eq!(resp.assert_status(200).json(), s.get_cap(a, &id).json());
    assert_eq!(resp.json(), without_secret(&tok));
    api("GET", "/capabilities/NoSuchCap0", a)
        .send()
        .assert_cap_not_found();
    api("GET", &format!("/capabilities/{id}"), &secret)
        .send()
        .assert_forbidden(TOKEN_TYPE);
    // The album token reads the reduced album under /api; user routes are refused.
    let reduced = api("GET", &format!("/albums/{album}"), &secret)
        .send()
        .assert_status(200)
        .json();
    assert_eq!(
        keys(&reduced),
        sorted(&["album_id", "id", "name", "description"])
    );
    api("GET", "/albums", &secret)
        .send()
        .assert_forbidden(TOKEN_TYPE);
    // Introspection.
    let resp = s
        .request("POST", "/api/token/introspect")
        .form(&[("token", &secret)])
        .send();
    resp.assert_no_store();
    let secs = |field: &str| parse_time(&tok[field]).div_euclid(1000);
    let active = json!({
        "active": true,
        "sub": w.alice_id,
        "scope": "read downloadbutton",
        "cap_token": id,
        "album_id": album,
        "exp": secs("expiration_time"),
        "iat": secs("issued_at_time"),
        "nbf": secs("not_before_time"),
    });
    assert_eq!(resp.assert_status(200).json(), active);
    // Capability secrets are refused on management under /api too.
    s.request("POST", "/api/capabilities")
        .basic("x", &user.secret)
        .form(&[("title", "t"), ("scope_type", "user")])
        .send()
        .assert_unauthorized(CAP_RESOURCES);
    api("POST", "/capabilities", &w.dave)
        .form(&[("title", "t"), ("scope_type", "album"), ("album", &album)])
        .send()
        .assert_album_not_found();
    // Revoke under /api; the root mount sees it.
    let r = api("POST", &format!("/capabilities/{id}/revoke"), a)
        .send()
        .assert_status(200)
        .json();
    assert_eq!(r["revoked"], true);
    assert_eq!(r["revoked_by"], w.user("alice"));
    assert_eq!(s.get_cap(a, &id).json(), r);
    let resp = s
        .request("POST", "/api/token/introspect")
        .form(&[("token", &secret)])
        .send();
    assert_eq!(resp.assert_status(200).json(), json!({"active": false}));
    api("POST", &format!("/capabilities/{}/revoke", user.id), &w.bob)
        .send()
        .assert_cap_not_found();

    // DELETE under /api: the album and its tokens go.
    let secret = s.album_cap(a, &album, "t").secret;
    api("DELETE", &format!("/albums/{album}"), &w.bob)
        .send()
        .assert_forbidden(ON_ALBUM);
    api("DELETE", &format!("/albums/{album}"), a)
        .send()
        .assert_no_content();
    s.album(a, &album).assert_album_not_found();
    api("GET", &format!("/albums/{album}"), a)
        .send()
        .assert_album_not_found();
    assert!(!s.active(&secret));
    assert_eq!(db.album_rows(&album), 0);
}
