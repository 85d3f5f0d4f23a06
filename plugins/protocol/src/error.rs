//! The error JSON a plugin writes to stderr with a non-zero exit, and its codes.
//!
//! Every failure in either plugin ends up as a [`PluginError`]; the crates map their own typed
//! errors into it in one place each, so the codes stay consistent with the spec.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The spec's error codes. notation prints only the message; the code reaches its debug log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Malformed or missing request field, unknown key, unsupported input.
    ValidationError,
    /// `contractVersion` is not one this plugin speaks.
    UnsupportedContractVersion,
    /// Authentication or authorisation failed.
    AccessDenied,
    /// A deadline passed.
    Timeout,
    /// The remote service throttled us.
    Throttled,
    /// Anything else. The Go constant is `ErrorCodeGeneric`, but the wire value is `ERROR`.
    #[serde(rename = "ERROR")]
    Generic,
}

impl ErrorCode {
    /// Every code, in the spec's order.
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::ValidationError,
        ErrorCode::UnsupportedContractVersion,
        ErrorCode::AccessDenied,
        ErrorCode::Timeout,
        ErrorCode::Throttled,
        ErrorCode::Generic,
    ];

    /// The wire value (`VALIDATION_ERROR`, …, `ERROR`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::UnsupportedContractVersion => "UNSUPPORTED_CONTRACT_VERSION",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Throttled => "THROTTLED",
            ErrorCode::Generic => "ERROR",
        }
    }

    /// What the code tells the user, and what notation does with it.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => {
                "the input is wrong: the request, the key id, the plugin config, the key or the certificate \
                 material; the message names what to change. Running the same command again fails the same way"
            }
            ErrorCode::UnsupportedContractVersion => {
                "notation speaks a plugin contract other than 1.0; install a plugin release that speaks it"
            }
            ErrorCode::AccessDenied => {
                "authentication or authorisation failed: no credential, the wrong tenant, a missing \
                 permission, a disabled object or a network rule of the vault"
            }
            ErrorCode::Timeout => {
                "a deadline passed before the service answered; notation does not retry"
            }
            ErrorCode::Throttled => {
                "the service still throttled after the plugin's bounded retries; notation does not retry"
            }
            ErrorCode::Generic => {
                "anything else: a service failure, an unusable answer, a failed check after signing, or an \
                 internal error (a bug, reported without a panic trace)"
            }
        }
    }
}

/// `{"errorCode","errorMessage","errorMetadata"}` (the field is `errorMetadata`, not `errorDetails`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginError {
    pub error_code: ErrorCode,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error_message: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_metadata: BTreeMap<String, String>,
}

impl PluginError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PluginError {
            error_code: code,
            error_message: message.into(),
            error_metadata: BTreeMap::new(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    pub fn generic(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Generic, message)
    }

    /// Adds one `errorMetadata` entry (HTTP status, Azure error code, request id, ...).
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.error_metadata.insert(key.into(), value.into());
        self
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.error_code, self.error_message)
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` is complete and `as_str` is the wire value: both are checked against the enum's
    /// own serde and schema derivations, so a new code cannot be left out of the reference.
    #[test]
    fn all_codes_and_their_wire_values() {
        let schema = serde_json::to_value(schemars::schema_for!(ErrorCode)).unwrap();
        let names: Vec<&str> = schema["enum"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(schema["oneOf"].as_array().into_iter().flatten())
            .filter_map(|v| v.as_str().or_else(|| v["const"].as_str()))
            .collect();
        assert_eq!(names, ErrorCode::ALL.map(ErrorCode::as_str), "{schema}");
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
            assert!(!code.meaning().is_empty());
        }
    }
}
