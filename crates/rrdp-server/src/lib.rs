//! RRDP (RFC 8182) for Anchorage.
//!
//! * [`repository`] turns each new repository state into RRDP files: a new
//!   serial with a delta (what was published, updated, withdrawn since the
//!   previous serial) and a snapshot, at unguessable immutable paths, and
//!   the notification file that lists them. It does no bookkeeping of its
//!   own: the caller passes the previous state (kept in the store, in the
//!   same transaction as the rsync tree it mirrors) and stores the result.
//! * `http` (feature `http`) serves those files with ETag,
//!   Last-Modified, conditional GET, cache headers and gzip, and records
//!   which notification files it served ([`fetches`]): what tells the
//!   next publication which superseded snapshots a client may still need.
#![forbid(unsafe_code)]

pub mod fetches;
#[cfg(feature = "http")]
pub mod http;
pub mod repository;

pub use repository::{DeltaRecord, RrdpError, RrdpState, RrdpUpdate};
