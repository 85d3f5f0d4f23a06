//! Settings for vault access, read from the plugin config with environment-variable fallbacks.
//!
//! Every key can come from `--plugin-config key=value` (or the key's stored config) or from the
//! environment variable `NOTATION_AKV_<KEY>` (upper case), which suits pipelines; the plugin
//! config wins. Values are validated here so a typo is a `VALIDATION_ERROR` naming the key, not a
//! surprise later. [`ConfigReader`] is shared with the plugins so their own keys follow the same
//! rules.

use notation_akv_protocol::reference::{ConfigKey, EnvVar};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Prefix of the environment-variable form of every config key.
pub const ENV_PREFIX: &str = "NOTATION_AKV_";

/// The keys this crate reads; they drive `--help`, the valid keys of validation messages and the
/// reference.
pub const KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "credential_type",
        value: "`default` | `environment` | `workloadid` | `managedid` | `azurecli` | `azurepipelines` (any case)",
        default: "default",
        example: "managedid",
        description: "how the plugin gets its Entra token; default tries environment, workloadid, azurepipelines, managedid and azurecli in that order",
    },
    ConfigKey {
        name: "client_id",
        value: "client id (GUID)",
        default: "AZURE_CLIENT_ID",
        example: "00000000-0000-0000-0000-000000000001",
        description: "client id of a user-assigned managed identity or app registration (overrides AZURE_CLIENT_ID)",
    },
    ConfigKey {
        name: "tenant_id",
        value: "tenant id (GUID)",
        default: "AZURE_TENANT_ID",
        example: "00000000-0000-0000-0000-000000000002",
        description: "Entra tenant (overrides AZURE_TENANT_ID)",
    },
    ConfigKey {
        name: "authority_host",
        value: "https URL",
        default: "from the vault host, then AZURE_AUTHORITY_HOST",
        example: "https://login.microsoftonline.us",
        description: "Entra authority, for sovereign clouds",
    },
    ConfigKey {
        name: "timeout",
        value: "duration: `1500ms`, `30s`, `2m`, `1h` or bare seconds, > 0",
        default: "30s",
        example: "2m",
        description: "total deadline of one plugin command",
    },
    ConfigKey {
        name: "cache",
        value: "`true` | `false` (also `1`/`0`, `yes`/`no`)",
        default: "true",
        example: "false",
        description: "keep the public chain, key spec and pinned key version on disk",
    },
    ConfigKey {
        name: "cache_ttl",
        value: "duration; `0` disables the entries of versionless ids",
        default: "60s",
        example: "5m",
        description: "how long a versionless id's cached version is reused (versioned entries never expire)",
    },
    ConfigKey {
        name: "cache_dir",
        value: "path",
        default: "$XDG_CACHE_HOME/notation-akv, else ~/.cache/notation-akv",
        example: "/var/cache/notation-akv",
        description: "cache directory",
    },
    ConfigKey {
        name: "log_file",
        value: "path",
        default: "no log",
        example: "/tmp/notation-akv.log",
        description: "append a request log (method, path, status, duration, x-ms-request-id; no tokens, no secret values) to this file",
    },
];

/// The environment variables this crate reads besides the `NOTATION_AKV_<KEY>` form of [`KEYS`].
pub const ENVIRONMENT: &[EnvVar] = &[
    EnvVar {
        name: "AZURE_TENANT_ID",
        description: "`environment`, `workloadid`: the Entra tenant (`tenant_id` wins)",
    },
    EnvVar {
        name: "AZURE_CLIENT_ID",
        description: "`environment`, `workloadid`: the app's client id; `managedid`: a user-assigned identity (`client_id` wins)",
    },
    EnvVar {
        name: "AZURE_CLIENT_SECRET",
        description: "`environment`: the app's client secret",
    },
    EnvVar {
        name: "AZURE_CLIENT_CERTIFICATE_PATH",
        description: "`environment`, instead of a secret: PEM file with the certificate and its RSA key, or a PKCS#12 file",
    },
    EnvVar {
        name: "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        description: "`environment`: the PKCS#12 file's password",
    },
    EnvVar {
        name: "AZURE_FEDERATED_TOKEN_FILE",
        description: "`workloadid`: the projected service-account token (AKS workload identity, GitHub OIDC)",
    },
    EnvVar {
        name: "AZURE_AUTHORITY_HOST",
        description: "the Entra authority when neither `authority_host` nor the vault host decides it",
    },
    EnvVar {
        name: "AZURESUBSCRIPTION_TENANT_ID",
        description: "`azurepipelines`: the service connection's tenant",
    },
    EnvVar {
        name: "AZURESUBSCRIPTION_CLIENT_ID",
        description: "`azurepipelines`: the service connection's client id",
    },
    EnvVar {
        name: "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
        description: "`azurepipelines`: the service connection",
    },
    EnvVar {
        name: "SYSTEM_ACCESSTOKEN",
        description: "`azurepipelines`: the job's access token (`$(System.AccessToken)`)",
    },
    EnvVar {
        name: "SYSTEM_OIDCREQUESTURI",
        description: "`azurepipelines`: the OIDC token endpoint of the job",
    },
    EnvVar {
        name: "IDENTITY_ENDPOINT",
        description: "`managedid`: App Service or Azure Arc managed identity endpoint (without it: IMDS)",
    },
    EnvVar {
        name: "MSI_ENDPOINT",
        description: "`managedid`: the older App Service managed identity endpoint",
    },
    EnvVar {
        name: "XDG_CACHE_HOME",
        description: "the default `cache_dir` is `$XDG_CACHE_HOME/notation-akv`",
    },
    EnvVar {
        name: "HOME",
        description: "without XDG_CACHE_HOME the default `cache_dir` is `$HOME/.cache/notation-akv`; without either the cache is off",
    },
];

/// A config value was missing, unknown or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// Looks keys up in the plugin config, then in the environment.
pub struct ConfigReader<'a> {
    config: &'a BTreeMap<String, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for ConfigReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigReader")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Where a value came from, for error messages: `plugin config key "k"` or
/// `environment variable NOTATION_AKV_K`.
pub fn origin(key: &str, from_env: bool) -> String {
    if from_env {
        format!("environment variable {}", env_name(key))
    } else {
        format!("plugin config key {key:?}")
    }
}

/// `credential_type` → `NOTATION_AKV_CREDENTIAL_TYPE`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The valid key a mistyped one most likely meant: case and `-`/`_` ignored, then the fewest
/// single-character edits (a swap of neighbours counts as one), at most one per three characters.
///
/// The distance is at least the difference in length, so a candidate further apart than the limit
/// is never compared: the work stays bounded by the valid keys' length, whatever a request holds.
fn closest_key<'v>(key: &str, valid: &[&'v str]) -> Option<&'v str> {
    let normal = |k: &str| k.to_ascii_lowercase().replace('-', "_");
    let key = normal(key);
    let length = key.chars().count();
    let limit = (length / 3).max(1);
    valid
        .iter()
        .map(|v| (normal(v), *v))
        .filter(|(n, _)| n.chars().count().abs_diff(length) <= limit)
        .map(|(n, v)| (edit_distance(&key, &n), v))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

/// The process environment, as [`ConfigReader`] wants it.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl<'a> ConfigReader<'a> {
    pub fn new(
        config: &'a BTreeMap<String, String>,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Self {
        ConfigReader { config, env }
    }

    /// Rejects plugin-config keys outside `valid` (the union of every module's keys), naming them.
    pub fn reject_unknown(&self, valid: &[&str]) -> Result<(), SettingsError> {
        let unknown: Vec<String> = self
            .config
            .keys()
            .map(String::as_str)
            .filter(|k| !valid.contains(k))
            .map(|k| match closest_key(k, valid) {
                Some(suggestion) => format!("{k} (did you mean {suggestion}?)"),
                None => k.to_string(),
            })
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(SettingsError(format!(
            "unknown plugin config key(s) {}; valid keys: {}",
            unknown.join(", "),
            valid.join(", ")
        )))
    }

    /// The raw value and whether it came from the environment. Empty values count as unset.
    pub fn raw(&self, key: &str) -> Option<(String, bool)> {
        if let Some(v) = self.config.get(key) {
            return Some((v.clone(), false));
        }
        (self.env)(&env_name(key))
            .filter(|v| !v.is_empty())
            .map(|v| (v, true))
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, SettingsError> {
        match self.raw(key) {
            None => Ok(None),
            Some((v, from_env)) if v.trim().is_empty() => {
                Err(SettingsError(format!("{} is empty", origin(key, from_env))))
            }
            Some((v, _)) => Ok(Some(v)),
        }
    }

    pub fn bool(&self, key: &str, default: bool) -> Result<bool, SettingsError> {
        match self.raw(key) {
            None => Ok(default),
            Some((v, from_env)) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(SettingsError(format!(
                    "{} is {v:?}; expected true or false",
                    origin(key, from_env)
                ))),
            },
        }
    }

    pub fn duration(&self, key: &str, default: Duration) -> Result<Duration, SettingsError> {
        match self.raw(key) {
            None => Ok(default),
            Some((v, from_env)) => parse_duration(&v).ok_or_else(|| {
                SettingsError(format!(
                    "{} is {v:?}; expected a duration such as 30s, 2m, 1500ms or a number of seconds",
                    origin(key, from_env)
                ))
            }),
        }
    }

    /// One of `choices`, compared case-insensitively.
    pub fn choice(
        &self,
        key: &str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, SettingsError> {
        match self.raw(key) {
            None => Ok(None),
            Some((v, from_env)) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v.trim()))
                .copied()
                .map(Some)
                .ok_or_else(|| {
                    SettingsError(format!(
                        "{} is {v:?}; valid values: {}",
                        origin(key, from_env),
                        choices.join(", ")
                    ))
                }),
        }
    }

    pub fn env(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }
}

/// `30s`, `2m`, `1h`, `1500ms`, or bare seconds (`30`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit.trim() {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

/// How the plugin authenticates (`credential_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialType {
    /// Our ordered chain (see [`crate::credential`]).
    Default,
    /// Client secret (or federated token file) from the `AZURE_*` variables.
    Environment,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
    AzurePipelines,
}

impl CredentialType {
    pub const NAMES: &'static [&'static str] = &[
        "default",
        "environment",
        "workloadid",
        "managedid",
        "azurecli",
        "azurepipelines",
    ];

    fn from_name(name: &str) -> CredentialType {
        match name {
            "environment" => CredentialType::Environment,
            "workloadid" => CredentialType::WorkloadIdentity,
            "managedid" => CredentialType::ManagedIdentity,
            "azurecli" => CredentialType::AzureCli,
            "azurepipelines" => CredentialType::AzurePipelines,
            _ => CredentialType::Default,
        }
    }
}

/// Cache settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheSettings {
    pub enabled: bool,
    /// Lifetime of entries for versionless ids.
    pub versionless_ttl: Duration,
    /// `None`: no usable default directory (no HOME), so the cache is off.
    pub dir: Option<PathBuf>,
}

/// Everything vault access needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultSettings {
    pub credential_type: CredentialType,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub authority_host: Option<String>,
    pub timeout: Duration,
    pub cache: CacheSettings,
    pub log_file: Option<PathBuf>,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60);

impl VaultSettings {
    pub fn read(reader: &ConfigReader<'_>) -> Result<VaultSettings, SettingsError> {
        let credential_type = reader
            .choice("credential_type", CredentialType::NAMES)?
            .map(CredentialType::from_name)
            .unwrap_or(CredentialType::Default);
        let authority_host = reader.string("authority_host")?;
        if let Some(host) = &authority_host {
            let ok = url::Url::parse(host)
                .map(|u| u.scheme() == "https" && u.host_str().is_some())
                .unwrap_or(false);
            if !ok {
                return Err(SettingsError(format!(
                    "authority_host {host:?} is not an https URL such as https://login.microsoftonline.us"
                )));
            }
        }
        let timeout = reader.duration("timeout", DEFAULT_TIMEOUT)?;
        if timeout.is_zero() {
            return Err(SettingsError(
                "timeout must be greater than zero".to_string(),
            ));
        }
        let dir = match reader.string("cache_dir")? {
            Some(dir) => Some(PathBuf::from(dir)),
            None => reader
                .env("XDG_CACHE_HOME")
                .map(|d| PathBuf::from(d).join("notation-akv"))
                .or_else(|| {
                    reader
                        .env("HOME")
                        .map(|h| PathBuf::from(h).join(".cache").join("notation-akv"))
                }),
        };
        Ok(VaultSettings {
            credential_type,
            client_id: reader.string("client_id")?,
            tenant_id: reader.string("tenant_id")?,
            authority_host,
            timeout,
            cache: CacheSettings {
                enabled: reader.bool("cache", true)?,
                versionless_ttl: reader.duration("cache_ttl", DEFAULT_CACHE_TTL)?,
                dir,
            },
            log_file: reader.string("log_file")?.map(PathBuf::from),
        })
    }

    /// The names of [`KEYS`].
    pub fn key_names() -> Vec<&'static str> {
        KEYS.iter().map(|k| k.name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::human_duration;

    fn read(pairs: &[(&str, &str)], env: &[(&str, &str)]) -> Result<VaultSettings, SettingsError> {
        let config: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        VaultSettings::read(&ConfigReader::new(&config, &lookup))
    }

    #[test]
    fn defaults() {
        let s = read(&[], &[("HOME", "/home/u")]).unwrap();
        assert_eq!(s.credential_type, CredentialType::Default);
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert!(s.cache.enabled);
        assert_eq!(s.cache.versionless_ttl, DEFAULT_CACHE_TTL);
        assert_eq!(
            s.cache.dir,
            Some(PathBuf::from("/home/u/.cache/notation-akv"))
        );
        assert_eq!(s.log_file, None);
    }

    #[test]
    fn azure_kv_credential_types_are_accepted() {
        for (name, expected) in [
            ("default", CredentialType::Default),
            ("environment", CredentialType::Environment),
            ("workloadid", CredentialType::WorkloadIdentity),
            ("managedid", CredentialType::ManagedIdentity),
            ("azurecli", CredentialType::AzureCli),
            ("AzureCLI", CredentialType::AzureCli),
        ] {
            let s = read(&[("credential_type", name)], &[]).unwrap();
            assert_eq!(s.credential_type, expected, "{name}");
        }
    }

    #[test]
    fn bad_values_name_the_key_and_the_valid_values() {
        let err = read(&[("credential_type", "magic")], &[]).unwrap_err().0;
        assert!(
            err.contains("plugin config key \"credential_type\""),
            "{err}"
        );
        assert!(
            err.contains("default, environment, workloadid, managedid, azurecli"),
            "{err}"
        );
        let err = read(&[("timeout", "soon")], &[]).unwrap_err().0;
        assert!(err.contains("timeout") && err.contains("30s"), "{err}");
        let err = read(&[("cache", "maybe")], &[]).unwrap_err().0;
        assert!(err.contains("true or false"), "{err}");
        let err = read(&[("authority_host", "http://login")], &[])
            .unwrap_err()
            .0;
        assert!(err.contains("https URL"), "{err}");
        let err = read(&[("timeout", "0s")], &[]).unwrap_err().0;
        assert!(err.contains("greater than zero"), "{err}");
    }

    #[test]
    fn environment_fills_in_and_plugin_config_wins() {
        let env = [
            ("NOTATION_AKV_TIMEOUT", "5s"),
            ("NOTATION_AKV_LOG_FILE", "/tmp/akv.log"),
            ("NOTATION_AKV_CREDENTIAL_TYPE", "managedid"),
        ];
        let s = read(&[("credential_type", "azurecli")], &env).unwrap();
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.log_file, Some(PathBuf::from("/tmp/akv.log")));
        assert_eq!(s.credential_type, CredentialType::AzureCli);
        let err = read(&[], &[("NOTATION_AKV_CACHE", "perhaps")])
            .unwrap_err()
            .0;
        assert!(
            err.contains("environment variable NOTATION_AKV_CACHE"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_named_with_the_valid_ones() {
        let config: BTreeMap<String, String> =
            [("self_sigend".to_string(), "true".to_string())].into();
        let env = |_: &str| None;
        let err = ConfigReader::new(&config, &env)
            .reject_unknown(&["self_signed", "ca_certs"])
            .unwrap_err()
            .0;
        assert_eq!(
            err,
            "unknown plugin config key(s) self_sigend (did you mean self_signed?); valid keys: self_signed, ca_certs"
        );
        let config: BTreeMap<String, String> = [
            ("CA-CERTS".to_string(), "x".to_string()),
            ("colour".to_string(), "x".to_string()),
        ]
        .into();
        let err = ConfigReader::new(&config, &env)
            .reject_unknown(&["self_signed", "ca_certs"])
            .unwrap_err()
            .0;
        assert_eq!(
            err,
            "unknown plugin config key(s) CA-CERTS (did you mean ca_certs?), colour; valid keys: self_signed, ca_certs"
        );
    }

    #[test]
    fn suggestions_need_a_close_key() {
        let valid = [
            "self_signed",
            "ca_certs",
            "credential_type",
            "client_id",
            "timeout",
        ];
        assert_eq!(closest_key("selfsigned", &valid), Some("self_signed"));
        assert_eq!(
            closest_key("credentialtype", &valid),
            Some("credential_type")
        );
        assert_eq!(closest_key("client-id", &valid), Some("client_id"));
        assert_eq!(closest_key("timeuot", &valid), Some("timeout"));
        assert_eq!(closest_key("tenant", &valid), None);
        assert_eq!(closest_key("x", &valid), None);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    /// A request may carry a key as long as the request's size bound; looking for a suggestion
    /// must not run an edit distance of it against every valid key (a full table per pair).
    #[test]
    fn a_huge_unknown_key_is_not_compared() {
        let valid: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        let huge = "x".repeat(200_000);
        let started = std::time::Instant::now();
        assert_eq!(closest_key(&huge, &valid), None);
        let near = format!("{}q", valid[0]);
        assert_eq!(closest_key(&near, &valid), Some(valid[0]));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    fn key(name: &str) -> &'static ConfigKey {
        KEYS.iter().find(|k| k.name == name).unwrap()
    }

    /// The table's defaults are what an empty config reads, and every example is accepted.
    #[test]
    fn the_key_table_matches_the_reader() {
        let s = read(&[], &[("HOME", "/home/u")]).unwrap();
        assert_eq!(key("timeout").default, human_duration(s.timeout));
        assert_eq!(
            key("cache_ttl").default,
            human_duration(s.cache.versionless_ttl)
        );
        assert_eq!(key("cache").default, s.cache.enabled.to_string());
        assert_eq!(
            key("credential_type").default,
            CredentialType::NAMES[0],
            "{:?}",
            s.credential_type
        );
        for name in CredentialType::NAMES {
            assert!(
                key("credential_type").value.contains(&format!("`{name}`")),
                "{name}"
            );
        }
        for k in KEYS {
            let parsed = read(&[(k.name, k.example)], &[]);
            assert!(parsed.is_ok(), "{}={}: {parsed:?}", k.name, k.example);
            assert!(!k.description.is_empty() && !k.value.is_empty());
        }
    }

    /// Every variable the crate's code reads is in [`ENVIRONMENT`] (or is a key's form), and every
    /// row there is read somewhere.
    #[test]
    fn the_environment_table_matches_the_code() {
        let sources = [
            include_str!("credential.rs"),
            include_str!("settings.rs"),
            include_str!("client.rs"),
            include_str!("transport.rs"),
            include_str!("preauth.rs"),
            include_str!("cloud.rs"),
        ];
        let mut read = std::collections::BTreeSet::new();
        for source in sources {
            let code = source.split("#[cfg(test)]").next().unwrap();
            for literal in code.split('"').skip(1).step_by(2) {
                let looks_like_var = ["AZURE", "SYSTEM_", "IDENTITY_", "MSI_", "XDG_", "HOME"]
                    .iter()
                    .any(|p| literal.starts_with(p))
                    || literal.starts_with(ENV_PREFIX);
                if looks_like_var
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    read.insert(literal);
                }
            }
        }
        read.remove(ENV_PREFIX);
        let documented: std::collections::BTreeSet<&str> =
            ENVIRONMENT.iter().map(|v| v.name).collect();
        assert_eq!(read, documented);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
    }
}
