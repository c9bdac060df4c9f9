//! Tessera driven by independent implementations (issue 10, point 4): the `oauth2` crate for
//! the grants, RFC 7009 revocation and RFC 7662 introspection, and `jsonwebtoken` as a
//! relying party verifying JWT access tokens (keyrock.md 5.9) against the application's
//! `jwt_secret` and reading the JWKS (5.7). Also the discovery documents of 5.7.
//!
//! Tessera's token responses carry `scope` as a JSON array (5.4, decision 1), where RFC 6749
//! has a space-separated string; the crate's standard response type rejects that, so the
//! suite gives the crate a response type that reads the array (the crate's documented
//! extension point). Everything else is the crate's own.

use std::io::Read;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, Client, ClientId, ClientSecret, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, IntrospectionUrl, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername,
    RevocationUrl, Scope, StandardRevocableToken, TokenIntrospectionResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use storage::schema::server_keys;
use tessera_tests::oauth::*;
use tessera_tests::{count, json, keys, sorted, string_field, Options, Server, World};

/// RFC 6749 5.1 with `scope` as a JSON array of strings.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TesseraTokenResponse {
    access_token: AccessToken,
    token_type: BasicTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Vec<Scope>>,
}

impl TokenResponse for TesseraTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scope.as_ref()
    }
}

type TesseraClient = Client<
    BasicErrorResponse,
    TesseraTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointSet,
>;

type TokenError = RequestTokenError<std::io::Error, BasicErrorResponse>;

/// The crate's client for `app` on `s`, with every endpoint Tessera serves.
fn client(s: &Server, app: &OAuthApp) -> TesseraClient {
    let url = |path: &str| format!("{}{path}", s.base);
    Client::new(ClientId::new(app.id.clone()))
        .set_client_secret(ClientSecret::new(app.secret.clone()))
        .set_auth_uri(AuthUrl::new(url("/oauth2/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(url("/oauth2/token")).unwrap())
        // The crate insists on https for revocation (RFC 7009 2); the transport below
        // stands in for a TLS-terminating proxy in front of the plain test server.
        .set_revocation_url(
            RevocationUrl::new(url("/oauth2/revoke").replacen("http://", "https://", 1)).unwrap(),
        )
        .set_introspection_url(IntrospectionUrl::new(url("/oauth2/introspect")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap())
}

/// The HTTP transport the crate calls: any status comes back as a response (never as an
/// error), redirects are not followed, the response keeps its Content-Type, and `https://`
/// reaches the plain loopback test server (see [`client`]).
fn http() -> impl Fn(HttpRequest) -> Result<HttpResponse, std::io::Error> {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build();
    move |request: HttpRequest| {
        let uri = request.uri().to_string();
        let uri = match uri.strip_prefix("https://") {
            Some(rest) => format!("http://{rest}"),
            None => uri,
        };
        let mut req = agent.request(request.method().as_str(), &uri);
        for (name, value) in request.headers() {
            let value = value.to_str().map_err(std::io::Error::other)?;
            req = req.set(name.as_str(), value);
        }
        let result = if request.body().is_empty() {
            req.call()
        } else {
            req.send_bytes(request.body())
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(std::io::Error::other(e.to_string())),
        };
        let mut builder = oauth2::http::Response::builder().status(response.status());
        if let Some(content_type) = response.header("content-type") {
            builder = builder.header("content-type", content_type);
        }
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body)?;
        builder.body(body).map_err(std::io::Error::other)
    }
}

/// Asserts that the crate read an RFC 6749 error with this code and description.
#[track_caller]
fn assert_server_error<T: std::fmt::Debug>(
    result: Result<T, TokenError>,
    error: BasicErrorResponseType,
    description: &str,
) {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(e.error(), &error, "{e:?}");
            assert_eq!(e.error_description().map(String::as_str), Some(description));
        }
        other => panic!("expected a {error:?} error response, got {other:?}"),
    }
}

fn scopes(t: &TesseraTokenResponse) -> Vec<String> {
    t.scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn the_oauth2_crate_runs_every_grant() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let c = client(&s, &app);
    let http = http();
    let bob = (
        ResourceOwnerUsername::new("bob@test.com".into()),
        ResourceOwnerPassword::new("bob-pw".into()),
    );

    // password.
    let t = c.exchange_password(&bob.0, &bob.1).request(&http).unwrap();
    assert_eq!(t.token_type(), &BasicTokenType::Bearer);
    assert_eq!(t.expires_in(), Some(Duration::from_secs(3599)));
    assert_eq!(scopes(&t), ["bearer"]);
    assert!(is_token_hex(t.access_token().secret()));
    let refresh = t.refresh_token().expect("a refresh token").clone();
    let info = s
        .user_of(t.access_token().secret())
        .assert_status(200)
        .json();
    assert_eq!(info["id"], w.bob_id);
    let wrong = ResourceOwnerPassword::new("wrong".into());
    assert_server_error(
        c.exchange_password(&bob.0, &wrong).request(&http),
        BasicErrorResponseType::InvalidGrant,
        BAD_USER,
    );
    assert_server_error(
        c.exchange_password(&bob.0, &bob.1)
            .add_scope(Scope::new("bearer".into()))
            .add_scope(Scope::new("jwt".into()))
            .request(&http),
        BasicErrorResponseType::InvalidScope,
        BAD_SCOPE,
    );
    // A client with a wrong secret: the 401 is still an error response the crate reads.
    let bad = client(
        &s,
        &OAuthApp {
            secret: "wrong".into(),
            ..app.clone()
        },
    );
    assert_server_error(
        bad.exchange_client_credentials().request(&http),
        BasicErrorResponseType::InvalidClient,
        BAD_CLIENT,
    );

    // client_credentials: no refresh token.
    let t = c.exchange_client_credentials().request(&http).unwrap();
    assert_eq!(t.token_type(), &BasicTokenType::Bearer);
    assert!(t.refresh_token().is_none());
    assert_eq!(
        s.user_of(t.access_token().secret())
            .assert_status(200)
            .json(),
        json!({"app_id": app.id})
    );

    // authorization_code with the crate's PKCE pair; the code is put in the store.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    assert_eq!(challenge.method().as_str(), "S256");
    let mut code = new_code(&app.id, &w.bob_id);
    code.pkce = Some(auth_core::oauth::PkceChallenge {
        method: auth_core::oauth::PkceMethod::S256,
        challenge: challenge.as_str().to_owned(),
    });
    let issued = db.issue_code(&code);
    assert_server_error(
        c.exchange_code(AuthorizationCode::new(issued.clone()))
            .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
            .request(&http),
        BasicErrorResponseType::InvalidGrant,
        BAD_VERIFIER,
    );
    let t = c
        .exchange_code(AuthorizationCode::new(issued.clone()))
        .set_pkce_verifier(verifier)
        .request(&http)
        .unwrap();
    assert_eq!(scopes(&t), ["bearer"]);
    assert!(t.refresh_token().is_some());
    let from_code = t.access_token().clone();
    assert_eq!(
        s.user_of(from_code.secret()).assert_status(200).json()["id"],
        w.bob_id
    );
    let (_, again) = PkceCodeChallenge::new_random_sha256();
    assert_server_error(
        c.exchange_code(AuthorizationCode::new(issued))
            .set_pkce_verifier(again)
            .request(&http),
        BasicErrorResponseType::InvalidGrant,
        BAD_CODE,
    );
    s.assert_token_refused(from_code.secret(), TOKEN_REVOKED);

    // refresh_token: rotation, and the spent token refused.
    let t = c.exchange_refresh_token(&refresh).request(&http).unwrap();
    assert_eq!(scopes(&t), ["bearer"]);
    let rotated = t.refresh_token().expect("a new refresh token").clone();
    assert_ne!(rotated.secret(), refresh.secret());
    assert_server_error(
        c.exchange_refresh_token(&refresh).request(&http),
        BasicErrorResponseType::InvalidGrant,
        USED_REFRESH,
    );
    // A JWT through the refresh grant, with a scope.
    let t = c
        .exchange_refresh_token(&rotated)
        .add_scope(Scope::new("jwt".into()))
        .request(&http)
        .unwrap();
    assert_eq!(t.token_type(), &BasicTokenType::Extension("jwt".into()));
    assert_eq!(t.expires_in(), None);
    assert_eq!(t.access_token().secret().split('.').count(), 3);
}

#[test]
fn the_oauth2_crate_revokes_and_introspects() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let other = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let c = client(&s, &app);
    let http = http();
    let bob = (
        ResourceOwnerUsername::new("bob@test.com".into()),
        ResourceOwnerPassword::new("bob-pw".into()),
    );
    let before = now_secs();
    let t = c.exchange_password(&bob.0, &bob.1).request(&http).unwrap();
    let access = t.access_token().clone();
    let refresh = t.refresh_token().unwrap().clone();

    // RFC 7662.
    let i = c.introspect(&access).request(&http).unwrap();
    assert!(i.active());
    assert_eq!(
        i.scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["bearer".to_owned()])
    );
    assert_eq!(i.client_id().map(|c| c.as_str()), Some(app.id.as_str()));
    assert_eq!(i.username(), Some("bob"));
    assert_eq!(i.sub(), Some(w.bob_id.as_str()));
    assert_eq!(i.token_type(), Some(&BasicTokenType::Bearer));
    let (iat, exp) = (i.iat().unwrap().timestamp(), i.exp().unwrap().timestamp());
    assert!(before - 1 <= iat && iat <= now_secs() + 1);
    assert_eq!(exp - iat, ACCESS_LIFETIME);
    let i = c
        .introspect(&AccessToken::new(refresh.secret().clone()))
        .set_token_type_hint("refresh_token")
        .request(&http)
        .unwrap();
    assert!(i.active());
    assert_eq!(
        i.token_type(),
        Some(&BasicTokenType::Extension("refresh_token".into()))
    );
    let jwt = c
        .exchange_password(&bob.0, &bob.1)
        .add_scope(Scope::new("jwt".into()))
        .request(&http)
        .unwrap();
    let i = c.introspect(jwt.access_token()).request(&http).unwrap();
    assert!(i.active());
    assert_eq!(
        i.token_type(),
        Some(&BasicTokenType::Extension("jwt".into()))
    );
    // Another application's client sees nothing.
    let theirs = client(&s, &other)
        .introspect(&access)
        .request(&http)
        .unwrap();
    assert!(!theirs.active());
    assert!(theirs.client_id().is_none() && theirs.sub().is_none());

    // RFC 7009: an access token, then a refresh token and what was issued with it.
    c.revoke_token(StandardRevocableToken::AccessToken(access.clone()))
        .unwrap()
        .request(&http)
        .unwrap();
    s.assert_token_refused(access.secret(), TOKEN_REVOKED);
    let i = c.introspect(&access).request(&http).unwrap();
    assert!(!i.active());
    assert!(i.scopes().is_none() && i.client_id().is_none() && i.exp().is_none());
    let t = c.exchange_refresh_token(&refresh).request(&http).unwrap();
    let (next_access, next_refresh) =
        (t.access_token().clone(), t.refresh_token().unwrap().clone());
    c.revoke_token(StandardRevocableToken::RefreshToken(next_refresh.clone()))
        .unwrap()
        .request(&http)
        .unwrap();
    assert_server_error(
        c.exchange_refresh_token(&next_refresh).request(&http),
        BasicErrorResponseType::InvalidGrant,
        USED_REFRESH,
    );
    s.assert_token_refused(next_access.secret(), TOKEN_REVOKED);
    // Unknown tokens revoke quietly.
    c.revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
        "0".repeat(40),
    )))
    .unwrap()
    .request(&http)
    .unwrap();
}

/// Decodes a JWT access token with the crate, HS256 and `key`; `exp` checked when present.
fn verify_hs256(token: &str, key: &str, with_exp: bool) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    if !with_exp {
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
    }
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(key.as_bytes()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("{token} does not verify: {e}"));
    assert_eq!(data.header.alg, Algorithm::HS256);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    data.claims
}

/// `iat` of a token issued between `before` and now; `exp` = `iat` + L when expected.
#[track_caller]
fn assert_times(claims: &Value, before: i64, with_exp: bool) {
    let iat = claims["iat"]
        .as_i64()
        .unwrap_or_else(|| panic!("no iat: {claims}"));
    assert!(before - 1 <= iat && iat <= now_secs() + 1, "iat {iat}");
    if with_exp {
        assert_eq!(
            claims["exp"].as_i64(),
            Some(iat + ACCESS_LIFETIME),
            "{claims}"
        );
    } else {
        assert!(claims.get("exp").is_none(), "{claims}");
    }
}

#[test]
fn jwt_access_tokens_verify_with_the_jwt_secret() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let key = app.jwt_key().to_owned();
    let r = s.new_role(&w.alice, &app.id, "Reader");
    s.grant_role(&w.alice, &app.id, &w.bob_id, &r);

    // A user's token: the /user object of bob, with type, iat and exp.
    let before = now_secs();
    let t = s.user_tokens(&app, "bob", Some("jwt"));
    let claims = verify_hs256(&t.access, &key, true);
    assert_times(&claims, before, true);
    assert_eq!(claims["type"], "user");
    assert_eq!(claims["id"], w.bob_id);
    assert_eq!(claims["sub"], w.bob_id);
    assert_eq!(claims["app_id"], app.id);
    assert_eq!(claims["username"], "bob");
    assert_eq!(claims["email"], "bob@test.com");
    assert_eq!(claims["authorization_decision"], "");
    assert_eq!(claims["roles"], json!([{"id": r, "name": "Reader"}]));
    let info = s.user_info(&[("access_token", &t.access), ("app_id", &app.id)]);
    let info = info.assert_status(200).json();
    let mut expected_keys = keys(&info);
    expected_keys.extend(["type".to_owned(), "iat".to_owned(), "exp".to_owned()]);
    expected_keys.sort();
    assert_eq!(keys(&claims), expected_keys);
    for (k, v) in info.as_object().unwrap() {
        if k != "trusted_apps" {
            assert_eq!(&claims[k], v, "claim {k}");
        }
    }
    // Any other key fails.
    let validation = Validation::new(Algorithm::HS256);
    assert!(jsonwebtoken::decode::<Value>(
        &t.access,
        &DecodingKey::from_secret(b"0123456789abcdef"),
        &validation
    )
    .is_err());

    // Permanent: no exp.
    let before = now_secs();
    let t = s.user_tokens(&app, "bob", Some("jwt,permanent"));
    let claims = verify_hs256(&t.access, &key, false);
    assert_times(&claims, before, false);
    assert_eq!(claims["type"], "user");

    // An IoT agent: type iot, its id.
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let t = s
        .try_password_grant(&app, &iot, &password, Some("jwt"))
        .tokens();
    let claims = verify_hs256(&t.access, &key, true);
    assert_eq!(claims["type"], "iot");
    assert_eq!(claims["id"], iot);
    assert_eq!(claims["app_id"], app.id);

    // The application itself: exactly app_id, type, iat, exp.
    let before = now_secs();
    let t = s.client_credentials(&app, Some("jwt"));
    let claims = verify_hs256(&t.access, &key, true);
    assert_eq!(keys(&claims), sorted(&["app_id", "type", "iat", "exp"]));
    assert_eq!(claims["type"], "app");
    assert_eq!(claims["app_id"], app.id);
    assert_times(&claims, before, true);
}

/// The RFC 7638 thumbprint of an RSA JWK: base64url SHA-256 of its required members.
fn thumbprint(jwk: &Value) -> String {
    use base64::Engine;
    use sha2::Digest;
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        string_field(jwk, "e"),
        string_field(jwk, "n")
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(canonical.as_bytes()))
}

#[test]
fn jwks_serves_the_server_key_with_rs256_and_nothing_with_hs256() {
    use base64::Engine;
    let options = Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256");
    let (s, db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);

    let resp = s.get("/.well-known/jwks.json");
    resp.assert_status(200).assert_json_type();
    let set = resp.json();
    let list = set["keys"].as_array().expect("keys");
    assert_eq!(list.len(), 1, "{set}");
    let jwk = &list[0];
    assert_eq!(keys(jwk), sorted(&["kty", "n", "e", "alg", "use", "kid"]));
    assert_eq!(
        (&jwk["kty"], &jwk["alg"], &jwk["use"]),
        (&json!("RSA"), &json!("RS256"), &json!("sig"))
    );
    assert_eq!(jwk["kid"], thumbprint(jwk));
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(string_field(jwk, "n"))
        .expect("n is base64url");
    assert_eq!(n.len(), 256, "a 2048-bit modulus");
    // The relying party's own reading of the set.
    let parsed: jsonwebtoken::jwk::JwkSet = serde_json::from_value(set.clone()).unwrap();
    let kid = string_field(jwk, "kid");
    let found = parsed.find(&kid).expect("the kid is found");
    let public = DecodingKey::from_jwk(found).expect("a usable RSA key");
    // It is the public half of the key the server signs with: a token signed with the
    // stored private key verifies against the published JWK, as a relying party checks it.
    let pem: String = {
        use storage::diesel::{QueryDsl, RunQueryDsl};
        let mut conn = db.conn();
        server_keys::table
            .select(server_keys::private_key)
            .first(&mut *conn)
            .expect("the stored key")
    };
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some(kid.clone());
    let signed = jsonwebtoken::encode(
        &header,
        &json!({"sub": "relying-party-check", "exp": 4_102_444_800_i64}),
        &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PKCS#8 PEM"),
    )
    .expect("sign");
    let verified =
        jsonwebtoken::decode::<Value>(&signed, &public, &Validation::new(Algorithm::RS256))
            .expect("verifies against the JWKS");
    assert_eq!(verified.claims["sub"], "relying-party-check");
    // The per-application document serves the same key; the key is in the store, once.
    let certs = s.get(&format!("/idm/applications/{}/certs", app.id));
    assert_eq!(certs.assert_status(200).json(), set);
    assert_eq!(
        s.get("/.well-known/jwks.json").json(),
        set,
        "the key is stable"
    );
    assert_eq!(count!(db, server_keys::table), 1);

    // JWT access tokens stay HS256 with the jwt_secret (5.9).
    let t = s.user_tokens(&app, "bob", Some("jwt"));
    assert_eq!(
        jsonwebtoken::decode_header(&t.access).unwrap().alg,
        Algorithm::HS256
    );
    verify_hs256(&t.access, app.jwt_key(), true);

    // HS256: empty sets.
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    for path in [
        "/.well-known/jwks.json".to_owned(),
        format!("/idm/applications/{}/certs", app.id),
    ] {
        let resp = s.get(&path);
        assert_eq!(
            resp.assert_status(200).json(),
            json!({"keys": []}),
            "{path}"
        );
    }
}

/// The members every discovery document shares (5.7).
#[track_caller]
fn assert_common_metadata(doc: &Value, p: &str, public: bool) {
    assert_eq!(doc["issuer"], p);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{p}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{p}/oauth2/token"));
    assert_eq!(doc["revocation_endpoint"], format!("{p}/oauth2/revoke"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{p}/oauth2/introspect")
    );
    assert_eq!(doc["userinfo_endpoint"], format!("{p}/user"));
    assert_eq!(
        doc["grant_types_supported"],
        json!([
            "authorization_code",
            "implicit",
            "password",
            "client_credentials",
            "refresh_token"
        ])
    );
    let mut methods = vec!["client_secret_basic", "client_secret_post"];
    if public {
        methods.push("none");
    }
    assert_eq!(doc["token_endpoint_auth_methods_supported"], json!(methods));
    for key in [
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        let list = doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {doc}"));
        for m in ["client_secret_basic", "client_secret_post"] {
            assert!(list.contains(&json!(m)), "{key}: {doc}");
        }
    }
    let response_types = doc["response_types_supported"]
        .as_array()
        .expect("response types");
    for t in ["code", "token"] {
        assert!(response_types.contains(&json!(t)), "{doc}");
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "bearer", "jwt", "permanent"])
    );
    assert!(doc["service_documentation"].is_string(), "{doc}");
}

#[test]
fn discovery_documents() {
    // HS256, no public grants.
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let p = s.base.clone();
    let oauth = s.get("/.well-known/oauth-authorization-server");
    oauth.assert_status(200).assert_json_type();
    let oauth = oauth.json();
    assert_common_metadata(&oauth, &p, false);
    assert!(oauth.get("jwks_uri").is_none(), "{oauth}");
    let oidc = s.get("/.well-known/openid-configuration");
    oidc.assert_status(200).assert_json_type();
    let oidc = oidc.json();
    assert_common_metadata(&oidc, &p, false);
    assert_eq!(oidc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        json!(["HS256"])
    );

    // The per-application document, with the application's own lists as arrays.
    let app = s.oauth_app_from(
        &w.alice,
        json!({"name": "oidc", "redirect_uri": REDIRECT, "scope": "openid",
               "grant_type": ["authorization_code", "password", "refresh_token"]}),
    );
    let stored = s.keyrock("GET", &format!("/v1/applications/{}", app.id), &w.alice);
    let stored = stored.assert_status(200).json()["application"].clone();
    let list = |field: &str| -> Value {
        json!(string_field(&stored, field).split(',').collect::<Vec<_>>())
    };
    let doc = s.get(&format!(
        "/idm/applications/{}/.well-known/openid-configuration",
        app.id
    ));
    doc.assert_status(200).assert_json_type();
    let doc = doc.json();
    let issuer = format!("{p}/idm/applications/{}", app.id);
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{p}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{p}/oauth2/token"));
    assert_eq!(doc["userinfo_endpoint"], format!("{p}/user"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/certs"));
    assert_eq!(doc["revoke_endpoint"], format!("{p}/oauth2/revoke"));
    assert_eq!(doc["revocation_endpoint"], format!("{p}/oauth2/revoke"));
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{p}/oauth2/introspect")
    );
    assert_eq!(doc["scopes_supported"], json!(["openid"]));
    assert_eq!(doc["grant_types_supported"], list("grant_type"));
    assert_eq!(doc["response_types_supported"], list("response_type"));
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["HS256"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    assert!(doc["service_documentation"].is_string(), "{doc}");
    // Empty lists and strings are omitted: no scope, no response type.
    let bare = s.oauth_app(&w.alice, &["client_credentials"], &[]);
    let doc = s.get(&format!(
        "/idm/applications/{}/.well-known/openid-configuration",
        bare.id
    ));
    let doc = doc.assert_status(200).json();
    assert!(doc.get("scopes_supported").is_none(), "{doc}");
    assert!(doc.get("response_types_supported").is_none(), "{doc}");
    assert_eq!(doc["grant_types_supported"], json!(["client_credentials"]));
    s.get("/idm/applications/no-such-app/.well-known/openid-configuration")
        .assert_keyrock_error(404, "Application not found");

    // RS256 and public grants.
    let options = Options::default()
        .env("TESSERA_OIDC_JWT_ALGORITHM", "RS256")
        .env("TESSERA_OAUTH_PUBLIC_GRANTS", "authorization_code");
    let (s, _db) = Server::start_with(options);
    let p = s.base.clone();
    let oauth = s
        .get("/.well-known/oauth-authorization-server")
        .assert_status(200)
        .json();
    assert_common_metadata(&oauth, &p, true);
    assert_eq!(oauth["jwks_uri"], format!("{p}/.well-known/jwks.json"));
    let oidc = s
        .get("/.well-known/openid-configuration")
        .assert_status(200)
        .json();
    assert_common_metadata(&oidc, &p, true);
    assert_eq!(oidc["jwks_uri"], format!("{p}/.well-known/jwks.json"));
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
}

/// The suite's own pieces, without a server: the response type reads Tessera's shapes
/// (5.4, 5.6), error statuses reach the crate's RFC 6749 parsing, and the transport reports
/// a refused connection as an error.
#[test]
fn the_client_pieces_read_tessera_shapes_offline() {
    let canned = |status: u16, body: &'static str| {
        move |_req: HttpRequest| -> Result<HttpResponse, std::io::Error> {
            Ok(oauth2::http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(body.as_bytes().to_vec())
                .unwrap())
        }
    };
    let app = OAuthApp {
        id: "a".into(),
        secret: "b".into(),
        jwt_secret: None,
    };
    let c = Client::new(ClientId::new(app.id.clone()))
        .set_client_secret(ClientSecret::new(app.secret.clone()))
        .set_auth_uri(AuthUrl::new("http://x/a".into()).unwrap())
        .set_token_uri(TokenUrl::new("http://x/t".into()).unwrap())
        .set_revocation_url(RevocationUrl::new("https://x/r".into()).unwrap())
        .set_introspection_url(IntrospectionUrl::new("http://x/i".into()).unwrap());
    let c: TesseraClient = c;
    let ok = canned(
        200,
        r#"{"access_token":"abc","token_type":"bearer","expires_in":3599,"refresh_token":"def","scope":["bearer","x"]}"#,
    );
    let t = c.exchange_client_credentials().request(&ok).unwrap();
    assert_eq!(scopes(&t), ["bearer", "x"]);
    let jwt = canned(
        200,
        r#"{"access_token":"a.b.c","token_type":"jwt","scope":["jwt"]}"#,
    );
    let t = c.exchange_client_credentials().request(&jwt).unwrap();
    assert_eq!(t.token_type(), &BasicTokenType::Extension("jwt".into()));
    let err = canned(
        401,
        r#"{"error":"invalid_client","error_description":"Invalid client: client is invalid"}"#,
    );
    assert_server_error(
        c.exchange_client_credentials().request(&err),
        BasicErrorResponseType::InvalidClient,
        BAD_CLIENT,
    );
    let i = canned(200, r#"{"active":false}"#);
    assert!(!c
        .introspect(&AccessToken::new("x".into()))
        .request(&i)
        .unwrap()
        .active());
    let i = canned(
        200,
        r#"{"active":true,"scope":"bearer","client_id":"a","username":"bob","sub":"s","exp":1735689600,"iat":1735686000,"token_type":"refresh_token"}"#,
    );
    let r = c
        .introspect(&AccessToken::new("x".into()))
        .request(&i)
        .unwrap();
    assert_eq!(
        r.token_type(),
        Some(&BasicTokenType::Extension("refresh_token".into()))
    );
    assert_eq!(
        r.exp().unwrap().timestamp() - r.iat().unwrap().timestamp(),
        3600
    );
    let empty = canned(200, "");
    c.revoke_token(StandardRevocableToken::AccessToken(AccessToken::new(
        "x".into(),
    )))
    .unwrap()
    .request(&empty)
    .unwrap();
    // The real shim, against a port where nothing listens: an I/O error, not a panic.
    let h = http();
    let req = oauth2::http::Request::builder()
        .method("POST")
        .uri("http://127.0.0.1:9/x")
        .body(b"a=b".to_vec())
        .unwrap();
    assert!(h(req).is_err());
}
