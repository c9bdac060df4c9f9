//! A real headless browser for tests: Debian's Chromium driven through chromedriver with the
//! `fantoccini` WebDriver client, behind a synchronous API.
//!
//! - [`Browser::start`] starts `chromedriver --port=<free port>` (killed on drop) and opens
//!   a session of headless Chromium with a fresh profile in a temporary folder. A browser
//!   that cannot start is a test failure (a panic that says why), never a skipped test.
//! - [`Listener`] is a tiny local web site for the client side of a flow: a `redirect_uri`
//!   pointed at it loads cleanly, and it records the request targets it was sent (so a test
//!   can show what reached the client, and that a fragment never did).
//! - [`UrlParts`] reads the query and the fragment of the URL a flow ended on.
//!
//! The binaries are `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium`
//! and `chromium-driver`, which `.ci/run` installs), or `TESSERA_CHROMIUM` and
//! `TESSERA_CHROMEDRIVER`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// How long an element, a URL or chromedriver is waited for.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long one page may take to load.
const PAGE_LOAD_MS: u64 = 30_000;
/// The window size, which is also the size of the screenshots.
pub const WINDOW: (u32, u32) = (1000, 800);

/// The WebDriver key codes this kit types.
pub mod keys {
    pub const TAB: &str = "\u{e004}";
    pub const ENTER: &str = "\u{e007}";
}

fn chromium_bin() -> PathBuf {
    std::env::var_os("TESSERA_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn chromedriver_bin() -> PathBuf {
    std::env::var_os("TESSERA_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}… ({} characters in all)", text.chars().count())
    }
}

/// A headless Chromium session; the session, chromedriver and the profile folder end when
/// it is dropped.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    dir: PathBuf,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session; panics with the reason (and
    /// chromedriver's log) if either cannot start.
    pub fn start() -> Browser {
        let (chromium, chromedriver) = (chromium_bin(), chromedriver_bin());
        for (bin, package) in [(&chromium, "chromium"), (&chromedriver, "chromium-driver")] {
            assert!(
                bin.exists(),
                "the browser tests need {} (Debian's `{package}`: `apt-get install -y chromium \
                 chromium-driver`, which .ci/run does); it is not there",
                bin.display()
            );
        }
        let dir =
            std::env::temp_dir().join(format!("tessera_browser_{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("profile")).expect("create the browser's temp folder");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the WebDriver client");

        // A port picked free can be taken before chromedriver binds it; try a few.
        let mut failures = Vec::new();
        for attempt in 0..3 {
            let port = free_port();
            let log_path = dir.join(format!("chromedriver-{attempt}.log"));
            let mut driver = start_chromedriver(&chromedriver, port, &log_path);
            if let Err(e) = wait_for_chromedriver(&mut driver, port) {
                let _ = driver.kill();
                let _ = driver.wait();
                failures.push(format!("{e}; chromedriver log:\n{}", read_log(&log_path)));
                continue;
            }
            let caps = capabilities(&chromium, &dir.join("profile"));
            let connected = rt.block_on(async {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
            });
            match connected {
                Ok(client) => {
                    return Browser {
                        rt,
                        client: Some(client),
                        driver,
                        dir,
                    }
                }
                Err(e) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    panic!(
                        "headless Chromium ({}) did not start through chromedriver ({}): {e}\n\
                         chromedriver log:\n{}",
                        chromium.display(),
                        chromedriver.display(),
                        read_log(&log_path)
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        panic!(
            "chromedriver ({}) did not start:\n{}",
            chromedriver.display(),
            failures.join("\n---\n")
        );
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    /// Opens `url` and waits until it has loaded.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        if let Err(e) = self.try_goto(url) {
            panic!("{e}");
        }
    }

    /// Opens `url`; an `Err` when the page (or the end of its redirects) cannot load, e.g.
    /// a port where nothing listens (the browser then shows its error page, and
    /// [`Browser::current_url`] still reads the URL it tried).
    pub fn try_goto(&self, url: &str) -> Result<(), String> {
        self.rt
            .block_on(self.client().goto(url))
            .map_err(|e| format!("the browser could not open {url}: {e}"))
    }

    /// The URL the browser shows, fragment included.
    pub fn current_url(&self) -> String {
        self.rt
            .block_on(self.client().current_url())
            .expect("current URL")
            .to_string()
    }

    /// The page's current markup (the DOM serialised by the browser).
    pub fn page_source(&self) -> String {
        self.rt
            .block_on(self.client().source())
            .expect("page source")
    }

    /// The elements matching `css`, now (possibly none).
    fn find_all(&self, css: &str) -> Vec<Element> {
        self.rt
            .block_on(self.client().find_all(Locator::Css(css)))
            .unwrap_or_else(|e| panic!("find {css:?}: {e}"))
    }

    /// Whether an element matches `css` now.
    pub fn exists(&self, css: &str) -> bool {
        !self.find_all(css).is_empty()
    }

    /// How many elements match `css` now.
    pub fn count(&self, css: &str) -> usize {
        self.find_all(css).len()
    }

    /// The first element matching `css`, waited for up to [`WAIT`]; panics with the URL and
    /// the page if it does not appear.
    #[track_caller]
    fn element(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.find_all(css).into_iter().next() {
                return element;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no element {css:?} within {WAIT:?} on {}\npage:\n{}",
                    self.current_url(),
                    excerpt(&self.page_source(), 3000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Replaces the value of the input matching `css` by typing `text` into it.
    #[track_caller]
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.rt.block_on(async {
            element
                .clear()
                .await
                .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
            element
                .send_keys(text)
                .await
                .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
        });
    }

    /// Clicks the element matching `css`, a submit button, and waits until the page it was
    /// on has been replaced: the next read sees the page the form led to, never the old one
    /// (a login page shown again holds the same text as before, so waiting for text alone
    /// could read the old page, or find its body gone mid-read).
    #[track_caller]
    pub fn click(&self, css: &str) {
        let element = self.element(css);
        let old_page = self.element("html");
        if let Err(e) = self.rt.block_on(element.click()) {
            panic!("click {css:?} on {}: {e}", self.current_url());
        }
        let deadline = Instant::now() + WAIT;
        // A command on an element of a replaced document fails (stale element reference).
        while self.rt.block_on(old_page.tag_name()).is_ok() {
            if Instant::now() >= deadline {
                panic!(
                    "clicking {css:?} did not leave {} within {WAIT:?}",
                    self.current_url()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Checks or unchecks the checkbox matching `css` (by clicking it, as a person would).
    #[track_caller]
    pub fn set_checkbox(&self, css: &str, checked: bool) {
        let element = self.element(css);
        let now = self
            .rt
            .block_on(element.is_selected())
            .unwrap_or_else(|e| panic!("read {css:?}: {e}"));
        if now != checked {
            self.rt
                .block_on(element.click())
                .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
        }
        let after = self.rt.block_on(element.is_selected()).expect("read back");
        assert_eq!(after, checked, "the checkbox {css:?} did not change");
    }

    /// Whether the checkbox (or option) matching `css` is checked.
    #[track_caller]
    pub fn is_checked(&self, css: &str) -> bool {
        let element = self.element(css);
        self.rt
            .block_on(element.is_selected())
            .unwrap_or_else(|e| panic!("read {css:?}: {e}"))
    }

    /// The attribute `name` of every element matching `css`, in document order.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<Option<String>> {
        self.find_all(css)
            .iter()
            .map(|e| {
                self.rt
                    .block_on(e.attr(name))
                    .unwrap_or_else(|err| panic!("attribute {name} of {css:?}: {err}"))
            })
            .collect()
    }

    /// The attribute `name` of the first element matching `css` (waited for).
    #[track_caller]
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.element(css);
        self.rt
            .block_on(element.attr(name))
            .unwrap_or_else(|e| panic!("attribute {name} of {css:?}: {e}"))
    }

    /// The form controls a person fills in (inputs other than hidden ones, selects, text
    /// areas) that no label names: neither a `<label for>` with their `id` nor a `<label>`
    /// around them. Each is described by its `name` (or its markup position).
    pub fn unlabelled_controls(&self) -> Vec<String> {
        let controls = self.find_all("input:not([type=hidden]), select, textarea");
        let mut unlabelled = Vec::new();
        for (i, control) in controls.iter().enumerate() {
            let (id, name, wrapped) = self.rt.block_on(async {
                let id = control.attr("id").await.expect("id");
                let name = control.attr("name").await.expect("name");
                let wrapped = !control
                    .find_all(Locator::XPath("ancestor::label"))
                    .await
                    .expect("ancestor labels")
                    .is_empty();
                (id, name, wrapped)
            });
            let bound = id
                .filter(|id| !id.is_empty())
                .is_some_and(|id| self.exists(&format!("label[for=\"{id}\"]")));
            if !bound && !wrapped {
                unlabelled.push(name.unwrap_or_else(|| format!("control #{i}")));
            }
        }
        unlabelled
    }

    /// The visible text of the page's body. A body replaced while it is read (the page
    /// navigated in between) is read again from the new page.
    #[track_caller]
    pub fn text(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let body = self.element("body");
            match self.rt.block_on(body.text()) {
                Ok(text) => return text,
                Err(e) if Instant::now() >= deadline => panic!("body text: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Waits up to [`WAIT`] until the page's visible text contains `needle`, and returns
    /// that text; panics with the URL and the text otherwise.
    #[track_caller]
    pub fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            if Instant::now() >= deadline {
                panic!(
                    "no text {needle:?} within {WAIT:?} on {}\ntext:\n{}",
                    self.current_url(),
                    excerpt(&text, 3000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` into whatever has the focus (the page's body when nothing has), as a
    /// keyboard would: e.g. [`keys::TAB`] moves the focus, [`keys::ENTER`] submits.
    pub fn type_keys(&self, keys: &str) {
        self.rt.block_on(async {
            let focused = self
                .client()
                .active_element()
                .await
                .expect("focused element");
            focused.send_keys(keys).await.expect("type");
        });
    }

    /// An attribute of the element that has the focus (`None` on the page's body).
    pub fn focused_attr(&self, name: &str) -> Option<String> {
        self.rt.block_on(async {
            let focused = self
                .client()
                .active_element()
                .await
                .expect("focused element");
            focused.attr(name).await.expect("attribute")
        })
    }

    /// The tag name of the element that has the focus, lower case.
    pub fn focused_tag(&self) -> String {
        self.rt.block_on(async {
            let focused = self
                .client()
                .active_element()
                .await
                .expect("focused element");
            focused.tag_name().await.expect("tag").to_ascii_lowercase()
        })
    }

    /// Waits up to [`WAIT`] until the current URL satisfies `accept`, and returns it; panics
    /// with `what`, the URL and the page otherwise.
    #[track_caller]
    pub fn wait_for_url(&self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url();
            if accept(&url) {
                return url;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the browser did not reach {what} within {WAIT:?}: it shows {url}\npage:\n{}",
                    excerpt(&self.page_source(), 3000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A PNG of the viewport, written to `path` (folders created); returns its bytes.
    #[track_caller]
    pub fn screenshot(&self, path: &Path) -> Vec<u8> {
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .unwrap_or_else(|e| panic!("screenshot of {}: {e}", self.current_url()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        std::fs::write(path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        png
    }

    /// The browser's own temporary folder (removed on drop): a place for screenshots that
    /// only prove screenshotting works.
    pub fn temp_dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Ends the session: chromedriver stops Chromium.
            let _ = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), client.close()).await
            });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_chromedriver(bin: &Path, port: u16, log_path: &Path) -> Child {
    let log = std::fs::File::create(log_path).expect("create chromedriver log");
    Command::new(bin)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()))
}

fn wait_for_chromedriver(driver: &mut Child, port: u16) -> Result<(), String> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let url = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("chromedriver exited with {status}"));
        }
        if let Ok(resp) = agent.get(&url).call() {
            let ready = resp
                .into_json::<Value>()
                .map(|v| v["value"]["ready"] == json!(true))
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("chromedriver did not answer {url} within {WAIT:?}"))
}

fn read_log(path: &Path) -> String {
    excerpt(&std::fs::read_to_string(path).unwrap_or_default(), 4000)
}

fn capabilities(chromium: &Path, profile: &Path) -> serde_json::Map<String, Value> {
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": {"pageLoad": PAGE_LOAD_MS, "script": PAGE_LOAD_MS, "implicit": 0},
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--window-size={},{}", WINDOW.0, WINDOW.1),
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

/// The width and height in a PNG's header; panics if `png` is not a PNG.
#[track_caller]
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n") && &png[12..16] == b"IHDR",
        "not a PNG ({} bytes)",
        png.len()
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// A URL split into its parts, with the query and the fragment decoded as form fields.
#[derive(Debug, Clone)]
pub struct UrlParts {
    /// Everything before `?` or `#`.
    pub base: String,
    pub query: Vec<(String, String)>,
    pub fragment: Vec<(String, String)>,
}

impl UrlParts {
    pub fn parse(url: &str) -> UrlParts {
        let (rest, fragment) = url.split_once('#').unwrap_or((url, ""));
        let (base, query) = rest.split_once('?').unwrap_or((rest, ""));
        let decode = |s: &str| -> Vec<(String, String)> {
            serde_urlencoded::from_str(s)
                .unwrap_or_else(|e| panic!("{s:?} is not form-encoded ({e}) in {url}"))
        };
        UrlParts {
            base: base.to_owned(),
            query: decode(query),
            fragment: decode(fragment),
        }
    }

    /// The value of `key` in the query (the only one: a repeated key panics).
    #[track_caller]
    pub fn query(&self, key: &str) -> Option<&str> {
        single(&self.query, key)
    }

    /// The value of `key` in the fragment (the only one: a repeated key panics).
    #[track_caller]
    pub fn fragment(&self, key: &str) -> Option<&str> {
        single(&self.fragment, key)
    }

    /// The query's keys, sorted.
    pub fn query_keys(&self) -> Vec<String> {
        sorted_keys(&self.query)
    }

    /// The fragment's keys, sorted.
    pub fn fragment_keys(&self) -> Vec<String> {
        sorted_keys(&self.fragment)
    }
}

#[track_caller]
fn single<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    let mut found = pairs.iter().filter(|(k, _)| k == key);
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{key} repeated in {pairs:?}");
    first
}

fn sorted_keys(pairs: &[(String, String)]) -> Vec<String> {
    let mut keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
    keys.sort();
    keys
}

/// A tiny local web site on `127.0.0.1`: it answers every request `200` with one HTML
/// page ("ok" by default) and records each request's target (path and query; a browser
/// never sends the fragment). Stopped when dropped.
pub struct Listener {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// A site answering "ok": the client side of a redirect.
    pub fn start() -> Listener {
        Listener::serving("<!doctype html><html lang=\"en\"><title>client</title><p>ok</p></html>")
    }

    /// A site answering `html` to every request.
    pub fn serving(html: &str) -> Listener {
        let socket = TcpListener::bind("127.0.0.1:0").expect("bind a local listener");
        let port = socket.local_addr().expect("listener address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let html = html.to_owned();
        let (seen, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in socket.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                // One thread per connection: a browser may open a connection it never
                // uses (a preconnect), which must not hold up the next one.
                let (seen, html) = (seen.clone(), html.clone());
                std::thread::spawn(move || answer(stream, &seen, &html));
            }
        });
        Listener {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The request targets received so far (e.g. `/cb?code=..&state=..`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

fn answer(mut stream: TcpStream, seen: &Mutex<Vec<String>>, html: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let Some(target) = head
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .map(str::to_owned)
    else {
        return;
    };
    seen.lock().expect("requests").push(target);
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_query_and_fragment() {
        let u = UrlParts::parse("http://h/cb?code=a%2Bb&state=s#access_token=t&scope=x+y");
        assert_eq!(u.base, "http://h/cb");
        assert_eq!(u.query("code"), Some("a+b"));
        assert_eq!(u.query_keys(), ["code", "state"]);
        assert_eq!(u.fragment("scope"), Some("x y"));
        assert_eq!(u.fragment("code"), None);
        let bare = UrlParts::parse("http://h/cb");
        assert!(bare.query.is_empty() && bare.fragment.is_empty());
    }
}
