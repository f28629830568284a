//! A table of BGP announcements (prefix, origin AS) and the RFC 9319
//! checks that need one: non-minimal ROAs (authorised prefixes nobody
//! announces, which a forged-origin hijack can use) and route origin
//! validation (RFC 6811) before and after a change, to find the announced
//! routes a change makes invalid.
//!
//! It also keeps the AS adjacencies seen in the routes' AS paths (from an
//! MRT dump), for the ASPA warnings: an AS seen upstream of a customer
//! AS that its ASPA does not list.
//!
//! The table is a sorted vector: the routes within a prefix are one
//! contiguous run, found by binary search, so a change is analysed in
//! time proportional to the routes it touches, not to the table.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anchorage_ca_core::{IpPrefix, RoaPayload};

use super::warnings::{Severity, Warning};

/// A prefix as numbers: family, network address (IPv4 in the low 32
/// bits), length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Net {
    /// IPv6?
    pub v6: bool,
    /// The network address.
    pub addr: u128,
    /// The prefix length.
    pub len: u8,
}

impl Net {
    fn bits(&self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    /// The prefix of an engine prefix.
    pub fn of(p: &IpPrefix) -> Net {
        match p.addr() {
            IpAddr::V4(a) => Net {
                v6: false,
                addr: u128::from(u32::from(a)),
                len: p.prefix_len(),
            },
            IpAddr::V6(a) => Net {
                v6: true,
                addr: u128::from(a),
                len: p.prefix_len(),
            },
        }
    }

    fn host_mask(&self) -> u128 {
        let host = u32::from(self.bits() - self.len);
        if host >= 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        }
    }

    /// The last address within it.
    fn last(&self) -> u128 {
        self.addr | self.host_mask()
    }

    /// The same address cut to `len` bits.
    fn truncate(&self, len: u8) -> Net {
        let n = Net {
            v6: self.v6,
            addr: self.addr,
            len,
        };
        Net {
            addr: self.addr & !n.host_mask(),
            ..n
        }
    }

    /// Whether `other` lies within this prefix.
    pub fn covers(&self, other: &Net) -> bool {
        self.v6 == other.v6
            && other.len >= self.len
            && other.addr >= self.addr
            && other.addr <= self.last()
    }

    /// The two halves one bit longer.
    fn halves(&self) -> Option<[Net; 2]> {
        (self.len < self.bits()).then(|| {
            let low = Net {
                len: self.len + 1,
                ..*self
            };
            let high = Net {
                addr: self.addr | (1u128 << (self.bits() - self.len - 1)),
                ..low
            };
            [low, high]
        })
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let addr: IpAddr = if self.v6 {
            Ipv6Addr::from(self.addr).into()
        } else {
            Ipv4Addr::from(self.addr as u32).into()
        };
        write!(f, "{addr}/{}", self.len)
    }
}

/// One announcement seen in BGP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Route {
    /// The announced prefix.
    pub net: Net,
    /// Its origin AS.
    pub origin: u32,
}

/// An AS adjacency seen in AS paths: `upstream` received routes from
/// `customer` (the AS after it in the path), in `routes` routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Adjacency {
    /// The AS that sent the routes on (first in the path of the two).
    pub customer: u32,
    /// The AS that received them.
    pub upstream: u32,
    /// In how many routes.
    pub routes: u32,
}

/// The announcements, sorted, without duplicates, and the adjacencies
/// by customer AS.
#[derive(Clone, Debug, Default)]
pub struct BgpTable {
    routes: Vec<Route>,
    adjacencies: Vec<Adjacency>,
}

/// The route origin validation state of a route (RFC 6811 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// A VRP covers it and matches its origin and length.
    Valid,
    /// VRPs cover it, none matches.
    Invalid,
    /// No VRP covers it.
    NotFound,
}

impl Validity {
    /// Its name in RFC 6811's words, as the API and the UI show it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::NotFound => "not-found",
        }
    }
}

impl BgpTable {
    /// A table of these routes.
    pub fn new(routes: Vec<Route>) -> BgpTable {
        BgpTable::with_adjacencies(routes, Vec::new())
    }

    /// A table of these routes and AS adjacencies (one per pair; the
    /// counts of a pair given twice are added).
    pub fn with_adjacencies(mut routes: Vec<Route>, mut adjacencies: Vec<Adjacency>) -> BgpTable {
        routes.sort_unstable();
        routes.dedup();
        adjacencies.sort_unstable();
        let mut merged: Vec<Adjacency> = Vec::with_capacity(adjacencies.len());
        for a in adjacencies {
            match merged.last_mut() {
                Some(m) if (m.customer, m.upstream) == (a.customer, a.upstream) => {
                    m.routes = m.routes.saturating_add(a.routes);
                }
                _ => merged.push(a),
            }
        }
        BgpTable {
            routes,
            adjacencies: merged,
        }
    }

    /// The ASes seen upstream of `customer` in AS paths, with in how many
    /// routes.
    pub fn upstreams_of(&self, customer: u32) -> &[Adjacency] {
        let start = self.adjacencies.partition_point(|a| a.customer < customer);
        let end = self.adjacencies.partition_point(|a| a.customer <= customer);
        &self.adjacencies[start..end]
    }

    /// How many AS adjacencies.
    pub fn adjacencies(&self) -> usize {
        self.adjacencies.len()
    }

    /// Reads `prefix,origin-asn` lines (an optional header, `#` comments
    /// and blank lines allowed), and `adjacency,UPSTREAM,CUSTOMER,ROUTES`
    /// lines (as [`Self::write_csv`] writes them); an error names the line.
    pub fn from_csv(reader: impl BufRead) -> Result<BgpTable, String> {
        let mut routes = Vec::new();
        let mut adjacencies = Vec::new();
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| format!("line {}: {e}", i + 1))?;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("prefix")) {
                continue;
            }
            let bad = |why: String| format!("line {}: '{line}': {why}", i + 1);
            if let Some(rest) = line.strip_prefix("adjacency,") {
                let f: Vec<&str> = rest.split(',').map(str::trim).collect();
                let num = |s: &str| s.strip_prefix("AS").unwrap_or(s).parse::<u32>().ok();
                match f.as_slice() {
                    [up, cust, n] => match (num(up), num(cust), n.parse::<u32>().ok()) {
                        (Some(upstream), Some(customer), Some(routes)) => {
                            adjacencies.push(Adjacency {
                                customer,
                                upstream,
                                routes,
                            });
                            continue;
                        }
                        _ => {
                            return Err(bad(
                                "expected adjacency,upstream-asn,customer-asn,routes".into()
                            ));
                        }
                    },
                    _ => {
                        return Err(bad(
                            "expected adjacency,upstream-asn,customer-asn,routes".into()
                        ));
                    }
                }
            }
            let (prefix, asn) = line
                .split_once(',')
                .ok_or_else(|| bad("expected prefix,origin-asn".into()))?;
            let prefix: IpPrefix = prefix.trim().parse().map_err(|e| bad(format!("{e}")))?;
            let asn = asn.trim();
            let asn: u32 = asn
                .strip_prefix("AS")
                .unwrap_or(asn)
                .parse()
                .map_err(|_| bad("origin is not an AS number".into()))?;
            routes.push(Route {
                net: Net::of(&prefix),
                origin: asn,
            });
        }
        Ok(BgpTable::with_adjacencies(routes, adjacencies))
    }

    /// Writes the table as `prefix,origin-asn` lines, then the
    /// adjacencies as `adjacency,upstream-asn,customer-asn,routes` lines.
    pub fn write_csv(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        writeln!(w, "prefix,origin-asn")?;
        for r in &self.routes {
            writeln!(w, "{},{}", r.net, r.origin)?;
        }
        if !self.adjacencies.is_empty() {
            writeln!(
                w,
                "# AS adjacencies seen in the AS paths: adjacency,upstream-asn,customer-asn,routes"
            )?;
        }
        for a in &self.adjacencies {
            writeln!(w, "adjacency,{},{},{}", a.upstream, a.customer, a.routes)?;
        }
        Ok(())
    }

    /// How many announcements.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The routes within `net` (its more-specifics and itself).
    pub fn within(&self, net: &Net) -> impl Iterator<Item = &Route> {
        let lo = Route {
            net: Net {
                v6: net.v6,
                addr: net.addr,
                len: 0,
            },
            origin: 0,
        };
        let start = self.routes.partition_point(|r| *r < lo);
        let last = net.last();
        self.routes[start..]
            .iter()
            .take_while(move |r| r.net.v6 == net.v6 && r.net.addr <= last)
            .filter(move |r| r.net.len >= net.len)
    }
}

/// VRPs indexed by prefix, for RFC 6811 validation.
#[derive(Debug, Default)]
pub struct VrpIndex {
    by_net: HashMap<Net, Vec<(u32, u8)>>,
    lens: [BTreeSet<u8>; 2],
}

impl VrpIndex {
    /// An index of `vrps`.
    pub fn new<'a>(vrps: impl IntoIterator<Item = &'a RoaPayload>) -> VrpIndex {
        let mut index = VrpIndex::default();
        for v in vrps {
            let net = Net::of(&v.prefix);
            index.lens[usize::from(net.v6)].insert(net.len);
            index
                .by_net
                .entry(net)
                .or_default()
                .push((v.asn, v.max_length));
        }
        index
    }

    /// The validity of `route` (RFC 6811 §2; an AS0 VRP matches no route,
    /// RFC 6483 §4 and RFC 7607).
    pub fn validity(&self, route: &Route) -> Validity {
        let mut covered = false;
        for &len in self.lens[usize::from(route.net.v6)].range(..=route.net.len) {
            if let Some(vrps) = self.by_net.get(&route.net.truncate(len)) {
                covered = true;
                if vrps
                    .iter()
                    .any(|&(asn, max)| asn != 0 && asn == route.origin && route.net.len <= max)
                {
                    return Validity::Valid;
                }
            }
        }
        if covered {
            Validity::Invalid
        } else {
            Validity::NotFound
        }
    }
}

/// A VRP index with a change applied on top, without copying the index.
#[derive(Debug)]
pub struct Changed<'a> {
    base: &'a VrpIndex,
    added: VrpIndex,
    /// How many copies of each VRP are removed: the base holds a VRP once
    /// per CA that authorises it, and a change removes only its own CA's.
    removed: HashMap<(Net, u32, u8), usize>,
}

impl<'a> Changed<'a> {
    /// `base` with `added` added and `removed` removed.
    pub fn new(base: &'a VrpIndex, added: &[RoaPayload], removed: &[RoaPayload]) -> Changed<'a> {
        Changed {
            base,
            added: VrpIndex::new(added),
            removed: removed.iter().fold(HashMap::new(), |mut m, v| {
                *m.entry((Net::of(&v.prefix), v.asn, v.max_length))
                    .or_default() += 1;
                m
            }),
        }
    }

    /// The validity of `route` after the change.
    pub fn validity(&self, route: &Route) -> Validity {
        let mut covered = false;
        let mut lens: BTreeSet<u8> = self.base.lens[usize::from(route.net.v6)].clone();
        lens.extend(&self.added.lens[usize::from(route.net.v6)]);
        for len in lens.range(..=route.net.len) {
            let net = route.net.truncate(*len);
            // Skip as many copies of each VRP as the change removes.
            let mut skipped: HashMap<(u32, u8), usize> = HashMap::new();
            let kept = self
                .base
                .by_net
                .get(&net)
                .into_iter()
                .flatten()
                .filter(|(asn, max)| {
                    let gone = self.removed.get(&(net, *asn, *max)).copied().unwrap_or(0);
                    let n = skipped.entry((*asn, *max)).or_default();
                    if *n < gone {
                        *n += 1;
                        false
                    } else {
                        true
                    }
                });
            let new = self.added.by_net.get(&net).into_iter().flatten();
            for &(asn, max) in kept.chain(new) {
                covered = true;
                if asn != 0 && asn == route.origin && route.net.len <= max {
                    return Validity::Valid;
                }
            }
        }
        if covered {
            Validity::Invalid
        } else {
            Validity::NotFound
        }
    }
}

/// At most this many examples are listed in one warning.
pub const EXAMPLES: usize = 8;

fn list(routes: &[Route]) -> String {
    let mut s: Vec<String> = routes
        .iter()
        .take(EXAMPLES)
        .map(|r| format!("{} from AS{}", r.net, r.origin))
        .collect();
    if routes.len() > EXAMPLES {
        s.push(format!("and {} more", routes.len() - EXAMPLES));
    }
    s.join(", ")
}

/// An announced route whose RFC 6811 validity a change moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteChange {
    /// The route.
    pub route: Route,
    /// Its validity before the change.
    pub before: Validity,
    /// Its validity after the change.
    pub after: Validity,
}

/// A ROA whose maxLength authorises prefixes its origin does not
/// announce, and the minimal ROAs that replace it (RFC 9319 §5): one per
/// announced prefix, each without a maxLength beyond its own length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MinimalRoas {
    /// The ROA as given.
    pub replaces: RoaPayload,
    /// The announced prefixes it covers, as ROAs.
    pub with: Vec<RoaPayload>,
}

/// What a change does to the routes of a BGP table.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// The RFC 9319 warnings.
    pub warnings: Vec<Warning>,
    /// Every announced route whose validity changes.
    pub routes: Vec<RouteChange>,
    /// The minimal replacements of the non-minimal ROAs added.
    pub minimal: Vec<MinimalRoas>,
}

/// The checks against BGP for a change: `before` indexes every VRP the
/// repository authorises (all CAs) before it; `added`/`removed` are the
/// payloads the change adds and removes.
pub fn analyse(
    table: &BgpTable,
    before: &VrpIndex,
    added: &[RoaPayload],
    removed: &[RoaPayload],
) -> Vec<Warning> {
    analyse_routes(table, before, added, removed).warnings
}

/// [`analyse`], with the routes whose validity moves and the minimal
/// ROAs for each non-minimal ROA added.
pub fn analyse_routes(
    table: &BgpTable,
    before: &VrpIndex,
    added: &[RoaPayload],
    removed: &[RoaPayload],
) -> Analysis {
    let after = Changed::new(before, added, removed);
    let mut out = Vec::new();
    // Routes whose validity the change can move: those within a changed prefix.
    let mut affected: BTreeSet<Route> = BTreeSet::new();
    for p in added.iter().chain(removed) {
        affected.extend(table.within(&Net::of(&p.prefix)).copied());
    }
    let mut routes = Vec::new();
    let mut invalid = Vec::new();
    let mut unprotected = Vec::new();
    let mut fixed = Vec::new();
    for r in &affected {
        let (was, will) = (before.validity(r), after.validity(r));
        if was != will {
            routes.push(RouteChange {
                route: *r,
                before: was,
                after: will,
            });
        }
        match (was, will) {
            (Validity::Valid | Validity::NotFound, Validity::Invalid) => invalid.push(*r),
            (Validity::Valid, Validity::NotFound) => unprotected.push(*r),
            (Validity::Invalid, Validity::Valid | Validity::NotFound) => fixed.push(*r),
            _ => {}
        }
    }
    if !invalid.is_empty() {
        let as0 = added.iter().any(|p| p.asn == 0);
        out.push(Warning {
            code: "makes-invalid",
            severity: Severity::Critical,
            message: format!(
                "{} announced route(s) become RPKI-invalid and will be dropped by validating \
                 networks: {}{}. Add ROAs for the origins that should stay (a customer's or a \
                 DDoS-protection provider's more-specific, another origin of the same prefix) \
                 before this change.",
                invalid.len(),
                list(&invalid),
                if as0 {
                    "; an AS0 ROA invalidates every route it covers that no other ROA \
                     matches (RFC 6483 §4, RFC 7607)"
                } else {
                    ""
                }
            ),
            prefixes: invalid.iter().map(|r| r.net.to_string()).collect(),
        });
    }
    if !unprotected.is_empty() {
        out.push(Warning {
            code: "makes-not-found",
            severity: Severity::Warning,
            message: format!(
                "{} announced route(s) lose their last matching ROA and become not-found, \
                 open to origin hijacks again: {}",
                unprotected.len(),
                list(&unprotected)
            ),
            prefixes: unprotected.iter().map(|r| r.net.to_string()).collect(),
        });
    }
    if !fixed.is_empty() {
        out.push(Warning {
            code: "fixes-invalid",
            severity: Severity::Info,
            message: format!(
                "{} announced route(s) stop being RPKI-invalid: {}",
                fixed.len(),
                list(&fixed)
            ),
            prefixes: fixed.iter().map(|r| r.net.to_string()).collect(),
        });
    }
    let mut minimal = Vec::new();
    for p in added {
        if p.asn == 0 {
            continue;
        }
        let net = Net::of(&p.prefix);
        let announced: BTreeSet<Net> = table
            .within(&net)
            .filter(|r| r.origin == p.asn && r.net.len <= p.max_length)
            .map(|r| r.net)
            .collect();
        if announced.is_empty() {
            out.push(Warning {
                code: "not-announced",
                severity: Severity::Info,
                message: format!(
                    "AS{} announces neither {net} nor a more-specific of it to /{} in the \
                     loaded BGP table; the ROA authorises routes nobody originates yet",
                    p.asn, p.max_length
                ),
                prefixes: vec![net.to_string()],
            });
            continue;
        }
        if p.max_length == net.len {
            continue;
        }
        // RFC 9319 §4: list authorised prefixes that are not announced.
        let mut unannounced = Vec::new();
        let mut queue = std::collections::VecDeque::from([net]);
        while let Some(n) = queue.pop_front() {
            if unannounced.len() == EXAMPLES {
                break;
            }
            if !announced.contains(&n) {
                unannounced.push(n);
            }
            if n.len < p.max_length
                && let Some(h) = n.halves()
            {
                queue.extend(h);
            }
        }
        let total: u128 = if p.max_length - net.len >= 100 {
            u128::MAX
        } else {
            (1u128 << (p.max_length - net.len + 1)) - 1
        };
        let missing = total - announced.len() as u128;
        if unannounced.is_empty() {
            continue; // every authorised prefix is announced: minimal after all
        }
        let with: Vec<RoaPayload> = announced
            .iter()
            .filter_map(|n| {
                let prefix = n.to_string().parse().ok()?;
                RoaPayload::new(p.asn, prefix, None).ok()
            })
            .collect();
        minimal.push(MinimalRoas { replaces: *p, with });
        out.push(Warning {
            code: "non-minimal",
            severity: Severity::Warning,
            message: format!(
                "AS{} {net}-{}: {missing} of the {total} authorised prefixes are not announced \
                 from AS{} in BGP, and a forged-origin sub-prefix hijack can use any of them \
                 (RFC 9319 §4), e.g. {}. Announced: {}. A minimal ROA lists exactly the \
                 announced prefixes; if the maxLength is for DDoS mitigation or RTBH, authorise \
                 those more-specifics when they are needed (RFC 9319 §5).",
                p.asn,
                p.max_length,
                p.asn,
                unannounced
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                announced
                    .iter()
                    .take(EXAMPLES)
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            prefixes: unannounced.iter().map(|n| n.to_string()).collect(),
        });
    }
    Analysis {
        warnings: out,
        routes,
        minimal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(asn: u32, prefix: &str, max: Option<u8>) -> RoaPayload {
        RoaPayload::new(asn, prefix.parse().unwrap(), max).unwrap()
    }

    fn table(lines: &str) -> BgpTable {
        BgpTable::from_csv(lines.as_bytes()).unwrap()
    }

    fn codes(w: &[Warning]) -> Vec<&str> {
        w.iter().map(|w| w.code).collect()
    }

    fn run(
        t: &BgpTable,
        before: &[RoaPayload],
        add: &[RoaPayload],
        remove: &[RoaPayload],
    ) -> Vec<Warning> {
        let w = analyse(t, &VrpIndex::new(before), add, remove);
        // The overlay agrees with an index built from scratch.
        let mut after: Vec<RoaPayload> = before
            .iter()
            .filter(|v| !remove.contains(v))
            .copied()
            .collect();
        after.extend(add);
        let fresh = VrpIndex::new(&after);
        let base = VrpIndex::new(before);
        let overlay = Changed::new(&base, add, remove);
        for r in &t.routes {
            assert_eq!(fresh.validity(r), overlay.validity(r), "{r:?}");
        }
        w
    }

    #[test]
    fn csv_and_lookup() {
        let t = table(
            "prefix,origin-asn\n# comment\n192.0.2.0/24,64496\n192.0.2.128/25,AS64497\n198.51.100.0/24,64496\n2001:db8::/32,64496\n192.0.2.0/24,64496\n",
        );
        assert_eq!(t.len(), 4, "duplicates merged");
        let within: Vec<_> = t
            .within(&Net::of(&"192.0.2.0/24".parse().unwrap()))
            .collect();
        assert_eq!(within.len(), 2);
        assert_eq!(
            t.within(&Net::of(&"192.0.2.128/25".parse().unwrap()))
                .count(),
            1
        );
        assert_eq!(t.within(&Net::of(&"0.0.0.0/0".parse().unwrap())).count(), 3);
        let e = BgpTable::from_csv("192.0.2.0/24,64496\n192.0.2.0/33,1\n".as_bytes()).unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        let mut out = Vec::new();
        t.write_csv(&mut out).unwrap();
        assert_eq!(BgpTable::from_csv(&out[..]).unwrap().len(), 4);
    }

    #[test]
    fn rfc_6811_validity() {
        let vrps = [
            p(64496, "192.0.2.0/24", Some(25)),
            p(0, "198.51.100.0/24", None),
        ];
        let idx = VrpIndex::new(&vrps);
        let r = |s: &str, o| Route {
            net: Net::of(&s.parse().unwrap()),
            origin: o,
        };
        assert_eq!(idx.validity(&r("192.0.2.0/24", 64496)), Validity::Valid);
        assert_eq!(idx.validity(&r("192.0.2.0/25", 64496)), Validity::Valid);
        assert_eq!(
            idx.validity(&r("192.0.2.0/26", 64496)),
            Validity::Invalid,
            "beyond maxLength"
        );
        assert_eq!(
            idx.validity(&r("192.0.2.0/24", 64497)),
            Validity::Invalid,
            "other origin"
        );
        assert_eq!(
            idx.validity(&r("203.0.113.0/24", 64496)),
            Validity::NotFound
        );
        assert_eq!(
            idx.validity(&r("198.51.100.0/24", 0)),
            Validity::Invalid,
            "AS0 matches nothing"
        );
    }

    /// RFC 9319 §4's example: 192.0.2.0/24 announced, a ROA with maxLength
    /// 26 lets a hijacker announce 192.0.2.0/25 with a forged origin.
    #[test]
    fn rfc_9319_non_minimal() {
        let t = table("192.0.2.0/24,64496\n");
        let w = run(&t, &[], &[p(64496, "192.0.2.0/24", Some(26))], &[]);
        assert_eq!(codes(&w), ["non-minimal"]);
        assert!(w[0].message.contains("6 of the 7"), "{}", w[0].message);
        assert_eq!(w[0].prefixes[..2], ["192.0.2.0/25", "192.0.2.128/25"]);
        // The minimal ROA: nothing to say.
        assert!(run(&t, &[], &[p(64496, "192.0.2.0/24", None)], &[]).is_empty());
        // Announced de-aggregated: the maxLength is used, fewer missing.
        let t = table("192.0.2.0/24,64496\n192.0.2.0/25,64496\n192.0.2.128/25,64496\n");
        let w = run(&t, &[], &[p(64496, "192.0.2.0/24", Some(25))], &[]);
        assert!(w.is_empty(), "{w:?}");
        // Not announced at all.
        let w = run(&t, &[], &[p(64496, "198.51.100.0/24", None)], &[]);
        assert_eq!(codes(&w), ["not-announced"]);
    }

    #[test]
    fn changes_that_invalidate_routes() {
        // A customer's more-specific from another AS, and a DDoS provider's.
        let t = table("192.0.2.0/24,64496\n192.0.2.0/25,64510\n192.0.2.128/25,64520\n");
        // The ROA for the aggregate turns both more-specifics invalid.
        let w = run(&t, &[], &[p(64496, "192.0.2.0/24", None)], &[]);
        assert_eq!(codes(&w), ["makes-invalid"]);
        assert_eq!(w[0].severity, Severity::Critical);
        assert_eq!(w[0].prefixes, ["192.0.2.0/25", "192.0.2.128/25"]);
        // With the customer's ROA in place only the provider's is hit.
        let customer = p(64510, "192.0.2.0/25", None);
        let w = run(&t, &[customer], &[p(64496, "192.0.2.0/24", None)], &[]);
        assert_eq!(w[0].prefixes, ["192.0.2.128/25"]);
        // AS0 over announced space.
        let w = run(&t, &[], &[p(0, "192.0.2.0/24", Some(25))], &[]);
        assert_eq!(codes(&w), ["makes-invalid"]);
        assert!(w[0].message.contains("AS0"));
        assert_eq!(w[0].prefixes.len(), 3);
        // Removing the only ROA of a route: not-found again.
        let roa = p(64496, "192.0.2.0/24", None);
        let t = table("192.0.2.0/24,64496\n");
        assert_eq!(codes(&run(&t, &[roa], &[], &[roa])), ["makes-not-found"]);
        // Removing a ROA that made another origin invalid fixes it.
        let t = table("192.0.2.0/24,64497\n");
        assert_eq!(codes(&run(&t, &[roa], &[], &[roa])), ["fixes-invalid"]);
    }

    /// A VRP that another CA also authorises stays: removing it from one
    /// CA moves no route.
    #[test]
    fn a_vrp_held_twice_survives_one_removal() {
        let t = table("192.0.2.0/24,64496\n");
        let roa = p(64496, "192.0.2.0/24", None);
        let a = analyse_routes(&t, &VrpIndex::new(&[roa, roa]), &[], &[roa]);
        assert!(a.routes.is_empty(), "{:?}", a.routes);
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
        let a = analyse_routes(&t, &VrpIndex::new(&[roa]), &[], &[roa]);
        assert_eq!(a.routes.len(), 1);
        assert_eq!(a.routes[0].after, Validity::NotFound);
    }

    /// The routes a change moves, each with both states, and the minimal
    /// ROAs offered for a non-minimal one.
    #[test]
    fn route_changes_and_minimal_roas() {
        let t = table(
            "192.0.2.0/24,64496\n192.0.2.0/25,64496\n192.0.2.128/25,64510\n198.51.100.0/24,64497\n",
        );
        let wide = p(64496, "192.0.2.0/24", Some(26));
        let a = analyse_routes(&t, &VrpIndex::new(&[]), &[wide], &[]);
        let moved: Vec<(String, u32, &str, &str)> = a
            .routes
            .iter()
            .map(|c| {
                (
                    c.route.net.to_string(),
                    c.route.origin,
                    c.before.as_str(),
                    c.after.as_str(),
                )
            })
            .collect();
        assert_eq!(
            moved,
            [
                ("192.0.2.0/24".into(), 64496, "not-found", "valid"),
                ("192.0.2.0/25".into(), 64496, "not-found", "valid"),
                ("192.0.2.128/25".into(), 64510, "not-found", "invalid"),
            ]
        );
        // Unrelated routes are not listed.
        assert!(moved.iter().all(|m| m.0 != "198.51.100.0/24"));
        assert_eq!(
            a.minimal,
            [MinimalRoas {
                replaces: wide,
                with: vec![
                    p(64496, "192.0.2.0/24", None),
                    p(64496, "192.0.2.0/25", None)
                ],
            }]
        );
        // The minimal ROAs themselves draw no offer, nor does a ROA
        // whose origin announces nothing.
        let a = analyse_routes(&t, &VrpIndex::new(&[]), &a.minimal[0].with, &[]);
        assert!(a.minimal.is_empty());
        let none = p(64499, "203.0.113.0/24", Some(25));
        assert!(
            analyse_routes(&t, &VrpIndex::new(&[]), &[none], &[])
                .minimal
                .is_empty()
        );
    }
}
