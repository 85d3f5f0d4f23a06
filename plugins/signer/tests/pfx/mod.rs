//! PFX files for the PKCS#12 interop matrix, made at test time by the machine's OpenSSL.
//!
//! OpenSSL (like p12-keystore and Python) feeds the empty password to the PKCS#12 KDF as the
//! empty BMPString, two zero bytes. Windows' NULL-password export uses a zero-length password;
//! no OpenSSL command writes that, so [`with_zero_length_password`] re-keys an OpenSSL file: it
//! re-encrypts the PBES1 certificate safes and recomputes the MAC. OpenSSL itself then reads the
//! result back (it tries both encodings), which proves the re-keyed file is valid.

use akv_test_pki::{BundleOrder, Chain};
use cbc::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt};
use cbc::cipher::{InnerIvInit, KeyInit, block_padding::Pkcs7};
use hmac::Mac;
use pkcs12::cms::cert::x509::der::asn1::OctetString;
use pkcs12::cms::cert::x509::der::{Any, Decode, Encode};
use pkcs12::cms::content_info::ContentInfo;
use pkcs12::cms::encrypted_data::EncryptedData;
use pkcs12::kdf::{Pkcs12KeyType, derive_key};
use pkcs12::pbe_params::Pkcs12PbeParams;
use pkcs12::pfx::Pfx;
use pkcs12::{AuthenticatedSafe, MacData};
use std::path::Path;
use std::process::Command;

/// `openssl pkcs12 -export -passout pass: <args>` over the chain given root first (so the reader
/// must order it), with the leaf's private key unless `-nokeys` is among the args.
pub fn openssl_export(dir: &Path, chain: &Chain, args: &[&str]) -> Vec<u8> {
    std::fs::write(
        dir.join("chain.pem"),
        chain.pem_bundle(BundleOrder::RootFirst),
    )
    .unwrap();
    std::fs::write(dir.join("key.pem"), chain.leaf().key().pkcs8_pem()).unwrap();
    let out = dir.join("out.pfx");
    let mut command = Command::new("openssl");
    command
        .current_dir(dir)
        .args(["pkcs12", "-export", "-in", "chain.pem", "-passout", "pass:"])
        .args(["-out", "out.pfx"])
        // The legacy ciphers (RC2, RC4, 2DES) live in OpenSSL 3's legacy provider.
        .args(["-provider", "legacy", "-provider", "default"]);
    if !args.contains(&"-nokeys") {
        command.args(["-inkey", "key.pem"]);
    }
    let status = command
        .args(args)
        .output()
        .expect("openssl is installed (tests/provision.sh)");
    assert!(
        status.status.success(),
        "openssl pkcs12 {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    std::fs::read(out).unwrap()
}

/// The certificates `openssl pkcs12 -passin pass: -nokeys` reads from a PFX, as PEM.
pub fn openssl_read_certificates(dir: &Path, pfx: &[u8]) -> String {
    std::fs::write(dir.join("read.pfx"), pfx).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(["pkcs12", "-in", "read.pfx", "-passin", "pass:", "-nokeys"])
        .args(["-provider", "legacy", "-provider", "default"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl reads the PFX: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const ID_ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const PBE_SHA1_3DES: &str = "1.2.840.113549.1.12.1.3";
const PBE_SHA1_RC2_40: &str = "1.2.840.113549.1.12.1.6";
const PBES2: &str = "1.2.840.113549.1.5.13";

/// The same PFX keyed with a zero-length password instead of two zero bytes (PBES1 safes and
/// the MAC; PBES2 does not depend on the encoding). Key bags are left alone, so give it a
/// certificates-only (`-nokeys`) file.
pub fn with_zero_length_password(pfx: &[u8]) -> Vec<u8> {
    let mut pfx = Pfx::from_der(pfx).unwrap();
    let data = OctetString::from_der(&pfx.auth_safe.content.to_der().unwrap())
        .unwrap()
        .into_bytes();
    let safes: Vec<ContentInfo> = AuthenticatedSafe::from_der(&data)
        .unwrap()
        .into_iter()
        .map(|safe| {
            if safe.content_type.to_string() != ID_ENCRYPTED_DATA {
                return safe;
            }
            let mut encrypted = EncryptedData::from_der(&safe.content.to_der().unwrap()).unwrap();
            let info = &mut encrypted.enc_content_info;
            let oid = info.content_enc_alg.oid.to_string();
            if oid == PBES2 {
                // PBKDF2 sees no password bytes either way.
                return safe;
            }
            let params = info
                .content_enc_alg
                .parameters
                .as_ref()
                .unwrap()
                .to_der()
                .unwrap();
            let pbe = Pkcs12PbeParams::from_der(&params).unwrap();
            let ciphertext = info.encrypted_content.as_ref().unwrap().as_bytes();
            let (salt, rounds) = (pbe.salt.as_bytes(), pbe.iterations);
            let rekeyed = match oid.as_str() {
                PBE_SHA1_3DES => rekey::<des::TdesEde3>(salt, rounds, 24, ciphertext),
                PBE_SHA1_RC2_40 => rekey::<rc2::Rc2>(salt, rounds, 5, ciphertext),
                other => panic!("unexpected safe encryption {other}"),
            };
            info.encrypted_content = Some(OctetString::new(rekeyed).unwrap());
            ContentInfo {
                content_type: safe.content_type,
                content: Any::from_der(&encrypted.to_der().unwrap()).unwrap(),
            }
        })
        .collect();
    let data = safes.to_der().unwrap();
    if let Some(mac) = &mut pfx.mac_data {
        mac.mac.digest = OctetString::new(zero_length_mac(mac, &data)).unwrap();
    }
    pfx.auth_safe.content =
        Any::from_der(&OctetString::new(data).unwrap().to_der().unwrap()).unwrap();
    pfx.to_der().unwrap()
}

fn pbe_key_iv(password: &[u8], salt: &[u8], rounds: i32, key_len: usize) -> (Vec<u8>, Vec<u8>) {
    use sha1_digest11::Sha1;
    (
        derive_key::<Sha1>(
            password,
            salt,
            Pkcs12KeyType::EncryptionKey,
            rounds,
            key_len,
        ),
        derive_key::<Sha1>(password, salt, Pkcs12KeyType::Iv, rounds, 8),
    )
}

fn rekey<C>(salt: &[u8], rounds: i32, key_len: usize, ciphertext: &[u8]) -> Vec<u8>
where
    C: KeyInit + BlockCipherDecrypt + BlockCipherEncrypt,
{
    let (key, iv) = pbe_key_iv(&[0, 0], salt, rounds, key_len);
    let plain = cbc::Decryptor::<C>::inner_iv_slice_init(C::new_from_slice(&key).unwrap(), &iv)
        .unwrap()
        .decrypt_padded_vec::<Pkcs7>(ciphertext)
        .expect("OpenSSL's empty password is two zero bytes");
    let (key, iv) = pbe_key_iv(&[], salt, rounds, key_len);
    cbc::Encryptor::<C>::inner_iv_slice_init(C::new_from_slice(&key).unwrap(), &iv)
        .unwrap()
        .encrypt_padded_vec::<Pkcs7>(&plain)
}

fn zero_length_mac(mac: &MacData, data: &[u8]) -> Vec<u8> {
    fn hmac<D>(mac: &MacData, data: &[u8]) -> Vec<u8>
    where
        D: hmac::digest::Digest
            + hmac::digest::FixedOutputReset
            + hmac::digest::block_api::BlockSizeUser
            + hmac::EagerHash,
    {
        let len = <D as hmac::digest::OutputSizeUser>::output_size();
        let key = derive_key::<D>(
            &[],
            mac.mac_salt.as_bytes(),
            Pkcs12KeyType::Mac,
            mac.iterations,
            len,
        );
        let mut h = hmac::Hmac::<D>::new_from_slice(&key).unwrap();
        h.update(data);
        h.finalize().into_bytes().to_vec()
    }
    match mac.mac.algorithm.oid.to_string().as_str() {
        "1.3.14.3.2.26" => hmac::<sha1_digest11::Sha1>(mac, data),
        "2.16.840.1.101.3.4.2.1" => hmac::<sha2_digest11::Sha256>(mac, data),
        other => panic!("MAC digest {other} not expected in the matrix"),
    }
}
