//! Debian's headless Chromium driven by its ChromeDriver over W3C
//! WebDriver (plain JSON over HTTP on a loopback port), for the web
//! interface's end-to-end tests: a real browser, with its cookie rules,
//! its Content Security Policy and its script engine.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{find_program, free_port};

/// The key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A page element, as WebDriver names it.
#[derive(Clone, Debug)]
pub struct Element(String);

/// One browser session under its own ChromeDriver.
pub struct Browser {
    driver: Child,
    agent: ureq::Agent,
    session: String,
    profile: PathBuf,
}

/// The Chromium and ChromeDriver programs, if both are installed.
pub fn programs() -> Option<(PathBuf, PathBuf)> {
    Some((find_program("chromium")?, find_program("chromedriver")?))
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with an empty profile
    /// under `workdir`, accepting the self-signed certificate of a test
    /// server, with no network traffic of its own.
    pub fn start(workdir: &Path) -> io::Result<Browser> {
        let (chromium, chromedriver) =
            programs().ok_or_else(|| io::Error::other("chromium or chromedriver not installed"))?;
        std::fs::create_dir_all(workdir)?;
        let profile = workdir.join("chromium-profile");
        let port = free_port()?;
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .new_agent();
        let mut browser = Browser {
            driver,
            agent,
            session: format!("http://127.0.0.1:{port}/session"),
            profile: profile.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(io::Error::other("chromedriver did not listen"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let created = browser
            .call("POST", "", Some(caps))
            .map_err(io::Error::other)?;
        let id = created["sessionId"]
            .as_str()
            .ok_or_else(|| io::Error::other(format!("no session: {created}")))?;
        browser.session = format!("{}/{id}", browser.session);
        Ok(browser)
    }

    /// One WebDriver command on this session; its `value`, or the error
    /// WebDriver reported.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.session))
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default().into_bytes())
            .map_err(|e| e.to_string())?;
        let mut resp = self.agent.run(req).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        if status >= 400 {
            return Err(format!(
                "{method} {path}: {} {}",
                value["value"]["error"], value["value"]["message"]
            ));
        }
        Ok(value["value"].clone())
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver: {e}"))
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({ "url": url })));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.must("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.must("POST", "/refresh", Some(json!({})));
    }

    /// Every element `css` selects, in document order.
    pub fn all(&self, css: &str) -> Vec<Element> {
        self.must(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_string())))
        .collect()
    }

    /// The first element `css` selects, once there is one (at most
    /// `timeout`); panics naming the page's text otherwise.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.all(css).into_iter().next() {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no {css} within {timeout:?}; the page says: {}\nits console: {:?}",
                self.page_text(),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the first element `css` selects contains `needle`.
    pub fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.all(css).into_iter().next()
                && let Ok(text) = self.call("GET", &format!("/element/{}/text", e.0), None)
                && text.as_str().is_some_and(|t| t.contains(needle))
            {
                return text.as_str().unwrap_or_default().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {needle:?}; the page says: {}\nits console: {:?}",
                self.page_text(),
                self.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the page wrote to its console (errors among it) since last asked.
    pub fn console(&self) -> Vec<String> {
        self.call("POST", "/se/log", Some(json!({"type": "browser"})))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .into_iter()
            .flatten()
            .map(|e| format!("{} {}", e["level"], e["message"]))
            .collect()
    }

    /// The text of the whole page as rendered.
    pub fn page_text(&self) -> String {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.body.innerText", "args": []})),
        )
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
    }

    /// Clicks `e`.
    pub fn click(&self, e: &Element) {
        self.must("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Types `text` into `e` (after clearing it).
    pub fn type_into(&self, e: &Element, text: &str) {
        self.must("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
        self.must(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        );
    }

    /// Accepts the page's open `confirm()` dialog.
    pub fn accept_dialog(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.call("POST", "/alert/accept", Some(json!({}))).is_err() {
            assert!(Instant::now() < deadline, "no dialog opened");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The rendered text of `e`.
    pub fn text(&self, e: &Element) -> String {
        self.must("GET", &format!("/element/{}/text", e.0), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A property of `e` (`disabled`, `checked`, `value`).
    pub fn property(&self, e: &Element, name: &str) -> Value {
        self.must("GET", &format!("/element/{}/property/{name}", e.0), None)
    }

    /// Runs `script` in the page (a function body; a returned promise is
    /// awaited) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// The browser's cookies for the current page, HttpOnly ones too.
    pub fn cookies(&self) -> Vec<Value> {
        self.must("GET", "/cookie", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Writes a PNG of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.must("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, png).unwrap();
    }

    /// Resizes the window so that the whole page fits (for screenshots
    /// of long pages), at least 900 pixels high.
    pub fn fit_page(&self) {
        let height = self
            .execute(
                "return Math.max(document.documentElement.scrollHeight, 900)",
                json!([]),
            )
            .as_u64()
            .unwrap_or(900);
        self.must(
            "POST",
            "/window/rect",
            Some(json!({"width": 1280, "height": height.min(4000) + 120})),
        );
    }
}
