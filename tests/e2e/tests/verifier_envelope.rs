//! The verifier inside the real `notation verify` (1.3.2): a test-only JWS envelope names
//! `akv-verifier` in the critical `io.cncf.notary.verificationPlugin` attribute and carries our
//! critical key-id attribute, so notation runs the installed plugin exactly as it will for the
//! signer's envelope mode. The envelope is built with the signer's own envelope crate (JWS, ES256
//! with a local key) and attached with oras as a Notary signature.
//!
//! Shows what only the real CLI can: the policy level deciding what our `success:false` means
//! (strict fails, permissive logs revocation, audit logs identity), `--plugin-config` reaching the
//! plugin, and an unknown critical attribute failing even under audit. The plugin is installed
//! behind a wrapper that saves each request, so the test also checks the exact request notation
//! sends (and, with `NOTATION_AKV_WRITE_EXAMPLES=spec/examples`, writes it as a reference example).

mod verifier_support;

use std::path::{Path, PathBuf};

use akv_test_responders::ocsp::OcspResponder;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, examples, locate};
use serde_json::{Value, json};
use verifier_support::*;

const STORE: &str = "envelope";

/// Installs `notation-akv-verifier` as plugin `akv-verifier`, keeping each request in
/// `<capture>/<command>.json`.
fn install_recording_verifier(env: &NotationEnv, capture: &Path) {
    let binary = locate::workspace_binary("notation-akv-verifier")
        .expect("build it: cargo build -p notation-akv-verifier");
    env.install_recording_plugin(&binary, "akv-verifier", capture)
        .unwrap();
}

fn policy(env: &NotationEnv, registry: &Registry, level: &str, identities: &[&str]) {
    envelope_policy(
        env,
        &registry.repository("envelope"),
        STORE,
        level,
        identities,
    );
}

fn captured(capture: &Path, command: &str) -> Value {
    let path: PathBuf = capture.join(format!("{command}.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn notation_verify_runs_akv_verifier_for_envelopes_that_name_it() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let responder = runtime.block_on(OcspResponder::start(&[], None)).unwrap();
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let capture = env.root().join("captured");
    install_recording_verifier(&env, &capture);

    let pki = OcspPki::new(&responder, "envelope");
    let (good, revoked) = pki.keys(&env);
    let root = &pki.root;
    let root_pem = env.write_file("envelope-root.crt", root.pem()).unwrap();
    env.add_ca_cert(STORE, &root_pem).unwrap();

    let ours = ENVELOPE_ATTRIBUTES;
    let verify = |artifact: &Artifact, extra: &[&str]| {
        let mut args = vec!["verify", "-v"];
        args.extend_from_slice(extra);
        let reference = artifact.by_digest();
        args.push(&reference);
        env.notation(&args).unwrap()
    };

    // 1. Good chain, key pin: notation runs our plugin and accepts.
    let artifact = signed_artifact(&env, &registry, "envelope", "good", &good, &ours);
    policy(
        &env,
        &registry,
        "strict",
        &["akv.key:https://myvault.vault.azure.net/keys/signer"],
    );
    let out = verify(&artifact, &[]);
    assert!(out.success(), "{}", out.stderr);
    let request = captured(&capture, "verify-signature");
    assert_eq!(request["contractVersion"], "1.0");
    assert_eq!(
        request["signature"]["criticalAttributes"]["extendedAttributes"],
        json!({KEY_ID_ATTRIBUTE: KEY_ID})
    );
    assert_eq!(
        request["signature"]["unprocessedAttributes"],
        json!([KEY_ID_ATTRIBUTE])
    );
    assert_eq!(
        request["signature"]["criticalAttributes"]["expiry"],
        "0001-01-01T00:00:00Z"
    );
    assert_eq!(
        request["trustPolicy"],
        json!({
            "trustedIdentities": ["akv.key:https://myvault.vault.azure.net/keys/signer"],
            "signatureVerification": ["SIGNATURE_VERIFIER.TRUSTED_IDENTITY", "SIGNATURE_VERIFIER.REVOCATION_CHECK"],
        })
    );
    assert!(request.get("pluginConfig").is_none(), "{request}");
    let raw = std::fs::read_to_string(capture.join("verify-signature.json")).unwrap();
    let metadata = std::fs::read_to_string(capture.join("get-plugin-metadata.json")).unwrap();
    examples::write_examples(&[
        ("verify-signature.request.json".into(), raw),
        ("get-plugin-metadata.verify.request.json".into(), metadata),
    ])
    .unwrap();

    // 2. The wrong key pin: an authenticity failure, enforced by strict, only logged by audit.
    policy(
        &env,
        &registry,
        "strict",
        &["akv.key:https://myvault.vault.azure.net/keys/other"],
    );
    let out = verify(&artifact, &[]);
    assert!(!out.success());
    assert!(
        out.stderr
            .contains("matches none of the trusted identities"),
        "{}",
        out.stderr
    );
    policy(
        &env,
        &registry,
        "audit",
        &["akv.key:https://myvault.vault.azure.net/keys/other"],
    );
    assert!(verify(&artifact, &[]).success());

    // 3. A revoked leaf: strict fails with our reason, permissive only logs it.
    let revoked_artifact = signed_artifact(&env, &registry, "envelope", "revoked", &revoked, &ours);
    policy(&env, &registry, "strict", &["*"]);
    let out = verify(&revoked_artifact, &[]);
    assert!(!out.success());
    assert!(out.stderr.contains("keyCompromise"), "{}", out.stderr);
    policy(&env, &registry, "permissive", &["*"]);
    let out = verify(&revoked_artifact, &[]);
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stderr.contains("keyCompromise"),
        "logged: {}",
        out.stderr
    );

    // 4. --plugin-config reaches the plugin: a horizon beyond the leaf's year fails revocation.
    policy(&env, &registry, "strict", &["*"]);
    let out = verify(&artifact, &["--plugin-config", "expiry_horizon=400d"]);
    assert!(!out.success());
    assert!(
        out.stderr.contains("inside the expiry horizon of 400d"),
        "{}",
        out.stderr
    );
    assert_eq!(
        captured(&capture, "verify-signature")["pluginConfig"],
        json!({"expiry_horizon": "400d"})
    );

    // 5. A critical attribute we do not understand is not marked processed: notation refuses the
    //    signature even under audit.
    let unknown = signed_artifact(
        &env,
        &registry,
        "envelope",
        "unknown-attribute",
        &good,
        &[ours[0], ours[1], ("com.example.policy", "x")],
    );
    policy(&env, &registry, "audit", &["*"]);
    let out = verify(&unknown, &[]);
    assert!(!out.success());
    assert!(out.stderr.contains("com.example.policy"), "{}", out.stderr);
    // notation builds this list from a Go map, so its order varies from run to run.
    let mut unprocessed: Vec<String> = serde_json::from_value(
        captured(&capture, "verify-signature")["signature"]["unprocessedAttributes"].clone(),
    )
    .unwrap();
    unprocessed.sort();
    assert_eq!(unprocessed, ["com.example.policy", KEY_ID_ATTRIBUTE]);
}
