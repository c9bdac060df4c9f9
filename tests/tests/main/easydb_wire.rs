//! The easydb family on the wire (easydb-rights.md 1, 2): unknown paths and methods,
//! bodies that are no JSON, the response headers, trailing slashes, and the token in the
//! query or the `x-easydb-token` header (the query wins).

use tessera_tests::easydb::*;
use tessera_tests::{json, Resp, Server};

#[test]
fn unknown_paths_under_api_v1_are_invalid_api() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    for (method, path) in [
        ("GET", "/api/v1"),
        ("GET", "/api/v1/"),
        ("GET", "/api/v1/nope"),
        ("GET", "/api/v1/db"),
        ("GET", "/api/v1/message"),
        ("POST", "/api/v1/rights"),
        ("GET", "/api/v1/session/nope"),
        ("GET", "/api/v1/right/object/presets/1/more"),
        ("GET", "/api/v1/user/1/more"),
        ("DELETE", "/api/v1/nope/1"),
    ] {
        let resp = s.easydb(method, path, &admin).send();
        assert_api_error(&resp, "invalid_api");
        assert_ne!(resp.status, 404, "{method} {path}");
    }
}

#[test]
fn methods_a_path_does_not_serve_are_invalid_request_method() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let saved = s.save_presets(&admin, "object", &json!([preset(None, 1, None, json!({}))]));
    let id = preset_id(&saved[0]);
    let preset_path = format!("/api/v1/right/object/presets/{id}");
    for (method, path) in [
        ("PUT", "/api/v1/right"),
        ("POST", "/api/v1/right"),
        ("DELETE", "/api/v1/right"),
        ("POST", "/api/v1/right/object"),
        ("PUT", "/api/v1/right/object/presets"),
        ("DELETE", "/api/v1/right/object/presets"),
        ("GET", preset_path.as_str()),
        ("PUT", preset_path.as_str()),
        ("POST", preset_path.as_str()),
        ("PATCH", preset_path.as_str()),
        ("PATCH", "/api/v1/user"),
        ("GET", "/api/v1/right/object/presets/1"),
        ("PUT", "/api/v1/user"),
        ("DELETE", "/api/v1/user"),
        ("DELETE", "/api/v1/user/1"),
        ("PUT", "/api/v1/user/1"),
        ("PUT", "/api/v1/group"),
        ("DELETE", "/api/v1/group/1"),
        ("DELETE", "/api/v1/session"),
        ("GET", "/api/v1/session/authenticate"),
        ("GET", "/api/v1/session/deauthenticate"),
    ] {
        let req = s.easydb(method, path, &admin);
        let resp = if matches!(method, "PUT" | "POST" | "PATCH") {
            req.json(&json!([])).send()
        } else {
            req.send()
        };
        assert_api_error(&resp, "invalid_request_method");
        assert_ne!(resp.status, 405, "{method} {path}");
    }
    // None of them touched the preset.
    assert_eq!(s.presets(&admin, "object"), saved);
}

#[test]
fn bodies_that_are_no_json_are_invalid_content() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let raw = |path: &str, content_type: Option<&str>, body: &[u8]| -> Resp {
        let mut req = s.easydb("POST", path, &admin);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        req.raw(body.to_vec()).send()
    };
    for path in [
        "/api/v1/right/object/presets",
        "/api/v1/right/collection/presets",
        "/api/v1/user",
        "/api/v1/group",
    ] {
        for (ct, body) in [
            (Some("application/json"), &b"{not json"[..]),
            (
                Some("application/json"),
                &b"[{\"_basetype\": \"right_preset\""[..],
            ),
            (Some("text/plain"), &b"hello"[..]),
            (None, &b"\xff\xfe"[..]),
            (Some("application/json"), &b""[..]),
            (None, &b""[..]),
        ] {
            let resp = raw(path, ct, body);
            assert_api_error(&resp, "invalid_content");
        }
        // Over 1 MiB (docs/api/easydb.md, decision 11), even when it is JSON.
        let mut big = b"[".to_vec();
        big.extend(std::iter::repeat_n(b' ', 1_100_000));
        big.push(b']');
        let resp = raw(path, Some("application/json"), &big);
        assert_api_error(&resp, "invalid_content");
        // JSON under another Content-Type is read as JSON.
        let resp = raw(path, Some("text/plain"), b"[]");
        assert_eq!(resp.assert_status(200).json(), json!([]), "{path}");
        let resp = raw(path, Some("application/x-www-form-urlencoded"), b"[]");
        assert_eq!(resp.assert_status(200).json(), json!([]), "{path}");
    }
    assert!(s.presets(&admin, "object").is_empty());
}

#[test]
fn responses_carry_the_json_type_and_the_easydb_version_headers() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let token = s.easydb_session();
    let answers = [
        s.easydb_start(),
        s.easydb_get("/api/v1/session", &token),
        s.easydb_get("/api/v1/right", &admin),
        s.easydb_get("/api/v1/right/object/presets", &admin),
        s.easydb_get("/api/v1/user", &admin),
        s.easydb_get("/api/v1/right/nope", &admin),
        s.easydb_get("/api/v1/right", &token),
        s.easydb_get("/api/v1/right", "nope"),
        s.easydb_get("/api/v1/nope", &admin),
        s.easydb("PUT", "/api/v1/right", &admin).send(),
        s.easydb_authenticate(&token, "nobody", "x"),
        s.post_presets(&admin, "object", &json!([])),
    ];
    for resp in answers {
        assert!(resp.status == 200 || resp.status == 400, "{resp:?}");
        let content_type = resp.header("content-type").unwrap_or_default();
        assert_eq!(
            content_type.to_ascii_lowercase().replace(' ', ""),
            "application/json;charset=utf-8",
            "{resp:?}"
        );
        for name in [
            "x-easydb-api-version",
            "x-easydb-base-schema-version",
            "x-easydb-user-schema-version",
        ] {
            assert_eq!(resp.header(name).as_deref(), Some("1"), "{name}: {resp:?}");
        }
        resp.json();
    }
}

#[test]
fn a_trailing_slash_is_tolerated() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let resp = s.get("/api/v1/session/");
    let token = resp.assert_status(200).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_unauthenticated(
        &s.easydb_get("/api/v1/session/", &token).json(),
        &token,
        "en-US",
    );
    let resp = s.easydb_authenticate(&token, ADMIN_LOGIN, tessera_tests::ADMIN_PASSWORD);
    resp.assert_status(200);
    assert_eq!(
        s.easydb_get("/api/v1/right/", &admin)
            .assert_status(200)
            .json(),
        s.easydb_get("/api/v1/right", &admin).json()
    );
    assert_eq!(
        s.easydb_get("/api/v1/right/object/", &admin)
            .assert_status(200)
            .json(),
        s.easydb_get("/api/v1/right/object", &admin).json()
    );
    let saved = s.easydb_post(
        "/api/v1/right/object/presets/",
        &admin,
        &json!([preset(None, 1, None, json!({}))]),
    );
    let saved = saved.assert_status(200).json();
    let listed = s.easydb_get("/api/v1/right/object/presets/", &admin);
    assert_eq!(listed.assert_status(200).json(), saved);
    let id = preset_id(&saved[0]);
    let resp = s
        .easydb(
            "DELETE",
            &format!("/api/v1/right/object/presets/{id}/"),
            &admin,
        )
        .send();
    assert_eq!(resp.assert_status(200).json(), json!({}));
    assert_eq!(
        s.easydb_get("/api/v1/user/", &admin)
            .assert_status(200)
            .json(),
        s.easydb_get("/api/v1/user", &admin).json()
    );
    let resp = s
        .easydb("POST", "/api/v1/session/deauthenticate/", &token)
        .send();
    assert_unauthenticated(&resp.assert_status(200).json(), &token, "en-US");
}

#[test]
fn the_token_may_come_in_the_header_and_the_query_wins() {
    let (s, _db) = Server::start();
    let admin = s.easydb_admin();
    let fresh = s.easydb_session();
    let with_header = |path: &str, token: &str| {
        s.request("GET", path)
            .header("x-easydb-token", token)
            .send()
    };

    // The header alone.
    with_header("/api/v1/right", &admin).assert_status(200);
    let session = with_header("/api/v1/session", &admin);
    assert_eq!(session.assert_status(200).json()["token"], admin.as_str());
    assert!(session.json().get("authenticated").is_some());
    // With the header, GET /api/v1/session reads that session instead of starting one.
    let read = with_header("/api/v1/session", &fresh);
    assert_unauthenticated(&read.json(), &fresh, "en-US");
    assert_user_error(
        &with_header("/api/v1/session", "nope"),
        "session_not_found",
        json!({"id": "nope"}),
    );
    assert_user_error(
        &with_header("/api/v1/right", "nope"),
        "session_not_found",
        json!({"id": "nope"}),
    );
    assert_user_error(
        &with_header("/api/v1/right", &fresh),
        "not_authenticated",
        json!({}),
    );
    let resp = s
        .request("POST", "/api/v1/right/object/presets")
        .header("x-easydb-token", &admin)
        .json(&json!([]))
        .send();
    assert_eq!(resp.assert_status(200).json(), json!([]));
    // Login and logout by header.
    let other = s.easydb_session();
    let resp = s
        .request("POST", "/api/v1/session/authenticate?login=admin")
        .header("x-easydb-token", &other)
        .form(&[("password", tessera_tests::ADMIN_PASSWORD)])
        .send();
    assert_eq!(resp.assert_status(200).json()["token"], other.as_str());
    let resp = s
        .request("POST", "/api/v1/session/deauthenticate")
        .header("x-easydb-token", &other)
        .send();
    assert_unauthenticated(&resp.assert_status(200).json(), &other, "en-US");

    // Both: the query is used, whatever the header says.
    let both = |query: &str, header: &str| {
        s.easydb("GET", "/api/v1/right/object", query)
            .header("x-easydb-token", header)
            .send()
    };
    both(&admin, "nope").assert_status(200);
    both(&admin, &fresh).assert_status(200);
    assert_user_error(
        &both("nope", &admin),
        "session_not_found",
        json!({"id": "nope"}),
    );
    assert_user_error(&both(&fresh, &admin), "not_authenticated", json!({}));
    let resp = s
        .easydb("GET", "/api/v1/session", &fresh)
        .header("x-easydb-token", &admin)
        .send();
    assert_unauthenticated(&resp.assert_status(200).json(), &fresh, "en-US");
    // An empty token counts as absent (docs/api/easydb.md, decision 1).
    let started = s.get("/api/v1/session?token=");
    let token = started.assert_status(200).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_token_shape(&token);
    assert_unauthenticated(&started.json(), &token, "en-US");
    assert_user_error(
        &s.get("/api/v1/right?token="),
        "not_authenticated",
        json!({}),
    );
    // No token at all.
    assert_user_error(&s.get("/api/v1/right"), "not_authenticated", json!({}));
    assert_user_error(&s.get("/api/v1/user"), "not_authenticated", json!({}));
    let resp = s
        .request("POST", "/api/v1/right/object/presets")
        .json(&json!([]))
        .send();
    assert_user_error(&resp, "not_authenticated", json!({}));
    let resp = s.request("DELETE", "/api/v1/right/object/presets/1").send();
    assert_user_error(&resp, "not_authenticated", json!({}));
}
