//! The store's behaviour, the same on both backends: every test runs once
//! on SQLite and once on a real PostgreSQL server started for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anchorage_ca_core::point::PublishedObject;
use anchorage_ca_core::router::RouterKey;
use anchorage_ca_core::{AspaDefinition, CaRecord, IpPrefix, PublicationPoint, RoaPayload};
use anchorage_store::{
    AuditFilter, CaKey, KeyState, Location, Peer, PeerKind, Store, StoreError, StoredToken, Who,
    WriteGate,
};
use anchorage_testkit::postgres::PostgresServer;
use bytes::Bytes;
use rpki::crypto::KeyIdentifier;
use rpki::repository::x509::{Serial, Time};

/// A database of one backend, with what keeps it alive.
struct Db {
    location: Location,
    server: Option<PostgresServer>,
    dir: tempfile::TempDir,
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        Db {
            location: Location::Sqlite(dir.path().join("anchorage.db")),
            server: None,
            dir,
        }
    }

    fn postgres() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let server = PostgresServer::start(dir.path()).expect("PostgreSQL server");
        let url = server.create_database("anchorage").unwrap();
        Db {
            location: Location::Postgres(url),
            server: Some(server),
            dir,
        }
    }

    /// The PostgreSQL database's connection string.
    fn url(&self) -> &str {
        match &self.location {
            Location::Postgres(url) => url,
            Location::Sqlite(_) => panic!("a PostgreSQL test on SQLite"),
        }
    }

    fn create(&self) -> Store {
        Store::create_at(&self.location).unwrap()
    }

    fn open(&self) -> Store {
        Store::open_at(&self.location, Arc::new(WriteGate::default())).unwrap()
    }

    /// Runs SQL behind the store's back (what an operator with a SQL
    /// shell could do).
    fn raw(&self, sql: &str) -> Result<(), String> {
        match &self.location {
            Location::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .map_err(|e| e.to_string()),
            Location::Postgres(url) => ::postgres::Client::connect(url, ::postgres::NoTls)
                .unwrap()
                .batch_execute(sql)
                .map_err(|e| e.to_string()),
        }
    }
}

/// Runs each named check on both backends.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Db::sqlite()) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Db::postgres()) } )*
        }
    };
}

on_both!(
    lifecycle_and_schema_version,
    cas_and_roas,
    points_objects_and_revocations,
    the_change_journal,
    audit_tokens_peers_rrdp_contacts,
    key_rollover_rows,
    writers_take_turns,
    a_read_transaction_is_one_snapshot,
);

/// An ECDSA P-256 router key, as SubjectPublicKeyInfo DER.
const ROUTER_SPKI: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x60, 0xe2, 0x47, 0x82, 0x33,
    0xb1, 0x79, 0xec, 0x3f, 0x63, 0x9d, 0x67, 0x15, 0x66, 0x04, 0xe9, 0xd9, 0xfc, 0x18, 0x69, 0x11,
    0xbf, 0x37, 0xc2, 0x31, 0x85, 0x4d, 0xb4, 0x75, 0x27, 0xba, 0x8b, 0xb3, 0x26, 0x73, 0xd0, 0x88,
    0xdc, 0xda, 0xf1, 0x0e, 0xd6, 0x3f, 0x0c, 0xf9, 0x65, 0x81, 0x84, 0xe0, 0xff, 0xce, 0xd5, 0xb1,
    0x95, 0x4e, 0x2b, 0x49, 0xcd, 0x48, 0x4d, 0xa0, 0x57, 0x8a, 0xfb,
];

fn t(secs: i64) -> Time {
    anchorage_store::from_secs(secs).unwrap()
}

fn serial(n: u64) -> Serial {
    let mut a = [0u8; 20];
    a[12..].copy_from_slice(&n.to_be_bytes());
    Serial::from_array(a).unwrap()
}

fn ca(handle: &str, parent: Option<&str>) -> CaRecord {
    CaRecord {
        handle: handle.into(),
        parent: parent.map(str::to_string),
        resources: "AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32"
            .parse()
            .unwrap(),
        key: KeyIdentifier::from([handle.len() as u8; 20]),
        cert: Bytes::from(format!("cert of {handle}").into_bytes()),
        cert_serial: serial(handle.len() as u64 + 1000),
        cert_not_after: t(2_000_000_000),
        cert_uri: None,
    }
}

fn object(name: &str, bytes: &[u8], serial_no: Option<u64>, not_after: i64) -> PublishedObject {
    PublishedObject::new(
        name.into(),
        Bytes::copy_from_slice(bytes),
        serial_no.map(serial),
        t(not_after),
    )
}

fn lifecycle_and_schema_version(db: Db) {
    // Nothing there yet: refused with the location named.
    match Store::open_at(&db.location, Arc::new(WriteGate::default())) {
        Err(StoreError::Missing(at)) => assert!(at.contains("anchorage"), "{at}"),
        other => panic!("open before create: {:?}", other.err()),
    }
    let mut store = db.create();
    assert!(matches!(
        Store::create_at(&db.location),
        Err(StoreError::AlreadyExists(_))
    ));
    let tx = store.transaction().unwrap();
    tx.set_meta("rsync_base", "rsync://example.net/repo/")
        .unwrap();
    tx.set_meta("rsync_base", "rsync://example.net/repo2/")
        .unwrap();
    tx.commit().unwrap();
    // Uncommitted: gone.
    let tx = store.transaction().unwrap();
    tx.set_meta("lost", "yes").unwrap();
    drop(tx);
    drop(store);
    let mut store = db.open();
    let tx = store.read_transaction().unwrap();
    assert_eq!(
        tx.meta("rsync_base").unwrap().as_deref(),
        Some("rsync://example.net/repo2/")
    );
    assert_eq!(tx.meta("lost").unwrap(), None);
    assert_eq!(
        tx.meta("schema_version").unwrap(),
        Some(anchorage_store::SCHEMA_VERSION.to_string())
    );
    drop(tx);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    drop(store);
    // A database of a newer Anchorage is refused, with both versions named.
    db.raw("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    match Store::open_at(&db.location, Arc::new(WriteGate::default())) {
        Err(e @ StoreError::NewerSchema { found: 99, .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("99") && msg.contains("newer"), "{msg}");
        }
        other => panic!("newer schema: {:?}", other.err()),
    }
}

fn cas_and_roas(db: Db) {
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    // Created in this order: "zz" first, so creation order is not name order.
    tx.insert_ca(&ca("zz", None), t(100)).unwrap();
    tx.insert_ca(&ca("b", Some("zz")), t(101)).unwrap();
    tx.insert_ca(&ca("a", Some("zz")), t(102)).unwrap();
    tx.commit().unwrap();
    let tx = store.transaction().unwrap();
    let handles: Vec<String> = tx.cas().unwrap().into_iter().map(|c| c.handle).collect();
    assert_eq!(handles, ["zz", "b", "a"], "creation order");
    assert_eq!(tx.children("zz").unwrap(), ["a", "b"]);
    let loaded = tx.ca("b").unwrap().unwrap();
    assert_eq!(loaded.cert, ca("b", Some("zz")).cert);
    assert_eq!(loaded.cert_serial, serial(1001));
    assert_eq!(
        loaded.resources.to_string(),
        ca("b", None).resources.to_string()
    );
    assert!(tx.ca("nobody").unwrap().is_none());
    let mut changed = loaded.clone();
    changed.cert = Bytes::from_static(b"new cert");
    changed.cert_uri = Some("rsync://parent.example/repo/b.cer".into());
    tx.update_ca(&changed).unwrap();
    assert_eq!(tx.ca("b").unwrap().unwrap().cert_uri, changed.cert_uri);

    let roa = |asn, p: &str, max| {
        RoaPayload::new(asn, p.parse::<IpPrefix>().unwrap(), Some(max)).unwrap()
    };
    assert!(tx.insert_roa("a", &roa(64496, "192.0.2.0/24", 24)).unwrap());
    assert!(
        !tx.insert_roa("a", &roa(64496, "192.0.2.0/24", 24)).unwrap(),
        "already there"
    );
    assert!(
        tx.insert_roa("a", &roa(64497, "2001:db8::/32", 48))
            .unwrap()
    );
    assert!(
        tx.insert_roa("a", &roa(64496, "192.0.2.128/25", 25))
            .unwrap()
    );
    assert_eq!(tx.roas("a", None).unwrap().len(), 3);
    assert_eq!(tx.roas("a", Some(64496)).unwrap().len(), 2);
    assert_eq!(tx.roas("b", None).unwrap().len(), 0);
    assert!(tx.delete_roa("a", &roa(64496, "192.0.2.0/24", 24)).unwrap());
    assert!(!tx.delete_roa("a", &roa(64496, "192.0.2.0/24", 24)).unwrap());
    assert_eq!(tx.all_roas().unwrap().len(), 2);
    // A CA under a remote parent (no parent here) and one below it: not
    // under "zz", whose tree a validation from its TAL reaches.
    tx.insert_ca(&ca("remote", None), t(103)).unwrap();
    tx.insert_ca(&ca("deep", Some("remote")), t(104)).unwrap();
    tx.insert_ca(&ca("grandchild", Some("a")), t(105)).unwrap();
    assert!(tx.insert_roa("deep", &roa(64500, "10.0.0.0/8", 8)).unwrap());
    assert!(
        tx.insert_roa("grandchild", &roa(64501, "10.1.0.0/16", 16))
            .unwrap()
    );
    let under = |root| {
        let mut v: Vec<u32> = tx.roas_under(root).unwrap().iter().map(|r| r.asn).collect();
        v.sort();
        v
    };
    assert_eq!(under("zz"), [64496, 64497, 64501]);
    assert_eq!(under("remote"), [64500]);
    assert_eq!(tx.all_roas().unwrap().len(), 4);
    tx.set_contact("a", Some("BEGIN:VCARD\r\nEND:VCARD\r\n"))
        .unwrap();
    // ASPAs: one per customer AS, replaced whole, listed by customer.
    let aspa = |c, p: &[u32]| AspaDefinition::new(c, p).unwrap();
    assert!(tx.put_aspa("a", &aspa(64497, &[64511, 64510])).unwrap());
    assert!(!tx.put_aspa("a", &aspa(64497, &[64510, 64511])).unwrap());
    assert!(tx.put_aspa("a", &aspa(64496, &[])).unwrap());
    assert!(tx.put_aspa("b", &aspa(64499, &[64510])).unwrap());
    assert!(tx.put_aspa("a", &aspa(64497, &[64512])).unwrap());
    assert_eq!(
        tx.aspas("a", None).unwrap(),
        [aspa(64496, &[0]), aspa(64497, &[64512])]
    );
    assert_eq!(tx.aspas("a", Some(64497)).unwrap(), [aspa(64497, &[64512])]);
    assert_eq!(tx.aspas_under("zz").unwrap().len(), 3);
    assert!(tx.delete_aspa("b", 64499).unwrap());
    assert!(!tx.delete_aspa("b", 64499).unwrap());
    tx.commit().unwrap();

    let tx = store.transaction().unwrap();
    tx.delete_ca("grandchild").unwrap();
    tx.delete_ca("a").unwrap();
    assert!(tx.ca("a").unwrap().is_none());
    assert!(tx.roas("a", None).unwrap().is_empty());
    assert!(tx.contact("a").unwrap().is_none());
    assert!(tx.aspas("a", None).unwrap().is_empty());
    tx.commit().unwrap();
}

fn points_objects_and_revocations(db: Db) {
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    tx.insert_ca(&ca("ca", None), t(100)).unwrap();
    let mut point = PublicationPoint::new();
    // Bytewise order puts "B" before "a" (a locale's order would not).
    point.publish(object("a.roa", b"roa a", Some(1), 1_900_000_000), t(1000));
    point.publish(object("B.roa", b"roa B", Some(2), 1_800_000_000), t(1000));
    point.publish(
        object("k.mft", b"manifest", Some(3), 1_700_000_000),
        t(1000),
    );
    point.publish(object("k.crl", b"crl", None, 1_700_000_000), t(1000));
    point.next_manifest_number = 7;
    tx.save_point("ca", &point, t(1000)).unwrap();
    tx.commit().unwrap();

    let tx = store.transaction().unwrap();
    let version = tx.point_version("ca").unwrap().unwrap();
    let mut point = tx.point("ca").unwrap();
    assert_eq!(point.objects.len(), 4);
    assert_eq!(point.next_manifest_number, 7);
    assert_eq!(
        point.objects["a.roa"].hash,
        anchorage_store::sha256(b"roa a")
    );
    let files = tx.files().unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["B.roa", "a.roa", "k.crl", "k.mft"]);
    assert!(files.iter().all(|f| f.mtime == 1000));
    // Replacing a ROA revokes the old one; the same bytes keep their mtime,
    // new bytes get a later one even when the clock says otherwise.
    point.publish(object("a.roa", b"roa a v2", Some(4), 1_900_000_000), t(900));
    point.publish(object("B.roa", b"roa B", Some(2), 1_800_000_000), t(900));
    point.withdraw("k.crl", t(900));
    tx.save_point("ca", &point, t(900)).unwrap();
    assert!(tx.point_version("ca").unwrap().unwrap() > version);
    let files = tx.files().unwrap();
    let mtime = |n: &str| files.iter().find(|f| f.name == n).map(|f| f.mtime);
    assert_eq!(
        mtime("a.roa"),
        Some(1001),
        "changed bytes: previous mtime + 1"
    );
    assert_eq!(mtime("B.roa"), Some(1000), "same bytes: same mtime");
    assert_eq!(mtime("k.crl"), None, "withdrawn");
    let point = tx.point("ca").unwrap();
    assert_eq!(
        point
            .revocations
            .iter()
            .map(|r| r.serial)
            .collect::<Vec<_>>(),
        [serial(1), serial(2)],
        "the replaced files' certificates are revoked"
    );
    // A partial point: only the named objects, no revocations.
    let partial = tx.point_partial("ca", &["B.roa", "nothing.roa"]).unwrap();
    assert_eq!(partial.objects.keys().collect::<Vec<_>>(), ["B.roa"]);
    // A point for a refresh: every object with its stored hash, serial
    // and expiry, the bytes of none but the manifest; the revocations.
    let listed = tx.point_for_refresh("ca").unwrap();
    assert_eq!(
        listed.objects.keys().collect::<Vec<_>>(),
        point.objects.keys().collect::<Vec<_>>()
    );
    for (name, whole) in &point.objects {
        let o = &listed.objects[name];
        assert_eq!(
            (o.hash, o.serial, o.not_after),
            (whole.hash, whole.serial, whole.not_after),
            "{name}"
        );
        let bytes: &[u8] = match name.ends_with(".mft") {
            true => &whole.bytes,
            false => b"",
        };
        assert_eq!(&o.bytes[..], bytes, "{name}");
    }
    let serials = |p: &PublicationPoint| p.revocations.iter().map(|r| r.serial).collect::<Vec<_>>();
    assert_eq!(serials(&listed), serials(&point));
    // Expiries, counts and single files, read without the point.
    assert_eq!(
        tx.point_earliest_expiry("ca").unwrap(),
        Some(t(1_800_000_000))
    );
    assert_eq!(
        tx.object_expiry("ca", "k.mft").unwrap(),
        Some(t(1_700_000_000))
    );
    assert_eq!(tx.earliest_expiry(true).unwrap(), Some(1_700_000_000));
    assert_eq!(
        tx.object_counts().unwrap(),
        [("mft".to_string(), 1), ("roa".to_string(), 2)]
    );
    assert_eq!(
        &tx.file_at("ca/a.roa").unwrap().unwrap().bytes[..],
        b"roa a v2"
    );
    assert!(tx.file_at("ca/k.crl").unwrap().is_none());
    assert_eq!(tx.published_count().unwrap(), 3);
    let mut streamed = Vec::new();
    tx.each_file::<StoreError>(|f| {
        streamed.push(format!("{}/{}", f.dir, f.name));
        Ok(())
    })
    .unwrap();
    streamed.sort();
    assert_eq!(streamed, ["ca/B.roa", "ca/a.roa", "ca/k.mft"]);
    // Pending marks.
    tx.mark_pending("ca").unwrap();
    tx.mark_pending("ca").unwrap();
    tx.mark_pending("other").unwrap();
    assert_eq!(tx.pending_points().unwrap(), ["ca", "other"]);
    tx.clear_pending_of("other").unwrap();
    assert_eq!(tx.pending_points().unwrap(), ["ca"]);
    tx.commit().unwrap();
}

fn the_change_journal(db: Db) {
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    let seq0 = tx.change_seq().unwrap();
    tx.put_object("ca", &object("a.roa", b"1", None, 0), t(1))
        .unwrap();
    tx.put_object("", &object("ta.cer", b"t", None, 0), t(1))
        .unwrap();
    tx.put_object("ca@KEY", &object("k.mft", b"m", None, 0), t(1))
        .unwrap();
    let seq1 = tx.change_seq().unwrap();
    assert!(seq1 > seq0);
    let c = tx.changes_between(seq0, seq1).unwrap();
    assert_eq!(
        c.paths.iter().map(String::as_str).collect::<Vec<_>>(),
        ["ca/a.roa", "ca/k.mft", "ta.cer"]
    );
    // The same bytes again: nothing changed.
    tx.put_object("ca", &object("a.roa", b"1", None, 0), t(1))
        .unwrap();
    assert_eq!(tx.change_seq().unwrap(), seq1);
    tx.put_object("ca", &object("a.roa", b"2", None, 0), t(2))
        .unwrap();
    tx.delete_object("", "ta.cer").unwrap();
    let seq2 = tx.change_seq().unwrap();
    let c = tx.changes_between(seq1, seq2).unwrap();
    assert_eq!(
        c.paths.iter().map(String::as_str).collect::<Vec<_>>(),
        ["ca/a.roa", "ta.cer"]
    );
    tx.put_publisher_object("pub", "rsync://h/repo/pub/x.cer", b"x", t(3))
        .unwrap();
    let seq3 = tx.change_seq().unwrap();
    let c = tx.changes_between(seq2, seq3).unwrap();
    assert!(c.paths.is_empty());
    assert_eq!(
        c.uris.iter().map(String::as_str).collect::<Vec<_>>(),
        ["rsync://h/repo/pub/x.cer"]
    );
    assert_eq!(tx.published_count().unwrap(), 3);
    tx.commit().unwrap();
    // Pruned up to the newest: the mark does not go back, and a later
    // change still gets a higher one.
    let tx = store.transaction().unwrap();
    tx.prune_changes(seq3).unwrap();
    assert_eq!(tx.change_seq().unwrap(), seq3);
    assert!(tx.changes_between(0, seq2).unwrap().paths.is_empty());
    tx.put_object("ca", &object("b.roa", b"b", None, 0), t(4))
        .unwrap();
    assert!(tx.change_seq().unwrap() > seq3);
    // Two rows of one published path (a key's directory beside the
    // CA's): refused, by the stream too.
    tx.put_object("ca@OTHER", &object("b.roa", b"x", None, 0), t(5))
        .unwrap();
    assert!(tx.file_at("ca/b.roa").is_err());
    assert!(tx.each_file::<StoreError>(|_| Ok(())).is_err());
    // (A write transaction whose read stopped on an error does not
    // commit on PostgreSQL: what it did not read might have failed.)
    drop(tx);
}

fn audit_tokens_peers_rrdp_contacts(db: Db) {
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    tx.insert_ca(&ca("ca1", None), t(1)).unwrap();
    let who = Who {
        actor: "alice",
        request_id: Some("req-1"),
    };
    tx.audit(t(10), who, "ca create", Some("ca1"), "created")
        .unwrap();
    tx.audit_change(
        t(20),
        Who {
            actor: "bob",
            request_id: None,
        },
        "roa add",
        Some("ca2"),
        "d",
        None,
        Some("{}"),
    )
    .unwrap();
    tx.audit(t(30), who, "publish", None, "p").unwrap();
    let g = tx.audit_generation().unwrap();
    tx.commit().unwrap();
    let tx = store.read_transaction().unwrap();
    assert!(g >= 3);
    let all = tx.audit_log(&AuditFilter::default()).unwrap();
    assert_eq!(all.iter().map(|e| e.time).collect::<Vec<_>>(), [10, 20, 30]);
    assert_eq!(all[0].request_id.as_deref(), Some("req-1"));
    let of =
        |f: AuditFilter| -> Vec<i64> { tx.audit_log(&f).unwrap().iter().map(|e| e.time).collect() };
    assert_eq!(
        of(AuditFilter {
            cas: Some(vec!["ca2".into(), "x".into()]),
            ..Default::default()
        }),
        [20]
    );
    assert_eq!(
        of(AuditFilter {
            cas: Some(vec![]),
            ..Default::default()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        of(AuditFilter {
            actor: Some("alice".into()),
            ..Default::default()
        }),
        [10, 30]
    );
    assert_eq!(
        of(AuditFilter {
            since: Some(15),
            until: Some(30),
            ..Default::default()
        }),
        [20, 30]
    );
    assert_eq!(
        of(AuditFilter {
            limit: 2,
            ..Default::default()
        }),
        [20, 30]
    );
    drop(tx);
    // The log is append-only, whoever asks.
    assert!(db.raw("UPDATE audit SET actor = 'mallory'").is_err());
    assert!(db.raw("DELETE FROM audit").is_err());

    let tx = store.transaction().unwrap();
    let token = StoredToken {
        id: "tok1".into(),
        hash: "$argon2id$...".into(),
        role: "ca-operator".into(),
        cas: vec!["ca1".into(), "ca2".into()],
        description: "ops".into(),
        created: 5,
        created_by: "alice".into(),
        revoked: None,
    };
    tx.insert_token(&token).unwrap();
    assert_eq!(tx.token("tok1").unwrap(), Some(token.clone()));
    assert!(tx.revoke_token("tok1", t(7)).unwrap());
    assert!(!tx.revoke_token("tok1", t(8)).unwrap(), "already revoked");
    assert_eq!(tx.tokens().unwrap()[0].revoked, Some(7));

    let child = Peer {
        kind: PeerKind::Child,
        handle: "lir".into(),
        parent: Some("ca1".into()),
        id_cert: Bytes::from_static(b"id cert"),
        resources: Some("AS64500, 198.51.100.0/24".parse().unwrap()),
        created: 9,
        ..Default::default()
    };
    tx.insert_peer(&child).unwrap();
    tx.set_peer_last_message(PeerKind::Child, "lir", 77, &["d1".into(), "d2".into()])
        .unwrap();
    tx.set_peer_sync(PeerKind::Child, "lir", Some(78), Some("timed out"))
        .unwrap();
    let got = tx.peer(PeerKind::Child, "lir").unwrap().unwrap();
    assert_eq!(got.last_digests, ["d1", "d2"]);
    assert_eq!((got.last_signing_time, got.last_sync), (Some(77), Some(78)));
    assert_eq!(got.last_error.as_deref(), Some("timed out"));
    assert_eq!(
        got.resources.unwrap().to_string(),
        child.resources.clone().unwrap().to_string()
    );
    assert_eq!(tx.children_of("ca1").unwrap().len(), 1);
    assert!(tx.peer(PeerKind::Publisher, "lir").unwrap().is_none());
    tx.put_child_cert(
        "lir",
        &anchorage_store::ChildCert {
            ski: "AB".into(),
            name: "AB.cer".into(),
            resources: "AS64500".parse().unwrap(),
            req_limit: "{}".into(),
        },
    )
    .unwrap();
    assert_eq!(tx.child_of_key("AB").unwrap().as_deref(), Some("lir"));
    assert_eq!(tx.child_certs("lir").unwrap().len(), 1);
    assert!(tx.delete_peer(PeerKind::Child, "lir").unwrap());
    assert!(tx.child_certs("lir").unwrap().is_empty());

    tx.put_publisher_object("p", "rsync://h/r/p/a.cer", b"a", t(50))
        .unwrap();
    tx.put_publisher_object("p", "rsync://h/r/p/a.cer", b"a2", t(40))
        .unwrap();
    let objs = tx.all_publisher_objects().unwrap();
    assert_eq!(
        (objs[0].2, &objs[0].1[..]),
        (51, &b"a2"[..]),
        "a later mtime for new bytes"
    );
    assert!(
        tx.delete_publisher_object("p", "rsync://h/r/p/a.cer")
            .unwrap()
    );

    tx.rrdp_apply(
        &[
            ("rsync://h/r/x".into(), [1; 32]),
            ("rsync://h/r/y".into(), [2; 32]),
        ],
        &[],
    )
    .unwrap();
    tx.rrdp_apply(
        &[("rsync://h/r/x".into(), [3; 32])],
        &["rsync://h/r/y".into()],
    )
    .unwrap();
    assert_eq!(
        tx.rrdp_objects().unwrap(),
        [("rsync://h/r/x".to_string(), [3; 32])]
    );
    let delta = |serial| anchorage_store::DeltaRecord {
        serial,
        path: format!("s/{serial}/delta.xml"),
        hash: "00".into(),
        size: 10,
        created: 1,
    };
    tx.set_rrdp_deltas(&[delta(3), delta(2)]).unwrap();
    assert_eq!(tx.rrdp_deltas().unwrap(), [delta(3), delta(2)]);
    tx.rrdp_reset().unwrap();
    assert!(tx.rrdp_objects().unwrap().is_empty() && tx.rrdp_deltas().unwrap().is_empty());

    tx.set_contact("ca1", Some("BEGIN:VCARD\r\nFN:NOC\r\nEND:VCARD\r\n"))
        .unwrap();
    assert!(tx.contact("ca1").unwrap().unwrap().contains("NOC"));
    tx.set_contact("ca1", None).unwrap();
    assert!(tx.contact("ca1").unwrap().is_none());
    tx.commit().unwrap();
}

fn key_rollover_rows(db: Db) {
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    tx.insert_ca(&ca("parent", None), t(1)).unwrap();
    tx.insert_ca(&ca("ca", Some("parent")), t(2)).unwrap();
    let mut point = PublicationPoint::new();
    point.publish(
        object("old.mft", b"old manifest", Some(5), 1_700_000_000),
        t(10),
    );
    tx.save_point("ca", &point, t(10)).unwrap();
    let new_key = KeyIdentifier::from([9u8; 20]);
    let key = CaKey {
        ca: "ca".into(),
        key: new_key,
        state: KeyState::New,
        cert: Bytes::from_static(b"new key cert"),
        cert_serial: serial(77),
        cert_not_after: t(2_000_000_000),
        cert_uri: None,
        started: t(20),
        due: t(500),
    };
    tx.insert_ca_key(&key).unwrap();
    let mut new_point = tx.point(&key.dir()).unwrap();
    assert_eq!(new_point.next_manifest_number, 1);
    new_point.publish(
        object("new.mft", b"new manifest", Some(6), 1_700_000_000),
        t(30),
    );
    tx.save_point(&key.dir(), &new_point, t(30)).unwrap();
    assert_eq!(tx.ca_keys("ca").unwrap().len(), 1);
    assert_eq!(tx.next_key_stage().unwrap(), Some(t(500)));
    assert_eq!(tx.dir_mtime("ca").unwrap(), Some(30));
    // Both keys' files are published in the CA's directory.
    assert!(tx.file_at("ca/new.mft").unwrap().is_some());
    assert_eq!(tx.point_owner(&key.dir()).unwrap().unwrap().key, new_key);
    tx.promote_key("ca", &new_key, t(600)).unwrap();
    let promoted = tx.ca("ca").unwrap().unwrap();
    assert_eq!(promoted.key, new_key);
    assert_eq!(&promoted.cert[..], b"new key cert");
    assert_eq!(tx.key_activated("ca").unwrap(), Some(t(600)));
    let point = tx.point("ca").unwrap();
    assert_eq!(point.objects.keys().collect::<Vec<_>>(), ["new.mft"]);
    assert!(tx.ca_keys("ca").unwrap().is_empty());
    // Demoting the active key moves its point aside.
    tx.demote_active("ca", t(700), t(800)).unwrap();
    let old = tx.ca_keys("ca").unwrap();
    assert_eq!((old.len(), old[0].state), (1, KeyState::Old));
    tx.set_activated_generation("ca", &new_key, 42).unwrap();
    assert_eq!(tx.activated_generation("ca", &new_key).unwrap(), Some(42));
    assert!(
        tx.point(&old[0].dir())
            .unwrap()
            .objects
            .contains_key("new.mft")
    );
    tx.delete_ca_key("ca", &new_key).unwrap();
    assert!(tx.ca_keys("ca").unwrap().is_empty());
    assert!(tx.file_at("ca/new.mft").unwrap().is_none());
    tx.commit().unwrap();
}

/// Two connections' write transactions take turns: the second starts
/// only after the first committed, and sees what it wrote.
fn writers_take_turns(db: Db) {
    let mut first = db.create();
    let mut second = db.open();
    let inside = Arc::new(AtomicBool::new(false));
    let flag = inside.clone();
    let writer = std::thread::spawn(move || {
        let tx = first.transaction().unwrap();
        flag.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(300));
        tx.set_meta("turn", "first").unwrap();
        tx.commit().unwrap();
    });
    while !inside.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    // Another process's connection (its own gate): only the database's
    // lock makes it wait.
    let tx = second.transaction().unwrap();
    assert_eq!(tx.meta("turn").unwrap().as_deref(), Some("first"));
    tx.set_meta("turn", "second").unwrap();
    tx.commit().unwrap();
    writer.join().unwrap();
    let tx = second.read_transaction().unwrap();
    assert_eq!(tx.meta("turn").unwrap().as_deref(), Some("second"));
}

/// A read transaction sees one state, whatever commits meanwhile.
fn a_read_transaction_is_one_snapshot(db: Db) {
    let mut writer = db.create();
    let mut reader = db.open();
    let tx = writer.transaction().unwrap();
    tx.set_meta("k", "1").unwrap();
    tx.commit().unwrap();
    let read = reader.read_transaction().unwrap();
    assert_eq!(read.meta("k").unwrap().as_deref(), Some("1"));
    // A writer is not held up by the reader.
    let tx = writer.transaction().unwrap();
    tx.set_meta("k", "2").unwrap();
    tx.commit().unwrap();
    assert_eq!(read.meta("k").unwrap().as_deref(), Some("1"));
    drop(read);
    let read = reader.read_transaction().unwrap();
    assert_eq!(read.meta("k").unwrap().as_deref(), Some("2"));
}

/// On PostgreSQL a failed statement aborts its transaction: the commit
/// says so, and nothing of the transaction is stored.
#[test]
fn postgres_a_failed_statement_fails_the_commit() {
    let db = Db::postgres();
    let mut store = db.create();
    let tx = store.transaction().unwrap();
    tx.insert_ca(&ca("ca", None), t(1)).unwrap();
    assert!(
        tx.insert_ca(&ca("ca", None), t(1)).is_err(),
        "duplicate handle"
    );
    assert!(matches!(tx.commit(), Err(StoreError::RolledBack)));
    let tx = store.transaction().unwrap();
    assert!(tx.ca("ca").unwrap().is_none(), "nothing stored");
    tx.insert_ca(&ca("ca", None), t(1)).unwrap();
    tx.commit().unwrap();
}

/// When the PostgreSQL server goes away, transactions fail with an error
/// (never hang) and the store reconnects once it is back.
#[test]
fn postgres_outage_then_reconnect() {
    let mut db = Db::postgres();
    let mut store = db.create();
    let server = db.server.as_mut().unwrap();
    server.stop().unwrap();
    let failed = store
        .transaction()
        .and_then(|tx| tx.set_meta("k", "v").and_then(|_| tx.commit()));
    assert!(failed.is_err(), "no server: an error");
    server.start_again().unwrap();
    let tx = store.transaction().unwrap();
    tx.set_meta("k", "after").unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store
            .read_transaction()
            .unwrap()
            .meta("k")
            .unwrap()
            .as_deref(),
        Some("after")
    );
}

/// The PostgreSQL schema has the tables and columns of the SQLite one
/// (and `cas.rowid`, SQLite's implicit column made explicit).
#[test]
fn both_schemas_have_the_same_columns() {
    let lite = Db::sqlite();
    drop(lite.create());
    let pg = Db::postgres();
    drop(pg.create());
    let conn = rusqlite::Connection::open(match &lite.location {
        Location::Sqlite(p) => p,
        _ => unreachable!(),
    })
    .unwrap();
    let mut lite_cols: Vec<String> = conn
        .prepare(
            "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    lite_cols.push("cas.rowid".into());
    lite_cols.sort();
    let url = match &pg.location {
        Location::Postgres(u) => u.clone(),
        _ => unreachable!(),
    };
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let mut pg_cols: Vec<String> = client
        .query(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = current_schema()",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    pg_cols.sort();
    assert_eq!(pg_cols, lite_cols);
    // A migration copies every column but those made again (`cas.rowid`,
    // by creation order) or kept by triggers.
    let mut copied: Vec<String> = anchorage_store::TABLES
        .iter()
        .flat_map(|(t, cols, _)| cols.split(',').map(move |c| format!("{t}.{}", c.trim())))
        .collect();
    copied.push("cas.rowid".into());
    for t in anchorage_store::DERIVED {
        copied.extend(
            lite_cols
                .iter()
                .filter(|c| c.starts_with(&format!("{t}.")))
                .cloned(),
        );
    }
    copied.sort();
    assert_eq!(copied, lite_cols, "the copy's column list is the schema's");
    let _ = &pg.dir;
}

/// Everything the store holds, read through its API, as text.
fn fingerprint(store: &mut Store) -> String {
    let tx = store.read_transaction().unwrap();
    let mut out = String::new();
    let cas = tx.cas().unwrap();
    out += &format!("{cas:?}\n");
    for ca in &cas {
        let point = tx.point(&ca.handle).unwrap();
        out += &format!(
            "{} {:?} {:?} {} {} {:?} {:?} {:?}\n",
            ca.handle,
            tx.roas(&ca.handle, None).unwrap(),
            point.objects,
            point.next_manifest_number,
            point.next_crl_number,
            point.revocations,
            tx.ca_keys(&ca.handle).unwrap(),
            tx.contact(&ca.handle).unwrap(),
        );
        out += &format!("{:?}\n", tx.aspas(&ca.handle, None).unwrap());
        out += &format!("{:?}\n", tx.router_keys(&ca.handle).unwrap());
        out += &format!("{:?}\n", tx.point_version(&ca.handle).unwrap());
    }
    out += &format!(
        "{:?}\n",
        tx.files()
            .unwrap()
            .iter()
            .map(|f| (&f.dir, &f.name, f.mtime, f.hash))
            .collect::<Vec<_>>()
    );
    out += &format!("{:?}\n", tx.audit_log(&AuditFilter::default()).unwrap());
    out += &format!("{:?}\n", tx.tokens().unwrap());
    for kind in [
        PeerKind::Child,
        PeerKind::Publisher,
        PeerKind::Parent,
        PeerKind::Repository,
    ] {
        for p in tx.peers(kind).unwrap() {
            out += &format!("{p:?} {:?}\n", tx.child_certs(&p.handle).unwrap());
        }
    }
    out += &format!("{:?}\n", tx.all_publisher_objects().unwrap());
    out += &format!(
        "{:?} {:?}\n",
        tx.rrdp_objects().unwrap(),
        tx.rrdp_deltas().unwrap()
    );
    out += &format!("{:?}\n", tx.pending_points().unwrap());
    let seq = tx.change_seq().unwrap();
    let changes = tx.changes_between(0, seq).unwrap();
    out += &format!(
        "{seq} {:?} {:?} {}\n",
        changes.paths,
        changes.uris,
        tx.published_count().unwrap()
    );
    out += &format!(
        "{:?} {:?}\n",
        tx.audit_generation().unwrap(),
        tx.meta("rsync_base").unwrap()
    );
    out
}

/// A SQLite store copied into PostgreSQL holds exactly what it held,
/// numbers and journal included, and goes on where it stopped.
#[test]
fn a_sqlite_store_copies_into_postgresql_unchanged() {
    let lite = Db::sqlite();
    let mut source = lite.create();
    {
        let tx = source.transaction().unwrap();
        tx.set_meta("rsync_base", "rsync://example.net/repo/")
            .unwrap();
        tx.insert_ca(&ca("zz", None), t(1)).unwrap();
        tx.insert_ca(&ca("a", Some("zz")), t(2)).unwrap();
        tx.insert_roa(
            "a",
            &RoaPayload::new(64496, "192.0.2.0/24".parse().unwrap(), Some(24)).unwrap(),
        )
        .unwrap();
        let mut point = PublicationPoint::new();
        point.publish(object("a.roa", b"roa", Some(1), 1_900_000_000), t(10));
        point.publish(object("k.mft", b"mft", Some(2), 1_900_000_000), t(10));
        point.next_manifest_number = 41;
        tx.save_point("a", &point, t(10)).unwrap();
        let mut point = tx.point("a").unwrap();
        point.publish(object("a.roa", b"roa 2", Some(3), 1_900_000_000), t(11));
        tx.save_point("a", &point, t(11)).unwrap();
        tx.audit(
            t(12),
            Who {
                actor: "op",
                request_id: None,
            },
            "roa add",
            Some("a"),
            "x",
        )
        .unwrap();
        tx.put_publisher_object("p", "rsync://h/r/p/x.cer", b"x", t(13))
            .unwrap();
        tx.set_contact("a", Some("BEGIN:VCARD\r\nEND:VCARD\r\n"))
            .unwrap();
        tx.put_aspa("a", &AspaDefinition::new(64496, &[64500]).unwrap())
            .unwrap();
        let key = rpki::crypto::PublicKey::decode(ROUTER_SPKI).unwrap();
        tx.put_router_key("a", &RouterKey { asn: 64496, key })
            .unwrap();
        tx.rrdp_apply(&[("rsync://h/r/x".into(), [7; 32])], &[])
            .unwrap();
        tx.mark_pending("a").unwrap();
        tx.insert_ca_key(&CaKey {
            ca: "a".into(),
            key: KeyIdentifier::from([5u8; 20]),
            state: KeyState::New,
            cert: Bytes::from_static(b"c"),
            cert_serial: serial(9),
            cert_not_after: t(2_000_000_000),
            cert_uri: None,
            started: t(1),
            due: t(2),
        })
        .unwrap();
        // Pruned journal: the copy keeps the highest number anyway.
        let seq = tx.change_seq().unwrap();
        tx.prune_changes(seq).unwrap();
        tx.commit().unwrap();
    }
    let before = fingerprint(&mut source);
    let pg = Db::postgres();
    let (mut copy, report) =
        Store::create_from(&pg.location, &mut source, || Ok::<(), StoreError>(())).unwrap();
    assert!(
        report.rows.iter().any(|(t, n)| t == "objects" && *n == 2),
        "{report:?}"
    );
    assert_eq!(fingerprint(&mut copy), before);
    // Numbers go on from where they were.
    let tx = copy.transaction().unwrap();
    let seq = tx.change_seq().unwrap();
    let generation = tx.audit_generation().unwrap();
    tx.put_object("a", &object("b.roa", b"b", None, 0), t(20))
        .unwrap();
    tx.audit(
        t(20),
        Who {
            actor: "op",
            request_id: None,
        },
        "roa add",
        Some("a"),
        "y",
    )
    .unwrap();
    tx.insert_ca(&ca("b", Some("zz")), t(21)).unwrap();
    assert!(tx.change_seq().unwrap() > seq);
    assert!(tx.audit_generation().unwrap() > generation);
    assert_eq!(
        tx.cas().unwrap().last().unwrap().handle,
        "b",
        "creation order goes on"
    );
    tx.commit().unwrap();
    // The source is marked moved: no write reaches it any more, not even
    // from a connection opened before the move.
    assert!(matches!(source.transaction(), Err(StoreError::Moved(_))));
    let reopened = Store::open_at(&lite.location, Arc::new(WriteGate::default()));
    assert!(matches!(reopened, Err(StoreError::Moved(to)) if to.contains("127.0.0.1")));
    // A second copy into the same database is refused.
    let other = Db::sqlite();
    let mut fresh = other.create();
    assert!(matches!(
        Store::create_from(&pg.location, &mut fresh, || Ok::<(), StoreError>(())),
        Err(StoreError::AlreadyExists(_))
    ));
    // A copy whose last step fails leaves its source unmarked.
    let third = Db::postgres();
    let failed = Store::create_from(&third.location, &mut fresh, || {
        Err(StoreError::Disconnected("injected".into()))
    });
    assert!(failed.is_err());
    assert!(fresh.transaction().is_ok(), "the source still works");
}

/// A wait for the write lock that ends in an error (cancelled here, as a
/// lock timeout would end it) leaves the session usable.
#[test]
fn postgres_a_failed_wait_for_the_write_lock_leaves_the_session_usable() {
    let db = Db::postgres();
    let mut store = db.create();
    let url = match &db.location {
        Location::Postgres(u) => u.clone(),
        _ => unreachable!(),
    };
    let mut holder = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    holder
        .batch_execute(&format!(
            "SELECT pg_advisory_lock({})",
            anchorage_store::pg::WRITE_LOCK
        ))
        .unwrap();
    let waiter = std::thread::spawn(move || {
        let failed = store.transaction().err().expect("cancelled");
        (store, failed)
    });
    // Cancel the wait once the store's session is seen waiting for it.
    let mut watcher = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let cancelled: i64 = watcher
            .query_one(
                "SELECT count(*) FROM (SELECT pg_cancel_backend(pid) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND wait_event = 'advisory') c",
                &[],
            )
            .unwrap()
            .get(0);
        if cancelled > 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (mut store, failed) = waiter.join().unwrap();
    assert!(failed.is_unavailable(), "{failed}");
    holder
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .unwrap();
    let tx = store.transaction().unwrap();
    tx.set_meta("after", "yes").unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store
            .read_transaction()
            .unwrap()
            .meta("after")
            .unwrap()
            .as_deref(),
        Some("yes")
    );
}

/// Waits until `fence` leads (or stands by, with `leads` false).
fn wait_fence(fence: &anchorage_store::leader::Fence, leads: bool) -> Option<i64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while fence.epoch().is_some() != leads {
        assert!(std::time::Instant::now() < deadline, "election stuck");
        std::thread::sleep(Duration::from_millis(20));
    }
    fence.epoch()
}

/// Leadership on PostgreSQL: one of two elections wins; the other's
/// stores refuse writes naming the leader; a write made after another
/// leader's epoch was committed is refused (the fence) and stores
/// nothing; when the leader's session ends, the other wins a higher
/// epoch.
#[test]
fn postgres_one_leader_and_its_fence() {
    use anchorage_store::leader::{Election, Fence};
    let db = Db::postgres();
    let url = db.url();
    db.create();
    let write = |store: &mut Store, key: &str| -> Result<(), StoreError> {
        let tx = store.transaction()?;
        tx.set_meta(key, "1")?;
        tx.commit()
    };
    let (fence_a, fence_b) = (Fence::standby(), Fence::standby());
    let mut a = db.open();
    a.set_fence(fence_a.clone()).unwrap();
    let mut b = db.open();
    b.set_fence(fence_b.clone()).unwrap();
    // Before any election: a fenced store writes nothing.
    assert!(matches!(
        write(&mut a, "x"),
        Err(StoreError::NotLeader { leader: None })
    ));

    let election_a = Election::start(url, "a", fence_a.clone(), |_| {}).unwrap();
    let first = wait_fence(&fence_a, true).unwrap();
    let election_b = Election::start(url, "b", fence_b.clone(), |_| {}).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(fence_b.epoch(), None, "one leader at a time");
    write(&mut a, "by_a").unwrap();
    match write(&mut b, "by_b") {
        Err(e @ StoreError::NotLeader { .. }) => {
            assert!(e.to_string().contains("(a)"), "{e}");
            assert!(e.is_not_leader());
        }
        other => panic!("{other:?}"),
    }
    // Another leader's term began (as when a's sessions were cut off and
    // b won while a was paused): a's next write is refused whole.
    db.raw(&format!(
        "UPDATE meta SET value = '{}' WHERE key = 'leader_epoch'",
        first + 10
    ))
    .unwrap();
    assert!(matches!(write(&mut a, "late"), Err(StoreError::Fenced)));
    assert_eq!(a.read_transaction().unwrap().meta("late").unwrap(), None);
    db.raw(&format!(
        "UPDATE meta SET value = '{first}' WHERE key = 'leader_epoch'"
    ))
    .unwrap();

    // The leader's session ends: b leads, in a later epoch, and a's
    // stores refuse writes again.
    drop(election_a);
    let second = wait_fence(&fence_b, true).unwrap();
    assert!(second > first, "{first} then {second}");
    assert_eq!(fence_a.epoch(), None);
    write(&mut b, "by_b").unwrap();
    assert!(matches!(
        write(&mut a, "x"),
        Err(StoreError::NotLeader { .. })
    ));
    // Terminating the leader's session from the server (what its death or
    // a cut-off network does) hands over too.
    let (fence_c, election_c) = {
        let f = Fence::standby();
        let e = Election::start(url, "c", f.clone(), |_| {}).unwrap();
        (f, e)
    };
    db.raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'anchorage-election b'",
    )
    .unwrap();
    wait_fence(&fence_b, false);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while fence_b.epoch().is_none() && fence_c.epoch().is_none() {
        assert!(std::time::Instant::now() < deadline, "nobody leads");
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..50 {
        assert!(
            fence_b.epoch().is_none() || fence_c.epoch().is_none(),
            "two leaders"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let third = fence_b.epoch().or(fence_c.epoch()).unwrap();
    assert!(third > second, "{second} then {third}");
    drop((election_b, election_c));
}

/// A deposed leader's session that still holds the write lock (a paused
/// process) does not hold up the next leader: its sessions are ended
/// when the election is won, and the new epoch is committed at once.
#[test]
fn postgres_a_new_leader_ends_a_deposed_leaders_sessions() {
    use anchorage_store::leader::{Election, Fence, SERVE_SESSIONS};
    let db = Db::postgres();
    let url = db.url();
    db.create();
    let mut stuck = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    stuck
        .batch_execute(&format!(
            "SET application_name = '{SERVE_SESSIONS}'; BEGIN; \
             SELECT pg_advisory_xact_lock({})",
            anchorage_store::pg::WRITE_LOCK
        ))
        .unwrap();
    // A CLI command's session holding it would be left alone (it is not
    // another instance's): only the deposed instance's is ended.
    let fence = Fence::standby();
    let started = std::time::Instant::now();
    let _election = Election::start(url, "next", fence.clone(), |_| {}).unwrap();
    wait_fence(&fence, true);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took office after {:?}",
        started.elapsed()
    );
    assert!(
        stuck.simple_query("SELECT 1").is_err(),
        "the deposed session lives on"
    );
    // The lock checks: the leader's lock is seen held, and a session
    // lock goes with its guard.
    let store = db.open();
    assert_eq!(
        store
            .lock_held(anchorage_store::leader::LEADER_LOCK)
            .unwrap(),
        Some(true)
    );
    let held = store
        .session_lock(anchorage_store::pg::PUBLISH_LOCK)
        .unwrap();
    assert_eq!(
        store.lock_held(anchorage_store::pg::PUBLISH_LOCK).unwrap(),
        Some(true)
    );
    drop(held);
    store.confirm_session().unwrap();
    assert_eq!(
        store.lock_held(anchorage_store::pg::PUBLISH_LOCK).unwrap(),
        Some(false)
    );
}

/// `sslmode=require` encrypts the connection and verifies the server's
/// certificate against `sslrootcert`: a server whose certificate another
/// CA signed is refused, naming the problem; without it the connection
/// is as before.
#[test]
fn postgres_tls_verifies_the_server() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
    let ca = |name: &str| {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    };
    let (ours, other) = (ca("database CA"), ca("another CA"));
    let mut server_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server_params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let key = KeyPair::generate().unwrap();
    let cert = server_params.signed_by(&key, &ours).unwrap();

    let mut db = Db::postgres();
    let server = db.server.as_mut().unwrap();
    server
        .enable_tls(&cert.pem(), &key.serialize_pem())
        .unwrap();
    let url = db.url().to_string();
    let (ours_pem, other_pem) = (
        db.dir.path().join("ours.pem"),
        db.dir.path().join("other.pem"),
    );
    std::fs::write(&ours_pem, ours.pem()).unwrap();
    std::fs::write(&other_pem, other.pem()).unwrap();
    let with = |root: &std::path::Path| {
        Location::Postgres(format!(
            "{url}?sslmode=require&sslrootcert={}&application_name=tls-check",
            root.display()
        ))
    };
    // Whether the sessions named `name` use TLS, as the server sees them.
    let tls_of = |name: &str| {
        db.server
            .as_ref()
            .unwrap()
            .psql(
                "anchorage",
                &format!(
                    "SELECT string_agg(s.ssl::text, ',') FROM pg_stat_ssl s \
                     JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '{name}'"
                ),
            )
            .unwrap()
    };

    // Verified: the store is made over TLS, and the server says so.
    Store::create_at(&with(&ours_pem)).unwrap();
    let store = Store::open_at(&with(&ours_pem), Arc::new(WriteGate::default())).unwrap();
    store.integrity_check().unwrap();
    assert!(
        tls_of("tls-check").split(',').all(|s| s == "true"),
        "{}",
        tls_of("tls-check")
    );
    drop(store);

    // Another CA's certificate: refused, naming the certificate.
    let err = Store::open_at(&with(&other_pem), Arc::new(WriteGate::default()))
        .err()
        .expect("an unverified server is refused")
        .to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // No such root file: a clear error, not a connection without TLS.
    let err = Store::open_at(
        &with(&db.dir.path().join("missing.pem")),
        Arc::new(WriteGate::default()),
    )
    .err()
    .expect("a missing root file is refused")
    .to_string();
    assert!(
        err.contains("sslrootcert") && err.contains("missing.pem"),
        "{err}"
    );
    // Without sslmode=require: as before, no TLS.
    let plain = Store::open_at(
        &Location::Postgres(format!("{url}?application_name=plain-check")),
        Arc::new(WriteGate::default()),
    )
    .unwrap();
    plain.integrity_check().unwrap();
    assert_eq!(tls_of("plain-check"), "false");
}

/// A session whose advisory lock went with it (ended by a new leader, or
/// a server restart) is not silently replaced while the lock's guard
/// lives: its holder learns that it lost the lock; once the guard is
/// dropped, the store connects again by itself.
#[test]
fn postgres_a_lost_session_lock_is_an_error_until_given_up() {
    let db = Db::postgres();
    db.create();
    let mut store = db.open();
    let held = store
        .session_lock(anchorage_store::pg::PUBLISH_LOCK)
        .unwrap();
    db.raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)",
    )
    .unwrap();
    assert!(store.confirm_session().is_err(), "the session is gone");
    match store.read_transaction() {
        Err(StoreError::Disconnected(why)) => assert!(why.contains("locks"), "{why}"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    drop(held);
    store
        .read_transaction()
        .unwrap()
        .meta("schema_version")
        .unwrap();
    assert_eq!(
        store.lock_held(anchorage_store::pg::PUBLISH_LOCK).unwrap(),
        Some(false)
    );
}
