//! The trust anchor's TAK object (RFC 9691, the first step of a trust
//! anchor key rollover): published in the TA's point from `init`, naming
//! the TA's key and the TAL's URIs. rpki-client counts it, FORT and the
//! bundled validator accept it; an older data directory gets its TAK at
//! its next publication; a TAK issued by a CA that is not a trust anchor
//! is rejected by the bundled validator (RFC 9691 §3).

mod common;

use anchorage_testkit::{self as oracle, RsyncDaemon};
use common::faults::{self, Faults};
use common::{Cli, anchorage_validate_with, validate_everywhere, vrps};

fn tak_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tak"))
        .collect()
}

#[test]
fn the_trust_anchor_publishes_a_tak_that_validators_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500, 192.0.2.0/24");
    cli.roa_add("lir", 64500, "192.0.2.0/24");
    let expected = vrps(&[(64500, "192.0.2.0/24", 24)]);
    // One TAK, named after the TA's key, beside its manifest.
    let taks = tak_files(&cli.tree().join("ta"));
    assert_eq!(taks.len(), 1, "{taks:?}");
    let stem = taks[0].strip_suffix(".tak").unwrap();
    assert!(cli.tree().join(format!("ta/{stem}.mft")).exists());

    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &expected);
    let run = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
    assert!(
        run.log.contains("Trust Anchor Keys: 1"),
        "rpki-client validated the TAK\n{}",
        run.log
    );
    let (_, metadata) = anchorage_validate_with(
        &cli,
        &work.join("ours"),
        &[
            "--rsync-only".into(),
            "--rsync-program".into(),
            rsyncd.wrapper().into(),
        ],
    );
    assert_eq!(metadata["taks"], 1, "{metadata}");

    // A data directory from before TAKs: the next publication adds one.
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    db.execute("DELETE FROM objects WHERE name LIKE '%.tak'", [])
        .unwrap();
    drop(db);
    cli.ok(&["publish"]);
    assert_eq!(tak_files(&cli.tree().join("ta")).len(), 1);
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // A TAK from a CA that is not a trust anchor: ours rejects it (both
    // others drop it without a word, and keep the VRPs).
    let f = Faults::new(&cli, &tmp.path().join("bad"));
    f.resign(
        "lir",
        "online",
        |issuer, files| {
            let tak = f.tak(issuer, "rsync://127.0.0.1/repo/lir.cer");
            files.insert(format!("{}.tak", issuer.key), tak);
        },
        faults::current(),
    );
    let bad = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("badd")).unwrap();
    let (run, _) = anchorage_validate_with(
        &cli,
        &work.join("ours-bad"),
        &[
            "--rsync-only".into(),
            "--rsync-program".into(),
            bad.wrapper().into(),
        ],
    );
    assert_eq!(run.vrps, expected);
    assert_eq!(run.problems.len(), 1, "{:?}", run.problems);
    assert!(
        run.problems[0].contains("not a trust anchor"),
        "{:?}",
        run.problems
    );
}
