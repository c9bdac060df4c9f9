//! A real OpenID Connect relying party against Tessera (issue 11): the `openidconnect` crate,
//! an independent implementation, discovers the application's provider from
//! `/idm/applications/{id}/.well-known/openid-configuration` (keyrock.md 5.7), builds the
//! authorization URL (code flow, PKCE S256, nonce), exchanges the code and verifies the
//! id_token (5.8: signature, `iss`, `aud`, `exp`, `nonce`, `at_hash`) under HS256 and RS256.
//! The login and consent steps between them are the plain browser's form posts, with cookies.
//!
//! Adaptations on the test side, as for the `oauth2` crate in `oauth_client_crate.rs`:
//! - Tessera's token responses carry `scope` as a JSON array (5.4, decision 1); the crate's
//!   standard response reads a space-separated string, so the suite gives the crate a
//!   response type with the array and the `id_token` (the crate's documented extension
//!   point). Everything else is the crate's own.
//! - HS256 id_tokens are signed with the application's `jwt_secret` (5.8), where OIDC Core
//!   10.1 says the `client_secret`: the crate's HS256 verifier is built by the crate from the
//!   same discovery document, with the `jwt_secret` given as the client secret (the token
//!   endpoint still authenticates with the real secret).

use std::io::Read;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, EmptyAdditionalClaims, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, IssuerUrl, JsonWebKey, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, StandardErrorResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_tests::authorize::*;
use tessera_tests::oauth::*;
use tessera_tests::{json, Options, Server, World};

/// RFC 6749 5.1 with `scope` as a JSON array, plus the OIDC `id_token`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TesseraTokenResponse {
    access_token: AccessToken,
    token_type: CoreTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<Vec<Scope>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<CoreIdToken>,
}

impl OAuth2TokenResponse for TesseraTokenResponse {
    type TokenType = CoreTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &CoreTokenType {
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

impl
    TokenResponse<
        EmptyAdditionalClaims,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    > for TesseraTokenResponse
{
    fn id_token(&self) -> Option<&CoreIdToken> {
        self.id_token.as_ref()
    }
}

/// The crate's client as `from_provider_metadata` makes it, with the response type above.
type RelyingParty = openidconnect::Client<
    EmptyAdditionalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TesseraTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The HTTP transport the crate calls: any status comes back as a response, redirects are
/// not followed (the crate's own SSRF advice), the Content-Type is kept.
fn http() -> impl Fn(HttpRequest) -> Result<HttpResponse, std::io::Error> {
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(30))
        .build();
    move |request: HttpRequest| {
        let mut req = agent.request(request.method().as_str(), &request.uri().to_string());
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
        let mut builder = openidconnect::http::Response::builder().status(response.status());
        if let Some(content_type) = response.header("content-type") {
            builder = builder.header("content-type", content_type);
        }
        let mut body = Vec::new();
        response.into_reader().read_to_end(&mut body)?;
        builder.body(body).map_err(std::io::Error::other)
    }
}

/// The issuer of `app` on `s` (5.7, 5.8).
fn issuer(s: &Server, app: &OAuthApp) -> IssuerUrl {
    IssuerUrl::new(format!("{}/idm/applications/{}", s.base, app.id)).expect("an issuer URL")
}

/// What one run of the code flow leaves: the discovery document, the client, the token
/// response and the nonce.
struct Run {
    metadata: CoreProviderMetadata,
    client: RelyingParty,
    tokens: TesseraTokenResponse,
    nonce: Nonce,
}

/// Discovery, the crate's authorization URL, the plain browser's login and consent as
/// `user`, the crate's code exchange with the PKCE verifier.
fn code_flow(s: &Server, app: &OAuthApp, user: &str) -> Run {
    let http = http();
    let issuer = issuer(s, app);
    let metadata = CoreProviderMetadata::discover(&issuer, &http)
        .unwrap_or_else(|e| panic!("discovery from {}: {e:?}", issuer.as_str()));
    assert_eq!(metadata.issuer(), &issuer);
    let client = RelyingParty::from_provider_metadata(
        metadata.clone(),
        ClientId::new(app.id.clone()),
        Some(ClientSecret::new(app.secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let endpoint = format!("{}{AUTHORIZE}", s.base);
    assert!(url.as_str().starts_with(&endpoint), "{url}");
    let q = url.query().expect("the request in the query").to_owned();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&q).unwrap();
    for key in ["scope", "nonce", "code_challenge", "code_challenge_method"] {
        assert!(pairs.iter().any(|(k, _)| k == key), "no {key} in {q}");
    }

    let mut b = Browser::new(s);
    let r = b.run(&q, user);
    let params = r.params_at(REDIRECT, false);
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {:?}", r.location))
    };
    assert_eq!(&param("state"), state.secret(), "the state came back");
    let code = AuthorizationCode::new(param("code"));

    let tokens = client
        .exchange_code(code)
        .expect("a token endpoint was discovered")
        .set_pkce_verifier(verifier)
        .request(&http)
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    assert_eq!(tokens.token_type(), &CoreTokenType::Bearer);
    assert_eq!(
        tokens.expires_in(),
        Some(Duration::from_secs(ACCESS_LIFETIME as u64 - 1))
    );
    assert!(tokens.refresh_token().is_some());
    let scopes: Vec<String> = tokens
        .scopes()
        .map(|s| s.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(scopes, ["openid"]);
    Run {
        metadata,
        client,
        tokens,
        nonce,
    }
}

/// The claims of the run's id_token through `verifier` (signature, iss, aud, exp, nonce),
/// then its `at_hash` against the access token with the key that verified it.
#[track_caller]
fn verified_claims(
    run: &Run,
    verifier: &CoreIdTokenVerifier,
    key: &CoreJsonWebKey,
) -> CoreIdTokenClaims {
    let id_token = run
        .tokens
        .id_token()
        .expect("an id_token in the token response");
    let claims = id_token
        .claims(verifier, &run.nonce)
        .unwrap_or_else(|e| panic!("the relying party refuses the id_token: {e:?}"))
        .clone();
    let expected = claims.access_token_hash().expect("an at_hash");
    let actual = AccessTokenHash::from_token(
        run.tokens.access_token(),
        id_token.signing_alg().unwrap(),
        key,
    )
    .unwrap();
    assert_eq!(&actual, expected, "at_hash");
    assert_eq!(
        expected.as_str(),
        at_hash(run.tokens.access_token().secret())
    );
    claims
}

/// Asserts the claims of 5.8 for `user` at `app`.
#[track_caller]
fn assert_identity(
    claims: &CoreIdTokenClaims,
    s: &Server,
    app: &OAuthApp,
    user: &str,
    email: &str,
) {
    assert_eq!(claims.issuer(), &issuer(s, app));
    assert_eq!(claims.subject().as_str(), user);
    let audiences: Vec<&str> = claims.audiences().iter().map(|a| a.as_str()).collect();
    assert_eq!(audiences, [app.id.as_str()]);
    assert_eq!(
        (claims.expiration() - claims.issue_time()).num_seconds(),
        ACCESS_LIFETIME
    );
    assert_eq!(claims.email().map(|e| e.as_str()), Some(email));
}

/// A failure the crate reports for a token it must not accept.
#[track_caller]
fn assert_refused(result: Result<&CoreIdTokenClaims, ClaimsVerificationError>, what: &str) {
    assert!(result.is_err(), "{what}: accepted {result:?}");
}

#[test]
fn the_openidconnect_crate_runs_the_code_flow_with_hs256() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app_from(
        &w.alice,
        json!({"name": "relying party", "redirect_uri": REDIRECT, "scope": "openid"}),
    );
    let run = code_flow(&s, &app, "bob");
    assert_eq!(
        run.metadata.id_token_signing_alg_values_supported(),
        &vec![CoreJwsSigningAlgorithm::HmacSha256]
    );
    assert!(run.metadata.jwks().keys().is_empty(), "HS256: no keys");

    // The crate's verifier, from the same discovery, keyed with the jwt_secret.
    let keyed = RelyingParty::from_provider_metadata(
        run.metadata.clone(),
        ClientId::new(app.id.clone()),
        Some(ClientSecret::new(app.jwt_key().to_owned())),
    );
    let verifier = keyed.id_token_verifier();
    let key = CoreJsonWebKey::new_symmetric(app.jwt_key().as_bytes().to_vec());
    let claims = verified_claims(&run, &verifier, &key);
    assert_identity(&claims, &s, &app, &w.bob_id, "bob@test.com");

    // What the relying party must refuse: another nonce, another audience, another
    // issuer, another key (the client secret, per OIDC Core 10.1, is not Tessera's key).
    let id_token = run.tokens.id_token().unwrap();
    assert_refused(
        id_token.claims(&verifier, &Nonce::new("another nonce".into())),
        "another nonce",
    );
    let other_aud = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new("another-client".into()),
        ClientSecret::new(app.jwt_key().to_owned()),
        issuer(&s, &app),
        run.metadata.jwks().clone(),
    )
    .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha256]);
    assert_refused(id_token.claims(&other_aud, &run.nonce), "another audience");
    let other_iss = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(app.id.clone()),
        ClientSecret::new(app.jwt_key().to_owned()),
        IssuerUrl::new(format!("{}/idm/applications/another", s.base)).unwrap(),
        run.metadata.jwks().clone(),
    )
    .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha256]);
    assert_refused(id_token.claims(&other_iss, &run.nonce), "another issuer");
    assert_refused(
        id_token.claims(&run.client.id_token_verifier(), &run.nonce),
        "the client secret as the key",
    );

    // The userinfo endpoint of the discovery document, read by the crate.
    let info: CoreUserInfoClaims = run
        .client
        .user_info(
            run.tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .expect("a userinfo endpoint was discovered")
        .request(&http())
        .unwrap_or_else(|e| panic!("userinfo: {e:?}"));
    assert_eq!(info.subject().as_str(), w.bob_id);
    assert_eq!(info.email().map(|e| e.as_str()), Some("bob@test.com"));

    // The implicit flow `id_token token`, built and verified by the crate: the id_token of
    // the fragment carries the nonce and the at_hash of the token beside it.
    let (url, state, nonce) = run
        .client
        .authorize_url(
            CoreAuthenticationFlow::Implicit(true),
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let mut b = Browser::new(&s);
    let r = b.run(url.query().unwrap(), "bob");
    let p = |k: &str| {
        r.param_at(REDIRECT, true, k)
            .unwrap_or_else(|| panic!("no {k} in {:?}", r.location))
    };
    assert_eq!(&p("state"), state.secret());
    let id_token: CoreIdToken = p("id_token").parse().expect("an id_token");
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("the implicit id_token is refused: {e:?}"));
    let access = AccessToken::new(p("access_token"));
    assert_eq!(
        claims.access_token_hash(),
        Some(&AccessTokenHash::from_token(&access, id_token.signing_alg().unwrap(), &key).unwrap())
    );
    assert_eq!(claims.subject().as_str(), w.bob_id);
}

#[test]
fn the_openidconnect_crate_runs_the_code_flow_with_rs256() {
    let options = Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app_from(
        &w.alice,
        json!({"name": "relying party", "redirect_uri": REDIRECT, "scope": "openid"}),
    );
    let run = code_flow(&s, &app, "carol");
    assert_eq!(
        run.metadata.id_token_signing_alg_values_supported(),
        &vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    );
    assert_eq!(
        run.metadata.jwks_uri().as_str(),
        format!("{}/certs", issuer(&s, &app).as_str())
    );
    let keys = run.metadata.jwks().keys();
    assert_eq!(keys.len(), 1, "one server key");

    // The crate's own verifier: the JWKS key picked by kid, RS256 only.
    let verifier = run.client.id_token_verifier();
    let id_token = run.tokens.id_token().unwrap();
    let key = id_token
        .signing_key(&verifier)
        .expect("the id_token's kid names the published key")
        .clone();
    assert_eq!(key.key_id(), keys[0].key_id());
    assert!(key.key_id().is_some(), "the JWK has a kid");
    let claims = verified_claims(&run, &verifier, &key);
    assert_identity(&claims, &s, &app, &w.carol_id, "carol@test.com");
    assert_refused(
        id_token.claims(&verifier, &Nonce::new("another nonce".into())),
        "another nonce",
    );

    // Algorithm confusion: the same claims signed HS256 with the jwt_secret (a key the
    // application knows) are refused by an RS256 relying party.
    let payload: Value = {
        use base64::Engine;
        let part = id_token.to_string();
        let body = part.split('.').nth(1).unwrap().to_owned();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body)
                .unwrap(),
        )
        .unwrap()
    };
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &payload,
        &jsonwebtoken::EncodingKey::from_secret(app.jwt_key().as_bytes()),
    )
    .unwrap();
    let forged: CoreIdToken = forged.parse().unwrap();
    assert_refused(forged.claims(&verifier, &run.nonce), "an HS256 token");
}

/// The suite's own pieces, before the browser flow: the crate reads Tessera's discovery
/// document and keys (5.7), the response type reads a token response of 5.4 with an
/// id_token, and the verifiers accept an id_token made as 5.8 says (signed here with the
/// stored server key or the `jwt_secret`) and refuse one with another nonce.
#[test]
fn the_relying_party_reads_discovery_and_a_canned_token_response() {
    use storage::diesel::{QueryDsl, RunQueryDsl};
    use storage::schema::server_keys;
    let options = Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256");
    let (s, db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app_from(
        &w.alice,
        json!({"name": "relying party", "redirect_uri": REDIRECT, "scope": "openid"}),
    );
    let iss = issuer(&s, &app);
    let metadata = CoreProviderMetadata::discover(&iss, &http())
        .unwrap_or_else(|e| panic!("discovery: {e:?}"));
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        format!("{}{AUTHORIZE}", s.base)
    );
    assert_eq!(
        metadata.token_endpoint().map(|u| u.as_str().to_owned()),
        Some(format!("{}/oauth2/token", s.base))
    );
    let kid = metadata.jwks().keys()[0]
        .key_id()
        .expect("a kid")
        .as_str()
        .to_owned();
    let client = RelyingParty::from_provider_metadata(
        metadata.clone(),
        ClientId::new(app.id.clone()),
        Some(ClientSecret::new(app.secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let access = "0123456789abcdef0123456789abcdef01234567";
    let claims = json!({"iss": iss.as_str(), "sub": w.bob_id, "aud": app.id, "iat": now,
        "exp": now + ACCESS_LIFETIME, "nonce": "canned-nonce", "at_hash": at_hash(access),
        "id": w.bob_id, "username": "bob", "email": "bob@test.com", "roles": [],
        "organizations": [], "app_id": app.id, "trusted_apps": [], "isGravatarEnabled": "",
        "displayName": "", "authorization_decision": "", "app_azf_domain": "",
        "eidas_profile": {}, "attributes": {}, "shared_attributes": "", "given_name": "bob",
        "family_name": "bob", "image": "", "gravatar": "", "extra": null});
    let pem: String = server_keys::table
        .select(server_keys::private_key)
        .first(&mut *db.conn())
        .expect("the server key, made for the JWKS");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid);
    let signed = [
        (
            header,
            jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        ),
        (
            jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            jsonwebtoken::EncodingKey::from_secret(app.jwt_key().as_bytes()),
        ),
    ];
    for (i, (header, key)) in signed.into_iter().enumerate() {
        let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        let body = json!({"access_token": access, "token_type": "bearer", "expires_in": 3599,
            "refresh_token": "fedcba9876543210fedcba9876543210fedcba98", "scope": ["openid"],
            "id_token": id_token})
        .to_string();
        let canned = move |_req: HttpRequest| -> Result<HttpResponse, std::io::Error> {
            Ok(openidconnect::http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(body.clone().into_bytes())
                .unwrap())
        };
        let tokens = client
            .exchange_code(AuthorizationCode::new("canned".into()))
            .unwrap()
            .request(&canned)
            .unwrap_or_else(|e| panic!("the response type: {e:?}"));
        let run = Run {
            metadata: metadata.clone(),
            client: client.clone(),
            tokens,
            nonce: Nonce::new("canned-nonce".into()),
        };
        let hs256;
        let (verifier, key) = if i == 0 {
            let verifier = run.client.id_token_verifier();
            let key = run
                .tokens
                .id_token()
                .unwrap()
                .signing_key(&verifier)
                .unwrap()
                .clone();
            (verifier, key)
        } else {
            hs256 = RelyingParty::from_provider_metadata(
                metadata.clone(),
                ClientId::new(app.id.clone()),
                Some(ClientSecret::new(app.jwt_key().to_owned())),
            );
            let verifier = hs256
                .id_token_verifier()
                .set_allowed_algs([CoreJwsSigningAlgorithm::HmacSha256]);
            (
                verifier,
                CoreJsonWebKey::new_symmetric(app.jwt_key().as_bytes().to_vec()),
            )
        };
        let verified = verified_claims(&run, &verifier, &key);
        assert_identity(&verified, &s, &app, &w.bob_id, "bob@test.com");
        let id_token = run.tokens.id_token().unwrap();
        assert_refused(
            id_token.claims(&verifier, &Nonce::new("another".into())),
            "another nonce",
        );
    }
}
