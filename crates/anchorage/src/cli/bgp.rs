//! `anchorage bgp ...`: the BGP announcements the RFC 9319 checks compare ROAs with.

use std::path::PathBuf;

use clap::Subcommand;

use super::Env;

/// `anchorage bgp ...`
#[derive(Subcommand, Debug)]
pub enum BgpCommand {
    /// Load a table of announcements (CSV `prefix,origin-asn`, or an MRT
    /// RIB dump, raw or gzip) into the data directory, replacing the last.
    Load {
        /// The file.
        file: PathBuf,
        /// Its format [default: csv for *.csv, else mrt].
        #[arg(long, value_enum)]
        format: Option<anchorage::bgp::BgpFormat>,
    },
}

/// Runs `anchorage bgp ...` on the data directory.
pub fn run(env: &Env, cmd: BgpCommand) -> anyhow::Result<()> {
    match cmd {
        BgpCommand::Load { file, format } => {
            let dir = env.data_dir()?;
            env.open()?; // a data directory, not any directory
            let table = anchorage::bgp::read(&file, format)?;
            let path = anchorage::bgp::store(&dir, &table)?;
            println!(
                "loaded {} announcements and {} AS adjacencies into {}",
                table.len(),
                table.adjacencies(),
                path.display()
            );
        }
    }
    Ok(())
}
