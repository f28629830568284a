//! Building signed RPKI objects: certificates, ROAs, CRLs and manifests.
//!
//! Every function here is pure apart from the signer: the time, serial
//! numbers and URIs are passed in. Encoding is done by the `rpki` crate;
//! the choices of the RFC 6487 profile are made here and cited.

use bcder::encode::{self, PrimitiveContent, Values};
use bcder::{Mode, Oid, Tag};
use bytes::Bytes;
use rpki::crypto::{DigestAlgorithm, KeyIdentifier, PublicKey, RpkiSignatureAlgorithm, Signer};
use rpki::repository::aspa::AspaBuilder;
use rpki::repository::cert::{ExtendedKeyUsage, KeyUsage, Overclaim, TbsCert};
use rpki::repository::crl::{CrlEntry, TbsCertList};
use rpki::repository::manifest::{FileAndHash, ManifestContent};
use rpki::repository::roa::RoaBuilder;
use rpki::repository::sigobj::{SignedObject, SignedObjectBuilder};
use rpki::repository::x509::{Serial, Time, Validity};
use rpki::resources::Asn;
use rpki::uri;

use anchorage_profile::{self as profile, CertKind};

use crate::aspa::AspaDefinition;
use crate::error::CaError;
use crate::resources::ResourceSet;
use crate::roa::RoaPayload;

/// A signer whose keys are addressed by their subject key identifier.
pub trait CaSigner: Signer<KeyId = KeyIdentifier> {}
impl<S: Signer<KeyId = KeyIdentifier>> CaSigner for S {}

fn signing<E: std::fmt::Display>(err: E) -> CaError {
    CaError::Signing(err.to_string())
}

/// `bytes` if they pass `check`, the profile rules a relying party reads
/// from the DER: every object is checked as it is made, before it is
/// stored or published, so that a fault of ours or a child's key the
/// profile forbids (RFC 7935 §3) never reaches a repository.
fn checked(
    bytes: Bytes,
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<Bytes, CaError> {
    check(&bytes).map_err(CaError::Profile)?;
    Ok(bytes)
}

/// Parses an rsync URI.
pub fn rsync_uri(s: &str) -> Result<uri::Rsync, CaError> {
    uri::Rsync::from_string(s.to_string()).map_err(|_| CaError::BadUri(s.to_string()))
}

/// Parses an https URI.
pub fn https_uri(s: &str) -> Result<uri::Https, CaError> {
    uri::Https::from_string(s.to_string()).map_err(|_| CaError::BadUri(s.to_string()))
}

/// The file name of the manifest of the CA key `key`: its hex SKI.
pub fn manifest_file_name(key: &KeyIdentifier) -> String {
    format!("{key}.mft")
}

/// A CA in its role as issuer: its key and where its products live.
#[derive(Clone, Debug)]
pub struct Issuer {
    /// The CA's current key.
    pub key: KeyIdentifier,
    /// Its public key.
    pub public_key: PublicKey,
    /// Where the CA's own certificate is published (for the AIA of what it issues).
    pub cert_uri: uri::Rsync,
    /// The CA's publication point, ending in `/`.
    pub repo_uri: uri::Rsync,
    /// When the CA's own certificate expires: nothing it issues outlives it.
    pub not_after: Time,
    /// The CA's resources: everything it certifies must be within them.
    pub resources: ResourceSet,
}

impl Issuer {
    /// The file name of the CRL: the hex SKI of the CA key.
    pub fn crl_name(&self) -> String {
        format!("{}.crl", self.key)
    }

    /// The file name of the manifest: the hex SKI of the CA key.
    pub fn manifest_name(&self) -> String {
        manifest_file_name(&self.key)
    }

    /// The rsync URI of a file in the CA's publication point.
    pub fn object_uri(&self, name: &str) -> Result<uri::Rsync, CaError> {
        rsync_uri(&format!("{}{name}", self.repo_uri))
    }

    /// The CRL distribution point of everything this CA issues.
    pub fn crl_uri(&self) -> Result<uri::Rsync, CaError> {
        self.object_uri(&self.crl_name())
    }

    /// `not_after`, or the issuer's own notAfter if that is earlier:
    /// nothing it issues outlives it.
    pub(crate) fn cap(&self, not_after: Time) -> Time {
        if not_after > self.not_after {
            self.not_after
        } else {
            not_after
        }
    }

    /// Signs `content` of type `content_type` as a signed object named
    /// `name`, whose one-time EE certificate inherits every resource (a
    /// TAK, RFC 9691 §3; a Ghostbusters record, RFC 6493 §6).
    fn inheriting<S: CaSigner>(
        &self,
        signer: &S,
        content_type: &'static [u8],
        content: Bytes,
        (name, serial, validity, now): (&str, Serial, Validity, Time),
    ) -> Result<SignedObject, CaError> {
        let mut sigobj = self.sigobj(serial, validity, name, now)?;
        sigobj.set_v4_resources_inherit();
        sigobj.set_v6_resources_inherit();
        sigobj.set_as_resources_inherit();
        sigobj
            .finalize(
                Oid(Bytes::from_static(content_type)),
                content,
                signer,
                &self.key,
            )
            .map_err(signing)
    }

    fn sigobj(
        &self,
        serial: Serial,
        validity: Validity,
        name: &str,
        now: Time,
    ) -> Result<SignedObjectBuilder, CaError> {
        let mut b = SignedObjectBuilder::new(
            serial,
            Validity::new(validity.not_before(), self.cap(validity.not_after())),
            self.crl_uri()?,
            self.cert_uri.clone(),
            self.object_uri(name)?,
        );
        // RFC 6488 §2.1.6.4.3: signing-time, here from the injected clock.
        b.set_signing_time(now);
        Ok(b)
    }
}

/// Where a CA's publication point and manifest are, for its certificate's SIA.
#[derive(Clone, Debug)]
pub struct SubjectInfoAccess {
    /// RFC 6487 §4.8.8.1 id-ad-caRepository.
    pub ca_repository: uri::Rsync,
    /// RFC 6487 §4.8.8.1 id-ad-rpkiManifest.
    pub manifest: uri::Rsync,
    /// RFC 8182 §3.2 id-ad-rpkiNotify, once RRDP is served.
    pub notify: Option<uri::Https>,
}

/// Builds the self-signed trust anchor certificate.
///
/// RFC 6487 §4.8.3/§4.8.6/§4.8.7: a self-signed certificate carries no
/// CRL distribution point and no AIA; its AKI may be omitted, and is.
pub fn ta_certificate<S: CaSigner>(
    signer: &S,
    key: &KeyIdentifier,
    resources: &ResourceSet,
    sia: &SubjectInfoAccess,
    serial: Serial,
    validity: Validity,
) -> Result<Bytes, CaError> {
    let public = signer.get_key_info(key).map_err(signing)?;
    let mut tbs = TbsCert::new(
        serial,
        public.to_subject_name(),
        validity,
        None,
        public,
        KeyUsage::Ca,
        // RFC 6487 §4.8.9: the RFC 6484 policy; never RFC 8360's.
        Overclaim::Refuse,
    );
    tbs.set_basic_ca(Some(true));
    tbs.set_ca_repository(Some(sia.ca_repository.clone()));
    tbs.set_rpki_manifest(Some(sia.manifest.clone()));
    tbs.set_rpki_notify(sia.notify.clone());
    resources.apply_to(&mut tbs);
    let cert = tbs.into_cert(signer, key).map_err(signing)?;
    checked(cert.to_captured().into_bytes(), |der| {
        profile::certificate(der, CertKind::TrustAnchor)
    })
}

/// Builds a CA certificate for a child's key.
pub fn ca_certificate<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    subject: &PublicKey,
    resources: &ResourceSet,
    sia: &SubjectInfoAccess,
    serial: Serial,
    validity: Validity,
) -> Result<Bytes, CaError> {
    let mut tbs = TbsCert::new(
        serial,
        // RFC 6487 §4.4: the issuer name is the subject name of the issuer.
        issuer.public_key.to_subject_name(),
        Validity::new(validity.not_before(), issuer.cap(validity.not_after())),
        None,
        subject.clone(),
        KeyUsage::Ca,
        Overclaim::Refuse,
    );
    tbs.set_basic_ca(Some(true));
    // RFC 6487 §4.8.3: AKI is the issuer's SKI.
    tbs.set_authority_key_identifier(Some(issuer.key));
    tbs.set_crl_uri(Some(issuer.crl_uri()?));
    tbs.set_ca_issuer(Some(issuer.cert_uri.clone()));
    tbs.set_ca_repository(Some(sia.ca_repository.clone()));
    tbs.set_rpki_manifest(Some(sia.manifest.clone()));
    tbs.set_rpki_notify(sia.notify.clone());
    resources.apply_to(&mut tbs);
    let cert = tbs.into_cert(signer, &issuer.key).map_err(signing)?;
    checked(cert.to_captured().into_bytes(), |der| {
        profile::certificate(der, CertKind::Ca)
    })
}

/// Builds a BGPsec router certificate (RFC 8209 §3.1) for `router`'s
/// key: an EE certificate with the router's ECDSA P-256 key, the
/// id-kp-bgpsec-router extended key usage, the one AS as its only
/// resource, and no SIA.
pub fn router_certificate<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    router: &crate::router::RouterKey,
    serial: Serial,
    validity: Validity,
) -> Result<Bytes, CaError> {
    let mut tbs = TbsCert::new(
        serial,
        issuer.public_key.to_subject_name(),
        Validity::new(validity.not_before(), issuer.cap(validity.not_after())),
        None,
        router.key.clone(),
        KeyUsage::Ee,
        Overclaim::Refuse,
    );
    tbs.set_authority_key_identifier(Some(issuer.key));
    tbs.set_crl_uri(Some(issuer.crl_uri()?));
    tbs.set_ca_issuer(Some(issuer.cert_uri.clone()));
    // RFC 8209 §3.1.3.2: the EKU, not critical, with id-kp-bgpsec-router.
    tbs.set_extended_key_usage(Some(ExtendedKeyUsage::create_router()));
    // RFC 8209 §3.1.3.5: AS resources, not inherited; §3.1.3.4: no IP.
    tbs.build_as_resource_blocks(|b| b.push(Asn::from_u32(router.asn)));
    let cert = tbs.into_cert(signer, &issuer.key).map_err(signing)?;
    checked(cert.to_captured().into_bytes(), |der| {
        profile::certificate(der, CertKind::Router)
    })
}

/// Builds a ROA for one ASN with a fresh one-time EE key.
///
/// `payloads` must be canonical (see [`crate::roa::canonical_payloads`]),
/// all of one ASN, and not empty.
pub fn roa<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    payloads: &[RoaPayload],
    name: &str,
    serial: Serial,
    validity: Validity,
    now: Time,
) -> Result<Bytes, CaError> {
    assert!(!payloads.is_empty(), "a ROA needs at least one prefix");
    let asn = payloads[0].asn;
    let mut builder = RoaBuilder::new(Asn::from_u32(asn));
    for p in payloads {
        debug_assert_eq!(p.asn, asn);
        builder.push_addr(
            p.prefix.addr(),
            p.prefix.prefix_len(),
            p.encoded_max_length(),
        );
    }
    let sigobj = issuer.sigobj(serial, validity, name, now)?;
    let roa = builder
        .finalize(sigobj, signer, &issuer.key)
        .map_err(signing)?;
    checked(roa.to_captured().into_bytes(), profile::roa)
}

/// Builds the ASPA of `aspa`'s customer AS with a fresh one-time EE key
/// whose AS resources are exactly the customer AS and which has no IP
/// resources (draft-ietf-sidrops-aspa-profile §4).
pub fn aspa<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    aspa: &AspaDefinition,
    name: &str,
    serial: Serial,
    validity: Validity,
    now: Time,
) -> Result<Bytes, CaError> {
    let providers: Vec<Asn> = aspa.providers.iter().map(|p| Asn::from_u32(*p)).collect();
    let builder = AspaBuilder::new(Asn::from_u32(aspa.customer), providers).map_err(|e| {
        CaError::BadAspa {
            customer: aspa.customer,
            reason: e.to_string(),
        }
    })?;
    let sigobj = issuer.sigobj(serial, validity, name, now)?;
    let object = builder
        .finalize(sigobj, signer, &issuer.key)
        .map_err(signing)?;
    checked(object.to_captured().into_bytes(), |der| {
        let content = profile::aspa(der)?;
        if content != (aspa.customer, aspa.providers.clone()) {
            return Err("the ASPA's content is not the definition it was made from".into());
        }
        Ok(())
    })
}

/// RFC 9691 §3: the content type of a TAK object, id-ct-signedTAL
/// (1.2.840.113549.1.9.16.1.50).
pub const CT_SIGNED_TAL: &[u8] = &[42, 134, 72, 134, 247, 13, 1, 9, 16, 1, 50];

/// One trust anchor key as a TAK object names it (RFC 9691 §3.1,
/// `TAKey`): what a TAL for it holds.
#[derive(Clone, Debug)]
pub struct TakKey {
    /// The TAL's comments, without their leading `#`.
    pub comments: Vec<String>,
    /// The URIs of the TA certificate, rsync and https, at least one.
    pub uris: Vec<String>,
    /// The TA's public key.
    pub key: PublicKey,
}

impl TakKey {
    /// `TAKey ::= SEQUENCE { comments SEQUENCE OF UTF8String,
    /// certificateURIs SEQUENCE SIZE (1..MAX) OF IA5String,
    /// subjectPublicKeyInfo SubjectPublicKeyInfo }`.
    fn encode_ref(&self) -> impl encode::Values + '_ {
        encode::sequence((
            encode::sequence(encode::iter(
                self.comments
                    .iter()
                    .map(|c| c.as_bytes().encode_as(Tag::UTF8_STRING)),
            )),
            encode::sequence(encode::iter(
                self.uris
                    .iter()
                    .map(|u| u.as_bytes().encode_as(Tag::IA5_STRING)),
            )),
            self.key.encode_ref(),
        ))
    }
}

/// Builds a TAK object (RFC 9691): signed by the trust anchor `issuer`
/// itself with a one-time EE certificate whose resources are all
/// inherited (§3), naming the current key and, during a rollover, its
/// predecessor or successor.
///
/// The version field (`INTEGER DEFAULT 0`) is left out, as DER requires
/// for its default value; rpki-client reads a version only as `[0]
/// EXPLICIT` and rejects an untagged one, so this form is the one both
/// accept. Predecessor and successor are `[0]` and `[1]` EXPLICIT.
#[allow(clippy::too_many_arguments)]
pub fn tak<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    current: &TakKey,
    predecessor: Option<&TakKey>,
    successor: Option<&TakKey>,
    name: &str,
    serial: Serial,
    validity: Validity,
    now: Time,
) -> Result<Bytes, CaError> {
    if current.uris.is_empty() {
        return Err(CaError::Signing(
            "a TAK needs at least one certificate URI (RFC 9691 §3.1)".into(),
        ));
    }
    let content = encode::sequence((
        current.encode_ref(),
        predecessor.map(|k| encode::sequence_as(Tag::CTX_0, k.encode_ref())),
        successor.map(|k| encode::sequence_as(Tag::CTX_1, k.encode_ref())),
    ))
    .to_captured(Mode::Der)
    .into_bytes();
    let signed = issuer.inheriting(
        signer,
        CT_SIGNED_TAL,
        content,
        (name, serial, validity, now),
    )?;
    checked(
        signed.encode_ref().to_captured(Mode::Der).into_bytes(),
        profile::signed_object,
    )
}

/// RFC 6493 §6: the content type of a Ghostbusters record,
/// id-ct-rpkiGhostbusters (1.2.840.113549.1.9.16.1.35).
pub const CT_GHOSTBUSTERS: &[u8] = &[42, 134, 72, 134, 247, 13, 1, 9, 16, 1, 35];

/// Checks a key a CA is asked to certify against the algorithm profile
/// (RFC 7935 §3: RSA, 2048 bits, exponent 65,537); the reason names the
/// rule it breaks.
pub fn check_subject_key(key: &PublicKey) -> Result<(), String> {
    profile::subject_public_key(&key.to_info_bytes())
}

/// Checks a contact vCard against the Ghostbusters profile (RFC 6493 §5);
/// the reason names the rule it breaks.
pub fn check_vcard(vcard: &str) -> Result<(), String> {
    profile::vcard(vcard.as_bytes()).map(drop)
}

/// Builds a Ghostbusters record (RFC 6493): the vCard `vcard` (checked
/// against the §5 profile first) signed with a one-time EE certificate
/// whose resources are all inherited (§6).
pub fn ghostbusters<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    vcard: &str,
    name: &str,
    serial: Serial,
    validity: Validity,
    now: Time,
) -> Result<Bytes, CaError> {
    check_vcard(vcard).map_err(CaError::Profile)?;
    let content = Bytes::copy_from_slice(vcard.as_bytes());
    let signed = issuer.inheriting(
        signer,
        CT_GHOSTBUSTERS,
        content,
        (name, serial, validity, now),
    )?;
    checked(
        signed.encode_ref().to_captured(Mode::Der).into_bytes(),
        |der| profile::ghostbusters(der).map(drop),
    )
}

/// A revoked certificate, kept on the CRL until it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The revoked certificate's serial number.
    pub serial: Serial,
    /// When it was revoked.
    pub revoked_at: Time,
    /// When the certificate expires; after that it may leave the CRL.
    pub expires: Time,
}

/// Builds a CRL (RFC 6487 §5).
pub fn crl<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    revocations: &[Revocation],
    number: u64,
    this_update: Time,
    next_update: Time,
) -> Result<Bytes, CaError> {
    let entries: Vec<CrlEntry> = revocations
        .iter()
        .map(|r| CrlEntry::new(r.serial, r.revoked_at))
        .collect();
    let crl = TbsCertList::new(
        RpkiSignatureAlgorithm::default(),
        issuer.public_key.to_subject_name(),
        this_update,
        next_update,
        entries,
        issuer.key,
        Serial::from(number),
    )
    .into_crl(signer, &issuer.key)
    .map_err(signing)?;
    checked(crl.to_captured().into_bytes(), profile::crl)
}

/// Builds a manifest (RFC 9286) listing `files`: name and SHA-256.
#[allow(clippy::too_many_arguments)]
pub fn manifest<S: CaSigner>(
    signer: &S,
    issuer: &Issuer,
    files: &[(String, [u8; 32])],
    number: u64,
    serial: Serial,
    this_update: Time,
    next_update: Time,
) -> Result<Bytes, CaError> {
    let alg = DigestAlgorithm::default();
    let list: Vec<FileAndHash<Bytes, Bytes>> = files
        .iter()
        .map(|(name, hash)| {
            FileAndHash::new(
                Bytes::copy_from_slice(name.as_bytes()),
                Bytes::copy_from_slice(hash),
            )
        })
        .collect();
    let content = ManifestContent::new(Serial::from(number), this_update, next_update, alg, list);
    // RFC 9286 §4.2.1 / §5.1: the EE certificate's validity matches the
    // manifest's thisUpdate..nextUpdate.
    let sigobj = issuer.sigobj(
        serial,
        Validity::new(this_update, next_update),
        &issuer.manifest_name(),
        this_update,
    )?;
    let mft = content
        .into_manifest(sigobj, signer, &issuer.key)
        .map_err(signing)?;
    checked(mft.to_captured().into_bytes(), profile::manifest)
}
