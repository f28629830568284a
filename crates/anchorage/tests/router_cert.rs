//! BGPsec router certificates (RFC 8209): a router's key certified from
//! its PKCS#10 request, accepted by rpki-client 9, Routinator, FORT and
//! the bundled validator with the same AS, SKI and key, signed again under
//! a new CA key, served to routers over RTR (Router Key PDUs), and revoked;
//! a request with another algorithm or a bad signature, or an AS the CA
//! does not hold, is refused and changes nothing.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anchorage_testkit::{self as oracle, RsyncDaemon, ValidatorRun, newer_oracle};
use base64::Engine as _;
use common::{Cli, api, published, router_request as request, vrps};
use serde_json::json;

type Keys = BTreeSet<(u32, String, String)>;

/// The SKI of a key given as base64 SubjectPublicKeyInfo: the SHA-1 of
/// its subjectPublicKey bits (RFC 6487 §4.8.2), upper-case hex.
fn ski(spki: &str) -> String {
    let der = base64::engine::general_purpose::STANDARD
        .decode(spki)
        .unwrap();
    let key = rpki::crypto::PublicKey::decode(der.as_slice()).unwrap();
    key.key_identifier().to_string().to_ascii_uppercase()
}

/// rpki-client 9, Routinator, FORT and the bundled validator on the
/// served tree: no complaint, the VRPs, and exactly `keys`.
fn validate_all(cli: &Cli, rsyncd: &RsyncDaemon, work: &Path, keys: &Keys) {
    let expected = vrps(&[(64496, "192.0.2.0/24", 24)]);
    let check_keys = |name: &str, run: &ValidatorRun, keys: &Keys| {
        common::assert_accepted(name, run, &expected);
        assert_eq!(
            &run.router_keys, keys,
            "{name} router keys differ\n{}",
            run.log
        );
    };
    let check = |name: &str, run: &ValidatorRun| check_keys(name, run, keys);
    let program = newer_oracle("rpki-client").expect("scripts/install-oracles.sh");
    let tal = cli.tal();
    check(
        "rpki-client 9",
        &oracle::rpki_client_program(&program, &tal, rsyncd, &work.join("rpki-client")).unwrap(),
    );
    let program = newer_oracle("routinator").expect("scripts/install-oracles.sh");
    check(
        "Routinator",
        &oracle::routinator(&program, &tal, rsyncd, &work.join("routinator")).unwrap(),
    );
    // FORT 1.5.4 recognises router certificates ("Type: BGPsec EE") and
    // ignores them: it must accept the repository, and reports no keys.
    check_keys(
        "FORT",
        &oracle::fort(&tal, rsyncd, &work.join("fort")).unwrap(),
        &Keys::new(),
    );
    let (doc, log) = common::validate_json(&tal, &work.join("ours"), &common::over_rsync(rsyncd));
    let mut ours = ValidatorRun {
        log,
        vrps: common::json_vrps(&doc),
        ..Default::default()
    };
    for k in doc["bgpsec_keys"].as_array().into_iter().flatten() {
        ours.router_keys.insert((
            k["asn"].as_u64().unwrap() as u32,
            k["ski"].as_str().unwrap().to_string(),
            k["pubkey"].as_str().unwrap().to_string(),
        ));
    }
    for r in doc["rejected"].as_array().into_iter().flatten() {
        ours.problems.push(format!("{}: {}", r["uri"], r["reason"]));
    }
    check("anchorage validate", &ours);
}

#[test]
fn router_keys_are_certified_validated_rolled_and_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496-AS64497, 192.0.2.0/24");
    cli.roa_add("m1", 64496, "192.0.2.0/24");
    let (pem, spki) = request(&rcgen::PKCS_ECDSA_P256_SHA256);
    let csr = tmp.path().join("router.csr");
    fs::write(&csr, &pem).unwrap();
    let csr = csr.to_str().unwrap();
    let out = cli.ok(&["router-cert", "add", "m1", "--asn", "AS64496", "--csr", csr]);
    let ski = ski(&spki);
    assert!(
        out.contains(&format!("certified the router key {ski} for AS64496")),
        "{out}"
    );
    // The same key for another AS the CA holds: a second certificate.
    cli.ok(&["router-cert", "add", "m1", "--asn", "64497", "--csr", csr]);
    let out = cli.ok(&["router-cert", "add", "m1", "--asn", "64497", "--csr", csr]);
    assert!(out.contains("nothing changed"), "{out}");
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["router-cert", "list", "m1", "--format", "json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["file"], format!("ROUTER-0000FBF0-{ski}.cer"));
    assert!(
        cli.tree()
            .join("m1")
            .join(format!("ROUTER-0000FBF1-{ski}.cer"))
            .is_file()
    );

    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let both: Keys = [
        (64496, ski.clone(), spki.clone()),
        (64497, ski.clone(), spki.clone()),
    ]
    .into();
    validate_all(&cli, &rsyncd, &work.join("1"), &both);

    // Refused with the rule, and nothing published changes.
    let before = published(&cli.tree());
    let other = |alg| {
        let path = tmp.path().join(format!("other-{}.csr", rand_name()));
        fs::write(&path, request(alg).0).unwrap();
        path
    };
    let p384 = other(&rcgen::PKCS_ECDSA_P384_SHA384);
    let ed25519 = other(&rcgen::PKCS_ED25519);
    let junk = tmp.path().join("junk.csr");
    fs::write(&junk, "not a certificate request\n").unwrap();
    let forged = tmp.path().join("forged.csr");
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    // The last octet lies in the signature's s value: the signature no
    // longer verifies, though the request still decodes.
    *der.last_mut().unwrap() ^= 0x01;
    fs::write(&forged, &der).unwrap();
    for (asn, file, says) in [
        (
            "64600",
            Path::new(csr),
            "not within the resources of CA 'm1'",
        ),
        ("64496", p384.as_path(), "ecdsa-with-SHA256"),
        ("64496", ed25519.as_path(), "ecdsa-with-SHA256"),
        ("64496", forged.as_path(), "does not verify"),
        (
            "64496",
            junk.as_path(),
            "router certificate request refused",
        ),
    ] {
        let err = cli.fails(&[
            "router-cert",
            "add",
            "m1",
            "--asn",
            asn,
            "--csr",
            file.to_str().unwrap(),
        ]);
        assert!(err.contains(says), "{asn} {}: {err}", file.display());
    }
    let err = cli.fails(&[
        "router-cert",
        "revoke",
        "m1",
        "--asn",
        "64496",
        "--ski",
        "00",
    ]);
    assert!(err.contains("has no router certificate"), "{err}");
    let err = cli.fails(&["ca", "update", "m1", "--resources", "AS64496, 192.0.2.0/24"]);
    assert!(err.contains("router certificate"), "{err}");
    assert_eq!(published(&cli.tree()), before);

    // A key rollover certifies the router keys again under the new key.
    cli.ok(&["ca", "keyroll", "m1", "--start", "--staging-hours", "0"]);
    cli.ok(&["ca", "keyroll", "m1", "--activate"]);
    validate_all(&cli, &rsyncd, &work.join("2"), &both);

    // Revoked: withdrawn and on the CRL.
    cli.ok(&[
        "router-cert",
        "revoke",
        "m1",
        "--asn",
        "64497",
        "--ski",
        &ski.to_lowercase(),
    ]);
    assert!(
        !cli.tree()
            .join("m1")
            .join(format!("ROUTER-0000FBF1-{ski}.cer"))
            .exists()
    );
    let one: Keys = [(64496, ski.clone(), spki.clone())].into();
    validate_all(&cli, &rsyncd, &work.join("3"), &one);
}

/// A name no other file of the test has.
fn rand_name() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

#[test]
fn the_api_certifies_lists_and_revokes_router_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496, 192.0.2.0/24");
    cli.ca_create("m2", None, "AS64498, 198.51.100.0/24");
    // With RTR, so that serve validates its own repository.
    let s = api::serve_with(
        &cli,
        "",
        api::Launch {
            rtr: true,
            ..api::Launch::default()
        },
    );
    let c = api::Client::new(&cli, &s.api);
    let m1 = api::token(&cli, &["--role", "ca-operator", "--ca", "m1"]);
    let m2 = api::token(&cli, &["--role", "ca-operator", "--ca", "m2"]);
    let ro = api::token(&cli, &["--role", "read-only", "--ca", "m1"]);
    let path = "/api/v1/cas/m1/router-certs";
    let (pem, spki) = request(&rcgen::PKCS_ECDSA_P256_SHA256);
    let body = json!({"asn": 64496, "csr": pem});
    api::wait_published(&cli.dir);
    let before = api::state(&cli.dir);
    assert_eq!(c.json("POST", path, &ro, body.clone()).status, 403);
    assert_eq!(c.json("POST", path, &m2, body.clone()).status, 404);
    let (p384, _) = request(&rcgen::PKCS_ECDSA_P384_SHA384);
    for (bad, says) in [
        (
            json!({"asn": 64498, "csr": pem}),
            "not within the resources",
        ),
        (json!({"asn": 64496, "csr": p384}), "ecdsa-with-SHA256"),
        (
            json!({"asn": 64496, "csr": "not base64!"}),
            "neither PEM nor base64",
        ),
    ] {
        let r = c.json("POST", path, &m1, bad.clone());
        assert_eq!(r.status, 422, "{bad}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(says),
            "{}",
            r.body
        );
    }
    assert_eq!(
        api::state(&cli.dir),
        before,
        "a refused request changed something"
    );

    let r = c.json("POST", path, &m1, body.clone());
    assert_eq!(r.status, 201, "{}", r.body);
    let ski = ski(&spki);
    assert_eq!(r.body["ski"], ski);
    assert_eq!(
        c.json("POST", path, &m1, body).status,
        200,
        "the same again: no change"
    );
    let list = c.get(path, &ro).body;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // serve's self-validation finds the certified key.
    let mut last = serde_json::Value::Null;
    common::wait_until("the self-validation compares the router key", 60, || {
        let out = cli.run(&["status", "--format", "json"]);
        last = serde_json::from_slice(&out.stdout).unwrap_or_default();
        last["self_validation"]["router_keys_configured"] == 1
    });
    let v = &last["self_validation"];
    assert_eq!(v["router_keys_missing_count"], 0, "{v:#}");
    let gone = format!("{path}/AS64496/{ski}");
    assert_eq!(c.call("DELETE", &gone, Some(&ro), None, &[]).status, 403);
    assert_eq!(c.call("DELETE", &gone, Some(&m1), None, &[]).status, 204);
    assert_eq!(c.call("DELETE", &gone, Some(&m1), None, &[]).status, 404);
    assert_eq!(c.get(path, &m1).body, json!([]));
    let log = c.get("/api/v1/audit?ca=m1", &m1).body;
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"router-cert add") && actions.contains(&"router-cert revoke"),
        "{log}"
    );
}
