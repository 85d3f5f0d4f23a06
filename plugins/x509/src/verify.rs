//! Every signature check of the plugins, in one place.
//!
//! [ring] checks what it implements: RSA PKCS #1 v1.5 and RSASSA-PSS (2048 to 8192 bits), and
//! ECDSA on P-256 and P-384 with SHA-256 or SHA-384, the pairings nearly every certificate, OCSP
//! response, CRL, timestamp token and signature uses. RustCrypto's curve crates (`p256`, `p384`,
//! `p521`) check the other ECDSA cases over a digest ring computes: P-521 (the Notary Project's
//! EC-521), ecdsa-with-SHA512 or -SHA1 on the smaller curves, and keys whose point is compressed.
//!
//! Why not aws-lc, which covers all of it in one library: aws-lc links as one block of about
//! 2 MB per binary (its TLS ciphers, post-quantum schemes and the rest come with any use), which
//! alone put the plugins over their size budget; ring is already linked for TLS and randomness.

use ring::digest;
use ring::signature::{self as rs, UnparsedPublicKey};
use signature::hazmat::PrehashVerifier;

use crate::key::{Curve, PublicKey, SignatureError};

/// The message digest of a signature scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn ring(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }
}

/// How an ECDSA signature's `r` and `s` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// DER `SEQUENCE { r, s }`: X.509, OCSP, CRLs, CMS.
    Der,
    /// `r || s`, each the curve's field length: JWS, COSE and Azure Key Vault.
    Fixed,
}

/// A signature scheme with its parameters. PSS always has MGF1 with the message hash and a salt
/// of the hash length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Pkcs1(Hash),
    Pss(Hash),
    Ecdsa(Hash, Encoding),
}

/// Checks `signature` over `message` with `key`, whose SPKI `subjectPublicKey` bytes are
/// `key_bytes`. The caller has matched the scheme to the key type and bounded RSA key sizes.
pub(crate) fn verify(
    scheme: Scheme,
    key: &PublicKey<'_>,
    key_bytes: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    if let Some(algorithm) = ring_algorithm(scheme, key) {
        return UnparsedPublicKey::new(algorithm, key_bytes)
            .verify(message, signature)
            .map_err(|_| SignatureError::Invalid);
    }
    match (scheme, key) {
        (Scheme::Ecdsa(hash, encoding), PublicKey::Ec { curve, point }) => {
            let digest = digest::digest(hash.ring(), message);
            ecdsa_prehash(*curve, point, digest.as_ref(), signature, encoding)
        }
        _ => Err(SignatureError::UnsupportedAlgorithm(format!("{scheme:?}"))),
    }
}

/// ring's verifier for the scheme and key, when ring has one.
fn ring_algorithm(
    scheme: Scheme,
    key: &PublicKey<'_>,
) -> Option<&'static dyn rs::VerificationAlgorithm> {
    Some(match (scheme, key) {
        (Scheme::Pkcs1(hash), PublicKey::Rsa { .. }) => match hash {
            Hash::Sha1 => &rs::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &rs::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &rs::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &rs::RSA_PKCS1_2048_8192_SHA512,
        },
        (Scheme::Pss(hash), PublicKey::Rsa { .. }) => match hash {
            Hash::Sha256 => &rs::RSA_PSS_2048_8192_SHA256,
            Hash::Sha384 => &rs::RSA_PSS_2048_8192_SHA384,
            Hash::Sha512 => &rs::RSA_PSS_2048_8192_SHA512,
            Hash::Sha1 => return None,
        },
        // ring reads uncompressed points only.
        (Scheme::Ecdsa(hash, encoding), PublicKey::Ec { curve, point })
            if point.first() == Some(&4) =>
        {
            match (curve, hash, encoding) {
                (Curve::P256, Hash::Sha256, Encoding::Der) => &rs::ECDSA_P256_SHA256_ASN1,
                (Curve::P256, Hash::Sha384, Encoding::Der) => &rs::ECDSA_P256_SHA384_ASN1,
                (Curve::P384, Hash::Sha256, Encoding::Der) => &rs::ECDSA_P384_SHA256_ASN1,
                (Curve::P384, Hash::Sha384, Encoding::Der) => &rs::ECDSA_P384_SHA384_ASN1,
                (Curve::P256, Hash::Sha256, Encoding::Fixed) => &rs::ECDSA_P256_SHA256_FIXED,
                (Curve::P384, Hash::Sha384, Encoding::Fixed) => &rs::ECDSA_P384_SHA384_FIXED,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// ECDSA over a digest with RustCrypto: the curve's point and signature decoders, then
/// `verify_prehash`, which takes the digest's leftmost bits when it is longer than the curve
/// order and its value as it is when shorter (FIPS 186), as Go and OpenSSL do.
///
/// `verify_prehash` refuses a digest shorter than half the field (SHA-256 on P-521, SHA-1 on
/// P-384), which certificates do use; leading zero bytes up to that length do not change the
/// digest's value, so it gets them.
fn ecdsa_prehash(
    curve: Curve,
    point: &[u8],
    digest: &[u8],
    signature: &[u8],
    encoding: Encoding,
) -> Result<(), SignatureError> {
    let half = curve.field_len().div_ceil(2);
    let mut padded = [0u8; 64];
    let digest = if digest.len() < half {
        padded[half - digest.len()..half].copy_from_slice(digest);
        &padded[..half]
    } else {
        digest
    };
    macro_rules! check {
        ($curve:ident) => {{
            let key = $curve::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| SignatureError::Invalid)?;
            let signature = match encoding {
                Encoding::Der => $curve::ecdsa::Signature::from_der(signature),
                Encoding::Fixed => $curve::ecdsa::Signature::from_slice(signature),
            }
            .map_err(|_| SignatureError::Invalid)?;
            key.verify_prehash(digest, &signature)
                .map_err(|_| SignatureError::Invalid)
        }};
    }
    match curve {
        Curve::P256 => check!(p256),
        Curve::P384 => check!(p384),
        Curve::P521 => check!(p521),
    }
}
