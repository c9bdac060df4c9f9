//! The response schemas of `/openapi.json` outside `/v1` and `/v3`: the KHEOPS family (at
//! the root and under `/api`), the Hexoskin family and the always-on endpoints. Every documented answer with a
//! JSON body names a schema of the document, every KHEOPS error is the KHEOPS envelope, and
//! real answers of every route match the schema documented for their status.

use std::collections::BTreeSet;

use serde_json::Value;
use tessera_tests::routes::{
    is_hexoskin_path, is_kheops_path, kheops_operations, operations, Operation,
};
use tessera_tests::schema::{essence, Doc};
use tessera_tests::{Resp, Server, TestDb, World};

const ERROR_ENVELOPE: &str = "#/components/schemas/KheopsErrorBody";

/// Outside Keyrock's `/v1` and `/v3`, and outside the easydb family (`/api/v1`), whose
/// rights maps are open by nature (`easydb_wire` checks its schemas).
fn outside_keyrock(path: &str) -> bool {
    !["/v1", "/v3", "/api/v1"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The routes of the OAuth2 browser flow, which answer HTML pages (keyrock.md 5.3).
fn is_browser_path(path: &str) -> bool {
    [
        "/oauth2/authorize",
        "/oauth2/enable_app",
        "/oauth2/static/tessera.css",
        "/auth/logout",
    ]
    .contains(&path)
}

/// The `$ref` of a schema, or of the items of an array schema.
fn named(schema: &Value) -> Option<&str> {
    schema["$ref"]
        .as_str()
        .or_else(|| (schema["type"] == "array").then(|| schema["items"]["$ref"].as_str())?)
}

#[test]
fn every_answer_outside_v1_and_v3_has_a_schema_of_the_document() {
    let (s, _db) = Server::start();
    let doc = Doc::fetch(&s);
    let ops: Vec<Operation> = operations(&s)
        .into_iter()
        .filter(|op| outside_keyrock(&op.path))
        .collect();
    let kheops = ops.iter().filter(|op| is_kheops_path(&op.path)).count();
    assert_eq!(kheops, 2 * 15, "15 KHEOPS operations at two mounts");
    let hexoskin = ops.iter().filter(|op| is_hexoskin_path(&op.path)).count();
    assert_eq!(hexoskin, 15, "15 Hexoskin operations");
    assert_eq!(
        ops.len() - kheops - hexoskin,
        19,
        "health, ready, version, metrics, openapi.json, Keyrock's five discovery routes, \
         /user, the three /oauth2 token routes and the five routes of the browser flow"
    );

    for op in &ops {
        let name = op.name();
        let is_kheops = is_kheops_path(&op.path);
        let responses = op.doc["responses"].as_object().expect("responses");
        // The consent form's success is the redirect back to the client.
        let success =
            |s: &String| s.starts_with('2') || (is_browser_path(&op.path) && s.starts_with('3'));
        assert!(responses.keys().any(success), "{name}: no 2xx");
        for (status, response) in responses {
            let content = response["content"].as_object();
            if is_kheops && !status.starts_with('2') {
                let content = content.unwrap_or_else(|| panic!("{name} {status}: no body"));
                let medias: Vec<String> = content.keys().map(|m| essence(m)).collect();
                assert_eq!(medias, ["application/json"], "{name} {status}");
                let schema = &content.values().next().expect("one media")["schema"];
                assert_eq!(
                    schema["$ref"], ERROR_ENVELOPE,
                    "{name} {status}: not the KHEOPS error envelope"
                );
            }
            for (media, body) in content.into_iter().flatten() {
                let schema = &body["schema"];
                assert!(schema.is_object(), "{name} {status} {media}: no schema");
                if essence(media) != "application/json" {
                    // Text: the metrics, and the browser flow's pages and stylesheet.
                    let expected = match op.path.as_str() {
                        "/metrics" => "text/plain",
                        "/oauth2/static/tessera.css" => "text/css",
                        p if is_browser_path(p) => "text/html",
                        _ => panic!("{name} {status}: {media}"),
                    };
                    assert_eq!(essence(media), expected, "{name} {status}");
                    assert_eq!(schema["type"], "string");
                    continue;
                }
                if op.path == "/openapi.json" {
                    // The document itself: an object is all there is to say.
                    assert_eq!(schema["type"], "object", "{name}");
                    continue;
                }
                // A named schema of components, resolved (panics if dangling), closed:
                // every object it leads to lists its properties and allows no others.
                let reference = named(schema).unwrap_or_else(|| {
                    panic!("{name} {status}: {schema} names no schema of components")
                });
                assert!(
                    reference.starts_with("#/components/schemas/"),
                    "{name}: {reference}"
                );
                doc.resolve(reference);
                for (part, sub) in doc.reachable(schema) {
                    let is_object = sub["type"] == "object" || sub.get("properties").is_some();
                    if is_object {
                        assert!(
                            sub["properties"].as_object().is_some_and(|p| !p.is_empty()),
                            "{name} {status}: {part} lists no properties"
                        );
                        assert_eq!(
                            sub["additionalProperties"], false,
                            "{name} {status}: {part} is open to undocumented properties"
                        );
                    }
                }
            }
        }
        if !is_kheops {
            continue;
        }
        let has = |status: &str| responses.contains_key(status);
        if op.doc.get("security").is_some() {
            assert!(has("401"), "{name}: authenticated, 401 not listed");
        }
        if op.answers_json() {
            assert!(has("406"), "{name}: answers JSON, 406 not listed");
        }
        if op.method != "GET" {
            assert!(
                has("415"),
                "{name}: takes a form or nothing, 415 not listed"
            );
        }
        if let Some(body) = op.doc.get("requestBody") {
            let content = body["content"].as_object().expect("request content");
            let medias: Vec<&String> = content.keys().collect();
            assert_eq!(medias, ["application/x-www-form-urlencoded"], "{name}");
            let schema = &content["application/x-www-form-urlencoded"]["schema"];
            let reference = schema["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: the form names no schema"));
            let form = doc.resolve(reference);
            let fields = form["properties"].as_object().expect("form fields");
            assert!(!fields.is_empty(), "{name}: a form without fields");
            assert!(
                form.get("required").is_none(),
                "{name}: KHEOPS reads every field as optional"
            );
            for (field, schema) in fields {
                assert!(
                    schema["type"] == "string" || schema["type"] == "boolean",
                    "{name}: form field {field} is {schema}"
                );
            }
        }
    }
}

/// Sends requests, checks each answer against the document, and remembers which
/// (method, documented path, status) were checked.
struct Checker<'a> {
    s: &'a Server,
    doc: &'a Doc,
    seen: BTreeSet<(String, String, u16)>,
}

impl Checker<'_> {
    /// Checks `resp`, the answer of `method` on the documented `path`; returns its body.
    #[track_caller]
    fn check(&mut self, method: &str, path: &str, resp: Resp) -> Value {
        let body = self.doc.check(method, path, &resp);
        self.seen
            .insert((method.to_owned(), path.to_owned(), resp.status));
        body
    }

    /// `method url` as `credential` (`""`: none) with the urlencoded `form` (`""`: no
    /// body), which must answer `status`, checked against the operation documented for
    /// `url`'s path. Returns the body.
    #[track_caller]
    fn call(
        &mut self,
        status: u16,
        method: &str,
        url: &str,
        credential: &str,
        form: &str,
    ) -> Value {
        let mut req = self.s.request(method, url);
        if !credential.is_empty() {
            req = req.bearer(credential);
        }
        if !form.is_empty() {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .raw(form.as_bytes().to_vec());
        }
        let resp = req.send();
        resp.assert_status(status);
        let path = self.doc.template(method, url);
        self.check(method, &path, resp)
    }
}

fn id(body: &Value, key: &str) -> String {
    body[key].as_str().expect(key).to_owned()
}

fn len(body: &Value) -> usize {
    body.as_array().map_or(0, Vec::len)
}

/// Every KHEOPS route at mount `p`: each success shape (album in full, with members and
/// reduced; members; tokens of both scopes with and without their secret, revoked;
/// introspection active for both scopes and inactive) and each documented error.
fn kheops_routes(c: &mut Checker, w: &World, p: &str) {
    let (alice, bob) = (w.alice.as_str(), w.bob.as_str());
    let (alice_id, bob_id, carol_id) = (&w.alice_id, &w.bob_id, &w.carol_id);
    let u = |path: &str| format!("{p}{path}");

    // Albums.
    let form = "name=Study&description=MRI&addUser=true";
    let a = id(&c.call(201, "POST", &u("/albums"), alice, form), "id");
    let b = id(&c.call(201, "POST", &u("/albums"), alice, "name=B"), "id");
    let album = u(&format!("/albums/{a}"));
    c.call(201, "PUT", &format!("{album}/users/{bob_id}"), alice, "");
    let list = c.call(200, "GET", &u("/albums?sort=name"), alice, "");
    assert_eq!(len(&list), 2);
    let url = u("/albums?canCreateCapabilityToken=true&limit=1");
    c.call(200, "GET", &url, alice, "");
    c.call(200, "GET", &album, alice, "");
    let full = c.call(200, "GET", &format!("{album}?includeUsers=true"), bob, "");
    assert_eq!(len(&full["users"]), 2);
    c.call(
        200,
        "PATCH",
        &album,
        alice,
        "name=Renamed&writeComments=false",
    );
    assert_eq!(
        len(&c.call(200, "GET", &format!("{album}/users"), alice, "")),
        2
    );

    // Capability tokens.
    let caps = u("/capabilities");
    let form = format!(
        "title=viewer&scope_type=album&album={a}&read_permission=true&download_permission=true"
    );
    let album_cap = c.call(201, "POST", &caps, alice, &form);
    let reader = id(&c.call(201, "POST", &caps, alice, &form), "secret");
    let user_cap = c.call(201, "POST", &caps, alice, "title=script&scope_type=user");
    let (album_secret, user_secret) = (id(&album_cap, "secret"), id(&user_cap, "secret"));
    let cap_id = id(&album_cap, "id");
    let cap = u(&format!("/capabilities/{cap_id}"));
    let reduced = c.call(200, "GET", &album, &album_secret, "");
    assert_eq!(reduced.as_object().map(|o| o.len()), Some(4), "{reduced}");
    let introspect = u("/token/introspect");
    for (token, active) in [(&album_secret, true), (&user_secret, true), (&a, false)] {
        let body = c.call(200, "POST", &introspect, "", &format!("token={token}"));
        assert_eq!(body["active"], active);
    }
    c.call(200, "GET", &cap, alice, "");
    c.call(200, "GET", &caps, alice, "");
    let revoked = c.call(200, "POST", &format!("{cap}/revoke"), alice, "");
    assert_eq!(revoked["revoked"], true);
    let url = u(&format!("/capabilities?album={a}&valid=false"));
    assert_eq!(len(&c.call(200, "GET", &url, alice, "")), 2);

    // Each documented error of each route (401, 406 and 415 in `negotiation`), as
    // "status method path credential [form]"; $A is the album, $CAP the revoked token.
    let errors = [
        "400 POST /albums user name=%20",
        "403 POST /albums reader name=x",
        "400 GET /albums?limit=x alice",
        "403 GET /albums reader",
        "400 GET /albums/$A?includeUsers=maybe alice",
        "403 GET /albums/$A?includeUsers=true reader",
        "404 GET /albums/AAAAAAAAAA alice",
        "400 PATCH /albums/$A alice addUser=yes",
        "403 PATCH /albums/$A bob name=x",
        "404 PATCH /albums/AAAAAAAAAA alice name=x",
        "403 DELETE /albums/$A bob",
        "404 DELETE /albums/AAAAAAAAAA alice",
        "400 GET /albums/$A/users?offset=-1 alice",
        "403 GET /albums/$A/users reader",
        "404 GET /albums/AAAAAAAAAA/users alice",
        "403 PUT /albums/$A/users/$ALICE alice",
        "404 PUT /albums/$A/users/nobody@test.com alice",
        "403 DELETE /albums/$A/users/$ALICE bob",
        "404 DELETE /albums/$A/users/$CAROL alice",
        "403 PUT /albums/$A/users/$CAROL/admin bob",
        "404 PUT /albums/AAAAAAAAAA/users/$CAROL/admin alice",
        "403 DELETE /albums/$A/users/$ALICE/admin bob",
        "404 DELETE /albums/$A/users/nobody@test.com/admin alice",
        "400 POST /capabilities alice scope_type=user",
        "401 POST /capabilities user title=t&scope_type=user",
        "404 POST /capabilities alice title=t&scope_type=album&album=AAAAAAAAAA",
        "400 GET /capabilities?valid=maybe alice",
        "403 GET /capabilities?album=$A bob",
        "404 GET /capabilities?album=AAAAAAAAAA alice",
        "403 GET /capabilities/$CAP reader",
        "404 GET /capabilities/NoSuchCap0 alice",
        "404 POST /capabilities/NoSuchCap0/revoke alice",
    ];
    for row in errors {
        let row = row
            .replace("$ALICE", alice_id)
            .replace("$CAROL", carol_id)
            .replace("$CAP", &cap_id)
            .replace("$A", &a);
        let fields: Vec<&str> = row.split(' ').collect();
        let credential = match fields[3] {
            "alice" => alice,
            "bob" => bob,
            "reader" => &reader,
            "user" => &user_secret,
            other => panic!("no credential {other}"),
        };
        let status = fields[0].parse().expect("a status");
        let form = fields.get(4).copied().unwrap_or("");
        c.call(status, fields[1], &u(fields[2]), credential, form);
    }
    // A form larger than the server reads.
    for (method, url) in [
        ("POST", u("/albums")),
        ("PATCH", album.clone()),
        ("POST", caps.clone()),
        ("POST", introspect.clone()),
    ] {
        let resp =
            c.s.request(method, &url)
                .bearer(alice)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .raw(vec![b'a'; 1024 * 1024 + 1])
                .send();
        resp.assert_status(413);
        let path = c.doc.template(method, &url);
        c.check(method, &path, resp);
    }

    // The membership routes, then the deletions.
    let url = format!("{album}/users/{carol_id}/admin");
    c.call(204, "PUT", &url, alice, "");
    c.call(204, "DELETE", &url, alice, "");
    c.call(204, "DELETE", &format!("{album}/users/{bob_id}"), alice, "");
    c.call(204, "DELETE", &u(&format!("/albums/{b}")), alice, "");
    c.call(204, "DELETE", &album, alice, "");
}

/// Negotiation and authentication on every documented KHEOPS operation: the 406, 415 and
/// 401 each route answers are listed, in the KHEOPS envelope.
fn negotiation(c: &mut Checker, w: &World, ops: &[Operation], album: &str, cap: &str) {
    let form = "application/x-www-form-urlencoded";
    for op in ops {
        let url = op.fill(|name| match name {
            "album_id" => album.to_owned(),
            "capability_id" => cap.to_owned(),
            _ => w.dave_id.clone(),
        });
        // GET ignores Content-Type; every other KHEOPS route takes the form type.
        let content_type = (op.method != "GET").then_some(form);
        let send = |accept: Option<&str>, content_type: Option<&str>, credential: bool| {
            let mut req = c.s.request(&op.method, &url);
            if let Some(a) = accept {
                req = req.header("Accept", a);
            }
            if let Some(t) = content_type {
                req = req.header("Content-Type", t).raw(b"x=1".to_vec());
            }
            if credential {
                req = req.bearer(&w.alice);
            }
            req.send()
        };
        let mut answers = Vec::new();
        if op.answers_json() {
            answers.push((406, send(Some("text/plain"), content_type, true)));
        }
        if op.method != "GET" {
            answers.push((415, send(None, Some("text/plain"), true)));
        }
        if op.doc.get("security").is_some() {
            answers.push((401, send(None, content_type, false)));
        }
        for (status, resp) in answers {
            assert_eq!(resp.status, status, "{}: {}", op.name(), resp.body);
            c.check(&op.method, &op.path, resp);
        }
    }
}

#[test]
fn real_answers_of_every_route_match_their_documented_schema() {
    let (s, _db) = Server::start();
    let doc = Doc::fetch(&s);
    let w = World::new(&s);
    let mut c = Checker {
        s: &s,
        doc: &doc,
        seen: BTreeSet::new(),
    };
    for prefix in ["", "/api"] {
        kheops_routes(&mut c, &w, prefix);
    }
    let album = s.new_album(&w.alice, "Negotiated");
    let cap = s.album_cap(&w.alice, &album, "negotiated");
    let ops = kheops_operations(&s);
    negotiation(&mut c, &w, &ops, &album, &cap.id);

    // The always-on endpoints.
    for path in ["/health", "/ready", "/version", "/metrics", "/openapi.json"] {
        let resp = s.get(path);
        resp.assert_status(200);
        c.check("GET", path, resp);
    }

    // Every documented KHEOPS operation was seen succeeding, at both mounts.
    for op in &ops {
        assert!(
            c.seen
                .iter()
                .any(|(m, p, status)| *m == op.method && *p == op.path && *status < 300),
            "{}: no success checked",
            op.name()
        );
    }
    // And every documented error status of every KHEOPS operation was seen answered.
    for op in &ops {
        for status in op.doc["responses"].as_object().expect("responses").keys() {
            let status: u16 = status.parse().expect("a status");
            assert!(
                status < 400
                    || c.seen
                        .contains(&(op.method.clone(), op.path.clone(), status)),
                "{}: {status} is documented, never seen answered",
                op.name()
            );
        }
    }
}

#[test]
fn ready_unavailable_matches_its_documented_schema() {
    let db = TestDb::new();
    let s = Server::start_on(&db, Default::default());
    let doc = Doc::fetch(&s);
    db.cut_off();
    let resp = s.get("/ready");
    resp.assert_status(503);
    assert_eq!(doc.check("GET", "/ready", &resp)["status"], "unavailable");
    db.restore();
}
