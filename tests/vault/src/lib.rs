//! A TLS test vault speaking the Azure Key Vault REST API, with the Entra and managed-identity
//! token endpoints the real `azure_identity` 1.0 credentials call.
//!
//! # Design
//!
//! [`TestVault::start`] binds `127.0.0.1:0` and serves HTTPS (hyper 1 + tokio-rustls) on a
//! background thread with its own tokio runtime: plain `#[test]` functions and `#[tokio::test]`
//! alike can use it; dropping the vault stops it. Clients reach it under Azure host names
//! ([`hosts`]): the vault as `https://notation-akv-test.vault.azure.net:PORT`
//! ([`TestVault::url`]), its token endpoint as `https://login.microsoftonline.com:PORT`
//! ([`TestVault::authority_url`]). One port serves everything:
//!
//! | route | what |
//! |---|---|
//! | `GET /keys/{name}[/{version}]` | key bundle: JWK public key, attributes |
//! | `POST /keys/{name}[/{version}]/sign` | `{"alg","value"}` → `{"kid","value"}`; PS*/ES* (and RS*) with real crypto |
//! | `GET /certificates/{name}[/{version}]` | certificate bundle (`id kid sid x5t cer attributes`, `policy` when versionless) |
//! | `GET /certificates/{name}/versions` | `{"value":[…],"nextLink":null}` |
//! | `POST /certificates/{name}/create` | new version from the body's `policy` (or the current one): `Self` issues a self-signed certificate at once, `Unknown` makes a CSR; 202 with the operation |
//! | `GET /certificates/{name}/pending` | the operation: `inProgress` (with `csr` for `Unknown`) or `completed` (with `target`) |
//! | `POST /certificates/{name}/pending/merge` | `{"x5c":[…]}`, leaf first; the leaf must hold the pending key; 201 with the bundle |
//! | `PATCH /certificates/{name}[/{version}]` | `attributes.enabled`, applied to the version's key and secret too |
//! | `GET /certificates/{name}/policy` | the policy of the latest version |
//! | `GET /secrets/{name}[/{version}]` | chain as PEM or base64 PKCS#12, `kid` and `managed: true` for certificates |
//! | `POST /{tenant}/oauth2/v2.0/token` | Entra client credentials: secret, certificate assertion, federated token |
//! | `GET /msi/token` | App Service managed identity (`IDENTITY_ENDPOINT` / `IDENTITY_HEADER`) |
//!
//! Vault routes require `api-version` and a bearer token issued by this vault. Without one they
//! answer 401 with `WWW-Authenticate: Bearer authorization="{authority}/{tenant}", resource="{resource}"`,
//! the challenge the Key Vault SDK clients parse. Errors have AKV's shape
//! `{"error":{"code","message"}}`; every response carries `x-ms-request-id`.
//!
//! **Challenge resource.** The SDK clients check that the vault host ends with `.` + the challenge
//! resource's host (`verify_challenge_resource`, on by default; the plugins cannot turn it off).
//! The resource is [`VaultConfig::challenge_resource`] (default `https://vault.azure.net`), the
//! host [`VaultConfig::host`] (default [`VAULT_HOST`]): they match, as on Azure, so the check
//! runs and passes. A test that sets another resource sees the token withheld.
//!
//! **Trusting the TLS CA.** The server certificate is issued by one test CA per process, written to
//! [`TestVault::ca_file`]. Two ways to make a client trust it (checked in azure_core 1.1 /
//! typespec_client_core 1.1 / reqwest 0.13 sources):
//! - `SSL_CERT_FILE=<ca_file>` in the client's environment: the plugins read their TLS roots
//!   from it (and then *only* from it, as OpenSSL does; `notation_akv_http::roots`). Use this for
//!   plugin child processes ([`TestVault::credential_env`], which also carries the proxy that
//!   resolves the vault's names).
//! - In-process, give the SDK a transport: `ClientOptions { transport:
//!   Some(Transport::new(Arc::new(reqwest_client))), .. }` where the `reqwest::Client` was built
//!   with `add_root_certificate(Certificate::from_pem(vault.ca_pem()))` and
//!   `resolve(name, vault.socket_addr())` for the vault's names, after installing a rustls
//!   provider (reqwest is built without one). Use the same options for credentials. Setting `SSL_CERT_FILE` inside a test process needs `unsafe` `set_var` and races
//!   other tests; don't.
//!
//! **Identity.** Registered clients ([`ClientAuth`]) and managed identities get opaque random
//! tokens; the vault records per token which [`CredentialKind`] and client id obtained it, and
//! rejects unknown, expired ([`TestVault::expire_tokens`]) or wrong-audience tokens with 401.
//! Wrong client secrets get Entra's `invalid_client` / `AADSTS7000215`, unknown clients
//! `unauthorized_client` / `AADSTS700016`. [`VaultConfig::default`] registers
//! [`DEFAULT_CLIENT_ID`] (secret [`DEFAULT_CLIENT_SECRET`]) and [`DEFAULT_WORKLOAD_CLIENT_ID`]
//! (federated token [`DEFAULT_FEDERATED_TOKEN`], also in [`TestVault::federated_token_file`]).
//!
//! **Objects.** Keys are versioned; [`TestVault::add_certificate`] binds certificate `c/v` to key
//! `c/v` and secret `c/v` like AKV. [`TestVault::load_fixtures`] adds the catalogue in
//! [`fixtures::names`]: compliant `ss-<spec>` (self-signed) and `ca-<spec>` (root → intermediate →
//! leaf) for all six key specs; `ca-ec-256-pfx`, `ca-ec-256-pfx-exportable`,
//! `ca-ec-256-pem-exportable`, `ca-ec-256-leaf-only`; and the bad ones `akv-default-policy`,
//! `expired`, `wrong-key`, `rotated` (two versions), `disabled-key`. A certificate's key shows the
//! certificate's `nbf`/`exp`, but the vault signs with it regardless: expiry is the plugins' check.
//!
//! **Sharing.** [`shared_with_fixtures`] gives every test of a process one vault with the
//! fixtures loaded (they take RSA-4096 key generation once). [`run_plugin`] runs a plugin binary
//! as notation does (command argument, request on stdin, cleared environment, deadline).
//!
//! **Faults and log.** [`TestVault::inject`] a [`Fault`] per method + path pattern (optionally
//! `.times(n)`): an error status with optional `Retry-After`, a delay, a truncated body, a
//! dropped connection, or a [`RecordedResponse`] served verbatim (`Respond`, or `Challenge` in
//! place of the vault's own 401 to a request without a valid token). On vault routes the other
//! faults hit only authenticated requests, so the SDK's unauthenticated first probe doesn't use
//! them up. [`TestVault::requests`] and
//! [`TestVault::count`] show what was asked. No token or secret is ever logged.
//!
//! # Example
//!
//! ```
//! use akv_test_vault::{fixtures::names, Fault, FaultAction, RouteKind, TestVault};
//! use akv_test_pki::KeySpec;
//!
//! let vault = TestVault::start()?;
//! let fixtures = vault.load_fixtures()?;
//! let cert = &fixtures.get(&names::ca_issued(KeySpec::Ec256)).version;
//! assert!(cert.kid.starts_with(vault.url()));
//! vault.inject(Fault::on("POST", "/keys/*/*/sign", FaultAction::throttled(1)).times(1));
//! // … point a client at vault.url(), trusting vault.ca_file() …
//! assert_eq!(vault.count(RouteKind::Sign), 0);
//! # Ok::<(), akv_test_vault::VaultError>(())
//! ```

mod crypto;
mod faults;
pub mod fixtures;
pub mod hosts;
mod identity;
mod issuance;
mod log;
pub mod plugin_run;
mod reply;
mod routes;
pub mod secret_scan;
mod server;
mod shared;
mod store;
mod tls;

pub use faults::{Fault, FaultAction, RecordedResponse};
pub use fixtures::{Fixture, Fixtures};
pub use hosts::{LOGIN_HOST, VAULT_HOST};
pub use identity::ClientAuth;
pub use log::{CredentialKind, RequestRecord, RouteKind, TokenOwner};
pub use plugin_run::{
    ChildrenUsage, Measured, PluginRun, children_usage, in_mount_namespace, measure, run_plugin,
};
pub use server::TestVault;
pub use shared::{SharedVault, shared_with_fixtures};
pub use store::{CertificateOptions, CertificateVersion, KeyVersion, SecretFormat};

use akv_test_pki::KeySpec;
use std::time::Duration;

/// Tenant id of [`VaultConfig::default`].
pub const DEFAULT_TENANT_ID: &str = "00000000-0000-4000-8000-00000000a4c5";
/// Client registered with [`DEFAULT_CLIENT_SECRET`] by [`VaultConfig::default`].
pub const DEFAULT_CLIENT_ID: &str = "11111111-0000-4000-8000-00000000a4c5";
pub const DEFAULT_CLIENT_SECRET: &str = "akv-test-client-secret";
/// Client registered with [`DEFAULT_FEDERATED_TOKEN`] by [`VaultConfig::default`].
pub const DEFAULT_WORKLOAD_CLIENT_ID: &str = "22222222-0000-4000-8000-00000000a4c5";
pub const DEFAULT_FEDERATED_TOKEN: &str = "akv-test-federated-token";
/// `IDENTITY_HEADER` value the managed-identity endpoint expects by default.
pub const DEFAULT_MANAGED_IDENTITY_HEADER: &str = "akv-test-identity-header";

/// How a vault is set up.
#[derive(Clone, Debug)]
pub struct VaultConfig {
    pub tenant_id: String,
    /// `resource` in the 401 challenge; tokens must have been issued for it.
    pub challenge_resource: String,
    pub token_ttl: Duration,
    /// Entra clients known from the start (more with [`TestVault::register_client`]).
    pub clients: Vec<(String, ClientAuth)>,
    pub managed_identity_header: String,
    /// User-assigned managed identities accepted as `client_id`; system-assigned always works.
    pub managed_identity_client_ids: Vec<String>,
    /// The vault's host name ([`hosts`]): in its URL, its object ids and its certificate.
    pub host: String,
    /// DNS names added to the server certificate (besides [`VaultConfig::host`],
    /// [`hosts::LOGIN_HOST`], `localhost` and `127.0.0.1`); the proxy resolves them too.
    pub extra_dns_names: Vec<String>,
    /// 0 picks a free port.
    pub port: u16,
    /// The key of the server's TLS certificate (issued by the test CA, an EC-256 key).
    pub tls_key: KeySpec,
}

impl Default for VaultConfig {
    fn default() -> Self {
        VaultConfig {
            tenant_id: DEFAULT_TENANT_ID.into(),
            challenge_resource: "https://vault.azure.net".into(),
            token_ttl: Duration::from_secs(3600),
            clients: vec![
                (
                    DEFAULT_CLIENT_ID.into(),
                    ClientAuth::Secret(DEFAULT_CLIENT_SECRET.into()),
                ),
                (
                    DEFAULT_WORKLOAD_CLIENT_ID.into(),
                    ClientAuth::FederatedToken(DEFAULT_FEDERATED_TOKEN.into()),
                ),
            ],
            managed_identity_header: DEFAULT_MANAGED_IDENTITY_HEADER.into(),
            managed_identity_client_ids: Vec::new(),
            host: hosts::VAULT_HOST.into(),
            extra_dns_names: Vec::new(),
            port: 0,
            tls_key: KeySpec::Ec256,
        }
    }
}

/// Why the vault could not start or a library call failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error(transparent)]
    Pki(#[from] akv_test_pki::PkiError),
    #[error("not found: {0}")]
    NotFound(String),
}
