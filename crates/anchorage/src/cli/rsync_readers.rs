//! `anchorage rsync-readers`: for an rsync daemon that serves the data
//! directory's tree from out of the publishing process's view (another
//! container or PID namespace, another machine sharing the directory),
//! reports which trees it is inside, so that no tree a client reads is
//! rewritten or removed under it.

use super::Env;

/// The options of `anchorage rsync-readers`.
#[derive(clap::Args, Debug)]
pub struct RsyncReadersArgs {
    /// The name the report goes under, one per daemon:
    /// DIR/rsync/readers/NAME.
    #[arg(long)]
    name: String,
}

/// Runs `anchorage rsync-readers` until SIGTERM or SIGINT, then withdraws
/// the report.
pub fn run(env: &Env, args: RsyncReadersArgs) -> anyhow::Result<()> {
    let name = args.name;
    // The name is a file name in DIR/rsync/readers, where names with a
    // leading dot are a report being written.
    if name.is_empty() || name.starts_with('.') || name.contains('/') || name.contains('\0') {
        anyhow::bail!(
            "--name '{name}': a file name without '/' that does not start with '.' is needed"
        );
    }
    let rsync = env.data_dir()?.rsync();
    if !rsync.is_dir() {
        anyhow::bail!(
            "{} does not exist: is --data-dir the data directory of an initialised Anchorage?",
            rsync.display()
        );
    }
    let tree = anchorage_publication::RsyncTree::new(&rsync);
    // The first report is written before the command runs on, so that a
    // failure (no permission) ends it at once.
    tree.report_readers(&name).map_err(|e| {
        anyhow::anyhow!(
            "cannot report the rsync trees in use into {}: {e}",
            rsync.display()
        )
    })?;
    println!("reporting the rsync trees in use as {name}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let reporting = tokio::spawn(anchorage::serve::report_readers(tree, name, stop_rx));
        super::serve::shutdown_signal().await;
        let _ = stop_tx.send(true);
        reporting.await
    })?;
    Ok(())
}
