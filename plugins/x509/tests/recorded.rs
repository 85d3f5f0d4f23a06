//! Payloads recorded from the live Azure Key Vault and Managed HSM (`tests/fixtures/akv-recorded`,
//! sources in its README): every certificate parses and is refused by the Notary Project rules
//! with the rule named, PEM secrets yield the bundle's certificate byte for byte (the private key
//! detected and discarded), and every recorded signature verifies over the digest the client
//! sent, with the certificate's key and with the key bundle's JWK.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::asn1::{BitString, UintRef};
use der::{Any, Encode};
use notation_akv_protocol::{KeySpec, SigningAlgorithm};
use notation_akv_x509::{
    Certificate, Jwk, SignatureError, matches_jwk, parse_bundle, validate_code_signing_chain,
    verify_plugin_signature,
};
use serde_json::Value;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/akv-recorded")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn exchange(name: &str) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&fixture(name)).unwrap();
    v["Entries"].as_array().unwrap().clone()
}

/// The successful responses to `method` requests whose path (without query) satisfies `path`.
fn responses<'a>(
    entries: &'a [Value],
    method: &str,
    path: impl Fn(&str) -> bool,
) -> Vec<&'a Value> {
    entries
        .iter()
        .filter(|e| {
            let uri = e["RequestUri"].as_str().unwrap_or("");
            let p = uri.split('?').next().unwrap_or("");
            e["RequestMethod"] == method && e["StatusCode"] == 200 && path(p)
        })
        .collect()
}

fn b64url(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).unwrap()
}

/// Every recorded certificate, with the exchange its bundles come from (`None`: file only).
const CERTIFICATES: [(&str, &str); 6] = [
    (
        "net2024_rsa.cer",
        "net2024_DownloadLatestCertificate_pkcs12.json",
    ),
    (
        "net2024_ec384.cer",
        "net2024_ECDsa_P-384_pkcs12_signremote.json",
    ),
    (
        "net2024_ec521.cer",
        "net2024_ECDsa_P-521_pem_signremote.json",
    ),
    (
        "net2024aug_rsa.cer",
        "net2024aug_DownloadVersionedCertificate_pkcs12.json",
    ),
    (
        "net2024aug_merged_ca_issued.cer",
        "net2024aug_ValidateMergeCertificate_ca_issued_get.json",
    ),
    (
        "rust2025_ec256.cer",
        "rust2025_sign_jwt_with_ec_certificate.json",
    ),
];

#[test]
fn certificate_bundles_hold_the_recorded_certificates() {
    for (cer, json) in CERTIFICATES {
        let der = fixture(cer);
        let cert = Certificate::from_der(&der).unwrap_or_else(|e| panic!("{cer}: {e}"));
        let entries = exchange(json);
        let bundles = responses(&entries, "GET", |p| p.contains("/certificates/"));
        let bundles: Vec<_> = bundles
            .into_iter()
            .filter(|b| b["ResponseBody"]["cer"].is_string())
            .collect();
        assert!(!bundles.is_empty(), "{json}: no certificate bundle");
        for b in bundles {
            let body = &b["ResponseBody"];
            // `cer` is padded standard base64, `x5t` unpadded base64url SHA-1 of it.
            assert_eq!(
                STANDARD.decode(body["cer"].as_str().unwrap()).unwrap(),
                der,
                "{json}"
            );
            let x5t = b64url(body["x5t"].as_str().unwrap());
            let hex: String = x5t.iter().map(|b| format!("{b:02x}")).collect();
            assert!(
                cert.sha1_fingerprint().eq_ignore_ascii_case(&hex),
                "{json}: x5t"
            );
        }
    }
}

#[test]
fn every_recorded_certificate_breaks_a_notary_rule_and_the_rule_is_named() {
    let mut report = Vec::new();
    for (cer, _) in CERTIFICATES {
        let cert = Certificate::from_der(&fixture(cer)).unwrap();
        let violations = validate_code_signing_chain(std::slice::from_ref(&cert), None);
        assert!(!violations.is_empty(), "{cer} meets every rule");
        assert!(
            violations.iter().any(|v| v.rule.enforced_by_notation()),
            "{cer}: notation would accept it"
        );
        report.push(format!("{cer} ({})", cert.subject()));
        for v in violations {
            report.push(format!("  [{}] {}", v.rule.id(), v.found));
        }
    }
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn pem_secrets_yield_the_certificate_and_the_key_is_discarded() {
    let cer = fixture("net2024_ec521.cer");
    let file = fixture("net2024_ec521.pem");
    let entries = exchange("net2024_ECDsa_P-521_pem_signremote.json");
    let secrets = responses(&entries, "GET", |p| p.contains("/secrets/"));
    assert_eq!(secrets.len(), 1);
    let recorded = secrets[0]["ResponseBody"]["value"].as_str().unwrap();
    assert_eq!(
        secrets[0]["ResponseBody"]["contentType"],
        "application/x-pem-file"
    );
    assert_eq!(
        recorded.as_bytes(),
        file,
        "the .pem file is the secret value"
    );
    // PKCS#8 key (with its Key Usage attribute) first, then the certificate.
    assert!(recorded.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let bundle = parse_bundle(recorded.as_bytes()).unwrap();
    assert!(bundle.had_private_key);
    assert_eq!(bundle.certificates.len(), 1);
    assert_eq!(bundle.certificates[0].der(), cer);
}

/// The SPKI of an RSA JWK (Managed HSM and plain vault keys have no certificate).
fn rsa_spki(jwk: &Jwk) -> SubjectPublicKeyInfoOwned {
    let n = b64url(jwk.n.as_deref().unwrap());
    let e = b64url(jwk.e.as_deref().unwrap());
    let key = pkcs1::RsaPublicKey {
        modulus: UintRef::new(&n).unwrap(),
        public_exponent: UintRef::new(&e).unwrap(),
    }
    .to_der()
    .unwrap();
    SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::RSA_ENCRYPTION,
            parameters: Some(Any::null()),
        },
        subject_public_key: BitString::from_bytes(&key).unwrap(),
    }
}

/// One recorded `sign`: algorithm and digest sent, signature and `kid` received.
struct Signed {
    algorithm: SigningAlgorithm,
    digest: Vec<u8>,
    signature: Vec<u8>,
    kid: String,
    alg_in_response: Option<String>,
}

fn recorded_sign(entries: &[Value]) -> Signed {
    let signs = responses(entries, "POST", |p| p.ends_with("/sign"));
    assert_eq!(signs.len(), 1);
    let (req, resp) = (&signs[0]["RequestBody"], &signs[0]["ResponseBody"]);
    let alg = req["alg"].as_str().unwrap();
    let algorithm = SigningAlgorithm::ALL
        .into_iter()
        .find(|a| a.jws_name() == alg)
        .unwrap();
    Signed {
        algorithm,
        digest: b64url(req["value"].as_str().unwrap()),
        signature: b64url(resp["value"].as_str().unwrap()),
        kid: resp["kid"].as_str().unwrap().to_owned(),
        alg_in_response: resp["alg"].as_str().map(str::to_owned),
    }
}

fn key_bundle_jwk(entries: &[Value]) -> Jwk {
    let keys = responses(entries, "GET", |p| p.contains("/keys/"));
    serde_json::from_value(keys[0]["ResponseBody"]["key"].clone()).unwrap()
}

fn tampered(signature: &[u8]) -> Vec<u8> {
    let mut t = signature.to_vec();
    let mid = t.len() / 2;
    t[mid] ^= 0x01;
    t
}

/// Checks a signature over a digest, as the vault makes one (`sign` takes the digest, never the
/// message). The product only checks signatures over messages (`verify_plugin_signature`), so
/// this check is aws-lc-rs' own, independent of the product's.
fn verify_digest(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: SigningAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), ()> {
    use aws_lc_rs::digest::{Digest, SHA256, SHA384, SHA512};
    use aws_lc_rs::signature::{self as lc, UnparsedPublicKey};
    let (hash, verifier): (_, &'static dyn lc::VerificationAlgorithm) = match algorithm {
        SigningAlgorithm::RsassaPssSha256 => (&SHA256, &lc::RSA_PSS_2048_8192_SHA256),
        SigningAlgorithm::RsassaPssSha384 => (&SHA384, &lc::RSA_PSS_2048_8192_SHA384),
        SigningAlgorithm::RsassaPssSha512 => (&SHA512, &lc::RSA_PSS_2048_8192_SHA512),
        SigningAlgorithm::EcdsaSha256 => (&SHA256, &lc::ECDSA_P256_SHA256_FIXED),
        SigningAlgorithm::EcdsaSha384 => (&SHA384, &lc::ECDSA_P384_SHA384_FIXED),
        SigningAlgorithm::EcdsaSha512 => (&SHA512, &lc::ECDSA_P521_SHA512_FIXED),
    };
    let digest = Digest::import_less_safe(digest, hash).map_err(|_| ())?;
    UnparsedPublicKey::new(verifier, spki.to_der().unwrap())
        .verify_digest(&digest, signature)
        .map_err(|_| ())
}

fn assert_verifies(what: &str, spki: &SubjectPublicKeyInfoOwned, s: &Signed) {
    assert_eq!(
        verify_digest(spki, s.algorithm, &s.digest, &s.signature),
        Ok(()),
        "{what}"
    );
    assert_eq!(
        verify_digest(spki, s.algorithm, &s.digest, &tampered(&s.signature)),
        Err(()),
        "{what}: tampered signature"
    );
    let mut other = s.digest.clone();
    other[0] ^= 0x80;
    assert_eq!(
        verify_digest(spki, s.algorithm, &other, &s.signature),
        Err(()),
        "{what}: another digest"
    );
}

#[test]
fn recorded_ecdsa_signatures_verify_with_the_certificate_and_the_jwk() {
    for (json, cer, algorithm, width) in [
        (
            "net2024_ECDsa_P-384_pkcs12_signremote.json",
            "net2024_ec384.cer",
            SigningAlgorithm::EcdsaSha384,
            96,
        ),
        (
            "net2024_ECDsa_P-521_pem_signremote.json",
            "net2024_ec521.cer",
            SigningAlgorithm::EcdsaSha512,
            132,
        ),
    ] {
        let entries = exchange(json);
        let s = recorded_sign(&entries);
        assert_eq!(s.algorithm, algorithm, "{json}");
        // A vault answers `kid` and `value` only; ECDSA is raw r || s at the curve's width.
        assert_eq!(s.alg_in_response, None, "{json}");
        assert_eq!(s.signature.len(), width, "{json}");
        let cert = Certificate::from_der(&fixture(cer)).unwrap();
        let jwk = key_bundle_jwk(&entries);
        assert_eq!(matches_jwk(cert.public_key(), &jwk), Ok(true), "{json}");
        assert_verifies(json, cert.public_key(), &s);
    }
}

#[test]
fn the_rust_sdk_es256_signature_over_an_empty_key_version_verifies() {
    let entries = exchange("rust2025_sign_jwt_with_ec_certificate.json");
    let s = recorded_sign(&entries);
    assert_eq!(s.algorithm, SigningAlgorithm::EcdsaSha256);
    assert_eq!(s.signature.len(), 64);
    // `keys/{name}//sign`: the response `kid` names the latest version, the certificate's.
    let bundle = responses(&entries, "GET", |p| {
        p.ends_with("/certificates/ec-certificate-signer")
    });
    assert_eq!(bundle[0]["ResponseBody"]["kid"], s.kid.as_str());
    let cert = Certificate::from_der(&fixture("rust2025_ec256.cer")).unwrap();
    assert_verifies("rust ES256", cert.public_key(), &s);
    // The digest is SHA-256 of a JWS signing input (the SDK test's JWT, header and claims
    // below): the signature verifies as notation checks a JWS, over the message itself.
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(br#"{"sub":"heaths","name":"Heath Stewart","iat":1743833691}"#)
    );
    assert_eq!(
        verify_plugin_signature(
            cert.public_key(),
            SigningAlgorithm::EcdsaSha256,
            input.as_bytes(),
            &s.signature
        ),
        Ok(())
    );
    assert_eq!(
        verify_plugin_signature(
            cert.public_key(),
            SigningAlgorithm::EcdsaSha256,
            input.as_bytes(),
            &tampered(&s.signature)
        ),
        Err(SignatureError::Invalid)
    );
}

#[test]
fn recorded_pss_signatures_verify_with_the_jwk_on_a_vault_and_a_managed_hsm() {
    for (json, alg_in_response) in [
        ("net2026_vault_SignLocalVerifyRoundTrip_PS512.json", None),
        (
            "net2026_mhsm_SignLocalVerifyRoundTrip_PS512.json",
            Some("PS512".to_string()),
        ),
    ] {
        let entries = exchange(json);
        let s = recorded_sign(&entries);
        assert_eq!(s.algorithm, SigningAlgorithm::RsassaPssSha512, "{json}");
        assert_eq!(s.alg_in_response, alg_in_response, "{json}");
        let jwk = key_bundle_jwk(&entries);
        let spki = rsa_spki(&jwk);
        assert_eq!(matches_jwk(&spki, &jwk), Ok(true), "{json}");
        // The PSS salt is the hash length (64 bytes): the exact check passes.
        assert_verifies(json, &spki, &s);
        // PS512 with an RSA-2048 key is not the Notary Project pairing (PS256): notation would
        // refuse such a signature, and so does the plugin-signature check.
        assert_eq!(
            verify_plugin_signature(&spki, s.algorithm, b"any payload", &s.signature),
            Err(SignatureError::AlgorithmMismatch {
                algorithm: SigningAlgorithm::RsassaPssSha512,
                key_spec: KeySpec::Rsa2048,
                expected: SigningAlgorithm::RsassaPssSha256,
            }),
            "{json}"
        );
    }
}

/// The secret files are the recorded secret values (the PKCS#12 ones are read by the signer's
/// PKCS#12 reader, whose tests use the files), with the content type AKV gave them.
#[test]
fn secret_values_in_the_exchanges_are_the_fixture_files() {
    for (json, file, content_type) in [
        (
            "net2024_DownloadLatestCertificate_pkcs12.json",
            "net2024_rsa.p12",
            "application/x-pkcs12",
        ),
        (
            "net2024_ECDsa_P-384_pkcs12_signremote.json",
            "net2024_ec384.p12",
            "application/x-pkcs12",
        ),
        (
            "net2024aug_DownloadVersionedCertificate_pkcs12.json",
            "net2024aug_rsa.p12",
            "application/x-pkcs12",
        ),
        (
            "net2024_ECDsa_P-521_pem_signremote.json",
            "net2024_ec521.pem",
            "application/x-pem-file",
        ),
    ] {
        let entries = exchange(json);
        let secrets = responses(&entries, "GET", |p| p.contains("/secrets/"));
        assert_eq!(secrets.len(), 1, "{json}");
        let body = &secrets[0]["ResponseBody"];
        assert_eq!(body["contentType"], content_type, "{json}");
        let value = body["value"].as_str().unwrap();
        let bytes = if content_type == "application/x-pkcs12" {
            STANDARD.decode(value).unwrap()
        } else {
            value.as_bytes().to_vec()
        };
        assert_eq!(bytes, fixture(file), "{json}");
        // A certificate's secret names its key and is managed by the vault.
        assert_eq!(body["managed"], true, "{json}");
    }
}
