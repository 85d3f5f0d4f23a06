//! Requests captured from the real notation 1.3.2 (`spec/examples/`) must parse into our types and
//! validate against our generated schemas; re-serialising them must keep every field notation sent.

use notation_akv_protocol::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec")
}

fn validate_against_schema(schema_file: &str, instance: &serde_json::Value, origin: &Path) {
    let schema_path = spec_dir().join("schemas").join(schema_file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{} violates {schema_file}: {errors:?}",
        origin.display()
    );
}

/// Parses, validates and round-trips one captured request; returns the typed value.
fn check<T: DeserializeOwned + Serialize>(path: &Path, schema_file: &str) -> T {
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    validate_against_schema(schema_file, &raw, path);
    let typed: T = serde_json::from_value(raw.clone())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    // Everything notation sent survives a round trip (null slices may come back as []).
    let back = serde_json::to_value(&typed).unwrap();
    for (key, value) in raw.as_object().unwrap() {
        if !value.is_null() {
            assert!(
                back.get(key).is_some(),
                "{}: field {key} lost",
                path.display()
            );
        }
    }
    typed
}

#[test]
fn captured_requests_parse_and_match_the_schemas() {
    let dir = spec_dir().join("examples");
    let mut seen = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("spec/examples exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let Some(stem) = name.strip_suffix(".request.json") else {
            continue;
        };
        let command = stem.split('.').next().unwrap();
        match command {
            "get-plugin-metadata" => {
                check::<GetMetadataRequest>(&path, "get-plugin-metadata.request.schema.json");
            }
            "describe-key" => {
                let req: DescribeKeyRequest = check(&path, "describe-key.request.schema.json");
                assert_eq!(req.contract_version, CONTRACT_VERSION);
            }
            "generate-signature" => {
                let req: GenerateSignatureRequest =
                    check(&path, "generate-signature.request.schema.json");
                assert_eq!(req.hash_algorithm, req.key_spec.hash(), "{name}");
                assert!(!req.payload.is_empty());
            }
            "generate-envelope" => {
                check::<GenerateEnvelopeRequest>(&path, "generate-envelope.request.schema.json");
            }
            "verify-signature" => {
                let req: VerifySignatureRequest =
                    check(&path, "verify-signature.request.schema.json");
                req.validate().unwrap();
            }
            other => panic!("{name}: unknown command {other}"),
        }
        seen.insert(command.to_owned());
    }
    for required in [
        "get-plugin-metadata",
        "describe-key",
        "generate-signature",
        "generate-envelope",
        "verify-signature",
    ] {
        assert!(
            seen.contains(required),
            "spec/examples has no captured {required} request"
        );
    }
}
