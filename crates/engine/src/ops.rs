//! The operations of Anchorage.
//!
//! Order within an operation: validate what can be validated from a read
//! snapshot; generate keys and sign what can be signed without the
//! store's write lock; then, inside one short `BEGIN IMMEDIATE`
//! transaction, check that what the work was based on did not change,
//! change the configuration, store the signed objects and commit; only
//! then write the rsync tree and RRDP files from a committed snapshot. A
//! crash before the commit leaves no trace; a crash after it leaves a
//! committed state that the next tree write publishes. Manifest and CRL
//! numbers are committed with the manifests that use them, so they never
//! go back. docs/architecture.md gives the whole concurrency model.

use std::fs;
use std::io::Write;
use std::sync::Arc;

use anchorage_ca_core::aspa::aspa_file_asn;
use anchorage_ca_core::ca::{self, ChildCa, TA_HANDLE};
use anchorage_ca_core::objects::{CaSigner, Issuer};
use anchorage_ca_core::point::{self, PublishedObject};
use anchorage_ca_core::roa::{canonical_payloads, roa_file_asn, roa_file_name};
use anchorage_ca_core::{
    CaRecord, PublicationPoint, RepositoryLayout, ResourceSet, RoaPayload, Time, Timing, time_diff,
    validate_handle,
};
use anchorage_keys::KeyClass;
use anchorage_keys::KeyStore;
use anchorage_publication::{RsyncTree, WriteStats};
use anchorage_rrdp_server::RrdpState;
use anchorage_rrdp_server::repository::RrdpRepository;
use anchorage_store::{Store, Tx, to_secs};
use base64::Engine as _;
use chrono::{SecondsFormat, TimeDelta};
use rpki::crypto::{KeyIdentifier, Signer};

use crate::audit::{Actor, Event, Journal};
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::error::AppError;
use crate::fault;
use crate::report::{CaDetails, CaSummary, ObjectInfo, PublishReport, RoaInfo};

/// Shorthand for operation results.
pub type Result<T> = std::result::Result<T, AppError>;

mod aspa;
pub mod backup;
mod batch;
mod delegation;
mod inventory;
mod keyroll;
mod parent;
mod pool;
mod pubserver;
mod router;
mod source;
pub mod status;
mod ta_keyroll;
pub use aspa::{AspaChanges, AspaOptions, AspaRequest, aspa_etag};
pub use batch::{BatchOptions, BatchOutcome};
pub use delegation::{ChildCertInfo, ChildInfo, Refusal};
pub use keyroll::{DEFAULT_STAGING, KeyrollPolicy, MAX_STAGING};
pub use parent::{ParentInfo, RepositoryInfo, SyncReport};
pub use pool::{Connection, EnginePool, PoolSettings};
pub use pubserver::PublisherInfo;
pub use router::RouterCertInfo;
pub use ta_keyroll::DEFAULT_TA_STAGING;

/// The default handle of the online CA under the trust anchor.
pub const DEFAULT_ONLINE_HANDLE: &str = "online";

/// What a batch of ROA changes did (or, dry, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RoaChanges {
    /// Payloads added.
    pub added: usize,
    /// Payloads removed.
    pub removed: usize,
    /// Additions that were already configured (no-ops).
    pub unchanged: usize,
    /// The payloads newly authorised.
    #[serde(skip)]
    pub announced: Vec<RoaPayload>,
    /// The payloads no longer authorised.
    #[serde(skip)]
    pub withdrawn: Vec<RoaPayload>,
    /// The CA's payloads after the change.
    #[serde(skip)]
    pub after: Vec<RoaPayload>,
    /// What the audit log recorded (none for a dry run).
    #[serde(skip)]
    pub events: Vec<Event>,
    /// The ETag of the CA's ROA list after the change.
    #[serde(skip)]
    pub etag: String,
}

/// Per-CA limits on ROA configuration: a batch that would take a CA past
/// one is refused whole, naming the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoaLimits {
    /// ROA payloads (prefix, maxLength, origin) a CA may have.
    pub payloads: usize,
    /// Distinct origin ASNs among them: one ROA object, and so one
    /// signature and one fresh key, per origin.
    pub origin_asns: usize,
}

impl Default for RoaLimits {
    /// 100,000 payloads and 5,000 origins: above what the largest LIRs
    /// configure, low enough that one CA cannot make the repository's
    /// size or a batch's signing time unbounded.
    fn default() -> Self {
        RoaLimits {
            payloads: 100_000,
            origin_asns: 5_000,
        }
    }
}

/// A ROA batch as planned from a read snapshot: what it changes and the
/// payloads to sign per origin AS, with what the commit checks.
struct RoaPlan {
    ca: CaRecord,
    etag_before: String,
    /// Per origin AS whose ROA changes: its canonical payloads (none:
    /// withdraw the ROA).
    signed: Vec<(u32, Vec<RoaPayload>)>,
    changes: RoaChanges,
    remove: Vec<RoaPayload>,
    add: Vec<RoaPayload>,
}

/// A batch signing more ROAs than this makes its own one-time keys
/// instead of taking them from the shared pool, which single changes of
/// every other tenant rely on.
const POOL_SHARE: usize = 16;

/// Points whose manifests and CRLs are signed together and committed in
/// one transaction when refreshed: a few seconds of key generation each.
const REFRESH_CHUNK: usize = 256;

/// Points whose owed manifests and CRLs (those of changes made under
/// deferred publication) are signed together and committed in one
/// transaction: a point a change touches while its chunk is signed is
/// signed again in the next round, so chunks are kept short (in a burst
/// of 1,000 changes on 200 CAs a chunk of 200 points, 0.18 s of signing,
/// lost 127 of them).
const OWED_CHUNK: usize = 32;

/// How many times as long as an RRDP serial's own work took (not its
/// waits for a tree writer's turn) `serve` waits before the next: a
/// snapshot is the whole repository (1.6 s at 50,000 CAs,
/// RFC 8182 §3.5.2: every serial has one), so under a stream of changes
/// serials take at most a quarter of the time, each holding every change
/// committed since the last. RRDP clients poll minutes apart; rsync
/// trees, and the RTR cache validating them, carry each change at once.
pub const RRDP_REST: u32 = 3;

/// The pause after a serial whose own work took `took`
/// ([`Anchorage::write_rrdp_timed`]): [`RRDP_REST`] times that, and never
/// less than `least` (the task's poll).
pub fn rrdp_pause(took: std::time::Duration, least: std::time::Duration) -> std::time::Duration {
    (took * RRDP_REST).max(least)
}

/// How much serial work `serve`'s RRDP task may hold in hand beyond its
/// share (a quarter of the time, [`RRDP_REST`]) to end a rest early when
/// the changes stop ([`RrdpShare`]): about one serial at 50,000 CAs, so
/// over any span serials take at most a quarter of it and this.
pub const RRDP_CREDIT_MAX: std::time::Duration = std::time::Duration::from_secs(2);

/// `serve`'s RRDP task's account of its share of the time: serials may
/// take a quarter of it ([`RRDP_REST`]), and up to [`RRDP_CREDIT_MAX`]
/// of work not spent is kept. While changes come, the task rests
/// [`rrdp_pause`] after each serial; when they stop, the rest ends as
/// soon as the share kept would pay for another serial like the last,
/// so the last changes of a burst reach RRDP clients with their tree,
/// while a sparse stream of changes (one a second at 50,000 CAs, where
/// a serial takes 1.6 s) soon finds no share left and gets the rest.
#[derive(Clone, Copy, Debug)]
pub struct RrdpShare {
    /// Serial work in hand, in seconds: negative after a serial that
    /// took more than there was.
    credit: f64,
    /// When it was counted.
    at: std::time::Instant,
}

impl RrdpShare {
    /// A task that has written nothing yet: the whole credit in hand.
    pub fn new(now: std::time::Instant) -> Self {
        RrdpShare {
            credit: RRDP_CREDIT_MAX.as_secs_f64(),
            at: now,
        }
    }

    /// The rest from `now`, after a serial whose own work took `work`
    /// (see [`Anchorage::write_rrdp_timed`]): [`rrdp_pause`], ended early
    /// by the change journal's head standing still for [`GROUP_POLL`],
    /// but not before `least`, nor before the share would pay for a
    /// serial like this one again.
    pub fn rest_after(
        &mut self,
        now: std::time::Instant,
        work: std::time::Duration,
        least: std::time::Duration,
    ) -> Rest {
        let share = 1.0 / f64::from(RRDP_REST + 1);
        let gained = now.saturating_duration_since(self.at).as_secs_f64() * share;
        self.credit = (self.credit + gained).min(RRDP_CREDIT_MAX.as_secs_f64());
        self.credit -= work.as_secs_f64();
        self.at = now;
        let pause = rrdp_pause(work, least);
        let short = (work.as_secs_f64() - self.credit).max(0.0) / share;
        let earliest = std::time::Duration::from_secs_f64(short.min(pause.as_secs_f64()));
        Rest::new(now, earliest.max(least), pause, GROUP_POLL)
    }
}

/// Where the state an RRDP serial shows comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerialSettle {
    /// What deferred changes owe is signed first, as for a tree write.
    Own,
    /// Only a state found settled (as a tree write leaves it, every
    /// manifest and CRL signed): while a change owes one, no serial.
    Found,
}

/// What [`Anchorage::write_rrdp_timed`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrdpWrite {
    /// Wrote (or announced again) this serial; its own work took this.
    Serial(u64, std::time::Duration),
    /// Nothing changed since the serial announced.
    Current,
    /// A change owes its manifest, and [`SerialSettle::Found`] was asked.
    Unsettled,
}

/// What a serial's write under the RRDP locks did.
enum Locked {
    Serial(u64),
    /// Announced again a serial committed before (see `prepare_from`).
    Again(Option<u64>),
    Current,
    Unsettled,
}

/// How long `serve`'s RRDP task waits for a state the tree writer
/// settled ([`SerialSettle::Found`]) before it settles one itself.
/// Under a stream of changes some point nearly always owes its
/// manifest; a settle of its own signs the manifests of every point
/// changed since the last settle, which the next tree write signs again
/// for the changes after it. In a lull, and at the end of a burst, the
/// tree writer's state is found within [`GROUP_POLL`].
pub const RRDP_SETTLE_AFTER: std::time::Duration = std::time::Duration::from_secs(2);

/// How long `serve`'s RRDP task waits after a serial that failed.
const RRDP_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// `serve`'s RRDP task's pace: where its next serial's state comes from
/// and how long it rests after each write, for `serve` and the bench's
/// copy of the task alike.
#[derive(Clone, Copy, Debug)]
pub struct RrdpPace {
    share: RrdpShare,
    /// Since when every look found a change owing its manifest.
    unsettled_since: Option<std::time::Instant>,
    /// The task's poll: its least rest.
    least: std::time::Duration,
}

impl RrdpPace {
    /// A task that polls every `least`, starting at `now`.
    pub fn new(now: std::time::Instant, least: std::time::Duration) -> Self {
        RrdpPace {
            share: RrdpShare::new(now),
            unsettled_since: None,
            least,
        }
    }

    /// Where the next serial's state comes from: the one a tree write
    /// settled, unless none was found for [`RRDP_SETTLE_AFTER`].
    pub fn settle(&self, now: std::time::Instant) -> SerialSettle {
        match self.unsettled_since {
            Some(since) if now.saturating_duration_since(since) >= RRDP_SETTLE_AFTER => {
                SerialSettle::Own
            }
            _ => SerialSettle::Found,
        }
    }

    /// Whether the last write found a change owing its manifest.
    pub fn unsettled(&self) -> bool {
        self.unsettled_since.is_some()
    }

    /// The rest from `now` after a write that did `written` (`None`: it
    /// failed): [`RrdpShare::rest_after`] a serial, a poll when nothing
    /// changed, [`GROUP_POLL`] while a change owes its manifest, a
    /// second after a failure.
    pub fn rest_after(&mut self, now: std::time::Instant, written: Option<RrdpWrite>) -> Rest {
        if written == Some(RrdpWrite::Unsettled) {
            self.unsettled_since.get_or_insert(now);
            return Rest::wait(now, GROUP_POLL);
        }
        self.unsettled_since = None;
        match written {
            Some(RrdpWrite::Serial(_, work)) => self.share.rest_after(now, work, self.least),
            Some(_) => Rest::wait(now, self.least),
            None => Rest::wait(now, RRDP_RETRY_AFTER),
        }
    }
}

/// The least time between the starts of two of `serve`'s group tree
/// writes: changes committed within it are published together.
pub const GROUP_WINDOW: std::time::Duration = std::time::Duration::from_millis(100);

/// How often `serve`'s group publisher looks for changes to publish (a
/// read of the change journal's head) once a window has passed, and how
/// long the changes must stand still to end its rest early (and the RRDP
/// task's, [`RrdpShare`]).
pub const GROUP_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// How many times as long as its last tree write took `serve`'s group
/// publisher rests after it, when that is longer than what is left of
/// [`GROUP_WINDOW`]: a write takes long under a burst, when it signs the
/// manifests and CRLs of many points, and the rest lets the next gather
/// more changes per point (one manifest for several changes of a CA)
/// while the changes take the cores.
pub const GROUP_REST: u32 = 2;

/// The longest rest after a tree write: a write slow for another reason
/// (a spare tree brought forward across many paths) holds the next
/// change back by no more than this.
pub const GROUP_REST_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// How long the group publisher waits, `since` after the start of a tree
/// write that took `took`, before it looks for changes to publish again:
/// until [`GROUP_WINDOW`] after the write's start, or [`GROUP_REST`] times
/// `took` (at most [`GROUP_REST_MAX`]) when longer, and never less than
/// `poll`.
pub fn group_pause(
    since: std::time::Duration,
    took: std::time::Duration,
    poll: std::time::Duration,
) -> std::time::Duration {
    let window = GROUP_WINDOW.saturating_sub(since);
    let rest = (took * GROUP_REST).min(GROUP_REST_MAX);
    window.max(rest).max(poll)
}

/// A publication task's rest between two writes: it lasts until `until`,
/// and ends sooner, though never before `earliest`, once the change
/// journal's head has stood still for `quiet`. A rest is there to leave
/// the cores and the disk to changes while they come, and one manifest
/// for several changes of a CA; when they stop (a burst ends), waiting
/// on delays only the last ones. The task looks at the head at most
/// every `quiet` ([`Self::next_look`]) and tells [`Self::over`].
#[derive(Clone, Copy, Debug)]
pub struct Rest {
    earliest: std::time::Instant,
    until: std::time::Instant,
    quiet: std::time::Duration,
    /// The head last seen, and since when it has stood there.
    seen: Option<(i64, std::time::Instant)>,
}

impl Rest {
    /// A rest from `now` for `pause`, at least `least` of it, ended early
    /// by a journal head standing still for `quiet`.
    pub fn new(
        now: std::time::Instant,
        least: std::time::Duration,
        pause: std::time::Duration,
        quiet: std::time::Duration,
    ) -> Self {
        Rest {
            earliest: now + least.min(pause),
            until: now + pause,
            quiet,
            seen: None,
        }
    }

    /// A plain wait of `d` from `now`, which the journal's head does not
    /// end early.
    pub fn wait(now: std::time::Instant, d: std::time::Duration) -> Self {
        Rest::new(now, d, d, d)
    }

    /// The group publisher's rest from `now`, after the tree write (or
    /// failed try) that started at `last` and took the time given with it:
    /// [`group_pause`], ended early by [`GROUP_POLL`] without a change; a
    /// poll's when no write was made yet.
    pub fn after_tree(
        now: std::time::Instant,
        last: Option<(std::time::Instant, std::time::Duration)>,
    ) -> Self {
        match last {
            Some((started, took)) => {
                let since = now.saturating_duration_since(started);
                Rest::new(
                    now,
                    GROUP_WINDOW.saturating_sub(since),
                    group_pause(since, took, GROUP_POLL),
                    GROUP_POLL,
                )
            }
            None => Rest::new(now, GROUP_POLL, GROUP_POLL, GROUP_POLL),
        }
    }

    /// Whether the rest's whole time is up at `now` (no look needed).
    pub fn time_up(&self, now: std::time::Instant) -> bool {
        now >= self.until
    }

    /// How long to sleep before the next look at the journal's head.
    pub fn next_look(&self, now: std::time::Instant) -> std::time::Duration {
        self.until.saturating_duration_since(now).min(self.quiet)
    }

    /// Whether the rest is over at `now`, with the journal's head at
    /// `head`: its time is up, or the head has not moved for `quiet`
    /// (and `earliest` is past). The first look only records the head.
    pub fn over(&mut self, now: std::time::Instant, head: i64) -> bool {
        if now >= self.until {
            return true;
        }
        match self.seen {
            Some((seen, since)) if seen == head => {
                now >= self.earliest && now.duration_since(since) >= self.quiet
            }
            _ => {
                self.seen = Some((head, now));
                false
            }
        }
    }
}

/// The ETag of a CA's ROA list (RFC 9110 §8.8.3): a hash of its sorted
/// payloads, quoted. It changes exactly when the list does.
pub fn roa_etag(payloads: &[RoaPayload]) -> String {
    let mut sorted = payloads.to_vec();
    sorted.sort();
    let mut text = String::new();
    for p in &sorted {
        text.push_str(&format!("{} {} {}\n", p.asn, p.prefix, p.max_length));
    }
    quoted_etag(&text)
}

/// An ETag for a list written as `text`: the first 128 bits of its
/// SHA-256, in hex, quoted (RFC 9110 §8.8.3).
fn quoted_etag(text: &str) -> String {
    let digest = point::sha256(text.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Opens the write transaction that commits a change planned from a read
/// snapshot (entered through `held` when this process's writers are held
/// back), with the CA record as it is now; `None` when the CA's key or
/// certificate changed since `planned` was read, so the change must be
/// planned and signed again.
fn planned_tx<'a>(
    store: &'a mut Store,
    held: Option<&anchorage_store::GateGuard>,
    planned: &CaRecord,
) -> Result<Option<(Tx<'a>, CaRecord)>> {
    let tx = match held {
        Some(held) => store.transaction_entered(held)?,
        None => store.transaction()?,
    };
    let ca = load_ca(&tx, &planned.handle)?;
    if ca.key != planned.key || ca.cert_serial != planned.cert_serial {
        return Ok(None);
    }
    Ok(Some((tx, ca)))
}

/// Arguments of `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// `rsync://HOST/MODULE/` the repository is served at.
    pub rsync_uri: String,
    /// `https://HOST/rrdp/` RRDP will be served at.
    pub rrdp_uri: String,
    /// The trust anchor's resources.
    pub ta_resources: ResourceSet,
    /// The handle of the online CA under the TA.
    pub online_handle: String,
    /// Manifest/CRL nextUpdate in hours.
    pub next_update_hours: u32,
    /// Reissue manifests/CRLs when fewer hours than this remain.
    pub reissue_before_hours: u32,
    /// Spread manifest/CRL nextUpdate over this many minutes.
    pub jitter_minutes: u32,
}

impl InitOptions {
    /// Options with every default, for these URIs.
    pub fn new(rsync_uri: impl Into<String>, rrdp_uri: impl Into<String>) -> Self {
        InitOptions {
            rsync_uri: rsync_uri.into(),
            rrdp_uri: rrdp_uri.into(),
            ta_resources: ResourceSet::all(),
            online_handle: DEFAULT_ONLINE_HANDLE.into(),
            next_update_hours: 24,
            reissue_before_hours: 16,
            jitter_minutes: 60,
        }
    }
}

/// What the connections of one process to a data directory share: the
/// key store (and its pool of EE keys), the write gate and the lock that
/// serialises tree writes. [`EnginePool`] hands out connections that share
/// one of these.
#[derive(Clone)]
pub struct Shared {
    keys: Arc<KeyStore>,
    gate: Arc<anchorage_store::WriteGate>,
    publish_lock: Arc<std::sync::Mutex<()>>,
    rrdp_lock: Arc<std::sync::Mutex<()>>,
    ca_locks: Arc<CaLocks>,
    /// When the connections last looked for RRDP files no longer listed.
    rrdp_pruned: anchorage_rrdp_server::repository::PruneClock,
    /// Set for `serve` on PostgreSQL: writes need the leadership.
    fence: Option<Arc<anchorage_store::leader::Fence>>,
}

impl Shared {
    /// Opens the key store of `dir`, with a new gate and publication
    /// lock; warns if the directory or the store can be read by others
    /// (a copy of them can sign).
    pub fn open(dir: &DataDir) -> Result<Shared> {
        for (path, mode) in dir.loose_modes() {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "readable by others than its owner; `chmod go= {}` makes it private again",
                path.display()
            );
        }
        Ok(Shared {
            keys: Arc::new(KeyStore::open(dir.keys())?),
            gate: Arc::new(anchorage_store::WriteGate::default()),
            publish_lock: Arc::new(std::sync::Mutex::new(())),
            rrdp_lock: Arc::new(std::sync::Mutex::new(())),
            ca_locks: Arc::new(CaLocks::default()),
            rrdp_pruned: Default::default(),
            fence: None,
        })
    }
}

/// The locks across processes of tree writes: the file on SQLite, the
/// advisory lock on PostgreSQL.
const TREE_LOCKS: (fn(&DataDir) -> std::io::Result<std::fs::File>, i64) =
    (DataDir::lock_publication, anchorage_store::pg::PUBLISH_LOCK);

/// The locks across processes of RRDP serial writes.
const RRDP_LOCKS: (fn(&DataDir) -> std::io::Result<std::fs::File>, i64) =
    (DataDir::lock_rrdp, anchorage_store::pg::RRDP_LOCK);

/// A publication lock across processes, held until dropped.
enum Across {
    /// An exclusive `flock` of a lock file (SQLite).
    File { _lock: std::fs::File },
    /// A session-level advisory lock (PostgreSQL).
    Session {
        _lock: anchorage_store::pg::SessionLock,
    },
}

/// One lock per CA for ROA batches: a batch holds its CA's from planning
/// to commit, so batches on one CA take turns (the same tenant's) while
/// every other CA's go on. Without it, a large batch signed outside the
/// write lock would be planned again whenever a small change to its CA
/// came first.
#[derive(Default)]
struct CaLocks {
    locks: std::sync::Mutex<std::collections::HashMap<String, Arc<std::sync::Mutex<()>>>>,
}

impl CaLocks {
    /// The lock of CA `handle`.
    fn of(&self, handle: &str) -> Arc<std::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 1024 {
            // Forget the locks nobody holds or waits for.
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(handle.to_string()).or_default().clone()
    }
}

/// An open data directory: store, keys and rsync tree.
pub struct Anchorage {
    pub(crate) store: Store,
    pub(crate) ctx: Ctx,
}

/// Everything of an open data directory but the store, so operations can
/// hold a store transaction while signing.
pub(crate) struct Ctx {
    dir: DataDir,
    keys: Arc<KeyStore>,
    /// Serialises tree writes of this process (other processes meet at
    /// the data directory's publication lock).
    publish_lock: Arc<std::sync::Mutex<()>>,
    /// Serialises RRDP serials of this process (other processes meet at
    /// the data directory's RRDP lock).
    rrdp_lock: Arc<std::sync::Mutex<()>>,
    /// How long this connection has waited, in all, for publication
    /// turns (see [`Anchorage::write_rrdp_timed`]).
    turn_waits: std::time::Duration,
    /// Whether [`Anchorage::write_tree`] leaves the RRDP serial to
    /// [`Anchorage::write_rrdp`] (serve writes serials from a task).
    rrdp_apart: bool,
    /// Per-CA locks of ROA batches.
    ca_locks: Arc<CaLocks>,
    /// Whether a tree write pushes to the remote repository itself;
    /// `serve` pushes from its own task instead, so a slow repository
    /// never holds up publication.
    push_inline: bool,
    /// Whether superseded rsync trees are left in the trash for the
    /// caller to remove (`serve` does it from a thread of its own)
    /// instead of by each tree write, after its locks.
    trash_apart: bool,
    /// Per-CA limits on ROA configuration.
    limits: RoaLimits,
    /// How long one exchange with a remote parent or repository may take.
    pub(crate) peer_timeout: std::time::Duration,
    /// What carries messages to remote parents and repositories.
    pub(crate) transport: Arc<dyn crate::transport::PeerTransport>,
    tree: RsyncTree,
    rrdp: RrdpRepository,
    layout: RepositoryLayout,
    timing: Timing,
    online: String,
    pub(crate) clock: Clock,
    /// ROA changes leave the manifest, CRL and tree to [`Anchorage::write_tree`].
    deferred: bool,
    /// The staging period of key rollovers started without one.
    keyroll_staging: TimeDelta,
    /// Which keys [`Anchorage::run_due_keyrolls`] starts rolling.
    keyroll_policy: Option<KeyrollPolicy>,
}

/// Refuses to take CA `handle` away while CAs or delegated children
/// below it would lose their issuer.
fn without_children(tx: &Tx<'_>, handle: &str) -> Result<()> {
    let children = tx.children(handle)?;
    if !children.is_empty() {
        return Err(AppError::Undeletable {
            handle: handle.into(),
            why: format!("delete its child CAs first: {}", children.join(", ")),
        });
    }
    let delegated: Vec<String> = tx
        .children_of(handle)?
        .into_iter()
        .map(|c| c.handle)
        .collect();
    if !delegated.is_empty() {
        return Err(AppError::Undeletable {
            handle: handle.into(),
            why: format!(
                "remove its delegated children first (`anchorage child remove`): {}",
                delegated.join(", ")
            ),
        });
    }
    Ok(())
}

/// Revokes the tokens scoped to CA `handle`, which is going away: a
/// token must not carry over to a CA created later under the same name.
fn revoke_tokens_of(tx: &Tx<'_>, journal: &mut Journal<'_>, handle: &str, now: Time) -> Result<()> {
    for token in tx.tokens()? {
        if token.revoked.is_none() && token.cas.iter().any(|c| c == handle) {
            tx.revoke_token(&token.id, now)?;
            journal.record(
                tx,
                Event::TokenRevoked {
                    id: token.id,
                    ca: Some(handle.into()),
                },
            )?;
        }
    }
    Ok(())
}

fn rfc3339(t: Time) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn meta(tx: &Tx<'_>, key: &str) -> Result<String> {
    tx.meta(key)?.ok_or_else(|| {
        AppError::Store(anchorage_store::StoreError::Corrupt {
            what: "configuration",
            value: format!("missing {key}"),
        })
    })
}

impl Anchorage {
    /// Creates a data directory: store, TA key and certificate, TAL, online CA.
    pub fn init(
        actor: &Actor,
        dir: DataDir,
        opts: &InitOptions,
        clock: Clock,
    ) -> Result<(Anchorage, Vec<Event>)> {
        let bad = |what, value: &str, rule| AppError::BadArgument {
            what,
            value: value.to_string(),
            rule,
        };
        if !opts.rsync_uri.starts_with("rsync://") || !opts.rsync_uri.ends_with('/') {
            return Err(bad(
                "--rsync-uri",
                &opts.rsync_uri,
                "must be rsync://HOST/MODULE/ with a trailing slash",
            ));
        }
        anchorage_ca_core::objects::rsync_uri(&opts.rsync_uri)?;
        if !opts.rrdp_uri.starts_with("https://") || !opts.rrdp_uri.ends_with('/') {
            return Err(bad(
                "--rrdp-uri",
                &opts.rrdp_uri,
                "must be https://HOST/PATH/ with a trailing slash",
            ));
        }
        anchorage_ca_core::objects::https_uri(&opts.rrdp_uri)?;
        validate_handle(&opts.online_handle)?;
        if opts.online_handle == TA_HANDLE {
            return Err(AppError::ReservedHandle(opts.online_handle.clone()));
        }
        if opts.next_update_hours == 0 || opts.reissue_before_hours >= opts.next_update_hours {
            return Err(bad(
                "--reissue-before-hours",
                &opts.reissue_before_hours.to_string(),
                "must be less than --next-update-hours, which must be positive",
            ));
        }
        if opts.jitter_minutes >= 60 * (opts.next_update_hours - opts.reissue_before_hours) {
            return Err(bad(
                "--reissue-jitter-minutes",
                &opts.jitter_minutes.to_string(),
                "must be shorter than the time between reissues",
            ));
        }

        fs::create_dir_all(dir.root()).map_err(|source| AppError::Io {
            what: format!("creating {}", dir.root().display()),
            source,
        })?;
        let location = dir.store_location()?;
        // One store per data directory, whichever backend: its keys, TAL
        // and trees belong to that store.
        for existing in [dir.database_url(), dir.database()] {
            if existing.exists() {
                return Err(AppError::Store(anchorage_store::StoreError::AlreadyExists(
                    existing.display().to_string(),
                )));
            }
        }
        let store = Store::create_at(&location)?;
        if let Some(given) = dir.given_database() {
            // Later commands on this directory find the database here.
            dir.record_database_url(given)
                .map_err(|source| AppError::Io {
                    what: format!("writing {}", dir.database_url().display()),
                    source,
                })?;
        }
        dir.make_private().map_err(|source| AppError::Io {
            what: format!("making {} private", dir.root().display()),
            source,
        })?;
        let shared = Shared::open(&dir)?;
        let mut this = Anchorage {
            store,
            ctx: Ctx {
                tree: RsyncTree::new(dir.rsync()).abort_after(fault::tree_abort_after()),
                rrdp: RrdpRepository::new(dir.rrdp(), opts.rrdp_uri.clone())
                    .sharing_prune(&shared.rrdp_pruned),
                layout: RepositoryLayout {
                    rsync_base: opts.rsync_uri.clone(),
                    notify: Some(format!("{}notification.xml", opts.rrdp_uri)),
                },
                timing: Timing {
                    mft_crl_next_update: TimeDelta::hours(opts.next_update_hours.into()),
                    mft_crl_reissue_before: TimeDelta::hours(opts.reissue_before_hours.into()),
                    jitter: TimeDelta::minutes(opts.jitter_minutes.into()),
                    ..Timing::default()
                },
                online: opts.online_handle.clone(),
                dir,
                keys: shared.keys,
                publish_lock: shared.publish_lock,
                rrdp_lock: shared.rrdp_lock,
                rrdp_apart: false,
                ca_locks: shared.ca_locks,
                turn_waits: Default::default(),
                push_inline: true,
                trash_apart: false,
                limits: RoaLimits::default(),
                peer_timeout: crate::transport::PEER_TIMEOUT,
                transport: Arc::new(crate::transport::NoTransport),
                clock,
                deferred: false,
                keyroll_staging: keyroll::DEFAULT_STAGING,
                keyroll_policy: None,
            },
        };
        let now = this.ctx.clock.now();
        let ta_key = this.ctx.keys.generate_class(KeyClass::TrustAnchor)?;
        let online_key = this.ctx.keys.generate_class(KeyClass::Ca)?;
        let tx = this.store.transaction()?;
        tx.set_meta("rsync_base", &opts.rsync_uri)?;
        tx.set_meta("rrdp_base", &opts.rrdp_uri)?;
        tx.set_meta("online_handle", &opts.online_handle)?;
        tx.set_meta("next_update_hours", &opts.next_update_hours.to_string())?;
        tx.set_meta(
            "reissue_before_hours",
            &opts.reissue_before_hours.to_string(),
        )?;
        tx.set_meta("jitter_minutes", &opts.jitter_minutes.to_string())?;
        let ta = this
            .ctx
            .issue_ta(&tx, ta_key, opts.ta_resources.clone(), now)?;
        tx.insert_ca(&ta, now)?;
        this.ctx.put_ta_cert(&tx, &ta, now)?;
        let mut point = PublicationPoint::new();
        let ta_issuer = this.ctx.issuer(&ta)?;
        point.publish(this.ctx.ta_tak(&tx, &ta, now)?, now);
        point.refresh(&*this.ctx.keys, &ta_issuer, now, &this.ctx.timing)?;
        tx.save_point(TA_HANDLE, &point, now)?;
        let online = this.ctx.online.clone();
        this.ctx.create_ca_in(
            &tx,
            &online,
            opts.ta_resources.clone(),
            TA_HANDLE,
            online_key,
            now,
        )?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::Init {
                rsync_uri: opts.rsync_uri.clone(),
            },
        )?;
        this.ctx.sync_tals(&tx)?;
        tx.commit()?;
        tracing::info!(rsync = %opts.rsync_uri, online = %online, "initialised trust anchor");
        this.write_tree_after_commit()?;
        let events = journal.into_events();
        Ok((this, events))
    }

    /// Opens an initialised data directory.
    pub fn open(dir: DataDir, clock: Clock) -> Result<Anchorage> {
        let shared = Shared::open(&dir)?;
        Anchorage::open_shared(dir, clock, &shared)
    }

    /// Opens another connection to an initialised data directory, sharing
    /// keys, write gate and publication lock with the others of `shared`.
    pub fn open_shared(dir: DataDir, clock: Clock, shared: &Shared) -> Result<Anchorage> {
        let location = dir.store_location()?;
        let mut store = Store::open_at(&location, shared.gate.clone())?;
        let (rsync_base, rrdp_base, online, next_update, reissue, jitter) = {
            let tx = store.transaction()?;
            (
                meta(&tx, "rsync_base")?,
                meta(&tx, "rrdp_base")?,
                meta(&tx, "online_handle")?,
                meta(&tx, "next_update_hours")?,
                meta(&tx, "reissue_before_hours")?,
                meta(&tx, "jitter_minutes")?,
            )
        };
        let hours = |s: &str| -> Result<TimeDelta> {
            s.parse::<i64>().map(TimeDelta::hours).map_err(|_| {
                AppError::Store(anchorage_store::StoreError::Corrupt {
                    what: "hours",
                    value: s.to_string(),
                })
            })
        };
        Ok(Anchorage {
            store,
            ctx: Ctx {
                tree: RsyncTree::new(dir.rsync()).abort_after(fault::tree_abort_after()),
                rrdp: RrdpRepository::new(dir.rrdp(), rrdp_base.clone())
                    .sharing_prune(&shared.rrdp_pruned),
                layout: RepositoryLayout {
                    rsync_base,
                    notify: Some(format!("{rrdp_base}notification.xml")),
                },
                timing: Timing {
                    mft_crl_next_update: hours(&next_update)?,
                    mft_crl_reissue_before: hours(&reissue)?,
                    jitter: TimeDelta::minutes(jitter.parse().map_err(|_| {
                        AppError::Store(anchorage_store::StoreError::Corrupt {
                            what: "jitter minutes",
                            value: jitter.clone(),
                        })
                    })?),
                    ..Timing::default()
                },
                online,
                dir,
                keys: shared.keys.clone(),
                publish_lock: shared.publish_lock.clone(),
                rrdp_lock: shared.rrdp_lock.clone(),
                rrdp_apart: false,
                ca_locks: shared.ca_locks.clone(),
                turn_waits: Default::default(),
                push_inline: true,
                trash_apart: false,
                limits: RoaLimits::default(),
                peer_timeout: crate::transport::PEER_TIMEOUT,
                transport: Arc::new(crate::transport::NoTransport),
                clock,
                deferred: false,
                keyroll_staging: keyroll::DEFAULT_STAGING,
                keyroll_policy: None,
            },
        })
    }

    /// Group publication: with `true`, a ROA batch commits its re-signed
    /// ROAs and returns; the manifest and CRL of each changed point are
    /// reissued once, and the tree and RRDP serial written once, by the
    /// next [`Self::write_tree`] (serve calls it within ~100 ms). The
    /// owed points are recorded in the store, so a crash in between loses
    /// nothing: the next tree write, at the latest at start, settles them.
    pub fn set_deferred_publication(&mut self, deferred: bool) {
        self.ctx.deferred = deferred;
    }

    /// With `true`, [`Self::write_tree`] writes the rsync tree only and
    /// leaves RRDP serials to [`Self::write_rrdp`], which `serve` runs
    /// from a task of its own.
    pub fn set_rrdp_apart(&mut self, apart: bool) {
        self.ctx.rrdp_apart = apart;
    }

    /// With `false`, tree writes leave pushing to a remote repository to
    /// [`Self::push_remote`] (serve runs it from its own task).
    pub fn set_push_inline(&mut self, inline: bool) {
        self.ctx.push_inline = inline;
    }

    /// With `true`, tree writes leave the superseded trees they set aside
    /// to [`anchorage_publication::RsyncTree::empty_trash`] (serve runs it
    /// from a thread of its own); else each write removes them once it
    /// has let go of the publication's locks, unless serve runs.
    pub fn set_trash_apart(&mut self, apart: bool) {
        self.ctx.trash_apart = apart;
    }

    /// Brings the remote repository (if any) in line with this instance's
    /// remotely published points; a failure is logged and recorded (and
    /// `false` returned), to be retried by the next call.
    pub fn push_remote(&mut self) -> bool {
        self.push_or_record()
    }

    /// Whether points are waiting for their manifest and CRL.
    pub fn has_pending(&mut self) -> Result<bool> {
        let tx = self.store.read_transaction()?;
        Ok(!tx.pending_points()?.is_empty())
    }

    /// The number of the newest change committed to what is published
    /// (the change journal's head): a publication task's [`Rest`] ends
    /// once it stands still.
    pub fn change_head(&mut self) -> Result<i64> {
        Ok(self.store.read_transaction()?.change_seq()?)
    }

    /// Whether the rsync tree is behind the store: points owe their
    /// manifests, or a change was committed (or settled by an RRDP serial
    /// written apart) after the last tree.
    pub fn tree_behind(&mut self) -> Result<bool> {
        tree_is_behind(&self.store.read_transaction()?)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.ctx.dir
    }

    /// The handle of the online CA.
    pub fn online_handle(&self) -> &str {
        &self.ctx.online
    }

    /// The https URI RRDP is served at.
    pub fn rrdp_base(&self) -> &str {
        self.ctx.rrdp.base_uri()
    }

    /// The rsync URI the repository is served at.
    pub fn rsync_base(&self) -> &str {
        &self.ctx.layout.rsync_base
    }

    /// Creates a hosted CA under `parent` (default: the online CA).
    pub fn create_ca(
        &mut self,
        actor: &Actor,
        handle: &str,
        resources: ResourceSet,
        parent: Option<&str>,
    ) -> Result<(CaRecord, Vec<Event>)> {
        validate_handle(handle)?;
        if handle == TA_HANDLE {
            return Err(AppError::ReservedHandle(handle.into()));
        }
        let parent = parent.unwrap_or(&self.ctx.online).to_string();
        if parent == TA_HANDLE {
            return Err(AppError::TaOffLimits {
                online: self.ctx.online.clone(),
                what: format!("CA '{handle}'"),
            });
        }
        // The CA's key is made before the write lock is taken, once what
        // can be checked has been (from a read snapshot; the transaction
        // checks again): bad input leaves no key behind.
        {
            let tx = self.store.read_transaction()?;
            if handle_in_use(&tx, handle)? {
                return Err(AppError::DuplicateHandle(handle.into()));
            }
            within_parent(handle, &load_ca(&tx, &parent)?, &resources)?;
        }
        let key = self.ctx.keys.generate_class(KeyClass::Ca)?;
        let now = self.ctx.clock.now();
        let keys = self.ctx.keys.clone();
        let unused_key = |e: AppError| {
            let _ = keys.destroy_key(&key);
            e
        };
        let tx = self.store.transaction().map_err(|e| unused_key(e.into()))?;
        let ca = self
            .ctx
            .create_ca_in(&tx, handle, resources, &parent, key, now)
            .map_err(unused_key)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::CaCreated {
                ca: handle.into(),
                parent: parent.clone(),
                resources: ca.resources.clone(),
            },
        )?;
        tx.commit()?;
        tracing::info!(ca = %handle, parent = %parent, resources = %ca.resources, "created CA");
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok((ca, journal.into_events()))
    }

    /// Deletes a CA that has no children: withdraws its objects and revokes its certificate.
    pub fn delete_ca(&mut self, actor: &Actor, handle: &str) -> Result<Vec<Event>> {
        if handle == TA_HANDLE || handle == self.ctx.online {
            return Err(AppError::Undeletable {
                handle: handle.into(),
                why: "it is the trust anchor or the online CA".into(),
            });
        }
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let ca = load_ca(&tx, handle)?;
        without_children(&tx, handle)?;
        let parent = ca.parent.clone().ok_or_else(|| AppError::Undeletable {
            handle: handle.into(),
            why: "its certificate comes from a remote parent".into(),
        })?;
        let parent_ca = load_ca(&tx, &parent)?;
        let mut parent_point = tx.point(&parent)?;
        // RFC 6487 §5: revoke the CA certificate; its objects go with the point.
        parent_point.withdraw(&ca::cert_file_name(&ca.key), now);
        let mut keys = vec![ca.key];
        for key in tx.ca_keys(handle)? {
            parent_point.withdraw(&ca::cert_file_name(&key.key), now);
            keys.push(key.key);
        }
        parent_point.refresh(
            &*self.ctx.keys,
            &self.ctx.issuer(&parent_ca)?,
            now,
            &self.ctx.timing,
        )?;
        tx.save_point(&parent, &parent_point, now)?;
        tx.delete_ca(handle)?;
        let mut journal = Journal::new(actor, now);
        revoke_tokens_of(&tx, &mut journal, handle, now)?;
        journal.record(
            &tx,
            Event::CaDeleted {
                ca: handle.into(),
                parent,
                resources: ca.resources,
            },
        )?;
        tx.commit()?;
        tracing::info!(ca = %handle, "deleted CA");
        // Its keys sign nothing any more. A crash before this leaves them
        // as unused keys, which `keys list` shows.
        for key in &keys {
            if let Err(e) = self.ctx.keys.destroy_key(key) {
                tracing::warn!(ca = %handle, key = %key, error = ?e, "the deleted CA's key could not be destroyed");
            }
        }
        self.write_tree_after_commit()?;
        Ok(journal.into_events())
    }

    /// Lists all CAs, parents before children.
    pub fn list_cas(&mut self) -> Result<Vec<CaSummary>> {
        let tx = self.store.read_transaction()?;
        let mut out = Vec::new();
        for ca in tx.cas()? {
            out.push(CaSummary {
                roa_payloads: tx.roas(&ca.handle, None)?.len(),
                handle: ca.handle,
                parent: ca.parent,
                resources: ca.resources.to_string(),
            });
        }
        Ok(out)
    }

    /// Shows one CA in detail.
    pub fn show_ca(&mut self, handle: &str) -> Result<CaDetails> {
        let tx = self.store.read_transaction()?;
        let ca = load_ca(&tx, handle)?;
        let issuer = self.ctx.issuer(&ca)?;
        let point = tx.point(handle)?;
        let mut objects = Vec::new();
        for obj in point.objects.values() {
            objects.push(ObjectInfo {
                uri: issuer.object_uri(&obj.name)?.to_string(),
                size: obj.bytes.len(),
                not_after: rfc3339(obj.not_after),
            });
        }
        Ok(CaDetails {
            children: tx.children(handle)?,
            roas: tx.roas(handle, None)?.iter().map(roa_info).collect(),
            handle: ca.handle.clone(),
            parent: ca.parent.clone(),
            resources: ca.resources.to_string(),
            key_id: ca.key.to_string(),
            cert_uri: issuer.cert_uri.to_string(),
            cert_serial: ca.cert_serial.to_string(),
            cert_not_after: rfc3339(ca.cert_not_after),
            repository: issuer.repo_uri.to_string(),
            manifest_next_update: point.manifest_next_update(&issuer).map(rfc3339),
            next_manifest_number: point.next_manifest_number,
            revoked: point.revocations.len(),
            objects,
        })
    }

    /// Adds a ROA payload; returns false (and changes nothing) if it exists.
    pub fn add_roa(&mut self, actor: &Actor, handle: &str, payload: RoaPayload) -> Result<bool> {
        Ok(self
            .apply_roa_changes(actor, handle, &[payload], &[])?
            .added
            == 1)
    }

    /// Removes a ROA payload; an error if it is not configured.
    pub fn remove_roa(
        &mut self,
        actor: &Actor,
        handle: &str,
        payload: RoaPayload,
    ) -> Result<Vec<Event>> {
        Ok(self
            .apply_roa_changes(actor, handle, &[], &[payload])?
            .events)
    }

    /// Applies a batch of ROA additions and removals to one CA, all or
    /// nothing, in one transaction: each affected ROA (one per origin AS)
    /// is re-signed once, then one CRL and one manifest.
    ///
    /// Adding a payload that exists is a no-op; removing one that does not
    /// is an error that leaves everything unchanged. When nothing changes,
    /// nothing is signed or written.
    pub fn apply_roa_changes(
        &mut self,
        actor: &Actor,
        handle: &str,
        add: &[RoaPayload],
        remove: &[RoaPayload],
    ) -> Result<RoaChanges> {
        self.roa_batch(actor, handle, add, remove, None, false)
    }

    /// [`Self::apply_roa_changes`] for the admin API: refused with
    /// [`AppError::PreconditionFailed`] unless the CA's ROA list still has
    /// the ETag `if_match` (checked again when committing); with `dry`,
    /// everything is checked and reported but nothing changes.
    ///
    /// The ROAs are signed before the store's write lock is taken, from
    /// the configuration as read, with the CA's batch lock held (batches
    /// on one CA take turns; other CAs' go on). The commit checks that the
    /// CA's ROA list and certificate are what they were, and plans and
    /// signs again if something else changed them first (another process,
    /// a parent sync). After a few such rounds this process's other
    /// writers are held back while the batch is planned, signed and
    /// committed, so a batch always ends.
    pub fn roa_batch(
        &mut self,
        actor: &Actor,
        handle: &str,
        add: &[RoaPayload],
        remove: &[RoaPayload],
        if_match: Option<&str>,
        dry: bool,
    ) -> Result<RoaChanges> {
        const OPTIMISTIC_ROUNDS: usize = 3;
        let ca_lock = self.ctx.ca_locks.of(handle);
        let _this_ca = ca_lock.lock().unwrap_or_else(|p| p.into_inner());
        let gate = self.store.gate().clone();
        for round in 0..=OPTIMISTIC_ROUNDS {
            let held = (round == OPTIMISTIC_ROUNDS).then(|| gate.enter());
            let t_start = std::time::Instant::now();
            let now = self.ctx.clock.now();
            let plan = self.plan_roas(handle, add, remove, if_match)?;
            if plan.signed.is_empty() || dry {
                return Ok(plan.changes);
            }
            let planned = t_start.elapsed();
            let signed = self.ctx.sign_roas(&plan, now)?;
            let t_signed = t_start.elapsed();
            let Some(changes) = self.commit_roas(actor, plan, signed, held.as_ref(), now)? else {
                tracing::debug!(ca = %handle, round, "ROA batch: the CA changed meanwhile; again");
                continue;
            };
            drop(held);
            let committed = t_start.elapsed();
            fault::point("after-commit");
            if !self.ctx.deferred {
                self.write_tree_after_commit()?;
            }
            tracing::info!(
                ca = %handle,
                added = changes.added,
                removed = changes.removed,
                round,
                plan_us = planned.as_micros() as u64,
                sign_us = (t_signed - planned).as_micros() as u64,
                commit_us = (committed - t_signed).as_micros() as u64,
                publish_us = (t_start.elapsed() - committed).as_micros() as u64,
                "ROA changes published"
            );
            return Ok(changes);
        }
        Err(AppError::Busy(format!(
            "the ROAs of CA '{handle}' were changed by another process during every attempt"
        )))
    }

    /// Reads what a ROA batch would do, from a read snapshot: checks
    /// every payload, the ETag and the CA's limits, and works out the
    /// payloads of every origin AS whose ROA changes.
    fn plan_roas(
        &mut self,
        handle: &str,
        add: &[RoaPayload],
        remove: &[RoaPayload],
        if_match: Option<&str>,
    ) -> Result<RoaPlan> {
        let tx = self.store.read_transaction()?;
        let ca = self.ctx.roa_ca(&tx, handle)?;
        let before = tx.roas(handle, None)?;
        let etag = roa_etag(&before);
        if let Some(expected) = if_match
            && expected != "*"
            && expected != etag
        {
            return Err(AppError::PreconditionFailed { current: etag });
        }
        drop(tx);
        for payload in add {
            payload.check_held(handle, &ca.resources)?;
        }
        // Removals first, then additions, one at a time: removing what is
        // not configured fails the batch; adding what is, is a no-op.
        let mut set: std::collections::BTreeSet<RoaPayload> = before.iter().copied().collect();
        let mut changes = RoaChanges::default();
        let mut asns = std::collections::BTreeSet::new();
        for payload in remove {
            if !set.remove(payload) {
                return Err(AppError::NoSuchRoa {
                    ca: handle.into(),
                    payload: payload.to_string(),
                });
            }
            asns.insert(payload.asn);
            changes.removed += 1;
            changes.withdrawn.push(*payload);
        }
        for payload in add {
            if set.insert(*payload) {
                asns.insert(payload.asn);
                changes.added += 1;
                changes.announced.push(*payload);
            } else {
                changes.unchanged += 1;
            }
        }
        let mut after: Vec<RoaPayload> = set.into_iter().collect();
        // The order the store lists them in.
        after.sort_by_key(|p| (p.asn, p.prefix.to_string(), p.max_length));
        let limits = self.ctx.limits;
        if changes.added > 0 {
            if after.len() > limits.payloads {
                return Err(AppError::LimitExceeded {
                    ca: handle.into(),
                    limit: "ROA payloads",
                    value: after.len(),
                    max: limits.payloads,
                });
            }
            let origins: std::collections::BTreeSet<u32> = after.iter().map(|p| p.asn).collect();
            if origins.len() > limits.origin_asns {
                return Err(AppError::LimitExceeded {
                    ca: handle.into(),
                    limit: "distinct origin ASNs",
                    value: origins.len(),
                    max: limits.origin_asns,
                });
            }
        }
        let signed = asns
            .iter()
            .map(|asn| {
                let payloads = after.iter().filter(|p| p.asn == *asn).copied().collect();
                (*asn, canonical_payloads(payloads))
            })
            .collect();
        changes.etag = roa_etag(&after);
        changes.after = after;
        Ok(RoaPlan {
            ca,
            etag_before: etag,
            signed,
            changes,
            remove: remove.to_vec(),
            add: add.to_vec(),
        })
    }

    /// Commits a planned and signed ROA batch in one short transaction,
    /// if the CA's ROA list and certificate are still what the plan read;
    /// `None` (nothing changed) otherwise.
    fn commit_roas(
        &mut self,
        actor: &Actor,
        plan: RoaPlan,
        signed: Vec<(u32, Option<PublishedObject>)>,
        held: Option<&anchorage_store::GateGuard>,
        now: Time,
    ) -> Result<Option<RoaChanges>> {
        let handle = plan.ca.handle.as_str();
        let Some((tx, ca)) = planned_tx(&mut self.store, held, &plan.ca)? else {
            return Ok(None);
        };
        if roa_etag(&tx.roas(handle, None)?) != plan.etag_before {
            return Ok(None);
        }
        let mut journal = Journal::new(actor, now);
        for payload in &plan.remove {
            if !tx.delete_roa(handle, payload)? {
                return Ok(None);
            }
            journal.record(
                &tx,
                Event::RoaRemoved {
                    ca: handle.into(),
                    payload: *payload,
                    out_of_resources: false,
                },
            )?;
        }
        for payload in &plan.add {
            if tx.insert_roa(handle, payload)? {
                journal.record(
                    &tx,
                    Event::RoaAdded {
                        ca: handle.into(),
                        payload: *payload,
                    },
                )?;
            }
        }
        // With the manifest and CRL owed, only the ROAs replaced here are
        // loaded.
        let files = signed
            .into_iter()
            .map(|(asn, obj)| (roa_file_name(asn), obj))
            .collect();
        self.ctx.replace_in_point(&tx, &ca, files, now)?;
        fault::point("roa-batch-before-commit");
        tx.commit()?;
        let mut changes = plan.changes;
        changes.events = journal.into_events();
        Ok(Some(changes))
    }

    /// Sets what carries messages to remote parents and repositories.
    pub fn set_transport(&mut self, transport: Arc<dyn crate::transport::PeerTransport>) {
        self.ctx.transport = transport;
    }

    /// Sets how long one exchange with a remote parent or repository may take.
    pub fn set_peer_timeout(&mut self, timeout: std::time::Duration) {
        self.ctx.peer_timeout = timeout;
    }

    /// Sets the per-CA limits ROA changes are checked against.
    pub fn set_roa_limits(&mut self, limits: RoaLimits) {
        self.ctx.limits = limits;
    }

    /// The ROA payloads of a CA and their ETag.
    pub fn roas_with_etag(&mut self, handle: &str) -> Result<(Vec<RoaPayload>, String)> {
        let tx = self.store.read_transaction()?;
        load_ca(&tx, handle)?;
        let roas = tx.roas(handle, None)?;
        let etag = roa_etag(&roas);
        Ok((roas, etag))
    }

    /// Changes a hosted CA's resources: its certificate is reissued by its
    /// parent. Refused if the parent does not hold them, or if a ROA or a
    /// child CA of this CA would no longer be covered (remove those first).
    pub fn update_ca_resources(
        &mut self,
        actor: &Actor,
        handle: &str,
        resources: ResourceSet,
    ) -> Result<(CaRecord, Vec<Event>)> {
        if handle == TA_HANDLE || handle == self.ctx.online {
            return Err(AppError::TaOffLimits {
                online: self.ctx.online.clone(),
                what: format!("changing the resources of '{handle}'"),
            });
        }
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let mut ca = load_ca(&tx, handle)?;
        let parent = ca.parent.clone().ok_or_else(|| AppError::BadArgument {
            what: "CA",
            value: handle.into(),
            rule: "its resources come from its remote parent (`anchorage parent sync`)",
        })?;
        let parent_ca = load_ca(&tx, &parent)?;
        for roa in tx.roas(handle, None)? {
            if !resources.contains_prefix(&roa.prefix) {
                return Err(AppError::ResourcesInUse {
                    handle: handle.into(),
                    user: format!("its ROA {roa}"),
                });
            }
        }
        for aspa in tx.aspas(handle, None)? {
            if !resources.asns.contains_value(aspa.customer) {
                return Err(AppError::ResourcesInUse {
                    handle: handle.into(),
                    user: format!("its ASPA {aspa}"),
                });
            }
        }
        for router in tx.router_keys(handle)? {
            if !resources.asns.contains_value(router.asn) {
                return Err(AppError::ResourcesInUse {
                    handle: handle.into(),
                    user: format!("its router certificate {}", router.file_name()),
                });
            }
        }
        for child in tx.children(handle)? {
            let c = load_ca(&tx, &child)?;
            if !resources.contains(&c.resources) {
                return Err(AppError::ResourcesInUse {
                    handle: handle.into(),
                    user: format!("its child CA '{child}' ({})", c.resources),
                });
            }
        }
        for child in tx.children_of(handle)? {
            for cert in tx.child_certs(&child.handle)? {
                if !resources.contains(&cert.resources) {
                    return Err(AppError::ResourcesInUse {
                        handle: handle.into(),
                        user: format!(
                            "the certificate of its delegated child '{}' ({}); shrink it with `anchorage child update`",
                            child.handle, cert.resources
                        ),
                    });
                }
            }
        }
        let before = ca.resources.clone();
        let parent_issuer = self.ctx.issuer(&parent_ca)?;
        ca.resources = resources;
        let mut parent_point = tx.point(&parent)?;
        self.ctx
            .recertify(&tx, &mut parent_point, &mut ca, &parent_issuer, now)?;
        // A new key in its staging period gets the same resources.
        for mut key in tx.ca_keys(handle)? {
            self.ctx
                .recertify_key(&tx, &mut parent_point, &ca, &mut key, &parent_issuer, now)?;
        }
        parent_point.refresh(&*self.ctx.keys, &parent_issuer, now, &self.ctx.timing)?;
        tx.save_point(&parent, &parent_point, now)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::CaResourcesChanged {
                ca: handle.into(),
                before,
                after: ca.resources.clone(),
                reason: None,
            },
        )?;
        tx.commit()?;
        self.write_tree_after_commit()?;
        Ok((ca, journal.into_events()))
    }

    /// Sets CA `handle`'s contact to `vcard`, or with `None` removes it:
    /// its point publishes the contact as a Ghostbusters record (RFC
    /// 6493), reissued with the point's other objects. A vCard outside
    /// the profile of RFC 6493 §5 is refused and changes nothing.
    pub fn set_contact(
        &mut self,
        actor: &Actor,
        handle: &str,
        vcard: Option<String>,
    ) -> Result<Vec<Event>> {
        if handle == TA_HANDLE {
            return Err(AppError::TaOffLimits {
                online: self.ctx.online.clone(),
                what: "a contact for the trust anchor".into(),
            });
        }
        if let Some(vcard) = &vcard {
            anchorage_ca_core::objects::check_vcard(vcard).map_err(AppError::BadContact)?;
        }
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let ca = load_ca(&tx, handle)?;
        if vcard.is_none() && tx.contact(handle)?.is_none() {
            return Ok(Vec::new()); // nothing to remove: nothing changes
        }
        tx.set_contact(handle, vcard.as_deref())?;
        let issuer = self.ctx.issuer(&ca)?;
        let mut point = tx.point(handle)?;
        self.ctx.put_contact(&tx, &mut point, &ca, &issuer, now)?;
        point.refresh(&*self.ctx.keys, &issuer, now, &self.ctx.timing)?;
        tx.save_point(handle, &point, now)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::ContactChanged {
                ca: handle.into(),
                vcard,
            },
        )?;
        tx.commit()?;
        self.write_tree_after_commit()?;
        Ok(journal.into_events())
    }

    /// CA `handle`'s contact vCard, if it has one.
    pub fn contact(&mut self, handle: &str) -> Result<Option<String>> {
        let tx = self.store.read_transaction()?;
        load_ca(&tx, handle)?;
        Ok(tx.contact(handle)?)
    }

    /// Every CA's ROA payloads, and the audit generation they belong to
    /// (it changes whenever anything changes).
    pub fn all_roas(&mut self) -> Result<(i64, Vec<RoaPayload>)> {
        let tx = self.store.read_transaction()?;
        Ok((tx.audit_generation()?, tx.all_roas()?))
    }

    /// The current audit generation (see [`Self::all_roas`]).
    pub fn audit_generation(&mut self) -> Result<i64> {
        let tx = self.store.read_transaction()?;
        Ok(tx.audit_generation()?)
    }

    /// `handle` and its ancestors up to the trust anchor, nearest first.
    pub fn ancestry(&mut self, handle: &str) -> Result<Vec<String>> {
        let tx = self.store.read_transaction()?;
        let mut out = vec![];
        let mut next = Some(handle.to_string());
        while let Some(h) = next {
            let ca = load_ca(&tx, &h)?;
            next = ca.parent.clone();
            out.push(h);
            if out.len() > 64 {
                break; // a cycle cannot be stored, but never loop forever
            }
        }
        Ok(out)
    }

    /// Reads the audit log.
    pub fn audit_log(
        &mut self,
        filter: &anchorage_store::AuditFilter,
    ) -> Result<Vec<anchorage_store::AuditEntry>> {
        let tx = self.store.read_transaction()?;
        Ok(tx.audit_log(filter)?)
    }

    /// The pool of one-time EE keys of this data directory's signer.
    pub fn ee_key_pool(&self) -> &anchorage_keys::EeKeyPool {
        self.ctx.keys.pool()
    }

    /// Keeps the EE key pool filled to `target` from a background thread.
    pub fn start_ee_key_refill(&self, target: usize) {
        self.ctx
            .keys
            .start_pool_refill(target, std::time::Duration::from_millis(200));
    }

    /// Lists a CA's ROA payloads.
    pub fn list_roas(&mut self, handle: &str) -> Result<Vec<RoaInfo>> {
        let tx = self.store.read_transaction()?;
        load_ca(&tx, handle)?;
        Ok(tx.roas(handle, None)?.iter().map(roa_info).collect())
    }

    /// Reissues whatever is due (manifests and CRLs, certificates and ROAs
    /// near expiry) and writes the rsync tree.
    pub fn publish(&mut self, actor: &Actor) -> Result<PublishReport> {
        self.publish_until(actor, &std::sync::atomic::AtomicBool::new(false))
    }

    /// Renews what is due in CA `handle`'s point in one transaction:
    /// the TA's certificate and TAK, certificates of children and ROAs
    /// close to expiry, its Ghostbusters record; its manifest and CRL are
    /// then owed.
    fn renew_point(
        &mut self,
        handle: &str,
        due_at: Time,
        now: Time,
        report: &mut PublishReport,
    ) -> Result<()> {
        if fault::fails(&format!("renew:{handle}")) {
            return Err(anchorage_ca_core::CaError::Signing("injected failure".into()).into());
        }
        let mut reissued = 0;
        let tx = self.store.transaction()?;
        let Some(mut ca) = tx.ca(handle)? else {
            return Ok(()); // deleted meanwhile
        };
        if ca.handle == TA_HANDLE
            && time_diff(ca.cert_not_after, due_at) <= self.ctx.timing.object_reissue_before
        {
            let mut renewed = self.ctx.issue_ta(&tx, ca.key, ca.resources.clone(), now)?;
            renewed.cert_uri = ca.cert_uri.clone();
            tx.update_ca(&renewed)?;
            self.ctx.put_ta_cert(&tx, &renewed, now)?;
            reissued += 1;
            ca = renewed;
        }
        let issuer = self.ctx.issuer(&ca)?;
        let mut point = tx.point(handle)?;
        for name in due_objects(&point, due_at, &self.ctx.timing) {
            if let Some(asn) = roa_file_asn(&name) {
                self.ctx.put_roa(&tx, &mut point, &ca, &issuer, asn, now)?;
                reissued += 1;
            } else if let Some(customer) = aspa_file_asn(&name) {
                self.ctx
                    .put_aspa(&tx, &mut point, &ca, &issuer, customer, now)?;
                reissued += 1;
            } else if router::is_router_file(&name) {
                self.ctx
                    .put_router(&tx, &mut point, &ca, &issuer, &name, now)?;
                reissued += 1;
            } else if name.ends_with(".cer") {
                self.ctx
                    .renew_child(&tx, &mut point, &ca, &issuer, &name, now)?;
                reissued += 1;
            } else if name.ends_with(".tak") {
                point.publish(self.ctx.ta_tak(&tx, &ca, now)?, now);
                reissued += 1;
            } else if name.ends_with(".gbr") {
                self.ctx.put_contact(&tx, &mut point, &ca, &issuer, now)?;
                reissued += 1;
            }
        }
        if ca.handle == TA_HANDLE && !point.objects.contains_key(&ca::tak_file_name(&ca.key)) {
            point.publish(self.ctx.ta_tak(&tx, &ca, now)?, now);
            reissued += 1;
        }
        tx.save_point(handle, &point, now)?;
        tx.mark_pending(handle)?;
        tx.commit()?;
        report.reissued_objects += reissued;
        Ok(())
    }

    /// [`Self::publish`], stopping early once `stop` is set: the manifests
    /// and CRLs of a refresh cycle are signed a chunk at a time, and what
    /// is left when `stop` is seen stays due for the next run (the tree
    /// shows what was done). `serve` stops a cycle of half an hour this
    /// way within a chunk's few seconds when told to stop.
    pub fn publish_until(
        &mut self,
        actor: &Actor,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<PublishReport> {
        let started = std::time::Instant::now();
        let now = self.ctx.clock.now();
        // Whatever falls due within the batch window is done in this run.
        let due_at = now + self.ctx.timing.batch_window;
        let mut report = PublishReport::default();
        // What is due, from a read snapshot: at an RIR's scale this reads
        // tens of thousands of points, and nobody waits for it. Only the
        // expiry times are read, not the objects (an online CA's point
        // holds a certificate per child).
        let (renew, mut owed, renew_taks) = {
            let tx = self.store.read_transaction()?;
            let timing = &self.ctx.timing;
            // What `due_objects` says of the point at `dir`, read from its
            // earliest expiry alone.
            let objects_due = |dir: &str| -> Result<bool> {
                Ok(tx.point_earliest_expiry(dir)?.is_some_and(|t| {
                    point::expires_within(t, due_at, timing.object_reissue_before)
                }))
            };
            // The key's manifest by its name: no key is read (loading
            // every CA's key took seconds at 50,000 CAs).
            let refresh_due = |dir: &str, key: &KeyIdentifier| -> Result<bool> {
                let manifest = anchorage_ca_core::objects::manifest_file_name(key);
                Ok(point::refresh_due(
                    tx.object_expiry(dir, &manifest)?,
                    due_at,
                    timing,
                ))
            };
            let mut renew = Vec::new();
            let mut owed = Vec::new();
            for ca in tx.cas()? {
                // The TA's certificate, or its TAK (published by every
                // trust anchor since RFC 9691 support; older data
                // directories get theirs here).
                let ta_due = ca.handle == TA_HANDLE
                    && (time_diff(ca.cert_not_after, due_at) <= timing.object_reissue_before
                        || tx
                            .object_expiry(&ca.handle, &ca::tak_file_name(&ca.key))?
                            .is_none());
                if ta_due || objects_due(&ca.handle)? {
                    let refresh = refresh_due(&ca.handle, &ca.key)?;
                    renew.push((ca.handle, refresh));
                } else if refresh_due(&ca.handle, &ca.key)? {
                    owed.push(ca.handle);
                }
            }
            // A new key's point holds its manifest and CRL only; a trust
            // anchor key's its TAK too.
            let mut renew_taks = Vec::new();
            for key in tx.all_ca_keys()? {
                let dir = key.dir();
                let Some(owner) = tx.point_owner(&dir)? else {
                    continue;
                };
                let ta_due = key.ca == TA_HANDLE
                    && (time_diff(key.cert_not_after, due_at) <= timing.object_reissue_before
                        || objects_due(&dir)?);
                if ta_due {
                    renew_taks.push(dir);
                } else if refresh_due(&dir, &owner.key)? {
                    owed.push(dir);
                }
            }
            (renew, owed, renew_taks)
        };
        // Renewals, one short transaction per point, parents before
        // children (a child is reloaded after its parent renewed its
        // certificate). Each point's manifest and CRL are then owed.
        // A point whose objects cannot be renewed (a delegated child's key
        // the profile refuses, say) does not keep the others from theirs:
        // it is logged, its manifest and CRL are still refreshed when due,
        // and the run ends with an error naming it after everything else
        // was published (so `serve` retries it after a pause).
        let mut failed = Vec::new();
        for (handle, refresh) in &renew {
            if let Err(e) = self.renew_point(handle, due_at, now, &mut report) {
                tracing::error!(ca = %handle, error = %e, "renewing the point's objects failed; the other points go on");
                if *refresh {
                    owed.push(handle.clone());
                }
                failed.push((handle.clone(), e.to_string()));
            }
        }
        // A trust anchor's new or old key: its certificate near expiry,
        // its TAK (which that certificate caps).
        for dir in &renew_taks {
            let tx = self.store.transaction()?;
            let Some(mut owner) = tx.point_owner(dir)? else {
                continue; // the rollover ended meanwhile
            };
            if time_diff(owner.cert_not_after, due_at) <= self.ctx.timing.object_reissue_before {
                let renewed = self
                    .ctx
                    .issue_ta(&tx, owner.key, owner.resources.clone(), now)?;
                let mut key = tx
                    .ca_keys(TA_HANDLE)?
                    .into_iter()
                    .find(|k| k.key == owner.key)
                    .expect("the point's owner is a key of the trust anchor");
                key.cert = renewed.cert;
                key.cert_serial = renewed.cert_serial;
                key.cert_not_after = renewed.cert_not_after;
                tx.update_ca_key_cert(&key)?;
                owner = key.as_record(&load_ca(&tx, TA_HANDLE)?);
                self.ctx.put_ta_cert(&tx, &owner, now)?;
                report.reissued_objects += 1;
            }
            let mut point = tx.point(dir)?;
            point.publish(self.ctx.ta_tak(&tx, &owner, now)?, now);
            report.reissued_objects += 1;
            tx.save_point(dir, &point, now)?;
            tx.mark_pending(dir)?;
            tx.commit()?;
        }
        // The renewed points' manifests and CRLs, then those due: signed
        // on all cores in chunks, each committed on its own, outside the
        // publication's locks. serve's group publisher carries each chunk
        // out as it commits, so a cycle of tens of thousands of points
        // (half an hour of key generation) holds up no change's tree and
        // no publication carries all of it.
        if !renew.is_empty() || !renew_taks.is_empty() {
            self.refresh_owed()?;
        }
        let (mut done, mut refreshed) = (0, 0);
        for chunk in owed.chunks(REFRESH_CHUNK) {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                tracing::info!(
                    left = owed.len() - done,
                    "publication stopped early; the points left stay due"
                );
                break;
            }
            refreshed += self.refresh_chunk(chunk, None, now, true)?;
            done += chunk.len();
        }
        report.refreshed_points = renew.len() - failed.len() + refreshed + renew_taks.len();
        if report.refreshed_points > 0 {
            let tx = self.store.transaction()?;
            let mut journal = Journal::new(actor, now);
            journal.record(
                &tx,
                Event::Published {
                    points: report.refreshed_points,
                    objects: report.reissued_objects,
                },
            )?;
            tx.commit()?;
            report.events = journal.into_events();
        }
        let stats = self.write_tree()?;
        report.files = stats.files;
        report.written = stats.written;
        if let Some((first, error)) = failed.first() {
            return Err(AppError::RenewalFailed {
                failed: failed.len(),
                first: first.clone(),
                error: error.clone(),
            });
        }
        tracing::info!(
            refreshed = report.refreshed_points,
            reissued = report.reissued_objects,
            files = stats.files,
            written = stats.written,
            duration_ms = started.elapsed().as_millis() as u64,
            "published"
        );
        Ok(report)
    }

    /// [`Self::write_tree`] after a change was committed: a failure here
    /// says the change is safe and only its publication must be retried.
    fn write_tree_after_commit(&mut self) -> Result<WriteStats> {
        self.write_tree()
            .map_err(|e| AppError::NotPublished(Box::new(e)))
    }

    /// Writes the rsync tree from the committed store state, and then the
    /// next RRDP serial unless serials are written apart
    /// ([`Self::set_rrdp_apart`], [`Self::write_rrdp`]) or a `serve` on
    /// the data directory writes them (it holds `publisher.lock` while
    /// its RRDP task runs): that task writes the serial with its next
    /// one, a tenth of a second after the last at the soonest (a snapshot
    /// of a large repository takes over a second, which a CLI command
    /// beside `serve` need not wait for). `serve` lets go of the lock
    /// after its last serial and then writes one more, so a change
    /// committed before this check gets a serial when serve stops
    /// cleanly; after a crash, at serve's next start.
    ///
    /// Tree writes take turns (this process's publication lock, then the
    /// data directory's, for CLI commands beside `serve`), each showing
    /// exactly one committed state. Neither the tree nor the RRDP files
    /// are written under the store's write lock: they are made from a
    /// read snapshot that owes no manifest, while new changes commit; only
    /// what they show is committed under it, briefly (for RRDP, before the
    /// notification file announces it).
    pub fn write_tree(&mut self) -> Result<WriteStats> {
        let stats = self.write_tree_locked()?;
        let serve_runs = self.serve_runs();
        if !self.ctx.rrdp_apart && !serve_runs {
            self.write_rrdp()?;
        }
        // Old trees this write set aside; beside serve, its remover's.
        if !self.ctx.trash_apart && !serve_runs {
            self.ctx.tree.empty_trash(false);
        }
        // CAs under a remote parent publish at the remote repository. A
        // failure there does not undo the local publication: it is
        // recorded, logged and retried with the next one. It runs after
        // the publication locks are released, so a slow repository holds
        // up no other tree write; `serve` pushes from its own task.
        if self.ctx.push_inline {
            self.push_or_record();
        }
        Ok(stats)
    }

    /// Brings the rsync tree the current one replaced up to the current
    /// state under the tree's locks (see [`RsyncTree::forward_spare`]), so
    /// that the next tree write after one of many paths costs only its own
    /// changes; returns how many paths it brought forward.
    pub fn forward_spare_tree(&mut self) -> Result<usize> {
        let publish_lock = self.ctx.publish_lock.clone();
        let _turn = self.publication_turn(&publish_lock, TREE_LOCKS)?;
        Ok(self.ctx.tree.forward_spare()?)
    }

    /// Whether a `serve` on this data directory writes the RRDP serials
    /// of every change and removes old trees: it holds `publisher.lock`,
    /// or on PostgreSQL it leads (any instance's leader does).
    fn serve_runs(&self) -> bool {
        match self.store.lock_held(anchorage_store::leader::LEADER_LOCK) {
            Ok(Some(leads)) => leads,
            Ok(None) => self.ctx.dir.publisher_runs(),
            // Unknown: write the serial; the leader's next one follows it.
            Err(_) => false,
        }
    }

    /// Settles what deferred changes owe, for a read snapshot of a
    /// state in which no point owes a manifest: owed manifests and CRLs
    /// are signed outside the write lock and committed on their own, then,
    /// with this process's writers held at the gate, whatever is still
    /// owed (a few points at most) is signed and the snapshot taken before
    /// they go on. A tree or serial written from it never shows a point
    /// whose manifest does not match its files, nor a manifest or CRL
    /// number the store could hand out again.
    /// The caller opens its snapshot while it holds the returned gate,
    /// and checks it with [`owes_nothing`].
    fn settle(&mut self, now: Time) -> Result<anchorage_store::GateGuard> {
        self.refresh_owed()?;
        let held = self.store.gate().clone().enter();
        self.refresh_pending(Some(&held), now)?;
        Ok(held)
    }

    /// Takes this process's lock `lock` and then the lock across
    /// processes (CLI commands beside `serve`, other `serve` instances):
    /// on PostgreSQL the advisory lock `key`, which ends with its
    /// session, so a machine that died holds nothing up; on SQLite the
    /// data directory's lock file `take`.
    fn publication_turn<'l>(
        &mut self,
        lock: &'l std::sync::Mutex<()>,
        (take, key): (fn(&DataDir) -> std::io::Result<std::fs::File>, i64),
    ) -> Result<(std::sync::MutexGuard<'l, ()>, Across)> {
        let t = std::time::Instant::now();
        let turn = lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = self.store.session_lock(key)? {
            self.ctx.turn_waits += t.elapsed();
            // `serve` publishes only while it leads: checked once the lock
            // is held, which a later leader takes from this session by
            // ending it.
            self.store.check_fence()?;
            return Ok((turn, Across::Session { _lock: held }));
        }
        let across = take(&self.ctx.dir).map_err(|source| AppError::Io {
            what: "taking the publication lock".into(),
            source,
        })?;
        self.ctx.turn_waits += t.elapsed();
        Ok((turn, Across::File { _lock: across }))
    }

    /// [`Self::write_tree`]'s rsync tree, under the tree's locks.
    fn write_tree_locked(&mut self) -> Result<WriteStats> {
        let publish_lock = self.ctx.publish_lock.clone();
        let _turn = self.publication_turn(&publish_lock, TREE_LOCKS)?;
        let now = self.ctx.clock.now();
        let t0 = std::time::Instant::now();
        let base = self.ctx.layout.rsync_base.clone();
        let held = self.settle(now)?;
        let durability = self.store.durability()?;
        let tx = self.store.read_transaction()?;
        owes_nothing(&tx)?;
        drop(held);
        // Another connection's commit can be read before its WAL sync
        // ends: none is shown before it is durable, so a crash cannot hand
        // out again a manifest number a client saw.
        durability.wait()?;
        let settled = t0.elapsed();
        // The state this tree shows, as an audit generation (see
        // `retire_old_keys`), and the newest change it holds.
        let generation = tx.audit_generation()?;
        let seq = tx.change_seq()?;
        // The generation of the rsync tree that shows the change `tree_seq`:
        // while the current tree is that one, what changed since is what
        // the change journal names after it.
        let tree_shown = meta_num(&tx, "rsync_generation")?.map(|g| g as u64);
        let tree_seq = meta_num(&tx, "rsync_seq")?;
        let changed = match tree_seq {
            Some(since)
                if tree_shown.is_some() && tree_shown == self.ctx.tree.current_generation() =>
            {
                Some(source::changed_paths(
                    &base,
                    tx.changes_between(since, seq)?,
                ))
            }
            _ => None,
        };
        let read = t0.elapsed();
        let mut files = source::StoreFiles {
            tx: &tx,
            base: &base,
        };
        let stats = self.ctx.tree.write_from(&mut files, changed.as_ref())?;
        drop(tx);
        let tree = t0.elapsed();
        if tree_shown != Some(stats.generation) || tree_seq != Some(seq) {
            let tx = self.store.transaction()?;
            tx.set_meta("rsync_generation", &stats.generation.to_string())?;
            tx.set_meta("rsync_seq", &seq.to_string())?;
            tx.set_meta(status::RSYNC_WRITTEN, &now.timestamp().to_string())?;
            shown_by(
                &tx,
                "rsync_audit_generation",
                "rrdp_audit_generation",
                generation,
            )?;
            // The tree shows every change up to `seq`: the journal's
            // entries up to it are needed no more.
            tx.prune_changes(seq)?;
            tx.commit()?;
        }
        let committed = t0.elapsed();
        // The TALs follow the trees that show the trust anchor's keys.
        self.ctx.sync_tals(&self.store.read_transaction()?)?;
        tracing::debug!(
            files = stats.files,
            written = stats.written,
            settle_us = settled.as_micros() as u64,
            read_us = (read - settled).as_micros() as u64,
            tree_us = (tree - read).as_micros() as u64,
            commit_us = (committed - tree).as_micros() as u64,
            "tree written"
        );
        Ok(stats)
    }

    /// Commits serial `update` (or, without one, that nothing changed up
    /// to change `seq`), written from audit generation `generation`.
    fn commit_serial(
        &mut self,
        update: Option<&anchorage_rrdp_server::repository::RrdpUpdate>,
        prev_serial: u64,
        seq: i64,
        generation: i64,
    ) -> Result<()> {
        let tx = self.store.transaction()?;
        if let Some(update) = update {
            // Serials take turns, so nobody else moved the serial;
            // checked all the same, as a serial must never be used twice.
            let serial = meta_num(&tx, "rrdp_serial")?.unwrap_or(0) as u64;
            if serial != prev_serial {
                return Err(AppError::Busy(format!(
                    "RRDP serial moved from {prev_serial} to {serial} during publication"
                )));
            }
            if update.new_session {
                tx.rrdp_reset()?;
            }
            tx.rrdp_apply(&update.published, &update.withdrawn)?;
            let deltas: Vec<anchorage_store::DeltaRecord> = update
                .deltas
                .iter()
                .map(|d| anchorage_store::DeltaRecord {
                    serial: d.serial,
                    path: d.path.clone(),
                    hash: d.hash.clone(),
                    size: d.size,
                    created: d.created,
                })
                .collect();
            tx.set_rrdp_deltas(&deltas)?;
            tx.set_meta("rrdp_session", &update.session.to_string())?;
            tx.set_meta("rrdp_serial", &update.serial.to_string())?;
            tx.set_meta("rrdp_snapshot", &update.snapshot.path)?;
            tx.set_meta("rrdp_snapshot_hash", &update.snapshot.hash)?;
            tx.set_meta("rrdp_snapshot_size", &update.snapshot.size.to_string())?;
        }
        tx.set_meta("rrdp_seq", &seq.to_string())?;
        // What RRDP shows counts once the notification file announces it
        // (`rrdp_shown`), not before: key retirement and TALs must not
        // count a serial no client can see.
        tx.set_meta("rrdp_announced_generation", &generation.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Records that RRDP shows audit generation `generation`, which the
    /// announced serial was written from (see [`shown_by`]); never moves
    /// the record back.
    fn rrdp_shown(&mut self, generation: i64) -> Result<()> {
        let tx = self.store.transaction()?;
        if meta_num(&tx, "rrdp_audit_generation")? >= Some(generation) {
            return Ok(());
        }
        shown_by(
            &tx,
            "rrdp_audit_generation",
            "rsync_audit_generation",
            generation,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Writes the next RRDP serial from the committed store state, if it
    /// changed since the serial the notification file announces; returns
    /// the serial written.
    ///
    /// Serials take turns (this process's RRDP lock, then the data
    /// directory's `rrdp.lock`), apart from rsync trees: a snapshot is the
    /// size of the repository (RFC 8182 §3.5.2: every serial has one), so
    /// `serve` writes serials from a task of its own, each holding every
    /// change committed since the last, while trees carry single changes
    /// to rsync clients and its own validator without waiting for them.
    /// The snapshot is read from a settled store snapshot (see
    /// [`Self::write_tree`]), taken in turn with tree writes, so that two
    /// writers never sign the same owed manifests. `serve`'s RRDP task
    /// asks instead for a state a tree write settled
    /// ([`SerialSettle::Found`], [`RrdpPace`]).
    pub fn write_rrdp(&mut self) -> Result<Option<u64>> {
        Ok(match self.write_rrdp_timed(SerialSettle::Own)? {
            RrdpWrite::Serial(serial, _) => Some(serial),
            RrdpWrite::Current | RrdpWrite::Unsettled => None,
        })
    }

    /// [`Self::write_rrdp`], from a state `settle` says where to find,
    /// also saying how long the serial's own work took: its whole time
    /// but the waits for publication turns (a tree writer's, another
    /// serial's), which `serve`'s RRDP task rests after
    /// ([`rrdp_pause`]). Counting the waits made the rest after a serial
    /// that waited out a tree write of hundreds of files three times that
    /// write.
    pub fn write_rrdp_timed(&mut self, settle: SerialSettle) -> Result<RrdpWrite> {
        let t = std::time::Instant::now();
        let waited = self.ctx.turn_waits;
        let written = self.write_rrdp_untimed(settle)?;
        let waits = self.ctx.turn_waits.saturating_sub(waited);
        Ok(match written {
            RrdpWrite::Serial(serial, _) => {
                RrdpWrite::Serial(serial, t.elapsed().saturating_sub(waits))
            }
            other => other,
        })
    }

    /// [`Self::write_rrdp_timed`], its work not timed yet.
    fn write_rrdp_untimed(&mut self, settle: SerialSettle) -> Result<RrdpWrite> {
        {
            // Nothing changed since the serial announced: no lock, no read.
            let tx = self.store.read_transaction()?;
            let session = tx.meta("rrdp_session")?.and_then(|s| s.parse().ok());
            let serial = meta_num(&tx, "rrdp_serial")?.unwrap_or(0) as u64;
            let announced = session.is_some_and(|s| self.ctx.rrdp.announces(s, serial));
            // Committed with the serial the file announces.
            let owed = meta_num(&tx, "rrdp_announced_generation")?
                .filter(|&g| meta_num(&tx, "rrdp_audit_generation").ok().flatten() < Some(g));
            let current = meta_num(&tx, "rrdp_seq")? == Some(tx.change_seq()?);
            drop(tx);
            if announced && let Some(owed) = owed {
                // Announced before a crash took the record of it.
                self.rrdp_shown(owed)?;
            }
            if announced && current {
                return Ok(RrdpWrite::Current);
            }
        }
        let rrdp_lock = self.ctx.rrdp_lock.clone();
        let _rrdp_turn = self.publication_turn(&rrdp_lock, RRDP_LOCKS)?;
        // A serial announced again (see `prepare_from`) holds none of the
        // changes since: the next one, at once.
        // Its work is timed by the caller.
        let serial = |s| RrdpWrite::Serial(s, std::time::Duration::ZERO);
        Ok(match self.write_rrdp_locked(settle)? {
            Locked::Again(again) => match self.write_rrdp_locked(settle)? {
                Locked::Serial(s) => serial(s),
                _ => again.map_or(RrdpWrite::Current, serial),
            },
            Locked::Serial(s) => serial(s),
            Locked::Current => RrdpWrite::Current,
            Locked::Unsettled => RrdpWrite::Unsettled,
        })
    }

    /// [`Self::write_rrdp`] under the RRDP locks.
    fn write_rrdp_locked(&mut self, settle: SerialSettle) -> Result<Locked> {
        let now = self.ctx.clock.now();
        let t0 = std::time::Instant::now();
        let base = self.ctx.layout.rsync_base.clone();
        let publish_lock = self.ctx.publish_lock.clone();
        let tx = match settle {
            SerialSettle::Own => {
                let _tree_turn = self.publication_turn(&publish_lock, TREE_LOCKS)?;
                let held = self.settle(now)?;
                let tx = self.store.read_transaction()?;
                owes_nothing(&tx)?;
                drop(held);
                tx
            }
            SerialSettle::Found => {
                let tx = self.store.read_transaction()?;
                if !tx.pending_points()?.is_empty() {
                    return Ok(Locked::Unsettled);
                }
                tx
            }
        };
        let settled = t0.elapsed();
        let generation = tx.audit_generation()?;
        let seq = tx.change_seq()?;
        let prev_session = tx.meta("rrdp_session")?.and_then(|s| s.parse().ok());
        let prev_serial = meta_num(&tx, "rrdp_serial")?.unwrap_or(0) as u64;
        let rrdp_seq = meta_num(&tx, "rrdp_seq")?;
        let announced_before = meta_num(&tx, "rrdp_announced_generation")?;
        // What the store kept of the current serial's snapshot, to
        // announce it again should a crash have come between its commit
        // and its announcement.
        let snapshot = match (
            tx.meta("rrdp_snapshot")?,
            tx.meta("rrdp_snapshot_hash")?,
            meta_num(&tx, "rrdp_snapshot_size")?,
        ) {
            (Some(path), Some(hash), Some(size)) => Some(anchorage_rrdp_server::DeltaRecord {
                serial: prev_serial,
                path,
                hash,
                size: size as u64,
                created: 0,
            }),
            _ => None,
        };
        let update = if rrdp_seq == Some(seq)
            && prev_session.is_some_and(|s| self.ctx.rrdp.announces(s, prev_serial))
        {
            None
        } else {
            let prev = RrdpState {
                session: prev_session,
                serial: prev_serial,
                snapshot,
                deltas: tx
                    .rrdp_deltas()?
                    .into_iter()
                    .map(|d| anchorage_rrdp_server::DeltaRecord {
                        serial: d.serial,
                        path: d.path,
                        hash: d.hash,
                        size: d.size,
                        created: d.created,
                    })
                    .collect(),
                objects: tx.rrdp_objects()?.into_iter().collect(),
            };
            let files = source::StoreFiles {
                tx: &tx,
                base: &base,
            };
            self.ctx
                .rrdp
                .prepare_from(&prev, &mut |f| files.each_object(f), to_secs(now))?
        };
        drop(tx);
        let written = t0.elapsed();
        if update.is_none() && rrdp_seq == Some(seq) {
            return Ok(Locked::Current);
        }
        // The committed serial, announced again: nothing to commit, and it
        // shows what it showed when it was committed.
        let again = update
            .as_ref()
            .is_some_and(|u| !u.new_session && u.serial == prev_serial);
        if !again {
            self.commit_serial(update.as_ref(), prev_serial, seq, generation)?;
        }
        let committed = t0.elapsed();
        fault::point("rrdp-before-announce");
        if let Some(update) = &update {
            // The RRDP lock is still this session's: a new leader has not
            // ended it (a paused instance announces nothing older).
            self.store.confirm_session()?;
            self.ctx.rrdp.announce(update)?;
        }
        match (again, announced_before) {
            (true, Some(shown)) => self.rrdp_shown(shown)?,
            (true, None) => {}
            (false, _) => self.rrdp_shown(generation)?,
        }
        // A trust anchor change may be shown by both now: its TALs, in
        // turn with tree writes.
        {
            let _tree_turn = self.publication_turn(&publish_lock, TREE_LOCKS)?;
            self.ctx.sync_tals(&self.store.read_transaction()?)?;
        }
        tracing::debug!(
            serial = update.as_ref().map(|u| u.serial),
            settle_us = settled.as_micros() as u64,
            write_us = (written - settled).as_micros() as u64,
            commit_us = (committed - written).as_micros() as u64,
            announce_us = (t0.elapsed() - committed).as_micros() as u64,
            "RRDP serial written"
        );
        Ok(match (update.map(|u| u.serial), again) {
            (serial, true) => Locked::Again(serial),
            (Some(serial), false) => Locked::Serial(serial),
            (None, false) => Locked::Current,
        })
    }

    /// Issues the manifests and CRLs that changes committed with deferred
    /// publication owe, on all cores and outside the store's write lock,
    /// and commits those of points that did not change meanwhile (the
    /// others stay owed); returns how many points were refreshed.
    /// [`Self::write_tree`] starts with this.
    pub fn refresh_owed(&mut self) -> Result<usize> {
        let now = self.ctx.clock.now();
        self.refresh_pending(None, now)
    }

    /// [`Self::refresh_owed`]; with `held`, this process's writers wait
    /// at the gate throughout, so no point can change between loading
    /// and saving. Points are done in chunks (each loaded, signed and
    /// committed on its own), so a refresh cycle of tens of thousands of
    /// points neither holds them all in memory nor the lock for long.
    fn refresh_pending(
        &mut self,
        held: Option<&anchorage_store::GateGuard>,
        now: Time,
    ) -> Result<usize> {
        let pending = self.store.read_transaction()?.pending_points()?;
        let mut saved = 0;
        for chunk in pending.chunks(OWED_CHUNK) {
            saved += self.refresh_chunk(chunk, held, now, false)?;
        }
        Ok(saved)
    }

    /// Issues new manifests and CRLs for the points of `handles` now, as
    /// [`Self::publish`] does for those due: in chunks, each signed
    /// outside every lock and committed on its own. A point that changed
    /// while its chunk was signed is left alone (whatever changed it owes
    /// it a new manifest already), and so is the rest of its chunk when
    /// that made the signing fail (the next run finds them due again); so
    /// is one that is gone. Returns how many were refreshed.
    pub fn refresh_points(&mut self, handles: &[String]) -> Result<usize> {
        let now = self.ctx.clock.now();
        let mut saved = 0;
        for chunk in handles.chunks(REFRESH_CHUNK) {
            saved += self.refresh_chunk(chunk, None, now, true)?;
        }
        Ok(saved)
    }

    /// Refreshes the owed points `handles`: see [`Self::refresh_pending`];
    /// `cycle` for those a refresh cycle found due (see [`Ctx::refresh_all`]).
    fn refresh_chunk(
        &mut self,
        handles: &[String],
        held: Option<&anchorage_store::GateGuard>,
        now: Time,
        cycle: bool,
    ) -> Result<usize> {
        let t0 = std::time::Instant::now();
        let mut owed = Vec::new();
        let mut versions = Vec::new();
        let mut gone = Vec::new();
        {
            let tx = self.store.read_transaction()?;
            for handle in handles {
                let (Some(ca), Some(version)) =
                    (tx.point_owner(handle)?, tx.point_version(handle)?)
                else {
                    gone.push(handle.clone()); // deleted since: its point went with it
                    continue;
                };
                owed.push((
                    self.ctx.issuer(&ca)?,
                    tx.point_for_refresh(handle)?,
                    handle.clone(),
                ));
                versions.push(version);
            }
        }
        let loaded = t0.elapsed();
        if let Err(e) = self.ctx.refresh_all(&mut owed, now, cycle) {
            // A point that changed since the snapshot (a key activated in
            // another process, whose old key is destroyed) may not sign
            // from it: its manifest stays owed for the next round, which
            // reads the new state.
            let tx = self.store.read_transaction()?;
            for ((_, _, handle), version) in owed.iter().zip(&versions) {
                if tx.point_version(handle)? != Some(*version) {
                    return Ok(0);
                }
            }
            return Err(e);
        }
        let signed = t0.elapsed();
        let tx = match held {
            Some(held) => self.store.transaction_entered(held)?,
            None => self.store.transaction()?,
        };
        let mut saved = 0;
        for ((_, point, handle), version) in owed.iter().zip(versions) {
            if tx.point_version(handle)? != Some(version) {
                continue; // changed meanwhile: still owed, done next round
            }
            tx.save_point(handle, point, now)?;
            tx.clear_pending_of(handle)?;
            saved += 1;
        }
        for handle in &gone {
            if tx.point_owner(handle)?.is_none() {
                tx.clear_pending_of(handle)?;
            }
        }
        let stored = t0.elapsed();
        tx.commit()?;
        tracing::debug!(
            points = owed.len(),
            saved,
            load_us = loaded.as_micros() as u64,
            sign_us = (signed - loaded).as_micros() as u64,
            save_us = (stored - signed).as_micros() as u64,
            commit_us = (t0.elapsed() - stored).as_micros() as u64,
            "owed manifests and CRLs issued"
        );
        Ok(saved)
    }

    /// When `publish` next has something to reissue: the earliest manifest
    /// (and CRL) reissue time, or certificate or ROA renewal time; or
    /// when a key rollover's next stage is due ([`Self::run_due_keyrolls`]).
    pub fn next_due(&mut self) -> Result<Option<Time>> {
        let tx = self.store.read_transaction()?;
        let mft = tx
            .earliest_expiry(true)?
            .map(|t| t - self.ctx.timing.mft_crl_reissue_before.num_seconds());
        let obj = tx
            .earliest_expiry(false)?
            .map(|t| t - self.ctx.timing.object_reissue_before.num_seconds());
        let keyroll = tx.next_key_stage()?.map(to_secs);
        let due = [mft, obj, keyroll].into_iter().flatten().min();
        Ok(due.map(anchorage_store::from_secs).transpose()?)
    }

    /// The number of published objects by file type (cer, crl, mft, roa).
    pub fn object_counts(&mut self) -> Result<Vec<(String, u64)>> {
        let tx = self.store.read_transaction()?;
        Ok(tx.object_counts()?)
    }

    /// The current RRDP session and serial, if RRDP has published.
    pub fn rrdp_serial(&mut self) -> Result<Option<(String, u64)>> {
        let tx = self.store.read_transaction()?;
        let session = tx.meta("rrdp_session")?;
        let serial = tx.meta("rrdp_serial")?.and_then(|s| s.parse().ok());
        Ok(session.zip(serial))
    }

    /// The clock operations use.
    pub fn clock(&self) -> Clock {
        self.ctx.clock
    }

    /// Replaces the clock (tests drive time with it).
    pub fn set_clock(&mut self, clock: Clock) {
        self.ctx.clock = clock;
    }

    /// Runs SQLite's integrity check.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.store.integrity_check()?)
    }

    /// The signer, for tests that inspect signatures.
    pub fn signer(&self) -> &impl CaSigner {
        &*self.ctx.keys
    }
}

impl Ctx {
    /// Signs the ROAs of a planned batch, on all cores, without any lock:
    /// `None` for an origin left without payloads (its ROA is withdrawn).
    fn sign_roas(&self, plan: &RoaPlan, now: Time) -> Result<Vec<(u32, Option<PublishedObject>)>> {
        let issuer = self.issuer(&plan.ca)?;
        let fresh = anchorage_keys::FreshKeys(&self.keys);
        let bulk = plan.signed.len() > POOL_SHARE;
        let sign = |asn: u32, payloads: &[RoaPayload]| -> Result<Option<PublishedObject>> {
            if payloads.is_empty() {
                return Ok(None);
            }
            let obj = if bulk {
                ca::issue_roa(&fresh, &issuer, asn, payloads, now, &self.timing)?
            } else {
                ca::issue_roa(&*self.keys, &issuer, asn, payloads, now, &self.timing)?
            };
            Ok(Some(obj))
        };
        let mut signed: Vec<(u32, &[RoaPayload], Option<PublishedObject>)> = plan
            .signed
            .iter()
            .map(|(asn, p)| (*asn, p.as_slice(), None))
            .collect();
        on_all_cores(&mut signed, |(asn, payloads, obj)| {
            *obj = sign(*asn, payloads)?;
            Ok(())
        })?;
        Ok(signed.into_iter().map(|(asn, _, obj)| (asn, obj)).collect())
    }

    /// Issues a new manifest and CRL for every point of `owed`, on all
    /// cores: points are independent, and three signatures each are most
    /// of the time of a group publication. For a refresh cycle (`cycle`)
    /// each manifest gets a key made afresh, not one of the shared pool
    /// (a cycle of 50,000 points would keep it empty, and every change
    /// made meanwhile would wait for its own key generation), on threads
    /// of lower CPU priority ([`CYCLE_NICE`]): they hold no lock, and a
    /// change made meanwhile is signed, published and validated first.
    fn refresh_all(
        &self,
        owed: &mut [(Issuer, PublicationPoint, String)],
        now: Time,
        cycle: bool,
    ) -> Result<()> {
        if cycle {
            let fresh = anchorage_keys::FreshKeys(&self.keys);
            on_all_cores_at(owed, Some(CYCLE_NICE), |(issuer, point, _)| {
                Ok(point.refresh(&fresh, issuer, now, &self.timing)?)
            })
        } else {
            on_all_cores(owed, |(issuer, point, _)| {
                Ok(point.refresh(&*self.keys, issuer, now, &self.timing)?)
            })
        }
    }

    fn issuer(&self, ca: &CaRecord) -> Result<Issuer> {
        let public = self
            .keys
            .get_key_info(&ca.key)
            .map_err(|e| anchorage_ca_core::CaError::Signing(format!("key {}: {e}", ca.key)))?;
        Ok(ca.issuer(&self.layout, public)?)
    }

    fn issue_ta(
        &self,
        _tx: &Tx<'_>,
        key: KeyIdentifier,
        resources: ResourceSet,
        now: Time,
    ) -> Result<CaRecord> {
        let (cert, cert_serial, cert_not_after) = ca::issue_ta_cert(
            &*self.keys,
            &self.layout,
            &key,
            &resources,
            now,
            &self.timing,
        )?;
        Ok(CaRecord {
            handle: TA_HANDLE.to_string(),
            parent: None,
            resources,
            key,
            cert,
            cert_serial,
            cert_not_after,
            cert_uri: None,
        })
    }

    /// Writes the TAL of TA key record `ta` to `path` (RFC 8630 §2.2: URI
    /// lines, an empty line, base64 SPKI), unless it says that already.
    fn write_tal(&self, path: &std::path::Path, ta: &CaRecord) -> Result<()> {
        let public = self.issuer(ta)?.public_key;
        let spki = base64::engine::general_purpose::STANDARD.encode(public.to_info_bytes());
        // RFC 8630 §2.2: relying parties try the URIs in order; https first,
        // served next to RRDP, with the rsync URI as the fallback.
        let [https, rsync] = self.ta_cert_uris(ta)?;
        let mut text = format!("{https}\n{rsync}\n\n");
        for chunk in spki.as_bytes().chunks(64) {
            text.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
            text.push('\n');
        }
        if fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(());
        }
        let io = |source| AppError::Io {
            what: format!("writing {}", path.display()),
            source,
        };
        let tmp = path.with_extension(format!("tal.{}.tmp", std::process::id()));
        let mut f = fs::File::create(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        fs::rename(&tmp, path).map_err(io)?;
        Ok(())
    }

    fn create_ca_in(
        &self,
        tx: &Tx<'_>,
        handle: &str,
        resources: ResourceSet,
        parent: &str,
        key: KeyIdentifier,
        now: Time,
    ) -> Result<CaRecord> {
        if handle_in_use(tx, handle)? {
            return Err(AppError::DuplicateHandle(handle.into()));
        }
        let parent_ca = load_ca(tx, parent)?;
        within_parent(handle, &parent_ca, &resources)?;
        let public = self.issuer_key(&key)?;
        let parent_issuer = self.issuer(&parent_ca)?;
        let cert = ca::issue_ca_cert(
            &*self.keys,
            &self.layout,
            &parent_issuer,
            ChildCa {
                handle,
                key: &public,
                resources: &resources,
            },
            now,
            &self.timing,
        )?;
        let record = CaRecord {
            handle: handle.into(),
            parent: Some(parent.into()),
            resources,
            key,
            cert: cert.bytes.clone(),
            cert_serial: cert.serial.expect("a CA certificate has a serial"),
            cert_not_after: cert.not_after,
            cert_uri: None,
        };
        manifest_room(tx, parent, &[cert.name.as_str()])?;
        tx.insert_ca(&record, now)?;
        if self.deferred {
            // Only the certificate's own file of the parent's point is
            // loaded: an RIR's online CA has tens of thousands of them.
            // Both manifests and CRLs are owed to the next tree write,
            // which runs before anything of this is published.
            let mut parent_point = tx.point_partial(parent, &[cert.name.as_str()])?;
            parent_point.publish(cert, now);
            tx.save_point(parent, &parent_point, now)?;
            tx.mark_pending(parent)?;
            // The new CA's point is empty and numbered from 1 by
            // `insert_ca`; its first manifest and CRL are owed too.
            tx.mark_pending(handle)?;
        } else {
            let mut parent_point = tx.point(parent)?;
            parent_point.publish(cert, now);
            parent_point.refresh(&*self.keys, &parent_issuer, now, &self.timing)?;
            tx.save_point(parent, &parent_point, now)?;
            let mut point = PublicationPoint::new();
            point.refresh(&*self.keys, &self.issuer(&record)?, now, &self.timing)?;
            tx.save_point(handle, &point, now)?;
        }
        Ok(record)
    }

    pub(crate) fn issuer_key(&self, key: &KeyIdentifier) -> Result<rpki::crypto::PublicKey> {
        self.keys
            .get_key_info(key)
            .map_err(|e| anchorage_ca_core::CaError::Signing(format!("key {key}: {e}")).into())
    }

    fn roa_ca(&self, tx: &Tx<'_>, handle: &str) -> Result<CaRecord> {
        if handle == TA_HANDLE {
            return Err(AppError::TaOffLimits {
                online: self.online.clone(),
                what: "a ROA".into(),
            });
        }
        load_ca(tx, handle)
    }

    /// Publishes CA `ca`'s contact in its `point` as a Ghostbusters
    /// record signed by `issuer`, or withdraws the record if it has none.
    fn put_contact(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        issuer: &Issuer,
        now: Time,
    ) -> Result<()> {
        match tx.contact(&ca.handle)? {
            Some(vcard) => point.publish(
                ca::issue_ghostbusters(&*self.keys, issuer, &vcard, now, &self.timing)?,
                now,
            ),
            None => {
                point.withdraw(&ca::ghostbusters_file_name(&issuer.key), now);
            }
        }
        Ok(())
    }

    fn put_roa(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        issuer: &Issuer,
        asn: u32,
        now: Time,
    ) -> Result<()> {
        let payloads = canonical_payloads(tx.roas(&ca.handle, Some(asn))?);
        if payloads.is_empty() {
            point.withdraw(&roa_file_name(asn), now);
        } else {
            let obj = ca::issue_roa(&*self.keys, issuer, asn, &payloads, now, &self.timing)?;
            point.publish(obj, now);
        }
        Ok(())
    }

    /// Issues `child`'s certificate again by `issuer` (its parent) for
    /// its key and resources, stores the record, and publishes the
    /// certificate in the parent's `point`, where it replaces (and revokes)
    /// the previous one of the same key.
    fn recertify(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        child: &mut CaRecord,
        issuer: &Issuer,
        now: Time,
    ) -> Result<()> {
        let cert = self.child_key_cert(issuer, child, &child.key, now)?;
        child.cert = cert.bytes.clone();
        child.cert_serial = cert.serial.expect("a CA certificate has a serial");
        child.cert_not_after = cert.not_after;
        tx.update_ca(child)?;
        point.publish(cert, now);
        Ok(())
    }

    fn renew_child(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        issuer: &Issuer,
        file: &str,
        now: Time,
    ) -> Result<()> {
        for child_handle in tx.children(&ca.handle)? {
            let mut child = load_ca(tx, &child_handle)?;
            if ca::cert_file_name(&child.key) == file {
                return self.recertify(tx, point, &mut child, issuer, now);
            }
            // The child's new key, in its staging period.
            for mut key in tx.ca_keys(&child_handle)? {
                if ca::cert_file_name(&key.key) == file {
                    return self.recertify_key(tx, point, &child, &mut key, issuer, now);
                }
            }
        }
        if self.renew_delegated(tx, point, ca, issuer, file, now)? {
            return Ok(());
        }
        // A certificate without a CA: left over from a crash between key
        // changes. Withdrawing it revokes it.
        point.withdraw(file, now);
        Ok(())
    }
}

/// Runs `work` on every item, the items split over all cores (one item
/// alone, or two, in this thread: threads would cost more than they save).
fn on_all_cores<T: Send>(
    items: &mut [T],
    work: impl Fn(&mut T) -> Result<()> + Sync,
) -> Result<()> {
    on_all_cores_at(items, None, work)
}

/// The nice value of the threads that sign a refresh cycle's manifests
/// and CRLs: below `serve`'s other work, above the removal of old trees.
const CYCLE_NICE: i32 = 10;

/// [`on_all_cores`]; with `nice`, on threads of their own at that nice
/// value (they end with the work, so the calling thread keeps its own).
fn on_all_cores_at<T: Send>(
    items: &mut [T],
    nice: Option<i32>,
    work: impl Fn(&mut T) -> Result<()> + Sync,
) -> Result<()> {
    if items.len() <= 2 && nice.is_none() {
        return items.iter_mut().try_for_each(work);
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    let per_thread = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks_mut(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    if let Some(nice) = nice
                        && let Err(err) = anchorage_publication::lower_thread_priority(nice)
                    {
                        tracing::debug!(%err, "signing thread: priority not lowered");
                    }
                    chunk.iter_mut().try_for_each(work)
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| {
                anchorage_ca_core::CaError::Signing("a signing thread panicked".into())
            })??;
        }
        Ok(())
    })
}

/// The objects of `point` (ROAs and certificates; manifests and CRLs go
/// with the point) that are due for renewal by `due_at`.
/// Refuses a snapshot in which a point owes its manifest: only another
/// process (a CLI command) can have slipped in after the settling, and
/// its own commit refreshed its points; the next publication tries again.
fn owes_nothing(tx: &Tx<'_>) -> Result<()> {
    if !tx.pending_points()?.is_empty() {
        return Err(AppError::Busy(
            "another process changed the repository during publication".into(),
        ));
    }
    Ok(())
}

/// [`Anchorage::tree_behind`] in `tx`.
fn tree_is_behind(tx: &Tx<'_>) -> Result<bool> {
    Ok(!tx.pending_points()?.is_empty() || meta_num(tx, "rsync_seq")? != Some(tx.change_seq()?))
}

/// A meta value that is a number, if set.
fn meta_num(tx: &Tx<'_>, key: &str) -> Result<Option<i64>> {
    Ok(tx.meta(key)?.and_then(|s| s.parse().ok()))
}

/// Records that one way of publication (`own`: the rsync tree's or
/// RRDP's audit generation) shows the state of audit generation
/// `generation`, and sets `tree_generation`, which key retirement and
/// TALs wait for, to what both show: the smaller of the two (a store
/// written before they were kept apart counts its last `tree_generation`
/// for the other).
fn shown_by(tx: &Tx<'_>, own: &str, other: &str, generation: i64) -> Result<()> {
    tx.set_meta(own, &generation.to_string())?;
    let other = match meta_num(tx, other)? {
        Some(g) => g,
        None => meta_num(tx, "tree_generation")?.unwrap_or(0),
    };
    tx.set_meta("tree_generation", &generation.min(other).to_string())?;
    Ok(())
}

fn due_objects(point: &PublicationPoint, due_at: Time, timing: &Timing) -> Vec<String> {
    point
        .expiring(due_at, timing.object_reissue_before)
        .into_iter()
        .map(|o| o.name.clone())
        .filter(|n| !n.ends_with(".mft") && !n.ends_with(".crl"))
        .collect()
}

/// Refuses the files `new` (names the point does not hold yet) in the
/// point of CA `ca` when its manifest could then be larger than the
/// largest file rpki-client reads: it would reject the whole point, and
/// every CA and ROA below it with it.
pub(crate) fn manifest_room(tx: &Tx<'_>, ca: &str, new: &[&str]) -> Result<()> {
    use anchorage_ca_core::point::{MAX_OBJECT_BYTES, manifest_bytes_bound};
    if new.is_empty() {
        return Ok(());
    }
    // What the store holds, the manifest's own name included: an
    // entry's worth more than the manifest lists, on the safe side.
    let (files, name_bytes) = tx.listing(ca)?;
    let bytes = manifest_bytes_bound(
        files + new.len() as u64,
        name_bytes + new.iter().map(|n| n.len() as u64).sum::<u64>(),
    );
    if bytes > MAX_OBJECT_BYTES {
        return Err(AppError::LimitExceeded {
            ca: ca.into(),
            limit: "bytes of manifest at most (rpki-client rejects a point whose manifest is \
                    larger than 4,000,000 bytes; place further child CAs under an intermediate CA)",
            value: bytes as usize,
            max: MAX_OBJECT_BYTES as usize,
        });
    }
    Ok(())
}

/// Whether a handle names a CA, a publisher, or a CA waiting for its
/// remote parent's first certificate: all of them own `RSYNC_BASE/HANDLE/`.
fn handle_in_use(tx: &Tx<'_>, handle: &str) -> Result<bool> {
    use anchorage_store::PeerKind;
    Ok(tx.ca(handle)?.is_some()
        || tx.peer(PeerKind::Publisher, handle)?.is_some()
        || tx.peer(PeerKind::Parent, handle)?.is_some())
}

/// RFC 6487 §7.1: what `child` is to hold must be held by `parent`.
fn within_parent(child: &str, parent: &CaRecord, resources: &ResourceSet) -> Result<()> {
    if parent.resources.contains(resources) {
        return Ok(());
    }
    Err(anchorage_ca_core::CaError::Overclaim {
        child: child.into(),
        parent: parent.handle.clone(),
        excess: resources.difference(&parent.resources).to_string(),
    }
    .into())
}

fn load_ca(tx: &Tx<'_>, handle: &str) -> Result<CaRecord> {
    tx.ca(handle)?
        .ok_or_else(|| AppError::UnknownCa(handle.to_string()))
}

fn roa_info(p: &RoaPayload) -> RoaInfo {
    RoaInfo {
        asn: p.asn,
        prefix: p.prefix.to_string(),
        max_length: p.max_length,
    }
}

/// A data directory made at `dir` by `actor` for the unit tests below,
/// with loopback URIs and the system clock.
#[cfg(test)]
fn init_for_test(dir: &DataDir, actor: &Actor) -> Anchorage {
    let uris = InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/");
    Anchorage::init(actor, dir.clone(), &uris, Clock::System)
        .unwrap()
        .0
}

#[cfg(test)]
mod manifest_room_tests {
    use anchorage_ca_core::point::{MAX_OBJECT_BYTES, manifest_bytes_bound};

    use super::*;

    fn key_files(dir: &DataDir) -> usize {
        fs::read_dir(dir.keys()).map_or(0, |d| d.count())
    }

    /// A point is filled with certificate-sized names up to the bound;
    /// one more child CA is then refused, changing nothing, and fits
    /// again once a file is gone.
    #[test]
    fn no_point_grows_a_manifest_rpki_client_would_not_read() {
        let root = std::env::temp_dir().join(format!("anchorage-mft-room-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let actor = Actor::named("test");
        let dir = DataDir::new(&root);
        let mut a = init_for_test(&dir, &actor);
        a.set_deferred_publication(true);
        let online = a.online_handle().to_string();
        let now = a.ctx.clock.now();
        // Names as long as a child certificate's (hex SKI and ".cer").
        let entry = 40 + 44;
        let tx = a.store.transaction().unwrap();
        let (files, names) = tx.listing(&online).unwrap();
        let room = (MAX_OBJECT_BYTES - manifest_bytes_bound(files, names)) / entry;
        for i in 0..room {
            let filler = PublishedObject::new(
                format!("{i:040X}.cer"),
                bytes::Bytes::from_static(b"x"),
                None,
                now,
            );
            tx.put_object(&online, &filler, now).unwrap();
        }
        tx.commit().unwrap();

        let keys_before = key_files(&dir);
        let err = a
            .create_ca(&actor, "one-too-many", "AS65000".parse().unwrap(), None)
            .unwrap_err();
        assert!(
            matches!(&err, AppError::LimitExceeded { ca, max, .. }
                if *ca == online && *max == MAX_OBJECT_BYTES as usize),
            "{err}"
        );
        assert!(err.to_string().contains("rpki-client"), "{err}");
        assert!(
            a.list_cas()
                .unwrap()
                .iter()
                .all(|c| c.handle != "one-too-many")
        );
        assert_eq!(key_files(&dir), keys_before, "the refused CA's key is gone");

        let tx = a.store.transaction().unwrap();
        tx.delete_object(&online, &format!("{:040X}.cer", 0))
            .unwrap();
        tx.commit().unwrap();
        a.create_ca(&actor, "one-too-many", "AS65000".parse().unwrap(), None)
            .unwrap();
        drop(a);
        let _ = fs::remove_dir_all(&root);
    }
}

#[cfg(test)]
mod refresh_cycle_tests {
    use super::*;

    /// A refresh cycle signs its manifests with keys made for it: the
    /// shared pool, which single changes made meanwhile rely on, is left
    /// as it was; a single change still takes its keys from the pool.
    #[test]
    fn a_refresh_cycle_leaves_the_ee_key_pool_to_single_changes() {
        let root = tempfile::tempdir().unwrap();
        let actor = Actor::named("test");
        let mut a = init_for_test(&DataDir::new(root.path()), &actor);
        for i in 0..3 {
            let resources = format!("AS6500{i}, 10.{i}.0.0/16").parse().unwrap();
            a.create_ca(&actor, &format!("lir{i}"), resources, None)
                .unwrap();
        }
        a.ee_key_pool().fill(8).unwrap();

        // Nine hours on, every manifest and CRL is due (16 h of 24 left).
        let later = chrono::Utc::now() + chrono::Duration::hours(9);
        a.set_clock(Clock::Fixed(later));
        let report = a.publish(&actor).unwrap();
        assert_eq!(report.refreshed_points, 5, "ta, online and three CAs");
        assert_eq!(a.ee_key_pool().len(), 8, "the cycle took no pooled key");

        let payload = RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
        a.apply_roa_changes(&actor, "lir0", &[payload], &[])
            .unwrap();
        assert!(
            a.ee_key_pool().len() < 8,
            "a single change draws on the pool"
        );
    }
}

#[cfg(test)]
mod group_pause_tests {
    use super::*;
    use std::time::Duration;

    const POLL: Duration = Duration::from_millis(20);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_quick_tree_write_keeps_the_window_and_a_slow_one_spreads_the_next() {
        // A write of 10 ms, looked at right after: the rest of the window.
        assert_eq!(group_pause(ms(10), ms(10), POLL), ms(90));
        // Past the window, a quick write leaves only the poll.
        assert_eq!(group_pause(ms(150), ms(10), POLL), POLL);
        // A write of 300 ms (a burst's manifests): twice that, from its end.
        assert_eq!(group_pause(ms(300), ms(300), POLL), ms(600));
        // A very slow one holds the next back by at most the cap.
        assert_eq!(group_pause(ms(7000), ms(7000), POLL), GROUP_REST_MAX);
        // Never below the poll.
        assert_eq!(group_pause(ms(0), ms(0), ms(200)), ms(200));
    }

    /// When a rest of `pause` (at least `least`, quiet spells of
    /// [`POLL`]) ends, looked at as a task does, with the journal's head
    /// moving at every look before `moving` after its start.
    fn rest_ends(least: Duration, pause: Duration, moving: Duration) -> Duration {
        let t0 = std::time::Instant::now();
        let mut rest = Rest::new(t0, least, pause, POLL);
        let (mut t, mut head) = (t0, 0);
        while !rest.over(t, head) {
            assert!(t < t0 + pause, "it ran past its time");
            t += rest.next_look(t);
            if t < t0 + moving {
                head += 1;
            }
        }
        t - t0
    }

    #[test]
    fn a_rest_ends_when_its_time_is_up_or_changes_stop() {
        // Changes keep coming: the rest lasts its whole time.
        assert_eq!(rest_ends(ms(100), ms(600), ms(600)), ms(600));
        // Changes stop at once: it ends one quiet spell after its least.
        assert_eq!(rest_ends(ms(100), ms(600), ms(0)), ms(100));
        // The last change is seen at the look of 280 ms: the rest ends
        // one quiet spell later.
        assert_eq!(rest_ends(ms(100), ms(600), ms(290)), ms(300));
        // A rest shorter than its least ends with its time.
        assert_eq!(rest_ends(ms(100), ms(40), ms(0)), ms(40));
    }

    #[test]
    fn the_group_publishers_rest_follows_its_last_write() {
        let t0 = std::time::Instant::now();
        // No write yet: a poll.
        let rest = Rest::after_tree(t0, None);
        assert!(!rest.time_up(t0 + ms(19)) && rest.time_up(t0 + POLL));
        // Right after a write of 300 ms: twice that.
        let rest = Rest::after_tree(t0 + ms(300), Some((t0, ms(300))));
        assert!(!rest.time_up(t0 + ms(899)) && rest.time_up(t0 + ms(900)));
    }
}

#[cfg(test)]
mod rrdp_rest_tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// The RRDP task's rest ends early when the changes stop while its
    /// share pays for the next serial; however often they stop, serials
    /// take at most a quarter of the time and [`RRDP_CREDIT_MAX`].
    #[test]
    fn the_rrdp_rest_ends_early_only_within_the_tasks_share() {
        let least = Duration::from_millis(100);
        let t0 = Instant::now();
        // A serial of 100 ms with the credit in hand: the rest may end
        // after `least`, and otherwise lasts three times the serial.
        let mut share = RrdpShare::new(t0);
        let rest = share.rest_after(t0, Duration::from_millis(100), least);
        assert_eq!(rest.earliest, t0 + least);
        assert_eq!(rest.until, t0 + Duration::from_millis(300));

        // Serials of `work`, each as early as its rest lets it go, as
        // if the changes stopped at once every time, for ten minutes:
        // the serials' time, the time, and how many rests could end at
        // `least` (the credit's worth; later ones come at the share's
        // pace).
        let stream = |work: Duration| {
            let mut share = RrdpShare::new(t0);
            let (mut now, mut spent, mut quick) = (t0, Duration::ZERO, 0);
            while now < t0 + Duration::from_secs(600) {
                now += work;
                spent += work;
                let rest = share.rest_after(now, work, least);
                quick += usize::from(rest.earliest <= now + least);
                now = rest.earliest;
            }
            (spent, now - t0, quick)
        };
        for ms in [100, 400, 1600] {
            let work = Duration::from_millis(ms);
            let (spent, elapsed, quick) = stream(work);
            assert!(
                spent <= elapsed / 4 + RRDP_CREDIT_MAX + work,
                "{ms} ms serials: {spent:?} of serials in {elapsed:?}"
            );
            let credit = RRDP_CREDIT_MAX.as_millis() as usize / ms as usize;
            match ms {
                // About the credit's worth of serials (it grows by a
                // quarter meanwhile), then the share's pace.
                100 | 400 => assert!(
                    (credit / 2..=2 * credit).contains(&quick),
                    "{ms} ms: {quick} quick rests"
                ),
                // A snapshot at 50,000 CAs: the credit never covers two.
                _ => assert_eq!(quick, 0),
            }
        }
    }

    /// A data directory with a CA "lir" (AS65000, 10.0.0.0/16), its
    /// changes published deferred, as `serve` makes them.
    fn deferred_lir() -> (tempfile::TempDir, DataDir, Actor, Anchorage) {
        let root = tempfile::tempdir().unwrap();
        let actor = Actor::named("test");
        let dir = DataDir::new(root.path());
        let mut a = init_for_test(&dir, &actor);
        a.create_ca(&actor, "lir", "AS65000, 10.0.0.0/16".parse().unwrap(), None)
            .unwrap();
        a.set_deferred_publication(true);
        (root, dir, actor, a)
    }

    /// A serial's own work, which `serve` rests after, leaves out its
    /// wait for another writer's publication turn.
    #[test]
    fn a_serials_work_leaves_out_its_wait_for_a_tree_writers_turn() {
        let (_root, dir, actor, mut a) = deferred_lir();
        let payload = RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
        a.apply_roa_changes(&actor, "lir", &[payload], &[]).unwrap();

        // Another process writes a tree for the next 300 ms.
        const HELD: Duration = Duration::from_millis(300);
        let tree_writer = dir.lock_publication().unwrap();
        let started = Instant::now();
        let release = std::thread::spawn(move || {
            std::thread::sleep(HELD);
            drop(tree_writer);
        });
        let RrdpWrite::Serial(serial, work) = a.write_rrdp_timed(SerialSettle::Own).unwrap() else {
            panic!("a serial is due");
        };
        let took = started.elapsed();
        release.join().unwrap();
        assert!(serial > 1);
        assert!(took >= HELD, "the serial waited for the tree writer");
        assert!(
            work + HELD <= took + Duration::from_millis(20),
            "work {work:?} of {took:?} counts the wait"
        );
        assert!(work > Duration::ZERO);
        // With no wait, its work is its whole time.
        a.apply_roa_changes(
            &actor,
            "lir",
            &[RoaPayload::new(65000, "10.0.1.0/24".parse().unwrap(), None).unwrap()],
            &[],
        )
        .unwrap();
        let started = Instant::now();
        let RrdpWrite::Serial(_, work) = a.write_rrdp_timed(SerialSettle::Own).unwrap() else {
            panic!("a serial is due");
        };
        assert!(work <= started.elapsed());
        assert!(work + Duration::from_millis(50) >= started.elapsed());
    }

    /// A serial from a state found settled is written only where no
    /// change owes its manifest, and shows the manifests the tree writer
    /// signed: it signs none of its own.
    #[test]
    fn a_serial_from_a_found_state_waits_for_the_tree_writers_settle() {
        let (_root, _dir, actor, mut a) = deferred_lir();
        a.set_rrdp_apart(true);
        a.write_tree().unwrap();
        assert_ne!(
            a.write_rrdp_timed(SerialSettle::Found).unwrap(),
            RrdpWrite::Unsettled
        );
        let serial_before = a.rrdp_serial().unwrap().map(|(_, s)| s);
        let payload = RoaPayload::new(65000, "10.0.0.0/24".parse().unwrap(), None).unwrap();
        a.apply_roa_changes(&actor, "lir", &[payload], &[]).unwrap();
        let owed = |a: &mut Anchorage| {
            a.store
                .read_transaction()
                .unwrap()
                .pending_points()
                .unwrap()
        };
        assert_eq!(owed(&mut a).len(), 1);

        // Owed: nothing written, nothing signed.
        assert_eq!(
            a.write_rrdp_timed(SerialSettle::Found).unwrap(),
            RrdpWrite::Unsettled
        );
        assert_eq!(owed(&mut a).len(), 1, "the serial signed nothing");
        assert_eq!(a.rrdp_serial().unwrap().map(|(_, s)| s), serial_before);

        // The tree writer settles; the serial shows the manifest it signed.
        a.write_tree().unwrap();
        let RrdpWrite::Serial(serial, _) = a.write_rrdp_timed(SerialSettle::Found).unwrap() else {
            panic!("a serial is due");
        };
        assert_eq!(Some(serial), serial_before.map(|s| s + 1));
        let tree = a.ctx.tree.current();
        let base = a.ctx.layout.rsync_base.clone();
        let shown = a.store.read_transaction().unwrap().rrdp_objects().unwrap();
        assert!(shown.iter().any(|(uri, _)| uri.ends_with(".roa")));
        for (uri, hash) in shown {
            let path = tree.join(uri.strip_prefix(&base).unwrap());
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(point::sha256(&bytes), hash, "{uri}: the tree's file");
        }
        assert_eq!(
            a.write_rrdp_timed(SerialSettle::Found).unwrap(),
            RrdpWrite::Current
        );
    }

    /// `serve`'s RRDP task settles a state itself only after looking for
    /// one the tree writer settled for [`RRDP_SETTLE_AFTER`], and looks
    /// again every [`GROUP_POLL`] meanwhile.
    #[test]
    fn the_rrdp_task_settles_itself_only_after_waiting() {
        let now = Instant::now();
        let least = Duration::from_millis(100);
        let mut pace = RrdpPace::new(now, least);
        assert_eq!(pace.settle(now), SerialSettle::Found);
        let rest = pace.rest_after(now, Some(RrdpWrite::Unsettled));
        assert_eq!(rest.until, now + GROUP_POLL);
        assert!(pace.unsettled());
        assert_eq!(pace.settle(now), SerialSettle::Found);
        // A later look that finds none still counts from the first.
        pace.rest_after(now + Duration::from_secs(1), Some(RrdpWrite::Unsettled));
        let late = now + RRDP_SETTLE_AFTER;
        assert_eq!(
            pace.settle(late - Duration::from_millis(1)),
            SerialSettle::Found
        );
        assert_eq!(pace.settle(late), SerialSettle::Own);
        // A serial starts the count again.
        let rest = pace.rest_after(late, Some(RrdpWrite::Serial(2, Duration::from_millis(50))));
        assert!(!pace.unsettled());
        assert_eq!(pace.settle(late), SerialSettle::Found);
        assert!(rest.until >= late + least);
        assert_eq!(pace.rest_after(late, None).until, late + RRDP_RETRY_AFTER);
    }
}
