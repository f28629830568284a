//! `anchorage ta ...`: the trust anchor's own key rollover (RFC 9691),
//! on the data directory (the trust anchor is not reachable through the
//! admin API).

use anchorage::audit::Actor;
use anchorage::format::Format;
use clap::Subcommand;

use super::{Env, json};

/// `anchorage ta ...`
#[derive(Subcommand, Debug)]
pub enum TaCommand {
    /// Roll the trust anchor's key (RFC 9691): start (a new key and
    /// certificate announced by TAK objects, its TAL written for
    /// distribution), activate after the staging period (the TA's children
    /// certified by the new key; `ta.tal` becomes the new key's), retire
    /// the old key once relying parties use the new TAL, cancel a start,
    /// or show the keys and the next step. Every step is taken by hand.
    #[command(group(clap::ArgGroup::new("step").required(true).args(["start", "activate", "cancel", "retire", "status"])))]
    Keyroll {
        /// Start a rollover: a new key, its certificate and TAL.
        #[arg(long)]
        start: bool,
        /// Activate the new key (after its staging period).
        #[arg(long)]
        activate: bool,
        /// Cancel the rollover in its staging period: the new key's
        /// certificate withdrawn, the key destroyed.
        #[arg(long)]
        cancel: bool,
        /// Retire the old key after an activation: its certificate and
        /// files withdrawn, the key destroyed.
        #[arg(long)]
        retire: bool,
        /// Show every key, its state and the next step.
        #[arg(long)]
        status: bool,
        /// With --start: the staging period in hours (default: 720, the
        /// 30-day acceptance timer of RFC 9691).
        #[arg(long, requires = "start")]
        staging_hours: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Runs an `anchorage ta` command.
pub fn run(env: &Env, cmd: TaCommand) -> anyhow::Result<()> {
    let TaCommand::Keyroll {
        start,
        activate,
        cancel,
        retire,
        staging_hours,
        format,
        ..
    } = cmd;
    let mut a = env.open()?;
    let actor = Actor::operator();
    let dir = env.data_dir()?;
    let (status, done) = if start {
        let staging = staging_hours.map(|h| chrono::TimeDelta::hours(h.into()));
        let status = a.ta_keyroll_start(&actor, staging)?.0;
        let tal = dir.next_tal();
        (
            status,
            Some(format!(
                "started a rollover of the trust anchor's key; its TAL, to distribute to relying parties: {}",
                tal.display()
            )),
        )
    } else if activate {
        let status = a.ta_keyroll_activate(&actor)?.0;
        (
            status,
            Some(format!(
                "activated the trust anchor's new key; {} is its TAL now",
                dir.tal().display()
            )),
        )
    } else if cancel {
        let status = a.ta_keyroll_cancel(&actor)?.0;
        (
            status,
            Some("cancelled the rollover of the trust anchor's key".to_string()),
        )
    } else if retire {
        let status = a.ta_keyroll_retire(&actor)?.0;
        (
            status,
            Some("retired the trust anchor's old key".to_string()),
        )
    } else {
        (a.ta_keyroll_status()?, None)
    };
    if format == Format::Json {
        return json(&status);
    }
    if let Some(done) = done {
        println!("{done}");
    }
    super::ca::print_keys(&status);
    Ok(())
}
