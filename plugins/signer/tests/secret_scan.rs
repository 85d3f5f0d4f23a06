//! No secret on disk: every command of `notation-akv` (the protocol commands, success and
//! failure paths, and the administrator's `doctor` and `policy`), with the log file on and both
//! secret-bearing credentials (client secret, workload identity's federated token), then every
//! file under the runs' HOME and TMPDIR (log, cache entries, anything temporary) searched for the
//! access tokens the vault issued, the client secret, the federated token and the private keys
//! held in the exportable PEM and PKCS#12 secrets the runs read: 0 hits.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::secret_scan::{Needles, scan};
use akv_test_vault::{
    CertificateOptions, CredentialKind, Fault, FaultAction, shared_with_fixtures,
};
use serde_json::json;
use std::process::Command;

mod common;

use common::protocol::{PAYLOAD, Plugin};

const NOTARY_PAYLOAD: &str = r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0","size":16724}}"#;

const EXPORTABLE: [&str; 2] = [names::PEM_EXPORTABLE, names::PKCS12_EXPORTABLE];

#[test]
fn no_secret_reaches_any_file_the_signer_writes() {
    let s = shared_with_fixtures();
    let vault = &s.vault;
    let denied = vault
        .add_certificate(
            "scan-denied",
            &s.fixtures.get(&names::ca_issued(KeySpec::Ec256)).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    vault.inject(Fault::on(
        "GET",
        "/secrets/scan-denied/**",
        FaultAction::status(
            403,
            "Forbidden",
            "The user does not have secrets get permission",
        ),
    ));
    let root = tempfile::tempdir().unwrap();
    let mut logs = 0;
    for kind in [CredentialKind::ClientSecret, CredentialKind::FederatedToken] {
        let home = tempfile::tempdir_in(root.path()).unwrap();
        let tmp = home.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let mut env = vault.credential_env(kind);
        env.extend([
            ("HOME".into(), home.path().display().to_string()),
            ("TMPDIR".into(), tmp.display().to_string()),
            (
                "NOTATION_AKV_LOG_FILE".into(),
                home.path().join("akv.log").display().to_string(),
            ),
        ]);
        let plugin = Plugin::with_env(home, env);
        assert_eq!(plugin.run("get-plugin-metadata", &json!({})).code, 0);
        for fixture in EXPORTABLE
            .iter()
            .map(|n| n.to_string())
            .chain([names::ca_issued(KeySpec::Ec256)])
        {
            let id = &s.fixtures.get(&fixture).version.id;
            for _cold_then_warm in 0..2 {
                plugin.describe_and_sign(id, json!({})).unwrap();
            }
            let envelope = plugin.envelope(
                id,
                "application/jose+json",
                "application/vnd.cncf.notary.payload.v1+json",
                NOTARY_PAYLOAD.as_bytes(),
                0,
                json!({"verification_plugin": "akv-verifier"}),
            );
            assert_eq!(envelope.code, 0, "{}", envelope.stderr);
            // Failure paths: a key spec that is not the key's, and the vault refusing.
            let wrong = plugin.sign(id, "RSA-4096", "SHA-512", PAYLOAD, json!({}));
            assert_eq!(wrong.code, 1);
        }
        assert_eq!(plugin.describe(&denied.id, json!({})).code, 1);
        let missing = format!("{}/certificates/scan-missing", vault.url());
        assert_eq!(plugin.describe(&missing, json!({})).code, 1);
        // Expired tokens: the vault answers 401 and the plugin fetches a new one.
        vault.expire_tokens();
        let id = &s.fixtures.get(names::PEM_EXPORTABLE).version.id;
        plugin.describe_and_sign(id, json!({})).unwrap();
        for args in [
            vec!["doctor", "--id", id.as_str()],
            vec!["doctor", "--id", id.as_str(), "--json"],
            vec!["doctor", "--id", denied.id.as_str()],
            vec!["policy"],
        ] {
            let out = Command::new(&plugin.binary)
                .args(&args)
                .env_clear()
                .envs(plugin.env.iter().map(|(k, v)| (k, v)))
                .current_dir(plugin.home.path())
                .output()
                .unwrap();
            assert!(out.status.code().is_some(), "{args:?} was killed");
        }
        assert!(!plugin.log().is_empty(), "the log file is on");
        logs += 1;
        let _kept_for_the_scan = plugin.home.keep();
    }
    assert_eq!(logs, 2);

    let mut needles = Needles::of_vault(vault);
    assert!(
        vault.issued_tokens().len() >= 4,
        "the runs fetched tokens with both credentials, before and after expiry"
    );
    for fixture in EXPORTABLE {
        let key = s.fixtures.get(fixture).chain.leaf().key();
        needles.binary(&format!("private key of {fixture}"), key.pkcs8_der());
    }
    let report = scan(root.path(), &needles);
    let written: Vec<String> = report
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        written.iter().filter(|p| p.ends_with("akv.log")).count() == 2
            && written.iter().any(|p| p.contains("notation-akv")),
        "the scan saw the logs and the cache: {written:#?}"
    );
    assert!(
        report.hits.is_empty(),
        "secrets found in files the plugin wrote:\n{}",
        report.hits.join("\n")
    );
}
