//! The easydb family (easydb-rights.md) from a client's side: sessions, the error body, the
//! easydb `_id` of Keyrock users and organizations, system rights and right presets.

use std::sync::Barrier;

use serde_json::Value;

use crate::{json, keys, Req, Resp, Server, ADMIN_PASSWORD};

/// The bootstrap admin's username (operations.md), its easydb `login`.
pub const ADMIN_LOGIN: &str = "admin";
/// The bootstrap admin's Keyrock id.
pub const ADMIN_KEYROCK_ID: &str = "admin";

/// `path` with `params` appended to its query string (URL-encoded).
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return path.to_owned();
    }
    let query = serde_urlencoded::to_string(params).expect("query encoding");
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// Asserts an easydb error body (easydb-rights.md 2): the status (400 for the `api` and
/// `user` realms, 500 for `server`), `realm`, `code` (given whole, or as the name after
/// `error.<realm>.`), and `parameters`: in the user realm always present and exactly
/// `parameters`; in the api realm absent (pass `Value::Null`). A `description` is a string
/// when present, and required in the api realm; only the server realm has a `uuid`.
#[track_caller]
pub fn assert_easydb_error(resp: &Resp, realm: &str, code: &str, parameters: Value) {
    let status = if realm == "server" { 500 } else { 400 };
    assert_eq!(resp.status, status, "body: {}", resp.body);
    resp.assert_json_type();
    let body = resp.json();
    let code = if code.starts_with("error.") {
        code.to_owned()
    } else {
        format!("error.{realm}.{code}")
    };
    assert_eq!(body["realm"], realm, "body: {}", resp.body);
    assert_eq!(body["code"], code.as_str(), "body: {}", resp.body);
    let allowed = ["realm", "code", "parameters", "description", "uuid"];
    for key in keys(&body) {
        assert!(
            allowed.contains(&key.as_str()),
            "unexpected {key}: {}",
            resp.body
        );
    }
    match realm {
        "user" => {
            assert_eq!(
                body.get("parameters"),
                Some(&parameters),
                "body: {}",
                resp.body
            );
        }
        _ => {
            assert!(
                parameters.is_null(),
                "the {realm} realm carries no parameters"
            );
            assert!(body.get("parameters").is_none(), "body: {}", resp.body);
        }
    }
    if realm == "api" || realm == "server" {
        assert!(body["description"].is_string(), "body: {}", resp.body);
    } else if let Some(description) = body.get("description") {
        assert!(description.is_string(), "body: {}", resp.body);
    }
    assert_eq!(
        body.get("uuid").is_some(),
        realm == "server",
        "body: {}",
        resp.body
    );
}

/// An `error.api.<name>` answer.
#[track_caller]
pub fn assert_api_error(resp: &Resp, name: &str) {
    assert_easydb_error(resp, "api", name, Value::Null);
}

/// An `error.user.<name>` answer with these parameters.
#[track_caller]
pub fn assert_user_error(resp: &Resp, name: &str, parameters: Value) {
    assert_easydb_error(resp, "user", name, parameters);
}

/// `error.user.no_system_right` naming `right`.
#[track_caller]
pub fn assert_no_right(resp: &Resp, right: &str) {
    assert_user_error(resp, "no_system_right", json!({ "right": right }));
}

/// `error.user.version_mismatch` with `provided` and `expected`.
#[track_caller]
pub fn assert_version_mismatch(resp: &Resp, provided: i64, expected: i64) {
    assert_user_error(
        resp,
        "version_mismatch",
        json!({"provided": provided.to_string(), "expected": expected.to_string()}),
    );
}

/// Asserts a session token as Tessera makes them: 43 alphanumeric characters.
#[track_caller]
pub fn assert_token_shape(token: &str) {
    assert_eq!(token.len(), 43, "token {token:?}");
    assert!(
        token.chars().all(|c| c.is_ascii_alphanumeric()),
        "token {token:?}"
    );
}

/// A right preset as a client sends it (easydb-rights.md 7.3, 8): `_id` and `_position`
/// only when given; `displayname` and `description` are left out.
pub fn preset(id: Option<i64>, version: i64, position: Option<i64>, rights: Value) -> Value {
    let mut inner = json!({"_version": version, "preset": {"rights": rights}});
    if let Some(id) = id {
        inner["_id"] = json!(id);
    }
    if let Some(position) = position {
        inner["_position"] = json!(position);
    }
    json!({"_basetype": "right_preset", "right_preset": inner})
}

/// The `right_preset` of a stored preset, `_id` of it.
#[track_caller]
pub fn preset_id(preset: &Value) -> i64 {
    preset["right_preset"]["_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no _id in {preset}"))
}

/// A user created through the Keyrock API, with its easydb `_id`.
#[derive(Debug, Clone)]
pub struct EasyUser {
    pub keyrock_id: String,
    pub id: i64,
    pub login: String,
    pub email: String,
    pub password: String,
}

impl Server {
    /// A request to the easydb family with `token` in the query string.
    pub fn easydb(&self, method: &str, path: &str, token: &str) -> Req<'_> {
        self.request(method, &with_query(path, &[("token", token)]))
    }

    /// `GET path?token=`.
    pub fn easydb_get(&self, path: &str, token: &str) -> Resp {
        self.easydb("GET", path, token).send()
    }

    /// `POST path?token=` with a JSON body.
    pub fn easydb_post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.easydb("POST", path, token).json(body).send()
    }

    /// `GET /api/v1/session`, whatever it answers.
    pub fn easydb_start(&self) -> Resp {
        self.get("/api/v1/session")
    }

    /// A new unauthenticated session's token.
    #[track_caller]
    pub fn easydb_session(&self) -> String {
        let resp = self.easydb_start();
        resp.assert_status(200);
        crate::string_field(&resp.json(), "token")
    }

    /// `POST /api/v1/session/authenticate?token=&login=&password=`, whatever it answers.
    pub fn easydb_authenticate(&self, token: &str, login: &str, password: &str) -> Resp {
        let path = with_query(
            "/api/v1/session/authenticate",
            &[("token", token), ("login", login), ("password", password)],
        );
        self.request("POST", &path).send()
    }

    /// A new session authenticated as `login`; its token.
    #[track_caller]
    pub fn easydb_login(&self, login: &str, password: &str) -> String {
        let token = self.easydb_session();
        let resp = self.easydb_authenticate(&token, login, password);
        assert_eq!(resp.status, 200, "easydb login of {login}: {}", resp.body);
        token
    }

    /// A session of the bootstrap admin (it holds `system.root`).
    #[track_caller]
    pub fn easydb_admin(&self) -> String {
        self.easydb_login(ADMIN_LOGIN, ADMIN_PASSWORD)
    }

    /// The session object of `token` (asserting 200).
    #[track_caller]
    pub fn easydb_session_of(&self, token: &str) -> Value {
        let resp = self.easydb_get("/api/v1/session", token);
        resp.assert_status(200);
        resp.json()
    }

    /// Every user through `GET /api/v1/user` (as a caller allowed to list them).
    #[track_caller]
    pub fn easydb_users(&self, session: &str) -> Vec<Value> {
        let resp = self.easydb_get("/api/v1/user", session);
        resp.assert_status(200);
        resp.json().as_array().expect("an array").clone()
    }

    /// Every group through `GET /api/v1/group`.
    #[track_caller]
    pub fn easydb_groups(&self, session: &str) -> Vec<Value> {
        let resp = self.easydb_get("/api/v1/group", session);
        resp.assert_status(200);
        resp.json().as_array().expect("an array").clone()
    }

    /// The easydb `_id` of the user with this Keyrock id, found in `GET /api/v1/user`.
    #[track_caller]
    pub fn easydb_user_id(&self, session: &str, keyrock_id: &str) -> i64 {
        self.easydb_users(session)
            .iter()
            .find(|u| u["user"]["keyrock_id"] == keyrock_id)
            .and_then(|u| u["user"]["_id"].as_i64())
            .unwrap_or_else(|| panic!("no easydb user with keyrock_id {keyrock_id}"))
    }

    /// The easydb `_id` of the organization with this Keyrock id.
    #[track_caller]
    pub fn easydb_group_id(&self, session: &str, keyrock_id: &str) -> i64 {
        self.easydb_groups(session)
            .iter()
            .find(|g| g["group"]["keyrock_id"] == keyrock_id)
            .and_then(|g| g["group"]["_id"].as_i64())
            .unwrap_or_else(|| panic!("no easydb group with keyrock_id {keyrock_id}"))
    }

    /// Creates `<name>` (e-mail `<name>@test.com`, password `<name>-pw`) through the
    /// Keyrock API and finds its easydb `_id` with the easydb admin session.
    #[track_caller]
    pub fn easydb_new_user(&self, keyrock_admin: &str, easydb_admin: &str, name: &str) -> EasyUser {
        let email = format!("{name}@test.com");
        let password = format!("{name}-pw");
        let keyrock_id = self.create_user(keyrock_admin, name, &email, &password);
        let id = self.easydb_user_id(easydb_admin, &keyrock_id);
        EasyUser {
            keyrock_id,
            id,
            login: name.to_owned(),
            email,
            password,
        }
    }

    /// Creates an organization through the Keyrock API (owned by the holder of
    /// `keyrock_token`) and returns its Keyrock id and easydb `_id`.
    #[track_caller]
    pub fn easydb_new_group(
        &self,
        keyrock_token: &str,
        easydb_admin: &str,
        name: &str,
    ) -> (String, i64) {
        let keyrock_id = self.new_organization(keyrock_token, name);
        let id = self.easydb_group_id(easydb_admin, &keyrock_id);
        (keyrock_id, id)
    }

    /// Makes `user` (Keyrock id) a member of `org` through the Keyrock API.
    #[track_caller]
    pub fn add_member(&self, keyrock_token: &str, org: &str, user: &str) {
        let path = format!("/v1/organizations/{org}/users/{user}/organization_roles/member");
        self.request("PUT", &path)
            .token(keyrock_token)
            .header("Content-Type", "application/json")
            .send()
            .assert_status(201);
    }

    /// `GET /api/v1/user/<id>`'s one user (asserting 200 and a one-element array).
    #[track_caller]
    pub fn easydb_user(&self, session: &str, id: i64) -> Value {
        let resp = self.easydb_get(&format!("/api/v1/user/{id}"), session);
        resp.assert_status(200);
        let list = resp.json();
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        list[0].clone()
    }

    /// `GET /api/v1/group/<id>`'s one group.
    #[track_caller]
    pub fn easydb_group(&self, session: &str, id: i64) -> Value {
        let resp = self.easydb_get(&format!("/api/v1/group/{id}"), session);
        resp.assert_status(200);
        let list = resp.json();
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        list[0].clone()
    }

    /// Replaces the own system rights of user `id` (read its version, post version + 1)
    /// with `session`; returns the updated user.
    #[track_caller]
    pub fn grant_user(&self, session: &str, id: i64, rights: Value) -> Value {
        let version = self.easydb_user(session, id)["user"]["_version"]
            .as_i64()
            .expect("_version");
        let body = json!([{"_basetype": "user", "user": {"_id": id, "_version": version + 1},
                           "_system_rights": rights}]);
        let resp = self.easydb_post("/api/v1/user", session, &body);
        resp.assert_status(200);
        resp.json()[0].clone()
    }

    /// The same for group `id`.
    #[track_caller]
    pub fn grant_group(&self, session: &str, id: i64, rights: Value) -> Value {
        let version = self.easydb_group(session, id)["group"]["_version"]
            .as_i64()
            .expect("_version");
        let body = json!([{"_basetype": "group", "group": {"_id": id, "_version": version + 1},
                           "_system_rights": rights}]);
        let resp = self.easydb_post("/api/v1/group", session, &body);
        resp.assert_status(200);
        resp.json()[0].clone()
    }

    /// `GET /api/v1/right/<context>/presets` (asserting 200).
    #[track_caller]
    pub fn presets(&self, session: &str, context: &str) -> Vec<Value> {
        let resp = self.easydb_get(&format!("/api/v1/right/{context}/presets"), session);
        resp.assert_status(200);
        resp.json().as_array().expect("an array").clone()
    }

    /// `POST /api/v1/right/<context>/presets`, whatever it answers.
    pub fn post_presets(&self, session: &str, context: &str, body: &Value) -> Resp {
        self.easydb_post(&format!("/api/v1/right/{context}/presets"), session, body)
    }

    /// `POST` of presets that must succeed; the stored presets.
    #[track_caller]
    pub fn save_presets(&self, session: &str, context: &str, body: &Value) -> Vec<Value> {
        let resp = self.post_presets(session, context, body);
        resp.assert_status(200);
        resp.json().as_array().expect("an array").clone()
    }

    /// `DELETE /api/v1/right/<context>/presets/<id>`, whatever it answers.
    pub fn delete_preset(&self, session: &str, context: &str, id: &str) -> Resp {
        self.easydb(
            "DELETE",
            &format!("/api/v1/right/{context}/presets/{id}"),
            session,
        )
        .send()
    }
}

/// Sends `bodies[i]` as `POST path?token=` from one thread each, released together; every
/// body is built before any thread starts, and every handle is collected before any join.
pub fn post_together(server: &Server, path: &str, token: &str, bodies: Vec<Value>) -> Vec<Resp> {
    let barrier = Barrier::new(bodies.len());
    let path = with_query(path, &[("token", token)]);
    let payloads: Vec<Vec<u8>> = bodies.iter().map(|b| b.to_string().into_bytes()).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = payloads
            .into_iter()
            .map(|payload| {
                let (barrier, path) = (&barrier, &path);
                s.spawn(move || {
                    let req = server
                        .request("POST", path)
                        .header("Content-Type", "application/json")
                        .raw(payload);
                    barrier.wait();
                    req.send()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    })
}

const EASYDB_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Parses an easydb timestamp, asserting the exact shape `YYYY-MM-DDTHH:MM:SSZ`
/// (easydb-rights.md 1); seconds since the epoch.
#[track_caller]
pub fn parse_easydb_time(value: &Value) -> i64 {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a time string"));
    let parsed = time::PrimitiveDateTime::parse(s, EASYDB_TIME)
        .unwrap_or_else(|e| panic!("{s:?} is not formatted like 2025-03-01T09:15:02Z: {e}"));
    let t = parsed.assume_utc();
    assert_eq!(t.format(EASYDB_TIME).expect("format"), s, "not canonical");
    t.unix_timestamp()
}

/// The `instance` object of every session (easydb-rights.md 4.5).
#[track_caller]
pub fn assert_instance(instance: &Value) {
    assert_eq!(
        keys(instance),
        crate::sorted(&["api", "server_version", "solution", "user-schema", "name"]),
        "{instance}"
    );
    assert_eq!(instance["api"], "1");
    // docs/api/easydb.md, decision 12.
    assert_eq!(instance["server_version"], 1, "{instance}");
    assert_eq!(instance["solution"], "tessera");
    assert_eq!(instance["user-schema"], 1);
    assert_eq!(instance["name"], "tessera");
}

/// An unauthenticated session object: exactly the four fields that are always there.
#[track_caller]
pub fn assert_unauthenticated(session: &Value, token: &str, language: &str) {
    assert_eq!(
        keys(session),
        crate::sorted(&[
            "token",
            "instance",
            "frontend_language",
            "authentication_methods"
        ]),
        "{session}"
    );
    assert_eq!(session["token"], token);
    assert_instance(&session["instance"]);
    assert_eq!(session["frontend_language"], language);
    assert_eq!(
        session["authentication_methods"],
        json!([{"method": "easydb"}])
    );
}

/// An authenticated session object of `user` (a user in full format as `GET
/// /api/v1/user/<id>` shows it) with these effective system rights; its groups are the
/// user's `_groups`. Returns the login timestamp in seconds.
#[track_caller]
pub fn assert_authenticated(session: &Value, token: &str, user: &Value, rights: &Value) -> i64 {
    assert_eq!(
        keys(session),
        crate::sorted(&[
            "token",
            "instance",
            "frontend_language",
            "authentication_methods",
            "authenticated",
            "user",
            "groups",
            "system_rights",
            "pending_tasks",
            "current_max_message_id",
        ]),
        "{session}"
    );
    assert_eq!(session["token"], token);
    assert_instance(&session["instance"]);
    assert_eq!(
        session["authentication_methods"],
        json!([{"method": "easydb"}])
    );
    let authenticated = &session["authenticated"];
    assert_eq!(keys(authenticated), crate::sorted(&["method", "timestamp"]));
    assert_eq!(authenticated["method"], "easydb");
    let at = parse_easydb_time(&authenticated["timestamp"]);
    let short = json!({"_basetype": "user", "user": user["user"], "_groups": user["_groups"]});
    assert_eq!(session["user"], short, "session user");
    assert_eq!(session["groups"], user["_groups"], "session groups");
    assert_eq!(&session["system_rights"], rights, "session system_rights");
    assert_eq!(session["pending_tasks"], json!([]));
    assert_eq!(session["current_max_message_id"], 0);
    at
}

/// The short format of a group (easydb-rights.md 3).
pub fn short_group(id: i64, name: &str, keyrock_id: &str) -> Value {
    json!({"_basetype": "group",
           "group": {"_id": id, "name": name, "type": "easydb", "keyrock_id": keyrock_id}})
}
