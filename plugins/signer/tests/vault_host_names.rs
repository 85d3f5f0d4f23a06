//! The signer against a vault reached under real Azure host names by its own name lookup, with
//! nothing but the standard `AZURE_*` variables and `SSL_CERT_FILE`: not the test proxy the rest
//! of the suite uses (`akv_test_vault::hosts`). Each run gets a private mount namespace whose
//! /etc/hosts maps the vault's and the login host's names to 127.0.0.1; the test vault's TLS
//! certificate names them. The Azure SDK's challenge check (the resource in the 401 must be the
//! vault's domain) runs exactly as in production: it passes for `https://vault.azure.net` and
//! withholds the token when the host answers for anything else.

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::{CertificateOptions, LOGIN_HOST, TestVault, VAULT_HOST, VaultConfig};
use serde_json::json;

mod common;

use common::protocol::{Plugin, assert_verifies, code, message};

fn vault(challenge_resource: &str) -> TestVault {
    TestVault::start_with(VaultConfig {
        challenge_resource: challenge_resource.into(),
        ..VaultConfig::default()
    })
    .unwrap()
}

/// The plugin with only the standard variables, its /etc/hosts naming the vault and login hosts.
fn plugin(vault: &TestVault) -> Plugin {
    let home = tempfile::tempdir().unwrap();
    let hosts = home.path().join("hosts");
    std::fs::write(
        &hosts,
        format!("127.0.0.1 localhost {VAULT_HOST} {LOGIN_HOST}\n"),
    )
    .unwrap();
    let mut env: Vec<(String, String)> = vault
        .credential_env(akv_test_vault::CredentialKind::ClientSecret)
        .into_iter()
        .filter(|(k, _)| !k.ends_with("_PROXY"))
        .collect();
    env.extend([
        ("HOME".to_string(), home.path().display().to_string()),
        (
            "NOTATION_AKV_LOG_FILE".into(),
            home.path().join("akv.log").display().to_string(),
        ),
    ]);
    assert!(
        env.iter().all(|(k, _)| k.starts_with("AZURE_")
            || ["SSL_CERT_FILE", "HOME", "NOTATION_AKV_LOG_FILE"].contains(&k.as_str())),
        "only the standard variables: {env:?}"
    );
    assert_eq!(
        rustix::process::geteuid().as_raw(),
        0,
        "a private mount namespace needs root: run as root (CI does)"
    );
    Plugin::with_env(home, env)
        .in_mount_namespace(&format!("mount --bind {} /etc/hosts", hosts.display()))
}

fn key_id(vault: &TestVault, name: &str) -> String {
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let version = vault
        .add_certificate(name, &chain, CertificateOptions::default())
        .unwrap();
    version.id
}

#[test]
fn signs_under_a_key_vault_host_name_found_in_etc_hosts() {
    let vault = vault("https://vault.azure.net");
    let id = key_id(&vault, "by-name");
    assert!(id.starts_with(&format!("https://{VAULT_HOST}:")), "{id}");
    let plugin = plugin(&vault);
    let response = plugin
        .describe_and_sign(&id, json!({}))
        .unwrap_or_else(|e| panic!("{e}\n{}", plugin.log()));
    assert_verifies(&response, 3);
}

#[test]
fn a_vault_host_answering_for_another_resource_gets_no_token() {
    let vault = vault("https://storage.azure.com");
    let id = key_id(&vault, "impostor");
    let err = plugin(&vault).describe(&id, json!({})).stderr;
    assert_eq!(code(&err), "ACCESS_DENIED", "{err}");
    assert!(message(&err).contains("storage.azure.com"), "{err}");
    assert!(
        !vault
            .requests()
            .iter()
            .any(|r| r.route == akv_test_vault::RouteKind::Token),
        "a token was requested for an impostor"
    );
}
