//! `anchorage backup` while changes go on, and `anchorage restore` into a
//! fresh directory: the file holds one consistent state, the restored
//! directory validates in rpki-client, FORT and our own validator, and
//! its manifest and CRL numbers and RRDP session never repeat the
//! original's, even when the same backup is restored twice.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Cli, fails_at, ok_at, require, validate_everywhere, vrps};

/// The RRDP session of `cli`'s notification file.
fn rrdp_session(cli: &Cli) -> String {
    let text = fs::read_to_string(cli.dir.join("rrdp/notification.xml")).unwrap();
    let at = text.find("session_id=\"").unwrap() + "session_id=\"".len();
    text[at..].split('"').next().unwrap().to_string()
}

/// The ROA payloads `cli` holds, as "AS prefix" lines.
fn roas(cli: &Cli) -> Vec<String> {
    let list = cli.json(&["roa", "list", "lir"]);
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("AS{} {}", r["asn"], r["prefix"].as_str().unwrap()))
        .collect();
    out.sort();
    out
}

/// The prefix of the `i`th ROA the load adds.
fn nth(i: u32) -> String {
    format!("10.{}.{}.0/24", i / 256, i % 256)
}

#[test]
fn a_backup_taken_under_load_restores_validates_and_never_repeats_a_number() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("original"));
    cli.ca_create("lir", None, "AS64496, 10.0.0.0/8");
    cli.roa_add("lir", 64496, "10.0.0.0/16");

    // ROAs added one after another while backups are taken: a backup
    // holds the first k of them for some k, never a later one without an
    // earlier one.
    let stop = AtomicBool::new(false);
    let backups: Vec<PathBuf> = (0..3)
        .map(|i| tmp.path().join(format!("b{i}.tar.gz")))
        .collect();
    let added = std::thread::scope(|s| {
        let load = s.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) || n < 3 {
                n += 1;
                cli.roa_add("lir", 64496, &nth(n));
            }
            n
        });
        for b in &backups {
            let out = cli.ok(&["backup", "--output", b.to_str().unwrap()]);
            assert!(out.contains("backed up"), "{out}");
        }
        stop.store(true, Ordering::Relaxed);
        load.join().unwrap()
    });
    let original_numbers = common::manifest_numbers(&cli);
    let original_session = rrdp_session(&cli);
    for b in &backups {
        let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(b).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "the backup holds keys");
    }

    let restored = Cli {
        dir: tmp.path().join("restored"),
    };
    let out = restored.ok(&["restore", backups[2].to_str().unwrap()]);
    assert!(out.contains("restored"), "{out}");
    let held = roas(&restored);
    let k = held.len() - 1;
    let expected: Vec<String> = {
        let mut v: Vec<String> = std::iter::once("AS64496 10.0.0.0/16".to_string())
            .chain((1..=k as u32).map(|i| format!("AS64496 {}", nth(i))))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        held, expected,
        "the first {k} of {added} ROAs, none skipped"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &fs::metadata(restored.dir.join("keys"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);

    // The restored repository validates everywhere, with the VRPs it holds.
    let rsyncd = restored.serve(&tmp.path().join("rsyncd"));
    let mut want: Vec<(u32, String, u8)> = vec![(64496, "10.0.0.0/16".into(), 16)];
    want.extend((1..=k as u32).map(|i| (64496, nth(i), 24)));
    let want: Vec<(u32, &str, u8)> = want.iter().map(|(a, p, m)| (*a, p.as_str(), *m)).collect();
    validate_everywhere(&restored, &rsyncd, &tmp.path().join("v"), &vrps(&want));

    // Every manifest's number is above every number the original used,
    // though the backup was taken before the original's last ones; RRDP
    // is a new session.
    let restored_numbers = common::manifest_numbers(&restored);
    assert_eq!(
        restored_numbers.keys().collect::<BTreeSet<_>>(),
        original_numbers.keys().collect::<BTreeSet<_>>()
    );
    let highest = original_numbers.values().max().unwrap();
    for (name, n) in &restored_numbers {
        assert!(n > highest, "{name}: {n} not above {highest}");
    }
    assert_ne!(rrdp_session(&restored), original_session);
}

#[test]
fn the_same_backup_restored_twice_goes_on_above_the_first_restore() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("original"));
    cli.ca_create("lir", None, "AS64496, 10.0.0.0/8");
    let file = tmp.path().join("b.tar.gz");
    cli.ok(&["backup", "--output", file.to_str().unwrap()]);

    // The first restore, an hour on, publishes a burst of changes.
    let t0 = chrono::Utc::now();
    let first = Cli {
        dir: tmp.path().join("first"),
    };
    let t1 = t0 + chrono::TimeDelta::hours(1);
    ok_at(&first, t1, &["restore", file.to_str().unwrap()]);
    for i in 1..=20 {
        ok_at(
            &first,
            t1,
            &["roa", "add", "lir", "--asn", "64496", "--prefix", &nth(i)],
        );
    }
    let first_numbers = common::manifest_numbers(&first);
    // The second, from the same file a second later, goes on above it.
    // Its directory exists and is empty, as a service's or a container
    // volume's is: restored in place.
    let second = Cli {
        dir: tmp.path().join("second"),
    };
    fs::create_dir(&second.dir).unwrap();
    let later = t1 + chrono::TimeDelta::seconds(1);
    ok_at(&second, later, &["restore", file.to_str().unwrap()]);
    let highest = first_numbers.values().max().unwrap();
    for (name, n) in common::manifest_numbers(&second) {
        assert!(n > *highest, "{name}: {n} not above {highest}");
    }
    let left: Vec<_> = fs::read_dir(&second.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".anchorage-restore"))
        .collect();
    assert!(left.is_empty(), "staging left behind: {left:?}");

    // A clock behind the backup's own time is refused: numbers from it
    // could repeat the lost instance's.
    let third = Cli {
        dir: tmp.path().join("third"),
    };
    let early = t0 - chrono::TimeDelta::hours(1);
    let err = fails_at(&third, early, &["restore", file.to_str().unwrap()]);
    assert!(err.contains("after this machine's clock"), "{err}");
    assert!(!third.dir.exists());
}

/// Every entry of the directory `parent` (names only).
fn entries(parent: &Path) -> BTreeSet<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn restore_refuses_a_damaged_file_and_a_directory_in_use_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("original"));
    let good = tmp.path().join("good.tar.gz");
    cli.ok(&["backup", "--output", good.to_str().unwrap()]);
    let target = Cli {
        dir: tmp.path().join("target"),
    };
    let before = entries(tmp.path());

    // Not a backup at all, and a truncated one.
    let junk = tmp.path().join("junk");
    fs::write(&junk, b"not a backup").unwrap();
    let bytes = fs::read(&good).unwrap();
    let cut = tmp.path().join("cut.tar.gz");
    fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    // A key file changed inside an intact archive: the manifest's hash
    // gives it away.
    let unpacked = tmp.path().join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .args([
            "-xzf",
            good.to_str().unwrap(),
            "-C",
            unpacked.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let key = fs::read_dir(unpacked.join("keys"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut k = fs::read(&key).unwrap();
    k[10] ^= 1;
    fs::write(&key, k).unwrap();
    let tampered = tmp.path().join("tampered.tar.gz");
    let status = std::process::Command::new("tar")
        .args([
            "-czf",
            tampered.to_str().unwrap(),
            "-C",
            unpacked.to_str().unwrap(),
            ".",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    fs::remove_dir_all(&unpacked).unwrap();
    let made = [junk.clone(), cut.clone(), tampered.clone()];

    for (file, says) in [
        (&junk, "not a backup file"),
        (&cut, "damaged"),
        (&tampered, "missing, extra or changed"),
    ] {
        let err = target.fails(&["restore", file.to_str().unwrap()]);
        assert!(err.contains(says), "{}: {err}", file.display());
        assert!(
            !target.dir.exists(),
            "{}: left {}",
            file.display(),
            target.dir.display()
        );
    }
    let mut now = entries(tmp.path());
    for f in &made {
        now.remove(&f.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(now, before, "a failed restore leaves nothing behind");

    // A data directory in use is never overwritten.
    let err = cli.fails(&["restore", good.to_str().unwrap()]);
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(cli.json(&["ca", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn sealed_keys_stay_sealed_in_the_backup_and_need_their_passphrase_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let pass = tmp.path().join("passphrase");
    fs::write(&pass, "a long and correct passphrase\n").unwrap();
    let with = [("ANCHORAGE_KEY_PASSPHRASE_FILE", pass.to_str().unwrap())];
    let cli = Cli::init_env(&tmp.path().join("original"), &with);
    cli.ok_with(
        &with,
        &["ca", "create", "lir", "--resources", "AS64496, 10.0.0.0/8"],
    );
    cli.ok_with(
        &with,
        &[
            "roa",
            "add",
            "lir",
            "--asn",
            "64496",
            "--prefix",
            "10.0.0.0/16",
        ],
    );
    let file = tmp.path().join("b.tar.gz");
    cli.ok_with(&with, &["backup", "--output", file.to_str().unwrap()]);

    // Only sealed key files and the keyring are in the file.
    let listing = std::process::Command::new("tar")
        .args(["-tzf", file.to_str().unwrap()])
        .output()
        .unwrap();
    let names = String::from_utf8(listing.stdout).unwrap();
    let keys: Vec<&str> = names.lines().filter(|l| l.starts_with("keys/")).collect();
    assert!(keys.contains(&"keys/keyring"), "{names}");
    assert!(
        keys.iter().filter(|k| k.ends_with(".key")).count() >= 3,
        "{names}"
    );
    assert!(!names.contains(".p8"), "a plain key in the backup: {names}");

    // Without the passphrase the restored directory cannot publish, and
    // says so; with it, it does.
    let without = Cli {
        dir: tmp.path().join("without"),
    };
    let err = without.fails(&["restore", file.to_str().unwrap()]);
    assert!(err.contains("its first publication failed"), "{err}");
    let restored = Cli {
        dir: tmp.path().join("restored"),
    };
    restored.ok_with(&with, &["restore", file.to_str().unwrap()]);
    let list = restored.ok_with(&with, &["roa", "list", "lir", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    restored.ok_with(&with, &["status"]);
}
