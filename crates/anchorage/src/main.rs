//! The `anchorage` command line.
#![forbid(unsafe_code)]

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Anchorage: a hosted-mode RPKI certificate authority.
#[derive(Parser, Debug)]
#[command(name = "anchorage", version, about)]
struct Cli {
    /// The data directory (database, keys, rsync tree, TAL).
    #[arg(long, global = true, env = "ANCHORAGE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// The store: a PostgreSQL connection string (`postgres://USER@HOST/DB`
    /// or `host=… dbname=…`) instead of the SQLite file in the data
    /// directory. `init` records it in DIR/database.url for later commands.
    #[arg(
        long,
        global = true,
        env = "ANCHORAGE_DATABASE",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,

    /// Pretend the current time is this RFC 3339 time (for rehearsing
    /// reissue schedules on a copy of a data dir; never in production).
    #[arg(long, global = true, hide = true, value_name = "TIME")]
    now: Option<chrono::DateTime<chrono::Utc>>,

    /// Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG).
    #[arg(long, global = true, default_value = "warn", env = "RUST_LOG")]
    log: String,

    /// Log lines as text, or as JSON objects one per line (timestamp,
    /// level, target, fields) for a log collector.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = LogFormat::Text,
        env = "ANCHORAGE_LOG_FORMAT"
    )]
    log_format: LogFormat,

    /// Run `ca` and `roa` commands against this `serve` admin API
    /// (https://HOST:PORT) instead of a local data directory.
    #[arg(long, global = true, env = "ANCHORAGE_SERVER", value_name = "URL")]
    server: Option<String>,

    /// The API token for --server.
    #[arg(
        long,
        global = true,
        env = "ANCHORAGE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,

    /// Also trust this PEM certificate for --server (e.g. DIR/tls/api.crt).
    #[arg(long, global = true, env = "ANCHORAGE_SERVER_CA", value_name = "PEM")]
    server_ca: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

/// How log lines are written to standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The `anchorage` subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Create the database, trust anchor, TAL and online CA.
    Init(cli::init::InitArgs),
    /// Manage CAs.
    #[command(subcommand)]
    Ca(cli::ca::CaCommand),
    /// Manage ROAs.
    #[command(subcommand)]
    Roa(cli::roa::RoaCommand),
    /// Manage ASPAs (draft-ietf-sidrops-aspa-profile): one per customer AS.
    #[command(subcommand)]
    Aspa(cli::aspa::AspaCommand),
    /// BGPsec router certificates (RFC 8209): certify router keys of a CA.
    #[command(subcommand)]
    RouterCert(cli::router_cert::RouterCertCommand),
    /// The trust anchor's key rollover (RFC 9691).
    #[command(subcommand)]
    Ta(cli::ta::TaCommand),
    /// Manage admin API tokens (locally, on the data directory).
    #[command(subcommand)]
    Token(cli::token::TokenCommand),
    /// The keys inventory, and encrypting software keys at rest.
    #[command(subcommand)]
    Keys(cli::keys::KeysCommand),
    /// BGP announcements for the admin API's RFC 9319 checks.
    #[command(subcommand)]
    Bgp(cli::bgp::BgpCommand),
    /// Delegated child CAs that run their own CA software (RFC 8183, RFC 6492).
    #[command(subcommand)]
    Child(anchorage::peers_cli::ChildCommand),
    /// Publishers of the RFC 8181 publication server (RFC 8183, RFC 8181).
    #[command(subcommand)]
    Publisher(anchorage::peers_cli::PublisherCommand),
    /// Remote parents of local CAs (this instance as RFC 6492 child).
    #[command(subcommand)]
    Parent(anchorage::peers_cli::ParentCommand),
    /// The remote RFC 8181 repository this instance publishes at.
    #[command(subcommand)]
    Repository(anchorage::peers_cli::RepositoryCommand),
    /// Move a data directory's SQLite store into an empty PostgreSQL
    /// database, unchanged; later commands and serve use PostgreSQL.
    Migrate(cli::migrate::MigrateArgs),
    /// Reissue whatever is due and write the rsync tree.
    Publish(cli::publish::PublishArgs),
    /// Write the data directory's state to one file, while it runs.
    Backup(cli::backup::BackupArgs),
    /// Make a new data directory (--data-dir) from a backup file and
    /// publish it, never reusing a manifest, CRL or RRDP number.
    Restore(cli::backup::RestoreArgs),
    /// The data directory's health: publication, overdue and expired
    /// objects, serve's last self-validation; exit status 1 on a problem.
    Status(cli::status::StatusArgs),
    /// Run the service: RRDP over HTTP(S), rsyncd, and the reissue scheduler.
    Serve(cli::serve::ServeArgs),
    /// Beside an rsync daemon that serves DIR/rsync/current out of the
    /// publishing process's view (another container or PID namespace,
    /// another machine): report which trees it is inside, until stopped.
    RsyncReaders(cli::rsync_readers::RsyncReadersArgs),
    /// Fetch and validate a repository from its TAL, as a relying party does.
    Validate(cli::validate::ValidateArgs),
    /// Measure issuance and publication against the cryptographic limit.
    Bench(cli::bench::BenchArgs),
    /// Run serve under steady load (API, RTR, RRDP, rsync) with periodic
    /// SIGKILL, and report descriptors, memory, latency and lost changes.
    Soak(cli::bench::SoakArgs),
    /// The RTR cache side of `bench` (serves synthetic VRPs; internal).
    #[command(hide = true)]
    RtrBenchCache(cli::bench::RtrBenchCacheArgs),
    /// The PKCS#11 signing side of `bench` (internal).
    #[command(hide = true)]
    HsmBenchSign(cli::bench::HsmBenchSignArgs),
    /// Build, publish and validate a small RIR hierarchy in a temporary directory.
    Demo(cli::demo::DemoArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages, one per command, into DIR (for packaging).
    #[command(hide = true)]
    Manpages {
        /// Where the pages go.
        dir: PathBuf,
    },
}

/// Parses the command line, sets up logging, runs the command; exit code 1 on error.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let json = cli.log_format == LogFormat::Json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if json => {
            tracing::error!(error = format!("{err:#}"), "command failed");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line: connects to `--server` if given, then
/// dispatches the command to its module.
fn run(cli: Cli) -> anyhow::Result<()> {
    let remote = cli::remote(
        cli.server.as_deref(),
        cli.token.as_deref(),
        cli.server_ca.as_deref(),
        matches!(
            cli.command,
            Command::Ca(_) | Command::Roa(_) | Command::Aspa(_)
        ),
    )?;
    let env = cli::Env::new(cli.data_dir, cli.database, cli.now);
    match cli.command {
        Command::Init(args) => cli::init::run(&env, args),
        Command::Ca(cmd) => cli::ca::run(&env, remote.as_ref(), cmd),
        Command::Roa(cmd) => cli::roa::run(&env, remote.as_ref(), cmd),
        Command::Aspa(cmd) => cli::aspa::run(&env, remote.as_ref(), cmd),
        Command::RouterCert(cmd) => cli::router_cert::run(&env, cmd),
        Command::Ta(cmd) => cli::ta::run(&env, cmd),
        Command::Token(cmd) => cli::token::run(&env, cmd),
        Command::Keys(cmd) => cli::keys::run(&env, cmd),
        Command::Migrate(args) => cli::migrate::run(&env, args),
        Command::Bgp(cmd) => cli::bgp::run(&env, cmd),
        Command::Child(cmd) => anchorage::peers_cli::child(&mut env.open()?, cmd),
        Command::Publisher(cmd) => anchorage::peers_cli::publisher(&mut env.open()?, cmd),
        Command::Parent(cmd) => anchorage::peers_cli::parent(&mut env.open()?, cmd),
        Command::Repository(cmd) => anchorage::peers_cli::repository(&mut env.open()?, cmd),
        Command::Publish(args) => cli::publish::run(&env, args),
        Command::Status(args) => cli::status::run(&env, args),
        Command::Backup(args) => cli::backup::backup(&env, args),
        Command::Restore(args) => cli::backup::restore(&env, args),
        Command::Serve(args) => cli::serve::run(&env, args),
        Command::RsyncReaders(args) => cli::rsync_readers::run(&env, args),
        Command::Validate(args) => cli::validate::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Soak(args) => cli::bench::soak(args),
        Command::RtrBenchCache(args) => cli::bench::rtr_bench_cache(args),
        Command::HsmBenchSign(args) => cli::bench::hsm_bench_sign(args),
        Command::Demo(args) => cli::demo::run(args),
        Command::Completions { shell } => cli::assets::completions(Cli::command(), shell),
        Command::Manpages { dir } => {
            let n = cli::assets::manpages(Cli::command(), &dir)?;
            println!("wrote {n} man pages to {}", dir.display());
            Ok(())
        }
    }
}
