//! The administrator's commands of the built `notation-akv` binary: `doctor` against the test
//! vault (every failure it must name, with the step and the fix) and `policy` (generated
//! policies and the linter, as snapshots). Protocol mode is checked to be untouched.

use akv_test_pki::{BundleOrder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{Fault, FaultAction, run_plugin, shared_with_fixtures};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

mod common;

use common::private_copy;

use common::admin::{Admin, BINARY, Run};

impl Admin {
    fn doctor(&self, id: &str) -> Run {
        self.run(&["doctor", "--id", id])
    }

    fn doctor_json(&self, id: &str) -> (i32, Value) {
        let run = self.run(&["doctor", "--id", id, "--json"]);
        let report: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("--json is not JSON ({e}): {}", run.stdout));
        (run.code, report)
    }
}

fn cert_id(name: &str) -> String {
    shared_with_fixtures().fixtures.get(name).version.id.clone()
}

/// The step's status, details and fixes from a JSON report.
fn step(report: &Value, number: usize) -> (String, String) {
    let s = &report["steps"][number - 1];
    assert_eq!(s["number"], number);
    (s["status"].as_str().unwrap().to_string(), s.to_string())
}

fn failed_steps(report: &Value) -> Vec<u64> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "fail")
        .map(|s| s["number"].as_u64().unwrap())
        .collect()
}

#[test]
fn doctor_passes_on_a_compliant_certificate() {
    let admin = Admin::new();
    let id = cert_id(&names::ca_issued(KeySpec::Ec256));
    let run = admin.doctor(&id);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for expected in [
        "✓ 1. key id",
        "✓ 2. settings",
        "✓ 3. credentials",
        "✓ environment: token acquired",
        "✓ 4. vault access and permissions",
        "✓ secrets/get (Key Vault Secrets User)",
        "✓ keys/sign (Key Vault Crypto User)",
        "✓ 5. certificate chain",
        "3 certificate(s), leaf first; the leaf's key spec is EC-256",
        "leaf: subject",
        "intermediate: subject",
        "root: subject",
        "meets the Notary Project certificate requirements",
        "✓ 6. test signature",
        "✓ 7. cache",
        "no entry for this id",
        "credential_type = default (default)",
        "timeout = 20s (environment NOTATION_AKV_TIMEOUT)",
        "All checks passed",
    ] {
        assert!(run.stdout.contains(expected), "{expected}:\n{}", run.stdout);
    }
    assert_eq!(run.stderr, "");

    // After a real describe-key the cache holds the same material the vault has.
    let out = run_plugin(
        Path::new(BINARY),
        "describe-key",
        &admin.env,
        serde_json::json!({"contractVersion":"1.0","keyId":id,"pluginConfig":{}})
            .to_string()
            .as_bytes(),
        Duration::from_secs(60),
    );
    assert_eq!(out.exit_code, 0, "{}", String::from_utf8_lossy(&out.stderr));
    let run = admin.doctor(&id);
    assert!(
        run.stdout
            .contains("the entry for this id matches the vault"),
        "{}",
        run.stdout
    );
}

#[test]
fn doctor_json_is_a_machine_readable_report() {
    let admin = Admin::new();
    let (code, report) = admin.doctor_json(&cert_id(&names::self_signed(KeySpec::Rsa3072)));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    assert!(steps.iter().all(|s| s["status"] == "pass"), "{report:#}");
    // A secret holding the private key: the doctor shows neither it nor the client secret.
    let (code, report) = admin.doctor_json(&cert_id(names::PEM_EXPORTABLE));
    assert_eq!(code, 0, "{report:#}");
    // The plugin config overrides the environment, and says so.
    let run = admin.run(&[
        "doctor",
        "--id",
        &cert_id(&names::self_signed(KeySpec::Ec256)),
        "--plugin-config",
        "self_signed=true",
        "--plugin-config=timeout=25s",
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("self_signed = true (plugin config)"));
    assert!(run.stdout.contains("timeout = 25s (plugin config)"));
    assert!(
        run.stdout
            .contains("✓ certificates/get (Key Vault Certificate User)")
    );
}

#[test]
fn doctor_checks_key_ids_as_the_certificate_of_the_same_name() {
    let admin = Admin::new();
    let fixture = shared_with_fixtures()
        .fixtures
        .get(&names::ca_issued(KeySpec::Rsa2048));
    let bundle = admin.home.path().join("full.pem");
    std::fs::write(&bundle, fixture.chain.pem_bundle(BundleOrder::RootFirst)).unwrap();
    let key_id = fixture.version.kid.clone();
    let config = format!("ca_certs={}", bundle.display());
    let run = admin.run(&["doctor", "--id", &key_id, "--plugin-config", &config]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    for expected in [
        "key \"ca-rsa-2048\"",
        "a /keys/ id signs with the vault certificate of the same name and version",
        "chain source: ca_certs",
        "✓ certificates/get (Key Vault Certificate User)",
        "3 certificate(s), leaf first; the leaf's key spec is RSA-2048",
    ] {
        assert!(run.stdout.contains(expected), "{expected}:\n{}", run.stdout);
    }
    // Without the bundle the chain comes from the certificate's secret, as azure-kv reads it.
    let (code, report) = admin.doctor_json(&key_id);
    assert_eq!(code, 0, "{report:#}");
    assert!(step(&report, 4).1.contains("secrets/get"), "{report:#}");

    // A key without a certificate: the chain step names the 404 and asks for ca_certs.
    let key = shared_with_fixtures()
        .vault
        .import_key("doctor-bare-key", fixture.chain.leaf().key().clone());
    let (code, report) = admin.doctor_json(&key.kid);
    assert_eq!(code, 1);
    assert_eq!(failed_steps(&report), vec![5], "{report:#}");
    assert!(
        step(&report, 4).1.contains("not found (HTTP 404)"),
        "{report:#}"
    );
    assert!(
        step(&report, 5).1.contains("ca_certs=<bundle.pem>"),
        "{report:#}"
    );
}

#[test]
fn doctor_names_the_akv_default_policy_fields() {
    let (code, report) = Admin::new().doctor_json(&cert_id(names::AKV_DEFAULT_POLICY));
    assert_eq!(code, 1);
    assert_eq!(report["ok"], false);
    assert_eq!(failed_steps(&report), vec![5], "{report:#}");
    let (_, text) = step(&report, 5);
    assert!(text.contains("[leaf.key-usage.forbidden]"), "{text}");
    assert!(text.contains("x509_props.key_usage"), "{text}");
    assert!(text.contains("x509_props.ekus"), "{text}");
    // The vault itself is fine: the signature still verifies.
    assert_eq!(step(&report, 6).0, "pass");
}

#[test]
fn doctor_reports_an_expired_chain() {
    let run = Admin::new().doctor(&cert_id(names::EXPIRED));
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("✗ 5. certificate chain"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[validity.expired]"), "{}", run.stdout);
    assert!(run.stdout.contains("Failed: step 5 (certificate chain)."));
}

#[test]
fn doctor_reports_a_certificate_that_is_not_the_keys() {
    let (code, report) = Admin::new().doctor_json(&cert_id(names::WRONG_KEY));
    assert_eq!(code, 1);
    assert_eq!(failed_steps(&report), vec![6], "{report:#}");
    let (_, text) = step(&report, 6);
    assert!(text.contains("does not belong to this key"), "{text}");
}

#[test]
fn doctor_reports_a_disabled_key() {
    let (code, report) = Admin::new().doctor_json(&cert_id(names::DISABLED_KEY));
    assert_eq!(code, 1);
    assert_eq!(failed_steps(&report), vec![4], "{report:#}");
    let (_, text) = step(&report, 4);
    assert!(text.contains("✗ keys/sign"), "{text}");
    assert!(text.contains("disabled"), "{text}");
    assert!(text.contains("enable it"), "{text}");
}

#[test]
fn doctor_names_the_missing_secret_permission() {
    let s = shared_with_fixtures();
    let id = private_copy(&names::ca_issued(KeySpec::Ec256), "doctor-403-secret");
    s.vault.inject(Fault::on(
        "GET",
        "/secrets/doctor-403-secret/**",
        FaultAction::status(
            403,
            "Forbidden",
            "The user does not have secrets get permission",
        ),
    ));
    let (code, report) = Admin::new().doctor_json(&id);
    assert_eq!(code, 1);
    assert_eq!(failed_steps(&report), vec![4], "{report:#}");
    assert_eq!(step(&report, 3).0, "pass", "the credential worked");
    let (_, text) = step(&report, 4);
    assert!(text.contains("secrets/get"), "{text}");
    assert!(text.contains("Key Vault Secrets User"), "{text}");
    assert!(text.contains("--secret-permissions get"), "{text}");
    assert_eq!(step(&report, 5).0, "skip");
}

#[test]
fn doctor_reports_a_wrong_client_secret_at_the_credential_step() {
    let admin = Admin::new().set("AZURE_CLIENT_SECRET", "not-the-client-secret");
    let run = admin.doctor(&cert_id(&names::ca_issued(KeySpec::Ec256)));
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("✗ 3. credentials"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("✗ environment: ClientSecretCredential authentication failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("✗ workloadid: not configured"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("credential_type="),
        "fix: {}",
        run.stdout
    );
    assert!(run.stdout.contains("- 4. vault access"), "{}", run.stdout);
}

#[test]
fn doctor_reports_a_malformed_id() {
    let (code, report) = Admin::new().doctor_json("https://vault.example/secrets/x");
    assert_eq!(code, 1);
    assert_eq!(failed_steps(&report), vec![1], "{report:#}");
    let (_, text) = step(&report, 1);
    assert!(text.contains("Accepted forms"), "{text}");
    assert!(
        report["steps"].as_array().unwrap()[1..]
            .iter()
            .all(|s| s["status"] == "skip")
    );
}

#[test]
fn doctor_usage_errors_exit_2() {
    let admin = Admin::new();
    for args in [
        &["doctor"][..],
        &["doctor", "--id"],
        &["doctor", "--id", "x", "--bogus"],
    ] {
        let run = admin.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(
            run.stderr.contains("notation-akv doctor:"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
}

#[test]
fn protocol_mode_is_unchanged_and_help_lists_the_admin_commands() {
    let admin = Admin::new();
    let out = run_plugin(
        Path::new(BINARY),
        "get-plugin-metadata",
        &admin.env,
        br#"{"contractVersion":"1.0"}"#,
        Duration::from_secs(30),
    );
    assert_eq!(out.exit_code, 0);
    let metadata: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(metadata["name"], "akv");
    let out = run_plugin(
        Path::new(BINARY),
        "bogus-command",
        &admin.env,
        b"{}",
        Duration::from_secs(30),
    );
    let error: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(error["errorCode"], "VALIDATION_ERROR");
    let help = admin.run(&["--help"]);
    assert_eq!(help.code, 0);
    for command in ["doctor", "policy"] {
        let sub = admin.run(&[command, "--help"]);
        assert_eq!(sub.code, 0);
        assert!(
            sub.stdout.starts_with("For key administrators"),
            "{}",
            sub.stdout
        );
    }
    for expected in [
        "notation-akv doctor --id",
        "notation-akv policy",
        "--check <policy.json>",
    ] {
        assert!(
            help.stdout.contains(expected),
            "{expected}: {}",
            help.stdout
        );
    }
}

#[test]
fn policy_outputs() {
    let admin = Admin::new();
    let subject = "CN=signer,O=Contoso,ST=WA,C=US";
    for (name, args) in [
        ("policy_default_rsa", vec!["--subject", subject]),
        (
            "policy_ec_p384",
            vec![
                "--curve",
                "P-384",
                "--subject",
                subject,
                "--validity-months",
                "24",
            ],
        ),
        (
            "policy_rsa_4096_unknown_issuer",
            vec![
                "--key-type",
                "RSA-HSM",
                "--key-size",
                "4096",
                "--issuer",
                "Unknown",
                "--subject",
                subject,
            ],
        ),
    ] {
        let mut all = vec!["policy"];
        all.extend(args);
        let run = admin.run(&all);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let _: Value = serde_json::from_str(&run.stdout).expect("policy is JSON");
        insta::assert_snapshot!(name, format!("{}--- stderr\n{}", run.stdout, run.stderr));
        // What it prints passes its own linter.
        let file = admin.home.path().join(format!("{name}.json"));
        std::fs::write(&file, &run.stdout).unwrap();
        let check = admin.run(&["policy", "--check", file.to_str().unwrap()]);
        assert_eq!(check.code, 0, "{}", check.stdout);
        assert!(check.stdout.contains("no problems"), "{}", check.stdout);
    }
}

#[test]
fn policy_refuses_non_notary_combinations() {
    let admin = Admin::new();
    let subject = "CN=signer,O=Contoso,ST=WA,C=US";
    for (args, why) in [
        (vec!["--key-size", "1024", "--subject", subject], "RSA-1024"),
        (vec!["--curve", "P-256K", "--subject", subject], "P-256K"),
        (
            vec!["--exportable", "true", "--subject", subject],
            "--force",
        ),
        (vec!["--subject", "CN=signer"], "missing C, ST, O"),
        (vec![], "--subject is required"),
        (
            vec![
                "--key-type",
                "EC",
                "--key-size",
                "2048",
                "--subject",
                subject,
            ],
            "--curve",
        ),
    ] {
        let mut all = vec!["policy"];
        all.extend(args.iter().copied());
        let run = admin.run(&all);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    let run = admin.run(&[
        "policy",
        "--exportable",
        "true",
        "--force",
        "--subject",
        subject,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning: the key is exportable"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("\"exportable\": true"));
}

#[test]
fn policy_check_lists_the_akv_default_policy_problems() {
    let admin = Admin::new();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/admin/akv-default-policy.json"
    );
    let run = admin.run(&["policy", "--check", path]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    insta::assert_snapshot!(
        "policy_check_akv_default",
        run.stdout.replace(path, "akv-default-policy.json")
    );
}
