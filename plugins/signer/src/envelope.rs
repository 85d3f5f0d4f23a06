//! generate-envelope (envelope mode, `verification_plugin=<name>`): the plugin builds the whole
//! JWS or COSE envelope, because only an envelope's critical extended attributes make notation run
//! a verification plugin.
//!
//! Same key resolution, chain checks, cache and vault signing as generate-signature
//! ([`crate::sign::sign_checked`]); on top of it the envelope carries, all critical:
//! - `io.cncf.notary.verificationPlugin` (and `…MinVersion` when configured);
//! - `io.github.notation-akv.keyId`: the versioned vault key URL that signed, which the verifier's
//!   `akv.key:` identities match.
//!
//! The signing time is this process's clock and the expiry is signing time +
//! `expiryDurationInSeconds`. notation adds nothing to an envelope plugin's output: no signing
//! agent, and no RFC 3161 timestamp (it ignores `--timestamp-url` on this path). So with
//! `timestamp_url` the plugin timestamps the signature itself, as notation-core-go does for the
//! envelopes it builds: the raw signature value, hashed with the signature algorithm's hash, sent
//! to the TSA with a nonce and `certReq`; the token is checked against `timestamp_root_cert` and
//! the signing chain before it goes into `io.cncf.notary.timestampSignature`. The TSA exchange
//! gets what is left of the command's deadline. The finished envelope is decoded and its
//! signature checked before it is returned.
//!
//! Envelope mode signs registry artifacts only: a payload whose `targetArtifact` is not an OCI or
//! Docker manifest or index is a blob (notation-go's blob signing sends the file's descriptor,
//! `application/octet-stream` by default) and is refused with a message that points to RAW mode.
//! notation-go's own blob signing (notation 2) stops before generate-envelope when a plugin
//! advertises SIGNATURE_GENERATOR.ENVELOPE only; this check covers every client that gets as far as
//! sending the blob.

use crate::PLUGIN_NAME;
use crate::config::VerificationPlugin;
use crate::error::SignError;
use crate::material::Material;
use crate::session::Session;
use crate::sign::sign_checked;
use notation_akv_envelope::{Attribute, EnvelopeType, SignRequest, payload};
use notation_akv_keyvault::settings::SettingsError;
use notation_akv_protocol::attributes::{
    AKV_KEY_ID, VERIFICATION_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION,
};
use notation_akv_protocol::generate_envelope::{
    ENVELOPE_TYPE_COSE, ENVELOPE_TYPE_JWS, PAYLOAD_TYPE_NOTARY,
};
use notation_akv_protocol::{GenerateEnvelopeRequest, GenerateEnvelopeResponse};
use notation_akv_timestamp::{TimestampError, Timestamper};
use time::OffsetDateTime;

/// The unsigned `io.cncf.notary.signingAgent` of our envelopes.
pub fn signing_agent() -> String {
    format!("notation-akv/{}", env!("CARGO_PKG_VERSION"))
}

/// The request checks that need no vault: envelope type, payload type and payload.
fn check_request(request: &GenerateEnvelopeRequest) -> Result<EnvelopeType, SignError> {
    let kind = EnvelopeType::from_media_type(&request.signature_envelope_type).ok_or_else(|| {
        SignError::Request(format!(
            "signatureEnvelopeType {:?} is not supported; use {ENVELOPE_TYPE_JWS} or {ENVELOPE_TYPE_COSE}",
            request.signature_envelope_type
        ))
    })?;
    if request.payload_type != PAYLOAD_TYPE_NOTARY {
        return Err(SignError::Request(format!(
            "payloadType {:?} is not supported; only {PAYLOAD_TYPE_NOTARY} can be signed",
            request.payload_type
        )));
    }
    payload::check(&request.payload).map_err(|e| SignError::Request(e.to_string()))?;
    check_registry_artifact(&request.payload)?;
    Ok(kind)
}

/// The media types of what notation signs in a registry: manifests and indexes.
const MANIFEST_MEDIA_TYPES: [&str; 5] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.artifact.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Refuses a blob: a checked payload whose `targetArtifact.mediaType` is not a manifest type.
fn check_registry_artifact(payload: &[u8]) -> Result<(), SignError> {
    let media_type = serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v["targetArtifact"]["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if MANIFEST_MEDIA_TYPES.contains(&media_type.as_str()) {
        return Ok(());
    }
    Err(SignError::Request(format!(
        "envelope mode (verification_plugin) signs registry artifacts only, and the targetArtifact \
         has media type {media_type:?}, not an OCI or Docker manifest or index: this is a blob. \
         Sign blobs in RAW mode: remove verification_plugin (and verification_plugin_min_version, \
         timestamp_url, timestamp_root_cert) from the plugin config; a RAW blob signature \
         verifies with notation's trust policy and no plugin"
    )))
}

/// The versioned key URL of the key that signs, e.g. `https://v.vault.azure.net/keys/k/0123…`.
pub fn key_url(session: &Session, material: &Material) -> String {
    // The endpoint always ends in '/'.
    format!(
        "{}keys/{}/{}",
        session.id.endpoint(),
        material.key_name,
        material.key_version
    )
}

fn attributes(plugin: &VerificationPlugin, key_url: String) -> Vec<Attribute> {
    let critical = |key: &str, value: &str| Attribute {
        key: key.into(),
        value: value.into(),
        critical: true,
    };
    let mut attributes = vec![critical(VERIFICATION_PLUGIN, &plugin.name)];
    if let Some(version) = &plugin.min_version {
        attributes.push(critical(VERIFICATION_PLUGIN_MIN_VERSION, version));
    }
    attributes.push(critical(AKV_KEY_ID, &key_url));
    attributes
}

/// The TSA client when `timestamp_url` is set, its root file read now so that a bad file fails
/// before the vault is asked to sign.
fn timestamper(session: &Session) -> Result<Option<Timestamper>, SignError> {
    let Some(config) = &session.config.timestamp else {
        return Ok(None);
    };
    let path = config.root_cert.display().to_string();
    let bytes = std::fs::read(&config.root_cert).map_err(|e| {
        SettingsError(format!(
            "timestamp_root_cert {path}: cannot read it ({e}); give the PEM file of the TSA's root certificate"
        ))
    })?;
    let roots =
        notation_akv_timestamp::parse_roots(&bytes, &path).map_err(|e| SettingsError(e.0))?;
    Ok(Some(Timestamper::new(config.url.clone(), roots)))
}

pub async fn generate_envelope(
    session: &Session,
    request: &GenerateEnvelopeRequest,
) -> Result<GenerateEnvelopeResponse, SignError> {
    let Some(plugin) = &session.config.verification_plugin else {
        return Err(SignError::Request(format!(
            "generate-envelope needs the plugin config verification_plugin (e.g. verification_plugin=akv-verifier); \
             without it the {PLUGIN_NAME} plugin signs in RAW mode (generate-signature)"
        )));
    };
    let kind = check_request(request)?;
    let timestamper = timestamper(session)?;
    let (material, origin, cache_key) = session.material().await?;
    let chain = material.chain_der()?;
    let signing_time = OffsetDateTime::now_utc();
    let expiry = match request.expiry_duration_in_seconds {
        0 => None,
        seconds => Some(
            i64::try_from(seconds)
                .ok()
                .and_then(|s| signing_time.checked_add(time::Duration::seconds(s)))
                .ok_or_else(|| {
                    SignError::Request(format!("expiryDurationInSeconds {seconds} is too large"))
                })?,
        ),
    };
    let key_url = key_url(session, &material);
    let attributes = attributes(plugin, key_url);
    let agent = signing_agent();
    let sign_request = SignRequest {
        payload: &request.payload,
        content_type: PAYLOAD_TYPE_NOTARY,
        algorithm: material.key_spec.signing_algorithm(),
        signing_time,
        expiry,
        extended_attributes: &attributes,
        certificate_chain: &chain,
        signing_agent: &agent,
    };
    let unsigned = notation_akv_envelope::prepare(kind, &sign_request)
        .map_err(|e| SignError::Internal(e.to_string()))?;
    let signature = sign_checked(
        session,
        &material,
        origin,
        &cache_key,
        unsigned.signing_input(),
    )
    .await?;
    let timestamp = match &timestamper {
        Some(timestamper) => {
            let (hash, content) =
                notation_akv_envelope::timestamp_content(sign_request.algorithm, &signature);
            let remaining = session.vault.deadline().remaining();
            if remaining.is_zero() {
                return Err(TimestampError::Timeout {
                    url: timestamper.url().to_string(),
                    after: remaining,
                }
                .into());
            }
            let token = timestamper
                .timestamp(content, hash, &material.certificates()?, remaining)
                .await?;
            session.log.note(&format!(
                "timestamped by {} (genTime {}, TSA {:?})",
                timestamper.url(),
                time::OffsetDateTime::from(token.gen_time),
                token
                    .tsa_chain
                    .first()
                    .map(|c| c.subject())
                    .unwrap_or_default()
            ));
            Some(token.der)
        }
        None => None,
    };
    let envelope = unsigned
        .finish_timestamped(signature, timestamp)
        .map_err(|e| SignError::Internal(e.to_string()))?;
    // What notation will check first: the envelope decodes and its signature verifies.
    notation_akv_envelope::parse(kind, &envelope)
        .and_then(|decoded| decoded.verify())
        .map_err(|e| {
            SignError::Verification(format!("the envelope built for {}: {e}", request.key_id))
        })?;
    session.log.note(&format!(
        "built a {} envelope naming verification plugin {}",
        kind.media_type(),
        plugin.name
    ));
    Ok(GenerateEnvelopeResponse {
        signature_envelope: envelope,
        signature_envelope_type: request.signature_envelope_type.clone(),
        annotations: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(envelope_type: &str, payload_type: &str, payload: &[u8]) -> GenerateEnvelopeRequest {
        GenerateEnvelopeRequest {
            contract_version: "1.0".into(),
            key_id: "https://v.vault.azure.net/keys/k".into(),
            payload_type: payload_type.into(),
            signature_envelope_type: envelope_type.into(),
            payload: payload.to_vec(),
            expiry_duration_in_seconds: 0,
            plugin_config: Default::default(),
        }
    }

    const PAYLOAD: &[u8] =
        br#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":3}}"#;

    #[test]
    fn requests_are_checked_before_the_vault() {
        assert_eq!(
            check_request(&request(ENVELOPE_TYPE_COSE, PAYLOAD_TYPE_NOTARY, PAYLOAD)).unwrap(),
            EnvelopeType::Cose
        );
        for (r, why) in [
            (
                request("application/pdf", PAYLOAD_TYPE_NOTARY, PAYLOAD),
                "signatureEnvelopeType",
            ),
            (
                request(ENVELOPE_TYPE_JWS, "application/json", PAYLOAD),
                "payloadType",
            ),
            (
                request(ENVELOPE_TYPE_JWS, PAYLOAD_TYPE_NOTARY, br#"{"subject":{}}"#),
                "not a Notary payload",
            ),
            (
                request(
                    ENVELOPE_TYPE_JWS,
                    PAYLOAD_TYPE_NOTARY,
                    br#"{"targetArtifact":{"mediaType":"application/octet-stream","digest":"sha256:aa","size":3}}"#,
                ),
                "this is a blob. Sign blobs in RAW mode: remove verification_plugin",
            ),
        ] {
            let err = check_request(&r).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn manifests_and_indexes_are_registry_artifacts_anything_else_is_a_blob() {
        let payload = |media_type: &str| {
            format!(
                r#"{{"targetArtifact":{{"mediaType":"{media_type}","digest":"sha256:aa","size":3}}}}"#
            )
        };
        for media_type in MANIFEST_MEDIA_TYPES {
            check_registry_artifact(payload(media_type).as_bytes()).unwrap();
        }
        for media_type in [
            "application/octet-stream",
            "application/spdx+json",
            "text/plain",
        ] {
            let err = check_registry_artifact(payload(media_type).as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("{media_type:?}")), "{err}");
            assert!(err.contains("RAW mode"), "{err}");
        }
    }

    #[test]
    fn the_attributes_name_the_plugin_and_the_key_all_critical() {
        let plugin = VerificationPlugin {
            name: "akv-verifier".into(),
            min_version: Some("0.1.0".into()),
        };
        let attributes = attributes(&plugin, "https://v/keys/k/1".into());
        let pairs: Vec<(&str, &str, bool)> = attributes
            .iter()
            .map(|a| {
                (
                    a.key.as_str(),
                    a.value.as_str().unwrap_or_default(),
                    a.critical,
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (VERIFICATION_PLUGIN, "akv-verifier", true),
                (VERIFICATION_PLUGIN_MIN_VERSION, "0.1.0", true),
                (AKV_KEY_ID, "https://v/keys/k/1", true),
            ]
        );
    }
}
