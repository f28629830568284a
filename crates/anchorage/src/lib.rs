//! Anchorage: a hosted-mode RPKI certificate authority.
//!
//! This library is what the `anchorage` binary is made of; the admin API
//! and `serve` will call the same operations.
//!
//! * [`ops`] — the operations an operator runs (init, CA and ROA changes,
//!   publish): each validates, changes the store in one transaction, signs
//!   through the key store, and writes the rsync tree.
//! * [`api`] and [`openapi`] — the admin API under `/api/v1` and its
//!   OpenAPI document.
//! * [`protocols`] and [`bpki`] — RFC 6492 and RFC 8181 over HTTP for
//!   delegated children and publishers; the operations are in [`ops`].
//! * [`tokens`] — admin API tokens: roles, scopes, argon2 hashes.
//! * [`datadir`] — the files of a data directory.
//! * [`clock`] — the time source, fixed in tests.
//! * [`report`] — what operations return, serialisable for `--format json`.
//! * [`demo`] — the README's demo: a small RIR hierarchy, validated.
//! * [`bench`] and [`fixture`] — `anchorage bench` and the large
//!   repository it validates.
//! * [`oracle`] — runs independent tools on our output: a real
//!   `rsync --daemon` serving the tree, rpki-client and FORT fetching it.
#![forbid(unsafe_code)]

pub mod api;
pub mod bench;
pub mod bgp;
pub mod bpki;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod demo;
pub mod error;
pub mod fault;
pub mod fixture;
pub mod openapi;
pub mod ops;
pub mod oracle;
pub mod peers_cli;
pub mod protocols;
pub mod remote;
pub mod report;
pub mod rsyncd;
pub mod serve;
pub mod tokens;

pub use error::AppError;
pub use ops::Anchorage;
