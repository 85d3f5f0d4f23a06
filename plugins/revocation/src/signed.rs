//! Signed X.509 structures (CRLs, OCSP responses, responder certificates): the exact to-be-signed
//! bytes, and the signature check, which `notation-akv-x509` performs (one verifier for the
//! whole project). SHA-1 is accepted for OCSP responses (responders still use it) and refused for
//! CRLs and certificates, as that crate's Notary Project rules say.

use der::{Decode, Reader, SliceReader};
use notation_akv_x509::Sha1;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// The raw to-be-signed TLV of a `SEQUENCE { tbs, algorithm, signature }` structure, exactly as
/// received: re-encoding a parsed value could differ from what the signer signed.
pub(crate) fn tbs_bytes(signed_der: &[u8]) -> Result<&[u8], String> {
    let mut outer = SliceReader::new(signed_der).map_err(|e| e.to_string())?;
    let header = der::Header::decode(&mut outer).map_err(|e| e.to_string())?;
    if header.tag != der::Tag::Sequence {
        return Err("not a SEQUENCE".into());
    }
    outer.tlv_bytes().map_err(|e| e.to_string())
}

/// Verifies `signature` over `message` with `key` under `algorithm`.
pub(crate) fn verify(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    sha1: Sha1,
) -> Result<(), String> {
    notation_akv_x509::verify_signed_data(key, algorithm, message, signature, sha1)
        .map_err(|e| e.to_string())
}

/// Checks that `cert_der` (a delegated OCSP responder) was signed by `issuer_key`.
pub(crate) fn verify_certificate(
    cert_der: &[u8],
    cert: &x509_cert::Certificate,
    issuer_key: &SubjectPublicKeyInfoOwned,
) -> Result<(), String> {
    let tbs = tbs_bytes(cert_der)?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or("certificate signature has unused bits")?;
    verify(
        issuer_key,
        &cert.signature_algorithm,
        tbs,
        signature,
        Sha1::Reject,
    )
}
