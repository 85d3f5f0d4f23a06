//! Key specs, hash and signing algorithms, and plugin capabilities, with their exact wire strings.
//!
//! The Notary Project allows exactly six key/algorithm pairs; the hash is fixed by the key
//! (notation-go `proto.HashAlgorithmFromKeySpec`), so every lookup here is total.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The key types notation understands (`describe-key` → `keySpec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum KeySpec {
    #[serde(rename = "RSA-2048")]
    Rsa2048,
    #[serde(rename = "RSA-3072")]
    Rsa3072,
    #[serde(rename = "RSA-4096")]
    Rsa4096,
    #[serde(rename = "EC-256")]
    Ec256,
    #[serde(rename = "EC-384")]
    Ec384,
    #[serde(rename = "EC-521")]
    Ec521,
}

/// Digest algorithms (`generate-signature` → `hashAlgorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum HashAlgorithm {
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

/// Signature algorithms (`generate-signature` response → `signingAlgorithm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SigningAlgorithm {
    #[serde(rename = "RSASSA-PSS-SHA-256")]
    RsassaPssSha256,
    #[serde(rename = "RSASSA-PSS-SHA-384")]
    RsassaPssSha384,
    #[serde(rename = "RSASSA-PSS-SHA-512")]
    RsassaPssSha512,
    #[serde(rename = "ECDSA-SHA-256")]
    EcdsaSha256,
    #[serde(rename = "ECDSA-SHA-384")]
    EcdsaSha384,
    #[serde(rename = "ECDSA-SHA-512")]
    EcdsaSha512,
}

/// Plugin capabilities (`get-plugin-metadata` → `capabilities`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Capability {
    #[serde(rename = "SIGNATURE_GENERATOR.RAW")]
    SignatureGeneratorRaw,
    #[serde(rename = "SIGNATURE_GENERATOR.ENVELOPE")]
    SignatureGeneratorEnvelope,
    #[serde(rename = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY")]
    TrustedIdentityVerifier,
    #[serde(rename = "SIGNATURE_VERIFIER.REVOCATION_CHECK")]
    RevocationCheckVerifier,
}

impl KeySpec {
    pub const ALL: [KeySpec; 6] = [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::Ec256,
        KeySpec::Ec384,
        KeySpec::Ec521,
    ];

    /// The hash notation pairs with this key.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            KeySpec::Rsa2048 | KeySpec::Ec256 => HashAlgorithm::Sha256,
            KeySpec::Rsa3072 | KeySpec::Ec384 => HashAlgorithm::Sha384,
            KeySpec::Rsa4096 | KeySpec::Ec521 => HashAlgorithm::Sha512,
        }
    }

    /// The signing algorithm notation pairs with this key.
    pub fn signing_algorithm(self) -> SigningAlgorithm {
        match self {
            KeySpec::Rsa2048 => SigningAlgorithm::RsassaPssSha256,
            KeySpec::Rsa3072 => SigningAlgorithm::RsassaPssSha384,
            KeySpec::Rsa4096 => SigningAlgorithm::RsassaPssSha512,
            KeySpec::Ec256 => SigningAlgorithm::EcdsaSha256,
            KeySpec::Ec384 => SigningAlgorithm::EcdsaSha384,
            KeySpec::Ec521 => SigningAlgorithm::EcdsaSha512,
        }
    }

    pub fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }

    /// RSA modulus size or EC curve size in bits.
    pub fn bits(self) -> u32 {
        match self {
            KeySpec::Rsa2048 => 2048,
            KeySpec::Rsa3072 => 3072,
            KeySpec::Rsa4096 => 4096,
            KeySpec::Ec256 => 256,
            KeySpec::Ec384 => 384,
            KeySpec::Ec521 => 521,
        }
    }

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
}

impl HashAlgorithm {
    /// Digest length in bytes (also the RSASSA-PSS salt length notation expects).
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }
}

impl SigningAlgorithm {
    /// Every Notary Project signing algorithm, in the order of [`KeySpec::ALL`].
    pub const ALL: [SigningAlgorithm; 6] = [
        SigningAlgorithm::RsassaPssSha256,
        SigningAlgorithm::RsassaPssSha384,
        SigningAlgorithm::RsassaPssSha512,
        SigningAlgorithm::EcdsaSha256,
        SigningAlgorithm::EcdsaSha384,
        SigningAlgorithm::EcdsaSha512,
    ];

    /// The JWS `alg` name, which is also the Azure Key Vault sign algorithm.
    pub fn jws_name(self) -> &'static str {
        match self {
            SigningAlgorithm::RsassaPssSha256 => "PS256",
            SigningAlgorithm::RsassaPssSha384 => "PS384",
            SigningAlgorithm::RsassaPssSha512 => "PS512",
            SigningAlgorithm::EcdsaSha256 => "ES256",
            SigningAlgorithm::EcdsaSha384 => "ES384",
            SigningAlgorithm::EcdsaSha512 => "ES512",
        }
    }

    /// The COSE algorithm identifier (RFC 9053).
    pub fn cose_id(self) -> i64 {
        match self {
            SigningAlgorithm::RsassaPssSha256 => -37,
            SigningAlgorithm::RsassaPssSha384 => -38,
            SigningAlgorithm::RsassaPssSha512 => -39,
            SigningAlgorithm::EcdsaSha256 => -7,
            SigningAlgorithm::EcdsaSha384 => -35,
            SigningAlgorithm::EcdsaSha512 => -36,
        }
    }

    pub fn hash(self) -> HashAlgorithm {
        match self {
            SigningAlgorithm::RsassaPssSha256 | SigningAlgorithm::EcdsaSha256 => {
                HashAlgorithm::Sha256
            }
            SigningAlgorithm::RsassaPssSha384 | SigningAlgorithm::EcdsaSha384 => {
                HashAlgorithm::Sha384
            }
            SigningAlgorithm::RsassaPssSha512 | SigningAlgorithm::EcdsaSha512 => {
                HashAlgorithm::Sha512
            }
        }
    }
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::SignatureGeneratorRaw => "SIGNATURE_GENERATOR.RAW",
            Capability::SignatureGeneratorEnvelope => "SIGNATURE_GENERATOR.ENVELOPE",
            Capability::TrustedIdentityVerifier => "SIGNATURE_VERIFIER.TRUSTED_IDENTITY",
            Capability::RevocationCheckVerifier => "SIGNATURE_VERIFIER.REVOCATION_CHECK",
        }
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(KeySpec, HashAlgorithm, Capability);

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Serialize gives the wire string; reuse it so the two never drift.
        let s = serde_json::to_value(self).map_err(|_| fmt::Error)?;
        f.write_str(s.as_str().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip() {
        for spec in KeySpec::ALL {
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(json, format!("\"{}\"", spec.as_str()));
            assert_eq!(serde_json::from_str::<KeySpec>(&json).unwrap(), spec);
            assert_eq!(spec.signing_algorithm().hash(), spec.hash());
        }
    }

    #[test]
    fn unknown_key_spec_is_rejected() {
        assert!(serde_json::from_str::<KeySpec>("\"EC-256K\"").is_err());
    }
}
