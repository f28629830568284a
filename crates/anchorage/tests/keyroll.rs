//! Key rollover (RFC 6489) end to end: the real binary with an injected
//! clock (`--now`) rolls the keys of a three-level hierarchy — the online
//! CA, a CA below it and one below that — while rpki-client, FORT and the
//! bundled validator check the served tree after every stage: the VRPs
//! never change and nobody complains. A crash at every stage leaves the
//! rollover where it was; `serve` activates a due rollover by itself. A
//! delegated child rolls its key against us (RFC 6492: a second key,
//! then the first revoked) while we roll ours above it.

mod common;

use std::time::Duration;

use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;
use anchorage_ca_core::RoaPayload;
use chrono::{SecondsFormat, TimeDelta, Utc};
use common::api::{Client, serve, state, token};
use common::external::issued;
use common::{Cli, fails_at, ok_at, validate_everywhere, vrps};
use rpki::ca::provisioning::{Payload, RequestResourceLimit};
use rpki::ca::publication;
use rpki::repository::{Cert, Crl};
use serde_json::{Value, json};

/// RFC 3339 for `--now`.
fn at(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `ca keyroll HANDLE --status` as JSON.
fn status(cli: &Cli, handle: &str) -> Value {
    cli.json(&["ca", "keyroll", handle, "--status"])
}

fn states(status: &Value) -> Vec<String> {
    status["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap().to_string())
        .collect()
}

/// The hierarchy every test rolls: online → nir → lir, ROAs at each level.
fn hierarchy(cli: &Cli, t: chrono::DateTime<Utc>) {
    ok_at(
        cli,
        t,
        &[
            "ca",
            "create",
            "nir",
            "--resources",
            "AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32",
        ],
    );
    ok_at(
        cli,
        t,
        &[
            "ca",
            "create",
            "lir",
            "--parent",
            "nir",
            "--resources",
            "AS64500-AS64501, 192.0.2.0/25, 2001:db8:1::/48",
        ],
    );
    for (ca, asn, prefix) in [
        ("lir", "64500", "192.0.2.0/25"),
        ("lir", "64501", "2001:db8:1::/48"),
        ("nir", "64496", "192.0.2.128/25"),
        ("online", "64511", "198.51.100.0/24"),
    ] {
        ok_at(
            cli,
            t,
            &["roa", "add", ca, "--asn", asn, "--prefix", prefix],
        );
    }
}

fn expected() -> std::collections::BTreeSet<anchorage_testkit::Vrp> {
    vrps(&[
        (64500, "192.0.2.0/25", 25),
        (64501, "2001:db8:1::/48", 48),
        (64496, "192.0.2.128/25", 25),
        (64511, "198.51.100.0/24", 24),
    ])
}

/// Initialises a data directory at `t` whose manifests stay valid for two
/// days, so a tree made a day before the real time still validates now.
fn init_at(dir: &std::path::Path, t: chrono::DateTime<Utc>) -> Cli {
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
            "--ta-resources",
            "AS0-AS4294967295, 0.0.0.0/0, ::/0",
        ],
    );
    cli
}

#[test]
fn rolling_every_level_of_a_hierarchy_never_changes_a_vrp() {
    let tmp = tempfile::tempdir().unwrap();
    let now = Utc::now();
    // A day and a bit in the past, so the staging period has passed by
    // the real time the validators check at.
    let t0 = now - TimeDelta::hours(26);
    let cli = init_at(&tmp.path().join("data"), t0);
    hierarchy(&cli, t0);
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &expected());

    // Start: a new key for each level, certified, publishing an empty
    // manifest and CRL beside the current key's.
    let nir_old = cli.key_id("nir");
    for ca in ["online", "nir", "lir"] {
        ok_at(&cli, t0, &["ca", "keyroll", ca, "--start"]);
        let s = status(&cli, ca);
        assert_eq!(states(&s), ["active", "new"], "{s}");
        assert_eq!(s["next_step"], "activate");
        assert_eq!(
            s["next_due"].as_str().unwrap(),
            at(t0 + TimeDelta::hours(24))
        );
    }
    let nir_new = status(&cli, "nir")["keys"][1]["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tree = cli.tree();
    assert!(tree.join(format!("online/{nir_new}.cer")).exists());
    assert!(tree.join(format!("nir/{nir_new}.mft")).exists());
    assert!(tree.join(format!("nir/{nir_new}.crl")).exists());
    // The new key's manifest lists its CRL and nothing else; the current
    // key's does not list the new key's files.
    let mft = rpki::repository::Manifest::decode(
        common::read(tree.join(format!("nir/{nir_new}.mft"))),
        true,
    )
    .unwrap();
    let names: Vec<String> = mft
        .content()
        .iter()
        .map(|f| String::from_utf8(f.file().to_vec()).unwrap())
        .collect();
    assert_eq!(names, [format!("{nir_new}.crl")]);
    let mft = rpki::repository::Manifest::decode(
        common::read(tree.join(format!("nir/{nir_old}.mft"))),
        true,
    )
    .unwrap();
    assert!(
        mft.content()
            .iter()
            .all(|f| !String::from_utf8_lossy(f.file()).contains(&nir_new)),
        "the current key's manifest lists only its own files"
    );
    // A second start, and an activation within the staging period, are
    // refused and change nothing.
    let before = common::api::state_now(&cli.dir);
    let err = fails_at(&cli, t0, &["ca", "keyroll", "nir", "--start"]);
    assert!(err.contains("a rollover is in progress"), "{err}");
    let err = fails_at(
        &cli,
        t0 + TimeDelta::hours(23),
        &["ca", "keyroll", "nir", "--activate"],
    );
    assert!(err.contains("staging period until"), "{err}");
    assert_eq!(common::api::state_now(&cli.dir), before);
    validate_everywhere(&cli, &rsyncd, &work, &expected());

    // Activate, top down; the last one by `publish`, as a scheduler would.
    let t1 = t0 + TimeDelta::hours(24) + TimeDelta::minutes(30);
    ok_at(&cli, t1, &["ca", "keyroll", "online", "--activate"]);
    validate_everywhere(&cli, &rsyncd, &work, &expected());
    // The online CA's new key reissued nir's certificate: this one is revoked.
    let nir_old_serial = cli.json(&["ca", "show", "nir"])["cert_serial"]
        .as_str()
        .unwrap()
        .to_string();
    ok_at(
        &cli,
        t1 + TimeDelta::minutes(10),
        &["ca", "keyroll", "nir", "--activate"],
    );
    validate_everywhere(&cli, &rsyncd, &work, &expected());
    ok_at(&cli, t1 + TimeDelta::minutes(20), &["publish"]);
    validate_everywhere(&cli, &rsyncd, &work, &expected());

    for ca in ["online", "nir", "lir"] {
        let s = status(&cli, ca);
        assert_eq!(states(&s), ["active"], "{s}");
        assert!(s["next_step"].is_null());
    }
    // nir's new key is its key now; the old one's manifest and CRL are
    // gone, its certificate withdrawn and on the parent's CRL.
    assert_eq!(cli.key_id("nir"), nir_new);
    assert!(!tree.join(format!("nir/{nir_old}.mft")).exists());
    assert!(!tree.join(format!("nir/{nir_old}.crl")).exists());
    assert!(!tree.join(format!("online/{nir_old}.cer")).exists());
    let online_key = cli.key_id("online");
    let crl = Crl::decode(common::read(tree.join(format!("online/{online_key}.crl")))).unwrap();
    let serial: rpki::repository::x509::Serial = nir_old_serial.parse().unwrap();
    assert!(crl.contains(serial), "the old key's certificate is revoked");
    // lir's certificate was reissued by nir's new key.
    let lir_key = cli.key_id("lir");
    let lir = Cert::decode(common::read(tree.join(format!("nir/{lir_key}.cer")))).unwrap();
    assert_eq!(lir.authority_key_identifier().unwrap().to_string(), nir_new);
    // The audit log says who did what.
    let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
    let log: Vec<(String, String)> = a
        .audit_log(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.ca.as_deref() == Some("lir") && e.action.starts_with("keyroll"))
        .map(|e| (e.action, e.actor))
        .collect();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].0, "keyroll start");
    assert_eq!(log[1].0, "keyroll activate");
    assert!(
        log.iter().all(|(_, actor)| actor.starts_with("cli")),
        "{log:?}"
    );
}

#[test]
fn a_crash_at_every_stage_leaves_the_rollover_where_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now() - TimeDelta::hours(26);
    let cli = init_at(&tmp.path().join("data"), t0);
    hierarchy(&cli, t0);
    let now = at(t0);
    let crash = |point: &str, args: &[&str], t: &str| {
        let before = state(&cli.dir);
        let mut all = vec!["--now", t];
        all.extend(args);
        let out = cli.run_env("ANCHORAGE_FAIL_AT", point, &all);
        assert!(!out.status.success(), "{point}: the process was to abort");
        before
    };
    // Killed before the start commits: nothing changed.
    let before = crash(
        "keyroll-start-before-commit",
        &["ca", "keyroll", "nir", "--start"],
        &now,
    );
    assert_eq!(state(&cli.dir), before);
    assert_eq!(states(&status(&cli, "nir")), ["active"]);
    // Killed right after the commit, before the tree is written: the
    // rollover has started; the next publication shows it.
    crash("after-commit", &["ca", "keyroll", "nir", "--start"], &now);
    assert_eq!(states(&status(&cli, "nir")), ["active", "new"]);
    let new = status(&cli, "nir")["keys"][1]["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    ok_at(&cli, t0, &["publish"]);
    assert!(cli.tree().join(format!("nir/{new}.mft")).exists());

    let t1 = at(t0 + TimeDelta::hours(25));
    let before = crash(
        "keyroll-activate-before-commit",
        &["ca", "keyroll", "nir", "--activate"],
        &t1,
    );
    assert_eq!(state(&cli.dir), before);
    assert_eq!(states(&status(&cli, "nir")), ["active", "new"]);
    // Killed in the middle of writing the tree after the activation
    // committed: the previous tree stays whole, the next one is right.
    crash("tree:3", &["ca", "keyroll", "nir", "--activate"], &t1);
    assert_eq!(states(&status(&cli, "nir")), ["active"]);
    assert_eq!(cli.key_id("nir"), new);
    ok_at(&cli, t0 + TimeDelta::hours(25), &["publish"]);
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &expected());
}

#[test]
fn serve_activates_a_due_rollover_and_the_api_drives_one() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    hierarchy(&cli, Utc::now());
    let s = serve(&cli, "api_rate_burst = 1000\napi_rate_per_second = 500.0\n");
    let c = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let op = token(&cli, &["--role", "ca-operator", "--ca", "lir"]);
    let ro = token(&cli, &["--role", "read-only"]);

    // Refusals: a problem each, nothing changed.
    let before = state(&cli.dir);
    for (tok, path, body, want) in [
        (
            &ro,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "start"}),
            403,
        ),
        (
            &op,
            "/api/v1/cas/nir/keyroll",
            json!({"action": "start"}),
            404,
        ),
        (
            &op,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "activate"}),
            409,
        ),
        (
            &op,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "roll"}),
            400,
        ),
        (
            &op,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "start", "x": 1}),
            400,
        ),
        (
            &op,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "activate", "staging_hours": 1}),
            422,
        ),
        (
            &admin,
            "/api/v1/cas/ta/keyroll",
            json!({"action": "start"}),
            409,
        ),
        (
            &op,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "start", "staging_hours": 0}),
            403,
        ),
        (
            &admin,
            "/api/v1/cas/lir/keyroll",
            json!({"action": "start", "staging_hours": 9000}),
            409,
        ),
    ] {
        let r = c.json("POST", path, tok, body.clone());
        assert_eq!(r.status, want, "{path} {body}: {}", r.body);
    }
    assert_eq!(state(&cli.dir), before);

    // A rollover with a staging period of 0 hours (an admin's decision):
    // due at once, so serve's scheduler activates it by itself.
    let r = c.json(
        "POST",
        "/api/v1/cas/lir/keyroll",
        &admin,
        json!({"action": "start", "staging_hours": 0}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new = r.body["keys"][1]["key_id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = c.get("/api/v1/cas/lir/keyroll", &ro);
        assert_eq!(r.status, 200);
        if r.body["keys"].as_array().unwrap().len() == 1 {
            assert_eq!(r.body["keys"][0]["key_id"], new.as_str());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not activate the due key: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let log = c.get("/api/v1/audit?ca=lir", &admin);
    let activated = log
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "keyroll activate");
    assert_eq!(activated.unwrap()["actor"], "scheduler", "{}", log.body);

    // The admin starts one for nir; the validators agree throughout.
    let r = c.json(
        "POST",
        "/api/v1/cas/nir/keyroll",
        &admin,
        json!({"action": "start"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["next_step"], "activate");
    common::api::wait_published(&cli.dir);
    let work = tmp.path().join("work");
    let rsyncd = anchorage_testkit::RsyncDaemon::wrapper_for_port(&work, s.rsync).unwrap();
    validate_everywhere(&cli, &rsyncd, &work, &expected());
}

/// A delta that makes the child's point (under `BASE/ca/`) exactly
/// `objects`: updates what is published, publishes what is new,
/// withdraws the rest.
fn switch_point(
    cli: &Cli,
    objects: &[(rpki::uri::Rsync, bytes::Bytes)],
) -> publication::PublishDelta {
    let dir = cli.tree().join("lirx/ca");
    let mut current = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let uri = format!(
            "rsync://127.0.0.1/repo/lirx/ca/{}",
            e.file_name().to_string_lossy()
        );
        current.insert(uri, std::fs::read(e.path()).unwrap());
    }
    let mut delta = publication::PublishDelta::empty();
    for (uri, bytes) in objects {
        let content = publication::Base64::from_content(bytes);
        match current.remove(uri.as_str()) {
            Some(old) => delta.add_update(publication::Update::new(
                None,
                uri.clone(),
                content,
                rpki::rrdp::Hash::from_data(&old),
            )),
            None => delta.add_publish(publication::Publish::new(None, uri.clone(), content)),
        }
    }
    for (uri, old) in current {
        delta.add_withdraw(publication::Withdraw::new(
            None,
            rpki::uri::Rsync::from_string(uri).unwrap(),
            rpki::rrdp::Hash::from_data(&old),
        ));
    }
    delta
}

#[test]
fn a_delegated_child_rolls_its_key_against_us_and_keeps_its_certificates_through_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, ext, mut a) = common::external::setup(tmp.path());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let send = |a: &mut Anchorage, payload: Payload| {
        let reply = a
            .rfc6492("online", "lirx", &ext.provisioning(payload))
            .unwrap();
        ext.provisioning_reply(&reply)
    };
    let publish = |a: &mut Anchorage, delta: publication::PublishDelta| {
        let reply = a
            .rfc8181("lirx", &ext.publication(publication::Message::delta(delta)))
            .unwrap();
        assert_eq!(ext.publication_reply(&reply), publication::Reply::Success);
    };
    let roa = RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
    let expected = vrps(&[(64500, "192.0.2.0/24", 24), (65000, "10.0.0.0/24", 24)]);

    // The child's first key, certified, with its ROA.
    let key1 = ext.keys.generate().unwrap();
    let (uri1, cert1) = issued(send(
        &mut a,
        ext.issue_request(&key1, RequestResourceLimit::new()),
    ));
    publish(&mut a, ext.build_point(&key1, &cert1, &uri1, &[roa]));
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // The child starts a rollover: a second key, certified beside the
    // first, with an empty manifest and CRL of its own.
    let key2 = ext.keys.generate().unwrap();
    let (uri2, cert2) = issued(send(
        &mut a,
        ext.issue_request(&key2, RequestResourceLimit::new()),
    ));
    assert_ne!(uri1, uri2);
    let objects = [
        ext.point_objects(&key1, &cert1, &uri1, &[roa], 2),
        ext.point_objects(&key2, &cert2, &uri2, &[], 1),
    ]
    .concat();
    publish(&mut a, switch_point(&cli, &objects));
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // Meanwhile its parent, the online CA, rolls its own key: both of
    // the child's certificates are reissued by the new key, at the same
    // URIs, for the same keys and resources.
    let actor = anchorage::audit::Actor::operator();
    a.keyroll_start(&actor, "online", Some(TimeDelta::zero()))
        .unwrap();
    let (status, _) = a.keyroll_activate(&actor, "online").unwrap();
    let online_new = status.keys[0].key_id.clone();
    for (uri, key, before) in [(&uri1, &key1, &cert1), (&uri2, &key2, &cert2)] {
        let rel = uri
            .as_str()
            .strip_prefix("rsync://127.0.0.1/repo/")
            .unwrap();
        let cert = Cert::decode(common::read(cli.tree().join(rel))).unwrap();
        assert_eq!(
            cert.authority_key_identifier().unwrap().to_string(),
            online_new
        );
        assert_eq!(cert.subject_key_identifier(), *key);
        assert_eq!(cert.v4_resources(), before.v4_resources());
        assert_eq!(cert.ca_repository(), before.ca_repository());
    }
    validate_everywhere(&cli, &rsyncd, &work, &expected);

    // The child activates: its ROA under the second key, the first key's
    // files withdrawn, and the first key's certificate revoked by us.
    let cert2 = Cert::decode(common::read(
        cli.tree().join(
            uri2.as_str()
                .strip_prefix("rsync://127.0.0.1/repo/")
                .unwrap(),
        ),
    ))
    .unwrap();
    publish(
        &mut a,
        switch_point(&cli, &ext.point_objects(&key2, &cert2, &uri2, &[roa], 2)),
    );
    let cert1_now = Cert::decode(common::read(
        cli.tree().join(
            uri1.as_str()
                .strip_prefix("rsync://127.0.0.1/repo/")
                .unwrap(),
        ),
    ))
    .unwrap();
    match send(&mut a, ext.revoke_request(&key1)) {
        Payload::RevokeResponse(_) => {}
        other => panic!("expected a revoke response, got {other:?}"),
    }
    let crl = Crl::decode(common::read(
        cli.tree().join(format!("online/{online_new}.crl")),
    ))
    .unwrap();
    assert!(crl.contains(cert1_now.serial_number()));
    validate_everywhere(&cli, &rsyncd, &work, &expected);
}

#[test]
fn a_rollover_policy_rolls_old_keys_a_few_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now() - TimeDelta::days(20);
    let cli = init_at(&tmp.path().join("data"), t0);
    for (i, ca) in ["a", "b", "c"].iter().enumerate() {
        let t = t0 + TimeDelta::hours(i as i64 + 1);
        let resources = format!("AS6450{i}, 192.0.{i}.0/24");
        ok_at(&cli, t, &["ca", "create", ca, "--resources", &resources]);
    }
    let mut a = Anchorage::open(DataDir::new(&cli.dir), Clock::Fixed(t0)).unwrap();
    a.set_keyroll_policy(Some(anchorage::ops::KeyrollPolicy {
        every: TimeDelta::days(10),
        max_in_progress: 2,
    }));
    let actor = anchorage::audit::Actor::scheduler();
    let run = |a: &mut Anchorage, t: chrono::DateTime<Utc>| -> Vec<String> {
        a.set_clock(Clock::Fixed(t));
        a.run_due_keyrolls(&actor)
            .unwrap()
            .iter()
            .map(|e| e.to_string().split(':').next().unwrap().to_string())
            .collect()
    };
    let rolling = |a: &mut Anchorage| -> Vec<&str> {
        ["online", "a", "b", "c"]
            .into_iter()
            .filter(|ca| a.keyroll_status(ca).unwrap().keys.len() == 2)
            .collect()
    };
    // Nothing is ten days old yet.
    assert!(run(&mut a, t0 + TimeDelta::days(9)).is_empty());
    // All four keys are: the two oldest start, the others wait.
    let t1 = t0 + TimeDelta::days(10) + TimeDelta::hours(3);
    assert_eq!(run(&mut a, t1), ["keyroll start online", "keyroll start a"]);
    assert_eq!(rolling(&mut a), ["online", "a"]);
    assert!(run(&mut a, t1 + TimeDelta::hours(1)).is_empty());
    // After the staging period both activate, and the next two start.
    let t2 = t1 + TimeDelta::hours(24);
    assert_eq!(
        run(&mut a, t2),
        [
            "keyroll activate online",
            "keyroll activate a",
            "keyroll start b",
            "keyroll start c"
        ]
    );
    assert_eq!(rolling(&mut a), ["b", "c"]);
    let t3 = t2 + TimeDelta::hours(24);
    assert_eq!(
        run(&mut a, t3),
        ["keyroll activate b", "keyroll activate c"]
    );
    assert!(rolling(&mut a).is_empty());
    // Everything is freshly rolled: nothing more until ten days later.
    assert!(run(&mut a, t3 + TimeDelta::days(5)).is_empty());
    // The repository validates at the end (at the real time, 20 days
    // after t0, the keys rolled at t1..t3 are in use).
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    a.set_clock(Clock::System);
    a.publish(&actor).unwrap();
    validate_everywhere(&cli, &rsyncd, &work, &vrps(&[]));
}

#[test]
fn a_ca_under_a_remote_parent_rolls_its_key_over_rfc6492() {
    let tmp = tempfile::tempdir().unwrap();
    let (rir, _rir_serve, nir) =
        common::api::rir_and_nir(tmp.path(), "AS64496-AS64499, 10.0.0.0/8");
    nir.ca_create("lir", Some("nir"), "AS64497, 10.1.0.0/16");
    nir.roa_add("lir", 64497, "10.1.0.0/16");
    nir.roa_add("nir", 64496, "10.0.0.0/16");
    let expected = vrps(&[
        (64500, "192.0.2.0/24", 24),
        (64496, "10.0.0.0/16", 16),
        (64497, "10.1.0.0/16", 16),
    ]);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = rir.serve(&work);
    common::api::wait_published(&rir.dir);
    validate_everywhere(&rir, &rsyncd, &work, &expected);

    // Start: the RIR certifies the new key (RFC 6492 issue) beside the
    // current one; the new key's empty manifest and CRL are pushed.
    let old = nir.key_id("nir");
    nir.ok(&["ca", "keyroll", "nir", "--start", "--staging-hours", "0"]);
    let s = status(&nir, "nir");
    assert_eq!(states(&s), ["active", "new"], "{s}");
    let new = s["keys"][1]["key_id"].as_str().unwrap().to_string();
    common::api::wait_published(&rir.dir);
    let rir_tree = rir.tree();
    assert!(rir_tree.join(format!("online/{old}.cer")).exists());
    assert!(rir_tree.join(format!("online/{new}.cer")).exists());
    assert!(rir_tree.join(format!("nir/nir/{new}.mft")).exists());
    validate_everywhere(&rir, &rsyncd, &work, &expected);

    // Activate, with the push to the RIR's repository held back (as when
    // it is unreachable): everything is reissued under the new key here,
    // and the old key, now `old`, is not revoked while the RIR's
    // repository does not have that.
    let old_cert = Cert::decode(common::read(rir_tree.join(format!("online/{old}.cer")))).unwrap();
    let mut a = Anchorage::open(DataDir::new(&nir.dir), Clock::System).unwrap();
    a.set_transport(anchorage::transport::http());
    a.set_push_inline(false);
    let actor = anchorage::audit::Actor::operator();
    a.keyroll_activate(&actor, "nir").unwrap();
    let s = status(&nir, "nir");
    assert_eq!(states(&s), ["active", "old"], "{s}");
    assert_eq!(s["next_step"], "revoke the old key at the parent");
    assert_eq!(nir.key_id("nir"), new);
    // Pushed: the RIR's repository shows the new key with every product
    // and the old key, still certified, with an empty manifest and CRL.
    assert!(a.push_remote());
    common::api::wait_published(&rir.dir);
    assert!(rir_tree.join(format!("online/{old}.cer")).exists());
    let old_mft = rpki::repository::Manifest::decode(
        common::read(rir_tree.join(format!("nir/nir/{old}.mft"))),
        true,
    )
    .unwrap();
    assert_eq!(old_mft.content().len(), 1, "the old key's CRL only");
    validate_everywhere(&rir, &rsyncd, &work, &expected);
    // Its next due run (a minute later) revokes the old key at the RIR
    // (RFC 6492 revoke) and withdraws its files.
    a.set_clock(Clock::Fixed(Utc::now() + TimeDelta::seconds(61)));
    let events = a.run_due_keyrolls(&actor).unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(a.push_remote());
    let s = status(&nir, "nir");
    assert_eq!(states(&s), ["active"], "{s}");
    common::api::wait_published(&rir.dir);
    assert!(!rir_tree.join(format!("online/{old}.cer")).exists());
    assert!(!rir_tree.join(format!("nir/nir/{old}.mft")).exists());
    let rir_online = rir.key_id("online");
    let crl = Crl::decode(common::read(
        rir_tree.join(format!("online/{rir_online}.crl")),
    ))
    .unwrap();
    assert!(crl.contains(old_cert.serial_number()));
    // Everything the new key signs names its certificate at the RIR.
    let mft = rpki::repository::Manifest::decode(
        common::read(rir_tree.join(format!("nir/nir/{new}.mft"))),
        true,
    )
    .unwrap();
    assert_eq!(
        mft.cert().ca_issuer().unwrap().as_str(),
        format!("rsync://127.0.0.1/repo/online/{new}.cer")
    );
    let lir_key = nir.key_id("lir");
    let lir = Cert::decode(common::read(
        rir_tree.join(format!("nir/nir/{lir_key}.cer")),
    ))
    .unwrap();
    assert_eq!(lir.authority_key_identifier().unwrap().to_string(), new);
    validate_everywhere(&rir, &rsyncd, &work, &expected);

    let actions: Vec<String> = a
        .audit_log(&Default::default())
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("keyroll"))
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["keyroll start", "keyroll activate", "keyroll revoke"]
    );
}

#[test]
fn files_an_activation_replaces_get_later_mtimes_even_within_the_same_second() {
    let tmp = tempfile::tempdir().unwrap();
    let t = Utc::now() - TimeDelta::hours(1);
    let cli = init_at(&tmp.path().join("data"), t);
    ok_at(
        &cli,
        t,
        &["ca", "create", "x", "--resources", "AS64500, 192.0.2.0/24"],
    );
    ok_at(
        &cli,
        t,
        &[
            "roa",
            "add",
            "x",
            "--asn",
            "64500",
            "--prefix",
            "192.0.2.0/24",
        ],
    );
    let roa = cli.tree().join("x/AS64500.roa");
    let mtime = |p: &std::path::Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let (before, bytes) = (mtime(&roa), std::fs::read(&roa).unwrap());
    ok_at(
        &cli,
        t,
        &["ca", "keyroll", "x", "--start", "--staging-hours", "0"],
    );
    ok_at(&cli, t, &["ca", "keyroll", "x", "--activate"]);
    assert_ne!(
        std::fs::read(&roa).unwrap(),
        bytes,
        "reissued under the new key"
    );
    assert!(
        mtime(&roa) > before,
        "a changed file must get a later mtime, or rsync clients skip it"
    );
}

#[test]
fn a_rollover_cancelled_in_its_staging_period_leaves_no_trace_but_a_revocation() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Utc::now() - TimeDelta::hours(26);
    let cli = init_at(&tmp.path().join("data"), t0);
    hierarchy(&cli, t0);
    ok_at(&cli, t0, &["ca", "keyroll", "nir", "--start"]);
    let new = status(&cli, "nir")["keys"][1]["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cert = Cert::decode(common::read(cli.tree().join(format!("online/{new}.cer")))).unwrap();
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &expected());

    ok_at(
        &cli,
        t0 + TimeDelta::hours(1),
        &["ca", "keyroll", "nir", "--cancel"],
    );
    assert_eq!(states(&status(&cli, "nir")), ["active"]);
    assert!(!cli.tree().join(format!("online/{new}.cer")).exists());
    assert!(!cli.tree().join(format!("nir/{new}.mft")).exists());
    assert!(
        !cli.dir.join(format!("keys/{new}.p8")).exists(),
        "key destroyed"
    );
    let online = cli.key_id("online");
    let crl = Crl::decode(common::read(
        cli.tree().join(format!("online/{online}.crl")),
    ))
    .unwrap();
    assert!(
        crl.contains(cert.serial_number()),
        "its certificate revoked"
    );
    validate_everywhere(&cli, &rsyncd, &work, &expected());
    let err = fails_at(
        &cli,
        t0 + TimeDelta::hours(1),
        &["ca", "keyroll", "nir", "--cancel"],
    );
    assert!(err.contains("no rollover in its staging period"), "{err}");
}

/// Waits until `serve`'s process has ended (it aborted at an injected
/// crash point).
fn wait_dead(s: &mut common::api::Serve) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while s.child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "serve did not reach the crash point"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_killed_at_each_stage_carries_on_from_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    hierarchy(&cli, Utc::now());
    let admin = token(&cli, &["--role", "admin"]);
    let config = "api_rate_burst = 1000\napi_rate_per_second = 500.0\n";

    // Killed right after the start committed, before it answered: the
    // new key is there, its manifest and CRL owed.
    let mut s = common::api::serve_env(&cli, config, &[("ANCHORAGE_FAIL_AT", "after-commit")]);
    let c = Client::new(&cli, &s.api);
    let body = json!({"action": "start", "staging_hours": 0});
    assert!(c.try_json("/api/v1/cas/lir/keyroll", &admin, body).is_err());
    wait_dead(&mut s);
    drop(s);
    assert_eq!(states(&status(&cli, "lir")), ["active", "new"]);

    // Restarted, it publishes what the start owed and activates the
    // due key at once — killed again, at its start, just before that
    // activation commits.
    let port = || anchorage_testkit::free_port().unwrap().to_string();
    let out = cli.run_env(
        "ANCHORAGE_FAIL_AT",
        "keyroll-activate-before-commit",
        &[
            "serve",
            "--http-listen",
            &format!("127.0.0.1:{}", port()),
            "--rsync-listen",
            &format!("127.0.0.1:{}", port()),
        ],
    );
    assert!(!out.status.success(), "serve was to abort");
    let s2 = status(&cli, "lir");
    assert_eq!(states(&s2), ["active", "new"], "nothing of the activation");
    let new = s2["keys"][1]["key_id"].as_str().unwrap().to_string();
    assert!(cli.tree().join(format!("lir/{new}.mft")).exists());

    // Restarted once more, it activates; everything validates.
    let s = serve(&cli, config);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while states(&status(&cli, "lir")).len() != 1 {
        assert!(std::time::Instant::now() < deadline, "not activated");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(cli.key_id("lir"), new);
    common::api::wait_published(&cli.dir);
    let work = tmp.path().join("work");
    let rsyncd = anchorage_testkit::RsyncDaemon::wrapper_for_port(&work, s.rsync).unwrap();
    validate_everywhere(&cli, &rsyncd, &work, &expected());
}
