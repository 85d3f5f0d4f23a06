//! The runner's contract with notation: streams, exit codes and error codes.

use notation_akv_protocol::runner::{Output, Plugin, run};
use notation_akv_protocol::*;
use std::ffi::OsString;

struct Fake;

impl Plugin for Fake {
    fn metadata(&self, request: &GetMetadataRequest) -> GetMetadataResponse {
        let mut caps = vec![Capability::SignatureGeneratorRaw];
        if request.plugin_config.get("mode").map(String::as_str) == Some("envelope") {
            caps = vec![Capability::SignatureGeneratorEnvelope];
        }
        GetMetadataResponse::new(
            "fake",
            "A fake plugin",
            "1.2.3",
            "https://example.invalid",
            caps,
        )
    }

    fn describe_key(
        &self,
        request: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, PluginError> {
        match request.key_id.as_str() {
            "panic" => panic!("boom"),
            "denied" => {
                Err(PluginError::new(ErrorCode::AccessDenied, "no")
                    .with_metadata("httpStatus", "403"))
            }
            _ => Ok(DescribeKeyResponse {
                key_id: request.key_id,
                key_spec: KeySpec::Ec384,
            }),
        }
    }
}

fn invoke(args: &[&str], stdin: &str) -> Output {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    run(&Fake, &args, &mut stdin.as_bytes())
}

fn error_of(out: &Output) -> serde_json::Value {
    assert_eq!(out.exit_code, 1, "expected failure, got {out:?}");
    assert!(out.stdout.is_empty(), "stdout must stay empty on failure");
    serde_json::from_slice(&out.stderr).expect("stderr is the error JSON")
}

fn success_of(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.exit_code,
        0,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON value")
}

#[test]
fn metadata_for_install_list_and_sign() {
    insta::assert_json_snapshot!(
        "metadata_empty",
        success_of(&invoke(&["get-plugin-metadata"], "{}"))
    );
    let nothing = success_of(&invoke(&["get-plugin-metadata"], ""));
    assert_eq!(nothing["name"], "fake");
    let switched = success_of(&invoke(
        &["get-plugin-metadata"],
        r#"{"pluginConfig":{"mode":"envelope"}}"#,
    ));
    assert_eq!(
        switched["capabilities"],
        serde_json::json!(["SIGNATURE_GENERATOR.ENVELOPE"])
    );
}

#[test]
fn describe_key_echoes_key_id_and_ignores_unknown_fields() {
    let id = "https://v.vault.azure.net/keys/k/ ünïcode/";
    let out = invoke(
        &["describe-key"],
        &serde_json::json!({"contractVersion":"1.0","keyId":id,"pluginConfig":null,"futureField":[1]}).to_string(),
    );
    let body = success_of(&out);
    assert_eq!(body["keyId"], id);
    assert_eq!(body["keySpec"], "EC-384");
}

#[test]
fn malformed_requests_are_validation_errors() {
    for (stdin, needle) in [
        ("", "standard input is empty"),
        ("{not json", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        (r#"{"keyId":"k"}"#, "no contractVersion"),
        (r#"{"contractVersion":"1.0"}"#, "missing field `keyId`"),
        (
            r#"{"contractVersion":"1.0","keyId":7}"#,
            "malformed request",
        ),
    ] {
        let err = error_of(&invoke(&["describe-key"], stdin));
        assert_eq!(err["errorCode"], "VALIDATION_ERROR", "{stdin}");
        assert!(
            err["errorMessage"].as_str().unwrap().contains(needle),
            "{stdin}: {err}"
        );
    }
}

#[test]
fn wrong_contract_version() {
    let err = error_of(&invoke(
        &["describe-key"],
        r#"{"contractVersion":"2.0","keyId":"k"}"#,
    ));
    insta::assert_json_snapshot!("unsupported_contract", err);
}

#[test]
fn unknown_or_missing_command() {
    let err = error_of(&invoke(&["sign-it"], "{}"));
    assert_eq!(err["errorCode"], "VALIDATION_ERROR");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("unknown command \"sign-it\"")
    );
    assert_eq!(error_of(&invoke(&[], ""))["errorCode"], "VALIDATION_ERROR");
    assert_eq!(
        error_of(&invoke(&["describe-key", "extra"], ""))["errorCode"],
        "VALIDATION_ERROR"
    );
}

#[test]
fn unimplemented_command_is_a_clear_error() {
    let err = error_of(&invoke(
        &["verify-signature"],
        r#"{"contractVersion":"1.0","signature":{"criticalAttributes":{"contentType":"c","signingScheme":"notary.x509","expiry":"0001-01-01T00:00:00Z"},"unprocessedAttributes":null,"certificateChain":["AA=="]},"trustPolicy":{"trustedIdentities":null,"signatureVerification":["SIGNATURE_VERIFIER.REVOCATION_CHECK"]}}"#,
    ));
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap()
            .contains("does not implement verify-signature")
    );
}

#[test]
fn plugin_errors_carry_code_and_metadata() {
    let err = error_of(&invoke(
        &["describe-key"],
        r#"{"contractVersion":"1.0","keyId":"denied"}"#,
    ));
    insta::assert_json_snapshot!("access_denied", err);
}

#[test]
fn a_panic_becomes_an_error_response() {
    let err = error_of(&invoke(
        &["describe-key"],
        r#"{"contractVersion":"1.0","keyId":"panic"}"#,
    ));
    assert_eq!(err["errorCode"], "ERROR");
    assert!(err["errorMessage"].as_str().unwrap().contains("boom"));
}

#[test]
fn help_and_version_are_for_people() {
    let out = invoke(&["--version"], "");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "fake 1.2.3\n");
    let help = String::from_utf8(invoke(&["--help"], "").stdout).unwrap();
    assert!(help.contains("notation plugin install --file notation-fake"));
    assert!(help.contains("SIGNATURE_GENERATOR.RAW"));
    assert!(
        help.contains("/blob/main/docs/reference.md\n"),
        "--help names the reference: {help}"
    );
    // Only the commands notation sends to a RAW signer.
    assert!(help.contains("Commands: get-plugin-metadata, describe-key, generate-signature\n"));
}
