//! Errors of the CA engine: each names the offending value and the rule.

/// A malformed or unacceptable resource expression.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource '{value}': {rule}")]
pub struct ResourceError {
    /// The text that was rejected.
    pub value: String,
    /// The rule it breaks.
    pub rule: &'static str,
}

impl ResourceError {
    /// Creates an error for `value` breaking `rule`.
    pub fn new(value: &str, rule: &'static str) -> Self {
        ResourceError {
            value: value.to_string(),
            rule,
        }
    }
}

/// Everything the CA engine refuses or fails at.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// A resource, prefix or ASN could not be parsed.
    #[error(transparent)]
    Resource(#[from] ResourceError),
    /// A handle has characters that cannot appear in a URI or file name.
    #[error(
        "invalid CA handle '{0}': use 1-64 characters of A-Z a-z 0-9 - _, starting with a letter or digit (it names the publication point)"
    )]
    BadHandle(String),
    /// maxLength outside prefix length ..= family size.
    #[error(
        "maxLength {max_length} for {prefix} must be between the prefix length {len} and {bits} (RFC 9582 §4.3.3)"
    )]
    BadMaxLength {
        /// The prefix.
        prefix: String,
        /// Its length.
        len: u8,
        /// The requested maxLength.
        max_length: u8,
        /// 32 or 128.
        bits: u8,
    },
    /// A ROA prefix that the CA does not hold.
    #[error(
        "prefix {prefix} is not within the resources of CA '{ca}' ({resources}); a ROA may only authorise held address space (RFC 6482 §4, RFC 6487 §7.2)"
    )]
    PrefixNotHeld {
        /// The CA.
        ca: String,
        /// The prefix.
        prefix: String,
        /// The CA's resources.
        resources: String,
    },
    /// An ASPA customer AS that the CA does not hold.
    #[error(
        "AS{asn} is not within the resources of CA '{ca}' ({resources}); an ASPA may only be issued for a held customer AS (draft-ietf-sidrops-aspa-profile §4)"
    )]
    AsnNotHeld {
        /// The CA.
        ca: String,
        /// The customer AS.
        asn: u32,
        /// The CA's resources.
        resources: String,
    },
    /// A router's certificate request that cannot be certified.
    #[error("router certificate request refused: {0}")]
    BadCsr(String),
    /// An ASPA definition that the profile does not allow.
    #[error("ASPA of AS{customer}: {reason}")]
    BadAspa {
        /// The customer AS.
        customer: u32,
        /// What is wrong.
        reason: String,
    },
    /// A child CA would hold resources its parent does not.
    #[error(
        "resources {excess} requested for CA '{child}' are not held by its parent '{parent}' (RFC 6487 §7.1: a certificate's resources must be contained in its issuer's)"
    )]
    Overclaim {
        /// The child.
        child: String,
        /// The parent.
        parent: String,
        /// What the parent lacks.
        excess: String,
    },
    /// A URI could not be formed.
    #[error("invalid URI '{0}'")]
    BadUri(String),
    /// The signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// An object just signed breaks the RPKI profile, so it is neither
    /// stored nor published.
    #[error("refusing to publish an object that breaks the RPKI profile: {0}")]
    Profile(String),
}
