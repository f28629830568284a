//! What a [`crate::walk::Live`] run keeps of each publication point for
//! the next run, in compact forms: `serve` holds one per point of the
//! repository (50,003 at 50,000 CAs) for as long as it runs, so bytes per
//! point and per VRP are its memory.
//!
//! - [`PackedVrps`]: the point's VRPs grouped by origin AS and expiry,
//!   each prefix in as many bytes as its length needs.
//! - [`PointCounts`]: what the point counted, with the rare lists boxed
//!   apart.
//! - [`Stamps`]: one digest of the names, sizes and mtimes of the files
//!   the point read, instead of the list.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::walk::{FileStamp, Origin, Prefix, Validation, Vrp};

/// A point's VRPs as kept: groups of a header (origin AS, expiry, number
/// of prefixes) followed by that many prefixes, each a family byte, the
/// prefix length, the maxLength and the address's first `len / 8`
/// (rounded up) bytes. An IPv6 /48 takes 9 bytes where an
/// `(Origin, i64)` took 32; at 1,000,000 VRPs that is 9 MB against
/// 32 MB, and a ROA's origin AS and expiry are kept once, not per prefix.
///
/// The same VRPs always pack to the same bytes (they are packed in one
/// order), so two points' VRPs compare as bytes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PackedVrps(Box<[u8]>);

/// Bytes of a group's header: origin AS (4), expiry (8), count (4).
const GROUP: usize = 16;
/// Family byte of an IPv4 prefix; IPv6 is any other.
const V4: u8 = 4;

impl PackedVrps {
    /// Packs `vrps` (one run's, so one trust anchor).
    pub(crate) fn pack(vrps: &BTreeSet<Vrp>) -> Self {
        let mut sorted: Vec<&Vrp> = vrps.iter().collect();
        sorted.sort_by_key(|v| (v.asn, v.expires, v.prefix, v.max_length));
        let mut out = Vec::new();
        for group in sorted.chunk_by(|a, b| (a.asn, a.expires) == (b.asn, b.expires)) {
            let count = u32::try_from(group.len()).expect("fewer than 2^32 VRPs in a point");
            out.extend_from_slice(&group[0].asn.to_be_bytes());
            out.extend_from_slice(&group[0].expires.to_be_bytes());
            out.extend_from_slice(&count.to_be_bytes());
            for v in group {
                let (family, octets): (u8, &[u8]) = match &v.prefix.addr {
                    IpAddr::V4(a) => (V4, &a.octets()),
                    IpAddr::V6(a) => (6, &a.octets()),
                };
                // A prefix's bits past its length are zero in a ROA (a DER
                // BIT STRING's unused bits are), so these bytes are all of it.
                let used = usize::from(v.prefix.len).div_ceil(8).min(octets.len());
                out.extend_from_slice(&[family, v.prefix.len, v.max_length]);
                out.extend_from_slice(&octets[..used]);
            }
        }
        PackedVrps(out.into_boxed_slice())
    }

    /// Each VRP as routers see it, with when its ROA expires.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Origin, i64)> + '_ {
        Unpack {
            bytes: &self.0,
            asn: 0,
            expires: 0,
            left: 0,
        }
    }
}

/// The iterator of [`PackedVrps::iter`].
struct Unpack<'a> {
    bytes: &'a [u8],
    asn: u32,
    expires: i64,
    /// Prefixes left in the current group.
    left: u32,
}

impl Iterator for Unpack<'_> {
    type Item = (Origin, i64);

    fn next(&mut self) -> Option<Self::Item> {
        // `pack` wrote these bytes; slicing them as it did cannot fail.
        while self.left == 0 {
            if self.bytes.is_empty() {
                return None;
            }
            let (head, rest) = self.bytes.split_at(GROUP);
            self.asn = u32::from_be_bytes(head[..4].try_into().expect("4 bytes"));
            self.expires = i64::from_be_bytes(head[4..12].try_into().expect("8 bytes"));
            self.left = u32::from_be_bytes(head[12..].try_into().expect("4 bytes"));
            self.bytes = rest;
        }
        let [family, len, max_length] = self.bytes[..3] else {
            unreachable!("three bytes sliced")
        };
        let used = usize::from(len).div_ceil(8);
        let address = &self.bytes[3..3 + used.min(if family == V4 { 4 } else { 16 })];
        self.bytes = &self.bytes[3 + address.len()..];
        self.left -= 1;
        let addr = if family == V4 {
            let mut o = [0u8; 4];
            o[..address.len()].copy_from_slice(address);
            IpAddr::V4(Ipv4Addr::from(o))
        } else {
            let mut o = [0u8; 16];
            o[..address.len()].copy_from_slice(address);
            IpAddr::V6(Ipv6Addr::from(o))
        };
        Some(((self.asn, Prefix { addr, len }, max_length), self.expires))
    }
}

/// What a point counted and rejected, as kept: the four counts, and the
/// lists a point rarely has (rejections, warnings, Ghostbusters records,
/// ASPAs, router keys) in a [`Validation`] of their own, only where there
/// are any. 40 bytes where a whole `Validation` took 232.
#[derive(Debug, Default)]
pub(crate) struct PointCounts {
    cas: usize,
    roas: usize,
    manifests: usize,
    taks: usize,
    lists: Option<Box<Validation>>,
}

impl PointCounts {
    /// What `part` (one point's, its VRPs taken out) counted and rejected.
    pub(crate) fn of(mut part: Validation) -> Self {
        let counts = PointCounts {
            cas: std::mem::take(&mut part.cas),
            roas: std::mem::take(&mut part.roas),
            manifests: std::mem::take(&mut part.manifests),
            taks: std::mem::take(&mut part.taks),
            lists: None,
        };
        let empty = part.rejected.is_empty()
            && part.warnings.is_empty()
            && part.gbrs.is_empty()
            && part.aspas.is_empty()
            && part.router_keys.is_empty();
        PointCounts {
            lists: (!empty).then(|| Box::new(part)),
            ..counts
        }
    }

    /// Adds these to `out`.
    pub(crate) fn add_to(&self, out: &mut Validation) {
        out.cas += self.cas;
        out.roas += self.roas;
        out.manifests += self.manifests;
        out.taks += self.taks;
        if let Some(lists) = &self.lists {
            out.count(lists);
        }
    }
}

/// A digest of the files a point read, in the order read: each one's
/// name, size and mtime. The names are those of the point's manifest
/// (itself first, then the files it lists), so a run that finds the same
/// manifest bytes can stat the same files again and compare one digest,
/// where a list of names and stamps took about 250 bytes per point.
pub(crate) struct Stamps(rpki::crypto::digest::Context);

impl Stamps {
    /// Nothing read yet.
    pub(crate) fn new() -> Self {
        Stamps(rpki::crypto::DigestAlgorithm::sha256().start())
    }

    /// The file `name`, in `dir`, as it is now (missing counts too).
    pub(crate) fn add(&mut self, dir: &Path, name: &str) {
        self.add_stamp(name, crate::walk::stamp(&dir.join(name)));
    }

    /// The file `name` with `stamp`, read before.
    pub(crate) fn add_stamp(&mut self, name: &str, stamp: Option<FileStamp>) {
        let mut entry = Vec::with_capacity(name.len() + 32);
        entry.extend_from_slice(&(name.len() as u64).to_be_bytes());
        entry.extend_from_slice(name.as_bytes());
        match stamp {
            None => entry.push(0),
            Some((size, mtime)) => {
                entry.push(1);
                entry.extend_from_slice(&size.to_be_bytes());
                // The mtime as (seconds, nanoseconds) on either side of the
                // epoch; no mtime at all as a third form.
                let since = mtime.map(|t| match t.duration_since(std::time::UNIX_EPOCH) {
                    Ok(d) => (1u8, d),
                    Err(e) => (2u8, e.duration()),
                });
                let (sign, d) = since.unwrap_or((0, std::time::Duration::ZERO));
                entry.push(sign);
                entry.extend_from_slice(&d.as_secs().to_be_bytes());
                entry.extend_from_slice(&d.subsec_nanos().to_be_bytes());
            }
        }
        self.0.update(&entry);
    }

    /// The digest.
    pub(crate) fn finish(self) -> [u8; 32] {
        self.0
            .finish()
            .as_ref()
            .try_into()
            .expect("a SHA-256 digest is 32 bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn vrp(asn: u32, prefix: &str, max_length: u8, expires: i64) -> Vrp {
        let (addr, len) = prefix.split_once('/').expect("a prefix");
        Vrp {
            asn,
            prefix: Prefix {
                addr: addr.parse().expect("an address"),
                len: len.parse().expect("a length"),
            },
            max_length,
            ta: Arc::from("ta.tal"),
            expires,
        }
    }

    #[test]
    fn packed_vrps_give_back_every_vrp_with_its_expiry() {
        let vrps: BTreeSet<Vrp> = [
            vrp(64496, "192.0.2.0/24", 24, 1_800_000_000),
            vrp(64496, "198.51.100.0/22", 24, 1_800_000_000),
            vrp(64496, "0.0.0.0/0", 0, 1_800_000_000),
            vrp(64496, "2001:db8::/32", 48, 1_700_000_000),
            vrp(64497, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128", 128, -5),
            vrp(64497, "203.0.113.7/32", 32, 1_800_000_000),
            vrp(0, "::/0", 0, 1_800_000_000),
            vrp(u32::MAX, "2001:db8:8000::/33", 40, i64::MAX),
        ]
        .into_iter()
        .collect();
        let packed = PackedVrps::pack(&vrps);
        let back: BTreeSet<Vrp> = packed
            .iter()
            .map(|((asn, prefix, max_length), expires)| Vrp {
                asn,
                prefix,
                max_length,
                ta: Arc::from("ta.tal"),
                expires,
            })
            .collect();
        assert_eq!(back, vrps);
        assert_eq!(packed.iter().count(), vrps.len());
        // Six groups (AS0, AS64496's two expiries, AS64497's two,
        // AS4294967295) of 16 bytes, each prefix 3 bytes and its address's
        // bytes up to its length (none for the two /0).
        let groups = 6 * GROUP;
        let prefixes = 3 * 8 + (3 + 3 + 4 + 16 + 4 + 5);
        assert_eq!(packed.0.len(), groups + prefixes);
        assert_eq!(PackedVrps::pack(&vrps), packed, "packing is deterministic");
        assert_eq!(PackedVrps::pack(&BTreeSet::new()).iter().count(), 0);
    }

    #[test]
    fn stamps_differ_when_a_file_differs() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.roa"), b"one").expect("write");
        let digest = |names: &[&str]| {
            let mut s = Stamps::new();
            for n in names {
                s.add(dir.path(), n);
            }
            s.finish()
        };
        let before = digest(&["a.mft", "a.roa"]);
        assert_eq!(digest(&["a.mft", "a.roa"]), before);
        assert_ne!(digest(&["a.roa", "a.mft"]), before, "order counts");
        std::fs::write(dir.path().join("a.roa"), b"three").expect("write");
        assert_ne!(digest(&["a.mft", "a.roa"]), before, "size counts");
        let after_size = digest(&["a.mft", "a.roa"]);
        std::fs::write(dir.path().join("a.mft"), b"").expect("write");
        assert_ne!(
            digest(&["a.mft", "a.roa"]),
            after_size,
            "a file appearing counts"
        );
    }
}
