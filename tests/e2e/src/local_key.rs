//! A local private key that signs the way notation expects from a RAW signing plugin: the plugin
//! hashes the payload with the key's fixed hash; RSASSA-PSS with salt = hash length; ECDSA as
//! fixed-width `r || s` (never DER), which is what aws-lc-rs's `*_FIXED_SIGNING` produce.

use std::fmt;
use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, RsaKeyPair};

/// Why a key could not be loaded or used. Messages never include key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The PEM was malformed or had no usable block.
    #[error("{path}: {reason}")]
    Pem {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The key is not an RSA (2048/3072/4096) or EC (P-256/384/521) PKCS#8 key.
    #[error("{0}: not a supported PKCS#8 RSA or EC private key")]
    UnsupportedKey(String),
    /// The request asked for a hash that does not belong to this key's spec.
    #[error("hash algorithm {requested} does not match key spec {key_spec} (expects {expected})")]
    HashMismatch {
        /// What the request said.
        requested: String,
        /// The key's spec.
        key_spec: KeySpec,
        /// The hash the spec fixes.
        expected: &'static str,
    },
    /// aws-lc-rs refused to sign.
    #[error("signing failed")]
    Sign,
}

/// The Notary Project key specs (plugin contract `keySpec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// RSA-2048, PS256.
    Rsa2048,
    /// RSA-3072, PS384.
    Rsa3072,
    /// RSA-4096, PS512.
    Rsa4096,
    /// P-256, ES256.
    Ec256,
    /// P-384, ES384.
    Ec384,
    /// P-521, ES512.
    Ec521,
}

impl KeySpec {
    /// The wire string, e.g. `RSA-2048`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSA-2048",
            KeySpec::Rsa3072 => "RSA-3072",
            KeySpec::Rsa4096 => "RSA-4096",
            KeySpec::Ec256 => "EC-256",
            KeySpec::Ec384 => "EC-384",
            KeySpec::Ec521 => "EC-521",
        }
    }

    /// The `hashAlgorithm` notation sends for this spec.
    pub fn hash_algorithm(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 | KeySpec::Ec256 => "SHA-256",
            KeySpec::Rsa3072 | KeySpec::Ec384 => "SHA-384",
            KeySpec::Rsa4096 | KeySpec::Ec521 => "SHA-512",
        }
    }

    /// The `signingAlgorithm` a plugin reports for this spec.
    pub fn signing_algorithm(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSASSA-PSS-SHA-256",
            KeySpec::Rsa3072 => "RSASSA-PSS-SHA-384",
            KeySpec::Rsa4096 => "RSASSA-PSS-SHA-512",
            KeySpec::Ec256 => "ECDSA-SHA-256",
            KeySpec::Ec384 => "ECDSA-SHA-384",
            KeySpec::Ec521 => "ECDSA-SHA-512",
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key plus the DER certificate chain (leaf first) that goes with it.
pub struct LocalKey {
    signer: Signer,
    spec: KeySpec,
    chain: Vec<Vec<u8>>,
}

impl fmt::Debug for LocalKey {
    // Never print the key; the spec and chain length are enough to debug with.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("spec", &self.spec)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

const EC_ALGORITHMS: [(KeySpec, &EcdsaSigningAlgorithm); 3] = [
    (KeySpec::Ec256, &signature::ECDSA_P256_SHA256_FIXED_SIGNING),
    (KeySpec::Ec384, &signature::ECDSA_P384_SHA384_FIXED_SIGNING),
    (KeySpec::Ec521, &signature::ECDSA_P521_SHA512_FIXED_SIGNING),
];

impl LocalKey {
    /// Loads a PEM PKCS#8 key and a PEM certificate chain (leaf first).
    pub fn load(key_path: &Path, chain_path: &Path) -> Result<Self, KeyError> {
        let key_pem = read_pem(key_path)?;
        let key_der = key_pem
            .iter()
            .find(|block| block.tag() == "PRIVATE KEY")
            .ok_or_else(|| KeyError::Pem {
                path: key_path.display().to_string(),
                reason: "no PKCS#8 'PRIVATE KEY' block".into(),
            })?
            .contents();
        let (signer, spec) = parse_key(key_der)
            .ok_or_else(|| KeyError::UnsupportedKey(key_path.display().to_string()))?;
        let chain: Vec<Vec<u8>> = read_pem(chain_path)?
            .into_iter()
            .filter(|block| block.tag() == "CERTIFICATE")
            .map(|block| block.into_contents())
            .collect();
        if chain.is_empty() {
            return Err(KeyError::Pem {
                path: chain_path.display().to_string(),
                reason: "no CERTIFICATE block".into(),
            });
        }
        Ok(LocalKey {
            signer,
            spec,
            chain,
        })
    }

    /// The key spec derived from the key itself.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// DER certificates, leaf first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// Signs `payload` (the bytes notation sent, not a digest) after checking that
    /// `hash_algorithm` is the one this key's spec fixes.
    pub fn sign(&self, hash_algorithm: &str, payload: &[u8]) -> Result<Vec<u8>, KeyError> {
        let expected = self.spec.hash_algorithm();
        if hash_algorithm != expected {
            return Err(KeyError::HashMismatch {
                requested: hash_algorithm.to_owned(),
                key_spec: self.spec,
                expected,
            });
        }
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(key) => {
                let padding = match self.spec {
                    KeySpec::Rsa3072 => &signature::RSA_PSS_SHA384,
                    KeySpec::Rsa4096 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PSS_SHA256,
                };
                let mut sig = vec![0u8; key.public_modulus_len()];
                key.sign(padding, &rng, payload, &mut sig)
                    .map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
            Signer::Ec(key) => key
                .sign(&rng, payload)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
        }
    }
}

fn parse_key(der: &[u8]) -> Option<(Signer, KeySpec)> {
    if let Ok(key) = RsaKeyPair::from_pkcs8(der) {
        let spec = match key.public_modulus_len() * 8 {
            2048 => KeySpec::Rsa2048,
            3072 => KeySpec::Rsa3072,
            4096 => KeySpec::Rsa4096,
            _ => return None,
        };
        return Some((Signer::Rsa(key), spec));
    }
    EC_ALGORITHMS.iter().find_map(|(spec, alg)| {
        EcdsaKeyPair::from_pkcs8(alg, der)
            .ok()
            .map(|key| (Signer::Ec(key), *spec))
    })
}

fn read_pem(path: &Path) -> Result<Vec<pem::Pem>, KeyError> {
    let text = std::fs::read(path).map_err(|source| KeyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    pem::parse_many(text).map_err(|err| KeyError::Pem {
        path: path.display().to_string(),
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use akv_test_pki::{BundleOrder, ChainBuilder, KeySpec as PkiSpec};
    use aws_lc_rs::signature::{UnparsedPublicKey, VerificationAlgorithm};
    use rcgen::PublicKeyData;

    /// Loads the leaf of a fresh self-signed chain as a `LocalKey`; returns it with the leaf's
    /// raw public key.
    fn local_key(spec: PkiSpec) -> (LocalKey, Vec<u8>) {
        let chain = ChainBuilder::self_signed(spec).build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("key.pem");
        let chain_path = dir.path().join("chain.pem");
        std::fs::write(&key_path, chain.leaf().key().pkcs8_pem()).unwrap();
        std::fs::write(&chain_path, chain.pem_bundle(BundleOrder::LeafFirst)).unwrap();
        let public = chain.leaf().key().key_pair().unwrap().der_bytes().to_vec();
        let key = LocalKey::load(&key_path, &chain_path).unwrap();
        assert_eq!(key.chain(), chain.der_chain().as_slice());
        (key, public)
    }

    fn assert_verifies(alg: &'static dyn VerificationAlgorithm, public: &[u8], sig: &[u8]) {
        UnparsedPublicKey::new(alg, public)
            .verify(b"signing input", sig)
            .expect("signature verifies with the leaf key");
    }

    #[test]
    fn ecdsa_signatures_are_fixed_width_r_and_s() {
        let (key, public) = local_key(PkiSpec::Ec256);
        assert_eq!(key.spec(), KeySpec::Ec256);
        let sig = key.sign("SHA-256", b"signing input").unwrap();
        assert_eq!(sig.len(), 64);
        assert_verifies(&signature::ECDSA_P256_SHA256_FIXED, &public, &sig);
    }

    #[test]
    fn rsa_signatures_are_pss_with_salt_equal_to_hash_length() {
        let (key, public) = local_key(PkiSpec::Rsa2048);
        assert_eq!(key.spec(), KeySpec::Rsa2048);
        let sig = key.sign("SHA-256", b"signing input").unwrap();
        assert_eq!(sig.len(), 256);
        // aws-lc-rs verifies PSS with salt length = digest length only.
        assert_verifies(&signature::RSA_PSS_2048_8192_SHA256, &public, &sig);
    }

    #[test]
    fn a_hash_that_does_not_match_the_key_spec_is_refused() {
        let (key, _) = local_key(PkiSpec::Ec256);
        let err = key.sign("SHA-384", b"signing input").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hash algorithm SHA-384 does not match key spec EC-256 (expects SHA-256)"
        );
    }
}
