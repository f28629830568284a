//! Durable state of Anchorage: CAs, ROA configurations, published objects,
//! revocations and the audit log, in SQLite.
//!
//! Every state-changing command runs in one [`Tx`] opened with
//! `BEGIN IMMEDIATE` (one writer at a time, across processes) and commits
//! before the command reports success. The database runs in WAL mode with
//! `synchronous=FULL`, so a committed transaction survives a crash or
//! `kill -9`, and an uncommitted one leaves no trace.
//!
//! Published objects are stored with the exact bytes and an mtime: the
//! mtime changes exactly when the bytes do and strictly increases, so the
//! rsync tree written from the store never makes rsync skip a changed file
//! nor re-send an unchanged one.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use anchorage_ca_core::point::PublishedObject;
use anchorage_ca_core::{
    CaRecord, IpPrefix, PublicationPoint, ResourceSet, Revocation, RoaPayload,
};
use bytes::Bytes;
use chrono::DateTime;
use rpki::crypto::KeyIdentifier;
use rpki::repository::x509::{Serial, Time};
use rusqlite::{Connection, OptionalExtension, params};

mod gate;
mod peers;
mod schema;
pub use gate::{GateGuard, WriteGate};
pub use peers::{ChildCert, Peer, PeerKind};
pub use schema::SCHEMA_VERSION;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// `init` on a data dir that already has a database.
    #[error("a database already exists at {0}; refusing to initialise twice")]
    AlreadyExists(String),
    /// Any command on a data dir without a database.
    #[error("no database at {0}; run `anchorage init` first")]
    Missing(String),
    /// A stored value could not be decoded.
    #[error("corrupt value in the store ({what}): {value}")]
    Corrupt {
        /// What was being read.
        what: &'static str,
        /// The offending value.
        value: String,
    },
}

/// An RRDP delta file as the store keeps it (the RRDP server's own
/// record, converted by the engine: the store does not depend on it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaRecord {
    /// The serial the delta leads to.
    pub serial: u64,
    /// Its path below the RRDP base URI.
    pub path: String,
    /// SHA-256 of the file, hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was written, seconds since the epoch.
    pub created: i64,
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open Anchorage database.
pub struct Store {
    conn: Connection,
    gate: Arc<WriteGate>,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement of the hot paths (`Tx::exec`).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

impl Store {
    /// Creates a new database; fails if one exists at `path`.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.display().to_string()));
        }
        let conn = Connection::open(path)?;
        configure(&conn)?;
        let mut store = Store {
            conn,
            gate: Arc::new(WriteGate::default()),
        };
        let tx = store
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        schema::create(&tx)?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens an existing database, bringing an older schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_shared(path, Arc::new(WriteGate::default()))
    }

    /// Opens another connection to an existing database that shares
    /// `gate` with the connections it was opened beside: their write
    /// transactions take turns in this process without polling SQLite's
    /// busy handler.
    pub fn open_shared(path: &Path, gate: Arc<WriteGate>) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        let mut store = Store { conn, gate };
        store.migrate()?;
        Ok(store)
    }

    /// The gate this connection's write transactions pass.
    pub fn gate(&self) -> &Arc<WriteGate> {
        &self.gate
    }

    /// Brings an older database to the current schema, in one transaction.
    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if schema::migrate(&tx)? {
            tx.commit()?;
        }
        Ok(())
    }

    /// Starts a write transaction; it holds the database's write lock
    /// (and this process's [`WriteGate`]) until it ends.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        let guard = self.gate.enter();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Ok(Tx {
            tx,
            _gate: Some(guard),
        })
    }

    /// Starts a write transaction under a gate the caller already holds
    /// (see [`WriteGate::enter`]).
    pub fn transaction_entered(&mut self, _held: &GateGuard) -> Result<Tx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        Ok(Tx { tx, _gate: None })
    }

    /// Starts a read transaction: a consistent view without taking the
    /// write lock.
    pub fn read_transaction(&mut self) -> Result<Tx<'_>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        Ok(Tx { tx, _gate: None })
    }

    /// Checks the database's integrity (SQLite `PRAGMA integrity_check`).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// A write transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx<'a> {
    // Declared first, so the transaction ends before the gate opens.
    tx: rusqlite::Transaction<'a>,
    _gate: Option<GateGuard>,
}

/// A published file as stored, with its path and mtime.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// The publication point directory, or '' for the module root.
    pub dir: String,
    /// The file name.
    pub name: String,
    /// The exact bytes.
    pub bytes: Bytes,
    /// Seconds since the epoch at which the bytes last changed.
    pub mtime: i64,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// Its position in the log.
    pub id: i64,
    /// Seconds since the epoch.
    pub time: i64,
    /// Who did it.
    pub actor: String,
    /// The API request that did it, if any.
    pub request_id: Option<String>,
    /// What was done.
    pub action: String,
    /// The CA concerned, if any.
    pub ca: Option<String>,
    /// Details.
    pub detail: String,
    /// The state before, if it existed.
    pub before: Option<String>,
    /// The state after, if it exists.
    pub after: Option<String>,
}

/// Who is changing something: recorded with every audit entry.
#[derive(Clone, Copy, Debug)]
pub struct Who<'a> {
    /// The operator or token.
    pub actor: &'a str,
    /// The API request, if any.
    pub request_id: Option<&'a str>,
}

/// Which audit entries to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only those of these CAs (none: all).
    pub cas: Option<Vec<String>>,
    /// Only those of this actor.
    pub actor: Option<String>,
    /// Only those at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Only those at or before this time.
    pub until: Option<i64>,
    /// At most this many, the newest (0: no limit).
    pub limit: usize,
}

/// An admin API token as stored (its secret only as an argon2 hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The public id (part of the token).
    pub id: String,
    /// The argon2 PHC string of the secret.
    pub hash: String,
    /// `admin`, `ca-operator` or `read-only`.
    pub role: String,
    /// The CA handles it is limited to (with their descendants).
    pub cas: Vec<String>,
    /// What it is for.
    pub description: String,
    /// When it was created (seconds since the epoch).
    pub created: i64,
    /// Who created it.
    pub created_by: String,
    /// When it was revoked, if it was.
    pub revoked: Option<i64>,
}

/// Converts a time to seconds since the epoch.
pub fn to_secs(t: Time) -> i64 {
    t.timestamp()
}

/// Converts seconds since the epoch to a time.
pub fn from_secs(s: i64) -> Result<Time> {
    DateTime::from_timestamp(s, 0)
        .map(Time::new)
        .ok_or(StoreError::Corrupt {
            what: "timestamp",
            value: s.to_string(),
        })
}

fn corrupt(what: &'static str, value: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        value: value.to_string(),
    }
}

/// Parses a serial as `Serial`'s `Display` writes it (decimal).
///
/// Loading a publication point parses every revocation's serial; the
/// `rpki` crate's `FromStr` multiplies all 160 bits per digit and showed
/// up in profiles, so this accumulates in five 32-bit limbs instead.
fn parse_serial(s: &str) -> Result<Serial> {
    let bad = || corrupt("serial", s);
    if s.is_empty() || s.len() > 49 {
        return Err(bad());
    }
    let mut limbs = [0u32; 5]; // least significant first
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(bad());
        }
        let mut carry = u64::from(b - b'0');
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * 10 + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            return Err(bad());
        }
    }
    let mut array = [0u8; 20];
    for (i, limb) in limbs.iter().enumerate() {
        array[16 - 4 * i..20 - 4 * i].copy_from_slice(&limb.to_be_bytes());
    }
    Serial::from_array(array).map_err(|_| bad())
}

type CaRow = (
    String,
    Option<String>,
    String,
    String,
    Vec<u8>,
    String,
    i64,
    Option<String>,
);

/// Parses stored resources. A CA whose remote parent took everything
/// back holds the empty set, which the operator syntax does not accept.
fn parse_resources(what: &'static str, s: &str) -> Result<ResourceSet> {
    if s.trim().is_empty() {
        return Ok(ResourceSet::default());
    }
    s.parse().map_err(|_| corrupt(what, s))
}

fn ca_from_row(row: CaRow) -> Result<CaRecord> {
    let (handle, parent, resources, key, cert, serial, not_after, cert_uri) = row;
    Ok(CaRecord {
        resources: parse_resources("resources", &resources)?,
        key: key
            .parse::<KeyIdentifier>()
            .map_err(|_| corrupt("key identifier", &key))?,
        cert: Bytes::from(cert),
        cert_serial: parse_serial(&serial)?,
        cert_not_after: from_secs(not_after)?,
        handle,
        parent,
        cert_uri,
    })
}

const CA_COLUMNS: &str =
    "handle, parent, resources, key_id, cert, cert_serial, cert_not_after, cert_uri";

impl Tx<'_> {
    /// Runs one statement through the connection's statement cache: the
    /// hot paths run the same few statements thousands of times, and
    /// preparing each anew showed up in profiles.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// [`Self::exec`] for a query of one row.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    /// Commits the transaction durably.
    pub fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// Reads a configuration value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Writes a configuration value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Loads a CA by handle.
    pub fn ca(&self, handle: &str) -> Result<Option<CaRecord>> {
        let row: Option<CaRow> = self
            .tx
            .query_row(
                &format!("SELECT {CA_COLUMNS} FROM cas WHERE handle = ?1"),
                [handle],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                    ))
                },
            )
            .optional()?;
        row.map(ca_from_row).transpose()
    }

    /// Loads all CAs in creation order, so parents come before children.
    pub fn cas(&self) -> Result<Vec<CaRecord>> {
        let mut stmt = self
            .tx
            .prepare(&format!("SELECT {CA_COLUMNS} FROM cas ORDER BY rowid"))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(ca_from_row(row?)?);
        }
        Ok(out)
    }

    /// Handles of the CAs whose parent is `handle`.
    pub fn children(&self, handle: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT handle FROM cas WHERE parent = ?1 ORDER BY handle")?;
        let rows = stmt.query_map([handle], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Inserts a new CA with an empty publication point state.
    pub fn insert_ca(&self, ca: &CaRecord, now: Time) -> Result<()> {
        self.exec(
            "INSERT INTO cas (handle, parent, resources, key_id, cert, cert_serial,
                              cert_not_after, next_manifest_number, next_crl_number, created_at,
                              cert_uri)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 1, ?8, ?9)",
            params![
                ca.handle,
                ca.parent,
                ca.resources.to_string(),
                ca.key.to_string(),
                ca.cert.as_ref(),
                ca.cert_serial.to_string(),
                to_secs(ca.cert_not_after),
                to_secs(now),
                ca.cert_uri,
            ],
        )?;
        Ok(())
    }

    /// Stores a CA's new certificate and resources.
    pub fn update_ca(&self, ca: &CaRecord) -> Result<()> {
        self.exec(
            "UPDATE cas SET resources = ?2, key_id = ?3, cert = ?4, cert_serial = ?5,
                            cert_not_after = ?6, cert_uri = ?7 WHERE handle = ?1",
            params![
                ca.handle,
                ca.resources.to_string(),
                ca.key.to_string(),
                ca.cert.as_ref(),
                ca.cert_serial.to_string(),
                to_secs(ca.cert_not_after),
                ca.cert_uri,
            ],
        )?;
        Ok(())
    }

    /// Deletes a CA, its ROA configuration and its revocations.
    ///
    /// Its published objects must have been withdrawn by saving its point.
    pub fn delete_ca(&self, handle: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM roas WHERE ca = ?1", [handle])?;
        self.tx
            .execute("DELETE FROM revocations WHERE ca = ?1", [handle])?;
        self.tx
            .execute("DELETE FROM objects WHERE dir = ?1", [handle])?;
        self.tx
            .execute("DELETE FROM cas WHERE handle = ?1", [handle])?;
        Ok(())
    }

    /// Loads the publication point of a CA.
    pub fn point(&self, handle: &str) -> Result<PublicationPoint> {
        self.load_point(handle, None)
    }

    /// The publication point of a CA with only the objects named `names`
    /// loaded (see [`PublicationPoint::restore_partial`]): for adding or
    /// replacing a few files of a large point without reading it all.
    pub fn point_partial(&self, handle: &str, names: &[&str]) -> Result<PublicationPoint> {
        self.load_point(handle, Some(names))
    }

    fn load_point(&self, handle: &str, names: Option<&[&str]>) -> Result<PublicationPoint> {
        let (mft, crl): (i64, i64) = self.row(
            "SELECT next_manifest_number, next_crl_number FROM cas WHERE handle = ?1",
            [handle],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let row = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
            ))
        };
        let rows: Vec<_> = match names {
            None => self
                .tx
                .prepare_cached(
                    "SELECT name, bytes, serial, not_after FROM objects WHERE dir = ?1",
                )?
                .query_map([handle], row)?
                .collect::<std::result::Result<_, _>>()?,
            // One primary-key lookup per name, not a scan of the point.
            Some(names) => {
                let mut stmt = self.tx.prepare_cached(
                    "SELECT name, bytes, serial, not_after FROM objects WHERE dir = ?1 AND name = ?2",
                )?;
                let mut found = Vec::new();
                for name in names {
                    if let Some(r) = stmt.query_row([handle, name], row).optional()? {
                        found.push(r);
                    }
                }
                found
            }
        };
        let mut objects = Vec::new();
        for (name, bytes, serial, not_after) in rows {
            objects.push(PublishedObject {
                name,
                bytes: Bytes::from(bytes),
                serial: serial.as_deref().map(parse_serial).transpose()?,
                not_after: from_secs(not_after)?,
            });
        }
        let number = |n: i64, what| u64::try_from(n).map_err(|_| corrupt(what, n));
        let (mft, crl) = (number(mft, "manifest number")?, number(crl, "CRL number")?);
        if names.is_some() {
            // A partial point is never refreshed and its new revocations
            // are inserted one by one (`save_point`): it needs none loaded.
            return Ok(PublicationPoint::restore_partial(objects, mft, crl));
        }
        let mut stmt = self
            .tx
            .prepare_cached("SELECT serial, revoked_at, expires FROM revocations WHERE ca = ?1")?;
        let rows = stmt.query_map([handle], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut revocations = Vec::new();
        for row in rows {
            let (serial, revoked_at, expires) = row?;
            revocations.push(Revocation {
                serial: parse_serial(&serial)?,
                revoked_at: from_secs(revoked_at)?,
                expires: from_secs(expires)?,
            });
        }
        Ok(PublicationPoint::restore(objects, revocations, mft, crl))
    }

    /// Writes the changes of a publication point.
    ///
    /// `now` becomes the mtime of changed files, or one second after their
    /// previous mtime if that is later, so every new version has a new mtime.
    pub fn save_point(&self, handle: &str, point: &PublicationPoint, now: Time) -> Result<()> {
        for name in point.removed() {
            self.exec(
                "DELETE FROM objects WHERE dir = ?1 AND name = ?2",
                [handle, name],
            )?;
        }
        for obj in point.changed() {
            self.put_object(handle, obj, now)?;
        }
        // Revocations mostly only grow: insert what is new, and rewrite
        // the list only when expired entries were dropped from it.
        let (added, dropped) = point.revocation_changes();
        let mut insert = self.tx.prepare_cached(
            "INSERT OR IGNORE INTO revocations (ca, serial, revoked_at, expires) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let rows: Vec<&Revocation> = if dropped {
            self.tx
                .execute("DELETE FROM revocations WHERE ca = ?1", [handle])?;
            point.revocations.iter().collect()
        } else {
            added.collect()
        };
        for r in rows {
            insert.execute(params![
                handle,
                r.serial.to_string(),
                to_secs(r.revoked_at),
                to_secs(r.expires)
            ])?;
        }
        let number = |n: u64| i64::try_from(n).map_err(|_| corrupt("number", n));
        self.exec(
            "UPDATE cas SET next_manifest_number = ?2, next_crl_number = ?3,
                point_version = point_version + 1 WHERE handle = ?1",
            params![
                handle,
                number(point.next_manifest_number)?,
                number(point.next_crl_number)?
            ],
        )?;
        Ok(())
    }

    /// Writes one published file into `dir` ('' is the module root).
    pub fn put_object(&self, dir: &str, obj: &PublishedObject, now: Time) -> Result<()> {
        self.exec(
            "INSERT INTO objects (dir, name, bytes, serial, not_after, mtime)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (dir, name) DO UPDATE SET
                mtime = CASE WHEN objects.bytes = excluded.bytes THEN objects.mtime
                             ELSE max(excluded.mtime, objects.mtime + 1) END,
                bytes = excluded.bytes,
                serial = excluded.serial,
                not_after = excluded.not_after",
            params![
                dir,
                obj.name,
                obj.bytes.as_ref(),
                obj.serial.map(|s| s.to_string()),
                to_secs(obj.not_after),
                to_secs(now)
            ],
        )?;
        Ok(())
    }

    /// Every published file, for writing the repository tree.
    pub fn files(&self) -> Result<Vec<StoredFile>> {
        let mut stmt = self
            .tx
            .prepare("SELECT dir, name, bytes, mtime FROM objects ORDER BY dir, name")?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredFile {
                dir: r.get(0)?,
                name: r.get(1)?,
                bytes: Bytes::from(r.get::<_, Vec<u8>>(2)?),
                mtime: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The ROA payloads of a CA, optionally only those of one ASN.
    pub fn roas(&self, handle: &str, asn: Option<u32>) -> Result<Vec<RoaPayload>> {
        self.roas_where(
            "WHERE ca = ?1 AND (?2 IS NULL OR asn = ?2)",
            params![handle, asn],
        )
    }

    /// Every configured ROA payload of every CA.
    pub fn all_roas(&self) -> Result<Vec<RoaPayload>> {
        self.roas_where("", params![])
    }

    fn roas_where(&self, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<RoaPayload>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT asn, prefix, max_length FROM roas {cond} ORDER BY asn, prefix, max_length"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u8>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (asn, prefix, max_length) = row?;
            let prefix: IpPrefix = prefix.parse().map_err(|_| corrupt("prefix", &prefix))?;
            out.push(
                RoaPayload::new(asn, prefix, Some(max_length))
                    .map_err(|_| corrupt("maxLength", max_length))?,
            );
        }
        Ok(out)
    }

    /// The newest audit entry's id: it changes whenever anything does.
    pub fn audit_generation(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM audit", [], |r| r.get(0))?)
    }

    /// Adds a ROA payload; false if it was already configured.
    pub fn insert_roa(&self, handle: &str, roa: &RoaPayload) -> Result<bool> {
        let n = self.exec(
            "INSERT OR IGNORE INTO roas (ca, asn, prefix, max_length) VALUES (?1, ?2, ?3, ?4)",
            params![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }

    /// Removes a ROA payload; false if it was not configured.
    pub fn delete_roa(&self, handle: &str, roa: &RoaPayload) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM roas WHERE ca = ?1 AND asn = ?2 AND prefix = ?3 AND max_length = ?4",
            params![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }

    /// The earliest expiry (seconds) of manifests, or of everything else
    /// that carries a certificate (CA certificates, ROAs).
    pub fn earliest_expiry(&self, manifests: bool) -> Result<Option<i64>> {
        let sql = if manifests {
            "SELECT min(not_after) FROM objects WHERE name LIKE '%.mft'"
        } else {
            "SELECT min(not_after) FROM objects WHERE serial IS NOT NULL AND name NOT LIKE '%.mft'"
        };
        Ok(self.row(sql, [], |r| r.get(0))?)
    }

    /// The number of published objects by file extension.
    pub fn object_counts(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT substr(name, -3), count(*) FROM objects GROUP BY substr(name, -3) ORDER BY 1",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The URIs and hashes RRDP last published.
    pub fn rrdp_objects(&self) -> Result<Vec<(String, [u8; 32])>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT uri, hash FROM rrdp_objects")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (uri, hash) = row?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| corrupt("RRDP hash", &uri))?;
            out.push((uri, hash));
        }
        Ok(out)
    }

    /// Records what a new RRDP serial publishes and withdraws.
    pub fn rrdp_apply(&self, published: &[(String, [u8; 32])], withdrawn: &[String]) -> Result<()> {
        for uri in withdrawn {
            self.tx
                .execute("DELETE FROM rrdp_objects WHERE uri = ?1", [uri])?;
        }
        for (uri, hash) in published {
            self.exec(
                "INSERT INTO rrdp_objects (uri, hash) VALUES (?1, ?2)
                 ON CONFLICT (uri) DO UPDATE SET hash = excluded.hash",
                params![uri, hash.as_slice()],
            )?;
        }
        Ok(())
    }

    /// Forgets all RRDP state, for a new session.
    pub fn rrdp_reset(&self) -> Result<()> {
        self.exec("DELETE FROM rrdp_objects", [])?;
        self.exec("DELETE FROM rrdp_deltas", [])?;
        Ok(())
    }

    /// The deltas listed in the notification file, newest first.
    pub fn rrdp_deltas(&self) -> Result<Vec<DeltaRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT serial, path, hash, size, created FROM rrdp_deltas ORDER BY serial DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeltaRecord {
                serial: r.get::<_, i64>(0)? as u64,
                path: r.get(1)?,
                hash: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                created: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Replaces the list of deltas.
    pub fn set_rrdp_deltas(&self, deltas: &[DeltaRecord]) -> Result<()> {
        self.exec("DELETE FROM rrdp_deltas", [])?;
        for d in deltas {
            self.exec(
                "INSERT INTO rrdp_deltas (serial, path, hash, size, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![d.serial as i64, d.path, d.hash, d.size as i64, d.created],
            )?;
        }
        Ok(())
    }

    /// Appends to the audit log.
    pub fn audit(
        &self,
        now: Time,
        who: Who<'_>,
        action: &str,
        ca: Option<&str>,
        detail: &str,
    ) -> Result<()> {
        self.audit_change(now, who, action, ca, detail, None, None)
    }

    /// Appends to the audit log, with the state before and after.
    #[allow(clippy::too_many_arguments)]
    pub fn audit_change(
        &self,
        now: Time,
        who: Who<'_>,
        action: &str,
        ca: Option<&str>,
        detail: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO audit (time, actor, request_id, action, ca, detail, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                to_secs(now),
                who.actor,
                who.request_id,
                action,
                ca,
                detail,
                before,
                after
            ],
        )?;
        Ok(())
    }

    /// Reads the audit log, oldest first, as `filter` says.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = String::from(
            "SELECT id, time, actor, request_id, action, ca, detail, before, after FROM audit WHERE 1=1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(cas) = &filter.cas {
            sql.push_str(" AND ca IN (SELECT value FROM json_each(?))");
            args.push(serde_json::to_string(cas).unwrap_or_default().into());
        }
        if let Some(actor) = &filter.actor {
            sql.push_str(" AND actor = ?");
            args.push(actor.clone().into());
        }
        if let Some(since) = filter.since {
            sql.push_str(" AND time >= ?");
            args.push(since.into());
        }
        if let Some(until) = filter.until {
            sql.push_str(" AND time <= ?");
            args.push(until.into());
        }
        sql.push_str(" ORDER BY id DESC");
        if filter.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", filter.limit));
        }
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                time: r.get(1)?,
                actor: r.get(2)?,
                request_id: r.get(3)?,
                action: r.get(4)?,
                ca: r.get(5)?,
                detail: r.get(6)?,
                before: r.get(7)?,
                after: r.get(8)?,
            })
        })?;
        let mut out: Vec<AuditEntry> = rows.collect::<std::result::Result<_, _>>()?;
        out.reverse();
        Ok(out)
    }

    /// Notes that `handle`'s manifest and CRL must be reissued before the
    /// next tree is written.
    pub fn mark_pending(&self, handle: &str) -> Result<()> {
        self.exec(
            "INSERT OR IGNORE INTO pending_points (handle) VALUES (?1)",
            [handle],
        )?;
        Ok(())
    }

    /// The points whose manifest and CRL are owed.
    pub fn pending_points(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT handle FROM pending_points ORDER BY handle")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Clears the pending mark of one point.
    pub fn clear_pending_of(&self, handle: &str) -> Result<()> {
        self.exec("DELETE FROM pending_points WHERE handle = ?1", [handle])?;
        Ok(())
    }

    /// The version of a CA's publication point: it rises with every
    /// [`Self::save_point`], so work done on a point outside the write
    /// lock can check that nobody saved it meanwhile. `None`: no such CA.
    pub fn point_version(&self, handle: &str) -> Result<Option<i64>> {
        Ok(self
            .row(
                "SELECT point_version FROM cas WHERE handle = ?1",
                [handle],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Clears every pending mark.
    pub fn clear_pending(&self) -> Result<()> {
        self.exec("DELETE FROM pending_points", [])?;
        Ok(())
    }

    /// Stores a new token.
    pub fn insert_token(&self, t: &StoredToken) -> Result<()> {
        self.exec(
            "INSERT INTO tokens (id, hash, role, cas, description, created, created_by, revoked) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                t.id,
                t.hash,
                t.role,
                t.cas.join(","),
                t.description,
                t.created,
                t.created_by,
                t.revoked
            ],
        )?;
        Ok(())
    }

    /// Every token, revoked ones included, oldest first.
    pub fn tokens(&self) -> Result<Vec<StoredToken>> {
        self.tokens_where("1=1", None)
    }

    /// The token with this id.
    pub fn token(&self, id: &str) -> Result<Option<StoredToken>> {
        Ok(self.tokens_where("id = ?1", Some(id))?.pop())
    }

    fn tokens_where(&self, cond: &str, arg: Option<&str>) -> Result<Vec<StoredToken>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT id, hash, role, cas, description, created, created_by, revoked \
             FROM tokens WHERE {cond} ORDER BY created, id"
        ))?;
        let map = |r: &rusqlite::Row<'_>| {
            let cas: String = r.get(3)?;
            Ok(StoredToken {
                id: r.get(0)?,
                hash: r.get(1)?,
                role: r.get(2)?,
                cas: cas
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                description: r.get(4)?,
                created: r.get(5)?,
                created_by: r.get(6)?,
                revoked: r.get(7)?,
            })
        };
        let rows = match arg {
            Some(a) => stmt
                .query_map([a], map)?
                .collect::<std::result::Result<_, _>>()?,
            None => stmt
                .query_map([], map)?
                .collect::<std::result::Result<_, _>>()?,
        };
        Ok(rows)
    }

    /// Marks a token revoked; false if there is no such unrevoked token.
    pub fn revoke_token(&self, id: &str, now: Time) -> Result<bool> {
        Ok(self.exec(
            "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
            params![id, to_secs(now)],
        )? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_parse_back_from_their_display() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 1..=20usize {
            let mut a = [0u8; 20];
            for b in a[20 - len..].iter_mut() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *b = (x >> 56) as u8;
            }
            a[0] &= 0x7f;
            let serial = Serial::from_array(a).unwrap();
            let text = serial.to_string();
            assert_eq!(parse_serial(&text).unwrap(), serial, "{text}");
            assert_eq!(text.parse::<Serial>().unwrap(), serial);
        }
        for bad in ["", "12a", "-1", &"9".repeat(50)] {
            assert!(parse_serial(bad).is_err(), "{bad:?}");
        }
    }
}
