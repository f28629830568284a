//! `anchorage status`: the data directory's health in one screen, for an
//! operator or a monitoring check (exit status 1 when something needs an
//! operator).

use anchorage::format::Format;
use anchorage::report::Status;

use super::{Env, json};

/// The options of `anchorage status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `anchorage status`: prints the report, and fails when it names
/// problems.
pub fn run(env: &Env, args: StatusArgs) -> anyhow::Result<()> {
    let status = env.open()?.status()?;
    if args.format == Format::Json {
        json(&status)?;
    } else {
        print!("{}", text(&status));
    }
    match status.problems.len() {
        0 => Ok(()),
        1 => anyhow::bail!("1 problem needs an operator"),
        n => anyhow::bail!("{n} problems need an operator"),
    }
}

/// The report for people.
fn text(s: &Status) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: String| out.push_str(&format!("{name:<17}{value}\n"));
    line("data directory", s.data_dir.clone());
    line(
        "store",
        format!(
            "{} (schema {})",
            s.store,
            s.schema_version.as_deref().unwrap_or("?")
        ),
    );
    line(
        "serve",
        if s.serve_running {
            "running on this machine"
        } else {
            "not running on this machine"
        }
        .into(),
    );
    line(
        "CAs",
        format!("{}, with {} ROA payloads", s.cas, s.roa_payloads),
    );
    let files: u64 = s.objects.values().sum();
    let kinds: Vec<String> = s.objects.iter().map(|(k, n)| format!("{k} {n}")).collect();
    line("objects", format!("{files} files: {}", kinds.join(", ")));
    line(
        "last publication",
        format!(
            "{}{}",
            s.last_publication.as_deref().unwrap_or("never"),
            if s.tree_behind {
                " (changes since are being published)"
            } else {
                ""
            }
        ),
    );
    line(
        "rsync trees",
        format!(
            "{} on disk, {} waiting for removal; {}",
            s.rsync_trees,
            s.rsync_trash,
            if s.rsync_readers_seen {
                "their readers are seen"
            } else {
                "their readers cannot be seen from here: superseded trees stay 5 minutes"
            }
        ),
    );
    line(
        "RRDP",
        s.rrdp_serial
            .as_ref()
            .map_or("no snapshot yet".into(), |(session, serial)| {
                format!("serial {serial}, session {session}")
            }),
    );
    line(
        "next reissue",
        s.next_due.clone().unwrap_or_else(|| "nothing due".into()),
    );
    line(
        "overdue",
        format!(
            "{} objects past their planned reissue, {} expired",
            s.overdue_count, s.expired_count
        ),
    );
    match &s.self_validation {
        None => line(
            "self-validation",
            "none recorded (serve runs it with --rtr-listen)".into(),
        ),
        Some(v) => {
            line(
                "self-validation",
                format!(
                    "{} by {}: {} VRPs from {} points, {} objects rejected",
                    v.finished, v.instance, v.vrps_validated, v.points, v.rejected_count
                ),
            );
            line(
                "",
                match &v.compared {
                    None => "not compared with the configuration yet".into(),
                    Some(at) => format!(
                        "compared {at}: {} configured VRPs, {} missing, {} from other CAs; \
                         {} ASPAs, {} missing; {} router keys, {} missing",
                        v.vrps_configured,
                        v.missing_count,
                        v.not_configured,
                        v.aspas_configured,
                        v.aspas_missing_count,
                        v.router_keys_configured,
                        v.router_keys_missing_count
                    ),
                },
            );
        }
    }
    if s.problems.is_empty() {
        line("health", "ok".into());
    } else {
        line("health", format!("{} problems", s.problems.len()));
        for p in &s.problems {
            line("", format!("- {p}"));
        }
    }
    out
}
