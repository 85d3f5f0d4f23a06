//! `notation-akv-verifier`: the Notation verification plugin (plugin name `akv-verifier`).
//!
//! The binary is a thin shell over [`Verifier`], which implements the protocol crate's
//! [`Plugin`] trait.
//!
//! # Design
//!
//! Declaring `SIGNATURE_VERIFIER.TRUSTED_IDENTITY` and `SIGNATURE_VERIFIER.REVOCATION_CHECK` turns
//! notation's own identity and revocation checks off, so this plugin does both jobs completely:
//!
//! | module | concept |
//! |---|---|
//! | [`config`] | settings from `--plugin-config`, environment variables and a config file, in that precedence |
//! | [`identity`] | `trustedIdentities`: `*`, `x509.subject:`, `x509.sha256:`, `akv.key:` |
//! | [`status`] | `REVOCATION_CHECK`: OCSP/CRL for every non-root certificate (the revocation crate), the expiry horizon, AKV certificate status |
//! | [`horizon`] | chain certificates expiring within a configured window |
//! | [`akv_status`] | the signing certificate's version in Azure Key Vault: enabled, unexpired, not deleted |
//! | [`log`] | the optional log file (stdout and stderr belong to the protocol) |
//! | [`revocation`] | settings into the revocation engine's configuration, and its answer into a reason that ends with what to do about each problem |
//! | [`admin`] | commands for operators (`bundle fetch`, `bundle check`, `doctor`), never called by notation |
//!
//! Contract with notation (plugin-protocol.md §2.5, §8):
//! - a result for every capability notation asks for, never a missing one;
//! - network trouble, unknown status or a setting from the environment/file that cannot be read is
//!   `success: false` with a precise reason, so the trust policy level decides (a non-zero exit
//!   fails verification even under `audit`);
//! - exit 1 (`VALIDATION_ERROR`) only for a malformed request — including a bad
//!   `--plugin-config`, which the user typed on this very command line;
//! - `processedAttributes` lists exactly the critical extended attributes this plugin understands
//!   ([`AKV_KEY_ID`]) among those notation passed, so notation rejects signatures carrying any
//!   other critical attribute.

pub mod admin;
pub mod akv_status;
pub mod config;
pub mod horizon;
pub mod identity;
pub mod log;
pub mod revocation;
pub mod status;

use std::collections::BTreeMap;
use std::time::SystemTime;

use notation_akv_protocol::attributes::AKV_KEY_ID;
use notation_akv_protocol::reference::ErrorDoc;
use notation_akv_protocol::{
    Capability, ErrorCode, GetMetadataRequest, GetMetadataResponse, Plugin, PluginError,
    VerificationResult, VerifySignatureRequest, VerifySignatureResponse,
};
use notation_akv_x509::Certificate;

use crate::config::Environment;
use crate::identity::SignerKey;
use crate::log::Log;

/// The plugin name: notation requires it to equal the executable's `notation-` suffix.
pub const PLUGIN_NAME: &str = "akv-verifier";

/// The critical extended attributes this plugin understands.
pub const PROCESSED_ATTRIBUTES: &[&str] = &[AKV_KEY_ID];

/// The verification plugin.
#[derive(Debug, Default)]
pub struct Verifier;

impl Plugin for Verifier {
    fn metadata(&self, _request: &GetMetadataRequest) -> GetMetadataResponse {
        GetMetadataResponse::new(
            PLUGIN_NAME,
            "Verify trusted identity and revocation (OCSP, CRL, Azure Key Vault status) of Notary Project signatures",
            env!("CARGO_PKG_VERSION"),
            "https://github.com/notation-akv/notation-akv",
            vec![
                Capability::TrustedIdentityVerifier,
                Capability::RevocationCheckVerifier,
            ],
        )
    }

    fn help(&self) -> &str {
        static HELP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        HELP.get_or_init(help_text)
    }

    fn verify_signature(
        &self,
        request: VerifySignatureRequest,
    ) -> Result<VerifySignatureResponse, PluginError> {
        verify(&request, &Environment::from_process(), SystemTime::now())
    }
}

/// `--help` text: the sources, every key from [`config::KEYS`] and the identity forms.
fn help_text() -> String {
    let mut text = String::from(
        "Configuration (first source wins): notation verify --plugin-config key=value, then\n\
         NOTATION_AKV_VERIFIER_<KEY>, then the JSON file named by NOTATION_AKV_VERIFIER_CONFIG\n\
         (default $XDG_CONFIG_HOME/notation-akv/verifier.json). Keys:\n",
    );
    for key in config::KEYS {
        text.push_str(&format!("  {:<21} {}\n", key.name, key.help_line()));
    }
    text.push_str(
        "Trusted identities: *, x509.subject:<DN>, x509.sha256:<hex>, akv.key:<vault key URL>.\n",
    );
    text.push_str(admin::HELP);
    text
}

/// One `verify-signature` run with an explicit environment and clock (the testable core).
pub fn verify(
    request: &VerifySignatureRequest,
    env: &Environment,
    now: SystemTime,
) -> Result<VerifySignatureResponse, PluginError> {
    let chain = parse_chain(&request.signature.certificate_chain)?;
    let attributes = &request.signature.critical_attributes.extended_attributes;
    let processed_attributes = processed(request);
    let requested = &request.trust_policy.signature_verification;

    let settings = match config::load(&request.plugin_config, env) {
        Ok(settings) => settings,
        Err(e) if let Some(doc) = e.doc() => {
            return Err(PluginError::new(
                doc.code,
                format!("invalid verifier configuration: {e}"),
            ));
        }
        Err(e) => {
            // The environment or a shared file is wrong: fail every check visibly and let the
            // policy level decide, rather than aborting even `audit` verifications.
            let reason = format!("invalid verifier configuration: {e}");
            return Ok(VerifySignatureResponse {
                verification_results: requested
                    .iter()
                    .map(|c| (*c, VerificationResult::failed(reason.clone())))
                    .collect(),
                processed_attributes,
            });
        }
    };
    let log = Log::new(settings.log_file.clone());
    let signer_key = SignerKey::from_attribute(attributes.get(AKV_KEY_ID));
    let leaf = chain.first().map(Certificate::subject).unwrap_or_default();
    log.line(format!(
        "verify-signature: leaf \"{leaf}\", {} certificate(s), checks {:?}",
        chain.len(),
        requested.iter().map(|c| c.as_str()).collect::<Vec<_>>()
    ));

    // Only signingAuthority signatures have an authentic signing time; notation sends it for
    // those alone, and only then does the invalidityDate rule apply.
    let attrs = &request.signature.critical_attributes;
    let signing_time = (attrs.signing_scheme == "notary.x509.signingAuthority")
        .then_some(attrs.authentic_signing_time)
        .flatten()
        .map(SystemTime::from);
    let mut verification_results = BTreeMap::new();
    for capability in requested {
        let result = match capability {
            Capability::TrustedIdentityVerifier => {
                match identity::evaluate(
                    &request.trust_policy.trusted_identities,
                    &chain,
                    &signer_key,
                ) {
                    Ok(matched) => {
                        log.line(format!("trusted identity: {matched}"));
                        VerificationResult::passed()
                    }
                    Err(reason) => VerificationResult::failed(reason),
                }
            }
            Capability::RevocationCheckVerifier => {
                status::evaluate(&chain, signing_time, &signer_key, &settings, env, now, &log)
            }
            // notation only asks for capabilities this plugin declared; answer anything else
            // rather than leave it out, which notation treats as inconclusive.
            other => VerificationResult::failed(format!(
                "{other} is not a verification capability of {PLUGIN_NAME}"
            )),
        };
        if let Some(reason) = &result.reason {
            log.line(format!("{capability}: failed: {reason}"));
        }
        verification_results.insert(*capability, result);
    }
    // A log that cannot be written must not change the verdict.
    let _ = log.flush();
    Ok(VerifySignatureResponse {
        verification_results,
        processed_attributes,
    })
}

/// The critical attributes notation passed that this plugin understands.
fn processed(request: &VerifySignatureRequest) -> Vec<String> {
    let signature = &request.signature;
    PROCESSED_ATTRIBUTES
        .iter()
        .filter(|name| {
            signature.unprocessed_attributes.iter().any(|a| a == *name)
                || signature
                    .critical_attributes
                    .extended_attributes
                    .contains_key(**name)
        })
        .map(|name| name.to_string())
        .collect()
}

/// The certificate chain of the request is not DER X.509.
pub const BAD_CHAIN: ErrorDoc = ErrorDoc {
    name: "malformed certificate chain",
    code: ErrorCode::ValidationError,
    cause: "a certificate of the request's signature.certificateChain is not DER X.509 (notation sends what the envelope holds)",
    fix: "re-sign the artifact; the signature's chain is corrupt",
};

/// The verifier's failures that are error codes; everything else is a `success: false` result
/// with its reason, for the trust policy level to weigh.
pub const ERRORS: &[ErrorDoc] = &[config::BAD_PLUGIN_CONFIG, BAD_CHAIN];

fn parse_chain(der_chain: &[Vec<u8>]) -> Result<Vec<Certificate>, PluginError> {
    der_chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| {
                PluginError::new(
                    BAD_CHAIN.code,
                    format!("signature.certificateChain[{i}] is not a DER X.509 certificate: {e}"),
                )
            })
        })
        .collect()
}
