//! The BPKI side of RFC 6492 and RFC 8181: who signed a message, when,
//! and whether it was seen before.
//!
//! Both protocols wrap their XML in a CMS signed by the sender's identity
//! certificate exchanged out of band (RFC 8183). The `rpki` crate decodes
//! and verifies the CMS; this module reads its signing-time (which the
//! crate checks but does not expose) and decides whether a message is a
//! replay.

use bcder::decode::{self, Constructed, DecodeError};
use bcder::{Mode, Oid, Tag};
use rpki::crypto::DigestAlgorithm;
use rpki::repository::x509::Time;

/// Largest RFC 6492 message accepted (a list or issue with one CSR is a
/// few KiB).
pub const MAX_PROVISIONING_MESSAGE: usize = 1024 * 1024;

/// Largest RFC 8181 message accepted: a publisher's full delta.
pub const MAX_PUBLICATION_MESSAGE: usize = 64 * 1024 * 1024;

/// The signing-time signed attribute of a CMS SignedData (RFC 5652
/// §11.3), as seconds since the epoch.
///
/// Call this only on a message whose signature verified: the attribute
/// is then the sender's.
pub fn signing_time(der: &[u8]) -> Result<i64, String> {
    let time = Mode::Der
        .decode(der, |cons| {
            cons.take_sequence(|cons| {
                cons.skip_one()?; // contentType
                cons.take_constructed_if(Tag::CTX_0, take_signed_data)
            })
        })
        .map_err(|e| format!("no readable signing-time: {e}"))?;
    Ok(time.timestamp())
}

fn take_signed_data<S: decode::Source>(
    cons: &mut Constructed<S>,
) -> Result<Time, DecodeError<S::Error>> {
    cons.take_sequence(|cons| {
        cons.skip_one()?; // version
        cons.skip_one()?; // digestAlgorithms
        cons.skip_one()?; // encapContentInfo
        cons.take_opt_constructed_if(Tag::CTX_0, |c| c.skip_all())?; // certificates
        cons.take_opt_constructed_if(Tag::CTX_1, |c| c.skip_all())?; // crls
        cons.take_set(|cons| {
            cons.take_sequence(|cons| {
                cons.skip_one()?; // version
                cons.skip_one()?; // sid
                cons.skip_one()?; // digestAlgorithm
                let time = cons.take_constructed_if(Tag::CTX_0, |cons| {
                    let mut found = None;
                    while let Some(t) = cons.take_opt_sequence(|cons| {
                        let oid = Oid::take_from(cons)?;
                        if oid == rpki::oid::SIGNING_TIME {
                            cons.take_set(|cons| Time::take_from(cons)).map(Some)
                        } else {
                            cons.skip_all().map(|_| None)
                        }
                    })? {
                        if t.is_some() {
                            found = t;
                        }
                    }
                    found.ok_or_else(|| cons.content_err("signing-time attribute missing"))
                })?;
                cons.skip_all()?; // signatureAlgorithm, signature
                Ok(time)
            })
        })
    })
}

/// Hex SHA-256 of a message, to tell two messages of the same second apart.
pub fn digest(der: &[u8]) -> String {
    hex::encode(DigestAlgorithm::sha256().digest(der))
}

/// Replay protection: whether a message signed at `time` with `digest`
/// may be accepted after the messages recorded for the peer.
///
/// RFC 6492 §3.1.2 and RFC 8181 §2 leave replay protection to the
/// signing-time. It has one-second resolution and a child sends `list`
/// and `issue` within the same second, so a message signed in the same
/// second as the last accepted one is accepted unless it is that very
/// message again. Anything older is refused. Returns the state to record
/// for the peer, or why the message is refused.
pub fn check_fresh(
    last_time: Option<i64>,
    last_digests: &[String],
    time: i64,
    digest: &str,
) -> Result<(i64, Vec<String>), String> {
    match last_time {
        Some(last) if time < last => Err(format!(
            "signing-time {} is older than the last message accepted from this peer ({})",
            fmt_secs(time),
            fmt_secs(last)
        )),
        Some(last) if time == last => {
            if last_digests.iter().any(|d| d == digest) {
                Err(format!(
                    "this message (signed {}) was already accepted: a replay",
                    fmt_secs(time)
                ))
            } else {
                let mut digests = last_digests.to_vec();
                digests.push(digest.to_string());
                Ok((time, digests))
            }
        }
        _ => Ok((time, vec![digest.to_string()])),
    }
}

fn fmt_secs(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_and_older_messages_are_refused() {
        let (t, d) = check_fresh(None, &[], 100, "a").unwrap();
        assert_eq!((t, d.clone()), (100, vec!["a".to_string()]));
        // Same second, different message: accepted and remembered.
        let (t, d) = check_fresh(Some(t), &d, 100, "b").unwrap();
        assert_eq!(d, vec!["a".to_string(), "b".to_string()]);
        // The same message again: refused.
        assert!(
            check_fresh(Some(t), &d, 100, "a")
                .unwrap_err()
                .contains("replay")
        );
        // Older: refused.
        assert!(
            check_fresh(Some(t), &d, 99, "c")
                .unwrap_err()
                .contains("older")
        );
        // Newer: accepted, the digest list starts again.
        assert_eq!(
            check_fresh(Some(t), &d, 101, "a").unwrap().1,
            vec!["a".to_string()]
        );
    }
}
