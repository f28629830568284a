//! The admin API against a real `serve --api-listen` over TLS (the data
//! directory's self-signed certificate as the only trusted root):
//! the authorization matrix, the bad-input table (each leaves the store and
//! the published repository unchanged), ETags, the audit log, rate limits,
//! the OpenAPI document against the router, and a ROA added through the
//! API validating in rpki-client and reaching the RTR cache.

mod common;

use anchorage_testkit::{self as oracle, RsyncDaemon};
use common::api::{Client, serve, state, token, wait_published};
use common::{Cli, assert_accepted, require, vrps};
use serde_json::{Value, json};

fn setup() -> (tempfile::TempDir, Cli) {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create(
        "nir",
        None,
        "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32",
    );
    cli.ca_create(
        "lir1",
        Some("nir"),
        "AS64500, 192.0.2.0/25, 2001:db8:1::/48",
    );
    cli.ca_create("lir2", Some("nir"), "AS64501, 198.51.100.0/24");
    cli.roa_add("lir1", 64500, "192.0.2.0/25");
    cli.roa_add("lir2", 64501, "198.51.100.0/24");
    (tmp, cli)
}

#[test]
fn authorization_matrix() {
    let (_tmp, cli) = setup();
    let s = serve(&cli, "api_rate_burst = 1000\napi_rate_per_second = 500.0\n");
    let c = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let op = token(&cli, &["--role", "ca-operator", "--ca", "lir1"]);
    let ro = token(&cli, &["--role", "read-only"]);
    let ro1 = token(&cli, &["--role", "read-only", "--ca", "lir1"]);
    let bad_secret = format!("{}x", &op[..op.len() - 1]);
    // The keys inventory: what `keys list` says, to admins.
    let keys = c.get("/api/v1/keys", &admin);
    assert_eq!(keys.status, 200);
    assert_eq!(keys.body, cli.json(&["keys", "list"]));
    let roles: Vec<&str> = keys
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["role"].as_str())
        .collect();
    assert_eq!(roles.iter().filter(|r| **r == "CA").count(), 3, "{roles:?}");
    assert!(
        roles.contains(&"trust anchor") && roles.contains(&"online CA"),
        "{roles:?}"
    );

    // No token, a malformed one, a wrong secret: 401 everywhere.
    for t in [None, Some("nonsense"), Some(bad_secret.as_str())] {
        for (m, p) in [
            ("GET", "/api/v1/cas"),
            ("GET", "/api/v1/cas/lir1/roas"),
            ("GET", "/api/v1/tokens"),
            ("GET", "/api/v1/audit"),
        ] {
            let r = c.call(m, p, t, None, &[]);
            assert_eq!(r.status, 401, "{m} {p} with {t:?}");
            assert!(r.headers.get("www-authenticate").is_some());
        }
    }

    let before = state(&cli.dir);
    let batch = |asn: u32, prefix: &str| json!({"add": [{"asn": asn, "prefix": prefix}]});
    // (method, path, body, [admin, op, ro, ro1]) for requests that must not
    // change anything: reads, and writes each role may not make.
    let roa_other = batch(64501, "198.51.100.0/25");
    let cases: Vec<(&str, String, Option<Value>, [u16; 4])> = vec![
        ("GET", "/api/v1/cas/lir1".into(), None, [200, 200, 200, 200]),
        ("GET", "/api/v1/cas/lir2".into(), None, [200, 404, 200, 404]),
        ("GET", "/api/v1/cas/nir".into(), None, [200, 404, 200, 404]),
        (
            "GET",
            "/api/v1/cas/nosuch".into(),
            None,
            [404, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/cas/lir1/roas".into(),
            None,
            [200, 200, 200, 200],
        ),
        (
            "GET",
            "/api/v1/cas/lir2/roas".into(),
            None,
            [200, 404, 200, 404],
        ),
        (
            "POST",
            "/api/v1/cas/lir2/roas".into(),
            Some(roa_other.clone()),
            [0, 404, 403, 403],
        ),
        (
            "POST",
            "/api/v1/cas/lir1/roas".into(),
            Some(batch(64500, "192.0.2.0/26")),
            [0, 0, 403, 403],
        ),
        (
            "POST",
            "/api/v1/cas/lir2/roas/dry-run".into(),
            Some(roa_other.clone()),
            [200, 404, 200, 404],
        ),
        (
            "POST",
            "/api/v1/cas/lir1/roas/dry-run".into(),
            Some(batch(64500, "192.0.2.0/26")),
            [200, 200, 200, 200],
        ),
        (
            "PATCH",
            "/api/v1/cas/lir1".into(),
            Some(json!({"resources": "AS64500, 192.0.2.0/25"})),
            [0, 403, 403, 403],
        ),
        (
            "PATCH",
            "/api/v1/cas/lir2".into(),
            Some(json!({"resources": "AS64501, 198.51.100.0/24"})),
            [0, 404, 403, 404],
        ),
        (
            "DELETE",
            "/api/v1/cas/lir1".into(),
            None,
            [0, 403, 403, 403],
        ),
        (
            "DELETE",
            "/api/v1/cas/lir2".into(),
            None,
            [0, 404, 403, 404],
        ),
        (
            "POST",
            "/api/v1/cas".into(),
            Some(json!({"handle": "x1", "parent": "lir2", "resources": "AS64501"})),
            [0, 404, 403, 403],
        ),
        (
            "POST",
            "/api/v1/cas".into(),
            Some(json!({"handle": "x2", "resources": "AS64502"})),
            [0, 422, 403, 403],
        ),
        ("GET", "/api/v1/tokens".into(), None, [200, 403, 403, 403]),
        ("GET", "/api/v1/keys".into(), None, [200, 403, 403, 403]),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(json!({"role": "admin"})),
            [0, 403, 403, 403],
        ),
        (
            "DELETE",
            "/api/v1/tokens/0123456789abcdef".into(),
            None,
            [404, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/audit?ca=lir2".into(),
            None,
            [200, 404, 200, 404],
        ),
    ];
    for (method, path, body, expect) in &cases {
        for (who, (t, want)) in [&admin, &op, &ro, &ro1].iter().zip(expect).enumerate() {
            if *want == 0 {
                continue; // allowed and changing: done below
            }
            let bytes = body.as_ref().map(|b| b.to_string());
            let r = c.call(
                method,
                path,
                Some(t),
                bytes.as_deref().map(str::as_bytes),
                &[],
            );
            assert_eq!(
                r.status, *want,
                "{method} {path} as token #{who}: {}",
                r.body
            );
            if r.status == 404 || r.status == 403 {
                // Refusals say nothing of the other CA's data.
                let text = r.body.to_string();
                for secret in ["198.51.100", "64501"] {
                    assert!(
                        !text.contains(secret),
                        "{method} {path} leaked {secret}: {text}"
                    );
                }
            }
        }
    }
    assert_eq!(
        state(&cli.dir),
        before,
        "a refused or read-only request changed something"
    );

    // What a scoped token lists: its CAs only.
    let listed = |t: &str| -> Vec<String> {
        c.get("/api/v1/cas", t)
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["handle"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(listed(&op), ["lir1"]);
    assert_eq!(listed(&ro1), ["lir1"]);
    assert!(listed(&ro).contains(&"lir2".to_string()));

    // The allowed changes.
    let r = c.json(
        "POST",
        "/api/v1/cas/lir1/roas",
        &op,
        batch(64500, "192.0.2.0/26"),
    );
    assert_eq!(
        (r.status, r.body["applied"].clone()),
        (200, json!(true)),
        "{}",
        r.body
    );
    // A CA operator manages CAs below its own, not its own.
    let r = c.json(
        "POST",
        "/api/v1/cas",
        &op,
        json!({"handle": "lir1a", "parent": "lir1", "resources": "AS64500, 192.0.2.64/26"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = c.json(
        "PATCH",
        "/api/v1/cas/lir1a",
        &op,
        json!({"resources": "AS64500, 192.0.2.96/27"}),
    );
    assert_eq!(
        (r.status, r.body["resources"].clone()),
        (200, json!("AS64500, 192.0.2.96/27")),
        "{}",
        r.body
    );
    // Widening beyond the parent's resources is refused.
    let r = c.json(
        "PATCH",
        "/api/v1/cas/lir1a",
        &op,
        json!({"resources": "AS64500, 198.51.100.0/24"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // A token scoped to a deleted CA dies with it: it cannot come to cover
    // a later CA of the same name.
    let sub = token(&cli, &["--role", "ca-operator", "--ca", "lir1a"]);
    assert_eq!(c.get("/api/v1/cas", &sub).status, 200);
    assert_eq!(
        c.call("DELETE", "/api/v1/cas/lir1a", Some(&op), None, &[])
            .status,
        204
    );
    assert_eq!(c.get("/api/v1/cas", &sub).status, 401);
    // Admin: tokens and everything else.
    let r = c.json(
        "POST",
        "/api/v1/tokens",
        &admin,
        json!({"role": "read-only", "description": "x"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let new = r.body["token"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(c.get("/api/v1/cas", &new).status, 200);
    assert_eq!(
        c.call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
            None,
            &[]
        )
        .status,
        204
    );
    assert_eq!(c.get("/api/v1/cas", &new).status, 401, "revoked at once");
    let listed: Vec<Value> = c
        .get("/api/v1/tokens", &admin)
        .body
        .as_array()
        .unwrap()
        .clone();
    assert!(
        listed
            .iter()
            .all(|t| t.get("token").is_none() && t.get("hash").is_none())
    );
    let r = c.json(
        "PATCH",
        "/api/v1/cas/lir2",
        &admin,
        json!({"resources": "AS64501, 198.51.100.0/24, 2001:db8:2::/48"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // The audit log: the operator's changes with its actor and request ids,
    // nothing of lir2 for the scoped token.
    let log = c.get("/api/v1/audit", &op).body;
    let entries = log.as_array().unwrap();
    assert!(
        entries
            .iter()
            .all(|e| e["ca"] != "lir2" && e["ca"] != "nir"),
        "{log}"
    );
    let mine: Vec<&Value> = entries
        .iter()
        .filter(|e| e["actor"].as_str().unwrap().starts_with("token:"))
        .collect();
    assert!(
        mine.iter().any(|e| e["action"] == "roa add"
            && e["after"] == "AS64500 192.0.2.0/26 max 26"
            && e["before"].is_null()
            && e["request_id"].is_string()),
        "{log}"
    );
    // An admin can read the history of a CA that is gone.
    let gone = c.get("/api/v1/audit?ca=lir1a", &admin).body;
    let gone = gone.as_array().unwrap();
    assert_eq!(
        gone.iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["ca create", "ca update", "token revoke", "ca delete"],
        "{gone:?}"
    );
    assert_eq!(gone[1]["before"], "AS64500, 192.0.2.64/26");
    assert_eq!(gone[1]["after"], "AS64500, 192.0.2.96/27");
    assert_eq!(gone[1]["actor"], format!("token:{}", &op[4..20]));
    let all = c.get("/api/v1/audit?ca=lir2&limit=5", &admin).body;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "ca update"),
        "{all}"
    );
    // Append-only, in the database itself.
    let conn = rusqlite::Connection::open(cli.dir.join("anchorage.db")).unwrap();
    assert!(conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM audit", []).is_err());
}

#[test]
fn bad_input_changes_nothing() {
    let (_tmp, cli) = setup();
    let s = serve(&cli, "");
    let c = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let before = state(&cli.dir);
    let roas = "/api/v1/cas/lir1/roas";
    let big = format!(
        "{{\"add\": [{}]}}",
        vec!["{\"asn\": 64500, \"prefix\": \"192.0.2.0/25\"}"; 30_000].join(",")
    );
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("POST", roas, "{not json".into(), 400, "malformed JSON"),
        ("POST", roas, r#"{"add": [], "extra": 1}"#.into(), 400, "extra"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/25", "maxlen": 26}]}"#.into(), 400, "maxlen"),
        ("POST", roas, r#"{"add": [{"asn": -1, "prefix": "192.0.2.0/25"}]}"#.into(), 400, "add[0].asn"),
        ("POST", roas, r#"{"add": [{"asn": 4294967296, "prefix": "192.0.2.0/25"}]}"#.into(), 400, "add[0].asn"),
        ("POST", roas, r#"{"add": [{"asn": "AS1", "prefix": "192.0.2.0/25"}]}"#.into(), 400, "add[0].asn"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/33"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.1/24"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/25", "max_length": 24}]}"#.into(), 422, "add[0].max_length"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/25", "max_length": 33}]}"#.into(), 422, "add[0].max_length"),
        // Outside the CA's resources; one good payload before it is not applied either.
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/26"}, {"asn": 64500, "prefix": "198.51.100.0/24"}]}"#.into(), 422, "198.51.100.0/24"),
        ("POST", roas, r#"{"remove": [{"asn": 64500, "prefix": "192.0.2.0/26"}]}"#.into(), 422, "no ROA"),
        ("POST", roas, big, 413, "limited"),
        ("POST", "/api/v1/cas/lir1/roas?strict=maybe", r#"{"add": []}"#.into(), 400, "strict"),
        // One JSON object and nothing else.
        ("POST", roas, r#"{"add": []}{"add": [{"asn": 64500, "prefix": "192.0.2.0/26"}]}"#.into(), 400, "trailing"),
        ("POST", roas, "[]".into(), 400, "wrong shape"),
        ("POST", roas, r#"[[{"asn": 64500, "prefix": "192.0.2.0/26"}]]"#.into(), 400, "wrong shape"),
        ("POST", roas, r#"{"add": [[64500, "192.0.2.0/26"]]}"#.into(), 400, "add[0]"),
        // Prefixes in their one canonical form only.
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": " 192.0.2.0/26"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/026"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", roas, r#"{"add": [{"asn": 64500, "prefix": "192.0.2.0/+26"}]}"#.into(), 422, "add[0].prefix"),
        ("POST", "/api/v1/cas", r#"{"handle": "-x", "resources": "AS64500"}"#.into(), 422, "handle"),
        ("POST", "/api/v1/cas", r#"{"handle": "a b", "resources": "AS1"}"#.into(), 422, "handle"),
        ("POST", "/api/v1/cas", r#"{"handle": "lir1", "resources": "AS64502"}"#.into(), 409, "already exists"),
        ("POST", "/api/v1/cas", r#"{"handle": "big", "parent": "lir1", "resources": "AS64500, 10.0.0.0/8"}"#.into(), 422, "10.0.0.0/8"),
        ("POST", "/api/v1/cas", r#"{"handle": "r", "resources": "AS99999999999"}"#.into(), 422, "resources"),
        ("PATCH", "/api/v1/cas/lir1", r#"{"resources": "AS64500"}"#.into(), 409, "192.0.2.0/25"),
        ("PATCH", "/api/v1/cas/nir", r#"{"resources": "AS64496"}"#.into(), 409, "lir1"),
        ("DELETE", "/api/v1/cas/nir", String::new(), 409, "lir1"),
        ("POST", "/api/v1/tokens", r#"{"role": "root"}"#.into(), 422, "role"),
        ("POST", "/api/v1/tokens", r#"{"role": "ca-operator"}"#.into(), 422, "--ca"),
        ("POST", "/api/v1/tokens", r#"{"role": "ca-operator", "cas": ["ghost"]}"#.into(), 404, "ghost"),
        ("GET", "/api/v1/audit?since=yesterday", String::new(), 400, "since"),
        // A contact outside the Ghostbusters profile (RFC 6493 §5).
        ("PUT", "/api/v1/cas/lir1/contact", r#"{"vcard": "BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL:a@b.example\r\nEND:VCARD\r\n"}"#.into(), 422, "lacks FN"),
        ("PUT", "/api/v1/cas/lir1/contact", "{}".into(), 422, "vcard"),
        ("PUT", "/api/v1/cas/lir1/contact", r#"{"vcard": "x", "note": 1}"#.into(), 400, "note"),
        ("PUT", "/api/v1/cas/ghost/contact", r#"{"vcard": "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEMAIL:a@b.example\r\nEND:VCARD\r\n"}"#.into(), 404, "ghost"),
        ("GET", "/api/v1/nope", String::new(), 404, "endpoint"),
    ];
    for (method, path, body, status, mention) in &cases {
        let body = (!body.is_empty()).then_some(body.as_bytes());
        let r = c.call(method, path, Some(&admin), body, &[]);
        assert_eq!(r.status, *status, "{method} {path}: {}", r.body);
        let text = r.body.to_string();
        assert!(
            text.contains(mention),
            "{method} {path}: {mention} not named in {text}"
        );
    }
    assert_eq!(
        state(&cli.dir),
        before,
        "a bad request changed the store or the repository"
    );
}

#[test]
fn etags_warnings_rate_limits_openapi_and_publication() {
    require("rpki-client");
    let (tmp, cli) = setup();
    let rtr = oracle::free_port().unwrap();
    let s = serve(
        &cli,
        &format!(
            "api_rate_burst = 20\napi_rate_per_second = 2.0\nrtr_listen = \"127.0.0.1:{rtr}\"\n"
        ),
    );
    let c = Client::new(&cli, &s.api);
    let admin = token(&cli, &["--role", "admin"]);
    let roas = "/api/v1/cas/lir1/roas";

    // Optimistic concurrency.
    let r = c.get(roas, &admin);
    let etag = r.headers.get("etag").unwrap().to_str().unwrap().to_string();
    let add = json!({"add": [{"asn": 64500, "prefix": "2001:db8:1::/48"}]}).to_string();
    let r = c.call(
        "POST",
        roas,
        Some(&admin),
        Some(add.as_bytes()),
        &[("If-Match", &etag)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new_etag = r.headers.get("etag").unwrap().to_str().unwrap().to_string();
    assert_ne!(new_etag, etag);
    assert_eq!(
        c.get(roas, &admin).headers.get("etag").unwrap(),
        new_etag.as_str()
    );
    let before = state(&cli.dir);
    let other = json!({"add": [{"asn": 64500, "prefix": "192.0.2.0/26"}]}).to_string();
    let r = c.call(
        "POST",
        roas,
        Some(&admin),
        Some(other.as_bytes()),
        &[("If-Match", &etag)],
    );
    assert_eq!(r.status, 412, "{}", r.body);
    assert_eq!(
        state(&cli.dir),
        before,
        "a stale If-Match changed something"
    );

    // Warnings: maxLength (RFC 9319 §4), on the dry run and on the change.
    let wide = json!({"add": [{"asn": 64500, "prefix": "192.0.2.0/25", "max_length": 27}]});
    let r = c.json(
        "POST",
        "/api/v1/cas/lir1/roas/dry-run",
        &admin,
        wide.clone(),
    );
    assert_eq!(
        (r.status, r.body["applied"].clone()),
        (200, json!(false)),
        "{}",
        r.body
    );
    assert_eq!(r.body["warnings"][0]["code"], "max-length", "{}", r.body);
    assert_eq!(r.body["vrps_announced"][0]["max_length"], 27, "{}", r.body);
    assert_eq!(state(&cli.dir), before, "a dry run changed something");
    let r = c.json("POST", roas, &admin, wide);
    assert_eq!(
        (r.status, r.body["applied"].clone()),
        (200, json!(true)),
        "{}",
        r.body
    );
    assert_eq!(r.body["warnings"][0]["code"], "max-length");
    // No BGP table here: no route was checked, and the answer says so.
    assert_eq!(r.body["bgp_routes"], serde_json::Value::Null, "{}", r.body);

    // Published (within the group window): rpki-client over rsync sees the API's ROAs.
    wait_published(&cli.dir);
    let wrapper = RsyncDaemon::wrapper_for_port(&tmp.path().join("wrapper"), s.rsync).unwrap();
    let run = oracle::rpki_client(&cli.tal(), &wrapper, &tmp.path().join("rpki-client")).unwrap();
    assert_accepted(
        "rpki-client",
        &run,
        &vrps(&[
            (64500, "192.0.2.0/25", 25),
            (64500, "192.0.2.0/25", 27),
            (64500, "2001:db8:1::/48", 48),
            (64501, "198.51.100.0/24", 24),
        ]),
    );

    // And reaches routers: the RTR cache serves it after self-validation.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let got = rtr_reset(rtr);
        if got.contains(&(64500, "192.0.2.0/25".to_string(), 27)) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "RTR has {got:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // The OpenAPI document lists exactly what is routed.
    let doc = c.call("GET", "/api/v1/openapi.json", None, None, &[]);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let documented = doc.body["paths"].as_object().unwrap();
    assert_eq!(
        documented.len(),
        anchorage::openapi::OPERATIONS
            .iter()
            .map(|o| o.1)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    let reader = token(&cli, &["--role", "read-only"]);
    for (method, path, _, _) in anchorage::openapi::OPERATIONS {
        assert!(documented[*path].get(*method).is_some(), "{method} {path}");
        let concrete = path
            .replace("{handle}", "lir1")
            .replace("{id}", "0123456789abcdef");
        let r = c.call(
            &method.to_uppercase(),
            &concrete,
            Some(&reader),
            Some(b"{}"),
            &[],
        );
        assert!(
            !r.body.to_string().contains("no such endpoint"),
            "{method} {path} is documented but not routed"
        );
    }
    for (method, path) in [
        ("PUT", "/api/v1/cas"),
        ("GET", "/api/v1/roas"),
        ("POST", "/api/v1/audit"),
    ] {
        let r = c.call(method, path, Some(&reader), None, &[]);
        assert!(
            matches!(r.status, 404 | 405),
            "{method} {path} routed but not documented: {}",
            r.status
        );
    }

    // Rate limit: a burst of 20, then 429 with Retry-After.
    let limited = token(&cli, &["--role", "read-only"]);
    let mut statuses = vec![];
    for _ in 0..40 {
        let r = c.get("/api/v1/cas", &limited);
        if r.status == 429 {
            assert!(
                r.headers
                    .get("retry-after")
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 1
            );
        }
        statuses.push(r.status);
    }
    assert!(statuses[..15].iter().all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    // Other tokens are not affected.
    assert_eq!(c.get("/api/v1/cas", &admin).status, 200);
}

#[test]
fn the_cli_runs_ca_and_roa_commands_over_the_api() {
    let (tmp, cli) = setup();
    let s = serve(&cli, "");
    let op = token(&cli, &["--role", "ca-operator", "--ca", "lir1"]);
    let remote = |token: &str, args: &[&str]| {
        std::process::Command::new(common::bin())
            .args(["--server", &s.api, "--token", token, "--server-ca"])
            .arg(cli.dir.join("tls/api.crt"))
            // No data directory: everything goes through the API.
            .arg("--data-dir")
            .arg(tmp.path().join("nowhere"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = remote(
        &op,
        &[
            "roa",
            "add",
            "lir1",
            "--asn",
            "64500",
            "--prefix",
            "192.0.2.0/26",
            "--max-length",
            "27",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("added AS64500 192.0.2.0/26 max 27"));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning [max-length]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the API shows is what the data directory holds.
    let out = remote(&op, &["roa", "list", "lir1", "--format", "json"]);
    let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs, cli.json(&["roa", "list", "lir1"]));
    let out = remote(&op, &["ca", "list", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // Errors: the problem's detail, a non-zero exit.
    let out = remote(&op, &["ca", "show", "lir2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown CA 'lir2'"));
    let out = remote("anc_0123456789abcdef_nope", &["ca", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 401"));
    let out = remote(&op, &["publish"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only the ca, roa and aspa commands"));
}

/// A Reset Query (RFC 8210 §5.4) to the RTR cache on `port`: the
/// (origin, prefix, maxLength) of every IPv4 and IPv6 Prefix PDU.
fn rtr_reset(port: u16) -> Vec<(u32, String, u8)> {
    use std::io::{Read, Write};
    let Ok(mut sock) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return vec![];
    };
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    sock.write_all(&[1, 2, 0, 0, 0, 0, 0, 8]).unwrap();
    let mut out = vec![];
    loop {
        let mut h = [0u8; 8];
        if sock.read_exact(&mut h).is_err() {
            return out;
        }
        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        let mut body = vec![0u8; len - 8];
        sock.read_exact(&mut body).unwrap();
        match h[1] {
            4 => out.push((
                u32::from_be_bytes(body[8..12].try_into().unwrap()),
                format!(
                    "{}/{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(&body[4..8]).unwrap()),
                    body[1]
                ),
                body[2],
            )),
            6 => out.push((
                u32::from_be_bytes(body[20..24].try_into().unwrap()),
                format!(
                    "{}/{}",
                    std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&body[4..20]).unwrap()),
                    body[1]
                ),
                body[2],
            )),
            7 | 10 => return out,
            _ => {}
        }
    }
}
