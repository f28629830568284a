//! What the audit log records: who changed something ([`Actor`], an
//! argument of every changing operation) and what ([`Event`], one typed
//! value per change, which each operation returns). [`Event`] renders to
//! the stored line (action, CA, detail, before, after) in one place, so
//! no call site spells an action or a detail by hand. The stored forms
//! are what the log has always held (and what `GET /api/v1/audit` shows
//! and filters).

use anchorage_ca_core::ca::TA_HANDLE;
use anchorage_ca_core::{AspaDefinition, ResourceSet, RoaPayload, Time};
use anchorage_store::{Tx, Who};

use crate::tokens::Role;

/// Who makes a change: the name the audit log records and, for an API
/// call, its request id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    name: String,
    request_id: Option<String>,
}

impl Actor {
    /// An actor by name (e.g. `token:ID`, `scheduler`).
    pub fn named(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            request_id: None,
        }
    }

    /// The operator at the command line: `cli:$USER` (`cli` without one).
    pub fn operator() -> Actor {
        match std::env::var("USER") {
            Ok(user) if !user.is_empty() => Actor::named(format!("cli:{user}")),
            _ => Actor::named("cli"),
        }
    }

    /// What `serve` does by itself: scheduled publication, parent syncs.
    pub fn scheduler() -> Actor {
        Actor::named("scheduler")
    }

    /// A delegated child, for what its RFC 6492 messages change.
    pub fn child(handle: &str) -> Actor {
        Actor::named(format!("child:{handle}"))
    }

    /// A publisher, for what its RFC 8181 messages change.
    pub fn publisher(handle: &str) -> Actor {
        Actor::named(format!("publisher:{handle}"))
    }

    /// The same actor, acting in the API request `id`.
    pub fn in_request(mut self, id: impl Into<String>) -> Actor {
        self.request_id = Some(id.into());
        self
    }

    /// The name recorded.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The API request recorded, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub(crate) fn who(&self) -> Who<'_> {
        Who {
            actor: &self.name,
            request_id: self.request_id.as_deref(),
        }
    }
}

/// One change, as an operation reports it and the audit log records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The data directory was created with this rsync base.
    Init {
        /// The repository's rsync base URI.
        rsync_uri: String,
    },
    /// A hosted CA was created.
    CaCreated {
        /// The CA.
        ca: String,
        /// Its parent.
        parent: String,
        /// Its resources.
        resources: ResourceSet,
    },
    /// A CA's resources changed (by an operator, or because its parent's
    /// shrank: `reason`).
    CaResourcesChanged {
        /// The CA.
        ca: String,
        /// Its resources before.
        before: ResourceSet,
        /// Its resources after.
        after: ResourceSet,
        /// Why, when the operator did not ask for it.
        reason: Option<&'static str>,
    },
    /// A CA was deleted.
    CaDeleted {
        /// The CA.
        ca: String,
        /// Its parent.
        parent: String,
        /// The resources it held.
        resources: ResourceSet,
    },
    /// A CA's contact (its Ghostbusters record) was set or removed.
    ContactChanged {
        /// The CA.
        ca: String,
        /// The vCard, or `None` when removed.
        vcard: Option<String>,
    },
    /// A ROA payload was added.
    RoaAdded {
        /// The CA.
        ca: String,
        /// The payload.
        payload: RoaPayload,
    },
    /// A ROA payload was removed (by an operator, or because the CA no
    /// longer holds its prefix: `out_of_resources`).
    RoaRemoved {
        /// The CA.
        ca: String,
        /// The payload.
        payload: RoaPayload,
        /// Removed because the CA's resources shrank.
        out_of_resources: bool,
    },
    /// An ASPA was set: added, or its providers replaced.
    AspaSet {
        /// The CA.
        ca: String,
        /// The ASPA after the change.
        aspa: AspaDefinition,
        /// The providers before, if it replaced one.
        before: Option<AspaDefinition>,
    },
    /// An ASPA was removed (by an operator, or because the CA no longer
    /// holds its customer AS: `out_of_resources`).
    AspaRemoved {
        /// The CA.
        ca: String,
        /// The ASPA removed.
        aspa: AspaDefinition,
        /// Removed because the CA's resources shrank.
        out_of_resources: bool,
    },
    /// A BGPsec router key was certified (RFC 8209).
    RouterCertAdded {
        /// The CA.
        ca: String,
        /// The AS.
        asn: u32,
        /// The key's SKI.
        ski: String,
    },
    /// A router certificate was revoked (by an operator, or because the
    /// CA no longer holds its AS: `out_of_resources`).
    RouterCertRevoked {
        /// The CA.
        ca: String,
        /// The AS.
        asn: u32,
        /// The key's SKI.
        ski: String,
        /// Revoked because the CA's resources shrank.
        out_of_resources: bool,
    },
    /// Due manifests, CRLs and objects were reissued.
    Published {
        /// Points whose manifest and CRL were reissued.
        points: usize,
        /// Objects reissued before expiry.
        objects: usize,
    },
    /// An API token was created.
    TokenCreated {
        /// Its id.
        id: String,
        /// Its role.
        role: Role,
        /// The CAs it is limited to.
        cas: Vec<String>,
    },
    /// An API token was revoked (by an admin, or because `ca`, the CA it
    /// was limited to, was deleted).
    TokenRevoked {
        /// Its id.
        id: String,
        /// The deleted CA that took it along, if any.
        ca: Option<String>,
    },
    /// A delegated child was added (RFC 8183).
    ChildAdded {
        /// The local parent CA.
        parent: String,
        /// The child.
        child: String,
        /// Its entitlement.
        resources: ResourceSet,
    },
    /// A delegated child's entitlement changed.
    ChildUpdated {
        /// The local parent CA.
        parent: String,
        /// The child.
        child: String,
        /// The entitlement before.
        before: ResourceSet,
        /// The entitlement after.
        after: ResourceSet,
    },
    /// A delegated child was removed.
    ChildRemoved {
        /// The local parent CA.
        parent: String,
        /// The child.
        child: String,
        /// Its entitlement, if it had one.
        resources: Option<ResourceSet>,
    },
    /// A delegated child's key was certified (RFC 6492 §3.4).
    ChildIssued {
        /// The local parent CA.
        parent: String,
        /// The child.
        child: String,
        /// The key identifier certified.
        key: String,
        /// The resources certified.
        resources: ResourceSet,
    },
    /// A delegated child's key was revoked (RFC 6492 §3.5).
    ChildRevoked {
        /// The local parent CA.
        parent: String,
        /// The child.
        child: String,
        /// The key identifier revoked.
        key: String,
        /// The resources its certificate held.
        resources: ResourceSet,
    },
    /// A remote parent was added (RFC 8183).
    ParentAdded {
        /// The local CA.
        ca: String,
        /// The parent's own handle.
        parent: String,
        /// Its RFC 6492 service URI.
        service_uri: String,
    },
    /// A remote parent certified a CA's first key (RFC 6492).
    ParentCertified {
        /// The local CA.
        ca: String,
        /// The parent's own handle.
        parent: String,
        /// The certificate's URI.
        uri: String,
        /// The resources certified.
        resources: ResourceSet,
    },
    /// A remote parent certified different resources (RFC 6492).
    ParentRecertified {
        /// The local CA.
        ca: String,
        /// The certificate's URI.
        uri: String,
        /// The resources before.
        before: ResourceSet,
        /// The resources after.
        after: ResourceSet,
    },
    /// A remote parent lists no resources for the CA any more.
    ParentWithdrew {
        /// The local CA.
        ca: String,
        /// The resources before.
        before: ResourceSet,
    },
    /// A remote parent was removed; the CA it certified, and everything
    /// the CA published, with it.
    ParentRemoved {
        /// The local CA.
        ca: String,
        /// The parent's own handle.
        parent: String,
        /// The resources the CA held, if it was certified.
        resources: Option<ResourceSet>,
    },
    /// The remote repository was removed.
    RepositoryRemoved {
        /// Its RFC 8181 service URI.
        service_uri: String,
    },
    /// A remote repository was added (RFC 8183).
    RepositoryAdded {
        /// Its RFC 8181 service URI.
        service_uri: String,
        /// The base URI it gave this instance.
        sia_base: String,
    },
    /// A publisher was added (RFC 8183).
    PublisherAdded {
        /// The publisher.
        publisher: String,
        /// Its base URI.
        sia_base: String,
    },
    /// A publisher was removed.
    PublisherRemoved {
        /// The publisher.
        publisher: String,
        /// Its objects withdrawn.
        objects: usize,
    },
    /// A publisher changed its objects (RFC 8181).
    PublisherDelta {
        /// The publisher.
        publisher: String,
        /// Objects published.
        published: usize,
        /// Objects withdrawn.
        withdrawn: usize,
    },
    /// A CA key rollover started (RFC 6489 §2): a new key, certified.
    KeyrollStarted {
        /// The CA.
        ca: String,
        /// The new key.
        key: String,
        /// When its staging period ends.
        due: String,
    },
    /// A CA's new key became active: every product reissued under it,
    /// the old key's certificate revoked.
    KeyActivated {
        /// The CA.
        ca: String,
        /// The key it replaced.
        old: String,
        /// The key now active.
        new: String,
        /// Products reissued under the new key.
        reissued: usize,
    },
    /// A key rollover was cancelled in its staging period: the new key
    /// revoked and destroyed.
    KeyrollCancelled {
        /// The CA.
        ca: String,
        /// The new key.
        key: String,
    },
    /// A remote parent revoked a CA's old key after its activation
    /// (RFC 6492 revoke); its manifest and CRL are withdrawn.
    KeyRevoked {
        /// The CA.
        ca: String,
        /// The old key.
        key: String,
    },
    /// The trust anchor's old key was retired after its rollover: its
    /// certificate, manifest, CRL and TAK withdrawn, the key destroyed.
    KeyRetired {
        /// The CA (the trust anchor).
        ca: String,
        /// The old key.
        key: String,
    },
}

impl Event {
    /// The kind of change.
    pub fn action(&self) -> Action {
        match self {
            Event::Init { .. } => Action::Init,
            Event::CaCreated { .. } => Action::CaCreate,
            Event::CaResourcesChanged { .. } | Event::ContactChanged { .. } => Action::CaUpdate,
            Event::CaDeleted { .. } => Action::CaDelete,
            Event::RoaAdded { .. } => Action::RoaAdd,
            Event::RoaRemoved { .. } => Action::RoaRemove,
            Event::AspaSet { .. } => Action::AspaSet,
            Event::AspaRemoved { .. } => Action::AspaRemove,
            Event::RouterCertAdded { .. } => Action::RouterCertAdd,
            Event::RouterCertRevoked { .. } => Action::RouterCertRevoke,
            Event::Published { .. } => Action::Publish,
            Event::TokenCreated { .. } => Action::TokenCreate,
            Event::TokenRevoked { .. } => Action::TokenRevoke,
            Event::ChildAdded { .. } => Action::ChildAdd,
            Event::ChildUpdated { .. } => Action::ChildUpdate,
            Event::ChildRemoved { .. } => Action::ChildRemove,
            Event::ChildIssued { .. } => Action::ChildIssue,
            Event::ChildRevoked { .. } => Action::ChildRevoke,
            Event::ParentAdded { .. } => Action::ParentAdd,
            Event::ParentRemoved { .. } => Action::ParentRemove,
            Event::RepositoryRemoved { .. } => Action::RepositoryRemove,
            Event::ParentCertified { .. }
            | Event::ParentRecertified { .. }
            | Event::ParentWithdrew { .. } => Action::ParentSync,
            Event::RepositoryAdded { .. } => Action::RepositoryAdd,
            Event::PublisherAdded { .. } => Action::PublisherAdd,
            Event::PublisherRemoved { .. } => Action::PublisherRemove,
            Event::PublisherDelta { .. } => Action::PublisherDelta,
            Event::KeyrollStarted { .. } => Action::KeyrollStart,
            Event::KeyActivated { .. } => Action::KeyrollActivate,
            Event::KeyRevoked { .. } => Action::KeyrollRevoke,
            Event::KeyrollCancelled { .. } => Action::KeyrollCancel,
            Event::KeyRetired { .. } => Action::KeyrollRetire,
        }
    }

    /// The CA the change concerns, if any.
    pub fn ca(&self) -> Option<&str> {
        match self {
            Event::CaCreated { ca, .. }
            | Event::CaResourcesChanged { ca, .. }
            | Event::ContactChanged { ca, .. }
            | Event::CaDeleted { ca, .. }
            | Event::RoaAdded { ca, .. }
            | Event::RoaRemoved { ca, .. }
            | Event::AspaSet { ca, .. }
            | Event::AspaRemoved { ca, .. }
            | Event::RouterCertAdded { ca, .. }
            | Event::RouterCertRevoked { ca, .. }
            | Event::ParentAdded { ca, .. }
            | Event::ParentCertified { ca, .. }
            | Event::ParentRecertified { ca, .. }
            | Event::ParentWithdrew { ca, .. }
            | Event::ParentRemoved { ca, .. }
            | Event::KeyrollStarted { ca, .. }
            | Event::KeyActivated { ca, .. }
            | Event::KeyRevoked { ca, .. }
            | Event::KeyrollCancelled { ca, .. }
            | Event::KeyRetired { ca, .. } => Some(ca),
            Event::TokenRevoked { ca, .. } => ca.as_deref(),
            Event::ChildAdded { parent, .. }
            | Event::ChildUpdated { parent, .. }
            | Event::ChildRemoved { parent, .. }
            | Event::ChildIssued { parent, .. }
            | Event::ChildRevoked { parent, .. } => Some(parent),
            Event::Init { .. }
            | Event::Published { .. }
            | Event::TokenCreated { .. }
            | Event::RepositoryAdded { .. }
            | Event::RepositoryRemoved { .. }
            | Event::PublisherAdded { .. }
            | Event::PublisherRemoved { .. }
            | Event::PublisherDelta { .. } => None,
        }
    }

    /// The line's detail, as the log has always worded it.
    pub fn detail(&self) -> String {
        match self {
            Event::Init { rsync_uri } => rsync_uri.clone(),
            Event::CaCreated {
                parent, resources, ..
            } => format!("parent {parent}, resources {resources}"),
            Event::CaResourcesChanged {
                after,
                reason: None,
                ..
            } => format!("resources {after}"),
            Event::CaResourcesChanged {
                after,
                reason: Some(why),
                ..
            } => format!("resources '{after}' ({why})"),
            Event::CaDeleted { parent, .. } => format!("parent {parent}"),
            Event::ContactChanged { vcard: Some(_), .. } => "contact set".into(),
            Event::ContactChanged { vcard: None, .. } => "contact removed".into(),
            Event::RoaAdded { payload, .. } => payload.to_string(),
            Event::RoaRemoved {
                payload,
                out_of_resources,
                ..
            } => {
                if *out_of_resources {
                    format!("{payload} (no longer within the CA's resources)")
                } else {
                    payload.to_string()
                }
            }
            Event::AspaSet { aspa, .. } => aspa.to_string(),
            Event::RouterCertAdded { asn, ski, .. } => format!("AS{asn} key {ski}"),
            Event::RouterCertRevoked {
                asn,
                ski,
                out_of_resources,
                ..
            } => {
                if *out_of_resources {
                    format!("AS{asn} key {ski} (the AS is no longer within the CA's resources)")
                } else {
                    format!("AS{asn} key {ski}")
                }
            }
            Event::AspaRemoved {
                aspa,
                out_of_resources,
                ..
            } => {
                if *out_of_resources {
                    format!("{aspa} (the customer AS is no longer within the CA's resources)")
                } else {
                    aspa.to_string()
                }
            }
            Event::Published { points, objects } => {
                format!("{points} points refreshed, {objects} objects reissued")
            }
            Event::TokenCreated { .. } => self.after().unwrap_or_default(),
            Event::TokenRevoked { id, ca: None } => id.clone(),
            Event::TokenRevoked { id, ca: Some(ca) } => {
                format!("{id} (its CA '{ca}' was deleted)")
            }
            Event::ChildAdded {
                child, resources, ..
            } => format!("delegated child {child}, resources {resources}"),
            Event::ChildUpdated { child, after, .. } => {
                format!("delegated child {child}, resources {after}")
            }
            Event::ChildRemoved { child, .. } => format!("delegated child {child}"),
            Event::ChildIssued {
                child,
                key,
                resources,
                ..
            } => format!("delegated child {child}, key {key}, resources {resources}"),
            Event::ChildRevoked { child, key, .. } => {
                format!("delegated child {child}, key {key}")
            }
            Event::ParentAdded {
                parent,
                service_uri,
                ..
            } => format!("parent {parent} at {service_uri}"),
            Event::ParentCertified {
                parent,
                uri,
                resources,
                ..
            } => format!("certified by {parent} at {uri}: {resources}"),
            Event::ParentRecertified { uri, after, .. } => format!("recertified at {uri}: {after}"),
            Event::ParentWithdrew { .. } => {
                "the parent lists no resources for this CA: everything below withdrawn".into()
            }
            Event::RepositoryAdded {
                service_uri,
                sia_base,
            } => format!("publishing at {service_uri} as {sia_base}"),
            Event::ParentRemoved { parent, .. } => {
                format!("parent {parent} removed; the CA and all it published withdrawn")
            }
            Event::RepositoryRemoved { service_uri } => {
                format!("no longer publishing at {service_uri}")
            }
            Event::PublisherAdded {
                publisher,
                sia_base,
            } => format!("publisher {publisher} at {sia_base}"),
            Event::PublisherRemoved { publisher, objects } => {
                format!("publisher {publisher}, {objects} objects withdrawn")
            }
            Event::PublisherDelta {
                publisher,
                published,
                withdrawn,
            } => format!("publisher {publisher}: {published} published, {withdrawn} withdrawn"),
            Event::KeyrollStarted { key, due, .. } => {
                format!("new key {key}, to be activated from {due}")
            }
            Event::KeyActivated {
                ca, new, reissued, ..
            } if ca == TA_HANDLE => format!(
                "key {new} active, {reissued} products reissued under it; the old key publishes its TAK until retired"
            ),
            Event::KeyActivated { new, reissued, .. } => {
                format!("key {new} active, {reissued} products reissued, the old key revoked")
            }
            Event::KeyRevoked { key, .. } => {
                format!("old key {key} revoked by the remote parent, its files withdrawn")
            }
            Event::KeyrollCancelled { key, .. } => {
                format!("new key {key} revoked and destroyed in its staging period")
            }
            Event::KeyRetired { key, .. } => {
                format!(
                    "old key {key} retired: its certificate and files withdrawn, the key destroyed"
                )
            }
        }
    }

    /// The state before, where the log records one.
    pub fn before(&self) -> Option<String> {
        match self {
            Event::CaResourcesChanged { before, .. }
            | Event::ChildUpdated { before, .. }
            | Event::ParentRecertified { before, .. }
            | Event::ParentWithdrew { before, .. } => Some(before.to_string()),
            Event::CaDeleted { resources, .. } | Event::ChildRevoked { resources, .. } => {
                Some(resources.to_string())
            }
            Event::ChildRemoved { resources, .. } | Event::ParentRemoved { resources, .. } => {
                resources.as_ref().map(|r| r.to_string())
            }
            Event::RoaRemoved { payload, .. } => Some(payload.to_string()),
            Event::AspaSet { before, .. } => before.as_ref().map(|a| a.to_string()),
            Event::AspaRemoved { aspa, .. } => Some(aspa.to_string()),
            Event::RouterCertRevoked { asn, ski, .. } => Some(format!("AS{asn} key {ski}")),
            Event::TokenRevoked { id, .. } => Some(id.clone()),
            Event::KeyActivated { old, .. }
            | Event::KeyRevoked { key: old, .. }
            | Event::KeyrollCancelled { key: old, .. }
            | Event::KeyRetired { key: old, .. } => Some(old.clone()),
            _ => None,
        }
    }

    /// The state after, where the log records one.
    pub fn after(&self) -> Option<String> {
        match self {
            Event::CaCreated { resources, .. }
            | Event::ChildAdded { resources, .. }
            | Event::ChildIssued { resources, .. }
            | Event::ParentCertified { resources, .. } => Some(resources.to_string()),
            Event::CaResourcesChanged { after, .. }
            | Event::ChildUpdated { after, .. }
            | Event::ParentRecertified { after, .. } => Some(after.to_string()),
            Event::ParentWithdrew { .. } => Some(String::new()),
            Event::RoaAdded { payload, .. } => Some(payload.to_string()),
            Event::AspaSet { aspa, .. } => Some(aspa.to_string()),
            Event::RouterCertAdded { asn, ski, .. } => Some(format!("AS{asn} key {ski}")),
            Event::TokenCreated { id, role, cas } => {
                Some(format!("{id} {} [{}]", role.as_str(), cas.join(",")))
            }
            Event::RepositoryAdded { sia_base, .. } | Event::PublisherAdded { sia_base, .. } => {
                Some(sia_base.clone())
            }
            Event::KeyrollStarted { key, .. } => Some(key.clone()),
            Event::KeyActivated { new, .. } => Some(new.clone()),
            Event::ContactChanged { vcard, .. } => vcard.clone(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ca() {
            Some(ca) => write!(f, "{} {ca}: {}", self.action(), self.detail()),
            None => write!(f, "{}: {}", self.action(), self.detail()),
        }
    }
}

/// The events one operation records, in the transaction that makes the
/// changes: they are committed or dropped with it.
pub(crate) struct Journal<'a> {
    actor: &'a Actor,
    now: Time,
    events: Vec<Event>,
}

impl<'a> Journal<'a> {
    /// A journal for changes `actor` makes at `now`.
    pub(crate) fn new(actor: &'a Actor, now: Time) -> Self {
        Journal {
            actor,
            now,
            events: Vec::new(),
        }
    }

    /// Writes `event` to the audit log within `tx` and keeps it.
    pub(crate) fn record(&mut self, tx: &Tx<'_>, event: Event) -> anchorage_store::Result<()> {
        tx.audit_change(
            self.now,
            self.actor.who(),
            event.action().as_str(),
            event.ca(),
            &event.detail(),
            event.before().as_deref(),
            event.after().as_deref(),
        )?;
        self.events.push(event);
        Ok(())
    }

    /// The events recorded, once their transaction committed.
    pub(crate) fn into_events(self) -> Vec<Event> {
        for event in &self.events {
            tracing::info!(actor = %self.actor.name, request = ?self.actor.request_id, "{event}");
        }
        self.events
    }
}

/// A kind of change recorded in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The data directory was created (`init`).
    Init,
    /// A hosted CA was created.
    CaCreate,
    /// A CA's resources changed.
    CaUpdate,
    /// A CA was deleted.
    CaDelete,
    /// A ROA payload was added.
    RoaAdd,
    /// A ROA payload was removed.
    RoaRemove,
    /// Due manifests, CRLs and objects were reissued.
    Publish,
    /// An API token was created.
    TokenCreate,
    /// An API token was revoked.
    TokenRevoke,
    /// A delegated child was added (RFC 8183).
    ChildAdd,
    /// A delegated child's resources changed.
    ChildUpdate,
    /// A delegated child was removed.
    ChildRemove,
    /// A delegated child was issued a certificate (RFC 6492).
    ChildIssue,
    /// A delegated child's key was revoked (RFC 6492).
    ChildRevoke,
    /// A remote parent was added (RFC 8183).
    ParentAdd,
    /// A sync with a remote parent changed something (RFC 6492).
    ParentSync,
    /// A remote repository was added (RFC 8183).
    RepositoryAdd,
    /// A publisher was added (RFC 8183).
    PublisherAdd,
    /// A publisher was removed.
    PublisherRemove,
    /// A publisher changed its objects (RFC 8181).
    PublisherDelta,
    /// A remote parent was removed, and the CA it certified.
    ParentRemove,
    /// The remote repository was removed.
    RepositoryRemove,
    /// A CA key rollover started.
    KeyrollStart,
    /// A CA's new key was activated.
    KeyrollActivate,
    /// A CA's old key was revoked by its remote parent.
    KeyrollRevoke,
    /// A key rollover was cancelled in its staging period.
    KeyrollCancel,
    /// The trust anchor's old key was retired.
    KeyrollRetire,
    /// An ASPA was added or its providers replaced.
    AspaSet,
    /// An ASPA was removed.
    AspaRemove,
    /// A router key was certified.
    RouterCertAdd,
    /// A router certificate was revoked.
    RouterCertRevoke,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 31] = [
        Action::Init,
        Action::CaCreate,
        Action::CaUpdate,
        Action::CaDelete,
        Action::RoaAdd,
        Action::RoaRemove,
        Action::Publish,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::ChildAdd,
        Action::ChildUpdate,
        Action::ChildRemove,
        Action::ChildIssue,
        Action::ChildRevoke,
        Action::ParentAdd,
        Action::ParentSync,
        Action::RepositoryAdd,
        Action::PublisherAdd,
        Action::PublisherRemove,
        Action::PublisherDelta,
        Action::ParentRemove,
        Action::RepositoryRemove,
        Action::KeyrollStart,
        Action::KeyrollActivate,
        Action::KeyrollRevoke,
        Action::KeyrollCancel,
        Action::KeyrollRetire,
        Action::AspaSet,
        Action::AspaRemove,
        Action::RouterCertAdd,
        Action::RouterCertRevoke,
    ];

    /// The action's name as stored in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Init => "init",
            Action::CaCreate => "ca create",
            Action::CaUpdate => "ca update",
            Action::CaDelete => "ca delete",
            Action::RoaAdd => "roa add",
            Action::RoaRemove => "roa remove",
            Action::Publish => "publish",
            Action::TokenCreate => "token create",
            Action::TokenRevoke => "token revoke",
            Action::ChildAdd => "child add",
            Action::ChildUpdate => "child update",
            Action::ChildRemove => "child remove",
            Action::ChildIssue => "child issue",
            Action::ChildRevoke => "child revoke",
            Action::ParentAdd => "parent add",
            Action::ParentSync => "parent sync",
            Action::RepositoryAdd => "repository add",
            Action::PublisherAdd => "publisher add",
            Action::PublisherRemove => "publisher remove",
            Action::PublisherDelta => "publisher delta",
            Action::ParentRemove => "parent remove",
            Action::RepositoryRemove => "repository remove",
            Action::KeyrollStart => "keyroll start",
            Action::KeyrollActivate => "keyroll activate",
            Action::KeyrollRevoke => "keyroll revoke",
            Action::KeyrollCancel => "keyroll cancel",
            Action::KeyrollRetire => "keyroll retire",
            Action::AspaSet => "aspa set",
            Action::AspaRemove => "aspa remove",
            Action::RouterCertAdd => "router-cert add",
            Action::RouterCertRevoke => "router-cert revoke",
        }
    }

    /// The action stored as `name`.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored names never change: audit logs of older data
    /// directories must read the same.
    #[test]
    fn names_are_stable_and_round_trip() {
        let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            names,
            [
                "init",
                "ca create",
                "ca update",
                "ca delete",
                "roa add",
                "roa remove",
                "publish",
                "token create",
                "token revoke",
                "child add",
                "child update",
                "child remove",
                "child issue",
                "child revoke",
                "parent add",
                "parent sync",
                "repository add",
                "publisher add",
                "publisher remove",
                "publisher delta",
                "parent remove",
                "repository remove",
                "keyroll start",
                "keyroll activate",
                "keyroll revoke",
                "keyroll cancel",
                "keyroll retire",
                "aspa set",
                "aspa remove",
                "router-cert add",
                "router-cert revoke"
            ]
        );
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("roa  add"), None);
    }
}
