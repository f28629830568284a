//! `serve`'s self-validation compared with the configuration (ROAs,
//! ASPAs, router keys): the record that `anchorage status` prints and
//! `/metrics` exports.
//!
//! A comparison is exact or not made: it is made only when the tree that
//! was validated is the newest and shows every committed change (read in
//! one transaction after the run, see
//! [`crate::ops::Anchorage::configured_shown_by`]), so a change
//! committed while a validation runs never shows as missing. Without one,
//! the record keeps the last comparison's figures and time.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use anchorage_validator::{Origin, Prefix, Results};

use crate::ops::status::LISTED;
use crate::report::{RejectedObject, SelfValidation};

/// One route origin as a person reads it: `AS64496 192.0.2.0/24-24`.
fn show((asn, prefix, max_len): &Origin) -> String {
    format!("AS{asn} {prefix}-{max_len}")
}

/// Route origins sorted, each once: the sets compared below, as sorted
/// vectors (a million origins at 50,000 CAs: a third of a B-tree's
/// memory, and compared by one merge).
fn sorted(mut origins: Vec<Origin>) -> Vec<Origin> {
    origins.sort_unstable();
    origins.dedup();
    origins
}

/// The origins of sorted `a` that sorted `b` lacks, in order.
fn lacking<'a>(a: &'a [Origin], b: &'a [Origin]) -> impl Iterator<Item = &'a Origin> + 'a {
    let mut j = 0;
    a.iter().filter(move |o| {
        while b.get(j).is_some_and(|x| x < *o) {
            j += 1;
        }
        b.get(j) != Some(*o)
    })
}

/// One ASPA as a person reads it: `AS64496 -> AS64500, AS64501`.
fn show_aspa(customer: u32, providers: &[u32]) -> String {
    let list: Vec<String> = providers.iter().map(|p| format!("AS{p}")).collect();
    format!("AS{customer} -> {}", list.join(", "))
}

/// What the configuration asks a validation from the TAL to give, in the
/// validator's terms.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// Route origins, sorted, each once.
    pub origins: Vec<Origin>,
    /// Providers by customer AS, merged over the CAs as validators merge
    /// them (AS0 dropped next to real providers).
    pub aspas: BTreeMap<u32, Vec<u32>>,
    /// Router keys: AS and SKI, upper-case hex.
    pub router_keys: BTreeSet<(u32, String)>,
}

/// What `configured` asks a validation to give.
pub fn expected(configured: &crate::ops::status::Configured) -> Expected {
    let origins = sorted(
        configured
            .roas
            .iter()
            .map(|r| {
                let prefix = Prefix {
                    addr: r.prefix.addr(),
                    len: r.prefix.prefix_len(),
                };
                (r.asn, prefix, r.max_length)
            })
            .collect(),
    );
    let mut aspas: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for a in &configured.aspas {
        let providers = aspas.entry(a.customer).or_default();
        providers.extend(&a.providers);
        providers.sort_unstable();
        providers.dedup();
        if providers.len() > 1 && providers[0] == 0 {
            providers.remove(0);
        }
    }
    let router_keys = configured
        .router_keys
        .iter()
        .map(|k| (k.asn, k.ski()))
        .collect();
    Expected {
        origins,
        aspas,
        router_keys,
    }
}

/// The record of a validation that finished at `finished` with `results`:
/// compared with `expected` when given (the configuration the validated
/// tree shows), otherwise carrying `previous`'s comparison.
pub fn record(
    results: &Results,
    expected: Option<&Expected>,
    previous: Option<&SelfValidation>,
    (instance, finished): (&str, SystemTime),
) -> SelfValidation {
    let finished = chrono::DateTime::<chrono::Utc>::from(finished)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let validated = sorted(results.origins().collect());
    let rejected = &results.summary.rejected;
    let mut out = SelfValidation {
        finished: finished.clone(),
        instance: instance.to_string(),
        points: results.points() as u64,
        vrps_validated: validated.len() as u64,
        rejected_count: rejected.len() as u64,
        rejected: rejected
            .iter()
            .take(LISTED)
            .map(|r| RejectedObject {
                uri: r.uri.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        ..SelfValidation::default()
    };
    match expected {
        Some(expected) => {
            let missing: Vec<&Origin> = lacking(&expected.origins, &validated).collect();
            out.compared = Some(finished);
            out.vrps_configured = expected.origins.len() as u64;
            out.missing_count = missing.len() as u64;
            out.missing = missing.into_iter().take(LISTED).map(show).collect();
            out.not_configured = lacking(&validated, &expected.origins).count() as u64;
            // The validator reports one ASPA per customer AS already merged.
            let aspas: BTreeMap<u32, &Vec<u32>> = results
                .summary
                .aspas
                .iter()
                .map(|a| (a.customer, &a.providers))
                .collect();
            let missing: Vec<String> = expected
                .aspas
                .iter()
                .filter(|(customer, providers)| aspas.get(*customer) != Some(providers))
                .map(|(customer, providers)| show_aspa(*customer, providers))
                .collect();
            out.aspas_configured = expected.aspas.len() as u64;
            out.aspas_missing_count = missing.len() as u64;
            out.aspas_missing = missing.into_iter().take(LISTED).collect();
            let keys: BTreeSet<(u32, String)> = results
                .summary
                .router_keys
                .iter()
                .map(|k| (k.asn, k.ski.clone()))
                .collect();
            let missing: Vec<String> = expected
                .router_keys
                .difference(&keys)
                .map(|(asn, ski)| format!("AS{asn} {ski}"))
                .collect();
            out.router_keys_configured = expected.router_keys.len() as u64;
            out.router_keys_missing_count = missing.len() as u64;
            out.router_keys_missing = missing.into_iter().take(LISTED).collect();
        }
        None => {
            if let Some(p) = previous {
                out.compared = p.compared.clone();
                out.vrps_configured = p.vrps_configured;
                out.missing_count = p.missing_count;
                out.missing = p.missing.clone();
                out.not_configured = p.not_configured;
                out.aspas_configured = p.aspas_configured;
                out.aspas_missing_count = p.aspas_missing_count;
                out.aspas_missing = p.aspas_missing.clone();
                out.router_keys_configured = p.router_keys_configured;
                out.router_keys_missing_count = p.router_keys_missing_count;
                out.router_keys_missing = p.router_keys_missing.clone();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(asn: u32, len: u8) -> Origin {
        let addr = "2001:db8::".parse().unwrap();
        (asn, Prefix { addr, len }, len)
    }

    #[test]
    fn lacking_is_the_set_difference() {
        let a = sorted(vec![o(3, 48), o(1, 32), o(2, 40), o(1, 32), o(5, 48)]);
        let b = sorted(vec![o(2, 40), o(4, 48), o(0, 32), o(5, 48)]);
        assert_eq!(a, vec![o(1, 32), o(2, 40), o(3, 48), o(5, 48)]);
        let lacking_b: Vec<_> = lacking(&a, &b).copied().collect();
        assert_eq!(lacking_b, vec![o(1, 32), o(3, 48)]);
        let lacking_a: Vec<_> = lacking(&b, &a).copied().collect();
        assert_eq!(lacking_a, vec![o(0, 32), o(4, 48)]);
        assert_eq!(lacking(&a, &[]).count(), 4);
        assert_eq!(lacking(&[], &a).count(), 0);
        assert_eq!(lacking(&a, &a).count(), 0);
    }
}
