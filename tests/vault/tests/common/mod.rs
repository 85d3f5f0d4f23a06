//! Official Azure SDK clients pointed at a test vault, trusting its CA through a custom transport.

#![allow(dead_code)] // each test file uses its own subset

use akv_test_vault::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, LOGIN_HOST, TestVault};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
use azure_security_keyvault_certificates::{CertificateClient, CertificateClientOptions};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use std::sync::Arc;
use std::time::Duration;

/// A reqwest client builder that trusts the vault's CA and resolves its names to 127.0.0.1.
///
/// reqwest and the Azure SDK are built without a rustls provider of their own (the plugins
/// install ring's, `notation_akv_http`), so the test process installs one before any client.
pub fn http_builder(vault: &TestVault) -> reqwest::ClientBuilder {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(vault.ca_pem().as_bytes()).expect("CA PEM");
    let mut builder = reqwest::Client::builder().add_root_certificate(ca);
    let config = vault.config();
    for name in [&config.host, &LOGIN_HOST.to_string()]
        .into_iter()
        .chain(&config.extra_dns_names)
    {
        builder = builder.resolve(name, vault.socket_addr());
    }
    builder
}

/// [`http_builder`]'s client, as the SDK transport.
pub fn transport(vault: &TestVault) -> Transport {
    let client = http_builder(vault)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client");
    Transport::new(Arc::new(client))
}

/// Client options for credentials and clients: vault CA trusted, Entra authority = the vault's
/// login host.
pub fn options(vault: &TestVault) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = vault.authority_url();
    ClientOptions {
        transport: Some(transport(vault)),
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        ..Default::default()
    }
}

/// Same, with the SDK's retries off (to see a single fault's effect).
pub fn options_without_retries(vault: &TestVault) -> ClientOptions {
    ClientOptions {
        retry: RetryOptions::none(),
        ..options(vault)
    }
}

pub fn secret_credential(vault: &TestVault) -> Arc<dyn TokenCredential> {
    secret_credential_with(vault, DEFAULT_CLIENT_SECRET)
}

pub fn secret_credential_with(vault: &TestVault, secret: &str) -> Arc<dyn TokenCredential> {
    ClientSecretCredential::new(
        &vault.config().tenant_id,
        DEFAULT_CLIENT_ID.to_string(),
        Secret::new(secret.to_string()),
        Some(ClientSecretCredentialOptions {
            client_options: options(vault),
        }),
    )
    .expect("credential")
}

pub fn key_client_with(
    vault: &TestVault,
    credential: Arc<dyn TokenCredential>,
    client_options: ClientOptions,
) -> KeyClient {
    KeyClient::new(
        vault.url(),
        credential,
        Some(KeyClientOptions {
            client_options,
            ..Default::default()
        }),
    )
    .expect("key client")
}

pub fn key_client(vault: &TestVault) -> KeyClient {
    key_client_with(vault, secret_credential(vault), options(vault))
}

pub fn certificate_client_with(
    vault: &TestVault,
    client_options: ClientOptions,
) -> CertificateClient {
    CertificateClient::new(
        vault.url(),
        secret_credential(vault),
        Some(CertificateClientOptions {
            client_options,
            ..Default::default()
        }),
    )
    .expect("certificate client")
}

pub fn certificate_client(vault: &TestVault) -> CertificateClient {
    certificate_client_with(vault, options(vault))
}

pub fn secret_client(vault: &TestVault) -> SecretClient {
    SecretClient::new(
        vault.url(),
        secret_credential(vault),
        Some(SecretClientOptions {
            client_options: options(vault),
            ..Default::default()
        }),
    )
    .expect("secret client")
}
