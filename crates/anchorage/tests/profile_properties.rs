//! Mutated objects are never accepted when they break the profile.
//!
//! Property tests over a CA certificate and a CRL the CA issued: random
//! edits of
//! the fields of its to-be-signed part (a value replaced or a bit
//! flipped, a tag changed, an element removed, repeated or added, also
//! inside the DER that extension values wrap), signed again with the
//! issuer's real key so that the signature is no reason to refuse it. The
//! validator's own checks decide (`check_ca_certificate` and
//! `check_crl`, what the walk runs: the profile rules, then the `rpki`
//! crate's decoding and validation against the real issuer). Whatever
//! they accept must pass an independent reading of RFC 6487 §4 and §5
//! and RFC 7935 §3, written here with `x509-parser` rather than the
//! profile crate's own reader, so that a rule missed or misread in one
//! shows. (The time encodings and the RFC 3779 resources are not in that
//! reading: `x509-parser` does not keep a time's ASN.1 type, and the
//! resources' containment is the `rpki` crate's.)
//!
//! The run is deterministic (the same cases each time) unless
//! `PROPTEST_RNG_SEED` is set; `PROPTEST_CASES` changes the number.

mod common;

use std::cell::Cell;
use std::fs;
use std::sync::OnceLock;

use anchorage_validator::walk::{check_ca_certificate, check_crl, check_roa};
use bytes::Bytes;
use common::Cli;
use common::der::{self, Node};
use common::faults::Faults;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rpki::repository::cert::{Cert, ResourceCert};
use rpki::repository::crl::Crl;
use rpki::repository::tal::Tal;
use rpki::repository::x509::Time;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{
    CertificateRevocationList, FromDer, X509Certificate, X509Name, X509Version,
};
use x509_parser::public_key::PublicKey;

/// A constructed OCTET STRING, which DER never uses: marks an OCTET
/// STRING whose contents (an extension's value) were opened for editing.
const OPENED: u8 = 0x24;

/// The tags an edit may give an element.
const TAGS: &[u8] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x30, 0x31, 0x80, 0x81, 0x82,
    0x86, 0xa0, 0xa1, 0xa3,
];

/// One edit: which element (by its number in a walk of the tree, modulo
/// their count), what to do, and bytes to do it with.
#[derive(Clone, Debug)]
struct Edit {
    at: usize,
    op: u8,
    bytes: Vec<u8>,
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        (
            any::<usize>(),
            0u8..12,
            prop::collection::vec(any::<u8>(), 0..12),
        )
            .prop_map(|(at, op, bytes)| Edit { at, op, bytes }),
        1..=3,
    )
}

/// Opens every OCTET STRING that holds one DER element.
fn open(node: Node) -> Node {
    match node {
        Node::Prim(der::OCTET_STRING, bytes) => match Node::try_parse(&bytes) {
            Some(inner) => Node::Cons(OPENED, vec![open(inner)]),
            None => Node::Prim(der::OCTET_STRING, bytes),
        },
        Node::Cons(tag, kids) => Node::Cons(tag, kids.into_iter().map(open).collect()),
        prim => prim,
    }
}

/// Closes what [`open`] opened.
fn close(node: Node) -> Node {
    match node {
        Node::Cons(OPENED, kids) => Node::Prim(
            der::OCTET_STRING,
            kids.into_iter().flat_map(|k| close(k).encode()).collect(),
        ),
        Node::Cons(tag, kids) => Node::Cons(tag, kids.into_iter().map(close).collect()),
        prim => prim,
    }
}

/// The path of every element below and including `node`, in order.
fn paths(node: &Node, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    out.push(at.clone());
    if let Node::Cons(_, kids) = node {
        for (i, kid) in kids.iter().enumerate() {
            at.push(i);
            paths(kid, at, out);
            at.pop();
        }
    }
}

/// Object identifiers a field may be changed to: the profile's own in
/// other places, and some it leaves out.
const OIDS: &[&str] = &[
    "2.5.29.17",
    "2.5.29.37",
    "2.5.29.19",
    "2.5.29.14",
    "2.5.29.35",
    "2.5.29.15",
    "2.5.29.31",
    "2.5.29.32",
    "2.5.29.20",
    "2.5.29.27",
    "1.3.6.1.5.5.7.1.1",
    "1.3.6.1.5.5.7.1.11",
    "1.3.6.1.5.5.7.1.7",
    "1.3.6.1.5.5.7.1.8",
    "1.3.6.1.5.5.7.48.1",
    "1.3.6.1.5.5.7.48.2",
    "1.3.6.1.5.5.7.48.5",
    "1.3.6.1.5.5.7.48.10",
    "1.3.6.1.5.5.7.48.11",
    "1.3.6.1.5.5.7.48.13",
    "1.3.6.1.5.5.7.14.2",
    "2.23.140.1.2.1",
    "1.3.6.1.5.5.7.2.1",
    "1.3.6.1.5.5.7.2.2",
    "2.5.4.3",
    "2.5.4.5",
    "2.5.4.10",
    "1.2.840.113549.1.1.1",
    "1.2.840.113549.1.1.5",
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
];

/// INTEGER contents a field may be changed to: zero, negative, one,
/// 21 octets, a redundant leading zero.
const INTEGERS: &[&[u8]] = &[
    &[0],
    &[0xff],
    &[0x80, 0],
    &[1],
    &[0x11; 21],
    &[0, 0x7f],
    &[0x7f],
];

/// URI schemes a URI may be changed to.
const SCHEMES: &[&str] = &["https", "http", "rsync", "RSYNC", "ftp", ""];

/// Whether `node` is an extension (`SEQUENCE { OID, [BOOLEAN,] value }`).
fn is_extension(node: &Node) -> bool {
    matches!(node, Node::Cons(der::SEQUENCE, kids)
        if kids.len() >= 2
            && kids[0].tag() == der::OID
            && matches!(kids.last().map(Node::tag), Some(der::OCTET_STRING | OPENED)))
}

/// The path of the `n`th (modulo their count) element below `root` for
/// which `pick` holds, if any.
fn pick(root: &Node, n: usize, pick: impl Fn(&Node) -> bool) -> Option<Vec<usize>> {
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    let mut root = root.clone();
    let chosen: Vec<Vec<usize>> = all.into_iter().filter(|p| pick(root.at(p))).collect();
    (!chosen.is_empty()).then(|| chosen[n % chosen.len()].clone())
}

/// Field-aware edits: an OID, an INTEGER, a criticality, a time, a URI
/// scheme changed, or an extension added. False if `edit` is not one.
fn apply_to_a_field(root: &mut Node, edit: &Edit) -> bool {
    let byte = |i: usize| usize::from(edit.bytes.get(i).copied().unwrap_or(0));
    let oid = der::oid(OIDS[byte(0) % OIDS.len()]);
    match edit.op {
        6 => {
            if let Some(path) = pick(root, edit.at, |n| n.tag() == der::OID) {
                *root.at(&path) = oid;
            }
        }
        7 => {
            if let Some(path) = pick(root, edit.at, |n| n.tag() == der::INTEGER) {
                *root.at(&path) =
                    Node::Prim(der::INTEGER, INTEGERS[byte(0) % INTEGERS.len()].to_vec());
            }
        }
        8 => {
            if let Some(path) = pick(root, edit.at, is_extension) {
                let kids = root.at(&path).kids();
                if kids[1].tag() == der::BOOLEAN {
                    kids.remove(1);
                } else {
                    let value = if byte(0) % 4 == 0 { 0x00 } else { 0xff };
                    kids.insert(1, Node::Prim(der::BOOLEAN, vec![value]));
                }
            }
        }
        9 => {
            let time = |n: &Node| matches!(n.tag(), der::UTC_TIME | der::GENERALIZED_TIME);
            if let Some(path) = pick(root, edit.at, time) {
                let node = root.at(&path);
                *node = match node.clone() {
                    Node::Prim(der::UTC_TIME, _) if byte(0) % 2 == 0 => der::generalized(node),
                    Node::Prim(der::UTC_TIME, t) if t.len() > 2 => Node::Prim(
                        der::GENERALIZED_TIME,
                        [b"2051".as_slice(), &t[2..]].concat(),
                    ),
                    Node::Prim(_, t) if t.len() > 2 => Node::Prim(der::UTC_TIME, t[2..].to_vec()),
                    other => other,
                };
            }
        }
        10 => {
            if let Some(path) = pick(root, edit.at, |n| n.tag() == 0x86) {
                let uri = root.at(&path).bytes();
                let rest = match uri.iter().position(|b| *b == b':') {
                    Some(i) => uri[i..].to_vec(),
                    None => uri.clone(),
                };
                let scheme = SCHEMES[byte(0) % SCHEMES.len()];
                *uri = [scheme.as_bytes(), &rest].concat();
            }
        }
        11 => {
            let list = |n: &Node| matches!(n, Node::Cons(der::SEQUENCE, kids) if kids.first().is_some_and(is_extension));
            if let Some(path) = pick(root, edit.at, list) {
                let kids = root.at(&path).kids();
                let added = match byte(1) % 3 {
                    0 => kids[byte(2) % kids.len()].clone(),
                    1 => der::seq(vec![
                        oid,
                        Node::Prim(
                            der::OCTET_STRING,
                            der::seq(vec![Node::Prim(0x82, b"a.example".to_vec())]).encode(),
                        ),
                    ]),
                    _ => der::seq(vec![
                        oid,
                        Node::Prim(
                            der::OCTET_STRING,
                            der::seq(vec![der::oid("1.3.6.1.5.5.7.3.30")]).encode(),
                        ),
                    ]),
                };
                kids.push(added);
            }
        }
        _ => return false,
    }
    true
}

/// Applies `edit` to the tree `root`.
fn apply(root: &mut Node, edit: &Edit) {
    if apply_to_a_field(root, edit) {
        return;
    }
    let mut all = Vec::new();
    paths(root, &mut Vec::new(), &mut all);
    let path = all[edit.at % all.len()].clone();
    let byte = |i: usize| edit.bytes.get(i).copied().unwrap_or(0);
    let new_tag = TAGS[usize::from(byte(0)) % TAGS.len()];
    let Some((&index, parent)) = path.split_last() else {
        // The root itself: only its contents change.
        if let Node::Cons(_, kids) = root {
            kids.push(Node::Prim(new_tag & !0x20, edit.bytes.clone()));
        }
        return;
    };
    let kids = root.at(parent).kids();
    match edit.op {
        0 => {
            let tag = kids[index].tag() & !0x20;
            kids[index] = Node::Prim(tag, edit.bytes.clone());
        }
        1 => {
            if let Node::Prim(_, value) = &mut kids[index] {
                if value.is_empty() {
                    value.push(byte(0));
                } else {
                    let at = usize::from(byte(0)) % value.len();
                    value[at] ^= 1 << (byte(1) % 8);
                }
            }
        }
        2 => {
            let node = std::mem::replace(&mut kids[index], Node::Prim(0, Vec::new()));
            kids[index] = match (node, new_tag & 0x20 != 0) {
                (Node::Prim(_, value), true) => {
                    Node::Cons(new_tag, Node::try_parse_all(&value).unwrap_or_default())
                }
                (Node::Prim(_, value), false) => Node::Prim(new_tag, value),
                (Node::Cons(_, inner), true) => Node::Cons(new_tag, inner),
                (Node::Cons(_, inner), false) => Node::Prim(
                    new_tag,
                    inner.into_iter().flat_map(|k| close(k).encode()).collect(),
                ),
            };
        }
        3 => {
            kids.remove(index);
        }
        4 => {
            let again = kids[index].clone();
            kids.insert(index, again);
        }
        _ => kids.insert(index, Node::Prim(new_tag & !0x20, edit.bytes.clone())),
    }
}

/// What the tests work on: the online CA (the issuer of member CA
/// `m1`) and `m1` as validated from the TAL, the online CA's CRL, and
/// `m1`'s certificate and CRL (which revokes the EE certificates of a
/// removed ROA and of earlier manifests).
struct Setup {
    faults: Faults,
    online: ResourceCert,
    online_crl: Crl,
    m1: ResourceCert,
    cert: Vec<u8>,
    crl: Vec<u8>,
    /// `m1`'s ROA for AS64501 (an IPv4 and an IPv6 prefix).
    roa: Vec<u8>,
    _tmp: tempfile::TempDir,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64500-AS64510, 192.0.2.0/24, 2001:db8::/32");
    cli.roa_add("m1", 64500, "192.0.2.0/24");
    cli.ok(&[
        "roa",
        "remove",
        "m1",
        "--asn",
        "64500",
        "--prefix",
        "192.0.2.0/24",
    ]);
    cli.ok(&[
        "roa",
        "add",
        "m1",
        "--asn",
        "64501",
        "--prefix",
        "2001:db8::/32",
        "--max-length",
        "48",
    ]);
    cli.roa_add("m1", 64501, "192.0.2.0/25");
    let faults = Faults::new(&cli, &tmp.path().join("tree"));
    let now = Time::now();
    let tal_path = cli.tal();
    let tal = Tal::read(&tal_path, &mut fs::File::open(&tal_path).unwrap()).unwrap();
    let read = |rel: String| Bytes::from(fs::read(faults.tree.join(rel)).unwrap());
    let ta = Cert::decode(read("ta.cer".into()))
        .unwrap()
        .validate_ta_at(tal.info().clone(), true, now)
        .unwrap();
    let online_key = faults.key_of("online");
    let m1_key = faults.key_of("m1");
    let online = Cert::decode(read(format!("ta/{online_key}.cer")))
        .unwrap()
        .validate_ca_at(&ta, true, now)
        .unwrap();
    let online_crl = Crl::decode(read(format!("online/{online_key}.crl"))).unwrap();
    let cert = read(format!("online/{m1_key}.cer"));
    let m1 = check_ca_certificate(cert.clone(), (&online, &online_crl), true, now).unwrap();
    let crl = read(format!("m1/{m1_key}.crl")).to_vec();
    let roa = read("m1/AS64501.roa".into()).to_vec();
    Setup {
        faults,
        online,
        online_crl,
        m1,
        cert: cert.to_vec(),
        crl,
        roa,
        _tmp: tmp,
    }
}

impl Setup {
    /// `der` with `edits` in its to-be-signed part, signed by CA `by`.
    fn mutated(&self, der: &[u8], by: &str, edits: &[Edit]) -> Bytes {
        let key = self.faults.key_of(by);
        self.faults.resign_der(&key, der, |tbs| {
            let mut tree = open(tbs.clone());
            for edit in edits {
                apply(&mut tree, edit);
            }
            *tbs = close(tree);
        })
    }
}

/// Runs the property over `what` (named for messages): `mutate` makes a
/// mutated object, `accepts` is the validator's verdict, `reading` the
/// independent one. Asserts the unchanged twin passes both, and that
/// enough mutations were accepted for the property to say something.
fn property(
    what: &str,
    mutate: impl Fn(&[Edit]) -> Bytes,
    accepts: impl Fn(Bytes) -> bool,
    reading: fn(&[u8]) -> Result<(), String>,
) {
    let twin = mutate(&[]);
    assert!(accepts(twin.clone()), "the valid {what} is refused");
    if let Err(rule) = reading(&twin) {
        panic!("the independent reading refuses the valid {what}: {rule}");
    }
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = match std::env::var_os("PROPTEST_RNG_SEED") {
        Some(_) => TestRunner::new(config),
        None => TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha)),
    };
    let accepted = Cell::new(0u32);
    let result = runner.run(&edits(), |edits| {
        let der = mutate(&edits);
        if accepts(der.clone()) {
            accepted.set(accepted.get() + 1);
            if let Err(rule) = reading(&der) {
                return Err(TestCaseError::fail(format!(
                    "{what} accepted, but {rule}: {}",
                    hex(&der)
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Edits that leave an object valid (a serial, a date, a key
    // identifier, a URI) must come up often enough to test anything.
    eprintln!("{} of {cases} mutated {what}s accepted", accepted.get());
    assert!(
        accepted.get() * 50 >= cases,
        "only {} of {cases} mutated {what}s accepted",
        accepted.get()
    );
}

#[test]
fn mutated_ca_certificates_are_accepted_only_within_the_profile() {
    let s = setup();
    property(
        "CA certificate",
        |edits| s.mutated(&s.cert, "online", edits),
        |der| check_ca_certificate(der, (&s.online, &s.online_crl), true, Time::now()).is_ok(),
        rfc6487_ca_certificate,
    );
}

#[test]
fn mutated_crls_are_accepted_only_within_the_profile() {
    let s = setup();
    // m1's subject, as its certificate names it.
    let (_, cert) = X509Certificate::from_der(&s.cert).unwrap();
    let subject = cert.tbs_certificate.subject.as_raw().to_vec();
    ISSUER.set(subject).unwrap();
    property(
        "CRL",
        |edits| s.mutated(&s.crl, "m1", edits),
        |der| check_crl(der, &s.m1, Time::now()).is_ok(),
        rfc6487_crl,
    );
}

#[test]
fn mutated_roas_are_accepted_only_within_the_profile() {
    let s = setup();
    let m1_crl = Crl::decode(Bytes::from(s.crl.clone())).unwrap();
    // One EE key for every case: the EE certificate is signed again for
    // it, and the signed attributes (their message digest made again for
    // the edited content) with it.
    let ee_key = s.faults.new_key();
    let m1_key = s.faults.key_of("m1");
    property(
        "ROA",
        |edits| {
            s.faults.resign_cms_with(
                &m1_key,
                &ee_key,
                &s.roa,
                |signed| {
                    let content = signed.at(&[2, 1, 0]).bytes();
                    let mut tree = open(Node::parse(content));
                    for edit in edits {
                        apply(&mut tree, edit);
                    }
                    *content = close(tree).encode();
                },
                true,
            )
        },
        |der| check_roa(der, (&s.m1, &m1_crl), true, Time::now()).is_ok(),
        rfc9582_roa,
    );
}

/// RFC 9582 §4 for a ROA's content, read from the DER with the test's
/// own tree (`x509-parser` reads no CMS). Returns the rule broken.
fn rfc9582_roa(der: &[u8]) -> Result<(), String> {
    let mut object = Node::try_parse(der).ok_or("not DER")?;
    let content = object.at(&[1, 0, 2, 1, 0]).bytes().clone();
    let Some(Node::Cons(der::SEQUENCE, fields)) = Node::try_parse(&content) else {
        return Err("§4: the content is not a SEQUENCE".into());
    };
    if fields.first().is_some_and(|f| f.tag() == 0xa0) {
        // DER leaves out a DEFAULT value, and the version MUST be 0.
        return Err("§4.1: a version present (0 is left out in DER; no other is allowed)".into());
    }
    let [
        Node::Prim(der::INTEGER, asid),
        Node::Cons(der::SEQUENCE, families),
    ] = fields.as_slice()
    else {
        return Err("§4: not asID and ipAddrBlocks".into());
    };
    let magnitude = asid.strip_prefix(&[0]).unwrap_or(asid);
    if asid.first().is_none_or(|b| b & 0x80 != 0) || magnitude.len() > 4 {
        return Err("§4.2: asID not within 0 ..= 4294967295".into());
    }
    if families.is_empty() || families.len() > 2 {
        return Err("§4.3: not one or two address families".into());
    }
    let mut seen = Vec::new();
    for family in families {
        let Node::Cons(der::SEQUENCE, parts) = family else {
            return Err("§4.3: a family is not a SEQUENCE".into());
        };
        let [
            Node::Prim(der::OCTET_STRING, afi),
            Node::Cons(der::SEQUENCE, addresses),
        ] = parts.as_slice()
        else {
            return Err("§4.3: a family is not addressFamily and addresses".into());
        };
        let bits = match afi.as_slice() {
            [0, 1] => 32,
            [0, 2] => 128,
            _ => return Err("§4.3.1: an address family other than IPv4 and IPv6".into()),
        };
        if seen.contains(afi) {
            return Err("§4.3.1: an address family twice".into());
        }
        seen.push(afi.clone());
        if addresses.is_empty() {
            return Err("§4.3.2: a family without addresses".into());
        }
        for address in addresses {
            roa_address(address, bits)?;
        }
    }
    Ok(())
}

/// RFC 9582 §4.3.2: one ROAIPAddress of a family of `bits`-bit addresses.
fn roa_address(address: &Node, bits: usize) -> Result<(), String> {
    let Node::Cons(der::SEQUENCE, parts) = address else {
        return Err("§4.3.2: an address is not a SEQUENCE".into());
    };
    let (prefix, max) = match parts.as_slice() {
        [Node::Prim(0x03, p)] => (p, None),
        [Node::Prim(0x03, p), Node::Prim(der::INTEGER, m)] => (p, Some(m)),
        _ => return Err("§4.3.2: an address is not a prefix and a maxLength".into()),
    };
    let Some((&unused, octets)) = prefix.split_first() else {
        return Err("§4.3.2.1: an empty BIT STRING".into());
    };
    if unused > 7 || (octets.is_empty() && unused != 0) {
        return Err("§4.3.2.1: a malformed BIT STRING".into());
    }
    // DER (X.690 §11.2.1): the unused bits are zero.
    if octets
        .last()
        .is_some_and(|b| b & ((1u16 << unused) - 1) as u8 != 0)
    {
        return Err("§4.3.2.1: unused bits set".into());
    }
    let length = octets.len() * 8 - usize::from(unused);
    if length > bits {
        return Err("§4.3.2.1: a prefix longer than its family".into());
    }
    if let Some(max) = max {
        let max = match max.as_slice() {
            [m] if m & 0x80 == 0 => usize::from(*m),
            [0, m] if m & 0x80 != 0 => usize::from(*m),
            _ => return Err("§4.3.2.2: maxLength not a small non-negative INTEGER".into()),
        };
        if max < length || max > bits {
            return Err("§4.3.2.2: maxLength outside prefix length ..= family size".into());
        }
    }
    Ok(())
}

/// The subject of the CA whose CRL the CRL test mutates.
static ISSUER: OnceLock<Vec<u8>> = OnceLock::new();

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// sha256WithRSAEncryption.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// RFC 6487 §4 for a CA certificate issued by another CA, read with
/// `x509-parser`: the rules a mutation of a valid certificate can break
/// while keeping it decodable and its signature valid. Returns the rule
/// broken.
fn rfc6487_ca_certificate(der: &[u8]) -> Result<(), String> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| format!("not X.509: {e}"))?;
    if !rest.is_empty() {
        return Err("data after the certificate".into());
    }
    let tbs = &cert.tbs_certificate;
    if tbs.version() != X509Version::V3 {
        return Err("§4.1: version is not 3".into());
    }
    if !positive_serial(cert.raw_serial()) {
        return Err("§4.2: serial is not a positive integer of at most 20 octets".into());
    }
    let inner = &tbs.signature;
    if inner.algorithm.to_id_string() != SHA256_WITH_RSA || inner != &cert.signature_algorithm {
        return Err("§4.3, RFC 7935 §2: not sha256WithRSAEncryption, the same twice".into());
    }
    name_form("issuer", &tbs.issuer)?;
    name_form("subject", &tbs.subject)?;
    if tbs.validity.not_before > tbs.validity.not_after {
        return Err("§4.6: notBefore later than notAfter".into());
    }
    let spki = &tbs.subject_pki;
    if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
        return Err("§4.7, RFC 7935 §3: not rsaEncryption".into());
    }
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let modulus = rsa.modulus.strip_prefix(&[0]).unwrap_or(rsa.modulus);
            if modulus.len() != 256 || modulus[0] & 0x80 == 0 || rsa.exponent != [1, 0, 1] {
                return Err("RFC 7935 §3: not RSA-2048 with exponent 65,537".into());
            }
        }
        _ => return Err("RFC 7935 §3: not an RSA key".into()),
    }
    if tbs.issuer_uid.is_some() || tbs.subject_uid.is_some() {
        return Err("§4: unique identifiers".into());
    }
    extensions(tbs.extensions())
}

/// Whether the INTEGER contents `serial` are a positive number of at
/// most 20 octets (RFC 5280 §4.1.2.2, RFC 6487 §4.2).
fn positive_serial(serial: &[u8]) -> bool {
    let magnitude = serial.strip_prefix(&[0]).unwrap_or(serial);
    serial.first().is_some_and(|b| b & 0x80 == 0)
        && magnitude.iter().any(|b| *b != 0)
        && magnitude.len() <= 20
}

/// RFC 6487 §4.4 and §4.5: a name of one-attribute RDNs, a CommonName
/// as a PrintableString, optionally a serialNumber.
fn name_form(what: &str, name: &X509Name<'_>) -> Result<(), String> {
    let mut common_names = 0;
    for rdn in name.iter_rdn() {
        let attrs: Vec<_> = rdn.iter().collect();
        if attrs.len() != 1 {
            return Err(format!(
                "§4.4/§4.5: an {what} RDN of {} attributes",
                attrs.len()
            ));
        }
        match attrs[0].attr_type().to_id_string().as_str() {
            "2.5.4.3" => {
                common_names += 1;
                if attrs[0].attr_value().tag() != Tag::PrintableString {
                    return Err(format!(
                        "§4.4/§4.5: {what} CommonName not a PrintableString"
                    ));
                }
            }
            "2.5.4.5" => {}
            other => return Err(format!("§4.4/§4.5: {what} attribute {other}")),
        }
    }
    if common_names != 1 {
        return Err(format!("§4.4/§4.5: {what} has {common_names} CommonNames"));
    }
    Ok(())
}

/// The values of a name's attributes, with their types, as RFC 5280 §7.1
/// compares them: case folded, spaces trimmed and runs of them made one.
fn compared(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|a| {
            let value = String::from_utf8_lossy(a.attr_value().data);
            let words: Vec<&str> = value.split_whitespace().collect();
            (a.attr_type().to_id_string(), words.join(" ").to_lowercase())
        })
        .collect()
}

/// RFC 6487 §5 for a CRL of the CA in [`ISSUER`], read with
/// `x509-parser`. Returns the rule broken.
fn rfc6487_crl(der: &[u8]) -> Result<(), String> {
    let (rest, crl) =
        CertificateRevocationList::from_der(der).map_err(|e| format!("not a CRL: {e}"))?;
    if !rest.is_empty() {
        return Err("data after the CRL".into());
    }
    let tbs = &crl.tbs_cert_list;
    if tbs.version != Some(X509Version::V2) {
        return Err("§5: not a version 2 CRL".into());
    }
    if tbs.signature.algorithm.to_id_string() != SHA256_WITH_RSA
        || tbs.signature != crl.signature_algorithm
    {
        return Err("§5, RFC 7935 §2: not sha256WithRSAEncryption, the same twice".into());
    }
    name_form("CRL issuer", &tbs.issuer)?;
    let (_, ca) = X509Name::from_der(ISSUER.get().expect("the CA's subject")).unwrap();
    if compared(&tbs.issuer) != compared(&ca) {
        return Err("§5, RFC 5280 §5.1.2.3: the issuer is not the CA".into());
    }
    match tbs.next_update {
        Some(next) if next >= tbs.this_update => {}
        _ => return Err("§5: no nextUpdate, or one before thisUpdate".into()),
    }
    for entry in &tbs.revoked_certificates {
        if !positive_serial(entry.raw_serial()) {
            return Err("RFC 5280 §5.1.2.6: a revoked serial that is not positive".into());
        }
        if !entry.extensions().is_empty() {
            return Err("§5: CRL entry extensions".into());
        }
    }
    let mut seen = Vec::new();
    for ext in tbs.extensions() {
        let oid = ext.oid.to_id_string();
        if ext.critical
            || !["2.5.29.35", "2.5.29.20"].contains(&oid.as_str())
            || seen.contains(&oid)
        {
            return Err(format!(
                "§5: CRL extension {oid} (critical: {})",
                ext.critical
            ));
        }
        if let ParsedExtension::AuthorityKeyIdentifier(_) = ext.parsed_extension() {
            extension(&oid, ext.parsed_extension())?;
        }
        seen.push(oid);
    }
    if seen.len() != 2 {
        return Err("§5: CRL without authorityKeyIdentifier or cRLNumber".into());
    }
    Ok(())
}

/// §4.8 for a CA certificate: which extensions, how marked, and what
/// each holds (the RFC 3779 resources are left to the `rpki` crate's
/// containment check, which decides validity anyway).
fn extensions(list: &[x509_parser::extensions::X509Extension<'_>]) -> Result<(), String> {
    // (OID, critical, required)
    let allowed: [(&str, bool, bool); 10] = [
        ("2.5.29.19", true, true),
        ("2.5.29.14", false, true),
        ("2.5.29.35", false, true),
        ("2.5.29.15", true, true),
        ("2.5.29.31", false, true),
        ("1.3.6.1.5.5.7.1.1", false, true),
        ("1.3.6.1.5.5.7.1.11", false, true),
        ("2.5.29.32", true, true),
        ("1.3.6.1.5.5.7.1.7", true, false),
        ("1.3.6.1.5.5.7.1.8", true, false),
    ];
    let mut seen: Vec<String> = Vec::new();
    for ext in list {
        let oid = ext.oid.to_id_string();
        let Some((_, critical, _)) = allowed.iter().find(|(o, ..)| *o == oid) else {
            return Err(format!("§4.8: extension {oid} outside the profile"));
        };
        if ext.critical != *critical {
            return Err(format!("§4.8: extension {oid} critical: {}", ext.critical));
        }
        if seen.contains(&oid) {
            return Err(format!("RFC 5280 §4.2: extension {oid} twice"));
        }
        seen.push(oid.clone());
        extension(&oid, ext.parsed_extension())?;
    }
    for (oid, _, required) in allowed {
        if required && !seen.iter().any(|s| s == oid) {
            return Err(format!("§4.8: extension {oid} missing"));
        }
    }
    if !seen
        .iter()
        .any(|s| s == "1.3.6.1.5.5.7.1.7" || s == "1.3.6.1.5.5.7.1.8")
    {
        return Err("§4.8.10, §4.8.11: no resources".into());
    }
    Ok(())
}

/// The URI of a GeneralName, if it is one.
fn uri<'a>(name: &GeneralName<'a>) -> Result<&'a str, String> {
    match name {
        GeneralName::URI(uri) => Ok(uri),
        other => Err(format!("a location that is not a URI: {other:?}")),
    }
}

/// Whether `uri` has the scheme `scheme`.
fn scheme(uri: &str, scheme: &str) -> bool {
    uri.split_once("://")
        .is_some_and(|(s, rest)| s.eq_ignore_ascii_case(scheme) && !rest.is_empty())
}

/// One extension's contents.
fn extension(oid: &str, parsed: &ParsedExtension<'_>) -> Result<(), String> {
    match parsed {
        ParsedExtension::BasicConstraints(bc) => {
            if !bc.ca || bc.path_len_constraint.is_some() {
                return Err("§4.8.1: basicConstraints not cA alone".into());
            }
        }
        ParsedExtension::SubjectKeyIdentifier(ski) => {
            if ski.0.len() != 20 {
                return Err("§4.8.2: subjectKeyIdentifier not 160 bits".into());
            }
        }
        ParsedExtension::AuthorityKeyIdentifier(aki) => {
            if aki.key_identifier.is_none()
                || aki.authority_cert_issuer.is_some()
                || aki.authority_cert_serial.is_some()
            {
                return Err("§4.8.3: authorityKeyIdentifier not a key identifier alone".into());
            }
        }
        ParsedExtension::KeyUsage(usage) => {
            if usage.flags != (1 << 5) | (1 << 6) {
                return Err("§4.8.4: keyUsage not keyCertSign and cRLSign".into());
            }
        }
        ParsedExtension::CRLDistributionPoints(points) => {
            let [point] = points.points.as_slice() else {
                return Err("§4.8.6: not one distribution point".into());
            };
            let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
                return Err("§4.8.6: distributionPoint not a fullName".into());
            };
            if point.reasons.is_some() || point.crl_issuer.is_some() {
                return Err("§4.8.6: reasons or cRLIssuer".into());
            }
            let uris = names.iter().map(uri).collect::<Result<Vec<_>, _>>()?;
            if !uris.iter().any(|u| scheme(u, "rsync")) {
                return Err("§4.8.6: no rsync URI".into());
            }
        }
        ParsedExtension::AuthorityInfoAccess(aia) => {
            for desc in aia.iter() {
                if desc.access_method.to_id_string() != "1.3.6.1.5.5.7.48.2" {
                    return Err("§4.8.7: an access method other than id-ad-caIssuers".into());
                }
            }
            let uris = aia
                .iter()
                .map(|d| uri(&d.access_location))
                .collect::<Result<Vec<_>, _>>()?;
            if !uris.iter().any(|u| scheme(u, "rsync")) {
                return Err("§4.8.7: no rsync URI".into());
            }
        }
        ParsedExtension::SubjectInfoAccess(sia) => {
            let mut found = (false, false);
            for desc in sia.iter() {
                let location = uri(&desc.access_location)?;
                match desc.access_method.to_id_string().as_str() {
                    "1.3.6.1.5.5.7.48.5" => found.0 |= scheme(location, "rsync"),
                    "1.3.6.1.5.5.7.48.10" => found.1 |= scheme(location, "rsync"),
                    "1.3.6.1.5.5.7.48.13" if !scheme(location, "https") => {
                        return Err("RFC 8182 §3.2: rpkiNotify not HTTPS".into());
                    }
                    _ => {}
                }
            }
            if found != (true, true) {
                return Err("§4.8.8.1: no rsync caRepository or rpkiManifest".into());
            }
        }
        ParsedExtension::CertificatePolicies(policies) => {
            let [policy] = policies.as_slice() else {
                return Err("§4.8.9: not one policy".into());
            };
            if policy.policy_id.to_id_string() != "1.3.6.1.5.5.7.14.2" {
                return Err("§4.8.9: not the RPKI's policy".into());
            }
            let qualifiers = policy.policy_qualifiers.as_deref().unwrap_or_default();
            if qualifiers.len() > 1
                || qualifiers
                    .iter()
                    .any(|q| q.policy_qualifier_id.to_id_string() != "1.3.6.1.5.5.7.2.1")
            {
                return Err("RFC 7318 §2: a qualifier other than one CPS pointer".into());
            }
        }
        ParsedExtension::UnsupportedExtension { .. } => {}
        other => return Err(format!("extension {oid} unreadable: {other:?}")),
    }
    Ok(())
}
