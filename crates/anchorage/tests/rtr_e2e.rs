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

use anchorage::oracle::{self, RsyncDaemon, Vrp};
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
    for tool in ["rtrclient", "rpki-client", "rsync", "stdbuf"] {
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
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", rtr)).is_err() {
        assert!(Instant::now() < deadline, "RTR port never opened");
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
    let wait_for = |router: &mut BTreeSet<Vrp>, want: &BTreeSet<Vrp>, log: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while router != want {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "router has {router:?}, want {want:?}\n{}",
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
    wait_for(&mut router, &expected, &mut log);

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
    let text = log.join("\n");
    assert_eq!(text.matches("Sending reset query").count(), 1, "{text}");
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

    let _ = client.kill();
    let _ = client.wait();
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    let status = serve.wait().unwrap();
    assert!(status.success(), "serve exited with {status}");
}
