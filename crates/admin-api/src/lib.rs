//! The admin API model of Anchorage: what requests and responses look
//! like, how errors are reported (RFC 9457 problem details), and the
//! per-token rate limiter. The RFC 9319 analysis of ROA changes is the
//! engine's (re-exported here as [`bgp`] and [`warnings`]). The HTTP
//! handlers that call the engine live in the `anchorage` crate
//! (`anchorage::api`), because `serve`, which mounts them, is there too.
#![forbid(unsafe_code)]
// A Problem is the error of every request path and is built once per
// failed request; its size does not matter there.
#![allow(clippy::result_large_err)]

pub mod model;
pub mod problem;
pub mod ratelimit;

pub use anchorage_engine::rfc9319::{bgp, warnings};

pub use problem::Problem;
