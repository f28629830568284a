//! Two Anchorage instances, as an RIR and an NIR run them: the NIR's CA
//! is the child of the RIR's online CA over RFC 6492 and publishes at the
//! RIR's RFC 8181 server; an LIR is hosted at the NIR. rpki-client, FORT
//! and the bundled validator validate the whole tree from the RIR's TAL.
//! When the RIR shrinks the NIR's entitlement, the NIR's next sync
//! withdraws what is no longer covered.

mod common;

use common::api::wait_published;
use common::{Cli, validate_everywhere, vrps};

#[test]
fn nir_under_rir_over_rfc6492_and_rfc8181() {
    let tmp = tempfile::tempdir().unwrap();
    let (rir, _rir_serve, nir) =
        common::api::rir_and_nir(tmp.path(), "AS64496-AS64499, 10.0.0.0/8, 2001:db8::/32");
    let file = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    // An instance whose certificates would name another RRDP notification
    // file than the repository's is refused (RFC 8183 §5.2.4).
    let elsewhere = Cli::init_at(
        &tmp.path().join("elsewhere"),
        "rsync://127.0.0.1/repo/nir/",
        "https://rrdp.example.net/rrdp/",
        &[],
    );
    let err = elsewhere.fails(&["repository", "add", "--response", &file("repository.xml")]);
    assert!(err.contains("RRDP notification URI"), "{err}");

    // The NIR hosts an LIR and signs ROAs; each change is pushed to the RIR.
    nir.ca_create("lir", Some("nir"), "AS64497, 10.1.0.0/16, 2001:db8:1::/48");
    nir.roa_add("lir", 64497, "10.1.0.0/16");
    nir.roa_add("nir", 64496, "10.0.0.0/16");
    let shown = nir.json(&["parent", "list"]);
    assert_eq!(shown[0]["last_error"], serde_json::Value::Null, "{shown}");

    wait_published(&rir.dir);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = rir.serve(&work);
    validate_everywhere(
        &rir,
        &rsyncd,
        &work,
        &vrps(&[
            (64500, "192.0.2.0/24", 24),
            (64496, "10.0.0.0/16", 16),
            (64497, "10.1.0.0/16", 16),
        ]),
    );

    // The RIR takes 10.1.0.0/16 back. At its next sync the NIR gets the
    // smaller certificate, recertifies the LIR without it and withdraws
    // the LIR's ROA, at the RIR's repository.
    rir.ok(&[
        "child",
        "update",
        "nir",
        "--resources",
        "AS64496-AS64499, 10.0.0.0/16, 2001:db8::/32",
    ]);
    let out = nir.ok(&["parent", "sync", "nir"]);
    assert!(out.contains("1 ROA payloads withdrawn"), "{out}");
    let lir = nir.json(&["ca", "show", "lir"]);
    assert_eq!(lir["resources"], "AS64497, 2001:db8:1::/48", "{lir}");
    assert!(
        nir.json(&["roa", "list", "lir"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    wait_published(&rir.dir);
    let work2 = tmp.path().join("work2");
    std::fs::create_dir_all(&work2).unwrap();
    validate_everywhere(
        &rir,
        &rsyncd,
        &work2,
        &vrps(&[(64500, "192.0.2.0/24", 24), (64496, "10.0.0.0/16", 16)]),
    );
    // The NIR publishes an ASPA and a router certificate for AS64498,
    // which the next shrink takes away.
    nir.ok(&[
        "aspa",
        "add",
        "nir",
        "--customer-as",
        "AS64498",
        "--providers",
        "AS64510",
    ]);
    let csr = tmp.path().join("router.csr");
    std::fs::write(
        &csr,
        common::router_request(&rcgen::PKCS_ECDSA_P256_SHA256).0,
    )
    .unwrap();
    nir.ok(&[
        "router-cert",
        "add",
        "nir",
        "--asn",
        "64498",
        "--csr",
        csr.to_str().unwrap(),
    ]);
    wait_published(&rir.dir);
    // Files of the RIR's tree whose path contains `part`.
    let published = |part: &str| {
        common::snapshot(&rir.dir.join("rsync/current"))
            .keys()
            .filter(|p| p.to_string_lossy().contains(part))
            .count()
    };
    assert_eq!((published(".asa"), published("/ROUTER-")), (1, 1));

    // The RIR takes back everything the LIR held: the LIR's certificate
    // is revoked, its resources are empty, the NIR's own ROA stays; the
    // ASPA and the router certificate of AS64498 go.
    rir.ok(&[
        "child",
        "update",
        "nir",
        "--resources",
        "AS64496, 10.0.0.0/16",
    ]);
    nir.ok(&["parent", "sync", "nir"]);
    let lir = nir.json(&["ca", "show", "lir"]);
    assert_eq!(lir["resources"], "", "{lir}");
    assert_eq!(nir.json(&["aspa", "list", "nir"]), serde_json::json!([]));
    assert_eq!(
        nir.json(&["router-cert", "list", "nir"]),
        serde_json::json!([])
    );
    wait_published(&rir.dir);
    assert_eq!((published(".asa"), published("/ROUTER-")), (0, 0));
    let work3 = tmp.path().join("work3");
    std::fs::create_dir_all(&work3).unwrap();
    validate_everywhere(
        &rir,
        &rsyncd,
        &work3,
        &vrps(&[(64500, "192.0.2.0/24", 24), (64496, "10.0.0.0/16", 16)]),
    );

    // The NIR's audit log says why the ROA went.
    let db = rusqlite::Connection::open(nir.dir.join("anchorage.db")).unwrap();
    let why: String = db
        .query_row(
            "SELECT detail FROM audit WHERE action = 'roa remove' AND ca = 'lir'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(why.contains("no longer within the CA's resources"), "{why}");
    drop(db);

    // The RIR drops the NIR as a child and as a publisher. The NIR's
    // changes are still committed and published locally, but the command
    // says they did not reach the repository, and so does its status.
    rir.ok(&["child", "remove", "nir"]);
    rir.ok(&["publisher", "remove", "nir"]);
    let out = nir.run(&[
        "roa",
        "add",
        "nir",
        "--asn",
        "64496",
        "--prefix",
        "10.0.0.0/24",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: not pushed to the remote repository"),
        "{stderr}"
    );
    let shown = nir.json(&["repository", "show"]);
    assert!(shown["last_error"].is_string(), "{shown}");
    nir.fails(&["parent", "sync", "nir"]);
    // The CA goes with its parent, once nothing hangs below it.
    let err = nir.fails(&["parent", "remove", "nir"]);
    assert!(err.contains("delete its child CAs first: lir"), "{err}");
    let err = nir.fails(&["repository", "remove"]);
    assert!(err.contains("remove their parents first"), "{err}");
    nir.ok(&["ca", "delete", "lir"]);
    nir.ok(&["parent", "remove", "nir"]);
    assert!(nir.json(&["parent", "list"]).as_array().unwrap().is_empty());
    nir.fails(&["ca", "show", "nir"]);
    nir.ok(&["repository", "remove"]);
    nir.fails(&["repository", "show"]);
    // Nothing is pushed any more: a publication says nothing about it.
    let out = nir.run(&["publish"]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not pushed"));
    let db = rusqlite::Connection::open(nir.dir.join("anchorage.db")).unwrap();
    let removed: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action IN ('parent remove', 'repository remove')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(removed, 2);
}
