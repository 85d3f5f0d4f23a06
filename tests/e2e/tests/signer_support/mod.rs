//! Shared by the signer end-to-end tests (`signer.rs`, `signer_azure_kv.rs`,
//! `signer_envelope.rs`, `capture_envelope.rs`): a notation environment whose `akv` plugin
//! reaches the shared test vault, trusting a vault fixture's root, and [`World`] (that
//! environment plus a registry, signing and verifying through notation).
#![allow(dead_code)] // each test binary uses a different part

use akv_test_vault::{CredentialKind, shared_with_fixtures};
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, trust_policy};

/// The `ca:` trust store the fixture roots go into.
pub const STORE: &str = "akv";

/// Points a signer running in `env` at the shared test vault: its client-secret credential, which
/// reaches the vault under its Key Vault host name.
pub fn use_test_vault(env: &mut NotationEnv) {
    for (k, v) in shared_with_fixtures()
        .vault
        .credential_env(CredentialKind::ClientSecret)
    {
        env.set_env(k, v);
    }
}

/// A fresh notation environment with the built `notation-akv` installed as `akv`, pointed at the
/// test vault and logging to `akv.log` under the environment's root.
pub fn signer_env() -> NotationEnv {
    let mut env = NotationEnv::new().unwrap();
    use_test_vault(&mut env);
    env.set_env("NOTATION_AKV_LOG_FILE", env.root().join("akv.log"));
    env.install_plugin(&workspace_binary("notation-akv").unwrap())
        .unwrap();
    env
}

/// Adds the root of vault fixture `name` (the leaf itself for a self-signed one) to [`STORE`].
pub fn trust_fixture(env: &NotationEnv, name: &str) {
    let chain = &shared_with_fixtures().fixtures.get(name).chain;
    let root = chain.root().unwrap_or_else(|| chain.leaf());
    let file = env
        .write_file(&format!("{name}-root.pem"), root.pem())
        .unwrap();
    env.add_ca_cert(STORE, &file).unwrap();
}

/// The contents of log file `name` under `env`'s root; empty when the plugin wrote none.
pub fn read_log(env: &NotationEnv, name: &str) -> String {
    std::fs::read_to_string(env.root().join(name)).unwrap_or_default()
}

/// `--plugin akv --id <id> --signature-format <format>` and a `--plugin-config` per entry.
pub fn plugin_args(id: &str, format: &str, config: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--plugin".to_string(),
        "akv".into(),
        "--id".into(),
        id.into(),
        "--signature-format".into(),
        format.into(),
    ];
    for c in config {
        args.push("--plugin-config".into());
        args.push(c.to_string());
    }
    args
}

/// A notation environment with `akv` installed, pointed at the test vault with a client secret,
/// and the fixture roots in trust store `ca:akv`.
pub struct World {
    pub env: NotationEnv,
    pub registry: Registry,
}

impl World {
    pub fn new() -> World {
        World {
            env: signer_env(),
            registry: Registry::start().unwrap(),
        }
    }

    /// Trusts the root of fixture `name` (the leaf itself for a self-signed one).
    pub fn trust(&self, name: &str) {
        trust_fixture(&self.env, name);
    }

    pub fn push(&self, tag: &str) -> Artifact {
        self.env
            .push_artifact(&self.registry, "signed", tag, tag.as_bytes())
            .unwrap()
    }

    pub fn sign_args(artifact: &Artifact, id: &str, format: &str, config: &[&str]) -> Vec<String> {
        let mut args = vec!["sign".to_string()];
        args.extend(plugin_args(id, format, config));
        args.push(artifact.by_digest());
        args
    }

    pub fn sign(&self, artifact: &Artifact, id: &str, format: &str, config: &[&str]) {
        let out = self
            .env
            .notation_ok(&Self::sign_args(artifact, id, format, config))
            .unwrap_or_else(|e| panic!("sign {id} ({format}): {e}\nlog:\n{}", self.log()));
        assert!(out.stdout.contains("Successfully signed"), "{out:?}");
    }

    /// Signs expecting failure; returns what notation printed.
    pub fn sign_fails(&self, artifact: &Artifact, id: &str, config: &[&str]) -> String {
        let out = self
            .env
            .notation(&Self::sign_args(artifact, id, "jws", config))
            .unwrap();
        assert!(!out.success(), "signing {id} should fail: {out:?}");
        out.stderr
    }

    pub fn verify(&self, artifact: &Artifact) {
        self.env
            .import_trust_policy(&trust_policy(
                &self.registry.repository("signed"),
                STORE,
                &["*"],
            ))
            .unwrap();
        let out = self
            .env
            .notation_ok(&["verify", &artifact.by_digest()])
            .unwrap_or_else(|e| panic!("verify: {e}"));
        assert!(out.stdout.contains("Successfully verified"), "{out:?}");
    }

    pub fn log(&self) -> String {
        read_log(&self.env, "akv.log")
    }
}
