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
//! connection), and within the keepalive settings this session asks the
//! server for (about 6 s) when its machine or network goes away.

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

/// How often a standby tries the lock, and the leader checks its session.
const POLL: Duration = Duration::from_millis(500);

/// Server-side keepalives of the election session: PostgreSQL drops the
/// session, and with it the leadership, about this long after the
/// leader's machine stops answering.
const SERVER_KEEPALIVES: &str = "SET tcp_keepalives_idle = 2; SET tcp_keepalives_interval = 1; \
     SET tcp_keepalives_count = 3; SET tcp_user_timeout = 6000";

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

/// The election of one instance, on a thread of its own; dropping it
/// ends the session (and the leadership, if held).
pub struct Election {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
        let config = crate::pg::config(url)?;
        let stop = Arc::new(AtomicBool::new(false));
        let name = name.to_string();
        let thread = std::thread::Builder::new()
            .name("anchorage-election".into())
            .spawn({
                let stop = stop.clone();
                move || stand(&config, &name, &fence, &changed, &stop)
            })
            .map_err(|e| StoreError::Disconnected(e.to_string()))?;
        Ok(Election {
            stop,
            thread: Some(thread),
        })
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

/// The election loop: connect, try the lock until it is ours, lead while
/// the session answers; start over on any failure.
fn stand(
    config: &postgres::Config,
    name: &str,
    fence: &Fence,
    changed: &dyn Fn(Option<i64>),
    stop: &AtomicBool,
) {
    let mut logged_failure = false;
    while !stop.load(Ordering::SeqCst) {
        let result = session(config, name, fence, changed, stop);
        if fence.epoch().is_some() {
            fence.set(0);
            changed(None);
            tracing::error!("lost the leadership; standing by");
        }
        match result {
            Err(err) if !logged_failure => {
                tracing::warn!(%err, "leader election: no session; retrying");
                logged_failure = true;
            }
            Err(_) => {}
            Ok(()) => logged_failure = false,
        }
        std::thread::sleep(POLL);
    }
}

/// One election session: returns when it fails or `stop` is set.
fn session(
    config: &postgres::Config,
    name: &str,
    fence: &Fence,
    changed: &dyn Fn(Option<i64>),
    stop: &AtomicBool,
) -> Result<()> {
    let mut client = crate::pg::connect(config)?;
    client.batch_execute(SERVER_KEEPALIVES)?;
    while !stop.load(Ordering::SeqCst) {
        if fence.epoch().is_some() {
            // A session that no longer answers may have lost the lock.
            client.simple_query("SELECT 1")?;
        } else {
            let row = client.query_one("SELECT pg_try_advisory_lock($1)", &[&LEADER_LOCK])?;
            if row.get::<_, bool>(0) {
                let epoch = take_office(&mut client, name)?;
                fence.set(epoch);
                changed(Some(epoch));
                tracing::info!(epoch, name, "elected leader");
                continue;
            }
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// Raises the stored epoch and names this instance, under the write lock:
/// every write of an earlier leader that commits after this is refused.
fn take_office(client: &mut postgres::Client, name: &str) -> Result<i64> {
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
