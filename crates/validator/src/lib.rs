//! A relying-party validator: TAL → fetch → RFC 6487 validation → VRPs.
//!
//! Anchorage uses it to check its own output the way an outside relying
//! party would: it reads only what it fetched from the served repository,
//! never the CA's database.
//!
//! * [`fetch`] copies publication points into a local cache: over RRDP
//!   ([`rrdp`], snapshots and deltas checked against their hashes) when the
//!   CA names a notification URI, over rsync with the system `rsync`
//!   otherwise or when RRDP fails; URIs that could escape the cache are
//!   refused.
//! * [`walk`] validates from the trust anchor down with the `rpki` crate's
//!   primitives: signatures, validity, RFC 3779 containment, CRLs, manifest
//!   completeness and hashes (RFC 9286 §6: a point with a missing or
//!   altered file is rejected whole), ROA prefixes within the EE resources.
//!   Every rejected object is reported with its URI and reason.
//! * [`Live`] keeps every point's result from run to run and reports the
//!   VRPs that changed; [`mirror`] follows the rsync tree this machine
//!   serves by its journals, fetching and validating again only what a
//!   publication changed (`serve`'s self-validation).
//!
//! Publication points are validated in parallel by a pool of threads (one
//! per core, at most 8) sharing a queue of CAs; fetches are serialised,
//! each rsync module or RRDP repository once per run. Cycles in the CA
//! graph (a key certified again below itself) and chains deeper than
//! [`walk::MAX_DEPTH`] are rejected.
//!
//! Over-claims follow each certificate's own policy, as the `rpki` crate
//! applies it: under the RFC 6484 policy (every certificate in use today)
//! an over-claim rejects the certificate, as rpki-client does; a
//! certificate with the RFC 8360 policy would have its resources trimmed
//! instead. There is no switch to force RFC 8360 on RFC 6484
//! certificates, and no test of the RFC 8360 path.
#![forbid(unsafe_code)]

pub mod fetch;
mod kept;
pub mod mirror;
pub use anchorage_profile as profile;
pub mod rrdp;
pub mod seen;
pub mod walk;

pub use walk::{
    Contact, Live, Origin, Prefix, Rejection, Results, Reuse, Update, ValidatedAspa,
    ValidatedRouterKey, Validation, Vrp, validate, validate_at, validate_once,
};
