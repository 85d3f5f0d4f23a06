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

use notation_akv_protocol::reference::ErrorDoc;
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

/// The kinds of vault failure users meet, each with its code, causes and fix ([`Failure::doc`]).
///
/// [`VaultError::failure`] classifies every error (exhaustively), and
/// [`VaultError::to_plugin_error`] takes the code from the kind's entry, so the reference and the
/// code notation receives cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 401: the vault refused the token.
    Unauthorized,
    /// 403: the identity lacks the operation's permission.
    Forbidden,
    /// 403 from the vault's network rules (firewall, perimeter, private link).
    NetworkRefused,
    /// 401/403 naming a disabled object.
    Disabled,
    /// 404.
    NotFound,
    /// 400.
    BadRequest,
    /// 429, after the bounded retries.
    Throttled,
    /// Another HTTP status (5xx, …).
    ServiceError,
    Timeout,
    Credential,
    Transport,
    ForeignChallenge,
    Response,
}

impl Failure {
    /// Every kind, in the reference's order.
    pub const ALL: [Failure; 13] = [
        Failure::Unauthorized,
        Failure::Forbidden,
        Failure::NetworkRefused,
        Failure::Disabled,
        Failure::NotFound,
        Failure::BadRequest,
        Failure::Throttled,
        Failure::ServiceError,
        Failure::Timeout,
        Failure::Credential,
        Failure::Transport,
        Failure::ForeignChallenge,
        Failure::Response,
    ];

    /// The kind's catalogue entry.
    pub fn doc(self) -> ErrorDoc {
        let (name, code, cause, fix) = match self {
            Failure::Unauthorized => (
                "vault answered 401",
                ErrorCode::AccessDenied,
                "the vault rejected the token: the identity is in another tenant, the authority is not the vault's cloud, or the token is for another resource",
                "set tenant_id (or AZURE_TENANT_ID) to the vault's tenant and, for sovereign clouds, authority_host",
            ),
            Failure::Forbidden => (
                "vault answered 403",
                ErrorCode::AccessDenied,
                "the identity lacks the permission of the operation (the message names it, e.g. keys/sign)",
                "grant the access-policy permission or the RBAC role the message names (see Permissions); a signer without secrets/get can take the chain from ca_certs or self_signed instead",
            ),
            Failure::NetworkRefused => (
                "vault refused the network",
                ErrorCode::AccessDenied,
                "403 with innererror ForbiddenByFirewall or ForbiddenByConnection, or a network security perimeter rule: the vault does not admit this client's address; permissions are not the problem",
                "sign from a network the vault admits (its private endpoint, an address in its firewall rules) or change the vault's networking",
            ),
            Failure::Disabled => (
                "object disabled",
                ErrorCode::AccessDenied,
                "the key, certificate or secret version is disabled in the vault",
                "enable it, or name another version in --id",
            ),
            Failure::NotFound => (
                "vault answered 404",
                ErrorCode::ValidationError,
                "the certificate, key or secret of the --id does not exist (a missing secret is reported as its certificate)",
                "check the vault, name and version in --id; for a key without a certificate give ca_certs",
            ),
            Failure::BadRequest => (
                "vault answered 400",
                ErrorCode::ValidationError,
                "the vault refused the request as invalid, e.g. an algorithm the key type does not support",
                "check the key id in --id and that the key's type and size are a Notary key spec",
            ),
            Failure::Throttled => (
                "vault throttled",
                ErrorCode::Throttled,
                "HTTP 429 after bounded retries that honour Retry-After, within the command's deadline",
                "try again later, sign less often in parallel, or raise timeout",
            ),
            Failure::ServiceError => (
                "vault failed",
                ErrorCode::Generic,
                "another HTTP status from the vault (500, 503, …)",
                "try again; give support the requestId from errorMetadata",
            ),
            Failure::Timeout => (
                "vault deadline",
                ErrorCode::Timeout,
                "no answer from the vault (or the token endpoint) within timeout",
                "check the network path to the vault (proxy, DNS, firewall) or raise timeout",
            ),
            Failure::Credential => (
                "no credential",
                ErrorCode::AccessDenied,
                "no credential source produced a token; the message lists each source tried and why it failed",
                "set credential_type and the variables of that source (see Environment variables), or log in with az login",
            ),
            Failure::Transport => (
                "connection failed",
                ErrorCode::Generic,
                "the connection to the vault failed after retries (DNS, TLS, refused connection)",
                "check the vault host in --id, the proxy variables and that the vault's TLS certificate is trusted (SSL_CERT_FILE)",
            ),
            Failure::ForeignChallenge => (
                "foreign auth challenge",
                ErrorCode::AccessDenied,
                "the host's authentication challenge named a resource outside Key Vault's domain, so no token was sent",
                "check that --id is your vault's URL (az keyvault show --query properties.vaultUri) and that any HTTPS proxy passes WWW-Authenticate unchanged",
            ),
            Failure::Response => (
                "unusable vault answer",
                ErrorCode::Generic,
                "the vault answered 2xx with a body the plugin cannot use (no certificate, no key, a malformed signature)",
                "check that the object is a certificate or key Key Vault manages; give support the requestId",
            ),
        };
        ErrorDoc {
            name,
            code,
            cause,
            fix,
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

    /// The kind of failure, whose catalogue entry gives the code, causes and fix.
    pub fn failure(&self) -> Failure {
        match self {
            VaultError::Http { detail, .. } => classify(detail),
            VaultError::Throttled { .. } => Failure::Throttled,
            VaultError::Timeout { .. } => Failure::Timeout,
            VaultError::Credential { .. } => Failure::Credential,
            VaultError::Transport { .. } => Failure::Transport,
            VaultError::ForeignChallenge { .. } => Failure::ForeignChallenge,
            VaultError::Response { .. } => Failure::Response,
        }
    }

    /// The protocol error notation prints.
    pub fn to_plugin_error(&self) -> PluginError {
        let (failure, message, detail) = match self {
            VaultError::Http { target, detail } => {
                let (failure, message) = http_message(target, detail);
                (failure, message, Some(detail))
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
                    Failure::Throttled,
                    format!(
                        "Azure Key Vault throttled the request to {} {target} (HTTP 429) {attempts} times{wait}; \
                         retries stopped within the deadline. Try again later, or raise timeout=… in the plugin config",
                        target.operation.verb()
                    ),
                    Some(detail),
                )
            }
            VaultError::Timeout { target, after } => (
                Failure::Timeout,
                format!(
                    "no answer from Azure Key Vault to {} {target} within the {} deadline; \
                     check the network path to the vault, or raise timeout=… in the plugin config",
                    target.operation.verb(),
                    human_duration(*after)
                ),
                None,
            ),
            VaultError::Credential { message } => (
                Failure::Credential,
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
                Failure::Transport,
                format!(
                    "the connection to Azure Key Vault failed while trying to {} {target} ({attempts} attempts): {message}{}",
                    target.operation.verb(),
                    transport_hint(message)
                ),
                None,
            ),
            VaultError::ForeignChallenge { target, resource } => (
                Failure::ForeignChallenge,
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
                Failure::Response,
                format!(
                    "Azure Key Vault sent an unusable response to {} {target}: {message}",
                    target.operation.verb()
                ),
                Some(detail),
            ),
        };
        let mut error = PluginError::new(failure.doc().code, message);
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

/// Which kind of failure an HTTP answer is.
fn classify(detail: &ServiceDetail) -> Failure {
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
        403 if network => Failure::NetworkRefused,
        401 | 403 if disabled => Failure::Disabled,
        401 => Failure::Unauthorized,
        403 => Failure::Forbidden,
        404 => Failure::NotFound,
        400 => Failure::BadRequest,
        429 => Failure::Throttled,
        _ => Failure::ServiceError,
    }
}

fn http_message(target: &Target, detail: &ServiceDetail) -> (Failure, String) {
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
    let failure = classify(detail);
    let message = match failure {
        Failure::NetworkRefused => format!(
            "Azure Key Vault refused this client's network when asked to {} {target} ({http}). \
             The vault's firewall, network security perimeter or private-link settings do not admit \
             the address this request came from; permissions are not the problem. Sign from a network \
             the vault allows (through its private endpoint, or from an address in its firewall rules), \
             or have the vault's networking settings admit this one",
            op.verb()
        ),
        Failure::Disabled => format!(
            "the {target} is disabled ({http}); enable it in the vault or use another version"
        ),
        Failure::Unauthorized => format!(
            "Azure Key Vault rejected the credential when asked to {} {target} ({http}); \
             check that the identity belongs to the vault's tenant (tenant_id=…) and, for sovereign clouds, authority_host=…. \
             The identity also needs {}: {}",
            op.verb(),
            op.permission(),
            grant(target)
        ),
        Failure::Forbidden => {
            let mut text = format!(
                "access denied: the identity may not {} {target} ({http}). \
                 It needs the {} permission: {}",
                op.verb(),
                op.permission(),
                grant(target)
            );
            if op == Operation::GetSecret {
                text.push_str(
                    ". The secret is read only to get the certificate chain: set ca_certs=<bundle.pem> \
                     or self_signed=true in the plugin config to sign without secrets/get",
                );
            }
            text
        }
        // The plugin reads a secret only as the chain of the certificate the user named, so
        // it reports the missing object as that certificate.
        Failure::NotFound if op == Operation::GetSecret => {
            let certificate = Target {
                operation: Operation::GetCertificate,
                ..target.clone()
            };
            format!(
                "the {certificate} was not found: its secret, which holds the certificate chain, does not exist \
                 ({http}); check the name and version in --id"
            )
        }
        Failure::NotFound => {
            format!("the {target} was not found ({http}); check the name and version in --id")
        }
        Failure::BadRequest => format!(
            "Azure Key Vault refused the request to {} {target} as invalid ({http}); \
             check the key id in --id and that the key's type supports the key spec",
            op.verb()
        ),
        Failure::Throttled => format!(
            "Azure Key Vault throttled the request to {} {target} ({http})",
            op.verb()
        ),
        _ => format!("Azure Key Vault failed to {} {target} ({http})", op.verb()),
    };
    (failure, message)
}

/// How to grant the target's permission: an access policy or a built-in RBAC role on a Key Vault;
/// the local RBAC role on a Managed HSM, which has no access policies.
fn grant(target: &Target) -> String {
    let op = target.operation;
    if crate::Cloud::is_managed_hsm_host(&target.vault) {
        let role = MANAGED_HSM_CRYPTO_USER;
        let hsm = target.vault.split('.').next().unwrap_or("<hsm>");
        return format!(
            "assign the Managed HSM local RBAC role \"{role}\" (`az keyvault role assignment create --hsm-name {hsm} \
             --role \"{role}\" --assignee <identity> --scope /keys`); a Managed HSM has no access policies"
        );
    }
    format!(
        "grant the access policy `az keyvault set-policy --name <vault> {}` or the Azure RBAC role \"{}\" on the vault",
        op.access_policy(),
        op.rbac_role()
    )
}

/// The Managed HSM local RBAC role that grants keys/get and keys/sign.
pub const MANAGED_HSM_CRYPTO_USER: &str = "Managed HSM Crypto User";

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
    if m.contains("unsupportedsignaturealgorithm") || m.contains("handshakefailure") {
        "; the TLS handshake found no parameters both sides support: most often the server \
         certificate's key (the plugins accept RSA, ECDSA P-256 or P-384 and Ed25519 keys, not \
         P-521 or post-quantum ones), else a server that offers only TLS older than 1.2; if a \
         proxy inspects TLS, have it issue RSA or P-256/P-384 certificates over TLS 1.2 or 1.3"
    } else if m.contains("unknownissuer") || m.contains("invalid peer certificate") {
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

    /// One error of every kind: its code is its catalogue entry's, and together they cover
    /// [`Failure::ALL`]. (The match below stops compiling when a kind is added: add it to `ALL`
    /// and an example here.)
    #[test]
    fn every_failure_kind_is_catalogued_with_the_code_it_raises() {
        let detail = |status: u16, inner: Option<&str>, message: &str| ServiceDetail {
            status,
            inner_code: inner.map(str::to_string),
            message: Some(message.into()),
            ..Default::default()
        };
        let http = |status, inner, message| VaultError::Http {
            target: target(Operation::Sign),
            detail: detail(status, inner, message),
        };
        let examples = [
            http(401, None, "bad token"),
            http(403, None, "no permission"),
            http(
                403,
                Some("ForbiddenByFirewall"),
                "Client address is not authorized",
            ),
            http(403, None, "Operation sign is not allowed on a disabled key"),
            http(404, None, "gone"),
            http(400, None, "bad"),
            http(429, None, "slow down"),
            http(503, None, "later"),
            VaultError::Throttled {
                target: target(Operation::Sign),
                attempts: 2,
                retry_after: None,
                detail: detail(429, None, "x"),
            },
            VaultError::Timeout {
                target: target(Operation::Sign),
                after: Duration::from_secs(1),
            },
            VaultError::Credential {
                message: "none".into(),
            },
            VaultError::Transport {
                target: target(Operation::Sign),
                attempts: 1,
                message: "refused".into(),
            },
            VaultError::ForeignChallenge {
                target: target(Operation::Sign),
                resource: "https://evil.example".into(),
            },
            VaultError::Response {
                target: target(Operation::Sign),
                message: "no cer".into(),
                detail: detail(200, None, "x"),
            },
        ];
        let mut seen = Vec::new();
        for e in &examples {
            let failure = e.failure();
            assert_eq!(e.to_plugin_error().error_code, failure.doc().code, "{e:?}");
            if !seen.contains(&failure) {
                seen.push(failure);
            }
        }
        assert_eq!(seen, Failure::ALL);
        for f in Failure::ALL {
            match f {
                Failure::Unauthorized
                | Failure::Forbidden
                | Failure::NetworkRefused
                | Failure::Disabled
                | Failure::NotFound
                | Failure::BadRequest
                | Failure::Throttled
                | Failure::ServiceError
                | Failure::Timeout
                | Failure::Credential
                | Failure::Transport
                | Failure::ForeignChallenge
                | Failure::Response => {}
            }
            let doc = f.doc();
            assert!(!doc.cause.is_empty() && !doc.fix.is_empty(), "{f:?}");
        }
    }

    #[test]
    fn a_managed_hsm_names_its_local_role_not_access_policies() {
        let hsm = Target {
            vault: "contoso.managedhsm.azure.net".into(),
            ..target(Operation::Sign)
        };
        let e = VaultError::Http {
            target: hsm,
            detail: ServiceDetail {
                status: 403,
                ..Default::default()
            },
        }
        .to_plugin_error();
        assert_eq!(e.error_code, ErrorCode::AccessDenied);
        assert!(
            e.error_message.contains("\"Managed HSM Crypto User\"")
                && e.error_message.contains("--hsm-name contoso")
                && !e.error_message.contains("set-policy"),
            "{}",
            e.error_message
        );
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
