//! The RTR cache: serves routers the VRPs of the bundled validator.
//!
//! The protocol machine (RFC 6810 v0, RFC 8210 v1, version negotiation,
//! reset and serial queries, error reports) is the `rpki` crate's
//! `rtr::Server`; this crate is the data behind it: [`VrpHistory`] keeps
//! the current VRP set and the differences of the last serials, so a
//! router that was connected gets a serial query answered with exactly
//! what changed, and [`VrpHistory::update`] sends a serial notify to
//! every connected router when the set changes.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use rpki::resources::Asn;
use rpki::resources::addr::{MaxLenPrefix, Prefix};
use rpki::rtr::payload::RouteOrigin;
use rpki::rtr::server::{NotifySender, PayloadDiff, PayloadSet, PayloadSource};
use rpki::rtr::{Action, PayloadRef, Serial, State, Timing};

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

impl Origin {
    fn route_origin(&self) -> Option<RouteOrigin> {
        let prefix = Prefix::new(self.addr, self.len).ok()?;
        let prefix = MaxLenPrefix::new(prefix, Some(self.max_len)).ok()?;
        Some(RouteOrigin::new(prefix, Asn::from_u32(self.asn)))
    }
}

struct Inner {
    state: State,
    ready: bool,
    current: Arc<Vec<RouteOrigin>>,
    set: BTreeSet<Origin>,
    /// (serial after the change, the change), oldest first.
    diffs: VecDeque<(Serial, Arc<BTreeMap<Origin, Action>>)>,
}

/// The VRP set and its recent history, shared with the RTR server.
#[derive(Clone)]
pub struct VrpHistory {
    inner: Arc<RwLock<Inner>>,
    notify: NotifySender,
    timing: Timing,
}

impl Default for VrpHistory {
    fn default() -> Self {
        Self::new()
    }
}

impl VrpHistory {
    /// An empty history, not ready until the first [`Self::update`], with a
    /// random session id (RFC 8210 §5.1: a new one at every start).
    pub fn new() -> Self {
        let session = (uuid::Uuid::new_v4().as_u128() & 0xffff) as u16;
        VrpHistory {
            inner: Arc::new(RwLock::new(Inner {
                state: State::from_parts(session, Serial::from(0)),
                ready: false,
                current: Arc::new(Vec::new()),
                set: BTreeSet::new(),
                diffs: VecDeque::new(),
            })),
            notify: NotifySender::new(),
            timing: Timing::default(),
        }
    }

    /// The notifier the RTR server subscribes to.
    pub fn notifier(&self) -> NotifySender {
        self.notify.clone()
    }

    /// The current session and serial.
    pub fn state(&self) -> State {
        self.inner.read().expect("VRP history lock").state
    }

    /// Replaces the VRP set; if it changed, the serial goes up by one and
    /// connected routers are notified. Returns whether it changed.
    pub fn update(&self, set: BTreeSet<Origin>) -> bool {
        let mut inner = self.inner.write().expect("VRP history lock");
        let first = !inner.ready;
        let mut diff = BTreeMap::new();
        for o in set.difference(&inner.set) {
            diff.insert(*o, Action::Announce);
        }
        for o in inner.set.difference(&set) {
            diff.insert(*o, Action::Withdraw);
        }
        inner.ready = true;
        if diff.is_empty() && !first {
            return false;
        }
        inner.current = Arc::new(set.iter().filter_map(Origin::route_origin).collect());
        inner.set = set;
        if !first {
            inner.state.inc();
            let serial = inner.state.serial();
            inner.diffs.push_back((serial, Arc::new(diff)));
            while inner.diffs.len() > HISTORY {
                inner.diffs.pop_front();
            }
        }
        let state = inner.state;
        drop(inner);
        tracing::info!(session = state.session(), serial = %state.serial(), "RTR data updated");
        self.notify.clone().notify();
        true
    }
}

/// The full set, for reset queries.
pub struct FullSet {
    items: Arc<Vec<RouteOrigin>>,
    pos: usize,
}

impl PayloadSet for FullSet {
    fn next(&mut self) -> Option<PayloadRef<'_>> {
        let item = self.items.get(self.pos)?;
        self.pos += 1;
        Some(PayloadRef::Origin(*item))
    }
}

/// The net change since a router's serial, for serial queries.
pub struct Changes {
    items: Vec<(RouteOrigin, Action)>,
    pos: usize,
}

impl PayloadDiff for Changes {
    fn next(&mut self) -> Option<(PayloadRef<'_>, Action)> {
        let (item, action) = self.items.get(self.pos)?;
        self.pos += 1;
        Some((PayloadRef::Origin(*item), *action))
    }
}

impl PayloadSource for VrpHistory {
    type Set = FullSet;
    type Diff = Changes;

    fn ready(&self) -> bool {
        self.inner.read().expect("VRP history lock").ready
    }

    fn notify(&self) -> State {
        self.state()
    }

    fn full(&self) -> (State, Self::Set) {
        let inner = self.inner.read().expect("VRP history lock");
        (
            inner.state,
            FullSet {
                items: inner.current.clone(),
                pos: 0,
            },
        )
    }

    fn diff(&self, state: State) -> Option<(State, Self::Diff)> {
        let inner = self.inner.read().expect("VRP history lock");
        if state.session() != inner.state.session() {
            return None;
        }
        if state.serial() == inner.state.serial() {
            return Some((
                inner.state,
                Changes {
                    items: Vec::new(),
                    pos: 0,
                },
            ));
        }
        // The diffs after the router's serial must follow it without a gap.
        let start = inner
            .diffs
            .iter()
            .position(|(s, _)| *s == state.serial().add(1))?;
        let mut net: BTreeMap<Origin, Action> = BTreeMap::new();
        for (_, diff) in inner.diffs.iter().skip(start) {
            for (o, action) in diff.iter() {
                match (net.get(o), action) {
                    // Announced and withdrawn again since: nothing to say.
                    (Some(Action::Announce), Action::Withdraw)
                    | (Some(Action::Withdraw), Action::Announce) => {
                        net.remove(o);
                    }
                    _ => {
                        net.insert(*o, *action);
                    }
                }
            }
        }
        let items = net
            .iter()
            .filter_map(|(o, a)| Some((o.route_origin()?, *a)))
            .collect();
        Some((inner.state, Changes { items, pos: 0 }))
    }

    fn timing(&self) -> Timing {
        self.timing
    }
}

/// Serves RTR on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, history: VrpHistory) -> std::io::Result<()> {
    let stream = tokio_stream::wrappers::TcpListenerStream::new(listener);
    rpki::rtr::Server::new(stream, history.notifier(), history)
        .run()
        .await
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

    fn drain(mut d: Changes) -> Vec<(RouteOrigin, Action)> {
        let mut out = Vec::new();
        while let Some((PayloadRef::Origin(r), a)) = d.next() {
            out.push((r, a));
        }
        out
    }

    #[test]
    fn serials_and_net_diffs() {
        let h = VrpHistory::new();
        assert!(!h.ready());
        let a = o(64496, "192.0.2.0/24", 24);
        let b = o(64497, "2001:db8::/32", 48);
        assert!(h.update(BTreeSet::from([a])));
        let s0 = h.state();
        assert!(!h.update(BTreeSet::from([a])), "same set, same serial");
        assert!(h.update(BTreeSet::from([a, b])));
        assert!(h.update(BTreeSet::from([b])));
        assert_eq!(h.state().serial(), s0.serial().add(2));
        // From s0: b announced, a withdrawn.
        let (_, d) = h.diff(s0).unwrap();
        let d = drain(d);
        assert_eq!(d.len(), 2);
        assert!(
            d.iter()
                .any(|(r, act)| r.asn.into_u32() == 64496 && *act == Action::Withdraw)
        );
        assert!(
            d.iter()
                .any(|(r, act)| r.asn.into_u32() == 64497 && *act == Action::Announce)
        );
        // Up to date: empty diff. Other session or unknown serial: reset.
        assert!(drain(h.diff(h.state()).unwrap().1).is_empty());
        assert!(
            h.diff(State::from_parts(s0.session().wrapping_add(1), s0.serial()))
                .is_none()
        );
        assert!(
            h.diff(State::from_parts(s0.session(), s0.serial().add(100)))
                .is_none()
        );
        let (_, mut full) = h.full();
        assert!(full.next().is_some() && full.next().is_none());
    }
}
