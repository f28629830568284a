//! The validation walk from a TAL to VRPs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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

/// The IP prefix of a VRP, shown as `ADDRESS/LENGTH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

impl Serialize for Prefix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A VRP as routers see it: origin AS, prefix, maxLength.
pub type Origin = (u32, Prefix, u8);

/// A validated ROA payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Vrp {
    /// Origin AS.
    pub asn: u32,
    /// Prefix.
    pub prefix: Prefix,
    /// maxLength (the prefix length when the ROA gives none).
    #[serde(rename = "maxLength")]
    pub max_length: u8,
    /// The trust anchor (the TAL's file name), one copy shared by every
    /// VRP of a run.
    pub ta: Arc<str>,
    /// When the ROA's EE certificate expires, seconds since the epoch.
    pub expires: i64,
}

impl Vrp {
    /// What a router is told of it.
    pub fn origin(&self) -> Origin {
        (self.asn, self.prefix, self.max_length)
    }
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
    /// Publication points whose result was taken from the previous run
    /// (see [`Live`]) instead of validated again.
    #[serde(skip)]
    pub points_reused: usize,
}

impl Validation {
    /// Adds what `part` counted and rejected, not its VRPs.
    fn count(&mut self, part: &Validation) {
        self.rejected.extend(part.rejected.iter().cloned());
        self.cas += part.cas;
        self.roas += part.roas;
        self.manifests += part.manifests;
        self.taks += part.taks;
        self.points_reused += part.points_reused;
    }
}

/// When a publication point's result from the previous run is taken
/// instead of validating the point again.
///
/// A point's result depends on the certificates from the trust anchor
/// down to its CA (resources may be inherited), its manifest and the
/// files the manifest lists (pinned by their hashes), and the time. A
/// previous result is found by the CA's chain hash (the SHA-256 of the
/// certificate bytes of every CA from the trust anchor down, with the
/// TAL's name and the strictness), so a point under any reissued
/// certificate is validated again; what else must hold is the variant's.
/// The time is never part of it: a caller that reuses results must also
/// validate with [`Reuse::Never`] regularly, so that expiry is seen
/// (`serve` does every 10 minutes).
#[derive(Clone, Copy, Debug)]
pub enum Reuse<'a> {
    /// Never: every point is validated.
    Never,
    /// When the manifest is the same bytes and every file the point read
    /// still has the size and mtime it had: for a fetched copy that may
    /// have changed anywhere (a file lost or replaced is validated
    /// again). Costs a read of every manifest and a stat of every file.
    Unchanged,
    /// When the point's directory in the fetched copy is below `root` and
    /// not one of `changed`: for a caller that knows every directory below
    /// `root` whose files changed in the copy since the previous run (see
    /// [`crate::fetch::RsyncFetcher::fetch_listed`]). Reads nothing of
    /// those points. A point elsewhere is taken as with [`Reuse::Unchanged`].
    Outside {
        /// The copy of the module the caller fetched.
        root: &'a Path,
        /// The directories of the copy whose files changed.
        changed: &'a HashSet<PathBuf>,
    },
}

/// One point's result: what it counted and rejected, its VRPs, its valid
/// child CAs (with their chain hashes), its manifest's hash, and the
/// files it read.
struct CachedPoint {
    out: Validation,
    vrps: Vec<Vrp>,
    children: Vec<(ResourceCert, [u8; 32])>,
    manifest: [u8; 32],
    files: Vec<(String, FileStamp)>,
}

/// Points' results by their CA's chain hash.
type Points = HashMap<[u8; 32], Arc<CachedPoint>>;

/// `serve`'s self-validation: every point's result kept from run to run;
/// a run validates again only what its [`Reuse`] asks for, and reports
/// the VRPs that changed for routers, at a cost in proportion to the
/// points validated again.
#[derive(Default)]
pub struct Live {
    results: Arc<Results>,
    /// How many VRPs of the kept results give each route origin.
    origins: HashMap<Origin, u32>,
}

/// Every point's result of a [`Live`] run, shared with readers while the
/// next run goes on.
#[derive(Default)]
pub struct Results {
    points: Points,
    /// The run's counts and rejections; its `vrps` are left empty (see
    /// [`Results::vrps`]).
    pub summary: Validation,
}

impl std::fmt::Debug for Results {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Results")
            .field("points", &self.points.len())
            .field("summary", &self.summary)
            .finish()
    }
}

impl Results {
    /// Every VRP of the run.
    pub fn vrps(&self) -> BTreeSet<Vrp> {
        self.points
            .values()
            .flat_map(|p| p.vrps.iter().cloned())
            .collect()
    }

    /// How many route origins the run gave (distinct VRPs as routers see them).
    pub fn origins(&self) -> usize {
        self.points
            .values()
            .flat_map(|p| p.vrps.iter().map(Vrp::origin))
            .collect::<HashSet<_>>()
            .len()
    }
}

/// What a [`Live`] run changed for routers.
pub struct Update {
    /// The run's results.
    pub results: Arc<Results>,
    /// Route origins that no VRP gave before and one gives now, sorted.
    pub announced: Vec<Origin>,
    /// Route origins that a VRP gave before and none gives now, sorted.
    pub withdrawn: Vec<Origin>,
}

impl Live {
    /// Validates the repository of the TAL at `tal_path`, taking the
    /// previous run's point results where `reuse` allows.
    pub fn run(
        &mut self,
        tal_path: &Path,
        fetcher: &mut Fetcher,
        strict: bool,
        reuse: Reuse<'_>,
    ) -> Result<Update, WalkError> {
        let (summary, points) = walk(
            tal_path,
            fetcher,
            strict,
            (&self.results.points, reuse),
            Collect::Points,
        )?;
        let previous = &self.results.points;
        // Whether each route origin touched was given before.
        let mut touched: HashMap<Origin, bool> = HashMap::new();
        let origins = &mut self.origins;
        let mut change = |vrps: &[Vrp], up: bool| {
            for v in vrps {
                let o = v.origin();
                let n = origins.entry(o).or_insert(0);
                touched.entry(o).or_insert(*n > 0);
                if up {
                    *n += 1;
                } else {
                    *n -= 1;
                    if *n == 0 {
                        origins.remove(&o);
                    }
                }
            }
        };
        let same = |a: &Arc<CachedPoint>, b: Option<&Arc<CachedPoint>>| {
            b.is_some_and(|b| Arc::ptr_eq(a, b) || a.vrps == b.vrps)
        };
        for (key, old) in previous {
            if !same(old, points.get(key)) {
                change(&old.vrps, false);
            }
        }
        for (key, new) in &points {
            if !same(new, previous.get(key)) {
                change(&new.vrps, true);
            }
        }
        let (mut announced, mut withdrawn) = (Vec::new(), Vec::new());
        for (o, before) in touched {
            match (before, self.origins.contains_key(&o)) {
                (false, true) => announced.push(o),
                (true, false) => withdrawn.push(o),
                _ => {}
            }
        }
        announced.sort_unstable();
        withdrawn.sort_unstable();
        self.results = Arc::new(Results { points, summary });
        Ok(Update {
            results: self.results.clone(),
            announced,
            withdrawn,
        })
    }

    /// The last run's results.
    pub fn results(&self) -> Arc<Results> {
        self.results.clone()
    }
}

/// What a walk gathers besides counts and rejections.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Collect {
    /// Every VRP into the run's [`Validation`].
    Vrps,
    /// Every point's result, VRPs included, for the next run.
    Points,
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
    /// The previous run's point results.
    previous: &'a Points,
    /// When one is taken.
    reuse: Reuse<'a>,
    /// What the run gathers.
    collect: Collect,
    /// This run's point results, for the next (with [`Collect::Points`]).
    next: Mutex<Points>,
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
    let none = Points::new();
    let (out, _) = walk(
        tal_path,
        fetcher,
        strict,
        (&none, Reuse::Never),
        Collect::Vrps,
    )?;
    Ok(out)
}

/// The walk from the TAL at `tal_path`, taking the `previous` run's point
/// results where `reuse` allows; returns the run and, with
/// [`Collect::Points`], its point results.
fn walk(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    strict: bool,
    (previous, reuse): (&Points, Reuse<'_>),
    collect: Collect,
) -> Result<(Validation, Points), WalkError> {
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
        previous,
        reuse,
        collect,
        next: Mutex::new(Points::new()),
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
    for mut part in parts {
        out.count(&part);
        out.vrps.append(&mut part.vrps);
    }
    // Workers finish in any order; the report does not.
    out.rejected
        .sort_by(|a, b| (&a.uri, &a.reason).cmp(&(&b.uri, &b.reason)));
    out.fetch = w.fetcher.lock().expect("fetcher lock").stats();
    Ok((out, w.next.into_inner().expect("cache lock")))
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
        let cached = self.previous.get(&ca_chain);
        // The copy's directories are compared, not URIs: a URI may spell
        // the same directory in more than one way.
        let known = match self.reuse {
            Reuse::Outside { root, changed } if dir.starts_with(root) => Some(changed),
            _ => None,
        };
        if let (Some(changed), Some(cached)) = (known, cached)
            && !changed.contains(&dir)
        {
            return self.reused(cached, ca_chain, out);
        }
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
        let manifest_hash = sha256(&mft);
        let stamps = match self.reuse {
            Reuse::Never => false,
            Reuse::Unchanged => true,
            Reuse::Outside { .. } => known.is_none(),
        };
        if let (true, Some(cached)) = (stamps, cached)
            && cached.manifest == manifest_hash
            && cached
                .files
                .iter()
                .all(|(name, was)| stamp(&dir.join(name)).as_ref() == Some(was))
        {
            return self.reused(cached, ca_chain, out);
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
        out.count(&part);
        match self.collect {
            Collect::Vrps => out.vrps.append(&mut part.vrps),
            Collect::Points => {
                let vrps = std::mem::take(&mut part.vrps).into_iter().collect();
                let cached = CachedPoint {
                    out: part,
                    vrps,
                    children: children.clone(),
                    manifest: manifest_hash,
                    files,
                };
                self.next
                    .lock()
                    .expect("cache lock")
                    .insert(ca_chain, Arc::new(cached));
            }
        }
        children
    }

    /// Takes `cached` as the result of the point of the CA whose chain
    /// hash is `ca_chain`; returns its valid child CAs.
    fn reused(
        &self,
        cached: &Arc<CachedPoint>,
        ca_chain: [u8; 32],
        out: &mut Validation,
    ) -> Vec<(ResourceCert, [u8; 32])> {
        out.count(&cached.out);
        out.points_reused += 1;
        match self.collect {
            Collect::Vrps => out.vrps.extend(cached.vrps.iter().cloned()),
            Collect::Points => {
                self.next
                    .lock()
                    .expect("cache lock")
                    .insert(ca_chain, cached.clone());
            }
        }
        cached.children.clone()
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
                                    prefix: Prefix {
                                        addr: addr.address(),
                                        len: addr.address_length(),
                                    },
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
