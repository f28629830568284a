//! The bundled validator against deliberately broken repositories: a ROA
//! altered after signing (its manifest hash no longer matches) and a file
//! missing from a publication point. rpki-client and `anchorage validate`
//! must derive the same VRPs, and ours must name the rule that failed.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use anchorage::oracle::{self, RsyncDaemon};
use common::{Cli, anchorage_validate, require, vrps};

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-rL")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn tampered_and_missing_files_are_rejected_like_rpki_client_does() {
    require("rpki-client");
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir1", None, "AS64500-AS64501, 192.0.2.0/24");
    cli.ca_create("lir2", None, "AS64502, 198.51.100.0/24");
    cli.roa_add("lir1", 64500, "192.0.2.0/25");
    cli.roa_add("lir1", 64501, "192.0.2.128/25");
    cli.roa_add("lir2", 64502, "198.51.100.0/24");
    cli.ca_create("lir3", None, "AS64503, 203.0.113.0/24");
    cli.roa_add("lir3", 64503, "203.0.113.0/24");

    let bad = tmp.path().join("bad");
    copy_tree(&cli.tree(), &bad);
    // lir1: a ROA altered after signing.
    let roa = bad.join("lir1/AS64500.roa");
    let mut bytes = fs::read(&roa).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&roa, bytes).unwrap();
    // lir2: its ROA missing.
    fs::remove_file(bad.join("lir2/AS64502.roa")).unwrap();

    let rsyncd = RsyncDaemon::start(&bad, "repo", &tmp.path().join("rsyncd")).unwrap();
    let work = tmp.path().join("work");
    let theirs = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
    let ours = anchorage_validate(&cli, &rsyncd, &work);

    // Both reject the two broken points whole (RFC 9286 §6.4, §6.5) and
    // keep the intact one.
    assert_eq!(
        ours.vrps,
        vrps(&[(64503, "203.0.113.0/24", 24)]),
        "ours: {:?}",
        ours.problems
    );
    assert_eq!(
        theirs.vrps, ours.vrps,
        "rpki-client differs\n{}",
        theirs.log
    );
    assert!(
        !theirs.problems.is_empty(),
        "rpki-client noticed the faults"
    );
    let problems = ours.problems.join("\n");
    assert!(
        problems.contains("AS64500.roa does not match its manifest hash (RFC 9286 §6.5)"),
        "{problems}"
    );
    assert!(
        problems.contains("AS64502.roa listed on the manifest is missing (RFC 9286 §6.4)"),
        "{problems}"
    );
}
