//! The `notation-akv` binary against the test vault, speaking the plugin protocol directly:
//! every command, chain source, fault and cache behaviour, without notation in the loop (the
//! notation e2e suite is tests/e2e/tests/signer*.rs).

use akv_test_pki::{BundleOrder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{
    CertificateOptions, CredentialKind, Fault, FaultAction, RouteKind, TestVault,
    shared_with_fixtures,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;
mod pfx;

use common::protocol::{PAYLOAD, Plugin, assert_verifies, code, count, message, sign_paths};
use common::{private_copy, set_var};

fn cert_id(name: &str) -> String {
    shared_with_fixtures().fixtures.get(name).version.id.clone()
}

fn versionless_cert_id(name: &str) -> String {
    format!("{}/certificates/{name}", shared_with_fixtures().vault.url())
}

#[test]
fn all_six_key_specs_sign_with_self_signed_and_ca_issued_chains() {
    let plugin = Plugin::new();
    for spec in KeySpec::ALL {
        let ss = plugin
            .describe_and_sign(&cert_id(&names::self_signed(spec)), json!({}))
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert_verifies(&ss, 1);
        let ca = plugin
            .describe_and_sign(&cert_id(&names::ca_issued(spec)), json!({}))
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert_verifies(&ca, 3);
        let d = plugin.describe(&cert_id(&names::ca_issued(spec)), json!({}));
        assert_eq!(d.stdout["keySpec"], spec.as_str());
    }
}

#[test]
fn chain_sources_secret_pem_pkcs12_ca_certs_self_signed_and_key_id() {
    let plugin = Plugin::new();
    let s = shared_with_fixtures();
    // PKCS#12 secret, and exportable ones: the private key is discarded and the log warns.
    for name in [
        names::PKCS12,
        names::PKCS12_EXPORTABLE,
        names::PEM_EXPORTABLE,
    ] {
        let r = plugin
            .describe_and_sign(&cert_id(name), json!({}))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_verifies(&r, 3);
    }
    let log = plugin.log();
    assert!(log.contains("contains its private key"), "{log}");
    assert!(
        !log.contains("PRIVATE KEY"),
        "the key itself never reaches the log"
    );
    let cached: String = std::fs::read_dir(plugin.cache_dir())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(!cached.contains("PRIVATE"), "nothing secret is cached");

    // Leaf-only secret: the error says to use ca_certs; with a scrambled bundle it works.
    let leaf_only = cert_id(names::LEAF_ONLY);
    let err = plugin.describe_and_sign(&leaf_only, json!({})).unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    assert!(message(&err).contains("ca_certs"), "{err}");
    let chain = &s.fixtures.get(names::LEAF_ONLY).chain;
    let bundle = plugin.home.path().join("bundle.pem");
    std::fs::write(&bundle, chain.issuers_pem(BundleOrder::Scrambled)).unwrap();
    let config = json!({"ca_certs": bundle.display().to_string()});
    assert_verifies(&plugin.describe_and_sign(&leaf_only, config).unwrap(), 3);

    // self_signed: the leaf alone, read with certificates/get.
    let ss = cert_id(&names::self_signed(KeySpec::Ec384));
    let r = plugin
        .describe_and_sign(&ss, json!({"self_signed":"true"}))
        .unwrap();
    assert_verifies(&r, 1);
    let err = plugin
        .describe_and_sign(
            &cert_id(&names::ca_issued(KeySpec::Ec384)),
            json!({"self_signed":"true"}),
        )
        .unwrap_err();
    assert!(
        message(&err).contains("self_signed=true, but certificate"),
        "{err}"
    );

    // The /keys/ forms of these ids are covered by tests/key_ids.rs.
}

/// One row of the PKCS#12 interop matrix.
struct PfxVariant {
    label: &'static str,
    /// `openssl pkcs12 -export -passout pass:` options.
    openssl: &'static str,
    /// Re-keyed to a zero-length password, as Windows' NULL-password export writes it.
    zero_length: bool,
    /// Whether p12-keystore reads it alone (otherwise the signer's fallback reader does).
    p12_keystore: bool,
}

const fn variant(label: &'static str, openssl: &'static str, p12_keystore: bool) -> PfxVariant {
    PfxVariant {
        label,
        openssl,
        zero_length: false,
        p12_keystore,
    }
}

const fn zero_length(label: &'static str, openssl: &'static str) -> PfxVariant {
    PfxVariant {
        label,
        openssl,
        zero_length: true,
        p12_keystore: false,
    }
}

/// PKCS#12 secrets as AKV and common tools write them.
const PFX_VARIANTS: &[PfxVariant] = &[
    variant("pbes2-aes256-sha256mac", "", true),
    variant("pbes2-aes256-sha256mac-nokeys", "-nokeys", true),
    variant(
        "pbes2-aes128",
        "-certpbe AES-128-CBC -keypbe AES-128-CBC",
        true,
    ),
    variant("pbes2-sha512mac", "-macalg sha512", true),
    variant("pbes2-nomac", "-nomac", true),
    variant("legacy-rc2-3des-sha1mac", "-legacy", true),
    variant("legacy-nokeys", "-legacy -nokeys", true),
    variant("legacy-nomac", "-legacy -nomac", true),
    variant(
        "3des-sha1mac",
        "-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1",
        true,
    ),
    variant("certs-plain", "-certpbe NONE", true),
    variant("all-plain", "-certpbe NONE -keypbe NONE", true),
    variant("all-plain-nomac", "-certpbe NONE -keypbe NONE -nomac", true),
    // Ciphers p12-keystore lacks: for certificates the fallback decrypts them; a key bag it
    // never decrypts at all.
    variant("certs-rc2-128", "-certpbe PBE-SHA1-RC2-128", false),
    variant("key-rc4-128", "-keypbe PBE-SHA1-RC4-128", false),
    variant("key-2des", "-keypbe PBE-SHA1-2DES", false),
    zero_length("zero-length-legacy-rc2-sha1mac", "-legacy -nokeys"),
    zero_length(
        "zero-length-3des-sha1mac",
        "-certpbe PBE-SHA1-3DES -macalg sha1 -nokeys",
    ),
    zero_length("zero-length-pbes2-sha256mac", "-nokeys"),
    zero_length("zero-length-plain-sha256mac", "-certpbe NONE -nokeys"),
];

#[test]
fn pkcs12_secrets_from_openssl_variants_give_the_leaf_to_root_chain() {
    let plugin = Plugin::new();
    let s = shared_with_fixtures();
    let chain = &s.fixtures.get(&names::ca_issued(KeySpec::Ec256)).chain;
    let expected: Vec<String> = chain
        .der_chain()
        .iter()
        .map(|d| STANDARD.encode(d))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    for v in PFX_VARIANTS {
        let label = v.label;
        let args: Vec<&str> = v.openssl.split_whitespace().collect();
        let mut der = pfx::openssl_export(dir.path(), chain, &args);
        if v.zero_length {
            der = pfx::with_zero_length_password(&der);
        }
        assert_eq!(
            p12_keystore::Pkcs12Archive::from_pkcs12(&der, "").is_ok(),
            v.p12_keystore,
            "{label}: p12-keystore alone"
        );
        assert_eq!(
            pfx::openssl_read_certificates(dir.path(), &der)
                .matches("BEGIN CERTIFICATE")
                .count(),
            3,
            "{label}: OpenSSL reads the file"
        );
        let name = format!("pfx-{label}");
        s.vault
            .add_certificate(&name, chain, CertificateOptions::default())
            .unwrap();
        // A newer secret version that is not AKV-managed: the versionless id reads it.
        s.vault
            .set_secret(&name, &STANDARD.encode(&der), "application/x-pkcs12");
        let r = plugin
            .describe_and_sign(&versionless_cert_id(&name), json!({}))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_verifies(&r, 3);
        assert_eq!(
            r["certificateChain"],
            json!(expected),
            "{label}: leaf → root"
        );
    }

    // A PFX with a real password, one whose certificates use a cipher neither reader has (RC4),
    // and a value that is no PFX: the error names the content type and both fixes.
    let password = ["-nokeys", "-passout", "pass:hunter2"];
    let rc4 = ["-nokeys", "-certpbe", "PBE-SHA1-RC4-128"];
    for (label, value) in [
        (
            "password",
            pfx::openssl_export(dir.path(), chain, &password),
        ),
        ("rc4-certs", pfx::openssl_export(dir.path(), chain, &rc4)),
        ("garbage", b"not a pfx".to_vec()),
    ] {
        let value = STANDARD.encode(value);
        let name = format!("pfx-bad-{label}");
        s.vault
            .add_certificate(&name, chain, CertificateOptions::default())
            .unwrap();
        s.vault.set_secret(&name, &value, "application/x-pkcs12");
        let err = plugin
            .describe_and_sign(&versionless_cert_id(&name), json!({}))
            .unwrap_err();
        assert_eq!(code(&err), "VALIDATION_ERROR", "{label}");
        let m = message(&err);
        for part in [
            "application/x-pkcs12",
            "Re-import the certificate as PEM",
            "ca_certs=",
        ] {
            assert!(m.contains(part), "{label}: {part} in {m}");
        }
        assert!(!m.contains("hunter2"), "{m}");
    }
}

#[test]
fn warm_sign_is_one_vault_request_and_cold_is_two() {
    let id = private_copy(&names::self_signed(KeySpec::Ec256), "count-warm");
    let plugin = Plugin::new();
    plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(
        count("/count-warm", RouteKind::GetSecret, true),
        1,
        "cold: secret once"
    );
    assert_eq!(count("/count-warm", RouteKind::Sign, true), 1);
    assert_eq!(count("/count-warm", RouteKind::GetCertificate, true), 0);
    plugin.describe_and_sign(&id, json!({})).unwrap();
    plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(
        count("/count-warm", RouteKind::GetSecret, true),
        1,
        "warm: no secret"
    );
    assert_eq!(
        count("/count-warm", RouteKind::Sign, true),
        3,
        "warm: one sign each"
    );

    // Without the cache every command asks again.
    let nocache = Plugin::new().set("NOTATION_AKV_CACHE", "false");
    nocache.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(count("/count-warm", RouteKind::GetSecret, true), 3);
    assert!(!nocache.cache_dir().exists());
}

#[test]
fn a_cached_chain_is_refused_once_it_expires_without_asking_the_vault() {
    // A warm run re-checks a cached chain only for what changes with time: its validity.
    let s = shared_with_fixtures();
    let now = time::OffsetDateTime::now_utc();
    let chain = akv_test_pki::ChainBuilder::self_signed(KeySpec::Ec256)
        .common_name("akv-test expires-soon")
        .validity(akv_test_pki::Validity::Explicit {
            not_before: now - time::Duration::hours(1),
            not_after: now + time::Duration::seconds(10),
        })
        .build()
        .unwrap();
    let id = s
        .vault
        .add_certificate("count-expires-soon", &chain, CertificateOptions::default())
        .unwrap()
        .id;
    let plugin = Plugin::new();
    plugin.describe_and_sign(&id, json!({})).unwrap();
    let fetched = count("/count-expires-soon", RouteKind::GetSecret, true);
    assert_eq!(fetched, 1);
    let after = chain.leaf().not_after() + time::Duration::milliseconds(1500);
    std::thread::sleep((after - time::OffsetDateTime::now_utc()).unsigned_abs());
    let out = plugin.describe(&id, json!({}));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let err = out.stderr;
    assert_eq!(code(&err), "VALIDATION_ERROR", "{err}");
    assert!(message(&err).contains("[validity.expired]"), "{err}");
    assert_eq!(
        count("/count-expires-soon", RouteKind::GetSecret, true),
        fetched,
        "decided from the cache"
    );
}

#[test]
fn corrupt_cache_entries_are_rebuilt() {
    let id = private_copy(&names::self_signed(KeySpec::Ec256), "count-corrupt");
    let plugin = Plugin::new();
    plugin.describe_and_sign(&id, json!({})).unwrap();
    for entry in std::fs::read_dir(plugin.cache_dir()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("EC-256", "EC-521")).unwrap();
    }
    plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(
        count("/count-corrupt", RouteKind::GetSecret, true),
        2,
        "rebuilt from the vault"
    );
    assert!(
        plugin.log().contains("ignored: digest mismatch"),
        "{}",
        plugin.log()
    );
}

#[test]
fn versionless_id_follows_rotation() {
    let s = shared_with_fixtures();
    let ec = &s.fixtures.get(&names::self_signed(KeySpec::Ec256)).chain;
    let first = s
        .vault
        .add_certificate("rotating", ec, CertificateOptions::default())
        .unwrap();
    let id = versionless_cert_id("rotating");
    let plugin = Plugin::new().set("NOTATION_AKV_CACHE_TTL", "0");
    let r = plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_verifies(&r, 1);
    let p384 = &s.fixtures.get(&names::self_signed(KeySpec::Ec384)).chain;
    let second = s
        .vault
        .add_certificate("rotating", p384, CertificateOptions::default())
        .unwrap();
    assert_ne!(first.version, second.version);
    let r = plugin.describe_and_sign(&id, json!({})).unwrap();
    assert_eq!(
        r["signingAlgorithm"], "ECDSA-SHA-384",
        "the new version is used"
    );
    assert_verifies(&r, 1);
    let signs = sign_paths("rotating");
    assert_eq!(
        signs,
        vec![
            format!("/keys/rotating/{}/sign", first.version),
            format!("/keys/rotating/{}/sign", second.version)
        ],
        "each signature pins the certificate's key version"
    );
}

#[test]
fn vault_faults_map_to_protocol_codes() {
    let s = shared_with_fixtures();
    let plugin = Plugin::new().set("NOTATION_AKV_TIMEOUT", "3s");
    let cases: Vec<(&str, &str, FaultAction, &str, &str)> = vec![
        (
            "fault-403-sign",
            "POST",
            FaultAction::status(
                403,
                "Forbidden",
                "The user does not have keys sign permission",
            ),
            "ACCESS_DENIED",
            "Key Vault Crypto User",
        ),
        (
            "fault-403-secret",
            "GET",
            FaultAction::status(
                403,
                "Forbidden",
                "The user does not have secrets get permission",
            ),
            "ACCESS_DENIED",
            "Key Vault Secrets User",
        ),
        (
            "fault-404",
            "GET",
            FaultAction::status(
                404,
                "SecretNotFound",
                "A secret with (name/id) was not found",
            ),
            "VALIDATION_ERROR",
            "was not found",
        ),
        (
            "fault-429",
            "POST",
            FaultAction::throttled(1),
            "THROTTLED",
            "throttled",
        ),
        (
            "fault-500",
            "POST",
            FaultAction::status(500, "InternalError", "boom"),
            "ERROR",
            "HTTP 500",
        ),
        (
            "fault-slow",
            "POST",
            FaultAction::Delay(std::time::Duration::from_secs(10)),
            "TIMEOUT",
            "3s deadline",
        ),
        (
            "fault-truncated",
            "GET",
            FaultAction::TruncateBody,
            "ERROR",
            "fault-truncated",
        ),
        (
            "fault-dropped",
            "POST",
            FaultAction::DropConnection,
            "ERROR",
            "connection to Azure Key Vault failed",
        ),
    ];
    for (name, method, action, expected, text) in cases {
        let id = private_copy(&names::self_signed(KeySpec::Ec256), name);
        let pattern = if method == "POST" {
            format!("/keys/{name}/*/sign")
        } else {
            format!("/secrets/{name}/**")
        };
        s.vault.inject(Fault::on(method, &pattern, action));
        let err = plugin.describe_and_sign(&id, json!({})).unwrap_err();
        assert_eq!(code(&err), expected, "{name}: {err}");
        assert!(message(&err).contains(text), "{name}: {err}");
        if matches!(expected, "ACCESS_DENIED" | "VALIDATION_ERROR" | "THROTTLED") {
            assert!(
                err["errorMetadata"]["requestId"].is_string(),
                "{name}: {err}"
            );
            assert!(
                err["errorMetadata"]["httpStatus"].is_string(),
                "{name}: {err}"
            );
        }
    }
    // 429 is retried honouring Retry-After before THROTTLED.
    assert!(count("/fault-429/", RouteKind::Sign, true) >= 2);
}

#[test]
fn bad_certificates_and_keys_are_named() {
    let plugin = Plugin::new();
    let err = plugin
        .describe_and_sign(&cert_id(names::AKV_DEFAULT_POLICY), json!({}))
        .unwrap_err();
    assert_eq!(code(&err), "VALIDATION_ERROR");
    assert!(
        message(&err).contains("[leaf.key-usage.forbidden]"),
        "{err}"
    );
    assert!(
        message(&err).contains("x509_props"),
        "AKV policy hint: {err}"
    );
    let err = plugin
        .describe_and_sign(&cert_id(names::EXPIRED), json!({}))
        .unwrap_err();
    assert!(message(&err).contains("[validity.expired]"), "{err}");
    let err = plugin
        .describe_and_sign(&cert_id(names::WRONG_KEY), json!({}))
        .unwrap_err();
    assert_eq!(code(&err), "ERROR");
    assert!(
        message(&err).contains("does not belong to this key"),
        "{err}"
    );
    let err = plugin
        .describe_and_sign(&cert_id(names::DISABLED_KEY), json!({}))
        .unwrap_err();
    assert_eq!(code(&err), "ACCESS_DENIED", "{err}");
}

#[test]
fn request_mistakes_are_validation_errors() {
    let plugin = Plugin::new();
    let id = cert_id(&names::self_signed(KeySpec::Ec256));
    let r = plugin.sign(&id, "EC-256", "SHA-512", PAYLOAD, json!({}));
    assert_eq!(code(&r.stderr), "VALIDATION_ERROR");
    assert!(message(&r.stderr).contains("does not go with keySpec EC-256"));
    let r = plugin.sign(&id, "EC-384", "SHA-384", PAYLOAD, json!({}));
    assert_eq!(code(&r.stderr), "VALIDATION_ERROR", "{}", r.stderr);
    let r = plugin.describe("https://v.vault.azure.net/blobs/x", json!({}));
    assert!(
        message(&r.stderr).contains("Accepted forms"),
        "{}",
        r.stderr
    );
    let r = plugin.describe(&id, json!({"credential_typo":"x"}));
    assert!(
        message(&r.stderr).contains("valid keys: self_signed, ca_certs"),
        "{}",
        r.stderr
    );
    let r = plugin.describe(&id, json!({"self-signed":"true"}));
    assert!(
        message(&r.stderr).starts_with(
            "unknown plugin config key(s) self-signed (did you mean self_signed?); valid keys:"
        ),
        "{}",
        r.stderr
    );
    // A certificate that does not exist: its secret is what the vault is asked for, but the
    // user named a certificate.
    let vault_host = shared_with_fixtures()
        .vault
        .url()
        .trim_start_matches("https://")
        .to_string();
    let r = plugin.describe(&versionless_cert_id("nope"), json!({}));
    assert_eq!(code(&r.stderr), "VALIDATION_ERROR");
    assert_eq!(r.stderr["errorMetadata"]["httpStatus"], "404");
    let m = message(&r.stderr);
    assert!(
        m.starts_with(&format!(
            "the certificate \"nope\" in vault {vault_host} was not found: its secret, which holds the certificate chain, does not exist"
        )),
        "{m}"
    );
    assert!(m.ends_with("check the name and version in --id"), "{m}");
}

#[test]
fn credentials_from_the_chain_and_its_failure_report() {
    let s = shared_with_fixtures();
    let id = cert_id(&names::self_signed(KeySpec::Ec256));
    for kind in [
        CredentialKind::FederatedToken,
        CredentialKind::ManagedIdentity,
    ] {
        let mut plugin = Plugin::new();
        plugin.env.retain(|(k, _)| !k.starts_with("AZURE_CLIENT"));
        plugin.env.extend(s.vault.credential_env(kind));
        plugin
            .describe_and_sign(&id, json!({}))
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    }
    // A client certificate (PEM with the key, and PKCS#12), without OpenSSL.
    let rsa = &s.fixtures.get(&names::self_signed(KeySpec::Rsa2048)).chain;
    let client = "33333333-0000-4000-8000-00000000a4c5";
    s.vault.register_client(
        client,
        akv_test_vault::ClientAuth::Certificate(rsa.leaf().der().to_vec()),
    );
    let home = tempfile::tempdir().unwrap();
    let pem_file = home.path().join("client.pem");
    std::fs::write(
        &pem_file,
        format!("{}{}", rsa.leaf().pem(), rsa.leaf().key().pkcs8_pem()),
    )
    .unwrap();
    let pfx_file = home.path().join("client.pfx");
    let pfx = akv_test_pki::pkcs12::build(
        &[rsa.leaf().der().to_vec()],
        Some(rsa.leaf().key().pkcs8_der()),
    )
    .unwrap();
    std::fs::write(&pfx_file, pfx).unwrap();
    for file in [&pem_file, &pfx_file] {
        let mut plugin = Plugin::new();
        plugin.env.retain(|(k, _)| !k.starts_with("AZURE_CLIENT"));
        plugin.env.push(("AZURE_CLIENT_ID".into(), client.into()));
        plugin.env.push((
            "AZURE_CLIENT_CERTIFICATE_PATH".into(),
            file.display().to_string(),
        ));
        plugin
            .describe_and_sign(&id, json!({"credential_type":"environment"}))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let owners: Vec<_> = s
        .vault
        .requests()
        .into_iter()
        .filter_map(|r| r.owner)
        .filter(|o| o.kind == CredentialKind::ClientCertificate)
        .collect();
    assert!(
        !owners.is_empty(),
        "tokens came from the certificate credential"
    );

    let mut plugin = Plugin::new().set("AZURE_CLIENT_SECRET", "wrong");
    plugin.env.push(("PATH".into(), "/nonexistent".into()));
    let err = plugin
        .describe_and_sign(&id, json!({"credential_type":"environment"}))
        .unwrap_err();
    assert_eq!(code(&err), "ACCESS_DENIED");
    assert!(message(&err).contains("environment:"), "{err}");
}

#[test]
fn metadata_touches_no_disk_and_no_network() {
    let plugin = Plugin::new();
    let r = plugin.run("get-plugin-metadata", &json!({}));
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout["name"], "akv");
    assert_eq!(r.stdout["capabilities"], json!(["SIGNATURE_GENERATOR.RAW"]));
    assert!(!Path::new(&plugin.home.path().join("akv.log")).exists());
    assert!(!plugin.cache_dir().exists());
}

/// The vault reached at its loopback address instead of its Key Vault name: the challenge it
/// answers (for `https://vault.azure.net`) does not vouch for host 127.0.0.1, so the SDK's check
/// withholds the token, and the message says what happened, not the SDK's advice to turn the
/// check off. Nothing turns the check off: the variable that once did is ignored.
#[test]
fn a_host_outside_the_challenge_domain_gets_no_token() {
    let id = private_copy(&names::self_signed(KeySpec::Ec256), "strict-challenge");
    let vault = &shared_with_fixtures().vault;
    let loopback = id.replacen(vault.url(), &format!("https://{}", vault.socket_addr()), 1);
    assert!(loopback.starts_with("https://127.0.0.1:"), "{loopback}");
    let mut plugin = Plugin::new();
    set_var(
        &mut plugin.env,
        "NOTATION_AKV_INSECURE_SKIP_CHALLENGE_RESOURCE_CHECK",
        "1",
    );
    let err = plugin.describe_and_sign(&loopback, json!({})).unwrap_err();
    assert_eq!(code(&err), "ACCESS_DENIED");
    let m = message(&err);
    assert!(
        m.contains("answered its authentication challenge for resource https://vault.azure.net"),
        "{err}"
    );
    assert!(m.contains("no token was sent to it"), "{err}");
    assert!(!m.contains("verify_challenge_resource"), "{err}");
    assert_eq!(
        count("/strict-challenge", RouteKind::GetSecret, true),
        0,
        "no token was sent to a host the challenge does not vouch for"
    );
    assert!(!plugin.log().contains("INSECURE"));
    // Under its name, the same vault and certificate sign.
    Plugin::new().describe_and_sign(&id, json!({})).unwrap();
}

/// A vault whose TLS certificate has a P-521 key: ring, the plugins' one TLS library, has no
/// P-521, so no handshake signature is possible, and the message names the keys TLS accepts
/// rather than blaming trust.
#[test]
fn a_vault_tls_key_on_p521_is_refused_naming_the_keys_tls_accepts() {
    let vault = TestVault::start_with(akv_test_vault::VaultConfig {
        tls_key: KeySpec::Ec521,
        ..Default::default()
    })
    .unwrap();
    let key = vault.create_key("tls-p521", KeySpec::Ec256).unwrap();
    let mut plugin = Plugin::new();
    for (k, v) in vault.credential_env(CredentialKind::ClientSecret) {
        set_var(&mut plugin.env, &k, &v);
    }
    let err = plugin.describe_and_sign(&key.kid, json!({})).unwrap_err();
    assert_eq!(code(&err), "ERROR", "{err}");
    let m = message(&err);
    assert!(m.contains("not P-521"), "{err}");
    assert!(!m.contains("not trusted"), "{err}");
}

#[test]
fn user_assigned_managed_identity_is_chosen_by_client_id() {
    let identity = "44444444-0000-4000-8000-00000000a4c5";
    let vault = TestVault::start_with(akv_test_vault::VaultConfig {
        managed_identity_client_ids: vec![identity.to_string()],
        ..Default::default()
    })
    .unwrap();
    let fixtures = vault.load_fixtures().unwrap();
    let id = fixtures
        .get(&names::self_signed(KeySpec::Ec256))
        .version
        .id
        .clone();
    let mut plugin = Plugin::new();
    plugin.env.retain(|(k, _)| !k.starts_with("AZURE_"));
    plugin.env.extend(
        vault
            .credential_env(CredentialKind::ManagedIdentity)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("AZURE_")),
    );
    plugin
        .describe_and_sign(
            &id,
            json!({"credential_type":"managedid","client_id":identity}),
        )
        .unwrap();
    let owners: Vec<String> = vault
        .requests()
        .into_iter()
        .filter(|r| r.route == RouteKind::Sign && r.bearer)
        .filter_map(|r| r.owner.map(|o| o.client_id))
        .collect();
    assert_eq!(owners, vec![identity.to_string()]);
    let err = plugin
        .describe_and_sign(&id, json!({"credential_type":"managedid","client_id":"55555555-0000-4000-8000-00000000a4c5"}))
        .unwrap_err();
    assert_eq!(code(&err), "ACCESS_DENIED");
    assert!(message(&err).contains("managedid:"), "{err}");
}

const NOTARY_PAYLOAD: &[u8] = br#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270","size":7,"annotations":{"k":"v"}}}"#;
const NOTARY_PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

fn envelope_mode() -> Value {
    json!({"verification_plugin":"akv-verifier","verification_plugin_min_version":"0.1.0"})
}

#[test]
fn envelope_mode_builds_jws_and_cose_naming_the_verifier_and_the_key() {
    use notation_akv_envelope::{EnvelopeType, parse};
    let plugin = Plugin::new();
    for spec in [KeySpec::Ec384, KeySpec::Rsa2048] {
        let fixture = shared_with_fixtures().fixtures.get(&names::ca_issued(spec));
        for envelope_type in ["application/jose+json", "application/cose"] {
            let before = time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap();
            let r = plugin.envelope(
                &fixture.version.id,
                envelope_type,
                NOTARY_PAYLOAD_TYPE,
                NOTARY_PAYLOAD,
                3600,
                envelope_mode(),
            );
            assert_eq!(r.code, 0, "{spec:?} {envelope_type}: {}", r.stderr);
            assert_eq!(r.stdout["signatureEnvelopeType"], envelope_type);
            let bytes = STANDARD
                .decode(r.stdout["signatureEnvelope"].as_str().unwrap())
                .unwrap();
            let kind = EnvelopeType::from_media_type(envelope_type).unwrap();
            let envelope = parse(kind, &bytes).unwrap();
            envelope
                .verify()
                .expect("the envelope verifies with its leaf");
            assert_eq!(envelope.payload, NOTARY_PAYLOAD);
            assert_eq!(envelope.content_type, NOTARY_PAYLOAD_TYPE);
            assert_eq!(envelope.algorithm, spec.signing_algorithm());
            assert_eq!(envelope.certificate_chain, fixture.chain.der_chain());
            let attribute = |key: &str| {
                let a = envelope
                    .attribute(key)
                    .unwrap_or_else(|| panic!("{key} missing"));
                assert!(a.critical, "{key} is critical");
                a.value.as_str().unwrap().to_string()
            };
            assert_eq!(
                attribute("io.cncf.notary.verificationPlugin"),
                "akv-verifier"
            );
            assert_eq!(
                attribute("io.cncf.notary.verificationPluginMinVersion"),
                "0.1.0"
            );
            assert_eq!(
                attribute("io.github.notation-akv.keyId"),
                fixture.version.kid,
                "the versioned key URL that signed"
            );
            assert!(envelope.signing_time >= before);
            assert!(envelope.signing_time <= time::OffsetDateTime::now_utc());
            assert_eq!(
                envelope.expiry,
                Some(envelope.signing_time + time::Duration::hours(1))
            );
            assert!(
                envelope
                    .critical
                    .iter()
                    .any(|c| c == "io.cncf.notary.expiry")
            );
        }
    }
    // Without --expiry there is no expiry header; the metadata-only config key is all it takes.
    let r = plugin.envelope(
        &cert_id(&names::self_signed(KeySpec::Ec256)),
        "application/cose",
        NOTARY_PAYLOAD_TYPE,
        NOTARY_PAYLOAD,
        0,
        json!({"verification_plugin":"akv-verifier","self_signed":"true"}),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let envelope = notation_akv_envelope::parse(
        notation_akv_envelope::EnvelopeType::Cose,
        &STANDARD
            .decode(r.stdout["signatureEnvelope"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(envelope.expiry, None);
    assert!(
        envelope
            .attribute("io.cncf.notary.verificationPluginMinVersion")
            .is_none()
    );
    assert!(
        plugin
            .log()
            .contains("envelope naming verification plugin akv-verifier")
    );
}

#[test]
fn envelope_requests_notation_would_not_send_are_validation_errors() {
    let plugin = Plugin::new();
    let id = private_copy(&names::self_signed(KeySpec::Ec256), "envelope-refused");
    let cases: Vec<(&str, &str, &[u8], Value, &str)> = vec![
        (
            "application/jose+json",
            "application/vnd.oci.image.manifest.v1+json",
            NOTARY_PAYLOAD,
            envelope_mode(),
            "payloadType \"application/vnd.oci.image.manifest.v1+json\" is not supported",
        ),
        (
            "application/pkcs7",
            NOTARY_PAYLOAD_TYPE,
            NOTARY_PAYLOAD,
            envelope_mode(),
            "use application/jose+json or application/cose",
        ),
        (
            "application/jose+json",
            NOTARY_PAYLOAD_TYPE,
            br#"{"targetArtifact":{"mediaType":"m/t","digest":"sha256:00","size":1},"subject":{}}"#,
            envelope_mode(),
            "only \"targetArtifact\" is allowed",
        ),
        (
            // A blob's descriptor (notation-go's blob signing): envelope mode signs manifests only.
            "application/cose",
            NOTARY_PAYLOAD_TYPE,
            br#"{"targetArtifact":{"mediaType":"application/octet-stream","digest":"sha256:00","size":1}}"#,
            envelope_mode(),
            "this is a blob. Sign blobs in RAW mode: remove verification_plugin",
        ),
        (
            "application/jose+json",
            NOTARY_PAYLOAD_TYPE,
            NOTARY_PAYLOAD,
            json!({}),
            "needs the plugin config verification_plugin",
        ),
        (
            "application/jose+json",
            NOTARY_PAYLOAD_TYPE,
            NOTARY_PAYLOAD,
            json!({"verification_plugin":"akv-verifier","verification_plugin_min_version":"latest"}),
            "is not SemVer",
        ),
    ];
    for (envelope_type, payload_type, payload, config, expected) in cases {
        let r = plugin.envelope(&id, envelope_type, payload_type, payload, 0, config);
        assert_eq!(r.code, 1);
        assert_eq!(code(&r.stderr), "VALIDATION_ERROR", "{}", r.stderr);
        assert!(message(&r.stderr).contains(expected), "{}", r.stderr);
    }
    assert_eq!(
        count("/envelope-refused/", RouteKind::Sign, true),
        0,
        "nothing was signed"
    );
}

#[test]
fn verification_plugin_switches_metadata_to_envelope_only() {
    let plugin = Plugin::new();
    let r = plugin.run(
        "get-plugin-metadata",
        &json!({"pluginConfig":{"verification_plugin":"akv-verifier"}}),
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout["capabilities"],
        json!(["SIGNATURE_GENERATOR.ENVELOPE"]),
        "RAW must not be listed: notation prefers it"
    );
    let by_env = Plugin::new().set("NOTATION_AKV_VERIFICATION_PLUGIN", "akv-verifier");
    let r = by_env.run("get-plugin-metadata", &json!({}));
    assert_eq!(
        r.stdout["capabilities"],
        json!(["SIGNATURE_GENERATOR.ENVELOPE"])
    );
    let r = plugin.run(
        "get-plugin-metadata",
        &json!({"pluginConfig":{"self_signed":"true"}}),
    );
    assert_eq!(r.stdout["capabilities"], json!(["SIGNATURE_GENERATOR.RAW"]));
    assert!(!plugin.home.path().join("akv.log").exists());
    assert!(!plugin.cache_dir().exists());
}

/// A test TSA on 127.0.0.1, served by its own runtime while the plugin runs, and its root in a
/// PEM file.
struct TestTsa {
    tsa: akv_test_responders::tsa::Tsa,
    root_file: PathBuf,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

impl TestTsa {
    fn start() -> TestTsa {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tsa = runtime
            .block_on(akv_test_responders::tsa::Tsa::start("Signer Test TSA"))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root_file = dir.path().join("tsa-root.pem");
        std::fs::write(&root_file, tsa.root_pem()).unwrap();
        TestTsa {
            tsa,
            root_file,
            _dir: dir,
            _runtime: runtime,
        }
    }

    fn config(&self) -> Value {
        json!({"verification_plugin":"akv-verifier",
               "timestamp_url":self.tsa.url(),
               "timestamp_root_cert":self.root_file.display().to_string()})
    }
}

/// `openssl ts -verify`: the token's imprint is over `signature`, its signature and its chain to
/// `root_file` verify.
fn openssl_verifies_token(token: &[u8], signature: &[u8], root_file: &Path) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token.der"), token).unwrap();
    std::fs::write(dir.path().join("signature.bin"), signature).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-token_in", "-in"])
        .arg(dir.path().join("token.der"))
        .arg("-data")
        .arg(dir.path().join("signature.bin"))
        .arg("-CAfile")
        .arg(root_file)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl ts -verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn envelope_mode_timestamps_the_signature_value_with_the_configured_tsa() {
    use notation_akv_envelope::{EnvelopeType, parse};
    let tsa = TestTsa::start();
    let plugin = Plugin::new();
    for spec in [KeySpec::Ec384, KeySpec::Rsa3072] {
        let fixture = shared_with_fixtures().fixtures.get(&names::ca_issued(spec));
        for envelope_type in ["application/jose+json", "application/cose"] {
            let r = plugin.envelope(
                &fixture.version.id,
                envelope_type,
                NOTARY_PAYLOAD_TYPE,
                NOTARY_PAYLOAD,
                0,
                tsa.config(),
            );
            assert_eq!(r.code, 0, "{spec:?} {envelope_type}: {}", r.stderr);
            let bytes = STANDARD
                .decode(r.stdout["signatureEnvelope"].as_str().unwrap())
                .unwrap();
            let envelope = parse(
                EnvelopeType::from_media_type(envelope_type).unwrap(),
                &bytes,
            )
            .unwrap();
            envelope.verify().unwrap();
            let token = envelope
                .timestamp
                .as_deref()
                .unwrap_or_else(|| panic!("{spec:?} {envelope_type}: no timestamp"));
            // Imprint over the raw signature value with the signature algorithm's hash.
            openssl_verifies_token(token, &envelope.signature, &tsa.root_file);
            let imprint_hash = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-token_in", "-text", "-in", "/dev/stdin"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(token)?;
                    child.wait_with_output()
                })
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap();
            let expected = match spec {
                KeySpec::Ec384 | KeySpec::Rsa3072 => "sha384",
                _ => unreachable!(),
            };
            assert!(
                imprint_hash.contains(&format!("Hash Algorithm: {expected}")),
                "{imprint_hash}"
            );
        }
    }
    assert_eq!(tsa.tsa.server().posts(), 4);
    assert!(plugin.log().contains("timestamped by http://127.0.0.1:"));
}

#[test]
fn timestamp_problems_stop_signing_with_clear_codes() {
    use akv_test_responders::tsa::Behaviour;
    let tsa = TestTsa::start();
    let plugin = Plugin::new();
    let id = cert_id(&names::ca_issued(KeySpec::Ec256));
    let envelope = |config: Value| {
        plugin.envelope(
            &id,
            "application/jose+json",
            NOTARY_PAYLOAD_TYPE,
            NOTARY_PAYLOAD,
            0,
            config,
        )
    };
    let with = |key: &str, value: &str| {
        let mut config = tsa.config();
        config[key] = json!(value);
        config
    };

    tsa.tsa.set_behaviour(Behaviour {
        wrong_nonce: true,
        ..Behaviour::default()
    });
    let r = envelope(tsa.config());
    assert_eq!(code(&r.stderr), "ERROR", "{}", r.stderr);
    assert!(
        message(&r.stderr).contains("nonce is not the request's nonce"),
        "{}",
        r.stderr
    );

    tsa.tsa.set_behaviour(Behaviour {
        wrong_imprint: true,
        ..Behaviour::default()
    });
    let r = envelope(tsa.config());
    assert_eq!(code(&r.stderr), "ERROR", "{}", r.stderr);
    assert!(
        message(&r.stderr).contains("message imprint"),
        "{}",
        r.stderr
    );
    tsa.tsa.set_behaviour(Behaviour::default());

    // Another TSA's root: the token is refused, nothing is embedded.
    let other = TestTsa::start();
    let r = envelope(with(
        "timestamp_root_cert",
        &other.root_file.display().to_string(),
    ));
    assert_eq!(code(&r.stderr), "ERROR", "{}", r.stderr);
    assert!(
        message(&r.stderr).contains("does not chain to timestamp_root_cert"),
        "{}",
        r.stderr
    );

    let down = akv_test_responders::http::unreachable_url("/tsr").unwrap();
    let r = envelope(with("timestamp_url", &down));
    assert_eq!(code(&r.stderr), "ERROR", "{}", r.stderr);
    assert!(message(&r.stderr).contains(&down), "{}", r.stderr);

    // A TSA slower than what is left of the command's deadline.
    tsa.tsa
        .server()
        .set_faults(akv_test_responders::http::Faults {
            delay: Some(Duration::from_secs(20)),
            ..Default::default()
        });
    let started = std::time::Instant::now();
    let r = envelope(with("timeout", "3s"));
    assert_eq!(code(&r.stderr), "TIMEOUT", "{}", r.stderr);
    assert!(
        message(&r.stderr).contains("did not answer within"),
        "{}",
        r.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    tsa.tsa.server().set_faults(Default::default());

    // Configuration mistakes are VALIDATION_ERRORs, found before the vault signs.
    let private = private_copy(&names::self_signed(KeySpec::Ec256), "timestamp-config");
    for (config, expected) in [
        (
            with("timestamp_root_cert", "/nonexistent/tsa-root.pem"),
            "timestamp_root_cert /nonexistent/tsa-root.pem: cannot read it",
        ),
        (
            with("timestamp_url", "ftp://tsa"),
            "must be an http or https URL",
        ),
        (
            json!({"verification_plugin":"akv-verifier","timestamp_url":tsa.tsa.url()}),
            "add timestamp_root_cert=",
        ),
    ] {
        let r = plugin.envelope(
            &private,
            "application/cose",
            NOTARY_PAYLOAD_TYPE,
            NOTARY_PAYLOAD,
            0,
            config,
        );
        assert_eq!(code(&r.stderr), "VALIDATION_ERROR", "{}", r.stderr);
        assert!(message(&r.stderr).contains(expected), "{}", r.stderr);
    }
    assert_eq!(count("/timestamp-config/", RouteKind::Sign, true), 0);
    // RAW mode: notation's own --timestamp-url is the way.
    let r = plugin.describe(
        &id,
        json!({"timestamp_url":tsa.tsa.url(),"timestamp_root_cert":"/r.pem"}),
    );
    assert_eq!(code(&r.stderr), "VALIDATION_ERROR", "{}", r.stderr);
    assert!(
        message(&r.stderr).contains("--timestamp-url"),
        "{}",
        r.stderr
    );
}
