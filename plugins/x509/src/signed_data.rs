//! Signatures in X.509 structures (certificates, CRLs, OCSP responses): an `AlgorithmIdentifier`,
//! the signed DER, the signature bits and the signer's public key.
//!
//! Accepted, as Go's `x509.CheckSignature` accepts them: sha{256,384,512}WithRSAEncryption
//! (PKCS #1 v1.5), RSASSA-PSS with SHA-2 whose MGF1 hash equals the message hash and whose salt is
//! the hash length, and ecdsa-with-SHA{256,384,512} (DER `r`,`s`) on P-256/384/521 in any
//! hash/curve pairing. SHA-1 (sha1WithRSAEncryption, ecdsa-with-SHA1) is accepted only when the
//! caller passes [`Sha1::Allow`] — OCSP responders still sign with it, certificates must not.
//! RSA signer keys must be 2048–8192 bits. The check itself is `crate::verify`'s.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, ID_MGF_1, ID_RSASSA_PSS,
    ID_SHA_256, ID_SHA_384, ID_SHA_512, SHA_1_WITH_RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION,
    SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::cert::Certificate;
use crate::key::{PublicKey, SignatureError, oid_name, public_key};
use crate::verify::{Encoding, Hash, Scheme};

const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Whether SHA-1 based signatures are acceptable for this check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sha1 {
    /// Certificates and CRLs (Notary Project rules).
    Reject,
    /// OCSP responses, which many responders still sign with SHA-1.
    Allow,
}

/// Whether `algorithm` is a SHA-1 based signature algorithm (for reporting, without verifying).
pub(crate) fn is_sha1(algorithm: &AlgorithmIdentifierOwned) -> bool {
    algorithm.oid == SHA_1_WITH_RSA_ENCRYPTION || algorithm.oid == ECDSA_WITH_SHA_1
}

/// A readable name for a signature algorithm, e.g. `sha256WithRSAEncryption (1.2.840.113549.1.1.11)`.
pub fn algorithm_name(algorithm: &AlgorithmIdentifierOwned) -> String {
    // const-oid's database lacks ecdsa-with-SHA1; name it the way RFC 3279 does.
    if algorithm.oid == ECDSA_WITH_SHA_1 {
        return format!("ecdsa-with-SHA1 ({ECDSA_WITH_SHA_1})");
    }
    oid_name(algorithm.oid)
}

/// Verifies `signature` over `signed` (the DER of the TBS part) with `signer`.
pub fn verify_signed_data(
    signer: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    signed: &[u8],
    signature: &[u8],
    sha1: Sha1,
) -> Result<(), SignatureError> {
    let scheme = scheme(algorithm)?;
    let hash = match scheme {
        Scheme::Pkcs1(h) | Scheme::Pss(h) | Scheme::Ecdsa(h, _) => h,
    };
    if hash == Hash::Sha1 && sha1 == Sha1::Reject {
        return Err(SignatureError::Sha1NotAllowed(algorithm_name(algorithm)));
    }
    let key = public_key(signer)?;
    let wrong_key = |key: &PublicKey<'_>| SignatureError::WrongKeyType {
        algorithm: algorithm_name(algorithm),
        key: key.kind().to_string(),
    };
    if let PublicKey::Rsa { modulus, .. } = &key {
        let bits = modulus.len() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(SignatureError::UnsupportedAlgorithm(format!(
                "{} with an RSA-{bits} signer key (2048 to 8192 bits are supported)",
                algorithm_name(algorithm)
            )));
        }
    }
    match (scheme, &key) {
        (Scheme::Pkcs1(_) | Scheme::Pss(_), PublicKey::Rsa { .. })
        | (Scheme::Ecdsa(..), PublicKey::Ec { .. }) => {}
        (_, key) => return Err(wrong_key(key)),
    }
    let key_bytes = signer.subject_public_key.raw_bytes();
    crate::verify::verify(scheme, &key, key_bytes, signed, signature)
}

impl Certificate {
    /// Verifies this certificate's signature with `issuer`'s public key (SHA-1 per `sha1`).
    pub fn verify_signed_by(&self, issuer: &Certificate, sha1: Sha1) -> Result<(), SignatureError> {
        let x509 = self.x509();
        let tbs = x509
            .tbs_certificate
            .to_der()
            .map_err(|e| SignatureError::MalformedParameters(e.to_string()))?;
        let signature = x509.signature.as_bytes().ok_or(SignatureError::Invalid)?;
        verify_signed_data(
            issuer.public_key(),
            &x509.signature_algorithm,
            &tbs,
            signature,
            sha1,
        )
    }
}

fn unsupported(algorithm: &AlgorithmIdentifierOwned) -> SignatureError {
    SignatureError::UnsupportedAlgorithm(algorithm_name(algorithm))
}

fn scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, SignatureError> {
    let oid = algorithm.oid;
    Ok(match oid {
        o if o == SHA_1_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha1),
        o if o == SHA_256_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha256),
        o if o == SHA_384_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha384),
        o if o == SHA_512_WITH_RSA_ENCRYPTION => Scheme::Pkcs1(Hash::Sha512),
        o if o == ECDSA_WITH_SHA_1 => Scheme::Ecdsa(Hash::Sha1, Encoding::Der),
        o if o == ECDSA_WITH_SHA_256 => Scheme::Ecdsa(Hash::Sha256, Encoding::Der),
        o if o == ECDSA_WITH_SHA_384 => Scheme::Ecdsa(Hash::Sha384, Encoding::Der),
        o if o == ECDSA_WITH_SHA_512 => Scheme::Ecdsa(Hash::Sha512, Encoding::Der),
        o if o == ID_RSASSA_PSS => Scheme::Pss(pss_hash(algorithm)?),
        _ => return Err(unsupported(algorithm)),
    })
}

/// The hash of RSASSA-PSS parameters, accepted only in the shape Go verifies: SHA-2, MGF1 with the
/// same hash, salt = hash length, trailer 1.
fn pss_hash(algorithm: &AlgorithmIdentifierOwned) -> Result<Hash, SignatureError> {
    let malformed = |m: String| SignatureError::MalformedParameters(format!("RSASSA-PSS: {m}"));
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| malformed("parameters are missing".into()))?
        .to_der()
        .map_err(|e| malformed(e.to_string()))?;
    let params = pkcs1::RsaPssParams::from_der(&params).map_err(|e| malformed(e.to_string()))?;
    let (hash, len) = match params.hash.oid {
        o if o == ID_SHA_256 => (Hash::Sha256, 32),
        o if o == ID_SHA_384 => (Hash::Sha384, 48),
        o if o == ID_SHA_512 => (Hash::Sha512, 64),
        o => return Err(malformed(format!("unsupported hash {}", oid_name(o)))),
    };
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if params.mask_gen.oid != ID_MGF_1 || mgf_hash != Some(params.hash.oid) {
        return Err(malformed(
            "the MGF1 hash must equal the message hash".into(),
        ));
    }
    if usize::from(params.salt_len) != len {
        return Err(malformed(format!(
            "salt length {} is not the hash length {len}",
            params.salt_len
        )));
    }
    if params.trailer_field != pkcs1::TrailerField::BC {
        return Err(malformed("trailer field must be 1".into()));
    }
    Ok(hash)
}
