//! The plugins as notation installed them keep the wire contract of `spec/`: every response we
//! produce for the requests notation 1.3.2 really sent (`spec/examples/`) validates against our
//! generated schemas. Malformed requests (the error JSON on stderr, exit 1, nothing on stdout)
//! are the corpus of `malformed_input.rs`.

use akv_test_vault::{CredentialKind, TestVault};
use notation_akv_e2e::NotationEnv;
use notation_akv_e2e::locate::{repo_root, workspace_binary};
use notation_akv_e2e::process::{Output, run_with_input};
use notation_akv_protocol::{KeySpec, SigningAlgorithm, b64};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PLUGINS: [&str; 2] = ["akv", "akv-verifier"];

/// Both plugins installed with the real `notation plugin install --file`.
fn installed() -> (NotationEnv, Vec<(String, PathBuf)>) {
    let env = NotationEnv::new().unwrap();
    let plugins = PLUGINS
        .iter()
        .map(|name| {
            let binary = workspace_binary(&format!("notation-{name}")).unwrap();
            env.install_plugin(&binary).unwrap();
            let path = env
                .plugins_dir()
                .join(name)
                .join(format!("notation-{name}"));
            assert!(
                path.is_file(),
                "notation did not install {}",
                path.display()
            );
            (name.to_string(), path)
        })
        .collect();
    (env, plugins)
}

fn invoke(plugin: &Path, command: &str, stdin: &[u8], env: &[(String, String)]) -> Output {
    let mut cmd = Command::new(plugin);
    cmd.arg(command).env_clear().envs(env.iter().cloned());
    run_with_input(cmd, Some(stdin), Duration::from_secs(60)).unwrap()
}

fn example(name: &str) -> Value {
    let path = repo_root().join("spec/examples").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_valid(schema_file: &str, instance: &Value, what: &str) {
    let path = repo_root().join("spec/schemas").join(schema_file);
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{what} violates {schema_file}: {errors:?}\n{instance}"
    );
}

/// A successful invocation: exactly one JSON value on stdout, nothing on stderr.
fn response(out: &Output, what: &str) -> Value {
    assert_eq!(out.code(), Some(0), "{what}: {out:?}");
    assert!(
        out.stderr.is_empty(),
        "{what}: stderr must stay empty on success: {out:?}"
    );
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON value ({e}): {out:?}"))
}

/// A test vault, and the environment (with its own HOME) that points the signer at it.
fn signer_against_test_vault() -> (TestVault, tempfile::TempDir, Vec<(String, String)>) {
    let vault = TestVault::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut env = vault.credential_env(CredentialKind::ClientSecret);
    env.push(("HOME".into(), home.path().display().to_string()));
    (vault, home, env)
}

#[test]
fn metadata_responses_match_the_schema_for_every_captured_request() {
    let (_env, plugins) = installed();
    for captured in [
        "get-plugin-metadata.install.request.json",
        "get-plugin-metadata.sign.request.json",
        "get-plugin-metadata.verify.request.json",
    ] {
        let request = example(captured).to_string();
        for (name, path) in &plugins {
            let what = format!("{name} get-plugin-metadata <<< {captured}");
            let body = response(
                &invoke(path, "get-plugin-metadata", request.as_bytes(), &[]),
                &what,
            );
            assert_valid("get-plugin-metadata.response.schema.json", &body, &what);
            assert_eq!(body["name"], name.as_str(), "{what}");
            assert_eq!(body["supportedContractVersions"], json!(["1.0"]), "{what}");
        }
    }
}

#[test]
fn signer_responses_to_captured_requests_match_the_schemas() {
    let (_env, plugins) = installed();
    let signer = &plugins.iter().find(|(n, _)| n == "akv").unwrap().1;
    let (vault, _home, env) = signer_against_test_vault();

    for captured in [
        "generate-signature.jws.request.json",
        "generate-signature.cose.request.json",
    ] {
        let mut request = example(captured);
        let spec: KeySpec = serde_json::from_value(request["keySpec"].clone()).unwrap();
        let chain = akv_test_pki::ChainBuilder::self_signed(spec)
            .build()
            .unwrap();
        let name = format!("wire-{}", spec.as_str().to_lowercase());
        let certificate = vault
            .add_certificate(&name, &chain, Default::default())
            .unwrap();
        // Our own key id with a trailing slash: the echo must keep it byte for byte.
        let key_id = format!("{}/", certificate.id);
        request["keyId"] = json!(key_id);
        // The recorder's pluginConfig keys are not ours (we refuse unknown keys).
        request.as_object_mut().unwrap().remove("pluginConfig");

        let mut describe = example("describe-key.request.json");
        describe["keyId"] = json!(key_id);
        describe.as_object_mut().unwrap().remove("pluginConfig");
        let what = format!("describe-key for {captured}");
        let body = response(
            &invoke(
                signer,
                "describe-key",
                describe.to_string().as_bytes(),
                &env,
            ),
            &what,
        );
        assert_valid("describe-key.response.schema.json", &body, &what);
        assert_eq!(body["keyId"], key_id.as_str());
        assert_eq!(body["keySpec"], spec.as_str());

        let what = format!("generate-signature <<< {captured}");
        let body = response(
            &invoke(
                signer,
                "generate-signature",
                request.to_string().as_bytes(),
                &env,
            ),
            &what,
        );
        assert_valid("generate-signature.response.schema.json", &body, &what);
        assert_eq!(body["keyId"], key_id.as_str());
        // The signature is over the captured payload, in the encoding notation verifies.
        let payload = b64::decode(request["payload"].as_str().unwrap()).unwrap();
        let signature = b64::decode(body["signature"].as_str().unwrap()).unwrap();
        let leaf_der = b64::decode(body["certificateChain"][0].as_str().unwrap()).unwrap();
        let leaf = notation_akv_x509::cert::Certificate::from_der(&leaf_der).unwrap();
        let algorithm: SigningAlgorithm =
            serde_json::from_value(body["signingAlgorithm"].clone()).unwrap();
        assert_eq!(algorithm, spec.signing_algorithm());
        notation_akv_x509::key::verify_plugin_signature(
            leaf.public_key(),
            algorithm,
            &payload,
            &signature,
        )
        .unwrap_or_else(|e| panic!("{what}: signature does not verify: {e}"));
    }
}

#[test]
fn envelope_responses_to_captured_requests_match_the_schema() {
    let (_env, plugins) = installed();
    let signer = &plugins.iter().find(|(n, _)| n == "akv").unwrap().1;
    let (vault, _home, env) = signer_against_test_vault();
    let chain = akv_test_pki::ChainBuilder::self_signed(KeySpec::Ec384)
        .build()
        .unwrap();
    let certificate = vault
        .add_certificate("wire-envelope", &chain, Default::default())
        .unwrap();

    for captured in [
        "generate-envelope.jws.request.json",
        "generate-envelope.cose.request.json",
    ] {
        let mut request = example(captured);
        request["keyId"] = json!(certificate.id);
        let what = format!("generate-envelope <<< {captured}");
        let body = response(
            &invoke(
                signer,
                "generate-envelope",
                request.to_string().as_bytes(),
                &env,
            ),
            &what,
        );
        assert_valid("generate-envelope.response.schema.json", &body, &what);
        assert_eq!(
            body["signatureEnvelopeType"], request["signatureEnvelopeType"],
            "{what}"
        );
    }
}

#[test]
fn verifier_response_to_the_captured_request_matches_the_schema() {
    let (_env, plugins) = installed();
    let verifier = &plugins.iter().find(|(n, _)| n == "akv-verifier").unwrap().1;
    let home = tempfile::tempdir().unwrap();
    let env = vec![("HOME".to_string(), home.path().display().to_string())];
    let request = example("verify-signature.request.json");
    let what = "verify-signature <<< verify-signature.request.json";
    let body = response(
        &invoke(
            verifier,
            "verify-signature",
            request.to_string().as_bytes(),
            &env,
        ),
        what,
    );
    assert_valid("verify-signature.response.schema.json", &body, what);
    for capability in request["trustPolicy"]["signatureVerification"]
        .as_array()
        .unwrap()
    {
        let result = &body["verificationResults"][capability.as_str().unwrap()];
        assert!(
            result["success"].is_boolean(),
            "{what}: no result for {capability}: {body}"
        );
        if result["success"] == false {
            assert!(
                result["reason"].is_string(),
                "{what}: a failure needs a reason: {body}"
            );
        }
    }
}
