//! `POST /oauth2/token` (keyrock.md 5.1, 5.2, 5.4): the common rules of the OAuth2
//! endpoints, client authentication, grant types, the scope rules, and the `password`,
//! `client_credentials`, `authorization_code` and `refresh_token` grants, each error with its
//! exact RFC 6749 body and the state it leaves behind.

use auth_core::oauth::PkceMethod;
use storage::diesel::{ExpressionMethods, QueryDsl};
use storage::schema::{oauth_access_tokens, oauth_refresh_tokens};
use tessera_tests::oauth::*;
use tessera_tests::{count, json, keys, sorted, string_field, Options, Server, TestDb, World};
use time::{Duration, OffsetDateTime};

const CC: [(&str, &str); 1] = [("grant_type", "client_credentials")];
const TO_REDIRECT: (&str, &str) = ("redirect_uri", REDIRECT);

fn access_count(db: &TestDb) -> i64 {
    count!(db, oauth_access_tokens::table)
}

/// A PKCE verifier of 64 unreserved characters (RFC 7636 4.1).
fn verifier() -> String {
    format!(
        "{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The user id `/user` reports for a token of its own application.
#[track_caller]
fn user_id_of(s: &Server, token: &str) -> String {
    string_field(&s.user_of(token).assert_status(200).json(), "id")
}

// ---------------------------------------------------------------------------------------
// 5.1: method, content type, client authentication.

#[test]
fn every_oauth_endpoint_takes_only_form_posts() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let form = "grant_type=client_credentials&token=abc";
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"] {
        s.request("GET", path)
            .basic(&app.id, &app.secret)
            .send()
            .assert_oauth_error(405, "invalid_request", NOT_POST);
        s.request("GET", &format!("{path}?{form}"))
            .send()
            .assert_oauth_error(405, "invalid_request", NOT_POST);
        // A JSON body, a body without Content-Type, text/plain: all refused, also before
        // client authentication.
        s.request("POST", path)
            .basic(&app.id, &app.secret)
            .json(&json!({"grant_type": "client_credentials", "token": "abc"}))
            .send()
            .assert_oauth_error(400, "invalid_request", NOT_FORM);
        s.request("POST", path)
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .assert_oauth_error(400, "invalid_request", NOT_FORM);
        s.request("POST", path)
            .basic(&app.id, &app.secret)
            .raw(form.as_bytes().to_vec())
            .send()
            .assert_oauth_error(400, "invalid_request", NOT_FORM);
        s.request("POST", path)
            .basic(&app.id, &app.secret)
            .header("Content-Type", "text/plain")
            .raw(form.as_bytes().to_vec())
            .send()
            .assert_oauth_error(400, "invalid_request", NOT_FORM);
    }
    assert_eq!(access_count(&db), 0, "a refused request issued a token");

    // A charset parameter on the form type is fine.
    let t = s
        .request("POST", "/oauth2/token")
        .basic(&app.id, &app.secret)
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .raw(b"grant_type=client_credentials".to_vec())
        .send()
        .tokens();
    t.assert_shape(&["bearer"], false);
    assert_eq!(access_count(&db), 1);
}

#[test]
fn client_authentication_follows_the_specified_order() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let other = s.oauth_app(&w.bob, &TOKEN_GRANTS, &[]);
    let token = |authorization: &str, form: &[(&str, &str)]| {
        s.request("POST", "/oauth2/token")
            .header("Authorization", authorization)
            .form(form)
            .send()
    };
    let body_credentials = |id: &str, secret: &str| {
        s.oauth_post(
            "/oauth2/token",
            None,
            &[CC[0], ("client_id", id), ("client_secret", secret)],
        )
    };

    // No usable credentials: nothing, a Basic value that does not decode to id:secret,
    // another scheme, a secret without an id.
    s.oauth_post("/oauth2/token", None, &CC)
        .assert_oauth_error(400, "invalid_client", NO_CLIENT);
    use base64::Engine;
    let no_colon = base64::engine::general_purpose::STANDARD.encode(app.id.as_bytes());
    for value in [
        "Basic !!!not-base64!!!".to_owned(),
        format!("Basic {no_colon}"),
        format!("Bearer {}", app.secret),
    ] {
        token(&value, &CC).assert_oauth_error(400, "invalid_client", NO_CLIENT);
    }
    s.oauth_post(
        "/oauth2/token",
        None,
        &[CC[0], ("client_secret", &app.secret)],
    )
    .assert_oauth_error(400, "invalid_client", NO_CLIENT);
    // client_id alone is no credential unless public grants are configured.
    s.oauth_post("/oauth2/token", None, &[CC[0], ("client_id", &app.id)])
        .assert_oauth_error(400, "invalid_client", NO_CLIENT);

    // Basic credentials that decode but match nothing: 401 with the challenge.
    for (id, secret) in [
        (app.id.as_str(), "wrong"),
        ("no-such-client", app.secret.as_str()),
        (app.id.as_str(), other.secret.as_str()),
        ("idm_admin_app", "anything"),
    ] {
        s.token((id, secret), &CC).assert_basic_refused();
    }
    // Body credentials that match nothing: 400.
    for (id, secret) in [
        (app.id.as_str(), "wrong"),
        ("no-such-client", app.secret.as_str()),
        (app.id.as_str(), other.secret.as_str()),
        ("idm_admin_app", "anything"),
    ] {
        body_credentials(id, secret).assert_oauth_error(400, "invalid_client", BAD_CLIENT);
    }
    assert_eq!(access_count(&db), 0, "a refused client got a token");

    // Both ways work, and the token is bound to the client that authenticated.
    let by_basic = s.token(app.client(), &CC).tokens();
    let by_body = body_credentials(&app.id, &app.secret).tokens();
    for t in [&by_basic, &by_body] {
        t.assert_shape(&["bearer"], false);
        assert_eq!(s.introspection(&app, &t.access)["client_id"], app.id);
        assert_eq!(s.introspection(&other, &t.access), json!({"active": false}));
    }
    // Basic comes first: when present it decides, whatever the body says.
    let basic = s
        .request("POST", "/oauth2/token")
        .basic(&app.id, &app.secret)
        .form(&[CC[0], ("client_id", &other.id), ("client_secret", "wrong")])
        .send()
        .tokens();
    assert_eq!(s.introspection(&app, &basic.access)["client_id"], app.id);
    s.request("POST", "/oauth2/token")
        .basic(&app.id, "wrong")
        .form(&[
            CC[0],
            ("client_id", &app.id),
            ("client_secret", &app.secret),
        ])
        .send()
        .assert_basic_refused();
    assert_eq!(access_count(&db), 3);

    // A reset secret: the old one stops working at once, the new one works.
    let reset = s.keyrock(
        "POST",
        &format!("/v1/applications/{}/reset_secret", app.id),
        &w.alice,
    );
    let secret = string_field(&reset.assert_status(200).json(), "secret");
    s.token(app.client(), &CC).assert_basic_refused();
    body_credentials(&app.id, &app.secret).assert_oauth_error(400, "invalid_client", BAD_CLIENT);
    s.token((&app.id, &secret), &CC).tokens();
    assert_eq!(access_count(&db), 4);
}

#[test]
fn public_clients_may_redeem_only_pkce_codes() {
    let options = Options::default().env("TESSERA_OAUTH_PUBLIC_GRANTS", "authorization_code");
    let (s, db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let public = |form: &[(&str, &str)]| {
        let mut all = vec![("client_id", app.id.as_str())];
        all.extend_from_slice(form);
        s.oauth_post("/oauth2/token", None, &all)
    };

    // Grants not listed still need a secret.
    public(&[
        ("grant_type", "password"),
        ("username", "bob@test.com"),
        ("password", "bob-pw"),
    ])
    .assert_oauth_error(400, "invalid_client", NO_CLIENT);
    public(&CC).assert_oauth_error(400, "invalid_client", NO_CLIENT);

    // A code without a PKCE challenge: not for a public client; its owner can still redeem it.
    let plain = db.issue_code(&new_code(&app.id, &w.bob_id));
    let redeem = |code: &str, extra: &[(&str, &str)]| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            TO_REDIRECT,
        ];
        form.extend_from_slice(extra);
        public(&form)
    };
    redeem(&plain, &[]).assert_oauth_error(400, "invalid_client", NO_CLIENT);
    assert_eq!(access_count(&db), 0);
    s.redeem(&app, &plain, &[TO_REDIRECT]).tokens();

    // A PKCE code: redeemable with client_id alone and the verifier.
    let v = verifier();
    let mut code = new_code(&app.id, &w.bob_id);
    code.pkce = pkce(PkceMethod::S256, &v);
    let pkce_code = db.issue_code(&code);
    // A wrong secret is still a wrong secret.
    redeem(
        &pkce_code,
        &[("code_verifier", &v), ("client_secret", "wrong")],
    )
    .assert_oauth_error(400, "invalid_client", BAD_CLIENT);
    let t = redeem(&pkce_code, &[("code_verifier", &v)]).tokens();
    t.assert_shape(&["bearer"], true);
    assert_eq!(user_id_of(&s, &t.access), w.bob_id);
    assert_eq!(s.introspection(&app, &t.access)["client_id"], app.id);

    // An unknown client id alone gets nothing.
    let mut code = new_code(&app.id, &w.bob_id);
    code.pkce = pkce(PkceMethod::S256, &v);
    let pkce_code = db.issue_code(&code);
    let unknown = s.oauth_post(
        "/oauth2/token",
        None,
        &[
            ("client_id", "no-such-client"),
            ("grant_type", "authorization_code"),
            ("code", &pkce_code),
            TO_REDIRECT,
            ("code_verifier", &v),
        ],
    );
    assert_eq!(unknown.status, 400, "body: {}", unknown.body);
    assert_eq!(unknown.json()["error"], "invalid_client");
    unknown.assert_uncached();
    assert_eq!(access_count(&db), 2);
}

// ---------------------------------------------------------------------------------------
// 5.4: grant types, in their order.

#[test]
fn grant_type_rules_in_order() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["password"], &[]);
    let bob = [("username", "bob@test.com"), ("password", "bob-pw")];

    s.token(app.client(), &bob)
        .assert_oauth_error(400, "invalid_request", &missing("grant_type"));
    for grant in [
        "implicit",
        "hybrid",
        "nonsense",
        "PASSWORD",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        s.token(app.client(), &[("grant_type", grant), bob[0], bob[1]])
            .assert_oauth_error(400, "unsupported_grant_type", UNSUPPORTED_GRANT);
    }
    for grant in ["client_credentials", "authorization_code", "refresh_token"] {
        s.token(app.client(), &[("grant_type", grant)])
            .assert_oauth_error(400, "unauthorized_client", UNAUTHORIZED_GRANT);
    }
    // Client authentication comes first, then grant_type, then scope, then the grant's own
    // parameters.
    s.token((&app.id, "wrong"), &[]).assert_basic_refused();
    s.token(
        app.client(),
        &[("grant_type", "nonsense"), ("scope", "jwt")],
    )
    .assert_oauth_error(400, "unsupported_grant_type", UNSUPPORTED_GRANT);
    s.token(app.client(), &[CC[0], ("scope", "jwt")])
        .assert_oauth_error(400, "unauthorized_client", UNAUTHORIZED_GRANT);
    s.token(
        app.client(),
        &[("grant_type", "password"), ("scope", "jwt")],
    )
    .assert_oauth_error(400, "invalid_scope", BAD_SCOPE);
    assert_eq!(access_count(&db), 0);

    // The password grant hands out a refresh token even without the refresh_token grant;
    // redeeming it needs the grant, and the refused attempt does not use it up.
    let t = s.user_tokens(&app, "bob", None);
    t.assert_shape(&["bearer"], true);
    s.refresh(&app, t.refresh(), None).assert_oauth_error(
        400,
        "unauthorized_client",
        UNAUTHORIZED_GRANT,
    );
    let patch = json!({"application": {"grant_type": ["password", "refresh_token"]}});
    let path = format!("/v1/applications/{}", app.id);
    s.send_json("PATCH", &path, &w.alice, &patch)
        .assert_status(200);
    s.refresh(&app, t.refresh(), None)
        .tokens()
        .assert_shape(&["bearer"], true);
    // And a grant taken away is refused from then on.
    let patch = json!({"application": {"grant_type": ["refresh_token"]}});
    s.send_json("PATCH", &path, &w.alice, &patch)
        .assert_status(200);
    s.token(app.client(), &[("grant_type", "password"), bob[0], bob[1]])
        .assert_oauth_error(400, "unauthorized_client", UNAUTHORIZED_GRANT);
    assert_eq!(access_count(&db), 2);
}

// ---------------------------------------------------------------------------------------
// 5.2: scope and token type.

#[test]
fn scope_rules_select_the_token_type() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let grants = ["password", "client_credentials"];
    let bearer = s.oauth_app(&w.alice, &grants, &[]);
    let both = s.oauth_app(&w.alice, &grants, &["jwt", "permanent"]);
    let jwt_only = s.oauth_app(&w.alice, &grants, &["jwt"]);
    let permanent_only = s.oauth_app(&w.alice, &grants, &["permanent"]);
    let oidc = s.oauth_app_from(
        &w.alice,
        json!({"name": "oidc", "redirect_uri": REDIRECT, "grant_type": grants, "scope": "openid"}),
    );

    let invalid: [(&OAuthApp, &str); 10] = [
        (&bearer, "jwt"),
        (&bearer, "permanent"),
        (&bearer, "openid"),
        (&bearer, "profile jwt"),
        (&both, "bearer,jwt"),
        (&both, "jwt bearer"),
        (&both, "openid"),
        (&jwt_only, "permanent"),
        (&permanent_only, "jwt"),
        (&oidc, "openid jwt"),
    ];
    for (app, scope) in invalid {
        s.try_password_grant(app, "bob@test.com", "bob-pw", Some(scope))
            .assert_oauth_error(400, "invalid_scope", BAD_SCOPE);
        s.token(app.client(), &[CC[0], ("scope", scope)])
            .assert_oauth_error(400, "invalid_scope", BAD_SCOPE);
    }
    assert_eq!(access_count(&db), 0);

    // (application, scope sent, token scope): split on commas and whitespace, duplicates
    // dropped, request order kept, other values kept as given.
    let valid: [(&OAuthApp, Option<&str>, &[&str]); 13] = [
        (&bearer, None, &["bearer"]),
        (&bearer, Some(""), &["bearer"]),
        (&bearer, Some(" , "), &["bearer"]),
        (&bearer, Some("bearer"), &["bearer"]),
        (
            &bearer,
            Some("profile bearer profile"),
            &["profile", "bearer"],
        ),
        (
            &bearer,
            Some("bearer,profile\temail  bearer"),
            &["bearer", "profile", "email"],
        ),
        (&both, Some("jwt"), &["jwt"]),
        (&both, Some("permanent"), &["permanent"]),
        (&both, Some("permanent,jwt"), &["permanent", "jwt"]),
        (&both, Some("jwt, jwt profile"), &["jwt", "profile"]),
        (&jwt_only, Some("jwt"), &["jwt"]),
        (&permanent_only, Some("permanent"), &["permanent"]),
        (&oidc, Some("openid profile"), &["openid", "profile"]),
    ];
    for (app, sent, scope) in valid {
        let t = s
            .try_password_grant(app, "bob@test.com", "bob-pw", sent)
            .tokens();
        t.assert_shape(scope, true);
        let active = s.introspection(app, &t.access);
        assert_eq!(active["active"], true, "{sent:?}: {active}");
        assert_eq!(active["client_id"], app.id);
        assert_eq!(active["sub"], w.bob_id);
        if !scope.contains(&"jwt") {
            // Opaque tokens keep their scope in the store.
            assert_eq!(active["scope"], scope.join(" "), "{sent:?}");
            assert_eq!(active["token_type"], "bearer");
            assert_eq!(active.get("exp").is_some(), !scope.contains(&"permanent"));
            assert_eq!(user_id_of(&s, &t.access), w.bob_id);
        } else {
            assert_eq!(active["token_type"], "jwt");
        }
        // The same rules for the application itself.
        let mut form = vec![CC[0]];
        if let Some(sent) = sent {
            form.push(("scope", sent));
        }
        let t = s.token(app.client(), &form).tokens();
        t.assert_shape(scope, false);
    }
}

#[test]
fn success_bodies_of_every_grant_and_token_kind() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &["jwt", "permanent"]);
    let plain = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);

    // bearer (default): 40 hex, bearer, L-1, a refresh token, the scope as an array.
    let t = s.user_tokens(&plain, "bob", None);
    t.assert_shape(&["bearer"], true);
    assert_eq!(
        t.body,
        json!({"access_token": t.access, "token_type": "bearer", "expires_in": 3599,
               "refresh_token": t.refresh(), "scope": ["bearer"]})
    );
    // client_credentials: no refresh token, whatever the token type.
    for scope in [None, Some("permanent"), Some("jwt"), Some("jwt,permanent")] {
        let t = s.client_credentials(&app, scope);
        let want: Vec<&str> = scope.map_or(vec!["bearer"], |s| s.split(',').collect());
        t.assert_shape(&want, false);
    }
    assert_eq!(
        s.client_credentials(&plain, None).body["expires_in"],
        json!(3599)
    );
    // permanent, jwt, jwt + permanent through the password grant.
    let perm = s.user_tokens(&app, "bob", Some("permanent"));
    perm.assert_shape(&["permanent"], true);
    assert!(perm.refresh.is_none());
    let jwt = s.user_tokens(&app, "bob", Some("jwt"));
    jwt.assert_shape(&["jwt"], true);
    assert!(jwt.refresh.is_some());
    s.user_tokens(&app, "bob", Some("jwt,permanent"))
        .assert_shape(&["jwt", "permanent"], true);
    // authorization_code and refresh_token answer the same shapes.
    let code = db.issue_code(&new_code(&plain.id, &w.bob_id));
    let from_code = s.redeem(&plain, &code, &[TO_REDIRECT]).tokens();
    from_code.assert_shape(&["bearer"], true);
    s.refresh(&plain, from_code.refresh(), None)
        .tokens()
        .assert_shape(&["bearer"], true);
    s.refresh(&app, jwt.refresh(), None)
        .tokens()
        .assert_shape(&["jwt"], true);
    // Every value is fresh.
    let all = [
        &t.access,
        t.refresh(),
        &perm.access,
        &from_code.access,
        from_code.refresh(),
    ];
    let mut unique: Vec<&str> = all.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
    // Only opaque access tokens are stored (5.9): bob's bearer, three opaque
    // client_credentials tokens, the permanent one, the code's, and its refresh.
    assert_eq!(access_count(&db), 7);
    // Refresh tokens still usable: bob's first one and the two handed out by the
    // refreshes (the two they replaced are spent; permanent tokens have none).
    let live = oauth_refresh_tokens::table.filter(oauth_refresh_tokens::revoked.eq(false));
    assert_eq!(count!(db, live), 3);
}

// ---------------------------------------------------------------------------------------
// password grant.

#[test]
fn password_grant_users_and_iot_agents() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["password", "refresh_token"], &[]);
    let other = s.oauth_app(&w.alice, &["password"], &[]);

    s.token(
        app.client(),
        &[("grant_type", "password"), ("password", "bob-pw")],
    )
    .assert_oauth_error(400, "invalid_request", &missing("username"));
    s.token(
        app.client(),
        &[("grant_type", "password"), ("username", "bob@test.com")],
    )
    .assert_oauth_error(400, "invalid_request", &missing("password"));
    s.token(app.client(), &[("grant_type", "password")])
        .assert_oauth_error(400, "invalid_request", &missing("username"));

    let (iot, iot_pw) = s.new_iot_agent(&w.alice, &app.id);
    let pep = s.keyrock(
        "POST",
        &format!("/v1/applications/{}/pep_proxies", app.id),
        &w.alice,
    );
    let pep = pep.assert_status(201).json()["pep_proxy"].clone();
    let (pep_id, pep_pw) = (string_field(&pep, "id"), string_field(&pep, "password"));
    let refused: [(&OAuthApp, &str, &str); 9] = [
        (&app, "bob@test.com", "wrong"),
        (&app, "bob@test.com", "BOB-PW"),
        (&app, "nobody@test.com", "bob-pw"),
        (&app, "bob", "bob-pw"),
        (&app, &w.bob_id, "bob-pw"),
        (&app, &iot, "wrong"),
        (&other, &iot, &iot_pw),
        (&app, &pep_id, &pep_pw),
        (&app, &iot.to_uppercase(), &iot_pw),
    ];
    for (client, username, password) in refused {
        s.try_password_grant(client, username, password, None)
            .assert_oauth_error(400, "invalid_grant", BAD_USER);
    }
    assert_eq!(access_count(&db), 0);

    // The email matches in any case.
    let t = s.password_grant(&app, "BOB@Test.COM", "bob-pw");
    t.assert_shape(&["bearer"], true);
    assert_eq!(user_id_of(&s, &t.access), w.bob_id);
    let active = s.introspection(&app, &t.access);
    assert_eq!(active["username"], "bob");
    assert_eq!(
        active["exp"].as_i64().unwrap() - active["iat"].as_i64().unwrap(),
        ACCESS_LIFETIME
    );
    let now = OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now - active["iat"].as_i64().unwrap()).abs() <= 5,
        "{active}"
    );

    // An IoT agent of this application, with its password.
    let t = s.password_grant(&app, &iot, &iot_pw);
    t.assert_shape(&["bearer"], true);
    let info = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(info["id"], iot);
    assert_eq!(s.introspection(&app, &t.access)["sub"], iot);

    // A disabled user gets nothing, with the right password; enabled again, he does.
    db.set_user_enabled(&w.carol_id, false);
    s.try_password_grant(&app, "carol@test.com", "carol-pw", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    assert_eq!(access_count(&db), 2);
    db.set_user_enabled(&w.carol_id, true);
    let t = s.user_tokens(&app, "carol", None);
    assert_eq!(user_id_of(&s, &t.access), w.carol_id);
    assert_eq!(access_count(&db), 3);
}

// ---------------------------------------------------------------------------------------
// authorization_code grant.

#[test]
fn authorization_code_errors_and_the_redirect_uri_rule() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["authorization_code", "refresh_token"], &[]);
    let other = s.oauth_app(&w.alice, &["authorization_code"], &[]);
    let fresh = || db.issue_code(&new_code(&app.id, &w.bob_id));

    s.token(
        app.client(),
        &[("grant_type", "authorization_code"), TO_REDIRECT],
    )
    .assert_oauth_error(400, "invalid_request", &missing("code"));
    for unknown in ["0".repeat(40), "not-a-code".to_owned()] {
        s.redeem(&app, &unknown, &[TO_REDIRECT])
            .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    }
    // Another client's code is invalid here, and stays redeemable by its client.
    let theirs = db.issue_code(&new_code(&other.id, &w.bob_id));
    s.redeem(&app, &theirs, &[TO_REDIRECT])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    let t = s.redeem(&other, &theirs, &[TO_REDIRECT]).tokens();
    assert_eq!(s.introspection(&other, &t.access)["client_id"], other.id);
    assert_eq!(s.introspection(&app, &t.access), json!({"active": false}));

    // Expired.
    let mut expired = new_code(&app.id, &w.bob_id);
    expired.expires_at = OffsetDateTime::now_utc() - Duration::minutes(1);
    s.redeem(&app, &db.issue_code(&expired), &[TO_REDIRECT])
        .assert_oauth_error(400, "invalid_grant", CODE_EXPIRED);

    // Issued with a redirect_uri: the request must repeat it exactly.
    for redirect in [
        None,
        Some("http://localhost/cb/"),
        Some("http://LOCALHOST/cb"),
        Some("http://localhost/other"),
    ] {
        let extra: Vec<(&str, &str)> = redirect.map(|r| ("redirect_uri", r)).into_iter().collect();
        s.redeem(&app, &fresh(), &extra)
            .assert_oauth_error(400, "invalid_grant", BAD_REDIRECT);
    }
    assert_eq!(access_count(&db), 1);
    let t = s.redeem(&app, &fresh(), &[TO_REDIRECT]).tokens();
    t.assert_shape(&["bearer"], true);
    assert_eq!(user_id_of(&s, &t.access), w.bob_id);
    assert_eq!(s.introspection(&app, &t.access)["client_id"], app.id);

    // Issued without one: none is needed, and the registered one may be sent (decision 18).
    let mut code = new_code(&app.id, &w.bob_id);
    code.redirect_uri = None;
    s.redeem(&app, &db.issue_code(&code), &[]).tokens();
    s.redeem(&app, &db.issue_code(&code), &[TO_REDIRECT])
        .tokens();

    // The grant must be enabled for the application.
    let password_only = s.oauth_app(&w.alice, &["password"], &[]);
    let code = db.issue_code(&new_code(&password_only.id, &w.bob_id));
    s.redeem(&password_only, &code, &[TO_REDIRECT])
        .assert_oauth_error(400, "unauthorized_client", UNAUTHORIZED_GRANT);
    assert_eq!(access_count(&db), 4);
}

#[test]
fn pkce_s256_and_plain_and_failed_verifications_keep_the_code() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["authorization_code"], &[]);
    let with = |method: PkceMethod, v: &str| {
        let mut code = new_code(&app.id, &w.bob_id);
        code.pkce = pkce(method, v);
        db.issue_code(&code)
    };

    // S256.
    let v = verifier();
    let code = with(PkceMethod::S256, &v);
    s.redeem(&app, &code, &[TO_REDIRECT]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("code_verifier"),
    );
    for wrong in [verifier(), s256(&v), v.to_uppercase()] {
        s.redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &wrong)])
            .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    }
    assert_eq!(access_count(&db), 0);
    let t = s
        .redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &v)])
        .tokens();
    t.assert_shape(&["bearer"], true);
    assert_eq!(user_id_of(&s, &t.access), w.bob_id);
    s.redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &v)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);

    // plain.
    let v = verifier();
    let code = with(PkceMethod::Plain, &v);
    s.redeem(&app, &code, &[TO_REDIRECT]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("code_verifier"),
    );
    s.redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &s256(&v))])
        .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    s.redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &v)])
        .tokens()
        .assert_shape(&["bearer"], true);

    // A verifier for a code without a challenge is refused too, and does not use it up.
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));
    s.redeem(&app, &code, &[TO_REDIRECT, ("code_verifier", &verifier())])
        .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    s.redeem(&app, &code, &[TO_REDIRECT]).tokens();
    assert_eq!(access_count(&db), 3);
}

#[test]
fn a_replayed_code_fails_and_revokes_what_it_issued() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let code = db.issue_code(&new_code(&app.id, &w.bob_id));
    let second_code = db.issue_code(&new_code(&app.id, &w.bob_id));
    let first = s.redeem(&app, &code, &[TO_REDIRECT]).tokens();
    let untouched = s.redeem(&app, &second_code, &[TO_REDIRECT]).tokens();
    let by_password = s.user_tokens(&app, "bob", None);
    s.assert_token_valid(&first.access);

    s.redeem(&app, &code, &[TO_REDIRECT])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    // The tokens of the first redemption are revoked...
    s.assert_token_refused(&first.access, TOKEN_REVOKED);
    assert_eq!(
        s.introspection(&app, &first.access),
        json!({"active": false})
    );
    assert_eq!(
        s.introspection(&app, first.refresh()),
        json!({"active": false})
    );
    s.refresh(&app, first.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    // ...and only those.
    for t in [&untouched, &by_password] {
        s.assert_token_valid(&t.access);
        s.refresh(&app, t.refresh(), None).tokens();
    }
    // A third try is still refused.
    s.redeem(&app, &code, &[TO_REDIRECT])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
}

#[test]
fn the_token_scope_is_the_code_scope() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["authorization_code"], &["jwt"]);

    let mut code = new_code(&app.id, &w.bob_id);
    code.scope = vec!["bearer".into(), "profile".into()];
    let issued = db.issue_code(&code);
    let t = s
        .redeem(&app, &issued, &[TO_REDIRECT, ("scope", "jwt")])
        .tokens();
    t.assert_shape(&["bearer", "profile"], true);
    assert_eq!(s.introspection(&app, &t.access)["scope"], "bearer profile");

    code.scope = vec!["jwt".into()];
    let issued = db.issue_code(&code);
    let t = s
        .redeem(&app, &issued, &[TO_REDIRECT, ("scope", "bearer")])
        .tokens();
    t.assert_shape(&["jwt"], true);
    let info = s.user_info(&[("access_token", &t.access), ("app_id", &app.id)]);
    assert_eq!(info.assert_status(200).json()["id"], w.bob_id);
}

// ---------------------------------------------------------------------------------------
// refresh_token grant.

#[test]
fn refresh_tokens_rotate_and_keep_or_revalidate_the_scope() {
    let (s, _db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &["password", "refresh_token"], &["jwt"]);
    let other = s.oauth_app(&w.alice, &["password", "refresh_token"], &[]);

    s.token(app.client(), &[("grant_type", "refresh_token")])
        .assert_oauth_error(400, "invalid_request", &missing("refresh_token"));
    s.refresh(&app, &"0".repeat(40), None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);
    // Another client's refresh token: invalid here, still good for its client.
    let theirs = s.user_tokens(&other, "bob", None);
    s.refresh(&app, theirs.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);
    s.refresh(&other, theirs.refresh(), None).tokens();
    // An access token is no refresh token.
    let first = s.user_tokens(&app, "bob", Some("bearer profile"));
    s.refresh(&app, &first.access, None)
        .assert_oauth_error(400, "invalid_grant", BAD_REFRESH);

    // Rotation: new tokens, the old refresh token is spent, the old access token lives on.
    let second = s.refresh(&app, first.refresh(), None).tokens();
    second.assert_shape(&["bearer", "profile"], true);
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh(), first.refresh());
    s.refresh(&app, first.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
    for t in [&first, &second] {
        assert_eq!(user_id_of(&s, &t.access), w.bob_id);
    }
    assert_eq!(
        s.introspection(&app, &second.access)["scope"],
        "bearer profile"
    );
    assert_eq!(
        s.introspection(&app, first.refresh()),
        json!({"active": false})
    );

    // A scope is re-validated; a refused one does not spend the refresh token.
    for scope in ["bearer jwt", "permanent", "openid"] {
        s.refresh(&app, second.refresh(), Some(scope))
            .assert_oauth_error(400, "invalid_scope", BAD_SCOPE);
    }
    let third = s.refresh(&app, second.refresh(), Some("jwt")).tokens();
    third.assert_shape(&["jwt"], true);
    let info = s.user_info(&[("access_token", &third.access), ("app_id", &app.id)]);
    assert_eq!(info.assert_status(200).json()["id"], w.bob_id);
    // Without a scope the (new) scope is kept.
    let fourth = s.refresh(&app, third.refresh(), None).tokens();
    fourth.assert_shape(&["jwt"], true);

    // IoT agents refresh alike, and stay IoT agents.
    let (iot, password) = s.new_iot_agent(&w.alice, &app.id);
    let t = s.password_grant(&app, &iot, &password);
    let refreshed = s.refresh(&app, t.refresh(), None).tokens();
    refreshed.assert_shape(&["bearer"], true);
    let info = s.user_of(&refreshed.access).assert_status(200).json();
    assert_eq!(info["id"], iot);
    assert_eq!(info["roles"], json!([]));
    s.refresh(&app, t.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
}

#[test]
fn lifetimes_come_from_the_settings_and_refresh_tokens_expire() {
    let options = Options::default()
        .env("TESSERA_ACCESS_TOKEN_LIFETIME", "100")
        .env("TESSERA_REFRESH_TOKEN_LIFETIME", "1");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let t = s.user_tokens(&app, "bob", None);
    // The refresh token lives one second: looked at first.
    let refresh = s.introspection(&app, t.refresh());
    assert_eq!(refresh["token_type"], "refresh_token", "{refresh}");
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(),
        1
    );
    assert_eq!(
        keys(&t.body),
        sorted(&[
            "access_token",
            "expires_in",
            "refresh_token",
            "scope",
            "token_type"
        ])
    );
    assert_eq!(t.body["expires_in"], 99);
    assert_eq!(s.client_credentials(&app, None).body["expires_in"], 99);
    let access = s.introspection(&app, &t.access);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        100
    );

    std::thread::sleep(std::time::Duration::from_secs(2));
    s.refresh(&app, t.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", REFRESH_EXPIRED);
    assert_eq!(s.introspection(&app, t.refresh()), json!({"active": false}));
    // The access token outlives its refresh token.
    s.assert_token_valid(&t.access);
}

/// A legacy Keyrock hash (keyrock.md 8) works with the password grant and is replaced by
/// bcrypt on that first use; the old hash then no longer verifies, because it is gone.
#[test]
fn the_password_grant_upgrades_a_legacy_keyrock_hash() {
    use storage::diesel::RunQueryDsl;
    use storage::schema::users;
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = s.oauth_app(&w.alice, &TOKEN_GRANTS, &[]);
    let salt = "fbba54b6750b16e8";
    let legacy = auth_core::password::legacy_keyrock_hash("carol-pw", Some(salt));
    storage::diesel::update(users::table.filter(users::id.eq(&w.carol_id)))
        .set((
            users::password_hash.eq(&legacy),
            users::password_salt.eq(salt),
        ))
        .execute(&mut *db.conn())
        .unwrap();
    s.try_password_grant(&app, "carol@test.com", "wrong", None)
        .assert_oauth_error(400, "invalid_grant", BAD_USER);
    let t = s.password_grant(&app, "carol@test.com", "carol-pw");
    s.assert_token_valid(&t.access);
    let (hash, stored_salt): (Option<String>, Option<String>) = users::table
        .filter(users::id.eq(&w.carol_id))
        .select((users::password_hash, users::password_salt))
        .first(&mut *db.conn())
        .unwrap();
    let hash = hash.expect("a hash");
    assert!(hash.starts_with("$2"), "still {hash}");
    assert_ne!(hash, legacy);
    assert_eq!(stored_salt, None);
    // The same password keeps working against the bcrypt hash.
    s.password_grant(&app, "carol@test.com", "carol-pw");
}
