//! Key specs, the vault-key comparison and plugin signature verification.

mod common;

use std::process::Command;

use akv_test_pki::{ChainBuilder, KeySpec, TestKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::PublicKeyComponents;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair, RsaPssSaltLength};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use notation_akv_protocol::SigningAlgorithm;
use notation_akv_x509::{
    Jwk, KeyError, SignatureError, key_spec, matches_jwk, verify_plugin_signature,
};

#[test]
fn every_test_pki_leaf_has_its_key_spec() {
    for spec in KeySpec::ALL {
        let chain = ChainBuilder::self_signed(spec).build().unwrap();
        let leaf = cert(chain.leaf().der());
        assert_eq!(key_spec(leaf.public_key()), Ok(spec));
    }
}

/// A self-signed certificate for a key made by the openssl CLI.
fn openssl_cert(dir: &std::path::Path, genpkey: &[&str]) -> notation_akv_x509::Certificate {
    let key = dir.join("k.pem");
    let crt = dir.join("c.der");
    let out = Command::new("openssl")
        .arg("genpkey")
        .args(genpkey)
        .arg("-out")
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl genpkey {genpkey:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-new",
            "-subj",
            "/C=US/ST=WA/O=t/CN=odd key",
            "-days",
            "1",
            "-outform",
            "DER",
            "-key",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    cert(&std::fs::read(crt).unwrap())
}

/// A certificate (signed by a P-256 key) that carries the committed RSA-8192 public key:
/// generating an RSA-8192 key takes openssl from seconds to a minute.
fn rsa_8192_cert(dir: &std::path::Path) -> notation_akv_x509::Certificate {
    let public = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rsa-8192-public.pem"
    );
    let signer = dir.join("signer.pem");
    let crt = dir.join("rsa-8192.der");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "genpkey".as_ref(),
        "-algorithm".as_ref(),
        "EC".as_ref(),
        "-pkeyopt".as_ref(),
        "ec_paramgen_curve:P-256".as_ref(),
        "-out".as_ref(),
        signer.as_os_str(),
    ]);
    run(&[
        "x509".as_ref(),
        "-new".as_ref(),
        "-subj".as_ref(),
        "/C=US/ST=WA/O=t/CN=odd key".as_ref(),
        "-force_pubkey".as_ref(),
        public.as_ref(),
        "-key".as_ref(),
        signer.as_os_str(),
        "-outform".as_ref(),
        "DER".as_ref(),
        "-out".as_ref(),
        crt.as_os_str(),
    ]);
    cert(&std::fs::read(crt).unwrap())
}

#[test]
fn unsupported_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        key_spec(rsa_8192_cert(dir.path()).public_key()),
        Err(KeyError::Unsupported {
            found: "RSA-8192".into()
        })
    );
    let cases: [(&[&str], &str); 3] = [
        (
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
            "RSA-1024",
        ),
        (
            &[
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:secp256k1",
            ],
            "EC secp256k1 (P-256K)",
        ),
        (&["-algorithm", "ED25519"], "Ed25519"),
    ];
    for (args, found) in cases {
        let c = openssl_cert(dir.path(), args);
        assert_eq!(
            key_spec(c.public_key()),
            Err(KeyError::Unsupported {
                found: found.into()
            }),
            "{args:?}"
        );
    }
}

fn rsa_jwk(pkcs8: &[u8]) -> Jwk {
    let pair = RsaKeyPair::from_pkcs8(pkcs8).unwrap();
    let parts = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    Jwk {
        kty: "RSA-HSM".into(),
        n: Some(URL_SAFE_NO_PAD.encode(&parts.n)),
        e: Some(URL_SAFE_NO_PAD.encode(&parts.e)),
        ..Jwk::default()
    }
}

fn ec_jwk(spec: KeySpec, pkcs8: &[u8]) -> Jwk {
    let (alg, crv, len) = match spec {
        KeySpec::Ec256 => (&lc::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
        KeySpec::Ec384 => (&lc::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
        _ => (&lc::ECDSA_P521_SHA512_FIXED_SIGNING, "P-521", 66),
    };
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8).unwrap();
    let point = pair.public_key().as_ref();
    Jwk {
        kty: "EC".into(),
        crv: Some(crv.into()),
        x: Some(URL_SAFE_NO_PAD.encode(&point[1..1 + len])),
        y: Some(URL_SAFE_NO_PAD.encode(&point[1 + len..])),
        ..Jwk::default()
    }
}

fn jwk_for(key: &TestKey) -> Jwk {
    if key.spec().is_rsa() {
        rsa_jwk(key.pkcs8_der())
    } else {
        ec_jwk(key.spec(), key.pkcs8_der())
    }
}

#[test]
fn certificate_key_matches_its_vault_jwk_and_no_other() {
    for spec in KeySpec::ALL {
        let chain = ChainBuilder::self_signed(spec).build().unwrap();
        let leaf = cert(chain.leaf().der());
        let same = jwk_for(chain.leaf().key());
        assert_eq!(matches_jwk(leaf.public_key(), &same), Ok(true), "{spec}");
        let other = jwk_for(&TestKey::cached(spec, 7).unwrap());
        assert_eq!(matches_jwk(leaf.public_key(), &other), Ok(false), "{spec}");
    }
    // A key of another type is simply not the same key.
    let ec = cert(
        ChainBuilder::self_signed(KeySpec::Ec256)
            .build()
            .unwrap()
            .leaf()
            .der(),
    );
    let rsa = jwk_for(&TestKey::cached(KeySpec::Rsa2048, 0).unwrap());
    assert_eq!(matches_jwk(ec.public_key(), &rsa), Ok(false));
}

#[test]
fn jwk_from_json_with_padding_and_leading_zero_matches() {
    let key = TestKey::cached(KeySpec::Rsa2048, 0).unwrap();
    let leaf = cert(
        ChainBuilder::self_signed(KeySpec::Rsa2048)
            .leaf_key(key.clone())
            .build()
            .unwrap()
            .leaf()
            .der(),
    );
    let pair = RsaKeyPair::from_pkcs8(key.pkcs8_der()).unwrap();
    let parts = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let mut n = vec![0u8];
    n.extend_from_slice(&parts.n);
    let json = serde_json::json!({
        "kid": "https://v.vault.azure.net/keys/k/1", "kty": "RSA", "key_ops": ["sign"],
        "n": base64::engine::general_purpose::URL_SAFE.encode(&n),
        "e": base64::engine::general_purpose::URL_SAFE.encode(&parts.e),
    });
    let jwk: Jwk = serde_json::from_value(json).unwrap();
    assert_eq!(matches_jwk(leaf.public_key(), &jwk), Ok(true));
    let broken = Jwk { n: None, ..jwk };
    assert!(matches!(
        matches_jwk(leaf.public_key(), &broken),
        Err(KeyError::MalformedJwk(_))
    ));
}

const PSS_SHA256_SALT_20: lc::RsaSignatureEncoding =
    lc::RSA_PSS_SHA256.with_pss_salt_length(RsaPssSaltLength::Custom(20));
const PSS_SHA256_SALT_MAX: lc::RsaSignatureEncoding =
    lc::RSA_PSS_SHA256.with_pss_salt_length(RsaPssSaltLength::Max);

fn rsa_sign(pkcs8: &[u8], enc: &'static dyn lc::RsaEncoding, msg: &[u8]) -> Vec<u8> {
    let pair = RsaKeyPair::from_pkcs8(pkcs8).unwrap();
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(enc, &SystemRandom::new(), msg, &mut sig).unwrap();
    sig
}

fn ec_sign(alg: &'static lc::EcdsaSigningAlgorithm, pkcs8: &[u8], msg: &[u8]) -> Vec<u8> {
    let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8).unwrap();
    pair.sign(&SystemRandom::new(), msg)
        .unwrap()
        .as_ref()
        .to_vec()
}

/// What a correct plugin (and Azure Key Vault) returns for each key spec.
fn good_signature(key: &TestKey, msg: &[u8]) -> Vec<u8> {
    match key.spec() {
        KeySpec::Rsa2048 => rsa_sign(key.pkcs8_der(), &lc::RSA_PSS_SHA256, msg),
        KeySpec::Rsa3072 => rsa_sign(key.pkcs8_der(), &lc::RSA_PSS_SHA384, msg),
        KeySpec::Rsa4096 => rsa_sign(key.pkcs8_der(), &lc::RSA_PSS_SHA512, msg),
        KeySpec::Ec256 => ec_sign(&lc::ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8_der(), msg),
        KeySpec::Ec384 => ec_sign(&lc::ECDSA_P384_SHA384_FIXED_SIGNING, key.pkcs8_der(), msg),
        KeySpec::Ec521 => ec_sign(&lc::ECDSA_P521_SHA512_FIXED_SIGNING, key.pkcs8_der(), msg),
    }
}

const MESSAGE: &[u8] = b"eyJhbGciOiJQUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";

#[test]
fn correct_plugin_signatures_verify_for_every_key_spec() {
    for spec in KeySpec::ALL {
        let chain = ChainBuilder::self_signed(spec).build().unwrap();
        let leaf = cert(chain.leaf().der());
        let sig = good_signature(chain.leaf().key(), MESSAGE);
        let alg = spec.signing_algorithm();
        assert_eq!(
            verify_plugin_signature(leaf.public_key(), alg, MESSAGE, &sig),
            Ok(()),
            "{spec}"
        );
        assert_eq!(
            verify_plugin_signature(leaf.public_key(), alg, b"another payload", &sig),
            Err(SignatureError::Invalid),
            "{spec}"
        );
    }
}

#[test]
fn pss_with_another_salt_length_is_rejected() {
    let chain = ChainBuilder::self_signed(KeySpec::Rsa2048).build().unwrap();
    let leaf = cert(chain.leaf().der());
    let key = chain.leaf().key().pkcs8_der();
    for enc in [&PSS_SHA256_SALT_20, &PSS_SHA256_SALT_MAX] {
        let sig = rsa_sign(key, enc, MESSAGE);
        assert_eq!(
            verify_plugin_signature(
                leaf.public_key(),
                SigningAlgorithm::RsassaPssSha256,
                MESSAGE,
                &sig
            ),
            Err(SignatureError::Invalid)
        );
    }
    // PKCS#1 v1.5 is not PSS either.
    let sig = rsa_sign(key, &lc::RSA_PKCS1_SHA256, MESSAGE);
    assert_eq!(
        verify_plugin_signature(
            leaf.public_key(),
            SigningAlgorithm::RsassaPssSha256,
            MESSAGE,
            &sig
        ),
        Err(SignatureError::Invalid)
    );
}

#[test]
fn der_encoded_ecdsa_is_rejected() {
    for (spec, fixed, asn1) in [
        (
            KeySpec::Ec256,
            &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
            &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
        ),
        (
            KeySpec::Ec384,
            &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
            &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
        ),
        (
            KeySpec::Ec521,
            &lc::ECDSA_P521_SHA512_FIXED_SIGNING,
            &lc::ECDSA_P521_SHA512_ASN1_SIGNING,
        ),
    ] {
        let chain = ChainBuilder::self_signed(spec).build().unwrap();
        let leaf = cert(chain.leaf().der());
        let key = chain.leaf().key().pkcs8_der();
        let alg = spec.signing_algorithm();
        let der = ec_sign(asn1, key, MESSAGE);
        assert_eq!(
            verify_plugin_signature(leaf.public_key(), alg, MESSAGE, &der),
            Err(SignatureError::Invalid),
            "{spec}"
        );
        assert_eq!(
            verify_plugin_signature(
                leaf.public_key(),
                alg,
                MESSAGE,
                &ec_sign(fixed, key, MESSAGE)
            ),
            Ok(())
        );
    }
}

#[test]
fn algorithm_must_match_the_key_spec() {
    let chain = ChainBuilder::self_signed(KeySpec::Ec384).build().unwrap();
    let leaf = cert(chain.leaf().der());
    let sig = good_signature(chain.leaf().key(), MESSAGE);
    assert_eq!(
        verify_plugin_signature(
            leaf.public_key(),
            SigningAlgorithm::EcdsaSha256,
            MESSAGE,
            &sig
        ),
        Err(SignatureError::AlgorithmMismatch {
            algorithm: SigningAlgorithm::EcdsaSha256,
            key_spec: KeySpec::Ec384,
            expected: SigningAlgorithm::EcdsaSha384,
        })
    );
}
