//! generate-signature: hash, sign in the vault, check locally, answer.
//!
//! notation sends the bytes to sign (the JWS signing input or the COSE `Sig_structure`) and the
//! hash to use; the plugin hashes them, has the vault sign the digest with the pinned key
//! version, and verifies the result against the leaf certificate exactly as notation's verifiers
//! will (PSS salt = hash length, ECDSA fixed-width r‖s) before returning it. A certificate that
//! does not belong to the key is reported here, by name, instead of as notation's generic
//! "generated signature failed verification".

use crate::error::SignError;
use crate::material::{Material, Origin};
use crate::session::Session;
use notation_akv_keyvault::cache::CacheKey;
use notation_akv_keyvault::id::parts_of;
use notation_akv_protocol::{GenerateSignatureRequest, GenerateSignatureResponse, HashAlgorithm};
use sha2::Digest;

/// The digest of `payload` with `hash`.
pub fn digest(hash: HashAlgorithm, payload: &[u8]) -> Vec<u8> {
    match hash {
        HashAlgorithm::Sha256 => sha2::Sha256::digest(payload).to_vec(),
        HashAlgorithm::Sha384 => sha2::Sha384::digest(payload).to_vec(),
        HashAlgorithm::Sha512 => sha2::Sha512::digest(payload).to_vec(),
    }
}

pub async fn generate_signature(
    session: &Session,
    request: &GenerateSignatureRequest,
) -> Result<GenerateSignatureResponse, SignError> {
    if request.hash_algorithm != request.key_spec.hash() {
        return Err(SignError::Request(format!(
            "hashAlgorithm {} does not go with keySpec {} (the Notary Project pairs it with {})",
            request.hash_algorithm,
            request.key_spec,
            request.key_spec.hash()
        )));
    }
    let (material, origin, cache_key) = session.material().await?;
    if material.key_spec != request.key_spec {
        session.forget(&cache_key);
        return Err(SignError::Request(format!(
            "the request is for a {} key but {} is now {} (was the key rotated between describe-key and \
             generate-signature?); sign again",
            request.key_spec, request.key_id, material.key_spec
        )));
    }
    let signature = sign_checked(session, &material, origin, &cache_key, &request.payload).await?;
    Ok(GenerateSignatureResponse {
        key_id: request.key_id.clone(),
        signature,
        signing_algorithm: material.key_spec.signing_algorithm(),
        certificate_chain: material.chain_der()?,
    })
}

/// Has the vault sign `message` (hashed with the key spec's hash) with the material's pinned key
/// version, and checks the signature with the leaf certificate before anyone sees it. Material
/// the vault or the check contradicts is dropped from the cache.
pub async fn sign_checked(
    session: &Session,
    material: &Material,
    origin: Origin,
    cache_key: &CacheKey,
    message: &[u8],
) -> Result<Vec<u8>, SignError> {
    let algorithm = material.key_spec.signing_algorithm();
    let hash = digest(material.key_spec.hash(), message);
    let signed = match session
        .vault
        .sign(
            &material.key_name,
            Some(&material.key_version),
            algorithm,
            &hash,
        )
        .await
    {
        Ok(signed) => signed,
        Err(e) => {
            // A cached version may have been disabled or deleted since; rebuild next time.
            if origin == Origin::Cache {
                session.forget(cache_key);
            }
            return Err(e.into());
        }
    };
    if let Some(kid) = &signed.kid
        && let Some((_, name, Some(version))) = parts_of(kid)
        && (name != material.key_name || version != material.key_version)
    {
        return Err(SignError::Verification(format!(
            "asked the vault to sign with key {}/{} but it answered for {kid}",
            material.key_name, material.key_version
        )));
    }
    let chain = material.certificates()?;
    let leaf = chain
        .first()
        .ok_or_else(|| SignError::Certificate("the certificate chain is empty".into()))?;
    if let Err(e) = notation_akv_x509::verify_plugin_signature(
        leaf.public_key(),
        algorithm,
        message,
        &signed.signature,
    ) {
        session.forget(cache_key);
        return Err(SignError::Verification(format!(
            "the signature from vault key {}/{} does not verify with the leaf certificate {} ({e}): \
             the certificate does not belong to this key. Check that the certificate and key versions match \
             (ca_certs leaf, or the vault certificate's kid)",
            material.key_name,
            material.key_version,
            leaf.reference()
        )));
    }
    Ok(signed.signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_known_answers() {
        assert_eq!(
            digest(HashAlgorithm::Sha256, b"abc")[..4],
            [0xba, 0x78, 0x16, 0xbf]
        );
        assert_eq!(digest(HashAlgorithm::Sha384, b"abc").len(), 48);
        assert_eq!(digest(HashAlgorithm::Sha512, b"abc").len(), 64);
    }
}
