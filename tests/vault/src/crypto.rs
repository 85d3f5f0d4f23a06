//! Real signatures and public JWKs from test keys, with aws-lc-rs.
//!
//! AKV signs a digest the client computed: PS* is RSASSA-PSS with salt length = hash length,
//! ES* returns the raw fixed-width `r || s`, RS* is PKCS#1 v1.5 (only for negative tests).

use akv_test_pki::{KeySpec, TestKey};
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::signature::RsaKeyPair;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaEncoding};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Why a sign request is refused (AKV answers 400 BadParameter).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SignError {
    #[error("Unsupported signature algorithm {0}")]
    UnknownAlgorithm(String),
    #[error("Key and signing algorithm are incompatible: {alg} cannot be used with a {spec} key")]
    Mismatch { alg: String, spec: KeySpec },
    #[error("Invalid digest: {alg} expects a {expected}-byte digest, got {got} bytes")]
    DigestLength {
        alg: String,
        expected: usize,
        got: usize,
    },
    #[error("signing failed")]
    Internal,
}

enum Scheme {
    Pss(&'static dyn RsaEncoding),
    Pkcs1(&'static dyn RsaEncoding),
    Ecdsa(&'static signature::EcdsaSigningAlgorithm, KeySpec),
}

fn scheme(alg: &str) -> Option<(Scheme, &'static digest::Algorithm)> {
    use Scheme::*;
    Some(match alg {
        "PS256" => (Pss(&signature::RSA_PSS_SHA256), &digest::SHA256),
        "PS384" => (Pss(&signature::RSA_PSS_SHA384), &digest::SHA384),
        "PS512" => (Pss(&signature::RSA_PSS_SHA512), &digest::SHA512),
        "RS256" => (Pkcs1(&signature::RSA_PKCS1_SHA256), &digest::SHA256),
        "RS384" => (Pkcs1(&signature::RSA_PKCS1_SHA384), &digest::SHA384),
        "RS512" => (Pkcs1(&signature::RSA_PKCS1_SHA512), &digest::SHA512),
        "ES256" => (
            Ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, KeySpec::Ec256),
            &digest::SHA256,
        ),
        "ES384" => (
            Ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, KeySpec::Ec384),
            &digest::SHA384,
        ),
        "ES512" => (
            Ecdsa(&signature::ECDSA_P521_SHA512_FIXED_SIGNING, KeySpec::Ec521),
            &digest::SHA512,
        ),
        _ => return None,
    })
}

/// Signs `digest` (already hashed by the client) the way AKV's `keys/sign` does.
pub(crate) fn sign(key: &TestKey, alg: &str, digest_bytes: &[u8]) -> Result<Vec<u8>, SignError> {
    let (scheme, hash) = scheme(alg).ok_or_else(|| SignError::UnknownAlgorithm(alg.into()))?;
    let mismatch = || SignError::Mismatch {
        alg: alg.into(),
        spec: key.spec(),
    };
    let digest =
        Digest::import_less_safe(digest_bytes, hash).map_err(|_| SignError::DigestLength {
            alg: alg.into(),
            expected: hash.output_len(),
            got: digest_bytes.len(),
        })?;
    match scheme {
        Scheme::Pss(enc) | Scheme::Pkcs1(enc) => {
            if !key.spec().is_rsa() {
                return Err(mismatch());
            }
            let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).map_err(|_| SignError::Internal)?;
            let mut sig = vec![0u8; pair.public_modulus_len()];
            pair.sign_digest(enc, &digest, &mut sig)
                .map_err(|_| SignError::Internal)?;
            Ok(sig)
        }
        Scheme::Ecdsa(alg_impl, spec) => {
            if key.spec() != spec {
                return Err(mismatch());
            }
            let pair = EcdsaKeyPair::from_pkcs8(alg_impl, key.pkcs8_der())
                .map_err(|_| SignError::Internal)?;
            let sig = pair.sign_digest(&digest).map_err(|_| SignError::Internal)?;
            Ok(sig.as_ref().to_vec())
        }
    }
}

/// The public key as AKV's JSON Web Key (`key` in a key bundle).
pub(crate) fn jwk(key: &TestKey, kid: &str) -> Option<Value> {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match key.spec() {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
            let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).ok()?;
            let public = pair.public_key();
            Some(json!({
                "kid": kid,
                "kty": "RSA",
                "key_ops": ["sign", "verify", "wrapKey", "unwrapKey", "encrypt", "decrypt"],
                "n": b64(public.modulus().big_endian_without_leading_zero()),
                "e": b64(public.exponent().big_endian_without_leading_zero()),
            }))
        }
        spec => {
            let (alg, crv, width) = match spec {
                KeySpec::Ec256 => (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
                KeySpec::Ec384 => (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
                _ => (&signature::ECDSA_P521_SHA512_FIXED_SIGNING, "P-521", 66),
            };
            let pair = EcdsaKeyPair::from_pkcs8(alg, key.pkcs8_der()).ok()?;
            // Uncompressed point: 0x04 || x || y.
            let point = pair.public_key().as_ref();
            let (x, y) = point.get(1..)?.split_at_checked(width)?;
            Some(json!({
                "kid": kid,
                "kty": "EC",
                "key_ops": ["sign", "verify"],
                "crv": crv,
                "x": b64(x),
                "y": b64(y),
            }))
        }
    }
}

/// SHA-1 of a certificate (thumbprint).
pub(crate) fn sha1(cert_der: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der)
        .as_ref()
        .to_vec()
}

/// Base64url SHA-1 of a certificate (AKV's `x5t`).
pub(crate) fn x5t(cert_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(sha1(cert_der))
}

/// The PKCS#1 `RSAPublicKey` inside a certificate, if it holds an RSA key.
pub(crate) fn rsa_public_key_of(cert_der: &[u8]) -> Option<Vec<u8>> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(cert_der).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info;
    (spki.algorithm.oid.to_string() == "1.2.840.113549.1.1.1")
        .then(|| spki.subject_public_key.raw_bytes().to_vec())
}
