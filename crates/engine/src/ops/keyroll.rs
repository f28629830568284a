//! Planned key rollover of a CA (RFC 6489 §2), under a parent of this
//! instance or a remote one (RFC 6492).
//!
//! * **Start**: a new key; its certificate from the parent (published in
//!   the parent's point beside the current one); its own publication
//!   point, in the CA's directory, with an empty manifest and CRL. Relying
//!   parties fetch and cache the new key's certificate, manifest and CRL
//!   during the staging period while every product stays under the
//!   current key: no VRP changes.
//! * **Activate**, once the staging period has passed: every product
//!   (ROAs, child CA certificates, delegated children's certificates)
//!   reissued under the new key, the old key's certificate revoked by
//!   the parent, and the old key's manifest, CRL and products withdrawn,
//!   in one transaction and one tree: no tree shows a product missing.
//!   The products are signed outside the write lock (on all cores); the
//!   commit checks that the CA's point did not change since they were
//!   planned, as a ROA batch does.
//! * **Status**: every key, its state, and the next step with its due
//!   time; `serve` activates due rollovers by itself.

use anchorage_ca_core::aspa::aspa_file_asn;
use anchorage_ca_core::ca::{self, ChildCa, TA_HANDLE};
use anchorage_ca_core::objects::{Issuer, SubjectInfoAccess};
use anchorage_ca_core::point::PublishedObject;
use anchorage_ca_core::roa::{canonical_payloads, roa_file_asn};
use anchorage_ca_core::router::{RouterKey, router_file_key};
use anchorage_ca_core::{AspaDefinition, CaRecord, ResourceSet, RoaPayload, Time};
use anchorage_store::{CaKey, KeyState, Tx, key_dir};
use chrono::TimeDelta;
use rpki::crypto::{KeyIdentifier, PublicKey, Signer};
use rpki::repository::Cert;

use super::{Anchorage, Ctx, POOL_SHARE, Result, load_ca, on_all_cores, rfc3339};
use crate::AppError;
use crate::audit::{Actor, Event, Journal};
use crate::fault;
use crate::report::{KeyInfo, KeyrollStatus};

/// The staging period when none is configured: RFC 6489 §2 asks for at
/// least 24 hours, long enough for relying parties to fetch the new
/// key's certificate, manifest and CRL before anything moves to it.
pub const DEFAULT_STAGING: TimeDelta = TimeDelta::hours(24);

/// The longest staging period accepted: a year.
pub const MAX_STAGING: TimeDelta = TimeDelta::days(365);

/// Rolling every CA key on a schedule (`keyroll_every_days` of `serve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyrollPolicy {
    /// A key older than this is rolled.
    pub every: TimeDelta,
    /// Rollovers in progress at once, at most (those started by hand
    /// included): what spreads a large number of due CAs over time.
    pub max_in_progress: usize,
}

/// One product of the CA, to be reissued under the new key.
enum Product {
    /// The ROA of one origin AS.
    Roa { asn: u32, payloads: Vec<RoaPayload> },
    /// A hosted child's certificate for its active key.
    Child(CaRecord),
    /// A hosted child's certificate for another of its keys.
    ChildKey(CaRecord, CaKey),
    /// The CA's Ghostbusters record (RFC 6493), with its vCard.
    Contact(String),
    /// The ASPA of one customer AS.
    Aspa(AspaDefinition),
    /// A BGPsec router certificate (RFC 8209).
    Router(RouterKey),
    /// A delegated child's certificate (RFC 6492), with the key and SIA
    /// it asked for.
    Delegated {
        child: String,
        key: PublicKey,
        resources: ResourceSet,
        sia: SubjectInfoAccess,
        req_limit: String,
    },
}

/// Who certifies a rolled CA.
enum Parent {
    /// A CA of this instance: it certifies the new key and revokes the
    /// old one in the same transactions.
    Local(Box<CaRecord>),
    /// A remote parent (RFC 6492): the new key's certificate comes from an
    /// issue exchange before the start commits; the old key stays, with
    /// an empty manifest and CRL, until a revoke exchange after the
    /// activation was published.
    Remote,
}

/// What an activation read from a snapshot.
struct ActivationPlan {
    ca: CaRecord,
    new: CaKey,
    /// The CA's point version: the commit checks it did not move.
    version: i64,
    products: Vec<(Product, Option<PublishedObject>)>,
}

fn refused(ca: &str, why: impl Into<String>) -> AppError {
    AppError::Keyroll {
        ca: ca.into(),
        why: why.into(),
    }
}

impl Ctx {
    /// The CA `handle` if its key can be rolled here, with its parent.
    fn rollable(&self, tx: &Tx<'_>, handle: &str) -> Result<(CaRecord, Parent)> {
        if handle == TA_HANDLE {
            return Err(refused(
                handle,
                "the trust anchor's key is rolled with RFC 9691 TAK objects: anchorage ta keyroll",
            ));
        }
        let ca = load_ca(tx, handle)?;
        let parent = match &ca.parent {
            Some(parent) => Parent::Local(Box::new(load_ca(tx, parent)?)),
            None => {
                super::parent::parent_peer(tx, handle)?;
                Parent::Remote
            }
        };
        Ok((ca, parent))
    }

    /// Publishes `obj` in the point of `owner` (a CA's active key) and
    /// finishes the point: in `serve`, only that file is loaded and the
    /// manifest and CRL are owed; otherwise they are signed now.
    fn put_in_point(
        &self,
        tx: &Tx<'_>,
        owner: &CaRecord,
        obj: Option<PublishedObject>,
        withdraw: Option<&str>,
        now: Time,
    ) -> Result<()> {
        let names: Vec<&str> = obj
            .as_ref()
            .map(|o| o.name.as_str())
            .into_iter()
            .chain(withdraw)
            .collect();
        let mut point = if self.deferred {
            tx.point_partial(&owner.handle, &names)?
        } else {
            tx.point(&owner.handle)?
        };
        if let Some(obj) = obj {
            point.publish(obj, now);
        }
        if let Some(name) = withdraw {
            point.withdraw(name, now);
        }
        if self.deferred {
            tx.save_point(&owner.handle, &point, now)?;
            tx.mark_pending(&owner.handle)?;
            Ok(())
        } else {
            let issuer = self.issuer(owner)?;
            self.finish_point(tx, &owner.handle, &mut point, &issuer, now)
        }
    }

    /// Issues `child`'s certificate for its other key `key` again by
    /// `issuer` (its parent), with the child's current resources, and
    /// publishes it in `point`.
    pub(super) fn recertify_key(
        &self,
        tx: &Tx<'_>,
        point: &mut anchorage_ca_core::PublicationPoint,
        child: &CaRecord,
        key: &mut CaKey,
        issuer: &Issuer,
        now: Time,
    ) -> Result<()> {
        let obj = self.child_key_cert(issuer, child, &key.key, now)?;
        set_cert(key, &obj);
        tx.update_ca_key_cert(key)?;
        point.publish(obj, now);
        Ok(())
    }

    /// The certificate `issuer` issues to hosted CA `child` for `key`
    /// (its active key or another), with the child's resources.
    pub(super) fn child_key_cert(
        &self,
        issuer: &Issuer,
        child: &CaRecord,
        key: &KeyIdentifier,
        now: Time,
    ) -> Result<PublishedObject> {
        let public = self.issuer_key(key)?;
        Ok(ca::issue_ca_cert(
            &*self.keys,
            &self.layout,
            issuer,
            ChildCa {
                handle: &child.handle,
                key: &public,
                resources: &child.resources,
            },
            now,
            &self.timing,
        )?)
    }
}

fn set_cert(key: &mut CaKey, obj: &PublishedObject) {
    key.cert = obj.bytes.clone();
    key.cert_serial = obj.serial.expect("a CA certificate has a serial");
    key.cert_not_after = obj.not_after;
}

impl Anchorage {
    /// Sets the staging period of rollovers started without one.
    pub fn set_keyroll_staging(&mut self, staging: TimeDelta) {
        self.ctx.keyroll_staging = staging;
    }

    /// Sets the policy [`Self::run_due_keyrolls`] starts rollovers by.
    pub fn set_keyroll_policy(&mut self, policy: Option<KeyrollPolicy>) {
        self.ctx.keyroll_policy = policy;
    }

    /// Starts a key rollover of CA `handle` (RFC 6489 §2): a new
    /// key, certified by the parent, publishing an empty manifest and CRL
    /// until it is activated after `staging` (default: the configured
    /// staging period). Refused while a rollover of the CA is in progress.
    pub fn keyroll_start(
        &mut self,
        actor: &Actor,
        handle: &str,
        staging: Option<TimeDelta>,
    ) -> Result<(KeyrollStatus, Vec<Event>)> {
        let staging = staging.unwrap_or(self.ctx.keyroll_staging);
        if staging < TimeDelta::zero() || staging > MAX_STAGING {
            return Err(refused(
                handle,
                format!(
                    "the staging period must be between 0 and {} hours",
                    MAX_STAGING.num_hours()
                ),
            ));
        }
        let check = |ctx: &Ctx, tx: &Tx<'_>| -> Result<(CaRecord, Parent)> {
            let pair = ctx.rollable(tx, handle)?;
            if let Some(k) = tx.ca_keys(handle)?.first() {
                return Err(refused(
                    handle,
                    format!(
                        "a rollover is in progress: key {} is {}; it must end first",
                        k.key,
                        k.state.as_str()
                    ),
                ));
            }
            Ok(pair)
        };
        // The key is made after a snapshot check, so a refused start
        // leaves none behind; the transaction checks again.
        let (_, parent) = check(&self.ctx, &self.store.read_transaction()?)?;
        let key = self.ctx.keys.generate_class(anchorage_keys::KeyClass::Ca)?;
        let keys = self.ctx.keys.clone();
        let unused_key = |e: AppError| {
            let _ = keys.destroy_key(&key);
            e
        };
        let now = self.ctx.clock.now();
        // Under a remote parent the certificate comes first, from an
        // exchange that holds no lock.
        let remote = match parent {
            Parent::Local(_) => None,
            Parent::Remote => Some(self.remote_issue(handle, &key, now).map_err(unused_key)?),
        };
        let committed = (|| -> Result<Journal<'_>> {
            let tx = self.store.transaction()?;
            let (ca, parent) = check(&self.ctx, &tx)?;
            let mut new = CaKey {
                ca: handle.into(),
                key,
                state: KeyState::New,
                cert: Default::default(),
                cert_serial: ca.cert_serial,
                cert_not_after: now,
                cert_uri: None,
                started: now,
                due: now + staging,
            };
            match (parent, &remote) {
                (Parent::Local(parent), _) => {
                    let cert =
                        self.ctx
                            .child_key_cert(&self.ctx.issuer(&parent)?, &ca, &key, now)?;
                    set_cert(&mut new, &cert);
                    tx.insert_ca_key(&new)?;
                    self.ctx.put_in_point(&tx, &parent, Some(cert), None, now)?;
                }
                (Parent::Remote, Some(reply)) => {
                    self.ctx
                        .accept_replies(&tx, &reply.peer, &reply.seen, now)?;
                    let (uri, cert) = &reply.value;
                    new.cert = cert.to_captured().into_bytes();
                    new.cert_serial = cert.serial_number();
                    new.cert_not_after = cert.validity().not_after();
                    new.cert_uri = Some(uri.to_string());
                    tx.insert_ca_key(&new)?;
                }
                (Parent::Remote, None) => {
                    return Err(refused(
                        handle,
                        "its parent changed during the start; try again",
                    ));
                }
            }
            // The new key's point: an empty manifest and CRL.
            let dir = new.dir();
            if self.ctx.deferred {
                tx.mark_pending(&dir)?;
            } else {
                let mut point = tx.point(&dir)?;
                let issuer = self.ctx.issuer(&new.as_record(&ca))?;
                self.ctx.finish_point(&tx, &dir, &mut point, &issuer, now)?;
            }
            let mut journal = Journal::new(actor, now);
            journal.record(
                &tx,
                Event::KeyrollStarted {
                    ca: handle.into(),
                    key: key.to_string(),
                    due: rfc3339(new.due),
                },
            )?;
            fault::point("keyroll-start-before-commit");
            tx.commit()?;
            Ok(journal)
        })();
        let journal = match committed {
            Ok(journal) => journal,
            Err(e) => {
                // The remote parent certified a key that will never be
                // used: have it revoked (best effort; the parent's next
                // list shows it otherwise).
                if remote.is_some()
                    && let Err(revoke) = self.remote_revoke(handle, &key, now)
                {
                    tracing::warn!(ca = %handle, key = %key, error = %revoke, "the unused new key could not be revoked at the parent");
                }
                return Err(unused_key(e));
            }
        };
        fault::point("after-commit");
        tracing::info!(ca = %handle, key = %key, staging_hours = staging.num_hours(), "key rollover started");
        let events = journal.into_events();
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok((self.keyroll_status(handle)?, events))
    }

    /// Activates CA `handle`'s new key once its staging period has
    /// passed: every product reissued under it, the old key's
    /// certificate revoked, its manifest, CRL and products withdrawn;
    /// one transaction, one tree.
    pub fn keyroll_activate(
        &mut self,
        actor: &Actor,
        handle: &str,
    ) -> Result<(KeyrollStatus, Vec<Event>)> {
        const OPTIMISTIC_ROUNDS: usize = 3;
        // ROA batches on this CA wait (they would be planned again anyway).
        let ca_lock = self.ctx.ca_locks.of(handle);
        let _this_ca = ca_lock.lock().unwrap_or_else(|p| p.into_inner());
        let gate = self.store.gate().clone();
        for round in 0..=OPTIMISTIC_ROUNDS {
            let held = (round == OPTIMISTIC_ROUNDS).then(|| gate.enter());
            let t0 = std::time::Instant::now();
            let now = self.ctx.clock.now();
            let mut plan = self.plan_activation(handle, now)?;
            let planned = t0.elapsed();
            self.sign_products(&mut plan, now)?;
            let signed = t0.elapsed();
            let tx = match &held {
                Some(held) => self.store.transaction_entered(held)?,
                None => self.store.transaction()?,
            };
            let Some(journal) = self.ctx.commit_activation(&tx, actor, &plan, now)? else {
                tracing::debug!(ca = %handle, round, "key activation: the CA changed meanwhile; again");
                continue;
            };
            fault::point("keyroll-activate-before-commit");
            tx.commit()?;
            drop(held);
            fault::point("after-commit");
            // Under a local parent the old key's certificate is revoked:
            // the key is done, and destroyed (under a remote parent, once
            // the parent revoked it). A crash before this leaves an
            // unused key that `keys list` shows.
            let old = plan.ca.key;
            if !self
                .store
                .read_transaction()?
                .ca_keys(handle)?
                .iter()
                .any(|k| k.key == old)
            {
                self.destroy_retired_key(handle, &old);
            }
            let committed = t0.elapsed();
            let events = journal.into_events();
            if !self.ctx.deferred {
                self.write_tree_after_commit()?;
                // Under a remote parent: revoke the old key now that the
                // new key's products are published (and pushed).
                self.retire_old_keys(actor)?;
            }
            tracing::info!(
                ca = %handle,
                key = %plan.new.key,
                products = plan.products.len(),
                round,
                plan_us = planned.as_micros() as u64,
                sign_us = (signed - planned).as_micros() as u64,
                commit_us = (committed - signed).as_micros() as u64,
                "new key activated"
            );
            return Ok((self.keyroll_status(handle)?, events));
        }
        Err(AppError::Busy(format!(
            "CA '{handle}' was changed by another process during every attempt to activate its new key"
        )))
    }

    /// Reads what an activation reissues, from a read snapshot.
    fn plan_activation(&mut self, handle: &str, now: Time) -> Result<ActivationPlan> {
        let tx = self.store.read_transaction()?;
        let (ca, _) = self.ctx.rollable(&tx, handle)?;
        let new = tx
            .ca_keys(handle)?
            .into_iter()
            .find(|k| k.state == KeyState::New)
            .ok_or_else(|| refused(handle, "no rollover in progress; start one with --start"))?;
        if now < new.due {
            return Err(refused(
                handle,
                format!(
                    "the new key {} is in its staging period until {} (RFC 6489 §2)",
                    new.key,
                    rfc3339(new.due)
                ),
            ));
        }
        let version = tx
            .point_version(handle)?
            .ok_or_else(|| AppError::UnknownCa(handle.into()))?;
        let point = tx.point(handle)?;
        let issuer = self.ctx.issuer(&ca)?;
        let (mft, crl) = (issuer.manifest_name(), issuer.crl_name());
        let mut products = Vec::new();
        for name in point.objects.keys() {
            if *name == mft || *name == crl {
                continue;
            }
            let product = if let Some(asn) = roa_file_asn(name) {
                let payloads = canonical_payloads(tx.roas(handle, Some(asn))?);
                if payloads.is_empty() {
                    continue; // configured away: not carried over
                }
                Product::Roa { asn, payloads }
            } else if router_file_key(name).is_some() {
                match tx
                    .router_keys(handle)?
                    .into_iter()
                    .find(|r| r.file_name() == *name)
                {
                    Some(router) => Product::Router(router),
                    None => continue, // revoked: not carried over
                }
            } else if let Some(customer) = aspa_file_asn(name) {
                match tx.aspas(handle, Some(customer))?.pop() {
                    Some(aspa) => Product::Aspa(aspa),
                    None => continue, // removed: not carried over
                }
            } else if name.ends_with(".gbr") {
                match tx.contact(handle)? {
                    Some(vcard) => Product::Contact(vcard),
                    None => continue, // removed: not carried over
                }
            } else if name.ends_with(".cer") {
                match self.ctx.product_of_cert(&tx, &ca, name, &point)? {
                    Some(p) => p,
                    None => continue, // a certificate without a CA: not carried over
                }
            } else {
                return Err(refused(
                    handle,
                    format!("its point holds {name}, which this version cannot reissue"),
                ));
            };
            products.push((product, None));
        }
        Ok(ActivationPlan {
            ca,
            new,
            version,
            products,
        })
    }

    /// Signs every planned product under the new key, on all cores and
    /// without any lock.
    fn sign_products(&self, plan: &mut ActivationPlan, now: Time) -> Result<()> {
        let ctx = &self.ctx;
        let issuer = ctx.issuer(&plan.new.as_record(&plan.ca))?;
        let fresh = anchorage_keys::FreshKeys(&ctx.keys);
        let roas = plan
            .products
            .iter()
            .filter(|(p, _)| matches!(p, Product::Roa { .. }))
            .count();
        let bulk = roas > POOL_SHARE;
        on_all_cores(&mut plan.products, |(product, signed)| {
            let obj = match product {
                Product::Roa { asn, payloads } if bulk => {
                    ca::issue_roa(&fresh, &issuer, *asn, payloads, now, &ctx.timing)?
                }
                Product::Roa { asn, payloads } => {
                    ca::issue_roa(&*ctx.keys, &issuer, *asn, payloads, now, &ctx.timing)?
                }
                Product::Contact(vcard) => {
                    ca::issue_ghostbusters(&*ctx.keys, &issuer, vcard, now, &ctx.timing)?
                }
                Product::Aspa(aspa) => ctx.sign_aspa(&issuer, aspa, now)?,
                Product::Router(router) => ctx.sign_router(&issuer, router, now)?,
                Product::Child(child) => ctx.child_key_cert(&issuer, child, &child.key, now)?,
                Product::ChildKey(child, key) => {
                    ctx.child_key_cert(&issuer, child, &key.key, now)?
                }
                Product::Delegated {
                    child,
                    key,
                    resources,
                    sia,
                    ..
                } => ca::issue_cert_with_sia(
                    &*ctx.keys,
                    &issuer,
                    ChildCa {
                        handle: child,
                        key,
                        resources,
                    },
                    sia,
                    now,
                    &ctx.timing,
                )?,
            };
            *signed = Some(obj);
            Ok(())
        })
    }

    /// Cancels CA `handle`'s rollover during its staging period: the new
    /// key's certificate is revoked by the parent (RFC 6492 revoke for a
    /// remote one, before anything here changes), its manifest and CRL
    /// withdrawn and the key destroyed. Nothing had moved to it, so no
    /// product changes. An activated rollover cannot be cancelled.
    pub fn keyroll_cancel(
        &mut self,
        actor: &Actor,
        handle: &str,
    ) -> Result<(KeyrollStatus, Vec<Event>)> {
        let new_key = |tx: &Tx<'_>| -> Result<CaKey> {
            tx.ca_keys(handle)?
                .into_iter()
                .find(|k| k.state == KeyState::New)
                .ok_or_else(|| refused(handle, "no rollover in its staging period to cancel"))
        };
        let (key, parent) = {
            let tx = self.store.read_transaction()?;
            let (_, parent) = self.ctx.rollable(&tx, handle)?;
            (new_key(&tx)?, parent)
        };
        let now = self.ctx.clock.now();
        let remote = match parent {
            Parent::Local(_) => None,
            Parent::Remote => Some(self.remote_revoke(handle, &key.key, now)?),
        };
        let tx = self.store.transaction()?;
        let (_, parent) = self.ctx.rollable(&tx, handle)?;
        if new_key(&tx)?.key != key.key {
            return Err(AppError::Busy(format!(
                "the rollover of CA '{handle}' changed meanwhile"
            )));
        }
        match (parent, &remote) {
            (Parent::Local(parent), _) => {
                let name = ca::cert_file_name(&key.key);
                self.ctx
                    .put_in_point(&tx, &parent, None, Some(&name), now)?;
            }
            (Parent::Remote, Some(reply)) => {
                self.ctx
                    .accept_replies(&tx, &reply.peer, &reply.seen, now)?;
            }
            (Parent::Remote, None) => {
                return Err(AppError::Busy(format!(
                    "the parent of CA '{handle}' changed meanwhile"
                )));
            }
        }
        tx.delete_ca_key(handle, &key.key)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::KeyrollCancelled {
                ca: handle.into(),
                key: key.key.to_string(),
            },
        )?;
        tx.commit()?;
        let events = journal.into_events();
        if let Err(e) = self.ctx.keys.destroy_key(&key.key) {
            tracing::warn!(ca = %handle, key = %key.key, error = ?e, "the cancelled key's file could not be removed");
        }
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok((self.keyroll_status(handle)?, events))
    }

    /// Every key of CA `handle`, its state, and the next step.
    pub fn keyroll_status(&mut self, handle: &str) -> Result<KeyrollStatus> {
        let tx = self.store.read_transaction()?;
        let ca = load_ca(&tx, handle)?;
        let since = tx.key_activated(handle)?.unwrap_or(ca.cert_not_after);
        let info = |record: &CaRecord, state: &str, since: Time| -> Result<KeyInfo> {
            let sia = self.ctx.layout.sia(&record.handle, &record.key)?;
            Ok(KeyInfo {
                key_id: record.key.to_string(),
                state: state.into(),
                cert_serial: record.cert_serial.to_string(),
                cert_not_after: rfc3339(record.cert_not_after),
                since: rfc3339(since),
                manifest: sia.manifest.to_string(),
            })
        };
        let mut keys = vec![info(&ca, "active", since)?];
        let mut next_step = None;
        let mut next_due = None;
        for k in tx.ca_keys(handle)? {
            keys.push(info(&k.as_record(&ca), k.state.as_str(), k.started)?);
            let step = match (k.state, handle == TA_HANDLE) {
                (KeyState::New, false) => "activate",
                (KeyState::New, true) => "activate (anchorage ta keyroll --activate)",
                (KeyState::Old, false) => "revoke the old key at the parent",
                (KeyState::Old, true) => {
                    "retire the old key once relying parties use the new TAL (anchorage ta keyroll --retire)"
                }
            };
            next_step = Some(step.to_string());
            next_due = Some(rfc3339(k.due));
        }
        Ok(KeyrollStatus {
            ca: handle.into(),
            keys,
            next_step,
            next_due,
        })
    }

    /// Starts the rollovers a policy of rolling every key after `every`
    /// calls for: the CAs whose active key is older, oldest first, as
    /// many as keep at most `max_in_progress` rollovers going at once (so
    /// a thousand CAs created the same day roll over several days, not
    /// all together). Rollovers started by hand count too. The trust
    /// anchor is skipped. Returns the events.
    pub fn start_due_keyrolls(
        &mut self,
        actor: &Actor,
        every: TimeDelta,
        max_in_progress: usize,
    ) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let (in_progress, mut due) = {
            let tx = self.store.read_transaction()?;
            // The trust anchor's rollover is the operator's, and does not
            // take a place from the CAs'.
            let rolling: std::collections::BTreeSet<String> = tx
                .all_ca_keys()?
                .into_iter()
                .map(|k| k.ca)
                .filter(|ca| ca != TA_HANDLE)
                .collect();
            let mut due = Vec::new();
            for ca in tx.cas()? {
                if ca.handle == TA_HANDLE || rolling.contains(&ca.handle) {
                    continue;
                }
                let since = tx.key_activated(&ca.handle)?.unwrap_or(now);
                if since + every <= now {
                    due.push((since, ca.handle));
                }
            }
            (rolling.len(), due)
        };
        due.sort();
        let room = max_in_progress.saturating_sub(in_progress);
        let mut events = Vec::new();
        for (_, handle) in due.into_iter().take(room) {
            match self.keyroll_start(actor, &handle, None) {
                Ok((_, e)) => events.extend(e),
                Err(e) => {
                    tracing::warn!(ca = %handle, error = %e, "scheduled key rollover did not start; retried next run")
                }
            }
        }
        Ok(events)
    }

    /// Runs the rollover stages that are due (`serve`'s scheduler and
    /// `publish` call it): activates every new key whose staging period
    /// has passed, then starts what the policy, if one is set, calls for.
    /// A CA that fails is logged and left for the next run, the others go
    /// on. Returns the events.
    pub fn run_due_keyrolls(&mut self, actor: &Actor) -> Result<Vec<Event>> {
        let mut events = self.activate_due_keyrolls(actor)?;
        events.extend(self.retire_old_keys(actor)?);
        if let Some(policy) = self.ctx.keyroll_policy {
            events.extend(self.start_due_keyrolls(actor, policy.every, policy.max_in_progress)?);
        }
        Ok(events)
    }

    /// Revokes, at their remote parents, the old keys whose activation
    /// has been published everywhere: with a remote repository, only
    /// after a push that succeeded since (RFC 6489 §2: relying parties
    /// must find the new key's products before the old certificate goes).
    /// A revocation that cannot be made yet or fails is due again a
    /// minute later; the others go on. Returns the events.
    fn retire_old_keys(&mut self, actor: &Actor) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        // How far publication got, as audit generations: the tree's, and
        // (with a remote repository) the last push's, each of a snapshot
        // that owed no manifest.
        let generation = |tx: &Tx<'_>, name: &str| -> Result<i64> {
            Ok(tx.meta(name)?.and_then(|v| v.parse().ok()).unwrap_or(0))
        };
        let (old, published_up_to) = {
            let tx = self.store.read_transaction()?;
            let mut old = Vec::new();
            for k in tx.all_ca_keys()? {
                // The trust anchor's old key is retired by hand.
                if k.state == KeyState::Old && k.due <= now && k.ca != TA_HANDLE {
                    let g = tx.activated_generation(&k.ca, &k.key)?.unwrap_or(i64::MAX);
                    old.push((k, g));
                }
            }
            let tree = generation(&tx, "tree_generation")?;
            let repository = tx.peer(
                anchorage_store::PeerKind::Repository,
                super::parent::REPOSITORY,
            )?;
            let pushed = match repository {
                Some(_) => generation(&tx, "pushed_generation")?,
                None => i64::MAX,
            };
            (old, tree.min(pushed))
        };
        let mut events = Vec::new();
        for (key, activated) in old {
            let published = published_up_to >= activated;
            let result = if published {
                self.remote_revoke(&key.ca, &key.key, now)
                    .and_then(|reply| {
                        let tx = self.store.transaction()?;
                        self.ctx
                            .accept_replies(&tx, &reply.peer, &reply.seen, now)?;
                        tx.delete_ca_key(&key.ca, &key.key)?;
                        let mut journal = Journal::new(actor, now);
                        journal.record(
                            &tx,
                            Event::KeyRevoked {
                                ca: key.ca.clone(),
                                key: key.key.to_string(),
                            },
                        )?;
                        tx.commit()?;
                        self.destroy_retired_key(&key.ca, &key.key);
                        Ok(journal.into_events())
                    })
            } else {
                Err(refused(&key.ca, "the activation is not published yet"))
            };
            match result {
                Ok(e) => events.extend(e),
                Err(e) => {
                    tracing::info!(ca = %key.ca, key = %key.key, reason = %e, "old key not revoked yet; again in a minute");
                    let tx = self.store.transaction()?;
                    tx.set_ca_key_due(&key.ca, &key.key, now + TimeDelta::minutes(1))?;
                    tx.commit()?;
                }
            }
        }
        if !events.is_empty() && !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok(events)
    }

    /// Destroys a key nothing uses any more (its certificate revoked);
    /// a failure is logged, the key stays as an unused one.
    fn destroy_retired_key(&self, ca: &str, key: &KeyIdentifier) {
        match self.ctx.keys.destroy_key(key) {
            Ok(()) => tracing::info!(ca = %ca, key = %key, "retired key destroyed"),
            Err(e) => {
                tracing::warn!(ca = %ca, key = %key, error = ?e, "the retired key could not be destroyed")
            }
        }
    }

    /// Activates every new key whose staging period has passed.
    fn activate_due_keyrolls(&mut self, actor: &Actor) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let due: Vec<String> = self
            .store
            .read_transaction()?
            .all_ca_keys()?
            .into_iter()
            // The trust anchor's new key is activated by hand: relying
            // parties must have its TAL first.
            .filter(|k| k.state == KeyState::New && k.due <= now && k.ca != TA_HANDLE)
            .map(|k| k.ca)
            .collect();
        let mut events = Vec::new();
        for handle in due {
            match self.keyroll_activate(actor, &handle) {
                Ok((_, e)) => events.extend(e),
                Err(e) => {
                    // Again in a minute, not on every run of the scheduler.
                    tracing::warn!(ca = %handle, error = %e, "due key activation failed; again in a minute");
                    let tx = self.store.transaction()?;
                    for k in tx.ca_keys(&handle)? {
                        if k.state == KeyState::New {
                            tx.set_ca_key_due(&handle, &k.key, now + TimeDelta::minutes(1))?;
                        }
                    }
                    tx.commit()?;
                }
            }
        }
        Ok(events)
    }
}

impl Ctx {
    /// Commits a planned and signed activation, if the CA's point and
    /// keys are what the plan read; `None` (nothing changed) otherwise.
    fn commit_activation<'a>(
        &self,
        tx: &Tx<'_>,
        actor: &'a Actor,
        plan: &ActivationPlan,
        now: Time,
    ) -> Result<Option<Journal<'a>>> {
        let handle = plan.ca.handle.as_str();
        let Some(ca) = tx.ca(handle)? else {
            return Err(AppError::UnknownCa(handle.into()));
        };
        let still_new = tx
            .ca_keys(handle)?
            .iter()
            .any(|k| k.key == plan.new.key && k.cert_serial == plan.new.cert_serial);
        if ca.key != plan.ca.key
            || ca.cert_serial != plan.ca.cert_serial
            || tx.point_version(handle)? != Some(plan.version)
            || !still_new
        {
            return Ok(None);
        }
        // Files moving between the keys' points get later mtimes than any
        // the directory had (the store's rule for changed files).
        let stamp = match tx.dir_mtime(handle)? {
            Some(latest) if latest >= now.timestamp() => anchorage_store::from_secs(latest + 1)?,
            _ => now,
        };
        let parent = self.rollable(tx, handle)?.1;
        let remote = matches!(parent, Parent::Remote);
        match parent {
            // RFC 6489 §2: the parent revokes the old key's certificate;
            // what the old key issued goes with it.
            Parent::Local(parent) => {
                self.put_in_point(tx, &parent, None, Some(&ca::cert_file_name(&ca.key)), now)?;
            }
            // The remote parent revokes it once this is published: until
            // then the old key publishes an empty manifest and a CRL that
            // revokes everything it issued.
            Parent::Remote => {
                tx.demote_active(handle, now, now)?;
                let dir = key_dir(handle, &ca.key);
                let mut point = tx.point(&dir)?;
                let issuer = self.issuer(&ca)?;
                let (mft, crl) = (issuer.manifest_name(), issuer.crl_name());
                let names: Vec<String> = point
                    .objects
                    .keys()
                    .filter(|n| **n != mft && **n != crl)
                    .cloned()
                    .collect();
                for name in names {
                    point.withdraw(&name, now);
                }
                self.finish_point(tx, &dir, &mut point, &issuer, now)?;
            }
        }
        tx.promote_key(handle, &plan.new.key, now)?;
        let active = load_ca(tx, handle)?;
        let mut point = tx.point(handle)?;
        for (product, signed) in &plan.products {
            let obj = signed.clone().expect("every product was signed");
            match product {
                Product::Child(child) => {
                    let mut child = child.clone();
                    child.cert = obj.bytes.clone();
                    child.cert_serial = obj.serial.expect("a CA certificate has a serial");
                    child.cert_not_after = obj.not_after;
                    tx.update_ca(&child)?;
                }
                Product::ChildKey(_, key) => {
                    let mut key = key.clone();
                    set_cert(&mut key, &obj);
                    tx.update_ca_key_cert(&key)?;
                }
                Product::Delegated {
                    child,
                    key,
                    resources,
                    req_limit,
                    ..
                } => tx.put_child_cert(
                    child,
                    &anchorage_store::ChildCert {
                        ski: key.key_identifier().to_string(),
                        name: obj.name.clone(),
                        resources: resources.clone(),
                        req_limit: req_limit.clone(),
                    },
                )?,
                Product::Roa { .. }
                | Product::Contact(_)
                | Product::Aspa(_)
                | Product::Router(_) => {}
            }
            point.publish(obj, now);
        }
        if self.deferred {
            tx.mark_pending(handle)?;
        } else {
            point.refresh(&*self.keys, &self.issuer(&active)?, now, &self.timing)?;
        }
        tx.save_point(handle, &point, stamp)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            tx,
            Event::KeyActivated {
                ca: handle.into(),
                old: plan.ca.key.to_string(),
                new: plan.new.key.to_string(),
                reissued: plan.products.len(),
            },
        )?;
        if remote {
            tx.set_activated_generation(handle, &ca.key, tx.audit_generation()?)?;
        }
        Ok(Some(journal))
    }

    /// What the certificate `name` in `ca`'s point certifies: a hosted
    /// child's key or a delegated child's; `None` for neither.
    fn product_of_cert(
        &self,
        tx: &Tx<'_>,
        ca: &CaRecord,
        name: &str,
        point: &anchorage_ca_core::PublicationPoint,
    ) -> Result<Option<Product>> {
        for child_handle in tx.children(&ca.handle)? {
            let child = load_ca(tx, &child_handle)?;
            if ca::cert_file_name(&child.key) == name {
                return Ok(Some(Product::Child(child)));
            }
            for key in tx.ca_keys(&child_handle)? {
                if ca::cert_file_name(&key.key) == name {
                    return Ok(Some(Product::ChildKey(child, key)));
                }
            }
        }
        for child in tx.children_of(&ca.handle)? {
            for record in tx.child_certs(&child.handle)? {
                if record.name != name {
                    continue;
                }
                let old = point.objects.get(name).expect("listed in the point");
                let old = Cert::decode(old.bytes.clone())
                    .map_err(|e| super::delegation::bad_file("issued certificate", e))?;
                let sia = SubjectInfoAccess {
                    ca_repository: old.ca_repository().cloned().ok_or_else(|| {
                        super::delegation::bad_file("issued certificate", "no caRepository")
                    })?,
                    manifest: old.rpki_manifest().cloned().ok_or_else(|| {
                        super::delegation::bad_file("issued certificate", "no rpkiManifest")
                    })?,
                    notify: old.rpki_notify().cloned(),
                };
                return Ok(Some(Product::Delegated {
                    child: child.handle.clone(),
                    key: old.subject_public_key_info().clone(),
                    resources: record.resources.clone(),
                    sia,
                    req_limit: record.req_limit.clone(),
                }));
            }
        }
        Ok(None)
    }
}
