//! `anchorage serve`: RRDP over HTTP(S), rsyncd, RTR, the admin API and the reissue scheduler.

use std::path::PathBuf;

use super::Env;

/// The options of `anchorage serve`; they override the configuration file.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
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
    /// The highest RTR version offered: 2 (draft-ietf-sidrops-8210bis, with
    /// ASPA), 1 (RFC 8210) or 0 (RFC 6810) [default: 1].
    #[arg(long, value_name = "N")]
    rtr_max_version: Option<u8>,
    /// Address and port of the admin API, over TLS [default: none, no API].
    #[arg(long, value_name = "ADDR:PORT")]
    api_listen: Option<std::net::SocketAddr>,
}

/// Runs `anchorage serve` until SIGTERM or SIGINT.
pub fn run(env: &Env, args: ServeArgs) -> anyhow::Result<()> {
    let mut dir = env.data_dir()?;
    let config = match &args.config {
        Some(path) => anchorage::config::Config::load(path)?,
        None => anchorage::config::Config::default(),
    };
    if !env.has_database() && config.database.is_some() {
        dir = dir.with_database(config.database.clone());
    }
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
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub(crate) async fn shutdown_signal() {
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
