//! Software keys sealed at rest: a data directory made with a passphrase
//! keeps only sealed key files, issues and publishes what rpki-client,
//! FORT and the bundled validator accept, and refuses to work — changing
//! nothing — without the passphrase or with a wrong one. `keys encrypt`
//! seals an existing directory in place; killed at its two critical
//! points, every key stays usable and a second run finishes. `keys list`
//! and `GET /api/v1/keys` name every key and its use.

mod common;

use std::path::Path;

use common::{Cli, snapshot, validate_everywhere, vrps};

const PASS_FILE: &str = "ANCHORAGE_KEY_PASSPHRASE_FILE";

/// The key files of a data directory by kind: (sealed, plain).
fn key_files(dir: &Path) -> (usize, usize) {
    let names: Vec<String> = std::fs::read_dir(dir.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    (
        names.iter().filter(|n| n.ends_with(".key")).count(),
        names.iter().filter(|n| n.ends_with(".p8")).count(),
    )
}

fn inventory(cli: &Cli, env: &[(&str, &str)]) -> Vec<serde_json::Value> {
    let text = cli.ok_with(env, &["keys", "list", "--format", "json"]);
    serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap()
}

#[test]
fn sealed_keys_issue_and_publish_and_nothing_works_without_the_passphrase() {
    let tmp = tempfile::tempdir().unwrap();
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, "a long and correct passphrase\n").unwrap();
    let wrong = tmp.path().join("wrong");
    std::fs::write(&wrong, "another one\n").unwrap();
    let with = [(PASS_FILE, pass.to_str().unwrap())];
    let cli = Cli::init_env(&tmp.path().join("data"), &with);
    cli.ok_with(
        &with,
        &[
            "ca",
            "create",
            "lir",
            "--resources",
            "AS64500, 192.0.2.0/24",
        ],
    );
    cli.ok_with(
        &with,
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
    // TA, online CA, lir: sealed, and no plain key file at all.
    let (sealed, plain) = key_files(&cli.dir);
    assert_eq!((sealed, plain), (3, 0));
    assert!(cli.dir.join("keys/keyring").exists());
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(&cli, &rsyncd, &work, &vrps(&[(64500, "192.0.2.0/24", 24)]));

    // Without the passphrase, or with a wrong one: a clear refusal, and
    // nothing in the data directory changes. `serve` does not start.
    let err = cli.fails_with(&[], &["serve"]);
    assert!(err.contains("are encrypted"), "{err}");
    let before = snapshot(&cli.dir);
    let add = [
        "roa",
        "add",
        "lir",
        "--asn",
        "64501",
        "--prefix",
        "192.0.2.0/25",
    ];
    let err = cli.fails_with(&[], &add);
    assert!(
        err.contains("are encrypted") && err.contains(PASS_FILE),
        "{err}"
    );
    let err = cli.fails_with(&[(PASS_FILE, wrong.to_str().unwrap())], &add);
    assert!(err.contains("does not unlock"), "{err}");
    assert_eq!(
        snapshot(&cli.dir),
        before,
        "a refused command changed files"
    );

    let keys = inventory(&cli, &with);
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.iter().all(|k| k["backend"] == "software-encrypted"),
        "{keys:?}"
    );
    let roles: Vec<&str> = keys.iter().map(|k| k["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["trust anchor", "online CA", "CA"]);
    assert!(keys.iter().all(|k| k["state"] == "active"));

    // A deleted CA's key is destroyed with it.
    cli.ok_with(&with, &["ca", "create", "gone", "--resources", "AS64510"]);
    assert_eq!(key_files(&cli.dir), (4, 0));
    cli.ok_with(&with, &["ca", "delete", "gone"]);
    assert_eq!(key_files(&cli.dir), (3, 0));
    assert_eq!(inventory(&cli, &with).len(), 3);
}

#[test]
fn keys_encrypt_seals_in_place_and_survives_being_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let pass = tmp.path().join("passphrase");
    std::fs::write(&pass, "correct horse battery staple").unwrap();
    let with = [(PASS_FILE, pass.to_str().unwrap())];
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("lir", None, "AS64500, 192.0.2.0/24");
    cli.roa_add("lir", 64500, "192.0.2.0/24");
    assert_eq!(key_files(&cli.dir), (0, 3));
    let keys = inventory(&cli, &[]);
    assert!(keys.iter().all(|k| k["backend"] == "software"), "{keys:?}");

    // A secret for keys not sealed yet: refused, nobody is misled.
    let err = cli.fails_with(&with, &["ca", "list"]);
    assert!(err.contains("anchorage keys encrypt"), "{err}");
    let err = cli.fails_with(&[], &["keys", "encrypt"]);
    assert!(err.contains(PASS_FILE), "{err}");

    // Killed once the keyring is written: every key still plain, usable
    // with the secret (and only with it: the directory is encrypted).
    let kill = |point: &str| {
        let mut env = with.to_vec();
        env.push(("ANCHORAGE_FAIL_AT", point));
        let out = cli.run_with(&env, &["keys", "encrypt"]);
        assert!(!out.status.success(), "{point}: the process was to abort");
    };
    kill("keys-encrypt-keyring");
    assert_eq!(key_files(&cli.dir), (0, 3));
    cli.ok_with(
        &with,
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64501",
            "--prefix",
            "192.0.2.0/25",
        ],
    );
    let err = cli.fails_with(&[], &["ca", "list"]);
    assert!(err.contains("are encrypted"), "{err}");
    // Killed with a key sealed and its plain file still there.
    kill("keys-encrypt-sealed");
    assert_eq!(key_files(&cli.dir), (1, 3));
    cli.ok_with(
        &with,
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64502",
            "--prefix",
            "192.0.2.128/25",
        ],
    );
    // A second run finishes.
    let out = cli.ok_with(&with, &["keys", "encrypt"]);
    assert!(out.contains("sealed 3 key(s)"), "{out}");
    assert_eq!(key_files(&cli.dir), (3, 0));
    let keys = inventory(&cli, &with);
    assert!(
        keys.iter().all(|k| k["backend"] == "software-encrypted"),
        "{keys:?}"
    );
    cli.ok_with(&with, &["publish"]);
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &work,
        &vrps(&[
            (64500, "192.0.2.0/24", 24),
            (64501, "192.0.2.0/25", 25),
            (64502, "192.0.2.128/25", 25),
        ]),
    );
}
