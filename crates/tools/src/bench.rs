//! `anchorage bench`: issuance and publication measured against the
//! cryptographic limit, in one run, printed as a table.
//!
//! Everything runs in this process on a fresh data directory, with the
//! system clock, real keys, the real store and the real rsync tree and
//! RRDP files. The cryptographic limit is measured in the same run: one
//! RSA-2048 key generation plus two signatures, the least work a new
//! signed object needs (its one-time EE key, the CA's signature on the EE
//! certificate, the EE key's signature on the content).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anchorage_ca_core::{ResourceSet, RoaPayload};
use rpki::crypto::{RpkiSignatureAlgorithm, Signer};
use serde::Serialize;

use crate::audit::Actor;
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, InitOptions};

/// Who the bench's changes are recorded as.
static BENCH: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(|| Actor::named("bench"));

mod burst;
mod concurrent;
mod database;
mod keyroll;

/// How big a repository to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Scale {
    /// 20 CAs x 10 ROAs, a 100-change burst: under two minutes, run in CI.
    Small,
    /// 200 CAs x 20 ROAs for the issuance rate, a 1,000-change burst, and
    /// a 50,000-CA repository with 1,000,000 prefixes for the scale
    /// figures: built once into --fixture-dir (hours of key generation,
    /// resumed where it stopped) and reused.
    Rir,
}

impl Scale {
    fn params(self) -> (usize, usize, usize) {
        match self {
            Scale::Small => (20, 10, 100),
            // The issuance figure is a rate: 4,000 ROAs of their own give
            // it; the 50,000-CA repository is the scale part's.
            Scale::Rir => (200, 20, 1_000),
        }
    }

    /// CAs and prefixes per CA (one ROA each) of the scale repository.
    fn scale(self) -> (usize, usize) {
        match self {
            Scale::Small => (200, 20),
            Scale::Rir => (50_000, 20),
        }
    }

    /// CAs and prefixes per CA of the validation fixture.
    fn validation(self) -> (usize, usize) {
        match self {
            Scale::Small => (100, 10),
            Scale::Rir => (10_000, 10),
        }
    }
}

/// VRPs in the RTR full-reset measurement (both scales: it is cheap).
pub const RTR_RESET_VRPS: usize = 1_000_000;

/// One measured figure.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// What was measured.
    pub name: String,
    /// The measured value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The target from the issue, in words.
    pub target: String,
    /// Measured over the reference measured in the same run, if any.
    pub ratio: Option<f64>,
}

/// A whole run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The scale.
    pub scale: Scale,
    /// CAs created.
    pub cas: usize,
    /// ROA payloads (each its own ROA object: distinct origin ASNs).
    pub roas: usize,
    /// CPU cores of the machine; the CA engine uses one.
    pub cores: usize,
    /// The figures.
    pub figures: Vec<Figure>,
    /// What is not measured yet, and why.
    pub not_measured: Vec<String>,
}

pub(crate) fn fig(name: &str, value: f64, unit: &str, target: &str, ratio: Option<f64>) -> Figure {
    Figure {
        name: name.into(),
        value,
        unit: unit.into(),
        target: target.into(),
        ratio,
    }
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Bytes of the files under `path`, each file once however many hard
/// links to it are there: what they take on disk, as `du` counts (the
/// rsync trees share their unchanged files).
fn dir_size(path: &Path) -> u64 {
    disk_use(path).0
}

/// [`dir_size`], and how many files (each once) make it.
fn disk_use(path: &Path) -> (u64, usize) {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let (mut total, mut files) = (0, 0);
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            stack.extend(
                std::fs::read_dir(&p)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        } else if meta.nlink() == 1 || seen.insert((meta.dev(), meta.ino())) {
            total += meta.len();
            files += 1;
        }
    }
    (total, files)
}

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// A size field of this process's `/proc/self/status`, in MB.
fn status_mb(field: &str) -> f64 {
    proc_status_mb("self", field).unwrap_or(f64::NAN)
}

/// A size field (`VmRSS:`, `VmHWM:`) of `/proc/PROCESS/status`, in MB.
fn proc_status_mb(process: &str, field: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// Seconds for one RSA-2048 key generation plus two signatures, the mean of `n`.
fn crypto_limit(a: &Anchorage, n: usize) -> anyhow::Result<f64> {
    let signer = a.signer();
    // A CA key for the second signature.
    let ca_key = signer
        .create_key(rpki::crypto::PublicKeyFormat::Rsa)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    mean_seconds(n, |i| {
        let data = format!("object {i}");
        // sign_one_off with an empty pool: key generation + one signature.
        let (_, public) = signer
            .sign_one_off(RpkiSignatureAlgorithm::default(), data.as_bytes())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        signer
            .sign(
                &ca_key,
                RpkiSignatureAlgorithm::default(),
                &public.to_info_bytes(),
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    })
}

/// Seconds per call of `once` (given the call's index), the mean of `n`.
fn mean_seconds(
    n: usize,
    mut once: impl FnMut(usize) -> anyhow::Result<()>,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    for i in 0..n {
        once(i)?;
    }
    Ok(start.elapsed().as_secs_f64() / n as f64)
}

/// Seconds per keyed object from a fresh key, the mean of `n`: an RSA-2048
/// key generation and two signatures (the object's and its certificate's),
/// in an in-memory signer, so that no key pool of the engine's shortens it.
fn keygen_limit(n: usize) -> anyhow::Result<f64> {
    use rpki::crypto::PublicKeyFormat;
    let signer = rpki::crypto::softsigner::SoftSigner::new();
    let ca = signer
        .create_key(PublicKeyFormat::Rsa)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let alg = RpkiSignatureAlgorithm::default();
    mean_seconds(n, |i| {
        let key = signer
            .create_key(PublicKeyFormat::Rsa)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let public = signer
            .get_key_info(&key)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        signer
            .sign(&key, alg, format!("object {i}").as_bytes())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        signer
            .sign(&ca, alg, &public.to_info_bytes())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    })
}

/// Seconds for one RSA-2048 signature, the mean of `n` with one key:
/// the signing floor. With one-time keys generated in advance, a ROA
/// needs two (the CA's on the EE certificate, the EE key's on the
/// content); the EE key's, its only one, costs more
/// ([`one_time_signature_time`]).
fn signature_time(a: &Anchorage, n: usize) -> anyhow::Result<f64> {
    let signer = a.signer();
    let key = signer
        .create_key(rpki::crypto::PublicKeyFormat::Rsa)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    mean_seconds(n, |i| {
        signer
            .sign(
                &key,
                RpkiSignatureAlgorithm::default(),
                format!("data {i}").as_bytes(),
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    })
}

/// Seconds per signature with a one-time EE key from the pool (each its
/// key's only one), over `n` keys generated untimed first.
fn one_time_signature_time(a: &Anchorage, n: usize) -> anyhow::Result<f64> {
    let signer = a.signer();
    let pool = a.ee_key_pool();
    pool.fill(pool.len() + n)?;
    mean_seconds(n, |i| {
        signer
            .sign_one_off(
                RpkiSignatureAlgorithm::default(),
                format!("data {i}").as_bytes(),
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        Ok(())
    })
}

/// The child side of the PKCS#11 figure: with the token in the
/// environment, a CA key made in it, then `n` signatures; prints the
/// seconds per signature.
pub fn hsm_sign_main(n: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let keys = anchorage_keys::KeyStore::open(tmp.path())?;
    let key = keys.generate_class(anchorage_keys::KeyClass::Ca)?;
    anyhow::ensure!(
        keys.list()?
            .iter()
            .any(|k| k.id == key && k.backend == anchorage_keys::Backend::Pkcs11),
        "the key was not made in the token"
    );
    let start = Instant::now();
    for i in 0..n {
        keys.sign(
            &key,
            RpkiSignatureAlgorithm::default(),
            format!("data {i}").as_bytes(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    println!("{}", start.elapsed().as_secs_f64() / n as f64);
    Ok(())
}

/// Seconds per signature with a CA key in a SoftHSM2 token, measured in a
/// child process (the module reads its configuration from the
/// environment); `None` without SoftHSM2.
fn hsm_signature_time(n: usize) -> anyhow::Result<Option<f64>> {
    if anchorage_testkit::find_program("softhsm2-util").is_none()
        || anchorage_testkit::SoftHsm::module().is_none()
    {
        return Ok(None);
    }
    let tmp = tempfile::tempdir()?;
    let hsm = anchorage_testkit::SoftHsm::init(tmp.path())?;
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["hsm-bench-sign", "--count", &n.to_string()])
        .env_remove("ANCHORAGE_PKCS11_KEYS")
        .env_remove("ANCHORAGE_HSM_FAIL_AFTER")
        .env_remove("ANCHORAGE_HSM_HANG_AFTER")
        .envs(hsm.env())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "hsm-bench-sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(Some(String::from_utf8(out.stdout)?.trim().parse()?))
}

fn payload(asn: u32, v4: u32, len: u8) -> anyhow::Result<RoaPayload> {
    let prefix = format!("{}/{len}", std::net::Ipv4Addr::from(v4));
    Ok(RoaPayload::new(asn, prefix.parse()?, None)?)
}

/// Issuance, one change, burst, ROA change to router and publication on
/// a fresh data directory `dir`.
fn issuance(
    scale: Scale,
    dir: &Path,
    figures: &mut Vec<Figure>,
    burst: Option<usize>,
) -> anyhow::Result<()> {
    let (n_cas, roas_per_ca, default_burst) = scale.params();
    let burst = burst.unwrap_or(default_burst);
    let mut a = Anchorage::init(
        &BENCH,
        DataDir::new(dir),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?
    .0;

    // 1. The cryptographic limit, measured now, on this machine.
    let limit = crypto_limit(&a, if scale == Scale::Small { 30 } else { 100 })?;
    let limit_rate = 1.0 / limit;
    figures.push(fig(
        "crypto limit: RSA-2048 keygen + 2 signatures",
        limit * 1000.0,
        "ms/object",
        "reference",
        None,
    ));
    let sign = signature_time(&a, 200)?;
    figures.push(fig(
        "RSA-2048 signature (a ROA with a pre-generated key needs 2)",
        sign * 1000.0,
        "ms",
        "reference",
        None,
    ));
    // A key's first private-key operation also makes its blinding values
    // (a modular inverse in aws-lc), which later ones reuse: a pooled
    // one-time key has them from its pairwise test, so its one signature
    // should cost what a CA key's does (a ratio of 2 without the test).
    let fresh = one_time_signature_time(&a, if scale == Scale::Small { 20 } else { 100 })?;
    figures.push(fig(
        "RSA-2048 signature with a one-time EE key from the pool",
        fresh * 1000.0,
        "ms",
        "ratio = time / signature with a key that signed before",
        Some(fresh / sign),
    ));
    match hsm_signature_time(200) {
        Ok(Some(t)) => figures.push(fig(
            "RSA-2048 signature with a CA key in SoftHSM2 (PKCS#11)",
            t * 1000.0,
            "ms",
            "ratio = time / software signature",
            Some(t / sign),
        )),
        Ok(None) => {}
        Err(err) => figures.push(fig(
            &format!("PKCS#11 signature: failed: {err:#}"),
            f64::NAN,
            "ms",
            "-",
            None,
        )),
    }

    // 2. Issuance: CAs, each with its ROAs (distinct ASNs, one object each)
    //    applied as one batch per CA, as the API's batch endpoint does.
    let started = Instant::now();
    let cpu_start = cpu_seconds();
    for c in 0..n_cas {
        let base = 0x0A00_0000u32 + (c as u32) * 256 * 256;
        let asn_base = 100_000 + (c * roas_per_ca) as u32;
        let resources: ResourceSet = format!(
            "AS{}-AS{}, {}/16",
            asn_base,
            asn_base + roas_per_ca as u32 - 1,
            std::net::Ipv4Addr::from(base)
        )
        .parse()?;
        let handle = format!("ca{c}");
        a.create_ca(&BENCH, &handle, resources, None)?;
        let add: Vec<RoaPayload> = (0..roas_per_ca)
            .map(|r| payload(asn_base + r as u32, base + (r as u32) * 256, 24))
            .collect::<anyhow::Result<_>>()?;
        a.apply_roa_changes(&BENCH, &handle, &add, &[])?;
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let roas = n_cas * roas_per_ca;
    // Objects that need a new key: ROAs, CA keys, and the manifests of
    // the CA creations and batches (two per hosted CA, plus the parent's).
    let keyed = roas + n_cas * 4;
    let rate = keyed as f64 / wall;
    let cores_used = (cpu / wall).max(1.0);
    figures.push(fig(
        "issuance: new keyed objects (ROAs, CA keys, manifests)",
        rate,
        "objects/s",
        "ratio = rate per core / crypto limit; target >= 0.8",
        Some(rate / cores_used / limit_rate),
    ));
    figures.push(fig(
        "issuance: ROAs",
        roas as f64 / wall,
        "ROAs/s",
        "-",
        None,
    ));
    figures.push(fig(
        "issuance: CPU cores used",
        cpu / wall,
        "cores",
        "-",
        None,
    ));

    // 3. One ROA change on the populated repository (CA work + publication),
    //    without a warm key pool: p50 and p99 of 20.
    let mut single = Vec::new();
    for i in 0..20u32 {
        let t = Instant::now();
        a.apply_roa_changes(
            &BENCH,
            "ca0",
            &[payload(100_000, 0x0A00_0000 + 128 * 256 + i * 256, 24)?],
            &[],
        )?;
        single.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    single.sort_by(f64::total_cmp);
    figures.push(fig(
        "one ROA change, cold keys: p50",
        percentile(&single, 0.5),
        "ms",
        "< 100 ms of CA work at full scale",
        None,
    ));
    figures.push(fig(
        "one ROA change, cold keys: p99",
        percentile(&single, 0.99),
        "ms",
        "-",
        None,
    ));

    // 4. Burst: `burst` ROA changes, each its own transaction as API calls
    //    would be, with a warm pool of one-time EE keys. Pool filling is
    //    not timed. First each change published alone (tree and RRDP
    //    serial per change), then with group publication as serve does it:
    //    changes committed at once, manifests, CRLs, tree and RRDP written
    //    for all changes of each 100 ms window.
    let change = |i: u32| -> anyhow::Result<(String, RoaPayload)> {
        let c = (i as usize) % n_cas;
        let base = 0x0A00_0000u32 + (c as u32) * 256 * 256;
        let asn = 100_000 + (c * roas_per_ca) as u32;
        Ok((
            format!("ca{c}"),
            payload(asn, base + 200 * 256 + (i / n_cas as u32) * 4, 30)?,
        ))
    };
    a.ee_key_pool().fill(2 * burst)?;
    let t = Instant::now();
    for i in 0..burst as u32 {
        let (ca, p) = change(i)?;
        a.apply_roa_changes(&BENCH, &ca, &[p], &[])?;
    }
    let alone_s = t.elapsed().as_secs_f64();
    figures.push(fig(
        &format!("burst: {burst} ROA changes, each published alone"),
        alone_s,
        "s",
        "-",
        None,
    ));
    // As a stream of CLI commands leaves it, with no serve and no rsync
    // daemon running: what the superseded trees and snapshots take.
    let after_alone = DataDirUse::of(dir);
    figures.push(after_alone.figure(&format!(
        "data dir after them, no serve ({} rsync trees)",
        after_alone.trees
    )));
    a.ee_key_pool().fill(2 * burst)?;
    a.set_deferred_publication(true);
    let t = Instant::now();
    let mut window = Instant::now();
    let mut groups = 0;
    for i in 0..burst as u32 {
        // Other prefixes than the first round's: these are new payloads.
        let (ca, p) = change(i + burst as u32 * 4)?;
        a.apply_roa_changes(&BENCH, &ca, &[p], &[])?;
        if window.elapsed() >= std::time::Duration::from_millis(100) {
            a.write_tree()?;
            groups += 1;
            window = Instant::now();
        }
    }
    a.write_tree()?;
    groups += 1;
    a.set_deferred_publication(false);
    let burst_s = t.elapsed().as_secs_f64();
    figures.push(fig(
        &format!("burst: {burst} ROA changes, group publication ({groups} groups)"),
        burst_s,
        "s",
        "1,000 changes < 2 s; ratio = projected 1,000-change time / 2 s",
        Some(burst_s * 1000.0 / burst as f64 / 2.0),
    ));
    figures.push(fig(
        "burst, group publication, one client: time per change / 2 signatures",
        burst_s / burst as f64 / (2.0 * sign),
        "x",
        "1.0 is the signing floor on one core",
        None,
    ));
    // As many changes again, taken as serve takes a burst from several
    // clients at once: each signs outside the store's write lock while
    // another commits, beside serve's group publisher and RRDP task. In
    // rounds, each of its own new changes: on this kind of machine the
    // figure moved by a third between runs of the same code, more than
    // most changes of the code move it, so the median is the figure.
    let mut rounds = Vec::new();
    for round in 0..burst::ROUNDS {
        let changes = (0..burst as u32)
            .map(|i| change(i + burst as u32 * (8 + 2 * round)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        rounds.push(burst::as_serve(dir, &changes)?);
    }
    let per_change = |r: &burst::Served| r.seconds / burst as f64 / (2.0 * r.signature);
    // The median by the ratio; every round listed in the order taken.
    let mut order: Vec<&burst::Served> = rounds.iter().collect();
    order.sort_by(|a, b| per_change(a).total_cmp(&per_change(b)));
    let served = order[order.len() / 2];
    let listed =
        |f: &dyn Fn(&burst::Served) -> String| rounds.iter().map(f).collect::<Vec<_>>().join(", ");
    figures.push(fig(
        &format!(
            "burst: {burst} ROA changes from {} clients at once, as serve takes them, median of {} rounds ({} trees, {} RRDP serials, {:.2} cores busy; rounds {} s)",
            burst::CLIENTS,
            rounds.len(),
            served.trees,
            served.serials,
            served.cpu_seconds / served.seconds,
            listed(&|r| format!("{:.2}", r.seconds)),
        ),
        served.seconds,
        "s",
        "-",
        None,
    ));
    figures.push(fig(
        &format!(
            "burst as serve takes it: time per change / 2 signatures, median ({:.2} ms each, measured right before; rounds {} x)",
            served.signature * 1000.0,
            listed(&|r| format!("{:.2}", per_change(r))),
        ),
        per_change(served),
        "x",
        "<= 2 x the signing floor on one core; ratio = / 2",
        Some(per_change(served) / 2.0),
    ));

    // 5. ROA change to router: serve (with its RTR cache) on this data
    //    dir, an RTR client connected, and the time from a ROA change to
    //    the client holding the new VRP.
    let samples = if scale == Scale::Small { 20 } else { 100 };
    match roa_change_to_router(&mut a, dir, samples) {
        Ok(mut ms) => {
            ms.sort_by(f64::total_cmp);
            let p99 = percentile(&ms, 0.99);
            figures.push(fig(
                &format!("ROA change to router: p50 of {samples}"),
                percentile(&ms, 0.5),
                "ms",
                "-",
                None,
            ));
            figures.push(fig(
                &format!("ROA change to router: p99 of {samples}"),
                p99,
                "ms",
                "p99 < 1 s; ratio = p99 / 1 s",
                Some(p99 / 1000.0),
            ));
        }
        Err(err) => figures.push(fig(
            &format!("ROA change to router: failed: {err}"),
            f64::NAN,
            "ms",
            "p99 < 1 s",
            None,
        )),
    }

    // 6. Publication (last: it moves the clock ahead): a no-op publish (tree written, nothing due), and a
    //    full manifest/CRL refresh of every CA (as at the 16-hour mark).
    let t = Instant::now();
    let r = a.publish(&BENCH)?;
    figures.push(fig(
        &format!("publish, nothing due ({} files)", r.files),
        t.elapsed().as_secs_f64() * 1000.0,
        "ms",
        "-",
        None,
    ));
    let later = chrono::Utc::now() + chrono::TimeDelta::hours(9);
    a.set_clock(Clock::Fixed(later));
    let t = Instant::now();
    let r = a.publish(&BENCH)?;
    figures.push(fig(
        &format!("full manifest/CRL refresh ({} points)", r.refreshed_points),
        t.elapsed().as_secs_f64(),
        "s",
        "-",
        None,
    ));
    a.set_clock(Clock::System);

    figures.push(fig(
        "store size",
        dir_size(&dir.join("anchorage.db")) as f64 / 1e6,
        "MB",
        "-",
        None,
    ));
    figures.push(fig(
        "rsync tree size",
        dir_size(&dir.join("rsync/current/")) as f64 / 1e6,
        "MB",
        "-",
        None,
    ));
    // After the stream of changes above (each published alone, then in
    // groups): superseded trees and snapshots must be gone. A file linked
    // into several trees counts once, as it takes its room once.
    let at_end = DataDirUse::of(dir);
    // What holds the room, and how many trees and RRDP files there are.
    let (rrdp, rrdp_files) = disk_use(&dir.join("rrdp"));
    let parts = [
        (
            format!("{} rsync trees", at_end.trees),
            dir_size(&dir.join("rsync")),
        ),
        (format!("RRDP, {rrdp_files} files"), rrdp),
        ("store".to_string(), at_end.store),
    ];
    let others = at_end
        .whole
        .saturating_sub(parts.iter().map(|(_, b)| b).sum::<u64>());
    for (what, bytes) in parts.into_iter().chain([(
        "the rest (keys, serve's validator copy)".to_string(),
        others,
    )]) {
        figures.push(fig(
            &format!("data dir at the end: {what}"),
            bytes as f64 / 1e6,
            "MB",
            "-",
            None,
        ));
    }
    figures.push(at_end.figure(&format!(
        "data dir after {} changes",
        (2 + burst::ROUNDS as usize) * burst + samples
    )));
    Ok(())
}

/// The room a data directory takes, in bytes (a file linked into several
/// trees counts once, as it takes its room once), and its rsync trees.
struct DataDirUse {
    /// The whole directory.
    whole: u64,
    /// The store, with its WAL.
    store: u64,
    /// One repository state: the current tree.
    state: u64,
    /// Trees under `rsync/trees`.
    trees: usize,
}

impl DataDirUse {
    /// What the data directory `dir` takes now.
    fn of(dir: &Path) -> DataDirUse {
        DataDirUse {
            whole: dir_size(dir),
            store: ["anchorage.db", "anchorage.db-wal", "anchorage.db-shm"]
                .iter()
                .map(|f| dir_size(&dir.join(f)))
                .sum(),
            state: dir_size(&dir.join("rsync/current/")),
            trees: std::fs::read_dir(dir.join("rsync/trees")).map_or(0, |d| d.count()),
        }
    }

    /// The figure "`what` / (store + 1 repository state)", against the
    /// target of 3.
    fn figure(&self, what: &str) -> Figure {
        let x = self.whole as f64 / (self.store + self.state) as f64;
        fig(
            &format!("{what} / (store + 1 repository state)"),
            x,
            "x",
            "< 3; ratio = value / 3",
            Some(x / 3.0),
        )
    }
}

/// Which parts of the benchmark to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Part {
    /// Issuance, burst, one change, ROA change to router, publication.
    Issuance,
    /// The bundled validator vs rpki-client -n on a large repository.
    Validation,
    /// An RTR full reset of 1,000,000 VRPs.
    Rtr,
    /// RFC 9319 analysis: 1,000,000 announcements, a 1,000-ROA dry run.
    Bgp,
    /// The scale repository (50,000 CAs, 1,000,000 prefixes at rir):
    /// creation, sizes, one change, publication, refresh, serve's RSS.
    Scale,
    /// serve's admin API under 20 concurrent tenants, beside a 1,000-ROA
    /// batch, with a remote parent that never answers.
    Concurrency,
    /// A key rollover of a CA with 10,000 ROA payloads, against the
    /// signing floor of what it reissues.
    Keyroll,
    /// The same ROA-change workload on SQLite and on PostgreSQL (a
    /// server the bench starts), side by side.
    Database,
    /// The full manifest/CRL refresh cycle of the scale repository (built
    /// by `scale` first), every point once, with trees and RRDP serials
    /// written and old trees removed as serve does beside an rsync
    /// daemon: half an hour at 50,000 CAs, so only when named.
    Refresh,
}

/// Runs the benchmark: the `parts` given (all when empty); `keep` keeps
/// the data directory, `fixtures` is where the validation repository is
/// built once and reused; `scale_cas` sets the CAs of the scale
/// repository instead of the scale's default.
pub fn run(
    scale: Scale,
    keep: Option<&Path>,
    fixtures: &Path,
    parts: &[Part],
    burst: Option<usize>,
    build_budget: Option<std::time::Duration>,
    scale_cas: Option<usize>,
) -> anyhow::Result<Report> {
    // The bench makes thousands of CA keys: never in an operator's token
    // or under an operator's secret.
    for var in [
        "ANCHORAGE_PKCS11_MODULE",
        "ANCHORAGE_KEY_PASSPHRASE_FILE",
        "ANCHORAGE_KEY_PASSPHRASE",
        "ANCHORAGE_KEY_FILE",
    ] {
        anyhow::ensure!(
            std::env::var_os(var).is_none(),
            "{var} is set: the bench would make its keys with it; unset it to run the bench"
        );
    }
    let wants = |p: Part| (parts.is_empty() && p != Part::Refresh) || parts.contains(&p);
    let (n_cas, roas_per_ca, _) = scale.params();
    let tmp = tempfile::tempdir()?;
    let dir: PathBuf = keep
        .map(Path::to_path_buf)
        .unwrap_or_else(|| tmp.path().join("data"));
    let mut figures = Vec::new();
    if wants(Part::Issuance) {
        issuance(scale, &dir, &mut figures, burst)?;
    }
    // 7. Validation of a large repository: ours from its cache vs
    //    rpki-client -n on the same repository, after one fetch each.
    let (v_cas, v_prefixes) = scale.validation();
    if !wants(Part::Validation) {
    } else if let Err(err) =
        validation_figures(fixtures, tmp.path(), v_cas, v_prefixes, &mut figures)
    {
        figures.push(fig(
            &format!("validation: failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        ));
    }

    // 8. RTR: a full reset of 1,000,000 VRPs to one client, the cache in
    //    its own process so its peak RSS is its own.
    match wants(Part::Rtr).then(|| rtr_reset(RTR_RESET_VRPS)) {
        None => {}
        Some(Ok((secs, bytes, rss_mb))) => {
            figures.push(fig(
                &format!(
                    "RTR reset of {RTR_RESET_VRPS} VRPs ({:.1} MB of PDUs)",
                    bytes as f64 / 1e6
                ),
                secs,
                "s",
                "< 1 s; ratio = time / 1 s",
                Some(secs),
            ));
            figures.push(fig(
                "RTR cache peak RSS (1M VRPs, after the reset)",
                rss_mb,
                "MB",
                "< 200 MB; ratio = RSS / 200 MB",
                Some(rss_mb / 200.0),
            ));
        }
        Some(Err(err)) => figures.push(fig(
            &format!("RTR reset: failed: {err:#}"),
            f64::NAN,
            "s",
            "< 1 s",
            None,
        )),
    }

    // 9. RFC 9319 analysis against a full BGP table.
    if wants(Part::Bgp)
        && let Err(err) = bgp_figures(tmp.path(), &mut figures)
    {
        figures.push(fig(
            &format!("BGP analysis: failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        ));
    }

    // 10. serve under concurrent tenants, a large batch and a hanging parent.
    if wants(Part::Concurrency)
        && let Err(err) = concurrent::figures(tmp.path(), scale, &mut figures)
    {
        figures.push(fig(
            &format!("concurrency: failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        ));
    }

    // 11. Key rollover of a CA with 10,000 ROA payloads.
    if wants(Part::Keyroll)
        && let Err(err) = keyroll::figures(tmp.path(), &mut figures)
    {
        figures.push(fig(
            &format!("key rollover: failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        ));
    }

    // 11b. ROA changes on SQLite and on PostgreSQL.
    if wants(Part::Database)
        && let Err(err) = database::figures(tmp.path(), &mut figures)
    {
        figures.push(fig(
            &format!("database: failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        ));
    }

    // 12. The scale repository, built once into `fixtures` and reused.
    if wants(Part::Scale) {
        let (cas, prefixes) = scale.scale();
        let cas = scale_cas.unwrap_or(cas);
        if let Err(err) = scale_figures(fixtures, cas, prefixes, build_budget, &mut figures) {
            figures.push(fig(
                &format!("scale: failed: {err:#}"),
                f64::NAN,
                "s",
                "-",
                None,
            ));
        }
    }

    // 13. The full refresh cycle of the scale repository.
    if wants(Part::Refresh) {
        let (cas, prefixes) = scale.scale();
        let cas = scale_cas.unwrap_or(cas);
        if let Err(err) = refresh_cycle(fixtures, cas, prefixes, &mut figures) {
            figures.push(fig(
                &format!("refresh cycle: failed: {err:#}"),
                f64::NAN,
                "s",
                "-",
                None,
            ));
        }
    }

    figures.push(fig(
        "peak RSS of this process",
        peak_rss_mb(),
        "MB",
        "-",
        None,
    ));

    Ok(Report {
        scale,
        cas: if wants(Part::Issuance) { n_cas } else { 0 },
        roas: if wants(Part::Issuance) {
            n_cas * roas_per_ca
        } else {
            0
        },
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        figures,
        not_measured: Vec::new(),
    })
}

/// Builds (or reuses) the validation fixture in `fixtures`, fetches it
/// once with each validator, then times both on their caches.
fn validation_figures(
    fixtures: &Path,
    work: &Path,
    cas: usize,
    prefixes: usize,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let f = crate::fixture::build(fixtures, cas, prefixes)?;
    figures.push(fig(
        &format!(
            "validation fixture: {cas} CAs, {} VRPs (build or reuse)",
            f.vrps
        ),
        t.elapsed().as_secs_f64(),
        "s",
        "-",
        None,
    ));
    let work = work.join("validation");
    let rsyncd = crate::oracle::RsyncDaemon::start(&f.tree, "repo", &work.join("rsyncd"))?;
    let (theirs_s, ours_s) = validators_side_by_side(&f.tal, &rsyncd, f.vrps, &work)?;
    figures.push(fig(
        "validation: rpki-client -n (cache only)",
        theirs_s,
        "s",
        "reference",
        None,
    ));
    figures.push(fig(
        "validation: anchorage (cache only)",
        ours_s,
        "s",
        "no slower than rpki-client; ratio = ours / theirs",
        Some(ours_s / theirs_s),
    ));
    let (objects, checks_s) = profile_checks(&f.tree)?;
    figures.push(fig(
        &format!("validation: profile checks alone, one thread ({objects} objects)"),
        checks_s,
        "s",
        "their share of the cache-only run; ratio = checks / that run",
        Some(checks_s / ours_s),
    ));
    figures.push(fig(
        "profile checks per object (also run on each object signed)",
        checks_s * 1e6 / objects.max(1) as f64,
        "us",
        "-",
        None,
    ));
    Ok(())
}

/// rpki-client and the bundled validator on the repository `rsyncd`
/// serves under `tal`: each fetches it once into a cache of its own in
/// `work`, then validates that cache alone, timed. Both must find `vrps`
/// VRPs, rpki-client complaining of nothing and ours rejecting nothing.
/// Returns the cache-only seconds of rpki-client -n and of ours.
fn validators_side_by_side(
    tal: &Path,
    rsyncd: &crate::oracle::RsyncDaemon,
    vrps: usize,
    work: &Path,
) -> anyhow::Result<(f64, f64)> {
    use anchorage_validator::fetch::{Fetcher, RsyncFetcher};
    let theirs_dir = work.join("rpki-client");
    let first = crate::oracle::rpki_client(tal, rsyncd, &theirs_dir)?;
    anyhow::ensure!(
        first.vrps.len() == vrps && first.problems.is_empty(),
        "rpki-client found {} VRPs of {vrps}: {:?}",
        first.vrps.len(),
        first.problems.first()
    );
    let cache = work.join("anchorage");
    let mut fetcher = Fetcher::rsync_only(RsyncFetcher::new(&cache, rsyncd.wrapper()));
    let ours = anchorage_validator::validate(tal, &mut fetcher, true)?;
    anyhow::ensure!(
        ours.vrps.len() == vrps && ours.rejected.is_empty(),
        "anchorage found {} VRPs of {vrps}: {:?}",
        ours.vrps.len(),
        ours.rejected.first()
    );
    let t = Instant::now();
    let theirs = crate::oracle::rpki_client_no_fetch(tal, &theirs_dir)?;
    let theirs_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(theirs.vrps.len() == vrps, "rpki-client -n lost VRPs");
    let t = Instant::now();
    let mut offline = Fetcher::rsync_only(RsyncFetcher::offline(&cache));
    let again = anchorage_validator::validate(tal, &mut offline, true)?;
    let ours_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(again.vrps.len() == vrps, "our offline run lost VRPs");
    Ok((theirs_s, ours_s))
}

/// Runs the profile rules (`anchorage-profile`, what the walk and the
/// CA engine run before anything decodes an object) over every object
/// of the repository `tree` on one thread; returns how many objects and
/// the seconds it took. Files are read before the clock starts.
fn profile_checks(tree: &Path) -> anyhow::Result<(usize, f64)> {
    use anchorage_validator::profile::{self, CertKind};
    let mut files = Vec::new();
    let mut dirs = vec![tree.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
                files.push((ext.to_string(), std::fs::read(&path)?));
            }
        }
    }
    let t = Instant::now();
    let mut checked = 0;
    for (ext, der) in &files {
        let result = match ext.as_str() {
            "cer" => profile::certificate(der, CertKind::Ca)
                .or_else(|_| profile::certificate(der, CertKind::TrustAnchor)),
            "crl" => profile::crl(der),
            "roa" => profile::roa(der),
            "mft" => profile::manifest(der),
            "gbr" => profile::ghostbusters(der).map(drop),
            _ => continue,
        };
        result.map_err(|e| anyhow::anyhow!("a fixture object breaks the profile: {e}"))?;
        checked += 1;
    }
    Ok((checked, t.elapsed().as_secs_f64()))
}

/// Announcements in the BGP analysis measurement.
pub const BGP_ROUTES: usize = 1_000_000;

/// Loads a 1,000,000-announcement CSV table the way `bgp load` and the
/// API do, then times the analysis of a 1,000-ROA batch against it (with
/// 100,000 VRPs already in the repository), as the dry-run endpoint runs it.
fn bgp_figures(work: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    use anchorage_engine::rfc9319::bgp::{BgpTable, VrpIndex, analyse};
    use std::io::Write;
    // 10.0.0.0/8 and beyond in /24s, a /16 aggregate every 256 of them
    // with a different origin for some more-specifics; IPv6 /48s.
    let csv = work.join("bgp.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(f, "prefix,origin-asn")?;
    for i in 0..BGP_ROUTES as u32 {
        if i % 5 == 4 {
            let a = std::net::Ipv6Addr::from((0x2001_0db8u128 << 96) | (u128::from(i) << 80));
            writeln!(f, "{a}/48,{}", 64_496 + i % 5_000)?;
        } else {
            let base = 0x0A00_0000u32.wrapping_add(i << 8);
            let origin = if i % 7 == 0 {
                65_000
            } else {
                64_496 + (i >> 8) % 5_000
            };
            writeln!(f, "{}/24,{origin}", std::net::Ipv4Addr::from(base))?;
        }
    }
    drop(f.into_inner()?);
    let t = Instant::now();
    let table = BgpTable::from_csv(std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(&csv)?,
    ))
    .map_err(|e| anyhow::anyhow!("{}: {e}", csv.display()))?;
    let load = t.elapsed().as_secs_f64();
    anyhow::ensure!(table.len() == BGP_ROUTES, "loaded {} routes", table.len());
    figures.push(fig(
        &format!("BGP table load ({} announcements, CSV)", table.len()),
        load,
        "s",
        "-",
        None,
    ));
    let payload = |asn: u32, addr: u32, len: u8, max: u8| -> anyhow::Result<RoaPayload> {
        let prefix = format!("{}/{len}", std::net::Ipv4Addr::from(addr));
        Ok(RoaPayload::new(asn, prefix.parse()?, Some(max))?)
    };
    let existing: Vec<RoaPayload> = (0..100_000u32)
        .map(|i| payload(64_496 + i % 5_000, 0x0A00_0000 + (i << 8), 24, 24))
        .collect::<anyhow::Result<_>>()?;
    let index = VrpIndex::new(&existing);
    // 1,000 new ROAs on /16 aggregates further up, maxLength 24: each
    // covers 256 announced /24s, some from other origins.
    let added: Vec<RoaPayload> = (0..1_000u32)
        .map(|i| payload(64_496 + i, 0x0A00_0000 + ((400 + i) << 16), 16, 24))
        .collect::<anyhow::Result<_>>()?;
    let t = Instant::now();
    // The static checks run over the CA's own ROAs: here, the batch.
    let mut warnings = anchorage_engine::rfc9319::warnings::analyse(&added, &added);
    warnings.extend(analyse(&table, &index, &added, &[]));
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(!warnings.is_empty(), "the analysis found nothing to say");
    figures.push(fig(
        &format!(
            "dry-run analysis: 1,000 ROAs vs {} announcements ({} warnings)",
            table.len(),
            warnings.len()
        ),
        secs * 1000.0,
        "ms",
        "well under 1 s; ratio = time / 1 s",
        Some(secs),
    ));
    Ok(())
}

/// The synthetic VRPs of the RTR measurement: 80% IPv4 /24s, 20% IPv6
/// /48s, which makes the 22.4 MB of PDUs per million the issue names.
pub fn synthetic_vrps(n: usize) -> std::collections::BTreeSet<anchorage_rtr::Origin> {
    let v6 = n / 5;
    (0..n)
        .map(|i| {
            let asn = 64_496 + (i % 1_000) as u32;
            if i < n - v6 {
                anchorage_rtr::Origin {
                    asn,
                    addr: std::net::Ipv4Addr::from(0x0A00_0000u32.wrapping_add((i as u32) << 8))
                        .into(),
                    len: 24,
                    max_len: 24,
                }
            } else {
                anchorage_rtr::Origin {
                    asn,
                    addr: std::net::Ipv6Addr::from((0x2001_0db8u128 << 96) | ((i as u128) << 80))
                        .into(),
                    len: 48,
                    max_len: 48,
                }
            }
        })
        .collect()
}

/// The cache side of the RTR reset measurement (`anchorage
/// rtr-bench-cache`): serves `n` synthetic VRPs on a loopback port it
/// prints, and when standard input closes prints its peak RSS in kB.
pub fn rtr_cache_main(n: usize) -> anyhow::Result<()> {
    use std::io::{Read, Write};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let history = anchorage_rtr::VrpHistory::new();
    history.update(synthetic_vrps(n));
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    // Every router of the benchmark connects from 127.0.0.1.
    let guard = anchorage_netguard::Guard::new(
        "rtr",
        anchorage_netguard::Limits {
            max_connections: 4096,
            max_per_address: 4096,
        },
        &[],
    );
    rt.spawn(anchorage_rtr::serve(
        listener,
        guard,
        history,
        anchorage_rtr::RtrConfig::default(),
    ));
    println!("{port}");
    std::io::stdout().flush()?;
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink)?;
    println!("{}", peak_rss_mb() * 1024.0);
    Ok(())
}

/// Runs `rtr-bench-cache` with `n` VRPs, resets from it once; returns
/// (seconds from query to End of Data, PDU bytes, cache peak RSS in MB).
fn rtr_reset(n: usize) -> anyhow::Result<(f64, usize, f64)> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["rtr-bench-cache", "--vrps", &n.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    out.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("cache said {line:?}"))?;
    let sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
    let mut rd = BufReader::with_capacity(1 << 20, sock.try_clone()?);
    let t = Instant::now();
    (&sock).write_all(&[1, 2, 0, 0, 0, 0, 0, 8])?;
    let (mut bytes, mut prefixes) = (0usize, 0usize);
    let mut body = [0u8; 64];
    loop {
        let mut h = [0u8; 8];
        rd.read_exact(&mut h)?;
        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        anyhow::ensure!((8..=64).contains(&len), "bad PDU length {len}");
        rd.read_exact(&mut body[..len - 8])?;
        bytes += len;
        match h[1] {
            4 | 6 => prefixes += 1,
            7 => break,
            10 => anyhow::bail!("error report from the cache"),
            _ => {}
        }
    }
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(prefixes == n, "got {prefixes} of {n} VRPs");
    drop(child.stdin.take());
    line.clear();
    out.read_line(&mut line)?;
    child.wait()?;
    let rss_kb: f64 = line
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("cache said {line:?}"))?;
    Ok((secs, bytes, rss_kb / 1024.0))
}

/// A minimal RTR v1 client (RFC 8210 §5): enough to see a VRP arrive.
/// It reads as a router does, through a buffer, so that a full reset
/// measures the cache and not one system call per PDU.
struct RtrProbe {
    sock: std::net::TcpStream,
    rd: std::io::BufReader<std::net::TcpStream>,
    /// The last PDU's body.
    body: Vec<u8>,
    session: u16,
    serial: u32,
    /// IPv4 and IPv6 prefixes announced so far.
    prefixes: usize,
}

impl RtrProbe {
    /// Reads the next PDU into `self.body`; returns its type and session.
    fn pdu(&mut self) -> anyhow::Result<(u8, u16)> {
        use std::io::Read;
        let mut h = [0u8; 8];
        self.rd.read_exact(&mut h)?;
        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        anyhow::ensure!((8..1 << 20).contains(&len), "bad RTR PDU length {len}");
        self.body.resize(len - 8, 0);
        self.rd.read_exact(&mut self.body)?;
        Ok((h[1], u16::from_be_bytes([h[2], h[3]])))
    }

    /// Reads to End of Data; returns the prefixes (address, length)
    /// announced when `record`, else none.
    fn until_end(&mut self, record: bool) -> anyhow::Result<Vec<(std::net::IpAddr, u8)>> {
        let mut seen = Vec::new();
        loop {
            let (kind, session) = self.pdu()?;
            let body = &self.body;
            match kind {
                3 => self.session = session,
                6 if body.len() >= 24 && body[0] & 1 == 1 => {
                    self.prefixes += 1;
                    if record {
                        let addr: [u8; 16] = body[4..20].try_into().expect("16 bytes");
                        seen.push((std::net::Ipv6Addr::from(addr).into(), body[1]));
                    }
                }
                4 if body.len() >= 12 && body[0] & 1 == 1 => {
                    self.prefixes += 1;
                    if record {
                        let addr: [u8; 4] = body[4..8].try_into().expect("4 bytes");
                        seen.push((std::net::Ipv4Addr::from(addr).into(), body[1]));
                    }
                }
                7 => {
                    self.serial = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    return Ok(seen);
                }
                10 => anyhow::bail!("RTR error report"),
                _ => {}
            }
        }
    }

    fn connect(port: u16) -> anyhow::Result<RtrProbe> {
        use std::io::Write;
        let mut sock = std::net::TcpStream::connect(("127.0.0.1", port))?;
        sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
        sock.write_all(&[1, 2, 0, 0, 0, 0, 0, 8])?; // Reset Query, v1
        let mut p = RtrProbe {
            rd: std::io::BufReader::with_capacity(1 << 20, sock.try_clone()?),
            body: Vec::new(),
            sock,
            session: 0,
            serial: 0,
            prefixes: 0,
        };
        p.until_end(false)?;
        Ok(p)
    }

    /// Waits for a Serial Notify, asks for the changes, returns them.
    fn next_update(&mut self) -> anyhow::Result<Vec<(std::net::IpAddr, u8)>> {
        use std::io::Write;
        loop {
            let (kind, _) = self.pdu()?;
            if kind == 0 {
                break;
            }
        }
        let mut q = vec![1, 1];
        q.extend(self.session.to_be_bytes());
        q.extend(12u32.to_be_bytes());
        q.extend(self.serial.to_be_bytes());
        self.sock.write_all(&q)?;
        self.until_end(true)
    }
}

/// Time spent building a scale repository, summed over resumed runs.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
struct BuildLog {
    /// Wall-clock seconds.
    seconds: f64,
    /// CPU seconds of the building processes.
    cpu_seconds: f64,
    /// CAs complete (with their ROA) at the last save.
    #[serde(default)]
    cas: usize,
    /// Whether every CA and ROA exists.
    complete: bool,
}

/// At most this many scale CAs sit directly under the online CA, the
/// rest under intermediate CAs of as many each: a manifest of 50,000
/// child certificates is 4.15 MB, more than the 4,000,000 bytes
/// rpki-client reads (the engine refuses a child past that), and an
/// RIR with that many members places them so too.
const SCALE_PER_POINT: usize = 40_000;

/// The parent of scale CA `c`: the online CA (`None`) for the first
/// [`SCALE_PER_POINT`], then intermediate `sg1`, `sg2`, ...
fn scale_parent(c: usize) -> Option<String> {
    let k = c / SCALE_PER_POINT;
    (k > 0).then(|| format!("sg{k}"))
}

/// The resources of the intermediate CA above scale CA `c`: the ASNs
/// and /32s of every scale CA it is to hold.
fn scale_group_resources(c: usize) -> anyhow::Result<ResourceSet> {
    let first = c / SCALE_PER_POINT * SCALE_PER_POINT;
    let last = (first + SCALE_PER_POINT - 1).min(65_535);
    Ok(format!(
        "AS{}-AS{}, {}-{}",
        200_000 + first,
        200_000 + last,
        std::net::Ipv6Addr::from(scale_block(first)),
        std::net::Ipv6Addr::from(scale_block(last) | ((1u128 << 96) - 1))
    )
    .parse()?)
}

/// The IPv6 /32 of scale CA `c` (c < 65,536): 2a00:c::/32.
fn scale_block(c: usize) -> u128 {
    (0x2a00u128 << 112) | ((c as u128) << 96)
}

/// A /48 ROA payload inside scale CA `c`'s block.
fn scale_payload(c: usize, sub: u16) -> anyhow::Result<RoaPayload> {
    let addr = std::net::Ipv6Addr::from(scale_block(c) | ((sub as u128) << 80));
    Ok(RoaPayload::new(
        200_000 + c as u32,
        format!("{addr}/48").parse()?,
        None,
    )?)
}

/// How many one-change and to-router samples the scale part takes.
const SCALE_SAMPLES: usize = 10;

// The sub-prefixes (of a scale CA's block) of the payloads the scale
// part's samples add and remove, above the built ones.
/// The one-change samples' sub-prefix, plus the sample's index.
const SUB_CHANGE: u16 = 0x8000;
/// The self-validation after a change.
const SUB_REVALIDATE: u16 = 0x9000;
/// The CLI command beside rsyncd and beside serve.
const SUB_CLI: u16 = 0xA000;
/// The to-router samples' sub-prefix, plus the sample's index.
const SUB_ROUTER: u16 = 0xB000;

/// The scale CA whose ROA the `i`th one-change sample adds and removes.
fn change_sample(i: usize, n_cas: usize) -> usize {
    (i * 7919) % n_cas
}

/// The scale CA whose ROA the `i`th to-router sample adds and removes.
fn router_sample(i: usize, n_cas: usize) -> usize {
    (i * 7919 + 17) % n_cas
}

/// Removes every ROA payload a measurement adds (the `SUB_` sub-prefixes)
/// that a run cut short left in the repository, so that each sample
/// changes something; returns how many there were. The caller writes the
/// tree.
fn remove_sample_leftovers(a: &mut Anchorage, n_cas: usize) -> anyhow::Result<usize> {
    let mut samples = vec![(0, SUB_REVALIDATE), (1 % n_cas, SUB_CLI)];
    for i in 0..SCALE_SAMPLES {
        samples.push((change_sample(i, n_cas), SUB_CHANGE + i as u16));
        samples.push((router_sample(i, n_cas), SUB_ROUTER + i as u16));
    }
    let mut removed = 0;
    for (c, sub) in samples {
        let p = scale_payload(c, sub)?;
        // Refused, changing nothing, when the payload is absent.
        if a.apply_roa_changes(&BENCH, &format!("s{c}"), &[], &[p])
            .is_ok()
        {
            removed += 1;
        }
    }
    if removed > 0 {
        eprintln!("scale repository: removed {removed} ROA payloads an earlier run left");
    }
    Ok(removed)
}

/// The scale part: builds (or resumes, or reuses) a repository of
/// `n_cas` hosted CAs under the online CA, each with one ROA of
/// `prefixes` IPv6 /48s, then measures it. With a `budget`, building
/// stops when it is spent and what exists so far is measured.
fn scale_figures(
    fixtures: &Path,
    n_cas: usize,
    prefixes: usize,
    budget: Option<std::time::Duration>,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    anyhow::ensure!(n_cas <= 65_536, "at most 65,536 scale CAs");
    let dir = fixtures.join(format!("scale-{n_cas}x{prefixes}"));
    let log_path = dir.join("build.json");
    let mut a = if dir.join("anchorage.db").exists() {
        Anchorage::open(DataDir::new(&dir), Clock::System)?
    } else {
        std::fs::create_dir_all(fixtures)?;
        Anchorage::init(
            &BENCH,
            DataDir::new(&dir),
            &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
            Clock::System,
        )?
        .0
    };
    // Changes commit with their manifests and CRLs owed, as under serve;
    // each tree write issues them for all points at once.
    a.set_deferred_publication(true);
    // A second core keeps one-time keys ready; CA keys come from it too.
    a.start_ee_key_refill(32);
    let mut log: BuildLog = std::fs::read(&log_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if !log.complete {
        let mut have: std::collections::HashMap<String, usize> = a
            .list_cas()?
            .into_iter()
            .map(|c| (c.handle, c.roa_payloads))
            .collect();
        let mut since = Instant::now();
        let mut cpu_since = cpu_seconds();
        let mut group = Instant::now();
        let run_started = Instant::now();
        let mut save = |a: &mut Anchorage, log: &mut BuildLog, done: usize| -> anyhow::Result<()> {
            a.write_tree()?;
            log.cas = done;
            log.seconds += since.elapsed().as_secs_f64();
            log.cpu_seconds += cpu_seconds() - cpu_since;
            since = Instant::now();
            cpu_since = cpu_seconds();
            let tmp = log_path.with_extension("tmp");
            std::fs::write(&tmp, serde_json::to_vec(&log)?)?;
            std::fs::rename(&tmp, &log_path)?;
            eprintln!(
                "scale repository: {done}/{n_cas} CAs, {:.0} s so far",
                log.seconds
            );
            Ok(())
        };
        let mut built = n_cas;
        for c in 0..n_cas {
            let handle = format!("s{c}");
            if have.get(&handle).is_some_and(|n| *n >= prefixes) {
                continue; // built by an earlier run
            }
            if budget.is_some_and(|b| run_started.elapsed() >= b) {
                built = c;
                break;
            }
            let roas = match have.get(&handle) {
                Some(n) => *n,
                None => {
                    let resources: ResourceSet = format!(
                        "AS{}, {}/32",
                        200_000 + c,
                        std::net::Ipv6Addr::from(scale_block(c))
                    )
                    .parse()?;
                    let parent = scale_parent(c);
                    if let Some(group) = &parent
                        && !have.contains_key(group)
                    {
                        a.create_ca(&BENCH, group, scale_group_resources(c)?, None)?;
                        have.insert(group.clone(), 0);
                    }
                    a.create_ca(&BENCH, &handle, resources, parent.as_deref())?;
                    0
                }
            };
            if roas < prefixes {
                let add: Vec<RoaPayload> = (0..prefixes)
                    .map(|p| scale_payload(c, p as u16))
                    .collect::<anyhow::Result<_>>()?;
                a.apply_roa_changes(&BENCH, &handle, &add, &[])?;
            }
            // One tree write a minute, as a busy serve would group them.
            if group.elapsed() >= std::time::Duration::from_secs(60) {
                save(&mut a, &mut log, c + 1)?;
                group = Instant::now();
            }
        }
        log.complete = built == n_cas;
        save(&mut a, &mut log, built)?;
    }
    let n_cas = log.cas.max(1);
    if !log.complete {
        eprintln!("scale repository incomplete: measuring the {n_cas} CAs built so far");
    }
    figures.push(fig(
        &format!(
            "scale: create {n_cas} CAs x {prefixes} prefixes (one ROA each){}",
            if log.complete { "" } else { ", so far" }
        ),
        log.seconds,
        "s",
        "-",
        None,
    ));
    figures.push(fig(
        "scale: creation rate",
        n_cas as f64 / log.seconds.max(1e-9),
        "CAs/s",
        "-",
        None,
    ));
    figures.push(fig(
        "scale: CPU cores used while creating",
        log.cpu_seconds / log.seconds.max(1e-9),
        "cores",
        "-",
        None,
    ));
    let (serial_files, store_mb) = (
        a.object_counts()?.iter().map(|(_, n)| n).sum::<u64>(),
        dir_size(&dir.join("anchorage.db")) as f64 / 1e6,
    );
    figures.push(fig("scale: store size", store_mb, "MB", "-", None));
    figures.push(fig(
        &format!("scale: rsync tree size ({serial_files} files)"),
        dir_size(&dir.join("rsync/current/")) as f64 / 1e6,
        "MB",
        "-",
        None,
    ));

    // One ROA change at a time on the full repository: the CA work (store,
    // sign the ROA, commit, then the point's manifest and CRL) apart from
    // the publication that follows (rsync tree, RRDP snapshot and delta).
    // Each addition is removed again, so reruns find the same state.
    // The first publications run with no rsync daemon in view, so no
    // tree write can know that a superseded tree is unread: full writes.
    // Then the rsync daemon serves the tree, as under serve, and a tree
    // write brings the spare tree forward by what changed. Each sample is
    // classed by what the write reports it did.
    remove_sample_leftovers(&mut a, n_cas)?;
    a.write_tree()?;
    // With the pool warm, as serve keeps it.
    a.ee_key_pool().fill(64)?;
    let rsyncd_dir = tempfile::tempdir()?;
    let mut rsyncd = None;
    let (mut work, mut full, mut forward) = (Vec::new(), Vec::new(), Vec::new());
    let mut serials = Vec::new();
    let mut touched = 0;
    // As serve publishes: the tree carries the change to rsync clients
    // (and serve's validator), the RRDP serial is written apart.
    a.set_rrdp_apart(true);
    for i in 0..SCALE_SAMPLES {
        let c = change_sample(i, n_cas);
        let handle = format!("s{c}");
        let extra = scale_payload(c, SUB_CHANGE + i as u16)?;
        for (add, remove) in [(vec![extra], vec![]), (vec![], vec![extra])] {
            let t = Instant::now();
            a.apply_roa_changes(&BENCH, &handle, &add, &remove)?;
            a.refresh_owed()?;
            work.push(t.elapsed().as_secs_f64() * 1000.0);
            // Publication costs in proportion to the repository when it
            // is a full write: three samples of each kind are enough.
            if full.len() + forward.len() == 3 && rsyncd.is_none() {
                rsyncd = Some(crate::oracle::RsyncDaemon::start(
                    &dir.join("rsync/current"),
                    "repo",
                    rsyncd_dir.path(),
                )?);
            }
            if full.len() + forward.len() < 9 {
                let t = Instant::now();
                let stats = a.write_tree()?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if stats.reused {
                    forward.push(ms);
                    touched += stats.written + stats.linked + stats.removed;
                } else {
                    full.push(ms);
                }
                let t = Instant::now();
                anyhow::ensure!(a.write_rrdp()?.is_some(), "no RRDP serial for a change");
                serials.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    a.set_rrdp_apart(false);
    a.write_tree()?;
    // Self-validation as serve runs it, from the served tree: everything
    // (the cache empty, as on serve's 10-minute timer), then after one
    // more ROA change with the previous run's point results.
    let served = match &rsyncd {
        Some(d) => d,
        None => rsyncd.insert(crate::oracle::RsyncDaemon::start(
            &dir.join("rsync/current"),
            "repo",
            rsyncd_dir.path(),
        )?),
    };
    // The payload the samples below add and remove (absent to start
    // with: see remove_sample_leftovers).
    let extra = scale_payload(0, SUB_REVALIDATE)?;
    let rp_cache = tempfile::tempdir()?;
    let mut mirror = anchorage_validator::mirror::Mirror::new(
        anchorage_publication::RsyncTree::new(DataDir::new(&dir).rsync()),
        a.rsync_base(),
        DataDir::new(&dir).tal(),
        rp_cache.path(),
        served.wrapper(),
    )?;
    let mut self_validate = |everything| -> anyhow::Result<(f64, _)> {
        let t = Instant::now();
        let run = mirror.run(everything)?;
        Ok((t.elapsed().as_secs_f64() * 1000.0, run))
    };
    // What the kept results take: this process's growth over the first
    // run (the allocator keeps what the run freed, so this is at most).
    let rss_before = status_mb("VmRSS:");
    let (full_ms, all) = self_validate(true)?;
    let held_mb = status_mb("VmRSS:") - rss_before;
    let mut after = Vec::new();
    let mut last = None;
    for (add, remove) in [(vec![extra], vec![]), (vec![], vec![extra])] {
        for _ in 0..5 {
            a.apply_roa_changes(&BENCH, "s0", &add, &remove)?;
            a.write_tree()?;
            let (ms, run) = self_validate(false)?;
            let u = &run.update;
            let want = (extra.asn, extra.prefix.to_string());
            let changed: Vec<_> = u
                .announced
                .iter()
                .chain(&u.withdrawn)
                .map(|(asn, p, _)| (*asn, p.to_string()))
                .collect();
            anyhow::ensure!(
                changed == [want.clone()]
                    && u.announced.len() == add.len()
                    && run.listed.is_some()
                    && u.results.summary.rejected.is_empty(),
                "self-validation after one change: announced {:?}, withdrawn {:?}, \
                 {:?} paths fetched, {} rejected",
                u.announced,
                u.withdrawn,
                run.listed,
                u.results.summary.rejected.len()
            );
            after.push(ms);
            last = Some(run);
            // The same change again, undone: the next sample is like it.
            let (undo_add, undo_remove) = (&remove, &add);
            a.apply_roa_changes(&BENCH, "s0", undo_add, undo_remove)?;
            a.write_tree()?;
            self_validate(false)?;
        }
        a.apply_roa_changes(&BENCH, "s0", &add, &remove)?;
        a.write_tree()?;
        self_validate(false)?;
    }
    let last = last.expect("samples taken");
    // What the RTR cache holds with every VRP, during a reset in version
    // 1: its set, and the part of PDUs being sent. Computed from their
    // sizes: this process's RSS growth says nothing here, as the
    // allocator reuses what the runs above freed.
    let history = anchorage_rtr::VrpHistory::new();
    let origins: Vec<anchorage_rtr::Origin> = all
        .update
        .announced
        .iter()
        .map(|(asn, p, max_len)| anchorage_rtr::Origin {
            asn: *asn,
            addr: p.addr,
            len: p.len,
            max_len: *max_len,
        })
        .collect();
    history.apply(&origins, &[]);
    drop(origins);
    // As during a reset: the PDUs exist while a reset sends them.
    let snapshot = history.current();
    let mut parts = snapshot.encoded(1);
    let first = parts.next().map_or(0, |p| p.len());
    let encoded = first + parts.map(|p| p.len()).sum::<usize>();
    let rtr_mb =
        (snapshot.len() * std::mem::size_of::<anchorage_rtr::Origin>() + first) as f64 / 1e6;
    drop((snapshot, history));

    // One ROA changed by the CLI, as an operator runs it beside a served
    // tree: process start, opening the store, the ROA and the manifest
    // (each a fresh key), the tree and the RRDP files. Against the issue's
    // bound: 1.5 times the crypto limit (keygen + 2 signatures) plus
    // process start, both measured here.
    let exe = std::env::current_exe()?;
    let t = Instant::now();
    let out = std::process::Command::new(&exe).arg("--version").output()?;
    anyhow::ensure!(out.status.success(), "anchorage --version failed");
    let start_ms = t.elapsed().as_secs_f64() * 1000.0;
    let limit_ms = keygen_limit(10)? * 1000.0;
    let cli_ms = cli_roa_change(&dir, n_cas)?;
    drop(rsyncd);
    figures.push(fig(
        "process start (anchorage --version)",
        start_ms,
        "ms",
        "reference",
        None,
    ));
    figures.push(fig(
        "keygen limit: RSA-2048 keygen + 2 signatures (in-memory signer)",
        limit_ms,
        "ms/object",
        "reference",
        None,
    ));
    let bound = 1.5 * limit_ms + start_ms;
    figures.push(fig(
        "scale: CLI command changing one ROA, beside rsyncd alone (it writes the RRDP serial too), p50 of 3 adds and 3 removes",
        cli_ms,
        "ms",
        "<= 1.5 x crypto limit + process start; ratio = / that",
        Some(cli_ms / bound),
    ));
    let summary = &all.update.results.summary;
    figures.push(fig(
        &format!(
            "scale: self-validation, everything ({} points, {} VRPs)",
            summary.manifests,
            all.update.announced.len()
        ),
        full_ms,
        "ms",
        "-",
        None,
    ));
    figures.push(fig(
        &format!(
            "scale: self-validation results kept ({} points), RSS growth",
            summary.manifests
        ),
        held_mb,
        "MB",
        "-",
        None,
    ));
    figures.push(fig(
        &format!(
            "scale: RTR cache with {} VRPs during a reset (the set, and one part of {} KB of their {} MB of version 1 PDUs), computed",
            all.update.announced.len(),
            first / 1_000,
            encoded / 1_000_000
        ),
        rtr_mb,
        "MB",
        "-",
        None,
    ));
    after.sort_by(f64::total_cmp);
    let after_ms = percentile(&after, 0.5);
    let summary = &last.update.results.summary;
    figures.push(fig(
        &format!(
            "scale: self-validation after one change, p50 of {} ({} paths fetched, {} of {} points reused)",
            after.len(),
            last.listed.unwrap_or(0),
            summary.points_reused,
            summary.manifests
        ),
        after_ms,
        "ms",
        "ratio = / everything",
        Some(after_ms / full_ms),
    ));
    work.sort_by(f64::total_cmp);
    figures.push(fig(
        "scale: one ROA change (warm keys), CA work, p50 of 20",
        percentile(&work, 0.5),
        "ms",
        "-",
        None,
    ));
    let p99 = percentile(&work, 0.99);
    figures.push(fig(
        "scale: one ROA change, CA work, p99 of 20",
        p99,
        "ms",
        "< 100 ms; ratio = p99 / 100 ms",
        Some(p99 / 100.0),
    ));
    for (what, samples, bounded) in [
        ("full tree write", &mut full, false),
        ("spare tree brought forward", &mut forward, true),
    ] {
        samples.sort_by(f64::total_cmp);
        if samples.is_empty() {
            println!("scale: no publication was a {what} in this run");
            continue;
        }
        let p50 = percentile(samples, 0.5);
        let (target, ratio) = if bounded {
            ("< 100 ms; ratio = / 100 ms", Some(p50 / 100.0))
        } else {
            ("-", None)
        };
        figures.push(fig(
            &format!(
                "scale: publication of one change to rsync ({what}), p50 of {}",
                samples.len()
            ),
            p50,
            "ms",
            target,
            ratio,
        ));
    }
    serials.sort_by(f64::total_cmp);
    if !serials.is_empty() {
        figures.push(fig(
            &format!(
                "scale: RRDP serial of one change (snapshot streamed from the store, delta), p50 of {}",
                serials.len()
            ),
            percentile(&serials, 0.5),
            "ms",
            "-",
            None,
        ));
    }
    if !forward.is_empty() {
        figures.push(fig(
            "scale: files replaced or removed per tree brought forward, mean",
            touched as f64 / forward.len() as f64,
            "files",
            "-",
            None,
        ));
    }
    if !full.is_empty() && !forward.is_empty() {
        let ratio = percentile(&forward, 0.5) / percentile(&full, 0.5);
        figures.push(fig(
            "scale: publication, brought forward / full write (p50s)",
            ratio,
            "x",
            "-",
            Some(ratio),
        ));
    }

    // A full manifest/CRL refresh cycle reissues every point: measured on
    // a sample (each point needs a key generation) and projected.
    let sample = n_cas.min(200);
    let handles: Vec<String> = (0..sample)
        .map(|i| format!("s{}", i * (n_cas / sample)))
        .collect();
    let t = Instant::now();
    let refreshed = a.refresh_points(&handles)?;
    let per_point = t.elapsed().as_secs_f64() / refreshed.max(1) as f64;
    a.write_tree()?;
    figures.push(fig(
        &format!("scale: manifest/CRL refresh, per point (sample of {refreshed})"),
        per_point * 1000.0,
        "ms",
        "-",
        None,
    ));
    figures.push(fig(
        &format!(
            "scale: full manifest/CRL refresh of {} points, projected",
            n_cas + 1
        ),
        per_point * (n_cas + 1) as f64,
        "s",
        "-",
        None,
    ));

    // What a repository built hours ago owes (its manifests and CRLs
    // past their planned refresh) is refreshed here first: otherwise
    // serve's scheduler starts a refresh cycle of thousands of points as
    // it comes up, and the figures below would be those of a repository
    // catching up, not of one kept up to date as serve keeps it.
    let t = Instant::now();
    let caught_up = a.publish(&BENCH)?.refreshed_points;
    figures.push(fig(
        &format!("scale: refresh owed before serve starts ({caught_up} points)"),
        t.elapsed().as_secs_f64(),
        "s",
        "-",
        None,
    ));

    // serve on the repository without validator and RTR cache: what the
    // rest holds (the figures above add up to the RSS with them).
    figures.push(fig(
        "scale: serve RSS without --rtr-listen (publication, RRDP, rsyncd, scheduler)",
        serve_without_rtr(&dir)?,
        "MB",
        "-",
        None,
    ));
    // serve on the repository, with its RTR cache: RSS once a router has
    // every VRP, and how long until it had them; then ROA changes made
    // beside it until a router has them.
    let ServeScale {
        rss,
        hwm,
        vrps,
        secs,
        reset,
        mut to_router,
        cli_ms,
    } = serve_at_scale(&dir, &mut a, n_cas)?;
    drop(a);
    figures.push(fig(
        "scale: CLI command changing one ROA, beside serve (handed to it over its control socket), p50 of 3 adds and 3 removes",
        cli_ms,
        "ms",
        "<= 1.5 x crypto limit + process start; ratio = / that",
        Some(cli_ms / bound),
    ));
    figures.push(fig(
        &format!("scale: serve RSS with the RTR cache holding {vrps} VRPs"),
        rss,
        "MB",
        "< 300 MB; ratio = / 300 MB",
        Some(rss / 300.0),
    ));
    figures.push(fig("scale: serve peak RSS (VmHWM)", hwm, "MB", "-", None));
    figures.push(fig(
        "scale: serve start to a router holding every VRP",
        secs,
        "s",
        "-",
        None,
    ));
    figures.push(fig(
        &format!("scale: RTR full reset of {vrps} VRPs from serve"),
        reset,
        "s",
        "< 0.3 s; ratio = / 0.3 s",
        Some(reset / 0.3),
    ));
    // In the order taken, to tell a slow start from a slow change (serve's
    // log of the run is DIR/serve.log).
    let taken: Vec<String> = to_router.iter().map(|ms| format!("{ms:.0}")).collect();
    to_router.sort_by(f64::total_cmp);
    figures.push(fig(
        &format!(
            "scale: ROA change to router, p50 of {} (ms in order: {})",
            to_router.len(),
            taken.join(" ")
        ),
        percentile(&to_router, 0.5),
        "ms",
        "-",
        None,
    ));
    let p99 = percentile(&to_router, 0.99);
    figures.push(fig(
        &format!("scale: ROA change to router, p99 of {}", to_router.len()),
        p99,
        "ms",
        "< 1 s; ratio = p99 / 1 s",
        Some(p99 / 1000.0),
    ));
    anyhow::ensure!(
        vrps >= n_cas * prefixes,
        "the router got {vrps} VRPs, expected at least {}",
        n_cas * prefixes
    );
    // Last, as its failure is a finding rather than the end of the run:
    // rpki-client next to the bundled validator on the whole repository,
    // each fetching it once and then validating its cache.
    let expected = all.update.announced.len();
    let compare = tempfile::tempdir()?;
    let compared = crate::oracle::RsyncDaemon::start(
        &dir.join("rsync/current"),
        "repo",
        &compare.path().join("rsyncd"),
    )
    .map_err(anyhow::Error::from)
    .and_then(|rsyncd| {
        validators_side_by_side(&DataDir::new(&dir).tal(), &rsyncd, expected, compare.path())
    });
    match compared {
        Ok((theirs_s, ours_s)) => {
            figures.push(fig(
                &format!("scale: validation of the repository ({expected} VRPs), cache only: rpki-client -n"),
                theirs_s,
                "s",
                "reference",
                None,
            ));
            figures.push(fig(
                "scale: validation of the repository, cache only: anchorage",
                ours_s,
                "s",
                "no slower than rpki-client; ratio = ours / theirs",
                Some(ours_s / theirs_s),
            ));
        }
        Err(err) => figures.push(fig(
            &format!("scale: validators side by side failed: {err:#}"),
            f64::NAN,
            "s",
            "-",
            None,
        )),
    }
    Ok(())
}

/// Runs `anchorage serve` on `dir` without an RTR cache until its rsync
/// daemon is up and it has had ten seconds to publish what it owes;
/// returns its RSS in MB.
fn serve_without_rtr(dir: &Path) -> anyhow::Result<f64> {
    use crate::oracle::free_port;
    let (http, rsync) = (free_port()?, free_port()?);
    let mut serve = ServeProcess::start(dir, None, http, rsync, &[])?;
    // Up once its rsync daemon greets (`@RSYNCD:`).
    let deadline = Instant::now() + std::time::Duration::from_secs(600);
    while !crate::oracle::rsyncd_greets(rsync) {
        anyhow::ensure!(serve.child.try_wait()?.is_none(), "serve exited");
        anyhow::ensure!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(10));
    serve.status_mb("VmRSS:")
}

/// The full manifest/CRL refresh cycle of the scale repository of
/// `n_cas` CAs: every point's manifest and CRL reissued once, as
/// `publish` does for the points due, while another connection writes
/// trees and RRDP serials as serve's group publisher and RRDP task do.
/// Figures: the cycle's time, per point against the crypto limit, and
/// how the cycle spread over tree writes.
fn refresh_cycle(
    fixtures: &Path,
    n_cas: usize,
    prefixes: usize,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = fixtures.join(format!("scale-{n_cas}x{prefixes}"));
    anyhow::ensure!(
        dir.join("build.json").exists(),
        "no scale repository of {n_cas} CAs in {}: build it with --only scale first",
        dir.display()
    );
    let limit_ms = keygen_limit(10)? * 1000.0;
    let mut a = Anchorage::open(DataDir::new(&dir), Clock::System)?;
    let handles: Vec<String> = a.list_cas()?.into_iter().map(|c| c.handle).collect();
    let done = AtomicBool::new(false);
    // An rsync daemon on the tree, as serve runs one: with an rsync
    // process to see, tree writes bring a spare tree forward.
    let rsyncd_dir = tempfile::tempdir()?;
    let _rsyncd =
        crate::oracle::RsyncDaemon::start(&dir.join("rsync/current"), "repo", rsyncd_dir.path())?;
    // serve's two publication tasks on a pool set up as serve's (a tree
    // when one is owed, RRDP serials apart: bench/burst.rs), and its
    // remover of old trees. The tasks return the times of their writes
    // (ms) and the files of each tree.
    let pool = burst::serve_pool(&dir, true)?;
    let (secs, refreshed, trees, serials) = std::thread::scope(|s| {
        let trees = s.spawn(|| burst::group_publisher(&pool, &done));
        let serials = s.spawn(|| burst::rrdp_writer(&pool, &done));
        let remover = s.spawn(|| burst::trash_remover(&dir, &done));
        let t = Instant::now();
        let refreshed = a.refresh_points(&handles);
        let secs = t.elapsed().as_secs_f64();
        done.store(true, Ordering::SeqCst);
        let trees = trees
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("tree writer panicked")));
        let serials = serials
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("RRDP writer panicked")));
        let _ = remover.join();
        (secs, refreshed, trees, serials)
    });
    let (trees, serials) = (trees?, serials?);
    let refreshed = refreshed?;
    let per_point = secs * 1000.0 / refreshed.max(1) as f64;
    figures.push(fig(
        &format!("refresh cycle: every manifest and CRL of {refreshed} points, measured"),
        secs,
        "s",
        "-",
        None,
    ));
    figures.push(fig(
        "refresh cycle: per point (a manifest key, 3 signatures)",
        per_point,
        "ms",
        "ratio = / crypto limit (keygen + 2 signatures, one core)",
        Some(per_point / limit_ms),
    ));
    let mut tree_ms: Vec<f64> = trees.iter().map(|w| w.0).collect();
    tree_ms.sort_by(f64::total_cmp);
    let most = trees.iter().map(|w| w.1).max().unwrap_or(0);
    figures.push(fig(
        &format!(
            "refresh cycle: tree writes during it ({}), p50 / p99 ms of each: {:.0} / {:.0}",
            trees.len(),
            percentile(&tree_ms, 0.5),
            percentile(&tree_ms, 0.99)
        ),
        trees.len() as f64,
        "writes",
        "-",
        None,
    ));
    figures.push(fig(
        "refresh cycle: most files written by one tree write",
        most as f64,
        "files",
        "-",
        None,
    ));
    figures.push(fig(
        "refresh cycle: RRDP serials during it",
        serials.len() as f64,
        "serials",
        "-",
        None,
    ));
    Ok(())
}

/// What [`serve_at_scale`] measured.
struct ServeScale {
    /// serve's RSS once a router has every VRP, in MB.
    rss: f64,
    /// serve's peak RSS, in MB.
    hwm: f64,
    /// The VRPs a router got.
    vrps: usize,
    /// Seconds from serve's start until a router had them.
    secs: f64,
    /// Seconds of a second full reset.
    reset: f64,
    /// Milliseconds from each ROA change to a router.
    to_router: Vec<f64>,
    /// Milliseconds of a CLI command changing one ROA beside serve (mean
    /// of add and remove).
    cli_ms: f64,
}

/// Milliseconds of `anchorage roa add` and then `remove` of one ROA in
/// scale CA 1 of the repository in `dir`, run as an operator runs them:
/// the median of three of each.
fn cli_roa_change(dir: &Path, n_cas: usize) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let cli = |verb: &str| -> anyhow::Result<f64> {
        let p = scale_payload(1 % n_cas, SUB_CLI)?;
        let t = Instant::now();
        let out = std::process::Command::new(&exe)
            .arg("--data-dir")
            .arg(dir)
            .args(["roa", verb, &format!("s{}", 1 % n_cas), "--asn"])
            .arg(p.asn.to_string())
            .arg("--prefix")
            .arg(p.prefix.to_string())
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "anchorage roa {verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    let mut samples = Vec::new();
    for _ in 0..3 {
        samples.push(cli("add")?);
        samples.push(cli("remove")?);
    }
    samples.sort_by(f64::total_cmp);
    Ok(percentile(&samples, 0.5))
}

/// Runs `anchorage serve` on `dir` as a child process with an RTR cache,
/// waits until an RTR client holds the VRPs, then makes ROA changes with
/// `a` beside it (as CLI commands would) and times each until the router
/// has it.
fn serve_at_scale(dir: &Path, a: &mut Anchorage, n_cas: usize) -> anyhow::Result<ServeScale> {
    use crate::oracle::free_port;
    let (http, rsync, rtr) = (free_port()?, free_port()?, free_port()?);
    let started = Instant::now();
    // An EE key pool, filled while serve starts, as serve keeps one (64
    // by default): the manifests of the ROA changes below (which serve's
    // group publisher signs) and the CLI commands after them (handed to
    // serve) draw on it.
    let config = dir.join("bench-router.toml");
    std::fs::write(&config, "ee_key_pool = 16\n")?;
    let mut serve = ServeProcess::start(
        dir,
        Some(&config),
        http,
        rsync,
        &["--rtr-listen", &format!("127.0.0.1:{rtr}")],
    )?;
    let result = (|| -> anyhow::Result<ServeScale> {
        let deadline = Instant::now() + std::time::Duration::from_secs(1800);
        let vrps = loop {
            anyhow::ensure!(serve.child.try_wait()?.is_none(), "serve exited");
            match RtrProbe::connect(rtr) {
                Ok(p) => break p.prefixes,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(500)),
            }
        };
        let secs = started.elapsed().as_secs_f64();
        // A second router, once the cache is ready: the reset alone.
        let t = Instant::now();
        let mut probe = RtrProbe::connect(rtr)?;
        let reset = t.elapsed().as_secs_f64();
        let again = probe.prefixes;
        anyhow::ensure!(again == vrps, "second reset: {again} VRPs, first {vrps}");
        let field = |name| serve.status_mb(name).unwrap_or(f64::NAN);
        let (rss, hwm) = (field("VmRSS:"), field("VmHWM:"));
        let samples = SCALE_SAMPLES;
        a.ee_key_pool().fill(samples)?;
        let mut to_router = Vec::new();
        let mut made = Vec::new();
        for i in 0..samples {
            let c = router_sample(i, n_cas);
            let p = scale_payload(c, SUB_ROUTER + i as u16)?;
            let handle = format!("s{c}");
            let t = Instant::now();
            a.apply_roa_changes(&BENCH, &handle, &[p], &[])?;
            made.push((handle, p));
            let (addr, len) = p.prefix.to_string().split_once('/').map_or_else(
                || anyhow::bail!("prefix {} without length", p.prefix),
                |(a, l)| Ok((a.parse::<std::net::IpAddr>()?, l.parse::<u8>()?)),
            )?;
            while !probe.next_update()?.contains(&(addr, len)) {}
            to_router.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        for (handle, p) in made {
            a.apply_roa_changes(&BENCH, &handle, &[], &[p])?;
        }
        // Those removals published by serve first: the CLI commands then
        // pay for their own change alone.
        let published = Instant::now() + std::time::Duration::from_secs(60);
        while a.tree_behind()? && Instant::now() < published {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let cli_ms = cli_roa_change(dir, n_cas)?;
        Ok(ServeScale {
            rss,
            hwm,
            vrps,
            secs,
            reset,
            to_router,
            cli_ms,
        })
    })();
    drop(serve);
    result
}

/// Milliseconds from each of `samples` ROA additions to an RTR client
/// holding the new VRP, with `serve --rtr-listen` running on `dir`.
fn roa_change_to_router(a: &mut Anchorage, dir: &Path, samples: usize) -> anyhow::Result<Vec<f64>> {
    use crate::oracle::free_port;
    let (http, rsync, rtr) = (free_port()?, free_port()?, free_port()?);
    // serve as its own process, as operators run it; without an EE key
    // pool, so that the changes below draw on this process's.
    let config = dir.join("bench-router.toml");
    std::fs::write(&config, "ee_key_pool = 0\n")?;
    let mut server = ServeProcess::start(
        dir,
        Some(&config),
        http,
        rsync,
        &["--rtr-listen", &format!("127.0.0.1:{rtr}")],
    )?;
    let result = (|| -> anyhow::Result<Vec<f64>> {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        let mut probe = loop {
            anyhow::ensure!(server.child.try_wait()?.is_none(), "serve exited");
            match RtrProbe::connect(rtr) {
                Ok(p) => break p,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100)),
            }
        };
        a.ee_key_pool().fill(2 * samples)?;
        let mut out = Vec::new();
        for i in 0..samples as u32 {
            let addr = 0x0A00_0000u32 + 250 * 256 + i * 4;
            let p = payload(100_000, addr, 30)?;
            let t = Instant::now();
            a.apply_roa_changes(&BENCH, "ca0", &[p], &[])?;
            let want = (std::net::Ipv4Addr::from(addr).into(), 30);
            while !probe.next_update()?.contains(&want) {}
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(out)
    })();
    drop(server);
    result
}

/// `anchorage serve` as its own process, as operators run it: this very
/// binary, on loopback ports, its log in `DIR/serve.log` (the last
/// run's). Dropping it sends
/// SIGTERM (serve finishes its publication and exits) and waits.
pub(crate) struct ServeProcess {
    /// The process.
    pub(crate) child: std::process::Child,
}

impl ServeProcess {
    /// Starts `serve` on `dir` with its HTTP and rsync ports, an optional
    /// configuration file and `extra` options.
    pub(crate) fn start(
        dir: &Path,
        config: Option<&Path>,
        http: u16,
        rsync: u16,
        extra: &[&str],
    ) -> anyhow::Result<ServeProcess> {
        ServeProcess::start_logging(dir, config, http, rsync, extra, &dir.join("serve.log"))
    }

    /// [`Self::start`] with its log in `log`.
    pub(crate) fn start_logging(
        dir: &Path,
        config: Option<&Path>,
        http: u16,
        rsync: u16,
        extra: &[&str],
        log: &Path,
    ) -> anyhow::Result<ServeProcess> {
        let mut cmd = std::process::Command::new(std::env::current_exe()?);
        cmd.arg("--data-dir").arg(dir).arg("serve");
        if let Some(config) = config {
            cmd.arg("--config").arg(config);
        }
        let child = cmd
            .args(["--http-listen", &format!("127.0.0.1:{http}")])
            .args(["--rsync-listen", &format!("127.0.0.1:{rsync}")])
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .spawn()?;
        Ok(ServeProcess { child })
    }

    /// A size field of the process's `/proc/PID/status` (`VmRSS:`,
    /// `VmHWM:`), in MB.
    pub(crate) fn status_mb(&self, field: &str) -> anyhow::Result<f64> {
        proc_status_mb(&self.child.id().to_string(), field)
            .ok_or_else(|| anyhow::anyhow!("no {field} for serve"))
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // already gone (the soak kills it itself)
        }
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Process CPU time (user + system) in seconds, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Formats the report as a table.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Anchorage bench, scale {:?}: {} CAs, {} ROAs, {} cores",
        r.scale, r.cas, r.roas, r.cores
    );
    let _ = writeln!(
        s,
        "{:<58} {:>12} {:<10} {:>8}  target",
        "figure", "value", "unit", "ratio"
    );
    for f in &r.figures {
        let ratio = f
            .ratio
            .map(|x| format!("{x:.2}"))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "{:<58} {:>12.2} {:<10} {:>8}  {}",
            f.name, f.value, f.unit, ratio, f.target
        );
    }
    for n in &r.not_measured {
        let _ = writeln!(s, "not measured: {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every scale CA past the first point's share sits under an
    /// intermediate that holds its resources, and the first share under
    /// the online CA.
    #[test]
    fn scale_groups_hold_their_cas() {
        assert_eq!(scale_parent(0), None);
        assert_eq!(scale_parent(SCALE_PER_POINT - 1), None);
        for c in [SCALE_PER_POINT, 47_123, 65_535] {
            let own: ResourceSet = format!(
                "AS{}, {}/32",
                200_000 + c,
                std::net::Ipv6Addr::from(scale_block(c))
            )
            .parse()
            .unwrap();
            let group = scale_group_resources(c).unwrap();
            assert!(group.contains(&own), "CA {c}: {own} not within {group}");
            assert_eq!(scale_parent(c), Some(format!("sg{}", c / SCALE_PER_POINT)));
        }
        let neighbour: ResourceSet = format!(
            "{}/32",
            std::net::Ipv6Addr::from(scale_block(SCALE_PER_POINT - 1))
        )
        .parse()
        .unwrap();
        assert!(
            !scale_group_resources(SCALE_PER_POINT)
                .unwrap()
                .contains(&neighbour)
        );
    }
}
