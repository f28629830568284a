//! ASPAs (draft-ietf-sidrops-aspa-profile): set, replaced and removed
//! with the CLI and the admin API, accepted by rpki-client 9 and
//! Routinator (Debian's rpki-client 8.2 reads an older profile, FORT none)
//! and the bundled validator with exactly the configured providers,
//! carried over by a key rollover; bad input is refused and changes
//! nothing.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anchorage_testkit::{self as oracle, RsyncDaemon, ValidatorRun, newer_oracle};
use common::{Cli, api, published, vrps};
use serde_json::{Value, json};

type Aspas = BTreeSet<(u32, Vec<u32>)>;

fn aspas(list: &[(u32, &[u32])]) -> Aspas {
    list.iter().map(|(c, p)| (*c, p.to_vec())).collect()
}

/// The ASPA files in CA `handle`'s point.
fn files(cli: &Cli, handle: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cli.tree().join(handle))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".asa"))
        .collect();
    names.sort();
    names
}

/// Checks that a validator accepted everything and found exactly
/// `expected` ASPAs and the VRPs `vrps`.
fn accepted(name: &str, run: &ValidatorRun, vrps: &BTreeSet<oracle::Vrp>, expected: &Aspas) {
    common::assert_accepted(name, run, vrps);
    assert_eq!(&run.aspas, expected, "{name} ASPAs differ\n{}", run.log);
}

/// rpki-client 9, Routinator and the bundled validator on the served tree.
fn validate_all(
    cli: &Cli,
    rsyncd: &RsyncDaemon,
    work: &Path,
    vrps: &BTreeSet<oracle::Vrp>,
    expected: &Aspas,
) {
    let program =
        newer_oracle("rpki-client").expect("scripts/install-oracles.sh installs rpki-client 9");
    let run = oracle::rpki_client_program(&program, &cli.tal(), rsyncd, &work.join("rpki-client"))
        .unwrap();
    accepted("rpki-client 9", &run, vrps, expected);
    let program =
        newer_oracle("routinator").expect("scripts/install-oracles.sh installs Routinator");
    let run = oracle::routinator(&program, &cli.tal(), rsyncd, &work.join("routinator")).unwrap();
    accepted("Routinator", &run, vrps, expected);
    let (doc, log) =
        common::validate_json(&cli.tal(), &work.join("ours"), &common::over_rsync(rsyncd));
    let mut ours = ValidatorRun {
        log,
        vrps: common::json_vrps(&doc),
        aspas: common::json_aspas(&doc),
        ..Default::default()
    };
    for r in doc["rejected"].as_array().into_iter().flatten() {
        ours.problems.push(format!("{}: {}", r["uri"], r["reason"]));
    }
    accepted("anchorage validate", &ours, vrps, expected);
    assert_eq!(doc["metadata"]["aspas"], expected.len(), "{doc}");
}

#[test]
fn aspas_are_published_validated_replaced_rolled_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496-AS64499, 192.0.2.0/24");
    cli.roa_add("m1", 64496, "192.0.2.0/24");
    let expected_vrps = vrps(&[(64496, "192.0.2.0/24", 24)]);

    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "AS64496",
        "--providers",
        "AS64501, 64500",
    ]);
    assert!(
        out.contains("added the ASPA AS64496 => AS64500, AS64501"),
        "{out}"
    );
    // No provider: published as AS0, with a warning that says what it means.
    let o = cli.run_with(
        &[],
        &[
            "aspa",
            "add",
            "m1",
            "--customer-as",
            "64497",
            "--providers",
            "",
        ],
    );
    assert!(o.status.success());
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(out.contains("AS64497 => AS0"), "{out}");
    assert!(
        err.contains("[no-providers]") && err.contains("no transit provider"),
        "{err}"
    );
    assert_eq!(files(&cli, "m1"), ["AS64496.asa", "AS64497.asa"]);
    let listed: serde_json::Value =
        serde_json::from_str(&cli.ok(&["aspa", "list", "m1", "--format", "json"])).unwrap();
    assert_eq!(
        listed,
        json!([{"customer_as": 64496, "providers": [64500, 64501]},
               {"customer_as": 64497, "providers": [0]}])
    );

    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let expected = aspas(&[(64496, &[64500, 64501]), (64497, &[0])]);
    validate_all(&cli, &rsyncd, &work.join("1"), &expected_vrps, &expected);

    // Bad input: refused with the rule, and nothing published changes.
    let before = published(&cli.tree());
    for (args, says) in [
        (["64600", "AS64500"], "not within the resources of CA 'm1'"),
        (
            ["64498", "AS64500, AS64500"],
            "provider AS64500 is listed twice",
        ),
        (["64498", "AS64500, AS64498"], "cannot be its own provider"),
        (["0", "AS64500"], "must not be AS0"),
        (["64498", "AS64500, ASX"], "not an AS number"),
    ] {
        let err = cli.fails(&[
            "aspa",
            "add",
            "m1",
            "--customer-as",
            args[0],
            "--providers",
            args[1],
        ]);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = cli.fails(&["aspa", "remove", "m1", "--customer-as", "64499"]);
    assert!(err.contains("has no ASPA for customer AS64499"), "{err}");
    let err = cli.fails(&[
        "aspa",
        "add",
        "ta",
        "--customer-as",
        "64496",
        "--providers",
        "1",
    ]);
    assert!(err.contains("trust anchor"), "{err}");
    assert_eq!(published(&cli.tree()), before);

    // Replaced: one ASPA per customer AS, with the new providers only;
    // the same set again changes nothing.
    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "64496",
        "--providers",
        "AS64502",
    ]);
    assert!(out.contains("replaced the ASPA of AS64496"), "{out}");
    let out = cli.ok(&[
        "aspa",
        "add",
        "m1",
        "--customer-as",
        "64496",
        "--providers",
        "AS64502",
    ]);
    assert!(out.contains("nothing changed"), "{out}");
    // A key rollover signs them again under the new key.
    cli.ok(&["ca", "keyroll", "m1", "--start", "--staging-hours", "0"]);
    cli.ok(&["ca", "keyroll", "m1", "--activate"]);
    let expected = aspas(&[(64496, &[64502]), (64497, &[0])]);
    validate_all(&cli, &rsyncd, &work.join("2"), &expected_vrps, &expected);

    // Removed: withdrawn; the CA cannot give up a customer AS in use.
    cli.ok(&["aspa", "remove", "m1", "--customer-as", "AS64497"]);
    assert_eq!(files(&cli, "m1"), ["AS64496.asa"]);
    let err = cli.fails(&["ca", "update", "m1", "--resources", "AS64497, 192.0.2.0/24"]);
    assert!(err.contains("ASPA AS64496"), "{err}");
    let expected = aspas(&[(64496, &[64502])]);
    validate_all(&cli, &rsyncd, &work.join("3"), &expected_vrps, &expected);
}

/// An RTR response read: the prefix PDUs' origin ASes, the ASPA PDUs
/// (flags, customer, providers), End of Data's serial, and the Router Key
/// PDUs (flags, AS, SKI in hex).
type RtrResponse = (
    Vec<u32>,
    Vec<(u8, u32, Vec<u32>)>,
    u32,
    Vec<(u8, u32, String)>,
);

/// Reads one RTR response (to End of Data) from `c`, skipping Serial
/// Notify PDUs.
fn rtr_response(c: &mut std::net::TcpStream, version: u8) -> RtrResponse {
    use std::io::Read;
    let word = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let (mut origins, mut aspas, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let mut pdu = vec![0u8; 8];
        c.read_exact(&mut pdu).unwrap();
        let len = word(&pdu, 4) as usize;
        pdu.resize(len, 0);
        c.read_exact(&mut pdu[8..]).unwrap();
        assert_eq!(pdu[0], version, "PDU version");
        match pdu[1] {
            0 | 3 => {}
            4 | 6 => origins.push(word(&pdu, len - 4)),
            11 => aspas.push((
                pdu[2],
                word(&pdu, 8),
                (12..len).step_by(4).map(|i| word(&pdu, i)).collect(),
            )),
            9 => keys.push((pdu[2], word(&pdu, 28), hex::encode_upper(&pdu[8..28]))),
            7 => return (origins, aspas, word(&pdu, 8), keys),
            t => panic!("unexpected PDU type {t}: {pdu:?}"),
        }
    }
}

#[test]
fn routers_get_aspas_over_rtr_version_2_router_keys_from_version_1_and_vrps_in_all() {
    use std::io::Write;
    use std::net::TcpStream;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let rtrdump = newer_oracle("rtrdump").expect("scripts/install-oracles.sh installs StayRTR");
    let tmp = tempfile::tempdir().unwrap();
    let port = || oracle::free_port().unwrap();
    let (http, rsync, rtr) = (port(), port(), port());
    let cli = Cli::init_with(
        &tmp.path().join("data"),
        &format!("https://127.0.0.1:{http}/rrdp/"),
        &[],
    );
    cli.ca_create("lir", None, "AS64496-AS64497, 192.0.2.0/24");
    cli.roa_add("lir", 64496, "192.0.2.0/24");
    cli.ok(&[
        "aspa",
        "add",
        "lir",
        "--customer-as",
        "64496",
        "--providers",
        "AS64500, AS64501",
    ]);
    // A router key too: Router Key PDUs in versions 1 and 2.
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap();
    let csr_file = tmp.path().join("router.csr");
    fs::write(&csr_file, csr.der().as_ref()).unwrap();
    cli.ok(&[
        "router-cert",
        "add",
        "lir",
        "--asn",
        "64497",
        "--csr",
        csr_file.to_str().unwrap(),
    ]);
    let router_ski = rpki::crypto::PublicKey::decode(
        rcgen::PublicKeyData::subject_public_key_info(&key).as_slice(),
    )
    .unwrap()
    .key_identifier()
    .to_string()
    .to_ascii_uppercase();
    let mut serve = Command::new(common::bin())
        .arg("--data-dir")
        .arg(&cli.dir)
        .args(["serve", "--http-listen", &format!("127.0.0.1:{http}")])
        .args(["--rsync-listen", &format!("127.0.0.1:{rsync}")])
        .args(["--rtr-listen", &format!("127.0.0.1:{rtr}")])
        .args(["--rtr-max-version", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let connect = |version: u8| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // Until the first validation: no data (error 2) or no port.
            if let Ok(mut c) = TcpStream::connect(("127.0.0.1", rtr)) {
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                c.write_all(&[version, 2, 0, 0, 0, 0, 0, 8]).unwrap();
                let mut head = [0u8; 8];
                use std::io::Read;
                if c.read_exact(&mut head).is_ok() && head[1] == 3 {
                    let session = u16::from_be_bytes([head[2], head[3]]);
                    return (c, session);
                }
            }
            assert!(Instant::now() < deadline, "no RTR data from serve");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let (mut v2, session) = connect(2);
    let (origins, aspas, serial, keys) = rtr_response(&mut v2, 2);
    assert_eq!(origins, [64496]);
    assert_eq!(aspas, [(1, 64496, vec![64500, 64501])]);
    assert_eq!(keys, [(1, 64497, router_ski.clone())]);
    let (mut v1, _) = connect(1);
    let (origins, aspas, _, keys) = rtr_response(&mut v1, 1);
    assert_eq!((origins, aspas.len()), (vec![64496], 0));
    assert_eq!(
        keys,
        [(1, 64497, router_ski.clone())],
        "Router Key PDUs from version 1 on"
    );

    // StayRTR's rtrdump speaks versions 0 and 1 only (0.6.2): it
    // negotiates down and gets the VRPs, and nothing it cannot read.
    let dump = tmp.path().join("rtrdump.json");
    let out = Command::new(&rtrdump)
        .args([
            "-connect",
            &format!("127.0.0.1:{rtr}"),
            "-rtr.version",
            "1",
            "-file",
        ])
        .arg(&dump)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rtrdump: {log}");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&dump).unwrap()).unwrap();
    assert_eq!(doc["roas"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc["roas"][0]["asn"], 64496, "{doc}");

    // Changes: Serial Notify, then the net delta over a serial query
    // (asked again until both changes are validated and served).
    let delta = |c: &mut TcpStream, from: u32, want: &[(u8, u32, Vec<u32>)]| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut q = vec![2, 1];
            q.extend(session.to_be_bytes());
            q.extend(12u32.to_be_bytes());
            q.extend(from.to_be_bytes());
            c.write_all(&q).unwrap();
            let (origins, aspas, serial, _) = rtr_response(c, 2);
            assert!(origins.is_empty(), "no VRP changed: {origins:?}");
            if aspas == want {
                return serial;
            }
            assert!(
                Instant::now() < deadline,
                "ASPA delta never came: {aspas:?}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    cli.ok(&[
        "aspa",
        "add",
        "lir",
        "--customer-as",
        "64496",
        "--providers",
        "AS64502",
    ]);
    cli.ok(&[
        "aspa",
        "add",
        "lir",
        "--customer-as",
        "64497",
        "--providers",
        "",
    ]);
    let serial = delta(
        &mut v2,
        serial,
        &[(1, 64496, vec![64502]), (1, 64497, vec![0])],
    );
    // Removed: withdrawn in the next delta.
    cli.ok(&["aspa", "remove", "lir", "--customer-as", "64497"]);
    delta(&mut v2, serial, &[(0, 64497, vec![])]);
    serve.kill().unwrap();
    serve.wait().unwrap();
}

#[test]
fn the_api_sets_lists_and_removes_aspas_with_roles_etags_problems_and_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64496-AS64497, 192.0.2.0/24");
    cli.ca_create("m2", None, "AS64498, 198.51.100.0/24");
    let s = api::serve(&cli, "");
    let c = api::Client::new(&cli, &s.api);
    let m1 = api::token(&cli, &["--role", "ca-operator", "--ca", "m1"]);
    let m2 = api::token(&cli, &["--role", "ca-operator", "--ca", "m2"]);
    let ro = api::token(&cli, &["--role", "read-only", "--ca", "m1"]);
    let path = "/api/v1/cas/m1/aspas";

    // A BGP table whose AS paths show AS64510 upstream of AS64496.
    let table = tmp.path().join("table.csv");
    fs::write(
        &table,
        "prefix,origin-asn\n192.0.2.0/24,64496\nadjacency,64500,64496,3\nadjacency,64510,64496,2\n",
    )
    .unwrap();
    let out = cli.ok(&["bgp", "load", table.to_str().unwrap()]);
    assert!(
        out.contains("1 announcements and 2 AS adjacencies"),
        "{out}"
    );

    // A dry run (read-only may) shows the warnings and changes nothing.
    let batch = json!({"add": [{"customer_as": 64496, "providers": [64501, 64500]},
                               {"customer_as": 64497, "providers": []}]});
    let r = c.json("POST", &format!("{path}/dry-run"), &ro, batch.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["applied"].clone(), r.body["added"].clone()),
        (json!(false), json!(2))
    );
    let warnings = r.body["warnings"].as_array().unwrap();
    let codes: Vec<&str> = warnings
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["unlisted-neighbour", "no-providers"], "{}", r.body);
    let unlisted = warnings[0]["message"].as_str().unwrap();
    assert!(
        unlisted.contains("AS64510 appears upstream of AS64496 in 2"),
        "{unlisted}"
    );
    // The CLI's dry run on the data directory says the same.
    let o = cli.run_with(
        &[],
        &[
            "aspa",
            "add",
            "m1",
            "--customer-as",
            "64496",
            "--providers",
            "AS64500",
            "--dry-run",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("[unlisted-neighbour]") && err.contains("AS64510"),
        "{err}"
    );
    assert!(!err.contains("AS64500 appears"), "{err}");
    assert_eq!(c.get(path, &m1).body, json!([]));
    api::wait_published(&cli.dir);
    let before = api::state(&cli.dir);

    // Refused: the wrong role or scope, bad input; nothing changes.
    assert_eq!(c.json("POST", path, &ro, batch.clone()).status, 403);
    assert_eq!(c.json("POST", path, &m2, batch.clone()).status, 404);
    for (body, says) in [
        (
            json!({"add": [{"customer_as": 64498, "providers": [1]}]}),
            "not within the resources",
        ),
        (
            json!({"add": [{"customer_as": 64496, "providers": [1, 1]}]}),
            "listed twice",
        ),
        (
            json!({"add": [{"customer_as": 64496, "providers": [64496]}]}),
            "its own provider",
        ),
        (
            json!({"add": [{"customer_as": 0, "providers": [1]}]}),
            "must not be AS0",
        ),
        (json!({"remove": [64496]}), "has no ASPA"),
        (
            json!({"add": [{"customer_as": 64496, "providers": [1]}], "remove": [64496]}),
            "twice",
        ),
    ] {
        let r = c.json("POST", path, &m1, body.clone());
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(says),
            "{body}: {}",
            r.body
        );
    }
    let r = c.json("POST", path, &m1, json!({"add": [{"customer_as": "x"}]}));
    assert!(r.status == 400 || r.status == 422, "{}", r.body);
    assert_eq!(
        api::state(&cli.dir),
        before,
        "a refused request changed something"
    );

    // Applied, with an ETag; a stale If-Match is 412.
    let r = c.json("POST", path, &m1, batch);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["applied"], true);
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let listed = c.get(path, &ro);
    assert_eq!(listed.headers.get("etag").unwrap().to_str().unwrap(), etag);
    assert_eq!(
        listed.body,
        json!([{"customer_as": 64496, "providers": [64500, 64501]},
               {"customer_as": 64497, "providers": [0]}])
    );
    let replace = json!({"add": [{"customer_as": 64496, "providers": [64502]}], "remove": [64497]});
    let bytes = replace.to_string();
    let stale = c.call(
        "POST",
        path,
        Some(&m1),
        Some(bytes.as_bytes()),
        &[("If-Match", "\"x\"")],
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
    let r = c.call(
        "POST",
        path,
        Some(&m1),
        Some(bytes.as_bytes()),
        &[("If-Match", &etag)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["replaced"].clone(), r.body["removed"].clone()),
        (json!(1), json!(1))
    );
    api::wait_published(&cli.dir);
    assert_eq!(files(&cli, "m1"), ["AS64496.asa"]);

    // The audit log names the token and what changed.
    let log = c.get("/api/v1/audit?ca=m1", &m1).body;
    let entries = log.as_array().unwrap();
    let has = |action: &str, before: Value, after: Value| {
        entries.iter().any(|e| {
            e["action"] == action
                && e["before"] == before
                && e["after"] == after
                && e["actor"].as_str().unwrap().starts_with("token:")
        })
    };
    assert!(
        has(
            "aspa set",
            Value::Null,
            json!("AS64496 => AS64500, AS64501")
        ),
        "{log}"
    );
    assert!(
        has(
            "aspa set",
            json!("AS64496 => AS64500, AS64501"),
            json!("AS64496 => AS64502")
        ),
        "{log}"
    );
    assert!(
        has("aspa remove", json!("AS64497 => AS0"), Value::Null),
        "{log}"
    );

    // The CLI over the API.
    let out = std::process::Command::new(common::bin())
        .args(["--server", &s.api, "--token", &m1, "--server-ca"])
        .arg(cli.dir.join("tls/api.crt"))
        .args(["aspa", "list", "m1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("AS64496      AS64502"), "{text}");
}
