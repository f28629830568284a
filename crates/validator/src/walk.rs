//! The validation walk from a TAL to VRPs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::SystemTime;

use bcder::Tag;
use bcder::decode::{self, DecodeError};
use bytes::Bytes;
use rpki::crypto::PublicKey;
use rpki::repository::cert::{Cert, ResourceCert};
use rpki::repository::crl::Crl;
use rpki::repository::error::VerificationError;
use rpki::repository::manifest::Manifest;
use rpki::repository::roa::Roa;
use rpki::repository::sigobj::SignedObject;
use rpki::repository::tal::{Tal, TalUri};
use rpki::uri;
use serde::Serialize;

use crate::fetch::{FetchStats, Fetcher};

/// The deepest CA chain followed; deeper (or cyclic) chains are rejected.
pub const MAX_DEPTH: usize = 32;

/// A validated ROA payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Vrp {
    /// Origin AS.
    pub asn: u32,
    /// Prefix.
    pub prefix: String,
    /// maxLength (the prefix length when the ROA gives none).
    #[serde(rename = "maxLength")]
    pub max_length: u8,
    /// The trust anchor (the TAL's file name), one copy shared by every
    /// VRP of a run.
    pub ta: Arc<str>,
    /// When the ROA's EE certificate expires, seconds since the epoch.
    pub expires: i64,
}

/// An object or publication point that was rejected, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Its URI.
    pub uri: String,
    /// The reason, naming the rule.
    pub reason: String,
}

/// The result of validating one TAL.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Validation {
    /// Validated ROA payloads.
    pub vrps: BTreeSet<Vrp>,
    /// Rejected objects and points.
    pub rejected: Vec<Rejection>,
    /// CA certificates accepted (the TA included).
    pub cas: usize,
    /// ROAs accepted.
    pub roas: usize,
    /// Manifests accepted.
    pub manifests: usize,
    /// TAK objects accepted (RFC 9691).
    pub taks: usize,
    /// What was fetched.
    pub fetch: FetchStats,
    /// Publication points whose result was taken from the [`PointCache`]
    /// of the previous run instead of validated again.
    #[serde(skip)]
    pub points_reused: usize,
}

impl Validation {
    fn merge(&mut self, part: &Validation) {
        self.vrps.extend(part.vrps.iter().cloned());
        self.rejected.extend(part.rejected.iter().cloned());
        self.cas += part.cas;
        self.roas += part.roas;
        self.manifests += part.manifests;
        self.taks += part.taks;
        self.points_reused += part.points_reused;
    }
}

/// The results of publication points from one run, for the next.
///
/// A point's result depends on the certificates from the trust anchor
/// down to its CA (resources may be inherited), its manifest and the
/// files the manifest lists (pinned by their hashes), and the time. An
/// entry is found by the CA's chain hash (the SHA-256 of the certificate
/// bytes of every CA from the trust anchor down, with the TAL's name and
/// the strictness) together with the manifest's hash, and used only if
/// every file the point read still has the size and mtime it had (a file
/// lost or replaced in the fetched copy is validated again). So a point
/// under any reissued certificate is validated again. The time is not
/// part of it: a caller that keeps a cache must also validate without it
/// regularly, so that expiry is seen (`serve` does every 10 minutes).
#[derive(Default)]
pub struct PointCache {
    points: Mutex<HashMap<[u8; 32], Arc<CachedPoint>>>,
}

impl PointCache {
    /// Forgets every result: the next run validates everything.
    pub fn clear(&self) {
        self.points.lock().expect("cache lock").clear();
    }

    /// How many points' results are kept.
    pub fn len(&self) -> usize {
        self.points.lock().expect("cache lock").len()
    }

    /// Whether no result is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One point's result: what it added to the run, its valid child CAs
/// (with the hash of their certificates), and the files it read.
struct CachedPoint {
    out: Validation,
    children: Vec<(ResourceCert, [u8; 32])>,
    files: Vec<(String, FileStamp)>,
}

/// Size and mtime of a file as read.
type FileStamp = (u64, Option<SystemTime>);

fn stamp(path: &Path) -> Option<FileStamp> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()))
}

fn sha256(data: &[u8]) -> [u8; 32] {
    rpki::crypto::DigestAlgorithm::sha256()
        .digest(data)
        .as_ref()
        .try_into()
        .expect("a SHA-256 digest is 32 bytes")
}

/// Why a whole run failed (as opposed to single objects being rejected).
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    /// The TAL could not be read.
    #[error("cannot read TAL {path}: {reason}")]
    Tal {
        /// The TAL file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No URI of the TAL gave a valid TA certificate.
    #[error("no valid trust anchor certificate from TAL {0}; see the rejections")]
    NoTrustAnchor(String),
}

/// A CA whose point is still to be validated: its certificate, depth,
/// and its chain hash (see [`PointCache`]).
type Pending = (ResourceCert, usize, [u8; 32]);

/// The chain hash of a CA issued by one whose chain hash is `issuer`:
/// the SHA-256 of that and of the CA certificate's bytes.
fn chain(issuer: &[u8], cert: &[u8]) -> [u8; 32] {
    let mut both = issuer.to_vec();
    both.extend_from_slice(&sha256(cert));
    sha256(&both)
}

/// What the workers share: the fetcher (fetches are serialised: each
/// module or notification is fetched once per run), the queue of CAs
/// whose points are still to be validated, and the keys already seen.
struct Walker<'a> {
    fetcher: Mutex<&'a mut Fetcher>,
    strict: bool,
    ta: Arc<str>,
    seen: Mutex<HashSet<Vec<u8>>>,
    /// Pending CAs (with their depth and chain hash),
    /// and how many workers are busy (so an empty queue with busy workers
    /// is not the end).
    queue: Mutex<(VecDeque<Pending>, usize)>,
    more: Condvar,
    /// The previous run's point results, if kept.
    previous: HashMap<[u8; 32], Arc<CachedPoint>>,
    /// This run's, for the next.
    next: Option<Mutex<HashMap<[u8; 32], Arc<CachedPoint>>>>,
}

/// How many threads validate publication points in parallel.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

fn reject(out: &mut Validation, uri: &str, reason: impl std::fmt::Display) {
    tracing::warn!(%uri, %reason, "rejected");
    out.rejected.push(Rejection {
        uri: uri.to_string(),
        reason: reason.to_string(),
    });
}

/// Manifest file names: RFC 9286 §4.2.2 and the RPKI object types.
fn valid_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && matches!(ext, "cer" | "crl" | "mft" | "roa" | "asa" | "gbr" | "tak")
}

/// Decodes untrusted bytes as each RPKI object type the walk reads (by
/// file extension), the way the walk does. For fuzzing and hostile-input
/// tests; it must never panic. Returns how many types accepted it.
pub fn decode_untrusted(data: &[u8]) -> usize {
    let b = || Bytes::copy_from_slice(data);
    let mut accepted = 0;
    if let Ok(cert) = Cert::decode(b()) {
        accepted += 1;
        // What the walk reads from every certificate before validating it.
        let _ = (
            cert.ca_repository(),
            cert.rpki_manifest(),
            cert.rpki_notify(),
        );
        let _ = cert.subject_key_identifier();
    }
    if let Ok(roa) = Roa::decode(b(), true) {
        accepted += 1;
        let _ = roa.content().iter().count();
    }
    if let Ok(mft) = Manifest::decode(b(), true) {
        accepted += 1;
        for item in mft.content().iter() {
            let _ = valid_file_name(&String::from_utf8_lossy(item.file()));
        }
    }
    if Crl::decode(b()).is_ok() {
        accepted += 1;
    }
    // A TAK's content is read before its signature is checked.
    if let Ok(obj) = SignedObject::decode(b(), true)
        && obj.decode_content(take_tak).is_ok()
    {
        accepted += 1;
    }
    accepted
}

/// Validates the repository of the TAL at `tal_path`.
pub fn validate(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    strict: bool,
) -> Result<Validation, WalkError> {
    validate_with(tal_path, fetcher, strict, None)
}

/// [`validate`], taking unchanged points' results from `cache` (the
/// previous run's) and leaving this run's in it.
pub fn validate_with(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    strict: bool,
    cache: Option<&PointCache>,
) -> Result<Validation, WalkError> {
    let tal_err = |reason: String| WalkError::Tal {
        path: tal_path.display().to_string(),
        reason,
    };
    let mut file = fs::File::open(tal_path).map_err(|e| tal_err(e.to_string()))?;
    let tal = Tal::read(tal_path, &mut file).map_err(|e| tal_err(e.to_string()))?;
    let mut out = Validation::default();
    let w = Walker {
        fetcher: Mutex::new(fetcher),
        strict,
        ta: Arc::from(tal.info().name()),
        seen: Mutex::new(HashSet::new()),
        queue: Mutex::new((VecDeque::new(), 0)),
        more: Condvar::new(),
        previous: cache
            .map(|c| std::mem::take(&mut *c.points.lock().expect("cache lock")))
            .unwrap_or_default(),
        next: cache.map(|_| Mutex::new(HashMap::new())),
    };
    let mut ta_cert = None;
    // RFC 8630 §3: the URIs in order, until one gives a valid certificate.
    for tal_uri in tal.uris() {
        if !w.fetcher.lock().expect("fetcher lock").can_fetch(tal_uri) {
            continue;
        }
        match w.trust_anchor(tal_uri, &tal) {
            Ok(cert) => {
                ta_cert = Some(cert);
                break;
            }
            Err(reason) => reject(&mut out, tal_uri.as_str(), reason),
        }
    }
    let ta_cert =
        ta_cert.ok_or_else(|| WalkError::NoTrustAnchor(tal_path.display().to_string()))?;
    out.cas += 1;
    w.queue.lock().expect("queue lock").0.push_back(ta_cert);
    // Publication points in parallel; each worker keeps its own results.
    let parts: Vec<Validation> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers()).map(|_| s.spawn(|| w.work())).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("validation worker panicked"))
            .collect()
    });
    for part in parts {
        out.merge(&part);
    }
    if let (Some(cache), Some(next)) = (cache, w.next) {
        *cache.points.lock().expect("cache lock") = next.into_inner().expect("cache lock");
    }
    // Workers finish in any order; the report does not.
    out.rejected
        .sort_by(|a, b| (&a.uri, &a.reason).cmp(&(&b.uri, &b.reason)));
    out.fetch = w.fetcher.lock().expect("fetcher lock").stats();
    Ok(out)
}

impl Walker<'_> {
    /// One worker: takes CAs from the queue until it is empty and no
    /// other worker can add to it.
    fn work(&self) -> Validation {
        let mut out = Validation::default();
        loop {
            let (ca, depth, ca_chain) = {
                let mut q = self.queue.lock().expect("queue lock");
                loop {
                    if let Some(next) = q.0.pop_front() {
                        q.1 += 1;
                        break next;
                    }
                    if q.1 == 0 {
                        self.more.notify_all();
                        return out;
                    }
                    q = self.more.wait(q).expect("queue lock");
                }
            };
            let children = self.ca(&ca, depth, ca_chain, &mut out);
            let mut q = self.queue.lock().expect("queue lock");
            q.0.extend(children.into_iter().map(|(c, h)| (c, depth + 1, h)));
            q.1 -= 1;
            self.more.notify_all();
        }
    }

    fn trust_anchor(
        &self,
        uri: &TalUri,
        tal: &Tal,
    ) -> Result<(ResourceCert, usize, [u8; 32]), String> {
        let bytes = self
            .fetcher
            .lock()
            .expect("fetcher lock")
            .trust_anchor(uri)
            .map_err(|e| e.to_string())?;
        let root = format!("{}\n{}\n", self.ta, self.strict);
        let ta_chain = chain(root.as_bytes(), &bytes);
        let cert = Cert::decode(bytes).map_err(|e| format!("bad DER: {e}"))?;
        // RFC 8630 §2.3: the certificate's key must be the TAL's.
        if cert.subject_public_key_info() != tal.key_info() {
            return Err("certificate key differs from the TAL's key (RFC 8630 §2.3)".into());
        }
        cert.validate_ta(tal.info().clone(), self.strict)
            .map(|c| (c, 0, ta_chain))
            .map_err(|e| format!("invalid trust anchor certificate: {e}"))
    }

    /// Validates the publication point of `ca` (whose certificate's bytes
    /// chain hash is `ca_chain`), or takes the previous run's result for it;
    /// returns the valid CA certificates found in it, whose points are
    /// next.
    fn ca(
        &self,
        ca: &ResourceCert,
        depth: usize,
        ca_chain: [u8; 32],
        out: &mut Validation,
    ) -> Vec<(ResourceCert, [u8; 32])> {
        let children = Vec::new();
        let (Some(repo), Some(mft_uri)) = (ca.ca_repository(), ca.rpki_manifest()) else {
            reject(
                out,
                "?",
                "CA certificate without caRepository or rpkiManifest (RFC 6487 §4.8.8.1)",
            );
            return children;
        };
        let ski = ca.subject_key_identifier().as_slice().to_vec();
        if depth >= MAX_DEPTH || !self.seen.lock().expect("seen lock").insert(ski) {
            reject(out, repo.as_str(), "CA chain too deep or cyclic");
            return children;
        }
        let fetched = self
            .fetcher
            .lock()
            .expect("fetcher lock")
            .point(ca.rpki_notify(), repo);
        let dir = match fetched {
            Ok(dir) => dir,
            Err(e) => {
                reject(out, repo.as_str(), e);
                return children;
            }
        };
        // The manifest is read once: for the cache's key and to validate.
        let manifest = mft_uri
            .as_str()
            .strip_prefix(repo.as_str())
            .filter(|r| valid_file_name(r))
            .ok_or_else(|| "manifest is not a file directly in the CA's repository".to_string())
            .and_then(|rel| {
                fs::read(dir.join(rel))
                    .map(|bytes| (rel, bytes))
                    .map_err(|e| format!("manifest missing: {e}"))
            });
        let (rel, mft) = match manifest {
            Ok(found) => found,
            Err(reason) => {
                reject(out, mft_uri.as_str(), reason);
                return children;
            }
        };
        let key = self.next.as_ref().map(|_| {
            let mut key = ca_chain.to_vec();
            key.extend_from_slice(&sha256(&mft));
            sha256(&key)
        });
        if let (Some(key), Some(next)) = (key, &self.next)
            && let Some(cached) = self.previous.get(&key)
            && cached
                .files
                .iter()
                .all(|(name, was)| stamp(&dir.join(name)).as_ref() == Some(was))
        {
            out.merge(&cached.out);
            out.points_reused += 1;
            next.lock().expect("cache lock").insert(key, cached.clone());
            return cached.children.clone();
        }
        let mut part = Validation::default();
        let point = match self.point(ca, rel, mft, &dir) {
            Ok(point) => point,
            Err(reason) => {
                reject(out, mft_uri.as_str(), reason);
                return children;
            }
        };
        let files = point.read.clone();
        let children = self.point_objects(ca, depth, ca_chain, repo, point, &mut part);
        out.merge(&part);
        if let (Some(key), Some(next)) = (key, &self.next) {
            let cached = CachedPoint {
                out: part,
                children: children.clone(),
                files,
            };
            next.lock()
                .expect("cache lock")
                .insert(key, Arc::new(cached));
        }
        children
    }

    /// Validates the objects of a point whose manifest and CRL were
    /// accepted; returns its valid child CAs.
    fn point_objects(
        &self,
        ca: &ResourceCert,
        depth: usize,
        ca_chain: [u8; 32],
        repo: &uri::Rsync,
        point: Point,
        out: &mut Validation,
    ) -> Vec<(ResourceCert, [u8; 32])> {
        let mut children = Vec::new();
        out.manifests += 1;
        for (name, bytes) in point.files {
            let uri = format!("{repo}{name}");
            match name.rsplit_once('.').map(|(_, e)| e) {
                Some("cer") => {
                    let child_chain = chain(&ca_chain, &bytes);
                    let cert = Cert::decode(bytes)
                        .map_err(|e| format!("bad DER: {e}"))
                        .and_then(|c| {
                            if point.crl.contains(c.serial_number()) {
                                return Err("revoked by the CRL".to_string());
                            }
                            // RFC 6487 §7.2 / RFC 3779: resources within the issuer's.
                            c.validate_ca(ca, self.strict).map_err(|e| e.to_string())
                        });
                    match cert {
                        Ok(child) => {
                            out.cas += 1;
                            children.push((child, child_chain));
                        }
                        Err(reason) => reject(out, &uri, reason),
                    }
                }
                Some("roa") => {
                    let crl = &point.crl;
                    let roa = Roa::decode(bytes, self.strict)
                        .map_err(|e| format!("bad DER: {e}"))
                        .and_then(|roa| {
                            roa.process(ca, self.strict, |ee| {
                                if crl.contains(ee.serial_number()) {
                                    Err(VerificationError::new("EE certificate revoked by the CRL")
                                        .into())
                                } else {
                                    Ok(())
                                }
                            })
                            .map_err(|e| e.to_string())
                        });
                    match roa {
                        Ok((ee, content)) => {
                            out.roas += 1;
                            let expires = ee.validity().not_after().timestamp();
                            for addr in content.iter() {
                                out.vrps.insert(Vrp {
                                    asn: content.as_id().into_u32(),
                                    prefix: format!("{}/{}", addr.address(), addr.address_length()),
                                    max_length: addr.max_length(),
                                    ta: self.ta.clone(),
                                    expires,
                                });
                            }
                        }
                        Err(reason) => reject(out, &uri, reason),
                    }
                }
                Some("tak") => match self.tak(ca, depth, bytes, &point.crl) {
                    Ok(()) => out.taks += 1,
                    Err(reason) => reject(out, &uri, reason),
                },
                // The CRL is checked with the manifest; other types ignored.
                _ => {}
            }
        }
        children
    }

    /// Validates a TAK object (RFC 9691) of the CA `ca` at `depth`: only a
    /// trust anchor issues one, signed with an EE certificate it issued,
    /// naming the trust anchor's own key as the current one (§3, §3.1).
    /// A successor key is noted by relying parties that roll TALs; this
    /// validator keeps its TAL.
    fn tak(&self, ca: &ResourceCert, depth: usize, bytes: Bytes, crl: &Crl) -> Result<(), String> {
        if depth != 0 {
            return Err(
                "a TAK object issued by a CA that is not a trust anchor (RFC 9691 §3)".into(),
            );
        }
        let obj = SignedObject::decode(bytes, self.strict).map_err(|e| format!("bad DER: {e}"))?;
        if obj.content_type().0.as_ref() != CT_SIGNED_TAL {
            return Err("not a TAK object: its content type is not id-ct-signedTAL".into());
        }
        let current = obj
            .decode_content(take_tak)
            .map_err(|e| format!("bad TAK content (RFC 9691 §3.1): {e}"))?;
        obj.process(ca, self.strict, |ee| {
            if crl.contains(ee.serial_number()) {
                Err(VerificationError::new("EE certificate revoked by the CRL").into())
            } else {
                Ok(())
            }
        })
        .map_err(|e| e.to_string())?;
        if &current != ca.subject_public_key_info() {
            return Err("the TAK's current key is not the trust anchor's (RFC 9691 §3.1)".into());
        }
        Ok(())
    }

    /// Checks the manifest (`bytes`, read from `rel` in `dir`) and CRL of
    /// a point and returns its files.
    fn point(
        &self,
        ca: &ResourceCert,
        rel: &str,
        bytes: Vec<u8>,
        dir: &Path,
    ) -> Result<Point, String> {
        let mut read = Vec::new();
        read.extend(stamp(&dir.join(rel)).map(|s| (rel.to_string(), s)));
        let mft = Manifest::decode(Bytes::from(bytes), self.strict)
            .map_err(|e| format!("bad DER: {e}"))?;
        let (mft_ee, content) = mft
            .validate(ca, self.strict)
            .map_err(|e| format!("invalid manifest: {e}"))?;
        if content.is_stale() {
            return Err("manifest is stale: nextUpdate has passed (RFC 9286 §6.3)".into());
        }
        // RFC 9286 §6.4/§6.5: every listed file present with its hash, or
        // the whole point is treated as failed.
        let alg = content.file_hash_alg();
        let mut files = Vec::new();
        let mut crls = Vec::new();
        for item in content.iter() {
            let name =
                String::from_utf8(item.file().to_vec()).map_err(|_| "file name is not UTF-8")?;
            if !valid_file_name(&name) {
                return Err(format!(
                    "manifest lists bad file name {name:?} (RFC 9286 §4.2.2)"
                ));
            }
            let path = dir.join(&name);
            let data = fs::read(&path)
                .map_err(|_| format!("{name} listed on the manifest is missing (RFC 9286 §6.4)"))?;
            read.extend(stamp(&path).map(|s| (name.clone(), s)));
            if alg.digest(&data).as_ref() != item.hash().as_ref() {
                return Err(format!(
                    "{name} does not match its manifest hash (RFC 9286 §6.5)"
                ));
            }
            if name.ends_with(".crl") {
                crls.push(Bytes::from(data));
            } else {
                files.push((name, Bytes::from(data)));
            }
        }
        // RFC 9286 §6.6 / RFC 6487 §5: exactly one CRL, signed by the CA, current.
        let [crl_bytes] = <[Bytes; 1]>::try_from(crls).map_err(|c| {
            format!(
                "manifest lists {} CRLs; exactly one is required (RFC 9286 §6.6)",
                c.len()
            )
        })?;
        let crl = Crl::decode(crl_bytes).map_err(|e| format!("bad CRL: {e}"))?;
        crl.verify_signature(ca.subject_public_key_info())
            .map_err(|_| "CRL signature does not verify with the CA's key")?;
        if crl.is_stale() {
            return Err("CRL nextUpdate has passed (RFC 6487 §5)".into());
        }
        if crl.contains(mft_ee.as_cert().serial_number()) {
            return Err("manifest EE certificate is revoked".into());
        }
        files.sort();
        Ok(Point { files, crl, read })
    }
}

/// RFC 9691 §3: id-ct-signedTAL (1.2.840.113549.1.9.16.1.50).
const CT_SIGNED_TAL: &[u8] = &[42, 134, 72, 134, 247, 13, 1, 9, 16, 1, 50];

/// Reads a TAK's content (RFC 9691 §3.1) and returns its current key.
/// The version (`INTEGER DEFAULT 0`) is absent in DER; rpki-client's
/// `[0] EXPLICIT` form of it, before the current key, is read too.
fn take_tak<S: decode::Source>(
    cons: &mut decode::Constructed<S>,
) -> Result<PublicKey, DecodeError<S::Error>> {
    cons.take_sequence(|cons| {
        cons.take_opt_primitive_if(Tag::INTEGER, |p| p.skip_all())?;
        cons.take_opt_constructed_if(Tag::CTX_0, |c| c.skip_all())?;
        let current = take_tak_key(cons)?;
        cons.take_opt_constructed_if(Tag::CTX_0, |c| take_tak_key(c).map(|_| ()))?;
        cons.take_opt_constructed_if(Tag::CTX_1, |c| take_tak_key(c).map(|_| ()))?;
        Ok(current)
    })
}

/// Reads one `TAKey`: comments, at least one certificate URI, the key.
fn take_tak_key<S: decode::Source>(
    cons: &mut decode::Constructed<S>,
) -> Result<PublicKey, DecodeError<S::Error>> {
    cons.take_sequence(|cons| {
        cons.take_sequence(|c| {
            while c
                .take_opt_primitive_if(Tag::UTF8_STRING, |p| p.skip_all())?
                .is_some()
            {}
            Ok(())
        })?;
        let uris = cons.take_sequence(|c| {
            let mut n = 0;
            while c
                .take_opt_primitive_if(Tag::IA5_STRING, |p| p.skip_all())?
                .is_some()
            {
                n += 1;
            }
            Ok(n)
        })?;
        if uris == 0 {
            return Err(cons.content_err("a TAKey without a certificate URI"));
        }
        PublicKey::take_from(cons)
    })
}

struct Point {
    files: Vec<(String, Bytes)>,
    crl: Crl,
    /// Every file read (the manifest included), as it was when read.
    read: Vec<(String, FileStamp)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert!(valid_file_name("AS64496.roa"));
        assert!(valid_file_name("A1B2.mft"));
        assert!(!valid_file_name("../x.roa"));
        assert!(!valid_file_name(".roa"));
        assert!(!valid_file_name("x.exe"));
        assert!(!valid_file_name("a b.cer"));
    }
}
