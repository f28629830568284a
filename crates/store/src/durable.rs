//! Group commit for SQLite: the write-ahead log is made durable after the
//! write lock is let go, and one `fdatasync(2)` serves every commit of the
//! process that ended before it began.
//!
//! With `synchronous=FULL`, SQLite syncs the WAL inside `COMMIT`, while it
//! still holds its write lock: writers queue behind each other's syncs,
//! one sync per commit. Anchorage runs the connections with
//! `synchronous=NORMAL` instead (SQLite writes the commit's frames but
//! does not sync them; it still syncs the WAL before every checkpoint and
//! its header when it restarts it) and syncs the WAL itself after `COMMIT`
//! returns, before [`crate::Tx::commit`] does: a commit is acknowledged
//! only once a sync that began after it ended, which is what `FULL` gives.
//! In between, other connections may read the commit: whatever leaves the
//! process from such a read (an rsync tree, an RRDP serial, a message to
//! a remote repository) is preceded by [`crate::Store::make_durable`],
//! a sync that began after the read.
//!
//! A failed sync leaves the commits it covered in doubt (the kernel may
//! have dropped their pages, and a second sync would not say so): the
//! process refuses every later write transaction until it is restarted,
//! which recovers from the WAL what is on disk.

use std::io;
use std::sync::{Condvar, Mutex};

/// The syncs of one process's connections to one database.
#[derive(Debug, Default)]
pub struct GroupSync {
    state: Mutex<SyncState>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Tickets handed out: one per commit (or barrier) that asked.
    asked: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// Whether a sync runs now.
    syncing: bool,
    /// Syncs done (for the tests and the logs).
    syncs: u64,
    /// The error of a failed sync: every later sync fails with it.
    failed: Option<(io::ErrorKind, String)>,
}

impl GroupSync {
    /// Returns once a call of `sync` that began after this call started
    /// has ended: made by this thread if no sync runs, or by another one
    /// for all the commits that asked before it began.
    pub fn wait(&self, sync: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        let mut sync = Some(sync);
        let mut state = self.lock();
        state.asked += 1;
        let mine = state.asked;
        loop {
            if let Some((kind, text)) = &state.failed {
                return Err(io::Error::new(*kind, text.clone()));
            }
            if state.durable >= mine {
                return Ok(());
            }
            if state.syncing {
                state = self.done.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // This thread syncs, for every ticket handed out so far. It
            // is the first that found no sync running after its ticket,
            // so its own sync is still to be made.
            let Some(sync) = sync.take() else {
                unreachable!("a ticket is synced by the sync its holder makes")
            };
            state.syncing = true;
            let target = state.asked;
            drop(state);
            let result = sync();
            state = self.lock();
            state.syncing = false;
            state.syncs += 1;
            match result {
                Ok(()) => state.durable = state.durable.max(target),
                Err(err) => state.failed = Some((err.kind(), err.to_string())),
            }
            self.done.notify_all();
        }
    }

    /// The error of the sync that failed, if one did.
    pub fn failed(&self) -> Option<String> {
        self.lock().failed.as_ref().map(|(_, text)| text.clone())
    }

    /// How many syncs were made.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Syncs the write-ahead log at `wal` (opened afresh, as SQLite may have
/// made the file anew since the last sync).
pub(crate) fn sync_wal(wal: &std::path::Path) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(wal)
        .and_then(|f| f.sync_data())
        .map_err(|e| io::Error::new(e.kind(), format!("syncing {}: {e}", wal.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    /// Waits until `n` tickets were handed out.
    fn until_asked(group: &GroupSync, n: u64) {
        while group.lock().asked < n {
            std::thread::yield_now();
        }
    }

    /// Commits that ask while a sync runs wait for the next one, which
    /// one of them makes for all of them; none returns before it ends.
    #[test]
    fn commits_during_a_sync_share_the_next_one() {
        let group = Arc::new(GroupSync::default());
        let (release_first, first_held) = mpsc::channel::<()>();
        let (release_second, second_held) = mpsc::channel::<()>();
        let second_held = Arc::new(Mutex::new(second_held));
        let returned = Arc::new(AtomicUsize::new(0));
        let leader = {
            let (group, returned) = (group.clone(), returned.clone());
            std::thread::spawn(move || {
                group
                    .wait(|| {
                        first_held.recv().unwrap();
                        Ok(())
                    })
                    .unwrap();
                returned.fetch_add(1, Ordering::SeqCst);
            })
        };
        until_asked(&group, 1);
        while !group.lock().syncing {
            std::thread::yield_now();
        }
        let waiters: Vec<_> = (0..6)
            .map(|_| {
                let (group, returned, held) =
                    (group.clone(), returned.clone(), second_held.clone());
                std::thread::spawn(move || {
                    group
                        .wait(|| {
                            held.lock().unwrap().recv().unwrap();
                            Ok(())
                        })
                        .unwrap();
                    returned.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        until_asked(&group, 7);
        assert_eq!(returned.load(Ordering::SeqCst), 0);
        release_first.send(()).unwrap();
        leader.join().unwrap();
        assert_eq!(returned.load(Ordering::SeqCst), 1);
        // The second sync has begun (one of the six makes it) and holds:
        // none of the six has returned.
        while group.lock().syncs < 1 || !group.lock().syncing {
            std::thread::yield_now();
        }
        assert_eq!(returned.load(Ordering::SeqCst), 1);
        release_second.send(()).unwrap();
        for w in waiters {
            w.join().unwrap();
        }
        assert_eq!(returned.load(Ordering::SeqCst), 7);
        assert_eq!(group.syncs(), 2);
    }

    /// A commit alone syncs for itself, every time.
    #[test]
    fn a_commit_alone_makes_its_own_sync() {
        let group = GroupSync::default();
        let made = AtomicUsize::new(0);
        for _ in 0..3 {
            group
                .wait(|| {
                    made.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .unwrap();
        }
        assert_eq!(made.load(Ordering::SeqCst), 3);
        assert_eq!(group.syncs(), 3);
    }

    /// A failed sync fails its commits and every later one, without a
    /// sync retried.
    #[test]
    fn a_failed_sync_fails_every_later_commit() {
        let group = GroupSync::default();
        let err = group
            .wait(|| Err(io::Error::other("device gone")))
            .unwrap_err();
        assert!(err.to_string().contains("device gone"));
        assert!(group.failed().is_some());
        let again = group.wait(|| panic!("no sync after a failed one"));
        assert!(again.unwrap_err().to_string().contains("device gone"));
        assert_eq!(group.syncs(), 1);
    }
}
