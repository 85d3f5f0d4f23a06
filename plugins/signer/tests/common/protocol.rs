//! The built `notation-akv` driven through the plugin protocol as notation drives it: one
//! isolated plugin environment per test (own HOME, cache and log) pointed at the shared test
//! vault, and the checks notation makes on a signature response.

use akv_test_vault::{RouteKind, run_plugin, shared_with_fixtures};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use notation_akv_protocol::SigningAlgorithm;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// One isolated plugin environment (own HOME, cache and log).
pub struct Plugin {
    pub home: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    /// What runs: the built `notation-akv`, or a wrapper script that ends by exec'ing it.
    pub binary: PathBuf,
}

pub struct Outcome {
    pub code: i32,
    pub stdout: Value,
    pub stderr: Value,
}

impl Plugin {
    pub fn new() -> Plugin {
        let home = tempfile::tempdir().unwrap();
        let mut env = super::vault_env(home.path());
        env.push((
            "NOTATION_AKV_LOG_FILE".into(),
            home.path().join("akv.log").display().to_string(),
        ));
        Plugin::with_env(home, env)
    }

    pub fn with_env(home: tempfile::TempDir, env: Vec<(String, String)>) -> Plugin {
        Plugin {
            home,
            env,
            binary: PathBuf::from(env!("CARGO_BIN_EXE_notation-akv")),
        }
    }

    /// Runs the plugin through `/bin/sh` snippet `setup` first, in a private mount namespace
    /// (`unshare --mount`, root only), so a test can mount filesystems only this run sees.
    pub fn in_mount_namespace(mut self, setup: &str) -> Plugin {
        let script = akv_test_vault::in_mount_namespace(self.home.path(), &self.binary, setup);
        self.binary = script;
        self
    }

    pub fn set(mut self, key: &str, value: &str) -> Plugin {
        super::set_var(&mut self.env, key, value);
        self
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.home.path().join(".cache").join("notation-akv")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.path().join("akv.log")).unwrap_or_default()
    }

    pub fn run(&self, command: &str, request: &Value) -> Outcome {
        let out = run_plugin(
            &self.binary,
            command,
            &self.env,
            request.to_string().as_bytes(),
            Duration::from_secs(60),
        );
        let parse = |b: &[u8]| {
            if b.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(b)
                    .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(b)))
            }
        };
        Outcome {
            code: out.exit_code,
            stdout: parse(&out.stdout),
            stderr: parse(&out.stderr),
        }
    }

    pub fn describe(&self, key_id: &str, config: Value) -> Outcome {
        self.run(
            "describe-key",
            &json!({"contractVersion":"1.0","keyId":key_id,"pluginConfig":config}),
        )
    }

    pub fn sign(
        &self,
        key_id: &str,
        spec: &str,
        hash: &str,
        payload: &[u8],
        config: Value,
    ) -> Outcome {
        self.run(
            "generate-signature",
            &json!({"contractVersion":"1.0","keyId":key_id,"keySpec":spec,"hashAlgorithm":hash,
                    "payload":STANDARD.encode(payload),"pluginConfig":config}),
        )
    }

    pub fn envelope(
        &self,
        key_id: &str,
        envelope_type: &str,
        payload_type: &str,
        payload: &[u8],
        expiry_seconds: u64,
        config: Value,
    ) -> Outcome {
        let mut request = json!({"contractVersion":"1.0","keyId":key_id,"payloadType":payload_type,
            "signatureEnvelopeType":envelope_type,"payload":STANDARD.encode(payload),
            "pluginConfig":config});
        if expiry_seconds > 0 {
            request["expiryDurationInSeconds"] = json!(expiry_seconds);
        }
        self.run("generate-envelope", &request)
    }

    /// describe-key then generate-signature, as notation does; returns the signature response.
    pub fn describe_and_sign(&self, key_id: &str, config: Value) -> Result<Value, Value> {
        let d = self.describe(key_id, config.clone());
        if d.code != 0 {
            return Err(d.stderr);
        }
        assert_eq!(d.stdout["keyId"], key_id, "keyId echoed byte for byte");
        let spec = d.stdout["keySpec"].as_str().unwrap().to_string();
        let hash = hash_of(&spec);
        let s = self.sign(key_id, &spec, hash, PAYLOAD, config);
        if s.code != 0 {
            return Err(s.stderr);
        }
        assert_eq!(s.stdout["keyId"], key_id);
        Ok(s.stdout)
    }
}

pub const PAYLOAD: &[u8] = b"eyJhbGciOiJQUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";

pub fn hash_of(spec: &str) -> &'static str {
    match spec {
        "RSA-2048" | "EC-256" => "SHA-256",
        "RSA-3072" | "EC-384" => "SHA-384",
        _ => "SHA-512",
    }
}

/// Checks the response as notation will: chain parses, signature verifies with the leaf.
pub fn assert_verifies(response: &Value, chain_len: usize) {
    let chain: Vec<Vec<u8>> = response["certificateChain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(chain.len(), chain_len);
    let leaf = notation_akv_x509::Certificate::from_der(&chain[0]).unwrap();
    let algorithm: SigningAlgorithm =
        serde_json::from_value(response["signingAlgorithm"].clone()).unwrap();
    let signature = STANDARD
        .decode(response["signature"].as_str().unwrap())
        .unwrap();
    notation_akv_x509::verify_plugin_signature(leaf.public_key(), algorithm, PAYLOAD, &signature)
        .expect("signature verifies with the leaf");
}

pub fn code(err: &Value) -> &str {
    err["errorCode"].as_str().unwrap_or_default()
}

pub fn message(err: &Value) -> &str {
    err["errorMessage"].as_str().unwrap_or_default()
}

/// Requests the shared vault saw for paths containing `path_part`.
pub fn count(path_part: &str, route: RouteKind, authenticated: bool) -> usize {
    shared_with_fixtures()
        .vault
        .requests()
        .iter()
        .filter(|r| r.route == route && r.path.contains(path_part) && r.bearer == authenticated)
        .count()
}

/// The paths of the authenticated sign requests the shared vault saw for key `name`, in order.
pub fn sign_paths(name: &str) -> Vec<String> {
    let part = format!("/keys/{name}/");
    shared_with_fixtures()
        .vault
        .requests()
        .iter()
        .filter(|r| r.route == RouteKind::Sign && r.bearer && r.path.contains(&part))
        .map(|r| r.path.clone())
        .collect()
}
