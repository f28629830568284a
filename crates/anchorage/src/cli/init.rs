//! `anchorage init`: create the data directory's database, trust anchor, TAL and online CA.

use anchorage::audit::Actor;
use anchorage::ops::{Anchorage, DEFAULT_ONLINE_HANDLE, InitOptions};
use anchorage_ca_core::ResourceSet;

use super::Env;

/// The options of `anchorage init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
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
}

/// Runs `anchorage init`: initialises, then prints the paths and the admin token.
pub fn run(env: &Env, args: InitArgs) -> anyhow::Result<()> {
    let dir = env.data_dir()?;
    let (mut a, _) = Anchorage::init(
        &Actor::operator(),
        dir.clone(),
        &InitOptions {
            rsync_uri: args.rsync_uri,
            rrdp_uri: args.rrdp_uri,
            ta_resources: args.ta_resources,
            online_handle: args.online_handle,
            next_update_hours: args.next_update_hours,
            reissue_before_hours: args.reissue_before_hours,
            jitter_minutes: args.reissue_jitter_minutes,
        },
        env.clock(),
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
    let token = a.create_token(
        &Actor::operator(),
        anchorage::tokens::Role::Admin,
        &[],
        "created by init",
    )?;
    println!(
        "admin API token (shown once, keep it safe): {}",
        token.token
    );
    Ok(())
}
