//! A CA's publication point: its current objects, its CRL and manifest.
//!
//! Every change to a publication point goes through [`PublicationPoint`]:
//! replacing or withdrawing an object revokes the certificate it carried,
//! and [`PublicationPoint::refresh`] issues the new CRL and manifest that
//! make the change visible. The store persists what
//! [`PublicationPoint::changed`] and [`PublicationPoint::removed`] report.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use chrono::TimeDelta;
use rpki::repository::x509::{Serial, Time};

use crate::Timing;
use crate::error::CaError;
use crate::objects::{self, CaSigner, Issuer, Revocation};

/// One file of a publication point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedObject {
    /// The file name within the publication point.
    pub name: String,
    /// The exact bytes published.
    pub bytes: Bytes,
    /// The serial of the certificate the file carries (the EE certificate
    /// of a signed object, or an issued CA certificate); none for a CRL.
    pub serial: Option<Serial>,
    /// When the object stops being usable: its certificate's notAfter, or
    /// a CRL's nextUpdate.
    pub not_after: Time,
    /// The SHA-256 of `bytes`, as a manifest lists it (RFC 9286 §4.2.1):
    /// computed once when the object is made, then stored with it.
    pub hash: [u8; 32],
}

impl PublishedObject {
    /// A new object, hashed.
    pub fn new(name: String, bytes: Bytes, serial: Option<Serial>, not_after: Time) -> Self {
        let hash = sha256(&bytes);
        PublishedObject {
            name,
            bytes,
            serial,
            not_after,
            hash,
        }
    }
}

/// The SHA-256 of an object's bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    rpki::crypto::DigestAlgorithm::sha256()
        .digest(bytes)
        .as_ref()
        .try_into()
        .expect("a SHA-256 digest is 32 bytes")
}

/// The state of one CA's publication point.
/// A whole number of seconds below `timing.jitter`, taken from the random
/// bits of the manifest's serial.
fn jitter(serial: Serial, timing: &Timing) -> TimeDelta {
    let max = timing.jitter.num_seconds();
    if max <= 0 {
        return TimeDelta::zero();
    }
    let bytes = serial.into_array();
    let r = u64::from_be_bytes(bytes[12..20].try_into().expect("8 bytes"));
    TimeDelta::seconds((r % max as u64) as i64)
}

/// The largest file rpki-client reads (its `MAX_FILE_SIZE`, 4,000,000
/// bytes in 8.2, the version the suite runs; a file one byte larger is
/// "File too large"). A manifest above it makes rpki-client reject the
/// whole publication point, every object below it with it, so no point
/// may grow a manifest past it.
pub const MAX_OBJECT_BYTES: u64 = 4_000_000;

/// At most how many bytes the manifest of a point takes whose `files`
/// files (the CRL included, the manifest itself not) have names of
/// `name_bytes` bytes in all, each name shorter than 128 bytes: per file
/// a FileAndHash (RFC 9286 §4.2), at most 40 bytes of DER around its name
/// and its SHA-256; and at most 4,096 bytes of CMS, EE certificate and
/// manifest fields around the list (about 1,700 measured).
pub fn manifest_bytes_bound(files: u64, name_bytes: u64) -> u64 {
    4_096 + 40 * files + name_bytes
}

#[derive(Clone, Debug, Default)]
pub struct PublicationPoint {
    /// The files currently published, by name.
    pub objects: BTreeMap<String, PublishedObject>,
    /// Revoked certificates that have not expired yet.
    pub revocations: Vec<Revocation>,
    /// The number the next manifest gets (RFC 9286 §4.2.1: strictly increasing).
    pub next_manifest_number: u64,
    /// The number the next CRL gets (RFC 5280 §5.2.3: strictly increasing).
    pub next_crl_number: u64,
    changed: BTreeSet<String>,
    removed: BTreeSet<String>,
    /// Serials revoked since restore: the store inserts only these.
    newly_revoked: BTreeSet<Serial>,
    /// Whether expired revocations were dropped since restore: then the
    /// store rewrites the whole list.
    revocations_dropped: bool,
    /// Restored with only some of its objects ([`Self::restore_partial`]):
    /// fit to replace those, never to sign a manifest.
    partial: bool,
}

impl PublicationPoint {
    /// A new, empty publication point whose first manifest and CRL are number 1.
    pub fn new() -> Self {
        PublicationPoint {
            next_manifest_number: 1,
            next_crl_number: 1,
            ..Default::default()
        }
    }

    /// Restores a publication point from stored state with no pending changes.
    pub fn restore(
        objects: impl IntoIterator<Item = PublishedObject>,
        revocations: Vec<Revocation>,
        next_manifest_number: u64,
        next_crl_number: u64,
    ) -> Self {
        PublicationPoint {
            objects: objects.into_iter().map(|o| (o.name.clone(), o)).collect(),
            revocations,
            next_manifest_number,
            next_crl_number,
            changed: BTreeSet::new(),
            removed: BTreeSet::new(),
            newly_revoked: BTreeSet::new(),
            revocations_dropped: false,
            partial: false,
        }
    }

    /// Restores a publication point with only the stored objects the
    /// caller is about to replace (and the numbers; no revocations: new
    /// ones are stored one by one), so
    /// that adding one certificate to a point of 50,000 does not load
    /// them all. Such a point can publish and withdraw those objects and
    /// be saved, but [`Self::refresh`] refuses it: its manifest would
    /// leave out everything not loaded. The manifest and CRL are owed
    /// and issued later from the whole point.
    pub fn restore_partial(
        objects: impl IntoIterator<Item = PublishedObject>,
        next_manifest_number: u64,
        next_crl_number: u64,
    ) -> Self {
        PublicationPoint {
            partial: true,
            ..Self::restore(objects, Vec::new(), next_manifest_number, next_crl_number)
        }
    }

    fn revoke(&mut self, old: &PublishedObject, now: Time) {
        if let Some(serial) = old.serial
            && old.not_after > now
            && !self.revocations.iter().any(|r| r.serial == serial)
        {
            self.revocations.push(Revocation {
                serial,
                revoked_at: now,
                expires: old.not_after,
            });
            self.newly_revoked.insert(serial);
        }
    }

    /// Publishes `object`, revoking the certificate of the file it replaces.
    pub fn publish(&mut self, object: PublishedObject, now: Time) {
        if let Some(old) = self.objects.get(&object.name).cloned() {
            self.revoke(&old, now);
        }
        self.removed.remove(&object.name);
        self.changed.insert(object.name.clone());
        self.objects.insert(object.name.clone(), object);
    }

    /// Withdraws the file `name` and revokes its certificate; false if absent.
    pub fn withdraw(&mut self, name: &str, now: Time) -> bool {
        match self.objects.remove(name) {
            Some(old) => {
                self.revoke(&old, now);
                self.changed.remove(name);
                self.removed.insert(name.to_string());
                true
            }
            None => false,
        }
    }

    /// Withdraws every file, for a CA that is being deleted.
    pub fn withdraw_all(&mut self, now: Time) {
        let names: Vec<String> = self.objects.keys().cloned().collect();
        for name in names {
            self.withdraw(&name, now);
        }
    }

    /// Names of files written since restore.
    pub fn changed(&self) -> impl Iterator<Item = &PublishedObject> {
        self.changed.iter().filter_map(|n| self.objects.get(n))
    }

    /// Names of files withdrawn since restore.
    pub fn removed(&self) -> impl Iterator<Item = &str> {
        self.removed.iter().map(String::as_str)
    }

    /// The revocations added since restore, and whether any were dropped
    /// since (then the stored list is to be rewritten from
    /// [`Self::revocations`]).
    pub fn revocation_changes(&self) -> (impl Iterator<Item = &Revocation>, bool) {
        (
            self.revocations
                .iter()
                .filter(|r| self.newly_revoked.contains(&r.serial)),
            self.revocations_dropped,
        )
    }

    /// Whether anything changed since restore.
    pub fn is_dirty(&self) -> bool {
        !self.changed.is_empty() || !self.removed.is_empty()
    }

    /// The manifest's nextUpdate, if there is a manifest.
    pub fn manifest_next_update(&self, issuer: &Issuer) -> Option<Time> {
        self.objects
            .get(&issuer.manifest_name())
            .map(|o| o.not_after)
    }

    /// Issues a new CRL and manifest covering the current objects.
    ///
    /// The previous manifest's one-time EE certificate is revoked on the new
    /// CRL; revocations of certificates that have expired are dropped.
    pub fn refresh<S: CaSigner>(
        &mut self,
        signer: &S,
        issuer: &Issuer,
        now: Time,
        timing: &Timing,
    ) -> Result<(), CaError> {
        if self.partial {
            return Err(CaError::Signing(
                "a manifest cannot be signed for a partly loaded publication point".into(),
            ));
        }
        let mft_name = issuer.manifest_name();
        let crl_name = issuer.crl_name();
        let previous = self
            .objects
            .get(&mft_name)
            .and_then(|old| previous_this_update(&old.bytes));
        let this_update = manifest_this_update(now, timing.backdate, previous);
        let serial = Serial::random(signer).map_err(|e| CaError::Signing(e.to_string()))?;
        let next_update = now + timing.mft_crl_next_update - jitter(serial, timing);

        if let Some(old) = self.objects.get(&mft_name).cloned() {
            self.revoke(&old, now);
        }
        // RFC 5280 §5.1.2.6 lets a CRL drop entries once the certificate expires.
        let before = self.revocations.len();
        self.revocations.retain(|r| r.expires > now);
        if self.revocations.len() < before {
            self.revocations_dropped = true;
        }
        self.revocations.sort_by_key(|r| r.serial);

        let crl_bytes = objects::crl(
            signer,
            issuer,
            &self.revocations,
            self.next_crl_number,
            this_update,
            next_update,
        )?;
        self.next_crl_number += 1;
        self.put(PublishedObject::new(crl_name, crl_bytes, None, next_update));

        // RFC 9286 §4.2.1: every file of the point but the manifest itself,
        // the CRL included (RFC 9286 §6.6 rejects a point without it).
        // Listed by the hashes made with the objects, none read again.
        let files: Vec<(String, [u8; 32])> = self
            .objects
            .values()
            .filter(|o| o.name != mft_name)
            .map(|o| (o.name.clone(), o.hash))
            .collect();
        let mft_bytes = objects::manifest(
            signer,
            issuer,
            &files,
            self.next_manifest_number,
            serial,
            this_update,
            next_update,
        )?;
        self.next_manifest_number += 1;
        self.put(PublishedObject::new(
            mft_name,
            mft_bytes,
            Some(serial),
            next_update,
        ));
        Ok(())
    }

    fn put(&mut self, object: PublishedObject) {
        self.removed.remove(&object.name);
        self.changed.insert(object.name.clone());
        self.objects.insert(object.name.clone(), object);
    }

    /// Objects whose certificate expires within `before` of `now`, inclusive.
    pub fn expiring(&self, now: Time, before: TimeDelta) -> Vec<&PublishedObject> {
        self.objects
            .values()
            .filter(|o| o.serial.is_some() && expires_within(o.not_after, now, before))
            .collect()
    }
}

/// The thisUpdate of the manifest `bytes`, if it can be read.
fn previous_this_update(bytes: &[u8]) -> Option<Time> {
    let text = anchorage_profile::manifest_this_update(bytes).ok()?;
    let at = chrono::NaiveDateTime::parse_from_str(&text, "%Y%m%d%H%M%S").ok()?;
    Some(Time::new(at.and_utc()))
}

/// How close to the clock a manifest's thisUpdate may come when it runs
/// ahead of the backdated time: relying parties whose clocks are slow by
/// less than this still find its EE certificate valid.
const CLOCK_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// The thisUpdate of a point's next manifest (also its CRL's thisUpdate
/// and its EE certificate's notBefore): `now` less the backdate, in whole
/// seconds, as the encoding has no fractions.
///
/// RFC 9286 §4.2.1: "The issuer MUST ensure that the value of this field
/// is more recent than any previously generated manifest." Two manifests
/// of one point signed within a second, or within the backdate of each
/// other after a burst, would share it or go back: the next one is then
/// one second after the `previous` manifest's. That runs ahead of the
/// backdated time only while a point gets more than one manifest a
/// second, and never closer to the clock than [`CLOCK_MARGIN`]: a later
/// time would make the EE certificate not yet valid for relying parties
/// whose clocks are a little slow. A burst that reaches the margin keeps
/// the previous manifest's thisUpdate (equal, which rpki-client and
/// Anchorage's validator accept, and reported erratum 7243 allows) until
/// the clock catches up. If the clock was set back behind the previous
/// manifest, the backdated time is used and a warning logged: that
/// manifest goes back, and strict validators keep the point's previous
/// one (§6.6) until the clock passes it.
pub fn manifest_this_update(now: Time, backdate: TimeDelta, previous: Option<Time>) -> Time {
    let whole =
        |t: Time| Time::new(chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(*t));
    let usual = whole(now - backdate);
    let Some(previous) = previous.map(whole) else {
        return usual;
    };
    let limit = now - CLOCK_MARGIN;
    if previous < usual {
        usual
    } else if previous + TimeDelta::seconds(1) <= limit {
        previous + TimeDelta::seconds(1)
    } else if previous <= limit {
        previous
    } else {
        tracing::warn!(
            previous = %previous.to_rfc3339(),
            "the previous manifest's thisUpdate is later than the clock allows: the clock was set back; this manifest's goes back"
        );
        usual
    }
}

/// Whether something expiring at `not_after` is within `before` of `now`,
/// inclusive: from that moment it is reissued, since that moment is what
/// the scheduler wakes up for.
pub fn expires_within(not_after: Time, now: Time, before: TimeDelta) -> bool {
    crate::time_diff(not_after, now) <= before
}

/// Whether a point's manifest and CRL must be reissued at `now`, its
/// manifest's nextUpdate being `next_update` (none: no manifest yet).
pub fn refresh_due(next_update: Option<Time>, now: Time, timing: &Timing) -> bool {
    next_update.is_none_or(|next| expires_within(next, now, timing.mft_crl_reissue_before))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Time {
        text.parse().unwrap()
    }

    #[test]
    fn manifest_this_update_goes_forward_and_keeps_off_the_clock() {
        let backdate = TimeDelta::minutes(5);
        let now = at("2026-12-02T12:00:00.700Z");
        let next = |previous: &str| manifest_this_update(now, backdate, Some(at(previous)));
        // No manifest before, or one signed long ago: the backdated time,
        // in whole seconds.
        assert_eq!(
            manifest_this_update(now, backdate, None),
            at("2026-12-02T11:55:00Z")
        );
        assert_eq!(next("2026-12-02T11:00:00Z"), at("2026-12-02T11:55:00Z"));
        // One signed within the same second, or a burst that already ran
        // ahead of the backdate: one second after it.
        assert_eq!(next("2026-12-02T11:55:00Z"), at("2026-12-02T11:55:01Z"));
        assert_eq!(next("2026-12-02T11:58:59Z"), at("2026-12-02T11:59:00Z"));
        // A minute from the clock: the same thisUpdate again, never later.
        assert_eq!(next("2026-12-02T11:59:00Z"), at("2026-12-02T11:59:00Z"));
        // The clock set back behind the previous manifest.
        assert_eq!(next("2026-12-02T13:00:00Z"), at("2026-12-02T11:55:00Z"));
    }

    #[test]
    fn jitter_stays_below_the_bound_and_spreads() {
        let timing = Timing::default();
        let mut seen = std::collections::BTreeSet::new();
        for i in 0u64..200 {
            let mut a = [0u8; 20];
            a[12..20].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
            a[0] = 0;
            let j = jitter(Serial::from_array(a).unwrap(), &timing);
            assert!(j >= TimeDelta::zero() && j < timing.jitter);
            seen.insert(j.num_minutes());
        }
        assert!(seen.len() > 40, "spread over the hour: {}", seen.len());
        let none = Timing {
            jitter: TimeDelta::zero(),
            ..Timing::default()
        };
        assert_eq!(jitter(Serial::from(7u64), &none), TimeDelta::zero());
    }
}
