//! `anchorage token ...`: create, list and revoke admin API tokens on the data directory.

use anchorage::audit::Actor;
use anchorage::format::Format;
use anchorage::tokens::Role;
use clap::Subcommand;

use super::{Env, json};

/// What a token may do (`anchorage::tokens::Role` on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Everything, on every CA, tokens included.
    Admin,
    /// Read and change its CAs and their descendants.
    CaOperator,
    /// Read everything it is scoped to (all CAs when unscoped).
    ReadOnly,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Self::Admin,
            RoleArg::CaOperator => Self::CaOperator,
            RoleArg::ReadOnly => Self::ReadOnly,
        }
    }
}

/// `anchorage token ...`
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
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

/// Runs `anchorage token ...` on the data directory.
pub fn run(env: &Env, cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create {
            role,
            cas,
            description,
            format,
        } => create(env, role.into(), &cas, &description, format),
        TokenCommand::List { format } => list(env, format),
        TokenCommand::Revoke { id } => {
            env.open()?.revoke_token(&Actor::operator(), &id)?;
            println!("revoked token {id}");
            Ok(())
        }
    }
}

/// `anchorage token create`: the token on standard output, what it is on standard error.
fn create(
    env: &Env,
    role: Role,
    cas: &[String],
    description: &str,
    format: Format,
) -> anyhow::Result<()> {
    let token = env
        .open()?
        .create_token(&Actor::operator(), role, cas, description)?;
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
    Ok(())
}

/// `anchorage token list`.
fn list(env: &Env, format: Format) -> anyhow::Result<()> {
    let tokens = env.open()?.list_tokens()?;
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
    Ok(())
}
