//! `anchorage backup` and `anchorage restore`: a data directory's state in
//! one file, taken while it runs, and a new data directory made from it
//! (see [`anchorage::ops::backup`] for what the file holds and why a
//! restore never reuses a manifest, CRL or RRDP number).

use std::path::PathBuf;

use anchorage::audit::Actor;
use anchorage::format::Format;
use anyhow::Context;

use super::{Env, json};

/// The options of `anchorage backup`.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (replaced atomically; mode 0600).
    #[arg(long, short)]
    output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// The options of `anchorage restore`.
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Runs `anchorage backup`.
pub fn backup(env: &Env, args: BackupArgs) -> anyhow::Result<()> {
    let report = env.open()?.backup(&args.output)?;
    if args.format == Format::Json {
        return json(&report);
    }
    let m = &report.manifest;
    println!(
        "backed up {} (store {}, schema {}) as of {} to {} ({} bytes, {} files)",
        env.data_dir()?.root().display(),
        m.store,
        m.schema_version,
        m.created,
        report.file.display(),
        report.bytes,
        m.files.len() + 1
    );
    if !m.keys_in_token.is_empty() {
        eprintln!(
            "warning: {} keys are in the PKCS#11 token, not in the file: back up the token as its vendor documents",
            m.keys_in_token.len()
        );
    }
    Ok(())
}

/// Runs `anchorage restore`: makes the data directory, then publishes it.
pub fn restore(env: &Env, args: RestoreArgs) -> anyhow::Result<()> {
    let dir = env.data_dir()?;
    anyhow::ensure!(
        !env.has_database(),
        "a restore makes a SQLite data directory; move it into PostgreSQL with `anchorage migrate` afterwards"
    );
    let report = anchorage::ops::backup::restore(&args.file, dir.root(), env.clock())?;
    if !report.keys_in_token.is_empty() {
        eprintln!(
            "warning: {} keys are in a PKCS#11 token: configure it (ANCHORAGE_PKCS11_MODULE) to sign with them",
            report.keys_in_token.len()
        );
    }
    // The first publication reissues every manifest and CRL above the
    // floor and starts a new RRDP session.
    let published = env
        .open()
        .and_then(|mut a| Ok(a.publish(&Actor::operator())?))
        .with_context(|| {
            format!(
                "restored into {}, but its first publication failed; run `anchorage publish` once fixed",
                dir.root().display()
            )
        })?;
    if args.format == Format::Json {
        return json(&serde_json::json!({ "restore": report, "publish": published }));
    }
    println!(
        "restored {} from the backup of {}; manifest and CRL numbers go on from {}; published {} files on a new RRDP session",
        dir.root().display(),
        report.backup_created,
        report.number_floor,
        published.files
    );
    Ok(())
}
