//! `anchorage soak`: `serve` under steady load for a chosen time — API
//! clients changing ROAs, routers on RTR, RRDP and rsync clients — killed
//! with SIGKILL at intervals and started again. It reports file
//! descriptors, memory, API latency and, above all, whether any change
//! the API acknowledged was lost: after every restart each client
//! compares what it was told with what the store says, and at the end the
//! routers must hold exactly the acknowledged ROAs.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use crate::audit::Actor;
use crate::bench::{Figure, ServeProcess, fig, percentile};
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, InitOptions};
use crate::tokens::Role;

/// How to run a soak.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    /// How long the load runs.
    pub duration: Duration,
    /// How often `serve` is killed with SIGKILL (none: never).
    pub kill_every: Option<Duration>,
    /// API clients, one CA each.
    pub clients: usize,
    /// ROA changes per second offered by all clients together.
    pub rate: f64,
    /// RTR sessions held open.
    pub routers: usize,
    /// Where the data directory is made (replaced if it exists).
    pub work: PathBuf,
}

/// What a soak measured; `lost` must be zero.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SoakReport {
    /// The figures, for the table.
    pub figures: Vec<Figure>,
    /// Acknowledged changes not found in the store or at the routers.
    pub lost: u64,
}

/// Shared counters of the load threads.
#[derive(Default)]
struct Counters {
    acked: AtomicU64,
    unavailable: AtomicU64,
    refused: AtomicU64,
    lost: AtomicU64,
    rtr_rounds: AtomicU64,
    rtr_failures: AtomicU64,
    rrdp_fetches: AtomicU64,
    rrdp_failures: AtomicU64,
    rsync_fetches: AtomicU64,
    rsync_failures: AtomicU64,
    /// Serve's current generation: bumped at every restart, so failures
    /// around a kill are told apart from failures while it runs.
    generation: AtomicU32,
}

/// The endpoints of the running `serve`.
#[derive(Clone)]
struct Ports {
    http: u16,
    rsync: u16,
    api: u16,
    rtr: u16,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Runs the soak and returns its report.
pub fn run(opts: &SoakOptions) -> anyhow::Result<SoakReport> {
    let dir = opts.work.join("soak");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&opts.work)?;
    let actor = Actor::named("soak");
    let (mut a, _) = Anchorage::init(
        &actor,
        DataDir::new(&dir),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?;
    let mut cas = Vec::new();
    for i in 0..opts.clients {
        let handle = format!("soak{i}");
        a.create_ca(
            &actor,
            &handle,
            format!("AS{}, 10.{i}.0.0/16", 64512 + i).parse()?,
            None,
        )?;
        cas.push(handle);
    }
    let token = a.create_token(&actor, Role::Admin, &[], "soak")?.token;
    drop(a);
    let config = opts.work.join("soak.toml");
    std::fs::write(
        &config,
        "metrics_public = true\napi_rate_burst = 100000\napi_rate_per_second = 100000.0\n",
    )?;
    let ports = Ports {
        http: free_port()?,
        rsync: free_port()?,
        api: free_port()?,
        rtr: free_port()?,
    };
    let start_serve = || -> anyhow::Result<ServeProcess> {
        let p = ServeProcess::start(
            &dir,
            Some(&config),
            ports.http,
            ports.rsync,
            &[
                "--api-listen",
                &format!("127.0.0.1:{}", ports.api),
                "--rtr-listen",
                &format!("127.0.0.1:{}", ports.rtr),
            ],
        )?;
        // Up means every listener: the API, and serve's own rsyncd (a
        // daemon left by a killed serve answers until the new one
        // replaces it).
        let deadline = Instant::now() + Duration::from_secs(60);
        let metrics = format!("http://127.0.0.1:{}/metrics", ports.http);
        while TcpStream::connect(("127.0.0.1", ports.api)).is_err()
            || !ureq::get(&metrics)
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .is_some_and(|m| m.contains("anchorage_rsyncd_up 1"))
        {
            ensure!(Instant::now() < deadline, "serve did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(p)
    };
    let mut serve = start_serve()?;
    let pid = Arc::new(AtomicU32::new(serve.child.id()));
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let pem = std::fs::read(DataDir::new(&dir).api_tls().0)?;
    let api = ureq::Agent::config_builder()
        .tls_config(anchorage_validator::rrdp::tls_config(&pem)?)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .new_agent();

    let mut threads = Vec::new();
    let mut views = Vec::new();
    let per_client = opts.rate / opts.clients.max(1) as f64;
    for (i, ca) in cas.iter().enumerate() {
        let view = Arc::new(Mutex::new(BTreeSet::<String>::new()));
        views.push(view.clone());
        let (api, ca, token) = (api.clone(), ca.clone(), token.clone());
        let (c, stop, lat) = (counters.clone(), stop.clone(), latencies.clone());
        let base = format!("https://127.0.0.1:{}", ports.api);
        threads.push(std::thread::spawn(move || {
            client(
                &api, &base, &token, &ca, i, per_client, &view, &c, &stop, &lat,
            )
        }));
    }
    for _ in 0..opts.routers {
        let (c, stop, port) = (counters.clone(), stop.clone(), ports.rtr);
        threads.push(std::thread::spawn(move || router(port, &c, &stop)));
    }
    {
        let (c, stop, port) = (counters.clone(), stop.clone(), ports.http);
        threads.push(std::thread::spawn(move || rrdp(port, &c, &stop)));
    }
    {
        let (c, stop, port) = (counters.clone(), stop.clone(), ports.rsync);
        let tree = opts.work.join("rsync-client");
        threads.push(std::thread::spawn(move || rsync(port, &tree, &c, &stop)));
    }
    let samples = Arc::new(Mutex::new(Vec::<(f64, f64)>::new()));
    {
        let (pid, stop, samples) = (pid.clone(), stop.clone(), samples.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(s) = sample(pid.load(Ordering::Relaxed)) {
                    samples.lock().unwrap().push(s);
                }
                std::thread::sleep(Duration::from_secs(2));
            }
        }));
    }

    let started = Instant::now();
    let mut kills = 0u64;
    let mut restart_ms = Vec::new();
    let mut next_kill = opts.kill_every.map(|k| started + k);
    while started.elapsed() < opts.duration {
        std::thread::sleep(Duration::from_millis(200));
        if next_kill.is_some_and(|t| Instant::now() >= t) {
            serve.child.kill()?; // SIGKILL
            let _ = serve.child.wait();
            counters.generation.fetch_add(1, Ordering::Relaxed);
            let t = Instant::now();
            serve = start_serve()?;
            restart_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            pid.store(serve.child.id(), Ordering::Relaxed);
            counters.generation.fetch_add(1, Ordering::Relaxed);
            kills += 1;
            next_kill = opts.kill_every.map(|k| Instant::now() + k);
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }

    // What the clients were told is what the store holds ...
    let mut expected = BTreeSet::new();
    for (i, (ca, view)) in cas.iter().zip(&views).enumerate() {
        let held = roas(
            &api,
            &format!("https://127.0.0.1:{}", ports.api),
            &token,
            ca,
        )?;
        let view = view.lock().unwrap().clone();
        let missing = view.symmetric_difference(&held).count() as u64;
        counters.lost.fetch_add(missing, Ordering::Relaxed);
        for p in &view {
            expected.insert((64512 + i as u32, p.clone()));
        }
    }
    // ... and what the routers get, through publication and validation.
    let deadline = Instant::now() + Duration::from_secs(180);
    let converged = loop {
        let now = served_vrps(ports.http);
        if now.as_ref() == Some(&expected) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let last = sample(serve.child.id()).unwrap_or((f64::NAN, f64::NAN));
    drop(serve);

    let c = &counters;
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
    let mut ms = latencies.lock().unwrap().clone();
    ms.sort_by(f64::total_cmp);
    let samples = samples.lock().unwrap().clone();
    let max = |f: fn(&(f64, f64)) -> f64| samples.iter().map(f).fold(f64::NAN, f64::max);
    let lost = c.lost.load(Ordering::Relaxed) + u64::from(!converged);
    let figures = vec![
        fig(
            "duration",
            opts.duration.as_secs_f64() / 60.0,
            "min",
            "-",
            None,
        ),
        fig(
            "serve killed (SIGKILL) and restarted",
            kills as f64,
            "times",
            "-",
            None,
        ),
        fig(
            "restart until every listener answers, max",
            restart_ms.iter().copied().fold(0.0, f64::max),
            "ms",
            "-",
            None,
        ),
        fig(
            "ROA changes acknowledged",
            n(&c.acked),
            "changes",
            "-",
            None,
        ),
        fig(
            "API p50 (acknowledged changes)",
            percentile(&ms, 0.5),
            "ms",
            "-",
            None,
        ),
        fig("API p99", percentile(&ms, 0.99), "ms", "-", None),
        fig(
            "API max",
            ms.last().copied().unwrap_or(f64::NAN),
            "ms",
            "-",
            None,
        ),
        fig(
            "API calls while serve was down (retried)",
            n(&c.unavailable),
            "calls",
            "-",
            None,
        ),
        fig(
            "API calls refused while serve ran",
            n(&c.refused),
            "calls",
            "0",
            None,
        ),
        fig(
            "acknowledged changes lost (store, routers)",
            lost as f64,
            "changes",
            "0",
            None,
        ),
        fig(
            "RTR rounds (reset or serial query)",
            n(&c.rtr_rounds),
            "rounds",
            "-",
            None,
        ),
        fig(
            "RTR failures while serve ran",
            n(&c.rtr_failures),
            "rounds",
            "0",
            None,
        ),
        fig(
            "RRDP notification fetches",
            n(&c.rrdp_fetches),
            "fetches",
            "-",
            None,
        ),
        fig(
            "RRDP failures while serve ran",
            n(&c.rrdp_failures),
            "fetches",
            "0",
            None,
        ),
        fig("rsync fetches", n(&c.rsync_fetches), "fetches", "-", None),
        fig(
            "rsync failures while serve ran",
            n(&c.rsync_failures),
            "fetches",
            "0",
            None,
        ),
        fig(
            "serve file descriptors, max",
            max(|s| s.0),
            "fds",
            "-",
            None,
        ),
        fig(
            "serve file descriptors, at the end",
            last.0,
            "fds",
            "-",
            None,
        ),
        fig("serve RSS, max", max(|s| s.1), "MB", "-", None),
        fig("serve RSS, at the end", last.1, "MB", "-", None),
    ];
    Ok(SoakReport { figures, lost })
}

/// The file descriptors and RSS (MB) of process `pid`.
fn sample(pid: u32) -> Option<(f64, f64)> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as f64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()?
        / 1024.0;
    Some((fds, rss))
}

/// The prefixes of CA `ca`'s ROAs, as the API lists them.
fn roas(api: &ureq::Agent, base: &str, token: &str, ca: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut r = api
        .get(&format!("{base}/api/v1/cas/{ca}/roas"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()?;
    ensure!(
        r.status() == 200,
        "listing the ROAs of {ca}: {}",
        r.status()
    );
    let list: Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
    Ok(list
        .as_array()
        .context("a list")?
        .iter()
        .filter_map(|p| p["prefix"].as_str().map(str::to_string))
        .collect())
}

/// The (origin, prefix) VRPs of serve's last self-validation (`/json`).
fn served_vrps(http: u16) -> Option<BTreeSet<(u32, String)>> {
    let mut r = ureq::get(&format!("http://127.0.0.1:{http}/json"))
        .call()
        .ok()?;
    let doc: Value = serde_json::from_str(&r.body_mut().read_to_string().ok()?).ok()?;
    Some(
        doc["roas"]
            .as_array()?
            .iter()
            .filter_map(|v| {
                let asn = v["asn"].as_u64()? as u32;
                Some((asn, v["prefix"].as_str()?.to_string()))
            })
            .collect(),
    )
}

/// One API client: alternately adds and removes /24s of its CA at its
/// rate, recording what was acknowledged. After a failed call (serve
/// killed), it reads the CA's ROAs back: anything acknowledged that is
/// missing, or removed that is back, is lost (the one call in flight may
/// have gone either way).
#[allow(clippy::too_many_arguments)]
fn client(
    api: &ureq::Agent,
    base: &str,
    token: &str,
    ca: &str,
    i: usize,
    rate: f64,
    view: &Mutex<BTreeSet<String>>,
    c: &Counters,
    stop: &AtomicBool,
    latencies: &Mutex<Vec<f64>>,
) {
    let every = Duration::from_secs_f64(1.0 / rate.max(0.01));
    let mut next = Instant::now();
    let mut k = 0u32;
    let mut resync = false;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        next += every;
        if resync {
            let Ok(held) = roas(api, base, token, ca) else {
                c.unavailable.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            let mut v = view.lock().unwrap();
            // The failed call's payload (it is tried again next).
            let in_flight = format!("10.{i}.{}.0/24", (k + 1) % 256);
            let lost = v
                .symmetric_difference(&held)
                .filter(|p| **p != in_flight)
                .count();
            c.lost.fetch_add(lost as u64, Ordering::Relaxed);
            *v = held;
            resync = false;
        }
        k += 1;
        let prefix = format!("10.{i}.{}.0/24", k % 256);
        let present = view.lock().unwrap().contains(&prefix);
        let op = if present { "remove" } else { "add" };
        let body = json!({ op: [{"asn": 64512 + i as u32, "prefix": prefix}] }).to_string();
        let generation = c.generation.load(Ordering::Relaxed);
        let t = Instant::now();
        let result = api
            .post(&format!("{base}/api/v1/cas/{ca}/roas"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.as_bytes());
        match result {
            Ok(r) if r.status() == 200 => {
                latencies
                    .lock()
                    .unwrap()
                    .push(t.elapsed().as_secs_f64() * 1000.0);
                c.acked.fetch_add(1, Ordering::Relaxed);
                let mut v = view.lock().unwrap();
                if present {
                    v.remove(&prefix);
                } else {
                    v.insert(prefix);
                }
            }
            outcome => {
                // A failure while serve ran throughout is a finding;
                // around a kill it is expected.
                if let Err(e) = &outcome
                    && while_up(c, generation)
                {
                    eprintln!("soak: API call failed while serve ran: {e}");
                }
                if !while_up(c, generation) {
                    c.unavailable.fetch_add(1, Ordering::Relaxed);
                } else {
                    c.refused.fetch_add(1, Ordering::Relaxed);
                }
                k -= 1;
                resync = true;
            }
        }
    }
}

/// Whether a failure at `generation` happened while serve was running
/// throughout (the same, even generation before and after).
fn while_up(c: &Counters, generation: u32) -> bool {
    generation.is_multiple_of(2) && c.generation.load(Ordering::Relaxed) == generation
}

/// An RTR router: a reset query, then a serial query every 5 s; it
/// reconnects when serve goes away.
fn router(port: u16, c: &Counters, stop: &AtomicBool) {
    // The session, and the serve generation it was opened with: one
    // opened before a kill fails afterwards, as it should.
    let mut session: Option<(RtrSession, u32)> = None;
    while !stop.load(Ordering::Relaxed) {
        let now = c.generation.load(Ordering::Relaxed);
        let (old, generation) = match session.take() {
            Some((s, g)) => (Some(s), g),
            None => (None, now),
        };
        match rtr_round(port, old) {
            Ok(s) => {
                c.rtr_rounds.fetch_add(1, Ordering::Relaxed);
                session = Some((s, generation));
                std::thread::sleep(Duration::from_secs(5));
            }
            Err(e) => {
                if while_up(c, generation) {
                    eprintln!("soak: RTR round failed while serve ran: {e}");
                    c.rtr_failures.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// A router's connection, session id and serial.
type RtrSession = (TcpStream, [u8; 2], u32);

/// One query on `session` (a serial query) or a new connection (a reset
/// query), read up to End of Data.
fn rtr_round(port: u16, session: Option<RtrSession>) -> anyhow::Result<RtrSession> {
    let (mut s, query) = match session {
        Some((s, id, serial)) => {
            let mut q = vec![1, 1, id[0], id[1], 0, 0, 0, 12];
            q.extend_from_slice(&serial.to_be_bytes());
            (s, q)
        }
        None => {
            let s = TcpStream::connect(("127.0.0.1", port))?;
            (s, vec![1, 2, 0, 0, 0, 0, 0, 8])
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(&query)?;
    loop {
        let mut head = [0u8; 8];
        s.read_exact(&mut head)?;
        let len = u32::from_be_bytes(head[4..8].try_into()?) as usize;
        let mut rest = vec![0u8; len.saturating_sub(8)];
        s.read_exact(&mut rest)?;
        match head[1] {
            7 => {
                let serial = u32::from_be_bytes(rest[..4].try_into()?);
                return Ok((s, [head[2], head[3]], serial));
            }
            // Cache Reset: the next round starts over with a reset query.
            8 => anyhow::bail!("cache reset"),
            10 => anyhow::bail!("error report"),
            _ => {}
        }
    }
}

/// An RRDP client: the notification file every 2 s.
fn rrdp(port: u16, c: &Counters, stop: &AtomicBool) {
    let url = format!("http://127.0.0.1:{port}/rrdp/notification.xml");
    while !stop.load(Ordering::Relaxed) {
        let generation = c.generation.load(Ordering::Relaxed);
        let ok = ureq::get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .is_some_and(|b| b.contains("<notification"));
        c.rrdp_fetches.fetch_add(1, Ordering::Relaxed);
        if !ok && while_up(c, generation) {
            c.rrdp_failures.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: RRDP fetch failed while serve ran");
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// An rsync client: the whole repository every 20 s.
fn rsync(port: u16, tree: &Path, c: &Counters, stop: &AtomicBool) {
    let _ = std::fs::create_dir_all(tree);
    while !stop.load(Ordering::Relaxed) {
        let generation = c.generation.load(Ordering::Relaxed);
        let out = std::process::Command::new("rsync")
            .args(["-rt", "--delete", "--timeout=30"])
            .arg(format!("rsync://127.0.0.1:{port}/repo/"))
            .arg(tree)
            .stdout(std::process::Stdio::null())
            .output();
        let ok = out.as_ref().is_ok_and(|o| o.status.success());
        c.rsync_fetches.fetch_add(1, Ordering::Relaxed);
        if !ok && while_up(c, generation) {
            c.rsync_failures.fetch_add(1, Ordering::Relaxed);
            if let Ok(o) = &out {
                eprintln!(
                    "soak: rsync failed while serve ran ({}): {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                );
            }
        }
        for _ in 0..100 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
