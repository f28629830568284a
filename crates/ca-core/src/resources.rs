//! Internet number resource sets (RFC 3779) and their arithmetic.
//!
//! A [`ResourceSet`] holds AS numbers, IPv4 and IPv6 addresses as sorted,
//! merged inclusive ranges. That is the canonical form RFC 3779 §2.2.3.6 and
//! §3.2.3.4 ask for (sorted, no overlaps, adjacent ranges merged), so two
//! equal sets always have equal encodings. Containment — "are a child's
//! resources within its parent's" (RFC 6487 §7.1) — is a linear merge.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use rpki::repository::cert::TbsCert;
use rpki::repository::resources::{Addr, AsBlock, Asn, IpBlock};

use crate::error::ResourceError;

/// A number type that ranges are made of (ASN, IPv4 or IPv6 address).
pub trait RangeBound: Copy + Ord + fmt::Debug {
    /// The largest value of the type.
    const MAX: Self;
    /// The next value, if any.
    fn succ(self) -> Option<Self>;
    /// The previous value, if any.
    fn pred(self) -> Option<Self>;
}

impl RangeBound for u32 {
    const MAX: Self = u32::MAX;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

impl RangeBound for u128 {
    const MAX: Self = u128::MAX;
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// A set of numbers as sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RangeSet<T> {
    ranges: Vec<(T, T)>,
}

impl<T: RangeBound> RangeSet<T> {
    /// Creates an empty set.
    pub fn empty() -> Self {
        RangeSet { ranges: Vec::new() }
    }

    /// Creates the canonical set covering the union of the given ranges.
    ///
    /// Ranges with `min > max` are ignored by swapping their bounds.
    pub fn from_ranges(iter: impl IntoIterator<Item = (T, T)>) -> Self {
        let mut ranges: Vec<(T, T)> = iter
            .into_iter()
            .map(|(a, b)| if a <= b { (a, b) } else { (b, a) })
            .collect();
        ranges.sort();
        let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
        for (min, max) in ranges {
            if let Some(last) = out.last_mut() {
                // Merge overlapping and adjacent ranges.
                let touches = match last.1.succ() {
                    Some(next) => min <= next,
                    None => true,
                };
                if touches {
                    if max > last.1 {
                        last.1 = max;
                    }
                    continue;
                }
            }
            out.push((min, max));
        }
        RangeSet { ranges: out }
    }

    /// Returns the canonical ranges.
    pub fn ranges(&self) -> &[(T, T)] {
        &self.ranges
    }

    /// Returns whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Returns whether `value` is in the set.
    pub fn contains_value(&self, value: T) -> bool {
        self.contains_range(value, value)
    }

    /// Returns whether every value of `min..=max` is in the set.
    pub fn contains_range(&self, min: T, max: T) -> bool {
        // The only candidate is the last range starting at or before `min`.
        let idx = self.ranges.partition_point(|r| r.0 <= min);
        idx > 0 && self.ranges[idx - 1].1 >= max
    }

    /// Returns whether every value of `other` is in this set.
    pub fn contains(&self, other: &Self) -> bool {
        other.ranges.iter().all(|&(a, b)| self.contains_range(a, b))
    }

    /// Returns the union of both sets.
    pub fn union(&self, other: &Self) -> Self {
        Self::from_ranges(self.ranges.iter().chain(other.ranges.iter()).copied())
    }

    /// Returns the values in both sets.
    pub fn intersection(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a0, a1) = self.ranges[i];
            let (b0, b1) = other.ranges[j];
            let lo = a0.max(b0);
            let hi = a1.min(b1);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a1 < b1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        Self::from_ranges(out)
    }

    /// Returns the values of this set that are not in `other`.
    pub fn difference(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        for &(min, max) in &self.ranges {
            let mut cur = Some(min);
            for &(o0, o1) in &other.ranges {
                let Some(c) = cur else { break };
                if o1 < c {
                    continue;
                }
                if o0 > max {
                    break;
                }
                if o0 > c {
                    out.push((c, o0.pred().expect("o0 > c so it has a predecessor")));
                }
                cur = if o1 >= max { None } else { o1.succ() };
            }
            if let Some(c) = cur {
                out.push((c, max));
            }
        }
        Self::from_ranges(out)
    }
}

/// A set of Internet number resources: AS numbers, IPv4 and IPv6 addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceSet {
    /// AS numbers.
    pub asns: RangeSet<u32>,
    /// IPv4 addresses as 32-bit numbers.
    pub v4: RangeSet<u32>,
    /// IPv6 addresses as 128-bit numbers.
    pub v6: RangeSet<u128>,
}

impl ResourceSet {
    /// All resources: `AS0-AS4294967295, 0.0.0.0/0, ::/0`.
    pub fn all() -> Self {
        ResourceSet {
            asns: RangeSet::from_ranges([(0, u32::MAX)]),
            v4: RangeSet::from_ranges([(0, u32::MAX)]),
            v6: RangeSet::from_ranges([(0, u128::MAX)]),
        }
    }

    /// Returns whether the set holds no resources at all.
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty() && self.v4.is_empty() && self.v6.is_empty()
    }

    /// Returns whether every resource of `other` is in this set.
    pub fn contains(&self, other: &ResourceSet) -> bool {
        self.asns.contains(&other.asns)
            && self.v4.contains(&other.v4)
            && self.v6.contains(&other.v6)
    }

    /// Returns the resources of this set that are not in `other`.
    pub fn difference(&self, other: &ResourceSet) -> ResourceSet {
        ResourceSet {
            asns: self.asns.difference(&other.asns),
            v4: self.v4.difference(&other.v4),
            v6: self.v6.difference(&other.v6),
        }
    }

    /// Returns the union of both sets.
    pub fn union(&self, other: &ResourceSet) -> ResourceSet {
        ResourceSet {
            asns: self.asns.union(&other.asns),
            v4: self.v4.union(&other.v4),
            v6: self.v6.union(&other.v6),
        }
    }

    /// Returns the resources in both sets.
    pub fn intersection(&self, other: &ResourceSet) -> ResourceSet {
        ResourceSet {
            asns: self.asns.intersection(&other.asns),
            v4: self.v4.intersection(&other.v4),
            v6: self.v6.intersection(&other.v6),
        }
    }

    /// The same set as the `rpki` crate's type (RFC 6492 messages use it).
    pub fn to_rpki(&self) -> rpki::repository::resources::ResourceSet {
        use rpki::repository::resources::{AsBlocks, IpBlocks};
        let asns: AsBlocks = self
            .asns
            .ranges()
            .iter()
            .map(|&(a, b)| AsBlock::from((Asn::from_u32(a), Asn::from_u32(b))))
            .collect();
        let v4 = IpBlocks::from_iter(self.v4.ranges().iter().map(|&(a, b)| {
            IpBlock::from((
                Addr::from_bits((a as u128) << 96),
                Addr::from_bits(((b as u128) << 96) | ((1u128 << 96) - 1)),
            ))
        }));
        let v6 = IpBlocks::from_iter(
            self.v6
                .ranges()
                .iter()
                .map(|&(a, b)| IpBlock::from((Addr::from_bits(a), Addr::from_bits(b)))),
        );
        rpki::repository::resources::ResourceSet::new(asns, v4.into(), v6.into())
    }

    /// Converts the `rpki` crate's resource set.
    pub fn from_rpki(set: &rpki::repository::resources::ResourceSet) -> ResourceSet {
        ResourceSet {
            asns: RangeSet::from_ranges(
                set.asn()
                    .iter()
                    .map(|b| (b.min().into_u32(), b.max().into_u32())),
            ),
            v4: RangeSet::from_ranges(set.ipv4().iter().map(|b| {
                (
                    (b.min().to_bits() >> 96) as u32,
                    (b.max().to_bits() >> 96) as u32,
                )
            })),
            v6: RangeSet::from_ranges(
                set.ipv6()
                    .iter()
                    .map(|b| (b.min().to_bits(), b.max().to_bits())),
            ),
        }
    }

    /// Returns whether the prefix lies entirely within this set.
    pub fn contains_prefix(&self, prefix: &IpPrefix) -> bool {
        match prefix.range() {
            PrefixRange::V4(a, b) => self.v4.contains_range(a, b),
            PrefixRange::V6(a, b) => self.v6.contains_range(a, b),
        }
    }

    /// Sets these resources as the RFC 3779 extensions of a certificate.
    ///
    /// RFC 6487 §4.8.10/§4.8.11: a family without resources is left out;
    /// the certificate must have at least one of them, which the caller
    /// guarantees by refusing empty resource sets.
    pub fn apply_to(&self, tbs: &mut TbsCert) {
        if !self.asns.is_empty() {
            tbs.as_resources_from_iter(self.asns.ranges().iter().map(|&(a, b)| {
                if a == b {
                    AsBlock::Id(Asn::from_u32(a))
                } else {
                    AsBlock::from((Asn::from_u32(a), Asn::from_u32(b)))
                }
            }));
        }
        if !self.v4.is_empty() {
            tbs.v4_resources_from_iter(self.v4.ranges().iter().map(|&(a, b)| {
                // RFC 3779 §2.2.3.7: a range that is a prefix is encoded as one.
                // rpki's Addr is left-aligned in 128 bits: the upper bound
                // of an IPv4 range has all 96 low bits set.
                IpBlock::from((
                    Addr::from((a as u128) << 96),
                    Addr::from(((b as u128) << 96) | ((1u128 << 96) - 1)),
                ))
            }));
        }
        if !self.v6.is_empty() {
            tbs.v6_resources_from_iter(self.v6.ranges().iter().map(|&(a, b)| {
                IpBlock::from((Addr::from(Ipv6Addr::from(a)), Addr::from(Ipv6Addr::from(b))))
            }));
        }
    }
}

impl FromStr for ResourceSet {
    type Err = ResourceError;

    /// Parses a comma-separated list of ASNs, ASN ranges, prefixes and
    /// address ranges, e.g. `AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut asns = Vec::new();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for item in s.split(',') {
            let item = item.trim();
            if item.is_empty() {
                if s.trim().is_empty() {
                    break;
                }
                return Err(ResourceError::new(s, "empty item in resource list"));
            }
            // 's' is not a hex digit, so "AS" never starts an IPv6 address.
            // Bytes, not a str slice: the input may be any UTF-8.
            if item
                .as_bytes()
                .get(..2)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"as"))
            {
                asns.push(parse_asn_range(item)?);
            } else if let Some((lo, hi)) = item.split_once('-') {
                match (parse_addr(lo.trim(), item)?, parse_addr(hi.trim(), item)?) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => {
                        let (a, b) = (u32::from(a), u32::from(b));
                        if a > b {
                            return Err(ResourceError::new(item, "range start is after its end"));
                        }
                        v4.push((a, b));
                    }
                    (IpAddr::V6(a), IpAddr::V6(b)) => {
                        let (a, b) = (u128::from(a), u128::from(b));
                        if a > b {
                            return Err(ResourceError::new(item, "range start is after its end"));
                        }
                        v6.push((a, b));
                    }
                    _ => {
                        return Err(ResourceError::new(item, "range mixes IPv4 and IPv6"));
                    }
                }
            } else {
                let prefix: IpPrefix = item.parse()?;
                match prefix.range() {
                    PrefixRange::V4(a, b) => v4.push((a, b)),
                    PrefixRange::V6(a, b) => v6.push((a, b)),
                }
            }
        }
        let set = ResourceSet {
            asns: RangeSet::from_ranges(asns),
            v4: RangeSet::from_ranges(v4),
            v6: RangeSet::from_ranges(v6),
        };
        if set.is_empty() {
            return Err(ResourceError::new(s, "a resource set must not be empty"));
        }
        Ok(set)
    }
}

fn parse_asn(s: &str, item: &str) -> Result<u32, ResourceError> {
    let digits = s
        .strip_prefix("AS")
        .or_else(|| s.strip_prefix("as"))
        .or_else(|| s.strip_prefix("As"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ResourceError::new(item, "not an AS number (expected ASn)"));
    }
    digits
        .parse::<u32>()
        .map_err(|_| ResourceError::new(item, "AS number out of range 0-4294967295"))
}

fn parse_asn_range(item: &str) -> Result<(u32, u32), ResourceError> {
    match item.split_once('-') {
        Some((lo, hi)) => {
            let (a, b) = (parse_asn(lo.trim(), item)?, parse_asn(hi.trim(), item)?);
            if a > b {
                return Err(ResourceError::new(item, "range start is after its end"));
            }
            Ok((a, b))
        }
        None => {
            let a = parse_asn(item, item)?;
            Ok((a, a))
        }
    }
}

fn parse_addr(s: &str, item: &str) -> Result<IpAddr, ResourceError> {
    s.parse()
        .map_err(|_| ResourceError::new(item, "not an IPv4 or IPv6 address"))
}

impl fmt::Display for ResourceSet {
    /// Formats the set the way it is parsed: ASNs, then IPv4, then IPv6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<String> = Vec::new();
        for &(a, b) in self.asns.ranges() {
            if a == b {
                items.push(format!("AS{a}"));
            } else {
                items.push(format!("AS{a}-AS{b}"));
            }
        }
        for &(a, b) in self.v4.ranges() {
            items.push(match prefix_len_of_range(a as u128, b as u128, 32) {
                Some(len) => format!("{}/{len}", Ipv4Addr::from(a)),
                None => format!("{}-{}", Ipv4Addr::from(a), Ipv4Addr::from(b)),
            });
        }
        for &(a, b) in self.v6.ranges() {
            items.push(match prefix_len_of_range(a, b, 128) {
                Some(len) => format!("{}/{len}", Ipv6Addr::from(a)),
                None => format!("{}-{}", Ipv6Addr::from(a), Ipv6Addr::from(b)),
            });
        }
        f.write_str(&items.join(", "))
    }
}

/// Returns the prefix length if `min..=max` is exactly one prefix.
fn prefix_len_of_range(min: u128, max: u128, bits: u8) -> Option<u8> {
    let size = max.checked_sub(min)?.checked_add(1);
    let host_bits = match size {
        Some(size) if size.is_power_of_two() => size.trailing_zeros() as u8,
        Some(_) => return None,
        None => 128, // the whole IPv6 space
    };
    if host_bits > bits || (host_bits < 128 && min & ((1u128 << host_bits) - 1) != 0) {
        return None;
    }
    Some(bits - host_bits)
}

/// The inclusive numeric range a prefix covers, per address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixRange {
    /// An IPv4 range.
    V4(u32, u32),
    /// An IPv6 range.
    V6(u128, u128),
}

/// An IP prefix with no host bits set, e.g. `192.0.2.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpPrefix {
    addr: IpAddr,
    len: u8,
}

impl IpPrefix {
    /// Creates a prefix, refusing lengths beyond the family's size and set host bits.
    pub fn new(addr: IpAddr, len: u8) -> Result<Self, ResourceError> {
        let text = format!("{addr}/{len}");
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        if len > bits {
            return Err(ResourceError::new(
                &text,
                if bits == 32 {
                    "IPv4 prefix length must be at most 32"
                } else {
                    "IPv6 prefix length must be at most 128"
                },
            ));
        }
        let prefix = IpPrefix { addr, len };
        let (min, _) = prefix.bounds();
        let addr_num = match addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        };
        if addr_num != min {
            return Err(ResourceError::new(
                &text,
                "host bits are set beyond the prefix length",
            ));
        }
        Ok(prefix)
    }

    /// The prefix's network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// The number of bits of the address family (32 or 128).
    pub fn family_bits(&self) -> u8 {
        if self.is_ipv4() { 32 } else { 128 }
    }

    fn bounds(&self) -> (u128, u128) {
        let (num, bits) = match self.addr {
            IpAddr::V4(a) => (u32::from(a) as u128, 32u32),
            IpAddr::V6(a) => (u128::from(a), 128u32),
        };
        let host = bits - self.len as u32;
        let mask: u128 = if host == 0 {
            0
        } else if host == 128 {
            u128::MAX
        } else {
            (1u128 << host) - 1
        };
        let mask = if bits == 32 {
            mask & u32::MAX as u128
        } else {
            mask
        };
        (num & !mask, (num & !mask) | mask)
    }

    /// The addresses the prefix covers.
    pub fn range(&self) -> PrefixRange {
        let (min, max) = self.bounds();
        if self.is_ipv4() {
            PrefixRange::V4(min as u32, max as u32)
        } else {
            PrefixRange::V6(min, max)
        }
    }

    /// Returns whether `other` lies within this prefix.
    pub fn covers(&self, other: &IpPrefix) -> bool {
        if self.is_ipv4() != other.is_ipv4() || other.len < self.len {
            return false;
        }
        let (a, b) = self.bounds();
        let (c, d) = other.bounds();
        a <= c && d <= b
    }
}

impl FromStr for IpPrefix {
    type Err = ResourceError;

    /// Parses `ADDR/LEN`; a bare address is a host prefix (/32 or /128).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => {
                let len = l
                    .parse::<u8>()
                    .map_err(|_| ResourceError::new(s, "prefix length is not a number 0-128"))?;
                (a, Some(len))
            }
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| ResourceError::new(s, "not an IPv4 or IPv6 prefix"))?;
        let len = len.unwrap_or(if addr.is_ipv4() { 32 } else { 128 });
        IpPrefix::new(addr, len)
    }
}

impl IpPrefix {
    /// Parses a prefix in its one canonical text form, `ADDR/LEN`, as
    /// operators' tools and the API write it back: the address as Rust
    /// (and RFC 5952 for IPv6) prints it, a decimal length without sign
    /// or leading zeros, nothing around them. For ROA payloads, where a
    /// forgotten length must not silently become a host route.
    pub fn parse_canonical(s: &str) -> Result<IpPrefix, ResourceError> {
        let Some((addr, len)) = s.split_once('/') else {
            return Err(ResourceError::new(s, "a prefix needs a length: ADDR/LEN"));
        };
        let digits = !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit());
        if !digits || (len.len() > 1 && len.starts_with('0')) {
            return Err(ResourceError::new(
                s,
                "the prefix length must be a decimal number without sign or leading zeros",
            ));
        }
        let parsed: IpPrefix = s.parse()?;
        let canonical = parsed.addr.to_string();
        if addr != canonical {
            return Err(ResourceError::new(
                s,
                if addr.trim() == canonical {
                    "no spaces around a prefix"
                } else {
                    "not in canonical form (lowercase, zeros compressed as RFC 5952 says, no leading zeros)"
                },
            ));
        }
        Ok(parsed)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(s: &str) -> ResourceSet {
        s.parse().unwrap()
    }

    /// Found by the api_json fuzz target: a multi-byte character where
    /// "AS" would be panicked (a str sliced inside a character).
    #[test]
    fn any_utf8_is_an_error_not_a_panic() {
        for s in [
            "1\u{31b}b8::/32",
            "\u{e9}",
            "A\u{e9}",
            "\u{1F600}-1",
            "AS\u{e9}",
        ] {
            assert!(s.parse::<ResourceSet>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn canonical_prefixes_only() {
        for ok in [
            "10.1.0.0/16",
            "0.0.0.0/0",
            "2001:db8::/32",
            "::/0",
            "192.0.2.1/32",
        ] {
            let p = IpPrefix::parse_canonical(ok).unwrap();
            assert_eq!(p.to_string(), ok);
        }
        for bad in [
            "10.1.0.0",
            " 10.1.0.0/16",
            "10.1.0.0/16 ",
            "10.1.0.0/016",
            "10.1.0.0/+16",
            "10.1.0.0/",
            "10.1.0.0/1 6",
            "2001:DB8::/32",
            "2001:0db8::/32",
            "010.1.0.0/16",
            "10.1.0.1/16",
            "10.1.0.0/33",
        ] {
            assert!(IpPrefix::parse_canonical(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn converts_to_and_from_the_rpki_crate() {
        for s in [
            "AS0-AS4294967295, 0.0.0.0/0, ::/0",
            "AS64496, AS64500-AS64511, 192.0.2.0/24, 198.51.100.1-198.51.100.7, 2001:db8::/32",
            "10.0.0.0/8",
            "AS1",
        ] {
            let ours = set(s);
            let theirs = ours.to_rpki();
            assert_eq!(ResourceSet::from_rpki(&theirs), ours, "{s}");
        }
        assert_eq!(
            set("AS64496-AS64500, 10.0.0.0/8").to_rpki().to_string(),
            "asn: 'AS64496-AS64500', ipv4: '10.0.0.0/8', ipv6: ''"
        );
        assert_eq!(
            set("AS1-AS10, 10.0.0.0/8").intersection(&set("AS5-AS20, 10.1.0.0/16, ::/0")),
            set("AS5-AS10, 10.1.0.0/16")
        );
    }

    #[test]
    fn parses_the_documented_example() {
        let r = set("AS64496-AS64511, 192.0.2.0/24, 198.51.100.0-198.51.100.255, 2001:db8::/32");
        assert_eq!(r.asns.ranges(), &[(64496, 64511)]);
        assert_eq!(r.v4.ranges().len(), 2);
        assert_eq!(
            r.to_string(),
            "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32"
        );
    }

    #[test]
    fn ipv6_starting_with_a_hex_letter_is_not_an_asn() {
        let r = set("a75::/16, aa::1-aa::9");
        assert!(r.asns.is_empty());
        assert_eq!(r.to_string(), "aa::1-aa::9, a75::/16");
    }

    #[test]
    fn canonical_form_merges_adjacent_and_overlapping() {
        let r = set("192.0.2.0/25, 192.0.2.128/25, AS5, AS3-AS4, AS1, 10.0.0.0/8, 10.1.0.0/16");
        assert_eq!(r.to_string(), "AS1, AS3-AS5, 10.0.0.0/8, 192.0.2.0/24");
    }

    #[test]
    fn all_resources_roundtrip() {
        let r = set("AS0-AS4294967295, 0.0.0.0/0, ::/0");
        assert_eq!(r, ResourceSet::all());
        assert_eq!(r.to_string(), "AS0-AS4294967295, 0.0.0.0/0, ::/0");
    }

    #[test]
    fn rejects_malformed_input_naming_the_value() {
        for (input, needle) in [
            ("", "must not be empty"),
            ("AS64496,,192.0.2.0/24", "empty item"),
            ("AS4294967296", "out of range"),
            ("ASx", "not an AS number"),
            ("192.0.2.1/24", "host bits"),
            ("192.0.2.0/33", "at most 32"),
            ("2001:db8::/129", "at most 128"),
            ("192.0.2.9-192.0.2.1", "after its end"),
            ("192.0.2.0-2001:db8::", "mixes"),
            ("banana", "not an IPv4 or IPv6"),
            ("AS1-", "not an AS number"),
            ("ffff::-a75::", "range start is after its end"),
            ("AS10-AS1", "after its end"),
        ] {
            let err = input.parse::<ResourceSet>().unwrap_err().to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }

    #[test]
    fn containment() {
        let parent = set("AS64496-AS64511, 192.0.2.0/24, 2001:db8::/32");
        assert!(parent.contains(&set("AS64500, 192.0.2.128/25, 2001:db8:1::/48")));
        assert!(!parent.contains(&set("AS64512")));
        assert!(!parent.contains(&set("192.0.2.0/23")));
        assert!(!parent.contains(&set("2001:db9::/48")));
        assert!(parent.contains_prefix(&"192.0.2.0/24".parse().unwrap()));
        assert!(!parent.contains_prefix(&"192.0.3.0/24".parse().unwrap()));
    }

    #[test]
    fn prefix_covers() {
        let p: IpPrefix = "10.0.0.0/8".parse().unwrap();
        assert!(p.covers(&"10.1.0.0/16".parse().unwrap()));
        assert!(!p.covers(&"11.0.0.0/16".parse().unwrap()));
        assert!(!p.covers(&"0.0.0.0/0".parse().unwrap()));
        assert!(!p.covers(&"::/0".parse().unwrap()));
    }

    fn brute(set: &RangeSet<u32>) -> Vec<bool> {
        (0..64u32).map(|v| set.contains_value(v)).collect()
    }

    fn small_ranges() -> impl Strategy<Value = Vec<(u32, u32)>> {
        prop::collection::vec((0u32..64, 0u32..64), 0..6)
    }

    fn naive(ranges: &[(u32, u32)]) -> Vec<bool> {
        (0..64u32)
            .map(|v| ranges.iter().any(|&(a, b)| a.min(b) <= v && v <= a.max(b)))
            .collect()
    }

    proptest! {
        #[test]
        fn canonical_form_is_sorted_disjoint_and_exact(r in small_ranges()) {
            let s = RangeSet::from_ranges(r.clone());
            for w in s.ranges().windows(2) {
                // sorted, and a gap of at least one value between ranges
                prop_assert!(w[0].1 + 1 < w[1].0);
            }
            prop_assert_eq!(brute(&s), naive(&r));
            // canonicalising twice changes nothing
            prop_assert_eq!(RangeSet::from_ranges(s.ranges().to_vec()), s);
        }

        #[test]
        fn set_operations_match_membership(a in small_ranges(), b in small_ranges()) {
            let (sa, sb) = (RangeSet::from_ranges(a.clone()), RangeSet::from_ranges(b.clone()));
            let (na, nb) = (naive(&a), naive(&b));
            let union: Vec<bool> = na.iter().zip(&nb).map(|(x, y)| *x || *y).collect();
            let inter: Vec<bool> = na.iter().zip(&nb).map(|(x, y)| *x && *y).collect();
            let diff: Vec<bool> = na.iter().zip(&nb).map(|(x, y)| *x && !*y).collect();
            prop_assert_eq!(brute(&sa.union(&sb)), union);
            prop_assert_eq!(brute(&sa.intersection(&sb)), inter);
            prop_assert_eq!(brute(&sa.difference(&sb)), diff.clone());
            let contains = na.iter().zip(&nb).all(|(x, y)| !*y || *x);
            prop_assert_eq!(sa.contains(&sb), contains);
            // a set minus something is always within the set
            prop_assert!(sa.contains(&sa.difference(&sb)));
            prop_assert!(sa.union(&sb).contains(&sb));
        }

        #[test]
        fn display_parse_roundtrip(
            asns in prop::collection::vec((any::<u32>(), any::<u32>()), 0..4),
            v4 in prop::collection::vec((any::<u32>(), any::<u32>()), 0..4),
            v6 in prop::collection::vec((any::<u128>(), any::<u128>()), 0..4),
        ) {
            let set = ResourceSet {
                asns: RangeSet::from_ranges(asns),
                v4: RangeSet::from_ranges(v4),
                v6: RangeSet::from_ranges(v6),
            };
            prop_assume!(!set.is_empty());
            let text = set.to_string();
            prop_assert_eq!(text.parse::<ResourceSet>().unwrap(), set);
        }

        #[test]
        fn extreme_bounds_do_not_overflow(a in any::<u32>(), b in any::<u32>()) {
            let full = RangeSet::from_ranges([(0u32, u32::MAX)]);
            let s = RangeSet::from_ranges([(a, b)]);
            prop_assert!(full.contains(&s));
            prop_assert!(full.difference(&s).intersection(&s).is_empty());
            prop_assert_eq!(full.difference(&s).union(&s), full);
        }
    }
}
