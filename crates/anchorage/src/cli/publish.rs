//! `anchorage publish`: activate key rollovers whose staging period has
//! passed, reissue whatever is due and write the rsync tree.

use anchorage::audit::Actor;
use anchorage::format::Format;

use super::{Env, json};

/// The options of `anchorage publish`.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `anchorage publish` and prints its report.
pub fn run(env: &Env, args: PublishArgs) -> anyhow::Result<()> {
    let mut a = env.open()?;
    // Key rollovers whose staging period has passed are activated first
    // (each writes its tree); a failure there is reported, and the
    // publication that keeps objects fresh still runs.
    let keyrolls = a.run_due_keyrolls(&Actor::operator());
    let report = a.publish(&Actor::operator())?;
    anchorage::peers_cli::warn_if_not_pushed(&mut a);
    if args.format == Format::Json {
        json(&report)?;
    } else {
        println!(
            "published: {} publication points refreshed, {} objects reissued, {} files ({} written)",
            report.refreshed_points, report.reissued_objects, report.files, report.written
        );
    }
    keyrolls
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("published, but the key rollover stages failed: {e}"))
}
