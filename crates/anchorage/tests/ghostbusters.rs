//! A CA's contact, published as its Ghostbusters record (RFC 6493): set
//! from a vCard file, accepted by rpki-client, FORT and the bundled
//! validator (which reports it in its JSON), carried over by a key
//! rollover, withdrawn on removal; a vCard outside the profile is refused
//! and changes nothing.

mod common;

use std::fs;

use common::{Cli, api, published, validate_everywhere_from, vrps};
use serde_json::json;

/// A contact as an editor writes it: LF line ends, which the CLI makes
/// CRLF (RFC 6350 §3.2).
const CARD: &str = "BEGIN:VCARD
VERSION:4.0
FN:RPKI Team
ORG:Example Member
EMAIL:rpki@member.example
TEL;TYPE=work:+1-555-0100
END:VCARD
";

/// The Ghostbusters records in CA `handle`'s point.
fn records(cli: &Cli, handle: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cli.tree().join(handle))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".gbr"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_contact_is_published_validated_rolled_and_withdrawn() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64500, 192.0.2.0/24");
    cli.roa_add("m1", 64500, "192.0.2.0/24");
    let expected = vrps(&[(64500, "192.0.2.0/24", 24)]);
    let card = tmp.path().join("contact.vcf");
    fs::write(&card, CARD).unwrap();

    // A card outside the profile is refused with the rule, and nothing
    // published changes.
    let before = published(&cli.tree());
    let bad = tmp.path().join("bad.vcf");
    fs::write(&bad, CARD.replace("FN:RPKI Team\n", "")).unwrap();
    let err = cli.fails(&["ca", "contact", "m1", "--vcard", bad.to_str().unwrap()]);
    assert!(err.contains("lacks FN (RFC 6493 §5)"), "{err}");
    fs::write(&bad, CARD.replace("ORG:Example Member", "NOTE:call us")).unwrap();
    let err = cli.fails(&["ca", "contact", "m1", "--vcard", bad.to_str().unwrap()]);
    assert!(err.contains("property NOTE"), "{err}");
    assert_eq!(published(&cli.tree()), before);
    assert!(cli.ok(&["ca", "contact", "m1"]).contains("has no contact"));

    cli.ok(&["ca", "contact", "m1", "--vcard", card.to_str().unwrap()]);
    assert_eq!(cli.ok(&["ca", "contact", "m1"]), CARD);
    let key = cli.key_id("m1");
    assert_eq!(records(&cli, "m1"), [format!("{key}.gbr")]);

    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let (client, ours) = validate_everywhere_from(&cli.tal(), &rsyncd, &work.join("1"), &expected);
    assert_eq!(ours["gbrs"], 1, "{ours}");
    let theirs: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(work.join("1/rpki-client/out/json")).unwrap())
            .unwrap();
    assert_eq!(theirs["metadata"]["gbrs"], 1, "{}", client.log);
    let (doc, _) =
        common::validate_json(&cli.tal(), &work.join("1j"), &common::over_rsync(&rsyncd));
    let contact = &doc["gbrs"][0];
    assert!(
        contact["uri"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/m1/{key}.gbr")),
        "{contact}"
    );
    assert_eq!(contact["vcard"][2], serde_json::json!(["FN", "RPKI Team"]));

    // A key rollover signs the record again under the new key.
    cli.ok(&["ca", "keyroll", "m1", "--start", "--staging-hours", "0"]);
    cli.ok(&["ca", "keyroll", "m1", "--activate"]);
    let new_key = cli.key_id("m1");
    assert_ne!(new_key, key);
    assert_eq!(records(&cli, "m1"), [format!("{new_key}.gbr")]);
    let (_, ours) = validate_everywhere_from(&cli.tal(), &rsyncd, &work.join("2"), &expected);
    assert_eq!(ours["gbrs"], 1, "{ours}");

    // Removed: withdrawn, and nothing else lost.
    cli.ok(&["ca", "contact", "m1", "--remove"]);
    assert!(records(&cli, "m1").is_empty());
    let (_, ours) = validate_everywhere_from(&cli.tal(), &rsyncd, &work.join("3"), &expected);
    assert_eq!(ours["gbrs"], 0, "{ours}");
}

#[test]
fn the_api_and_the_cli_over_it_set_show_and_remove_a_contact() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64500, 192.0.2.0/24");
    cli.ca_create("m2", None, "AS64501, 198.51.100.0/24");
    let s = api::serve(&cli, "");
    let c = api::Client::new(&cli, &s.api);
    let m1 = api::token(&cli, &["--role", "ca-operator", "--ca", "m1"]);
    let path = "/api/v1/cas/m1/contact";
    let card = CARD.replace('\n', "\r\n");

    let r = c.get(path, &m1);
    assert_eq!((r.status, &r.body), (200, &json!({"vcard": null})));
    let r = c.json("PUT", path, &m1, json!({"vcard": card}));
    assert_eq!((r.status, &r.body), (200, &json!({"vcard": card})));
    // Another member's token does not see the CA at all; a read-only
    // token of the member may read but not change it.
    let m2 = api::token(&cli, &["--role", "ca-operator", "--ca", "m2"]);
    assert_eq!(c.get(path, &m2).status, 404);
    let ro = api::token(&cli, &["--role", "read-only", "--ca", "m1"]);
    assert_eq!(c.get(path, &ro).status, 200);
    api::wait_published(&cli.dir);
    let before = api::state(&cli.dir);
    let other = card.replace("RPKI Team", "Someone Else");
    assert_eq!(
        c.json("PUT", path, &ro, json!({"vcard": other})).status,
        403
    );
    assert_eq!(c.call("DELETE", path, Some(&ro), None, &[]).status, 403);
    assert_eq!(
        c.json("PUT", path, &m2, json!({"vcard": other})).status,
        404
    );
    assert_eq!(
        api::state(&cli.dir),
        before,
        "a refused request changed something"
    );
    api::wait_published(&cli.dir);
    assert_eq!(records(&cli, "m1").len(), 1);

    // The CLI over the API reads it back and removes it.
    let remote = |args: &[&str]| {
        let out = std::process::Command::new(common::bin())
            .args(["--server", &s.api, "--token", &m1, "--server-ca"])
            .arg(cli.dir.join("tls/api.crt"))
            .arg("--data-dir")
            .arg(tmp.path().join("nowhere"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(remote(&["ca", "contact", "m1"]), CARD);
    remote(&["ca", "contact", "m1", "--remove"]);
    let r = c.get(path, &m1);
    assert_eq!(r.body, json!({"vcard": null}));
    api::wait_published(&cli.dir);
    assert!(records(&cli, "m1").is_empty());
}

#[test]
fn a_contact_is_signed_again_before_it_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = chrono::Utc::now();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("m1", None, "AS64500, 192.0.2.0/24");
    let card = tmp.path().join("contact.vcf");
    fs::write(&card, CARD).unwrap();
    cli.ok(&["ca", "contact", "m1", "--vcard", card.to_str().unwrap()]);
    let name = records(&cli, "m1").remove(0);
    let before = fs::read(cli.tree().join("m1").join(&name)).unwrap();

    // 340 days on, the record (valid a year) is within four weeks of its
    // expiry: `publish` signs it again, with the certificates and TAK due.
    let t = t0 + chrono::TimeDelta::days(340);
    let r = common::ok_at(&cli, t, &["publish", "--format", "json"]);
    let r: serde_json::Value = serde_json::from_str(&r).unwrap();
    assert_eq!(r["reissued_objects"], 4, "{r}");
    let after = fs::read(cli.tree().join("m1").join(&name)).unwrap();
    assert_ne!(before, after, "the record was not signed again");

    // The repository as it is then validates, the contact included.
    let work = tmp.path().join("work");
    let rsyncd = cli.serve(&work.join("rsyncd"));
    let mut args = common::over_rsync(&rsyncd);
    args.extend([
        "--at".into(),
        (t + chrono::TimeDelta::minutes(5)).to_rfc3339().into(),
    ]);
    let (doc, _) = common::validate_json(&cli.tal(), &work.join("ours"), &args);
    assert_eq!(doc["metadata"]["gbrs"], 1, "{doc}");
    assert_eq!(doc["metadata"]["rejected"], 0, "{doc}");
}
