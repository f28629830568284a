//! `anchorage ca ...`: create, list, show, update and delete hosted CAs,
//! roll their keys and set their contacts, locally or against a
//! `--server`.

use std::path::PathBuf;

use anchorage::audit::Actor;
use anchorage::format::Format;
use anchorage::remote::Remote;
use anchorage::report::{CaDetails, KeyrollStatus};
use anchorage_ca_core::ResourceSet;
use anyhow::Context;
use clap::Subcommand;

use super::{Env, json};

/// `anchorage ca ...`
#[derive(Subcommand, Debug)]
pub enum CaCommand {
    /// Create a hosted CA.
    Create {
        /// The new CA's handle.
        handle: String,
        /// Its resources; must be within the parent's.
        #[arg(long)]
        resources: ResourceSet,
        /// The parent CA (default: the online CA).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List CAs.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a CA.
    Show {
        /// The CA's handle.
        handle: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Delete a CA without children: revoke its certificate, withdraw its objects.
    Delete {
        /// The CA's handle.
        handle: String,
    },
    /// Roll a CA's key (RFC 6489): start (a new key, certified, in
    /// its staging period), activate (every product reissued under the
    /// new key, the old one revoked), or show the keys and the next step.
    /// `serve` activates by itself once the staging period has passed.
    #[command(group(clap::ArgGroup::new("step").required(true).args(["start", "activate", "cancel", "status"])))]
    Keyroll {
        /// The CA's handle.
        handle: String,
        /// Start a rollover: a new key, certified by the parent.
        #[arg(long)]
        start: bool,
        /// Activate the new key (after its staging period).
        #[arg(long)]
        activate: bool,
        /// Cancel the rollover in its staging period: the new key revoked
        /// and destroyed.
        #[arg(long)]
        cancel: bool,
        /// Show every key, its state and the next step.
        #[arg(long)]
        status: bool,
        /// With --start: the staging period in hours (default: 24, or
        /// `keyroll_staging_hours` of serve's configuration).
        #[arg(long, requires = "start")]
        staging_hours: Option<u32>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Set, show or remove a CA's contact: a vCard published as its
    /// Ghostbusters record (RFC 6493), reissued with its other objects.
    Contact {
        /// The CA's handle.
        handle: String,
        /// The contact: a vCard 4.0 with BEGIN, VERSION, FN, at least one
        /// of ADR, TEL and EMAIL, optionally ORG, and END (RFC 6493 §5);
        /// line ends are made CRLF. `-` reads standard input.
        #[arg(long, value_name = "FILE", conflicts_with = "remove")]
        vcard: Option<PathBuf>,
        /// Remove the contact and withdraw its Ghostbusters record.
        #[arg(long)]
        remove: bool,
    },
    /// Change a CA's resources: its parent reissues its certificate.
    Update {
        /// The CA's handle.
        handle: String,
        /// The new resources; must be within the parent's and cover the
        /// CA's ROAs and children.
        #[arg(long)]
        resources: ResourceSet,
    },
}

/// Runs `anchorage ca ...`, against `remote` if given, else on the data directory.
pub fn run(env: &Env, remote: Option<&Remote>, cmd: CaCommand) -> anyhow::Result<()> {
    match cmd {
        CaCommand::Create {
            handle,
            resources,
            parent,
        } => create(env, remote, &handle, resources, parent.as_deref()),
        CaCommand::Update { handle, resources } => update(env, remote, &handle, resources),
        CaCommand::List { format } => list(env, remote, format),
        CaCommand::Show { handle, format } => show(env, remote, &handle, format),
        CaCommand::Delete { handle } => delete(env, remote, &handle),
        CaCommand::Contact {
            handle,
            vcard,
            remove,
        } => contact(env, remote, &handle, vcard, remove),
        CaCommand::Keyroll {
            handle,
            start,
            activate,
            cancel,
            staging_hours,
            format,
            ..
        } => {
            let step = if start {
                Step::Start(staging_hours)
            } else if activate {
                Step::Activate
            } else if cancel {
                Step::Cancel
            } else {
                Step::Status
            };
            keyroll(env, remote, &handle, step, format)
        }
    }
}

/// What `anchorage ca keyroll` does.
enum Step {
    Start(Option<u32>),
    Activate,
    Cancel,
    Status,
}

/// `anchorage ca keyroll`.
fn keyroll(
    env: &Env,
    remote: Option<&Remote>,
    handle: &str,
    step: Step,
    format: Format,
) -> anyhow::Result<()> {
    let status = match (remote, &step) {
        (Some(r), Step::Start(hours)) => r.keyroll(handle, "start", *hours)?,
        (Some(r), Step::Activate) => r.keyroll(handle, "activate", None)?,
        (Some(r), Step::Cancel) => r.keyroll(handle, "cancel", None)?,
        (Some(r), Step::Status) => r.keyroll_status(handle)?,
        (None, _) => {
            let mut a = env.open()?;
            let actor = Actor::operator();
            let status = match step {
                Step::Start(hours) => {
                    let staging = hours.map(|h| chrono::TimeDelta::hours(h.into()));
                    a.keyroll_start(&actor, handle, staging)?.0
                }
                Step::Activate => a.keyroll_activate(&actor, handle)?.0,
                Step::Cancel => a.keyroll_cancel(&actor, handle)?.0,
                Step::Status => a.keyroll_status(handle)?,
            };
            if !matches!(step, Step::Status) {
                anchorage::peers_cli::warn_if_not_pushed(&mut a);
            }
            status
        }
    };
    if format == Format::Json {
        return json(&status);
    }
    match step {
        Step::Start(_) => println!("started a key rollover of CA '{handle}'"),
        Step::Activate => {
            println!("activated the new key of CA '{handle}'; the old key is revoked")
        }
        Step::Cancel => {
            println!("cancelled the key rollover of CA '{handle}'; the new key is revoked")
        }
        Step::Status => {}
    }
    print_keys(&status);
    Ok(())
}

/// Prints a CA's keys as `anchorage ca keyroll --status` does for people.
pub(super) fn print_keys(s: &KeyrollStatus) {
    println!("{:<42} {:<7} {:<21} MANIFEST", "KEY", "STATE", "SINCE");
    for k in &s.keys {
        println!(
            "{:<42} {:<7} {:<21} {}",
            k.key_id, k.state, k.since, k.manifest
        );
    }
    match (&s.next_step, &s.next_due) {
        (Some(step), Some(due)) => println!("next: {step} from {due}"),
        _ => println!("next: nothing (no rollover in progress)"),
    }
}

/// `anchorage ca contact`: sets the contact from a file (`-`: standard
/// input), removes it, or prints it.
fn contact(
    env: &Env,
    remote: Option<&Remote>,
    handle: &str,
    vcard: Option<PathBuf>,
    remove: bool,
) -> anyhow::Result<()> {
    if vcard.is_none() && !remove {
        let card = match remote {
            Some(r) => r.contact(handle)?,
            None => env.open()?.contact(handle)?,
        };
        match card {
            Some(card) => print!("{}", card.replace("\r\n", "\n")),
            None => println!("CA '{handle}' has no contact"),
        }
        return Ok(());
    }
    let card = match vcard {
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading standard input")?
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?
            };
            Some(crlf(&text))
        }
        None => None,
    };
    match remote {
        Some(r) => r.set_contact(handle, card.as_deref())?,
        None => {
            let mut a = env.open()?;
            a.set_contact(&Actor::operator(), handle, card.clone())?;
            anchorage::peers_cli::warn_if_not_pushed(&mut a);
        }
    }
    match card {
        Some(_) => println!("CA '{handle}' publishes its contact as a Ghostbusters record"),
        None => {
            println!("CA '{handle}' has no contact any more; its Ghostbusters record is withdrawn")
        }
    }
    Ok(())
}

/// `text` with every line ended by CRLF (RFC 6350 §3.2), as editors
/// rarely write it.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// `anchorage ca create`.
fn create(
    env: &Env,
    remote: Option<&Remote>,
    handle: &str,
    resources: ResourceSet,
    parent: Option<&str>,
) -> anyhow::Result<()> {
    let (handle, parent, resources) = match remote {
        Some(r) => {
            let d = r.create_ca(handle, &resources.to_string(), parent)?;
            (d.handle, d.parent, d.resources)
        }
        None => {
            let mut a = env.open()?;
            let (ca, _) = a.create_ca(&Actor::operator(), handle, resources, parent)?;
            anchorage::peers_cli::warn_if_not_pushed(&mut a);
            (ca.handle, ca.parent, ca.resources.to_string())
        }
    };
    println!(
        "created CA '{handle}' under '{}' with {resources}",
        parent.as_deref().unwrap_or("-"),
    );
    Ok(())
}

/// `anchorage ca update`.
fn update(
    env: &Env,
    remote: Option<&Remote>,
    handle: &str,
    resources: ResourceSet,
) -> anyhow::Result<()> {
    let now = match remote {
        Some(r) => r.update_ca(handle, &resources.to_string())?.resources,
        None => {
            let mut a = env.open()?;
            let (ca, _) = a.update_ca_resources(&Actor::operator(), handle, resources)?;
            anchorage::peers_cli::warn_if_not_pushed(&mut a);
            ca.resources.to_string()
        }
    };
    println!("CA '{handle}' now holds {now}; certificate reissued");
    Ok(())
}

/// `anchorage ca list`.
fn list(env: &Env, remote: Option<&Remote>, format: Format) -> anyhow::Result<()> {
    let cas = match remote {
        Some(r) => r.list_cas()?,
        None => env.open()?.list_cas()?,
    };
    if format == Format::Json {
        return json(&cas);
    }
    println!("{:<20} {:<20} {:>6}  RESOURCES", "HANDLE", "PARENT", "ROAS");
    for ca in cas {
        println!(
            "{:<20} {:<20} {:>6}  {}",
            ca.handle,
            ca.parent.as_deref().unwrap_or("-"),
            ca.roa_payloads,
            ca.resources
        );
    }
    Ok(())
}

/// `anchorage ca show`.
fn show(env: &Env, remote: Option<&Remote>, handle: &str, format: Format) -> anyhow::Result<()> {
    let d = match remote {
        Some(r) => r.show_ca(handle)?,
        None => env.open()?.show_ca(handle)?,
    };
    if format == Format::Json {
        return json(&d);
    }
    print_ca(&d);
    Ok(())
}

/// Prints a CA's details as `anchorage ca show` does for people.
fn print_ca(d: &CaDetails) {
    println!("handle:               {}", d.handle);
    println!(
        "parent:               {}",
        d.parent.as_deref().unwrap_or("-")
    );
    println!("children:             {}", d.children.join(", "));
    println!("resources:            {}", d.resources);
    println!("key:                  {}", d.key_id);
    println!("certificate:          {}", d.cert_uri);
    println!("certificate serial:   {}", d.cert_serial);
    println!("certificate expires:  {}", d.cert_not_after);
    println!("repository:           {}", d.repository);
    println!(
        "manifest next update: {}",
        d.manifest_next_update.as_deref().unwrap_or("-")
    );
    println!("next manifest number: {}", d.next_manifest_number);
    println!("revoked certificates: {}", d.revoked);
    println!("objects:");
    for o in &d.objects {
        println!("  {}  ({} bytes, until {})", o.uri, o.size, o.not_after);
    }
    println!("ROAs:");
    for r in &d.roas {
        println!("  AS{} {} max {}", r.asn, r.prefix, r.max_length);
    }
}

/// `anchorage ca delete`.
fn delete(env: &Env, remote: Option<&Remote>, handle: &str) -> anyhow::Result<()> {
    match remote {
        Some(r) => r.delete_ca(handle)?,
        None => {
            let mut a = env.open()?;
            a.delete_ca(&Actor::operator(), handle)?;
            anchorage::peers_cli::warn_if_not_pushed(&mut a);
        }
    }
    println!("deleted CA '{handle}': certificate revoked, objects withdrawn");
    Ok(())
}
