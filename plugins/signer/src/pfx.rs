//! Certificates from the PKCS#12 (PFX) files AKV serves as `application/x-pkcs12`: empty password.
//!
//! "Empty password" has two encodings wherever the PKCS#12 key derivation (RFC 7292 appendix B)
//! is used, that is for the MAC and for the legacy PBES1 ciphers (RC2-40, 3DES):
//!
//! - the empty BMPString with its terminator, two zero bytes: OpenSSL, p12-keystore, Python;
//! - a zero-length password: Windows' NULL-password export (Go's pkcs12 readers retry with it).
//!
//! PBES2 (PBKDF2) sees zero password bytes either way. p12-keystore reads the first encoding; when
//! it refuses a file, [`certificates`] retries with a focused reader that accepts either encoding
//! (per MAC and per encrypted safe), reads only certificate bags and never decrypts a key bag.

use cbc::cipher::{
    BlockCipherDecrypt, BlockModeDecrypt, InnerIvInit, KeyInit, block_padding::Pkcs7,
};
use hmac::{Mac, digest::OutputSizeUser};
use pkcs12::cms::cert::x509::der::Any;
use pkcs12::cms::cert::x509::der::asn1::{ContextSpecific, OctetString};
use pkcs12::cms::cert::x509::der::{Decode, Encode};
use pkcs12::cms::cert::x509::spki::AlgorithmIdentifierOwned;
use pkcs12::cms::content_info::ContentInfo;
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use pkcs12::pbe_params::Pkcs12PbeParams;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{AuthenticatedSafe, CertBag, MacData, SafeBag};

/// The two encodings of the empty password in the PKCS#12 KDF, the common one first.
const EMPTY_PASSWORDS: [&[u8]; 2] = [&[0, 0], &[]];
/// Bounds the work a hostile file can ask for (p12-keystore uses the same cap).
const MAX_ITERATIONS: i32 = 1_000_000;

const ID_DATA: &str = "1.2.840.113549.1.7.1";
const ID_ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const PBES2: &str = "1.2.840.113549.1.5.13";
const PBE_SHA1_3DES: &str = "1.2.840.113549.1.12.1.3";
const PBE_SHA1_RC2_40: &str = "1.2.840.113549.1.12.1.6";
const PBE_SHA1_RC2_128: &str = "1.2.840.113549.1.12.1.5";

/// The DER certificates of a PFX, in file order, and whether it also held a private key.
#[derive(Debug)]
pub struct Pkcs12Certificates {
    pub certificates: Vec<Vec<u8>>,
    pub had_private_key: bool,
}

/// Reads the certificates of a PFX with an empty password (either encoding). The error says
/// what could not be read, without any of the file's content.
pub fn certificates(der: &[u8]) -> Result<Pkcs12Certificates, String> {
    let primary = match p12_keystore::Pkcs12Archive::from_pkcs12(der, "") {
        Ok(archive) => {
            let certificates = archive
                .certs
                .iter()
                .map(|bag| bag.cert.as_der().to_vec())
                .collect();
            return Ok(Pkcs12Certificates {
                certificates,
                had_private_key: !archive.keys.is_empty(),
            });
        }
        Err(e) => e.to_string(),
    };
    read_certificates(der).map_err(|fallback| {
        if primary == fallback {
            primary
        } else {
            format!("{fallback} (p12-keystore: {primary})")
        }
    })
}

/// The focused reader: MAC and certificate safes, either empty-password encoding.
fn read_certificates(der: &[u8]) -> Result<Pkcs12Certificates, String> {
    let pfx = Pfx::from_der(der).map_err(|e| format!("not a PKCS#12 file: {e}"))?;
    if pfx.version != Version::V3 {
        return Err("unsupported PKCS#12 version (only v3 exists)".into());
    }
    if pfx.auth_safe.content_type.to_string() != ID_DATA {
        return Err(
            "the PKCS#12 uses public-key integrity mode, which needs the owner's key".into(),
        );
    }
    let auth_safe = octets(&pfx.auth_safe)?;
    if let Some(mac) = &pfx.mac_data {
        verify_mac(mac, &auth_safe)?;
    }
    let safes = AuthenticatedSafe::from_der(&auth_safe)
        .map_err(|e| format!("malformed authenticated safe: {e}"))?;
    let mut found = Pkcs12Certificates {
        certificates: Vec::new(),
        had_private_key: false,
    };
    for safe in &safes {
        let contents = match safe.content_type.to_string().as_str() {
            ID_DATA => octets(safe)?,
            ID_ENCRYPTED_DATA => decrypt_safe(safe)?,
            other => return Err(format!("unsupported PKCS#12 safe content type {other}")),
        };
        collect_bags(&contents, &mut found, 0)?;
    }
    Ok(found)
}

/// The bytes of a `data` ContentInfo.
fn octets(info: &ContentInfo) -> Result<Vec<u8>, String> {
    let any = info.content.to_der().map_err(|e| e.to_string())?;
    OctetString::from_der(&any)
        .map(|o| o.into_bytes().into_vec())
        .map_err(|e| format!("malformed PKCS#12 data: {e}"))
}

const SAFE_CONTENTS_BAG: &str = "1.2.840.113549.1.12.10.1.6";
const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const X509_CERTIFICATE: &str = "1.2.840.113549.1.9.22.1";

/// Certificate bags are kept; key bags are only noted, never decrypted; others are ignored.
fn collect_bags(der: &[u8], found: &mut Pkcs12Certificates, depth: u8) -> Result<(), String> {
    // Nested safe-contents bags are legal; a few levels are plenty.
    if depth > 4 {
        return Err("PKCS#12 safe contents nested too deeply".into());
    }
    let bags =
        <Vec<SafeBag>>::from_der(der).map_err(|e| format!("malformed safe contents: {e}"))?;
    for bag in bags {
        // A decoded bag value keeps its `[0] EXPLICIT` wrapper.
        match bag.bag_id.to_string().as_str() {
            CERT_BAG => {
                let cert = ContextSpecific::<CertBag>::from_der(&bag.bag_value)
                    .map_err(|e| format!("malformed certificate bag: {e}"))?
                    .value;
                if cert.cert_id.to_string() == X509_CERTIFICATE {
                    found
                        .certificates
                        .push(cert.cert_value.into_bytes().into_vec());
                }
            }
            KEY_BAG | SHROUDED_KEY_BAG => found.had_private_key = true,
            SAFE_CONTENTS_BAG => {
                let nested = ContextSpecific::<Any>::from_der(&bag.bag_value)
                    .and_then(|cs| cs.value.to_der())
                    .map_err(|e| format!("malformed safe contents bag: {e}"))?;
                collect_bags(&nested, found, depth + 1)?
            }
            _ => {}
        }
    }
    Ok(())
}

fn verify_mac(mac: &MacData, data: &[u8]) -> Result<(), String> {
    if mac.iterations > MAX_ITERATIONS {
        return Err("the PKCS#12 MAC asks for too many iterations".into());
    }
    let expected = mac.mac.digest.as_bytes();
    let salt = mac.mac_salt.as_bytes();
    let matches = |password: &[u8]| -> Result<bool, String> {
        Ok(match mac.mac.algorithm.oid.to_string().as_str() {
            "1.3.14.3.2.26" => {
                hmac_matches::<sha1_digest11::Sha1>(password, salt, mac, data, expected)
            }
            "2.16.840.1.101.3.4.2.1" => {
                hmac_matches::<sha2_digest11::Sha256>(password, salt, mac, data, expected)
            }
            "2.16.840.1.101.3.4.2.2" => {
                hmac_matches::<sha2_digest11::Sha384>(password, salt, mac, data, expected)
            }
            "2.16.840.1.101.3.4.2.3" => {
                hmac_matches::<sha2_digest11::Sha512>(password, salt, mac, data, expected)
            }
            other => return Err(format!("unsupported PKCS#12 MAC digest {other}")),
        })
    };
    for password in EMPTY_PASSWORDS {
        if matches(password)? {
            return Ok(());
        }
    }
    Err("the PKCS#12 MAC does not verify with an empty password (the file is damaged or has a password)".into())
}

fn hmac_matches<D>(
    password: &[u8],
    salt: &[u8],
    mac: &MacData,
    data: &[u8],
    expected: &[u8],
) -> bool
where
    D: hmac::digest::Digest
        + hmac::digest::FixedOutputReset
        + hmac::digest::block_api::BlockSizeUser
        + hmac::EagerHash,
{
    let key = derive_key::<D>(
        password,
        salt,
        Pkcs12KeyType::Mac,
        mac.iterations,
        <D as OutputSizeUser>::output_size(),
    );
    let Ok(mut hmac) = hmac::Hmac::<D>::new_from_slice(&key) else {
        return false;
    };
    hmac.update(data);
    hmac.verify_slice(expected).is_ok()
}

/// Decrypts an `encryptedData` safe, trying each empty-password encoding; a wrong key shows as
/// bad padding or as plaintext that is not safe contents.
fn decrypt_safe(safe: &ContentInfo) -> Result<Vec<u8>, String> {
    let any = safe.content.to_der().map_err(|e| e.to_string())?;
    let encrypted =
        EncryptedData::from_der(&any).map_err(|e| format!("malformed encrypted safe: {e}"))?;
    let info = encrypted.enc_content_info;
    let Some(ciphertext) = info.encrypted_content.as_ref().map(|c| c.as_bytes()) else {
        return Ok(Vec::new());
    };
    let alg = &info.content_enc_alg;
    let oid = alg.oid.to_string();
    if oid == PBES2 {
        let params = parameters(alg)?;
        let params = pkcs5::pbes2::Parameters::from_der(&params)
            .map_err(|e| format!("malformed PBES2 parameters: {e}"))?;
        if let pkcs5::pbes2::Kdf::Pbkdf2(p) = &params.kdf
            && p.iteration_count > MAX_ITERATIONS as u32
        {
            return Err("the PKCS#12 PBES2 parameters ask for too many iterations".into());
        }
        if !matches!(params.kdf, pkcs5::pbes2::Kdf::Pbkdf2(_)) {
            return Err("unsupported PBES2 key derivation (only PBKDF2)".into());
        }
        return params.decrypt(b"", ciphertext).map_err(|e| {
            format!("cannot decrypt the PBES2 certificate safe with an empty password: {e}")
        });
    }
    let cipher = match oid.as_str() {
        PBE_SHA1_3DES | PBE_SHA1_RC2_40 | PBE_SHA1_RC2_128 => oid.as_str(),
        other => return Err(format!("unsupported PKCS#12 encryption {other}")),
    };
    let pbe = Pkcs12PbeParams::from_der(&parameters(alg)?)
        .map_err(|e| format!("malformed PBE parameters: {e}"))?;
    if pbe.iterations > MAX_ITERATIONS {
        return Err("the PKCS#12 PBE parameters ask for too many iterations".into());
    }
    for password in EMPTY_PASSWORDS {
        let salt = pbe.salt.as_bytes();
        let plain = match cipher {
            PBE_SHA1_3DES => pbes1::<des::TdesEde3>(password, salt, pbe.iterations, 24, ciphertext),
            PBE_SHA1_RC2_40 => pbes1::<rc2::Rc2>(password, salt, pbe.iterations, 5, ciphertext),
            PBE_SHA1_RC2_128 => pbes1::<rc2::Rc2>(password, salt, pbe.iterations, 16, ciphertext),
            _ => None,
        };
        if let Some(plain) = plain.filter(|p| <Vec<SafeBag>>::from_der(p).is_ok()) {
            return Ok(plain);
        }
    }
    Err("cannot decrypt the certificate safe with an empty password".into())
}

fn parameters(alg: &AlgorithmIdentifierOwned) -> Result<Vec<u8>, String> {
    alg.parameters
        .as_ref()
        .ok_or("encryption parameters missing")?
        .to_der()
        .map_err(|e| e.to_string())
}

/// PKCS#12 PBES1 (RFC 7292 appendix C): SHA-1 KDF for key and IV, CBC with PKCS#7 padding.
fn pbes1<C>(
    password: &[u8],
    salt: &[u8],
    rounds: i32,
    key_len: usize,
    data: &[u8],
) -> Option<Vec<u8>>
where
    C: KeyInit + BlockCipherDecrypt,
{
    let key = derive_key::<sha1_digest11::Sha1>(
        password,
        salt,
        Pkcs12KeyType::EncryptionKey,
        rounds,
        key_len,
    );
    let iv = derive_key::<sha1_digest11::Sha1>(password, salt, Pkcs12KeyType::Iv, rounds, 8);
    let cipher = C::new_from_slice(&key).ok()?;
    cbc::Decryptor::<C>::inner_iv_slice_init(cipher, &iv)
        .ok()?
        .decrypt_padded_vec::<Pkcs7>(data)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use akv_test_pki::{ChainBuilder, KeySpec};

    fn chain() -> akv_test_pki::Chain {
        ChainBuilder::new(KeySpec::Ec256).build().unwrap()
    }

    #[test]
    fn both_readers_give_the_certificates_and_note_the_key() {
        let chain = chain();
        let pfx = chain.pkcs12(true).unwrap();
        // The focused reader alone: PBES2 certificate safe, key bag noted but not decrypted.
        for found in [
            certificates(&pfx).unwrap(),
            read_certificates(&pfx).unwrap(),
        ] {
            let mut got = found.certificates.clone();
            let mut want = chain.der_chain();
            got.sort();
            want.sort();
            assert_eq!(got, want);
            assert!(found.had_private_key);
        }
        let without_key = read_certificates(&chain.pkcs12(false).unwrap()).unwrap();
        assert!(!without_key.had_private_key);
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let pfx = chain().pkcs12(false).unwrap();
        for len in (0..pfx.len()).step_by(41) {
            assert!(certificates(&pfx[..len]).is_err(), "truncated to {len}");
        }
        for at in (0..pfx.len()).step_by(53) {
            let mut damaged = pfx.clone();
            damaged[at] ^= 0x5a;
            // Some flips land in ignorable fields; none may panic.
            let _ = certificates(&damaged);
        }
        let err = certificates(b"not a pfx").unwrap_err();
        assert!(err.contains("not a PKCS#12 file"), "{err}");
    }

    /// PKCS#12 secrets recorded from the live service (`tests/fixtures/akv-recorded`): MAC and
    /// 3DES safes keyed with the zero-length empty password, which p12-keystore refuses, so the
    /// focused reader must give the one certificate, byte-identical to the bundle's `cer`.
    #[test]
    fn recorded_akv_secrets_give_the_bundle_certificate() {
        macro_rules! recorded {
            ($name:literal) => {
                include_bytes!(concat!("../../../tests/fixtures/akv-recorded/", $name)).as_slice()
            };
        }
        for (label, p12, cer) in [
            (
                "rsa 2024",
                recorded!("net2024_rsa.p12"),
                recorded!("net2024_rsa.cer"),
            ),
            (
                "ec384",
                recorded!("net2024_ec384.p12"),
                recorded!("net2024_ec384.cer"),
            ),
            (
                "rsa aug 2024",
                recorded!("net2024aug_rsa.p12"),
                recorded!("net2024aug_rsa.cer"),
            ),
        ] {
            assert!(
                p12_keystore::Pkcs12Archive::from_pkcs12(p12, "").is_err(),
                "{label}: p12-keystore now reads it; the fallback is untested here"
            );
            for found in [certificates(p12).unwrap(), read_certificates(p12).unwrap()] {
                assert_eq!(found.certificates, vec![cer.to_vec()], "{label}");
                assert!(found.had_private_key, "{label}");
            }
        }
    }
}
