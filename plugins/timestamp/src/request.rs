//! The `TimeStampReq` notation sends (tspclient-go `NewRequest`): version 1, the message imprint
//! of the content with a NULL hash parameter, a random positive nonce below 2^159, `certReq`
//! true so the token carries the TSA certificate, no policy and no extensions.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::asn1::{Int, Null, OctetString};
use der::{Any, Encode};
use notation_akv_protocol::HashAlgorithm;
use sha2::Digest;
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

/// Bytes of randomness in a nonce: 159 bits as tspclient-go draws, rounded to whole bytes with
/// the top bit clear so the INTEGER is positive.
const NONCE_LEN: usize = 20;

/// One timestamp request, kept to check the response against.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) imprint: MessageImprint,
    pub(crate) nonce: Int,
    der: Vec<u8>,
}

/// The OID and digest of `hash` over `content`.
pub(crate) fn digest(hash: HashAlgorithm, content: &[u8]) -> (ObjectIdentifier, Vec<u8>) {
    match hash {
        HashAlgorithm::Sha256 => (ID_SHA_256, sha2::Sha256::digest(content).to_vec()),
        HashAlgorithm::Sha384 => (ID_SHA_384, sha2::Sha384::digest(content).to_vec()),
        HashAlgorithm::Sha512 => (ID_SHA_512, sha2::Sha512::digest(content).to_vec()),
    }
}

/// The hash an OID names, when it is one notation accepts.
pub(crate) fn hash_of(oid: ObjectIdentifier) -> Option<HashAlgorithm> {
    match oid {
        o if o == ID_SHA_256 => Some(HashAlgorithm::Sha256),
        o if o == ID_SHA_384 => Some(HashAlgorithm::Sha384),
        o if o == ID_SHA_512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

fn nonce() -> Result<Int, String> {
    let mut bytes = [0u8; NONCE_LEN];
    notation_akv_http::fill_random(&mut bytes)
        .map_err(|_| "no randomness for the nonce".to_string())?;
    // Positive and minimally encoded: top bit clear, first byte not zero.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Int::new(&bytes).map_err(|e| format!("nonce: {e}"))
}

impl Request {
    /// A request for `content` hashed with `hash`, with a fresh nonce.
    pub fn new(content: &[u8], hash: HashAlgorithm) -> Result<Request, String> {
        Request::with_nonce(content, hash, nonce()?)
    }

    fn with_nonce(content: &[u8], hash: HashAlgorithm, nonce: Int) -> Result<Request, String> {
        let (oid, digest) = digest(hash, content);
        let imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifier {
                oid,
                parameters: Some(Any::from(Null)),
            },
            hashed_message: OctetString::new(digest).map_err(|e| e.to_string())?,
        };
        let der = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: imprint.clone(),
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .map_err(|e| format!("encoding the request: {e}"))?;
        Ok(Request {
            imprint,
            nonce,
            der,
        })
    }

    /// The DER `TimeStampReq` (`application/timestamp-query`).
    pub fn to_der(&self) -> Vec<u8> {
        self.der.clone()
    }

    /// The nonce, big-endian.
    pub fn nonce(&self) -> &[u8] {
        self.nonce.as_bytes()
    }

    /// The hashed message of the imprint.
    pub fn hashed_message(&self) -> &[u8] {
        self.imprint.hashed_message.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn requests_ask_for_the_certificate_with_a_fresh_positive_nonce() {
        let a = Request::new(b"signature", HashAlgorithm::Sha384).unwrap();
        let b = Request::new(b"signature", HashAlgorithm::Sha384).unwrap();
        assert_ne!(a.nonce(), b.nonce());
        let decoded = TimeStampReq::from_der(&a.to_der()).unwrap();
        assert!(decoded.cert_req);
        assert_eq!(decoded.message_imprint.hash_algorithm.oid, ID_SHA_384);
        assert_eq!(
            decoded.message_imprint.hashed_message.as_bytes(),
            sha2::Sha384::digest(b"signature").to_vec()
        );
        let nonce = decoded.nonce.unwrap();
        assert_eq!(nonce.as_bytes().len(), NONCE_LEN);
        assert!(nonce.as_bytes()[0] < 0x80);
        assert_eq!(decoded.req_policy, None);
    }

    #[test]
    fn the_request_bytes_are_what_tspclient_go_sends() {
        let nonce = Int::new(&[0x41; NONCE_LEN]).unwrap();
        let request = Request::with_nonce(b"signature", HashAlgorithm::Sha256, nonce).unwrap();
        let hex: String = request
            .to_der()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        // SEQUENCE { 1, { {sha256, NULL}, OCTET STRING(32) }, nonce, certReq TRUE }
        insta::assert_snapshot!(hex);
    }
}
