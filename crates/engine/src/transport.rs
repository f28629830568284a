//! How the engine talks to remote parents (RFC 6492) and repositories
//! (RFC 8181): one POST of a signed message, one reply. The engine signs,
//! verifies and decides; the transport only carries bytes, and is given
//! to it by the binary (over HTTP(S)), so the engine holds no HTTP client.

use std::time::Duration;

/// RFC 6492 §3 media type.
pub const UPDOWN_TYPE: &str = "application/rpki-updown";
/// RFC 8181 §2 media type.
pub const PUBLICATION_TYPE: &str = "application/rpki-publication";

/// How long one exchange with a remote parent or repository may take by
/// default (Krill allows its parents 240 s; a parent that slow is retried
/// at the next sync instead). No lock is held meanwhile.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(30);

/// Carries one message to a peer's service URI and its reply back.
pub trait PeerTransport: Send + Sync {
    /// POSTs `body` as `media_type` to `url`, waiting at most `timeout`;
    /// returns the HTTP status and the reply body (4xx and 5xx are
    /// replies, not errors). An error says why no reply came.
    fn post(
        &self,
        url: &str,
        media_type: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), String>;
}

/// The transport of an engine nobody gave one: every exchange fails.
#[derive(Debug, Default)]
pub struct NoTransport;

impl PeerTransport for NoTransport {
    fn post(&self, url: &str, _: &str, _: &[u8], _: Duration) -> Result<(u16, Vec<u8>), String> {
        Err(format!(
            "no transport to reach {url} (this build talks to no peers)"
        ))
    }
}
