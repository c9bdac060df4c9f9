//! The OAuth2 side of the Keyrock family (keyrock.md 5, 6, 7) from a client's side: the
//! token, revocation and introspection endpoints, `/user`, the applications, IoT agents,
//! roles and permissions they need, and authorization codes put straight into the store
//! (the browser flow that issues them comes later).

use auth_core::oauth::{NewCode, PkceChallenge, PkceMethod};
use serde_json::Value;
use storage::diesel::{self, ExpressionMethods, RunQueryDsl};
use storage::schema::users;
use time::{Duration, OffsetDateTime};

use crate::{json, keys, sorted, string_field, Resp, Server, TestDb};

/// The redirect URI of every application made by [`Server::oauth_app`].
pub const REDIRECT: &str = "http://localhost/cb";
/// `TESSERA_ACCESS_TOKEN_LIFETIME` by default, in seconds.
pub const ACCESS_LIFETIME: i64 = 3600;
/// `TESSERA_REFRESH_TOKEN_LIFETIME` by default, in seconds.
pub const REFRESH_LIFETIME: i64 = 1_209_600;
/// Every grant type the token endpoint serves.
pub const TOKEN_GRANTS: [&str; 4] = [
    "password",
    "client_credentials",
    "authorization_code",
    "refresh_token",
];

// The descriptions of keyrock.md 5.1, 5.2 and 5.4 (the backticks are part of them).
pub const NOT_POST: &str = "Invalid request: method must be POST";
pub const NOT_FORM: &str = "Invalid request: content must be application/x-www-form-urlencoded";
pub const NO_CLIENT: &str = "Invalid client: cannot retrieve client credentials";
pub const BAD_CLIENT: &str = "Invalid client: client is invalid";
pub const UNSUPPORTED_GRANT: &str = "Unsupported grant type: `grant_type` is invalid";
pub const UNAUTHORIZED_GRANT: &str = "Unauthorized client: `grant_type` is invalid";
pub const BAD_SCOPE: &str = "Invalid scope: Requested scope is invalid";
pub const BAD_USER: &str = "Invalid grant: user credentials are invalid";
pub const BAD_CODE: &str = "Invalid grant: authorization code is invalid";
pub const CODE_EXPIRED: &str = "Invalid grant: authorization code has expired";
pub const BAD_REDIRECT: &str = "Invalid request: `redirect_uri` is invalid";
pub const BAD_VERIFIER: &str = "Invalid grant: code verifier is invalid";
pub const BAD_REFRESH: &str = "Invalid grant: refresh token is invalid";
pub const USED_REFRESH: &str = "Invalid grant: refresh token is no longer valid";
pub const REFRESH_EXPIRED: &str = "Invalid grant: refresh token has expired";

// The bare-string answers of `/user` (keyrock.md 6.1, 6.2).
pub const TOKEN_UNKNOWN: &str = "Invalid token: access token is invalid";
pub const TOKEN_REVOKED: &str = "Invalid token: access token is no longer valid";
pub const TOKEN_EXPIRED: &str = "Invalid token: access token has expired";
pub const NOT_IN_APP: &str = "User not authorized in application";

/// "Missing parameter: `<name>`".
pub fn missing(name: &str) -> String {
    format!("Missing parameter: `{name}`")
}

/// 40 lowercase hex characters: an opaque access token, refresh token or code (7).
pub fn is_token_hex(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// The S256 challenge of a PKCE verifier: base64url, no padding, of its SHA-256 (RFC 7636).
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    let hex = auth_core::secrets::sha256_hex(verifier);
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digest"))
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A code for `user` at `app`: scope `bearer`, [`REDIRECT`], no PKCE, valid five minutes.
/// Change the fields before [`TestDb::issue_code`].
pub fn new_code(app: &str, user: &str) -> NewCode {
    NewCode {
        client_id: app.to_owned(),
        user_id: user.to_owned(),
        scope: vec!["bearer".into()],
        redirect_uri: Some(REDIRECT.into()),
        pkce: None,
        nonce: None,
        expires_at: OffsetDateTime::now_utc() + Duration::minutes(5),
    }
}

/// A PKCE challenge of `verifier` with this method.
pub fn pkce(method: PkceMethod, verifier: &str) -> Option<PkceChallenge> {
    let challenge = match method {
        PkceMethod::S256 => s256(verifier),
        PkceMethod::Plain => verifier.to_owned(),
    };
    Some(PkceChallenge { method, challenge })
}

impl TestDb {
    /// Stores an authorization code, as the browser flow would, and returns its plaintext.
    pub fn issue_code(&self, code: &NewCode) -> String {
        let mut conn = self.conn();
        auth_core::oauth::issue_code(&mut conn, code, OffsetDateTime::now_utc())
            .expect("issue a code")
    }

    /// Enables or disables a user (no API changes `enabled`, keyrock.md 4.3).
    pub fn set_user_enabled(&self, user: &str, enabled: bool) {
        let n = diesel::update(users::table)
            .filter(users::id.eq(user))
            .set(users::enabled.eq(enabled))
            .execute(&mut *self.conn())
            .expect("update user");
        assert_eq!(n, 1, "no user {user}");
    }
}

/// An application made through `/v1` for OAuth2 tests: its id, the secret shown once at
/// creation, and its `jwt_secret` as its provider reads it.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub id: String,
    pub secret: String,
    pub jwt_secret: Option<String>,
}

impl OAuthApp {
    /// `(client_id, client_secret)` for [`Server::token`] and friends.
    pub fn client(&self) -> (&str, &str) {
        (&self.id, &self.secret)
    }

    /// The `jwt_secret`, which must be there.
    pub fn jwt_key(&self) -> &str {
        self.jwt_secret
            .as_deref()
            .expect("the application has a jwt_secret")
    }
}

/// What a successful grant handed out.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: Option<String>,
    pub body: Value,
}

impl Tokens {
    /// The refresh token, which must be there.
    pub fn refresh(&self) -> &str {
        self.refresh.as_deref().expect("a refresh token")
    }

    /// Asserts the body of keyrock.md 5.4 for a token of this scope with the default
    /// lifetime: `jwt` in the scope makes a JWT (`token_type` `jwt`, no `expires_in`),
    /// `permanent` drops `expires_in` and the refresh token; `refresh` says whether the
    /// grant hands out one otherwise (client_credentials does not).
    #[track_caller]
    pub fn assert_shape(&self, scope: &[&str], refresh: bool) {
        let jwt = scope.contains(&"jwt");
        let permanent = scope.contains(&"permanent");
        let mut members = vec!["access_token", "scope", "token_type"];
        if !jwt && !permanent {
            members.push("expires_in");
        }
        if refresh && !permanent {
            members.push("refresh_token");
        }
        assert_eq!(keys(&self.body), sorted(&members), "body: {}", self.body);
        assert_eq!(self.body["scope"], json!(scope), "body: {}", self.body);
        let token_type = if jwt { "jwt" } else { "bearer" };
        assert_eq!(self.body["token_type"], token_type, "body: {}", self.body);
        if jwt {
            assert_eq!(
                self.access.split('.').count(),
                3,
                "not a JWT: {}",
                self.access
            );
        } else {
            assert!(is_token_hex(&self.access), "not 40 hex: {}", self.access);
            assert_eq!(
                self.body["expires_in"].as_i64(),
                (!permanent).then_some(ACCESS_LIFETIME - 1)
            );
        }
        if let Some(refresh) = &self.refresh {
            assert!(is_token_hex(refresh), "not 40 hex: {refresh}");
            assert_ne!(refresh, &self.access);
        }
    }
}

/// Applications, agents and assignments through `/v1`, as the OAuth2 suites arrange them.
impl Server {
    /// An application with these grant types and token types (`bearer` is implied),
    /// redirect URI [`REDIRECT`], created by the holder of `token` (its provider).
    pub fn oauth_app(&self, token: &str, grants: &[&str], token_types: &[&str]) -> OAuthApp {
        self.oauth_app_from(
            token,
            json!({"name": "oauth app", "description": "an OAuth2 client", "url": "http://localhost",
                   "redirect_uri": REDIRECT, "grant_type": grants, "token_types": token_types}),
        )
    }

    /// An application from this `application` object (`POST /v1/applications`).
    pub fn oauth_app_from(&self, token: &str, application: Value) -> OAuthApp {
        let resp = self.send_json(
            "POST",
            "/v1/applications",
            token,
            &json!({ "application": application }),
        );
        let created = resp.assert_status(201).json()["application"].clone();
        let id = string_field(&created, "id");
        let secret = string_field(&created, "secret");
        let read = self.keyrock("GET", &format!("/v1/applications/{id}"), token);
        let jwt_secret = read.assert_status(200).json()["application"]["jwt_secret"]
            .as_str()
            .map(str::to_owned);
        assert_eq!(
            created["jwt_secret"].as_str(),
            jwt_secret.as_deref(),
            "the create answer and a read disagree on jwt_secret"
        );
        OAuthApp {
            id,
            secret,
            jwt_secret,
        }
    }

    /// A new IoT agent of `app`: `(id, password)`.
    pub fn new_iot_agent(&self, token: &str, app: &str) -> (String, String) {
        let resp = self.keyrock("POST", &format!("/v1/applications/{app}/iot_agents"), token);
        let agent = resp.assert_status(201).json()["iot_agent"].clone();
        (string_field(&agent, "id"), string_field(&agent, "password"))
    }

    /// `app` trusts `other`: tokens of `other` are valid with `app_id=app` (4.12).
    pub fn trust(&self, token: &str, app: &str, other: &str) {
        let path = format!("/v1/applications/{app}/trusted_applications/{other}");
        self.keyrock("PUT", &path, token).assert_status(201);
    }

    /// Gives `user` the role `role` in `app` directly (4.8).
    pub fn grant_role(&self, token: &str, app: &str, user: &str, role: &str) {
        let path = format!("/v1/applications/{app}/users/{user}/roles/{role}");
        self.keyrock("PUT", &path, token).assert_status(201);
    }

    /// Gives the `owner`s or `member`s of `org` the role `role` in `app` (4.9).
    pub fn grant_org_role(&self, token: &str, app: &str, org: &str, role: &str, org_role: &str) {
        let path = format!(
            "/v1/applications/{app}/organizations/{org}/roles/{role}/organization_roles/{org_role}"
        );
        self.keyrock("PUT", &path, token).assert_status(201);
    }

    /// Makes `user` an `owner` or `member` of `org` (4.4).
    pub fn set_member(&self, token: &str, org: &str, user: &str, org_role: &str) {
        let path = format!("/v1/organizations/{org}/users/{user}/organization_roles/{org_role}");
        self.keyrock("PUT", &path, token).assert_status(201);
    }

    /// Links a permission to a role (4.7).
    pub fn link_permission(&self, token: &str, app: &str, role: &str, permission: &str) {
        let path = format!("/v1/applications/{app}/roles/{role}/permissions/{permission}");
        self.keyrock("PUT", &path, token).assert_status(201);
    }

    /// Creates a permission from this `permission` object (4.6) and returns its id.
    pub fn permission_from(&self, token: &str, app: &str, permission: Value) -> String {
        let resp = self.send_json(
            "POST",
            &format!("/v1/applications/{app}/permissions"),
            token,
            &json!({ "permission": permission }),
        );
        string_field(&resp.assert_status(201).json()["permission"], "id")
    }
}

/// The OAuth2 endpoints (keyrock.md 5) and `/user` (6).
impl Server {
    /// `POST /oauth2/token` with `Authorization: Basic` and this form.
    pub fn token(&self, client: (&str, &str), form: &[(&str, &str)]) -> Resp {
        self.oauth_post("/oauth2/token", Some(client), form)
    }

    /// `POST <path>` with this form, with `Authorization: Basic` when `client` is given
    /// (otherwise the form carries whatever credentials the test wants).
    pub fn oauth_post(
        &self,
        path: &str,
        client: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> Resp {
        let req = self.request("POST", path);
        let req = match client {
            Some((id, secret)) => req.basic(id, secret),
            None => req,
        };
        req.form(form).send()
    }

    /// The password grant for `username`, whatever it answers.
    pub fn try_password_grant(
        &self,
        app: &OAuthApp,
        username: &str,
        password: &str,
        scope: Option<&str>,
    ) -> Resp {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(app.client(), &form)
    }

    /// A successful password grant (default scope).
    pub fn password_grant(&self, app: &OAuthApp, username: &str, password: &str) -> Tokens {
        self.try_password_grant(app, username, password, None)
            .tokens()
    }

    /// A successful password grant for a world user (`alice`, `bob`, ...), with a scope.
    pub fn user_tokens(&self, app: &OAuthApp, key: &str, scope: Option<&str>) -> Tokens {
        let (email, password) = (format!("{key}@test.com"), format!("{key}-pw"));
        self.try_password_grant(app, &email, &password, scope)
            .tokens()
    }

    /// A successful client_credentials grant.
    pub fn client_credentials(&self, app: &OAuthApp, scope: Option<&str>) -> Tokens {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(app.client(), &form).tokens()
    }

    /// The authorization_code grant with `code` and these extra fields.
    pub fn redeem(&self, app: &OAuthApp, code: &str, extra: &[(&str, &str)]) -> Resp {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
        form.extend_from_slice(extra);
        self.token(app.client(), &form)
    }

    /// The refresh_token grant, whatever it answers.
    pub fn refresh(&self, app: &OAuthApp, refresh_token: &str, scope: Option<&str>) -> Resp {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        self.token(app.client(), &form)
    }

    /// `POST /oauth2/revoke` of `token` (with an optional hint) as `app`.
    pub fn revoke_token(&self, app: &OAuthApp, token: &str, hint: Option<&str>) -> Resp {
        let mut form = vec![("token", token)];
        if let Some(hint) = hint {
            form.push(("token_type_hint", hint));
        }
        self.oauth_post("/oauth2/revoke", Some(app.client()), &form)
    }

    /// `POST /oauth2/introspect` of `token` as `app`.
    pub fn introspect_token(&self, app: &OAuthApp, token: &str) -> Resp {
        self.oauth_post(
            "/oauth2/introspect",
            Some(app.client()),
            &[("token", token)],
        )
    }

    /// The introspection answer of `token` as `app`, which must be a 200.
    pub fn introspection(&self, app: &OAuthApp, token: &str) -> Value {
        let resp = self.introspect_token(app, token);
        resp.assert_status(200).assert_uncached();
        resp.json()
    }

    /// `GET /user` with these query parameters.
    pub fn user_info(&self, query: &[(&str, &str)]) -> Resp {
        let query = serde_urlencoded::to_string(query).expect("query encoding");
        self.get(&format!("/user?{query}"))
    }

    /// `GET /user?access_token=<token>`.
    pub fn user_of(&self, token: &str) -> Resp {
        self.user_info(&[("access_token", token)])
    }

    /// Asserts that `/user` accepts `token` (for the application it was issued to).
    #[track_caller]
    pub fn assert_token_valid(&self, token: &str) {
        self.user_of(token).assert_status(200);
    }

    /// Asserts that `/user` refuses `token` with this bare string.
    #[track_caller]
    pub fn assert_token_refused(&self, token: &str, message: &str) {
        self.user_of(token).assert_bare(401, message);
    }
}

impl Resp {
    /// Asserts `Cache-Control: no-store` and `Pragma: no-cache` (5.1).
    #[track_caller]
    pub fn assert_uncached(&self) -> &Resp {
        let cache_control = self.header("cache-control").unwrap_or_default();
        assert!(
            cache_control
                .split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store")),
            "Cache-Control {cache_control:?} of {} {}",
            self.status,
            self.body
        );
        assert_eq!(
            self.header("pragma").as_deref(),
            Some("no-cache"),
            "Pragma of {} {}",
            self.status,
            self.body
        );
        self
    }

    /// Asserts an RFC 6749 error: status, `error`, `error_description` (exactly these two
    /// members) and the no-store headers.
    #[track_caller]
    pub fn assert_oauth_error(&self, status: u16, error: &str, description: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.json(),
            json!({"error": error, "error_description": description}),
            "body: {}",
            self.body
        );
        self.assert_json_type();
        self.assert_uncached();
    }

    /// Asserts the 401 of Basic credentials that decode but match no application: the
    /// error and the `WWW-Authenticate` challenge (5.1).
    #[track_caller]
    pub fn assert_basic_refused(&self) {
        self.assert_oauth_error(401, "invalid_client", BAD_CLIENT);
        assert_eq!(
            self.header("www-authenticate").as_deref(),
            Some("Basic realm=\"Service\""),
            "WWW-Authenticate"
        );
    }

    /// A successful token response: 200, JSON, no-store, an `access_token`.
    #[track_caller]
    pub fn tokens(&self) -> Tokens {
        self.assert_status(200).assert_uncached();
        self.assert_json_type();
        let body = self.json();
        Tokens {
            access: string_field(&body, "access_token"),
            refresh: body["refresh_token"].as_str().map(str::to_owned),
            body,
        }
    }

    /// Asserts a bare JSON string body with this status (`/user`, keyrock.md 6).
    #[track_caller]
    pub fn assert_bare(&self, status: u16, message: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(
            self.json(),
            Value::String(message.to_owned()),
            "body: {}",
            self.body
        );
        self.assert_json_type();
    }

    /// Asserts the answer of a revocation: 200 with an empty body and no-store (5.5).
    #[track_caller]
    pub fn assert_revoked(&self) {
        assert_eq!(self.status, 200, "body: {}", self.body);
        assert!(
            self.body.is_empty(),
            "revoke answered a body: {:?}",
            self.body
        );
        self.assert_uncached();
    }
}
