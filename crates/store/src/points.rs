//! Publication points: published objects, revocations and pending marks.

use crate::sql::{Row, args};
use anchorage_ca_core::point::PublishedObject;
use anchorage_ca_core::{PublicationPoint, Revocation};
use bytes::Bytes;
use rpki::repository::x509::Time;

use crate::{Result, Tx, corrupt, from_secs, parse_serial, to_secs};

/// A published file as stored, with its path and mtime.
#[derive(Clone, Debug)]
pub struct StoredFile {
    /// The publication point directory, or '' for the module root.
    pub dir: String,
    /// The file name.
    pub name: String,
    /// The exact bytes.
    pub bytes: Bytes,
    /// Seconds since the epoch at which the bytes last changed.
    pub mtime: i64,
    /// The SHA-256 of the bytes, as stored with them.
    pub hash: [u8; 32],
}

/// The hash stored with an object, or the object hashed where none is (a
/// row a migration has not reached cannot exist, so this is a guard
/// against a damaged column, not a path taken).
pub(crate) fn stored_hash(stored: Option<Vec<u8>>, bytes: &[u8]) -> [u8; 32] {
    stored
        .and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
        .unwrap_or_else(|| crate::sha256(bytes))
}

/// A published object as (directory, name, notAfter in seconds).
pub type DueObject = (String, String, i64);

/// The earliest manifest expiry; answered from the partial index
/// `objects_manifest_expiry` (schema version 13), whose condition it
/// repeats word for word.
const MANIFEST_EXPIRY: &str = "SELECT min(not_after) FROM objects WHERE name LIKE '%.mft'";

/// The earliest expiry of the other objects with a certificate; answered
/// from `objects_certified_expiry`.
const CERTIFIED_EXPIRY: &str =
    "SELECT min(not_after) FROM objects WHERE serial IS NOT NULL AND name NOT LIKE '%.mft'";

/// The objects due for reissue ([`Tx::objects_due`]): one of the two
/// conditions above each, read from both indexes.
const DUE: &str = "(name LIKE '%.mft' AND not_after < ?1)
     OR (serial IS NOT NULL AND name NOT LIKE '%.mft' AND not_after < ?2)";

/// Which objects of a publication point [`Tx::load_point`] reads, and how.
enum Load<'a> {
    /// All of them, whole.
    Whole,
    /// All of them, without the bytes a refresh does not read.
    Listing,
    /// Only those named.
    Named(&'a [&'a str]),
}

impl Tx<'_> {
    /// Loads the publication point of a CA's active key (`handle`), or
    /// of another of its keys ([`crate::key_dir`]).
    pub fn point(&self, handle: &str) -> Result<PublicationPoint> {
        self.load_point(handle, Load::Whole)
    }

    /// The publication point of `handle` for a new manifest and CRL
    /// ([`PublicationPoint::refresh`]) and its save, which read the bytes
    /// of no object but the old manifest: the others come with their
    /// names, stored hashes, serials and expiries and no bytes (a point of
    /// 50,000 child certificates is 75 MB of them). Nothing else may use
    /// such a point.
    pub fn point_for_refresh(&self, handle: &str) -> Result<PublicationPoint> {
        self.load_point(handle, Load::Listing)
    }

    /// The publication point of a CA with only the objects named `names`
    /// loaded (see [`PublicationPoint::restore_partial`]): for adding or
    /// replacing a few files of a large point without reading it all.
    pub fn point_partial(&self, handle: &str, names: &[&str]) -> Result<PublicationPoint> {
        self.load_point(handle, Load::Named(names))
    }

    fn load_point(&self, handle: &str, load: Load<'_>) -> Result<PublicationPoint> {
        let (mft, crl): (i64, i64) = match handle.split_once('@') {
            None => self.row(
                "SELECT next_manifest_number, next_crl_number FROM cas WHERE handle = ?1",
                args![handle],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?,
            Some((ca, key)) => self.row(
                "SELECT next_manifest_number, next_crl_number FROM ca_keys
                 WHERE ca = ?1 AND key_id = ?2",
                args![ca, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?,
        };
        let row = |r: &mut Row| {
            Ok((
                r.get::<String>(0)?,
                r.get::<Option<Vec<u8>>>(1)?.unwrap_or_default(),
                r.get::<Option<String>>(2)?,
                r.get::<i64>(3)?,
                r.get::<Option<Vec<u8>>>(4)?,
            ))
        };
        let rows: Vec<_> = match load {
            Load::Whole => self.rows(
                "SELECT name, bytes, serial, not_after, hash FROM objects WHERE dir = ?1",
                args![handle],
                row,
            )?,
            // The bytes where a hash must be made from them (a row from
            // before hashes were stored).
            Load::Listing => self.rows(
                "SELECT name,
                        CASE WHEN name LIKE '%.mft' OR hash IS NULL OR length(hash) <> 32
                             THEN bytes END,
                        serial, not_after, hash
                 FROM objects WHERE dir = ?1",
                args![handle],
                row,
            )?,
            // One primary-key lookup per name, not a scan of the point.
            Load::Named(names) => {
                let mut found = Vec::new();
                for name in names {
                    if let Some(r) = self.opt_row(
                        "SELECT name, bytes, serial, not_after, hash FROM objects WHERE dir = ?1 AND name = ?2",
                        args![handle, name],
                        row,
                    )? {
                        found.push(r);
                    }
                }
                found
            }
        };
        let mut objects = Vec::new();
        for (name, bytes, serial, not_after, hash) in rows {
            objects.push(PublishedObject {
                name,
                hash: stored_hash(hash, &bytes),
                bytes: Bytes::from(bytes),
                serial: serial.as_deref().map(parse_serial).transpose()?,
                not_after: from_secs(not_after)?,
            });
        }
        let number = |n: i64, what| u64::try_from(n).map_err(|_| corrupt(what, n));
        let (mft, crl) = (number(mft, "manifest number")?, number(crl, "CRL number")?);
        if matches!(load, Load::Named(_)) {
            // A partial point is never refreshed and its new revocations
            // are inserted one by one (`save_point`): it needs none loaded.
            return Ok(PublicationPoint::restore_partial(objects, mft, crl));
        }
        let revocations = self.rows(
            "SELECT serial, revoked_at, expires FROM revocations WHERE ca = ?1",
            args![handle],
            |r| {
                Ok(Revocation {
                    serial: parse_serial(&r.get::<String>(0)?)?,
                    revoked_at: from_secs(r.get(1)?)?,
                    expires: from_secs(r.get(2)?)?,
                })
            },
        )?;
        Ok(PublicationPoint::restore(objects, revocations, mft, crl))
    }

    /// How many files `dir` holds and how many bytes their names take:
    /// what the file list of its manifest is made of.
    pub fn listing(&self, dir: &str) -> Result<(u64, u64)> {
        let (files, name_bytes): (i64, i64) = self.row(
            "SELECT count(*), coalesce(sum(length(name)), 0) FROM objects WHERE dir = ?1",
            args![dir],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((files.max(0) as u64, name_bytes.max(0) as u64))
    }

    /// Writes the changes of a publication point.
    ///
    /// `now` becomes the mtime of changed files, or one second after their
    /// previous mtime if that is later, so every new version has a new mtime.
    pub fn save_point(&self, handle: &str, point: &PublicationPoint, now: Time) -> Result<()> {
        for name in point.removed() {
            self.exec(
                "DELETE FROM objects WHERE dir = ?1 AND name = ?2",
                args![handle, name],
            )?;
        }
        for obj in point.changed() {
            self.put_object(handle, obj, now)?;
        }
        // Revocations mostly only grow: insert what is new, and rewrite
        // the list only when expired entries were dropped from it.
        let (added, dropped) = point.revocation_changes();
        let rows: Vec<&Revocation> = if dropped {
            self.exec("DELETE FROM revocations WHERE ca = ?1", args![handle])?;
            point.revocations.iter().collect()
        } else {
            added.collect()
        };
        for r in rows {
            self.exec(
                "INSERT INTO revocations (ca, serial, revoked_at, expires) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
                args![
                    handle,
                    r.serial.to_string(),
                    to_secs(r.revoked_at),
                    to_secs(r.expires)
                ],
            )?;
        }
        let number = |n: u64| i64::try_from(n).map_err(|_| corrupt("number", n));
        let (mft, crl) = (
            number(point.next_manifest_number)?,
            number(point.next_crl_number)?,
        );
        match handle.split_once('@') {
            None => self.exec(
                "UPDATE cas SET next_manifest_number = ?2, next_crl_number = ?3,
                    point_version = point_version + 1 WHERE handle = ?1",
                args![handle, mft, crl],
            )?,
            Some((ca, key)) => self.exec(
                "UPDATE ca_keys SET next_manifest_number = ?3, next_crl_number = ?4,
                    point_version = point_version + 1 WHERE ca = ?1 AND key_id = ?2",
                args![ca, key, mft, crl],
            )?,
        };
        Ok(())
    }

    /// Writes one published file into `dir` ('' is the module root).
    pub fn put_object(&self, dir: &str, obj: &PublishedObject, now: Time) -> Result<()> {
        self.exec(
            "INSERT INTO objects (dir, name, bytes, serial, not_after, mtime, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (dir, name) DO UPDATE SET
                mtime = CASE WHEN objects.bytes = excluded.bytes THEN objects.mtime
                             WHEN excluded.mtime > objects.mtime THEN excluded.mtime
                             ELSE objects.mtime + 1 END,
                bytes = excluded.bytes,
                serial = excluded.serial,
                not_after = excluded.not_after,
                hash = excluded.hash",
            args![
                dir,
                obj.name,
                obj.bytes.as_ref(),
                obj.serial.map(|s| s.to_string()),
                to_secs(obj.not_after),
                to_secs(now),
                obj.hash.as_slice()
            ],
        )?;
        Ok(())
    }

    /// Deletes one published file of `dir` ('' is the module root).
    pub fn delete_object(&self, dir: &str, name: &str) -> Result<()> {
        self.exec(
            "DELETE FROM objects WHERE dir = ?1 AND name = ?2",
            args![dir, name],
        )?;
        Ok(())
    }

    /// Every published file, for writing the repository tree, with the
    /// directory it is published in (a key's point beside the active one
    /// shares its CA's directory: [`crate::published_dir`]). Two files of
    /// one path would be a broken invariant, and are refused.
    pub fn files(&self) -> Result<Vec<StoredFile>> {
        let mut files = self.rows(
            "SELECT dir, name, bytes, mtime, hash FROM objects ORDER BY dir, name",
            args![],
            |r| {
                let bytes = Bytes::from(r.get::<Vec<u8>>(2)?);
                Ok(StoredFile {
                    dir: r.get(0)?,
                    name: r.get(1)?,
                    hash: stored_hash(r.get(4)?, &bytes),
                    bytes,
                    mtime: r.get(3)?,
                })
            },
        )?;
        if files.iter().any(|f| f.dir.contains('@')) {
            for f in &mut files {
                f.dir = crate::published_dir(&f.dir).to_string();
            }
            files.sort_by(|a, b| (&a.dir, &a.name).cmp(&(&b.dir, &b.name)));
            if let Some(w) = files
                .windows(2)
                .find(|w| w[0].dir == w[1].dir && w[0].name == w[1].name)
            {
                return Err(corrupt(
                    "published path",
                    format!("{}/{}", w[0].dir, w[0].name),
                ));
            }
        }
        Ok(files)
    }

    /// The earliest expiry of the objects in `dir` that carry a
    /// certificate, the manifest and CRL aside (what a point renews), read
    /// without the objects' bytes.
    pub fn point_earliest_expiry(&self, dir: &str) -> Result<Option<Time>> {
        let secs: Option<i64> = self.row(
            "SELECT min(not_after) FROM objects WHERE dir = ?1 AND serial IS NOT NULL
             AND name NOT LIKE '%.mft' AND name NOT LIKE '%.crl'",
            args![dir],
            |r| r.get(0),
        )?;
        secs.map(from_secs).transpose()
    }

    /// The expiry (a manifest's nextUpdate) of the object `name` in `dir`,
    /// if it exists, read without its bytes.
    pub fn object_expiry(&self, dir: &str, name: &str) -> Result<Option<Time>> {
        let secs: Option<i64> = self.opt_row(
            "SELECT not_after FROM objects WHERE dir = ?1 AND name = ?2",
            args![dir, name],
            |r| r.get(0),
        )?;
        secs.map(from_secs).transpose()
    }

    /// The earliest expiry (seconds) of manifests, or of everything else
    /// that carries a certificate (CA certificates, ROAs).
    pub fn earliest_expiry(&self, manifests: bool) -> Result<Option<i64>> {
        let sql = if manifests {
            MANIFEST_EXPIRY
        } else {
            CERTIFIED_EXPIRY
        };
        self.row(sql, args![], |r| r.get(0))
    }

    /// Published objects whose reissue time has passed: manifests whose
    /// nextUpdate is before `mft_before`, or other objects with a
    /// certificate whose notAfter is before `other_before` (seconds). The
    /// count of them, and the first `limit` as (directory, name, notAfter),
    /// earliest first.
    pub fn objects_due(
        &self,
        mft_before: i64,
        other_before: i64,
        limit: i64,
    ) -> Result<(u64, Vec<DueObject>)> {
        let count: i64 = self.row(
            &format!("SELECT count(*) FROM objects WHERE {DUE}"),
            args![mft_before, other_before],
            |r| r.get(0),
        )?;
        let first = self.rows(
            &format!("SELECT dir, name, not_after FROM objects WHERE {DUE} ORDER BY not_after, dir, name LIMIT ?3"),
            args![mft_before, other_before, limit],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok((count as u64, first))
    }

    /// The number of published objects that expired before `at` (seconds).
    pub fn objects_expired(&self, at: i64) -> Result<u64> {
        let n: i64 = self.row(
            "SELECT count(*) FROM objects WHERE not_after < ?1",
            args![at],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// The number of published objects by file extension.
    pub fn object_counts(&self) -> Result<Vec<(String, u64)>> {
        self.rows(
            "SELECT substr(name, length(name) - 2), count(*) FROM objects
             GROUP BY substr(name, length(name) - 2) ORDER BY 1",
            args![],
            |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)? as u64)),
        )
    }

    /// Notes that `handle`'s manifest and CRL must be reissued before the
    /// next tree is written.
    pub fn mark_pending(&self, handle: &str) -> Result<()> {
        self.exec(
            "INSERT INTO pending_points (handle) VALUES (?1) ON CONFLICT DO NOTHING",
            args![handle],
        )?;
        Ok(())
    }

    /// The points whose manifest and CRL are owed.
    pub fn pending_points(&self) -> Result<Vec<String>> {
        self.rows(
            "SELECT handle FROM pending_points ORDER BY handle",
            args![],
            |r| r.get(0),
        )
    }

    /// Clears the pending mark of one point.
    pub fn clear_pending_of(&self, handle: &str) -> Result<()> {
        self.exec(
            "DELETE FROM pending_points WHERE handle = ?1",
            args![handle],
        )?;
        Ok(())
    }

    /// The version of a CA's publication point: it rises with every
    /// [`Self::save_point`], so work done on a point outside the write
    /// lock can check that nobody saved it meanwhile. `None`: no such CA.
    pub fn point_version(&self, handle: &str) -> Result<Option<i64>> {
        match handle.split_once('@') {
            None => self.opt_row(
                "SELECT point_version FROM cas WHERE handle = ?1",
                args![handle],
                |r| r.get(0),
            ),
            Some((ca, key)) => self.opt_row(
                "SELECT point_version FROM ca_keys WHERE ca = ?1 AND key_id = ?2",
                args![ca, key],
                |r| r.get(0),
            ),
        }
    }

    /// Clears every pending mark.
    pub fn clear_pending(&self) -> Result<()> {
        self.exec("DELETE FROM pending_points", args![])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// SQLite's plan for `sql` (parameters bound to 0), one line per step.
    fn plan(db: &Path, sql: &str) -> String {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let params = stmt.parameter_count();
        let zeros = vec![0i64; params];
        stmt.query_map(rusqlite::params_from_iter(zeros), |r| r.get::<_, String>(3))
            .unwrap()
            .map(|step| step.unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The scheduler asks for the next due time after every tree write:
    /// each question must be an index lookup, not a read of every
    /// object's row (bytes included).
    #[test]
    fn expiry_questions_use_the_expiry_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("anchorage.db");
        drop(crate::Store::create(&db).unwrap());
        for (sql, index) in [
            (MANIFEST_EXPIRY, "objects_manifest_expiry"),
            (CERTIFIED_EXPIRY, "objects_certified_expiry"),
        ] {
            let plan = plan(&db, sql);
            assert!(
                plan.contains(&format!("USING INDEX {index}")),
                "{sql}: {plan}"
            );
            assert!(!plan.contains("SCAN objects"), "{sql}: {plan}");
        }
        let due = plan(&db, &format!("SELECT count(*) FROM objects WHERE {DUE}"));
        for index in ["objects_manifest_expiry", "objects_certified_expiry"] {
            assert!(due.contains(index), "{due}");
        }
        assert!(!due.contains("SCAN objects"), "{due}");
    }
}
