//! Vault failures and their mapping to the protocol's error codes.
//!
//! The mapping is the one place where HTTP meets the spec: 401/403 → `ACCESS_DENIED` naming the
//! permission both as an access-policy permission and as an RBAC role (a 403 from the vault's
//! network rules, `innererror` `ForbiddenByFirewall`/`ForbiddenByConnection`, says the network is
//! refused instead; a disabled object is named as such); 400 and 404 → `VALIDATION_ERROR`, 404
//! naming the object; 429 after bounded retries → `THROTTLED`; a passed deadline → `TIMEOUT`;
//! anything else → `ERROR`. `errorMetadata` carries `httpStatus`, `azureErrorCode`,
//! `azureInnerErrorCode` and `requestId` (the vault's `x-ms-request-id`) when known, for support
//! tickets.

use notation_akv_protocol::{ErrorCode, PluginError};
use std::fmt;
use std::time::Duration;

/// What the plugin asked the vault for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Sign,
    GetKey,
    GetCertificate,
    /// The secret of a certificate (same name and version), read for the certificate chain.
    GetSecret,
    /// A new certificate version (`create`), or the merge of a CA-issued chain into one.
    CreateCertificate,
    /// A certificate version's attributes (enable, disable).
    UpdateCertificate,
    /// A certificate's versions.
    ListCertificates,
}

impl Operation {
    /// The access-policy permission, as `az keyvault set-policy` spells it.
    pub fn access_policy(self) -> &'static str {
        match self {
            Operation::Sign => "--key-permissions sign",
            Operation::GetKey => "--key-permissions get",
            Operation::GetCertificate => "--certificate-permissions get",
            Operation::GetSecret => "--secret-permissions get",
            Operation::CreateCertificate => "--certificate-permissions create",
            Operation::UpdateCertificate => "--certificate-permissions update",
            Operation::ListCertificates => "--certificate-permissions list",
        }
    }

    /// The permission name in messages (`keys/sign`).
    pub fn permission(self) -> &'static str {
        match self {
            Operation::Sign => "keys/sign",
            Operation::GetKey => "keys/get",
            Operation::GetCertificate => "certificates/get",
            Operation::GetSecret => "secrets/get",
            Operation::CreateCertificate => "certificates/create",
            Operation::UpdateCertificate => "certificates/update",
            Operation::ListCertificates => "certificates/list",
        }
    }

    /// The least built-in Azure RBAC role that grants it.
    pub fn rbac_role(self) -> &'static str {
        match self {
            Operation::Sign | Operation::GetKey => "Key Vault Crypto User",
            Operation::GetCertificate => "Key Vault Certificate User",
            Operation::GetSecret => "Key Vault Secrets User",
            Operation::CreateCertificate
            | Operation::UpdateCertificate
            | Operation::ListCertificates => "Key Vault Certificates Officer",
        }
    }

    /// What kind of object it touches.
    pub fn object(self) -> &'static str {
        match self {
            Operation::Sign | Operation::GetKey => "key",
            Operation::GetCertificate
            | Operation::CreateCertificate
            | Operation::UpdateCertificate
            | Operation::ListCertificates => "certificate",
            Operation::GetSecret => "secret",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Operation::Sign => "sign with",
            Operation::CreateCertificate => "create a version of",
            Operation::UpdateCertificate => "update",
            Operation::ListCertificates => "list the versions of",
            _ => "read",
        }
    }
}

/// The object an operation targeted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub operation: Operation,
    pub vault: String,
    pub name: String,
    pub version: Option<String>,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.operation.object(), self.name)?;
        if let Some(v) = &self.version {
            write!(f, " version {v}")?;
        }
        write!(f, " in vault {}", self.vault)
    }
}

/// What came back from the service, when anything did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceDetail {
    pub status: u16,
    pub azure_code: Option<String>,
    /// `innererror.code` (`ForbiddenByRbac`, `ForbiddenByFirewall`, `SecretDisabled`, …).
    pub inner_code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// The response's content type when the body was not Key Vault's JSON error (`text/html`
    /// from a proxy or the front end), so the message can say who answered.
    pub foreign_content_type: Option<String>,
}

/// A failed vault operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the vault answered {} for {target}", .detail.status)]
    Http {
        target: Target,
        detail: ServiceDetail,
    },
    #[error("the vault throttled {target} {attempts} times")]
    Throttled {
        target: Target,
        attempts: u32,
        retry_after: Option<Duration>,
        detail: ServiceDetail,
    },
    #[error("no answer for {target} within the {after:?} deadline")]
    Timeout { target: Target, after: Duration },
    #[error("authentication failed: {message}")]
    Credential { message: String },
    #[error("{target}: {message}")]
    Transport {
        target: Target,
        attempts: u32,
        message: String,
    },
    /// The vault host's 401 challenge asked for a token for another resource than Key Vault's
    /// domain: the SDK withheld the token.
    #[error("{target}: the auth challenge names resource {resource}, not this vault's domain")]
    ForeignChallenge { target: Target, resource: String },
    #[error("{target}: unexpected response: {message}")]
    Response {
        target: Target,
        message: String,
        detail: ServiceDetail,
    },
}

impl VaultError {
    /// The HTTP status, when the vault answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            VaultError::Http { detail, .. }
            | VaultError::Throttled { detail, .. }
            | VaultError::Response { detail, .. } => Some(detail.status).filter(|s| *s != 0),
            _ => None,
        }
    }

    /// What was asked of the vault (`None` for a credential failure).
    pub fn operation(&self) -> Option<Operation> {
        match self {
            VaultError::Http { target, .. }
            | VaultError::Throttled { target, .. }
            | VaultError::Timeout { target, .. }
            | VaultError::Transport { target, .. }
            | VaultError::ForeignChallenge { target, .. }
            | VaultError::Response { target, .. } => Some(target.operation),
            VaultError::Credential { .. } => None,
        }
    }

    /// The vault's error code (`CertificateNotFound`, `ForbiddenByRbac`, …), when it sent one.
    pub fn azure_code(&self) -> Option<&str> {
        match self {
            VaultError::Http { detail, .. }
            | VaultError::Throttled { detail, .. }
            | VaultError::Response { detail, .. } => detail.azure_code.as_deref(),
            _ => None,
        }
    }

    /// The protocol error notation prints.
    pub fn to_plugin_error(&self) -> PluginError {
        let (code, message, detail) = match self {
            VaultError::Http { target, detail } => {
                let (code, message) = http_message(target, detail);
                (code, message, Some(detail))
            }
            VaultError::Throttled {
                target,
                attempts,
                retry_after,
                detail,
            } => {
                let wait = retry_after
                    .map(|d| format!(" and asked to wait {} s more", d.as_secs()))
                    .unwrap_or_default();
                (
                    ErrorCode::Throttled,
                    format!(
                        "Azure Key Vault throttled the request to {} {target} (HTTP 429) {attempts} times{wait}; \
                         retries stopped within the deadline. Try again later, or raise timeout=… in the plugin config",
                        target.operation.verb()
                    ),
                    Some(detail),
                )
            }
            VaultError::Timeout { target, after } => (
                ErrorCode::Timeout,
                format!(
                    "no answer from Azure Key Vault to {} {target} within the {} deadline; \
                     check the network path to the vault, or raise timeout=… in the plugin config",
                    target.operation.verb(),
                    human_duration(*after)
                ),
                None,
            ),
            VaultError::Credential { message } => (
                ErrorCode::AccessDenied,
                format!(
                    "could not authenticate to Azure Key Vault: {}. \
                     Choose a credential with credential_type=… (see `notation-akv --help`)",
                    message.trim_end_matches('.')
                ),
                None,
            ),
            VaultError::Transport {
                target,
                attempts,
                message,
            } => (
                ErrorCode::Generic,
                format!(
                    "the connection to Azure Key Vault failed while trying to {} {target} ({attempts} attempts): {message}{}",
                    target.operation.verb(),
                    transport_hint(message)
                ),
                None,
            ),
            VaultError::ForeignChallenge { target, resource } => (
                ErrorCode::AccessDenied,
                format!(
                    "vault host {} answered its authentication challenge for resource {resource}, which is not \
                     this vault's domain, so no token was sent to it: a proxy rewrote the answer, the --id URL \
                     names the wrong host, or the host only claims to be a vault. Check that --id is your vault's \
                     URL as the portal or `az keyvault show --query properties.vaultUri` gives it \
                     (https://<name>.vault.azure.net, .vault.azure.cn, .vault.usgovcloudapi.net or \
                     .managedhsm.azure.net), and that any HTTPS proxy passes the vault's WWW-Authenticate header unchanged",
                    target.vault
                ),
                None,
            ),
            VaultError::Response {
                target,
                message,
                detail,
            } => (
                ErrorCode::Generic,
                format!(
                    "Azure Key Vault sent an unusable response to {} {target}: {message}",
                    target.operation.verb()
                ),
                Some(detail),
            ),
        };
        let mut error = PluginError::new(code, message);
        if let Some(detail) = detail {
            if detail.status != 0 {
                error = error.with_metadata("httpStatus", detail.status.to_string());
            }
            if let Some(c) = &detail.azure_code {
                error = error.with_metadata("azureErrorCode", c.clone());
            }
            if let Some(c) = &detail.inner_code {
                error = error.with_metadata("azureInnerErrorCode", c.clone());
            }
            if let Some(id) = &detail.request_id {
                error = error.with_metadata("requestId", id.clone());
            }
        }
        error
    }
}

fn http_message(target: &Target, detail: &ServiceDetail) -> (ErrorCode, String) {
    let op = target.operation;
    // "HTTP 403 Forbidden: <the vault's message>"
    let mut http = match (&detail.azure_code, &detail.message) {
        (Some(c), Some(m)) => format!("HTTP {} {c}: {m}", detail.status),
        (Some(c), None) => format!("HTTP {} {c}", detail.status),
        (None, Some(m)) => format!("HTTP {}: {m}", detail.status),
        (None, None) => format!("HTTP {}", detail.status),
    };
    if let Some(c) = &detail.inner_code {
        http.push_str(&format!(" [{c}]"));
    }
    if let Some(t) = &detail.foreign_content_type {
        http.push_str(&format!(
            ", a {t} answer instead of Key Vault's JSON: something in front of the vault (proxy, gateway) \
             or a request URL without an object answered; check the vault URL in --id"
        ));
    }
    let lower = |s: &Option<String>| s.as_deref().unwrap_or("").to_ascii_lowercase();
    let (code, inner, text) = (
        lower(&detail.azure_code),
        lower(&detail.inner_code),
        lower(&detail.message),
    );
    // AKV's network rules: innererror ForbiddenByFirewall / ForbiddenByConnection (and the
    // perimeter's NSP wording). Checked first: "Public network access is disabled" is not a
    // disabled object.
    let network = inner.starts_with("forbiddenbyfirewall")
        || inner.starts_with("forbiddenbyconnection")
        || inner.contains("nsp")
        || text.contains("network access is disabled")
        || text.contains("not allowed by nsp rules")
        || text.contains("client address is not authorized");
    let disabled = !network
        && (text.contains("disabled") || code.contains("disabled") || inner.contains("disabled"));
    match detail.status {
        403 if network => (
            ErrorCode::AccessDenied,
            format!(
                "Azure Key Vault refused this client's network when asked to {} {target} ({http}). \
                 The vault's firewall, network security perimeter or private-link settings do not admit \
                 the address this request came from; permissions are not the problem. Sign from a network \
                 the vault allows (through its private endpoint, or from an address in its firewall rules), \
                 or have the vault's networking settings admit this one",
                op.verb()
            ),
        ),
        401 | 403 if disabled => (
            ErrorCode::AccessDenied,
            format!(
                "the {target} is disabled ({http}); enable it in the vault or use another version"
            ),
        ),
        401 => (
            ErrorCode::AccessDenied,
            format!(
                "Azure Key Vault rejected the credential when asked to {} {target} ({http}); \
                 check that the identity belongs to the vault's tenant (tenant_id=…) and, for sovereign clouds, authority_host=…. \
                 The identity also needs {}: access policy `az keyvault set-policy --name <vault> {}` or the RBAC role \"{}\"",
                op.verb(),
                op.permission(),
                op.access_policy(),
                op.rbac_role()
            ),
        ),
        403 => {
            let mut text = format!(
                "access denied: the identity may not {} {target} ({http}). \
                 It needs the {} permission: grant the access policy `az keyvault set-policy --name <vault> {}` \
                 or the Azure RBAC role \"{}\" on the vault",
                op.verb(),
                op.permission(),
                op.access_policy(),
                op.rbac_role()
            );
            if op == Operation::GetSecret {
                text.push_str(
                    ". The secret is read only to get the certificate chain: set ca_certs=<bundle.pem> \
                     or self_signed=true in the plugin config to sign without secrets/get",
                );
            }
            (ErrorCode::AccessDenied, text)
        }
        // The plugin reads a secret only as the chain of the certificate the user named, so
        // it reports the missing object as that certificate.
        404 if op == Operation::GetSecret => {
            let certificate = Target {
                operation: Operation::GetCertificate,
                ..target.clone()
            };
            (
                ErrorCode::ValidationError,
                format!(
                    "the {certificate} was not found: its secret, which holds the certificate chain, does not exist \
                     ({http}); check the name and version in --id"
                ),
            )
        }
        404 => (
            ErrorCode::ValidationError,
            format!("the {target} was not found ({http}); check the name and version in --id"),
        ),
        400 => (
            ErrorCode::ValidationError,
            format!(
                "Azure Key Vault refused the request to {} {target} as invalid ({http}); \
                 check the key id in --id and that the key's type supports the key spec",
                op.verb()
            ),
        ),
        429 => (
            ErrorCode::Throttled,
            format!(
                "Azure Key Vault throttled the request to {} {target} ({http})",
                op.verb()
            ),
        ),
        _ => (
            ErrorCode::Generic,
            format!("Azure Key Vault failed to {} {target} ({http})", op.verb()),
        ),
    }
}

/// `30s`, `1500ms`: durations as users type them in the config.
pub fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// What to do about a transport failure, from the HTTP stack's words for it: an untrusted TLS
/// certificate, a name that does not resolve, or nothing listening.
fn transport_hint(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m.contains("unknownissuer") || m.contains("invalid peer certificate") {
        "; the vault's TLS certificate is not trusted on this host: if a proxy inspects TLS, add \
         its CA to the system's trust store or point SSL_CERT_FILE at a bundle that holds it"
    } else if m.contains("dns error") || m.contains("failed to lookup address") {
        "; the vault's host name does not resolve: check the vault name in --id and this host's \
         DNS (a vault behind a private endpoint needs the privatelink.vaultcore.azure.net zone)"
    } else if m.contains("connection refused") {
        "; nothing accepts connections there: check the host and port in --id and any \
         HTTPS_PROXY setting"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(operation: Operation) -> Target {
        Target {
            operation,
            vault: "v.vault.azure.net".into(),
            name: "signer".into(),
            version: Some("abc".into()),
        }
    }

    fn http(operation: Operation, status: u16, code: &str, message: &str) -> PluginError {
        VaultError::Http {
            target: target(operation),
            detail: ServiceDetail {
                status,
                azure_code: Some(code.into()),
                message: Some(message.into()),
                request_id: Some("rid-1".into()),
                ..Default::default()
            },
        }
        .to_plugin_error()
    }

    #[test]
    fn forbidden_names_policy_and_role() {
        let e = http(Operation::Sign, 403, "Forbidden", "no sign permission");
        assert_eq!(e.error_code, ErrorCode::AccessDenied);
        assert!(e.error_message.contains("keys/sign"), "{}", e.error_message);
        assert!(e.error_message.contains("--key-permissions sign"));
        assert!(e.error_message.contains("\"Key Vault Crypto User\""));
        assert!(
            e.error_message
                .contains("key \"signer\" version abc in vault v.vault.azure.net")
        );
        assert_eq!(e.error_metadata["httpStatus"], "403");
        assert_eq!(e.error_metadata["azureErrorCode"], "Forbidden");
        assert_eq!(e.error_metadata["requestId"], "rid-1");

        let e = http(Operation::GetSecret, 403, "Forbidden", "x");
        assert!(e.error_message.contains("\"Key Vault Secrets User\""));
        assert!(e.error_message.contains("ca_certs=<bundle.pem>"));
        let e = http(Operation::GetCertificate, 401, "Unauthorized", "x");
        assert_eq!(e.error_code, ErrorCode::AccessDenied);
        assert!(e.error_message.contains("\"Key Vault Certificate User\""));
    }

    #[test]
    fn status_codes_map_to_spec_codes() {
        assert_eq!(
            http(
                Operation::GetCertificate,
                404,
                "CertificateNotFound",
                "gone"
            )
            .error_code,
            ErrorCode::ValidationError
        );
        assert!(
            http(
                Operation::GetCertificate,
                404,
                "CertificateNotFound",
                "gone"
            )
            .error_message
            .contains("certificate \"signer\" version abc")
        );
        let secret = http(Operation::GetSecret, 404, "SecretNotFound", "gone");
        assert_eq!(secret.error_code, ErrorCode::ValidationError);
        assert!(
            secret.error_message.starts_with(
                "the certificate \"signer\" version abc in vault v.vault.azure.net was not found: its secret"
            ),
            "{}",
            secret.error_message
        );
        assert!(
            secret
                .error_message
                .contains("check the name and version in --id")
        );
        assert_eq!(
            http(Operation::Sign, 500, "InternalError", "boom").error_code,
            ErrorCode::Generic
        );
        assert_eq!(
            http(Operation::Sign, 400, "BadParameter", "x").error_code,
            ErrorCode::ValidationError
        );
        let disabled = http(
            Operation::Sign,
            403,
            "Forbidden",
            "Operation sign is not allowed on a disabled key",
        );
        assert_eq!(disabled.error_code, ErrorCode::AccessDenied);
        assert!(
            disabled.error_message.contains("is disabled"),
            "{}",
            disabled.error_message
        );
        let timeout = VaultError::Timeout {
            target: target(Operation::Sign),
            after: Duration::from_secs(30),
        }
        .to_plugin_error();
        assert_eq!(timeout.error_code, ErrorCode::Timeout);
        assert!(timeout.error_message.contains("30s deadline"));
        let throttled = VaultError::Throttled {
            target: target(Operation::Sign),
            attempts: 3,
            retry_after: Some(Duration::from_secs(20)),
            detail: ServiceDetail {
                status: 429,
                ..Default::default()
            },
        }
        .to_plugin_error();
        assert_eq!(throttled.error_code, ErrorCode::Throttled);
        assert_eq!(throttled.error_metadata["httpStatus"], "429");
        assert!(
            throttled
                .error_message
                .contains("3 times and asked to wait 20 s more")
        );
        let credential = VaultError::Credential {
            message: "no credential could get a token".into(),
        }
        .to_plugin_error();
        assert_eq!(credential.error_code, ErrorCode::AccessDenied);
    }

    /// The exact error JSON notation receives for each kind of vault failure.
    #[test]
    fn error_json_snapshot() {
        let detail = |status: u16, code: &str, message: &str| ServiceDetail {
            status,
            azure_code: Some(code.into()),
            message: Some(message.into()),
            request_id: Some("00000000-request-id".into()),
            ..Default::default()
        };
        let cases = [
            VaultError::Http {
                target: target(Operation::Sign),
                detail: detail(401, "Unauthorized", "AKV10032: Invalid issuer"),
            },
            VaultError::Http {
                target: target(Operation::GetCertificate),
                detail: detail(
                    403,
                    "Forbidden",
                    "The user does not have certificates get permission",
                ),
            },
            VaultError::Http {
                target: target(Operation::GetSecret),
                detail: detail(
                    404,
                    "SecretNotFound",
                    "A secret with (name/id) signer was not found",
                ),
            },
            VaultError::Throttled {
                target: target(Operation::Sign),
                attempts: 4,
                retry_after: Some(Duration::from_secs(10)),
                detail: detail(
                    429,
                    "Throttled",
                    "Request was not processed because too many requests were received",
                ),
            },
            VaultError::Timeout {
                target: target(Operation::GetKey),
                after: Duration::from_millis(1500),
            },
            VaultError::Http {
                target: target(Operation::Sign),
                detail: detail(503, "ServiceUnavailable", "try later"),
            },
        ];
        let json: Vec<PluginError> = cases.iter().map(VaultError::to_plugin_error).collect();
        insta::assert_json_snapshot!(json);
    }
}
