//! RFC 6492 and RFC 8181 message bodies as `serve` receives them, before
//! the sender is known: CMS decoding and the signing-time reader that
//! replay protection uses.
#![no_main]

use anchorage_engine::bpki::{self, ProtocolCms};
use libfuzzer_sys::fuzz_target;
use rpki::ca::provisioning::ProvisioningCms;
use rpki::ca::publication::PublicationCms;

fuzz_target!(|data: &[u8]| {
    let _ = <ProvisioningCms as ProtocolCms>::decode(data);
    let _ = <PublicationCms as ProtocolCms>::decode(data);
    let _ = bpki::signed(data);
});
