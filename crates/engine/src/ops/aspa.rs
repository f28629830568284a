//! ASPA configuration of hosted CAs (draft-ietf-sidrops-aspa-profile):
//! one ASPA object per customer AS, in the CA's publication point, set
//! and removed in batches as ROAs are.

use std::collections::BTreeMap;

use anchorage_ca_core::aspa::{AspaWarning, aspa_file_name};
use anchorage_ca_core::ca::{self, TA_HANDLE};
use anchorage_ca_core::objects::Issuer;
use anchorage_ca_core::{AspaDefinition, CaRecord, PublicationPoint, PublishedObject, Time};
use anchorage_store::Tx;

use super::{Anchorage, Ctx, Result, load_ca, planned_tx, quoted_etag};
use crate::audit::{Actor, Event, Journal};
use crate::error::AppError;
use crate::fault;
use crate::rfc9319::bgp::BgpTable;

/// What a batch of ASPA changes did (or, dry, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct AspaChanges {
    /// ASPAs of a customer AS that had none.
    pub added: usize,
    /// ASPAs whose providers changed.
    pub replaced: usize,
    /// ASPAs removed.
    pub removed: usize,
    /// ASPAs set exactly as they were (no-ops).
    pub unchanged: usize,
    /// What looks wrong in the ASPAs set, though they are valid.
    pub warnings: Vec<AspaWarning>,
    /// The CA's ASPAs after the change.
    #[serde(skip)]
    pub after: Vec<AspaDefinition>,
    /// What the audit log recorded (none for a dry run).
    #[serde(skip)]
    pub events: Vec<Event>,
    /// The ETag of the CA's ASPA list after the change.
    #[serde(skip)]
    pub etag: String,
}

/// One ASPA to set, as an operator gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AspaRequest {
    /// The customer AS.
    pub customer: u32,
    /// The providers, in any order; none means "no transit provider"
    /// (published as AS0, with a warning).
    pub providers: Vec<u32>,
}

/// How an ASPA batch runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct AspaOptions<'a> {
    /// The ETag the caller read (RFC 9110 §13.1.1); `*` or none for any.
    pub if_match: Option<&'a str>,
    /// Only report what would change.
    pub dry: bool,
    /// The loaded BGP table, whose AS adjacencies the providers are
    /// compared with.
    pub bgp: Option<&'a BgpTable>,
}

/// An ASPA batch as planned from a read snapshot.
struct AspaPlan {
    ca: CaRecord,
    etag_before: String,
    /// Per customer AS whose ASPA changes: the new one (none: withdraw),
    /// and the one it replaces.
    changed: BTreeMap<u32, (Option<AspaDefinition>, Option<AspaDefinition>)>,
    changes: AspaChanges,
}

/// The ETag of a CA's ASPA list (RFC 9110 §8.8.3), quoted; it changes
/// exactly when the list does.
pub fn aspa_etag(aspas: &[AspaDefinition]) -> String {
    let mut sorted = aspas.to_vec();
    sorted.sort();
    let text: Vec<String> = sorted.iter().map(AspaDefinition::to_string).collect();
    quoted_etag(&text.join("\n"))
}

impl Anchorage {
    /// Sets (adds, or replaces the providers of) the ASPAs in `set` and
    /// removes those of the customer ASes in `remove`, in one commit; with
    /// `dry`, only reports what would change. Refused whole when a
    /// customer AS is not held, a definition breaks the profile, a
    /// removed ASPA does not exist, or `if_match` is not the current
    /// ETag. Objects are signed outside the store's write lock; the
    /// commit checks nothing changed meanwhile and plans again if it did.
    pub fn aspa_batch(
        &mut self,
        actor: &Actor,
        handle: &str,
        set: &[AspaRequest],
        remove: &[u32],
        opts: AspaOptions<'_>,
    ) -> Result<AspaChanges> {
        const OPTIMISTIC_ROUNDS: usize = 3;
        let ca_lock = self.ctx.ca_locks.of(handle);
        let _this_ca = ca_lock.lock().unwrap_or_else(|p| p.into_inner());
        let gate = self.store.gate().clone();
        for round in 0..=OPTIMISTIC_ROUNDS {
            let held = (round == OPTIMISTIC_ROUNDS).then(|| gate.enter());
            let now = self.ctx.clock.now();
            let plan = self.plan_aspas(handle, set, remove, opts)?;
            if plan.changed.is_empty() || opts.dry {
                return Ok(plan.changes);
            }
            let issuer = self.ctx.issuer(&plan.ca)?;
            let mut signed = Vec::new();
            for (customer, (after, _)) in &plan.changed {
                let obj = match after {
                    Some(aspa) => Some(self.ctx.sign_aspa(&issuer, aspa, now)?),
                    None => None,
                };
                signed.push((*customer, obj));
            }
            let Some(changes) = self.commit_aspas(actor, plan, signed, held.as_ref(), now)? else {
                tracing::debug!(ca = %handle, round, "ASPA batch: the CA changed meanwhile; again");
                continue;
            };
            drop(held);
            if !self.ctx.deferred {
                self.write_tree_after_commit()?;
            }
            tracing::info!(
                ca = %handle,
                added = changes.added,
                replaced = changes.replaced,
                removed = changes.removed,
                "ASPA changes published"
            );
            return Ok(changes);
        }
        Err(AppError::Busy(format!(
            "the ASPAs of CA '{handle}' were changed by another process during every attempt"
        )))
    }

    /// CA `handle`'s ASPAs by customer AS, and the list's ETag.
    pub fn list_aspas(&mut self, handle: &str) -> Result<(Vec<AspaDefinition>, String)> {
        let tx = self.store.read_transaction()?;
        load_ca(&tx, handle)?;
        let aspas = tx.aspas(handle, None)?;
        let etag = aspa_etag(&aspas);
        Ok((aspas, etag))
    }

    /// The ASPAs of every CA under this data directory's trust anchor
    /// (as [`Anchorage::configured_shown_by`] reads them).
    pub fn aspas_under_ta(&mut self) -> Result<Vec<AspaDefinition>> {
        let tx = self.store.read_transaction()?;
        Ok(tx.aspas_under(TA_HANDLE)?)
    }

    fn plan_aspas(
        &mut self,
        handle: &str,
        set: &[AspaRequest],
        remove: &[u32],
        opts: AspaOptions<'_>,
    ) -> Result<AspaPlan> {
        let tx = self.store.read_transaction()?;
        if handle == TA_HANDLE {
            return Err(AppError::TaOffLimits {
                online: self.ctx.online.clone(),
                what: "an ASPA".into(),
            });
        }
        let ca = load_ca(&tx, handle)?;
        let before = tx.aspas(handle, None)?;
        drop(tx);
        let etag = aspa_etag(&before);
        if let Some(expected) = opts.if_match
            && expected != "*"
            && expected != etag
        {
            return Err(AppError::PreconditionFailed { current: etag });
        }
        let mut current: BTreeMap<u32, AspaDefinition> =
            before.into_iter().map(|a| (a.customer, a)).collect();
        let mut changed = BTreeMap::new();
        let mut changes = AspaChanges::default();
        let mut seen = std::collections::BTreeSet::new();
        let twice = |customer: u32| {
            AppError::Ca(anchorage_ca_core::CaError::BadAspa {
                customer,
                reason: "the batch names this customer AS twice; one ASPA per customer AS".into(),
            })
        };
        // One ASPA per customer AS: a batch naming one twice is refused
        // before anything else is looked at.
        let named = remove.iter().chain(set.iter().map(|r| &r.customer));
        for customer in named {
            if !seen.insert(*customer) {
                return Err(twice(*customer));
            }
        }
        for customer in remove {
            let Some(old) = current.remove(customer) else {
                return Err(AppError::NoSuchAspa {
                    ca: handle.into(),
                    customer: *customer,
                });
            };
            changes.removed += 1;
            changed.insert(*customer, (None, Some(old)));
        }
        for request in set {
            let aspa = AspaDefinition::new(request.customer, &request.providers)?;
            aspa.check_held(handle, &ca.resources)?;
            changes.warnings.extend(aspa.warnings());
            // An AS seen upstream of the customer in AS paths is a
            // provider or a peer: if a provider, its routes go invalid.
            for seen in opts
                .bgp
                .map(|t| t.upstreams_of(aspa.customer))
                .unwrap_or_default()
            {
                if !aspa.providers.contains(&seen.upstream) {
                    changes.warnings.push(AspaWarning::UnlistedNeighbour {
                        customer: aspa.customer,
                        neighbour: seen.upstream,
                        routes: seen.routes as usize,
                    });
                }
            }
            match current.insert(aspa.customer, aspa.clone()) {
                Some(old) if old == aspa => changes.unchanged += 1,
                old => {
                    if old.is_some() {
                        changes.replaced += 1;
                    } else {
                        changes.added += 1;
                    }
                    changed.insert(aspa.customer, (Some(aspa), old));
                }
            }
        }
        let after: Vec<AspaDefinition> = current.into_values().collect();
        changes.etag = aspa_etag(&after);
        changes.after = after;
        Ok(AspaPlan {
            ca,
            etag_before: etag,
            changed,
            changes,
        })
    }

    /// Commits a planned and signed ASPA batch in one short transaction,
    /// if the CA's ASPAs and certificate are still what the plan read;
    /// `None` (nothing changed) otherwise.
    fn commit_aspas(
        &mut self,
        actor: &Actor,
        plan: AspaPlan,
        signed: Vec<(u32, Option<PublishedObject>)>,
        held: Option<&anchorage_store::GateGuard>,
        now: Time,
    ) -> Result<Option<AspaChanges>> {
        let handle = plan.ca.handle.as_str();
        let Some((tx, ca)) = planned_tx(&mut self.store, held, &plan.ca)? else {
            return Ok(None);
        };
        if aspa_etag(&tx.aspas(handle, None)?) != plan.etag_before {
            return Ok(None);
        }
        let mut journal = Journal::new(actor, now);
        for (customer, (after, before)) in &plan.changed {
            let event = match (after, before) {
                (Some(aspa), before) => {
                    tx.put_aspa(handle, aspa)?;
                    Event::AspaSet {
                        ca: handle.into(),
                        aspa: aspa.clone(),
                        before: before.clone(),
                    }
                }
                (None, Some(old)) => {
                    tx.delete_aspa(handle, *customer)?;
                    Event::AspaRemoved {
                        ca: handle.into(),
                        aspa: old.clone(),
                        out_of_resources: false,
                    }
                }
                (None, None) => continue,
            };
            journal.record(&tx, event)?;
        }
        let files = signed
            .into_iter()
            .map(|(customer, obj)| (aspa_file_name(customer), obj))
            .collect();
        self.ctx.replace_in_point(&tx, &ca, files, now)?;
        fault::point("aspa-batch-before-commit");
        tx.commit()?;
        let mut changes = plan.changes;
        changes.events = journal.into_events();
        Ok(Some(changes))
    }
}

impl Ctx {
    /// Signs the ASPA `aspa` under `issuer`.
    pub(super) fn sign_aspa(
        &self,
        issuer: &Issuer,
        aspa: &AspaDefinition,
        now: Time,
    ) -> Result<PublishedObject> {
        Ok(ca::issue_aspa(
            &*self.keys,
            issuer,
            aspa,
            now,
            &self.timing,
        )?)
    }

    /// Publishes the ASPA of `customer` in CA `ca`'s `point` as the store
    /// configures it, or withdraws it if it has none any more.
    pub(super) fn put_aspa(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        issuer: &Issuer,
        customer: u32,
        now: Time,
    ) -> Result<()> {
        match tx.aspas(&ca.handle, Some(customer))?.pop() {
            Some(aspa) => point.publish(self.sign_aspa(issuer, &aspa, now)?, now),
            None => {
                point.withdraw(&aspa_file_name(customer), now);
            }
        }
        Ok(())
    }

    /// Removes the ASPAs of CA `ca` whose customer AS it no longer holds
    /// and withdraws their objects from its `point`, recording each.
    pub(super) fn shrink_aspas(
        &self,
        tx: &Tx<'_>,
        journal: &mut Journal<'_>,
        point: &mut PublicationPoint,
        ca: &CaRecord,
        now: Time,
    ) -> Result<()> {
        for aspa in tx.aspas(&ca.handle, None)? {
            if ca.resources.asns.contains_value(aspa.customer) {
                continue;
            }
            tx.delete_aspa(&ca.handle, aspa.customer)?;
            point.withdraw(&aspa_file_name(aspa.customer), now);
            journal.record(
                tx,
                Event::AspaRemoved {
                    ca: ca.handle.clone(),
                    aspa,
                    out_of_resources: true,
                },
            )?;
        }
        Ok(())
    }
}
