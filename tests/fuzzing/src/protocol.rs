//! The five requests, through `runner::run`: the function the plugins' `main` calls, with its
//! size bound, JSON and contract-version checks, typed parse and `validate`.

use notation_akv_protocol::runner::{Plugin, run};
use notation_akv_protocol::*;
use serde_json::Value;
use std::ffi::OsString;

/// A plugin that answers every request it receives, so the runner's parse is all that can fail.
struct Echo;

impl Plugin for Echo {
    fn metadata(&self, _: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse::new(
            "fuzz",
            "parses requests",
            "0.0.0",
            "https://example.invalid",
            vec![
                Capability::SignatureGeneratorRaw,
                Capability::SignatureGeneratorEnvelope,
                Capability::TrustedIdentityVerifier,
                Capability::RevocationCheckVerifier,
            ],
        )
    }

    fn describe_key(
        &self,
        request: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, PluginError> {
        Ok(DescribeKeyResponse {
            key_id: request.key_id,
            key_spec: KeySpec::Ec256,
        })
    }

    fn generate_signature(
        &self,
        request: GenerateSignatureRequest,
    ) -> Result<GenerateSignatureResponse, PluginError> {
        Err(PluginError::validation(format!(
            "parsed: {} bytes for {}",
            request.payload.len(),
            request.key_id
        )))
    }

    fn generate_envelope(
        &self,
        request: GenerateEnvelopeRequest,
    ) -> Result<GenerateEnvelopeResponse, PluginError> {
        Err(PluginError::validation(format!(
            "parsed: {} bytes for {}",
            request.payload.len(),
            request.key_id
        )))
    }

    fn verify_signature(
        &self,
        request: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        Err(PluginError::validation(format!(
            "parsed: {} certificates",
            request.signature.certificate_chain.len()
        )))
    }
}

/// Runs `command` on `stdin` and checks the stream contract: success is one JSON value on stdout
/// and nothing on stderr; failure is the error JSON on stderr, exit 1 and nothing on stdout; a
/// panic (which the runner turns into an internal error) is a failure of the target.
fn request(command: Command, stdin: &[u8]) -> Option<Value> {
    let out = run(&Echo, &[OsString::from(command.as_str())], &mut &stdin[..]);
    match out.exit_code {
        0 => {
            assert!(out.stderr.is_empty(), "stderr on success");
            Some(serde_json::from_slice(&out.stdout).expect("stdout is one JSON value"))
        }
        1 => {
            assert!(out.stdout.is_empty(), "stdout on failure");
            let error: Value = serde_json::from_slice(&out.stderr).expect("stderr is JSON");
            assert!(error["errorCode"].is_string(), "no errorCode: {error}");
            let message = error["errorMessage"].as_str().expect("no errorMessage");
            assert!(
                !message.starts_with("internal error"),
                "the runner caught a panic: {message}"
            );
            None
        }
        code => panic!("exit code {code}"),
    }
}

pub fn describe_key(data: &[u8]) {
    if let Some(response) = request(Command::DescribeKey, data) {
        // keyId is echoed byte for byte.
        let sent: Value = serde_json::from_slice(data).expect("accepted, so JSON");
        assert_eq!(response["keyId"], sent["keyId"], "keyId not echoed");
    }
}

pub fn generate_signature(data: &[u8]) {
    request(Command::GenerateSignature, data);
}

pub fn generate_envelope(data: &[u8]) {
    request(Command::GenerateEnvelope, data);
}

pub fn verify_signature(data: &[u8]) {
    request(Command::VerifySignature, data);
}

pub fn metadata(data: &[u8]) {
    request(Command::GetPluginMetadata, data);
}
