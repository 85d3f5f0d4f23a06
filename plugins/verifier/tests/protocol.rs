//! `verify-signature` through the built binary, with requests shaped as notation 1.3.2 sends them:
//! the contract (results, processed attributes, exit codes), every trusted-identity form,
//! configuration sources and the expiry horizon. Revocation against live responders is in
//! `revocation.rs`.

mod common;

use akv_test_pki::{ChainBuilder, KeySpec, Subject, Validity};
use common::*;
use serde_json::json;
use time::{Duration, OffsetDateTime};

fn chain() -> akv_test_pki::Chain {
    ChainBuilder::new(KeySpec::Ec256).build().expect("chain")
}

const KEY: &str = "https://myvault.vault.azure.net/keys/signer/0123456789abcdef0123456789abcdef";

#[test]
fn metadata_declares_both_verifier_capabilities() {
    let run = Sandbox::new().run("get-plugin-metadata", b"{}");
    let metadata = run.response();
    assert_eq!(metadata["name"], "akv-verifier");
    assert_eq!(
        metadata["capabilities"],
        json!([IDENTITY, REVOCATION]),
        "{metadata}"
    );
}

#[test]
fn a_result_for_every_requested_capability_and_no_other() {
    let sandbox = Sandbox::new();
    let chain = chain();
    let both = sandbox
        .verify(&Request::new(chain.der_chain()).json())
        .response();
    assert_eq!(
        both,
        json!({
            "verificationResults": {
                IDENTITY: {"success": true},
                REVOCATION: {"success": true},
            },
            "processedAttributes": [],
        })
    );
    // notation drops REVOCATION_CHECK when the policy's revocation action is `skip`.
    let identity_only = sandbox
        .verify(
            &Request::new(chain.der_chain())
                .capabilities(&[IDENTITY])
                .json(),
        )
        .response();
    let keys: Vec<&String> = identity_only["verificationResults"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, [IDENTITY]);
}

#[test]
fn only_our_critical_attribute_is_processed() {
    let sandbox = Sandbox::new();
    let run = sandbox.verify(
        &Request::new(chain().der_chain())
            .attribute(KEY_ID_ATTRIBUTE, json!(KEY))
            .attribute("com.example.unknown", json!("x"))
            .json(),
    );
    assert_eq!(
        run.response()["processedAttributes"],
        json!([KEY_ID_ATTRIBUTE])
    );
}

#[test]
fn subject_identities_are_subset_matches_on_the_leaf() {
    let sandbox = Sandbox::new();
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .subject(Subject::new("release signer"))
        .build()
        .unwrap();
    let cases = [
        ("x509.subject: C=US, ST=WA, O=notation-akv test", true),
        (
            "x509.subject: C=US, ST=WA, L=Seattle, O=notation-akv test, CN=release signer",
            true,
        ),
        ("x509.subject: C=US, S=WA, O=notation-akv test", true),
        (
            "x509.subject: C=US, ST=WA, O=notation-akv test, CN=other",
            false,
        ),
        ("x509.subject: C=US, ST=OR, O=notation-akv test", false),
    ];
    for (identity, expected) in cases {
        let run = sandbox.verify(
            &Request::new(chain.der_chain())
                .identities(&[identity])
                .capabilities(&[IDENTITY])
                .json(),
        );
        let (success, reason) = run.result(IDENTITY);
        assert_eq!(success, expected, "{identity}: {reason}");
        if !expected {
            assert!(
                reason.contains("matches none of the trusted identities"),
                "{reason}"
            );
        }
    }
}

#[test]
fn sha256_pins_match_the_leaf_or_a_ca_it_chains_to() {
    let sandbox = Sandbox::new();
    let chain = chain();
    let other = ChainBuilder::self_signed(KeySpec::Ec384).build().unwrap();
    let fp = |der: &[u8]| {
        notation_akv_x509::Certificate::from_der(der)
            .unwrap()
            .sha256_fingerprint()
    };
    let der = chain.der_chain();
    let colon_upper = fp(&der[1])
        .to_ascii_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let cases = [
        (format!("x509.sha256:{}", fp(&der[0])), true),
        (format!("x509.sha256:{colon_upper}"), true),
        (format!("x509.sha256:{}", fp(&der[2])), true),
        (format!("x509.sha256:{}", fp(other.leaf().der())), false),
    ];
    for (identity, expected) in cases {
        let run = sandbox.verify(
            &Request::new(der.clone())
                .identities(&[&identity])
                .capabilities(&[IDENTITY])
                .json(),
        );
        assert_eq!(run.result(IDENTITY).0, expected, "{identity}");
    }

    // A pinned CA certificate merely appended to another chain does not count.
    let mut forged = other.der_chain();
    forged.push(der[2].clone());
    let run = sandbox.verify(
        &Request::new(forged)
            .identities(&[&format!("x509.sha256:{}", fp(&der[2]))])
            .capabilities(&[IDENTITY])
            .json(),
    );
    let (success, reason) = run.result(IDENTITY);
    assert!(!success);
    assert!(reason.contains("is not signed by"), "{reason}");
}

#[test]
fn akv_key_pins_match_the_signers_key_attribute() {
    let sandbox = Sandbox::new();
    let chain = chain();
    let cases = [
        ("akv.key:https://myvault.vault.azure.net/keys/signer", true),
        (&format!("akv.key:{KEY}") as &str, true),
        (
            "akv.key:https://myvault.vault.azure.net/keys/signer/ffff",
            false,
        ),
        (
            "akv.key:https://othervault.vault.azure.net/keys/signer",
            false,
        ),
    ];
    for (identity, expected) in cases {
        let run = sandbox.verify(
            &Request::new(chain.der_chain())
                .identities(&[identity])
                .capabilities(&[IDENTITY])
                .attribute(KEY_ID_ATTRIBUTE, json!(KEY))
                .json(),
        );
        assert_eq!(run.result(IDENTITY).0, expected, "{identity}");
    }
    // No attribute (a RAW signature): an akv.key pin cannot match.
    let run = sandbox.verify(
        &Request::new(chain.der_chain())
            .identities(&["akv.key:https://myvault.vault.azure.net/keys/signer"])
            .capabilities(&[IDENTITY])
            .json(),
    );
    let (success, reason) = run.result(IDENTITY);
    assert!(!success);
    assert!(
        reason.contains(&format!("no {KEY_ID_ATTRIBUTE} attribute")),
        "{reason}"
    );
}

#[test]
fn any_matching_identity_passes() {
    let sandbox = Sandbox::new();
    let run = sandbox.verify(
        &Request::new(chain().der_chain())
            .identities(&[
                "x509.subject: C=US, ST=WA, O=someone else",
                "akv.key:https://myvault.vault.azure.net/keys/signer",
            ])
            .attribute(KEY_ID_ATTRIBUTE, json!(KEY))
            .capabilities(&[IDENTITY])
            .json(),
    );
    assert!(run.result(IDENTITY).0);
}

#[test]
fn malformed_identities_are_reported_even_next_to_a_match() {
    let sandbox = Sandbox::new();
    let run = sandbox.verify(
        &Request::new(chain().der_chain())
            .identities(&[
                "x509.subject: C=US, ST=WA, O=notation-akv test",
                "x509.sha256:1234",
            ])
            .capabilities(&[IDENTITY])
            .json(),
    );
    let (success, reason) = run.result(IDENTITY);
    assert!(!success);
    assert!(reason.contains("malformed trusted identities"), "{reason}");
    assert!(reason.contains("\"x509.sha256:1234\""), "{reason}");
}

#[test]
fn a_bad_plugin_config_is_a_validation_error() {
    let run = Sandbox::new().verify(
        &Request::new(chain().der_chain())
            .config("ocsp_timeout", "soon")
            .json(),
    );
    let error = run.error();
    assert_eq!(error["errorCode"], "VALIDATION_ERROR");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("--plugin-config: ocsp_timeout"),
        "{error}"
    );
}

#[test]
fn a_bad_environment_or_file_fails_every_check_without_aborting() {
    let mut sandbox = Sandbox::new();
    sandbox.set("NOTATION_AKV_VERIFIER_EXPIRY_HORIZON", "a month");
    let run = sandbox.verify(&Request::new(chain().der_chain()).json());
    for capability in [IDENTITY, REVOCATION] {
        let (success, reason) = run.result(capability);
        assert!(!success);
        assert!(
            reason.contains("NOTATION_AKV_VERIFIER_EXPIRY_HORIZON"),
            "{reason}"
        );
    }

    let mut sandbox = Sandbox::new();
    let file = sandbox.path().join("verifier.json");
    std::fs::write(&file, r#"{"cache": "perhaps"}"#).unwrap();
    sandbox.set("NOTATION_AKV_VERIFIER_CONFIG", file.to_str().unwrap());
    let (success, reason) = sandbox
        .verify(&Request::new(chain().der_chain()).json())
        .result(REVOCATION);
    assert!(!success);
    assert!(reason.contains("verifier.json"), "{reason}");
}

#[test]
fn malformed_requests_exit_1() {
    let sandbox = Sandbox::new();
    let mut not_der = Request::new(vec![b"not a certificate".to_vec()]).json();
    assert_eq!(
        sandbox.verify(&not_der).error()["errorCode"],
        "VALIDATION_ERROR"
    );
    not_der["signature"]["certificateChain"] = json!([]);
    assert_eq!(
        sandbox.verify(&not_der).error()["errorCode"],
        "VALIDATION_ERROR"
    );
    assert_eq!(
        sandbox.run("verify-signature", b"{").error()["errorCode"],
        "VALIDATION_ERROR"
    );
}

fn expiring_chain(days: i64) -> akv_test_pki::Chain {
    let now = OffsetDateTime::now_utc();
    ChainBuilder::new(KeySpec::Ec256)
        .validity(Validity::Explicit {
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(days),
        })
        .build()
        .unwrap()
}

#[test]
fn expiry_inside_the_horizon_fails_revocation_check() {
    let sandbox = Sandbox::new();
    let soon = expiring_chain(10);
    let run = sandbox.verify(
        &Request::new(soon.der_chain())
            .config("expiry_horizon", "30d")
            .json(),
    );
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    assert!(
        reason.contains("inside the expiry horizon of 30d"),
        "{reason}"
    );
    assert!(run.result(IDENTITY).0, "identity is not affected");

    let later = expiring_chain(60);
    let run = sandbox.verify(
        &Request::new(later.der_chain())
            .config("expiry_horizon", "30d")
            .json(),
    );
    assert!(run.result(REVOCATION).0);
}

#[test]
fn expiry_horizon_warn_mode_only_logs() {
    let sandbox = Sandbox::new();
    let log = sandbox.log_path();
    let run = sandbox.verify(
        &Request::new(expiring_chain(10).der_chain())
            .config("expiry_horizon", "30d")
            .config("expiry_horizon_mode", "warn")
            .config("log_file", log.to_str().unwrap())
            .json(),
    );
    assert!(run.result(REVOCATION).0);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("warning: certificate"), "{text}");
    assert!(text.contains("inside the expiry horizon"), "{text}");
}

/// The request notation 1.3.2 really sent to this plugin (captured by the e2e test
/// `verifier_envelope`), replayed byte for byte.
#[test]
fn the_captured_notation_request_is_answered_for_every_capability() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/examples/verify-signature.request.json"
    );
    let raw = std::fs::read(path).expect("spec/examples/verify-signature.request.json");
    let mut sandbox = Sandbox::new();
    // The capture's responder is long gone; fail fast on it.
    sandbox.set("NOTATION_AKV_VERIFIER_OCSP_TIMEOUT", "1s");
    let run = sandbox.run("verify-signature", &raw);
    let response = run.response();
    assert_eq!(response["processedAttributes"], json!([KEY_ID_ATTRIBUTE]));
    assert_eq!(run.result(IDENTITY), (true, String::new()));
    let (success, reason) = run.result(REVOCATION);
    assert!(!success);
    assert!(
        reason.starts_with("revocation status is unknown"),
        "{reason}"
    );
}

#[test]
fn a_malformed_key_id_attribute_fails_identity_even_for_a_wildcard_policy() {
    let run = Sandbox::new().verify(
        &Request::new(chain().der_chain())
            .attribute(KEY_ID_ATTRIBUTE, json!("not a key url"))
            .json(),
    );
    assert_eq!(
        run.response()["processedAttributes"],
        json!([KEY_ID_ATTRIBUTE])
    );
    let (success, reason) = run.result(IDENTITY);
    assert!(!success);
    assert!(reason.contains("key-id attribute is malformed"), "{reason}");
}

#[test]
fn every_key_spec_passes_identity_pins_and_status() {
    let sandbox = Sandbox::new();
    for spec in KeySpec::ALL {
        for chain in [
            ChainBuilder::new(spec).build().unwrap(),
            ChainBuilder::self_signed(spec).build().unwrap(),
        ] {
            let der = chain.der_chain();
            let pins: Vec<String> = der
                .iter()
                .map(|c| {
                    format!(
                        "x509.sha256:{}",
                        notation_akv_x509::Certificate::from_der(c)
                            .unwrap()
                            .sha256_fingerprint()
                    )
                })
                .collect();
            // Each certificate of the chain, pinned alone, is accepted.
            for pin in &pins {
                let run = sandbox.verify(
                    &Request::new(der.clone())
                        .identities(&[pin])
                        .config("expiry_horizon", "30d")
                        .json(),
                );
                assert_eq!(run.result(IDENTITY), (true, String::new()), "{spec} {pin}");
                assert_eq!(run.result(REVOCATION), (true, String::new()), "{spec}");
            }
            let subject = format!("x509.subject: {}", chain.leaf().subject().to_dn_string());
            let run = sandbox.verify(&Request::new(der).identities(&[&subject]).json());
            assert!(run.result(IDENTITY).0, "{spec} {subject}");
        }
    }
}
