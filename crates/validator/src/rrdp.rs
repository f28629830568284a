//! Fetching over RRDP (RFC 8182) into a local cache, with deltas.
//!
//! Each notification URI gets its own directory under `cache/rrdp/`,
//! named by the SHA-256 of the URI: `state` (session and serial last
//! applied) and `objects/HOST/MODULE/PATH` (the published files). Only CAs
//! whose certificate names that notification URI read from that
//! directory, so one repository cannot plant objects for another.
//!
//! A notification of the same session with a contiguous run of deltas
//! after the cached serial is applied delta by delta (RFC 8182 §3.4.1);
//! anything else (a new session, a gap, a cache that went backwards, a
//! delta that does not apply) downloads the snapshot into a fresh
//! directory and swaps it in. Every file is checked against the hash the
//! notification gives (§3.5.1.3), and every download is size-limited.

use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rpki::rrdp::{
    DeltaInfo, Hash, NotificationFile, ObjectReader, ProcessDelta, ProcessError, ProcessSnapshot,
};
use rpki::uri;
use uuid::Uuid;

use crate::fetch::{FetchError, cache_path};

/// The largest notification file accepted.
pub const MAX_NOTIFICATION: u64 = 16 << 20;
/// The largest snapshot or delta file accepted.
pub const MAX_FILE: u64 = 1 << 30;
/// The largest single object accepted in a snapshot or delta.
pub const MAX_OBJECT: u64 = 16 << 20;
/// The most deltas a notification may list.
pub const MAX_DELTAS: usize = 10_000;

/// What the RRDP fetcher did in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RrdpStats {
    /// Snapshots downloaded and applied.
    pub snapshots: usize,
    /// Deltas downloaded and applied.
    pub deltas: usize,
    /// Notifications whose serial matched the cache: nothing downloaded.
    pub unchanged: usize,
    /// Repositories that failed (the caller falls back to rsync).
    pub failed: usize,
}

/// A problem with one RRDP repository, as a message naming the rule.
#[derive(Debug)]
struct Problem(String);

impl From<ProcessError> for Problem {
    fn from(e: ProcessError) -> Self {
        Problem(format!("malformed RRDP XML: {e}"))
    }
}

impl From<FetchError> for Problem {
    fn from(e: FetchError) -> Self {
        Problem(e.to_string())
    }
}

fn io(what: &Path, e: std::io::Error) -> Problem {
    Problem(format!("{}: {e}", what.display()))
}

/// Fetches RRDP repositories over HTTPS into `cache/rrdp`.
pub struct RrdpFetcher {
    root: PathBuf,
    agent: ureq::Agent,
    done: HashMap<String, Result<PathBuf, String>>,
    stats: RrdpStats,
}

impl std::fmt::Debug for RrdpFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RrdpFetcher")
            .field("root", &self.root)
            .finish()
    }
}

/// Loads the system's trust store plus `extra` PEM certificates.
fn root_certs(extra_pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, FetchError> {
    let mut roots: Vec<_> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    for item in ureq::tls::parse_pem(extra_pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => roots.push(c),
            Ok(_) => {}
            Err(e) => return Err(FetchError::Tls(format!("bad PEM certificate: {e}"))),
        }
    }
    Ok(roots)
}

/// HTTPS settings trusting the system's CAs and the PEM certificates in
/// `extra_roots`, with rustls on aws-lc-rs.
pub fn tls_config(extra_roots: &[u8]) -> Result<ureq::tls::TlsConfig, FetchError> {
    Ok(ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .root_certs(ureq::tls::RootCerts::new_with_certs(&root_certs(
            extra_roots,
        )?))
        .build())
}

impl RrdpFetcher {
    /// A fetcher caching under `cache/rrdp`, trusting the system's CAs and
    /// the PEM certificates in `extra_roots` for HTTPS.
    pub fn new(cache: &Path, extra_roots: &[u8]) -> Result<Self, FetchError> {
        let tls = tls_config(extra_roots)?;
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(300)))
            .user_agent(concat!("anchorage-validator/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(RrdpFetcher {
            root: cache.join("rrdp"),
            agent,
            done: HashMap::new(),
            stats: RrdpStats::default(),
        })
    }

    /// What was fetched so far.
    pub fn stats(&self) -> RrdpStats {
        self.stats
    }

    /// GETs `uri` with at most `limit` bytes of body.
    pub fn get(&self, uri: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let err = |reason: String| FetchError::Http {
            uri: uri.to_string(),
            reason,
        };
        let mut resp = self.agent.get(uri).call().map_err(|e| err(e.to_string()))?;
        resp.body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| err(e.to_string()))
    }

    /// Brings the local copy of the repository behind `notify` up to date
    /// (once per run) and returns the directory its objects are in.
    pub fn update(&mut self, notify: &uri::Https) -> Result<PathBuf, FetchError> {
        if let Some(done) = self.done.get(notify.as_str()) {
            return done.clone().map_err(|reason| FetchError::Rrdp {
                uri: notify.to_string(),
                reason,
            });
        }
        let dir = self
            .root
            .join(&Hash::from_data(notify.as_str().as_bytes()).to_string()[..32]);
        let result = self.sync(notify, &dir).map_err(|p| p.0);
        if result.is_err() {
            self.stats.failed += 1;
        }
        let result = result.map(|()| dir.join("objects"));
        self.done.insert(notify.to_string(), result.clone());
        result.map_err(|reason| FetchError::Rrdp {
            uri: notify.to_string(),
            reason,
        })
    }

    fn sync(&mut self, notify: &uri::Https, dir: &Path) -> Result<(), Problem> {
        let bytes = self.get(notify.as_str(), MAX_NOTIFICATION)?;
        let mut nf = NotificationFile::parse_limited(&bytes[..], MAX_DELTAS)
            .map_err(|e| Problem(format!("malformed notification file: {e}")))?;
        if nf.delta_status().is_err() {
            tracing::info!(%notify, "more than {MAX_DELTAS} deltas listed; using the snapshot");
        }
        // RFC 8182 §3.5.1.3 leaves the origin of snapshot and delta URIs
        // open; like other relying parties we refuse other hosts.
        if !nf.has_matching_origins(notify) {
            return Err(Problem(
                "snapshot or delta URI on another host than the notification".into(),
            ));
        }
        fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let state_file = dir.join("state");
        let state = read_state(&state_file);
        let objects = dir.join("objects");
        let (session, serial) = (nf.session_id(), nf.serial());
        if let Some((s, n)) = state
            && objects.is_dir()
        {
            if s == session && n == serial {
                self.stats.unchanged += 1;
                return Ok(());
            }
            if s == session && n < serial && nf.sort_and_verify_deltas(None) {
                let needed: Vec<&DeltaInfo> =
                    nf.deltas().iter().filter(|d| d.serial() > n).collect();
                let contiguous = needed.first().is_some_and(|d| d.serial() == n + 1)
                    && needed.last().is_some_and(|d| d.serial() == serial);
                if contiguous {
                    match self.apply_deltas(&needed, session, &objects, &state_file) {
                        Ok(()) => return Ok(()),
                        Err(p) => {
                            tracing::warn!(%notify, reason = %p.0, "delta failed; using the snapshot")
                        }
                    }
                }
            }
        }
        let _ = fs::remove_file(&state_file);
        let snapshot = nf.snapshot();
        let data = self.get(snapshot.uri().as_str(), MAX_FILE)?;
        if !snapshot.hash().matches(&data) {
            return Err(Problem(format!(
                "snapshot {} does not match the hash in the notification file (RFC 8182 §3.5.1.3)",
                snapshot.uri()
            )));
        }
        let fresh = dir.join("objects.new");
        let _ = fs::remove_dir_all(&fresh);
        fs::create_dir_all(&fresh).map_err(|e| io(&fresh, e))?;
        SnapshotWriter {
            dir: &fresh,
            session,
            serial,
            dry_run: false,
        }
        .process(&data[..])?;
        let old = dir.join("objects.old");
        let _ = fs::remove_dir_all(&old);
        if objects.exists() {
            fs::rename(&objects, &old).map_err(|e| io(&objects, e))?;
        }
        fs::rename(&fresh, &objects).map_err(|e| io(&fresh, e))?;
        let _ = fs::remove_dir_all(&old);
        write_state(&state_file, session, serial)?;
        self.stats.snapshots += 1;
        tracing::info!(%notify, serial, "RRDP snapshot applied");
        Ok(())
    }

    fn apply_deltas(
        &mut self,
        deltas: &[&DeltaInfo],
        session: Uuid,
        objects: &Path,
        state_file: &Path,
    ) -> Result<(), Problem> {
        for delta in deltas {
            let data = self.get(delta.uri().as_str(), MAX_FILE)?;
            if !delta.hash().matches(&data) {
                return Err(Problem(format!(
                    "delta {} does not match the hash in the notification file",
                    delta.uri()
                )));
            }
            // A delta that fails half-way leaves the cache unusable: drop
            // the state first so the snapshot replaces it.
            let _ = fs::remove_file(state_file);
            DeltaWriter {
                dir: objects,
                session,
                serial: delta.serial(),
                dry_run: false,
            }
            .process(&data[..])?;
            write_state(state_file, session, delta.serial())?;
            self.stats.deltas += 1;
            tracing::info!(uri = %delta.uri(), serial = delta.serial(), "RRDP delta applied");
        }
        Ok(())
    }
}

/// Parses untrusted RRDP XML the way [`RrdpFetcher`] does, writing
/// nothing: `kind` is the file type. Returns whether it was accepted.
/// For fuzzing and hostile-input tests; it must never panic.
pub fn check_untrusted(kind: RrdpFile, data: &[u8]) -> bool {
    let dir = Path::new("/nonexistent/anchorage-rrdp-check");
    match kind {
        RrdpFile::Notification => NotificationFile::parse_limited(data, MAX_DELTAS).is_ok(),
        RrdpFile::Snapshot => SnapshotWriter {
            dir,
            session: Uuid::nil(),
            serial: 0,
            dry_run: true,
        }
        .process(data)
        .is_ok(),
        RrdpFile::Delta => DeltaWriter {
            dir,
            session: Uuid::nil(),
            serial: 0,
            dry_run: true,
        }
        .process(data)
        .is_ok(),
    }
}

/// The three RRDP file types (RFC 8182 §3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RrdpFile {
    /// The notification file.
    Notification,
    /// A snapshot.
    Snapshot,
    /// A delta.
    Delta,
}

fn read_state(path: &Path) -> Option<(Uuid, u64)> {
    let text = fs::read_to_string(path).ok()?;
    let (session, serial) = text.trim().split_once(' ')?;
    Some((session.parse().ok()?, serial.parse().ok()?))
}

fn write_state(path: &Path, session: Uuid, serial: u64) -> Result<(), Problem> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, format!("{session} {serial}\n")).map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn read_object(data: &mut ObjectReader) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    data.take(MAX_OBJECT + 1)
        .read_to_end(&mut out)
        .map_err(|e| Problem(format!("bad base64 object: {e}")))?;
    if out.len() as u64 > MAX_OBJECT {
        return Err(Problem(format!("object larger than {MAX_OBJECT} bytes")));
    }
    Ok(out)
}

fn check_meta(kind: &str, expected: (Uuid, u64), found: (Uuid, u64)) -> Result<(), Problem> {
    if expected != found {
        return Err(Problem(format!(
            "{kind} has session {} serial {}; the notification file says {} {} (RFC 8182 §3.5.2.3)",
            found.0, found.1, expected.0, expected.1
        )));
    }
    Ok(())
}

fn write_object(path: &Path, data: &[u8]) -> Result<(), Problem> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    fs::write(path, data).map_err(|e| io(path, e))
}

struct SnapshotWriter<'a> {
    dir: &'a Path,
    session: Uuid,
    serial: u64,
    /// Check everything but write nothing (for fuzzing).
    dry_run: bool,
}

impl ProcessSnapshot for SnapshotWriter<'_> {
    type Err = Problem;

    fn meta(&mut self, session_id: Uuid, serial: u64) -> Result<(), Problem> {
        if self.dry_run {
            return Ok(());
        }
        check_meta(
            "snapshot",
            (self.session, self.serial),
            (session_id, serial),
        )
    }

    fn publish(&mut self, uri: uri::Rsync, data: &mut ObjectReader) -> Result<(), Problem> {
        let path = cache_path(self.dir, &uri)?;
        let data = read_object(data)?;
        if self.dry_run {
            return Ok(());
        }
        write_object(&path, &data)
    }
}

struct DeltaWriter<'a> {
    dir: &'a Path,
    session: Uuid,
    serial: u64,
    /// Check everything but write nothing (for fuzzing).
    dry_run: bool,
}

impl DeltaWriter<'_> {
    /// RFC 8182 §3.4.2: an update or withdraw names the hash of the file
    /// it replaces, which must be the one we hold.
    fn check_current(&self, uri: &uri::Rsync, path: &Path, hash: &Hash) -> Result<(), Problem> {
        let current = fs::read(path).map_err(|_| {
            Problem(format!(
                "delta replaces or withdraws {uri}, which is not held"
            ))
        })?;
        if !hash.matches(&current) {
            return Err(Problem(format!(
                "delta names a hash for {uri} that is not the held file's (RFC 8182 §3.4.2)"
            )));
        }
        Ok(())
    }
}

impl ProcessDelta for DeltaWriter<'_> {
    type Err = Problem;

    fn meta(&mut self, session_id: Uuid, serial: u64) -> Result<(), Problem> {
        if self.dry_run {
            return Ok(());
        }
        check_meta("delta", (self.session, self.serial), (session_id, serial))
    }

    fn publish(
        &mut self,
        uri: uri::Rsync,
        hash: Option<Hash>,
        data: &mut ObjectReader,
    ) -> Result<(), Problem> {
        let path = cache_path(self.dir, &uri)?;
        match hash {
            Some(hash) => self.check_current(&uri, &path, &hash)?,
            None if path.exists() => {
                return Err(Problem(format!(
                    "delta publishes {uri} without a hash, but it is already held (RFC 8182 §3.4.2)"
                )));
            }
            None => {}
        }
        let data = read_object(data)?;
        if self.dry_run {
            return Ok(());
        }
        write_object(&path, &data)
    }

    fn withdraw(&mut self, uri: uri::Rsync, hash: Hash) -> Result<(), Problem> {
        let path = cache_path(self.dir, &uri)?;
        self.check_current(&uri, &path, &hash)?;
        if self.dry_run {
            return Ok(());
        }
        fs::remove_file(&path).map_err(|e| io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "9df4b597-af9e-4dca-bdda-719cce2c4e28";

    fn snapshot_xml(uri: &str, body: &str) -> String {
        format!(
            r#"<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="{SESSION}" serial="3"><publish uri="{uri}">{body}</publish></snapshot>"#
        )
    }

    fn run_snapshot(xml: &str) -> Result<tempfile::TempDir, Problem> {
        let dir = tempfile::tempdir().unwrap();
        SnapshotWriter {
            dir: dir.path(),
            session: SESSION.parse().unwrap(),
            serial: 3,
            dry_run: false,
        }
        .process(xml.as_bytes())?;
        Ok(dir)
    }

    #[test]
    fn snapshot_objects_land_under_their_uri() {
        let dir = run_snapshot(&snapshot_xml("rsync://h/repo/ca/a.roa", "AQID")).unwrap();
        assert_eq!(
            fs::read(dir.path().join("h/repo/ca/a.roa")).unwrap(),
            [1, 2, 3]
        );
    }

    #[test]
    fn hostile_snapshots_are_refused() {
        // Path traversal, wrong session, bad base64, an entity, not XML.
        for (xml, why) in [
            (
                snapshot_xml("rsync://h/repo/../../etc/x.roa", "AQID"),
                "traversal",
            ),
            (snapshot_xml("rsync://h/repo/ca/a.roa", "!!!"), "base64"),
            (snapshot_xml("rsync://h/repo/ca/a.roa", "&xxe;"), "entity"),
            (
                snapshot_xml("rsync://h/repo/a.roa", "AQID")
                    .replace(SESSION, &Uuid::nil().to_string()),
                "session",
            ),
            (
                "<!DOCTYPE x [<!ENTITY a 'b'>]><snapshot/>".to_string(),
                "doctype",
            ),
            ("\u{0}\u{1}garbage".to_string(), "garbage"),
        ] {
            assert!(run_snapshot(&xml).is_err(), "{why} accepted");
        }
    }

    #[test]
    fn delta_hashes_must_match_the_held_file() {
        let dir = run_snapshot(&snapshot_xml("rsync://h/repo/a.roa", "AQID")).unwrap();
        let held = Hash::from_data(&[1, 2, 3]);
        let other = Hash::from_data(b"other");
        let delta = |body: &str| {
            format!(
                r#"<delta xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="{SESSION}" serial="4">{body}</delta>"#
            )
        };
        let apply = |xml: String| {
            DeltaWriter {
                dir: dir.path(),
                session: SESSION.parse().unwrap(),
                serial: 4,
                dry_run: false,
            }
            .process(xml.as_bytes())
        };
        assert!(
            apply(delta(&format!(
                r#"<withdraw uri="rsync://h/repo/a.roa" hash="{other}"/>"#
            )))
            .is_err()
        );
        assert!(
            apply(delta(
                r#"<publish uri="rsync://h/repo/a.roa">BAU=</publish>"#
            ))
            .is_err()
        );
        apply(delta(&format!(
            r#"<publish uri="rsync://h/repo/a.roa" hash="{held}">BAU=</publish>"#
        )))
        .unwrap();
        assert_eq!(fs::read(dir.path().join("h/repo/a.roa")).unwrap(), [4, 5]);
        let now = Hash::from_data(&[4, 5]);
        apply(delta(&format!(
            r#"<withdraw uri="rsync://h/repo/a.roa" hash="{now}"/>"#
        )))
        .unwrap();
        assert!(!dir.path().join("h/repo/a.roa").exists());
    }
}
