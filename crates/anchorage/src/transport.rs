//! The engine's transport to remote parents and repositories, over
//! HTTP(S) with ureq: the system's trust roots, one timeout per exchange.

use std::sync::Mutex;
use std::time::Duration;

use anchorage_engine::transport::PeerTransport;

/// Carries RFC 6492 and RFC 8181 messages over HTTP(S).
#[derive(Default)]
pub struct HttpTransport {
    /// The client, made once (it loads the system's trust roots) for the
    /// timeout it was made with.
    agent: Mutex<Option<(Duration, ureq::Agent)>>,
}

impl HttpTransport {
    /// The client for `timeout`, made on first use or when it changes.
    fn agent(&self, timeout: Duration) -> Result<ureq::Agent, String> {
        let mut agent = self.agent.lock().unwrap_or_else(|p| p.into_inner());
        match agent.as_ref() {
            Some((t, a)) if *t == timeout => Ok(a.clone()),
            _ => {
                let made = crate::protocols::client_with_timeout(&[], timeout)
                    .map_err(|e| format!("{e:#}"))?;
                *agent = Some((timeout, made.clone()));
                Ok(made)
            }
        }
    }
}

impl PeerTransport for HttpTransport {
    fn post(
        &self,
        url: &str,
        media_type: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), String> {
        let agent = self.agent(timeout)?;
        crate::protocols::post(&agent, url, media_type, body).map_err(|e| format!("{e:#}"))
    }
}

/// The transport an engine of this binary gets.
pub fn http() -> std::sync::Arc<dyn PeerTransport> {
    std::sync::Arc::new(HttpTransport::default())
}
