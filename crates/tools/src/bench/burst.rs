//! The burst as `serve` takes it: the changes come from several clients
//! at once, each on a connection of an engine pool set up as `serve`'s
//! (deferred publication, RRDP serials apart), so one change is signed
//! while another commits; a group publisher writes a tree when changes
//! wait for one, its trees at least 100 ms apart (further after a long
//! write, while changes come), and an RRDP task writes a serial for what
//! was committed since its last one, from a state the publisher's tree
//! write settled (resting after each, while changes come, for three
//! times its work), as `serve`'s
//! tasks do (the refresh cycle runs beside the same two), with an rsync
//! daemon on the tree and old trees removed by a thread of their own, as
//! `serve` has them. The time ends when the last change is in a tree and
//! in an RRDP serial.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anchorage_ca_core::RoaPayload;

use super::BENCH;
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{EnginePool, PoolSettings};

/// How many clients send the burst's changes at once: one per core of
/// the two-core machines the figures are stated for.
pub(super) const CLIENTS: usize = 2;

/// How many times the burst is taken as `serve` takes it, each time
/// with new changes; the figure is the median.
pub(super) const ROUNDS: u32 = 3;

/// `serve`'s group window: its trees start at least this far apart,
/// and its RRDP task looks for changes as often.
const WINDOW: Duration = crate::ops::GROUP_WINDOW;

/// An engine pool on `dir` set up as `serve`'s: deferred publication,
/// RRDP serials apart, no push from tree writes; superseded trees left
/// in the trash for a remover of their own with `trash_apart`.
pub(super) fn serve_pool(dir: &Path, trash_apart: bool) -> anyhow::Result<EnginePool> {
    Ok(EnginePool::open(
        DataDir::new(dir),
        Clock::System,
        PoolSettings {
            deferred: true,
            push_inline: false,
            rrdp_apart: true,
            trash_apart,
            max_connections: CLIENTS + 2,
            ..PoolSettings::default()
        },
        Arc::new(anchorage_engine::transport::NoTransport),
    )?)
}

/// What a burst taken as `serve` takes it cost.
pub(super) struct Served {
    /// From the first change sent to the last one in a tree and a serial.
    pub seconds: f64,
    /// CPU seconds of this process over the same time.
    pub cpu_seconds: f64,
    /// Trees the group publisher wrote.
    pub trees: usize,
    /// RRDP serials written.
    pub serials: usize,
    /// Seconds per RSA-2048 signature with a key that signed before,
    /// measured right before the burst: the floor its figure is held to,
    /// taken in the same minute, as this machine's speed drifts between
    /// the bench's parts (0.24 and 0.36 ms in two runs of one evening).
    pub signature: f64,
}

/// Applies `changes` (a CA and a payload to add, each its own
/// transaction as an API call is) from [`CLIENTS`] threads on a pool of
/// connections to `dir`, beside `serve`'s group publisher, RRDP task and
/// remover of old trees, with an rsync daemon on the tree. Untimed
/// first, as `serve` keeps them: the EE key pool filled, and the old
/// trees the bench's earlier parts left removed (hundreds, kept for
/// their grace where no daemon showed who reads them, which `serve`
/// would have removed as they came).
pub(super) fn as_serve(dir: &Path, changes: &[(String, RoaPayload)]) -> anyhow::Result<Served> {
    let pool = serve_pool(dir, true)?;
    let tree = anchorage_publication::RsyncTree::new(DataDir::new(dir).rsync());
    pool.get()?.ee_key_pool().fill(2 * changes.len() + 2)?;
    let rsyncd_dir = tempfile::tempdir()?;
    let _rsyncd =
        crate::oracle::RsyncDaemon::start(&dir.join("rsync/current"), "repo", rsyncd_dir.path())?;
    // A change made and undone, published: with the daemon in view, its
    // tree write sets every old tree aside (and removes them, as there
    // are more than the trash holds); then the trash is emptied.
    if let Some((ca, p)) = changes.first() {
        let mut a = pool.get()?;
        a.apply_roa_changes(&BENCH, ca, &[*p], &[])?;
        a.apply_roa_changes(&BENCH, ca, &[], &[*p])?;
        a.write_tree()?;
        a.write_rrdp()?;
    }
    tree.empty_trash(false);
    let signature = super::signature_time(&*pool.get()?, 200)?;
    let next = AtomicUsize::new(0);
    let sent = AtomicBool::new(false);
    let cpu = super::cpu_seconds();
    let t = Instant::now();
    let (trees, serials) = std::thread::scope(|s| -> anyhow::Result<(usize, usize)> {
        // Named, so that a profile of the bench tells them apart.
        // A thread that cannot start ends those started before it.
        let named = |name: &str| std::thread::Builder::new().name(name.into());
        let failed = |e: std::io::Error| {
            sent.store(true, Ordering::Release);
            anyhow::Error::from(e)
        };
        let publisher = named("group-publisher")
            .spawn_scoped(s, || group_publisher(&pool, &sent))
            .map_err(failed)?;
        let rrdp = named("rrdp-writer")
            .spawn_scoped(s, || rrdp_writer(&pool, &sent))
            .map_err(failed)?;
        let remover = named("tree-remover")
            .spawn_scoped(s, || trash_remover(dir, &sent))
            .map_err(failed)?;
        let clients = (0..CLIENTS)
            .map(|c| {
                named(&format!("client-{c}")).spawn_scoped(s, || -> anyhow::Result<()> {
                    while let Some((ca, p)) = changes.get(next.fetch_add(1, Ordering::Relaxed)) {
                        pool.get()?.apply_roa_changes(&BENCH, ca, &[*p], &[])?;
                    }
                    Ok(())
                })
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(failed)?;
        // Every client is joined before the others are told to end.
        let mut sending = Ok(());
        for client in clients {
            let result = client
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a burst client panicked")));
            if sending.is_ok() {
                sending = result;
            }
        }
        // The clients have ended: the publisher and the RRDP writer
        // each write once more and end.
        sent.store(true, Ordering::Release);
        let trees = publisher.join().expect("the group publisher panicked");
        let serials = rrdp.join().expect("the RRDP writer panicked");
        let _ = remover.join();
        sending?;
        Ok((trees?.len(), serials?.len()))
    })?;
    let served = Served {
        seconds: t.elapsed().as_secs_f64(),
        cpu_seconds: super::cpu_seconds() - cpu,
        trees,
        serials,
        signature,
    };
    // What the burst set aside, removed untimed as serve's remover would
    // within seconds (a short burst ends before its next pass).
    tree.empty_trash(false);
    Ok(served)
}

/// `serve`'s remover of old trees on `dir` (at the lowest priority,
/// paced, every few seconds), until `done`.
pub(super) fn trash_remover(dir: &Path, done: &AtomicBool) {
    let _ = anchorage_publication::lowest_thread_priority();
    let tree = anchorage_publication::RsyncTree::new(DataDir::new(dir).rsync());
    while !done.load(Ordering::Acquire) {
        tree.empty_trash(true);
        // As often as serve's, and a quick end when `done`.
        for _ in 0..50 {
            if done.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One write of `serve`'s publication tasks: how long it took (ms) and
/// how many files it wrote (0 for an RRDP serial).
pub(super) type Write = (f64, usize);

/// Sleeps through a publication task's `rest` as `serve`'s tasks do,
/// looking at the change journal's head on a connection of `pool` as
/// often as the rest asks, so that it ends when the changes stop.
fn rest_through(pool: &EnginePool, mut rest: crate::ops::Rest) {
    loop {
        std::thread::sleep(rest.next_look(Instant::now()));
        if rest.time_up(Instant::now()) {
            return;
        }
        match pool.get().ok().and_then(|mut a| a.change_head().ok()) {
            Some(head) if !rest.over(Instant::now(), head) => {}
            _ => return,
        }
    }
}

/// `serve`'s group publisher on a connection of `pool`: a tree when
/// committed changes wait for one, trees at least [`WINDOW`] apart, or
/// further after a long write while changes come
/// ([`crate::ops::Rest::after_tree`]), and within
/// [`crate::ops::GROUP_POLL`] of a change after a quiet spell, until
/// `done`; then a last one. A failed write is retried a window later, as
/// `serve` does, except the last. Returns the trees written.
pub(super) fn group_publisher(pool: &EnginePool, done: &AtomicBool) -> anyhow::Result<Vec<Write>> {
    let (mut trees, mut last) = (Vec::new(), None::<(Instant, Duration)>);
    loop {
        let ending = done.load(Ordering::Acquire);
        if !ending {
            rest_through(pool, crate::ops::Rest::after_tree(Instant::now(), last));
        }
        let started = Instant::now();
        let wrote = pool.get().map_err(anyhow::Error::from).and_then(|mut a| {
            Ok(match a.tree_behind()? {
                true => Some(a.write_tree()?.written),
                false => None,
            })
        });
        match wrote {
            Ok(None) => {}
            Ok(Some(files)) => {
                trees.push((started.elapsed().as_secs_f64() * 1000.0, files));
                last = Some((started, started.elapsed()));
            }
            Err(err) if ending => return Err(err),
            Err(err) => {
                eprintln!("a tree write failed, retried: {err:#}");
                last = Some((started, started.elapsed()));
            }
        }
        if ending {
            return Ok(trees);
        }
    }
}

/// `serve`'s RRDP task on a connection of `pool`: a serial for what was
/// committed since the last one, at most every [`WINDOW`] and paced as
/// `serve`'s ([`crate::ops::RrdpPace`]: resting after a serial, from a
/// state the group publisher settled), until `done`; then a last one,
/// once the publisher's last tree has settled it. A failed serial is
/// retried after a second, as `serve` does, except the last. Returns the
/// serials written.
pub(super) fn rrdp_writer(pool: &EnginePool, done: &AtomicBool) -> anyhow::Result<Vec<Write>> {
    let mut pace = crate::ops::RrdpPace::new(Instant::now(), WINDOW);
    let (mut serials, mut rest) = (Vec::new(), crate::ops::Rest::wait(Instant::now(), WINDOW));
    loop {
        let ending = done.load(Ordering::Acquire);
        // Once the clients have ended, as `serve`'s task after a burst:
        // only the look for the state the publisher's last tree settles.
        if !ending || pace.unsettled() {
            rest_through(pool, rest);
        }
        let t = Instant::now();
        let wrote = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut a| Ok(a.write_rrdp_timed(pace.settle(t))?));
        let written = match wrote {
            Ok(written) => Some(written),
            Err(err) if ending => return Err(err),
            Err(err) => {
                eprintln!("an RRDP serial failed, retried: {err:#}");
                None
            }
        };
        if let Some(crate::ops::RrdpWrite::Serial(..)) = written {
            serials.push((t.elapsed().as_secs_f64() * 1000.0, 0));
        }
        rest = pace.rest_after(Instant::now(), written);
        if ending && !pace.unsettled() {
            return Ok(serials);
        }
    }
}
