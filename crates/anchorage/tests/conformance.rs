//! The bundled validator's profile rules, one test per rule.
//!
//! Each test signs one object wrong on purpose in test code: it takes an
//! object the CA made, changes one field in its DER and signs it again
//! with the CA's real key. The broken object goes into member CA `m1`;
//! its valid twin, re-signed through the same steps without the change,
//! into member CA `m2`. `anchorage validate` must reject `m1`'s object
//! naming the rule and accept `m2`'s. rpki-client and FORT run on the same
//! repository; what each does with the broken object is asserted too, as
//! measured with the Debian packages `.ci/run` installs, and listed in
//! docs/conformance.md. Set `CONFORMANCE_RECORD=1` to print their
//! verdicts instead of asserting them (after an upgrade of either).

mod common;

use std::path::Path;
use std::process::Command;

use anchorage_testkit::{self as oracle, RsyncDaemon, ValidatorRun};
use common::der::{self, Node};
use common::faults::{self, Faults};
use common::{Cli, anchorage_validate, bin, require, vrps};

/// What a relying party did with the broken object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Its VRP was derived: the broken object was accepted.
    Accepts,
    /// Its VRP was not derived.
    Rejects,
}

/// Where the broken object goes.
#[derive(Clone, Copy)]
enum Target {
    /// `m1`'s CA certificate, issued by the online CA.
    CaCert,
    /// `m1`'s CRL.
    Crl,
    /// The EE certificate of `m1`'s ROA.
    RoaEe,
    /// The CMS wrapping of `m1`'s ROA (its SignedData), signed again with
    /// a new EE key.
    RoaCms,
    /// The EE certificate of `m1`'s manifest.
    ManifestEe,
    /// The SignedData of `m1`'s manifest, signed again with a new EE key.
    ManifestCms,
}

const IP_RESOURCES: &str = "1.3.6.1.5.5.7.1.7";
const AS_RESOURCES: &str = "1.3.6.1.5.5.7.1.8";
const CERT_POLICIES: &str = "2.5.29.32";
const SKI: &str = "2.5.29.14";
const EXT_KEY_USAGE: &str = "2.5.29.37";
const AT_ORGANIZATION: &str = "2.5.4.10";
const CRL_DP: &str = "2.5.29.31";
const AIA: &str = "1.3.6.1.5.5.7.1.1";
const SIA: &str = "1.3.6.1.5.5.7.1.11";
const AD_RPKI_NOTIFY: &str = "1.3.6.1.5.5.7.48.13";

/// A repository with two member CAs and one ROA each; returns it and the
/// fault builder working on a copy of its tree under `tmp`.
fn repository(tmp: &Path) -> (Cli, Faults) {
    let cli = Cli::init(&tmp.join("data"));
    cli.ca_create("m1", None, "AS64500, 192.0.2.0/24");
    cli.ca_create("m2", None, "AS64501, 198.51.100.0/24");
    cli.roa_add("m1", 64500, "192.0.2.0/24");
    cli.roa_add("m2", 64501, "198.51.100.0/24");
    let f = Faults::new(&cli, &tmp.join("bad"));
    (cli, f)
}

/// Leaves the to-be-signed part as it is: the valid twin.
fn unchanged(_: &mut Node) {}

/// A member CA, its ROA's ASN, and the change to its object.
type Case = (&'static str, u32, fn(&mut Node));

/// Puts `edit` into `m1`'s object of kind `target` and the unchanged
/// twin into `m2`'s.
fn break_object(f: &Faults, target: Target, edit: fn(&mut Node)) {
    let cases: [Case; 2] = [("m1", 64500, edit), ("m2", 64501, unchanged)];
    match target {
        Target::CaCert => {
            let online = f.key_of("online");
            f.resign(
                "online",
                "ta",
                |_, files| {
                    for (handle, _, edit) in cases {
                        let name = format!("{}.cer", f.key_of(handle));
                        let der = files[&name].clone();
                        files.insert(name, f.resign_der(&online, &der, edit));
                    }
                },
                faults::current(),
            );
        }
        Target::Crl => {
            for (handle, _, edit) in cases {
                let key = f.key_of(handle);
                f.resign_with_crl(
                    handle,
                    "online",
                    |_, _| {},
                    faults::current(),
                    |crl| f.resign_der(&key, &crl, edit),
                );
            }
        }
        Target::ManifestEe | Target::ManifestCms => {
            // The manifest is not on itself: it is changed in place.
            for (handle, _, edit) in cases {
                let key = f.key_of(handle);
                let path = f.tree.join(handle).join(format!("{key}.mft"));
                let der = std::fs::read(&path).unwrap();
                let mft = match target {
                    Target::ManifestEe => f.resign_ee(&key, &der, edit),
                    _ => f.resign_cms(&key, &der, edit),
                };
                std::fs::write(&path, mft).unwrap();
            }
        }
        Target::RoaEe | Target::RoaCms => {
            for (handle, asn, edit) in cases {
                let key = f.key_of(handle);
                f.resign(
                    handle,
                    "online",
                    |_, files| {
                        let name = format!("AS{asn}.roa");
                        let der = files[&name].clone();
                        let roa = match target {
                            Target::RoaEe => f.resign_ee(&key, &der, edit),
                            _ => f.resign_cms(&key, &der, edit),
                        };
                        files.insert(name, roa);
                    },
                    faults::current(),
                );
            }
        }
    }
}

/// The verdict of a run on `m1`'s object, from its VRPs (`m2`'s must be
/// there: the twin is valid for every validator).
fn verdict(who: &str, run: &ValidatorRun) -> Verdict {
    let twin = vrps(&[(64501, "198.51.100.0/24", 24)]);
    let both = vrps(&[(64500, "192.0.2.0/24", 24), (64501, "198.51.100.0/24", 24)]);
    if run.vrps == both {
        Verdict::Accepts
    } else if run.vrps == twin {
        Verdict::Rejects
    } else {
        panic!("{who} derived {:?}\n{}", run.vrps, run.log)
    }
}

/// One rule: `m1`'s object of kind `target` changed by `edit` must be
/// rejected by `anchorage validate` with a reason containing `rule`, its
/// twin accepted, and rpki-client and FORT must do as measured.
fn check(target: Target, edit: fn(&mut Node), rule: &str, rpki_client: Verdict, fort: Verdict) {
    require("rpki-client");
    require("fort");
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let (cli, f) = repository(tmp.path());
    break_object(&f, target, edit);
    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let work = tmp.path().join("work");
    let ours = anchorage_validate(&cli, &rsyncd, &work);
    assert_eq!(
        verdict("anchorage", &ours),
        Verdict::Rejects,
        "{:#?}",
        ours.problems
    );
    let named = ours
        .problems
        .iter()
        .any(|p| (p.contains("/m1/") || p.contains("/online/")) && p.contains(rule));
    assert!(named, "no rejection naming {rule:?}: {:#?}", ours.problems);
    let theirs = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
    let fort_run = oracle::fort(&cli.tal(), &rsyncd, &work.join("fort")).unwrap();
    let seen = (verdict("rpki-client", &theirs), verdict("FORT", &fort_run));
    if std::env::var_os("CONFORMANCE_RECORD").is_some() {
        eprintln!(
            "CONFORMANCE {rule}: rpki-client {:?}, FORT {:?}",
            seen.0, seen.1
        );
        return;
    }
    assert_eq!(
        seen,
        (rpki_client, fort),
        "(rpki-client, FORT) changed their verdicts\nrpki-client: {}\nFORT: {}",
        theirs.log,
        fort_run.log
    );
}

/// The extension list of a certificate's to-be-signed part.
fn extensions(tbs: &mut Node) -> &mut Node {
    tbs.kids().last_mut().unwrap().at(&[0])
}

/// A new non-critical extension `dotted` holding `value`.
fn new_extension(dotted: &str, value: Node) -> Node {
    der::seq(vec![
        der::oid(dotted),
        Node::Prim(der::OCTET_STRING, value.encode()),
    ])
}

/// The RSA public key (`SEQUENCE { n, e }`) of a certificate's
/// to-be-signed part, edited by `edit`.
fn edit_rsa_key(tbs: &mut Node, edit: impl FnOnce(&mut Node)) {
    let bits = tbs.at(&[6, 1]).bytes();
    let mut key = Node::parse(&bits[1..]);
    edit(&mut key);
    *bits = [vec![0], key.encode()].concat();
}

/// The URI `uri` (a GeneralName) with its `rsync` scheme replaced.
fn rescheme(uri: &mut Node, scheme: &str) {
    let bytes = uri.bytes();
    let rest = bytes.strip_prefix(b"rsync").expect("an rsync URI").to_vec();
    *bytes = [scheme.as_bytes(), &rest].concat();
}

/// The AccessDescription for `method` in an AIA or SIA value.
fn access<'a>(info: &'a mut Node, method: &str) -> &'a mut Node {
    let want = der::oid(method);
    info.kids()
        .iter_mut()
        .find(|d| matches!(d, Node::Cons(_, kids) if kids[0] == want))
        .unwrap_or_else(|| panic!("no access method {method}"))
}

/// The CRL's revoked list, made if the CRL has none.
fn revoked(tbs: &mut Node) -> &mut Vec<Node> {
    let kids = tbs.kids();
    if kids[5].tag() != der::SEQUENCE {
        kids.insert(5, der::seq(Vec::new()));
    }
    kids[5].kids()
}

/// Declares one test per rule: where the fault goes, the change, the
/// rule named in the reason, and what rpki-client and FORT do.
macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident: $target:ident, $edit:expr, $rule:literal,
       rpki_client $rc:ident, fort $fort:ident;)*) => {$(
        $(#[$doc])*
        #[test]
        fn $name() {
            check(Target::$target, $edit, $rule, Verdict::$rc, Verdict::$fort);
        }
    )*};
}

rules! {
    /// A user notice instead of a CPS pointer (RFC 7318 §2).
    policy_qualifier_other_than_cps: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), CERT_POLICIES), |policies| {
            let info = policies.at(&[0]).kids();
            info.truncate(1);
            let notice = der::seq(vec![Node::Prim(der::UTF8_STRING, b"a notice".to_vec())]);
            info.push(der::seq(vec![der::seq(vec![der::oid("1.3.6.1.5.5.7.2.2"), notice])]));
        });
    }, "is not a CPS pointer (RFC 7318 §2)", rpki_client Rejects, fort Rejects;

    /// A policy other than the RPKI's (RFC 6487 §4.8.9).
    policy_not_the_rpkis: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), CERT_POLICIES), |policies| {
            policies.at(&[0]).kids()[0] = der::oid("2.23.140.1.2.1");
        });
    }, "is not the RPKI's (RFC 6484 §1.2, RFC 6487 §4.8.9)", rpki_client Rejects, fort Rejects;

    /// IP resources not marked critical (RFC 6487 §4.8.10).
    ip_resources_not_critical: CaCert, |tbs| {
        der::set_critical(der::extension(extensions(tbs), IP_RESOURCES), false);
    }, "IP resources extension not marked critical (RFC 6487 §4.8.10)", rpki_client Rejects, fort Rejects;

    /// AS resources not marked critical (RFC 6487 §4.8.11).
    as_resources_not_critical: CaCert, |tbs| {
        der::set_critical(der::extension(extensions(tbs), AS_RESOURCES), false);
    }, "AS resources extension not marked critical (RFC 6487 §4.8.11)", rpki_client Rejects, fort Rejects;

    /// An AS resource set with no AS numbers (RFC 6487 §4.8.11).
    empty_as_resource_set: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), AS_RESOURCES), |ids| {
            ids.at(&[0, 0]).kids().clear();
        });
    }, "with an empty AS set (RFC 6487 §4.8.11)", rpki_client Rejects, fort Rejects;

    /// AS resources with routing domain identifiers (RFC 6487 §4.8.11).
    as_resources_with_rdi: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), AS_RESOURCES), |ids| {
            let mut asnum = ids.kids()[0].clone();
            let choice = asnum.kids().clone();
            ids.kids().push(Node::Cons(0xa1, choice));
        });
    }, "carries rdi (RFC 6487 §4.8.11)", rpki_client Rejects, fort Rejects;

    /// An IP address family with no addresses (RFC 6487 §4.8.10).
    empty_ip_address_family: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), IP_RESOURCES), |blocks| {
            blocks.at(&[0, 1]).kids().clear();
        });
    }, "with an empty address family (RFC 6487 §4.8.10)", rpki_client Rejects, fort Rejects;

    /// subjectAltName, which the closed list of RFC 6487 §4.8 leaves out.
    extension_outside_the_profile: CaCert, |tbs| {
        let name = der::seq(vec![Node::Prim(0x82, b"ca.example".to_vec())]);
        extensions(tbs).kids().push(new_extension("2.5.29.17", name));
    }, "that the profile does not allow (RFC 6487 §1, §4.8)", rpki_client Accepts, fort Accepts;

    /// extendedKeyUsage in a CA certificate (RFC 6487 §4.8.5).
    extended_key_usage_in_a_ca_certificate: CaCert, |tbs| {
        let usage = der::seq(vec![der::oid("1.3.6.1.5.5.7.3.30")]);
        extensions(tbs).kids().push(new_extension(EXT_KEY_USAGE, usage));
    }, "extendedKeyUsage in a CA certificate (RFC 6487 §4.8.5)", rpki_client Rejects, fort Accepts;

    /// The same extension twice (RFC 5280 §4.2).
    extension_twice: CaCert, |tbs| {
        let ski = der::extension(extensions(tbs), SKI).clone();
        extensions(tbs).kids().push(ski);
    }, "twice (RFC 5280 §4.2)", rpki_client Rejects, fort Rejects;

    /// subjectKeyIdentifier marked critical (RFC 6487 §4.8.2).
    key_identifier_marked_critical: CaCert, |tbs| {
        der::set_critical(der::extension(extensions(tbs), SKI), true);
    }, "subjectKeyIdentifier extension marked critical (RFC 6487 §4.8.2)", rpki_client Rejects, fort Rejects;

    /// digitalSignature beside keyCertSign and cRLSign (RFC 6487 §4.8.4).
    key_usage_beyond_the_profile: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), "2.5.29.15"), |usage| {
            *usage = Node::Prim(0x03, vec![1, 0x86]);
        });
    }, "keyUsage is not keyCertSign and cRLSign alone in a CA certificate (RFC 6487 §4.8.4)", rpki_client Rejects, fort Rejects;

    /// A path length constraint (RFC 6487 §4.8.1).
    basic_constraints_with_a_path_length: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), "2.5.29.19"), |bc| {
            bc.kids().push(Node::Prim(der::INTEGER, vec![0]));
        });
    }, "basicConstraints carries a pathLenConstraint (RFC 6487 §4.8.1)", rpki_client Rejects, fort Rejects;

    /// authorityCertSerialNumber beside the key identifier (RFC 6487 §4.8.3).
    authority_key_identifier_with_a_serial: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), "2.5.29.35"), |aki| {
            aki.kids().push(Node::Prim(0x82, vec![1]));
        });
    }, "authorityKeyIdentifier is not a key identifier alone (RFC 6487 §4.8.3)", rpki_client Rejects, fort Rejects;

    /// No CRL distribution point (RFC 6487 §4.8.6).
    crl_distribution_points_missing: CaCert, |tbs| {
        let crldp = der::extension(extensions(tbs), "2.5.29.31").clone();
        extensions(tbs).kids().retain(|e| *e != crldp);
    }, "certificate without cRLDistributionPoints (RFC 6487 §4.8.6)", rpki_client Rejects, fort Rejects;

    /// basicConstraints in a ROA's EE certificate (RFC 6487 §4.8.1).
    ee_certificate_with_basic_constraints: RoaEe, |tbs| {
        let mut bc = new_extension("2.5.29.19", der::seq(Vec::new()));
        der::set_critical(&mut bc, true);
        extensions(tbs).kids().push(bc);
    }, "EE certificate with basicConstraints (RFC 6487 §4.8.1)", rpki_client Accepts, fort Rejects;

    /// Serial number 0 (RFC 5280 §4.1.2.2: positive).
    certificate_serial_zero: CaCert, |tbs| {
        tbs.kids()[1] = Node::Prim(der::INTEGER, vec![0]);
    }, "certificate serial number is 0", rpki_client Accepts, fort Accepts;

    /// notAfter before 2050 as GeneralizedTime (RFC 5280 §4.1.2.5).
    validity_generalized_time_before_2050: CaCert, |tbs| {
        let validity = tbs.at(&[4]).kids();
        validity[1] = der::generalized(&validity[1]);
    }, "notAfter before 2050 encoded as GeneralizedTime (RFC 5280 §4.1.2.5)", rpki_client Accepts, fort Accepts;

    /// An RSA exponent of 3 (RFC 7935 §3).
    rsa_exponent_not_65537: CaCert, |tbs| {
        edit_rsa_key(tbs, |key| key.kids()[1] = Node::Prim(der::INTEGER, vec![3]));
    }, "RSA public exponent is not 65,537 (RFC 7935 §3)", rpki_client Rejects, fort Rejects;

    /// A 1024-bit RSA modulus (RFC 7935 §3).
    rsa_modulus_not_2048_bits: CaCert, |tbs| {
        edit_rsa_key(tbs, |key| {
            let n = key.kids()[0].bytes();
            let short: Vec<u8> = n[n.len() - 128..].to_vec();
            *n = [vec![0], short].concat();
            n[1] |= 0x80;
        });
    }, "RSA modulus of 1024 bits, not 2048 (RFC 7935 §3)", rpki_client Rejects, fort Rejects;

    /// A subjectUniqueID (RFC 6487 §4, RFC 5280 §4.1.2.8).
    unique_identifier: CaCert, |tbs| {
        let at = tbs.kids().len() - 1;
        tbs.kids().insert(at, Node::Prim(0x82, vec![0, 0x2a]));
    }, "issuerUniqueID or subjectUniqueID (RFC 6487 §4, RFC 5280 §4.1.2.8)", rpki_client Accepts, fort Accepts;

    /// An organisation in the subject name (RFC 6487 §4.5).
    subject_name_with_other_attribute: CaCert, |tbs| {
        let org = der::attribute(AT_ORGANIZATION, der::PRINTABLE_STRING, "Example");
        tbs.at(&[5]).kids().push(org);
    }, "subject name holds attribute 2.5.4.10 other than CommonName and serialNumber (RFC 6487 §4.5)", rpki_client Rejects, fort Rejects;

    /// A CommonName as UTF8String (RFC 6487 §4.4, §4.5).
    subject_common_name_not_printable: CaCert, |tbs| {
        let cn = tbs.at(&[5, 0, 0, 1]);
        *cn = Node::Prim(der::UTF8_STRING, cn.bytes().clone());
    }, "subject name attribute is not a PrintableString (RFC 6487 §4.5)", rpki_client Accepts, fort Accepts;

    /// A version 1 CRL (RFC 6487 §5).
    crl_version_1: Crl, |tbs| {
        tbs.kids().remove(0);
    }, "CRL version is not 2 (RFC 6487 §5)", rpki_client Accepts, fort Rejects;

    /// An organisation in the CRL's issuer name (RFC 6487 §5, §4.4).
    crl_issuer_name_outside_the_profile: Crl, |tbs| {
        let org = der::attribute(AT_ORGANIZATION, der::PRINTABLE_STRING, "Example");
        tbs.at(&[2]).kids().push(org);
    }, "CRL issuer name holds attribute 2.5.4.10", rpki_client Rejects, fort Rejects;

    /// A CRL whose issuer is not the CA that signed it (RFC 6487 §5).
    crl_issuer_not_the_ca: Crl, |tbs| {
        *tbs.at(&[2, 0, 0, 1]).bytes() = b"another CA".to_vec();
    }, "CRL issuer differs from the CA's subject", rpki_client Rejects, fort Rejects;

    /// thisUpdate before 2050 as GeneralizedTime (RFC 5280 §5.1.2.4).
    crl_this_update_generalized_time: Crl, |tbs| {
        let kids = tbs.kids();
        kids[3] = der::generalized(&kids[3]);
    }, "CRL thisUpdate before 2050 encoded as GeneralizedTime (RFC 5280 §5.1.2.4)", rpki_client Accepts, fort Accepts;

    /// nextUpdate before 2050 as GeneralizedTime (RFC 5280 §5.1.2.5).
    crl_next_update_generalized_time: Crl, |tbs| {
        let kids = tbs.kids();
        kids[4] = der::generalized(&kids[4]);
    }, "CRL nextUpdate before 2050 encoded as GeneralizedTime (RFC 5280 §5.1.2.5)", rpki_client Accepts, fort Accepts;

    /// thisUpdate later than nextUpdate (RFC 5280 §5.1.2.5).
    crl_this_update_after_next_update: Crl, |tbs| {
        tbs.kids()[3] = der::utc_time(2);
    }, "CRL thisUpdate is later than its nextUpdate", rpki_client Rejects, fort Rejects;

    /// A revoked entry with serial number 0 (RFC 5280 §5.1.2.6, §4.1.2.2).
    crl_revoked_serial_zero: Crl, |tbs| {
        let entry = der::seq(vec![Node::Prim(der::INTEGER, vec![0]), der::utc_time(-1)]);
        revoked(tbs).push(entry);
    }, "revoked serial number is 0", rpki_client Accepts, fort Accepts;

    /// A revoked entry with a reason code (RFC 6487 §5).
    crl_entry_extension: Crl, |tbs| {
        let reason = new_extension("2.5.29.21", Node::Prim(0x0a, vec![1]));
        let entry = der::seq(vec![
            Node::Prim(der::INTEGER, vec![0x2a]),
            der::utc_time(-1),
            der::seq(vec![reason]),
        ]);
        revoked(tbs).push(entry);
    }, "CRL entry carries extensions (RFC 6487 §5)", rpki_client Accepts, fort Rejects;

    /// A CRL extension other than AKI and CRL number (RFC 6487 §5).
    crl_extension_outside_the_profile: Crl, |tbs| {
        let delta = new_extension("2.5.29.27", Node::Prim(der::INTEGER, vec![1]));
        tbs.kids().last_mut().unwrap().at(&[0]).kids().push(delta);
    }, "other than authorityKeyIdentifier and cRLNumber (RFC 6487 §5)", rpki_client Accepts, fort Accepts;

    /// extendedKeyUsage in a ROA's EE certificate (RFC 6487 §4.8.5).
    extended_key_usage_in_an_ee_certificate: RoaEe, |tbs| {
        let usage = der::seq(vec![der::oid("1.3.6.1.5.5.7.3.30")]);
        extensions(tbs).kids().push(new_extension(EXT_KEY_USAGE, usage));
    }, "extendedKeyUsage in a signed object's EE certificate (RFC 6487 §4.8.5)", rpki_client Rejects, fort Accepts;

    /// IP resources of a ROA's EE certificate not marked critical.
    ee_ip_resources_not_critical: RoaEe, |tbs| {
        der::set_critical(der::extension(extensions(tbs), IP_RESOURCES), false);
    }, "IP resources extension not marked critical (RFC 6487 §4.8.10)", rpki_client Rejects, fort Rejects;

    /// sha384WithRSAEncryption named inside the signed part, SHA-256
    /// outside (RFC 5280 §4.1.1.2, RFC 7935 §2).
    certificate_signature_algorithms_differ: CaCert, |tbs| {
        *tbs.at(&[2, 0]) = der::oid("1.2.840.113549.1.1.12");
    }, "certificate's two signature algorithm fields differ (RFC 5280 §4.1.1.2, §5.1.1.2)", rpki_client Rejects, fort Rejects;

    /// A ROA of version 1 (RFC 9582 §4.1).
    roa_version_1: RoaCms, |signed| edit_content(signed, |roa| {
        roa.kids().insert(0, Node::Cons(0xa0, vec![Node::Prim(der::INTEGER, vec![1])]));
    }), "ROA version is not 0 (RFC 9582 §4.1)", rpki_client Rejects, fort Rejects;

    /// A maxLength shorter than the prefix (RFC 9582 §4.3.2.2).
    roa_max_length_below_the_prefix: RoaCms, |signed| edit_content(signed, |roa| {
        roa.at(&[1, 0, 1, 0]).kids().push(Node::Prim(der::INTEGER, vec![16]));
    }), "ROA maxLength 16 outside the prefix length 24 ..= 32 (RFC 9582 §4.3.2.2)", rpki_client Rejects, fort Rejects;

    /// An address family other than IPv4 and IPv6 (RFC 9582 §4.3.1).
    roa_address_family_3: RoaCms, |signed| edit_content(signed, |roa| {
        *roa.at(&[1, 0, 0]).bytes() = vec![0, 3];
    }), "ROA address family is neither 0001 nor 0002 (RFC 9582 §4.3.1)", rpki_client Rejects, fort Rejects;

    /// The IPv4 family twice (RFC 9582 §4.3.1).
    roa_address_family_twice: RoaCms, |signed| edit_content(signed, |roa| {
        let family = roa.at(&[1, 0]).clone();
        roa.at(&[1]).kids().push(family);
    }), "ROA lists an address family twice (RFC 9582 §4.3.1)", rpki_client Accepts, fort Accepts;

    /// AS resources in a ROA's EE certificate (RFC 9582 §5).
    roa_ee_with_as_resources: RoaEe, |tbs| {
        let inherit = der::seq(vec![Node::Cons(0xa0, vec![Node::Prim(0x05, Vec::new())])]);
        let mut ext = new_extension(AS_RESOURCES, inherit);
        der::set_critical(&mut ext, true);
        extensions(tbs).kids().push(ext);
    }, "ROA's EE certificate carries AS resources (RFC 9582 §5)", rpki_client Rejects, fort Accepts;

    /// Inherited IP resources in a ROA's EE certificate (RFC 9582 §5).
    roa_ee_inheriting_ip_resources: RoaEe, |tbs| {
        der::edit_value(der::extension(extensions(tbs), IP_RESOURCES), |blocks| {
            let family = der::seq(vec![Node::Prim(der::OCTET_STRING, vec![0, 1]), Node::Prim(0x05, Vec::new())]);
            *blocks = der::seq(vec![family]);
        });
    }, "ROA's EE certificate inherits IP resources (RFC 9582 §5)", rpki_client Rejects, fort Accepts;

    /// A manifest of version 1 (RFC 9286 §4.2.1).
    manifest_version_1: ManifestCms, |signed| edit_content(signed, |mft| {
        mft.kids().insert(0, Node::Cons(0xa0, vec![Node::Prim(der::INTEGER, vec![1])]));
    }), "manifest version is not 0 (RFC 9286 §4.2.1)", rpki_client Rejects, fort Rejects;

    /// A manifest number of 21 octets (RFC 9286 §4.2.1).
    manifest_number_longer_than_20_octets: ManifestCms, |signed| edit_content(signed, |mft| {
        mft.kids()[0] = Node::Prim(der::INTEGER, vec![1; 21]);
    }), "manifestNumber is longer than 20 octets (RFC 9286 §4.2.1)", rpki_client Rejects, fort Rejects;

    /// nextUpdate equal to thisUpdate (RFC 9286 §4.2.1).
    manifest_next_update_not_after_this_update: ManifestCms, |signed| edit_content(signed, |mft| {
        let this = mft.kids()[1].clone();
        mft.kids()[2] = this;
    }), "manifest nextUpdate is not later than its thisUpdate (RFC 9286 §4.2.1, §4.4)", rpki_client Rejects, fort Rejects;

    /// thisUpdate as UTCTime (RFC 9286 §4.2).
    manifest_time_as_utc_time: ManifestCms, |signed| edit_content(signed, |mft| {
        let Node::Prim(_, text) = mft.kids()[1].clone() else { panic!("a time") };
        mft.kids()[1] = Node::Prim(der::UTC_TIME, text[2..].to_vec());
    }), "manifest thisUpdate is not a GeneralizedTime", rpki_client Rejects, fort Rejects;

    /// SHA-1 as the file hash algorithm (RFC 9286 §4.2.1, RFC 7935 §2).
    manifest_hash_algorithm_sha1: ManifestCms, |signed| edit_content(signed, |mft| {
        mft.kids()[3] = der::oid("1.3.14.3.2.26");
    }), "manifest fileHashAlg 1.3.14.3.2.26 is not SHA-256", rpki_client Rejects, fort Rejects;

    /// A manifest EE certificate listing resources (RFC 9286 §5.1).
    manifest_ee_listing_resources: ManifestEe, |tbs| {
        der::edit_value(der::extension(extensions(tbs), IP_RESOURCES), |blocks| {
            let family = der::seq(vec![
                Node::Prim(der::OCTET_STRING, vec![0, 1]),
                der::seq(vec![Node::Prim(0x03, vec![0, 192, 0, 2])]),
            ]);
            *blocks = der::seq(vec![family]);
        });
    }, "manifest's EE certificate lists resources instead of inheriting them (RFC 9286 §5.1)", rpki_client Rejects, fort Accepts;

    /// binary-signing-time among the signed attributes (RFC 9589 §4).
    cms_binary_signing_time: RoaCms, |signed| {
        let time = Node::Prim(der::INTEGER, vec![0x65, 0x00, 0x00, 0x00]);
        let attr = der::seq(vec![
            der::oid("1.2.840.113549.1.9.16.2.46"),
            Node::Cons(der::SET, vec![time]),
        ]);
        signer_info(signed).at(&[3]).kids().push(attr);
    }, "signed attribute 1.2.840.113549.1.9.16.2.46 other than content-type, message-digest and signing-time (RFC 9589 §4)", rpki_client Accepts, fort Accepts;

    /// No signing-time among the signed attributes (RFC 9589 §4).
    cms_without_signing_time: RoaCms, |signed| {
        let time = der::oid("1.2.840.113549.1.9.5");
        signer_info(signed).at(&[3]).kids().retain(|a| !matches!(a, Node::Cons(_, k) if k[0] == time));
    }, "lack content-type, message-digest or signing-time (RFC 9589 §4)", rpki_client Accepts, fort Accepts;

    /// An unsigned attribute (RFC 6488 §2.1.6.7).
    cms_unsigned_attribute: RoaCms, |signed| {
        let time = der::seq(vec![
            der::oid("1.2.840.113549.1.9.5"),
            Node::Cons(der::SET, vec![der::utc_time(0)]),
        ]);
        signer_info(signed).kids().push(Node::Cons(0xa1, vec![time]));
    }, "SignerInfo carries unsigned attributes (RFC 6488 §2.1.6.7)", rpki_client Rejects, fort Rejects;

    /// A CRL in the SignedData (RFC 6488 §2.1.5).
    cms_with_crls: RoaCms, |signed| {
        let crl = der::seq(vec![der::seq(Vec::new()), der::seq(Vec::new()), Node::Prim(0x03, vec![0])]);
        signed.kids().insert(4, Node::Cons(0xa1, vec![crl]));
    }, "signed object carries CRLs (RFC 6488 §2.1.5)", rpki_client Rejects, fort Rejects;

    /// A second certificate beside the EE certificate (RFC 6488 §2.1.4).
    cms_two_certificates: RoaCms, |signed| {
        let ee = signed.at(&[3, 0]).clone();
        signed.at(&[3]).kids().push(ee);
    }, "signed object carries more than one certificate (RFC 6488 §2.1.4)", rpki_client Accepts, fort Rejects;

    /// SignedData version 1 (RFC 6488 §2.1.1).
    cms_signed_data_version_1: RoaCms, |signed| {
        *signed.at(&[0]).bytes() = vec![1];
    }, "SignedData version is not 3 (RFC 6488 §2.1.1)", rpki_client Accepts, fort Rejects;

    /// A content-type attribute naming a manifest in a ROA (RFC 6488
    /// §2.1.6.4.1).
    cms_content_type_attribute_differs: RoaCms, |signed| {
        let attrs = signer_info(signed).at(&[3]).kids();
        let content_type = attrs
            .iter_mut()
            .find(|a| matches!(a, Node::Cons(_, kids) if kids[0] == der::oid("1.2.840.113549.1.9.3")))
            .unwrap();
        *content_type.at(&[1, 0]) = der::oid("1.2.840.113549.1.9.16.1.26");
    }, "content-type attribute differs from the eContentType (RFC 6488 §2.1.6.4.1)", rpki_client Rejects, fort Rejects;

    /// A sid that is not the EE certificate's key (RFC 6488 §2.1.6.2).
    cms_sid_not_the_ee_key: RoaCms, |signed| {
        *signer_info(signed).at(&[1]).bytes() = vec![0x5a; 20];
    }, "SignerInfo sid is not the EE certificate's subjectKeyIdentifier (RFC 6488 §2.1.6.2)", rpki_client Rejects, fort Rejects;

    /// A CRL distribution point that is an HTTPS URI alone (RFC 6487 §4.8.6).
    crl_distribution_point_without_rsync: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), CRL_DP), |points| {
            rescheme(points.at(&[0, 0, 0, 0]), "https");
        });
    }, "cRLDistributionPoints lacks an rsync URI (RFC 6487 §4.8.6)", rpki_client Rejects, fort Rejects;

    /// Reasons in the CRL distribution point (RFC 6487 §4.8.6).
    crl_distribution_point_with_reasons: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), CRL_DP), |points| {
            points.at(&[0]).kids().push(Node::Prim(0x81, vec![7, 0x80]));
        });
    }, "CRL DistributionPoint carries reasons or cRLIssuer (RFC 6487 §4.8.6)", rpki_client Rejects, fort Rejects;

    /// Two CRL distribution points (RFC 6487 §4.8.6).
    two_crl_distribution_points: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), CRL_DP), |points| {
            let again = points.kids()[0].clone();
            points.kids().push(again);
        });
    }, "cRLDistributionPoints holds more than one DistributionPoint (RFC 6487 §4.8.6)", rpki_client Rejects, fort Rejects;

    /// An OCSP responder beside the issuer's certificate (RFC 6487 §4.8.7).
    authority_info_access_with_ocsp: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), AIA), |info| {
            let ocsp = Node::Prim(0x86, b"http://127.0.0.1/ocsp".to_vec());
            info.kids().push(der::seq(vec![der::oid("1.3.6.1.5.5.7.48.1"), ocsp]));
        });
    }, "authorityInfoAccess has access method 1.3.6.1.5.5.7.48.1, not id-ad-caIssuers (RFC 6487 §4.8.7)", rpki_client Rejects, fort Accepts;

    /// The issuer's certificate at an HTTPS URI alone (RFC 6487 §4.8.7).
    authority_info_access_without_rsync: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), AIA), |info| {
            rescheme(info.at(&[0, 1]), "https");
        });
    }, "authorityInfoAccess lacks an rsync URI for id-ad-caIssuers (RFC 6487 §4.8.7)", rpki_client Accepts, fort Rejects;

    /// The issuer's certificate named by a DNS name, not a URI.
    authority_info_access_not_a_uri: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), AIA), |info| {
            *info.at(&[0, 1]) = Node::Prim(0x82, b"ca.example".to_vec());
        });
    }, "accessLocation for 1.3.6.1.5.5.7.48.2 is not a URI (RFC 6487 §4.8.7)", rpki_client Rejects, fort Rejects;

    /// The CA's repository at an HTTPS URI alone (RFC 6487 §4.8.8.1).
    ca_repository_without_rsync: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), SIA), |info| {
            rescheme(access(info, "1.3.6.1.5.5.7.48.5").at(&[1]), "https");
        });
    }, "lacks an rsync URI for id-ad-caRepository (RFC 6487 §4.8.8.1)", rpki_client Rejects, fort Rejects;

    /// The CA's RRDP notification at a plain HTTP URI (RFC 8182 §3.2).
    rrdp_notification_not_https: CaCert, |tbs| {
        der::edit_value(der::extension(extensions(tbs), SIA), |info| {
            let notify = access(info, AD_RPKI_NOTIFY).at(&[1]).bytes();
            let rest = notify.strip_prefix(b"https").expect("an HTTPS URI").to_vec();
            *notify = [b"http".as_slice(), &rest].concat();
        });
    }, "id-ad-rpkiNotify is not an HTTPS URI (RFC 8182 §3.2)", rpki_client Rejects, fort Accepts;

    /// A repository URI in a ROA's EE certificate, where only
    /// id-ad-signedObject may be (RFC 6487 §4.8.8.2).
    ee_certificate_with_a_repository: RoaEe, |tbs| {
        der::edit_value(der::extension(extensions(tbs), SIA), |info| {
            let repo = Node::Prim(0x86, b"rsync://127.0.0.1/repo/m1/".to_vec());
            info.kids().push(der::seq(vec![der::oid("1.3.6.1.5.5.7.48.5"), repo]));
        });
    }, "access method 1.3.6.1.5.5.7.48.5 besides id-ad-signedObject (RFC 6487 §4.8.8.2)", rpki_client Rejects, fort Accepts;

    /// A ROA's signed object at an HTTPS URI alone (RFC 6487 §4.8.8.2).
    ee_signed_object_without_rsync: RoaEe, |tbs| {
        der::edit_value(der::extension(extensions(tbs), SIA), |info| {
            rescheme(info.at(&[0, 1]), "https");
        });
    }, "lacks an rsync URI for id-ad-signedObject (RFC 6487 §4.8.8.2)", rpki_client Rejects, fort Rejects;
}

/// The SignerInfo of a SignedData.
fn signer_info(signed: &mut Node) -> &mut Node {
    signed.kids().last_mut().unwrap().at(&[0])
}

/// A contact for the Ghostbusters cases, as the CLI reads it.
const CARD: &str = "BEGIN:VCARD\nVERSION:4.0\nFN:RPKI Team\nEMAIL:rpki@member.example\nEND:VCARD\n";

/// Where a Ghostbusters fault goes: the EE certificate of `m1`'s record
/// (signed again by `m1`), or its SignedData (signed again with a new EE
/// key).
#[derive(Clone, Copy)]
enum GbrPart {
    Ee,
    Cms,
}

/// One Ghostbusters rule (RFC 6493): `m1`'s record changed by `edit`
/// must be rejected by `anchorage validate` naming `rule`, `m2`'s twin
/// accepted, and rpki-client must count the records as measured (records
/// carry no VRPs; FORT reports none, so it is not compared).
fn check_gbr(part: GbrPart, edit: fn(&mut Node), rule: &str, rpki_client: Verdict) {
    require("rpki-client");
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    let card = tmp.path().join("contact.vcf");
    std::fs::write(&card, CARD).unwrap();
    for (handle, resources) in [
        ("m1", "AS64500, 192.0.2.0/24"),
        ("m2", "AS64501, 198.51.100.0/24"),
    ] {
        cli.ca_create(handle, None, resources);
        cli.ok(&["ca", "contact", handle, "--vcard", card.to_str().unwrap()]);
    }
    let f = Faults::new(&cli, &tmp.path().join("bad"));
    let cases: [Case; 2] = [("m1", 64500, edit), ("m2", 64501, unchanged)];
    for (handle, _, edit) in cases {
        let key = f.key_of(handle);
        f.resign(
            handle,
            "online",
            |_, files| {
                let name = format!("{key}.gbr");
                let der = files[&name].clone();
                let record = match part {
                    GbrPart::Ee => f.resign_ee(&key, &der, edit),
                    GbrPart::Cms => f.resign_cms(&key, &der, edit),
                };
                files.insert(name, record);
            },
            faults::current(),
        );
    }
    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let work = tmp.path().join("work");
    let (ours, metadata) = common::anchorage_validate_tal(&cli.tal(), &rsyncd, &work);
    assert_eq!(
        metadata["gbrs"], 1,
        "the twin alone is accepted: {:#?}",
        ours.problems
    );
    assert!(
        ours.problems
            .iter()
            .any(|p| p.contains("/m1/") && p.contains(".gbr") && p.contains(rule)),
        "no rejection naming {rule:?}: {:#?}",
        ours.problems
    );
    let theirs = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("rpki-client/out/json")).unwrap())
            .unwrap();
    let seen = match doc["metadata"]["gbrs"].as_u64() {
        Some(2) => Verdict::Accepts,
        Some(1) => Verdict::Rejects,
        other => panic!("rpki-client counted {other:?} records\n{}", theirs.log),
    };
    if std::env::var_os("CONFORMANCE_RECORD").is_some() {
        eprintln!("CONFORMANCE {rule}: rpki-client {seen:?}");
        return;
    }
    assert_eq!(
        seen, rpki_client,
        "rpki-client changed its verdict\n{}",
        theirs.log
    );
}

/// Replaces a SignedData's content with `text`, and its message-digest
/// attribute with the text's SHA-256 (the signed attributes are signed
/// again afterwards).
fn set_content(signed: &mut Node, text: &str) {
    set_content_bytes(signed, text.as_bytes());
}

/// A SignedData's DER content changed by `edit` (see [`set_content`]).
fn edit_content(signed: &mut Node, edit: impl FnOnce(&mut Node)) {
    let mut content = Node::parse(signed.at(&[2, 1, 0]).bytes());
    edit(&mut content);
    set_content_bytes(signed, &content.encode());
}

/// [`set_content`] for any bytes.
fn set_content_bytes(signed: &mut Node, bytes: &[u8]) {
    let text = bytes;
    *signed.at(&[2, 1, 0]).bytes() = text.to_vec();
    let digest = der::oid("1.2.840.113549.1.9.4");
    let attrs = signer_info(signed).at(&[3]).kids();
    let attr = attrs
        .iter_mut()
        .find(|a| matches!(a, Node::Cons(_, k) if k[0] == digest))
        .unwrap();
    *attr.at(&[1, 0]).bytes() = anchorage_ca_core::point::sha256(text).to_vec();
}

#[test]
fn ghostbusters_ee_certificate_listing_resources() {
    // RFC 6493 §6: the EE certificate inherits its resources.
    check_gbr(
        GbrPart::Ee,
        |tbs| {
            der::edit_value(der::extension(extensions(tbs), IP_RESOURCES), |blocks| {
                let prefix = Node::Prim(0x03, vec![0, 192, 0, 2]);
                let family = der::seq(vec![
                    Node::Prim(der::OCTET_STRING, vec![0, 1]),
                    der::seq(vec![prefix]),
                ]);
                *blocks = der::seq(vec![family]);
            });
        },
        "lists resources instead of inheriting them (RFC 6493 §6)",
        Verdict::Accepts,
    );
}

#[test]
fn ghostbusters_vcard_without_a_name() {
    check_gbr(
        GbrPart::Cms,
        |signed| {
            set_content(
                signed,
                "BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL:rpki@member.example\r\nEND:VCARD\r\n",
            )
        },
        "Ghostbusters vCard lacks FN (RFC 6493 §5)",
        Verdict::Accepts,
    );
}

#[test]
fn ghostbusters_vcard_with_another_property() {
    check_gbr(
        GbrPart::Cms,
        |signed| {
            set_content(
                signed,
                "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEMAIL:a@b.example\r\nNOTE:hi\r\nEND:VCARD\r\n",
            )
        },
        "holds property NOTE, which RFC 6493 §5 does not allow",
        Verdict::Accepts,
    );
}

#[test]
fn ghostbusters_vcard_version_3() {
    check_gbr(
        GbrPart::Cms,
        |signed| {
            set_content(
                signed,
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEMAIL:a@b.example\r\nEND:VCARD\r\n",
            )
        },
        "is not VERSION:4.0 right after BEGIN",
        Verdict::Accepts,
    );
}

/// `anchorage validate` on the TAL of `cli` against `rsyncd`: its exit
/// status and standard error.
fn validate_raw(cli: &Cli, rsyncd: &RsyncDaemon, cache: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new(bin())
        .args(["validate", "--rsync-only", "--tal"])
        .arg(cli.tal())
        .arg("--cache")
        .arg(cache)
        .arg("--rsync-program")
        .arg(rsyncd.wrapper())
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn trust_anchor_named_differently_as_issuer_and_subject() {
    // RFC 6487 §4.4: a self-signed certificate is its own issuer. The TAL
    // holds only the key, so the certificate re-signed with it still
    // matches; the twin (re-signed unchanged) is accepted.
    require("rpki-client");
    require("rsync");
    for broken in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let (cli, f) = repository(tmp.path());
        let path = f.tree.join("ta.cer");
        let der = std::fs::read(&path).unwrap();
        let ta = f.key_of("ta");
        let cert = f.resign_der(&ta, &der, |tbs| {
            if broken {
                *tbs.at(&[3, 0, 0, 1]).bytes() = b"another trust anchor".to_vec();
            }
        });
        std::fs::write(&path, cert).unwrap();
        let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
        let work = tmp.path().join("work");
        let (ok, log) = validate_raw(&cli, &rsyncd, &work.join("ours"), &[]);
        let theirs = oracle::rpki_client(&cli.tal(), &rsyncd, &work.join("rpki-client")).unwrap();
        if broken {
            assert!(!ok, "accepted a trust anchor named twice:\n{log}");
            assert!(
                log.contains(
                    "trust anchor certificate's issuer differs from its subject (RFC 6487 §4.4)"
                ),
                "{log}"
            );
            assert!(
                theirs.vrps.is_empty(),
                "rpki-client accepts it:\n{}",
                theirs.log
            );
        } else {
            assert!(ok, "{log}");
            assert_eq!(theirs.vrps.len(), 2, "{}", theirs.log);
        }
    }
}

/// RFC 9286 §4.2.1 across one-shot runs: `anchorage validate` records
/// the manifests it validated in its cache, and warns of one that
/// replaces a recorded manifest with a number that does not go up or a
/// thisUpdate that goes back. It has no earlier objects to use instead
/// (§6.6), so it uses these: the VRPs stay.
#[test]
fn a_one_shot_run_warns_of_a_manifest_that_goes_back() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let (cli, f) = repository(tmp.path());
    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let cache = tmp.path().join("cache");
    let run = || validate_raw(&cli, &rsyncd, &cache, &[]);
    let (ok, log) = run();
    assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");
    let record = std::fs::read_to_string(cache.join("validated-manifests")).unwrap();
    assert_eq!(record.lines().count(), 4, "ta, online, m1, m2:\n{record}");

    // m1 signed again with manifest number 1,000,000: it goes forward.
    f.resign("m1", "online", |_, _| {}, faults::current());
    faults::newer(&f.tree.join("m1"), 10);
    let (ok, log) = run();
    assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");

    // The same number again, in a new manifest: a warning, twice (the
    // record keeps the manifest it had).
    f.resign("m1", "online", |_, _| {}, faults::current());
    faults::newer(&f.tree.join("m1"), 20);
    for _ in 0..2 {
        let (ok, log) = run();
        assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");
        assert!(
            log.contains("warning rsync://127.0.0.1/repo/m1/")
                && log.contains(
                    "manifestNumber is not above the one validated before (RFC 9286 §4.2.1)"
                ),
            "{log}"
        );
    }

    // A higher number with a thisUpdate before the recorded one.
    f.resign_as(
        "m1",
        "online",
        |_, _| {},
        (faults::current(), |crl| crl),
        (1_000_001, faults::days(-1)),
    );
    faults::newer(&f.tree.join("m1"), 30);
    let (ok, log) = run();
    assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");
    assert!(
        log.contains("thisUpdate is earlier than the one validated before (RFC 9286 §4.2.1)"),
        "{log}"
    );

    // A new cache knows nothing before: no warning.
    let (ok, log) = validate_raw(&cli, &rsyncd, &tmp.path().join("fresh"), &[]);
    assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");
    assert!(!log.contains("warning"), "{log}");
}

#[test]
fn validation_at_a_later_time_finds_the_manifests_stale_as_rpki_client_does() {
    require("rpki-client");
    require("faketime");
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let (cli, f) = repository(tmp.path());
    // m1's CRL ends in two hours, well before its manifest (a day): the
    // time given decides whether the CRL is current.
    let now = chrono::Utc::now();
    let crl_ends = faults::days(0) + chrono::TimeDelta::hours(2);
    f.resign("m1", "online", |_, _| {}, (faults::days(-1), crl_ends));
    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let work = tmp.path().join("work");
    let in_three_hours = (now + chrono::TimeDelta::hours(3)).to_rfc3339();
    let (ok, log) = validate_raw(
        &cli,
        &rsyncd,
        &work.join("ours"),
        &["--at", &in_three_hours],
    );
    assert!(ok && log.contains("1 VRPs, 1 rejected"), "{log}");
    assert!(
        log.contains("/m1/") && log.contains("CRL nextUpdate has passed (RFC 6487 §5)"),
        "{log}"
    );
    // Now and an hour ahead: everything valid.
    let soon = (now + chrono::TimeDelta::hours(1)).to_rfc3339();
    let (ok, log) = validate_raw(&cli, &rsyncd, &work.join("ours"), &["--at", &soon]);
    assert!(ok && log.contains("2 VRPs, 0 rejected"), "{log}");
    // A week ahead: every manifest's nextUpdate has passed (the CA would
    // have reissued them by then; this copy is frozen).
    let later = now + chrono::TimeDelta::days(7);
    let (ok, log) = validate_raw(
        &cli,
        &rsyncd,
        &work.join("ours"),
        &["--at", &later.to_rfc3339()],
    );
    assert!(ok, "{log}");
    assert!(log.contains("0 VRPs"), "{log}");
    // The manifest's EE certificate ends with its nextUpdate: either
    // reason names the time.
    assert!(
        log.contains("certificate has expired") || log.contains("nextUpdate has passed"),
        "nothing reported out of date:\n{log}"
    );
    let theirs = oracle::rpki_client_at(
        &cli.tal(),
        &rsyncd,
        &work.join("rpki-client"),
        Some(later.timestamp()),
    )
    .unwrap();
    assert!(
        theirs.vrps.is_empty(),
        "rpki-client at the same time: {}",
        theirs.log
    );
}

/// Without `--cache`, the cache is the user's (XDG base directories:
/// `$XDG_CACHE_HOME`, else `~/.cache`), never the current directory.
#[test]
fn the_cache_is_the_users_by_default() {
    require("rsync");
    let tmp = tempfile::tempdir().unwrap();
    let (cli, f) = repository(tmp.path());
    let rsyncd = RsyncDaemon::start(&f.tree, "repo", &tmp.path().join("rsyncd")).unwrap();
    let home = tmp.path().join("home");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let run = |env: &[(&str, &Path)]| {
        let mut cmd = Command::new(bin());
        cmd.args(["validate", "--rsync-only", "--tal"])
            .arg(cli.tal())
            .arg("--rsync-program")
            .arg(rsyncd.wrapper())
            .current_dir(&elsewhere)
            .env_remove("XDG_CACHE_HOME")
            .env("HOME", &home);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success() && log.contains("2 VRPs, 0 rejected"),
            "{log}"
        );
    };
    run(&[]);
    let record = "anchorage/validate/validated-manifests";
    assert!(home.join(".cache").join(record).is_file());
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "nothing in the current directory"
    );
    let xdg = tmp.path().join("xdg");
    run(&[("XDG_CACHE_HOME", &xdg)]);
    assert!(xdg.join(record).is_file());
}

#[test]
fn a_time_that_is_not_rfc_3339_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["validate", "--tal"])
        .arg(tmp.path().join("none.tal"))
        .args(["--at", "tomorrow"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("not an RFC 3339 time"), "{err}");
}
