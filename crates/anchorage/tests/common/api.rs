//! A running `serve` with the admin API, and an HTTPS client for it.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchorage_testkit as oracle;
use serde_json::Value;

use super::Cli;

pub struct Serve {
    pub child: Child,
    pub api: String,
    pub rsync: u16,
    pub http: String,
    /// The RTR port, when started with one.
    pub rtr: Option<u16>,
}

/// How to start `serve`, beyond its configuration file.
#[derive(Default)]
pub struct Launch<'a> {
    /// Extra environment variables (failure injection).
    pub env: &'a [(&'a str, &'a str)],
    /// A command that runs serve (e.g. `prlimit --nofile=N:N --`).
    pub wrapper: &'a [&'a str],
    /// Whether to listen for RTR (and validate the repository).
    pub rtr: bool,
    /// Where serve's log goes (default: nowhere).
    pub log: Option<&'a Path>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` with the admin API and `config` as its configuration file.
pub fn serve(cli: &Cli, config: &str) -> Serve {
    serve_env(cli, config, &[])
}

/// [`serve`] with extra environment variables (failure injection).
pub fn serve_env(cli: &Cli, config: &str, env: &[(&str, &str)]) -> Serve {
    serve_with(
        cli,
        config,
        Launch {
            env,
            ..Launch::default()
        },
    )
}

/// [`serve`] as `launch` says.
pub fn serve_with(cli: &Cli, config: &str, launch: Launch<'_>) -> Serve {
    let port = || oracle::free_port().unwrap();
    let (http, rsync, api) = (port(), port(), port());
    let rtr = launch.rtr.then(port);
    let conf = cli.dir.join("serve.toml");
    std::fs::write(&conf, config).unwrap();
    let mut cmd = match launch.wrapper.split_first() {
        Some((program, args)) => {
            let mut c = Command::new(program);
            c.args(args).arg(super::bin());
            c
        }
        None => Command::new(super::bin()),
    };
    cmd.arg("--data-dir")
        .arg(&cli.dir)
        .args(["serve", "--config"])
        .arg(&conf)
        .args(["--http-listen", &format!("127.0.0.1:{http}")])
        .args(["--rsync-listen", &format!("127.0.0.1:{rsync}")])
        .args(["--api-listen", &format!("127.0.0.1:{api}")]);
    if let Some(rtr) = rtr {
        cmd.args(["--rtr-listen", &format!("127.0.0.1:{rtr}")]);
    }
    let stderr = match launch.log {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let child = cmd
        .envs(launch.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", api)).is_err()
        || TcpStream::connect(("127.0.0.1", rsync)).is_err()
    {
        assert!(Instant::now() < deadline, "serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Serve {
        child,
        api: format!("https://127.0.0.1:{api}"),
        rsync,
        http: format!("http://127.0.0.1:{http}"),
        rtr,
    }
}

/// An HTTPS client trusting only the data directory's API certificate.
pub struct Client {
    agent: ureq::Agent,
    base: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Value,
}

impl Client {
    pub fn new(cli: &Cli, base: &str) -> Client {
        let pem = std::fs::read(cli.dir.join("tls/api.crt")).unwrap();
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Client {
            agent,
            base: base.to_string(),
        }
    }

    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.unwrap_or_default().to_vec()).unwrap();
        self.send(req)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// [`Self::json`], with a transport failure (the server died) returned.
    pub fn try_json(&self, path: &str, token: &str, body: Value) -> Result<Reply, String> {
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())
            .unwrap();
        self.send(req)
    }

    fn send(&self, req: ureq::http::Request<Vec<u8>>) -> Result<Reply, String> {
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let mut resp = self.agent.run(req).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp
            .body_mut()
            .with_config()
            .limit(10 << 20)
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status >= 400 {
            // Every error is RFC 9457 problem+json.
            assert_eq!(
                headers.get("content-type").unwrap(),
                "application/problem+json",
                "{method} {path}: {body}"
            );
            assert_eq!(body["status"], status, "{body}");
            assert!(body["detail"].is_string(), "{body}");
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub fn json(&self, method: &str, path: &str, token: &str, body: Value) -> Reply {
        let bytes = body.to_string();
        self.call(method, path, Some(token), Some(bytes.as_bytes()), &[])
    }

    pub fn get(&self, path: &str, token: &str) -> Reply {
        self.call("GET", path, Some(token), None, &[])
    }
}

/// Adds a ROA of AS64496 for `prefix` to the CA `member` through the
/// API, asserting that it is answered within 30 s (never a hang); a
/// transport failure (the server died) is returned.
pub fn add_member_roa(c: &Client, token: &str, prefix: &str) -> Result<Reply, String> {
    let started = Instant::now();
    let answer = c.try_json(
        "/api/v1/cas/member/roas",
        token,
        serde_json::json!({"add": [{"asn": 64496, "prefix": prefix}]}),
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered in {:?}",
        started.elapsed()
    );
    answer
}

pub fn token(cli: &Cli, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend(args);
    cli.ok(&all).trim().to_string()
}

/// The store's rows (every table) and the published files: what a
/// refused request must leave exactly as it was.
pub fn state(dir: &Path) -> (BTreeMap<String, Vec<String>>, BTreeMap<PathBuf, Vec<u8>>) {
    // Changes accepted before are published first (group publication):
    // nothing owed, and the tree and RRDP files no longer changing (the
    // owed manifests are committed before the tree is written).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = None;
    loop {
        wait_published(dir);
        let now = state_now(dir);
        if last.as_ref() == Some(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the published state never settled"
        );
        last = Some(now);
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// The store's rows and the published files.
pub type State = (BTreeMap<String, Vec<String>>, BTreeMap<PathBuf, Vec<u8>>);

/// The PostgreSQL store of a data directory, if it has one.
fn postgres_of(dir: &Path) -> Option<postgres::Client> {
    let url = std::fs::read_to_string(dir.join("database.url")).ok()?;
    Some(postgres::Client::connect(url.trim(), postgres::NoTls).unwrap())
}

/// The condition that leaves out of table `name` what serve records of
/// what it observed (its last self-validation), not what was changed.
fn observed(name: &str) -> &'static str {
    if name == "meta" {
        " WHERE key <> 'self_validation'"
    } else {
        ""
    }
}

/// [`state`] as it is now, without waiting for publication to settle.
pub fn state_now(dir: &Path) -> State {
    let mut tables = BTreeMap::new();
    if let Some(mut db) = postgres_of(dir) {
        let names: Vec<String> = db
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for name in names {
            let mut rows: Vec<String> = db
                .query(
                    &format!("SELECT t::text FROM {name} t{}", observed(&name)),
                    &[],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            rows.sort();
            tables.insert(name, rows);
        }
        return (tables, super::published(dir));
    }
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("anchorage.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for name in names {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {name}{}", observed(&name)))
            .unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows.sort();
        tables.insert(name, rows);
    }
    (tables, super::published(dir))
}

/// What [`wait_published`] compares: points owed, the newest change, the
/// changes the tree and RRDP show, and the RRDP serial.
type Progress = (i64, i64, Option<String>, Option<String>, Option<String>);

/// A data directory's store, opened once for polling.
enum Store {
    Lite(rusqlite::Connection),
    Pg(Box<postgres::Client>),
}

impl Store {
    fn open(dir: &Path) -> Store {
        match postgres_of(dir) {
            Some(client) => Store::Pg(Box::new(client)),
            None => Store::Lite(
                rusqlite::Connection::open_with_flags(
                    dir.join("anchorage.db"),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )
                .unwrap(),
            ),
        }
    }

    /// Reads [`Progress`].
    fn progress(&mut self) -> Progress {
        const META: &str = "(SELECT value FROM meta WHERE key = 'rsync_seq'),
                            (SELECT value FROM meta WHERE key = 'rrdp_seq'),
                            (SELECT value FROM meta WHERE key = 'rrdp_serial')";
        match self {
            Store::Pg(db) => {
                let r = db
                    .query_one(
                        &format!(
                            "SELECT (SELECT COUNT(*) FROM pending_points),
                                    (SELECT coalesce(max(seq), 0) FROM publication_changes),
                                    {META}"
                        ),
                        &[],
                    )
                    .unwrap();
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
            }
            Store::Lite(conn) => conn
                .query_row(
                    &format!(
                        "SELECT (SELECT COUNT(*) FROM pending_points),
                                (SELECT coalesce(max(seq), 0) FROM sqlite_sequence
                                 WHERE name = 'publication_changes'), {META}"
                    ),
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .unwrap(),
        }
    }
}

/// Waits until serve has published every change committed through the API:
/// nothing owed in the store, and the rsync tree and the RRDP serial (which
/// serve writes apart) show the newest change, the serial announced.
pub fn wait_published(dir: &Path) {
    let mut store = Store::open(dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (owed, seq, tree, rrdp, serial) = store.progress();
        let seq = Some(seq.to_string());
        let announced = serial.is_some_and(|serial| {
            std::fs::read_to_string(dir.join("rrdp/notification.xml"))
                .is_ok_and(|n| n.contains(&format!(" serial=\"{serial}\"")))
        });
        if owed == 0 && tree == seq && rrdp == seq && announced {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never published: {owed} points owed, change {seq:?}, tree at {tree:?}, RRDP at {rrdp:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Two instances as an RIR and an NIR run them (RFC 8183 set up both
/// ways): the RIR (its CA `member` with a ROA for AS64500 192.0.2.0/24)
/// serving, and the NIR whose CA `nir` is the RIR online CA's child with
/// `resources` over RFC 6492 and publishes at the RIR's RFC 8181 server.
/// The exchanged files stay in `tmp` (`repository.xml` among them).
pub fn rir_and_nir(tmp: &Path, resources: &str) -> (Cli, Serve, Cli) {
    let rir = Cli::init(&tmp.join("rir"));
    rir.ca_create("member", None, "AS64500, 192.0.2.0/24");
    rir.roa_add("member", 64500, "192.0.2.0/24");
    let rir_serve = serve(&rir, "");
    // The NIR publishes under the base the RIR's repository assigns it.
    let nir = Cli::init_at(
        &tmp.join("nir"),
        "rsync://127.0.0.1/repo/nir/",
        "https://127.0.0.1/rrdp/",
        &[],
    );
    let file = |name: &str| tmp.join(name).to_str().unwrap().to_string();
    nir.ok(&["parent", "request", "nir", "--output", &file("child.xml")]);
    rir.ok(&[
        "child",
        "add",
        "online",
        "--request",
        &file("child.xml"),
        "--resources",
        resources,
        "--service-uri",
        &rir_serve.http,
        "--response",
        &file("parent.xml"),
    ]);
    nir.ok(&[
        "repository",
        "request",
        "nir",
        "--output",
        &file("publisher.xml"),
    ]);
    rir.ok(&[
        "publisher",
        "add",
        "--request",
        &file("publisher.xml"),
        "--service-uri",
        &rir_serve.http,
        "--response",
        &file("repository.xml"),
    ]);
    nir.ok(&["repository", "add", "--response", &file("repository.xml")]);
    let out = nir.ok(&["parent", "add", "nir", "--response", &file("parent.xml")]);
    assert!(out.contains("certified nir"), "{out}");
    (rir, rir_serve, nir)
}
