//! The files of a data directory.
//!
//! ```text
//! DIR/                  mode 0700: the store and keys can sign
//! DIR/anchorage.db      SQLite store (WAL: also -wal and -shm files), mode 0600
//! DIR/database.url      the PostgreSQL store's connection string, mode 0600,
//!                       when `init --database postgres://…` made one
//! DIR/keys/             CA private keys, PKCS#8 DER, mode 0600
//! DIR/rsync/current     symlink to the tree rsyncd serves
//! DIR/rsync/trees/      complete repository states
//! DIR/rsync/trash/      superseded states set aside, removed after the write
//! DIR/rrdp/             RRDP notification, snapshot and delta files
//! DIR/ta.tal            the trust anchor locator (RFC 8630)
//! DIR/ta-next.tal       the TAL of a new TA key in its staging period
//! DIR/publish.lock      held while a process writes the tree and RRDP files
//! DIR/serve.lock        held by `serve` for as long as it runs
//! DIR/publisher.lock    held by `serve` while it writes RRDP serials for everyone
//! DIR/run/              `serve`'s runtime files: rsyncd's configuration, the
//!                       self-validation's cache, and control.sock (mode
//!                       0600), where ROA commands hand changes to `serve`
//! DIR/tls/api.crt       the admin API's self-signed certificate (from init)
//! DIR/tls/api.key       its private key, mode 0600
//! ```

use std::path::{Path, PathBuf};

use anchorage_store::Location;

/// Paths within a data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
    /// The store given on the command line (`--database`), if any.
    database: Option<String>,
}

/// The locks a running `serve` holds (see [`DataDir::try_lock_serve_as`]),
/// released when dropped.
pub struct ServeLock {
    _files: Vec<std::fs::File>,
}

impl DataDir {
    /// The data directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir {
            root: root.into(),
            database: None,
        }
    }

    /// The same directory with its store elsewhere: a PostgreSQL
    /// connection string or a SQLite file (`--database`).
    pub fn with_database(mut self, database: Option<String>) -> Self {
        self.database = database;
        self
    }

    /// Where the store is: the location `init` (or `migrate`) recorded
    /// in `DIR/database.url`, else the SQLite file `DIR/anchorage.db`.
    /// `--database` names it for `init`; given later, it must name the
    /// same store: one data directory (its keys, TAL and trees) belongs
    /// to one store, and a stray `ANCHORAGE_DATABASE` must not make its
    /// keys sign into another.
    pub fn store_location(&self) -> Result<Location, crate::error::AppError> {
        use crate::error::AppError;
        let invalid = AppError::StoreLocation;
        let recorded = match std::fs::read_to_string(self.database_url()) {
            Ok(url) => Some(url.trim().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(AppError::Io {
                    what: format!("reading {}", self.database_url().display()),
                    source,
                });
            }
        };
        let given = self
            .database
            .as_deref()
            .map(|g| Location::parse(g).map_err(invalid))
            .transpose()?;
        match (given, recorded) {
            (Some(given), Some(recorded)) => {
                let recorded = Location::parse(&recorded).map_err(invalid)?;
                if given != recorded {
                    return Err(invalid(format!(
                        "{} keeps its store in {recorded}, not in {given}: a data directory \
                         belongs to one store",
                        self.root.display()
                    )));
                }
                Ok(given)
            }
            (Some(given), None) => {
                let own = Location::Sqlite(self.database());
                if given != own && self.database().exists() {
                    return Err(invalid(format!(
                        "{} keeps its store in {}, not in {given}: `anchorage migrate` moves it",
                        self.root.display(),
                        self.database().display()
                    )));
                }
                Ok(given)
            }
            (None, Some(recorded)) => Location::parse(&recorded).map_err(invalid),
            (None, None) => Ok(Location::Sqlite(self.database())),
        }
    }

    /// The file that records a PostgreSQL store's connection string.
    pub fn database_url(&self) -> PathBuf {
        self.root.join("database.url")
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database.
    pub fn database(&self) -> PathBuf {
        self.root.join("anchorage.db")
    }

    /// The key directory.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The rsync tree root (holds `current` and `trees/`).
    pub fn rsync(&self) -> PathBuf {
        self.root.join("rsync")
    }

    /// The RRDP files (notification, snapshots, deltas).
    pub fn rrdp(&self) -> PathBuf {
        self.root.join("rrdp")
    }

    /// The TAL file.
    pub fn tal(&self) -> PathBuf {
        self.root.join("ta.tal")
    }

    /// The TAL of a new trust anchor key during its staging period, for
    /// distribution to relying parties.
    pub fn next_tal(&self) -> PathBuf {
        self.root.join("ta-next.tal")
    }

    /// Takes the data directory's publication lock (an exclusive `flock`
    /// on `DIR/publish.lock`), waiting for it: processes that share the
    /// directory write the tree and RRDP files one at a time. Released
    /// when the returned file is dropped, or when the process dies.
    pub fn lock_publication(&self) -> std::io::Result<std::fs::File> {
        self.lock_file("publish.lock")
    }

    /// Takes the data directory's RRDP lock (`DIR/rrdp.lock`), as
    /// [`Self::lock_publication`]: processes write RRDP serials one at a
    /// time.
    pub fn lock_rrdp(&self) -> std::io::Result<std::fs::File> {
        self.lock_file("rrdp.lock")
    }

    /// Takes the lock `serve` holds while its RRDP task writes the serials
    /// of every change committed to the directory and its thread removes
    /// old trees (`DIR/publisher.lock`), waiting for it.
    pub fn lock_publisher(&self) -> std::io::Result<std::fs::File> {
        self.lock_file("publisher.lock")
    }

    /// Whether a `serve` holds [`Self::lock_publisher`]: a CLI command
    /// then leaves its change's RRDP serial and the removal of old trees
    /// to it. The probe takes the lock for an instant when free, and
    /// never makes the file (one made by another user, `status` run as
    /// root, say, would keep `serve` from opening it).
    pub fn publisher_runs(&self) -> bool {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(self.root.join("publisher.lock"));
        matches!(
            file.map(|f| f.try_lock()),
            Ok(Err(std::fs::TryLockError::WouldBlock))
        )
    }

    /// An exclusive `flock` on `DIR/NAME`, waited for.
    fn lock_file(&self, name: &str) -> std::io::Result<std::fs::File> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(name))?;
        file.lock()?;
        Ok(file)
    }

    /// Takes the lock `serve` holds for as long as it runs (an exclusive
    /// `flock` on `DIR/serve.lock`) without waiting: `None` while another
    /// process holds it. Commands that must not run beside `serve` (key
    /// encryption) take it too.
    pub fn try_lock_serve(&self) -> std::io::Result<Option<std::fs::File>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join("serve.lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Takes what `serve` holds for as long as it runs, without waiting:
    /// for a SQLite store, [`Self::try_lock_serve`]; for one of several
    /// instances on a PostgreSQL store, an exclusive `flock` on
    /// `DIR/run/NAME/serve.lock` (one `serve` per instance name) and a
    /// shared one on `DIR/serve.lock`, so that commands that must not run
    /// beside any `serve` still find it taken. `None` while another
    /// process holds what this one needs.
    pub fn try_lock_serve_as(&self, instance: Option<&str>) -> std::io::Result<Option<ServeLock>> {
        let Some(name) = instance else {
            return Ok(self
                .try_lock_serve()?
                .map(|f| ServeLock { _files: vec![f] }));
        };
        if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("instance name {name:?}: not a plain file name"),
            ));
        }
        let run = self.root.join("run").join(name);
        std::fs::create_dir_all(&run)?;
        // Read and write: NFSv4 refuses a shared lock on a file not
        // open for reading.
        let open = |path: PathBuf| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(path)
        };
        let own = open(run.join("serve.lock"))?;
        let all = open(self.root.join("serve.lock"))?;
        for (file, shared) in [(&own, false), (&all, true)] {
            let taken = if shared {
                file.try_lock_shared()
            } else {
                file.try_lock()
            };
            match taken {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(Some(ServeLock {
            _files: vec![own, all],
        }))
    }

    /// The store's files: the database and its WAL and shared-memory
    /// files, and the file naming a PostgreSQL store (its connection
    /// string may hold a password).
    fn store_files(&self) -> [PathBuf; 4] {
        let db = self.database();
        let with = |suffix: &str| {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        [db.clone(), with("-wal"), with("-shm"), self.database_url()]
    }

    /// Records where the store is in [`Self::database_url`] (mode 0600,
    /// replaced atomically and synced), for later commands.
    pub fn record_database_url(&self, url: &str) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self.root.join("database.url.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(format!("{url}\n").as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.database_url())?;
        std::fs::File::open(&self.root)?.sync_all()
    }

    /// The store given on the command line, if any.
    pub fn given_database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Makes the directory private to its owner (0700) and the store's
    /// files too (0600; SQLite gives the WAL and shared-memory files the
    /// database's mode).
    pub fn make_private(&self) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))?;
        for file in self.store_files() {
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    }

    /// The directory and store files that others than their owner may
    /// read, with their modes: each worth a warning.
    pub fn loose_modes(&self) -> Vec<(PathBuf, u32)> {
        use std::os::unix::fs::PermissionsExt;
        std::iter::once(self.root.clone())
            .chain(self.store_files())
            .filter_map(|p| {
                let mode = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
                (mode & 0o077 != 0).then_some((p, mode))
            })
            .collect()
    }

    /// The admin API's generated TLS certificate and key.
    pub fn api_tls(&self) -> (PathBuf, PathBuf) {
        let dir = self.root.join("tls");
        (dir.join("api.crt"), dir.join("api.key"))
    }

    /// Makes the admin API's self-signed certificate (for `localhost`,
    /// 127.0.0.1, ::1 and this host's name) unless it exists; returns its
    /// certificate and key paths.
    pub fn ensure_api_tls(&self) -> std::io::Result<(PathBuf, PathBuf)> {
        let (cert, key) = self.api_tls();
        if cert.exists() && key.exists() {
            return Ok((cert, key));
        }
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        if let Ok(host) = std::fs::read_to_string("/etc/hostname") {
            let host = host.trim();
            if !host.is_empty() {
                names.push(host.to_string());
            }
        }
        let generated = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        anchorage_keys::create_private_dir(cert.parent().expect("has a parent"))
            .map_err(std::io::Error::other)?;
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&key)?;
        f.write_all(generated.signing_key.serialize_pem().as_bytes())?;
        f.sync_all()?;
        std::fs::write(&cert, generated.cert.pem())?;
        Ok((cert, key))
    }
}
