//! The concurrency part of `anchorage bench`: `serve` in its own process,
//! its admin API driven over HTTPS by concurrent clients, each a tenant
//! with a token and a CA of its own, while a remote parent that accepts
//! connections and never answers hangs in the background throughout.
//!
//! Phases, on one `serve`:
//! 1. one client adding single ROAs back to back (the baseline, and the
//!    slowest call while the parent hangs; the RRDP serial must move);
//! 2. 20 clients doing the same for 30 s: latency, throughput against
//!    the signing floor, and serve's RSS against phase 1's; then the same
//!    clients paced to offer 0.25 of the floor, for latency below saturation
//!    (back to back, 20 clients wait in line: Little's law);
//! 3. one tenant posts a batch of 1,000 ROAs with distinct origins (1,000
//!    fresh keys) while another adds single ROAs every 250 ms.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, ensure};
use rpki::ca::idexchange::{ChildHandle, ParentHandle, ParentResponse, ServiceUri};
use rpki::ca::publication::Base64;
use rpki::repository::x509::{Time, Validity};

use super::{BENCH, Figure, Scale, ServeProcess, crypto_limit, fig, percentile};
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, InitOptions};
use crate::tokens::Role;

/// Concurrent clients of phase 2.
const CLIENTS: usize = 20;
/// Origins in the batch of phase 3: long enough to overlap many other
/// changes at either scale, short enough that CI's small run stays quick.
fn batch_asns(scale: Scale) -> u32 {
    match scale {
        Scale::Small => 200,
        Scale::Rir => 1_000,
    }
}

/// One tenant: its CA, its token, the origin AS it adds ROAs for.
#[derive(Clone)]
struct Tenant {
    handle: String,
    token: String,
    asn: u32,
    /// The tenant's /16: 10.N.0.0/16.
    net: u8,
    /// ROAs added so far, for the next distinct prefix.
    added: Arc<AtomicUsize>,
}

/// Talks to serve's admin API.
struct Api {
    agent: ureq::Agent,
    base: String,
}

impl Api {
    /// POSTs a ROA batch; returns the status and the seconds it took.
    fn roas(&self, tenant: &Tenant, body: &serde_json::Value) -> anyhow::Result<(u16, f64)> {
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/v1/cas/{}/roas", self.base, tenant.handle))
            .header("Authorization", format!("Bearer {}", tenant.token))
            .header("Content-Type", "application/json")
            .body(body.to_string().into_bytes())?;
        let t = Instant::now();
        let mut resp = self.agent.run(req)?;
        let status = resp.status().as_u16();
        let _ = resp.body_mut().read_to_vec();
        Ok((status, t.elapsed().as_secs_f64()))
    }

    /// Adds the tenant's next ROA (a /25 of its /16 not used before).
    fn add_next(&self, tenant: &Tenant) -> anyhow::Result<(u16, f64)> {
        let k = tenant.added.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("10.{}.{}.{}/25", tenant.net, (k / 2) % 256, 128 * (k % 2));
        self.roas(
            tenant,
            &serde_json::json!({"add": [{"asn": tenant.asn, "prefix": prefix}]}),
        )
    }
}

/// Latencies and errors of a run of clients.
#[derive(Default)]
struct Samples {
    secs: Vec<f64>,
    errors: Vec<String>,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.secs.extend(other.secs);
        self.errors.extend(other.errors);
    }

    fn sorted_ms(&self) -> Vec<f64> {
        let mut ms: Vec<f64> = self.secs.iter().map(|s| s * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        ms
    }
}

/// Runs `tenant`'s client back to back until `until`, or every `pace`.
fn client(api: &Api, tenant: &Tenant, until: impl Fn() -> bool, pace: Option<Duration>) -> Samples {
    let mut s = Samples::default();
    while !until() {
        let started = Instant::now();
        match api.add_next(tenant) {
            Ok((200, secs)) => s.secs.push(secs),
            Ok((status, _)) => s.errors.push(format!("{}: HTTP {status}", tenant.handle)),
            Err(e) => s.errors.push(format!("{}: {e:#}", tenant.handle)),
        }
        if let Some(pace) = pace {
            std::thread::sleep(pace.saturating_sub(started.elapsed()));
        }
    }
    s
}

/// Runs one client per tenant until `end`, back to back or each every
/// `pace` (their starts spread over one period); all their samples.
fn clients(api: &Api, tenants: &[Tenant], end: Instant, pace: Option<Duration>) -> Samples {
    std::thread::scope(|scope| {
        let workers: Vec<_> = tenants
            .iter()
            .enumerate()
            .map(|(i, t)| {
                scope.spawn(move || {
                    if let Some(pace) = pace {
                        std::thread::sleep(pace.mul_f64(i as f64 / tenants.len() as f64));
                    }
                    client(api, t, || Instant::now() >= end, pace)
                })
            })
            .collect();
        let mut all = Samples::default();
        for w in workers {
            all.merge(w.join().unwrap_or_default());
        }
        all
    })
}

/// A peer that accepts every connection and never answers; counts the
/// requests it was sent.
fn hanging_peer() -> anyhow::Result<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let asked = Arc::new(AtomicUsize::new(0));
    let count = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let count = count.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                count.fetch_add(1, Ordering::Relaxed);
                let _ = reader.read_to_end(&mut Vec::new());
            });
        }
    });
    Ok((port, asked))
}

/// An RFC 8183 parent response for a parent at `port` with an identity
/// of its own.
fn parent_response(keys_dir: &Path, port: u16) -> anyhow::Result<String> {
    let keys = anchorage_keys::KeyStore::open(keys_dir)?;
    let key = keys.generate()?;
    let now = Time::now();
    let validity = Validity::new(
        now - chrono::TimeDelta::minutes(5),
        now + chrono::TimeDelta::days(365),
    );
    let id = rpki::ca::idcert::IdCert::new_ta(validity, &key, &keys)
        .map_err(|e| anyhow!("identity certificate: {e:?}"))?;
    Ok(ParentResponse::new(
        Base64::from_content(&id.to_bytes()),
        ParentHandle::new("upstream".into()),
        ChildHandle::new("bench".into()),
        ServiceUri::Http(format!("http://127.0.0.1:{port}/rfc6492/bench")),
        None,
    )
    .to_xml_string())
}

/// `serve` in its own process, with the HTTP port its metrics are on.
struct Serve {
    process: ServeProcess,
    http: u16,
}

impl Serve {
    fn rss_mb(&self) -> anyhow::Result<f64> {
        self.process.status_mb("VmRSS:")
    }

    /// The RRDP serial `/metrics` reports.
    fn rrdp_serial(&self) -> anyhow::Result<u64> {
        let mut resp = ureq::get(&format!("http://127.0.0.1:{}/metrics", self.http)).call()?;
        let text = resp.body_mut().read_to_string()?;
        text.lines()
            .find_map(|l| l.strip_prefix("anchorage_rrdp_serial "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| anyhow!("no RRDP serial in /metrics"))
    }
}

/// Runs the three phases on a fresh data directory under `work`.
pub(super) fn figures(work: &Path, scale: Scale, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let batch_asns = batch_asns(scale);
    let dir = work.join("concurrent");
    let mut a = Anchorage::init(
        &BENCH,
        DataDir::new(&dir),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?
    .0;
    let limit = crypto_limit(&a, 20)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let floor = cores as f64 / limit;

    let mut tenants = Vec::new();
    for i in 0..=CLIENTS {
        let handle = format!("t{i:02}");
        let asn = 64_496 + i as u32;
        a.create_ca(
            &BENCH,
            &handle,
            format!("AS{asn}, 10.{i}.0.0/16").parse()?,
            None,
        )?;
        let token = a
            .create_token(
                &BENCH,
                Role::CaOperator,
                std::slice::from_ref(&handle),
                "bench",
            )?
            .token;
        tenants.push(Tenant {
            handle,
            token,
            asn,
            net: i as u8,
            added: Arc::new(AtomicUsize::new(0)),
        });
    }
    // The batch tenant: its origins, a /24 of 11.0.0.0/8 each.
    let bulk_asn = 100_000;
    a.create_ca(
        &BENCH,
        "bulk",
        format!("AS{bulk_asn}-AS{}, 11.0.0.0/8", bulk_asn + batch_asns - 1).parse()?,
        None,
    )?;
    let bulk = Tenant {
        handle: "bulk".into(),
        token: a
            .create_token(&BENCH, Role::CaOperator, &["bulk".into()], "bench")?
            .token,
        asn: bulk_asn,
        net: 0,
        added: Arc::new(AtomicUsize::new(0)),
    };
    // A remote parent that never answers.
    let (peer_port, asked) = hanging_peer()?;
    let response = parent_response(&work.join("peer-keys"), peer_port)?;
    a.add_parent(&BENCH, "upstream", response.as_bytes())?;
    drop(a);

    let (http, rsync, api_port) = (
        crate::oracle::free_port()?,
        crate::oracle::free_port()?,
        crate::oracle::free_port()?,
    );
    let config = dir.join("bench-serve.toml");
    // Rate limits would measure the limiter, not the engine.
    std::fs::write(
        &config,
        "metrics_public = true\napi_rate_burst = 100000\napi_rate_per_second = 100000.0\n\
         peer_timeout_seconds = 20\nparent_sync_seconds = 5\n",
    )?;
    let process = ServeProcess::start(
        &dir,
        Some(&config),
        http,
        rsync,
        &["--api-listen", &format!("127.0.0.1:{api_port}")],
    )?;
    let mut serve = Serve { process, http };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", api_port)).is_err() {
        ensure!(serve.process.child.try_wait()?.is_none(), "serve exited");
        ensure!(Instant::now() < deadline, "serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pem = std::fs::read(DataDir::new(&dir).api_tls().0)?;
    let api = Api {
        agent: ureq::Agent::config_builder()
            .tls_config(anchorage_validator::rrdp::tls_config(&pem)?)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(600)))
            .build()
            .new_agent(),
        base: format!("https://127.0.0.1:{api_port}"),
    };
    // serve syncs with its parent at start: wait until that hangs.
    let deadline = Instant::now() + Duration::from_secs(30);
    while asked.load(Ordering::Relaxed) == 0 {
        ensure!(Instant::now() < deadline, "serve never asked its parent");
        std::thread::sleep(Duration::from_millis(20));
    }

    // 1. One client, back to back, for 10 s.
    let serial_before = serve.rrdp_serial()?;
    let end = Instant::now() + Duration::from_secs(10);
    let one = client(&api, &tenants[0], || Instant::now() >= end, None);
    ensure!(one.errors.is_empty(), "one client: {:?}", one.errors);
    let serials = serve.rrdp_serial()?.saturating_sub(serial_before);
    let rss_one = serve.rss_mb()?;
    let ms = one.sorted_ms();
    figures.push(fig(
        "API, 1 client: single ROA addition p50",
        percentile(&ms, 0.5),
        "ms",
        "reference",
        None,
    ));
    figures.push(fig(
        "API beside a parent that never answers: slowest call",
        ms.last().copied().unwrap_or(f64::NAN),
        "ms",
        "< 1 s; ratio = slowest / 1 s",
        ms.last().map(|m| m / 1000.0),
    ));
    figures.push(fig(
        "RRDP serials published meanwhile (serve keeps publishing)",
        serials as f64,
        "serials",
        "> 0",
        None,
    ));

    // 2. 20 clients, one CA each, back to back, for 30 s.
    let end = Instant::now() + Duration::from_secs(30);
    let started = Instant::now();
    let many = clients(&api, &tenants[1..=CLIENTS], end, None);
    let wall = started.elapsed().as_secs_f64();
    ensure!(
        many.errors.is_empty(),
        "{CLIENTS} clients: {:?}",
        many.errors
    );
    let rss_many = serve.rss_mb()?;
    let ms = many.sorted_ms();
    let p99 = percentile(&ms, 0.99);
    figures.push(fig(
        &format!("API, {CLIENTS} clients: single ROA addition p50"),
        percentile(&ms, 0.5),
        "ms",
        "reference",
        None,
    ));
    figures.push(fig(
        &format!("API, {CLIENTS} clients: single ROA addition p99"),
        p99,
        "ms",
        "< 250 ms; ratio = p99 / 250 ms",
        Some(p99 / 250.0),
    ));
    let rate = ms.len() as f64 / wall;
    figures.push(fig(
        &format!("API, {CLIENTS} clients: ROA changes committed"),
        rate,
        "changes/s",
        &format!(
            ">= 0.5 of the signing floor ({floor:.1}/s: {cores} cores / keygen + 2 signatures); ratio = rate / floor"
        ),
        Some(rate / floor),
    ));
    figures.push(fig(
        &format!("serve RSS, {CLIENTS} clients vs 1 ({rss_many:.0} / {rss_one:.0} MB)"),
        rss_many / rss_one,
        "x",
        "<= 1.5x; ratio = (RSS ratio) / 1.5",
        Some(rss_many / rss_one / 1.5),
    ));

    // 2b. The same clients, each paced so that together they offer a
    //     quarter of the signing floor: latency below saturation (a change
    //     costs two fresh keys, its ROA's and its manifest's, so this is
    //     half of what the cores can do).
    let offered = 0.25 * floor;
    // Phase 2 left the EE key pool empty; measure the steady state, not
    // the recovery: give the pool (64 keys) time to refill first.
    std::thread::sleep(Duration::from_secs(5));
    let pace = Duration::from_secs_f64(CLIENTS as f64 / offered);
    let end = Instant::now() + Duration::from_secs(30);
    let paced = clients(&api, &tenants[1..=CLIENTS], end, Some(pace));
    ensure!(paced.errors.is_empty(), "paced clients: {:?}", paced.errors);
    let ms = paced.sorted_ms();
    let p99 = percentile(&ms, 0.99);
    figures.push(fig(
        &format!("API, {CLIENTS} clients offering {offered:.1}/s (0.25 of floor): p50"),
        percentile(&ms, 0.5),
        "ms",
        "reference",
        None,
    ));
    figures.push(fig(
        &format!("API, {CLIENTS} clients offering {offered:.1}/s (0.25 of floor): p99"),
        p99,
        "ms",
        "< 250 ms; ratio = p99 / 250 ms",
        Some(p99 / 250.0),
    ));

    // 3. A batch of distinct origins, and another tenant's single changes meanwhile.
    let add: Vec<serde_json::Value> = (0..batch_asns)
        .map(|i| {
            serde_json::json!({
                "asn": bulk_asn + i,
                "prefix": format!("11.{}.{}.0/24", i / 256, i % 256),
            })
        })
        .collect();
    let batch_done = AtomicBool::new(false);
    let (batch, other) = std::thread::scope(|scope| {
        let batch = scope.spawn(|| {
            let r = api.roas(&bulk, &serde_json::json!({ "add": add }));
            batch_done.store(true, Ordering::SeqCst);
            r
        });
        // Let the batch start before the other tenant's first change.
        std::thread::sleep(Duration::from_millis(200));
        let other = client(
            &api,
            &tenants[0],
            || batch_done.load(Ordering::SeqCst),
            Some(Duration::from_millis(250)),
        );
        (batch.join(), other)
    });
    let (status, batch_secs) = batch
        .map_err(|_| anyhow!("batch client panicked"))?
        .context("the batch")?;
    ensure!(status == 200, "the batch: HTTP {status}");
    ensure!(
        other.errors.is_empty(),
        "beside the batch: {:?}",
        other.errors
    );
    ensure!(
        !other.secs.is_empty(),
        "the batch ended before another change was made"
    );
    figures.push(fig(
        &format!("batch of {batch_asns} ROAs, distinct origins (fresh keys)"),
        batch_secs,
        "s",
        "reference",
        None,
    ));
    let ms = other.sorted_ms();
    let slowest = ms.last().copied().unwrap_or(f64::NAN);
    figures.push(fig(
        &format!(
            "another tenant's change during the batch: slowest of {}",
            ms.len()
        ),
        slowest,
        "ms",
        "< 1 s; ratio = slowest / 1 s",
        Some(slowest / 1000.0),
    ));
    ensure!(serve.process.child.try_wait()?.is_none(), "serve exited");
    drop(serve);
    Ok(())
}
