//! Captures the plugin requests notation 1.3.2 really sends to a RAW signing plugin — at install,
//! and while signing JWS (RSA-2048) and COSE (EC-256, three-certificate chain) — and checks their
//! fields. With `NOTATION_AKV_WRITE_EXAMPLES=spec/examples` it also refreshes the reference
//! examples (see `tests/capture-examples.sh`).

use akv_test_pki::{BundleOrder, ChainBuilder, KeySpec};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use notation_akv_e2e::recorder::{self, Capture};
use notation_akv_e2e::{Artifact, NotationEnv, Registry, examples, trust_policy};
use serde_json::{Value, json};

const KEY_ID: &str = "https://recorder.vault.azure.net/keys/signer/0123456789abcdef";
/// Trust store holding both signing roots.
const STORE: &str = "recorder";

fn plugin_config() -> Value {
    // The second value contains '=': notation splits at the first one only.
    json!({"vault": "recorder", "note": "a=b"})
}

fn sign_with_recorder(env: &NotationEnv, artifact: &Artifact, format: &str) {
    env.notation_ok(&[
        "sign",
        "--signature-format",
        format,
        "--plugin",
        recorder::NAME,
        "--id",
        KEY_ID,
        "--plugin-config",
        "vault=recorder",
        "--plugin-config",
        "note=a=b",
        &artifact.by_digest(),
    ])
    .unwrap();
}

fn verify(env: &NotationEnv, artifact: &Artifact) {
    let out = env.notation_ok(&["verify", &artifact.by_digest()]).unwrap();
    assert!(out.stdout.contains("Successfully verified"), "{out:?}");
}

/// Checks the three requests of one RAW signing run and returns the generate-signature payload.
fn check_sign_run(run: &[Capture], key_spec: &str, hash: &str) -> Vec<u8> {
    let commands: Vec<&str> = run.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(
        commands,
        ["get-plugin-metadata", "describe-key", "generate-signature"]
    );
    let metadata = run[0].json().unwrap();
    assert_eq!(
        metadata,
        json!({"pluginConfig": plugin_config()}),
        "no contractVersion in metadata"
    );

    let describe = run[1].json().unwrap();
    assert_eq!(
        describe,
        json!({"contractVersion": "1.0", "keyId": KEY_ID, "pluginConfig": plugin_config()})
    );

    let generate = run[2].json().unwrap();
    assert_eq!(generate["contractVersion"], "1.0");
    assert_eq!(generate["keyId"], KEY_ID);
    assert_eq!(generate["keySpec"], key_spec);
    assert_eq!(generate["hashAlgorithm"], hash);
    assert_eq!(generate["pluginConfig"], plugin_config());
    let fields: Vec<&String> = generate.as_object().unwrap().keys().collect();
    assert_eq!(fields.len(), 6, "unexpected fields {fields:?}");
    STANDARD
        .decode(generate["payload"].as_str().unwrap())
        .expect("payload is padded standard base64")
}

#[test]
fn notation_sends_these_requests_to_a_raw_signing_plugin() {
    let registry = Registry::start().unwrap();
    let mut env = NotationEnv::new().unwrap();
    let log = env.install_recorder().unwrap();
    let listed = env.plugin_list().unwrap();
    assert!(
        listed
            .stdout
            .lines()
            .any(|line| line.starts_with("recorder ")
                && line.contains("[SIGNATURE_GENERATOR.RAW]")
                && line.contains("<nil>")),
        "{listed:?}"
    );

    // JWS with notation's own RSA-2048 test key (a single self-signed certificate).
    let rsa = env.generate_test_key("recorder.rsa", false).unwrap();
    env.add_ca_cert(STORE, &rsa.cert_path).unwrap();
    env.use_recorder_key(&rsa.key_path, &rsa.cert_path);
    let jws_artifact = env
        .push_artifact(&registry, "recorded", "jws", b"jws")
        .unwrap();
    sign_with_recorder(&env, &jws_artifact, "jws");

    // COSE with an EC-256 leaf → intermediate → root chain.
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let key = env
        .write_file("ec256.key", chain.leaf().key().pkcs8_pem())
        .unwrap();
    let certs = env
        .write_file("ec256.chain.pem", chain.pem_bundle(BundleOrder::LeafFirst))
        .unwrap();
    let root = env
        .write_file("ec256.root.pem", chain.root().unwrap().pem())
        .unwrap();
    env.add_ca_cert(STORE, &root).unwrap();
    env.use_recorder_key(&key, &certs);
    let cose_artifact = env
        .push_artifact(&registry, "recorded", "cose", b"cose")
        .unwrap();
    sign_with_recorder(&env, &cose_artifact, "cose");

    // The signatures notation assembled around the recorder's raw signatures verify.
    env.import_trust_policy(&trust_policy(
        &registry.repository("recorded"),
        STORE,
        &["*"],
    ))
    .unwrap();
    verify(&env, &jws_artifact);
    verify(&env, &cose_artifact);

    let captures = recorder::read_captures(&log).unwrap();
    assert_eq!(captures.len(), 8, "{captures:#?}");
    // `plugin install` and `plugin ls` run get-plugin-metadata with an empty request.
    for capture in &captures[..2] {
        assert_eq!(capture.command, "get-plugin-metadata");
        assert_eq!(capture.request, "{}");
    }
    let sign_runs = &captures[2..];

    let jws_payload = check_sign_run(&sign_runs[..3], "RSA-2048", "SHA-256");
    // JWS signing input: BASE64URL(protected header) "." BASE64URL(notary payload).
    let jws_input = String::from_utf8(jws_payload).unwrap();
    let (header, payload) = jws_input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["io.cncf.notary.signingScheme"], "notary.x509");
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        payload["targetArtifact"]["digest"],
        jws_artifact.digest.as_str()
    );

    let cose_payload = check_sign_run(&sign_runs[3..], "EC-256", "SHA-256");
    // COSE Sig_structure: CBOR array(4) starting with the text "Signature1".
    assert!(
        cose_payload.starts_with(b"\x84\x6aSignature1"),
        "{cose_payload:02x?}"
    );
    let digest = cose_artifact.digest.as_bytes();
    assert!(cose_payload.windows(digest.len()).any(|w| w == digest));

    let written = examples::write_examples(&[
        (
            "get-plugin-metadata.install.request.json".into(),
            captures[0].request.clone(),
        ),
        (
            "get-plugin-metadata.sign.request.json".into(),
            sign_runs[0].request.clone(),
        ),
        (
            "describe-key.request.json".into(),
            sign_runs[1].request.clone(),
        ),
        (
            "generate-signature.jws.request.json".into(),
            sign_runs[2].request.clone(),
        ),
        (
            "generate-signature.cose.request.json".into(),
            sign_runs[5].request.clone(),
        ),
    ])
    .unwrap();
    for path in written {
        eprintln!("wrote {}", path.display());
    }
}
