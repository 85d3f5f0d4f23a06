//! `akv_status`: the signing certificate's version in the project's TLS test vault, reached with
//! the Key Vault crate's real SDK clients and credential chain (client secret from `AZURE_*`).

mod common;

use akv_test_pki::{ChainBuilder, KeySpec, Validity};
use akv_test_vault::secret_scan::{Needles, scan};
use akv_test_vault::{
    CertificateOptions, CredentialKind, Fault, FaultAction, RouteKind, TestVault,
};
use common::*;
use serde_json::json;
use time::{Duration, OffsetDateTime};

fn sandbox(vault: &TestVault) -> Sandbox {
    let mut sandbox = Sandbox::new();
    for (k, v) in vault.credential_env(CredentialKind::ClientSecret) {
        sandbox.set(&k, &v);
    }
    sandbox
}

fn status_request(chain: &akv_test_pki::Chain) -> Request {
    Request::new(chain.der_chain())
        .capabilities(&[REVOCATION])
        .config("akv_status", "true")
}

fn fingerprint(der: &[u8]) -> String {
    notation_akv_x509::Certificate::from_der(der)
        .unwrap()
        .sha256_fingerprint()
}

#[test]
fn enabled_then_disabled_certificate_version() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let version = vault
        .add_certificate("status", &chain, CertificateOptions::default())
        .unwrap();
    let sandbox = sandbox(&vault);
    let request = status_request(&chain).attribute(KEY_ID_ATTRIBUTE, json!(version.kid));

    let run = sandbox.verify(&request.json());
    assert_eq!(run.result(REVOCATION), (true, String::new()));
    let authenticated_gets = vault
        .requests()
        .iter()
        .filter(|r| r.route == RouteKind::GetCertificate && r.bearer)
        .count();
    assert_eq!(authenticated_gets, 1, "{:?}", vault.requests());

    vault
        .set_certificate_enabled("status", &version.version, false)
        .unwrap();
    let (success, reason) = sandbox.verify(&request.json()).result(REVOCATION);
    assert!(!success);
    assert!(
        reason.contains("is disabled in the vault: treated as revoked"),
        "{reason}"
    );
    assert!(reason.contains(&version.version), "{reason}");
}

#[test]
fn a_deleted_or_missing_version_counts_as_revoked() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let missing = format!("{}/keys/gone/0123456789abcdef0123456789abcdef", vault.url());
    let (success, reason) = sandbox(&vault)
        .verify(
            &status_request(&chain)
                .attribute(KEY_ID_ATTRIBUTE, json!(missing))
                .json(),
        )
        .result(REVOCATION);
    assert!(!success);
    assert!(
        reason.contains("is deleted or does not exist: treated as revoked"),
        "{reason}"
    );
}

#[test]
fn an_expired_version_counts_as_revoked() {
    let vault = TestVault::start().unwrap();
    let now = OffsetDateTime::now_utc();
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .validity(Validity::Explicit {
            not_before: now - Duration::days(30),
            not_after: now - Duration::days(1),
        })
        .build()
        .unwrap();
    let version = vault
        .add_certificate("old", &chain, CertificateOptions::default())
        .unwrap();
    let (success, reason) = sandbox(&vault)
        .verify(
            &status_request(&chain)
                .attribute(KEY_ID_ATTRIBUTE, json!(version.kid))
                .json(),
        )
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("expired in the vault"), "{reason}");
}

#[test]
fn a_thumbprint_mapping_works_without_the_attribute_and_must_name_the_leaf() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let other = ChainBuilder::new(KeySpec::Ec256)
        .key_slot(3)
        .build()
        .unwrap();
    let version = vault
        .add_certificate("mapped", &chain, CertificateOptions::default())
        .unwrap();
    let sandbox = sandbox(&vault);
    let leaf = fingerprint(chain.leaf().der());
    let run = sandbox.verify(
        &status_request(&chain)
            .config("akv_certificates", &format!("{leaf}={}", version.id))
            .json(),
    );
    assert_eq!(run.result(REVOCATION), (true, String::new()));

    // A mapping that points at another certificate cannot vouch for this leaf.
    let other_version = vault
        .add_certificate("other", &other, CertificateOptions::default())
        .unwrap();
    let (success, reason) = sandbox
        .verify(
            &status_request(&chain)
                .config("akv_certificates", &format!("{leaf}={}", other_version.id))
                .json(),
        )
        .result(REVOCATION);
    assert!(!success);
    assert!(
        reason.contains("is not the signing certificate"),
        "{reason}"
    );
}

#[test]
fn without_attribute_or_mapping_the_status_is_unknown() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let (success, reason) = sandbox(&vault)
        .verify(&status_request(&chain).json())
        .result(REVOCATION);
    assert!(!success);
    assert!(
        reason.contains("has no io.github.notation-akv.keyId attribute"),
        "{reason}"
    );
    assert_eq!(vault.requests().len(), 0);
}

#[test]
fn a_failing_vault_is_unknown_status_not_an_exit_code() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let version = vault
        .add_certificate("flaky", &chain, CertificateOptions::default())
        .unwrap();
    vault.inject(Fault::on(
        "GET",
        "/certificates/*/*",
        FaultAction::status(500, "InternalError", "boom"),
    ));
    let (success, reason) = sandbox(&vault)
        .verify(
            &status_request(&chain)
                .config("akv_timeout", "5s")
                .attribute(KEY_ID_ATTRIBUTE, json!(version.kid))
                .json(),
        )
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("is unknown"), "{reason}");
}

/// No secret on disk: verify-signature with the AKV status check (client secret and workload
/// identity credentials, an enabled and a disabled version, a vault refusing with 403), with the
/// log file on; every file under the sandbox (log, revocation cache) holds no access token the
/// vault issued, no client secret and no federated token.
#[test]
fn no_secret_reaches_any_file_the_verifier_writes() {
    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let version = vault
        .add_certificate("scan", &chain, CertificateOptions::default())
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    for (i, kind) in [CredentialKind::ClientSecret, CredentialKind::FederatedToken]
        .into_iter()
        .enumerate()
    {
        let mut sandbox = Sandbox::new();
        for (k, v) in vault.credential_env(kind) {
            sandbox.set(&k, &v);
        }
        let log = root.path().join(format!("verifier-{i}.log"));
        sandbox.set("NOTATION_AKV_VERIFIER_LOG_FILE", log.to_str().unwrap());
        let request = status_request(&chain).attribute(KEY_ID_ATTRIBUTE, json!(version.kid));
        assert!(sandbox.verify(&request.json()).result(REVOCATION).0);
        vault
            .set_certificate_enabled("scan", &version.version, false)
            .unwrap();
        assert!(!sandbox.verify(&request.json()).result(REVOCATION).0);
        vault
            .set_certificate_enabled("scan", &version.version, true)
            .unwrap();
        vault.inject(Fault::on(
            "GET",
            "/certificates/scan/**",
            FaultAction::status(403, "Forbidden", "no certificates get permission"),
        ));
        assert!(!sandbox.verify(&request.json()).result(REVOCATION).0);
        vault.clear_faults();
        assert!(
            std::fs::read_to_string(&log).is_ok_and(|l| !l.is_empty()),
            "the log file is on"
        );
        // The sandbox's own files (cache, config) are scanned with the logs.
        let kept = sandbox.dir.keep();
        std::fs::rename(&kept, root.path().join(format!("sandbox-{i}"))).unwrap();
    }
    assert!(
        vault.issued_tokens().len() >= 2,
        "both credentials fetched tokens"
    );
    let report = scan(root.path(), &Needles::of_vault(&vault));
    assert!(report.files.len() >= 2, "{:?}", report.files);
    assert!(
        report.hits.is_empty(),
        "secrets in files the verifier wrote:\n{}",
        report.hits.join("\n")
    );
}
