//! Moving a data directory's SQLite store into PostgreSQL.

use anchorage_store::{CopyReport, Location, Store, StoreError};

use crate::datadir::DataDir;
use crate::error::AppError;
use crate::ops::Result;

/// Copies the SQLite store of `dir` into the empty PostgreSQL database
/// `to`, then records `to` in `DIR/database.url` so that every later
/// command and `serve` use it. Refused while `serve` runs on `dir`, when
/// `dir` already uses PostgreSQL, or when `to` already holds a store.
///
/// The copy is one transaction on each side: on failure the PostgreSQL
/// database is left empty and the SQLite store unchanged. The SQLite file
/// stays where it is, marked as moved: it refuses to open from then on,
/// so a stale copy can never sign again.
pub fn migrate_store(dir: &DataDir, to: &str) -> Result<CopyReport> {
    let target = match Location::parse(to) {
        Ok(target @ Location::Postgres(_)) => target,
        _ => {
            return Err(AppError::BadArgument {
                what: "--to",
                value: anchorage_store::masked(to),
                rule: "must be a PostgreSQL connection string (postgres://USER@HOST/DB)",
            });
        }
    };
    let source_path = match dir.store_location()? {
        Location::Sqlite(path) => path,
        Location::Postgres(_) => {
            return Err(AppError::Store(StoreError::AlreadyExists(
                dir.database_url().display().to_string(),
            )));
        }
    };
    let _serve = dir
        .try_lock_serve()
        .map_err(|source| AppError::Io {
            what: format!("locking {}", dir.root().display()),
            source,
        })?
        .ok_or_else(|| {
            AppError::Busy(format!(
                "serve is running on {}: stop it before migrating",
                dir.root().display()
            ))
        })?;
    let mut source = Store::open(&source_path)?;
    let (_, report) = Store::create_from(&target, &mut source, || {
        dir.record_database_url(to).map_err(|source| AppError::Io {
            what: format!("writing {}", dir.database_url().display()),
            source,
        })
    })?;
    Ok(report)
}
