//! The Notary payload `{"targetArtifact": <OCI descriptor>}`.
//!
//! notation-go rejects an envelope plugin's output whose payload has anything besides
//! `targetArtifact`, or descriptor members outside the OCI descriptor's, so the signer refuses such
//! a payload before it asks the vault for a signature.

use crate::EnvelopeError;
use serde_json::Value;

/// The descriptor members notation-go allows in `targetArtifact`.
pub const DESCRIPTOR_KEYS: &[&str] = &[
    "mediaType",
    "digest",
    "size",
    "urls",
    "annotations",
    "data",
    "platform",
    "artifactType",
];

fn invalid(what: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Request(format!("the payload is not a Notary payload: {what}"))
}

/// Checks that `payload` is a Notary payload: a JSON object with only `targetArtifact`, a
/// descriptor with a string `mediaType` and `digest`, a non-negative integer `size`, and no other
/// members than an OCI descriptor's.
pub fn check(payload: &[u8]) -> Result<(), EnvelopeError> {
    let value: Value = serde_json::from_slice(payload).map_err(invalid)?;
    let Value::Object(top) = value else {
        return Err(invalid("it is not a JSON object"));
    };
    if let Some(other) = top.keys().find(|k| *k != "targetArtifact") {
        return Err(invalid(format!(
            "it has {other:?}; only \"targetArtifact\" is allowed"
        )));
    }
    let Some(Value::Object(descriptor)) = top.get("targetArtifact") else {
        return Err(invalid("\"targetArtifact\" is missing or not an object"));
    };
    if let Some(other) = descriptor
        .keys()
        .find(|k| !DESCRIPTOR_KEYS.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "targetArtifact has {other:?}; allowed: {}",
            DESCRIPTOR_KEYS.join(", ")
        )));
    }
    for key in ["mediaType", "digest"] {
        if descriptor
            .get(key)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(invalid(format!("targetArtifact.{key} is missing or empty")));
        }
    }
    if !descriptor.get("size").is_some_and(|s| s.is_u64()) {
        return Err(invalid("targetArtifact.size is missing or not a size"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":12,"annotations":{"a":"b"}}}"#;

    #[test]
    fn accepts_a_descriptor_and_rejects_anything_else() {
        check(OK.as_bytes()).unwrap();
        for (bad, why) in [
            ("[]", "not a JSON object"),
            ("{}", "missing"),
            (
                r#"{"targetArtifact":{"mediaType":"m/t","digest":"d","size":1},"extra":1}"#,
                "\"extra\"",
            ),
            (
                r#"{"targetArtifact":{"mediaType":"m/t","digest":"d","size":1,"foo":1}}"#,
                "\"foo\"",
            ),
            (
                r#"{"targetArtifact":{"mediaType":"m/t","size":1}}"#,
                "digest",
            ),
            (
                r#"{"targetArtifact":{"mediaType":"m/t","digest":"d","size":-1}}"#,
                "size",
            ),
            ("not json", "Notary payload"),
        ] {
            let err = check(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
