//! CAs: the `cas` table's rows, with their certificates and resources.

use crate::sql::{Row, args};
use anchorage_ca_core::CaRecord;
use bytes::Bytes;
use rpki::crypto::KeyIdentifier;
use rpki::repository::x509::Time;

use crate::{Result, Tx, corrupt, from_secs, parse_resources, parse_serial, to_secs};

fn ca_from_row(r: &mut Row) -> Result<CaRecord> {
    let (handle, parent, resources, key): (String, Option<String>, String, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let (cert, serial, not_after, cert_uri): (Vec<u8>, String, i64, Option<String>) =
        (r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
    Ok(CaRecord {
        resources: parse_resources("resources", &resources)?,
        key: key
            .parse::<KeyIdentifier>()
            .map_err(|_| corrupt("key identifier", &key))?,
        cert: Bytes::from(cert),
        cert_serial: parse_serial(&serial)?,
        cert_not_after: from_secs(not_after)?,
        handle,
        parent,
        cert_uri,
    })
}

const CA_COLUMNS: &str =
    "handle, parent, resources, key_id, cert, cert_serial, cert_not_after, cert_uri";

impl Tx<'_> {
    /// Loads a CA by handle.
    pub fn ca(&self, handle: &str) -> Result<Option<CaRecord>> {
        self.opt_row(
            &format!("SELECT {CA_COLUMNS} FROM cas WHERE handle = ?1"),
            args![handle],
            ca_from_row,
        )
    }

    /// Loads all CAs in creation order, so parents come before children.
    pub fn cas(&self) -> Result<Vec<CaRecord>> {
        self.rows(
            &format!("SELECT {CA_COLUMNS} FROM cas ORDER BY rowid"),
            args![],
            ca_from_row,
        )
    }

    /// Handles of the CAs whose parent is `handle`.
    pub fn children(&self, handle: &str) -> Result<Vec<String>> {
        self.rows(
            "SELECT handle FROM cas WHERE parent = ?1 ORDER BY handle",
            args![handle],
            |r| r.get(0),
        )
    }

    /// Inserts a new CA with an empty publication point state.
    pub fn insert_ca(&self, ca: &CaRecord, now: Time) -> Result<()> {
        self.exec(
            "INSERT INTO cas (handle, parent, resources, key_id, cert, cert_serial,
                              cert_not_after, next_manifest_number, next_crl_number, created_at,
                              cert_uri)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 1, ?8, ?9)",
            args![
                ca.handle,
                ca.parent,
                ca.resources.to_string(),
                ca.key.to_string(),
                ca.cert.as_ref(),
                ca.cert_serial.to_string(),
                to_secs(ca.cert_not_after),
                to_secs(now),
                ca.cert_uri,
            ],
        )?;
        Ok(())
    }

    /// Stores a CA's new certificate and resources.
    pub fn update_ca(&self, ca: &CaRecord) -> Result<()> {
        self.exec(
            "UPDATE cas SET resources = ?2, key_id = ?3, cert = ?4, cert_serial = ?5,
                            cert_not_after = ?6, cert_uri = ?7 WHERE handle = ?1",
            args![
                ca.handle,
                ca.resources.to_string(),
                ca.key.to_string(),
                ca.cert.as_ref(),
                ca.cert_serial.to_string(),
                to_secs(ca.cert_not_after),
                ca.cert_uri,
            ],
        )?;
        Ok(())
    }

    /// Deletes a CA, its ROA, ASPA and router key configuration and its
    /// revocations.
    ///
    /// Its published objects must have been withdrawn by saving its point.
    pub fn delete_ca(&self, handle: &str) -> Result<()> {
        for key in self.ca_keys(handle)? {
            self.delete_ca_key(handle, &key.key)?;
        }
        for sql in [
            "DELETE FROM roas WHERE ca = ?1",
            "DELETE FROM contacts WHERE ca = ?1",
            "DELETE FROM aspas WHERE ca = ?1",
            "DELETE FROM router_keys WHERE ca = ?1",
            "DELETE FROM revocations WHERE ca = ?1",
            "DELETE FROM objects WHERE dir = ?1",
            "DELETE FROM cas WHERE handle = ?1",
        ] {
            self.exec(sql, args![handle])?;
        }
        Ok(())
    }
}
