//! From TAL to router: `serve --rtr-listen` validates its own repository
//! with the bundled validator (fetching from its rsyncd) and serves the
//! VRPs over RTR. rtrclient (RTRlib) receives exactly the VRPs rpki-client
//! derives; after a ROA change a connected rtrclient gets a serial notify
//! and the new VRP as a delta over a serial query, not a reset.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anchorage_testkit::{self as oracle, RsyncDaemon, Vrp};
use common::{Cli, assert_accepted, require, vrps};

fn free_port() -> u16 {
    oracle::free_port().unwrap()
}

/// Parses rtrclient's "+ 192.0.2.0   24 -  25   64496" lines.
fn parse_line(line: &str) -> Option<(char, Vrp)> {
    let mut f = line.split_whitespace();
    let op = f.next()?.chars().next()?;
    if op != '+' && op != '-' {
        return None;
    }
    let addr = f.next()?;
    let len: u8 = f.next()?.parse().ok()?;
    f.next()?; // "-"
    let max: u8 = f.next()?.parse().ok()?;
    let asn: u32 = f.next()?.parse().ok()?;
    Some((op, Vrp::new(asn, &format!("{addr}/{len}"), max)))
}

#[test]
fn router_receives_the_validated_vrps_and_deltas() {
    router_session(1);
}

/// A cache limited to RFC 6810: RTRlib, which asks for a newer version
/// first, is told version 0 and gets the same VRPs and deltas in it.
#[test]
fn router_receives_the_same_over_rtr_version_0() {
    router_session(0);
}

/// The VRPs of `/json` on serve's HTTP port, read with `token`.
fn json_vrps(http: u16, token: &str) -> BTreeSet<Vrp> {
    let out = Command::new("curl")
        .args(["-sf", "-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("http://127.0.0.1:{http}/json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "GET /json");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::json_vrps(&doc)
}

fn router_session(max_version: u8) {
    for tool in ["rtrclient", "rpki-client", "rsync", "stdbuf", "curl"] {
        require(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let (http, rsync, rtr) = (free_port(), free_port(), free_port());
    let cli = Cli::init_with(
        &tmp.path().join("data"),
        &format!("https://127.0.0.1:{http}/rrdp/"),
        &[],
    );
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24, 2001:db8::/32");
    cli.ok(&[
        "roa",
        "add",
        "lir",
        "--asn",
        "64496",
        "--prefix",
        "192.0.2.0/24",
        "--max-length",
        "25",
    ]);
    cli.roa_add("lir", 64496, "2001:db8::/32");
    let mut expected = vrps(&[(64496, "192.0.2.0/24", 25), (64496, "2001:db8::/32", 32)]);

    let mut serve = Command::new(common::bin())
        .arg("--data-dir")
        .arg(&cli.dir)
        .args(["serve", "--http-listen", &format!("127.0.0.1:{http}")])
        .args(["--rsync-listen", &format!("127.0.0.1:{rsync}")])
        .args(["--rtr-listen", &format!("127.0.0.1:{rtr}")])
        .args(["--rtr-max-version", &max_version.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", rtr)).is_err() {
        assert!(Instant::now() < deadline, "RTR port never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
    // And its rsyncd greets: rpki-client connects once, and a port
    // nobody listens on yet can connect a client to itself on loopback,
    // which then waits out rsync's 30 s timeout.
    while !oracle::rsyncd_greets(rsync) {
        assert!(Instant::now() < deadline, "rsyncd never greeted on {rsync}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // rpki-client's view of the same repository, over the same rsyncd.
    let wrapper = RsyncDaemon::wrapper_for_port(&tmp.path().join("wrapper"), rsync).unwrap();
    let run = oracle::rpki_client(&cli.tal(), &wrapper, &tmp.path().join("rpki-client")).unwrap();
    assert_accepted("rpki-client", &run, &expected);

    // A router connects and stays connected.
    let mut client = Command::new("stdbuf")
        .args([
            "-oL",
            "rtrclient",
            "tcp",
            "-p",
            "127.0.0.1",
            &rtr.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let out = client.stdout.take().unwrap();
    let err = client.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| {
                let _ = tx.send(l);
            })
    });
    std::thread::spawn(move || {
        BufReader::new(err)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| {
                let _ = tx2.send(l);
            })
    });
    let mut router: BTreeSet<Vrp> = BTreeSet::new();
    let mut log = Vec::new();
    // rtrclient's VRPs come on stdout, its log on stderr: read both until
    // `done` holds of the router's set and the log.
    let wait_until = |router: &mut BTreeSet<Vrp>,
                      log: &mut Vec<String>,
                      what: &str,
                      done: &dyn Fn(&BTreeSet<Vrp>, &str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(router, &log.join("\n")) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "waiting for {what}; router has {router:?}\n{}",
                log.join("\n")
            );
            if let Ok(line) = rx.recv_timeout(left.min(Duration::from_millis(200))) {
                if let Some((op, vrp)) = parse_line(&line) {
                    if op == '+' {
                        router.insert(vrp);
                    } else {
                        router.remove(&vrp);
                    }
                }
                log.push(line);
            }
        }
    };
    let wait_for = |router: &mut BTreeSet<Vrp>, want: &BTreeSet<Vrp>, log: &mut Vec<String>| {
        wait_until(router, log, "the expected VRPs", &|r, _| r == want);
    };
    wait_for(&mut router, &expected, &mut log);
    let reader = cli.ok(&["token", "create", "--role", "read-only"]);
    let reader = reader.trim();
    assert_eq!(
        json_vrps(http, reader),
        router,
        "/json shows what the router got"
    );
    // RTRlib asks for version 1; a version 0 cache tells it so, and it
    // reconnects with a second reset query in version 0.
    let resets = if max_version == 0 { 2 } else { 1 };
    wait_until(&mut router, &mut log, "the reset queries", &|_, l| {
        l.matches("Sending reset query").count() >= resets
    });
    let before = log.join("\n");
    assert_eq!(
        before.contains("Downgrading from 1 to version 0"),
        max_version == 0,
        "{before}"
    );

    // A ROA change reaches the router as a delta (serial query), no reset.
    cli.ok(&[
        "roa",
        "add",
        "lir",
        "--asn",
        "64496",
        "--prefix",
        "192.0.2.128/25",
    ]);
    expected.extend(vrps(&[(64496, "192.0.2.128/25", 25)]));
    let changed = Instant::now();
    wait_for(&mut router, &expected, &mut log);
    eprintln!("ROA change to router: {:?}", changed.elapsed());
    wait_until(&mut router, &mut log, "a serial query", &|_, l| {
        l.contains("Serial Notify received") && l.contains("sending serial query")
    });
    let text = log.join("\n");
    assert_eq!(
        text.matches("Sending reset query").count(),
        resets,
        "no reset after the change: {text}"
    );
    assert!(text.contains("Serial Notify received"), "{text}");
    assert!(text.contains("sending serial query"), "{text}");

    // And a removal as a withdrawal.
    cli.ok(&[
        "roa",
        "remove",
        "lir",
        "--asn",
        "64496",
        "--prefix",
        "2001:db8::/32",
    ]);
    expected.retain(|v| v.prefix != "2001:db8::/32");
    wait_for(&mut router, &expected, &mut log);
    assert_eq!(json_vrps(http, reader), router);

    let _ = client.kill();
    let _ = client.wait();
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let status = serve.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
}
