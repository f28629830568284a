//! CAs, the repository layout, and the issuance steps of CA commands.

use bytes::Bytes;
use rpki::crypto::{KeyIdentifier, PublicKey};
use rpki::repository::x509::{Serial, Time, Validity};
use rpki::uri;

use crate::Timing;
use crate::aspa::{AspaDefinition, aspa_file_name};
use crate::error::CaError;
use crate::objects::{self, CaSigner, Issuer, SubjectInfoAccess, https_uri, rsync_uri};
use crate::point::PublishedObject;
use crate::resources::ResourceSet;
use crate::roa::{RoaPayload, roa_file_name};

/// The handle of the trust anchor; reserved.
pub const TA_HANDLE: &str = "ta";

/// Checks that a handle can name a publication point directory and URI.
pub fn validate_handle(handle: &str) -> Result<(), CaError> {
    // A leading `-` or `_` is refused too: `-x` would read as an option
    // on every command line that names the CA.
    let ok = handle.len() <= 64
        && handle
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CaError::BadHandle(handle.to_string()))
    }
}

/// Where every object of the repository is published.
///
/// Flat layout under the rsync base: the TA certificate at `ta.cer` (or
/// `ta-KEYID.cer` for a key made by a rollover), and
/// one directory per CA named by its handle, so relying parties fetch each
/// publication point separately and no point nests inside another.
#[derive(Clone, Debug)]
pub struct RepositoryLayout {
    /// `rsync://HOST/MODULE/`, ending in `/`.
    pub rsync_base: String,
    /// The RRDP notification URI to put in certificates, once RRDP is served.
    pub notify: Option<String>,
}

impl RepositoryLayout {
    /// The rsync URI of the TA certificate (the TAL points here).
    pub fn ta_cert_uri(&self) -> Result<uri::Rsync, CaError> {
        rsync_uri(&format!("{}ta.cer", self.rsync_base))
    }

    /// The publication point of a CA, ending in `/`.
    pub fn repo_uri(&self, handle: &str) -> Result<uri::Rsync, CaError> {
        rsync_uri(&format!("{}{handle}/", self.rsync_base))
    }

    /// The URI of a CA's certificate: in its parent's publication point,
    /// named after the CA's key so a new key gets a new file.
    pub fn cert_uri(&self, ca: &CaRecord) -> Result<uri::Rsync, CaError> {
        if let Some(uri) = &ca.cert_uri {
            return rsync_uri(uri);
        }
        match &ca.parent {
            None => self.ta_cert_uri(),
            Some(parent) => rsync_uri(&format!(
                "{}{parent}/{}",
                self.rsync_base,
                cert_file_name(&ca.key)
            )),
        }
    }

    /// The SIA of a CA's certificate.
    pub fn sia(&self, handle: &str, key: &KeyIdentifier) -> Result<SubjectInfoAccess, CaError> {
        Ok(SubjectInfoAccess {
            ca_repository: self.repo_uri(handle)?,
            manifest: rsync_uri(&format!("{}{handle}/{key}.mft", self.rsync_base))?,
            notify: self.notify.as_deref().map(https_uri).transpose()?,
        })
    }
}

/// The file name, at the top of the repository, of the certificate of a
/// trust anchor key made by a rollover (the first key's is `ta.cer`).
pub fn ta_cert_file_name(key: &KeyIdentifier) -> String {
    format!("ta-{key}.cer")
}

/// The file name of a CA certificate in its parent's publication point.
pub fn cert_file_name(key: &KeyIdentifier) -> String {
    format!("{key}.cer")
}

/// A CA as stored: identity, resources, key and current certificate.
#[derive(Clone, Debug)]
pub struct CaRecord {
    /// The CA's handle; names its publication point.
    pub handle: String,
    /// The issuing CA; `None` for the trust anchor.
    pub parent: Option<String>,
    /// The resources certified to the CA.
    pub resources: ResourceSet,
    /// The CA's current key.
    pub key: KeyIdentifier,
    /// The CA's current certificate (self-signed for the TA).
    pub cert: Bytes,
    /// The certificate's serial number.
    pub cert_serial: Serial,
    /// The certificate's notAfter.
    pub cert_not_after: Time,
    /// Where the certificate is published, when a remote parent (RFC 6492)
    /// issued it, or for a trust anchor key made by a rollover
    /// (`ta-KEYID.cer`); `None` for the default place.
    pub cert_uri: Option<String>,
}

impl CaRecord {
    /// The CA as an issuer, given its public key.
    pub fn issuer(
        &self,
        layout: &RepositoryLayout,
        public_key: PublicKey,
    ) -> Result<Issuer, CaError> {
        Ok(Issuer {
            key: self.key,
            public_key,
            cert_uri: layout.cert_uri(self)?,
            repo_uri: layout.repo_uri(&self.handle)?,
            not_after: self.cert_not_after,
            resources: self.resources.clone(),
        })
    }
}

fn random_serial<S: CaSigner>(signer: &S) -> Result<Serial, CaError> {
    // RFC 5280 §4.1.2.2: unique per issuer; 159 random bits make a
    // collision practically impossible without keeping a counter.
    Serial::random(signer).map_err(|e| CaError::Signing(e.to_string()))
}

/// Issues the self-signed TA certificate; returns the record's cert fields.
pub fn issue_ta_cert<S: CaSigner>(
    signer: &S,
    layout: &RepositoryLayout,
    key: &KeyIdentifier,
    resources: &ResourceSet,
    now: Time,
    timing: &Timing,
) -> Result<(Bytes, Serial, Time), CaError> {
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.ta_validity);
    let sia = layout.sia(crate::ca::TA_HANDLE, key)?;
    let bytes = objects::ta_certificate(signer, key, resources, &sia, serial, validity)?;
    Ok((bytes, serial, validity.not_after()))
}

/// A CA certificate to be issued: to whom, for which key and resources.
#[derive(Clone, Copy, Debug)]
pub struct ChildCa<'a> {
    /// The child's handle (names its publication point).
    pub handle: &'a str,
    /// The child's public key.
    pub key: &'a PublicKey,
    /// The resources to certify.
    pub resources: &'a ResourceSet,
}

/// Issues a CA certificate for `child` by `parent`.
///
/// The result is the object for the parent's publication point; the
/// child's record takes its bytes, serial and notAfter.
pub fn issue_ca_cert<S: CaSigner>(
    signer: &S,
    layout: &RepositoryLayout,
    parent: &Issuer,
    child: ChildCa<'_>,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let sia = layout.sia(child.handle, &child.key.key_identifier())?;
    issue_cert_with_sia(signer, parent, child, &sia, now, timing)
}

/// Issues a CA certificate with the SIA the subject chose: a delegated
/// child names its own repository in its RFC 6492 certificate request.
pub fn issue_cert_with_sia<S: CaSigner>(
    signer: &S,
    parent: &Issuer,
    child: ChildCa<'_>,
    sia: &SubjectInfoAccess,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let (child_handle, child_key, child_resources) = (child.handle, child.key, child.resources);
    let parent_resources = &parent.resources;
    // RFC 6487 §7.1 / RFC 3779 §2.3: the child's resources must be held by the issuer.
    if !parent_resources.contains(child_resources) {
        return Err(CaError::Overclaim {
            child: child_handle.to_string(),
            parent: parent.repo_uri.to_string(),
            excess: child_resources.difference(parent_resources).to_string(),
        });
    }
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    let key = child_key.key_identifier();
    let bytes = objects::ca_certificate(
        signer,
        parent,
        child_key,
        child_resources,
        sia,
        serial,
        validity,
    )?;
    let not_after = parent.cap(validity.not_after());
    Ok(PublishedObject::new(
        cert_file_name(&key),
        bytes,
        Some(serial),
        not_after,
    ))
}

/// Issues the ROA holding all `payloads` of one ASN, with a fresh EE key.
pub fn issue_roa<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    asn: u32,
    payloads: &[RoaPayload],
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let name = roa_file_name(asn);
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    debug_assert!(payloads.iter().all(|p| p.asn == asn));
    let bytes = objects::roa(signer, issuer, payloads, &name, serial, validity, now)?;
    let not_after = issuer.cap(validity.not_after());
    Ok(PublishedObject::new(name, bytes, Some(serial), not_after))
}

/// Issues the ASPA of `aspa`'s customer AS, with a fresh EE key.
pub fn issue_aspa<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    aspa: &AspaDefinition,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let name = aspa_file_name(aspa.customer);
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    let bytes = objects::aspa(signer, issuer, aspa, &name, serial, validity, now)?;
    let not_after = issuer.cap(validity.not_after());
    Ok(PublishedObject::new(name, bytes, Some(serial), not_after))
}

/// Issues the BGPsec router certificate of `router` (RFC 8209), valid as
/// long as a ROA; the issuer must hold its AS.
pub fn issue_router_cert<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    router: &crate::router::RouterKey,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    if !issuer.resources.asns.contains_value(router.asn) {
        return Err(CaError::AsnNotHeld {
            ca: issuer.repo_uri.to_string(),
            asn: router.asn,
            resources: issuer.resources.to_string(),
        });
    }
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    let bytes = objects::router_certificate(signer, issuer, router, serial, validity)?;
    let not_after = issuer.cap(validity.not_after());
    Ok(PublishedObject::new(
        router.file_name(),
        bytes,
        Some(serial),
        not_after,
    ))
}

/// The file name of a trust anchor's TAK object (RFC 9691 §5 suggests
/// naming it after the key, as the CRL is).
pub fn tak_file_name(key: &KeyIdentifier) -> String {
    format!("{key}.tak")
}

/// The file name of a CA key's Ghostbusters record (RFC 6493).
pub fn ghostbusters_file_name(key: &KeyIdentifier) -> String {
    format!("{key}.gbr")
}

/// Issues the Ghostbusters record (RFC 6493) of CA `issuer` with the
/// contact `vcard`.
pub fn issue_ghostbusters<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    vcard: &str,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let name = ghostbusters_file_name(&issuer.key);
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    let bytes = objects::ghostbusters(signer, issuer, vcard, &name, serial, validity, now)?;
    let not_after = issuer.cap(validity.not_after());
    Ok(PublishedObject::new(name, bytes, Some(serial), not_after))
}

/// Issues the TAK object of trust anchor `issuer` (RFC 9691) naming its
/// current key `current` (and, in a rollover, the predecessor or
/// successor), with a fresh EE key, valid like a ROA.
pub fn issue_tak<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    current: &objects::TakKey,
    predecessor: Option<&objects::TakKey>,
    successor: Option<&objects::TakKey>,
    now: Time,
    timing: &Timing,
) -> Result<PublishedObject, CaError> {
    let name = tak_file_name(&issuer.key);
    let serial = random_serial(signer)?;
    let validity = Validity::new(now - timing.backdate, now + timing.object_validity);
    let bytes = objects::tak(
        signer,
        issuer,
        current,
        predecessor,
        successor,
        &name,
        serial,
        validity,
        now,
    )?;
    let not_after = issuer.cap(validity.not_after());
    Ok(PublishedObject::new(name, bytes, Some(serial), not_after))
}

#[cfg(test)]
mod handle_tests {
    use super::validate_handle;

    #[test]
    fn handles_start_with_a_letter_or_digit() {
        for ok in ["lir1", "a", "9-x_y", &"h".repeat(64)] {
            assert!(validate_handle(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "_x", "a/b", "a b", "ä", &"h".repeat(65)] {
            assert!(validate_handle(bad).is_err(), "{bad:?}");
        }
    }
}
