//! `kill -9` at random points of a stream of ROA additions. After every
//! kill: the store opens and passes SQLite's integrity check, the served
//! tree validates in rpki-client with no complaint and holds every
//! acknowledged ROA, and no manifest number ever goes backwards.
//!
//! The kill points are pseudo-random from a seed printed by the test; set
//! `ANCHORAGE_KILL_SEED` to replay a run.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use anchorage_testkit::{self as oracle, Vrp};
use common::{Cli, require};

const ROUNDS: u32 = 24;

/// A small deterministic generator (xorshift64*), so a seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[test]
fn kill_nine_never_loses_acknowledged_state_nor_rewinds_manifests() {
    require("rpki-client");
    let seed = std::env::var("ANCHORAGE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("ANCHORAGE_KILL_SEED={seed}");
    let mut rng = Rng(seed);

    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64496-AS65000, 10.0.0.0/8");
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let db = cli.dir.join("anchorage.db");

    let payload = |i: u32| (64496 + i % 8, format!("10.{i}.0.0/16"));
    let args = |i: u32| {
        let (asn, prefix) = payload(i);
        vec![
            "roa".to_string(),
            "add".into(),
            "lir".into(),
            "--asn".into(),
            asn.to_string(),
            "--prefix".into(),
            prefix,
        ]
    };

    // One uninterrupted addition tells how long the window to kill in is.
    let started = Instant::now();
    let a: Vec<String> = args(0);
    cli.ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let window = started.elapsed().as_micros() as u64 * 12 / 10;
    let mut acknowledged: BTreeSet<Vrp> = BTreeSet::new();
    let mut attempted: BTreeSet<Vrp> = BTreeSet::new();
    let (asn, prefix) = payload(0);
    acknowledged.insert(Vrp::new(asn, &prefix, 16));
    attempted.insert(Vrp::new(asn, &prefix, 16));
    let mut last_numbers = common::manifest_numbers(&cli);
    let mut killed_mid_way = 0;

    for i in 1..=ROUNDS {
        let mut child = Command::new(common::bin())
            .arg("--data-dir")
            .arg(&cli.dir)
            .args(args(i))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.next() % window.max(1)));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let (asn, prefix) = payload(i);
        let vrp = Vrp::new(asn, &prefix, 16);
        attempted.insert(vrp.clone());
        if status.success() {
            acknowledged.insert(vrp);
        } else {
            killed_mid_way += 1;
        }

        // 1. The store opens and is intact.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {i}");
        drop(conn);
        cli.ok(&["ca", "list"]);

        // 2. The tree, as left by the kill, validates and holds every
        //    acknowledged ROA and nothing never attempted.
        let run = oracle::rpki_client(&cli.tal(), &rsyncd, &tmp.path().join("rp")).unwrap();
        assert!(
            run.problems.is_empty(),
            "round {i} (seed {seed}): {:?}\n{}",
            run.problems,
            run.log
        );
        assert!(
            run.vrps.is_superset(&acknowledged),
            "round {i} (seed {seed}): acknowledged ROA lost"
        );
        assert!(
            run.vrps.is_subset(&attempted),
            "round {i}: VRP from nowhere"
        );

        // 3. Manifest numbers never go backwards.
        let numbers = common::manifest_numbers(&cli);
        for (name, n) in &numbers {
            if let Some(old) = last_numbers.get(name) {
                assert!(
                    n >= old,
                    "round {i} (seed {seed}): {name} went from {old} to {n}"
                );
            }
        }
        last_numbers = numbers;
    }
    eprintln!("{killed_mid_way} of {ROUNDS} additions were killed before they finished");

    // After a restart, `publish` writes out whatever was committed: the
    // tree then equals the configuration, and numbers still only grow.
    cli.ok(&["publish"]);
    let configured: BTreeSet<Vrp> = cli
        .json(&["roa", "list", "lir"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            Vrp::new(
                r["asn"].as_u64().unwrap() as u32,
                r["prefix"].as_str().unwrap(),
                r["max_length"].as_u64().unwrap() as u8,
            )
        })
        .collect();
    assert!(configured.is_superset(&acknowledged));
    eprintln!(
        "{} additions were committed by a process killed before it answered",
        configured.len() - acknowledged.len()
    );
    assert!(configured.is_subset(&attempted));
    let run = oracle::rpki_client(&cli.tal(), &rsyncd, &tmp.path().join("rp")).unwrap();
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.vrps, configured);
    for (name, n) in common::manifest_numbers(&cli) {
        if let Some(old) = last_numbers.get(&name) {
            assert!(n >= *old, "{name} went from {old} to {n} after the restart");
        }
    }
}

/// The two windows random kills rarely hit, hit on purpose: between the
/// commit and the new tree, and in the middle of writing the tree.
#[test]
fn crash_after_commit_or_mid_tree_leaves_a_valid_tree_and_loses_nothing() {
    require("rpki-client");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64496, 10.0.0.0/8");
    cli.roa_add("lir", 64496, "10.0.0.0/16");
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let rp = tmp.path().join("rp");
    let validate = || {
        let run = oracle::rpki_client(&cli.tal(), &rsyncd, &rp).unwrap();
        assert!(run.problems.is_empty(), "{:?}\n{}", run.problems, run.log);
        run.vrps
    };
    let v = |p: &str| Vrp::new(64496, p, 16);
    let configured = || cli.json(&["roa", "list", "lir"]).as_array().unwrap().len();
    assert_eq!(validate(), BTreeSet::from([v("10.0.0.0/16")]));

    // Abort after the commit: the store has the ROA, the tree does not yet.
    let out = cli.run_env(
        "ANCHORAGE_FAIL_AT",
        "after-commit",
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64496",
            "--prefix",
            "10.1.0.0/16",
        ],
    );
    assert!(!out.status.success(), "the injected crash happened");
    assert_eq!(configured(), 2, "the commit survived the crash");
    assert_eq!(validate(), BTreeSet::from([v("10.0.0.0/16")]));
    cli.ok(&["publish"]);
    assert_eq!(
        validate(),
        BTreeSet::from([v("10.0.0.0/16"), v("10.1.0.0/16")])
    );

    // Abort after 3 files of the new tree: `current` still points to the
    // old complete tree; the partial one is cleaned up by the next write.
    let out = cli.run_env(
        "ANCHORAGE_FAIL_AT",
        "tree:3",
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64496",
            "--prefix",
            "10.2.0.0/16",
        ],
    );
    assert!(!out.status.success(), "the injected crash happened");
    let partial = |cli: &Cli| {
        fs::read_dir(cli.dir.join("rsync/trees"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp-")
            })
            .count()
    };
    assert_eq!(partial(&cli), 1, "a partial tree was left behind");
    assert_eq!(configured(), 3);
    assert_eq!(
        validate(),
        BTreeSet::from([v("10.0.0.0/16"), v("10.1.0.0/16")])
    );
    cli.roa_add("lir", 64496, "10.3.0.0/16");
    assert_eq!(partial(&cli), 0, "the partial tree was removed");
    assert_eq!(
        validate(),
        BTreeSet::from([
            v("10.0.0.0/16"),
            v("10.1.0.0/16"),
            v("10.2.0.0/16"),
            v("10.3.0.0/16")
        ])
    );
}

/// Group publication: ROA changes committed with deferred publication are
/// not in the tree until the next tree write, which owes nothing even
/// after a crash in between (the owed points are in the store).
#[test]
fn deferred_changes_survive_a_crash_and_publish_whole() {
    use anchorage::clock::Clock;
    use anchorage::datadir::DataDir;
    use anchorage::ops::Anchorage;
    use anchorage_ca_core::RoaPayload;
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64496-AS64497, 192.0.2.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/25");
    let tree_before = common::snapshot(&cli.tree());
    {
        let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
        a.set_deferred_publication(true);
        let actor = anchorage::audit::Actor::named("test");
        let p = |asn, prefix: &str| RoaPayload::new(asn, prefix.parse().unwrap(), None).unwrap();
        a.apply_roa_changes(&actor, "lir", &[p(64496, "192.0.2.128/26")], &[])
            .unwrap();
        a.apply_roa_changes(&actor, "lir", &[p(64497, "192.0.2.192/26")], &[])
            .unwrap();
        a.apply_roa_changes(&actor, "lir", &[], &[p(64496, "192.0.2.0/25")])
            .unwrap();
        // A CA created with deferred publication: its certificate goes
        // into the online CA's point without loading it whole, and both
        // points owe their manifest and CRL.
        a.create_ca(
            &actor,
            "member",
            "AS64498, 198.51.100.0/24".parse().unwrap(),
            None,
        )
        .unwrap();
        a.apply_roa_changes(&actor, "member", &[p(64498, "198.51.100.0/24")], &[])
            .unwrap();
        assert!(a.has_pending().unwrap());
        // Dropped without writing a tree: the process "crashes" here.
    }
    assert_eq!(
        common::snapshot(&cli.tree()),
        tree_before,
        "deferred changes reached the tree before a tree write"
    );
    assert_eq!(
        cli.json(&["roa", "list", "lir"]).as_array().unwrap().len(),
        2
    );
    // Any later tree write (here `publish`, as serve does at start) settles them.
    cli.ok(&["publish"]);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    common::validate_everywhere(
        &cli,
        &rsyncd,
        &tmp.path().join("work"),
        &common::vrps(&[
            (64496, "192.0.2.128/26", 26),
            (64497, "192.0.2.192/26", 26),
            (64498, "198.51.100.0/24", 24),
        ]),
    );
}
