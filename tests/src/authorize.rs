//! The browser flow of keyrock.md 5.3 and 5.8 (issue 11) from the outside: a plain browser
//! (no JavaScript, no automatic redirects, cookies kept by hand) that reads the login and
//! consent forms and submits them, the wire names and texts of the issue 11 contract, the
//! checks every page must pass, and the client's reading of the final redirect.

use std::io::Read;
use std::time::Duration;

use auth_core::oauth::AuthorizationCode;
use storage::diesel::{self, ExpressionMethods, QueryDsl, RunQueryDsl};
use storage::schema::{oauth_authorization_codes, oauth_clients, user_authorized_applications};

use crate::{Resp, Server, TestDb};

/// The browser session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The double-submit CSRF cookie.
pub const CSRF_COOKIE: &str = "tessera_csrf";
/// The hidden form field that must repeat the CSRF cookie.
pub const CSRF_FIELD: &str = "_csrf";
/// The multi-valued field of the consent form.
pub const SHARED_FIELD: &str = "user_authorized_application[shared_attributes]";
pub const AUTHORIZE: &str = "/oauth2/authorize";
pub const ENABLE_APP: &str = "/oauth2/enable_app";
pub const LOGOUT: &str = "/auth/logout";
pub const STYLESHEET: &str = "/oauth2/static/tessera.css";

// The error pages of the first table of 5.3.
pub const BAD_RESPONSE_TYPE: &str = "invalid_request: response_type not valid or not exist";
pub const NO_CLIENT_ID: &str = "invalid_request: include client_id in request";
pub const UNKNOWN_CLIENT: &str = "invalid_client: application id not found";
pub const REDIRECT_MISMATCH: &str = "invalid_client: `redirect_uri` does not match client value";
// The other pages of the contract.
pub const BAD_LOGIN: &str = "Invalid email or password";
pub const CSRF_REFUSED: &str = "Invalid or missing CSRF token";
pub const SIGNED_OUT: &str = "You are signed out";

// The redirected errors of the second table of 5.3 (the backticks are part of them).
pub const RESPONSE_TYPE_REFUSED: &str = "Unsupported grant type: `grant_type` is invalid";
pub const NO_STATE: &str = "Missing parameter: `state`";
pub const BAD_SCOPE_TEXT: &str = "Invalid scope: Requested scope is invalid";
pub const BAD_CHALLENGE: &str = "Invalid parameter: `code_challenge`";
pub const DENIED: &str = "Access denied: user denied access to application";

/// A query string, form-urlencoded (`code id_token` becomes `code+id_token`).
pub fn query(params: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(params).expect("query encoding")
}

/// The base64url (no padding) of the left half of the SHA-256 of an access token: the
/// `at_hash` of an id_token issued with it (5.8, OIDC Core 3.1.3.6).
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    let hex = auth_core::secrets::sha256_hex(access_token);
    let bytes: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digest"))
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

// ---------------------------------------------------------------------------------------
// HTML, read the way a plain browser reads it.

/// Decodes the character references of HTML text or of an attribute value.
pub fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').map(|j| j + 1).filter(|&j| j <= 10);
        let decoded = end.and_then(|j| {
            let entity = &rest[1..j];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let code = if let Some(hex) = entity
                        .strip_prefix("#x")
                        .or_else(|| entity.strip_prefix("#X"))
                    {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, j))
        });
        match decoded {
            Some((c, j)) => {
                out.push(c);
                rest = &rest[j + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text a reader sees: tags removed, character references decoded, white space
/// collapsed to single spaces.
pub fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    html_unescape(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// One start or end tag, with its attributes (values decoded).
#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub closing: bool,
    pub attrs: Vec<(String, String)>,
}

impl Tag {
    /// An attribute's value (`""` for a bare attribute such as `checked`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Every tag of a document, in order (comments and declarations skipped).
pub fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if html[i..].starts_with("!--") {
            i = html[i..]
                .find("-->")
                .map(|j| i + j + 3)
                .unwrap_or(html.len());
            continue;
        }
        if html[i..].starts_with('!') || html[i..].starts_with('?') {
            i = html[i..].find('>').map(|j| i + j + 1).unwrap_or(html.len());
            continue;
        }
        let closing = html[i..].starts_with('/');
        if closing {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'-') {
            i += 1;
        }
        if i == start {
            continue; // a lone '<' in text
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b'>' {
                i += 1;
                break;
            }
            let a = i;
            while i < bytes.len()
                && !bytes[i].is_ascii_whitespace()
                && !matches!(bytes[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let attr = html[a..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i] as char;
                    let v = i + 1;
                    let end = html[v..].find(quote).map(|j| v + j).unwrap_or(html.len());
                    value = html_unescape(&html[v..end]);
                    i = (end + 1).min(html.len());
                } else {
                    let v = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = html_unescape(&html[v..i]);
                }
            }
            if attr.is_empty() {
                i += 1; // a stray character: skip it
            } else {
                attrs.push((attr, value));
            }
        }
        out.push(Tag {
            name,
            closing,
            attrs,
        });
    }
    out
}

/// A control of a form: an `input`, a `button`, an `option` of a `select` (named after its
/// select, `checked` when selected) or a `textarea`.
#[derive(Debug, Clone)]
pub struct Field {
    pub tag: String,
    pub name: String,
    /// `type` in lower case (`text` for an input without one, `submit` for a button
    /// without one, `option` for an option).
    pub kind: String,
    pub value: String,
    pub checked: bool,
    pub id: Option<String>,
}

/// A `<form>` as a browser would submit it.
#[derive(Debug, Clone)]
pub struct Form {
    /// `method`, lower case (`get` when absent).
    pub method: String,
    /// `action`, decoded.
    pub action: String,
    pub fields: Vec<Field>,
    /// The `for` attribute of every `label` of the form.
    pub label_targets: Vec<String>,
}

impl Form {
    /// The first control named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Every control named `name`.
    pub fn fields_named(&self, name: &str) -> Vec<&Field> {
        self.fields.iter().filter(|f| f.name == name).collect()
    }

    /// The hidden `_csrf` value, which must be there and not be empty.
    #[track_caller]
    pub fn csrf(&self) -> String {
        let f = self
            .field(CSRF_FIELD)
            .unwrap_or_else(|| panic!("no {CSRF_FIELD} field in {self:?}"));
        assert_eq!(f.kind, "hidden", "{CSRF_FIELD} is not hidden: {f:?}");
        assert!(!f.value.is_empty(), "empty {CSRF_FIELD}");
        f.value.clone()
    }

    /// The values a browser submits without user input: hidden and text fields, checked
    /// boxes, selected options (never a submit button).
    pub fn defaults(&self) -> Vec<(String, String)> {
        self.fields
            .iter()
            .filter(|f| match f.kind.as_str() {
                "checkbox" | "radio" | "option" => f.checked,
                "submit" | "button" | "reset" | "image" => false,
                _ => true,
            })
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect()
    }

    /// Whether a `<label for>` of the form points at the control named `name` (through its
    /// `id`).
    pub fn has_label_for(&self, name: &str) -> bool {
        self.field(name)
            .and_then(|f| f.id.as_ref())
            .is_some_and(|id| self.label_targets.iter().any(|t| t == id))
    }
}

/// Every form of a document.
pub fn forms(html: &str) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    let mut open: Option<Form> = None;
    let mut select: Option<String> = None;
    for tag in tags(html) {
        match (tag.name.as_str(), tag.closing) {
            ("form", false) => {
                open = Some(Form {
                    method: tag.attr("method").unwrap_or("get").to_ascii_lowercase(),
                    action: tag.attr("action").unwrap_or_default().to_owned(),
                    fields: Vec::new(),
                    label_targets: Vec::new(),
                })
            }
            ("form", true) => out.extend(open.take()),
            ("select", false) => select = tag.attr("name").map(str::to_owned),
            ("select", true) => select = None,
            (name, false) => {
                let Some(form) = open.as_mut() else { continue };
                if name == "label" {
                    form.label_targets
                        .extend(tag.attr("for").map(str::to_owned));
                    continue;
                }
                let (field_name, kind, checked) = match name {
                    "input" => (
                        tag.attr("name"),
                        tag.attr("type").unwrap_or("text").to_ascii_lowercase(),
                        tag.attr("checked").is_some(),
                    ),
                    "button" => (
                        tag.attr("name"),
                        tag.attr("type").unwrap_or("submit").to_ascii_lowercase(),
                        false,
                    ),
                    "textarea" => (tag.attr("name"), "textarea".to_owned(), false),
                    "option" => (
                        select.as_deref(),
                        "option".to_owned(),
                        tag.attr("selected").is_some(),
                    ),
                    _ => continue,
                };
                let Some(field_name) = field_name else {
                    continue;
                };
                form.fields.push(Field {
                    tag: name.to_owned(),
                    name: field_name.to_owned(),
                    kind,
                    value: tag.attr("value").unwrap_or_default().to_owned(),
                    checked,
                    id: tag.attr("id").map(str::to_owned),
                });
            }
            _ => {}
        }
    }
    out.extend(open);
    out
}

// ---------------------------------------------------------------------------------------
// Cookies and redirects.

/// A `Set-Cookie` header, read.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// The attributes as sent (`HttpOnly` → `("HttpOnly", None)`).
    pub attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn parse(header: &str) -> SetCookie {
        let mut parts = header.split(';');
        let (name, value) = parts
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .unwrap_or_else(|| panic!("not a cookie: {header:?}"));
        let attributes = parts
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
                None => (p.to_owned(), None),
            })
            .collect();
        SetCookie {
            name,
            value,
            attributes,
        }
    }

    /// Whether the attribute is there (any case).
    pub fn has(&self, attribute: &str) -> bool {
        self.attributes
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(attribute))
    }

    /// An attribute's value (any case).
    pub fn attr(&self, attribute: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
            .and_then(|(_, v)| v.as_deref())
    }

    pub fn max_age(&self) -> Option<i64> {
        self.attr("Max-Age").map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("Max-Age {v:?} is not a number"))
        })
    }

    /// Whether a browser drops the cookie on receiving this (Max-Age ≤ 0, or an Expires
    /// in 1970).
    pub fn deletes(&self) -> bool {
        self.max_age().is_some_and(|a| a <= 0)
            || self.attr("Expires").is_some_and(|e| e.contains("1970"))
    }

    /// Asserts `Path=/`, `HttpOnly`, `SameSite=Lax`, and `Secure` exactly when `secure`.
    #[track_caller]
    pub fn assert_protected(&self, secure: bool) {
        assert_eq!(self.attr("Path"), Some("/"), "Path of {self:?}");
        assert!(self.has("HttpOnly"), "not HttpOnly: {self:?}");
        assert!(
            self.attr("SameSite")
                .is_some_and(|v| v.eq_ignore_ascii_case("Lax")),
            "not SameSite=Lax: {self:?}"
        );
        assert_eq!(self.has("Secure"), secure, "Secure of {self:?}");
    }
}

/// Where a `302` sends the browser, read as the client reads it.
#[derive(Debug, Clone)]
pub struct Redirect {
    pub location: String,
}

impl Redirect {
    /// The part after `#`, if any.
    pub fn fragment(&self) -> Option<&str> {
        self.location.split_once('#').map(|(_, f)| f)
    }

    /// The query part (between `?` and `#`), if any.
    pub fn query(&self) -> Option<&str> {
        let before = self.location.split('#').next().unwrap_or_default();
        before.split_once('?').map(|(_, q)| q)
    }

    fn decode(part: Option<&str>) -> Vec<(String, String)> {
        part.map(|p| {
            serde_urlencoded::from_str(p).unwrap_or_else(|e| panic!("{p:?} does not decode: {e}"))
        })
        .unwrap_or_default()
    }

    /// The response parameters of a result or error sent to `redirect_uri`: the location
    /// must be `redirect_uri` followed by `#...` (`in_fragment`) or by `?...` (`&...` when
    /// `redirect_uri` has a query), and nothing else may carry parameters (no fragment for
    /// a query response, no added query for a fragment response). Sorted by name.
    #[track_caller]
    pub fn params_at(&self, redirect_uri: &str, in_fragment: bool) -> Vec<(String, String)> {
        let rest = self
            .location
            .strip_prefix(redirect_uri)
            .unwrap_or_else(|| panic!("{:?} does not go to {redirect_uri:?}", self.location));
        let mut params: Vec<(String, String)> = if in_fragment {
            let f = rest.strip_prefix('#').unwrap_or_else(|| {
                panic!(
                    "{:?}: expected {redirect_uri}#<parameters>, with nothing in the query",
                    self.location
                )
            });
            Self::decode(Some(f))
        } else {
            let sep = if redirect_uri.contains('?') { '&' } else { '?' };
            let q = rest.strip_prefix(sep).unwrap_or_else(|| {
                panic!(
                    "{:?}: expected {redirect_uri}{sep}<parameters>",
                    self.location
                )
            });
            assert!(
                !q.contains('#'),
                "{:?}: a query response with a fragment",
                self.location
            );
            Self::decode(Some(q))
        };
        params.sort();
        params
    }

    /// The names of [`Redirect::params_at`], sorted.
    #[track_caller]
    pub fn keys_at(&self, redirect_uri: &str, in_fragment: bool) -> Vec<String> {
        self.params_at(redirect_uri, in_fragment)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// One parameter of [`Redirect::params_at`].
    #[track_caller]
    pub fn param_at(&self, redirect_uri: &str, in_fragment: bool, name: &str) -> Option<String> {
        self.params_at(redirect_uri, in_fragment)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Asserts an error sent to `redirect_uri`: exactly `error`, `error_description` and
    /// `state` (left out when `state` is `None`), in the fragment or the query.
    #[track_caller]
    pub fn assert_error(
        &self,
        redirect_uri: &str,
        in_fragment: bool,
        error: &str,
        description: &str,
        state: Option<&str>,
    ) {
        let mut expected = vec![
            ("error".to_owned(), error.to_owned()),
            ("error_description".to_owned(), description.to_owned()),
        ];
        if let Some(state) = state {
            expected.push(("state".to_owned(), state.to_owned()));
        }
        expected.sort();
        assert_eq!(
            self.params_at(redirect_uri, in_fragment),
            expected,
            "location {:?}",
            self.location
        );
    }
}

impl Resp {
    /// Every value of a header (e.g. several `Set-Cookie`).
    pub fn all(&self, name: &str) -> Vec<String> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every `Set-Cookie`, read.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.all("set-cookie")
            .iter()
            .map(|h| SetCookie::parse(h))
            .collect()
    }

    /// The `Set-Cookie` of this cookie; there must be at most one.
    #[track_caller]
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        let mut found: Vec<SetCookie> = self
            .set_cookies()
            .into_iter()
            .filter(|c| c.name == name)
            .collect();
        assert!(found.len() <= 1, "{name} set twice: {found:?}");
        found.pop()
    }

    /// The `302` to the client: status and a `Location`.
    #[track_caller]
    pub fn redirect(&self) -> Redirect {
        assert_eq!(
            self.status, 302,
            "expected a 302 to the client; body: {}",
            self.body
        );
        Redirect {
            location: self.header("location").expect("a Location"),
        }
    }

    /// The text a reader sees on this page.
    pub fn text(&self) -> String {
        visible_text(&self.body)
    }

    /// The one form of the page.
    #[track_caller]
    pub fn form(&self) -> Form {
        let mut all = forms(&self.body);
        assert_eq!(all.len(), 1, "expected one form: {}", self.body);
        all.pop().expect("one form")
    }

    /// Asserts the headers and markup every page of the contract has: the status,
    /// `text/html; charset=utf-8`, `Cache-Control: no-store`, `X-Frame-Options: DENY`, a
    /// CSP with `default-src 'none'` and `frame-ancestors 'none'`, `<html lang="en">`, no
    /// script, no `Location`; and `text` among what the reader sees.
    #[track_caller]
    pub fn assert_page(&self, status: u16, text: &str) -> &Resp {
        assert_eq!(self.status, status, "body: {}", self.body);
        let content_type = self.header("content-type").unwrap_or_default();
        assert_eq!(
            content_type.to_ascii_lowercase().replace(' ', ""),
            "text/html;charset=utf-8",
            "Content-Type of {}",
            self.body
        );
        let cache = self.header("cache-control").unwrap_or_default();
        assert!(
            cache
                .split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-store")),
            "Cache-Control {cache:?}"
        );
        assert_eq!(
            self.header("x-frame-options")
                .map(|v| v.to_ascii_uppercase()),
            Some("DENY".to_owned()),
            "X-Frame-Options"
        );
        let csp = self.header("content-security-policy").unwrap_or_default();
        let directives: Vec<String> = csp
            .split(';')
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        for needed in ["default-src 'none'", "frame-ancestors 'none'"] {
            assert!(
                directives.iter().any(|d| d == needed),
                "CSP {csp:?} lacks {needed}"
            );
        }
        assert!(
            !csp.contains("http:") && !csp.contains("https:") && !csp.contains('*'),
            "CSP {csp:?} allows another origin"
        );
        assert!(
            self.header("location").is_none(),
            "a page with a Location: {:?}",
            self.header("location")
        );
        let html = tags(&self.body)
            .into_iter()
            .find(|t| t.name == "html" && !t.closing)
            .unwrap_or_else(|| panic!("no <html>: {}", self.body));
        assert_eq!(html.attr("lang"), Some("en"), "<html lang>");
        assert!(
            !tags(&self.body).iter().any(|t| t.name == "script"),
            "a script on the page: {}",
            self.body
        );
        let seen = self.text();
        assert!(seen.contains(text), "{text:?} not on the page: {seen}");
        self
    }

    /// Asserts a login page (200, the page checks, one POST form to
    /// `/oauth2/authorize?<query>` with `email`, `password` and a hidden `_csrf`) and
    /// returns its form.
    #[track_caller]
    pub fn assert_login_page(&self, query: &str) -> Form {
        self.assert_page(200, "");
        let form = self.form();
        assert_eq!(form.method, "post", "{form:?}");
        assert_eq!(
            form.action,
            format!("{AUTHORIZE}?{query}"),
            "login form action"
        );
        let email = form.field("email").expect("an email input");
        assert_eq!(email.tag, "input");
        assert!(
            matches!(email.kind.as_str(), "email" | "text"),
            "email input type {:?}",
            email.kind
        );
        let password = form.field("password").expect("a password input");
        assert_eq!(
            (password.tag.as_str(), password.kind.as_str()),
            ("input", "password")
        );
        form.csrf();
        form
    }

    /// Asserts a consent page (200, the page checks, one POST form to
    /// `/oauth2/enable_app?<query>` with `_csrf`, the shared-attribute choices and the
    /// `authorize` and `deny` buttons) and returns its form.
    #[track_caller]
    pub fn assert_consent_page(&self, query: &str) -> Form {
        self.assert_page(200, "");
        let form = self.form();
        assert_eq!(form.method, "post", "{form:?}");
        assert_eq!(
            form.action,
            format!("{ENABLE_APP}?{query}"),
            "consent form action"
        );
        form.csrf();
        for button in ["authorize", "deny"] {
            let b = form
                .field(button)
                .unwrap_or_else(|| panic!("no {button} button: {form:?}"));
            assert_eq!(b.kind, "submit", "{b:?}");
        }
        form
    }
}

// ---------------------------------------------------------------------------------------
// The browser.

/// One request the browser made and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub body: String,
    pub resp: Resp,
}

/// A browser without JavaScript: it keeps cookies by hand, follows no redirect on its own,
/// and submits forms as `application/x-www-form-urlencoded`.
pub struct Browser<'s> {
    pub server: &'s Server,
    agent: ureq::Agent,
    cookies: Vec<(String, String)>,
    /// Every exchange so far, for checks of what the server sent where.
    pub history: Vec<Exchange>,
}

impl<'s> Browser<'s> {
    pub fn new(server: &'s Server) -> Browser<'s> {
        Browser {
            server,
            agent: ureq::AgentBuilder::new()
                .redirects(0)
                .timeout(Duration::from_secs(30))
                .build(),
            cookies: Vec::new(),
            history: Vec::new(),
        }
    }

    /// A cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Puts a cookie in the jar (e.g. one planted by an attacker).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.remove_cookie(name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    pub fn remove_cookie(&mut self, name: &str) {
        self.cookies.retain(|(k, _)| k != name);
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.server.base)
        }
    }

    /// Sends a request with the jar's cookies; takes the `Set-Cookie`s of the answer.
    pub fn send(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Resp {
        let mut req = self.agent.request(method, &self.url(path));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.set("Cookie", &jar.join("; "));
        }
        let body = form
            .map(|f| serde_urlencoded::to_string(f).expect("form encoding"))
            .unwrap_or_default();
        let result = match form {
            Some(_) => req
                .set("Content-Type", "application/x-www-form-urlencoded")
                .send_string(&body),
            None => req.call(),
        };
        let response = match result {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let mut names = response.headers_names();
        names.sort();
        names.dedup();
        let mut headers = Vec::new();
        for name in names {
            for value in response.all(&name) {
                headers.push((name.to_ascii_lowercase(), value.to_owned()));
            }
        }
        let mut bytes = Vec::new();
        response
            .into_reader()
            .read_to_end(&mut bytes)
            .expect("read the body");
        let resp = Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        for c in resp.set_cookies() {
            self.remove_cookie(&c.name);
            if !c.deletes() {
                self.cookies.push((c.name.clone(), c.value.clone()));
            }
        }
        self.history.push(Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            body,
            resp: resp.clone(),
        });
        resp
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, None)
    }

    /// A form post; fields may repeat.
    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send("POST", path, Some(fields))
    }

    /// Whether a `Location` points back into Tessera (then the browser goes on there).
    pub fn is_internal(&self, location: &str) -> bool {
        (location.starts_with('/') && !location.starts_with("//"))
            || location.starts_with(&format!("{}/", self.server.base))
    }

    /// Follows the `302`/`303`s that lead to other Tessera pages; stops at a page or at a
    /// redirect that leaves Tessera.
    pub fn follow(&mut self, mut resp: Resp) -> Resp {
        for _ in 0..10 {
            let next = match resp.header("location") {
                Some(l) if matches!(resp.status, 302 | 303) && self.is_internal(&l) => l,
                _ => return resp,
            };
            resp = self.get(&next);
        }
        panic!("more than 10 redirects inside Tessera");
    }

    /// `GET /oauth2/authorize?<query>`, redirects not followed.
    pub fn authorize(&mut self, query: &str) -> Resp {
        self.get(&format!("{AUTHORIZE}?{query}"))
    }

    /// Submits the form of `page` with these values added to its own (e.g. its `_csrf`).
    #[track_caller]
    pub fn submit(&mut self, page: &Resp, extra: &[(&str, &str)]) -> Resp {
        let form = page.form();
        let mut fields: Vec<(String, String)> = form.defaults();
        fields.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let borrowed: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(&form.action, &borrowed)
    }

    /// Submits the login form of `page` with these credentials; not followed.
    #[track_caller]
    pub fn submit_login(&mut self, page: &Resp, email: &str, password: &str) -> Resp {
        let form = page.form();
        let fields = [
            ("email", email),
            ("password", password),
            (CSRF_FIELD, &form.csrf()),
        ];
        self.post(&form.action, &fields)
    }

    /// Signs in on the login page of `query`: the page, the post, its `303` back to
    /// `/oauth2/authorize?<query>` with a new session cookie, and the redirects after it.
    /// Returns what comes then: the consent page or the `302` to the client.
    #[track_caller]
    pub fn sign_in(&mut self, query: &str, email: &str, password: &str) -> Resp {
        let page = self.authorize(query);
        self.sign_in_on(&page, query, email, password)
    }

    /// [`Browser::sign_in`] from a login page already fetched.
    #[track_caller]
    pub fn sign_in_on(&mut self, page: &Resp, query: &str, email: &str, password: &str) -> Resp {
        page.assert_login_page(query);
        let before = self.cookie(SESSION_COOKIE);
        let resp = self.submit_login(page, email, password);
        assert_eq!(resp.status, 303, "login did not succeed: {}", resp.body);
        let location = resp.header("location").expect("a Location");
        let location = location
            .strip_prefix(&self.server.base)
            .unwrap_or(&location);
        assert_eq!(
            location,
            format!("{AUTHORIZE}?{query}"),
            "303 after the login"
        );
        let session = resp
            .set_cookie(SESSION_COOKIE)
            .unwrap_or_else(|| panic!("no {SESSION_COOKIE} cookie: {:?}", resp.headers));
        assert!(!session.value.is_empty());
        assert_ne!(
            Some(session.value),
            before,
            "the session id was not renewed"
        );
        self.follow(resp)
    }

    /// [`Browser::sign_in`] as a world user (`alice`, `bob`, ...).
    #[track_caller]
    pub fn sign_in_as(&mut self, query: &str, key: &str) -> Resp {
        self.sign_in(query, &format!("{key}@test.com"), &format!("{key}-pw"))
    }

    /// Submits the consent form of `page` with the `authorize` button and these shared
    /// attributes (`None`: those pre-selected); not followed.
    #[track_caller]
    pub fn submit_consent(&mut self, page: &Resp, attributes: Option<&[&str]>) -> Resp {
        let form = page.form();
        let csrf = form.csrf();
        let mut fields: Vec<(&str, &str)> = vec![(CSRF_FIELD, &csrf)];
        let defaults = form.defaults();
        match attributes {
            Some(chosen) => fields.extend(chosen.iter().map(|a| (SHARED_FIELD, *a))),
            None => fields.extend(
                defaults
                    .iter()
                    .filter(|(k, _)| k == SHARED_FIELD)
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
        }
        let button = form.field("authorize").expect("an authorize button");
        fields.push(("authorize", &button.value));
        self.post(&form.action, &fields)
    }

    /// Submits the consent form of `page` with the `deny` button; not followed.
    #[track_caller]
    pub fn submit_deny(&mut self, page: &Resp) -> Resp {
        let form = page.form();
        let csrf = form.csrf();
        let button = form.field("deny").expect("a deny button");
        let fields = [(CSRF_FIELD, csrf.as_str()), ("deny", &button.value)];
        self.post(&form.action, &fields)
    }

    /// The whole flow as world user `key`: sign in if the login page comes, approve the
    /// consent page with its pre-selected attributes if it comes, and return the `302` to
    /// the client.
    #[track_caller]
    pub fn run(&mut self, query: &str, key: &str) -> Redirect {
        let first = self.authorize(query);
        let is_login = first.status == 200
            && forms(&first.body)
                .iter()
                .any(|f| f.field("password").is_some());
        let resp = if is_login {
            let (email, password) = (format!("{key}@test.com"), format!("{key}-pw"));
            self.sign_in_on(&first, query, &email, &password)
        } else {
            self.follow(first)
        };
        let resp = if resp.status == 200 {
            resp.assert_consent_page(query);
            let answer = self.submit_consent(&resp, None);
            self.follow(answer)
        } else {
            resp
        };
        resp.redirect()
    }
}

// ---------------------------------------------------------------------------------------
// State behind the flow.

#[derive(diesel::QueryableByName)]
struct SessionRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    digest: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    user_id: String,
}

impl TestDb {
    /// The rows of `browser_sessions`: `(digest, user id)`.
    pub fn sessions(&self) -> Vec<(String, String)> {
        let rows: Vec<SessionRow> =
            diesel::sql_query("SELECT digest, user_id FROM browser_sessions")
                .load(&mut *self.conn())
                .expect("read browser_sessions");
        rows.into_iter().map(|r| (r.digest, r.user_id)).collect()
    }

    /// Makes every browser session expired (its end set to its start).
    pub fn expire_sessions(&self) {
        diesel::sql_query("UPDATE browser_sessions SET expires_at = created_at")
            .execute(&mut *self.conn())
            .expect("expire sessions");
    }

    /// The consent record of `user` for `app`: its shared attributes, sorted.
    pub fn consent(&self, user: &str, app: &str) -> Option<Vec<String>> {
        let stored: Option<String> = user_authorized_applications::table
            .filter(user_authorized_applications::user_id.eq(user))
            .filter(user_authorized_applications::oauth_client_id.eq(app))
            .select(user_authorized_applications::shared_attributes)
            .first(&mut *self.conn())
            .ok();
        stored.map(|s| {
            let mut list: Vec<String> = s
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            list.sort();
            list
        })
    }

    /// The number of consent records.
    pub fn consent_count(&self) -> i64 {
        user_authorized_applications::table
            .count()
            .get_result(&mut *self.conn())
            .expect("count consents")
    }

    /// The number of stored authorization codes.
    pub fn code_count(&self) -> i64 {
        oauth_authorization_codes::table
            .count()
            .get_result(&mut *self.conn())
            .expect("count codes")
    }

    /// The stored code whose plaintext is `code`, which must be there.
    pub fn code(&self, code: &str) -> AuthorizationCode {
        let mut conn = self.conn();
        auth_core::oauth::find_code(&mut conn, code)
            .expect("read the code")
            .unwrap_or_else(|| panic!("no stored code {code}"))
    }

    /// Sets an application's stored `redirect_uri` (`None`: the application has none).
    pub fn set_redirect_uris(&self, app: &str, uris: Option<&str>) {
        diesel::update(oauth_clients::table.filter(oauth_clients::id.eq(app)))
            .set(oauth_clients::redirect_uri.eq(uris))
            .execute(&mut *self.conn())
            .expect("update redirect_uri");
    }

    /// Sets an application's stored `grant_type` and `response_type` lists as given
    /// (bypassing the derivation rules of 4.2).
    pub fn set_grants(&self, app: &str, grant_type: &str, response_type: &str) {
        diesel::update(oauth_clients::table.filter(oauth_clients::id.eq(app)))
            .set((
                oauth_clients::grant_type.eq(grant_type),
                oauth_clients::response_type.eq(response_type),
            ))
            .execute(&mut *self.conn())
            .expect("update grant types");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_forms_as_a_browser() {
        let html = r#"<!doctype html><html lang="en"><body>
            <!-- <form action="/not"> -->
            <form method="POST" action="/oauth2/authorize?a=1&amp;state=%3C&#39;x">
              <label for="e">Email</label><input id="e" name="email" type=email>
              <input name="password" type="password" value="">
              <input type="hidden" name="_csrf" value="t&quot;k">
              <input type="checkbox" name="s" value="username" checked>
              <input type="checkbox" name="s" value="gravatar">
              <select name="m" multiple><option value="a" selected>A</option><option value="b">B</option></select>
              <button type="submit" name="authorize" value="1">Allow</button>
              <button name="deny">Deny</button>
            </form></body></html>"#;
        let all = forms(html);
        assert_eq!(all.len(), 1);
        let f = &all[0];
        assert_eq!(f.method, "post");
        assert_eq!(f.action, "/oauth2/authorize?a=1&state=%3C'x");
        assert_eq!(f.csrf(), "t\"k");
        assert_eq!(f.field("email").unwrap().kind, "email");
        assert!(f.has_label_for("email"));
        assert!(!f.has_label_for("password"));
        assert_eq!(f.fields_named("s").len(), 2);
        assert_eq!(f.field("deny").unwrap().kind, "submit");
        let d = f.defaults();
        assert!(d.contains(&("s".into(), "username".into())));
        assert!(!d.contains(&("s".into(), "gravatar".into())));
        assert!(d.contains(&("m".into(), "a".into())));
        assert!(!d.iter().any(|(k, _)| k == "authorize" || k == "deny"));
        assert_eq!(
            visible_text("<p>a &lt;b&gt;\n <b>c</b>&#x27;</p>"),
            "a <b> c'"
        );
        assert_eq!(
            html_unescape("&amp;lt; &unknown; & &#47;"),
            "&lt; &unknown; & /"
        );
    }

    #[test]
    fn reads_cookies_and_redirects() {
        let c = SetCookie::parse("tessera_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        assert_eq!(
            (c.name.as_str(), c.value.as_str()),
            ("tessera_session", "abc")
        );
        assert_eq!(c.max_age(), Some(60));
        c.assert_protected(false);
        assert!(!c.deletes());
        assert!(SetCookie::parse("a=; Max-Age=0").deletes());
        let r = Redirect {
            location: "http://localhost/cb?x=1&code=abc&state=a%3Cb".into(),
        };
        assert_eq!(
            r.params_at("http://localhost/cb?x=1", false),
            vec![
                ("code".to_owned(), "abc".to_owned()),
                ("state".to_owned(), "a<b".to_owned())
            ]
        );
        let r = Redirect {
            location: "http://localhost/cb#error=e&error_description=d+e".into(),
        };
        r.assert_error("http://localhost/cb", true, "e", "d e", None);
        assert_eq!(r.query(), None);
        assert_eq!(r.fragment(), Some("error=e&error_description=d+e"));
        assert_eq!(at_hash("x").len(), 22);
    }
}
