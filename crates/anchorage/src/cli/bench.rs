//! `anchorage bench`: measure issuance and publication, and the RTR cache it runs.

use std::path::PathBuf;

use anyhow::Context;

/// The options of `anchorage bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// How big a repository to build.
    #[arg(long, value_enum, default_value_t = anchorage_tools::bench::Scale::Small)]
    scale: anchorage_tools::bench::Scale,
    /// Also write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Build the repository here (and keep it) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Where the validation repository is built once and reused.
    #[arg(long, value_name = "DIR", default_value_os_t = std::env::temp_dir().join("anchorage-bench-fixture"))]
    fixture_dir: PathBuf,
    /// Run only these parts (repeatable) [default: all].
    #[arg(long, value_enum, value_name = "PART")]
    only: Vec<anchorage_tools::bench::Part>,
    /// ROA changes in the burst [default: 100 small, 1,000 rir].
    #[arg(long, value_name = "N")]
    burst: Option<usize>,
    /// Build the scale repository for at most this many minutes, then
    /// measure what exists (the next run goes on building).
    #[arg(long, value_name = "MINUTES")]
    build_minutes: Option<f64>,
    /// CAs of the scale repository [default: 200 small, 50,000 rir], so
    /// the growth of each scale figure can be measured at small N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65_536))]
    cas: Option<u32>,
}

/// Runs `anchorage bench`: prints the report's table, writes its JSON if asked.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let budget = args
        .build_minutes
        .map(|m| std::time::Duration::from_secs_f64(m.max(0.0) * 60.0));
    let report = anchorage_tools::bench::run(
        args.scale,
        args.keep.as_deref(),
        &args.fixture_dir,
        &args.only,
        args.burst,
        budget,
        args.cas.map(|n| n as usize),
    )?;
    print!("{}", anchorage_tools::bench::table(&report));
    if let Some(path) = args.output {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The options of the hidden `anchorage rtr-bench-cache`.
#[derive(clap::Args, Debug)]
pub struct RtrBenchCacheArgs {
    /// How many VRPs.
    #[arg(long)]
    vrps: usize,
}

/// Runs `anchorage rtr-bench-cache`: the RTR cache side of `bench`.
pub fn rtr_bench_cache(args: RtrBenchCacheArgs) -> anyhow::Result<()> {
    anchorage_tools::bench::rtr_cache_main(args.vrps)
}

/// The options of the hidden `anchorage hsm-bench-sign`.
#[derive(clap::Args, Debug)]
pub struct HsmBenchSignArgs {
    /// How many signatures.
    #[arg(long)]
    count: usize,
}

/// Runs `anchorage hsm-bench-sign`: the PKCS#11 side of `bench`, in a
/// process whose environment names the token.
pub fn hsm_bench_sign(args: HsmBenchSignArgs) -> anyhow::Result<()> {
    anchorage_tools::bench::hsm_sign_main(args.count)
}

/// The options of `anchorage soak`.
#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// How long to run, in minutes.
    #[arg(long, default_value_t = 60.0)]
    minutes: f64,
    /// Kill serve with SIGKILL every this many seconds (0: never).
    #[arg(long, default_value_t = 300)]
    kill_every: u64,
    /// API clients, one CA each.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// ROA changes per second, all clients together.
    #[arg(long, default_value_t = 4.0)]
    rate: f64,
    /// RTR sessions held open.
    #[arg(long, default_value_t = 4)]
    routers: usize,
    /// Where to make the data directory.
    #[arg(long, value_name = "DIR", default_value_os_t = std::env::temp_dir().join("anchorage-soak"))]
    work: PathBuf,
    /// Also write the report as JSON here.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Runs `anchorage soak`: prints its figures; fails if an acknowledged
/// change was lost.
pub fn soak(args: SoakArgs) -> anyhow::Result<()> {
    let opts = anchorage_tools::soak::SoakOptions {
        duration: std::time::Duration::from_secs_f64(args.minutes.max(0.1) * 60.0),
        kill_every: (args.kill_every > 0).then(|| std::time::Duration::from_secs(args.kill_every)),
        clients: args.clients.max(1),
        rate: args.rate,
        routers: args.routers,
        work: args.work,
    };
    let report = anchorage_tools::soak::run(&opts)?;
    println!("{:<50} {:>12} {:<10} target", "figure", "value", "unit");
    for f in &report.figures {
        println!(
            "{:<50} {:>12.2} {:<10} {}",
            f.name, f.value, f.unit, f.target
        );
    }
    if let Some(path) = args.output {
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    anyhow::ensure!(
        report.lost == 0,
        "{} acknowledged changes were lost",
        report.lost
    );
    Ok(())
}
