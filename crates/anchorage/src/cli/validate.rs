//! `anchorage validate`: fetch and validate a repository from its TAL, as a relying party does.

use std::path::PathBuf;

use anchorage_validator::Validation;
use anchorage_validator::fetch::{Fetcher, RsyncFetcher};
use anchorage_validator::seen::Seen;
use anyhow::Context;
use clap::ValueEnum;
use rpki::repository::x509::Time;

/// The file in the cache that records the manifests validated before.
pub const SEEN_MANIFESTS: &str = "validated-manifests";

/// VRP output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VrpFormat {
    /// rpki-client's CSV: ASN,IP Prefix,Max Length,Trust Anchor,Expires.
    Csv,
    /// JSON: metadata, roas (rpki-client's fields) and rejected objects.
    Json,
}

/// The options of `anchorage validate`.
#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The TAL.
    #[arg(long)]
    tal: PathBuf,
    /// Fetch over rsync only (by default RRDP first, rsync as fallback).
    #[arg(long)]
    rsync_only: bool,
    /// Fetch nothing: validate what an earlier run left in the cache
    /// (its rsync copies), like `rpki-client -n`.
    #[arg(long, conflicts_with = "rsync_only")]
    no_fetch: bool,
    /// Also trust the CA certificates in this PEM file for HTTPS (RRDP
    /// servers with a private CA); the system's trust store is always used.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Output format: rpki-client's CSV or JSON.
    #[arg(long, value_enum, default_value_t = VrpFormat::Csv)]
    format: VrpFormat,
    /// Write the VRPs here instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The local cache of fetched files and of the manifests validated
    /// before [default: $XDG_CACHE_HOME/anchorage/validate, or
    /// ~/.cache/anchorage/validate].
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// The rsync program (e.g. a wrapper adding --port).
    #[arg(long, value_name = "PATH", default_value = "rsync")]
    rsync_program: PathBuf,
    /// Validate as of this time (RFC 3339, e.g. 2027-01-31T12:00:00Z)
    /// instead of now: validity periods and every manifest's and CRL's
    /// nextUpdate are compared with it. What is fetched is what is
    /// published now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Reads an RFC 3339 time for `--at`.
fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2027-01-31T12:00:00Z: {e}"))
}

/// The cache when `--cache` is not given, as the XDG base directory
/// specification places a user's caches: `$XDG_CACHE_HOME` if set to an
/// absolute path, else `~/.cache`, then `anchorage/validate`. A fixed
/// place, unlike the current directory, so that every run finds what
/// the last one fetched and validated.
fn default_cache() -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|home| home.join(".cache"))
        })
        .context("no cache directory: neither XDG_CACHE_HOME nor HOME is set; give --cache DIR")?;
    Ok(base.join("anchorage").join("validate"))
}

/// Runs `anchorage validate`: the VRPs to the output, rejections and counts to standard error.
pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    let cache = match &args.cache {
        Some(dir) => dir.clone(),
        None => default_cache()?,
    };
    let mut fetcher = fetcher(&args, &cache)?;
    let at = args.at.map_or_else(Time::now, Time::new);
    // RFC 9286 §4.2.1: the manifests validated by earlier runs, so that
    // one that goes back is seen.
    let record = cache.join(SEEN_MANIFESTS);
    let seen = Seen::load(&record).with_context(|| format!("reading {}", record.display()))?;
    let (v, seen) = anchorage_validator::validate_once(&args.tal, &mut fetcher, (true, at), seen)?;
    let text = vrp_text(&v, args.format)?;
    match args.output {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    print_summary(&v);
    // The VRPs are out; a record that cannot be kept only weakens the
    // next run's check.
    if let Err(e) = std::fs::create_dir_all(&cache).and_then(|()| seen.save(&record, at)) {
        eprintln!(
            "warning: cannot keep the record of validated manifests in {}: {e}; the next run cannot tell a manifest that goes back",
            record.display()
        );
    }
    Ok(())
}

/// The fetcher the options ask for: offline, rsync only, or RRDP with rsync fallback.
fn fetcher(args: &ValidateArgs, cache: &std::path::Path) -> anyhow::Result<Fetcher> {
    let rsync = RsyncFetcher::new(cache, &args.rsync_program);
    Ok(if args.no_fetch {
        Fetcher::rsync_only(RsyncFetcher::offline(cache))
    } else if args.rsync_only {
        Fetcher::rsync_only(rsync)
    } else {
        let pem = match &args.ca_cert {
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?
            }
            None => Vec::new(),
        };
        let rrdp = anchorage_validator::rrdp::RrdpFetcher::new(cache, &pem)?;
        Fetcher::with_rrdp(rsync, rrdp)
    })
}

/// The VRPs in the output format: rpki-client's CSV, or JSON with metadata.
fn vrp_text(v: &Validation, format: VrpFormat) -> anyhow::Result<String> {
    Ok(match format {
        VrpFormat::Csv => {
            let mut s = String::from("ASN,IP Prefix,Max Length,Trust Anchor,Expires\n");
            for r in &v.vrps {
                s.push_str(&format!(
                    "AS{},{},{},{},{}\n",
                    r.asn, r.prefix, r.max_length, r.ta, r.expires
                ));
            }
            s
        }
        VrpFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "metadata": {
                    "cas": v.cas,
                    "manifests": v.manifests,
                    "roas": v.roas,
                    "taks": v.taks,
                    "gbrs": v.gbrs.len(),
                    "aspas": v.aspas.len(),
                    "bgpsec_pubkeys": v.router_keys.len(),
                    "vrps": v.vrps.len(),
                    "rejected": v.rejected.len(),
                    "warnings": v.warnings.len(),
                    "fetch": v.fetch,
                },
                "roas": v.vrps,
                "gbrs": v.gbrs,
                "aspas": v.aspas,
                "bgpsec_keys": v.router_keys,
                "rejected": v.rejected,
                "warnings": v.warnings,
            }))? + "\n"
        }
    })
}

/// Prints the rejected objects, the fetch counts and the totals on standard error.
fn print_summary(v: &Validation) {
    for r in &v.rejected {
        eprintln!("rejected {}: {}", r.uri, r.reason);
    }
    for w in &v.warnings {
        eprintln!("warning {}: {}", w.uri, w.reason);
    }
    let f = &v.fetch;
    eprintln!(
        "fetched: RRDP {} snapshots, {} deltas, {} unchanged, {} failed; rsync {} modules ({} fallbacks)",
        f.rrdp.snapshots,
        f.rrdp.deltas,
        f.rrdp.unchanged,
        f.rrdp.failed,
        f.rsync_modules,
        f.rsync_fallbacks
    );
    eprintln!(
        "validated {} CAs, {} manifests, {} ROAs, {} ASPAs, {} router keys, {} TAKs, {} Ghostbusters records: {} VRPs, {} rejected",
        v.cas,
        v.manifests,
        v.roas,
        v.aspas.len(),
        v.router_keys.len(),
        v.taks,
        v.gbrs.len(),
        v.vrps.len(),
        v.rejected.len()
    );
}
