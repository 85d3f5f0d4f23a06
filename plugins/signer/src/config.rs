//! The signer's configuration: azure-kv's keys unchanged, plus ours.
//!
//! The keys are rows of [`SIGNER_KEYS`] (chain source, envelope mode, timestamping) and of the Key
//! Vault crate's [`KEYS`] (credentials, deadline, cache, log), each with its value type, default,
//! example and meaning. Each reads from `--plugin-config key=value` first, then from
//! `NOTATION_AKV_<KEY>`. The same rows print `--help`, list the valid keys of a validation
//! message, and make up docs/reference.md.
//!
//! Without `self_signed` or `ca_certs` the chain comes from the certificate's secret (PEM or
//! PKCS#12), as in azure-kv. An unknown key or a bad value is a `VALIDATION_ERROR` that names the
//! valid keys.

use notation_akv_keyvault::settings::{ConfigReader, KEYS, SettingsError, VaultSettings, origin};
use notation_akv_protocol::reference::ConfigKey;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The keys only the signer reads (the Key Vault crate's [`KEYS`] follow them in `--help`,
/// validation messages and the reference).
pub const SIGNER_KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "self_signed",
        value: "`true` | `false` in any case; empty is `false` (as in azure-kv), other values are refused",
        default: "false",
        example: "true",
        description: "the certificate is self-signed: the chain is the vault certificate alone (certificates/get instead of secrets/get)",
    },
    ConfigKey {
        name: "ca_certs",
        value: "path of a PEM or DER bundle; empty is unset",
        default: "unset: the chain comes from the certificate's secret",
        example: "/etc/notation-akv/ca-bundle.pem",
        description: "the issuing CAs, any order (for a key without a vault certificate, or on a Managed HSM: with the key's certificate too); conflicts with self_signed=true",
    },
    ConfigKey {
        name: "verification_plugin",
        value: "plugin name (letters, digits, `-`, `_`, `.`)",
        default: "unset: RAW mode",
        example: "akv-verifier",
        description: "envelope mode: the plugin builds the JWS/COSE envelope and names this verification plugin in it; notation's --timestamp-url is ignored (use timestamp_url), no blob signing",
    },
    ConfigKey {
        name: "verification_plugin_min_version",
        value: "SemVer `MAJOR.MINOR.PATCH[-pre][+build]`",
        default: "unset",
        example: "0.1.0",
        description: "with verification_plugin: the lowest plugin version allowed to verify",
    },
    ConfigKey {
        name: "timestamp_url",
        value: "http or https URL",
        default: "unset: no timestamp",
        example: "http://timestamp.digicert.com",
        description: "with verification_plugin: RFC 3161 timestamp authority; each signature gets a checked timestamp, like notation's --timestamp-url in RAW mode",
    },
    ConfigKey {
        name: "timestamp_root_cert",
        value: "path of a PEM (or DER) file",
        default: "unset",
        example: "/etc/notation-akv/tsa-root.pem",
        description: "with timestamp_url: the TSA's root certificate the token must chain to (like --timestamp-root-cert)",
    },
];

/// Every key the signer reads, its own first.
pub fn all_keys() -> impl Iterator<Item = &'static ConfigKey> {
    SIGNER_KEYS.iter().chain(KEYS.iter())
}

/// Envelope-mode timestamping: the TSA and the file of its root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamping {
    pub url: notation_akv_timestamp::Url,
    /// Read when signing, so that a bad file fails before the vault is asked.
    pub root_cert: PathBuf,
}

/// The verification plugin an envelope-mode signature names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationPlugin {
    pub name: String,
    pub min_version: Option<String>,
}

/// Where the certificate chain comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainSource {
    /// The certificate's secret (full chain), like azure-kv's default.
    Secret,
    /// The vault certificate (or, for a key id, the bundle's leaf) plus this bundle.
    CaCerts(PathBuf),
    /// The vault certificate alone.
    SelfSigned,
}

/// Everything a command needs from `pluginConfig` and the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerConfig {
    pub vault: VaultSettings,
    pub chain: ChainSource,
    /// Envelope mode when set; RAW otherwise.
    pub verification_plugin: Option<VerificationPlugin>,
    /// Envelope mode only: timestamp each signature.
    pub timestamp: Option<Timestamping>,
}

/// Every valid key, signer keys first.
pub fn valid_keys() -> Vec<&'static str> {
    all_keys().map(|k| k.name).collect()
}

impl SignerConfig {
    pub fn read(
        config: &BTreeMap<String, String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<SignerConfig, SettingsError> {
        let reader = ConfigReader::new(config, env);
        reader.reject_unknown(&valid_keys())?;
        let chain = match read_azure_kv_chain_keys(&reader)? {
            (true, Some(_)) => {
                return Err(SettingsError(
                    "self_signed=true and ca_certs are both set; a self-signed certificate has no CA \
                     bundle: remove one of them"
                        .into(),
                ));
            }
            (true, None) => ChainSource::SelfSigned,
            (false, Some(path)) => ChainSource::CaCerts(PathBuf::from(path)),
            (false, None) => ChainSource::Secret,
        };
        let verification_plugin = read_verification_plugin(&reader)?;
        Ok(SignerConfig {
            vault: VaultSettings::read(&reader)?,
            chain,
            timestamp: read_timestamping(&reader, verification_plugin.is_some())?,
            verification_plugin,
        })
    }
}

/// `self_signed` and `ca_certs` as azure-kv reads them: `true` in any case is true, `false` or
/// empty is false; an empty `ca_certs` is unset. A value azure-kv would silently have read as
/// false (`yes`, `1`) is refused instead, with what azure-kv would have done.
fn read_azure_kv_chain_keys(
    reader: &ConfigReader<'_>,
) -> Result<(bool, Option<String>), SettingsError> {
    let self_signed = match reader.raw("self_signed") {
        None => false,
        Some((v, from_env)) => match v.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" | "" => false,
            _ => {
                return Err(SettingsError(format!(
                    "{} is {v:?}; use true or false (azure-kv would have read {v:?} as false and taken \
                     the chain from the certificate's secret)",
                    origin("self_signed", from_env)
                )));
            }
        },
    };
    let ca_certs = reader
        .raw("ca_certs")
        .map(|(v, _)| v)
        .filter(|v| !v.trim().is_empty());
    Ok((self_signed, ca_certs))
}

/// Whether `verification_plugin` is set: decides the capability `get-plugin-metadata` advertises.
/// Reads nothing but that key (metadata cannot fail; a bad value is reported by
/// `generate-envelope`).
pub fn envelope_mode(
    config: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> bool {
    ConfigReader::new(config, env)
        .raw("verification_plugin")
        .is_some()
}

fn read_verification_plugin(
    reader: &ConfigReader<'_>,
) -> Result<Option<VerificationPlugin>, SettingsError> {
    let name = reader.string("verification_plugin")?;
    let min_version = reader.string("verification_plugin_min_version")?;
    let Some(name) = name else {
        return match min_version {
            Some(_) => Err(SettingsError(
                "verification_plugin_min_version is set without verification_plugin; set both \
                 (e.g. verification_plugin=akv-verifier) or neither"
                    .into(),
            )),
            None => Ok(None),
        };
    };
    // notation looks the plugin up as plugins/<name>/notation-<name>.
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || name.starts_with('.')
    {
        return Err(SettingsError(format!(
            "verification_plugin {name:?} is not a plugin name (letters, digits, '-', '_', '.'), e.g. akv-verifier"
        )));
    }
    if let Some(version) = &min_version
        && !is_semver(version)
    {
        return Err(SettingsError(format!(
            "verification_plugin_min_version {version:?} is not SemVer (MAJOR.MINOR.PATCH, e.g. 0.1.0); \
             notation compares it with the plugin's version"
        )));
    }
    Ok(Some(VerificationPlugin { name, min_version }))
}

fn read_timestamping(
    reader: &ConfigReader<'_>,
    envelope_mode: bool,
) -> Result<Option<Timestamping>, SettingsError> {
    let url = reader.string("timestamp_url")?;
    let root_cert = reader.string("timestamp_root_cert")?;
    if (url.is_some() || root_cert.is_some()) && !envelope_mode {
        return Err(SettingsError(
            "timestamp_url and timestamp_root_cert apply to envelope mode (verification_plugin=akv-verifier); \
             in RAW mode notation timestamps: pass notation sign --timestamp-url and --timestamp-root-cert instead"
                .into(),
        ));
    }
    match (url, root_cert) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(SettingsError(
            "timestamp_url is set without timestamp_root_cert; add timestamp_root_cert=<PEM file of the TSA's root \
             certificate>, as notation's --timestamp-url needs --timestamp-root-cert"
                .into(),
        )),
        (None, Some(_)) => Err(SettingsError(
            "timestamp_root_cert is set without timestamp_url; add timestamp_url=<TSA URL> or remove timestamp_root_cert"
                .into(),
        )),
        (Some(url), Some(root_cert)) => Ok(Some(Timestamping {
            url: notation_akv_timestamp::parse_url(&url).map_err(|e| SettingsError(e.0))?,
            root_cert: PathBuf::from(root_cert),
        })),
    }
}

/// `MAJOR.MINOR.PATCH[-pre][+build]` without a leading `v`, as plugin metadata versions are.
fn is_semver(text: &str) -> bool {
    let core = text.split(['-', '+']).next().unwrap_or_default();
    let rest = &text[core.len()..];
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers.iter().all(|n| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        })
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'))
        && !rest.ends_with(['-', '+', '.'])
}

/// The configuration reference printed by `notation-akv --help`.
pub fn help_text() -> String {
    let mut text = String::from(
        "Usage with notation:\n  notation sign <ref> --plugin akv --id https://<vault>.vault.azure.net/certificates/<name>[/<version>] \\\n      [--plugin-config key=value]...\n  (a /keys/<name>[/<version>] id, e.g. `az keyvault certificate show --query kid`, signs with the\n  certificate of the same name and version)\n\nPlugin config keys (environment variable NOTATION_AKV_<KEY> works too; the plugin config wins):\n",
    );
    for key in all_keys() {
        let (name, line) = (key.name, key.help_line());
        // Long keys get their description on the next line, keeping the column.
        if name.len() < 16 {
            text.push_str(&format!("  {name:<16} {line}\n"));
        } else {
            text.push_str(&format!("  {name}\n  {:<16} {line}\n", ""));
        }
    }
    text.push_str(concat!(
        "\nCredentials (credential_type=default tries them in this order):\n",
        "  environment     AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or\n",
        "                  AZURE_CLIENT_CERTIFICATE_PATH (PEM or PKCS#12, + _PASSWORD)\n",
        "  workloadid      AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE\n",
        "  azurepipelines  AZURESUBSCRIPTION_{TENANT_ID,CLIENT_ID,SERVICE_CONNECTION_ID}, SYSTEM_ACCESSTOKEN\n",
        "  managedid       managed identity (client_id picks a user-assigned one)\n",
        "  azurecli        az account get-access-token\n",
    ));
    text.push_str(&crate::permissions::help_text());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<SignerConfig, SettingsError> {
        let config: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SignerConfig::read(&config, &|_: &str| None)
    }

    #[test]
    fn azure_kv_keys_choose_the_chain_source() {
        assert_eq!(read(&[]).unwrap().chain, ChainSource::Secret);
        assert_eq!(
            read(&[("self_signed", "true")]).unwrap().chain,
            ChainSource::SelfSigned
        );
        assert_eq!(
            read(&[("self_signed", "false"), ("ca_certs", "/b.pem")])
                .unwrap()
                .chain,
            ChainSource::CaCerts(PathBuf::from("/b.pem"))
        );
        assert!(read(&[("credential_type", "azurecli")]).is_ok());
    }

    #[test]
    fn conflicting_and_unknown_keys_are_rejected() {
        let err = read(&[("self_signed", "true"), ("ca_certs", "/b.pem")])
            .unwrap_err()
            .0;
        assert!(err.contains("remove one of them"), "{err}");
        let err = read(&[("selfsigned", "true")]).unwrap_err().0;
        assert!(err.starts_with("unknown plugin config key(s) selfsigned (did you mean self_signed?); valid keys: self_signed, ca_certs, verification_plugin, verification_plugin_min_version, timestamp_url, timestamp_root_cert, credential_type"), "{err}");
        assert!(err.contains("log_file"), "{err}");
        let err = read(&[("self_signed", "yes please")]).unwrap_err().0;
        assert!(
            err.contains("self_signed") && err.contains("true or false"),
            "{err}"
        );
    }

    #[test]
    fn verification_plugin_switches_envelope_mode() {
        assert_eq!(read(&[]).unwrap().verification_plugin, None);
        assert_eq!(
            read(&[
                ("verification_plugin", "akv-verifier"),
                ("verification_plugin_min_version", "0.1.0-rc.1")
            ])
            .unwrap()
            .verification_plugin,
            Some(VerificationPlugin {
                name: "akv-verifier".into(),
                min_version: Some("0.1.0-rc.1".into())
            })
        );
        for (pairs, why) in [
            (
                &[("verification_plugin_min_version", "0.1.0")][..],
                "without verification_plugin",
            ),
            (&[("verification_plugin", "../x")][..], "not a plugin name"),
            (
                &[
                    ("verification_plugin", "akv-verifier"),
                    ("verification_plugin_min_version", "v1"),
                ][..],
                "not SemVer",
            ),
        ] {
            let err = read(pairs).unwrap_err().0;
            assert!(err.contains(why), "{err}");
        }
        let env =
            |k: &str| (k == "NOTATION_AKV_VERIFICATION_PLUGIN").then(|| "akv-verifier".to_string());
        assert!(envelope_mode(&BTreeMap::new(), &env));
        assert!(!envelope_mode(&BTreeMap::new(), &|_: &str| None));
        for version in ["1.2.3", "0.1.0", "10.0.0+build.5"] {
            assert!(is_semver(version), "{version}");
        }
        for version in ["1.2", "01.2.3", "1.2.3-", "v1.2.3", ""] {
            assert!(!is_semver(version), "{version}");
        }
    }

    #[test]
    fn timestamping_needs_envelope_mode_an_http_url_and_a_root() {
        let envelope = ("verification_plugin", "akv-verifier");
        let config = read(&[
            envelope,
            ("timestamp_url", "http://127.0.0.1:8080/tsr"),
            ("timestamp_root_cert", "/tsa-root.pem"),
        ])
        .unwrap();
        let timestamp = config.timestamp.unwrap();
        assert_eq!(timestamp.url.as_str(), "http://127.0.0.1:8080/tsr");
        assert_eq!(timestamp.root_cert, PathBuf::from("/tsa-root.pem"));
        assert_eq!(read(&[envelope]).unwrap().timestamp, None);
        for (pairs, why) in [
            (
                &[
                    ("timestamp_url", "http://t"),
                    ("timestamp_root_cert", "/r.pem"),
                ][..],
                "pass notation sign --timestamp-url",
            ),
            (
                &[envelope, ("timestamp_url", "http://t")][..],
                "add timestamp_root_cert=",
            ),
            (
                &[envelope, ("timestamp_root_cert", "/r.pem")][..],
                "add timestamp_url=",
            ),
            (
                &[
                    envelope,
                    ("timestamp_url", "ldap://t"),
                    ("timestamp_root_cert", "/r.pem"),
                ][..],
                "must be an http or https URL",
            ),
        ] {
            let err = read(pairs).unwrap_err().0;
            assert!(err.contains(why), "{pairs:?}: {err}");
        }
        let env = |k: &str| match k {
            "NOTATION_AKV_VERIFICATION_PLUGIN" => Some("akv-verifier".to_string()),
            "NOTATION_AKV_TIMESTAMP_URL" => Some("https://tsa.example/".to_string()),
            "NOTATION_AKV_TIMESTAMP_ROOT_CERT" => Some("/r.pem".to_string()),
            _ => None,
        };
        let config = SignerConfig::read(&BTreeMap::new(), &env).unwrap();
        assert_eq!(
            config.timestamp.unwrap().url.as_str(),
            "https://tsa.example/"
        );
    }

    #[test]
    fn help_documents_every_key() {
        let help = help_text();
        for key in valid_keys() {
            assert!(help.contains(key), "{key} missing from --help");
        }
    }
}
