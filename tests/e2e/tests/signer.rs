//! The signer (`akv`) through the real notation 1.3.2 CLI against the test vault and a local
//! registry: every key spec in JWS and COSE, each chain source, `key add` + `sign --key`,
//! a versionless id across rotation, vault faults as notation prints them, and the request
//! counters behind the one-request warm sign.
//!
//! One vault serves the whole file (its fixtures take the RSA-4096 key generation once); each
//! test has its own notation environment (config, cache, plugin) and registry.

use akv_test_pki::{BundleOrder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{CertificateOptions, Fault, FaultAction, RouteKind, shared_with_fixtures};

mod signer_support;

use signer_support::World;

fn cert_id(name: &str) -> String {
    shared_with_fixtures().fixtures.get(name).version.id.clone()
}

#[test]
fn six_key_specs_sign_jws_and_cose_and_verify() {
    let w = World::new();
    for spec in KeySpec::ALL {
        let name = names::ca_issued(spec);
        w.trust(&name);
        for format in ["jws", "cose"] {
            let artifact = w.push(&format!("{}-{format}", name));
            w.sign(&artifact, &cert_id(&name), format, &[]);
            w.verify(&artifact);
        }
    }
}

#[test]
fn each_chain_source_signs_verifiably() {
    let w = World::new();
    let s = shared_with_fixtures();
    // PKCS#12 secret (with and without the private key in it).
    for name in [names::PKCS12, names::PKCS12_EXPORTABLE] {
        w.trust(name);
        let a = w.push(name);
        w.sign(&a, &cert_id(name), "jws", &[]);
        w.verify(&a);
    }
    assert!(w.log().contains("contains its private key"), "{}", w.log());
    // Leaf-only secret plus a ca_certs bundle in root-first order.
    let chain = &s.fixtures.get(names::LEAF_ONLY).chain;
    w.trust(names::LEAF_ONLY);
    let bundle = w
        .env
        .write_file("issuers.pem", {
            let root = chain.root().unwrap().pem();
            let intermediate = chain.intermediate().unwrap().pem();
            format!("{root}{intermediate}")
        })
        .unwrap();
    let a = w.push("leaf-only");
    w.sign(
        &a,
        &cert_id(names::LEAF_ONLY),
        "cose",
        &[&format!("ca_certs={}", bundle.display())],
    );
    w.verify(&a);
    // self_signed: the leaf alone via certificates/get.
    let ss = names::self_signed(KeySpec::Rsa3072);
    w.trust(&ss);
    let a = w.push("self-signed");
    w.sign(&a, &cert_id(&ss), "jws", &["self_signed=true"]);
    w.verify(&a);
    // A /keys/ id (the certificate's kid) with a ca_certs bundle that also holds the leaf.
    let ca = s.fixtures.get(&names::ca_issued(KeySpec::Ec384));
    w.trust(&names::ca_issued(KeySpec::Ec384));
    let full = w
        .env
        .write_file("full.pem", ca.chain.pem_bundle(BundleOrder::Scrambled))
        .unwrap();
    let a = w.push("key-id");
    w.sign(
        &a,
        &ca.version.kid,
        "jws",
        &[&format!("ca_certs={}", full.display())],
    );
    w.verify(&a);
}

#[test]
fn key_add_then_sign_with_key() {
    let w = World::new();
    let name = names::ca_issued(KeySpec::Rsa2048);
    w.trust(&name);
    w.env
        .notation_ok(&[
            "key",
            "add",
            "vaultkey",
            "--plugin",
            "akv",
            "--id",
            &cert_id(&name),
            "--plugin-config",
            "timeout=20s",
            "--default",
        ])
        .unwrap();
    let a = w.push("by-key-name");
    w.env
        .notation_ok(&["sign", "--key", "vaultkey", &a.by_digest()])
        .unwrap();
    w.verify(&a);
    let b = w.push("by-default-key");
    w.env.notation_ok(&["sign", &b.by_digest()]).unwrap();
    w.verify(&b);
}

#[test]
fn versionless_id_follows_rotation() {
    let w = World::new();
    let s = shared_with_fixtures();
    let first = names::self_signed(KeySpec::Ec256);
    let second = names::self_signed(KeySpec::Ec521);
    w.trust(&first);
    w.trust(&second);
    s.vault
        .add_certificate(
            "e2e-rotating",
            &s.fixtures.get(&first).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    let id = format!("{}/certificates/e2e-rotating", s.vault.url());
    let a = w.push("before-rotation");
    w.sign(&a, &id, "jws", &["cache_ttl=0"]);
    w.verify(&a);
    let rotated = s
        .vault
        .add_certificate(
            "e2e-rotating",
            &s.fixtures.get(&second).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    let b = w.push("after-rotation");
    w.sign(&b, &id, "jws", &["cache_ttl=0"]);
    w.verify(&b);
    let last_sign = s
        .vault
        .requests()
        .into_iter()
        .rfind(|r| r.route == RouteKind::Sign && r.bearer && r.path.contains("/e2e-rotating/"))
        .unwrap();
    assert_eq!(
        last_sign.path,
        format!("/keys/e2e-rotating/{}/sign", rotated.version)
    );
}

#[test]
fn warm_notation_sign_makes_one_vault_request() {
    let w = World::new();
    let s = shared_with_fixtures();
    let fixture = names::ca_issued(KeySpec::Ec256);
    w.trust(&fixture);
    s.vault
        .add_certificate(
            "e2e-counted",
            &s.fixtures.get(&fixture).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    let id = format!("{}/certificates/e2e-counted", s.vault.url());
    let count = |route: RouteKind| {
        s.vault
            .requests()
            .iter()
            .filter(|r| r.route == route && r.bearer && r.path.contains("/e2e-counted"))
            .count()
    };
    let a = w.push("cold");
    w.sign(&a, &id, "jws", &[]);
    assert_eq!(
        (count(RouteKind::GetSecret), count(RouteKind::Sign)),
        (1, 1),
        "cold: 2 requests"
    );
    for tag in ["warm-1", "warm-2"] {
        let b = w.push(tag);
        w.sign(&b, &id, "cose", &[]);
        w.verify(&b);
    }
    assert_eq!(count(RouteKind::GetSecret), 1, "warm: no chain request");
    assert_eq!(count(RouteKind::GetCertificate), 0);
    assert_eq!(
        count(RouteKind::Sign),
        3,
        "warm: exactly one sign request each"
    );
    let challenges = s
        .vault
        .requests()
        .iter()
        .filter(|r| !r.bearer && r.path.contains("/e2e-counted"))
        .count();
    assert_eq!(
        challenges, 1,
        "only the first process asks for the auth challenge"
    );
}

#[test]
fn vault_faults_reach_the_user_with_our_message() {
    let mut w = World::new();
    w.env.set_env("NOTATION_AKV_TIMEOUT", "3s");
    let s = shared_with_fixtures();
    let base = names::self_signed(KeySpec::Ec256);
    let cases: Vec<(&str, &str, &str, FaultAction, &str)> = vec![
        (
            "e2e-401",
            "POST",
            "sign",
            FaultAction::status(401, "Unauthorized", "token rejected"),
            "rejected the credential",
        ),
        (
            "e2e-403-sign",
            "POST",
            "sign",
            FaultAction::status(403, "Forbidden", "no keys sign permission"),
            "Key Vault Crypto User",
        ),
        (
            "e2e-403-secret",
            "GET",
            "secret",
            FaultAction::status(403, "Forbidden", "no secrets get permission"),
            "Key Vault Secrets User",
        ),
        (
            "e2e-404",
            "GET",
            "secret",
            FaultAction::status(404, "SecretNotFound", "not found"),
            "was not found",
        ),
        (
            "e2e-429",
            "POST",
            "sign",
            FaultAction::throttled(1),
            "throttled",
        ),
        (
            "e2e-500",
            "POST",
            "sign",
            FaultAction::status(500, "InternalError", "boom"),
            "HTTP 500",
        ),
        (
            "e2e-slow",
            "POST",
            "sign",
            FaultAction::Delay(std::time::Duration::from_secs(8)),
            "within the 3s deadline",
        ),
        (
            "e2e-truncated",
            "GET",
            "secret",
            FaultAction::TruncateBody,
            "connection to Azure Key Vault failed",
        ),
        (
            "e2e-dropped",
            "POST",
            "sign",
            FaultAction::DropConnection,
            "connection to Azure Key Vault failed",
        ),
    ];
    for (name, method, object, action, expected) in cases {
        let id = s
            .vault
            .add_certificate(
                name,
                &s.fixtures.get(&base).chain,
                CertificateOptions::default(),
            )
            .unwrap()
            .id;
        let pattern = match object {
            "sign" => format!("/keys/{name}/*/sign"),
            _ => format!("/secrets/{name}/**"),
        };
        s.vault.inject(Fault::on(method, &pattern, action));
        let a = w.push(name);
        let stderr = w.sign_fails(&a, &id, &[]);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    // A certificate that does not exist: named as the certificate, not as its secret.
    let a = w.push("e2e-nope");
    let nope = format!("{}/certificates/nope", s.vault.url());
    let stderr = w.sign_fails(&a, &nope, &[]);
    assert!(
        stderr.contains("the certificate \"nope\" in vault")
            && stderr.contains("was not found: its secret, which holds the certificate chain")
            && stderr.contains("check the name and version in --id"),
        "{stderr}"
    );
    // A mistyped config key gets the closest valid one.
    let stderr = w.sign_fails(&a, &nope, &["selfsigned=true"]);
    assert!(
        stderr.contains("selfsigned (did you mean self_signed?)"),
        "{stderr}"
    );
    // 403 on the certificate (ca_certs/self_signed read certificates/get).
    let id = s
        .vault
        .add_certificate(
            "e2e-403-cert",
            &s.fixtures.get(&base).chain,
            CertificateOptions::default(),
        )
        .unwrap()
        .id;
    s.vault.inject(Fault::on(
        "GET",
        "/certificates/e2e-403-cert/**",
        FaultAction::status(403, "Forbidden", "no certificates get permission"),
    ));
    let a = w.push("e2e-403-cert");
    let stderr = w.sign_fails(&a, &id, &["self_signed=true"]);
    assert!(stderr.contains("Key Vault Certificate User"), "{stderr}");
    // Bad material in the vault.
    for (name, expected) in [
        (names::DISABLED_KEY, "disabled"),
        (names::WRONG_KEY, "does not belong to this key"),
        (names::EXPIRED, "[validity.expired]"),
        (names::AKV_DEFAULT_POLICY, "[leaf.key-usage.forbidden]"),
    ] {
        let a = w.push(name);
        let stderr = w.sign_fails(&a, &cert_id(name), &[]);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn sovereign_and_managed_hsm_ids_are_parsed_and_bad_ids_list_the_forms() {
    let w = World::new();
    let a = w.push("ids");
    // An HSM certificate id is refused before any network call.
    let stderr = w.sign_fails(&a, "https://h.managedhsm.azure.net/certificates/c", &[]);
    assert!(
        stderr.contains("Managed HSM has no certificates"),
        "{stderr}"
    );
    let stderr = w.sign_fails(&a, "https://v.vault.azure.cn/secrets/c", &[]);
    assert!(stderr.contains("Accepted forms"), "{stderr}");
    let stderr = w.sign_fails(
        &a,
        &cert_id(&names::self_signed(KeySpec::Ec256)),
        &["selfsigned=true"],
    );
    assert!(
        stderr.contains("valid keys: self_signed, ca_certs"),
        "{stderr}"
    );
}
