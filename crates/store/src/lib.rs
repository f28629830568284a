//! Durable state of Anchorage: CAs, ROA configurations, published objects,
//! revocations and the audit log, in SQLite (the embedded default) or in
//! PostgreSQL ([`Location`]).
//!
//! Every state-changing command runs in one [`Tx`] that holds the
//! database's write lock (SQLite's `BEGIN IMMEDIATE`, PostgreSQL's
//! advisory lock [`pg::WRITE_LOCK`]: one writer at a time, across
//! processes) and commits before the command reports success. SQLite runs
//! in WAL mode, and [`Tx::commit`] returns once the WAL is synced, by a
//! group commit after the write lock is let go ([`durable`]): a committed
//! transaction survives a crash, `kill -9` or a power loss, and an
//! uncommitted one leaves no trace; PostgreSQL gives the same with its
//! default `synchronous_commit`.
//! The queries are written once for both ([`sql`]).
//!
//! Published objects are stored with the exact bytes and an mtime: the
//! mtime changes exactly when the bytes do and strictly increases, so the
//! rsync tree written from the store never makes rsync skip a changed file
//! nor re-send an unchanged one.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_ca_core::ResourceSet;
use chrono::DateTime;
use rpki::repository::x509::{Serial, Time};
use rusqlite::Connection;

mod aspas;
mod audit;
mod cakeys;
mod cas;
mod changes;
mod contacts;
mod copy;
mod durable;
mod gate;
pub mod leader;
mod peers;
pub mod pg;
mod points;
mod roas;
mod rrdp;
mod schema;
pub mod sql;
mod tokens;
pub use anchorage_ca_core::point::sha256;
pub use audit::{AuditEntry, AuditFilter, Who};
pub use cakeys::{CaKey, KeyState, key_dir, published_dir};
pub use changes::Changes;
pub use copy::{CopyReport, DERIVED, TABLES};
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
    /// PostgreSQL failed, or could not be reached.
    #[error("PostgreSQL: {}", with_causes(.0))]
    Postgres(#[from] postgres::Error),
    /// The PostgreSQL connection settings cannot be used.
    #[error("PostgreSQL connection settings: {0}")]
    BadConnection(String),
    /// The PostgreSQL session ended.
    #[error("PostgreSQL session lost: {0}")]
    Disconnected(String),
    /// A statement of the transaction failed, so PostgreSQL rolled it
    /// back: nothing of it was stored.
    #[error("the transaction was rolled back after a failed statement; nothing was stored")]
    RolledBack,
    /// A statement was run from inside a streaming query's callback on
    /// the same PostgreSQL session, which is busy with that query.
    #[error("a statement inside a streaming query of the same transaction (a bug)")]
    NestedQuery,
    /// A query that must find a row found none.
    #[error("no row for: {0}")]
    NoRow(String),
    /// The SQLite store was moved into another database by `migrate`.
    #[error(
        "this SQLite store was moved to {0} by `anchorage migrate`: use that database \
         (the data directory's database.url names it)"
    )]
    Moved(String),
    /// A standby `serve` instance: changes are made by the leader.
    #[error(
        "this instance is a standby: changes are made by the leader{}, \
         nothing was stored",
        leader.as_ref().map(|l| format!(" ({l})")).unwrap_or_default()
    )]
    NotLeader {
        /// The leader's name, as it recorded it.
        leader: Option<String>,
    },
    /// The instance lost the leadership to another one while it worked.
    #[error("another instance became the leader meanwhile; nothing was stored")]
    Fenced,
    /// A sync of the SQLite WAL failed: the commits it covered may not
    /// survive a power loss, and this process writes no more.
    #[error(
        "the database's write-ahead log could not be synced ({0}): the last changes \
         may not survive a power loss; restart Anchorage, which recovers what is on disk"
    )]
    NotDurable(String),
    /// The database was written by a newer Anchorage.
    #[error(
        "the database has schema version {found}, newer than this Anchorage supports \
         ({supported}): run the newer version, or restore a backup taken before the upgrade"
    )]
    NewerSchema {
        /// The database's schema version.
        found: usize,
        /// The newest this binary knows.
        supported: usize,
    },
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

/// An error with the errors that caused it (a TLS handshake's names the
/// certificate it refused).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

impl StoreError {
    /// Whether this process may not write because another `serve`
    /// instance leads (HTTP 503: the leader takes the request).
    pub fn is_not_leader(&self) -> bool {
        matches!(self, StoreError::NotLeader { .. } | StoreError::Fenced)
    }

    /// Whether the database could not be reached, went away, or did not
    /// answer in time: a state to retry after (HTTP 503), not a fault of
    /// the request or of the store's contents.
    pub fn is_unavailable(&self) -> bool {
        use std::error::Error as _;
        match self {
            StoreError::Disconnected(_) => true,
            StoreError::Postgres(e) => {
                let class = e.code().map(|c| c.code().to_string()).unwrap_or_default();
                e.is_closed()
                    || e.source().is_some_and(|s| s.is::<std::io::Error>())
                    // connection exceptions, operator intervention (a
                    // shutdown, a statement timeout), too many connections
                    || class.starts_with("08")
                    || class.starts_with("57")
                    || class == "53300"
                    // lock_not_available: the write lock stayed taken
                    || class == "55P03"
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Where the store lives: a SQLite file, or a PostgreSQL database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database: a `postgres://` URL or a `key=value`
    /// connection string.
    Postgres(String),
}

impl Location {
    /// A location as given on the command line: `postgres://…` or
    /// `postgresql://…`, or a `key=value` connection string, is
    /// PostgreSQL; another `scheme://` is refused; anything else is a
    /// SQLite file path. The error shows the value without its password.
    pub fn parse(s: &str) -> std::result::Result<Location, String> {
        let t = s.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            Ok(Location::Postgres(t.to_string()))
        } else if t.contains("://") {
            Err(format!(
                "'{}': only postgres:// and postgresql:// URLs (or a SQLite file path) are supported",
                masked(t)
            ))
        } else if t.contains('=') {
            Ok(Location::Postgres(t.to_string()))
        } else if t.is_empty() {
            Err("an empty database location".to_string())
        } else {
            Ok(Location::Sqlite(PathBuf::from(t)))
        }
    }
}

impl std::fmt::Display for Location {
    /// The location without a password, for messages and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&masked(url)),
        }
    }
}

/// A connection string with its password replaced by `***`: in a URL's
/// user information or query (`?password=`), or as the `password` key of
/// a `key=value` string (spaces around `=` and quoted values included).
pub fn masked(url: &str) -> String {
    if let Some(at) = url.find("://") {
        let (scheme, rest) = url.split_at(at + 3);
        let (authority, tail) = rest
            .find(['/', '?'])
            .map_or((rest, ""), |i| rest.split_at(i));
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@{host}"),
                None => authority.to_string(),
            },
            None => authority.to_string(),
        };
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some(("password", _)) => "password=***".to_string(),
                        _ => kv.to_string(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_string(),
        };
        return format!("{scheme}{authority}{tail}");
    }
    // key = value pairs; a value may be 'quoted', with \ escapes.
    let mut out = String::new();
    let mut chars = url.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            out.push(c);
            chars.next();
            continue;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek().filter(|c| **c != '=' && !c.is_whitespace()) {
            key.push(c);
            chars.next();
        }
        // Spaces, one '=', spaces.
        let mut sep = String::new();
        while let Some(&c) = chars.peek().filter(|c| c.is_whitespace()) {
            sep.push(c);
            chars.next();
        }
        let has_value = chars.peek() == Some(&'=');
        if has_value {
            sep.push('=');
            chars.next();
            while let Some(&c) = chars.peek().filter(|c| c.is_whitespace()) {
                sep.push(c);
                chars.next();
            }
        }
        let mut value = String::new();
        if has_value && chars.peek() == Some(&'\'') {
            value.push('\'');
            chars.next();
            while let Some(c) = chars.next() {
                value.push(c);
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else if c == '\'' {
                    break;
                }
            }
        } else if has_value {
            while let Some(&c) = chars.peek().filter(|c| !c.is_whitespace()) {
                value.push(c);
                chars.next();
            }
        }
        out.push_str(&key);
        out.push_str(&sep);
        out.push_str(if key == "password" && has_value {
            "***"
        } else {
            &value
        });
    }
    out
}

/// The `meta` key that marks a store `migrate` copied elsewhere: it is
/// refused from then on, so nothing is ever written to the old copy.
pub const MOVED_TO: &str = "moved_to";

/// The connection of an open store.
enum Db {
    Lite(Connection),
    Pg(pg::PgConn),
}

/// An open Anchorage database.
pub struct Store {
    conn: Db,
    gate: Arc<WriteGate>,
    /// The SQLite database's write-ahead log, synced after each commit.
    wal: Option<Arc<Path>>,
    /// Where writes need this process's leadership (`serve` on
    /// PostgreSQL): the election's fence.
    fence: Option<Arc<leader::Fence>>,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The WAL is synced by `Tx::commit` after the write lock is let go
    // (see `durable`), as `FULL` would inside it; SQLite still syncs it
    // before each checkpoint, and a restarted WAL's header.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement of the hot paths (`Tx::exec`).
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

/// The write-ahead log of a SQLite database that exists at `location`
/// (SQLite names it after the database file); `None` on PostgreSQL.
fn wal_of(location: &Location) -> Result<Option<Arc<Path>>> {
    let Location::Sqlite(path) = location else {
        return Ok(None);
    };
    let db = std::fs::canonicalize(path)
        .map_err(|e| StoreError::Missing(format!("{} ({e})", path.display())))?;
    let mut wal = db.into_os_string();
    wal.push("-wal");
    Ok(Some(PathBuf::from(wal).into()))
}

impl Store {
    /// Creates a new SQLite database; fails if one exists at `path`.
    pub fn create(path: &Path) -> Result<Store> {
        Store::create_at(&Location::Sqlite(path.to_path_buf()))
    }

    /// Creates a new database at `location`; fails if one exists there.
    pub fn create_at(location: &Location) -> Result<Store> {
        let mut store = Store::connect_new(location)?;
        let tx = store.transaction_of_new()?;
        Store::check_absent(&tx, location)?;
        schema::create(&tx)?;
        tx.commit()?;
        Ok(store)
    }

    /// Refuses a PostgreSQL database that already holds a store.
    fn check_absent(tx: &Tx<'_>, location: &Location) -> Result<()> {
        if tx.is_pg() && schema::pg_exists(tx)? {
            return Err(StoreError::AlreadyExists(location.to_string()));
        }
        Ok(())
    }

    /// Connects to where a new database is to be made (a SQLite file
    /// must not exist yet), without making its schema.
    fn connect_new(location: &Location) -> Result<Store> {
        let conn = match location {
            Location::Sqlite(path) => {
                if path.exists() {
                    return Err(StoreError::AlreadyExists(path.display().to_string()));
                }
                let conn = Connection::open(path)?;
                configure(&conn)?;
                Db::Lite(conn)
            }
            Location::Postgres(url) => Db::Pg(pg::PgConn::connect(url)?),
        };
        Ok(Store {
            conn,
            gate: Arc::new(WriteGate::default()),
            wal: wal_of(location)?,
            fence: None,
        })
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
        Store::open_at(&Location::Sqlite(path.to_path_buf()), gate)
    }

    /// Opens the existing database at `location` (see [`Self::open_shared`]).
    pub fn open_at(location: &Location, gate: Arc<WriteGate>) -> Result<Store> {
        let conn = match location {
            Location::Sqlite(path) => {
                if !path.exists() {
                    return Err(StoreError::Missing(path.display().to_string()));
                }
                let conn = Connection::open_with_flags(
                    path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&conn)?;
                Db::Lite(conn)
            }
            Location::Postgres(url) => Db::Pg(pg::PgConn::connect(url)?),
        };
        let mut store = Store {
            conn,
            gate,
            wal: wal_of(location)?,
            fence: None,
        };
        if let Db::Pg(_) = store.conn {
            let tx = store.read_transaction()?;
            if !schema::pg_exists(&tx)? {
                return Err(StoreError::Missing(location.to_string()));
            }
        }
        // A store `migrate` moved refuses here (its write transactions do).
        store.migrate()?;
        Ok(store)
    }

    /// Makes every later write transaction check `fence`: refused while
    /// this process does not lead, and once another leads.
    pub fn set_fence(&mut self, fence: Arc<leader::Fence>) -> Result<()> {
        if let Db::Pg(conn) = &self.conn {
            // What a new leader looks for among a deposed one's sessions.
            conn.rename(leader::SERVE_SESSIONS)?;
        }
        self.fence = Some(fence);
        Ok(())
    }

    /// Under a fence, fails unless this process leads (a write
    /// transaction begun and rolled back); nothing without one.
    pub fn check_fence(&mut self) -> Result<()> {
        if self.fence.is_some() {
            self.transaction()?;
        }
        Ok(())
    }

    /// On PostgreSQL, checks that the session answers (and so still holds
    /// its session-level locks); nothing on SQLite.
    pub fn confirm_session(&self) -> Result<()> {
        match &self.conn {
            Db::Lite(_) => Ok(()),
            Db::Pg(conn) => conn.ping(),
        }
    }

    /// Takes the advisory lock `key` for this session on PostgreSQL (see
    /// [`pg::PUBLISH_LOCK`]); `None` on SQLite, where the data directory's
    /// lock files serve.
    pub fn session_lock(&self, key: i64) -> Result<Option<pg::SessionLock>> {
        match &self.conn {
            Db::Lite(_) => Ok(None),
            Db::Pg(conn) => conn.session_lock(key).map(Some),
        }
    }

    /// Whether a session holds the advisory lock `key` on PostgreSQL;
    /// `None` on SQLite.
    pub fn lock_held(&self, key: i64) -> Result<Option<bool>> {
        match &self.conn {
            Db::Lite(_) => Ok(None),
            Db::Pg(conn) => conn.lock_held(key).map(Some),
        }
    }

    /// The gate this connection's write transactions pass.
    pub fn gate(&self) -> &Arc<WriteGate> {
        &self.gate
    }

    /// Brings an older database to the current schema, in one transaction.
    fn migrate(&mut self) -> Result<()> {
        let tx = self.transaction()?;
        if schema::migrate(&tx)? {
            tx.commit()?;
        }
        Ok(())
    }

    fn begin(&mut self, write: bool) -> Result<sql::Conn<'_>> {
        Ok(match &mut self.conn {
            Db::Lite(conn) => sql::Conn::Lite(conn.transaction_with_behavior(if write {
                rusqlite::TransactionBehavior::Immediate
            } else {
                rusqlite::TransactionBehavior::Deferred
            })?),
            Db::Pg(conn) => sql::Conn::Pg(conn.begin(write)?),
        })
    }

    /// Starts a write transaction; it holds the database's write lock
    /// (and this process's [`WriteGate`]) until it ends.
    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        let fence = self.fence.clone();
        self.standing_by(fence.as_deref())?;
        self.transaction_of_new()?.allowed(fence.as_deref())
    }

    /// Refuses at once, without waiting for the write lock, a write of a
    /// process that stands by.
    fn standing_by(&mut self, fence: Option<&leader::Fence>) -> Result<()> {
        if fence.is_some_and(|f| f.epoch().is_none()) {
            let leader = self.read_transaction()?.meta(leader::NAME_KEY)?;
            return Err(StoreError::NotLeader { leader });
        }
        Ok(())
    }

    /// A write transaction in a database whose schema is yet to be made.
    fn transaction_of_new(&mut self) -> Result<Tx<'_>> {
        let guard = self.gate.enter();
        let durable = self.durability()?;
        let tx = self.begin(true)?;
        Ok(Tx {
            tx,
            _gate: Some(guard),
            durable,
        })
    }

    /// What makes the commits this connection reads durable, refused if
    /// a sync of this process failed (see [`durable`]). A commit of
    /// another connection can be read before its sync ends: what leaves
    /// the process from a read (a tree, a serial, a message to a peer) is
    /// made after [`Durability::wait`], called once the read began.
    /// Nothing to wait for on PostgreSQL, whose commits are durable
    /// before they are seen.
    pub fn durability(&self) -> Result<Durability> {
        if let Some(err) = self.gate.durable.failed() {
            return Err(StoreError::NotDurable(err));
        }
        Ok(Durability(
            self.wal.clone().map(|wal| (self.gate.clone(), wal)),
        ))
    }

    /// How many WAL syncs this process's connections that share this
    /// store's gate made (a group commit makes fewer than commits).
    pub fn wal_syncs(&self) -> u64 {
        self.gate.durable.syncs()
    }

    /// Starts a write transaction under a gate the caller already holds
    /// (see [`WriteGate::enter`]).
    pub fn transaction_entered(&mut self, _held: &GateGuard) -> Result<Tx<'_>> {
        let fence = self.fence.clone();
        self.standing_by(fence.as_deref())?;
        let durable = self.durability()?;
        let tx = self.begin(true)?;
        Tx {
            tx,
            _gate: None,
            durable,
        }
        .allowed(fence.as_deref())
    }

    /// Starts a read transaction: a consistent view without taking the
    /// write lock.
    pub fn read_transaction(&mut self) -> Result<Tx<'_>> {
        let tx = self.begin(false)?;
        Ok(Tx {
            tx,
            _gate: None,
            durable: Durability(None),
        })
    }

    /// Checks the database's integrity: SQLite's `PRAGMA integrity_check`
    /// ("ok" when sound); PostgreSQL checks its own pages, and answers
    /// "ok" when the session works.
    pub fn integrity_check(&self) -> Result<String> {
        match &self.conn {
            Db::Lite(conn) => Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?),
            Db::Pg(conn) => conn.ping().map(|()| "ok".to_string()),
        }
    }
}

/// A write transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx<'a> {
    // Declared first, so the transaction ends before the gate opens.
    tx: sql::Conn<'a>,
    _gate: Option<GateGuard>,
    /// What its commit syncs (nothing for a read transaction).
    durable: Durability,
}

/// What syncs the commits a connection can read: on SQLite its WAL and
/// the group commit of its gate; nothing on PostgreSQL (see
/// [`Store::durability`]).
#[derive(Clone)]
pub struct Durability(Option<(Arc<WriteGate>, Arc<Path>)>);

impl Durability {
    /// Returns once a sync of the WAL that began after this call ended:
    /// every commit read before it is then durable.
    pub fn wait(&self) -> Result<()> {
        let Some((gate, wal)) = &self.0 else {
            return Ok(());
        };
        gate.durable
            .wait(|| durable::sync_wal(wal))
            .map_err(|e| StoreError::NotDurable(e.to_string()))
    }
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
    /// Refuses a write to a SQLite store `migrate` moved, also in a
    /// process that opened it before the move and waited for its lock;
    /// and, under a `fence`, a write of a process that does not lead, or
    /// no longer: the epoch is read under the write lock, which the next
    /// leader's took too (see [`leader`]).
    fn allowed(self, fence: Option<&leader::Fence>) -> Result<Self> {
        if !self.is_pg()
            && let Some(to) = self.meta(MOVED_TO)?
        {
            return Err(StoreError::Moved(to));
        }
        if let Some(fence) = fence {
            let Some(epoch) = fence.epoch() else {
                return Err(StoreError::NotLeader {
                    leader: self.meta(leader::NAME_KEY)?,
                });
            };
            if self.meta(leader::EPOCH_KEY)? != Some(epoch.to_string()) {
                return Err(StoreError::Fenced);
            }
        }
        Ok(self)
    }

    /// Checks that the transaction's session still answers.
    pub fn alive(&self) -> Result<()> {
        self.opt_row("SELECT 1", sql::args![], |r| r.get::<i64>(0))
            .map(|_| ())
    }

    /// Commits the transaction durably. On SQLite the WAL is synced after
    /// the write lock and this process's gate are let go, so the next
    /// writer goes on meanwhile and one sync serves the commits that
    /// ended before it began (see [`durable`]).
    pub fn commit(self) -> Result<()> {
        let Tx { tx, _gate, durable } = self;
        match tx {
            sql::Conn::Lite(tx) => tx.commit()?,
            sql::Conn::Pg(tx) => return tx.commit(),
        }
        drop(_gate);
        durable.wait()
    }

    /// Reads a configuration value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.opt_row(
            "SELECT value FROM meta WHERE key = ?1",
            sql::args![key],
            |r| r.get(0),
        )
    }

    /// Writes a configuration value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            sql::args![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_their_display_without_password() {
        assert_eq!(
            Location::parse("/var/lib/anchorage/anchorage.db"),
            Ok(Location::Sqlite("/var/lib/anchorage/anchorage.db".into()))
        );
        let url = "postgres://ca:s3cret@db.example.net:5432/anchorage";
        assert_eq!(Location::parse(url), Ok(Location::Postgres(url.into())));
        let shown = |s: &str| Location::parse(s).unwrap().to_string();
        assert_eq!(
            shown(url),
            "postgres://ca:***@db.example.net:5432/anchorage"
        );
        assert_eq!(
            shown("postgresql://ca@db/anchorage?sslmode=disable&password=s3cret"),
            "postgresql://ca@db/anchorage?sslmode=disable&password=***"
        );
        assert_eq!(
            shown("host=/run/postgresql dbname=anchorage password=s3cret"),
            "host=/run/postgresql dbname=anchorage password=***"
        );
        assert_eq!(
            shown(r"user=ca password = 's3 cr\'et' dbname=a"),
            "user=ca password = *** dbname=a"
        );
        let err = Location::parse("postgress://ca:s3cret@db/anchorage").unwrap_err();
        assert!(
            err.contains("postgres://") && !err.contains("s3cret"),
            "{err}"
        );
        assert!(Location::parse("  ").is_err());
    }

    /// Commits from several connections of one process are all there
    /// afterwards, read at once by the others; a read transaction syncs
    /// nothing and a barrier syncs once. (How syncs are shared is
    /// `durable`'s test.)
    #[test]
    fn concurrent_commits_all_stay_and_only_writes_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchorage.db");
        drop(Store::create(&path).unwrap());
        let gate = Arc::new(WriteGate::default());
        let (threads, commits) = (4, 50);
        std::thread::scope(|s| {
            for t in 0..threads {
                let (path, gate) = (&path, gate.clone());
                s.spawn(move || {
                    let mut store = Store::open_shared(path, gate).unwrap();
                    for i in 0..commits {
                        let tx = store.transaction().unwrap();
                        tx.set_meta(&format!("k{t}-{i}"), "v").unwrap();
                        tx.commit().unwrap();
                        // Read back at once.
                        assert_eq!(
                            store
                                .read_transaction()
                                .unwrap()
                                .meta(&format!("k{t}-{i}"))
                                .unwrap(),
                            Some("v".into())
                        );
                    }
                });
            }
        });
        let mut store = Store::open_shared(&path, gate.clone()).unwrap();
        let syncs = store.wal_syncs();
        assert!(syncs >= 1 && syncs <= (threads * commits) as u64, "{syncs}");
        let tx = store.read_transaction().unwrap();
        for t in 0..threads {
            for i in 0..commits {
                assert_eq!(tx.meta(&format!("k{t}-{i}")).unwrap(), Some("v".into()));
            }
        }
        tx.commit().unwrap();
        assert_eq!(store.wal_syncs(), syncs, "a read transaction syncs nothing");
        store.durability().unwrap().wait().unwrap();
        assert_eq!(store.wal_syncs(), syncs + 1, "a barrier syncs once");
        // The WAL synced is the database's: SQLite made it there.
        assert!(dir.path().join("anchorage.db-wal").exists());
    }

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
