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

use anchorage_ca_core::ResourceSet;
use chrono::DateTime;
use rpki::repository::x509::{Serial, Time};
use rusqlite::{Connection, OptionalExtension};

mod audit;
mod cakeys;
mod cas;
mod changes;
mod contacts;
mod gate;
mod peers;
mod points;
mod roas;
mod rrdp;
mod schema;
mod tokens;
pub use anchorage_ca_core::point::sha256;
pub use audit::{AuditEntry, AuditFilter, Who};
pub use cakeys::{CaKey, KeyState, key_dir, published_dir};
pub use changes::Changes;
pub use gate::{GateGuard, WriteGate};
pub use peers::{ChildCert, Peer, PeerKind, PublisherObject};
pub use points::StoredFile;
pub use rrdp::DeltaRecord;
pub use schema::SCHEMA_VERSION;
pub use tokens::StoredToken;

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

pub(crate) fn corrupt(what: &'static str, value: impl ToString) -> StoreError {
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
pub(crate) fn parse_serial(s: &str) -> Result<Serial> {
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

/// Parses stored resources. A CA whose remote parent took everything
/// back holds the empty set, which the operator syntax does not accept.
pub(crate) fn parse_resources(what: &'static str, s: &str) -> Result<ResourceSet> {
    if s.trim().is_empty() {
        return Ok(ResourceSet::default());
    }
    s.parse().map_err(|_| corrupt(what, s))
}

impl Tx<'_> {
    /// Runs one statement through the connection's statement cache: the
    /// hot paths run the same few statements thousands of times, and
    /// preparing each anew showed up in profiles.
    pub(crate) fn exec<P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
    ) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// [`Self::exec`] for a query of one row.
    pub(crate) fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
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
