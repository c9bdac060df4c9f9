//! The Tessera test kit: starts the real `tessera` binary on a free port over a fresh
//! database, and talks to it over HTTP.
//!
//! - SQLite by default: a new file in a new temporary folder per server.
//! - PostgreSQL when `TESSERA_TEST_DATABASE_URL` names a server
//!   (e.g. `postgres://postgres@127.0.0.1:5432/postgres`): a new database per test, dropped
//!   when the test ends.
//!
//! The binary is found beside the test executable (`target/<profile>/tessera`), or at
//! `TESSERA_BIN`. `cargo test --workspace` builds it: the server crate has an integration
//! test, which makes cargo build its binary first.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use storage::diesel::{self, Connection, RunQueryDsl};

pub use serde_json::json;

pub mod authorize;
pub mod browser;
pub mod easydb;
pub mod hexoskin;
pub mod import;
pub mod keyrock;
pub mod kheops;
pub mod oauth;
pub mod routes;
pub mod schema;
pub mod smtp;
pub mod time;
pub mod world;

pub use world::World;

/// Password of the bootstrap admin in every test server.
pub const ADMIN_PASSWORD: &str = "admin-test-password";
/// Email of the bootstrap admin in every test server.
pub const ADMIN_EMAIL: &str = "admin@localhost";

/// The sorted key names of a JSON object (to compare response shapes).
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("{v} is not an object"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// Names, sorted: the expected side of a [`keys`] comparison.
pub fn sorted(list: &[&str]) -> Vec<String> {
    let mut k: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    k.sort();
    k
}

/// A string field of a JSON object, which must be there.
#[track_caller]
pub fn string_field(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
        .to_owned()
}

/// A fresh database for one test.
pub enum TestDb {
    Sqlite {
        dir: PathBuf,
        url: String,
    },
    Postgres {
        server_url: String,
        name: String,
        url: String,
    },
}

fn unique_name() -> String {
    format!("tessera_t_{}", uuid::Uuid::new_v4().simple())
}

impl TestDb {
    /// PostgreSQL if `TESSERA_TEST_DATABASE_URL` is set, else a SQLite file.
    pub fn new() -> TestDb {
        match std::env::var("TESSERA_TEST_DATABASE_URL") {
            Ok(server_url) if !server_url.trim().is_empty() => TestDb::postgres(server_url.trim()),
            _ => TestDb::sqlite(),
        }
    }

    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = format!("sqlite://{}", dir.join("tessera.db").display());
        TestDb::Sqlite { dir, url }
    }

    fn postgres(server_url: &str) -> TestDb {
        let name = unique_name();
        let mut conn = diesel::PgConnection::establish(server_url)
            .unwrap_or_else(|e| panic!("cannot reach TESSERA_TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let url = replace_db_name(server_url, &name);
        TestDb::Postgres {
            server_url: server_url.to_owned(),
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// A direct connection to the test database, for checking state behind the API.
    pub fn conn(&self) -> storage::PooledConn {
        let url = storage::DatabaseUrl::parse(self.url()).expect("test url");
        storage::open_pool(&url, 1)
            .expect("open test database")
            .get()
            .expect("connection")
    }

    /// Makes the database unreachable for the servers on it. PostgreSQL: the database
    /// refuses new connections and every open one is terminated. SQLite: every file of the
    /// database (and its WAL and shared memory) is overwritten with bytes that are no
    /// database, so that no query can read it (a server keeps its files open, so renaming
    /// or removing them would not cut it off). [`TestDb::restore`] undoes the PostgreSQL
    /// part; a SQLite database stays unreadable.
    pub fn cut_off(&self) {
        match self {
            TestDb::Sqlite { dir, .. } => {
                for entry in std::fs::read_dir(dir).expect("read db dir").flatten() {
                    let len = entry.metadata().map(|m| m.len()).unwrap_or(0) as usize;
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(entry.path())
                        .expect("open a database file");
                    std::io::Write::write_all(&mut file, &vec![0xff; len.max(4096)])
                        .expect("overwrite a database file");
                }
            }
            TestDb::Postgres {
                server_url, name, ..
            } => {
                let mut conn = diesel::PgConnection::establish(server_url).expect("reach server");
                diesel::sql_query(format!(
                    "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false"
                ))
                .execute(&mut conn)
                .expect("refuse connections");
                diesel::sql_query(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                ))
                .execute(&mut conn)
                .expect("terminate connections");
            }
        }
    }

    /// Lets a PostgreSQL database cut off by [`TestDb::cut_off`] take connections again.
    pub fn restore(&self) {
        if let TestDb::Postgres {
            server_url, name, ..
        } = self
        {
            if let Ok(mut conn) = diesel::PgConnection::establish(server_url) {
                let _ =
                    diesel::sql_query(format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"))
                        .execute(&mut conn);
            }
        }
    }

    /// Every byte the database holds, as text: the SQLite file and its WAL, or every
    /// row of every table as JSON on PostgreSQL. For "no plaintext secret is stored" checks.
    pub fn dump_text(&self) -> String {
        match self {
            TestDb::Sqlite { dir, .. } => {
                let mut out = String::new();
                for entry in std::fs::read_dir(dir).expect("read db dir").flatten() {
                    let bytes = std::fs::read(entry.path()).unwrap_or_default();
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
                out
            }
            TestDb::Postgres { .. } => {
                #[derive(diesel::QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    v: String,
                }
                let mut conn = self.conn();
                let tables: Vec<Row> = diesel::sql_query(
                    "SELECT tablename AS v FROM pg_tables WHERE schemaname = 'public'",
                )
                .load(&mut *conn)
                .expect("list tables");
                let mut out = String::new();
                for table in tables {
                    let rows: Vec<Row> = diesel::sql_query(format!(
                        "SELECT row_to_json(t)::text AS v FROM \"{}\" t",
                        table.v
                    ))
                    .load(&mut *conn)
                    .expect("dump table");
                    for row in rows {
                        out.push_str(&row.v);
                        out.push('\n');
                    }
                }
                out
            }
        }
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

fn replace_db_name(server_url: &str, name: &str) -> String {
    // postgres://user@host:port/db?params -> postgres://user@host:port/NAME?params
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut url = format!("{}/{}", &base[..authority_end], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres {
                server_url, name, ..
            } => {
                if let Ok(mut conn) = diesel::PgConnection::establish(server_url) {
                    // A database cut off by a test takes connections again before it goes.
                    let _ = diesel::sql_query(format!(
                        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
                    ))
                    .execute(&mut conn);
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

/// Where the `tessera` binary is.
pub fn tessera_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TESSERA_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test binary> -> target/<profile>/tessera
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("tessera{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: run the tests with `cargo test --workspace`, or set TESSERA_BIN",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Settings for a test server, beyond the defaults the kit sets.
#[derive(Default, Clone)]
pub struct Options {
    pub env: Vec<(String, String)>,
    /// The test makes the server panic on purpose (through the debug-only test hooks):
    /// its log is neither checked nor collected.
    pub panics_expected: bool,
}

impl Options {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Enables the debug-only test hooks (`TESSERA_TEST_HOOKS=1`), which inject a panic,
    /// and marks the server's log as expected to hold one.
    pub fn with_panic_hook(mut self) -> Self {
        self.panics_expected = true;
        self.env("TESSERA_TEST_HOOKS", "1")
    }
}

/// What marks a panic in a server log (the standard wording, which Tessera's panic hook
/// keeps).
pub const PANIC_MARK: &str = "panicked at";

/// A running `tessera serve` process; killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    log_path: PathBuf,
    work_dir: PathBuf,
    agent: ureq::Agent,
    panics_expected: bool,
}

impl Server {
    /// A server over a fresh database; the database lives as long as the returned value.
    pub fn start() -> (Server, TestDb) {
        let db = TestDb::new();
        let server = Server::start_on(&db, Options::default());
        (server, db)
    }

    /// A server with extra settings over a fresh database.
    pub fn start_with(options: Options) -> (Server, TestDb) {
        let db = TestDb::new();
        let server = Server::start_on(&db, options);
        (server, db)
    }

    /// A server over an existing database (several servers may share one).
    pub fn start_on(db: &TestDb, options: Options) -> Server {
        Server::try_start_on(db, options).unwrap_or_else(|e| panic!("tessera did not start: {e}"))
    }

    /// Like [`Server::start_on`], but a server that exits at start-up is an `Err` with its log.
    pub fn try_start_on(db: &TestDb, options: Options) -> Result<Server, String> {
        let mut last_error = String::new();
        // A port picked free can be taken before the server binds it; try a few.
        for _ in 0..3 {
            match Server::try_start(db, &options) {
                Ok(server) => return Ok(server),
                Err(e) if e.contains("cannot listen") => last_error = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    fn try_start(db: &TestDb, options: &Options) -> Result<Server, String> {
        let port = free_port();
        let log_path = std::env::temp_dir().join(format!("{}.log", unique_name()));
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(tessera_bin());
        for (key, _) in std::env::vars() {
            if key.starts_with("TESSERA_") {
                cmd.env_remove(key);
            }
        }
        let work_dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&work_dir).map_err(|e| e.to_string())?;
        cmd.current_dir(&work_dir)
            .arg("serve")
            .env("TESSERA_DATABASE_URL", db.url())
            .env("TESSERA_BIND", format!("127.0.0.1:{port}"))
            .env("TESSERA_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TESSERA_BCRYPT_COST", "4")
            .env("TESSERA_WORKERS", "2")
            .env("TESSERA_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        for (key, value) in &options.env {
            cmd.env(key, value);
        }
        let child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
        let mut server = Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log_path,
            work_dir,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
            panics_expected: options.panics_expected,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(child) = server.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited with {status}: {}", server.log()));
                }
            }
            if server.get("/health").status == 200 {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("no answer within 30 s: {}", server.log()))
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log_path) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// The process id, e.g. to send it a signal.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Waits for the process to exit (after a signal) and returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn request(&self, method: &str, path: &str) -> Req<'_> {
        Req {
            server: self,
            method: method.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path).send()
    }

    /// Logs in with the password method and returns the API token.
    pub fn login(&self, email: &str, password: &str) -> String {
        let resp = self
            .request("POST", "/v1/auth/tokens")
            .json(&json!({"name": email, "password": password}))
            .send();
        assert_eq!(resp.status, 201, "login of {email} failed: {}", resp.body);
        resp.header("x-subject-token").expect("X-Subject-Token")
    }

    pub fn admin_token(&self) -> String {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    }

    /// Creates a user through the API (as admin) and returns its id.
    pub fn create_user(
        &self,
        admin_token: &str,
        username: &str,
        email: &str,
        password: &str,
    ) -> String {
        let resp = self
            .request("POST", "/v1/users")
            .token(admin_token)
            .json(&json!({"user": {"username": username, "email": email, "password": password}}))
            .send();
        assert_eq!(resp.status, 201, "create user failed: {}", resp.body);
        resp.json()["user"]["id"].as_str().expect("id").to_owned()
    }
}

/// Objects most suites need, created through the API.
impl Server {
    /// Creates an application (the caller becomes its provider) and returns its id.
    pub fn new_application(&self, token: &str, name: &str) -> String {
        let resp = self
            .request("POST", "/v1/applications")
            .token(token)
            .json(&json!({"application": {"name": name, "redirect_uri": "http://localhost/cb"}}))
            .send();
        assert_eq!(resp.status, 201, "create application: {}", resp.body);
        string_field(&resp.json()["application"], "id")
    }

    /// Creates an organization (the caller becomes its owner) and returns its id.
    pub fn new_organization(&self, token: &str, name: &str) -> String {
        let resp = self
            .request("POST", "/v1/organizations")
            .token(token)
            .json(&json!({"organization": {"name": name}}))
            .send();
        assert_eq!(resp.status, 201, "create organization: {}", resp.body);
        string_field(&resp.json()["organization"], "id")
    }

    /// Creates a role in an application and returns its id.
    pub fn new_role(&self, token: &str, app: &str, name: &str) -> String {
        let resp = self
            .request("POST", &format!("/v1/applications/{app}/roles"))
            .token(token)
            .json(&json!({"role": {"name": name}}))
            .send();
        assert_eq!(resp.status, 201, "create role: {}", resp.body);
        string_field(&resp.json()["role"], "id")
    }

    /// Creates a permission in an application and returns its id.
    pub fn new_permission(&self, token: &str, app: &str, name: &str) -> String {
        let resp = self
            .request("POST", &format!("/v1/applications/{app}/permissions"))
            .token(token)
            .json(&json!({"permission": {"name": name, "action": "GET", "resource": "/r"}}))
            .send();
        assert_eq!(resp.status, 201, "create permission: {}", resp.body);
        string_field(&resp.json()["permission"], "id")
    }

    /// Creates a KHEOPS album (the caller becomes its admin) and returns its id.
    pub fn new_album(&self, credential: &str, name: &str) -> String {
        let resp = self
            .request("POST", "/albums")
            .bearer(credential)
            .form(&[("name", name)])
            .send();
        assert_eq!(resp.status, 201, "create album: {}", resp.body);
        string_field(&resp.json(), "album_id")
    }

    /// Sends `request` as raw bytes on a new connection and returns everything the server
    /// answers until it closes the connection (or 10 s pass), for requests an HTTP client
    /// library would not send.
    pub fn raw(&self, request: &[u8]) -> String {
        use std::io::Write;
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream.write_all(request).expect("send");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }
}

impl Drop for Server {
    /// Stops the server. Its log is copied into `TESSERA_TEST_LOG_DIR` when that is set
    /// (CI checks the collected logs), and a log that shows a panic fails the test.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let log = self.log();
        if !self.panics_expected {
            if let Some(dir) = std::env::var_os("TESSERA_TEST_LOG_DIR") {
                let dir = PathBuf::from(dir);
                let _ = std::fs::create_dir_all(&dir);
                let name = self.log_path.file_name().map(|n| n.to_owned());
                if let Some(name) = name {
                    let _ = std::fs::write(dir.join(name), &log);
                }
            }
        }
        let _ = std::fs::remove_file(&self.log_path);
        let _ = std::fs::remove_dir_all(&self.work_dir);
        if !self.panics_expected && !std::thread::panicking() && log.contains(PANIC_MARK) {
            panic!("the server panicked during this test:\n{log}");
        }
    }
}

/// A request being built.
pub struct Req<'a> {
    server: &'a Server,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `X-Auth-Token: <token>`.
    pub fn token(self, token: &str) -> Self {
        self.header("X-Auth-Token", token)
    }

    /// `Authorization: Bearer <credential>` (KHEOPS and OAuth2 style).
    pub fn bearer(self, credential: &str) -> Self {
        self.header("Authorization", &format!("Bearer {credential}"))
    }

    /// `Authorization: Basic base64(<user>:<password>)`.
    pub fn basic(self, user: &str, password: &str) -> Self {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("Authorization", &format!("Basic {encoded}"))
    }

    /// A form body with `Content-Type: application/x-www-form-urlencoded`.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = serde_urlencoded::to_string(fields).expect("form encoding");
        self.header("Content-Type", "application/x-www-form-urlencoded")
            .raw(body.into_bytes())
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json")
            .raw(body.to_string().into_bytes())
    }

    pub fn raw(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn send(self) -> Resp {
        let url = format!("{}{}", self.server.base, self.path);
        let mut req = self.server.agent.request(&self.method, &url);
        for (k, v) in &self.headers {
            req = req.set(k, v);
        }
        let result = if self.body.is_empty() {
            req.call()
        } else {
            req.send_bytes(&self.body)
        };
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => {
                return Resp {
                    status: 0,
                    headers: Vec::new(),
                    body: format!("transport error: {t}"),
                }
            }
        };
        let status = response.status();
        let headers = response
            .headers_names()
            .into_iter()
            .filter_map(|name| {
                response
                    .header(&name)
                    .map(|v| (name.to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        // Read whole, whatever its size or charset: a body that fails to read must show.
        let mut bytes = Vec::new();
        if let Err(e) = response.into_reader().read_to_end(&mut bytes) {
            panic!("reading the response body failed: {e}");
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// A response: status, headers (names lower-cased), body text.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// Asserts the status (the body is shown if it differs); for chaining, e.g.
    /// `resp.assert_status(201).json()`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Resp {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }

    /// Asserts 204 with an empty body.
    #[track_caller]
    pub fn assert_no_content(&self) {
        assert_eq!(self.status, 204, "body: {}", self.body);
        assert!(self.body.is_empty(), "204 with a body: {:?}", self.body);
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }

    /// Asserts `Content-Type: application/json`.
    #[track_caller]
    pub fn assert_json_type(&self) {
        assert!(
            self.header("content-type")
                .is_some_and(|v| v.starts_with("application/json")),
            "content-type: {:?}",
            self.header("content-type")
        );
    }

    /// Asserts a KHEOPS error body `{"message","detail"}` with this status.
    #[track_caller]
    pub fn assert_kheops_error(&self, status: u16, message: &str, detail: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        let body = self.json();
        assert_eq!(body["message"], message, "body: {}", self.body);
        assert_eq!(body["detail"], detail, "body: {}", self.body);
        self.assert_json_type();
    }

    /// Asserts a Keyrock error envelope with this status and message.
    #[track_caller]
    pub fn assert_keyrock_error(&self, status: u16, message: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        let body = self.json();
        assert_eq!(body["error"]["message"], message, "body: {}", self.body);
        assert_eq!(body["error"]["code"], status, "body: {}", self.body);
        let title = match status {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            413 => "Payload Too Large",
            503 => "Service Unavailable",
            _ => "Internal error",
        };
        assert_eq!(body["error"]["title"], title, "body: {}", self.body);
        self.assert_json_type();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            replace_db_name("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_db_name("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_db_name("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
