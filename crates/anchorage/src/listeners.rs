//! `serve`'s HTTP listeners (the public port and the admin API), built
//! the same way: connections admitted through an
//! [`anchorage_netguard::Guard`] before any TLS work, a header timeout
//! that also bounds idle keep-alive connections, a first-request timeout,
//! HTTP/2 keep-alive pings and a cap on streams, and accept errors
//! counted and retried (never ending the listener).

use std::future::Ready;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anchorage_netguard::{Admitted, Guard, Refusal};
use anyhow::Context;
use axum_server::accept::Accept;
use tokio::net::TcpStream;

/// Connection limits and timeouts of `serve`'s listeners.
#[derive(Clone, Debug, PartialEq)]
pub struct ListenLimits {
    /// Open connections on the public HTTP port.
    pub http_connections: usize,
    /// Open connections on the admin API.
    pub api_connections: usize,
    /// Open connections on the RTR port.
    pub rtr_connections: usize,
    /// Clients rsyncd serves at once (its own process and descriptors).
    pub rsync_connections: u32,
    /// How long an rsync client may stay silent before rsyncd drops it.
    pub rsync_timeout: Duration,
    /// Open connections from one source address, on each listener.
    pub per_address: usize,
    /// Addresses without a per-address cap (a reverse proxy in front).
    pub exempt: Vec<IpAddr>,
    /// File descriptors kept for publication and the store, never given
    /// to client connections.
    pub fd_reserve: u64,
    /// How long a client may take to send a request's headers, and how
    /// long a keep-alive connection may sit idle between requests.
    pub header_timeout: Duration,
    /// How long a client may take to send the body of an RFC 6492 or
    /// RFC 8181 message, or of an API request.
    pub body_timeout: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        ListenLimits {
            http_connections: 1024,
            api_connections: 256,
            rtr_connections: 1024,
            rsync_connections: 512,
            rsync_timeout: Duration::from_secs(300),
            per_address: 64,
            exempt: vec![
                IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ],
            fd_reserve: 256,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
        }
    }
}

/// The guards of the three listeners, their caps fitted into the
/// process's file descriptors minus the reserve.
#[derive(Clone, Debug)]
pub struct Guards {
    /// The public HTTP port.
    pub http: Guard,
    /// The admin API.
    pub api: Guard,
    /// The RTR port.
    pub rtr: Guard,
}

impl Guards {
    /// Raises the file descriptor limit and shares it out as `limits` say.
    pub fn new(limits: &ListenLimits, api: bool, rtr: bool) -> Guards {
        let budget = anchorage_netguard::FdBudget::raise(limits.fd_reserve);
        let wanted = [
            limits.http_connections,
            if api { limits.api_connections } else { 0 },
            if rtr { limits.rtr_connections } else { 0 },
        ];
        let caps = budget.share(&wanted);
        if caps != wanted {
            tracing::warn!(
                fd_limit = budget.limit,
                reserve = budget.reserve,
                ?wanted,
                ?caps,
                "the file descriptor limit is too low for the configured connection caps; caps lowered"
            );
        } else {
            tracing::info!(
                fd_limit = budget.limit,
                reserve = budget.reserve,
                ?caps,
                "connection caps"
            );
        }
        let guard = |name, cap: usize| {
            Guard::new(
                name,
                anchorage_netguard::Limits {
                    max_connections: cap.max(1),
                    max_per_address: limits.per_address.max(1),
                },
                &limits.exempt,
            )
        };
        Guards {
            http: guard("http", caps[0]),
            api: guard("api", caps[1]),
            rtr: guard("rtr", caps[2]),
        }
    }
}

/// The acceptor under TLS (or alone, for plain HTTP): admits the
/// connection through the guard, or closes it at once.
#[derive(Clone, Debug)]
pub struct GuardAcceptor(pub Guard);

impl<S> Accept<TcpStream, S> for GuardAcceptor {
    type Stream = Admitted<TcpStream>;
    type Service = S;
    type Future = Ready<io::Result<(Admitted<TcpStream>, S)>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream
            .peer_addr()
            .and_then(|peer| self.0.admit(peer.ip()).map_err(io::Error::other))
            .map(|permit| (Admitted::new(stream, permit), service));
        std::future::ready(admitted)
    }
}

/// The error handler of an axum-server listener: accept errors are
/// counted and logged (the server pauses and retries); refusals were
/// counted by the guard; failed TLS handshakes are the client's business.
fn on_error(guard: Guard) -> impl Fn(Option<&SocketAddr>, &io::Error) + Send + Sync + 'static {
    move |peer, err| match peer {
        None => guard.accept_error(err),
        Some(peer) => match err.get_ref().and_then(|e| e.downcast_ref::<Refusal>()) {
            Some(why) => guard.refused(*peer, *why),
            None => {
                tracing::debug!(listener = guard.name(), %peer, %err, "connection setup failed")
            }
        },
    }
}

/// Serves `app` on `addr` (TLS with `tls`) until `handle` shuts it down,
/// admitting connections through `guard`; `timeout` bounds the TLS
/// handshake, the first request, every request head and idle keep-alive.
async fn serve_http(
    addr: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
    guard: Guard,
    timeout: Duration,
    handle: axum_server::Handle<SocketAddr>,
    app: axum::Router,
) -> anyhow::Result<()> {
    let svc = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some((cert, key)) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| {
                    format!(
                        "loading TLS certificate {} and key {}",
                        cert.display(),
                        key.display()
                    )
                })?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .handshake_timeout(timeout)
                .acceptor(GuardAcceptor(guard.clone()));
            let server = axum_server::bind(addr).acceptor(acceptor);
            configured(server, guard, timeout, handle)
                .serve(svc)
                .await?;
        }
        None => {
            let server = axum_server::bind(addr).acceptor(GuardAcceptor(guard.clone()));
            configured(server, guard, timeout, handle)
                .serve(svc)
                .await?;
        }
    }
    Ok(())
}

/// `server` with the timeouts, the error handler of `guard` and `handle`.
fn configured<A>(
    mut server: axum_server::Server<SocketAddr, A>,
    guard: Guard,
    timeout: Duration,
    handle: axum_server::Handle<SocketAddr>,
) -> axum_server::Server<SocketAddr, A> {
    configure(server.http_builder(), timeout);
    server
        .first_request_timeout(timeout)
        .accept_error_handler(on_error(guard))
        .handle(handle)
}

/// Starts [`serve_http`] as a task and waits until it listens: returns
/// the bound address and the task, or why it could not start (a TLS
/// file, an address in use).
pub async fn spawn_http(
    addr: SocketAddr,
    tls: Option<(PathBuf, PathBuf)>,
    guard: Guard,
    timeout: Duration,
    app: axum::Router,
) -> anyhow::Result<(
    SocketAddr,
    axum_server::Handle<SocketAddr>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
)> {
    let handle = axum_server::Handle::new();
    let mut task = tokio::spawn(serve_http(addr, tls, guard, timeout, handle.clone(), app));
    tokio::select! {
        bound = handle.listening() => match bound {
            Some(bound) => Ok((bound, handle, task)),
            None => Err(task.await?.err().unwrap_or_else(|| anyhow::anyhow!("cannot listen on {addr}"))),
        },
        ended = &mut task => Err(ended?.err().unwrap_or_else(|| anyhow::anyhow!("cannot listen on {addr}"))),
    }
}

/// HTTP/1: the header timeout (hyper starts it whenever it waits for a
/// request head, so it also ends idle keep-alive connections); headers at
/// most 128 KiB in the read buffer ([`limit_head`] refuses far less). HTTP/2: keep-alive pings answered within the
/// timeout, at most 64 streams, the same header size.
fn configure(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    timeout: Duration,
) {
    builder
        .http1()
        .header_read_timeout(timeout)
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .keep_alive_interval(timeout)
        .keep_alive_timeout(timeout)
        .max_concurrent_streams(64)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
}

/// The read buffer of an HTTP/1 connection: a request head that does not
/// fit is refused by hyper (431, no body). Smaller heads are checked by
/// [`limit_head`], which answers with problems.
pub const MAX_HEADER_BYTES: usize = 128 * 1024;

/// The longest request URI (414 beyond): Anchorage's own are short.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The most header bytes (names and values) a request may carry (431
/// beyond).
pub const MAX_HEADER_FIELD_BYTES: usize = 32 * 1024;

/// Refuses a request whose URI or headers are too long, with a problem:
/// 414 or 431.
pub async fn limit_head(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let uri = req.uri().to_string().len();
    if uri > MAX_URI_BYTES {
        return anchorage_admin_api::problem::Problem::new(
            StatusCode::URI_TOO_LONG,
            "URI too long",
            format!("request URIs are limited to {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let fields: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if fields > MAX_HEADER_FIELD_BYTES {
        return anchorage_admin_api::problem::Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request header fields too large",
            format!("request headers are limited to {MAX_HEADER_FIELD_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(req).await
}
