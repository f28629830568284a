//! The Anchorage CA engine, free of I/O.
//!
//! How the modules fit together:
//!
//! * [`resources`] — RFC 3779 resource sets in canonical form, parsing of
//!   the operator's `RESOURCES` syntax, containment checks.
//! * [`aspa`] — ASPA definitions (customer AS, provider ASes) in the
//!   canonical form of the ASPA profile, and their warnings.
//! * [`roa`] — ROA payloads (ASN, prefix, maxLength), their validation and
//!   canonical order (RFC 9582).
//! * [`router`] — BGPsec router keys from their PKCS#10 requests
//!   (RFC 8209, RFC 8608) and their certificates' file names.
//! * [`objects`] — builds the signed objects (TA and CA certificates, ROAs,
//!   CRLs, manifests) through the `rpki` crate under the RFC 6487 profile.
//! * [`point`] — a CA's publication point: replacing or withdrawing objects
//!   revokes their certificates; `refresh` issues the CRL and manifest.
//! * [`ca`] — a CA record, the repository layout (which URI each object
//!   gets), and the issuance steps the application combines into commands.
//!
//! Time and keys are passed in (a `Time` and an `rpki` `Signer`), so tests
//! fix the clock; persistence is the `anchorage-store` crate's job.
#![forbid(unsafe_code)]

pub mod aspa;
pub mod ca;
pub mod error;
pub mod objects;
pub mod point;
pub mod resources;
pub mod roa;
pub mod router;

use chrono::TimeDelta;

pub use aspa::AspaDefinition;
pub use ca::{CaRecord, RepositoryLayout, validate_handle};
pub use error::{CaError, ResourceError};
pub use objects::{CaSigner, Issuer, Revocation};
pub use point::{PublicationPoint, PublishedObject};
pub use resources::{IpPrefix, ResourceSet};
pub use roa::RoaPayload;
pub use rpki::repository::x509::{Serial, Time};

/// Validity periods and reissue thresholds of the objects a CA issues.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Manifest and CRL nextUpdate, from now (default 24 h).
    pub mft_crl_next_update: TimeDelta,
    /// Reissue the manifest and CRL when less than this remains (default 16 h).
    pub mft_crl_reissue_before: TimeDelta,
    /// Validity of ROAs and CA certificates (default 1 year).
    pub object_validity: TimeDelta,
    /// Reissue ROAs and CA certificates this long before expiry (default 4 weeks).
    pub object_reissue_before: TimeDelta,
    /// Validity of the self-signed TA certificate (default 10 years).
    pub ta_validity: TimeDelta,
    /// How far notBefore and thisUpdate are set in the past, so a relying
    /// party whose clock is a little behind does not see "not yet valid".
    pub backdate: TimeDelta,
    /// Manifest/CRL nextUpdate is shortened by a random amount below this,
    /// so CAs created together do not all fall due at the same moment.
    pub jitter: TimeDelta,
    /// When something is due, everything else due within this window is
    /// reissued in the same run.
    pub batch_window: TimeDelta,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            mft_crl_next_update: TimeDelta::hours(24),
            mft_crl_reissue_before: TimeDelta::hours(16),
            object_validity: TimeDelta::days(365),
            object_reissue_before: TimeDelta::weeks(4),
            ta_validity: TimeDelta::days(3650),
            backdate: TimeDelta::minutes(5),
            jitter: TimeDelta::hours(1),
            batch_window: TimeDelta::minutes(10),
        }
    }
}

/// Returns `a - b` as a duration.
pub fn time_diff(a: Time, b: Time) -> TimeDelta {
    *a - *b
}
