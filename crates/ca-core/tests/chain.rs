//! Issues a TA, a child CA, ROAs, CRLs and manifests with real keys and
//! checks each with the `rpki` crate's own validation (signatures,
//! RFC 6487 profile checks in strict mode, RFC 3779 containment).

use std::sync::Arc;

use anchorage_ca_core::ca::{self, RepositoryLayout};
use anchorage_ca_core::roa::canonical_payloads;
use anchorage_ca_core::{CaError, PublicationPoint, ResourceSet, RoaPayload, Time, Timing};
use anchorage_keys::KeyStore;
use rpki::crypto::{DigestAlgorithm, Signer};
use rpki::repository::tal::TalInfo;
use rpki::repository::{Cert, Crl, Manifest, Roa};

/// An RSA public key with a modulus of `bytes` bytes (top bit set) and
/// exponent 65,537, as a child could send it.
fn rsa_public_key(bytes: usize) -> rpki::crypto::PublicKey {
    fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match value.len() {
            n if n < 0x80 => out.push(n as u8),
            n if n < 0x100 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(value);
        out
    }
    let mut modulus = vec![0u8, 0xc3];
    modulus.extend(std::iter::repeat_n(0x5a, bytes - 1));
    let key = tlv(0x30, &[tlv(0x02, &modulus), tlv(0x02, &[1, 0, 1])].concat());
    let algorithm = tlv(
        0x30,
        &[
            tlv(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let spki = tlv(
        0x30,
        &[algorithm, tlv(0x03, &[vec![0], key].concat())].concat(),
    );
    rpki::crypto::PublicKey::decode(bytes::Bytes::from(spki)).expect("an RSA key")
}

fn payload(asn: u32, prefix: &str, max: Option<u8>) -> RoaPayload {
    RoaPayload::new(asn, prefix.parse().unwrap(), max).unwrap()
}

/// A key store in a directory of its own, the default timing, the
/// current time and a repository layout: what every test starts from.
struct Setup {
    /// Holds the key store's directory for as long as the test runs.
    _dir: tempfile::TempDir,
    keys: KeyStore,
    timing: Timing,
    now: Time,
    layout: RepositoryLayout,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    Setup {
        keys: KeyStore::open(dir.path()).unwrap(),
        _dir: dir,
        timing: Timing::default(),
        now: Time::now(),
        layout: RepositoryLayout {
            rsync_base: "rsync://rpki.example.net/repo/".into(),
            notify: None,
        },
    }
}

/// A trust anchor holding every resource, with a new key.
fn trust_anchor(
    keys: &KeyStore,
    layout: &RepositoryLayout,
    now: Time,
    timing: &Timing,
) -> anchorage_ca_core::CaRecord {
    let key = keys.generate().unwrap();
    let all = ResourceSet::all();
    let (cert, cert_serial, cert_not_after) =
        ca::issue_ta_cert(keys, layout, &key, &all, now, timing).unwrap();
    anchorage_ca_core::CaRecord {
        handle: "ta".into(),
        parent: None,
        resources: all,
        key,
        cert,
        cert_serial,
        cert_not_after,
        cert_uri: None,
    }
}

#[test]
fn issued_chain_validates_with_the_rpki_crate() {
    let Setup {
        _dir,
        keys,
        timing,
        now,
        layout,
    } = setup();

    // Trust anchor with all resources.
    let ta = trust_anchor(&keys, &layout, now, &timing);
    let ta_cert = Cert::decode(ta.cert.clone()).unwrap();
    let ta_rc = ta_cert
        .validate_ta_at(Arc::new(TalInfo::from_name("test".into())), true, now)
        .expect("TA certificate validates strictly");
    let ta_issuer = ta
        .issuer(&layout, keys.get_key_info(&ta.key).unwrap())
        .unwrap();

    // A child CA with a range that is not a prefix, IPv6 and an ASN range.
    let child_key = keys.generate().unwrap();
    let child_pub = keys.get_key_info(&child_key).unwrap();
    let child_res: ResourceSet =
        "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0-198.51.100.200, 2001:db8::/32"
            .parse()
            .unwrap();
    let child_ca = ca::ChildCa {
        handle: "child",
        key: &child_pub,
        resources: &child_res,
    };
    let obj = ca::issue_ca_cert(&keys, &layout, &ta_issuer, child_ca, now, &timing).unwrap();
    let child_cert = Cert::decode(obj.bytes.clone()).unwrap();
    assert_eq!(
        child_cert.ca_repository().unwrap().to_string(),
        "rsync://rpki.example.net/repo/child/"
    );
    let child_rc = child_cert
        .validate_ca_at(&ta_rc, true, now)
        .expect("child certificate validates strictly");

    // Over-claiming is refused before anything is signed.
    let mut narrow_issuer = ta_issuer.clone();
    narrow_issuer.resources = "192.0.2.0/24".parse().unwrap();
    let err =
        ca::issue_ca_cert(&keys, &layout, &narrow_issuer, child_ca, now, &timing).unwrap_err();
    assert!(matches!(err, CaError::Overclaim { .. }), "{err}");

    // A child key the algorithm profile forbids (RFC 7935 §3: 2048 bits)
    // is signed but refused before the certificate leaves the engine.
    let short_key = rsa_public_key(128);
    let weak_child = ca::ChildCa {
        key: &short_key,
        ..child_ca
    };
    let err = ca::issue_ca_cert(&keys, &layout, &ta_issuer, weak_child, now, &timing).unwrap_err();
    assert!(
        matches!(&err, CaError::Profile(why) if why.contains("RSA modulus of 1024 bits, not 2048 (RFC 7935 §3)")),
        "{err}"
    );

    let child = anchorage_ca_core::CaRecord {
        handle: "child".into(),
        parent: Some("ta".into()),
        resources: child_res,
        key: child_key,
        cert: obj.bytes.clone(),
        cert_serial: obj.serial.unwrap(),
        cert_not_after: obj.not_after,
        cert_uri: None,
    };
    let issuer = child.issuer(&layout, child_pub.clone()).unwrap();

    // A ROA with IPv4, IPv6 and maxLength, in canonical order.
    let payloads = canonical_payloads(vec![
        payload(64496, "2001:db8::/32", Some(48)),
        payload(64496, "192.0.2.0/24", None),
        payload(64496, "192.0.2.0/24", Some(26)),
    ]);
    let roa_obj = ca::issue_roa(&keys, &issuer, 64496, &payloads, now, &timing).unwrap();
    let mut point = PublicationPoint::new();
    point.publish(roa_obj.clone(), now);
    point.refresh(&keys, &issuer, now, &timing).unwrap();

    let roa = Roa::decode(roa_obj.bytes.clone(), true).unwrap();
    let (_, content) = roa
        .process(&child_rc, true, |_| Ok(()))
        .expect("ROA validates");
    assert_eq!(content.as_id().into_u32(), 64496);
    let addrs: Vec<String> = content
        .iter()
        .map(|a| format!("{}/{}-{}", a.address(), a.address_length(), a.max_length()))
        .collect();
    assert_eq!(
        addrs,
        ["192.0.2.0/24-24", "192.0.2.0/24-26", "2001:db8::/32-48"]
    );

    let mft_name = issuer.manifest_name();
    let crl_name = issuer.crl_name();
    let check_manifest = |point: &PublicationPoint, number: u64| {
        let mft = Manifest::decode(point.objects[&mft_name].bytes.clone(), true).unwrap();
        let (_, content) = mft
            .validate_at(&child_rc, true, now)
            .expect("manifest validates");
        assert_eq!(content.manifest_number(), number.into());
        let mut listed = Vec::new();
        for item in content.iter() {
            let name = String::from_utf8(item.file().to_vec()).unwrap();
            let hash = DigestAlgorithm::default().digest(&point.objects[&name].bytes);
            assert_eq!(item.hash().as_ref(), hash.as_ref(), "hash of {name}");
            listed.push(name);
        }
        listed.sort();
        listed
    };
    assert_eq!(check_manifest(&point, 1), {
        let mut v = vec![roa_obj.name.clone(), crl_name.clone()];
        v.sort();
        v
    });
    let first_mft_serial = point.objects[&mft_name].serial.unwrap();
    let this_update = |point: &PublicationPoint| {
        let mft = Manifest::decode(point.objects[&mft_name].bytes.clone(), true).unwrap();
        mft.content().this_update()
    };
    let mut this_updates = vec![this_update(&point)];

    // Replacing the ROA revokes the old EE certificate and the old manifest's.
    let replacement = ca::issue_roa(&keys, &issuer, 64496, &payloads[..1], now, &timing).unwrap();
    point.publish(replacement, now);
    point.refresh(&keys, &issuer, now, &timing).unwrap();
    check_manifest(&point, 2);
    this_updates.push(this_update(&point));
    let crl = Crl::decode(point.objects[&crl_name].bytes.clone()).unwrap();
    crl.verify_signature(&child_pub)
        .expect("CRL signed by the CA");
    assert!(crl.contains(roa_obj.serial.unwrap()), "old ROA EE revoked");
    assert!(crl.contains(first_mft_serial), "old manifest EE revoked");

    // Withdrawing removes it from the manifest.
    point.withdraw(&roa_obj.name, now);
    point.refresh(&keys, &issuer, now, &timing).unwrap();
    assert_eq!(check_manifest(&point, 3), vec![crl_name]);
    this_updates.push(this_update(&point));

    // RFC 9286 §4.2.1: three manifests signed at the same instant still
    // carry thisUpdates that go forward, a second apart.
    let seconds: Vec<i64> = this_updates.iter().map(|t| t.timestamp()).collect();
    assert_eq!(seconds, [seconds[0], seconds[0] + 1, seconds[0] + 2]);
}

/// The bound the engine keeps points under (rpki-client reads no file
/// above 4,000,000 bytes) holds for real manifests, and by little.
#[test]
fn manifest_size_stays_within_its_bound() {
    use anchorage_ca_core::point::manifest_bytes_bound;
    let Setup {
        _dir,
        keys,
        timing,
        now,
        layout,
    } = setup();
    let ta = trust_anchor(&keys, &layout, now, &timing);
    let issuer = ta
        .issuer(&layout, keys.get_key_info(&ta.key).unwrap())
        .unwrap();
    for files in [0u64, 3, 20_000] {
        let mut point = PublicationPoint::new();
        for i in 0..files {
            let name = format!("{i:040X}.cer");
            point.publish(
                anchorage_ca_core::PublishedObject::new(
                    name,
                    bytes::Bytes::from_static(b"x"),
                    None,
                    now,
                ),
                now,
            );
        }
        point.refresh(&keys, &issuer, now, &timing).unwrap();
        let mft = &point.objects[&issuer.manifest_name()];
        let listed: Vec<&String> = point.objects.keys().filter(|n| **n != mft.name).collect();
        let bound = manifest_bytes_bound(
            listed.len() as u64,
            listed.iter().map(|n| n.len() as u64).sum(),
        );
        let size = mft.bytes.len() as u64;
        assert!(size <= bound, "{files} files: {size} bytes, bound {bound}");
        assert!(
            bound - size < 4_096 + listed.len() as u64,
            "{files} files: {size} bytes, bound {bound} is loose"
        );
    }
}
