//! Azure clouds, recognised from the vault host.
//!
//! The token scope needs no table: the Key Vault SDK reads it from the vault's 401 challenge
//! (and, with the challenge-resource check on, insists that it matches the vault host). What the
//! host does decide is the default Entra authority for credentials that talk to Entra directly
//! (client secret, workload identity, pipelines); `authority_host` overrides it.

use azure_core::cloud::CloudConfiguration;

/// The cloud a vault lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cloud {
    Public,
    China,
    UsGovernment,
    /// Any other host (private test vaults, future clouds): no default authority.
    Custom,
}

const VAULT_SUFFIXES: &[(&str, Cloud)] = &[
    (".vault.azure.net", Cloud::Public),
    (".managedhsm.azure.net", Cloud::Public),
    (".vault.azure.cn", Cloud::China),
    (".managedhsm.azure.cn", Cloud::China),
    (".vault.usgovcloudapi.net", Cloud::UsGovernment),
    (".managedhsm.usgovcloudapi.net", Cloud::UsGovernment),
];

impl Cloud {
    /// The cloud of a (lower-case) vault host.
    pub fn from_host(host: &str) -> Cloud {
        VAULT_SUFFIXES
            .iter()
            .find(|(suffix, _)| host.ends_with(suffix))
            .map(|(_, cloud)| cloud.clone())
            .unwrap_or(Cloud::Custom)
    }

    /// Managed HSM hosts hold keys only.
    pub fn is_managed_hsm_host(host: &str) -> bool {
        host.contains(".managedhsm.")
    }

    /// The default Entra authority host of this cloud.
    pub fn authority_host(&self) -> Option<&'static str> {
        match self {
            Cloud::Public => Some("https://login.microsoftonline.com"),
            Cloud::China => Some("https://login.chinacloudapi.cn"),
            Cloud::UsGovernment => Some("https://login.microsoftonline.us"),
            Cloud::Custom => None,
        }
    }

    /// The SDK's cloud configuration for an explicit authority host, or this cloud's default.
    /// `None` lets the SDK fall back to `AZURE_AUTHORITY_HOST`, then the public cloud.
    pub fn configuration(&self, authority_host: Option<&str>) -> Option<CloudConfiguration> {
        if let Some(host) = authority_host {
            let mut custom = azure_core::cloud::CustomConfiguration::default();
            custom.authority_host = host.trim_end_matches('/').to_string();
            return Some(CloudConfiguration::Custom(custom));
        }
        match self {
            Cloud::Public => Some(CloudConfiguration::AzurePublic),
            Cloud::China => Some(CloudConfiguration::AzureChina),
            Cloud::UsGovernment => Some(CloudConfiguration::AzureGovernment),
            Cloud::Custom => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_clouds() {
        assert_eq!(Cloud::from_host("a.vault.azure.net"), Cloud::Public);
        assert_eq!(Cloud::from_host("a.vault.azure.cn"), Cloud::China);
        assert_eq!(
            Cloud::from_host("a.vault.usgovcloudapi.net"),
            Cloud::UsGovernment
        );
        assert_eq!(Cloud::from_host("vault.azure.net.evil.com"), Cloud::Custom);
        assert_eq!(Cloud::from_host("127.0.0.1"), Cloud::Custom);
    }

    #[test]
    fn explicit_authority_wins() {
        let config = Cloud::Public
            .configuration(Some("https://login.example/"))
            .unwrap();
        let CloudConfiguration::Custom(custom) = config else {
            panic!("expected a custom cloud")
        };
        assert_eq!(custom.authority_host, "https://login.example");
        assert_eq!(Cloud::Custom.configuration(None), None);
        assert_eq!(
            Cloud::China.configuration(None),
            Some(CloudConfiguration::AzureChina)
        );
    }
}
