//! `POST /oauth2/revoke` (keyrock.md 5.5, RFC 7009): the answer never tells whether a token
//! existed, a client revokes only its own tokens, a refresh token takes its access tokens
//! with it, hints are only hints, and JWT access tokens live until their secret changes.
//! The state after is read through `/user`, introspection and the refresh grant.

use tessera_tests::oauth::*;
use tessera_tests::{json, string_field, Server, World};

#[test]
fn revoke_errors_and_answers_that_reveal_nothing() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let other = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let revoke = |client: Option<(&str, &str)>, form: &[(&str, &str)]| {
        s.oauth_post("/oauth2/revoke", client, form)
    };
    let t = s.user_tokens(&app, "bob", None);

    // Client authentication (5.1) comes first.
    revoke(None, &[("token", &t.access)]).assert_oauth_error(400, "invalid_client", NO_CLIENT);
    revoke(None, &[("token", &t.access), ("client_id", &app.id)]).assert_oauth_error(
        400,
        "invalid_client",
        NO_CLIENT,
    );
    revoke(Some((&app.id, "wrong")), &[("token", &t.access)]).assert_basic_refused();
    revoke(
        None,
        &[
            ("token", &t.access),
            ("client_id", &app.id),
            ("client_secret", "wrong"),
        ],
    )
    .assert_oauth_error(400, "invalid_client", BAD_CLIENT);
    revoke(Some(app.client()), &[]).assert_oauth_error(400, "invalid_request", &missing("token"));
    revoke(Some(app.client()), &[("token_type_hint", "access_token")]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("token"),
    );
    s.assert_token_valid(&t.access);

    // Unknown and malformed tokens: 200, empty.
    for token in ["0".repeat(40), "garbage".to_owned(), "a.b.c".to_owned()] {
        s.revoke_token(&app, &token, None).assert_revoked();
        s.revoke_token(&app, &token, Some("refresh_token"))
            .assert_revoked();
    }
    // Another application's tokens: 200, and nothing is revoked.
    let theirs = s.user_tokens(&other, "bob", None);
    s.revoke_token(&app, &theirs.access, None).assert_revoked();
    s.revoke_token(&app, theirs.refresh(), None)
        .assert_revoked();
    s.revoke_token(&app, theirs.refresh(), Some("refresh_token"))
        .assert_revoked();
    s.assert_token_valid(&theirs.access);
    assert_eq!(s.introspection(&other, &theirs.access)["active"], true);
    s.refresh(&other, theirs.refresh(), None).tokens();

    // Body credentials work as well as Basic; revoking twice is still 200.
    revoke(
        None,
        &[
            ("token", &t.access),
            ("client_id", &app.id),
            ("client_secret", &app.secret),
        ],
    )
    .assert_revoked();
    s.assert_token_refused(&t.access, TOKEN_REVOKED);
    s.revoke_token(&app, &t.access, None).assert_revoked();
    s.assert_token_refused(&t.access, TOKEN_REVOKED);

    // client_credentials and IoT tokens are revoked the same way.
    let cc = s.client_credentials(&app, None);
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let by_iot = s.password_grant(&app, &iot, &password);
    for token in [&cc.access, &by_iot.access] {
        s.assert_token_valid(token);
        s.revoke_token(&app, token, None).assert_revoked();
        s.assert_token_refused(token, TOKEN_REVOKED);
        assert_eq!(s.introspection(&app, token), json!({"active": false}));
    }
    // The IoT agent's refresh token survives its access token.
    let next = s.refresh(&app, by_iot.refresh(), None).tokens();
    assert_eq!(s.user_of(&next.access).assert_status(200).json()["id"], iot);
}

#[test]
fn revoking_an_access_token_keeps_its_refresh_token() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);
    let neighbour = s.user_tokens(&app, "bob", None);

    s.revoke_token(&app, &t.access, None).assert_revoked();
    s.assert_token_refused(&t.access, TOKEN_REVOKED);
    assert_eq!(s.introspection(&app, &t.access), json!({"active": false}));
    assert_eq!(s.introspection(&app, t.refresh())["active"], true);
    s.assert_token_valid(&neighbour.access);

    let next = s.refresh(&app, t.refresh(), None).tokens();
    next.assert_shape(&["bearer"], true);
    assert_eq!(
        s.user_of(&next.access).assert_status(200).json()["id"],
        w.bob_id
    );
}

#[test]
fn revoking_a_refresh_token_takes_the_access_tokens_issued_with_it() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let first = s.user_tokens(&app, "bob", None);
    let second = s.refresh(&app, first.refresh(), None).tokens();
    let neighbour = s.user_tokens(&app, "bob", None);

    s.revoke_token(&app, second.refresh(), None)
        .assert_revoked();
    s.refresh(&app, second.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    s.assert_token_refused(&second.access, TOKEN_REVOKED);
    assert_eq!(
        s.introspection(&app, second.refresh()),
        json!({"active": false})
    );
    // The access token issued with the refresh token that the rotation spent lives on,
    // and so do unrelated tokens.
    s.assert_token_valid(&first.access);
    s.assert_token_valid(&neighbour.access);
    s.refresh(&app, neighbour.refresh(), None).tokens();

    // The same for an IoT agent.
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let t = s.password_grant(&app, &iot, &password);
    s.revoke_token(&app, t.refresh(), Some("refresh_token"))
        .assert_revoked();
    s.assert_token_refused(&t.access, TOKEN_REVOKED);
    s.refresh(&app, t.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
}

#[test]
fn token_type_hints_are_only_hints() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    for hint in [
        Some("access_token"),
        Some("refresh_token"),
        Some("garbage"),
        Some(""),
        None,
    ] {
        // An access token, whatever the hint says.
        let t = s.user_tokens(&app, "bob", None);
        s.revoke_token(&app, &t.access, hint).assert_revoked();
        s.assert_token_refused(&t.access, TOKEN_REVOKED);
        s.refresh(&app, t.refresh(), None).tokens();
        // A refresh token, whatever the hint says.
        let t = s.user_tokens(&app, "bob", None);
        s.revoke_token(&app, t.refresh(), hint).assert_revoked();
        s.refresh(&app, t.refresh(), None)
            .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
        s.assert_token_refused(&t.access, TOKEN_REVOKED);
    }
}

#[test]
fn jwt_access_tokens_cannot_be_revoked_but_die_with_their_secret() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    let permanent = s.user_tokens(&app, "bob", Some("jwt,permanent"));
    let with_app = |token: &str| s.user_info(&[("access_token", token), ("app_id", &app.id)]);

    for token in [&jwt.access, &permanent.access] {
        for hint in [None, Some("access_token"), Some("refresh_token")] {
            s.revoke_token(&app, token, hint).assert_revoked();
        }
        let info = with_app(token).assert_status(200).json();
        assert_eq!(info["id"], w.bob_id);
        assert_eq!(s.introspection(&app, token)["active"], true);
    }
    // Revoking the JWT's refresh token spends it; the JWT itself is not stored and lives on.
    s.revoke_token(&app, jwt.refresh(), None).assert_revoked();
    s.refresh(&app, jwt.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    with_app(&jwt.access).assert_status(200);

    // A new jwt_secret (4.2) is the one lever: every JWT signed with the old one dies.
    let path = format!("/v1/applications/{}", app.id);
    let patch = json!({"application": {"token_types": ["jwt", "permanent"]}});
    let updated = s.send_json("PATCH", &path, &w.alice, &patch);
    let new_secret = string_field(
        &updated.assert_status(200).json()["values_updated"],
        "jwt_secret",
    );
    assert_ne!(new_secret, app.jwt_key());
    for token in [&jwt.access, &permanent.access] {
        with_app(token).assert_bare(401, TOKEN_UNKNOWN);
        assert_eq!(s.introspection(&app, token), json!({"active": false}));
    }
    // New JWTs work.
    let fresh = s.user_tokens(&app, "bob", Some("jwt"));
    with_app(&fresh.access).assert_status(200);
}
