//! Delegated child CAs, parent side: RFC 8183 child requests and the
//! RFC 6492 provisioning protocol (list, issue, revoke), and the BPKI
//! identity that signs this instance's RFC 6492 and RFC 8181 replies.
//!
//! A delegated child runs its own CA software and keys. Its certificates
//! are issued by a local CA (the parent) for the keys it asks for, with
//! the SIA it names, and published in the parent's publication point
//! like a hosted child's. What it may hold is its entitlement, set by the
//! operator; shrinking it reissues (or revokes) what was issued.

use bytes::Bytes;
use rpki::ca::idcert::IdCert;
use rpki::ca::idexchange::{ChildHandle, ChildRequest, ParentHandle, ParentResponse, ServiceUri};
use rpki::ca::provisioning::{
    IssuanceRequest, IssuanceResponse, IssuedCert, Message, NotPerformedResponse, Payload,
    ProvisioningCms, RequestResourceLimit, ResourceClassEntitlements, ResourceClassListResponse,
    ResourceClassName, RevocationRequest, RevocationResponse, SigningCert,
};
use rpki::ca::publication::Base64;
use rpki::crypto::PublicKey;
use rpki::repository::cert::Cert;
use rpki::repository::x509::Validity;

use super::*;
use crate::bpki;
use anchorage_ca_core::objects::SubjectInfoAccess;
use anchorage_store::{ChildCert, Peer, PeerKind};

/// How many keys a delegated child may hold certificates for at once.
const MAX_KEYS_PER_CHILD: usize = 2;

/// How long this instance's BPKI identity certificate is valid.
const IDENTITY_YEARS: i64 = 15;

/// A protocol request refused before (or instead of) a signed reply.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No such parent, child or publisher here.
    #[error("{0}")]
    NotFound(String),
    /// The body is not a CMS-signed protocol message.
    #[error("{0}")]
    BadMessage(String),
    /// Signed by someone else, a replay, or addressed to someone else.
    #[error("{0}")]
    Forbidden(String),
    /// Something failed on our side.
    #[error(transparent)]
    Internal(#[from] AppError),
}

impl From<anchorage_store::StoreError> for Refusal {
    fn from(e: anchorage_store::StoreError) -> Self {
        Refusal::Internal(e.into())
    }
}

/// A delegated child as listed by `anchorage child list`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChildInfo {
    /// The child's handle.
    pub handle: String,
    /// The local CA that issues to it.
    pub parent: String,
    /// What it is entitled to.
    pub resources: String,
    /// The keys it holds certificates for, with their resources.
    pub certificates: Vec<ChildCertInfo>,
}

/// One certificate issued to a delegated child.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChildCertInfo {
    /// The child's key identifier.
    pub key: String,
    /// The certificate's URI.
    pub uri: String,
    /// The resources certified.
    pub resources: String,
}

pub(super) fn bad_file(what: &'static str, why: impl ToString) -> AppError {
    AppError::BadPeerFile {
        what,
        why: why.to_string(),
    }
}

/// A delegated child and the local CA that issues to it.
fn load_child(tx: &Tx<'_>, handle: &str) -> Result<(Peer, CaRecord)> {
    let child = tx
        .peer(PeerKind::Child, handle)?
        .ok_or_else(|| AppError::UnknownPeer {
            kind: "child",
            handle: handle.into(),
        })?;
    let parent = load_ca(tx, child.parent.as_deref().unwrap_or_default())?;
    Ok((child, parent))
}

/// The decoded identity certificate of a stored peer.
pub(crate) fn peer_id_cert(peer: &Peer) -> std::result::Result<IdCert, Refusal> {
    IdCert::decode(peer.id_cert.clone()).map_err(|e| {
        Refusal::Internal(AppError::Store(anchorage_store::StoreError::Corrupt {
            what: "peer identity certificate",
            value: e.to_string(),
        }))
    })
}

/// A message from a peer that passed every check: decoded, signed by the
/// peer's identity certificate, fresh. `tx` is the write transaction it
/// was checked in; `fresh` is the replay state to record in it.
pub(crate) struct Received<'a, C> {
    pub(crate) tx: Tx<'a>,
    pub(crate) peer: Peer,
    pub(crate) cms: C,
    pub(crate) fresh: (i64, Vec<String>),
}

/// Checks a message from peer `handle` of `kind` (which `known` may narrow
/// further; `unknown` is the refusal otherwise), the same for RFC 6492 and
/// RFC 8181: size, decoding and signature before the store's write lock
/// is taken, then, in the write transaction returned, that the peer still
/// has the identity that verified it and that the message is no replay.
pub(crate) fn receive<'a, C: bpki::ProtocolCms>(
    store: &'a mut anchorage_store::Store,
    kind: PeerKind,
    handle: &str,
    known: impl Fn(&Peer) -> bool,
    unknown: impl Fn() -> Refusal,
    body: &[u8],
    now: Time,
) -> std::result::Result<Received<'a, C>, Refusal> {
    if body.len() > C::MAX_SIZE {
        return Err(Refusal::BadMessage(format!(
            "message of {} bytes exceeds the limit of {}",
            body.len(),
            C::MAX_SIZE
        )));
    }
    let who = kind.as_str();
    let peer = store
        .read_transaction()?
        .peer(kind, handle)?
        .filter(&known)
        .ok_or_else(&unknown)?;
    let cms = C::decode(body)
        .map_err(|e| Refusal::BadMessage(format!("not an {} message: {e}", C::NAME)))?;
    let id_cert = peer_id_cert(&peer)?;
    cms.validate_at(id_cert.public_key(), now).map_err(|e| {
        tracing::warn!(kind = who, peer = handle, error = %e, "{} message refused: not signed by the peer's identity", C::NAME);
        Refusal::Forbidden(format!("not signed by the identity of {who} '{handle}': {e}"))
    })?;
    let signed = bpki::signed(body).map_err(Refusal::BadMessage)?;
    let tx = store.transaction()?;
    let verified_with = peer.id_cert;
    let peer = tx
        .peer(kind, handle)?
        .filter(|p| known(p) && p.id_cert == verified_with)
        .ok_or_else(&unknown)?;
    let fresh = bpki::check_fresh(
        peer.last_signing_time,
        &peer.last_digests,
        &signed,
        to_secs(now),
    )
    .map_err(|why| {
        tracing::warn!(kind = who, peer = handle, %why, "{} message refused as a replay", C::NAME);
        Refusal::Forbidden(why)
    })?;
    Ok(Received {
        tx,
        peer,
        cms,
        fresh,
    })
}

impl Ctx {
    /// This instance's BPKI identity (key and self-signed certificate),
    /// made on first use.
    pub(crate) fn identity(&self, tx: &Tx<'_>, now: Time) -> Result<(KeyIdentifier, IdCert)> {
        if let (Some(key), Some(cert)) = (tx.meta("bpki_key")?, tx.meta("bpki_cert")?) {
            let key: KeyIdentifier = key
                .parse()
                .map_err(|_| bad_file("stored BPKI key id", &key))?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(&cert)
                .map_err(|e| bad_file("stored BPKI certificate", e))?;
            let cert = IdCert::decode(Bytes::from(der))
                .map_err(|e| bad_file("stored BPKI certificate", e))?;
            return Ok((key, cert));
        }
        let key = self.keys.generate_class(anchorage_keys::KeyClass::Bpki)?;
        let validity = Validity::new(
            now - self.timing.backdate,
            now + TimeDelta::days(365 * IDENTITY_YEARS),
        );
        let cert = IdCert::new_ta(validity, &key, &*self.keys)
            .map_err(|e| anchorage_ca_core::CaError::Signing(format!("BPKI identity: {e:?}")))?;
        tx.set_meta("bpki_key", &key.to_string())?;
        tx.set_meta(
            "bpki_cert",
            &base64::engine::general_purpose::STANDARD.encode(cert.to_bytes()),
        )?;
        tracing::info!(key = %key, "created the BPKI identity");
        Ok((key, cert))
    }

    /// Signs an RFC 6492 reply with the BPKI identity.
    fn sign_provisioning(&self, tx: &Tx<'_>, message: Message, now: Time) -> Result<Bytes> {
        let (key, _) = self.identity(tx, now)?;
        let cms = ProvisioningCms::create(message, &key, &*self.keys)
            .map_err(|e| anchorage_ca_core::CaError::Signing(format!("RFC 6492 reply: {e:?}")))?;
        Ok(cms.to_bytes())
    }

    /// What a child may hold now: its entitlement within the parent's resources.
    fn entitled(&self, parent: &CaRecord, child: &Peer) -> ResourceSet {
        child
            .resources
            .as_ref()
            .map(|r| r.intersection(&parent.resources))
            .unwrap_or_default()
    }

    /// The RFC 6492 entitlement of one child: one resource class, named
    /// "0", issued by the parent's current key.
    fn entitlements(
        &self,
        tx: &Tx<'_>,
        parent: &CaRecord,
        child: &Peer,
    ) -> Result<ResourceClassEntitlements> {
        let parent_cert =
            Cert::decode(parent.cert.clone()).map_err(|e| bad_file("stored CA certificate", e))?;
        let point = tx.point(&parent.handle)?;
        let mut issued = Vec::new();
        for record in tx.child_certs(&child.handle)? {
            let Some(obj) = point.objects.get(&record.name) else {
                continue;
            };
            let cert =
                Cert::decode(obj.bytes.clone()).map_err(|e| bad_file("issued certificate", e))?;
            let limit: RequestResourceLimit =
                serde_json::from_str(&record.req_limit).unwrap_or_default();
            issued.push(IssuedCert::new(
                self.parent_object_uri(parent, &record.name)?,
                limit,
                cert,
            ));
        }
        Ok(ResourceClassEntitlements::new(
            ResourceClassName::default(),
            self.entitled(parent, child).to_rpki(),
            parent.cert_not_after,
            issued,
            SigningCert::new(self.layout.cert_uri(parent)?, parent_cert),
        ))
    }

    fn parent_object_uri(&self, parent: &CaRecord, name: &str) -> Result<rpki::uri::Rsync> {
        Ok(self.issuer(parent)?.object_uri(name)?)
    }

    /// Issues (or reissues) a child's certificate for `key` and records it.
    #[allow(clippy::too_many_arguments)]
    fn certify_child(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        parent: &Issuer,
        child: &str,
        key: &PublicKey,
        resources: &ResourceSet,
        sia: &SubjectInfoAccess,
        req_limit: String,
        now: Time,
    ) -> Result<PublishedObject> {
        let obj = ca::issue_cert_with_sia(
            &*self.keys,
            parent,
            ChildCa {
                handle: child,
                key,
                resources,
            },
            sia,
            now,
            &self.timing,
        )?;
        tx.put_child_cert(
            child,
            &ChildCert {
                ski: key.key_identifier().to_string(),
                name: obj.name.clone(),
                resources: resources.clone(),
                req_limit,
            },
        )?;
        point.publish(obj.clone(), now);
        Ok(obj)
    }

    /// Reissues the certificate of a delegated child held in `point`
    /// under the name `file`, with its key and SIA, for what it still may
    /// hold; revokes it when that is nothing. Returns false if `file` is
    /// no delegated child's.
    pub(super) fn renew_delegated(
        &self,
        tx: &Tx<'_>,
        point: &mut PublicationPoint,
        parent: &CaRecord,
        issuer: &Issuer,
        file: &str,
        now: Time,
    ) -> Result<bool> {
        for child in tx.children_of(&parent.handle)? {
            for record in tx.child_certs(&child.handle)? {
                if record.name != file {
                    continue;
                }
                let entitled = self.entitled(parent, &child);
                let keep = record.resources.intersection(&entitled);
                let Some(old) = point.objects.get(file) else {
                    return Ok(true);
                };
                let old = Cert::decode(old.bytes.clone())
                    .map_err(|e| bad_file("issued certificate", e))?;
                if keep.is_empty() {
                    point.withdraw(file, now);
                    tx.delete_child_cert(&child.handle, &record.ski)?;
                    tracing::info!(child = %child.handle, key = %record.ski, "revoked: no resources left");
                    return Ok(true);
                }
                let sia = SubjectInfoAccess {
                    ca_repository: old
                        .ca_repository()
                        .cloned()
                        .ok_or_else(|| bad_file("issued certificate", "no caRepository"))?,
                    manifest: old
                        .rpki_manifest()
                        .cloned()
                        .ok_or_else(|| bad_file("issued certificate", "no rpkiManifest"))?,
                    notify: old.rpki_notify().cloned(),
                };
                self.certify_child(
                    tx,
                    point,
                    issuer,
                    &child.handle,
                    old.subject_public_key_info(),
                    &keep,
                    &sia,
                    record.req_limit.clone(),
                    now,
                )?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Finishes a change of `parent`'s point: manifest and CRL now, or
    /// owed to the next group publication.
    pub(super) fn finish_point(
        &self,
        tx: &Tx<'_>,
        parent: &str,
        point: &mut PublicationPoint,
        issuer: &Issuer,
        now: Time,
    ) -> Result<()> {
        if self.deferred {
            tx.mark_pending(parent)?;
        } else {
            point.refresh(&*self.keys, issuer, now, &self.timing)?;
        }
        tx.save_point(parent, point, now)?;
        Ok(())
    }
}

impl Anchorage {
    /// This instance's BPKI identity certificate (made on first use).
    pub fn bpki_identity(&mut self) -> Result<IdCert> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let (_, cert) = self.ctx.identity(&tx, now)?;
        tx.commit()?;
        Ok(cert)
    }

    /// The base of the RFC 6492 and RFC 8181 service URIs: the origin of
    /// the RRDP URI, which is served by the same HTTP server.
    pub fn service_base(&self) -> String {
        let rrdp = self.rrdp_base();
        let after_scheme = rrdp.find("://").map(|i| i + 3).unwrap_or(0);
        match rrdp[after_scheme..].find('/') {
            Some(i) => rrdp[..after_scheme + i].to_string(),
            None => rrdp.trim_end_matches('/').to_string(),
        }
    }

    /// Imports an RFC 8183 child request: the child may then hold
    /// `resources` under `parent`. Returns the parent response for it.
    pub fn add_child(
        &mut self,
        actor: &Actor,
        parent: &str,
        request_xml: &[u8],
        resources: ResourceSet,
        service_base: Option<&str>,
    ) -> Result<(ParentResponse, Vec<Event>)> {
        let request = ChildRequest::parse(request_xml).map_err(|e| bad_file("child request", e))?;
        let id_cert = request
            .validate()
            .map_err(|e| bad_file("child request's identity certificate", e))?;
        let handle = request.child_handle().as_str().to_string();
        validate_handle(&handle)?;
        if resources.is_empty() {
            return Err(AppError::BadArgument {
                what: "resources",
                value: String::new(),
                rule: "a child must be entitled to some resources",
            });
        }
        let base = service_base
            .map(str::to_string)
            .unwrap_or_else(|| self.service_base());
        let service = format!("{}/rfc6492/{parent}/{handle}", base.trim_end_matches('/'));
        let service_uri: ServiceUri = service
            .parse()
            .map_err(|e| bad_file("service URI", format!("{service}: {e}")))?;
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        if parent == TA_HANDLE {
            return Err(AppError::TaOffLimits {
                online: self.ctx.online.clone(),
                what: format!("child '{handle}'"),
            });
        }
        within_parent(&handle, &load_ca(&tx, parent)?, &resources)?;
        if tx.peer(PeerKind::Child, &handle)?.is_some() {
            return Err(AppError::DuplicatePeer {
                kind: "child",
                handle,
            });
        }
        let (_, ours) = self.ctx.identity(&tx, now)?;
        tx.insert_peer(&Peer {
            kind: PeerKind::Child,
            handle: handle.clone(),
            parent: Some(parent.into()),
            id_cert: id_cert.to_bytes(),
            resources: Some(resources.clone()),
            base_uri: None,
            last_signing_time: None,
            last_digests: Vec::new(),
            created: to_secs(now),
            ..Peer::default()
        })?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::ChildAdded {
                parent: parent.into(),
                child: handle.clone(),
                resources,
            },
        )?;
        tx.commit()?;
        let response = ParentResponse::new(
            Base64::from_content(&ours.to_bytes()),
            ParentHandle::new(parent.into()),
            ChildHandle::new(handle.as_str().into()),
            service_uri,
            request.tag().cloned(),
        );
        Ok((response, journal.into_events()))
    }

    /// The delegated children and what they hold.
    pub fn list_children(&mut self) -> Result<Vec<ChildInfo>> {
        let tx = self.store.read_transaction()?;
        let mut out = Vec::new();
        for child in tx.peers(PeerKind::Child)? {
            let parent = child.parent.clone().unwrap_or_default();
            let ca = load_ca(&tx, &parent)?;
            let mut certificates = Vec::new();
            for c in tx.child_certs(&child.handle)? {
                certificates.push(ChildCertInfo {
                    key: c.ski.clone(),
                    uri: self.ctx.parent_object_uri(&ca, &c.name)?.to_string(),
                    resources: c.resources.to_string(),
                });
            }
            out.push(ChildInfo {
                handle: child.handle.clone(),
                parent,
                resources: child
                    .resources
                    .as_ref()
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
                certificates,
            });
        }
        Ok(out)
    }

    /// Changes a child's entitlement. Certificates holding resources it
    /// loses are reissued without them at once (or revoked when nothing
    /// is left); growth waits for the child to ask.
    pub fn update_child(
        &mut self,
        actor: &Actor,
        handle: &str,
        resources: ResourceSet,
    ) -> Result<Vec<Event>> {
        if resources.is_empty() {
            return Err(AppError::BadArgument {
                what: "resources",
                value: String::new(),
                rule: "a child must be entitled to some resources; use `child remove`",
            });
        }
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let (child, parent) = load_child(&tx, handle)?;
        let parent_handle = parent.handle.clone();
        within_parent(handle, &parent, &resources)?;
        let before = child.resources.clone().unwrap_or_default();
        tx.set_peer_resources(PeerKind::Child, handle, &resources)?;
        let issuer = self.ctx.issuer(&parent)?;
        let mut point = tx.point(&parent_handle)?;
        let mut changed = false;
        for record in tx.child_certs(handle)? {
            if !resources.contains(&record.resources) {
                self.ctx
                    .renew_delegated(&tx, &mut point, &parent, &issuer, &record.name, now)?;
                changed = true;
            }
        }
        if changed {
            self.ctx
                .finish_point(&tx, &parent_handle, &mut point, &issuer, now)?;
        }
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::ChildUpdated {
                parent: parent_handle,
                child: handle.into(),
                before,
                after: resources,
            },
        )?;
        tx.commit()?;
        if changed && !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok(journal.into_events())
    }

    /// Removes a delegated child and revokes every certificate it holds.
    pub fn remove_child(&mut self, actor: &Actor, handle: &str) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let (child, parent) = load_child(&tx, handle)?;
        let parent_handle = parent.handle.clone();
        let issuer = self.ctx.issuer(&parent)?;
        let mut point = tx.point(&parent_handle)?;
        for record in tx.child_certs(handle)? {
            // RFC 6487 §5: withdrawing revokes on the next CRL.
            point.withdraw(&record.name, now);
        }
        self.ctx
            .finish_point(&tx, &parent_handle, &mut point, &issuer, now)?;
        tx.delete_peer(PeerKind::Child, handle)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::ChildRemoved {
                parent: parent_handle,
                child: handle.into(),
                resources: child.resources,
            },
        )?;
        tx.commit()?;
        if !self.ctx.deferred {
            self.write_tree_after_commit()?;
        }
        Ok(journal.into_events())
    }

    /// Answers one RFC 6492 message from `child` to `parent`: the
    /// signed reply, or why none is made. The audit log names the child
    /// as the actor (its CMS signature authenticated it).
    pub fn rfc6492(
        &mut self,
        parent: &str,
        child: &str,
        body: &[u8],
    ) -> std::result::Result<Bytes, Refusal> {
        let now = self.ctx.clock.now();
        let Received {
            tx,
            peer,
            cms,
            fresh: (last, digests),
        } = receive::<ProvisioningCms>(
            &mut self.store,
            PeerKind::Child,
            child,
            |p| p.parent.as_deref() == Some(parent),
            || Refusal::NotFound(format!("no child '{child}' under '{parent}'")),
            body,
            now,
        )?;
        let message = cms.into_message();
        if message.sender().as_str() != child || message.recipient().as_str() != parent {
            return Err(Refusal::Forbidden(format!(
                "message from '{}' to '{}' sent to the service of '{child}' under '{parent}'",
                message.sender(),
                message.recipient()
            )));
        }
        tx.set_peer_last_message(PeerKind::Child, child, last, &digests)?;
        let actor = Actor::child(child);
        let mut journal = Journal::new(&actor, now);
        let sender = message.recipient().convert();
        let recipient = message.sender().convert();
        let parent_ca = load_ca(&tx, parent)?;
        let mut published = false;
        let reply = match message.into_payload() {
            Payload::List => {
                let entitlements = self.ctx.entitlements(&tx, &parent_ca, &peer)?;
                Message::list_response(
                    sender,
                    recipient,
                    ResourceClassListResponse::new(vec![entitlements]),
                )
            }
            Payload::Issue(request) => {
                match self.ctx.issue_for_child(
                    &tx,
                    &mut journal,
                    &parent_ca,
                    &peer,
                    request,
                    now,
                )? {
                    Ok(response) => {
                        published = true;
                        Message::issue_response(sender, recipient, response)
                    }
                    Err(refused) => not_performed(sender, recipient, refused)?,
                }
            }
            Payload::Revoke(request) => {
                match self.ctx.revoke_for_child(
                    &tx,
                    &mut journal,
                    &parent_ca,
                    &peer,
                    &request,
                    now,
                )? {
                    Ok(response) => {
                        published = true;
                        Message::revoke_response(sender, recipient, response)
                    }
                    Err(refused) => not_performed(sender, recipient, refused)?,
                }
            }
            // RFC 6492 §3.6 code 1103: responses are not requests.
            _ => not_performed(sender, recipient, NotPerformedResponse::err_1103())?,
        };
        let bytes = self.ctx.sign_provisioning(&tx, reply, now)?;
        tx.commit()?;
        journal.into_events();
        if published && !self.ctx.deferred {
            // Committed: the child gets its answer; a failed publication
            // is retried by the next one (or `anchorage publish`).
            if let Err(e) = self.write_tree() {
                tracing::error!(error = %e, "RFC 6492 change committed, publication failed");
            }
        }
        Ok(bytes)
    }
}

fn not_performed(
    sender: rpki::ca::idexchange::SenderHandle,
    recipient: rpki::ca::idexchange::RecipientHandle,
    refused: NotPerformedResponse,
) -> std::result::Result<Message, Refusal> {
    Message::not_performed_response(sender, recipient, refused)
        .map_err(|e| Refusal::Internal(bad_file("error response", e)))
}

impl Ctx {
    /// RFC 6492 §3.4: issues a certificate for the key of the child's CSR.
    fn issue_for_child(
        &self,
        tx: &Tx<'_>,
        journal: &mut Journal<'_>,
        parent: &CaRecord,
        child: &Peer,
        request: IssuanceRequest,
        now: Time,
    ) -> Result<std::result::Result<IssuanceResponse, NotPerformedResponse>> {
        let (class, limit, csr) = request.unpack();
        if class != ResourceClassName::default() {
            return Ok(Err(NotPerformedResponse::err_1201()));
        }
        // RFC 6492 §3.4.1: a CSR that does not verify, or without the
        // SIA a CA certificate needs (RFC 6487 §4.8.8.1), is badly formed.
        if csr.verify_signature().is_err() || !csr.basic_ca() {
            return Ok(Err(NotPerformedResponse::err_1203()));
        }
        let (Some(repo), Some(manifest)) = (csr.ca_repository(), csr.rpki_manifest()) else {
            return Ok(Err(NotPerformedResponse::err_1203()));
        };
        let key = csr.public_key().clone();
        // RFC 7935 §3: a key the profile forbids is refused before any
        // certificate for it is signed (the engine would refuse to publish
        // the certificate anyway).
        if let Err(why) = anchorage_ca_core::objects::check_subject_key(&key) {
            tracing::warn!(child = %child.handle, %why, "issue refused: the requested key breaks the algorithm profile");
            return Ok(Err(NotPerformedResponse::err_1203()));
        }
        let ski = key.key_identifier();
        // RFC 6492 §3.6 code 1204: a key must not serve two CAs.
        let owner = tx.child_of_key(&ski.to_string())?;
        let hosted = tx.cas()?.iter().any(|c| c.key == ski);
        if hosted || owner.as_deref().is_some_and(|o| o != child.handle) {
            return Ok(Err(NotPerformedResponse::err_1204()));
        }
        let mut point = tx.point(&parent.handle)?;
        let name = ca::cert_file_name(&ski);
        if owner.is_none() && point.objects.contains_key(&name) {
            return Ok(Err(NotPerformedResponse::err_1204()));
        }
        // A child holds at most two keys: its current one and, during a
        // rollover (RFC 6489), the next. More would let a child fill the
        // parent's publication point with certificates.
        if owner.is_none() && tx.child_certs(&child.handle)?.len() >= MAX_KEYS_PER_CHILD {
            tracing::warn!(child = %child.handle, "issue refused: the child already holds two keys");
            return Ok(Err(NotPerformedResponse::err_2001()));
        }
        // A new certificate must leave the parent's manifest small enough
        // for rpki-client to read.
        if !point.objects.contains_key(&name) {
            match super::manifest_room(tx, &parent.handle, &[name.as_str()]) {
                Err(err @ AppError::LimitExceeded { .. }) => {
                    tracing::warn!(child = %child.handle, %err, "issue refused");
                    return Ok(Err(NotPerformedResponse::err_2001()));
                }
                other => other?,
            }
        }
        // RFC 6492 §3.4.1: the certificate holds the entitlement within
        // the request's limit.
        let entitled = self.entitled(parent, child);
        let resources = match limit_set(&limit) {
            Some(l) => entitled.intersection(&l),
            None => entitled,
        };
        if resources.is_empty() {
            return Ok(Err(NotPerformedResponse::err_1202()));
        }
        let sia = SubjectInfoAccess {
            ca_repository: repo.clone(),
            manifest: manifest.clone(),
            notify: csr.rpki_notify().cloned(),
        };
        let issuer = self.issuer(parent)?;
        let limit_json = serde_json::to_string(&limit).unwrap_or_default();
        let obj = self.certify_child(
            tx,
            &mut point,
            &issuer,
            &child.handle,
            &key,
            &resources,
            &sia,
            limit_json,
            now,
        )?;
        self.finish_point(tx, &parent.handle, &mut point, &issuer, now)?;
        journal.record(
            tx,
            Event::ChildIssued {
                parent: parent.handle.clone(),
                child: child.handle.clone(),
                key: ski.to_string(),
                resources,
            },
        )?;
        let cert =
            Cert::decode(obj.bytes.clone()).map_err(|e| bad_file("issued certificate", e))?;
        let parent_cert =
            Cert::decode(parent.cert.clone()).map_err(|e| bad_file("stored CA certificate", e))?;
        Ok(Ok(IssuanceResponse::new(
            class,
            self.entitled(parent, child).to_rpki(),
            parent.cert_not_after,
            IssuedCert::new(issuer.object_uri(&obj.name)?, limit, cert),
            SigningCert::new(self.layout.cert_uri(parent)?, parent_cert),
        )))
    }

    /// RFC 6492 §3.5: revokes the certificate of one of the child's keys.
    fn revoke_for_child(
        &self,
        tx: &Tx<'_>,
        journal: &mut Journal<'_>,
        parent: &CaRecord,
        child: &Peer,
        request: &RevocationRequest,
        now: Time,
    ) -> Result<std::result::Result<RevocationResponse, NotPerformedResponse>> {
        if *request.class_name() != ResourceClassName::default() {
            return Ok(Err(NotPerformedResponse::err_1301()));
        }
        let ski = request.key().to_string();
        let Some(record) = tx
            .child_certs(&child.handle)?
            .into_iter()
            .find(|c| c.ski == ski)
        else {
            return Ok(Err(NotPerformedResponse::err_1302()));
        };
        let issuer = self.issuer(parent)?;
        let mut point = tx.point(&parent.handle)?;
        point.withdraw(&record.name, now);
        tx.delete_child_cert(&child.handle, &ski)?;
        self.finish_point(tx, &parent.handle, &mut point, &issuer, now)?;
        journal.record(
            tx,
            Event::ChildRevoked {
                parent: parent.handle.clone(),
                child: child.handle.clone(),
                key: ski,
                resources: record.resources,
            },
        )?;
        Ok(Ok(RevocationResponse::from(request)))
    }
}

/// The resources a request limit allows, if it limits anything: a family
/// it leaves out is not limited.
fn limit_set(limit: &RequestResourceLimit) -> Option<ResourceSet> {
    if limit.is_empty() {
        return None;
    }
    let all = ResourceSet::all().to_rpki();
    let set = rpki::repository::resources::ResourceSet::new(
        limit.asn().cloned().unwrap_or_else(|| all.asn().clone()),
        limit.ipv4().cloned().unwrap_or_else(|| all.ipv4().clone()),
        limit.ipv6().cloned().unwrap_or_else(|| all.ipv6().clone()),
    );
    Some(ResourceSet::from_rpki(&set))
}
