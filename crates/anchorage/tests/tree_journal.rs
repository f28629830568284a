//! A tree brought forward from the store's journal of changed paths holds
//! exactly what the store publishes, whatever changed it: ROAs added and
//! removed, CAs created and deleted (and a handle used again), a key
//! rollover (the new key's objects are stored apart and published in the
//! CA's directory, then moved over on activation). The RRDP snapshot,
//! streamed from the store, holds the same. Writes are brought forward,
//! not written whole, while an rsync daemon serves the tree.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anchorage::audit::Actor;
use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;
use anchorage_ca_core::RoaPayload;
use common::{Cli, require};

const BASE: &str = "rsync://127.0.0.1/repo/";

/// What the store publishes: path below the base, bytes.
fn store_state(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let db = rusqlite::Connection::open(dir.join("anchorage.db")).unwrap();
    let mut out = BTreeMap::new();
    let mut stmt = db.prepare("SELECT dir, name, bytes FROM objects").unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (d, name, bytes) = row.unwrap();
        let d = d.split_once('@').map_or(d.as_str(), |(h, _)| h).to_string();
        let path = if d.is_empty() {
            name
        } else {
            format!("{d}/{name}")
        };
        assert!(out.insert(path.clone(), bytes).is_none(), "{path} twice");
    }
    out
}

/// The files of the current rsync tree, by path below it.
fn tree_state(cli: &Cli) -> BTreeMap<String, Vec<u8>> {
    let root = fs::canonicalize(cli.tree()).unwrap();
    common::snapshot(&root)
        .into_iter()
        .map(|(p, b)| {
            (
                p.strip_prefix(&root).unwrap().to_string_lossy().to_string(),
                b,
            )
        })
        .collect()
}

/// The objects of the snapshot the notification file names, by path
/// below the base.
fn snapshot_state(cli: &Cli) -> BTreeMap<String, Vec<u8>> {
    let rrdp = cli.dir.join("rrdp");
    let notification = rpki::rrdp::NotificationFile::parse(std::io::BufReader::new(
        fs::File::open(rrdp.join("notification.xml")).unwrap(),
    ))
    .unwrap();
    let uri = notification.snapshot().uri().to_string();
    let rel = uri.strip_prefix("https://127.0.0.1/rrdp/").unwrap();
    let bytes = fs::read(rrdp.join(rel)).unwrap();
    assert!(notification.snapshot().hash().matches(&bytes));
    let snapshot = rpki::rrdp::Snapshot::parse(&bytes[..]).unwrap();
    assert_eq!(snapshot.serial(), notification.serial());
    snapshot
        .into_elements()
        .into_iter()
        .map(|e| {
            let (uri, data) = e.unpack();
            let path = uri.to_string().strip_prefix(BASE).unwrap().to_string();
            (path, data.to_vec())
        })
        .collect()
}

/// A log without its terminal colours.
fn plain(log: &str) -> String {
    let mut out = String::new();
    let mut rest = log;
    while let Some(at) = rest.find('\u{1b}') {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once('m').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

#[test]
fn trees_brought_forward_and_snapshots_hold_exactly_the_store() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    let _rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let steps = [
        "ca create nir --resources AS64500-AS64600,10.0.0.0/8",
        "ca create lir --parent nir --resources AS64500,10.1.0.0/16",
        "roa add lir --asn 64500 --prefix 10.1.0.0/16",
        "roa add lir --asn 64500 --prefix 10.1.1.0/24",
        "roa add nir --asn 64501 --prefix 10.2.0.0/16",
        "roa remove lir --asn 64500 --prefix 10.1.1.0/24",
        "ca keyroll --start lir --staging-hours 0",
        "roa add lir --asn 64500 --prefix 10.1.2.0/24",
        "ca keyroll --activate lir",
        "roa remove lir --asn 64500 --prefix 10.1.0.0/16",
        "roa remove lir --asn 64500 --prefix 10.1.2.0/24",
        "ca delete lir",
        "ca create lir --parent nir --resources AS64502,10.3.0.0/16",
        "roa add lir --asn 64502 --prefix 10.3.0.0/16",
    ];
    let mut reused = 0;
    for step in steps {
        let mut args: Vec<&str> = step.split(' ').collect();
        args.extend(["--log", "anchorage_publication=debug"]);
        let out = cli.run(&args);
        assert!(
            out.status.success(),
            "{step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        reused += plain(&String::from_utf8_lossy(&out.stderr))
            .matches("reused=true")
            .count();
        let store = store_state(&cli.dir);
        assert_eq!(tree_state(&cli), store, "rsync tree after {step:?}");
        assert_eq!(snapshot_state(&cli), store, "RRDP snapshot after {step:?}");
    }
    // The first writes had no spare tree to bring forward; from the
    // third on, every write has one.
    assert!(
        reused >= steps.len() - 3,
        "{reused} of {} writes brought a tree forward",
        steps.len()
    );
}

/// A meta value of the store.
fn meta(dir: &Path, key: &str) -> Option<String> {
    let db = rusqlite::Connection::open(dir.join("anchorage.db")).unwrap();
    db.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .ok()
}

/// With RRDP apart from the tree (as serve writes them), a change reaches
/// the rsync tree at once and RRDP with the next serial, which holds
/// every change since the last one; what key retirement and TALs wait
/// for (`tree_generation`) follows the slower of the two.
#[test]
fn rrdp_serials_apart_from_trees_hold_every_change_since_the_last() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500, 10.1.0.0/16");
    let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
    a.set_rrdp_apart(true);
    let serial = || meta(&cli.dir, "rrdp_serial").unwrap();
    let shown = || meta(&cli.dir, "tree_generation").unwrap();
    let (serial0, shown0) = (serial(), shown());
    assert_eq!(a.write_rrdp().unwrap(), None, "nothing changed");
    for prefix in ["10.1.0.0/24", "10.1.1.0/24"] {
        let payload = RoaPayload::new(64500, prefix.parse().unwrap(), None).unwrap();
        assert!(a.add_roa(&Actor::operator(), "lir", payload).unwrap());
        // The tree shows it; RRDP and what waits for both do not yet.
        assert_eq!(tree_state(&cli), store_state(&cli.dir));
        assert_eq!(serial(), serial0);
        assert_eq!(shown(), shown0);
    }
    assert_ne!(snapshot_state(&cli), store_state(&cli.dir));
    let next = a.write_rrdp().unwrap().expect("a serial");
    assert_eq!(
        next.to_string(),
        (serial0.parse::<u64>().unwrap() + 1).to_string()
    );
    assert_eq!(snapshot_state(&cli), store_state(&cli.dir));
    assert_eq!(serial(), next.to_string());
    let generation = a.audit_generation().unwrap();
    assert_eq!(shown(), generation.to_string(), "both show the last change");
    // One serial, one delta holding both ROAs' changes.
    let rrdp = cli.dir.join("rrdp");
    let notification = rpki::rrdp::NotificationFile::parse(std::io::BufReader::new(
        fs::File::open(rrdp.join("notification.xml")).unwrap(),
    ))
    .unwrap();
    let delta = &notification.deltas()[0];
    assert_eq!(delta.serial(), next);
    let rel = delta.uri().to_string();
    let rel = rel.strip_prefix("https://127.0.0.1/rrdp/").unwrap();
    let delta = fs::read_to_string(rrdp.join(rel)).unwrap();
    assert_eq!(delta.matches("AS64500.roa").count(), 1, "{delta}");
    assert!(delta.contains(".mft") && delta.contains(".crl"), "{delta}");
    assert_eq!(a.write_rrdp().unwrap(), None, "nothing changed since");
}

/// A crash between an RRDP serial's commit and its announcement: the
/// next publication announces that serial (from what the store kept of
/// its snapshot) before anything else, and key retirement and TALs do not
/// count it until then.
#[test]
fn a_serial_committed_but_not_announced_is_announced_next() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500, 10.1.0.0/16");
    let before = meta(&cli.dir, "rrdp_serial").unwrap();
    let shown = meta(&cli.dir, "tree_generation").unwrap();
    let out = cli.run_env(
        "ANCHORAGE_FAIL_AT",
        "rrdp-before-announce",
        &"roa add lir --asn 64500 --prefix 10.1.0.0/16"
            .split(' ')
            .collect::<Vec<_>>(),
    );
    assert!(!out.status.success(), "the process was aborted");
    let committed = meta(&cli.dir, "rrdp_serial").unwrap();
    assert_eq!(
        committed.parse::<u64>().unwrap(),
        before.parse::<u64>().unwrap() + 1
    );
    let rrdp = cli.dir.join("rrdp");
    let announced = || {
        rpki::rrdp::NotificationFile::parse(std::io::BufReader::new(
            fs::File::open(rrdp.join("notification.xml")).unwrap(),
        ))
        .unwrap()
        .serial()
        .to_string()
    };
    assert_eq!(announced(), before);
    assert_eq!(
        meta(&cli.dir, "tree_generation").unwrap(),
        shown,
        "not counted yet"
    );
    // Nothing changed since: the next publication announces it.
    cli.ok(&["publish"]);
    assert_eq!(announced(), committed);
    assert_eq!(snapshot_state(&cli), store_state(&cli.dir));
    assert_ne!(meta(&cli.dir, "tree_generation").unwrap(), shown);
    // And the next change gets the next serial.
    cli.roa_add("lir", 64500, "10.1.1.0/24");
    let next = committed.parse::<u64>().unwrap() + 1;
    assert_eq!(announced(), next.to_string());
    assert_eq!(snapshot_state(&cli), store_state(&cli.dir));

    // Again, and this time a change comes first: the committed serial is
    // announced, then the change gets a serial of its own at once.
    let out = cli.run_env(
        "ANCHORAGE_FAIL_AT",
        "rrdp-before-announce",
        &"roa add lir --asn 64500 --prefix 10.1.2.0/24"
            .split(' ')
            .collect::<Vec<_>>(),
    );
    assert!(!out.status.success(), "the process was aborted");
    assert_eq!(announced(), next.to_string());
    cli.roa_add("lir", 64500, "10.1.3.0/24");
    assert_eq!(announced(), (next + 2).to_string());
    assert_eq!(snapshot_state(&cli), store_state(&cli.dir));
    assert_eq!(
        meta(&cli.dir, "tree_generation"),
        meta(&cli.dir, "rsync_audit_generation"),
        "both show the last change"
    );
}
