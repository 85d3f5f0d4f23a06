//! Verifier settings and where they come from.
//!
//! Ratify, Kyverno and notation-action pass no plugin config, so besides `notation verify
//! --plugin-config` the verifier reads environment variables and a JSON file. For every key the
//! first source that sets it wins:
//!
//! 1. `--plugin-config key=value` (the request's `pluginConfig`);
//! 2. the environment variable `NOTATION_AKV_VERIFIER_<KEY>` (key upper-cased);
//! 3. the config file: `$NOTATION_AKV_VERIFIER_CONFIG`, else `$XDG_CONFIG_HOME/notation-akv/verifier.json`,
//!    else the platform config directory (`~/.config` on Linux). A missing default file is fine; a
//!    missing file named by the variable is an error.
//!
//! Unknown keys and bad values are errors that name the key and the source, never silently
//! ignored: a typo in `ocsp_timout` would otherwise quietly keep the default.

pub mod value;

use notation_akv_protocol::ErrorCode;
use notation_akv_protocol::reference::{ConfigKey, EnvVar, ErrorDoc};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Prefix of the environment variables, one per key.
pub const ENV_PREFIX: &str = "NOTATION_AKV_VERIFIER_";
/// Environment variable naming the config file.
pub const CONFIG_FILE_ENV: &str = "NOTATION_AKV_VERIFIER_CONFIG";

// The engine's own enums, so the two crates cannot disagree on what a setting means.
pub use notation_akv_revocation::{BundleMode, CertIdHash};

/// What a chain certificate expiring inside the horizon does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HorizonMode {
    /// `SIGNATURE_VERIFIER.REVOCATION_CHECK` fails.
    Fail,
    /// Only a line in the log file.
    Warn,
}

/// Every setting, with its default filled in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub ocsp_timeout: Duration,
    pub crl_timeout: Duration,
    pub ocsp_nonce: bool,
    pub ocsp_certid_hash: CertIdHash,
    /// How long an OCSP response without nextUpdate stays usable; `None` refuses them (notation).
    pub ocsp_max_age: Option<Duration>,
    /// Tolerance for responder and CA clocks on thisUpdate/nextUpdate.
    pub clock_skew: Duration,
    /// Extra trust anchors for https responders and CRL servers (a PEM or DER bundle).
    pub tls_ca_file: Option<PathBuf>,
    pub cache: bool,
    pub cache_dir: Option<PathBuf>,
    pub offline_bundle: Option<PathBuf>,
    pub offline_mode: BundleMode,
    /// `None`: no horizon check.
    pub expiry_horizon: Option<Duration>,
    pub expiry_horizon_mode: HorizonMode,
    pub akv_status: bool,
    /// Leaf SHA-256 fingerprint (lowercase hex) → AKV certificate id (URL).
    pub akv_certificates: BTreeMap<String, String>,
    pub akv_timeout: Duration,
    /// Vault-access settings of the Key Vault crate (`credential_type`, …), from the `akv_`-prefixed
    /// keys; validated by that crate when the vault is used.
    pub akv_vault: BTreeMap<String, String>,
    pub log_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ocsp_timeout: Duration::from_secs(5),
            crl_timeout: Duration::from_secs(10),
            ocsp_nonce: false,
            ocsp_certid_hash: CertIdHash::Sha1,
            ocsp_max_age: Some(Duration::from_secs(24 * 3600)),
            clock_skew: Duration::from_secs(5 * 60),
            tls_ca_file: None,
            cache: true,
            cache_dir: None,
            offline_bundle: None,
            offline_mode: BundleMode::Prefer,
            expiry_horizon: None,
            expiry_horizon_mode: HorizonMode::Fail,
            akv_status: false,
            akv_certificates: BTreeMap::new(),
            akv_timeout: Duration::from_secs(10),
            akv_vault: BTreeMap::new(),
            log_file: None,
        }
    }
}

/// The documented keys, in the order `--help` and the reference list them.
pub const KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "ocsp_timeout",
        value: "duration: `500ms`, `5s`, `2m`, `1h30m`, `30d`, > 0",
        default: "5s",
        example: "10s",
        description: "deadline of one OCSP request",
    },
    ConfigKey {
        name: "crl_timeout",
        value: "duration, > 0",
        default: "10s",
        example: "30s",
        description: "deadline of one CRL download",
    },
    ConfigKey {
        name: "ocsp_nonce",
        value: "`true` | `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)",
        default: "false",
        example: "true",
        description: "send an OCSP nonce and require it back",
    },
    ConfigKey {
        name: "ocsp_certid_hash",
        value: "`sha1` | `sha256`",
        default: "sha1",
        example: "sha256",
        description: "hash of the OCSP CertID (sha1 is what every responder supports)",
    },
    ConfigKey {
        name: "ocsp_max_age",
        value: "duration; `0` refuses such responses, as notation does",
        default: "24h",
        example: "12h",
        description: "how long an OCSP response without nextUpdate is accepted after its thisUpdate",
    },
    ConfigKey {
        name: "clock_skew",
        value: "duration",
        default: "5m",
        example: "30s",
        description: "tolerance for responder and CA clocks on thisUpdate/nextUpdate",
    },
    ConfigKey {
        name: "tls_ca_file",
        value: "path of a PEM or DER bundle",
        default: "none: platform roots only",
        example: "/etc/ssl/internal-ca.pem",
        description: "extra CA certificates trusted for https OCSP responders and CRL servers",
    },
    ConfigKey {
        name: "cache",
        value: "`true` | `false`",
        default: "true",
        example: "false",
        description: "keep OCSP responses and CRLs on disk (re-verified when read)",
    },
    ConfigKey {
        name: "cache_dir",
        value: "path",
        default: "$XDG_CACHE_HOME/notation-akv/revocation, else ~/.cache/notation-akv/revocation",
        example: "/var/cache/akv-verifier",
        description: "revocation cache directory",
    },
    ConfigKey {
        name: "offline_bundle",
        value: "path of a directory",
        default: "none",
        example: "/etc/notation-akv/bundle",
        description: "directory of CRLs and OCSP responses (with the manifest.json of `bundle fetch`) consulted before the network",
    },
    ConfigKey {
        name: "offline_mode",
        value: "`prefer` | `only`",
        default: "prefer",
        example: "only",
        description: "prefer: the bundle, then the network fills gaps; only: never the network",
    },
    ConfigKey {
        name: "expiry_horizon",
        value: "duration; `0` is off",
        default: "off",
        example: "30d",
        description: "fail REVOCATION_CHECK when a chain certificate expires within this window",
    },
    ConfigKey {
        name: "expiry_horizon_mode",
        value: "`fail` | `warn`",
        default: "fail",
        example: "warn",
        description: "what a certificate inside the horizon does: fail the check, or only write a log line",
    },
    ConfigKey {
        name: "akv_status",
        value: "`true` | `false`",
        default: "false",
        example: "true",
        description: "treat a disabled, expired or deleted AKV certificate version of the signing certificate as revoked",
    },
    ConfigKey {
        name: "akv_certificates",
        value: "`<leaf sha256>=<AKV certificate id>` entries separated by `;` (an object in the file)",
        default: "none",
        example: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08=https://myvault.vault.azure.net/certificates/signer/0123abcd",
        description: "which AKV certificate a leaf is, for akv_status",
    },
    ConfigKey {
        name: "akv_timeout",
        value: "duration, > 0",
        default: "10s",
        example: "5s",
        description: "deadline of one Azure Key Vault request",
    },
    ConfigKey {
        name: "akv_credential_type",
        value: "as the signer's credential_type",
        default: "NOTATION_AKV_CREDENTIAL_TYPE, else default",
        example: "managedid",
        description: "credential for akv_status",
    },
    ConfigKey {
        name: "akv_client_id",
        value: "as the signer's client_id",
        default: "NOTATION_AKV_CLIENT_ID, else AZURE_CLIENT_ID",
        example: "00000000-0000-0000-0000-000000000001",
        description: "client id for akv_status",
    },
    ConfigKey {
        name: "akv_tenant_id",
        value: "as the signer's tenant_id",
        default: "NOTATION_AKV_TENANT_ID, else AZURE_TENANT_ID",
        example: "00000000-0000-0000-0000-000000000002",
        description: "tenant for akv_status",
    },
    ConfigKey {
        name: "akv_authority_host",
        value: "as the signer's authority_host",
        default: "from the vault host",
        example: "https://login.microsoftonline.us",
        description: "Entra authority for akv_status",
    },
    ConfigKey {
        name: "log_file",
        value: "path",
        default: "no log",
        example: "/tmp/akv-verifier.log",
        description: "append a line per check (and per vault exchange) to this file; nothing secret is written",
    },
];

/// Keys handed to the Key Vault crate with the `akv_` prefix removed.
const VAULT_KEYS: &[&str] = &[
    "akv_credential_type",
    "akv_client_id",
    "akv_tenant_id",
    "akv_authority_host",
];

/// Where a value came from, for error messages and the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    PluginConfig,
    Environment(String),
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::PluginConfig => f.write_str("--plugin-config"),
            Origin::Environment(var) => write!(f, "environment variable {var}"),
            Origin::File(path) => write!(f, "config file {}", path.display()),
        }
    }
}

/// A configuration the verifier refuses to guess about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin}: unknown key {key:?}; known keys: {known}")]
    UnknownKey {
        origin: Origin,
        key: String,
        known: String,
    },
    #[error("{origin}: {key}: {message}")]
    BadValue {
        origin: Origin,
        key: String,
        message: String,
    },
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
}

/// The environment variables the verifier reads besides the `NOTATION_AKV_VERIFIER_<KEY>` form of
/// [`KEYS`] (the `akv_*` keys fall back to the signer's `NOTATION_AKV_*` and `AZURE_*` variables).
pub const ENVIRONMENT: &[EnvVar] = &[
    EnvVar {
        name: CONFIG_FILE_ENV,
        description: "the JSON config file; a missing file named here is an error",
    },
    EnvVar {
        name: "XDG_CONFIG_HOME",
        description: "without NOTATION_AKV_VERIFIER_CONFIG the file is `$XDG_CONFIG_HOME/notation-akv/verifier.json` (else `~/.config`, `~/Library/Application Support` on macOS, `%APPDATA%` on Windows); a missing default file is fine",
    },
    EnvVar {
        name: "XDG_CACHE_HOME",
        description: "the default cache_dir is `$XDG_CACHE_HOME/notation-akv/revocation` (else `~/.cache`, `~/Library/Caches`, `%LOCALAPPDATA%`)",
    },
    EnvVar {
        name: "HOME",
        description: "the base of the default config and cache directories without XDG_*",
    },
    EnvVar {
        name: "APPDATA",
        description: "Windows: the default config directory",
    },
    EnvVar {
        name: "LOCALAPPDATA",
        description: "Windows: the default cache directory",
    },
];

/// A bad `--plugin-config`: the request fails.
pub const BAD_PLUGIN_CONFIG: ErrorDoc = ErrorDoc {
    name: "bad plugin config",
    code: ErrorCode::ValidationError,
    cause: "notation verify --plugin-config names an unknown key or a malformed value (the message names the key and the known keys)",
    fix: "correct the key or value (see the verifier's configuration keys)",
};

/// A bad setting from the environment or the config file: every requested check fails with it
/// as the reason (`success: false`), so the trust policy level decides, instead of an error code
/// that would fail even `audit` verifications.
pub const BAD_SHARED_SETTING: &str = "an unknown key or a bad value in a NOTATION_AKV_VERIFIER_* variable or the config file, or a config file that cannot be read or is not a JSON object of strings, booleans and numbers";

impl ConfigError {
    /// The entry of a mistake in the command line the user just typed; `None` for the
    /// environment or a file that other tools share ([`BAD_SHARED_SETTING`]).
    pub fn doc(&self) -> Option<ErrorDoc> {
        match self {
            ConfigError::UnknownKey { origin, .. } | ConfigError::BadValue { origin, .. } => {
                match origin {
                    Origin::PluginConfig => Some(BAD_PLUGIN_CONFIG),
                    Origin::Environment(_) | Origin::File(_) => None,
                }
            }
            ConfigError::File { .. } => None,
        }
    }

    /// Whether the mistake is in the command line the user just typed.
    pub fn is_from_plugin_config(&self) -> bool {
        self.doc().is_some()
    }
}

/// A snapshot of the process environment (tests pass their own).
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    pub fn from_process() -> Self {
        Environment {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Environment {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The user's configuration directory (XDG on every platform when set).
    pub fn config_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.get("XDG_CONFIG_HOME") {
            return Some(PathBuf::from(dir));
        }
        if cfg!(windows) {
            return self.get("APPDATA").map(PathBuf::from);
        }
        let home = PathBuf::from(self.get("HOME")?);
        Some(if cfg!(target_os = "macos") {
            home.join("Library/Application Support")
        } else {
            home.join(".config")
        })
    }

    /// The user's cache directory (XDG on every platform when set).
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if let Some(dir) = self.get("XDG_CACHE_HOME") {
            return Some(PathBuf::from(dir));
        }
        if cfg!(windows) {
            return self.get("LOCALAPPDATA").map(PathBuf::from);
        }
        let home = PathBuf::from(self.get("HOME")?);
        Some(if cfg!(target_os = "macos") {
            home.join("Library/Caches")
        } else {
            home.join(".cache")
        })
    }

    /// Where the config file is read from, and whether its absence is an error.
    pub fn config_file(&self) -> Option<(PathBuf, bool)> {
        if let Some(path) = self.get(CONFIG_FILE_ENV) {
            return Some((PathBuf::from(path), true));
        }
        self.config_dir()
            .map(|dir| (dir.join("notation-akv").join("verifier.json"), false))
    }

    /// The default revocation cache directory.
    pub fn default_cache_dir(&self) -> Option<PathBuf> {
        self.cache_dir()
            .map(|dir| dir.join("notation-akv").join("revocation"))
    }
}

/// One source of raw values.
#[derive(Clone, Debug)]
struct Layer {
    origin: Origin,
    values: BTreeMap<String, String>,
}

/// Reads all three sources and applies the precedence.
pub fn load(
    plugin_config: &BTreeMap<String, String>,
    env: &Environment,
) -> Result<Settings, ConfigError> {
    let mut layers = vec![Layer {
        origin: Origin::PluginConfig,
        values: plugin_config.clone(),
    }];
    layers.extend(env_layers(env));
    if let Some((path, required)) = env.config_file()
        && let Some(layer) = file_layer(&path, required)?
    {
        layers.push(layer);
    }
    let mut settings = Settings::default();
    // Lowest precedence first, so later layers overwrite earlier ones.
    for layer in layers.iter().rev() {
        for (key, raw) in &layer.values {
            apply(&mut settings, key, raw, &layer.origin)?;
        }
    }
    if settings.cache && settings.cache_dir.is_none() {
        settings.cache_dir = env.default_cache_dir();
    }
    Ok(settings)
}

/// One layer per variable, so errors name the exact variable.
fn env_layers(env: &Environment) -> Vec<Layer> {
    env.vars
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix(ENV_PREFIX)?;
            // The file-path variable is not a setting.
            if name == CONFIG_FILE_ENV || value.is_empty() {
                return None;
            }
            Some(Layer {
                origin: Origin::Environment(name.clone()),
                values: BTreeMap::from([(key.to_ascii_lowercase(), value.clone())]),
            })
        })
        .collect()
}

fn file_layer(path: &Path, required: bool) -> Result<Option<Layer>, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.to_path_buf(),
        message,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(None),
        Err(e) => return Err(file_error(format!("cannot be read: {e}"))),
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| file_error(format!("is not valid JSON: {e}")))?;
    let Some(object) = json.as_object() else {
        return Err(file_error("must hold a JSON object of settings".into()));
    };
    let mut values = BTreeMap::new();
    for (key, value) in object {
        let raw = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            // The mapping reads naturally as an object in a file.
            serde_json::Value::Object(map) if key == "akv_certificates" => {
                let mut entries = Vec::new();
                for (thumbprint, id) in map {
                    let Some(id) = id.as_str() else {
                        return Err(file_error(format!(
                            "akv_certificates.{thumbprint} must be a string (an AKV certificate id)"
                        )));
                    };
                    entries.push(format!("{thumbprint}={id}"));
                }
                entries.join(";")
            }
            other => {
                return Err(file_error(format!(
                    "{key} must be a string, a boolean or a number, not {other}"
                )));
            }
        };
        values.insert(key.clone(), raw);
    }
    Ok(Some(Layer {
        origin: Origin::File(path.to_path_buf()),
        values,
    }))
}

fn apply(
    settings: &mut Settings,
    key: &str,
    raw: &str,
    origin: &Origin,
) -> Result<(), ConfigError> {
    let bad = |message: String| ConfigError::BadValue {
        origin: origin.clone(),
        key: key.to_string(),
        message,
    };
    let positive = |text: &str| -> Result<Duration, ConfigError> {
        match value::duration(text).map_err(bad)? {
            Duration::ZERO => Err(bad("must be longer than zero".into())),
            d => Ok(d),
        }
    };
    let path = |text: &str| -> Result<PathBuf, ConfigError> {
        if text.trim().is_empty() {
            Err(bad("must not be empty".into()))
        } else {
            Ok(PathBuf::from(text))
        }
    };
    match key {
        "ocsp_timeout" => settings.ocsp_timeout = positive(raw)?,
        "crl_timeout" => settings.crl_timeout = positive(raw)?,
        "akv_timeout" => settings.akv_timeout = positive(raw)?,
        "ocsp_nonce" => settings.ocsp_nonce = value::boolean(raw).map_err(bad)?,
        "ocsp_certid_hash" => {
            settings.ocsp_certid_hash = value::choice(
                raw,
                &[("sha1", CertIdHash::Sha1), ("sha256", CertIdHash::Sha256)],
            )
            .map_err(bad)?
        }
        "ocsp_max_age" => {
            let age = value::duration(raw).map_err(bad)?;
            settings.ocsp_max_age = (!age.is_zero()).then_some(age);
        }
        "clock_skew" => settings.clock_skew = value::duration(raw).map_err(bad)?,
        "tls_ca_file" => settings.tls_ca_file = Some(path(raw)?),
        "cache" => settings.cache = value::boolean(raw).map_err(bad)?,
        "cache_dir" => settings.cache_dir = Some(path(raw)?),
        "offline_bundle" => settings.offline_bundle = Some(path(raw)?),
        "offline_mode" => {
            settings.offline_mode = value::choice(
                raw,
                &[("prefer", BundleMode::Prefer), ("only", BundleMode::Only)],
            )
            .map_err(bad)?
        }
        "expiry_horizon" => {
            let window = value::duration(raw).map_err(bad)?;
            settings.expiry_horizon = (!window.is_zero()).then_some(window);
        }
        "expiry_horizon_mode" => {
            settings.expiry_horizon_mode = value::choice(
                raw,
                &[("fail", HorizonMode::Fail), ("warn", HorizonMode::Warn)],
            )
            .map_err(bad)?
        }
        "akv_status" => settings.akv_status = value::boolean(raw).map_err(bad)?,
        "akv_certificates" => settings.akv_certificates = mapping(raw).map_err(bad)?,
        "log_file" => settings.log_file = Some(path(raw)?),
        vault_key if VAULT_KEYS.contains(&vault_key) => {
            if raw.trim().is_empty() {
                return Err(bad("must not be empty".into()));
            }
            let name = vault_key.trim_start_matches("akv_");
            settings.akv_vault.insert(name.to_string(), raw.to_string());
        }
        _ => {
            return Err(ConfigError::UnknownKey {
                origin: origin.clone(),
                key: key.to_string(),
                known: KEYS.iter().map(|k| k.name).collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(())
}

/// `<sha256>=<certificate id>;…`. The ids are checked when they are used (by the Key Vault
/// crate's parser), so that there is one parser for them.
fn mapping(raw: &str) -> Result<BTreeMap<String, String>, String> {
    let mut map = BTreeMap::new();
    for entry in raw.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((thumbprint, id)) = entry.split_once('=') else {
            return Err(format!(
                "entry {entry:?} is not <leaf sha256>=<AKV certificate id>"
            ));
        };
        let thumbprint = value::sha256_hex(thumbprint)?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("entry {entry:?} has no certificate id"));
        }
        map.insert(thumbprint, id.to_string());
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
