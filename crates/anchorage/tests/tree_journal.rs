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
    let steps: Vec<Vec<&str>> = vec![
        vec![
            "ca",
            "create",
            "nir",
            "--resources",
            "AS64500-AS64600, 10.0.0.0/8",
        ],
        vec![
            "ca",
            "create",
            "lir",
            "--parent",
            "nir",
            "--resources",
            "AS64500, 10.1.0.0/16",
        ],
        vec![
            "roa",
            "add",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.0.0/16",
        ],
        vec![
            "roa",
            "add",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.1.0/24",
        ],
        vec![
            "roa",
            "add",
            "nir",
            "--asn",
            "64501",
            "--prefix",
            "10.2.0.0/16",
        ],
        vec![
            "roa",
            "remove",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.1.0/24",
        ],
        vec!["ca", "keyroll", "--start", "lir", "--staging-hours", "0"],
        vec![
            "roa",
            "add",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.2.0/24",
        ],
        vec!["ca", "keyroll", "--activate", "lir"],
        vec![
            "roa",
            "remove",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.0.0/16",
        ],
        vec![
            "roa",
            "remove",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "10.1.2.0/24",
        ],
        vec!["ca", "delete", "lir"],
        vec![
            "ca",
            "create",
            "lir",
            "--parent",
            "nir",
            "--resources",
            "AS64502, 10.3.0.0/16",
        ],
        vec![
            "roa",
            "add",
            "lir",
            "--asn",
            "64502",
            "--prefix",
            "10.3.0.0/16",
        ],
    ];
    let mut reused = 0;
    for step in &steps {
        let mut args = step.clone();
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
