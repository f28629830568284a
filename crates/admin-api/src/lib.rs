//! The admin API model of Anchorage, free of the CA engine: what requests
//! and responses look like, how errors are reported (RFC 9457 problem
//! details), how ROA changes are analysed for the RFC 9319 warnings, and
//! the per-token rate limiter. The HTTP handlers that call the engine
//! live in the `anchorage` crate (`anchorage::api`), because `serve`,
//! which mounts them, is there too.
#![forbid(unsafe_code)]
// A Problem is the error of every request path and is built once per
// failed request; its size does not matter there.
#![allow(clippy::result_large_err)]

pub mod bgp;
pub mod model;
pub mod problem;
pub mod ratelimit;
pub mod warnings;

pub use problem::Problem;
