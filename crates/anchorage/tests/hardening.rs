//! Listeners under attack: connection floods, half-sent requests, slow
//! bodies and file descriptors running out. `serve` runs under `prlimit`
//! with a low file descriptor limit instead of opening thousands of
//! sockets; every check is against the real process.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::api::{Client, Launch, Serve, serve_with, token, wait_published};
use common::{Cli, require};
use serde_json::json;

/// `n` connections to `port`; each sends `first` (if any) and stays open.
fn flood(port: u16, n: usize, first: &[u8]) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            if !first.is_empty() {
                let _ = s.write_all(first);
            }
            Some(s)
        })
        .collect()
}

/// How many of `conns` the server has closed (EOF or reset) by `deadline`.
fn closed_by(conns: &mut [TcpStream], deadline: Instant) -> usize {
    let mut closed = vec![false; conns.len()];
    loop {
        for (i, c) in conns.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            c.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            let mut buf = [0u8; 512];
            match c.read(&mut buf) {
                Ok(0) => closed[i] = true,
                Ok(_) => {} // an answer (e.g. 408); EOF follows
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => closed[i] = true,
            }
        }
        let n = closed.iter().filter(|c| **c).count();
        if n == conns.len() || Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One metric series of `/metrics` (served without a token here).
fn metric(http: &str, name: &str, listener: &str) -> u64 {
    let text = ureq::get(&format!("{http}/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    let series = format!("{name}{{listener=\"{listener}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .parse()
        .unwrap()
}

/// An RTR version 1 reset query from `source`: the number of prefixes
/// the cache sends before End of Data.
fn rtr_prefixes(port: u16, source: &str) -> std::io::Result<usize> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(format!("{source}:0").parse().unwrap())?;
        let mut s = socket
            .connect(format!("127.0.0.1:{port}").parse().unwrap())
            .await?;
        s.write_all(&[1, 2, 0, 0, 0, 0, 0, 8]).await?;
        let mut prefixes = 0;
        let read = async {
            loop {
                let mut head = [0u8; 8];
                s.read_exact(&mut head).await?;
                let len = u32::from_be_bytes(head[4..8].try_into().unwrap()) as usize;
                let mut rest = vec![0u8; len.saturating_sub(8)];
                s.read_exact(&mut rest).await?;
                match head[1] {
                    4 | 6 => prefixes += 1,
                    7 => return Ok::<_, std::io::Error>(prefixes),
                    10 => return Err(std::io::Error::other("RTR error report")),
                    _ => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(|_| std::io::Error::other("no End of Data within 10 s"))?
    })
}

/// Waits until the RTR cache answers (after serve's first validation).
fn wait_rtr(s: &Serve) -> usize {
    let port = s.rtr.unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match rtr_prefixes(port, "127.0.0.1") {
            Ok(n) if n > 0 => return n,
            _ => assert!(Instant::now() < deadline, "the RTR cache never answered"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `curl` from another source address: a client that is not the attacker.
fn fetch_from(source: &str, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "--interface", source])
        .args(["-w", "\n%{http_code}", url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

fn setup(tmp: &std::path::Path) -> Cli {
    for tool in ["prlimit", "rsync", "curl"] {
        require(tool);
    }
    let cli = Cli::init(&tmp.join("data"));
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24, 198.51.100.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/24");
    cli
}

/// One address floods the public port with half-sent requests and the RTR
/// port with idle connections: it gets its per-address share and no more,
/// the half-sent requests are cut at the header timeout, other clients
/// are served meanwhile, and publication (with its file descriptor
/// reserve) goes on.
#[test]
fn a_flood_from_one_address_is_capped_and_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let s = serve_with(
        &cli,
        "metrics_public = true\nfd_reserve = 64\nheader_timeout_seconds = 2\n\
         connection_cap_exempt = []\nmax_connections_per_address = 40\n",
        Launch {
            wrapper: &["prlimit", "--nofile=256:256", "--"],
            rtr: true,
            ..Launch::default()
        },
    );
    let rtr = s.rtr.unwrap();
    let http = port_of(&s.http);
    assert_eq!(wait_rtr(&s), 1);

    let mut half_sent = flood(
        http,
        200,
        b"GET /rrdp/notification.xml HTTP/1.1\r\nHost: x\r\n",
    );
    let mut idle_rtr = flood(rtr, 200, b"");
    // Beyond its share, the attacker's connections are closed at once.
    let closed = closed_by(&mut idle_rtr, Instant::now() + Duration::from_secs(5));
    assert!(
        closed >= 160,
        "only {closed} of 200 RTR connections refused"
    );

    // Another address is served meanwhile: RRDP, RTR, and the API
    // changes ROAs that get published.
    let (status, body) = fetch_from(
        "127.0.0.2",
        &format!("http://127.0.0.1:{http}/rrdp/notification.xml"),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<notification"));
    assert_eq!(rtr_prefixes(rtr, "127.0.0.2").unwrap(), 1);
    let api = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let reply = api.json(
        "POST",
        "/api/v1/cas/lir/roas",
        &admin,
        json!({"add": [{"asn": 64496, "prefix": "198.51.100.0/24"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    wait_published(&cli.dir);
    assert!(cli.tree().join("lir/AS64496.roa").exists());

    // The half-sent requests are cut at the header timeout (2 s).
    let cut = closed_by(&mut half_sent, Instant::now() + Duration::from_secs(15));
    assert_eq!(cut, half_sent.len(), "half-sent requests left open");

    // The new VRP reaches routers while the idle RTR flood is still held.
    let deadline = Instant::now() + Duration::from_secs(60);
    while rtr_prefixes(rtr, "127.0.0.2").unwrap_or(0) != 2 {
        assert!(Instant::now() < deadline, "the new VRP never reached RTR");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle_rtr);
    drop(half_sent);
    assert!(metric(&s.http, "anchorage_connections_refused_total", "http") >= 160);
    assert!(metric(&s.http, "anchorage_connections_refused_total", "rtr") >= 160);
    // The reserve kept publication and every listener clear of EMFILE.
    for listener in ["http", "api", "rtr"] {
        assert_eq!(
            metric(&s.http, "anchorage_accept_errors_total", listener),
            0,
            "{listener}"
        );
    }
}

/// With no reserve and a tiny limit, file descriptors run out: accept
/// fails with EMFILE. The listeners log, count, back off and retry; once
/// the flood is gone, every one of them answers again.
#[test]
fn listeners_outlive_running_out_of_file_descriptors() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let s = serve_with(
        &cli,
        "metrics_public = true\nfd_reserve = 0\nheader_timeout_seconds = 30\n",
        Launch {
            wrapper: &["prlimit", "--nofile=96:96", "--"],
            rtr: true,
            ..Launch::default()
        },
    );
    let rtr = s.rtr.unwrap();
    let http = port_of(&s.http);
    assert_eq!(wait_rtr(&s), 1);
    // Each listener's cap alone fits, together with serve's own files
    // they do not: the last accepts fail.
    let mut held = flood(rtr, 80, b"");
    held.extend(flood(http, 80, b"GET / HTTP/1.1\r\n"));
    std::thread::sleep(Duration::from_secs(2));
    for c in &held {
        let _ = c.shutdown(Shutdown::Both);
    }
    drop(held);

    // Everything answers again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = fetch_from(
            "127.0.0.1",
            &format!("http://127.0.0.1:{http}/rrdp/notification.xml"),
        );
        if status == 200
            && rtr_prefixes(rtr, "127.0.0.1")
                .map(|n| n == 1)
                .unwrap_or(false)
        {
            break;
        }
        assert!(Instant::now() < deadline, "a listener did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
    let errors = metric(&s.http, "anchorage_accept_errors_total", "http")
        + metric(&s.http, "anchorage_accept_errors_total", "rtr");
    assert!(
        errors > 0,
        "no accept ever failed: the test did not exhaust the limit"
    );
    let api = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    assert_eq!(api.get("/api/v1/cas", &admin).status, 200);
}

/// One raw HTTP/1.1 exchange: the status and the whole answer (the server
/// closes the connection or `timeout` passes).
fn raw(port: u16, request: &[u8], timeout: Duration) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Slow senders time out with 408 and hold no protocol slot; oversized
/// bodies, headers and URIs get 413, 431 and 414; nothing of it changes
/// the store or the published files.
#[test]
fn slow_and_oversized_requests_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let s = serve_with(
        &cli,
        "metrics_public = true\nbody_timeout_seconds = 2\n",
        Launch::default(),
    );
    let http = port_of(&s.http);
    wait_published(&cli.dir);
    let before = common::api::state(&cli.dir);

    // Four peers send the headers of a message and a trickle of its body.
    let mut slow: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", http)).unwrap();
            c.write_all(
                b"POST /rfc8181/lirx HTTP/1.1\r\nHost: x\r\n\
                  Content-Type: application/rpki-publication\r\nContent-Length: 1000\r\n\r\n0123456789",
            )
            .unwrap();
            c
        })
        .collect();
    // A fifth, whose message is whole, is handled at once: no slot is
    // taken by the slow ones (its message is no CMS: 400, not 503).
    let junk = b"not cms";
    let (status, text) = raw(
        http,
        &[
            format!(
                "POST /rfc8181/lirx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                 Content-Type: application/rpki-publication\r\nContent-Length: {}\r\n\r\n",
                junk.len()
            )
            .as_bytes(),
            junk,
        ]
        .concat(),
        Duration::from_secs(10),
    );
    assert!(status == 400 || status == 404, "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    // The slow ones get a 408 problem after the body timeout.
    for c in &mut slow {
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("application/problem+json"), "{text}");
    }

    // A body over the RFC 6492 limit (1 MiB): a 413 problem.
    let big = 2 * 1024 * 1024;
    let (status, text) = raw(
        http,
        &[
            format!(
                "POST /rfc6492/online/lirx HTTP/1.1\r\nHost: x\r\n\
                 Content-Type: application/rpki-updown\r\nContent-Length: {big}\r\n\r\n"
            )
            .into_bytes(),
            vec![b'x'; big],
        ]
        .concat(),
        Duration::from_secs(10),
    );
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    // A 100 KB header and a 70 KB URI.
    let header = format!(
        "GET /rrdp/notification.xml HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let (status, text) = raw(http, header.as_bytes(), Duration::from_secs(10));
    assert_eq!(status, 431, "{text}");
    let uri = format!(
        "GET /rrdp/{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let (status, text) = raw(http, uri.as_bytes(), Duration::from_secs(10));
    assert_eq!(status, 414, "{text}");

    assert!(
        before == common::api::state(&cli.dir),
        "a refused request changed something"
    );
}

/// An address that keeps presenting bad tokens is held back (429) before
/// any token is looked at; scoped tokens do not learn other tokens' ids
/// from the audit log.
#[test]
fn token_guessing_is_limited_per_address_and_ids_stay_hidden() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let admin = token(&cli, &["--role", "admin"]);
    let op = token(&cli, &["--role", "ca-operator", "--ca", "lir"]);
    let s = serve_with(&cli, "connection_cap_exempt = []\n", Launch::default());
    let api = Client::new(&cli, &s.api);

    // The operator's change, then the admin's, both on CA lir.
    let add = |tok: &str, prefix: &str| {
        api.json(
            "POST",
            "/api/v1/cas/lir/roas",
            tok,
            json!({"add": [{"asn": 64496, "prefix": prefix}]}),
        )
    };
    assert_eq!(add(&op, "198.51.100.0/24").status, 200);
    assert_eq!(add(&admin, "198.51.100.0/25").status, 200);
    let log = api.get("/api/v1/audit?ca=lir", &op);
    assert_eq!(log.status, 200);
    let actors: Vec<&str> = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .collect();
    let own = format!("token:{}", &op[4..20]);
    assert!(actors.contains(&own.as_str()), "{actors:?}");
    assert!(actors.contains(&"token:(hidden)"), "{actors:?}");
    assert!(!log.body.to_string().contains(&admin[4..20]));
    // The admin sees every id.
    let full = api.get("/api/v1/audit?ca=lir", &admin);
    assert!(full.body.to_string().contains(&admin[4..20]));

    // Guessing: a known id with wrong secrets, and unknown ids.
    let known = format!("{}_{}", &admin[..20], "x".repeat(43));
    let mut statuses = Vec::new();
    for i in 0..24 {
        let guess = if i % 2 == 0 {
            known.clone()
        } else {
            format!("anc_{:016x}_{}", i, "y".repeat(43))
        };
        statuses.push(api.get("/api/v1/cas", &guess).status);
    }
    assert!(statuses[..20].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    // Held back before the token is looked at: the valid one too, for now.
    let held = api.get("/api/v1/cas", &admin);
    assert_eq!(held.status, 429);
    assert!(held.headers.get("retry-after").is_some());
}

/// A TLS connection to the admin API whose handshake is complete and
/// which then sends nothing.
fn idle_tls(
    port: u16,
    cert_pem: &[u8],
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for item in ureq::tls::parse_pem(cert_pem) {
        if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
            roots
                .add(rustls::pki_types::CertificateDer::from(c.der().to_vec()))
                .unwrap();
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

/// Connections to the admin API that finish the TLS handshake and then
/// say nothing are closed at the header timeout; the API answers others
/// meanwhile.
#[test]
fn idle_tls_connections_to_the_api_are_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let s = serve_with(&cli, "header_timeout_seconds = 2\n", Launch::default());
    let pem = std::fs::read(cli.dir.join("tls/api.crt")).unwrap();
    let api_port = port_of(&s.api);
    let mut idle: Vec<_> = (0..30).map(|_| idle_tls(api_port, &pem)).collect();
    let api = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    assert_eq!(api.get("/api/v1/cas", &admin).status, 200);
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut open = idle.len();
    while open > 0 && Instant::now() < deadline {
        open = 0;
        for tls in &mut idle {
            tls.sock
                .set_read_timeout(Some(Duration::from_millis(10)))
                .unwrap();
            let mut buf = [0u8; 64];
            match tls.read(&mut buf) {
                Ok(0) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    open += 1
                }
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(open, 0, "{open} idle TLS connections still open after 15 s");
}

/// After a restart, serve's self-validation waits until its rsyncd
/// answers: no alarming errors about its own repository in the log.
#[test]
fn a_restart_validates_only_once_rsyncd_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    for round in 0..2 {
        let log = tmp.path().join(format!("serve{round}.log"));
        let s = serve_with(
            &cli,
            "",
            Launch {
                rtr: true,
                log: Some(&log),
                env: &[("RUST_LOG", "info")],
                ..Launch::default()
            },
        );
        assert_eq!(wait_rtr(&s), 1);
        drop(s); // SIGTERM, and wait
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("validated own repository"),
            "round {round}:\n{text}"
        );
        for alarm in [
            "own repository: object rejected",
            "validating own repository failed",
        ] {
            assert!(!text.contains(alarm), "round {round}: {alarm} in\n{text}");
        }
    }
}
