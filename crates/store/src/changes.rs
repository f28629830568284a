//! What changed in the published repository, and its files read one at a
//! time: the rsync tree is brought forward from the journal that schema
//! version 9's triggers keep, and full writes and RRDP snapshots read the
//! repository as a stream, never whole into memory.

use std::collections::BTreeSet;

use bytes::Bytes;

use crate::points::stored_hash;
use crate::sql::args;
use crate::{Result, StoredFile, Tx, corrupt};

/// A published path that changed: a hosted object's path in the
/// repository, or a publisher's object's rsync URI.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// Hosted objects' paths (`DIR/NAME`, or `NAME` at the root).
    pub paths: BTreeSet<String>,
    /// Publishers' objects' rsync URIs.
    pub uris: BTreeSet<String>,
}

impl Tx<'_> {
    /// The sequence number of the newest change to a published object
    /// (0 before the first): what a reader records as seen. SQLite keeps
    /// the highest number handed out in `sqlite_sequence`, a table like
    /// any other, so it is what this transaction sees. PostgreSQL's
    /// sequences are not transactional (they count other sessions'
    /// uncommitted rows too): there it is read from the journal itself,
    /// which [`Self::prune_changes`] never empties.
    pub fn change_seq(&self) -> Result<i64> {
        let sql = if self.is_pg() {
            "SELECT COALESCE(MAX(seq), 0) FROM publication_changes"
        } else {
            "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'publication_changes'"
        };
        self.row(sql, args![], |r| r.get(0))
    }

    /// Every published path changed after `seq` up to `upto` (inclusive):
    /// added, changed or removed since a reader saw `seq`.
    pub fn changes_between(&self, seq: i64, upto: i64) -> Result<Changes> {
        let mut changes = Changes::default();
        self.each(
            "SELECT DISTINCT path, uri FROM publication_changes WHERE seq > ?1 AND seq <= ?2",
            args![seq, upto],
            |r| {
                match (r.get::<Option<String>>(0)?, r.get::<Option<String>>(1)?) {
                    (Some(path), _) => changes.paths.insert(path),
                    (None, Some(uri)) => changes.uris.insert(uri),
                    (None, None) => false,
                };
                Ok::<(), crate::StoreError>(())
            },
        )?;
        Ok(changes)
    }

    /// Forgets the changes up to `seq`, which every reader has seen,
    /// but for the newest: it keeps [`Self::change_seq`] from going back.
    pub fn prune_changes(&self, seq: i64) -> Result<()> {
        self.exec(
            "DELETE FROM publication_changes WHERE seq <= ?1
             AND seq < (SELECT MAX(seq) FROM publication_changes)",
            args![seq],
        )?;
        Ok(())
    }

    /// The hosted object published at `path` (`DIR/NAME` or `NAME`), with
    /// its published directory, if there is one. Objects of a CA's key
    /// beside the active one are stored under `HANDLE@KEYID` and
    /// published in `HANDLE`: both are looked at.
    pub fn file_at(&self, path: &str) -> Result<Option<StoredFile>> {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let mut found: Option<StoredFile> = None;
        self.each(
            "SELECT dir, bytes, mtime, hash FROM objects
             WHERE name = ?2 AND (dir = ?1 OR (dir > ?1 || '@' AND dir < ?1 || 'A'))",
            args![dir, name],
            |r| {
                let stored: String = r.get(0)?;
                if crate::published_dir(&stored) != dir {
                    return Ok(());
                }
                if found.is_some() {
                    return Err(corrupt("published path", path));
                }
                let bytes = Bytes::from(r.get::<Vec<u8>>(1)?);
                found = Some(StoredFile {
                    dir: dir.to_string(),
                    name: name.to_string(),
                    hash: stored_hash(r.get(3)?, &bytes),
                    bytes,
                    mtime: r.get(2)?,
                });
                Ok(())
            },
        )?;
        Ok(found)
    }

    /// A publisher's object at `uri`: bytes, mtime and hash.
    pub fn publisher_object_at(&self, uri: &str) -> Result<Option<(Bytes, i64, [u8; 32])>> {
        self.opt_row(
            "SELECT bytes, mtime, hash FROM publisher_objects WHERE uri = ?1",
            args![uri],
            |r| {
                let bytes = Bytes::from(r.get::<Vec<u8>>(0)?);
                let hash = stored_hash(r.get(2)?, &bytes);
                Ok((bytes, r.get(1)?, hash))
            },
        )
    }

    /// Calls `f` with every hosted object, one row at a time, in its
    /// published directory; stops at `f`'s first error. Two objects of
    /// one published path (a key's directory beside the CA's: never
    /// written, as manifests and CRLs are named after their key) are
    /// refused as corrupt, after the stream, so a full tree or snapshot
    /// that holds them is never made current.
    pub fn each_file<E: From<crate::StoreError>>(
        &self,
        mut f: impl FnMut(StoredFile) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        // The published paths of objects stored under a key's directory:
        // the only ones that can share a path with another.
        let mut keyed = Vec::new();
        self.each(
            "SELECT dir, name, bytes, mtime, hash FROM objects",
            args![],
            |r| {
                let dir: String = r.get(0)?;
                let bytes = Bytes::from(r.get::<Vec<u8>>(2)?);
                let file = StoredFile {
                    dir: crate::published_dir(&dir).to_string(),
                    name: r.get(1)?,
                    hash: stored_hash(r.get(4)?, &bytes),
                    bytes,
                    mtime: r.get(3)?,
                };
                if dir.contains('@') {
                    keyed.push(if file.dir.is_empty() {
                        file.name.clone()
                    } else {
                        format!("{}/{}", file.dir, file.name)
                    });
                }
                f(file)
            },
        )?;
        for path in keyed {
            // `file_at` refuses a path two rows publish.
            self.file_at(&path)?;
        }
        Ok(())
    }

    /// Calls `f` with every publisher's object (URI, bytes, mtime, hash),
    /// one row at a time; stops at `f`'s first error.
    pub fn each_publisher_object<E: From<crate::StoreError>>(
        &self,
        mut f: impl FnMut(String, Bytes, i64, [u8; 32]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.each(
            "SELECT uri, bytes, mtime, hash FROM publisher_objects",
            args![],
            |r| {
                let bytes = Bytes::from(r.get::<Vec<u8>>(1)?);
                let hash = stored_hash(r.get(3)?, &bytes);
                let (uri, mtime) = (r.get(0)?, r.get(2)?);
                f(uri, bytes, mtime, hash)
            },
        )
    }

    /// How many hosted and publishers' objects are published.
    pub fn published_count(&self) -> Result<usize> {
        let n: i64 = self.row("SELECT n FROM published_count WHERE id = 1", args![], |r| {
            r.get(0)
        })?;
        Ok(n as usize)
    }
}
