//! Errors of Anchorage operations, each one line naming the value and rule.

use anchorage_ca_core::CaError;

/// Why an operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The CA engine refused the input.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// No CA has this handle.
    #[error("unknown CA '{0}'")]
    UnknownCa(String),
    /// A CA with this handle exists.
    #[error("a CA with handle '{0}' already exists")]
    DuplicateHandle(String),
    /// The handle is reserved for the trust anchor.
    #[error("handle '{0}' is reserved for the trust anchor")]
    ReservedHandle(String),
    /// The trust anchor only certifies the online CA.
    #[error(
        "the trust anchor only certifies the online CA '{online}'; {what} belongs under '{online}' or below it"
    )]
    TaOffLimits {
        /// The online CA's handle.
        online: String,
        /// What was attempted.
        what: String,
    },
    /// A CA that cannot be deleted.
    #[error("CA '{handle}' cannot be deleted: {why}")]
    Undeletable {
        /// The CA.
        handle: String,
        /// Why not.
        why: String,
    },
    /// Removing a ROA that is not configured.
    #[error("CA '{ca}' has no ROA for {payload}; nothing removed (see `anchorage roa list {ca}`)")]
    NoSuchRoa {
        /// The CA.
        ca: String,
        /// The payload.
        payload: String,
    },
    /// Removing an ASPA that is not configured.
    #[error(
        "CA '{ca}' has no ASPA for customer AS{customer}; nothing removed (see `anchorage aspa list {ca}`)"
    )]
    NoSuchAspa {
        /// The CA.
        ca: String,
        /// The customer AS.
        customer: u32,
    },
    /// Revoking a router certificate that does not exist.
    #[error(
        "CA '{ca}' has no router certificate for AS{asn} and key {ski}; nothing revoked (see `anchorage router-cert list {ca}`)"
    )]
    NoSuchRouterCert {
        /// The CA.
        ca: String,
        /// The AS.
        asn: u32,
        /// The key's SKI.
        ski: String,
    },
    /// Publication went on, but some points' objects could not be renewed.
    #[error(
        "renewing the objects of {failed} publication point(s) failed, first of CA '{first}': {error}; every other point was published"
    )]
    RenewalFailed {
        /// How many points failed.
        failed: usize,
        /// The first of them.
        first: String,
        /// Why it failed.
        error: String,
    },
    /// A contact vCard that the Ghostbusters profile refuses.
    #[error("invalid contact vCard: {0}")]
    BadContact(String),
    /// An init argument is unusable.
    #[error("invalid {what} '{value}': {rule}")]
    BadArgument {
        /// Which argument.
        what: &'static str,
        /// Its value.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// The ROA list changed since the client read it.
    #[error("the CA's ROAs changed since they were read; their ETag is now {current}")]
    PreconditionFailed {
        /// The current ETag.
        current: String,
    },
    /// Shrinking resources that are still in use.
    #[error("CA '{handle}' still needs the resources it would lose: {user}; remove that first")]
    ResourcesInUse {
        /// The CA.
        handle: String,
        /// What uses them.
        user: String,
    },
    /// The API token's role or scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// No such API token (or it is revoked).
    #[error("unknown or revoked token '{0}'")]
    UnknownToken(String),
    /// An RFC 8183 file (or a value from one) is unusable.
    #[error("invalid {what}: {why}")]
    BadPeerFile {
        /// Which file or value.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// No delegated child or publisher has this handle.
    #[error("unknown {kind} '{handle}'")]
    UnknownPeer {
        /// "child" or "publisher".
        kind: &'static str,
        /// The handle.
        handle: String,
    },
    /// A delegated child or publisher with this handle exists.
    #[error("a {kind} with handle '{handle}' already exists")]
    DuplicatePeer {
        /// "child" or "publisher".
        kind: &'static str,
        /// The handle.
        handle: String,
    },
    /// An exchange with a remote parent or repository failed.
    #[error("exchange with {peer} failed: {why}")]
    Remote {
        /// The peer's service URI (or what was being done).
        peer: String,
        /// What went wrong.
        why: String,
    },
    /// A key rollover step that the CA's keys do not allow now.
    #[error("key rollover of CA '{ca}': {why}")]
    Keyroll {
        /// The CA.
        ca: String,
        /// Why not.
        why: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] anchorage_store::StoreError),
    /// The key store failed.
    #[error(transparent)]
    Keys(#[from] anchorage_keys::KeysError),
    /// Writing the repository failed.
    #[error(transparent)]
    Publication(#[from] anchorage_publication::PublicationError),
    /// Writing RRDP files failed.
    #[error(transparent)]
    Rrdp(#[from] anchorage_rrdp_server::RrdpError),
    /// A change was committed but writing the repository failed.
    #[error(
        "the change is committed, but publishing it failed: {0}; run `anchorage publish` to retry"
    )]
    NotPublished(Box<AppError>),
    /// Concurrent work kept changing what this operation depends on; it
    /// changed nothing and can be retried.
    #[error("busy: {0}; nothing was changed, try again")]
    Busy(String),
    /// A change would take a CA past one of its configured limits.
    #[error(
        "CA '{ca}' would have {value} {limit}, more than its limit of {max}; nothing was changed"
    )]
    LimitExceeded {
        /// The CA.
        ca: String,
        /// Which limit ("ROA payloads", "distinct origin ASNs").
        limit: &'static str,
        /// What the CA would have after the change.
        value: usize,
        /// The configured limit.
        max: usize,
    },
    /// The store a command was given is not the data directory's, or
    /// cannot be a store.
    #[error("{0}")]
    StoreLocation(String),
    /// A backup file that cannot be written or restored as it is.
    #[error("backup: {0}")]
    Backup(String),
    /// Another I/O failure.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}
