//! Shared by the signer end-to-end tests (`signer.rs`, `signer_envelope.rs`,
//! `capture_envelope.rs`): a notation environment whose `akv` plugin reaches the shared test
//! vault, and trusting a vault fixture's root.
#![allow(dead_code)] // each test binary uses a different part

use akv_test_vault::{CredentialKind, shared_with_fixtures};
use notation_akv_e2e::NotationEnv;
use notation_akv_e2e::locate::workspace_binary;

/// The `ca:` trust store the fixture roots go into.
pub const STORE: &str = "akv";

/// Points a signer running in `env` at the shared test vault: its client-secret credential and
/// the switch that accepts the test vault's loopback challenge resource.
pub fn use_test_vault(env: &mut NotationEnv) {
    for (k, v) in shared_with_fixtures()
        .vault
        .credential_env(CredentialKind::ClientSecret)
    {
        env.set_env(k, v);
    }
    env.set_env("NOTATION_AKV_INSECURE_SKIP_CHALLENGE_RESOURCE_CHECK", "1");
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
