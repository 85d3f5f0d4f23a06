//! Signatures on CRLs, OCSP responses and certificates, checked against an issuer's public key.
//!
//! TEMPORARY: `notation-akv-x509` is to offer signature verification over aws-lc-rs; until it lands
//! this private module does the minimum the engine needs. Replace it with that crate's API.

use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::{Decode, Encode, Reader, SliceReader};
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

const ID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Verifies `signature` over `message` with `key` under `algorithm`. SHA-1 signatures are refused.
pub(crate) fn verify(
    key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let key_bytes = key.subject_public_key.raw_bytes();
    let alg: &dyn VerificationAlgorithm = match algorithm.oid {
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => &sig::RSA_PKCS1_2048_8192_SHA256,
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => &sig::RSA_PKCS1_2048_8192_SHA384,
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => &sig::RSA_PKCS1_2048_8192_SHA512,
        rfc5912::ID_RSASSA_PSS => pss_algorithm(algorithm)?,
        rfc5912::ECDSA_WITH_SHA_256 | rfc5912::ECDSA_WITH_SHA_384 | rfc5912::ECDSA_WITH_SHA_512 => {
            ecdsa_algorithm(key, algorithm.oid)?
        }
        ID_ED25519 => &sig::ED25519,
        other => return Err(format!("unsupported signature algorithm {other}")),
    };
    if key.algorithm.oid != expected_key_oid(algorithm.oid) {
        return Err(format!(
            "key type {} does not match signature algorithm {}",
            key.algorithm.oid, algorithm.oid
        ));
    }
    sig::UnparsedPublicKey::new(alg, key_bytes)
        .verify(message, signature)
        .map_err(|_| "signature does not verify with the issuer's key".to_string())
}

fn expected_key_oid(sig_alg: ObjectIdentifier) -> ObjectIdentifier {
    match sig_alg {
        rfc5912::ECDSA_WITH_SHA_256 | rfc5912::ECDSA_WITH_SHA_384 | rfc5912::ECDSA_WITH_SHA_512 => {
            rfc5912::ID_EC_PUBLIC_KEY
        }
        ID_ED25519 => ID_ED25519,
        _ => rfc5912::RSA_ENCRYPTION,
    }
}

fn ecdsa_algorithm(
    key: &SubjectPublicKeyInfoOwned,
    sig_alg: ObjectIdentifier,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or("EC key without a named curve")?;
    Ok(match (curve, sig_alg) {
        (rfc5912::SECP_256_R_1, rfc5912::ECDSA_WITH_SHA_256) => &sig::ECDSA_P256_SHA256_ASN1,
        (rfc5912::SECP_256_R_1, rfc5912::ECDSA_WITH_SHA_384) => &sig::ECDSA_P256_SHA384_ASN1,
        (rfc5912::SECP_256_R_1, rfc5912::ECDSA_WITH_SHA_512) => &sig::ECDSA_P256_SHA512_ASN1,
        (rfc5912::SECP_384_R_1, rfc5912::ECDSA_WITH_SHA_256) => &sig::ECDSA_P384_SHA256_ASN1,
        (rfc5912::SECP_384_R_1, rfc5912::ECDSA_WITH_SHA_384) => &sig::ECDSA_P384_SHA384_ASN1,
        (rfc5912::SECP_384_R_1, rfc5912::ECDSA_WITH_SHA_512) => &sig::ECDSA_P384_SHA512_ASN1,
        (rfc5912::SECP_521_R_1, rfc5912::ECDSA_WITH_SHA_256) => &sig::ECDSA_P521_SHA256_ASN1,
        (rfc5912::SECP_521_R_1, rfc5912::ECDSA_WITH_SHA_384) => &sig::ECDSA_P521_SHA384_ASN1,
        (rfc5912::SECP_521_R_1, rfc5912::ECDSA_WITH_SHA_512) => &sig::ECDSA_P521_SHA512_ASN1,
        (c, _) => return Err(format!("unsupported EC curve {c}")),
    })
}

/// RSASSA-PSS with MGF1 over the same hash (the only combination aws-lc-rs verifies).
fn pss_algorithm(
    algorithm: &AlgorithmIdentifierOwned,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or("RSASSA-PSS without parameters")?
        .to_der()
        .map_err(|e| e.to_string())?;
    let params = pkcs1::RsaPssParams::from_der(&params).map_err(|e| e.to_string())?;
    let mgf_hash = params
        .mask_gen
        .parameters
        .as_ref()
        .map(|h| h.oid)
        .ok_or("RSASSA-PSS without MGF1 hash")?;
    if mgf_hash != params.hash.oid {
        return Err("RSASSA-PSS with an MGF1 hash unlike the message hash".into());
    }
    Ok(match params.hash.oid {
        rfc5912::ID_SHA_256 => &sig::RSA_PSS_2048_8192_SHA256,
        rfc5912::ID_SHA_384 => &sig::RSA_PSS_2048_8192_SHA384,
        rfc5912::ID_SHA_512 => &sig::RSA_PSS_2048_8192_SHA512,
        other => return Err(format!("unsupported RSASSA-PSS hash {other}")),
    })
}

/// Checks that `cert` was signed by `issuer_key` (used for delegated OCSP responders).
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
    verify(issuer_key, &cert.signature_algorithm, tbs, signature)
}
