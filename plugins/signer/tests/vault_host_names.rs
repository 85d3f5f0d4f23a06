//! The signer against a vault reached under real Azure host names, with nothing but the
//! standard `AZURE_*` variables and `SSL_CERT_FILE`: no test switch. Each run gets a private
//! mount namespace whose /etc/hosts maps `notation-akv-test.vault.azure.net` and
//! `login.microsoftonline.com` to 127.0.0.1, and the test vault's TLS certificate names them.
//! The Azure SDK's challenge check (the resource in the 401 must be the vault's domain)
//! therefore runs exactly as in production: it passes for `https://vault.azure.net` and withholds
//! the token when the host answers for anything else.

use akv_test_pki::{ChainBuilder, KeySpec};
use akv_test_vault::{CertificateOptions, TestVault, VaultConfig};
use serde_json::json;

mod common;

use common::protocol::{Plugin, assert_verifies, code, message};

const VAULT_NAME: &str = "notation-akv-test.vault.azure.net";
const LOGIN: &str = "login.microsoftonline.com";

fn vault(challenge_resource: &str) -> TestVault {
    TestVault::start_with(VaultConfig {
        extra_dns_names: vec![VAULT_NAME.into(), LOGIN.into()],
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
        format!("127.0.0.1 localhost {VAULT_NAME} {LOGIN}\n"),
    )
    .unwrap();
    let port = vault.url().rsplit(':').next().unwrap().to_string();
    let mut env: Vec<(String, String)> = vault
        .credential_env(akv_test_vault::CredentialKind::ClientSecret)
        .into_iter()
        .filter(|(k, _)| k != "AZURE_AUTHORITY_HOST")
        .collect();
    env.extend([
        (
            "AZURE_AUTHORITY_HOST".to_string(),
            format!("https://{LOGIN}:{port}"),
        ),
        ("HOME".into(), home.path().display().to_string()),
        (
            "NOTATION_AKV_LOG_FILE".into(),
            home.path().join("akv.log").display().to_string(),
        ),
    ]);
    assert!(
        !env.iter().any(|(k, _)| k.contains("INSECURE")),
        "no test switch"
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
    version.id.replace("127.0.0.1", VAULT_NAME)
}

#[test]
fn signs_under_a_key_vault_host_name_without_any_test_switch() {
    let vault = vault("https://vault.azure.net");
    let id = key_id(&vault, "by-name");
    assert!(id.starts_with(&format!("https://{VAULT_NAME}:")), "{id}");
    let plugin = plugin(&vault);
    let response = plugin
        .describe_and_sign(&id, json!({}))
        .unwrap_or_else(|e| panic!("{e}\n{}", plugin.log()));
    assert_verifies(&response, 3);
    assert!(
        !plugin.log().contains("INSECURE"),
        "the challenge was checked: {}",
        plugin.log()
    );
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
