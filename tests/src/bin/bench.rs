//! `tessera-bench`: a small real load generator for a running Tessera server.
//!
//! It measures throughput and latency of two Keyrock token endpoints over plain
//! HTTP, with N concurrent client threads, each on its own keep-alive
//! connection (`ureq::Agent`):
//!
//! * `login`: `POST /v1/auth/tokens` with the admin's email and password
//!   (expects 201 and an `X-Subject-Token` header). Dominated by the password
//!   hash cost, so it shows how many logins per second the server sustains.
//! * `token-check`: one login up front, then `GET /v1/auth/tokens` with that
//!   token as both `X-Auth-Token` and `X-Subject-Token` (expects 200); the hot
//!   path of a PEP proxy validating a token.
//! * `mixed`: both at once, N threads each: shows whether a burst of logins
//!   (bcrypt-bound) slows token checks down. Reported as `mixed:login` and
//!   `mixed:token-check`.
//! * `introspect`: one album and one album-scope capability token up front, then
//!   `POST /token/introspect` with its secret (expects 200): the hot path of a
//!   KHEOPS resource server checking a share token.
//! * `album-read`: `GET /albums/{album}` with that secret as Bearer (expects
//!   200); every use also records `last_used`, so this is a write per request.
//! * `user-pdp`: a Keyrock application, a role held through an organization (the admin is
//!   its owner) carrying a regular-expression permission, and one password-grant access
//!   token, made up front; then `GET /user?access_token&app_id&action&resource` (expects
//!   200, and the pre-flight checks the decision is `Permit`): a PEP proxy's hot path.
//! * `client-credentials`: `POST /oauth2/token` with `grant_type=client_credentials` and
//!   Basic client credentials (expects 200): one stored token per request.
//! * `password-grant`: the `password` grant with the admin's credentials (bcrypt-bound).
//! * `refresh-grant`: each thread rotates its own refresh token (`refresh_token` grant,
//!   expects 200; the thread's first request is a password grant that seeds it).
//! * `easydb-session`: one easydb session logged in as the admin up front, then
//!   `GET /api/v1/session?token=` (expects 200): the session object with the user, its
//!   groups and its effective system rights, read from the store on every request.
//! * `easydb-presets`: three object presets made up front, then
//!   `GET /api/v1/right/object/presets?token=` (expects 200).
//! * `hexoskin-check`: two users made through `/v1/users` and a `friend` bundle permission
//!   from the second to the first, made up front; then the data service's question
//!   `GET /api/bundle_permission/?user_allowed=<A>&user_target=<B>` with the admin's Keyrock
//!   API token as Bearer (expects 200; the pre-flight checks the answer lists exactly that
//!   permission).
//! * `hexoskin-request`: `POST /api/bundle_permission_request/` as the admin, asking B to
//!   give A the `friend` bundle (expects 201 with `"email_sent": true`): each request stores
//!   a request and its queued message, mints a token and writes one `.eml` file to the
//!   outbox before the answer, so the server needs `TESSERA_OUTBOX_DIR` (or SMTP).
//!
//! Requests made during the warm-up are not recorded. For the measured window it
//! reports requests, errors, successful requests per second and p50/p90/p99/max
//! latency; `--markdown` adds a table row per scenario. The exit code is 1 when
//! the server is unreachable, the first login fails, or every request of a
//! scenario failed.
//!
//! Usually run through `just bench`, which builds release, starts a fresh
//! server with `TESSERA_ADMIN_PASSWORD` set and runs
//! `target/release/tessera-bench --password ... --markdown`. By hand:
//!
//! ```text
//! tessera-bench --base-url http://127.0.0.1:3000 --password secret \
//!     --concurrency 16 --duration 10 --warmup 2 --scenario all --markdown
//! ```

use std::io::{self, Read};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

/// Hard cap on the requests sent per scenario (warm-up included).
const MAX_REQUESTS: u64 = 5_000_000;
/// Response bodies are drained (so the connection can be reused) up to this size.
const MAX_BODY: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    Login,
    TokenCheck,
    /// Login and token-check threads at the same time.
    Mixed,
    Introspect,
    AlbumRead,
    UserPdp,
    ClientCredentials,
    PasswordGrant,
    RefreshGrant,
    /// `GET /api/v1/session?token=` of an authenticated easydb session.
    EasydbSession,
    /// `GET /api/v1/right/object/presets?token=` over a few presets.
    EasydbPresets,
    /// `GET /api/bundle_permission/?user_allowed=&user_target=` as the admin.
    HexoskinCheck,
    /// `POST /api/bundle_permission_request/` as the admin: a request and its e-mail.
    HexoskinRequest,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Login => "login",
            Scenario::TokenCheck => "token-check",
            Scenario::Mixed => "mixed",
            Scenario::Introspect => "introspect",
            Scenario::AlbumRead => "album-read",
            Scenario::UserPdp => "user-pdp",
            Scenario::ClientCredentials => "client-credentials",
            Scenario::PasswordGrant => "password-grant",
            Scenario::RefreshGrant => "refresh-grant",
            Scenario::EasydbSession => "easydb-session",
            Scenario::EasydbPresets => "easydb-presets",
            Scenario::HexoskinCheck => "hexoskin-check",
            Scenario::HexoskinRequest => "hexoskin-request",
        }
    }
}

const ALL_SCENARIOS: [Scenario; 13] = [
    Scenario::Login,
    Scenario::TokenCheck,
    Scenario::Mixed,
    Scenario::Introspect,
    Scenario::AlbumRead,
    Scenario::UserPdp,
    Scenario::ClientCredentials,
    Scenario::PasswordGrant,
    Scenario::RefreshGrant,
    Scenario::EasydbSession,
    Scenario::EasydbPresets,
    Scenario::HexoskinCheck,
    Scenario::HexoskinRequest,
];

/// What `--scenario` names: one scenario, or all of them in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ScenarioChoice {
    Login,
    TokenCheck,
    Mixed,
    Introspect,
    AlbumRead,
    UserPdp,
    ClientCredentials,
    PasswordGrant,
    RefreshGrant,
    EasydbSession,
    EasydbPresets,
    HexoskinCheck,
    HexoskinRequest,
    /// The four OAuth2 scenarios.
    Oauth,
    /// The two easydb scenarios with the Keyrock token check they are compared with.
    Easydb,
    /// The two Hexoskin scenarios with the Keyrock token check they are compared with.
    Hexoskin,
    All,
}

impl ScenarioChoice {
    fn scenarios(self) -> Vec<Scenario> {
        match self {
            ScenarioChoice::Login => vec![Scenario::Login],
            ScenarioChoice::TokenCheck => vec![Scenario::TokenCheck],
            ScenarioChoice::Mixed => vec![Scenario::Mixed],
            ScenarioChoice::Introspect => vec![Scenario::Introspect],
            ScenarioChoice::AlbumRead => vec![Scenario::AlbumRead],
            ScenarioChoice::UserPdp => vec![Scenario::UserPdp],
            ScenarioChoice::ClientCredentials => vec![Scenario::ClientCredentials],
            ScenarioChoice::PasswordGrant => vec![Scenario::PasswordGrant],
            ScenarioChoice::RefreshGrant => vec![Scenario::RefreshGrant],
            ScenarioChoice::Oauth => vec![
                Scenario::UserPdp,
                Scenario::ClientCredentials,
                Scenario::PasswordGrant,
                Scenario::RefreshGrant,
            ],
            ScenarioChoice::EasydbSession => vec![Scenario::EasydbSession],
            ScenarioChoice::EasydbPresets => vec![Scenario::EasydbPresets],
            ScenarioChoice::Easydb => vec![
                Scenario::TokenCheck,
                Scenario::EasydbSession,
                Scenario::EasydbPresets,
            ],
            ScenarioChoice::HexoskinCheck => vec![Scenario::HexoskinCheck],
            ScenarioChoice::HexoskinRequest => vec![Scenario::HexoskinRequest],
            ScenarioChoice::Hexoskin => vec![
                Scenario::TokenCheck,
                Scenario::HexoskinCheck,
                Scenario::HexoskinRequest,
            ],
            ScenarioChoice::All => ALL_SCENARIOS.to_vec(),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "tessera-bench",
    about = "Real concurrent HTTP load on a running Tessera server (see docs/benchmarks.md)"
)]
struct Config {
    /// Server to load (http only)
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:3000", value_parser = plain_http_url)]
    base_url: String,
    /// Admin email to log in with
    #[arg(long, default_value = "admin@localhost")]
    email: String,
    /// Admin password
    #[arg(long, env = "TESSERA_ADMIN_PASSWORD", hide_env_values = true)]
    password: String,
    /// Client threads, one keep-alive connection each
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    concurrency: usize,
    /// Measured seconds per scenario
    #[arg(long, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    duration: u64,
    /// Unrecorded seconds before measuring
    #[arg(long, value_name = "SECS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(..=3_600))]
    warmup: u64,
    /// Which scenario to run
    #[arg(long, value_enum, default_value_t = ScenarioChoice::All)]
    scenario: ScenarioChoice,
    /// Also print a markdown table row per scenario
    #[arg(long)]
    markdown: bool,
}

/// The base URL without its trailing `/`; plain `http://` only (no TLS support).
fn plain_http_url(value: &str) -> Result<String, String> {
    let url = value.trim_end_matches('/');
    if url.starts_with("http://") {
        Ok(url.to_string())
    } else {
        Err("must be a plain http:// URL (no TLS support)".to_string())
    }
}

/// What one request looked like, for the counters.
enum Outcome {
    Ok,
    Failed(String),
}

fn new_agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
}

/// Reads and discards the body so the keep-alive connection goes back to the pool.
fn drain(response: ureq::Response) -> Result<(), String> {
    let mut reader = response.into_reader().take(MAX_BODY);
    io::copy(&mut reader, &mut io::sink())
        .map(|_| ())
        .map_err(|e| format!("reading body: {e}"))
}

/// Turns a ureq result into an outcome, checking the status and draining the body.
fn classify(
    result: Result<ureq::Response, ureq::Error>,
    expected: u16,
    need_subject_token: bool,
) -> Outcome {
    match result {
        Ok(response) => {
            let status = response.status();
            let has_token = response.header("X-Subject-Token").is_some();
            let drained = drain(response);
            if status != expected {
                Outcome::Failed(format!("HTTP {status} (expected {expected})"))
            } else if need_subject_token && !has_token {
                Outcome::Failed("no X-Subject-Token header in the response".to_string())
            } else {
                match drained {
                    Ok(()) => Outcome::Ok,
                    Err(e) => Outcome::Failed(e),
                }
            }
        }
        Err(ureq::Error::Status(code, response)) => {
            // Best effort: failing to drain an error body changes nothing here.
            let _ = drain(response);
            Outcome::Failed(format!("HTTP {code} (expected {expected})"))
        }
        Err(ureq::Error::Transport(t)) => Outcome::Failed(format!("transport error: {t}")),
    }
}

struct Target<'a> {
    scenario: Scenario,
    base_url: &'a str,
    tokens_url: String,
    login_body: &'a str,
    token: Option<&'a str>,
    capability: &'a Capability,
    oauth: &'a OAuthFixture,
    /// The authenticated easydb session of the easydb scenarios.
    easydb_token: &'a str,
    hexoskin: &'a HexoskinFixture,
}

/// What the scenarios other than the Keyrock ones need, made once before the runs.
#[derive(Default)]
struct Fixtures {
    capability: Capability,
    oauth: OAuthFixture,
    easydb_token: String,
    hexoskin: HexoskinFixture,
}

/// Two users A and B, B's `friend` permission for A, and the requests of the Hexoskin
/// scenarios.
#[derive(Default)]
struct HexoskinFixture {
    /// `Bearer <the admin's Keyrock API token>`.
    bearer: String,
    /// `/api/bundle_permission/?user_allowed=<A>&user_target=<B>`, absolute.
    check_url: String,
    /// A permission request asking B to give A the `friend` bundle (JSON).
    request_body: String,
}

/// A Keyrock application for the OAuth2 scenarios: a role held by the admin through an
/// organization, with a regular-expression permission, and one access token.
#[derive(Default)]
struct OAuthFixture {
    basic: String,
    user_url: String,
    password_form: String,
}

/// An album and an album-scope capability token on it, made once before the KHEOPS scenarios.
#[derive(Default)]
struct Capability {
    album_id: String,
    secret: String,
}

impl Target<'_> {
    fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.base_url)
    }

    #[allow(clippy::result_large_err)] // ureq's own error type, handled at once
    fn grant(&self, agent: &ureq::Agent, form: &str) -> Result<ureq::Response, ureq::Error> {
        agent
            .post(&self.token_url())
            .set("Authorization", &self.oauth.basic)
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(form)
    }

    /// The refresh grant with the thread's refresh token (seeded by a password grant), which
    /// the answer rotates.
    fn refresh(&self, agent: &ureq::Agent, refresh: &mut String) -> Outcome {
        let form = if refresh.is_empty() {
            self.oauth.password_form.clone()
        } else {
            format!("grant_type=refresh_token&refresh_token={refresh}")
        };
        match self.grant(agent, &form) {
            Ok(response) => match response.into_json::<serde_json::Value>() {
                Ok(body) => match body["refresh_token"].as_str() {
                    Some(next) => {
                        *refresh = next.to_owned();
                        Outcome::Ok
                    }
                    None => Outcome::Failed(format!("no refresh_token in {body}")),
                },
                Err(e) => Outcome::Failed(format!("unreadable token response: {e}")),
            },
            Err(e) => {
                refresh.clear();
                Outcome::Failed(format!("refresh grant: {e}"))
            }
        }
    }

    /// One permission request: 201 and `"email_sent": true` (the outbox write succeeded
    /// before the answer).
    fn ask(&self, agent: &ureq::Agent) -> Outcome {
        let result = agent
            .post(&format!("{}/api/bundle_permission_request/", self.base_url))
            .set("Authorization", &self.hexoskin.bearer)
            .set("Content-Type", "application/json")
            .send_string(&self.hexoskin.request_body);
        match result {
            Ok(response) if response.status() == 201 => {
                match response.into_json::<serde_json::Value>() {
                    Ok(body) if body["email_sent"] == true => Outcome::Ok,
                    Ok(body) => Outcome::Failed(format!(
                        "201 with email_sent {} (expected true)",
                        body["email_sent"]
                    )),
                    Err(e) => Outcome::Failed(format!("unreadable request answer: {e}")),
                }
            }
            other => classify(other, 201, false),
        }
    }

    fn send(&self, agent: &ureq::Agent, state: &mut String) -> Outcome {
        match self.scenario {
            Scenario::UserPdp => classify(agent.get(&self.oauth.user_url).call(), 200, false),
            Scenario::ClientCredentials => classify(
                self.grant(agent, "grant_type=client_credentials"),
                200,
                false,
            ),
            Scenario::PasswordGrant => {
                classify(self.grant(agent, &self.oauth.password_form), 200, false)
            }
            Scenario::RefreshGrant => self.refresh(agent, state),
            Scenario::Login => {
                let result = agent
                    .post(&self.tokens_url)
                    .set("Content-Type", "application/json")
                    .send_string(self.login_body);
                classify(result, 201, true)
            }
            Scenario::TokenCheck | Scenario::Mixed => {
                let token = self.token.unwrap_or_default();
                let result = agent
                    .get(&self.tokens_url)
                    .set("X-Auth-Token", token)
                    .set("X-Subject-Token", token)
                    .call();
                classify(result, 200, false)
            }
            Scenario::EasydbSession => classify(
                agent
                    .get(&format!("{}/api/v1/session", self.base_url))
                    .query("token", self.easydb_token)
                    .call(),
                200,
                false,
            ),
            Scenario::EasydbPresets => classify(
                agent
                    .get(&format!("{}/api/v1/right/object/presets", self.base_url))
                    .query("token", self.easydb_token)
                    .call(),
                200,
                false,
            ),
            Scenario::HexoskinCheck => classify(
                agent
                    .get(&self.hexoskin.check_url)
                    .set("Authorization", &self.hexoskin.bearer)
                    .call(),
                200,
                false,
            ),
            Scenario::HexoskinRequest => self.ask(agent),
            Scenario::Introspect => {
                let result = agent
                    .post(&format!("{}/token/introspect", self.base_url))
                    .set("Content-Type", "application/x-www-form-urlencoded")
                    .send_string(&format!("token={}", self.capability.secret));
                classify(result, 200, false)
            }
            Scenario::AlbumRead => {
                let result = agent
                    .get(&format!(
                        "{}/albums/{}",
                        self.base_url, self.capability.album_id
                    ))
                    .set(
                        "Authorization",
                        &format!("Bearer {}", self.capability.secret),
                    )
                    .call();
                classify(result, 200, false)
            }
        }
    }
}

/// Creates the album and the capability token the KHEOPS scenarios use.
fn capability_once(cfg: &Config, token: &str) -> Result<Capability, String> {
    let agent = new_agent();
    let post_form = |path: &str, body: &str| -> Result<serde_json::Value, String> {
        let url = format!("{}{path}", cfg.base_url);
        let response = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(body)
            .map_err(|e| format!("POST {url}: {e}"))?;
        response
            .into_json::<serde_json::Value>()
            .map_err(|e| format!("POST {url}: {e}"))
    };
    let album = post_form("/albums", "name=bench")?;
    let album_id = album["album_id"]
        .as_str()
        .ok_or("POST /albums answered no album_id")?
        .to_owned();
    let created = post_form(
        "/capabilities",
        &format!("title=bench&scope_type=album&album={album_id}&read_permission=true"),
    )?;
    let secret = created["secret"]
        .as_str()
        .ok_or("POST /capabilities answered no secret")?
        .to_owned();
    Ok(Capability { album_id, secret })
}

/// Creates the application, role, permission and organization of the OAuth2 scenarios,
/// and checks that `/user` permits the benchmarked request.
fn oauth_once(cfg: &Config, token: &str) -> Result<OAuthFixture, String> {
    use base64::Engine;
    let agent = new_agent();
    let send = |method: &str, path: &str, body: serde_json::Value| {
        let url = format!("{}{path}", cfg.base_url);
        agent
            .request(method, &url)
            .set("X-Auth-Token", token)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
            .map_err(|e| format!("{method} {url}: {e}"))?
            .into_json::<serde_json::Value>()
            .map_err(|e| format!("{method} {url}: {e}"))
    };
    let text = |v: &serde_json::Value, what: &str| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("no {what} in the answer"))
    };
    let app = send(
        "POST",
        "/v1/applications",
        serde_json::json!({"application": {"name": "bench", "redirect_uri": "http://localhost/cb",
            "url": "http://localhost", "grant_type": ["password", "client_credentials", "refresh_token"]}}),
    )?;
    let app_id = text(&app["application"]["id"], "application id")?;
    let secret = text(&app["application"]["secret"], "application secret")?;
    let base = format!("/v1/applications/{app_id}");
    let role = send(
        "POST",
        &format!("{base}/roles"),
        serde_json::json!({"role": {"name": "reader"}}),
    )?;
    let role_id = text(&role["role"]["id"], "role id")?;
    let permission = send(
        "POST",
        &format!("{base}/permissions"),
        serde_json::json!({"permission": {"name": "entities", "action": "GET",
            "resource": "^/v2/entities/.*", "is_regex": true}}),
    )?;
    let permission_id = text(&permission["permission"]["id"], "permission id")?;
    send(
        "PUT",
        &format!("{base}/roles/{role_id}/permissions/{permission_id}"),
        serde_json::json!({}),
    )?;
    let org = send(
        "POST",
        "/v1/organizations",
        serde_json::json!({"organization": {"name": "bench-org"}}),
    )?;
    let org_id = text(&org["organization"]["id"], "organization id")?;
    send(
        "PUT",
        &format!("{base}/organizations/{org_id}/roles/{role_id}/organization_roles/owner"),
        serde_json::json!({}),
    )?;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{app_id}:{secret}"))
    );
    let password_form = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("username", cfg.email.as_str()),
        ("password", cfg.password.as_str()),
    ])
    .map_err(|e| e.to_string())?;
    let granted = agent
        .post(&format!("{}/oauth2/token", cfg.base_url))
        .set("Authorization", &basic)
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&password_form)
        .map_err(|e| format!("password grant: {e}"))?
        .into_json::<serde_json::Value>()
        .map_err(|e| format!("password grant: {e}"))?;
    let access = text(&granted["access_token"], "access_token")?;
    let user_url = format!(
        "{}/user?access_token={access}&app_id={app_id}&action=GET&resource=/v2/entities/urn:Room:1",
        cfg.base_url
    );
    let decision = agent
        .get(&user_url)
        .call()
        .map_err(|e| format!("GET /user: {e}"))?
        .into_json::<serde_json::Value>()
        .map_err(|e| format!("GET /user: {e}"))?;
    if decision["authorization_decision"] != "Permit" {
        return Err(format!(
            "/user does not permit the benchmarked request: {decision}"
        ));
    }
    Ok(OAuthFixture {
        basic,
        user_url,
        password_form,
    })
}

/// An authenticated easydb session as the admin, and three object presets to list.
fn easydb_once(cfg: &Config) -> Result<String, String> {
    let agent = new_agent();
    let api = |path: &str| format!("{}/api/v1{path}", cfg.base_url);
    let json =
        |r: Result<ureq::Response, ureq::Error>, what: &str| -> Result<serde_json::Value, String> {
            r.map_err(|e| format!("easydb {what}: {e}"))?
                .into_json::<serde_json::Value>()
                .map_err(|e| format!("easydb {what}: {e}"))
        };
    let session = json(agent.get(&api("/session")).call(), "session")?;
    let token = session["token"]
        .as_str()
        .ok_or_else(|| format!("easydb session without a token: {session}"))?
        .to_owned();
    json(
        agent
            .post(&api("/session/authenticate"))
            .query("token", &token)
            .send_form(&[("login", &cfg.email), ("password", &cfg.password)]),
        "login",
    )?;
    let presets: Vec<serde_json::Value> = ["read", "write", "delete"]
        .iter()
        .map(|right| {
            serde_json::json!({"_basetype": "right_preset", "right_preset": {
                "_version": 1, "displayname": {"en-US": right},
                "preset": {"rights": {*right: {}}, "tagfilter": {"any": [1, 2]}}}})
        })
        .collect();
    json(
        agent
            .post(&api("/right/object/presets"))
            .query("token", &token)
            .send_json(serde_json::Value::Array(presets)),
        "presets",
    )?;
    Ok(token)
}

/// Users A and B (created as the admin through `/v1/users`), B's `friend` permission for
/// A, and a check that the data service's question lists exactly that permission.
fn hexoskin_once(cfg: &Config, token: &str) -> Result<HexoskinFixture, String> {
    let agent = new_agent();
    let bearer = format!("Bearer {token}");
    let json = |r: Result<ureq::Response, ureq::Error>,
                what: &str,
                expected: u16|
     -> Result<serde_json::Value, String> {
        let response = r.map_err(|e| format!("hexoskin {what}: {e}"))?;
        if response.status() != expected {
            return Err(format!(
                "hexoskin {what}: HTTP {} (expected {expected})",
                response.status()
            ));
        }
        response
            .into_json::<serde_json::Value>()
            .map_err(|e| format!("hexoskin {what}: {e}"))
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut uris = Vec::new();
    for who in ["a", "b"] {
        let username = format!("bench-hexoskin-{who}-{stamp}");
        let email = format!("{username}@bench.example");
        json(
            agent
                .post(&format!("{}/v1/users", cfg.base_url))
                .set("X-Auth-Token", token)
                .send_json(
                    serde_json::json!({"user": {"username": username, "email": email,
                    "password": format!("{username}-password")}}),
                ),
            "POST /v1/users",
            201,
        )?;
        let found = json(
            agent
                .get(&format!("{}/api/user/", cfg.base_url))
                .query("email", &email)
                .set("Authorization", &bearer)
                .call(),
            "GET /api/user/",
            200,
        )?;
        let id = found["objects"][0]["id"]
            .as_i64()
            .ok_or_else(|| format!("no user {email} in {found}"))?;
        uris.push(format!("/api/user/{id}/"));
    }
    let (allowed, target) = (&uris[0], &uris[1]);
    let bundles = json(
        agent
            .get(&format!("{}/api/bundle/", cfg.base_url))
            .query("limit", "0")
            .set("Authorization", &bearer)
            .call(),
        "GET /api/bundle/",
        200,
    )?;
    let friend = bundles["objects"]
        .as_array()
        .and_then(|all| all.iter().find(|b| b["name"] == "friend"))
        .and_then(|b| b["id"].as_i64())
        .ok_or_else(|| format!("no friend bundle in {bundles}"))?;
    let body = serde_json::json!({"bundle": format!("/api/bundle/{friend}/"),
        "user_allowed": allowed, "user_target": target});
    json(
        agent
            .post(&format!("{}/api/bundle_permission/", cfg.base_url))
            .set("Authorization", &bearer)
            .send_json(body.clone()),
        "POST /api/bundle_permission/",
        201,
    )?;
    let query = serde_urlencoded::to_string([("user_allowed", allowed), ("user_target", target)])
        .map_err(|e| e.to_string())?;
    let check_url = format!("{}/api/bundle_permission/?{query}", cfg.base_url);
    let listed = json(
        agent.get(&check_url).set("Authorization", &bearer).call(),
        "GET /api/bundle_permission/",
        200,
    )?;
    if listed["meta"]["total_count"] != 1 || listed["objects"][0]["bundle"]["name"] != "friend" {
        return Err(format!(
            "the permission check does not list exactly the granted permission: {listed}"
        ));
    }
    Ok(HexoskinFixture {
        bearer,
        check_url,
        request_body: body.to_string(),
    })
}

/// One login, for the pre-flight check and the token-check scenario's token.
fn login_once(cfg: &Config, login_body: &str) -> Result<String, String> {
    let url = format!("{}/v1/auth/tokens", cfg.base_url);
    let result = new_agent()
        .post(&url)
        .set("Content-Type", "application/json")
        .send_string(login_body);
    match result {
        Ok(response) => {
            let status = response.status();
            let token = response.header("X-Subject-Token").map(str::to_string);
            let _ = drain(response);
            match (status, token) {
                (201, Some(token)) => Ok(token),
                (201, None) => Err(format!(
                    "login at {url} returned 201 without an X-Subject-Token header"
                )),
                (other, _) => Err(format!(
                    "login as {} at {url} returned HTTP {other}, expected 201",
                    cfg.email
                )),
            }
        }
        Err(ureq::Error::Status(code, response)) => {
            let _ = drain(response);
            Err(format!(
                "login as {} at {url} failed with HTTP {code} (wrong --email or --password?)",
                cfg.email
            ))
        }
        Err(ureq::Error::Transport(t)) => {
            Err(format!("server unreachable at {}: {t}", cfg.base_url))
        }
    }
}

/// What one client thread saw during the measured window.
#[derive(Default)]
struct ThreadResult {
    latencies_ns: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

fn worker(
    target: &Target<'_>,
    sent: &AtomicU64,
    measure_from: Instant,
    stop_at: Instant,
) -> ThreadResult {
    let agent = new_agent();
    let mut result = ThreadResult::default();
    let mut state = String::new();
    loop {
        let start = Instant::now();
        if start >= stop_at || sent.fetch_add(1, Ordering::Relaxed) >= MAX_REQUESTS {
            break;
        }
        let outcome = target.send(&agent, &mut state);
        let elapsed = start.elapsed();
        if start < measure_from {
            continue;
        }
        match outcome {
            Outcome::Ok => result
                .latencies_ns
                .push(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)),
            Outcome::Failed(reason) => {
                result.errors += 1;
                if result.first_error.is_none() {
                    result.first_error = Some(reason);
                }
            }
        }
    }
    result
}

struct Report {
    label: String,
    requests: u64,
    errors: u64,
    measured_secs: f64,
    rps: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    first_error: Option<String>,
}

/// Value at index `ceil(p * n) - 1` of the sorted slice, `p` given in per mille.
fn percentile(sorted: &[u64], per_mille: usize) -> u64 {
    let n = sorted.len();
    if n == 0 {
        return 0;
    }
    let rank = (per_mille * n).div_ceil(1000).max(1);
    sorted[rank.min(n) - 1]
}

fn ns_to_ms(ns: u64) -> f64 {
    ns as f64 / 1_000_000.0
}

/// Runs thread groups at once, one report per group: `(label, scenario, threads)`.
fn run_groups(
    cfg: &Config,
    groups: &[(String, Scenario, usize)],
    login_body: &str,
    token: &str,
    fixtures: &Fixtures,
) -> Vec<Report> {
    let targets: Vec<Target<'_>> = groups
        .iter()
        .map(|(_, scenario, _)| Target {
            scenario: *scenario,
            base_url: &cfg.base_url,
            tokens_url: format!("{}/v1/auth/tokens", cfg.base_url),
            login_body,
            token: Some(token),
            capability: &fixtures.capability,
            oauth: &fixtures.oauth,
            easydb_token: &fixtures.easydb_token,
            hexoskin: &fixtures.hexoskin,
        })
        .collect();
    let sent = AtomicU64::new(0);
    let begin = Instant::now();
    let measure_from = begin + Duration::from_secs(cfg.warmup);
    let stop_at = measure_from + Duration::from_secs(cfg.duration);

    let per_group: Vec<Vec<ThreadResult>> = std::thread::scope(|scope| {
        let handles: Vec<Vec<_>> = groups
            .iter()
            .zip(&targets)
            .map(|((_, _, threads), target)| {
                let sent = &sent;
                (0..*threads)
                    .map(|_| scope.spawn(move || worker(target, sent, measure_from, stop_at)))
                    .collect()
            })
            .collect();
        handles
            .into_iter()
            .map(|group| {
                group
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(r) => r,
                        Err(_) => ThreadResult {
                            errors: 1,
                            first_error: Some("client thread panicked".to_string()),
                            ..ThreadResult::default()
                        },
                    })
                    .collect()
            })
            .collect()
    });
    // The window really ends when the last in-flight request has finished.
    let measured_secs = Instant::now()
        .saturating_duration_since(measure_from)
        .as_secs_f64()
        .max(f64::EPSILON);

    groups
        .iter()
        .zip(per_group)
        .map(|((label, _, _), results)| {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            for r in results {
                latencies.extend(r.latencies_ns);
                errors += r.errors;
                if first_error.is_none() {
                    first_error = r.first_error;
                }
            }
            latencies.sort_unstable();
            let ok = latencies.len() as u64;
            Report {
                label: label.clone(),
                requests: ok + errors,
                errors,
                measured_secs,
                rps: ok as f64 / measured_secs,
                p50_ms: ns_to_ms(percentile(&latencies, 500)),
                p90_ms: ns_to_ms(percentile(&latencies, 900)),
                p99_ms: ns_to_ms(percentile(&latencies, 990)),
                max_ms: ns_to_ms(latencies.last().copied().unwrap_or(0)),
                first_error,
            }
        })
        .collect()
}

fn print_report(cfg: &Config, r: &Report) {
    println!(
        "{}: {} threads, {} s warm-up, {:.2} s measured",
        r.label, cfg.concurrency, cfg.warmup, r.measured_secs
    );
    println!(
        "  requests {}  errors {}  throughput {:.1} req/s",
        r.requests, r.errors, r.rps
    );
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms
    );
    if let Some(e) = &r.first_error {
        println!("  first error: {e}");
    }
}

fn run(cfg: &Config) -> Result<(), String> {
    let login_body = serde_json::json!({"name": cfg.email, "password": cfg.password}).to_string();
    // Pre-flight: fails fast on an unreachable server or wrong credentials.
    let token = login_once(cfg, &login_body)?;
    println!(
        "tessera-bench: {} ({} threads, {} s warm-up + {} s per scenario)",
        cfg.base_url, cfg.concurrency, cfg.warmup, cfg.duration
    );

    let scenarios = cfg.scenario.scenarios();
    let kheops = scenarios
        .iter()
        .any(|s| matches!(s, Scenario::Introspect | Scenario::AlbumRead));
    let mut fixtures = Fixtures::default();
    if kheops {
        fixtures.capability = capability_once(cfg, &token)?;
    }
    let oauth_needed = scenarios.iter().any(|s| {
        matches!(
            s,
            Scenario::UserPdp
                | Scenario::ClientCredentials
                | Scenario::PasswordGrant
                | Scenario::RefreshGrant
        )
    });
    if oauth_needed {
        fixtures.oauth = oauth_once(cfg, &token)?;
    }

    let easydb_needed = scenarios
        .iter()
        .any(|s| matches!(s, Scenario::EasydbSession | Scenario::EasydbPresets));
    if easydb_needed {
        fixtures.easydb_token = easydb_once(cfg)?;
    }
    let hexoskin_needed = scenarios
        .iter()
        .any(|s| matches!(s, Scenario::HexoskinCheck | Scenario::HexoskinRequest));
    if hexoskin_needed {
        fixtures.hexoskin = hexoskin_once(cfg, &token)?;
    }

    let mut reports = Vec::new();
    for &scenario in &scenarios {
        let groups = match scenario {
            Scenario::Mixed => vec![
                ("mixed:login".to_string(), Scenario::Login, cfg.concurrency),
                (
                    "mixed:token-check".to_string(),
                    Scenario::TokenCheck,
                    cfg.concurrency,
                ),
            ],
            single => vec![(single.name().to_string(), single, cfg.concurrency)],
        };
        for report in run_groups(cfg, &groups, &login_body, &token, &fixtures) {
            print_report(cfg, &report);
            reports.push(report);
        }
    }

    if cfg.markdown {
        println!();
        println!("| scenario | concurrency | duration | req/s | p50 ms | p99 ms | errors |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for r in &reports {
            println!(
                "| {} | {} | {} s | {:.1} | {:.2} | {:.2} | {} |",
                r.label, cfg.concurrency, cfg.duration, r.rps, r.p50_ms, r.p99_ms, r.errors
            );
        }
    }

    let failed: Vec<String> = reports
        .iter()
        .filter(|r| r.requests == r.errors)
        .map(|r| {
            format!(
                "{}: all {} requests failed ({})",
                r.label,
                r.requests,
                r.first_error.as_deref().unwrap_or("no request completed")
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn main() -> ExitCode {
    let cfg = Config::parse();
    match run(&cfg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
