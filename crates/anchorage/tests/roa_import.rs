//! `anchorage roa import`: 10,000 ROA payloads from a CSV file, all or
//! nothing. A bad line refuses the whole file, naming the line, and
//! changes nothing; fixed, the file is imported in one publication that
//! rpki-client validates; `--dry-run` and `--replace` do as they say.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::fs;

use anchorage_testkit::{self as oracle, Vrp};
use common::{Cli, assert_accepted, require};

/// 10,000 payloads in rpki-client's CSV shape: /24s of 10.0.0.0/10 for
/// 100 origin ASes, one line (the `bad`th, counting the header as line
/// 1) replaced by `bad_line` if given.
fn csv(bad: Option<(usize, &str)>) -> (String, BTreeSet<Vrp>) {
    let mut text = String::from("ASN,IP Prefix,Max Length,Trust Anchor,Expires\n");
    let mut expected = BTreeSet::new();
    for i in 0..10_000u32 {
        let line = i as usize + 2;
        let asn = 64500 + i % 100;
        let prefix = format!("10.{}.{}.0/24", i / 250, i % 250);
        match bad {
            Some((n, bad_line)) if n == line => writeln!(text, "{bad_line}").unwrap(),
            _ => writeln!(text, "AS{asn},{prefix},24,elsewhere,1767225600").unwrap(),
        }
        expected.insert(Vrp::new(asn, &prefix, 24));
    }
    (text, expected)
}

fn roa_count(cli: &Cli) -> usize {
    let out = cli.ok(&["roa", "list", "m1", "--format", "json"]);
    serde_json::from_str::<serde_json::Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

/// Runs `roa import m1 --file FILE` with `extra` options.
fn import(cli: &Cli, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["roa", "import", "m1", "--file", file.to_str().unwrap()];
    args.extend(extra);
    cli.run(&args)
}

/// [`import`], which must succeed; returns its standard output.
fn imported(cli: &Cli, file: &std::path::Path, extra: &[&str]) -> String {
    let out = import(cli, file, extra);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn ten_thousand_payloads_import_whole_or_not_at_all() {
    require("rpki-client");
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64500-AS64599, 10.0.0.0/10");
    let file = tmp.path().join("roas.csv");
    let manifest = || {
        let dir = cli.tree().join("m1");
        let mft = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "mft"))
            .unwrap();
        fs::read(mft).unwrap()
    };
    let before = manifest();

    // A malformed prefix on line 5,001, and a payload outside the CA's
    // resources on line 7,001: each refuses the whole file, by line.
    for (line, bad, says) in [
        (5_001, "AS64500,10.300.0.0/24,24,elsewhere,0", "line 5001"),
        (7_001, "AS64500,192.0.2.0/24,24,elsewhere,0", "line 7001"),
    ] {
        let (text, _) = csv(Some((line, bad)));
        fs::write(&file, text).unwrap();
        let out = import(&cli, &file, &[]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "a bad line was accepted");
        assert!(err.contains(says), "{says} not named: {err}");
        assert_eq!(roa_count(&cli), 0, "something was imported");
        assert_eq!(manifest(), before, "something was published");
    }

    // Fixed: a dry run says what would change, and changes nothing.
    let (text, expected) = csv(None);
    fs::write(&file, text).unwrap();
    let out = imported(&cli, &file, &["--dry-run"]);
    assert!(out.contains("would add 10000, remove 0"), "{out}");
    assert_eq!(roa_count(&cli), 0);
    assert_eq!(manifest(), before);

    // Imported, and validated by rpki-client.
    let out = imported(&cli, &file, &[]);
    assert!(out.contains("added 10000, removed 0"), "{out}");
    assert_eq!(roa_count(&cli), 10_000);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let run = oracle::rpki_client(&cli.tal(), &rsyncd, &tmp.path().join("rp")).unwrap();
    assert_accepted("rpki-client", &run, &expected);

    // Imported again: nothing new. With --replace, a shorter file is the
    // CA's whole list.
    let out = imported(&cli, &file, &[]);
    assert!(
        out.contains("added 0, removed 0, 10000 already present"),
        "{out}"
    );
    fs::write(
        &file,
        "64500,10.0.0.0/24,24\n64502,10.0.1.0/24\n64502,10.0.1.0/24\n",
    )
    .unwrap();
    let out = imported(&cli, &file, &["--replace"]);
    assert!(
        out.contains("added 1, removed 9999, 1 already present")
            && out.contains("1 lines repeated a payload"),
        "{out}"
    );
    assert_eq!(roa_count(&cli), 2);

    // A file with a header and nothing else (a failed export) is refused,
    // --replace or not: it would have removed every ROA.
    fs::write(&file, "ASN,IP Prefix,Max Length,Trust Anchor,Expires\n").unwrap();
    let out = import(&cli, &file, &["--replace"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no ROA payloads"));
    assert_eq!(roa_count(&cli), 2);
}
