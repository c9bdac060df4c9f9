//! The KHEOPS family (kheops.md) from a client's side: requests for albums, memberships and
//! capability tokens, the error bodies and list shape it answers, and the rows behind them.

use serde_json::{json, Value};
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{album_users, albums, capabilities};

use crate::time::parse_time;
use crate::{keys, sorted, string_field, Req, Resp, Server, TestDb, World};

pub const FORM: &str = "application/x-www-form-urlencoded";

// The error details of kheops.md 11.
pub const MALFORMED: &str = "Missing or malformed Authorization header";
pub const NOT_VALID: &str = "The token is not valid";
pub const CAP_RESOURCES: &str = "The bearer token is not valid for access to capability resources";
pub const ALBUM_NOT_FOUND: &str = "The album does not exist or you don't have access";
pub const ON_ALBUM: &str = "You don't have the permission to do this on this album";
pub const TOKEN_TYPE: &str = "You don't have the permission to do this with this type of token";
pub const PATCH_ADMIN: &str =
    "The user must be an admin for editing name, description or permissions";
pub const REMOVE_OTHER: &str = "You must be an admin for removing another user";
pub const ADD_YOURSELF: &str = "You can not add yourself to the album";
pub const USER_UNKNOWN: &str = "The user is unknown";
pub const NOT_MEMBER: &str = "The user is not a member of the album";
pub const UNSUPPORTED: &str = "Content-Type must be application/x-www-form-urlencoded";
pub const NOT_ACCEPTABLE: &str = "This resource only produces application/json";

/// The default lifetime of a capability token (kheops.md 2), in milliseconds.
pub const THREE_DAYS_MS: i64 = 259_200_000;

/// Form names of the six album-wide permissions, their JSON fields and defaults (4.1).
pub const FLAGS: [(&str, &str, bool); 6] = [
    ("addUser", "add_user", false),
    ("downloadSeries", "download_series", true),
    ("sendSeries", "send_series", true),
    ("deleteSeries", "delete_series", false),
    ("addSeries", "add_series", true),
    ("writeComments", "write_comments", true),
];

/// The four permission parameters of a capability token (5.3).
pub const PERMISSIONS: [&str; 4] = [
    "read_permission",
    "write_permission",
    "download_permission",
    "appropriate_permission",
];

/// The fields of the album JSON of 4.2 (without `users`).
pub const ALBUM_KEYS: [&str; 14] = [
    "album_id",
    "id",
    "name",
    "description",
    "created_time",
    "last_event_time",
    "number_of_users",
    "add_user",
    "download_series",
    "send_series",
    "delete_series",
    "add_series",
    "write_comments",
    "is_admin",
];

/// A capability token as created: its id, its secret and the whole 201 answer.
#[derive(Debug, Clone)]
pub struct Cap {
    pub id: String,
    pub secret: String,
    pub json: Value,
}

/// Requests, each with the credential as `Authorization: Bearer`.
impl Server {
    /// A request without a body or Content-Type, as KHEOPS clients send GET, PUT and DELETE.
    pub fn kheops(&self, method: &str, path: &str, credential: &str) -> Resp {
        self.request(method, path).bearer(credential).send()
    }

    pub fn get_as(&self, credential: &str, path: &str) -> Resp {
        self.kheops("GET", path, credential)
    }

    pub fn post_album(&self, credential: &str, fields: &[(&str, &str)]) -> Resp {
        self.request("POST", "/albums")
            .bearer(credential)
            .form(fields)
            .send()
    }

    /// `GET /albums/{album}`.
    pub fn album(&self, credential: &str, album: &str) -> Resp {
        self.get_as(credential, &format!("/albums/{album}"))
    }

    /// `GET /albums/{album}`, which must answer 200.
    #[track_caller]
    pub fn album_json(&self, credential: &str, album: &str) -> Value {
        self.album(credential, album).assert_status(200).json()
    }

    /// alice's album `name` where bob is a second admin and carol a plain member.
    #[track_caller]
    pub fn shared_album(&self, w: &World, name: &str) -> String {
        let album = self.new_album(&w.alice, name);
        self.put_admin(&w.alice, &album, &w.bob_id)
            .assert_no_content();
        self.put_member(&w.alice, &album, &w.carol_id)
            .assert_status(201);
        album
    }

    pub fn patch_album(&self, credential: &str, album: &str, fields: &[(&str, &str)]) -> Resp {
        self.request("PATCH", &format!("/albums/{album}"))
            .bearer(credential)
            .form(fields)
            .send()
    }

    pub fn delete_album(&self, credential: &str, album: &str) -> Resp {
        self.kheops("DELETE", &format!("/albums/{album}"), credential)
    }

    pub fn put_member(&self, credential: &str, album: &str, user: &str) -> Resp {
        self.kheops("PUT", &format!("/albums/{album}/users/{user}"), credential)
    }

    pub fn del_member(&self, credential: &str, album: &str, user: &str) -> Resp {
        self.kheops(
            "DELETE",
            &format!("/albums/{album}/users/{user}"),
            credential,
        )
    }

    pub fn put_admin(&self, credential: &str, album: &str, user: &str) -> Resp {
        let path = format!("/albums/{album}/users/{user}/admin");
        self.kheops("PUT", &path, credential)
    }

    pub fn del_admin(&self, credential: &str, album: &str, user: &str) -> Resp {
        let path = format!("/albums/{album}/users/{user}/admin");
        self.kheops("DELETE", &path, credential)
    }

    /// `(email, is_admin)` of every member of an album, as `GET /albums/{album}/users` lists
    /// them.
    #[track_caller]
    pub fn members_of(&self, credential: &str, album: &str) -> Vec<(String, bool)> {
        let resp = self.get_as(credential, &format!("/albums/{album}/users"));
        let count = resp.json().as_array().map_or(0, Vec::len);
        resp.assert_list(count)
            .iter()
            .map(|u| (string_field(u, "email"), u["is_admin"].as_bool().unwrap()))
            .collect()
    }

    pub fn create_cap(&self, credential: &str, fields: &[(&str, &str)]) -> Resp {
        self.request("POST", "/capabilities")
            .bearer(credential)
            .form(fields)
            .send()
    }

    /// Creates a capability token, which must answer 201.
    #[track_caller]
    pub fn new_cap(&self, credential: &str, fields: &[(&str, &str)]) -> Cap {
        let json = self
            .create_cap(credential, fields)
            .assert_status(201)
            .json();
        Cap {
            id: string_field(&json, "id"),
            secret: string_field(&json, "secret"),
            json,
        }
    }

    /// A user-scope token.
    #[track_caller]
    pub fn user_cap(&self, credential: &str, title: &str) -> Cap {
        self.new_cap(credential, &[("title", title), ("scope_type", "user")])
    }

    /// An album-scope token with `read_permission=true`.
    #[track_caller]
    pub fn album_cap(&self, credential: &str, album: &str, title: &str) -> Cap {
        self.new_cap(
            credential,
            &[
                ("title", title),
                ("scope_type", "album"),
                ("album", album),
                ("read_permission", "true"),
            ],
        )
    }

    pub fn get_cap(&self, credential: &str, id: &str) -> Resp {
        self.get_as(credential, &format!("/capabilities/{id}"))
    }

    /// `GET /capabilities<query>` (`query` starts with `?`, or is empty).
    pub fn list_caps(&self, credential: &str, query: &str) -> Resp {
        self.get_as(credential, &format!("/capabilities{query}"))
    }

    pub fn revoke(&self, credential: &str, id: &str) -> Resp {
        self.kheops("POST", &format!("/capabilities/{id}/revoke"), credential)
    }

    pub fn introspect(&self, token: &str) -> Resp {
        self.request("POST", "/token/introspect")
            .form(&[("token", token)])
            .send()
    }

    /// Whether introspection calls the token active; an inactive answer must be exactly
    /// `{"active": false}`.
    #[track_caller]
    pub fn active(&self, token: &str) -> bool {
        let body = self.introspect(token).assert_status(200).json();
        match body["active"].as_bool() {
            Some(true) => true,
            Some(false) => {
                assert_eq!(body, json!({"active": false}));
                false
            }
            None => panic!("no active field: {body}"),
        }
    }

    /// Every `WWW-Authenticate` value of the 401 that `method path` answers (the kit's
    /// responses keep only the first value of a header). POSTs carry a valid form.
    #[track_caller]
    pub fn challenges(&self, method: &str, path: &str, authorization: Option<&str>) -> Vec<String> {
        let mut req = ureq::request(method, &format!("{}{}", self.base, path));
        if let Some(a) = authorization {
            req = req.set("Authorization", a);
        }
        let result = if method == "GET" {
            req.call()
        } else {
            req.set("Content-Type", FORM)
                .send_string("title=t&scope_type=user&name=n")
        };
        match result {
            Err(ureq::Error::Status(401, r)) => r
                .all("www-authenticate")
                .iter()
                .map(|v| v.to_string())
                .collect(),
            Ok(r) => panic!("expected 401, got {}", r.status()),
            Err(e) => panic!("expected 401, got {e}"),
        }
    }
}

/// The fields of a form written as `a=1&b=2` (values without `&` or `=`), to be sent
/// encoded with [`Req::form`]: `s.create_cap(token, &form_fields("title=t&scope_type=user"))`.
pub fn form_fields(form: &str) -> Vec<(&str, &str)> {
    form.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect()
}

/// The credential as `Authorization: Bearer`, or as the password of `Basic`.
pub fn auth<'a>(req: Req<'a>, secret: &str, basic: bool) -> Req<'a> {
    if basic {
        req.basic("kheops", secret)
    } else {
        req.bearer(secret)
    }
}

/// Standard base64, for hand-made `Basic` headers.
pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Assertions on KHEOPS answers.
impl Resp {
    #[track_caller]
    pub fn assert_album_not_found(&self) {
        self.assert_kheops_error(404, "Album Not Found", ALBUM_NOT_FOUND);
    }

    /// 403 "Authorization error" with this detail.
    #[track_caller]
    pub fn assert_forbidden(&self, detail: &str) {
        self.assert_kheops_error(403, "Authorization error", detail);
    }

    /// 401 "Unauthorized" with this detail, and `WWW-Authenticate`.
    #[track_caller]
    pub fn assert_unauthorized(&self, detail: &str) {
        self.assert_kheops_error(401, "Unauthorized", detail);
        assert!(
            self.header("www-authenticate").is_some(),
            "a 401 without WWW-Authenticate"
        );
    }

    #[track_caller]
    pub fn assert_cap_not_found(&self) {
        self.assert_kheops_error(404, "Not Found", "Capability token not found");
    }

    #[track_caller]
    pub fn assert_user_unknown(&self) {
        self.assert_kheops_error(404, "User Not Found", USER_UNKNOWN);
    }

    /// 400 "Bad Form Parameter" with this detail.
    #[track_caller]
    pub fn assert_bad_form(&self, detail: &str) {
        self.assert_kheops_error(400, "Bad Form Parameter", detail);
    }

    /// 400 "Bad Query Parameter" with this detail.
    #[track_caller]
    pub fn assert_bad_query(&self, detail: &str) {
        self.assert_kheops_error(400, "Bad Query Parameter", detail);
    }

    #[track_caller]
    pub fn assert_no_store(&self) {
        let cc = self.header("cache-control").unwrap_or_default();
        assert!(
            cc.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store")),
            "Cache-Control: {cc:?}"
        );
    }

    /// A 200 list (1.3): a JSON array with `X-Total-Count: total` and
    /// `Access-Control-Expose-Headers` naming it. No item carries a secret or a null.
    #[track_caller]
    pub fn assert_list(&self, total: usize) -> Vec<Value> {
        self.assert_status(200).assert_json_type();
        assert_eq!(
            self.header("x-total-count").as_deref(),
            Some(total.to_string().as_str()),
            "{}",
            self.body
        );
        let expose = self
            .header("access-control-expose-headers")
            .unwrap_or_default();
        assert!(
            expose
                .split(',')
                .any(|h| h.trim().eq_ignore_ascii_case("x-total-count")),
            "Access-Control-Expose-Headers: {expose:?}"
        );
        let items = self.json().as_array().expect("an array").clone();
        for item in &items {
            assert!(item.get("secret").is_none(), "{item}");
            assert!(item.get("access_token").is_none(), "{item}");
            assert_no_null(item);
        }
        items
    }
}

/// The `id` of each item (albums carry it beside `album_id`).
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| string_field(i, "id")).collect()
}

/// A create answer as reads show it: without `secret` and `access_token`.
pub fn without_secret(token: &Value) -> Value {
    let mut v = token.clone();
    let obj = v.as_object_mut().expect("an object");
    obj.remove("secret");
    obj.remove("access_token");
    v
}

/// No field anywhere is null (1.3: such fields are left out).
#[track_caller]
pub fn assert_no_null(v: &Value) {
    fn walk(v: &Value, whole: &Value) {
        match v {
            Value::Null => panic!("null field in {whole}"),
            Value::Object(map) => map.values().for_each(|x| walk(x, whole)),
            Value::Array(items) => items.iter().for_each(|x| walk(x, whole)),
            _ => {}
        }
    }
    walk(v, v);
}

/// A string of `len` characters from `[A-Za-z0-9]` (ids and secrets, 1.4).
#[track_caller]
pub fn assert_alnum(value: &Value, len: usize) -> String {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"));
    assert_eq!(s.len(), len, "{s:?}");
    assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()), "{s:?}");
    s.to_owned()
}

/// The full album JSON of 4.2 (no `users`).
#[track_caller]
pub fn assert_album_shape(album: &Value) {
    assert_eq!(keys(album), sorted(&ALBUM_KEYS), "{album}");
    let id = assert_alnum(&album["album_id"], 10);
    assert_eq!(album["id"], id.as_str(), "{album}");
    parse_time(&album["created_time"]);
    parse_time(&album["last_event_time"]);
    assert!(album["number_of_users"].is_u64(), "{album}");
    for (_, field, _) in FLAGS {
        assert!(album[field].is_boolean(), "{field} in {album}");
    }
    assert!(album["is_admin"].is_boolean(), "{album}");
}

/// Challenges for both `Bearer` and `Basic` (1.3).
#[track_caller]
pub fn assert_challenges(values: &[String]) {
    let lower: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
    let has = |scheme: &str| {
        lower.iter().any(|v| {
            v.split(',')
                .any(|part| part.trim_start().starts_with(scheme))
        })
    };
    assert!(has("bearer"), "WWW-Authenticate: {values:?}");
    assert!(has("basic"), "WWW-Authenticate: {values:?}");
}

/// The rows behind the KHEOPS API.
impl TestDb {
    /// 1 if the album is stored, else 0.
    pub fn album_rows(&self, album: &str) -> i64 {
        albums::table
            .filter(albums::id.eq(album))
            .count()
            .get_result(&mut *self.conn())
            .unwrap()
    }

    /// Every album stored.
    pub fn all_albums(&self) -> i64 {
        albums::table.count().get_result(&mut *self.conn()).unwrap()
    }

    /// (user id, admin) of every membership of an album, sorted.
    pub fn memberships(&self, album: &str) -> Vec<(String, bool)> {
        let mut rows: Vec<(String, bool)> = album_users::table
            .filter(album_users::album_id.eq(album))
            .select((album_users::user_id, album_users::admin))
            .load(&mut *self.conn())
            .unwrap();
        rows.sort();
        rows
    }

    /// How many albums a user is a member of.
    pub fn memberships_of_user(&self, user: &str) -> i64 {
        album_users::table
            .filter(album_users::user_id.eq(user))
            .count()
            .get_result(&mut *self.conn())
            .unwrap()
    }

    /// 1 if the capability token is stored, else 0.
    pub fn capability_rows(&self, id: &str) -> i64 {
        capabilities::table
            .filter(capabilities::id.eq(id))
            .count()
            .get_result(&mut *self.conn())
            .unwrap()
    }

    /// (revoked, revoked_by) of a stored capability token.
    pub fn revocation(&self, id: &str) -> (bool, Option<String>) {
        capabilities::table
            .filter(capabilities::id.eq(id))
            .select((
                capabilities::revoke_time.is_not_null(),
                capabilities::revoked_by,
            ))
            .first(&mut *self.conn())
            .unwrap()
    }
}

/// `(user, admin)` pairs, sorted: the expected side of [`TestDb::memberships`].
pub fn rows(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = list.iter().map(|(u, a)| ((*u).to_owned(), *a)).collect();
    v.sort();
    v
}
