//! azure-kv's key ids and config values through the protocol: a `/keys/` id (what
//! `az keyvault certificate show --query kid` prints) signs with the certificate of the same name
//! and version with every chain source, exactly like the `/certificates/` id; only a key without a
//! certificate takes the key route (leaf and CAs from `ca_certs`). Request counts show the cold
//! and warm costs; the notation end-to-end matrix is tests/e2e/tests/signer_azure_kv.rs.

use akv_test_pki::{BundleOrder, ChainBuilder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::shared_with_fixtures;
use akv_test_vault::{CertificateOptions, CertificateVersion, RouteKind, SecretFormat};
use serde_json::{Value, json};

mod common;

use common::protocol::{Plugin, assert_verifies, code, count, message, sign_paths};

/// A private copy of fixture `fixture` named `name`, stored with `options`.
fn copy(fixture: &str, name: &str, options: CertificateOptions) -> CertificateVersion {
    let s = shared_with_fixtures();
    s.vault
        .add_certificate(name, &s.fixtures.get(fixture).chain, options)
        .unwrap()
}

fn vault_url() -> &'static str {
    shared_with_fixtures().vault.url()
}

/// The three forms azure-kv's e2e suite signs with: the versioned `kid`, versionless, and
/// versionless with a trailing slash.
fn key_id_forms(name: &str, kid: &str) -> [String; 3] {
    let base = format!("{}/keys/{name}", vault_url());
    [kid.to_string(), base.clone(), format!("{base}/")]
}

/// Writes `pem` to a file in the plugin's home and returns the `ca_certs` config.
fn ca_certs(plugin: &Plugin, file: &str, pem: &str) -> Value {
    let path = plugin.home.path().join(file);
    std::fs::write(&path, pem).unwrap();
    json!({"ca_certs": path.display().to_string()})
}

/// The issuers of fixture `fixture` (intermediate and root, in the given order), as azure-kv's
/// `ca_certs` holds them.
fn issuers_pem(fixture: &str, order: BundleOrder) -> String {
    shared_with_fixtures()
        .fixtures
        .get(fixture)
        .chain
        .issuers_pem(order)
}

#[test]
fn key_ids_of_certificates_sign_with_every_chain_source() {
    let plugin = Plugin::new();
    let pem_name = "kid-secret-pem";
    let pem = copy(
        &names::ca_issued(KeySpec::Ec256),
        pem_name,
        CertificateOptions::default(),
    );
    let pfx = copy(
        &names::ca_issued(KeySpec::Ec384),
        "kid-pfx-unordered",
        CertificateOptions {
            secret_format: SecretFormat::Pkcs12,
            secret_order: BundleOrder::Scrambled,
            ..Default::default()
        },
    );
    let pem_unordered = copy(
        &names::ca_issued(KeySpec::Rsa2048),
        "kid-pem-root-first",
        CertificateOptions {
            secret_order: BundleOrder::RootFirst,
            ..Default::default()
        },
    );
    // The chain from the secret, PEM and PKCS#12, in any order.
    for (version, chain_len) in [(&pem, 3), (&pfx, 3), (&pem_unordered, 3)] {
        for id in key_id_forms(&version.name, &version.kid) {
            let r = plugin
                .describe_and_sign(&id, json!({}))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_verifies(&r, chain_len);
        }
    }
    // Cold: the secret once and a signature; never keys/get or certificates/get. The
    // versionless id with and without its trailing slash share one cache entry.
    let path = format!("/{pem_name}");
    assert_eq!(count(&path, RouteKind::GetSecret, true), 2);
    assert_eq!(count(&path, RouteKind::GetKey, true), 0);
    assert_eq!(count(&path, RouteKind::GetCertificate, true), 0);
    assert_eq!(count(&path, RouteKind::Sign, true), 3);

    // self_signed: the vault certificate alone, read with certificates/get.
    let ss = copy(
        &names::self_signed(KeySpec::Ec256),
        "kid-self-signed",
        CertificateOptions::default(),
    );
    for id in key_id_forms(&ss.name, &ss.kid) {
        let r = plugin
            .describe_and_sign(&id, json!({"self_signed": "true"}))
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_verifies(&r, 1);
    }
    assert_eq!(
        count("/kid-self-signed", RouteKind::GetCertificate, true),
        2
    );
    assert_eq!(count("/kid-self-signed", RouteKind::GetSecret, true), 0);
    assert_eq!(count("/kid-self-signed", RouteKind::GetKey, true), 0);

    // A partial chain in the secret (leaf only, or no root) completed by ca_certs of issuers in
    // any order: the vault leaf plus the bundle, as azure-kv builds it.
    let fixture = names::ca_issued(KeySpec::Ec521);
    let leaf_only = copy(
        &fixture,
        "kid-leaf-only",
        CertificateOptions {
            leaf_only: true,
            ..Default::default()
        },
    );
    let no_root = copy(
        &fixture,
        "kid-no-root",
        CertificateOptions {
            without_root: true,
            ..Default::default()
        },
    );
    let config = ca_certs(
        &plugin,
        "issuers.pem",
        &issuers_pem(&fixture, BundleOrder::RootFirst),
    );
    for version in [&leaf_only, &no_root] {
        for id in key_id_forms(&version.name, &version.kid) {
            let r = plugin
                .describe_and_sign(&id, config.clone())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_verifies(&r, 3);
            // Without ca_certs the secret's chain is incomplete: the message says what to add.
            let err = plugin.describe_and_sign(&id, json!({})).unwrap_err();
            assert_eq!(code(&err), "VALIDATION_ERROR", "{err}");
            assert!(message(&err).contains("ca_certs=<bundle.pem>"), "{err}");
        }
    }
    assert_eq!(count("/kid-leaf-only", RouteKind::GetKey, true), 0);
    // A bundle that also holds the leaf works too (the vault's leaf is the same certificate).
    let full = ca_certs(
        &plugin,
        "full.pem",
        &shared_with_fixtures()
            .fixtures
            .get(&fixture)
            .chain
            .pem_bundle(BundleOrder::Scrambled),
    );
    assert_verifies(&plugin.describe_and_sign(&leaf_only.kid, full).unwrap(), 3);
}

#[test]
fn a_versioned_key_id_pins_that_certificate_version() {
    let plugin = Plugin::new();
    let first = copy(
        &names::self_signed(KeySpec::Ec256),
        "kid-versions",
        CertificateOptions::default(),
    );
    let second = copy(
        &names::self_signed(KeySpec::Ec384),
        "kid-versions",
        CertificateOptions::default(),
    );
    let old = plugin.describe_and_sign(&first.kid, json!({})).unwrap();
    assert_eq!(old["signingAlgorithm"], "ECDSA-SHA-256", "the old version");
    let new = plugin.describe_and_sign(&second.kid, json!({})).unwrap();
    assert_eq!(new["signingAlgorithm"], "ECDSA-SHA-384");
    let signs = sign_paths("kid-versions");
    assert_eq!(
        signs,
        [
            format!("/keys/kid-versions/{}/sign", first.version),
            format!("/keys/kid-versions/{}/sign", second.version)
        ]
    );
    // A version that does not exist: which lookup found nothing, and what to check.
    let missing = format!("{}/keys/kid-versions/0123456789abcdef", vault_url());
    let err = plugin.describe_and_sign(&missing, json!({})).unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    let m = message(&err);
    assert!(
        m.contains("no certificate named \"kid-versions\" version 0123456789abcdef"),
        "{m}"
    );
    assert!(
        m.contains("secrets/get answered HTTP 404 SecretNotFound"),
        "{m}"
    );
    assert!(m.contains("check the name and version in --id"), "{m}");
}

#[test]
fn a_versionless_key_id_follows_rotation_within_the_cache_lifetime() {
    let first = copy(
        &names::self_signed(KeySpec::Ec256),
        "kid-rotating",
        CertificateOptions::default(),
    );
    let id = format!("{}/keys/kid-rotating", vault_url());
    let plugin = Plugin::new().set("NOTATION_AKV_CACHE_TTL", "2s");
    let before = plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(before["signingAlgorithm"], "ECDSA-SHA-256");
    let second = copy(
        &names::self_signed(KeySpec::Ec384),
        "kid-rotating",
        CertificateOptions::default(),
    );
    // Within cache_ttl the pinned version is reused (no vault read) …
    let cached = plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(cached["signingAlgorithm"], "ECDSA-SHA-256");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    // … and after it the new certificate version signs.
    let after = plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(after["signingAlgorithm"], "ECDSA-SHA-384");
    assert_verifies(&after, 1);
    let signs = sign_paths("kid-rotating");
    assert_eq!(
        signs,
        [
            format!("/keys/kid-rotating/{}/sign", first.version),
            format!("/keys/kid-rotating/{}/sign", first.version),
            format!("/keys/kid-rotating/{}/sign", second.version)
        ]
    );
}

#[test]
fn a_key_without_a_certificate_takes_its_chain_from_ca_certs() {
    let s = shared_with_fixtures();
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .key_slot(21)
        .common_name("akv-test bare key")
        .build()
        .unwrap();
    let key = s.vault.import_key("bare-key", chain.leaf().key().clone());
    let plugin = Plugin::new();
    let full = ca_certs(
        &plugin,
        "bare.pem",
        &chain.pem_bundle(BundleOrder::Scrambled),
    );
    for id in [key.kid.clone(), format!("{}/keys/bare-key", vault_url())] {
        let r = plugin
            .describe_and_sign(&id, full.clone())
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_verifies(&r, 3);
    }
    // Per id, cold: the certificate lookup's 404 sends it to the key route (keys/get), then sign.
    assert_eq!(count("/bare-key", RouteKind::GetCertificate, true), 2);
    assert_eq!(count("/bare-key", RouteKind::GetKey, true), 2);
    assert_eq!(count("/bare-key", RouteKind::Sign, true), 2);

    // Without ca_certs, or with issuers only: which lookup found nothing and what to pass.
    let no_chain = plugin.describe_and_sign(&key.kid, json!({})).unwrap_err();
    assert_eq!(code(&no_chain), "VALIDATION_ERROR");
    let m = message(&no_chain);
    assert!(m.contains("has no certificate named \"bare-key\""), "{m}");
    assert!(
        m.contains("secrets/get answered HTTP 404 SecretNotFound"),
        "{m}"
    );
    assert!(m.contains("give its certificate chain (the key's certificate and its CAs, any order) with ca_certs=<bundle.pem>"), "{m}");
    let self_signed = plugin
        .describe_and_sign(&key.kid, json!({"self_signed": "true"}))
        .unwrap_err();
    assert!(
        message(&self_signed).contains("certificates/get answered HTTP 404 CertificateNotFound"),
        "{self_signed}"
    );
    let issuers = chain.issuers_pem(BundleOrder::LeafFirst);
    let err = plugin
        .describe_and_sign(&key.kid, ca_certs(&plugin, "issuers.pem", &issuers))
        .unwrap_err();
    let m = message(&err);
    assert!(m.contains("is taken as a key without a certificate"), "{m}");
    assert!(
        m.contains("does not hold the public key of vault key"),
        "{m}"
    );
}

#[test]
fn azure_kv_config_values_behave_as_in_azure_kv_or_are_refused_saying_so() {
    let plugin = Plugin::new();
    let ss = copy(
        &names::self_signed(KeySpec::Ec256),
        "kid-config",
        CertificateOptions::default(),
    );
    // self_signed: `true` in any case; an empty ca_certs is unset (azure-kv: IsNullOrEmpty).
    for config in [
        json!({"self_signed": "TRUE"}),
        json!({"self_signed": "True", "ca_certs": ""}),
        json!({"self_signed": "false"}),
        json!({"self_signed": ""}),
        json!({"ca_certs": ""}),
        json!({"credential_type": "Environment"}),
    ] {
        let r = plugin
            .describe_and_sign(&ss.kid, config.clone())
            .unwrap_or_else(|e| panic!("{config}: {e}"));
        assert_verifies(&r, 1);
    }
    // What azure-kv would silently read as false is refused, saying what azure-kv would do.
    let err = plugin
        .describe_and_sign(&ss.kid, json!({"self_signed": "yes"}))
        .unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    assert!(
        message(&err).contains("azure-kv would have read \"yes\" as false"),
        "{err}"
    );
    // self_signed together with a ca_certs bundle: an error, as in azure-kv.
    let bundle = ca_certs(
        &plugin,
        "ss.pem",
        &issuers_pem(&names::ca_issued(KeySpec::Ec256), BundleOrder::LeafFirst),
    );
    let mut both = bundle.clone();
    both["self_signed"] = json!("true");
    let err = plugin.describe_and_sign(&ss.kid, both).unwrap_err();
    assert!(message(&err).contains("remove one of them"), "{err}");
    // A missing or empty ca_certs file names the file and what it must hold.
    let missing = plugin.home.path().join("missing.pem");
    let err = plugin
        .describe_and_sign(&ss.kid, json!({"ca_certs": missing.display().to_string()}))
        .unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    assert!(message(&err).contains("cannot read ca_certs"), "{err}");
    let err = plugin
        .describe_and_sign(&ss.kid, ca_certs(&plugin, "empty.pem", ""))
        .unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    assert!(
        message(&err).contains("no certificate found in the input")
            && message(&err).contains("it must hold the issuing CAs"),
        "{err}"
    );
    // credential_type: lower-cased as azure-kv does; an unknown one lists the valid ones.
    let err = plugin
        .describe_and_sign(&ss.kid, json!({"credential_type": "clientsecret"}))
        .unwrap_err();
    assert!(
        message(&err).contains("valid values: default, environment"),
        "{err}"
    );
}
