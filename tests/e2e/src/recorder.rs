//! The recording plugin (`notation-recorder`, plugin name `recorder`).
//!
//! It appends every invocation (argv command and the raw stdin bytes) to the file named by
//! `$NOTATION_RECORDER_LOG`, then answers like a real RAW signing plugin using a local key
//! (`$NOTATION_RECORDER_KEY`, PKCS#8 PEM) and certificate chain (`$NOTATION_RECORDER_CERTS`,
//! PEM, leaf first). This captures the requests exactly as the real notation CLI sends them.
//! It deliberately works on `serde_json::Value` rather than the project's protocol types, so the
//! captures are an independent check of those types.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::env::NotationEnv;
use crate::error::{HarnessError, Result};
use crate::local_key::LocalKey;
use crate::locate;

/// The plugin name notation knows the recorder by.
pub const NAME: &str = "recorder";
/// The executable name (`notation-<name>`).
pub const BINARY: &str = "notation-recorder";
/// File the recorder appends captures to (JSON lines).
pub const LOG_ENV: &str = "NOTATION_RECORDER_LOG";
/// PKCS#8 PEM private key used for `generate-signature`.
pub const KEY_ENV: &str = "NOTATION_RECORDER_KEY";
/// PEM certificate chain (leaf first) returned by `generate-signature`.
pub const CERTS_ENV: &str = "NOTATION_RECORDER_CERTS";

/// One plugin invocation as notation made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// The single argv argument (`get-plugin-metadata`, `describe-key`, …).
    pub command: String,
    /// stdin exactly as received (notation sends compact JSON without a trailing newline).
    pub request: String,
}

impl Capture {
    /// The request parsed as JSON.
    pub fn json(&self) -> std::result::Result<Value, serde_json::Error> {
        serde_json::from_str(&self.request)
    }
}

/// A plugin error reply: notation reads it from stderr after a non-zero exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// Contract error code (`VALIDATION_ERROR`, `ERROR`, …).
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl PluginError {
    fn validation(message: impl Into<String>) -> Self {
        PluginError {
            code: "VALIDATION_ERROR",
            message: message.into(),
        }
    }

    /// The JSON error body (`errorCode`, `errorMessage`).
    pub fn to_json(&self) -> String {
        json!({"errorCode": self.code, "errorMessage": self.message}).to_string()
    }
}

/// Where the recorder finds its settings (read from the environment by the binary).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Capture log path.
    pub log: Option<PathBuf>,
    /// Private key path.
    pub key: Option<PathBuf>,
    /// Certificate chain path.
    pub certs: Option<PathBuf>,
}

impl Settings {
    /// Reads `NOTATION_RECORDER_*`.
    pub fn from_env() -> Self {
        Settings {
            log: std::env::var_os(LOG_ENV).map(PathBuf::from),
            key: std::env::var_os(KEY_ENV).map(PathBuf::from),
            certs: std::env::var_os(CERTS_ENV).map(PathBuf::from),
        }
    }
}

/// Appends one capture line to `log`.
pub fn record(log: &Path, capture: &Capture) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(capture).map_err(std::io::Error::other)?;
    line.push(b'\n');
    // One write of a whole line with O_APPEND: concurrent invocations never interleave.
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?
        .write_all(&line)
}

/// Reads every capture recorded in `log`, oldest first.
pub fn read_captures(log: &Path) -> Result<Vec<Capture>> {
    let text = fs::read_to_string(log).map_err(HarnessError::io("read capture log", log))?;
    text.lines()
        .map(|line| {
            serde_json::from_str(line).map_err(|err| HarnessError::UnexpectedOutput {
                command: "notation-recorder".into(),
                reason: format!("bad capture line ({err})"),
                output: line.to_owned(),
            })
        })
        .collect()
}

/// Answers one command: `Ok(stdout JSON)` or the error to put on stderr.
pub fn respond(
    command: &str,
    request: &str,
    settings: &Settings,
) -> std::result::Result<String, PluginError> {
    let request: Value = serde_json::from_str(request)
        .map_err(|err| PluginError::validation(format!("request is not JSON: {err}")))?;
    let reply = match command {
        "get-plugin-metadata" => metadata(),
        "describe-key" => describe_key(&request, settings)?,
        "generate-signature" => generate_signature(&request, settings)?,
        other => {
            return Err(PluginError::validation(format!(
                "unsupported command {other:?}"
            )));
        }
    };
    Ok(reply.to_string())
}

fn metadata() -> Value {
    json!({
        "name": NAME,
        "description": "Records plugin requests from notation and signs with a local key",
        "version": env!("CARGO_PKG_VERSION"),
        "url": "https://github.com/notation-akv/notation-akv/tree/main/tests/e2e",
        "supportedContractVersions": ["1.0"],
        "capabilities": ["SIGNATURE_GENERATOR.RAW"],
    })
}

fn load_key(settings: &Settings) -> std::result::Result<LocalKey, PluginError> {
    let (Some(key), Some(certs)) = (&settings.key, &settings.certs) else {
        return Err(PluginError::validation(format!(
            "recorder has no key: set {KEY_ENV} and {CERTS_ENV}"
        )));
    };
    LocalKey::load(key, certs).map_err(|err| PluginError::validation(err.to_string()))
}

fn string_field<'a>(request: &'a Value, field: &str) -> std::result::Result<&'a str, PluginError> {
    request
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| PluginError::validation(format!("missing string field {field:?}")))
}

fn describe_key(request: &Value, settings: &Settings) -> std::result::Result<Value, PluginError> {
    let key_id = string_field(request, "keyId")?;
    let key = load_key(settings)?;
    Ok(json!({"keyId": key_id, "keySpec": key.spec().as_str()}))
}

fn generate_signature(
    request: &Value,
    settings: &Settings,
) -> std::result::Result<Value, PluginError> {
    let key_id = string_field(request, "keyId")?;
    let key = load_key(settings)?;
    let key_spec = string_field(request, "keySpec")?;
    if key_spec != key.spec().as_str() {
        return Err(PluginError::validation(format!(
            "keySpec {key_spec} does not match the recorder's key ({})",
            key.spec()
        )));
    }
    let payload = STANDARD
        .decode(string_field(request, "payload")?)
        .map_err(|err| PluginError::validation(format!("payload is not base64: {err}")))?;
    let signature = key
        .sign(string_field(request, "hashAlgorithm")?, &payload)
        .map_err(|err| PluginError::validation(err.to_string()))?;
    Ok(json!({
        "keyId": key_id,
        "signature": STANDARD.encode(signature),
        "signingAlgorithm": key.spec().signing_algorithm(),
        "certificateChain": key.chain().iter().map(|der| STANDARD.encode(der)).collect::<Vec<_>>(),
    }))
}

impl NotationEnv {
    /// Installs the built `notation-recorder` with `notation plugin install --file` and points it
    /// at `<env>/recorder.log`; returns the log path.
    pub fn install_recorder(&mut self) -> Result<PathBuf> {
        let log = self.root().join("recorder.log");
        self.set_env(LOG_ENV, &log);
        self.install_plugin(&locate::workspace_binary(BINARY)?)?;
        Ok(log)
    }

    /// Makes the recorder sign with this key and chain from now on.
    pub fn use_recorder_key(&mut self, key: &Path, certs: &Path) {
        self.set_env(KEY_ENV, key);
        self.set_env(CERTS_ENV, certs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_names_the_recorder_as_a_raw_signer() {
        let reply: Value = serde_json::from_str(
            &respond("get-plugin-metadata", "{}", &Settings::default()).unwrap(),
        )
        .unwrap();
        assert_eq!(reply["name"], NAME);
        assert_eq!(reply["capabilities"], json!(["SIGNATURE_GENERATOR.RAW"]));
        assert_eq!(reply["supportedContractVersions"], json!(["1.0"]));
    }

    #[test]
    fn signing_without_a_configured_key_is_a_validation_error() {
        let err = respond("describe-key", r#"{"keyId":"k"}"#, &Settings::default()).unwrap_err();
        assert_eq!(err.code, "VALIDATION_ERROR");
        assert!(err.message.contains(KEY_ENV), "{err:?}");
    }

    #[test]
    fn unknown_commands_and_non_json_requests_are_refused() {
        let settings = Settings::default();
        assert_eq!(
            respond("generate-envelope", "{}", &settings)
                .unwrap_err()
                .code,
            "VALIDATION_ERROR"
        );
        assert_eq!(
            respond("describe-key", "not json", &settings)
                .unwrap_err()
                .code,
            "VALIDATION_ERROR"
        );
    }

    #[test]
    fn captures_round_trip_through_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let first = Capture {
            command: "describe-key".into(),
            request: r#"{"keyId":"a\nb"}"#.into(),
        };
        let second = Capture {
            command: "get-plugin-metadata".into(),
            request: "{}".into(),
        };
        record(&log, &first).unwrap();
        record(&log, &second).unwrap();
        assert_eq!(read_captures(&log).unwrap(), vec![first, second]);
    }
}
