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
//! links to it, so writing a new state costs in proportion to what changed
//! plus one directory entry per file.
#![forbid(unsafe_code)]

pub mod rsyncd;

use std::collections::HashSet;
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

/// How long a superseded tree is kept for clients that may still be
/// reading it, when `/proc` cannot tell whether one is (see
/// [`RsyncTree::write`]'s pruning rule).
pub const GRACE: Duration = Duration::from_secs(300);

/// The rsync tree of a data directory: `ROOT/current` and `ROOT/trees/`.
#[derive(Clone, Debug)]
pub struct RsyncTree {
    root: PathBuf,
    abort_after: Option<usize>,
}

/// What [`RsyncTree::write`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Files in the new tree.
    pub files: usize,
    /// Files written because they are new or changed.
    pub written: usize,
    /// Files hard-linked from the previous tree.
    pub linked: usize,
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
    /// would) after writing this many files of the next tree.
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

    /// Writes a new tree holding exactly `files` and makes it current.
    pub fn write<'a>(
        &self,
        files: impl IntoIterator<Item = TreeFile<'a>>,
    ) -> Result<WriteStats, PublicationError> {
        let trees = self.trees();
        fs::create_dir_all(&trees).map_err(io_err(&trees))?;
        let previous = self.current_target();
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = format!("{stamp}-{}", std::process::id());
        let tmp = trees.join(format!(".tmp-{name}"));
        let fin = trees.join(&name);
        fs::create_dir(&tmp).map_err(io_err(&tmp))?;

        let mut stats = WriteStats::default();
        let mut dirs: HashSet<String> = HashSet::new();
        for f in files {
            if !safe_component(f.name)
                || !(f.dir.is_empty() || f.dir.split('/').all(safe_component))
            {
                return Err(PublicationError::BadPath(format!("{}/{}", f.dir, f.name)));
            }
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
            let target = tmp.join(&rel);
            let mtime = UNIX_EPOCH + Duration::from_secs(f.mtime.max(0) as u64);
            stats.files += 1;
            if let Some(prev) = &previous {
                let old = prev.join(&rel);
                if let Ok(meta) = fs::metadata(&old)
                    && meta.len() == f.bytes.len() as u64
                    && meta.modified().ok() == Some(mtime)
                    && fs::hard_link(&old, &target).is_ok()
                {
                    stats.linked += 1;
                    continue;
                }
            }
            let mut file = fs::File::create(&target).map_err(io_err(&target))?;
            file.write_all(f.bytes).map_err(io_err(&target))?;
            file.set_modified(mtime).map_err(io_err(&target))?;
            stats.written += 1;
            if self.abort_after.is_some_and(|n| stats.files > n) {
                std::process::abort();
            }
        }
        // Every file and directory of the new tree is durable before it
        // can become current: one syncfs(2) of the file system instead of
        // an fsync per file and directory (measured: a third of the time
        // of a small tree write went to those fsyncs).
        sync_fs(&tmp)?;
        fs::rename(&tmp, &fin).map_err(io_err(&fin))?;
        sync_dir(&trees)?;

        // Swap `current` atomically: a new symlink renamed over the old one.
        let link_tmp = self.root.join(format!(".current-{name}"));
        std::os::unix::fs::symlink(Path::new("trees").join(&name), &link_tmp)
            .map_err(io_err(&link_tmp))?;
        let current = self.current();
        fs::rename(&link_tmp, &current).map_err(io_err(&current))?;
        sync_dir(&self.root)?;

        self.prune(&fin, previous.as_deref());
        tracing::debug!(
            files = stats.files,
            written = stats.written,
            linked = stats.linked,
            "rsync tree written"
        );
        Ok(stats)
    }

    /// Removes partial trees, and superseded ones no client can still be
    /// reading.
    ///
    /// An rsync daemon serving a client enters (chdir, or chroot) the tree
    /// `current` pointed to when the client connected and stays there for
    /// the whole transfer. So a superseded tree is kept while some process
    /// has its working or root directory inside it (as `/proc` shows), and
    /// the tree just replaced is always kept, for a client that resolved
    /// `current` an instant before the swap and has not entered it yet.
    /// Every other tree goes at once. Where `/proc` cannot tell (no rsync
    /// process visible, one that cannot be inspected, or no `/proc`),
    /// trees younger than [`GRACE`] are kept instead.
    fn prune(&self, keep: &Path, previous: Option<&Path>) {
        let trees = self.trees();
        let Ok(entries) = fs::read_dir(&trees) else {
            return;
        };
        let in_use = trees_in_use(&trees);
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let path = entry.path();
            if path == keep || Some(path.as_path()) == previous {
                continue;
            }
            let partial = entry.file_name().to_string_lossy().starts_with(".tmp-");
            let unused = match &in_use {
                Some(used) => !used.contains(&entry.file_name()),
                None => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .map(|m| now.duration_since(m).unwrap_or_default() > GRACE)
                    .unwrap_or(true),
            };
            if (partial || unused)
                && let Err(err) = fs::remove_dir_all(&path)
            {
                tracing::warn!(path = %path.display(), %err, "could not remove old rsync tree");
            }
        }
    }
}

/// The names of the trees under `trees` that a process has as its
/// working or root directory; `None` if that cannot be known: no `/proc`,
/// no rsync process visible at all (the daemon may run where this process
/// cannot see it: another PID namespace, `/proc` mounted with `hidepid`),
/// or an rsync process whose directories cannot be read (another user's,
/// without the privilege to look).
fn trees_in_use(trees: &Path) -> Option<HashSet<std::ffi::OsString>> {
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
    rsync_seen.then_some(used)
}

fn sync_fs(dir: &Path) -> Result<(), PublicationError> {
    fs::File::open(dir)
        .and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from))
        .map_err(io_err(dir))
}

fn sync_dir(dir: &Path) -> Result<(), PublicationError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file<'a>(dir: &'a str, name: &'a str, bytes: &'a [u8], mtime: i64) -> TreeFile<'a> {
        TreeFile {
            dir,
            name,
            bytes,
            mtime,
        }
    }

    #[test]
    fn swaps_and_keeps_unchanged_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        let s1 = tree
            .write([
                file("", "ta.cer", b"ta", 1_000_000),
                file("ca", "a.roa", b"one", 1_000_000),
                file("ca", "b.roa", b"two", 1_000_000),
            ])
            .unwrap();
        assert_eq!(s1.written, 3);
        let first = tree.current_target().unwrap();
        let s2 = tree
            .write([
                file("", "ta.cer", b"ta", 1_000_000),
                file("ca", "a.roa", b"ONE", 1_000_100),
            ])
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
        tree.write([file("", "a.roa", b"1", 1)]).unwrap();
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
        tree.write([file("", "a.roa", b"2", 2)]).unwrap();
        let second = tree.current_target().unwrap();
        tree.write([file("", "a.roa", b"3", 3)]).unwrap();
        let third = tree.current_target().unwrap();
        tree.write([file("", "a.roa", b"4", 4)]).unwrap();
        // The second: neither in use nor the last replaced, so gone at once.
        assert!(!second.exists());
        assert!(third.exists(), "the tree just replaced stays");
        assert!(first.exists(), "a tree in use stays");
        reader.kill().unwrap();
        reader.wait().unwrap();
        tree.write([file("", "a.roa", b"5", 5)]).unwrap();
        assert!(!first.exists(), "and goes once nobody is inside");
        assert!(!third.exists());
        assert_eq!(fs::read_dir(tmp.path().join("trees")).unwrap().count(), 2);
        listener.kill().unwrap();
        listener.wait().unwrap();
    }

    #[test]
    fn partial_trees_are_pruned() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = RsyncTree::new(tmp.path());
        fs::create_dir_all(tmp.path().join("trees/.tmp-crashed")).unwrap();
        tree.write([file("", "ta.cer", b"ta", 1)]).unwrap();
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
                tree.write([file(dir, name, b"x", 1)]).is_err(),
                "{dir}/{name}"
            );
        }
    }
}
