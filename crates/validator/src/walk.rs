//! The validation walk from a TAL to VRPs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::SystemTime;

use bcder::Tag;
use bcder::decode::{self, DecodeError};
use bcder::encode::Values;
use bytes::Bytes;
use rpki::crypto::{KeyIdentifier, PublicKey};
use rpki::repository::aspa::Aspa;
use rpki::repository::cert::{Cert, ResourceCert};
use rpki::repository::crl::Crl;
use rpki::repository::manifest::Manifest;
use rpki::repository::roa::Roa;
use rpki::repository::sigobj::SignedObject;
use rpki::repository::tal::{Tal, TalUri};
use rpki::repository::x509::{Serial, Time};
use rpki::uri;
use serde::Serialize;

use crate::fetch::{FetchStats, Fetcher};
use crate::kept::{PackedVrps, PointCounts, Stamps};
use crate::profile::{self, CertKind};
use crate::seen::{Seen, SeenManifest};

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

/// A validated Ghostbusters record (RFC 6493): where it is and its
/// vCard's properties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// Its URI.
    pub uri: String,
    /// The vCard's properties in order, as `[NAME, value]`.
    pub vcard: Vec<(String, String)>,
}

/// A validated ASPA (draft-ietf-sidrops-aspa-profile), as rpki-client's
/// JSON lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ValidatedAspa {
    /// The customer AS.
    #[serde(rename = "customer_asid")]
    pub customer: u32,
    /// When the ASPA's EE certificate expires, seconds since the epoch.
    pub expires: i64,
    /// The provider ASes, ascending.
    pub providers: Vec<u32>,
}

/// A validated BGPsec router key (RFC 8209), as rpki-client's JSON lists
/// it under `bgpsec_keys`: one per AS its certificate holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ValidatedRouterKey {
    /// The AS.
    pub asn: u32,
    /// The key's SKI, upper-case hex.
    pub ski: String,
    /// The key: its SubjectPublicKeyInfo DER in base64.
    pub pubkey: String,
    /// When the certificate expires, seconds since the epoch.
    pub expires: i64,
}

/// The result of validating one TAL.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Validation {
    /// Validated ROA payloads.
    pub vrps: BTreeSet<Vrp>,
    /// Rejected objects and points.
    pub rejected: Vec<Rejection>,
    /// Objects accepted with a warning: a manifest that goes back, in a
    /// run that keeps no earlier objects to use instead.
    pub warnings: Vec<Rejection>,
    /// CA certificates accepted (the TA included).
    pub cas: usize,
    /// ROAs accepted.
    pub roas: usize,
    /// Manifests accepted.
    pub manifests: usize,
    /// TAK objects accepted (RFC 9691).
    pub taks: usize,
    /// Ghostbusters records accepted (RFC 6493), with their contacts.
    pub gbrs: Vec<Contact>,
    /// ASPAs accepted, by customer AS.
    pub aspas: Vec<ValidatedAspa>,
    /// Router keys accepted, by AS and SKI.
    pub router_keys: Vec<ValidatedRouterKey>,
    /// What was fetched.
    pub fetch: FetchStats,
    /// Publication points whose result was taken from the previous run
    /// (see [`Live`]) instead of validated again.
    #[serde(skip)]
    pub points_reused: usize,
}

impl Validation {
    /// Adds what `part` counted and rejected, not its VRPs.
    pub(crate) fn count(&mut self, part: &Validation) {
        self.rejected.extend(part.rejected.iter().cloned());
        self.warnings.extend(part.warnings.iter().cloned());
        self.cas += part.cas;
        self.roas += part.roas;
        self.manifests += part.manifests;
        self.taks += part.taks;
        self.gbrs.extend(part.gbrs.iter().cloned());
        self.aspas.extend(part.aspas.iter().cloned());
        self.router_keys.extend(part.router_keys.iter().cloned());
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
/// child CAs, its manifest's hash, and the files it read. In the compact
/// forms of [`crate::kept`]: `serve` keeps one per point for as long as
/// it runs.
struct CachedPoint {
    counts: PointCounts,
    /// Each VRP as routers see it, with when its ROA expires (the trust
    /// anchor is the run's).
    vrps: PackedVrps,
    children: Vec<Arc<Child>>,
    manifest: [u8; 32],
    /// The manifest's number.
    number: Serial,
    /// The manifest's thisUpdate.
    this_update: Time,
    /// The files read: the manifest, then those it lists.
    stamps: [u8; 32],
}

/// A CA as the walk goes to its point: where the point is, and what the
/// certificate names. Kept for the next run instead of the certificate,
/// which is validated again from the copy only when its point must be.
/// `serve` keeps one per CA for as long as it runs, so its text is one
/// allocation (the URIs are parsed from it when the point is visited):
/// about 300 bytes per CA where a name and three URIs of their own took
/// 530.
struct Child {
    /// Its chain hash.
    chain: [u8; 32],
    /// Subject key identifier.
    ski: KeyIdentifier,
    /// The certificate's file name in its issuer's point, its
    /// caRepository, its rpkiManifest (only what follows the
    /// caRepository where it is in it, as a manifest is named by RFC 6487
    /// §4.8.8.1), then its rpkiNotify (none: empty), one after the other.
    text: Box<str>,
    /// Where the file name, the caRepository and the rpkiManifest end in
    /// `text`.
    ends: [u32; 3],
    /// Whether the rpkiManifest in `text` follows the caRepository.
    manifest_in_repo: bool,
}

impl Child {
    /// What the walk keeps of the CA certificate `cert` found as `file`
    /// with chain hash `chain`.
    fn of(cert: &Cert, chain: [u8; 32], file: &str) -> Result<Child, String> {
        let (Some(repo), Some(manifest)) = (cert.ca_repository(), cert.rpki_manifest()) else {
            return Err(
                "CA certificate without caRepository or rpkiManifest (RFC 6487 §4.8.8.1)".into(),
            );
        };
        let (repo, manifest) = (repo.as_str(), manifest.as_str());
        let in_repo = manifest.strip_prefix(repo);
        let notify = cert.rpki_notify().map_or("", |u| u.as_str());
        let mut text =
            String::with_capacity(file.len() + repo.len() + manifest.len() + notify.len());
        let mut ends = [0; 3];
        for (end, part) in ends
            .iter_mut()
            .zip([file, repo, in_repo.unwrap_or(manifest)])
        {
            text.push_str(part);
            *end = u32::try_from(text.len()).map_err(|_| "CA certificate's URIs too long")?;
        }
        text.push_str(notify);
        Ok(Child {
            chain,
            ski: cert.subject_key_identifier(),
            text: text.into_boxed_str(),
            ends,
            manifest_in_repo: in_repo.is_some(),
        })
    }

    /// The certificate's file name in its issuer's point.
    fn file(&self) -> &str {
        &self.text[..self.ends[0] as usize]
    }

    /// caRepository, as the certificate spells it.
    fn repo_text(&self) -> &str {
        &self.text[self.ends[0] as usize..self.ends[1] as usize]
    }

    // The URIs are parsed again from the text, each only where the visit
    // needs it (a point taken from the previous run needs only its
    // caRepository): they were parsed from the certificate, so only a
    // change to this code could make that fail.

    /// caRepository.
    fn repo(&self) -> Result<uri::Rsync, String> {
        self.repo_text().parse().map_err(kept_uri)
    }

    /// rpkiManifest.
    fn manifest(&self) -> Result<uri::Rsync, String> {
        let text = &self.text[self.ends[1] as usize..self.ends[2] as usize];
        match self.manifest_in_repo {
            true => format!("{}{text}", self.repo_text()).parse(),
            false => text.parse(),
        }
        .map_err(kept_uri)
    }

    /// rpkiNotify.
    fn notify(&self) -> Result<Option<uri::Https>, String> {
        let text = &self.text[self.ends[2] as usize..];
        match text.is_empty() {
            true => Ok(None),
            false => text.parse().map(Some).map_err(kept_uri),
        }
    }
}

/// Why a URI kept in a [`Child`] was not used.
fn kept_uri(e: uri::Error) -> String {
    format!("kept URI does not parse: {e}")
}

/// A CA whose point the walk goes to.
struct Ca {
    child: Arc<Child>,
    depth: usize,
    /// Its certificate, validated: when found, or when first needed.
    cert: OnceLock<Result<Arc<ResourceCert>, String>>,
    /// For a CA kept from the previous run: its issuer, and the issuer's
    /// point's directory in the copy, which holds the certificate.
    issuer: Option<(Arc<Ca>, Arc<Path>)>,
}

impl Ca {
    /// A CA whose certificate was just validated.
    fn found(child: Child, depth: usize, cert: ResourceCert) -> Arc<Ca> {
        Arc::new(Ca {
            child: Arc::new(child),
            depth,
            cert: OnceLock::from(Ok(Arc::new(cert))),
            issuer: None,
        })
    }

    /// The certificate, validated again from the copy if it was kept. Its
    /// issuer's point was taken from the previous run, so the file is the
    /// one validated then (its chain hash says so) and no CRL of it
    /// changed; only the issuer's certificate is needed, validated the
    /// same way.
    fn cert(&self, strict: bool, now: Time) -> Result<Arc<ResourceCert>, String> {
        self.cert
            .get_or_init(|| {
                let (issuer, dir) = self.issuer.as_ref().ok_or("a CA without its certificate")?;
                let issuer_cert = issuer.cert(strict, now)?;
                let file = self.child.file();
                let bytes = fs::read(dir.join(file))
                    .map_err(|e| format!("CA certificate {file} unreadable: {e}"))?;
                if chain(&issuer.child.chain, &bytes) != self.child.chain {
                    return Err(format!(
                        "CA certificate {file} changed in the copy since it was validated"
                    ));
                }
                profile::certificate(&bytes, CertKind::Ca)?;
                Cert::decode(Bytes::from(bytes))
                    .map_err(|e| format!("bad DER: {e}"))?
                    .validate_ca_at(&issuer_cert, strict, now)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
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
    /// How many VRPs of the kept results give each route origin, sorted:
    /// a third of the memory of a hash map, and changed by one merge.
    origins: Vec<(Origin, u32)>,
}

/// Every point's result of a [`Live`] run, shared with readers while the
/// next run goes on.
#[derive(Default)]
pub struct Results {
    points: Points,
    /// The trust anchor's name (the TAL's file name).
    ta: Arc<str>,
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
            .flat_map(|p| p.vrps.iter())
            .map(|((asn, prefix, max_length), expires)| Vrp {
                asn,
                prefix,
                max_length,
                ta: self.ta.clone(),
                expires,
            })
            .collect()
    }

    /// Every route origin of the run (a VRP without its trust anchor and
    /// expiry), once per ROA that gives it.
    pub fn origins(&self) -> impl Iterator<Item = Origin> + '_ {
        self.points
            .values()
            .flat_map(|p| p.vrps.iter().map(|(origin, _)| origin))
    }

    /// Publication points validated.
    pub fn points(&self) -> usize {
        self.points.len()
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
        let (summary, points, ta) = walk(
            tal_path,
            fetcher,
            (strict, Time::now()),
            (&self.results.points, reuse, None),
            Collect::Points,
        )?;
        let previous = &self.results.points;
        // The VRPs of the points not taken from the previous run count
        // down, those of their replacements up.
        let same = |a: &Arc<CachedPoint>, b: Option<&Arc<CachedPoint>>| {
            b.is_some_and(|b| Arc::ptr_eq(a, b) || a.vrps == b.vrps)
        };
        let mut delta: Vec<(Origin, i64)> = Vec::new();
        for (key, old) in previous {
            if !same(old, points.get(key)) {
                delta.extend(old.vrps.iter().map(|(o, _)| (o, -1)));
            }
        }
        for (key, new) in &points {
            if !same(new, previous.get(key)) {
                delta.extend(new.vrps.iter().map(|(o, _)| (o, 1)));
            }
        }
        let (announced, withdrawn) = self.count(delta);
        self.results = Arc::new(Results {
            points,
            ta,
            summary,
        });
        Ok(Update {
            results: self.results.clone(),
            announced,
            withdrawn,
        })
    }

    /// Applies `delta` (route origins, each counted up or down) to the
    /// counts in one merge; returns the origins announced (no VRP gave
    /// them before) and withdrawn (none gives them now), sorted.
    fn count(&mut self, mut delta: Vec<(Origin, i64)>) -> (Vec<Origin>, Vec<Origin>) {
        let (mut announced, mut withdrawn) = (Vec::new(), Vec::new());
        if delta.is_empty() {
            return (announced, withdrawn);
        }
        delta.sort_unstable_by_key(|d| d.0);
        let old = std::mem::take(&mut self.origins);
        let mut counts = Vec::with_capacity(old.len() + delta.len());
        let mut old = old.into_iter().peekable();
        let mut delta = delta.into_iter().peekable();
        while let Some((o, mut sum)) = delta.next() {
            while let Some((_, more)) = delta.next_if(|d| d.0 == o) {
                sum += more;
            }
            while let Some(kept) = old.next_if(|k| k.0 < o) {
                counts.push(kept);
            }
            let before = old.next_if(|k| k.0 == o).map_or(0, |k| k.1 as i64);
            let after = before + sum;
            debug_assert!(after >= 0, "{o:?} counted below zero");
            if after > 0 {
                counts.push((o, after as u32));
            }
            match (before > 0, after > 0) {
                (false, true) => announced.push(o),
                (true, false) => withdrawn.push(o),
                _ => {}
            }
        }
        counts.extend(old);
        self.origins = counts;
        (announced, withdrawn)
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
pub(crate) type FileStamp = (u64, Option<SystemTime>);

/// The size and mtime of the file at `path`, if there is one.
pub(crate) fn stamp(path: &Path) -> Option<FileStamp> {
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
    /// The time the run validates at.
    now: Time,
    ta: Arc<str>,
    seen: Mutex<HashSet<KeyIdentifier>>,
    /// CAs whose points are still to be validated, and how many workers
    /// are busy (so an empty queue with busy workers is not the end).
    queue: Mutex<(VecDeque<Arc<Ca>>, usize)>,
    more: Condvar,
    /// The previous run's point results.
    previous: &'a Points,
    /// When one is taken.
    reuse: Reuse<'a>,
    /// What the run gathers.
    collect: Collect,
    /// This run's point results, for the next (with [`Collect::Points`]).
    next: Mutex<Points>,
    /// The manifests a one-shot run validated before, updated as it goes.
    manifests: Option<&'a Mutex<Seen>>,
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
    if let Ok(aspa) = Aspa::decode(b(), true) {
        accepted += 1;
        let _ = aspa.content().provider_as_set().iter().count();
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
    // The profile rules read every fetched object before it is decoded.
    for kind in [
        CertKind::TrustAnchor,
        CertKind::Ca,
        CertKind::Ee,
        CertKind::Router,
    ] {
        let _ = profile::certificate(data, kind);
    }
    let _ = (profile::crl(data), profile::signed_object(data));
    let _ = (profile::roa(data), profile::manifest(data));
    let _ = (profile::ghostbusters(data), profile::vcard(data));
    let _ = profile::same_name(data, data);
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
    validate_at(tal_path, fetcher, strict, Time::now())
}

/// Validates the repository of the TAL at `tal_path` as of `at`: validity
/// periods, manifests' and CRLs' nextUpdate are compared with it instead
/// of the clock (what was fetched is what is there now).
pub fn validate_at(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    strict: bool,
    at: Time,
) -> Result<Validation, WalkError> {
    let none = Points::new();
    let (out, _, _) = walk(
        tal_path,
        fetcher,
        (strict, at),
        (&none, Reuse::Never, None),
        Collect::Vrps,
    )?;
    Ok(out)
}

/// [`validate_at`] for a run that keeps `seen`, the manifests validated
/// by runs before it (see [`crate::seen`]): a manifest that replaces one
/// of them without going forward is rejected with its point; `seen` is
/// updated with every manifest validated.
pub fn validate_once(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    (strict, at): (bool, Time),
    seen: Seen,
) -> Result<(Validation, Seen), WalkError> {
    let none = Points::new();
    let seen = Mutex::new(seen);
    let (out, _, _) = walk(
        tal_path,
        fetcher,
        (strict, at),
        (&none, Reuse::Never, Some(&seen)),
        Collect::Vrps,
    )?;
    Ok((out, seen.into_inner().expect("manifest record lock")))
}

/// The walk from the TAL at `tal_path`, taking the `previous` run's point
/// results where `reuse` allows; returns the run and, with
/// [`Collect::Points`], its point results.
fn walk(
    tal_path: &Path,
    fetcher: &mut Fetcher,
    (strict, now): (bool, Time),
    (previous, reuse, manifests): (&Points, Reuse<'_>, Option<&Mutex<Seen>>),
    collect: Collect,
) -> Result<(Validation, Points, Arc<str>), WalkError> {
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
        now,
        ta: Arc::from(tal.info().name()),
        seen: Mutex::new(HashSet::new()),
        queue: Mutex::new((VecDeque::new(), 0)),
        more: Condvar::new(),
        previous,
        reuse,
        collect,
        next: Mutex::new(Points::new()),
        manifests,
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
    let ta = ta_cert.ok_or_else(|| WalkError::NoTrustAnchor(tal_path.display().to_string()))?;
    out.cas += 1;
    w.queue.lock().expect("queue lock").0.push_back(ta);
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
    out.warnings
        .sort_by(|a, b| (&a.uri, &a.reason).cmp(&(&b.uri, &b.reason)));
    out.gbrs.sort_by(|a, b| a.uri.cmp(&b.uri));
    out.aspas = merge_aspas(std::mem::take(&mut out.aspas));
    out.router_keys.sort();
    out.fetch = w.fetcher.lock().expect("fetcher lock").stats();
    Ok((out, w.next.into_inner().expect("cache lock"), w.ta))
}

impl Walker<'_> {
    /// One worker: takes CAs from the queue until it is empty and no
    /// other worker can add to it.
    fn work(&self) -> Validation {
        let mut out = Validation::default();
        loop {
            let ca = {
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
            let children = self.ca(&ca, &mut out);
            let mut q = self.queue.lock().expect("queue lock");
            let more = !children.is_empty();
            q.0.extend(children);
            q.1 -= 1;
            // Waiting workers wait for work or for the end; most points
            // (members' CAs) have no child CAs and bring neither.
            if more || (q.1 == 0 && q.0.is_empty()) {
                self.more.notify_all();
            }
        }
    }

    fn trust_anchor(&self, uri: &TalUri, tal: &Tal) -> Result<Arc<Ca>, String> {
        let bytes = self
            .fetcher
            .lock()
            .expect("fetcher lock")
            .trust_anchor(uri)
            .map_err(|e| e.to_string())?;
        let root = format!("{}\n{}\n", self.ta, self.strict);
        let ta_chain = chain(root.as_bytes(), &bytes);
        profile::certificate(&bytes, CertKind::TrustAnchor)?;
        let cert = Cert::decode(bytes).map_err(|e| format!("bad DER: {e}"))?;
        // RFC 8630 §2.3: the certificate's key must be the TAL's.
        if cert.subject_public_key_info() != tal.key_info() {
            return Err("certificate key differs from the TAL's key (RFC 8630 §2.3)".into());
        }
        let cert = cert
            .validate_ta_at(tal.info().clone(), self.strict, self.now)
            .map_err(|e| format!("invalid trust anchor certificate: {e}"))?;
        let child = Child::of(&cert, ta_chain, "")?;
        Ok(Ca::found(child, 0, cert))
    }

    /// Validates the publication point of `node`, or takes the previous
    /// run's result for it; returns the valid CAs found in it, whose
    /// points are next.
    fn ca(&self, node: &Arc<Ca>, out: &mut Validation) -> Vec<Arc<Ca>> {
        let children = Vec::new();
        let c = &node.child;
        let ca_chain = c.chain;
        let repo = match c.repo() {
            Ok(repo) => repo,
            Err(reason) => {
                reject(out, c.repo_text(), reason);
                return children;
            }
        };
        let repo = &repo;
        if node.depth >= MAX_DEPTH || !self.seen.lock().expect("seen lock").insert(c.ski) {
            reject(out, repo.as_str(), "CA chain too deep or cyclic");
            return children;
        }
        let fetched = {
            let mut fetcher = self.fetcher.lock().expect("fetcher lock");
            match fetcher.follows_rrdp() {
                true => c.notify(),
                false => Ok(None),
            }
            .and_then(|notify| {
                fetcher
                    .point(notify.as_ref(), repo)
                    .map_err(|e| e.to_string())
            })
        };
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
            return self.reused(cached, node, &dir, out);
        }
        let mft_uri = match c.manifest() {
            Ok(uri) => uri,
            Err(reason) => {
                reject(out, repo.as_str(), reason);
                return children;
            }
        };
        let mft_uri = &mft_uri;
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
            && self.read_again(&dir, rel, &mft) == Some(cached.stamps)
        {
            return self.reused(cached, node, &dir, out);
        }
        let ca = match node.cert(self.strict, self.now) {
            Ok(ca) => ca,
            Err(reason) => {
                reject(out, repo.as_str(), reason);
                return children;
            }
        };
        let mut part = Validation::default();
        let point = match self.point(&ca, rel, mft, &dir) {
            Ok(point) => point,
            Err(reason) => {
                reject(out, mft_uri.as_str(), reason);
                return children;
            }
        };
        // RFC 9286 §4.2.1: a manifest that replaces one validated before
        // carries a higher manifestNumber and a thisUpdate that is not
        // earlier; if not, the objects validated before stand (§6.6).
        if let Some(cached) = cached
            && cached.manifest != manifest_hash
            && let Some(reason) = goes_back(&point, (cached.number, cached.this_update))
        {
            reject(
                out,
                mft_uri.as_str(),
                format!("{reason}; the previous result stands"),
            );
            return self.reused(cached, node, &dir, out);
        }
        // A one-shot run keeps no objects from the runs before it to use
        // instead (§6.6): it uses these, warns, and keeps the record of
        // the later manifest, so that the next run warns too.
        if let Some(seen) = self.manifests {
            let mut seen = seen.lock().expect("manifest record lock");
            let back = seen
                .get(mft_uri.as_str())
                .filter(|known| known.hash != manifest_hash)
                .and_then(|known| goes_back(&point, (known.number, known.this_update)));
            match back {
                Some(reason) => out.warnings.push(Rejection {
                    uri: mft_uri.to_string(),
                    reason: format!(
                        "{reason}; used all the same, as this run keeps no earlier objects (RFC 9286 §6.6): the repository may have been rolled back or replayed"
                    ),
                }),
                None => seen.insert(
                    mft_uri.as_str(),
                    SeenManifest {
                        number: point.number,
                        this_update: point.this_update,
                        next_update: point.next_update,
                        hash: manifest_hash,
                    },
                ),
            }
        }
        let (number, this_update) = (point.number, point.this_update);
        let stamps = point.read;
        let children: Vec<Arc<Ca>> = self
            .point_objects(&ca, node.depth, ca_chain, repo, point, &mut part)
            .into_iter()
            .map(|(child, cert)| Ca::found(child, node.depth + 1, cert))
            .collect();
        out.count(&part);
        match self.collect {
            // One point's few VRPs into the worker's many: `append` would
            // rebuild the whole set for each point (quadratic in points).
            Collect::Vrps => out.vrps.extend(std::mem::take(&mut part.vrps)),
            Collect::Points => {
                let vrps = PackedVrps::pack(&std::mem::take(&mut part.vrps));
                let cached = CachedPoint {
                    counts: PointCounts::of(part),
                    vrps,
                    children: children.iter().map(|c| c.child.clone()).collect(),
                    manifest: manifest_hash,
                    number,
                    this_update,
                    stamps,
                };
                self.next
                    .lock()
                    .expect("cache lock")
                    .insert(ca_chain, Arc::new(cached));
            }
        }
        children
    }

    /// Takes `cached` as the result of the point of `node`, at `dir` in
    /// the copy; returns its valid child CAs.
    fn reused(
        &self,
        cached: &Arc<CachedPoint>,
        node: &Arc<Ca>,
        dir: &Path,
        out: &mut Validation,
    ) -> Vec<Arc<Ca>> {
        let ca_chain = node.child.chain;
        cached.counts.add_to(out);
        out.points_reused += 1;
        match self.collect {
            Collect::Vrps => unreachable!("no previous results without Collect::Points"),
            Collect::Points => {
                self.next
                    .lock()
                    .expect("cache lock")
                    .insert(ca_chain, cached.clone());
            }
        }
        let dir: Arc<Path> = Arc::from(dir);
        cached
            .children
            .iter()
            .map(|child| {
                Arc::new(Ca {
                    child: child.clone(),
                    depth: node.depth + 1,
                    cert: OnceLock::new(),
                    issuer: Some((node.clone(), dir.clone())),
                })
            })
            .collect()
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
    ) -> Vec<(Child, ResourceCert)> {
        let mut children = Vec::new();
        out.manifests += 1;
        for (name, bytes) in point.files {
            let uri = format!("{repo}{name}");
            match name.rsplit_once('.').map(|(_, e)| e) {
                Some("cer") if is_router_certificate(&bytes) => {
                    match check_router_certificate(bytes, (ca, &point.crl), self.strict, self.now) {
                        Ok(keys) => out.router_keys.extend(keys),
                        Err(reason) => reject(out, &uri, reason),
                    }
                }
                Some("cer") => {
                    let child_chain = chain(&ca_chain, &bytes);
                    let cert = check_ca_certificate(bytes, (ca, &point.crl), self.strict, self.now)
                        .and_then(|cert| Ok((Child::of(&cert, child_chain, &name)?, cert)));
                    match cert {
                        Ok(found) => {
                            out.cas += 1;
                            children.push(found);
                        }
                        Err(reason) => reject(out, &uri, reason),
                    }
                }
                Some("roa") => match check_roa(bytes, (ca, &point.crl), self.strict, self.now) {
                    Ok((ee, roa)) => {
                        let content = roa.content();
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
                },
                Some("tak") => match self.tak(ca, depth, bytes, &point.crl) {
                    Ok(()) => out.taks += 1,
                    Err(reason) => reject(out, &uri, reason),
                },
                Some("gbr") => match self.ghostbusters(ca, bytes, &point.crl) {
                    Ok(vcard) => out.gbrs.push(Contact { uri, vcard }),
                    Err(reason) => reject(out, &uri, reason),
                },
                Some("asa") => match check_aspa(bytes, (ca, &point.crl), self.strict, self.now) {
                    Ok(aspa) => out.aspas.push(aspa),
                    Err(reason) => reject(out, &uri, reason),
                },
                // The CRL is checked with the manifest.
                _ => {}
            }
        }
        children
    }

    /// Validates a Ghostbusters record (RFC 6493 §7) of the CA `ca`
    /// whose point has the CRL `crl`; returns its vCard's properties.
    fn ghostbusters(
        &self,
        ca: &ResourceCert,
        bytes: Bytes,
        crl: &Crl,
    ) -> Result<Vec<(String, String)>, String> {
        let vcard = profile::ghostbusters(&bytes)?;
        let ee = SignedObject::decode(bytes, self.strict)
            .map_err(|e| format!("bad DER: {e}"))?
            .validate_at(ca, self.strict, self.now)
            .map_err(|e| e.to_string())?;
        not_revoked(crl, &ee)?;
        Ok(vcard)
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
        profile::signed_object(&bytes)?;
        let obj = SignedObject::decode(bytes, self.strict).map_err(|e| format!("bad DER: {e}"))?;
        if obj.content_type().0.as_ref() != CT_SIGNED_TAL {
            return Err("not a TAK object: its content type is not id-ct-signedTAL".into());
        }
        let current = obj
            .decode_content(take_tak)
            .map_err(|e| format!("bad TAK content (RFC 9691 §3.1): {e}"))?;
        let ee = obj
            .validate_at(ca, self.strict, self.now)
            .map_err(|e| e.to_string())?;
        not_revoked(crl, &ee)?;
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
        let mut read = Stamps::new();
        read.add(dir, rel);
        profile::manifest(&bytes)?;
        let mft = Manifest::decode(Bytes::from(bytes), self.strict)
            .map_err(|e| format!("bad DER: {e}"))?;
        let (mft_ee, content) = mft
            .validate_at(ca, self.strict, self.now)
            .map_err(|e| format!("invalid manifest: {e}"))?;
        if content.next_update() < self.now {
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
            // Stamped as soon as read: the stamp is the bytes checked.
            read.add_stamp(&name, stamp(&path));
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
        let crl = check_crl(crl_bytes, ca, self.now)?;
        if crl.contains(mft_ee.as_cert().serial_number()) {
            return Err("manifest EE certificate is revoked".into());
        }
        files.sort();
        Ok(Point {
            files,
            crl,
            number: content.manifest_number(),
            this_update: content.this_update(),
            next_update: content.next_update(),
            read: read.finish(),
        })
    }

    /// The [`Stamps`] of the files of a point whose manifest is `mft`
    /// (read from `rel` in `dir`, the same bytes as a previous run
    /// validated), as they are now: the manifest's names, stamped again.
    /// `None` where the manifest does not decode, which a validated one
    /// did.
    fn read_again(&self, dir: &Path, rel: &str, mft: &[u8]) -> Option<[u8; 32]> {
        let mft = Manifest::decode(mft, self.strict).ok()?;
        let mut read = Stamps::new();
        read.add(dir, rel);
        for item in mft.content().iter() {
            let name = std::str::from_utf8(item.file()).ok()?;
            if !valid_file_name(name) {
                return None;
            }
            read.add(dir, name);
        }
        Some(read.finish())
    }
}

/// Checks a CA certificate found in the point of `issuer` whose CRL is
/// `crl`, as the walk does: the profile rules, then the `rpki` crate's
/// decoding and validation (signature, validity at `now`, RFC 3779
/// containment in the issuer's resources, RFC 6487 §7.2), and revocation.
pub fn check_ca_certificate(
    bytes: Bytes,
    (issuer, crl): (&ResourceCert, &Crl),
    strict: bool,
    now: Time,
) -> Result<ResourceCert, String> {
    profile::certificate(&bytes, CertKind::Ca)?;
    let cert = Cert::decode(bytes).map_err(|e| format!("bad DER: {e}"))?;
    if crl.contains(cert.serial_number()) {
        return Err("revoked by the CRL".to_string());
    }
    cert.validate_ca_at(issuer, strict, now)
        .map_err(|e| e.to_string())
}

/// Whether a `.cer` file in a point is an end-entity certificate, which
/// is a BGPsec router certificate or nothing valid (RFC 8209 §3.1.3.1:
/// no basicConstraints), rather than a CA certificate, which always has
/// one (RFC 6487 §4.8.1): told from its extension list, as rpki-client
/// does, without decoding it twice. A file that does not parse that far
/// goes to the CA check, which rejects it.
fn is_router_certificate(bytes: &Bytes) -> bool {
    profile::has_basic_constraints(bytes) == Some(false)
}

/// Checks a BGPsec router certificate of the CA `issuer` whose point has
/// the CRL `crl` (RFC 8209 §3.1, RFC 8608 §3.1): the profile rules, the
/// `rpki` crate's router validation at `now` (its resources within the
/// issuer's), and revocation. Returns one key per AS it holds.
pub fn check_router_certificate(
    bytes: Bytes,
    (issuer, crl): (&ResourceCert, &Crl),
    strict: bool,
    now: Time,
) -> Result<Vec<ValidatedRouterKey>, String> {
    use base64::Engine as _;
    profile::certificate(&bytes, CertKind::Router)?;
    let cert = Cert::decode(bytes).map_err(|e| format!("bad DER: {e}"))?;
    if crl.contains(cert.serial_number()) {
        return Err("revoked by the CRL".to_string());
    }
    cert.validate_router_at(issuer, strict, now)
        .map_err(|e| e.to_string())?;
    let ski = cert
        .subject_key_identifier()
        .to_string()
        .to_ascii_uppercase();
    let pubkey = base64::engine::general_purpose::STANDARD
        .encode(cert.subject_public_key_info().to_info_bytes());
    let expires = cert.validity().not_after().timestamp();
    let blocks = cert
        .as_resources()
        .to_blocks()
        .map_err(|_| "router certificate inherits its AS resources (RFC 8209 §3.1.3.5)")?;
    Ok(blocks
        .iter_asns()
        .map(|asn| ValidatedRouterKey {
            asn: asn.into_u32(),
            ski: ski.clone(),
            pubkey: pubkey.clone(),
            expires,
        })
        .collect())
}

/// Checks a ROA of the CA `issuer` whose point has the CRL `crl`, as the
/// walk does (RFC 6488 §3, RFC 9582 §5): the profile rules, the `rpki`
/// crate's decoding and validation at `now`, revocation, and every
/// prefix within the EE certificate's resources. Returns the EE
/// certificate and the ROA.
pub fn check_roa(
    bytes: Bytes,
    (issuer, crl): (&ResourceCert, &Crl),
    strict: bool,
    now: Time,
) -> Result<(ResourceCert, Roa), String> {
    profile::roa(&bytes)?;
    let roa = Roa::decode(bytes.clone(), strict).map_err(|e| format!("bad DER: {e}"))?;
    let ee = SignedObject::decode(bytes, strict)
        .map_err(|e| format!("bad DER: {e}"))?
        .validate_at(issuer, strict, now)
        .map_err(|e| e.to_string())?;
    not_revoked(crl, &ee)?;
    // RFC 9582 §5: every prefix within the EE certificate's resources.
    let content = roa.content();
    let covered = content
        .v4_addrs()
        .iter()
        .all(|a| ee.v4_resources().contains_roa(&a))
        && content
            .v6_addrs()
            .iter()
            .all(|a| ee.v6_resources().contains_roa(&a));
    if !covered {
        return Err(
            "a ROA prefix is not covered by its EE certificate's resources (RFC 9582 §5)".into(),
        );
    }
    Ok((ee, roa))
}

/// Checks an ASPA of the CA `issuer` whose point has the CRL `crl`, as
/// the walk does (RFC 6488 §3, draft-ietf-sidrops-aspa-profile §4): the
/// profile rules (which also check that the EE certificate's AS
/// resources are exactly the customer AS and that it has no IP
/// resources), the `rpki` crate's decoding and validation at `now`
/// (the EE certificate's resources within its issuer's), and revocation.
pub fn check_aspa(
    bytes: Bytes,
    (issuer, crl): (&ResourceCert, &Crl),
    strict: bool,
    now: Time,
) -> Result<ValidatedAspa, String> {
    let (customer, providers) = profile::aspa(&bytes)?;
    let aspa = Aspa::decode(bytes.clone(), strict).map_err(|e| format!("bad DER: {e}"))?;
    let decoded: Vec<u32> = aspa
        .content()
        .provider_as_set()
        .iter()
        .map(|p| p.into_u32())
        .collect();
    if aspa.content().customer_as().into_u32() != customer || decoded != providers {
        return Err("ASPA content reads differently twice".into());
    }
    let ee = SignedObject::decode(bytes, strict)
        .map_err(|e| format!("bad DER: {e}"))?
        .validate_at(issuer, strict, now)
        .map_err(|e| e.to_string())?;
    not_revoked(crl, &ee)?;
    Ok(ValidatedAspa {
        customer,
        expires: ee.validity().not_after().timestamp(),
        providers,
    })
}

/// The validated ASPAs one per customer AS, as rpki-client reports them
/// and routers get them (draft-ietf-sidrops-8210bis §5.12): the union of
/// the providers of every ASPA of a customer (AS0 dropped next to real
/// providers), expiring with the first of them.
fn merge_aspas(mut aspas: Vec<ValidatedAspa>) -> Vec<ValidatedAspa> {
    aspas.sort();
    let mut merged: Vec<ValidatedAspa> = Vec::with_capacity(aspas.len());
    for a in aspas {
        match merged.last_mut() {
            Some(m) if m.customer == a.customer => {
                m.expires = m.expires.min(a.expires);
                m.providers.extend(a.providers);
                m.providers.sort_unstable();
                m.providers.dedup();
                if m.providers.len() > 1 && m.providers[0] == 0 {
                    m.providers.remove(0);
                }
            }
            _ => merged.push(a),
        }
    }
    merged
}

/// Checks the CRL of the point of `ca` as the walk does: the profile
/// rules, the `rpki` crate's decoding, the issuer (RFC 6487 §5, names
/// compared as RFC 5280 §7.1 compares them), the signature, and a
/// nextUpdate not passed at `now`.
pub fn check_crl(bytes: Bytes, ca: &ResourceCert, now: Time) -> Result<Crl, String> {
    profile::crl(&bytes)?;
    let crl = Crl::decode(bytes).map_err(|e| format!("bad CRL: {e}"))?;
    let issuer = crl.issuer().encode_ref().to_captured(bcder::Mode::Der);
    let subject = ca.subject().encode_ref().to_captured(bcder::Mode::Der);
    if !profile::same_name(issuer.as_slice(), subject.as_slice()) {
        return Err(
            "CRL issuer differs from the CA's subject (RFC 6487 §5, RFC 5280 §5.1.2.3)".into(),
        );
    }
    crl.verify_signature(ca.subject_public_key_info())
        .map_err(|_| "CRL signature does not verify with the CA's key")?;
    if crl.next_update() < now {
        return Err("CRL nextUpdate has passed (RFC 6487 §5)".into());
    }
    Ok(crl)
}

/// Why the manifest of `point` cannot replace the one validated before,
/// with its number and thisUpdate (RFC 9286 §4.2.1), if it cannot.
///
/// The number must go up. The thisUpdate must not go back: "If this
/// field in a purported "new" manifest is smaller (less recent) than
/// previously validated manifests, the RP SHOULD use locally cached
/// versions". An equal one is accepted, as rpki-client does and erratum
/// 7243 proposes: CAs sign thisUpdate in whole seconds, and two
/// manifests of one point within a second share it.
fn goes_back(point: &Point, (number, this_update): (Serial, Time)) -> Option<&'static str> {
    if point.number <= number {
        Some(
            "manifest does not go forward: its manifestNumber is not above the one validated before (RFC 9286 §4.2.1)",
        )
    } else if point.this_update < this_update {
        Some(
            "manifest goes back: its thisUpdate is earlier than the one validated before (RFC 9286 §4.2.1)",
        )
    } else {
        None
    }
}

/// Fails if `crl` revokes the EE certificate `ee` (RFC 6488 §3).
fn not_revoked(crl: &Crl, ee: &ResourceCert) -> Result<(), String> {
    if crl.contains(ee.as_cert().serial_number()) {
        Err("EE certificate revoked by the CRL".into())
    } else {
        Ok(())
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
    /// The manifest's number.
    number: Serial,
    /// The manifest's thisUpdate.
    this_update: Time,
    /// The manifest's nextUpdate.
    next_update: Time,
    /// Every file read (the manifest included), as it was when read.
    read: [u8; 32],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspas_of_one_customer_are_reported_as_one() {
        let a = |customer, expires, providers: &[u32]| ValidatedAspa {
            customer,
            expires,
            providers: providers.to_vec(),
        };
        assert_eq!(
            merge_aspas(vec![
                a(64497, 9, &[64500]),
                a(64496, 7, &[0]),
                a(64496, 5, &[64502, 64501]),
                a(64496, 6, &[64501]),
            ]),
            [a(64496, 5, &[64501, 64502]), a(64497, 9, &[64500])]
        );
    }

    #[test]
    fn origin_counts_announce_and_withdraw_at_zero() {
        // Counts kept by merge against a map, over random changes in
        // which an origin is often given by more than one VRP.
        let mut live = Live::default();
        let mut model: HashMap<Origin, i64> = HashMap::new();
        let mut seed = 5u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let origin = |i: u64| {
            let addr = IpAddr::from([10, i as u8, 0, 0]);
            (64496, Prefix { addr, len: 16 }, 16)
        };
        for step in 0..300 {
            let mut delta = Vec::new();
            for _ in 0..next(8) {
                let o = origin(next(12));
                let held = model.get(&o).copied().unwrap_or(0)
                    + delta
                        .iter()
                        .filter(|d: &&(Origin, i64)| d.0 == o)
                        .map(|d| d.1)
                        .sum::<i64>();
                let d = if held > 0 && next(2) == 0 { -1 } else { 1 };
                delta.push((o, d));
            }
            let before = model.clone();
            for (o, d) in &delta {
                *model.entry(*o).or_insert(0) += d;
            }
            let (announced, withdrawn) = live.count(delta);
            let held = |m: &HashMap<Origin, i64>, o: &Origin| m.get(o).is_some_and(|n| *n > 0);
            let mut want_a: Vec<Origin> = model
                .keys()
                .filter(|o| held(&model, o) && !held(&before, o))
                .copied()
                .collect();
            let mut want_w: Vec<Origin> = before
                .keys()
                .filter(|o| held(&before, o) && !held(&model, o))
                .copied()
                .collect();
            want_a.sort();
            want_w.sort();
            assert_eq!((announced, withdrawn), (want_a, want_w), "step {step}");
            let mut counts: Vec<(Origin, u32)> = model
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(o, n)| (*o, *n as u32))
                .collect();
            counts.sort();
            assert_eq!(live.origins, counts, "step {step}");
        }
    }

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
