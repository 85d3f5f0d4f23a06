//! `get-plugin-metadata`: run by notation before every workflow and by `plugin install`/`list`.
//! It must stay static: no network, no disk.

use crate::algorithm::Capability;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only contract version notation speaks.
pub const CONTRACT_VERSION: &str = "1.0";

/// Request. Has no `contractVersion`; `pluginConfig` is present during sign and verify and absent
/// (`{}`) during `plugin install` and `plugin list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetMetadataRequest {
    #[serde(
        default,
        deserialize_with = "crate::b64::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub plugin_config: BTreeMap<String, String>,
}

/// Response. notation rejects it if any field is empty, if `name` is not the executable's suffix,
/// or (on upgrade and for `verificationPluginMinVersion`) if `version` is not bare SemVer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetMetadataResponse {
    pub name: String,
    pub description: String,
    pub version: String,
    pub url: String,
    pub supported_contract_versions: Vec<String>,
    pub capabilities: Vec<Capability>,
}

impl GetMetadataResponse {
    /// Metadata for a contract-1.0 plugin.
    pub fn new(
        name: &str,
        description: &str,
        version: &str,
        url: &str,
        capabilities: Vec<Capability>,
    ) -> Self {
        GetMetadataResponse {
            name: name.to_owned(),
            description: description.to_owned(),
            version: version.to_owned(),
            url: url.to_owned(),
            supported_contract_versions: vec![CONTRACT_VERSION.to_owned()],
            capabilities,
        }
    }
}
