//! AKV certificate status (`akv_status`): is the signing certificate's version still enabled,
//! unexpired and present in the vault?
//!
//! Certificates that Azure Key Vault issues itself (self-signed, or from a private PKI with no
//! OCSP or CRL) cannot be revoked the usual way; disabling or deleting the certificate version in
//! the vault is how their owners withdraw them. This check makes that count as revocation.
//!
//! Which version: a `akv_certificates` entry for the leaf's SHA-256 wins (explicit configuration);
//! otherwise the signature's key-id attribute `…/keys/<name>/<version>`, whose certificate is
//! `…/certificates/<name>/<version>` (Key Vault gives a certificate's key and secret its own name
//! and version). The vault's copy of the certificate must be the signing leaf, byte for byte, so a
//! mapping or key id pointing elsewhere cannot vouch for a different certificate.
//!
//! Vault access — credentials, deadline, retries, error mapping — is the Key Vault crate's
//! [`VaultClient`], the same code the signer uses. Credentials follow the signer's
//! configuration (`NOTATION_AKV_CREDENTIAL_TYPE` and friends, `AZURE_*`), overridable with
//! `akv_credential_type`, `akv_client_id`, `akv_tenant_id` and `akv_authority_host`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use notation_akv_keyvault::{
    ConfigReader, Deadline, ObjectId, ObjectKind, RequestLog, VaultClient, VaultSettings,
};
use notation_akv_protocol::attributes::AKV_KEY_ID;
use notation_akv_x509::Certificate;

use crate::config::{Environment, Settings};
use crate::identity::SignerKey;

/// The certificate version to look up, and why that one.
fn locate(
    leaf: &Certificate,
    signer_key: &SignerKey,
    settings: &Settings,
) -> Result<(ObjectId, String), String> {
    let fingerprint = leaf.sha256_fingerprint();
    if let Some(id) = settings.akv_certificates.get(&fingerprint) {
        let parsed = ObjectId::parse(id).map_err(|e| format!("akv_certificates: {e}"))?;
        if parsed.kind() != ObjectKind::Certificate {
            return Err(format!(
                "akv_certificates maps leaf sha256 {fingerprint} to {id}, which is not a certificate id (…/certificates/<name>/<version>)"
            ));
        }
        return Ok((
            parsed,
            format!("akv_certificates entry for leaf sha256 {fingerprint}"),
        ));
    }
    match signer_key {
        SignerKey::Present(key) => {
            let mut id = format!("{}certificates/{}", key.endpoint(), key.name());
            if let Some(version) = key.version() {
                id.push('/');
                id.push_str(version);
            }
            let parsed = ObjectId::parse(&id).map_err(|e| e.to_string())?;
            Ok((parsed, format!("the signature's {AKV_KEY_ID} {key}")))
        }
        SignerKey::Malformed(reason) => Err(format!(
            "AKV certificate status cannot be checked: {reason}"
        )),
        SignerKey::Absent => Err(format!(
            "AKV certificate status cannot be checked: the signature has no {AKV_KEY_ID} attribute and akv_certificates has no entry for leaf sha256 {fingerprint}"
        )),
    }
}

/// Vault settings: ours for the deadline and credential overrides, the signer's environment
/// variables for the rest.
fn vault_settings(settings: &Settings, env: &Environment) -> Result<VaultSettings, String> {
    let mut config: BTreeMap<String, String> = settings
        .akv_vault
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    config.insert(
        "timeout".into(),
        format!("{}ms", settings.akv_timeout.as_millis()),
    );
    // Verification only reads public certificate data; never touch the signer's disk cache.
    config.insert("cache".into(), "false".into());
    let lookup = |name: &str| env.get(name).map(str::to_string);
    VaultSettings::read(&ConfigReader::new(&config, &lookup))
        .map_err(|e| format!("AKV certificate status: {e}"))
}

fn unix(t: i64) -> SystemTime {
    if t >= 0 {
        UNIX_EPOCH + Duration::from_secs(t.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
    }
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `Ok(summary)` when the version is enabled, unexpired and holds the leaf; `Err(reason)`
/// otherwise, including when the vault cannot be asked (status unknown).
pub fn check(
    chain: &[Certificate],
    signer_key: &SignerKey,
    settings: &Settings,
    env: &Environment,
    now: SystemTime,
) -> Result<String, String> {
    let leaf = chain
        .first()
        .ok_or("AKV certificate status: the signature has no certificate")?;
    let (id, why) = locate(leaf, signer_key, settings)?;
    let vault_settings = vault_settings(settings, env)?;
    let log = match &settings.log_file {
        Some(path) => RequestLog::open(path).unwrap_or_else(|_| RequestLog::disabled()),
        None => RequestLog::disabled(),
    };
    let lookup = |name: &str| env.get(name).map(str::to_string);
    let client = VaultClient::new(
        id.endpoint(),
        id.cloud(),
        &vault_settings,
        Deadline::new(settings.akv_timeout),
        log,
        &lookup,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the AKV runtime: {e}"))?;
    let info = runtime
        .block_on(client.get_certificate(id.name(), id.version()))
        .map_err(|e| match e.status() {
            Some(404) => format!(
                "AKV certificate {id} (from {why}) is deleted or does not exist: treated as revoked"
            ),
            _ => format!("AKV certificate status of {id} (from {why}) is unknown: {e}"),
        })?;
    if info.der != leaf.der() {
        return Err(format!(
            "AKV certificate {id} (from {why}) is not the signing certificate \"{}\" (sha256 {}){}",
            leaf.subject(),
            leaf.sha256_fingerprint(),
            if id.version().is_none() {
                "; name the version that signed"
            } else {
                ""
            }
        ));
    }
    if info.enabled == Some(false) {
        return Err(format!(
            "AKV certificate {id} is disabled in the vault: treated as revoked"
        ));
    }
    if let Some(expires) = info.expires.map(unix)
        && expires <= now
    {
        return Err(format!(
            "AKV certificate {id} expired in the vault at {}: treated as revoked",
            rfc3339(expires)
        ));
    }
    Ok(format!("AKV certificate {id} is enabled and unexpired"))
}
