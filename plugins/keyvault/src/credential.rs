//! The credential chain.
//!
//! `azure_identity` 1.0 has neither a `DefaultAzureCredential` nor an `EnvironmentCredential`, so
//! the plugin assembles its own. `credential_type=default` (or unset) tries, in this order, and
//! uses the first that yields a token:
//!
//! 1. **environment**: `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` (a service
//!    principal with a client secret), or `AZURE_CLIENT_CERTIFICATE_PATH` (+ `_PASSWORD`) instead
//!    of the secret (see [`crate::client_certificate`]);
//! 2. **workloadid**: `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_FEDERATED_TOKEN_FILE` (AKS
//!    workload identity, GitHub OIDC);
//! 3. **azurepipelines**: `AZURESUBSCRIPTION_TENANT_ID` + `AZURESUBSCRIPTION_CLIENT_ID` +
//!    `AZURESUBSCRIPTION_SERVICE_CONNECTION_ID` + `SYSTEM_ACCESSTOKEN` (an Azure Pipelines service
//!    connection with workload identity federation);
//! 4. **managedid**: managed identity (App Service/Functions/Arc endpoints from the environment,
//!    else IMDS). In the chain, an IMDS attempt gets at most [`IMDS_PROBE`] so a laptop does not
//!    wait for a metadata service that is not there;
//! 5. **azurecli**: `az account get-access-token`.
//!
//! `client_id` / `tenant_id` from the settings override `AZURE_CLIENT_ID` / `AZURE_TENANT_ID`, and
//! `client_id` selects a user-assigned managed identity. Another `credential_type` uses just that
//! one source. When nothing works, the error lists every source with why it was skipped or how
//! it failed. Tokens live only in memory for the one command; they are never written anywhere.

use crate::client_certificate::CertificateAssertion;
use crate::cloud::Cloud;
use crate::settings::{CredentialType, VaultSettings};
use azure_core::credentials::{AccessToken, Secret, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::ClientOptions;
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, AzurePipelinesCredential,
    AzurePipelinesCredentialOptions, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest wait for IMDS when managed identity is only one option of the default chain.
pub const IMDS_PROBE: Duration = Duration::from_secs(2);

/// One source of the chain: ready to ask, or not configured (with the reason).
#[derive(Debug)]
enum Source {
    Ready {
        name: &'static str,
        credential: Arc<dyn TokenCredential>,
        limit: Option<Duration>,
    },
    Unavailable {
        name: &'static str,
        reason: String,
    },
}

/// Tries its sources in order and sticks with the first that works.
#[derive(Debug)]
pub struct ChainedCredential {
    sources: Vec<Source>,
    winner: Mutex<Option<usize>>,
    /// Why each source before the winner (or every source, when none worked) gave no token.
    attempts: Mutex<Vec<String>>,
}

/// Inputs the chain reads besides the settings (injected for tests).
pub struct CredentialInputs<'a> {
    pub settings: &'a VaultSettings,
    pub cloud: &'a Cloud,
    /// Pipeline options (transport, logging, retries) for credentials that make HTTP calls.
    pub client_options: ClientOptions,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for CredentialInputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialInputs")
            .field("settings", self.settings)
            .finish_non_exhaustive()
    }
}

impl ChainedCredential {
    /// Builds the chain for `settings.credential_type`. Construction never fails: a source that
    /// cannot be built is kept as "unavailable" so the final error can say why.
    pub fn build(inputs: &CredentialInputs<'_>) -> Arc<ChainedCredential> {
        // Before any SDK source exists: one that builds its own HTTP client (given options without
        // a transport) takes rustls' process default, and the SDK brings no provider of its own.
        notation_akv_http::install_crypto_provider();
        let in_chain = inputs.settings.credential_type == CredentialType::Default;
        let sources = match inputs.settings.credential_type {
            CredentialType::Default => vec![
                environment(inputs),
                workload(inputs),
                pipelines(inputs),
                managed(inputs, in_chain),
                cli(inputs),
            ],
            CredentialType::Environment => vec![environment(inputs)],
            CredentialType::WorkloadIdentity => vec![workload(inputs)],
            CredentialType::AzurePipelines => vec![pipelines(inputs)],
            CredentialType::ManagedIdentity => vec![managed(inputs, false)],
            CredentialType::AzureCli => vec![cli(inputs)],
        };
        Arc::new(ChainedCredential::from_sources(sources))
    }

    fn from_sources(sources: Vec<Source>) -> ChainedCredential {
        ChainedCredential {
            sources,
            winner: Mutex::new(None),
            attempts: Mutex::new(Vec::new()),
        }
    }

    /// Why the sources tried before the last token's source (or all of them, when the last
    /// request failed) gave none, in chain order; for `notation-akv doctor`.
    pub fn attempts(&self) -> Vec<String> {
        self.attempts.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// The name of the source that produced the last token, for the log.
    pub fn winner(&self) -> Option<&'static str> {
        let index = (*self.winner.lock().ok()?)?;
        match self.sources.get(index)? {
            Source::Ready { name, .. } => Some(name),
            Source::Unavailable { .. } => None,
        }
    }
}

#[async_trait::async_trait]
impl TokenCredential for ChainedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let remembered = self.winner.lock().ok().and_then(|w| *w);
        let mut report = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            if remembered.is_some_and(|w| w != index) {
                continue;
            }
            match source {
                Source::Unavailable { name, reason } => {
                    report.push(format!("{name}: not configured ({reason})"));
                }
                Source::Ready {
                    name,
                    credential,
                    limit,
                } => {
                    let attempt = credential.get_token(scopes, options.clone());
                    let result = match limit {
                        Some(limit) => match tokio::time::timeout(*limit, attempt).await {
                            Ok(result) => result,
                            Err(_) => {
                                report.push(format!(
                                    "{name}: no answer within {} ms",
                                    limit.as_millis()
                                ));
                                continue;
                            }
                        },
                        None => attempt.await,
                    };
                    match result {
                        Ok(token) => {
                            if let Ok(mut winner) = self.winner.lock() {
                                *winner = Some(index);
                            }
                            // A remembered winner skipped the others: keep the first report.
                            if remembered.is_none()
                                && let Ok(mut attempts) = self.attempts.lock()
                            {
                                *attempts = report;
                            }
                            return Ok(token);
                        }
                        Err(error) => report.push(format!("{name}: {}", first_line(&error))),
                    }
                }
            }
        }
        if let Ok(mut attempts) = self.attempts.lock() {
            attempts.clone_from(&report);
        }
        Err(azure_core::Error::with_message(
            ErrorKind::Credential,
            format!(
                "no credential could get a token for {}; tried in order: {}",
                scopes.join(" "),
                report.join("; ")
            ),
        ))
    }
}

/// The first line of an SDK error, without its troubleshooting footer.
fn first_line(error: &azure_core::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().trim().to_string()
}

fn tenant(inputs: &CredentialInputs<'_>) -> Option<String> {
    inputs
        .settings
        .tenant_id
        .clone()
        .or_else(|| (inputs.env)("AZURE_TENANT_ID"))
        .filter(|v| !v.is_empty())
}

fn client_id(inputs: &CredentialInputs<'_>) -> Option<String> {
    inputs
        .settings
        .client_id
        .clone()
        .or_else(|| (inputs.env)("AZURE_CLIENT_ID"))
        .filter(|v| !v.is_empty())
}

/// The explicit Entra authority: `authority_host`, then `AZURE_AUTHORITY_HOST`.
fn explicit_authority(inputs: &CredentialInputs<'_>) -> Option<String> {
    inputs
        .settings
        .authority_host
        .clone()
        .or_else(|| (inputs.env)("AZURE_AUTHORITY_HOST").filter(|v| !v.is_empty()))
}

/// The Entra authority credentials will call (explicit, else the vault's cloud, else public).
fn authority(inputs: &CredentialInputs<'_>) -> String {
    explicit_authority(inputs)
        .or_else(|| inputs.cloud.authority_host().map(str::to_string))
        .unwrap_or_else(|| "https://login.microsoftonline.com".to_string())
}

/// Client options with the authority host for credentials that call Entra.
fn entra_options(inputs: &CredentialInputs<'_>) -> ClientOptions {
    let mut options = inputs.client_options.clone();
    options.cloud = inputs
        .cloud
        .configuration(explicit_authority(inputs).as_deref())
        .map(Arc::new);
    options
}

fn missing(names: &[(&str, bool)]) -> Option<String> {
    let absent: Vec<&str> = names
        .iter()
        .filter(|(_, present)| !present)
        .map(|(n, _)| *n)
        .collect();
    (!absent.is_empty()).then(|| format!("{} not set", absent.join(", ")))
}

fn environment(inputs: &CredentialInputs<'_>) -> Source {
    const NAME: &str = "environment";
    let tenant = tenant(inputs);
    let client = client_id(inputs);
    let secret = (inputs.env)("AZURE_CLIENT_SECRET").filter(|v| !v.is_empty());
    let certificate = (inputs.env)("AZURE_CLIENT_CERTIFICATE_PATH").filter(|v| !v.is_empty());
    if secret.is_none()
        && let Some(path) = certificate
    {
        return certificate_source(inputs, tenant, client, &path);
    }
    if let Some(reason) = missing(&[
        ("AZURE_TENANT_ID", tenant.is_some()),
        ("AZURE_CLIENT_ID", client.is_some()),
        ("AZURE_CLIENT_SECRET", secret.is_some()),
    ]) {
        return Source::Unavailable { name: NAME, reason };
    }
    let (Some(tenant), Some(client), Some(secret)) = (tenant, client, secret) else {
        return Source::Unavailable {
            name: NAME,
            reason: "incomplete settings".into(),
        };
    };
    ready(
        NAME,
        ClientSecretCredential::new(
            &tenant,
            client,
            Secret::new(secret),
            Some(ClientSecretCredentialOptions {
                client_options: entra_options(inputs),
            }),
        )
        .map(|c| c as Arc<dyn TokenCredential>),
        None,
    )
}

/// The `environment` source with `AZURE_CLIENT_CERTIFICATE_PATH` instead of a secret.
fn certificate_source(
    inputs: &CredentialInputs<'_>,
    tenant: Option<String>,
    client: Option<String>,
    path: &str,
) -> Source {
    const NAME: &str = "environment";
    if let Some(reason) = missing(&[
        ("AZURE_TENANT_ID", tenant.is_some()),
        ("AZURE_CLIENT_ID", client.is_some()),
    ]) {
        return Source::Unavailable { name: NAME, reason };
    }
    let (Some(tenant), Some(client)) = (tenant, client) else {
        return Source::Unavailable {
            name: NAME,
            reason: "incomplete settings".into(),
        };
    };
    let endpoint = match url::Url::parse(&authority(inputs))
        .and_then(|u| u.join(&format!("/{tenant}/oauth2/v2.0/token")))
    {
        Ok(url) => url.to_string(),
        Err(e) => {
            return Source::Unavailable {
                name: NAME,
                reason: format!("bad authority host ({e})"),
            };
        }
    };
    let password = (inputs.env)("AZURE_CLIENT_CERTIFICATE_PASSWORD");
    match CertificateAssertion::load(
        std::path::Path::new(path),
        password.as_deref(),
        &client,
        &endpoint,
    ) {
        Ok(assertion) => ready(
            NAME,
            ClientAssertionCredential::new(
                tenant,
                client,
                assertion,
                Some(ClientAssertionCredentialOptions {
                    client_options: entra_options(inputs),
                }),
            )
            .map(|c| c as Arc<dyn TokenCredential>),
            None,
        ),
        Err(reason) => Source::Unavailable {
            name: NAME,
            reason: format!("AZURE_CLIENT_CERTIFICATE_PATH {reason}"),
        },
    }
}

fn workload(inputs: &CredentialInputs<'_>) -> Source {
    const NAME: &str = "workloadid";
    let tenant = tenant(inputs);
    let client = client_id(inputs);
    let file = (inputs.env)("AZURE_FEDERATED_TOKEN_FILE").filter(|v| !v.is_empty());
    if let Some(reason) = missing(&[
        ("AZURE_TENANT_ID", tenant.is_some()),
        ("AZURE_CLIENT_ID", client.is_some()),
        ("AZURE_FEDERATED_TOKEN_FILE", file.is_some()),
    ]) {
        return Source::Unavailable { name: NAME, reason };
    }
    let options = WorkloadIdentityCredentialOptions {
        credential_options: ClientAssertionCredentialOptions {
            client_options: entra_options(inputs),
        },
        client_id: client,
        tenant_id: tenant,
        token_file_path: file.map(Into::into),
    };
    ready(
        NAME,
        WorkloadIdentityCredential::new(Some(options)).map(|c| c as Arc<dyn TokenCredential>),
        None,
    )
}

fn pipelines(inputs: &CredentialInputs<'_>) -> Source {
    const NAME: &str = "azurepipelines";
    let get = |n: &str| (inputs.env)(n).filter(|v| !v.is_empty());
    let tenant = inputs
        .settings
        .tenant_id
        .clone()
        .or_else(|| get("AZURESUBSCRIPTION_TENANT_ID"));
    let client = inputs
        .settings
        .client_id
        .clone()
        .or_else(|| get("AZURESUBSCRIPTION_CLIENT_ID"));
    let connection = get("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID");
    let token = get("SYSTEM_ACCESSTOKEN");
    let oidc = get("SYSTEM_OIDCREQUESTURI");
    if let Some(reason) = missing(&[
        ("AZURESUBSCRIPTION_TENANT_ID", tenant.is_some()),
        ("AZURESUBSCRIPTION_CLIENT_ID", client.is_some()),
        (
            "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID",
            connection.is_some(),
        ),
        ("SYSTEM_ACCESSTOKEN", token.is_some()),
        ("SYSTEM_OIDCREQUESTURI", oidc.is_some()),
    ]) {
        return Source::Unavailable { name: NAME, reason };
    }
    let (Some(tenant), Some(client), Some(connection), Some(token)) =
        (tenant, client, connection, token)
    else {
        return Source::Unavailable {
            name: NAME,
            reason: "incomplete settings".into(),
        };
    };
    ready(
        NAME,
        AzurePipelinesCredential::new(
            tenant,
            client,
            &connection,
            Secret::new(token),
            Some(AzurePipelinesCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: entra_options(inputs),
                },
            }),
        )
        .map(|c| c as Arc<dyn TokenCredential>),
        None,
    )
}

fn managed(inputs: &CredentialInputs<'_>, in_chain: bool) -> Source {
    const NAME: &str = "managedid";
    // Only `client_id` from the settings selects a user-assigned identity: AZURE_CLIENT_ID
    // belongs to the service principal of the other sources.
    let options = ManagedIdentityCredentialOptions {
        user_assigned_id: inputs
            .settings
            .client_id
            .clone()
            .map(UserAssignedId::ClientId),
        client_options: inputs.client_options.clone(),
    };
    let endpoint_in_env = ["IDENTITY_ENDPOINT", "MSI_ENDPOINT"]
        .iter()
        .any(|n| (inputs.env)(n).is_some_and(|v| !v.is_empty()));
    let limit = (in_chain && !endpoint_in_env).then_some(IMDS_PROBE);
    ready(
        NAME,
        ManagedIdentityCredential::new(Some(options)).map(|c| c as Arc<dyn TokenCredential>),
        limit,
    )
}

fn cli(inputs: &CredentialInputs<'_>) -> Source {
    ready(
        "azurecli",
        AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: inputs.settings.tenant_id.clone(),
            ..Default::default()
        }))
        .map(|c| c as Arc<dyn TokenCredential>),
        None,
    )
}

fn ready(
    name: &'static str,
    built: azure_core::Result<Arc<dyn TokenCredential>>,
    limit: Option<Duration>,
) -> Source {
    match built {
        Ok(credential) => Source::Ready {
            name,
            credential,
            limit,
        },
        Err(error) => Source::Unavailable {
            name,
            reason: first_line(&error),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ConfigReader, VaultSettings};
    use azure_core::time::OffsetDateTime;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug)]
    struct Fake {
        ok: bool,
        calls: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl TokenCredential for Fake {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.ok {
                Ok(AccessToken::new(
                    "t",
                    OffsetDateTime::now_utc() + azure_core::time::Duration::minutes(5),
                ))
            } else {
                Err(azure_core::Error::with_message(
                    ErrorKind::Credential,
                    "refused\nTo troubleshoot, visit …",
                ))
            }
        }
    }

    fn fake(ok: bool) -> Arc<Fake> {
        Arc::new(Fake {
            ok,
            calls: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn first_working_source_wins_and_is_remembered() {
        let failing = fake(false);
        let working = fake(true);
        let chain = ChainedCredential::from_sources(vec![
            Source::Unavailable {
                name: "environment",
                reason: "AZURE_CLIENT_SECRET not set".into(),
            },
            Source::Ready {
                name: "workloadid",
                credential: failing.clone(),
                limit: None,
            },
            Source::Ready {
                name: "managedid",
                credential: working.clone(),
                limit: None,
            },
        ]);
        chain.get_token(&["s/.default"], None).await.unwrap();
        chain.get_token(&["s/.default"], None).await.unwrap();
        assert_eq!(failing.calls.load(Ordering::SeqCst), 1);
        assert_eq!(working.calls.load(Ordering::SeqCst), 2);
        assert_eq!(chain.winner(), Some("managedid"));
    }

    #[tokio::test]
    async fn the_error_lists_every_source_and_why() {
        let chain = ChainedCredential::from_sources(vec![
            Source::Unavailable {
                name: "environment",
                reason: "AZURE_CLIENT_SECRET not set".into(),
            },
            Source::Ready {
                name: "azurecli",
                credential: fake(false),
                limit: None,
            },
        ]);
        let err = chain
            .get_token(&["https://vault.azure.net/.default"], None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Credential);
        assert_eq!(
            err.to_string(),
            "no credential could get a token for https://vault.azure.net/.default; tried in order: \
             environment: not configured (AZURE_CLIENT_SECRET not set); azurecli: refused"
        );
    }

    #[test]
    fn default_chain_order_and_missing_variables() {
        let config = BTreeMap::new();
        let no_env = |_: &str| None;
        let settings = VaultSettings::read(&ConfigReader::new(&config, &no_env)).unwrap();
        let chain = ChainedCredential::build(&CredentialInputs {
            settings: &settings,
            cloud: &Cloud::Public,
            client_options: ClientOptions::default(),
            env: &no_env,
        });
        let names: Vec<(&str, Option<&str>)> = chain
            .sources
            .iter()
            .map(|s| match s {
                Source::Ready { name, .. } => (*name, None),
                Source::Unavailable { name, reason } => (*name, Some(reason.as_str())),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "environment",
                    Some("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set")
                ),
                (
                    "workloadid",
                    Some("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE not set")
                ),
                (
                    "azurepipelines",
                    Some(
                        "AZURESUBSCRIPTION_TENANT_ID, AZURESUBSCRIPTION_CLIENT_ID, \
                         AZURESUBSCRIPTION_SERVICE_CONNECTION_ID, SYSTEM_ACCESSTOKEN, \
                         SYSTEM_OIDCREQUESTURI not set"
                    )
                ),
                ("managedid", None),
                ("azurecli", None),
            ]
        );
    }

    #[test]
    fn explicit_type_uses_one_source_and_settings_override_env() {
        let config: BTreeMap<String, String> = [
            ("credential_type".to_string(), "environment".to_string()),
            (
                "tenant_id".to_string(),
                "00000000-0000-0000-0000-000000000001".to_string(),
            ),
        ]
        .into();
        let env = |n: &str| match n {
            "AZURE_CLIENT_ID" => Some("app".to_string()),
            "AZURE_CLIENT_SECRET" => Some("s3cret".to_string()),
            _ => None,
        };
        let settings = VaultSettings::read(&ConfigReader::new(&config, &env)).unwrap();
        let chain = ChainedCredential::build(&CredentialInputs {
            settings: &settings,
            cloud: &Cloud::Public,
            client_options: ClientOptions::default(),
            env: &env,
        });
        assert_eq!(chain.sources.len(), 1);
        assert!(matches!(
            chain.sources[0],
            Source::Ready {
                name: "environment",
                ..
            }
        ));
    }
}
