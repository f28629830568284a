//! ROA payloads: what a CA authorises, and the canonical content of a ROA.

use std::fmt;

use crate::error::{CaError, ResourceError};
use crate::resources::{IpPrefix, ResourceSet};

/// Parses an AS number given as `64496` or `AS64496`.
pub fn parse_asn(s: &str) -> Result<u32, ResourceError> {
    let t = s.trim();
    let digits = t
        .strip_prefix("AS")
        .or_else(|| t.strip_prefix("as"))
        .unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ResourceError::new(s, "not an AS number"));
    }
    digits
        .parse()
        .map_err(|_| ResourceError::new(s, "AS number out of range 0-4294967295"))
}

/// One authorisation: origin AS, prefix and maxLength (a VRP to be).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoaPayload {
    /// The origin AS.
    pub asn: u32,
    /// The authorised prefix.
    pub prefix: IpPrefix,
    /// The effective maxLength (the prefix length when none was given).
    pub max_length: u8,
}

impl RoaPayload {
    /// Creates a payload, checking maxLength against RFC 9582 §4.3.3.
    ///
    /// A missing maxLength means the prefix length; giving the prefix
    /// length explicitly is the same authorisation, so both normalise to
    /// one payload and adding either twice is a no-op.
    pub fn new(asn: u32, prefix: IpPrefix, max_length: Option<u8>) -> Result<Self, CaError> {
        let bits = prefix.family_bits();
        let max_length = max_length.unwrap_or(prefix.prefix_len());
        if max_length < prefix.prefix_len() || max_length > bits {
            return Err(CaError::BadMaxLength {
                prefix: prefix.to_string(),
                len: prefix.prefix_len(),
                max_length,
                bits,
            });
        }
        Ok(RoaPayload {
            asn,
            prefix,
            max_length,
        })
    }

    /// Checks that the CA holds the prefix (RFC 6482 §4).
    pub fn check_held(&self, ca: &str, resources: &ResourceSet) -> Result<(), CaError> {
        if resources.contains_prefix(&self.prefix) {
            Ok(())
        } else {
            Err(CaError::PrefixNotHeld {
                ca: ca.to_string(),
                prefix: self.prefix.to_string(),
                resources: resources.to_string(),
            })
        }
    }

    /// The maxLength to encode: absent when equal to the prefix length.
    pub fn encoded_max_length(&self) -> Option<u8> {
        (self.max_length > self.prefix.prefix_len()).then_some(self.max_length)
    }
}

impl fmt::Display for RoaPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AS{} {} max {}", self.asn, self.prefix, self.max_length)
    }
}

/// Returns the payloads of one ASN sorted and without duplicates.
///
/// RFC 9582 §4.3.3: the addresses of a ROA are sorted and free of
/// duplicates; IPv4 before IPv6, then by address, length and maxLength.
pub fn canonical_payloads(mut payloads: Vec<RoaPayload>) -> Vec<RoaPayload> {
    payloads.sort_by_key(|p| (!p.prefix.is_ipv4(), p.prefix, p.max_length));
    payloads.dedup();
    payloads
}

/// The file name of the ROA holding all of a CA's payloads for `asn`.
pub fn roa_file_name(asn: u32) -> String {
    format!("AS{asn}.roa")
}

/// The origin AS of a ROA file named by [`roa_file_name`]; `None` for
/// any other file.
pub fn roa_file_asn(name: &str) -> Option<u32> {
    name.strip_prefix("AS")?.strip_suffix(".roa")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roa_file_names_parse_back() {
        for asn in [0, 64496, u32::MAX] {
            assert_eq!(roa_file_asn(&roa_file_name(asn)), Some(asn));
        }
        for other in [
            "AS64496.cer",
            "64496.roa",
            "ASx.roa",
            "AS.roa",
            "AS4294967296.roa",
        ] {
            assert_eq!(roa_file_asn(other), None, "{other}");
        }
    }

    #[test]
    fn max_length_rules() {
        let p: IpPrefix = "192.0.2.0/24".parse().unwrap();
        assert_eq!(RoaPayload::new(1, p, None).unwrap().max_length, 24);
        assert_eq!(
            RoaPayload::new(1, p, None).unwrap(),
            RoaPayload::new(1, p, Some(24)).unwrap()
        );
        assert!(RoaPayload::new(1, p, Some(23)).is_err());
        assert!(RoaPayload::new(1, p, Some(33)).is_err());
        assert!(RoaPayload::new(1, p, Some(32)).is_ok());
        let v6: IpPrefix = "2001:db8::/32".parse().unwrap();
        assert!(RoaPayload::new(1, v6, Some(128)).is_ok());
        assert!(RoaPayload::new(1, v6, Some(129)).is_err());
        let err = RoaPayload::new(1, p, Some(20)).unwrap_err().to_string();
        assert!(
            err.contains("maxLength 20") && err.contains("192.0.2.0/24"),
            "{err}"
        );
    }

    #[test]
    fn asn_parsing() {
        assert_eq!(parse_asn("AS64496").unwrap(), 64496);
        assert_eq!(parse_asn("4294967295").unwrap(), u32::MAX);
        assert!(parse_asn("4294967296").is_err());
        assert!(parse_asn("-1").is_err());
        assert!(parse_asn("AS").is_err());
    }

    #[test]
    fn canonical_order() {
        let mk = |s: &str, m| RoaPayload::new(1, s.parse().unwrap(), m).unwrap();
        let out = canonical_payloads(vec![
            mk("2001:db8::/32", None),
            mk("192.0.2.0/24", Some(26)),
            mk("10.0.0.0/8", None),
            mk("192.0.2.0/24", None),
            mk("10.0.0.0/8", Some(8)),
        ]);
        let text: Vec<String> = out.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            text,
            [
                "AS1 10.0.0.0/8 max 8",
                "AS1 192.0.2.0/24 max 24",
                "AS1 192.0.2.0/24 max 26",
                "AS1 2001:db8::/32 max 32"
            ]
        );
    }
}
