//! The RTR cache: serves routers the VRPs of the bundled validator.
//!
//! * [`pdu`] encodes and decodes the PDUs of RFC 6810 (version 0),
//!   RFC 8210 (version 1) and draft-ietf-sidrops-8210bis (version 2, with
//!   ASPA PDUs).
//! * [`VrpHistory`] keeps the current VRP set, and the differences of
//!   the last [`HISTORY`] serials for Serial Queries. A Reset Query is
//!   answered with the set's PDUs encoded part by part as the router
//!   takes them, so a reset holds one part (256 KB), never the whole
//!   set's PDUs (32 MB at 1,000,000 VRPs).
//! * [`serve`] runs the protocol on TCP: version negotiation (RFC 8210
//!   §7), reset and serial queries, Serial Notify to every connected
//!   router when the set changes, and Error Reports for bad PDUs, after
//!   which the connection is closed (RFC 8210 §5.11).
//!
//! ASPAs are a second payload kind of each serial: sent, after the
//! prefixes, only to routers that negotiated version 2. A serial query is
//! answered with the ASPAs of every customer AS whose providers changed
//! since (the new set announced, replacing the old) or that has none any
//! more (withdrawn).
#![forbid(unsafe_code)]

pub mod pdu;

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use pdu::{ErrorCode, Header, Query, Timing};

/// The highest version offered unless configured otherwise.
pub const DEFAULT_VERSION: u8 = 1;

/// How many serials of differences are kept for serial queries.
pub const HISTORY: usize = 100;

/// One VRP: origin AS, prefix, maxLength.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// Origin AS.
    pub asn: u32,
    /// Prefix address.
    pub addr: IpAddr,
    /// Prefix length.
    pub len: u8,
    /// maxLength.
    pub max_len: u8,
}

/// One ASPA as routers get it: a customer AS and its providers, ascending.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Aspa {
    /// The customer AS.
    pub customer: u32,
    /// The provider ASes, ascending.
    pub providers: Vec<u32>,
}

/// One BGPsec router key as routers get it (RFC 8210 §5.10): the AS,
/// the key's SKI and its SubjectPublicKeyInfo DER.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouterKey {
    /// The AS.
    pub asn: u32,
    /// The key's SKI.
    pub ski: [u8; 20],
    /// The key, as SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
}

/// How many Prefix PDUs a reset encodes at a time: 256 KB of IPv6 ones,
/// the size of a connection's write buffer.
const PART: usize = 8192;

/// One serial's VRP set, ASPAs and router keys.
pub struct Snapshot {
    session: u16,
    serial: u32,
    origins: Vec<Origin>,
    /// The ASPAs, by customer AS, one each.
    aspas: Arc<Vec<Aspa>>,
    /// The router keys, sorted.
    keys: Arc<Vec<RouterKey>>,
}

impl Snapshot {
    /// The session id and serial of this set.
    pub fn state(&self) -> (u16, u32) {
        (self.session, self.serial)
    }

    /// How many VRPs.
    pub fn len(&self) -> usize {
        self.origins.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.origins.is_empty()
    }

    /// The ASPAs, by customer AS.
    pub fn aspas(&self) -> &[Aspa] {
        &self.aspas
    }

    /// The router keys, sorted.
    pub fn router_keys(&self) -> &[RouterKey] {
        &self.keys
    }

    /// The announcing Prefix PDUs of every VRP in `version`, then, from
    /// version 1 on, the Router Key PDU of every router key and, from
    /// version 2 on, the ASPA PDU of every ASPA: in parts of at most
    /// [`PART`] PDUs, each encoded when it is taken.
    pub fn encoded(&self, version: u8) -> impl Iterator<Item = Vec<u8>> + Send + '_ {
        let prefixes = self.origins.chunks(PART).map(move |part| {
            let mut out = Vec::with_capacity(part.len() * 32);
            for o in part {
                pdu::prefix(&mut out, version, true, o);
            }
            out
        });
        let others = std::iter::once_with(move || {
            let mut out = Vec::new();
            if version >= 1 {
                for k in self.keys.iter() {
                    pdu::router_key(&mut out, version, true, k);
                }
            }
            if version >= pdu::ASPA_VERSION {
                for a in self.aspas.iter() {
                    pdu::aspa(&mut out, version, true, a);
                }
            }
            out
        });
        prefixes.chain(others.filter(|out| !out.is_empty()))
    }
}

/// A change: (VRP, announced?) pairs, sorted.
pub type Changes = Vec<(Origin, bool)>;

/// One serial's change.
type Diff = Arc<Changes>;

/// One serial's ASPAs and router keys.
type Others = (Arc<Vec<Aspa>>, Arc<Vec<RouterKey>>);

struct Inner {
    ready: bool,
    current: Arc<Snapshot>,
    /// (serial after the change, the change, the ASPAs before it), oldest
    /// first.
    diffs: VecDeque<(u32, Diff, Others)>,
}

/// The VRP set and its recent history, shared with the RTR server.
#[derive(Clone)]
pub struct VrpHistory {
    inner: Arc<RwLock<Inner>>,
    notify: watch::Sender<u32>,
}

impl Default for VrpHistory {
    fn default() -> Self {
        Self::new()
    }
}

fn snapshot(
    session: u16,
    serial: u32,
    origins: Vec<Origin>,
    (aspas, keys): Others,
) -> Arc<Snapshot> {
    Arc::new(Snapshot {
        session,
        serial,
        origins,
        aspas,
        keys,
    })
}

impl VrpHistory {
    /// An empty history, not ready until the first [`Self::update`], with a
    /// random session id (RFC 8210 §5.1: a new one at every start).
    pub fn new() -> Self {
        let session = (uuid::Uuid::new_v4().as_u128() & 0xffff) as u16;
        VrpHistory {
            inner: Arc::new(RwLock::new(Inner {
                ready: false,
                current: snapshot(session, 0, Vec::new(), Default::default()),
                diffs: VecDeque::new(),
            })),
            notify: watch::channel(0).0,
        }
    }

    /// The current session id and serial.
    pub fn state(&self) -> (u16, u32) {
        self.current().state()
    }

    /// Whether a first VRP set has been given.
    pub fn ready(&self) -> bool {
        self.inner.read().expect("VRP history lock").ready
    }

    /// The current set.
    pub fn current(&self) -> Arc<Snapshot> {
        self.inner.read().expect("VRP history lock").current.clone()
    }

    /// Replaces the VRP set; if it changed, the serial goes up by one and
    /// connected routers are notified. Returns whether it changed.
    pub fn update(&self, set: BTreeSet<Origin>) -> bool {
        self.replace(set.into_iter().collect(), None)
    }

    /// As [`Self::update`], replacing the ASPAs too. Several ASPAs of one
    /// customer AS (from different CAs) are sent as one with the union of
    /// their providers, as draft-ietf-sidrops-8210bis §5.12 asks.
    /// The router keys are replaced too.
    pub fn update_all(
        &self,
        set: BTreeSet<Origin>,
        aspas: Vec<Aspa>,
        router_keys: Vec<RouterKey>,
    ) -> bool {
        self.replace(set.into_iter().collect(), Some((aspas, router_keys)))
    }

    /// Changes the VRP set by `withdrawn` and `announced` (each sorted);
    /// as [`Self::update`] with the set that results. A withdrawn VRP not
    /// in the set, or an announced one already in it, changes nothing.
    /// Costs a copy of the set, not a sort of it.
    pub fn apply(&self, announced: &[Origin], withdrawn: &[Origin]) -> bool {
        self.apply_all(announced, withdrawn, None)
    }

    /// As [`Self::apply`], and with `others` the ASPAs and router keys
    /// replaced by them.
    pub fn apply_all(
        &self,
        announced: &[Origin],
        withdrawn: &[Origin],
        others: Option<(Vec<Aspa>, Vec<RouterKey>)>,
    ) -> bool {
        let current = self.current();
        let old = &current.origins;
        let mut new = Vec::with_capacity(old.len() + announced.len());
        let (mut w, mut a) = (0, 0);
        for o in old {
            while w < withdrawn.len() && withdrawn[w] < *o {
                w += 1;
            }
            if withdrawn.get(w) == Some(o) {
                continue;
            }
            while a < announced.len() && announced[a] < *o {
                new.push(announced[a]);
                a += 1;
            }
            if announced.get(a) == Some(o) {
                a += 1;
            }
            new.push(*o);
        }
        new.extend_from_slice(&announced[a..]);
        new.dedup();
        self.replace(new, others)
    }

    /// Replaces the VRP set with `new` (sorted, no duplicates) and, if
    /// given, the ASPAs.
    fn replace(&self, new: Vec<Origin>, others: Option<(Vec<Aspa>, Vec<RouterKey>)>) -> bool {
        let (aspas, keys) = match others {
            Some((aspas, mut keys)) => {
                keys.sort();
                keys.dedup();
                (Some(aspas), Some(Arc::new(keys)))
            }
            None => (None, None),
        };
        let aspas = aspas.map(|mut list| {
            list.sort();
            // One per customer AS, with the union of the providers.
            let mut one: Vec<Aspa> = Vec::with_capacity(list.len());
            for a in list {
                match one.last_mut() {
                    Some(last) if last.customer == a.customer => {
                        last.providers.extend(a.providers);
                        last.providers.sort_unstable();
                        last.providers.dedup();
                        // AS0 ("no provider") means nothing next to one.
                        if last.providers.len() > 1 && last.providers[0] == 0 {
                            last.providers.remove(0);
                        }
                    }
                    _ => one.push(a),
                }
            }
            Arc::new(one)
        });
        let mut inner = self.inner.write().expect("VRP history lock");
        let old_aspas = inner.current.aspas.clone();
        let aspas = aspas.unwrap_or_else(|| old_aspas.clone());
        let old_keys = inner.current.keys.clone();
        let keys = keys.unwrap_or_else(|| old_keys.clone());
        let first = !inner.ready;
        let old = &inner.current.origins;
        // Both sorted: one merge walk gives the difference.
        let mut diff = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(a), Some(b)) if a < b => {
                    diff.push((*a, false));
                    i += 1;
                }
                (Some(a), None) => {
                    diff.push((*a, false));
                    i += 1;
                }
                (_, Some(b)) => {
                    diff.push((*b, true));
                    j += 1;
                }
                (None, None) => unreachable!(),
            }
        }
        inner.ready = true;
        if diff.is_empty() && aspas == old_aspas && keys == old_keys && !first {
            return false;
        }
        let (session, mut serial) = inner.current.state();
        if !first {
            // RFC 1982 serial arithmetic: wraps around.
            serial = serial.wrapping_add(1);
            inner
                .diffs
                .push_back((serial, Arc::new(diff), (old_aspas, old_keys)));
            while inner.diffs.len() > HISTORY {
                inner.diffs.pop_front();
            }
        }
        inner.current = snapshot(session, serial, new, (aspas, keys));
        drop(inner);
        tracing::info!(session, serial, "RTR data updated");
        self.notify.send_replace(serial);
        true
    }

    /// The net change from `serial` to the current serial, sorted: of
    /// the VRPs, and of the ASPAs (the current one of every customer AS
    /// whose ASPA changed, announced; the old one of every customer AS
    /// that has none any more, withdrawn). `None` when it is not known
    /// (too old, or from the future).
    pub fn diff(&self, serial: u32) -> Option<Delta> {
        let inner = self.inner.read().expect("VRP history lock");
        let current = inner.current.clone();
        if serial == current.serial {
            return Some(Delta {
                snapshot: current,
                origins: Vec::new(),
                aspas: Vec::new(),
                router_keys: Vec::new(),
            });
        }
        let start = inner
            .diffs
            .iter()
            .position(|(s, ..)| *s == serial.wrapping_add(1))?;
        let (then, keys_then) = &inner.diffs[start].2;
        let mut router_keys: Vec<(RouterKey, bool)> = keys_then
            .iter()
            .filter(|k| current.keys.binary_search(k).is_err())
            .map(|k| (k.clone(), false))
            .collect();
        router_keys.extend(
            current
                .keys
                .iter()
                .filter(|k| keys_then.binary_search(k).is_err())
                .map(|k| (k.clone(), true)),
        );
        router_keys.sort();
        let now: std::collections::BTreeMap<u32, &Aspa> =
            current.aspas.iter().map(|a| (a.customer, a)).collect();
        let mut aspas: Vec<(Aspa, bool)> = Vec::new();
        for old in then.iter() {
            if !now.contains_key(&old.customer) {
                aspas.push((old.clone(), false));
            }
        }
        for new in current.aspas.iter() {
            if !then.contains(new) {
                aspas.push((new.clone(), true));
            }
        }
        aspas.sort();
        let mut net: std::collections::BTreeMap<Origin, bool> = Default::default();
        for (_, diff, ..) in inner.diffs.iter().skip(start) {
            for (o, announce) in diff.iter() {
                // Announced and withdrawn again since: nothing to say.
                match net.get(o) {
                    Some(prev) if prev != announce => {
                        net.remove(o);
                    }
                    _ => {
                        net.insert(*o, *announce);
                    }
                }
            }
        }
        Some(Delta {
            snapshot: current,
            origins: net.into_iter().collect(),
            aspas,
            router_keys,
        })
    }
}

/// The net change from a router's serial to the current one.
pub struct Delta {
    /// The current set.
    pub snapshot: Arc<Snapshot>,
    /// VRPs announced (true) and withdrawn, sorted.
    pub origins: Changes,
    /// ASPAs announced (the current one of a customer AS) and withdrawn.
    pub aspas: Vec<(Aspa, bool)>,
    /// Router keys announced and withdrawn.
    pub router_keys: Vec<(RouterKey, bool)>,
}

/// Settings of the RTR server.
#[derive(Clone, Copy, Debug)]
pub struct RtrConfig {
    /// The highest protocol version offered: 2 (with ASPA), 1 (RFC 8210)
    /// or 0 (RFC 6810 only, for old routers).
    pub max_version: u8,
    /// The timers sent in version 1 End of Data PDUs.
    pub timing: Timing,
}

impl Default for RtrConfig {
    /// Version 1 by default: version 2 is still a draft
    /// (draft-ietf-sidrops-8210bis), and a router built to an earlier
    /// draft's ASPA PDU would misread this one's; an operator opts in.
    fn default() -> Self {
        RtrConfig {
            max_version: DEFAULT_VERSION,
            timing: Timing::default(),
        }
    }
}

/// Serves RTR on `listener` until the task is dropped, admitting
/// connections through `guard` (caps per listener and per address). An
/// accept error (e.g. no file descriptor left) is logged, counted and
/// retried with backoff: the listener never stops.
pub async fn serve(
    listener: TcpListener,
    guard: anchorage_netguard::Guard,
    history: VrpHistory,
    config: RtrConfig,
) {
    loop {
        let (stream, peer, permit) = guard.accept(&listener).await;
        let _ = stream.set_nodelay(true);
        let history = history.clone();
        tokio::spawn(async move {
            tracing::info!(%peer, "RTR router connected");
            match connection(stream, history, config).await {
                Ok(()) => tracing::info!(%peer, "RTR router disconnected"),
                Err(err) => tracing::info!(%peer, %err, "RTR connection ended"),
            }
            drop(permit);
        });
    }
}

/// A PDU read from a router, or a framing error.
enum Frame {
    Pdu(Header, Vec<u8>),
    /// A header whose length is impossible; its 8 octets.
    BadLength([u8; pdu::HEADER_LEN]),
}

async fn read_frames(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    tx: mpsc::Sender<Frame>,
) -> std::io::Result<()> {
    loop {
        let mut head = [0u8; pdu::HEADER_LEN];
        rd.read_exact(&mut head).await?;
        let header = Header::parse(&head);
        if header.length < pdu::HEADER_LEN as u32 || header.length > pdu::MAX_ROUTER_PDU {
            let _ = tx.send(Frame::BadLength(head)).await;
            return Ok(());
        }
        let mut body = vec![0u8; header.length as usize - pdu::HEADER_LEN];
        rd.read_exact(&mut body).await?;
        if tx.send(Frame::Pdu(header, body)).await.is_err() {
            return Ok(());
        }
    }
}

struct Conn {
    wr: BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    history: VrpHistory,
    config: RtrConfig,
    version: Option<u8>,
}

/// Whether to go on after handling a PDU.
enum Next {
    Continue,
    Close,
}

async fn connection(
    stream: tokio::net::TcpStream,
    history: VrpHistory,
    config: RtrConfig,
) -> std::io::Result<()> {
    let (rd, wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel(4);
    let reader = tokio::spawn(read_frames(rd, tx));
    let mut updates = history.notify.subscribe();
    let mut conn = Conn {
        wr: BufWriter::with_capacity(256 * 1024, wr),
        history,
        config,
        version: None,
    };
    let result = loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(frame) = frame else { break Ok(()) };
                match conn.handle(frame).await {
                    Ok(Next::Continue) => {}
                    Ok(Next::Close) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
            changed = updates.changed() => {
                if changed.is_err() {
                    break Ok(());
                }
                // RFC 8210 §7: no Serial Notify before the version is agreed.
                if let Some(v) = conn.version {
                    let (session, serial) = conn.history.state();
                    conn.wr.write_all(&pdu::serial_notify(v, session, serial)).await?;
                    conn.wr.flush().await?;
                }
            }
        }
    };
    reader.abort();
    result
}

impl Conn {
    async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.wr.write_all(bytes).await?;
        self.wr.flush().await
    }

    async fn refuse(
        &mut self,
        version: u8,
        code: ErrorCode,
        offending: &[u8],
        text: &str,
    ) -> std::io::Result<Next> {
        tracing::warn!(?code, text, "RTR error report sent to router");
        self.send(&pdu::error_report(version, code, offending, text))
            .await?;
        Ok(if code == ErrorCode::NoDataAvailable {
            Next::Continue
        } else {
            Next::Close
        })
    }

    async fn handle(&mut self, frame: Frame) -> std::io::Result<Next> {
        let (header, body) = match frame {
            Frame::Pdu(h, b) => (h, b),
            Frame::BadLength(head) => {
                let v = self.version.unwrap_or(head[0].min(self.config.max_version));
                return self
                    .refuse(v, ErrorCode::CorruptData, &head, "impossible PDU length")
                    .await;
            }
        };
        let mut whole = Vec::with_capacity(header.length as usize);
        whole.extend_from_slice(&[header.version, header.pdu_type]);
        whole.extend_from_slice(&header.field.to_be_bytes());
        whole.extend_from_slice(&header.length.to_be_bytes());
        whole.extend_from_slice(&body);
        if header.pdu_type == pdu::ERROR_REPORT {
            // RFC 8210 §5.11: never answer an Error Report with one.
            tracing::warn!(code = header.field, "RTR router sent an error report");
            return Ok(Next::Close);
        }
        let version = match self.version {
            None if header.version > self.config.max_version => {
                // RFC 8210 §7: report the version we do speak, then close.
                let max = self.config.max_version;
                return self
                    .refuse(
                        max,
                        ErrorCode::UnsupportedVersion,
                        &whole,
                        "unsupported protocol version",
                    )
                    .await;
            }
            None => {
                self.version = Some(header.version);
                header.version
            }
            Some(v) if v != header.version => {
                return self
                    .refuse(
                        v,
                        ErrorCode::UnexpectedVersion,
                        &whole,
                        "protocol version changed during the session",
                    )
                    .await;
            }
            Some(v) => v,
        };
        let query = match pdu::parse_query(&header, &body) {
            Ok(q) => q,
            Err(r) => return self.refuse(version, r.code, &whole, r.text).await,
        };
        if !self.history.ready() {
            return self
                .refuse(
                    version,
                    ErrorCode::NoDataAvailable,
                    &whole,
                    "the first validation has not finished",
                )
                .await;
        }
        let timing = self.config.timing;
        match query {
            Query::Reset => {
                let snap = self.history.current();
                let (session, serial) = snap.state();
                self.wr
                    .write_all(&pdu::cache_response(version, session))
                    .await?;
                for part in snap.encoded(version) {
                    self.wr.write_all(&part).await?;
                }
                self.wr
                    .write_all(&pdu::end_of_data(version, session, serial, timing))
                    .await?;
                self.wr.flush().await?;
            }
            Query::Serial { session, serial } => {
                let diff = if session == self.history.state().0 {
                    self.history.diff(serial)
                } else {
                    None
                };
                match diff {
                    // RFC 8210 §5.9: cannot say what changed; the router resets.
                    None => self.send(&pdu::cache_reset(version)).await?,
                    Some(delta) => {
                        let (session, serial) = delta.snapshot.state();
                        let mut out = pdu::cache_response(version, session);
                        for (o, announce) in &delta.origins {
                            pdu::prefix(&mut out, version, *announce, o);
                        }
                        if version >= 1 {
                            for (k, announce) in &delta.router_keys {
                                pdu::router_key(&mut out, version, *announce, k);
                            }
                        }
                        if version >= pdu::ASPA_VERSION {
                            for (a, announce) in &delta.aspas {
                                pdu::aspa(&mut out, version, *announce, a);
                            }
                        }
                        out.extend(pdu::end_of_data(version, session, serial, timing));
                        self.send(&out).await?;
                    }
                }
            }
        }
        Ok(Next::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(asn: u32, p: &str, max: u8) -> Origin {
        let (a, l) = p.split_once('/').unwrap();
        Origin {
            asn,
            addr: a.parse().unwrap(),
            len: l.parse().unwrap(),
            max_len: max,
        }
    }

    #[test]
    fn serials_and_net_diffs() {
        let h = VrpHistory::new();
        assert!(!h.ready());
        let a = o(64496, "192.0.2.0/24", 24);
        let b = o(64497, "2001:db8::/32", 48);
        assert!(h.update(BTreeSet::from([a])));
        let s0 = h.state().1;
        assert!(!h.update(BTreeSet::from([a])), "same set, same serial");
        assert!(h.update(BTreeSet::from([a, b])));
        assert!(h.update(BTreeSet::from([b])));
        assert_eq!(h.state().1, s0 + 2);
        // From s0: b announced, a withdrawn.
        let d = h.diff(s0).unwrap().origins;
        assert_eq!(d, vec![(a, false), (b, true)]);
        // From s0 + 1: only a withdrawn.
        assert_eq!(h.diff(s0 + 1).unwrap().origins, vec![(a, false)]);
        // Up to date: empty. Unknown serial: None (the router resets).
        assert!(h.diff(h.state().1).unwrap().origins.is_empty());
        assert!(h.diff(s0 + 100).is_none());
        let snap = h.current();
        assert_eq!(snap.len(), 1);
        let parts: Vec<Vec<u8>> = snap.encoded(0).collect();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].len(), 32);
        assert_eq!(snap.encoded(1).next().unwrap()[0], 1, "version byte");
    }

    #[test]
    fn a_reset_is_encoded_in_parts_that_make_the_whole_set() {
        let h = VrpHistory::new();
        let set: BTreeSet<Origin> = (0..2 * PART as u32 + 1)
            .map(|i| Origin {
                asn: 64496,
                addr: IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 | (i << 8))),
                len: 24,
                max_len: 24,
            })
            .collect();
        let key = RouterKey {
            asn: 64496,
            ski: [7; 20],
            spki: vec![0x30, 0x00],
        };
        h.update_all(set.clone(), Vec::new(), vec![key.clone()]);
        let snap = h.current();
        // Version 0: the prefixes only, PART at a time.
        let sizes: Vec<usize> = snap.encoded(0).map(|p| p.len()).collect();
        assert_eq!(sizes, [PART * 20, PART * 20, 20]);
        // Version 1: then the router key, in a part of its own.
        let parts: Vec<Vec<u8>> = snap.encoded(1).collect();
        assert_eq!(parts.len(), 4);
        let mut key_pdu = Vec::new();
        pdu::router_key(&mut key_pdu, 1, true, &key);
        assert_eq!(parts[3], key_pdu);
        // The prefix parts are the set's PDUs in order.
        let mut whole = Vec::new();
        for o in &set {
            pdu::prefix(&mut whole, 1, true, o);
        }
        assert_eq!(parts[..3].concat(), whole);
    }

    #[test]
    fn a_change_applied_gives_the_set_and_serials_of_a_replacement() {
        // Two histories, one given whole sets, one the changes between
        // them: the same sets, serials and differences every step.
        let (whole, changed) = (VrpHistory::new(), VrpHistory::new());
        let mut seed = 11u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let mut set = BTreeSet::new();
        whole.update(set.clone());
        changed.apply(&[], &[]);
        for step in 0..200 {
            let (mut announced, mut withdrawn) = (BTreeSet::new(), BTreeSet::new());
            for _ in 0..next(6) {
                let v = o(
                    64496 + next(3) as u32,
                    &format!("10.{}.0.0/16", next(8)),
                    16,
                );
                if announced.contains(&v) || withdrawn.contains(&v) {
                    continue;
                }
                if set.contains(&v) {
                    set.remove(&v);
                    withdrawn.insert(v);
                } else {
                    set.insert(v);
                    announced.insert(v);
                }
            }
            let a: Vec<Origin> = announced.into_iter().collect();
            let w: Vec<Origin> = withdrawn.into_iter().collect();
            assert_eq!(
                whole.update(set.clone()),
                changed.apply(&a, &w),
                "step {step}"
            );
            assert_eq!(
                whole.current().origins,
                changed.current().origins,
                "step {step}"
            );
            assert_eq!(whole.state().1, changed.state().1, "step {step}");
            let back = whole.state().1.wrapping_sub(3);
            assert_eq!(
                whole.diff(back).map(|d| d.origins),
                changed.diff(back).map(|d| d.origins),
                "step {step}"
            );
        }
        // Withdrawing what is not there and announcing what is: no change.
        let held: Vec<Origin> = set.iter().copied().take(1).collect();
        let absent = [o(1, "192.0.2.0/24", 24)];
        assert!(!changed.apply(&held, &absent));
    }

    #[test]
    fn history_is_bounded() {
        let h = VrpHistory::new();
        h.update(BTreeSet::new());
        for i in 0..(HISTORY as u32 + 5) {
            h.update(BTreeSet::from([o(i, "192.0.2.0/24", 24)]));
        }
        let now = h.state().1;
        assert!(h.diff(now - HISTORY as u32).is_some());
        assert!(h.diff(now - HISTORY as u32 - 1).is_none());
    }
}
