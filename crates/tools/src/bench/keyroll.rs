//! The key rollover part of `anchorage bench`: a CA with 10,000 ROA
//! payloads (100 origin ASNs, so 100 ROA objects of 100 prefixes each)
//! starts a rollover and activates its new key. The activation — every
//! ROA signed again under the new key with fresh one-time keys, the old
//! key revoked, manifests and CRLs, one transaction and the tree — is
//! measured against the signing floor of the objects it reissues: one
//! RSA-2048 key generation and two signatures each, on one core, measured
//! in the same run. The target is under 10 times that floor.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use chrono::TimeDelta;

use super::{BENCH, Figure, crypto_limit, fig, payload};
use crate::audit::Event;
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, InitOptions};

/// ROA payloads of the rolled CA.
const PAYLOADS: u32 = 10_000;
/// Its distinct origin ASNs (one ROA object each).
const ORIGINS: u32 = 100;

/// Builds the CA, rolls its key, and pushes the figures.
pub(crate) fn figures(work: &Path, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let mut a = Anchorage::init(
        &BENCH,
        DataDir::new(work.join("keyroll")),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?
    .0;
    let limit = crypto_limit(&a, 20)?;
    a.create_ca(
        &BENCH,
        "big",
        format!("AS64000-AS{}, 10.0.0.0/8", 64000 + ORIGINS - 1).parse()?,
        None,
    )?;
    let per_origin = PAYLOADS / ORIGINS;
    let add = (0..PAYLOADS)
        .map(|i| payload(64000 + i / per_origin, 0x0A00_0000 + i * 256, 24))
        .collect::<anyhow::Result<Vec<_>>>()?;
    a.roa_batch(&BENCH, "big", &add, &[], None, false)?;
    a.keyroll_start(&BENCH, "big", Some(TimeDelta::zero()))?;
    let t = Instant::now();
    let (status, events) = a.keyroll_activate(&BENCH, "big")?;
    let secs = t.elapsed().as_secs_f64();
    let reissued = match events.as_slice() {
        [Event::KeyActivated { reissued, .. }] => *reissued,
        other => bail!("the activation reported {other:?}"),
    };
    if status.keys.len() != 1 {
        bail!("the rollover did not end: {status:?}");
    }
    let floor = reissued as f64 * limit;
    figures.push(fig(
        &format!(
            "key activation: {PAYLOADS} ROA payloads in {reissued} ROAs reissued, old key revoked, tree written"
        ),
        secs,
        "s",
        "< 10 x the signing floor; ratio = time / (10 x floor)",
        Some(secs / (10.0 * floor)),
    ));
    figures.push(fig(
        "key activation / signing floor of its objects (keygen + 2 signatures each, one core)",
        secs / floor,
        "x",
        "< 10",
        None,
    ));
    Ok(())
}
