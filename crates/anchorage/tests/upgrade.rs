//! A data directory written by an earlier release (store schema 5, no
//! point versions, no key rollover, no stored object hashes, no change
//! journal) opens with this one: it is migrated on first open,
//! keeps every CA, ROA and published object, takes new changes and
//! validates in rpki-client, FORT and our own validator.

mod common;

use common::{Cli, validate_everywhere, vrps};

/// Takes a data directory back to what an earlier release wrote:
/// schema 5, without what schemas 6 (point versions), 7 (key rollover),
/// 8 (a hash stored with every object), 9 (the journal of published
/// paths that changed), 10 (the count of published files) and 11 (CA
/// contacts) added.
fn as_schema_5(cli: &Cli) {
    let db = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    db.execute_batch(
        "DROP TABLE contacts;
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
