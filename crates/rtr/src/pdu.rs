//! RTR PDUs (RFC 6810 §5, RFC 8210 §5, and version 2 of
//! draft-ietf-sidrops-8210bis): encoding of what the cache sends, decoding
//! of what a router sends.
//!
//! Every PDU starts with the same 8-byte header: protocol version, PDU
//! type, a 16-bit field (session id, error code or zero) and the total
//! length in octets, all in network byte order.

use std::net::IpAddr;

use crate::Origin;

/// Serial Notify (cache to router).
pub const SERIAL_NOTIFY: u8 = 0;
/// Serial Query (router to cache).
pub const SERIAL_QUERY: u8 = 1;
/// Reset Query (router to cache).
pub const RESET_QUERY: u8 = 2;
/// Cache Response (cache to router).
pub const CACHE_RESPONSE: u8 = 3;
/// IPv4 Prefix (cache to router).
pub const IPV4_PREFIX: u8 = 4;
/// IPv6 Prefix (cache to router).
pub const IPV6_PREFIX: u8 = 6;
/// End of Data (cache to router).
pub const END_OF_DATA: u8 = 7;
/// Cache Reset (cache to router).
pub const CACHE_RESET: u8 = 8;
/// Router Key (cache to router, version 1).
pub const ROUTER_KEY: u8 = 9;
/// Error Report (both directions).
pub const ERROR_REPORT: u8 = 10;
/// ASPA (cache to router, version 2; draft-ietf-sidrops-8210bis §5.12).
pub const ASPA: u8 = 11;

/// The highest protocol version implemented (version 2 of
/// draft-ietf-sidrops-8210bis, as Routinator, StayRTR and rpki-client
/// deploy it).
pub const MAX_VERSION: u8 = 2;
/// The first version with ASPA PDUs.
pub const ASPA_VERSION: u8 = 2;
/// The longest PDU accepted from a router: queries are 8 or 12 octets;
/// an Error Report may carry a PDU and text, but not more than this.
pub const MAX_ROUTER_PDU: u32 = 64 * 1024;
/// Length of the common header.
pub const HEADER_LEN: usize = 8;

/// Error codes (RFC 8210 §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    /// The PDU could not be parsed (bad length).
    CorruptData = 0,
    /// A problem of the cache.
    InternalError = 1,
    /// The cache has no data yet (the only non-fatal error).
    NoDataAvailable = 2,
    /// A PDU the cache does not take from a router.
    InvalidRequest = 3,
    /// A protocol version the cache does not speak.
    UnsupportedVersion = 4,
    /// A PDU type the cache does not know.
    UnsupportedPduType = 5,
    /// A version other than the one negotiated on this connection.
    UnexpectedVersion = 8,
}

/// The common header of a PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Protocol version.
    pub version: u8,
    /// PDU type.
    pub pdu_type: u8,
    /// Session id, error code or zero, by type.
    pub field: u16,
    /// Total length of the PDU in octets, header included.
    pub length: u32,
}

impl Header {
    /// Parses the 8 header octets.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            version: b[0],
            pdu_type: b[1],
            field: u16::from_be_bytes([b[2], b[3]]),
            length: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    fn put(out: &mut Vec<u8>, version: u8, pdu_type: u8, field: u16, length: u32) {
        out.push(version);
        out.push(pdu_type);
        out.extend_from_slice(&field.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
    }
}

/// A router's query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// Serial Query: what changed since `serial` of `session`.
    Serial {
        /// The router's session id.
        session: u16,
        /// The router's serial.
        serial: u32,
    },
    /// Reset Query: everything.
    Reset,
}

/// Why a router's PDU is refused: the error to report. All but
/// [`ErrorCode::NoDataAvailable`] end the connection (RFC 8210 §5.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The error code.
    pub code: ErrorCode,
    /// The text for the Error Report.
    pub text: &'static str,
}

/// Decodes a router's PDU (`header` plus the rest, `body`) of an already
/// negotiated version.
pub fn parse_query(header: &Header, body: &[u8]) -> Result<Query, Refusal> {
    let refuse = |code, text| Err(Refusal { code, text });
    match header.pdu_type {
        SERIAL_QUERY if header.length == 12 && body.len() == 4 => Ok(Query::Serial {
            session: header.field,
            serial: u32::from_be_bytes([body[0], body[1], body[2], body[3]]),
        }),
        RESET_QUERY if header.length == 8 && body.is_empty() => Ok(Query::Reset),
        SERIAL_QUERY | RESET_QUERY => {
            refuse(ErrorCode::CorruptData, "PDU length is wrong for its type")
        }
        SERIAL_NOTIFY | CACHE_RESPONSE | IPV4_PREFIX | IPV6_PREFIX | END_OF_DATA | CACHE_RESET
        | ROUTER_KEY | ASPA => refuse(
            ErrorCode::InvalidRequest,
            "a cache takes only Serial Query and Reset Query",
        ),
        _ => refuse(ErrorCode::UnsupportedPduType, "unknown PDU type"),
    }
}

/// Serial Notify (RFC 8210 §5.2).
pub fn serial_notify(version: u8, session: u16, serial: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(12);
    Header::put(&mut out, version, SERIAL_NOTIFY, session, 12);
    out.extend_from_slice(&serial.to_be_bytes());
    out
}

/// Cache Response (RFC 8210 §5.5).
pub fn cache_response(version: u8, session: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    Header::put(&mut out, version, CACHE_RESPONSE, session, 8);
    out
}

/// Cache Reset (RFC 8210 §5.9).
pub fn cache_reset(version: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    Header::put(&mut out, version, CACHE_RESET, 0, 8);
    out
}

/// The timers a version 1 End of Data carries (RFC 8210 §6), in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Refresh Interval.
    pub refresh: u32,
    /// Retry Interval.
    pub retry: u32,
    /// Expire Interval.
    pub expire: u32,
}

impl Default for Timing {
    /// The defaults RFC 8210 §6 recommends.
    fn default() -> Self {
        Timing {
            refresh: 3600,
            retry: 600,
            expire: 7200,
        }
    }
}

/// End of Data (RFC 6810 §5.8 for version 0, RFC 8210 §5.8 with timers).
pub fn end_of_data(version: u8, session: u16, serial: u32, timing: Timing) -> Vec<u8> {
    let len = if version == 0 { 12 } else { 24 };
    let mut out = Vec::with_capacity(len);
    Header::put(&mut out, version, END_OF_DATA, session, len as u32);
    out.extend_from_slice(&serial.to_be_bytes());
    if version > 0 {
        for t in [timing.refresh, timing.retry, timing.expire] {
            out.extend_from_slice(&t.to_be_bytes());
        }
    }
    out
}

/// Error Report (RFC 8210 §5.11) carrying the offending PDU and a text.
pub fn error_report(version: u8, code: ErrorCode, pdu: &[u8], text: &str) -> Vec<u8> {
    let len = HEADER_LEN + 4 + pdu.len() + 4 + text.len();
    let mut out = Vec::with_capacity(len);
    Header::put(&mut out, version, ERROR_REPORT, code as u16, len as u32);
    out.extend_from_slice(&(pdu.len() as u32).to_be_bytes());
    out.extend_from_slice(pdu);
    out.extend_from_slice(&(text.len() as u32).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

/// Appends the IPv4 or IPv6 Prefix PDU of `origin` (RFC 8210 §5.6, §5.7):
/// flag 1 announces, 0 withdraws.
pub fn prefix(out: &mut Vec<u8>, version: u8, announce: bool, origin: &Origin) {
    let (pdu_type, len) = match origin.addr {
        IpAddr::V4(_) => (IPV4_PREFIX, 20),
        IpAddr::V6(_) => (IPV6_PREFIX, 32),
    };
    Header::put(out, version, pdu_type, 0, len);
    out.extend_from_slice(&[u8::from(announce), origin.len, origin.max_len, 0]);
    match origin.addr {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
    }
    out.extend_from_slice(&origin.asn.to_be_bytes());
}

/// Appends the Router Key PDU of `key` (RFC 8210 §5.10): flags 1
/// announces, 0 withdraws; then the SKI, the AS and the key's
/// SubjectPublicKeyInfo.
pub fn router_key(out: &mut Vec<u8>, version: u8, announce: bool, key: &crate::RouterKey) {
    let len = HEADER_LEN + 20 + 4 + key.spki.len();
    out.push(version);
    out.push(ROUTER_KEY);
    out.extend_from_slice(&[u8::from(announce), 0]);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(&key.ski);
    out.extend_from_slice(&key.asn.to_be_bytes());
    out.extend_from_slice(&key.spki);
}

/// Appends the ASPA PDU of `aspa` (draft-ietf-sidrops-8210bis §5.12):
/// flags 1 announces it (replacing any earlier one of its customer AS),
/// 0 withdraws it and lists no providers.
pub fn aspa(out: &mut Vec<u8>, version: u8, announce: bool, aspa: &crate::Aspa) {
    let providers: &[u32] = if announce { &aspa.providers } else { &[] };
    let len = HEADER_LEN + 4 + 4 * providers.len();
    out.push(version);
    out.push(ASPA);
    out.extend_from_slice(&[u8::from(announce), 0]);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(&aspa.customer.to_be_bytes());
    for p in providers {
        out.extend_from_slice(&p.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_key_pdus_have_the_rfc_layout() {
        let k = crate::RouterKey {
            asn: 64496,
            ski: [7; 20],
            spki: vec![0x30, 0x03, 1, 2, 3],
        };
        let mut out = Vec::new();
        router_key(&mut out, 1, true, &k);
        let mut want = vec![1, 9, 1, 0, 0, 0, 0, 37];
        want.extend([7; 20]);
        want.extend([0, 0, 0xfb, 0xf0, 0x30, 0x03, 1, 2, 3]);
        assert_eq!(out, want);
        out.clear();
        router_key(&mut out, 2, false, &k);
        assert_eq!(&out[..4], [2, 9, 0, 0], "withdrawn, with the same fields");
    }

    #[test]
    fn aspa_pdus_have_the_drafts_layout() {
        let a = crate::Aspa {
            customer: 64496,
            providers: vec![64500, 64501],
        };
        let mut out = Vec::new();
        aspa(&mut out, 2, true, &a);
        assert_eq!(
            out,
            [
                2, 11, 1, 0, 0, 0, 0, 20, 0, 0, 0xfb, 0xf0, 0, 0, 0xfb, 0xf4, 0, 0, 0xfb, 0xf5
            ]
        );
        out.clear();
        aspa(&mut out, 2, false, &a);
        assert_eq!(out, [2, 11, 0, 0, 0, 0, 0, 12, 0, 0, 0xfb, 0xf0]);
    }

    fn header(b: &[u8]) -> Header {
        Header::parse(b[..8].try_into().unwrap())
    }

    #[test]
    fn cache_pdus_have_their_rfc_layout() {
        let n = serial_notify(1, 0x1234, 7);
        assert_eq!(n, [1, 0, 0x12, 0x34, 0, 0, 0, 12, 0, 0, 0, 7]);
        assert_eq!(cache_response(0, 9), [0, 3, 0, 9, 0, 0, 0, 8]);
        assert_eq!(cache_reset(1), [1, 8, 0, 0, 0, 0, 0, 8]);
        let eod0 = end_of_data(0, 9, 5, Timing::default());
        assert_eq!(eod0, [0, 7, 0, 9, 0, 0, 0, 12, 0, 0, 0, 5]);
        let eod1 = end_of_data(1, 9, 5, Timing::default());
        assert_eq!(header(&eod1).length, 24);
        assert_eq!(&eod1[12..16], &3600u32.to_be_bytes());
        assert_eq!(&eod1[16..20], &600u32.to_be_bytes());
        assert_eq!(&eod1[20..24], &7200u32.to_be_bytes());

        let mut v4 = Vec::new();
        let o = Origin {
            asn: 64496,
            addr: "192.0.2.0".parse().unwrap(),
            len: 24,
            max_len: 25,
        };
        prefix(&mut v4, 1, true, &o);
        assert_eq!(
            v4,
            [
                1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 25, 0, 192, 0, 2, 0, 0, 0, 0xfb, 0xf0
            ]
        );
        let mut v6 = Vec::new();
        let o6 = Origin {
            asn: 64497,
            addr: "2001:db8::".parse().unwrap(),
            len: 32,
            max_len: 48,
        };
        prefix(&mut v6, 0, false, &o6);
        assert_eq!(v6.len(), 32);
        assert_eq!(&v6[..12], &[0, 6, 0, 0, 0, 0, 0, 32, 0, 32, 48, 0]);
        assert_eq!(&v6[12..16], &[0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(&v6[28..], &64497u32.to_be_bytes());

        let e = error_report(1, ErrorCode::UnsupportedPduType, &[1, 2], "no");
        assert_eq!(header(&e).length as usize, e.len());
        assert_eq!(header(&e).field, 5);
        assert_eq!(&e[8..12], &2u32.to_be_bytes());
        assert_eq!(&e[14..18], &2u32.to_be_bytes());
        assert_eq!(&e[18..], b"no");
    }

    #[test]
    fn router_pdus_decode_or_are_refused_with_the_right_code() {
        let h = |t: u8, field: u16, length: u32| Header {
            version: 1,
            pdu_type: t,
            field,
            length,
        };
        assert_eq!(
            parse_query(&h(SERIAL_QUERY, 3, 12), &[0, 0, 1, 0]),
            Ok(Query::Serial {
                session: 3,
                serial: 256
            })
        );
        assert_eq!(parse_query(&h(RESET_QUERY, 0, 8), &[]), Ok(Query::Reset));
        let code = |r: Result<Query, Refusal>| r.unwrap_err().code;
        assert_eq!(
            code(parse_query(&h(RESET_QUERY, 0, 12), &[0; 4])),
            ErrorCode::CorruptData
        );
        assert_eq!(
            code(parse_query(&h(SERIAL_QUERY, 0, 8), &[])),
            ErrorCode::CorruptData
        );
        for t in [
            SERIAL_NOTIFY,
            CACHE_RESPONSE,
            IPV4_PREFIX,
            IPV6_PREFIX,
            END_OF_DATA,
            CACHE_RESET,
            ROUTER_KEY,
            ASPA,
        ] {
            assert_eq!(
                code(parse_query(&h(t, 0, 8), &[])),
                ErrorCode::InvalidRequest,
                "type {t}"
            );
        }
        for t in [5, 12, 99, 255] {
            assert_eq!(
                code(parse_query(&h(t, 0, 8), &[])),
                ErrorCode::UnsupportedPduType,
                "type {t}"
            );
        }
    }
}
