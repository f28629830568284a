//! What the Debian package installs beside the binary stays true to it:
//! the committed man pages and completions are what the command line
//! generates now, and the commented configuration file names only options
//! `serve` knows. (The package itself is built, installed, started from
//! its unit and purged by scripts/package-test.sh, run by CI as root.)

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

const STALE: &str = "stale: run scripts/package-assets.sh and commit the result";

#[test]
fn the_committed_man_pages_are_what_the_command_line_generates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(common::bin())
        .arg("manpages")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now = files(tmp.path());
    let committed = files(&packaging().join("man"));
    assert_eq!(
        now.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "man pages {STALE}"
    );
    for (name, bytes) in &now {
        assert!(committed[name] == *bytes, "{name} {STALE}");
    }
    // One page per command, subcommands included.
    for page in [
        "anchorage.1",
        "anchorage-serve.1",
        "anchorage-roa-import.1",
        "anchorage-backup.1",
    ] {
        assert!(now.contains_key(page), "no {page}");
    }
}

#[test]
fn the_committed_completions_are_what_the_command_line_generates() {
    for (shell, file) in [
        ("bash", "anchorage.bash"),
        ("zsh", "_anchorage"),
        ("fish", "anchorage.fish"),
    ] {
        let out = Command::new(common::bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let committed = std::fs::read(packaging().join("completions").join(file)).unwrap();
        assert!(committed == out.stdout, "{file} {STALE}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("roa"));
    }
    let out = Command::new(common::bin())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown shell is refused");
}

#[test]
fn the_packaged_configuration_names_only_options_serve_knows() {
    let text = std::fs::read_to_string(packaging().join("anchorage.toml")).unwrap();
    // Every commented option, uncommented: serve refuses unknown keys.
    let options: String = text
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter(|l| l.contains(" = ") && !l.starts_with(' '))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(options.lines().count() > 30, "{options}");
    let config: anchorage::config::Config =
        toml::from_str(&options).unwrap_or_else(|e| panic!("{e}\n{options}"));
    assert_eq!(
        config.http_listen.unwrap().to_string(),
        anchorage::config::DEFAULT_HTTP_LISTEN
    );
    assert_eq!(
        config.rsync_listen.unwrap().to_string(),
        anchorage::config::DEFAULT_RSYNC_LISTEN
    );
    let unit = std::fs::read_to_string(packaging().join("anchorage.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/anchorage serve --config /etc/anchorage/anchorage.toml")
    );
}
