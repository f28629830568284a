//! The database schema as an ordered list of migrations, for each backend.
//!
//! SQLite: migration `i` brings a database from schema version `i` to
//! `i + 1` (version 0: empty). A new database runs them all; an existing
//! one runs those after its `meta.schema_version`, in one transaction. A
//! migration only adds: an older data directory opens unchanged but for
//! what is added, and nothing is ever rewritten in place.
//!
//! PostgreSQL databases start at version [`PG_FIRST`], created whole by
//! [`PG_SCHEMA`]; later versions add a migration to both lists, so one
//! version number means the same tables on both backends (checked by the
//! store's tests, which compare the two schemas' columns). A database of
//! a newer version than this binary knows is refused on either backend.

use crate::sql::args;
use crate::{Result, StoreError, Tx, corrupt};

/// Schema version 1: configuration, CAs, ROAs, published objects,
/// revocations, the audit log and RRDP state.
const SCHEMA_V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cas (
    handle TEXT PRIMARY KEY,
    parent TEXT REFERENCES cas(handle),
    resources TEXT NOT NULL,
    key_id TEXT NOT NULL,
    cert BLOB NOT NULL,
    cert_serial TEXT NOT NULL,
    cert_not_after INTEGER NOT NULL,
    next_manifest_number INTEGER NOT NULL,
    next_crl_number INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE roas (
    ca TEXT NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    asn INTEGER NOT NULL,
    prefix TEXT NOT NULL,
    max_length INTEGER NOT NULL,
    PRIMARY KEY (ca, asn, prefix, max_length)
);
-- dir is the publication point's directory (a CA handle), or '' for the
-- module root where the TA certificate lives.
CREATE TABLE objects (
    dir TEXT NOT NULL,
    name TEXT NOT NULL,
    bytes BLOB NOT NULL,
    serial TEXT,
    not_after INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    PRIMARY KEY (dir, name)
);
CREATE TABLE revocations (
    ca TEXT NOT NULL,
    serial TEXT NOT NULL,
    revoked_at INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (ca, serial)
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    ca TEXT,
    detail TEXT NOT NULL
);
";

/// Tables added in schema version 2: the state RRDP last published.
const SCHEMA_V2: &str = "
-- What the current RRDP serial describes: every published URI and the
-- SHA-256 of its content.
CREATE TABLE rrdp_objects (uri TEXT PRIMARY KEY, hash BLOB NOT NULL);
-- Deltas still listed in the notification file.
CREATE TABLE rrdp_deltas (
    serial INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    created INTEGER NOT NULL
);
";

/// Schema version 3: API tokens, and audit entries with the request id
/// and the state before and after; the audit log becomes append-only.
const SCHEMA_V3: &str = "
ALTER TABLE audit ADD COLUMN request_id TEXT;
ALTER TABLE audit ADD COLUMN before TEXT;
ALTER TABLE audit ADD COLUMN after TEXT;
CREATE INDEX audit_ca ON audit (ca, id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
-- Bearer tokens of the admin API: only an argon2 hash of the secret.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    role TEXT NOT NULL,
    cas TEXT NOT NULL,
    description TEXT NOT NULL,
    created INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    revoked INTEGER
);
";

/// Schema version 4: publication points whose manifest and CRL are owed
/// (changes committed with deferred publication).
const SCHEMA_V4: &str = "
CREATE TABLE pending_points (handle TEXT PRIMARY KEY);
";

/// Schema version 5: RFC 8183 peers (delegated children and publishers),
/// the certificates issued to delegated children, and the objects
/// publishers keep in the repository.
const SCHEMA_V5: &str = "
-- Where a remote parent publishes the certificate of a CA it issued to.
ALTER TABLE cas ADD COLUMN cert_uri TEXT;
CREATE TABLE peers (
    kind TEXT NOT NULL,
    handle TEXT NOT NULL,
    parent TEXT REFERENCES cas(handle),
    id_cert BLOB NOT NULL,
    resources TEXT,
    base_uri TEXT,
    service_uri TEXT,
    their_handle TEXT,
    our_handle TEXT,
    key_id TEXT,
    last_sync INTEGER,
    last_error TEXT,
    last_signing_time INTEGER,
    last_digests TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL,
    PRIMARY KEY (kind, handle)
);
CREATE TABLE child_certs (
    child TEXT NOT NULL,
    ski TEXT NOT NULL,
    name TEXT NOT NULL,
    resources TEXT NOT NULL,
    req_limit TEXT NOT NULL,
    PRIMARY KEY (child, ski)
);
CREATE TABLE publisher_objects (
    uri TEXT PRIMARY KEY,
    publisher TEXT NOT NULL,
    bytes BLOB NOT NULL,
    mtime INTEGER NOT NULL
);
CREATE INDEX publisher_objects_by ON publisher_objects (publisher, uri);
";

/// Schema version 6: a version number per publication point, raised by
/// every save, so a manifest signed outside the write lock is stored only
/// if its point did not change meanwhile.
const SCHEMA_V6: &str = "
ALTER TABLE cas ADD COLUMN point_version INTEGER NOT NULL DEFAULT 0;
";

/// Schema version 7: key rollover (RFC 6489). A CA's keys beside its
/// active one (new, or old until a remote parent revoked it), each with
/// its certificate (and where a remote parent published it) and its
/// publication point's
/// numbers (its objects are stored under `HANDLE@KEYID`), and when the
/// active key became active.
const SCHEMA_V7: &str = "
ALTER TABLE cas ADD COLUMN key_activated INTEGER;
CREATE TABLE ca_keys (
    ca TEXT NOT NULL REFERENCES cas(handle),
    key_id TEXT NOT NULL,
    state TEXT NOT NULL,
    cert BLOB NOT NULL,
    cert_serial TEXT NOT NULL,
    cert_not_after INTEGER NOT NULL,
    cert_uri TEXT,
    activated_generation INTEGER,
    started INTEGER NOT NULL,
    due INTEGER NOT NULL,
    next_manifest_number INTEGER NOT NULL,
    next_crl_number INTEGER NOT NULL,
    point_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ca, key_id)
);
";

/// Schema version 8: the SHA-256 of every published object, stored with
/// it, so that a tree write finds what changed and a manifest lists a
/// file without reading and hashing it again. Filled in for existing rows
/// by [`backfill_hashes`].
const SCHEMA_V8: &str = "
ALTER TABLE objects ADD COLUMN hash BLOB;
ALTER TABLE publisher_objects ADD COLUMN hash BLOB;
";

/// Schema version 9: a journal of the published paths that changed,
/// written by triggers whatever statement changes an object, so that a
/// tree write reads what changed since the tree it brings forward
/// instead of listing the whole repository. `path` is a hosted object's
/// path in the repository (the handle of a `HANDLE@KEYID` directory, as
/// [`crate::published_dir`]); `uri` a publisher's object's rsync URI.
/// AUTOINCREMENT: a sequence number is never handed out twice, even
/// after the rows below a reader's mark are pruned.
const SCHEMA_V9: &str = "
CREATE TABLE publication_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT,
    uri TEXT
);
CREATE TRIGGER objects_added AFTER INSERT ON objects BEGIN
    INSERT INTO publication_changes (path) VALUES (
        CASE WHEN instr(new.dir, '@') > 0 THEN substr(new.dir, 1, instr(new.dir, '@') - 1) || '/'
             WHEN new.dir = '' THEN '' ELSE new.dir || '/' END || new.name);
END;
CREATE TRIGGER objects_removed AFTER DELETE ON objects BEGIN
    INSERT INTO publication_changes (path) VALUES (
        CASE WHEN instr(old.dir, '@') > 0 THEN substr(old.dir, 1, instr(old.dir, '@') - 1) || '/'
             WHEN old.dir = '' THEN '' ELSE old.dir || '/' END || old.name);
END;
CREATE TRIGGER objects_changed AFTER UPDATE ON objects
WHEN old.dir IS NOT new.dir OR old.name IS NOT new.name OR old.hash IS NOT new.hash
     OR old.mtime IS NOT new.mtime BEGIN
    INSERT INTO publication_changes (path) VALUES (
        CASE WHEN instr(old.dir, '@') > 0 THEN substr(old.dir, 1, instr(old.dir, '@') - 1) || '/'
             WHEN old.dir = '' THEN '' ELSE old.dir || '/' END || old.name);
    INSERT INTO publication_changes (path) VALUES (
        CASE WHEN instr(new.dir, '@') > 0 THEN substr(new.dir, 1, instr(new.dir, '@') - 1) || '/'
             WHEN new.dir = '' THEN '' ELSE new.dir || '/' END || new.name);
END;
CREATE TRIGGER publisher_objects_added AFTER INSERT ON publisher_objects BEGIN
    INSERT INTO publication_changes (uri) VALUES (new.uri);
END;
CREATE TRIGGER publisher_objects_removed AFTER DELETE ON publisher_objects BEGIN
    INSERT INTO publication_changes (uri) VALUES (old.uri);
END;
CREATE TRIGGER publisher_objects_changed AFTER UPDATE ON publisher_objects
WHEN old.uri IS NOT new.uri OR old.hash IS NOT new.hash OR old.mtime IS NOT new.mtime BEGIN
    INSERT INTO publication_changes (uri) VALUES (old.uri);
    INSERT INTO publication_changes (uri) VALUES (new.uri);
END;
";

/// Version 10: the number of published files, kept by triggers, so a tree
/// write's statistics do not count 200,000 rows (4-6 ms with the pages
/// cached, 284 ms without, at 50,000 CAs). Upserts update rows in place
/// (`ON CONFLICT DO UPDATE`), so only inserts and deletes count.
const SCHEMA_V10: &str = "
CREATE TABLE published_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO published_count (id, n)
    VALUES (1, (SELECT count(*) FROM objects) + (SELECT count(*) FROM publisher_objects));
CREATE TRIGGER objects_counted_in AFTER INSERT ON objects BEGIN
    UPDATE published_count SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER objects_counted_out AFTER DELETE ON objects BEGIN
    UPDATE published_count SET n = n - 1 WHERE id = 1;
END;
CREATE TRIGGER publisher_objects_counted_in AFTER INSERT ON publisher_objects BEGIN
    UPDATE published_count SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER publisher_objects_counted_out AFTER DELETE ON publisher_objects BEGIN
    UPDATE published_count SET n = n - 1 WHERE id = 1;
END;
";

/// Version 11: each CA's contact, published as its Ghostbusters record
/// (RFC 6493). Deleted with the CA.
const SCHEMA_V11: &str = "
CREATE TABLE contacts (
    ca TEXT PRIMARY KEY REFERENCES cas(handle) ON DELETE CASCADE,
    vcard TEXT NOT NULL
);
";

/// Version 12: each CA's ASPAs (draft-ietf-sidrops-aspa-profile), one
/// per customer AS, the providers as canonical text (`0` or `64500,64501`,
/// ascending), and the BGPsec router keys it certifies (RFC 8209), by AS
/// and SKI, with the key (SubjectPublicKeyInfo DER). Deleted with the CA.
const SCHEMA_V12: &str = "
CREATE TABLE aspas (
    ca TEXT NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    customer INTEGER NOT NULL,
    providers TEXT NOT NULL,
    PRIMARY KEY (ca, customer)
);
CREATE TABLE router_keys (
    ca TEXT NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    asn INTEGER NOT NULL,
    ski TEXT NOT NULL,
    spki BLOB NOT NULL,
    PRIMARY KEY (ca, asn, ski)
);
";

/// Version 13: indexes of the published objects' expiry, one per kind the
/// scheduler asks about (manifests; other objects with a certificate),
/// so that the next due time is one index lookup. Without them, each
/// question read every row (`not_after` lies after the object's bytes):
/// 285 MB at 50,000 CAs, asked after every tree write. The expressions
/// are those of [`crate::Tx::earliest_expiry`] and `objects_due`, which
/// a partial index must match to be used.
const SCHEMA_V13: &str = "
CREATE INDEX objects_manifest_expiry ON objects (not_after)
    WHERE name LIKE '%.mft';
CREATE INDEX objects_certified_expiry ON objects (not_after)
    WHERE serial IS NOT NULL AND name NOT LIKE '%.mft';
";

/// Version 1 data directories predate the option; 60 is its default.
const JITTER_DEFAULT: &str = "
INSERT OR IGNORE INTO meta (key, value) VALUES ('jitter_minutes', '60');
";

/// The migrations, in order: entry `i` takes version `i` to `i + 1`.
/// Version 1 to 2 also gives old data directories the jitter default
/// (a new database gets its value from `init`, which overwrites it).
const MIGRATIONS: &[&[&str]] = &[
    &[SCHEMA_V1],
    &[SCHEMA_V2, JITTER_DEFAULT],
    &[SCHEMA_V3],
    &[SCHEMA_V4],
    &[SCHEMA_V5],
    &[SCHEMA_V6],
    &[SCHEMA_V7],
    &[SCHEMA_V8],
    &[SCHEMA_V9],
    &[SCHEMA_V10],
    &[SCHEMA_V11],
    &[SCHEMA_V12],
    &[SCHEMA_V13],
];

/// The schema version this code writes; `meta.schema_version`.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The schema version a new PostgreSQL database starts at.
pub const PG_FIRST: usize = 11;

/// Schema version [`PG_FIRST`] on PostgreSQL: the tables of SQLite's
/// versions 1 to 11, with BIGINT for INTEGER, BYTEA for BLOB and text
/// that sorts and compares bytewise (`COLLATE "C"`), as SQLite's does.
/// `cas.rowid` stands for SQLite's implicit rowid (creation order); the
/// triggers are those of SQLite's versions 3, 9 and 10.
pub const PG_SCHEMA: &str = r#"
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT COLLATE "C" NOT NULL);
CREATE TABLE cas (
    rowid BIGSERIAL UNIQUE NOT NULL,
    handle TEXT COLLATE "C" PRIMARY KEY,
    parent TEXT COLLATE "C" REFERENCES cas(handle),
    resources TEXT COLLATE "C" NOT NULL,
    key_id TEXT COLLATE "C" NOT NULL,
    cert BYTEA NOT NULL,
    cert_serial TEXT COLLATE "C" NOT NULL,
    cert_not_after BIGINT NOT NULL,
    next_manifest_number BIGINT NOT NULL,
    next_crl_number BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    cert_uri TEXT COLLATE "C",
    point_version BIGINT NOT NULL DEFAULT 0,
    key_activated BIGINT
);
CREATE TABLE roas (
    ca TEXT COLLATE "C" NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    asn BIGINT NOT NULL,
    prefix TEXT COLLATE "C" NOT NULL,
    max_length BIGINT NOT NULL,
    PRIMARY KEY (ca, asn, prefix, max_length)
);
CREATE TABLE objects (
    dir TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    bytes BYTEA NOT NULL,
    serial TEXT COLLATE "C",
    not_after BIGINT NOT NULL,
    mtime BIGINT NOT NULL,
    hash BYTEA,
    PRIMARY KEY (dir, name)
);
CREATE TABLE revocations (
    ca TEXT COLLATE "C" NOT NULL,
    serial TEXT COLLATE "C" NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    PRIMARY KEY (ca, serial)
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    time BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    ca TEXT COLLATE "C",
    detail TEXT COLLATE "C" NOT NULL,
    request_id TEXT COLLATE "C",
    before TEXT COLLATE "C",
    after TEXT COLLATE "C"
);
CREATE INDEX audit_ca ON audit (ca, id);
CREATE FUNCTION anchorage_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION anchorage_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION anchorage_audit_append_only();
CREATE TABLE rrdp_objects (uri TEXT COLLATE "C" PRIMARY KEY, hash BYTEA NOT NULL);
CREATE TABLE rrdp_deltas (
    serial BIGINT PRIMARY KEY,
    path TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    size BIGINT NOT NULL,
    created BIGINT NOT NULL
);
CREATE TABLE tokens (
    id TEXT COLLATE "C" PRIMARY KEY,
    hash TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL,
    cas TEXT COLLATE "C" NOT NULL,
    description TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    revoked BIGINT
);
CREATE TABLE pending_points (handle TEXT COLLATE "C" PRIMARY KEY);
CREATE TABLE peers (
    kind TEXT COLLATE "C" NOT NULL,
    handle TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" REFERENCES cas(handle),
    id_cert BYTEA NOT NULL,
    resources TEXT COLLATE "C",
    base_uri TEXT COLLATE "C",
    service_uri TEXT COLLATE "C",
    their_handle TEXT COLLATE "C",
    our_handle TEXT COLLATE "C",
    key_id TEXT COLLATE "C",
    last_sync BIGINT,
    last_error TEXT COLLATE "C",
    last_signing_time BIGINT,
    last_digests TEXT COLLATE "C" NOT NULL DEFAULT '',
    created BIGINT NOT NULL,
    PRIMARY KEY (kind, handle)
);
CREATE TABLE child_certs (
    child TEXT COLLATE "C" NOT NULL,
    ski TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    resources TEXT COLLATE "C" NOT NULL,
    req_limit TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (child, ski)
);
CREATE TABLE publisher_objects (
    uri TEXT COLLATE "C" PRIMARY KEY,
    publisher TEXT COLLATE "C" NOT NULL,
    bytes BYTEA NOT NULL,
    mtime BIGINT NOT NULL,
    hash BYTEA
);
CREATE INDEX publisher_objects_by ON publisher_objects (publisher, uri);
CREATE TABLE ca_keys (
    ca TEXT COLLATE "C" NOT NULL REFERENCES cas(handle),
    key_id TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    cert BYTEA NOT NULL,
    cert_serial TEXT COLLATE "C" NOT NULL,
    cert_not_after BIGINT NOT NULL,
    cert_uri TEXT COLLATE "C",
    activated_generation BIGINT,
    started BIGINT NOT NULL,
    due BIGINT NOT NULL,
    next_manifest_number BIGINT NOT NULL,
    next_crl_number BIGINT NOT NULL,
    point_version BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (ca, key_id)
);
CREATE TABLE publication_changes (
    seq BIGSERIAL PRIMARY KEY,
    path TEXT COLLATE "C",
    uri TEXT COLLATE "C"
);
CREATE FUNCTION anchorage_published_path(dir TEXT, name TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN position('@' in dir) > 0 THEN split_part(dir, '@', 1) || '/'
                WHEN dir = '' THEN '' ELSE dir || '/' END || name $$;
CREATE FUNCTION anchorage_objects_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO publication_changes (path) VALUES (anchorage_published_path(OLD.dir, OLD.name));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO publication_changes (path) VALUES (anchorage_published_path(NEW.dir, NEW.name));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER objects_journal AFTER INSERT OR DELETE ON objects
    FOR EACH ROW EXECUTE FUNCTION anchorage_objects_journal();
CREATE TRIGGER objects_journal_changed AFTER UPDATE ON objects FOR EACH ROW
    WHEN (OLD.dir IS DISTINCT FROM NEW.dir OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.hash IS DISTINCT FROM NEW.hash OR OLD.mtime IS DISTINCT FROM NEW.mtime)
    EXECUTE FUNCTION anchorage_objects_journal();
CREATE FUNCTION anchorage_publisher_objects_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO publication_changes (uri) VALUES (OLD.uri);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO publication_changes (uri) VALUES (NEW.uri);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER publisher_objects_journal AFTER INSERT OR DELETE ON publisher_objects
    FOR EACH ROW EXECUTE FUNCTION anchorage_publisher_objects_journal();
CREATE TRIGGER publisher_objects_journal_changed AFTER UPDATE ON publisher_objects FOR EACH ROW
    WHEN (OLD.uri IS DISTINCT FROM NEW.uri OR OLD.hash IS DISTINCT FROM NEW.hash
          OR OLD.mtime IS DISTINCT FROM NEW.mtime)
    EXECUTE FUNCTION anchorage_publisher_objects_journal();
CREATE TABLE published_count (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO published_count (id, n) VALUES (1, 0);
CREATE FUNCTION anchorage_count_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE published_count SET n = n + CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END
        WHERE id = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER objects_counted AFTER INSERT OR DELETE ON objects
    FOR EACH ROW EXECUTE FUNCTION anchorage_count_published();
CREATE TRIGGER publisher_objects_counted AFTER INSERT OR DELETE ON publisher_objects
    FOR EACH ROW EXECUTE FUNCTION anchorage_count_published();
CREATE TABLE contacts (
    ca TEXT COLLATE "C" PRIMARY KEY REFERENCES cas(handle) ON DELETE CASCADE,
    vcard TEXT COLLATE "C" NOT NULL
);
"#;

/// The PostgreSQL migrations after [`PG_FIRST`]: entry `i` takes version
/// `PG_FIRST + i` to `PG_FIRST + i + 1`, as SQLite's entry of that version.
const PG_MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE aspas (
    ca TEXT COLLATE "C" NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    customer BIGINT NOT NULL,
    providers TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (ca, customer)
);
CREATE TABLE router_keys (
    ca TEXT COLLATE "C" NOT NULL REFERENCES cas(handle) ON DELETE CASCADE,
    asn BIGINT NOT NULL,
    ski TEXT COLLATE "C" NOT NULL,
    spki BYTEA NOT NULL,
    PRIMARY KEY (ca, asn, ski)
);
"#,
    SCHEMA_V13,
];

const _: () = assert!(PG_FIRST + PG_MIGRATIONS.len() == SCHEMA_VERSION);

/// Whether an Anchorage schema exists in a PostgreSQL database.
pub(crate) fn pg_exists(tx: &Tx<'_>) -> Result<bool> {
    Ok(tx.row(
        "SELECT CASE WHEN to_regclass('meta') IS NULL THEN 0 ELSE 1 END",
        args![],
        |r| r.get::<i64>(0),
    )? == 1)
}

/// Creates the whole schema in an empty database.
pub(crate) fn create(tx: &Tx<'_>) -> Result<()> {
    if tx.is_pg() {
        tx.batch(PG_SCHEMA)?;
        for sql in PG_MIGRATIONS {
            tx.batch(sql)?;
        }
    } else {
        run_from(tx, 0)?;
    }
    tx.exec(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
        args![SCHEMA_VERSION.to_string()],
    )?;
    Ok(())
}

/// Brings an existing database to [`SCHEMA_VERSION`]; refuses one written
/// by a newer Anchorage.
pub(crate) fn migrate(tx: &Tx<'_>) -> Result<bool> {
    let version: String = tx
        .opt_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            args![],
            |r| r.get(0),
        )?
        .ok_or_else(|| corrupt("schema version", "missing"))?;
    let from = version
        .parse::<usize>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| corrupt("schema version", &version))?;
    if from > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    if from == SCHEMA_VERSION {
        return Ok(false);
    }
    if tx.is_pg() {
        let start = from
            .checked_sub(PG_FIRST)
            .ok_or_else(|| corrupt("schema version", &version))?;
        for sql in &PG_MIGRATIONS[start..] {
            tx.batch(sql)?;
        }
    } else {
        run_from(tx, from)?;
        backfill_hashes(tx)?;
    }
    tx.exec(
        "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
        args![SCHEMA_VERSION.to_string()],
    )?;
    Ok(true)
}

/// Stores the hash of every published object that has none (SQLite rows
/// written before schema version 8), a chunk of rows at a time so that
/// the repository is never in memory whole.
fn backfill_hashes(tx: &Tx<'_>) -> Result<()> {
    for table in ["objects", "publisher_objects"] {
        loop {
            let rows: Vec<(i64, Vec<u8>)> = tx.rows(
                &format!("SELECT rowid, bytes FROM {table} WHERE hash IS NULL LIMIT 1024"),
                args![],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if rows.is_empty() {
                break;
            }
            for (id, bytes) in rows {
                tx.exec(
                    &format!("UPDATE {table} SET hash = ?2 WHERE rowid = ?1"),
                    args![id, crate::sha256(&bytes).as_slice()],
                )?;
            }
        }
    }
    Ok(())
}

fn run_from(tx: &Tx<'_>, from: usize) -> Result<()> {
    for steps in &MIGRATIONS[from..] {
        for sql in *steps {
            tx.batch(sql)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    /// A SQLite database at schema version `old`, made by running the
    /// migrations up to it; `extra` runs after them.
    fn old_database(path: &std::path::Path, old: usize, extra: &str) {
        let conn = rusqlite::Connection::open(path).unwrap();
        for steps in &MIGRATIONS[..old] {
            for sql in *steps {
                conn.execute_batch(sql).unwrap();
            }
        }
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
            [old.to_string()],
        )
        .unwrap();
        conn.execute_batch(extra).unwrap();
    }

    fn shape(path: &std::path::Path) -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// Every older schema version migrates to the same tables, columns
    /// and indexes as a new database.
    #[test]
    fn every_version_migrates_to_the_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        drop(Store::create(&fresh).unwrap());
        for old in 1..SCHEMA_VERSION {
            let path = dir.path().join(format!("v{old}.db"));
            old_database(&path, old, "");
            drop(Store::open(&path).unwrap());
            drop(Store::open(&path).unwrap());
            assert_eq!(shape(&path), shape(&fresh), "from version {old}");
        }
        let conn = rusqlite::Connection::open(&fresh).unwrap();
        conn.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
        drop(conn);
        let err = Store::open(&fresh)
            .err()
            .expect("a newer schema is refused");
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    /// Objects stored before version 8 get their hash from the migration.
    #[test]
    fn the_migration_to_version_8_hashes_every_stored_object() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v7.db");
        old_database(
            &path,
            7,
            "INSERT INTO objects (dir, name, bytes, not_after, mtime) VALUES ('ca', 'a.roa', x'0102', 0, 0);
             INSERT INTO publisher_objects (uri, publisher, bytes, mtime) VALUES ('rsync://h/r/p/x.cer', 'p', x'03', 0);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO objects (dir, name, bytes, not_after, mtime)
                 SELECT 'big', 'f' || i || '.roa', x'0405', 0, 0 FROM n;",
        );
        drop(Store::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        let unhashed: i64 = conn
            .query_row("SELECT count(*) FROM objects WHERE hash IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(unhashed, 0, "every chunk of rows is hashed");
        let hash = |sql: &str| -> Vec<u8> { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            hash("SELECT hash FROM objects WHERE dir = 'ca'"),
            crate::sha256(&[1, 2]).to_vec()
        );
        assert_eq!(
            hash("SELECT hash FROM publisher_objects"),
            crate::sha256(&[3]).to_vec()
        );
    }
}
