//! `generate-signature` (RAW signing): sign bytes notation prepared (the JWS signing input or the
//! COSE `Sig_structure`), hashing them first with `hashAlgorithm`.

use crate::algorithm::{HashAlgorithm, KeySpec, SigningAlgorithm};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureRequest {
    pub contract_version: String,
    pub key_id: String,
    /// Echoes what `describe-key` returned.
    pub key_spec: KeySpec,
    pub hash_algorithm: HashAlgorithm,
    /// The bytes to sign (not a digest), padded standard base64 on the wire.
    #[serde(with = "crate::b64::bytes")]
    #[schemars(with = "crate::schema::Base64")]
    pub payload: Vec<u8>,
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSignatureResponse {
    /// Must equal the request's `keyId` byte for byte.
    pub key_id: String,
    /// ECDSA: fixed-width r‖s; RSASSA-PSS: salt length equal to the hash length.
    #[serde(with = "crate::b64::bytes")]
    #[schemars(with = "crate::schema::Base64")]
    pub signature: Vec<u8>,
    /// notation-go ignores it in RAW mode (the algorithm follows the key spec); set it anyway.
    pub signing_algorithm: SigningAlgorithm,
    /// DER certificates, leaf first, ending at the root.
    #[serde(with = "crate::b64::list")]
    #[schemars(with = "Vec<crate::schema::Base64>")]
    pub certificate_chain: Vec<Vec<u8>>,
}
