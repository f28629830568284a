//! Independent checks of Anchorage's output with other people's software.
//!
//! [`RsyncDaemon`] serves a data directory's `rsync/current` with a real
//! `rsync --daemon` on a free loopback port; [`rpki_client`] and [`fort`]
//! fetch the repository from it exactly as relying parties in the field
//! do, starting from the TAL, and report the VRPs they derived and every
//! complaint they made. The demo and the end-to-end tests use them.
//! [`browser`] drives Debian's headless Chromium over WebDriver for the
//! web interface's tests.

#![forbid(unsafe_code)]

pub mod browser;
pub mod postgres;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

/// A validated ROA payload as a relying party reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Vrp {
    /// Origin AS.
    pub asn: u32,
    /// Prefix in its canonical text form.
    pub prefix: String,
    /// maxLength.
    pub max_length: u8,
}

impl Vrp {
    /// Makes a VRP from parts.
    pub fn new(asn: u32, prefix: &str, max_length: u8) -> Self {
        Vrp {
            asn,
            prefix: prefix.to_string(),
            max_length,
        }
    }
}

impl std::fmt::Display for Vrp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AS{} {} max {}", self.asn, self.prefix, self.max_length)
    }
}

/// What a relying party concluded about a repository.
#[derive(Clone, Debug, Default)]
pub struct ValidatorRun {
    /// The VRPs it derived.
    pub vrps: BTreeSet<Vrp>,
    /// The ASPAs it validated: customer AS and providers, ascending.
    pub aspas: BTreeSet<(u32, Vec<u32>)>,
    /// The BGPsec router keys it validated: AS, SKI in upper-case hex,
    /// and the SubjectPublicKeyInfo in standard base64.
    pub router_keys: BTreeSet<(u32, String, String)>,
    /// Its complaints: non-zero failure counters and warning lines. Empty
    /// means it accepted everything without a word.
    pub problems: Vec<String>,
    /// Its full console output, for diagnosis.
    pub log: String,
}

/// Returns the path of `program` if it is on `PATH`.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether an rsync daemon answers on loopback port `port` with its
/// greeting (`@RSYNCD:`) within two seconds: up, and not another
/// service that took the port.
pub fn rsyncd_greets(port: u16) -> bool {
    use std::io::Read;
    let greeting = || -> io::Result<[u8; 8]> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut greeting = [0u8; 8];
        s.read_exact(&mut greeting)?;
        Ok(greeting)
    };
    greeting().is_ok_and(|g| &g == b"@RSYNCD:")
}

/// A real `rsync --daemon` serving one read-only module on loopback.
pub struct RsyncDaemon {
    child: Child,
    port: u16,
    workdir: PathBuf,
}

impl RsyncDaemon {
    /// Starts rsyncd serving `path` as `module`, with its files in `workdir`.
    pub fn start(path: &Path, module: &str, workdir: &Path) -> io::Result<Self> {
        fs::create_dir_all(workdir)?;
        fs::set_permissions(workdir, fs::Permissions::from_mode(0o755))?;
        let config = workdir.join("rsyncd.conf");
        anchorage_publication::rsyncd::write_config(
            &config,
            module,
            path,
            &workdir.join("rsyncd.log"),
            None,
        )?;
        let mut last_err = None;
        for _ in 0..5 {
            let port = free_port()?;
            let listen = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let mut child =
                anchorage_publication::rsyncd::command(Path::new("rsync"), &config, listen)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?;
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    write_wrapper(workdir, port)?;
                    return Ok(RsyncDaemon {
                        child,
                        port,
                        workdir: workdir.to_path_buf(),
                    });
                }
                if let Some(status) = child.try_wait()? {
                    last_err = Some(io::Error::other(format!("rsync --daemon exited: {status}")));
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        Err(last_err.unwrap_or_else(|| io::Error::other("rsync --daemon did not start")))
    }

    /// A handle for an rsync daemon started elsewhere (by `serve`): only
    /// the port wrapper, written to `workdir`. Dropping it stops nothing.
    pub fn wrapper_for_port(workdir: &Path, port: u16) -> io::Result<RsyncDaemon> {
        fs::create_dir_all(workdir)?;
        fs::set_permissions(workdir, fs::Permissions::from_mode(0o755))?;
        write_wrapper(workdir, port)?;
        // `true` exits at once; kill/wait on drop are harmless.
        let child = Command::new("true").spawn()?;
        Ok(RsyncDaemon {
            child,
            port,
            workdir: workdir.to_path_buf(),
        })
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A script that runs rsync against this daemon's port, for `-e` options.
    pub fn wrapper(&self) -> PathBuf {
        self.workdir.join("rsync-port")
    }
}

/// Writes `workdir/rsync-port`: rsync with `--port` added, for `-e` options.
fn write_wrapper(workdir: &Path, port: u16) -> io::Result<()> {
    let wrapper = workdir.join("rsync-port");
    fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec rsync --port={port} \"$@\"\n"),
    )?;
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755))
}

impl Drop for RsyncDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Looks up a user's uid and gid in /etc/passwd.
pub(crate) fn user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() > 3 && f[0] == name).then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

pub(crate) fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self is owned by the effective user.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// A directory the unprivileged rpki-client user can write. An existing
/// one is kept: a validator run on the same workdir again fetches only
/// what changed, as relying parties in the field do, which is what shows
/// whether changed files get new mtimes.
fn rp_dir(path: &Path, owner: Option<(u32, u32)>) -> io::Result<()> {
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    }
    Ok(())
}

/// Runs rpki-client over rsync from `tal` against `rsyncd`; `workdir` holds
/// its cache, kept between runs.
pub fn rpki_client(tal: &Path, rsyncd: &RsyncDaemon, workdir: &Path) -> io::Result<ValidatorRun> {
    rpki_client_at(tal, rsyncd, workdir, None)
}

/// Like [`rpki_client`], validating at `at` (seconds since the epoch,
/// set by `faketime`), to check the repository as it will look at a
/// future time.
pub fn rpki_client_at(
    tal: &Path,
    rsyncd: &RsyncDaemon,
    workdir: &Path,
    at: Option<i64>,
) -> io::Result<ValidatorRun> {
    let wrapper = rsyncd.wrapper();
    let fetch = [OsStr::new("-R"), OsStr::new("-e"), wrapper.as_os_str()];
    // Under faketime, rpki-client's parser process occasionally dies of
    // SIGSEGV (seen about once in ten runs, never without faketime). That
    // is no verdict on the repository: such a run is repeated, up to
    // three times. Any other complaint is returned as it is.
    let mut attempts = 0;
    loop {
        let run = run_rpki_client_at(tal, workdir, &fetch, at)?;
        attempts += 1;
        let crashed = at.is_some() && run.log.contains("terminated signal");
        if !crashed || attempts == 3 {
            return Ok(run);
        }
        tracing::warn!(
            attempts,
            "rpki-client crashed under faketime; running it again"
        );
    }
}

/// Where the validators that know the current ASPA profile are
/// installed (`scripts/install-oracles.sh`): Debian's bookworm-backports
/// rpki-client and StayRTR unpacked, and Routinator built by cargo.
pub const NEWER_ORACLES: &str = "/opt/anchorage-oracles";

/// The path of `program` among the [`NEWER_ORACLES`] (`usr/sbin`,
/// `usr/bin` or `bin` below it), if it is installed.
pub fn newer_oracle(program: &str) -> Option<PathBuf> {
    ["usr/sbin", "usr/bin", "bin"]
        .iter()
        .map(|d| Path::new(NEWER_ORACLES).join(d).join(program))
        .find(|p| p.is_file())
}

/// Runs the rpki-client at `program` over rsync from `tal` against
/// `rsyncd` (as [`rpki_client`] does Debian's), for a version that
/// validates ASPAs.
pub fn rpki_client_program(
    program: &Path,
    tal: &Path,
    rsyncd: &RsyncDaemon,
    workdir: &Path,
) -> io::Result<ValidatorRun> {
    let wrapper = rsyncd.wrapper();
    let fetch = [OsStr::new("-R"), OsStr::new("-e"), wrapper.as_os_str()];
    run_rpki_client_with(program.as_os_str(), tal, workdir, &fetch, None)
}

/// Runs Routinator (`program`) over rsync from `tal` against `rsyncd`
/// with ASPA validation on; `workdir` holds its cache. Its VRPs and
/// ASPAs come from its JSON output; every warning or error it logs is a
/// complaint.
pub fn routinator(
    program: &Path,
    tal: &Path,
    rsyncd: &RsyncDaemon,
    workdir: &Path,
) -> io::Result<ValidatorRun> {
    let tals = workdir.join("tals");
    fs::create_dir_all(&tals)?;
    // Routinator probes its rsync with `-h` alone, which the wrapper's
    // --port would make a usage error.
    let probe_safe = workdir.join("rsync");
    fs::write(
        &probe_safe,
        format!(
            "#!/bin/sh\n[ \"$#\" -eq 1 ] && [ \"$1\" = -h ] && exec rsync -h\nexec {} \"$@\"\n",
            rsyncd.wrapper().display()
        ),
    )?;
    fs::set_permissions(&probe_safe, fs::Permissions::from_mode(0o755))?;
    fs::copy(tal, tals.join("ta.tal"))?;
    // A configuration of its own: a user's ~/.routinator.conf is not read.
    let config = workdir.join("routinator.conf");
    fs::write(
        &config,
        format!(
            "repository-dir = {:?}\n",
            workdir.join("cache").display().to_string()
        ),
    )?;
    let output = Command::new(program)
        .arg("--config")
        .arg(&config)
        .arg("--no-rir-tals")
        .arg("--extra-tals-dir")
        .arg(&tals)
        .args([
            "--disable-rrdp",
            "--allow-dubious-hosts",
            "--enable-aspa",
            "--enable-bgpsec",
        ])
        .arg("--rsync-command")
        .arg(&probe_safe)
        .args(["--logfile", "-", "vrps", "--format", "json"])
        .stdin(Stdio::null())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut run = ValidatorRun {
        log: stderr.to_string(),
        ..Default::default()
    };
    if !output.status.success() {
        run.problems
            .push(format!("routinator exited with {}", output.status));
    }
    run.problems.extend(
        stderr
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            // Printed at every start, naming the configuration file.
            .filter(|l| !l.contains("Using config file"))
            .map(str::to_string),
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .map_err(|e| io::Error::other(format!("routinator json: {e}: {stdout}\n{stderr}")))?;
    let asn = |v: &serde_json::Value| -> u32 {
        v.as_str()
            .and_then(|s| s.strip_prefix("AS"))
            .and_then(|s| s.parse().ok())
            .or_else(|| v.as_u64().map(|n| n as u32))
            .unwrap_or(u32::MAX)
    };
    for roa in doc["roas"].as_array().into_iter().flatten() {
        let prefix = roa["prefix"].as_str().unwrap_or("?");
        let max = roa["maxLength"].as_u64().unwrap_or(0);
        run.vrps
            .insert(Vrp::new(asn(&roa["asn"]), prefix, max as u8));
    }
    for aspa in doc["aspas"].as_array().into_iter().flatten() {
        let providers = aspa["providers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(asn)
            .collect();
        run.aspas.insert((asn(&aspa["customer"]), providers));
    }
    for key in doc["routerKeys"].as_array().into_iter().flatten() {
        let ski = key["SKI"].as_str().unwrap_or("?").to_ascii_uppercase();
        let spki = rebase64(key["routerPublicKey"].as_str().unwrap_or("?"));
        run.router_keys.insert((asn(&key["asn"]), ski, spki));
    }
    Ok(run)
}

/// A key in any base64 alphabet, padded or not, in standard padded
/// base64 (as rpki-client writes it), to compare validators' outputs.
fn rebase64(text: &str) -> String {
    use base64::Engine as _;
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(text).ok())
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .unwrap_or_else(|| text.to_string())
}

/// Runs rpki-client with `-n`: no fetching, validating what an earlier
/// run left in `workdir`'s cache.
pub fn rpki_client_no_fetch(tal: &Path, workdir: &Path) -> io::Result<ValidatorRun> {
    run_rpki_client_at(tal, workdir, &[OsStr::new("-n")], None)
}

/// Runs rpki-client in its default mode (RRDP first) from `tal`, verbose
/// so its log tells snapshot from delta fetches; `workdir` holds its
/// cache, kept between runs. The HTTPS server's CA must be trusted by the
/// system.
pub fn rpki_client_rrdp(tal: &Path, workdir: &Path) -> io::Result<ValidatorRun> {
    run_rpki_client_at(tal, workdir, &[OsStr::new("-v")], None)
}

/// Removes the semaphores and segments libfaketime left in /dev/shm since
/// `since`. It creates them per process even with FAKETIME_DISABLE_SHM,
/// and rpki-client's workers (another user) cannot remove theirs; left
/// to pile up, they make a later process with a recycled PID fail.
fn remove_faketime_leftovers(since: std::time::SystemTime) {
    let Ok(entries) = fs::read_dir("/dev/shm") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with("sem.faketime_sem_") || name.starts_with("faketime_shm_");
        let recent = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= since);
        if ours && recent {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// The multi-threaded libfaketime of Debian's faketime package.
fn faketime_library() -> Option<PathBuf> {
    let lib = fs::read_dir("/usr/lib").ok()?.flatten().find_map(|arch| {
        let p = arch.path().join("faketime/libfaketimeMT.so.1");
        p.is_file().then_some(p)
    });
    lib.or_else(|| {
        let p = PathBuf::from("/usr/lib/faketime/libfaketimeMT.so.1");
        p.is_file().then_some(p)
    })
}

/// Whether an rpki-client line is one of the progress lines of `-v`.
fn is_progress(line: &str) -> bool {
    const PROGRESS: &[&str] = &[
        ": pulling from ",
        ": loaded from network",
        ": loaded from cache",
        ": downloading snapshot",
        ": notification file not modified",
        "all files parsed: generating output",
    ];
    PROGRESS.iter().any(|p| line.contains(p))
        || (line.contains(": downloading ") && line.ends_with(" deltas"))
}

fn run_rpki_client_at(
    tal: &Path,
    workdir: &Path,
    extra: &[&OsStr],
    at: Option<i64>,
) -> io::Result<ValidatorRun> {
    run_rpki_client_with(OsStr::new("rpki-client"), tal, workdir, extra, at)
}

fn run_rpki_client_with(
    program: &OsStr,
    tal: &Path,
    workdir: &Path,
    extra: &[&OsStr],
    at: Option<i64>,
) -> io::Result<ValidatorRun> {
    // Run as root, rpki-client drops to _rpki-client, which must be able
    // to write its cache and output directories and read the TAL.
    let owner = if is_root() {
        user_ids("_rpki-client")
    } else {
        None
    };
    fs::create_dir_all(workdir)?;
    fs::set_permissions(workdir, fs::Permissions::from_mode(0o755))?;
    let cache = workdir.join("cache");
    let out = workdir.join("out");
    rp_dir(&cache, owner)?;
    rp_dir(&out, owner)?;
    let tal_copy = workdir.join("ta.tal");
    fs::copy(tal, &tal_copy)?;
    fs::set_permissions(&tal_copy, fs::Permissions::from_mode(0o644))?;
    let mut cmd = Command::new(program);
    if let Some(t) = at {
        // libfaketime preloaded directly, without its shared memory: the
        // `faketime` wrapper leaves a semaphore and a segment in /dev/shm
        // per process (rpki-client's workers run as another user and
        // cannot remove them), and once PIDs repeat, sem_open fails.
        let lib = faketime_library()
            .ok_or_else(|| io::Error::other("libfaketime not found (apt-get install faketime)"))?;
        let start = chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0)
            .ok_or_else(|| io::Error::other("time out of range"))?;
        cmd.env("LD_PRELOAD", lib)
            .env("FAKETIME", start.format("@%Y-%m-%d %H:%M:%S").to_string())
            .env("FAKETIME_DISABLE_SHM", "1")
            .env("TZ", "UTC");
    }
    let started = std::time::SystemTime::now();
    let output = cmd
        .args(["-H", "127.0.0.1", "-c", "-j"])
        .args(extra)
        .arg("-t")
        .arg(&tal_copy)
        .arg("-d")
        .arg(&cache)
        .arg(&out)
        .stdin(Stdio::null())
        .output()?;
    if at.is_some() {
        remove_faketime_leftovers(started - std::time::Duration::from_secs(2));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut run = ValidatorRun {
        log: format!("{stdout}{stderr}"),
        ..Default::default()
    };
    if !output.status.success() {
        run.problems
            .push(format!("rpki-client exited with {}", output.status));
    }
    // Every line rpki-client prints on stderr is a complaint naming a
    // file, but for the progress lines its -v adds.
    run.problems.extend(
        stderr
            .lines()
            .filter(|l| l.starts_with("rpki-client:") && !is_progress(l))
            .map(str::to_string),
    );
    // No output at all is a complaint too, with the log to tell why.
    let doc: serde_json::Value = match fs::read_to_string(out.join("json")) {
        Ok(json) => serde_json::from_str(&json)
            .map_err(|e| io::Error::other(format!("rpki-client json: {e}")))?,
        Err(e) => {
            run.problems
                .push(format!("rpki-client wrote no JSON output ({e})"));
            return Ok(run);
        }
    };
    for key in [
        "failedroas",
        "invalidroas",
        "invalidcertificates",
        "invalidtals",
        "failedmanifests",
        "stalemanifests",
        "failedaspas",
        "invalidaspas",
    ] {
        let n = doc["metadata"][key].as_u64().unwrap_or(0);
        if n != 0 {
            run.problems
                .push(format!("rpki-client metadata: {key} = {n}"));
        }
    }
    for roa in doc["roas"].as_array().into_iter().flatten() {
        let asn = roa["asn"].as_u64().unwrap_or(u64::MAX);
        let prefix = roa["prefix"].as_str().unwrap_or("?");
        let max = roa["maxLength"].as_u64().unwrap_or(0);
        run.vrps.insert(Vrp::new(asn as u32, prefix, max as u8));
    }
    for key in doc["bgpsec_keys"].as_array().into_iter().flatten() {
        run.router_keys.insert((
            key["asn"].as_u64().unwrap_or(u64::MAX) as u32,
            key["ski"].as_str().unwrap_or("?").to_ascii_uppercase(),
            rebase64(key["pubkey"].as_str().unwrap_or("?")),
        ));
    }
    // rpki-client 9's shape; 8.2 wrote an older profile's, not read here.
    for aspa in doc["aspas"].as_array().into_iter().flatten() {
        let customer = aspa["customer_asid"].as_u64().unwrap_or(u64::MAX) as u32;
        let providers = aspa["providers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p.as_u64().unwrap_or(u64::MAX) as u32)
            .collect();
        run.aspas.insert((customer, providers));
    }
    Ok(run)
}

/// Runs FORT over rsync from `tal` against `rsyncd`; `workdir` holds its
/// cache, kept between runs.
pub fn fort(tal: &Path, rsyncd: &RsyncDaemon, workdir: &Path) -> io::Result<ValidatorRun> {
    fs::create_dir_all(workdir)?;
    let config = workdir.join("fort.json");
    fs::write(
        &config,
        format!(
            "{{ \"rsync\": {{ \"program\": \"{}\" }} }}",
            rsyncd.wrapper().display()
        ),
    )?;
    run_fort(
        tal,
        workdir,
        &[
            OsString::from("--http.enabled=false"),
            OsString::from(format!("--configuration-file={}", config.display())),
        ],
    )
}

/// Runs FORT over RRDP only (rsync disabled) from `tal`; `workdir` holds
/// its cache. The HTTPS server's CA must be trusted by the system.
pub fn fort_rrdp(tal: &Path, workdir: &Path) -> io::Result<ValidatorRun> {
    run_fort(tal, workdir, &[OsString::from("--rsync.enabled=false")])
}

fn run_fort(tal: &Path, workdir: &Path, extra: &[OsString]) -> io::Result<ValidatorRun> {
    fs::create_dir_all(workdir)?;
    let cache = workdir.join("cache");
    rp_dir(&cache, None)?;
    let csv = workdir.join("vrps.csv");
    let bgpsec = workdir.join("bgpsec.csv");
    let output = Command::new("fort")
        .arg("--mode=standalone")
        .arg(format!("--tal={}", tal.display()))
        .arg(format!("--local-repository={}", cache.display()))
        .args(extra)
        .arg(format!("--output.roa={}", csv.display()))
        .arg(format!("--output.bgpsec={}", bgpsec.display()))
        .arg("--validation-log.enabled=true")
        .arg("--validation-log.level=warning")
        .stdin(Stdio::null())
        .output()?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut run = ValidatorRun::default();
    if !output.status.success() {
        run.problems
            .push(format!("fort exited with {}", output.status));
    }
    run.problems.extend(
        log.lines()
            .filter(|l| l.contains("[Validation]") && (l.contains("WRN") || l.contains("ERR")))
            .map(str::to_string),
    );
    let text = fs::read_to_string(&csv)?;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 3 {
            continue;
        }
        let asn = f[0].trim_start_matches("AS").parse().unwrap_or(u32::MAX);
        let max = f[2].trim().parse().unwrap_or(0);
        run.vrps.insert(Vrp::new(asn, f[1], max));
    }
    // `AS64496,<SKI>,<SPKI>`, both in unpadded base64url.
    let keys = fs::read_to_string(&bgpsec)?;
    for line in keys.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 3 {
            continue;
        }
        use base64::Engine as _;
        let ski = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(f[1].trim())
            .map(hex::encode_upper)
            .unwrap_or_else(|_| f[1].to_string());
        let asn = f[0].trim_start_matches("AS").parse().unwrap_or(u32::MAX);
        run.router_keys.insert((asn, ski, rebase64(f[2].trim())));
    }
    run.log = format!("{log}\n{}:\n{keys}", bgpsec.display());
    Ok(run)
}

/// A SoftHSM2 token of its own (`softhsm2-util --init-token` in a
/// temporary token directory), for the PKCS#11 tests and the benchmark:
/// the environment that points Anchorage at it.
#[derive(Debug)]
pub struct SoftHsm {
    /// The SoftHSM2 configuration file (`SOFTHSM2_CONF`).
    pub conf: PathBuf,
    /// The token directory.
    pub tokens: PathBuf,
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub label: String,
    /// A file holding the user PIN.
    pub pin_file: PathBuf,
}

impl SoftHsm {
    /// The SoftHSM2 module, where Debian and others install it.
    pub fn module() -> Option<PathBuf> {
        [
            "/usr/lib/softhsm/libsofthsm2.so",
            "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
            "/usr/local/lib/softhsm/libsofthsm2.so",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    }

    /// Initialises a token labelled `anchorage` under `workdir`.
    pub fn init(workdir: &Path) -> io::Result<SoftHsm> {
        let module = Self::module().ok_or_else(|| {
            io::Error::other("SoftHSM2 is not installed (apt-get install softhsm2)")
        })?;
        let tokens = workdir.join("tokens");
        fs::create_dir_all(&tokens)?;
        let conf = workdir.join("softhsm2.conf");
        fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )?;
        let pin = "anchorage-pin-1234";
        let pin_file = workdir.join("pin");
        fs::write(&pin_file, pin)?;
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", "anchorage"])
            .args(["--so-pin", "so-pin-5678", "--pin", pin])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "softhsm2-util --init-token: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(SoftHsm {
            conf,
            tokens,
            module,
            label: "anchorage".into(),
            pin_file,
        })
    }

    /// The environment that makes Anchorage keep its keys in this token.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".into(), self.conf.display().to_string()),
            (
                "ANCHORAGE_PKCS11_MODULE".into(),
                self.module.display().to_string(),
            ),
            ("ANCHORAGE_PKCS11_TOKEN".into(), self.label.clone()),
            (
                "ANCHORAGE_PKCS11_PIN_FILE".into(),
                self.pin_file.display().to_string(),
            ),
        ]
    }
}
