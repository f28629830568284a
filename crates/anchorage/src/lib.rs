//! Anchorage: a hosted-mode RPKI certificate authority — the binary's
//! library: command line, `serve`, and the adapters around the engine.
//!
//! The operations themselves are in the `anchorage-engine` crate,
//! re-exported here under their module names ([`ops`], [`tokens`],
//! [`bpki`], [`datadir`], [`clock`], [`report`], [`error`], [`fault`]).
//!
//! * [`serve`] — the long-running service: RRDP over HTTP(S), rsyncd,
//!   the scheduler, group publication, remote parents and repository,
//!   self-validation and RTR.
//! * [`api`] and [`openapi`] — the admin API under `/api/v1` and its
//!   OpenAPI document (from `anchorage-admin-api`).
//! * [`protocols`] and [`transport`] — RFC 6492 and RFC 8181 over HTTP:
//!   the endpoints for delegated children and publishers, and the client
//!   the engine talks to remote parents and repositories with.
//! * [`config`] — `serve`'s configuration file; [`format`] — the CLI's
//!   output formats.
//! * [`remote`] — the CLI's client for a running `serve`.
//! * [`bgp`] — BGP tables for the RFC 9319 checks.
//! * [`self_check`] — `serve`'s self-validation compared with the ROA
//!   configuration, for `anchorage status` and `/metrics`.
//! * [`memory`] — freed memory given back after each self-validation
//!   (the crate's one FFI call; `unsafe` is denied everywhere else).
//!
//! The demo, the benchmark and its fixture are in `anchorage-tools`; the
//! independent validators the demo and the tests run, in
//! `anchorage-testkit`.
#![deny(unsafe_code)]

pub mod bgp;
pub mod config;
pub mod control;
pub mod format;
pub mod listeners;
pub mod memory;
pub mod peers_cli;
pub mod protocols;
pub mod remote;
pub mod self_check;
pub mod serve;
pub mod transport;

pub use anchorage_engine::{Anchorage, AppError};
// The admin API, under the paths `serve` and the tests use.
pub use anchorage_admin_api::{openapi, server as api};
// The engine's modules, under the paths the binary's modules use.
pub use anchorage_engine::{
    audit, bpki, clock, datadir, error, fault, migrate, ops, report, tokens,
};
