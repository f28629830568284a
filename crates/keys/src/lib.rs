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
//! * With a secret configured, CA keys are sealed at rest ([`atrest`]):
//!   `KEYID.key` files under a keyring that only the secret opens.
//!
//! * With a PKCS#11 token configured ([`pkcs11`]), the key classes it is
//!   given (trust anchor, CA, BPKI) are generated in it and sign there;
//!   one-time EE keys stay in software.
#![forbid(unsafe_code)]

pub mod atrest;
pub mod pkcs11;

pub use atrest::Secret;
pub use pkcs11::{KeyClass, Pkcs11Config};

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
    /// Encrypted keys without the secret that opens them, or a secret
    /// that does not fit the key directory.
    #[error("{0}")]
    Locked(String),
    /// The PKCS#11 token failed or is not there.
    #[error("HSM: {0}")]
    Hsm(String),
}

impl From<KeysError> for io::Error {
    fn from(err: KeysError) -> Self {
        io::Error::other(err.to_string())
    }
}

/// What a pooled key signs in its pairwise consistency test
/// ([`RsaKey::generate_checked`]): no DER, so no RPKI object.
const POOL_CHECK: &[u8] = b"anchorage EE key pool: pairwise consistency test";

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

    /// A key for the EE key pool: generated, then checked by a pairwise
    /// consistency test, as a FIPS 140-3 module tests each key it makes:
    /// a signature over [`POOL_CHECK`] that must verify under the public
    /// key, and is then dropped.
    ///
    /// The test's private-key operation also makes what aws-lc keeps
    /// with a key for its later ones (the blinding values, a modular
    /// inverse, and the Montgomery forms): a one-time key's one signature
    /// would otherwise pay for them, and take twice as long as one by a
    /// key that signed before. Making them here moves that cost to the
    /// pool's threads, ahead of the change that takes the key. The test
    /// signs no object and nothing outside this function sees its
    /// signature; the key still signs exactly one RPKI object
    /// (RFC 6487 §3).
    fn generate_checked(rng: &SystemRandom) -> Result<Self, KeysError> {
        let key = Self::generate()?;
        key.check_pair(rng)?;
        Ok(key)
    }

    /// The pairwise consistency test of [`Self::generate_checked`].
    fn check_pair(&self, rng: &SystemRandom) -> Result<(), KeysError> {
        let sig = self.sign(
            rpki::crypto::RpkiSignatureAlgorithm::default(),
            POOL_CHECK,
            rng,
        )?;
        self.public
            .verify(POOL_CHECK, &sig)
            .map_err(|_| KeysError::Crypto("a new key failed its pairwise consistency test".into()))
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
    /// The data key, for a directory encrypted at rest.
    keyring: Option<atrest::Keyring>,
    /// The PKCS#11 token, if one is configured.
    hsm: Option<pkcs11::Hsm>,
    /// Public keys of keys the token holds, once looked up.
    hsm_keys: RwLock<HashMap<KeyIdentifier, PublicKey>>,
}

/// Where a key is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A plain PKCS#8 file.
    Software,
    /// A sealed file ([`atrest`]).
    SoftwareEncrypted,
    /// A PKCS#11 token ([`pkcs11`]).
    Pkcs11,
}

impl Backend {
    /// The name `keys list` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Software => "software",
            Backend::SoftwareEncrypted => "software-encrypted",
            Backend::Pkcs11 => "pkcs11",
        }
    }
}

/// A persistent key, as [`KeyStore::list`] finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// The key's identifier.
    pub id: KeyIdentifier,
    /// Where it is kept.
    pub backend: Backend,
    /// When its file was written (unknown for a token's key).
    pub created: Option<std::time::SystemTime>,
    /// Whether the private key can be copied out of where it is kept:
    /// always for a file; for a token's key, if it is extractable or not
    /// sensitive.
    pub exportable: bool,
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

    /// Generates keys until the pool holds `target` of them, each
    /// checked (and made ready to sign) by [`RsaKey::generate_checked`].
    pub fn fill(&self, target: usize) -> Result<(), KeysError> {
        let rng = SystemRandom::new();
        while self.len() < target {
            let key = RsaKey::generate_checked(&rng)?;
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
    /// Opens (creating if needed, mode 0700) the key directory, with the
    /// secret the environment gives ([`Secret::from_env`]).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, KeysError> {
        let mut store = Self::open_with(dir, Secret::from_env()?)?;
        if let Some(cfg) = Pkcs11Config::from_env()? {
            store.hsm = Some(pkcs11::Hsm::open(&cfg)?);
        }
        Ok(store)
    }

    /// Uses the PKCS#11 token `cfg` names for the key classes it gives.
    pub fn with_hsm(mut self, cfg: &Pkcs11Config) -> Result<Self, KeysError> {
        self.hsm = Some(pkcs11::Hsm::open(cfg)?);
        Ok(self)
    }

    /// Opens the key directory with `secret`: an encrypted directory
    /// needs the secret that made it; a new directory with a secret is
    /// encrypted from its first key on; a directory of keys not yet
    /// encrypted refuses a secret (run [`encrypt_dir`] first), so nobody
    /// believes keys protected that are not.
    pub fn open_with(dir: impl AsRef<Path>, secret: Option<Secret>) -> Result<Self, KeysError> {
        let dir = dir.as_ref().to_path_buf();
        create_private_dir(&dir)?;
        let keyring = match (atrest::is_encrypted(&dir), secret) {
            (true, Some(secret)) => Some(atrest::Keyring::unlock(&dir, &secret)?),
            (true, None) => {
                return Err(KeysError::Locked(format!(
                    "the keys in {} are encrypted: set {} (or {}, or {} for a key file) to unlock them",
                    dir.display(),
                    atrest::ENV_PASSPHRASE_FILE,
                    atrest::ENV_PASSPHRASE,
                    atrest::ENV_KEY_FILE
                )));
            }
            (false, Some(secret)) => {
                if !key_files(&dir)?.is_empty() {
                    return Err(KeysError::Locked(format!(
                        "a key secret is set, but the keys in {} are not encrypted: run `anchorage keys encrypt` (with the same secret) to encrypt them",
                        dir.display()
                    )));
                }
                Some(atrest::Keyring::create(&dir, &secret)?)
            }
            (false, None) => None,
        };
        Ok(KeyStore {
            dir,
            cache: RwLock::new(HashMap::new()),
            rng: SystemRandom::new(),
            pool: Arc::new(EeKeyPool::default()),
            keyring,
            hsm: None,
            hsm_keys: RwLock::new(HashMap::new()),
        })
    }

    /// Whether keys are sealed at rest here.
    pub fn is_encrypted(&self) -> bool {
        self.keyring.is_some()
    }

    /// Every persistent key: the directory's files, the token's keys.
    pub fn list(&self) -> Result<Vec<StoredKey>, KeysError> {
        let mut keys = key_files(&self.dir)?;
        if let Some(hsm) = &self.hsm {
            keys.extend(hsm.list()?.into_iter().map(|(id, exportable)| StoredKey {
                id,
                backend: Backend::Pkcs11,
                created: None,
                exportable,
            }));
        }
        Ok(keys)
    }

    /// Generates a persistent key of `class`: in the token if one is
    /// configured for that class, otherwise as [`Self::generate`] does.
    pub fn generate_class(&self, class: KeyClass) -> Result<KeyIdentifier, KeysError> {
        match &self.hsm {
            Some(hsm) if hsm.classes.contains(&class) => {
                let (id, public) = hsm.generate()?;
                self.hsm_keys
                    .write()
                    .expect("key cache lock poisoned")
                    .insert(id, public);
                tracing::debug!(key = %id, ?class, "generated key in the PKCS#11 token");
                Ok(id)
            }
            _ => self.generate(),
        }
    }

    /// The token's public key for `id`, if the token holds it.
    fn hsm_public(&self, id: &KeyIdentifier) -> Result<Option<PublicKey>, KeysError> {
        let Some(hsm) = &self.hsm else {
            return Ok(None);
        };
        if let Some(k) = self
            .hsm_keys
            .read()
            .expect("key cache lock poisoned")
            .get(id)
        {
            return Ok(Some(k.clone()));
        }
        let found = hsm.public_key(id)?;
        if let Some(k) = &found {
            self.hsm_keys
                .write()
                .expect("key cache lock poisoned")
                .insert(*id, k.clone());
        }
        Ok(found)
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

    /// Returns the path of the file that holds (or would hold) the
    /// given key: `KEYID.key` sealed, or `KEYID.p8` in a directory not
    /// encrypted.
    pub fn key_path(&self, id: &KeyIdentifier) -> PathBuf {
        match self.keyring {
            Some(_) => sealed_path(&self.dir, id),
            None => plain_path(&self.dir, id),
        }
    }

    /// Returns whether the key exists in this store.
    pub fn contains(&self, id: &KeyIdentifier) -> bool {
        self.load(id).is_ok()
    }

    fn load(&self, id: &KeyIdentifier) -> Result<Arc<RsaKey>, KeysError> {
        if let Some(key) = self.cache.read().expect("key cache lock poisoned").get(id) {
            return Ok(key.clone());
        }
        let (path, der) = self.read_der(id)?;
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
        // `keys encrypt` may have sealed the directory since this store
        // was opened plain: no plain key may be written into it then.
        if self.keyring.is_none() && atrest::is_encrypted(&self.dir) {
            return Err(KeysError::Locked(format!(
                "the keys in {} were encrypted while this command ran: run it again with the secret",
                self.dir.display()
            )));
        }
        let key = match self.pool.take() {
            Some(key) => key,
            None => RsaKey::generate()?,
        };
        let id = key.public.key_identifier();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&key.pair)
            .map_err(|e| KeysError::Crypto(e.to_string()))?;
        let path = self.key_path(&id);
        match &self.keyring {
            Some(keyring) => write_private_file(&path, &keyring.seal_key(&id, der.as_ref())?)?,
            None => write_private_file(&path, der.as_ref())?,
        }
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
                match self.hsm_public(id) {
                    Ok(Some(k)) => Ok(k),
                    Ok(None) => Err(KeyError::KeyNotFound),
                    Err(err) => Err(KeyError::Signer(err)),
                }
            }
            Err(err) => Err(KeyError::Signer(err)),
        }
    }

    fn destroy_key(&self, id: &Self::KeyId) -> Result<(), KeyError<Self::Error>> {
        self.cache
            .write()
            .expect("key cache lock poisoned")
            .remove(id);
        // Either file: a key not yet converted is still a plain one.
        let mut found = false;
        for path in [sealed_path(&self.dir, id), plain_path(&self.dir, id)] {
            match fs::remove_file(&path) {
                Ok(()) => found = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => return Err(KeyError::Signer(KeysError::Io { path, source })),
            }
        }
        if !found && let Some(hsm) = &self.hsm {
            found = hsm.destroy(id).map_err(KeyError::Signer)?;
            self.hsm_keys
                .write()
                .expect("key cache lock poisoned")
                .remove(id);
        }
        if found {
            Ok(())
        } else {
            Err(KeyError::KeyNotFound)
        }
    }

    fn sign<Alg: SignatureAlgorithm, D: AsRef<[u8]> + ?Sized>(
        &self,
        id: &Self::KeyId,
        algorithm: Alg,
        data: &D,
    ) -> Result<Signature<Alg>, SigningError<Self::Error>> {
        let in_token = self
            .hsm_keys
            .read()
            .expect("key cache lock poisoned")
            .contains_key(id);
        let key = match (in_token, self.load(id)) {
            (false, Ok(key)) => key,
            (true, _) if self.hsm.is_some() => {
                return self.hsm_sign(id, algorithm, data.as_ref());
            }
            // No file: the token may have it. Any other failure to read a
            // file is that failure, not "no such key".
            (false, Err(KeysError::Io { source, .. }))
                if source.kind() == io::ErrorKind::NotFound && self.hsm.is_some() =>
            {
                return self.hsm_sign(id, algorithm, data.as_ref());
            }
            (_, Err(KeysError::Io { source, .. })) if source.kind() == io::ErrorKind::NotFound => {
                return Err(SigningError::KeyNotFound);
            }
            (_, Err(err)) => return Err(SigningError::Signer(err)),
            (true, Ok(key)) => key,
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

impl KeyStore {
    /// Signs with a key of the token (RFC 7935 §2: RSA PKCS #1 v1.5 with
    /// SHA-256, `CKM_SHA256_RSA_PKCS`).
    fn hsm_sign<Alg: SignatureAlgorithm>(
        &self,
        id: &KeyIdentifier,
        algorithm: Alg,
        data: &[u8],
    ) -> Result<Signature<Alg>, SigningError<KeysError>> {
        if !matches!(algorithm.signing_algorithm(), SigningAlgorithm::RsaSha256) {
            return Err(SigningError::Signer(KeysError::Crypto(
                "only RSA-SHA256 is supported".into(),
            )));
        }
        let hsm = self.hsm.as_ref().expect("called with a token");
        match hsm.sign(id, data).map_err(SigningError::Signer)? {
            Some(sig) => Ok(Signature::new(algorithm, sig.into())),
            None => Err(SigningError::KeyNotFound),
        }
    }

    /// The PKCS#8 DER of key `id` and the file it came from: sealed, or
    /// (in an encrypted directory whose conversion was interrupted) still
    /// plain.
    fn read_der(&self, id: &KeyIdentifier) -> Result<(PathBuf, Vec<u8>), KeysError> {
        let read = |path: PathBuf| -> Result<(PathBuf, Vec<u8>), KeysError> {
            match fs::read(&path) {
                Ok(bytes) => Ok((path, bytes)),
                Err(source) => Err(KeysError::Io { path, source }),
            }
        };
        let Some(keyring) = &self.keyring else {
            return read(plain_path(&self.dir, id));
        };
        match read(sealed_path(&self.dir, id)) {
            Ok((path, sealed)) => {
                let der = keyring
                    .open_key(id, &sealed)
                    .map_err(|reason| KeysError::BadKey {
                        path: path.clone(),
                        reason,
                    })?;
                Ok((path, der))
            }
            Err(KeysError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                let plain = read(plain_path(&self.dir, id))?;
                tracing::warn!(key = %id, dir = %self.dir.display(), "a plain key file in an encrypted key directory: run `anchorage keys encrypt` to seal it");
                Ok(plain)
            }
            Err(e) => Err(e),
        }
    }
}

fn plain_path(dir: &Path, id: &KeyIdentifier) -> PathBuf {
    dir.join(format!("{id}.p8"))
}

fn sealed_path(dir: &Path, id: &KeyIdentifier) -> PathBuf {
    dir.join(format!("{id}.key"))
}

/// The CA key files of `dir` (`KEYID.p8` plain, `KEYID.key` sealed), by id.
pub fn key_files(dir: &Path) -> Result<Vec<StoredKey>, KeysError> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|source| KeysError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (stem, backend) = match (name.strip_suffix(".key"), name.strip_suffix(".p8")) {
            (Some(stem), _) => (stem.to_string(), Backend::SoftwareEncrypted),
            (_, Some(stem)) => (stem.to_string(), Backend::Software),
            _ => continue,
        };
        let Ok(id) = stem.parse::<KeyIdentifier>() else {
            continue;
        };
        let created = entry.metadata().and_then(|m| m.modified()).ok();
        out.push(StoredKey {
            id,
            backend,
            created,
            exportable: true,
        });
    }
    out.sort_by_key(|k| k.id.to_string());
    Ok(out)
}

/// Encrypts the plain keys of key directory `dir` in place with
/// `secret`, crash-safely: the keyring first (or the existing one, which
/// `secret` must open), then per key a sealed file written, fsynced and
/// renamed into place before the plain one is removed. Interrupted at any
/// point, every key is still there, sealed or plain, and a second run
/// finishes the job. Returns how many keys it sealed. `step` is called
/// with `keyring` once the keyring is there and `sealed` each time a
/// sealed file is in place and its plain file not yet removed (crash
/// tests stop there).
pub fn encrypt_dir(
    dir: &Path,
    secret: &Secret,
    step: &mut dyn FnMut(&str),
) -> Result<usize, KeysError> {
    create_private_dir(dir)?;
    let keyring = if atrest::is_encrypted(dir) {
        atrest::Keyring::unlock(dir, secret)?
    } else {
        atrest::Keyring::create(dir, secret)?
    };
    step("keyring");
    let mut sealed = 0;
    let mut damaged = Vec::new();
    for key in key_files(dir)? {
        if key.backend != Backend::Software {
            continue;
        }
        let plain = plain_path(dir, &key.id);
        let der = fs::read(&plain).map_err(|source| KeysError::Io {
            path: plain.clone(),
            source,
        })?;
        // Only a key that loads is sealed: a damaged file stays as it is,
        // the others are sealed, and the run reports it at the end.
        let holds = rsa::KeyPair::from_pkcs8(&der)
            .ok()
            .and_then(|pair| RsaKey::from_pair(pair).ok())
            .is_some_and(|k| k.public.key_identifier() == key.id);
        if !holds {
            damaged.push(plain.display().to_string());
            continue;
        }
        let target = sealed_path(dir, &key.id);
        let already = fs::read(&target)
            .ok()
            .is_some_and(|s| keyring.open_key(&key.id, &s).is_ok_and(|d| d == der));
        if !already {
            let tmp = dir.join(format!("{}.key.tmp", key.id));
            atrest::write_replacing(&tmp, &keyring.seal_key(&key.id, &der)?)?;
            fs::rename(&tmp, &target).map_err(|source| KeysError::Io {
                path: target.clone(),
                source,
            })?;
            fsync_dir(dir)?;
        }
        step("sealed");
        fs::remove_file(&plain).map_err(|source| KeysError::Io {
            path: plain.clone(),
            source,
        })?;
        fsync_dir(dir)?;
        sealed += 1;
    }
    // Leftovers of an interrupted run.
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
    if !damaged.is_empty() {
        return Err(KeysError::BadKey {
            path: dir.to_path_buf(),
            reason: format!(
                "{sealed} key(s) sealed, but these files are not usable RSA-2048 keys and stay as they are: {}",
                damaged.join(", ")
            ),
        });
    }
    Ok(sealed)
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

    fn pass(p: &str) -> Option<Secret> {
        Some(Secret::Passphrase(p.as_bytes().to_vec()))
    }

    fn signs(store: &KeyStore, id: &KeyIdentifier) -> bool {
        let Ok(sig) = store.sign(id, RpkiSignatureAlgorithm::default(), b"x") else {
            return false;
        };
        store.get_key_info(id).unwrap().verify(b"x", &sig).is_ok()
    }

    #[test]
    fn pooled_keys_pass_a_pairwise_test_that_a_mismatched_key_fails() {
        let rng = SystemRandom::new();
        let pool = EeKeyPool::default();
        pool.fill(2).unwrap();
        let (a, b) = (pool.take().unwrap(), pool.take().unwrap());
        assert_ne!(a.public, b.public);
        a.check_pair(&rng).unwrap();
        // A private key with another key's public half fails the test.
        let crossed = RsaKey {
            pair: a.pair,
            public: b.public,
        };
        assert!(matches!(
            crossed.check_pair(&rng),
            Err(KeysError::Crypto(m)) if m.contains("pairwise")
        ));
    }

    #[test]
    fn encrypted_keys_open_only_with_their_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::open_with(dir.path(), pass("correct horse")).unwrap();
        assert!(store.is_encrypted());
        let id = store.generate().unwrap();
        assert!(store.key_path(&id).ends_with(format!("{id}.key")));
        assert!(!dir.path().join(format!("{id}.p8")).exists());
        // The file holds no PKCS#8 structure in the clear.
        let sealed = fs::read(store.key_path(&id)).unwrap();
        assert!(rsa::KeyPair::from_pkcs8(&sealed).is_err());
        assert!(
            !sealed.starts_with(&[0x30, 0x82]),
            "no DER SEQUENCE in the clear"
        );
        drop(store);

        let store = KeyStore::open_with(dir.path(), pass("correct horse")).unwrap();
        assert!(signs(&store, &id));
        let err = KeyStore::open_with(dir.path(), pass("wrong"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("does not unlock"), "{err}");
        let err = KeyStore::open_with(dir.path(), None).err().unwrap();
        assert!(err.to_string().contains("are encrypted"), "{err}");
        let err = KeyStore::open_with(dir.path(), Some(Secret::KeyFile(vec![7; 32])))
            .err()
            .unwrap();
        assert!(err.to_string().contains("with a passphrase"), "{err}");
        // A sealed file renamed to another key's name does not open.
        let other = KeyStore::open_with(dir.path(), pass("correct horse"))
            .unwrap()
            .generate()
            .unwrap();
        fs::copy(store.key_path(&id), store.key_path(&other)).unwrap();
        let store = KeyStore::open_with(dir.path(), pass("correct horse")).unwrap();
        assert!(!signs(&store, &other));
        // It fails authentication (the key id is the associated data),
        // before any check of what key it holds.
        let err = store.read_der(&other).err().unwrap();
        assert!(err.to_string().contains("does not open"), "{err}");
    }

    #[test]
    fn a_key_file_secret_works_too() {
        let dir = tempfile::tempdir().unwrap();
        let secret = || Some(Secret::KeyFile((0u8..48).collect()));
        let id = KeyStore::open_with(dir.path(), secret())
            .unwrap()
            .generate()
            .unwrap();
        assert!(signs(
            &KeyStore::open_with(dir.path(), secret()).unwrap(),
            &id
        ));
        let err = KeyStore::open_with(dir.path(), Some(Secret::KeyFile(vec![1; 48])))
            .err()
            .unwrap();
        assert!(err.to_string().contains("does not unlock"), "{err}");
    }

    #[test]
    fn plain_keys_refuse_a_secret_until_encrypted_and_conversion_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let plain = KeyStore::open_with(dir.path(), None).unwrap();
        let ids: Vec<KeyIdentifier> = (0..3).map(|_| plain.generate().unwrap()).collect();
        let err = KeyStore::open_with(dir.path(), pass("pw")).err().unwrap();
        assert!(err.to_string().contains("anchorage keys encrypt"), "{err}");

        // An interrupted conversion: the keyring and one key sealed, the
        // others still plain. Every key signs; a second run finishes.
        let one = tempfile::tempdir().unwrap();
        fs::copy(
            plain.key_path(&ids[0]),
            one.path().join(format!("{}.p8", ids[0])),
        )
        .unwrap();
        assert_eq!(
            encrypt_dir(one.path(), &pass("pw").unwrap(), &mut |_| {}).unwrap(),
            1
        );
        for id in &ids[1..] {
            fs::copy(plain.key_path(id), one.path().join(format!("{id}.p8"))).unwrap();
        }
        fs::write(one.path().join("junk.key.tmp"), b"half").unwrap();
        let store = KeyStore::open_with(one.path(), pass("pw")).unwrap();
        assert!(ids.iter().all(|id| signs(&store, id)));
        assert_eq!(
            encrypt_dir(one.path(), &pass("pw").unwrap(), &mut |_| {}).unwrap(),
            2
        );
        assert_eq!(
            encrypt_dir(one.path(), &pass("pw").unwrap(), &mut |_| {}).unwrap(),
            0
        );
        let listed = KeyStore::open_with(one.path(), pass("pw"))
            .unwrap()
            .list()
            .unwrap();
        assert_eq!(listed.len(), 3);
        assert!(
            listed
                .iter()
                .all(|k| k.backend == Backend::SoftwareEncrypted)
        );
        assert!(!one.path().join("junk.key.tmp").exists());
        let store = KeyStore::open_with(one.path(), pass("pw")).unwrap();
        assert!(ids.iter().all(|id| signs(&store, id)));
        // A wrong secret converts nothing.
        let extra = one.path().join(format!("{}.p8", ids[0]));
        fs::copy(plain.key_path(&ids[0]), &extra).unwrap();
        assert!(encrypt_dir(one.path(), &pass("wrong").unwrap(), &mut |_| {}).is_err());
        assert!(extra.exists());
    }

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
