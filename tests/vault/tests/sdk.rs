//! The official Azure SDK for Rust clients and credentials against the test vault, over TLS.

mod common;

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{ClientAuth, CredentialKind, RouteKind, TestVault};
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use azure_core::credentials::SecretBytes;
use azure_identity::{
    ClientAssertionCredentialOptions, ClientCertificateCredential,
    ClientCertificateCredentialOptions, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use azure_security_keyvault_certificates::models::CertificateClientGetCertificateOptions;
use azure_security_keyvault_keys::models::{
    KeyClientSignOptions, SignParameters, SignatureAlgorithm,
};
use azure_security_keyvault_secrets::models::SecretClientGetSecretOptions;
use base64::Engine;
use der::Decode;
use futures::TryStreamExt;
use std::process::Command;

/// The subjectPublicKey bits of a certificate: PKCS#1 for RSA, the uncompressed point for EC.
fn public_key_bits(cert_der: &[u8]) -> Vec<u8> {
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    cert.tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec()
}

fn sdk_alg(spec: KeySpec) -> SignatureAlgorithm {
    match spec {
        KeySpec::Rsa2048 => SignatureAlgorithm::Ps256,
        KeySpec::Rsa3072 => SignatureAlgorithm::Ps384,
        KeySpec::Rsa4096 => SignatureAlgorithm::Ps512,
        KeySpec::Ec256 => SignatureAlgorithm::Es256,
        KeySpec::Ec384 => SignatureAlgorithm::Es384,
        KeySpec::Ec521 => SignatureAlgorithm::Es512,
    }
}

fn hash(spec: KeySpec, message: &[u8]) -> Vec<u8> {
    let alg = match spec.hash().digest_len() {
        32 => &digest::SHA256,
        48 => &digest::SHA384,
        _ => &digest::SHA512,
    };
    digest::digest(alg, message).as_ref().to_vec()
}

/// Verifies with aws-lc-rs, and for RSA-PSS also with the `rsa` crate pinned to salt = hash length
/// (what go-cose requires).
fn verify(spec: KeySpec, cert_der: &[u8], message: &[u8], sig: &[u8]) {
    let public = public_key_bits(cert_der);
    let alg: &dyn signature::VerificationAlgorithm = match spec {
        KeySpec::Rsa2048 => &signature::RSA_PSS_2048_8192_SHA256,
        KeySpec::Rsa3072 => &signature::RSA_PSS_2048_8192_SHA384,
        KeySpec::Rsa4096 => &signature::RSA_PSS_2048_8192_SHA512,
        KeySpec::Ec256 => &signature::ECDSA_P256_SHA256_FIXED,
        KeySpec::Ec384 => &signature::ECDSA_P384_SHA384_FIXED,
        KeySpec::Ec521 => &signature::ECDSA_P521_SHA512_FIXED,
    };
    UnparsedPublicKey::new(alg, &public)
        .verify(message, sig)
        .unwrap_or_else(|_| panic!("{spec}: signature does not verify"));
    if spec.is_rsa() {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::signature::Verifier;
        let key = rsa::RsaPublicKey::from_pkcs1_der(&public).unwrap();
        let sig = rsa::pss::Signature::try_from(sig).unwrap();
        let ok = match spec {
            KeySpec::Rsa2048 => {
                rsa::pss::VerifyingKey::<sha2::Sha256>::new(key).verify(message, &sig)
            }
            KeySpec::Rsa3072 => {
                rsa::pss::VerifyingKey::<sha2::Sha384>::new(key).verify(message, &sig)
            }
            _ => rsa::pss::VerifyingKey::<sha2::Sha512>::new(key).verify(message, &sig),
        };
        ok.unwrap_or_else(|e| panic!("{spec}: PSS salt is not the hash length: {e}"));
    } else {
        assert_eq!(
            sig.len(),
            2 * spec.bits().div_ceil(8) as usize,
            "{spec}: raw r||s"
        );
    }
}

/// The AKV error code azure_core parsed from the error body.
fn error_code(err: &azure_core::Error) -> Option<String> {
    match err.kind() {
        azure_core::error::ErrorKind::HttpResponse { error_code, .. } => error_code.clone(),
        _ => None,
    }
}

/// The error and all its sources, one per line.
fn chain_text(err: &azure_core::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(e) = source {
        text.push('\n');
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn sign_options(version: &str) -> Option<KeyClientSignOptions<'static>> {
    Some(KeyClientSignOptions {
        key_version: Some(version.to_string()),
        ..Default::default()
    })
}

fn params(spec: KeySpec, digest: Vec<u8>) -> SignParameters {
    SignParameters {
        algorithm: Some(sdk_alg(spec)),
        value: Some(digest),
    }
}

#[tokio::test]
async fn signs_with_every_key_spec_and_the_signature_verifies() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let client = common::key_client(&vault);
    let message = b"notation-akv payload";
    for spec in KeySpec::ALL {
        for name in [names::self_signed(spec), names::ca_issued(spec)] {
            let f = fixtures.get(&name);
            let result = client
                .sign(
                    &name,
                    params(spec, hash(spec, message)).try_into().unwrap(),
                    sign_options(&f.version.version),
                )
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .into_model()
                .unwrap();
            assert_eq!(result.kid.as_deref(), Some(f.version.kid.as_str()));
            verify(
                spec,
                f.chain.leaf().der(),
                message,
                result.result.as_ref().unwrap(),
            );
        }
    }
    // Versionless sign uses the latest version.
    let spec = KeySpec::Ec256;
    let rotated = fixtures.get(names::ROTATED);
    let result = client
        .sign(
            names::ROTATED,
            params(spec, hash(spec, message)).try_into().unwrap(),
            None,
        )
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(result.kid.as_deref(), Some(rotated.version.kid.as_str()));
    verify(
        spec,
        rotated.chain.leaf().der(),
        message,
        result.result.as_ref().unwrap(),
    );

    let signs: Vec<_> = vault
        .requests()
        .into_iter()
        .filter(|r| r.route == RouteKind::Sign)
        .collect();
    // One unauthenticated challenge probe, then every sign authenticated by the client secret.
    assert_eq!(
        signs
            .iter()
            .filter(|r| r.status == 401 && !r.bearer)
            .count(),
        1
    );
    let ok: Vec<_> = signs.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 13);
    assert!(ok.iter().all(|r| r.bearer
        && r.owner.as_ref().map(|o| o.kind) == Some(CredentialKind::ClientSecret)
        && r.owner.as_ref().map(|o| o.client_id.as_str())
            == Some(akv_test_vault::DEFAULT_CLIENT_ID)));
}

#[tokio::test]
async fn workload_identity_credential_gets_a_token_from_the_federated_token_file() {
    let vault = TestVault::start().unwrap();
    let spec = KeySpec::Ec384;
    let key = vault.create_key("wi", spec).unwrap();
    let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: common::options(&vault),
        },
        client_id: Some(akv_test_vault::DEFAULT_WORKLOAD_CLIENT_ID.into()),
        tenant_id: Some(vault.config().tenant_id.clone()),
        token_file_path: Some(vault.federated_token_file().to_path_buf()),
    }))
    .unwrap();
    let client = common::key_client_with(&vault, credential, common::options(&vault));
    let result = client
        .sign(
            "wi",
            params(spec, hash(spec, b"m")).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(result.kid.as_deref(), Some(key.kid.as_str()));
    let owners: Vec<_> = vault
        .requests()
        .into_iter()
        .filter_map(|r| r.owner)
        .collect();
    assert!(
        owners
            .iter()
            .any(|o| o.kind == CredentialKind::FederatedToken
                && o.client_id == akv_test_vault::DEFAULT_WORKLOAD_CLIENT_ID)
    );
}

#[tokio::test]
async fn client_certificate_credential_assertion_is_verified() {
    let vault = TestVault::start().unwrap();
    let client_cert = ChainBuilder::self_signed(KeySpec::Rsa2048)
        .common_name("akv-test client")
        .build()
        .unwrap();
    vault.register_client(
        "cert-client",
        ClientAuth::Certificate(client_cert.leaf().der().to_vec()),
    );
    let spec = KeySpec::Ec256;
    let key = vault.create_key("cc", spec).unwrap();
    let credential = ClientCertificateCredential::new(
        vault.config().tenant_id.clone(),
        "cert-client".into(),
        SecretBytes::new(client_cert.pkcs12(true).unwrap()),
        Some(ClientCertificateCredentialOptions {
            client_options: common::options(&vault),
            ..Default::default()
        }),
    )
    .unwrap();
    let client = common::key_client_with(&vault, credential, common::options(&vault));
    client
        .sign(
            "cc",
            params(spec, hash(spec, b"m")).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap();
    let tokens: Vec<_> = vault
        .requests()
        .into_iter()
        .filter(|r| r.route == RouteKind::Token)
        .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].status, 200);
    assert_eq!(
        tokens[0].owner.as_ref().unwrap().kind,
        CredentialKind::ClientCertificate
    );

    // A certificate that is not registered is refused with Entra's error.
    let stranger = ChainBuilder::self_signed(KeySpec::Rsa2048)
        .key_slot(9)
        .build()
        .unwrap();
    let credential = ClientCertificateCredential::new(
        vault.config().tenant_id.clone(),
        "cert-client".into(),
        SecretBytes::new(stranger.pkcs12(true).unwrap()),
        Some(ClientCertificateCredentialOptions {
            client_options: common::options(&vault),
            ..Default::default()
        }),
    )
    .unwrap();
    let client = common::key_client_with(&vault, credential, common::options(&vault));
    let err = client
        .sign(
            "cc",
            params(spec, hash(spec, b"m")).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap_err();
    let text = chain_text(&err);
    assert!(text.contains("AADSTS700027"), "{text}");
}

#[tokio::test]
async fn wrong_client_secret_gets_the_entra_error() {
    let vault = TestVault::start().unwrap();
    let key = vault.create_key("k", KeySpec::Ec256).unwrap();
    let client = common::key_client_with(
        &vault,
        common::secret_credential_with(&vault, "not-the-secret"),
        common::options(&vault),
    );
    let err = client
        .sign(
            "k",
            params(KeySpec::Ec256, vec![0; 32]).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap_err();
    let text = chain_text(&err);
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert_eq!(
        vault.count(RouteKind::Sign),
        1,
        "only the challenge probe reached the vault"
    );
}

#[tokio::test]
async fn sign_refusals_match_akv() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let client = common::key_client(&vault);

    let disabled = &fixtures.get(names::DISABLED_KEY).version;
    let err = client
        .sign(
            &disabled.name,
            params(KeySpec::Ec256, vec![1; 32]).try_into().unwrap(),
            sign_options(&disabled.version),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status().map(u16::from), Some(403));
    assert!(
        err.to_string()
            .contains("Operation sign is not allowed on a disabled key."),
        "{err}"
    );

    // PS256 on an EC key, and ES384 on a P-256 key.
    let ec = &fixtures.get(&names::self_signed(KeySpec::Ec256)).version;
    for (alg, len) in [
        (SignatureAlgorithm::Ps256, 32),
        (SignatureAlgorithm::Es384, 48),
    ] {
        let p = SignParameters {
            algorithm: Some(alg),
            value: Some(vec![1; len]),
        };
        let err = client
            .sign(&ec.name, p.try_into().unwrap(), sign_options(&ec.version))
            .await
            .unwrap_err();
        assert_eq!(err.http_status().map(u16::from), Some(400));
        assert_eq!(error_code(&err).as_deref(), Some("BadParameter"), "{err}");
    }

    // The wrong-key fixture signs, but not with the certificate's key.
    let wrong = fixtures.get(names::WRONG_KEY);
    let result = client
        .sign(
            names::WRONG_KEY,
            params(KeySpec::Ec256, hash(KeySpec::Ec256, b"m"))
                .try_into()
                .unwrap(),
            sign_options(&wrong.version.version),
        )
        .await
        .unwrap()
        .into_model()
        .unwrap();
    let public = public_key_bits(wrong.chain.leaf().der());
    assert!(
        UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &public)
            .verify(b"m", result.result.as_ref().unwrap())
            .is_err()
    );

    // RS256 works for negative tests.
    let rsa = &fixtures.get(&names::self_signed(KeySpec::Rsa2048));
    let p = SignParameters {
        algorithm: Some(SignatureAlgorithm::Rs256),
        value: Some(hash(KeySpec::Rsa2048, b"m")),
    };
    let result = client
        .sign(
            &rsa.version.name,
            p.try_into().unwrap(),
            sign_options(&rsa.version.version),
        )
        .await
        .unwrap()
        .into_model()
        .unwrap();
    UnparsedPublicKey::new(
        &signature::RSA_PKCS1_2048_8192_SHA256,
        public_key_bits(rsa.chain.leaf().der()),
    )
    .verify(b"m", result.result.as_ref().unwrap())
    .unwrap();
}

#[tokio::test]
async fn certificates_by_version_latest_and_versions_list() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let client = common::certificate_client(&vault);

    let f = fixtures.get(&names::ca_issued(KeySpec::Rsa3072));
    let by_version = client
        .get_certificate(
            &f.version.name,
            Some(CertificateClientGetCertificateOptions {
                certificate_version: Some(f.version.version.clone()),
                ..Default::default()
            }),
        )
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(by_version.cer.as_deref(), Some(f.chain.leaf().der()));
    assert_eq!(by_version.id.as_deref(), Some(f.version.id.as_str()));
    assert_eq!(by_version.kid.as_deref(), Some(f.version.kid.as_str()));
    assert_eq!(by_version.sid.as_deref(), Some(f.version.sid.as_str()));
    let sha1 = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, f.chain.leaf().der());
    assert_eq!(by_version.x509_thumbprint.as_deref(), Some(sha1.as_ref()));
    let attributes = by_version.attributes.unwrap();
    assert_eq!(attributes.enabled, Some(true));
    assert_eq!(
        attributes.expires.map(|t| t.unix_timestamp()),
        Some(f.chain.leaf().not_after().unix_timestamp())
    );
    assert!(by_version.policy.is_none(), "a versioned get has no policy");

    let latest = client
        .get_certificate(&f.version.name, None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    let policy = latest.policy.expect("latest carries the policy");
    let x509 = policy.x509_certificate_properties.unwrap();
    assert_eq!(
        x509.enhanced_key_usage,
        Some(vec!["1.3.6.1.5.5.7.3.3".to_string()])
    );
    assert_eq!(policy.key_properties.unwrap().key_size, Some(3072));

    let akv_default = client
        .get_certificate(names::AKV_DEFAULT_POLICY, None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    let x509 = akv_default
        .policy
        .unwrap()
        .x509_certificate_properties
        .unwrap();
    assert_eq!(
        x509.enhanced_key_usage,
        Some(vec![
            "1.3.6.1.5.5.7.3.1".to_string(),
            "1.3.6.1.5.5.7.3.2".to_string()
        ])
    );
    assert_eq!(x509.key_usage.map(|k| k.len()), Some(2));

    let rotated = fixtures.get(names::ROTATED);
    let latest = client
        .get_certificate(names::ROTATED, None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(latest.id.as_deref(), Some(rotated.version.id.as_str()));
    let mut pager = client
        .list_certificate_properties_versions(names::ROTATED, None)
        .unwrap();
    let mut ids = Vec::new();
    while let Some(item) = pager.try_next().await.unwrap() {
        ids.push(item.id.unwrap());
    }
    assert_eq!(
        ids,
        vec![
            fixtures.rotated_history[0].version.id.clone(),
            rotated.version.id.clone()
        ]
    );
}

fn openssl_pkcs12(pfx: &[u8], args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.pfx"), pfx).unwrap();
    let out = Command::new("openssl")
        .args(["pkcs12", "-in", "s.pfx", "-passin", "pass:"])
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("openssl must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn get_secret(
    client: &azure_security_keyvault_secrets::SecretClient,
    name: &str,
    version: &str,
) -> azure_core::Result<azure_security_keyvault_secrets::models::Secret> {
    let options = SecretClientGetSecretOptions {
        secret_version: Some(version.to_string()),
        ..Default::default()
    };
    client.get_secret(name, Some(options)).await?.into_model()
}

#[tokio::test]
async fn secrets_as_pem_and_pkcs12() {
    let vault = TestVault::start().unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let client = common::secret_client(&vault);

    let f = fixtures.get(&names::ca_issued(KeySpec::Ec384));
    let pem = get_secret(&client, &f.version.name, &f.version.version)
        .await
        .unwrap();
    assert_eq!(pem.content_type.as_deref(), Some("application/x-pem-file"));
    assert_eq!(pem.kid.as_deref(), Some(f.version.kid.as_str()));
    assert_eq!(pem.managed, Some(true));
    assert_eq!(
        pem.value.as_deref(),
        Some(
            f.chain
                .pem_bundle(akv_test_pki::BundleOrder::LeafFirst)
                .as_str()
        )
    );

    let leaf_only = fixtures.get(names::LEAF_ONLY);
    let s = get_secret(&client, names::LEAF_ONLY, &leaf_only.version.version)
        .await
        .unwrap();
    assert_eq!(
        s.value.as_deref(),
        Some(leaf_only.chain.leaf().pem().as_str())
    );

    let exportable = fixtures.get(names::PEM_EXPORTABLE);
    let s = get_secret(&client, names::PEM_EXPORTABLE, &exportable.version.version)
        .await
        .unwrap();
    assert!(s.value.unwrap().contains("-----BEGIN PRIVATE KEY-----"));

    let pfx = fixtures.get(names::PKCS12);
    let s = get_secret(&client, names::PKCS12, &pfx.version.version)
        .await
        .unwrap();
    assert_eq!(s.content_type.as_deref(), Some("application/x-pkcs12"));
    let der = base64::engine::general_purpose::STANDARD
        .decode(s.value.unwrap())
        .unwrap();
    let certs = openssl_pkcs12(&der, &["-nokeys"]);
    assert_eq!(certs.matches("BEGIN CERTIFICATE").count(), 3, "{certs}");

    let pfx = fixtures.get(names::PKCS12_EXPORTABLE);
    let s = get_secret(&client, names::PKCS12_EXPORTABLE, &pfx.version.version)
        .await
        .unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(s.value.unwrap())
        .unwrap();
    assert!(openssl_pkcs12(&der, &["-nocerts", "-nodes"]).contains("BEGIN PRIVATE KEY"));

    // Disabled certificate versions make their secret unreadable, as in AKV.
    vault
        .set_certificate_enabled(&f.version.name, &f.version.version, false)
        .unwrap();
    let err = get_secret(&client, &f.version.name, &f.version.version)
        .await
        .unwrap_err();
    assert_eq!(err.http_status().map(u16::from), Some(403));
    assert!(
        err.to_string()
            .contains("Operation get is not allowed on a disabled secret."),
        "{err}"
    );
}

#[tokio::test]
async fn key_versions_rotate_and_disable() {
    let vault = TestVault::start().unwrap();
    let v1 = vault.create_key("k", KeySpec::Rsa2048).unwrap();
    let v2 = vault.rotate_key("k").unwrap();
    assert_ne!(v1.version, v2.version);
    let client = common::key_client(&vault);
    let latest = client
        .get_key("k", None)
        .await
        .unwrap()
        .into_model()
        .unwrap();
    assert_eq!(latest.key.unwrap().kid.as_deref(), Some(v2.kid.as_str()));

    vault.set_key_enabled("k", &v1.version, false).unwrap();
    let digest = hash(KeySpec::Rsa2048, b"m");
    let err = client
        .sign(
            "k",
            params(KeySpec::Rsa2048, digest.clone()).try_into().unwrap(),
            sign_options(&v1.version),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status().map(u16::from), Some(403));
    client
        .sign(
            "k",
            params(KeySpec::Rsa2048, digest).try_into().unwrap(),
            sign_options(&v2.version),
        )
        .await
        .unwrap();
    assert!(vault.rotate_key("missing").is_err());
}

/// Under its Key Vault host name the vault passes the SDK's default `verify_challenge_resource`
/// check, as a real vault does; a vault whose challenge names another resource fails it.
#[tokio::test]
async fn the_sdk_challenge_resource_check_stays_on() {
    let spec = KeySpec::Ec256;
    let client = |vault: &TestVault| {
        azure_security_keyvault_keys::KeyClient::new(
            vault.url(),
            common::secret_credential(vault),
            Some(azure_security_keyvault_keys::KeyClientOptions {
                client_options: common::options(vault),
                ..Default::default()
            }),
        )
        .unwrap()
    };
    let vault = TestVault::start().unwrap();
    let key = vault.create_key("k", spec).unwrap();
    client(&vault)
        .sign(
            "k",
            params(spec, hash(spec, b"m")).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap();

    let foreign = TestVault::start_with(akv_test_vault::VaultConfig {
        challenge_resource: "https://storage.azure.com".into(),
        ..Default::default()
    })
    .unwrap();
    let key = foreign.create_key("k", spec).unwrap();
    let err = client(&foreign)
        .sign(
            "k",
            params(spec, hash(spec, b"m")).try_into().unwrap(),
            sign_options(&key.version),
        )
        .await
        .unwrap_err();
    assert!(
        chain_text(&err).contains("doesn't match the requested domain"),
        "{}",
        chain_text(&err)
    );
}

#[test]
fn the_binary_describes_what_it_serves() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_akv-test-vault"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let read = std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    read.unwrap();
    assert!(still_running, "the vault runs until killed");
    let d: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert!(
        d["url"]
            .as_str()
            .unwrap()
            .starts_with("https://notation-akv-test.vault.azure.net:")
    );
    let ca_file = std::path::Path::new(d["caFile"].as_str().unwrap());
    let ca = std::fs::read_to_string(ca_file).unwrap();
    // A killed binary cannot clean up after itself.
    std::fs::remove_dir_all(ca_file.parent().unwrap()).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    let f = &d["certificates"][names::ca_issued(KeySpec::Rsa4096)];
    assert_eq!(f["keySpec"], "RSA-4096");
    assert!(f["kid"].as_str().unwrap().contains("/keys/ca-rsa-4096/"));
    assert_eq!(
        d["env"]["managedIdentity"]["IDENTITY_HEADER"],
        akv_test_vault::DEFAULT_MANAGED_IDENTITY_HEADER
    );
}
