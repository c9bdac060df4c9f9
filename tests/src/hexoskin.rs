//! The Hexoskin family's test kit (hexoskin-bundles.md): people with a bearer token and
//! their store id, the shipped bundles, and calls with a bearer token.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{json, keys, sorted, Resp, Server, ADMIN_EMAIL};

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

/// Asserts `Content-Type: application/json; charset=utf-8` (1.3).
#[track_caller]
pub fn assert_json_utf8(resp: &Resp) {
    let value = resp.header("content-type").unwrap_or_default();
    assert_eq!(
        value.to_ascii_lowercase().replace(' ', ""),
        "application/json;charset=utf-8",
        "Content-Type {value:?} of {} {}",
        resp.status,
        resp.body
    );
}

/// Asserts an error that is not about fields: this status, a JSON body that is exactly
/// `{"error": <non-empty string>}` (1.7), with `message` when given.
#[track_caller]
pub fn assert_plain_error(resp: &Resp, status: u16, message: Option<&str>) {
    let body = assert_error(resp, status);
    assert_eq!(keys(&body), sorted(&["error"]), "body: {}", resp.body);
    if let Some(message) = message {
        assert_eq!(body["error"], message, "body: {}", resp.body);
    }
    assert_json_utf8(resp);
}

#[track_caller]
pub fn assert_not_found(resp: &Resp) {
    assert_plain_error(resp, 404, Some("not found"));
}

#[track_caller]
pub fn assert_forbidden(resp: &Resp) {
    assert_plain_error(resp, 403, None);
}

#[track_caller]
pub fn assert_bad_request(resp: &Resp) {
    assert_plain_error(resp, 400, None);
}

/// 401 with the family's challenge and message (1.2, 1.7).
#[track_caller]
pub fn assert_unauthenticated(resp: &Resp) {
    assert_plain_error(resp, 401, Some("authentication required"));
    assert_eq!(
        resp.header("www-authenticate").as_deref(),
        Some("Bearer realm=\"tessera\""),
        "WWW-Authenticate of {}",
        resp.body
    );
}

/// A field-error 400 (1.7): `{"error": "invalid data", "<resource>": {...}}` with exactly
/// these fields, each a non-empty list of non-empty strings.
#[track_caller]
pub fn assert_fields(resp: &Resp, resource: &str, fields: &[&str]) {
    let body = assert_error(resp, 400);
    assert_eq!(body["error"], "invalid data", "body: {}", resp.body);
    assert_eq!(
        keys(&body),
        sorted(&["error", resource]),
        "body: {}",
        resp.body
    );
    assert_eq!(keys(&body[resource]), sorted(fields), "body: {}", resp.body);
    for field in fields {
        let messages = body[resource][*field]
            .as_array()
            .unwrap_or_else(|| panic!("{field} is not a list: {}", resp.body));
        assert!(
            !messages.is_empty(),
            "no message for {field}: {}",
            resp.body
        );
        for m in messages {
            assert!(
                m.as_str().is_some_and(|m| !m.is_empty()),
                "{field}: {}",
                resp.body
            );
        }
    }
    assert_json_utf8(resp);
}

/// The token of the link line `<base>/api/bundle_permission_request/<token>/` of a mail's
/// decoded lines.
pub fn token_in(lines: &[&str], base: &str) -> String {
    link_token(
        lines,
        &format!("{base}/api/bundle_permission_request/"),
        "/",
    )
}

/// The token of the decoded line that is exactly `<prefix><token><suffix>` (e.g. prefix
/// `https://app.example/accept?token=` and no suffix); a token is 43 characters of
/// base64url, never all digits (§2.5).
#[track_caller]
pub fn link_token(lines: &[&str], prefix: &str, suffix: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link line starting with {prefix} in {lines:?}"));
    let token = line[prefix.len()..]
        .strip_suffix(suffix)
        .unwrap_or_else(|| panic!("the link line does not end with {suffix:?}: {line}"));
    assert_eq!(token.len(), 43, "{line}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{line}"
    );
    assert!(!token.bytes().all(|b| b.is_ascii_digit()), "{line}");
    token.to_owned()
}

/// One `.eml` message as a mail client reads it (parsed by the `mailparse` crate): the
/// headers in order, values decoded, and the body with its transfer encoding and charset
/// undone.
#[derive(Debug, Clone)]
pub struct Eml {
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// `text/plain`, ...
    pub content_type: String,
    pub charset: String,
    pub multipart: bool,
}

impl Eml {
    pub fn parse(raw: &[u8]) -> Eml {
        let mail = mailparse::parse_mail(raw).unwrap_or_else(|e| panic!("not a message: {e}"));
        Eml {
            headers: mail
                .headers
                .iter()
                .map(|h| (h.get_key(), h.get_value()))
                .collect(),
            body: mail.get_body().unwrap_or_else(|e| panic!("a body: {e}")),
            content_type: mail.ctype.mimetype.clone(),
            charset: mail.ctype.charset.clone(),
            multipart: !mail.subparts.is_empty(),
        }
    }

    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// How often a header stands.
    pub fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn lines(&self) -> Vec<&str> {
        self.body.lines().collect()
    }
}

/// A server's `.eml` outbox: a fresh folder for `TESSERA_OUTBOX_DIR` (removed at the end),
/// and the messages a test has read from it.
pub struct Outbox {
    pub dir: PathBuf,
    read: HashSet<String>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new()
    }
}

impl Outbox {
    pub fn new() -> Outbox {
        let dir =
            std::env::temp_dir().join(format!("tessera_outbox_{}", uuid::Uuid::new_v4().simple()));
        Outbox {
            dir,
            read: HashSet::new(),
        }
    }

    /// The value for `TESSERA_OUTBOX_DIR`.
    pub fn setting(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    /// Every file of the folder, sorted (temporary names included).
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The whole messages not read yet (`.eml`, not a temporary name), in name order.
    pub fn unread(&self) -> Vec<String> {
        self.files()
            .into_iter()
            .filter(|n| n.ends_with(".eml") && !n.starts_with('.'))
            .filter(|n| !self.read.contains(n))
            .collect()
    }

    /// The one message written since the last call (waiting up to 10 s for it).
    #[track_caller]
    pub fn next_mail(&mut self) -> Eml {
        let deadline = Instant::now() + Duration::from_secs(10);
        let new = loop {
            let new = self.unread();
            if !new.is_empty() {
                break new;
            }
            assert!(
                Instant::now() < deadline,
                "no new .eml file in {}",
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(new.len(), 1, "more than one new message: {new:?}");
        let raw = std::fs::read(self.dir.join(&new[0])).expect("read the .eml file");
        self.read.insert(new[0].clone());
        Eml::parse(&raw)
    }

    /// The token of the next message's default link under `base`.
    #[track_caller]
    pub fn token(&mut self, base: &str) -> String {
        token_in(&self.next_mail().lines(), base)
    }

    /// Asserts that no message was written since the last [`Outbox::next_mail`].
    #[track_caller]
    pub fn assert_nothing_new(&self) {
        let new = self.unread();
        assert!(new.is_empty(), "unexpected messages: {new:?}");
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
