//! Nothing slow holds up everybody else in `serve`: a remote parent and
//! repository that accept connections and never answer, one tenant's
//! batch of hundreds of ROAs, and a `kill -9` in the middle of such a
//! batch. Each test asserts an order of events (what completes while the
//! slow thing is still in progress), not a duration.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::str::FromStr;

use common::api::{Client, serve, serve_env, token, wait_published};
use common::external::External;
use common::{Cli, validate_everywhere};
use rpki::ca::idexchange::{
    ChildHandle, ParentHandle, ParentResponse, PublisherHandle, RepositoryResponse, ServiceUri,
};
use rpki::ca::publication::Base64;
use rpki::uri;
use serde_json::{Value, json};

/// The tests here each load both cores (hundreds of key generations, a
/// serve with its validator): they run one at a time, so that what one
/// asserts about order is not decided by another's load.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a hanging peer saw: each request line, and whether the client
/// has given up on it (closed the connection).
#[derive(Default)]
struct Seen {
    requests: Vec<String>,
    /// The User-Agent of each request.
    agents: Vec<String>,
    closed: usize,
}

/// A peer that accepts every connection, reads its request line and
/// never answers.
fn hang_on(listener: TcpListener) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                record.lock().unwrap().requests.push(line);
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("user-agent")
                    {
                        record.lock().unwrap().agents.push(value.trim().to_string());
                    }
                    header.clear();
                }
                // Answer nothing; read on until the client gives up.
                let mut rest = Vec::new();
                let _ = std::io::Read::read_to_end(&mut reader, &mut rest);
                record.lock().unwrap().closed += 1;
            });
        }
    });
    seen
}

/// `count` ROA payloads with distinct origin ASNs within 10.0.0.0/8.
fn distinct_origins(count: u32) -> Value {
    let add: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "asn": 64512 + i,
                "prefix": format!("10.{}.{}.0/24", i / 256, i % 256),
            })
        })
        .collect();
    json!({ "add": add })
}

/// A data directory with two tenants: `big` (1,023 origins, 10.0.0.0/8)
/// and `small` (one origin, one /24).
fn two_tenants(tmp: &std::path::Path) -> Cli {
    let cli = Cli::init(&tmp.join("d"));
    cli.ca_create("big", None, "AS64512-AS65534, 10.0.0.0/8");
    cli.ca_create("small", None, "AS64496, 192.0.2.0/24");
    cli
}

fn roa_count(cli: &Cli, handle: &str) -> usize {
    cli.json(&["roa", "list", handle]).as_array().unwrap().len()
}

#[test]
fn a_hanging_parent_and_repository_stall_nothing_else() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("member", None, "AS64510, 192.0.2.0/24");

    // A remote parent and repository (RFC 8183 responses of a peer with
    // its own identity) at a port where nothing answers yet.
    let port = anchorage_testkit::free_port().unwrap();
    let peer = External::new("rir", &tmp.path().join("peer-keys"));
    let id = Base64::from_content(&peer.id_cert.to_bytes());
    let service = |path: &str| ServiceUri::Http(format!("http://127.0.0.1:{port}/{path}"));
    let parent = ParentResponse::new(
        id.clone(),
        ParentHandle::new("rir".into()),
        ChildHandle::new("nir".into()),
        service("rfc6492/nir"),
        None,
    );
    let repository = RepositoryResponse::new(
        id,
        PublisherHandle::new("nir".into()),
        service("rfc8181/nir"),
        uri::Rsync::from_str("rsync://127.0.0.1/repo/").unwrap(),
        None,
        None,
    );
    let file = |name: &str, xml: String| {
        let path = tmp.path().join(name);
        std::fs::write(&path, xml).unwrap();
        path.to_str().unwrap().to_string()
    };
    let parent = file("parent.xml", parent.to_xml_string());
    let repository = file("repository.xml", repository.to_xml_string());
    // Both are recorded, and fail at once: the port refuses connections.
    assert!(
        !cli.run(&["parent", "add", "nir", "--response", &parent])
            .status
            .success()
    );
    assert!(
        !cli.run(&["repository", "add", "--response", &repository])
            .status
            .success()
    );
    let last_error = || cli.json(&["parent", "list"])[0]["last_error"].clone();
    let refused = last_error();
    assert!(refused.is_string(), "{refused}");

    // Now the port accepts connections and never answers.
    let seen = hang_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let rtr = anchorage_testkit::free_port().unwrap();
    let s = serve(
        &cli,
        &format!(
            "peer_timeout_seconds = 30\nparent_sync_seconds = 2\nmetrics_public = true\nrtr_listen = \"127.0.0.1:{rtr}\"\n"
        ),
    );
    let sent = |path: &str| {
        let seen = seen.lock().unwrap();
        seen.requests.iter().filter(|l| l.contains(path)).count()
    };
    let given_up = || seen.lock().unwrap().closed;
    // serve's sync with the parent and push to the repository both hang.
    common::wait_until("the parent and repository are asked", 20, || {
        sent("/rfc6492/") >= 1 && sent("/rfc8181/") >= 1
    });

    // Meanwhile the API answers, the change is published, validated by
    // serve's own validator and handed to the RTR cache.
    let api = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let reply = api.json(
        "POST",
        "/api/v1/cas/member/roas",
        &admin,
        json!({"add": [{"asn": 64510, "prefix": "192.0.2.0/24"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(api.get("/api/v1/cas", &admin).status, 200);
    wait_published(&cli.dir);
    common::wait_until("the ROA is in the served tree", 20, || {
        cli.tree().join("member/AS64510.roa").exists()
    });
    let http = s.http.clone();
    common::wait_until("self-validation has the VRP", 60, || {
        ureq::get(&format!("{http}/json"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|b| b.contains("\"asn\":64510"))
    });
    let mut router = std::net::TcpStream::connect(("127.0.0.1", rtr)).unwrap();
    // RTR version 1 Reset Query (RFC 8210 §5.4): the cache answers.
    std::io::Write::write_all(&mut router, &[1, 2, 0, 0, 0, 0, 0, 8]).unwrap();
    let mut header = [0u8; 8];
    std::io::Read::read_exact(&mut router, &mut header).unwrap();
    assert_eq!(header[1], 3, "Cache Response expected: {header:?}");
    // All that while the first exchanges were still hanging.
    assert_eq!(given_up(), 0, "something waited for the hanging peers");

    // The hanging sync times out, is recorded, and is retried.
    common::wait_until("the timeout is recorded", 60, || last_error() != refused);
    common::wait_until("the sync is retried", 60, || sent("/rfc6492/") >= 2);
    assert!(given_up() >= 1);
    // Anchorage names itself to its peers.
    let agents = seen.lock().unwrap().agents.clone();
    assert!(!agents.is_empty());
    assert!(
        agents.iter().all(|a| a.starts_with("anchorage/")),
        "{agents:?}"
    );
}

#[test]
fn one_tenants_huge_batch_does_not_hold_up_another() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let cli = two_tenants(tmp.path());
    let s = serve(&cli, "");
    let big_op = token(&cli, &["--role", "ca-operator", "--ca", "big"]);
    let small_op = token(&cli, &["--role", "ca-operator", "--ca", "small"]);

    // Tenant one: 400 ROAs with distinct origins, each a fresh key.
    const BIG: u32 = 400;
    let finished = Arc::new(AtomicBool::new(false));
    let batch = {
        let (cli_dir, api, finished) = (cli.dir.clone(), s.api.clone(), finished.clone());
        std::thread::spawn(move || {
            let client = Client::new(&Cli { dir: cli_dir }, &api);
            let reply = client.json(
                "POST",
                "/api/v1/cas/big/roas",
                &big_op,
                distinct_origins(BIG),
            );
            finished.store(true, Ordering::SeqCst);
            reply
        })
    };
    std::thread::sleep(Duration::from_millis(500));

    // Tenant two's single change commits and is published meanwhile.
    let api = Client::new(&cli, &s.api);
    let reply = api.json(
        "POST",
        "/api/v1/cas/small/roas",
        &small_op,
        json!({"add": [{"asn": 64496, "prefix": "192.0.2.0/24"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    common::wait_until("the small tenant's ROA is served", 30, || {
        cli.tree().join("small/AS64496.roa").exists()
    });
    assert!(
        !finished.load(Ordering::SeqCst),
        "the batch ended before the other tenant's change was published: the test shows nothing"
    );

    let reply = batch.join().unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["added"], BIG, "{}", reply.body);
    wait_published(&cli.dir);
    drop(s);

    // Everything validates, in rpki-client, FORT and our own validator.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = cli.serve(&work);
    let mut expected: std::collections::BTreeSet<_> = (0..BIG)
        .map(|i| anchorage_testkit::Vrp {
            asn: 64512 + i,
            prefix: format!("10.{}.{}.0/24", i / 256, i % 256),
            max_length: 24,
        })
        .collect();
    expected.extend(common::vrps(&[(64496, "192.0.2.0/24", 24)]));
    validate_everywhere(&cli, &rsyncd, &work, &expected);
}

#[test]
fn a_crash_during_a_large_batch_leaves_all_of_it_or_none() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let cli = two_tenants(tmp.path());
    let admin = token(&cli, &["--role", "admin"]);

    // Aborted with everything written but the commit: nothing is seen.
    let s = serve_env(
        &cli,
        "",
        &[("ANCHORAGE_FAIL_AT", "roa-batch-before-commit")],
    );
    let api = Client::new(&cli, &s.api);
    let died = api.try_json("/api/v1/cas/big/roas", &admin, distinct_origins(50));
    assert!(
        died.is_err(),
        "the server answered: {:?}",
        died.map(|r| r.body)
    );
    drop(s);
    assert_eq!(roa_count(&cli, "big"), 0);

    // kill -9 while a batch is being signed, after another change was
    // acknowledged: the acknowledged change stays, the batch is whole or absent.
    let mut s = serve(&cli, "");
    let api = Client::new(&cli, &s.api);
    let reply = api.json(
        "POST",
        "/api/v1/cas/small/roas",
        &admin,
        json!({"add": [{"asn": 64496, "prefix": "192.0.2.0/24"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let batch = {
        let (dir, base, admin) = (cli.dir.clone(), s.api.clone(), admin.clone());
        std::thread::spawn(move || {
            Client::new(&Cli { dir }, &base).try_json(
                "/api/v1/cas/big/roas",
                &admin,
                distinct_origins(200),
            )
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    let answered = batch.join().unwrap();
    let big = roa_count(&cli, "big");
    assert!(big == 0 || big == 200, "{big} of 200 ROAs are visible");
    if let Ok(reply) = &answered
        && reply.status == 200
    {
        assert_eq!(big, 200, "an acknowledged batch was lost");
    }
    assert_eq!(
        roa_count(&cli, "small"),
        1,
        "an acknowledged change was lost"
    );

    // The data directory opens, publishes and validates after the crash.
    cli.ok(&["publish"]);
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rsyncd = cli.serve(&work);
    let run = common::anchorage_validate(&cli, &rsyncd, &work);
    assert!(run.problems.is_empty(), "{:?}", run.problems);
    assert_eq!(run.vrps.len(), 1 + big);
}

#[test]
fn per_ca_limits_refuse_a_batch_whole() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("big", None, "AS64512-AS65534, 10.0.0.0/8");
    let s = serve(&cli, "ca_max_origin_asns = 3\nca_max_roa_payloads = 5\n");
    let api = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let before = common::api::state(&cli.dir);
    let reply = api.json("POST", "/api/v1/cas/big/roas", &admin, distinct_origins(4));
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(
        reply.body["limit"], "distinct origin ASNs",
        "{}",
        reply.body
    );
    assert_eq!(reply.body["max"], 3, "{}", reply.body);
    let one_origin: Vec<Value> = (0..6)
        .map(|i| json!({"asn": 64512, "prefix": format!("10.0.{i}.0/24")}))
        .collect();
    let reply = api.json(
        "POST",
        "/api/v1/cas/big/roas",
        &admin,
        json!({ "add": one_origin }),
    );
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["limit"], "ROA payloads", "{}", reply.body);
    assert!(
        before == common::api::state(&cli.dir),
        "a refused batch changed something"
    );
    // Within the limits it is applied.
    let reply = api.json("POST", "/api/v1/cas/big/roas", &admin, distinct_origins(3));
    assert_eq!(reply.status, 200, "{}", reply.body);
}
