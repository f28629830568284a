//! End to end: the real binary builds a three-level hierarchy, a real
//! `rsync --daemon` serves the tree, and rpki-client and FORT validate it
//! from the TAL with exactly the expected VRPs and no complaint — after
//! additions, after a ROA removal (the old ROA revoked on the CRL) and
//! after a CA deletion (its certificate revoked, its objects gone).

mod common;

use common::{Cli, validate_everywhere, vrps};
use rpki::repository::{Cert, Crl, Roa};

fn crl_of(cli: &Cli, handle: &str) -> Crl {
    let key = cli.key_id(handle);
    Crl::decode(common::read(cli.tree().join(format!("{handle}/{key}.crl")))).unwrap()
}

#[test]
fn hierarchy_removal_and_deletion_validate_in_rpki_client_and_fort() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    let work = tmp.path().join("work");
    cli.ca_create(
        "nir",
        None,
        "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32",
    );
    cli.ca_create(
        "lir1",
        Some("nir"),
        "AS64500-AS64501, 192.0.2.0/25, 2001:db8:1::/48",
    );
    cli.ca_create(
        "lir2",
        Some("nir"),
        "AS64502, 198.51.100.0-198.51.100.255, 2001:db8:2::/48",
    );
    for args in [
        ["lir1", "64500", "192.0.2.0/25", "26"],
        ["lir1", "64500", "2001:db8:1::/48", "48"],
        ["lir1", "64501", "192.0.2.0/26", "26"],
        ["lir2", "64502", "198.51.100.0/24", "24"],
        ["lir2", "64502", "2001:db8:2::/48", "56"],
        ["nir", "64496", "192.0.2.128/25", "25"],
    ] {
        cli.ok(&[
            "roa",
            "add",
            args[0],
            "--asn",
            args[1],
            "--prefix",
            args[2],
            "--max-length",
            args[3],
        ]);
    }
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let mut expected = vrps(&[
        (64500, "192.0.2.0/25", 26),
        (64500, "2001:db8:1::/48", 48),
        (64501, "192.0.2.0/26", 26),
        (64502, "198.51.100.0/24", 24),
        (64502, "2001:db8:2::/48", 56),
        (64496, "192.0.2.128/25", 25),
    ]);
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // Removing the only prefix of AS64501 withdraws its ROA and revokes it;
    // removing one prefix of AS64500 reissues that ROA and revokes the old.
    let serial_of = |name: &str| {
        Roa::decode(common::read(cli.tree().join(name)), true)
            .unwrap()
            .cert()
            .serial_number()
    };
    let old_64501 = serial_of("lir1/AS64501.roa");
    let old_64500 = serial_of("lir1/AS64500.roa");
    cli.ok(&[
        "roa",
        "remove",
        "lir1",
        "--asn",
        "AS64501",
        "--prefix",
        "192.0.2.0/26",
    ]);
    cli.ok(&[
        "roa",
        "remove",
        "lir1",
        "--asn",
        "64500",
        "--prefix",
        "2001:db8:1::/48",
    ]);
    assert!(!cli.tree().join("lir1/AS64501.roa").exists());
    let crl = crl_of(&cli, "lir1");
    assert!(crl.contains(old_64501), "withdrawn ROA revoked");
    assert!(crl.contains(old_64500), "replaced ROA revoked");
    assert!(
        !crl.contains(serial_of("lir1/AS64500.roa")),
        "new ROA not revoked"
    );
    expected.remove(
        &common::vrps(&[(64501, "192.0.2.0/26", 26)])
            .pop_first()
            .unwrap(),
    );
    expected.remove(
        &common::vrps(&[(64500, "2001:db8:1::/48", 48)])
            .pop_first()
            .unwrap(),
    );
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // Deleting lir2 revokes its certificate and withdraws its publication point.
    let lir2_key = cli.key_id("lir2");
    let lir2_cert =
        Cert::decode(common::read(cli.tree().join(format!("nir/{lir2_key}.cer")))).unwrap();
    let out = cli.ok(&["ca", "delete", "lir2"]);
    assert!(out.contains("deleted CA 'lir2'"), "{out}");
    assert!(!cli.tree().join("lir2").exists());
    assert!(!cli.tree().join(format!("nir/{lir2_key}.cer")).exists());
    assert!(crl_of(&cli, "nir").contains(lir2_cert.serial_number()));
    expected.retain(|v| v.asn != 64502);
    validate_everywhere(&cli, &rsyncd, &work, &expected);
    assert_eq!(expected.len(), 2, "two VRPs left: {expected:?}");
}
