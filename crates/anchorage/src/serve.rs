//! `anchorage serve`: the long-running service.
//!
//! One process that
//! * serves RRDP (and the TA certificate the TAL names) over HTTPS, or
//!   plain HTTP behind a reverse proxy, with `/health` and `/metrics`;
//! * runs `rsync --daemon` on the rsync tree and restarts it if it dies;
//! * keeps a pool of one-time EE keys generated in the background, so a
//!   ROA change does not wait for RSA key generation;
//! * runs `publish` whenever something is due (manifest and CRL reissue,
//!   certificate and ROA renewal), and at least every minute, so nothing
//!   expires while it runs; changes made by CLI commands meanwhile are
//!   serialised with it by the store's write lock, and get their RRDP
//!   serial from serve's RRDP task (the command writes only the tree);
//! * removes superseded rsync trees apart from publication (see
//!   [`anchorage_publication`]: at scale one takes seconds);
//! * with `--rtr-listen`, validates its own repository with the bundled
//!   validator after every publication (fetching from its rsyncd, as a
//!   relying party would) and serves the VRPs to routers over RTR;
//! * stops cleanly on SIGTERM or SIGINT: no new publication starts, the
//!   current one finishes (a refresh cycle after the chunk of points it
//!   is signing), rsyncd is stopped, and the process exits 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, anyhow};
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::watch;

use crate::audit::Actor;
use crate::datadir::DataDir;
use crate::ops::{Anchorage, EnginePool, PoolSettings};
use anchorage_publication::rsyncd;

/// Options of `serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where the HTTP(S) server listens.
    pub http_listen: SocketAddr,
    /// Where rsyncd listens.
    pub rsync_listen: SocketAddr,
    /// TLS certificate chain and key (PEM); plain HTTP without them.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The rsync program.
    pub rsync_program: PathBuf,
    /// The longest the scheduler sleeps between checks.
    pub max_sleep: Duration,
    /// One-time EE keys kept pre-generated in the background.
    pub ee_key_pool: usize,
    /// Where the RTR cache listens; none: no RTR (and no self-validation).
    pub rtr_listen: Option<SocketAddr>,
    /// RTR protocol settings (highest version offered, timers).
    pub rtr: anchorage_rtr::RtrConfig,
    /// Where the admin API listens (always TLS); none: no API.
    pub api_listen: Option<SocketAddr>,
    /// The API's certificate chain and key; none: the data directory's
    /// self-signed one.
    pub api_tls: Option<(PathBuf, PathBuf)>,
    /// Requests per token at once, and per second after that.
    pub api_rate: (u32, f64),
    /// Whether `/metrics` and `/json` answer without a token.
    pub metrics_public: bool,
    /// Per-CA limits on ROA configuration.
    pub roa_limits: crate::ops::RoaLimits,
    /// The staging period of key rollovers started without one (RFC 6489 §2).
    pub keyroll_staging: chrono::TimeDelta,
    /// Which keys the scheduler rolls by itself.
    pub keyroll_policy: Option<crate::ops::KeyrollPolicy>,
    /// How long one exchange with a remote parent or repository may take.
    pub peer_timeout: Duration,
    /// How often remote parents are synced.
    pub parent_sync: Duration,
    /// The BGP table (CSV) the API checks ROA changes against; none: the
    /// one `anchorage bgp load` keeps in the data directory, if any.
    pub bgp_file: Option<PathBuf>,
    /// Connection caps and timeouts of the listeners.
    pub listen: crate::listeners::ListenLimits,
    /// The user rsyncd serves as, chrooted, when `serve` runs as root.
    pub rsyncd_user: String,
    /// This instance's name among the `serve` instances of one
    /// PostgreSQL database: what standbys name as the leader, and its
    /// directory under `DIR/run/`.
    pub instance_name: String,
    /// How long the web interface's sessions last.
    pub ui_sessions: crate::api::SessionPolicy,
}

/// What `/metrics` reports.
#[derive(Debug, Default)]
struct Metrics {
    rsyncd_up: AtomicBool,
    rsyncd_restarts: AtomicU64,
    rrdp_serial: AtomicU64,
    last_publication: AtomicI64,
    last_publication_ms: AtomicU64,
    publications: AtomicU64,
    publication_failures: AtomicU64,
    next_due: AtomicI64,
    overdue: AtomicBool,
    files: AtomicU64,
    objects: Mutex<Vec<(String, u64)>>,
    /// One `/json` document built at a time: each gathers every VRP.
    json_turn: tokio::sync::Mutex<()>,
    /// The last self-validation and when it finished, for `/json`.
    validated: std::sync::RwLock<Option<(Arc<anchorage_validator::Results>, SystemTime)>>,
    /// The listeners' guards: connections open, refused, accept errors.
    listeners: std::sync::OnceLock<crate::listeners::Guards>,
    /// Pushes to the remote repository that failed.
    push_failures: AtomicU64,
    /// Whether a remote repository is configured and its last push
    /// failed (-1: no remote repository).
    push_failing: AtomicI64,
    /// The epoch this instance leads in; 0 while it stands by (always 1
    /// on SQLite, where there is no election).
    leader_epoch: AtomicI64,
    /// The last self-validation compared with the ROA configuration.
    self_validation: std::sync::RwLock<Option<crate::report::SelfValidation>>,
}

fn render_metrics(m: &Metrics) -> String {
    let mut s = String::new();
    let mut g = |name: &str, help: &str, value: String| {
        s.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    };
    g(
        "anchorage_rsyncd_up",
        "Whether the supervised rsync daemon is running.",
        (m.rsyncd_up.load(Ordering::Relaxed) as u8).to_string(),
    );
    g(
        "anchorage_rsyncd_restarts",
        "Times rsyncd was restarted after dying.",
        m.rsyncd_restarts.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_rrdp_serial",
        "Current RRDP serial.",
        m.rrdp_serial.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_last_publication_timestamp_seconds",
        "When the last publication finished.",
        m.last_publication.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_last_publication_duration_seconds",
        "How long the last publication took.",
        format!(
            "{:.3}",
            m.last_publication_ms.load(Ordering::Relaxed) as f64 / 1000.0
        ),
    );
    g(
        "anchorage_publications",
        "Publications run by the scheduler.",
        m.publications.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_publication_failures",
        "Publications that failed.",
        m.publication_failures.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_next_due_timestamp_seconds",
        "When the next reissue is due.",
        m.next_due.load(Ordering::Relaxed).to_string(),
    );
    g(
        "anchorage_overdue",
        "1 if a reissue is overdue (an error: objects may expire).",
        (m.overdue.load(Ordering::Relaxed) as u8).to_string(),
    );
    g(
        "anchorage_published_files",
        "Files in the repository.",
        m.files.load(Ordering::Relaxed).to_string(),
    );
    let failing = m.push_failing.load(Ordering::Relaxed);
    if failing >= 0 {
        g(
            "anchorage_repository_push_failing",
            "1 while the last push to the remote repository failed (retried with the next publication).",
            failing.to_string(),
        );
        g(
            "anchorage_repository_push_failures",
            "Pushes to the remote repository that failed since serve started.",
            m.push_failures.load(Ordering::Relaxed).to_string(),
        );
    }
    let epoch = m.leader_epoch.load(Ordering::Relaxed);
    g(
        "anchorage_leader",
        "1 while this instance signs and publishes; 0 while it stands by.",
        u8::from(epoch > 0).to_string(),
    );
    g(
        "anchorage_leader_epoch",
        "The election epoch this instance leads in (0: standing by).",
        epoch.to_string(),
    );
    if let Some(v) = m.self_validation.read().ok().and_then(|v| v.clone()) {
        let finished =
            chrono::DateTime::parse_from_rfc3339(&v.finished).map_or(0, |t| t.timestamp());
        g(
            "anchorage_self_validation_timestamp_seconds",
            "When the last validation of the repository as relying parties fetch it finished.",
            finished.to_string(),
        );
        g(
            "anchorage_self_validation_vrps",
            "VRPs the last self-validation gave (what routers get).",
            v.vrps_validated.to_string(),
        );
        g(
            "anchorage_self_validation_vrps_configured",
            "VRPs the ROA configuration asked for at the last comparison.",
            v.vrps_configured.to_string(),
        );
        g(
            "anchorage_self_validation_vrps_missing",
            "Configured VRPs the last comparison did not find validated (an error).",
            v.missing_count.to_string(),
        );
        g(
            "anchorage_self_validation_aspas_missing",
            "Configured ASPAs the last comparison did not find validated with their providers (an error).",
            v.aspas_missing_count.to_string(),
        );
        g(
            "anchorage_self_validation_router_keys_missing",
            "Certified router keys the last comparison did not find validated (an error).",
            v.router_keys_missing_count.to_string(),
        );
        g(
            "anchorage_self_validation_rejected",
            "Objects the last self-validation rejected (an error).",
            v.rejected_count.to_string(),
        );
        g(
            "anchorage_self_validation_ok",
            "1 if the last self-validation rejected nothing and every configured VRP validated.",
            u8::from(v.healthy()).to_string(),
        );
    }
    if let Some(guards) = m.listeners.get() {
        render_listeners(&mut s, guards);
    }
    s.push_str("# HELP anchorage_objects Published objects by type.\n");
    s.push_str("# TYPE anchorage_objects gauge\n");
    if let Ok(objects) = m.objects.lock() {
        for (kind, n) in objects.iter() {
            s.push_str(&format!("anchorage_objects{{type=\"{kind}\"}} {n}\n"));
        }
    }
    s
}

/// The listeners' connection counters, one series per listener.
fn render_listeners(s: &mut String, guards: &crate::listeners::Guards) {
    let all = [&guards.http, &guards.api, &guards.rtr];
    let mut family =
        |name: &str, kind: &str, help: &str, value: &dyn Fn(&anchorage_netguard::Stats) -> u64| {
            s.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for g in all {
                s.push_str(&format!(
                    "{name}{{listener=\"{}\"}} {}\n",
                    g.name(),
                    value(g.stats())
                ));
            }
        };
    family(
        "anchorage_connections_open",
        "gauge",
        "Client connections open, by listener.",
        &|st| st.open.load(Ordering::Relaxed),
    );
    family(
        "anchorage_connections_accepted_total",
        "counter",
        "Client connections admitted, by listener.",
        &|st| st.accepted.load(Ordering::Relaxed),
    );
    family(
        "anchorage_connections_refused_total",
        "counter",
        "Connections closed at once because the listener or their address was at its cap.",
        &|st| st.refused_full.load(Ordering::Relaxed) + st.refused_address.load(Ordering::Relaxed),
    );
    family(
        "anchorage_accept_errors_total",
        "counter",
        "Failed accepts (e.g. no file descriptor left), each retried.",
        &|st| st.accept_errors.load(Ordering::Relaxed),
    );
}

/// Reads what the store knows (changes by CLI commands included) into the metrics.
fn refresh_from_store(a: &mut Anchorage, m: &Metrics) -> anyhow::Result<()> {
    if let Some((_, serial)) = a.rrdp_serial()? {
        m.rrdp_serial.store(serial, Ordering::Relaxed);
    }
    if let Some(due) = a.next_due()? {
        m.next_due.store(due.timestamp(), Ordering::Relaxed);
    }
    let failing = match a.repository()? {
        Some(r) => i64::from(r.last_error.is_some()),
        None => -1,
    };
    m.push_failing.store(failing, Ordering::Relaxed);
    let counts = a.object_counts()?;
    m.files
        .store(counts.iter().map(|(_, n)| n).sum(), Ordering::Relaxed);
    if let Ok(mut objects) = m.objects.lock() {
        *objects = counts;
    }
    Ok(())
}

/// The status endpoints' state; the API state checks tokens unless the
/// endpoints are configured public.
type MetricsState = (
    Arc<Metrics>,
    Arc<EnginePool>,
    Option<Arc<crate::api::ApiState>>,
);

async fn metrics_handler(
    State((m, a, guard)): State<MetricsState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(state) = &guard
        && let Err(p) = crate::api::require_token(state, &headers).await
    {
        return p.into_response();
    }
    let refreshed = tokio::task::spawn_blocking({
        let m = m.clone();
        move || refresh_from_store(&mut *a.get()?, &m)
    })
    .await;
    if let Ok(Err(err)) | Err(err) = refreshed.map_err(anyhow::Error::from) {
        tracing::warn!(%err, "metrics: could not read the store");
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        render_metrics(&m),
    )
        .into_response()
}

/// `/json`: the VRPs of the last self-validation in rpki-client's JSON
/// shape (what routers get over RTR), for other tools to compare.
async fn json_handler(
    State((m, _, guard)): State<MetricsState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    if let Some(state) = &guard
        && let Err(p) = crate::api::require_token(state, &headers).await
    {
        return p.into_response();
    }
    let last = m.validated.read().ok().and_then(|v| v.clone());
    let Some((v, at)) = last else {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": "no validated data yet",
            "status": 503,
            "detail": "the first self-validation has not finished, or serve runs without --rtr-listen",
        });
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
    };
    // Every point's VRPs gathered and the document written off the async
    // threads, one request at a time: at a million VRPs that is a
    // fraction of a second and a hundred megabytes.
    let _turn = m.json_turn.lock().await;
    let body = tokio::task::spawn_blocking(move || {
        let vrps = v.vrps();
        let s = &v.summary;
        // Written straight from the VRPs, not through a JSON value tree
        // (which would take several times their memory).
        serde_json::to_string(&JsonDocument {
            metadata: JsonMetadata {
                buildtime: chrono::DateTime::<chrono::Utc>::from(at)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                aspas: s.aspas.len(),
                bgpsec_pubkeys: s.router_keys.len(),
                cas: s.cas,
                generated: at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                manifests: s.manifests,
                rejected: s.rejected.len(),
                roas: s.roas,
                taks: s.taks,
                vrps: vrps.len(),
            },
            roas: &vrps,
            aspas: &s.aspas,
            bgpsec_keys: &s.router_keys,
        })
    })
    .await;
    match body {
        Ok(Ok(body)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(Err(err)) => {
            tracing::error!(%err, "/json not written");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(err) => {
            tracing::error!(%err, "/json task failed");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A validated router key as RTR sends it; `None` if its SKI or key do
/// not decode (they were made from the certificate, so never).
fn rtr_router_key(k: &anchorage_validator::ValidatedRouterKey) -> Option<anchorage_rtr::RouterKey> {
    use base64::Engine as _;
    let ski: [u8; 20] = hex::decode(&k.ski).ok()?.try_into().ok()?;
    let spki = base64::engine::general_purpose::STANDARD
        .decode(&k.pubkey)
        .ok()?;
    Some(anchorage_rtr::RouterKey {
        asn: k.asn,
        ski,
        spki,
    })
}

/// `/json`'s document: rpki-client's shape.
#[derive(serde::Serialize)]
struct JsonDocument<'a> {
    metadata: JsonMetadata,
    roas: &'a std::collections::BTreeSet<anchorage_validator::Vrp>,
    aspas: &'a [anchorage_validator::ValidatedAspa],
    bgpsec_keys: &'a [anchorage_validator::ValidatedRouterKey],
}

/// `/json`'s metadata.
#[derive(serde::Serialize)]
struct JsonMetadata {
    aspas: usize,
    bgpsec_pubkeys: usize,
    buildtime: String,
    cas: usize,
    generated: u64,
    manifests: usize,
    rejected: usize,
    roas: usize,
    taks: usize,
    vrps: usize,
}

/// Runs `serve` until `shutdown` resolves.
pub async fn run(
    dir: DataDir,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    // On SQLite one serve per data directory; on PostgreSQL one per
    // instance name, the instances electing a leader (see `lead`). A
    // serve that is still shutting down gets a few seconds to let go.
    let instance = match dir.store_location()? {
        anchorage_store::Location::Postgres(_) => Some(opts.instance_name.as_str()),
        anchorage_store::Location::Sqlite(_) => None,
    };
    let mut waited = 0;
    let serving = loop {
        match dir.try_lock_serve_as(instance)? {
            Some(lock) => break lock,
            None if waited < 100 => {
                waited += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            None => match instance {
                Some(name) => anyhow::bail!(
                    "another `anchorage serve` named {name} runs on {} (it holds \
                     run/{name}/serve.lock: give each instance its own instance_name), \
                     or a command that must run alone holds serve.lock",
                    dir.root().display()
                ),
                None => anyhow::bail!(
                    "another `anchorage serve` runs on {} (it holds serve.lock)",
                    dir.root().display()
                ),
            },
        }
    };
    // Requests run side by side on a pool of connections; changes are
    // committed at once and published together, within the group
    // publisher's window (group publication); RRDP serials and pushes to
    // a remote repository run from tasks of their own.
    let anchorage = EnginePool::open(
        dir.clone(),
        crate::clock::Clock::System,
        PoolSettings {
            deferred: true,
            push_inline: false,
            rrdp_apart: true,
            trash_apart: true,
            limits: opts.roa_limits,
            peer_timeout: opts.peer_timeout,
            keyroll_staging: opts.keyroll_staging,
            keyroll_policy: opts.keyroll_policy,
            fenced: true,
            ..PoolSettings::default()
        },
        crate::transport::http(),
    )?;
    if opts.ee_key_pool > 0 {
        anchorage.start_ee_key_refill(opts.ee_key_pool);
    }
    let (rrdp_base, rsync_base) = {
        let a = anchorage.get()?;
        (a.rrdp_base().to_string(), a.rsync_base().to_string())
    };
    let module = rsyncd::module_name(&rsync_base)
        .ok_or_else(|| anyhow!("no module in {rsync_base}"))?
        .to_string();
    let anchorage = Arc::new(anchorage);
    let metrics = Arc::new(Metrics::default());
    let guards = crate::listeners::Guards::new(
        &opts.listen,
        opts.api_listen.is_some(),
        opts.rtr_listen.is_some(),
    );
    let _ = metrics.listeners.set(guards.clone());
    let (stop_tx, stop_rx) = watch::channel(false);

    // Who signs and publishes. On SQLite this process, from now on (the
    // tree at start failing stops serve, as before there were terms). On
    // PostgreSQL the instance that wins the election, for as long as it
    // holds the leadership; the others stand by and serve what is
    // published.
    let work = Term {
        anchorage: anchorage.clone(),
        metrics: metrics.clone(),
        dir: dir.clone(),
        parent_sync: opts.parent_sync,
        max_sleep: opts.max_sleep,
    };
    let (leads_tx, leads_rx) = watch::channel(None::<i64>);
    let election = match (anchorage.fence(), dir.store_location()?) {
        (Some(fence), anchorage_store::Location::Postgres(url)) => {
            tracing::info!(instance = %opts.instance_name, "standing for leader");
            // The metric follows the election itself, not the work's
            // term, which may take a while to wind down: a load balancer
            // never sees two leaders.
            let m = metrics.clone();
            Some(anchorage_store::leader::Election::start(
                &url,
                &opts.instance_name,
                fence,
                move |epoch| {
                    m.leader_epoch.store(epoch.unwrap_or(0), Ordering::Relaxed);
                    let _ = leads_tx.send(epoch);
                },
            )?)
        }
        _ => {
            tree_at_start(&anchorage, &metrics).await?;
            metrics.leader_epoch.store(1, Ordering::Relaxed);
            let _ = leads_tx.send(Some(1));
            None
        }
    };
    let resign = election.as_ref().map(|e| e.resigner());
    let mut leader_task = tokio::spawn(lead(work, leads_rx, stop_rx.clone(), resign));

    // Token checks for the API and the status endpoints.
    let bgp = opts
        .bgp_file
        .clone()
        .unwrap_or_else(|| crate::bgp::table_path(&dir));
    let api_state = crate::api::ApiState::new(
        anchorage.clone(),
        bgp,
        crate::api::ApiSettings {
            rate: opts.api_rate,
            body_timeout: opts.listen.body_timeout,
            exempt: opts.listen.exempt.clone(),
            sessions: opts.ui_sessions,
        },
    );

    // HTTP(S): RRDP files, the TA certificate, health and metrics.
    let prefix = rrdp_path(&rrdp_base)?;
    let files = anchorage_rrdp_server::http::Files {
        rrdp_dir: dir.rrdp(),
        certs: Some(dir.rsync().join("current")),
        fetches: Some(std::sync::Arc::new(match instance {
            Some(name) => anchorage_rrdp_server::fetches::FetchLog::of_instance(&dir.rrdp(), name),
            None => anchorage_rrdp_server::fetches::FetchLog::new(&dir.rrdp()),
        })),
    };
    let app = Router::new()
        .route(
            "/health",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"status\":\"ok\"}",
                )
            }),
        )
        .route("/metrics", get(metrics_handler))
        .route("/json", get(json_handler))
        .with_state((
            metrics.clone(),
            anchorage.clone(),
            (!opts.metrics_public).then(|| api_state.clone()),
        ))
        .merge(anchorage_rrdp_server::http::router(&prefix, files))
        .merge(crate::protocols::router(
            anchorage.clone(),
            opts.listen.body_timeout,
        ))
        .layer(axum::middleware::from_fn(crate::listeners::limit_head));
    let (bound, handle, mut server) = crate::listeners::spawn_http(
        opts.http_listen,
        opts.tls.clone(),
        guards.http.clone(),
        opts.listen.header_timeout,
        app,
    )
    .await
    .with_context(|| format!("HTTP server on {}", opts.http_listen))?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    println!("listening {scheme}://{bound}{prefix}/notification.xml");
    tracing::info!(%bound, tls = opts.tls.is_some(), "HTTP server listening");

    // The admin API, on its own TLS listener.
    let (api_handle, api_task) = match opts.api_listen {
        Some(addr) => {
            let (cert, key) = match &opts.api_tls {
                Some(pair) => pair.clone(),
                None => dir.ensure_api_tls()?,
            };
            let app = crate::api::router(api_state.clone())
                .layer(axum::middleware::from_fn(crate::listeners::limit_head));
            let (bound, api_handle, task) = crate::listeners::spawn_http(
                addr,
                Some((cert.clone(), key)),
                guards.api.clone(),
                opts.listen.header_timeout,
                app,
            )
            .await
            .with_context(|| format!("admin API on {addr}"))?;
            println!("listening https://{bound}/api/v1/");
            tracing::info!(%bound, cert = %cert.display(), "admin API listening");
            (Some(api_handle), Some(task))
        }
        None => (None, None),
    };

    // rsyncd, supervised.
    let run = match instance {
        Some(name) => rsyncd::run_dir(dir.root()).join(name),
        None => rsyncd::run_dir(dir.root()),
    };
    std::fs::create_dir_all(&run)?;
    let config = run.join("rsyncd.conf");
    let pid_file = run.join("rsyncd.pid");
    // Started by root, rsyncd serves as an unprivileged user in a chroot
    // of the tree; otherwise as this user (it cannot change user).
    let run_as = if rsyncd::running_as_root() {
        Some(rsyncd::lookup_user(&opts.rsyncd_user).context("rsyncd_user")?)
    } else {
        None
    };
    rsyncd::write_confined_config(
        &config,
        &module,
        &dir.rsync().join("current"),
        &run.join("rsyncd.log"),
        Some(&pid_file),
        &rsyncd::Confinement {
            run_as,
            max_connections: opts.listen.rsync_connections,
            lock_file: run.join("rsyncd.lock"),
            timeout: opts.listen.rsync_timeout.as_secs() as u32,
        },
    )?;
    // Beside other instances, which may write the tree from another
    // machine: which trees this machine's rsyncd is inside.
    let readers_task = instance.map(|name| {
        tokio::spawn(report_readers(
            anchorage_publication::RsyncTree::new(dir.rsync()),
            name.to_string(),
            stop_rx.clone(),
        ))
    });
    let rsync_task = tokio::spawn(supervise_rsyncd(
        rsyncd::command(&opts.rsync_program, &config, opts.rsync_listen),
        (pid_file, config.clone()),
        opts.rsync_listen,
        metrics.clone(),
        stop_rx.clone(),
    ));
    println!("listening rsync://{}/{module}/", opts.rsync_listen);
    // CLI commands on this data directory hand ROA changes to this
    // process (SQLite only: one serve per directory).
    // It stops first when serve does: the changes it is applying commit
    // before the leader's last tree and serial, which publish them.
    let (control_stop, control_stopped) = watch::channel(false);
    let control_task = instance.is_none().then(|| {
        tokio::spawn(crate::control::serve(
            dir.clone(),
            anchorage.clone(),
            api_state.clone(),
            control_stopped,
        ))
    });

    // The bundled validator and the RTR cache: revalidate whenever a new
    // repository state is published, serve the VRPs to routers.
    let rtr_task = match opts.rtr_listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("RTR: cannot listen on {addr}"))?;
            let bound = listener.local_addr()?;
            let history = anchorage_rtr::VrpHistory::new();
            let wrapper = run.join("rsync-fetch");
            std::fs::write(
                &wrapper,
                format!(
                    "#!/bin/sh\nexec {} --port={} \"$@\"\n",
                    opts.rsync_program.display(),
                    opts.rsync_listen.port()
                ),
            )?;
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))?;
            }
            // Connections wait in the listen backlog until the first
            // validation is done, so no router is told "no data".
            let rsync_addr = opts.rsync_listen;
            let mirror = anchorage_validator::mirror::Mirror::new(
                anchorage_publication::RsyncTree::new(dir.rsync()),
                &rsync_base,
                dir.tal(),
                run.join("rp-cache"),
                wrapper,
            )?;
            let (checks, checked) = watch::channel(None);
            tokio::spawn(check_own_output(
                anchorage.clone(),
                metrics.clone(),
                opts.instance_name.clone(),
                checked,
            ));
            let validate = tokio::spawn(revalidate(
                mirror,
                (
                    history,
                    (listener, guards.rtr.clone()),
                    rsync_addr,
                    opts.rtr,
                    metrics.clone(),
                ),
                checks,
                stop_rx.clone(),
            ));
            println!("listening rtr://{bound}");
            tracing::info!(%bound, "RTR cache listening");
            Some(validate)
        }
        None => None,
    };

    tokio::select! {
        _ = shutdown => tracing::info!("shutting down"),
        res = &mut server => {
            let _ = stop_tx.send(true);
            return Err(ended(res, "HTTP server stopped"));
        }
        // On SQLite the leader's work failing stops serve, as its start
        // failing always did (on PostgreSQL the instance resigns instead).
        res = &mut leader_task => {
            let _ = stop_tx.send(true);
            return Err(ended(res, "the publication and scheduling stopped"));
        }
    }
    let _ = control_stop.send(true);
    if let Some(control) = control_task {
        let _ = control.await;
    }
    let _ = stop_tx.send(true);
    handle.graceful_shutdown(Some(Duration::from_secs(5)));
    if let Some(api_handle) = &api_handle {
        api_handle.graceful_shutdown(Some(Duration::from_secs(5)));
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    if let Some(api) = api_task {
        let _ = tokio::time::timeout(Duration::from_secs(10), api).await;
    }
    // Let the current publication finish; its transaction commits or rolls back whole.
    match leader_task.await {
        Ok(Err(err)) => tracing::error!(%err, "the leader's work failed"),
        Err(err) => tracing::error!(%err, "the leader's work ended abnormally"),
        Ok(Ok(())) => {}
    }
    // Standing down: another instance can lead at once (the election's
    // thread may take a moment to end its session).
    let _ = tokio::task::spawn_blocking(move || drop(election)).await;
    let _ = rsync_task.await;
    if let Some(readers) = readers_task {
        let _ = readers.await;
    }
    if let Some(validate) = rtr_task {
        let _ = validate.await;
    }
    tracing::info!("stopped");
    drop(serving);
    Ok(())
}

/// The error of a task that should have run until `serve` stopped: its
/// own, or `what` when it ended without one.
fn ended(
    res: Result<anyhow::Result<()>, tokio::task::JoinError>,
    what: &'static str,
) -> anyhow::Error {
    match res {
        Ok(Ok(())) => anyhow!(what),
        Ok(Err(e)) => e,
        Err(e) => e.into(),
    }
}

/// What the leader runs: publication, the scheduler, peers.
struct Term {
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    dir: DataDir,
    parent_sync: Duration,
    max_sleep: Duration,
}

/// Runs the leader's work for each term this instance leads, until
/// `stop`: started when `leads` names an epoch, stopped when it no longer
/// does (the election lost its session; whatever the work was doing then
/// is refused by the store's fence).
///
/// A term whose work fails by itself (its start, the trash thread, the
/// publisher lock) ends serve on SQLite; on PostgreSQL the instance
/// resigns, so that a standby that can do the work takes over.
async fn lead(
    work: Term,
    mut leads: watch::Receiver<Option<i64>>,
    mut stop: watch::Receiver<bool>,
    resign: Option<anchorage_store::leader::Resign>,
) -> anyhow::Result<()> {
    loop {
        let epoch = tokio::select! {
            led = leads.wait_for(Option::is_some) => match led {
                Ok(epoch) => epoch.unwrap_or_default(),
                Err(_) => return Ok(()),
            },
            _ = stop.wait_for(|s| *s) => return Ok(()),
        };
        let (term_tx, term_rx) = watch::channel(false);
        let mut term = tokio::spawn(run_term(
            Term {
                anchorage: work.anchorage.clone(),
                metrics: work.metrics.clone(),
                dir: work.dir.clone(),
                ..work
            },
            epoch,
            term_rx,
        ));
        let (ended, joined) = tokio::select! {
            _ = leads.wait_for(|e| *e != Some(epoch)) => (None, false),
            _ = stop.wait_for(|s| *s) => (Some(Ok(())), false),
            done = &mut term => (Some(match done {
                Ok(Ok(())) => Err(anyhow!("the leader's work ended by itself")),
                Ok(Err(err)) => Err(err),
                Err(err) => Err(anyhow!("the leader's work panicked: {err}")),
            }), true),
        };
        let _ = term_tx.send(true);
        if !joined {
            match term.await {
                Ok(Err(err)) => tracing::error!(%err, epoch, "the leader's work failed"),
                Err(err) => tracing::error!(%err, epoch, "the leader's work panicked"),
                Ok(Ok(())) => {}
            }
        }
        match (ended, &resign) {
            (None, _) => {}
            (Some(Ok(())), _) => return Ok(()),
            (Some(Err(err)), None) => return Err(err),
            (Some(Err(err)), Some(resign)) => {
                tracing::error!(%err, epoch, "the leader's work failed; resigning");
                resign.resign(epoch);
                let _ = leads.wait_for(|e| *e != Some(epoch)).await;
            }
        }
    }
}

/// How often a new leader tries to write the tree before it resigns.
const TERM_START_TRIES: u32 = 10;

/// One term of leadership: everything that signs and publishes by
/// itself, until `stop`. On PostgreSQL it begins with the tree of the
/// committed state (on SQLite `run` wrote it before listening), so the
/// files served are current whoever published last.
async fn run_term(term: Term, epoch: i64, mut stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let Term {
        anchorage,
        metrics,
        dir,
        parent_sync,
        max_sleep,
    } = term;
    let fenced = anchorage.fence().is_some();
    if fenced {
        tracing::info!(epoch, "leading: publishing and scheduling");
        // What falls due is the scheduler's first run, at once, while
        // everything else serves: after a long stop that can be a whole
        // refresh cycle, half an hour at 50,000 CAs.
        // A leader that cannot write the tree (its directory unwritable,
        // its keys out of reach) gives the office up to one that can.
        let mut failures = 0;
        while let Err(err) = tree_at_start(&anchorage, &metrics).await {
            failures += 1;
            if failures == TERM_START_TRIES {
                return Err(err.context("writing the tree at the start of the term"));
            }
            tracing::error!(%err, "writing the tree failed; retrying");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return Ok(()),
            }
        }
    }
    // The RRDP task retries a serial that fails here (another process
    // publishing at the same moment, say); the tree is current already.
    if let Err(err) = write_rrdp(&anchorage, &metrics, crate::ops::SerialSettle::Own).await {
        tracing::error!(%err, "writing the RRDP serial at start failed; retrying");
    }
    let trash_stop = empty_trash(anchorage_publication::RsyncTree::new(dir.rsync()))?;
    let spare_stop = forward_spares(anchorage.clone())?;
    let rrdp_task = tokio::spawn(publish_rrdp(
        anchorage.clone(),
        metrics.clone(),
        stop.clone(),
    ));
    // From here CLI commands leave their RRDP serials and old trees to
    // serve (a command's probe holds the lock for an instant at most). On
    // PostgreSQL they ask whether an instance leads instead.
    let publisher = if fenced {
        None
    } else {
        let dir = dir.clone();
        Some(
            tokio::task::spawn_blocking(move || dir.lock_publisher())
                .await?
                .context("taking publisher.lock")?,
        )
    };
    let group_task = tokio::spawn(publish_groups(
        anchorage.clone(),
        metrics.clone(),
        stop.clone(),
    ));
    // Remote parents (RFC 6492): entitlements and certificates kept in sync.
    let parents_task = tokio::spawn(sync_parents(anchorage.clone(), parent_sync, stop.clone()));
    // The remote repository (RFC 8181), if any: pushed to after publications.
    let push_task = tokio::spawn(push_remote(
        anchorage.clone(),
        metrics.clone(),
        stop.clone(),
    ));
    let scheduler = tokio::spawn(schedule(
        anchorage.clone(),
        metrics.clone(),
        max_sleep,
        stop.clone(),
    ));
    let _ = stop.wait_for(|s| *s).await;
    let _ = scheduler.await;
    let _ = group_task.await;
    let _ = rrdp_task.await;
    drop(trash_stop);
    drop(spare_stop);
    let _ = parents_task.await;
    let _ = push_task.await;
    if anchorage.fence().is_some_and(|f| f.epoch() != Some(epoch)) {
        // The leadership is gone: the next leader writes the serials.
        return Ok(());
    }
    // The last serial holds what the last group published. A CLI command
    // leaves the serial of its change to serve while serve holds
    // publisher.lock (or leads): one more after letting go takes what
    // such a command committed meanwhile (commands after it write their
    // own).
    if let Err(err) = write_rrdp(&anchorage, &metrics, crate::ops::SerialSettle::Own).await {
        tracing::error!(%err, "writing the last RRDP serial failed; written at the next start");
    }
    drop(publisher);
    if let Err(err) = write_rrdp(&anchorage, &metrics, crate::ops::SerialSettle::Own).await {
        tracing::error!(%err, "writing the last RRDP serial failed; written at the next start");
    }
    Ok(())
}

/// Reports the trees the rsync daemons in this process's view are
/// inside, as instance `name`, every
/// [`anchorage_publication::READERS_EVERY`], for the process (on this
/// machine or another, in this PID namespace or another) that writes and
/// prunes the shared tree; withdraws the report when `stop` changes.
pub async fn report_readers(
    tree: anchorage_publication::RsyncTree,
    name: String,
    mut stop: watch::Receiver<bool>,
) {
    let tree = Arc::new(tree);
    let mut failing = false;
    loop {
        let (t, n) = (tree.clone(), name.clone());
        match tokio::task::spawn_blocking(move || t.report_readers(&n)).await {
            Ok(Err(err)) if !failing => {
                tracing::warn!(%err, "could not report the rsync trees in use");
                failing = true;
            }
            Ok(Ok(())) => failing = false,
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(anchorage_publication::READERS_EVERY) => {}
            _ = stop.changed() => break,
        }
    }
    tree.withdraw_readers(&name);
}

/// How often `serve` removes the superseded rsync trees its writes set
/// aside.
const TRASH_EVERY: Duration = Duration::from_secs(5);

/// Removes superseded rsync trees apart from publication, every
/// [`TRASH_EVERY`], on a thread of its own at the lowest CPU priority and
/// paced: at 50,000 CAs one tree is 200,000 unlinks, seconds of the
/// kernel's time, which neither a tree write nor a router should wait
/// for. Dropping the returned sender stops it (a removal cut short is
/// finished by the next one, or by a CLI command when serve is not
/// running).
fn empty_trash(
    tree: anchorage_publication::RsyncTree,
) -> anyhow::Result<std::sync::mpsc::Sender<()>> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("rsync-trash".into())
        .spawn(move || {
            if let Err(err) = anchorage_publication::lowest_thread_priority() {
                tracing::debug!(%err, "old trees removed at normal priority");
            }
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(TRASH_EVERY)
            {
                tree.empty_trash(true);
            }
        })
        .context("starting the thread that removes old rsync trees")?;
    Ok(stop)
}

/// Brings the rsync tree the current one replaced up to the current
/// state, every [`TRASH_EVERY`], on a thread of its own at normal
/// priority (it holds the tree's locks meanwhile): after a write of many
/// paths (the refresh a restart catches up, a cycle's chunk), the next
/// change's tree write then rewrites its own paths, not those too
/// (measured at 50,000 CAs: 33,220 paths, 1.1 s, on the first change's
/// way to the routers). Dropping the returned sender stops it.
fn forward_spares(pool: Arc<EnginePool>) -> anyhow::Result<std::sync::mpsc::Sender<()>> {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("rsync-spare".into())
        .spawn(move || {
            // At once (a large write may have come just before the
            // start), then every few seconds.
            loop {
                // A standby, or a tree write that failed: the next write
                // brings the tree forward itself, as without this.
                match pool
                    .get()
                    .map_err(anyhow::Error::from)
                    .and_then(|mut a| Ok(a.forward_spare_tree()?))
                {
                    Ok(0) => {}
                    Ok(paths) => tracing::debug!(paths, "spare rsync tree brought forward"),
                    Err(err) => tracing::debug!(%err, "spare rsync tree not brought forward"),
                }
                if stopped.recv_timeout(TRASH_EVERY)
                    != Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                {
                    return;
                }
            }
        })
        .context("starting the thread that brings the spare rsync tree forward")?;
    Ok(stop)
}

fn rrdp_path(base: &str) -> anyhow::Result<String> {
    let rest = base
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("RRDP base {base} is not https"))?;
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
    Ok(path.trim_end_matches('/').to_string())
}

/// Writes the tree of the committed state and reads the store into the
/// metrics (the scheduler's next due time among them).
async fn tree_at_start(anchorage: &Arc<EnginePool>, metrics: &Arc<Metrics>) -> anyhow::Result<()> {
    let a = anchorage.clone();
    let m = metrics.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut a = a.get()?;
        a.write_tree()?;
        m.publications.fetch_add(1, Ordering::Relaxed);
        refresh_from_store(&mut a, &m)
    })
    .await?
}

/// The scheduler's publication: whatever is due, then the key rollover
/// stages due; it stops early (what is left stays due) once `stop` is
/// set.
async fn publish_once(
    anchorage: &Arc<EnginePool>,
    metrics: &Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let a = anchorage.clone();
    let m = metrics.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut a = a.get()?;
        let started = Instant::now();
        let result = a.publish_until(&Actor::scheduler(), &stop);
        m.publications.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = result {
            m.publication_failures.fetch_add(1, Ordering::Relaxed);
            return Err(e.into());
        }
        // Then the key rollover stages that are due (their changes are
        // published by the group publisher within its window). Publishing
        // first means an old key is revoked only after a tree that the
        // notification file already announces; a failure here never
        // holds up the publication that keeps objects fresh.
        if let Err(e) = a.run_due_keyrolls(&Actor::scheduler()) {
            tracing::error!(error = %e, "key rollover stages failed; retried on the next run");
        }
        let now = a.clock().now();
        m.last_publication.store(now.timestamp(), Ordering::Relaxed);
        m.last_publication_ms
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        refresh_from_store(&mut a, &m)?;
        Ok(())
    })
    .await?
}

/// Publishes what deferred changes owe (manifests, CRLs, the rsync tree),
/// and once more when stopping; RRDP serials follow from
/// [`publish_rrdp`]. Its trees start at least
/// [`crate::ops::GROUP_WINDOW`] apart (100 ms), and after a write the
/// next waits at least twice as long as it took (at most a second,
/// [`crate::ops::group_pause`]), unless no change has come for
/// [`crate::ops::GROUP_POLL`] ([`crate::ops::Rest::after_tree`]): a
/// burst of API changes is published in groups, larger as the burst
/// takes the cores, and its last changes at once. A change that comes
/// when the last tree is older than that is published within
/// [`crate::ops::GROUP_POLL`]. A command handed over the control socket
/// writes its own tree.
async fn publish_groups(
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    // When the last tree write (or failed try) started, and how long it took.
    let mut last_tree: Option<(Instant, Duration)> = None;
    loop {
        let rest = crate::ops::Rest::after_tree(Instant::now(), last_tree);
        let stopping = rest_through(&anchorage, rest, &mut stop).await;
        let started = Instant::now();
        let a = anchorage.clone();
        let m = metrics.clone();
        let result = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<u64>> {
            let mut a = a.get()?;
            if !a.tree_behind()? {
                return Ok(None);
            }
            let t = Instant::now();
            a.write_tree()?;
            let ms = t.elapsed().as_millis() as u64;
            // A change can bring the next due time forward (a key
            // rollover with a short staging period): the scheduler
            // reads it from here.
            if let Some(due) = a.next_due()? {
                m.next_due.store(due.timestamp(), Ordering::Relaxed);
            }
            Ok(Some(ms))
        })
        .await;
        // A tree written, or a failure (retried a window later, not at
        // every poll), starts the next window.
        if !matches!(result, Ok(Ok(None))) {
            last_tree = Some((started, started.elapsed()));
        }
        match result {
            Ok(Ok(Some(ms))) => {
                metrics.publications.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(ms, "group of changes published");
            }
            Ok(Ok(None)) => {}
            Ok(Err(err)) => {
                metrics.publication_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%err, "publishing a group of changes failed; retrying");
            }
            Err(err) => tracing::error!(%err, "group publisher task failed"),
        }
        if stopping {
            return;
        }
    }
}

/// Sleeps through a publication task's `rest`, looking at the change
/// journal's head as often as it asks, so that the rest ends when the
/// changes stop (see [`crate::ops::Rest`]); true when told to stop
/// meanwhile. A failed look ends the rest: the write after it reports
/// what failed.
async fn rest_through(
    anchorage: &Arc<EnginePool>,
    mut rest: crate::ops::Rest,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(rest.next_look(Instant::now())) => {}
            _ = stop.changed() => return true,
        }
        if rest.time_up(Instant::now()) {
            return false;
        }
        let a = anchorage.clone();
        let head = tokio::task::spawn_blocking(move || a.get().ok()?.change_head().ok())
            .await
            .ok()
            .flatten();
        match head {
            Some(head) if !rest.over(Instant::now(), head) => {}
            _ => return false,
        }
    }
}

/// How often the RRDP task looks for changes to write a serial for.
const RRDP_CHECK_EVERY: Duration = Duration::from_millis(100);

/// Writes the next RRDP serial if anything changed, from a state
/// `settle` says where to find (see [`crate::ops::SerialSettle`]).
async fn write_rrdp(
    anchorage: &Arc<EnginePool>,
    metrics: &Arc<Metrics>,
    settle: crate::ops::SerialSettle,
) -> anyhow::Result<crate::ops::RrdpWrite> {
    let a = anchorage.clone();
    let m = metrics.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<crate::ops::RrdpWrite> {
        let written = a.get()?.write_rrdp_timed(settle)?;
        if let crate::ops::RrdpWrite::Serial(serial, _) = written {
            m.rrdp_serial.store(serial, Ordering::Relaxed);
        }
        Ok(written)
    })
    .await?
}

/// Writes RRDP serials apart from rsync trees: every
/// [`RRDP_CHECK_EVERY`], a serial holding every change committed since
/// the last one (the last when stopping is written after the last
/// group's tree, by `serve` itself). A snapshot is the size of
/// the repository, so at scale a serial takes longer than a tree: changes
/// reach rsync clients and the RTR cache with their tree, and RRDP
/// clients with the next serial. After a serial whose own work took
/// `d` (its waits for a tree writer's turn not counted), the next waits
/// [`crate::ops::RRDP_REST`] times `d`, so serials take
/// at most a quarter of a core (and of the disk) however many changes
/// come in. When the changes stop, the rest ends as soon as that share
/// would pay for another serial like the last ([`crate::ops::RrdpShare`]:
/// up to [`crate::ops::RRDP_CREDIT_MAX`] of serial work kept), so the
/// last changes of a burst reach RRDP clients at once, while a sparse
/// stream of changes at scale, each of which would otherwise cost a
/// whole snapshot, keeps the rest. A serial shows a state the group
/// publisher's tree write settled, looked for every
/// [`crate::ops::GROUP_POLL`] while a change owes its manifest; only
/// after [`crate::ops::RRDP_SETTLE_AFTER`] without one does the task
/// sign what is owed itself ([`crate::ops::RrdpPace`]).
async fn publish_rrdp(
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut pace = crate::ops::RrdpPace::new(Instant::now(), RRDP_CHECK_EVERY);
    let mut rest = crate::ops::Rest::wait(Instant::now(), RRDP_CHECK_EVERY);
    loop {
        if rest_through(&anchorage, rest, &mut stop).await {
            return;
        }
        let written = match write_rrdp(&anchorage, &metrics, pace.settle(Instant::now())).await {
            Ok(written) => {
                if let crate::ops::RrdpWrite::Serial(_, took) = written {
                    tracing::debug!(ms = took.as_millis() as u64, "RRDP serial published");
                }
                Some(written)
            }
            Err(err) => {
                metrics.publication_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(%err, "writing an RRDP serial failed; retrying");
                None
            }
        };
        rest = pace.rest_after(Instant::now(), written);
    }
}

/// How often `serve` syncs with remote parents (RFC 6492) by default: a
/// parent's change of entitlements reaches this instance's repository
/// within this.
pub const PARENT_SYNC_EVERY: Duration = Duration::from_secs(600);

/// After a failed sync, the next comes after this at the latest.
const PARENT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Syncs every remote parent at start and then every `every` (sooner
/// after a failure). Each sync holds a connection of the pool but no
/// lock while it talks to the parent.
async fn sync_parents(
    anchorage: Arc<EnginePool>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let a = anchorage.clone();
        let failed = tokio::task::spawn_blocking(move || {
            let mut a = match a.get() {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "parent sync failed");
                    return true;
                }
            };
            match a.sync_parents(&Actor::scheduler()) {
                // Each failure is logged and recorded by the sync.
                Ok(results) => results.iter().any(Result::is_err),
                Err(e) => {
                    tracing::warn!(error = %e, "parent sync failed");
                    true
                }
            }
        })
        .await
        .unwrap_or(true);
        let wait = if failed {
            every.min(PARENT_RETRY_AFTER)
        } else {
            every
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often the push task looks for a new repository state to push.
const PUSH_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long the push task waits after a failed push before trying again.
const PUSH_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Pushes to the remote repository (RFC 8181) whenever the RRDP serial
/// moved since the last push, and retries a failed push: the exchange
/// (up to a timeout per message) holds no lock, so a slow or hanging
/// repository delays nothing but itself. The first round runs at start,
/// so a push lost to a crash is made then.
async fn push_remote(
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    // The state last pushed (`None`: none yet), and when a push last failed.
    let mut pushed: Option<Option<(String, u64)>> = None;
    let mut failed: Option<Instant> = None;
    loop {
        let waiting = failed.is_some_and(|at| at.elapsed() < PUSH_RETRY_AFTER);
        if !waiting {
            let a = anchorage.clone();
            let last = pushed.clone();
            let result = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let mut a = a.get()?;
                let serial = a.rrdp_serial()?;
                if last.as_ref() == Some(&serial) {
                    return Ok(None);
                }
                Ok(Some((serial, a.push_remote())))
            })
            .await;
            match result {
                Ok(Ok(Some((serial, true)))) => {
                    pushed = Some(serial);
                    failed = None;
                }
                // Logged and recorded by the push; retried after a while.
                Ok(Ok(Some((_, false)))) => {
                    metrics.push_failures.fetch_add(1, Ordering::Relaxed);
                    failed = Some(Instant::now());
                }
                Ok(Ok(None)) => {}
                Ok(Err(err)) => {
                    tracing::warn!(%err, "push to the remote repository failed");
                    failed = Some(Instant::now());
                }
                Err(err) => tracing::error!(%err, "push task failed"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(PUSH_CHECK_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// How often the bundled validator runs even when nothing was published.
const REVALIDATE_EVERY: Duration = Duration::from_secs(600);

/// How often the self-validation looks for a new tree (a link read, the
/// tree being written by this process or by a CLI command): on the path
/// of every ROA change to routers.
const NEW_TREE_POLL: Duration = Duration::from_millis(25);

/// How long the self-validation waits after a failed run.
const VALIDATION_RETRY: Duration = Duration::from_secs(1);

/// Whether an rsync daemon answers at `addr` with its greeting
/// (`@RSYNCD: VERSION`).
async fn rsyncd_greets(addr: SocketAddr) -> bool {
    use tokio::io::AsyncReadExt;
    let attempt = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
        let mut greeting = [0u8; 8];
        s.read_exact(&mut greeting).await.ok()?;
        Some(&greeting == b"@RSYNCD:")
    };
    tokio::time::timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// Runs the bundled validator on the served repository whenever a new
/// rsync tree is served (a new state was published, by `serve` or by a
/// CLI command) and hands the VRPs that changed to the RTR cache.
async fn revalidate(
    mirror: anchorage_validator::mirror::Mirror,
    (history, listener, rsync_addr, rtr_config, metrics): (
        anchorage_rtr::VrpHistory,
        (tokio::net::TcpListener, anchorage_netguard::Guard),
        SocketAddr,
        anchorage_rtr::RtrConfig,
        Arc<Metrics>,
    ),
    checks: watch::Sender<Option<Validated>>,
    mut stop: watch::Receiver<bool>,
) {
    // The first fetch needs rsyncd, started just before: wait until it
    // greets, however long that takes (a validation against a repository
    // that is not served yet would only report alarming errors).
    let loopback = if rsync_addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], rsync_addr.port()))
    } else {
        rsync_addr
    };
    let mut next_warning = Instant::now() + Duration::from_secs(10);
    while !rsyncd_greets(loopback).await {
        if *stop.borrow() {
            return;
        }
        if Instant::now() >= next_warning {
            tracing::warn!(%loopback, "self-validation waits for rsyncd to answer");
            next_warning += Duration::from_secs(10);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.changed() => return,
        }
    }
    let mut validated: Option<u64> = None;
    let mut last_run = Instant::now();
    // After a failed run the next waits a while (not every poll).
    let mut retry_at = Instant::now();
    // After a publication, only the points whose files changed (and those
    // under a CA whose certificate changed) are fetched and validated
    // again; the timer's run fetches and validates everything, which is
    // how expiry is seen. It is owed until one succeeds.
    let mut last_full = Instant::now();
    let mirror = Arc::new(Mutex::new(mirror));
    let mut listener = Some(listener);
    let mut server: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        let generation = mirror
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .generation();
        // A new repository state, or the timer: objects expire and CRLs
        // go stale without any publication, and routers must see that.
        let timer = validated.is_some() && last_run.elapsed() >= REVALIDATE_EVERY;
        if generation.is_some() && (generation != validated || timer) && Instant::now() >= retry_at
        {
            last_run = Instant::now();
            // Everything again every REVALIDATE_EVERY, however often
            // publications came in between.
            let everything = validated.is_none() || last_full.elapsed() >= REVALIDATE_EVERY;
            let m = mirror.clone();
            let started = Instant::now();
            let result = tokio::task::spawn_blocking(move || {
                // A run that panicked left nothing it kept trustworthy:
                // start again from nothing (a fresh run).
                let mut m = m.lock().unwrap_or_else(|poisoned| {
                    let mut m = poisoned.into_inner();
                    tracing::error!("self-validation panicked before; starting it again");
                    m.reset();
                    m
                });
                let run = m.run(everything).map_err(anyhow::Error::from);
                // What the run freed (the previous results it replaced,
                // its workers' heaps) goes back to the system now, not
                // when later allocations pass by.
                crate::memory::release_freed();
                run
            })
            .await;
            match result {
                Ok(Ok(run)) => {
                    let update = &run.update;
                    let origin =
                        |(asn, p, max_len): &anchorage_validator::Origin| anchorage_rtr::Origin {
                            asn: *asn,
                            addr: p.addr,
                            len: p.len,
                            max_len: *max_len,
                        };
                    let announced: Vec<_> = update.announced.iter().map(origin).collect();
                    let withdrawn: Vec<_> = update.withdrawn.iter().map(origin).collect();
                    let aspas: Vec<anchorage_rtr::Aspa> = update
                        .results
                        .summary
                        .aspas
                        .iter()
                        .map(|a| anchorage_rtr::Aspa {
                            customer: a.customer,
                            providers: a.providers.clone(),
                        })
                        .collect();
                    let keys: Vec<anchorage_rtr::RouterKey> = update
                        .results
                        .summary
                        .router_keys
                        .iter()
                        .filter_map(rtr_router_key)
                        .collect();
                    if run.fresh {
                        // Every VRP, whatever routers were told before.
                        history.update_all(announced.iter().copied().collect(), aspas, keys);
                    } else {
                        history.apply_all(&announced, &withdrawn, Some((aspas, keys)));
                    }
                    if everything {
                        last_full = Instant::now();
                    }
                    let v = &update.results.summary;
                    for rej in &v.rejected {
                        tracing::error!(uri = %rej.uri, reason = %rej.reason, "own repository: object rejected");
                    }
                    let finished = SystemTime::now();
                    if let Ok(mut last) = metrics.validated.write() {
                        *last = Some((update.results.clone(), finished));
                    }
                    checks.send_replace(Some((update.results.clone(), run.generation, finished)));
                    if let Some((listener, guard)) = listener.take() {
                        server = Some(tokio::spawn(anchorage_rtr::serve(
                            listener,
                            guard,
                            history.clone(),
                            rtr_config,
                        )));
                    }
                    tracing::info!(
                        generation = run.generation,
                        fetched = run
                            .listed
                            .map_or("everything".to_string(), |n| format!("{n} paths")),
                        announced = announced.len(),
                        withdrawn = withdrawn.len(),
                        rejected = v.rejected.len(),
                        points = v.manifests,
                        points_reused = v.points_reused,
                        ms = started.elapsed().as_millis() as u64,
                        "validated own repository"
                    );
                    validated = Some(run.generation);
                }
                Ok(Err(err)) => {
                    retry_at = Instant::now() + VALIDATION_RETRY;
                    tracing::error!(%err, "validating own repository failed");
                }
                Err(err) => {
                    retry_at = Instant::now() + VALIDATION_RETRY;
                    tracing::error!(%err, "validator task failed");
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(NEW_TREE_POLL) => {}
            _ = stop.changed() => {
                if let Some(server) = server {
                    server.abort();
                }
                return;
            }
        }
    }
}

/// A finished self-validation: its results, the tree generation it
/// validated, and when it finished.
type Validated = (Arc<anchorage_validator::Results>, u64, SystemTime);

/// Compares each self-validation (the newest, when they come faster than
/// comparisons) with the ROA configuration its tree shows, and records
/// the outcome for `/metrics` and `anchorage status` (see
/// [`crate::self_check`]). Runs beside the validation loop, so routers
/// never wait for it, and rests [`CHECK_REST`] times as long as each
/// comparison took before the next: it reads every configured ROA (a
/// million at 50,000 CAs, seconds of work), and a stream of changes
/// must not keep a core busy comparing each of them. The comparison runs
/// on a thread of its own at [`CHECK_NICE`], so that a change published
/// meanwhile (its tree, its validation, the RTR update) gets the cores
/// first; the record is then stored at `serve`'s priority, since it takes
/// the store's write lock.
async fn check_own_output(
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    instance: String,
    mut validated: watch::Receiver<Option<Validated>>,
) {
    type Job = (
        Validated,
        tokio::sync::oneshot::Sender<anyhow::Result<crate::report::SelfValidation>>,
    );
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let (a, m) = (anchorage.clone(), metrics.clone());
    let spawned = std::thread::Builder::new()
        .name("self-check".into())
        .spawn(move || {
            if let Err(err) = anchorage_publication::lower_thread_priority(CHECK_NICE) {
                tracing::debug!(%err, "self-check: priority not lowered");
            }
            for (validation, answer) in queue {
                // A comparison that panicked is reported as failed, and
                // the next validation is compared as usual.
                let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    compare_own_output(&a, &m, &instance, validation)
                }))
                .unwrap_or_else(|_| Err(anyhow!("the comparison panicked")));
                let _ = answer.send(compared);
                // The configuration and the sets compared are freed by
                // now: their memory goes back to the system.
                crate::memory::release_freed();
            }
        });
    if let Err(err) = spawned {
        tracing::error!(%err, "self-check: no thread; the output is not compared");
        return;
    }
    while validated.changed().await.is_ok() {
        let Some(validation) = validated.borrow_and_update().clone() else {
            continue;
        };
        let started = Instant::now();
        let (answer, answered) = tokio::sync::oneshot::channel();
        if jobs.send((validation, answer)).is_err() {
            tracing::error!("self-check: its thread ended; the output is no longer compared");
            return;
        }
        let record = match answered.await {
            Ok(Ok(record)) => Some(record),
            Ok(Err(err)) => {
                tracing::warn!(%err, "comparing the self-validation with the configuration failed");
                None
            }
            Err(_) => {
                tracing::error!("self-check: its thread ended; the output is no longer compared");
                return;
            }
        };
        if let Some(record) = record {
            let (a, m) = (anchorage.clone(), metrics.clone());
            let stored = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                if let Ok(mut last) = m.self_validation.write() {
                    *last = Some(record.clone());
                }
                // A standby's record is refused (the leader's stands); any
                // other failure leaves the last record in place.
                if let Err(err) = a.get()?.record_self_validation(&record) {
                    tracing::debug!(%err, "self-validation not recorded in the store");
                }
                Ok(())
            })
            .await;
            if let Ok(Err(err)) | Err(err) = stored.map_err(anyhow::Error::from) {
                tracing::warn!(%err, "recording the self-validation failed");
            }
        }
        // Validations finished meanwhile wait in the channel: the newest
        // is compared next.
        tokio::time::sleep(started.elapsed() * CHECK_REST).await;
    }
}

/// The record of one self-validation: compared with the configuration
/// its tree shows (errors logged for what did not validate), or carrying
/// the previous comparison when the store has moved on since that tree.
fn compare_own_output(
    anchorage: &EnginePool,
    metrics: &Metrics,
    instance: &str,
    (results, generation, finished): Validated,
) -> anyhow::Result<crate::report::SelfValidation> {
    let mut a = anchorage.get()?;
    let previous = match metrics.self_validation.read().ok().and_then(|v| v.clone()) {
        Some(v) => Some(v),
        // After a restart, the comparison serve recorded before.
        None => a.self_validation()?,
    };
    let expected = a
        .configured_shown_by(generation)?
        .map(|c| crate::self_check::expected(&c));
    drop(a);
    let record = crate::self_check::record(
        &results,
        expected.as_ref(),
        previous.as_ref(),
        (instance, finished),
    );
    if expected.is_some() {
        for (count, first, configured, what) in [
            (
                record.missing_count,
                &record.missing,
                record.vrps_configured,
                "VRPs",
            ),
            (
                record.aspas_missing_count,
                &record.aspas_missing,
                record.aspas_configured,
                "ASPAs",
            ),
            (
                record.router_keys_missing_count,
                &record.router_keys_missing,
                record.router_keys_configured,
                "router keys",
            ),
        ] {
            if count > 0 {
                tracing::error!(
                    missing = count,
                    first = first.first().map_or("", String::as_str),
                    configured,
                    "own repository: configured {what} did not validate"
                );
            }
        }
    }
    Ok(record)
}

/// The nice value of the self-check's thread: its comparison gets about
/// a tenth of a core while publication and validation want both, and
/// whatever is idle otherwise.
const CHECK_NICE: i32 = 10;

/// How many times as long as its last comparison the self-check rests:
/// at most a fifth of one core goes to comparing (5 ms after 1 ms at a
/// small registry, 12 s after 3 s at 50,000 CAs).
const CHECK_REST: u32 = 4;

/// How long the scheduler sleeps at `now` (seconds) when the next
/// reissue is due at `due`: until then, but no longer than `max_sleep`,
/// and not at all when it is already due.
pub fn next_wake(now: i64, due: Option<i64>, max_sleep: Duration) -> Duration {
    match due {
        Some(due) if due <= now => Duration::ZERO,
        Some(due) => Duration::from_secs((due - now) as u64).min(max_sleep),
        None => max_sleep,
    }
}

/// Wakes at the next due time (or after `max_sleep`) and publishes. It
/// looks at the due time at least every second, so a due time a change
/// brought forward (see [`publish_groups`]) is kept.
async fn schedule(
    anchorage: Arc<EnginePool>,
    metrics: Arc<Metrics>,
    max_sleep: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut last = Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let now = chrono::Utc::now().timestamp();
        let due = metrics.next_due.load(Ordering::Relaxed);
        let due = (due != 0).then_some(due);
        let overdue = due.is_some_and(|d| d < now - 60);
        metrics.overdue.store(overdue, Ordering::Relaxed);
        if overdue {
            tracing::error!(?due, now, "reissue overdue: objects may expire");
        }
        let wait = next_wake(now, due, max_sleep.saturating_sub(last.elapsed()));
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait.min(Duration::from_secs(1))) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
            continue;
        }
        last = Instant::now();
        // A refresh cycle takes minutes at scale: told to stop, it stops
        // after the chunk it is signing.
        let stopping = Arc::new(AtomicBool::new(false));
        let run = publish_once(&anchorage, &metrics, stopping.clone());
        tokio::pin!(run);
        let result = tokio::select! {
            result = &mut run => result,
            _ = stop.changed() => {
                stopping.store(true, Ordering::Relaxed);
                run.await
            }
        };
        if let Err(err) = result {
            tracing::error!(%err, "scheduled publication failed");
            if *stop.borrow() {
                return;
            }
            // Do not spin on a persistent failure.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// Runs rsyncd and restarts it whenever it exits, until stopped.
async fn supervise_rsyncd(
    cmd: std::process::Command,
    (pid_file, config): (PathBuf, PathBuf),
    listen: SocketAddr,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
    let mut backoff = Duration::from_millis(200);
    loop {
        {
            let (p, c) = (pid_file.clone(), config.clone());
            let _ = tokio::task::spawn_blocking(move || rsyncd::stop_stale(&p, &c)).await;
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(err) => {
                tracing::error!(%err, "cannot start rsync --daemon");
                metrics.rsyncd_up.store(false, Ordering::Relaxed);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        metrics.rsyncd_up.store(true, Ordering::Relaxed);
        tracing::info!(%listen, pid = child.id(), "rsync daemon started");
        let started = Instant::now();
        tokio::select! {
            status = child.wait() => {
                metrics.rsyncd_up.store(false, Ordering::Relaxed);
                metrics.rsyncd_restarts.fetch_add(1, Ordering::Relaxed);
                tracing::error!(?status, "rsync daemon exited; restarting");
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = Duration::from_millis(200);
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            _ = stop.changed() => {
                let _ = child.kill().await;
                metrics.rsyncd_up.store(false, Ordering::Relaxed);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_at_the_due_time_but_checks_regularly() {
        let m = Duration::from_secs(60);
        assert_eq!(next_wake(100, Some(130), m), Duration::from_secs(30));
        assert_eq!(next_wake(100, Some(100_000), m), m);
        assert_eq!(next_wake(100, Some(99), m), Duration::ZERO);
        assert_eq!(next_wake(100, None, m), m);
    }

    #[test]
    fn rrdp_paths() {
        assert_eq!(rrdp_path("https://h/rrdp/").unwrap(), "/rrdp");
        assert_eq!(rrdp_path("https://h:8443/a/b/").unwrap(), "/a/b");
        assert!(rrdp_path("http://h/rrdp/").is_err());
    }
}
