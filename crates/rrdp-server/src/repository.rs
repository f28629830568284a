//! Writing RRDP snapshot, delta and notification files.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rpki::rrdp::{
    DeltaElement, DeltaInfo, Hash, NotificationFile, PublishElement, UpdateElement, UriAndHash,
    WithdrawElement,
};
use rpki::uri;
use uuid::Uuid;

/// Errors while writing RRDP files.
#[derive(Debug, thiserror::Error)]
pub enum RrdpError {
    /// A file could not be written.
    #[error("writing RRDP file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A URI could not be formed.
    #[error("invalid URI '{0}' in RRDP")]
    BadUri(String),
    /// The objects to publish could not be read.
    #[error("reading the objects to publish: {0}")]
    Source(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RrdpError + '_ {
    move |source| RrdpError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A delta still listed in the notification file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaRecord {
    /// The serial the delta leads to.
    pub serial: u64,
    /// Its path below the RRDP base URI.
    pub path: String,
    /// SHA-256 of the file, hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was written, seconds since the epoch.
    pub created: i64,
}

/// What RRDP last published: session, serial, snapshot, deltas, objects.
#[derive(Clone, Debug, Default)]
pub struct RrdpState {
    /// The session; `None` before the first publication.
    pub session: Option<Uuid>,
    /// The current serial.
    pub serial: u64,
    /// The current snapshot: path below the base URI, hex SHA-256, size.
    pub snapshot: Option<DeltaRecord>,
    /// Deltas listed in the notification file, newest first.
    pub deltas: Vec<DeltaRecord>,
    /// Every published rsync URI and the SHA-256 of its content.
    pub objects: BTreeMap<String, [u8; 32]>,
}

/// A new RRDP serial, to be stored by the caller.
#[derive(Clone, Debug)]
pub struct RrdpUpdate {
    /// The session (new if the previous one could not be continued).
    pub session: Uuid,
    /// Whether this starts a new session (the object table must be replaced).
    pub new_session: bool,
    /// The new serial.
    pub serial: u64,
    /// The new snapshot.
    pub snapshot: DeltaRecord,
    /// The notification file listing the snapshot and deltas.
    notification: Vec<u8>,
    /// The deltas now listed, newest first.
    pub deltas: Vec<DeltaRecord>,
    /// URIs published or updated, with their new hashes.
    pub published: Vec<(String, [u8; 32])>,
    /// URIs withdrawn.
    pub withdrawn: Vec<String>,
}

/// How long a client that read a notification file may take to fetch
/// what it lists: a superseded snapshot, or a delta no longer listed,
/// stays while a notification that listed it was served within this time
/// ([`crate::fetches`]); another session's files stay this long.
pub const GRACE: Duration = Duration::from_secs(600);

/// The most deltas the notification file lists. Group publication makes
/// up to ten serials a second under load; without a cap, an hour of them
/// made every publication rewrite thousands of delta records and
/// notification entries (measured: a 1,000-change burst published one by
/// one slowed from 17 ms to 65 ms per change). A relying party further
/// behind than this loads the snapshot.
pub const MAX_DELTAS: usize = 500;

/// The RRDP files of a repository, under `dir`, served at `base_uri`.
#[derive(Clone, Debug)]
pub struct RrdpRepository {
    dir: PathBuf,
    base_uri: String,
    /// When files no longer listed were last looked for.
    last_prune: PruneClock,
}

/// When a process last looked for RRDP files no longer listed: shared by
/// every [`RrdpRepository`] of the process on one directory (see
/// [`RrdpRepository::sharing_prune`]), so that its connections together
/// scan at most every [`PRUNE_EVERY`], not each on its own.
#[derive(Clone, Debug, Default)]
pub struct PruneClock(std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>);

/// How often files no longer listed are looked for: the scan reads every
/// serial directory, and under load serials come ten a second (measured:
/// 130 ms per publication with 2,000 serial directories).
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// What [`RrdpRepository::prepare_from`] calls with each object of the
/// state: its rsync URI, content and stored SHA-256.
pub type EachObject<'a> = dyn FnMut(&str, &[u8], [u8; 32]) -> Result<(), RrdpError> + 'a;

/// The RRDP XML namespace (RFC 8182 §3.5).
const RRDP_NS: &str = "http://www.ripe.net/rpki/rrdp";

/// Appends `value` to `out` escaped for a double-quoted XML attribute.
fn escape_attr(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
fn sha256(data: &[u8]) -> [u8; 32] {
    let hash = Hash::from_data(data);
    hash.into()
}

/// The session and serial of the notification file on disk, if any.
fn read_notification(path: &Path) -> Option<(Uuid, u64)> {
    let file = fs::File::open(path).ok()?;
    let n = NotificationFile::parse(io::BufReader::new(file)).ok()?;
    Some((n.session_id(), n.serial()))
}

fn random_component() -> String {
    Uuid::new_v4().simple().to_string()
}

impl RrdpRepository {
    /// RRDP files in `dir` (normally `DIR/rrdp`), served at `base_uri`
    /// (`https://HOST/rrdp/`, with the trailing slash).
    pub fn new(dir: impl Into<PathBuf>, base_uri: impl Into<String>) -> Self {
        RrdpRepository {
            last_prune: Default::default(),
            dir: dir.into(),
            base_uri: base_uri.into(),
        }
    }

    /// The same repository, looking for files no longer listed on
    /// `clock`, which other repositories of the process share.
    pub fn sharing_prune(mut self, clock: &PruneClock) -> Self {
        self.last_prune = clock.clone();
        self
    }

    /// The https URI the files are served at, ending in `/`.
    pub fn base_uri(&self) -> &str {
        &self.base_uri
    }

    /// The notification file.
    pub fn notification_path(&self) -> PathBuf {
        self.dir.join("notification.xml")
    }

    fn https(&self, path: &str) -> Result<uri::Https, RrdpError> {
        let s = format!("{}{path}", self.base_uri);
        uri::Https::from_string(s.clone()).map_err(|_| RrdpError::BadUri(s))
    }

    /// Whether the notification file on disk announces `session` and
    /// `serial`: then a state that has not changed since needs no serial.
    pub fn announces(&self, session: Uuid, serial: u64) -> bool {
        read_notification(&self.notification_path()) == Some((session, serial))
    }

    /// Writes the snapshot and delta files of a new serial for the
    /// repository state `objects` (rsync URI, content, and its SHA-256 as
    /// stored with it, so that no unchanged object is hashed again); see
    /// [`Self::prepare_from`].
    pub fn prepare(
        &self,
        prev: &RrdpState,
        objects: &[(String, Bytes, [u8; 32])],
        now: i64,
    ) -> Result<Option<RrdpUpdate>, RrdpError> {
        self.prepare_from(
            prev,
            &mut |f: &mut EachObject<'_>| objects.iter().try_for_each(|(u, b, h)| f(u, b, *h)),
            now,
        )
    }

    /// Writes the snapshot and delta files of a new serial for the
    /// repository state that `each` calls its argument with, one object
    /// at a time (rsync URI, content, stored SHA-256): the snapshot is
    /// streamed to its file as the objects come, and only the objects that
    /// changed since `prev` are held, for the delta.
    ///
    /// The new serial is not visible until [`Self::announce`] replaces the
    /// notification file, which the caller does after storing the update,
    /// so a crash in between never leaves the notification file ahead of
    /// the store. Returns `None` when nothing changed since `prev`. A new session is
    /// started when there is none, or when the notification file on disk
    /// is ahead of `prev` (the store was restored from a backup, RFC 8182
    /// §3.3.2: the serial must never go back within a session).
    pub fn prepare_from(
        &self,
        prev: &RrdpState,
        each: &mut dyn FnMut(&mut EachObject<'_>) -> Result<(), RrdpError>,
        now: i64,
    ) -> Result<Option<RrdpUpdate>, RrdpError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let on_disk = read_notification(&self.notification_path());
        // Continue the session only when the notification file on disk is
        // the one the store last announced or an older one of this session
        // (a crash between commit and announce). A file of another session
        // is taken over by a new one; a missing file (the RRDP directory
        // lost or not restored) too, since the deltas it listed are gone.
        let continued = match (prev.session, on_disk) {
            (Some(s), Some((ds, dserial))) => ds == s && dserial <= prev.serial,
            (Some(_), None) | (None, _) => false,
        };
        // A serial committed but not announced (a crash or a failed write
        // between the two): announce it now, from what the store kept of
        // it; the changes since go into the next serial. Where the store
        // kept no snapshot record (written before it did), a new session.
        let behind = on_disk.is_some_and(|(_, dserial)| dserial < prev.serial);
        if continued
            && behind
            && let (Some(session), Some(snapshot)) = (prev.session, &prev.snapshot)
        {
            tracing::warn!(
                serial = prev.serial,
                "RRDP serial committed but not announced: announcing it"
            );
            return Ok(Some(RrdpUpdate {
                session,
                new_session: false,
                serial: prev.serial,
                snapshot: snapshot.clone(),
                notification: self.notification(session, prev.serial, snapshot, &prev.deltas)?,
                deltas: prev.deltas.clone(),
                published: Vec::new(),
                withdrawn: Vec::new(),
            }));
        }
        let continued = continued && !(behind && prev.snapshot.is_none());
        let (session, serial, new_session) = if continued {
            (
                prev.session.expect("continued implies a session"),
                prev.serial + 1,
                false,
            )
        } else {
            if prev.session.is_some() {
                tracing::warn!(
                    "RRDP notification file on disk is ahead of the store (restored from backup?): starting a new session"
                );
            }
            (Uuid::new_v4(), 1, true)
        };

        let dir_rel = format!("{session}/{serial}/{}", random_component());
        let dir = self.dir.join(&dir_rel);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;

        // The snapshot (RFC 8182 §3.5.2) is written as the objects come,
        // and the delta against the previous state (§3.5.3) collected from
        // the same pass: what is new or changed, then what is gone.
        let mut elements: Vec<DeltaElement> = Vec::new();
        let mut published = Vec::new();
        let mut withdrawn = Vec::new();
        let mut old: BTreeMap<&str, [u8; 32]> = if new_session {
            BTreeMap::new()
        } else {
            prev.objects.iter().map(|(u, h)| (u.as_str(), *h)).collect()
        };
        // An error of `each` (the store), kept as it is rather than as the
        // file's I/O error.
        let mut failed: Option<RrdpError> = None;
        let written = write_file(&dir, &dir_rel, "snapshot.xml", serial, now, |w| {
            writeln!(
                w,
                "<snapshot xmlns=\"{RRDP_NS}\" version=\"1\" session_id=\"{session}\" serial=\"{serial}\">"
            )?;
            let mut text = String::new();
            let result = each(&mut |u, data, hash| {
                let rsync = uri::Rsync::from_string(u.to_string())
                    .map_err(|_| RrdpError::BadUri(u.to_string()))?;
                text.clear();
                text.push_str("<publish uri=\"");
                escape_attr(&mut text, u);
                text.push_str("\">");
                base64::Engine::encode_string(
                    &base64::engine::general_purpose::STANDARD,
                    data,
                    &mut text,
                );
                text.push_str("</publish>\n");
                if let Err(source) = w.write_all(text.as_bytes()) {
                    return Err(RrdpError::Io {
                        path: PathBuf::from("snapshot.xml"),
                        source,
                    });
                }
                // A new session has no delta: nothing is held for one.
                if new_session {
                    published.push((u.to_string(), hash));
                    return Ok(());
                }
                match old.remove(u) {
                    Some(h) if h == hash => return Ok(()),
                    Some(h) => elements.push(
                        UpdateElement::new(rsync, Hash::from(h), Bytes::copy_from_slice(data))
                            .into(),
                    ),
                    None => elements
                        .push(PublishElement::new(rsync, Bytes::copy_from_slice(data)).into()),
                }
                published.push((u.to_string(), hash));
                Ok(())
            });
            if let Err(e) = result {
                let message = e.to_string();
                failed = Some(e);
                return Err(io::Error::other(message));
            }
            w.write_all(b"</snapshot>\n")
        });
        let snapshot_rec = match (written, failed) {
            (Ok(rec), None) => rec,
            (Err(e), None) | (_, Some(e)) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        for (u, h) in old {
            let rsync = uri::Rsync::from_string(u.to_string())
                .map_err(|_| RrdpError::BadUri(u.to_string()))?;
            elements.push(WithdrawElement::new(rsync, Hash::from(h)).into());
            withdrawn.push(u.to_string());
        }
        published.sort();
        if !new_session && elements.is_empty() {
            let _ = fs::remove_dir_all(&dir);
            // The serial directory too, where this left it empty.
            if let Some(parent) = dir.parent() {
                let _ = fs::remove_dir(parent);
            }
            return Ok(None);
        }

        let mut deltas = Vec::new();
        if !new_session {
            let delta = rpki::rrdp::Delta::new(session, serial, elements);
            deltas.push(write_file(&dir, &dir_rel, "delta.xml", serial, now, |w| {
                delta.write_xml(w)
            })?);
            // RFC 8182 §3.3.2: older deltas that would make all listed
            // deltas together larger than the snapshot MUST be left out;
            // the list stays contiguous down from the serial.
            let mut total = deltas[0].size;
            for d in &prev.deltas {
                if deltas.len() >= MAX_DELTAS {
                    break;
                }
                total += d.size;
                if total > snapshot_rec.size {
                    break;
                }
                deltas.push(d.clone());
            }
        }

        let notification = self.notification(session, serial, &snapshot_rec, &deltas)?;
        Ok(Some(RrdpUpdate {
            session,
            new_session,
            serial,
            snapshot: snapshot_rec,
            notification,
            deltas,
            published,
            withdrawn,
        }))
    }

    /// The notification file (RFC 8182 §3.5.1) of `serial`, listing its
    /// snapshot and `deltas` (newest first).
    fn notification(
        &self,
        session: Uuid,
        serial: u64,
        snapshot: &DeltaRecord,
        deltas: &[DeltaRecord],
    ) -> Result<Vec<u8>, RrdpError> {
        let notification = NotificationFile::new(
            session,
            serial,
            UriAndHash::new(self.https(&snapshot.path)?, parse_hash(&snapshot.hash)),
            deltas
                .iter()
                .map(|d| {
                    Ok(DeltaInfo::new(
                        d.serial,
                        self.https(&d.path)?,
                        parse_hash(&d.hash),
                    ))
                })
                .collect::<Result<_, RrdpError>>()?,
        );
        let mut buf = Vec::new();
        notification
            .write_xml(&mut buf)
            .map_err(io_err(&self.notification_path()))?;
        Ok(buf)
    }

    /// Makes a prepared serial visible: replaces the notification file
    /// atomically, then removes at once the snapshot two serials back
    /// unless a notification served within [`GRACE`] named it; the rest
    /// of what no client can still need (see [`Self::prune`]) goes in a
    /// scan at most every [`PRUNE_EVERY`] — deltas that left the list
    /// only there, so that a fetch of the notification that still listed
    /// them, recorded an instant after this announcement, is seen first.
    pub fn announce(&self, update: &RrdpUpdate) -> Result<(), RrdpError> {
        replace_file(&self.notification_path(), &update.notification)?;
        let fetched = crate::fetches::recent(&self.dir, SystemTime::now());
        let session = update.session.to_string();
        if let Some(older) = update.serial.checked_sub(2)
            && !fetched.iter().any(|f| f.names_snapshot(&session, older))
        {
            self.remove_snapshot(&session, older);
        }

        let due = match self.last_prune.0.lock() {
            Ok(mut last) => {
                let due = last.is_none_or(|t| t.elapsed() >= PRUNE_EVERY);
                if due {
                    *last = Some(std::time::Instant::now());
                }
                due
            }
            Err(_) => true,
        };
        if due {
            self.prune(update.session, &update.snapshot, &update.deltas);
        }
        tracing::debug!(
            session = %update.session,
            serial = update.serial,
            published = update.published.len(),
            withdrawn = update.withdrawn.len(),
            "RRDP serial announced"
        );
        Ok(())
    }

    /// Removes the snapshot file of `serial` of `session`, if still there.
    fn remove_snapshot(&self, session: &str, serial: u64) {
        let dir = self.dir.join(session).join(serial.to_string());
        for rnd in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let _ = fs::remove_file(rnd.path().join("snapshot.xml"));
        }
    }

    /// Removes what no client can still need.
    ///
    /// A snapshot is needed while it is the current one or the previous
    /// one (a client may have read the previous notification an instant
    /// ago), or while its notification file was served within [`GRACE`]
    /// (a client may still be downloading it; [`crate::fetches`]). A
    /// delta is needed while it is listed, or while a notification served
    /// within [`GRACE`] listed it. Other sessions' files go after
    /// [`GRACE`]. Without an HTTP server recording fetches (CLI commands
    /// without `serve`, or another server in front of the files), the
    /// current and previous snapshot and the listed deltas stay.
    fn prune(&self, session: Uuid, snapshot: &DeltaRecord, deltas: &[DeltaRecord]) {
        // A set: with hundreds of deltas listed, comparing every file
        // against a list of paths showed up in profiles.
        let mut keep: std::collections::HashSet<PathBuf> =
            deltas.iter().map(|d| self.dir.join(&d.path)).collect();
        keep.insert(self.dir.join(&snapshot.path));
        let now = SystemTime::now();
        let fetched = crate::fetches::recent(&self.dir, now);
        let session_id = session.to_string();
        let needed = |serial: &str, is_snapshot: bool| {
            serial.parse::<u64>().is_ok_and(|n| {
                if is_snapshot {
                    n + 1 >= snapshot.serial
                        || fetched.iter().any(|f| f.names_snapshot(&session_id, n))
                } else {
                    fetched.iter().any(|f| f.lists_delta(&session_id, n))
                }
            })
        };
        let old = |p: &Path| {
            fs::metadata(p)
                .and_then(|m| m.modified())
                .map(|m| now.duration_since(m).unwrap_or_default() > GRACE)
                .unwrap_or(false)
        };
        let Ok(sessions) = fs::read_dir(&self.dir) else {
            return;
        };
        for s in sessions.flatten() {
            let spath = s.path();
            if !spath.is_dir() {
                continue;
            }
            if s.file_name().to_string_lossy() != session.to_string() {
                if old(&spath) {
                    let _ = fs::remove_dir_all(&spath);
                }
                continue;
            }
            for serial_dir in fs::read_dir(&spath).into_iter().flatten().flatten() {
                let serial = serial_dir.file_name().to_string_lossy().into_owned();
                for rnd in fs::read_dir(serial_dir.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    for f in fs::read_dir(rnd.path()).into_iter().flatten().flatten() {
                        let p = f.path();
                        let unneeded = !needed(&serial, f.file_name() == "snapshot.xml");
                        if !keep.contains(&p) && unneeded {
                            let _ = fs::remove_file(&p);
                        }
                    }
                    let _ = fs::remove_dir(rnd.path()); // only if empty
                }
                let _ = fs::remove_dir(serial_dir.path());
            }
        }
    }
}

fn parse_hash(hex_str: &str) -> Hash {
    hex_str.parse().expect("hashes we wrote are valid hex")
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    digest: rpki::crypto::digest::Context,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digest.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes an immutable RRDP file with `write`, streamed to disk and
/// hashed as it goes, and fsyncs it.
fn write_file(
    dir: &Path,
    dir_rel: &str,
    name: &str,
    serial: u64,
    now: i64,
    write: impl FnOnce(&mut Hashing<std::io::BufWriter<fs::File>>) -> std::io::Result<()>,
) -> Result<DeltaRecord, RrdpError> {
    let path = dir.join(name);
    let f = fs::File::create(&path).map_err(io_err(&path))?;
    let mut w = Hashing {
        inner: std::io::BufWriter::with_capacity(1 << 20, f),
        digest: rpki::crypto::DigestAlgorithm::sha256().start(),
        size: 0,
    };
    write(&mut w).map_err(io_err(&path))?;
    let f = w
        .inner
        .into_inner()
        .map_err(|e| io_err(&path)(e.into_error()))?;
    f.sync_all().map_err(io_err(&path))?;
    Ok(DeltaRecord {
        serial,
        path: format!("{dir_rel}/{name}"),
        hash: hex::encode(w.digest.finish().as_ref()),
        size: w.size,
        created: now,
    })
}

/// Replaces a file atomically: write a temporary file, fsync, rename.
///
/// The new file's mtime is whole seconds and later than the old one's by
/// at least a second. HTTP dates have one-second resolution, and clients
/// (rpki-client among them) revalidate the notification file with
/// If-Modified-Since: two versions within one second would otherwise get
/// the same Last-Modified and the second would be answered 304.
fn replace_file(path: &Path, data: &[u8]) -> Result<(), RrdpError> {
    let tmp = path.with_extension("xml.tmp");
    let secs = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    };
    let now = secs(SystemTime::now());
    let mtime = match fs::metadata(path).and_then(|m| m.modified()) {
        Ok(old) => now.max(secs(old) + 1),
        Err(_) => now,
    };
    let mut f = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(data).map_err(io_err(&tmp))?;
    f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
        .map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io_err(parent))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(list: &[(&str, &str)]) -> Vec<(String, Bytes, [u8; 32])> {
        list.iter()
            .map(|(u, d)| {
                (
                    format!("rsync://h/repo/{u}"),
                    Bytes::from(d.to_string()),
                    sha256(d.as_bytes()),
                )
            })
            .collect()
    }

    fn publish(
        repo: &RrdpRepository,
        prev: &RrdpState,
        objects: &[(String, Bytes, [u8; 32])],
        now: i64,
    ) -> Result<Option<RrdpUpdate>, RrdpError> {
        let u = repo.prepare(prev, objects, now)?;
        if let Some(u) = &u {
            repo.announce(u)?;
        }
        Ok(u)
    }

    fn apply(state: &mut RrdpState, u: &RrdpUpdate) {
        if u.new_session {
            state.objects.clear();
        }
        state.session = Some(u.session);
        state.serial = u.serial;
        state.snapshot = Some(u.snapshot.clone());
        state.deltas = u.deltas.clone();
        for w in &u.withdrawn {
            state.objects.remove(w);
        }
        for (uri, h) in &u.published {
            state.objects.insert(uri.clone(), *h);
        }
    }

    #[test]
    fn superseded_snapshots_go_unless_previous_or_fetched() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let log = crate::fetches::FetchLog::new(tmp.path());
        let mut state = RrdpState::default();
        let mut snapshots = Vec::new();
        for i in 1..=6 {
            let u = publish(
                &repo,
                &state,
                &objs(&[("a/x.roa", &i.to_string())]),
                1000 + i,
            )
            .unwrap()
            .unwrap();
            if i == 2 {
                // A client read serial 2's notification and is fetching.
                let served = crate::fetches::Served {
                    session: u.session.to_string(),
                    serial: 2,
                    lowest: 2,
                };
                log.record(&served, SystemTime::now());
            }
            snapshots.push(tmp.path().join(&u.snapshot.path));
            apply(&mut state, &u);
        }
        let exists: Vec<bool> = snapshots.iter().map(|p| p.exists()).collect();
        // 1, 3 and 4: superseded, unfetched, gone; 2: fetched; 5: the
        // previous; 6: current.
        assert_eq!(exists, [false, true, false, false, true, true]);
        // Deltas are listed, so kept.
        assert!(
            state
                .deltas
                .iter()
                .all(|d| tmp.path().join(&d.path).exists())
        );
    }

    /// A serial committed but never announced is announced by the next
    /// prepare, from the snapshot record kept; without one, a new session
    /// starts (never a serial the notification file skipped).
    #[test]
    fn a_committed_serial_not_announced_is_announced_next() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let u1 = publish(&repo, &state, &objs(&[("a/x.roa", "1")]), 1000)
            .unwrap()
            .unwrap();
        apply(&mut state, &u1);
        let changed = objs(&[("a/x.roa", "2")]);
        let u2 = repo.prepare(&state, &changed, 1001).unwrap().unwrap();
        apply(&mut state, &u2);
        // The crash: u2 is stored, its notification never written.
        let again = repo.prepare(&state, &changed, 1002).unwrap().unwrap();
        assert_eq!((again.serial, again.new_session), (2, false));
        assert!(again.published.is_empty() && again.withdrawn.is_empty());
        assert_eq!(again.snapshot, u2.snapshot);
        repo.announce(&again).unwrap();
        assert!(repo.announces(u1.session, 2));
        let n = NotificationFile::parse(io::BufReader::new(
            fs::File::open(repo.notification_path()).unwrap(),
        ))
        .unwrap();
        let snap = fs::read(tmp.path().join(&u2.snapshot.path)).unwrap();
        assert!(n.snapshot().hash().matches(&snap));
        assert_eq!(n.deltas().len(), 1);
        assert!(repo.prepare(&state, &changed, 1003).unwrap().is_none());

        // The same, with no snapshot record kept: a new session.
        let changed = objs(&[("a/x.roa", "3")]);
        let u3 = repo.prepare(&state, &changed, 1004).unwrap().unwrap();
        apply(&mut state, &u3);
        state.snapshot = None;
        let fresh = repo.prepare(&state, &changed, 1005).unwrap().unwrap();
        assert!(fresh.new_session);
        assert_eq!(fresh.published.len(), 1);
    }

    #[test]
    fn serials_deltas_and_notification() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let u1 = publish(
            &repo,
            &state,
            &objs(&[("a/x.roa", "1"), ("a/y.roa", "2")]),
            1000,
        )
        .unwrap()
        .unwrap();
        assert!(u1.new_session);
        assert_eq!(u1.serial, 1);
        assert!(u1.deltas.is_empty());
        apply(&mut state, &u1);

        // No change, no serial.
        assert!(
            publish(
                &repo,
                &state,
                &objs(&[("a/x.roa", "1"), ("a/y.roa", "2")]),
                1001
            )
            .unwrap()
            .is_none()
        );

        let u2 = publish(
            &repo,
            &state,
            &objs(&[("a/x.roa", "1b"), ("a/z.roa", "3")]),
            1002,
        )
        .unwrap()
        .unwrap();
        assert!(!u2.new_session);
        assert_eq!((u2.session, u2.serial), (u1.session, 2));
        assert_eq!(u2.withdrawn, ["rsync://h/repo/a/y.roa"]);
        assert_eq!(u2.published.len(), 2);
        let delta = fs::read_to_string(tmp.path().join(&u2.deltas[0].path)).unwrap();
        assert!(
            delta.contains("<withdraw") && delta.contains("<publish"),
            "{delta}"
        );
        assert!(
            delta.contains(&format!("hash=\"{}\"", hex::encode(sha256(b"1")))),
            "update names the old hash"
        );
        apply(&mut state, &u2);

        let n = NotificationFile::parse(io::BufReader::new(
            fs::File::open(repo.notification_path()).unwrap(),
        ))
        .unwrap();
        assert_eq!((n.session_id(), n.serial()), (u1.session, 2));
        assert_eq!(n.deltas().len(), 1);
        let snap_path = tmp.path().join(&u2.snapshot.path);
        assert!(n.snapshot().hash().matches(&fs::read(&snap_path).unwrap()));
        assert!(u2.snapshot.path.starts_with(&format!("{}/2/", u1.session)));
        // The streamed snapshot is RFC 8182 XML: it parses, with exactly
        // the state's objects, and its size is the one recorded.
        let snapshot =
            rpki::rrdp::Snapshot::parse(io::BufReader::new(fs::File::open(&snap_path).unwrap()))
                .unwrap();
        assert_eq!((snapshot.session_id(), snapshot.serial()), (u1.session, 2));
        let mut got: Vec<(String, Vec<u8>)> = snapshot
            .into_elements()
            .into_iter()
            .map(|e| {
                let (uri, data) = e.unpack();
                (uri.to_string(), data.to_vec())
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("rsync://h/repo/a/x.roa".to_string(), b"1b".to_vec()),
                ("rsync://h/repo/a/z.roa".to_string(), b"3".to_vec())
            ]
        );
        assert_eq!(fs::metadata(&snap_path).unwrap().len(), u2.snapshot.size);
    }

    #[test]
    fn notification_mtime_increases_by_whole_seconds() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let mut last = 0;
        for i in 0..3 {
            let u = publish(&repo, &state, &objs(&[("a/x.roa", &i.to_string())]), i)
                .unwrap()
                .unwrap();
            apply(&mut state, &u);
            let m = fs::metadata(repo.notification_path())
                .unwrap()
                .modified()
                .unwrap();
            let m = m.duration_since(UNIX_EPOCH).unwrap();
            assert_eq!(m.subsec_nanos(), 0);
            assert!(
                m.as_secs() > last,
                "three versions within a second get distinct seconds"
            );
            last = m.as_secs();
        }
    }

    #[test]
    fn lost_rrdp_directory_starts_a_new_session() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path().join("rrdp"), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let u1 = publish(&repo, &state, &objs(&[("a/x.roa", "1")]), 0)
            .unwrap()
            .unwrap();
        apply(&mut state, &u1);
        fs::remove_dir_all(tmp.path().join("rrdp")).unwrap();
        let u = publish(&repo, &state, &objs(&[("a/x.roa", "2")]), 1)
            .unwrap()
            .unwrap();
        assert!(u.new_session);
        assert_ne!(u.session, u1.session);
    }

    #[test]
    fn store_behind_disk_starts_a_new_session() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let u1 = publish(&repo, &state, &objs(&[("a/x.roa", "1")]), 0)
            .unwrap()
            .unwrap();
        apply(&mut state, &u1);
        let backup = state.clone();
        let u2 = publish(&repo, &state, &objs(&[("a/x.roa", "2")]), 1)
            .unwrap()
            .unwrap();
        apply(&mut state, &u2);
        // The store is restored to serial 1 while serial 2 is on disk.
        let u = publish(&repo, &backup, &objs(&[("a/x.roa", "3")]), 2)
            .unwrap()
            .unwrap();
        assert!(u.new_session);
        assert_ne!(u.session, u1.session);
        assert_eq!(u.serial, 1);
    }

    #[test]
    fn deltas_are_listed_while_they_weigh_less_than_the_snapshot() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let big = "x".repeat(2000);
        let mut t = 0;
        let u = publish(&repo, &state, &objs(&[("a/x.roa", "0")]), t)
            .unwrap()
            .unwrap();
        apply(&mut state, &u);
        for i in 1..=5 {
            t += 10;
            let u = publish(
                &repo,
                &state,
                &objs(&[("a/x.roa", &format!("{i}{big}"))]),
                t,
            )
            .unwrap()
            .unwrap();
            apply(&mut state, &u);
        }
        // Each delta carries the whole object, as large as the snapshot:
        // only the newest is listed, and the others' files go with the
        // next scan.
        repo.prune(
            state.session.unwrap(),
            state.snapshot.as_ref().unwrap(),
            &state.deltas,
        );
        let serials: Vec<u64> = state.deltas.iter().map(|d| d.serial).collect();
        assert_eq!(serials, [6], "older deltas outweigh the snapshot");
        assert_eq!(
            delta_files(tmp.path()),
            1,
            "unlisted deltas nobody fetched are removed"
        );
        // Small changes: their deltas fit beside each other.
        for i in 0..3 {
            t += 10;
            let u = publish(
                &repo,
                &state,
                &objs(&[("a/x.roa", &format!("5{big}")), ("a/y.roa", &i.to_string())]),
                t,
            )
            .unwrap()
            .unwrap();
            apply(&mut state, &u);
        }
        assert!(state.deltas.len() >= 2, "{:?}", state.deltas);
    }

    /// Delta files on disk under `dir`, listed or not.
    fn delta_files(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir())
            .flat_map(|s| fs::read_dir(s.path()).unwrap().flatten())
            .flat_map(|n| fs::read_dir(n.path()).unwrap().flatten())
            .filter(|r| r.path().join("delta.xml").exists())
            .count()
    }

    /// The connections of one process scan for unlisted files together at
    /// most every [`PRUNE_EVERY`]: a repository sharing the clock of one
    /// that just scanned leaves them, one of its own scans at once.
    #[test]
    fn repositories_sharing_a_prune_clock_scan_once_between_them() {
        let tmp = tempfile::tempdir().unwrap();
        let clock = PruneClock::default();
        let first = RrdpRepository::new(tmp.path(), "https://h/rrdp/").sharing_prune(&clock);
        let second = RrdpRepository::new(tmp.path(), "https://h/rrdp/").sharing_prune(&clock);
        let mut state = RrdpState::default();
        let big = "x".repeat(2000);
        // Each delta outweighs the snapshot, so each new one unlists the
        // one before; its file waits for a scan.
        for (i, repo) in [&first, &first, &first, &second].into_iter().enumerate() {
            let objects = objs(&[("a/x.roa", &format!("{i}{big}"))]);
            let u = publish(repo, &state, &objects, i as i64).unwrap().unwrap();
            apply(&mut state, &u);
        }
        assert_eq!(state.deltas.len(), 1);
        assert_eq!(delta_files(tmp.path()), 3, "no scan since the first serial");
        let own = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let u = publish(&own, &state, &objs(&[("a/x.roa", &format!("9{big}"))]), 9)
            .unwrap()
            .unwrap();
        apply(&mut state, &u);
        assert_eq!(delta_files(tmp.path()), 1, "its first serial scans");
    }

    #[test]
    fn at_most_max_deltas_are_listed_however_recent() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = RrdpRepository::new(tmp.path(), "https://h/rrdp/");
        let mut state = RrdpState::default();
        let big = "x".repeat(100_000); // a large snapshot: the size rule keeps all
        for i in 0..(MAX_DELTAS + 20) {
            let u = publish(
                &repo,
                &state,
                &objs(&[("a/big.cer", &big), ("a/x.roa", &i.to_string())]),
                i as i64,
            )
            .unwrap()
            .unwrap();
            apply(&mut state, &u);
        }
        assert_eq!(state.deltas.len(), MAX_DELTAS);
        // Contiguous down from the current serial.
        let serials: Vec<u64> = state.deltas.iter().map(|d| d.serial).collect();
        let top = serials[0];
        assert!(
            serials
                .iter()
                .enumerate()
                .all(|(i, s)| *s == top - i as u64)
        );
    }
}
