//! What a router sends the RTR cache: PDU headers and queries of every
//! version (RFC 6810, RFC 8210), as the cache frames and parses them.
#![no_main]

use anchorage_rtr::pdu::{HEADER_LEN, Header, parse_query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while rest.len() >= HEADER_LEN {
        let head: [u8; HEADER_LEN] = rest[..HEADER_LEN].try_into().unwrap();
        let header = Header::parse(&head);
        let len = (header.length as usize).clamp(HEADER_LEN, rest.len());
        let _ = parse_query(&header, &rest[HEADER_LEN..len]);
        rest = &rest[len..];
    }
});
