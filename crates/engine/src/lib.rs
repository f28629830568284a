//! Anchorage's CA engine: every operation on a data directory, with no
//! command line, HTTP server or HTTP client in it.
//!
//! * [`ops`] — the operations (init, CAs, ROAs, delegated children,
//!   publishers, remote parents, publication): each checks its input,
//!   signs what it can before taking the store's write lock, commits one
//!   short transaction, and writes the rsync tree and RRDP files from a
//!   committed state; [`ops::EnginePool`] runs them side by side.
//! * [`bpki`] and [`transport`] — RFC 6492 and RFC 8181 messages (CMS,
//!   identity certificates, replay checks) and the trait the binary
//!   implements to carry them; RFC 8183 setup is in [`ops`].
//! * [`rfc9319`] — the warnings a ROA change gets (maxLength, non-minimal
//!   ROAs, routes it makes invalid); [`ops::Anchorage::roa_batch_analysed`]
//!   is the batch with its analysis, for the API and the CLI alike.
//! * [`tokens`] — admin API tokens: roles, scopes, argon2 hashes.
//! * [`datadir`] — the files of a data directory; [`migrate`] — moving
//!   its SQLite store into PostgreSQL.
//! * [`clock`] — the time source, fixed in tests.
//! * [`report`] — what operations return, serialisable for output.
//! * [`error`] — why an operation was refused or failed; [`audit`] — who
//!   acts (an argument of every changing operation) and the typed events
//!   each operation records and returns.
//! * [`fault`] — failure injection for the crash tests.
//!
//! Data moves one way: the store (SQLite or PostgreSQL) holds the configuration and
//! every signed object; the keys crate signs; the tree and RRDP files are
//! written from the store, never the other way round.
#![forbid(unsafe_code)]

pub mod audit;
pub mod bpki;
pub mod clock;
pub mod datadir;
pub mod error;
pub mod fault;
pub mod migrate;
pub mod ops;
pub mod report;
pub mod rfc9319;
pub mod tokens;
pub mod transport;

pub use error::AppError;
pub use ops::{Anchorage, EnginePool};
