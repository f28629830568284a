//! BGPsec router certificates (RFC 8209): the router's key from its
//! PKCS#10 request, and the file name of its certificate.

use bcder::Tag;
use bcder::decode::{self, DecodeError};
use rpki::ca::csr::{Csr, CsrAttributes};
use rpki::crypto::{BgpsecSignatureAlgorithm, PublicKey, PublicKeyFormat};

use crate::error::CaError;

/// A router key to certify: the AS it speaks for and its public key
/// (ECDSA P-256, RFC 8608 §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterKey {
    /// The AS the router signs BGPsec updates for.
    pub asn: u32,
    /// The router's public key.
    pub key: PublicKey,
}

impl RouterKey {
    /// The key's SKI, as the certificate and RTR carry it, in upper-case hex.
    pub fn ski(&self) -> String {
        self.key.key_identifier().to_string().to_ascii_uppercase()
    }

    /// The file name of its certificate in the CA's point.
    pub fn file_name(&self) -> String {
        router_file_name(self.asn, &self.ski())
    }
}

/// The file name of the router certificate of `asn` and key `ski`: one
/// key may be certified for several ASes, so both name it.
pub fn router_file_name(asn: u32, ski: &str) -> String {
    format!("ROUTER-{asn:08X}-{}.cer", ski.to_ascii_uppercase())
}

/// The AS and SKI of a file named by [`router_file_name`]; `None` for any
/// other file.
pub fn router_file_key(name: &str) -> Option<(u32, String)> {
    let rest = name.strip_prefix("ROUTER-")?.strip_suffix(".cer")?;
    let (asn, ski) = rest.split_once('-')?;
    let asn = u32::from_str_radix(asn, 16)
        .ok()
        .filter(|_| asn.len() == 8)?;
    (ski.len() == 40 && ski.bytes().all(|b| b.is_ascii_hexdigit())).then(|| (asn, ski.into()))
}

/// The attributes of a router's request, whatever they are: RFC 8209
/// §3.2 leaves the certificate's contents to the CA, so a request is
/// read for its key and its proof of possession only.
struct AnyAttributes;

impl CsrAttributes for AnyAttributes {
    fn take_from<S: decode::Source>(
        cons: &mut decode::Constructed<S>,
    ) -> Result<Self, DecodeError<S::Error>> {
        cons.take_opt_constructed_if(Tag::CTX_0, |c| c.skip_all())?;
        Ok(AnyAttributes)
    }
}

/// Reads a router's PKCS#10 certificate request (PEM or DER): its
/// signature must be ecdsa-with-SHA256 and verify with its key, which
/// must be ECDSA P-256 (RFC 8608 §3.1, §3.2; RFC 8209 §3.2).
pub fn router_key_from_csr(asn: u32, csr: &[u8]) -> Result<RouterKey, CaError> {
    let bad = |reason: String| CaError::BadCsr(reason);
    let der = pem_or_der(csr).map_err(bad)?;
    let csr =
        Csr::<BgpsecSignatureAlgorithm, AnyAttributes>::decode(der.as_slice()).map_err(|e| {
            bad(format!(
                "not a PKCS#10 request signed with ecdsa-with-SHA256 (RFC 8608 §3.2): {e}"
            ))
        })?;
    if csr.public_key().algorithm() != PublicKeyFormat::EcdsaP256 {
        return Err(bad(
            "the key is not an ECDSA P-256 key (RFC 8608 §3.1)".into()
        ));
    }
    csr.verify_signature().map_err(|_| {
        bad("its signature does not verify with its own key: no proof of possession (RFC 8209 §3.2)".into())
    })?;
    Ok(RouterKey {
        asn,
        key: csr.public_key().clone(),
    })
}

/// The DER of a request given as PEM (`-----BEGIN CERTIFICATE REQUEST-----`)
/// or as DER.
fn pem_or_der(input: &[u8]) -> Result<Vec<u8>, String> {
    let Ok(text) = std::str::from_utf8(input) else {
        return Ok(input.to_vec());
    };
    let Some(start) = text.find("-----BEGIN ") else {
        return Ok(input.to_vec());
    };
    let body: String = text[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END "))
        .collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("bad PEM: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_parse_back() {
        let ski = "0123456789ABCDEF0123456789ABCDEF01234567";
        let name = router_file_name(64496, ski);
        assert_eq!(name, format!("ROUTER-0000FBF0-{ski}.cer"));
        assert_eq!(router_file_key(&name), Some((64496, ski.to_string())));
        assert_eq!(router_file_key("ROUTER-FBF0-AB.cer"), None);
        assert_eq!(router_file_key("0123.cer"), None);
    }
}
