//! Hostile input never panics the validator: the fuzz targets' entry
//! points on random bytes and on mutations of well-formed RRDP XML and
//! DER, in the ordinary test run. (`scripts/fuzz.sh` runs them under
//! coverage-guided libFuzzer for longer.)

use anchorage_validator::rrdp::{RrdpFile, check_untrusted};
use anchorage_validator::walk::decode_untrusted;
use proptest::prelude::*;

const SNAPSHOT: &str = r#"<snapshot xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="3"><publish uri="rsync://h/repo/ca/a.roa">AQID</publish><publish uri="rsync://h/repo/ca/b.cer">BAUG</publish></snapshot>"#;
const DELTA: &str = r#"<delta xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="4"><publish uri="rsync://h/repo/ca/a.roa" hash="039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81">BAU=</publish><withdraw uri="rsync://h/repo/ca/b.cer" hash="039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"/></delta>"#;
const NOTIFICATION: &str = r#"<notification xmlns="http://www.ripe.net/rpki/rrdp" version="1" session_id="9df4b597-af9e-4dca-bdda-719cce2c4e28" serial="4"><snapshot uri="https://h/rrdp/s.xml" hash="039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"/><delta serial="4" uri="https://h/rrdp/d.xml" hash="039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"/></notification>"#;

#[test]
fn the_seeds_are_accepted() {
    // So that mutations start from input that reaches deep into the parsers.
    assert!(check_untrusted(RrdpFile::Snapshot, SNAPSHOT.as_bytes()));
    assert!(check_untrusted(
        RrdpFile::Notification,
        NOTIFICATION.as_bytes()
    ));
    // The delta refers to files not held, so it is refused, not accepted.
    assert!(!check_untrusted(RrdpFile::Delta, DELTA.as_bytes()));
}

#[test]
fn known_attacks_are_refused() {
    for (kind, xml) in [
        // Path traversal out of the cache.
        (
            RrdpFile::Snapshot,
            SNAPSHOT.replace("ca/a.roa", "../../../etc/x"),
        ),
        // Entity expansion ("billion laughs").
        (
            RrdpFile::Snapshot,
            format!(
                "<!DOCTYPE s [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>{}",
                SNAPSHOT.replace("AQID", "&b;")
            ),
        ),
        // An object too large to be an RPKI object.
        (
            RrdpFile::Snapshot,
            SNAPSHOT.replace("AQID", &"QUFB".repeat(6 << 20)),
        ),
        // Not XML at all.
        (RrdpFile::Notification, "\u{0}\u{ff}garbage".into()),
        (
            RrdpFile::Notification,
            NOTIFICATION.replace("version=\"1\"", "version=\"2\""),
        ),
    ] {
        assert!(!check_untrusted(kind, xml.as_bytes()), "{kind:?} accepted");
    }
}

fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(pos, op, byte) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let at = pos % out.len();
        match op % 4 {
            0 => out[at] = byte,
            1 => out[at] ^= 1 << (byte % 8),
            2 => out.insert(at, byte),
            _ => {
                out.remove(at);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for kind in [RrdpFile::Notification, RrdpFile::Snapshot, RrdpFile::Delta] {
            check_untrusted(kind, &data);
        }
        decode_untrusted(&data);
        // DER-looking: a SEQUENCE header in front.
        let mut der = vec![0x30, 0x82, (data.len() >> 8) as u8, data.len() as u8];
        der.extend(&data);
        decode_untrusted(&der);
    }

    #[test]
    fn mutated_rrdp_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
    ) {
        check_untrusted(RrdpFile::Snapshot, &mutate(SNAPSHOT.as_bytes(), &edits));
        check_untrusted(RrdpFile::Delta, &mutate(DELTA.as_bytes(), &edits));
        check_untrusted(RrdpFile::Notification, &mutate(NOTIFICATION.as_bytes(), &edits));
    }
}
