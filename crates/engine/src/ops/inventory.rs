//! The keys inventory: every key of the data directory, where it is kept,
//! and who uses it for what.

use std::collections::BTreeMap;

use anchorage_ca_core::ca::TA_HANDLE;
use rpki::crypto::KeyIdentifier;

use super::{Anchorage, Result};
use crate::report::KeyEntry;

impl Anchorage {
    /// Every key the store names (CA keys in every rollover state, the
    /// BPKI identity) and every key file nothing names, by key id.
    pub fn key_inventory(&mut self) -> Result<Vec<KeyEntry>> {
        let files: BTreeMap<KeyIdentifier, anchorage_keys::StoredKey> = self
            .ctx
            .keys
            .list()?
            .into_iter()
            .map(|k| (k.id, k))
            .collect();
        let tx = self.store.read_transaction()?;
        let mut named: Vec<(KeyIdentifier, &str, Option<String>, String)> = Vec::new();
        for ca in tx.cas()? {
            let role = if ca.handle == TA_HANDLE {
                "trust anchor"
            } else if ca.handle == self.ctx.online {
                "online CA"
            } else if ca.parent.is_none() {
                "CA under a remote parent"
            } else {
                "CA"
            };
            named.push((ca.key, "active", Some(ca.handle.clone()), role.into()));
            for k in tx.ca_keys(&ca.handle)? {
                named.push((
                    k.key,
                    k.state.as_str(),
                    Some(ca.handle.clone()),
                    role.into(),
                ));
            }
        }
        if let Some(bpki) = tx.meta("bpki_key")?.and_then(|k| k.parse().ok()) {
            named.push((bpki, "in use", None, "BPKI identity".into()));
        }
        let backend = |f: &anchorage_keys::StoredKey| f.backend.as_str();
        let created = |id: &KeyIdentifier| {
            let at = files.get(id)?.created?;
            Some(super::rfc3339(anchorage_ca_core::Time::new(
                chrono::DateTime::from(at),
            )))
        };
        let mut out: Vec<KeyEntry> = named
            .iter()
            .map(|(id, state, ca, role)| KeyEntry {
                key_id: id.to_string(),
                backend: files.get(id).map_or("missing", backend).into(),
                exportable: files.get(id).is_some_and(|f| f.exportable),
                state: (*state).into(),
                ca: ca.clone(),
                role: role.clone(),
                created: created(id),
            })
            .collect();
        for (id, f) in &files {
            if named.iter().any(|(n, ..)| n == id) {
                continue;
            }
            out.push(KeyEntry {
                key_id: id.to_string(),
                backend: backend(f).into(),
                exportable: f.exportable,
                state: "unused".into(),
                ca: None,
                role: "none".into(),
                created: created(id),
            });
        }
        Ok(out)
    }
}
