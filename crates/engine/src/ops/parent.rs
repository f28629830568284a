//! This instance as a child: a local CA certified by a remote parent over
//! RFC 6492, and the repository published at a remote RFC 8181 server.
//!
//! An NIR runs Anchorage with `--rsync-uri` set to the SIA base its RIR
//! assigns it; `parent add` makes one of its CAs the child of the RIR's
//! CA, `repository add` makes every CA under such a remote parent publish
//! at the RIR's publication server. A sync lists the entitlements, asks
//! for a certificate when there is none or it no longer matches (growth,
//! expiry, new SIA), and takes back what a shrunk certificate no longer
//! covers: ROAs are withdrawn, child CAs recertified with less.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use rpki::ca::csr::{Csr, RpkiCaCsr};
use rpki::ca::idcert::IdCert;
use rpki::ca::idexchange::{
    ChildHandle, ChildRequest, ParentResponse, PublisherHandle, PublisherRequest, RecipientHandle,
    RepositoryResponse, SenderHandle,
};
use rpki::ca::provisioning::{
    IssuanceRequest, Message as ProvMessage, Payload, ProvisioningCms, RequestResourceLimit,
};
use rpki::ca::publication::{
    Base64, Message as PubMessage, PublicationCms, Publish, PublishDelta, Reply, Update, Withdraw,
};
use rpki::repository::cert::Cert;
use rpki::rrdp::Hash;

use super::*;
use crate::bpki;
use crate::transport::PeerTransport;
use anchorage_store::{Peer, PeerKind};

/// The peer handle of the one remote repository.
pub(super) const REPOSITORY: &str = "repository";

/// A remote parent as listed by `anchorage parent list`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ParentInfo {
    /// The local CA it certifies.
    pub ca: String,
    /// The parent's handle.
    pub parent: String,
    /// Its RFC 6492 service URI.
    pub service_uri: String,
    /// The resources certified, once a certificate was received.
    pub resources: Option<String>,
    /// When the last sync succeeded (seconds since the epoch).
    pub last_sync: Option<i64>,
    /// Why the last sync failed, if it did.
    pub last_error: Option<String>,
}

/// The remote repository and the state of the last push to it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RepositoryInfo {
    /// Its RFC 8181 service URI.
    pub service_uri: String,
    /// The base URI it gave this instance.
    pub sia_base: String,
    /// When the last push succeeded (seconds since the epoch).
    pub last_push: Option<i64>,
    /// Why the last push failed, if it did: retried with the next
    /// publication.
    pub last_error: Option<String>,
}

/// What one sync with a remote parent did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SyncReport {
    /// The local CA.
    pub ca: String,
    /// The resources its certificate holds now.
    pub resources: String,
    /// Whether a new certificate was received and published.
    pub certified: bool,
    /// ROA payloads withdrawn because the resources shrank.
    pub roas_withdrawn: usize,
    /// What the audit log recorded.
    #[serde(skip)]
    pub events: Vec<Event>,
}

/// A remote peer's verified reply: the peer, the signed messages seen
/// (to be accepted in the transaction that uses them) and the value.
pub(super) struct RemoteReply<T> {
    /// The peer.
    pub(super) peer: Peer,
    /// Its signed replies, for [`Ctx::accept_replies`].
    pub(super) seen: Vec<bpki::Signed>,
    /// What the exchange gave.
    pub(super) value: T,
}

/// Our handle in messages to a remote parent.
fn sender_of(peer: &Peer) -> SenderHandle {
    SenderHandle::new(peer.our_handle.clone().unwrap_or_default().into())
}

/// The parent's handle in messages to it.
fn recipient_of(peer: &Peer) -> RecipientHandle {
    RecipientHandle::new(peer.their_handle.clone().unwrap_or_default().into())
}

/// The remote parent of local CA `handle`.
pub(super) fn parent_peer(tx: &Tx<'_>, handle: &str) -> Result<Peer> {
    tx.peer(PeerKind::Parent, handle)?
        .ok_or_else(|| AppError::UnknownPeer {
            kind: "parent of CA",
            handle: handle.into(),
        })
}

fn remote(peer: &str, why: impl ToString) -> AppError {
    AppError::Remote {
        peer: peer.to_string(),
        why: why.to_string(),
    }
}

fn signing<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> AppError + '_ {
    move |e| anchorage_ca_core::CaError::Signing(format!("{what}: {e:?}")).into()
}

/// The resources of a certificate issued to us (RFC 3779 blocks; a
/// certificate from a parent never inherits).
fn cert_resources(cert: &Cert) -> Result<ResourceSet> {
    fn inherit<E>(_: E) -> AppError {
        AppError::BadPeerFile {
            what: "certificate from the parent",
            why: "inherits resources".into(),
        }
    }
    Ok(ResourceSet::from_rpki(
        &rpki::repository::resources::ResourceSet::new(
            cert.as_resources().to_blocks().map_err(inherit)?,
            cert.v4_resources().to_blocks().map_err(inherit)?.into(),
            cert.v6_resources().to_blocks().map_err(inherit)?.into(),
        ),
    ))
}

impl Ctx {
    /// Sends one signed message to a remote parent or repository and
    /// returns the reply, verified against the peer's identity; its
    /// signing-time and digest are noted in `seen` (recorded later by
    /// [`Ctx::accept_replies`], in the transaction that uses the reply).
    fn send<C: bpki::ProtocolCms>(
        &self,
        agent: &dyn PeerTransport,
        peer: &Peer,
        message: C::Message,
        id_key: &KeyIdentifier,
        now: Time,
        seen: &mut Vec<bpki::Signed>,
    ) -> Result<C::Message> {
        let service = peer.service_uri.clone().unwrap_or_default();
        let cms = C::create(message, id_key, &self.keys).map_err(|e| {
            anchorage_ca_core::CaError::Signing(format!("{} message: {e}", C::NAME))
        })?;
        let body = exchange(
            agent,
            &service,
            C::MEDIA_TYPE,
            &cms.to_bytes(),
            self.peer_timeout,
        )?;
        let reply = C::decode(&body)
            .map_err(|e| remote(&service, format!("not an {} reply: {e}", C::NAME)))?;
        let their = decode_id(peer)?;
        reply.validate_at(their.public_key(), now).map_err(|e| {
            remote(
                &service,
                format!(
                    "reply not signed by the {}'s identity: {e}",
                    peer.kind.as_str()
                ),
            )
        })?;
        seen.push(bpki::signed(&body).map_err(|e| remote(&service, e))?);
        Ok(reply.into_message())
    }

    /// [`Ctx::send`] for RFC 6492: the reply's payload.
    fn provision(
        &self,
        agent: &dyn PeerTransport,
        peer: &Peer,
        message: ProvMessage,
        id_key: &KeyIdentifier,
        now: Time,
        seen: &mut Vec<bpki::Signed>,
    ) -> Result<Payload> {
        let reply = self.send::<ProvisioningCms>(agent, peer, message, id_key, now, seen)?;
        Ok(reply.into_payload())
    }

    /// RFC 6492 §3.4: asks the remote parent `peer` for a certificate of
    /// `key` in resource class `class`, naming the SIA `sia`; the
    /// certificate and where the parent publishes it.
    #[allow(clippy::too_many_arguments)]
    fn request_certificate(
        &self,
        peer: &Peer,
        id_key: &KeyIdentifier,
        class: rpki::ca::provisioning::ResourceClassName,
        sia: &anchorage_ca_core::objects::SubjectInfoAccess,
        key: &KeyIdentifier,
        now: Time,
        seen: &mut Vec<bpki::Signed>,
    ) -> Result<(rpki::uri::Rsync, Cert)> {
        let service = peer.service_uri.clone().unwrap_or_default();
        let csr = Csr::construct_rpki_ca(
            &*self.keys,
            key,
            &sia.ca_repository,
            &sia.manifest,
            sia.notify.as_ref(),
        )
        .map_err(signing("certificate request"))?;
        let csr = RpkiCaCsr::decode(csr.into_bytes()).map_err(signing("certificate request"))?;
        let request = IssuanceRequest::new(class, RequestResourceLimit::new(), csr);
        let agent = self.transport.clone();
        match self.provision(
            &*agent,
            peer,
            ProvMessage::issue(sender_of(peer), recipient_of(peer), request),
            id_key,
            now,
            seen,
        )? {
            Payload::IssueResponse(r) => {
                let (uri, _, cert) = r.into_issued().unpack();
                Ok((uri, cert))
            }
            Payload::ErrorResponse(e) => Err(remote(&service, format!("issue refused: {e}"))),
            other => Err(remote(
                &service,
                format!("expected an issue response, got {}", other.payload_type()),
            )),
        }
    }

    /// [`Ctx::send`] for RFC 8181: the reply.
    fn publication_query(
        &self,
        agent: &dyn PeerTransport,
        peer: &Peer,
        message: PubMessage,
        id_key: &KeyIdentifier,
        now: Time,
        seen: &mut Vec<bpki::Signed>,
    ) -> Result<Reply> {
        let reply = self.send::<PublicationCms>(agent, peer, message, id_key, now, seen)?;
        reply.as_reply().map_err(|e| {
            remote(
                peer.service_uri.as_deref().unwrap_or_default(),
                format!("not a reply: {e}"),
            )
        })
    }

    /// Checks the replies of a peer for replays and records the newest.
    pub(super) fn accept_replies(
        &self,
        tx: &Tx<'_>,
        peer: &Peer,
        seen: &[bpki::Signed],
        now: Time,
    ) -> Result<()> {
        let (mut last, mut digests) = (peer.last_signing_time, peer.last_digests.clone());
        for signed in seen {
            let (t, d) =
                bpki::check_fresh(last, &digests, signed, to_secs(now)).map_err(|why| {
                    remote(
                        peer.service_uri.as_deref().unwrap_or_default(),
                        format!("reply refused: {why}"),
                    )
                })?;
            last = Some(t);
            digests = d;
        }
        if let Some(t) = last {
            tx.set_peer_last_message(peer.kind, &peer.handle, t, &digests)?;
        }
        Ok(())
    }

    /// Takes back what `ca`'s (smaller) resources no longer cover: its
    /// ROAs outside them are withdrawn, hosted children are recertified
    /// with what remains (recursively), delegated children's certificates
    /// reissued or revoked. Refreshes the point. Returns the ROA payloads
    /// withdrawn in the whole subtree.
    fn shrink(
        &self,
        tx: &Tx<'_>,
        journal: &mut Journal<'_>,
        ca: &CaRecord,
        now: Time,
    ) -> Result<usize> {
        let issuer = self.issuer(ca)?;
        let mut point = tx.point(&ca.handle)?;
        let mut removed = 0;
        let mut asns = BTreeSet::new();
        for payload in tx.roas(&ca.handle, None)? {
            if payload.check_held(&ca.handle, &ca.resources).is_ok() {
                continue;
            }
            tx.delete_roa(&ca.handle, &payload)?;
            journal.record(
                tx,
                Event::RoaRemoved {
                    ca: ca.handle.clone(),
                    payload,
                    out_of_resources: true,
                },
            )?;
            asns.insert(payload.asn);
            removed += 1;
        }
        for asn in &asns {
            self.put_roa(tx, &mut point, ca, &issuer, *asn, now)?;
        }
        self.shrink_aspas(tx, journal, &mut point, ca, now)?;
        self.shrink_router_keys(tx, journal, &mut point, ca, now)?;
        for child_handle in tx.children(&ca.handle)? {
            let mut child = load_ca(tx, &child_handle)?;
            if ca.resources.contains(&child.resources) {
                continue;
            }
            let before = child.resources.clone();
            child.resources = child.resources.intersection(&ca.resources);
            let why = if child.resources.is_empty() {
                // Nothing left to certify: everything below goes, then its
                // certificate. `ca update` certifies it again later.
                removed += self.shrink(tx, journal, &child, now)?;
                point.withdraw(&ca::cert_file_name(&child.key), now);
                for key in tx.ca_keys(&child_handle)? {
                    point.withdraw(&ca::cert_file_name(&key.key), now);
                }
                tx.update_ca(&child)?;
                tracing::warn!(ca = %child_handle, "no resources left; certificate revoked");
                "the parent's shrank; nothing left, certificate revoked"
            } else {
                self.recertify(tx, &mut point, &mut child, &issuer, now)?;
                for mut key in tx.ca_keys(&child_handle)? {
                    self.recertify_key(tx, &mut point, &child, &mut key, &issuer, now)?;
                }
                removed += self.shrink(tx, journal, &child, now)?;
                "the parent's shrank"
            };
            journal.record(
                tx,
                Event::CaResourcesChanged {
                    ca: child_handle,
                    before,
                    after: child.resources.clone(),
                    reason: Some(why),
                },
            )?;
        }
        for delegated in tx.children_of(&ca.handle)? {
            for record in tx.child_certs(&delegated.handle)? {
                if !ca.resources.contains(&record.resources) {
                    self.renew_delegated(tx, &mut point, ca, &issuer, &record.name, now)?;
                }
            }
        }
        point.refresh(&*self.keys, &issuer, now, &self.timing)?;
        tx.save_point(&ca.handle, &point, now)?;
        Ok(removed)
    }

    /// The CAs whose points go to the remote repository: those under a
    /// remote parent, and their descendants.
    fn remotely_published(&self, tx: &Tx<'_>) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for ca in tx.cas()? {
            // Parents come before children in creation order.
            let under_remote = match &ca.parent {
                // A trust anchor key made by a rollover has a URI of its
                // own (`ta-KEYID.cer`) but no remote parent.
                None => ca.cert_uri.is_some() && ca.handle != TA_HANDLE,
                Some(p) => out.contains(p),
            };
            if under_remote {
                out.insert(ca.handle);
            }
        }
        Ok(out)
    }
}

/// POSTs one message; a reply other than 200 is the peer's refusal.
fn exchange(
    agent: &dyn PeerTransport,
    service: &str,
    media: &str,
    body: &[u8],
    timeout: std::time::Duration,
) -> Result<Vec<u8>> {
    let (status, reply) = agent
        .post(service, media, body, timeout)
        .map_err(|e| remote(service, e))?;
    if status != 200 {
        let text = String::from_utf8_lossy(&reply[..reply.len().min(500)]).to_string();
        return Err(remote(service, format!("HTTP {status}: {text}")));
    }
    Ok(reply)
}

fn decode_id(peer: &Peer) -> Result<IdCert> {
    IdCert::decode(peer.id_cert.clone()).map_err(|e| AppError::BadPeerFile {
        what: "stored identity certificate",
        why: e.to_string(),
    })
}

impl Anchorage {
    /// The RFC 8183 child request for local CA `handle`, to send to a parent.
    pub fn child_request(&mut self, handle: &str) -> Result<ChildRequest> {
        validate_handle(handle)?;
        let id = self.bpki_identity()?;
        Ok(ChildRequest::new(
            Base64::from_content(&id.to_bytes()),
            ChildHandle::new(handle.into()),
        ))
    }

    /// The RFC 8183 publisher request, to send to a repository.
    pub fn publisher_request(&mut self, handle: &str) -> Result<PublisherRequest> {
        validate_handle(handle)?;
        let id = self.bpki_identity()?;
        Ok(PublisherRequest::new(
            Base64::from_content(&id.to_bytes()),
            PublisherHandle::new(handle.into()),
            None,
        ))
    }

    /// Imports a repository response: CAs under remote parents publish there.
    pub fn add_repository(&mut self, actor: &Actor, response_xml: &[u8]) -> Result<Vec<Event>> {
        let response =
            RepositoryResponse::parse(response_xml).map_err(|e| AppError::BadPeerFile {
                what: "repository response",
                why: e.to_string(),
            })?;
        let id = response.validate().map_err(|e| AppError::BadPeerFile {
            what: "repository response's identity certificate",
            why: e.to_string(),
        })?;
        let sia = response.sia_base().to_string();
        if sia != self.ctx.layout.rsync_base {
            return Err(AppError::BadPeerFile {
                what: "repository response",
                why: format!(
                    "its SIA base {sia} is not this instance's rsync URI {}; \
                     initialise a data directory with --rsync-uri {sia} to publish there",
                    self.ctx.layout.rsync_base
                ),
            });
        }
        // RFC 8183 §5.2.4: the repository says where relying parties find
        // its RRDP notification file; certificates of the CAs published
        // there must name that file (their rpkiNotify), or RPs would look
        // for the objects in one that does not list them.
        if let Some(notify) = response.rrdp_notification_uri()
            && self.ctx.layout.notify.as_deref() != Some(notify.as_str())
        {
            return Err(AppError::BadPeerFile {
                what: "repository response",
                why: format!(
                    "its RRDP notification URI {notify} is not this instance's {}; \
                     initialise a data directory with --rrdp-uri set to the directory of {notify} \
                     (the notification file must be named notification.xml) to publish there",
                    self.ctx.layout.notify.as_deref().unwrap_or("(none)")
                ),
            });
        }
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        if tx.peer(PeerKind::Repository, REPOSITORY)?.is_some() {
            return Err(AppError::DuplicatePeer {
                kind: "repository",
                handle: REPOSITORY.into(),
            });
        }
        tx.insert_peer(&Peer {
            kind: PeerKind::Repository,
            handle: REPOSITORY.into(),
            id_cert: id.to_bytes(),
            base_uri: Some(sia.clone()),
            service_uri: Some(response.service_uri().as_str().to_string()),
            our_handle: Some(response.publisher_handle().as_str().to_string()),
            created: to_secs(now),
            ..Peer::default()
        })?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::RepositoryAdded {
                service_uri: response.service_uri().as_str().to_string(),
                sia_base: sia,
            },
        )?;
        tx.commit()?;
        let events = journal.into_events();
        self.write_tree_after_commit()?;
        // Reachable and accepting us? Say so now rather than at the next change.
        self.push_to_repository()
            .map_err(|e| AppError::NotPublished(Box::new(e)))?;
        Ok(events)
    }

    /// Imports a parent response: local CA `handle` (created by the first
    /// sync) will be certified by that parent.
    pub fn add_parent(
        &mut self,
        actor: &Actor,
        handle: &str,
        response_xml: &[u8],
    ) -> Result<Vec<Event>> {
        let response = ParentResponse::parse(response_xml).map_err(|e| AppError::BadPeerFile {
            what: "parent response",
            why: e.to_string(),
        })?;
        let id = response.validate().map_err(|e| AppError::BadPeerFile {
            what: "parent response's identity certificate",
            why: e.to_string(),
        })?;
        validate_handle(handle)?;
        if handle == TA_HANDLE {
            return Err(AppError::ReservedHandle(handle.into()));
        }
        let now = self.ctx.clock.now();
        {
            // Checked before the CA's key is made (and again below, under
            // the write lock): bad input leaves no key behind.
            let tx = self.store.read_transaction()?;
            if tx.peer(PeerKind::Parent, handle)?.is_some() {
                return Err(AppError::DuplicatePeer {
                    kind: "parent of CA",
                    handle: handle.into(),
                });
            }
            if handle_in_use(&tx, handle)? {
                return Err(AppError::DuplicateHandle(handle.into()));
            }
        }
        let key = self.ctx.keys.generate_class(anchorage_keys::KeyClass::Ca)?;
        let tx = self.store.transaction()?;
        if tx.peer(PeerKind::Parent, handle)?.is_some() || handle_in_use(&tx, handle)? {
            drop(tx);
            let _ = self.ctx.keys.destroy_key(&key);
            return Err(AppError::DuplicateHandle(handle.into()));
        }
        tx.insert_peer(&Peer {
            kind: PeerKind::Parent,
            handle: handle.into(),
            id_cert: id.to_bytes(),
            service_uri: Some(response.service_uri().as_str().to_string()),
            their_handle: Some(response.parent_handle().as_str().to_string()),
            our_handle: Some(response.child_handle().as_str().to_string()),
            key_id: Some(key.to_string()),
            created: to_secs(now),
            ..Peer::default()
        })?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::ParentAdded {
                ca: handle.into(),
                parent: response.parent_handle().to_string(),
                service_uri: response.service_uri().as_str().to_string(),
            },
        )?;
        tx.commit()?;
        Ok(journal.into_events())
    }

    /// Removes the remote parent of local CA `handle` (it dropped the CA,
    /// or the operator leaves it): the CA and everything it published go
    /// (withdrawn from the remote repository by the next push), and the
    /// tokens scoped to it are revoked. The parent revokes the CA's
    /// certificate on its side; nothing is sent to it. Refused while the
    /// CA has child CAs or delegated children.
    pub fn remove_parent(&mut self, actor: &Actor, handle: &str) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let peer = parent_peer(&tx, handle)?;
        let mut journal = Journal::new(actor, now);
        let ca = tx.ca(handle)?;
        if ca.is_some() {
            super::without_children(&tx, handle)?;
            tx.delete_ca(handle)?;
            super::revoke_tokens_of(&tx, &mut journal, handle, now)?;
        }
        tx.delete_peer(PeerKind::Parent, handle)?;
        journal.record(
            &tx,
            Event::ParentRemoved {
                ca: handle.into(),
                parent: peer.their_handle.unwrap_or_default(),
                resources: ca.map(|c| c.resources),
            },
        )?;
        tx.commit()?;
        let events = journal.into_events();
        self.write_tree_after_commit()?;
        Ok(events)
    }

    /// Removes the remote repository (it dropped this publisher, or the
    /// operator leaves it). Refused while CAs under remote parents
    /// publish there: remove those parents first.
    pub fn remove_repository(&mut self, actor: &Actor) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let peer =
            tx.peer(PeerKind::Repository, REPOSITORY)?
                .ok_or_else(|| AppError::UnknownPeer {
                    kind: "repository",
                    handle: REPOSITORY.into(),
                })?;
        let mut remote = self.ctx.remotely_published(&tx)?;
        // A parent that has not certified its CA yet will publish there too.
        remote.extend(tx.peers(PeerKind::Parent)?.into_iter().map(|p| p.handle));
        let remote: Vec<String> = remote.into_iter().collect();
        if !remote.is_empty() {
            return Err(AppError::Undeletable {
                handle: REPOSITORY.into(),
                why: format!(
                    "CAs publish there; remove their parents first (`anchorage parent remove`): {}",
                    remote.join(", ")
                ),
            });
        }
        tx.delete_peer(PeerKind::Repository, REPOSITORY)?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::RepositoryRemoved {
                service_uri: peer.service_uri.unwrap_or_default(),
            },
        )?;
        tx.commit()?;
        Ok(journal.into_events())
    }

    /// The remote repository and how the last push to it went, if there
    /// is one.
    pub fn repository(&mut self) -> Result<Option<RepositoryInfo>> {
        let tx = self.store.read_transaction()?;
        Ok(tx
            .peer(PeerKind::Repository, REPOSITORY)?
            .map(|p| RepositoryInfo {
                service_uri: p.service_uri.unwrap_or_default(),
                sia_base: p.base_uri.unwrap_or_default(),
                last_push: p.last_sync,
                last_error: p.last_error,
            }))
    }

    /// The remote parents and the state of their last sync.
    pub fn list_parents(&mut self) -> Result<Vec<ParentInfo>> {
        let tx = self.store.read_transaction()?;
        let mut out = Vec::new();
        for p in tx.peers(PeerKind::Parent)? {
            out.push(ParentInfo {
                resources: tx.ca(&p.handle)?.map(|c| c.resources.to_string()),
                ca: p.handle,
                parent: p.their_handle.unwrap_or_default(),
                service_uri: p.service_uri.unwrap_or_default(),
                last_sync: p.last_sync,
                last_error: p.last_error,
            });
        }
        Ok(out)
    }

    /// Syncs every remote parent; failures are logged and recorded.
    pub fn sync_parents(
        &mut self,
        actor: &Actor,
    ) -> Result<Vec<std::result::Result<SyncReport, String>>> {
        let handles: Vec<String> = {
            let tx = self.store.read_transaction()?;
            tx.peers(PeerKind::Parent)?
                .into_iter()
                .map(|p| p.handle)
                .collect()
        };
        let results = handles
            .iter()
            .map(|h| self.sync_parent(actor, h).map_err(|e| e.to_string()))
            .collect();
        // Also retries a push to the remote repository that failed
        // (serve's push task does that on its own).
        if self.ctx.push_inline {
            self.push_or_record();
        }
        Ok(results)
    }

    /// Syncs with the remote parent of local CA `handle` (RFC 6492 list,
    /// then issue when needed) and publishes the outcome.
    pub fn sync_parent(&mut self, actor: &Actor, handle: &str) -> Result<SyncReport> {
        let result = self.sync_parent_once(actor, handle);
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        match &result {
            Ok(_) => tx.set_peer_sync(PeerKind::Parent, handle, Some(to_secs(now)), None)?,
            Err(e) => {
                tracing::warn!(ca = %handle, error = %e, "sync with the remote parent failed");
                tx.set_peer_sync(PeerKind::Parent, handle, None, Some(&e.to_string()))?
            }
        }
        tx.commit()?;
        result
    }

    fn sync_parent_once(&mut self, actor: &Actor, handle: &str) -> Result<SyncReport> {
        let now = self.ctx.clock.now();
        let (peer, ca, id_key) = {
            let tx = self.store.transaction()?;
            let peer = parent_peer(&tx, handle)?;
            let ca = tx.ca(handle)?;
            let (id_key, _) = self.ctx.identity(&tx, now)?;
            tx.commit()?;
            (peer, ca, id_key)
        };
        let key: KeyIdentifier = match &ca {
            Some(c) => c.key,
            None => peer
                .key_id
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|_| AppError::BadPeerFile {
                    what: "stored key of the CA",
                    why: format!("{:?}", peer.key_id),
                })?,
        };
        let agent = self.ctx.transport.clone();
        let service = peer.service_uri.clone().unwrap_or_default();
        let mut seen = Vec::new();

        // RFC 6492 §3.3: what may this CA hold, and what does it hold?
        let list = self.ctx.provision(
            &*agent,
            &peer,
            ProvMessage::list(sender_of(&peer), recipient_of(&peer)),
            &id_key,
            now,
            &mut seen,
        )?;
        let classes = match list {
            Payload::ListResponse(l) => l.classes().clone(),
            Payload::ErrorResponse(e) => {
                return Err(remote(&service, format!("list refused: {e}")));
            }
            other => {
                return Err(remote(
                    &service,
                    format!("expected a list response, got {}", other.payload_type()),
                ));
            }
        };
        if classes.len() > 1 {
            tracing::warn!(ca = %handle, classes = classes.len(), "only the first resource class is used");
        }
        let entitled = classes
            .first()
            .map(|c| ResourceSet::from_rpki(c.resource_set()))
            .unwrap_or_default();
        let Some(class) = classes.first().filter(|_| !entitled.is_empty()) else {
            // Nothing to hold any more: take everything back here.
            return self.lose_everything(actor, handle, &peer, &seen, ca, now);
        };
        let sia = self.ctx.layout.sia(handle, &key)?;
        let held = class
            .issued_certs()
            .iter()
            .find(|c| c.cert().subject_public_key_info().key_identifier() == key);
        let current = match held {
            Some(c) => {
                let res = cert_resources(c.cert())?;
                // Renew ahead of expiry: four weeks, or half the lifetime
                // of a short-lived certificate (never on every sync).
                let validity = c.cert().validity();
                let lifetime = time_diff(validity.not_after(), validity.not_before());
                let ahead = self.ctx.timing.object_reissue_before.min(lifetime / 2);
                let fresh = time_diff(validity.not_after(), now) > ahead;
                let same_sia = c.cert().ca_repository() == Some(&sia.ca_repository)
                    && c.cert().rpki_manifest() == Some(&sia.manifest)
                    && c.cert().rpki_notify() == sia.notify.as_ref();
                // A parent may certify less than it lists; asking again
                // for the same entitlement would not change that.
                let asked = res == entitled || peer.resources.as_ref() == Some(&entitled);
                (asked && fresh && same_sia).then(|| (c.uri().clone(), c.cert().clone()))
            }
            None => None,
        };
        let (uri, cert) = match current {
            Some(c) => c,
            None => {
                // RFC 6492 §3.4: ask for a certificate of our key.
                self.ctx.request_certificate(
                    &peer,
                    &id_key,
                    class.class_name().clone(),
                    &sia,
                    &key,
                    now,
                    &mut seen,
                )?
            }
        };
        if cert.subject_public_key_info().key_identifier() != key {
            return Err(remote(&service, "the certificate is not for this CA's key"));
        }
        let resources = cert_resources(&cert)?;
        let bytes = cert.to_captured().into_bytes();

        let tx = self.store.transaction()?;
        self.ctx.accept_replies(&tx, &peer, &seen, now)?;
        tx.set_peer_resources(PeerKind::Parent, handle, &entitled)?;
        let mut report = SyncReport {
            ca: handle.into(),
            resources: resources.to_string(),
            ..SyncReport::default()
        };
        let mut journal = Journal::new(actor, now);
        match tx.ca(handle)? {
            None => {
                let record = CaRecord {
                    handle: handle.into(),
                    parent: None,
                    resources: resources.clone(),
                    key,
                    cert: bytes,
                    cert_serial: cert.serial_number(),
                    cert_not_after: cert.validity().not_after(),
                    cert_uri: Some(uri.to_string()),
                };
                tx.insert_ca(&record, now)?;
                let mut point = PublicationPoint::new();
                point.refresh(
                    &*self.ctx.keys,
                    &self.ctx.issuer(&record)?,
                    now,
                    &self.ctx.timing,
                )?;
                tx.save_point(handle, &point, now)?;
                journal.record(
                    &tx,
                    Event::ParentCertified {
                        ca: handle.into(),
                        parent: peer.their_handle.clone().unwrap_or_default(),
                        uri: uri.to_string(),
                        resources: resources.clone(),
                    },
                )?;
                report.certified = true;
            }
            Some(mut record) if record.cert != bytes => {
                let before = record.resources.clone();
                record.resources = resources.clone();
                record.cert = bytes;
                record.cert_serial = cert.serial_number();
                record.cert_not_after = cert.validity().not_after();
                record.cert_uri = Some(uri.to_string());
                tx.update_ca(&record)?;
                // Everything the CA signed stays valid under the new
                // certificate if it is within the new resources; the rest goes.
                report.roas_withdrawn = self.ctx.shrink(&tx, &mut journal, &record, now)?;
                journal.record(
                    &tx,
                    Event::ParentRecertified {
                        ca: handle.into(),
                        uri: uri.to_string(),
                        before,
                        after: resources.clone(),
                    },
                )?;
                report.certified = true;
            }
            Some(_) => {}
        }
        tx.commit()?;
        report.events = journal.into_events();
        if report.certified {
            self.write_tree_after_commit()?;
        }
        Ok(report)
    }

    /// RFC 6492 list, then issue, for `key` of local CA `handle` (a key
    /// rollover's new key): the certificate and where the parent
    /// publishes it. No lock is held; the caller commits the replies
    /// ([`Ctx::accept_replies`]) with what it does with the certificate.
    pub(super) fn remote_issue(
        &mut self,
        handle: &str,
        key: &KeyIdentifier,
        now: Time,
    ) -> Result<RemoteReply<(rpki::uri::Rsync, Cert)>> {
        let (peer, id_key) = self.remote_parent(handle, now)?;
        let service = peer.service_uri.clone().unwrap_or_default();
        let mut seen = Vec::new();
        let class = self.remote_class(&peer, &id_key, now, &mut seen)?;
        let sia = self.ctx.layout.sia(handle, key)?;
        let (uri, cert) = self
            .ctx
            .request_certificate(&peer, &id_key, class, &sia, key, now, &mut seen)?;
        if cert.subject_public_key_info().key_identifier() != *key {
            return Err(remote(&service, "the certificate is not for the new key"));
        }
        Ok(RemoteReply {
            peer,
            seen,
            value: (uri, cert),
        })
    }

    /// RFC 6492 list, then revoke, for `key` of local CA `handle` (a key
    /// rollover's old key). A parent that no longer knows the key
    /// (RFC 6492 error 1302) has nothing left to revoke: that is success.
    pub(super) fn remote_revoke(
        &mut self,
        handle: &str,
        key: &KeyIdentifier,
        now: Time,
    ) -> Result<RemoteReply<()>> {
        let (peer, id_key) = self.remote_parent(handle, now)?;
        let service = peer.service_uri.clone().unwrap_or_default();
        let mut seen = Vec::new();
        let class = self.remote_class(&peer, &id_key, now, &mut seen)?;
        let agent = self.ctx.transport.clone();
        match self.ctx.provision(
            &*agent,
            &peer,
            ProvMessage::revoke(
                sender_of(&peer),
                recipient_of(&peer),
                rpki::ca::provisioning::RevocationRequest::new(class, *key),
            ),
            &id_key,
            now,
            &mut seen,
        )? {
            Payload::RevokeResponse(_) => {}
            Payload::ErrorResponse(e) if e.status() == 1302 => {}
            Payload::ErrorResponse(e) => {
                return Err(remote(&service, format!("revoke refused: {e}")));
            }
            other => {
                return Err(remote(
                    &service,
                    format!("expected a revoke response, got {}", other.payload_type()),
                ));
            }
        }
        Ok(RemoteReply {
            peer,
            seen,
            value: (),
        })
    }

    /// The remote parent of `handle` and this instance's identity key.
    fn remote_parent(&mut self, handle: &str, now: Time) -> Result<(Peer, KeyIdentifier)> {
        let tx = self.store.transaction()?;
        let peer = parent_peer(&tx, handle)?;
        let (id_key, _) = self.ctx.identity(&tx, now)?;
        tx.commit()?;
        Ok((peer, id_key))
    }

    /// The name of the resource class the remote parent certifies us in
    /// (RFC 6492 list; the first class, as [`Self::sync_parent`] uses).
    fn remote_class(
        &self,
        peer: &Peer,
        id_key: &KeyIdentifier,
        now: Time,
        seen: &mut Vec<bpki::Signed>,
    ) -> Result<rpki::ca::provisioning::ResourceClassName> {
        let service = peer.service_uri.clone().unwrap_or_default();
        let agent = self.ctx.transport.clone();
        match self.ctx.provision(
            &*agent,
            peer,
            ProvMessage::list(sender_of(peer), recipient_of(peer)),
            id_key,
            now,
            seen,
        )? {
            Payload::ListResponse(l) => l
                .classes()
                .first()
                .map(|c| c.class_name().clone())
                .ok_or_else(|| remote(&service, "the parent lists no resource class for us")),
            Payload::ErrorResponse(e) => Err(remote(&service, format!("list refused: {e}"))),
            other => Err(remote(
                &service,
                format!("expected a list response, got {}", other.payload_type()),
            )),
        }
    }

    /// The parent lists nothing for this CA any more: its ROAs, child
    /// CAs and delegated children's certificates are taken back (the
    /// parent revokes the CA's own certificate).
    fn lose_everything(
        &mut self,
        actor: &Actor,
        handle: &str,
        peer: &Peer,
        seen: &[bpki::Signed],
        ca: Option<CaRecord>,
        now: Time,
    ) -> Result<SyncReport> {
        let tx = self.store.transaction()?;
        self.ctx.accept_replies(&tx, peer, seen, now)?;
        tx.set_peer_resources(PeerKind::Parent, handle, &ResourceSet::default())?;
        let mut report = SyncReport {
            ca: handle.into(),
            ..SyncReport::default()
        };
        let mut journal = Journal::new(actor, now);
        if let Some(mut record) = ca.filter(|c| !c.resources.is_empty()) {
            let before = record.resources.clone();
            record.resources = ResourceSet::default();
            tx.update_ca(&record)?;
            report.roas_withdrawn = self.ctx.shrink(&tx, &mut journal, &record, now)?;
            journal.record(
                &tx,
                Event::ParentWithdrew {
                    ca: handle.into(),
                    before,
                },
            )?;
            report.certified = true;
        }
        tx.commit()?;
        report.events = journal.into_events();
        if report.certified {
            self.write_tree_after_commit()?;
        }
        Ok(report)
    }

    /// [`Self::push_to_repository`], with a failure logged and recorded
    /// on the repository (see `anchorage parent list`) instead of returned.
    pub(super) fn push_or_record(&mut self) -> bool {
        let Err(e) = self.push_to_repository() else {
            return true;
        };
        tracing::warn!(error = %e, "publishing at the remote repository failed; retried with the next publication");
        if let Ok(tx) = self.store.transaction() {
            let recorded = tx
                .set_peer_sync(PeerKind::Repository, REPOSITORY, None, Some(&e.to_string()))
                .and_then(|_| tx.commit());
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "could not record the failure");
            }
        }
        false
    }

    /// Brings the remote repository in line with the points of the CAs
    /// under remote parents: one RFC 8181 list, then one delta. Does
    /// nothing without a remote repository.
    pub(super) fn push_to_repository(&mut self) -> Result<()> {
        let now = self.ctx.clock.now();
        let durability = self.store.durability()?;
        let (peer, id_key, desired, generation) = {
            let tx = self.store.read_transaction()?;
            // What this push publishes, as an audit generation, if its
            // snapshot owes no manifest (a key rollover's old key is
            // revoked at its parent only once a push has reached it).
            let generation = if tx.pending_points()?.is_empty() {
                Some(tx.audit_generation()?)
            } else {
                None
            };
            let Some(peer) = tx.peer(PeerKind::Repository, REPOSITORY)? else {
                return Ok(());
            };
            let Some(id_key) = tx
                .meta("bpki_key")?
                .and_then(|k| k.parse::<KeyIdentifier>().ok())
            else {
                return Ok(());
            };
            let handles = self.ctx.remotely_published(&tx)?;
            let base = &self.ctx.layout.rsync_base;
            let mut desired: BTreeMap<String, Bytes> = tx
                .files()?
                .into_iter()
                .filter(|f| handles.contains(&f.dir))
                .map(|f| (format!("{base}{}/{}", f.dir, f.name), f.bytes))
                .collect();
            // Our own publishers publish under our base, which is the
            // remote repository's: their objects go there too.
            for (uri, bytes, _, _) in tx.all_publisher_objects()? {
                desired.insert(uri, bytes);
            }
            (peer, id_key, desired, generation)
        };
        // What is sent was read from commits that are durable (see
        // `Store::durability`).
        durability.wait()?;
        let service = peer.service_uri.clone().unwrap_or_default();
        let agent = self.ctx.transport.clone();
        let mut seen = Vec::new();
        let listed = match self.ctx.publication_query(
            &*agent,
            &peer,
            PubMessage::list_query(),
            &id_key,
            now,
            &mut seen,
        )? {
            Reply::List(l) => l,
            Reply::ErrorReply(e) => return Err(remote(&service, format!("list refused: {e}"))),
            Reply::Success => return Err(remote(&service, "expected a list reply")),
        };
        let current: BTreeMap<String, Hash> = listed
            .elements()
            .iter()
            .map(|e| (e.uri().to_string(), *e.hash()))
            .collect();
        let mut delta = PublishDelta::empty();
        for (uri, bytes) in &desired {
            let rsync = anchorage_ca_core::objects::rsync_uri(uri)?;
            match current.get(uri) {
                None => delta.add_publish(Publish::new(None, rsync, Base64::from_content(bytes))),
                Some(hash) if !hash.matches(bytes) => {
                    delta.add_update(Update::new(None, rsync, Base64::from_content(bytes), *hash))
                }
                Some(_) => {}
            }
        }
        for (uri, hash) in &current {
            if !desired.contains_key(uri) {
                delta.add_withdraw(Withdraw::new(
                    None,
                    anchorage_ca_core::objects::rsync_uri(uri)?,
                    *hash,
                ));
            }
        }
        let changes = delta.len();
        if changes > 0 {
            // A deposed leader's push, read from an older state, must not
            // land after the new leader's.
            self.store.check_fence()?;
            match self.ctx.publication_query(
                &*agent,
                &peer,
                PubMessage::delta(delta),
                &id_key,
                now,
                &mut seen,
            )? {
                Reply::Success => {}
                Reply::ErrorReply(e) => {
                    return Err(remote(&service, format!("delta refused: {e}")));
                }
                Reply::List(_) => return Err(remote(&service, "expected success")),
            }
        }
        let tx = self.store.transaction()?;
        self.ctx.accept_replies(&tx, &peer, &seen, now)?;
        tx.set_peer_sync(PeerKind::Repository, REPOSITORY, Some(to_secs(now)), None)?;
        if let Some(generation) = generation {
            tx.set_meta("pushed_generation", &generation.to_string())?;
        }
        tx.commit()?;
        tracing::debug!(
            changes,
            objects = desired.len(),
            "published at the remote repository"
        );
        Ok(())
    }
}
