//! The command line contract: bad input is refused with a one-line error
//! naming the value and the rule, a non-zero exit, and not a byte changed
//! in the store, the keys or the published tree; repeated additions are
//! no-ops; mtimes change exactly for changed files.

mod common;

use std::fs;
use std::time::UNIX_EPOCH;

use common::{Cli, snapshot};

fn setup(dir: &std::path::Path) -> Cli {
    let cli = Cli::init(dir);
    cli.ca_create("nir", None, "AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32");
    cli.ca_create("lir", Some("nir"), "AS64500, 192.0.2.0/25, 2001:db8:1::/48");
    cli.roa_add("lir", 64500, "192.0.2.0/25");
    cli
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(&tmp.path().join("data"));
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                "10.0.0.0/8",
            ],
            "10.0.0.0/8 is not within the resources of CA 'lir'",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                "192.0.2.0/25",
                "--max-length",
                "24",
            ],
            "maxLength 24 for 192.0.2.0/25",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                "192.0.2.0/25",
                "--max-length",
                "33",
            ],
            "maxLength 33",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                "2001:db8:1::/48",
                "--max-length",
                "129",
            ],
            "maxLength 129",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "4294967296",
                "--prefix",
                "192.0.2.0/25",
            ],
            "4294967296",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "ASx",
                "--prefix",
                "192.0.2.0/25",
            ],
            "not an AS number",
        ),
        (
            &[
                "roa",
                "add",
                "lir",
                "--asn",
                "64500",
                "--prefix",
                "192.0.2.1/25",
            ],
            "host bits",
        ),
        (
            &[
                "roa",
                "add",
                "ghost",
                "--asn",
                "64500",
                "--prefix",
                "192.0.2.0/25",
            ],
            "unknown CA 'ghost'",
        ),
        (
            &[
                "roa",
                "add",
                "ta",
                "--asn",
                "64500",
                "--prefix",
                "192.0.2.0/25",
            ],
            "trust anchor",
        ),
        (
            &[
                "roa",
                "remove",
                "lir",
                "--asn",
                "64501",
                "--prefix",
                "192.0.2.0/25",
            ],
            "has no ROA for AS64501",
        ),
        (&["roa", "list", "ghost"], "unknown CA 'ghost'"),
        (
            &["ca", "create", "x", "--resources", "AS64496,,192.0.2.0/24"],
            "empty item",
        ),
        (
            &["ca", "create", "x", "--resources", "banana"],
            "invalid resource 'banana'",
        ),
        (
            &["ca", "create", "x", "--resources", "AS70000-AS1"],
            "after its end",
        ),
        (
            &[
                "ca",
                "create",
                "x",
                "--parent",
                "nir",
                "--resources",
                "10.0.0.0/8",
            ],
            "10.0.0.0/8 requested for CA 'x' are not held by its parent 'nir'",
        ),
        (
            &[
                "ca",
                "create",
                "x",
                "--parent",
                "lir",
                "--resources",
                "192.0.2.0/24",
            ],
            "192.0.2.128/25",
        ),
        (
            &["ca", "create", "nir", "--resources", "192.0.2.0/24"],
            "already exists",
        ),
        (
            &[
                "ca",
                "create",
                "x",
                "--parent",
                "ghost",
                "--resources",
                "192.0.2.0/24",
            ],
            "unknown CA 'ghost'",
        ),
        (
            &[
                "ca",
                "create",
                "x",
                "--parent",
                "ta",
                "--resources",
                "192.0.2.0/24",
            ],
            "trust anchor only certifies",
        ),
        (
            &["ca", "create", "bad/handle", "--resources", "192.0.2.0/24"],
            "invalid CA handle 'bad/handle'",
        ),
        (
            &["ca", "create", "ta", "--resources", "192.0.2.0/24"],
            "reserved",
        ),
        (&["ca", "show", "ghost"], "unknown CA 'ghost'"),
        (&["ca", "delete", "nir"], "delete its child CAs first: lir"),
        (&["ca", "delete", "online"], "cannot be deleted"),
        (&["ca", "delete", "ghost"], "unknown CA 'ghost'"),
        (
            &[
                "init",
                "--rsync-uri",
                "rsync://127.0.0.1/repo/",
                "--rrdp-uri",
                "https://127.0.0.1/rrdp/",
            ],
            "already exists",
        ),
    ];
    for (args, needle) in cases {
        let before = snapshot(&cli.dir);
        let stderr = cli.fails(args);
        let first = stderr.lines().next().unwrap_or("");
        assert!(first.starts_with("error:"), "{args:?}: {stderr}");
        assert!(
            first.contains(needle),
            "{args:?}: expected {needle:?} in {first:?}"
        );
        let after = snapshot(&cli.dir);
        assert!(before == after, "{args:?} changed files in the data dir");
    }
}

#[test]
fn init_refuses_bad_uris_and_missing_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli {
        dir: tmp.path().join("d"),
    };
    let err = cli.fails(&[
        "init",
        "--rsync-uri",
        "https://x/",
        "--rrdp-uri",
        "https://x/rrdp/",
    ]);
    assert!(err.contains("--rsync-uri 'https://x/'"), "{err}");
    let err = cli.fails(&[
        "init",
        "--rsync-uri",
        "rsync://x/repo",
        "--rrdp-uri",
        "https://x/rrdp/",
    ]);
    assert!(err.contains("trailing slash"), "{err}");
    assert!(!cli.dir.exists(), "nothing created on bad input");
    let out = std::process::Command::new(common::bin())
        .args(["ca", "list"])
        .env_remove("ANCHORAGE_DATA_DIR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data-dir"));
}

#[test]
fn data_dir_from_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(&tmp.path().join("data"));
    let out = std::process::Command::new(common::bin())
        .args(["roa", "list", "lir", "--format", "json"])
        .env("ANCHORAGE_DATA_DIR", &cli.dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"asn": 64500, "prefix": "192.0.2.0/25", "max_length": 25}])
    );
}

#[test]
fn adding_an_existing_roa_is_a_no_op() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(&tmp.path().join("data"));
    let before = snapshot(&cli.dir);
    // The same authorisation, with maxLength given explicitly this time.
    let out = cli.ok(&[
        "roa",
        "add",
        "lir",
        "--asn",
        "AS64500",
        "--prefix",
        "192.0.2.0/25",
        "--max-length",
        "25",
    ]);
    assert!(out.contains("already present"), "{out}");
    assert!(before == snapshot(&cli.dir), "a no-op changed files");
}

fn mtimes(cli: &Cli) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for dir in ["", "ta", "online", "nir", "lir"] {
        for e in fs::read_dir(cli.tree().join(dir)).unwrap() {
            let e = e.unwrap();
            if e.path().is_file() {
                let m = e.metadata().unwrap().modified().unwrap();
                out.insert(
                    format!("{dir}/{}", e.file_name().to_string_lossy()),
                    m.duration_since(UNIX_EPOCH).unwrap().as_secs(),
                );
            }
        }
    }
    out
}

#[test]
fn changed_files_get_new_mtimes_and_unchanged_keep_theirs() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(&tmp.path().join("data"));
    let before = mtimes(&cli);
    let contents = snapshot(&cli.tree());
    // Twice within the same second: each version still gets a new mtime.
    cli.roa_add("lir", 64500, "2001:db8:1::/48");
    let middle = mtimes(&cli);
    cli.roa_add("lir", 64500, "192.0.2.0/26");
    let after = mtimes(&cli);
    let lir = cli.key_id("lir");
    for name in [
        "lir/AS64500.roa".to_string(),
        format!("lir/{lir}.mft"),
        format!("lir/{lir}.crl"),
    ] {
        assert!(
            middle[&name] > before[&name],
            "{name} changed but kept its mtime"
        );
        assert!(
            after[&name] > middle[&name],
            "{name} changed again but kept its mtime"
        );
    }
    for (name, t) in &before {
        if !name.starts_with("lir/") {
            assert_eq!(after[name], *t, "{name} did not change but got a new mtime");
        }
    }
    let now = snapshot(&cli.tree());
    assert_eq!(contents.len(), now.len());
}

/// The data directory and the store are private to their owner (a copy
/// of them can sign); a command warns when that was loosened.
#[test]
fn the_data_directory_is_private_and_loosening_it_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let cli = setup(tmp.path());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cli.dir), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let file = cli.dir.join(format!("anchorage.db{suffix}"));
        if file.exists() {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
    let quiet = cli.run(&["ca", "list"]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("readable by others"));
    std::fs::set_permissions(&cli.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let warned = cli.run(&["ca", "list"]);
    assert!(warned.status.success());
    let stderr = String::from_utf8_lossy(&warned.stderr);
    assert!(stderr.contains("readable by others"), "{stderr}");
    // Handles that would read as options are refused at creation.
    let err = cli.fails(&["ca", "create", "--resources", "AS64511", "--", "-x"]);
    assert!(err.contains("invalid CA handle"), "{err}");
}

/// `--log-format json` (or `ANCHORAGE_LOG_FORMAT=json`) writes every log
/// line as one JSON object with its level, target and fields; a format
/// that does not exist is refused.
#[test]
fn log_lines_can_be_json_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    for (env, flag) in [
        (None, true),
        (Some(("ANCHORAGE_LOG_FORMAT", "json")), false),
    ] {
        let mut args = vec!["--log", "info"];
        if flag {
            args.extend(["--log-format", "json"]);
        }
        args.push("publish");
        let out = cli.run_with(env.as_slice(), &args);
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert!(!lines.is_empty(), "no log line at info");
        for line in lines {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            assert!(v["level"].is_string() && v["target"].is_string(), "{line}");
            assert!(v["fields"]["message"].is_string(), "{line}");
        }
    }
    let out = cli.run(&["--log-format", "xml", "publish"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("xml"));
}

/// With `--log-format json`, a command's failure is a JSON log line too.
#[test]
fn a_failure_is_a_json_line_in_json_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    let out = cli.run(&["--log-format", "json", "roa", "list", "nosuch"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|v| v["level"] == "ERROR"
            && v["fields"]["message"] == "command failed"
            && v["fields"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("nosuch"))),
        "{err}"
    );
}
