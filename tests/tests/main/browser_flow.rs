//! The OAuth2 / OIDC browser flow (issue 11; keyrock.md 5.3, 5.8) in a real headless
//! browser: `/oauth2/authorize`, the login page, the consent page (`/oauth2/enable_app`),
//! the browser session, and the results a client receives, read from the URL the browser
//! ends on. The client is a local site ([`Listener`]) registered as the application's
//! `redirect_uri`, so the last redirect loads like any page.
//!
//! What a user and a client rely on is checked after the fact through `/oauth2/token` and
//! `/user`: the code redeems (with the PKCE verifier), the token works, `/user` shares
//! exactly the attributes chosen on the consent page, the id_token verifies.
//!
//! Screenshots of the pages go to `docs/screenshots/` when `TESSERA_SCREENSHOTS=1`, and always
//! into a temporary folder (to prove screenshotting works without dirtying the tree).

use std::path::PathBuf;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::Digest;
use tessera_tests::browser::{keys, png_size, Browser, Listener, UrlParts, WINDOW};
use tessera_tests::oauth::*;
use tessera_tests::{json, Server, TestDb, World};

/// The application's name and description, with characters that must be escaped on a
/// page: if they were not, `<Beta>` would become markup and vanish from the text.
const APP_NAME: &str = "Photo Album <Beta> & Co";
const APP_DESCRIPTION: &str = "Prints \"your\" holiday photos";
/// A `state` with characters that need encoding in a URL; it must come back as sent.
const STATE: &str = "st&te=1 <x>/?#";
const NONCE: &str = "n-0S6_WzA2Mj";
const DENIED: &str = "Access denied: user denied access to application";
const BAD_LOGIN: &str = "Invalid email or password";

/// The login form's submit button (`<button>` submits unless it says otherwise).
const SUBMIT: &str = "form button:not([type]), form button[type=submit], form input[type=submit]";
/// The consent form, its checkboxes and buttons (the contract of issue 11).
const CONSENT_FORM: &str = "form[action^=\"/oauth2/enable_app\"]";
const SHARED: &str = "user_authorized_application[shared_attributes]";
const AUTHORIZE: &str = "[name=authorize]";
const DENY: &str = "[name=deny]";

fn shared(value: &str) -> String {
    format!("input[name=\"{SHARED}\"][value=\"{value}\"]")
}

/// A PKCE verifier of 65 unreserved characters (RFC 7636 4.1).
fn verifier() -> String {
    format!(
        "{}-{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A server with the world's users, a client site, an application registered by alice
/// whose redirect URI is that site, and a browser.
struct Flow {
    browser: Browser,
    client: Listener,
    app: OAuthApp,
    w: World,
    s: Server,
    _db: TestDb,
}

impl Flow {
    fn start() -> Flow {
        let (s, db) = Server::start();
        let w = World::new(&s);
        let client = Listener::start();
        let app = s.oauth_app_from(
            &w.alice,
            json!({
                "name": APP_NAME,
                "description": APP_DESCRIPTION,
                "redirect_uri": client.url("/cb"),
                "url": client.url("/"),
                "grant_type": ["authorization_code", "implicit", "hybrid", "password", "refresh_token"],
                "scope": "openid",
                "token_types": ["jwt", "permanent"],
            }),
        );
        let browser = Browser::start();
        Flow {
            browser,
            client,
            app,
            w,
            s,
            _db: db,
        }
    }

    /// The client's redirect URI.
    fn redirect_uri(&self) -> String {
        self.client.url("/cb")
    }

    /// `/oauth2/authorize` for this application with its redirect URI, `state` and `extra`.
    fn authorize_url(&self, response_type: &str, state: &str, extra: &[(&str, &str)]) -> String {
        let redirect_uri = self.redirect_uri();
        let mut query = vec![
            ("response_type", response_type),
            ("client_id", self.app.id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("state", state),
        ];
        query.extend_from_slice(extra);
        let query = serde_urlencoded::to_string(&query).expect("query");
        format!("{}/oauth2/authorize?{query}", self.s.base)
    }

    /// Opens the authorization request in `browser`.
    fn open(&self, browser: &Browser, response_type: &str, state: &str, extra: &[(&str, &str)]) {
        browser.goto(&self.authorize_url(response_type, state, extra));
    }

    /// Signs in on the login page shown in `browser` as the world user `key`.
    #[track_caller]
    fn sign_in(&self, browser: &Browser, key: &str) {
        assert_login_page(browser);
        self.submit_login(browser, &format!("{key}@test.com"), &format!("{key}-pw"));
    }

    /// Fills in and submits the login form.
    fn submit_login(&self, browser: &Browser, email: &str, password: &str) {
        browser.fill("input[name=email]", email);
        browser.fill("input[name=password]", password);
        browser.click(SUBMIT);
    }

    /// Waits for the browser to land on the client's redirect URI and reads that URL.
    #[track_caller]
    fn landing(&self, browser: &Browser) -> UrlParts {
        let cb = self.redirect_uri();
        let url = browser.wait_for_url(&format!("the client's redirect URI {cb}"), |u| {
            UrlParts::parse(u).base == cb
        });
        UrlParts::parse(&url)
    }

    /// The identity `/user` reports for `token`.
    #[track_caller]
    fn user(&self, token: &str) -> Value {
        let info = self.s.user_of(token);
        info.assert_status(200);
        let info = info.json();
        assert_eq!(info["app_id"], self.app.id.as_str(), "{info}");
        info
    }

    /// The per-application issuer of id_tokens (5.8).
    fn issuer(&self) -> String {
        format!(
            "{}/idm/applications/{}",
            self.s.base.trim_end_matches('/'),
            self.app.id
        )
    }

    /// The claims of an id_token that verifies HS256 with the application's `jwt_secret`,
    /// with this application as `aud` and its issuer as `iss`.
    #[track_caller]
    fn id_token_claims(&self, id_token: &str) -> Value {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[self.app.id.as_str()]);
        validation.set_issuer(&[self.issuer()]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(
            id_token,
            &DecodingKey::from_secret(self.app.jwt_key().as_bytes()),
            &validation,
        )
        .unwrap_or_else(|e| panic!("the id_token {id_token} does not verify: {e}"));
        assert_eq!(data.header.alg, Algorithm::HS256);
        data.claims
    }
}

/// The login page is shown: its form posts back to `/oauth2/authorize` with `email`,
/// `password` and a CSRF value, under the application's name and description.
#[track_caller]
fn assert_login_page(browser: &Browser) {
    let action = browser
        .attr("form", "action")
        .unwrap_or_else(|| panic!("no form action on {}", browser.current_url()));
    let path = UrlParts::parse(&action).base;
    assert!(
        path.ends_with("/oauth2/authorize"),
        "the login form posts to {action}"
    );
    assert_eq!(
        browser
            .attr("form", "method")
            .map(|m| m.to_ascii_lowercase()),
        Some("post".to_owned())
    );
    assert!(browser.exists("input[name=email]"));
    assert!(browser.exists("input[name=password][type=password]"));
    assert!(browser.exists("input[type=hidden][name=_csrf]"));
    let text = browser.text();
    assert!(text.contains(APP_NAME), "no application name in: {text}");
    assert!(
        text.contains(APP_DESCRIPTION),
        "no application description in: {text}"
    );
}

/// The consent page is shown: `username` and `email` offered and pre-selected, `gravatar`
/// offered and not, an authorize and a deny button.
#[track_caller]
fn assert_consent_page(browser: &Browser) {
    let action = browser.attr(CONSENT_FORM, "action").expect("an action");
    assert!(
        UrlParts::parse(&action)
            .base
            .ends_with("/oauth2/enable_app"),
        "the consent form posts to {action}"
    );
    assert_eq!(
        browser
            .attr(CONSENT_FORM, "method")
            .map(|m| m.to_ascii_lowercase()),
        Some("post".to_owned())
    );
    assert!(browser.exists(&format!("{CONSENT_FORM} input[type=hidden][name=_csrf]")));
    assert!(browser.is_checked(&shared("username")));
    assert!(browser.is_checked(&shared("email")));
    assert!(!browser.is_checked(&shared("gravatar")));
    assert!(browser.exists(AUTHORIZE), "no authorize button");
    assert!(browser.exists(DENY), "no deny button");
    assert!(
        browser.text().contains(APP_NAME),
        "no application name in: {}",
        browser.text()
    );
}

/// A code result: `code` and `state` in the query, nothing in the fragment.
#[track_caller]
fn code_of(landing: &UrlParts, state: &str) -> String {
    assert_eq!(landing.query_keys(), ["code", "state"], "{landing:?}");
    assert!(landing.fragment.is_empty(), "{landing:?}");
    assert_eq!(landing.query("state"), Some(state));
    let code = landing.query("code").expect("code").to_owned();
    assert!(is_token_hex(&code), "code {code}");
    code
}

// ---------------------------------------------------------------------------------------
// The flows of issue 11.

#[test]
fn code_with_pkce_and_consent_shares_exactly_the_chosen_attributes() {
    let f = Flow::start();
    let pkce_verifier = verifier();
    let challenge = s256(&pkce_verifier);
    f.open(
        &f.browser,
        "code",
        STATE,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    f.sign_in(&f.browser, "bob");
    assert_consent_page(&f.browser);
    // bob shares his username and gravatar flag, not his email.
    f.browser.set_checkbox(&shared("email"), false);
    f.browser.set_checkbox(&shared("gravatar"), true);
    f.browser.click(AUTHORIZE);

    let landing = f.landing(&f.browser);
    let code = code_of(&landing, STATE);
    // The client's site received the code itself.
    assert!(
        f.client
            .requests()
            .iter()
            .any(|r| r.starts_with("/cb?") && r.contains(&code)),
        "{:?}",
        f.client.requests()
    );

    let redirect_uri = f.redirect_uri();
    let to_redirect = ("redirect_uri", redirect_uri.as_str());
    // The code is bound to the PKCE challenge: without the verifier it does not redeem
    // (and a failed verification does not consume it), with a wrong one neither.
    f.s.redeem(&f.app, &code, &[to_redirect])
        .assert_oauth_error(400, "invalid_request", &missing("code_verifier"));
    f.s.redeem(
        &f.app,
        &code,
        &[to_redirect, ("code_verifier", &verifier())],
    )
    .assert_oauth_error(400, "invalid_grant", BAD_VERIFIER);
    let tokens =
        f.s.redeem(
            &f.app,
            &code,
            &[to_redirect, ("code_verifier", &pkce_verifier)],
        )
        .tokens();
    tokens.assert_shape(&["bearer"], true);

    let info = f.user(&tokens.access);
    assert_eq!(info["id"], f.w.bob_id.as_str());
    assert_eq!(info["username"], "bob", "username was shared: {info}");
    assert_eq!(info["email"], "", "email was not shared: {info}");
    assert!(
        info["isGravatarEnabled"].is_boolean(),
        "gravatar was shared: {info}"
    );

    // Single use: a replay is refused and revokes what the code gave (keyrock.md 5.4).
    f.s.redeem(
        &f.app,
        &code,
        &[to_redirect, ("code_verifier", &pkce_verifier)],
    )
    .assert_oauth_error(400, "invalid_grant", BAD_CODE);
    f.s.assert_token_refused(&tokens.access, TOKEN_REVOKED);
}

#[test]
fn a_second_authorization_skips_consent() {
    let f = Flow::start();
    f.open(&f.browser, "code", "first", &[]);
    f.sign_in(&f.browser, "bob");
    assert_consent_page(&f.browser);
    f.browser.set_checkbox(&shared("email"), false);
    f.browser.click(AUTHORIZE);
    code_of(&f.landing(&f.browser), "first");

    // Same browser, same session: straight back to the client, no login, no consent.
    f.open(&f.browser, "code", "second", &[]);
    let landing = f.landing(&f.browser);
    let code = code_of(&landing, "second");
    let redirect_uri = f.redirect_uri();
    let tokens =
        f.s.redeem(&f.app, &code, &[("redirect_uri", &redirect_uri)])
            .tokens();
    let info = f.user(&tokens.access);
    assert_eq!(info["id"], f.w.bob_id.as_str());
    // The choice of the first consent still holds.
    assert_eq!(info["username"], "bob", "{info}");
    assert_eq!(info["email"], "", "{info}");

    // A new browser (no session): bob signs in again, and is not asked again.
    let other = Browser::start();
    f.open(&other, "code", "third", &[]);
    f.sign_in(&other, "bob");
    code_of(&f.landing(&other), "third");
    drop(other);

    // The consent is bob's: carol, in yet another browser, is asked.
    let carols = Browser::start();
    f.open(&carols, "code", "fourth", &[]);
    f.sign_in(&carols, "carol");
    assert_consent_page(&carols);
}

#[test]
fn denying_consent_redirects_with_access_denied_and_the_state() {
    let f = Flow::start();
    f.open(&f.browser, "code", STATE, &[]);
    f.sign_in(&f.browser, "bob");
    assert_consent_page(&f.browser);
    f.browser.click(DENY);

    let landing = f.landing(&f.browser);
    assert_eq!(
        landing.query_keys(),
        ["error", "error_description", "state"],
        "{landing:?}"
    );
    assert_eq!(landing.query("error"), Some("access_denied"));
    assert_eq!(landing.query("error_description"), Some(DENIED));
    assert_eq!(landing.query("state"), Some(STATE));
    assert!(landing.fragment.is_empty(), "{landing:?}");

    // Nothing was recorded: the next authorization asks again.
    f.open(&f.browser, "code", "again", &[]);
    assert_consent_page(&f.browser);
}

#[test]
fn a_wrong_password_shows_the_login_page_again_with_an_error() {
    let f = Flow::start();
    f.open(&f.browser, "code", STATE, &[]);
    assert_login_page(&f.browser);
    let authorize = format!("{}/oauth2/authorize", f.s.base);

    f.submit_login(&f.browser, "bob@test.com", "not-bobs-password");
    f.browser.wait_for_text(BAD_LOGIN);
    assert_eq!(UrlParts::parse(&f.browser.current_url()).base, authorize);
    assert_login_page(&f.browser);

    // An unknown account reads the same: the page says nothing of who exists.
    f.submit_login(&f.browser, "nobody@test.com", "bob-pw");
    f.browser.wait_for_text(BAD_LOGIN);
    assert_eq!(UrlParts::parse(&f.browser.current_url()).base, authorize);
    assert_login_page(&f.browser);
    assert!(
        f.client.requests().is_empty(),
        "the client was contacted: {:?}",
        f.client.requests()
    );

    // The page shown again is a working login page.
    f.submit_login(&f.browser, "bob@test.com", "bob-pw");
    assert_consent_page(&f.browser);
}

#[test]
fn implicit_puts_the_token_in_the_fragment() {
    let f = Flow::start();
    f.open(&f.browser, "token", STATE, &[]);
    f.sign_in(&f.browser, "bob");
    assert_consent_page(&f.browser);
    f.browser.click(AUTHORIZE);

    let landing = f.landing(&f.browser);
    assert!(landing.query.is_empty(), "a query: {landing:?}");
    assert_eq!(
        landing.fragment_keys(),
        ["access_token", "expires_in", "scope", "state", "token_type"],
        "{landing:?}"
    );
    assert_eq!(landing.fragment("token_type"), Some("bearer"));
    assert_eq!(
        landing.fragment("expires_in"),
        Some((ACCESS_LIFETIME - 1).to_string().as_str())
    );
    assert_eq!(landing.fragment("scope"), Some("bearer"));
    assert_eq!(landing.fragment("state"), Some(STATE));
    let token = landing.fragment("access_token").expect("access_token");
    assert!(is_token_hex(token), "token {token}");
    // The fragment stays in the browser: the client's server never saw the token.
    let seen = f.client.requests();
    assert!(!seen.is_empty(), "the client's page was not loaded");
    assert!(seen.iter().all(|r| !r.contains(token)), "{seen:?}");

    let info = f.user(token);
    assert_eq!(info["id"], f.w.bob_id.as_str());
    assert_eq!(info["username"], "bob");
    assert_eq!(info["email"], "bob@test.com");
}

#[test]
fn code_id_token_puts_both_in_the_fragment_with_a_verifiable_id_token() {
    let f = Flow::start();
    f.open(
        &f.browser,
        "code id_token",
        STATE,
        &[("scope", "openid"), ("nonce", NONCE)],
    );
    f.sign_in(&f.browser, "bob");
    assert_consent_page(&f.browser);
    f.browser.click(AUTHORIZE);

    let landing = f.landing(&f.browser);
    assert!(landing.query.is_empty(), "a query: {landing:?}");
    assert_eq!(
        landing.fragment_keys(),
        ["code", "id_token", "state"],
        "{landing:?}"
    );
    assert_eq!(landing.fragment("state"), Some(STATE));
    let code = landing.fragment("code").expect("code").to_owned();
    assert!(is_token_hex(&code), "code {code}");

    let claims = f.id_token_claims(landing.fragment("id_token").expect("id_token"));
    assert_eq!(claims["sub"], f.w.bob_id.as_str(), "{claims}");
    assert_eq!(claims["nonce"], NONCE, "{claims}");
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    assert_eq!(
        exp.zip(iat).map(|(e, i)| e - i),
        Some(ACCESS_LIFETIME),
        "{claims}"
    );
    assert_eq!(claims["username"], "bob", "{claims}");

    // The code redeems; its scope holds openid, so the answer carries an id_token too,
    // with the request's nonce and the hash of the access token issued with it.
    let redirect_uri = f.redirect_uri();
    let tokens =
        f.s.redeem(&f.app, &code, &[("redirect_uri", &redirect_uri)])
            .tokens();
    assert_eq!(tokens.body["scope"], json!(["openid"]), "{}", tokens.body);
    let id_token = tokens.body["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no id_token in {}", tokens.body));
    let claims = f.id_token_claims(id_token);
    assert_eq!(claims["sub"], f.w.bob_id.as_str(), "{claims}");
    assert_eq!(claims["nonce"], NONCE, "{claims}");
    let digest = sha2::Sha256::digest(tokens.access.as_bytes());
    let at_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(claims["at_hash"], at_hash.as_str(), "{claims}");
    assert_eq!(f.user(&tokens.access)["id"], f.w.bob_id.as_str());
}

// ---------------------------------------------------------------------------------------
// The pages themselves: markup a keyboard and a screen reader can use, no script, and
// the screenshots of docs/screenshots/.

/// Writes the screenshot `name` into the browser's temporary folder (always, to prove it
/// works) and into `docs/screenshots/` when `TESSERA_SCREENSHOTS=1`.
fn screenshot(browser: &Browser, name: &str) {
    let png = browser.screenshot(&browser.temp_dir().join(name));
    let (width, height) = png_size(&png);
    assert!(
        width > WINDOW.0 / 2 && height > WINDOW.1 / 2,
        "{name}: {width}x{height}"
    );
    if std::env::var("TESSERA_SCREENSHOTS").as_deref() == Ok("1") {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).expect("create docs/screenshots");
        std::fs::write(dir.join(name), &png).expect("write the screenshot");
    }
}

/// The page declares its language, runs no script, and labels every control.
#[track_caller]
fn assert_plain_accessible_markup(browser: &Browser) {
    let url = browser.current_url();
    assert_eq!(
        browser.attr("html", "lang").as_deref(),
        Some("en"),
        "lang on {url}"
    );
    let source = browser.page_source().to_ascii_lowercase();
    assert!(!source.contains("<script"), "a script on {url}: {source}");
    assert!(
        !source.contains("javascript:"),
        "a javascript: URL on {url}: {source}"
    );
    assert_eq!(
        browser.unlabelled_controls(),
        Vec::<String>::new(),
        "controls without a label on {url}"
    );
}

/// What gets the focus as Tab is pressed `presses` times from the top of the page: each
/// element's `name`, or its tag (and type) when it has none.
fn tab_order(browser: &Browser, presses: usize) -> Vec<String> {
    (0..presses)
        .map(|_| {
            browser.type_keys(keys::TAB);
            browser.focused_attr("name").unwrap_or_else(|| {
                let tag = browser.focused_tag();
                match browser.focused_attr("type") {
                    Some(kind) => format!("{tag}[{kind}]"),
                    None => tag,
                }
            })
        })
        .collect()
}

/// `wanted` appear in `order`, in this order (other elements may come between).
#[track_caller]
fn assert_reached_in_order(order: &[String], wanted: &[&str]) {
    let mut rest = order.iter();
    for w in wanted {
        assert!(
            rest.any(|o| o == w),
            "Tab does not reach {w} after the ones before it: {order:?}"
        );
    }
}

#[test]
fn the_pages_are_keyboard_usable_script_free_and_photographed() {
    let f = Flow::start();
    let b = &f.browser;

    // Login page.
    f.open(b, "code", STATE, &[]);
    assert_login_page(b);
    assert_plain_accessible_markup(b);
    screenshot(b, "login.png");
    let order = tab_order(b, 12);
    let submit_name = b.attr(SUBMIT, "name");
    let is_submit = |o: &String| {
        Some(o) == submit_name.as_ref() || o.starts_with("button") || o == "input[submit]"
    };
    assert_reached_in_order(&order, &["email", "password"]);
    assert!(
        order.iter().skip_while(|o| *o != "password").any(is_submit),
        "Tab does not reach the submit button after the password: {order:?}"
    );

    // Login page with the error, then signing in with the keyboard alone.
    f.submit_login(b, "bob@test.com", "wrong");
    b.wait_for_text(BAD_LOGIN);
    assert_plain_accessible_markup(b);
    screenshot(b, "login-error.png");
    f.open(b, "code", STATE, &[]);
    assert_login_page(b);
    let mut typed = false;
    for _ in 0..12 {
        b.type_keys(keys::TAB);
        if b.focused_attr("name").as_deref() == Some("email") {
            b.type_keys("bob@test.com");
            b.type_keys(keys::TAB);
            assert_eq!(b.focused_attr("name").as_deref(), Some("password"));
            b.type_keys("bob-pw");
            b.type_keys(keys::ENTER);
            typed = true;
            break;
        }
    }
    assert!(typed, "Tab never reached the email input");

    // Consent page.
    assert_consent_page(b);
    assert_plain_accessible_markup(b);
    screenshot(b, "consent.png");
    let order = tab_order(b, 15);
    assert!(
        order.iter().any(|o| o == SHARED),
        "Tab reaches no attribute: {order:?}"
    );
    for button in ["authorize", "deny"] {
        assert!(
            order.iter().any(|o| o == button),
            "Tab does not reach {button}: {order:?}"
        );
    }

    // An error page: an unknown client_id is shown by Tessera, never redirected.
    let unknown = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&state=x",
        f.s.base,
        uuid::Uuid::new_v4()
    );
    b.goto(&unknown);
    assert_eq!(b.current_url(), unknown);
    b.wait_for_text("invalid_client: application id not found");
    assert_plain_accessible_markup(b);
    screenshot(b, "error.png");
    assert!(f.client.requests().is_empty(), "{:?}", f.client.requests());
}
