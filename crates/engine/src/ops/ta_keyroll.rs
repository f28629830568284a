//! Planned key rollover of the trust anchor, announced with RFC 9691 TAK
//! objects.
//!
//! * **Start**: a new TA key and its self-signed certificate, published at
//!   the top of the repository as `ta-KEYID.cer` (the first key's stays at
//!   `ta.cer`); its own point in the TA's directory with a manifest, a CRL
//!   and a TAK naming it as current and the active key as predecessor; the
//!   active key's TAK names the new key as successor. The new key's TAL is
//!   written beside the current one (`ta-next.tal`) for distribution.
//!   Every product stays under the active key: relying parties on the
//!   current TAL see no change, and the new TAL validates (a TA with no
//!   children yet).
//! * **Activate**, once the staging period (by default RFC 9691's 30-day
//!   acceptance timer) has passed: the TA's children (the online CA, and
//!   any key it is rolling) certified by the new key at the same URIs, in
//!   one transaction, so everything below them stays as it is; the old
//!   key's point keeps its manifest, its CRL (now revoking the old
//!   children's certificates) and its TAK announcing the successor, so a
//!   relying party still on the old TAL learns where to go. `ta.tal` is the
//!   new key's from now on.
//! * **Retire**: the old key's certificate, manifest, CRL and TAK withdrawn
//!   and the key destroyed, once relying parties use the new TAL.
//!
//! A child's products name the URI of its certificate (RFC 6487 §4.8.7)
//! and validators such as FORT check it against the certificate they came
//! from, so the same products cannot hang below two TA keys at once: they
//! move at activation. A relying party that installs the new TAL beside
//! the old one during the staging period sees the same VRPs before,
//! during and after the rollover.

use anchorage_ca_core::ca::{self, TA_HANDLE};
use anchorage_ca_core::objects::TakKey;
use anchorage_ca_core::point::PublishedObject;
use anchorage_ca_core::{CaRecord, Time};
use anchorage_store::{CaKey, KeyState, Tx, key_dir};
use chrono::TimeDelta;
use rpki::crypto::Signer;

use super::{Anchorage, Ctx, Result, load_ca, rfc3339};
use crate::AppError;
use crate::audit::{Actor, Event, Journal};
use crate::fault;
use crate::report::KeyrollStatus;

/// The staging period of a trust anchor rollover when none is given:
/// the acceptance timer of RFC 9691, the time a relying party that
/// follows TAKs waits before it trusts a successor key.
pub const DEFAULT_TA_STAGING: TimeDelta = TimeDelta::days(30);

/// The name of the TA certificate the first TA key publishes; the TAL of
/// every data directory made before TA rollovers names it.
const FIRST_TA_CERT: &str = "ta.cer";

/// Notes, in a transaction that changes the TA's keys, the audit
/// generation the TALs must wait for (see [`Ctx::sync_tals`]).
fn mark_ta_change(tx: &Tx<'_>) -> Result<()> {
    tx.set_meta("ta_generation", &tx.audit_generation()?.to_string())?;
    Ok(())
}

fn refused(why: impl Into<String>) -> AppError {
    AppError::Keyroll {
        ca: TA_HANDLE.into(),
        why: why.into(),
    }
}

impl Ctx {
    /// The file name, at the top of the repository, of the certificate of
    /// TA key record `ta`.
    pub(super) fn ta_cert_name(&self, ta: &CaRecord) -> String {
        ta.cert_uri
            .as_deref()
            .and_then(|uri| uri.rsplit('/').next())
            .unwrap_or(FIRST_TA_CERT)
            .to_string()
    }

    /// Publishes the certificate of TA key record `ta` at the top of the
    /// repository.
    pub(super) fn put_ta_cert(&self, tx: &Tx<'_>, ta: &CaRecord, now: Time) -> Result<()> {
        tx.put_object(
            "",
            &PublishedObject::new(
                self.ta_cert_name(ta),
                ta.cert.clone(),
                Some(ta.cert_serial),
                ta.cert_not_after,
            ),
            now,
        )?;
        Ok(())
    }

    /// The URIs of the certificate of TA key record `ta`, as its TAL lists
    /// them (RFC 8630 §2.2): https first, served next to RRDP, then rsync.
    pub(super) fn ta_cert_uris(&self, ta: &CaRecord) -> Result<[String; 2]> {
        let name = self.ta_cert_name(ta);
        Ok([
            format!("{}{name}", self.rrdp.base_uri()),
            format!("{}{name}", self.layout.rsync_base),
        ])
    }

    /// A TA key as a TAK names it (RFC 9691 §3): its TAL's URIs and key.
    fn tak_key(&self, ta: &CaRecord) -> Result<TakKey> {
        Ok(TakKey {
            comments: Vec::new(),
            uris: self.ta_cert_uris(ta)?.to_vec(),
            key: self.issuer_key(&ta.key)?,
        })
    }

    /// Every key of the trust anchor with the storage directory of its
    /// point: the active key first, then a new or an old one.
    fn ta_keys(&self, tx: &Tx<'_>) -> Result<(CaRecord, Vec<CaKey>)> {
        Ok((load_ca(tx, TA_HANDLE)?, tx.ca_keys(TA_HANDLE)?))
    }

    /// The TAK of TA key record `ta` (RFC 9691): current is `ta` itself;
    /// the active key names a new key as its successor and an old one as
    /// its predecessor, a new key the active one as predecessor, an old
    /// key the active one as successor.
    pub(super) fn ta_tak(&self, tx: &Tx<'_>, ta: &CaRecord, now: Time) -> Result<PublishedObject> {
        let (active, others) = self.ta_keys(tx)?;
        let other = |state: KeyState| {
            others
                .iter()
                .find(|k| k.state == state)
                .map(|k| k.as_record(&active))
        };
        let (predecessor, successor) = if ta.key == active.key {
            (other(KeyState::Old), other(KeyState::New))
        } else if other(KeyState::New).is_some_and(|k| k.key == ta.key) {
            (Some(active), None)
        } else {
            (None, Some(active))
        };
        let predecessor = predecessor.map(|k| self.tak_key(&k)).transpose()?;
        let successor = successor.map(|k| self.tak_key(&k)).transpose()?;
        Ok(ca::issue_tak(
            &*self.keys,
            &self.issuer(ta)?,
            &self.tak_key(ta)?,
            predecessor.as_ref(),
            successor.as_ref(),
            now,
            &self.timing,
        )?)
    }

    /// Signs the TAK of every TA key again (their successor and
    /// predecessor changed) and finishes each key's point.
    fn put_ta_taks(&self, tx: &Tx<'_>, now: Time) -> Result<()> {
        let (active, others) = self.ta_keys(tx)?;
        let mut points = vec![(TA_HANDLE.to_string(), active.clone())];
        points.extend(others.iter().map(|k| (k.dir(), k.as_record(&active))));
        for (dir, record) in points {
            let mut point = tx.point(&dir)?;
            point.publish(self.ta_tak(tx, &record, now)?, now);
            self.finish_point(tx, &dir, &mut point, &self.issuer(&record)?, now)?;
        }
        Ok(())
    }

    /// Writes the TALs the store calls for, where they differ: `ta.tal`
    /// for the active key, and `ta-next.tal` for a new key in its staging
    /// period (removed otherwise) — once the rsync tree shows the TA's
    /// last change (`tree_generation` has reached `ta_generation`), so a
    /// TAL never names a key whose certificate and products the served
    /// tree does not have yet. Every tree write runs it, under the
    /// publication locks, so a crash between a TA change's commit and its
    /// files is repaired by the next publication.
    pub(super) fn sync_tals(&self, tx: &Tx<'_>) -> Result<()> {
        let generation = |name: &str| -> Result<i64> {
            Ok(tx.meta(name)?.and_then(|v| v.parse().ok()).unwrap_or(0))
        };
        if generation("tree_generation")? < generation("ta_generation")? {
            return Ok(());
        }
        let (active, others) = self.ta_keys(tx)?;
        self.write_tal(&self.dir.tal(), &active)?;
        let next = self.dir.next_tal();
        match others.iter().find(|k| k.state == KeyState::New) {
            Some(new) => self.write_tal(&next, &new.as_record(&active))?,
            None => match std::fs::remove_file(&next) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(AppError::Io {
                        what: format!("removing {}", next.display()),
                        source: e,
                    });
                }
                _ => {}
            },
        }
        Ok(())
    }
}

impl Anchorage {
    /// Starts a rollover of the trust anchor's key: a new key and
    /// certificate, announced by TAKs, its TAL written to `ta-next.tal`;
    /// activation is allowed after `staging` (default 30 days). Refused
    /// while an earlier rollover's new or old key is still there.
    pub fn ta_keyroll_start(
        &mut self,
        actor: &Actor,
        staging: Option<TimeDelta>,
    ) -> Result<(KeyrollStatus, Vec<Event>)> {
        let staging = staging.unwrap_or(DEFAULT_TA_STAGING);
        if staging < TimeDelta::zero() || staging > super::MAX_STAGING {
            return Err(refused(format!(
                "the staging period must be between 0 and {} hours",
                super::MAX_STAGING.num_hours()
            )));
        }
        let check = |tx: &Tx<'_>| -> Result<CaRecord> {
            let (active, others) = self.ctx.ta_keys(tx)?;
            match others.first() {
                Some(k) if k.state == KeyState::New => Err(refused(format!(
                    "a rollover is in progress: key {} is new; activate or cancel it first",
                    k.key
                ))),
                Some(k) => Err(refused(format!(
                    "the old key {} is still published; retire it first (--retire)",
                    k.key
                ))),
                None => Ok(active),
            }
        };
        // The key is made after a snapshot check, so a refused start
        // leaves none behind; the transaction checks again.
        check(&self.store.read_transaction()?)?;
        let key = self
            .ctx
            .keys
            .generate_class(anchorage_keys::KeyClass::TrustAnchor)?;
        let now = self.ctx.clock.now();
        let committed = (|| -> Result<Journal<'_>> {
            let tx = self.store.transaction()?;
            let active = check(&tx)?;
            let (cert, cert_serial, cert_not_after) = ca::issue_ta_cert(
                &*self.ctx.keys,
                &self.ctx.layout,
                &key,
                &active.resources,
                now,
                &self.ctx.timing,
            )?;
            let new = CaKey {
                ca: TA_HANDLE.into(),
                key,
                state: KeyState::New,
                cert,
                cert_serial,
                cert_not_after,
                cert_uri: Some(format!(
                    "{}{}",
                    self.ctx.layout.rsync_base,
                    ca::ta_cert_file_name(&key)
                )),
                started: now,
                due: now + staging,
            };
            tx.insert_ca_key(&new)?;
            self.ctx.put_ta_cert(&tx, &new.as_record(&active), now)?;
            self.ctx.put_ta_taks(&tx, now)?;
            let mut journal = Journal::new(actor, now);
            journal.record(
                &tx,
                Event::KeyrollStarted {
                    ca: TA_HANDLE.into(),
                    key: key.to_string(),
                    due: rfc3339(new.due),
                },
            )?;
            mark_ta_change(&tx)?;
            fault::point("ta-keyroll-start-before-commit");
            tx.commit()?;
            Ok(journal)
        })();
        let journal = committed.inspect_err(|_| {
            let _ = self.ctx.keys.destroy_key(&key);
        })?;
        fault::point("after-commit");
        tracing::info!(key = %key, staging_hours = staging.num_hours(), "trust anchor key rollover started");
        self.after_ta_change()?;
        Ok((self.keyroll_status(TA_HANDLE)?, journal.into_events()))
    }

    /// Activates the trust anchor's new key after its staging period: its
    /// children certified by it at the same URIs, the old key's point left
    /// with its manifest, CRL and TAK; `ta.tal` becomes the new key's.
    pub fn ta_keyroll_activate(&mut self, actor: &Actor) -> Result<(KeyrollStatus, Vec<Event>)> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let (active, others) = self.ctx.ta_keys(&tx)?;
        let new = others
            .iter()
            .find(|k| k.state == KeyState::New)
            .ok_or_else(|| refused("no rollover in progress; start one with --start"))?;
        if now < new.due {
            return Err(refused(format!(
                "the new key {} is in its staging period until {} (RFC 9691 acceptance timer)",
                new.key,
                rfc3339(new.due)
            )));
        }
        // Files moving between the keys' points get later mtimes than any
        // the directory had (the store's rule for changed files).
        let stamp = match tx.dir_mtime(TA_HANDLE)? {
            Some(latest) if latest >= now.timestamp() => anchorage_store::from_secs(latest + 1)?,
            _ => now,
        };
        // The old key keeps its point, without the children's
        // certificates: its CRL revokes them.
        tx.demote_active(TA_HANDLE, now, now)?;
        let old_dir = key_dir(TA_HANDLE, &active.key);
        let mut old_point = tx.point(&old_dir)?;
        let moved: Vec<String> = old_point
            .objects
            .keys()
            .filter(|n| n.ends_with(".cer"))
            .cloned()
            .collect();
        for name in &moved {
            old_point.withdraw(name, now);
        }
        tx.save_point(&old_dir, &old_point, now)?;
        tx.promote_key(TA_HANDLE, &new.key, now)?;
        let ta = load_ca(&tx, TA_HANDLE)?;
        let issuer = self.ctx.issuer(&ta)?;
        let mut point = tx.point(TA_HANDLE)?;
        let mut reissued = 0;
        for handle in tx.children(TA_HANDLE)? {
            let mut child = load_ca(&tx, &handle)?;
            let obj = self.ctx.child_key_cert(&issuer, &child, &child.key, now)?;
            child.cert = obj.bytes.clone();
            child.cert_serial = obj.serial.expect("a CA certificate has a serial");
            child.cert_not_after = obj.not_after;
            tx.update_ca(&child)?;
            point.publish(obj, now);
            reissued += 1;
            for mut key in tx.ca_keys(&handle)? {
                self.ctx
                    .recertify_key(&tx, &mut point, &child, &mut key, &issuer, now)?;
                reissued += 1;
            }
        }
        tx.save_point(TA_HANDLE, &point, stamp)?;
        // Each key's TAK names the other now the other way round; this
        // also signs both points' manifests and CRLs.
        self.ctx.put_ta_taks(&tx, now)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::KeyActivated {
                ca: TA_HANDLE.into(),
                old: active.key.to_string(),
                new: ta.key.to_string(),
                reissued,
            },
        )?;
        mark_ta_change(&tx)?;
        fault::point("ta-keyroll-activate-before-commit");
        tx.commit()?;
        fault::point("after-commit");
        tracing::info!(old = %active.key, new = %ta.key, reissued, "trust anchor key activated");
        self.after_ta_change()?;
        Ok((self.keyroll_status(TA_HANDLE)?, journal.into_events()))
    }

    /// Cancels a trust anchor rollover in its staging period: the new
    /// key's certificate and point withdrawn, the key destroyed, the
    /// active key's TAK without a successor again.
    pub fn ta_keyroll_cancel(&mut self, actor: &Actor) -> Result<(KeyrollStatus, Vec<Event>)> {
        self.drop_ta_key(actor, KeyState::New)
    }

    /// Retires the trust anchor's old key after an activation: its
    /// certificate and point (manifest, CRL, TAK) withdrawn, the key
    /// destroyed. Relying parties still on its TAL then fail to find the
    /// TA: run it once they use the new TAL.
    pub fn ta_keyroll_retire(&mut self, actor: &Actor) -> Result<(KeyrollStatus, Vec<Event>)> {
        self.drop_ta_key(actor, KeyState::Old)
    }

    /// Withdraws and destroys the TA key in `state` (cancel or retire).
    fn drop_ta_key(
        &mut self,
        actor: &Actor,
        state: KeyState,
    ) -> Result<(KeyrollStatus, Vec<Event>)> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let (active, others) = self.ctx.ta_keys(&tx)?;
        let key = others.iter().find(|k| k.state == state).ok_or_else(|| {
            refused(match state {
                KeyState::New => "no rollover in its staging period to cancel",
                KeyState::Old => "no old key to retire",
            })
        })?;
        tx.delete_ca_key(TA_HANDLE, &key.key)?;
        tx.delete_object("", &self.ctx.ta_cert_name(&key.as_record(&active)))?;
        self.ctx.put_ta_taks(&tx, now)?;
        let mut journal = Journal::new(actor, now);
        let event = match state {
            KeyState::New => Event::KeyrollCancelled {
                ca: TA_HANDLE.into(),
                key: key.key.to_string(),
            },
            KeyState::Old => Event::KeyRetired {
                ca: TA_HANDLE.into(),
                key: key.key.to_string(),
            },
        };
        journal.record(&tx, event)?;
        mark_ta_change(&tx)?;
        tx.commit()?;
        if let Err(e) = self.ctx.keys.destroy_key(&key.key) {
            tracing::warn!(key = %key.key, error = ?e, "the trust anchor's dropped key file could not be removed");
        }
        self.after_ta_change()?;
        Ok((self.keyroll_status(TA_HANDLE)?, journal.into_events()))
    }

    /// The trust anchor's keys, their states and the next step.
    pub fn ta_keyroll_status(&mut self) -> Result<KeyrollStatus> {
        self.keyroll_status(TA_HANDLE)
    }

    /// After a commit that changed the TA's keys: the tree, and with it
    /// the TALs ([`Ctx::sync_tals`]).
    fn after_ta_change(&mut self) -> Result<()> {
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok(())
    }
}
