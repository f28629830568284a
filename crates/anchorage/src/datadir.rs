//! The files of a data directory.
//!
//! ```text
//! DIR/anchorage.db      SQLite store (WAL: also -wal and -shm files)
//! DIR/keys/             CA private keys, PKCS#8 DER, mode 0600
//! DIR/rsync/current     symlink to the tree rsyncd serves
//! DIR/rsync/trees/      complete repository states
//! DIR/rrdp/             RRDP notification, snapshot and delta files
//! DIR/ta.tal            the trust anchor locator (RFC 8630)
//! ```

use std::path::{Path, PathBuf};

/// Paths within a data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("anchorage.db")
    }

    /// The key directory.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The rsync tree root (holds `current` and `trees/`).
    pub fn rsync(&self) -> PathBuf {
        self.root.join("rsync")
    }

    /// The RRDP files (notification, snapshots, deltas).
    pub fn rrdp(&self) -> PathBuf {
        self.root.join("rrdp")
    }

    /// The TAL file.
    pub fn tal(&self) -> PathBuf {
        self.root.join("ta.tal")
    }
}
