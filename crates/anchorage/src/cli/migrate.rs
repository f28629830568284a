//! `anchorage migrate`: move a data directory's SQLite store into PostgreSQL.

use std::path::PathBuf;

use anchorage::datadir::DataDir;

use super::Env;

/// The arguments of `anchorage migrate`.
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// The data directory whose SQLite store moves (default: --data-dir).
    #[arg(long, value_name = "DIR")]
    from: Option<PathBuf>,
    /// The empty PostgreSQL database it moves into (postgres://USER@HOST/DB).
    #[arg(long, value_name = "URL")]
    to: String,
}

/// Copies the store, records the database in DIR/database.url, and
/// prints what was copied.
pub fn run(env: &Env, args: MigrateArgs) -> anyhow::Result<()> {
    let dir = match args.from {
        Some(from) => DataDir::new(from),
        None => env.data_dir()?,
    };
    let report = anchorage::migrate::migrate_store(&dir, &args.to)?;
    let target = anchorage_store::masked(&args.to);
    for (table, rows) in &report.rows {
        println!("{table:<20} {rows:>9} rows");
    }
    println!(
        "{} now keeps its store in {target}; the SQLite store is kept, marked as moved, \
         and no longer opens",
        dir.root().display(),
    );
    Ok(())
}
