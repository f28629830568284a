//! Helpers for tests that run the real `anchorage` binary.
#![allow(dead_code)]

pub mod api;
pub mod der;
pub mod external;
pub mod faults;
pub mod tls;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anchorage_testkit::{self as oracle, RsyncDaemon, ValidatorRun, Vrp};

/// A BGPsec router's certificate request (RFC 8209), PEM, for a new key
/// of `alg`; its SubjectPublicKeyInfo in base64.
pub fn router_request(alg: &'static rcgen::SignatureAlgorithm) -> (String, String) {
    use base64::Engine as _;
    let key = rcgen::KeyPair::generate_for(alg).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::Other(vec![
        1, 3, 6, 1, 5, 5, 7, 3, 30,
    ])];
    let csr = params.serialize_request(&key).unwrap();
    let spki = base64::engine::general_purpose::STANDARD
        .encode(rcgen::PublicKeyData::subject_public_key_info(&key));
    (csr.pem().unwrap(), spki)
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_anchorage")
}

/// A data directory driven through the command line.
pub struct Cli {
    pub dir: PathBuf,
}

/// A fresh PostgreSQL database when `ANCHORAGE_TEST_DATABASE=postgres`:
/// one server per test process, kept until it exits.
fn test_database() -> Option<String> {
    use std::sync::{Mutex, OnceLock};
    if std::env::var("ANCHORAGE_TEST_DATABASE").as_deref() != Ok("postgres") {
        return None;
    }
    type Server = (anchorage_testkit::postgres::PostgresServer, u32);
    static SERVER: OnceLock<Mutex<Server>> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        // The server outlives every test of the process, and is stopped
        // (its directory removed) once the process has exited.
        let dir = tempfile::tempdir().unwrap().keep();
        let server = anchorage_testkit::postgres::PostgresServer::start(&dir).unwrap();
        server.stop_after_this_process(&dir).unwrap();
        Mutex::new((server, 0))
    });
    let mut guard = server.lock().unwrap_or_else(|p| p.into_inner());
    guard.1 += 1;
    let name = format!("test{}", guard.1);
    Some(guard.0.create_database(&name).unwrap())
}

impl Cli {
    /// Runs `anchorage init` in `dir` for rsync://127.0.0.1/repo/.
    pub fn init(dir: &Path) -> Cli {
        Self::init_with(dir, "https://127.0.0.1/rrdp/", &[])
    }

    /// Runs `anchorage init` with this RRDP URI and extra options.
    pub fn init_with(dir: &Path, rrdp_uri: &str, extra: &[&str]) -> Cli {
        Self::init_at(dir, "rsync://127.0.0.1/repo/", rrdp_uri, extra)
    }

    /// Runs `anchorage init` with these URIs and extra options. With
    /// `ANCHORAGE_TEST_DATABASE=postgres` in the environment, the store
    /// is a database of a PostgreSQL server started for the test process
    /// (for running a suite on PostgreSQL by hand; tests that read
    /// `anchorage.db` directly need SQLite).
    pub fn init_at(dir: &Path, rsync_uri: &str, rrdp_uri: &str, extra: &[&str]) -> Cli {
        let cli = Cli {
            dir: dir.to_path_buf(),
        };
        let mut args = vec!["init", "--rsync-uri", rsync_uri, "--rrdp-uri", rrdp_uri];
        args.extend(extra);
        let url = test_database();
        if let Some(url) = &url
            && !extra.contains(&"--database")
        {
            args.extend(["--database", url.as_str()]);
        }
        cli.ok(&args);
        cli
    }

    /// Runs the binary with `args` on this data dir.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(&[], args)
    }

    /// Runs with one extra environment variable (failure injection).
    pub fn run_env(&self, var: &str, value: &str, args: &[&str]) -> Output {
        self.run_with(&[(var, value)], args)
    }

    /// Runs with these environment variables; the key custody ones the
    /// test's own environment might hold are cleared unless given.
    pub fn run_with(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = Command::new(bin());
        cmd.arg("--data-dir").arg(&self.dir).args(args);
        for var in [
            "ANCHORAGE_KEY_PASSPHRASE_FILE",
            "ANCHORAGE_KEY_PASSPHRASE",
            "ANCHORAGE_KEY_FILE",
            "ANCHORAGE_PKCS11_MODULE",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        cmd.output().expect("run anchorage")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_with(&[], args)
    }

    /// [`Self::ok`] with environment variables.
    pub fn ok_with(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = self.run_with(env, args);
        assert!(
            out.status.success(),
            "anchorage {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        self.fails_with(&[], args)
    }

    /// [`Self::fails`] with environment variables.
    pub fn fails_with(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = self.run_with(env, args);
        assert!(
            !out.status.success(),
            "anchorage {args:?} should have failed but printed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 output")
    }

    /// `anchorage init` with the tests' URIs and these environment
    /// variables (a key secret, a token).
    pub fn init_env(dir: &Path, env: &[(&str, &str)]) -> Cli {
        let cli = Cli {
            dir: dir.to_path_buf(),
        };
        cli.ok_with(
            env,
            &[
                "init",
                "--rsync-uri",
                "rsync://127.0.0.1/repo/",
                "--rrdp-uri",
                "https://127.0.0.1/rrdp/",
            ],
        );
        cli
    }

    /// `ca create HANDLE [--parent PARENT] --resources RESOURCES`, expecting success.
    pub fn ca_create(&self, handle: &str, parent: Option<&str>, resources: &str) -> String {
        let mut args = vec!["ca", "create", handle, "--resources", resources];
        if let Some(parent) = parent {
            args.extend(["--parent", parent]);
        }
        self.ok(&args)
    }

    /// `roa add HANDLE --asn ASN --prefix PREFIX`, expecting success.
    pub fn roa_add(&self, handle: &str, asn: u32, prefix: &str) -> String {
        self.ok(&[
            "roa",
            "add",
            handle,
            "--asn",
            &asn.to_string(),
            "--prefix",
            prefix,
        ])
    }

    /// Runs with `--format json` appended and parses the output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&a)).expect("json output")
    }

    /// `DIR/rsync/current`.
    pub fn tree(&self) -> PathBuf {
        self.dir.join("rsync/current")
    }

    /// `DIR/ta.tal`.
    pub fn tal(&self) -> PathBuf {
        self.dir.join("ta.tal")
    }

    /// Starts rsyncd serving the tree as module `repo`.
    pub fn serve(&self, work: &Path) -> RsyncDaemon {
        require("rsync");
        RsyncDaemon::start(&self.tree(), "repo", work).expect("start rsync --daemon")
    }

    /// The key id of a CA.
    pub fn key_id(&self, handle: &str) -> String {
        self.json(&["ca", "show", handle])["key_id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// Fails the test when a tool the README's test command installs is missing.
pub fn require(program: &str) {
    assert!(
        oracle::find_program(program).is_some(),
        "{program} is not installed; run scripts/test.sh, which installs it"
    );
}

/// Every file of a data directory (symlinks as their target), except
/// SQLite's transient -wal/-shm files.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with("-wal") || name.ends_with("-shm") {
                continue;
            }
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(path, target.to_string_lossy().as_bytes().to_vec());
            } else if meta.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// What a data directory publishes: the files of the rsync tree `current`
/// points to (by their path under `rsync/current`), and the RRDP
/// notification file with the snapshot and deltas it lists.
///
/// Superseded trees and unlisted RRDP files are left out: serve prunes
/// them on its own timers, which is not a change a client can see.
pub fn published(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let link = dir.join("rsync/current");
    let mut out = BTreeMap::new();
    if let Ok(target) = fs::read_link(&link) {
        // Walk the tree the link named when we looked, not whatever it
        // names after a swap in the middle of the walk.
        let tree = dir.join("rsync").join(target);
        for (path, bytes) in snapshot(&tree) {
            out.insert(link.join(path.strip_prefix(&tree).unwrap()), bytes);
        }
    }
    let notification = dir.join("rrdp/notification.xml");
    if let Ok(bytes) = fs::read(&notification) {
        let text = String::from_utf8_lossy(&bytes).to_string();
        for uri in text.split("uri=\"").skip(1) {
            let uri = uri.split('"').next().unwrap();
            // https://HOST/rrdp/SESSION/SERIAL/RANDOM/FILE
            let parts: Vec<&str> = uri.rsplitn(5, '/').collect();
            let rel: PathBuf = parts[..4].iter().rev().collect();
            let path = dir.join("rrdp").join(rel);
            let bytes = fs::read(&path).unwrap_or_else(|_| b"<listed but missing>".to_vec());
            out.insert(path, bytes);
        }
        out.insert(notification, bytes);
    }
    out
}

/// Builds a VRP set from (asn, prefix, maxLength) triples.
pub fn vrps(list: &[(u32, &str, u8)]) -> std::collections::BTreeSet<Vrp> {
    list.iter().map(|(a, p, m)| Vrp::new(*a, p, *m)).collect()
}

/// Asserts a validator run derived exactly `expected` without complaint.
pub fn assert_accepted(name: &str, run: &ValidatorRun, expected: &std::collections::BTreeSet<Vrp>) {
    assert!(
        run.problems.is_empty(),
        "{name} complained: {:#?}\n{}",
        run.problems,
        run.log
    );
    assert_eq!(&run.vrps, expected, "{name} VRPs differ\n{}", run.log);
}

/// Runs `anchorage validate` (the bundled validator) over rsync.
pub fn anchorage_validate(cli: &Cli, rsyncd: &RsyncDaemon, work: &Path) -> ValidatorRun {
    anchorage_validate_tal(&cli.tal(), rsyncd, work).0
}

/// Runs `anchorage validate` from `tal` over rsync; returns its VRPs and
/// rejections and the JSON output's metadata.
pub fn anchorage_validate_tal(
    tal: &Path,
    rsyncd: &RsyncDaemon,
    work: &Path,
) -> (ValidatorRun, serde_json::Value) {
    validate_tal_with(tal, &work.join("anchorage-validate"), &over_rsync(rsyncd))
}

/// Runs `anchorage validate` with `extra` arguments and cache `cache`;
/// returns its VRPs and rejections and the JSON output's metadata.
pub fn anchorage_validate_with(
    cli: &Cli,
    cache: &Path,
    extra: &[std::ffi::OsString],
) -> (ValidatorRun, serde_json::Value) {
    validate_tal_with(&cli.tal(), cache, extra)
}

/// Runs `anchorage validate --format json` from `tal` with cache `cache`
/// and `extra` arguments, expecting success; returns its whole document
/// and its standard error.
pub fn validate_json(
    tal: &Path,
    cache: &Path,
    extra: &[std::ffi::OsString],
) -> (serde_json::Value, String) {
    let out = Command::new(bin())
        .args(["validate", "--format", "json", "--tal"])
        .arg(tal)
        .arg("--cache")
        .arg(cache)
        .args(extra)
        .output()
        .expect("run anchorage validate");
    let log = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "anchorage validate failed: {log}");
    let doc = serde_json::from_slice(&out.stdout).expect("json output");
    (doc, log)
}

/// The arguments that make `anchorage validate` fetch over rsync only,
/// through `rsyncd`'s wrapper.
pub fn over_rsync(rsyncd: &RsyncDaemon) -> Vec<std::ffi::OsString> {
    vec![
        "--rsync-only".into(),
        "--rsync-program".into(),
        rsyncd.wrapper().into(),
    ]
}

/// [`anchorage_validate_with`] from any TAL.
fn validate_tal_with(
    tal: &Path,
    cache: &Path,
    extra: &[std::ffi::OsString],
) -> (ValidatorRun, serde_json::Value) {
    let (doc, log) = validate_json(tal, cache, extra);
    let mut run = ValidatorRun {
        log,
        ..Default::default()
    };
    for r in doc["rejected"].as_array().into_iter().flatten() {
        run.problems.push(format!("{}: {}", r["uri"], r["reason"]));
    }
    run.vrps = json_vrps(&doc);
    (run, doc["metadata"].clone())
}

/// The VRPs of a document in rpki-client's JSON shape (`roas` with
/// `asn`, `prefix`, `maxLength`), as `validate` and `/json` write it.
pub fn json_vrps(doc: &serde_json::Value) -> std::collections::BTreeSet<Vrp> {
    doc["roas"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            Vrp::new(
                r["asn"].as_u64().unwrap() as u32,
                r["prefix"].as_str().unwrap(),
                r["maxLength"].as_u64().unwrap() as u8,
            )
        })
        .collect()
}

/// The ASPAs of a document in rpki-client's JSON shape (`aspas` with
/// `customer_asid` and `providers`), as `validate` and `/json` write it.
pub fn json_aspas(doc: &serde_json::Value) -> std::collections::BTreeSet<(u32, Vec<u32>)> {
    doc["aspas"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let providers = a["providers"].as_array().unwrap();
            (
                a["customer_asid"].as_u64().unwrap() as u32,
                providers
                    .iter()
                    .map(|p| p.as_u64().unwrap() as u32)
                    .collect(),
            )
        })
        .collect()
}

/// Runs rpki-client, FORT and the bundled validator on the served tree
/// and checks all three.
pub fn validate_everywhere(
    cli: &Cli,
    rsyncd: &RsyncDaemon,
    work: &Path,
    expected: &std::collections::BTreeSet<Vrp>,
) {
    validate_everywhere_from(&cli.tal(), rsyncd, work, expected);
}

/// [`validate_everywhere`] from any TAL; returns rpki-client's run and the
/// bundled validator's metadata, for more checks.
pub fn validate_everywhere_from(
    tal: &Path,
    rsyncd: &RsyncDaemon,
    work: &Path,
    expected: &std::collections::BTreeSet<Vrp>,
) -> (ValidatorRun, serde_json::Value) {
    require("rpki-client");
    let client = oracle::rpki_client(tal, rsyncd, &work.join("rpki-client")).unwrap();
    assert_accepted("rpki-client", &client, expected);
    require("fort");
    let run = oracle::fort(tal, rsyncd, &work.join("fort")).unwrap();
    assert_accepted("FORT", &run, expected);
    let (run, metadata) = anchorage_validate_tal(tal, rsyncd, work);
    assert_accepted("anchorage validate", &run, expected);
    (client, metadata)
}

/// Reads a file as `Bytes`, for the `rpki` crate's decoders.
pub fn read(path: impl AsRef<Path>) -> bytes::Bytes {
    bytes::Bytes::from(fs::read(path.as_ref()).unwrap())
}

/// Runs `anchorage --now T ARGS` (an injected clock), expecting success.
pub fn ok_at(cli: &Cli, t: chrono::DateTime<chrono::Utc>, args: &[&str]) -> String {
    let now = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut all = vec!["--now", now.as_str()];
    all.extend(args);
    cli.ok(&all)
}

/// Runs `anchorage --now T ARGS`, expecting failure; returns stderr.
pub fn fails_at(cli: &Cli, t: chrono::DateTime<chrono::Utc>, args: &[&str]) -> String {
    let now = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut all = vec!["--now", now.as_str()];
    all.extend(args);
    cli.fails(&all)
}

/// Manifest numbers of every manifest in the tree, by file.
pub fn manifest_numbers(cli: &Cli) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for dir in fs::read_dir(cli.tree()).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "mft") {
                let mft =
                    rpki::repository::Manifest::decode(read(&f), true).expect("manifest decodes");
                let n: u64 = mft.content().manifest_number().to_string().parse().unwrap();
                out.insert(f.file_name().unwrap().to_string_lossy().into_owned(), n);
            }
        }
    }
    out
}

/// Waits until `done`, failing the test after `secs` seconds.
pub fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
