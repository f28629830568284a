//! ASPAs (draft-ietf-sidrops-aspa-profile): set, replaced and removed
//! with the CLI and the admin API, accepted by rpki-client 9 and
//! Routinator (Debian's rpki-client 8.2 reads an older profile, FORT none)
//! and the bundled validator with exactly the configured providers,
//! carried over by a key rollover; bad input is refused and changes
//! nothing.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anchorage_testkit::{self as oracle, RsyncDaemon, ValidatorRun, newer_oracle};
use common::{Cli, api, published, vrps};
use serde_json::json;

type Aspas = BTreeSet<(u32, Vec<u32>)>;

fn aspas(list: &[(u32, &[u32])]) -> Aspas {
    list.iter().map(|(c, p)| (*c, p.to_vec())).collect()
}

/// The ASPA files in CA `handle`'s point.
fn files(cli: &Cli, handle: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cli.tree().join(handle))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".asa"))
        .collect();
    names.sort();
    names
}

/// Checks that a validator accepted everything and found exactly
/// `expected` ASPAs and the VRPs `vrps`.
fn accepted(name: &str, run: &ValidatorRun, vrps: &BTreeSet<oracle::Vrp>, expected: &Aspas) {
    common::assert_accepted(name, run, vrps);
    assert_eq!(&run.aspas, expected, "{name} ASPAs differ\n{}", run.log);
}

/// rpki-client 9, Routinator and the bundled validator on the served tree.
fn validate_all(
    cli: &Cli,
    rsyncd: &RsyncDaemon,
    work: &Path,
    vrps: &BTreeSet<oracle::Vrp>,
    expected: &Aspas,
) {
    let program =
        newer_oracle("rpki-client").expect("scripts/install-oracles.sh installs rpki-client 9");
    let run = oracle::rpki_client_program(&program, &cli.tal(), rsyncd, &work.join("rpki-client"))
        .unwrap();
    accepted("rpki-client 9", &run, vrps, expected);
    let program =
        newer_oracle("routinator").expect("scripts/install-oracles.sh installs Routinator");
    let run = oracle::routinator(&program, &cli.tal(), rsyncd, &work.join("routinator")).unwrap();
    accepted("Routinator", &run, vrps, expected);
    let (doc, log) =
        common::validate_json(&cli.tal(), &work.join("ours"), &common::over_rsync(rsyncd));
    let mut ours = ValidatorRun {
        log,
        vrps: common::json_vrps(&doc),
        aspas: common::json_aspas(&doc),
        ..Default::default()
    };
    for r in doc["rejected"].as_array().into_iter().flatten() {
        ours.problems.push(format!("{}: {}", r["uri"], r["reason"]));
    }
    accepted("anchorage validate", &ours, vrps, expected);
    assert_eq!(doc["metadata"]["aspas"], expected.len(), "{doc}");
}

#[test]
fn aspas_are_published_validated_replaced_rolled_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496-AS64499, 192.0.2.0/24");
    cli.roa_add("m1", 64496, "192.0.2.0/24");
    let expected_vrps = vrps(&[(64496, "192.0.2.0/24", 24)]);

    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "AS64496",
        "--providers",
        "AS64501, 64500",
    ]);
    assert!(
        out.contains("added the ASPA AS64496 => AS64500, AS64501"),
        "{out}"
    );
    // No provider: published as AS0, with a warning that says what it means.
    let o = cli.run_with(
        &[],
        &[
            "aspa",
            "add",
            "m1",
            "--customer-as",
            "64497",
            "--providers",
            "",
        ],
    );
    assert!(o.status.success());
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(out.contains("AS64497 => AS0"), "{out}");
    assert!(
        err.contains("[no-providers]") && err.contains("no transit provider"),
        "{err}"
    );
    assert_eq!(files(&cli, "m1"), ["AS64496.asa", "AS64497.asa"]);
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["aspa", "list", "m1", "--format", "json"])).unwrap();
    assert_eq!(
        listed,
        json!([{"customer_as": 64496, "providers": [64500, 64501]},
               {"customer_as": 64497, "providers": [0]}])
    );

    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let expected = aspas(&[(64496, &[64500, 64501]), (64497, &[0])]);
    validate_all(&cli, &rsyncd, &work.join("1"), &expected_vrps, &expected);

    // Bad input: refused with the rule, and nothing published changes.
    let before = published(&cli.tree());
    for (args, says) in [
        (["64600", "AS64500"], "not within the resources of CA 'm1'"),
        (
            ["64498", "AS64500, AS64500"],
            "provider AS64500 is listed twice",
        ),
        (["64498", "AS64500, AS64498"], "cannot be its own provider"),
        (["0", "AS64500"], "must not be AS0"),
        (["64498", "AS64500, ASX"], "not an AS number"),
    ] {
        let err = cli.fails(&[
            "aspa",
            "add",
            "m1",
            "--customer-as",
            args[0],
            "--providers",
            args[1],
        ]);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = cli.fails(&["aspa", "remove", "m1", "--customer-as", "64499"]);
    assert!(err.contains("has no ASPA for customer AS64499"), "{err}");
    let err = cli.fails(&[
        "aspa",
        "add",
        "ta",
        "--customer-as",
        "64496",
        "--providers",
        "1",
    ]);
    assert!(err.contains("trust anchor"), "{err}");
    assert_eq!(published(&cli.tree()), before);

    // Replaced: one ASPA per customer AS, with the new providers only;
    // the same set again changes nothing.
    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "64496",
        "--providers",
        "AS64502",
    ]);
    assert!(out.contains("replaced the ASPA of AS64496"), "{out}");
    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "64496",
        "--providers",
        "AS64502",
    ]);
    assert!(out.contains("nothing changed"), "{out}");
    // A key rollover signs them again under the new key.
    cli.ok(&["ca", "keyroll", "m1", "--start", "--staging-hours", "0"]);
    cli.ok(&["ca", "keyroll", "m1", "--activate"]);
    let expected = aspas(&[(64496, &[64502]), (64497, &[0])]);
    validate_all(&cli, &rsyncd, &work.join("2"), &expected_vrps, &expected);

    // Removed: withdrawn; the CA cannot give up a customer AS in use.
    cli.ok(&["aspa", "remove", "m1", "--customer-as", "AS64497"]);
    assert_eq!(files(&cli, "m1"), ["AS64496.asa"]);
    let err = cli.fails(&["ca", "update", "m1", "--resources", "AS64497, 192.0.2.0/24"]);
    assert!(err.contains("ASPA AS64496"), "{err}");
    let expected = aspas(&[(64496, &[64502])]);
    validate_all(&cli, &rsyncd, &work.join("3"), &expected_vrps, &expected);
}
