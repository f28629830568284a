//! Following a repository that this machine's Anchorage serves, as
//! `serve`'s own validator does after every publication: the copy is
//! brought up to date with the paths the served tree's journals name
//! (see `anchorage_publication`), and only the publication points in
//! those directories are validated again ([`Reuse::Outside`]), so a run
//! after one change costs in proportion to the change, not to the
//! repository.
//!
//! Where the journals cannot say what changed (the first run, a full tree
//! write, journals pruned while the validator was behind), or when the
//! caller asks for everything, the whole module is fetched; then every
//! point is validated again ([`Reuse::Never`], which is how expiry is
//! seen) or, when only the journals were missing, those whose files
//! changed in the copy ([`Reuse::Unchanged`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use anchorage_publication::RsyncTree;
use rpki::uri;

use crate::fetch::{FetchError, Fetcher, RsyncFetcher};
use crate::walk::{Live, Reuse, Update, WalkError};

/// How often a listed transfer is repeated because the served tree moved
/// on during it, before the whole module is fetched instead. A listed
/// transfer takes tens of milliseconds and trees come at most every
/// group window (100 ms), so under a stream of changes about one try in
/// three sees the tree move; the whole module takes 11 s at 20,000 CAs
/// (seen after 5 tries when ten changes came back to back), so the
/// listed transfer is tried many times first.
const LISTED_TRIES: usize = 40;

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The copy could not be brought up to date.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The validation failed as a whole.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// The base URI is not an rsync directory.
    #[error("{0} is not an rsync directory (rsync://HOST/MODULE/…/)")]
    Base(String),
    /// Nothing is served yet.
    #[error("the rsync tree has not been written yet")]
    NoTree,
}

/// A listed transfer: the fetcher, the generation, the paths.
type Listed = (RsyncFetcher, u64, BTreeSet<String>);

/// A validator following the served tree `tree`, published at `module`.
pub struct Mirror {
    live: Live,
    tree: RsyncTree,
    /// The rsync module, and the path below it where the tree's files are
    /// (empty where the tree is the module, as `serve` serves it).
    module: uri::Rsync,
    below: String,
    tal: PathBuf,
    cache: PathBuf,
    rsync: PathBuf,
    /// The tree generation the copy shows: every change after it is named
    /// by the tree's journals. `None`: fetch the whole module.
    copy: Option<u64>,
    /// Whether the next run starts from nothing kept.
    fresh: bool,
}

/// What one [`Mirror::run`] did.
pub struct MirrorRun {
    /// What changed for routers, and the results.
    pub update: Update,
    /// The generation of the served tree validated.
    pub generation: u64,
    /// Paths fetched by name, or `None` when the whole module was.
    pub listed: Option<usize>,
    /// Whether the run started from nothing kept (the first, or the first
    /// after [`Mirror::reset`]): its update announces every VRP and
    /// withdraws none, so a consumer replaces what it holds.
    pub fresh: bool,
}

impl Mirror {
    /// A validator of the repository of the TAL at `tal`, whose rsync
    /// tree `tree` is published at `base` (`rsync://HOST/MODULE/`, as
    /// `serve` serves it, or a directory below the module), fetching
    /// into `cache` with `rsync` (the program, or a wrapper that points it
    /// at the local daemon).
    pub fn new(
        tree: RsyncTree,
        base: &str,
        tal: impl Into<PathBuf>,
        cache: impl Into<PathBuf>,
        rsync: impl Into<PathBuf>,
    ) -> Result<Self, MirrorError> {
        let base = base
            .parse::<uri::Rsync>()
            .ok()
            .filter(|b| b.path().is_empty() || b.path().ends_with('/'))
            .ok_or_else(|| MirrorError::Base(base.to_string()))?;
        let module = uri::Rsync::from_string(base.module().to_string())
            .map_err(|_| MirrorError::Base(base.to_string()))?;
        Ok(Mirror {
            live: Live::default(),
            tree,
            module,
            below: base.path().to_string(),
            tal: tal.into(),
            cache: cache.into(),
            rsync: rsync.into(),
            copy: None,
            fresh: true,
        })
    }

    /// Forgets everything kept: the next run fetches and validates
    /// everything and is [`MirrorRun::fresh`]. For a caller that cannot
    /// trust the state (a run panicked).
    pub fn reset(&mut self) {
        self.live = Live::default();
        self.copy = None;
        self.fresh = true;
    }

    /// The generation of the tree served now.
    pub fn generation(&self) -> Option<u64> {
        self.tree.current_generation()
    }

    /// Brings the copy up to date and validates what changed, or, with
    /// `everything`, fetches and validates everything.
    pub fn run(&mut self, everything: bool) -> Result<MirrorRun, MirrorError> {
        let copy = self.copy.take();
        let listed = match copy.filter(|_| !everything) {
            Some(since) => self.fetch_listed(since)?,
            None => None,
        };
        let (rsync, generation, dirs, count) = match listed {
            Some((rsync, generation, paths)) => {
                let dirs = rsync.local_dirs(&self.module, &paths)?;
                (rsync, generation, Some(dirs), Some(paths.len()))
            }
            // What the whole module's transfer will show is this tree or a
            // later one: the journals after this one name all it changed.
            None => {
                let generation = self.generation().ok_or(MirrorError::NoTree)?;
                // Fetched before the walk, so that its write-back starts
                // while the walk validates; where the transfer fails, the
                // walk tries again and rejects what it cannot fetch.
                let mut rsync = RsyncFetcher::new(&self.cache, &self.rsync);
                if rsync.fetch_dir(&self.module).is_ok() {
                    self.write_back_copy();
                }
                (rsync, generation, None, None)
            }
        };
        let root = rsync.local_path(&self.module)?;
        let reuse = match (&dirs, everything) {
            (Some(changed), _) => Reuse::Outside {
                root: &root,
                changed,
            },
            (None, true) => Reuse::Never,
            (None, false) => Reuse::Unchanged,
        };
        let mut fetcher = Fetcher::rsync_only(rsync);
        // A failed run leaves `copy` unknown: the next fetches everything
        // and checks every point's files.
        let update = self.live.run(&self.tal, &mut fetcher, true, reuse)?;
        self.copy = Some(generation);
        Ok(MirrorRun {
            update,
            generation,
            listed: count,
            fresh: std::mem::take(&mut self.fresh),
        })
    }

    /// Has the copy written to disk, on a thread of its own. A whole
    /// module fetched into an empty copy is the repository's size (285 MB
    /// at 50,000 CAs), in memory until the kernel writes it back, and the
    /// next tree write's syncfs(2) on the same file system waits for
    /// whatever of it is not written yet. This starts that wait at once,
    /// beside the walk, instead of on the publication path.
    fn write_back_copy(&self) {
        let cache = self.cache.clone();
        let started = std::thread::Builder::new()
            .name("copy-write-back".into())
            .spawn(move || {
                let t = std::time::Instant::now();
                match anchorage_publication::sync_file_system(&cache) {
                    Ok(()) => tracing::debug!(
                        ms = t.elapsed().as_millis() as u64,
                        "validator's copy written back"
                    ),
                    Err(e) => tracing::warn!(error = %e, cache = %cache.display(),
                        "validator's copy not written back"),
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "no thread to write the validator's copy back");
        }
    }

    /// Fetches the paths changed since generation `since` by name; returns
    /// the fetcher (the module counts as fetched), the generation the copy
    /// now shows and the paths, or `None` where the journals cannot say
    /// (then the whole module is fetched).
    ///
    /// A transfer reads the one tree current when it connected. If the
    /// generation is the same before and after, that was it; otherwise
    /// the transfer may have read a later tree, so it is repeated with
    /// what that one changed too.
    fn fetch_listed(&self, since: u64) -> Result<Option<Listed>, FetchError> {
        // The journals' paths are the tree's; the copy's are the module's.
        let in_module = |(g, paths): (u64, BTreeSet<String>)| {
            let paths = paths
                .into_iter()
                .map(|p| format!("{}{p}", self.below))
                .collect();
            (g, paths)
        };
        let Some((mut generation, mut paths)) = self.tree.changed_since(since).map(in_module)
        else {
            return Ok(None);
        };
        let mut rsync = RsyncFetcher::new(&self.cache, &self.rsync);
        for _ in 0..LISTED_TRIES {
            rsync.fetch_listed(&self.module, &paths)?;
            match self.tree.changed_since(since).map(in_module) {
                Some((now, _)) if now == generation => {
                    return Ok(Some((rsync, generation, paths)));
                }
                Some((now, more)) => (generation, paths) = (now, more),
                None => return Ok(None),
            }
        }
        Ok(None)
    }
}
