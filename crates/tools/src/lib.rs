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

/// The epoch the `serve` whose HTTP server is at `http_base`
/// (`http://127.0.0.1:PORT`) leads in, from its `/metrics` (public): 0
/// while it stands by; `None` while it does not answer.
pub fn leader_epoch(http_base: &str) -> Option<i64> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(2)))
        .build()
        .new_agent();
    let text = agent
        .get(format!("{http_base}/metrics"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("anchorage_leader_epoch "))
        .and_then(|v| v.trim().parse().ok())
}
