//! The control socket: `DIR/run/control.sock`, where a running `serve`
//! takes ROA changes from CLI commands on the same data directory.
//!
//! A CLI command that changes ROAs beside `serve` would otherwise open the
//! store itself and generate two one-time EE keys (the ROA's and the
//! manifest's, RFC 6487 §3): about two RSA key generations per command,
//! however small the change. Through the socket `serve` applies the batch
//! with the keys its pool generated in advance, writes the rsync tree and
//! answers; its RRDP task writes the serial, as for any change.
//!
//! Who may connect is whoever may open the data directory (mode 0700; the
//! socket itself is 0600): the same people who could open the store and
//! keys directly. The audit log names the command's user as a local
//! command does (`cli:$USER`). One request per connection, a JSON line
//! each way. The socket is only offered on the SQLite store (one `serve`
//! per data directory); a command finds no socket, a refused connection or
//! a `--now` clock, and runs locally as before.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_admin_api::server::ApiState;
use anchorage_ca_core::{IpPrefix, RoaPayload};
use anchorage_engine::ops::{Anchorage, BatchOptions, EnginePool};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::audit::Actor;
use crate::datadir::DataDir;
use crate::error::AppError;

/// The largest request taken (a ROA import of a few hundred thousand
/// payloads fits).
const MAX_REQUEST: u64 = 64 << 20;

/// Connections handled at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 16;

/// How long a connection may take to send its request.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a stopping `serve` waits for the changes being applied.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where `serve` on `dir` listens: `DIR/run/control.sock`.
pub fn socket_path(dir: &DataDir) -> PathBuf {
    anchorage_publication::rsyncd::run_dir(dir.root()).join("control.sock")
}

/// One ROA payload as the socket carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    asn: u32,
    prefix: String,
    max_length: u8,
}

impl Spec {
    fn of(p: &RoaPayload) -> Spec {
        Spec {
            asn: p.asn,
            prefix: p.prefix.to_string(),
            max_length: p.max_length,
        }
    }

    fn payload(&self) -> anyhow::Result<RoaPayload> {
        let prefix = IpPrefix::parse_canonical(&self.prefix)?;
        Ok(RoaPayload::new(self.asn, prefix, Some(self.max_length))?)
    }
}

/// A ROA batch for one CA, applied or (`dry`) only checked. Fields a
/// newer command adds are ignored by an older `serve`.
#[derive(Debug, Serialize, Deserialize)]
struct RoaRequest {
    /// The command's user (`$USER`), for the audit log.
    user: Option<String>,
    ca: String,
    add: Vec<Spec>,
    remove: Vec<Spec>,
    dry: bool,
}

/// What a ROA batch did, with its RFC 9319 warnings, as a CLI command
/// prints it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RoaOutcome {
    /// Payloads added (or that would be).
    pub added: usize,
    /// Payloads removed.
    pub removed: usize,
    /// Additions already present.
    pub unchanged: usize,
    /// `(code, severity, message)` of each warning.
    pub warnings: Vec<(String, String, String)>,
    /// Why the last push to a remote repository failed, if it did.
    pub not_pushed: Option<String>,
}

/// The answer to a request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Done(RoaOutcome),
    Failed(String),
}

/// Applies (or with `dry` checks) a ROA batch with `a` as `actor`, with
/// the RFC 9319 warnings, against `routes` (the BGP table and the
/// repository's VRPs) when a table is loaded. What a local command and
/// the socket both run; `pushed_inline` says whether the change was just
/// pushed to a remote repository (a local command), so that its failure
/// is reported (`serve` pushes from a task of its own, and logs it).
pub fn roa_batch(
    a: &mut Anchorage,
    actor: &Actor,
    handle: &str,
    (add, remove): (&[RoaPayload], &[RoaPayload]),
    (dry, pushed_inline): (bool, bool),
    routes: Option<(
        &anchorage_engine::rfc9319::bgp::BgpTable,
        &anchorage_engine::rfc9319::bgp::VrpIndex,
    )>,
) -> Result<RoaOutcome, AppError> {
    let opts = BatchOptions {
        routes,
        dry,
        ..Default::default()
    };
    let outcome = a.roa_batch_analysed(actor, handle, add, remove, opts)?;
    let not_pushed = if pushed_inline && outcome.applied && !outcome.changes.events.is_empty() {
        crate::peers_cli::not_pushed(a)
    } else {
        None
    };
    let warnings = outcome
        .warnings
        .into_iter()
        .map(|w| {
            let severity = serde_json::to_value(w.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            (w.code.to_string(), severity, w.message)
        })
        .collect();
    Ok(RoaOutcome {
        added: outcome.changes.added,
        removed: outcome.changes.removed,
        unchanged: outcome.changes.unchanged,
        warnings,
        not_pushed,
    })
}

/// Sends a ROA batch to the `serve` running on `dir`: `None` when none
/// takes it (no socket, nobody accepting on it, or the request could not
/// be sent whole, so nothing was applied), and the caller runs the batch
/// itself; otherwise what `serve` answered. An answer lost after the
/// request was sent is an error that says the change may have been made.
/// A store other than the directory's (`--database`) is refused first,
/// as a local command refuses it.
pub fn forward_roa_batch(
    dir: &DataDir,
    handle: &str,
    (add, remove): (&[RoaPayload], &[RoaPayload]),
    dry: bool,
) -> Option<anyhow::Result<RoaOutcome>> {
    match dir.store_location() {
        Ok(anchorage_store::Location::Sqlite(_)) => {}
        Ok(_) => return None,
        Err(e) => return Some(Err(e.into())),
    }
    let path = socket_path(dir);
    let request = RoaRequest {
        user: std::env::var("USER").ok().filter(|u| !u.is_empty()),
        ca: handle.to_string(),
        add: add.iter().map(Spec::of).collect(),
        remove: remove.iter().map(Spec::of).collect(),
        dry,
    };
    let sent = serde_json::to_vec(&request)
        .map_err(anyhow::Error::from)
        .and_then(|mut line| {
            line.push(b'\n');
            let mut stream = UnixStream::connect(&path)?;
            stream.write_all(&line)?;
            Ok(stream)
        });
    let stream = match sent {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(path = %path.display(), %e, "no serve took the change; running it here");
            return None;
        }
    };
    let answer = answer_of(stream, &path);
    if answer.is_ok() {
        tracing::debug!(path = %path.display(), ca = handle, "ROA batch applied by serve");
    }
    Some(answer)
}

/// Reads `serve`'s answer to the request sent on `stream`.
fn answer_of(stream: UnixStream, path: &Path) -> anyhow::Result<RoaOutcome> {
    let unknown = || {
        format!(
            "no answer from serve at {}: the change may or may not have been made; \
             check with `anchorage roa list`",
            path.display()
        )
    };
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .with_context(unknown)?;
    if answer.is_empty() {
        anyhow::bail!(unknown());
    }
    match serde_json::from_str::<Answer>(&answer).with_context(unknown)? {
        Answer::Done(outcome) => Ok(outcome),
        Answer::Failed(message) => Err(anyhow::anyhow!(message)),
    }
}

/// Listens on [`socket_path`] until `stop` changes, applying each ROA
/// batch with `anchorage` (its EE key pool), the BGP table and VRP index
/// that `api` keeps, and writing the rsync tree before answering, so a
/// command that gets an answer finds its change published; then waits
/// for the changes being applied. A socket left by a `serve` that died
/// is replaced (this one holds `serve.lock`).
pub async fn serve(
    dir: DataDir,
    anchorage: Arc<EnginePool>,
    api: Arc<ApiState>,
    mut stop: watch::Receiver<bool>,
) {
    let path = socket_path(&dir);
    // Bound under a name no command connects to, given its mode, then
    // renamed into place: never reachable with the umask's mode.
    let staged = path.with_extension(format!("sock.{}", std::process::id()));
    let _ = std::fs::remove_file(&staged);
    let listener = match tokio::net::UnixListener::bind(&staged).and_then(|l| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&staged, &path)?;
        Ok(l)
    }) {
        Ok(l) => l,
        Err(err) => {
            let _ = std::fs::remove_file(&staged);
            tracing::warn!(path = %path.display(), %err, "no control socket: CLI commands beside serve run on their own");
            return;
        }
    };
    tracing::info!(path = %path.display(), "control socket listening");
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            s = listener.accept() => match s {
                Ok((s, _)) => s,
                Err(err) => {
                    tracing::warn!(%err, "control socket: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let (anchorage, api) = (anchorage.clone(), api.clone());
        tokio::spawn(async move {
            if let Err(err) = answer(stream, anchorage, api).await {
                tracing::warn!(%err, "control socket: request not answered");
            }
            drop(permit);
        });
    }
    // No new connection is taken: a command that finds no socket runs its
    // change itself; one already waiting to be accepted gets no answer
    // and says the change may or may not have been made (it was not).
    // The changes being applied finish first, so that serve's last tree
    // and serial publish them.
    let _ = std::fs::remove_file(&path);
    drop(listener);
    let all = MAX_CONNECTIONS as u32;
    if tokio::time::timeout(SHUTDOWN_WAIT, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("control socket: a change still being applied at shutdown");
    }
}

/// Reads one request from `stream`, runs it and writes the answer.
async fn answer(
    stream: tokio::net::UnixStream,
    anchorage: Arc<EnginePool>,
    api: Arc<ApiState>,
) -> anyhow::Result<()> {
    use tokio::io::AsyncReadExt;
    let (rd, mut wr) = stream.into_split();
    let mut line = Vec::new();
    // A command writes its request at once: a connection that does not
    // gives its slot back.
    tokio::time::timeout(
        REQUEST_TIMEOUT,
        tokio::io::BufReader::new(rd.take(MAX_REQUEST)).read_until(b'\n', &mut line),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no request within {REQUEST_TIMEOUT:?}"))??;
    let answer = match serde_json::from_slice::<RoaRequest>(&line) {
        Err(e) => Answer::Failed(format!("serve could not read the request: {e}")),
        Ok(request) => {
            let started = std::time::Instant::now();
            let ca = request.ca.clone();
            let result = tokio::task::spawn_blocking(move || apply(&anchorage, &api, request))
                .await
                .map_err(|e| anyhow::anyhow!("the change's task failed: {e}"))
                .and_then(|r| r);
            match result {
                Ok(outcome) => {
                    tracing::info!(
                        %ca,
                        added = outcome.added,
                        removed = outcome.removed,
                        ms = started.elapsed().as_millis() as u64,
                        "ROA batch from the control socket"
                    );
                    Answer::Done(outcome)
                }
                Err(err) => Answer::Failed(format!("{err:#}")),
            }
        }
    };
    let mut out = serde_json::to_vec(&answer)?;
    out.push(b'\n');
    wr.write_all(&out).await?;
    Ok(())
}

/// Runs one request on an engine of the pool: the batch, then (if it
/// changed anything) the rsync tree.
fn apply(
    anchorage: &EnginePool,
    api: &ApiState,
    request: RoaRequest,
) -> anyhow::Result<RoaOutcome> {
    let parse = |specs: &[Spec]| {
        specs
            .iter()
            .map(Spec::payload)
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let (add, remove) = (parse(&request.add)?, parse(&request.remove)?);
    let actor = match &request.user {
        Some(user) => Actor::named(format!("cli:{user}")),
        None => Actor::named("cli"),
    };
    let mut a = anchorage.get()?;
    let table = api
        .bgp_table()
        .map_err(|p| anyhow::anyhow!("the BGP table: {}", p.detail))?;
    let index = match &table {
        Some(_) => Some(api.vrp_index(&mut a)?),
        None => None,
    };
    let routes = table.as_deref().zip(index.as_deref());
    let outcome = roa_batch(
        &mut a,
        &actor,
        &request.ca,
        (&add, &remove),
        (request.dry, false),
        routes,
    )?;
    if !request.dry && a.tree_behind()? {
        a.write_tree()
            .map_err(|e| AppError::NotPublished(Box::new(e)))?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> RoaPayload {
        RoaPayload::new(
            64496,
            IpPrefix::parse_canonical("192.0.2.0/24").unwrap(),
            None,
        )
        .unwrap()
    }

    #[test]
    fn without_a_listening_serve_the_command_runs_itself() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path());
        let batch = (&[payload()][..], &[][..]);
        assert!(forward_roa_batch(&dir, "lir", batch, false).is_none());
        // A socket file nobody listens on (a serve that died): the same.
        std::fs::create_dir_all(socket_path(&dir).parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(socket_path(&dir)).unwrap());
        assert!(socket_path(&dir).exists());
        assert!(forward_roa_batch(&dir, "lir", batch, false).is_none());
    }

    #[test]
    fn another_store_than_the_directorys_is_refused_before_anything_is_sent() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("anchorage.db"), b"").unwrap();
        let other = tmp.path().join("other.db");
        let dir = DataDir::new(tmp.path()).with_database(Some(other.display().to_string()));
        let batch = (&[payload()][..], &[][..]);
        let err = forward_roa_batch(&dir, "lir", batch, false)
            .expect("refused, not run locally")
            .unwrap_err();
        assert!(format!("{err:#}").contains("keeps its store"), "{err:#}");
    }

    #[test]
    fn a_request_survives_the_trip_and_tolerates_fields_it_does_not_know() {
        let request = RoaRequest {
            user: Some("op".into()),
            ca: "lir".into(),
            add: vec![Spec::of(&payload())],
            remove: vec![],
            dry: true,
        };
        let mut json: serde_json::Value = serde_json::to_value(&request).unwrap();
        json["from_a_newer_command"] = serde_json::json!(1);
        let back: RoaRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back.add[0].payload().unwrap(), payload());
        assert!(back.dry);
    }
}
