//! ROA configuration: the `roas` table.

use crate::sql::{Value, args};
use anchorage_ca_core::{IpPrefix, RoaPayload};

use crate::{Result, Tx, corrupt};

/// The condition on `ca` that selects CA `?1` and every CA below it,
/// however deep: the rows a validation from the trust anchor reaches when
/// `?1` is the trust anchor (CAs under a remote parent are not below it).
pub(crate) const UNDER_ROOT: &str = "WHERE ca IN (WITH RECURSIVE below(h) AS (
                 SELECT handle FROM cas WHERE handle = ?1
                 UNION ALL SELECT c.handle FROM cas c JOIN below ON c.parent = below.h)
             SELECT h FROM below)";

impl Tx<'_> {
    /// The ROA payloads of a CA, optionally only those of one ASN.
    pub fn roas(&self, handle: &str, asn: Option<u32>) -> Result<Vec<RoaPayload>> {
        self.roas_where(
            "WHERE ca = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR asn = ?2)",
            args![handle, asn],
        )
    }

    /// Every configured ROA payload of every CA.
    pub fn all_roas(&self) -> Result<Vec<RoaPayload>> {
        self.roas_where("", args![])
    }

    /// The ROA payloads of CA `root` and of every CA below it, however
    /// deep (not those of CAs under a remote parent, which another trust
    /// anchor reaches).
    pub fn roas_under(&self, root: &str) -> Result<Vec<RoaPayload>> {
        self.roas_where(crate::roas::UNDER_ROOT, args![root])
    }

    fn roas_where(&self, cond: &str, args: &[Value]) -> Result<Vec<RoaPayload>> {
        let rows = self.rows(
            &format!(
                "SELECT asn, prefix, max_length FROM roas {cond} ORDER BY asn, prefix, max_length"
            ),
            args,
            |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?, r.get::<u8>(2)?)),
        )?;
        let mut out = Vec::new();
        for (asn, prefix, max_length) in rows {
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
            "INSERT INTO roas (ca, asn, prefix, max_length) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            args![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }

    /// Removes a ROA payload; false if it was not configured.
    pub fn delete_roa(&self, handle: &str, roa: &RoaPayload) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM roas WHERE ca = ?1 AND asn = ?2 AND prefix = ?3 AND max_length = ?4",
            args![handle, roa.asn, roa.prefix.to_string(), roa.max_length],
        )?;
        Ok(n == 1)
    }
}
