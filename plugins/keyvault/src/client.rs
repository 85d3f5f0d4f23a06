//! The vault operations the plugins need, over the official SDK clients.
//!
//! [`VaultClient`] owns one command's worth of vault access: the credential chain, the shared
//! transport, the deadline and the log. Each operation returns a small model of just the fields
//! the plugins use, so SDK types do not leak. The SDK clients are built lazily, one per object
//! kind, so a command pays for (and authenticates to) only what it touches.

use crate::cache::Cache;
use crate::cloud::Cloud;
use crate::credential::{ChainedCredential, CredentialInputs};
use crate::deadline::{Deadline, call};
use crate::error::{Operation, ServiceDetail, Target, VaultError};
use crate::log::RequestLog;
use crate::preauth::PreAuthorizePolicy;
use crate::settings::VaultSettings;
use crate::transport::{ExchangeLogPolicy, client_options};
use azure_core::http::{ClientOptions, RequestContent};
use azure_security_keyvault_certificates::{
    CertificateClient, CertificateClientOptions, models::CertificateClientGetCertificateOptions,
};
use azure_security_keyvault_keys::models::{
    CurveName, JsonWebKey, KeyClientGetKeyOptions, KeyClientSignOptions, KeyType, SignParameters,
    SignatureAlgorithm,
};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::{
    SecretClient, SecretClientOptions, models::SecretClientGetSecretOptions,
};
use notation_akv_protocol::SigningAlgorithm;
use std::sync::{Arc, OnceLock};
use url::Url;
use zeroize::Zeroizing;

/// A certificate version as the vault describes it (public data only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// DER of the leaf (`cer`).
    pub der: Vec<u8>,
    pub id: Option<String>,
    /// The key that signs for this certificate version.
    pub kid: Option<String>,
    /// The secret that holds the chain (and, if exportable, the private key).
    pub sid: Option<String>,
    pub enabled: Option<bool>,
    /// Unix seconds.
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    /// SHA-1 thumbprint as the vault reports it.
    pub x5t: Option<Vec<u8>>,
}

/// A secret value. It may hold a private key: it is wiped on drop and never logged or cached.
pub struct SecretInfo {
    pub value: Zeroizing<String>,
    pub content_type: Option<String>,
    pub id: Option<String>,
    pub kid: Option<String>,
}

impl std::fmt::Debug for SecretInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretInfo")
            .field("value", &"<redacted>")
            .field("content_type", &self.content_type)
            .field("id", &self.id)
            .field("kid", &self.kid)
            .finish()
    }
}

/// EC curves of vault keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
    Other(String),
}

/// The public half of a vault key (JWK).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        curve: Curve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Symmetric or unknown key types, by their `kty`.
    Unsupported(String),
}

/// A key version as the vault describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub key: PublicKey,
    pub enabled: Option<bool>,
}

/// The result of a sign operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    /// The key version that signed, as the vault reports it.
    pub kid: Option<String>,
    pub signature: Vec<u8>,
}

/// The SDK's check that a vault's 401 challenge names the vault host's domain (a token for
/// `https://vault.azure.net` goes only to `*.vault.azure.net`). Always on: there is no setting or
/// variable that turns it off.
const VERIFY_CHALLENGE_RESOURCE: bool = true;

/// One command's access to one vault.
pub struct VaultClient {
    endpoint: Url,
    vault: String,
    credential: Arc<ChainedCredential>,
    options: ClientOptions,
    deadline: Deadline,
    log: RequestLog,
    exchanges: Arc<ExchangeLogPolicy>,
    preauth: Arc<PreAuthorizePolicy>,
    keys: OnceLock<KeyClient>,
    certificates: OnceLock<CertificateClient>,
    secrets: OnceLock<SecretClient>,
}

impl std::fmt::Debug for VaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultClient")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl VaultClient {
    /// Prepares access to the vault at `endpoint` (`https://host[:port]/`). No network yet.
    pub fn new(
        endpoint: &Url,
        cloud: &Cloud,
        settings: &VaultSettings,
        deadline: Deadline,
        log: RequestLog,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> VaultClient {
        let exchanges = ExchangeLogPolicy::new(log.clone());
        let options = client_options(settings.timeout, exchanges.clone());
        let credential = ChainedCredential::build(&CredentialInputs {
            settings,
            cloud,
            client_options: options.clone(),
            env,
        });
        let vault = match endpoint.port() {
            Some(p) => format!("{}:{p}", endpoint.host_str().unwrap_or_default()),
            None => endpoint.host_str().unwrap_or_default().to_string(),
        };
        // Vault requests (not token requests) also pass the pre-authorization policy, ahead of
        // the exchange log so the log shows what was really sent.
        let preauth = PreAuthorizePolicy::new(vault.clone(), credential.clone(), log.clone());
        let mut options = options;
        options.per_try_policies.insert(0, preauth.clone());
        VaultClient {
            endpoint: endpoint.clone(),
            vault,
            credential,
            options,
            deadline,
            log,
            exchanges,
            preauth,
            keys: OnceLock::new(),
            certificates: OnceLock::new(),
            secrets: OnceLock::new(),
        }
    }

    /// Remembers vault auth challenges in `cache`, so later processes skip the challenge round
    /// trip (see [`crate::preauth`]).
    pub fn remember_challenges(&self, cache: Cache) {
        self.preauth.persist_in(cache);
    }

    /// HTTP exchanges made so far (vault, challenge and token endpoints).
    pub fn exchanges(&self) -> usize {
        self.exchanges.count()
    }

    /// The credential source that produced a token, once one did.
    pub fn credential_used(&self) -> Option<&'static str> {
        self.credential.winner()
    }

    /// Why earlier credential sources gave no token (see [`ChainedCredential::attempts`]).
    pub fn credential_attempts(&self) -> Vec<String> {
        self.credential.attempts()
    }

    pub fn log(&self) -> &RequestLog {
        &self.log
    }

    pub fn deadline(&self) -> &Deadline {
        &self.deadline
    }

    pub(crate) fn target(&self, operation: Operation, name: &str, version: Option<&str>) -> Target {
        Target {
            operation,
            vault: self.vault.clone(),
            name: name.to_string(),
            version: version.map(str::to_string),
        }
    }

    /// One vault operation: the SDK client (built on first use), then `attempt` under the
    /// command's deadline, with its bounded retries and error mapping ([`call`]).
    pub(crate) async fn run<C, T>(
        &self,
        target: &Target,
        client: azure_core::Result<&C>,
        attempt: impl AsyncFn(&C) -> azure_core::Result<T>,
    ) -> Result<T, VaultError> {
        let client = client.map_err(|e| VaultError::Response {
            target: target.clone(),
            message: format!("cannot create the SDK client: {e}"),
            detail: ServiceDetail::default(),
        })?;
        call(&self.deadline, target, || attempt(client)).await
    }

    fn key_client(&self) -> azure_core::Result<&KeyClient> {
        if let Some(c) = self.keys.get() {
            return Ok(c);
        }
        let client = KeyClient::new(
            self.endpoint.as_str(),
            self.credential.clone(),
            Some(KeyClientOptions {
                client_options: self.options.clone(),
                verify_challenge_resource: Some(VERIFY_CHALLENGE_RESOURCE),
                ..Default::default()
            }),
        )?;
        Ok(self.keys.get_or_init(|| client))
    }

    pub(crate) fn certificate_client(&self) -> azure_core::Result<&CertificateClient> {
        if let Some(c) = self.certificates.get() {
            return Ok(c);
        }
        let client = CertificateClient::new(
            self.endpoint.as_str(),
            self.credential.clone(),
            Some(CertificateClientOptions {
                client_options: self.options.clone(),
                verify_challenge_resource: Some(VERIFY_CHALLENGE_RESOURCE),
                ..Default::default()
            }),
        )?;
        Ok(self.certificates.get_or_init(|| client))
    }

    fn secret_client(&self) -> azure_core::Result<&SecretClient> {
        if let Some(c) = self.secrets.get() {
            return Ok(c);
        }
        let client = SecretClient::new(
            self.endpoint.as_str(),
            self.credential.clone(),
            Some(SecretClientOptions {
                client_options: self.options.clone(),
                verify_challenge_resource: Some(VERIFY_CHALLENGE_RESOURCE),
                ..Default::default()
            }),
        )?;
        Ok(self.secrets.get_or_init(|| client))
    }

    /// `GET /certificates/{name}[/{version}]` (certificates/get).
    pub async fn get_certificate(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<CertificateInfo, VaultError> {
        let target = self.target(Operation::GetCertificate, name, version);
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                let options = CertificateClientGetCertificateOptions {
                    certificate_version: version.map(str::to_string),
                    ..Default::default()
                };
                client
                    .get_certificate(name, Some(options))
                    .await?
                    .into_model()
            })
            .await?;
        certificate_info(model, &target)
    }

    /// `GET /secrets/{name}[/{version}]` (secrets/get).
    pub async fn get_secret(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<SecretInfo, VaultError> {
        let target = self.target(Operation::GetSecret, name, version);
        let model = self
            .run(&target, self.secret_client(), async |client| {
                let options = SecretClientGetSecretOptions {
                    secret_version: version.map(str::to_string),
                    ..Default::default()
                };
                client.get_secret(name, Some(options)).await?.into_model()
            })
            .await?;
        let value = Zeroizing::new(model.value.ok_or_else(|| missing(&target, "value"))?);
        Ok(SecretInfo {
            value,
            content_type: model.content_type,
            id: model.id,
            kid: model.kid,
        })
    }

    /// `GET /keys/{name}[/{version}]` (keys/get): the public key.
    pub async fn get_key(&self, name: &str, version: Option<&str>) -> Result<KeyInfo, VaultError> {
        let target = self.target(Operation::GetKey, name, version);
        let model = self
            .run(&target, self.key_client(), async |client| {
                let options = KeyClientGetKeyOptions {
                    key_version: version.map(str::to_string),
                    ..Default::default()
                };
                client.get_key(name, Some(options)).await?.into_model()
            })
            .await?;
        let jwk = model.key.ok_or_else(|| missing(&target, "key"))?;
        let kid = jwk.kid.clone().ok_or_else(|| missing(&target, "key.kid"))?;
        Ok(KeyInfo {
            kid,
            key: PublicKey::from(&jwk),
            enabled: model.attributes.and_then(|a| a.enabled),
        })
    }

    /// `POST /keys/{name}[/{version}]/sign` (keys/sign) over a digest the caller computed.
    pub async fn sign(
        &self,
        name: &str,
        version: Option<&str>,
        algorithm: SigningAlgorithm,
        digest: &[u8],
    ) -> Result<Signed, VaultError> {
        let target = self.target(Operation::Sign, name, version);
        let alg = match algorithm {
            SigningAlgorithm::RsassaPssSha256 => SignatureAlgorithm::Ps256,
            SigningAlgorithm::RsassaPssSha384 => SignatureAlgorithm::Ps384,
            SigningAlgorithm::RsassaPssSha512 => SignatureAlgorithm::Ps512,
            SigningAlgorithm::EcdsaSha256 => SignatureAlgorithm::Es256,
            SigningAlgorithm::EcdsaSha384 => SignatureAlgorithm::Es384,
            SigningAlgorithm::EcdsaSha512 => SignatureAlgorithm::Es512,
        };
        let model = self
            .run(&target, self.key_client(), async |client| {
                let parameters = SignParameters {
                    algorithm: Some(alg.clone()),
                    value: Some(digest.to_vec()),
                };
                let options = KeyClientSignOptions {
                    key_version: version.map(str::to_string),
                    ..Default::default()
                };
                let content: RequestContent<SignParameters> = parameters.try_into()?;
                client
                    .sign(name, content, Some(options))
                    .await?
                    .into_model()
            })
            .await?;
        let signature = model.result.ok_or_else(|| missing(&target, "value"))?;
        Ok(Signed {
            kid: model.kid,
            signature,
        })
    }
}

pub(crate) fn missing(target: &Target, field: &str) -> VaultError {
    VaultError::Response {
        target: target.clone(),
        message: format!("the response has no {field:?}"),
        detail: ServiceDetail {
            status: 200,
            ..Default::default()
        },
    }
}

/// The public fields of a certificate bundle.
#[allow(clippy::result_large_err)] // the error is the one every vault operation returns
pub(crate) fn certificate_info(
    model: azure_security_keyvault_certificates::models::Certificate,
    target: &Target,
) -> Result<CertificateInfo, VaultError> {
    let der = model.cer.ok_or_else(|| missing(target, "cer"))?;
    let times = Times::of(model.attributes.as_ref());
    Ok(CertificateInfo {
        der,
        id: model.id,
        kid: model.kid,
        sid: model.sid,
        enabled: times.enabled,
        not_before: times.not_before,
        expires: times.expires,
        x5t: model.x509_thumbprint,
    })
}

/// A certificate version's state and times (unix seconds).
pub(crate) struct Times {
    pub enabled: Option<bool>,
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub created: Option<i64>,
}

impl Times {
    pub fn of(
        attributes: Option<&azure_security_keyvault_certificates::models::CertificateAttributes>,
    ) -> Times {
        let unix = |t: Option<azure_core::time::OffsetDateTime>| t.map(|t| t.unix_timestamp());
        Times {
            enabled: attributes.and_then(|a| a.enabled),
            not_before: unix(attributes.and_then(|a| a.not_before)),
            expires: unix(attributes.and_then(|a| a.expires)),
            created: unix(attributes.and_then(|a| a.created)),
        }
    }
}

/// The public half of a JWK as the vault returns it (`GET /keys/…`), in this crate's model; key
/// types and curves the plugins cannot sign with become [`PublicKey::Unsupported`] or
/// [`Curve::Other`], never an error, so the caller can say which one it met.
impl From<&JsonWebKey> for PublicKey {
    fn from(jwk: &JsonWebKey) -> PublicKey {
        let kty = jwk.kty.clone();
        match kty {
            Some(KeyType::Rsa | KeyType::RsaHsm) => match (&jwk.n, &jwk.e) {
                (Some(n), Some(e)) => PublicKey::Rsa {
                    n: n.clone(),
                    e: e.clone(),
                },
                _ => PublicKey::Unsupported("RSA without n/e".into()),
            },
            Some(KeyType::Ec | KeyType::EcHsm) => {
                let curve = match &jwk.crv {
                    Some(CurveName::P256) => Curve::P256,
                    Some(CurveName::P384) => Curve::P384,
                    Some(CurveName::P521) => Curve::P521,
                    Some(CurveName::P256K) => Curve::Other("P-256K".into()),
                    Some(other) => Curve::Other(format!("{other:?}")),
                    None => Curve::Other("none".into()),
                };
                match (&jwk.x, &jwk.y) {
                    (Some(x), Some(y)) => PublicKey::Ec {
                        curve,
                        x: x.clone(),
                        y: y.clone(),
                    },
                    _ => PublicKey::Unsupported("EC without x/y".into()),
                }
            }
            Some(other) => PublicKey::Unsupported(format!("{other:?}")),
            None => PublicKey::Unsupported("no kty".into()),
        }
    }
}
