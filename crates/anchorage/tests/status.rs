//! `anchorage status`: what is published and when, objects past their
//! reissue or expired, and `serve`'s self-validation compared with the
//! ROA configuration (also in `/metrics`); exit status 1 on a problem.

mod common;

use std::time::Duration;

use common::api::{Launch, serve_with};
use common::{Cli, require};
use serde_json::Value;

/// `status --format json` at `now` (none: the clock), and whether it
/// exited 0.
fn status(cli: &Cli, now: Option<&str>) -> (Value, bool) {
    let mut args = vec!["status", "--format", "json"];
    if let Some(now) = now {
        args = [&["--now", now][..], &args].concat();
    }
    let out = cli.run(&args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (json, out.status.success())
}

/// `/metrics` as served without a token.
fn metrics(http: &str) -> String {
    ureq::get(&format!("{http}/metrics"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap()
}

fn gauge(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map(str::to_string)
}

#[test]
fn status_names_objects_past_their_reissue_and_expired_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/24");

    let (now, healthy) = status(&cli, None);
    assert!(healthy, "{now:#}");
    assert_eq!(now["problems"], serde_json::json!([]));
    assert_eq!(now["cas"], 3, "TA, online CA, lir: {now:#}");
    assert_eq!(now["roa_payloads"], 1);
    assert_eq!(now["objects"]["roa"], 1);
    assert_eq!(now["objects"]["mft"], 3);
    assert_eq!(now["serve_running"], false);
    assert_eq!(now["tree_behind"], false);
    // No daemon is inside this directory's trees, and the tests run as
    // root without hidepid: the readers are seen, so after these writes
    // only the current tree, the one it replaced and the spare are left.
    assert_eq!(now["rsync_readers_seen"], true, "{now:#}");
    let trees = now["rsync_trees"].as_u64().unwrap();
    assert!((1..=3).contains(&trees), "{now:#}");
    assert_eq!(now["rsync_trash"], 0, "the CLI empties the trash it fills");
    assert!(now["last_publication"].is_string(), "{now:#}");
    assert!(now["self_validation"].is_null());
    let text = cli.ok(&["status"]);
    assert!(text.contains("health           ok"), "{text}");
    assert!(
        text.contains(&format!(
            "rsync trees      {trees} on disk, 0 waiting for removal; their readers are seen"
        )),
        "{text}"
    );

    // Two days on, with nothing published: every manifest is past its
    // reissue and has expired, with its CRL; the status fails and says so.
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (late, healthy) = status(&cli, Some(&later));
    assert!(!healthy);
    assert_eq!(late["overdue_count"], 3, "{late:#}");
    assert_eq!(
        late["expired_count"], 6,
        "three manifests and their CRLs: {late:#}"
    );
    let first = late["overdue"][0]["uri"].as_str().unwrap();
    assert!(first.starts_with("rsync://127.0.0.1/repo/") && first.ends_with(".mft"));
    let problems = late["problems"].to_string();
    assert!(
        problems.contains("6 published objects have expired"),
        "{problems}"
    );
    assert!(
        problems.contains("3 objects are past their planned reissue"),
        "{problems}"
    );
    let err = cli.fails(&["--now", &later, "status"]);
    assert!(err.contains("2 problems need an operator"), "{err}");

    // A publication then puts everything right.
    cli.ok(&["--now", &later, "publish"]);
    let (fixed, healthy) = status(&cli, Some(&later));
    assert!(healthy, "{fixed:#}");
    assert_eq!(
        (
            fixed["overdue_count"].as_u64(),
            fixed["expired_count"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

/// The self-validation's record of `cli`, once one finished after `since`
/// (RFC 3339) and satisfies `done`.
fn record_after(cli: &Cli, since: &str, done: impl Fn(&Value) -> bool) -> (Value, bool) {
    let mut last = (Value::Null, false);
    common::wait_until("serve records a self-validation", 60, || {
        last = status(cli, None);
        let v = &last.0["self_validation"];
        v["finished"].as_str().is_some_and(|f| f > since) && done(v)
    });
    last
}

#[test]
fn serve_compares_its_self_validation_with_the_configuration() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24, 198.51.100.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/24");
    cli.roa_add("lir", 64496, "198.51.100.0/24");
    cli.ok(&[
        "aspa",
        "add",
        "lir",
        "--customer-as",
        "AS64496",
        "--providers",
        "AS64500, AS64501",
    ]);
    let log = tmp.path().join("serve.log");
    let launch = || Launch {
        rtr: true,
        log: Some(&log),
        ..Launch::default()
    };
    let serve = serve_with(&cli, "metrics_public = true\n", launch());

    let (s, healthy) = record_after(&cli, "", |v| v["compared"].is_string());
    let v = &s["self_validation"];
    assert!(healthy, "{s:#}");
    assert_eq!(v["vrps_configured"], 2, "{v:#}");
    assert_eq!(v["vrps_validated"], 2);
    // The ASPA is compared too, providers and all.
    assert_eq!(
        (
            v["aspas_configured"].as_u64(),
            v["aspas_missing_count"].as_u64()
        ),
        (Some(1), Some(0)),
        "{v:#}"
    );
    assert_eq!(v["router_keys_configured"], 0, "{v:#}");
    assert_eq!(
        (v["missing_count"].as_u64(), v["rejected_count"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["serve_running"], true);
    let m = metrics(&serve.http);
    assert_eq!(
        gauge(&m, "anchorage_self_validation_ok").as_deref(),
        Some("1"),
        "{m}"
    );
    assert_eq!(
        gauge(&m, "anchorage_self_validation_vrps").as_deref(),
        Some("2")
    );
    assert_eq!(
        gauge(&m, "anchorage_self_validation_vrps_configured").as_deref(),
        Some("2")
    );

    // A change while serve runs is compared once its tree is validated.
    cli.roa_add("lir", 64496, "192.0.2.0/25");
    let (s, healthy) = record_after(&cli, "", |v| v["vrps_configured"] == 3);
    assert!(healthy, "{s:#}");
    assert_eq!(s["self_validation"]["vrps_validated"], 3);
    drop(serve);
    // The last record the stopped serve left.
    let (s, _) = status(&cli, None);
    let before = s["self_validation"]["finished"]
        .as_str()
        .unwrap()
        .to_string();

    // A ROA damaged in the store (as by a bad disk): serve writes it into
    // a fresh tree, its own validation rejects the point (RFC 9286 §6.4),
    // its VRPs are missing, and status and /metrics say so.
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    let (rowid, mut bytes): (i64, Vec<u8>) = db
        .query_row(
            "SELECT rowid, bytes FROM objects WHERE name LIKE '%.roa' ORDER BY rowid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    *bytes.last_mut().unwrap() ^= 0xff;
    db.execute(
        "UPDATE objects SET bytes = ?1 WHERE rowid = ?2",
        rusqlite::params![bytes, rowid],
    )
    .unwrap();
    drop(db);
    // The tree and the self-validation's copy of it go too: the damaged
    // file has the size and time of the good one, which rsync's quick
    // check would take for unchanged.
    std::fs::remove_dir_all(cli.dir.join("rsync")).unwrap();
    std::fs::remove_dir_all(cli.dir.join("run")).unwrap();
    // A second apart, so the next record is told apart by its time.
    std::thread::sleep(Duration::from_secs(1));
    let serve = serve_with(&cli, "metrics_public = true\n", launch());
    let (s, healthy) = record_after(&cli, &before, |v| v["compared"].as_str() > Some(&before));
    let v = &s["self_validation"];
    assert!(!healthy, "{s:#}");
    // The whole point goes (RFC 9286 §6.4): every VRP of the CA.
    assert_eq!(v["missing_count"], 3, "{v:#}");
    assert_eq!(v["vrps_validated"], 0, "{v:#}");
    assert_eq!(v["missing"][0], "AS64496 192.0.2.0/24-24");
    // The ASPA was in the same point.
    assert_eq!(v["aspas_missing_count"], 1, "{v:#}");
    assert_eq!(v["aspas_missing"][0], "AS64496 -> AS64500, AS64501");
    assert_eq!(v["rejected_count"], 1, "{v:#}");
    let reason = v["rejected"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("AS64496.roa does not match its manifest hash"),
        "{reason}"
    );
    let problems = s["problems"].to_string();
    assert!(
        problems.contains("3 configured VRPs did not validate"),
        "{problems}"
    );
    assert!(problems.contains("rejected 1 objects"), "{problems}");
    assert!(
        problems.contains("1 configured ASPAs did not validate"),
        "{problems}"
    );
    let m = metrics(&serve.http);
    assert_eq!(
        gauge(&m, "anchorage_self_validation_ok").as_deref(),
        Some("0"),
        "{m}"
    );
    assert_eq!(
        gauge(&m, "anchorage_self_validation_vrps_missing").as_deref(),
        Some("3")
    );
    assert_eq!(
        gauge(&m, "anchorage_self_validation_rejected").as_deref(),
        Some("1")
    );
    assert_eq!(
        gauge(&m, "anchorage_self_validation_aspas_missing").as_deref(),
        Some("1")
    );
}
