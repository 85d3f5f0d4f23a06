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
