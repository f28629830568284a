//! A relying-party validator: TAL → fetch → RFC 6487 validation → VRPs.
//!
//! Anchorage uses it to check its own output the way an outside relying
//! party would: it reads only what it fetched from the served repository,
//! never the CA's database.
//!
//! * [`fetch`] copies publication points from rsync servers into a local
//!   cache with the system `rsync`, refusing URIs that could escape it.
//! * [`walk`] validates from the trust anchor down with the `rpki` crate's
//!   primitives: signatures, validity, RFC 3779 containment, CRLs, manifest
//!   completeness and hashes (RFC 9286 §6: a point with a missing or
//!   altered file is rejected whole), ROA prefixes within the EE resources.
//!   Every rejected object is reported with its URI and reason.
//!
//! RRDP fetching, RFC 8360 reconsidered validation and the parallel worker
//! pool are not here yet.
#![forbid(unsafe_code)]

pub mod fetch;
pub mod walk;

pub use walk::{Rejection, Validation, Vrp, validate};
