//! `verify-signature`: notation hands a verification plugin the signature's critical attributes,
//! its chain and the matching trust-policy statement, and expects one result per capability asked.

use crate::algorithm::Capability;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignatureRequest {
    pub contract_version: String,
    pub signature: Signature,
    pub trust_policy: TrustPolicy,
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    pub critical_attributes: CriticalAttributes,
    /// Keys of the critical extended attributes notation did not understand; `null` when none.
    #[serde(default, deserialize_with = "crate::b64::null_as_default")]
    pub unprocessed_attributes: Vec<String>,
    /// DER certificates from the envelope, leaf first.
    #[serde(with = "crate::b64::list")]
    #[schemars(with = "Vec<crate::schema::Base64>")]
    pub certificate_chain: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CriticalAttributes {
    pub content_type: String,
    /// `notary.x509` or `notary.x509.signingAuthority`.
    pub signing_scheme: String,
    /// Always sent; Go's zero time `0001-01-01T00:00:00Z` means "no expiry" and reads as `None`.
    #[serde(default, with = "go_time")]
    #[schemars(with = "Option<crate::schema::DateTime>")]
    pub expiry: Option<OffsetDateTime>,
    /// Only for `notary.x509.signingAuthority`.
    #[serde(default, with = "go_time", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<crate::schema::DateTime>")]
    pub authentic_signing_time: Option<OffsetDateTime>,
    /// Critical extended attributes other than the verification-plugin ones; any JSON value.
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub extended_attributes: BTreeMap<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrustPolicy {
    /// Verbatim from the trust policy: `*`, `x509.subject: …`, or any `prefix:value`.
    #[serde(default, deserialize_with = "crate::b64::null_as_default")]
    pub trusted_identities: Vec<String>,
    /// The subset of this plugin's verifier capabilities notation wants run.
    pub signature_verification: Vec<Capability>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifySignatureResponse {
    /// One entry for every capability in `trustPolicy.signatureVerification`.
    pub verification_results: BTreeMap<Capability, VerificationResult>,
    /// Every critical extended attribute this plugin understood; notation fails the signature if
    /// one it passed in `unprocessedAttributes` is missing here.
    pub processed_attributes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationResult {
    pub success: bool,
    /// Required by notation when `success` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl VerificationResult {
    pub fn passed() -> Self {
        VerificationResult {
            success: true,
            reason: None,
        }
    }

    pub fn failed(reason: impl Into<String>) -> Self {
        VerificationResult {
            success: false,
            reason: Some(reason.into()),
        }
    }
}

impl VerifySignatureRequest {
    /// The checks notation's plugin framework applies before a verifier sees the request.
    pub fn validate(&self) -> Result<(), crate::PluginError> {
        let attrs = &self.signature.critical_attributes;
        let missing = if attrs.content_type.is_empty() {
            Some("signature.criticalAttributes.contentType")
        } else if attrs.signing_scheme.is_empty() {
            Some("signature.criticalAttributes.signingScheme")
        } else if self.signature.certificate_chain.is_empty() {
            Some("signature.certificateChain")
        } else if self.trust_policy.signature_verification.is_empty() {
            Some("trustPolicy.signatureVerification")
        } else {
            None
        };
        match missing {
            Some(field) => Err(crate::PluginError::validation(format!(
                "{field} must not be empty"
            ))),
            None => Ok(()),
        }
    }
}

/// Go `time.Time` on the wire: RFC 3339 with any offset; the zero time means "unset".
mod go_time {
    use super::*;
    use serde::de::Error as _;

    const GO_ZERO_YEAR: i32 = 1;
    const GO_ZERO: &str = "0001-01-01T00:00:00Z";

    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => s.serialize_str(&t.format(&Rfc3339).map_err(serde::ser::Error::custom)?),
            None => s.serialize_str(GO_ZERO),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let t = OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|e| D::Error::custom(format!("{text:?} is not an RFC 3339 time: {e}")))?;
        Ok((t.year() != GO_ZERO_YEAR).then_some(t))
    }
}
