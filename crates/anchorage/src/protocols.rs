//! HTTP endpoints of the delegation protocols, served by the public HTTP
//! server next to RRDP: `POST /rfc6492/PARENT/CHILD` (RFC 6492 §3,
//! `application/rpki-updown`) and `POST /rfc8181/PUBLISHER` (RFC 8181
//! §2, `application/rpki-publication`).
//!
//! Authentication is the CMS signature by the peer's identity
//! certificate; a request that cannot be answered with a signed reply
//! gets a 4xx and an RFC 9457 problem body, never a 500 for bad input.

use std::sync::Arc;

use anchorage_admin_api::problem::Problem;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing;

use crate::bpki::{MAX_PROVISIONING_MESSAGE, MAX_PUBLICATION_MESSAGE};
use crate::ops::Refusal;

pub use anchorage_engine::transport::{PEER_TIMEOUT, PUBLICATION_TYPE, UPDOWN_TYPE};

type Shared = Arc<crate::ops::EnginePool>;

/// How many protocol requests are handled (and their bodies held in
/// memory) at once; more get 503 and `Retry-After`.
pub const MAX_CONCURRENT: usize = 4;

/// What the protocol handlers share.
#[derive(Clone)]
struct Protocols {
    anchorage: Shared,
    /// Requests being handled; a request takes a slot only once its
    /// whole body has arrived, so slow senders hold no slot.
    slots: Arc<tokio::sync::Semaphore>,
    /// How long a peer may take to send a message.
    body_timeout: std::time::Duration,
}

/// The routes of both protocols; a peer has `body_timeout` to send its
/// whole message.
pub fn router(anchorage: Shared, body_timeout: std::time::Duration) -> Router {
    let state = Protocols {
        anchorage,
        slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT)),
        body_timeout,
    };
    Router::new()
        .route("/rfc6492/{parent}/{child}", routing::post(rfc6492))
        .route("/rfc8181/{publisher}", routing::post(rfc8181))
        .with_state(state)
}

/// Reads the message (at most `limit` bytes, within the body timeout:
/// 413 or 408 problems otherwise), then takes a slot (503 and
/// `Retry-After` when all are busy).
async fn receive(
    p: &Protocols,
    body: axum::body::Body,
    limit: usize,
) -> Result<(Bytes, tokio::sync::OwnedSemaphorePermit), Response> {
    let bytes = anchorage_admin_api::server::read_message(body, limit, p.body_timeout).await?;
    let slot = p.slots.clone().try_acquire_owned().map_err(|_| {
        let mut r = Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "too many protocol requests in progress; retry shortly",
        )
        .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        r
    })?;
    Ok((bytes, slot))
}

async fn rfc6492(
    State(p): State<Protocols>,
    Path((parent, child)): Path<(String, String)>,
    body: axum::body::Body,
) -> Response {
    let (body, _slot) = match receive(&p, body, MAX_PROVISIONING_MESSAGE).await {
        Ok(received) => received,
        Err(refused) => return refused,
    };
    let a = p.anchorage.clone();
    answer(UPDOWN_TYPE, move || {
        let mut a = a.get().map_err(|_| poisoned())?;
        a.rfc6492(&parent, &child, &body)
    })
    .await
}

async fn rfc8181(
    State(p): State<Protocols>,
    Path(publisher): Path<String>,
    body: axum::body::Body,
) -> Response {
    let (body, _slot) = match receive(&p, body, MAX_PUBLICATION_MESSAGE).await {
        Ok(received) => received,
        Err(refused) => return refused,
    };
    let a = p.anchorage.clone();
    answer(PUBLICATION_TYPE, move || {
        let mut a = a.get().map_err(|_| poisoned())?;
        a.rfc8181(&publisher, &body)
    })
    .await
}

fn poisoned() -> Refusal {
    Refusal::Internal(crate::error::AppError::Io {
        what: "CA state lock".into(),
        source: std::io::Error::other("poisoned"),
    })
}

async fn answer(
    media_type: &'static str,
    work: impl FnOnce() -> Result<bytes::Bytes, Refusal> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(reply)) => ([(header::CONTENT_TYPE, media_type)], reply).into_response(),
        Ok(Err(refusal)) => match refusal {
            Refusal::NotFound(d) => Problem::not_found(d).into_response(),
            Refusal::BadMessage(d) => Problem::bad_request(d).into_response(),
            Refusal::Forbidden(d) => Problem::forbidden(d).into_response(),
            // A standby, or a store out of reach: the peer retries later
            // (at the leader, when something in front routes it there).
            Refusal::Internal(crate::error::AppError::Store(e))
                if e.is_unavailable() || e.is_not_leader() =>
            {
                tracing::warn!(error = %e, "protocol request refused for now");
                let title = if e.is_not_leader() {
                    "Not the leader"
                } else {
                    "Database unavailable"
                };
                let mut r = Problem::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    title,
                    e.to_string(),
                )
                .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                r
            }
            Refusal::Internal(e) => {
                // Logged in full; the peer is not told our internals.
                tracing::error!(error = %e, "protocol request failed");
                Problem::internal().into_response()
            }
        },
        Err(e) => {
            tracing::error!(error = %e, "protocol request task failed");
            Problem::internal().into_response()
        }
    }
}

/// How Anchorage names itself to parents, repositories and API servers.
pub const USER_AGENT: &str = concat!("anchorage/", env!("CARGO_PKG_VERSION"));

/// An HTTP client for peers' service URIs: the system's roots plus
/// `extra_pem`; 4xx and 5xx are answers, not transport errors.
pub fn client(extra_pem: &[u8]) -> anyhow::Result<ureq::Agent> {
    client_with_timeout(extra_pem, PEER_TIMEOUT)
}

/// [`client`] with another timeout per exchange.
pub fn client_with_timeout(
    extra_pem: &[u8],
    timeout: std::time::Duration,
) -> anyhow::Result<ureq::Agent> {
    Ok(ureq::Agent::config_builder()
        .user_agent(USER_AGENT)
        .tls_config(anchorage_validator::rrdp::tls_config(extra_pem)?)
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .new_agent())
}

/// POSTs a CMS-signed message to a service URI; returns the HTTP status
/// and the body (at most [`MAX_PUBLICATION_MESSAGE`] bytes).
pub fn post(
    agent: &ureq::Agent,
    url: &str,
    media_type: &str,
    body: &[u8],
) -> anyhow::Result<(u16, Vec<u8>)> {
    use anyhow::Context;
    let req = ureq::http::Request::builder()
        .method("POST")
        .uri(url)
        .header("Content-Type", media_type)
        .body(body.to_vec())?;
    let mut resp = agent.run(req).with_context(|| format!("POST {url}"))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_PUBLICATION_MESSAGE as u64)
        .read_to_vec()
        .with_context(|| format!("reading the reply of {url}"))?;
    Ok((status, bytes))
}
