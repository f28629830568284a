//! The demo: a small RIR hierarchy, published and checked by others.
//!
//! In a temporary data directory: a trust anchor and its online CA, an NIR
//! with two LIRs and a directly hosted member, IPv4 and IPv6, a dozen ROAs
//! (some with maxLength, one removed again); then `publish`, a real
//! `rsync --daemon` serving the tree, and rpki-client and FORT (when
//! installed) validating it from the TAL. The demo fails unless each
//! validator derives exactly the configured VRPs without a complaint.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anchorage_ca_core::RoaPayload;
use anyhow::{Context, bail};

use crate::audit::Actor;
use crate::clock::Clock;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, DEFAULT_ONLINE_HANDLE, InitOptions};

/// Who the demo's changes are recorded as.
static DEMO: std::sync::LazyLock<Actor> = std::sync::LazyLock::new(|| Actor::named("demo"));
use crate::oracle::{self, RsyncDaemon, Vrp};

/// The hosted CAs of the demo: handle, parent, resources.
pub const CAS: &[(&str, &str, &str)] = &[
    (
        "nir",
        DEFAULT_ONLINE_HANDLE,
        "AS64496-AS64511, 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32",
    ),
    (
        "lir-a",
        "nir",
        "AS64496-AS64499, 192.0.2.0/24, 2001:db8:a::/48",
    ),
    (
        "lir-b",
        "nir",
        "AS64500-AS64503, 198.51.100.0/24, 2001:db8:b::/48",
    ),
    (
        "member",
        DEFAULT_ONLINE_HANDLE,
        "AS65551, 203.0.113.0/24, 2001:db8:f000::/36",
    ),
];

/// The ROAs of the demo: CA, ASN, prefix, maxLength.
pub const ROAS: &[(&str, u32, &str, Option<u8>)] = &[
    ("lir-a", 64496, "192.0.2.0/24", None),
    ("lir-a", 64496, "192.0.2.0/25", Some(26)),
    ("lir-a", 64497, "192.0.2.128/25", None),
    ("lir-a", 64496, "2001:db8:a::/48", None),
    ("lir-a", 64497, "2001:db8:a:8000::/49", Some(56)),
    ("lir-b", 64500, "198.51.100.0/24", None),
    ("lir-b", 64501, "198.51.100.0/26", None),
    ("lir-b", 64501, "198.51.100.64/26", None),
    ("lir-b", 64500, "2001:db8:b::/48", Some(64)),
    ("member", 65551, "203.0.113.0/24", Some(24)),
    ("member", 65551, "2001:db8:f000::/36", Some(48)),
    ("member", 0, "203.0.113.128/25", None),
    ("nir", 64511, "192.0.2.0/24", None),
];

/// A ROA the demo adds and then removes again.
pub const REMOVED: (&str, u32, &str, Option<u8>) = ("lir-b", 64502, "198.51.100.128/25", None);

/// Builds a repository in `dir` from the demo's CAs and ROAs.
pub fn build(dir: &Path) -> anyhow::Result<Anchorage> {
    let mut a = Anchorage::init(
        &DEMO,
        DataDir::new(dir),
        &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
        Clock::System,
    )?
    .0;
    for (handle, parent, resources) in CAS {
        a.create_ca(&DEMO, handle, resources.parse()?, Some(parent))?;
    }
    let payload = |asn, prefix: &str, max| -> anyhow::Result<RoaPayload> {
        Ok(RoaPayload::new(asn, prefix.parse()?, max)?)
    };
    for (ca, asn, prefix, max) in ROAS {
        a.add_roa(&DEMO, ca, payload(*asn, prefix, *max)?)?;
    }
    let (ca, asn, prefix, max) = REMOVED;
    a.add_roa(&DEMO, ca, payload(asn, prefix, max)?)?;
    a.remove_roa(&DEMO, ca, payload(asn, prefix, max)?)?;
    a.publish(&DEMO)?;
    Ok(a)
}

/// The VRPs the configuration of `a` should produce.
pub fn expected_vrps(a: &mut Anchorage) -> anyhow::Result<BTreeSet<Vrp>> {
    let mut out = BTreeSet::new();
    for ca in a.list_cas()? {
        for r in a.list_roas(&ca.handle)? {
            out.insert(Vrp::new(r.asn, &r.prefix, r.max_length));
        }
    }
    Ok(out)
}

/// Counts the published files by extension.
pub fn count_objects(tree: &Path) -> anyhow::Result<BTreeMap<String, usize>> {
    let mut counts = BTreeMap::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(ext) = path.extension() {
                *counts
                    .entry(ext.to_string_lossy().into_owned())
                    .or_default() += 1;
            }
        }
    }
    Ok(counts)
}

/// Runs the demo and returns its summary; fails if a validator disagrees.
pub fn run(keep: Option<&Path>) -> anyhow::Result<String> {
    let tmp = tempfile::tempdir()?;
    let dir = match keep {
        Some(dir) => dir.to_path_buf(),
        None => tmp.path().join("data"),
    };
    let mut a = build(&dir)?;
    let mut s = String::new();
    writeln!(s, "Anchorage demo: data directory {}", dir.display())?;
    if keep.is_none() {
        writeln!(
            s,
            "  (temporary; use `anchorage demo --keep DIR` to keep it)"
        )?;
    }

    let cas = a.list_cas()?;
    writeln!(s, "\nCAs ({}):", cas.len())?;
    fn tree(
        s: &mut String,
        cas: &[crate::report::CaSummary],
        parent: Option<&str>,
        depth: usize,
    ) -> std::fmt::Result {
        for ca in cas.iter().filter(|c| c.parent.as_deref() == parent) {
            let name = format!("{:indent$}{}", "", ca.handle, indent = depth * 2);
            writeln!(
                s,
                "  {name:<16} {:>2} ROA payloads  {}",
                ca.roa_payloads, ca.resources
            )?;
            tree(s, cas, Some(&ca.handle), depth + 1)?;
        }
        Ok(())
    }
    tree(&mut s, &cas, None, 0)?;

    let current = a.data_dir().rsync().join("current");
    let counts = count_objects(&current)?;
    let total: usize = counts.values().sum();
    let detail: Vec<String> = counts.iter().map(|(k, v)| format!("{v} .{k}")).collect();
    writeln!(
        s,
        "\nPublished {total} files in {}: {}",
        current.display(),
        detail.join(", ")
    )?;

    let expected = expected_vrps(&mut a)?;
    writeln!(s, "\nVRPs configured ({}):", expected.len())?;
    for v in &expected {
        writeln!(s, "  {v}")?;
    }
    writeln!(s)?;

    if oracle::find_program("rsync").is_none() {
        writeln!(
            s,
            "rsync is not installed: skipped independent validation (apt-get install rsync rpki-client fort-validator)"
        )?;
        return Ok(s);
    }
    let work = tmp.path().join("validators");
    let rsyncd = RsyncDaemon::start(&current, "repo", &work.join("rsyncd"))?;
    writeln!(
        s,
        "Serving rsync://127.0.0.1/repo/ with rsync --daemon on port {}",
        rsyncd.port()
    )?;
    let mut agreed = Vec::new();
    for (name, program) in [("rpki-client", "rpki-client"), ("FORT", "fort")] {
        if oracle::find_program(program).is_none() {
            writeln!(s, "{name}: not installed, skipped")?;
            continue;
        }
        let run = match program {
            "rpki-client" => {
                oracle::rpki_client(&dir.join("ta.tal"), &rsyncd, &work.join(program))?
            }
            _ => oracle::fort(&dir.join("ta.tal"), &rsyncd, &work.join(program))?,
        };
        if run.vrps != expected || !run.problems.is_empty() {
            let missing: Vec<_> = expected.difference(&run.vrps).collect();
            let extra: Vec<_> = run.vrps.difference(&expected).collect();
            bail!(
                "{name} disagrees: missing {missing:?}, unexpected {extra:?}, problems {:?}\n{}",
                run.problems,
                run.log
            );
        }
        writeln!(
            s,
            "{name}: validated from the TAL over rsync, {} VRPs, identical to the configuration, no warnings",
            run.vrps.len()
        )?;
        agreed.push(name);
    }
    // The bundled validator, over the same rsync daemon.
    let mut fetcher = anchorage_validator::fetch::Fetcher::rsync_only(
        anchorage_validator::fetch::RsyncFetcher::new(work.join("anchorage"), rsyncd.wrapper()),
    );
    let ours = anchorage_validator::validate(&dir.join("ta.tal"), &mut fetcher, true)?;
    let ours_vrps: BTreeSet<Vrp> = ours
        .vrps
        .iter()
        .map(|v| Vrp::new(v.asn, &v.prefix.to_string(), v.max_length))
        .collect();
    if ours_vrps != expected || !ours.rejected.is_empty() {
        bail!(
            "the bundled validator disagrees: missing {:?}, unexpected {:?}, rejected {:?}",
            expected.difference(&ours_vrps).collect::<Vec<_>>(),
            ours_vrps.difference(&expected).collect::<Vec<_>>(),
            ours.rejected
        );
    }
    writeln!(
        s,
        "anchorage validate (bundled): {} CAs, {} ROAs, {} VRPs, identical, nothing rejected",
        ours.cas,
        ours.roas,
        ours_vrps.len()
    )?;
    if agreed.is_empty() {
        writeln!(s, "No independent validator installed: nothing was checked")?;
    } else {
        writeln!(s, "\nIndependent validators agreed: {}", agreed.join(", "))?;
    }
    Ok(s)
}
