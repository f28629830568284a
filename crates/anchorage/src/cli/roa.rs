//! `anchorage roa ...`: add, remove and list ROA payloads, locally or
//! against a `--server`, with the RFC 9319 warnings.

use anchorage::audit::Actor;
use anchorage::datadir::DataDir;
use anchorage::format::Format;
use anchorage::ops::{Anchorage, RoaChanges};
use anchorage::remote::Remote;
use anchorage_ca_core::roa::parse_asn;
use anchorage_ca_core::{IpPrefix, RoaPayload};
use clap::Subcommand;

use super::{Env, Printed, json, print_warnings};

/// `anchorage roa ...`
#[derive(Subcommand, Debug)]
pub enum RoaCommand {
    /// Authorise an origin AS for a prefix (a no-op if present).
    Add(RoaArgs),
    /// Remove an authorisation.
    Remove(RoaArgs),
    /// List a CA's ROA payloads.
    List {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// One ROA payload of a CA, as `roa add` and `roa remove` take it.
#[derive(clap::Args, Debug)]
pub struct RoaArgs {
    /// The CA's handle.
    handle: String,
    /// Origin AS (64496 or AS64496).
    #[arg(long, value_parser = |s: &str| parse_asn(s))]
    asn: u32,
    /// The prefix, e.g. 192.0.2.0/24 (with its length; IPv6 as RFC 5952
    /// writes it).
    #[arg(long, value_parser = |s: &str| IpPrefix::parse_canonical(s))]
    prefix: IpPrefix,
    /// maxLength (default: the prefix length).
    #[arg(long)]
    max_length: Option<u8>,
}

impl RoaArgs {
    /// The payload these arguments name, checked by `RoaPayload::new`.
    fn payload(&self) -> anyhow::Result<RoaPayload> {
        Ok(RoaPayload::new(self.asn, self.prefix, self.max_length)?)
    }
}

/// Runs `anchorage roa ...`, against `remote` if given, else on the data directory.
pub fn run(env: &Env, remote: Option<&Remote>, cmd: RoaCommand) -> anyhow::Result<()> {
    match cmd {
        RoaCommand::Add(args) => add(env, remote, &args),
        RoaCommand::Remove(args) => remove(env, remote, &args),
        RoaCommand::List { handle, format } => list(env, remote, &handle, format),
    }
}

/// `anchorage roa add`.
fn add(env: &Env, remote: Option<&Remote>, args: &RoaArgs) -> anyhow::Result<()> {
    let payload = args.payload()?;
    let (added, warnings) = match remote {
        Some(r) => {
            let o = r.roa_batch(&args.handle, &[payload], &[], false)?;
            (o.added == 1, o.warnings)
        }
        None => {
            let (c, w) = local_roa_batch(
                &mut env.open()?,
                &env.data_dir()?,
                &args.handle,
                &[payload],
                &[],
            )?;
            (c.added == 1, w)
        }
    };
    print_warnings(&warnings);
    if added {
        println!("added {payload} to CA '{}'; published", args.handle);
    } else {
        println!(
            "{payload} already present in CA '{}'; nothing changed",
            args.handle
        );
    }
    Ok(())
}

/// `anchorage roa remove`.
fn remove(env: &Env, remote: Option<&Remote>, args: &RoaArgs) -> anyhow::Result<()> {
    let payload = args.payload()?;
    let warnings = match remote {
        Some(r) => r.roa_batch(&args.handle, &[], &[payload], false)?.warnings,
        None => {
            local_roa_batch(
                &mut env.open()?,
                &env.data_dir()?,
                &args.handle,
                &[],
                &[payload],
            )?
            .1
        }
    };
    print_warnings(&warnings);
    println!("removed {payload} from CA '{}'; published", args.handle);
    Ok(())
}

/// `anchorage roa list`.
fn list(env: &Env, remote: Option<&Remote>, handle: &str, format: Format) -> anyhow::Result<()> {
    let roas = match remote {
        Some(r) => r.list_roas(handle)?,
        None => env.open()?.list_roas(handle)?,
    };
    if format == Format::Json {
        return json(&roas);
    }
    println!("{:<12} {:<44} MAXLEN", "ASN", "PREFIX");
    for r in roas {
        println!(
            "{:<12} {:<44} {}",
            format!("AS{}", r.asn),
            r.prefix,
            r.max_length
        );
    }
    Ok(())
}

/// A ROA batch on the local data directory, with the RFC 9319 warnings
/// (against the loaded BGP table too, if there is one).
pub fn local_roa_batch(
    a: &mut Anchorage,
    dir: &DataDir,
    handle: &str,
    add: &[RoaPayload],
    remove: &[RoaPayload],
) -> anyhow::Result<(RoaChanges, Vec<Printed>)> {
    let table_path = anchorage::bgp::table_path(dir);
    let table = if table_path.exists() {
        Some(anchorage::bgp::read(
            &table_path,
            Some(anchorage::bgp::BgpFormat::Csv),
        )?)
    } else {
        None
    };
    let index = match &table {
        Some(_) => Some(a.vrp_index()?.1),
        None => None,
    };
    let opts = anchorage::ops::BatchOptions {
        routes: table.as_ref().zip(index.as_ref()),
        ..Default::default()
    };
    let outcome = a.roa_batch_analysed(&Actor::operator(), handle, add, remove, opts)?;
    if outcome.applied && !outcome.changes.events.is_empty() {
        anchorage::peers_cli::warn_if_not_pushed(a);
    }
    let (changes, warnings) = (outcome.changes, outcome.warnings);
    let warnings = warnings
        .into_iter()
        .map(|w| {
            let severity = serde_json::to_value(w.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (w.code.to_string(), severity, w.message)
        })
        .collect();
    Ok((changes, warnings))
}
