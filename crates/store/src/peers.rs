//! RFC 8183 peers: delegated child CAs (RFC 6492) and publishers
//! (RFC 8181), with what was issued to and published by them.

use crate::sql::{Row, args};
use anchorage_ca_core::ResourceSet;
use bytes::Bytes;
use rpki::repository::x509::Time;

use crate::{Result, Tx, parse_resources, to_secs};

/// Which protocol a peer speaks with us.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PeerKind {
    /// A delegated child CA, provisioned over RFC 6492.
    #[default]
    Child,
    /// A publisher of the RFC 8181 publication server.
    Publisher,
    /// A remote parent of a local CA (RFC 6492, this instance as child).
    Parent,
    /// The remote RFC 8181 repository this instance publishes at.
    Repository,
}

impl PeerKind {
    /// The name of the kind, as stored and shown: "child", "publisher", ...
    pub fn as_str(self) -> &'static str {
        match self {
            PeerKind::Child => "child",
            PeerKind::Publisher => "publisher",
            PeerKind::Parent => "parent",
            PeerKind::Repository => "repository",
        }
    }
}

/// A peer as stored.
#[derive(Clone, Debug, Default)]
pub struct Peer {
    /// Child or publisher.
    pub kind: PeerKind,
    /// The peer's handle, as in its RFC 8183 request.
    pub handle: String,
    /// The local CA that issues to a child.
    pub parent: Option<String>,
    /// The peer's BPKI identity certificate (DER).
    pub id_cert: Bytes,
    /// The resources a child is entitled to.
    pub resources: Option<ResourceSet>,
    /// The rsync URI a publisher may publish under (or, for a remote
    /// repository, where this instance publishes), ending in `/`.
    pub base_uri: Option<String>,
    /// The remote peer's RFC 6492 or RFC 8181 service URI.
    pub service_uri: Option<String>,
    /// The remote peer's handle (a parent's).
    pub their_handle: Option<String>,
    /// What the remote peer calls us (our child or publisher handle).
    pub our_handle: Option<String>,
    /// The key a CA under a remote parent asks to be certified (hex SKI).
    pub key_id: Option<String>,
    /// When the last exchange with a remote peer succeeded.
    pub last_sync: Option<i64>,
    /// Why the last exchange with a remote peer failed, if it did.
    pub last_error: Option<String>,
    /// The signing-time of the newest message accepted from the peer.
    pub last_signing_time: Option<i64>,
    /// Hex SHA-256 digests of the messages accepted at that signing-time.
    pub last_digests: Vec<String>,
    /// When the peer was added.
    pub created: i64,
}

/// A certificate issued to a delegated child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildCert {
    /// The subject key identifier of the child's key (hex).
    pub ski: String,
    /// The file name in the parent's publication point.
    pub name: String,
    /// The resources certified.
    pub resources: ResourceSet,
    /// The child's request limit, as JSON of the `rpki` crate's type.
    pub req_limit: String,
}

const PEER_COLUMNS: &str = "kind, handle, parent, id_cert, resources, base_uri, \
     last_signing_time, last_digests, created, service_uri, their_handle, our_handle, key_id, \
     last_sync, last_error";

fn peer_from_row(r: &mut Row) -> Result<Peer> {
    let kind: String = r.get(0)?;
    let digests: String = r.get(7)?;
    let resources: Option<String> = r.get(4)?;
    finish((
        Peer {
            kind: match kind.as_str() {
                "child" => PeerKind::Child,
                "parent" => PeerKind::Parent,
                "repository" => PeerKind::Repository,
                _ => PeerKind::Publisher,
            },
            handle: r.get(1)?,
            parent: r.get(2)?,
            id_cert: Bytes::from(r.get::<Vec<u8>>(3)?),
            resources: None,
            base_uri: r.get(5)?,
            last_signing_time: r.get(6)?,
            last_digests: digests
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            created: r.get(8)?,
            service_uri: r.get(9)?,
            their_handle: r.get(10)?,
            our_handle: r.get(11)?,
            key_id: r.get(12)?,
            last_sync: r.get(13)?,
            last_error: r.get(14)?,
        },
        resources,
    ))
}

fn finish(row: (Peer, Option<String>)) -> Result<Peer> {
    let (mut peer, resources) = row;
    peer.resources = resources
        .map(|r| parse_resources("peer resources", &r))
        .transpose()?;
    Ok(peer)
}

/// A publisher's object as stored: URI, bytes, mtime (seconds) and SHA-256.
pub type PublisherObject = (String, Bytes, i64, [u8; 32]);

impl Tx<'_> {
    /// Adds a peer; fails if one of that kind and handle exists.
    pub fn insert_peer(&self, peer: &Peer) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO peers ({PEER_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ),
            args![
                peer.kind.as_str(),
                peer.handle,
                peer.parent,
                peer.id_cert.as_ref(),
                peer.resources.as_ref().map(|r| r.to_string()),
                peer.base_uri,
                peer.last_signing_time,
                peer.last_digests.join(","),
                peer.created,
                peer.service_uri,
                peer.their_handle,
                peer.our_handle,
                peer.key_id,
                peer.last_sync,
                peer.last_error
            ],
        )?;
        Ok(())
    }

    /// The peer of this kind and handle.
    pub fn peer(&self, kind: PeerKind, handle: &str) -> Result<Option<Peer>> {
        self.opt_row(
            &format!("SELECT {PEER_COLUMNS} FROM peers WHERE kind = ?1 AND handle = ?2"),
            args![kind.as_str(), handle],
            peer_from_row,
        )
    }

    /// Every peer of this kind, by handle.
    pub fn peers(&self, kind: PeerKind) -> Result<Vec<Peer>> {
        self.rows(
            &format!("SELECT {PEER_COLUMNS} FROM peers WHERE kind = ?1 ORDER BY handle"),
            args![kind.as_str()],
            peer_from_row,
        )
    }

    /// The delegated children of a local CA.
    pub fn children_of(&self, parent: &str) -> Result<Vec<Peer>> {
        Ok(self
            .peers(PeerKind::Child)?
            .into_iter()
            .filter(|p| p.parent.as_deref() == Some(parent))
            .collect())
    }

    /// Records a peer's resources: a child's entitlement, or the
    /// entitlement a remote parent last certified us for.
    pub fn set_peer_resources(
        &self,
        kind: PeerKind,
        handle: &str,
        resources: &ResourceSet,
    ) -> Result<()> {
        self.exec(
            "UPDATE peers SET resources = ?3 WHERE kind = ?1 AND handle = ?2",
            args![kind.as_str(), handle, resources.to_string()],
        )?;
        Ok(())
    }

    /// Records the signing-time and digests of the newest messages
    /// accepted from a peer (replay protection).
    pub fn set_peer_last_message(
        &self,
        kind: PeerKind,
        handle: &str,
        signing_time: i64,
        digests: &[String],
    ) -> Result<()> {
        self.exec(
            "UPDATE peers SET last_signing_time = ?3, last_digests = ?4 \
             WHERE kind = ?1 AND handle = ?2",
            args![kind.as_str(), handle, signing_time, digests.join(",")],
        )?;
        Ok(())
    }

    /// Records the outcome of an exchange with a remote peer.
    pub fn set_peer_sync(
        &self,
        kind: PeerKind,
        handle: &str,
        when: Option<i64>,
        error: Option<&str>,
    ) -> Result<()> {
        self.exec(
            "UPDATE peers SET last_sync = coalesce(?3, last_sync), last_error = ?4 \
             WHERE kind = ?1 AND handle = ?2",
            args![kind.as_str(), handle, when, error],
        )?;
        Ok(())
    }

    /// Removes a peer with its issued-certificate records and, for a
    /// publisher, its objects.
    pub fn delete_peer(&self, kind: PeerKind, handle: &str) -> Result<bool> {
        let n = self.exec(
            "DELETE FROM peers WHERE kind = ?1 AND handle = ?2",
            args![kind.as_str(), handle],
        )?;
        match kind {
            PeerKind::Child => {
                self.exec("DELETE FROM child_certs WHERE child = ?1", args![handle])?;
            }
            PeerKind::Publisher => {
                self.exec(
                    "DELETE FROM publisher_objects WHERE publisher = ?1",
                    args![handle],
                )?;
            }
            PeerKind::Parent | PeerKind::Repository => {}
        }
        Ok(n == 1)
    }

    /// The certificates issued to a delegated child.
    pub fn child_certs(&self, child: &str) -> Result<Vec<ChildCert>> {
        self.rows(
            "SELECT ski, name, resources, req_limit FROM child_certs WHERE child = ?1 ORDER BY ski",
            args![child],
            |r| {
                Ok(ChildCert {
                    ski: r.get(0)?,
                    name: r.get(1)?,
                    resources: parse_resources(
                        "child certificate resources",
                        &r.get::<String>(2)?,
                    )?,
                    req_limit: r.get(3)?,
                })
            },
        )
    }

    /// The child that holds a certificate for this key, if any.
    pub fn child_of_key(&self, ski: &str) -> Result<Option<String>> {
        self.opt_row(
            "SELECT child FROM child_certs WHERE ski = ?1",
            args![ski],
            |r| r.get(0),
        )
    }

    /// Records (or replaces) a certificate issued to a child.
    pub fn put_child_cert(&self, child: &str, cert: &ChildCert) -> Result<()> {
        self.exec(
            "INSERT INTO child_certs (child, ski, name, resources, req_limit)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (child, ski) DO UPDATE SET name = excluded.name,
                 resources = excluded.resources, req_limit = excluded.req_limit",
            args![
                child,
                cert.ski,
                cert.name,
                cert.resources.to_string(),
                cert.req_limit
            ],
        )?;
        Ok(())
    }

    /// Forgets a certificate issued to a child.
    pub fn delete_child_cert(&self, child: &str, ski: &str) -> Result<bool> {
        Ok(self.exec(
            "DELETE FROM child_certs WHERE child = ?1 AND ski = ?2",
            args![child, ski],
        )? == 1)
    }

    /// A publisher's objects: URI and bytes, by URI.
    pub fn publisher_objects(&self, publisher: &str) -> Result<Vec<(String, Bytes)>> {
        self.rows(
            "SELECT uri, bytes FROM publisher_objects WHERE publisher = ?1 ORDER BY uri",
            args![publisher],
            |r| Ok((r.get(0)?, Bytes::from(r.get::<Vec<u8>>(1)?))),
        )
    }

    /// Every publisher's objects: URI, bytes, mtime and SHA-256, by URI.
    pub fn all_publisher_objects(&self) -> Result<Vec<PublisherObject>> {
        self.rows(
            "SELECT uri, bytes, mtime, hash FROM publisher_objects ORDER BY uri",
            args![],
            |r| {
                let bytes = Bytes::from(r.get::<Vec<u8>>(1)?);
                let hash = crate::points::stored_hash(r.get(3)?, &bytes);
                Ok((r.get(0)?, bytes, r.get(2)?, hash))
            },
        )
    }

    /// Publishes or replaces a publisher's object. The mtime follows the
    /// rule of hosted objects: it changes exactly when the bytes do.
    pub fn put_publisher_object(
        &self,
        publisher: &str,
        uri: &str,
        bytes: &[u8],
        now: Time,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO publisher_objects (uri, publisher, bytes, mtime, hash)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (uri) DO UPDATE SET
                mtime = CASE WHEN publisher_objects.bytes = excluded.bytes
                             THEN publisher_objects.mtime
                             WHEN excluded.mtime > publisher_objects.mtime THEN excluded.mtime
                             ELSE publisher_objects.mtime + 1 END,
                bytes = excluded.bytes,
                hash = excluded.hash",
            args![
                uri,
                publisher,
                bytes,
                to_secs(now),
                crate::sha256(bytes).as_slice()
            ],
        )?;
        Ok(())
    }

    /// Withdraws a publisher's object.
    pub fn delete_publisher_object(&self, publisher: &str, uri: &str) -> Result<bool> {
        Ok(self.exec(
            "DELETE FROM publisher_objects WHERE publisher = ?1 AND uri = ?2",
            args![publisher, uri],
        )? == 1)
    }
}
