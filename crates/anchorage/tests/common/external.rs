//! A CA run by someone else: it has its own keys, asks its parent for a
//! certificate over RFC 6492 and publishes at a repository over RFC 8181,
//! building every message with the `rpki` crate (as Krill does). Tests
//! use it to drive Anchorage's parent and publication server, and to
//! craft the messages an attacker would send.

use std::path::Path;

use anchorage::clock::Clock;
use anchorage::datadir::DataDir;
use anchorage::ops::Anchorage;

use super::Cli;

use anchorage_ca_core::objects::Issuer;
use anchorage_ca_core::{PublicationPoint, ResourceSet, RoaPayload, Timing, ca};
use anchorage_keys::KeyStore;
use bytes::Bytes;
use rpki::ca::csr::RpkiCaCsr;
use rpki::ca::idcert::IdCert;
use rpki::ca::idexchange::{
    ChildHandle, ChildRequest, ParentResponse, PublisherHandle, PublisherRequest,
    RepositoryResponse,
};
use rpki::ca::provisioning::{
    self, IssuanceRequest, Payload, ProvisioningCms, RequestResourceLimit, ResourceClassName,
    RevocationRequest,
};
use rpki::ca::publication::{self, Base64, PublicationCms, Publish, PublishDelta, Withdraw};
use rpki::crypto::{KeyIdentifier, PublicKey, Signer};
use rpki::repository::cert::Cert;
use rpki::repository::x509::{Time, Validity};
use rpki::uri;

/// The external CA.
pub struct External {
    pub handle: String,
    pub keys: KeyStore,
    pub id_key: KeyIdentifier,
    pub id_cert: IdCert,
    pub parent: Option<ParentResponse>,
    pub repository: Option<RepositoryResponse>,
}

impl External {
    /// A new CA with a fresh identity, keys under `dir`.
    pub fn new(handle: &str, dir: &Path) -> External {
        let keys = KeyStore::open(dir).unwrap();
        let id_key = keys.generate().unwrap();
        let now = Time::now();
        let validity = Validity::new(
            now - chrono::TimeDelta::minutes(5),
            now + chrono::TimeDelta::days(365),
        );
        let id_cert = IdCert::new_ta(validity, &id_key, &keys).unwrap();
        External {
            handle: handle.into(),
            keys,
            id_key,
            id_cert,
            parent: None,
            repository: None,
        }
    }

    /// The RFC 8183 child request.
    pub fn child_request(&self) -> String {
        ChildRequest::new(
            Base64::from_content(&self.id_cert.to_bytes()),
            ChildHandle::new(self.handle.as_str().into()),
        )
        .to_xml_string()
    }

    /// The RFC 8183 publisher request.
    pub fn publisher_request(&self) -> String {
        PublisherRequest::new(
            Base64::from_content(&self.id_cert.to_bytes()),
            PublisherHandle::new(self.handle.as_str().into()),
            None,
        )
        .to_xml_string()
    }

    /// The parent's identity, from its response.
    pub fn parent_key(&self) -> PublicKey {
        let parent = self.parent.as_ref().expect("parent response imported");
        parent.validate().unwrap().public_key().clone()
    }

    /// The repository's identity, from its response.
    pub fn repository_key(&self) -> PublicKey {
        let repo = self
            .repository
            .as_ref()
            .expect("repository response imported");
        repo.validate().unwrap().public_key().clone()
    }

    /// A signed RFC 6492 message to the parent.
    pub fn provisioning(&self, payload: Payload) -> Bytes {
        self.provisioning_as(&self.handle, payload, &self.id_key)
    }

    /// A signed RFC 6492 message claiming to be from `sender`, signed by `key`.
    pub fn provisioning_as(&self, sender: &str, payload: Payload, key: &KeyIdentifier) -> Bytes {
        let parent = self.parent.as_ref().expect("parent response imported");
        let sender = sender.to_string();
        let recipient = parent.parent_handle().as_str().to_string();
        let message = match payload {
            Payload::List => provisioning::Message::list(
                rpki::ca::idexchange::SenderHandle::new(sender.into()),
                rpki::ca::idexchange::RecipientHandle::new(recipient.into()),
            ),
            Payload::Issue(req) => provisioning::Message::issue(
                rpki::ca::idexchange::SenderHandle::new(sender.into()),
                rpki::ca::idexchange::RecipientHandle::new(recipient.into()),
                req,
            ),
            Payload::Revoke(req) => provisioning::Message::revoke(
                rpki::ca::idexchange::SenderHandle::new(sender.into()),
                rpki::ca::idexchange::RecipientHandle::new(recipient.into()),
                req,
            ),
            other => panic!("not a request: {other:?}"),
        };
        ProvisioningCms::create(message, key, &self.keys)
            .unwrap()
            .to_bytes()
    }

    /// Decodes and verifies a reply of the parent.
    pub fn provisioning_reply(&self, bytes: &[u8]) -> Payload {
        let cms = ProvisioningCms::decode(bytes).expect("an RFC 6492 message");
        cms.validate(&self.parent_key())
            .expect("signed by the parent");
        cms.into_message().into_payload()
    }

    /// An issue request for `key`, publishing under the repository's base.
    pub fn issue_request(&self, key: &KeyIdentifier, limit: RequestResourceLimit) -> Payload {
        let (repo, mft) = self.point_uris(key);
        let notify = self
            .repository
            .as_ref()
            .and_then(|r| r.rrdp_notification_uri().cloned());
        let csr =
            rpki::ca::csr::Csr::construct_rpki_ca(&self.keys, key, &repo, &mft, notify.as_ref())
                .unwrap();
        let csr = RpkiCaCsr::decode(csr.into_bytes()).unwrap();
        Payload::Issue(IssuanceRequest::new(
            ResourceClassName::default(),
            limit,
            csr,
        ))
    }

    /// A revocation request for `key`.
    pub fn revoke_request(&self, key: &KeyIdentifier) -> Payload {
        Payload::Revoke(RevocationRequest::new(ResourceClassName::default(), *key))
    }

    /// Where the point of `key` is: `BASE/ca/` and its manifest.
    pub fn point_uris(&self, key: &KeyIdentifier) -> (uri::Rsync, uri::Rsync) {
        let base = self
            .repository
            .as_ref()
            .expect("repository response imported")
            .sia_base()
            .to_string();
        (
            uri::Rsync::from_string(format!("{base}ca/")).unwrap(),
            uri::Rsync::from_string(format!("{base}ca/{key}.mft")).unwrap(),
        )
    }

    /// A signed RFC 8181 message.
    pub fn publication(&self, message: publication::Message) -> Bytes {
        PublicationCms::create(message, &self.id_key, &self.keys)
            .unwrap()
            .to_bytes()
    }

    /// Decodes and verifies a reply of the repository.
    pub fn publication_reply(&self, bytes: &[u8]) -> publication::Reply {
        let cms = PublicationCms::decode(bytes).expect("an RFC 8181 message");
        cms.validate(&self.repository_key())
            .expect("signed by the repository");
        cms.into_message().as_reply().expect("a reply")
    }

    /// Builds this CA's publication point for the certificate `cert`
    /// (issued at `cert_uri`): a ROA per ASN of `roas`, CRL, manifest.
    /// Returns the delta that publishes it from scratch.
    pub fn build_point(
        &self,
        key: &KeyIdentifier,
        cert: &Cert,
        cert_uri: &uri::Rsync,
        roas: &[RoaPayload],
    ) -> PublishDelta {
        let mut delta = PublishDelta::empty();
        for (uri, bytes) in self.point_objects(key, cert, cert_uri, roas, 1) {
            delta.add_publish(Publish::new(None, uri, Base64::from_content(&bytes)));
        }
        delta
    }

    /// The files of the point [`Self::build_point`] publishes, by URI,
    /// with manifest and CRL number `number` (each new manifest of a key
    /// needs a higher one: relying parties keep the one they have).
    pub fn point_objects(
        &self,
        key: &KeyIdentifier,
        cert: &Cert,
        cert_uri: &uri::Rsync,
        roas: &[RoaPayload],
        number: u64,
    ) -> Vec<(uri::Rsync, Bytes)> {
        let resources = ResourceSet::from_rpki(&rpki::repository::resources::ResourceSet::new(
            cert.as_resources().to_blocks().unwrap(),
            cert.v4_resources().to_blocks().unwrap().into(),
            cert.v6_resources().to_blocks().unwrap().into(),
        ));
        let (repo, _) = self.point_uris(key);
        let issuer = Issuer {
            key: *key,
            public_key: self.keys.get_key_info(key).unwrap(),
            cert_uri: cert_uri.clone(),
            repo_uri: repo.clone(),
            not_after: cert.validity().not_after(),
            resources,
        };
        let now = Time::now();
        let timing = Timing::default();
        let mut point = PublicationPoint::restore([], Vec::new(), number, number);
        let asns: std::collections::BTreeSet<u32> = roas.iter().map(|r| r.asn).collect();
        for asn in asns {
            let payloads: Vec<RoaPayload> = roas.iter().filter(|r| r.asn == asn).copied().collect();
            point.publish(
                ca::issue_roa(&self.keys, &issuer, asn, &payloads, now, &timing).unwrap(),
                now,
            );
        }
        point.refresh(&self.keys, &issuer, now, &timing).unwrap();
        point
            .objects
            .values()
            .map(|obj| {
                (
                    uri::Rsync::from_string(format!("{repo}{}", obj.name)).unwrap(),
                    obj.bytes.clone(),
                )
            })
            .collect()
    }

    /// Any content, CMS-signed with the identity key as RFC 6492 and
    /// RFC 8181 messages are: for messages the `rpki` crate would not build.
    pub fn sign_raw(&self, content: &str) -> Bytes {
        let now = Time::now();
        let validity = Validity::new(
            now - chrono::TimeDelta::minutes(5),
            now + chrono::TimeDelta::minutes(5),
        );
        rpki::ca::sigmsg::SignedMessage::create(
            Bytes::copy_from_slice(content.as_bytes()),
            validity,
            &self.id_key,
            &self.keys,
        )
        .unwrap()
        .to_captured()
        .into_bytes()
    }

    /// A delta withdrawing `uri` whose content is `bytes`.
    pub fn withdraw(uri: &str, bytes: &[u8]) -> PublishDelta {
        let mut delta = PublishDelta::empty();
        delta.add_withdraw(Withdraw::new(
            None,
            uri::Rsync::from_string(uri.to_string()).unwrap(),
            rpki::rrdp::Hash::from_data(bytes),
        ));
        delta
    }
}

/// The URI and certificate of an RFC 6492 issue response.
pub fn issued(payload: Payload) -> (uri::Rsync, Cert) {
    match payload {
        Payload::IssueResponse(r) => {
            let (uri, _, cert) = r.into_issued().unpack();
            (uri, cert)
        }
        other => panic!("expected an issue response, got {other:?}"),
    }
}

/// Sets up the RIR side: a data dir with a delegated child `lirx` of the
/// online CA, also a publisher. Returns the CLI, the child and an open
/// instance.
pub fn setup(tmp: &Path) -> (Cli, External, Anchorage) {
    let cli = Cli::init(&tmp.join("data"));
    cli.ca_create("member", None, "AS64500, 192.0.2.0/24");
    cli.roa_add("member", 64500, "192.0.2.0/24");
    let mut ext = External::new("lirx", &tmp.join("lirx-keys"));

    let req = tmp.join("child_request.xml");
    std::fs::write(&req, ext.child_request()).unwrap();
    let resp = tmp.join("parent_response.xml");
    cli.ok(&[
        "child",
        "add",
        "online",
        "--request",
        req.to_str().unwrap(),
        "--resources",
        "AS65000-AS65001, 10.0.0.0/16",
        "--response",
        resp.to_str().unwrap(),
    ]);
    // The rpki crate (as Krill uses it) parses what we wrote.
    let parent = ParentResponse::parse(std::fs::read(&resp).unwrap().as_slice()).unwrap();
    assert_eq!(parent.parent_handle().as_str(), "online");
    assert_eq!(parent.child_handle().as_str(), "lirx");
    assert_eq!(
        parent.service_uri().as_str(),
        "https://127.0.0.1/rfc6492/online/lirx"
    );
    ext.parent = Some(parent);

    let req = tmp.join("publisher_request.xml");
    std::fs::write(&req, ext.publisher_request()).unwrap();
    let out = cli.ok(&["publisher", "add", "--request", req.to_str().unwrap()]);
    let repo = RepositoryResponse::parse(out.as_bytes()).unwrap();
    assert_eq!(repo.sia_base().as_str(), "rsync://127.0.0.1/repo/lirx/");
    assert_eq!(
        repo.rrdp_notification_uri().map(|u| u.as_str()),
        Some("https://127.0.0.1/rrdp/notification.xml")
    );
    assert_eq!(
        repo.service_uri().as_str(),
        "https://127.0.0.1/rfc8181/lirx"
    );
    ext.repository = Some(repo);

    let a = Anchorage::open(DataDir::new(&cli.dir), Clock::System).unwrap();
    (cli, ext, a)
}
