//! `/oauth2/authorize`, `/oauth2/enable_app` and `/auth/logout` (keyrock.md 5.3, 5.8,
//! decisions 4, 5, 18, 19; the issue 11 contract) driven by a plain browser: form posts and
//! cookies, no JavaScript, no automatic redirects. Every row of both 5.3 tables, the login
//! and consent pages, the browser session, the results of every response type, and the
//! security points of issue 11 (CSRF, open redirects, code binding and replay, fixation,
//! escaping, no plaintext secret anywhere but in the response that hands it over).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use storage::diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{oauth_refresh_tokens, users};
use tessera_tests::authorize::*;
use tessera_tests::oauth::*;
use tessera_tests::{count, json, Options, Resp, Server, World};

const STATE: &str = "st-8f2a";
/// A second registered redirect URI, with a query of its own.
const OTHER: &str = "http://localhost/other?x=1";
/// A PKCE verifier of 64 unreserved characters.
const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ._~0123";

/// An application with these grants and token types whose redirect URIs are
/// [`REDIRECT`] then [`OTHER`].
fn app_with(s: &Server, w: &World, grants: &[&str], token_types: &[&str]) -> OAuthApp {
    s.oauth_app_from(
        &w.alice,
        json!({"name": "shop", "description": "a web shop", "url": "http://localhost",
               "redirect_uri": format!("{REDIRECT},{OTHER}"), "grant_type": grants,
               "token_types": token_types}),
    )
}

/// An OIDC application (`scope: openid`: every response type, 4.2) redirecting to
/// [`REDIRECT`].
fn oidc_app(s: &Server, w: &World) -> OAuthApp {
    s.oauth_app_from(
        &w.alice,
        json!({"name": "oidc", "redirect_uri": REDIRECT, "scope": "openid"}),
    )
}

/// The authorization query of `app` for `response_type`, with [`REDIRECT`] and
/// [`STATE`] unless `extra` gives them, plus `extra`.
fn authz(app: &OAuthApp, response_type: &str, extra: &[(&str, &str)]) -> String {
    let mut p: Vec<(&str, &str)> = [
        ("response_type", response_type),
        ("client_id", app.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", STATE),
    ]
    .into_iter()
    .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
    .collect();
    p.extend_from_slice(extra);
    query(&p)
}

/// A value form-urlencoded, for queries written by hand.
fn enc(value: &str) -> String {
    query(&[("v", value)])[2..].to_owned()
}

/// A form post of owned values.
fn post_form(b: &mut Browser<'_>, path: &str, fields: &[(&str, String)]) -> Resp {
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(path, &borrowed)
}

/// Asserts an error page of the first table of 5.3: the page, no session, no redirect.
#[track_caller]
fn assert_page_error(resp: &Resp, status: u16, text: &str) {
    resp.assert_page(status, text);
    assert!(
        resp.set_cookie(SESSION_COOKIE).is_none(),
        "an error page opened a session"
    );
}

/// The `code` of a redirect to `redirect_uri` (in the query), which must be 40 hex.
#[track_caller]
fn code_of(r: &Redirect, redirect_uri: &str) -> String {
    let code = r
        .param_at(redirect_uri, false, "code")
        .unwrap_or_else(|| panic!("no code in {:?}", r.location));
    assert!(is_token_hex(&code), "code {code:?}");
    code
}

/// Verifies an id_token as a relying party with the application's `jwt_secret` (HS256):
/// signature, `iss`, `aud`, `exp`; returns its claims.
#[track_caller]
fn verify_id_token(s: &Server, app: &OAuthApp, token: &str) -> Value {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[&app.id]);
    v.set_issuer(&[format!("{}/idm/applications/{}", s.base, app.id)]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(app.jwt_key().as_bytes()),
        &v,
    )
    .unwrap_or_else(|e| panic!("the id_token {token} does not verify: {e}"));
    let claims = data.claims;
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    assert_eq!(
        exp.zip(iat).map(|(e, i)| e - i),
        Some(ACCESS_LIFETIME),
        "{claims}"
    );
    claims
}

// ---------------------------------------------------------------------------------------
// The first table of 5.3: error pages, in order, never a redirect.

#[test]
fn page_errors_follow_the_table_in_order() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "implicit"], &[]);
    let id = app.id.as_str();
    let mut b = Browser::new(&s);
    let bad_redirect = "http://localhost/elsewhere";

    // Row 1: response_type missing, empty, or without code/token/id_token; also ahead of
    // a missing client_id and a wrong redirect_uri.
    let bad_types: [Option<&str>; 7] = [
        None,
        Some(""),
        Some("foo"),
        Some("code foo"),
        Some("none"),
        Some("tokens"),
        Some("id_token_x"),
    ];
    for rt in bad_types {
        for (client, redirect) in [(Some(id), None), (None, Some(bad_redirect))] {
            let mut p = vec![("state", STATE)];
            p.extend(rt.map(|rt| ("response_type", rt)));
            p.extend(client.map(|c| ("client_id", c)));
            p.extend(redirect.map(|r| ("redirect_uri", r)));
            assert_page_error(&b.authorize(&query(&p)), 400, BAD_RESPONSE_TYPE);
        }
    }
    // Row 2: client_id missing, ahead of a wrong redirect_uri.
    for rt in ["code", "token"] {
        let q = query(&[
            ("response_type", rt),
            ("redirect_uri", bad_redirect),
            ("state", STATE),
        ]);
        assert_page_error(&b.authorize(&q), 400, NO_CLIENT_ID);
    }
    // Row 3: unknown client_id (404), ahead of a wrong redirect_uri.
    for client in ["no-such-app", "00000000-0000-4000-8000-000000000000"] {
        let q = query(&[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", bad_redirect),
            ("state", STATE),
        ]);
        assert_page_error(&b.authorize(&q), 404, UNKNOWN_CLIENT);
    }
    // Row 4: redirect_uri not registered (exact string match), also when the request has
    // errors that would otherwise be redirected (no state, a bad scope, a bad challenge).
    let unregistered = [
        "http://localhost/cb/",
        "http://localhost/CB",
        "http://localhost/cb?x=1",
        "http://localhost/c",
        "http://localhost/cbx",
        "http://localhost/other",
        "http://localhost/other?x=1&y=2",
        "http://localhost/cb,http://localhost/other?x=1",
        "https://localhost/cb",
        "javascript:alert(1)",
        "https://evil.example/cb",
    ];
    for uri in unregistered {
        for rt in ["code", "token"] {
            let q = query(&[
                ("response_type", rt),
                ("client_id", id),
                ("redirect_uri", uri),
                ("state", STATE),
            ]);
            assert_page_error(&b.authorize(&q), 400, REDIRECT_MISMATCH);
            let q = query(&[
                ("response_type", rt),
                ("client_id", id),
                ("redirect_uri", uri),
                ("scope", "bearer jwt"),
                ("code_challenge", "short"),
            ]);
            assert_page_error(&b.authorize(&q), 400, REDIRECT_MISMATCH);
        }
    }
    // ... or the application has none.
    let bare = app_with(&s, &w, &["authorization_code"], &[]);
    db.set_redirect_uris(&bare.id, None);
    let q = query(&[
        ("response_type", "code"),
        ("client_id", &bare.id),
        ("state", STATE),
    ]);
    assert_page_error(&b.authorize(&q), 400, REDIRECT_MISMATCH);
    assert_page_error(
        &b.authorize(&authz(&bare, "code", &[])),
        400,
        REDIRECT_MISMATCH,
    );

    // Both registered URIs, and none at all, pass: the login page.
    for uri in [Some(REDIRECT), Some(OTHER), None] {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", id),
            ("state", STATE),
        ];
        p.extend(uri.map(|u| ("redirect_uri", u)));
        let q = query(&p);
        b.authorize(&q).assert_login_page(&q);
    }

    // POST /oauth2/authorize validates the request again, before the credentials: the
    // same pages, no session, even with a valid CSRF pair and valid credentials.
    let page = b.authorize(&authz(&app, "code", &[]));
    let csrf = page.form().csrf();
    let login = [
        ("email", "bob@test.com"),
        ("password", "bob-pw"),
        (CSRF_FIELD, csrf.as_str()),
    ];
    let cases = [
        (
            query(&[("client_id", id), ("state", STATE)]),
            400,
            BAD_RESPONSE_TYPE,
        ),
        (query(&[("response_type", "code")]), 400, NO_CLIENT_ID),
        (
            query(&[("response_type", "code"), ("client_id", "no-such-app")]),
            404,
            UNKNOWN_CLIENT,
        ),
        (
            query(&[
                ("response_type", "code"),
                ("client_id", id),
                ("redirect_uri", "javascript:alert(1)"),
                ("state", STATE),
            ]),
            400,
            REDIRECT_MISMATCH,
        ),
    ];
    for (q, status, text) in cases {
        b.set_cookie(CSRF_COOKIE, &csrf);
        let resp = b.post(&format!("{AUTHORIZE}?{q}"), &login);
        assert_page_error(&resp, status, text);
    }
    assert!(b.cookie(SESSION_COOKIE).is_none());
    assert!(
        db.sessions().is_empty(),
        "a refused request opened a session"
    );
    assert_eq!(db.code_count(), 0);
}

// ---------------------------------------------------------------------------------------
// The second table of 5.3: errors redirected to the client, in order.

#[test]
fn redirected_errors_follow_the_table_in_order() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let code_only = app_with(&s, &w, &["authorization_code"], &[]);
    let implicit_only = app_with(&s, &w, &["implicit"], &[]);
    let full = app_with(
        &s,
        &w,
        &[
            "authorization_code",
            "implicit",
            "password",
            "refresh_token",
        ],
        &[],
    );
    let mut b = Browser::new(&s);
    let long_challenge = "a".repeat(129);
    let short_challenge = "a".repeat(42);

    // Each case: the application, the request besides client_id (R, O and S stand for
    // REDIRECT, OTHER and STATE), the error and its description. The error goes to the
    // request's redirect_uri, in the fragment for token and id_token types, with the state
    // of the request if it had one.
    let (uc, ir, isc) = ("unauthorized_client", "invalid_request", "invalid_scope");
    #[rustfmt::skip]
    let cases: Vec<(&OAuthApp, &str, &str, &str)> = vec![
        // Row 1: the response type is not enabled for the application; ahead of a missing
        // state, a bad scope and a bad challenge.
        (&code_only, "response_type=token&redirect_uri=R&state=S", uc, RESPONSE_TYPE_REFUSED),
        (&implicit_only, "response_type=code&redirect_uri=R&state=S", uc, RESPONSE_TYPE_REFUSED),
        (&full, "response_type=id_token&redirect_uri=R&state=S&scope=openid&nonce=n", uc, RESPONSE_TYPE_REFUSED),
        (&full, "response_type=code+id_token&redirect_uri=R&state=S&scope=openid", uc, RESPONSE_TYPE_REFUSED),
        (&code_only, "response_type=token&redirect_uri=R&scope=bearer+jwt&code_challenge=x", uc, RESPONSE_TYPE_REFUSED),
        (&implicit_only, "response_type=code&redirect_uri=O&scope=bearer+jwt", uc, RESPONSE_TYPE_REFUSED),
        // Row 2: state missing; ahead of a bad scope and a bad challenge.
        (&full, "response_type=code&redirect_uri=R", ir, NO_STATE),
        (&full, "response_type=token&redirect_uri=R", ir, NO_STATE),
        (&full, "response_type=code&redirect_uri=R&scope=jwt&code_challenge=x", ir, NO_STATE),
        // Row 3: scope invalid (5.2); ahead of a bad challenge.
        (&full, "response_type=code&redirect_uri=R&state=S&scope=bearer+jwt", isc, BAD_SCOPE_TEXT),
        (&full, "response_type=code&redirect_uri=R&state=S&scope=bearer%2Cjwt", isc, BAD_SCOPE_TEXT),
        (&full, "response_type=code&redirect_uri=R&state=S&scope=jwt", isc, BAD_SCOPE_TEXT),
        (&full, "response_type=token&redirect_uri=R&state=S&scope=permanent", isc, BAD_SCOPE_TEXT),
        (&full, "response_type=code&redirect_uri=R&state=S&scope=openid", isc, BAD_SCOPE_TEXT),
        (&full, "response_type=code&redirect_uri=R&state=S&scope=jwt&code_challenge=x", isc, BAD_SCOPE_TEXT),
        // Row 4: a challenge that is not 43-128 characters of [A-Za-z0-9-._~] (more below).
        (&full, "response_type=code&redirect_uri=R&state=S&code_challenge=x", ir, BAD_CHALLENGE),
        (&full, "response_type=code&redirect_uri=O&state=S&code_challenge=x", ir, BAD_CHALLENGE),
    ];
    for (app, request, error, description) in cases {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(request).unwrap();
        let value = |v: &str| match v {
            "R" => REDIRECT.to_owned(),
            "O" => OTHER.to_owned(),
            "S" => STATE.to_owned(),
            v => v.to_owned(),
        };
        let mut p = vec![("client_id".to_owned(), app.id.clone())];
        p.extend(pairs.iter().map(|(k, v)| (k.clone(), value(v))));
        let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let to = get("redirect_uri").expect("a redirect_uri");
        let response_type = get("response_type").unwrap_or_default();
        let fragment = response_type
            .split(' ')
            .any(|w| w == "token" || w == "id_token");
        let resp = b.authorize(&serde_urlencoded::to_string(&p).unwrap());
        let r = resp.redirect();
        r.assert_error(&to, fragment, error, description, get("state").as_deref());
        assert!(resp.set_cookie(SESSION_COOKIE).is_none(), "{request}");
    }

    // Row 4 again, with computed challenges.
    let bad_challenges: Vec<(String, Option<&str>)> = vec![
        (short_challenge.clone(), None),
        (long_challenge.clone(), None),
        (format!("{}+", "a".repeat(42)), None),
        (format!("{}=", "a".repeat(42)), None),
        (format!("{}/", "a".repeat(42)), None),
        ("a".repeat(43), Some("S512")),
        ("a".repeat(43), Some("sha256")),
    ];
    for (challenge, method) in &bad_challenges {
        let mut extra = vec![("code_challenge", challenge.as_str())];
        extra.extend(method.map(|m| ("code_challenge_method", m)));
        let r = b.authorize(&authz(&full, "code", &extra)).redirect();
        r.assert_error(REDIRECT, false, ir, BAD_CHALLENGE, Some(STATE));
    }
    // The boundaries that pass: the login page, no redirect.
    let good_challenges = [
        "a".repeat(43),
        "Z9-._~".repeat(22)[..128].to_owned(),
        s256(VERIFIER),
    ];
    for challenge in &good_challenges {
        for method in [None, Some("plain"), Some("S256")] {
            let mut extra = vec![("code_challenge", challenge.as_str())];
            extra.extend(method.map(|m| ("code_challenge_method", m)));
            let q = authz(&full, "code", &extra);
            b.authorize(&q).assert_login_page(&q);
        }
    }

    // Without redirect_uri the error goes to the first registered URI.
    let q = query(&[("response_type", "code"), ("client_id", &full.id)]);
    b.authorize(&q)
        .redirect()
        .assert_error(REDIRECT, false, ir, NO_STATE, None);
    let q = query(&[
        ("response_type", "token"),
        ("client_id", &full.id),
        ("state", STATE),
        ("scope", "jwt"),
    ]);
    b.authorize(&q)
        .redirect()
        .assert_error(REDIRECT, true, isc, BAD_SCOPE_TEXT, Some(STATE));

    // The POST of the login form is checked the same way, before the credentials.
    let page = b.authorize(&authz(&full, "code", &[]));
    let csrf = page.form().csrf();
    let q = authz(&full, "code", &[("scope", "bearer jwt")]);
    let resp = b.post(
        &format!("{AUTHORIZE}?{q}"),
        &[
            ("email", "bob@test.com"),
            ("password", "bob-pw"),
            (CSRF_FIELD, &csrf),
        ],
    );
    resp.redirect()
        .assert_error(REDIRECT, false, isc, BAD_SCOPE_TEXT, Some(STATE));
    assert!(resp.set_cookie(SESSION_COOKIE).is_none());
    assert!(db.sessions().is_empty());
    assert_eq!(db.code_count(), 0, "an error issued a code");
}

#[test]
fn without_state_is_accepted_when_allowed() {
    let options = Options::default().env("TESSERA_OAUTH_ALLOW_EMPTY_STATE", "true");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let mut b = Browser::new(&s);
    let q = query(&[
        ("response_type", "code"),
        ("client_id", &app.id),
        ("redirect_uri", REDIRECT),
    ]);
    let r = b.run(&q, "bob");
    assert_eq!(r.keys_at(REDIRECT, false), ["code"], "no state to echo");
    // The other checks still apply.
    let q = query(&[
        ("response_type", "code"),
        ("client_id", &app.id),
        ("scope", "bearer jwt"),
    ]);
    b.authorize(&q)
        .redirect()
        .assert_error(REDIRECT, false, "invalid_scope", BAD_SCOPE_TEXT, None);
}

// ---------------------------------------------------------------------------------------
// The login page.

#[test]
fn the_login_page_shows_the_application_escaped_under_strict_headers() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let name = r#"<script>alert(1)</script> & "Shop""#;
    let description = "Tom's <b>tools</b> & more";
    let app = s.oauth_app_from(
        &w.alice,
        json!({"name": name, "description": description, "redirect_uri": REDIRECT,
               "grant_type": ["authorization_code"]}),
    );
    let mut b = Browser::new(&s);
    let q = authz(&app, "code", &[]);
    let page = b.authorize(&q);
    let form = page.assert_login_page(&q);

    // The name and description, as text, never as markup.
    let text = page.text();
    assert!(text.contains(name), "name not shown: {text}");
    assert!(text.contains(description), "description not shown: {text}");
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<b>tools"), "{}", page.body);
    // Escaped as entities (named or numeric: askama writes `&#60;`).
    assert!(
        page.body.contains("&lt;script&gt;") || page.body.contains("&#60;script&#62;"),
        "{}",
        page.body
    );

    // Accessible markup: labels bound to the inputs.
    assert!(form.has_label_for("email"), "no label for email");
    assert!(form.has_label_for("password"), "no label for password");
    // The stylesheet is Tessera's own.
    let link = tags(&page.body)
        .into_iter()
        .find(|t| t.name == "link" && t.attr("rel") == Some("stylesheet"))
        .expect("a stylesheet link");
    assert!(
        link.attr("href").is_some_and(|h| h.starts_with(STYLESHEET)),
        "{link:?}"
    );
    let css = s.get(STYLESHEET);
    css.assert_status(200);
    assert!(
        css.header("content-type")
            .is_some_and(|t| t.starts_with("text/css")),
        "{:?}",
        css.header("content-type")
    );
    assert!(!css.body.trim().is_empty());

    // The CSRF cookie: the form's value, HttpOnly, SameSite=Lax, no Secure over http.
    let cookie = page.set_cookie(CSRF_COOKIE).expect("a CSRF cookie");
    assert_eq!(cookie.value, form.csrf(), "the double-submit pair");
    cookie.assert_protected(false);
    assert!(!cookie.deletes());
    // No session yet; the CSRF value is not stored.
    assert!(page.set_cookie(SESSION_COOKIE).is_none());
    assert!(db.sessions().is_empty());
    assert!(!db.dump_text().contains(&cookie.value));
}

#[test]
fn wrong_credentials_re_render_the_same_login_page() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);
    let page = b.authorize(&q);
    page.assert_login_page(&q);

    // The page as it comes back, with the CSRF value and the typed email blanked: an
    // unknown email and a wrong password must not be told apart.
    let blank = |resp: &Resp, email: &str| -> String {
        let mut body = resp.body.clone();
        for f in forms(&resp.body) {
            if let Some(c) = f.field(CSRF_FIELD) {
                body = body.replace(&c.value, "CSRF");
            }
        }
        for cookie in resp.set_cookies() {
            body = body.replace(&cookie.value, "CSRF");
        }
        if !email.is_empty() {
            body = body.replace(email, "EMAIL");
        }
        body
    };
    let mut seen = Vec::new();
    let disabled_email = "dave@test.com";
    db.set_user_enabled(&w.dave_id, false);
    let attempts: [(&str, Option<&str>, Option<&str>); 7] = [
        ("unknown email", Some("nobody@test.com"), Some("alice-pw")),
        ("wrong password", Some("alice@test.com"), Some("bob-pw")),
        ("disabled user", Some(disabled_email), Some("dave-pw")),
        ("empty password", Some("alice@test.com"), Some("")),
        ("no password", Some("alice@test.com"), None),
        ("no email", None, Some("alice-pw")),
        ("nothing", None, None),
    ];
    for (what, email, password) in attempts {
        let csrf = b.authorize(&q).form().csrf();
        let mut fields = vec![(CSRF_FIELD, csrf.as_str())];
        fields.extend(email.map(|e| ("email", e)));
        fields.extend(password.map(|p| ("password", p)));
        let resp = b.post(&format!("{AUTHORIZE}?{q}"), &fields);
        resp.assert_page(200, BAD_LOGIN);
        resp.assert_login_page(&q);
        assert!(resp.set_cookie(SESSION_COOKIE).is_none(), "{what}");
        assert!(b.cookie(SESSION_COOKIE).is_none(), "{what}");
        seen.push((what, blank(&resp, email.unwrap_or_default())));
    }
    assert_eq!(
        seen[0].1, seen[1].1,
        "an unknown email and a wrong password give different pages"
    );
    assert_eq!(
        seen[1].1, seen[2].1,
        "a disabled user gets another page than a wrong password"
    );
    assert!(db.sessions().is_empty(), "a failed login opened a session");
    // The page itself is no failure page: the right password goes through.
    let next = b.sign_in_as(&q, "alice");
    next.assert_consent_page(&q);
    assert_eq!(db.sessions().len(), 1);

    // A legacy Keyrock hash is accepted on this path, and replaced by bcrypt.
    let legacy = auth_core::password::legacy_keyrock_hash("carol-pw", Some("fbba54b6750b16e8"));
    storage::diesel::update(users::table.filter(users::id.eq(&w.carol_id)))
        .set((
            users::password_hash.eq(&legacy),
            users::password_salt.eq("fbba54b6750b16e8"),
        ))
        .execute(&mut *db.conn())
        .unwrap();
    let mut carol = Browser::new(&s);
    carol.sign_in_as(&q, "carol").assert_consent_page(&q);
    let (hash, salt): (Option<String>, Option<String>) = users::table
        .filter(users::id.eq(&w.carol_id))
        .select((users::password_hash, users::password_salt))
        .first(&mut *db.conn())
        .unwrap();
    assert!(
        hash.as_deref().is_some_and(|h| h.starts_with("$2")),
        "still {hash:?}"
    );
    assert_eq!(salt, None);
}

// ---------------------------------------------------------------------------------------
// CSRF: a double submit on both forms.

#[test]
fn both_forms_refuse_a_missing_or_different_csrf_value() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let action = format!("{AUTHORIZE}?{q}");
    let mut b = Browser::new(&s);
    let page = b.authorize(&q);
    let csrf = page.assert_login_page(&q).csrf();
    let mut other = Browser::new(&s);
    let other_csrf = other.authorize(&q).form().csrf();
    assert_ne!(csrf, other_csrf, "two browsers share a CSRF value");
    assert_eq!(
        b.cookie(CSRF_COOKIE),
        Some(csrf.clone()),
        "the double-submit pair"
    );
    let with = |csrf: Option<&str>| -> Vec<(&str, String)> {
        let mut f = vec![
            ("email", "alice@test.com".to_owned()),
            ("password", "alice-pw".to_owned()),
        ];
        f.extend(csrf.map(|c| (CSRF_FIELD, c.to_owned())));
        f
    };

    // No cookie (the field alone proves nothing).
    b.remove_cookie(CSRF_COOKIE);
    let resp = post_form(&mut b, &action, &with(Some(&csrf)));
    assert_page_error(&resp, 403, CSRF_REFUSED);
    // The cookie, but no field; another value; the other browser's value; an empty one.
    for field in [
        None,
        Some(format!("{csrf}x")),
        Some(other_csrf.clone()),
        Some(String::new()),
    ] {
        b.set_cookie(CSRF_COOKIE, &csrf);
        let resp = post_form(&mut b, &action, &with(field.as_deref()));
        assert_page_error(&resp, 403, CSRF_REFUSED);
    }
    // The other browser's cookie with this page's field.
    b.set_cookie(CSRF_COOKIE, &other_csrf);
    let resp = post_form(&mut b, &action, &with(Some(&csrf)));
    assert_page_error(&resp, 403, CSRF_REFUSED);
    assert!(db.sessions().is_empty(), "a refused login opened a session");
    assert!(b.cookie(SESSION_COOKIE).is_none());

    // The right pair signs in: the refusals were about CSRF only.
    b.set_cookie(CSRF_COOKIE, &csrf);
    let resp = post_form(&mut b, &action, &with(Some(&csrf)));
    assert_eq!(resp.status, 303, "{}", resp.body);
    let consent = b.follow(resp);
    let form = consent.assert_consent_page(&q);

    // The consent form: the same rules, and nothing recorded or issued on a refusal.
    let consent_csrf = form.csrf();
    let jar = b.cookie(CSRF_COOKIE).expect("the CSRF cookie");
    assert_eq!(jar, consent_csrf, "the double-submit pair");
    let approve = |csrf: Option<&str>| -> Vec<(&str, String)> {
        let mut f = vec![
            (SHARED_FIELD, "username".to_owned()),
            ("authorize", form.field("authorize").unwrap().value.clone()),
        ];
        f.extend(csrf.map(|c| (CSRF_FIELD, c.to_owned())));
        f
    };
    let enable = format!("{ENABLE_APP}?{q}");
    for field in [
        None,
        Some(format!("{consent_csrf}x")),
        Some(other_csrf.clone()),
    ] {
        b.set_cookie(CSRF_COOKIE, &jar);
        let resp = post_form(&mut b, &enable, &approve(field.as_deref()));
        assert_page_error(&resp, 403, CSRF_REFUSED);
    }
    b.remove_cookie(CSRF_COOKIE);
    let resp = post_form(&mut b, &enable, &approve(Some(&consent_csrf)));
    assert_page_error(&resp, 403, CSRF_REFUSED);
    assert_eq!(db.consent(&w.alice_id, &app.id), None);
    assert_eq!(db.code_count(), 0);
    b.set_cookie(CSRF_COOKIE, &jar);
    let r = post_form(&mut b, &enable, &approve(Some(&consent_csrf))).redirect();
    code_of(&r, REDIRECT);
    assert_eq!(
        db.consent(&w.alice_id, &app.id),
        Some(vec!["username".to_owned()])
    );
}

// ---------------------------------------------------------------------------------------
// The browser session.

#[test]
fn the_session_cookie_is_protected_renewed_on_login_and_bounded() {
    let options = Options::default().env("TESSERA_SESSION_LIFETIME", "4321");
    let (s, db) = Server::start_with(options);
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);

    // An id planted by an attacker before the login is not the one the login gives.
    let planted = "planted-by-an-attacker-0123456789abcdef";
    b.set_cookie(SESSION_COOKIE, planted);
    let page = b.authorize(&q);
    page.assert_login_page(&q);
    let resp = b.submit_login(&page, "alice@test.com", "alice-pw");
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert_eq!(resp.header("location"), Some(format!("{AUTHORIZE}?{q}")));
    let cookie = resp.set_cookie(SESSION_COOKIE).expect("a session cookie");
    cookie.assert_protected(false);
    assert_eq!(cookie.max_age(), Some(4321), "{cookie:?}");
    assert_ne!(cookie.value, planted, "session fixation");
    assert!(
        cookie.value.len() >= 22,
        "a short session id: {:?}",
        cookie.value
    );
    // Stored as a digest, for alice, once.
    assert_eq!(
        db.sessions(),
        vec![(
            auth_core::secrets::sha256_hex(&cookie.value),
            w.alice_id.clone()
        )]
    );
    let consent = b.follow(resp);
    consent.assert_consent_page(&q);

    // The planted id opens nothing.
    let mut attacker = Browser::new(&s);
    attacker.set_cookie(SESSION_COOKIE, planted);
    attacker.authorize(&q).assert_login_page(&q);

    // A valid session presented with a new login is replaced as well (here by bob's).
    let page = attacker.authorize(&q);
    attacker.set_cookie(SESSION_COOKIE, &cookie.value);
    let resp = attacker.submit_login(&page, "bob@test.com", "bob-pw");
    assert_eq!(resp.status, 303, "{}", resp.body);
    let renewed = resp
        .set_cookie(SESSION_COOKIE)
        .expect("a new session cookie");
    assert_ne!(
        renewed.value, cookie.value,
        "the presented session id was kept"
    );
    assert!(db.sessions().contains(&(
        auth_core::secrets::sha256_hex(&renewed.value),
        w.bob_id.clone()
    )));

    // An expired session is no session.
    db.expire_sessions();
    b.authorize(&q).assert_login_page(&q);
    attacker.authorize(&q).assert_login_page(&q);
}

#[test]
fn cookies_are_secure_under_an_https_public_url() {
    let options = Options::default().env("TESSERA_PUBLIC_URL", "https://idm.example.test");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);
    let page = b.authorize(&q);
    page.assert_login_page(&q);
    page.set_cookie(CSRF_COOKIE)
        .expect("a CSRF cookie")
        .assert_protected(true);
    let resp = b.submit_login(&page, "alice@test.com", "alice-pw");
    assert_eq!(resp.status, 303, "{}", resp.body);
    resp.set_cookie(SESSION_COOKIE)
        .expect("a session cookie")
        .assert_protected(true);
    assert_eq!(
        resp.set_cookie(SESSION_COOKIE).unwrap().max_age(),
        Some(86400),
        "TESSERA_SESSION_LIFETIME's default"
    );
}

#[test]
fn logout_ends_the_session() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);
    b.sign_in_as(&q, "alice").assert_consent_page(&q);
    let session = b.cookie(SESSION_COOKIE).expect("signed in");
    assert_eq!(db.sessions().len(), 1);

    let resp = b.get(LOGOUT);
    resp.assert_page(200, SIGNED_OUT);
    let cleared = resp.set_cookie(SESSION_COOKIE).expect("the cookie cleared");
    assert!(cleared.deletes(), "{cleared:?}");
    assert_eq!(cleared.max_age(), Some(0));
    assert_ne!(cleared.value, session);
    assert!(db.sessions().is_empty(), "the session row is still there");
    assert!(b.cookie(SESSION_COOKIE).is_none());
    b.authorize(&q).assert_login_page(&q);

    // The old id, replayed by hand, is dead.
    let mut replay = Browser::new(&s);
    replay.set_cookie(SESSION_COOKIE, &session);
    replay.authorize(&q).assert_login_page(&q);
    // Logging out without a session is harmless.
    Browser::new(&s).get(LOGOUT).assert_page(200, SIGNED_OUT);
}

// ---------------------------------------------------------------------------------------
// Consent.

#[test]
fn consent_records_the_chosen_attributes_and_user_shares_exactly_those() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);
    let page = b.sign_in_as(&q, "alice");
    let form = page.assert_consent_page(&q);
    let choices = form.fields_named(SHARED_FIELD);
    let offered = |value: &str| {
        choices
            .iter()
            .find(|f| f.value == value)
            .unwrap_or_else(|| panic!("{value} not offered: {choices:?}"))
    };
    for (value, checked) in [("username", true), ("email", true), ("gravatar", false)] {
        let f = offered(value);
        assert!(matches!(f.kind.as_str(), "checkbox" | "option"), "{f:?}");
        assert_eq!(f.checked, checked, "{value} pre-selection");
    }
    assert_eq!(db.consent(&w.alice_id, &app.id), None);

    // Only username.
    let r = b.submit_consent(&page, Some(&["username"])).redirect();
    let code = code_of(&r, REDIRECT);
    assert_eq!(
        db.consent(&w.alice_id, &app.id),
        Some(vec!["username".to_owned()])
    );
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    let info = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(
        (
            &info["id"],
            &info["username"],
            &info["email"],
            &info["isGravatarEnabled"]
        ),
        (
            &json!(w.alice_id),
            &json!("Alice Smith"),
            &json!(""),
            &json!("")
        )
    );

    // The next authorization skips the page.
    let q2 = authz(&app, "code", &[("state", "second")]);
    let resp = b.authorize(&q2);
    let r = resp.redirect();
    assert_eq!(
        r.param_at(REDIRECT, false, "state").as_deref(),
        Some("second")
    );
    code_of(&r, REDIRECT);

    // A later consent (the form posted again) replaces the record.
    let csrf = b.cookie(CSRF_COOKIE).expect("the CSRF cookie");
    let resp = b.post(
        &format!("{ENABLE_APP}?{q}"),
        &[
            (CSRF_FIELD, csrf.as_str()),
            (SHARED_FIELD, "email"),
            (SHARED_FIELD, "gravatar"),
            ("authorize", "Authorize"),
        ],
    );
    let code = code_of(&resp.redirect(), REDIRECT);
    assert_eq!(
        db.consent(&w.alice_id, &app.id),
        Some(vec!["email".to_owned(), "gravatar".to_owned()])
    );
    assert_eq!(db.consent_count(), 1);
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    let info = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(
        (
            &info["username"],
            &info["email"],
            &info["isGravatarEnabled"]
        ),
        (&json!(""), &json!("alice@test.com"), &json!(false))
    );

    // Without a session the consent post goes back to the login page, recording nothing.
    let mut stranger = Browser::new(&s);
    let csrf = stranger.authorize(&q).form().csrf();
    let resp = stranger.post(
        &format!("{ENABLE_APP}?{q}"),
        &[
            (CSRF_FIELD, csrf.as_str()),
            (SHARED_FIELD, "username"),
            ("authorize", "Authorize"),
        ],
    );
    assert_eq!(resp.status, 303, "{}", resp.body);
    assert_eq!(resp.header("location"), Some(format!("{AUTHORIZE}?{q}")));
    stranger.follow(resp).assert_login_page(&q);
    assert_eq!(db.consent_count(), 1);
}

#[test]
fn deny_redirects_access_denied_and_records_nothing() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "implicit"], &[]);
    let mut b = Browser::new(&s);
    let q = authz(&app, "code", &[]);
    let page = b.sign_in_as(&q, "alice");
    page.assert_consent_page(&q);
    let resp = b.submit_deny(&page);
    resp.redirect()
        .assert_error(REDIRECT, false, "access_denied", DENIED, Some(STATE));
    assert_eq!(db.consent(&w.alice_id, &app.id), None);
    assert_eq!(db.code_count(), 0);

    // Implicit: in the fragment. The page comes again, since nothing was recorded.
    let q = authz(&app, "token", &[]);
    let page = b.authorize(&q);
    page.assert_consent_page(&q);
    let resp = b.submit_deny(&page);
    resp.redirect()
        .assert_error(REDIRECT, true, "access_denied", DENIED, Some(STATE));
    // Deny wins over chosen attributes sent along.
    let page = b.authorize(&q);
    let csrf = page.form().csrf();
    let resp = b.post(
        &format!("{ENABLE_APP}?{q}"),
        &[
            (CSRF_FIELD, csrf.as_str()),
            (SHARED_FIELD, "username"),
            ("deny", "Deny"),
        ],
    );
    resp.redirect()
        .assert_error(REDIRECT, true, "access_denied", DENIED, Some(STATE));
    assert_eq!(db.consent_count(), 0);
    assert_eq!(count!(db, oauth_refresh_tokens::table), 0);
}

#[test]
fn ask_authorization_false_skips_the_consent_page() {
    let options = Options::default().env("TESSERA_OAUTH_ASK_AUTHORIZATION", "false");
    let (s, _db) = Server::start_with(options);
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let q = authz(&app, "code", &[]);
    let mut b = Browser::new(&s);
    let resp = b.sign_in_as(&q, "bob");
    let code = code_of(&resp.redirect(), REDIRECT);
    // Without a consent record /user shares username and email (decision 22).
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    let info = s.user_of(&t.access).assert_status(200).json();
    assert_eq!(
        (&info["id"], &info["username"], &info["email"]),
        (&json!(w.bob_id), &json!("bob"), &json!("bob@test.com"))
    );
}

// ---------------------------------------------------------------------------------------
// Results: code.

#[test]
fn the_code_comes_in_the_query_bound_to_the_redirect_uri_it_was_asked_with() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "refresh_token"], &[]);
    let mut b = Browser::new(&s);

    // With redirect_uri: exactly code and state in the query; stored with the
    // redirect_uri, the nonce, the scope, alice and the application.
    let q = authz(&app, "code", &[("nonce", "n-0S6_WzA2Mj")]);
    let r = b.run(&q, "alice");
    assert_eq!(r.keys_at(REDIRECT, false), ["code", "state"]);
    assert_eq!(r.param_at(REDIRECT, false, "state").as_deref(), Some(STATE));
    let code = code_of(&r, REDIRECT);
    let stored = db.code(&code);
    assert_eq!(stored.client_id, app.id);
    assert_eq!(stored.user_id, w.alice_id);
    assert_eq!(stored.scope, ["bearer"]);
    assert_eq!(stored.redirect_uri.as_deref(), Some(REDIRECT));
    assert_eq!(stored.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(stored.pkce, None);
    assert!(!stored.used);
    // The token request must repeat it (5.4): absent or different is refused, without
    // consuming the code.
    s.redeem(&app, &code, &[])
        .assert_oauth_error(400, "invalid_grant", BAD_REDIRECT);
    s.redeem(&app, &code, &[("redirect_uri", OTHER)])
        .assert_oauth_error(400, "invalid_grant", BAD_REDIRECT);
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    t.assert_shape(&["bearer"], true);
    assert_eq!(
        s.user_of(&t.access).assert_status(200).json()["id"],
        w.alice_id
    );

    // A redirect_uri with a query: the code joins it with '&'.
    let q = authz(&app, "code", &[("redirect_uri", OTHER)]);
    let r = b.run(&q, "alice");
    assert!(
        r.location.starts_with(&format!("{OTHER}&code=")),
        "{:?}",
        r.location
    );
    // The URI's own `x=1` stays in front (the prefix checked above); the result follows.
    assert_eq!(r.keys_at(OTHER, false), ["code", "state"]);
    let code = code_of(&r, OTHER);
    assert_eq!(db.code(&code).redirect_uri.as_deref(), Some(OTHER));
    s.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .assert_oauth_error(400, "invalid_grant", BAD_REDIRECT);
    s.redeem(&app, &code, &[("redirect_uri", OTHER)]).tokens();

    // Without redirect_uri: the first registered URI, nothing stored, nothing required
    // at the token endpoint (decision 18).
    let q = query(&[
        ("response_type", "code"),
        ("client_id", &app.id),
        ("state", STATE),
    ]);
    let r = b.run(&q, "alice");
    assert_eq!(r.keys_at(REDIRECT, false), ["code", "state"]);
    let code = code_of(&r, REDIRECT);
    assert_eq!(db.code(&code).redirect_uri, None);
    s.redeem(&app, &code, &[])
        .tokens()
        .assert_shape(&["bearer"], true);
}

#[test]
fn a_code_works_once_and_only_for_its_client() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "refresh_token"], &[]);
    let other = app_with(&s, &w, &["authorization_code", "refresh_token"], &[]);
    let mut b = Browser::new(&s);
    let q = authz(&app, "code", &[]);

    // Another client cannot exchange it.
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    s.redeem(&other, &code, &[("redirect_uri", REDIRECT)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    assert_eq!(count!(db, oauth_refresh_tokens::table), 0);

    // Replayed: refused, and the tokens it gave are revoked.
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    s.assert_token_valid(&t.access);
    assert!(db.code(&code).used);
    s.redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    s.assert_token_refused(&t.access, TOKEN_REVOKED);
    s.refresh(&app, t.refresh(), None)
        .assert_oauth_error(400, "invalid_grant", USED_REFRESH);
}

#[test]
fn pkce_challenges_are_stored_with_plain_as_the_default_method() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code"], &[]);
    let mut b = Browser::new(&s);

    // S256.
    let challenge = s256(VERIFIER);
    let q = authz(
        &app,
        "code",
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    assert_eq!(
        db.code(&code).pkce,
        pkce(auth_core::oauth::PkceMethod::S256, VERIFIER)
    );
    let to = ("redirect_uri", REDIRECT);
    s.redeem(&app, &code, &[to]).assert_oauth_error(
        400,
        "invalid_request",
        &missing("code_verifier"),
    );
    s.redeem(&app, &code, &[to, ("code_verifier", &challenge)])
        .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    s.redeem(&app, &code, &[to, ("code_verifier", VERIFIER)])
        .tokens();

    // A challenge without a method is plain.
    let plain = &VERIFIER[..50];
    let q = authz(&app, "code", &[("code_challenge", plain)]);
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    assert_eq!(
        db.code(&code).pkce,
        pkce(auth_core::oauth::PkceMethod::Plain, plain)
    );
    s.redeem(&app, &code, &[to, ("code_verifier", &s256(plain))])
        .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    s.redeem(&app, &code, &[to, ("code_verifier", plain)])
        .tokens();
    // And said explicitly.
    let q = authz(
        &app,
        "code",
        &[
            ("code_challenge", plain),
            ("code_challenge_method", "plain"),
        ],
    );
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    assert_eq!(
        db.code(&code).pkce,
        pkce(auth_core::oauth::PkceMethod::Plain, plain)
    );
}

// ---------------------------------------------------------------------------------------
// Results: implicit and OIDC response types.

#[test]
fn the_implicit_token_comes_in_the_fragment_only() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["implicit"], &["jwt", "permanent"]);
    let mut b = Browser::new(&s);

    let r = b.run(&authz(&app, "token", &[]), "alice");
    assert_eq!(r.query(), None, "something in the query: {:?}", r.location);
    assert_eq!(
        r.keys_at(REDIRECT, true),
        ["access_token", "expires_in", "scope", "state", "token_type"]
    );
    let p = |k: &str| r.param_at(REDIRECT, true, k).unwrap_or_default();
    assert_eq!(
        (p("token_type"), p("expires_in"), p("scope"), p("state")),
        (
            "bearer".into(),
            (ACCESS_LIFETIME - 1).to_string(),
            "bearer".into(),
            STATE.into()
        )
    );
    let token = p("access_token");
    assert!(is_token_hex(&token), "{token}");
    assert_eq!(
        s.user_of(&token).assert_status(200).json()["id"],
        w.alice_id
    );

    // jwt: token_type jwt, expires_in still (5.3: only a permanent token has none); a
    // JWT of the application.
    let r = b.run(&authz(&app, "token", &[("scope", "jwt")]), "alice");
    assert_eq!(r.query(), None);
    assert_eq!(
        r.keys_at(REDIRECT, true),
        ["access_token", "expires_in", "scope", "state", "token_type"]
    );
    assert_eq!(
        r.param_at(REDIRECT, true, "token_type").as_deref(),
        Some("jwt")
    );
    assert_eq!(
        r.param_at(REDIRECT, true, "expires_in"),
        Some((ACCESS_LIFETIME - 1).to_string())
    );
    let jwt = r.param_at(REDIRECT, true, "access_token").unwrap();
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_aud = false;
    let claims = jsonwebtoken::decode::<Value>(
        &jwt,
        &DecodingKey::from_secret(app.jwt_key().as_bytes()),
        &v,
    )
    .expect("a JWT signed with the jwt_secret")
    .claims;
    assert_eq!(
        (&claims["id"], &claims["app_id"]),
        (&json!(w.alice_id), &json!(app.id))
    );

    // permanent: no expires_in. Both: the scope space-separated.
    let r = b.run(&authz(&app, "token", &[("scope", "permanent")]), "alice");
    assert_eq!(
        r.keys_at(REDIRECT, true),
        ["access_token", "scope", "state", "token_type"]
    );
    assert_eq!(
        r.param_at(REDIRECT, true, "token_type").as_deref(),
        Some("bearer")
    );
    let r = b.run(
        &authz(&app, "token", &[("scope", "jwt,permanent")]),
        "alice",
    );
    assert_eq!(
        r.param_at(REDIRECT, true, "scope").as_deref(),
        Some("jwt permanent")
    );
    assert_eq!(
        r.param_at(REDIRECT, true, "token_type").as_deref(),
        Some("jwt")
    );

    // Never a refresh token, never a code.
    assert_eq!(count!(db, oauth_refresh_tokens::table), 0);
    assert_eq!(db.code_count(), 0);
}

#[test]
fn id_token_response_types_carry_a_verifiable_id_token() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = oidc_app(&s, &w);
    let mut b = Browser::new(&s);

    let types = [
        "id_token",
        "id_token token",
        "token id_token",
        "code id_token",
        "code token",
        "code id_token token",
        "id_token code token",
    ];
    for (i, rt) in types.iter().enumerate() {
        let words: Vec<&str> = rt.split(' ').collect();
        let nonce = format!("nonce-{i}");
        let q = authz(&app, rt, &[("scope", "openid"), ("nonce", &nonce)]);
        let r = b.run(&q, "alice");
        assert_eq!(
            r.query(),
            None,
            "{rt}: something in the query: {:?}",
            r.location
        );
        let mut expected = vec!["state"];
        if words.contains(&"code") {
            expected.push("code");
        }
        if words.contains(&"token") {
            expected.extend(["access_token", "token_type", "expires_in", "scope"]);
        }
        if words.contains(&"id_token") {
            expected.push("id_token");
        }
        expected.sort();
        assert_eq!(r.keys_at(REDIRECT, true), expected, "{rt}");
        let p = |k: &str| r.param_at(REDIRECT, true, k);
        assert_eq!(p("state").as_deref(), Some(STATE));
        let access = p("access_token");
        if let Some(access) = &access {
            assert_eq!(p("scope").as_deref(), Some("openid"), "{rt}");
            s.assert_token_valid(access);
        }
        if let Some(id_token) = p("id_token") {
            let claims = verify_id_token(&s, &app, &id_token);
            assert_eq!(claims["sub"], w.alice_id, "{rt}");
            assert_eq!(claims["id"], w.alice_id, "{rt}");
            assert_eq!(claims["app_id"], app.id, "{rt}");
            assert_eq!(claims["authorization_decision"], "", "{rt}");
            assert_eq!(claims["nonce"], nonce, "{rt}");
            match &access {
                Some(a) => assert_eq!(claims["at_hash"], at_hash(a), "{rt}"),
                None => assert!(claims.get("at_hash").is_none(), "{rt}: {claims}"),
            }
        }
        if let Some(code) = p("code") {
            // The code carries the nonce; its exchange returns an id_token (openid).
            assert_eq!(db.code(&code).nonce.as_deref(), Some(nonce.as_str()));
            let t = s
                .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
                .tokens();
            let id_token = string_of(&t.body, "id_token");
            let claims = verify_id_token(&s, &app, &id_token);
            assert_eq!(claims["nonce"], nonce, "{rt}");
            assert_eq!(claims["at_hash"], at_hash(&t.access), "{rt}");
        }
    }

    // code with openid: in the query; the exchange adds the id_token.
    let q = authz(&app, "code", &[("scope", "openid"), ("nonce", "n-code")]);
    let r = b.run(&q, "alice");
    let code = code_of(&r, REDIRECT);
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    let claims = verify_id_token(&s, &app, &string_of(&t.body, "id_token"));
    assert_eq!(
        (&claims["sub"], &claims["nonce"]),
        (&json!(w.alice_id), &json!("n-code"))
    );
    // Without openid, no id_token.
    let q = authz(&app, "code", &[]);
    let code = code_of(&b.run(&q, "alice"), REDIRECT);
    let t = s
        .redeem(&app, &code, &[("redirect_uri", REDIRECT)])
        .tokens();
    assert!(t.body.get("id_token").is_none(), "{}", t.body);

    // Without the hybrid grant, code combinations are refused; id_token alone is not.
    let no_hybrid = oidc_app(&s, &w);
    db.set_grants(
        &no_hybrid.id,
        "authorization_code,implicit",
        "code,token,id_token",
    );
    for rt in ["code id_token", "code token", "code id_token token"] {
        let q = authz(&no_hybrid, rt, &[("scope", "openid"), ("nonce", "n")]);
        b.authorize(&q).redirect().assert_error(
            REDIRECT,
            true,
            "unauthorized_client",
            RESPONSE_TYPE_REFUSED,
            Some(STATE),
        );
    }
    let q = authz(
        &no_hybrid,
        "id_token token",
        &[("scope", "openid"), ("nonce", "n")],
    );
    let r = b.run(&q, "alice");
    verify_id_token(
        &s,
        &no_hybrid,
        &r.param_at(REDIRECT, true, "id_token").unwrap(),
    );
    // Without id_token in the application's response_type, id_token types are refused.
    let no_id_token = oidc_app(&s, &w);
    db.set_grants(
        &no_id_token.id,
        "authorization_code,implicit,hybrid",
        "code,token",
    );
    for rt in ["id_token", "id_token token", "code id_token"] {
        let q = authz(&no_id_token, rt, &[("scope", "openid"), ("nonce", "n")]);
        b.authorize(&q).redirect().assert_error(
            REDIRECT,
            true,
            "unauthorized_client",
            RESPONSE_TYPE_REFUSED,
            Some(STATE),
        );
    }
}

/// A string member of a token response.
#[track_caller]
fn string_of(body: &Value, key: &str) -> String {
    body[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {body}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Security points of issue 11.

#[test]
fn a_hostile_state_is_escaped_on_pages_and_encoded_in_redirects() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "implicit"], &[]);
    let hostile = r#"<script>alert(1)</script> "x" & 'y' #z"#;
    let mut b = Browser::new(&s);
    let q = authz(&app, "code", &[("state", hostile)]);

    // The login page and the consent page carry it inside their form action only, escaped.
    let page = b.authorize(&q);
    page.assert_login_page(&q);
    assert!(!page.body.contains("<script"), "{}", page.body);
    let consent = b.sign_in_as(&q, "alice");
    consent.assert_consent_page(&q);
    assert!(!consent.body.contains("<script"), "{}", consent.body);
    // The redirect: URL-encoded, decoded back to the very value.
    let r = b.submit_consent(&consent, None).redirect();
    for raw in ['<', '>', '"', ' '] {
        assert!(!r.location.contains(raw), "{raw:?} raw in {:?}", r.location);
    }
    assert_eq!(
        r.param_at(REDIRECT, false, "state").as_deref(),
        Some(hostile)
    );
    // Errors too, in the query and in the fragment.
    for (rt, fragment) in [("code", false), ("token", true)] {
        let q = query(&[
            ("response_type", rt),
            ("client_id", &app.id),
            ("redirect_uri", REDIRECT),
            ("state", hostile),
            ("scope", "bearer jwt"),
        ]);
        let r = b.authorize(&q).redirect();
        assert!(!r.location.contains('<'), "{:?}", r.location);
        r.assert_error(
            REDIRECT,
            fragment,
            "invalid_scope",
            BAD_SCOPE_TEXT,
            Some(hostile),
        );
    }

    // A quote sent raw (legal in a query) comes back escaped in the page.
    let raw_query = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=q'q'q",
        app.id,
        enc(REDIRECT)
    );
    let host = s.base.trim_start_matches("http://");
    let answer = s.raw(
        format!(
            "GET {AUTHORIZE}?{raw_query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.contains("q'q'q"), "a quote echoed raw: {answer}");
    assert!(
        html_unescape(&answer).contains(&format!("{AUTHORIZE}?{raw_query}")),
        "{answer}"
    );
    assert_eq!(db.sessions().len(), 1);
}

#[test]
fn unregistered_redirect_uris_are_never_followed_even_with_a_session() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = app_with(&s, &w, &["authorization_code", "implicit"], &[]);
    let mut b = Browser::new(&s);
    let good = authz(&app, "code", &[]);
    b.run(&good, "alice");
    assert_eq!(db.consent_count(), 1);
    let codes = db.code_count();

    for uri in [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)//http://localhost/cb",
        "https://evil.example/cb",
        "//evil.example/cb",
        "http://localhost/cb@evil.example",
        "http://localhost/cb/../../evil",
        "data:text/html,<script>alert(1)</script>",
    ] {
        for rt in ["code", "token"] {
            let q = query(&[
                ("response_type", rt),
                ("client_id", &app.id),
                ("redirect_uri", uri),
                ("state", STATE),
            ]);
            // With a session and a consent record: still the page, never a Location.
            let resp = b.authorize(&q);
            assert_page_error(&resp, 400, REDIRECT_MISMATCH);
            assert!(!resp.body.contains("<script"), "{}", resp.body);
            // The consent form posted to it by hand: the page as well.
            let csrf = b.cookie(CSRF_COOKIE).expect("a CSRF cookie");
            let resp = b.post(
                &format!("{ENABLE_APP}?{q}"),
                &[
                    (CSRF_FIELD, csrf.as_str()),
                    (SHARED_FIELD, "username"),
                    ("authorize", "Authorize"),
                ],
            );
            assert_page_error(&resp, 400, REDIRECT_MISMATCH);
            let csrf = b.cookie(CSRF_COOKIE).expect("a CSRF cookie");
            let resp = b.post(
                &format!("{ENABLE_APP}?{q}"),
                &[(CSRF_FIELD, csrf.as_str()), ("deny", "Deny")],
            );
            assert_page_error(&resp, 400, REDIRECT_MISMATCH);
        }
    }
    assert_eq!(
        db.code_count(),
        codes,
        "a code was issued for a foreign URI"
    );
}

#[test]
fn no_secret_is_stored_logged_or_sent_twice_in_plaintext() {
    let (s, db) = Server::start();
    let w = World::new(&s);
    let app = oidc_app(&s, &w);
    let mut b = Browser::new(&s);

    // The code flow with PKCE and a nonce, the implicit and hybrid flows, a logout.
    let q = authz(
        &app,
        "code",
        &[
            ("scope", "openid"),
            ("nonce", "nonce-secret-check"),
            ("code_challenge", &s256(VERIFIER)),
            ("code_challenge_method", "S256"),
        ],
    );
    let r = b.run(&q, "alice");
    let code = code_of(&r, REDIRECT);
    let token_resp = s.redeem(
        &app,
        &code,
        &[("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)],
    );
    let t = token_resp.tokens();
    let id_token = string_of(&t.body, "id_token");
    let implicit = b.run(
        &authz(
            &app,
            "id_token token",
            &[("scope", "openid"), ("nonce", "n2")],
        ),
        "alice",
    );
    let hybrid = b.run(
        &authz(&app, "code token", &[("scope", "openid"), ("nonce", "n3")]),
        "alice",
    );
    let session = b
        .history
        .iter()
        .find_map(|e| e.resp.set_cookie(SESSION_COOKIE))
        .expect("a session was opened")
        .value;
    b.get(LOGOUT).assert_page(200, SIGNED_OUT);
    // Every CSRF value the browser was given, by cookie or form.
    let mut csrfs: Vec<String> = Vec::new();
    for e in &b.history {
        csrfs.extend(e.resp.set_cookie(CSRF_COOKIE).map(|c| c.value));
        for f in forms(&e.resp.body) {
            csrfs.extend(f.field(CSRF_FIELD).map(|c| c.value.clone()));
        }
    }
    csrfs.retain(|c| !c.is_empty());
    csrfs.sort();
    csrfs.dedup();
    assert!(!csrfs.is_empty(), "no CSRF value seen");

    // Every response, as text (status, every header, body), the token response included.
    let mut responses: Vec<(String, Resp)> = b
        .history
        .iter()
        .map(|e| (format!("{} {}", e.method, e.path), e.resp.clone()))
        .collect();
    responses.push(("POST /oauth2/token".to_owned(), token_resp.clone()));
    let text = |r: &Resp| {
        let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        format!("{}\n{}\n\n{}", r.status, headers.join("\n"), r.body)
    };
    let holders = |secret: &str| -> Vec<(String, Resp)> {
        responses
            .iter()
            .filter(|(_, r)| text(r).contains(secret))
            .cloned()
            .collect()
    };

    // Handed over once each: the code and the tokens in their one redirect or response.
    let mut handed = vec![
        ("code", code.clone()),
        ("access token", t.access.clone()),
        ("refresh token", t.refresh().to_owned()),
        ("id_token", id_token.clone()),
        ("session id", session.clone()),
    ];
    for (what, r) in [("implicit", &implicit), ("hybrid", &hybrid)] {
        for (k, v) in r.params_at(REDIRECT, true) {
            if k != "state" && k != "token_type" && k != "expires_in" && k != "scope" {
                handed.push((what, v));
            }
        }
    }
    for (what, secret) in &handed {
        let found = holders(secret);
        assert_eq!(
            found.len(),
            1,
            "{what} sent in {:?}",
            found.iter().map(|(l, _)| l).collect::<Vec<_>>()
        );
    }
    // The session id: only in its Set-Cookie, never in a body.
    let (_, carrier) = &holders(&session)[0];
    assert!(!carrier.body.contains(&session));
    // A CSRF value: only on pages that carry the form (cookie and hidden field), never
    // in a redirect, a JSON answer or the logout page.
    for csrf in &csrfs {
        for (label, r) in holders(csrf) {
            assert_eq!(r.status, 200, "CSRF value in {label}: {}", text(&r));
            let in_form = forms(&r.body)
                .iter()
                .any(|f| f.field(CSRF_FIELD).is_some_and(|c| &c.value == csrf));
            let in_cookie = r.set_cookie(CSRF_COOKIE).is_some_and(|c| &c.value == csrf);
            assert!(in_form || in_cookie, "CSRF value elsewhere in {label}");
            let elsewhere = text(&r).matches(csrf.as_str()).count();
            assert!(
                elsewhere <= usize::from(in_form) + usize::from(in_cookie),
                "CSRF value repeated in {label}"
            );
        }
    }

    // Neither the log nor any database row holds one of them.
    let log = s.log();
    let dump = db.dump_text();
    let mut all: Vec<(&str, String)> = handed.clone();
    all.extend(csrfs.iter().map(|c| ("csrf", c.clone())));
    for (what, secret) in all {
        assert!(!log.contains(&secret), "{what} in the log");
        assert!(!dump.contains(&secret), "{what} in the database");
    }
}
