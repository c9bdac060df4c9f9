//! A real SMTP server for the tests: `aiosmtpd` (PyPI, pinned in `tests/smtp/requirements.txt`)
//! running `tests/smtp/sink.py` as its own process on a free port of 127.0.0.1. It is not a
//! mock in the test process: Tessera talks SMTP to it over TCP, and the tests read what it
//! received, as Python's e-mail parser decoded it: the envelope, the headers, the body.
//!
//! The Python environment is a venv under `~/.cache/tessera-tests/`, keyed by the
//! requirements file and made on first use (`python3 -m venv`, then `pip install --no-deps`),
//! so `cargo test` on a fresh machine needs only Python 3 and the network once.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const REQUIREMENTS: &str = include_str!("../smtp/requirements.txt");
const SINK: &str = include_str!("../smtp/sink.py");

/// How long a test waits for a message that should arrive.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(20);

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The message as sent, before any decoding.
    pub raw: String,
    /// The headers in order, values decoded (RFC 2047).
    pub headers: Vec<(String, String)>,
    /// `text/plain`, ...
    pub content_type: String,
    pub charset: Option<String>,
    pub multipart: bool,
    /// The body with its transfer encoding and charset undone (`None` when multipart).
    pub body: Option<String>,
}

impl ReceivedMail {
    fn from_json(v: &Value) -> ReceivedMail {
        let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
        ReceivedMail {
            mail_from: text("mail_from"),
            rcpt_tos: v["rcpt_tos"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            raw: text("raw"),
            headers: v["headers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|h| {
                            (
                                h[0].as_str().unwrap_or_default().to_owned(),
                                h[1].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            content_type: text("content_type"),
            charset: v["charset"].as_str().map(str::to_owned),
            multipart: v["multipart"].as_bool().unwrap_or(false),
            body: v["body"].as_str().map(str::to_owned),
        }
    }

    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded body's lines, trimmed at the end.
    pub fn lines(&self) -> Vec<&str> {
        self.body
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim_end)
            .collect()
    }
}

/// A running SMTP server; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpServer {
    /// A server on a free port.
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// A server on `port` (e.g. one a Tessera server was told about before it listened).
    pub fn start_on(port: u16) -> SmtpServer {
        SmtpServer::spawn(port, None)
    }

    /// A server on a free port that requires SMTP AUTH with `user` and `password`.
    pub fn start_with_auth(user: &str, password: &str) -> SmtpServer {
        SmtpServer::spawn(free_port(), Some(format!("{user}:{password}")))
    }

    fn spawn(port: u16, auth: Option<String>) -> SmtpServer {
        let dir =
            std::env::temp_dir().join(format!("tessera_smtp_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a mail folder");
        let script = dir.join("sink.py");
        std::fs::write(&script, SINK).expect("write the sink script");
        let out = dir.join("received");
        std::fs::create_dir_all(&out).expect("a folder for received mail");
        let mut child = Command::new(python())
            .arg(&script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .arg(&out)
            .args(auth)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let stdout = child.stdout.take().expect("its stdout");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("read the SMTP server's first line");
        assert_eq!(
            first.trim(),
            "ready",
            "the SMTP server did not start on {port}"
        );
        SmtpServer { child, port, dir }
    }

    /// `smtp://127.0.0.1:<port>`, for `TESSERA_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in the order they arrived.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        read_messages(&self.dir.join("received"))
    }

    /// Waits until at least `count` messages arrived (panics after [`DELIVERY_WAIT`]) and
    /// returns all received.
    pub fn wait_for(&self, count: usize) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + DELIVERY_WAIT;
        loop {
            let got = self.messages();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} messages arrived within {DELIVERY_WAIT:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server now (a later message then finds nobody listening).
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn read_messages(dir: &Path) -> Vec<ReceivedMail> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    // Names start with the arrival time in nanoseconds.
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read a received message");
            ReceivedMail::from_json(&serde_json::from_str(&text).expect("a message record"))
        })
        .collect()
}

/// The venv's Python, made on first use.
fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        REQUIREMENTS.hash(&mut h);
        h.finish()
    };
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    let venv = home
        .join(".cache/tessera-tests")
        .join(format!("aiosmtpd-{hash:016x}"));
    let python = venv.join("bin/python");
    if venv.join(".installed").exists() {
        return python;
    }
    // Made in a folder of its own, then renamed: a concurrent maker (another test process)
    // never sees a half-made venv.
    let building = venv.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&building),
        "python3 -m venv (install Python 3 with venv)",
    );
    let requirements = building.join("requirements.txt");
    std::fs::write(&requirements, REQUIREMENTS).expect("write the requirements");
    run(
        Command::new(building.join("bin/pip"))
            .args([
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "-r",
            ])
            .arg(&requirements),
        "pip install aiosmtpd",
    );
    std::fs::write(building.join(".installed"), "").expect("mark the venv installed");
    std::fs::create_dir_all(venv.parent().expect("a parent")).expect("the cache folder");
    if std::fs::rename(&building, &venv).is_err() {
        // Another process made it first.
        let _ = std::fs::remove_dir_all(&building);
    }
    python
}
