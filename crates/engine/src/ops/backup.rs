//! `anchorage backup` and `anchorage restore`: one file that holds a data
//! directory's state, taken while it runs, and a new data directory made
//! from it that publishes without reusing a number.
//!
//! The file is a gzipped tar of
//! * `anchorage.db`: the store as one read transaction saw it (SQLite or
//!   PostgreSQL, always written as SQLite), so writers go on meanwhile;
//! * `keys/`: the key files as they are (sealed keys stay sealed, and
//!   need the same secret after a restore; keys in a PKCS#11 token are
//!   not in the file, and the manifest names them);
//! * `tls/`: the admin API's certificate and key; the TALs;
//! * `anchorage-backup.json`: the format, the time, where the store was,
//!   and the SHA-256 of every other file, checked by `restore`.
//!
//! The store is read before the keys are copied: a key the store names
//! was made before the store named it, so it is there unless a key
//! rollover destroyed it in between; then the backup is taken again.
//!
//! A restore cannot know what the lost instance published after the
//! backup, so it never continues from the backup's numbers: every CA
//! key's next manifest and CRL number becomes at least the restore time
//! in milliseconds since 1970 (above any count from an earlier start, as
//! no CA issues a manifest a millisecond; RFC 9286 §4.2.1 allows 20
//! octets), every point is reissued by the first publication, and RRDP
//! starts a new session (RFC 8182: a session_id relying parties have not
//! seen makes them fetch its snapshot, so no serial of the lost instance
//! is ever announced again). Restoring the same file twice, or an older
//! one, is as safe.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anchorage_store::{Location, Store};
use serde::{Deserialize, Serialize};

use crate::Anchorage;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::AppError;

/// The format `backup` writes and `restore` reads.
const FORMAT: u32 = 1;
/// The manifest's name in the file.
const MANIFEST: &str = "anchorage-backup.json";
/// The store's name in the file.
const STORE: &str = "anchorage.db";
/// How often a backup is taken again when a key rollover destroyed a
/// key the store named before it was copied.
const ATTEMPTS: usize = 3;

/// What a backup file says of itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BackupManifest {
    /// The file's format.
    pub format: u32,
    /// The Anchorage version that wrote it.
    pub anchorage: String,
    /// When the store was read (RFC 3339).
    pub created: String,
    /// Where the store was (without a password).
    pub store: String,
    /// The store's schema version.
    pub schema_version: String,
    /// Keys the store names that live in a PKCS#11 token, not in the file.
    pub keys_in_token: Vec<String>,
    /// Every other file of the backup and its SHA-256 (hex).
    pub files: BTreeMap<String, String>,
}

/// What `backup` wrote.
#[derive(Clone, Debug, Serialize)]
pub struct BackupReport {
    /// The backup file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its manifest.
    pub manifest: BackupManifest,
}

/// What `restore` made.
#[derive(Clone, Debug, Serialize)]
pub struct RestoreReport {
    /// The new data directory.
    pub data_dir: PathBuf,
    /// When the backup was taken (RFC 3339).
    pub backup_created: String,
    /// The lowest manifest and CRL number the restored CAs go on from.
    pub number_floor: i64,
    /// Keys the backup says are in a PKCS#11 token: the restored
    /// directory needs the token configured to sign with them.
    pub keys_in_token: Vec<String>,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> AppError {
    let what = what.into();
    move |source| AppError::Io { what, source }
}

fn bad(detail: impl Into<String>) -> AppError {
    AppError::Backup(detail.into())
}

/// SHA-256 (hex) of everything `reader` gives, read in pieces (a store
/// can be gigabytes); each piece also goes to `sink`.
fn sha256_of(mut reader: impl Read, mut sink: impl Write) -> std::io::Result<String> {
    let mut ctx = rpki::crypto::DigestAlgorithm::sha256().start();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        sink.write_all(&buf[..n])?;
    }
    Ok(hex::encode(ctx.finish()))
}

/// The regular files under `root`, as paths relative to it, sorted.
fn files_under(root: &Path) -> Result<Vec<PathBuf>, AppError> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(rel) = dirs.pop() {
        let dir = root.join(&rel);
        for entry in fs::read_dir(&dir).map_err(io(format!("reading {}", dir.display())))? {
            let entry = entry.map_err(io(format!("reading {}", dir.display())))?;
            let kind = entry.file_type().map_err(io("reading a file type"))?;
            let path = rel.join(entry.file_name());
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Makes `root` and everything under it private to its owner (keys and
/// the store can sign), and the directories under it durable.
fn private(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root, fs::Permissions::from_mode(0o700))?;
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            private(&entry.path())?;
            sync_dir(&entry.path())?;
        } else {
            fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Copies the regular files directly in `from` (if it exists) to `to`.
fn copy_files(from: &Path, to: &Path) -> Result<(), AppError> {
    if !from.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(to).map_err(io(format!("creating {}", to.display())))?;
    for entry in fs::read_dir(from).map_err(io(format!("reading {}", from.display())))? {
        let entry = entry.map_err(io(format!("reading {}", from.display())))?;
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            let target = to.join(entry.file_name());
            match fs::copy(entry.path(), &target) {
                Ok(_) => {}
                // Gone since it was listed (a destroyed one-time key).
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("copying {}", entry.path().display()))(e)),
            }
        }
    }
    Ok(())
}

impl Anchorage {
    /// Writes a backup of this data directory to `output` (see the
    /// module): atomically, mode 0600, replacing a file there only once
    /// the new one is complete.
    pub fn backup(&mut self, output: &Path) -> Result<BackupReport, AppError> {
        let parent = parent_of(output);
        let staging = staging_in(&parent, ".anchorage-backup-")?;
        let root = staging.path();
        let mut taken = None;
        let mut missing_before: Option<Vec<String>> = None;
        for attempt in 1..=ATTEMPTS {
            let created = self.ctx.clock.now();
            let db = root.join(STORE);
            if db.exists() {
                fs::remove_file(&db).map_err(io("removing an earlier attempt"))?;
            }
            Store::snapshot_into(&Location::Sqlite(db.clone()), &mut self.store)?;
            let keys = root.join("keys");
            if keys.exists() {
                fs::remove_dir_all(&keys).map_err(io("removing an earlier attempt"))?;
            }
            copy_files(&self.ctx.dir.keys(), &keys)?;
            let (named, schema_version) = {
                let mut snapshot = Store::open(&db)?;
                let tx = snapshot.read_transaction()?;
                (
                    tx.named_keys()?,
                    tx.meta("schema_version")?.unwrap_or_default(),
                )
            };
            let in_files: std::collections::BTreeSet<String> = if keys.is_dir() {
                anchorage_keys::key_files(&keys)?
                    .into_iter()
                    .map(|k| k.id.to_string())
                    .collect()
            } else {
                Default::default()
            };
            let in_token: std::collections::BTreeSet<String> = self
                .ctx
                .keys
                .list()?
                .into_iter()
                .filter(|k| k.backend == anchorage_keys::Backend::Pkcs11)
                .map(|k| k.id.to_string())
                .collect();
            let missing: Vec<String> = named
                .iter()
                .filter(|k| !in_files.contains(*k) && !in_token.contains(*k))
                .cloned()
                .collect();
            if missing.is_empty() {
                let token: Vec<String> =
                    named.into_iter().filter(|k| in_token.contains(k)).collect();
                taken = Some((created, token, schema_version));
                break;
            }
            // The same keys missing again: no rollover took them, they are
            // not here (or in a token this process was not told of).
            if missing_before.as_ref() == Some(&missing) || attempt == ATTEMPTS {
                return Err(bad(format!(
                    "the store names keys that are neither in {} nor in a PKCS#11 token: {}; \
                     if they are in a token, give the backup the token's settings as serve has them \
                     (ANCHORAGE_PKCS11_MODULE and its PIN)",
                    self.ctx.dir.keys().display(),
                    missing.join(", ")
                )));
            }
            tracing::warn!(
                attempt,
                ?missing,
                "a key the store names went before it was copied; backing up again"
            );
            missing_before = Some(missing);
        }
        let Some((created, keys_in_token, schema_version)) = taken else {
            unreachable!("every attempt either takes the backup or returns");
        };
        for (from, to) in [
            (self.ctx.dir.tal(), "ta.tal"),
            (self.ctx.dir.next_tal(), "ta-next.tal"),
        ] {
            if from.is_file() {
                fs::copy(&from, root.join(to))
                    .map_err(io(format!("copying {}", from.display())))?;
            }
        }
        copy_files(&self.ctx.dir.root().join("tls"), &root.join("tls"))?;
        let mut files = BTreeMap::new();
        for rel in files_under(root)? {
            let file = fs::File::open(root.join(&rel))
                .map_err(io(format!("reading {}", rel.display())))?;
            let hash = sha256_of(file, std::io::sink())
                .map_err(io(format!("reading {}", rel.display())))?;
            files.insert(rel.to_string_lossy().into_owned(), hash);
        }
        let manifest = BackupManifest {
            format: FORMAT,
            anchorage: env!("CARGO_PKG_VERSION").to_string(),
            created: super::rfc3339(created),
            store: self
                .ctx
                .dir
                .store_location()
                .map_or_else(|e| e.to_string(), |l| l.to_string()),
            schema_version,
            keys_in_token,
            files,
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        fs::write(root.join(MANIFEST), json).map_err(io("writing the backup manifest"))?;

        let mut out = tempfile::Builder::new()
            .prefix(".anchorage-backup-")
            .tempfile_in(&parent)
            .map_err(io(format!("creating a file in {}", parent.display())))?;
        {
            let gz =
                flate2::write::GzEncoder::new(out.as_file_mut(), flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            tar.mode(tar::HeaderMode::Complete);
            // The manifest first, so a reader meets it before the files
            // it lists.
            for rel in std::iter::once(MANIFEST).chain(manifest.files.keys().map(String::as_str)) {
                tar.append_path_with_name(root.join(rel), rel)
                    .map_err(io(format!("writing {rel}")))?;
            }
            tar.into_inner()
                .and_then(|gz| gz.finish())
                .and_then(|f| f.flush())
                .map_err(io("writing the backup file"))?;
        }
        out.as_file()
            .sync_all()
            .map_err(io("syncing the backup file"))?;
        let bytes = out
            .as_file()
            .metadata()
            .map_err(io("reading the backup file"))?
            .len();
        out.persist(output)
            .map_err(|e| io(format!("writing {}", output.display()))(e.error))?;
        // The file is complete either way; its name is durable with this.
        let _ = sync_dir(&parent);
        Ok(BackupReport {
            file: output.to_path_buf(),
            bytes,
            manifest,
        })
    }
}

/// Makes data directory `dir` (absent, or an empty directory, such as the
/// service's own or a container's volume) from the backup `file` (see the
/// module), checking every file against the manifest first; `dir` is left
/// as it was when that fails. The restored directory is not published
/// yet: open it and publish.
pub fn restore(file: &Path, dir: &Path, clock: Clock) -> Result<RestoreReport, AppError> {
    let in_place = match fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(bad(format!(
                    "{} is not empty: a restore makes a new data directory",
                    dir.display()
                )));
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(format!("reading {}", dir.display()))(e)),
    };
    // An empty directory is restored from inside (its parent may not be
    // writable, or it may be a mount point); a new one is made beside.
    let parent = if in_place {
        dir.to_path_buf()
    } else {
        parent_of(dir)
    };
    fs::create_dir_all(&parent).map_err(io(format!("creating {}", parent.display())))?;
    let staging = staging_in(&parent, ".anchorage-restore-")?;
    let root = staging.path();
    let (manifest, seen) = unpack(file, root)?;
    if manifest.format != FORMAT {
        return Err(bad(format!(
            "backup format {} (written by Anchorage {}); this release reads format {FORMAT}",
            manifest.format, manifest.anchorage
        )));
    }
    if seen != manifest.files {
        let differ: Vec<&String> = manifest
            .files
            .keys()
            .chain(seen.keys())
            .filter(|k| manifest.files.get(*k) != seen.get(*k))
            .collect();
        return Err(bad(format!(
            "{} is damaged: these files are missing, extra or changed: {differ:?}",
            file.display()
        )));
    }
    let now = clock.now();
    // The numbers go on from the clock: one behind the backup's own time
    // could repeat what the lost instance issued.
    if chrono::DateTime::parse_from_rfc3339(&manifest.created)
        .is_ok_and(|created| created.timestamp() > now.timestamp())
    {
        return Err(bad(format!(
            "the backup was taken at {}, after this machine's clock ({}): set the clock right first",
            manifest.created,
            super::rfc3339(now)
        )));
    }
    let floor = now.timestamp() * 1000;
    {
        // Opening migrates a store of an earlier schema.
        let mut store = Store::open(&root.join(STORE))?;
        let integrity = store.integrity_check()?;
        if integrity != "ok" {
            return Err(bad(format!(
                "the backup's store fails its integrity check: {integrity}"
            )));
        }
        let tx = store.transaction()?;
        tx.prepare_restored(floor)?;
        tx.audit(
            now,
            Actor::operator().who(),
            "restore",
            None,
            &format!(
                "from the backup of {} taken {}; manifest and CRL numbers from {floor}",
                manifest.store, manifest.created
            ),
        )?;
        tx.commit()?;
    }
    private(root).map_err(io(format!("setting the modes of {}", root.display())))?;
    let kept = staging.keep();
    let moved = if in_place {
        move_into(&kept, dir)
    } else {
        fs::rename(&kept, dir).and_then(|()| sync_dir(&parent))
    };
    if let Err(e) = moved {
        let _ = fs::remove_dir_all(&kept);
        if in_place {
            // It was empty: empty it again.
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let _ = fs::remove_dir_all(entry.path()).or_else(|_| fs::remove_file(entry.path()));
            }
        }
        return Err(io(format!(
            "moving the restored files into {}",
            dir.display()
        ))(e));
    }
    Ok(RestoreReport {
        data_dir: dir.to_path_buf(),
        backup_created: manifest.created,
        number_floor: floor,
        keys_in_token: manifest.keys_in_token,
    })
}

/// Unpacks backup `file` into `root`, each file hashed as it is written
/// and synced; returns its manifest and the hash of every other file.
fn unpack(
    file: &Path,
    root: &Path,
) -> Result<(BackupManifest, BTreeMap<String, String>), AppError> {
    let reader = fs::File::open(file).map_err(io(format!("opening {}", file.display())))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut manifest: Option<BackupManifest> = None;
    let mut seen = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("{} is not a backup file: {e}", file.display())))?;
    let damaged = |e: std::io::Error| bad(format!("{} is damaged: {e}", file.display()));
    for (n, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| {
            if n == 0 {
                bad(format!("{} is not a backup file: {e}", file.display()))
            } else {
                damaged(e)
            }
        })?;
        let name = entry
            .path()
            .map_err(|e| bad(format!("a name in the backup: {e}")))?
            .into_owned();
        // Names relative to the backup's root only (`./` allowed, as a
        // repacked archive has it); directories are made as files need them.
        let safe = name.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        let rel: PathBuf = name
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .collect();
        let kind = entry.header().entry_type();
        if safe && kind.is_dir() {
            continue;
        }
        if !safe || !kind.is_file() || rel.as_os_str().is_empty() {
            return Err(bad(format!(
                "{} holds {}, which no backup holds",
                file.display(),
                name.display()
            )));
        }
        let name = rel.to_string_lossy().into_owned();
        if name == MANIFEST {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            manifest = Some(
                serde_json::from_slice(&bytes)
                    .map_err(|e| bad(format!("the backup's manifest: {e}")))?,
            );
            continue;
        }
        let target = root.join(&rel);
        if let Some(p) = target.parent() {
            fs::create_dir_all(p).map_err(io(format!("creating {}", p.display())))?;
        }
        let mut out =
            fs::File::create(&target).map_err(io(format!("writing {}", target.display())))?;
        let hash = sha256_of(&mut entry, &mut out).map_err(damaged)?;
        out.sync_all()
            .map_err(io(format!("syncing {}", target.display())))?;
        seen.insert(name, hash);
    }
    let manifest = manifest.ok_or_else(|| {
        bad(format!(
            "{} has no {MANIFEST}: not a backup file",
            file.display()
        ))
    })?;
    Ok((manifest, seen))
}

/// Moves every entry of `from` into `to`, then removes `from` (inside
/// `to`) and syncs `to`.
fn move_into(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        fs::rename(entry.path(), to.join(entry.file_name()))?;
    }
    fs::remove_dir(from)?;
    sync_dir(to)
}

/// The directory `path` is in (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A private staging directory named `prefix…` in `parent` (on the same
/// file system as where its contents go, so they move by rename),
/// removed when dropped.
fn staging_in(parent: &Path, prefix: &str) -> Result<tempfile::TempDir, AppError> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(io(format!(
            "making a staging directory in {}",
            parent.display()
        )))
}

/// Makes a directory's entries durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}
