//! The `anchorage` command line.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::{Anchorage, DEFAULT_ONLINE_HANDLE, InitOptions};
use anchorage_ca_core::roa::parse_asn;
use anchorage_ca_core::{IpPrefix, ResourceSet, RoaPayload};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};

/// Anchorage: a hosted-mode RPKI certificate authority.
#[derive(Parser, Debug)]
#[command(name = "anchorage", version, about)]
struct Cli {
    /// The data directory (database, keys, rsync tree, TAL).
    #[arg(long, global = true, env = "ANCHORAGE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Pretend the current time is this RFC 3339 time (for rehearsing
    /// reissue schedules on a copy of a data dir; never in production).
    #[arg(long, global = true, hide = true, value_name = "TIME")]
    now: Option<chrono::DateTime<chrono::Utc>>,

    /// Log filter, e.g. `info` or `anchorage=debug` (also RUST_LOG).
    #[arg(long, global = true, default_value = "warn", env = "RUST_LOG")]
    log: String,

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Create the database, trust anchor, TAL and online CA.
    Init {
        /// rsync://HOST/MODULE/ where the repository is served.
        #[arg(long)]
        rsync_uri: String,
        /// https://HOST/rrdp/ where RRDP will be served.
        #[arg(long)]
        rrdp_uri: String,
        /// Resources of the trust anchor.
        #[arg(long, default_value = "AS0-AS4294967295, 0.0.0.0/0, ::/0")]
        ta_resources: ResourceSet,
        /// Handle of the online CA under the trust anchor.
        #[arg(long, default_value = DEFAULT_ONLINE_HANDLE)]
        online_handle: String,
        /// Manifest and CRL nextUpdate, in hours.
        #[arg(long, default_value_t = 24)]
        next_update_hours: u32,
        /// Reissue manifests and CRLs when fewer hours than this remain.
        #[arg(long, default_value_t = 16)]
        reissue_before_hours: u32,
        /// Shorten each manifest/CRL nextUpdate by a random amount below
        /// this, so CAs created together do not fall due together.
        #[arg(long, default_value_t = 60)]
        reissue_jitter_minutes: u32,
    },
    /// Manage CAs.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Manage ROAs.
    #[command(subcommand)]
    Roa(RoaCommand),
    /// Manage admin API tokens (locally, on the data directory).
    #[command(subcommand)]
    Token(TokenCommand),
    /// BGP announcements for the admin API's RFC 9319 checks.
    #[command(subcommand)]
    Bgp(BgpCommand),
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
    /// Reissue whatever is due and write the rsync tree.
    Publish {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run the service: RRDP over HTTP(S), rsyncd, and the reissue scheduler.
    Serve(ServeArgs),
    /// Fetch and validate a repository from its TAL, as a relying party does.
    Validate {
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
        /// The local cache of fetched files.
        #[arg(long, value_name = "DIR", default_value = "anchorage-rp-cache")]
        cache: PathBuf,
        /// The rsync program (e.g. a wrapper adding --port).
        #[arg(long, value_name = "PATH", default_value = "rsync")]
        rsync_program: PathBuf,
    },
    /// Measure issuance and publication against the cryptographic limit.
    Bench {
        /// How big a repository to build.
        #[arg(long, value_enum, default_value_t = anchorage::bench::Scale::Small)]
        scale: anchorage::bench::Scale,
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
        only: Vec<anchorage::bench::Part>,
        /// ROA changes in the burst [default: 100 small, 1,000 rir].
        #[arg(long, value_name = "N")]
        burst: Option<usize>,
        /// Build the scale repository for at most this many minutes, then
        /// measure what exists (the next run goes on building).
        #[arg(long, value_name = "MINUTES")]
        build_minutes: Option<f64>,
    },
    /// The RTR cache side of `bench` (serves synthetic VRPs; internal).
    #[command(hide = true)]
    RtrBenchCache {
        /// How many VRPs.
        #[arg(long)]
        vrps: usize,
    },
    /// Build, publish and validate a small RIR hierarchy in a temporary directory.
    Demo {
        /// Keep the data directory here instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        keep: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Configuration file (TOML); command-line options override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port of the HTTP(S) server [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    http_listen: Option<std::net::SocketAddr>,
    /// Address and port of rsyncd [default: 0.0.0.0:873].
    #[arg(long, value_name = "ADDR:PORT")]
    rsync_listen: Option<std::net::SocketAddr>,
    /// TLS certificate chain (PEM); HTTPS when given with --tls-key.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The rsync program [default: rsync].
    #[arg(long, value_name = "PATH")]
    rsync_program: Option<PathBuf>,
    /// Address and port of the RTR cache [default: none, no RTR].
    #[arg(long, value_name = "ADDR:PORT")]
    rtr_listen: Option<std::net::SocketAddr>,
    /// The highest RTR version offered: 1 (RFC 8210) or 0 (RFC 6810) [default: 1].
    #[arg(long, value_name = "N")]
    rtr_max_version: Option<u8>,
    /// Address and port of the admin API, over TLS [default: none, no API].
    #[arg(long, value_name = "ADDR:PORT")]
    api_listen: Option<std::net::SocketAddr>,
}

#[derive(Subcommand, Debug)]
enum CaCommand {
    /// Create a hosted CA.
    Create {
        /// The new CA's handle.
        handle: String,
        /// Its resources; must be within the parent's.
        #[arg(long)]
        resources: ResourceSet,
        /// The parent CA (default: the online CA).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List CAs.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a CA.
    Show {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Delete a CA without children: revoke its certificate, withdraw its objects.
    Delete {
        /// The CA's handle.
        handle: String,
    },
    /// Change a CA's resources: its parent reissues its certificate.
    Update {
        /// The CA's handle.
        handle: String,
        /// The new resources; must be within the parent's and cover the
        /// CA's ROAs and children.
        #[arg(long)]
        resources: ResourceSet,
    },
}

#[derive(clap::Args, Debug)]
struct RoaArgs {
    /// The CA's handle.
    handle: String,
    /// Origin AS (64496 or AS64496).
    #[arg(long, value_parser = |s: &str| parse_asn(s))]
    asn: u32,
    /// The prefix, e.g. 192.0.2.0/24.
    #[arg(long)]
    prefix: IpPrefix,
    /// maxLength (default: the prefix length).
    #[arg(long)]
    max_length: Option<u8>,
}

impl RoaArgs {
    fn payload(&self) -> anyhow::Result<RoaPayload> {
        Ok(RoaPayload::new(self.asn, self.prefix, self.max_length)?)
    }
}

#[derive(Subcommand, Debug)]
enum BgpCommand {
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

/// What a token may do (`anchorage::tokens::Role` on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RoleArg {
    /// Everything, on every CA, tokens included.
    Admin,
    /// Read and change its CAs and their descendants.
    CaOperator,
    /// Read everything it is scoped to (all CAs when unscoped).
    ReadOnly,
}

impl From<RoleArg> for anchorage::tokens::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Self::Admin,
            RoleArg::CaOperator => Self::CaOperator,
            RoleArg::ReadOnly => Self::ReadOnly,
        }
    }
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a token; it is printed once and cannot be shown again.
    Create {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Limit it to this CA and its descendants (repeatable; required
        /// for ca-operator).
        #[arg(long = "ca", value_name = "HANDLE")]
        cas: Vec<String>,
        /// What the token is for.
        #[arg(long, default_value = "")]
        description: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// List tokens (never their secrets).
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Revoke a token by its id; it stops working at once.
    Revoke {
        /// The token id (the part after `anc_`).
        id: String,
    },
}

#[derive(Subcommand, Debug)]
enum RoaCommand {
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

/// VRP output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum VrpFormat {
    /// rpki-client's CSV: ASN,IP Prefix,Max Length,Trust Anchor,Expires.
    Csv,
    /// JSON: metadata, roas (rpki-client's fields) and rejected objects.
    Json,
}

use anchorage::format::Format;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(err) => {
            tracing::error!(%err, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A warning as the CLI prints it: code, severity, message.
type Printed = (String, String, String);

/// Prints RFC 9319 warnings on standard error.
fn print_warnings(warnings: &[Printed]) {
    for (code, severity, message) in warnings {
        eprintln!("{severity} [{code}]: {message}");
    }
}

/// A ROA batch on the local data directory, with the RFC 9319 warnings
/// (against the loaded BGP table too, if there is one).
fn local_roa_batch(
    a: &mut Anchorage,
    dir: &anchorage::datadir::DataDir,
    handle: &str,
    add: &[RoaPayload],
    remove: &[RoaPayload],
) -> anyhow::Result<(anchorage::ops::RoaChanges, Vec<Printed>)> {
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
    let outcome = a.roa_batch_analysed(handle, add, remove, opts)?;
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let clock = cli.now.map(Clock::Fixed).unwrap_or_default();
    let remote = match &cli.server {
        None => None,
        Some(server) => {
            if !matches!(cli.command, Command::Ca(_) | Command::Roa(_)) {
                anyhow::bail!("--server: only the ca and roa commands run against a server");
            }
            let token = cli
                .token
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("--server needs --token (or ANCHORAGE_TOKEN)"))?;
            Some(anchorage::remote::Remote::new(
                server,
                token,
                cli.server_ca.as_deref(),
            )?)
        }
    };
    let data_dir = || -> anyhow::Result<DataDir> {
        match &cli.data_dir {
            Some(dir) => Ok(DataDir::new(dir)),
            None => bail!("no data directory: give --data-dir DIR or set ANCHORAGE_DATA_DIR"),
        }
    };
    let open = || -> anyhow::Result<Anchorage> {
        let mut a = Anchorage::open(data_dir()?, clock)?;
        a.set_transport(anchorage::transport::http());
        Ok(a)
    };
    match cli.command {
        Command::Init {
            rsync_uri,
            rrdp_uri,
            ta_resources,
            online_handle,
            next_update_hours,
            reissue_before_hours,
            reissue_jitter_minutes,
        } => {
            let dir = data_dir()?;
            let a = Anchorage::init(
                dir.clone(),
                &InitOptions {
                    rsync_uri,
                    rrdp_uri,
                    ta_resources,
                    online_handle,
                    next_update_hours,
                    reissue_before_hours,
                    jitter_minutes: reissue_jitter_minutes,
                },
                clock,
            )?;
            println!(
                "initialised trust anchor and online CA '{}' in {}",
                a.online_handle(),
                dir.root().display()
            );
            println!("TAL: {}", dir.tal().display());
            println!("rsync tree: {}", dir.rsync().join("current").display());
            let (cert, _) = dir.ensure_api_tls()?;
            println!("admin API certificate (self-signed): {}", cert.display());
            let mut a = a;
            let token = a.create_token(anchorage::tokens::Role::Admin, &[], "created by init")?;
            println!(
                "admin API token (shown once, keep it safe): {}",
                token.token
            );
        }
        Command::Token(TokenCommand::Create {
            role,
            cas,
            description,
            format,
        }) => {
            let role = anchorage::tokens::Role::from(role);
            let token = open()?.create_token(role, &cas, &description)?;
            if format == Format::Json {
                return json(&token);
            }
            println!("{}", token.token);
            eprintln!(
                "token {} ({}{}) created; it is shown only now",
                token.info.id,
                role.as_str(),
                if cas.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", cas.join(", "))
                }
            );
        }
        Command::Token(TokenCommand::List { format }) => {
            let tokens = open()?.list_tokens()?;
            if format == Format::Json {
                return json(&tokens);
            }
            println!(
                "{:<18} {:<12} {:<24} {:<21} DESCRIPTION",
                "ID", "ROLE", "CAS", "REVOKED"
            );
            for t in tokens {
                println!(
                    "{:<18} {:<12} {:<24} {:<21} {}",
                    t.id,
                    t.role.as_str(),
                    if t.cas.is_empty() {
                        "*".to_string()
                    } else {
                        t.cas.join(",")
                    },
                    t.revoked.as_deref().unwrap_or("-"),
                    t.description
                );
            }
        }
        Command::Bgp(BgpCommand::Load { file, format }) => {
            let dir = data_dir()?;
            open()?; // a data directory, not any directory
            let table = anchorage::bgp::read(&file, format)?;
            let path = anchorage::bgp::store(&dir, &table)?;
            println!(
                "loaded {} announcements into {}",
                table.len(),
                path.display()
            );
        }
        Command::Child(cmd) => anchorage::peers_cli::child(&mut open()?, cmd)?,
        Command::Publisher(cmd) => anchorage::peers_cli::publisher(&mut open()?, cmd)?,
        Command::Parent(cmd) => anchorage::peers_cli::parent(&mut open()?, cmd)?,
        Command::Repository(cmd) => anchorage::peers_cli::repository(&mut open()?, cmd)?,
        Command::Token(TokenCommand::Revoke { id }) => {
            open()?.revoke_token(&id)?;
            println!("revoked token {id}");
        }
        Command::Ca(CaCommand::Create {
            handle,
            resources,
            parent,
        }) => {
            let (handle, parent, resources) = match &remote {
                Some(r) => {
                    let d = r.create_ca(&handle, &resources.to_string(), parent.as_deref())?;
                    (d.handle, d.parent, d.resources)
                }
                None => {
                    let ca = open()?.create_ca(&handle, resources, parent.as_deref())?;
                    (ca.handle, ca.parent, ca.resources.to_string())
                }
            };
            println!(
                "created CA '{handle}' under '{}' with {resources}",
                parent.as_deref().unwrap_or("-"),
            );
        }
        Command::Ca(CaCommand::Update { handle, resources }) => {
            let now = match &remote {
                Some(r) => r.update_ca(&handle, &resources.to_string())?.resources,
                None => open()?
                    .update_ca_resources(&handle, resources)?
                    .resources
                    .to_string(),
            };
            println!("CA '{handle}' now holds {now}; certificate reissued");
        }
        Command::Ca(CaCommand::List { format }) => {
            let cas = match &remote {
                Some(r) => r.list_cas()?,
                None => open()?.list_cas()?,
            };
            if format == Format::Json {
                return json(&cas);
            }
            println!("{:<20} {:<20} {:>6}  RESOURCES", "HANDLE", "PARENT", "ROAS");
            for ca in cas {
                println!(
                    "{:<20} {:<20} {:>6}  {}",
                    ca.handle,
                    ca.parent.as_deref().unwrap_or("-"),
                    ca.roa_payloads,
                    ca.resources
                );
            }
        }
        Command::Ca(CaCommand::Show { handle, format }) => {
            let d = match &remote {
                Some(r) => r.show_ca(&handle)?,
                None => open()?.show_ca(&handle)?,
            };
            if format == Format::Json {
                return json(&d);
            }
            println!("handle:               {}", d.handle);
            println!(
                "parent:               {}",
                d.parent.as_deref().unwrap_or("-")
            );
            println!("children:             {}", d.children.join(", "));
            println!("resources:            {}", d.resources);
            println!("key:                  {}", d.key_id);
            println!("certificate:          {}", d.cert_uri);
            println!("certificate serial:   {}", d.cert_serial);
            println!("certificate expires:  {}", d.cert_not_after);
            println!("repository:           {}", d.repository);
            println!(
                "manifest next update: {}",
                d.manifest_next_update.as_deref().unwrap_or("-")
            );
            println!("next manifest number: {}", d.next_manifest_number);
            println!("revoked certificates: {}", d.revoked);
            println!("objects:");
            for o in &d.objects {
                println!("  {}  ({} bytes, until {})", o.uri, o.size, o.not_after);
            }
            println!("ROAs:");
            for r in &d.roas {
                println!("  AS{} {} max {}", r.asn, r.prefix, r.max_length);
            }
        }
        Command::Ca(CaCommand::Delete { handle }) => {
            match &remote {
                Some(r) => r.delete_ca(&handle)?,
                None => open()?.delete_ca(&handle)?,
            }
            println!("deleted CA '{handle}': certificate revoked, objects withdrawn");
        }
        Command::Roa(RoaCommand::Add(args)) => {
            let payload = args.payload()?;
            let (added, warnings) = match &remote {
                Some(r) => {
                    let o = r.roa_batch(&args.handle, &[payload], &[], false)?;
                    (o.added == 1, o.warnings)
                }
                None => {
                    let (c, w) =
                        local_roa_batch(&mut open()?, &data_dir()?, &args.handle, &[payload], &[])?;
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
        }
        Command::Roa(RoaCommand::Remove(args)) => {
            let payload = args.payload()?;
            let warnings = match &remote {
                Some(r) => r.roa_batch(&args.handle, &[], &[payload], false)?.warnings,
                None => {
                    local_roa_batch(&mut open()?, &data_dir()?, &args.handle, &[], &[payload])?.1
                }
            };
            print_warnings(&warnings);
            println!("removed {payload} from CA '{}'; published", args.handle);
        }
        Command::Roa(RoaCommand::List { handle, format }) => {
            let roas = match &remote {
                Some(r) => r.list_roas(&handle)?,
                None => open()?.list_roas(&handle)?,
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
        }
        Command::Publish { format } => {
            let report = open()?.publish()?;
            if format == Format::Json {
                return json(&report);
            }
            println!(
                "published: {} publication points refreshed, {} objects reissued, {} files ({} written)",
                report.refreshed_points, report.reissued_objects, report.files, report.written
            );
        }
        Command::Serve(args) => {
            let dir = data_dir()?;
            let config = match &args.config {
                Some(path) => anchorage::config::Config::load(path)?,
                None => anchorage::config::Config::default(),
            };
            let opts = config.serve_options(anchorage::config::Overrides {
                http_listen: args.http_listen,
                rsync_listen: args.rsync_listen,
                tls: args.tls_cert.zip(args.tls_key),
                rsync_program: args.rsync_program,
                rtr_listen: args.rtr_listen,
                rtr_max_version: args.rtr_max_version,
                api_listen: args.api_listen,
            })?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(anchorage::serve::run(dir, opts, shutdown_signal()))?;
        }
        Command::Validate {
            tal,
            rsync_only,
            no_fetch,
            ca_cert,
            format,
            output,
            cache,
            rsync_program,
        } => {
            use anchorage_validator::fetch::{Fetcher, RsyncFetcher};
            let rsync = RsyncFetcher::new(&cache, &rsync_program);
            let mut fetcher = if no_fetch {
                Fetcher::rsync_only(RsyncFetcher::offline(&cache))
            } else if rsync_only {
                Fetcher::rsync_only(rsync)
            } else {
                let pem = match &ca_cert {
                    Some(path) => std::fs::read(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                    None => Vec::new(),
                };
                let rrdp = anchorage_validator::rrdp::RrdpFetcher::new(&cache, &pem)?;
                Fetcher::with_rrdp(rsync, rrdp)
            };
            let v = anchorage_validator::validate(&tal, &mut fetcher, true)?;
            let text = match format {
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
                            "vrps": v.vrps.len(),
                            "rejected": v.rejected.len(),
                            "fetch": v.fetch,
                        },
                        "roas": v.vrps,
                        "rejected": v.rejected,
                    }))? + "\n"
                }
            };
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            for r in &v.rejected {
                eprintln!("rejected {}: {}", r.uri, r.reason);
            }
            let f = v.fetch;
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
                "validated {} CAs, {} manifests, {} ROAs: {} VRPs, {} rejected",
                v.cas,
                v.manifests,
                v.roas,
                v.vrps.len(),
                v.rejected.len()
            );
        }
        Command::Bench {
            scale,
            output,
            keep,
            fixture_dir,
            only,
            burst,
            build_minutes,
        } => {
            let budget =
                build_minutes.map(|m| std::time::Duration::from_secs_f64(m.max(0.0) * 60.0));
            let report =
                anchorage::bench::run(scale, keep.as_deref(), &fixture_dir, &only, burst, budget)?;
            print!("{}", anchorage::bench::table(&report));
            if let Some(path) = output {
                std::fs::write(&path, serde_json::to_string_pretty(&report)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::RtrBenchCache { vrps } => anchorage::bench::rtr_cache_main(vrps)?,
        Command::Demo { keep } => {
            let summary = anchorage::demo::run(keep.as_deref()).context("demo failed")?;
            print!("{summary}");
        }
    }
    Ok(())
}
