//! The scheduler over 30 days with an injected clock: at each time the
//! scheduler wakes, `publish` runs; just before the following wake-up the
//! repository must still validate in rpki-client (run at that time with
//! faketime) and in `anchorage validate --at` that time, with no expired
//! or stale object. The scheduler is given an
//! unbounded sleep, so it wakes only when something is due: the due time
//! alone must keep everything fresh.

mod common;

use std::time::Duration;

use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;
use anchorage::serve::next_wake;
use anchorage_testkit as oracle;
use chrono::{DateTime, Utc};
use common::{Cli, assert_accepted, require, vrps};

/// A data directory under `tmp` with CA `nir` under the online CA, made
/// without jitter: all CAs fall due together, and each cycle is one
/// wake-up (with jitter each CA would be its own, as intended at scale).
fn without_jitter(tmp: &std::path::Path) -> Cli {
    let cli = Cli::init_with(
        &tmp.join("data"),
        "https://127.0.0.1/rrdp/",
        &["--reissue-jitter-minutes", "0"],
    );
    cli.ca_create("nir", None, "AS64496-AS64511, 192.0.2.0/24");
    cli
}

#[test]
fn thirty_days_of_scheduled_publication_never_lets_an_object_expire() {
    require("rpki-client");
    require("faketime");
    let tmp = tempfile::tempdir().unwrap();
    let cli = without_jitter(tmp.path());
    cli.ca_create("lir", Some("nir"), "AS64500, 192.0.2.0/25");
    cli.roa_add("lir", 64500, "192.0.2.0/25");
    let expected = vrps(&[(64500, "192.0.2.0/25", 25)]);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let work = tmp.path().join("rp");

    let start = Utc::now().timestamp();
    let end = start + 30 * 86_400;
    let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
    let mut now = start;
    let mut wakes = 0;
    let forever = Duration::from_secs(u64::MAX / 4);
    while now < end {
        let t = DateTime::<Utc>::from_timestamp(now, 0).unwrap();
        a.set_clock(Clock::Fixed(t));
        a.publish(&anchorage::audit::Actor::scheduler()).unwrap();
        let due = a.next_due().unwrap().map(|d| d.timestamp());
        let wake = now + next_wake(now, due, forever).as_secs() as i64;
        assert!(wake > now, "the scheduler would spin at {t}");
        // The last moment before the scheduler acts again.
        let at = wake - 1;
        let run = oracle::rpki_client_at(&cli.tal(), &rsyncd, &work, Some(at)).unwrap();
        assert_accepted(
            &format!("rpki-client at {at} (wake {wakes})"),
            &run,
            &expected,
        );
        // The bundled validator as of the same moment (`validate --at`).
        let mut extra = common::over_rsync(&rsyncd);
        let when = DateTime::<Utc>::from_timestamp(at, 0).unwrap().to_rfc3339();
        extra.extend(["--at".into(), when.into()]);
        let (ours, _) = common::anchorage_validate_with(&cli, &work.join("ours"), &extra);
        assert_accepted(
            &format!("anchorage validate --at {at} (wake {wakes})"),
            &ours,
            &expected,
        );
        now = wake;
        wakes += 1;
    }
    // Manifests are reissued with 16 h of 24 h left: every 8 hours, the
    // CAs created seconds apart batched into one run.
    assert!((85..=95).contains(&wakes), "{wakes} wake-ups in 30 days");
}

/// `serve` stops a refresh cycle (half an hour at 50,000 CAs) when told
/// to stop: a publication that sees its stop flag signs no further chunk,
/// and what it left is still due for the next run.
#[test]
fn a_publication_told_to_stop_leaves_what_is_due_to_the_next() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = without_jitter(tmp.path());
    let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
    let due = a.next_due().unwrap().expect("manifests fall due");
    a.set_clock(Clock::Fixed(
        DateTime::<Utc>::from_timestamp(due.timestamp() + 60, 0).unwrap(),
    ));
    let scheduler = anchorage::audit::Actor::scheduler();
    let stopped = std::sync::atomic::AtomicBool::new(true);
    let report = a.publish_until(&scheduler, &stopped).unwrap();
    assert_eq!(report.refreshed_points, 0, "nothing signed once stopped");
    assert_eq!(a.next_due().unwrap(), Some(due), "still due");
    let report = a.publish(&scheduler).unwrap();
    assert_eq!(report.refreshed_points, 3, "ta, online and nir");
    let next = a.next_due().unwrap().expect("due again later");
    assert!(next.timestamp() > due.timestamp() + 3600, "reissued");
}
