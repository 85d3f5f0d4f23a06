//! `akv-test-vault`: starts a test vault with the standard fixtures, prints a JSON description of
//! what it serves on stdout (one line), and runs until killed.
//!
//! Usage: `akv-test-vault [--port N] [--resource URL]`

use akv_test_vault::{
    CredentialKind, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_WORKLOAD_CLIENT_ID,
    TestVault, VaultConfig,
};
use serde_json::json;
use std::io::Write;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("akv-test-vault: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = VaultConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => config.port = args.next().ok_or("--port needs a value")?.parse()?,
            "--resource" => {
                config.challenge_resource = args.next().ok_or("--resource needs a value")?
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let vault = TestVault::start_with(config)?;
    let fixtures = vault.load_fixtures()?;
    let certificates: serde_json::Map<String, serde_json::Value> = fixtures
        .certificates
        .iter()
        .map(|(name, f)| {
            let v = &f.version;
            (
                name.clone(),
                json!({"id": v.id, "kid": v.kid, "sid": v.sid, "version": v.version,
                       "keySpec": f.chain.spec().as_str(), "selfSigned": f.chain.is_self_signed()}),
            )
        })
        .collect();
    let env = |kind| -> serde_json::Map<String, serde_json::Value> {
        vault
            .credential_env(kind)
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect()
    };
    let description = json!({
        "url": vault.url(),
        "caFile": vault.ca_file(),
        "tenantId": vault.config().tenant_id,
        "challengeResource": vault.config().challenge_resource,
        "tokenEndpoint": vault.token_endpoint(),
        "managedIdentityEndpoint": vault.managed_identity_endpoint(),
        "clients": {
            "clientSecret": {"clientId": DEFAULT_CLIENT_ID, "secret": DEFAULT_CLIENT_SECRET},
            "workloadIdentity": {"clientId": DEFAULT_WORKLOAD_CLIENT_ID, "tokenFile": vault.federated_token_file()},
        },
        "env": {
            "clientSecret": env(CredentialKind::ClientSecret),
            "workloadIdentity": env(CredentialKind::FederatedToken),
            "managedIdentity": env(CredentialKind::ManagedIdentity),
        },
        "certificates": certificates,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{description}")?;
    out.flush()?;
    drop(out);
    loop {
        std::thread::park();
    }
}
