//! Headless Chromium through chromedriver, with the few W3C WebDriver commands the browser
//! tests need (a JSON protocol over HTTP to a local chromedriver).

use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use storages_s3::http::{Body, HttpClient, HttpConfig};

/// The W3C key of element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian installs Chromium and its driver.
pub fn available() -> Option<(String, String)> {
    // Absolute paths: chromedriver needs one for the browser binary.
    let find = |names: &[&str]| {
        let dirs: Vec<std::path::PathBuf> =
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
        names
            .iter()
            .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .map(|p| p.display().to_string())
    };
    let chromium = find(&["chromium", "chromium-browser", "google-chrome"])?;
    let driver = find(&["chromedriver"])?;
    Some((chromium, driver))
}

/// A browser session. [`close`](Browser::close) ends the session and the browser; dropped
/// without it (a failing test), the driver's whole process group is killed, the browser
/// included, so that no Chromium outlives its test either way.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: HttpClient,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver leads its own process group, and Chromium is in it.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session.
    pub async fn start(chromium: &str, driver: &str) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let http =
            HttpClient::new(&HttpConfig::default().with_timeouts(Duration::from_secs(60), Duration::from_secs(60)))
                .unwrap();
        let mut browser = Browser {
            driver: child,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http,
            profile,
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = browser.profile.path().to_owned();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let reply = browser.call("POST", "/session", Some(caps)).await;
        browser.session = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_owned();
        browser
    }

    /// Ends the session (Chromium quits) and the driver.
    pub async fn close(self) {
        let _ = self.call("DELETE", "", None).await;
    }

    /// The browser's profile folder (removed with the browser).
    pub fn profile_dir(&self) -> std::path::PathBuf {
        self.profile.path().to_owned()
    }

    /// Chromium processes of this browser still running (found by their profile folder).
    pub fn processes(&self) -> usize {
        browser_processes(self.profile.path())
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let uri: http::Uri = url.parse().unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = http::Request::builder()
            .method(method)
            .uri(uri.clone())
            .header("host", uri.authority().unwrap().as_str())
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(Body::from(body))
            .unwrap();
        let resp = self.http.send(req).await.expect("chromedriver");
        let bytes = resp.into_body().collect(64 << 20).await.unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(err) = v["value"].get("error") {
            panic!("webdriver {method} {path}: {err}: {}", v["value"]["message"]);
        }
        v.get("value").cloned().unwrap_or(v)
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
    }

    /// The element matching a CSS selector (panics when there is none).
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .call("POST", "/element", Some(json!({"using": "css selector", "value": css})))
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }

    /// Every element matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Vec<String> {
        let v = self
            .call(
                "POST",
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Types into an element (a file input takes a local path).
    pub async fn type_into(&self, element: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Clicks an element.
    pub async fn click(&self, element: &str) {
        self.call("POST", &format!("/element/{element}/click"), Some(json!({})))
            .await;
    }

    /// An attribute of an element.
    pub async fn attribute(&self, element: &str, name: &str) -> Option<String> {
        self.call("GET", &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// The page's current URL.
    pub async fn url(&self) -> String {
        self.call("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.call("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the page's HTML contains `text`.
    pub async fn wait_for(&self, text: &str) -> String {
        for _ in 0..100 {
            let html = self.source().await;
            if html.contains(text) {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}: {}", self.source().await);
    }
}

/// Processes whose command line names `profile` (the browser's own folder).
pub fn browser_processes(profile: &Path) -> usize {
    Command::new("pgrep")
        .args(["-f", &profile.display().to_string()])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().count())
        .unwrap_or(0)
}
