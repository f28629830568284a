//! Guards for Anchorage's listeners (RTR, the public HTTP port, the admin
//! API): what keeps a connection flood, a slow client or a failing
//! `accept` from stopping a service.
//!
//! * [`Guard`] admits a connection only while its listener has fewer than
//!   `max_connections` open and its source address fewer than
//!   `max_per_address`; an admitted connection holds a [`Permit`] until
//!   it closes. Refused connections are closed at once and counted.
//! * [`Guard::accept`] is an accept loop that never ends: an accept error
//!   (`EMFILE`, `ENFILE`, `ENOBUFS`, …) is counted, logged (the first of
//!   a run, then a summary when accepting works again) and retried after
//!   a growing pause (5 ms doubling to 1 s), never returned.
//! * [`FdBudget`] raises the process's file-descriptor limit to its hard
//!   limit and shares it out: listeners get what is left after a reserve
//!   for publication (tree writes, RRDP files, the store), so clients can
//!   never starve it.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// How many connections a listener admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections on the listener, from all addresses.
    pub max_connections: usize,
    /// Open connections from one source address.
    pub max_per_address: usize,
}

/// What a listener has seen, for metrics.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections admitted.
    pub accepted: AtomicU64,
    /// Connections closed at once: the listener was full.
    pub refused_full: AtomicU64,
    /// Connections closed at once: their address had too many open.
    pub refused_address: AtomicU64,
    /// Failed `accept` calls (e.g. no file descriptor left).
    pub accept_errors: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
}

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The listener has `max_connections` open.
    Full,
    /// The source address has `max_per_address` open.
    Address,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Full => "the listener is at its connection limit",
            Refusal::Address => "the address is at its per-address connection limit",
        })
    }
}

impl std::error::Error for Refusal {}

struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

struct Inner {
    name: &'static str,
    limits: Limits,
    /// Addresses only the listener's cap applies to (a reverse proxy).
    exempt: Vec<IpAddr>,
    open: Mutex<Open>,
    stats: Stats,
}

/// The admission control of one listener; cheap to clone.
#[derive(Clone)]
pub struct Guard(Arc<Inner>);

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("name", &self.0.name)
            .field("limits", &self.0.limits)
            .finish()
    }
}

impl Guard {
    /// A guard for the listener `name` (used in logs and metrics).
    /// Connections from `exempt` (a reverse proxy in front, which
    /// forwards every client from its own address) have no per-address
    /// cap; the listener's cap still counts them.
    pub fn new(name: &'static str, limits: Limits, exempt: &[IpAddr]) -> Guard {
        Guard(Arc::new(Inner {
            name,
            limits,
            exempt: exempt.iter().copied().map(canonical).collect(),
            open: Mutex::new(Open {
                total: 0,
                by_address: HashMap::new(),
            }),
            stats: Stats::default(),
        }))
    }

    /// The listener's name.
    pub fn name(&self) -> &'static str {
        self.0.name
    }

    /// The limits it enforces.
    pub fn limits(&self) -> Limits {
        self.0.limits
    }

    /// What it has seen.
    pub fn stats(&self) -> &Stats {
        &self.0.stats
    }

    /// Admits a connection from `address`, or says why not (and counts it).
    pub fn admit(&self, address: IpAddr) -> Result<Permit, Refusal> {
        let address = canonical(address);
        let mut open = self.0.open.lock().unwrap_or_else(|p| p.into_inner());
        let stats = &self.0.stats;
        if open.total >= self.0.limits.max_connections {
            stats.refused_full.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Full);
        }
        let exempt = self.0.exempt.contains(&address);
        let mine = open.by_address.entry(address).or_insert(0);
        if *mine >= self.0.limits.max_per_address && !exempt {
            stats.refused_address.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::Address);
        }
        *mine += 1;
        open.total += 1;
        stats.accepted.fetch_add(1, Ordering::Relaxed);
        stats.open.fetch_add(1, Ordering::Relaxed);
        Ok(Permit {
            guard: self.clone(),
            address,
        })
    }

    /// Accepts the next admitted connection. Refused connections are
    /// closed at once; accept errors are counted, logged and retried
    /// after a growing pause. Never fails: a listener must not die.
    pub async fn accept(&self, listener: &TcpListener) -> (TcpStream, SocketAddr, Permit) {
        let mut backoff = Backoff::new(self.clone());
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    backoff.recovered();
                    match self.admit(peer.ip()) {
                        Ok(permit) => return (stream, peer, permit),
                        Err(why) => self.refused(peer, why),
                    }
                }
                Err(err) => backoff.failed(&err).await,
            }
        }
    }

    /// Logs a refused connection (at debug level: a flood must not flood
    /// the log; the metrics count them).
    pub fn refused(&self, peer: SocketAddr, why: Refusal) {
        tracing::debug!(listener = self.0.name, %peer, %why, "connection refused");
    }

    /// Counts and logs an accept error reported by another accept loop
    /// (one that does its own pausing).
    pub fn accept_error(&self, err: &io::Error) {
        let n = self.0.stats.accept_errors.fetch_add(1, Ordering::Relaxed) + 1;
        // The first, then every 1,000th: the metric has the rest.
        if n == 1 || n.is_multiple_of(1000) {
            tracing::warn!(listener = self.0.name, error = %err, errors = n, "accept failed; retrying");
        }
    }
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address they map.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// An admitted connection's place on its listener, given back on drop.
pub struct Permit {
    guard: Guard,
    address: IpAddr,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field("listener", &self.guard.0.name)
            .field("address", &self.address)
            .finish()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let inner = &self.guard.0;
        let mut open = inner.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
        inner.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The pause after failed accepts: 5 ms, doubling to 1 s.
struct Backoff {
    guard: Guard,
    pause: Duration,
    failures: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    fn new(guard: Guard) -> Backoff {
        Backoff {
            guard,
            pause: Self::FIRST,
            failures: 0,
        }
    }

    async fn failed(&mut self, err: &io::Error) {
        self.failures += 1;
        self.guard
            .0
            .stats
            .accept_errors
            .fetch_add(1, Ordering::Relaxed);
        if self.failures == 1 {
            tracing::warn!(listener = self.guard.0.name, error = %err, "accept failed; retrying with backoff");
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Self::MAX);
    }

    fn recovered(&mut self) {
        if self.failures > 0 {
            tracing::warn!(
                listener = self.guard.0.name,
                failures = self.failures,
                "accepting connections again"
            );
        }
        self.failures = 0;
        self.pause = Self::FIRST;
    }
}

/// A connection that holds its [`Permit`] for as long as it is open.
pub struct Admitted<S> {
    inner: S,
    _permit: Permit,
}

impl<S> Admitted<S> {
    /// `inner`, holding `permit` until dropped.
    pub fn new(inner: S, permit: Permit) -> Admitted<S> {
        Admitted {
            inner,
            _permit: permit,
        }
    }

    /// The connection itself.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Admitted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Admitted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The process's file descriptors, shared between listeners and a
/// reserve that only publication and the store use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit in force (after raising it to the hard limit).
    pub limit: u64,
    /// Kept for everything but client connections.
    pub reserve: u64,
}

impl FdBudget {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (as far as the
    /// system allows) and keeps `reserve` of it away from listeners.
    pub fn raise(reserve: u64) -> FdBudget {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let now = getrlimit(Resource::Nofile);
        let mut limit = now.current.unwrap_or(u64::MAX);
        if let Some(max) = now.maximum.filter(|m| *m > limit) {
            let raised = Rlimit {
                current: Some(max),
                maximum: now.maximum,
            };
            match setrlimit(Resource::Nofile, raised) {
                Ok(()) => limit = max,
                Err(e) => tracing::warn!(error = %e, "could not raise the file descriptor limit"),
            }
        }
        FdBudget { limit, reserve }
    }

    /// What listeners may hold together.
    pub fn for_listeners(&self) -> u64 {
        self.limit.saturating_sub(self.reserve)
    }

    /// Fits the listeners' `wanted` connection caps into the budget:
    /// unchanged when they fit, otherwise each scaled down in proportion
    /// (at least 1).
    pub fn share(&self, wanted: &[usize]) -> Vec<usize> {
        let total: u64 = wanted.iter().map(|w| *w as u64).sum();
        let room = self.for_listeners();
        if total <= room {
            return wanted.to_vec();
        }
        wanted
            .iter()
            .map(|w| ((*w as u64 * room / total.max(1)) as usize).max(1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn caps_per_listener_and_per_address() {
        let g = Guard::new(
            "test",
            Limits {
                max_connections: 3,
                max_per_address: 2,
            },
            &[],
        );
        let a1 = g.admit(ip("192.0.2.1")).unwrap();
        let _a2 = g.admit(ip("192.0.2.1")).unwrap();
        // IPv4-mapped IPv6 is the same address.
        assert_eq!(
            g.admit(ip("::ffff:192.0.2.1")).unwrap_err(),
            Refusal::Address
        );
        let _b = g.admit(ip("2001:db8::1")).unwrap();
        assert_eq!(g.admit(ip("198.51.100.7")).unwrap_err(), Refusal::Full);
        assert_eq!(g.stats().open.load(Ordering::Relaxed), 3);
        drop(a1);
        // A place freed is a place to take, for anyone.
        let _c = g.admit(ip("198.51.100.7")).unwrap();
        // An exempt address (a reverse proxy) has only the listener's cap.
        let proxied = Guard::new(
            "proxied",
            Limits {
                max_connections: 3,
                max_per_address: 1,
            },
            &[ip("127.0.0.1")],
        );
        let held: Vec<Permit> = (0..3)
            .map(|_| proxied.admit(ip("127.0.0.1")).unwrap())
            .collect();
        assert_eq!(proxied.admit(ip("127.0.0.1")).unwrap_err(), Refusal::Full);
        drop(held);
        let _d = proxied.admit(ip("192.0.2.9")).unwrap();
        assert_eq!(
            proxied.admit(ip("192.0.2.9")).unwrap_err(),
            Refusal::Address
        );
        assert_eq!(g.stats().accepted.load(Ordering::Relaxed), 4);
        assert_eq!(g.stats().refused_address.load(Ordering::Relaxed), 1);
        assert_eq!(g.stats().refused_full.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn budget_scales_caps_down_to_fit_the_reserve() {
        let b = FdBudget {
            limit: 1024,
            reserve: 256,
        };
        assert_eq!(b.share(&[256, 128, 256]), vec![256, 128, 256]);
        let b = FdBudget {
            limit: 256,
            reserve: 128,
        };
        let shared = b.share(&[512, 256, 256]);
        assert!(shared.iter().sum::<usize>() <= 128, "{shared:?}");
        assert_eq!(shared, vec![64, 32, 32]);
        let b = FdBudget {
            limit: 100,
            reserve: 128,
        };
        assert_eq!(b.share(&[10, 10]), vec![1, 1]);
    }

    /// Connections beyond the cap are closed at once; the listener goes
    /// on accepting when places free up.
    #[tokio::test]
    async fn accept_loop_closes_refused_connections_and_goes_on() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let g = Guard::new(
            "test",
            Limits {
                max_connections: 2,
                max_per_address: 1,
            },
            &[],
        );
        let server = {
            let g = g.clone();
            tokio::spawn(async move {
                loop {
                    // Each admitted connection is held until its client
                    // closes it, like a real handler.
                    let (stream, _, permit) = g.accept(&listener).await;
                    tokio::spawn(async move {
                        let mut conn = Admitted::new(stream, permit);
                        let mut sink = Vec::new();
                        let _ = tokio::io::AsyncReadExt::read_to_end(&mut conn, &mut sink).await;
                    });
                }
            })
        };
        let first = TcpStream::connect(addr).await.unwrap();
        // The second is closed by the server: reading sees EOF.
        let mut second = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 1];
        let n = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::io::AsyncReadExt::read(&mut second, &mut buf),
        )
        .await
        .expect("a refused connection is closed at once")
        .unwrap_or(0);
        assert_eq!(n, 0);
        assert_eq!(g.stats().refused_address.load(Ordering::Relaxed), 1);
        drop(first);
        // Once the first is gone, a new one is admitted.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let _third = TcpStream::connect(addr).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            if g.stats().accepted.load(Ordering::Relaxed) >= 2 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline);
        }
        server.abort();
    }
}
