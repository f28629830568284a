//! `anchorage demo`: build, publish and validate a small RIR hierarchy.

use std::path::PathBuf;

use anyhow::Context;

/// The options of `anchorage demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Keep the data directory here instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// Runs `anchorage demo` and prints its summary.
pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let summary = anchorage_tools::demo::run(args.keep.as_deref()).context("demo failed")?;
    print!("{summary}");
    Ok(())
}
