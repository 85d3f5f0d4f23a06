//! Writes `fuzz/fixture/` (a chain with OCSP and CRL URLs, a TSA root, an offline bundle for the
//! chain) and the seed corpora `fuzz/seeds/<target>/` from the project's fixtures and real
//! responders on 127.0.0.1. Run it again to refresh both (the fixture and the seeds that match
//! it are written together):
//!
//! ```sh
//! cargo run -p akv-fuzz-targets --bin akv-fuzz-seeds
//! ```

use akv_fuzz_targets::fuzz_dir;
use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa, pem_block};
use akv_test_responders::tsa::Tsa;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use notation_akv_envelope::{Attribute, EnvelopeType, SignRequest, prepare};
use notation_akv_protocol::{HashAlgorithm, SigningAlgorithm};
use notation_akv_revocation::{RevocationChecker, RevocationConfig, write_bundle};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

fn main() {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(generate());
}

struct Seeds {
    root: PathBuf,
}

impl Seeds {
    fn put(&self, target: &str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    fn copy(&self, target: &str, from: &Path) {
        let name = from.file_name().unwrap().to_str().unwrap();
        self.put(target, name, std::fs::read(from).unwrap());
    }
}

fn repo() -> PathBuf {
    fuzz_dir().join("..")
}

async fn generate() {
    let fixture = fuzz_dir().join("fixture");
    let _ = std::fs::remove_dir_all(&fixture);
    std::fs::create_dir_all(&fixture).unwrap();
    let seeds = Seeds {
        root: fuzz_dir().join("seeds"),
    };
    let _ = std::fs::remove_dir_all(&seeds.root);

    // The chain: OCSP from a real responder, CRLs from a file server.
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let files = FileServer::start(None).await.unwrap();
    let (root_crl, intermediate_crl) = (files.url("/root.crl"), files.url("/intermediate.crl"));
    let root = TestCa::root("fuzz root").unwrap();
    let intermediate = root
        .intermediate(
            "fuzz intermediate",
            &CertOptions {
                ocsp_urls: vec![responder.url()],
                crl_urls: vec![root_crl.clone()],
                ..CertOptions::default()
            },
        )
        .unwrap();
    let leaf = intermediate
        .issue(
            "fuzz leaf",
            &CertOptions {
                ocsp_urls: vec![responder.url()],
                crl_urls: vec![intermediate_crl.clone()],
                ..CertOptions::default()
            },
        )
        .unwrap();
    responder.add_ca(&root).unwrap();
    responder.add_ca(&intermediate).unwrap();
    responder.set_status(intermediate.serial(), Status::Good);
    responder.set_status(&leaf.serial, Status::Good);
    files
        .files
        .put("/root.crl", CrlBuilder::default().sign(&root).unwrap());
    files.files.put(
        "/intermediate.crl",
        CrlBuilder::default().sign(&intermediate).unwrap(),
    );
    let chain = vec![
        leaf.der.clone(),
        intermediate.der().to_vec(),
        root.der().to_vec(),
    ];
    let chain_pem: String = chain.iter().map(|d| pem_block("CERTIFICATE", d)).collect();
    std::fs::write(fixture.join("chain.pem"), &chain_pem).unwrap();
    std::fs::write(
        fixture.join("crl-urls.txt"),
        format!("{intermediate_crl}\n{root_crl}\n"),
    )
    .unwrap();

    // The bundle, through the verifier's own collector and writer.
    let collector = RevocationChecker::collector(RevocationConfig::default()).unwrap();
    let now = SystemTime::now();
    let collected = collector.collect(&chain, now).await.unwrap();
    assert_eq!(collected.objects.len(), 4, "2 OCSP responses and 2 CRLs");
    let bundle = fixture.join("bundle");
    write_bundle(
        &bundle,
        &[("chain.pem".into(), chain.clone())],
        &collected.objects,
        now,
    )
    .unwrap();
    for entry in std::fs::read_dir(&bundle).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("ocsp") => seeds.copy("ocsp_response", &path),
            Some("crl") => seeds.copy("crl", &path),
            Some("json") => seeds.copy("revocation_bundle_manifest", &path),
            _ => {}
        }
    }
    for (i, object) in collected.objects.iter().enumerate() {
        if object.kind != notation_akv_revocation::FetchedKind::Ocsp {
            let mut entry = b"notation-akv-revocation-cache-v1\n".to_vec();
            entry.extend_from_slice(object.url.as_bytes());
            entry.push(b'\n');
            entry.extend_from_slice(&object.der);
            seeds.put("revocation_cache_entry", &format!("crl-{i}"), entry);
        }
    }

    // A TSA reply for a request like the target's (its nonce differs, as it would).
    let tsa = Tsa::start("fuzz TSA").await.unwrap();
    std::fs::write(fixture.join("tsa-root.pem"), tsa.root_pem()).unwrap();
    let request =
        notation_akv_timestamp::Request::new(b"signature value", HashAlgorithm::Sha256).unwrap();
    let url = notation_akv_timestamp::Url::parse(&tsa.url()).unwrap();
    let reply = notation_akv_timestamp::http::post(
        &url,
        request.to_der(),
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    seeds.put("timestamp_reply", "granted", reply);

    // Envelopes signed by the leaf's key.
    let signer =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &leaf.key.pkcs8_der()).unwrap();
    let payload = json!({"targetArtifact": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:2f5b6f9e8b4c1d0a3e7f6c5b4a39281706f5e4d3c2b1a0987654321fedcba98",
        "size": 528,
    }})
    .to_string();
    let attributes = [Attribute {
        key: "io.cncf.notary.verificationPlugin".into(),
        value: json!("akv-verifier"),
        critical: true,
    }];
    for (kind, target) in [
        (EnvelopeType::Jws, "jws_envelope"),
        (EnvelopeType::Cose, "cose_envelope"),
    ] {
        let unsigned = prepare(
            kind,
            &SignRequest {
                payload: payload.as_bytes(),
                content_type: PAYLOAD_TYPE,
                algorithm: SigningAlgorithm::EcdsaSha256,
                signing_time: time::OffsetDateTime::now_utc(),
                expiry: Some(time::OffsetDateTime::now_utc() + time::Duration::days(365)),
                extended_attributes: &attributes,
                certificate_chain: &chain,
                signing_agent: "notation-akv fuzz seed",
            },
        )
        .unwrap();
        let signature = signer
            .sign(&SystemRandom::new(), unsigned.signing_input())
            .unwrap();
        seeds.put(
            target,
            "signed",
            unsigned.finish(signature.as_ref().to_vec()).unwrap(),
        );
    }

    // Certificates, bundles and PKCS#12 from the recorded vault payloads and the fixture.
    let recorded = repo().join("tests/fixtures/akv-recorded");
    seeds.put("certificate_bundle", "chain.pem", &chain_pem);
    seeds.put("certificate_chain", "chain.pem", &chain_pem);
    seeds.put("certificate_bundle", "leaf.der", &leaf.der);
    for entry in std::fs::read_dir(&recorded).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("cer") | Some("pem") => {
                seeds.copy("certificate_bundle", &path);
                seeds.copy("certificate_chain", &path);
            }
            Some("p12") => seeds.copy("pkcs12", &path),
            _ => {}
        }
    }
    seeds.put("distinguished_name", "leaf", "CN=fuzz leaf");
    seeds.put(
        "distinguished_name",
        "full",
        "C=US, ST=WA, L=Seattle, O=Notary Project, OU=signing, CN=wabbit-networks.io",
    );
    seeds.put(
        "distinguished_name",
        "escaped",
        r#"CN=a\,b\+c, O="quoted, org""#,
    );

    // Vault payloads: a JWK for the leaf's key, and sign results.
    let leaf_cert = notation_akv_x509::Certificate::from_der(&leaf.der).unwrap();
    let point = leaf_cert.public_key().subject_public_key.raw_bytes();
    let (x, y) = point[1..].split_at(32);
    let kid = "https://fuzz.vault.azure.net/keys/signer/0123456789abcdef0123456789abcdef";
    seeds.put(
        "jwk",
        "ec",
        json!({"key": {"kid": kid, "kty": "EC", "crv": "P-256", "key_ops": ["sign", "verify"],
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y)},
            "attributes": {"enabled": true, "created": 1700000000, "updated": 1700000000}})
        .to_string(),
    );
    seeds.put(
        "jwk",
        "rsa",
        json!({"key": {"kid": kid, "kty": "RSA-HSM", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 256]),
            "e": "AQAB"}, "attributes": {"enabled": false}})
        .to_string(),
    );
    seeds.put(
        "sign_response",
        "es256",
        json!({"kid": kid, "value": URL_SAFE_NO_PAD.encode([7u8; 64])}).to_string(),
    );
    seeds.put(
        "sign_response",
        "ps512",
        json!({"kid": kid, "value": URL_SAFE_NO_PAD.encode([9u8; 512])}).to_string(),
    );

    // Key ids as notation's --id passes them.
    for (name, id) in [
        (
            "key",
            "https://myvault.vault.azure.net/keys/signer/0123456789abcdef0123456789abcdef",
        ),
        (
            "certificate",
            "https://myvault.vault.azure.net/certificates/signer",
        ),
        ("mhsm", "https://myhsm.managedhsm.azure.net/keys/signer"),
        (
            "china",
            "https://v.vault.azure.cn/certificates/c/0123456789abcdef0123456789abcdef",
        ),
        ("port", "https://127.0.0.1:8443/keys/k/"),
    ] {
        seeds.put("key_id", name, id);
    }

    // The signer's cache: a whole entry file and a payload.
    let material = json!({"key_spec": "EC-256", "key_name": "signer",
        "key_version": "0123456789abcdef0123456789abcdef",
        "chain": chain.iter().map(|d| STANDARD.encode(d)).collect::<Vec<_>>()});
    let mut payload_seed = vec![1u8];
    payload_seed.extend_from_slice(material.to_string().as_bytes());
    seeds.put("signer_cache_entry", "payload", payload_seed);
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = notation_akv_keyvault::cache::Cache::open(
        &notation_akv_keyvault::settings::CacheSettings {
            enabled: true,
            versionless_ttl: std::time::Duration::from_secs(60),
            dir: Some(cache_dir.path().to_path_buf()),
        },
        notation_akv_keyvault::RequestLog::disabled(),
    )
    .unwrap();
    let key = notation_akv_keyvault::cache::CacheKey {
        vault: "fuzz.vault.azure.net".into(),
        collection: "certificates".into(),
        name: "signer".into(),
        version: Some("0123456789abcdef0123456789abcdef".into()),
        variant: "secret".into(),
    };
    cache.put(&key, &material);
    for entry in std::fs::read_dir(cache_dir.path())
        .unwrap()
        .filter_map(Result::ok)
    {
        let mut file = vec![0u8];
        file.extend_from_slice(&std::fs::read(entry.path()).unwrap());
        seeds.put("signer_cache_entry", "file", file);
    }

    // Configuration.
    seeds.put(
        "signer_config",
        "certificate",
        "self_signed=false\nca_certs=/tmp/ca.pem\nenvelope=cose\ntimestamp_url=http://127.0.0.1:9/tsa\ntimestamp_root_cert=/tmp/tsa.pem\n",
    );
    seeds.put(
        "signer_config",
        "credentials",
        "credential_type=workloadid\ntimeout=30s\ncache=false\ncache_ttl=5m\nlog_file=/tmp/akv.log\nAZURE_CLIENT_ID=00000000-0000-0000-0000-000000000000\n",
    );
    let verifier_pairs: String = notation_akv_verifier::config::KEYS
        .iter()
        .map(|k| format!("{}=\n", k.name))
        .collect();
    seeds.put("verifier_config_values", "keys", verifier_pairs);
    for (name, value) in [
        ("duration", "1h30m5s"),
        ("ms", "250ms"),
        ("bool", "TRUE"),
        (
            "sha",
            "8f2b0c4e9d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c",
        ),
        (
            "pairs",
            "ocsp_timeout=2s\ncrl_timeout=5s\ncache=true\noffline_mode=only\n",
        ),
    ] {
        seeds.put("verifier_config_values", name, value);
    }
    seeds.put(
        "verifier_config_file",
        "file",
        json!({"ocsp_timeout": "2s", "crl_timeout": "5s", "cache": "true",
            "akv_certificates": {"8f2b0c4e9d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c":
                "https://myvault.vault.azure.net/certificates/signer"}})
        .to_string(),
    );

    // Requests notation 1.3.2 really sent.
    for entry in std::fs::read_dir(repo().join("spec/examples"))
        .unwrap()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let target = match name.split('.').next().unwrap() {
            "describe-key" => "describe_key_request",
            "generate-signature" => "generate_signature_request",
            "generate-envelope" => "generate_envelope_request",
            "verify-signature" => "verify_signature_request",
            "get-plugin-metadata" => "plugin_metadata_request",
            _ => continue,
        };
        if name.ends_with(".request.json") {
            seeds.copy(target, &path);
        }
    }
    println!("wrote {} and {}", fixture.display(), seeds.root.display());
}
