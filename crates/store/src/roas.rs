//! ROA configuration: the `roas` table.

use anchorage_ca_core::{IpPrefix, RoaPayload};
use rusqlite::params;

use crate::{Result, Tx, corrupt};

impl Tx<'_> {
    /// The ROA payloads of a CA, optionally only those of one ASN.
    pub fn roas(&self, handle: &str, asn: Option<u32>) -> Result<Vec<RoaPayload>> {
        self.roas_where(
            "WHERE ca = ?1 AND (?2 IS NULL OR asn = ?2)",
            params![handle, asn],
        )
    }

    /// Every configured ROA payload of every CA.
    pub fn all_roas(&self) -> Result<Vec<RoaPayload>> {
        self.roas_where("", params![])
    }

    fn roas_where(&self, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<RoaPayload>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "SELECT asn, prefix, max_length FROM roas {cond} ORDER BY asn, prefix, max_length"
        ))?;
        let rows = stmt.query_map(args, |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u8>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (asn, prefix, max_length) = row?;
            let prefix: IpPrefix = prefix.parse().map_err(|_| corrupt("prefix", &prefix))?;
            out.push(
                RoaPayload::new(asn, prefix, Some(max_length))
                    .map_err(|_| corrupt("maxLength", max_length))?,
            );
        }
        Ok(out)
    }

    /// Adds a ROA payload; false if it was already configured.
    pub fn insert_roa(&self, handle: &str, roa: &RoaPayload) -> Result<bool> {
        let n = self.exec(
            "INSERT OR IGNORE INTO roas (ca, asn, prefix, max_length) VALUES (?1, ?2, ?3, ?4)",
            params![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }

    /// Removes a ROA payload; false if it was not configured.
    pub fn delete_roa(&self, handle: &str, roa: &RoaPayload) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM roas WHERE ca = ?1 AND asn = ?2 AND prefix = ?3 AND max_length = ?4",
            params![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }
}
