//! Profile rules read from an object's DER before the `rpki` crate decodes
//! it, by the validator for what it fetches and by the CA engine for what
//! it just signed: the MUSTs of RFC 6487, RFC 7318, RFC 7935 and RFC 5280 that the
//! crate's decoding and validation let through (extension criticality and
//! the closed extension list, policy qualifiers, key size, time encodings,
//! serial numbers, CRL fields).
//!
//! Each check returns the rule it found broken, with its RFC section, as
//! the reason the walk reports. The checks only read: no signature is
//! verified here. Malformed DER is refused as such; the `rpki` crate would
//! refuse it too.
#![forbid(unsafe_code)]

/// What a certificate is for, which decides some of its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// A self-signed trust anchor certificate.
    TrustAnchor,
    /// A CA certificate issued by another CA.
    Ca,
    /// The EE certificate of a signed object (RFC 6488).
    Ee,
    /// A BGPsec router certificate (RFC 8209): an EE certificate with
    /// an ECDSA P-256 key, the id-kp-bgpsec-router extended key usage,
    /// AS resources only and no SIA.
    Router,
}

impl CertKind {
    /// Whether certificates of this kind are CA certificates.
    fn is_ca(self) -> bool {
        matches!(self, CertKind::TrustAnchor | CertKind::Ca)
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const PRINTABLE_STRING: u8 = 0x13;
const IA5_STRING: u8 = 0x16;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` constructed: a certificate's version, a CRL's extensions, the
/// certificates of a CMS signed-data, an AS resource set's `asnum`.
const CTX_0: u8 = 0xa0;
/// `[1]` constructed: an AS resource set's `rdi`, a SignedData's `crls`.
const CTX_1: u8 = 0xa1;
/// `[1]` and `[2]` primitive: issuerUniqueID and subjectUniqueID.
const ISSUER_UID: u8 = 0x81;
const SUBJECT_UID: u8 = 0x82;
/// `[0]` primitive: a SignerInfo's `sid` as a subjectKeyIdentifier.
const SID_KEY_IDENTIFIER: u8 = 0x80;
/// `[3]` constructed: a certificate's extensions.
const CTX_3: u8 = 0xa3;
/// `[2]` constructed: a DistributionPoint's cRLIssuer.
const CTX_2: u8 = 0xa2;
/// `[1]` primitive: a DistributionPoint's reasons.
const DP_REASONS: u8 = 0x81;
/// `[6]` primitive: a GeneralName that is a URI (an IA5String).
const GENERAL_NAME_URI: u8 = 0x86;

/// 2.5.4.3, id-at-commonName.
const AT_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// 2.5.4.5, id-at-serialNumber.
const AT_SERIAL_NUMBER: &[u8] = &[0x55, 0x04, 0x05];
/// 1.2.840.113549.1.7.2, id-signedData.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// 1.2.840.113549.1.9.16.1.35, id-ct-rpkiGhostbusters (RFC 6493 §6).
const CT_GHOSTBUSTERS: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x23,
];
/// 1.2.840.113549.1.9.16.1.26, id-ct-rpkiManifest (RFC 9286 §4.1).
const CT_MANIFEST: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x1a,
];
/// 1.2.840.113549.1.9.16.1.24, id-ct-routeOriginAuthz (RFC 9582 §3).
const CT_ROA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x18,
];
/// 1.2.840.113549.1.9.16.1.49, id-ct-ASPA (draft-ietf-sidrops-aspa-profile §3).
const CT_ASPA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x31,
];
/// 1.2.840.113549.1.9.3, id-contentType.
const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// 1.2.840.113549.1.9.4, id-messageDigest.
const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// 1.2.840.113549.1.9.5, id-signingTime.
const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// 2.16.840.1.101.3.4.2.1, id-sha256.
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// 1.2.840.113549.1.1.11, sha256WithRSAEncryption.
const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// 1.2.840.113549.1.1.1, rsaEncryption.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// 2.5.29.19, basicConstraints.
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// 2.5.29.14, subjectKeyIdentifier.
const SKI: &[u8] = &[0x55, 0x1d, 0x0e];
/// 2.5.29.35, authorityKeyIdentifier.
const AKI: &[u8] = &[0x55, 0x1d, 0x23];
/// 2.5.29.15, keyUsage.
const KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
/// 2.5.29.37, extKeyUsage.
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// 1.3.6.1.5.5.7.3.30, id-kp-bgpsec-router (RFC 8209 §3.1.3.2).
const KP_BGPSEC_ROUTER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x1e];
/// 1.2.840.10045.2.1, id-ecPublicKey (RFC 8608 §3.1).
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7, secp256r1 (RFC 8608 §3.1).
const SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// 2.5.29.31, cRLDistributionPoints.
const CRL_DP: &[u8] = &[0x55, 0x1d, 0x1f];
/// 2.5.29.32, certificatePolicies.
const CERT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
/// 2.5.29.20, cRLNumber.
const CRL_NUMBER: &[u8] = &[0x55, 0x1d, 0x14];
/// 1.3.6.1.5.5.7.1.1, authorityInfoAccess.
const AIA: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01];
/// 1.3.6.1.5.5.7.1.11, subjectInfoAccess.
const SIA: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x0b];
/// 1.3.6.1.5.5.7.1.7, id-pe-ipAddrBlocks (RFC 3779).
const IP_RESOURCES: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x07];
/// 1.3.6.1.5.5.7.1.8, id-pe-autonomousSysIds (RFC 3779).
const AS_RESOURCES: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x08];
/// 1.3.6.1.5.5.7.1.28, id-pe-ipAddrBlocks-v2 (RFC 8360).
const IP_RESOURCES_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1c];
/// 1.3.6.1.5.5.7.1.29, id-pe-autonomousSysIds-v2 (RFC 8360).
const AS_RESOURCES_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1d];
/// 1.3.6.1.5.5.7.14.2, id-cp-ipAddr-asNumber (RFC 6484).
const POLICY_RPKI: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x0e, 0x02];
/// 1.3.6.1.5.5.7.14.3, id-cp-ipAddr-asNumber-v2 (RFC 8360).
const POLICY_RPKI_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x0e, 0x03];
/// 1.3.6.1.5.5.7.48.2, id-ad-caIssuers.
const AD_CA_ISSUERS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02];
/// 1.3.6.1.5.5.7.48.5, id-ad-caRepository.
const AD_CA_REPOSITORY: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x05];
/// 1.3.6.1.5.5.7.48.10, id-ad-rpkiManifest.
const AD_RPKI_MANIFEST: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x0a];
/// 1.3.6.1.5.5.7.48.11, id-ad-signedObject.
const AD_SIGNED_OBJECT: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x0b];
/// 1.3.6.1.5.5.7.48.13, id-ad-rpkiNotify (RFC 8182 §3.2).
const AD_RPKI_NOTIFY: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x0d];
/// 1.3.6.1.5.5.7.2.1, id-qt-cps.
const QT_CPS: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x02, 0x01];

/// One DER element: its tag byte, its contents, and all its bytes.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    raw: &'a [u8],
}

/// Reads DER elements one after the other from a slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The elements inside `tlv`.
    fn inside(tlv: Tlv<'a>) -> Reader<'a> {
        Reader(tlv.value)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element's tag, if any.
    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// The next element.
    fn next(&mut self) -> Result<Tlv<'a>, String> {
        let bad = |what: &str| format!("malformed DER: {what}");
        let start = self.0;
        let (&tag, rest) = self.0.split_first().ok_or_else(|| bad("truncated"))?;
        if tag & 0x1f == 0x1f {
            return Err(bad("a multi-byte tag"));
        }
        let (&first, mut rest) = rest.split_first().ok_or_else(|| bad("truncated"))?;
        let len = match first {
            0..=0x7f => usize::from(first),
            0x81..=0x84 => {
                let n = usize::from(first & 0x7f);
                if rest.len() < n {
                    return Err(bad("truncated length"));
                }
                let (bytes, after) = rest.split_at(n);
                rest = after;
                let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
                // X.690 §10.1: the definite form in the fewest octets.
                if len < 0x80 || bytes[0] == 0 {
                    return Err(bad("a length not in its shortest form"));
                }
                len
            }
            _ => return Err(bad("an indefinite or oversized length")),
        };
        if rest.len() < len {
            return Err(bad("truncated"));
        }
        let header = start.len() - rest.len();
        let (value, after) = rest.split_at(len);
        self.0 = after;
        Ok(Tlv {
            tag,
            value,
            raw: &start[..header + len],
        })
    }

    /// The next element, which must have tag `tag`; `what` names it.
    fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        let tlv = self.next()?;
        if tlv.tag != tag {
            return Err(format!("malformed DER: {what} has tag {:#04x}", tlv.tag));
        }
        Ok(tlv)
    }

    /// The next element if it has tag `tag`.
    fn take_if(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, String> {
        if self.peek() == Some(tag) {
            self.next().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every element was read.
    fn end(&self, what: &str) -> Result<(), String> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(format!("malformed DER: unexpected data after {what}"))
        }
    }
}

/// Checks a certificate's profile rules (RFC 6487 §4, RFC 7318 §2,
/// RFC 7935 §3, RFC 5280 §4.1).
pub fn certificate(der: &[u8], kind: CertKind) -> Result<(), String> {
    let mut outer = Reader(der);
    let cert = outer.expect(SEQUENCE, "the certificate")?;
    outer.end("the certificate")?;
    let mut cert = Reader::inside(cert);
    let mut tbs = Reader::inside(cert.expect(SEQUENCE, "tbsCertificate")?);
    let outer_algorithm = cert.expect(SEQUENCE, "the signature algorithm")?;
    // RFC 6487 §4.1: the version MUST be 3 (value 2).
    let version = tbs.take_if(CTX_0)?;
    let v3 = match version {
        Some(v) => {
            let mut v = Reader::inside(v);
            v.expect(INTEGER, "the version")?.value == [2]
        }
        None => false,
    };
    if !v3 {
        return Err("certificate version is not 3 (RFC 6487 §4.1)".into());
    }
    serial(
        tbs.expect(INTEGER, "the serial number")?.value,
        "certificate",
    )?;
    signature_algorithm(
        tbs.expect(SEQUENCE, "the signature algorithm")?,
        outer_algorithm,
        "certificate",
    )?;
    let issuer = tbs.expect(SEQUENCE, "the issuer")?;
    name(issuer, "issuer", "RFC 6487 §4.4")?;
    let mut validity = Reader::inside(tbs.expect(SEQUENCE, "the validity")?);
    let not_before = time(validity.next()?, "notBefore", "RFC 5280 §4.1.2.5")?;
    let not_after = time(validity.next()?, "notAfter", "RFC 5280 §4.1.2.5")?;
    validity.end("the validity")?;
    if not_before > not_after {
        return Err("certificate notBefore is later than its notAfter (RFC 5280 §4.1.2.5)".into());
    }
    let subject = tbs.expect(SEQUENCE, "the subject")?;
    name(subject, "subject", "RFC 6487 §4.5")?;
    // RFC 6487 §4.4: a trust anchor is self-signed, so it is its own issuer.
    if kind == CertKind::TrustAnchor && issuer.value != subject.value {
        return Err(
            "trust anchor certificate's issuer differs from its subject (RFC 6487 §4.4)".into(),
        );
    }
    let spki = tbs.expect(SEQUENCE, "the subject public key info")?;
    if kind == CertKind::Router {
        ec_p256_key(spki)?;
    } else {
        rsa_key(spki)?;
    }
    if tbs.take_if(ISSUER_UID)?.is_some() || tbs.take_if(SUBJECT_UID)?.is_some() {
        return Err(
            "certificate carries issuerUniqueID or subjectUniqueID (RFC 6487 §4, RFC 5280 §4.1.2.8)".into(),
        );
    }
    let Some(extensions) = tbs.take_if(CTX_3)? else {
        return Err("certificate without extensions (RFC 6487 §4.8)".into());
    };
    tbs.end("the extensions")?;
    let mut wrapped = Reader::inside(extensions);
    let list = wrapped.expect(SEQUENCE, "the extensions")?;
    wrapped.end("the extensions")?;
    certificate_extensions(list, kind)
}

/// Whether a certificate's DER carries the basicConstraints extension,
/// read from its extension list without checking anything else: a CA
/// certificate always does (RFC 6487 §4.8.1), a BGPsec router
/// certificate never (RFC 8209 §3.1.3.1). `None` when the DER does not
/// parse as far as the extensions.
pub fn has_basic_constraints(der: &[u8]) -> Option<bool> {
    let mut outer = Reader(der);
    let mut cert = Reader::inside(outer.expect(SEQUENCE, "the certificate").ok()?);
    let mut tbs = Reader::inside(cert.expect(SEQUENCE, "tbsCertificate").ok()?);
    tbs.take_if(CTX_0).ok()?;
    for _ in 0..6 {
        // serial, signature, issuer, validity, subject, key
        tbs.next().ok()?;
    }
    tbs.take_if(ISSUER_UID).ok()?;
    tbs.take_if(SUBJECT_UID).ok()?;
    let Some(extensions) = tbs.take_if(CTX_3).ok()? else {
        return Some(false);
    };
    let mut wrapped = Reader::inside(extensions);
    let mut list = Reader::inside(wrapped.expect(SEQUENCE, "the extensions").ok()?);
    while !list.is_empty() {
        let mut ext = Reader::inside(list.expect(SEQUENCE, "an extension").ok()?);
        if ext.expect(OID, "the extension's id").ok()?.value == BASIC_CONSTRAINTS {
            return Some(true);
        }
    }
    Some(false)
}

/// How an extension must be marked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Critical {
    Yes,
    No,
}

/// RFC 6487 §4.8: the extensions a resource certificate may carry (the
/// list is closed: "Any extensions not explicitly mentioned MUST be
/// absent", §1), how each must be marked, and the section that says
/// so. RFC 8360 §4.2.2 and §4.2.3 add the "-v2" resource extensions.
const CERT_EXTENSIONS: &[(&[u8], &str, Critical, &str)] = &[
    (
        BASIC_CONSTRAINTS,
        "basicConstraints",
        Critical::Yes,
        "RFC 6487 §4.8.1",
    ),
    (SKI, "subjectKeyIdentifier", Critical::No, "RFC 6487 §4.8.2"),
    (
        AKI,
        "authorityKeyIdentifier",
        Critical::No,
        "RFC 6487 §4.8.3",
    ),
    (KEY_USAGE, "keyUsage", Critical::Yes, "RFC 6487 §4.8.4"),
    (
        CRL_DP,
        "cRLDistributionPoints",
        Critical::No,
        "RFC 6487 §4.8.6",
    ),
    (AIA, "authorityInfoAccess", Critical::No, "RFC 6487 §4.8.7"),
    (SIA, "subjectInfoAccess", Critical::No, "RFC 6487 §4.8.8"),
    (
        CERT_POLICIES,
        "certificatePolicies",
        Critical::Yes,
        "RFC 6487 §4.8.9",
    ),
    (
        IP_RESOURCES,
        "IP resources",
        Critical::Yes,
        "RFC 6487 §4.8.10",
    ),
    (
        AS_RESOURCES,
        "AS resources",
        Critical::Yes,
        "RFC 6487 §4.8.11",
    ),
    (
        IP_RESOURCES_V2,
        "IP resources (v2)",
        Critical::Yes,
        "RFC 8360 §4.2.2",
    ),
    (
        AS_RESOURCES_V2,
        "AS resources (v2)",
        Critical::Yes,
        "RFC 8360 §4.2.3",
    ),
];

/// Checks a certificate's extensions: each allowed, once, marked as its
/// section says, and the contents of the policy and resource extensions.
fn certificate_extensions(list: Tlv<'_>, kind: CertKind) -> Result<(), String> {
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut list = Reader::inside(list);
    while !list.is_empty() {
        let (oid, critical, value) = extension(list.next()?)?;
        if seen.contains(&oid) {
            return Err(format!(
                "certificate carries extension {} twice (RFC 5280 §4.2)",
                oid_text(oid)
            ));
        }
        seen.push(oid);
        if oid == EXT_KEY_USAGE && kind == CertKind::Router {
            // RFC 8209 §3.1.3.2: present, not critical, with
            // id-kp-bgpsec-router among its purposes.
            if critical {
                return Err(
                    "router certificate's extendedKeyUsage marked critical (RFC 8209 §3.1.3.2)"
                        .into(),
                );
            }
            let mut outer = Reader(value);
            let mut purposes = Reader::inside(outer.expect(SEQUENCE, "extendedKeyUsage")?);
            let mut router = false;
            while !purposes.is_empty() {
                router |= purposes.expect(OID, "a key purpose")?.value == KP_BGPSEC_ROUTER;
            }
            if !router {
                return Err(
                    "router certificate's extendedKeyUsage lacks id-kp-bgpsec-router (RFC 8209 §3.1.3.2)"
                        .into(),
                );
            }
            continue;
        }
        if oid == EXT_KEY_USAGE {
            // RFC 6487 §4.8.5: never in a CA certificate, nor in the EE
            // certificate of an RPKI signed object.
            return Err(format!(
                "extendedKeyUsage in {} (RFC 6487 §4.8.5)",
                match kind {
                    CertKind::Ee => "a signed object's EE certificate",
                    _ => "a CA certificate",
                }
            ));
        }
        let Some((_, label, marked, section)) = CERT_EXTENSIONS.iter().find(|(id, ..)| *id == oid)
        else {
            return Err(format!(
                "certificate carries extension {} that the profile does not allow (RFC 6487 §1, §4.8)",
                oid_text(oid)
            ));
        };
        match (marked, critical) {
            (Critical::Yes, false) => {
                return Err(format!("{label} extension not marked critical ({section})"));
            }
            (Critical::No, true) => {
                return Err(format!("{label} extension marked critical ({section})"));
            }
            _ => {}
        }
        match oid {
            CERT_POLICIES => policies(value)?,
            IP_RESOURCES | IP_RESOURCES_V2 => ip_resources(value)?,
            AS_RESOURCES | AS_RESOURCES_V2 => {
                as_resources(value)?;
                if kind == CertKind::Router && as_inherit(value)? {
                    return Err(
                        "router certificate inherits its AS resources (RFC 8209 §3.1.3.5)".into(),
                    );
                }
            }
            BASIC_CONSTRAINTS => basic_constraints(value, kind)?,
            KEY_USAGE => key_usage(value, kind)?,
            AKI => authority_key_identifier(value)?,
            SKI => subject_key_identifier(value)?,
            CRL_DP => crl_distribution_points(value)?,
            AIA => authority_info_access(value)?,
            // A router certificate has none (RFC 8209 §3.1.3.3; `presence`).
            SIA if kind != CertKind::Router => subject_info_access(value, kind)?,
            _ => {}
        }
    }
    presence(&seen, kind)
}

/// RFC 6487 §4.8: which extensions a certificate of `kind` must carry
/// and which it must not.
fn presence(seen: &[&[u8]], kind: CertKind) -> Result<(), String> {
    let has = |oid: &[u8]| seen.contains(&oid);
    let ca = kind.is_ca();
    let self_signed = kind == CertKind::TrustAnchor;
    if kind == CertKind::Router {
        // RFC 8209 §3.1.3: the extended key usage, no SIA, no IP
        // resources, AS resources; the rest as any EE certificate.
        let rules: [(bool, &str, &str); 4] = [
            (
                has(EXT_KEY_USAGE),
                "router certificate without extendedKeyUsage",
                "RFC 8209 §3.1.3.2",
            ),
            (
                !has(SIA),
                "router certificate with subjectInfoAccess",
                "RFC 8209 §3.1.3.3",
            ),
            (
                !has(IP_RESOURCES) && !has(IP_RESOURCES_V2),
                "router certificate with IP resources",
                "RFC 8209 §3.1.3.4",
            ),
            (
                has(AS_RESOURCES),
                "router certificate without AS resources",
                "RFC 8209 §3.1.3.5",
            ),
        ];
        if let Some((_, what, section)) = rules.iter().find(|(ok, ..)| !ok) {
            return Err(format!("{what} ({section})"));
        }
    }
    let rules: [(bool, &str, &str); 9] = [
        (
            has(BASIC_CONSTRAINTS) == ca,
            if ca {
                "CA certificate without basicConstraints"
            } else {
                "EE certificate with basicConstraints"
            },
            "RFC 6487 §4.8.1",
        ),
        (
            has(SKI),
            "certificate without subjectKeyIdentifier",
            "RFC 6487 §4.8.2",
        ),
        (
            has(AKI) || self_signed,
            "certificate without authorityKeyIdentifier",
            "RFC 6487 §4.8.3",
        ),
        (
            has(KEY_USAGE),
            "certificate without keyUsage",
            "RFC 6487 §4.8.4",
        ),
        (
            has(CRL_DP) != self_signed,
            if self_signed {
                "self-signed certificate with cRLDistributionPoints"
            } else {
                "certificate without cRLDistributionPoints"
            },
            "RFC 6487 §4.8.6",
        ),
        (
            has(AIA) != self_signed,
            if self_signed {
                "self-signed certificate with authorityInfoAccess"
            } else {
                "certificate without authorityInfoAccess"
            },
            "RFC 6487 §4.8.7",
        ),
        (
            has(SIA) || kind == CertKind::Router,
            "certificate without subjectInfoAccess",
            "RFC 6487 §4.8.8",
        ),
        (
            has(CERT_POLICIES),
            "certificate without certificatePolicies",
            "RFC 6487 §4.8.9",
        ),
        (
            [IP_RESOURCES, AS_RESOURCES, IP_RESOURCES_V2, AS_RESOURCES_V2]
                .iter()
                .any(|o| has(o)),
            "certificate with neither IP nor AS resources",
            "RFC 6487 §4.8.10, §4.8.11",
        ),
    ];
    match rules.iter().find(|(ok, ..)| !ok) {
        Some((_, what, section)) => Err(format!("{what} ({section})")),
        None => Ok(()),
    }
}

/// RFC 6487 §4.8.1: a CA's basicConstraints has cA TRUE and no path
/// length constraint. (An EE certificate has none; see [`presence`].)
fn basic_constraints(value: &[u8], kind: CertKind) -> Result<(), String> {
    let mut outer = Reader(value);
    let mut bc = Reader::inside(outer.expect(SEQUENCE, "basicConstraints")?);
    let ca = bc.take_if(BOOLEAN)?.is_some_and(|b| b.value == [0xff]);
    if !bc.is_empty() {
        return Err("basicConstraints carries a pathLenConstraint (RFC 6487 §4.8.1)".into());
    }
    if kind.is_ca() && !ca {
        return Err("CA certificate's basicConstraints does not set cA (RFC 6487 §4.8.1)".into());
    }
    Ok(())
}

/// RFC 6487 §4.8.4: keyCertSign and cRLSign alone for a CA,
/// digitalSignature alone for an EE certificate.
fn key_usage(value: &[u8], kind: CertKind) -> Result<(), String> {
    let mut outer = Reader(value);
    let bits = outer.expect(BIT_STRING, "keyUsage")?.value;
    let Some((_, bytes)) = bits.split_first() else {
        return Err("malformed DER: an empty keyUsage".into());
    };
    let set: Vec<usize> = bytes
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            (0..8)
                .filter(move |j| b & (0x80 >> j) != 0)
                .map(move |j| i * 8 + j)
        })
        .collect();
    let (want, names): (&[usize], &str) = match kind {
        CertKind::Ee | CertKind::Router => (&[0], "digitalSignature alone in an EE certificate"),
        _ => (&[5, 6], "keyCertSign and cRLSign alone in a CA certificate"),
    };
    if set != want {
        return Err(format!("keyUsage is not {names} (RFC 6487 §4.8.4)"));
    }
    Ok(())
}

/// RFC 6487 §4.8.3: the key identifier alone, without
/// authorityCertIssuer or authorityCertSerialNumber.
fn authority_key_identifier(value: &[u8]) -> Result<(), String> {
    let mut outer = Reader(value);
    let mut aki = Reader::inside(outer.expect(SEQUENCE, "authorityKeyIdentifier")?);
    if aki.take_if(0x80)?.is_none() || !aki.is_empty() {
        return Err(
            "authorityKeyIdentifier is not a key identifier alone (RFC 6487 §4.8.3)".into(),
        );
    }
    Ok(())
}

/// RFC 6487 §4.8.2: the 160-bit SHA-1 hash of the subject's key.
fn subject_key_identifier(value: &[u8]) -> Result<(), String> {
    let mut outer = Reader(value);
    if outer
        .expect(OCTET_STRING, "subjectKeyIdentifier")?
        .value
        .len()
        != 20
    {
        return Err("subjectKeyIdentifier is not 160 bits (RFC 6487 §4.8.2)".into());
    }
    Ok(())
}

/// Whether `uri` (a GeneralName's bytes) starts with `scheme` ("rsync",
/// "https"), compared without case as RFC 3986 §3.1 compares schemes.
fn has_scheme(uri: &[u8], scheme: &str) -> bool {
    uri.len() > scheme.len() + 3
        && uri[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        && &uri[scheme.len()..scheme.len() + 3] == b"://"
}

/// A GeneralName that must be a URI (`what` names where it is, `section`
/// the rule); returns the URI's bytes.
fn uri_name<'a>(tlv: Tlv<'a>, what: &str, section: &str) -> Result<&'a [u8], String> {
    if tlv.tag != GENERAL_NAME_URI {
        return Err(format!("{what} is not a URI ({section})"));
    }
    if !tlv.value.iter().all(|b| (0x21..0x7f).contains(b)) {
        return Err(format!(
            "{what} is not a URI of printable ASCII without spaces ({section}, RFC 5280 §4.2.1.6)"
        ));
    }
    Ok(tlv.value)
}

/// RFC 6487 §4.8.6: one DistributionPoint, whose distributionPoint is a
/// fullName of URIs, an rsync one among them, with neither reasons nor
/// cRLIssuer.
fn crl_distribution_points(value: &[u8]) -> Result<(), String> {
    const RULE: &str = "RFC 6487 §4.8.6";
    let mut outer = Reader(value);
    let mut points = Reader::inside(outer.expect(SEQUENCE, "cRLDistributionPoints")?);
    outer.end("cRLDistributionPoints")?;
    let point = points.expect(SEQUENCE, "a DistributionPoint")?;
    if !points.is_empty() {
        return Err(format!(
            "cRLDistributionPoints holds more than one DistributionPoint ({RULE})"
        ));
    }
    let mut point = Reader::inside(point);
    let Some(name) = point.take_if(CTX_0)? else {
        return Err(format!(
            "CRL DistributionPoint without a distributionPoint ({RULE})"
        ));
    };
    if point.take_if(DP_REASONS)?.is_some() || point.take_if(CTX_2)?.is_some() {
        return Err(format!(
            "CRL DistributionPoint carries reasons or cRLIssuer ({RULE})"
        ));
    }
    point.end("a DistributionPoint")?;
    let mut name = Reader::inside(name);
    let Some(full) = name.take_if(CTX_0)? else {
        return Err(format!("CRL distributionPoint is not a fullName ({RULE})"));
    };
    name.end("a distributionPoint")?;
    let mut names = Reader::inside(full);
    let mut rsync = false;
    while !names.is_empty() {
        let uri = uri_name(names.next()?, "a CRL distribution point", RULE)?;
        rsync |= has_scheme(uri, "rsync");
    }
    if !rsync {
        return Err(format!("cRLDistributionPoints lacks an rsync URI ({RULE})"));
    }
    Ok(())
}

/// An AccessDescription's accessMethod (the OID's contents) and URI.
type Access<'a> = (&'a [u8], &'a [u8]);

/// The AccessDescriptions of an AIA or SIA extension `value` (`what`
/// names it).
fn access_descriptions<'a>(
    value: &'a [u8],
    what: &str,
    section: &str,
) -> Result<Vec<Access<'a>>, String> {
    let mut outer = Reader(value);
    let mut list = Reader::inside(outer.expect(SEQUENCE, what)?);
    outer.end(what)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let mut desc = Reader::inside(list.expect(SEQUENCE, "an AccessDescription")?);
        let method = desc.expect(OID, "an accessMethod")?.value;
        let location = format!("{what} accessLocation for {}", oid_text(method));
        let uri = uri_name(desc.next()?, &location, section)?;
        desc.end("an AccessDescription")?;
        out.push((method, uri));
    }
    Ok(out)
}

/// RFC 6487 §4.8.7: id-ad-caIssuers with an rsync URI, the issuer's
/// certificate.
fn authority_info_access(value: &[u8]) -> Result<(), String> {
    const RULE: &str = "RFC 6487 §4.8.7";
    let list = access_descriptions(value, "authorityInfoAccess", RULE)?;
    if let Some((method, _)) = list.iter().find(|(m, _)| *m != AD_CA_ISSUERS) {
        return Err(format!(
            "authorityInfoAccess has access method {}, not id-ad-caIssuers ({RULE})",
            oid_text(method)
        ));
    }
    if !list.iter().any(|(_, uri)| has_scheme(uri, "rsync")) {
        return Err(format!(
            "authorityInfoAccess lacks an rsync URI for id-ad-caIssuers ({RULE})"
        ));
    }
    Ok(())
}

/// RFC 6487 §4.8.8.1 for a CA (id-ad-caRepository and id-ad-rpkiManifest,
/// each with an rsync URI; RFC 8182 §3.2 id-ad-rpkiNotify, an HTTPS URI),
/// §4.8.8.2 for an EE certificate (id-ad-signedObject with an rsync URI,
/// and no other access method but a stray id-ad-rpkiNotify).
fn subject_info_access(value: &[u8], kind: CertKind) -> Result<(), String> {
    let section = match kind {
        CertKind::Ee => "RFC 6487 §4.8.8.2",
        _ => "RFC 6487 §4.8.8.1",
    };
    let list = access_descriptions(value, "subjectInfoAccess", section)?;
    let rsync_for = |method: &[u8]| {
        list.iter()
            .any(|(m, uri)| *m == method && has_scheme(uri, "rsync"))
    };
    if kind == CertKind::Ee {
        // id-ad-rpkiNotify is let through: RFC 8182 §3.2 asks for it in
        // "resource certificates", which one RIR read as every EE
        // certificate; reported erratum 7239 says CA certificates, and
        // rpki-client skips it here too. It means nothing in an EE
        // certificate, and refusing it would drop that RIR's objects.
        let other = list
            .iter()
            .find(|(m, _)| *m != AD_SIGNED_OBJECT && *m != AD_RPKI_NOTIFY);
        if let Some((method, _)) = other {
            return Err(format!(
                "EE certificate's subjectInfoAccess has access method {} besides id-ad-signedObject ({section})",
                oid_text(method)
            ));
        }
        if !rsync_for(AD_SIGNED_OBJECT) {
            return Err(format!(
                "EE certificate's subjectInfoAccess lacks an rsync URI for id-ad-signedObject ({section})"
            ));
        }
        return Ok(());
    }
    for (method, name) in [
        (AD_CA_REPOSITORY, "id-ad-caRepository"),
        (AD_RPKI_MANIFEST, "id-ad-rpkiManifest"),
    ] {
        if !rsync_for(method) {
            return Err(format!(
                "CA certificate's subjectInfoAccess lacks an rsync URI for {name} ({section})"
            ));
        }
    }
    if list
        .iter()
        .any(|(m, uri)| *m == AD_RPKI_NOTIFY && !has_scheme(uri, "https"))
    {
        return Err("CA certificate's id-ad-rpkiNotify is not an HTTPS URI (RFC 8182 §3.2)".into());
    }
    Ok(())
}

/// Reads one `Extension`: its OID, whether it is critical, its value.
fn extension(tlv: Tlv<'_>) -> Result<(&[u8], bool, &[u8]), String> {
    if tlv.tag != SEQUENCE {
        return Err("malformed DER: an extension is not a SEQUENCE".into());
    }
    let mut ext = Reader::inside(tlv);
    let oid = ext.expect(OID, "an extension's OID")?.value;
    let critical = match ext.take_if(BOOLEAN)? {
        // X.690 §11.5: DER leaves out a value equal to its DEFAULT.
        Some(b) if b.value == [0xff] => true,
        Some(_) => {
            return Err(format!(
                "extension {} encodes critical FALSE, which DER leaves out (X.690 §11.5)",
                oid_text(oid)
            ));
        }
        None => false,
    };
    let value = ext.expect(OCTET_STRING, "an extension's value")?.value;
    ext.end("an extension")?;
    Ok((oid, critical, value))
}

/// RFC 6487 §4.8.9 as RFC 7318 §2 updates it: exactly one policy, the
/// RPKI's, and at most one qualifier, which is a CPS pointer.
fn policies(value: &[u8]) -> Result<(), String> {
    let mut outer = Reader(value);
    let mut list = Reader::inside(outer.expect(SEQUENCE, "certificatePolicies")?);
    outer.end("certificatePolicies")?;
    let info = list.expect(SEQUENCE, "a policy")?;
    if !list.is_empty() {
        return Err("certificatePolicies holds more than one policy (RFC 6487 §4.8.9)".into());
    }
    let mut info = Reader::inside(info);
    let policy = info.expect(OID, "the policy identifier")?.value;
    if policy != POLICY_RPKI && policy != POLICY_RPKI_V2 {
        return Err(format!(
            "certificate policy {} is not the RPKI's (RFC 6484 §1.2, RFC 6487 §4.8.9)",
            oid_text(policy)
        ));
    }
    if let Some(qualifiers) = info.take_if(SEQUENCE)? {
        let mut qualifiers = Reader::inside(qualifiers);
        let first = qualifiers.expect(SEQUENCE, "a policy qualifier")?;
        if !qualifiers.is_empty() {
            return Err("more than one policy qualifier (RFC 7318 §2)".into());
        }
        let mut first = Reader::inside(first);
        let id = first.expect(OID, "a policy qualifier's identifier")?.value;
        if id != QT_CPS {
            return Err(format!(
                "policy qualifier {} is not a CPS pointer (RFC 7318 §2)",
                oid_text(id)
            ));
        }
    }
    info.end("the policy")
}

/// RFC 6487 §4.8.10: IP resources are "a non-empty set of IP address
/// records, or ... inherit", in each address family listed.
fn ip_resources(value: &[u8]) -> Result<(), String> {
    let mut outer = Reader(value);
    let mut families = Reader::inside(outer.expect(SEQUENCE, "IPAddrBlocks")?);
    outer.end("IPAddrBlocks")?;
    if families.is_empty() {
        return Err("IP resources extension without an address family (RFC 6487 §4.8.10)".into());
    }
    while !families.is_empty() {
        let mut family = Reader::inside(families.expect(SEQUENCE, "an IPAddressFamily")?);
        family.expect(OCTET_STRING, "an addressFamily")?;
        let choice = family.next()?;
        if choice.tag == SEQUENCE && choice.value.is_empty() {
            return Err(
                "IP resources extension with an empty address family (RFC 6487 §4.8.10)".into(),
            );
        }
        family.end("an IPAddressFamily")?;
    }
    Ok(())
}

/// Whether AS resources (checked by [`as_resources`]) are inherited.
fn as_inherit(value: &[u8]) -> Result<bool, String> {
    let mut outer = Reader(value);
    let mut ids = Reader::inside(outer.expect(SEQUENCE, "ASIdentifiers")?);
    let mut choice = Reader::inside(ids.expect(CTX_0, "asnum")?);
    Ok(choice.next()?.tag == NULL)
}

/// RFC 6487 §4.8.11: AS resources are `asnum` only (RDI "MUST NOT be
/// used"), either inherited or "a non-empty set of AS number records".
fn as_resources(value: &[u8]) -> Result<(), String> {
    let mut outer = Reader(value);
    let mut ids = Reader::inside(outer.expect(SEQUENCE, "ASIdentifiers")?);
    outer.end("ASIdentifiers")?;
    let asnum = ids.take_if(CTX_0)?;
    if ids.take_if(CTX_1)?.is_some() {
        return Err("AS resources extension carries rdi (RFC 6487 §4.8.11)".into());
    }
    ids.end("ASIdentifiers")?;
    let Some(asnum) = asnum else {
        return Err("AS resources extension without asnum (RFC 6487 §4.8.11)".into());
    };
    let mut choice = Reader::inside(asnum);
    let set = choice.next()?;
    choice.end("asnum")?;
    match set.tag {
        NULL => Ok(()),
        SEQUENCE if set.value.is_empty() => {
            Err("AS resources extension with an empty AS set (RFC 6487 §4.8.11)".into())
        }
        SEQUENCE => Ok(()),
        _ => Err("malformed DER: asnum is neither inherit nor a set".into()),
    }
}

/// RFC 5280 §4.1.2.2 (RFC 6487 §4.2): a serial number is a positive
/// integer of at most 20 octets.
fn serial(value: &[u8], what: &str) -> Result<(), String> {
    match value {
        [] => Err("malformed DER: an empty INTEGER".into()),
        [first, ..] if first & 0x80 != 0 => Err(format!(
            "{what} serial number is negative (RFC 5280 §4.1.2.2)"
        )),
        _ if value.iter().all(|b| *b == 0) => Err(format!(
            "{what} serial number is 0 (RFC 5280 §4.1.2.2, RFC 6487 §4.2)"
        )),
        _ if too_long(value) => Err(format!(
            "{what} serial number is longer than 20 octets (RFC 5280 §4.1.2.2)"
        )),
        _ => Ok(()),
    }
}

/// Whether two DER names are the same name as RFC 5280 §7.1 compares
/// them: the same attribute types in the same order, with values equal
/// after RFC 4518's basic preparation (case folded, surrounding spaces
/// dropped, inner runs of spaces made one), whatever their string type.
/// Names that do not parse are compared byte for byte.
pub fn same_name(a: &[u8], b: &[u8]) -> bool {
    fn prepared(der: &[u8]) -> Option<Vec<(Vec<u8>, String)>> {
        let mut outer = Reader(der);
        let mut rdns = Reader::inside(outer.expect(SEQUENCE, "a name").ok()?);
        let mut out = Vec::new();
        while !rdns.is_empty() {
            let mut set = Reader::inside(rdns.expect(SET, "an RDN").ok()?);
            while !set.is_empty() {
                let mut attr = Reader::inside(set.expect(SEQUENCE, "an attribute").ok()?);
                let id = attr.expect(OID, "a type").ok()?.value.to_vec();
                let value = String::from_utf8_lossy(attr.next().ok()?.value);
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                out.push((id, value.to_lowercase()));
            }
        }
        Some(out)
    }
    match (prepared(a), prepared(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// Whether the non-negative INTEGER contents `value` are a number of more
/// than 20 octets (a 20-octet number with its top bit set takes a 21st,
/// leading zero octet in DER).
fn too_long(value: &[u8]) -> bool {
    let digits = match value {
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    digits.len() > 20
}

/// RFC 6487 §4.4 and §4.5: a name holds one CommonName and at most one
/// serialNumber, each a PrintableString, and nothing else.
fn name(tlv: Tlv<'_>, what: &str, section: &str) -> Result<(), String> {
    let (mut cn, mut sn) = (0, 0);
    let mut rdns = Reader::inside(tlv);
    while !rdns.is_empty() {
        let mut set = Reader::inside(rdns.expect(SET, "a relative distinguished name")?);
        while !set.is_empty() {
            let mut attr = Reader::inside(set.expect(SEQUENCE, "a name attribute")?);
            let id = attr.expect(OID, "a name attribute's type")?.value;
            let value = attr.next()?;
            attr.end("a name attribute")?;
            let count = match id {
                AT_COMMON_NAME => &mut cn,
                AT_SERIAL_NUMBER => &mut sn,
                other => {
                    return Err(format!(
                        "{what} name holds attribute {} other than CommonName and serialNumber ({section})",
                        oid_text(other)
                    ));
                }
            };
            *count += 1;
            if value.tag != PRINTABLE_STRING {
                return Err(format!(
                    "{what} name attribute is not a PrintableString ({section})"
                ));
            }
        }
    }
    if cn != 1 || sn > 1 {
        return Err(format!(
            "{what} name needs one CommonName and at most one serialNumber ({section})"
        ));
    }
    Ok(())
}

/// RFC 5280 §4.1.2.5 (and §5.1.2.4, §5.1.2.6 for CRLs): dates through
/// 2049 are UTCTime, dates from 2050 GeneralizedTime. Returns the time
/// as `YYYYMMDDHHMMSS` digits, which compare in time order.
fn time(tlv: Tlv<'_>, what: &str, section: &str) -> Result<String, String> {
    let text = std::str::from_utf8(tlv.value)
        .ok()
        .and_then(|t| t.strip_suffix('Z'))
        .filter(|t| t.bytes().all(|b| b.is_ascii_digit()));
    let bad = || format!("{what} is not a valid time in the profile's form ({section})");
    let full = match (tlv.tag, text) {
        (UTC_TIME, Some(t)) if t.len() == 12 => {
            let century = if t < "50" { "20" } else { "19" };
            format!("{century}{t}")
        }
        (GENERALIZED_TIME, Some(t)) if t.len() == 14 => {
            if t < "2050" {
                return Err(format!(
                    "{what} before 2050 encoded as GeneralizedTime ({section})"
                ));
            }
            t.to_string()
        }
        _ => return Err(bad()),
    };
    Ok(full)
}

/// Checks a SubjectPublicKeyInfo against RFC 7935 §3: what a child's
/// certificate request must carry before the CA certifies it.
pub fn subject_public_key(der: &[u8]) -> Result<(), String> {
    let mut outer = Reader(der);
    let spki = outer.expect(SEQUENCE, "the subject public key info")?;
    outer.end("the subject public key info")?;
    rsa_key(spki)
}

/// RFC 8608 §3.1: a router's key is id-ecPublicKey on the P-256 curve
/// (secp256r1), an uncompressed point of 65 octets.
fn ec_p256_key(spki: Tlv<'_>) -> Result<(), String> {
    let mut spki = Reader::inside(spki);
    let mut alg = Reader::inside(spki.expect(SEQUENCE, "the key's algorithm")?);
    let is_ec = alg.expect(OID, "the key's algorithm")?.value == EC_PUBLIC_KEY;
    if !is_ec || alg.expect(OID, "the named curve")?.value != SECP256R1 {
        return Err("router key is not an ECDSA P-256 key (RFC 8608 §3.1)".into());
    }
    alg.end("the key's algorithm")?;
    let bits = spki.expect(BIT_STRING, "the public key")?.value;
    spki.end("the subject public key info")?;
    if bits.len() != 66 || bits[..2] != [0, 4] {
        return Err("router key is not an uncompressed P-256 point (RFC 8608 §3.1)".into());
    }
    Ok(())
}

/// RFC 7935 §3: an RSA key with a 2048-bit modulus and exponent 65,537.
fn rsa_key(spki: Tlv<'_>) -> Result<(), String> {
    let mut spki = Reader::inside(spki);
    let mut alg = Reader::inside(spki.expect(SEQUENCE, "the key's algorithm")?);
    if alg.expect(OID, "the key's algorithm")?.value != RSA_ENCRYPTION {
        return Err("subject public key is not an RSA key (RFC 7935 §3)".into());
    }
    let bits = spki.expect(BIT_STRING, "the public key")?.value;
    spki.end("the subject public key info")?;
    let Some((&0, key)) = bits.split_first() else {
        return Err("malformed DER: the public key has unused bits".into());
    };
    let mut outer = Reader(key);
    let mut rsa = Reader::inside(outer.expect(SEQUENCE, "the RSA public key")?);
    let modulus = rsa.expect(INTEGER, "the modulus")?.value;
    let exponent = rsa.expect(INTEGER, "the exponent")?.value;
    rsa.end("the RSA public key")?;
    let modulus = match modulus {
        [0, rest @ ..] => rest,
        all => all,
    };
    if modulus.len() != 256 || modulus[0] & 0x80 == 0 {
        return Err(format!(
            "RSA modulus of {} bits, not 2048 (RFC 7935 §3)",
            modulus.len() * 8 - modulus.first().map_or(0, |b| b.leading_zeros() as usize)
        ));
    }
    if exponent != [0x01, 0x00, 0x01] {
        return Err("RSA public exponent is not 65,537 (RFC 7935 §3)".into());
    }
    Ok(())
}

/// Checks a CRL's profile rules (RFC 6487 §5, RFC 5280 §5).
pub fn crl(der: &[u8]) -> Result<(), String> {
    let mut outer = Reader(der);
    let list = outer.expect(SEQUENCE, "the CRL")?;
    outer.end("the CRL")?;
    let mut list = Reader::inside(list);
    let mut tbs = Reader::inside(list.expect(SEQUENCE, "tbsCertList")?);
    let outer_algorithm = list.expect(SEQUENCE, "the signature algorithm")?;
    // RFC 6487 §5: version 2 CRLs (value 1).
    if tbs.take_if(INTEGER)?.map(|v| v.value) != Some(&[1]) {
        return Err("CRL version is not 2 (RFC 6487 §5)".into());
    }
    signature_algorithm(
        tbs.expect(SEQUENCE, "the signature algorithm")?,
        outer_algorithm,
        "CRL",
    )?;
    name(
        tbs.expect(SEQUENCE, "the issuer")?,
        "CRL issuer",
        "RFC 6487 §5, §4.4",
    )?;
    let this_update = time(tbs.next()?, "CRL thisUpdate", "RFC 5280 §5.1.2.4")?;
    let next_update = match tbs.peek() {
        Some(UTC_TIME | GENERALIZED_TIME) => {
            time(tbs.next()?, "CRL nextUpdate", "RFC 5280 §5.1.2.5")?
        }
        _ => return Err("CRL without nextUpdate (RFC 5280 §5.1.2.5)".into()),
    };
    if this_update > next_update {
        return Err("CRL thisUpdate is later than its nextUpdate (RFC 5280 §5.1.2.5)".into());
    }
    if let Some(revoked) = tbs.take_if(SEQUENCE)? {
        let mut revoked = Reader::inside(revoked);
        while !revoked.is_empty() {
            let mut entry = Reader::inside(revoked.expect(SEQUENCE, "a revoked entry")?);
            serial(entry.expect(INTEGER, "a revoked serial")?.value, "revoked")?;
            time(entry.next()?, "revocationDate", "RFC 5280 §5.1.2.6")?;
            if !entry.is_empty() {
                return Err("CRL entry carries extensions (RFC 6487 §5)".into());
            }
        }
    }
    let Some(extensions) = tbs.take_if(CTX_0)? else {
        return Err("CRL without extensions (RFC 6487 §5)".into());
    };
    tbs.end("the CRL's extensions")?;
    let mut wrapped = Reader::inside(extensions);
    let mut exts = Reader::inside(wrapped.expect(SEQUENCE, "the CRL's extensions")?);
    wrapped.end("the CRL's extensions")?;
    let (mut aki, mut number) = (false, false);
    while !exts.is_empty() {
        let (oid, critical, _) = extension(exts.next()?)?;
        let flag = match oid {
            AKI => &mut aki,
            CRL_NUMBER => &mut number,
            other => {
                return Err(format!(
                    "CRL carries extension {} other than authorityKeyIdentifier and cRLNumber (RFC 6487 §5)",
                    oid_text(other)
                ));
            }
        };
        if std::mem::replace(flag, true) {
            return Err("CRL carries an extension twice (RFC 5280 §5.2)".into());
        }
        if critical {
            return Err(format!(
                "CRL extension {} marked critical (RFC 5280 §5.2.1, §5.2.3)",
                oid_text(oid)
            ));
        }
    }
    if !(aki && number) {
        return Err("CRL lacks authorityKeyIdentifier or cRLNumber (RFC 6487 §5)".into());
    }
    Ok(())
}

/// Checks a signed object's CMS wrapping (RFC 6488 §2.1 as RFC 9589 §4
/// updates it, RFC 7935 §2) and its EE certificate against the
/// certificate rules.
pub fn signed_object(der: &[u8]) -> Result<(), String> {
    let mut outer = Reader(der);
    let mut info = Reader::inside(outer.expect(SEQUENCE, "the ContentInfo")?);
    outer.end("the ContentInfo")?;
    if info.expect(OID, "the content type")?.value != SIGNED_DATA {
        return Err("signed object's content type is not signed-data (RFC 6488 §2.1)".into());
    }
    let mut explicit = Reader::inside(info.expect(CTX_0, "the content")?);
    let mut signed = Reader::inside(explicit.expect(SEQUENCE, "the SignedData")?);
    explicit.end("the content")?;
    info.end("the ContentInfo")?;
    if signed.expect(INTEGER, "the SignedData version")?.value != [3] {
        return Err("SignedData version is not 3 (RFC 6488 §2.1.1)".into());
    }
    let mut digests = Reader::inside(signed.expect(SET, "the digest algorithms")?);
    let digest = digests.expect(SEQUENCE, "a digest algorithm")?;
    if !digests.is_empty() {
        return Err("SignedData lists more than one digest algorithm (RFC 6488 §2.1.2)".into());
    }
    sha256(
        digest,
        "SignedData digest algorithm",
        "RFC 6488 §2.1.2, RFC 7935 §2",
    )?;
    let mut encap = Reader::inside(signed.expect(SEQUENCE, "the encapsulated content")?);
    let content_type = encap.expect(OID, "the eContentType")?.raw;
    let Some(certs) = signed.take_if(CTX_0)? else {
        return Err("signed object without its EE certificate (RFC 6488 §2.1.4)".into());
    };
    let mut certs = Reader::inside(certs);
    let ee = certs.expect(SEQUENCE, "the EE certificate")?;
    if !certs.is_empty() {
        return Err("signed object carries more than one certificate (RFC 6488 §2.1.4)".into());
    }
    if signed.take_if(CTX_1)?.is_some() {
        return Err("signed object carries CRLs (RFC 6488 §2.1.5)".into());
    }
    let mut signers = Reader::inside(signed.expect(SET, "the SignerInfos")?);
    signed.end("the SignedData")?;
    let signer = signers.expect(SEQUENCE, "a SignerInfo")?;
    if !signers.is_empty() {
        return Err("signed object has more than one SignerInfo (RFC 6488 §2.1.6)".into());
    }
    let (sid, attributed_type) = signer_info(signer)?;
    certificate(ee.raw, CertKind::Ee)?;
    if attributed_type != content_type {
        return Err(
            "content-type attribute differs from the eContentType (RFC 6488 §2.1.6.4.1)".into(),
        );
    }
    if Some(sid) != subject_key_id(ee)? {
        return Err(
            "SignerInfo sid is not the EE certificate's subjectKeyIdentifier (RFC 6488 §2.1.6.2)"
                .into(),
        );
    }
    Ok(())
}

/// The subjectKeyIdentifier of the certificate `cert` (already checked),
/// if it has one.
fn subject_key_id<'a>(cert: Tlv<'a>) -> Result<Option<&'a [u8]>, String> {
    let mut cert = Reader::inside(cert);
    let mut tbs = Reader::inside(cert.expect(SEQUENCE, "tbsCertificate")?);
    let mut last = None;
    while !tbs.is_empty() {
        last = Some(tbs.next()?);
    }
    let mut wrapped = Reader::inside(last.ok_or("malformed DER: no extensions")?);
    let mut list = Reader::inside(wrapped.expect(SEQUENCE, "the extensions")?);
    while !list.is_empty() {
        let (oid, _, value) = extension(list.next()?)?;
        if oid == SKI {
            return Ok(Some(
                Reader(value)
                    .expect(OCTET_STRING, "subjectKeyIdentifier")?
                    .value,
            ));
        }
    }
    Ok(None)
}

/// RFC 6488 §2.1.6 (RFC 9589 §4 for the signed attributes): the one
/// SignerInfo of a signed object. Returns its sid (a key identifier) and
/// the value of its content-type attribute (the whole element).
fn signer_info(tlv: Tlv<'_>) -> Result<(&[u8], &[u8]), String> {
    let mut signer = Reader::inside(tlv);
    if signer.expect(INTEGER, "the SignerInfo version")?.value != [3] {
        return Err("SignerInfo version is not 3 (RFC 6488 §2.1.6.1)".into());
    }
    let sid = signer.next()?;
    if sid.tag != SID_KEY_IDENTIFIER {
        return Err("SignerInfo sid is not a subjectKeyIdentifier (RFC 6488 §2.1.6.2)".into());
    }
    let mut content_type: &[u8] = &[];
    sha256(
        signer.expect(SEQUENCE, "the SignerInfo digest algorithm")?,
        "SignerInfo digest algorithm",
        "RFC 6488 §2.1.6.3, RFC 7935 §2",
    )?;
    let Some(attrs) = signer.take_if(CTX_0)? else {
        return Err("SignerInfo without signed attributes (RFC 6488 §2.1.6.4)".into());
    };
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut attrs = Reader::inside(attrs);
    while !attrs.is_empty() {
        let mut attr = Reader::inside(attrs.expect(SEQUENCE, "a signed attribute")?);
        let id = attr.expect(OID, "a signed attribute's type")?.value;
        let mut values = Reader::inside(attr.expect(SET, "a signed attribute's values")?);
        if ![CONTENT_TYPE, MESSAGE_DIGEST, SIGNING_TIME].contains(&id) {
            return Err(format!(
                "signed attribute {} other than content-type, message-digest and signing-time (RFC 9589 §4)",
                oid_text(id)
            ));
        }
        let value = values.next()?;
        if id == CONTENT_TYPE {
            content_type = value.raw;
        }
        if !values.is_empty() || seen.contains(&id) {
            return Err(format!(
                "signed attribute {} has more than one value (RFC 5652 §11, RFC 9589 §4)",
                oid_text(id)
            ));
        }
        seen.push(id);
    }
    if seen.len() != 3 {
        return Err(
            "signed attributes lack content-type, message-digest or signing-time (RFC 9589 §4)"
                .into(),
        );
    }
    let mut alg = Reader::inside(signer.expect(SEQUENCE, "the signature algorithm")?);
    let alg = alg.expect(OID, "the signature algorithm")?.value;
    if alg != RSA_ENCRYPTION && alg != SHA256_WITH_RSA {
        return Err(format!(
            "SignerInfo signature algorithm {} is neither rsaEncryption nor sha256WithRSAEncryption (RFC 7935 §2)",
            oid_text(alg)
        ));
    }
    signer.expect(OCTET_STRING, "the signature")?;
    if !signer.is_empty() {
        return Err("SignerInfo carries unsigned attributes (RFC 6488 §2.1.6.7)".into());
    }
    Ok((sid.value, content_type))
}

/// Fails unless `alg` is the AlgorithmIdentifier of SHA-256.
fn sha256(alg: Tlv<'_>, what: &str, section: &str) -> Result<(), String> {
    let mut alg = Reader::inside(alg);
    let id = alg.expect(OID, what)?.value;
    if id != SHA256 {
        return Err(format!(
            "{what} {} is not SHA-256 ({section})",
            oid_text(id)
        ));
    }
    Ok(())
}

/// RFC 7935 §2 and RFC 5280 §4.1.1.2 (§5.1.1.2 for CRLs): an object is
/// signed with sha256WithRSAEncryption, named the same inside and
/// outside what is signed.
fn signature_algorithm(inner: Tlv<'_>, outer: Tlv<'_>, what: &str) -> Result<(), String> {
    if inner.raw != outer.raw {
        return Err(format!(
            "{what}'s two signature algorithm fields differ (RFC 5280 §4.1.1.2, §5.1.1.2)"
        ));
    }
    let mut alg = Reader::inside(inner);
    let id = alg.expect(OID, "the signature algorithm")?.value;
    if id != SHA256_WITH_RSA {
        return Err(format!(
            "{what} signed with {}, not sha256WithRSAEncryption (RFC 7935 §2)",
            oid_text(id)
        ));
    }
    Ok(())
}

/// A signed object's eContentType (the OID's contents) and eContent, and
/// the SignedData's elements after them (certificates on), read without
/// checking the rest.
fn encapsulated(der: &[u8]) -> Result<(&[u8], &[u8], Reader<'_>), String> {
    let mut outer = Reader(der);
    let mut info = Reader::inside(outer.expect(SEQUENCE, "the ContentInfo")?);
    info.expect(OID, "the content type")?;
    let mut explicit = Reader::inside(info.expect(CTX_0, "the content")?);
    let mut signed = Reader::inside(explicit.expect(SEQUENCE, "the SignedData")?);
    signed.expect(INTEGER, "the SignedData version")?;
    signed.expect(SET, "the digest algorithms")?;
    let mut encap = Reader::inside(signed.expect(SEQUENCE, "the encapsulated content")?);
    let content_type = encap.expect(OID, "the eContentType")?.value;
    let mut wrapped = Reader::inside(encap.expect(CTX_0, "the eContent")?);
    let content = wrapped.expect(OCTET_STRING, "the eContent")?.value;
    Ok((content_type, content, signed))
}

/// What a signed object carries: its eContentType, its eContent, and
/// the extensions of its EE certificate as `(OID, value)`. Only for an
/// object that passed [`signed_object`].
struct Signed<'a> {
    content_type: &'a [u8],
    content: &'a [u8],
    ee_extensions: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Signed<'a> {
    /// Checks `der` as a signed object and takes it apart.
    fn read(der: &'a [u8]) -> Result<Signed<'a>, String> {
        signed_object(der)?;
        let (content_type, content, mut signed) = encapsulated(der)?;
        let mut certs = Reader::inside(signed.expect(CTX_0, "the certificates")?);
        let mut ee = Reader::inside(certs.expect(SEQUENCE, "the EE certificate")?);
        let mut tbs = Reader::inside(ee.expect(SEQUENCE, "tbsCertificate")?);
        let mut last = None;
        while !tbs.is_empty() {
            last = Some(tbs.next()?);
        }
        let mut wrapped = Reader::inside(last.ok_or("malformed DER: no extensions")?);
        let mut list = Reader::inside(wrapped.expect(SEQUENCE, "the extensions")?);
        let mut ee_extensions = Vec::new();
        while !list.is_empty() {
            let (oid, _, value) = extension(list.next()?)?;
            ee_extensions.push((oid, value));
        }
        Ok(Signed {
            content_type,
            content,
            ee_extensions,
        })
    }

    /// The value of the EE certificate's extension `oid`, or of its RFC
    /// 8360 "-v2" form, if present.
    fn ee_extension(&self, oid: &[u8]) -> Option<&'a [u8]> {
        let v2 = match oid {
            IP_RESOURCES => IP_RESOURCES_V2,
            AS_RESOURCES => AS_RESOURCES_V2,
            other => other,
        };
        self.ee_extensions
            .iter()
            .find(|(id, _)| *id == oid || *id == v2)
            .map(|(_, v)| *v)
    }

    /// Whether every resource of the EE certificate is inherited (RFC
    /// 3779 `inherit` in each IP family and for AS numbers).
    fn ee_inherits_all(&self) -> Result<bool, String> {
        let mut all = true;
        if let Some(value) = self.ee_extension(IP_RESOURCES) {
            all &= ip_inherit(value)? == (true, true);
        }
        if let Some(value) = self.ee_extension(AS_RESOURCES) {
            let mut outer = Reader(value);
            let mut ids = Reader::inside(outer.expect(SEQUENCE, "ASIdentifiers")?);
            let mut asnum = Reader::inside(ids.expect(CTX_0, "asnum")?);
            all &= asnum.next()?.tag == NULL;
        }
        Ok(all)
    }
}

/// Whether the IP resources extension `value` inherits (any family,
/// every family).
fn ip_inherit(value: &[u8]) -> Result<(bool, bool), String> {
    let mut outer = Reader(value);
    let mut families = Reader::inside(outer.expect(SEQUENCE, "IPAddrBlocks")?);
    let (mut any, mut every) = (false, true);
    while !families.is_empty() {
        let mut family = Reader::inside(families.expect(SEQUENCE, "an IPAddressFamily")?);
        family.expect(OCTET_STRING, "an addressFamily")?;
        let inherit = family.next()?.tag == NULL;
        any |= inherit;
        every &= inherit;
    }
    Ok((any, every))
}

/// Checks a Ghostbusters record (RFC 6493): the signed object rules, the
/// content type (§6), an EE certificate whose resources are all
/// inherited (§6), and its vCard (§5); returns the vCard's properties.
pub fn ghostbusters(der: &[u8]) -> Result<Vec<(String, String)>, String> {
    let signed = Signed::read(der)?;
    if signed.content_type != CT_GHOSTBUSTERS {
        return Err("not a Ghostbusters record: its content type is not id-ct-rpkiGhostbusters (RFC 6493 §6)".into());
    }
    if !signed.ee_inherits_all()? {
        return Err("Ghostbusters record's EE certificate lists resources instead of inheriting them (RFC 6493 §6)".into());
    }
    vcard(signed.content)
}

/// Checks a manifest (RFC 9286 §4): the signed object rules, the content
/// type, an EE certificate inheriting every resource (§5.1, which RPs
/// verify), and the eContent's fields (§4.2.1, §4.4).
pub fn manifest(der: &[u8]) -> Result<(), String> {
    let signed = Signed::read(der)?;
    if signed.content_type != CT_MANIFEST {
        return Err(
            "not a manifest: its content type is not id-ct-rpkiManifest (RFC 9286 §4.4)".into(),
        );
    }
    if !signed.ee_inherits_all()? {
        return Err(
            "manifest's EE certificate lists resources instead of inheriting them (RFC 9286 §5.1)"
                .into(),
        );
    }
    let mut mft = versioned(signed.content, "manifest", "RFC 9286 §4.2.1")?;
    let number = mft.expect(INTEGER, "the manifestNumber")?.value;
    match number {
        [] => return Err("malformed DER: an empty INTEGER".into()),
        [first, ..] if first & 0x80 != 0 => {
            return Err("manifestNumber is negative (RFC 9286 §4.2)".into());
        }
        _ if too_long(number) => {
            return Err("manifestNumber is longer than 20 octets (RFC 9286 §4.2.1)".into());
        }
        _ => {}
    }
    let this_update = manifest_time(mft.next()?, "thisUpdate")?;
    let next_update = manifest_time(mft.next()?, "nextUpdate")?;
    if next_update <= this_update {
        return Err(
            "manifest nextUpdate is not later than its thisUpdate (RFC 9286 §4.2.1, §4.4)".into(),
        );
    }
    let hash_alg = mft.expect(OID, "the fileHashAlg")?.value;
    if hash_alg != SHA256 {
        return Err(format!(
            "manifest fileHashAlg {} is not SHA-256 (RFC 9286 §4.2.1, RFC 7935 §2)",
            oid_text(hash_alg)
        ));
    }
    let mut list = Reader::inside(mft.expect(SEQUENCE, "the fileList")?);
    mft.end("the manifest")?;
    while !list.is_empty() {
        let mut entry = Reader::inside(list.expect(SEQUENCE, "a FileAndHash")?);
        entry.expect(IA5_STRING, "a file name")?;
        let hash = entry.expect(BIT_STRING, "a file hash")?.value;
        entry.end("a FileAndHash")?;
        if hash.len() != 33 || hash[0] != 0 {
            return Err(
                "manifest lists a hash that is not 256 bits (RFC 9286 §4.2.1, RFC 7935 §2)".into(),
            );
        }
    }
    Ok(())
}

/// A manifest's thisUpdate (`YYYYMMDDHHMMSS`, UTC), read without walking
/// its file list or checking anything else: for the CA engine, which
/// keeps each manifest's thisUpdate later than its predecessor's (RFC
/// 9286 §4.2.1), and for a validator comparing a manifest with the one
/// it validated before.
pub fn manifest_this_update(der: &[u8]) -> Result<String, String> {
    let (_, content, _) = encapsulated(der)?;
    let mut mft = versioned(content, "manifest", "RFC 9286 §4.2.1")?;
    mft.expect(INTEGER, "the manifestNumber")?;
    manifest_time(mft.next()?, "thisUpdate")
}

/// The fields of a signed object's eContent (`what`: "ROA",
/// "manifest"), a SEQUENCE whose `version [0] INTEGER DEFAULT 0` must be
/// 0 where present (`section`), read past the version.
fn versioned<'a>(content: &'a [u8], what: &str, section: &str) -> Result<Reader<'a>, String> {
    let mut outer = Reader(content);
    let mut fields = Reader::inside(outer.expect(SEQUENCE, what)?);
    outer.end(what)?;
    if let Some(version) = fields.take_if(CTX_0)? {
        let mut version = Reader::inside(version);
        if version.expect(INTEGER, "the version")?.value != [0] {
            return Err(format!("{what} version is not 0 ({section})"));
        }
    }
    Ok(fields)
}

/// A manifest's thisUpdate or nextUpdate: GeneralizedTime in UTC with
/// seconds and no fraction (RFC 9286 §4.2.1, RFC 5280 §4.1.2.5.2).
fn manifest_time(tlv: Tlv<'_>, what: &str) -> Result<String, String> {
    let text = std::str::from_utf8(tlv.value)
        .ok()
        .and_then(|t| t.strip_suffix('Z'))
        .filter(|t| t.len() == 14 && t.bytes().all(|b| b.is_ascii_digit()));
    match (tlv.tag, text) {
        (GENERALIZED_TIME, Some(t)) => Ok(t.to_string()),
        _ => Err(format!(
            "manifest {what} is not a GeneralizedTime in UTC with seconds (RFC 9286 §4.2.1, RFC 5280 §4.1.2.5.2)"
        )),
    }
}

/// Checks a ROA (RFC 9582): the signed object rules, the content type
/// (§3), the eContent's fields (§4), and an EE certificate with IP
/// resources that are not inherited and no AS resources (§5).
pub fn roa(der: &[u8]) -> Result<(), String> {
    let signed = Signed::read(der)?;
    if signed.content_type != CT_ROA {
        return Err(
            "not a ROA: its content type is not id-ct-routeOriginAuthz (RFC 9582 §3)".into(),
        );
    }
    match signed.ee_extension(IP_RESOURCES) {
        None => {
            return Err("ROA's EE certificate has no IP resources extension (RFC 9582 §5)".into());
        }
        Some(value) if ip_inherit(value)?.0 => {
            return Err("ROA's EE certificate inherits IP resources (RFC 9582 §5)".into());
        }
        Some(_) => {}
    }
    if signed.ee_extension(AS_RESOURCES).is_some() {
        return Err("ROA's EE certificate carries AS resources (RFC 9582 §5)".into());
    }
    let mut attestation = versioned(signed.content, "ROA", "RFC 9582 §4.1")?;
    let asid = attestation.expect(INTEGER, "the asID")?.value;
    let asid_ok = match asid {
        [first, ..] if first & 0x80 != 0 => false,
        [0, rest @ ..] => rest.len() <= 4,
        other => !other.is_empty() && other.len() <= 4,
    };
    if !asid_ok {
        return Err("ROA asID is outside 0..4294967295 (RFC 9582 §4.2)".into());
    }
    let mut blocks = Reader::inside(attestation.expect(SEQUENCE, "the ipAddrBlocks")?);
    attestation.end("the ROA")?;
    let mut seen: Vec<&[u8]> = Vec::new();
    while !blocks.is_empty() {
        let mut family = Reader::inside(blocks.expect(SEQUENCE, "a ROAIPAddressFamily")?);
        let afi = family.expect(OCTET_STRING, "an addressFamily")?.value;
        let bits: u32 = match afi {
            [0, 1] => 32,
            [0, 2] => 128,
            _ => {
                return Err("ROA address family is neither 0001 nor 0002 (RFC 9582 §4.3.1)".into());
            }
        };
        if seen.contains(&afi) {
            return Err("ROA lists an address family twice (RFC 9582 §4.3.1)".into());
        }
        seen.push(afi);
        let mut addresses = Reader::inside(family.expect(SEQUENCE, "the addresses")?);
        family.end("a ROAIPAddressFamily")?;
        if addresses.is_empty() {
            return Err("ROA address family without prefixes (RFC 9582 §4)".into());
        }
        while !addresses.is_empty() {
            let mut address = Reader::inside(addresses.expect(SEQUENCE, "a ROAIPAddress")?);
            let prefix = address.expect(BIT_STRING, "a prefix")?.value;
            let len = match prefix {
                [0] => 0,
                [unused, rest @ ..] if *unused < 8 && !rest.is_empty() => {
                    rest.len() as u32 * 8 - u32::from(*unused)
                }
                _ => return Err("malformed DER: a ROA prefix".into()),
            };
            if len > bits {
                return Err(format!(
                    "ROA prefix of {len} bits in a family of {bits} (RFC 9582 §4.3.2.1)"
                ));
            }
            if let Some(max) = address.take_if(INTEGER)? {
                let max = match max.value {
                    [m] if m & 0x80 == 0 => u32::from(*m),
                    [0, m] => u32::from(*m),
                    _ => u32::MAX,
                };
                if max < len || max > bits {
                    return Err(format!(
                        "ROA maxLength {max} outside the prefix length {len} ..= {bits} (RFC 9582 §4.3.2.2)"
                    ));
                }
            }
            address.end("a ROAIPAddress")?;
        }
    }
    if seen.is_empty() {
        return Err("ROA without prefixes (RFC 9582 §4)".into());
    }
    Ok(())
}

/// An ASID (`INTEGER (0..4294967295)`) as DER encodes it, or `None`
/// when it is negative, too long or not minimal.
fn asid(value: &[u8]) -> Option<u32> {
    match value {
        [] => None,
        [first, ..] if first & 0x80 != 0 => None,
        [0, next, ..] if next & 0x80 == 0 => None,
        [0, rest @ ..] if rest.len() == 4 => Some(u32::from_be_bytes(rest.try_into().ok()?)),
        _ if value.len() <= 4 => Some(value.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b))),
        _ => None,
    }
}

/// The ASProviderAttestation of an ASPA (draft-ietf-sidrops-aspa-profile
/// §3): version 1, a customer AS other than AS0, and at least one
/// provider, ascending, unique and never the customer.
fn aspa_content(content: &[u8]) -> Result<(u32, Vec<u32>), String> {
    const PROFILE: &str = "draft-ietf-sidrops-aspa-profile";
    let mut outer = Reader(content);
    let mut fields = Reader::inside(outer.expect(SEQUENCE, "ASProviderAttestation")?);
    outer.end("ASProviderAttestation")?;
    let version = match fields.take_if(CTX_0)? {
        Some(v) => Reader::inside(v).expect(INTEGER, "the version")?.value,
        None => &[0],
    };
    if version != [1] {
        return Err(format!("ASPA version is not 1 ({PROFILE} §3.1)"));
    }
    let customer = asid(fields.expect(INTEGER, "the customerASID")?.value)
        .filter(|c| *c != 0)
        .ok_or_else(|| format!("ASPA customerASID is outside 1..4294967295 ({PROFILE} §3.2)"))?;
    let mut list = Reader::inside(fields.expect(SEQUENCE, "the providers")?);
    fields.end("ASProviderAttestation")?;
    let mut providers: Vec<u32> = Vec::new();
    while !list.is_empty() {
        let p = asid(list.expect(INTEGER, "a provider ASID")?.value)
            .ok_or_else(|| format!("ASPA provider is outside 0..4294967295 ({PROFILE} §3.3)"))?;
        if providers.last().is_some_and(|last| *last >= p) {
            return Err(format!(
                "ASPA providers are not in ascending order without duplicates ({PROFILE} §3.3)"
            ));
        }
        if p == customer {
            return Err(format!(
                "ASPA lists the customer as a provider ({PROFILE} §3.3)"
            ));
        }
        providers.push(p);
    }
    if providers.is_empty() {
        return Err(format!("ASPA without providers ({PROFILE} §3.3)"));
    }
    Ok((customer, providers))
}

/// Checks an ASPA (draft-ietf-sidrops-aspa-profile): the signed object
/// rules, the content type (§3), the ASProviderAttestation (§3: version
/// 1, a customer AS other than AS0, providers ascending, unique, not
/// the customer, at least one), and an EE certificate whose AS resources
/// are exactly the customer AS and that has no IP resources (§4).
/// Returns the customer AS and the providers.
pub fn aspa(der: &[u8]) -> Result<(u32, Vec<u32>), String> {
    const PROFILE: &str = "draft-ietf-sidrops-aspa-profile";
    let signed = Signed::read(der)?;
    if signed.content_type != CT_ASPA {
        return Err(format!(
            "not an ASPA: its content type is not id-ct-ASPA ({PROFILE} §3)"
        ));
    }
    let (customer, providers) = aspa_content(signed.content)?;
    if signed.ee_extension(IP_RESOURCES).is_some() {
        return Err(format!(
            "ASPA's EE certificate carries IP resources ({PROFILE} §4)"
        ));
    }
    let Some(ases) = signed.ee_extension(AS_RESOURCES) else {
        return Err(format!(
            "ASPA's EE certificate has no AS resources ({PROFILE} §4)"
        ));
    };
    let mut outer = Reader(ases);
    let mut ids = Reader::inside(outer.expect(SEQUENCE, "ASIdentifiers")?);
    let mut choice = Reader::inside(ids.expect(CTX_0, "asnum")?);
    let set = choice.next()?;
    let held = match set.tag {
        SEQUENCE => {
            let mut entries = Reader::inside(set);
            let first = entries.next()?;
            (first.tag == INTEGER && entries.is_empty())
                .then(|| asid(first.value))
                .flatten()
        }
        _ => None,
    };
    if held != Some(customer) {
        return Err(format!(
            "ASPA's EE certificate AS resources are not exactly the customer AS{customer} ({PROFILE} §4)"
        ));
    }
    Ok((customer, providers))
}

/// RFC 6493 §5: the properties a Ghostbusters vCard may hold, with
/// whether each must be there. At least one of ADR, TEL and EMAIL must
/// be; nothing else may.
const VCARD_PROPERTIES: &[(&str, bool)] = &[
    ("BEGIN", true),
    ("VERSION", true),
    ("FN", true),
    ("ORG", false),
    ("ADR", false),
    ("TEL", false),
    ("EMAIL", false),
    ("END", true),
];

/// Checks a Ghostbusters record's vCard against the profile of RFC 6493
/// §4 (vCard 4.0 of RFC 6350, lines ending in CRLF and unfolded first);
/// returns the properties as `(NAME, value)` in order, the name in upper
/// case and the value as written (parameters dropped).
pub fn vcard(text: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(text)
        .map_err(|_| "Ghostbusters vCard is not UTF-8 (RFC 6350 §3.1)".to_string())?;
    let Some(body) = text.strip_suffix("\r\n") else {
        return Err("Ghostbusters vCard does not end with CRLF (RFC 6350 §3.2)".into());
    };
    // RFC 6350 §3.2: a line that starts with a space or tab continues the
    // one before it.
    let mut lines: Vec<String> = Vec::new();
    for line in body.split("\r\n") {
        if line.contains('\n') || line.contains('\r') {
            return Err("Ghostbusters vCard has a line not ended by CRLF (RFC 6350 §3.2)".into());
        }
        match (line.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(more), Some(last)) => last.push_str(more),
            _ => lines.push(line.to_string()),
        }
    }
    let mut properties = Vec::new();
    for line in &lines {
        // RFC 6350 §3.3: [group "."] name *(";" param) ":" value, where
        // a quoted parameter value may hold a colon.
        let mut quoted = false;
        let colon = line.char_indices().find_map(|(i, c)| {
            match c {
                '"' => quoted = !quoted,
                ':' if !quoted => return Some(i),
                _ => {}
            }
            None
        });
        let Some(colon) = colon else {
            return Err(format!(
                "Ghostbusters vCard line {line:?} has no value (RFC 6350 §3.3)"
            ));
        };
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let name = head.split(';').next().unwrap_or_default();
        let name = name
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !VCARD_PROPERTIES.iter().any(|(known, _)| *known == name) {
            return Err(format!(
                "Ghostbusters vCard holds property {name}, which RFC 6493 §5 does not allow"
            ));
        }
        if properties
            .iter()
            .any(|(seen, _): &(String, String)| *seen == name)
            && matches!(name.as_str(), "BEGIN" | "VERSION" | "END")
        {
            return Err(format!(
                "Ghostbusters vCard holds {name} twice (RFC 6493 §5)"
            ));
        }
        properties.push((name, value.to_string()));
    }
    for (name, required) in VCARD_PROPERTIES {
        if *required && !properties.iter().any(|(seen, _)| seen == name) {
            return Err(format!("Ghostbusters vCard lacks {name} (RFC 6493 §5)"));
        }
    }
    let first = properties.first().map(|(n, v)| (n.as_str(), v.as_str()));
    let last = properties.last().map(|(n, v)| (n.as_str(), v.as_str()));
    if first.map(|(n, v)| (n, v.to_ascii_uppercase())) != Some(("BEGIN", "VCARD".into()))
        || last.map(|(n, v)| (n, v.to_ascii_uppercase())) != Some(("END", "VCARD".into()))
    {
        return Err(
            "Ghostbusters vCard does not begin with BEGIN:VCARD and end with END:VCARD (RFC 6350 §6.1.1, §6.1.2)".into(),
        );
    }
    if properties.get(1).map(|(n, v)| (n.as_str(), v.as_str())) != Some(("VERSION", "4.0")) {
        return Err("Ghostbusters vCard is not VERSION:4.0 right after BEGIN (RFC 6493 §5, RFC 6350 §6.7.9)".into());
    }
    if !properties
        .iter()
        .any(|(n, _)| matches!(n.as_str(), "ADR" | "TEL" | "EMAIL"))
    {
        return Err("Ghostbusters vCard has none of ADR, TEL and EMAIL (RFC 6493 §5)".into());
    }
    Ok(properties)
}

/// An OID's dotted form, for reasons.
fn oid_text(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc = 0u64;
    for b in oid {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = acc.min(80) / 40;
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER of `tag` around `content`, short lengths only.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        assert!(content.len() < 128);
        let mut out = vec![tag, content.len() as u8];
        out.extend_from_slice(content);
        out
    }

    /// A DER INTEGER of `n` (non-negative, minimal).
    fn int(n: u32) -> Vec<u8> {
        let mut bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        if bytes.first().is_none_or(|b| b & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        tlv(INTEGER, &bytes)
    }

    /// An ASProviderAttestation with `version` (none: absent).
    fn attestation(version: Option<u32>, customer: u32, providers: &[u32]) -> Vec<u8> {
        let mut fields = Vec::new();
        if let Some(v) = version {
            fields.extend(tlv(CTX_0, &int(v)));
        }
        fields.extend(int(customer));
        let list: Vec<u8> = providers.iter().flat_map(|p| int(*p)).collect();
        fields.extend(tlv(SEQUENCE, &list));
        tlv(SEQUENCE, &fields)
    }

    #[test]
    fn aspa_content_rules() {
        assert_eq!(
            aspa_content(&attestation(Some(1), 64496, &[0, 64500, 4_200_000_000])),
            Ok((64496, vec![0, 64500, 4_200_000_000]))
        );
        for (der, says) in [
            (attestation(None, 64496, &[64500]), "version is not 1"),
            (attestation(Some(0), 64496, &[64500]), "version is not 1"),
            (attestation(Some(2), 64496, &[64500]), "version is not 1"),
            (attestation(Some(1), 0, &[64500]), "customerASID"),
            (attestation(Some(1), 64496, &[]), "without providers"),
            (attestation(Some(1), 64496, &[64501, 64500]), "ascending"),
            (attestation(Some(1), 64496, &[64500, 64500]), "ascending"),
            (
                attestation(Some(1), 64496, &[64496]),
                "customer as a provider",
            ),
        ] {
            let e = aspa_content(&der).unwrap_err();
            assert!(e.contains(says), "{e}");
        }
        // A provider ASID that is not minimal DER (00 00 F4) is refused.
        let mut bad = attestation(Some(1), 64496, &[64500]);
        let at = bad.len() - 2; // 00 FB F4: the FB
        bad[at] = 0x00;
        let e = aspa_content(&bad).unwrap_err();
        assert!(e.contains("provider is outside"), "{e}");
    }

    #[test]
    fn asids_are_read_as_der_writes_them() {
        assert_eq!(asid(&[0]), Some(0));
        assert_eq!(asid(&[0x7f]), Some(127));
        assert_eq!(asid(&[0, 0x80]), Some(128));
        assert_eq!(asid(&[0, 0xff, 0xff, 0xff, 0xff]), Some(u32::MAX));
        assert_eq!(asid(&[0x80]), None, "negative");
        assert_eq!(asid(&[0, 0x7f]), None, "not minimal");
        assert_eq!(asid(&[1, 0, 0, 0, 0]), None, "too large");
        assert_eq!(asid(&[]), None);
    }

    #[test]
    fn oids_read_as_dotted_text() {
        assert_eq!(oid_text(IP_RESOURCES), "1.3.6.1.5.5.7.1.7");
        assert_eq!(oid_text(RSA_ENCRYPTION), "1.2.840.113549.1.1.1");
        assert_eq!(oid_text(KEY_USAGE), "2.5.29.15");
    }

    #[test]
    fn times_follow_the_2050_rule() {
        let t = |tag, s: &'static str| {
            let value = s.as_bytes();
            time(
                Tlv {
                    tag,
                    value,
                    raw: value,
                },
                "t",
                "§",
            )
        };
        assert_eq!(t(UTC_TIME, "491231235959Z").unwrap(), "20491231235959");
        assert_eq!(t(UTC_TIME, "500101000000Z").unwrap(), "19500101000000");
        assert_eq!(
            t(GENERALIZED_TIME, "20500101000000Z").unwrap(),
            "20500101000000"
        );
        assert!(
            t(GENERALIZED_TIME, "20491231235959Z")
                .unwrap_err()
                .contains("GeneralizedTime")
        );
        assert!(t(UTC_TIME, "4912312359Z").is_err());
        assert!(t(GENERALIZED_TIME, "20500101000000.5Z").is_err());
    }

    #[test]
    fn serials_are_positive_and_short() {
        assert!(serial(&[1], "x").is_ok());
        assert!(serial(&[0, 0x80], "x").is_ok());
        assert!(serial(&[0], "x").unwrap_err().contains("is 0"));
        assert!(serial(&[0x80], "x").unwrap_err().contains("negative"));
        assert!(serial(&[1; 21], "x").unwrap_err().contains("20 octets"));
        assert!(serial(&[[0].as_slice(), &[0xff; 20]].concat(), "x").is_ok());
    }

    #[test]
    fn ghostbusters_vcards_follow_rfc_6493() {
        let good = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:RPKI Team\r\nORG:Example\r\nEMAIL:rpki@example.net\r\nTEL;TYPE=work:+1-555\r\n 0100\r\nEND:VCARD\r\n";
        let props = vcard(good.as_bytes()).unwrap();
        assert_eq!(props[5], ("TEL".into(), "+1-5550100".into()));
        // Groups, a colon in a quoted parameter, a second FN (RFC 6350).
        let more = good.replace(
            "ORG:Example",
            "item1.ORG;X-NOTE=\"a:b\":Example\r\nFN:Second Name",
        );
        let props = vcard(more.as_bytes()).unwrap();
        assert_eq!(props[3], ("ORG".into(), "Example".into()));
        for (bad, why) in [
            (good.replace("\r\n", "\n"), "CRLF"),
            (good.replace("FN:RPKI Team\r\n", ""), "lacks FN"),
            (good.replace("VERSION:4.0", "VERSION:3.0"), "VERSION:4.0"),
            (good.replace("ORG:Example", "NOTE:hello"), "property NOTE"),
            (
                good.replace(
                    "EMAIL:rpki@example.net\r\nTEL;TYPE=work:+1-555\r\n 0100\r\n",
                    "",
                ),
                "none of ADR, TEL and EMAIL",
            ),
            (
                good.replace("VERSION:4.0", "VERSION:4.0\r\nVERSION:4.0"),
                "VERSION twice",
            ),
            (good.replace("END:VCARD\r\n", ""), "lacks END"),
        ] {
            let err = vcard(bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
        }
    }

    #[test]
    fn names_compare_as_rfc_5280_says() {
        let name = |tag: u8, cn: &str| {
            let value = [vec![tag, cn.len() as u8], cn.as_bytes().to_vec()].concat();
            let attr = [vec![0x06, 3], AT_COMMON_NAME.to_vec(), value].concat();
            let seq = [vec![SEQUENCE, attr.len() as u8], attr].concat();
            let set = [vec![SET, seq.len() as u8], seq].concat();
            [vec![SEQUENCE, set.len() as u8], set].concat()
        };
        assert!(same_name(&name(0x13, "ABC12"), &name(0x13, "ABC12")));
        assert!(same_name(&name(0x13, "ABC12"), &name(0x0c, "abc12")));
        assert!(same_name(&name(0x13, " a  b "), &name(0x13, "a b")));
        assert!(!same_name(&name(0x13, "ABC12"), &name(0x13, "ABC13")));
    }

    #[test]
    fn hostile_lengths_are_refused() {
        for der in [
            &[0x30, 0x80, 0, 0][..],
            &[0x30, 0x81, 0x05, 0, 0][..],
            &[0x30, 0x85, 1, 1, 1, 1, 1][..],
            &[0x30, 0x03, 0][..],
            &[0x1f, 0x01, 0][..],
        ] {
            assert!(Reader(der).next().is_err(), "{der:?}");
        }
    }
}
