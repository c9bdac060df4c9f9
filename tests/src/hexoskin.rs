//! The Hexoskin family's test kit (hexoskin-bundles.md): people with a bearer token and
//! their store id, the shipped bundles, and calls with a bearer token.

use serde_json::Value;

use crate::{json, Resp, Server, ADMIN_EMAIL};

/// A Tessera user as the Hexoskin family sees it.
#[derive(Debug, Clone)]
pub struct Person {
    /// The Keyrock string id.
    pub keyrock_id: String,
    /// The store id: the `id` of `/api/user/<id>/`.
    pub id: i64,
    pub username: String,
    pub email: String,
    /// A Keyrock API token of this user (a bearer credential of the family).
    pub token: String,
}

impl Person {
    /// `/api/user/<id>/`.
    pub fn uri(&self) -> String {
        format!("/api/user/{}/", self.id)
    }
}

/// The bootstrap admin, with a Keyrock API token.
pub fn admin(s: &Server) -> Person {
    let token = s.admin_token();
    person(s, "admin".to_owned(), "admin", ADMIN_EMAIL, token)
}

/// A new user `name` with the e-mail `<name>@test.com` (created by the admin through
/// `/v1/users`), logged in with a Keyrock API token.
pub fn user(s: &Server, admin: &Person, name: &str) -> Person {
    let email = format!("{name}@test.com");
    let password = format!("{name}-password");
    let keyrock_id = s.create_user(&admin.token, name, &email, &password);
    let token = s.login(&email, &password);
    person(s, keyrock_id, name, &email, token)
}

fn person(s: &Server, keyrock_id: String, username: &str, email: &str, token: String) -> Person {
    let account = call(s, "GET", "/api/account/", &token, None);
    assert_eq!(account.status, 200, "account of {email}: {}", account.body);
    let me = &account.json()["objects"][0];
    Person {
        keyrock_id,
        id: me["id"].as_i64().expect("account id"),
        username: username.to_owned(),
        email: email.to_owned(),
        token,
    }
}

/// A call with `Authorization: Bearer <token>` and an optional JSON body.
pub fn call(s: &Server, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    let req = s.request(method, path).bearer(token);
    match body {
        Some(body) => req.json(body).send(),
        None => req.send(),
    }
}

/// The id of the bundle named `name` (looked up by name, as the spec says).
pub fn bundle_id(s: &Server, token: &str, name: &str) -> i64 {
    let resp = call(s, "GET", "/api/bundle/?limit=0", token, None);
    assert_eq!(resp.status, 200, "{}", resp.body);
    resp.json()["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|b| b["name"] == name)
        .and_then(|b| b["id"].as_i64())
        .unwrap_or_else(|| panic!("no bundle {name}"))
}

/// `/api/bundle/<id>/`.
pub fn bundle_uri(id: i64) -> String {
    format!("/api/bundle/{id}/")
}

/// `by` grants `allowed` the bundle over `target`'s data (`POST /api/bundle_permission/`);
/// the answer.
pub fn grant(s: &Server, by: &Person, bundle: i64, allowed: &Person, target: &Person) -> Resp {
    call(
        s,
        "POST",
        "/api/bundle_permission/",
        &by.token,
        Some(&json!({
            "bundle": bundle_uri(bundle),
            "user_allowed": allowed.uri(),
            "user_target": target.uri(),
        })),
    )
}

/// `by` asks `target` to grant `allowed` the bundle (`POST /api/bundle_permission_request/`)
/// with extra body fields; the answer.
pub fn ask(
    s: &Server,
    by: &Person,
    bundle: i64,
    allowed: &Person,
    target: &Person,
    extra: Value,
) -> Resp {
    let mut body = json!({
        "bundle": bundle_uri(bundle),
        "user_allowed": allowed.uri(),
        "user_target": target.uri(),
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
    call(
        s,
        "POST",
        "/api/bundle_permission_request/",
        &by.token,
        Some(&body),
    )
}

/// The `id`s of a list answer's objects, in order.
pub fn ids(list: &Value) -> Vec<i64> {
    list["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["id"].as_i64().expect("id"))
        .collect()
}

/// Asserts the family's error body: `{"error": <message>}` and, for field errors, only the
/// resource's object beside it.
pub fn assert_error(resp: &Resp, status: u16) -> Value {
    assert_eq!(resp.status, status, "{}", resp.body);
    let body = resp.json();
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "no error string: {}",
        resp.body
    );
    body
}

/// The token of the link line `<base>/api/bundle_permission_request/<token>/` of a mail's
/// decoded lines.
pub fn token_in(lines: &[&str], base: &str) -> String {
    let prefix = format!("{base}/api/bundle_permission_request/");
    let line = lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no link line under {prefix} in {lines:?}"));
    let token = line[prefix.len()..].trim_end_matches('/').to_owned();
    assert_eq!(token.len(), 43, "{line}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    token
}
