//! Keys for Anchorage: generation, persistence and signing.
//!
//! The CA engine (`anchorage-ca-core`) signs through the `rpki` crate's
//! [`rpki::crypto::Signer`] trait and never sees key material. This crate
//! provides the software implementation of that trait, [`KeyStore`]:
//!
//! * CA keys are RSA-2048 (RFC 7935 §3) generated with aws-lc-rs and
//!   persisted as PKCS#8 DER files, one per key, named after the key's
//!   subject key identifier, created with mode 0600 and fsynced before the
//!   key is handed out — a key that was used to sign something published
//!   must never be lost.
//! * One-time EE keys (RFC 6487 §3: one key per signed object) are never
//!   persisted: `sign_one_off` creates a key, signs once and drops it.
//!
//! An HSM implementation (PKCS#11) will implement the same trait.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, KeyPair as _};
use bcder::decode::IntoSource;
use rpki::crypto::signer::{KeyError, Signer, SigningAlgorithm, SigningError};
use rpki::crypto::{KeyIdentifier, PublicKey, PublicKeyFormat, Signature, SignatureAlgorithm};

/// Everything that can go wrong with keys.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// A key file could not be read or written.
    #[error("key store {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A stored key could not be parsed or is not RSA-2048.
    #[error("key {path} is not a usable RSA-2048 PKCS#8 key: {reason}")]
    BadKey {
        /// The key file.
        path: PathBuf,
        /// Why it is unusable.
        reason: String,
    },
    /// The cryptographic library failed.
    #[error("cryptographic failure: {0}")]
    Crypto(String),
}

impl From<KeysError> for io::Error {
    fn from(err: KeysError) -> Self {
        io::Error::other(err.to_string())
    }
}

/// An RSA-2048 key pair held in memory.
struct RsaKey {
    pair: rsa::KeyPair,
    public: PublicKey,
}

impl RsaKey {
    fn generate() -> Result<Self, KeysError> {
        let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048)
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        Self::from_pair(pair)
    }

    fn from_pair(pair: rsa::KeyPair) -> Result<Self, KeysError> {
        let der = AsDer::<PublicKeyX509Der>::as_der(pair.public_key())
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        let public = PublicKey::decode(der.as_ref().into_source())
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        Ok(RsaKey { pair, public })
    }

    fn sign<Alg: SignatureAlgorithm>(
        &self,
        algorithm: Alg,
        data: &[u8],
        rng: &SystemRandom,
    ) -> Result<Signature<Alg>, KeysError> {
        // RFC 7935 §2: RSA PKCS #1 v1.5 with SHA-256 is the only algorithm.
        if !matches!(algorithm.signing_algorithm(), SigningAlgorithm::RsaSha256) {
            return Err(KeysError::Crypto("only RSA-SHA256 is supported".into()));
        }
        let mut sig = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, rng, data, &mut sig)
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        Ok(Signature::new(algorithm, sig.into()))
    }
}

/// Persistent software keys in a directory, usable as an `rpki` [`Signer`].
///
/// Keys are addressed by their subject key identifier, which is what the
/// store records for each CA; that survives restarts where an in-memory
/// handle would not.
pub struct KeyStore {
    dir: PathBuf,
    cache: RwLock<HashMap<KeyIdentifier, Arc<RsaKey>>>,
    rng: SystemRandom,
    pool: Arc<EeKeyPool>,
}

/// Pre-generated one-time EE keys, so that issuing a signed object does
/// not wait for an RSA key generation (~98% of its cost).
///
/// Each key is handed out once and dropped after its one signature
/// (RFC 6487 §3); keys live only in memory and are never persisted, so a
/// restart loses the pool, not security. Filled on demand by [`Self::fill`]
/// or in the background by [`KeyStore::start_pool_refill`].
#[derive(Default)]
pub struct EeKeyPool {
    keys: std::sync::Mutex<Vec<RsaKey>>,
}

impl EeKeyPool {
    /// Keys currently waiting in the pool.
    pub fn len(&self) -> usize {
        self.keys.lock().map(|k| k.len()).unwrap_or(0)
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Generates keys until the pool holds `target` of them.
    pub fn fill(&self, target: usize) -> Result<(), KeysError> {
        while self.len() < target {
            let key = RsaKey::generate()?;
            if let Ok(mut keys) = self.keys.lock() {
                keys.push(key);
            }
        }
        Ok(())
    }

    fn take(&self) -> Option<RsaKey> {
        self.keys.lock().ok()?.pop()
    }
}

impl KeyStore {
    /// Opens (creating if needed, mode 0700) the key directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, KeysError> {
        let dir = dir.as_ref().to_path_buf();
        create_private_dir(&dir)?;
        Ok(KeyStore {
            dir,
            cache: RwLock::new(HashMap::new()),
            rng: SystemRandom::new(),
            pool: Arc::new(EeKeyPool::default()),
        })
    }

    /// The pool of one-time EE keys.
    pub fn pool(&self) -> &EeKeyPool {
        &self.pool
    }

    /// Keeps the EE key pool at `target` keys from background threads,
    /// one per core (checking every `interval`), so bursts of issuance
    /// find keys ready: a change takes two keys (its ROA's and its
    /// manifest's), and one thread alone fell behind a steady load that
    /// the cores could carry. The threads end when the store is dropped.
    pub fn start_pool_refill(&self, target: usize, interval: std::time::Duration) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..threads {
            let pool = Arc::downgrade(&self.pool);
            std::thread::Builder::new()
                .name(format!("ee-key-pool-{i}"))
                .spawn(move || {
                    while let Some(pool) = pool.upgrade() {
                        if pool.len() < target {
                            if let Err(err) = pool.fill(pool.len() + 1) {
                                tracing::error!(%err, "EE key pool refill failed");
                                std::thread::sleep(interval);
                            }
                        } else {
                            drop(pool);
                            std::thread::sleep(interval);
                        }
                    }
                })
                .expect("spawn an EE key pool thread");
        }
    }

    /// Returns the path of the file that holds the given key.
    pub fn key_path(&self, id: &KeyIdentifier) -> PathBuf {
        self.dir.join(format!("{id}.p8"))
    }

    /// Returns whether the key exists in this store.
    pub fn contains(&self, id: &KeyIdentifier) -> bool {
        self.load(id).is_ok()
    }

    fn load(&self, id: &KeyIdentifier) -> Result<Arc<RsaKey>, KeysError> {
        if let Some(key) = self.cache.read().expect("key cache lock poisoned").get(id) {
            return Ok(key.clone());
        }
        let path = self.key_path(id);
        let der = fs::read(&path).map_err(|source| KeysError::Io {
            path: path.clone(),
            source,
        })?;
        let pair = rsa::KeyPair::from_pkcs8(&der).map_err(|e| KeysError::BadKey {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if pair.public_modulus_len() != 256 {
            return Err(KeysError::BadKey {
                path,
                reason: format!("modulus is {} bits", pair.public_modulus_len() * 8),
            });
        }
        let key = Arc::new(RsaKey::from_pair(pair)?);
        if key.public.key_identifier() != *id {
            return Err(KeysError::BadKey {
                path,
                reason: "file does not hold the key its name says".into(),
            });
        }
        self.cache
            .write()
            .expect("key cache lock poisoned")
            .insert(*id, key.clone());
        Ok(key)
    }

    /// Generates a new persistent CA key and returns its identifier.
    ///
    /// The key file is written with mode 0600 and fsynced (file and
    /// directory) before this returns.
    ///
    /// A key waiting in the EE key pool is taken when there is one: it
    /// has never signed anything, and this way a bulk creation of CAs
    /// uses the cores that keep the pool filled.
    pub fn generate(&self) -> Result<KeyIdentifier, KeysError> {
        let key = match self.pool.take() {
            Some(key) => key,
            None => RsaKey::generate()?,
        };
        let id = key.public.key_identifier();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key.pair)
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        let path = self.key_path(&id);
        write_private_file(&path, der.as_ref())?;
        fsync_dir(&self.dir)?;
        self.cache
            .write()
            .expect("key cache lock poisoned")
            .insert(id, Arc::new(key));
        tracing::debug!(key = %id, "generated CA key");
        Ok(id)
    }
}

impl Signer for KeyStore {
    type KeyId = KeyIdentifier;
    type Error = KeysError;

    fn create_key(&self, algorithm: PublicKeyFormat) -> Result<Self::KeyId, Self::Error> {
        if algorithm != PublicKeyFormat::Rsa {
            return Err(KeysError::Crypto("only RSA keys are supported".into()));
        }
        self.generate()
    }

    fn get_key_info(&self, id: &Self::KeyId) -> Result<PublicKey, KeyError<Self::Error>> {
        match self.load(id) {
            Ok(key) => Ok(key.public.clone()),
            Err(KeysError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Err(KeyError::KeyNotFound)
            }
            Err(err) => Err(KeyError::Signer(err)),
        }
    }

    fn destroy_key(&self, id: &Self::KeyId) -> Result<(), KeyError<Self::Error>> {
        self.cache
            .write()
            .expect("key cache lock poisoned")
            .remove(id);
        let path = self.key_path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(KeyError::KeyNotFound),
            Err(source) => Err(KeyError::Signer(KeysError::Io { path, source })),
        }
    }

    fn sign<Alg: SignatureAlgorithm, D: AsRef<[u8]> + ?Sized>(
        &self,
        id: &Self::KeyId,
        algorithm: Alg,
        data: &D,
    ) -> Result<Signature<Alg>, SigningError<Self::Error>> {
        let key = match self.load(id) {
            Ok(key) => key,
            Err(KeysError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Err(SigningError::KeyNotFound);
            }
            Err(err) => return Err(SigningError::Signer(err)),
        };
        key.sign(algorithm, data.as_ref(), &self.rng)
            .map_err(SigningError::Signer)
    }

    fn sign_one_off<Alg: SignatureAlgorithm, D: AsRef<[u8]> + ?Sized>(
        &self,
        algorithm: Alg,
        data: &D,
    ) -> Result<(Signature<Alg>, PublicKey), Self::Error> {
        // RFC 6487 §3 / RFC 6488 §3: a fresh key for every signed object;
        // it signs exactly once and is dropped here.
        let key = match self.pool.take() {
            Some(key) => key,
            None => RsaKey::generate()?,
        };
        sign_once(key, algorithm, data.as_ref(), &self.rng)
    }

    fn rand(&self, target: &mut [u8]) -> Result<(), Self::Error> {
        self.rng
            .fill(target)
            .map_err(|_| KeysError::Crypto("random number generator failed".into()))
    }
}

/// The key store as a signer that makes every one-time EE key afresh
/// instead of taking it from the pool: for bulk work (a batch of
/// thousands of ROAs), so it cannot drain the pool that the single
/// changes of everybody else rely on.
pub struct FreshKeys<'a>(pub &'a KeyStore);

impl Signer for FreshKeys<'_> {
    type KeyId = KeyIdentifier;
    type Error = KeysError;

    fn create_key(&self, algorithm: PublicKeyFormat) -> Result<Self::KeyId, Self::Error> {
        self.0.create_key(algorithm)
    }

    fn get_key_info(&self, id: &Self::KeyId) -> Result<PublicKey, KeyError<Self::Error>> {
        self.0.get_key_info(id)
    }

    fn destroy_key(&self, id: &Self::KeyId) -> Result<(), KeyError<Self::Error>> {
        self.0.destroy_key(id)
    }

    fn sign<Alg: SignatureAlgorithm, D: AsRef<[u8]> + ?Sized>(
        &self,
        id: &Self::KeyId,
        algorithm: Alg,
        data: &D,
    ) -> Result<Signature<Alg>, SigningError<Self::Error>> {
        self.0.sign(id, algorithm, data)
    }

    fn sign_one_off<Alg: SignatureAlgorithm, D: AsRef<[u8]> + ?Sized>(
        &self,
        algorithm: Alg,
        data: &D,
    ) -> Result<(Signature<Alg>, PublicKey), Self::Error> {
        // RFC 6487 §3: a fresh key for every signed object, used once.
        sign_once(RsaKey::generate()?, algorithm, data.as_ref(), &self.0.rng)
    }

    fn rand(&self, target: &mut [u8]) -> Result<(), Self::Error> {
        self.0.rand(target)
    }
}

/// Signs `data` with a one-time `key`, which is dropped here; returns the
/// signature and the public key for the EE certificate.
fn sign_once<Alg: SignatureAlgorithm>(
    key: RsaKey,
    algorithm: Alg,
    data: &[u8],
    rng: &SystemRandom,
) -> Result<(Signature<Alg>, PublicKey), KeysError> {
    let sig = key.sign(algorithm, data, rng)?;
    Ok((sig, key.public))
}

/// Creates a directory (and parents) readable only by its owner.
pub fn create_private_dir(dir: &Path) -> Result<(), KeysError> {
    let io_err = |source| KeysError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::create_dir_all(dir).map_err(io_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err)?;
    }
    Ok(())
}

/// Writes a new file with mode 0600 and fsyncs it; fails if it exists.
fn write_private_file(path: &Path, data: &[u8]) -> Result<(), KeysError> {
    let io_err = |source| KeysError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(data).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

fn fsync_dir(dir: &Path) -> Result<(), KeysError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| KeysError::Io {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpki::crypto::RpkiSignatureAlgorithm;

    #[test]
    fn key_survives_reopen_and_signs() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = KeyStore::open(dir.path()).unwrap();
            store.generate().unwrap()
        };
        let store = KeyStore::open(dir.path()).unwrap();
        let public = store.get_key_info(&id).unwrap();
        assert_eq!(public.key_identifier(), id);
        let sig = store
            .sign(&id, RpkiSignatureAlgorithm::default(), b"payload")
            .unwrap();
        public.verify(b"payload", &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path().join("keys")).unwrap();
        let id = store.generate().unwrap();
        let mode = fs::metadata(store.key_path(&id))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn unknown_key_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        let id = KeyIdentifier::from([7u8; 20]);
        assert!(matches!(
            store.get_key_info(&id),
            Err(KeyError::KeyNotFound)
        ));
    }

    #[test]
    fn pooled_keys_are_used_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        store.pool().fill(3).unwrap();
        assert_eq!(store.pool().len(), 3);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..5 {
            let (sig, key) = store
                .sign_one_off(RpkiSignatureAlgorithm::default(), b"x")
                .unwrap();
            key.verify(b"x", &sig).unwrap();
            assert!(
                seen.insert(key.key_identifier()),
                "a one-time key came twice"
            );
        }
        assert!(store.pool().is_empty());
    }

    #[test]
    fn one_off_keys_differ() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open(dir.path()).unwrap();
        let (s1, k1) = store
            .sign_one_off(RpkiSignatureAlgorithm::default(), b"a")
            .unwrap();
        let (_, k2) = store
            .sign_one_off(RpkiSignatureAlgorithm::default(), b"a")
            .unwrap();
        k1.verify(b"a", &s1).unwrap();
        assert_ne!(k1.key_identifier(), k2.key_identifier());
    }
}
