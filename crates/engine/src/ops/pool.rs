//! Connections to one data directory, for `serve`: each request takes
//! one, so requests run side by side and only their short write
//! transactions take turns (at the store's write gate).
//!
//! Every connection shares the key store (and its EE key pool), the write
//! gate and the publication lock ([`Shared`]); what a connection carries
//! of its own is its SQLite connection. Who acts is an argument of each
//! changing call, so a connection carries nothing from one request to
//! the next.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex};

use super::{Anchorage, Result, RoaLimits, Shared};
use crate::clock::Clock;
use crate::datadir::DataDir;

/// How a pool's connections are set up.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// Group publication (see [`Anchorage::set_deferred_publication`]).
    pub deferred: bool,
    /// Whether tree writes push to a remote repository themselves.
    pub push_inline: bool,
    /// RRDP serials apart from trees (see [`Anchorage::set_rrdp_apart`]).
    pub rrdp_apart: bool,
    /// Superseded trees removed apart (see [`Anchorage::set_trash_apart`]).
    pub trash_apart: bool,
    /// Per-CA ROA limits.
    pub limits: RoaLimits,
    /// Connections open at most; callers beyond wait for one.
    pub max_connections: usize,
    /// How long one exchange with a remote parent or repository may take.
    pub peer_timeout: std::time::Duration,
    /// The staging period of key rollovers started without one.
    pub keyroll_staging: chrono::TimeDelta,
    /// Which keys are rolled on a schedule.
    pub keyroll_policy: Option<super::KeyrollPolicy>,
    /// Whether writes need this process's leadership, on PostgreSQL: the
    /// pool's connections share one fence ([`EnginePool::fence`]) that
    /// refuses them until an election is won (`serve`).
    pub fenced: bool,
}

/// What carries the messages of a pool's connections to peers.
pub type Transport = std::sync::Arc<dyn crate::transport::PeerTransport>;

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            deferred: false,
            push_inline: true,
            rrdp_apart: false,
            trash_apart: false,
            limits: RoaLimits::default(),
            max_connections: 8,
            peer_timeout: crate::transport::PEER_TIMEOUT,
            keyroll_staging: super::DEFAULT_STAGING,
            keyroll_policy: None,
            fenced: false,
        }
    }
}

/// A pool of [`Anchorage`] connections to one data directory.
pub struct EnginePool {
    dir: DataDir,
    clock: Clock,
    shared: Shared,
    settings: PoolSettings,
    transport: Transport,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Anchorage>,
    open: usize,
}

/// A connection taken from an [`EnginePool`]; it goes back when dropped.
pub struct Connection<'a> {
    pool: &'a EnginePool,
    engine: Option<Anchorage>,
}

impl EnginePool {
    /// Opens the first connection to `dir` (checking that it opens).
    pub fn open(
        dir: DataDir,
        clock: Clock,
        settings: PoolSettings,
        transport: Transport,
    ) -> Result<EnginePool> {
        let mut shared = Shared::open(&dir)?;
        if settings.fenced
            && matches!(
                dir.store_location()?,
                anchorage_store::Location::Postgres(_)
            )
        {
            shared.fence = Some(anchorage_store::leader::Fence::standby());
        }
        let pool = EnginePool {
            dir,
            clock,
            shared,
            settings,
            transport,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        };
        let first = pool.connect()?;
        let mut state = pool.lock();
        state.idle.push(first);
        state.open = 1;
        drop(state);
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn connect(&self) -> Result<Anchorage> {
        let mut a = Anchorage::open_shared(self.dir.clone(), self.clock, &self.shared)?;
        a.set_deferred_publication(self.settings.deferred);
        a.set_push_inline(self.settings.push_inline);
        a.set_rrdp_apart(self.settings.rrdp_apart);
        a.set_trash_apart(self.settings.trash_apart);
        a.set_roa_limits(self.settings.limits);
        a.set_keyroll_staging(self.settings.keyroll_staging);
        a.set_keyroll_policy(self.settings.keyroll_policy);
        a.set_peer_timeout(self.settings.peer_timeout);
        a.set_transport(self.transport.clone());
        if let Some(fence) = &self.shared.fence {
            a.store.set_fence(fence.clone())?;
        }
        Ok(a)
    }

    /// The fence of the pool's connections, when their writes need this
    /// process's leadership: what an election on the store sets.
    pub fn fence(&self) -> Option<std::sync::Arc<anchorage_store::leader::Fence>> {
        self.shared.fence.clone()
    }

    /// Takes a connection: an idle one, a new one, or (with
    /// `max_connections` in use) the next one returned.
    pub fn get(&self) -> Result<Connection<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(engine) = state.idle.pop() {
                return Ok(Connection {
                    pool: self,
                    engine: Some(engine),
                });
            }
            if state.open < self.settings.max_connections.max(1) {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(engine) => Ok(Connection {
                        pool: self,
                        engine: Some(engine),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Keeps the EE key pool filled to `target` from a background thread.
    pub fn start_ee_key_refill(&self, target: usize) {
        self.shared
            .keys
            .start_pool_refill(target, std::time::Duration::from_millis(200));
    }
}

impl Deref for Connection<'_> {
    type Target = Anchorage;
    fn deref(&self) -> &Anchorage {
        self.engine
            .as_ref()
            .expect("a connection holds its engine until dropped")
    }
}

impl DerefMut for Connection<'_> {
    fn deref_mut(&mut self) -> &mut Anchorage {
        self.engine
            .as_mut()
            .expect("a connection holds its engine until dropped")
    }
}

impl Drop for Connection<'_> {
    fn drop(&mut self) {
        if let Some(engine) = self.engine.take() {
            self.pool.lock().idle.push(engine);
            self.pool.returned.notify_one();
        }
    }
}
