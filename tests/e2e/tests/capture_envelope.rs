//! The requests notation 1.3.2 sends a signer in envelope mode, captured from our own `akv`
//! behind a recording wrapper: sign-time `get-plugin-metadata` and `generate-envelope` for JWS
//! (with `--expiry`) and COSE (without). The test checks their shape; with
//! `NOTATION_AKV_WRITE_EXAMPLES=spec/examples` (see tests/capture-examples.sh) it also writes them
//! as the project's reference examples.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::shared_with_fixtures;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{NotationEnv, Registry, examples};
use serde_json::Value;

mod signer_support;

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn generate_envelope_requests_as_notation_sends_them() {
    let shared = shared_with_fixtures();
    let mut env = NotationEnv::new().unwrap();
    signer_support::use_test_vault(&mut env);
    let capture = env.root().join("captured");
    env.install_recording_plugin(&workspace_binary("notation-akv").unwrap(), "akv", &capture)
        .unwrap();
    let registry = Registry::start().unwrap();
    let artifact = env
        .push_artifact(&registry, "captured", "v1", b"captured")
        .unwrap();
    let key_id = &shared
        .fixtures
        .get(&names::self_signed(KeySpec::Ec256))
        .version
        .id;

    let mut written = Vec::new();
    for (format, envelope_type, expiry) in [
        ("jws", "application/jose+json", Some(("24h", 86_400))),
        ("cose", "application/cose", None),
    ] {
        let mut args = vec![
            "sign",
            "--plugin",
            "akv",
            "--id",
            key_id,
            "--signature-format",
            format,
            "--plugin-config",
            "verification_plugin=akv-verifier",
        ];
        if let Some((flag, _)) = expiry {
            args.extend_from_slice(&["--expiry", flag]);
        }
        let reference = artifact.by_digest();
        args.push(&reference);
        env.notation_ok(&args).unwrap();

        let raw = read(&capture.join("generate-envelope.json"));
        let request: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(request["contractVersion"], "1.0");
        assert_eq!(request["keyId"], key_id.as_str());
        assert_eq!(
            request["payloadType"],
            "application/vnd.cncf.notary.payload.v1+json"
        );
        assert_eq!(request["signatureEnvelopeType"], envelope_type);
        assert_eq!(
            request["pluginConfig"]["verification_plugin"],
            "akv-verifier"
        );
        match expiry {
            Some((_, seconds)) => assert_eq!(request["expiryDurationInSeconds"], seconds),
            None => assert!(request.get("expiryDurationInSeconds").is_none(), "{raw}"),
        }
        // The payload is the Notary payload naming exactly the artifact being signed.
        let payload: Value = serde_json::from_slice(
            &STANDARD
                .decode(request["payload"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            payload["targetArtifact"]["digest"],
            artifact.digest.as_str(),
            "{payload}"
        );
        written.push((format!("generate-envelope.{format}.request.json"), raw));
    }
    // Sign-time metadata carries the plugin config that switches the signer to envelope mode.
    let metadata = read(&capture.join("get-plugin-metadata.json"));
    let metadata_json: Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(
        metadata_json["pluginConfig"]["verification_plugin"],
        "akv-verifier"
    );
    written.push(("get-plugin-metadata.envelope.request.json".into(), metadata));
    examples::write_examples(&written).unwrap();
}
