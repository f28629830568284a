//! End to end for `anchorage serve`: RRDP over HTTPS (a test CA installed
//! in the system trust store), rsync from the supervised rsyncd, both read
//! by rpki-client and FORT; a ROA change arrives as an RRDP delta; a
//! restart keeps the session and continues the serial.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchorage_testkit::{self as oracle, RsyncDaemon};
use common::tls::TestTls;
use common::{Cli, anchorage_validate_with, assert_accepted, require, vrps};

fn free_port() -> u16 {
    oracle::free_port().unwrap()
}

struct Serve {
    child: Child,
}

impl Serve {
    fn start(cli: &Cli, http: u16, rsync: u16, tls: &TestTls) -> Serve {
        let mut child = Command::new(common::bin())
            .arg("--data-dir")
            .arg(&cli.dir)
            .args(["serve", "--http-listen", &format!("127.0.0.1:{http}")])
            .args(["--rsync-listen", &format!("127.0.0.1:{rsync}")])
            .arg("--tls-cert")
            .arg(&tls.cert)
            .arg("--tls-key")
            .arg(&tls.key)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", http)).is_ok()
                && TcpStream::connect(("127.0.0.1", rsync)).is_ok()
            {
                return Serve { child };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve did not start listening");
    }

    /// SIGTERM, and the exit status and log.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut log = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut log)
                    .unwrap();
                return (status, log);
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // SIGTERM first, so serve stops its rsyncd; SIGKILL if it hangs.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notification(cli: &Cli) -> (String, u64) {
    let text = std::fs::read_to_string(cli.dir.join("rrdp/notification.xml")).unwrap();
    let attr = |name: &str| {
        let start = text.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        text[start..start + text[start..].find('"').unwrap()].to_string()
    };
    (attr("session_id"), attr("serial").parse().unwrap())
}

/// Waits (up to 10 s) until the notification file announces `want`: a
/// CLI command beside `serve` writes the tree, and serve's RRDP task the
/// serial.
fn serial_from_serve(cli: &Cli, want: (String, u64)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while notification(cli) != want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(notification(cli), want);
}

/// Waits (up to 20 s) until serve's RRDP task has announced a serial
/// that holds every change committed so far (the store's change journal
/// head), after `after`; returns it.
fn settled_serial(cli: &Cli, after: u64) -> (String, u64) {
    let db = rusqlite::Connection::open_with_flags(
        cli.dir.join("anchorage.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let head: i64 = db
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'publication_changes'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let meta = |key: &str| -> Option<i64> {
        db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
            r.get::<_, String>(0)
        })
        .ok()
        .and_then(|v| v.parse().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let announced = notification(cli);
        if meta("rrdp_seq") >= Some(head)
            && meta("rrdp_serial") == Some(announced.1 as i64)
            && announced.1 > after
        {
            return announced;
        }
        assert!(
            Instant::now() < deadline,
            "no serial with change {head} after {after}: {announced:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rrdp_and_rsync_served_validated_deltas_and_restart() {
    for tool in [
        "rpki-client",
        "fort",
        "rsync",
        "update-ca-certificates",
        "curl",
    ] {
        require(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let tls = TestTls::install(&tmp.path().join("tls"), &std::process::id().to_string());
    let (http, rsync) = (free_port(), free_port());
    let cli = Cli::init_with(
        &tmp.path().join("data"),
        &format!("https://127.0.0.1:{http}/rrdp/"),
        &[],
    );
    let tal = std::fs::read_to_string(cli.tal()).unwrap();
    assert!(
        tal.starts_with(&format!(
            "https://127.0.0.1:{http}/rrdp/ta.cer\nrsync://127.0.0.1/repo/ta.cer\n\n"
        )),
        "{tal}"
    );
    cli.ca_create("nir", None, "AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32");
    cli.ca_create("lir", Some("nir"), "AS64500, 192.0.2.0/25, 2001:db8:1::/48");
    cli.roa_add("lir", 64500, "192.0.2.0/25");
    cli.roa_add("nir", 64496, "2001:db8::/32");
    let mut expected = vrps(&[(64500, "192.0.2.0/25", 25), (64496, "2001:db8::/32", 32)]);

    let serve = Serve::start(&cli, http, rsync, &tls);
    let work = tmp.path().join("work");

    // RRDP: the first run of rpki-client downloads the snapshot.
    let run = oracle::rpki_client_rrdp(&cli.tal(), &work.join("rpki-client")).unwrap();
    assert_accepted("rpki-client (RRDP)", &run, &expected);
    assert!(run.log.contains("downloading snapshot"), "{}", run.log);
    let run = oracle::fort_rrdp(&cli.tal(), &work.join("fort")).unwrap();
    assert_accepted("FORT (RRDP)", &run, &expected);
    // The bundled validator over RRDP: the TA over HTTPS, one snapshot, no
    // rsync (the plain `rsync` it would fall back to has no port to reach).
    let ours = |cache: &str| anchorage_validate_with(&cli, &work.join(cache), &[]);
    let (run, meta) = ours("anchorage");
    assert_accepted("anchorage validate (RRDP)", &run, &expected);
    assert_eq!(meta["fetch"]["rrdp"]["snapshots"], 1, "{meta}");
    assert_eq!(meta["fetch"]["rsync_modules"], 0, "{meta}");
    let (_, meta) = ours("anchorage");
    assert_eq!(meta["fetch"]["rrdp"]["unchanged"], 1, "{meta}");

    // rsync from the supervised daemon shows the same content.
    let wrapper = RsyncDaemon::wrapper_for_port(&work.join("rsync-wrapper"), rsync).unwrap();
    let run = oracle::rpki_client(&cli.tal(), &wrapper, &work.join("rpki-client-rsync")).unwrap();
    assert_accepted("rpki-client (rsync)", &run, &expected);

    // A ROA change reaches rpki-client as a delta, not a new snapshot.
    let (session, serial) = notification(&cli);
    cli.roa_add("lir", 64500, "2001:db8:1::/48");
    expected.extend(vrps(&[(64500, "2001:db8:1::/48", 48)]));
    serial_from_serve(&cli, (session.clone(), serial + 1));
    let run = oracle::rpki_client_rrdp(&cli.tal(), &work.join("rpki-client")).unwrap();
    assert_accepted("rpki-client (RRDP delta)", &run, &expected);
    assert!(run.log.contains("downloading 1 deltas"), "{}", run.log);
    assert!(!run.log.contains("downloading snapshot"), "{}", run.log);
    let (run, meta) = ours("anchorage");
    assert_accepted("anchorage validate (RRDP delta)", &run, &expected);
    assert_eq!(meta["fetch"]["rrdp"]["deltas"], 1, "{meta}");
    assert_eq!(meta["fetch"]["rrdp"]["snapshots"], 0, "{meta}");

    // ROA commands beside serve go through its control socket (serve
    // signs with its pre-generated EE keys); the socket is the owner's
    // alone.
    let socket = cli.dir.join("run/control.sock");
    {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let meta = std::fs::metadata(&socket).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let via = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).to_string();
    // `anchorage [PRE...] roa VERB CA --asn ASN --prefix PREFIX`.
    let roa = |pre: &[&str], verb: &str, ca: &str, asn: &str, prefix: &str| {
        let mut args: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
        args.extend(["roa", verb, ca, "--asn", asn, "--prefix", prefix].map(String::from));
        cli.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = roa(&["--log", "debug"], "add", "lir", "64500", "192.0.2.0/26");
    assert!(out.status.success(), "{}", via(&out));
    assert!(
        via(&out).contains("ROA batch applied by serve"),
        "{}",
        via(&out)
    );
    assert!(
        !via(&out).contains("ROA changes published"),
        "{}",
        via(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("added AS64500 192.0.2.0/26"));
    expected.extend(vrps(&[(64500, "192.0.2.0/26", 26)]));
    // Refused through the socket as locally, with the same message, a
    // non-zero exit and nothing changed.
    let roas = cli.ok(&["roa", "list", "lir"]);
    for (verb, ca, asn, prefix, says) in [
        (
            "add",
            "nosuch",
            "64500",
            "192.0.2.0/26",
            "unknown CA 'nosuch'",
        ),
        ("add", "lir", "64500", "198.51.100.0/24", "198.51.100.0/24"),
        ("remove", "lir", "64501", "192.0.2.0/26", "has no ROA for"),
    ] {
        let out = roa(&[], verb, ca, asn, prefix);
        assert!(!out.status.success(), "roa {verb} {ca} {prefix} succeeded");
        assert!(via(&out).contains(says), "{}", via(&out));
    }
    assert_eq!(cli.ok(&["roa", "list", "lir"]), roas);
    // A command on a clock of its own (--now) runs on its own.
    let now = chrono::Utc::now().to_rfc3339();
    let out = roa(
        &["--log", "debug", "--now", &now],
        "remove",
        "lir",
        "64500",
        "192.0.2.0/26",
    );
    assert!(out.status.success(), "{}", via(&out));
    assert!(via(&out).contains("ROA changes published"), "{}", via(&out));
    assert!(!via(&out).contains("applied by serve"), "{}", via(&out));
    let out = roa(&[], "add", "lir", "64500", "192.0.2.0/26");
    assert!(out.status.success(), "{}", via(&out));
    let (session, serial) = settled_serial(&cli, serial + 1);
    let run = oracle::rpki_client_rrdp(&cli.tal(), &work.join("rpki-client")).unwrap();
    assert_accepted(
        "rpki-client (changes through the control socket)",
        &run,
        &expected,
    );
    let run = oracle::fort_rrdp(&cli.tal(), &work.join("fort")).unwrap();
    assert_accepted("FORT (changes through the control socket)", &run, &expected);
    let (run, _) = ours("anchorage");
    assert_accepted(
        "anchorage validate (changes through the control socket)",
        &run,
        &expected,
    );

    // Health and metrics, over the same HTTPS server; metrics need a token.
    let reader = cli.ok(&["token", "create", "--role", "read-only"]);
    let auth = format!("Authorization: Bearer {}", reader.trim());
    let status = |path: &str, header: &str| {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", header])
            .arg(format!("https://127.0.0.1:{http}{path}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(status("/metrics", "X-None: 1"), "401");
    assert_eq!(
        status("/metrics", "Authorization: Bearer anc_0123456789abcdef_x"),
        "401"
    );
    let get = |path: &str| {
        let out = Command::new("curl")
            .args([
                "-sf",
                "-H",
                &auth,
                &format!("https://127.0.0.1:{http}{path}"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "GET {path}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(status("/health", "X-None: 1"), "200");
    assert_eq!(get("/health"), "{\"status\":\"ok\"}");
    let metrics = get("/metrics");
    for line in [
        "anchorage_rsyncd_up 1",
        "anchorage_overdue 0",
        "anchorage_objects{type=\"roa\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }

    // rsyncd is supervised: killed, it comes back on the same port.
    let config = cli.dir.join("run/rsyncd.conf");
    let pgrep = |pattern: &str| {
        let out = Command::new("pgrep")
            .args(["-f", "--", pattern])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let pattern = format!("--config={}", config.display());
    let pids = pgrep(&pattern);
    assert_eq!(pids.len(), 1, "one rsync daemon for {pattern}: {pids:?}");
    Command::new("kill")
        .args(["-KILL", &pids[0]])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = pgrep(&pattern);
        if now.len() == 1 && now[0] != pids[0] && TcpStream::connect(("127.0.0.1", rsync)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "rsyncd was not restarted");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(get("/metrics").contains("anchorage_rsyncd_restarts 1"));
    let run = oracle::rpki_client(&cli.tal(), &wrapper, &work.join("rpki-client-rsync")).unwrap();
    assert_accepted("rpki-client (rsync after rsyncd restart)", &run, &expected);

    // SIGTERM: clean exit 0. Restart: same session, serial continues.
    let (status, log) = serve.stop();
    assert!(status.success(), "serve exited with {status}: {log}");
    assert_eq!(notification(&cli), (session.clone(), serial));
    let serve = Serve::start(&cli, http, rsync, &tls);
    assert_eq!(
        notification(&cli),
        (session.clone(), serial),
        "no new serial without a change"
    );
    cli.roa_add("lir", 64500, "192.0.2.0/27");
    expected.extend(vrps(&[(64500, "192.0.2.0/27", 27)]));
    serial_from_serve(&cli, (session, serial + 1));
    let run = oracle::rpki_client_rrdp(&cli.tal(), &work.join("rpki-client")).unwrap();
    assert_accepted("rpki-client (after restart)", &run, &expected);
    assert!(run.log.contains("downloading 1 deltas"), "{}", run.log);
    let run = oracle::fort_rrdp(&cli.tal(), &work.join("fort")).unwrap();
    assert_accepted("FORT (after restart)", &run, &expected);
    let (run, meta) = ours("anchorage");
    assert_accepted("anchorage validate (after restart)", &run, &expected);
    assert_eq!(meta["fetch"]["rrdp"]["deltas"], 1, "{meta}");
    let (status, _) = serve.stop();
    assert!(status.success());
}
