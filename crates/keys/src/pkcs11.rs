//! CA keys in a PKCS#11 token (an HSM, or SoftHSM2 in tests), through the
//! `cryptoki` crate.
//!
//! Keys are RSA-2048 pairs generated inside the token: the private half
//! is a token object with `CKA_SENSITIVE` true and `CKA_EXTRACTABLE`
//! false, so it never leaves; every signature is a `C_Sign` with
//! `CKM_SHA256_RSA_PKCS` (RFC 7935 §2). Both halves carry the key's
//! subject key identifier as `CKA_ID` (and `anchorage KEYID` as label),
//! which is how the store names keys. One session per process, behind a
//! lock; a call that fails for a reason a new session may cure (a token
//! removed and put back, a closed session) is tried once more on a new
//! session, logged in again. A failed call is an error for the operation
//! that needed it, which then changes nothing.
//!
//! Configured from the environment, the PIN never on a command line:
//! `ANCHORAGE_PKCS11_MODULE` (the module's path), `ANCHORAGE_PKCS11_TOKEN`
//! (the token's label), `ANCHORAGE_PKCS11_PIN_FILE` or
//! `ANCHORAGE_PKCS11_PIN` (the user PIN), and `ANCHORAGE_PKCS11_KEYS`,
//! which key classes the token holds (`ta`, `ca`, `bpki`, comma
//! separated; default all three). One-time EE keys always use the
//! software signer: a token's key generation would cap issuance.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use rpki::crypto::{KeyIdentifier, PublicKey};

use crate::KeysError;

/// The classes of persistent keys, for choosing where each is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyClass {
    /// A trust anchor's key.
    TrustAnchor,
    /// A CA's key (the online CA's, a member's).
    Ca,
    /// The BPKI identity (RFC 8183) signing RFC 6492/8181 messages.
    Bpki,
}

/// Where the token is and which keys it keeps.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (shared library).
    pub module: PathBuf,
    /// The label of the token to use.
    pub token: String,
    /// The user PIN.
    pub pin: String,
    /// The key classes kept in the token.
    pub classes: Vec<KeyClass>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Config {
    /// The configuration the environment gives, if a module is named.
    pub fn from_env() -> Result<Option<Pkcs11Config>, KeysError> {
        let Some(module) = std::env::var_os("ANCHORAGE_PKCS11_MODULE") else {
            return Ok(None);
        };
        let missing = |what: &str| {
            KeysError::Hsm(format!("ANCHORAGE_PKCS11_MODULE is set but {what} is not"))
        };
        let token = std::env::var("ANCHORAGE_PKCS11_TOKEN")
            .map_err(|_| missing("ANCHORAGE_PKCS11_TOKEN (the token's label)"))?;
        let pin = match std::env::var_os("ANCHORAGE_PKCS11_PIN_FILE") {
            Some(path) => {
                let path = PathBuf::from(path);
                let text = std::fs::read_to_string(&path).map_err(|source| KeysError::Io {
                    path: path.clone(),
                    source,
                })?;
                text.trim_end_matches('\n').to_string()
            }
            None => std::env::var("ANCHORAGE_PKCS11_PIN")
                .map_err(|_| missing("ANCHORAGE_PKCS11_PIN_FILE or ANCHORAGE_PKCS11_PIN"))?,
        };
        let classes = match std::env::var("ANCHORAGE_PKCS11_KEYS") {
            Err(_) => vec![KeyClass::TrustAnchor, KeyClass::Ca, KeyClass::Bpki],
            Ok(list) => list
                .split(',')
                .map(|c| match c.trim() {
                    "ta" => Ok(KeyClass::TrustAnchor),
                    "ca" => Ok(KeyClass::Ca),
                    "bpki" => Ok(KeyClass::Bpki),
                    other => Err(KeysError::Hsm(format!(
                        "ANCHORAGE_PKCS11_KEYS: '{other}' is not one of ta, ca, bpki"
                    ))),
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(Some(Pkcs11Config {
            module: PathBuf::from(module),
            token,
            pin,
            classes,
        }))
    }
}

/// A token, logged in, driven by a thread of its own: every PKCS#11 call
/// runs there, and the caller waits at most the configured timeout
/// (`ANCHORAGE_PKCS11_TIMEOUT_SECONDS`, default 30) for its answer. A
/// token that hangs makes its calls fail with a clear error instead of
/// holding the command (or `serve`'s request) forever; the hung call
/// keeps the thread, so later calls time out too until the process ends.
pub(crate) struct Hsm {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Told when the token's thread has closed its session.
    finished: Mutex<mpsc::Receiver<()>>,
    token: String,
    timeout: Duration,
    pub(crate) classes: Vec<KeyClass>,
    /// Failure injection for tests (`ANCHORAGE_HSM_FAIL_AFTER=N`): after
    /// N calls, every call fails as if the token had been removed.
    fail_after: Option<usize>,
    calls: AtomicUsize,
}

/// One PKCS#11 call for the token's thread.
type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// What the token's thread holds: the module, the slot, the session.
struct Worker {
    ctx: Pkcs11,
    slot: Slot,
    pin: AuthPin,
    token: String,
    session: Option<Session>,
}

fn hsm_err(what: &str, e: CkError) -> KeysError {
    KeysError::Hsm(format!("{what}: {e}"))
}

/// Whether a new session may cure what `e` says.
fn session_trouble(e: &CkError) -> bool {
    matches!(
        e,
        CkError::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::DeviceError,
            _
        )
    )
}

impl Hsm {
    /// Loads the module, finds the token by label, starts the token's
    /// thread and logs in.
    pub(crate) fn open(cfg: &Pkcs11Config) -> Result<Hsm, KeysError> {
        let ctx = Pkcs11::new(&cfg.module).map_err(|e| {
            KeysError::Hsm(format!(
                "loading the PKCS#11 module {}: {e}",
                cfg.module.display()
            ))
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(hsm_err("initialising the PKCS#11 module", e)),
        }
        let slot = find_slot(&ctx, &cfg.token)?;
        let mut worker = Worker {
            ctx,
            slot,
            pin: AuthPin::new(cfg.pin.clone().into()),
            token: cfg.token.clone(),
            session: None,
        };
        fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
            std::env::var(name).ok().and_then(|v| v.parse().ok())
        }
        // Failure injection for tests: after N calls the token's thread
        // hangs, as a token that stops answering does.
        let hang_after: Option<usize> = env("ANCHORAGE_HSM_HANG_AFTER");
        let (jobs, queue) = mpsc::channel::<Job>();
        let (done, finished) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("pkcs11".into())
            .spawn(move || {
                for (n, job) in queue.into_iter().enumerate() {
                    if hang_after.is_some_and(|h| n >= h) {
                        loop {
                            std::thread::park();
                        }
                    }
                    job(&mut worker);
                }
                drop(worker);
                let _ = done.send(());
            })
            .map_err(|e| KeysError::Hsm(format!("starting the token's thread: {e}")))?;
        let hsm = Hsm {
            jobs: Mutex::new(Some(jobs)),
            finished: Mutex::new(finished),
            token: cfg.token.clone(),
            timeout: Duration::from_secs(env("ANCHORAGE_PKCS11_TIMEOUT_SECONDS").unwrap_or(30)),
            classes: cfg.classes.clone(),
            fail_after: env("ANCHORAGE_HSM_FAIL_AFTER"),
            calls: AtomicUsize::new(0),
        };
        // Log in now: a wrong PIN is an error at start, not at the first
        // signature.
        hsm.with_session(|_| Ok(()))?;
        Ok(hsm)
    }

    /// Runs `f` on the session in the token's thread (see [`Worker::run`])
    /// and waits for its answer at most the timeout.
    fn with_session<T: Send + 'static>(
        &self,
        f: impl Fn(&Session) -> Result<T, CkError> + Send + 'static,
    ) -> Result<T, KeysError> {
        if let Some(n) = self.fail_after
            && self.calls.fetch_add(1, Ordering::SeqCst) >= n
        {
            return Err(KeysError::Hsm(format!(
                "token '{}': device removed (injected failure)",
                self.token
            )));
        }
        let (answer, wait) = mpsc::channel();
        let job: Job = Box::new(move |w: &mut Worker| {
            let _ = answer.send(w.run(&f));
        });
        let sent = match self.jobs.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(jobs) => jobs.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(KeysError::Hsm(format!(
                "token '{}': its thread has ended",
                self.token
            )));
        }
        match wait.recv_timeout(self.timeout) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(KeysError::Hsm(format!(
                "token '{}' did not answer within {} s",
                self.token,
                self.timeout.as_secs()
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(KeysError::Hsm(format!(
                "token '{}': its thread has ended",
                self.token
            ))),
        }
    }
}

impl Drop for Hsm {
    /// Closes the queue and waits (at most the timeout) until the token's
    /// thread has closed its session: a process must not exit while that
    /// thread is still inside the module. The module is not finalised:
    /// other stores of the process may still use it.
    fn drop(&mut self) {
        drop(self.jobs.lock().unwrap_or_else(|p| p.into_inner()).take());
        let finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        let _ = finished.recv_timeout(self.timeout);
    }
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, KeysError> {
    for slot in ctx
        .get_slots_with_token()
        .map_err(|e| hsm_err("listing PKCS#11 slots", e))?
    {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| hsm_err("reading a token's information", e))?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(KeysError::Hsm(format!(
        "no PKCS#11 token labelled '{label}' is present"
    )))
}

impl Worker {
    fn login(&self) -> Result<Session, CkError> {
        let session = self.ctx.open_rw_session(self.slot)?;
        match session.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(e) => Err(e),
        }
    }

    /// Runs `f` on the session (opened and logged in on first use), once
    /// more on a new session if the first attempt failed for a reason a
    /// new session may cure.
    fn run<T>(&mut self, f: &dyn Fn(&Session) -> Result<T, CkError>) -> Result<T, KeysError> {
        for attempt in 0..2 {
            if self.session.is_none() {
                match self.login() {
                    Ok(s) => self.session = Some(s),
                    Err(e) if attempt == 0 && session_trouble(&e) => continue,
                    Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                        return Err(KeysError::Hsm(format!(
                            "the PIN given does not log in to token '{}'",
                            self.token
                        )));
                    }
                    Err(e) => {
                        return Err(hsm_err(&format!("logging in to token '{}'", self.token), e));
                    }
                }
            }
            let session = self.session.as_ref().expect("opened above");
            match f(session) {
                Ok(v) => return Ok(v),
                Err(e) if attempt == 0 && session_trouble(&e) => {
                    tracing::warn!(token = %self.token, error = %e, "PKCS#11 session lost; trying once more on a new one");
                    self.session = None;
                }
                Err(e) => return Err(hsm_err(&format!("token '{}'", self.token), e)),
            }
        }
        Err(KeysError::Hsm(format!(
            "token '{}' is not available",
            self.token
        )))
    }
}

impl Hsm {
    fn find(
        session: &Session,
        id: &KeyIdentifier,
        class: ObjectClass,
    ) -> Result<Option<ObjectHandle>, CkError> {
        let found = session.find_objects(&[
            Attribute::Class(class),
            Attribute::Id(id.as_slice().to_vec()),
        ])?;
        Ok(found.into_iter().next())
    }

    fn read_public(session: &Session, handle: ObjectHandle) -> Result<Option<PublicKey>, CkError> {
        let attrs = session.get_attributes(
            handle,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )?;
        let (mut n, mut e) = (None, None);
        for a in attrs {
            match a {
                Attribute::Modulus(m) => n = Some(m),
                Attribute::PublicExponent(x) => e = Some(x),
                _ => {}
            }
        }
        // RFC 7935 §3: RSA-2048 with exponent 65537, as software keys are
        // checked; anything else is not a key this CA signs with.
        let strip = |v: Vec<u8>| -> Vec<u8> { v.into_iter().skip_while(|b| *b == 0).collect() };
        Ok(n.zip(e).and_then(|(n, e)| {
            let (n, e) = (strip(n), strip(e));
            (n.len() == 256 && e == [0x01, 0x00, 0x01])
                .then(|| PublicKey::rsa_from_components(&n, &e).ok())
                .flatten()
        }))
    }

    /// Generates an RSA-2048 pair in the token; returns its identifier.
    pub(crate) fn generate(&self) -> Result<(KeyIdentifier, PublicKey), KeysError> {
        // The outer result is the key generation's own: retried on a new
        // session, since nothing was made. Once the pair exists, a failure
        // destroys it and is not retried (that would make a second pair).
        let made = self.with_session(|s| {
            let (public, private) = s.generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &[
                    Attribute::Token(true),
                    Attribute::Private(false),
                    Attribute::KeyType(KeyType::RSA),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                    Attribute::ModulusBits(2048.into()),
                    Attribute::Verify(true),
                ],
                &[
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::KeyType(KeyType::RSA),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Sign(true),
                ],
            )?;
            let named = || -> Result<PublicKey, String> {
                let key = Self::read_public(s, public)
                    .map_err(|e| e.to_string())?
                    .ok_or("the token made a key that is not RSA-2048 with exponent 65537")?;
                let id = key.key_identifier();
                let names = [
                    Attribute::Id(id.as_slice().to_vec()),
                    Attribute::Label(format!("anchorage {id}").into_bytes()),
                ];
                s.update_attributes(public, &names)
                    .and_then(|()| s.update_attributes(private, &names))
                    .map_err(|e| e.to_string())?;
                Ok(key)
            };
            Ok(named().inspect_err(|_| {
                let _ = s.destroy_object(private);
                let _ = s.destroy_object(public);
            }))
        })?;
        let key = made.map_err(|e| KeysError::Hsm(format!("token '{}': {e}", self.token)))?;
        Ok((key.key_identifier(), key))
    }

    /// The public key of `id`, if the token holds that key.
    pub(crate) fn public_key(&self, id: &KeyIdentifier) -> Result<Option<PublicKey>, KeysError> {
        let id = *id;
        self.with_session(
            move |s| match Self::find(s, &id, ObjectClass::PUBLIC_KEY)? {
                Some(h) => Self::read_public(s, h),
                None => Ok(None),
            },
        )
    }

    /// Signs `data` with `id`'s private key (SHA-256, PKCS#1 v1.5);
    /// `None` if the token does not hold it.
    pub(crate) fn sign(
        &self,
        id: &KeyIdentifier,
        data: &[u8],
    ) -> Result<Option<Vec<u8>>, KeysError> {
        let (id, data) = (*id, data.to_vec());
        self.with_session(
            move |s| match Self::find(s, &id, ObjectClass::PRIVATE_KEY)? {
                Some(h) => s.sign(&Mechanism::Sha256RsaPkcs, h, &data).map(Some),
                // Private objects are hidden from a session that lost its
                // login (an HSM's idle timeout, a reset): with the public
                // half there, that is session trouble, tried again on a
                // new session.
                None if Self::find(s, &id, ObjectClass::PUBLIC_KEY)?.is_some() => {
                    Err(CkError::Pkcs11(
                        RvError::UserNotLoggedIn,
                        cryptoki::context::Function::FindObjects,
                    ))
                }
                None => Ok(None),
            },
        )
    }

    /// Destroys both halves of `id`; whether there was anything.
    pub(crate) fn destroy(&self, id: &KeyIdentifier) -> Result<bool, KeysError> {
        let id = *id;
        self.with_session(move |s| {
            let mut found = false;
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                if let Some(h) = Self::find(s, &id, class)? {
                    s.destroy_object(h)?;
                    found = true;
                }
            }
            Ok(found)
        })
    }

    /// Every private key in the token: its identifier, and whether it
    /// could leave the token (extractable, or not sensitive).
    pub(crate) fn list(&self) -> Result<Vec<(KeyIdentifier, bool)>, KeysError> {
        self.with_session(|s| {
            let mut out = Vec::new();
            for h in s.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])? {
                let (mut id, mut exportable) = (None, false);
                let attrs = [
                    AttributeType::Id,
                    AttributeType::Extractable,
                    AttributeType::Sensitive,
                ];
                for a in s.get_attributes(h, &attrs)? {
                    match a {
                        Attribute::Id(v) => id = KeyIdentifier::try_from(v.as_slice()).ok(),
                        Attribute::Extractable(true) | Attribute::Sensitive(false) => {
                            exportable = true
                        }
                        _ => {}
                    }
                }
                if let Some(id) = id {
                    out.push((id, exportable));
                }
            }
            Ok(out)
        })
    }
}
