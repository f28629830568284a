//! `publish` reissues exactly what is due: manifests and CRLs once less
//! than the reissue margin (16 h of 24 h) is left, certificates and ROAs
//! within four weeks of expiry, and nothing otherwise.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::Cli;

fn publish_at(cli: &Cli, t: DateTime<Utc>) -> serde_json::Value {
    let now = t.to_rfc3339();
    cli.json(&["--now", &now, "publish"])
}

fn show(cli: &Cli, handle: &str) -> serde_json::Value {
    cli.json(&["ca", "show", handle])
}

#[test]
fn publish_reissues_what_is_due_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/24");
    let before = show(&cli, "lir");
    let ta_before = show(&cli, "ta");

    // Nothing is due right away: no point refreshed, no file rewritten.
    let r = publish_at(&cli, t0 + Duration::minutes(1));
    assert_eq!(r["refreshed_points"], 0, "{r}");
    assert_eq!(r["written"], 0, "{r}");

    // 6 h later, at least 17 h of 24 h remain (less up to 1 h of jitter,
    // less the 10-minute batch window): still not due.
    let r = publish_at(&cli, t0 + Duration::hours(6));
    assert_eq!(r["refreshed_points"], 0, "{r}");

    // 9 h later, 15 h remain: every manifest and CRL (ta, online, lir).
    let r = publish_at(&cli, t0 + Duration::hours(9));
    assert_eq!(r["refreshed_points"], 3, "{r}");
    assert_eq!(r["reissued_objects"], 0, "{r}");
    let after = show(&cli, "lir");
    assert_eq!(
        after["next_manifest_number"].as_u64().unwrap(),
        before["next_manifest_number"].as_u64().unwrap() + 1
    );
    assert_ne!(
        after["manifest_next_update"],
        before["manifest_next_update"]
    );
    assert_eq!(after["cert_serial"], before["cert_serial"]);

    // 11 months later: the online and lir certificates, the ROA and the
    // TA's TAK (RFC 9691) are within four weeks of expiry and are
    // renewed; the 10-year TA certificate is not.
    let t = t0 + Duration::days(340);
    let r = publish_at(&cli, t);
    assert_eq!(r["reissued_objects"], 4, "{r}");
    let renewed = show(&cli, "lir");
    assert_ne!(renewed["cert_serial"], before["cert_serial"]);
    let not_after: DateTime<Utc> = renewed["cert_not_after"].as_str().unwrap().parse().unwrap();
    assert!(
        not_after > t + Duration::days(300),
        "renewed for a year: {not_after}"
    );
    assert_eq!(show(&cli, "ta")["cert_serial"], ta_before["cert_serial"]);
    // The replaced ROA's EE certificate is on lir's CRL (the old manifest
    // EEs have expired and left it); the old lir certificate on online's.
    assert_eq!(renewed["revoked"], 1, "{renewed}");
    assert!(show(&cli, "online")["revoked"].as_u64().unwrap() >= 1);
    let r = publish_at(&cli, t + Duration::minutes(1));
    assert_eq!(
        (
            r["refreshed_points"].as_u64(),
            r["reissued_objects"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[test]
fn a_point_that_cannot_be_renewed_does_not_hold_up_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496, 192.0.2.0/24");
    cli.ca_create("m2", None, "AS64497, 198.51.100.0/24");
    cli.roa_add("m1", 64496, "192.0.2.0/24");
    cli.roa_add("m2", 64497, "198.51.100.0/24");
    let roa = |ca: &str, asn: u32| {
        std::fs::read(cli.tree().join(ca).join(format!("AS{asn}.roa"))).unwrap()
    };
    let (m1_roa, m2_roa) = (roa("m1", 64496), roa("m2", 64497));
    let m1_before = show(&cli, "m1");

    // 11 months on, both ROAs are due; m1's renewal fails (injected).
    let t = t0 + Duration::days(340);
    let now = t.to_rfc3339();
    let out = cli.run_env("ANCHORAGE_FAIL_AT", "renew:m1", &["--now", &now, "publish"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failed renewal is reported");
    assert!(
        err.contains("renewing the objects of 1 publication point(s) failed, first of CA 'm1'"),
        "{err}"
    );
    // m2 was renewed, m1's ROA was not, but m1's manifest and CRL (long
    // past their nextUpdate) were signed again.
    assert_ne!(roa("m2", 64497), m2_roa);
    assert_eq!(roa("m1", 64496), m1_roa);
    let m1_after = show(&cli, "m1");
    assert!(
        m1_after["next_manifest_number"].as_u64() > m1_before["next_manifest_number"].as_u64(),
        "{m1_after}"
    );

    // Once renewal works again, the next run renews m1 and nothing else.
    let r = publish_at(&cli, t + Duration::minutes(1));
    assert_ne!(roa("m1", 64496), m1_roa);
    // Its certificate is in the online CA's point, renewed the first time.
    assert_eq!(r["reissued_objects"], 1, "m1's ROA alone: {r}");
}
