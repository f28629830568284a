//! The bundled validator against deliberately broken repositories: a ROA
//! altered after signing (its manifest hash no longer matches), a file
//! missing from a publication point, and objects signed wrong on purpose
//! in test code (a broken ROA signature, an expired ROA, an over-claiming
//! CA certificate, a stale CRL, a CA graph with a cycle). rpki-client and
//! `anchorage validate` must derive the same VRPs, and ours must name the
//! rule that failed.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use anchorage_testkit::{self as oracle, RsyncDaemon};
use common::faults::{self, Faults};
use common::{Cli, anchorage_validate, require, vrps};
use rpki::repository::x509::Validity;

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

#[test]
fn objects_signed_wrong_on_purpose_are_rejected_like_rpki_client_does() {
    require("rpki-client");
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    // One CA per fault, so each fault's effect shows in the VRPs alone.
    cli.ca_create("badsig", None, "AS64510-AS64511, 10.1.0.0/16");
    cli.roa_add("badsig", 64510, "10.1.0.0/24");
    cli.roa_add("badsig", 64511, "10.1.1.0/24");
    cli.ca_create("expired", None, "AS64520-AS64521, 10.2.0.0/16");
    cli.roa_add("expired", 64521, "10.2.1.0/24");
    cli.ca_create("nir", None, "AS64530-AS64539, 10.3.0.0/16");
    cli.ca_create("over", Some("nir"), "AS64530, 10.3.0.0/24");
    cli.roa_add("over", 64530, "10.3.0.0/24");
    cli.ca_create("fine", Some("nir"), "AS64531, 10.3.1.0/24");
    cli.roa_add("fine", 64531, "10.3.1.0/24");
    cli.ca_create("stalecrl", None, "AS64540, 10.5.0.0/16");
    cli.roa_add("stalecrl", 64540, "10.5.0.0/24");

    let f = Faults::new(&cli, &tmp.path().join("bad"));
    // A ROA whose CMS signature is broken (its manifest hash is right).
    f.resign(
        "badsig",
        "online",
        |_, files| {
            let roa = files.get_mut("AS64510.roa").unwrap();
            let mut bytes = roa.to_vec();
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
            *roa = bytes.into();
        },
        faults::current(),
    );
    // A ROA that expired yesterday, properly signed and listed.
    f.resign(
        "expired",
        "online",
        |issuer, files| {
            let roa = f.roa(
                issuer,
                64520,
                "10.2.0.0/24",
                Validity::new(faults::days(-3), faults::days(-1)),
            );
            files.insert("AS64520.roa".into(), roa);
        },
        faults::current(),
    );
    // A CA certificate claiming 10.4.0.0/24, which its parent does not hold.
    f.reissue_ca_cert("over", "nir", "AS64530, 10.3.0.0/24, 10.4.0.0/24");
    f.resign("nir", "online", |_, _| {}, faults::current());
    // A cycle: "fine" certifies its own parent's key, so the walk from
    // "fine" leads back to "nir".
    f.resign(
        "fine",
        "nir",
        |issuer, files| {
            let (name, cert) = f.ca_cert(issuer, "nir", "online", "AS64531, 10.3.1.0/24");
            files.insert(name, cert);
        },
        faults::current(),
    );
    // A point whose CRL's nextUpdate has passed.
    f.resign(
        "stalecrl",
        "online",
        |_, _| {},
        (faults::days(-3), faults::days(-1)),
    );

    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let work = tmp.path().join("work");
    let theirs = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
    let ours = anchorage_validate(&cli, &rsyncd, &work);
    assert_eq!(
        ours.vrps,
        vrps(&[
            (64511, "10.1.1.0/24", 24),
            (64521, "10.2.1.0/24", 24),
            (64531, "10.3.1.0/24", 24)
        ]),
        "ours: {:#?}",
        ours.problems
    );
    assert_eq!(
        theirs.vrps, ours.vrps,
        "rpki-client differs\n{}",
        theirs.log
    );
    let problems = ours.problems.join("\n");
    for (uri, rule) in [
        ("badsig/AS64510.roa", "signature"),
        ("expired/AS64520.roa", "expired"),
        ("nir/", "resources"),
        ("stalecrl/", "CRL nextUpdate has passed"),
        ("nir/", "cyclic"),
    ] {
        assert!(
            ours.problems
                .iter()
                .any(|p| p.contains(uri) && p.to_lowercase().contains(&rule.to_lowercase())),
            "no rejection of {uri} for {rule}:\n{problems}"
        );
    }
}
