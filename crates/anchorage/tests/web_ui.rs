//! The web interface end to end, in Debian's headless Chromium driven by
//! ChromeDriver: a member signs in with its token, sees only its CA,
//! stages a ROA with a maxLength, sees the RFC 9319 warning and the
//! routes it makes invalid, replaces it with the minimal ROAs, confirms
//! and applies; rpki-client then reports exactly the minimal VRPs. The
//! session's cookie is HttpOnly, Secure and SameSite=Strict; requests
//! without the CSRF token, after sign-out and after the idle timeout are
//! refused; a member reaches no other member's CA by URL. Each view is
//! saved as a screenshot under `target/tmp/ui-screenshots/` (and, with
//! `ANCHORAGE_UI_SCREENSHOTS=DIR`, into DIR: `scripts/ui-screenshots.sh`
//! refreshes `docs/ui/` so).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use anchorage_testkit::browser::{self, Browser};
use anchorage_testkit::{self as oracle, RsyncDaemon, Vrp};
use common::Cli;
use common::api::{Client, serve, token, wait_published};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
/// The session idle timeout `serve` runs with here.
const IDLE: u64 = 8;

fn shot(b: &Browser, name: &str) {
    b.fit_page();
    let mut dirs = vec![PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots")];
    if let Some(extra) = std::env::var_os("ANCHORAGE_UI_SCREENSHOTS") {
        dirs.push(PathBuf::from(extra));
    }
    for dir in dirs {
        b.screenshot(&dir.join(format!("{name}.png")));
    }
}

fn sign_in(b: &Browser, base: &str, token: &str) {
    b.goto(&format!("{base}/"));
    let field = b.wait_for("#signin-token", WAIT);
    // By keyboard: the token, then Enter.
    b.type_into(&field, &format!("{token}\u{E007}"));
    b.wait_text("#who", "·", WAIT);
    b.wait_text("h1", "Certificate authorities", WAIT);
}

/// The page's session, read as the page reads it.
fn page_session(b: &Browser) -> Value {
    b.execute("return fetch('/ui/session').then(r => r.json())", json!([]))
}

/// A fetch from the page with the session cookie: its status.
fn page_fetch(b: &Browser, method: &str, path: &str, csrf: Option<&str>, body: Value) -> u64 {
    b.execute(
        "const [method, path, csrf, body] = arguments;
         const headers = {'Content-Type': 'application/json'};
         if (csrf) headers['X-CSRF-Token'] = csrf;
         return fetch(path, {method, headers, credentials: 'same-origin',
                             body: method === 'GET' ? undefined : JSON.stringify(body)})
           .then(r => r.status);",
        json!([method, path, csrf, body]),
    )
    .as_u64()
    .unwrap()
}

#[test]
fn a_member_edits_roas_in_a_real_browser() {
    common::require("rpki-client");
    assert!(
        browser::programs().is_some(),
        "chromium and chromedriver are not installed; run scripts/test.sh, which installs them"
    );
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("member1", None, "AS64496, 192.0.2.0/24");
    cli.ca_create("member2", None, "AS64497, 198.51.100.0/24");
    cli.roa_add("member2", 64497, "198.51.100.0/24");
    // Announced: member1's aggregate and one /25 of its own, and its
    // customer's /25 from AS64510, which has no ROA.
    let table = tmp.path().join("bgp.csv");
    std::fs::write(
        &table,
        "prefix,origin\n192.0.2.0/24,64496\n192.0.2.0/25,64496\n192.0.2.128/25,64510\n198.51.100.0/24,64497\n",
    )
    .unwrap();
    cli.ok(&["bgp", "load", table.to_str().unwrap()]);
    let member = token(&cli, &["--role", "ca-operator", "--ca", "member1"]);
    let admin = token(&cli, &["--role", "admin"]);
    let s = serve(&cli, &format!("ui_session_idle_seconds = {IDLE}\n"));
    let base = s.api.clone();
    let client = Client::new(&cli, &base);
    let b = Browser::start(&tmp.path().join("browser")).unwrap();

    // Sign in: the page shows the sign-in form first.
    b.goto(&format!("{base}/"));
    b.wait_for("#signin-token", WAIT);
    shot(&b, "sign-in");
    sign_in(&b, &base, &member);
    let cookie = b
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "__Host-anchorage-session")
        .expect("the session cookie is set");
    assert_eq!(
        (&cookie["httpOnly"], &cookie["secure"], &cookie["sameSite"]),
        (&json!(true), &json!(true), &json!("Strict")),
        "{cookie}"
    );
    let cookie_header = format!(
        "__Host-anchorage-session={}",
        cookie["value"].as_str().unwrap()
    );

    // The CA tree: only the member's own CA.
    let tree = b.wait_text("ul.tree", "member1", WAIT);
    assert!(!tree.contains("member2"), "{tree}");
    shot(&b, "cas");

    // Another member's CA by URL: not found, nothing of it shown.
    for url in ["#/ca/member2", "#/ca/member2/roas"] {
        // From the tree, so that "Not found" is this URL's answer.
        b.goto(&format!("{base}/#/"));
        b.wait_text("h1", "Certificate authorities", WAIT);
        b.goto(&format!("{base}/{url}"));
        b.wait_text("h1", "Not found", WAIT);
        let page = b.page_text();
        assert!(
            !page.contains("198.51.100") && !page.contains("AS64497"),
            "{url}: {page}"
        );
    }

    // The member's CA.
    b.goto(&format!("{base}/#/ca/member1"));
    let facts = b.wait_text("#ca-facts", "192.0.2.0/24", WAIT);
    assert!(facts.contains("AS64496"), "{facts}");
    b.wait_for("#keys", WAIT);
    shot(&b, "ca");

    // Stage a ROA with a maxLength: the warning and the route impact.
    b.click(&b.wait_for("#edit-roas", WAIT));
    b.type_into(&b.wait_for("#add-asn", WAIT), "AS64496");
    b.type_into(&b.wait_for("#add-prefix", WAIT), "192.0.2.0/24");
    b.type_into(&b.wait_for("#add-max", WAIT), "25");
    b.click(&b.wait_for("#stage-add", WAIT));
    let warning = b.wait_text(".warning[data-code='non-minimal']", "RFC 9319", WAIT);
    assert!(warning.contains("192.0.2.128/25"), "{warning}");
    let invalid = b.wait_text(
        "#route-impact tr[data-after='invalid']",
        "192.0.2.128/25",
        WAIT,
    );
    assert!(invalid.contains("AS64510"), "{invalid}");
    b.wait_for(".warning[data-code='makes-invalid']", WAIT);
    let apply = b.wait_for("#apply", WAIT);
    assert_eq!(
        b.property(&apply, "disabled"),
        json!(true),
        "apply needs the confirmation"
    );
    shot(&b, "roa-editor-warnings");

    // One click: the minimal ROAs instead of the maxLength.
    b.click(&b.wait_for("#replace-minimal", WAIT));
    b.wait_text("#staged-table", "AS64496 192.0.2.0/25", WAIT);
    let staged = b.text(&b.wait_for("#staged-table", WAIT));
    assert!(!staged.contains("192.0.2.0/24-25"), "{staged}");
    b.wait_for(".warning[data-code='makes-invalid']", WAIT);
    assert!(
        b.all(".warning[data-code='non-minimal']").is_empty(),
        "{}",
        b.page_text()
    );
    // The customer's route still becomes invalid: apply waits for the
    // explicit confirmation.
    let apply = b.wait_for("#apply", WAIT);
    assert_eq!(b.property(&apply, "disabled"), json!(true));
    shot(&b, "roa-editor-minimal");
    b.click(&b.wait_for("#confirm-invalid", WAIT));
    assert_eq!(b.property(&apply, "disabled"), json!(false));
    b.click(&apply);
    b.wait_text("#applied", "2 added", WAIT);
    shot(&b, "roa-editor-applied");

    // A CSV with a bad line stages nothing and names the line.
    b.type_into(
        &b.wait_for("#csv", WAIT),
        "ASN,IP Prefix,Max Length\nAS64496,192.0.2.0/33,24\n",
    );
    b.click(&b.wait_for("#stage-csv", WAIT));
    b.wait_text("#csv-form .problem", "line 2", WAIT);
    assert!(b.all("#staged-table tbody tr").is_empty());
    // A good one (rpki-client's VRP CSV shape) is staged and previewed.
    b.type_into(
        &b.wait_for("#csv", WAIT),
        "ASN,IP Prefix,Max Length,Trust Anchor\nAS64496,192.0.2.128/25,25,ta\n",
    );
    b.click(&b.wait_for("#stage-csv", WAIT));
    b.wait_text("#staged-table", "AS64496 192.0.2.128/25", WAIT);
    b.wait_text("#vrp-changes", "192.0.2.128/25", WAIT);
    b.click(&b.wait_for("#staged-table button", WAIT));
    b.wait_text("#staged", "Nothing staged", WAIT);

    // Someone else changes the CA's ROAs while a change is staged here:
    // Apply gets 412, changes nothing, and the page shows the list anew.
    b.click(&b.wait_for("#current-roas tbody tr:nth-child(2) button", WAIT));
    b.wait_text("#staged-table", "remove", WAIT);
    b.wait_for(
        ".warning[data-code='makes-invalid'], .warning[data-code='makes-not-found']",
        WAIT,
    );
    let customer = client.json(
        "POST",
        "/api/v1/cas/member1/roas",
        &member,
        json!({"add": [{"asn": 64510, "prefix": "192.0.2.128/25"}]}),
    );
    assert_eq!(customer.status, 200, "{}", customer.body);
    let confirm = b.wait_for("#confirm-invalid", WAIT);
    if b.property(&confirm, "checked") != json!(true)
        && b.property(&b.wait_for("#apply", WAIT), "disabled") == json!(true)
    {
        b.click(&confirm);
    }
    b.click(&b.wait_for("#apply", WAIT));
    b.wait_text("#result", "changed meanwhile", WAIT);
    b.wait_text("#current-roas", "AS64510", WAIT);
    b.click(&b.wait_for("#staged-table button", WAIT));
    b.wait_text("#staged", "Nothing staged", WAIT);

    // CSRF: the cookie alone is refused, for reads and for changes,
    // from the page itself and from anywhere else; nothing changes.
    let csrf = page_session(&b)["csrf"].as_str().unwrap().to_string();
    let roa = json!({"add": [{"asn": 64496, "prefix": "192.0.2.0/24", "max_length": 32}]});
    assert_eq!(page_fetch(&b, "GET", "/api/v1/cas", None, Value::Null), 403);
    assert_eq!(
        page_fetch(&b, "POST", "/api/v1/cas/member1/roas", None, roa.clone()),
        403
    );
    assert_eq!(
        page_fetch(
            &b,
            "POST",
            "/api/v1/cas/member1/roas",
            Some("forged"),
            roa.clone()
        ),
        403
    );
    let with_cookie = |csrf: Option<&str>, body: Option<&Value>| {
        let mut headers = vec![("Cookie", cookie_header.as_str())];
        if let Some(c) = csrf {
            headers.push(("X-CSRF-Token", c));
        }
        let bytes = body.map(|b| b.to_string());
        let method = if body.is_some() { "POST" } else { "GET" };
        client.call(
            method,
            "/api/v1/cas/member1/roas",
            None,
            bytes.as_deref().map(str::as_bytes),
            &headers,
        )
    };
    assert_eq!(with_cookie(None, Some(&roa)).status, 403);
    let listed = with_cookie(Some(&csrf), None);
    assert_eq!(listed.status, 200);
    let mut roas: Vec<String> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}-{}", r["prefix"].as_str().unwrap(), r["max_length"]))
        .collect();
    roas.sort();
    assert_eq!(
        roas,
        ["192.0.2.0/24-24", "192.0.2.0/25-25", "192.0.2.128/25-25"]
    );
    // The session is the member's: another CA is not found through it.
    let other = client.call(
        "GET",
        "/api/v1/cas/member2",
        None,
        None,
        &[
            ("Cookie", cookie_header.as_str()),
            ("X-CSRF-Token", csrf.as_str()),
        ],
    );
    assert_eq!(other.status, 404, "{}", other.body);

    // The audit view names the member's token.
    b.goto(&format!("{base}/#/audit?ca=member1"));
    b.wait_text("#audit-entries", "token:", WAIT);
    shot(&b, "audit");

    // Sign out: the page asks for a token again and the cookie is dead.
    let session = page_session(&b);
    let (old_cookie, old_csrf) = (
        b.cookies()
            .into_iter()
            .find(|c| c["name"] == "__Host-anchorage-session")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string(),
        session["csrf"].as_str().unwrap().to_string(),
    );
    b.click(&b.wait_for("#sign-out", WAIT));
    b.wait_for("#signin-token", WAIT);
    let after = client.call(
        "GET",
        "/api/v1/cas",
        None,
        None,
        &[
            (
                "Cookie",
                format!("__Host-anchorage-session={old_cookie}").as_str(),
            ),
            ("X-CSRF-Token", old_csrf.as_str()),
        ],
    );
    assert_eq!(after.status, 401, "{}", after.body);

    // rpki-client sees exactly the minimal VRPs.
    wait_published(&cli.dir);
    let wrapper = RsyncDaemon::wrapper_for_port(&tmp.path().join("wrapper"), s.rsync).unwrap();
    let run = oracle::rpki_client(&cli.tal(), &wrapper, &tmp.path().join("rpki-client")).unwrap();
    let mine: Vec<&Vrp> = run.vrps.iter().filter(|v| v.asn == 64496).collect();
    assert_eq!(
        mine,
        [
            &Vrp::new(64496, "192.0.2.0/24", 24),
            &Vrp::new(64496, "192.0.2.0/25", 25)
        ],
        "{}",
        run.log
    );
    assert!(run.problems.is_empty(), "{:?}", run.problems);

    // An idle session expires: the next action asks for sign-in again.
    sign_in(&b, &base, &member);
    std::thread::sleep(Duration::from_secs(IDLE + 1));
    b.refresh();
    b.wait_for("#signin-token", WAIT);
    assert_eq!(
        page_fetch(&b, "GET", "/ui/session", None, Value::Null),
        401,
        "the expired session is gone"
    );

    // An administrator's views: every CA, and the tokens.
    sign_in(&b, &base, &admin);
    let tree = b.wait_text("ul.tree", "member2", WAIT);
    assert!(tree.contains("member1"), "{tree}");
    b.goto(&format!("{base}/#/tokens"));
    b.wait_text("#tokens", "ca-operator", WAIT);
    // A new token is shown once and works; revoking it ends it.
    b.type_into(&b.wait_for("#token-description", WAIT), "portal reader");
    b.click(&b.wait_for("#token-create button[type=submit]", WAIT));
    let created = b.wait_text("#new-token", "anc_", WAIT);
    assert_eq!(client.get("/api/v1/cas", created.trim()).status, 200);
    shot(&b, "tokens");
    let row = b.wait_text("#tokens tbody tr:last-child", "portal reader", WAIT);
    assert!(row.contains("read-only"), "{row}");
    b.click(&b.wait_for("#tokens tbody tr:last-child button", WAIT));
    b.accept_dialog();
    b.wait_for("#tokens tbody tr:last-child", WAIT);
    let deadline = std::time::Instant::now() + WAIT;
    while client.get("/api/v1/cas", created.trim()).status != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token still works"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(s);
}
