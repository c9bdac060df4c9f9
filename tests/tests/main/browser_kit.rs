//! The browser kit's own checks (tessera_tests::browser): headless Chromium starts here,
//! reads a page the real server serves, fills and submits a form, moves the focus with
//! the keyboard, and takes a screenshot. They prove the kit before the pages of the browser
//! flow exist, so that a failing flow test points at the server, not at the kit.

use tessera_tests::browser::{keys, png_size, Browser, Listener, UrlParts, WINDOW};
use tessera_tests::Server;

#[test]
fn reads_a_page_of_the_real_server() {
    let (s, _db) = Server::start();
    let browser = Browser::start();
    browser.goto(&format!("{}/health", s.base));
    assert_eq!(browser.current_url(), format!("{}/health", s.base));
    // Chromium shows a JSON answer as text inside its own page.
    let source = browser.page_source();
    assert!(source.contains(r#"{"status":"ok"}"#), "page: {source}");
    assert!(browser.text().contains(r#"{"status":"ok"}"#));

    browser.goto(&format!("{}/openapi.json", s.base));
    assert!(browser.text().contains("\"openapi\""), "{}", browser.text());
}

/// A form like the login and consent pages, on a local site whose every answer is the
/// same page: submitting it (GET) puts the fields into the URL, which the test reads.
const FORM: &str = r#"<!doctype html><html lang="en"><head><title>kit</title></head><body>
<a href="/elsewhere">a link first</a>
<form method="get" action="/done">
  <label for="email">Email</label><input id="email" name="email" type="email">
  <label for="password">Password</label><input id="password" name="password" type="password">
  <input type="hidden" name="_csrf" value="c s r f">
  <label><input type="checkbox" name="attr" value="username" checked> username</label>
  <label><input type="checkbox" name="attr" value="gravatar"> gravatar</label>
  <button type="submit" name="authorize">Allow</button>
</form></body></html>"#;

#[test]
fn fills_checks_and_submits_a_form() {
    let site = Listener::serving(FORM);
    let browser = Browser::start();
    browser.goto(&site.url("/form?x=1"));
    assert_eq!(browser.attr("html", "lang").as_deref(), Some("en"));
    assert!(browser.exists("input[name=email]"));
    assert!(!browser.exists("input[name=nothing]"));
    assert_eq!(browser.count("input[type=checkbox]"), 2);
    assert_eq!(
        browser.attrs("label[for]", "for"),
        [Some("email".to_owned()), Some("password".to_owned())]
    );
    assert_eq!(browser.unlabelled_controls(), Vec::<String>::new());
    assert!(browser.is_checked("input[value=username]"));
    assert!(!browser.is_checked("input[value=gravatar]"));

    browser.fill("input[name=email]", "prefilled");
    browser.fill("input[name=email]", "bob@test.com");
    browser.fill("input[name=password]", "p&ss word");
    browser.set_checkbox("input[value=username]", false);
    browser.set_checkbox("input[value=gravatar]", true);
    browser.set_checkbox("input[value=gravatar]", true);
    browser.click("button[name=authorize]");

    let url = browser.wait_for_url("the form's target", |u| u.contains("/done"));
    let parts = UrlParts::parse(&url);
    assert_eq!(parts.base, site.url("/done"));
    assert_eq!(
        parts.query,
        [
            ("email", "bob@test.com"),
            ("password", "p&ss word"),
            ("_csrf", "c s r f"),
            ("attr", "gravatar"),
            ("authorize", ""),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let seen = site.requests();
    assert!(seen.contains(&"/form?x=1".to_owned()), "{seen:?}");
    assert!(seen.iter().any(|r| r.starts_with("/done?")), "{seen:?}");
}

#[test]
fn the_keyboard_moves_the_focus_and_submits() {
    let site = Listener::serving(FORM);
    let browser = Browser::start();
    browser.goto(&site.url("/form"));
    // From the start of the page: the link, then the inputs in document order.
    browser.type_keys(keys::TAB);
    assert_eq!(browser.focused_tag(), "a");
    browser.type_keys(keys::TAB);
    assert_eq!(browser.focused_attr("name").as_deref(), Some("email"));
    browser.type_keys("kb@test.com");
    browser.type_keys(keys::TAB);
    assert_eq!(browser.focused_attr("name").as_deref(), Some("password"));
    browser.type_keys("secret");
    browser.type_keys(keys::ENTER);
    let url = browser.wait_for_url("the form's target", |u| u.contains("/done"));
    let parts = UrlParts::parse(&url);
    assert_eq!(parts.query("email"), Some("kb@test.com"));
    assert_eq!(parts.query("password"), Some("secret"));
}

#[test]
fn finds_controls_without_a_label() {
    let site = Listener::serving(
        r#"<!doctype html><html lang="en"><body><form>
        <label for="a">A</label><input id="a" name="a">
        <label for="elsewhere">B</label><input id="b" name="b">
        <input name="c" placeholder="a placeholder is no label">
        <label>D <input type="checkbox" name="d"></label>
        <input type="hidden" name="_csrf" value="x">
        </form></body></html>"#,
    );
    let browser = Browser::start();
    browser.goto(&site.url("/"));
    assert_eq!(browser.unlabelled_controls(), ["b", "c"]);
}

#[test]
fn takes_a_screenshot_of_the_window() {
    let site = Listener::start();
    let browser = Browser::start();
    browser.goto(&site.url("/"));
    let path = browser.temp_dir().join("shot.png");
    let png = browser.screenshot(&path);
    assert_eq!(std::fs::read(&path).expect("screenshot file"), png);
    let (width, height) = png_size(&png);
    assert!(
        width > WINDOW.0 / 2 && width <= WINDOW.0 && height > WINDOW.1 / 2 && height <= WINDOW.1,
        "screenshot of {width}x{height}"
    );
}

/// A redirect to a port where nothing listens cannot load, but the URL (and its query and
/// fragment) can still be read: what a test relies on when it has no listener.
#[test]
fn an_unreachable_page_still_has_its_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let browser = Browser::start();
    let url = format!("http://127.0.0.1:{port}/cb?code=abc&state=xyz#access_token=t");
    let error = browser.try_goto(&url).expect_err("nothing listens there");
    assert!(error.contains("ERR_CONNECTION_REFUSED"), "{error}");
    let parts = UrlParts::parse(&browser.current_url());
    assert_eq!(parts.query("code"), Some("abc"));
    assert_eq!(parts.fragment("access_token"), Some("t"));
}
