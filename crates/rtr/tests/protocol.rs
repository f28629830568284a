//! The RTR server over a real TCP socket: reset and serial queries in
//! versions 0, 1 and 2 (with ASPA PDUs), Serial Notify on change, version
//! negotiation, and
//! every kind of bad PDU answered with the right Error Report and a
//! closed connection, never a crash.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anchorage_rtr::pdu::{self, Header};
use anchorage_rtr::{Aspa, Origin, RouterKey, RtrConfig, VrpHistory, serve};

fn o(asn: u32, p: &str, max: u8) -> Origin {
    let (a, l) = p.split_once('/').unwrap();
    Origin {
        asn,
        addr: a.parse().unwrap(),
        len: l.parse().unwrap(),
        max_len: max,
    }
}

struct Server {
    addr: SocketAddr,
    history: VrpHistory,
    _rt: tokio::runtime::Runtime,
}

fn start(config: RtrConfig, ready: bool) -> Server {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let history = VrpHistory::new();
    if ready {
        history.update(BTreeSet::from([
            o(64496, "192.0.2.0/24", 24),
            o(64497, "2001:db8::/32", 48),
        ]));
    }
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(serve(
        listener,
        anchorage_netguard::Guard::new(
            "rtr",
            anchorage_netguard::Limits {
                max_connections: 64,
                max_per_address: 64,
            },
            &[],
        ),
        history.clone(),
        config,
    ));
    Server {
        addr,
        history,
        _rt: rt,
    }
}

/// A cache that offers version 2 (the default is 1).
fn version_2() -> RtrConfig {
    RtrConfig {
        max_version: 2,
        ..RtrConfig::default()
    }
}

fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c
}

/// Reads one PDU: its header and whole bytes.
fn read_pdu(c: &mut TcpStream) -> (Header, Vec<u8>) {
    let mut head = [0u8; 8];
    c.read_exact(&mut head).unwrap();
    let h = Header::parse(&head);
    let mut rest = vec![0u8; h.length as usize - 8];
    c.read_exact(&mut rest).unwrap();
    let mut all = head.to_vec();
    all.extend(rest);
    (h, all)
}

/// One ASPA PDU as read: flags, customer AS, providers.
type AspaPdu = (u8, u32, Vec<u32>);

/// Reads until End of Data; returns the prefix PDUs' (flags, asn) and the
/// EOD header, and fails on any ASPA PDU.
fn read_response(c: &mut TcpStream, version: u8) -> (Vec<(u8, u32)>, Header, Vec<u8>) {
    let (prefixes, aspas, h, bytes) = read_all(c, version);
    assert!(
        aspas.is_empty(),
        "ASPA PDUs in version {version}: {aspas:?}"
    );
    (prefixes, h, bytes)
}

/// A whole response: the prefix PDUs' (flags, asn), the ASPA PDUs, and
/// the End of Data header and bytes.
type Response = (Vec<(u8, u32)>, Vec<AspaPdu>, Header, Vec<u8>);

/// Reads until End of Data.
fn read_all(c: &mut TcpStream, version: u8) -> Response {
    let (h, _) = read_pdu(c);
    assert_eq!((h.version, h.pdu_type), (version, pdu::CACHE_RESPONSE));
    let mut prefixes = Vec::new();
    let mut aspas = Vec::new();
    let word = |b: &[u8], at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    loop {
        let (h, bytes) = read_pdu(c);
        assert_eq!(h.version, version);
        match h.pdu_type {
            pdu::IPV4_PREFIX | pdu::IPV6_PREFIX => {
                assert!(aspas.is_empty(), "a prefix after an ASPA");
                prefixes.push((bytes[8], word(&bytes, bytes.len() - 4)));
            }
            pdu::ASPA => {
                assert_eq!(bytes[3], 0, "the reserved octet");
                let providers = (12..bytes.len())
                    .step_by(4)
                    .map(|i| word(&bytes, i))
                    .collect();
                aspas.push((bytes[2], word(&bytes, 8), providers));
            }
            pdu::END_OF_DATA => return (prefixes, aspas, h, bytes),
            t => panic!("unexpected PDU type {t}"),
        }
    }
}

fn reset_query(version: u8) -> Vec<u8> {
    vec![version, pdu::RESET_QUERY, 0, 0, 0, 0, 0, 8]
}

fn serial_query(version: u8, session: u16, serial: u32) -> Vec<u8> {
    let mut q = vec![version, pdu::SERIAL_QUERY];
    q.extend(session.to_be_bytes());
    q.extend(12u32.to_be_bytes());
    q.extend(serial.to_be_bytes());
    q
}

/// Asserts the server answers `bytes` with an Error Report of `code` in
/// `version` and then closes the connection.
fn assert_refused(s: &Server, bytes: &[u8], version: u8, code: u16) {
    let mut c = connect(s);
    c.write_all(bytes).unwrap();
    let (h, err) = read_pdu(&mut c);
    assert_eq!(
        (h.version, h.pdu_type, h.field),
        (version, pdu::ERROR_REPORT, code),
        "answer to {bytes:?}"
    );
    // The encapsulated PDU is the offending one (or its header).
    let enc_len = u32::from_be_bytes(err[8..12].try_into().unwrap()) as usize;
    assert!(bytes.starts_with(&err[12..12 + enc_len]));
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0, "connection closed");
}

#[test]
fn reset_and_serial_queries_in_both_versions() {
    let s = start(RtrConfig::default(), true);
    let (session, serial) = s.history.state();
    for version in [0u8, 1] {
        let mut c = connect(&s);
        c.write_all(&reset_query(version)).unwrap();
        let (prefixes, eod, bytes) = read_response(&mut c, version);
        assert_eq!(prefixes, vec![(1, 64496), (1, 64497)]);
        assert_eq!(eod.field, session);
        assert_eq!(eod.length, if version == 0 { 12 } else { 24 });
        assert_eq!(&bytes[8..12], &serial.to_be_bytes());

        // Up to date: an empty response.
        c.write_all(&serial_query(version, session, serial))
            .unwrap();
        assert!(read_response(&mut c, version).0.is_empty());
    }

    // A connected router gets a Serial Notify on change, then the delta.
    let mut c = connect(&s);
    c.write_all(&reset_query(1)).unwrap();
    read_response(&mut c, 1);
    s.history.update(BTreeSet::from([
        o(64496, "192.0.2.0/24", 24),
        o(64498, "198.51.100.0/24", 24),
    ]));
    let (h, bytes) = read_pdu(&mut c);
    assert_eq!((h.pdu_type, h.field), (pdu::SERIAL_NOTIFY, session));
    assert_eq!(&bytes[8..12], &(serial + 1).to_be_bytes());
    c.write_all(&serial_query(1, session, serial)).unwrap();
    let (changes, _, _) = read_response(&mut c, 1);
    assert_eq!(changes, vec![(0, 64497), (1, 64498)]);

    // Another session or an unknown serial: Cache Reset.
    for q in [
        serial_query(1, session.wrapping_add(1), serial),
        serial_query(1, session, serial + 50),
    ] {
        c.write_all(&q).unwrap();
        let (h, _) = read_pdu(&mut c);
        assert_eq!(h.pdu_type, pdu::CACHE_RESET);
    }
}

#[test]
fn version_negotiation() {
    // RFC 8210 §7: a version above ours gets error 4 in our version.
    let s = start(version_2(), true);
    assert_refused(&s, &reset_query(3), 2, 4);
    // The default, version 1, tells a version 2 router so.
    let s1 = start(RtrConfig::default(), true);
    assert_refused(&s1, &reset_query(2), 1, 4);
    // A cache limited to version 0 tells a version 1 router so.
    let s0 = start(
        RtrConfig {
            max_version: 0,
            ..RtrConfig::default()
        },
        true,
    );
    assert_refused(&s0, &reset_query(1), 0, 4);
    let mut c = connect(&s0);
    c.write_all(&reset_query(0)).unwrap();
    assert_eq!(read_response(&mut c, 0).0.len(), 2);
    // Switching versions within a session: error 8.
    let mut both = reset_query(1);
    both.extend(reset_query(0));
    let mut c = connect(&s);
    c.write_all(&both).unwrap();
    read_response(&mut c, 1);
    let (h, _) = read_pdu(&mut c);
    assert_eq!((h.pdu_type, h.field), (pdu::ERROR_REPORT, 8));
}

#[test]
fn bad_pdus_get_error_reports_and_the_connection_closes() {
    let s = start(RtrConfig::default(), true);
    // Wrong lengths for the query types: Corrupt Data (0).
    assert_refused(
        &s,
        &[1, pdu::RESET_QUERY, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0],
        1,
        0,
    );
    assert_refused(&s, &[1, pdu::SERIAL_QUERY, 0, 0, 0, 0, 0, 8], 1, 0);
    // A length shorter than a header or absurdly long: Corrupt Data.
    assert_refused(&s, &[1, pdu::RESET_QUERY, 0, 0, 0, 0, 0, 4], 1, 0);
    assert_refused(
        &s,
        &[1, pdu::RESET_QUERY, 0, 0, 0xff, 0xff, 0xff, 0xff],
        1,
        0,
    );
    // PDUs only a cache sends: Invalid Request (3).
    let mut prefix = Vec::new();
    pdu::prefix(&mut prefix, 1, true, &o(1, "192.0.2.0/24", 24));
    assert_refused(&s, &prefix, 1, 3);
    assert_refused(&s, &pdu::cache_reset(1), 1, 3);
    // Unknown types: Unsupported PDU Type (5).
    assert_refused(&s, &[1, 99, 0, 0, 0, 0, 0, 8], 1, 5);
    assert_refused(&s, &[1, 12, 0, 0, 0, 0, 0, 12, 0, 0, 0, 0], 1, 5);
    // An ASPA PDU goes from cache to router only: Invalid Request (3).
    let s2 = start(version_2(), true);
    assert_refused(&s2, &[2, 11, 1, 0, 0, 0, 0, 12, 0, 0, 0, 1], 2, 3);
    // An Error Report from the router is never answered: just closed.
    let mut c = connect(&s);
    c.write_all(&pdu::error_report(
        1,
        pdu::ErrorCode::InternalError,
        &[],
        "x",
    ))
    .unwrap();
    let mut rest = Vec::new();
    assert_eq!(c.read_to_end(&mut rest).unwrap(), 0);
    // The server still serves after all that.
    let mut c = connect(&s);
    c.write_all(&reset_query(1)).unwrap();
    assert_eq!(read_response(&mut c, 1).0.len(), 2);
}

#[test]
fn no_data_yet_is_not_fatal() {
    let s = start(RtrConfig::default(), false);
    let mut c = connect(&s);
    c.write_all(&reset_query(1)).unwrap();
    let (h, _) = read_pdu(&mut c);
    assert_eq!((h.pdu_type, h.field), (pdu::ERROR_REPORT, 2));
    s.history
        .update(BTreeSet::from([o(64496, "192.0.2.0/24", 24)]));
    // The version is agreed, so the change is notified; then data flows.
    let (h, _) = read_pdu(&mut c);
    assert_eq!(h.pdu_type, pdu::SERIAL_NOTIFY);
    c.write_all(&reset_query(1)).unwrap();
    assert_eq!(read_response(&mut c, 1).0, vec![(1, 64496)]);
}

#[test]
fn version_2_routers_get_aspas_and_their_changes_and_version_1_routers_do_not() {
    let s = start(version_2(), true);
    let vrps = || BTreeSet::from([o(64496, "192.0.2.0/24", 24)]);
    let aspa = |customer, providers: &[u32]| Aspa {
        customer,
        providers: providers.to_vec(),
    };
    s.history.update_all(
        vrps(),
        vec![aspa(64497, &[0]), aspa(64496, &[64500, 64501])],
        vec![],
    );
    let (session, serial) = s.history.state();
    let mut v2 = connect(&s);
    v2.write_all(&reset_query(2)).unwrap();
    let (prefixes, aspas, eod, _) = read_all(&mut v2, 2);
    assert_eq!(prefixes, vec![(1, 64496)]);
    assert_eq!(
        aspas,
        vec![(1, 64496, vec![64500, 64501]), (1, 64497, vec![0])],
        "sorted by customer, after the prefixes"
    );
    assert_eq!(eod.length, 24);
    let mut v1 = connect(&s);
    v1.write_all(&reset_query(1)).unwrap();
    assert_eq!(read_response(&mut v1, 1).0, vec![(1, 64496)]);

    // An ASPA change alone is a new serial: version 2 routers get the
    // replaced ASPA announced and the removed one withdrawn; version 1
    // routers an empty delta.
    assert!(
        s.history
            .update_all(vrps(), vec![aspa(64496, &[64502])], vec![])
    );
    assert!(
        !s.history
            .update_all(vrps(), vec![aspa(64496, &[64502])], vec![])
    );
    for c in [&mut v1, &mut v2] {
        let (h, _) = read_pdu(c);
        assert_eq!(h.pdu_type, pdu::SERIAL_NOTIFY);
    }
    v2.write_all(&serial_query(2, session, serial)).unwrap();
    let (prefixes, aspas, _, _) = read_all(&mut v2, 2);
    assert!(prefixes.is_empty());
    assert_eq!(aspas, vec![(1, 64496, vec![64502]), (0, 64497, vec![])]);
    v1.write_all(&serial_query(1, session, serial)).unwrap();
    assert!(read_response(&mut v1, 1).0.is_empty());
    // A VRP change keeps the ASPAs: none in the next delta.
    s.history
        .update(BTreeSet::from([o(64499, "198.51.100.0/24", 24)]));
    read_pdu(&mut v2);
    v2.write_all(&serial_query(2, session, serial + 1)).unwrap();
    let (prefixes, aspas, _, _) = read_all(&mut v2, 2);
    assert_eq!(prefixes, vec![(0, 64496), (1, 64499)]);
    assert!(aspas.is_empty());
    // From the first serial: the net change of both.
    v2.write_all(&serial_query(2, session, serial)).unwrap();
    let (prefixes, aspas, _, _) = read_all(&mut v2, 2);
    assert_eq!(prefixes.len(), 2);
    assert_eq!(aspas.len(), 2);
}

#[test]
fn router_keys_go_to_version_1_routers_and_are_withdrawn_in_deltas() {
    let s = start(RtrConfig::default(), true);
    let vrps = || BTreeSet::from([o(64496, "192.0.2.0/24", 24)]);
    let key = |asn, b| RouterKey {
        asn,
        ski: [b; 20],
        spki: vec![0x30, 0x01, b],
    };
    // Two ASPAs of one customer AS from two CAs: one, with the union of
    // the providers, and AS0 gone next to a real provider.
    let aspa = |p: &[u32]| Aspa {
        customer: 64496,
        providers: p.to_vec(),
    };
    s.history.update_all(
        vrps(),
        vec![aspa(&[0]), aspa(&[64501, 64500])],
        vec![key(64496, 1), key(64497, 2)],
    );
    assert_eq!(s.history.current().aspas(), [aspa(&[64500, 64501])]);
    let (session, serial) = s.history.state();
    let router_keys = |c: &mut TcpStream| -> Vec<(u8, u32, u8)> {
        let mut out = Vec::new();
        loop {
            let (h, bytes) = read_pdu(c);
            match h.pdu_type {
                pdu::CACHE_RESPONSE | pdu::IPV4_PREFIX | pdu::IPV6_PREFIX => {}
                pdu::ROUTER_KEY => {
                    let asn = u32::from_be_bytes(bytes[28..32].try_into().unwrap());
                    out.push((bytes[2], asn, bytes[8]));
                }
                pdu::END_OF_DATA => return out,
                t => panic!("unexpected PDU type {t}"),
            }
        }
    };
    let mut v1 = connect(&s);
    v1.write_all(&reset_query(1)).unwrap();
    assert_eq!(router_keys(&mut v1), [(1, 64496, 1), (1, 64497, 2)]);
    let mut v0 = connect(&s);
    v0.write_all(&reset_query(0)).unwrap();
    assert!(
        read_response(&mut v0, 0).0.len() == 1,
        "version 0: prefixes only"
    );
    // One key revoked: withdrawn in the next delta, nothing else.
    s.history
        .update_all(vrps(), vec![aspa(&[64500, 64501])], vec![key(64496, 1)]);
    let (h, _) = read_pdu(&mut v1);
    assert_eq!(h.pdu_type, pdu::SERIAL_NOTIFY);
    v1.write_all(&serial_query(1, session, serial)).unwrap();
    assert_eq!(router_keys(&mut v1), [(0, 64497, 2)]);
}
