//! The engine's transport to remote parents and repositories, over
//! HTTP(S) with ureq: the system's trust roots, one timeout per exchange.

use std::time::Duration;

use anchorage_engine::transport::PeerTransport;

/// Carries RFC 6492 and RFC 8181 messages over HTTP(S).
#[derive(Debug, Default)]
pub struct HttpTransport;

impl PeerTransport for HttpTransport {
    fn post(
        &self,
        url: &str,
        media_type: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), String> {
        let agent =
            crate::protocols::client_with_timeout(&[], timeout).map_err(|e| format!("{e:#}"))?;
        crate::protocols::post(&agent, url, media_type, body).map_err(|e| format!("{e:#}"))
    }
}

/// The transport an engine of this binary gets.
pub fn http() -> std::sync::Arc<dyn PeerTransport> {
    std::sync::Arc::new(HttpTransport)
}
