//! The HTTP side of RRDP: serves the files [`crate::repository`] writes.
//!
//! Every response has an ETag and Last-Modified and honours If-None-Match
//! and If-Modified-Since with 304. The notification file may be cached for
//! a minute; snapshot and delta files live at paths that are never reused
//! and are cacheable for a year. Responses are gzip-compressed when the
//! client accepts it.

use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;

/// Where the served files are.
#[derive(Clone, Debug)]
pub struct Files {
    /// The RRDP directory (`DIR/rrdp`).
    pub rrdp_dir: PathBuf,
    /// The directory whose top-level `.cer` files (the TA certificates the
    /// TALs name, one per TA key) are served at the top of the RRDP path.
    pub certs: Option<PathBuf>,
    /// Where the notification files served are recorded, if anywhere.
    pub fetches: Option<std::sync::Arc<crate::fetches::FetchLog>>,
}

/// A router serving the RRDP files under `prefix` (e.g. `/rrdp`).
pub fn router(prefix: &str, files: Files) -> Router {
    let prefix = prefix.trim_end_matches('/');
    Router::new()
        .route(&format!("{prefix}/{{*path}}"), get(serve_file))
        .with_state(files)
        .layer(CompressionLayer::new().gzip(true))
}

fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    if path.is_empty()
        || !path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'))
    {
        return None;
    }
    // No component starting with a dot: RRDP paths never do, and the
    // fetch record (`.fetched`) and temporary files stay private.
    p.components()
        .all(|c| matches!(c, Component::Normal(n) if !n.to_string_lossy().starts_with('.')))
        .then(|| p.to_path_buf())
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        format!(
            "{{\"type\":\"about:blank\",\"title\":\"{}\",\"status\":{},\"detail\":\"{detail}\"}}",
            status.canonical_reason().unwrap_or(""),
            status.as_u16()
        ),
    )
        .into_response()
}

async fn serve_file(
    State(files): State<Files>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(rel) = safe_relative(&path) else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    let cert_dir = files
        .certs
        .as_ref()
        .filter(|_| !path.contains('/') && path.ends_with(".cer"));
    let (file, content_type, immutable) = match cert_dir {
        Some(dir) => (dir.join(&rel), "application/pkix-cert", false),
        None => {
            let immutable = path != "notification.xml";
            (files.rrdp_dir.join(rel), "application/xml", immutable)
        }
    };
    // Open once and take the metadata from the open file, so a
    // notification file replaced meanwhile cannot mix old headers with
    // new content. The body is streamed: a snapshot of a large
    // repository is gigabytes.
    let Ok(mut handle) = tokio::fs::File::open(&file).await else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    if path == "notification.xml"
        && let Some(log) = &files.fetches
    {
        // What this client is about to fetch: the serial from the file's
        // start, the lowest delta from its end.
        use tokio::io::{AsyncReadExt, AsyncSeekExt, SeekFrom};
        const PEEK: u64 = 512;
        let len = handle.metadata().await.map(|m| m.len()).unwrap_or(0);
        let mut head = vec![0u8; PEEK as usize];
        let mut tail = vec![0u8; PEEK as usize];
        let n = handle.read(&mut head).await.unwrap_or(0);
        let m = match handle.seek(SeekFrom::Start(len.saturating_sub(PEEK))).await {
            Ok(_) => handle.read(&mut tail).await.unwrap_or(0),
            Err(_) => 0,
        };
        let complete = len <= PEEK;
        if let Some(served) = crate::fetches::notification_served(&head[..n], &tail[..m], complete)
        {
            log.record(&served, SystemTime::now());
        }
        if handle.seek(SeekFrom::Start(0)).await.is_err() {
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "could not read the file");
        }
    }
    let Ok(meta) = handle.metadata().await else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    if !meta.is_file() {
        return problem(StatusCode::NOT_FOUND, "no such file");
    }
    let modified = meta.modified().unwrap_or(UNIX_EPOCH);
    let len = meta.len();
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let etag = format!("\"{len:x}-{nanos:x}\"");
    let last_modified = httpdate::fmt_http_date(modified);
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=60"
    };
    let not_modified = match headers.get(header::IF_NONE_MATCH) {
        Some(tags) => tags
            .to_str()
            .map(|t| t.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
            .unwrap_or(false),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since: SystemTime| {
                // HTTP dates have one-second resolution.
                modified
                    .duration_since(UNIX_EPOCH)
                    .map(|m| m.as_secs())
                    .unwrap_or(0)
                    <= since
                        .duration_since(UNIX_EPOCH)
                        .map(|s| s.as_secs())
                        .unwrap_or(0)
            }),
    };
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = Body::from_stream(tokio_util::io::ReaderStream::new(handle));
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use tower::ServiceExt;

    fn app(dir: &Path) -> Router {
        router(
            "/rrdp",
            Files {
                rrdp_dir: dir.to_path_buf(),
                certs: None,
                fetches: None,
            },
        )
    }

    #[tokio::test]
    async fn etag_conditional_get_and_cache_headers() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notification.xml"), "<n/>").unwrap();
        std::fs::create_dir_all(tmp.path().join("s/1/r")).unwrap();
        std::fs::write(tmp.path().join("s/1/r/snapshot.xml"), "<s/>").unwrap();
        let get = |uri: &str, h: Option<(&'static str, String)>| {
            let mut req = Request::get(uri);
            if let Some((k, v)) = h {
                req = req.header(k, v);
            }
            app(tmp.path()).oneshot(req.body(Body::empty()).unwrap())
        };
        let r = get("/rrdp/notification.xml", None).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CACHE_CONTROL], "public, max-age=60");
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
        let lm = r.headers()[header::LAST_MODIFIED]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(
            get("/rrdp/notification.xml", Some(("if-none-match", etag)))
                .await
                .unwrap()
                .status(),
            304
        );
        assert_eq!(
            get("/rrdp/notification.xml", Some(("if-modified-since", lm)))
                .await
                .unwrap()
                .status(),
            304
        );
        let r = get("/rrdp/s/1/r/snapshot.xml", None).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(r.headers()[header::CONTENT_LENGTH], "4");
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"<s/>");
        for bad in [
            "/rrdp/../secret",
            "/rrdp/s/%2e%2e/x",
            "/rrdp/missing.xml",
            "/rrdp/a%00b",
        ] {
            assert_eq!(get(bad, None).await.unwrap().status(), 404, "{bad}");
        }
    }

    #[tokio::test]
    async fn top_level_certificates_come_from_the_certificate_directory() {
        let rrdp = tempfile::tempdir().unwrap();
        let certs = tempfile::tempdir().unwrap();
        std::fs::write(certs.path().join("ta.cer"), "A").unwrap();
        std::fs::write(certs.path().join("ta-ABCD.cer"), "B").unwrap();
        std::fs::create_dir_all(certs.path().join("online")).unwrap();
        std::fs::write(certs.path().join("online/x.cer"), "C").unwrap();
        std::fs::create_dir_all(rrdp.path().join("s")).unwrap();
        std::fs::write(rrdp.path().join("s/x.cer"), "D").unwrap();
        let app = router(
            "/rrdp",
            Files {
                rrdp_dir: rrdp.path().to_path_buf(),
                certs: Some(certs.path().to_path_buf()),
                fetches: None,
            },
        );
        let get = |uri: &'static str| {
            app.clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        };
        for (uri, body) in [
            ("/rrdp/ta.cer", "A"),
            ("/rrdp/ta-ABCD.cer", "B"),
            ("/rrdp/s/x.cer", "D"),
        ] {
            let r = get(uri).await.unwrap();
            assert_eq!(r.status(), 200, "{uri}");
            let got = axum::body::to_bytes(r.into_body(), 16).await.unwrap();
            assert_eq!(&got[..], body.as_bytes(), "{uri}");
        }
        // Only the top level of the certificate directory is served.
        assert_eq!(get("/rrdp/online/x.cer").await.unwrap().status(), 404);
    }

    #[tokio::test]
    async fn notification_fetches_are_recorded_and_the_record_is_not_served() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("notification.xml"),
            r#"<notification xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="s-1" serial="5"></notification>"#,
        )
        .unwrap();
        let app = router(
            "/rrdp",
            Files {
                rrdp_dir: tmp.path().to_path_buf(),
                certs: None,
                fetches: Some(std::sync::Arc::new(crate::fetches::FetchLog::new(
                    tmp.path(),
                ))),
            },
        );
        let get = |uri: &'static str| {
            app.clone()
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        };
        let r = get("/rrdp/notification.xml").await.unwrap();
        assert_eq!(r.status(), 200);
        let body = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
        assert!(
            body.starts_with(b"<notification"),
            "served whole after the peek"
        );
        let seen = crate::fetches::recent(tmp.path(), SystemTime::now());
        let served = crate::fetches::Served {
            session: "s-1".into(),
            serial: 5,
            lowest: 5,
        };
        assert!(seen.contains(&served), "{seen:?}");
        assert_eq!(get("/rrdp/.fetched").await.unwrap().status(), 404);
    }

    #[tokio::test]
    async fn gzip_when_accepted() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("notification.xml"), "<n/>".repeat(1000)).unwrap();
        let req = Request::get("/rrdp/notification.xml")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .unwrap();
        let r = app(tmp.path()).oneshot(req).await.unwrap();
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
    }
}
