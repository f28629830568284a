//! Which of several `serve` instances on one PostgreSQL database signs
//! and publishes: the leader, elected with an advisory lock, fenced by an
//! epoch that every write transaction checks.
//!
//! Each instance runs an [`Election`]: a session of its own that tries
//! the session-level advisory lock [`LEADER_LOCK`] twice a second. The
//! instance that gets it raises `meta.leader_epoch` (under the write
//! lock, in one transaction) and from then on writes with that epoch:
//! every write transaction of a store that shares its [`Fence`] checks,
//! after taking the write lock, that the stored epoch is still its own.
//! An instance that lost the lock — its session died, the server
//! restarted, the network between them broke — may not know it yet; the
//! next leader's epoch makes its writes fail ([`StoreError::Fenced`])
//! before they change anything, because writers take turns on the write
//! lock and the new epoch was committed under it. A standby's writes are
//! refused at once ([`StoreError::NotLeader`], naming the leader).
//!
//! PostgreSQL releases a session's advisory locks when the session ends:
//! at once when the leader's process dies (its kernel closes the
//! connection), and within the keepalive settings every session asks the
//! server for (about 6 s, `pg::connect`) when its machine or network goes
//! away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{Result, StoreError};

/// The advisory lock key the leader holds for as long as it leads
/// ("ANCHLD"); transactions take [`crate::pg::WRITE_LOCK`] instead.
pub const LEADER_LOCK: i64 = 0x414e_4348_4c44;

/// The `meta` key of the current leader's epoch.
pub const EPOCH_KEY: &str = "leader_epoch";

/// The `meta` key naming the current leader, for standbys' answers.
pub const NAME_KEY: &str = "leader";

/// The `application_name` of the sessions of `serve` instances' stores
/// (those under a [`Fence`]): a new leader ends those of them that hold
/// one of Anchorage's advisory locks.
pub const SERVE_SESSIONS: &str = "anchorage serve";

/// The high 32 bits every Anchorage advisory lock key shares ("AN"), as
/// `pg_locks.classid` shows them.
const LOCK_CLASS: i64 = crate::pg::WRITE_LOCK >> 32;

/// How long taking office waits for the write lock before ending the
/// sessions that hold it again.
const OFFICE_WAIT: &str = "2s";

/// How often a standby tries the lock, and the leader checks its session.
const POLL: Duration = Duration::from_millis(500);

/// What the stores of one process may write: shared by the process's
/// stores and its [`Election`]. No epoch: a standby, every write refused.
#[derive(Debug, Default)]
pub struct Fence {
    /// The epoch this process leads in; 0 while it does not lead.
    epoch: AtomicI64,
}

impl Fence {
    /// A fence that refuses writes until its election is won.
    pub fn standby() -> Arc<Fence> {
        Arc::new(Fence::default())
    }

    /// The epoch this process leads in, if it leads.
    pub fn epoch(&self) -> Option<i64> {
        Some(self.epoch.load(Ordering::SeqCst)).filter(|e| *e > 0)
    }

    fn set(&self, epoch: i64) {
        self.epoch.store(epoch, Ordering::SeqCst);
    }
}

/// How long an instance that resigned waits before it stands again, so
/// that a healthy standby takes over.
const RESIGNED_FOR: Duration = Duration::from_secs(10);

/// The election of one instance, on a thread of its own; dropping it
/// ends the session (and the leadership, if held).
pub struct Election {
    stop: Arc<AtomicBool>,
    resign: Resign,
    thread: Option<JoinHandle<()>>,
}

/// Gives up an [`Election`]'s leadership, for a leader that cannot do
/// its work: the lock is released, and the instance stands again only
/// after [`RESIGNED_FOR`].
#[derive(Clone, Debug, Default)]
pub struct Resign(Arc<AtomicI64>);

impl Resign {
    /// Asks the election to give up the leadership of `epoch` (not a
    /// later term's, should it have been won again meanwhile).
    pub fn resign(&self, epoch: i64) {
        self.0.store(epoch, Ordering::SeqCst);
    }
}

impl Election {
    /// Starts standing for leader of the database at `url` as `name`
    /// (what standbys tell clients). `changed` is called with the new
    /// epoch on winning, and with `None` on losing the leadership.
    pub fn start(
        url: &str,
        name: &str,
        fence: Arc<Fence>,
        changed: impl Fn(Option<i64>) + Send + 'static,
    ) -> Result<Election> {
        let mut target = crate::pg::config(url)?;
        // The session an operator ends (`pg_terminate_backend`) to hand
        // the leadership over by force.
        target
            .config
            .application_name(&format!("anchorage-election {name}"));
        let candidate = Candidate {
            target,
            name: name.to_string(),
            fence,
            changed: Box::new(changed),
            stop: Arc::new(AtomicBool::new(false)),
            resign: Resign::default(),
        };
        let (stop, resign) = (candidate.stop.clone(), candidate.resign.clone());
        let thread = std::thread::Builder::new()
            .name("anchorage-election".into())
            .spawn(move || candidate.stand())
            .map_err(|e| StoreError::Disconnected(e.to_string()))?;
        Ok(Election {
            stop,
            resign,
            thread: Some(thread),
        })
    }

    /// What gives this election's leadership up.
    pub fn resigner(&self) -> Resign {
        self.resign.clone()
    }
}

impl Drop for Election {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What an election's thread works with.
struct Candidate {
    target: crate::pg::Target,
    name: String,
    fence: Arc<Fence>,
    /// Told the epoch on winning, `None` on losing.
    changed: Box<dyn Fn(Option<i64>) + Send>,
    stop: Arc<AtomicBool>,
    resign: Resign,
}

impl Candidate {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The election loop: connect, try the lock until it is ours, lead
    /// while the session answers; start over on any failure.
    fn stand(&self) {
        let mut logged_failure = false;
        while !self.stopping() {
            let result = self.session();
            if self.fence.epoch().is_some() {
                self.fence.set(0);
                (self.changed)(None);
                tracing::error!("lost the leadership; standing by");
            }
            let mut pause = POLL;
            match result {
                Err(err) if !logged_failure => {
                    tracing::warn!(%err, "leader election: no session; retrying");
                    logged_failure = true;
                }
                Err(_) => {}
                Ok(resigned) => {
                    logged_failure = false;
                    if resigned {
                        tracing::error!(
                            seconds = RESIGNED_FOR.as_secs(),
                            "resigned the leadership; standing again after a pause"
                        );
                        pause = RESIGNED_FOR;
                    }
                }
            }
            let until = std::time::Instant::now() + pause;
            while !self.stopping() {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                std::thread::sleep(POLL.min(left));
            }
        }
    }

    /// One election session: returns when it fails, when stopping, or
    /// (with `true`) when the leader resigned.
    fn session(&self) -> Result<bool> {
        let mut client = crate::pg::connect(&self.target)?;
        self.resign.0.store(0, Ordering::SeqCst);
        while !self.stopping() {
            let resigned = self.resign.0.swap(0, Ordering::SeqCst);
            if resigned != 0 && self.fence.epoch() == Some(resigned) {
                // Fenced first: nothing of this process writes from now
                // on, and the lock goes with the session.
                self.fence.set(0);
                (self.changed)(None);
                return Ok(true);
            }
            if self.fence.epoch().is_some() {
                // A session that no longer answers may have lost the lock.
                client.simple_query("SELECT 1")?;
            } else {
                let row = client.query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])?;
                if row.get::<_, bool>(0) {
                    let epoch = take_office(&mut client, &self.name)?;
                    self.fence.set(epoch);
                    (self.changed)(Some(epoch));
                    tracing::info!(epoch, name = %self.name, "elected leader");
                    continue;
                }
            }
            std::thread::sleep(POLL);
        }
        Ok(false)
    }
}

/// Raises the stored epoch and names this instance, under the write lock:
/// every write of an earlier leader that commits after this is refused.
///
/// A deposed leader that stopped mid-work (paused, or cut off from the
/// server while its other sessions live on) may hold the write lock, or
/// the tree's or RRDP's lock, for as long as its sessions last: those
/// sessions are ended first (its transactions roll back; a tree or
/// serial it was writing never becomes current, `TreeSource::confirm`),
/// and again if the write lock stays taken.
fn take_office(client: &mut postgres::Client, name: &str) -> Result<i64> {
    client.batch_execute(&format!("SET lock_timeout = '{OFFICE_WAIT}'"))?;
    let mut tries = 0;
    let epoch = loop {
        depose(client)?;
        match raise_epoch(client, name) {
            Err(StoreError::Postgres(e))
                if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE)
                    && tries < 30 =>
            {
                tries += 1;
            }
            other => break other?,
        }
    };
    client.batch_execute(&format!("SET lock_timeout = '{}'", crate::pg::LOCK_TIMEOUT))?;
    Ok(epoch)
}

/// Ends the sessions of other `serve` instances that hold or wait for an
/// Anchorage advisory lock; a standby's only ever wait to be refused.
/// Only sessions of this role: every instance connects as the same one
/// (another role's could not be ended without privileges).
fn depose(client: &mut postgres::Client) -> Result<()> {
    let ended = client.query(
        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a
          WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
            AND a.application_name = $1 AND a.usename = current_user
            AND a.pid IN (SELECT pid FROM pg_locks
                           WHERE locktype = 'advisory' AND classid = $2::BIGINT::OID)",
        &[&SERVE_SESSIONS, &LOCK_CLASS],
    )?;
    if !ended.is_empty() {
        tracing::warn!(
            sessions = ended.len(),
            "ended sessions of another instance that held Anchorage's locks"
        );
    }
    Ok(())
}

/// The epoch's raise, in one transaction under the write lock.
fn raise_epoch(client: &mut postgres::Client, name: &str) -> Result<i64> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "SELECT pg_advisory_xact_lock({})",
        crate::pg::WRITE_LOCK
    ))?;
    let row = tx.query_one(
        "INSERT INTO meta (key, value) VALUES ($1, '1')
         ON CONFLICT (key) DO UPDATE SET value = (CAST(meta.value AS BIGINT) + 1)::TEXT
         RETURNING value",
        &[&EPOCH_KEY],
    )?;
    let epoch: String = row.get(0);
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&NAME_KEY, &name],
    )?;
    tx.commit()?;
    epoch
        .parse()
        .map_err(|_| crate::corrupt("leader epoch", epoch))
}
