//! Discovery and keys (keyrock.md 5.7, decisions 7 and 25), over HTTP: the RFC 8414
//! metadata, the global and per-application OIDC discovery documents, and the JWKS
//! documents, with HS256 and RS256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use storage::diesel::{QueryDsl, RunQueryDsl};
use storage::schema::server_keys;
use tessera_tests::schema::Doc;
use tessera_tests::{json, keys, sorted, Options, Resp, Server, TestDb};

const GLOBAL: [&str; 5] = [
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/.well-known/jwks.json",
    "/idm/applications/{app}/.well-known/openid-configuration",
    "/idm/applications/{app}/certs",
];

fn rs256() -> Options {
    Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256")
}

/// `resp`, the answer to `GET url`, checked against the schema `/openapi.json` documents
/// for its status (closed objects: no undocumented member, every required one).
#[track_caller]
fn conforms(s: &Server, url: &str, resp: &Resp) -> Value {
    let doc = Doc::fetch(s);
    let template = doc.template("GET", url);
    doc.check("GET", &template, resp)
}

/// A 200 JSON document that matches its documented schema.
#[track_caller]
fn document(s: &Server, path: &str) -> Value {
    let resp = s.get(path);
    resp.assert_status(200);
    resp.assert_json_type();
    conforms(s, path, &resp);
    resp.json()
}

/// The RFC 8414 document keyrock.md 5.7 describes, for public URL `p`.
fn metadata(p: &str, rs256: bool, public_grants: bool) -> Value {
    let mut token_auth = json!(["client_secret_basic", "client_secret_post"]);
    if public_grants {
        token_auth.as_array_mut().unwrap().push(json!("none"));
    }
    let mut doc = json!({
        "issuer": p,
        "authorization_endpoint": format!("{p}/oauth2/authorize"),
        "token_endpoint": format!("{p}/oauth2/token"),
        "revocation_endpoint": format!("{p}/oauth2/revoke"),
        "introspection_endpoint": format!("{p}/oauth2/introspect"),
        "userinfo_endpoint": format!("{p}/user"),
        "response_types_supported": ["code", "token", "id_token", "id_token token",
            "code id_token", "code token", "code id_token token"],
        "grant_types_supported": ["authorization_code", "implicit", "password",
            "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": token_auth,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "scopes_supported": ["openid", "bearer", "jwt", "permanent"],
        "service_documentation": format!("{p}/openapi.json"),
    });
    if rs256 {
        doc["jwks_uri"] = json!(format!("{p}/.well-known/jwks.json"));
    }
    doc
}

/// The global OIDC document: the metadata plus two members.
fn openid(p: &str, rs256: bool, public_grants: bool) -> Value {
    let mut doc = metadata(p, rs256, public_grants);
    doc["subject_types_supported"] = json!(["public"]);
    doc["id_token_signing_alg_values_supported"] = json!([if rs256 { "RS256" } else { "HS256" }]);
    doc
}

/// RFC 7638 thumbprint of an RSA JWK, computed here from its `n` and `e`.
fn thumbprint(jwk: &Value) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        jwk["e"].as_str().unwrap(),
        jwk["n"].as_str().unwrap()
    );
    let hex = auth_core::secrets::sha256_hex(&canonical);
    let digest: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    URL_SAFE_NO_PAD.encode(digest)
}

/// The one key of an RS256 JWKS, checked member by member.
#[track_caller]
fn the_key(jwks: &Value) -> Value {
    assert_eq!(keys(jwks), ["keys"], "{jwks}");
    let list = jwks["keys"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{jwks}");
    let jwk = list[0].clone();
    assert_eq!(keys(&jwk), sorted(&["kty", "n", "e", "alg", "use", "kid"]));
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["e"], "AQAB");
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256, "a 2048-bit modulus");
    assert!(n[0] >= 0x80, "no leading zero octet");
    assert_eq!(
        jwk["kid"],
        thumbprint(&jwk),
        "kid is the RFC 7638 thumbprint"
    );
    jwk
}

fn stored_keys(db: &TestDb) -> Vec<String> {
    let mut conn = db.conn();
    server_keys::table
        .select(server_keys::kid)
        .load::<String>(&mut *conn)
        .unwrap()
}

/// An application created through `/v1` with `body` (plus name and redirect_uri), and its
/// stored lists as `GET /v1/applications/{id}` shows them.
fn application(s: &Server, token: &str, body: Value) -> (String, Value) {
    let mut app = json!({"name": "Discovered", "redirect_uri": "http://localhost/cb"});
    for (k, v) in body.as_object().unwrap() {
        app[k] = v.clone();
    }
    let resp = s.send_json(
        "POST",
        "/v1/applications",
        token,
        &json!({"application": app}),
    );
    let id = resp.assert_status(201).json()["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = s.keyrock("GET", &format!("/v1/applications/{id}"), token);
    (id, read.assert_status(200).json()["application"].clone())
}

/// A stored comma-separated list as the per-application document shows it.
fn list(stored: &Value) -> Value {
    let text = stored.as_str().unwrap_or_default();
    json!(text
        .split(',')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>())
}

fn per_application(p: &str, id: &str, alg: &str, stored: &Value) -> Value {
    let issuer = format!("{p}/idm/applications/{id}");
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{p}/oauth2/authorize"),
        "token_endpoint": format!("{p}/oauth2/token"),
        "userinfo_endpoint": format!("{p}/user"),
        "jwks_uri": format!("{issuer}/certs"),
        "revoke_endpoint": format!("{p}/oauth2/revoke"),
        "revocation_endpoint": format!("{p}/oauth2/revoke"),
        "introspection_endpoint": format!("{p}/oauth2/introspect"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [alg],
        "code_challenge_methods_supported": ["S256", "plain"],
        "service_documentation": format!("{p}/openapi.json"),
    });
    for (member, field) in [
        ("scopes_supported", "scope"),
        ("response_types_supported", "response_type"),
        ("grant_types_supported", "grant_type"),
    ] {
        let items = list(&stored[field]);
        if !items.as_array().unwrap().is_empty() {
            doc[member] = items;
        }
    }
    doc
}

#[test]
fn hs256_documents_have_exactly_the_spec_members_and_no_key_is_made() {
    let (s, db) = Server::start();
    let p = s.base.clone();
    assert_eq!(
        document(&s, "/.well-known/oauth-authorization-server"),
        metadata(&p, false, false)
    );
    assert_eq!(
        document(&s, "/.well-known/openid-configuration"),
        openid(&p, false, false)
    );
    assert_eq!(document(&s, "/.well-known/jwks.json"), json!({"keys": []}));
    let admin = s.admin_token();
    let app = s.new_application(&admin, "plain");
    assert_eq!(
        document(&s, &format!("/idm/applications/{app}/certs")),
        json!({"keys": []})
    );
    let doc = document(
        &s,
        &format!("/idm/applications/{app}/.well-known/openid-configuration"),
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["HS256"])
    );
    assert!(stored_keys(&db).is_empty(), "HS256 makes no RSA key");
}

#[test]
fn rs256_with_public_grants_lists_the_key_and_none_and_every_jwks_is_the_same() {
    let options = rs256()
        .env("TESSERA_OAUTH_PUBLIC_GRANTS", "authorization_code")
        .env("TESSERA_PUBLIC_URL", "https://idm.example.org/");
    let (s, db) = Server::start_with(options);
    let p = "https://idm.example.org";
    assert_eq!(
        document(&s, "/.well-known/oauth-authorization-server"),
        metadata(p, true, true)
    );
    assert_eq!(
        document(&s, "/.well-known/openid-configuration"),
        openid(p, true, true)
    );
    let jwks = document(&s, "/.well-known/jwks.json");
    let jwk = the_key(&jwks);
    assert_eq!(stored_keys(&db), [jwk["kid"].as_str().unwrap()]);
    let admin = s.admin_token();
    let first = s.new_application(&admin, "one");
    let second = s.new_application(&admin, "two");
    for app in [first, second] {
        assert_eq!(
            document(&s, &format!("/idm/applications/{app}/certs")),
            jwks,
            "the per-application JWKS serve the server key"
        );
    }
    assert_eq!(document(&s, "/.well-known/jwks.json"), jwks, "stable");
}

#[test]
fn public_grants_alone_add_none_and_keep_hs256() {
    let options = Options::default().env("TESSERA_OAUTH_PUBLIC_GRANTS", "authorization_code");
    let (s, _db) = Server::start_with(options);
    assert_eq!(
        document(&s, "/.well-known/openid-configuration"),
        openid(&s.base, false, true)
    );
    // RS256 without public grants: jwks_uri, no `none`.
    let (s, _db) = Server::start_with(rs256());
    assert_eq!(
        document(&s, "/.well-known/oauth-authorization-server"),
        metadata(&s.base, true, false)
    );
}

#[test]
fn nodes_share_one_key_and_it_survives_a_restart() {
    let db = TestDb::new();
    let (a, b) = (
        Server::start_on(&db, rs256()),
        Server::start_on(&db, rs256()),
    );
    // Both nodes meet an empty table at once.
    let (ja, jb) = std::thread::scope(|scope| {
        let ta = scope.spawn(|| document(&a, "/.well-known/jwks.json"));
        let tb = scope.spawn(|| document(&b, "/.well-known/jwks.json"));
        (ta.join().unwrap(), tb.join().unwrap())
    });
    assert_eq!(ja, jb, "every node signs with the same key");
    let kid = the_key(&ja)["kid"].as_str().unwrap().to_owned();
    assert_eq!(stored_keys(&db), std::slice::from_ref(&kid));
    drop((a, b));
    let c = Server::start_on(&db, rs256());
    assert_eq!(
        document(&c, "/.well-known/jwks.json"),
        ja,
        "same key after a restart"
    );
    assert_eq!(stored_keys(&db), [kid]);
}

#[test]
fn the_per_application_document_shows_the_applications_lists_as_arrays() {
    let (s, _db) = Server::start_with(rs256());
    let admin = s.admin_token();
    let p = s.base.clone();
    let path = |id: &str| format!("/idm/applications/{id}/.well-known/openid-configuration");

    // An OIDC application: scope openid adds hybrid, authorization_code and implicit.
    let body = json!({"grant_type": ["authorization_code", "refresh_token"], "scope": "openid",
                      "token_types": ["jwt"]});
    let (id, stored) = application(&s, &admin, body);
    let doc = document(&s, &path(&id));
    assert_eq!(doc, per_application(&p, &id, "RS256", &stored));
    assert_eq!(doc["scopes_supported"], json!(["openid"]));
    assert_eq!(
        doc["response_types_supported"],
        json!(["code", "token", "id_token"])
    );
    let mut grants: Vec<&str> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    grants.sort_unstable();
    assert_eq!(
        grants,
        ["authorization_code", "hybrid", "implicit", "refresh_token"]
    );

    // The defaults: every grant, no scope (omitted, not empty).
    let id = s.new_application(&admin, "defaults");
    let stored = s
        .keyrock("GET", &format!("/v1/applications/{id}"), &admin)
        .json()["application"]
        .clone();
    let doc = document(&s, &path(&id));
    assert_eq!(doc, per_application(&p, &id, "RS256", &stored));
    assert!(doc.get("scopes_supported").is_none(), "{doc}");
    assert_eq!(doc["grant_types_supported"].as_array().unwrap().len(), 6);

    // Password only: no response type either.
    let (id, stored) = application(&s, &admin, json!({"grant_type": ["password"]}));
    let doc = document(&s, &path(&id));
    assert_eq!(doc, per_application(&p, &id, "RS256", &stored));
    assert_eq!(doc["grant_types_supported"], json!(["password"]));
    for omitted in ["scopes_supported", "response_types_supported"] {
        assert!(doc.get(omitted).is_none(), "{omitted}: {doc}");
    }
}

#[test]
fn unknown_applications_are_not_found_and_the_routes_serve_get_and_head_only() {
    let (s, db) = Server::start_with(rs256());
    for app in ["no-such-app", "idm_admin_app"] {
        for route in &GLOBAL[3..] {
            let url = route.replace("{app}", app);
            let resp = s.get(&url);
            resp.assert_keyrock_error(404, "Application not found");
            conforms(&s, &url, &resp);
        }
    }
    assert!(stored_keys(&db).is_empty(), "no key for a refused request");
    let admin = s.admin_token();
    let app = s.new_application(&admin, "methods");
    for route in GLOBAL {
        let path = route.replace("{app}", &app);
        let get = s.get(&path);
        get.assert_status(200);
        let head = s.request("HEAD", &path).send();
        assert_eq!((head.status, head.body.as_str()), (200, ""), "HEAD {path}");
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let resp: Resp = s.request(method, &path).send();
            resp.assert_keyrock_error(405, "Method not allowed");
            assert_eq!(resp.header("allow").as_deref(), Some("GET, HEAD"), "{path}");
        }
    }
    for path in ["/.well-known/nope", "/idm/applications", "/idm/x/y/z"] {
        s.get(path).assert_keyrock_error(404, "Path not found");
    }
}

#[test]
fn every_discovery_route_is_documented_without_a_token() {
    let (s, _db) = Server::start();
    let doc = s.get("/openapi.json").assert_status(200).json();
    for route in GLOBAL {
        let path = route.replace("{app}", "{application_id}");
        let get = &doc["paths"][&path]["get"];
        assert!(get["operationId"].is_string(), "{path} not documented");
        assert!(get.get("security").is_none(), "{path} needs no token");
    }
}
