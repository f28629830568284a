//! The PostgreSQL backend: one session per [`crate::Store`], run on a
//! thread of its own.
//!
//! The store is synchronous and is called from any thread, some of them
//! driving asynchronous tasks; the synchronous PostgreSQL client must not
//! block such a thread on its own runtime. Each session therefore lives
//! on a dedicated thread that runs the statements sent to it, in order.
//!
//! Write transactions take a transaction-level advisory lock first
//! ([`WRITE_LOCK`]): writers take turns, exactly as SQLite's
//! `BEGIN IMMEDIATE` makes them, so every write sees the state the
//! previous one committed, manifest numbers and serials are handed out
//! in commit order, and the change journal's sequence commits in order.
//! Read transactions are `REPEATABLE READ READ ONLY`: one consistent
//! snapshot, never waiting for a writer.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::time::Duration;

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::sql::{Row, Value, dollar_placeholders};
use crate::{Result, StoreError};

/// The advisory lock key every write transaction takes ("ANCHOR").
pub const WRITE_LOCK: i64 = 0x414e_4348_4f52;

/// The advisory lock a process holds while it writes the rsync tree, as
/// `DIR/publish.lock` on SQLite: on PostgreSQL it goes with its session,
/// so a dead machine's lock ends with its session instead of waiting for
/// a network file system's lease.
pub const PUBLISH_LOCK: i64 = 0x414e_4348_5055;

/// The advisory lock of RRDP serial writes, as `DIR/rrdp.lock`.
pub const RRDP_LOCK: i64 = 0x414e_4348_5252;

/// How long a wait for a lock (the write lock among them) may take, as
/// SQLite's busy timeout: a stuck writer turns into an error, not a
/// hang. Statements themselves have no time limit: a streaming read of
/// the whole repository runs as long as its reader takes.
pub(crate) const LOCK_TIMEOUT: &str = "60s";

/// Defaults for a connection string that does not set them: a server
/// that cannot be reached, or stops answering (a half-open connection),
/// is an error within these, not a wait of the kernel's 15 minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEPALIVES_IDLE: Duration = Duration::from_secs(30);
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// Prepared statements kept per session before the cache starts over.
const STATEMENT_CACHE: usize = 512;

/// Rows sent from the session's thread at a time by a streaming query.
const CHUNK: usize = 256;

type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A PostgreSQL session on its own thread.
pub(crate) struct PgConn {
    jobs: mpsc::Sender<Job>,
}

/// Where and how a session connects: the parsed connection string and,
/// with `sslmode=require`, the TLS client that verifies the server.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// What the session's thread holds.
struct Session {
    target: Target,
    client: postgres::Client,
    statements: HashMap<String, postgres::Statement>,
    /// A statement of the open transaction failed: PostgreSQL has rolled
    /// the transaction back, and its COMMIT must not report success.
    failed: bool,
    /// A job panicked: the session's state is unknown, so the next
    /// transaction starts on a new one.
    broken: bool,
    /// Session-level locks taken and not yet released: while there are
    /// any, a lost session is an error, not silently replaced by a new one
    /// that holds no lock (its holder must give up and take it again).
    locks: usize,
}

/// The server's side of every session: it notices a client machine
/// that died or was cut off within about 6 s (keepalives after 2 s idle,
/// every second, three lost; unacknowledged data after 6 s), so that it
/// holds the write lock, or the leadership (see [`crate::leader`]), no
/// longer. Ignored on a Unix socket, whose peer cannot vanish that way.
const SERVER_SIDE: &str = "SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; \
     SET tcp_keepalives_count = 3; SET tcp_user_timeout = 6000; \
     SET idle_in_transaction_session_timeout = 0";

/// How long a write transaction may sit idle (its client stopped) before
/// the server ends it and its session; read transactions have no limit
/// (a tree write reads its snapshot while it writes files), whatever the
/// server's default.
const WRITE_IDLE: &str = "60s";

pub(crate) fn connect(target: &Target) -> Result<postgres::Client> {
    let mut client = match &target.tls {
        Some(tls) => target.config.connect(tls.clone())?,
        None => target.config.connect(postgres::NoTls)?,
    };
    client.batch_execute(&format!(
        "SET lock_timeout = '{LOCK_TIMEOUT}'; SET client_min_messages = warning; {SERVER_SIDE}"
    ))?;
    Ok(client)
}

/// Parses a connection string, with the timeouts it leaves unset.
///
/// `sslmode=require` encrypts the connection with TLS and verifies the
/// server's certificate and name (what libpq calls `verify-full`)
/// against the CA certificates of `sslrootcert` (a PEM file), or the
/// system's roots without it. Any other mode connects without TLS, as
/// before TLS was supported: a server's self-signed certificate (Debian
/// enables one by default) is never half-trusted.
pub(crate) fn config(url: &str) -> Result<Target> {
    let (url, root) = take_param(url, "sslrootcert");
    let url = url.as_str();
    let mut config: postgres::Config = url.parse()?;
    let tls = match config.get_ssl_mode() {
        postgres::config::SslMode::Require => Some(tls_client(root.as_deref())?),
        _ => None,
    };
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if !url.contains("keepalives_idle") {
        config.keepalives_idle(KEEPALIVES_IDLE);
    }
    if config.get_application_name().is_none() {
        // What `pg_stat_activity` shows an operator.
        config.application_name("anchorage");
    }
    Ok(Target { config, tls })
}

/// The TLS client of `sslmode=require`: the roots of `root` (a PEM
/// file), or the system's.
fn tls_client(root: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bad = |what: String| StoreError::BadConnection(what);
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect())
                .map_err(|e| bad(format!("sslrootcert {path}: {e}")))?;
            if certs.is_empty() {
                return Err(bad(format!("sslrootcert {path}: no certificate")));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(bad(
                    "sslmode=require: no system CA certificates; name one with sslrootcert".into(),
                ));
            }
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// `url` without the parameter `key` (which the PostgreSQL client does
/// not know), and the parameter's value: from a URL's query
/// (percent-decoded), or a `key=value` connection string (quoted values
/// and backslash escapes as libpq reads them). A string without the
/// parameter comes back unchanged.
fn take_param(url: &str, key: &str) -> (String, Option<String>) {
    if !url.contains(key) {
        return (url.to_string(), None);
    }
    let prefix = format!("{key}=");
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), None);
        };
        let mut value = None;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| match p.strip_prefix(&prefix) {
                Some(v) => {
                    value = Some(percent_decode(v));
                    false
                }
                None => true,
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, value);
    }
    // key=value pairs: each found with its span, the other pairs kept
    // exactly as written.
    let chars: Vec<(usize, char)> = url.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|c| c.1);
    let offset = |i: usize| chars.get(i).map_or(url.len(), |c| c.0);
    let (mut i, mut found, mut spans) = (0, None, Vec::new());
    while i < chars.len() {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        let start = i;
        while at(i).is_some_and(|c| c != '=' && !c.is_whitespace()) {
            i += 1;
        }
        let name = &url[offset(start)..offset(i)];
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        if at(i) != Some('=') {
            break; // not a pair: left to the client's parser as it is
        }
        i += 1;
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        let mut value = String::new();
        if at(i) == Some('\'') {
            i += 1;
            while let Some(c) = at(i) {
                i += 1;
                match c {
                    '\'' => break,
                    '\\' => {
                        if let Some(next) = at(i) {
                            value.push(next);
                            i += 1;
                        }
                    }
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = at(i).filter(|c| !c.is_whitespace()) {
                i += 1;
                if c == '\\' {
                    if let Some(next) = at(i) {
                        value.push(next);
                        i += 1;
                    }
                } else {
                    value.push(c);
                }
            }
        }
        if name == key {
            found = Some(value);
            spans.push((offset(start), offset(i)));
        }
    }
    let mut rest = url.to_string();
    for (start, end) in spans.into_iter().rev() {
        rest.replace_range(start..end, "");
    }
    (rest, found)
}

/// Decodes `%XX` escapes (a path in a URL's query).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Session {
    /// Opens a new session where the server went away since the last
    /// transaction (or the session's state is unknown), so that service
    /// resumes by itself.
    fn ready(&mut self) -> Result<()> {
        if self.client.is_closed() || self.broken {
            if self.locks > 0 {
                return Err(StoreError::Disconnected(
                    "the session ended or failed while it held locks; they are gone".into(),
                ));
            }
            self.client = connect(&self.target)?;
            self.statements.clear();
            self.broken = false;
        }
        Ok(())
    }

    fn statement(
        &mut self,
        sql: &str,
    ) -> std::result::Result<postgres::Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&dollar_placeholders(sql))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs `f`, noting a failure so that the transaction cannot commit.
    fn guarded<R>(&mut self, f: impl FnOnce(&mut Session) -> Result<R>) -> Result<R> {
        let r = f(self);
        if r.is_err() {
            self.failed = true;
        }
        r
    }
}

/// A statement argument as PostgreSQL wants it: converted to the type
/// the server inferred for its placeholder.
#[derive(Debug)]
struct Arg<'a>(&'a Value);

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Int(i), t) if <&str as ToSql>::accepts(t) => {
                i.to_string().as_str().to_sql(ty, out)
            }
            (Value::Text(s), t) if <&str as ToSql>::accepts(t) => s.as_str().to_sql(ty, out),
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (v, t) => Err(format!("cannot pass {v:?} as {t}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A column's value read from PostgreSQL.
struct Col(Value);

impl<'a> FromSql<'a> for Col {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Col(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            Type::BYTEA => Value::Blob(<Vec<u8>>::from_sql(ty, raw)?),
            ref t if <String as FromSql>::accepts(t) => Value::Text(String::from_sql(ty, raw)?),
            ref t => return Err(format!("column of type {t} not read by the store").into()),
        }))
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Col(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn read_row(r: &postgres::Row) -> std::result::Result<Row, postgres::Error> {
    (0..r.len())
        .map(|i| r.try_get::<_, Col>(i).map(|c| c.0))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map(Row)
}

/// The error of a session whose thread is gone.
fn ended() -> StoreError {
    StoreError::Disconnected("the session's thread ended".into())
}

impl PgConn {
    /// Connects to the database of `url` (a `postgres://` URL or a
    /// `key=value` connection string).
    pub(crate) fn connect(url: &str) -> Result<PgConn> {
        let target = config(url)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("anchorage-pg".into())
            .spawn(move || {
                let client = match connect(&target) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let _ = ready.send(Ok(()));
                let mut session = Session {
                    target,
                    client,
                    statements: HashMap::new(),
                    failed: false,
                    broken: false,
                    locks: 0,
                };
                for job in queue {
                    // A panic drops the job's reply (its caller gets an
                    // error) and leaves the thread serving the others.
                    let run = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut session)));
                    if run.is_err() {
                        session.broken = true;
                        session.failed = true;
                    }
                }
            })
            .map_err(|e| StoreError::Disconnected(e.to_string()))?;
        started.recv().map_err(|_| ended())??;
        Ok(PgConn { jobs })
    }

    /// Queues `job` on the session's thread, after the jobs sent before.
    fn post(&self, job: impl FnOnce(&mut Session) + Send + 'static) -> Result<()> {
        self.jobs.send(Box::new(job)).map_err(|_| ended())
    }

    /// Runs `f` on the session's thread and waits for its result.
    fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (done, result) = mpsc::sync_channel(1);
        self.post(move |s| {
            let _ = done.send(f(s));
        })?;
        result.recv().map_err(|_| ended())?
    }

    /// Takes the session-level advisory lock `key`, waiting for it (up
    /// to the lock timeout); released when the guard is dropped or the
    /// session ends.
    pub(crate) fn session_lock(&self, key: i64) -> Result<SessionLock> {
        self.call(move |s| {
            s.ready()?;
            s.client.query_one("SELECT pg_advisory_lock($1)", &[&key])?;
            s.locks += 1;
            Ok(())
        })?;
        Ok(SessionLock {
            jobs: self.jobs.clone(),
            key,
        })
    }

    /// Whether some session of this database holds the advisory lock
    /// `key` (read from `pg_locks`, taking nothing).
    pub(crate) fn lock_held(&self, key: i64) -> Result<bool> {
        self.call(move |s| {
            s.ready()?;
            let row = s.client.query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_locks
                   WHERE locktype = 'advisory' AND granted AND objsubid = 1
                     AND classid = ($1::BIGINT >> 32)::OID
                     AND objid = ($1::BIGINT & 4294967295)::OID
                     AND database = (SELECT oid FROM pg_database
                                     WHERE datname = current_database()))",
                &[&key],
            )?;
            Ok(row.get(0))
        })
    }

    /// Names the session `name` in `pg_stat_activity`, now and after
    /// every reconnection.
    pub(crate) fn rename(&self, name: &'static str) -> Result<()> {
        self.call(move |s| {
            s.target.config.application_name(name);
            s.ready()?;
            Ok(s.client
                .batch_execute(&format!("SET application_name = '{name}'"))?)
        })
    }

    /// Checks that the session answers.
    pub(crate) fn ping(&self) -> Result<()> {
        self.call(|s| Ok(s.client.simple_query("SELECT 1").map(|_| ())?))
    }

    /// Begins a transaction: a write transaction waits for the write lock.
    pub(crate) fn begin(&mut self, write: bool) -> Result<PgTx<'_>> {
        self.call(move |s| {
            s.ready()?;
            s.failed = false;
            let begun = if write {
                s.client
                    .batch_execute(&format!(
                        "BEGIN ISOLATION LEVEL READ COMMITTED; \
                         SET LOCAL idle_in_transaction_session_timeout = '{WRITE_IDLE}'"
                    ))
                    .and_then(|()| {
                        s.client
                            .batch_execute(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
                    })
            } else {
                s.client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            };
            if let Err(e) = begun {
                // A lock wait that timed out or was cancelled leaves the
                // transaction open and aborted: end it, or every later
                // transaction of this session would fail.
                let _ = s.client.batch_execute("ROLLBACK");
                return Err(e.into());
            }
            Ok(())
        })?;
        Ok(PgTx {
            conn: self,
            open: Cell::new(true),
            streaming: Cell::new(false),
            write,
        })
    }
}

/// A session-level advisory lock of a [`crate::Store`]'s session.
pub struct SessionLock {
    jobs: mpsc::Sender<Job>,
    key: i64,
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let key = self.key;
        // Queued after the session's other jobs; a session opened again
        // meanwhile holds no lock, and the unlock finds none.
        let _ = self.jobs.send(Box::new(move |s: &mut Session| {
            s.locks = s.locks.saturating_sub(1);
            let _ = s.client.query_one("SELECT pg_advisory_unlock($1)", &[&key]);
        }));
    }
}

/// An open PostgreSQL transaction; rolled back when dropped uncommitted.
pub(crate) struct PgTx<'a> {
    conn: &'a PgConn,
    open: Cell<bool>,
    /// A streaming query is being read: the session's thread is busy
    /// with it, so a statement sent now would wait for ever.
    streaming: Cell<bool>,
    /// A write transaction.
    write: bool,
}

impl PgTx<'_> {
    /// Refuses a statement while a streaming query of this transaction
    /// is being read.
    fn check_idle(&self) -> Result<()> {
        if self.streaming.get() {
            return Err(StoreError::NestedQuery);
        }
        Ok(())
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn exec(&self, sql: &str, args: &[Value]) -> Result<usize> {
        self.check_idle()?;
        let (sql, args) = (sql.to_string(), args.to_vec());
        self.conn.call(move |s| {
            s.guarded(|s| {
                let stmt = s.statement(&sql)?;
                let params: Vec<Arg<'_>> = args.iter().map(Arg).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                Ok(s.client.execute(&stmt, &refs)? as usize)
            })
        })
    }

    /// Runs a query, calling `f` with the rows as they arrive in chunks.
    /// `f` must not use this transaction (it gets [`StoreError::NestedQuery`]).
    pub(crate) fn each<E: From<StoreError>>(
        &self,
        sql: &str,
        args: &[Value],
        mut f: impl FnMut(&mut Row) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.check_idle()?;
        let (sql, args) = (sql.to_string(), args.to_vec());
        let (send, chunks) = mpsc::sync_channel::<Result<Vec<Row>>>(2);
        self.conn.post(move |s: &mut Session| {
            let run = |s: &mut Session| -> Result<()> {
                let stmt = s.statement(&sql)?;
                let params: Vec<Arg<'_>> = args.iter().map(Arg).collect();
                let mut rows = s.client.query_raw(&stmt, params.iter())?;
                let mut chunk = Vec::with_capacity(CHUNK);
                while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)?
                {
                    chunk.push(read_row(&r)?);
                    if chunk.len() == CHUNK && send.send(Ok(std::mem::take(&mut chunk))).is_err() {
                        // The reader stopped: leave the rest unread.
                        return Ok(());
                    }
                }
                if !chunk.is_empty() {
                    let _ = send.send(Ok(chunk));
                }
                Ok(())
            };
            if let Err(e) = s.guarded(run) {
                let _ = send.send(Err(e));
            }
        })?;
        self.streaming.set(true);
        let read = (|| {
            for chunk in chunks {
                for mut row in chunk? {
                    f(&mut row)?;
                }
            }
            Ok(())
        })();
        self.streaming.set(false);
        if read.is_err() && self.write {
            // The rest of the stream went unread, and an error in it with
            // it: this transaction must not commit as if all went well.
            let _ = self.conn.post(|s: &mut Session| s.failed = true);
        }
        read
    }

    /// Runs several statements without arguments.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        self.check_idle()?;
        let sql = sql.to_string();
        self.conn
            .call(move |s| s.guarded(|s| Ok(s.client.batch_execute(&sql)?)))
    }

    /// Commits; fails if any statement of the transaction failed (which
    /// made PostgreSQL roll it back).
    pub(crate) fn commit(self) -> Result<()> {
        self.open.set(false);
        self.conn.call(|s| {
            if s.failed {
                let _ = s.client.batch_execute("ROLLBACK");
                s.failed = false;
                return Err(StoreError::RolledBack);
            }
            Ok(s.client.batch_execute("COMMIT")?)
        })
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            // Queued before any later statement of this session.
            let _ = self.conn.post(|s: &mut Session| {
                let _ = s.client.batch_execute("ROLLBACK");
                s.failed = false;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_certificate_parameter_is_taken_out_of_either_form() {
        let url = "postgres://u:p@db/anchorage?sslmode=require&sslrootcert=%2Fetc%2Fca%20x.pem&application_name=a";
        assert_eq!(
            take_param(url, "sslrootcert"),
            (
                "postgres://u:p@db/anchorage?sslmode=require&application_name=a".to_string(),
                Some("/etc/ca x.pem".to_string())
            )
        );
        let only = "postgresql://db/a?sslrootcert=/ca.pem";
        assert_eq!(
            take_param(only, "sslrootcert"),
            ("postgresql://db/a".to_string(), Some("/ca.pem".to_string()))
        );
        // Without it, any form comes back exactly as written.
        for unchanged in [
            "postgres://db/a?sslmode=require",
            "host=db password='a  b\\'c'\tuser=u",
        ] {
            assert_eq!(
                take_param(unchanged, "sslrootcert"),
                (unchanged.to_string(), None)
            );
        }
        let kv = "host=db password='a  b' sslrootcert = '/etc/my ca\\'s.pem' sslmode=require";
        let (rest, root) = take_param(kv, "sslrootcert");
        assert_eq!(root.as_deref(), Some("/etc/my ca's.pem"));
        assert_eq!(rest, "host=db password='a  b'  sslmode=require");
        let config: postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_password(), Some(&b"a  b"[..]));
        let (rest, root) = take_param("sslrootcert=/ca.pem host=db", "sslrootcert");
        assert_eq!(
            (rest.as_str(), root.as_deref()),
            (" host=db", Some("/ca.pem"))
        );
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("%2Fa%20b%zz%"), "/a b%zz%");
    }
}
