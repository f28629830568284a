//! `anchorage keys ...`: the keys inventory, and sealing software keys at
//! rest.

use anchorage::format::Format;
use anchorage_keys::{Secret, atrest};
use anyhow::{Context, bail};
use clap::Subcommand;

use super::{Env, json};

/// `anchorage keys ...`
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Every key: its backend, state, the CA and role that use it, and
    /// when it was made.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Seal the software keys at rest with the secret the environment
    /// gives (ANCHORAGE_KEY_PASSPHRASE_FILE, ANCHORAGE_KEY_PASSPHRASE or
    /// ANCHORAGE_KEY_FILE), in place and crash-safely (run it again after
    /// an interruption). `serve` must be stopped; every command needs the
    /// same secret afterwards.
    Encrypt,
}

/// Runs an `anchorage keys` command.
pub fn run(env: &Env, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::List { format } => {
            let keys = env.open()?.key_inventory()?;
            if format == Format::Json {
                return json(&keys);
            }
            println!(
                "{:<42} {:<19} {:<10} {:<7} {:<14} {:<25} CREATED",
                "KEY", "BACKEND", "EXPORTABLE", "STATE", "CA", "ROLE"
            );
            for k in keys {
                println!(
                    "{:<42} {:<19} {:<10} {:<7} {:<14} {:<25} {}",
                    k.key_id,
                    k.backend,
                    if k.exportable { "yes" } else { "no" },
                    k.state,
                    k.ca.as_deref().unwrap_or("-"),
                    k.role,
                    k.created.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        KeysCommand::Encrypt => {
            let Some(secret) = Secret::from_env()? else {
                bail!(
                    "no secret to encrypt the keys with: set {} (a file holding the passphrase), {} or {} (a key file of at least 32 random bytes)",
                    atrest::ENV_PASSPHRASE_FILE,
                    atrest::ENV_PASSPHRASE,
                    atrest::ENV_KEY_FILE
                );
            };
            let dir = env.data_dir()?;
            anyhow::ensure!(
                dir.database().exists() || dir.database_url().exists(),
                "{} is not an Anchorage data directory",
                dir.root().display()
            );
            let Some(_serve) = dir.try_lock_serve()? else {
                bail!(
                    "`anchorage serve` runs on {}: stop it first, it would go on using the keys as they were",
                    dir.root().display()
                );
            };
            let _publishing = dir
                .lock_publication()
                .context("taking the publication lock")?;
            // Crash tests stop at `keys-encrypt-keyring` or
            // `keys-encrypt-sealed` (see anchorage::fault).
            let sealed = anchorage_keys::encrypt_dir(&dir.keys(), &secret, &mut |step| {
                anchorage::fault::point(&format!("keys-encrypt-{step}"))
            })?;
            println!(
                "sealed {sealed} key(s) in {}; every command now needs the same secret",
                dir.keys().display()
            );
            Ok(())
        }
    }
}
