//! What the `anchorage` binary runs besides the CA: the README's demo (a
//! small RIR hierarchy, validated by rpki-client, FORT and the bundled
//! validator), `anchorage bench`, and the large repository the benchmark
//! validates, and `anchorage soak`, `serve` under load and SIGKILL for
//! hours. They drive the engine and, for `serve`, the binary itself
//! (as its own process); the independent validators come from
//! `anchorage-testkit`.
#![forbid(unsafe_code)]

pub mod bench;
pub mod demo;
pub mod fixture;
pub mod soak;

// The engine's modules and the oracles, under the paths these modules use.
pub(crate) use anchorage_engine::{audit, clock, datadir, ops, report, tokens};
pub(crate) use anchorage_testkit as oracle;
