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
//!
//! RFC 8360 reconsidered validation and the parallel worker pool are not
//! here yet.
#![forbid(unsafe_code)]

pub mod fetch;
pub mod rrdp;
pub mod walk;

pub use walk::{Rejection, Validation, Vrp, validate};
