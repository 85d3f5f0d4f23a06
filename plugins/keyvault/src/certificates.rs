//! The certificate administration operations (for `notation-akv certificate …`, never for
//! notation): create a version from a policy, its pending operation, merge a CA-issued chain,
//! enable or disable a version, list versions, read the policy.
//!
//! Policies travel as JSON in the REST API's wire form (`key_props`, `x509_props`, `issuer`, …,
//! the SDK models' serde names), so the caller's policy code and linter see exactly what the
//! vault receives and returns. Every call runs under the client's one deadline with the same
//! bounded retries and error mapping as the signing operations.

use crate::client::{CertificateInfo, Times, VaultClient, certificate_info, missing};
use crate::error::{Operation, ServiceDetail, VaultError};
use azure_core::http::RequestContent;
use azure_core::http::poller::PollerOptions;
use azure_security_keyvault_certificates::models::{
    CertificateAttributes, CertificateClientCreateCertificateOptions,
    CertificateClientListCertificatePropertiesVersionsOptions,
    CertificateClientUpdateCertificatePropertiesOptions, CertificateOperation, CertificatePolicy,
    CreateCertificateParameters, MergeCertificateParameters, UpdateCertificatePropertiesParameters,
};
use futures::StreamExt;
use serde_json::Value;

/// A certificate operation (`/certificates/{name}/pending`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationInfo {
    /// `inProgress`, `completed`, `failed`, `cancelled`.
    pub status: String,
    pub status_details: Option<String>,
    /// The CSR (DER) for a certificate a CA must issue (`Unknown` issuer).
    pub csr: Option<Vec<u8>>,
    /// The certificate id, once completed.
    pub target: Option<String>,
    pub issuer: Option<String>,
    /// The vault's error, when the operation failed.
    pub error: Option<String>,
}

impl OperationInfo {
    pub fn completed(&self) -> bool {
        self.status.eq_ignore_ascii_case("completed")
    }

    pub fn in_progress(&self) -> bool {
        self.status.eq_ignore_ascii_case("inProgress")
    }
}

/// One entry of a certificate's versions list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionInfo {
    pub id: String,
    pub enabled: Option<bool>,
    /// Unix seconds.
    pub not_before: Option<i64>,
    pub expires: Option<i64>,
    pub created: Option<i64>,
}

fn operation_info(model: CertificateOperation) -> OperationInfo {
    OperationInfo {
        status: model.status.unwrap_or_default(),
        status_details: model.status_details,
        csr: model.csr,
        target: model.target,
        issuer: model.issuer_parameters.and_then(|i| i.name),
        error: model.error.map(|e| {
            format!(
                "{}: {}",
                e.code.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        }),
    }
}

impl VaultClient {
    fn bad_policy(&self, operation: Operation, name: &str, e: serde_json::Error) -> VaultError {
        VaultError::Response {
            target: self.target(operation, name, None),
            message: format!("the certificate policy does not fit the REST API's model: {e}"),
            detail: ServiceDetail::default(),
        }
    }

    /// `POST /certificates/{name}/create` (certificates/create): a new version from `policy`
    /// (wire form); the vault's first answer (usually `inProgress`).
    pub async fn create_certificate(
        &self,
        name: &str,
        policy: &Value,
    ) -> Result<OperationInfo, VaultError> {
        let target = self.target(Operation::CreateCertificate, name, None);
        let policy: CertificatePolicy = serde_json::from_value(policy.clone())
            .map_err(|e| self.bad_policy(Operation::CreateCertificate, name, e))?;
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                let parameters = CreateCertificateParameters {
                    certificate_policy: Some(policy.clone()),
                    ..Default::default()
                };
                let content: RequestContent<CreateCertificateParameters> = parameters.try_into()?;
                // The first item of the poller is the create request's own answer; polling is ours,
                // under the command's deadline.
                // The poller sleeps its frequency (default 30 s) before yielding an in-progress
                // answer; 1 s is the least it allows.
                let options = CertificateClientCreateCertificateOptions {
                    method_options: PollerOptions {
                        frequency: azure_core::time::Duration::seconds(1),
                        ..Default::default()
                    },
                };
                let mut poller =
                    Box::pin(client.begin_create_certificate(name, content, Some(options))?);
                match poller.next().await {
                    Some(response) => response?.into_model(),
                    None => Err(azure_core::Error::with_message(
                        azure_core::error::ErrorKind::Other,
                        "the create request gave no answer",
                    )),
                }
            })
            .await?;
        Ok(operation_info(model))
    }

    /// `GET /certificates/{name}/pending` (certificates/get): the last create's operation.
    pub async fn certificate_operation(&self, name: &str) -> Result<OperationInfo, VaultError> {
        let target = self.target(Operation::GetCertificate, name, None);
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                client
                    .get_certificate_operation(name, None)
                    .await?
                    .into_model()
            })
            .await?;
        Ok(operation_info(model))
    }

    /// `POST /certificates/{name}/pending/merge` (certificates/create): the CA-issued chain
    /// (DER, leaf first) for the pending key.
    pub async fn merge_certificate(
        &self,
        name: &str,
        chain: &[Vec<u8>],
    ) -> Result<CertificateInfo, VaultError> {
        let target = self.target(Operation::CreateCertificate, name, None);
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                let parameters = MergeCertificateParameters {
                    x509_certificates: Some(chain.to_vec()),
                    ..Default::default()
                };
                let content: RequestContent<MergeCertificateParameters> = parameters.try_into()?;
                client
                    .merge_certificate(name, content, None)
                    .await?
                    .into_model()
            })
            .await?;
        certificate_info(model, &target)
    }

    /// `PATCH /certificates/{name}/{version}` (certificates/update): enables or disables one
    /// version (the vault applies it to the version's key and secret too).
    pub async fn set_certificate_enabled(
        &self,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<CertificateInfo, VaultError> {
        let target = self.target(Operation::UpdateCertificate, name, Some(version));
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                let parameters = UpdateCertificatePropertiesParameters {
                    certificate_attributes: Some(CertificateAttributes {
                        enabled: Some(enabled),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                let content: RequestContent<UpdateCertificatePropertiesParameters> =
                    parameters.try_into()?;
                let options = CertificateClientUpdateCertificatePropertiesOptions {
                    certificate_version: Some(version.to_string()),
                    ..Default::default()
                };
                client
                    .update_certificate_properties(name, content, Some(options))
                    .await?
                    .into_model()
            })
            .await?;
        certificate_info(model, &target)
    }

    /// `GET /certificates/{name}/versions` (certificates/list), every page.
    pub async fn certificate_versions(&self, name: &str) -> Result<Vec<VersionInfo>, VaultError> {
        let target = self.target(Operation::ListCertificates, name, None);
        self.run(&target, self.certificate_client(), async |client| {
            let options = CertificateClientListCertificatePropertiesVersionsOptions::default();
            let mut pager = client.list_certificate_properties_versions(name, Some(options))?;
            let mut out = Vec::new();
            while let Some(item) = pager.next().await {
                let item = item?;
                let times = Times::of(item.attributes.as_ref());
                out.push(VersionInfo {
                    id: item.id.unwrap_or_default(),
                    enabled: times.enabled,
                    not_before: times.not_before,
                    expires: times.expires,
                    created: times.created,
                });
            }
            Ok(out)
        })
        .await
    }

    /// `GET /certificates/{name}/policy` (certificates/get), in wire form.
    pub async fn certificate_policy(&self, name: &str) -> Result<Value, VaultError> {
        let target = self.target(Operation::GetCertificate, name, None);
        let model = self
            .run(&target, self.certificate_client(), async |client| {
                client
                    .get_certificate_policy(name, None)
                    .await?
                    .into_model()
            })
            .await?;
        serde_json::to_value(&model).map_err(|_| missing(&target, "policy"))
    }
}
