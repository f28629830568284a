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
use std::time::{Duration, Instant};

use common::api::{Client, serve, serve_env, token, wait_published};
use common::{Cli, validate_everywhere};
use serde_json::{Value, json};

/// A peer that accepts every connection, reads its request line and
/// never answers; it records the request lines it saw.
fn hang_on(listener: TcpListener) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let record = record.clone();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                record.lock().unwrap().push(line);
                // Hold the connection open, answering nothing.
                std::thread::sleep(Duration::from_secs(3600));
                drop(stream);
            });
        }
    });
    seen
}

fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
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

fn roa_count(cli: &Cli, handle: &str) -> usize {
    cli.json(&["roa", "list", handle, "--format", "json"])
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_hanging_parent_and_repository_stall_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let file = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    // An RIR and an NIR under it over RFC 6492 and RFC 8181.
    let rir = Cli::init(&tmp.path().join("rir"));
    let rir_serve = serve(&rir, "");
    let nir = Cli::init_at(
        &tmp.path().join("nir"),
        "rsync://127.0.0.1/repo/nir/",
        "https://127.0.0.1/rrdp/",
        &[],
    );
    nir.ok(&["parent", "request", "nir", "--output", &file("req.xml")]);
    rir.ok(&[
        "child",
        "add",
        "online",
        "--request",
        &file("req.xml"),
        "--resources",
        "AS64496-AS64499, 10.0.0.0/8",
        "--service-uri",
        &rir_serve.http,
        "--response",
        &file("parent.xml"),
    ]);
    nir.ok(&["repository", "request", "nir", "--output", &file("pub.xml")]);
    rir.ok(&[
        "publisher",
        "add",
        "--request",
        &file("pub.xml"),
        "--service-uri",
        &rir_serve.http,
        "--response",
        &file("repo.xml"),
    ]);
    nir.ok(&["repository", "add", "--response", &file("repo.xml")]);
    let out = nir.ok(&["parent", "add", "nir", "--response", &file("parent.xml")]);
    assert!(out.contains("certified nir"), "{out}");
    // A member hosted under the NIR's own trust anchor, validated by the
    // NIR's self-validation and served over RTR.
    nir.ca_create("member", None, "AS64510, 192.0.2.0/24");

    // The RIR stops answering: its port accepts connections and hangs.
    let port: u16 = rir_serve.http.rsplit(':').next().unwrap().parse().unwrap();
    drop(rir_serve);
    let seen = hang_on(TcpListener::bind(("127.0.0.1", port)).unwrap());

    let rtr = anchorage::oracle::free_port().unwrap();
    let nir_serve = serve(
        &nir,
        &format!(
            "peer_timeout_seconds = 8\nparent_sync_seconds = 2\nmetrics_public = true\nrtr_listen = \"127.0.0.1:{rtr}\"\n"
        ),
    );
    let sent = |path: &str| {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(path))
            .count()
    };
    // The sync with the parent and the push to the repository both hang.
    wait_until("the parent and repository are asked", 20, || {
        sent("/rfc6492/") >= 1 && sent("/rfc8181/") >= 1
    });
    let last_error = || nir.json(&["parent", "list"])[0]["last_error"].clone();
    assert_eq!(last_error(), Value::Null);

    // Meanwhile the API answers, and the change is published.
    let api = Client::new(&nir, &nir_serve.api);
    let admin = token(&nir, &["--role", "admin"]);
    let reply = api.json(
        "POST",
        "/api/v1/cas/member/roas",
        &admin,
        json!({"add": [{"asn": 64510, "prefix": "192.0.2.0/24"}]}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let listed = api.get("/api/v1/cas", &admin);
    assert_eq!(listed.status, 200, "{}", listed.body);
    wait_published(&nir.dir);
    wait_until("the ROA is in the served tree", 20, || {
        nir.tree().join("member/AS64510.roa").exists()
    });
    // The sync that started first has not even timed out yet.
    assert_eq!(
        last_error(),
        Value::Null,
        "the API waited for the hanging parent"
    );
    // Self-validation (what RTR serves) sees the new VRP.
    let http = nir_serve.http.clone();
    wait_until("self-validation has the VRP", 60, || {
        ureq::get(&format!("{http}/json"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|b| b.contains("\"asn\":64510"))
    });

    // The hanging sync times out, is recorded, and is retried.
    wait_until("the timeout is recorded", 60, || {
        last_error() != Value::Null
    });
    let err = last_error();
    assert!(
        err.as_str().is_some_and(|e| e.contains("127.0.0.1")),
        "{err}"
    );
    wait_until("the sync is retried", 60, || sent("/rfc6492/") >= 2);
    // The push is retried too (after its own back-off).
    assert!(sent("/rfc8181/") >= 1);
}

#[test]
fn one_tenants_huge_batch_does_not_hold_up_another() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("big", None, "AS64512-AS65534, 10.0.0.0/8");
    cli.ca_create("small", None, "AS64496, 192.0.2.0/24");
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
    wait_until("the small tenant's ROA is served", 30, || {
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
        .map(|i| anchorage::oracle::Vrp {
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
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("d"));
    cli.ca_create("big", None, "AS64512-AS65534, 10.0.0.0/8");
    cli.ca_create("small", None, "AS64496, 192.0.2.0/24");
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
