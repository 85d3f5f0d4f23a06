//! What the vault sends (key ids in configuration, JWKs, sign results) and the signer's cache.

use crate::fixture;
use azure_security_keyvault_keys::models::{Key, KeyOperationResult};
use notation_akv::material::Material;
use notation_akv_keyvault::cache::{Cache, CacheKey};
use notation_akv_keyvault::id::{ObjectId, parts_of, version_of};
use notation_akv_keyvault::settings::CacheSettings;
use notation_akv_keyvault::{PublicKey, RequestLog};
use notation_akv_protocol::SigningAlgorithm;
use notation_akv_x509::{matches_jwk, verify_plugin_signature};
use std::time::Duration;

/// A `keyId` from notation (`--id`), and the ids the vault returns (`kid`, `sid`).
pub fn key_id(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = ObjectId::parse(text) {
        let _ = (id.as_str(), id.endpoint(), id.vault(), id.kind(), id.name());
        let _ = (id.version(), id.cloud(), id.is_managed_hsm());
        // What parses must reparse to the same id.
        let again = ObjectId::parse(id.as_str()).expect("a parsed id reparses");
        assert_eq!(again.name(), id.name());
        assert_eq!(again.version(), id.version());
    }
    let _ = version_of(text);
    let _ = parts_of(text);
}

/// The vault's `GET /keys/{name}/{version}` body, as the SDK reads it, then compared with a
/// certificate's key as the signer does.
pub fn jwk(data: &[u8]) {
    let Ok(key) = serde_json::from_slice::<Key>(data) else {
        return;
    };
    let Some(jwk) = key.key.as_ref() else {
        return;
    };
    let jwk = notation_akv::material::jwk(&PublicKey::from(jwk));
    for cert in fixture::chain() {
        let _ = matches_jwk(cert.public_key(), &jwk);
    }
}

/// The vault's `POST /keys/…/sign` body, as the SDK reads it; the signer then checks the
/// signature against the leaf before returning it.
pub fn sign_response(data: &[u8]) {
    let Ok(result) = serde_json::from_slice::<KeyOperationResult>(data) else {
        return;
    };
    let Some(signature) = result.result else {
        return;
    };
    for algorithm in SigningAlgorithm::ALL {
        let _ = verify_plugin_signature(
            fixture::leaf().public_key(),
            algorithm,
            b"signing input",
            &signature,
        );
    }
}

fn cache_key() -> CacheKey {
    CacheKey {
        vault: "fuzz.vault.azure.net".into(),
        collection: "certificates".into(),
        name: "signer".into(),
        version: Some("0123456789abcdef0123456789abcdef".into()),
        variant: "secret".into(),
    }
}

/// A signer cache file another process wrote. The first byte picks what the rest is: 0, the
/// whole file (format, key, digest, payload); otherwise the payload of an intact entry, so the
/// typed read of the cached material is reached past the digest.
pub fn cache_entry(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    let dir = fixture::scratch("signer-cache");
    let settings = CacheSettings {
        enabled: true,
        versionless_ttl: Duration::from_secs(60),
        dir: Some(dir.clone()),
    };
    let cache = Cache::open(&settings, RequestLog::disabled()).unwrap();
    let key = cache_key();
    if *mode == 0 {
        cache.put(&key, &serde_json::json!({}));
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
            .expect("the entry just written");
        std::fs::write(&file, rest).unwrap();
    } else {
        let Ok(payload) = serde_json::from_slice::<serde_json::Value>(rest) else {
            return;
        };
        cache.put(&key, &payload);
    }
    if let Some(material) = cache.get::<Material>(&key) {
        let _ = material.chain_der();
        let _ = material.certificates();
    }
}
