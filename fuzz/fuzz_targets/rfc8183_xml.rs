//! RFC 8183 out-of-band files an operator imports (child and publisher
//! requests, parent and repository responses), with the identity
//! certificate checks `child add`, `publisher add`, `parent add` and
//! `repository add` run on them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpki::ca::idexchange::{ChildRequest, ParentResponse, PublisherRequest, RepositoryResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = ChildRequest::parse(data) {
        let _ = r.validate();
    }
    if let Ok(r) = PublisherRequest::parse(data) {
        let _ = r.validate();
    }
    if let Ok(r) = ParentResponse::parse(data) {
        let _ = r.validate();
    }
    if let Ok(r) = RepositoryResponse::parse(data) {
        let _ = r.validate();
        let _ = r.rrdp_notification_uri();
    }
});
