//! A data directory written by an earlier release opens with this one:
//! it is migrated on first open, keeps every CA, ROA and published
//! object, takes new changes and validates in rpki-client, FORT and our
//! own validator. Two kinds of earlier directory: one taken back to store
//! schema 5 (no point versions, no key rollover, no stored object hashes,
//! no change journal), and the fixtures committed under
//! `tests/fixtures/upgrade/`, one per release, made by
//! `scripts/upgrade-fixture.sh` with that release's binary: every one of
//! them must open, whatever its age (objects long expired are reissued).

mod common;

use std::path::{Path, PathBuf};

use common::{
    Cli, anchorage_validate_with, assert_accepted, over_rsync, validate_everywhere, vrps,
};

/// Takes a data directory back to what an earlier release wrote:
/// schema 5, without what schemas 6 (point versions), 7 (key rollover),
/// 8 (a hash stored with every object), 9 (the journal of published
/// paths that changed), 10 (the count of published files), 11 (CA
/// contacts) and 12 (ASPAs and router keys) added.
fn as_schema_5(cli: &Cli) {
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    db.execute_batch(
        "DROP INDEX objects_manifest_expiry;
         DROP INDEX objects_certified_expiry;
         DROP TABLE router_keys;
         DROP TABLE aspas;
         DROP TABLE contacts;
         DROP TRIGGER objects_counted_in;
         DROP TRIGGER objects_counted_out;
         DROP TRIGGER publisher_objects_counted_in;
         DROP TRIGGER publisher_objects_counted_out;
         DROP TABLE published_count;
         DROP TRIGGER objects_added;
         DROP TRIGGER objects_removed;
         DROP TRIGGER objects_changed;
         DROP TRIGGER publisher_objects_added;
         DROP TRIGGER publisher_objects_removed;
         DROP TRIGGER publisher_objects_changed;
         DROP TABLE publication_changes;
         DELETE FROM meta WHERE key IN ('rsync_seq', 'rrdp_seq');
         ALTER TABLE cas DROP COLUMN point_version;
         ALTER TABLE cas DROP COLUMN key_activated;
         DROP TABLE ca_keys;
         ALTER TABLE objects DROP COLUMN hash;
         ALTER TABLE publisher_objects DROP COLUMN hash;
         UPDATE meta SET value = '5' WHERE key = 'schema_version';",
    )
    .unwrap();
}

fn schema_version(cli: &Cli) -> String {
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    db.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_schema_5_data_directory_opens_migrates_and_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("lir", None, "AS64496, 192.0.2.0/24, 2001:db8::/32");
    cli.roa_add("lir", 64496, "192.0.2.0/24");
    let before = cli.json(&["ca", "show", "lir"]);
    as_schema_5(&cli);

    // Reading migrates it, and nothing it held changed.
    assert_eq!(cli.json(&["ca", "show", "lir"]), before);
    assert_eq!(
        schema_version(&cli),
        anchorage_store::SCHEMA_VERSION.to_string()
    );
    // It takes changes and publishes them.
    cli.roa_add("lir", 64496, "2001:db8::/32");
    cli.ok(&["publish"]);
    // The migration counted the published files, and the count follows.
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT n FROM published_count"),
        count("SELECT (SELECT count(*) FROM objects) + (SELECT count(*) FROM publisher_objects)")
    );
    drop(db);

    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = cli.serve(&work);
    validate_everywhere(
        &cli,
        &rsyncd,
        &work,
        &vrps(&[(64496, "192.0.2.0/24", 24), (64496, "2001:db8::/32", 32)]),
    );
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    db.execute(
        "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(db);
    let err = cli.fails(&["ca", "list"]);
    assert!(err.contains("schema version"), "{err}");
    assert_eq!(schema_version(&cli), "99");
}

/// The committed fixtures, one per release.
fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixture in {}", dir.display());
    out
}

/// Unpacks `fixture` into a new data directory under `at`.
fn unpack(fixture: &Path, at: &Path) -> Cli {
    let dir = at.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let ok = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(fixture)
        .arg("-C")
        .arg(&dir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "unpacking {}", fixture.display());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    Cli { dir }
}

/// The VRPs every fixture configures (scripts/upgrade-fixture.sh).
const FIXTURE_VRPS: &[(u32, &str, u8)] = &[
    (64496, "10.1.0.0/16", 24),
    (64496, "2001:db8:1::/48", 48),
    (64511, "10.2.0.0/16", 16),
];

#[test]
fn every_committed_release_fixture_opens_publishes_and_validates() {
    for fixture in fixtures() {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let cli = unpack(&fixture, tmp.path());

        // Opening migrates; everything the release held is there.
        let cas = cli.json(&["ca", "list"]);
        let handles: Vec<&str> = cas
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["handle"].as_str().unwrap())
            .collect();
        assert_eq!(handles, ["ta", "online", "nir", "lir"], "{name}");
        assert_eq!(
            schema_version(&cli),
            anchorage_store::SCHEMA_VERSION.to_string(),
            "{name}"
        );
        assert_eq!(
            cli.json(&["roa", "list", "lir"]).as_array().unwrap().len(),
            2,
            "{name}"
        );
        let contact = cli.ok(&["ca", "contact", "lir"]);
        assert!(contact.contains("noc@example.net"), "{name}: {contact}");
        let tokens = cli.json(&["token", "list"]);
        assert!(
            tokens.to_string().contains("upgrade fixture"),
            "{name}: {tokens}"
        );
        let keys = cli.ok(&["ca", "keyroll", "nir", "--status"]);
        assert!(keys.contains("new"), "{name}: the staged key: {keys}");

        // It publishes whatever its age made due, takes a change, and the
        // repository validates everywhere; status is then healthy.
        cli.ok(&["publish"]);
        cli.roa_add("lir", 64496, "10.1.2.0/24");
        let mut want = FIXTURE_VRPS.to_vec();
        want.push((64496, "10.1.2.0/24", 24));
        let work = tmp.path().join("work");
        let rsyncd = cli.serve(&work.join("rsyncd"));
        validate_everywhere(&cli, &rsyncd, &work, &vrps(&want));
        cli.ok(&["status"]);
    }
}

#[test]
fn a_release_fixture_two_years_on_still_publishes_what_validates_then() {
    // Every object of the fixture has expired by then, certificates and
    // the staged key's rollover included; publishing then reissues them.
    let fixture = fixtures().pop().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cli = unpack(&fixture, tmp.path());
    let later = (chrono::Utc::now() + chrono::TimeDelta::days(730))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    cli.ok(&["--now", &later, "publish"]);
    cli.ok(&["--now", &later, "status"]);
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let mut extra = over_rsync(&rsyncd);
    extra.extend(["--at".into(), later.clone().into()]);
    let (run, _) = anchorage_validate_with(&cli, &work.join("cache"), &extra);
    assert_accepted("anchorage validate --at", &run, &vrps(FIXTURE_VRPS));
}
