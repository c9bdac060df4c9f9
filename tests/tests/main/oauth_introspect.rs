//! `POST /oauth2/introspect` (keyrock.md 5.6, RFC 7662): the members of an active answer for
//! every kind of token, `{"active":false}` and nothing else for every token the caller may not
//! see, and the trusted-application rule (4.12) in its one direction.

use base64::Engine;
use serde_json::Value;
use tessera_tests::oauth::*;
use tessera_tests::{json, Options, Server, World};
use time::OffsetDateTime;

fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The claims of a JWT, read without verifying it.
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// `iat` of an answer, which must lie within [before - 1, after + 1].
#[track_caller]
fn iat_between(answer: &Value, before: i64, after: i64) -> i64 {
    let iat = answer["iat"]
        .as_i64()
        .unwrap_or_else(|| panic!("no iat: {answer}"));
    assert!(
        before - 1 <= iat && iat <= after + 1,
        "iat {iat} not in [{before}, {after}]"
    );
    iat
}

#[test]
fn introspection_errors_follow_the_common_rules() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);
    let introspect = |client: Option<(&str, &str)>, form: &[(&str, &str)]| {
        s.oauth_post("/oauth2/introspect", client, form)
    };
    introspect(None, &[("token", &t.access)]).assert_oauth_error(400, "invalid_client", NO_CLIENT);
    introspect(Some((&app.id, "wrong")), &[("token", &t.access)]).assert_basic_refused();
    introspect(Some(("idm_admin_app", "x")), &[("token", &t.access)]).assert_basic_refused();
    introspect(
        None,
        &[
            ("token", &t.access),
            ("client_id", &app.id),
            ("client_secret", "wrong"),
        ],
    )
    .assert_oauth_error(400, "invalid_client", BAD_CLIENT);
    introspect(Some(app.client()), &[]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("token"),
    );
    introspect(Some(app.client()), &[("token_type_hint", "access_token")]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("token"),
    );
    // Body credentials and any hint are fine.
    for hint in ["access_token", "refresh_token", "nonsense"] {
        let resp = introspect(
            None,
            &[
                ("token", &t.access),
                ("token_type_hint", hint),
                ("client_id", &app.id),
                ("client_secret", &app.secret),
            ],
        );
        resp.assert_status(200).assert_uncached();
        assert_eq!(resp.json()["active"], true);
    }
    // Introspection changes nothing.
    s.assert_token_valid(&t.access);
    s.refresh(&app, t.refresh(), None).tokens();
}

#[test]
fn active_answers_for_every_kind_of_token() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let id = app.id.as_str();

    // A bearer token of a user, and its refresh token.
    let before = now_secs();
    let t = s.user_tokens(&app, "bob", Some("bearer profile"));
    let after = now_secs();
    let got = s.introspection(&app, &t.access);
    let iat = iat_between(&got, before, after);
    assert_eq!(
        got,
        json!({"active": true, "scope": "bearer profile", "client_id": id, "username": "bob",
               "sub": w.bob_id, "exp": iat + ACCESS_LIFETIME, "iat": iat, "token_type": "bearer"})
    );
    let got = s.introspection(&app, t.refresh());
    let iat = iat_between(&got, before, after);
    assert_eq!(
        got,
        json!({"active": true, "scope": "bearer profile", "client_id": id, "username": "bob",
               "sub": w.bob_id, "exp": iat + REFRESH_LIFETIME, "iat": iat,
               "token_type": "refresh_token"})
    );

    // Permanent: no exp.
    let before = now_secs();
    let t = s.user_tokens(&app, "bob", Some("permanent"));
    let got = s.introspection(&app, &t.access);
    let iat = iat_between(&got, before, now_secs());
    assert_eq!(
        got,
        json!({"active": true, "scope": "permanent", "client_id": id, "username": "bob",
               "sub": w.bob_id, "iat": iat, "token_type": "bearer"})
    );

    // client_credentials: no username, no sub.
    let before = now_secs();
    let t = s.client_credentials(&app, None);
    let got = s.introspection(&app, &t.access);
    let iat = iat_between(&got, before, now_secs());
    assert_eq!(
        got,
        json!({"active": true, "scope": "bearer", "client_id": id,
               "exp": iat + ACCESS_LIFETIME, "iat": iat, "token_type": "bearer"})
    );

    // An IoT agent: sub is its id, no username; its refresh token alike.
    let (iot, password) = s.new_iot_agent(&w.alice, id);
    let before = now_secs();
    let t = s.password_grant(&app, &iot, &password);
    let got = s.introspection(&app, &t.access);
    let iat = iat_between(&got, before, now_secs());
    assert_eq!(
        got,
        json!({"active": true, "scope": "bearer", "client_id": id, "sub": iot,
               "exp": iat + ACCESS_LIFETIME, "iat": iat, "token_type": "bearer"})
    );
    let got = s.introspection(&app, t.refresh());
    assert_eq!(got["token_type"], "refresh_token");
    assert_eq!(got["sub"], iot);
    assert!(got.get("username").is_none(), "{got}");

    // A JWT access token: active through the application's jwt_secret; its times are the
    // token's own.
    let t = s.user_tokens(&app, "bob", Some("jwt"));
    let c = claims(&t.access);
    let got = s.introspection(&app, &t.access);
    assert_eq!(got["active"], true, "{got}");
    assert_eq!(got["token_type"], "jwt");
    assert_eq!(got["client_id"], id);
    assert_eq!(got["sub"], w.bob_id);
    assert_eq!(got["username"], "bob");
    assert_eq!(got["iat"], c["iat"]);
    assert_eq!(got["exp"], c["exp"]);
    // A permanent JWT has no exp.
    let t = s.user_tokens(&app, "bob", Some("jwt,permanent"));
    let got = s.introspection(&app, &t.access);
    assert_eq!(got["active"], true, "{got}");
    assert_eq!(got["token_type"], "jwt");
    assert!(got.get("exp").is_none(), "{got}");
    // A client_credentials JWT: no username, no sub.
    let t = s.client_credentials(&app, Some("jwt"));
    let got = s.introspection(&app, &t.access);
    assert_eq!(got["active"], true, "{got}");
    assert_eq!(got["client_id"], id);
    assert!(
        got.get("username").is_none() && got.get("sub").is_none(),
        "{got}"
    );
}

#[test]
fn inactive_is_exactly_active_false() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let other = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let inactive = json!({"active": false});

    // Unknown and malformed.
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(&jwt.access),
        &jsonwebtoken::EncodingKey::from_secret(b"not the jwt_secret"),
    )
    .unwrap();
    let parts: Vec<&str> = jwt.access.split('.').collect();
    let unsigned = format!("{}.{}.", parts[0], parts[1]);
    for token in [
        "0".repeat(40),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        forged,
        unsigned,
    ] {
        assert_eq!(s.introspection(&app, &token), inactive, "{token}");
    }
    assert_eq!(s.introspection(&app, &jwt.access)["active"], true);

    // Revoked, and a rotated refresh token.
    let t = s.user_tokens(&app, "bob", None);
    s.revoke_token(&app, &t.access, None).assert_revoked();
    assert_eq!(s.introspection(&app, &t.access), inactive);
    s.refresh(&app, t.refresh(), None).tokens();
    assert_eq!(s.introspection(&app, t.refresh()), inactive);

    // Tokens of another application, of every kind.
    let theirs = s.user_tokens(&other, "bob", None);
    let their_jwt = s.user_tokens(&other, "bob", Some("jwt"));
    let their_app = s.client_credentials(&other, None);
    for token in [
        &theirs.access,
        theirs.refresh(),
        &their_jwt.access,
        &their_app.access,
    ] {
        assert_eq!(s.introspection(&app, token), inactive);
        assert_eq!(s.introspection(&other, token)["active"], true);
    }
}

#[test]
fn expired_tokens_are_inactive() {
    let options = Options::default().env("TESSERA_ACCESS_TOKEN_LIFETIME", "1");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let bearer = s.user_tokens(&app, "bob", None);
    assert_eq!(s.introspection(&app, &bearer.access)["active"], true);
    assert_eq!(bearer.body["expires_in"], 0);
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    let permanent = s.user_tokens(&app, "bob", Some("permanent"));
    let cc = s.client_credentials(&app, None);

    std::thread::sleep(std::time::Duration::from_secs(2));
    for token in [&bearer.access, &jwt.access, &cc.access] {
        assert_eq!(s.introspection(&app, token), json!({"active": false}));
    }
    assert_eq!(s.introspection(&app, &permanent.access)["active"], true);
    assert_eq!(s.introspection(&app, bearer.refresh())["active"], true);
}

#[test]
fn an_application_sees_the_tokens_of_the_applications_it_trusts() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let a = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let t = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt"]);
    let of_t = s.user_tokens(&t, "bob", None);
    let jwt_of_t = s.user_tokens(&t, "bob", Some("jwt"));
    let of_a = s.user_tokens(&a, "bob", None);
    let inactive = json!({"active": false});
    assert_eq!(s.introspection(&a, &of_t.access), inactive);

    // A trusts T (4.12): A may introspect T's tokens, which keep T as their client.
    s.trust(&w.alice, &a.id, &t.id);
    let got = s.introspection(&a, &of_t.access);
    assert_eq!(got["active"], true, "{got}");
    assert_eq!(got["client_id"], t.id);
    assert_eq!(got["sub"], w.bob_id);
    assert_eq!(s.introspection(&a, &jwt_of_t.access)["active"], true);
    assert_eq!(s.introspection(&a, of_t.refresh())["active"], true);
    // Trust goes one way: T still sees nothing of A.
    assert_eq!(s.introspection(&t, &of_a.access), inactive);

    // Withdrawn, it is gone at once.
    let path = format!("/v1/applications/{}/trusted_applications/{}", a.id, t.id);
    s.keyrock("DELETE", &path, &w.alice).assert_no_content();
    assert_eq!(s.introspection(&a, &of_t.access), inactive);
    assert_eq!(s.introspection(&a, &jwt_of_t.access), inactive);
}
