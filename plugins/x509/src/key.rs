//! Public keys: key specs, comparison with an Azure Key Vault JWK, and plugin signature checks.

use base64::Engine as _;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ID_EC_PUBLIC_KEY, RSA_ENCRYPTION, SECP_256_R_1, SECP_384_R_1, SECP_521_R_1,
};
use notation_akv_protocol::{KeySpec, SigningAlgorithm};
use serde::Deserialize;
use spki::SubjectPublicKeyInfoOwned;

use crate::verify::{Encoding, Hash, Scheme};

const SECP_256_K_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const ID_ED_25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const ID_ED_448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// Problems with a public key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The key is well formed but not one of the six Notary Project key specs.
    #[error(
        "unsupported key {found}: notation accepts RSA-2048, RSA-3072, RSA-4096, EC-256 (P-256), EC-384 (P-384) and EC-521 (P-521)"
    )]
    Unsupported { found: String },
    #[error("malformed public key: {0}")]
    Malformed(String),
    #[error("malformed JSON web key: {0}")]
    MalformedJwk(String),
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(
        "signing algorithm {algorithm} does not match key spec {key_spec} (expected {expected})"
    )]
    AlgorithmMismatch {
        algorithm: SigningAlgorithm,
        key_spec: KeySpec,
        expected: SigningAlgorithm,
    },
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("{0} signatures are not accepted here (SHA-1 is insecure)")]
    Sha1NotAllowed(String),
    #[error("malformed signature algorithm parameters: {0}")]
    MalformedParameters(String),
    #[error("signature algorithm {algorithm} cannot be used with this {key} key")]
    WrongKeyType { algorithm: String, key: String },
    #[error("the signature does not verify with the given public key")]
    Invalid,
}

/// The Notary Project key spec of a public key, or an error naming what was found instead
/// (`RSA-1024`, `EC secp256k1 (P-256K)`, `Ed25519`, …).
///
/// RSA sizes are counted like notation (modulus bytes × 8), so a 2047-bit modulus is RSA-2048.
pub fn key_spec(spki: &SubjectPublicKeyInfoOwned) -> Result<KeySpec, KeyError> {
    match public_key(spki)? {
        PublicKey::Rsa { modulus, .. } => {
            let bits = modulus.len() * 8;
            match bits {
                2048 => Ok(KeySpec::Rsa2048),
                3072 => Ok(KeySpec::Rsa3072),
                4096 => Ok(KeySpec::Rsa4096),
                _ => Err(KeyError::Unsupported {
                    found: format!("RSA-{bits}"),
                }),
            }
        }
        PublicKey::Ec { curve, .. } => match curve {
            Curve::P256 => Ok(KeySpec::Ec256),
            Curve::P384 => Ok(KeySpec::Ec384),
            Curve::P521 => Ok(KeySpec::Ec521),
        },
    }
}

/// A public key in Azure Key Vault's JSON Web Key form (`key` of a key bundle). Only public members
/// are read; base64url values may be padded or not.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Jwk {
    /// `RSA`, `RSA-HSM`, `EC` or `EC-HSM`.
    pub kty: String,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    /// `P-256`, `P-384`, `P-521` (or `P-256K`, which never matches a supported certificate).
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// Whether the certificate key `spki` is the same key as `jwk` (numbers compared without leading
/// zeros, so encodings that differ only in padding still match).
pub fn matches_jwk(spki: &SubjectPublicKeyInfoOwned, jwk: &Jwk) -> Result<bool, KeyError> {
    let field = |name: &str, v: &Option<String>| -> Result<Vec<u8>, KeyError> {
        let v = v
            .as_deref()
            .ok_or_else(|| KeyError::MalformedJwk(format!("missing \"{name}\"")))?;
        let v = v.trim_end_matches('=');
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(v))
            .map_err(|e| KeyError::MalformedJwk(format!("\"{name}\" is not base64url: {e}")))
    };
    let kty = jwk.kty.trim_end_matches("-HSM");
    match (public_key(spki), kty) {
        (Ok(PublicKey::Rsa { modulus, exponent }), "RSA") => Ok(strip_zeros(&field("n", &jwk.n)?)
            == strip_zeros(modulus)
            && strip_zeros(&field("e", &jwk.e)?) == strip_zeros(exponent)),
        (Ok(PublicKey::Ec { curve, point }), "EC") => {
            if jwk.crv.as_deref() != Some(curve.jwk_name()) {
                return Ok(false);
            }
            let (x, y) = uncompressed_coordinates(point, curve)?;
            Ok(strip_zeros(&field("x", &jwk.x)?) == strip_zeros(x)
                && strip_zeros(&field("y", &jwk.y)?) == strip_zeros(y))
        }
        (Ok(_), "RSA" | "EC") => Ok(false),
        // A certificate key notation cannot use cannot be "the vault key" in any useful sense.
        (Err(e), _) => Err(e),
        (Ok(_), other) => Err(KeyError::MalformedJwk(format!("unknown kty \"{other}\""))),
    }
}

/// Verifies a signature returned by a signing plugin exactly as notation's verifiers would:
/// the algorithm must be the one paired with the key's spec; RSASSA-PSS uses MGF1 with the same hash
/// and a salt of exactly the hash length (go-cose rejects any other salt, so we do too); ECDSA
/// signatures are fixed-width `r || s` (DER is rejected, as golang-jwt and go-cose do).
///
/// `message` is the payload notation sent (the JWS signing input or COSE `Sig_structure`), not
/// its digest.
pub fn verify_plugin_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: SigningAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let spec = key_spec(spki)?;
    let expected = spec.signing_algorithm();
    if algorithm != expected {
        return Err(SignatureError::AlgorithmMismatch {
            algorithm,
            key_spec: spec,
            expected,
        });
    }
    let scheme = match algorithm {
        SigningAlgorithm::RsassaPssSha256 => Scheme::Pss(Hash::Sha256),
        SigningAlgorithm::RsassaPssSha384 => Scheme::Pss(Hash::Sha384),
        SigningAlgorithm::RsassaPssSha512 => Scheme::Pss(Hash::Sha512),
        SigningAlgorithm::EcdsaSha256 => Scheme::Ecdsa(Hash::Sha256, Encoding::Fixed),
        SigningAlgorithm::EcdsaSha384 => Scheme::Ecdsa(Hash::Sha384, Encoding::Fixed),
        SigningAlgorithm::EcdsaSha512 => Scheme::Ecdsa(Hash::Sha512, Encoding::Fixed),
    };
    let key = public_key(spki)?;
    let key_bytes = spki.subject_public_key.raw_bytes();
    crate::verify::verify(scheme, &key, key_bytes, message, signature)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn jwk_name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    pub(crate) fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }
}

/// The parts of a supported public key.
pub(crate) enum PublicKey<'a> {
    Rsa {
        modulus: &'a [u8],
        exponent: &'a [u8],
    },
    Ec {
        curve: Curve,
        point: &'a [u8],
    },
}

impl PublicKey<'_> {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            PublicKey::Rsa { .. } => "RSA",
            PublicKey::Ec { .. } => "EC",
        }
    }
}

/// Splits an SPKI into a supported key, or says what it is.
pub(crate) fn public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey<'_>, KeyError> {
    let oid = spki.algorithm.oid;
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| KeyError::Malformed("public key bit string has unused bits".into()))?;
    if oid == RSA_ENCRYPTION {
        let (modulus, exponent) = rsa_public_key(key_bytes)?;
        Ok(PublicKey::Rsa { modulus, exponent })
    } else if oid == ID_EC_PUBLIC_KEY {
        let curve_oid = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or_else(|| KeyError::Unsupported {
                found: "EC key with explicit or missing curve parameters".into(),
            })?;
        let curve = match curve_oid {
            c if c == SECP_256_R_1 => Curve::P256,
            c if c == SECP_384_R_1 => Curve::P384,
            c if c == SECP_521_R_1 => Curve::P521,
            c if c == SECP_256_K_1 => {
                return Err(KeyError::Unsupported {
                    found: "EC secp256k1 (P-256K)".into(),
                });
            }
            c => {
                return Err(KeyError::Unsupported {
                    found: format!("EC curve {}", oid_name(c)),
                });
            }
        };
        Ok(PublicKey::Ec {
            curve,
            point: key_bytes,
        })
    } else {
        let found = match oid {
            o if o == ID_ED_25519 => "Ed25519".to_string(),
            o if o == ID_ED_448 => "Ed448".to_string(),
            o if o == ID_RSASSA_PSS => "RSASSA-PSS-only RSA key (id-RSASSA-PSS)".to_string(),
            o => format!("key algorithm {}", oid_name(o)),
        };
        Err(KeyError::Unsupported { found })
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`, returning unsigned
/// big-endian magnitudes.
fn rsa_public_key(der_bytes: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    use der::{Decode, Reader, asn1::UintRef};
    let malformed = |e: der::Error| KeyError::Malformed(format!("RSA public key: {e}"));
    let mut reader = der::SliceReader::new(der_bytes).map_err(malformed)?;
    let (n, e) = reader
        .sequence(|r| Ok((UintRef::decode(r)?, UintRef::decode(r)?)))
        .map_err(malformed)?;
    reader.finish(()).map_err(malformed)?;
    Ok((n.as_bytes(), e.as_bytes()))
}

fn uncompressed_coordinates(point: &[u8], curve: Curve) -> Result<(&[u8], &[u8]), KeyError> {
    let len = curve.field_len();
    match point.split_first() {
        Some((0x04, xy)) if xy.len() == 2 * len => Ok(xy.split_at(len)),
        _ => Err(KeyError::Malformed(
            "EC public key is not an uncompressed point".into(),
        )),
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// A readable OID: its registered name when const-oid knows it, else dotted form.
pub(crate) fn oid_name(oid: ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(&oid) {
        Some(name) => format!("{name} ({oid})"),
        None => oid.to_string(),
    }
}
