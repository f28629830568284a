//! `serve`'s self-validation compared with the ROA configuration: the
//! record that `anchorage status` prints and `/metrics` exports.
//!
//! A comparison is exact or not made: it is made only when the tree that
//! was validated is the newest and shows every committed change (read in
//! one transaction after the run, see
//! [`crate::ops::Anchorage::roas_shown_by`]), so a change committed
//! while a validation runs never shows as a missing VRP. Without one,
//! the record keeps the last comparison's figures and time.

use std::collections::BTreeSet;
use std::time::SystemTime;

use anchorage_validator::{Origin, Prefix, Results};

use crate::ops::status::LISTED;
use crate::report::{RejectedObject, SelfValidation};

/// One route origin as a person reads it: `AS64496 192.0.2.0/24-24`.
fn show((asn, prefix, max_len): &Origin) -> String {
    format!("AS{asn} {prefix}-{max_len}")
}

/// The route origins the ROA configuration `roas` asks for.
pub fn configured(roas: &[anchorage_ca_core::RoaPayload]) -> BTreeSet<Origin> {
    roas.iter()
        .map(|r| {
            let prefix = Prefix {
                addr: r.prefix.addr(),
                len: r.prefix.prefix_len(),
            };
            (r.asn, prefix, r.max_length)
        })
        .collect()
}

/// The record of a validation that finished at `finished` with `results`:
/// compared with `configured` when given (the configuration the
/// validated tree shows), otherwise carrying `previous`'s comparison.
pub fn record(
    results: &Results,
    configured: Option<&BTreeSet<Origin>>,
    previous: Option<&SelfValidation>,
    (instance, finished): (&str, SystemTime),
) -> SelfValidation {
    let finished = chrono::DateTime::<chrono::Utc>::from(finished)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let validated: BTreeSet<Origin> = results.origins().collect();
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
    match configured {
        Some(configured) => {
            let missing: Vec<&Origin> = configured.difference(&validated).collect();
            out.compared = Some(finished);
            out.vrps_configured = configured.len() as u64;
            out.missing_count = missing.len() as u64;
            out.missing = missing.into_iter().take(LISTED).map(show).collect();
            out.not_configured = validated.difference(configured).count() as u64;
        }
        None => {
            if let Some(p) = previous {
                out.compared = p.compared.clone();
                out.vrps_configured = p.vrps_configured;
                out.missing_count = p.missing_count;
                out.missing = p.missing.clone();
                out.not_configured = p.not_configured;
            }
        }
    }
    out
}
