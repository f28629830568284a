//! DER objects (certificates, ROAs, manifests, CRLs) as the validator's
//! walk decodes them from a fetched publication point.
#![no_main]

use anchorage_validator::walk::decode_untrusted;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    decode_untrusted(data);
});
