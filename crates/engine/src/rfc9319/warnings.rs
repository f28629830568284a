//! RFC 9319 analysis of ROA changes: structured warnings that never block
//! unless the request asks for strictness and one is critical.
//!
//! The checks here need only the CA's ROAs. Checks against announcements
//! seen in BGP (non-minimal ROAs, routes the change makes invalid) take a
//! loaded BGP table: [`super::bgp`].

use anchorage_ca_core::RoaPayload;
use serde::Serialize;

/// How serious a warning is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Probably not what was meant; publishes anyway.
    Warning,
    /// Harmful; blocks a request made with `strict=true`.
    Critical,
}

/// One warning about a ROA change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// A stable code: `max-length`, `redundant`, `as0`, `as0-overlap`.
    pub code: &'static str,
    /// How serious.
    pub severity: Severity,
    /// What and why, citing the RFC.
    pub message: String,
    /// The prefixes concerned.
    pub prefixes: Vec<String>,
}

fn spec(p: &RoaPayload) -> String {
    format!("AS{} {}-{}", p.asn, p.prefix, p.max_length)
}

/// Warnings for the payloads `added` to a CA whose ROAs will then be `after`.
pub fn analyse(after: &[RoaPayload], added: &[RoaPayload]) -> Vec<Warning> {
    let mut out = Vec::new();
    for p in added {
        let len = p.prefix.prefix_len();
        if p.max_length > len {
            let extra = u32::from(p.max_length - len);
            let count = if extra >= 31 {
                "more than a billion".to_string()
            } else {
                ((1u64 << (extra + 1)) - 1).to_string()
            };
            out.push(Warning {
                code: "max-length",
                severity: Severity::Warning,
                message: format!(
                    "{} authorises {count} prefixes, every more-specific of {} down to /{}: \
                     a forged-origin sub-prefix hijack can announce any of them that is not \
                     itself announced (RFC 9319 §4). Unless all are announced, list the \
                     announced prefixes instead; for DDoS mitigation or RTBH, create the \
                     more-specific ROA when it is needed (RFC 9319 §5).",
                    spec(p),
                    p.prefix,
                    p.max_length
                ),
                prefixes: vec![p.prefix.to_string()],
            });
        }
        if let Some(q) = after.iter().find(|q| {
            *q != p && q.asn == p.asn && q.prefix.covers(&p.prefix) && q.max_length >= p.max_length
        }) {
            out.push(Warning {
                code: "redundant",
                severity: Severity::Info,
                message: format!(
                    "{} is already authorised by {}; it adds no route",
                    spec(p),
                    spec(q)
                ),
                prefixes: vec![p.prefix.to_string()],
            });
        }
        if p.asn == 0 {
            out.push(Warning {
                code: "as0",
                severity: Severity::Info,
                message: format!(
                    "an AS0 ROA for {} says the prefix and its more-specifics to /{} must not \
                     be routed: routes covered only by it become invalid (RFC 6483 §4, RFC 7607)",
                    p.prefix, p.max_length
                ),
                prefixes: vec![p.prefix.to_string()],
            });
            let others: Vec<&RoaPayload> = after
                .iter()
                .filter(|q| {
                    q.asn != 0 && (q.prefix.covers(&p.prefix) || p.prefix.covers(&q.prefix))
                })
                .collect();
            if !others.is_empty() {
                out.push(Warning {
                    code: "as0-overlap",
                    severity: Severity::Warning,
                    message: format!(
                        "AS0 for {} overlaps ROAs of this CA with a real origin ({}): routes \
                         those match stay valid, so the AS0 ROA does not stop them (RFC 6483 §4)",
                        p.prefix,
                        others
                            .iter()
                            .map(|q| spec(q))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    prefixes: others.iter().map(|q| q.prefix.to_string()).collect(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(asn: u32, prefix: &str, max: Option<u8>) -> RoaPayload {
        RoaPayload::new(asn, prefix.parse().unwrap(), max).unwrap()
    }

    fn codes(w: &[Warning]) -> Vec<&str> {
        w.iter().map(|w| w.code).collect()
    }

    #[test]
    fn rfc_9319_max_length_example() {
        // RFC 9319 §4: 192.0.2.0/24 with maxLength 26 authorises seven
        // prefixes where only the /24 is announced.
        let roa = p(64496, "192.0.2.0/24", Some(26));
        let w = analyse(&[roa], &[roa]);
        assert_eq!(codes(&w), ["max-length"]);
        assert!(
            w[0].message.contains("authorises 7 prefixes"),
            "{}",
            w[0].message
        );
        assert!(w[0].message.contains("RFC 9319 §4"));
        // The minimal ROA draws no warning.
        let minimal = p(64496, "192.0.2.0/24", None);
        assert!(analyse(&[minimal], &[minimal]).is_empty());
    }

    #[test]
    fn redundant_and_as0() {
        let wide = p(64496, "192.0.2.0/24", Some(25));
        let narrow = p(64496, "192.0.2.128/25", None);
        let w = analyse(&[wide, narrow], &[narrow]);
        assert_eq!(codes(&w), ["redundant"]);
        // Another origin is not redundant.
        let other = p(64497, "192.0.2.128/25", None);
        assert!(analyse(&[wide, other], &[other]).is_empty());
        let as0 = p(0, "192.0.2.0/24", None);
        assert_eq!(codes(&analyse(&[as0], &[as0])), ["as0"]);
        let w = analyse(&[as0, narrow], &[as0]);
        assert_eq!(codes(&w), ["as0", "as0-overlap"]);
        assert_eq!(w[1].prefixes, ["192.0.2.128/25"]);
    }
}
