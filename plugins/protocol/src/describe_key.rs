//! `describe-key` (RAW signing): which key spec stands behind a key id.

use crate::algorithm::KeySpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyRequest {
    pub contract_version: String,
    /// The `--id` value or the `id` of a key in `signingkeys.json`, exactly as the user wrote it.
    pub key_id: String,
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescribeKeyResponse {
    /// Must equal the request's `keyId` byte for byte.
    pub key_id: String,
    pub key_spec: KeySpec,
}
