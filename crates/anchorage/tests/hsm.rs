//! CA keys in a PKCS#11 token (SoftHSM2, initialised by the test in a
//! temporary directory): the trust anchor, the online CA and a member CA
//! are generated in the token, sign there, and no private key file exists
//! for them; rpki-client, FORT and the bundled validator accept what they
//! issue. A token that fails in the middle of a change (injected), or is
//! gone, makes the change fail whole and change nothing; back, it works.

mod common;

use std::path::Path;

use anchorage_testkit::SoftHsm;
use common::{Cli, snapshot, validate_everywhere, vrps};

/// A change to the member CA's ROAs that needs its key.
const ADD: [&str; 7] = [
    "roa",
    "add",
    "lir",
    "--asn",
    "64501",
    "--prefix",
    "192.0.2.0/25",
];

/// The token's environment as `Cli::*_with` takes it.
fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn ok(cli: &Cli, env: &[(String, String)], args: &[&str]) -> String {
    cli.ok_with(&pairs(env), args)
}

fn fails(cli: &Cli, env: &[(String, String)], args: &[&str]) -> String {
    cli.fails_with(&pairs(env), args)
}

fn key_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("keys"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.ends_with(".p8") || name.ends_with(".key")
        })
        .count()
}

fn cli_key(cli: &Cli, env: &[(String, String)], handle: &str) -> String {
    let shown: serde_json::Value =
        serde_json::from_str(&ok(cli, env, &["ca", "show", handle, "--format", "json"])).unwrap();
    shown["key_id"].as_str().unwrap().to_string()
}

fn setup(tmp: &Path) -> (Cli, SoftHsm, Vec<(String, String)>) {
    common::require("softhsm2-util");
    let hsm = SoftHsm::init(&tmp.join("hsm")).expect("a SoftHSM2 token");
    let env = hsm.env();
    let cli = Cli::init_env(&tmp.join("data"), &pairs(&env));
    ok(
        &cli,
        &env,
        &[
            "ca",
            "create",
            "lir",
            "--resources",
            "AS64500, 192.0.2.0/24",
        ],
    );
    ok(
        &cli,
        &env,
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64500",
            "--prefix",
            "192.0.2.0/24",
        ],
    );
    (cli, hsm, env)
}

#[test]
fn keys_in_the_token_sign_what_validators_accept_and_never_touch_the_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, _hsm, env) = setup(tmp.path());
    assert_eq!(key_files(&cli.dir), 0, "no private key file on disk");
    let keys: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&cli, &env, &["keys", "list", "--format", "json"])).unwrap();
    assert_eq!(keys.len(), 3, "{keys:?}");
    for k in &keys {
        assert_eq!(k["backend"], "pkcs11", "{k}");
        assert_eq!(k["exportable"], false, "sensitive, not extractable: {k}");
        assert_eq!(k["state"], "active", "{k}");
    }
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &vrps(&[(64500, "192.0.2.0/24", 24)]));
    // A key rollover makes the new key in the token too, and destroys
    // the old one there.
    let old = cli_key(&cli, &env, "lir");
    ok(
        &cli,
        &env,
        &["ca", "keyroll", "lir", "--start", "--staging-hours", "0"],
    );
    ok(&cli, &env, &["ca", "keyroll", "lir", "--activate"]);
    let new = cli_key(&cli, &env, "lir");
    assert_ne!(old, new);
    let keys: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&cli, &env, &["keys", "list", "--format", "json"])).unwrap();
    assert!(
        keys.iter()
            .any(|k| k["key_id"] == new && k["backend"] == "pkcs11"),
        "{keys:?}"
    );
    assert!(
        keys.iter().all(|k| k["key_id"] != old),
        "the old key is gone: {keys:?}"
    );
    assert_eq!(key_files(&cli.dir), 0);
    ok(&cli, &env, &["publish"]);
    validate_everywhere(
        &cli,
        &rsyncd,
        &work.join("rolled"),
        &vrps(&[(64500, "192.0.2.0/24", 24)]),
    );
    // Without the token's configuration the keys are simply not there.
    let err = fails(&cli, &[], &ADD);
    assert!(err.contains("key"), "{err}");
}

#[test]
fn a_token_failing_mid_change_changes_nothing_and_works_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (cli, hsm, env) = setup(tmp.path());
    let before = snapshot(&cli.dir);
    // The token fails after 1, 2, 3 calls of the change: at its first
    // signature, or with the ROA signed and its manifest not.
    for n in ["1", "2", "3"] {
        let mut failing = env.clone();
        failing.push(("ANCHORAGE_HSM_FAIL_AFTER".into(), n.into()));
        let err = fails(&cli, &failing, &ADD);
        assert!(err.contains("HSM"), "after {n} calls: {err}");
        assert_eq!(snapshot(&cli.dir), before, "after {n} calls: files changed");
    }
    // The token hangs: the command gives up after the timeout, whole.
    let mut hanging = env.clone();
    hanging.push(("ANCHORAGE_HSM_HANG_AFTER".into(), "1".into()));
    hanging.push(("ANCHORAGE_PKCS11_TIMEOUT_SECONDS".into(), "1".into()));
    let err = fails(&cli, &hanging, &ADD);
    assert!(err.contains("did not answer within 1 s"), "{err}");
    assert_eq!(snapshot(&cli.dir), before);
    // The token gone: a clear error, nothing changes; back, the change goes.
    let away = tmp.path().join("tokens-away");
    std::fs::rename(&hsm.tokens, &away).unwrap();
    std::fs::create_dir(&hsm.tokens).unwrap();
    let err = fails(&cli, &env, &ADD);
    assert!(
        err.contains("no PKCS#11 token labelled 'anchorage'"),
        "{err}"
    );
    assert_eq!(snapshot(&cli.dir), before);
    std::fs::remove_dir(&hsm.tokens).unwrap();
    std::fs::rename(&away, &hsm.tokens).unwrap();
    ok(&cli, &env, &ADD);
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &work,
        &vrps(&[(64500, "192.0.2.0/24", 24), (64501, "192.0.2.0/25", 25)]),
    );
}
