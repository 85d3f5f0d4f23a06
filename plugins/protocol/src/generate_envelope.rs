//! `generate-envelope` (ENVELOPE signing): the plugin builds the whole JWS or COSE envelope, which
//! is the only way a signature can name a verification plugin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// JWS JSON serialization envelope media type (notation's default format).
pub const ENVELOPE_TYPE_JWS: &str = "application/jose+json";
/// COSE_Sign1 envelope media type (`--signature-format cose`).
pub const ENVELOPE_TYPE_COSE: &str = "application/cose";
/// The Notary payload media type, the only `payloadType` notation sends.
pub const PAYLOAD_TYPE_NOTARY: &str = "application/vnd.cncf.notary.payload.v1+json";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateEnvelopeRequest {
    pub contract_version: String,
    pub key_id: String,
    pub payload_type: String,
    pub signature_envelope_type: String,
    /// The JSON Notary payload `{"targetArtifact":{...}}`.
    #[serde(with = "crate::b64::bytes")]
    #[schemars(with = "crate::schema::Base64")]
    pub payload: Vec<u8>,
    /// Omitted by notation when zero (no `--expiry`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub expiry_duration_in_seconds: u64,
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateEnvelopeResponse {
    #[serde(with = "crate::b64::bytes")]
    #[schemars(with = "crate::schema::Base64")]
    pub signature_envelope: Vec<u8>,
    /// Must equal the request's `signatureEnvelopeType`.
    pub signature_envelope_type: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
