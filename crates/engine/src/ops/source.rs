//! The repository state a tree write and an RRDP serial are written from,
//! read from one store snapshot as the writes go: a full write and a
//! snapshot read the objects one row at a time, a tree brought forward
//! reads only the paths that changed.

use anchorage_publication::{PublicationError, TreeFile, TreeSource};
use anchorage_rrdp_server::RrdpError;
use anchorage_rrdp_server::repository::EachObject;
use anchorage_store::{StoreError, Tx};

/// Why reading the store's objects stopped: the store, or the caller.
enum Stop<E> {
    Store(StoreError),
    Caller(E),
}

impl<E> From<StoreError> for Stop<E> {
    fn from(e: StoreError) -> Self {
        Stop::Store(e)
    }
}

/// Every published object of a read transaction: hosted objects by their
/// path below `base`, publishers' objects by their URI (those outside
/// `base`, which no publisher can have, are left out).
pub(super) struct StoreFiles<'t, 'a> {
    /// The read transaction.
    pub tx: &'t Tx<'a>,
    /// The rsync base URI, ending in `/`.
    pub base: &'t str,
}

impl StoreFiles<'_, '_> {
    /// Calls `f` with every object: its path below the base, bytes,
    /// mtime and stored hash.
    fn each<E>(
        &self,
        mut f: impl FnMut(TreeFile<'_>, [u8; 32]) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        self.tx.each_file::<Stop<E>>(|file| {
            let tree_file = TreeFile {
                dir: &file.dir,
                name: &file.name,
                bytes: &file.bytes,
                mtime: file.mtime,
            };
            f(tree_file, file.hash).map_err(Stop::Caller)
        })?;
        self.tx
            .each_publisher_object::<Stop<E>>(|uri, bytes, mtime, hash| {
                let Some(rel) = uri.strip_prefix(self.base) else {
                    return Ok(());
                };
                let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
                let tree_file = TreeFile {
                    dir,
                    name,
                    bytes: &bytes,
                    mtime,
                };
                f(tree_file, hash).map_err(Stop::Caller)
            })
    }

    /// For [`anchorage_rrdp_server::repository::RrdpRepository::prepare_from`]:
    /// calls `f` with every object's rsync URI, bytes and stored hash.
    pub fn each_object(&self, f: &mut EachObject<'_>) -> Result<(), RrdpError> {
        let mut uri = String::new();
        self.each(|file, hash| {
            uri.clear();
            uri.push_str(self.base);
            uri.push_str(file.dir);
            if !file.dir.is_empty() {
                uri.push('/');
            }
            uri.push_str(file.name);
            f(&uri, file.bytes, hash)
        })
        .map_err(|e| match e {
            Stop::Store(e) => RrdpError::Source(e.to_string()),
            Stop::Caller(e) => e,
        })
    }
}

fn source_error(e: StoreError) -> PublicationError {
    PublicationError::Source(e.to_string())
}

impl TreeSource for StoreFiles<'_, '_> {
    /// The snapshot's session still answers: on PostgreSQL it holds the
    /// tree's lock, which a new leader takes from a deposed one by ending
    /// its sessions (`anchorage_store::leader`), so a tree written by an
    /// instance that was paused meanwhile never becomes current.
    fn confirm(&mut self) -> Result<(), PublicationError> {
        self.tx.alive().map_err(source_error)
    }

    fn count(&mut self) -> Result<usize, PublicationError> {
        self.tx.published_count().map_err(source_error)
    }

    fn get(
        &mut self,
        path: &str,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<bool, PublicationError> {
        if let Some(file) = self.tx.file_at(path).map_err(source_error)? {
            f(TreeFile {
                dir: &file.dir,
                name: &file.name,
                bytes: &file.bytes,
                mtime: file.mtime,
            })?;
            return Ok(true);
        }
        let uri = format!("{}{path}", self.base);
        let Some((bytes, mtime, _)) = self.tx.publisher_object_at(&uri).map_err(source_error)?
        else {
            return Ok(false);
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        f(TreeFile {
            dir,
            name,
            bytes: &bytes,
            mtime,
        })?;
        Ok(true)
    }

    fn each(
        &mut self,
        f: &mut dyn FnMut(TreeFile<'_>) -> Result<(), PublicationError>,
    ) -> Result<(), PublicationError> {
        StoreFiles::each(self, |file, _| f(file)).map_err(|e| match e {
            Stop::Store(e) => source_error(e),
            Stop::Caller(e) => e,
        })
    }
}

/// The paths below `base` that a change journal names: hosted objects'
/// paths as they are, publishers' URIs below the base.
pub(super) fn changed_paths(
    base: &str,
    changes: anchorage_store::Changes,
) -> std::collections::BTreeSet<String> {
    let mut paths = changes.paths;
    paths.extend(
        changes
            .uris
            .iter()
            .filter_map(|u| u.strip_prefix(base).map(str::to_string)),
    );
    paths
}
