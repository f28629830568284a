//! RRDP notification files (RFC 8182 §3.5) as the validator's fetcher parses them.
#![no_main]

use anchorage_validator::rrdp::{RrdpFile, check_untrusted};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_untrusted(RrdpFile::Notification, data);
});
