//! Shared by the signer's integration tests (`admin.rs`, `vault.rs`, `key_ids.rs`): the
//! environment that points the built `notation-akv` at the shared test vault, private fixture
//! copies, and ([`protocol`]) the plugin driven through the protocol.
#![allow(dead_code)] // each test binary uses a different part

pub mod admin;
pub mod protocol;

use akv_test_vault::{CertificateOptions, CredentialKind, shared_with_fixtures};
use std::path::Path;

/// The shared test vault's client-secret credential (which reaches the vault under its Key Vault
/// host name) and `home` as HOME (so caches stay per test).
pub fn vault_env(home: &Path) -> Vec<(String, String)> {
    let mut env = shared_with_fixtures()
        .vault
        .credential_env(CredentialKind::ClientSecret);
    env.push(("HOME".into(), home.display().to_string()));
    env
}

/// Sets `key` to `value` in `env`, replacing any earlier value.
pub fn set_var(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
}

/// A private copy of a fixture under a fresh name, so request counts and faults are this test's.
pub fn private_copy(fixture: &str, name: &str) -> String {
    let s = shared_with_fixtures();
    s.vault
        .add_certificate(
            name,
            &s.fixtures.get(fixture).chain,
            CertificateOptions::default(),
        )
        .unwrap()
        .id
}
