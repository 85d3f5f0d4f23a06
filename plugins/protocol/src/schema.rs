//! JSON Schemas for every request and response, generated from the wire types.
//!
//! `spec/schemas/` holds the generated files; a test fails when they differ from what the code
//! generates. Regenerate with `UPDATE_SCHEMAS=1 cargo test -p notation-akv-protocol --test schemas`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// Schema stand-in for byte fields: padded standard base64 text.
pub(crate) struct Base64;

impl JsonSchema for Base64 {
    fn schema_name() -> Cow<'static, str> {
        "Base64".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "contentEncoding": "base64",
            "pattern": "^[A-Za-z0-9+/]*={0,2}$",
            "description": "RFC 4648 standard base64 with padding"
        })
    }
}

/// Schema stand-in for Go `time.Time`.
pub(crate) struct DateTime;

impl JsonSchema for DateTime {
    fn schema_name() -> Cow<'static, str> {
        "DateTime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 with any UTC offset; 0001-01-01T00:00:00Z means unset"
        })
    }
}

/// `(file name, schema)` for every wire type, in a stable order.
pub fn all() -> Vec<(&'static str, Schema)> {
    use crate::*;
    vec![
        ("error.schema.json", schemars::schema_for!(PluginError)),
        (
            "get-plugin-metadata.request.schema.json",
            schemars::schema_for!(GetMetadataRequest),
        ),
        (
            "get-plugin-metadata.response.schema.json",
            schemars::schema_for!(GetMetadataResponse),
        ),
        (
            "describe-key.request.schema.json",
            schemars::schema_for!(DescribeKeyRequest),
        ),
        (
            "describe-key.response.schema.json",
            schemars::schema_for!(DescribeKeyResponse),
        ),
        (
            "generate-signature.request.schema.json",
            schemars::schema_for!(GenerateSignatureRequest),
        ),
        (
            "generate-signature.response.schema.json",
            schemars::schema_for!(GenerateSignatureResponse),
        ),
        (
            "generate-envelope.request.schema.json",
            schemars::schema_for!(GenerateEnvelopeRequest),
        ),
        (
            "generate-envelope.response.schema.json",
            schemars::schema_for!(GenerateEnvelopeResponse),
        ),
        (
            "verify-signature.request.schema.json",
            schemars::schema_for!(VerifySignatureRequest),
        ),
        (
            "verify-signature.response.schema.json",
            schemars::schema_for!(VerifySignatureResponse),
        ),
    ]
}
