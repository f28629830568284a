//! Publication of Anchorage's repository as an rsync tree.
//!
//! [`RsyncTree::write`] writes a complete repository state into a fresh
//! directory under `trees/`, fsyncs it, and swaps the `current` symlink to
//! it with one `rename(2)`. `rsync --daemon` serves `current`: a client
//! that connected before the swap keeps reading the old directory (kept
//! for a grace period), one that connects after sees the new one, and
//! nobody ever sees a half-written state.
//!
//! Files keep the mtime the store assigned (it changes exactly when the
//! bytes change), and files unchanged since the previous tree are hard
//! links to it.
//!
//! A tree is never changed while a client may read it, so a new state
//! needs a directory nobody reads. Trees are numbered by generation
//! (`trees/gN-…`), and each write records in `journal/N` the paths that
//! changed from generation N-1 to N. When the caller says what changed
//! since the current tree, a superseded tree that is neither current, nor
//! the one `current` named last (a client may have resolved the link an
//! instant before the swap), nor in use by any process (see
//! [`RsyncTree::write`]'s pruning rule) is brought forward instead of a
//! new tree being linked file by file: the paths of the journals since
//! its generation are rewritten (a new file renamed over the old name, so
//! the hard links other trees share keep their bytes) or removed, and it
//! is swapped in as above. That costs in proportion to the changes; a
//! full write, one directory entry per file, is the fallback where no
//! tree can be reused (the first write, a tree in use, no journal).
//!
//! Superseded trees are not removed under the publication's locks:
//! removing one of a large repository takes seconds (one unlink per
//! file). [`RsyncTree::write`] renames them into `trash/` (one
//! `rename(2)` each, outside what rsyncd serves), and the caller empties
//! it with [`RsyncTree::empty_trash`] once it let go of its locks.
//!
//! Why a client never sees a manifest that does not match its files: an
//! rsync client fetches the whole module in one transfer from the one
//! tree it entered, and no tree is written while it is current, was
//! current within the last swap, or is some process's working or root
//! directory. Every tree a client can enter holds exactly one committed
//! state.
#![forbid(unsafe_code)]

pub mod rsyncd;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Errors while writing the tree.
#[derive(Debug, thiserror::Error)]
pub enum PublicationError {
    /// A file system operation failed.
    #[error("writing the rsync tree at {path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file name that must not appear in a repository.
    #[error("refusing to publish '{0}': not a safe relative path")]
    BadPath(String),
    /// The files of the state could not be read.
    #[error("reading the files to publish: {0}")]
    Source(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> PublicationError + '_ {
    move |source| PublicationError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One file of the repository.
#[derive(Clone, Copy, Debug)]
pub struct TreeFile<'a> {
    /// The publication point directory, or "" for the module root.
    pub dir: &'a str,
    /// The file name.
    pub name: &'a str,
    /// The exact bytes.
    pub bytes: &'a [u8],
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

/// Where a tree write reads the state it writes, one file at a time, so
/// that a repository is never in memory whole and bringing a tree forward
/// reads only the files that changed.
pub trait TreeSource {
    /// How many files the state has.
    fn count(&mut self) -> Result<usize, PublicationError>;
    /// Calls `f` with the file at `path` ([`relative_path`]); returns
    /// whether the state has one.
    fn get(
        &mut self,
        path: &str,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<bool, PublicationError>;
    /// Calls `f` with every file of the state, once each.
    fn each(
        &mut self,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<(), PublicationError>;
    /// Called just before the new tree becomes current: an error keeps
    /// the current one (the writer lost its right to publish meanwhile).
    fn confirm(&mut self) -> Result<(), PublicationError> {
        Ok(())
    }
}

/// A state held in memory: the files, by path.
struct InMemory<'a>(HashMap<String, TreeFile<'a>>);

impl TreeSource for InMemory<'_> {
    fn count(&mut self) -> Result<usize, PublicationError> {
        Ok(self.0.len())
    }

    fn get(
        &mut self,
        path: &str,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<bool, PublicationError> {
        match self.0.get(path) {
            Some(file) => f(*file).map(|()| true),
            None => Ok(false),
        }
    }

    fn each(
        &mut self,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<(), PublicationError> {
        self.0.values().try_for_each(|file| f(*file))
    }
}

fn check_path(f: &TreeFile<'_>) -> Result<(), PublicationError> {
    if !safe_component(f.name) || !(f.dir.is_empty() || f.dir.split('/').all(safe_component)) {
        return Err(PublicationError::BadPath(format!("{}/{}", f.dir, f.name)));
    }
    Ok(())
}

/// How long a superseded tree is kept for clients that may still be
/// reading it, when `/proc` cannot tell whether one is (see
/// [`RsyncTree::write`]'s pruning rule).
pub const GRACE: Duration = Duration::from_secs(300);

/// How many generations' journals are kept beyond those the trees need:
/// at one tree per 100 ms, over a minute and a half of changes, and a few
/// megabytes at most.
pub const KEEP_JOURNALS: u64 = 1024;

/// How often each `serve` instance that serves a shared tree reports the
/// trees its rsync daemon is inside ([`RsyncTree::report_readers`]).
pub const READERS_EVERY: Duration = Duration::from_millis(250);

/// How long a report counts: an instance that stopped reporting for this
/// long (it died) reads nothing any more.
const READERS_FRESH: Duration = Duration::from_secs(30);

/// While other instances serve the tree, a tree superseded less than this
/// ago counts as read: a daemon there may have entered it after its
/// instance's last report (four reports, so a slow one is covered).
const READERS_RECENT: Duration = Duration::from_secs(1);

/// Superseded trees that wait in the trash at most: beyond, the tree
/// write that sets one more aside removes them all itself.
pub const MAX_TRASH: usize = 4;

/// The rsync tree of a data directory: `ROOT/current` and `ROOT/trees/`.
#[derive(Clone, Debug)]
pub struct RsyncTree {
    root: PathBuf,
    abort_after: Option<usize>,
}

/// What [`RsyncTree::holdings`] found on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holdings {
    /// Trees under `trees/`: the current one, the one it replaced, the
    /// spare, those in use, and, where readers cannot be seen, those
    /// within their grace.
    pub trees: usize,
    /// Superseded trees waiting in `trash/` for their removal.
    pub trash: usize,
    /// Whether this process can see which trees are in use (`/proc`, and
    /// the reports of daemons out of its view); if not, superseded trees
    /// stay for [`GRACE`] and every write is a full one.
    pub readers_seen: bool,
}

/// What [`RsyncTree::write`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files in the new tree.
    pub files: usize,
    /// Files written because they are new or changed.
    pub written: usize,
    /// Files hard-linked from the tree just replaced, which holds them
    /// alike.
    pub linked: usize,
    /// Of those written, files of a reused tree rewritten in place (see
    /// [`RsyncTree::write_from`]).
    pub in_place: usize,
    /// Files removed from a reused tree.
    pub removed: usize,
    /// Whether a superseded tree was brought forward instead of a full
    /// write.
    pub reused: bool,
    /// The generation of the tree now current (unchanged when nothing
    /// changed).
    pub generation: u64,
}

/// How the name of a tree [`RsyncTree::forward_spare`] brought up to the
/// current generation ends: of the trees named with the current
/// generation, only such a one holds the current tree's state (one a
/// crash left between a write's rename and its swap holds another).
const FORWARDED: &str = "-forward";

/// Whether the tree at `path` was brought forward by
/// [`RsyncTree::forward_spare`].
fn forwarded(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(FORWARDED))
}

/// A tree directory's generation, from its name `gN-…`.
fn generation_of(name: &str) -> Option<u64> {
    name.strip_prefix('g')?.split_once('-')?.0.parse().ok()
}

/// The path of a file below a tree: `dir/name`, or `name` at the root.
pub fn relative_path(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn safe_component(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RsyncTree {
    /// The tree under `root` (normally `DIR/rsync`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RsyncTree {
            root: root.into(),
            abort_after: None,
        }
    }

    /// Failure injection for crash tests: abort the process (as `kill -9`
    /// would) after writing this many files of the next tree, or, when it
    /// has fewer to write, after the last one, before it becomes current.
    pub fn abort_after(mut self, files: Option<usize>) -> Self {
        self.abort_after = files;
        self
    }

    /// The symlink rsyncd serves: `ROOT/current`.
    pub fn current(&self) -> PathBuf {
        self.root.join("current")
    }

    fn trees(&self) -> PathBuf {
        self.root.join("trees")
    }

    /// The directory `current` points to, if any.
    pub fn current_target(&self) -> Option<PathBuf> {
        let link = fs::read_link(self.current()).ok()?;
        Some(self.root.join(link))
    }

    /// The generation of the current tree, if it has one (trees written
    /// before generations were recorded have none).
    pub fn current_generation(&self) -> Option<u64> {
        let target = self.current_target()?;
        generation_of(&target.file_name()?.to_string_lossy())
    }

    fn journal(&self) -> PathBuf {
        self.root.join("journal")
    }

    /// Where the instances serving this tree report their readers.
    fn readers(&self) -> PathBuf {
        self.root.join("readers")
    }

    /// Reports, as instance `name`, which trees the rsync daemons of this
    /// machine are inside (`ROOT/readers/NAME`; `*` where `/proc` cannot
    /// tell), for the instance that writes the tree, which may run on
    /// another machine sharing the directory and cannot see them.
    /// `serve` on PostgreSQL reports every [`READERS_EVERY`].
    pub fn report_readers(&self, name: &str) -> io::Result<()> {
        let dir = self.readers();
        fs::create_dir_all(&dir)?;
        let text = match trees_in_use(&self.trees()) {
            Some(used) => used
                .iter()
                .map(|t| format!("{}\n", t.to_string_lossy()))
                .collect(),
            None => "*\n".to_string(),
        };
        let tmp = dir.join(format!(".{name}.tmp"));
        fs::write(&tmp, text)?;
        fs::rename(&tmp, dir.join(name))
    }

    /// Withdraws instance `name`'s report (it stops serving).
    pub fn withdraw_readers(&self, name: &str) {
        let _ = fs::remove_file(self.readers().join(name));
    }

    /// The trees in use, as [`trees_in_use`] sees them on this machine
    /// and as the other instances serving the tree reported them; where
    /// any instance reports, trees superseded within [`READERS_RECENT`]
    /// too. `None` where some reader cannot tell.
    fn in_use(&self) -> Option<InUse> {
        let trees = self.trees();
        let mut used = trees_in_use(&trees);
        let now = SystemTime::now();
        let fresh = |e: &fs::DirEntry| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| now.duration_since(m).unwrap_or_default() < READERS_FRESH)
        };
        let reports: Vec<String> = fs::read_dir(self.readers())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.') && fresh(e))
            .filter_map(|e| fs::read_to_string(e.path()).ok())
            .collect();
        if reports.is_empty() {
            return used;
        }
        for report in reports {
            for line in report.lines() {
                match (&mut used, line) {
                    (_, "*") => return None,
                    (Some(set), name) if !name.is_empty() => {
                        set.insert(name.into());
                    }
                    _ => {}
                }
            }
        }
        if let Some(set) = &mut used {
            for e in fs::read_dir(&trees).into_iter().flatten().flatten() {
                let recent = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| now.duration_since(m).unwrap_or_default() < READERS_RECENT);
                if recent {
                    set.insert(e.file_name());
                }
            }
        }
        used
    }

    /// How many trees are on disk and waiting for removal, and whether
    /// this process can see who reads them (for `anchorage status`).
    pub fn holdings(&self) -> Holdings {
        Holdings {
            trees: entries_in(&self.trees()),
            trash: entries_in(&self.trash()),
            readers_seen: self.in_use().is_some(),
        }
    }

    /// Where superseded trees wait to be removed: `ROOT/trash`.
    fn trash(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// Moves the tree `path` into the trash; removes it at once only if
    /// it cannot be moved.
    fn discard(&self, path: &Path) -> io::Result<()> {
        let trash = self.trash();
        fs::create_dir_all(&trash)?;
        match path.file_name() {
            Some(name) if fs::rename(path, trash.join(name)).is_ok() => Ok(()),
            _ => fs::remove_dir_all(path),
        }
    }

    /// Removes the superseded trees [`Self::write`] moved aside; returns
    /// how many. Call it without holding the publication's locks: it
    /// costs one unlink per file (seconds of the kernel's time for a tree
    /// of 200,000 files). `paced`: after each thousand files, pause as
    /// long as they took, so that a long-running process removing in
    /// the background leaves the disk's journal and the cores to
    /// publication at least half the time. Processes emptying it at the
    /// same time each remove what they find; what one leaves (it stopped
    /// midway) the next call removes.
    pub fn empty_trash(&self, paced: bool) -> usize {
        let Ok(entries) = fs::read_dir(self.trash()) else {
            return 0;
        };
        let started = std::time::Instant::now();
        let mut pace = Pace {
            paced,
            batch: started,
            files: 0,
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            match remove_tree(&entry.path(), &mut pace) {
                Ok(()) => removed += 1,
                Err(err) => {
                    tracing::warn!(path = %entry.path().display(), %err, "could not remove an old rsync tree");
                }
            }
        }
        if removed > 0 {
            tracing::debug!(
                removed,
                ms = started.elapsed().as_millis() as u64,
                "old rsync trees removed"
            );
        }
        removed
    }

    /// Brings the tree the current one replaced (the one the next write
    /// would bring forward) up to the current tree's state, by hard links
    /// to the current tree's files, so that the next write rewrites only
    /// what changed since the current tree: after a write of many paths
    /// (a refresh catch-up), the next change then costs its own paths,
    /// not those. The caller holds the tree's locks, as for a write.
    /// Left alone, as a write would leave it: a tree in use, and
    /// everything where `/proc` cannot tell which trees are in use or a
    /// journal is missing; and a tree superseded less than
    /// [`READERS_RECENT`] ago (a client that resolved `current` at the
    /// swap has entered it by then, which `/proc` shows). Renamed to the
    /// current generation when done; a crash midway leaves a partial tree
    /// that the next write removes. Returns how many paths it brought
    /// forward.
    pub fn forward_spare(&self) -> Result<usize, PublicationError> {
        let (Some(current_gen), Some(current)) = (self.current_generation(), self.current_target())
        else {
            return Ok(0);
        };
        let trees = self.trees();
        let mut others: Vec<(u64, PathBuf)> = fs::read_dir(&trees)
            .map_err(io_err(&trees))?
            .flatten()
            .filter_map(|e| Some((generation_of(&e.file_name().to_string_lossy())?, e.path())))
            .filter(|(_, p)| *p != current)
            .collect();
        // One is of the current generation already (brought forward, or
        // left by a failed write): nothing to do.
        if others.iter().any(|(g, _)| *g >= current_gen) {
            return Ok(0);
        }
        others.sort();
        let Some((generation, spare)) = others.pop() else {
            return Ok(0);
        };
        let settled = fs::metadata(&spare)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m.elapsed().unwrap_or_default() >= READERS_RECENT);
        if !settled {
            return Ok(0);
        }
        // The look at `/proc` last: when there is nothing to do (most
        // calls), it is not made.
        let Some(in_use) = self.in_use() else {
            return Ok(0);
        };
        if spare.file_name().is_some_and(|n| in_use.contains(n)) {
            return Ok(0);
        }
        let mut paths = BTreeSet::new();
        if self.journals(generation, current_gen, &mut paths).is_none() {
            return Ok(0);
        }
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("g{current_gen}-{stamp}-{}{FORWARDED}", std::process::id());
        let tmp = trees.join(format!(".tmp-{name}"));
        fs::rename(&spare, &tmp).map_err(io_err(&tmp))?;
        for path in &paths {
            let target = tmp.join(path);
            let from = current.join(path);
            if fs::symlink_metadata(&from).is_ok() {
                if let Some(dir) = target.parent() {
                    fs::create_dir_all(dir).map_err(io_err(dir))?;
                }
                // A new link renamed over the name, as a write places a file.
                let part = target.with_file_name(format!(
                    ".{}.new",
                    target.file_name().unwrap_or_default().to_string_lossy()
                ));
                let _ = fs::remove_file(&part);
                fs::hard_link(&from, &part).map_err(io_err(&part))?;
                fs::rename(&part, &target).map_err(io_err(&target))?;
            } else {
                remove_from_tree(&tmp, &target)?;
            }
        }
        let fin = trees.join(&name);
        fs::rename(&tmp, &fin).map_err(io_err(&fin))?;
        tracing::debug!(
            paths = paths.len(),
            from = generation,
            to = current_gen,
            "spare rsync tree brought forward"
        );
        Ok(paths.len())
    }

    /// Every path that differs between the tree of `generation` and the
    /// current one, and the current generation: the union of the
    /// journals after `generation`. `None` when that cannot be known (a
    /// journal pruned, or a full write in between, which keeps none), so
    /// a reader that fetched `generation` must fetch everything again.
    pub fn changed_since(&self, generation: u64) -> Option<(u64, BTreeSet<String>)> {
        let current = self.current_generation()?;
        if generation > current {
            return None;
        }
        let mut paths = BTreeSet::new();
        self.journals(generation, current, &mut paths)?;
        Some((current, paths))
    }

    /// Adds to `paths` those the journals of the generations after
    /// `after` up to `upto` name; `None` if one is missing.
    fn journals(&self, after: u64, upto: u64, paths: &mut BTreeSet<String>) -> Option<()> {
        for g in after + 1..=upto {
            let text = fs::read_to_string(self.journal().join(g.to_string())).ok()?;
            paths.extend(text.lines().map(str::to_string));
        }
        Some(())
    }

    /// Makes a tree holding exactly `files` current.
    ///
    /// `changed`, when given, is every path (see [`relative_path`]) whose
    /// file differs between the current tree and `files`, or more: new,
    /// changed or gone. With it, nothing is written when it is empty, and
    /// a superseded tree is brought forward when one can be; without it
    /// (the caller cannot vouch for what the current tree holds), a full
    /// write, which no later write can bring forward across.
    pub fn write<'a>(
        &self,
        files: impl IntoIterator<Item = TreeFile<'a>>,
        changed: Option<&BTreeSet<String>>,
    ) -> Result<WriteStats, PublicationError> {
        let mut by_path = HashMap::new();
        for f in files {
            check_path(&f)?;
            by_path.insert(relative_path(f.dir, f.name), f);
        }
        self.write_from(&mut InMemory(by_path), changed)
    }

    /// [`Self::write`] with the state read from `source` as the write
    /// goes: every file for a full write, only the `changed` ones (and
    /// those of the journals since the spare's generation) to bring a
    /// tree forward.
    ///
    /// A tree is brought forward only where `/proc` shows no client
    /// inside it, under a partial tree's name until it is synced: its
    /// files that no other tree shares are rewritten in place, the
    /// others replaced by a new file renamed over the name.
    pub fn write_from(
        &self,
        source: &mut dyn TreeSource,
        changed: Option<&BTreeSet<String>>,
    ) -> Result<WriteStats, PublicationError> {
        let trees = self.trees();
        fs::create_dir_all(&trees).map_err(io_err(&trees))?;
        let previous = self.current_target();
        let current_gen = self.current_generation();
        if let (Some(generation), Some(changed)) = (current_gen, changed)
            && changed.is_empty()
        {
            return Ok(WriteStats {
                files: source.count()?,
                generation,
                ..WriteStats::default()
            });
        }
        let generation = current_gen.map_or(1, |g| g + 1);
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("g{generation}-{stamp}-{}", std::process::id());
        let tmp = trees.join(format!(".tmp-{name}"));
        let fin = trees.join(&name);

        // The journal of this generation first: it is durable (the
        // syncfs below) before the tree it describes can become current.
        let journal = self.journal();
        fs::create_dir_all(&journal).map_err(io_err(&journal))?;
        let entry = journal.join(generation.to_string());
        match (current_gen, changed) {
            (Some(_), Some(changed)) => {
                let mut text = String::new();
                for p in changed {
                    text.push_str(p);
                    text.push('\n');
                }
                fs::write(&entry, text).map_err(io_err(&entry))?;
            }
            // A full write: no journal, so no older tree is brought
            // forward across this generation.
            _ => match fs::remove_file(&entry) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&entry)(e)),
                _ => {}
            },
        }

        // One look at /proc serves the choice of a spare and the pruning
        // after the swap: a tree free now stays free (only `current` can
        // be entered, and the tree it replaces is kept anyway).
        let t0 = std::time::Instant::now();
        let in_use = self.in_use();
        let looked = t0.elapsed();
        let reusable = match (current_gen, changed) {
            (Some(_), Some(changed)) => {
                self.reusable(previous.as_deref(), generation, changed, in_use.as_ref())
            }
            _ => None,
        };
        let mut stats = match reusable {
            Some((tree, paths)) => {
                fs::rename(&tree, &tmp).map_err(io_err(&tmp))?;
                self.bring_forward(&tmp, source, &paths, previous.as_deref())?
            }
            None => {
                fs::create_dir(&tmp).map_err(io_err(&tmp))?;
                self.write_full(&tmp, source, previous.as_deref())?
            }
        };
        stats.generation = generation;
        let filled = t0.elapsed();
        if self.abort_after.is_some() {
            std::process::abort();
        }
        // Every file and directory of the new tree is durable before it
        // can become current: one syncfs(2) of the file system instead of
        // an fsync per file and directory (measured: a third of the time
        // of a small tree write went to those fsyncs).
        sync_fs(&tmp)?;
        let synced = t0.elapsed();
        // The partial tree stays for the next write to remove.
        source.confirm()?;
        fs::rename(&tmp, &fin).map_err(io_err(&fin))?;
        sync_dir(&trees)?;

        // A superseded tree's mtime says when it stopped being current:
        // where `/proc` cannot tell who reads it, that starts its grace.
        // Stamped before the swap, so a crash in between cannot leave it
        // looking long superseded.
        if let Some(previous) = &previous
            && let Err(err) =
                fs::File::open(previous).and_then(|d| d.set_modified(SystemTime::now()))
        {
            tracing::warn!(path = %previous.display(), %err, "could not stamp the superseded tree");
        }
        // Swap `current` atomically: a new symlink renamed over the old one,
        // unless another writer swapped it meanwhile (a writer that was
        // paused while the next took over), or the source withdrew its
        // consent since.
        let link_tmp = self.root.join(format!(".current-{name}"));
        std::os::unix::fs::symlink(Path::new("trees").join(&name), &link_tmp)
            .map_err(io_err(&link_tmp))?;
        let refused = if self.current_target() != previous {
            Some(PublicationError::Source(
                "another writer replaced the current tree meanwhile".into(),
            ))
        } else {
            source.confirm().err()
        };
        if let Some(err) = refused {
            // Named as a partial tree again, so that no write takes it
            // for a generation's.
            let _ = fs::remove_file(&link_tmp);
            let _ = fs::rename(&fin, &tmp);
            return Err(err);
        }
        let current = self.current();
        fs::rename(&link_tmp, &current).map_err(io_err(&current))?;
        sync_dir(&self.root)?;
        let swapped = t0.elapsed();

        // Pruning removes what no reader needs: only while the source
        // still vouches that this writer is the one.
        if source.confirm().is_ok() {
            self.prune(&fin, previous.as_deref(), in_use.as_ref());
        }
        let pruned = t0.elapsed();
        tracing::debug!(
            files = stats.files,
            written = stats.written,
            in_place = stats.in_place,
            linked = stats.linked,
            removed = stats.removed,
            reused = stats.reused,
            generation,
            readers_us = looked.as_micros() as u64,
            fill_us = (filled - looked).as_micros() as u64,
            sync_us = (synced - filled).as_micros() as u64,
            swap_us = (swapped - synced).as_micros() as u64,
            prune_us = (pruned - swapped).as_micros() as u64,
            "rsync tree written"
        );
        Ok(stats)
    }

    /// A superseded tree to bring forward to `generation`, and the paths
    /// to rewrite in it: the newest tree with a generation that is not
    /// current, not `previous`, and not in use, whose every later
    /// generation has a journal; `None` where `/proc` cannot tell which
    /// trees are in use (a transfer may last longer than any grace, and a
    /// tree rewritten under it would mix two states). Only generations
    /// below the current one count, and a tree brought forward to it
    /// ([`Self::forward_spare`]): another tree of the current generation,
    /// or of a later one, is left by a write that failed before its swap,
    /// and holds a state never shown.
    fn reusable(
        &self,
        previous: Option<&Path>,
        generation: u64,
        changed: &BTreeSet<String>,
        in_use: Option<&InUse>,
    ) -> Option<(PathBuf, BTreeSet<String>)> {
        let trees = self.trees();
        let in_use = in_use?;
        let current = self.current_target();
        let mut candidates: Vec<(u64, PathBuf)> = fs::read_dir(&trees)
            .ok()?
            .flatten()
            .filter(|e| !in_use.contains(&e.file_name()))
            .filter_map(|e| Some((generation_of(&e.file_name().to_string_lossy())?, e.path())))
            .filter(|(g, p)| {
                (*g + 1 < generation || *g + 1 == generation && forwarded(p))
                    && Some(p) != current.as_ref()
                    && Some(p.as_path()) != previous
            })
            .collect();
        candidates.sort();
        let (old, tree) = candidates.pop()?;
        let mut paths = changed.clone();
        self.journals(old, generation - 1, &mut paths)?;
        Some((tree, paths))
    }

    /// Rewrites or removes `paths` in the superseded tree `tmp` so that it
    /// holds exactly the state of `source`.
    fn bring_forward(
        &self,
        tmp: &Path,
        source: &mut dyn TreeSource,
        paths: &BTreeSet<String>,
        previous: Option<&Path>,
    ) -> Result<WriteStats, PublicationError> {
        let mut stats = WriteStats {
            files: source.count()?,
            reused: true,
            ..WriteStats::default()
        };
        // Directories known to be there: a point's files come one after
        // another, and a look per file was two system calls of the five
        // (a link) to eight (a write) a file takes. A removal takes only
        // directories it leaves empty, never one that holds a file placed
        // here.
        let mut made: HashSet<String> = HashSet::new();
        for path in paths {
            let target = tmp.join(path);
            let found = source.get(path, &mut |f| {
                check_path(&f)?;
                if relative_path(f.dir, f.name) != *path {
                    return Err(PublicationError::BadPath(path.clone()));
                }
                {
                    if !f.dir.is_empty() && !made.contains(f.dir) {
                        let d = tmp.join(f.dir);
                        fs::create_dir_all(&d).map_err(io_err(&d))?;
                        made.insert(f.dir.to_string());
                    }
                    // The tree just replaced's file where it holds the
                    // same, so trees keep sharing what they hold alike;
                    // else the bytes, over the file of this tree where no
                    // other tree shares it. Otherwise another inode is
                    // renamed over the name, so that trees sharing the old
                    // one by a hard link keep its bytes. A leading dot: no
                    // published name has one.
                    let part = tmp.join(relative_path(f.dir, &format!(".{}.new", f.name)));
                    if link_same(&part, Path::new(path), &f, previous) {
                        stats.linked += 1;
                        fs::rename(&part, &target).map_err(io_err(&target))?;
                    } else if overwrite_unshared(&target, &f)? {
                        stats.written += 1;
                        stats.in_place += 1;
                    } else {
                        write_file(&part, &f)?;
                        stats.written += 1;
                        fs::rename(&part, &target).map_err(io_err(&target))?;
                    }
                    if self
                        .abort_after
                        .is_some_and(|n| stats.written + stats.linked > n)
                    {
                        std::process::abort();
                    }
                }
                Ok(())
            })?;
            match found {
                true => {}
                false => stats.removed += usize::from(remove_from_tree(tmp, &target)?),
            }
        }
        Ok(stats)
    }

    /// Writes every file of `source` into the empty directory `tmp`, hard
    /// links where `previous` has the same file.
    fn write_full(
        &self,
        tmp: &Path,
        source: &mut dyn TreeSource,
        previous: Option<&Path>,
    ) -> Result<WriteStats, PublicationError> {
        let mut stats = WriteStats::default();
        let mut dirs: HashSet<String> = HashSet::new();
        source.each(&mut |f| {
            check_path(&f)?;
            let rel = if f.dir.is_empty() {
                PathBuf::from(f.name)
            } else {
                if !dirs.contains(f.dir) {
                    // Publishers (RFC 8181) nest directories below their base.
                    let mut at = String::new();
                    for part in f.dir.split('/') {
                        if !at.is_empty() {
                            at.push('/');
                        }
                        at.push_str(part);
                        if dirs.insert(at.clone()) {
                            let d = tmp.join(&at);
                            fs::create_dir(&d).map_err(io_err(&d))?;
                        }
                    }
                }
                Path::new(f.dir).join(f.name)
            };
            stats.files += 1;
            if place(&tmp.join(&rel), &rel, &f, previous)? {
                stats.linked += 1;
                return Ok(());
            }
            stats.written += 1;
            if self.abort_after.is_some_and(|n| stats.files > n) {
                std::process::abort();
            }
            Ok(())
        })?;
        Ok(stats)
    }

    /// Moves partial trees, and superseded ones no client can still be
    /// reading, into the trash (see [`Self::empty_trash`]).
    ///
    /// An rsync daemon serving a client enters (chdir, or chroot) the tree
    /// `current` pointed to when the client connected and stays there for
    /// the whole transfer. So a superseded tree is kept while some process
    /// has its working or root directory inside it (as `/proc` shows), and
    /// the tree just replaced is always kept, for a client that resolved
    /// `current` an instant before the swap and has not entered it yet.
    /// One more, the newest other tree with a generation, is kept to be
    /// brought forward by the next write. Every other tree goes to the trash at once.
    /// Where `/proc` cannot tell (see [`trees_in_use`]: an rsync process
    /// that cannot be inspected, `hidepid`, or no `/proc`), trees younger
    /// than [`GRACE`] are kept instead. Journals older than every tree left go too.
    /// `in_use` is what [`trees_in_use`] saw.
    fn prune(&self, keep: &Path, previous: Option<&Path>, in_use: Option<&InUse>) {
        let trees = self.trees();
        let Ok(entries) = fs::read_dir(&trees) else {
            return;
        };
        let entries: Vec<fs::DirEntry> = entries.flatten().collect();
        // Read once per write, not once per tree: with hundreds of trees
        // kept for their grace, a check per tree of every journal after
        // it cost each write a stat per pair of generations.
        let current = self.current_generation();
        let journals = self.journal_files();
        let forwardable = current.map(|c| forwardable_since(&journals, c));
        let spare = entries
            .iter()
            .filter(|e| e.path() != keep && Some(e.path().as_path()) != previous)
            .filter_map(|e| Some((generation_of(&e.file_name().to_string_lossy())?, e.path())))
            .filter(|(g, _)| forwardable.is_some_and(|f| *g >= f))
            .filter(|(g, _)| current.is_some_and(|c| *g < c))
            .max()
            .map(|(_, p)| p);
        let now = SystemTime::now();
        for entry in entries {
            let path = entry.path();
            if path == keep || Some(path.as_path()) == previous || Some(&path) == spare.as_ref() {
                continue;
            }
            let partial = entry.file_name().to_string_lossy().starts_with(".tmp-");
            let unused = match &in_use {
                Some(used) => !used.contains(&entry.file_name()),
                None => superseded_before(&entry, now),
            };
            if (partial || unused)
                && let Err(err) = self.discard(&path)
            {
                tracing::warn!(path = %path.display(), %err, "could not remove old rsync tree");
            }
        }
        // Writes that set trees aside faster than the remover removes
        // them (every write a full one, where `/proc` cannot tell what is
        // in use) wait for the removal, as they did before the trash.
        let waiting = entries_in(&self.trash());
        if waiting > MAX_TRASH {
            self.empty_trash(false);
        }
        self.prune_journal(&journals);
    }

    /// The journal files on disk, each with its generation (none if the
    /// directory cannot be read).
    fn journal_files(&self) -> Vec<(u64, PathBuf)> {
        fs::read_dir(self.journal())
            .map(|d| {
                d.flatten()
                    .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes the journals no tree left and no reader can need: those of
    /// generations up to the oldest tree's that are also older than the
    /// last [`KEEP_JOURNALS`] (a reader of the served tree, such as
    /// `serve`'s validator, fetches only what they name since the tree it
    /// fetched last). `journals` are [`Self::journal_files`].
    fn prune_journal(&self, journals: &[(u64, PathBuf)]) {
        let Ok(trees) = fs::read_dir(self.trees()) else {
            return;
        };
        let Some(oldest) = trees
            .flatten()
            .filter_map(|e| generation_of(&e.file_name().to_string_lossy()))
            .min()
        else {
            return;
        };
        let oldest = oldest.min(
            self.current_generation()
                .unwrap_or(0)
                .saturating_sub(KEEP_JOURNALS),
        );
        for (_, path) in journals.iter().filter(|(g, _)| *g <= oldest) {
            let _ = fs::remove_file(path);
        }
    }
}

/// The oldest generation a tree can be brought forward from to
/// `current`: every generation after it up to `current` has one of
/// `journals` ([`RsyncTree::journal_files`]).
fn forwardable_since(journals: &[(u64, PathBuf)], current: u64) -> u64 {
    let have: HashSet<u64> = journals.iter().map(|(g, _)| *g).collect();
    let mut oldest = current;
    while oldest > 0 && have.contains(&oldest) {
        oldest -= 1;
    }
    oldest
}

/// How many entries the directory `dir` has (none if it cannot be read).
fn entries_in(dir: &Path) -> usize {
    fs::read_dir(dir).map_or(0, |d| d.count())
}

/// How [`RsyncTree::empty_trash`] paces its unlinks.
struct Pace {
    paced: bool,
    /// When the current thousand files started.
    batch: std::time::Instant,
    files: usize,
}

impl Pace {
    /// Counts one file removed; pauses after each thousand when paced.
    fn tick(&mut self) {
        self.files += 1;
        if self.paced && self.files.is_multiple_of(1000) {
            std::thread::sleep(self.batch.elapsed());
            self.batch = std::time::Instant::now();
        }
    }
}

/// Removes the directory tree `path`, tolerating entries that another
/// process removes at the same time.
fn remove_tree(path: &Path, pace: &mut Pace) -> io::Result<()> {
    let gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    };
    let entries = match fs::read_dir(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    for entry in entries {
        let entry = match entry {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            other => other?,
        };
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path(), pace)?;
        } else {
            gone(fs::remove_file(entry.path()))?;
            pace.tick();
        }
    }
    gone(fs::remove_dir(path))
}

/// Lowers the calling thread's CPU priority to the lowest (nice 19): for
/// a thread that removes old trees in the background, whose unlinks the
/// kernel does on its time.
pub fn lowest_thread_priority() -> io::Result<()> {
    lower_thread_priority(19)
}

/// Sets the calling thread's nice value to `nice` (only the thread's:
/// Linux keeps one per thread). An unprivileged process cannot raise it
/// again, so the thread keeps it for the rest of its life: call it on a
/// thread of its own.
pub fn lower_thread_priority(nice: i32) -> io::Result<()> {
    rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice)
        .map_err(io::Error::from)
}

/// The names of the trees some process is inside.
type InUse = HashSet<std::ffi::OsString>;

/// The names of the trees under `trees` that a process has as its
/// working or root directory; `None` if that cannot be known: no `/proc`,
/// `/proc` mounted with `hidepid` and no rsync process visible (the
/// daemon may be one it hides), or an rsync process whose directories
/// cannot be read (another user's, without the privilege to look).
///
/// No rsync process in a `/proc` that shows every process means that no
/// rsync daemon on this machine serves a client now: none is inside a
/// tree. A daemon out of this view (another PID namespace, such as
/// another container, or another machine sharing the directory) must
/// report the trees it is inside ([`RsyncTree::report_readers`]: `serve`
/// does, and `anchorage rsync-readers` beside another daemon).
fn trees_in_use(trees: &Path) -> Option<InUse> {
    let trees = fs::canonicalize(trees).ok()?;
    let mut used = HashSet::new();
    let mut rsync_seen = false;
    for proc_entry in fs::read_dir("/proc").ok()?.flatten() {
        let pid = proc_entry.path();
        if !proc_entry
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let is_rsync = || fs::read_to_string(pid.join("comm")).is_ok_and(|c| c.trim() == "rsync");
        if is_rsync() {
            rsync_seen = true;
        }
        for link in ["cwd", "root"] {
            match fs::read_link(pid.join(link)) {
                Ok(dir) => {
                    if let Ok(rest) = dir.strip_prefix(&trees)
                        && let Some(std::path::Component::Normal(tree)) = rest.components().next()
                    {
                        used.insert(tree.to_os_string());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied && is_rsync() => {
                    return None;
                }
                Err(_) => {} // gone meanwhile, a kernel thread, or not rsync
            }
        }
    }
    (rsync_seen || !hides_processes(&fs::read_to_string("/proc/self/mountinfo").ok()?))
        .then_some(used)
}

/// Whether the `/proc` of `mountinfo` (the text of `/proc/self/mountinfo`)
/// is mounted with a `hidepid` other than 0 (`off`): it then hides other
/// users' processes, or what they hold, from this one.
fn hides_processes(mountinfo: &str) -> bool {
    mountinfo.lines().any(|line| {
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS] - TYPE SOURCE SUPER"
        let Some((mount, fs)) = line.split_once(" - ") else {
            return false;
        };
        let mut fs = fs.split(' ');
        let (Some("proc"), Some(_), Some(options)) = (fs.next(), fs.next(), fs.next()) else {
            return false;
        };
        mount.split(' ').nth(4) == Some("/proc")
            && options.split(',').any(|o| {
                o.strip_prefix("hidepid=")
                    .is_some_and(|v| v != "0" && v != "off")
            })
    })
}

/// Whether the tree `entry` stopped being current more than [`GRACE`]
/// before `now` (its mtime, stamped when it was replaced; a tree whose
/// mtime cannot be read counts as long superseded).
fn superseded_before(entry: &fs::DirEntry, now: SystemTime) -> bool {
    entry
        .metadata()
        .and_then(|m| m.modified())
        .map(|m| now.duration_since(m).unwrap_or_default() > GRACE)
        .unwrap_or(true)
}

/// Creates `target` holding file `f`, which is `rel` in a tree: a hard
/// link to `previous`'s `rel` where that has the same size and mtime (the
/// store changes the mtime exactly when the bytes change), else written.
/// Returns whether it was linked.
fn place(
    target: &Path,
    rel: &Path,
    f: &TreeFile<'_>,
    previous: Option<&Path>,
) -> Result<bool, PublicationError> {
    if link_same(target, rel, f, previous) {
        return Ok(true);
    }
    write_file(target, f)?;
    Ok(false)
}

/// Creates `target` as a hard link to `previous`'s `rel` where that has
/// the same size and mtime as file `f`; whether it did.
fn link_same(target: &Path, rel: &Path, f: &TreeFile<'_>, previous: Option<&Path>) -> bool {
    let Some(prev) = previous else {
        return false;
    };
    let old = prev.join(rel);
    fs::metadata(&old).is_ok_and(|meta| {
        meta.len() == f.bytes.len() as u64
            && meta.modified().ok() == Some(mtime_of(f))
            && fs::hard_link(&old, target).is_ok()
    })
}

/// Rewrites `path` in place with file `f` where it is a regular file of
/// one link: no other tree (nor the trash) shares its inode, so only the
/// tree being brought forward holds it, and no client is inside that
/// tree (see [`RsyncTree::write_from`]). Whether it did; `false` leaves
/// the file as it was.
///
/// A rename over the name costs a new inode and frees the old one's
/// blocks (on a file system mounted with `discard`, a trim): measured on
/// ext4, 0.3 ms a file against 0.012 ms for overwriting the blocks a
/// file has. A crash midway leaves a torn file only in a tree still
/// named as partial, which no write reuses or shows.
fn overwrite_unshared(path: &Path, f: &TreeFile<'_>) -> Result<bool, PublicationError> {
    use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
    let Ok(file) = fs::OpenOptions::new()
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
    else {
        return Ok(false);
    };
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() || meta.nlink() != 1 {
        return Ok(false);
    }
    file.write_all_at(f.bytes, 0).map_err(io_err(path))?;
    file.set_len(f.bytes.len() as u64).map_err(io_err(path))?;
    file.set_modified(mtime_of(f)).map_err(io_err(path))?;
    Ok(true)
}

/// The mtime a tree gives file `f`.
fn mtime_of(f: &TreeFile<'_>) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(f.mtime.max(0) as u64)
}

/// Removes the file `target` (if there) from the tree `tree`, and the
/// directories it leaves empty: a point that lost its last file goes
/// with it, as it would be absent from a full write. Whether it was there.
fn remove_from_tree(tree: &Path, target: &Path) -> Result<bool, PublicationError> {
    let removed = match fs::remove_file(target) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err(target)(e)),
    };
    let mut dir = target.parent();
    while let Some(d) = dir.filter(|d| *d != tree) {
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(removed)
}

/// Creates `path` with a file's bytes and mtime.
fn write_file(path: &Path, f: &TreeFile<'_>) -> Result<(), PublicationError> {
    let mut file = fs::File::create(path).map_err(io_err(path))?;
    file.write_all(f.bytes).map_err(io_err(path))?;
    file.set_modified(mtime_of(f)).map_err(io_err(path))?;
    Ok(())
}

fn sync_fs(dir: &Path) -> Result<(), PublicationError> {
    sync_file_system(dir).map_err(io_err(dir))
}

/// Writes to disk everything of the file system holding `dir` that is
/// still only in memory (syncfs(2)). A tree write does this before its
/// swap and waits for whatever else is pending on that file system, so a
/// process that has just written much there (the validator's whole copy
/// of the module) does it first, in its own time.
pub fn sync_file_system(dir: &Path) -> io::Result<()> {
    fs::File::open(dir).and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from))
}

fn sync_dir(dir: &Path) -> Result<(), PublicationError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn file<'a>(dir: &'a str, name: &'a str, bytes: &'a [u8], mtime: i64) -> TreeFile<'a> {
        TreeFile {
            dir,
            name,
            bytes,
            mtime,
        }
    }

    /// Only `/proc` itself mounted with a `hidepid` that hides anything
    /// makes an empty scan unknown rather than empty.
    #[test]
    fn hidepid_is_read_from_the_proc_mount_only() {
        let root = "22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda rw";
        let proc =
            |opts: &str| format!("23 22 0:21 / /proc rw,nosuid shared:12 - proc proc {opts}");
        let text = |opts: &str| format!("{root}\n{}\n", proc(opts));
        assert!(!hides_processes(&text("rw")));
        assert!(!hides_processes(&text("rw,hidepid=0")));
        assert!(!hides_processes(&text("rw,hidepid=off")));
        assert!(hides_processes(&text("rw,hidepid=2")));
        assert!(hides_processes(&text("rw,hidepid=invisible,gid=4")));
        assert!(hides_processes(&text("rw,hidepid=noaccess")));
        // Another proc mount (a container's, elsewhere) is not this one.
        let other = "30 22 0:40 / /srv/c/proc rw - proc proc rw,hidepid=2";
        assert!(!hides_processes(&format!("{}\n{other}\n", text("rw"))));
        // Optional tags before the separator.
        let tagged = "23 22 0:21 / /proc rw shared:12 master:3 - proc proc rw,hidepid=1";
        assert!(hides_processes(tagged));
        assert!(!hides_processes(""));
    }

    #[test]
    fn a_tree_is_forwardable_only_across_an_unbroken_run_of_journals() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        fs::create_dir_all(tree.journal()).unwrap();
        for g in [2, 3, 5, 6, 7] {
            fs::write(tree.journal().join(g.to_string()), "").unwrap();
        }
        fs::write(tree.journal().join(".tmp-8"), "").unwrap();
        // 5..=7 have journals, 4 has none: a tree of 4 or later can be
        // brought forward to 7, one of 3 cannot.
        let journals = tree.journal_files();
        assert_eq!(journals.len(), 5, "{journals:?}");
        assert_eq!(forwardable_since(&journals, 7), 4);
        assert_eq!(forwardable_since(&journals, 3), 1);
        // No journal of the current generation: only the current tree.
        assert_eq!(forwardable_since(&journals, 8), 8);
        let none = RsyncTree::new(tmp.path().join("none")).journal_files();
        assert_eq!(forwardable_since(&none, 4), 4);
    }

    #[test]
    fn swaps_and_keeps_unchanged_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        let s1 = tree
            .write(
                [
                    file("", "ta.cer", b"ta", 1_000_000),
                    file("ca", "a.roa", b"one", 1_000_000),
                    file("ca", "b.roa", b"two", 1_000_000),
                ],
                None,
            )
            .unwrap();
        assert_eq!(s1.written, 3);
        let first = tree.current_target().unwrap();
        let s2 = tree
            .write(
                [
                    file("", "ta.cer", b"ta", 1_000_000),
                    file("ca", "a.roa", b"ONE", 1_000_100),
                ],
                None,
            )
            .unwrap();
        assert_eq!((s2.files, s2.written, s2.linked), (2, 1, 1));
        let cur = tree.current();
        assert_eq!(fs::read(cur.join("ca/a.roa")).unwrap(), b"ONE");
        assert!(!cur.join("ca/b.roa").exists(), "withdrawn file is gone");
        let m = |p: &Path| {
            fs::metadata(p)
                .unwrap()
                .modified()
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(m(&cur.join("ta.cer")), 1_000_000);
        assert_eq!(m(&cur.join("ca/a.roa")), 1_000_100);
        // the superseded tree is intact for clients still reading it
        assert_eq!(fs::read(first.join("ca/a.roa")).unwrap(), b"one");
    }

    #[test]
    fn superseded_trees_go_unless_the_last_one_or_in_use() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        tree.write([file("", "a.roa", b"1", 1)], None).unwrap();
        let first = tree.current_target().unwrap();
        // A process named rsync inside the first tree, as an rsync daemon
        // serving a client is (`sleep` under that name: the scan trusts
        // what it sees only once it sees an rsync process).
        let bin = tempfile::tempdir().unwrap();
        let fake = bin.path().join("rsync");
        fs::copy("/bin/sleep", &fake).unwrap();
        let mut reader = std::process::Command::new(&fake)
            .arg("30")
            .current_dir(&first)
            .spawn()
            .unwrap();
        // And one elsewhere for the whole test, as the daemon's listener.
        let mut listener = std::process::Command::new(&fake)
            .arg("30")
            .current_dir(bin.path())
            .spawn()
            .unwrap();
        tree.write([file("", "a.roa", b"2", 2)], None).unwrap();
        let second = tree.current_target().unwrap();
        tree.write([file("", "a.roa", b"3", 3)], None).unwrap();
        let third = tree.current_target().unwrap();
        tree.write([file("", "a.roa", b"4", 4)], None).unwrap();
        // The second: neither in use nor the last replaced, so gone at once,
        // into the trash until the caller empties it.
        assert!(!second.exists());
        let trash = tmp.path().join("trash");
        assert_eq!(fs::read_dir(&trash).unwrap().count(), 1);
        assert_eq!(tree.empty_trash(true), 1);
        assert_eq!(fs::read_dir(&trash).unwrap().count(), 0);
        assert!(third.exists(), "the tree just replaced stays");
        assert!(first.exists(), "a tree in use stays");
        reader.kill().unwrap();
        reader.wait().unwrap();
        tree.write([file("", "a.roa", b"5", 5)], None).unwrap();
        assert!(!first.exists(), "and goes once nobody is inside");
        assert!(!third.exists());
        assert_eq!(tree.empty_trash(false), 2);
        assert_eq!(fs::read_dir(tmp.path().join("trees")).unwrap().count(), 2);
        listener.kill().unwrap();
        listener.wait().unwrap();
    }

    /// Another `serve` instance serving the tree from another machine
    /// reports the trees its daemon is inside: those stay, and while it
    /// reports, so do the trees superseded in the last seconds (its
    /// daemon may have entered one since its last report).
    #[test]
    fn trees_other_instances_report_are_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        let bin = tempfile::tempdir().unwrap();
        let fake = bin.path().join("rsync");
        fs::copy("/bin/sleep", &fake).unwrap();
        // This machine's daemon, inside no tree.
        let mut listener = std::process::Command::new(&fake)
            .arg("30")
            .current_dir(bin.path())
            .spawn()
            .unwrap();
        let backdate = || {
            let long_ago = SystemTime::now() - Duration::from_secs(60);
            for e in fs::read_dir(tmp.path().join("trees")).unwrap().flatten() {
                fs::File::open(e.path())
                    .unwrap()
                    .set_modified(long_ago)
                    .unwrap();
            }
        };
        tree.write([file("", "a.roa", b"1", 1)], None).unwrap();
        let first = tree.current_target().unwrap();
        let readers = tmp.path().join("readers");
        fs::create_dir_all(&readers).unwrap();
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        fs::write(readers.join("b"), format!("{name}\n")).unwrap();
        // Superseded within the last seconds: kept while someone reports.
        for n in 2..5u8 {
            tree.write([file("", "a.roa", &[b'0' + n], i64::from(n))], None)
                .unwrap();
        }
        assert_eq!(fs::read_dir(tmp.path().join("trees")).unwrap().count(), 4);
        // Long superseded: only the reported one stays (with the current
        // and the one it replaced).
        backdate();
        tree.write([file("", "a.roa", b"5", 5)], None).unwrap();
        assert!(first.exists(), "a tree another instance reports stays");
        assert_eq!(fs::read_dir(tmp.path().join("trees")).unwrap().count(), 3);
        // An instance that cannot tell: nothing is brought forward.
        fs::write(readers.join("c"), "*\n").unwrap();
        backdate();
        let stats = tree
            .write(
                [file("", "a.roa", b"6", 6)],
                Some(&BTreeSet::from(["a.roa".to_string()])),
            )
            .unwrap();
        assert!(!stats.reused, "{stats:?}");
        // Reports withdrawn: the tree goes.
        tree.withdraw_readers("b");
        tree.withdraw_readers("c");
        backdate();
        tree.write([file("", "a.roa", b"7", 7)], None).unwrap();
        assert!(!first.exists());
        listener.kill().unwrap();
        listener.wait().unwrap();
    }

    #[test]
    fn a_full_trash_is_emptied_by_the_write_that_adds_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        tree.write([file("", "a.roa", b"1", 1)], None).unwrap();
        let trash = tmp.path().join("trash");
        for i in 0..=MAX_TRASH {
            fs::create_dir_all(trash.join(format!("g{i}-old/ca"))).unwrap();
            fs::write(trash.join(format!("g{i}-old/ca/a.roa")), b"x").unwrap();
        }
        tree.write([file("", "a.roa", b"2", 2)], None).unwrap();
        assert_eq!(fs::read_dir(&trash).unwrap().count(), 0);
        // Within the bound, the trash waits for its remover.
        fs::create_dir_all(trash.join("g9-old")).unwrap();
        tree.write([file("", "a.roa", b"3", 3)], None).unwrap();
        assert!(trash.join("g9-old").exists());
    }

    /// Every file below `dir`: relative path to bytes and mtime.
    fn contents(dir: &Path) -> BTreeMap<String, (Vec<u8>, u64)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let mut empty = true;
            for e in fs::read_dir(&d).unwrap() {
                empty = false;
                let path = e.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let meta = fs::metadata(&path).unwrap();
                let mtime = meta
                    .modified()
                    .unwrap()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, (fs::read(&path).unwrap(), mtime));
            }
            assert!(!empty || d == dir, "empty directory {}", d.display());
        }
        out
    }

    /// A process named rsync with its working directory in `dir`, as an
    /// rsync daemon (or one serving a client there) is.
    fn rsync_in(dir: &Path, bin: &Path) -> std::process::Child {
        let fake = bin.join("rsync");
        if !fake.exists() {
            fs::copy("/bin/sleep", &fake).unwrap();
        }
        std::process::Command::new(&fake)
            .arg("60")
            .current_dir(dir)
            .spawn()
            .unwrap()
    }

    /// A tree in a directory of its own, with a process named rsync in
    /// view (so that `/proc` can tell that no client is inside a tree);
    /// the process ends with it.
    struct Watched {
        tmp: tempfile::TempDir,
        _bin: tempfile::TempDir,
        daemon: std::process::Child,
        tree: RsyncTree,
    }

    impl Watched {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let bin = tempfile::tempdir().unwrap();
            let daemon = rsync_in(bin.path(), bin.path());
            let tree = RsyncTree::new(tmp.path());
            Watched {
                tmp,
                _bin: bin,
                daemon,
                tree,
            }
        }

        /// Makes `state` current, `changed` vouched for as in
        /// [`RsyncTree::write`].
        fn write(&self, state: &State, changed: Option<BTreeSet<String>>) -> WriteStats {
            let split = split_paths(state);
            self.tree
                .write(tree_files(&split, state), changed.as_ref())
                .unwrap()
        }
    }

    impl Drop for Watched {
        fn drop(&mut self) {
            let _ = self.daemon.kill();
            let _ = self.daemon.wait();
        }
    }

    /// Path to bytes and mtime: a repository state as the tests keep it.
    type State = BTreeMap<String, (Vec<u8>, u64)>;

    /// The directory and name of every path of `state`.
    fn split_paths(state: &State) -> Vec<(String, String)> {
        state
            .keys()
            .map(|p| match p.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), p.clone()),
            })
            .collect()
    }

    /// The files of `state`, named by `split`.
    fn tree_files<'a>(
        split: &'a [(String, String)],
        state: &'a State,
    ) -> impl Iterator<Item = TreeFile<'a>> {
        split.iter().map(|(d, n)| {
            let (bytes, mtime) = &state[&relative_path(d, n)];
            file(d, n, bytes, *mtime as i64)
        })
    }

    #[test]
    fn superseded_trees_are_brought_forward_to_exactly_the_new_state() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let mut daemon = rsync_in(bin.path(), bin.path());
        let tree = RsyncTree::new(tmp.path());
        // path -> (bytes, mtime); a deterministic stream of changes over
        // a few points, files added, changed and removed, points emptied.
        let mut state = State::new();
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let mut reused = 0;
        let mut brought = 0;
        let mut previous_state = None;
        // Each generation's state, and the generations written in full.
        let mut at: HashMap<u64, State> = HashMap::new();
        let mut full_writes = Vec::new();
        for round in 0..40u64 {
            let mut changed = BTreeSet::new();
            for _ in 0..1 + next() % 6 {
                let point = ["", "a", "b", "c/d"][(next() % 4) as usize];
                let path = relative_path(point, &format!("f{}.roa", next() % 5));
                if next() % 3 == 0 {
                    state.remove(&path);
                } else {
                    state.insert(
                        path.clone(),
                        (format!("{round}:{path}").into_bytes(), 1000 + round),
                    );
                }
                changed.insert(path);
            }
            let split = split_paths(&state);
            let files = tree_files(&split, &state);
            let before = tree.current_target();
            if round == 20 {
                // A write that failed after naming its tree, before the
                // swap: a tree of the next generation holding a state
                // never committed, which must never be brought forward.
                let next_gen = tree.current_generation().unwrap() + 1;
                let failed = tmp.path().join(format!("trees/g{next_gen}-0-0"));
                let status = std::process::Command::new("cp")
                    .arg("-a")
                    .arg(tree.current_target().unwrap())
                    .arg(&failed)
                    .status()
                    .unwrap();
                assert!(status.success());
                fs::create_dir_all(failed.join("a")).unwrap();
                fs::write(failed.join("a/stale.roa"), b"never committed").unwrap();
            }
            // Now and then the tree the last write replaced is brought up
            // to the current state first (as `serve` does a while after a
            // write): the write then brings it forward from there.
            if round % 5 == 2 {
                let old = SystemTime::now() - 2 * READERS_RECENT;
                for e in fs::read_dir(tmp.path().join("trees")).unwrap() {
                    let _ = fs::File::open(e.unwrap().path()).and_then(|d| d.set_modified(old));
                }
                brought += tree.forward_spare().unwrap().min(1);
            }
            // Now and then a full write (the caller cannot vouch for the
            // current tree): no tree is brought forward across it.
            let vouched = round > 0 && round % 9 != 4;
            let stats = tree.write(files, vouched.then_some(&changed)).unwrap();
            reused += stats.reused as usize;
            assert_eq!(contents(&tree.current()), state, "round {round}");
            // A reader of any earlier generation learns every path that
            // differs, unless a full write came in between.
            if !vouched {
                full_writes.push(stats.generation);
            }
            at.insert(stats.generation, state.clone());
            for (g, then) in &at {
                let across_full = full_writes.iter().any(|f| f > g);
                match tree.changed_since(*g) {
                    Some((current, paths)) => {
                        assert!(!across_full, "round {round}: journals across a full write");
                        assert_eq!(current, stats.generation);
                        for p in then.keys().chain(state.keys()) {
                            if then.get(p) != state.get(p) {
                                assert!(paths.contains(p), "round {round}: {p} since {g}");
                            }
                        }
                    }
                    None => assert!(across_full, "round {round}: no journals since {g}"),
                }
            }
            assert_eq!(stats.files, state.len());
            // The tree just replaced still shows the state before.
            if let (Some(before), Some(prev)) = (before, &previous_state)
                && before != tree.current_target().unwrap()
            {
                assert_eq!(&contents(&before), prev, "round {round}: replaced tree");
                // What the two hold alike is one file on disk, however
                // the new tree was made.
                use std::os::unix::fs::MetadataExt;
                let inode = |p: &Path| fs::metadata(p).unwrap().ino();
                let current = tree.current_target().unwrap();
                for (path, held) in &state {
                    if prev.get(path) == Some(held) {
                        assert_eq!(
                            inode(&current.join(path)),
                            inode(&before.join(path)),
                            "round {round}: {path} not shared"
                        );
                    }
                }
            }
            previous_state = Some(state.clone());
        }
        assert!(
            reused >= 25,
            "trees were brought forward {reused} times of 40"
        );
        assert!(
            brought >= 4,
            "spares brought forward apart {brought} times of 8"
        );
        assert!(fs::read_dir(tmp.path().join("trees")).unwrap().count() <= 3);

        // A tree some process is inside is left alone: a full write.
        let trees: Vec<PathBuf> = fs::read_dir(tmp.path().join("trees"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        let mut readers: Vec<_> = trees.iter().map(|t| rsync_in(t, bin.path())).collect();
        let frozen: Vec<_> = trees.iter().map(|t| contents(t)).collect();
        state.insert("a/new.roa".into(), (b"new".to_vec(), 5000));
        let split = split_paths(&state);
        let files = tree_files(&split, &state);
        let changed = BTreeSet::from(["a/new.roa".to_string()]);
        let stats = tree.write(files, Some(&changed)).unwrap();
        assert!(!stats.reused);
        assert_eq!(contents(&tree.current()), state);
        for (t, before) in trees.iter().zip(&frozen) {
            assert_eq!(&contents(t), before, "a tree in use changed");
        }
        for r in &mut readers {
            r.kill().unwrap();
            r.wait().unwrap();
        }
        daemon.kill().unwrap();
        daemon.wait().unwrap();
    }

    /// After a write of many paths, the tree it replaced is brought up to
    /// the current state by links alone, once it was superseded long
    /// enough: the current tree stays as it was, the next write brings
    /// the spare forward across its own change only, and a tree a crashed
    /// write left with the current generation is never taken for a spare.
    #[test]
    fn the_spare_is_brought_forward_to_the_current_state_by_links() {
        let watched = Watched::new();
        let (tmp, tree) = (&watched.tmp, &watched.tree);
        let mut state = State::new();
        let write = |state: &State, changed| watched.write(state, changed);
        for i in 0..20 {
            state.insert(format!("a/f{i}.roa"), (b"0".to_vec(), 1000));
        }
        state.insert("b/gone.roa".into(), (b"0".to_vec(), 1000));
        write(&state, None);
        // Small writes, each bringing forward the tree the last replaced.
        for round in 1..=3u64 {
            state.insert(
                "a/f0.roa".into(),
                (format!("{round}").into_bytes(), 1000 + round),
            );
            write(&state, Some(BTreeSet::from(["a/f0.roa".to_string()])));
        }
        // A large write: every file changes, one point goes.
        let mut changed = BTreeSet::new();
        for i in 0..20 {
            state.insert(format!("a/f{i}.roa"), (b"big".to_vec(), 2000));
            changed.insert(format!("a/f{i}.roa"));
        }
        state.remove("b/gone.roa");
        changed.insert("b/gone.roa".into());
        let replaced = tree.current_target().unwrap();
        let big = write(&state, Some(changed));
        let current = tree.current_target().unwrap();

        // Not at once: a client may be entering the tree just replaced.
        assert_eq!(tree.forward_spare().unwrap(), 0);
        let superseded = SystemTime::now() - 2 * READERS_RECENT;
        fs::File::open(&replaced)
            .unwrap()
            .set_modified(superseded)
            .unwrap();
        assert_eq!(tree.forward_spare().unwrap(), 21, "the large write's paths");
        let forwarded: Vec<PathBuf> = fs::read_dir(tmp.path().join("trees"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| forwarded(p))
            .collect();
        assert_eq!(forwarded.len(), 1);
        assert_eq!(
            contents(&forwarded[0]),
            state,
            "the spare holds the current state"
        );
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            fs::metadata(forwarded[0].join("a/f3.roa")).unwrap().ino(),
            fs::metadata(current.join("a/f3.roa")).unwrap().ino(),
            "by links to the current tree's files"
        );
        assert_eq!(contents(&current), state, "the current tree stays");
        assert_eq!(tree.forward_spare().unwrap(), 0, "once only");

        // The next change costs its own path. The spare's file shares its
        // inode with the tree that was current: a new one, never the
        // bytes of the shared one rewritten.
        let before_next = state.clone();
        state.insert("a/f1.roa".into(), (b"next".to_vec(), 3000));
        let next = write(&state, Some(BTreeSet::from(["a/f1.roa".to_string()])));
        assert!(next.reused);
        assert_eq!((next.written, next.linked, next.removed), (1, 0, 0));
        assert_eq!(next.in_place, 0);
        assert_eq!(next.generation, big.generation + 1);
        assert_eq!(contents(&tree.current()), state);
        assert_eq!(contents(&current), before_next, "the tree replaced stays");

        // A crash between a write's rename and its swap left a tree of
        // the next generation; once a write of that generation is
        // current, that tree is neither brought forward nor reused.
        let next_gen = tree.current_generation().unwrap() + 1;
        let failed = tmp.path().join(format!("trees/g{next_gen}-0-0"));
        fs::create_dir_all(failed.join("a")).unwrap();
        fs::write(failed.join("a/stale.roa"), b"never shown").unwrap();
        assert_eq!(tree.forward_spare().unwrap(), 0);
        state.insert("a/f2.roa".into(), (b"after".to_vec(), 4000));
        write(&state, Some(BTreeSet::from(["a/f2.roa".to_string()])));
        tree.forward_spare().unwrap();
        state.insert("a/f4.roa".into(), (b"again".to_vec(), 5000));
        write(&state, Some(BTreeSet::from(["a/f4.roa".to_string()])));
        assert_eq!(contents(&tree.current()), state);
    }

    /// A file of a tree brought forward that no other tree shares is
    /// rewritten in place (its inode kept); one that another tree shares
    /// is replaced, and that tree keeps its bytes.
    #[test]
    fn a_file_no_other_tree_shares_is_rewritten_in_place() {
        use std::os::unix::fs::MetadataExt;
        let watched = Watched::new();
        let tree = &watched.tree;
        let mut state = State::new();
        let write = |state: &State, changed| watched.write(state, changed);
        let changed = |paths: &[&str]| Some(paths.iter().map(|p| p.to_string()).collect());
        state.insert("a/x.roa".into(), (b"0000".to_vec(), 1000));
        state.insert("a/y.roa".into(), (b"same".to_vec(), 1000));
        write(&state, None);
        let first = tree.current_target().unwrap();
        let inode = |p: PathBuf| fs::metadata(p).unwrap().ino();
        let x_first = inode(first.join("a/x.roa"));
        // The second tree links y from the first, which it replaced.
        state.insert("a/x.roa".into(), (b"1".to_vec(), 1001));
        write(&state, changed(&["a/x.roa"]));
        let second = tree.current_target().unwrap();
        assert_eq!(inode(second.join("a/y.roa")), inode(first.join("a/y.roa")));
        // The third brings the first forward: its x is its own, y shared.
        let third_state = {
            let mut s = state.clone();
            s.insert("a/x.roa".into(), (b"22".to_vec(), 1002));
            s.insert("a/y.roa".into(), (b"new y".to_vec(), 1002));
            s
        };
        let third = write(&third_state, changed(&["a/x.roa", "a/y.roa"]));
        assert!(third.reused);
        assert_eq!((third.written, third.in_place), (2, 1));
        let current = tree.current_target().unwrap();
        assert_eq!(
            inode(current.join("a/x.roa")),
            x_first,
            "x rewritten in place"
        );
        assert_eq!(contents(&current), third_state);
        assert_eq!(contents(&second), state, "the tree replaced keeps y");
    }

    #[test]
    fn nothing_changed_writes_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        tree.write([file("", "a.roa", b"1", 1)], None).unwrap();
        let first = tree.current_target().unwrap();
        let stats = tree
            .write([file("", "a.roa", b"1", 1)], Some(&BTreeSet::new()))
            .unwrap();
        assert_eq!((stats.files, stats.written, stats.generation), (1, 0, 1));
        assert_eq!(tree.current_target().unwrap(), first);
    }

    #[test]
    fn partial_trees_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        fs::create_dir_all(tmp.path().join("trees/.tmp-crashed")).unwrap();
        tree.write([file("", "ta.cer", b"ta", 1)], None).unwrap();
        assert!(!tmp.path().join("trees/.tmp-crashed").exists());
    }

    #[test]
    fn rejects_path_tricks() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        for (dir, name) in [
            ("..", "x.roa"),
            ("ca", "../x"),
            ("ca", ".hidden"),
            ("a/../b", "x"),
            ("a//b", "x"),
            ("/a", "x"),
            ("a/.b", "x"),
        ] {
            assert!(
                tree.write([file(dir, name, b"x", 1)], None).is_err(),
                "{dir}/{name}"
            );
        }
    }
}
