//! RFC 9319 warnings against a BGP table: a realistic table generated here
//! (an aggregate with a customer's and a DDoS-protection provider's
//! more-specifics, de-aggregated space, unannounced space, IPv6, and
//! unrelated routes), loaded with `anchorage bgp load` both as CSV and as
//! an MRT RIB dump, then ROA changes through the admin API.

mod common;

use std::io::Write;
use std::str::FromStr;

use bgpkit_parser::BgpElem;
use bgpkit_parser::encoder::MrtRibEncoder;
use bgpkit_parser::models::{AsPath, NetworkPrefix};
use common::Cli;
use common::api::{Client, serve, state, token};
use serde_json::{Value, json};

/// (prefix, AS path) announcements; the origin is the last AS.
fn announcements() -> Vec<(String, Vec<u32>)> {
    let mut out: Vec<(String, Vec<u32>)> = vec![
        // The NIR's aggregate, a customer's /25 and a DDoS provider's /25.
        ("192.0.2.0/24".into(), vec![65000, 64496]),
        ("192.0.2.0/25".into(), vec![65000, 64510]),
        ("192.0.2.128/25".into(), vec![65001, 64520]),
        // De-aggregated by its own origin.
        ("198.51.100.0/24".into(), vec![65000, 64497]),
        ("198.51.100.0/25".into(), vec![65000, 64497]),
        ("198.51.100.128/25".into(), vec![65000, 64497]),
        ("2001:db8::/32".into(), vec![65000, 64496]),
        ("2001:db8:1::/48".into(), vec![65000, 64496]),
    ];
    // Unrelated routes from elsewhere.
    for i in 0..500u32 {
        out.push((
            format!("{}.{}.{}.0/24", 20 + i / 65536, (i / 256) % 256, i % 256),
            vec![65000, 70000 + i],
        ));
    }
    out
}

fn mrt(path: &std::path::Path) {
    let mut enc = MrtRibEncoder::new();
    for (prefix, as_path) in announcements() {
        let elem = BgpElem {
            timestamp: 1_700_000_000.0,
            peer_ip: "192.0.2.1".parse().unwrap(),
            peer_asn: 65000.into(),
            prefix: NetworkPrefix::from_str(&prefix).unwrap(),
            as_path: Some(AsPath::from_sequence(&as_path)),
            origin_asns: Some(vec![(*as_path.last().unwrap()).into()]),
            ..Default::default()
        };
        enc.process_elem(&elem).unwrap();
    }
    let bytes = enc.export_bytes().unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&bytes).unwrap();
    gz.finish().unwrap();
}

fn codes(r: &Value) -> Vec<String> {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_string())
        .collect()
}

fn warning<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {r}"))
}

#[test]
fn warnings_from_a_loaded_bgp_table() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create(
        "nir",
        None,
        "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32",
    );

    // Both formats give the same table; bad input is refused.
    let csv = tmp.path().join("table.csv");
    let mut text = String::from("prefix,origin-asn\n");
    // The AS adjacencies the MRT dump's paths show, which a CSV gives as
    // `adjacency,upstream,customer,routes` lines.
    let mut adjacent = std::collections::BTreeMap::<(u32, u32), u32>::new();
    for (p, path) in announcements() {
        text.push_str(&format!("{p},{}\n", path.last().unwrap()));
        for pair in path.windows(2) {
            *adjacent.entry((pair[1], pair[0])).or_default() += 1;
        }
    }
    for ((customer, upstream), n) in &adjacent {
        text.push_str(&format!("adjacency,{upstream},{customer},{n}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let dump = tmp.path().join("bview.20261125.0000.gz");
    mrt(&dump);
    let n = announcements().len();
    assert!(
        cli.ok(&["bgp", "load", dump.to_str().unwrap()])
            .contains(&format!("loaded {n} announcements"))
    );
    let from_mrt = std::fs::read_to_string(cli.dir.join("bgp/table.csv")).unwrap();
    assert!(
        cli.ok(&["bgp", "load", csv.to_str().unwrap()])
            .contains(&format!("loaded {n} announcements"))
    );
    let from_csv = std::fs::read_to_string(cli.dir.join("bgp/table.csv")).unwrap();
    assert_eq!(from_mrt, from_csv);
    std::fs::write(
        tmp.path().join("bad.csv"),
        "192.0.2.0/24,64496\n192.0.2.0/24,notanasn\n",
    )
    .unwrap();
    let err = cli.fails(&["bgp", "load", tmp.path().join("bad.csv").to_str().unwrap()]);
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(
        std::fs::read_to_string(cli.dir.join("bgp/table.csv")).unwrap(),
        from_csv
    );

    let s = serve(&cli, "");
    let c = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let roas = "/api/v1/cas/nir/roas";
    let add = |asn: u32, prefix: &str, max: Option<u8>| {
        let mut p = json!({"asn": asn, "prefix": prefix});
        if let Some(m) = max {
            p["max_length"] = json!(m);
        }
        json!({"add": [p]})
    };

    // The aggregate's ROA would invalidate the customer's and the DDoS
    // provider's more-specifics: critical.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(64496, "192.0.2.0/24", None),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let w = warning(&r.body, "makes-invalid");
    assert_eq!(w["severity"], "critical");
    assert_eq!(w["prefixes"], json!(["192.0.2.0/25", "192.0.2.128/25"]));
    assert!(w["message"].as_str().unwrap().contains("AS64520"), "{w}");
    // Each announced route it moves, with both states (RFC 6811).
    assert_eq!(
        r.body["route_changes"],
        json!([
            {"prefix": "192.0.2.0/24", "origin": 64496, "before": "not-found", "after": "valid"},
            {"prefix": "192.0.2.0/25", "origin": 64510, "before": "not-found", "after": "invalid"},
            {"prefix": "192.0.2.128/25", "origin": 64520, "before": "not-found", "after": "invalid"},
        ]),
        "{}",
        r.body
    );
    assert_eq!(r.body["minimal_roas"], json!([]), "{}", r.body);
    assert_eq!(r.body["route_changes_total"], 3, "{}", r.body);
    assert_eq!(
        r.body["bgp_routes"],
        json!(announcements().len()),
        "{}",
        r.body
    );
    // Strict: blocked, nothing changed.
    let before = state(&cli.dir);
    let r = c.json(
        "POST",
        &format!("{roas}?strict=true"),
        &admin,
        add(64496, "192.0.2.0/24", None),
    );
    assert_eq!(
        (r.status, r.body["applied"].clone()),
        (422, json!(false)),
        "{}",
        r.body
    );
    assert_eq!(
        state(&cli.dir),
        before,
        "a blocked change changed something"
    );
    // With the customer's and the provider's ROAs first, the aggregate is clean.
    let both = json!({"add": [
        {"asn": 64510, "prefix": "192.0.2.0/25"},
        {"asn": 64520, "prefix": "192.0.2.128/25"},
        {"asn": 64496, "prefix": "192.0.2.0/24"}
    ]});
    let r = c.json("POST", &format!("{roas}?strict=true"), &admin, both);
    assert_eq!(
        (r.status, r.body["applied"].clone()),
        (200, json!(true)),
        "{}",
        r.body
    );
    assert!(
        !codes(&r.body).contains(&"makes-invalid".to_string()),
        "{}",
        r.body
    );

    // maxLength over de-aggregated space that is all announced: minimal.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(64497, "198.51.100.0/24", Some(25)),
    );
    assert!(codes(&r.body).is_empty(), "{}", r.body);
    // One more bit: four /26s nobody announces (RFC 9319 §4).
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(64497, "198.51.100.0/24", Some(26)),
    );
    let w = warning(&r.body, "non-minimal");
    assert!(w["message"].as_str().unwrap().contains("4 of the 7"), "{w}");
    assert_eq!(w["prefixes"][0], "198.51.100.0/26");
    // The minimal ROAs offered instead: the announced prefixes (RFC 9319 §5).
    assert_eq!(
        r.body["minimal_roas"],
        json!([{
            "replaces": {"asn": 64497, "prefix": "198.51.100.0/24", "max_length": 26},
            "with": [
                {"asn": 64497, "prefix": "198.51.100.0/24", "max_length": 24},
                {"asn": 64497, "prefix": "198.51.100.0/25", "max_length": 25},
                {"asn": 64497, "prefix": "198.51.100.128/25", "max_length": 25},
            ],
        }]),
        "{}",
        r.body
    );
    // IPv6 with maxLength: the /48 is announced, the rest are not.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(64496, "2001:db8::/32", Some(48)),
    );
    assert!(
        codes(&r.body).contains(&"non-minimal".to_string()),
        "{}",
        r.body
    );
    // Unannounced space: only information.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(64496, "203.0.113.0/24", None),
    );
    assert_eq!(codes(&r.body), ["not-announced"]);

    // AS0 over announced space: explained, and the routes it would
    // invalidate (those no ROA matches) are listed.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        add(0, "198.51.100.0/24", Some(25)),
    );
    let codes = codes(&r.body);
    assert!(
        codes.contains(&"as0".to_string()) && codes.contains(&"makes-invalid".to_string()),
        "{}",
        r.body
    );
    assert_eq!(
        warning(&r.body, "makes-invalid")["prefixes"],
        json!(["198.51.100.0/24", "198.51.100.0/25", "198.51.100.128/25"])
    );
    // Removing the customer's ROA: its route would become invalid again.
    let r = c.json(
        "POST",
        &format!("{roas}/dry-run"),
        &admin,
        json!({"remove": [{"asn": 64510, "prefix": "192.0.2.0/25"}]}),
    );
    assert_eq!(
        warning(&r.body, "makes-invalid")["prefixes"],
        json!(["192.0.2.0/25"])
    );
}
