//! The admin API model of Anchorage: what requests and responses look
//! like, how errors are reported (RFC 9457 problem details), and the
//! per-token rate limiter. The RFC 9319 analysis of ROA changes is the
//! engine's (re-exported here as [`bgp`] and [`warnings`]). [`server`]
//! is the API itself: its router, token checks and handlers, each
//! checking the caller's role and scope and making one engine call;
//! [`openapi`] describes it. `serve` mounts the router.
#![forbid(unsafe_code)]
// A Problem is the error of every request path and is built once per
// failed request; its size does not matter there.
#![allow(clippy::result_large_err)]

pub mod model;
pub mod openapi;
pub mod problem;
pub mod ratelimit;
pub mod server;

pub use anchorage_engine::rfc9319::{bgp, warnings};

pub use problem::Problem;
