//! The database part of `anchorage bench`: the same ROA-change workload
//! on the embedded SQLite store and on PostgreSQL (a server the bench
//! starts on loopback, as the tests do), side by side, each against the
//! signing floor measured in the same run.
//!
//! Per backend: 10 CAs of 10 ROA payloads, then 50 single ROA changes
//! (a one-time key, the ROA and the manifest and CRL signed, one write
//! transaction, the rsync tree), then one batch of 200 payloads on one CA.
//!
//! Then failover: two `serve` instances on the PostgreSQL store, the
//! leader killed (SIGKILL) [`KILLS`] times, each time timed from the kill
//! to the standby's metrics showing that it leads.

use std::path::Path;
use std::time::Instant;

use anchorage_testkit::postgres::PostgresServer;

use super::{BENCH, Figure, ServeProcess, crypto_limit, fig, payload, percentile};
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, InitOptions};

/// Single changes timed per backend.
const CHANGES: u32 = 50;
/// Payloads of the batch.
const BATCH: u32 = 200;

/// Leaders killed by the failover measurement.
const KILLS: usize = 5;

/// Failover target: the standby leads within this after the leader died.
const FAILOVER_TARGET_S: f64 = 10.0;

/// What one backend measured.
struct Run {
    p50_ms: f64,
    p99_ms: f64,
    per_second: f64,
    batch_s: f64,
}

fn workload(dir: DataDir) -> anyhow::Result<(Run, f64)> {
    let mut a = Anchorage::init(
        &BENCH,
        dir,
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?
    .0;
    let floor = crypto_limit(&a, 20)?;
    for c in 0..10u32 {
        let base = 0x0A00_0000u32 + c * 65_536;
        a.create_ca(
            &BENCH,
            &format!("ca{c}"),
            format!(
                "AS{}-AS{}, {}/16",
                64_000 + c * 1_000,
                64_999 + c * 1_000,
                std::net::Ipv4Addr::from(base)
            )
            .parse()?,
            None,
        )?;
        let add = (0..10u32)
            .map(|r| payload(64_000 + c * 1_000 + r, base + r * 256, 24))
            .collect::<anyhow::Result<Vec<_>>>()?;
        a.apply_roa_changes(&BENCH, &format!("ca{c}"), &add, &[])?;
    }
    let mut times = Vec::new();
    let started = Instant::now();
    for i in 0..CHANGES {
        let c = i % 10;
        let t = Instant::now();
        a.apply_roa_changes(
            &BENCH,
            &format!("ca{c}"),
            &[payload(
                64_500 + c * 1_000,
                0x0A00_0000 + c * 65_536 + (16 + i) * 256,
                24,
            )?],
            &[],
        )?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let per_second = f64::from(CHANGES) / started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let batch = (0..BATCH)
        .map(|r| payload(64_900, 0x0A00_0000 + 128 * 256 + r * 64, 26))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let t = Instant::now();
    a.apply_roa_changes(&BENCH, "ca0", &batch, &[])?;
    let batch_s = t.elapsed().as_secs_f64();
    Ok((
        Run {
            p50_ms: percentile(&times, 0.5),
            p99_ms: percentile(&times, 0.99),
            per_second,
            batch_s,
        },
        floor,
    ))
}

/// Pushes one backend's figures: SQLite's times as ratios to the signing
/// floor, PostgreSQL's figures as ratios to SQLite's (`base`).
fn push(figures: &mut Vec<Figure>, name: &str, run: &Run, floor: f64, base: Option<&Run>) {
    let rows = [
        (
            "one ROA change p50",
            run.p50_ms,
            base.map(|b| b.p50_ms),
            "ms",
        ),
        (
            "one ROA change p99",
            run.p99_ms,
            base.map(|b| b.p99_ms),
            "ms",
        ),
        (
            "ROA changes, one at a time",
            run.per_second,
            base.map(|b| b.per_second),
            "changes/s",
        ),
        (
            "a batch of 200 ROA payloads",
            run.batch_s,
            base.map(|b| b.batch_s),
            "s",
        ),
    ];
    for (what, value, base_value, unit) in rows {
        let (target, ratio) = match base_value {
            Some(b) => ("ratio = PostgreSQL / SQLite", Some(value / b)),
            None if unit == "ms" => ("ratio = time / signing floor", Some(value / 1000.0 / floor)),
            None => ("-", None),
        };
        figures.push(fig(&format!("{name}: {what}"), value, unit, target, ratio));
    }
}

/// Runs the workload on both backends and pushes the figures.
pub(crate) fn figures(work: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let (lite, floor) = workload(DataDir::new(work.join("db-sqlite")))?;
    figures.push(fig(
        "database bench: signing floor (keygen + 2 signatures)",
        floor * 1000.0,
        "ms/object",
        "reference",
        None,
    ));
    push(figures, "SQLite", &lite, floor, None);
    let server = PostgresServer::start(&work.join("db-postgres-server"))?;
    let url = server.create_database("anchorage")?;
    let dir = work.join("db-postgres");
    let (pg, _) = workload(DataDir::new(&dir).with_database(Some(url)))?;
    push(figures, "PostgreSQL", &pg, floor, Some(&lite));
    let times = failover(&dir)?;
    let worst = times.iter().copied().fold(0.0, f64::max);
    figures.push(fig(
        &format!(
            "PostgreSQL failover: SIGKILL of the leader to the standby leading, p50 of {KILLS}"
        ),
        percentile(&times, 0.5),
        "s",
        "reference",
        None,
    ));
    figures.push(fig(
        &format!("PostgreSQL failover: slowest of {KILLS}"),
        worst,
        "s",
        "< 10 s; ratio = slowest / 10 s",
        Some(worst / FAILOVER_TARGET_S),
    ));
    Ok(())
}

/// One `serve` instance of the failover measurement.
struct Instance {
    process: ServeProcess,
    http: u16,
}

impl Instance {
    /// Starts instance `name` on `dir`, waiting until its metrics answer.
    fn start(dir: &Path, name: &str) -> anyhow::Result<Instance> {
        let config = dir.join(format!("serve-{name}.toml"));
        std::fs::write(
            &config,
            format!("instance_name = \"{name}\"\nmetrics_public = true\n"),
        )?;
        let (http, rsync) = (crate::oracle::free_port()?, crate::oracle::free_port()?);
        let process = ServeProcess::start_logging(
            dir,
            Some(&config),
            http,
            rsync,
            &[],
            &dir.join(format!("serve-{name}.log")),
        )?;
        let instance = Instance { process, http };
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while instance.epoch().is_none() {
            anyhow::ensure!(Instant::now() < deadline, "serve {name} did not answer");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(instance)
    }

    /// The epoch the instance leads in (0: standing by), from its
    /// metrics; `None` while it does not answer.
    fn epoch(&self) -> Option<i64> {
        crate::leader_epoch(&format!("http://127.0.0.1:{}", self.http))
    }
}

/// Waits until one of `instances` leads; its index.
fn leader(instances: &[&Instance]) -> anyhow::Result<usize> {
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(i) = instances.iter().position(|s| s.epoch().unwrap_or(0) > 0) {
            return Ok(i);
        }
        anyhow::ensure!(Instant::now() < deadline, "no leader within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Kills the leader of two instances on `dir` [`KILLS`] times; the
/// seconds from each kill to the other instance leading.
fn failover(dir: &Path) -> anyhow::Result<Vec<f64>> {
    let mut instances = [Instance::start(dir, "a")?, Instance::start(dir, "b")?];
    let mut leader = self::leader(&[&instances[0], &instances[1]])?;
    let mut times = Vec::new();
    for _ in 0..KILLS {
        let killed = Instant::now();
        instances[leader].process.child.kill()?;
        instances[leader].process.child.wait()?;
        self::leader(&[&instances[1 - leader]])?;
        times.push(killed.elapsed().as_secs_f64());
        let name = ["a", "b"][leader];
        instances[leader] = Instance::start(dir, name)?;
        leader = 1 - leader;
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}
