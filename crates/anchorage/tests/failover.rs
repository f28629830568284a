//! Two `serve` instances on one PostgreSQL database and one data
//! directory: one leads (signs and publishes), the other stands by,
//! serving reads and refusing writes with a 503 that names the leader.
//! Under a stream of ROA additions through the API, the leader is killed
//! (SIGKILL) at random points, three times, then paused while the server
//! ends its session: the standby takes over within
//! the target, every acknowledged change is kept and published, RRDP
//! serials and manifest numbers never go back, no manifest number is
//! ever published with two contents, and rpki-client, FORT and the
//! bundled validator accept the result.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchorage_testkit::postgres::PostgresServer;
use common::api::{Client, Serve, add_member_roa, serve, token, wait_published};
use common::{Cli, validate_everywhere};
use serde_json::json;

/// How long a standby may take to lead after the leader died.
const TAKEOVER_TARGET: Duration = Duration::from_secs(10);

/// The configuration of instance `name`.
fn config(name: &str) -> String {
    format!(
        "instance_name = \"{name}\"\nmetrics_public = true\n\
         api_rate_burst = 100000\napi_rate_per_second = 100000.0\n"
    )
}

/// The epoch instance `s` leads in (0: standing by), from its metrics;
/// `None` when it does not answer.
fn epoch(s: &Serve) -> Option<i64> {
    anchorage_tools::leader_epoch(&s.http)
}

/// Waits until one of `instances` leads; its index and epoch.
fn leader(instances: &[&Serve], within: Duration) -> (usize, i64) {
    let deadline = Instant::now() + within;
    loop {
        let epochs: Vec<_> = instances.iter().map(|s| epoch(s).unwrap_or(0)).collect();
        let leading: Vec<_> = (0..epochs.len()).filter(|i| epochs[*i] > 0).collect();
        assert!(leading.len() <= 1, "two leaders: {epochs:?}");
        if let [i] = leading[..] {
            return (i, epochs[i]);
        }
        assert!(Instant::now() < deadline, "no leader within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until three changes more than `before` are acknowledged, within
/// 20 s of `after`.
fn three_more(acknowledged: &Mutex<Vec<String>>, before: usize, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().unwrap().len() < before + 3 {
        assert!(
            Instant::now() < deadline,
            "no change acknowledged after {after}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A small random number generator: the kill points differ between runs
/// (the seed is printed, to repeat a run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The manifest number of each published manifest, by path, and the
/// content hash seen for each (path, number).
type Manifests = BTreeMap<(String, u64), [u8; 32]>;

/// Records the manifests of the current rsync tree; fails when a
/// manifest number was published before with other content.
fn record_manifests(tree: &Path, seen: &mut Manifests) {
    let mut stack = vec![tree.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue; // a tree replaced meanwhile
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "mft") {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let mft =
                rpki::repository::Manifest::decode(bytes::Bytes::copy_from_slice(&bytes), true)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let number: u64 = mft.content().manifest_number().to_string().parse().unwrap();
            let rel = path.strip_prefix(tree).unwrap().display().to_string();
            let hash = anchorage_store::sha256(&bytes);
            let known = seen.entry((rel.clone(), number)).or_insert(hash);
            assert_eq!(
                *known, hash,
                "{rel}: manifest number {number} published with two contents"
            );
        }
    }
}

#[test]
fn the_standby_takes_over_when_the_leader_is_killed_and_nothing_acknowledged_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();
    let cli = Cli::init_with(
        &tmp.path().join("data"),
        "https://127.0.0.1/rrdp/",
        &["--database", &url],
    );
    cli.ca_create("member", None, "AS64496, 10.0.0.0/8");
    let admin = token(&cli, &["--role", "admin"]);
    let mut instances = [serve(&cli, &config("a")), serve(&cli, &config("b"))];
    let (first, _) = leader(&[&instances[0], &instances[1]], TAKEOVER_TARGET);
    let standby = &instances[1 - first];

    // The standby answers reads, and refuses a change with a 503 problem
    // naming the leader; nothing is stored.
    let c = Client::new(&cli, &standby.api);
    let r = c.get("/api/v1/cas/member/roas", &admin);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c.json(
        "POST",
        "/api/v1/cas/member/roas",
        &admin,
        json!({"add": [{"asn": 64496, "prefix": "10.255.0.0/24"}]}),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["title"], "Not the leader", "{}", r.body);
    let listed = cli.json(&["roa", "list", "member"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    let leader_name = ["a", "b"][first];
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("({leader_name})")),
        "{}",
        r.body
    );

    // A stream of ROA additions, each sent to the instance that took the
    // last one, and to the other when refused or unanswered.
    let apis = Arc::new(Mutex::new([
        instances[0].api.clone(),
        instances[1].api.clone(),
    ]));
    let done = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stream = std::thread::spawn({
        let (cli, admin) = (
            Cli {
                dir: cli.dir.clone(),
            },
            admin.clone(),
        );
        let (apis, done, acknowledged) = (apis.clone(), done.clone(), acknowledged.clone());
        move || {
            let (mut at, mut i, mut refused) = (0usize, 0u32, 0u32);
            while !done.load(Ordering::SeqCst) {
                let prefix = format!("10.{}.{}.0/24", i / 256, i % 256);
                let api = apis.lock().unwrap()[at].clone();
                match add_member_roa(&Client::new(&cli, &api), &admin, &prefix) {
                    Ok(r) if r.status == 200 => {
                        acknowledged.lock().unwrap().push(prefix);
                        i += 1;
                    }
                    Ok(r) => {
                        // Never a 500: a standby's or an outage's 503.
                        assert_eq!(r.status, 503, "{}", r.body);
                        refused += 1;
                        at = 1 - at;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(_) => {
                        // Killed, or not started again yet. A change in
                        // flight may or may not be stored: it is not
                        // acknowledged, and the next prefix is new.
                        i += 1;
                        at = 1 - at;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
            refused
        }
    });

    // Numbers that must never go back, sampled meanwhile.
    let sampling = std::thread::spawn({
        let done = done.clone();
        let tree = cli.dir.join("rsync/current");
        let notification = cli.dir.join("rrdp/notification.xml");
        let psql = move |sql: &str| server_psql(&url, sql);
        move || {
            let mut numbers: BTreeMap<String, i64> = BTreeMap::new();
            let mut rrdp: Option<(String, u64)> = None;
            let mut manifests = Manifests::new();
            let mut samples = 0;
            while !done.load(Ordering::SeqCst) {
                if let Some(rows) = psql("SELECT handle, next_manifest_number FROM cas") {
                    for line in rows.lines() {
                        let (ca, n) = line.split_once('|').unwrap();
                        let n: i64 = n.parse().unwrap();
                        let before = numbers.insert(ca.to_string(), n).unwrap_or(0);
                        assert!(n >= before, "{ca}: manifest number {before} then {n}");
                    }
                }
                if let Ok(text) = std::fs::read_to_string(&notification) {
                    let attr = |name: &str| {
                        let start = text.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                        text[start..start + text[start..].find('"').unwrap()].to_string()
                    };
                    let now = (attr("session_id"), attr("serial").parse::<u64>().unwrap());
                    if let Some(before) = &rrdp {
                        assert_eq!(before.0, now.0, "the RRDP session changed");
                        assert!(now.1 >= before.1, "RRDP serial {} then {}", before.1, now.1);
                    }
                    rrdp = Some(now);
                }
                record_manifests(&tree, &mut manifests);
                samples += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            (samples, rrdp)
        }
    });

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("kill points from seed {seed}");
    let mut random = Lcg(seed);
    let mut takeovers = Vec::new();
    let mut leading = first;
    for round in 0..3 {
        std::thread::sleep(Duration::from_millis(1000 + random.below(2000)));
        let before = acknowledged.lock().unwrap().len();
        let killed = Instant::now();
        instances[leading].child.kill().unwrap();
        instances[leading].child.wait().unwrap();
        let other = 1 - leading;
        let (now, _) = leader(&[&instances[other]], TAKEOVER_TARGET);
        assert_eq!(now, 0);
        takeovers.push(killed.elapsed());
        // The killed instance comes back, and stands by.
        let name = ["a", "b"][leading];
        instances[leading] = serve(&cli, &config(name));
        apis.lock().unwrap()[leading] = instances[leading].api.clone();
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(epoch(&instances[leading]), Some(0), "round {round}");
        leading = other;
        // Changes go on being acknowledged under the new leader.
        three_more(&acknowledged, before, &format!("round {round}"));
    }
    // A leader paused (a stalled machine) whose session the server ends
    // meanwhile (as keepalives do): the standby takes over, and when the
    // old leader wakes up it publishes nothing more (its writes meet the
    // new epoch) and stands by.
    let before = acknowledged.lock().unwrap().len();
    let paused = instances[leading].child.id().to_string();
    let signal = |sig: &str| {
        assert!(
            std::process::Command::new("kill")
                .args([sig, &paused])
                .status()
                .unwrap()
                .success()
        );
    };
    signal("-STOP");
    // The trees the paused instance wrote (their names end in its pid).
    let trees_of_paused = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(cli.dir.join("rsync/trees"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(&format!("-{paused}")))
            .collect()
    };
    let before_pause = trees_of_paused();
    let name = ["a", "b"][leading];
    server
        .psql(
            "anchorage",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = 'anchorage-election {name}'"
            ),
        )
        .unwrap();
    let cut = Instant::now();
    let other = 1 - leading;
    leader(&[&instances[other]], TAKEOVER_TARGET);
    takeovers.push(cut.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    signal("-CONT");
    // Awake, it writes no tree: none of its trees is newer than the pause.
    let watch_until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < watch_until {
        let new: Vec<_> = trees_of_paused()
            .difference(&before_pause)
            .cloned()
            .collect();
        assert!(new.is_empty(), "the deposed leader wrote {new:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let deadline = Instant::now() + TAKEOVER_TARGET;
    while epoch(&instances[leading]) != Some(0) {
        assert!(Instant::now() < deadline, "the old leader never stood by");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (now, _) = leader(&[&instances[0], &instances[1]], TAKEOVER_TARGET);
    assert_eq!(now, other);
    three_more(&acknowledged, before, "the pause");

    done.store(true, Ordering::SeqCst);
    let refused = stream.join().unwrap();
    let (samples, rrdp) = sampling.join().unwrap();
    println!(
        "takeovers: {takeovers:?}; {refused} changes refused meanwhile; {samples} samples, RRDP at {rrdp:?}"
    );
    assert!(samples > 10, "{samples}");

    // Every acknowledged change is stored and published.
    wait_published(&cli.dir);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 9, "{acknowledged:?}");
    let listed = cli.json(&["roa", "list", "member"]);
    let stored: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["prefix"].as_str().unwrap().to_string())
        .collect();
    for prefix in &acknowledged {
        assert!(stored.contains(prefix), "{prefix} lost");
    }

    // Both instances serve what the leader published: the notification
    // file over HTTP, and the tree over rsync, from either machine's
    // daemon (each reports the trees it is inside, for the leader's
    // pruning).
    let published = std::fs::read_to_string(cli.dir.join("rrdp/notification.xml")).unwrap();
    let tree = cli.dir.join("rsync/current");
    for (s, name) in instances.iter().zip(["a", "b"]) {
        let served = ureq::get(format!("{}/rrdp/notification.xml", s.http))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert_eq!(served, published, "instance {name}");
        assert!(cli.dir.join("rsync/readers").join(name).exists(), "{name}");
        let copy = tmp.path().join(format!("copy-{name}"));
        let fetched = std::process::Command::new("rsync")
            .args(["-rt", &format!("rsync://127.0.0.1:{}/repo/", s.rsync)])
            .arg(&copy)
            .status()
            .unwrap();
        assert!(fetched.success(), "rsync from instance {name}");
        let out = std::process::Command::new("diff")
            .arg("-r")
            .args([&tree, &copy])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "instance {name} serves another tree: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    drop(instances);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let expected: std::collections::BTreeSet<_> = stored
        .iter()
        .map(|p| anchorage_testkit::Vrp::new(64496, p, 24))
        .collect();
    validate_everywhere(&cli, &rsyncd, &tmp.path().join("v"), &expected);
}

/// Runs `sql` on the database at `url` with psql; `None` when it fails
/// (the sampling goes on).
fn server_psql(url: &str, sql: &str) -> Option<String> {
    let bin = anchorage_testkit::postgres::bin_dir()?;
    let out = std::process::Command::new(bin.join("psql"))
        .args(["-Atqc", sql, url])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
