//! The admin API under `/api/v1`: the HTTP handlers that call the CA
//! engine. Request and response types, problem details, the RFC 9319
//! analysis and the rate limiter are in the `anchorage-admin-api` crate.
//!
//! Every request but `GET /api/v1/openapi.json` needs a bearer token.
//! Tokens are limited by role (admin, ca-operator, read-only) and scope
//! (CA handles with their descendants); a CA outside a token's scope is
//! answered exactly like a CA that does not exist (404). Each request gets
//! an id (`X-Request-Id`), recorded with every audit entry it causes, in
//! the same transaction as the change.

// Problems (large) are the error of every handler, built once per failed
// request.
#![allow(clippy::result_large_err)]

mod peers;
mod ui;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
pub use ui::{SessionPolicy, Sessions};

use crate::Problem;
use crate::bgp::{BgpTable, VrpIndex};
use crate::model::{
    AddRouterCert, AspaBatch, AspaBatchResult, AspaSpec, AspaWarningView, Contact, CreateCa,
    CreateToken, Keyroll, KeyrollAction, MinimalRoasView, RoaBatch, RoaBatchResult, RoaSpec,
    RouteChangeView, UpdateCa, parse_body,
};
use crate::ratelimit::RateLimiter;
use crate::warnings::Severity;
use anchorage_ca_core::{CaError, ResourceSet};
use axum::body::Bytes;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

use anchorage_engine::audit::Actor;
use anchorage_engine::error::AppError;
use anchorage_engine::ops::{Anchorage, AspaOptions, BatchOptions, BatchOutcome};
use anchorage_engine::tokens::{Role, TokenInfo, split};

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// A check of one secret against one hash, answered on `reply`.
type SecretJob = (String, String, tokio::sync::oneshot::Sender<bool>);

/// Checks token secrets one at a time on a thread of its own, in one
/// argon2 memory block kept for the next check.
///
/// An argon2 check takes 19 MiB. Run on many threads at once, and each
/// freed block left in the allocator (`serve` grew from 38 MB to 400 MB
/// when 20 clients with their own tokens made their first requests
/// together); even on one thread, blocks allocated and freed in turn
/// stayed behind (95 MB, 34 MB after a `malloc_trim`). One block, reused,
/// costs its 19 MiB once. A check is needed once per token: the API
/// caches it.
pub struct SecretChecker {
    jobs: std::sync::mpsc::Sender<SecretJob>,
    /// A hash of a random secret with the parameters tokens are hashed
    /// with: checked against when the token id is unknown or revoked, so
    /// that answer takes as long as a wrong secret does and timing does
    /// not tell which token ids exist.
    decoy: String,
    /// Argon2 checks run so far.
    runs: Arc<std::sync::atomic::AtomicU64>,
}

impl SecretChecker {
    /// Starts the checking thread; it ends when the checker is dropped.
    pub fn start() -> SecretChecker {
        let (jobs, queue) = std::sync::mpsc::channel::<SecretJob>();
        let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = runs.clone();
        std::thread::Builder::new()
            .name("token-check".into())
            .spawn(move || {
                let mut memory: Vec<argon2::Block> = Vec::new();
                for (hash, secret, reply) in queue {
                    let matched = secret_matches_in(&hash, &secret, &mut memory);
                    counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = reply.send(matched);
                }
            })
            .expect("spawn the token check thread");
        SecretChecker {
            jobs,
            decoy: anchorage_engine::tokens::decoy_hash(),
            runs,
        }
    }

    /// How many argon2 checks have run.
    pub fn runs(&self) -> u64 {
        self.runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Spends the same work as a real check, for an unknown token id.
    pub async fn waste(&self, secret: String) {
        let _ = self.matches(self.decoy.clone(), secret).await;
    }

    /// Whether `secret` matches the argon2 PHC string `hash`.
    pub async fn matches(&self, hash: String, secret: String) -> bool {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.jobs.send((hash, secret, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// [`anchorage_engine::tokens::secret_matches`], with `memory` as argon2's working
/// memory (grown to what the hash's parameters need, and kept).
fn secret_matches_in(hash: &str, secret: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::{Output, PasswordHash};
    let Ok(hash) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => argon2::Version::default(),
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let argon = argon2::Argon2::new(algorithm, version, params);
    if argon
        .hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, &mut memory[..blocks])
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|out| out == expected)
}

/// Shared state of the API handlers.
pub struct ApiState {
    anchorage: Arc<anchorage_engine::ops::EnginePool>,
    limiter: RateLimiter,
    /// The BGP table file; reloaded when its mtime changes.
    bgp_path: PathBuf,
    bgp: Mutex<Option<(SystemTime, Arc<BgpTable>)>>,
    /// Every VRP of the repository, indexed, for the audit generation it
    /// was read at.
    vrps: Mutex<Option<(i64, Arc<VrpIndex>)>>,
    /// SHA-256 of tokens whose secret was checked, with the stored hash
    /// they were checked against: argon2 runs once per token, while
    /// revocation (the stored row) is still looked up on every request.
    verified: Mutex<HashMap<Vec<u8>, String>>,
    /// Where secrets are checked against their argon2 hashes.
    checker: SecretChecker,
    /// How long a client may take to send a request body.
    body_timeout: std::time::Duration,
    /// Failed token checks per source address.
    failures: RateLimiter,
    /// Addresses without a per-address limit (a reverse proxy in front).
    exempt: Vec<std::net::IpAddr>,
    /// The web interface's signed-in sessions.
    sessions: Sessions,
}

/// How the API limits its callers.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Requests per token at once, and per second after that.
    pub rate: (u32, f64),
    /// How long a client may take to send a request body.
    pub body_timeout: std::time::Duration,
    /// Addresses whose failed token checks are not limited per address
    /// (a reverse proxy forwards every client from its own address).
    pub exempt: Vec<std::net::IpAddr>,
    /// How long the web interface's sessions last.
    pub sessions: SessionPolicy,
}

/// Failed token checks one address may make at once, and per second
/// after that; beyond, 429 before any token is looked at.
pub const AUTH_FAILURES: (u32, f64) = (20, 0.1);

impl ApiState {
    /// State over `anchorage`, limiting callers as `settings` say.
    pub fn new(
        anchorage: Arc<anchorage_engine::ops::EnginePool>,
        bgp_path: PathBuf,
        settings: ApiSettings,
    ) -> Arc<ApiState> {
        let (burst, per_second) = settings.rate;
        Arc::new(ApiState {
            anchorage,
            limiter: RateLimiter::new(burst, per_second),
            bgp_path,
            bgp: Mutex::new(None),
            vrps: Mutex::new(None),
            verified: Mutex::new(HashMap::new()),
            checker: SecretChecker::start(),
            body_timeout: settings.body_timeout,
            failures: RateLimiter::new(AUTH_FAILURES.0, AUTH_FAILURES.1),
            exempt: settings.exempt,
            sessions: Sessions::new(settings.sessions),
        })
    }

    /// The BGP table, (re)loaded if its file changed; none without a file.
    pub fn bgp_table(&self) -> Result<Option<Arc<BgpTable>>, Problem> {
        let Ok(mtime) = std::fs::metadata(&self.bgp_path).and_then(|m| m.modified()) else {
            return Ok(None);
        };
        let mut cached = self.bgp.lock().map_err(|_| Problem::internal())?;
        if let Some((at, table)) = cached.as_ref()
            && *at == mtime
        {
            return Ok(Some(table.clone()));
        }
        let table = std::fs::File::open(&self.bgp_path)
            .map_err(|e| e.to_string())
            .and_then(|f| BgpTable::from_csv(std::io::BufReader::with_capacity(1 << 20, f)))
            .map_err(|e| {
                tracing::error!(err = %e, "cannot load the BGP table");
                Problem::internal()
            })?;
        tracing::info!(routes = table.len(), path = %self.bgp_path.display(), "BGP table loaded");
        let table = Arc::new(table);
        *cached = Some((mtime, table.clone()));
        Ok(Some(table))
    }

    /// The index of every VRP, rebuilt when anything changed since.
    pub fn vrp_index(&self, a: &mut Anchorage) -> Result<Arc<VrpIndex>, AppError> {
        let generation = a.audit_generation()?;
        let mut cached = self.vrps.lock().map_err(|_| AppError::Io {
            what: "VRP index lock".into(),
            source: std::io::Error::other("poisoned"),
        })?;
        if let Some((g, index)) = cached.as_ref()
            && *g == generation
        {
            return Ok(index.clone());
        }
        let (generation, index) = a.vrp_index()?;
        let index = Arc::new(index);
        *cached = Some((generation, index.clone()));
        Ok(index)
    }
}

/// The caller, once its token is checked.
#[derive(Clone, Debug)]
struct Principal {
    token: TokenInfo,
    request_id: String,
}

impl Principal {
    /// Who the audit log names: the token, in this request.
    fn actor(&self) -> Actor {
        Actor::named(format!("token:{}", self.token.id)).in_request(self.request_id.clone())
    }

    /// Checks the role for a ROA or ASPA batch (a dry run is open to
    /// read-only tokens too) and returns its If-Match ETag, if any.
    fn batch_access(&self, headers: &HeaderMap, dry: bool) -> Result<Option<String>, Problem> {
        let if_match = headers
            .get(header::IF_MATCH)
            .map(|v| v.to_str().map(str::to_string))
            .transpose()
            .map_err(|_| Problem::bad_request("If-Match is not a valid ETag"))?;
        if dry {
            self.require(&[Role::Admin, Role::CaOperator, Role::ReadOnly])?;
        } else {
            self.require(&[Role::Admin, Role::CaOperator])?;
        }
        Ok(if_match)
    }

    fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.contains(&self.token.role) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "a {} token may not do this",
                self.token.role.as_str()
            )))
        }
    }
}

/// The request id of this request (set by [`request_id`]).
#[derive(Clone, Debug)]
struct RequestId(String);

/// Gives every request an id, returned as `X-Request-Id`.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// How much of an oversized body is read and discarded before the 413 is
/// sent: a client that is still sending when the server closes gets a
/// broken pipe instead of the answer. Beyond this the connection is closed.
pub const DRAIN_LIMIT: usize = 16 << 20;

/// Why a body was not taken.
enum Oversized {
    /// Larger than [`MAX_BODY`]; read to its end, the connection is reusable.
    Drained,
    /// Larger than [`DRAIN_LIMIT`], or broken: the connection is closed.
    Abandoned,
}

/// Reads a body of at most [`MAX_BODY`] bytes; a larger one is read on
/// (and discarded) up to [`DRAIN_LIMIT`], so the client gets the 413.
async fn read_body(body: axum::body::Body) -> Result<Bytes, Oversized> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(Oversized::Abandoned);
        };
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= MAX_BODY {
                kept.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                return Err(Oversized::Abandoned);
            }
        }
    }
    if total > MAX_BODY {
        Err(Oversized::Drained)
    } else {
        Ok(Bytes::from(kept))
    }
}

/// Reads every request body (up to [`MAX_BODY`]) before routing: a
/// connection whose request body was left unread, because the request was
/// refused or the endpoint takes none, could not be reused by the client.
/// A body that does not arrive within the body timeout gets a 408.
async fn buffer_body(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(read) = tokio::time::timeout(state.body_timeout, read_body(body)).await else {
        return closing(too_slow(state.body_timeout));
    };
    match read {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(how) => {
            let mut resp = Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                format!("request bodies are limited to {MAX_BODY} bytes"),
            )
            .into_response();
            if matches!(how, Oversized::Abandoned) {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            resp
        }
    }
}

/// The problem for an engine error: 4xx for what the caller can fix.
fn problem(err: AppError) -> Problem {
    match err {
        AppError::UnknownCa(h) => Problem::not_found(format!("unknown CA '{h}'")),
        AppError::UnknownToken(_) => Problem::not_found(err.to_string()),
        AppError::DuplicateHandle(_) | AppError::Undeletable { .. } | AppError::Keyroll { .. } => {
            Problem::conflict(err.to_string())
        }
        AppError::ResourcesInUse { .. } | AppError::DuplicatePeer { .. } => {
            Problem::conflict(err.to_string())
        }
        AppError::UnknownPeer { .. } => Problem::not_found(err.to_string()),
        AppError::BadPeerFile { .. } => Problem::invalid(err.to_string()),
        AppError::Remote { .. } => Problem::new(
            StatusCode::BAD_GATEWAY,
            "Remote peer failed",
            err.to_string(),
        ),
        AppError::Forbidden(_) => Problem::forbidden(err.to_string()),
        AppError::LimitExceeded { limit, max, .. } => Problem::invalid(err.to_string())
            .with(serde_json::json!({ "limit": limit, "max": max })),
        AppError::Busy(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Busy", err.to_string()),
        AppError::Store(e) if e.is_not_leader() => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not the leader",
            e.to_string(),
        ),
        AppError::Store(e) if e.is_unavailable() => {
            tracing::warn!(err = %e, "database unavailable");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Database unavailable",
                "the database could not be reached or did not answer in time; a change is \
                 stored whole or not at all, but one in flight when the connection broke may \
                 have been stored: read the state before repeating it",
            )
        }
        AppError::PreconditionFailed { .. } => Problem::precondition_failed(err.to_string()),
        // The resource a DELETE names does not exist.
        AppError::NoSuchRouterCert { .. } => Problem::not_found(err.to_string()),
        AppError::Ca(CaError::Signing(_) | CaError::Profile(_)) => {
            tracing::error!(%err, "API request failed");
            Problem::internal()
        }
        AppError::Ca(_)
        | AppError::ReservedHandle(_)
        | AppError::TaOffLimits { .. }
        | AppError::NoSuchRoa { .. }
        | AppError::NoSuchAspa { .. }
        | AppError::BadArgument { .. }
        | AppError::BadContact(_) => Problem::invalid(err.to_string()),
        AppError::NotPublished(_) => {
            tracing::error!(%err, "API change committed but not published");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Committed, not yet published",
                "the change is saved; publishing it failed and is retried by the scheduler",
            )
        }
        other => {
            tracing::error!(err = %other, "API request failed");
            Problem::internal()
        }
    }
}

/// Runs `f` on the engine in a blocking thread; engine errors become
/// problems.
async fn engine<T: Send + 'static>(
    state: &Arc<ApiState>,
    f: impl FnOnce(&mut Anchorage) -> Result<T, AppError> + Send + 'static,
) -> Result<T, Problem> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut a = state.anchorage.get().map_err(problem)?;
        f(&mut a).map_err(problem)
    })
    .await
    .map_err(|_| Problem::internal())?
}

/// [`engine`] for a change: `f` gets the caller as the actor the audit
/// log names.
async fn change<T: Send + 'static>(
    state: &Arc<ApiState>,
    who: &Principal,
    f: impl FnOnce(&mut Anchorage, &Actor) -> Result<T, AppError> + Send + 'static,
) -> Result<T, Problem> {
    let actor = who.actor();
    engine(state, move |a| f(a, &actor)).await
}

/// Checks the bearer token: rate limit first (by token id, so guessing
/// secrets is limited too), then the stored token, then its secret.
async fn authenticate(
    state: &Arc<ApiState>,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    request_id: &RequestId,
) -> Result<Principal, Problem> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(Problem::unauthorized)?
        .to_string();
    // An address that keeps failing is held back before any token work
    // (addresses exempt from connection caps, a reverse proxy, are not).
    let address = peer.filter(|a| !state.exempt.contains(a));
    if let Some(address) = address
        && let Err(wait) = state.failures.peek(&address.to_string())
    {
        return Err(Problem::too_many_failures(wait));
    }
    let failed = || {
        if let Some(address) = address {
            let _ = state.failures.check(&address.to_string());
        }
        Problem::unauthorized()
    };
    let (id, secret) = split(&token).ok_or_else(failed)?;
    let (id, secret) = (id.to_string(), secret.to_string());
    state.limiter.check(&id).map_err(Problem::too_many)?;
    let lookup = id.clone();
    let found = engine(state, move |a| a.token_for_check(&lookup)).await?;
    let Some((info, hash)) = found else {
        state.checker.waste(secret).await;
        return Err(failed());
    };
    let key = rpki::crypto::DigestAlgorithm::sha256()
        .digest(token.as_bytes())
        .as_ref()
        .to_vec();
    let cached = state
        .verified
        .lock()
        .map(|v| v.get(&key) == Some(&hash))
        .unwrap_or(false);
    if !cached {
        if !state.checker.matches(hash.clone(), secret).await {
            return Err(failed());
        }
        if let Ok(mut v) = state.verified.lock() {
            v.insert(key, hash);
        }
    }
    Ok(Principal {
        token: info,
        request_id: request_id.0.clone(),
    })
}

/// Checks that the request carries a valid token of any role, for
/// endpoints outside `/api/v1` that reveal data (`/metrics`, `/json`).
pub async fn require_token(state: &Arc<ApiState>, headers: &HeaderMap) -> Result<(), Problem> {
    let rid = RequestId(uuid::Uuid::new_v4().to_string());
    authenticate(state, None, headers, &rid).await.map(|_| ())
}

/// Whether the principal sees CA `handle` (whose ancestry is given,
/// nearest first): unscoped tokens see everything, scoped ones their
/// CAs and what is below them.
fn in_scope(p: &Principal, ancestry: &[String]) -> bool {
    p.token.cas.is_empty() || ancestry.iter().any(|h| p.token.cas.contains(h))
}

/// The scope check, inside the engine call it protects: out of scope is
/// "unknown CA", as everywhere (a token learns nothing of CAs it does
/// not see); with `manage`, the caller must also be allowed to change
/// the CA itself. Returns the CA's ancestry, nearest first.
fn authorise(
    a: &mut Anchorage,
    p: &Principal,
    handle: &str,
    manage: bool,
) -> Result<Vec<String>, AppError> {
    let ancestry = a.ancestry(handle)?;
    if !in_scope(p, &ancestry) {
        return Err(AppError::UnknownCa(handle.into()));
    }
    if manage && !may_manage(p, &ancestry) {
        return Err(AppError::Forbidden(format!(
            "this token may not change CA '{handle}' itself"
        )));
    }
    Ok(ancestry)
}

/// Whether the principal may change CA `handle` itself (its resources,
/// its existence): admins any; CA operators only CAs strictly below their
/// scope, never the CAs that define it.
fn may_manage(p: &Principal, ancestry: &[String]) -> bool {
    match p.token.role {
        Role::Admin => true,
        Role::CaOperator => ancestry.iter().skip(1).any(|h| p.token.cas.contains(h)),
        Role::ReadOnly => false,
    }
}

/// The caller of an endpoint that needs a token: the API state and the
/// checked principal. Its rejection is the problem (401, 429).
struct Caller(Arc<ApiState>, Principal);

impl axum::extract::FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<ApiState>,
    ) -> Result<Caller, Problem> {
        let rid = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .ok_or_else(Problem::internal)?;
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        // The web interface's session cookie, unless a bearer token is
        // given (a token is never combined with someone's cookie).
        let p = match ui::session_cookie(&parts.headers) {
            Some(cookie) if !parts.headers.contains_key(header::AUTHORIZATION) => {
                ui::session_principal(state, cookie, &parts.headers, &rid).await?
            }
            _ => authenticate(state, peer, &parts.headers, &rid).await?,
        };
        Ok(Caller(state.clone(), p))
    }
}

/// The API router, to be mounted by `serve`.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/cas", get(list_cas).post(create_ca))
        .route(
            "/api/v1/cas/{handle}",
            get(show_ca).patch(update_ca).delete(delete_ca),
        )
        .route("/api/v1/cas/{handle}/roas", get(list_roas).post(apply_roas))
        .route("/api/v1/cas/{handle}/roas/dry-run", post(dry_run_roas))
        .route(
            "/api/v1/cas/{handle}/aspas",
            get(list_aspas).post(apply_aspas),
        )
        .route("/api/v1/cas/{handle}/aspas/dry-run", post(dry_run_aspas))
        .route(
            "/api/v1/cas/{handle}/router-certs",
            get(list_router_certs).post(add_router_cert),
        )
        .route(
            "/api/v1/cas/{handle}/router-certs/{asn}/{ski}",
            delete(revoke_router_cert),
        )
        .route(
            "/api/v1/cas/{handle}/keyroll",
            get(keyroll_status).post(keyroll),
        )
        .route(
            "/api/v1/cas/{handle}/contact",
            get(show_contact).put(set_contact).delete(remove_contact),
        )
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/keys", get(list_keys))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .merge(peers::routes())
        .merge(ui::routes())
        .fallback(|| async { Problem::not_found("no such endpoint under /api/v1") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
                "this endpoint does not take that method; see /api/v1/openapi.json",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            buffer_body,
        ))
        .layer(axum::middleware::from_fn(request_id))
        .with_state(state)
}

/// Reads a request body (already buffered by [`buffer_body`]).
async fn body(req: Request) -> Result<Bytes, Problem> {
    axum::body::to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|_| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                format!("request bodies are limited to {MAX_BODY} bytes"),
            )
        })
}

/// Reads a whole message body of at most `limit` bytes, within `timeout`
/// from the first byte to the last: a 413 problem beyond the limit, 408
/// if the client is too slow (a slow sender holds nothing but its own
/// connection). Either closes the connection.
pub async fn read_message(
    body: axum::body::Body,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Response> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(closing(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload too large",
            format!("request bodies are limited to {limit} bytes"),
        ))),
        Err(_) => Err(closing(too_slow(timeout))),
    }
}

/// The problem for a body that did not arrive in time.
fn too_slow(timeout: std::time::Duration) -> Problem {
    Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "Request timeout",
        format!(
            "the request body did not arrive within {} s",
            timeout.as_secs()
        ),
    )
}

/// `problem` as a response that closes the connection.
fn closing(problem: Problem) -> Response {
    let mut resp = problem.into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document().to_string(),
    )
        .into_response()
}

async fn list_cas(Caller(state, p): Caller) -> Result<Response, Problem> {
    let all = engine(&state, |a| a.list_cas()).await?;
    let parents: HashMap<String, Option<String>> = all
        .iter()
        .map(|c| (c.handle.clone(), c.parent.clone()))
        .collect();
    let ancestry = |h: &str| {
        let mut out = vec![h.to_string()];
        let mut next = parents.get(h).cloned().flatten();
        while let Some(n) = next {
            next = parents.get(&n).cloned().flatten();
            out.push(n);
        }
        out
    };
    let shown: Vec<_> = all
        .iter()
        .filter(|c| in_scope(&p, &ancestry(&c.handle)))
        .collect();
    Ok(Json(shown).into_response())
}

async fn create_ca(Caller(state, p): Caller, req: Request) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin, Role::CaOperator])?;
    let req: CreateCa = parse_body(&bytes)?;
    let resources: ResourceSet = req
        .resources
        .parse()
        .map_err(|e| Problem::invalid(format!("resources: {e}")).field("resources"))?;
    // A CA operator creates CAs only below its own.
    if p.token.role == Role::CaOperator && req.parent.is_none() {
        return Err(Problem::invalid(
            "parent: a ca-operator token must name a parent in its scope",
        )
        .field("parent"));
    }
    let handle = req.handle.clone();
    let who = p.clone();
    let details = change(&state, &p, move |a, actor| {
        if who.token.role == Role::CaOperator
            && let Some(parent) = &req.parent
        {
            authorise(a, &who, parent, false)?;
        }
        a.create_ca(actor, &req.handle, resources, req.parent.as_deref())?;
        a.show_ca(&handle)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(details)).into_response())
}

async fn show_ca(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let details = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.show_ca(&handle)
    })
    .await?;
    Ok(Json(details).into_response())
}

async fn update_ca(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    let req: UpdateCa = parse_body(&bytes)?;
    let resources: ResourceSet = req
        .resources
        .parse()
        .map_err(|e| Problem::invalid(format!("resources: {e}")).field("resources"))?;
    let who = p.clone();
    let details = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, true)?;
        a.update_ca_resources(actor, &handle, resources)?;
        a.show_ca(&handle)
    })
    .await?;
    Ok(Json(details).into_response())
}

async fn delete_ca(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let who = p.clone();
    change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, true)?;
        a.delete_ca(actor, &handle)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn show_contact(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let vcard = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.contact(&handle)
    })
    .await?;
    Ok(Json(Contact { vcard }).into_response())
}

async fn set_contact(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    // The CA's own operators set its contact, as they change its ROAs.
    p.require(&[Role::Admin, Role::CaOperator])?;
    let bytes = body(req).await?;
    let req: Contact = parse_body(&bytes)?;
    let Some(vcard) = req.vcard else {
        return Err(
            Problem::invalid("vcard: a vCard is required; DELETE removes the contact")
                .field("vcard"),
        );
    };
    let who = p.clone();
    let vcard = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        a.set_contact(actor, &handle, Some(vcard))?;
        a.contact(&handle)
    })
    .await?;
    Ok(Json(Contact { vcard }).into_response())
}

async fn remove_contact(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::CaOperator])?;
    let who = p.clone();
    change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        a.set_contact(actor, &handle, None)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn keyroll_status(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let status = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.keyroll_status(&handle)
    })
    .await?;
    Ok(Json(status).into_response())
}

async fn keyroll(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    // The CA's own operators roll its key, as they change its ROAs.
    p.require(&[Role::Admin, Role::CaOperator])?;
    let bytes = body(req).await?;
    let req: Keyroll = parse_body(&bytes)?;
    if req.action != KeyrollAction::Start && req.staging_hours.is_some() {
        return Err(
            Problem::invalid("staging_hours only goes with the action start")
                .field("staging_hours"),
        );
    }
    // RFC 6489 §2 asks for at least 24 hours; a shorter staging period
    // (testing, an urgent rollover) is an administrator's decision.
    if req.staging_hours.is_some_and(|h| h < 24) && p.token.role != Role::Admin {
        return Err(Problem::forbidden(
            "a staging period under 24 hours (RFC 6489 §2) needs an admin token",
        ));
    }
    let who = p.clone();
    let status = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        let (status, _) = match req.action {
            KeyrollAction::Start => a.keyroll_start(
                actor,
                &handle,
                req.staging_hours
                    .map(|h| chrono::TimeDelta::hours(h.into())),
            )?,
            KeyrollAction::Activate => a.keyroll_activate(actor, &handle)?,
            KeyrollAction::Cancel => a.keyroll_cancel(actor, &handle)?,
        };
        Ok(status)
    })
    .await?;
    Ok(Json(status).into_response())
}

fn with_etag(mut resp: Response, etag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

async fn list_roas(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let (roas, etag) = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.roas_with_etag(&handle)
    })
    .await?;
    let list: Vec<RoaSpec> = roas.iter().map(RoaSpec::from_payload).collect();
    Ok(with_etag(Json(list).into_response(), &etag))
}

/// `?strict=true`: critical warnings block the change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchQuery {
    #[serde(default)]
    strict: bool,
}

async fn roa_batch(
    Caller(state, p): Caller,
    headers: &HeaderMap,
    handle: String,
    query: BatchQuery,
    bytes: Bytes,
    dry: bool,
) -> Result<Response, Problem> {
    let if_match = p.batch_access(headers, dry)?;
    let batch: RoaBatch = parse_body(&bytes)?;
    let (add, remove) = batch.payloads()?;
    let strict = query.strict;
    let table = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.bgp_table())
            .await
            .map_err(|_| Problem::internal())??
    };
    let bgp_routes = table.as_ref().map(|t| t.len());
    let st = state.clone();
    let who = p.clone();
    let outcome = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        // The repository's VRPs before the change, for route validation.
        let index = match &table {
            Some(_) => Some(st.vrp_index(a)?),
            None => None,
        };
        let routes = table.as_deref().zip(index.as_deref());
        let opts = BatchOptions {
            if_match: if_match.as_deref(),
            dry,
            strict,
            routes,
        };
        a.roa_batch_analysed(actor, &handle, &add, &remove, opts)
    })
    .await?;
    let BatchOutcome {
        changes,
        warnings,
        routes,
        minimal,
        applied,
    } = outcome;
    let result = RoaBatchResult {
        applied,
        added: changes.added,
        removed: changes.removed,
        unchanged: changes.unchanged,
        vrps_announced: changes
            .announced
            .iter()
            .map(RoaSpec::from_payload)
            .collect(),
        vrps_withdrawn: changes
            .withdrawn
            .iter()
            .map(RoaSpec::from_payload)
            .collect(),
        warnings,
        route_changes: routes
            .iter()
            .take(crate::model::ROUTE_CHANGES_SHOWN)
            .map(RouteChangeView::from_change)
            .collect(),
        route_changes_total: routes.len(),
        bgp_routes,
        minimal_roas: minimal.iter().map(MinimalRoasView::from_minimal).collect(),
    };
    if !dry && !applied {
        let critical = result
            .warnings
            .iter()
            .filter(|w| w.severity == Severity::Critical)
            .count();
        return Err(Problem::invalid(format!(
            "blocked by {critical} critical warning(s) (strict=true); nothing was changed"
        ))
        .with(serde_json::to_value(&result).unwrap_or_default()));
    }
    Ok(with_etag(Json(result).into_response(), &changes.etag))
}

async fn apply_roas(
    Caller(state, p): Caller,
    headers: HeaderMap,
    Path(handle): Path<String>,
    query: Result<Query<BatchQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    roa_batch(Caller(state, p), &headers, handle, query, bytes, false).await
}

async fn dry_run_roas(
    Caller(state, p): Caller,
    headers: HeaderMap,
    Path(handle): Path<String>,
    query: Result<Query<BatchQuery>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    roa_batch(Caller(state, p), &headers, handle, query, bytes, true).await
}

async fn list_aspas(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let (aspas, etag) = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.list_aspas(&handle)
    })
    .await?;
    let list: Vec<AspaSpec> = aspas.iter().map(AspaSpec::from_definition).collect();
    Ok(with_etag(Json(list).into_response(), &etag))
}

/// An ASPA batch (draft-ietf-sidrops-aspa-profile), applied or dry: the
/// same roles, If-Match and problems as a ROA batch.
async fn aspa_batch(
    Caller(state, p): Caller,
    headers: &HeaderMap,
    handle: String,
    bytes: Bytes,
    dry: bool,
) -> Result<Response, Problem> {
    let if_match = p.batch_access(headers, dry)?;
    let batch: AspaBatch = parse_body(&bytes)?;
    let set = batch.requests()?;
    let remove = batch.remove.clone();
    let table = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.bgp_table())
            .await
            .map_err(|_| Problem::internal())??
    };
    let who = p.clone();
    let changes = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        let opts = AspaOptions {
            if_match: if_match.as_deref(),
            dry,
            bgp: table.as_deref(),
        };
        a.aspa_batch(actor, &handle, &set, &remove, opts)
    })
    .await?;
    let result = AspaBatchResult {
        applied: !dry && !changes.events.is_empty(),
        added: changes.added,
        replaced: changes.replaced,
        removed: changes.removed,
        unchanged: changes.unchanged,
        aspas: changes
            .after
            .iter()
            .map(AspaSpec::from_definition)
            .collect(),
        warnings: changes
            .warnings
            .iter()
            .map(AspaWarningView::from_warning)
            .collect(),
    };
    Ok(with_etag(Json(result).into_response(), &changes.etag))
}

async fn apply_aspas(
    Caller(state, p): Caller,
    headers: HeaderMap,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    aspa_batch(Caller(state, p), &headers, handle, bytes, false).await
}

async fn dry_run_aspas(
    Caller(state, p): Caller,
    headers: HeaderMap,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    aspa_batch(Caller(state, p), &headers, handle, bytes, true).await
}

async fn list_router_certs(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
) -> Result<Response, Problem> {
    let list = engine(&state, move |a| {
        authorise(a, &p, &handle, false)?;
        a.router_certs(&handle)
    })
    .await?;
    Ok(Json(list).into_response())
}

/// Certifies a router key (RFC 8209) from its PKCS#10 request (PEM, or
/// base64 DER): 201 with the certificate; a request that is not ECDSA
/// P-256 or whose signature does not verify is a 422.
async fn add_router_cert(
    Caller(state, p): Caller,
    Path(handle): Path<String>,
    req: Request,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::CaOperator])?;
    let bytes = body(req).await?;
    let add: AddRouterCert = parse_body(&bytes)?;
    let csr = add.csr_bytes()?;
    let who = p.clone();
    let (info, events) = change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        a.router_cert_add(actor, &handle, add.asn, &csr)
    })
    .await?;
    let status = if events.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(info)).into_response())
}

async fn revoke_router_cert(
    Caller(state, p): Caller,
    Path((handle, asn, ski)): Path<(String, String, String)>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin, Role::CaOperator])?;
    let asn = anchorage_ca_core::roa::parse_asn(&asn)
        .map_err(|e| Problem::bad_request(format!("asn: {e}")))?;
    let who = p.clone();
    change(&state, &p, move |a, actor| {
        authorise(a, &who, &handle, false)?;
        a.router_cert_revoke(actor, &handle, asn, &ski)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /audit` filters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    ca: Option<String>,
    actor: Option<String>,
    /// RFC 3339 time or seconds since the epoch.
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

fn parse_time(field: &str, v: &str) -> Result<i64, Problem> {
    v.parse::<i64>()
        .ok()
        .or_else(|| {
            chrono::DateTime::parse_from_rfc3339(v)
                .ok()
                .map(|t| t.timestamp())
        })
        .ok_or_else(|| {
            Problem::bad_request(format!(
                "{field}: '{v}' is neither RFC 3339 nor seconds since the epoch"
            ))
            .field(field)
        })
}

async fn audit(
    Caller(state, p): Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let mut filter = anchorage_store::AuditFilter {
        actor: q.actor,
        since: q
            .since
            .as_deref()
            .map(|v| parse_time("since", v))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|v| parse_time("until", v))
            .transpose()?,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
        cas: None,
    };
    let entries = engine(&state, move |a| {
        if let Some(ca) = &q.ca {
            // Unscoped tokens may ask about CAs that no longer exist.
            if !p.token.cas.is_empty() {
                authorise(a, &p, ca, false)?;
            }
            filter.cas = Some(vec![ca.clone()]);
        } else if !p.token.cas.is_empty() {
            // A scoped token sees the entries of its CAs and their descendants.
            let all = a.list_cas()?;
            let mut scope: Vec<String> = p.token.cas.clone();
            let mut grew = true;
            while grew {
                grew = false;
                for c in &all {
                    if let Some(parent) = &c.parent
                        && scope.contains(parent)
                        && !scope.contains(&c.handle)
                    {
                        scope.push(c.handle.clone());
                        grew = true;
                    }
                }
            }
            filter.cas = Some(scope);
        }
        let mut entries = a.audit_log(&filter)?;
        if !p.token.cas.is_empty() {
            // A scoped token learns no other token's id (ids are half of
            // a token; the entries of its CAs may name admins' tokens).
            for e in &mut entries {
                let own = &p.token.id;
                e.actor = hide_token_ids(&e.actor, own);
                e.detail = hide_token_ids(&e.detail, own);
                e.before = e.before.as_deref().map(|t| hide_token_ids(t, own));
                e.after = e.after.as_deref().map(|t| hide_token_ids(t, own));
            }
        }
        Ok(entries)
    })
    .await?;
    Ok(Json(entries).into_response())
}

/// `text` with every token id (16 hex digits standing alone) other than
/// `own` replaced by `(hidden)`.
fn hide_token_ids(text: &str, own: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let id = word.len() == 16 && word.bytes().all(|b| b.is_ascii_hexdigit());
        out.push_str(if id && word != own { "(hidden)" } else { word });
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

async fn list_tokens(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    let tokens = engine(&state, |a| a.list_tokens()).await?;
    Ok(Json(tokens).into_response())
}

async fn list_keys(Caller(state, p): Caller) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    let keys = engine(&state, |a| a.key_inventory()).await?;
    Ok(Json(keys).into_response())
}

async fn create_token(Caller(state, p): Caller, req: Request) -> Result<Response, Problem> {
    let bytes = body(req).await?;
    p.require(&[Role::Admin])?;
    let req: CreateToken = parse_body(&bytes)?;
    let role = Role::parse(&req.role).ok_or_else(|| {
        Problem::invalid(format!(
            "role: '{}' is not one of admin, ca-operator, read-only",
            req.role
        ))
        .field("role")
    })?;
    let token = change(&state, &p, move |a, actor| {
        a.create_token(actor, role, &req.cas, &req.description)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

async fn revoke_token(
    Caller(state, p): Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    p.require(&[Role::Admin])?;
    change(&state, &p, move |a, actor| a.revoke_token(actor, &id)).await?;
    if let Ok(mut v) = state.verified.lock() {
        v.clear();
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn scoped_tokens_see_no_other_token_ids() {
        let own = "0123456789abcdef";
        assert_eq!(
            hide_token_ids("token:fedcba9876543210", own),
            "token:(hidden)"
        );
        assert_eq!(
            hide_token_ids("token:0123456789abcdef", own),
            "token:0123456789abcdef"
        );
        assert_eq!(
            hide_token_ids(
                "fedcba9876543210 ca-operator [lir] key 0123456789abcdef0123456789abcdef01234567",
                own
            ),
            "(hidden) ca-operator [lir] key 0123456789abcdef0123456789abcdef01234567"
        );
    }

    #[test]
    fn the_checker_thread_tells_right_from_wrong() {
        let hash = argon2::Argon2::default()
            .hash_password(
                b"right",
                &argon2::password_hash::SaltString::generate(
                    &mut argon2::password_hash::rand_core::OsRng,
                ),
            )
            .unwrap()
            .to_string();
        let checker = SecretChecker::start();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(checker.matches(hash.clone(), "right".into())));
        assert!(!rt.block_on(checker.matches(hash.clone(), "wrong".into())));
        assert!(!rt.block_on(checker.matches("not a hash".into(), "right".into())));
        // The same answers as the argon2 crate's own check.
        for secret in ["right", "wrong", ""] {
            assert_eq!(
                rt.block_on(checker.matches(hash.clone(), secret.into())),
                anchorage_engine::tokens::secret_matches(&hash, secret),
                "{secret}"
            );
        }
    }

    /// The API's router in process, without sockets or TLS: each request
    /// goes through `tower::ServiceExt::oneshot`.
    mod router {
        use super::*;
        use anchorage_engine::ops::{EnginePool, InitOptions, PoolSettings};
        use axum::body::Body;
        use tower::ServiceExt;

        struct Fixture {
            _tmp: tempfile::TempDir,
            app: Router,
            state: Arc<ApiState>,
            admin: String,
            operator: String,
        }

        fn fixture() -> Fixture {
            let tmp = tempfile::tempdir().unwrap();
            let dir = anchorage_engine::datadir::DataDir::new(tmp.path().join("d"));
            let actor = &Actor::named("test");
            let (mut a, _) = Anchorage::init(
                actor,
                dir.clone(),
                &InitOptions::new("rsync://127.0.0.1/repo/", "https://127.0.0.1/rrdp/"),
                anchorage_engine::clock::Clock::System,
            )
            .unwrap();
            a.create_ca(actor, "lir", "AS64496, 192.0.2.0/24".parse().unwrap(), None)
                .unwrap();
            a.create_ca(
                actor,
                "other",
                "AS64497, 198.51.100.0/24".parse().unwrap(),
                None,
            )
            .unwrap();
            let admin = a
                .create_token(actor, Role::Admin, &[], "test")
                .unwrap()
                .token;
            let operator = a
                .create_token(actor, Role::CaOperator, &["lir".into()], "test")
                .unwrap()
                .token;
            drop(a);
            let settings = PoolSettings {
                deferred: true,
                ..PoolSettings::default()
            };
            let pool = EnginePool::open(
                dir,
                anchorage_engine::clock::Clock::System,
                settings,
                std::sync::Arc::new(anchorage_engine::transport::NoTransport),
            )
            .unwrap();
            let state = ApiState::new(
                Arc::new(pool),
                tmp.path().join("no-bgp.csv"),
                ApiSettings {
                    rate: (50, 20.0),
                    body_timeout: std::time::Duration::from_secs(30),
                    exempt: Vec::new(),
                    sessions: SessionPolicy::default(),
                },
            );
            Fixture {
                _tmp: tmp,
                app: router(state.clone()),
                state,
                admin,
                operator,
            }
        }

        async fn send(
            app: &Router,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: &str,
        ) -> (StatusCode, HeaderMap, serde_json::Value) {
            send_with(app, method, path, token, body, &[]).await
        }

        async fn send_with(
            app: &Router,
            method: &str,
            path: &str,
            token: Option<&str>,
            body: &str,
            headers: &[(header::HeaderName, &str)],
        ) -> (StatusCode, HeaderMap, serde_json::Value) {
            let mut req = axum::http::Request::builder().method(method).uri(path);
            if let Some(t) = token {
                req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
            for (name, value) in headers {
                req = req.header(name, *value);
            }
            let req = req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let resp = app.clone().oneshot(req).await.unwrap();
            let (parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            (parts.status, parts.headers, json)
        }

        /// An unknown token id costs the same argon2 check as a wrong
        /// secret for a known one, so timing does not tell ids apart.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn unknown_ids_cost_what_wrong_secrets_do() {
            let f = fixture();
            let runs = || f.state.checker.runs();
            let known_id = format!("{}_{}", &f.admin[..20], "x".repeat(43));
            let unknown_id = format!("anc_0123456789abcdef_{}", "x".repeat(43));
            for token in [&known_id, &unknown_id] {
                let before = runs();
                let (status, _, _) = send(&f.app, "GET", "/api/v1/cas", Some(token), "").await;
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                assert_eq!(runs() - before, 1, "{token}");
            }
            // A valid token is checked once, then remembered.
            let before = runs();
            for _ in 0..3 {
                let (status, _, _) = send(&f.app, "GET", "/api/v1/cas", Some(&f.admin), "").await;
                assert_eq!(status, StatusCode::OK);
            }
            assert_eq!(runs() - before, 1);
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn tokens_scopes_and_problems() {
            let f = fixture();
            let (status, _, body) = send(&f.app, "GET", "/api/v1/cas", None, "").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
            let (status, _, body) = send(&f.app, "GET", "/api/v1/cas", Some(&f.admin), "").await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body.as_array().map(Vec::len), Some(4), "{body}");
            // A CA outside the operator's scope does not exist for it.
            let (status, _, body) =
                send(&f.app, "GET", "/api/v1/cas/other", Some(&f.operator), "").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
            let (status, _, body) = send(
                &f.app,
                "POST",
                "/api/v1/cas/lir/roas",
                Some(&f.operator),
                "{not json",
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(body["status"], 400, "{body}");
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn a_roa_batch_is_one_engine_call_with_its_analysis() {
            let f = fixture();
            let add = r#"{"add": [{"asn": 64496, "prefix": "192.0.2.0/24", "max_length": 26}]}"#;
            // Dry: warnings, nothing applied, the ETag unchanged.
            let (status, before, _) =
                send(&f.app, "GET", "/api/v1/cas/lir/roas", Some(&f.operator), "").await;
            assert_eq!(status, StatusCode::OK);
            let (status, _, body) = send(
                &f.app,
                "POST",
                "/api/v1/cas/lir/roas/dry-run",
                Some(&f.operator),
                add,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["applied"], false, "{body}");
            assert!(
                body["warnings"]
                    .as_array()
                    .is_some_and(|w| w.iter().any(|w| w["code"] == "max-length")),
                "{body}"
            );
            let (_, after, _) =
                send(&f.app, "GET", "/api/v1/cas/lir/roas", Some(&f.operator), "").await;
            assert_eq!(before.get(header::ETAG), after.get(header::ETAG));
            // Applied; a stale If-Match is refused.
            let (status, applied, body) = send(
                &f.app,
                "POST",
                "/api/v1/cas/lir/roas",
                Some(&f.operator),
                add,
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["applied"], true, "{body}");
            assert_eq!(body["added"], 1, "{body}");
            assert_ne!(applied.get(header::ETAG), before.get(header::ETAG));
            let stale = before
                .get(header::ETAG)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            let (status, _, body) = send_with(
                &f.app,
                "POST",
                "/api/v1/cas/lir/roas",
                Some(&f.operator),
                r#"{"add": [{"asn": 64496, "prefix": "192.0.2.0/25"}]}"#,
                &[(header::IF_MATCH, &stale)],
            )
            .await;
            assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
        }

        /// The web interface's sessions: signed in with a token, then the
        /// cookie works only with its CSRF token, with the token's scope,
        /// until signed out or the token is revoked.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sessions_need_their_csrf_token_and_end() {
            let f = fixture();
            let sign_in = format!(r#"{{"token": "{}"}}"#, f.operator);
            // A form post (not JSON) cannot sign in; a wrong token neither.
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/ui/session")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(sign_in.clone()))
                .unwrap();
            let resp = f.app.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            let wrong = format!(r#"{{"token": "{}x"}}"#, f.operator);
            let (status, headers, _) = send(&f.app, "POST", "/ui/session", None, &wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert!(headers.get(header::SET_COOKIE).is_none());

            let (status, headers, body) = send(&f.app, "POST", "/ui/session", None, &sign_in).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let set = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap();
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                assert!(set.contains(attribute), "{set}");
            }
            let cookie = set.split(';').next().unwrap().to_string();
            assert!(cookie.starts_with("__Host-anchorage-session="), "{cookie}");
            let csrf = body["csrf"].as_str().unwrap().to_string();
            assert_eq!(body["role"], "ca-operator");
            assert_eq!(body["cas"], serde_json::json!(["lir"]));
            fn with_cookie<'a>(
                cookie: &'a str,
                csrf: Option<&'a str>,
            ) -> Vec<(header::HeaderName, &'a str)> {
                let mut h = vec![(header::COOKIE, cookie)];
                if let Some(c) = csrf {
                    h.push((header::HeaderName::from_static("x-csrf-token"), c));
                }
                h
            }
            let with = |csrf| with_cookie(&cookie, csrf);

            // No or a wrong CSRF token: refused before anything is read.
            for csrf in [None, Some("forged")] {
                let (status, _, body) =
                    send_with(&f.app, "GET", "/api/v1/cas", None, "", &with(csrf)).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
                assert!(body["detail"].as_str().unwrap().contains("CSRF"), "{body}");
            }
            // With it: the operator's scope, exactly as its bearer token.
            let (status, _, body) =
                send_with(&f.app, "GET", "/api/v1/cas", None, "", &with(Some(&csrf))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (_, _, bearer) = send(&f.app, "GET", "/api/v1/cas", Some(&f.operator), "").await;
            assert_eq!(body, bearer);
            let (status, _, _) = send_with(
                &f.app,
                "GET",
                "/api/v1/cas/other",
                None,
                "",
                &with(Some(&csrf)),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            // A bearer token is never combined with the cookie.
            let (status, _, body) = send_with(
                &f.app,
                "GET",
                "/api/v1/tokens",
                Some(&f.admin),
                "",
                &with(None),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            // The page learns its CSRF token again after a reload.
            let (status, _, body) =
                send_with(&f.app, "GET", "/ui/session", None, "", &with(None)).await;
            assert_eq!(
                (status, body["csrf"].as_str()),
                (StatusCode::OK, Some(csrf.as_str()))
            );

            // Signing out needs the CSRF token; then the cookie is dead.
            let (status, _, _) =
                send_with(&f.app, "DELETE", "/ui/session", None, "", &with(None)).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
            let (status, headers, _) = send_with(
                &f.app,
                "DELETE",
                "/ui/session",
                None,
                "",
                &with(Some(&csrf)),
            )
            .await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            assert!(
                headers[header::SET_COOKIE]
                    .to_str()
                    .unwrap()
                    .contains("Max-Age=0")
            );
            let (status, _, _) =
                send_with(&f.app, "GET", "/api/v1/cas", None, "", &with(Some(&csrf))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);

            // Revoking the token ends its sessions.
            let (_, headers, body) = send(&f.app, "POST", "/ui/session", None, &sign_in).await;
            let cookie = headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .to_string();
            let csrf = body["csrf"].as_str().unwrap().to_string();
            let h = [
                (header::COOKIE, cookie.as_str()),
                (
                    header::HeaderName::from_static("x-csrf-token"),
                    csrf.as_str(),
                ),
            ];
            let (status, _, _) = send_with(&f.app, "GET", "/api/v1/cas", None, "", &h).await;
            assert_eq!(status, StatusCode::OK);
            let id = split(&f.operator).unwrap().0.to_string();
            let (status, _, _) = send(
                &f.app,
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some(&f.admin),
                "",
            )
            .await;
            assert!(status.is_success(), "{status}");
            let (status, _, _) = send_with(&f.app, "GET", "/api/v1/cas", None, "", &h).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }

        /// What the OpenAPI document says an operation answers on success
        /// is what it answers.
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn documented_success_statuses_are_the_real_ones() {
            let f = fixture();
            let doc = crate::openapi::document();
            let documented = |method: &str, path: &str, status: StatusCode| {
                let responses = &doc["paths"][path][method]["responses"];
                assert!(
                    responses.get(status.as_str()).is_some(),
                    "{method} {path} answered {status}; documented: {responses}"
                );
            };
            let body = r#"{"role": "read-only", "description": "t"}"#;
            let (status, _, created) =
                send(&f.app, "POST", "/api/v1/tokens", Some(&f.admin), body).await;
            documented("post", "/api/v1/tokens", status);
            let id = created["id"].as_str().unwrap().to_string();
            let (status, _, _) = send(&f.app, "GET", "/api/v1/tokens", Some(&f.admin), "").await;
            documented("get", "/api/v1/tokens", status);
            let (status, _, _) = send(
                &f.app,
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Some(&f.admin),
                "",
            )
            .await;
            documented("delete", "/api/v1/tokens/{id}", status);
            let ca = r#"{"handle": "new", "parent": "lir", "resources": "AS64496"}"#;
            let (status, _, body) = send(&f.app, "POST", "/api/v1/cas", Some(&f.admin), ca).await;
            assert!(status.is_success(), "{body}");
            documented("post", "/api/v1/cas", status);
            let (status, _, _) =
                send(&f.app, "DELETE", "/api/v1/cas/new", Some(&f.admin), "").await;
            documented("delete", "/api/v1/cas/{handle}", status);
        }
    }
}
