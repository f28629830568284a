//! RRDP state: the objects last published and the deltas listed.

use rusqlite::params;

use crate::{Result, Tx, corrupt};

/// An RRDP delta file as the store keeps it (the RRDP server's own
/// record, converted by the engine: the store does not depend on it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaRecord {
    /// The serial the delta leads to.
    pub serial: u64,
    /// Its path below the RRDP base URI.
    pub path: String,
    /// SHA-256 of the file, hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was written, seconds since the epoch.
    pub created: i64,
}

impl Tx<'_> {
    /// The URIs and hashes RRDP last published.
    pub fn rrdp_objects(&self) -> Result<Vec<(String, [u8; 32])>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT uri, hash FROM rrdp_objects")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (uri, hash) = row?;
            let hash: [u8; 32] = hash.try_into().map_err(|_| corrupt("RRDP hash", &uri))?;
            out.push((uri, hash));
        }
        Ok(out)
    }

    /// Records what a new RRDP serial publishes and withdraws.
    pub fn rrdp_apply(&self, published: &[(String, [u8; 32])], withdrawn: &[String]) -> Result<()> {
        for uri in withdrawn {
            self.tx
                .execute("DELETE FROM rrdp_objects WHERE uri = ?1", [uri])?;
        }
        for (uri, hash) in published {
            self.exec(
                "INSERT INTO rrdp_objects (uri, hash) VALUES (?1, ?2)
                 ON CONFLICT (uri) DO UPDATE SET hash = excluded.hash",
                params![uri, hash.as_slice()],
            )?;
        }
        Ok(())
    }

    /// Forgets all RRDP state, for a new session.
    pub fn rrdp_reset(&self) -> Result<()> {
        self.exec("DELETE FROM rrdp_objects", [])?;
        self.exec("DELETE FROM rrdp_deltas", [])?;
        Ok(())
    }

    /// The deltas listed in the notification file, newest first.
    pub fn rrdp_deltas(&self) -> Result<Vec<DeltaRecord>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT serial, path, hash, size, created FROM rrdp_deltas ORDER BY serial DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeltaRecord {
                serial: r.get::<_, i64>(0)? as u64,
                path: r.get(1)?,
                hash: r.get(2)?,
                size: r.get::<_, i64>(3)? as u64,
                created: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Replaces the list of deltas.
    pub fn set_rrdp_deltas(&self, deltas: &[DeltaRecord]) -> Result<()> {
        self.exec("DELETE FROM rrdp_deltas", [])?;
        for d in deltas {
            self.exec(
                "INSERT INTO rrdp_deltas (serial, path, hash, size, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![d.serial as i64, d.path, d.hash, d.size as i64, d.created],
            )?;
        }
        Ok(())
    }
}
