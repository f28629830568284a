//! Building deliberately broken repositories in test code: objects signed
//! on purpose with the CA's real key but with something wrong (an expired
//! validity, an over-claim, a broken signature, a stale CRL), and the
//! point's manifest and CRL signed again so that only the intended fault
//! is left for validators to find.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anchorage_ca_core::objects::{self, Issuer, SubjectInfoAccess};
use anchorage_ca_core::{ResourceSet, RoaPayload, Serial, Time};
use anchorage_keys::KeyStore;
use bytes::Bytes;
use rpki::crypto::{KeyIdentifier, RpkiSignatureAlgorithm, Signer};
use rpki::repository::cert::Cert;
use rpki::repository::x509::Validity;

use super::Cli;
use super::der::{self, Node};

/// A copy of a data directory's tree, signed with its keys.
pub struct Faults {
    keys: KeyStore,
    /// The copied tree (what the rsync daemon serves).
    pub tree: PathBuf,
    base: String,
}

/// How long ago or ahead of now, in days.
pub fn days(n: i64) -> Time {
    Time::now() + chrono::TimeDelta::days(n)
}

fn read(path: &Path) -> Bytes {
    Bytes::from(fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

impl Faults {
    /// Copies `cli`'s published tree to `tree` and opens its keys.
    pub fn new(cli: &Cli, tree: &Path) -> Faults {
        let status = std::process::Command::new("cp")
            .arg("-rL")
            .arg(cli.tree())
            .arg(tree)
            .status()
            .unwrap();
        assert!(status.success());
        Faults {
            keys: KeyStore::open(cli.dir.join("keys")).unwrap(),
            tree: tree.to_path_buf(),
            base: "rsync://127.0.0.1/repo/".into(),
        }
    }

    /// The key of CA `handle`: the stem of the manifest in its directory.
    fn key(&self, handle: &str) -> KeyIdentifier {
        let entries = fs::read_dir(self.tree.join(handle)).unwrap();
        for entry in entries {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".mft") {
                return KeyIdentifier::from_str(stem).unwrap();
            }
        }
        panic!("no manifest for {handle}");
    }

    /// Where CA `handle`'s certificate is in the tree (its parent's point).
    fn cert_path(&self, handle: &str, parent: &str) -> PathBuf {
        if handle == "ta" {
            self.tree.join("ta.cer")
        } else {
            self.tree
                .join(parent)
                .join(format!("{}.cer", self.key(handle)))
        }
    }

    /// CA `handle` (child of `parent`: "online" for members, whose parent
    /// is the TA's online CA) as an issuer.
    pub fn issuer(&self, handle: &str, parent: &str) -> Issuer {
        let key = self.key(handle);
        let cert = Cert::decode(read(&self.cert_path(handle, parent))).unwrap();
        let cert_uri = if handle == "ta" {
            format!("{}ta.cer", self.base)
        } else {
            format!("{}{parent}/{key}.cer", self.base)
        };
        Issuer {
            key,
            public_key: self.keys.get_key_info(&key).unwrap(),
            cert_uri: objects::rsync_uri(&cert_uri).unwrap(),
            repo_uri: objects::rsync_uri(&format!("{}{handle}/", self.base)).unwrap(),
            not_after: cert.validity().not_after(),
            resources: ResourceSet::default(),
        }
    }

    /// A ROA for `asn` and `prefix` by `issuer`, valid for `validity`.
    pub fn roa(&self, issuer: &Issuer, asn: u32, prefix: &str, validity: Validity) -> Bytes {
        let payload = RoaPayload::new(asn, prefix.parse().unwrap(), None).unwrap();
        let serial = Serial::random(&self.keys).unwrap();
        let name = format!("AS{asn}.roa");
        objects::roa(
            &self.keys,
            issuer,
            &[payload],
            &name,
            serial,
            validity,
            validity.not_before(),
        )
        .unwrap()
    }

    /// A CA certificate by `issuer` for the key and SIA of CA `subject`
    /// (child of `subject_parent`) with `resources`, unchecked; returns
    /// its file name and bytes.
    pub fn ca_cert(
        &self,
        issuer: &Issuer,
        subject: &str,
        subject_parent: &str,
        resources: &str,
    ) -> (String, Bytes) {
        let path = self.cert_path(subject, subject_parent);
        let old = Cert::decode(read(&path)).unwrap();
        let sia = SubjectInfoAccess {
            ca_repository: old.ca_repository().unwrap().clone(),
            manifest: old.rpki_manifest().unwrap().clone(),
            notify: old.rpki_notify().cloned(),
        };
        let bytes = objects::ca_certificate(
            &self.keys,
            issuer,
            old.subject_public_key_info(),
            &ResourceSet::from_str(resources).unwrap(),
            &sia,
            Serial::random(&self.keys).unwrap(),
            Validity::new(days(-1), days(300)),
        )
        .unwrap();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        (name, bytes)
    }

    /// Issues CA `handle`'s certificate again from `parent` for `resources`
    /// without checking them against the parent's (an over-claim if they
    /// are not held), and puts it in the parent's point. The parent must
    /// be a member CA (a child of "online").
    pub fn reissue_ca_cert(&self, handle: &str, parent: &str, resources: &str) {
        let issuer = self.issuer(parent, "online");
        let (name, bytes) = self.ca_cert(&issuer, handle, parent, resources);
        fs::write(self.tree.join(parent).join(name), bytes).unwrap();
    }

    /// Edits the files of CA `handle`'s point (the manifest and CRL left
    /// out), then signs a new CRL valid `crl_validity` and a new manifest
    /// listing exactly the edited files.
    pub fn resign(
        &self,
        handle: &str,
        parent: &str,
        edit: impl FnOnce(&Issuer, &mut BTreeMap<String, Bytes>),
        crl_validity: (Time, Time),
    ) {
        self.resign_with_crl(handle, parent, edit, crl_validity, |crl| crl);
    }

    /// [`Faults::resign`], with the new CRL passed through `crl_edit`
    /// before the manifest lists it.
    pub fn resign_with_crl(
        &self,
        handle: &str,
        parent: &str,
        edit: impl FnOnce(&Issuer, &mut BTreeMap<String, Bytes>),
        crl_validity: (Time, Time),
        crl_edit: impl FnOnce(Bytes) -> Bytes,
    ) {
        // Numbers above anything the CA issued, and a thisUpdate later
        // than its manifest's (now less five minutes): a relying party
        // with a cache would otherwise refuse them as going backwards.
        let manifest = (1_000_000, Time::now() - chrono::TimeDelta::minutes(1));
        self.resign_as(handle, parent, edit, (crl_validity, crl_edit), manifest);
    }

    /// [`Faults::resign_with_crl`] with the manifest's number and
    /// thisUpdate given (its nextUpdate is a day ahead).
    pub fn resign_as(
        &self,
        handle: &str,
        parent: &str,
        edit: impl FnOnce(&Issuer, &mut BTreeMap<String, Bytes>),
        (crl_validity, crl_edit): ((Time, Time), impl FnOnce(Bytes) -> Bytes),
        (number, this_update): (u64, Time),
    ) {
        let issuer = self.issuer(handle, parent);
        let dir = self.tree.join(handle);
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if !name.ends_with(".mft") && !name.ends_with(".crl") {
                files.insert(name, read(&path));
            }
            fs::remove_file(&path).unwrap();
        }
        edit(&issuer, &mut files);
        let crl = objects::crl(
            &self.keys,
            &issuer,
            &[],
            1_000_000,
            crl_validity.0,
            crl_validity.1,
        )
        .unwrap();
        files.insert(issuer.crl_name(), crl_edit(crl));
        let list: Vec<(String, [u8; 32])> = files
            .iter()
            .map(|(name, bytes)| (name.clone(), anchorage_ca_core::point::sha256(bytes)))
            .collect();
        let mft = objects::manifest(
            &self.keys,
            &issuer,
            &list,
            number,
            Serial::random(&self.keys).unwrap(),
            this_update,
            days(1),
        )
        .unwrap();
        files.insert(issuer.manifest_name(), mft);
        for (name, bytes) in files {
            fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

impl Faults {
    /// The key of CA `handle`, to sign with.
    pub fn key_of(&self, handle: &str) -> KeyIdentifier {
        self.key(handle)
    }

    /// A certificate or CRL (`SEQUENCE { tbs, algorithm, signature }`)
    /// with its to-be-signed part changed by `edit` and signed again with
    /// `key`.
    pub fn resign_der(
        &self,
        key: &KeyIdentifier,
        der: &[u8],
        edit: impl FnOnce(&mut Node),
    ) -> Bytes {
        let mut signed = Node::parse(der);
        let kids = signed.kids();
        edit(&mut kids[0]);
        let tbs = kids[0].encode();
        let signature = self
            .keys
            .sign(key, RpkiSignatureAlgorithm::default(), &tbs)
            .unwrap();
        let mut bits = vec![0u8];
        bits.extend_from_slice(signature.value());
        *kids[2].bytes() = bits;
        Bytes::from(signed.encode())
    }

    /// A signed object (`der`) whose EE certificate's to-be-signed part is
    /// changed by `edit` and signed again with the issuing CA's `key`; the
    /// CMS signature, made with the EE key, still verifies.
    pub fn resign_ee(
        &self,
        key: &KeyIdentifier,
        der: &[u8],
        edit: impl FnOnce(&mut Node),
    ) -> Bytes {
        let mut object = Node::parse(der);
        // ContentInfo / [0] / SignedData / certificates [0] / the EE.
        let ee = object.at(&[1, 0, 3, 0]);
        let resigned = self.resign_der(key, &ee.encode(), edit);
        *ee = Node::parse(&resigned);
        Bytes::from(object.encode())
    }

    /// A signed object (`der`) given a new EE key: its EE certificate
    /// certifies a key made here (signed again with the issuing CA's
    /// `key`), `edit` changes its SignedData, and the SignerInfo's signed
    /// attributes, sorted as DER sorts a SET, are signed with the new key.
    /// With an `edit` that changes nothing, the object stays valid.
    pub fn resign_cms(
        &self,
        key: &KeyIdentifier,
        der: &[u8],
        edit: impl FnOnce(&mut Node),
    ) -> Bytes {
        let ee_key = self.keys.generate().unwrap();
        self.resign_cms_with(key, &ee_key, der, edit, false)
    }

    /// [`Faults::resign_cms`] with the EE key `ee_key` made before (from
    /// [`Faults::new_key`]); with `digest`, the message-digest attribute
    /// is made again for the eContent as `edit` left it.
    pub fn resign_cms_with(
        &self,
        key: &KeyIdentifier,
        ee_key: &KeyIdentifier,
        der: &[u8],
        edit: impl FnOnce(&mut Node),
        digest: bool,
    ) -> Bytes {
        let ee_key = *ee_key;
        let ee_public = self.keys.get_key_info(&ee_key).unwrap();
        let id = ee_key.as_slice().to_vec();
        let mut object = Node::parse(der);
        let signed = object.at(&[1, 0]);
        let ee = signed.at(&[3, 0]);
        let resigned = self.resign_der(key, &ee.encode(), |tbs| {
            tbs.kids()[6] = Node::parse(&ee_public.to_info_bytes());
            let exts = tbs.kids().last_mut().unwrap().at(&[0]);
            der::edit_value(der::extension(exts, "2.5.29.14"), |ski| {
                *ski = Node::Prim(der::OCTET_STRING, id.clone());
            });
        });
        *ee = Node::parse(&resigned);
        let signer = signed.kids().last_mut().unwrap().at(&[0]);
        *signer.at(&[1]).bytes() = id;
        edit(signed);
        let content =
            digest.then(|| anchorage_ca_core::point::sha256(signed.at(&[2, 1, 0]).bytes()));
        let signer = signed.kids().last_mut().unwrap().at(&[0]);
        let attrs = signer.at(&[3]).kids();
        if let Some(content) = content {
            let message_digest = der::oid("1.2.840.113549.1.9.4");
            for attr in attrs.iter_mut() {
                if matches!(attr, Node::Cons(_, kids) if kids[0] == message_digest) {
                    *attr.at(&[1, 0]) = Node::Prim(der::OCTET_STRING, content.to_vec());
                }
            }
        }
        attrs.sort_by_key(Node::encode);
        let to_sign = Node::Cons(der::SET, attrs.clone()).encode();
        let signature = self
            .keys
            .sign(&ee_key, RpkiSignatureAlgorithm::default(), &to_sign)
            .unwrap();
        *signer.at(&[5]).bytes() = signature.value().to_vec();
        Bytes::from(object.encode())
    }

    /// A new key in the data directory's key store, for an EE certificate.
    pub fn new_key(&self) -> KeyIdentifier {
        self.keys.generate().unwrap()
    }

    /// A TAK object (RFC 9691) signed by `issuer` naming its own key
    /// with `uri`: valid in form, wrong when the issuer is no trust anchor.
    pub fn tak(&self, issuer: &Issuer, uri: &str) -> Bytes {
        let current = objects::TakKey {
            comments: vec!["issued by the wrong CA on purpose".into()],
            uris: vec![uri.into()],
            key: issuer.public_key.clone(),
        };
        objects::tak(
            &self.keys,
            issuer,
            &current,
            None,
            None,
            &format!("{}.tak", issuer.key),
            Serial::random(&self.keys).unwrap(),
            Validity::new(days(-1), days(30)),
            days(0),
        )
        .unwrap()
    }
}

/// A current CRL validity: from a day ago to a day ahead.
pub fn current() -> (Time, Time) {
    (days(-1), days(1))
}

/// Gives every file in `dir` an mtime `secs` seconds ahead: rsync skips a
/// file whose size and mtime are unchanged, and a manifest signed again
/// within the same second may have the size of the last, so the files
/// get a later mtime, as a new version would.
pub fn newer(dir: &Path, secs: u64) {
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(secs);
    for entry in fs::read_dir(dir).unwrap() {
        let file = fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        file.set_modified(later).unwrap();
    }
}
