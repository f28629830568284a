//! A large repository for measuring validation: a TA, `cas` member CAs
//! directly below it, each with one ROA of `prefixes` IPv4 /24s.
//!
//! It is built from the CA engine's object builders (the same code that
//! signs Anchorage's real objects) straight into a directory, without the
//! store or publication, because only the signed files matter here and
//! building 10,000 CAs through the engine would publish 10,000 times.
//! Key generation dominates; it runs on every core. The result is kept in
//! its directory and reused when the parameters match.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anchorage_ca_core::ca::{ChildCa, issue_ca_cert, issue_roa, issue_ta_cert};
use anchorage_ca_core::{Issuer, PublicationPoint, RepositoryLayout, ResourceSet, RoaPayload};
use anchorage_keys::KeyStore;
use anyhow::Context;
use base64::Engine;
use rpki::crypto::{KeyIdentifier, Signer};
use rpki::repository::x509::Time;

/// A built fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The TAL (rsync URI only).
    pub tal: PathBuf,
    /// The tree to serve as rsync module `repo` on 127.0.0.1.
    pub tree: PathBuf,
    /// How many VRPs a validator must find.
    pub vrps: usize,
}

const BASE: &str = "rsync://127.0.0.1/repo/";

fn stamp(cas: usize, prefixes: usize) -> String {
    format!("{cas} CAs x {prefixes} prefixes, v1\n")
}

/// Builds the fixture in `dir`, or reuses the one there if it has the same
/// parameters and its objects are still current.
pub fn build(dir: &Path, cas: usize, prefixes: usize) -> anyhow::Result<Fixture> {
    assert!((1..=256).contains(&prefixes), "1 to 256 prefixes per CA");
    let fixture = Fixture {
        tal: dir.join("ta.tal"),
        tree: dir.join("tree"),
        vrps: cas * prefixes,
    };
    let stamp_file = dir.join("fixture");
    if let Ok(meta) = fs::metadata(&stamp_file) {
        let fresh = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age.as_secs() < 12 * 3600);
        if fresh && fs::read_to_string(&stamp_file)? == stamp(cas, prefixes) {
            return Ok(fixture);
        }
    }
    // Only what this module writes is removed.
    for sub in ["tree", "keys"] {
        let _ = fs::remove_dir_all(dir.join(sub));
    }
    let _ = fs::remove_file(&stamp_file);
    fs::create_dir_all(&fixture.tree)?;
    let keys = KeyStore::open(dir.join("keys"))?;
    let layout = RepositoryLayout {
        rsync_base: BASE.into(),
        notify: None,
    };
    let timing = anchorage_ca_core::Timing::default();
    let now = Time::now();

    // Keys first, on every core: CA keys, and one-time EE keys for the
    // ROAs and manifests into the pool.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ca_keys: Vec<KeyIdentifier> = std::thread::scope(|s| {
        let chunks: Vec<_> = (0..threads)
            .map(|t| {
                let keys = &keys;
                let n = cas / threads + usize::from(t < cas % threads);
                s.spawn(move || {
                    (0..n)
                        .map(|_| keys.generate())
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .map(|h| h.join().expect("key thread"))
            .collect::<Result<Vec<Vec<_>>, _>>()
            .map(|v| v.into_iter().flatten().collect())
    })?;
    let ee_needed = 2 * cas + 1;
    std::thread::scope(|s| {
        for _ in 0..threads {
            let keys = &keys;
            s.spawn(move || keys.pool().fill(ee_needed));
        }
    });

    let all: ResourceSet = "AS0-AS4294967295, 0.0.0.0/0, ::/0".parse()?;
    let ta_key = keys.generate()?;
    let (ta_cert, _, ta_not_after) = issue_ta_cert(&keys, &layout, &ta_key, &all, now, &timing)?;
    fs::write(fixture.tree.join("ta.cer"), &ta_cert)?;
    let ta = Issuer {
        key: ta_key,
        public_key: keys
            .get_key_info(&ta_key)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?,
        cert_uri: layout.ta_cert_uri()?,
        repo_uri: layout.repo_uri("ta")?,
        not_after: ta_not_after,
        resources: all,
    };
    let mut ta_point = PublicationPoint::new();
    for (i, key) in ca_keys.iter().enumerate() {
        let handle = format!("ca{i}");
        // 10.0.0.0/8 and up: a /16 per CA, enough for 256 /24s.
        let base = 0x0A00_0000u32 + (i as u32) * 65_536;
        let asn = 100_000 + i as u32;
        let resources: ResourceSet =
            format!("AS{asn}, {}/16", std::net::Ipv4Addr::from(base)).parse()?;
        let public = keys
            .get_key_info(key)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let cert = issue_ca_cert(
            &keys,
            &layout,
            &ta,
            ChildCa {
                handle: &handle,
                key: &public,
                resources: &resources,
            },
            now,
            &timing,
        )?;
        let cert_uri = ta.object_uri(&cert.name)?;
        let not_after = cert.not_after;
        ta_point.publish(cert, now);
        let ca = Issuer {
            key: *key,
            public_key: public,
            cert_uri,
            repo_uri: layout.repo_uri(&handle)?,
            not_after,
            resources,
        };
        let payloads: Vec<RoaPayload> = (0..prefixes as u32)
            .map(|p| {
                let prefix = format!("{}/24", std::net::Ipv4Addr::from(base + p * 256));
                Ok(RoaPayload::new(asn, prefix.parse()?, None)?)
            })
            .collect::<anyhow::Result<_>>()?;
        let mut point = PublicationPoint::new();
        point.publish(issue_roa(&keys, &ca, asn, &payloads, now, &timing)?, now);
        point.refresh(&keys, &ca, now, &timing)?;
        write_point(&fixture.tree.join(&handle), &point)?;
    }
    ta_point.refresh(&keys, &ta, now, &timing)?;
    write_point(&fixture.tree.join("ta"), &ta_point)?;

    let spki = base64::engine::general_purpose::STANDARD.encode(ta.public_key.to_info_bytes());
    let mut tal = format!("{}\n\n", layout.ta_cert_uri()?);
    for chunk in spki.as_bytes().chunks(64) {
        tal.push_str(std::str::from_utf8(chunk)?);
        tal.push('\n');
    }
    fs::write(&fixture.tal, tal)?;
    fs::write(&stamp_file, stamp(cas, prefixes)).context("writing the fixture stamp")?;
    Ok(fixture)
}

fn write_point(dir: &Path, point: &PublicationPoint) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    let files: BTreeMap<_, _> = point.objects.iter().collect();
    for (name, object) in files {
        fs::write(dir.join(name), &object.bytes)?;
    }
    Ok(())
}
