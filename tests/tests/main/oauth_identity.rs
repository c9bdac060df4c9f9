//! One identity for every family (issue 10, point 3; keyrock.md 7): OAuth2 user access
//! tokens are KHEOPS user credentials until revoked and never `/v1` API tokens; the store
//! holds no plaintext token, code or secret after any grant; deleting an IoT agent, an
//! application or a user ends their tokens, and disabled users get none; two server
//! processes on one database agree on tokens, revocations and the signing key.

use std::time::{Duration, Instant};

use auth_core::oauth::PkceMethod;
use auth_core::secrets::sha256_hex;
use serde_json::Value;
use tessera_tests::kheops::NOT_VALID;
use tessera_tests::oauth::*;
use tessera_tests::{json, string_field, Options, Resp, Server, TestDb, World};

/// The album ids of a KHEOPS album list.
fn album_ids(resp: &Resp) -> Vec<String> {
    resp.assert_status(200)
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| string_field(a, "album_id"))
        .collect()
}

/// `/user` refuses a token whose owner is gone: the token went with it (the token tables
/// cascade), so it is unknown.
#[track_caller]
fn assert_gone(s: &Server, token: &str) {
    s.user_of(token).assert_bare(401, TOKEN_UNKNOWN);
}

/// The refresh grant refuses a refresh token whose owner is gone.
#[track_caller]
fn assert_refresh_gone(s: &Server, app: &OAuthApp, refresh: &str) {
    let resp = s.refresh(app, refresh, None);
    assert_eq!(resp.status, 400, "body: {}", resp.body);
    let body = resp.json();
    assert_eq!(body["error"], "invalid_grant", "body: {body}");
    assert!(
        body["error_description"] == BAD_REFRESH || body["error_description"] == USED_REFRESH,
        "body: {body}"
    );
}

#[test]
fn oauth_access_tokens_are_kheops_credentials_until_revoked() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let t = s.user_tokens(&app, "bob", None);

    // An opaque token acts as bob.
    let album = s.new_album(&t.access, "Made with OAuth2");
    assert_eq!(
        album_ids(&s.kheops("GET", "/albums", &t.access)),
        [album.as_str()]
    );
    assert_eq!(
        album_ids(&s.kheops("GET", "/albums", &w.bob)),
        [album.as_str()]
    );
    assert_eq!(
        album_ids(&s.kheops("GET", "/albums", &w.carol)),
        Vec::<String>::new()
    );
    // So does a JWT.
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    assert_eq!(
        album_ids(&s.kheops("GET", "/albums", &jwt.access)),
        [album.as_str()]
    );

    // Revoked through /oauth2/revoke: refused by KHEOPS at once.
    s.revoke_token(&app, &t.access, None).assert_revoked();
    s.kheops("GET", "/albums", &t.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    s.kheops("GET", &format!("/albums/{album}"), &t.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    // Its refresh token yields a working credential, until that refresh token is revoked.
    let next = s.refresh(&app, t.refresh(), None).tokens();
    assert_eq!(
        album_ids(&s.kheops("GET", "/albums", &next.access)),
        [album.as_str()]
    );
    s.revoke_token(&app, next.refresh(), None).assert_revoked();
    s.kheops("GET", "/albums", &next.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    // A JWT dies with its application's jwt_secret.
    let path = format!("/v1/applications/{}", app.id);
    let patch = json!({"application": {"token_types": ["jwt"]}});
    s.send_json("PATCH", &path, &w.alice, &patch)
        .assert_status(200);
    s.kheops("GET", "/albums", &jwt.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);

    // Tokens that speak for no user are no user credentials.
    let cc = s.client_credentials(&app, None);
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let by_iot = s.password_grant(&app, &iot, &password);
    for token in [&cc.access, &by_iot.access] {
        s.kheops("GET", "/albums", token)
            .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    }
    // /v1 keeps its own API tokens: an OAuth2 token is unknown there.
    let live = s.user_tokens(&app, "bob", None);
    s.request("GET", "/v1/applications")
        .token(&live.access)
        .send()
        .assert_keyrock_error(404, "Token not found");
    s.request("GET", "/v1/applications")
        .bearer(&live.access)
        .send()
        .assert_keyrock_error(404, "Token not found");
    s.assert_token_valid(&live.access);
}

/// Notes what a grant handed out: every plaintext, and the digest of every stored value
/// (opaque access tokens and refresh tokens; JWTs are not stored).
fn keep(t: &Tokens, secrets: &mut Vec<String>, stored: &mut Vec<String>) {
    secrets.push(t.access.clone());
    if !t.access.contains('.') {
        stored.push(sha256_hex(&t.access));
    }
    if let Some(r) = &t.refresh {
        secrets.push(r.clone());
        stored.push(sha256_hex(r));
    }
}

#[test]
fn the_store_holds_no_plaintext_token_code_or_secret() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let (iot, iot_password) = s.new_iot_agent(&w.alice, &app.id);
    let mut secrets: Vec<String> = vec![app.secret.clone(), iot_password.clone()];
    let mut stored: Vec<String> = Vec::new();
    let check = |secrets: &[String], stored: &[String], step: &str| {
        let dump = db.dump_text();
        for secret in secrets {
            assert!(
                !dump.contains(secret.as_str()),
                "after {step}: {secret} is stored in plaintext"
            );
        }
        // The dump does read the token tables: their digests are there.
        for digest in stored {
            assert!(
                dump.contains(digest.as_str()),
                "after {step}: digest {digest} not found"
            );
        }
    };
    check(
        &secrets,
        &stored,
        "creating the application and the IoT agent",
    );

    let t = s.user_tokens(&app, "bob", None);
    keep(&t, &mut secrets, &mut stored);
    check(&secrets, &stored, "the password grant");
    keep(
        &s.password_grant(&app, &iot, &iot_password),
        &mut secrets,
        &mut stored,
    );
    check(&secrets, &stored, "the IoT password grant");
    keep(&s.client_credentials(&app, None), &mut secrets, &mut stored);
    keep(
        &s.client_credentials(&app, Some("permanent")),
        &mut secrets,
        &mut stored,
    );
    check(&secrets, &stored, "client_credentials");

    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let mut code = new_code(&app.id, &w.bob_id);
    code.pkce = pkce(PkceMethod::S256, &verifier);
    let issued = db.issue_code(&code);
    secrets.push(issued.clone());
    stored.push(sha256_hex(&issued));
    let from_code = s
        .redeem(
            &app,
            &issued,
            &[("redirect_uri", REDIRECT), ("code_verifier", &verifier)],
        )
        .tokens();
    keep(&from_code, &mut secrets, &mut stored);
    check(&secrets, &stored, "the authorization_code grant");

    let refreshed = s.refresh(&app, t.refresh(), None).tokens();
    keep(&refreshed, &mut secrets, &mut stored);
    check(&secrets, &stored, "the refresh_token grant");

    // JWT access tokens are not stored at all; their refresh tokens are, as digests.
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    keep(&jwt, &mut secrets, &mut stored);
    keep(
        &s.user_tokens(&app, "bob", Some("jwt,permanent")),
        &mut secrets,
        &mut stored,
    );
    check(&secrets, &stored, "JWT grants");

    // Revocations and a new client secret leave no plaintext either.
    s.revoke_token(&app, &refreshed.access, None)
        .assert_revoked();
    s.revoke_token(&app, jwt.refresh(), None).assert_revoked();
    let reset = s.keyrock(
        "POST",
        &format!("/v1/applications/{}/reset_secret", app.id),
        &w.alice,
    );
    secrets.push(string_field(&reset.assert_status(200).json(), "secret"));
    check(&secrets, &stored, "revocations and a secret reset");
}

#[test]
fn deleting_an_agent_an_application_or_a_user_ends_their_tokens() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let other = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let bob_elsewhere = s.user_tokens(&other, "bob", None);

    // An IoT agent.
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let (sibling, sibling_password) = s.new_iot_agent(&w.alice, &app.id);
    let t = s.password_grant(&app, &iot, &password);
    let kept = s.password_grant(&app, &sibling, &sibling_password);
    let path = format!("/v1/applications/{}/iot_agents/{iot}", app.id);
    s.keyrock("DELETE", &path, &w.alice).assert_no_content();
    assert_gone(&s, &t.access);
    assert_refresh_gone(&s, &app, t.refresh());
    assert_eq!(s.introspection(&app, &t.access), json!({"active": false}));
    s.try_password_grant(&app, &iot, &password, None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    s.assert_token_valid(&kept.access);

    // A user: tokens of every application, and codes.
    let carol = s.user_tokens(&app, "carol", None);
    let carol_elsewhere = s.user_tokens(&other, "carol", None);
    let code = db.issue_code(&new_code(&app.id, &w.carol_id));
    s.keyrock("DELETE", &format!("/v1/users/{}", w.carol_id), &w.admin)
        .assert_no_content();
    for (client, t) in [(&app, &carol), (&other, &carol_elsewhere)] {
        assert_gone(&s, &t.access);
        assert_refresh_gone(&s, client, t.refresh());
    }
    s.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    s.try_password_grant(&app, "carol@test.com", "carol-pw", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    s.assert_token_valid(&bob_elsewhere.access);

    // An application: user, IoT and application tokens; the client itself; its codes.
    let bob = s.user_tokens(&app, "bob", None);
    let cc = s.client_credentials(&app, None);
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));
    let album = s.new_album(&bob.access, "Soon orphaned credential");
    s.keyrock("DELETE", &format!("/v1/applications/{}", app.id), &w.alice)
        .assert_no_content();
    for token in [&bob.access, &cc.access, &kept.access] {
        assert_gone(&s, token);
    }
    let unauthorized = json!({"message": "Unauthorized", "code": 401, "title": "Unauthorized"});
    let resp = s.user_info(&[("access_token", &bob.access), ("app_id", &app.id)]);
    assert_eq!((resp.status, resp.json()), (401, unauthorized));
    s.kheops("GET", &format!("/albums/{album}"), &bob.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    s.token(app.client(), &[("grant_type", "client_credentials")])
        .assert_basic_refused();
    s.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .assert_basic_refused();
    // Nothing of the other application moved.
    s.assert_token_valid(&bob_elsewhere.access);
    s.refresh(&other, bob_elsewhere.refresh(), None).tokens();
}

#[test]
fn disabled_users_get_no_tokens() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let before = s.user_tokens(&app, "bob", None);
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));

    db.set_user_enabled(&w.bob_id, false);
    s.try_password_grant(&app, "bob@test.com", "bob-pw", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    // The tokens a disabled user already holds stop working: /user and KHEOPS refuse them.
    s.user_of(&before.access).assert_bare(401, TOKEN_REVOKED);
    s.kheops("GET", "/albums", &before.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    for resp in [
        s.redeem(&app, &code, &[("redirect_uri", REDIRECT)]),
        s.refresh(&app, before.refresh(), None),
    ] {
        assert_eq!(resp.status, 400, "body: {}", resp.body);
        assert_eq!(resp.json()["error"], "invalid_grant", "body: {}", resp.body);
        assert!(resp.json().get("access_token").is_none());
        resp.assert_uncached();
    }
    // Others are not affected, nor is the application's own grant.
    s.user_tokens(&app, "dave", None);
    s.client_credentials(&app, None);

    db.set_user_enabled(&w.bob_id, true);
    let t = s.user_tokens(&app, "bob", None);
    assert_eq!(
        s.user_of(&t.access).assert_status(200).json()["id"],
        w.bob_id
    );
}

/// Polls until `refused` holds or `limit` passes; how long it took, if it did.
fn within(limit: Duration, refused: impl Fn() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if refused() {
            return Some(start.elapsed());
        }
        if start.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_server_processes_share_tokens_revocations_and_keys() {
    let db = TestDb::new();
    let options = Options::default().env("TESSERA_OIDC_JWT_ALGORITHM", "RS256");
    let one = Server::start_on(&db, options.clone());
    let two = Server::start_on(&db, options);
    let w = World::new(&one);
    let app = one.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let limit = Duration::from_millis(1500);

    // Issued on one, honoured on two: /user, introspection, KHEOPS.
    let t = one.user_tokens(&app, "bob", None);
    assert_eq!(
        two.user_of(&t.access).assert_status(200).json()["id"],
        w.bob_id
    );
    assert_eq!(two.introspection(&app, &t.access)["active"], true);
    two.kheops("GET", "/albums", &t.access).assert_status(200);
    let jwt = one.user_tokens(&app, "bob", Some("jwt"));
    two.user_info(&[("access_token", &jwt.access), ("app_id", &app.id)])
        .assert_status(200);

    // Revoked on one (two has just used the token): refused by two within the bound.
    one.revoke_token(&app, &t.access, None).assert_revoked();
    let took = within(limit, || two.user_of(&t.access).status == 401);
    assert!(
        took.is_some(),
        "two still accepts a token revoked on one after {limit:?}"
    );
    two.assert_token_refused(&t.access, TOKEN_REVOKED);
    two.kheops("GET", "/albums", &t.access)
        .assert_kheops_error(401, "Unauthorized", NOT_VALID);
    assert_eq!(two.introspection(&app, &t.access), json!({"active": false}));

    // A refresh on two spends the token for one; revoking the new refresh token on two
    // takes its access token on one.
    let next = two.refresh(&app, t.refresh(), None).tokens();
    one.refresh(&app, t.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    one.assert_token_valid(&next.access);
    two.revoke_token(&app, next.refresh(), None)
        .assert_revoked();
    let took = within(limit, || one.user_of(&next.access).status == 401);
    assert!(
        took.is_some(),
        "one still accepts a token revoked on two after {limit:?}"
    );
    one.assert_token_refused(&next.access, TOKEN_REVOKED);

    // A code redeemed on one is a replay on two, which revokes what one issued.
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));
    let first = one
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    one.assert_token_valid(&first.access);
    two.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    let took = within(limit, || one.user_of(&first.access).status == 401);
    assert!(
        took.is_some(),
        "the replay on two did not reach one within {limit:?}"
    );

    // One signing key for both, whichever asks first after the other made it.
    let from_two = two.get("/.well-known/jwks.json").assert_status(200).json();
    let from_one = one.get("/.well-known/jwks.json").assert_status(200).json();
    assert_eq!(from_one, from_two);
    assert_eq!(
        from_one["keys"].as_array().map(Vec::len),
        Some(1),
        "{from_one}"
    );
    let certs: Value = one
        .get(&format!("/idm/applications/{}/certs", app.id))
        .assert_status(200)
        .json();
    assert_eq!(certs, from_two);
}
