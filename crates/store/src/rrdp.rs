//! RRDP state: the objects last published and the deltas listed.

use crate::sql::args;

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
        self.rows("SELECT uri, hash FROM rrdp_objects", args![], |r| {
            let (uri, hash): (String, Vec<u8>) = (r.get(0)?, r.get(1)?);
            let hash: [u8; 32] = hash.try_into().map_err(|_| corrupt("RRDP hash", &uri))?;
            Ok((uri, hash))
        })
    }

    /// Records what a new RRDP serial publishes and withdraws.
    pub fn rrdp_apply(&self, published: &[(String, [u8; 32])], withdrawn: &[String]) -> Result<()> {
        for uri in withdrawn {
            self.exec("DELETE FROM rrdp_objects WHERE uri = ?1", args![uri])?;
        }
        for (uri, hash) in published {
            self.exec(
                "INSERT INTO rrdp_objects (uri, hash) VALUES (?1, ?2)
                 ON CONFLICT (uri) DO UPDATE SET hash = excluded.hash",
                args![uri, hash.as_slice()],
            )?;
        }
        Ok(())
    }

    /// Forgets all RRDP state, for a new session.
    pub fn rrdp_reset(&self) -> Result<()> {
        self.exec("DELETE FROM rrdp_objects", args![])?;
        self.exec("DELETE FROM rrdp_deltas", args![])?;
        Ok(())
    }

    /// The deltas listed in the notification file, newest first.
    pub fn rrdp_deltas(&self) -> Result<Vec<DeltaRecord>> {
        self.rows(
            "SELECT serial, path, hash, size, created FROM rrdp_deltas ORDER BY serial DESC",
            args![],
            |r| {
                Ok(DeltaRecord {
                    serial: r.get::<i64>(0)? as u64,
                    path: r.get(1)?,
                    hash: r.get(2)?,
                    size: r.get::<i64>(3)? as u64,
                    created: r.get(4)?,
                })
            },
        )
    }

    /// Replaces the list of deltas.
    pub fn set_rrdp_deltas(&self, deltas: &[DeltaRecord]) -> Result<()> {
        self.exec("DELETE FROM rrdp_deltas", args![])?;
        for d in deltas {
            self.exec(
                "INSERT INTO rrdp_deltas (serial, path, hash, size, created) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![d.serial as i64, d.path, d.hash, d.size as i64, d.created],
            )?;
        }
        Ok(())
    }
}
