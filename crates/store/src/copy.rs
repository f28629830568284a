//! Copying a whole store into a new database (`anchorage migrate`): every
//! row of every table, in one transaction on each side, so the new
//! database holds exactly the old one's state or nothing.

use crate::sql::args;
use crate::{Location, Result, Store, StoreError, Tx, corrupt};

/// The tables in the order a copy inserts them (a row after the rows it
/// references), with their columns and the order rows are read in. The
/// store's tests check that this names every column of the schema.
pub const TABLES: &[(&str, &str, &str)] = &[
    ("meta", "key, value", "key"),
    (
        "cas",
        "handle, parent, resources, key_id, cert, cert_serial, cert_not_after, \
         next_manifest_number, next_crl_number, created_at, cert_uri, point_version, key_activated",
        // Creation order: parents first, and `cas()` lists them so.
        "rowid",
    ),
    (
        "roas",
        "ca, asn, prefix, max_length",
        "ca, asn, prefix, max_length",
    ),
    (
        "objects",
        "dir, name, bytes, serial, not_after, mtime, hash",
        "dir, name",
    ),
    (
        "revocations",
        "ca, serial, revoked_at, expires",
        "ca, serial",
    ),
    (
        "audit",
        "id, time, actor, action, ca, detail, request_id, before, after",
        "id",
    ),
    ("rrdp_objects", "uri, hash", "uri"),
    ("rrdp_deltas", "serial, path, hash, size, created", "serial"),
    (
        "tokens",
        "id, hash, role, cas, description, created, created_by, revoked",
        "id",
    ),
    ("pending_points", "handle", "handle"),
    (
        "peers",
        "kind, handle, parent, id_cert, resources, base_uri, service_uri, their_handle, \
         our_handle, key_id, last_sync, last_error, last_signing_time, last_digests, created",
        "kind, handle",
    ),
    (
        "child_certs",
        "child, ski, name, resources, req_limit",
        "child, ski",
    ),
    (
        "publisher_objects",
        "uri, publisher, bytes, mtime, hash",
        "uri",
    ),
    (
        "ca_keys",
        "ca, key_id, state, cert, cert_serial, cert_not_after, cert_uri, activated_generation, \
         started, due, next_manifest_number, next_crl_number, point_version",
        "ca, key_id",
    ),
    ("contacts", "ca, vcard", "ca"),
    ("aspas", "ca, customer, providers", "ca, customer"),
    ("router_keys", "ca, asn, ski, spki", "ca, asn, ski"),
    ("publication_changes", "seq, path, uri", "seq"),
];

/// Tables whose rows are kept by triggers, not copied: checked instead.
pub const DERIVED: &[&str] = &["published_count"];

/// What a copy moved: rows per table.
#[derive(Clone, Debug, Default)]
pub struct CopyReport {
    /// Each table and the rows copied into it.
    pub rows: Vec<(String, u64)>,
}

fn count(tx: &Tx<'_>, table: &str) -> Result<u64> {
    tx.row(&format!("SELECT count(*) FROM {table}"), args![], |r| {
        r.get(0)
    })
}

impl Store {
    /// Creates a new database at `location` holding a copy of every row
    /// of `source`, in one transaction: on failure nothing is left at
    /// `location`. Fails if a database exists there. Manifest and CRL
    /// numbers, the audit log's ids, the change journal's sequence and
    /// the RRDP state are carried over as they are, so the copy goes on
    /// where the source stopped.
    ///
    /// The source's write lock is held throughout, so nothing commits to
    /// it during the copy. Once the copy is committed, `committed` runs
    /// (`migrate` records the new location there), and only if it
    /// succeeds is the source marked moved ([`crate::MOVED_TO`]) in that
    /// same transaction: from then on it refuses to open or write. A
    /// crash in between leaves the source unmarked and the location
    /// recorded, both usable.
    pub fn create_from<E: From<crate::StoreError>>(
        location: &Location,
        source: &mut Store,
        committed: impl FnOnce() -> std::result::Result<(), E>,
    ) -> std::result::Result<(Store, CopyReport), E> {
        let mut target = Store::connect_new(location)?;
        let report;
        {
            let from = source.transaction()?;
            let to = target.transaction_of_new()?;
            report = copy_rows(&from, &to, location)?;
            to.commit()?;
            committed()?;
            from.set_meta(crate::MOVED_TO, &location.to_string())?;
            from.commit()?;
        }
        Ok((target, report))
    }

    /// Creates a new database at `location` holding every row of
    /// `source` as one read transaction sees them (`anchorage backup`): a
    /// consistent state, taken without the write lock, so writers go on
    /// meanwhile. Numbers and RRDP state are carried over as they are.
    pub fn snapshot_into(location: &Location, source: &mut Store) -> Result<CopyReport> {
        let mut target = Store::connect_new(location)?;
        let from = source.read_transaction()?;
        let to = target.transaction_of_new()?;
        let report = copy_rows(&from, &to, location)?;
        to.commit()?;
        Ok(report)
    }
}

/// Copies every row of `from` into `to`, a new database at `location`
/// whose schema this makes, and checks that both hold the same.
fn copy_rows(from: &Tx<'_>, to: &Tx<'_>, location: &Location) -> Result<CopyReport> {
    let mut report = CopyReport::default();
    Store::check_absent(to, location)?;
    crate::schema::create(to)?;
    // The copy's own journal rows (from the triggers) give way
    // to the source's journal, copied last.
    for (table, columns, order) in TABLES {
        if *table == "publication_changes" {
            to.exec("DELETE FROM publication_changes", args![])?;
        }
        let filter = if *table == "meta" {
            " WHERE key <> 'schema_version'"
        } else {
            ""
        };
        let n = columns.split(',').count();
        let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        // A SQLite schema is made by its migrations, one of which
        // writes a default into `meta`: the source's value wins.
        let upsert = if *table == "meta" {
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO {table} ({columns}) VALUES ({}){upsert}",
            placeholders.join(", ")
        );
        let mut copied = 0u64;
        from.each(
            &format!("SELECT {columns} FROM {table}{filter} ORDER BY {order}"),
            args![],
            |row| {
                to.exec(&insert, &row.0)?;
                copied += 1;
                Ok::<(), StoreError>(())
            },
        )?;
        report.rows.push((table.to_string(), copied));
    }
    // The journal's highest number, even if its rows were pruned.
    let seq = from.change_seq()?;
    to.exec(
        "INSERT INTO publication_changes (seq, path, uri)
         SELECT ?1, NULL, NULL
         WHERE ?1 > (SELECT COALESCE(MAX(seq), 0) FROM publication_changes)",
        args![seq],
    )?;
    if to.is_pg() {
        to.batch(
            "SELECT setval(pg_get_serial_sequence('audit', 'id'),
                           (SELECT COALESCE(MAX(id), 0) + 1 FROM audit), false);
             SELECT setval(pg_get_serial_sequence('publication_changes', 'seq'),
                           (SELECT COALESCE(MAX(seq), 0) + 1 FROM publication_changes), false);
             SELECT setval(pg_get_serial_sequence('cas', 'rowid'),
                           (SELECT COALESCE(MAX(rowid), 0) + 1 FROM cas), false);",
        )?;
    }
    // What the copy holds is what the source holds.
    for (table, _, _) in TABLES {
        let (a, b) = (count(from, table)?, count(to, table)?);
        // The journal may have gained the marker row above.
        if a != b && *table != "publication_changes" {
            return Err(corrupt(
                "copied rows",
                format!("{table}: {a} read, {b} written"),
            ));
        }
    }
    if from.change_seq()? != to.change_seq()? || from.published_count()? != to.published_count()? {
        return Err(corrupt(
            "copied journal",
            "the change journal or the published count differs",
        ));
    }
    Ok(report)
}
