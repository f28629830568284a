//! Failure injection for crash tests, driven by `ANCHORAGE_FAIL_AT`.
//!
//! `ANCHORAGE_FAIL_AT=after-commit` aborts right after a ROA addition
//! or a key rollover stage commits, before the rsync tree is written;
//! `keyroll-start-before-commit` and `keyroll-activate-before-commit`
//! abort when a rollover stage has written everything but not committed;
//! `ANCHORAGE_FAIL_AT=roa-batch-before-commit` aborts when a ROA batch has
//! written everything but not committed; `ANCHORAGE_FAIL_AT=tree:N`
//! aborts after N files of the next tree are written;
//! `rrdp-before-announce` aborts once an RRDP serial is committed, before
//! the notification file announces it;
//! `keys-encrypt-keyring` and `keys-encrypt-sealed` abort `keys encrypt`
//! once its keyring is written, and once its first key is sealed but the
//! plain file still there; `renew:HANDLE` makes renewing CA HANDLE's
//! objects fail with an error (not an abort). An abort ends the
//! process as abruptly as `kill -9`: no destructors, no flushing. These
//! are the two windows random kills rarely hit; the durability test uses
//! them. Unset (always, in production) they cost one environment lookup.

const VAR: &str = "ANCHORAGE_FAIL_AT";

/// Aborts the process if `ANCHORAGE_FAIL_AT` names this point.
pub fn point(name: &str) {
    if std::env::var(VAR).is_ok_and(|v| v == name) {
        std::process::abort();
    }
}

/// Whether `ANCHORAGE_FAIL_AT` names this point, for failures that are
/// returned as errors rather than aborts (`renew:HANDLE`: renewing CA
/// HANDLE's objects fails).
pub fn fails(name: &str) -> bool {
    std::env::var(VAR).is_ok_and(|v| v == name)
}

/// The number of tree files after which to abort, from `ANCHORAGE_FAIL_AT=tree:N`.
pub fn tree_abort_after() -> Option<usize> {
    std::env::var(VAR).ok()?.strip_prefix("tree:")?.parse().ok()
}
