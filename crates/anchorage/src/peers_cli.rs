//! `anchorage child ...` and `anchorage publisher ...`: RFC 8183 setup of
//! delegated children and publishers, and their management.

use std::path::{Path, PathBuf};

use anchorage_ca_core::ResourceSet;
use anyhow::Context;
use clap::Subcommand;

use crate::audit::Actor;
use crate::format::Format;
use crate::ops::Anchorage;

/// `anchorage child ...`
#[derive(Subcommand, Debug)]
pub enum ChildCommand {
    /// Import an RFC 8183 child request; write the parent response.
    Add {
        /// The local CA that becomes the child's parent.
        parent: String,
        /// The child's `<child_request/>` XML.
        #[arg(long)]
        request: PathBuf,
        /// What the child is entitled to; within the parent's resources.
        #[arg(long)]
        resources: ResourceSet,
        /// Where to write the `<parent_response/>` (default: stdout).
        #[arg(long)]
        response: Option<PathBuf>,
        /// Base of the service URI, e.g. https://rpki.example.net
        /// (default: the origin of the RRDP URI).
        #[arg(long)]
        service_uri: Option<String>,
    },
    /// List delegated children and the certificates they hold.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Change a child's entitlement; lost resources are taken back at once.
    Update {
        /// The child's handle.
        handle: String,
        /// The new entitlement.
        #[arg(long)]
        resources: ResourceSet,
    },
    /// Remove a child and revoke its certificates.
    Remove {
        /// The child's handle.
        handle: String,
    },
}

/// `anchorage publisher ...`
#[derive(Subcommand, Debug)]
pub enum PublisherCommand {
    /// Import an RFC 8183 publisher request; write the repository response.
    Add {
        /// The publisher's `<publisher_request/>` XML.
        #[arg(long)]
        request: PathBuf,
        /// Where to write the `<repository_response/>` (default: stdout).
        #[arg(long)]
        response: Option<PathBuf>,
        /// Base of the service URI (default: the origin of the RRDP URI).
        #[arg(long)]
        service_uri: Option<String>,
    },
    /// List publishers.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove a publisher and withdraw everything it published.
    Remove {
        /// The publisher's handle.
        handle: String,
    },
}

/// `anchorage parent ...`
#[derive(Subcommand, Debug)]
pub enum ParentCommand {
    /// Write the RFC 8183 child request for local CA HANDLE (to send to the parent).
    Request {
        /// The local CA that the parent will certify.
        handle: String,
        /// Where to write the `<child_request/>` (default: stdout).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Import the parent's response: HANDLE becomes its child, and is
    /// created and certified by the first sync.
    Add {
        /// The local CA.
        handle: String,
        /// The parent's `<parent_response/>` XML.
        #[arg(long)]
        response: PathBuf,
        /// Do not sync now (serve syncs every `parent_sync_minutes`).
        #[arg(long)]
        no_sync: bool,
    },
    /// Sync with the remote parent(s): entitlements, certificate, shrinking.
    Sync {
        /// Only this local CA (default: all).
        handle: Option<String>,
    },
    /// List remote parents and their last sync.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove the remote parent of local CA HANDLE (it dropped the CA):
    /// the CA and everything it published are withdrawn.
    Remove {
        /// The local CA.
        handle: String,
    },
}

/// `anchorage repository ...`
#[derive(Subcommand, Debug)]
pub enum RepositoryCommand {
    /// Write the RFC 8183 publisher request (to send to the repository).
    Request {
        /// The publisher handle to ask for.
        handle: String,
        /// Where to write the `<publisher_request/>` (default: stdout).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Import the repository's response: CAs under remote parents publish there.
    Add {
        /// The repository's `<repository_response/>` XML.
        #[arg(long)]
        response: PathBuf,
    },
    /// Show the remote repository and how the last push to it went.
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove the remote repository (after its CAs' parents).
    Remove,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn write_out(path: Option<&Path>, xml: &str, what: &str) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            std::fs::write(p, xml).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("{what} written to {}", p.display());
        }
        None => print!("{xml}"),
    }
    Ok(())
}

/// Runs a `child` command.
pub fn child(a: &mut Anchorage, cmd: ChildCommand) -> anyhow::Result<()> {
    let actor = Actor::operator();
    match cmd {
        ChildCommand::Add {
            parent,
            request,
            resources,
            response,
            service_uri,
        } => {
            let xml = read(&request)?;
            let (res, _) = a.add_child(&actor, &parent, &xml, resources, service_uri.as_deref())?;
            write_out(response.as_deref(), &res.to_xml_string(), "parent response")?;
        }
        ChildCommand::List { format } => {
            let children = a.list_children()?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&children)?);
                return Ok(());
            }
            println!("{:<20} {:<16} {:<6} RESOURCES", "CHILD", "PARENT", "CERTS");
            for c in children {
                println!(
                    "{:<20} {:<16} {:<6} {}",
                    c.handle,
                    c.parent,
                    c.certificates.len(),
                    c.resources
                );
            }
        }
        ChildCommand::Update { handle, resources } => {
            a.update_child(&actor, &handle, resources)?;
            println!("updated child {handle}");
        }
        ChildCommand::Remove { handle } => {
            a.remove_child(&actor, &handle)?;
            println!("removed child {handle}; its certificates are revoked");
        }
    }
    Ok(())
}

/// Runs a `publisher` command.
pub fn publisher(a: &mut Anchorage, cmd: PublisherCommand) -> anyhow::Result<()> {
    let actor = Actor::operator();
    match cmd {
        PublisherCommand::Add {
            request,
            response,
            service_uri,
        } => {
            let xml = read(&request)?;
            let (res, _) = a.add_publisher(&actor, &xml, service_uri.as_deref())?;
            write_out(
                response.as_deref(),
                &res.to_xml_string(),
                "repository response",
            )?;
        }
        PublisherCommand::List { format } => {
            let publishers = a.list_publishers()?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&publishers)?);
                return Ok(());
            }
            println!("{:<20} {:<8} BASE", "PUBLISHER", "OBJECTS");
            for p in publishers {
                println!("{:<20} {:<8} {}", p.handle, p.objects, p.base_uri);
            }
        }
        PublisherCommand::Remove { handle } => {
            a.remove_publisher(&actor, &handle)?;
            println!("removed publisher {handle}; its objects are withdrawn");
        }
    }
    Ok(())
}

/// Runs a `parent` command.
pub fn parent(a: &mut Anchorage, cmd: ParentCommand) -> anyhow::Result<()> {
    let actor = Actor::operator();
    match cmd {
        ParentCommand::Request { handle, output } => {
            let req = a.child_request(&handle)?;
            write_out(output.as_deref(), &req.to_xml_string(), "child request")?;
        }
        ParentCommand::Add {
            handle,
            response,
            no_sync,
        } => {
            a.add_parent(&actor, &handle, &read(&response)?)?;
            println!(
                "CA {handle} is now the child of the parent in {}",
                response.display()
            );
            if !no_sync {
                let r = a.sync_parent(&actor, &handle)?;
                println!("certified {}: {}", r.ca, r.resources);
            }
        }
        ParentCommand::Sync { handle } => {
            let results = match handle {
                Some(h) => vec![a.sync_parent(&actor, &h).map_err(|e| e.to_string())],
                None => a.sync_parents(&actor)?,
            };
            let mut failed = 0;
            for r in results {
                match r {
                    Ok(r) => println!(
                        "{}: {}{}{}",
                        r.ca,
                        r.resources,
                        if r.certified {
                            " (new certificate)"
                        } else {
                            ""
                        },
                        if r.roas_withdrawn > 0 {
                            format!(", {} ROA payloads withdrawn", r.roas_withdrawn)
                        } else {
                            String::new()
                        }
                    ),
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed += 1;
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} parent(s) could not be synced");
            }
        }
        ParentCommand::Remove { handle } => {
            a.remove_parent(&actor, &handle)?;
            println!("removed the parent of '{handle}'; '{handle}' and all it published withdrawn");
            warn_if_not_pushed(a);
        }
        ParentCommand::List { format } => {
            let parents = a.list_parents()?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&parents)?);
                return Ok(());
            }
            println!("{:<16} {:<16} {:<40} STATE", "CA", "PARENT", "RESOURCES");
            for p in parents {
                println!(
                    "{:<16} {:<16} {:<40} {}",
                    p.ca,
                    p.parent,
                    p.resources.as_deref().unwrap_or("-"),
                    p.last_error.as_deref().unwrap_or("ok")
                );
            }
        }
    }
    Ok(())
}

/// Runs a `repository` command.
pub fn repository(a: &mut Anchorage, cmd: RepositoryCommand) -> anyhow::Result<()> {
    let actor = Actor::operator();
    match cmd {
        RepositoryCommand::Request { handle, output } => {
            let req = a.publisher_request(&handle)?;
            write_out(output.as_deref(), &req.to_xml_string(), "publisher request")?;
        }
        RepositoryCommand::Add { response } => {
            a.add_repository(&actor, &read(&response)?)?;
            println!("publishing at the repository of {}", response.display());
        }
        RepositoryCommand::Show { format } => {
            let Some(info) = a.repository()? else {
                anyhow::bail!("no remote repository (`anchorage repository add`)");
            };
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&info)?);
                return Ok(());
            }
            println!("service   {}", info.service_uri);
            println!("base      {}", info.sia_base);
            println!(
                "last push {}",
                info.last_push
                    .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "never".into())
            );
            println!("state     {}", info.last_error.as_deref().unwrap_or("ok"));
        }
        RepositoryCommand::Remove => {
            a.remove_repository(&actor)?;
            println!("removed the remote repository");
        }
    }
    Ok(())
}

/// After a change: a warning on standard error when the remote
/// repository (if any) did not take the last push. The change itself is
/// committed and published locally; the push is retried with the next
/// publication.
pub fn warn_if_not_pushed(a: &mut Anchorage) {
    if let Some(why) = not_pushed(a) {
        eprintln!("warning: {why}");
    }
}

/// Why the last push to the remote repository failed, if this instance
/// publishes there and it did: what [`warn_if_not_pushed`] prints.
pub fn not_pushed(a: &mut Anchorage) -> Option<String> {
    let info = a.repository().ok()??;
    let error = info.last_error?;
    Some(format!(
        "not pushed to the remote repository {}: {error}; retried with the next publication",
        info.service_uri
    ))
}
