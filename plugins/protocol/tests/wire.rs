//! Wire encodings as notation-go produces and accepts them.

use notation_akv_protocol::*;
use serde_json::json;

#[test]
fn verify_request_as_notation_sends_it() {
    // Go: nil slices are null, the zero expiry, an offset time, extended attributes of any JSON.
    let raw = json!({
        "contractVersion": "1.0",
        "signature": {
            "criticalAttributes": {
                "contentType": "application/vnd.cncf.notary.payload.v1+json",
                "signingScheme": "notary.x509.signingAuthority",
                "expiry": "0001-01-01T00:00:00Z",
                "authenticSigningTime": "2026-11-28T10:00:00.123456789+05:30",
                "extendedAttributes": {"io.notation-akv.keyId": "https://v.vault.azure.net/keys/k/1", "n": 3}
            },
            "unprocessedAttributes": ["io.notation-akv.keyId", "n"],
            "certificateChain": ["MIIB", "AQID"]
        },
        "trustPolicy": {"trustedIdentities": null, "signatureVerification": ["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"]},
        "somethingNew": true
    });
    let req: VerifySignatureRequest = serde_json::from_value(raw).unwrap();
    assert_eq!(req.signature.critical_attributes.expiry, None);
    let t = req
        .signature
        .critical_attributes
        .authentic_signing_time
        .unwrap();
    assert_eq!(t.unix_timestamp(), 1_795_840_200);
    assert_eq!(req.signature.certificate_chain[1], vec![1, 2, 3]);
    assert!(req.trust_policy.trusted_identities.is_empty());
    req.validate().unwrap();

    let nulls = json!({
        "contractVersion": "1.0",
        "signature": {"criticalAttributes": {"contentType": "c", "signingScheme": "notary.x509",
            "expiry": "2027-01-01T00:00:00-08:00"}, "unprocessedAttributes": null, "certificateChain": null},
        "trustPolicy": {"trustedIdentities": ["*"], "signatureVerification": ["SIGNATURE_VERIFIER.REVOCATION_CHECK"]}
    });
    let req: VerifySignatureRequest = serde_json::from_value(nulls).unwrap();
    assert!(req.signature.critical_attributes.expiry.is_some());
    let err = req.validate().unwrap_err();
    assert_eq!(err.error_code, ErrorCode::ValidationError);
    assert!(err.error_message.contains("certificateChain"));
}

#[test]
fn byte_fields_must_be_padded_standard_base64() {
    let base = |payload: &str| json!({"contractVersion":"1.0","keyId":"k","keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":payload});
    assert!(serde_json::from_value::<GenerateSignatureRequest>(base("+/+/")).is_ok());
    assert!(
        serde_json::from_value::<GenerateSignatureRequest>(base("-_-_")).is_err(),
        "url-safe"
    );
    assert!(
        serde_json::from_value::<GenerateSignatureRequest>(base("AQI")).is_err(),
        "unpadded"
    );
}

#[test]
fn responses_pin_the_wire_format() {
    insta::assert_json_snapshot!(
        "generate_signature_response",
        GenerateSignatureResponse {
            key_id: "https://v.vault.azure.net/keys/k/0123".into(),
            signature: vec![0xfb, 0xff, 0x00],
            signing_algorithm: SigningAlgorithm::EcdsaSha384,
            certificate_chain: vec![vec![0x30, 0x82], vec![0x30, 0x81, 0xff]],
        }
    );
    let mut results = std::collections::BTreeMap::new();
    results.insert(
        Capability::TrustedIdentityVerifier,
        VerificationResult::passed(),
    );
    results.insert(
        Capability::RevocationCheckVerifier,
        VerificationResult::failed("leaf revoked"),
    );
    insta::assert_json_snapshot!(
        "verify_signature_response",
        VerifySignatureResponse {
            verification_results: results,
            processed_attributes: vec!["io.notation-akv.keyId".into()],
        }
    );
    insta::assert_json_snapshot!(
        "generate_envelope_response_without_annotations",
        GenerateEnvelopeResponse {
            signature_envelope: b"{}".to_vec(),
            signature_envelope_type: generate_envelope::ENVELOPE_TYPE_JWS.into(),
            annotations: Default::default(),
        }
    );
}
