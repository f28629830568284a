//! ASPA configuration and certified router keys: the `aspas` and
//! `router_keys` tables.

use crate::sql::{Value, args};
use anchorage_ca_core::AspaDefinition;
use anchorage_ca_core::router::RouterKey;

use crate::{Result, Tx, corrupt};

impl Tx<'_> {
    /// The ASPAs of a CA, optionally only that of one customer AS, by
    /// customer AS.
    pub fn aspas(&self, handle: &str, customer: Option<u32>) -> Result<Vec<AspaDefinition>> {
        self.aspas_where(
            "WHERE ca = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR customer = ?2)",
            args![handle, customer],
        )
    }

    /// The ASPAs of CA `root` and of every CA below it, however deep (as
    /// [`Tx::roas_under`]).
    pub fn aspas_under(&self, root: &str) -> Result<Vec<AspaDefinition>> {
        self.aspas_where(crate::roas::UNDER_ROOT, args![root])
    }

    fn aspas_where(&self, cond: &str, args: &[Value]) -> Result<Vec<AspaDefinition>> {
        let rows = self.rows(
            &format!("SELECT customer, providers FROM aspas {cond} ORDER BY customer, ca"),
            args,
            |r| Ok((r.get::<u32>(0)?, r.get::<String>(1)?)),
        )?;
        rows.into_iter()
            .map(|(customer, text)| {
                let providers = text
                    .split(',')
                    .map(|p| p.parse::<u32>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|_| corrupt("ASPA providers", &text))?;
                let aspa = AspaDefinition::new(customer, &providers)
                    .map_err(|_| corrupt("ASPA providers", &text))?;
                if aspa.providers != providers {
                    return Err(corrupt("ASPA providers", &text));
                }
                Ok(aspa)
            })
            .collect()
    }

    /// Sets the ASPA of its customer AS (replacing the one there was);
    /// false if exactly this one was already configured.
    pub fn put_aspa(&self, handle: &str, aspa: &AspaDefinition) -> Result<bool> {
        let text: Vec<String> = aspa.providers.iter().map(u32::to_string).collect();
        let n = self.exec(
            "INSERT INTO aspas (ca, customer, providers) VALUES (?1, ?2, ?3)
             ON CONFLICT (ca, customer) DO UPDATE SET providers = excluded.providers
             WHERE aspas.providers <> excluded.providers",
            args![handle, aspa.customer, text.join(",")],
        )?;
        Ok(n == 1)
    }

    /// Removes the ASPA of `customer`; false if there was none.
    pub fn delete_aspa(&self, handle: &str, customer: u32) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM aspas WHERE ca = ?1 AND customer = ?2",
            args![handle, customer],
        )?;
        Ok(n == 1)
    }

    /// The router keys CA `handle` certifies, by AS and SKI.
    pub fn router_keys(&self, handle: &str) -> Result<Vec<RouterKey>> {
        self.router_keys_where("WHERE ca = ?1", args![handle])
    }

    /// The router keys CA `root` and every CA below it certify (as
    /// [`Tx::aspas_under`]).
    pub fn router_keys_under(&self, root: &str) -> Result<Vec<RouterKey>> {
        self.router_keys_where(crate::roas::UNDER_ROOT, args![root])
    }

    fn router_keys_where(&self, cond: &str, args: &[Value]) -> Result<Vec<RouterKey>> {
        let rows = self.rows(
            &format!("SELECT asn, spki FROM router_keys {cond} ORDER BY asn, ski"),
            args,
            |r| Ok((r.get::<u32>(0)?, r.get::<Vec<u8>>(1)?)),
        )?;
        rows.into_iter()
            .map(|(asn, spki)| {
                let key = rpki::crypto::PublicKey::decode(spki.as_slice())
                    .map_err(|_| corrupt("router key", asn))?;
                Ok(RouterKey { asn, key })
            })
            .collect()
    }

    /// Records a router key as certified; false if it already was.
    pub fn put_router_key(&self, handle: &str, router: &RouterKey) -> Result<bool> {
        let n = self.exec(
            "INSERT INTO router_keys (ca, asn, ski, spki) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            args![
                handle,
                router.asn,
                router.ski(),
                router.key.to_info_bytes().to_vec()
            ],
        )?;
        Ok(n == 1)
    }

    /// Removes a certified router key; false if there was none.
    pub fn delete_router_key(&self, handle: &str, asn: u32, ski: &str) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM router_keys WHERE ca = ?1 AND asn = ?2 AND ski = ?3",
            args![handle, asn, ski.to_ascii_uppercase()],
        )?;
        Ok(n == 1)
    }
}
