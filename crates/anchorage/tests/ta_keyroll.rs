//! The trust anchor's own key rollover (RFC 9691) end to end, with an
//! injected clock (`--now`): a new TA key announced by TAK objects while
//! everything stays under the current key, its TAL written beside the
//! current one, activation by hand after the staging period, then the
//! old key retired. rpki-client, FORT and the bundled validator check the
//! served tree from both TALs at every stage: whichever key holds the
//! products gives exactly the VRPs of before, the other validates without
//! a complaint, so a relying party with both TALs sees no change. A crash
//! at every stage leaves the rollover where it was, TAL files included.

mod common;

use std::path::Path;

use chrono::{SecondsFormat, TimeDelta, Utc};
use common::api::state;
use common::{Cli, fails_at, ok_at, validate_everywhere_from, vrps};
use serde_json::Value;

/// `ta keyroll --status` as JSON.
fn status(cli: &Cli) -> Value {
    cli.json(&["ta", "keyroll", "--status"])
}

/// The states of the TA's keys, the active one first, and their key ids.
fn keys(cli: &Cli) -> Vec<(String, String)> {
    status(cli)["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["state"].as_str().unwrap().to_string(),
                k["key_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn states(cli: &Cli) -> Vec<String> {
    keys(cli).into_iter().map(|(s, _)| s).collect()
}

/// The DER SubjectPublicKeyInfo a TAL carries.
fn tal_key(tal: &Path) -> Vec<u8> {
    let mut file = std::fs::File::open(tal).unwrap();
    let tal = rpki::repository::tal::Tal::read_named("ta".into(), &mut file).unwrap();
    tal.key_info().to_info_bytes().to_vec()
}

/// What rpki-client's file mode (`-f`) prints for a TAK: with the TALs it
/// derives from the current key and from a predecessor or successor.
fn rpki_client_shows(tak: &Path, work: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    common::require("rpki-client");
    // rpki-client drops privileges: the copy must be readable by others.
    std::fs::create_dir_all(work).unwrap();
    std::fs::set_permissions(work, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = work.join("object.tak");
    std::fs::copy(tak, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = std::process::Command::new("rpki-client")
        .arg("-f")
        .arg(&copy)
        .current_dir(work)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The base64 key lines of a TAL, joined.
fn tal_base64(tal: &Path) -> String {
    let text = std::fs::read_to_string(tal).unwrap();
    text.split_once("\n\n").unwrap().1.replace('\n', "")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A data directory made at `t` (manifests valid for two days, so a tree
/// made a day before the real time still validates now) with two members
/// and their ROAs.
fn setup(dir: &Path, t: chrono::DateTime<Utc>) -> Cli {
    let cli = Cli {
        dir: dir.to_path_buf(),
    };
    ok_at(
        &cli,
        t,
        &[
            "init",
            "--rsync-uri",
            "rsync://127.0.0.1/repo/",
            "--rrdp-uri",
            "https://127.0.0.1/rrdp/",
            "--next-update-hours",
            "48",
        ],
    );
    let create = |h: &str, r: &str| ok_at(&cli, t, &["ca", "create", h, "--resources", r]);
    create("nir", "AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32");
    ok_at(
        &cli,
        t,
        &[
            "ca",
            "create",
            "lir",
            "--parent",
            "nir",
            "--resources",
            "AS64500, 192.0.2.0/25",
        ],
    );
    ok_at(
        &cli,
        t,
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "192.0.2.0/25",
        ],
    );
    ok_at(
        &cli,
        t,
        &[
            "roa",
            "add",
            "nir",
            "--asn",
            "64501",
            "--prefix",
            "2001:db8:1::/48",
        ],
    );
    cli
}

fn expected() -> std::collections::BTreeSet<anchorage_testkit::Vrp> {
    vrps(&[(64500, "192.0.2.0/25", 25), (64501, "2001:db8:1::/48", 48)])
}

#[test]
fn the_trust_anchor_rolls_its_key_and_relying_parties_never_lose_a_vrp() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now() - TimeDelta::hours(26);
    let t1 = t0 + TimeDelta::hours(25);
    let cli = setup(&tmp.path().join("data"), t0);
    let old_tal = tmp.path().join("old.tal");
    std::fs::copy(cli.tal(), &old_tal).unwrap();
    let next_tal = cli.dir.join("ta-next.tal");
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let none = std::collections::BTreeSet::new();
    validate_everywhere_from(&old_tal, &rsyncd, &work.join("before"), &expected());
    assert_eq!(states(&cli), ["active"]);
    let old_key = keys(&cli)[0].1.clone();

    // The CA command refuses the trust anchor and names the right one.
    let err = fails_at(&cli, t0, &["ca", "keyroll", "ta", "--start"]);
    assert!(err.contains("anchorage ta keyroll"), "{err}");

    // By default the staging period is RFC 9691's 30-day acceptance
    // timer: no activation a day later. A start can be cancelled
    // without a trace in the tree.
    ok_at(&cli, t0, &["ta", "keyroll", "--start"]);
    let cancelled = keys(&cli)[1].1.clone();
    assert!(next_tal.exists());
    let cancelled_key = tal_key(&next_tal);
    let tak = |key: &str| std::fs::read(cli.tree().join(format!("ta/{key}.tak"))).unwrap();
    assert!(contains(&tak(&old_key), &cancelled_key), "announced");
    assert!(cli.tree().join(format!("ta-{cancelled}.cer")).exists());
    let err = fails_at(&cli, t1, &["ta", "keyroll", "--activate"]);
    assert!(err.contains("staging period"), "{err}");
    let err = fails_at(&cli, t0, &["ta", "keyroll", "--start"]);
    assert!(err.contains("in progress"), "{err}");
    let err = fails_at(&cli, t0, &["ta", "keyroll", "--retire"]);
    assert!(err.contains("no old key"), "{err}");
    ok_at(&cli, t0, &["ta", "keyroll", "--cancel"]);
    assert_eq!(states(&cli), ["active"]);
    assert!(
        !contains(&tak(&old_key), &cancelled_key),
        "no longer announced"
    );
    assert!(!next_tal.exists());
    assert!(!cli.tree().join(format!("ta-{cancelled}.cer")).exists());
    assert!(!cli.tree().join(format!("ta/{cancelled}.mft")).exists());

    // Start: the new key, its certificate, point and TAL; the TAKs name
    // each other; every product stays under the current key.
    let out = ok_at(
        &cli,
        t0,
        &["ta", "keyroll", "--start", "--staging-hours", "24"],
    );
    assert!(out.contains("ta-next.tal"), "{out}");
    let new_key = keys(&cli)[1].1.clone();
    assert_eq!(states(&cli), ["active", "new"]);
    assert_ne!(tal_key(&next_tal), tal_key(&old_tal));
    assert_eq!(
        std::fs::read(cli.tal()).unwrap(),
        std::fs::read(&old_tal).unwrap()
    );
    let tal_text = std::fs::read_to_string(&next_tal).unwrap();
    assert!(
        tal_text.starts_with(&format!(
            "https://127.0.0.1/rrdp/ta-{new_key}.cer\nrsync://127.0.0.1/repo/ta-{new_key}.cer\n\n"
        )),
        "{tal_text}"
    );
    let tree = cli.tree();
    for f in [
        format!("ta-{new_key}.cer"),
        format!("ta/{new_key}.mft"),
        format!("ta/{new_key}.crl"),
        format!("ta/{new_key}.tak"),
    ] {
        assert!(tree.join(&f).exists(), "{f}");
    }
    let old_tak = std::fs::read(tree.join(format!("ta/{old_key}.tak"))).unwrap();
    let new_tak = std::fs::read(tree.join(format!("ta/{new_key}.tak"))).unwrap();
    assert!(contains(&old_tak, &tal_key(&next_tal)), "the successor");
    assert!(contains(&new_tak, &tal_key(&old_tal)), "the predecessor");
    let new_tal = tmp.path().join("new.tal");
    std::fs::copy(&next_tal, &new_tal).unwrap();
    // rpki-client reads the successor from the current key's TAK: the
    // very TAL written for distribution.
    let shown = rpki_client_shows(&tree.join(format!("ta/{old_key}.tak")), &work.join("f"));
    let (current, successor) = shown
        .split_once("'successor' Trust Anchor Key")
        .unwrap_or_else(|| panic!("no successor in\n{shown}"));
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    assert!(squash(current).contains(&tal_base64(&old_tal)), "{shown}");
    assert!(squash(successor).contains(&tal_base64(&new_tal)), "{shown}");
    assert!(
        successor.contains(&format!("rsync://127.0.0.1/repo/ta-{new_key}.cer")),
        "{shown}"
    );
    let shown = rpki_client_shows(&tree.join(format!("ta/{new_key}.tak")), &work.join("f2"));
    let (_, predecessor) = shown
        .split_once("'predecessor' Trust Anchor Key")
        .unwrap_or_else(|| panic!("no predecessor in\n{shown}"));
    assert!(
        squash(predecessor).contains(&tal_base64(&old_tal)),
        "{shown}"
    );
    let staging = work.join("staging");
    let (client, ours) =
        validate_everywhere_from(&old_tal, &rsyncd, &staging.join("old"), &expected());
    assert!(
        client.log.contains("Trust Anchor Keys: 1"),
        "{}",
        client.log
    );
    assert_eq!(ours["taks"], 1, "{ours}");
    let (client, ours) = validate_everywhere_from(&new_tal, &rsyncd, &staging.join("new"), &none);
    assert!(
        client.log.contains("Trust Anchor Keys: 1"),
        "{}",
        client.log
    );
    assert_eq!(ours["taks"], 1, "{ours}");

    // The scheduler's run does not activate the trust anchor: that is
    // the operator's, once relying parties have the new TAL.
    ok_at(&cli, t1, &["publish"]);
    assert_eq!(states(&cli), ["active", "new"]);

    // Activate: the online CA certified by the new key at the same URI;
    // the old key keeps its TAK; ta.tal is the new key's.
    let online_cert = format!("ta/{}.cer", cli.key_id("online"));
    ok_at(&cli, t1, &["ta", "keyroll", "--activate"]);
    assert_eq!(states(&cli), ["active", "old"]);
    assert_eq!(keys(&cli)[0].1, new_key);
    assert!(
        status(&cli)["next_step"]
            .as_str()
            .unwrap()
            .contains("retire")
    );
    assert!(!next_tal.exists());
    assert_eq!(
        std::fs::read(cli.tal()).unwrap(),
        std::fs::read(&new_tal).unwrap()
    );
    assert!(tree.join(&online_cert).exists());
    assert!(tree.join("ta.cer").exists());
    let old_tak = std::fs::read(tree.join(format!("ta/{old_key}.tak"))).unwrap();
    assert!(contains(&old_tak, &tal_key(&new_tal)), "the successor");
    let after = work.join("after");
    validate_everywhere_from(&new_tal, &rsyncd, &after.join("new"), &expected());
    let (client, _) = validate_everywhere_from(&old_tal, &rsyncd, &after.join("old"), &none);
    assert!(
        client.log.contains("Trust Anchor Keys: 1"),
        "{}",
        client.log
    );
    let err = fails_at(&cli, t1, &["ta", "keyroll", "--start"]);
    assert!(err.contains("retire it first"), "{err}");

    // Retire: the old key's certificate and point go; the new TAL still
    // gives every VRP.
    ok_at(&cli, t1, &["ta", "keyroll", "--retire"]);
    assert_eq!(states(&cli), ["active"]);
    assert!(
        !contains(&tak(&new_key), &tal_key(&old_tal)),
        "the retired key is no longer the predecessor"
    );
    assert!(!tree.join("ta.cer").exists());
    assert!(!tree.join(format!("ta/{old_key}.mft")).exists());
    assert!(!tree.join(format!("ta/{old_key}.tak")).exists());
    validate_everywhere_from(&new_tal, &rsyncd, &work.join("retired"), &expected());
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    let actions: Vec<String> = db
        .prepare("SELECT action FROM audit WHERE ca = 'ta' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        actions,
        [
            "keyroll start",
            "keyroll cancel",
            "keyroll start",
            "keyroll activate",
            "keyroll retire"
        ]
    );
}

#[test]
fn a_crash_at_every_stage_of_a_trust_anchor_rollover_leaves_it_where_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now() - TimeDelta::hours(26);
    let t1 = t0 + TimeDelta::hours(25);
    let cli = setup(&tmp.path().join("data"), t0);
    let next_tal = cli.dir.join("ta-next.tal");
    let crash = |point: &str, t: chrono::DateTime<Utc>, args: &[&str]| {
        let before = state(&cli.dir);
        let now = t.to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut all = vec!["--now", now.as_str()];
        all.extend(args);
        let out = cli.run_env("ANCHORAGE_FAIL_AT", point, &all);
        assert!(!out.status.success(), "{point}: the process was to abort");
        before
    };
    let start = ["ta", "keyroll", "--start", "--staging-hours", "24"];
    let before = crash("ta-keyroll-start-before-commit", t0, &start);
    assert_eq!(state(&cli.dir), before);
    assert_eq!(states(&cli), ["active"]);
    assert!(!next_tal.exists());
    // Killed after the commit, before the tree and the TAL: the next
    // publication writes both, the TAL after the tree that shows its key.
    crash("after-commit", t0, &start);
    assert_eq!(states(&cli), ["active", "new"]);
    assert!(!next_tal.exists(), "not before the tree shows the key");
    let new_key = keys(&cli)[1].1.clone();
    ok_at(&cli, t0, &["publish"]);
    assert!(cli.tree().join(format!("ta-{new_key}.cer")).exists());
    assert!(next_tal.exists());

    let activate = ["ta", "keyroll", "--activate"];
    let before = crash("ta-keyroll-activate-before-commit", t1, &activate);
    assert_eq!(state(&cli.dir), before);
    assert_eq!(states(&cli), ["active", "new"]);
    let new_tal = tmp.path().join("new.tal");
    std::fs::copy(&next_tal, &new_tal).unwrap();
    let old_tal = tmp.path().join("old.tal");
    std::fs::copy(cli.tal(), &old_tal).unwrap();
    crash("after-commit", t1, &activate);
    assert_eq!(states(&cli), ["active", "old"]);
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&cli.tal()), read(&old_tal), "not before the tree");
    ok_at(&cli, t1, &["publish"]);
    assert_eq!(read(&cli.tal()), read(&new_tal));
    assert!(!next_tal.exists());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere_from(&new_tal, &rsyncd, &work, &expected());

    // Years later the old key, still published for relying parties on
    // its TAL, has its certificate renewed like the active key's.
    let before = read(&cli.tree().join("ta.cer"));
    ok_at(&cli, t1 + TimeDelta::days(3640), &["publish"]);
    let after = read(&cli.tree().join("ta.cer"));
    assert_ne!(before, after, "the old key's certificate was renewed");
    let not_after = |der: Vec<u8>| {
        rpki::repository::Cert::decode(bytes::Bytes::from(der))
            .unwrap()
            .validity()
            .not_after()
    };
    assert!(not_after(after) > not_after(before));
    assert_eq!(states(&cli), ["active", "old"]);
}
