//! Signing keys for test CAs and responders, with the AlgorithmIdentifier their signatures carry.

use const_oid::db::rfc5912;
use der::asn1::Null;
use rcgen::{KeyPair, PublicKeyData, SigningKey as _};
use spki::AlgorithmIdentifierOwned;

use crate::FixtureError;

/// Key algorithm of a test key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    EcP256,
    Rsa2048,
}

/// A private key that signs CRLs, OCSP responses and certificates.
#[derive(Debug)]
pub struct Key {
    pair: KeyPair,
    alg: Alg,
}

impl Key {
    pub fn generate(alg: Alg) -> Result<Self, FixtureError> {
        let pair = match alg {
            Alg::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
            Alg::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?
            }
        };
        Ok(Self { pair, alg })
    }

    pub fn pair(&self) -> &KeyPair {
        &self.pair
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// Signature over `message` (ECDSA in ASN.1 form; RSA PKCS#1 v1.5 with SHA-256).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, FixtureError> {
        Ok(self.pair.sign(message)?)
    }

    /// The AlgorithmIdentifier of [`Key::sign`]'s signatures.
    pub fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        match self.alg {
            Alg::EcP256 => AlgorithmIdentifierOwned {
                oid: rfc5912::ECDSA_WITH_SHA_256,
                parameters: None,
            },
            Alg::Rsa2048 => AlgorithmIdentifierOwned {
                oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
                parameters: Some(Null.into()),
            },
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }

    /// PKCS#8 DER of the private key (for writing `openssl` inputs in tests).
    pub fn pkcs8_der(&self) -> Vec<u8> {
        self.pair.serialize_der()
    }

    pub fn pkcs8_pem(&self) -> String {
        self.pair.serialize_pem()
    }
}

impl Key {
    /// An independent copy (rcgen key pairs are not `Clone`).
    pub fn duplicate(&self) -> Result<Self, FixtureError> {
        let alg = match self.alg {
            Alg::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Alg::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        };
        let der = rustls_pki_types_der(&self.pair.serialize_der());
        Ok(Self {
            pair: KeyPair::from_pkcs8_der_and_sign_algo(&der, alg)?,
            alg: self.alg,
        })
    }
}

fn rustls_pki_types_der(
    der: &[u8],
) -> tokio_rustls::rustls::pki_types::PrivatePkcs8KeyDer<'static> {
    tokio_rustls::rustls::pki_types::PrivatePkcs8KeyDer::from(der.to_vec())
}
