//! Signing keys for test CAs and responders, with the AlgorithmIdentifier their signatures carry.
//!
//! Keys come from `akv-test-pki` ([`TestKey`]), one source of key generation for every test
//! crate, and cover the six Notary key specs. The signature hash follows the key size as notation
//! pairs them (RSA-3072 → sha384WithRSAEncryption, EC P-521 → ecdsa-with-SHA512, …), so CRLs and
//! OCSP responses signed with each spec exercise each verification algorithm.

use std::fmt;

pub use akv_test_pki::KeySpec;
use akv_test_pki::TestKey;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::Null;
use notation_akv_protocol::HashAlgorithm;
use rcgen::{KeyPair, PublicKeyData, SigningKey as _};
use spki::AlgorithmIdentifierOwned;

use crate::FixtureError;

/// A private key that signs CRLs, OCSP responses and certificates.
pub struct Key {
    key: TestKey,
    /// The same key as an rcgen signer, its algorithm fixed by the spec.
    pair: KeyPair,
}

// Never print key material.
impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("spec", &self.key.spec())
            .finish_non_exhaustive()
    }
}

impl Key {
    /// A fresh key of `spec`.
    pub fn generate(spec: KeySpec) -> Result<Self, FixtureError> {
        Self::from_test_key(TestKey::generate(spec).map_err(pki_error)?)
    }

    /// The process-wide key of `(spec, slot)` ([`TestKey::cached`]): the same key for the same
    /// pair, generated once. RSA-3072/4096 generation takes seconds in a debug build, so tests
    /// that need many certificates of those specs share keys this way.
    pub fn cached(spec: KeySpec, slot: u32) -> Result<Self, FixtureError> {
        Self::from_test_key(TestKey::cached(spec, slot).map_err(pki_error)?)
    }

    fn from_test_key(key: TestKey) -> Result<Self, FixtureError> {
        let pair = key.key_pair().map_err(pki_error)?;
        Ok(Self { key, pair })
    }

    pub fn pair(&self) -> &KeyPair {
        &self.pair
    }

    pub fn spec(&self) -> KeySpec {
        self.key.spec()
    }

    /// Signature over `message`: ECDSA in ASN.1 form, RSA PKCS#1 v1.5, with the spec's hash.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, FixtureError> {
        Ok(self.pair.sign(message)?)
    }

    /// The AlgorithmIdentifier of [`Key::sign`]'s signatures.
    pub fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        signature_algorithm(self.spec())
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }

    /// PKCS#8 DER of the private key (for writing `openssl` inputs in tests).
    pub fn pkcs8_der(&self) -> Vec<u8> {
        self.key.pkcs8_der().to_vec()
    }

    pub fn pkcs8_pem(&self) -> String {
        self.key.pkcs8_pem()
    }

    /// An independent copy (rcgen key pairs are not `Clone`).
    pub fn duplicate(&self) -> Result<Self, FixtureError> {
        Self::from_test_key(self.key.clone())
    }
}

/// The AlgorithmIdentifier of signatures made with a key of `spec` (RSA ones carry a NULL
/// parameter, ECDSA ones none, as RFC 4055 and RFC 5758 say).
pub fn signature_algorithm(spec: KeySpec) -> AlgorithmIdentifierOwned {
    let oid: ObjectIdentifier = match (spec.is_rsa(), spec.hash()) {
        (true, HashAlgorithm::Sha256) => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        (true, HashAlgorithm::Sha384) => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        (true, HashAlgorithm::Sha512) => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
        (false, HashAlgorithm::Sha256) => rfc5912::ECDSA_WITH_SHA_256,
        (false, HashAlgorithm::Sha384) => rfc5912::ECDSA_WITH_SHA_384,
        (false, HashAlgorithm::Sha512) => rfc5912::ECDSA_WITH_SHA_512,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: spec.is_rsa().then(|| Null.into()),
    }
}

fn pki_error(e: akv_test_pki::PkiError) -> FixtureError {
    FixtureError::Other(format!("test key: {e}"))
}
