//! `anchorage router-cert ...`: certify, list and revoke BGPsec router
//! keys (RFC 8209) of a CA, on the data directory.

use anchorage::audit::Actor;
use anchorage::format::Format;
use anchorage_ca_core::roa::parse_asn;
use anyhow::Context;
use clap::Subcommand;

use super::{Env, json};

/// `anchorage router-cert ...`
#[derive(Subcommand, Debug)]
pub enum RouterCertCommand {
    /// Certify a router's key for an AS the CA holds, from the router's
    /// PKCS#10 request (PEM or DER, an ECDSA P-256 key signed with it).
    Add {
        /// The CA's handle.
        handle: String,
        /// The AS the router speaks for (64496 or AS64496).
        #[arg(long, value_parser = |s: &str| parse_asn(s))]
        asn: u32,
        /// The certificate request file.
        #[arg(long, value_name = "FILE")]
        csr: std::path::PathBuf,
    },
    /// Revoke and withdraw a router certificate.
    Revoke {
        /// The CA's handle.
        handle: String,
        /// The AS it was certified for.
        #[arg(long, value_parser = |s: &str| parse_asn(s))]
        asn: u32,
        /// The router key's SKI (hex, as `router-cert list` shows it).
        #[arg(long)]
        ski: String,
    },
    /// List a CA's router certificates.
    List {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Runs `anchorage router-cert ...` on the data directory.
pub fn run(env: &Env, cmd: RouterCertCommand) -> anyhow::Result<()> {
    let mut a = env.open()?;
    match cmd {
        RouterCertCommand::Add { handle, asn, csr } => {
            let bytes =
                std::fs::read(&csr).with_context(|| format!("reading {}", csr.display()))?;
            let (info, events) = a.router_cert_add(&Actor::operator(), &handle, asn, &bytes)?;
            if events.is_empty() {
                println!(
                    "the key {} is already certified for AS{asn} in CA '{handle}' ({}); nothing changed",
                    info.ski, info.file
                );
            } else {
                anchorage::peers_cli::warn_if_not_pushed(&mut a);
                println!(
                    "certified the router key {} for AS{asn} in CA '{handle}': {}, valid until {}; published",
                    info.ski, info.file, info.not_after
                );
            }
        }
        RouterCertCommand::Revoke { handle, asn, ski } => {
            a.router_cert_revoke(&Actor::operator(), &handle, asn, &ski)?;
            anchorage::peers_cli::warn_if_not_pushed(&mut a);
            println!(
                "revoked the router certificate of AS{asn} key {} in CA '{handle}'; published",
                ski.to_ascii_uppercase()
            );
        }
        RouterCertCommand::List { handle, format } => {
            let list = a.router_certs(&handle)?;
            if format == Format::Json {
                return json(&list);
            }
            println!("{:<12} {:<42} NOT AFTER", "ASN", "SKI");
            for r in list {
                println!(
                    "{:<12} {:<42} {}",
                    format!("AS{}", r.asn),
                    r.ski,
                    r.not_after
                );
            }
        }
    }
    Ok(())
}
