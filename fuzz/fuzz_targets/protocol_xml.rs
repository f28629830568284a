//! The XML inside RFC 6492 and RFC 8181 messages (what an authenticated
//! peer sends): every payload type, as `serve` decodes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpki::ca::{provisioning, publication};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = provisioning::Message::decode(data) {
        let _ = m.to_xml_string();
    }
    if let Ok(m) = publication::Message::decode(data) {
        let _ = m.to_xml_string();
        let _ = m.as_query();
    }
});
