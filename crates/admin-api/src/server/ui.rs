//! The web interface at `/`: a page and its script and style, embedded
//! in the binary, that call `/api/v1` like any client, and the sign-in
//! sessions they call it with.
//!
//! Signing in takes an API token once (`POST /ui/session`, JSON, so a
//! cross-site form cannot sign anyone in); the answer sets a session
//! cookie, `__Host-anchorage-session`, HttpOnly, Secure, SameSite=Strict
//! and Path=/, and returns the session's CSRF token. A request to the API
//! that carries the cookie instead of a bearer token must carry the CSRF
//! token in `X-CSRF-Token` too, whatever its method, or it is refused
//! (403) before anything is read. A session ends after
//! [`SessionPolicy::idle`] without a request, after
//! [`SessionPolicy::max`] in any case, when it is signed out
//! (`DELETE /ui/session`), when its token is revoked (checked on every
//! request, as for bearer tokens) and when `serve` restarts: sessions
//! are kept in memory only, so signing in again is the only cost of a
//! restart or of a failover to another instance. The session acts with
//! its token's role and scope, exactly: the API checks them the same way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiState, Principal, RequestId, authenticate, body, engine};
use crate::Problem;
use crate::model::parse_body;

/// The session cookie's name; `__Host-` makes browsers require Secure,
/// Path=/ and no Domain (RFC 6265bis §4.1.3.2).
pub const COOKIE: &str = "__Host-anchorage-session";

/// The header that carries a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Sessions kept at most; beyond, the one idle longest is ended. Only
/// holders of valid tokens open sessions, and each token at most
/// [`MAX_PER_TOKEN`], so crowding others out takes over 300 tokens; the
/// bound is on memory, not on who may sign in.
const MAX_SESSIONS: usize = 10_000;

/// Sessions one token may hold at once; beyond, its oldest is ended.
const MAX_PER_TOKEN: usize = 32;

/// How long sessions last.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Ended after this long without a request.
    pub idle: Duration,
    /// Ended this long after sign-in in any case.
    pub max: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::from_secs(30 * 60),
            max: Duration::from_secs(12 * 3600),
        }
    }
}

/// One signed-in browser.
#[derive(Clone, Debug)]
struct Session {
    /// The token it acts with.
    token_id: String,
    /// What `X-CSRF-Token` must say.
    csrf: String,
    /// When it was signed in.
    created: Instant,
    /// Sign-ins so far when it was opened: orders sessions opened at
    /// the same instant.
    order: u64,
    /// Its last request.
    seen: Instant,
}

/// The sessions, by SHA-256 of their cookie value (a memory dump does
/// not give the cookies away).
#[derive(Debug)]
pub struct Sessions {
    policy: SessionPolicy,
    live: Mutex<HashMap<Vec<u8>, Session>>,
    opened: std::sync::atomic::AtomicU64,
}

/// Why a session cookie was not taken.
enum Refused {
    /// Unknown, ended or expired: sign in again.
    Expired,
    /// The CSRF header is missing or wrong.
    Csrf,
}

impl Sessions {
    /// No sessions yet, lasting as `policy` says.
    pub fn new(policy: SessionPolicy) -> Sessions {
        Sessions {
            policy,
            live: Mutex::new(HashMap::new()),
            opened: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How long sessions last.
    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    fn key(cookie: &str) -> Vec<u8> {
        rpki::crypto::DigestAlgorithm::sha256()
            .digest(cookie.as_bytes())
            .as_ref()
            .to_vec()
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.seen) >= self.policy.idle
            || now.duration_since(s.created) >= self.policy.max
    }

    /// Opens a session for `token_id`; returns its cookie value and CSRF
    /// token.
    fn open(&self, token_id: &str) -> (String, String) {
        let cookie = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let order = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, s| !self.expired(s, now));
        let mut theirs: Vec<(Vec<u8>, u64)> = live
            .iter()
            .filter(|(_, s)| s.token_id == token_id)
            .map(|(k, s)| (k.clone(), s.order))
            .collect();
        if theirs.len() >= MAX_PER_TOKEN {
            theirs.sort_by_key(|(_, order)| *order);
            for (k, _) in &theirs[..=theirs.len() - MAX_PER_TOKEN] {
                live.remove(k);
            }
        }
        if live.len() >= MAX_SESSIONS
            && let Some(k) = live
                .iter()
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone())
        {
            live.remove(&k);
        }
        live.insert(
            Sessions::key(&cookie),
            Session {
                token_id: token_id.to_string(),
                csrf: csrf.clone(),
                created: now,
                order,
                seen: now,
            },
        );
        (cookie, csrf)
    }

    /// The live session of `cookie`, its last request set to now;
    /// with `csrf`, only if that is its CSRF token.
    fn touch(&self, cookie: &str, csrf: Option<&str>) -> Result<Session, Refused> {
        let key = Sessions::key(cookie);
        let now = Instant::now();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let Some(s) = live.get_mut(&key) else {
            return Err(Refused::Expired);
        };
        if self.expired(s, now) {
            live.remove(&key);
            return Err(Refused::Expired);
        }
        if let Some(csrf) = csrf
            && !same(csrf.as_bytes(), s.csrf.as_bytes())
        {
            return Err(Refused::Csrf);
        }
        s.seen = now;
        Ok(s.clone())
    }

    /// Ends the session of `cookie`, if any.
    fn end(&self, cookie: &str) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(&Sessions::key(cookie));
    }
}

/// Compares two secrets in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 256 random bits, base64url.
fn random_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session cookie's value in `headers`, if there is one.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn expired_problem() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "Session expired",
        "the session has ended (signed out, idle too long, or the server restarted); sign in again",
    )
}

/// The caller of an API request made with a session cookie: the session
/// must be live and the request must carry its CSRF token; the token it
/// acts with is looked up again (a revoked token ends its sessions).
pub(super) async fn session_principal(
    state: &Arc<ApiState>,
    cookie: &str,
    headers: &HeaderMap,
    request_id: &RequestId,
) -> Result<Principal, Problem> {
    let Some(csrf) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(csrf_problem());
    };
    let session = match state.sessions.touch(cookie, Some(csrf)) {
        Ok(s) => s,
        Err(Refused::Expired) => return Err(expired_problem()),
        Err(Refused::Csrf) => return Err(csrf_problem()),
    };
    state
        .limiter
        .check(&session.token_id)
        .map_err(Problem::too_many)?;
    let id = session.token_id.clone();
    let Some((token, _)) = engine(state, move |a| a.token_for_check(&id)).await? else {
        state.sessions.end(cookie);
        return Err(expired_problem());
    };
    Ok(Principal {
        token,
        request_id: request_id.0.clone(),
    })
}

fn csrf_problem() -> Problem {
    Problem::forbidden(format!(
        "a request made with the session cookie needs the session's CSRF token in {CSRF_HEADER}"
    ))
}

/// `POST /ui/session`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    /// An API token, `anc_<id>_<secret>`.
    token: String,
}

/// A session as the page sees it.
#[derive(Debug, Serialize)]
struct SessionView {
    /// What `X-CSRF-Token` must say.
    csrf: String,
    /// The token's id.
    token_id: String,
    /// Its role.
    role: &'static str,
    /// The CAs it is limited to (empty: all).
    cas: Vec<String>,
    /// Seconds without a request after which the session ends.
    idle_seconds: u64,
}

/// The routes of the web interface, merged into the API's router.
pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/", get(index))
        .route("/ui/app.js", get(script))
        .route("/ui/app.css", get(style))
        .route(
            "/ui/session",
            get(show_session).post(sign_in).delete(sign_out),
        )
}

/// Headers of every page and asset: no framing, no inline script, no
/// other origins, no caching of what a signed-in user saw.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn index() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    )
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../ui/app.js"),
    )
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../ui/app.css"))
}

/// `resp`, not to be cached: it carries a CSRF token.
fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The cookie that opens (`value`, lasting `max`) or ends (none) a session.
fn set_cookie(value: Option<(&str, Duration)>) -> HeaderValue {
    let text = match value {
        Some((v, max)) => format!(
            "{COOKIE}={v}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
            max.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn view(state: &ApiState, p: &Principal, csrf: String) -> SessionView {
    SessionView {
        csrf,
        token_id: p.token.id.clone(),
        role: p.token.role.as_str(),
        cas: p.token.cas.clone(),
        idle_seconds: state.sessions.policy().idle.as_secs(),
    }
}

async fn sign_in(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    axum::Extension(rid): axum::Extension<RequestId>,
    req: Request,
) -> Result<Response, Problem> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            "sign in with a JSON body: {\"token\": \"anc_...\"}",
        ));
    }
    // A session the browser already had ends: one browser, one session.
    let previous = session_cookie(req.headers()).map(str::to_string);
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let bytes = body(req).await?;
    let SignIn { token } = parse_body(&bytes)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {}", token.trim()))
            .map_err(|_| Problem::unauthorized())?,
    );
    let p = authenticate(&state, peer, &headers, &rid).await?;
    if let Some(previous) = previous {
        state.sessions.end(&previous);
    }
    let (cookie, csrf) = state.sessions.open(&p.token.id);
    tracing::info!(token = %p.token.id, request = %rid.0, "UI session opened");
    let mut resp = no_store((StatusCode::CREATED, Json(view(&state, &p, csrf))).into_response());
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(Some((&cookie, state.sessions.policy().max))),
    );
    Ok(resp)
}

/// The session of the cookie, with its CSRF token, for a page loaded
/// again; the CSRF token is not needed for this (a page of another
/// origin cannot read the answer).
async fn show_session(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    axum::Extension(rid): axum::Extension<RequestId>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let cookie = session_cookie(&headers).ok_or_else(expired_problem)?;
    let session = state
        .sessions
        .touch(cookie, None)
        .map_err(|_| expired_problem())?;
    let mut with_csrf = headers.clone();
    with_csrf.insert(
        CSRF_HEADER,
        HeaderValue::from_str(&session.csrf).map_err(|_| Problem::internal())?,
    );
    let p = session_principal(&state, cookie, &with_csrf, &rid).await?;
    Ok(no_store(
        Json(view(&state, &p, session.csrf)).into_response(),
    ))
}

/// Signs out: needs the CSRF token, so another site cannot sign a user out.
async fn sign_out(
    axum::extract::State(state): axum::extract::State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let cookie = session_cookie(&headers).ok_or_else(expired_problem)?;
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(csrf_problem)?;
    match state.sessions.touch(cookie, Some(csrf)) {
        Ok(_) => {}
        Err(Refused::Csrf) => return Err(csrf_problem()),
        Err(Refused::Expired) => {}
    }
    state.sessions.end(cookie);
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(None));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle_and_at_their_limit_and_check_csrf() {
        let s = Sessions::new(SessionPolicy {
            idle: Duration::from_millis(200),
            max: Duration::from_secs(3600),
        });
        let (cookie, csrf) = s.open("t1");
        assert!(s.touch(&cookie, Some(&csrf)).is_ok());
        assert!(matches!(
            s.touch(&cookie, Some("wrong")),
            Err(Refused::Csrf)
        ));
        assert!(matches!(
            s.touch("other", Some(&csrf)),
            Err(Refused::Expired)
        ));
        std::thread::sleep(Duration::from_millis(250));
        assert!(matches!(s.touch(&cookie, None), Err(Refused::Expired)));

        let s = Sessions::new(SessionPolicy {
            idle: Duration::from_secs(3600),
            max: Duration::from_millis(200),
        });
        let (cookie, _) = s.open("t1");
        std::thread::sleep(Duration::from_millis(120));
        assert!(s.touch(&cookie, None).is_ok());
        std::thread::sleep(Duration::from_millis(120));
        assert!(matches!(s.touch(&cookie, None), Err(Refused::Expired)));
    }

    #[test]
    fn a_token_holds_a_bounded_number_of_sessions() {
        let s = Sessions::new(SessionPolicy::default());
        let first = s.open("t1").0;
        for _ in 0..MAX_PER_TOKEN {
            s.open("t1");
        }
        assert!(s.touch(&first, None).is_err(), "the oldest was ended");
        let other = s.open("t2").0;
        assert!(s.touch(&other, None).is_ok());
        s.end(&other);
        assert!(s.touch(&other, None).is_err());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-anchorage-session=abc; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("anchorage-session=x"),
        );
        assert_eq!(session_cookie(&h), None);
    }
}
