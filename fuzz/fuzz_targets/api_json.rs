//! Admin API request bodies: the strict JSON reader every endpoint uses
//! and the checks that turn a ROA batch into payloads (prefixes in
//! canonical form, maxLength, batch size).
#![no_main]

use anchorage_admin_api::model::{AddChild, CreateCa, CreateToken, RoaBatch, UpdateCa, parse_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = parse_body::<RoaBatch>(data) {
        let _ = batch.payloads();
    }
    if let Ok(ca) = parse_body::<CreateCa>(data) {
        let _ = ca.resources.parse::<anchorage_ca_core::ResourceSet>();
    }
    let _ = parse_body::<UpdateCa>(data);
    let _ = parse_body::<CreateToken>(data);
    let _ = parse_body::<AddChild>(data);
});
