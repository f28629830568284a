//! The `anchorage` subcommands, one module per command group, and what they share.

pub mod aspa;
pub mod assets;
pub mod backup;
pub mod bench;
pub mod bgp;
pub mod ca;
pub mod demo;
pub mod init;
pub mod keys;
pub mod migrate;
pub mod publish;
pub mod roa;
pub mod router_cert;
pub mod rsync_readers;
pub mod serve;
pub mod status;
pub mod ta;
pub mod token;
pub mod validate;

use std::path::{Path, PathBuf};

use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;
use anchorage::remote::Remote;
use anyhow::bail;

/// The data directory and clock a command line gives its command.
pub struct Env {
    /// `--data-dir` (or `ANCHORAGE_DATA_DIR`), if given.
    data_dir: Option<PathBuf>,
    /// `--database` (or `ANCHORAGE_DATABASE`), if given.
    database: Option<String>,
    /// The system clock, or the fixed time of `--now`.
    clock: Clock,
}

impl Env {
    /// The environment of `--data-dir`, `--database` and `--now`.
    pub fn new(
        data_dir: Option<PathBuf>,
        database: Option<String>,
        now: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Self {
        Env {
            data_dir,
            database,
            clock: clock(now),
        }
    }

    /// Whether `--database` was given.
    pub fn has_database(&self) -> bool {
        self.database.is_some()
    }

    /// The clock the engine runs on.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// The data directory, or an error if none was given.
    pub fn data_dir(&self) -> anyhow::Result<DataDir> {
        match &self.data_dir {
            Some(dir) => Ok(DataDir::new(dir).with_database(self.database.clone())),
            None => bail!("no data directory: give --data-dir DIR or set ANCHORAGE_DATA_DIR"),
        }
    }

    /// Opens the engine on the data directory, reaching peers over HTTP(S).
    pub fn open(&self) -> anyhow::Result<Anchorage> {
        let mut a = Anchorage::open(self.data_dir()?, self.clock)?;
        a.set_transport(anchorage::transport::http());
        Ok(a)
    }
}

/// The clock of the `--now` option: fixed at that time, else the system's.
pub fn clock(now: Option<chrono::DateTime<chrono::Utc>>) -> Clock {
    now.map(Clock::Fixed).unwrap_or_default()
}

/// The admin API client of `--server`, if given; `remote_ok` says whether
/// the command may run against a server (only `ca`, `roa` and `aspa` may).
pub fn remote(
    server: Option<&str>,
    token: Option<&str>,
    server_ca: Option<&Path>,
    remote_ok: bool,
) -> anyhow::Result<Option<Remote>> {
    let Some(server) = server else {
        return Ok(None);
    };
    if !remote_ok {
        bail!("--server: only the ca, roa and aspa commands run against a server");
    }
    let token =
        token.ok_or_else(|| anyhow::anyhow!("--server needs --token (or ANCHORAGE_TOKEN)"))?;
    Ok(Some(Remote::new(server, token, server_ca)?))
}

/// Prints a value as pretty JSON on standard output.
pub fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A warning as the CLI prints it: code, severity, message.
pub type Printed = (String, String, String);

/// Prints RFC 9319 warnings on standard error.
pub fn print_warnings(warnings: &[Printed]) {
    for (code, severity, message) in warnings {
        eprintln!("{severity} [{code}]: {message}");
    }
}
