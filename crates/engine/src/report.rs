//! What operations report, for humans and for `--format json`.

use serde::{Deserialize, Serialize};

/// A CA as listed by `ca list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaSummary {
    /// The handle.
    pub handle: String,
    /// The parent's handle; none for the trust anchor.
    pub parent: Option<String>,
    /// The certified resources, canonical.
    pub resources: String,
    /// Number of configured ROA payloads.
    pub roa_payloads: usize,
}

/// One published file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// The rsync URI.
    pub uri: String,
    /// The size in bytes.
    pub size: usize,
    /// When the object's certificate expires (or the CRL's nextUpdate), RFC 3339.
    pub not_after: String,
}

/// A CA in detail, as shown by `ca show`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaDetails {
    /// The handle.
    pub handle: String,
    /// The parent's handle; none for the trust anchor.
    pub parent: Option<String>,
    /// Child CAs.
    pub children: Vec<String>,
    /// The certified resources.
    pub resources: String,
    /// The key's subject key identifier (hex).
    pub key_id: String,
    /// Where the CA's certificate is published.
    pub cert_uri: String,
    /// The certificate's serial number.
    pub cert_serial: String,
    /// The certificate's notAfter, RFC 3339.
    pub cert_not_after: String,
    /// The publication point.
    pub repository: String,
    /// The manifest's nextUpdate, RFC 3339: the CRL and manifest are reissued before it.
    pub manifest_next_update: Option<String>,
    /// The number the next manifest will get.
    pub next_manifest_number: u64,
    /// Certificates on the CRL.
    pub revoked: usize,
    /// The files of the publication point.
    pub objects: Vec<ObjectInfo>,
    /// The configured ROA payloads.
    pub roas: Vec<RoaInfo>,
}

/// A ROA payload.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoaInfo {
    /// Origin AS.
    pub asn: u32,
    /// Prefix.
    pub prefix: String,
    /// maxLength (the prefix length when none was given).
    pub max_length: u8,
}

/// What `publish` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PublishReport {
    /// Publication points whose manifest and CRL were reissued.
    pub refreshed_points: usize,
    /// Certificates and ROAs reissued because they were close to expiry.
    pub reissued_objects: usize,
    /// Files in the rsync tree.
    pub files: usize,
    /// Files written (new or changed) in the tree.
    pub written: usize,
    /// What the audit log recorded.
    #[serde(skip)]
    pub events: Vec<crate::audit::Event>,
}

/// One key of a CA in a key rollover's terms (RFC 6489).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The key's subject key identifier (hex).
    pub key_id: String,
    /// `active` (signs the CA's products), or `new` (certified and
    /// publishing an empty manifest and CRL during its staging period).
    pub state: String,
    /// Its certificate's serial.
    pub cert_serial: String,
    /// Its certificate's notAfter, RFC 3339.
    pub cert_not_after: String,
    /// Since when it is in this state, RFC 3339.
    pub since: String,
    /// Its manifest's rsync URI.
    pub manifest: String,
}

/// One key of the data directory, as `keys list` and `GET /api/v1/keys`
/// show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The key's subject key identifier (hex).
    pub key_id: String,
    /// Where it is kept: `software` (a PKCS#8 file), `software-encrypted`
    /// (sealed at rest), `pkcs11` (in the token), or `missing` (the store
    /// names it, nothing holds it).
    pub backend: String,
    /// `active`, `new` or `old` for a CA key (rollover terms), `in use`
    /// for the BPKI identity, `unused` for a file nothing names (left by
    /// an interrupted command).
    pub state: String,
    /// The CA that signs with it, if any.
    pub ca: Option<String>,
    /// What it is for: `trust anchor`, `online CA`, `CA`, `CA under a
    /// remote parent`, `BPKI identity`, or `none`.
    pub role: String,
    /// Whether the private key can be copied out of where it is kept
    /// (a file always; a token's key only if extractable or not sensitive).
    pub exportable: bool,
    /// When its file was written, RFC 3339 (absent for a token's key or
    /// a missing one).
    pub created: Option<String>,
}

/// A CA's keys and the next step of its rollover, as `ca keyroll --status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyrollStatus {
    /// The CA.
    pub ca: String,
    /// Its keys, the active one first.
    pub keys: Vec<KeyInfo>,
    /// The next step (`activate`), if a rollover is in progress.
    pub next_step: Option<String>,
    /// When the next step is due, RFC 3339 (`serve` takes it then by itself).
    pub next_due: Option<String>,
}

/// An object the validator rejected, with the rule it broke.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectedObject {
    /// Its URI.
    pub uri: String,
    /// The reason, naming the rule.
    pub reason: String,
}

/// `serve`'s last validation of its own repository, compared with the
/// configuration (ROAs, ASPAs, router keys): what `anchorage status` and `/metrics` report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SelfValidation {
    /// When it finished (RFC 3339).
    pub finished: String,
    /// The `serve` instance that ran it.
    pub instance: String,
    /// Publication points validated.
    pub points: u64,
    /// VRPs validated: what routers get.
    pub vrps_validated: u64,
    /// When the configuration was last compared with what validated (RFC
    /// 3339); none before the first comparison. A comparison is made only
    /// when the repository served showed every committed change as the
    /// validation started.
    pub compared: Option<String>,
    /// VRPs the CAs' ROA configuration asks for, at that comparison.
    pub vrps_configured: u64,
    /// How many configured VRPs validation did not give, at that comparison.
    pub missing_count: u64,
    /// The first of them, as `AS64496 192.0.2.0/24-24`.
    pub missing: Vec<String>,
    /// How many validated VRPs no CA of this instance configures: those of
    /// delegated CAs and publishers, at that comparison.
    pub not_configured: u64,
    /// ASPAs (one per customer AS, providers merged) the configuration
    /// asks for, at that comparison.
    #[serde(default)]
    pub aspas_configured: u64,
    /// How many of them validation did not give with exactly their
    /// providers.
    #[serde(default)]
    pub aspas_missing_count: u64,
    /// The first of them, as `AS64496 -> AS64500, AS64501`.
    #[serde(default)]
    pub aspas_missing: Vec<String>,
    /// Router keys the configuration certifies, at that comparison.
    #[serde(default)]
    pub router_keys_configured: u64,
    /// How many of them validation did not give.
    #[serde(default)]
    pub router_keys_missing_count: u64,
    /// The first of them, as `AS64496 <SKI>`.
    #[serde(default)]
    pub router_keys_missing: Vec<String>,
    /// How many objects the validator rejected.
    pub rejected_count: u64,
    /// The first of them.
    pub rejected: Vec<RejectedObject>,
}

impl SelfValidation {
    /// Whether everything configured validated and nothing was rejected.
    pub fn healthy(&self) -> bool {
        self.missing_count == 0
            && self.aspas_missing_count == 0
            && self.router_keys_missing_count == 0
            && self.rejected_count == 0
    }
}

/// A published object whose planned reissue time has passed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OverdueObject {
    /// Its rsync URI.
    pub uri: String,
    /// When it expires (a manifest's nextUpdate), RFC 3339.
    pub not_after: String,
}

/// What `anchorage status` reports: the data directory's health.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    /// The data directory.
    pub data_dir: String,
    /// Where the store is (a PostgreSQL URL without its password).
    pub store: String,
    /// The store's schema version.
    pub schema_version: Option<String>,
    /// Whether a `serve` runs on this data directory on this machine.
    pub serve_running: bool,
    /// CAs in the store, the trust anchor and online CA included.
    pub cas: u64,
    /// Configured ROA payloads, over every CA.
    pub roa_payloads: u64,
    /// Published objects by file type (`cer`, `crl`, `mft`, `roa`, ...).
    pub objects: std::collections::BTreeMap<String, u64>,
    /// When the rsync tree was last written (RFC 3339).
    pub last_publication: Option<String>,
    /// The RRDP session and serial.
    pub rrdp_serial: Option<(String, u64)>,
    /// Whether committed changes are not in the rsync tree yet (for a
    /// moment during any publication; for longer, a failed one).
    pub tree_behind: bool,
    /// rsync trees on this machine's disk (`DIR/rsync/trees`).
    pub rsync_trees: u64,
    /// Superseded trees waiting in `DIR/rsync/trash` for their removal.
    pub rsync_trash: u64,
    /// Whether this process sees which trees rsync clients read (see
    /// operations.md); if not, superseded trees stay 5 minutes and every
    /// tree write is a full one.
    pub rsync_readers_seen: bool,
    /// When the next reissue is due (RFC 3339).
    pub next_due: Option<String>,
    /// How many objects are past their planned reissue by more than
    /// [`Status::OVERDUE_AFTER_SECS`].
    pub overdue_count: u64,
    /// The first of them, earliest expiry first.
    pub overdue: Vec<OverdueObject>,
    /// How many published objects have expired.
    pub expired_count: u64,
    /// The remote repository's last push error, if one is configured and
    /// its last push failed.
    pub push_error: Option<String>,
    /// `serve`'s last self-validation; none if none was recorded.
    pub self_validation: Option<SelfValidation>,
    /// What needs an operator, one line each; empty when healthy.
    pub problems: Vec<String>,
}

impl Status {
    /// How long past its planned reissue an object counts as overdue:
    /// longer than `serve`'s scheduler ever sleeps.
    pub const OVERDUE_AFTER_SECS: i64 = 600;
}
