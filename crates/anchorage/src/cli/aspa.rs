//! `anchorage aspa ...`: set, remove and list a CA's ASPAs
//! (draft-ietf-sidrops-aspa-profile), locally or against a `--server`.

use anchorage::audit::Actor;
use anchorage::format::Format;
use anchorage::ops::AspaRequest;
use anchorage::remote::Remote;
use anchorage_ca_core::AspaDefinition;
use anchorage_ca_core::roa::parse_asn;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Env, Printed, json, print_warnings};

/// `anchorage aspa ...`
#[derive(Subcommand, Debug)]
pub enum AspaCommand {
    /// Set the ASPA of a customer AS: its provider ASes, replacing any
    /// listed before (one ASPA per customer AS).
    Add {
        /// The CA's handle.
        handle: String,
        /// The customer AS (64496 or AS64496); the CA must hold it.
        #[arg(long, value_parser = |s: &str| parse_asn(s))]
        customer_as: u32,
        /// The provider ASes, e.g. "AS64500, AS64501"; "" for none (the
        /// ASPA then lists AS0: no transit provider).
        #[arg(long, allow_hyphen_values = true)]
        providers: String,
        /// Show what would change and the warnings; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove the ASPA of a customer AS.
    Remove {
        /// The CA's handle.
        handle: String,
        /// The customer AS.
        #[arg(long, value_parser = |s: &str| parse_asn(s))]
        customer_as: u32,
    },
    /// List a CA's ASPAs.
    List {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// What a batch did, as the CLI reports it.
struct Outcome {
    /// "added", "replaced", "removed" or "unchanged" counts.
    counts: [usize; 4],
    warnings: Vec<Printed>,
}

/// Runs `anchorage aspa ...`, against `remote` if given, else on the data directory.
pub fn run(env: &Env, remote: Option<&Remote>, cmd: AspaCommand) -> anyhow::Result<()> {
    match cmd {
        AspaCommand::Add {
            handle,
            customer_as,
            providers,
            dry_run,
        } => {
            let providers = AspaDefinition::parse_providers(&providers)?;
            let aspa = AspaDefinition::new(customer_as, &providers)?;
            let request = AspaRequest {
                customer: customer_as,
                providers,
            };
            let o = batch(env, remote, &handle, Some(request), None, dry_run)?;
            print_warnings(&o.warnings);
            let [added, replaced, _, _] = o.counts;
            let done = if dry_run { "would be" } else { "published" };
            if added > 0 {
                println!("added the ASPA {aspa} to CA '{handle}'; {done}");
            } else if replaced > 0 {
                println!(
                    "replaced the ASPA of AS{customer_as} in CA '{handle}' with {aspa}; {done}"
                );
            } else {
                println!("the ASPA {aspa} is already in CA '{handle}'; nothing changed");
            }
            Ok(())
        }
        AspaCommand::Remove {
            handle,
            customer_as,
        } => {
            let o = batch(env, remote, &handle, None, Some(customer_as), false)?;
            print_warnings(&o.warnings);
            println!("removed the ASPA of AS{customer_as} from CA '{handle}'; published");
            Ok(())
        }
        AspaCommand::List { handle, format } => {
            let aspas: Vec<AspaDefinition> = match remote {
                Some(r) => serde_json::from_value::<Vec<Spec>>(r.list_aspas(&handle)?)?
                    .into_iter()
                    .map(|s| AspaDefinition {
                        customer: s.customer_as,
                        providers: s.providers,
                    })
                    .collect(),
                None => env.open()?.list_aspas(&handle)?.0,
            };
            if format == Format::Json {
                let list: Vec<Value> = aspas
                    .iter()
                    .map(|a| json!({"customer_as": a.customer, "providers": a.providers}))
                    .collect();
                return json(&list);
            }
            println!("{:<12} PROVIDERS", "CUSTOMER");
            for a in aspas {
                println!("{:<12} {}", format!("AS{}", a.customer), a.providers_text());
            }
            Ok(())
        }
    }
}

/// An ASPA as the API lists it.
#[derive(serde::Deserialize)]
struct Spec {
    customer_as: u32,
    providers: Vec<u32>,
}

/// One ASPA set or removed, locally or through the API.
fn batch(
    env: &Env,
    remote: Option<&Remote>,
    handle: &str,
    set: Option<AspaRequest>,
    remove: Option<u32>,
    dry: bool,
) -> anyhow::Result<Outcome> {
    match remote {
        Some(r) => {
            let body = json!({
                "add": set.iter().map(|s| json!({"customer_as": s.customer, "providers": s.providers})).collect::<Vec<_>>(),
                "remove": remove.into_iter().collect::<Vec<_>>(),
            });
            let v = r.aspa_batch(handle, &body, dry)?;
            let n = |k: &str| v[k].as_u64().unwrap_or(0) as usize;
            let warnings = v["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| {
                    let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
                    (s("code"), s("severity"), s("message"))
                })
                .collect();
            Ok(Outcome {
                counts: [n("added"), n("replaced"), n("removed"), n("unchanged")],
                warnings,
            })
        }
        None => {
            let mut a = env.open()?;
            let set: Vec<AspaRequest> = set.into_iter().collect();
            let remove: Vec<u32> = remove.into_iter().collect();
            let table = anchorage::bgp::load(&env.data_dir()?)?;
            let opts = anchorage::ops::AspaOptions {
                dry,
                bgp: table.as_ref(),
                ..Default::default()
            };
            let c = a.aspa_batch(&Actor::operator(), handle, &set, &remove, opts)?;
            if !dry && !c.events.is_empty() {
                anchorage::peers_cli::warn_if_not_pushed(&mut a);
            }
            let warnings = c
                .warnings
                .iter()
                .map(|w| {
                    let code = anchorage_admin_api::model::AspaWarningView::from_warning(w).code;
                    (code.to_string(), "warning".to_string(), w.to_string())
                })
                .collect();
            Ok(Outcome {
                counts: [c.added, c.replaced, c.removed, c.unchanged],
                warnings,
            })
        }
    }
}
