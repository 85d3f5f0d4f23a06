//! Runs the built `notation-akv-verifier` binary the way notation does: one argument, the request
//! on stdin, in a private environment (config, cache and home in a temp dir).
#![allow(dead_code)] // each test binary uses a different part

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::OcspResponder;

pub const IDENTITY: &str = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY";
pub const REVOCATION: &str = "SIGNATURE_VERIFIER.REVOCATION_CHECK";
pub const KEY_ID_ATTRIBUTE: &str = notation_akv_protocol::attributes::AKV_KEY_ID;

/// What one plugin run produced.
#[derive(Debug)]
pub struct Run {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The response JSON; panics (fails the test) unless the run succeeded.
    pub fn response(&self) -> Value {
        assert_eq!(self.exit_code, 0, "plugin failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).expect("stdout is one JSON value")
    }

    pub fn result(&self, capability: &str) -> (bool, String) {
        let response = self.response();
        let result = &response["verificationResults"][capability];
        assert!(result.is_object(), "no result for {capability}: {response}");
        (
            result["success"].as_bool().expect("success is a bool"),
            result["reason"].as_str().unwrap_or_default().to_string(),
        )
    }

    pub fn error(&self) -> Value {
        assert_eq!(self.exit_code, 1, "expected a failure, got {}", self.stdout);
        assert!(self.stdout.is_empty());
        serde_json::from_str(&self.stderr).expect("stderr is the error JSON")
    }
}

/// A private world for the plugin: HOME, XDG config and cache dirs under one temp dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    /// What runs: the built verifier, or a wrapper that ends by exec'ing it.
    pub binary: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_str().expect("utf-8 temp path").to_string();
        let env = vec![
            ("HOME".to_string(), root.clone()),
            ("XDG_CONFIG_HOME".to_string(), format!("{root}/config")),
            ("XDG_CACHE_HOME".to_string(), format!("{root}/cache")),
        ];
        Sandbox {
            dir,
            env,
            binary: PathBuf::from(env!("CARGO_BIN_EXE_notation-akv-verifier")),
        }
    }

    /// Runs the verifier after `/bin/sh` snippet `setup`, in a private mount namespace (root).
    pub fn in_mount_namespace(&mut self, setup: &str) -> &mut Sandbox {
        self.binary = akv_test_vault::in_mount_namespace(self.dir.path(), &self.binary, setup);
        self
    }

    /// The revocation cache's directory (the default under XDG_CACHE_HOME).
    pub fn revocation_cache(&self) -> PathBuf {
        self.path()
            .join("cache")
            .join("notation-akv")
            .join("revocation")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Sandbox {
        self.env.retain(|(k, _)| k != name);
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    pub fn log_path(&self) -> PathBuf {
        self.path().join("verifier.log")
    }

    /// Runs `notation-akv-verifier <command>` with `stdin`, killing it after a minute.
    pub fn run(&self, command: &str, stdin: &[u8]) -> Run {
        let out = akv_test_vault::run_plugin(
            &self.binary,
            command,
            &self.env,
            stdin,
            Duration::from_secs(60),
        );
        Run {
            exit_code: out.exit_code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: out.elapsed,
        }
    }

    /// Runs an operator command (`bundle …`, `doctor …`) with `args`; the test fails if it
    /// does not finish within a minute.
    pub fn admin(&self, args: &[&str]) -> Run {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_notation-akv-verifier"));
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null());
        let started = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(command.output());
        });
        let out = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("notation-akv-verifier {args:?} ran over a minute"))
            .expect("the verifier runs");
        Run {
            exit_code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    }

    pub fn verify(&self, request: &Value) -> Run {
        self.run(
            "verify-signature",
            &serde_json::to_vec(request).expect("request JSON"),
        )
    }
}

/// A `verify-signature` request shaped as notation 1.3.2 marshals it (Go `json.Marshal` of the
/// framework struct): `expiry` always present, `unprocessedAttributes` null when empty,
/// `extendedAttributes` and `pluginConfig` omitted when empty.
pub struct Request {
    pub chain: Vec<Vec<u8>>,
    pub identities: Vec<String>,
    pub capabilities: Vec<String>,
    pub extended: serde_json::Map<String, Value>,
    pub plugin_config: serde_json::Map<String, Value>,
}

impl Request {
    pub fn new(chain: Vec<Vec<u8>>) -> Request {
        Request {
            chain,
            identities: vec!["*".to_string()],
            capabilities: vec![IDENTITY.to_string(), REVOCATION.to_string()],
            extended: serde_json::Map::new(),
            plugin_config: serde_json::Map::new(),
        }
    }

    pub fn identities(mut self, identities: &[&str]) -> Request {
        self.identities = identities.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn capabilities(mut self, capabilities: &[&str]) -> Request {
        self.capabilities = capabilities.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn attribute(mut self, name: &str, value: Value) -> Request {
        self.extended.insert(name.to_string(), value);
        self
    }

    pub fn config(mut self, key: &str, value: &str) -> Request {
        self.plugin_config
            .insert(key.to_string(), Value::String(value.to_string()));
        self
    }

    pub fn json(&self) -> Value {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut critical = json!({
            "contentType": "application/vnd.cncf.notary.payload.v1+json",
            "signingScheme": "notary.x509",
            "expiry": "0001-01-01T00:00:00Z",
        });
        let unprocessed = if self.extended.is_empty() {
            Value::Null
        } else {
            critical["extendedAttributes"] = Value::Object(self.extended.clone());
            Value::Array(self.extended.keys().cloned().map(Value::String).collect())
        };
        let mut request = json!({
            "contractVersion": "1.0",
            "signature": {
                "criticalAttributes": critical,
                "unprocessedAttributes": unprocessed,
                "certificateChain": self.chain.iter().map(|c| b64.encode(c)).collect::<Vec<_>>(),
            },
            "trustPolicy": {
                "trustedIdentities": self.identities,
                "signatureVerification": self.capabilities,
            },
        });
        if !self.plugin_config.is_empty() {
            request["pluginConfig"] = Value::Object(self.plugin_config.clone());
        }
        request
    }
}

/// Servers on a runtime that outlives each `block_on`, so they answer while the plugin runs.
pub struct World {
    pub runtime: tokio::runtime::Runtime,
}

impl World {
    pub fn new() -> World {
        World {
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    pub fn ocsp(&self) -> OcspResponder {
        self.runtime
            .block_on(OcspResponder::start(&[], None))
            .unwrap()
    }

    pub fn files(&self) -> FileServer {
        self.runtime.block_on(FileServer::start(None)).unwrap()
    }
}
