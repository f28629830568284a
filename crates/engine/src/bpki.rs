//! The BPKI side of RFC 6492 and RFC 8181: who signed a message, when,
//! and whether it was seen before.
//!
//! Both protocols wrap their XML in a CMS signed by the sender's identity
//! certificate exchanged out of band (RFC 8183). The `rpki` crate decodes
//! and verifies the CMS; this module reads its signing-time (which the
//! crate checks but does not expose) and decides whether a message is a
//! replay.

use anchorage_keys::KeyStore;
use bcder::decode::{self, Constructed, DecodeError};
use bcder::{Mode, Oid, Tag};
use rpki::crypto::{DigestAlgorithm, KeyIdentifier, PublicKey};
use rpki::repository::x509::Time;

/// Largest RFC 6492 message accepted (a list or issue with one CSR is a
/// few KiB).
pub const MAX_PROVISIONING_MESSAGE: usize = 1024 * 1024;

/// Largest RFC 8181 message accepted: a publisher's full delta.
pub const MAX_PUBLICATION_MESSAGE: usize = 64 * 1024 * 1024;

/// How far in the future a signing-time may be (clock skew between peers).
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// What replay protection needs of a verified CMS message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The signing-time signed attribute (RFC 5652 §11.3), seconds since
    /// the epoch.
    pub time: i64,
    /// Hex SHA-256 of the signature value: one per signing operation,
    /// however the rest of the message is (re-)encoded.
    pub digest: String,
}

/// Reads the signing-time and the signature of a CMS SignedData.
///
/// Call this only on a message whose signature verified: the attribute
/// is then the sender's. BER is accepted, as the `rpki` crate's decoder
/// accepts it, so peers that send BER are not refused here.
pub fn signed(der: &[u8]) -> Result<Signed, String> {
    let (time, signature) = Mode::Ber
        .decode(der, |cons| {
            cons.take_sequence(|cons| {
                cons.skip_one()?; // contentType
                cons.take_constructed_if(Tag::CTX_0, take_signed_data)
            })
        })
        .map_err(|e| format!("no readable signing-time: {e}"))?;
    Ok(Signed {
        time: time.timestamp(),
        digest: hex::encode(DigestAlgorithm::sha256().digest(signature.as_ref())),
    })
}

fn take_signed_data<S: decode::Source>(
    cons: &mut Constructed<S>,
) -> Result<(Time, bytes::Bytes), DecodeError<S::Error>> {
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
                cons.skip_one()?; // signatureAlgorithm
                let signature = bcder::OctetString::take_from(cons)?.into_bytes();
                cons.skip_all()?; // unsignedAttrs, if any
                Ok((time, signature))
            })
        })
    })
}

/// Replay protection: whether a message signed at `time` with `digest`
/// may be accepted after the messages recorded for the peer.
///
/// RFC 6492 §3.1.2 and RFC 8181 §2 leave replay protection to the
/// signing-time. It has one-second resolution and a child sends `list`
/// and `issue` within the same second, so a message signed in the same
/// second as the last accepted one is accepted unless it is that very
/// message again (the same signature). Anything older is refused, and so
/// is a signing-time more than [`MAX_CLOCK_SKEW_SECS`] after `now`: it
/// would lock the peer's later messages out. Returns the state to record
/// for the peer, or why the message is refused.
pub fn check_fresh(
    last_time: Option<i64>,
    last_digests: &[String],
    signed: &Signed,
    now: i64,
) -> Result<(i64, Vec<String>), String> {
    let (time, digest) = (signed.time, signed.digest.as_str());
    if time > now + MAX_CLOCK_SKEW_SECS {
        return Err(format!(
            "signing-time {} is in the future (now {})",
            fmt_secs(time),
            fmt_secs(now)
        ));
    }
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

/// The CMS wrapper of RFC 6492 or RFC 8181 messages: what receiving and
/// sending one takes, the same for both protocols.
pub trait ProtocolCms: Sized {
    /// The message inside.
    type Message;
    /// "RFC 6492" or "RFC 8181", for errors and logs.
    const NAME: &'static str;
    /// The HTTP media type (RFC 6492 §3, RFC 8181 §2).
    const MEDIA_TYPE: &'static str;
    /// The largest message accepted.
    const MAX_SIZE: usize;
    /// Signs `message` with the identity key.
    fn create(message: Self::Message, key: &KeyIdentifier, keys: &KeyStore)
    -> Result<Self, String>;
    /// Decodes a message (not yet verified).
    fn decode(bytes: &[u8]) -> Result<Self, String>;
    /// Verifies the signature, EE certificate and BPKI CRL under `issuer`.
    fn validate_at(&self, issuer: &PublicKey, when: Time) -> Result<(), String>;
    /// The encoded message.
    fn to_bytes(&self) -> bytes::Bytes;
    /// The message inside.
    fn into_message(self) -> Self::Message;
}

macro_rules! protocol_cms {
    ($cms:ty, $message:ty, $name:literal, $media:expr, $max:expr) => {
        impl ProtocolCms for $cms {
            type Message = $message;
            const NAME: &'static str = $name;
            const MEDIA_TYPE: &'static str = $media;
            const MAX_SIZE: usize = $max;
            fn create(
                message: Self::Message,
                key: &KeyIdentifier,
                keys: &KeyStore,
            ) -> Result<Self, String> {
                <$cms>::create(message, key, keys).map_err(|e| format!("{e:?}"))
            }
            fn decode(bytes: &[u8]) -> Result<Self, String> {
                <$cms>::decode(bytes).map_err(|e| e.to_string())
            }
            fn validate_at(&self, issuer: &PublicKey, when: Time) -> Result<(), String> {
                <$cms>::validate_at(self, issuer, when).map_err(|e| e.to_string())
            }
            fn to_bytes(&self) -> bytes::Bytes {
                <$cms>::to_bytes(self)
            }
            fn into_message(self) -> Self::Message {
                <$cms>::into_message(self)
            }
        }
    };
}

protocol_cms!(
    rpki::ca::provisioning::ProvisioningCms,
    rpki::ca::provisioning::Message,
    "RFC 6492",
    crate::transport::UPDOWN_TYPE,
    MAX_PROVISIONING_MESSAGE
);
protocol_cms!(
    rpki::ca::publication::PublicationCms,
    rpki::ca::publication::Message,
    "RFC 8181",
    crate::transport::PUBLICATION_TYPE,
    MAX_PUBLICATION_MESSAGE
);

#[cfg(test)]
mod tests {
    use super::*;

    fn s(time: i64, digest: &str) -> Signed {
        Signed {
            time,
            digest: digest.into(),
        }
    }

    #[test]
    fn replays_older_and_future_messages_are_refused() {
        let now = 1000;
        let (t, d) = check_fresh(None, &[], &s(100, "a"), now).unwrap();
        assert_eq!((t, d.clone()), (100, vec!["a".to_string()]));
        // Same second, different message: accepted and remembered.
        let (t, d) = check_fresh(Some(t), &d, &s(100, "b"), now).unwrap();
        assert_eq!(d, vec!["a".to_string(), "b".to_string()]);
        // The same message again: refused.
        let e = check_fresh(Some(t), &d, &s(100, "a"), now).unwrap_err();
        assert!(e.contains("replay"), "{e}");
        // Older: refused.
        let e = check_fresh(Some(t), &d, &s(99, "c"), now).unwrap_err();
        assert!(e.contains("older"), "{e}");
        // Newer: accepted, the digest list starts again.
        let (_, d2) = check_fresh(Some(t), &d, &s(101, "a"), now).unwrap();
        assert_eq!(d2, vec!["a".to_string()]);
        // Too far ahead of our clock: refused.
        let far = s(now + MAX_CLOCK_SKEW_SECS + 1, "f");
        let e = check_fresh(Some(t), &d, &far, now).unwrap_err();
        assert!(e.contains("future"), "{e}");
        assert!(check_fresh(Some(t), &d, &s(now + MAX_CLOCK_SKEW_SECS, "f"), now).is_ok());
    }
}
