//! Software keys encrypted at rest.
//!
//! An encrypted key directory holds a `keyring` file: a random 256-bit
//! data key, sealed (AES-256-GCM) under a key derived from the operator's
//! secret — argon2id for a passphrase, HKDF-SHA256 for a key file of at
//! least 32 random bytes. Each CA key is then a `KEYID.key` file: the
//! PKCS#8 DER sealed with the data key (AES-256-GCM, random 96-bit nonce,
//! the key identifier as associated data, so a file renamed to another
//! key's name does not open). Without the secret nothing in the directory
//! can sign; a wrong secret fails the keyring's authentication tag.
//!
//! The secret comes from the environment, never the command line:
//! `ANCHORAGE_KEY_PASSPHRASE_FILE` (a file holding the passphrase, e.g. a
//! systemd credential), `ANCHORAGE_KEY_PASSPHRASE`, or `ANCHORAGE_KEY_FILE`
//! (a key file).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rpki::crypto::KeyIdentifier;

use crate::KeysError;

/// The keyring's file name in the key directory.
pub const KEYRING: &str = "keyring";

/// The first line of a keyring file.
const KEYRING_MAGIC: &str = "anchorage-keyring 1";

/// The first bytes of a sealed key file.
const SEALED_MAGIC: &[u8] = b"ANCHKEY1";

/// argon2id parameters for a passphrase: 19 MiB, two passes, one lane
/// (OWASP's minimum for argon2id), about 50 ms on one core.
const ARGON2_M_KIB: u32 = 19_456;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;

/// The environment variables a secret is read from.
pub const ENV_PASSPHRASE_FILE: &str = "ANCHORAGE_KEY_PASSPHRASE_FILE";
/// The passphrase itself.
pub const ENV_PASSPHRASE: &str = "ANCHORAGE_KEY_PASSPHRASE";
/// A key file of at least 32 random bytes.
pub const ENV_KEY_FILE: &str = "ANCHORAGE_KEY_FILE";

/// What unlocks encrypted software keys.
#[derive(Clone)]
pub enum Secret {
    /// A passphrase (key derived with argon2id).
    Passphrase(Vec<u8>),
    /// The bytes of a key file, at least 32 random bytes (HKDF-SHA256).
    KeyFile(Vec<u8>),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Secret::Passphrase(_) => "Secret::Passphrase(..)",
            Secret::KeyFile(_) => "Secret::KeyFile(..)",
        })
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let (Secret::Passphrase(b) | Secret::KeyFile(b)) = self;
        b.iter_mut().for_each(|x| *x = 0);
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeysError + '_ {
    move |source| KeysError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Secret {
    /// The secret the environment gives, if any (see the module docs);
    /// an unreadable file or a key file shorter than 32 bytes is an error.
    pub fn from_env() -> Result<Option<Secret>, KeysError> {
        if let Some(path) = std::env::var_os(ENV_PASSPHRASE_FILE) {
            let path = PathBuf::from(path);
            let mut bytes = fs::read(&path).map_err(io(&path))?;
            // One trailing newline, as `echo` and editors leave it.
            if bytes.last() == Some(&b'\n') {
                bytes.pop();
            }
            return Secret::passphrase(bytes).map(Some);
        }
        if let Some(value) = std::env::var_os(ENV_PASSPHRASE) {
            use std::os::unix::ffi::OsStringExt;
            return Secret::passphrase(value.into_vec()).map(Some);
        }
        if let Some(path) = std::env::var_os(ENV_KEY_FILE) {
            let path = PathBuf::from(path);
            let bytes = fs::read(&path).map_err(io(&path))?;
            if bytes.len() < 32 {
                return Err(KeysError::Locked(format!(
                    "the key file {} holds {} bytes; at least 32 random bytes are needed",
                    path.display(),
                    bytes.len()
                )));
            }
            return Ok(Some(Secret::KeyFile(bytes)));
        }
        Ok(None)
    }

    /// A passphrase; an empty one is refused.
    fn passphrase(bytes: Vec<u8>) -> Result<Secret, KeysError> {
        if bytes.is_empty() {
            return Err(KeysError::Locked(
                "the key passphrase is empty; give a real one".into(),
            ));
        }
        Ok(Secret::Passphrase(bytes))
    }

    fn kind(&self) -> &'static str {
        match self {
            Secret::Passphrase(_) => "argon2id",
            Secret::KeyFile(_) => "hkdf-sha256",
        }
    }

    /// The key-encryption key for `salt`, with argon2id costs `cost`
    /// (memory KiB, passes, lanes) for a passphrase.
    fn derive(&self, salt: &[u8], cost: (u32, u32, u32)) -> Result<[u8; 32], KeysError> {
        let mut out = [0u8; 32];
        match self {
            Secret::Passphrase(p) => {
                let (m, t, lanes) = cost;
                let params = argon2::Params::new(m, t, lanes, Some(32))
                    .map_err(|e| KeysError::Crypto(e.to_string()))?;
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password_into(p, salt, &mut out)
                    .map_err(|e| KeysError::Crypto(e.to_string()))?;
            }
            Secret::KeyFile(k) => {
                let salt = aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, salt);
                let info = [b"anchorage keyring 1".as_slice()];
                salt.extract(k)
                    .expand(&info, aws_lc_rs::hkdf::HKDF_SHA256)
                    .and_then(|okm| okm.fill(&mut out))
                    .map_err(|_| KeysError::Crypto("HKDF failed".into()))?;
            }
        }
        Ok(out)
    }
}

/// The data key of an encrypted key directory, unlocked.
pub(crate) struct Keyring {
    key: LessSafeKey,
    rng: SystemRandom,
}

fn aead_key(bytes: &[u8]) -> Result<LessSafeKey, KeysError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|e| KeysError::Crypto(e.to_string()))
}

/// Whether the key directory `dir` is encrypted (has a keyring).
pub fn is_encrypted(dir: &Path) -> bool {
    dir.join(KEYRING).exists()
}

impl Keyring {
    /// Makes a new data key for `dir`, sealed under `secret`, and writes
    /// the keyring (a temporary file, fsynced, renamed, the directory
    /// fsynced): once it exists, the directory is encrypted.
    pub(crate) fn create(dir: &Path, secret: &Secret) -> Result<Keyring, KeysError> {
        let rng = SystemRandom::new();
        let mut salt = [0u8; 16];
        let mut data_key = [0u8; 32];
        rng.fill(&mut salt)
            .and_then(|()| rng.fill(&mut data_key))
            .map_err(|_| KeysError::Crypto("no randomness".into()))?;
        let kek = aead_key(&secret.derive(&salt, (ARGON2_M_KIB, ARGON2_T, ARGON2_P))?)?;
        let sealed = seal(&kek, &rng, KEYRING_MAGIC.as_bytes(), &data_key)?;
        let text = format!(
            "{KEYRING_MAGIC}\nkdf {} {ARGON2_M_KIB} {ARGON2_T} {ARGON2_P}\nsalt {}\nkey {}\n",
            secret.kind(),
            hex::encode(salt),
            hex::encode(&sealed)
        );
        let path = dir.join(KEYRING);
        let tmp = dir.join(format!("{KEYRING}.tmp"));
        write_replacing(&tmp, text.as_bytes())?;
        fs::rename(&tmp, &path).map_err(io(&path))?;
        crate::fsync_dir(dir)?;
        let keyring = Keyring {
            key: aead_key(&data_key)?,
            rng,
        };
        data_key.iter_mut().for_each(|x| *x = 0);
        Ok(keyring)
    }

    /// Unlocks the keyring of `dir` with `secret`.
    pub(crate) fn unlock(dir: &Path, secret: &Secret) -> Result<Keyring, KeysError> {
        let path = dir.join(KEYRING);
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let bad = |why: &str| KeysError::BadKey {
            path: path.clone(),
            reason: why.to_string(),
        };
        let mut lines = text.lines();
        if lines.next() != Some(KEYRING_MAGIC) {
            return Err(bad("not an Anchorage keyring"));
        }
        let field = |line: Option<&str>, name: &str| -> Result<String, KeysError> {
            line.and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("no {name} line")))
        };
        let kdf = field(lines.next(), "kdf")?;
        let salt = hex::decode(field(lines.next(), "salt")?).map_err(|_| bad("bad salt"))?;
        let sealed = hex::decode(field(lines.next(), "key")?).map_err(|_| bad("bad key"))?;
        let mut kdf = kdf.split(' ');
        let kind = kdf.next().unwrap_or_default();
        // The costs the keyring was made with, so changing the defaults
        // never locks out an older keyring.
        let mut cost = kdf.map(|v| v.parse::<u32>());
        let mut next = || {
            cost.next()
                .and_then(Result::ok)
                .ok_or_else(|| bad("bad kdf costs"))
        };
        let cost = (next()?, next()?, next()?);
        if kind != secret.kind() {
            let wanted = match kind {
                "argon2id" => format!("a passphrase ({ENV_PASSPHRASE_FILE} or {ENV_PASSPHRASE})"),
                _ => format!("a key file ({ENV_KEY_FILE})"),
            };
            return Err(KeysError::Locked(format!(
                "the keys in {} were encrypted with {wanted}",
                dir.display()
            )));
        }
        let kek = aead_key(&secret.derive(&salt, cost)?)?;
        let mut data_key = open(&kek, KEYRING_MAGIC.as_bytes(), &sealed).map_err(|_| {
            KeysError::Locked(format!(
                "the secret given does not unlock the keys in {} (wrong passphrase or key file?)",
                dir.display()
            ))
        })?;
        let keyring = Keyring {
            key: aead_key(&data_key)?,
            rng: SystemRandom::new(),
        };
        data_key.iter_mut().for_each(|x| *x = 0);
        Ok(keyring)
    }

    /// Seals the PKCS#8 DER of key `id`.
    pub(crate) fn seal_key(&self, id: &KeyIdentifier, der: &[u8]) -> Result<Vec<u8>, KeysError> {
        let mut out = SEALED_MAGIC.to_vec();
        out.extend(seal(&self.key, &self.rng, id.to_string().as_bytes(), der)?);
        Ok(out)
    }

    /// Opens a sealed key file's bytes for key `id`.
    pub(crate) fn open_key(&self, id: &KeyIdentifier, sealed: &[u8]) -> Result<Vec<u8>, String> {
        let body = sealed
            .strip_prefix(SEALED_MAGIC)
            .ok_or("not a sealed Anchorage key")?;
        open(&self.key, id.to_string().as_bytes(), body)
            .map_err(|_| "does not open with this keyring, or is not this key's".to_string())
    }
}

/// AES-256-GCM: nonce || ciphertext || tag.
fn seal(
    key: &LessSafeKey,
    rng: &SystemRandom,
    aad: &[u8],
    plain: &[u8],
) -> Result<Vec<u8>, KeysError> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)
        .map_err(|_| KeysError::Crypto("no randomness".into()))?;
    let mut buf = plain.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    )
    .map_err(|e| KeysError::Crypto(e.to_string()))?;
    let mut out = nonce.to_vec();
    out.extend(buf);
    Ok(out)
}

fn open(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, ()> {
    if sealed.len() < NONCE_LEN {
        return Err(());
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| ())?;
    let mut buf = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| ())?;
    Ok(plain.to_vec())
}

/// Writes `data` to `path` with mode 0600, replacing it, and fsyncs it.
pub(crate) fn write_replacing(path: &Path, data: &[u8]) -> Result<(), KeysError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(data).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}
