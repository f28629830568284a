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
