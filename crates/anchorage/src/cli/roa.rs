//! `anchorage roa ...`: add, remove and list ROA payloads, locally or
//! against a `--server`, with the RFC 9319 warnings.

use anchorage::audit::Actor;
use anchorage::clock::Clock;
use anchorage::control::{self, RoaOutcome};
use anchorage::format::Format;
use anchorage::remote::Remote;
use anchorage_ca_core::roa::parse_asn;
use anchorage_ca_core::{IpPrefix, RoaPayload};
use clap::Subcommand;

use super::{Env, json, print_warnings};

/// `anchorage roa ...`
#[derive(Subcommand, Debug)]
pub enum RoaCommand {
    /// Authorise an origin AS for a prefix (a no-op if present).
    Add(RoaArgs),
    /// Remove an authorisation.
    Remove(RoaArgs),
    /// Import ROA payloads from a CSV file: rpki-client's or Routinator's
    /// VRP CSV (ASN,IP Prefix,Max Length,...), or ASN,prefix[,maxLength].
    /// All or nothing: a bad line refuses the whole file.
    Import(ImportArgs),
    /// List a CA's ROA payloads.
    List {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// The options of `roa import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The CA's handle.
    handle: String,
    /// The CSV file.
    #[arg(long, value_name = "FILE")]
    file: std::path::PathBuf,
    /// Show what would change and the RFC 9319 warnings; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Make the file the CA's whole ROA list: payloads not in it are
    /// removed (by default they stay).
    #[arg(long)]
    replace: bool,
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
        RoaCommand::Import(args) => import(env, remote, &args),
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
            let o = local_batch(env, &args.handle, (&[payload], &[]), false)?;
            (o.added == 1, o.warnings)
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
        None => local_batch(env, &args.handle, (&[], &[payload]), false)?.warnings,
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

/// A ROA batch (payloads to add and to remove) on the local data
/// directory, applied or (`dry`) only checked, with the RFC 9319
/// warnings (against the loaded BGP table too, if there is one): through
/// the `serve` running on the directory, which signs with the EE keys it
/// generated in advance ([`anchorage::control`]), else in this process.
/// A `--now` clock always runs here: `serve` signs at its own time.
fn local_batch(
    env: &Env,
    handle: &str,
    (add, remove): (&[RoaPayload], &[RoaPayload]),
    dry: bool,
) -> anyhow::Result<RoaOutcome> {
    let dir = env.data_dir()?;
    let forwarded = match env.clock() {
        Clock::System => control::forward_roa_batch(&dir, handle, (add, remove), dry),
        Clock::Fixed(_) => None,
    };
    let outcome = match forwarded {
        Some(outcome) => outcome?,
        None => {
            let mut a = env.open()?;
            let table = anchorage::bgp::load(&dir)?;
            let index = match &table {
                Some(_) => Some(a.vrp_index()?.1),
                None => None,
            };
            let routes = table.as_ref().zip(index.as_ref());
            control::roa_batch(
                &mut a,
                &Actor::operator(),
                handle,
                (add, remove),
                (dry, true),
                routes,
            )?
        }
    };
    if let Some(why) = &outcome.not_pushed {
        eprintln!("warning: {why}");
    }
    Ok(outcome)
}

/// Reads a ROA CSV file: rpki-client's or Routinator's VRP CSV (`ASN,IP
/// Prefix,Max Length,Trust Anchor,Expires`, the columns after the third
/// ignored) or `ASN,prefix[,maxLength]`. A header line (letters only in
/// its first field), blank lines and `#` comments are skipped, as are a
/// byte order mark and double quotes around a field. Returns
/// each payload with the number of the line it came from, or the first
/// bad line's number and why.
pub fn read_roa_csv(text: &str) -> Result<Vec<(usize, RoaPayload)>, String> {
    let mut out = Vec::new();
    let mut first = true;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| {
                let f = f.trim();
                f.strip_prefix('"')
                    .and_then(|f| f.strip_suffix('"'))
                    .unwrap_or(f)
                    .trim()
            })
            .collect();
        // A header names its columns: letters only in the first field.
        let header = !fields[0].is_empty()
            && fields[0]
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == ' ');
        if std::mem::take(&mut first) && header {
            continue;
        }
        let payload = (|| -> Result<RoaPayload, String> {
            let [asn, prefix, rest @ ..] = fields.as_slice() else {
                return Err("expected ASN,prefix[,maxLength]".into());
            };
            let asn = parse_asn(asn).map_err(|e| e.to_string())?;
            let prefix = IpPrefix::parse_canonical(prefix).map_err(|e| e.to_string())?;
            let max_length = match rest.first().copied() {
                None | Some("") => None,
                Some(m) => Some(
                    m.parse::<u8>()
                        .map_err(|_| format!("maxLength {m:?} is not a number from 0 to 128"))?,
                ),
            };
            RoaPayload::new(asn, prefix, max_length).map_err(|e| e.to_string())
        })()
        .map_err(|e| format!("line {n}: {e}: {line}"))?;
        out.push((n, payload));
    }
    Ok(out)
}

/// `anchorage roa import`.
fn import(env: &Env, remote: Option<&Remote>, args: &ImportArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let lines = read_roa_csv(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    // An empty file is more likely a failed export than an intent (with
    // --replace it would remove every ROA).
    anyhow::ensure!(
        !lines.is_empty(),
        "{}: no ROA payloads in the file; nothing imported",
        args.file.display()
    );
    // A payload listed twice is imported once.
    let mut first_line = std::collections::BTreeMap::new();
    for (n, payload) in &lines {
        first_line.entry(*payload).or_insert(*n);
    }
    let add: Vec<RoaPayload> = first_line.keys().copied().collect();
    let remove: Vec<RoaPayload> = if args.replace {
        let current = match remote {
            Some(r) => r.list_roas(&args.handle)?,
            None => env.open()?.list_roas(&args.handle)?,
        };
        let mut stale = Vec::new();
        for r in current {
            let prefix = IpPrefix::parse_canonical(&r.prefix)?;
            let payload = RoaPayload::new(r.asn, prefix, Some(r.max_length))?;
            if !first_line.contains_key(&payload) {
                stale.push(payload);
            }
        }
        stale
    } else {
        Vec::new()
    };
    let verb = if args.dry_run {
        "checking"
    } else {
        "signing and publishing"
    };
    let progress = indicatif::ProgressBar::new_spinner().with_message(format!(
        "{verb} {} payloads for CA '{}'",
        add.len() + remove.len(),
        args.handle
    ));
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    let result = match remote {
        Some(r) => r
            .roa_batch(&args.handle, &add, &remove, args.dry_run)
            .map(|o| ((o.added, o.removed, o.unchanged), o.warnings)),
        None => local_batch(env, &args.handle, (&add, &remove), args.dry_run)
            .map(|o| ((o.added, o.removed, o.unchanged), o.warnings)),
    };
    progress.finish_and_clear();
    let ((added, removed, unchanged), warnings) = result.map_err(|e| {
        // Name the line of a payload the CA refuses.
        let text = format!("{e:#}");
        // The engine names the prefix it refuses ("prefix P is not
        // within..."), followed by a space: no prefix is taken for a
        // longer one.
        let named = |p: &RoaPayload| text.contains(&format!("prefix {} ", p.prefix));
        match first_line.iter().find(|(p, _)| named(p)) {
            Some((_, n)) => e.context(format!("{}: line {n}", args.file.display())),
            None => e,
        }
    })?;
    print_warnings(&warnings);
    let twice = lines.len() - add.len();
    let duplicates = if twice > 0 {
        format!(" ({twice} lines repeated a payload)")
    } else {
        String::new()
    };
    if args.dry_run {
        println!(
            "would add {added}, remove {removed}, leave {unchanged} unchanged in CA '{}'{duplicates}; nothing changed (dry run)",
            args.handle
        );
    } else {
        println!(
            "added {added}, removed {removed}, {unchanged} already present in CA '{}'{duplicates}; published",
            args.handle
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_csv_shapes_are_read_and_a_bad_line_is_named() {
        let rpki_client = "ASN,IP Prefix,Max Length,Trust Anchor,Expires\nAS64500,192.0.2.0/24,24,ta,1767225600\n";
        let read = read_roa_csv(rpki_client).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, 2);
        let plain = "\u{feff}# imported\r\n64500,192.0.2.0/24\r\n\r\n\"AS64501\", \"2001:db8::/32\", 48\r\n";
        let read = read_roa_csv(plain).unwrap();
        assert_eq!(read.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(read[1].1.max_length, 48);
        let bad = "64500,192.0.2.0/24\n64500,192.0.2.1/24\n";
        let err = read_roa_csv(bad).unwrap_err();
        assert!(err.starts_with("line 2: "), "{err}");
        let err = read_roa_csv("64500,192.0.2.0/24,16\n").unwrap_err();
        assert!(err.starts_with("line 1: "), "{err}");
        assert!(
            read_roa_csv("64500\n")
                .unwrap_err()
                .contains("expected ASN,prefix")
        );
    }
}
