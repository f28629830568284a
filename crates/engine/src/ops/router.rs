//! BGPsec router certificates (RFC 8209) of hosted CAs: a router's key,
//! from its PKCS#10 request, certified for one AS the CA holds, published
//! in the CA's point, reissued with its other objects and under a new CA
//! key, and revoked on request or when the CA loses the AS.

use anchorage_ca_core::ca::{self, TA_HANDLE};
use anchorage_ca_core::objects::Issuer;
use anchorage_ca_core::router::{
    RouterKey, router_file_key, router_file_name, router_key_from_csr,
};
use anchorage_ca_core::{CaError, CaRecord, PublicationPoint, PublishedObject, Time};
use anchorage_store::Tx;

use super::{Anchorage, Ctx, Result, load_ca, planned_tx, rfc3339};
use crate::audit::{Actor, Event, Journal};
use crate::error::AppError;

/// A certified router key, as `router-cert list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RouterCertInfo {
    /// The AS the router speaks for.
    pub asn: u32,
    /// The router key's SKI, upper-case hex.
    pub ski: String,
    /// The certificate's file name in the CA's point.
    pub file: String,
    /// When the certificate expires (RFC 3339); empty until published.
    pub not_after: String,
}

impl Anchorage {
    /// Certifies the router key of the PKCS#10 request `csr` for `asn`,
    /// which CA `handle` must hold, and publishes the certificate. A key
    /// already certified for that AS changes nothing. Returns the
    /// certificate and what the audit log recorded (nothing for a no-op).
    pub fn router_cert_add(
        &mut self,
        actor: &Actor,
        handle: &str,
        asn: u32,
        csr: &[u8],
    ) -> Result<(RouterCertInfo, Vec<Event>)> {
        let router = router_key_from_csr(asn, csr)?;
        let ca_lock = self.ctx.ca_locks.of(handle);
        let _this_ca = ca_lock.lock().unwrap_or_else(|p| p.into_inner());
        let planned = {
            let tx = self.store.read_transaction()?;
            let ca = router_ca(&self.ctx, &tx, handle)?;
            if !ca.resources.asns.contains_value(asn) {
                return Err(CaError::AsnNotHeld {
                    ca: handle.into(),
                    asn,
                    resources: ca.resources.to_string(),
                }
                .into());
            }
            if tx.router_keys(handle)?.contains(&router) {
                return Ok((router_info(&tx, handle, &router)?, Vec::new()));
            }
            ca
        };
        let now = self.ctx.clock.now();
        let obj = self
            .ctx
            .sign_router(&self.ctx.issuer(&planned)?, &router, now)?;
        let Some((tx, ca)) = planned_tx(&mut self.store, None, &planned)? else {
            return Err(AppError::Busy(format!(
                "the certificate of CA '{handle}' changed meanwhile; try again"
            )));
        };
        if !tx.put_router_key(handle, &router)? {
            // Certified by another process meanwhile: that one stands.
            drop(tx);
            let tx = self.store.read_transaction()?;
            return Ok((router_info(&tx, handle, &router)?, Vec::new()));
        }
        self.ctx
            .replace_in_point(&tx, &ca, vec![(router.file_name(), Some(obj))], now)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::RouterCertAdded {
                ca: handle.into(),
                asn,
                ski: router.ski(),
            },
        )?;
        tx.commit()?;
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        let tx = self.store.read_transaction()?;
        Ok((router_info(&tx, handle, &router)?, journal.into_events()))
    }

    /// Revokes and withdraws the router certificate of `asn` and key
    /// `ski` of CA `handle`.
    pub fn router_cert_revoke(
        &mut self,
        actor: &Actor,
        handle: &str,
        asn: u32,
        ski: &str,
    ) -> Result<Vec<Event>> {
        let ca_lock = self.ctx.ca_locks.of(handle);
        let _this_ca = ca_lock.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let ca = router_ca(&self.ctx, &tx, handle)?;
        if !tx.delete_router_key(handle, asn, ski)? {
            return Err(AppError::NoSuchRouterCert {
                ca: handle.into(),
                asn,
                ski: ski.to_ascii_uppercase(),
            });
        }
        self.ctx
            .replace_in_point(&tx, &ca, vec![(router_file_name(asn, ski), None)], now)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::RouterCertRevoked {
                ca: handle.into(),
                asn,
                ski: ski.to_ascii_uppercase(),
                out_of_resources: false,
            },
        )?;
        tx.commit()?;
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok(journal.into_events())
    }

    /// The router certificates of CA `handle`, by AS and SKI.
    pub fn router_certs(&mut self, handle: &str) -> Result<Vec<RouterCertInfo>> {
        let tx = self.store.read_transaction()?;
        load_ca(&tx, handle)?;
        tx.router_keys(handle)?
            .iter()
            .map(|r| router_info(&tx, handle, r))
            .collect()
    }
}

/// CA `handle`, which may certify router keys: any but the trust anchor.
fn router_ca(ctx: &Ctx, tx: &Tx<'_>, handle: &str) -> Result<CaRecord> {
    if handle == TA_HANDLE {
        return Err(AppError::TaOffLimits {
            online: ctx.online.clone(),
            what: "a router certificate".into(),
        });
    }
    load_ca(tx, handle)
}

impl Ctx {
    /// Replaces (with `Some`) or withdraws (with `None`) the named files
    /// of CA `ca`'s point and makes the change visible: its manifest and
    /// CRL reissued now, or owed to `serve`'s next group publication (then
    /// only those files are loaded); then saves the point.
    pub(super) fn replace_in_point(
        &self,
        tx: &Tx<'_>,
        ca: &CaRecord,
        files: Vec<(String, Option<PublishedObject>)>,
        now: Time,
    ) -> Result<()> {
        let mut point = if self.deferred {
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            tx.point_partial(&ca.handle, &names)?
        } else {
            tx.point(&ca.handle)?
        };
        let new: Vec<&str> = files
            .iter()
            .filter(|(name, obj)| obj.is_some() && !point.objects.contains_key(name))
            .map(|(name, _)| name.as_str())
            .collect();
        super::manifest_room(tx, &ca.handle, &new)?;
        for (name, obj) in files {
            match obj {
                Some(obj) => point.publish(obj, now),
                None => {
                    point.withdraw(&name, now);
                }
            }
        }
        if self.deferred {
            tx.mark_pending(&ca.handle)?;
        } else {
            let issuer = self.issuer(ca)?;
            point.refresh(&*self.keys, &issuer, now, &self.timing)?;
        }
        tx.save_point(&ca.handle, &point, now)?;
        Ok(())
    }

    /// Signs the router certificate of `router` under `issuer`.
    pub(super) fn sign_router(
        &self,
        issuer: &Issuer,
        router: &RouterKey,
        now: Time,
    ) -> Result<PublishedObject> {
        Ok(ca::issue_router_cert(
            &*self.keys,
            issuer,
            router,
            now,
            &self.timing,
        )?)
    }

    /// Publishes the router certificate named `file` in CA `ca`'s `point`
    /// again, if the store still certifies its key; withdraws it if not.
    pub(super) fn put_router(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        issuer: &Issuer,
        file: &str,
        now: Time,
    ) -> Result<()> {
        let certified = tx
            .router_keys(&ca.handle)?
            .into_iter()
            .find(|r| r.file_name() == file);
        match certified {
            Some(router) => point.publish(self.sign_router(issuer, &router, now)?, now),
            None => {
                point.withdraw(file, now);
            }
        }
        Ok(())
    }

    /// Revokes the router certificates of CA `ca` for ASes it no longer
    /// holds, recording each.
    pub(super) fn shrink_router_keys(
        &self,
        tx: &Tx<'_>,
        journal: &mut Journal<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        now: Time,
    ) -> Result<()> {
        for router in tx.router_keys(&ca.handle)? {
            if ca.resources.asns.contains_value(router.asn) {
                continue;
            }
            let ski = router.ski();
            tx.delete_router_key(&ca.handle, router.asn, &ski)?;
            point.withdraw(&router.file_name(), now);
            journal.record(
                tx,
                Event::RouterCertRevoked {
                    ca: ca.handle.clone(),
                    asn: router.asn,
                    ski,
                    out_of_resources: true,
                },
            )?;
        }
        Ok(())
    }
}

/// The certificate of `router` in CA `handle`'s point, as listed.
fn router_info(tx: &Tx<'_>, handle: &str, router: &RouterKey) -> Result<RouterCertInfo> {
    let file = router.file_name();
    let not_after = tx
        .point_partial(handle, &[file.as_str()])?
        .objects
        .get(&file)
        .map(|o| rfc3339(o.not_after))
        .unwrap_or_default();
    Ok(RouterCertInfo {
        asn: router.asn,
        ski: router.ski(),
        file,
        not_after,
    })
}

/// Whether `name` is a router certificate's file (see [`router_file_key`]).
pub(super) fn is_router_file(name: &str) -> bool {
    router_file_key(name).is_some()
}
