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
