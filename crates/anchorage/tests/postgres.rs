//! Anchorage on PostgreSQL: `--database postgres://…` for `init`, the
//! commands after it, and `serve`; the repository it publishes validated
//! by rpki-client, FORT and the bundled validator, as on SQLite.

mod common;

use std::time::{Duration, Instant};

use anchorage_testkit::postgres::PostgresServer;
use common::api::{Client, add_member_roa, serve, token, wait_published};
use common::{Cli, validate_everywhere, vrps};
use serde_json::json;

/// `init` on a database: the data directory records it, and every later
/// command finds it there.
fn init_on(dir: &std::path::Path, url: &str) -> Cli {
    Cli::init_with(dir, "https://127.0.0.1/rrdp/", &["--database", url])
}

#[test]
fn a_ca_on_postgresql_publishes_what_validators_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();
    let cli = init_on(&tmp.path().join("data"), &url);

    // The data directory names the database, privately, and holds no
    // SQLite store.
    use std::os::unix::fs::PermissionsExt;
    let recorded = cli.dir.join("database.url");
    assert_eq!(std::fs::read_to_string(&recorded).unwrap().trim(), url);
    assert_eq!(
        std::fs::metadata(&recorded).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!cli.dir.join("anchorage.db").exists());

    // Later commands need no --database.
    cli.ca_create("member", None, "AS64496, 192.0.2.0/24, 2001:db8::/32");
    cli.roa_add("member", 64496, "192.0.2.0/24");
    cli.ok(&[
        "roa",
        "add",
        "member",
        "--asn",
        "64496",
        "--prefix",
        "2001:db8::/32",
        "--max-length",
        "48",
    ]);
    cli.ok(&["publish"]);
    let listed = cli.json(&["roa", "list", "member"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let rsyncd = cli.serve(&tmp.path().join("rsyncd1"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &tmp.path().join("v1"),
        &vrps(&[(64496, "192.0.2.0/24", 24), (64496, "2001:db8::/32", 48)]),
    );
    drop(rsyncd);

    // The same CA state is in the database, not in any file.
    assert_eq!(
        server
            .psql("anchorage", "SELECT count(*) FROM roas WHERE ca = 'member'")
            .unwrap(),
        "2"
    );

    // serve on the database: a ROA through the admin API reaches the
    // repository, and validators see it.
    let admin = token(&cli, &["--role", "admin"]);
    let s = serve(&cli, "");
    let c = Client::new(&cli, &s.api);
    let r = c.json(
        "POST",
        "/api/v1/cas/member/roas",
        &admin,
        json!({"add": [{"asn": 64497, "prefix": "192.0.2.128/25"}]}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    wait_published(&cli.dir);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd2"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &tmp.path().join("v2"),
        &vrps(&[
            (64496, "192.0.2.0/24", 24),
            (64496, "2001:db8::/32", 48),
            (64497, "192.0.2.128/25", 25),
        ]),
    );
    // Bad input is refused and changes nothing, on this backend too.
    let before = server
        .psql("anchorage", "SELECT count(*) FROM audit")
        .unwrap();
    let r = c.json(
        "POST",
        "/api/v1/cas/member/roas",
        &admin,
        json!({"add": [{"asn": 64497, "prefix": "198.51.100.0/24"}]}),
    );
    assert!((400..500).contains(&r.status), "{} {}", r.status, r.body);
    assert_eq!(r.body["status"], r.status, "a JSON problem body");
    assert_eq!(
        server
            .psql("anchorage", "SELECT count(*) FROM audit")
            .unwrap(),
        before
    );
}

#[test]
fn database_errors_are_clear_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();
    let cli = init_on(&tmp.path().join("one"), &url);

    // A second installation on the same database: refused, nothing written.
    let other = Cli {
        dir: tmp.path().join("two"),
    };
    let err = other.fails(&[
        "--database",
        &url,
        "init",
        "--rsync-uri",
        "rsync://127.0.0.1/repo/",
        "--rrdp-uri",
        "https://127.0.0.1/rrdp/",
    ]);
    assert!(err.contains("already exists"), "{err}");
    assert!(!other.dir.join("database.url").exists());

    // A data directory belongs to its store: another database given
    // (a stray ANCHORAGE_DATABASE) is refused, without its password.
    let empty = server.create_database("empty").unwrap();
    let with_password = empty.replace("anchorage@", "anchorage:hunter2@");
    let err = cli.fails_with(
        &[("ANCHORAGE_DATABASE", with_password.as_str())],
        &["ca", "list"],
    );
    assert!(
        err.contains("belongs to one store") && err.contains("/empty"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // An unknown scheme is refused, not taken for a file name.
    let err = other.fails(&[
        "--database",
        "postgress://anchorage:hunter2@127.0.0.1/x",
        "ca",
        "list",
    ]);
    assert!(
        err.contains("postgres://") && !err.contains("hunter2"),
        "{err}"
    );

    // No database there: the command says so, naming where it looked.
    let err = other.fails(&["--database", &with_password, "ca", "list"]);
    assert!(
        err.contains("no database") && err.contains("/empty"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");

    // No server at all: an error, not a hang.
    let nowhere = format!(
        "postgres://anchorage@127.0.0.1:{}/anchorage",
        anchorage_testkit::free_port().unwrap()
    );
    let err = other.fails(&["--database", &nowhere, "ca", "list"]);
    assert!(err.contains("PostgreSQL"), "{err}");

    // A database written by a newer Anchorage is refused with the versions.
    server
        .psql(
            "anchorage",
            "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
        )
        .unwrap();
    let err = cli.fails(&["ca", "list"]);
    assert!(err.contains("999") && err.contains("newer"), "{err}");
}

/// `anchorage migrate` moves a SQLite installation into PostgreSQL
/// without changing a published byte; the installation goes on from
/// there (numbers continue) and its old SQLite store no longer opens.
#[test]
fn migrate_moves_a_sqlite_installation_without_changing_a_published_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let cli = Cli::init(&tmp.path().join("data"));
    cli.ca_create("member", None, "AS64496, 192.0.2.0/24, 2001:db8::/32");
    cli.ca_create("sub", Some("member"), "AS64496, 192.0.2.0/25");
    cli.roa_add("member", 64496, "192.0.2.0/24");
    cli.roa_add("sub", 64496, "192.0.2.0/25");
    cli.ok(&["publish"]);
    let cas_before = cli.json(&["ca", "list"]);
    let server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();

    // Not while serve runs on the directory.
    {
        let _s = serve(&cli, "");
        let err = cli.fails(&["migrate", "--to", &url]);
        assert!(err.contains("serve is running"), "{err}");
    }
    assert_eq!(
        server
            .psql("anchorage", "SELECT to_regclass('meta') IS NULL")
            .unwrap(),
        "t"
    );
    // Not into something that is not PostgreSQL.
    let err = cli.fails(&["migrate", "--to", "/tmp/elsewhere.db"]);
    assert!(err.contains("--to"), "{err}");
    let published_after_serve = common::published(&cli.dir);

    let out = cli.ok(&["migrate", "--to", &url]);
    assert!(out.contains("objects"), "{out}");
    assert_eq!(
        std::fs::read_to_string(cli.dir.join("database.url"))
            .unwrap()
            .trim(),
        url
    );
    // The same CAs, read from PostgreSQL now, and not a byte of the
    // repository changed; a publication finds nothing to do.
    assert_eq!(cli.json(&["ca", "list"]), cas_before);
    cli.ok(&["publish"]);
    assert_eq!(common::published(&cli.dir), published_after_serve);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &tmp.path().join("v1"),
        &vrps(&[(64496, "192.0.2.0/24", 24), (64496, "192.0.2.0/25", 25)]),
    );
    drop(rsyncd);

    // It goes on from there: a change re-signs with the next manifest
    // number, and validators follow.
    let number = |db: &str| {
        server
            .psql(
                db,
                "SELECT next_manifest_number FROM cas WHERE handle = 'sub'",
            )
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = number("anchorage");
    cli.roa_add("sub", 64497, "192.0.2.0/26");
    cli.ok(&["publish"]);
    assert_eq!(number("anchorage"), before + 1);
    let rsyncd = cli.serve(&tmp.path().join("rsyncd2"));
    validate_everywhere(
        &cli,
        &rsyncd,
        &tmp.path().join("v2"),
        &vrps(&[
            (64496, "192.0.2.0/24", 24),
            (64496, "192.0.2.0/25", 25),
            (64497, "192.0.2.0/26", 26),
        ]),
    );
    // The data directory is tied to its store now: another one given is
    // refused, the old SQLite file among them.
    let old = cli.dir.join("anchorage.db");
    let err = cli.fails(&["--database", old.to_str().unwrap(), "ca", "list"]);
    assert!(err.contains("belongs to one store"), "{err}");
    // The old store refuses to open from anywhere, naming where it went.
    let elsewhere = Cli {
        dir: tmp.path().join("elsewhere"),
    };
    std::fs::create_dir_all(&elsewhere.dir).unwrap();
    let err = elsewhere.fails(&["--database", old.to_str().unwrap(), "ca", "list"]);
    assert!(err.contains("moved") && err.contains("127.0.0.1"), "{err}");
    // And a second migration is refused.
    let err = cli.fails(&["migrate", "--to", &url]);
    assert!(err.contains("already exists"), "{err}");
}

/// PostgreSQL stopped for 30 s under a stream of ROA additions through
/// the API: every request is answered, with 200 or a 503 problem (never
/// a 500, never a hang); service resumes by itself when the database is
/// back (the instance stood by meanwhile, and leads again), and every
/// acknowledged change is there and published.
#[test]
fn a_database_outage_is_a_503_and_service_resumes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let tmp = tempfile::tempdir().unwrap();
    let mut server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();
    let cli = init_on(&tmp.path().join("data"), &url);
    cli.ca_create("member", None, "AS64496, 10.0.0.0/8");
    let admin = token(&cli, &["--role", "admin"]);
    let s = serve(&cli, "");
    let done = Arc::new(AtomicBool::new(false));
    // (acknowledged prefixes, 503s, when the last change was acknowledged)
    let seen = Arc::new(Mutex::new((Vec::<String>::new(), 0u32, Instant::now())));
    let stream = std::thread::spawn({
        let (c, admin) = (Client::new(&cli, &s.api), admin.clone());
        let (done, seen) = (done.clone(), seen.clone());
        move || {
            let mut i = 0u32;
            while !done.load(Ordering::SeqCst) {
                let prefix = format!("10.{}.{}.0/24", i / 256, i % 256);
                i += 1;
                let r = add_member_roa(&c, &admin, &prefix).unwrap();
                let mut seen = seen.lock().unwrap();
                match r.status {
                    200 => {
                        seen.0.push(prefix);
                        seen.2 = Instant::now();
                    }
                    503 => {
                        assert_eq!(r.body["status"], 503, "{}", r.body);
                        seen.1 += 1;
                        drop(seen);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    other => panic!("{other}: {}", r.body),
                }
            }
        }
    });
    let acknowledged = || seen.lock().unwrap().0.len();
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged() < 5 {
        assert!(Instant::now() < deadline, "no change acknowledged");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stop().unwrap();
    let stopped = Instant::now();
    std::thread::sleep(Duration::from_secs(30));
    let during = seen.lock().unwrap().clone();
    assert!(
        during.1 >= 10,
        "changes refused during the outage: {}",
        during.1
    );
    assert!(
        during.2 < stopped + Duration::from_secs(1),
        "a change acknowledged {:?} into the outage",
        during.2 - stopped
    );
    server.start_again().unwrap();
    // Service resumes by itself.
    let before = during.0.len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged() < before + 5 {
        assert!(Instant::now() < deadline, "service did not resume");
        std::thread::sleep(Duration::from_millis(50));
    }
    done.store(true, Ordering::SeqCst);
    stream.join().unwrap();
    let acknowledged = seen.lock().unwrap().0.clone();
    wait_published(&cli.dir);
    drop(s);
    let stored = server
        .psql(
            "anchorage",
            "SELECT prefix FROM roas WHERE ca = 'member' ORDER BY prefix",
        )
        .unwrap();
    for prefix in &acknowledged {
        assert!(
            stored.lines().any(|l| l == prefix),
            "{prefix} lost: {stored}"
        );
    }
    let rsyncd = cli.serve(&tmp.path().join("rsyncd"));
    let expected: std::collections::BTreeSet<_> = stored
        .lines()
        .map(|p| anchorage_testkit::Vrp::new(64496, p, 24))
        .collect();
    validate_everywhere(&cli, &rsyncd, &tmp.path().join("v"), &expected);
}

#[test]
fn a_postgresql_store_backs_up_and_restores_as_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    let server = PostgresServer::start(tmp.path()).unwrap();
    let url = server.create_database("anchorage").unwrap();
    let cli = init_on(&tmp.path().join("data"), &url);
    cli.ca_create("member", None, "AS64496, 192.0.2.0/24");
    cli.roa_add("member", 64496, "192.0.2.0/24");
    let file = tmp.path().join("backup.tar.gz");
    let out = cli.ok(&["backup", "--output", file.to_str().unwrap()]);
    assert!(out.contains("postgres"), "the store it came from: {out}");

    // Restored as a SQLite data directory that publishes the same VRPs.
    let restored = Cli {
        dir: tmp.path().join("restored"),
    };
    restored.ok(&["restore", file.to_str().unwrap()]);
    assert!(restored.dir.join("anchorage.db").exists());
    assert!(!restored.dir.join("database.url").exists());
    assert_eq!(
        restored
            .json(&["roa", "list", "member"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let rsyncd = restored.serve(&tmp.path().join("rsyncd"));
    validate_everywhere(
        &restored,
        &rsyncd,
        &tmp.path().join("v"),
        &vrps(&[(64496, "192.0.2.0/24", 24)]),
    );
}
