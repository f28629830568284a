//! The RFC 8181 publication server: publishers that run their own CA
//! (a delegated child, or another Anchorage) publish their objects into
//! this instance's repository, next to the hosted CAs' points, served by
//! the same rsync daemon and RRDP.
//!
//! Each publisher owns the directory `RSYNC_BASE/HANDLE/` (CA handles
//! and publisher handles share that namespace) and may publish nowhere
//! else.

use std::collections::BTreeMap;

use bytes::Bytes;
use rpki::ca::idexchange::{PublisherHandle, PublisherRequest, RepositoryResponse, ServiceUri};
use rpki::ca::publication::{
    Base64, ErrorReply, ListElement, ListReply, Message, PublicationCms, PublishDeltaElement,
    Query, ReportError, ReportErrorCode,
};
use rpki::rrdp::Hash;

use super::delegation::{Received, Refusal, receive};
use super::*;
use anchorage_store::{Peer, PeerKind};

/// A publisher as listed by `anchorage publisher list`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PublisherInfo {
    /// The publisher's handle.
    pub handle: String,
    /// The rsync URI it publishes under.
    pub base_uri: String,
    /// How many objects it has published.
    pub objects: usize,
}

/// How many objects one publisher may keep in the repository.
pub const MAX_PUBLISHER_OBJECTS: usize = 100_000;
/// How many bytes one publisher may keep in the repository (1 GiB).
pub const MAX_PUBLISHER_BYTES: usize = 1 << 30;

/// Longest path below a publisher's base and deepest nesting accepted.
const MAX_PATH: usize = 512;
const MAX_DEPTH: usize = 8;

/// Whether `uri` lies inside `base` as a plain relative path: no `..`,
/// no `.`, no empty or hidden component, only characters a repository
/// file name needs.
pub fn within_base(base: &str, uri: &str) -> bool {
    let Some(rel) = uri.strip_prefix(base) else {
        return false;
    };
    if rel.is_empty() || rel.len() > MAX_PATH || rel.ends_with('/') {
        return false;
    }
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() <= MAX_DEPTH
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
}

impl Ctx {
    /// Signs an RFC 8181 reply with the BPKI identity.
    fn sign_publication(&self, tx: &Tx<'_>, message: Message, now: Time) -> Result<Bytes> {
        let (key, _) = self.identity(tx, now)?;
        let cms = PublicationCms::create(message, &key, &*self.keys)
            .map_err(|e| anchorage_ca_core::CaError::Signing(format!("RFC 8181 reply: {e:?}")))?;
        Ok(cms.to_bytes())
    }
}

impl Anchorage {
    /// Imports an RFC 8183 publisher request and returns the repository
    /// response: where the publisher publishes and how.
    pub fn add_publisher(
        &mut self,
        actor: &Actor,
        request_xml: &[u8],
        service_base: Option<&str>,
    ) -> Result<(RepositoryResponse, Vec<Event>)> {
        let request = PublisherRequest::parse(request_xml).map_err(|e| AppError::BadPeerFile {
            what: "publisher request",
            why: e.to_string(),
        })?;
        let id_cert = request.validate().map_err(|e| AppError::BadPeerFile {
            what: "publisher request's identity certificate",
            why: e.to_string(),
        })?;
        let handle = request.publisher_handle().as_str().to_string();
        validate_handle(&handle)?;
        if handle == TA_HANDLE {
            return Err(AppError::ReservedHandle(handle));
        }
        let base = service_base
            .map(str::to_string)
            .unwrap_or_else(|| self.service_base());
        let service = format!("{}/rfc8181/{handle}", base.trim_end_matches('/'));
        let service_uri: ServiceUri = service.parse().map_err(|e| AppError::BadPeerFile {
            what: "service URI",
            why: format!("{service}: {e}"),
        })?;
        let sia_base = format!("{}{handle}/", self.ctx.layout.rsync_base);
        let notify = self.ctx.layout.notify.clone();
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        // One directory per handle: a publisher must not take a CA's.
        if tx.peer(PeerKind::Publisher, &handle)?.is_some() {
            return Err(AppError::DuplicatePeer {
                kind: "publisher",
                handle,
            });
        }
        if handle_in_use(&tx, &handle)? {
            return Err(AppError::DuplicateHandle(handle));
        }
        let (_, ours) = self.ctx.identity(&tx, now)?;
        tx.insert_peer(&Peer {
            kind: PeerKind::Publisher,
            handle: handle.clone(),
            parent: None,
            id_cert: id_cert.to_bytes(),
            resources: None,
            base_uri: Some(sia_base.clone()),
            last_signing_time: None,
            last_digests: Vec::new(),
            created: to_secs(now),
            ..Peer::default()
        })?;
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::PublisherAdded {
                publisher: handle.clone(),
                sia_base: sia_base.clone(),
            },
        )?;
        tx.commit()?;
        let response = RepositoryResponse::new(
            Base64::from_content(&ours.to_bytes()),
            PublisherHandle::new(handle.as_str().into()),
            service_uri,
            anchorage_ca_core::objects::rsync_uri(&sia_base)?,
            notify
                .as_deref()
                .map(anchorage_ca_core::objects::https_uri)
                .transpose()?,
            request.tag().cloned(),
        );
        Ok((response, journal.into_events()))
    }

    /// The publishers and how much each has published.
    pub fn list_publishers(&mut self) -> Result<Vec<PublisherInfo>> {
        let tx = self.store.read_transaction()?;
        let mut out = Vec::new();
        for p in tx.peers(PeerKind::Publisher)? {
            out.push(PublisherInfo {
                objects: tx.publisher_objects(&p.handle)?.len(),
                handle: p.handle,
                base_uri: p.base_uri.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Removes a publisher and withdraws everything it published.
    pub fn remove_publisher(&mut self, actor: &Actor, handle: &str) -> Result<Vec<Event>> {
        let now = self.ctx.clock.now();
        let tx = self.store.transaction()?;
        let objects = tx.publisher_objects(handle)?.len();
        if !tx.delete_peer(PeerKind::Publisher, handle)? {
            return Err(AppError::UnknownPeer {
                kind: "publisher",
                handle: handle.into(),
            });
        }
        let mut journal = Journal::new(actor, now);
        journal.record(
            &tx,
            Event::PublisherRemoved {
                publisher: handle.into(),
                objects,
            },
        )?;
        tx.commit()?;
        self.write_tree_after_commit()?;
        Ok(journal.into_events())
    }

    /// Answers one RFC 8181 message from `publisher`: the signed reply,
    /// or why none is made. The audit log names the publisher as the
    /// actor (its CMS signature authenticated it).
    pub fn rfc8181(&mut self, publisher: &str, body: &[u8]) -> std::result::Result<Bytes, Refusal> {
        let now = self.ctx.clock.now();
        let Received {
            tx,
            peer,
            cms,
            fresh: (last, digests),
        } = receive::<PublicationCms>(
            &mut self.store,
            PeerKind::Publisher,
            publisher,
            |_| true,
            || Refusal::NotFound(format!("no publisher '{publisher}'")),
            body,
            now,
        )?;
        let query = cms
            .into_message()
            .as_query()
            .map_err(|e| Refusal::BadMessage(format!("not an RFC 8181 query: {e}")))?;
        let actor = Actor::publisher(publisher);
        let mut journal = Journal::new(&actor, now);
        let base = peer.base_uri.clone().unwrap_or_default();
        let current: BTreeMap<String, Bytes> =
            tx.publisher_objects(publisher)?.into_iter().collect();
        let mut changed = false;
        let reply = match query {
            Query::List => Message::list_reply(ListReply::new(
                current
                    .iter()
                    .filter_map(|(uri, bytes)| {
                        let uri = uri.parse().ok()?;
                        Some(ListElement::new(uri, Hash::from_data(bytes)))
                    })
                    .collect(),
            )),
            Query::Delta(delta) => {
                // RFC 8181 §2.4: all or nothing. Check every element
                // against the state as the earlier ones leave it.
                let mut state: BTreeMap<String, Option<Bytes>> = BTreeMap::new();
                let mut errors = ErrorReply::empty();
                for element in delta.into_elements() {
                    let (uri, expected, content) = match element {
                        PublishDeltaElement::Publish(p) => {
                            let (_, uri, content) = p.unpack();
                            (uri.to_string(), None, Some(content))
                        }
                        PublishDeltaElement::Update(u) => {
                            let (_, uri, content, hash) = u.unpack();
                            (uri.to_string(), Some(hash), Some(content))
                        }
                        PublishDeltaElement::Withdraw(w) => {
                            let (_, uri, hash) = w.unpack();
                            (uri.to_string(), Some(hash), None)
                        }
                    };
                    if !within_base(&base, &uri) {
                        tracing::warn!(publisher, %uri, %base, "RFC 8181: publish outside the publisher's base refused");
                        errors
                            .add_error(ReportError::with_code(ReportErrorCode::PermissionFailure));
                        continue;
                    }
                    let now_there = match state.get(&uri) {
                        Some(s) => s.clone(),
                        None => current.get(&uri).cloned(),
                    };
                    let code = match (&expected, &now_there) {
                        (None, Some(_)) => Some(ReportErrorCode::ObjectAlreadyPresent),
                        (Some(_), None) => Some(ReportErrorCode::NoObjectPresent),
                        (Some(h), Some(b)) if !h.matches(b) => {
                            Some(ReportErrorCode::NoObjectMatchingHash)
                        }
                        _ => None,
                    };
                    if let Some(code) = code {
                        errors.add_error(ReportError::with_code(code));
                        continue;
                    }
                    state.insert(uri, content.map(|c| c.to_bytes()));
                }
                if errors.errors().is_empty() && !tree_consistent(&current, &state) {
                    // A file where another object needs a directory.
                    errors.add_error(ReportError::with_code(ReportErrorCode::ConsistencyProblem));
                }
                if errors.errors().is_empty() {
                    let (objects, bytes) = usage_after(&current, &state);
                    if objects > MAX_PUBLISHER_OBJECTS || bytes > MAX_PUBLISHER_BYTES {
                        tracing::warn!(
                            publisher,
                            objects,
                            bytes,
                            "RFC 8181: publisher quota exceeded"
                        );
                        errors.add_error(ReportError::with_code(ReportErrorCode::OtherError));
                    }
                }
                if errors.errors().is_empty() {
                    for (uri, content) in &state {
                        match content {
                            Some(bytes) => tx.put_publisher_object(publisher, uri, bytes, now)?,
                            None => {
                                tx.delete_publisher_object(publisher, uri)?;
                            }
                        }
                    }
                    changed = !state.is_empty();
                    if changed {
                        journal.record(
                            &tx,
                            Event::PublisherDelta {
                                publisher: publisher.into(),
                                published: state.values().filter(|c| c.is_some()).count(),
                                withdrawn: state.values().filter(|c| c.is_none()).count(),
                            },
                        )?;
                    }
                    Message::success()
                } else {
                    Message::error(errors)
                }
            }
        };
        tx.set_peer_last_message(PeerKind::Publisher, publisher, last, &digests)?;
        let bytes = self.ctx.sign_publication(&tx, reply, now)?;
        tx.commit()?;
        journal.into_events();
        if changed {
            // Committed: the publisher gets its answer; a failed
            // publication is retried by the next one (or `anchorage publish`).
            if let Err(e) = self.write_tree() {
                tracing::error!(error = %e, "RFC 8181 change committed, publication failed");
            }
        }
        Ok(bytes)
    }
}

/// How many objects and bytes the publisher holds after `changes`.
fn usage_after(
    current: &BTreeMap<String, Bytes>,
    changes: &BTreeMap<String, Option<Bytes>>,
) -> (usize, usize) {
    let (mut objects, mut bytes) = (
        current.len(),
        current.values().map(Bytes::len).sum::<usize>(),
    );
    for (uri, content) in changes {
        if let Some(old) = current.get(uri) {
            objects -= 1;
            bytes -= old.len();
        }
        if let Some(new) = content {
            objects += 1;
            bytes += new.len();
        }
    }
    (objects, bytes)
}

/// Whether the publisher's objects after applying `changes` still form
/// a tree: no object's URI is a directory of another's.
fn tree_consistent(
    current: &BTreeMap<String, Bytes>,
    changes: &BTreeMap<String, Option<Bytes>>,
) -> bool {
    let mut uris: std::collections::BTreeSet<&str> = current.keys().map(String::as_str).collect();
    for (uri, content) in changes {
        if content.is_some() {
            uris.insert(uri);
        } else {
            uris.remove(uri.as_str());
        }
    }
    uris.iter().all(|uri| {
        uri.match_indices('/')
            .skip(3) // rsync://host/module/
            .all(|(i, _)| !uris.contains(&uri[..i]))
    })
}

#[cfg(test)]
mod tests {
    use super::{tree_consistent, usage_after, within_base};
    use bytes::Bytes;
    use std::collections::BTreeMap;

    #[test]
    fn usage_counts_what_stays() {
        let current: BTreeMap<String, Bytes> = [
            ("a".to_string(), Bytes::from_static(b"123")),
            ("b".to_string(), Bytes::from_static(b"45")),
        ]
        .into();
        let changes: BTreeMap<String, Option<Bytes>> = [
            ("a".to_string(), Some(Bytes::from_static(b"1"))),
            ("b".to_string(), None),
            ("c".to_string(), Some(Bytes::from_static(b"6789"))),
        ]
        .into();
        assert_eq!(usage_after(&current, &changes), (2, 5));
    }

    #[test]
    fn a_file_cannot_be_a_directory() {
        let current: BTreeMap<String, Bytes> =
            [("rsync://h/repo/nir/a".to_string(), Bytes::new())].into();
        let add = |u: &str| -> BTreeMap<String, Option<Bytes>> {
            [(u.to_string(), Some(Bytes::new()))].into()
        };
        assert!(!tree_consistent(
            &current,
            &add("rsync://h/repo/nir/a/b.cer")
        ));
        assert!(tree_consistent(
            &current,
            &add("rsync://h/repo/nir/ab/b.cer")
        ));
        let swap: BTreeMap<String, Option<Bytes>> = [
            ("rsync://h/repo/nir/a".to_string(), None),
            ("rsync://h/repo/nir/a/b.cer".to_string(), Some(Bytes::new())),
        ]
        .into();
        assert!(tree_consistent(&current, &swap));
    }

    #[test]
    fn publishers_stay_inside_their_base() {
        let base = "rsync://h/repo/nir/";
        assert!(within_base(base, "rsync://h/repo/nir/a.cer"));
        assert!(within_base(base, "rsync://h/repo/nir/lir/AS1.roa"));
        for bad in [
            "rsync://h/repo/nir/",
            "rsync://h/repo/nir/../online/x.cer",
            "rsync://h/repo/nir/./x.cer",
            "rsync://h/repo/nir//x.cer",
            "rsync://h/repo/nir/.hidden",
            "rsync://h/repo/nir/dir/",
            "rsync://h/repo/nirvana/x.cer",
            "rsync://h/repo/other/x.cer",
            "rsync://h/repo/nir/a b.cer",
            "rsync://h/repo/nir/%2e%2e/x.cer",
            "rsync://h/repo/nir/a/b/c/d/e/f/g/h/i.cer",
        ] {
            assert!(!within_base(base, bad), "{bad} accepted");
        }
    }
}
