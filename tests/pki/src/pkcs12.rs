//! PKCS#12 (PFX) files with an empty password, the form AKV uses for `application/x-pkcs12` secrets.
//!
//! Written by `p12-keystore` (PBES2/AES-256 bags, HMAC-SHA-256 MAC keyed from the empty password);
//! `openssl pkcs12 -passin pass:` and the .NET/Go readers used by notation-azure-kv accept it.

use crate::PkiError;
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};

/// Builds a PFX from DER certificates (leaf first) and, optionally, the leaf's PKCS#8 key.
pub fn build(certs_der: &[Vec<u8>], leaf_key_pkcs8: Option<&[u8]>) -> Result<Vec<u8>, PkiError> {
    let certs = certs_der
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(pfx_error)?;
    let mut store = KeyStore::new();
    match leaf_key_pkcs8 {
        Some(key) => {
            let key = PrivateKey::from_der(key).map_err(pfx_error)?;
            let chain = PrivateKeyChain::new(&b"leaf"[..], key, certs);
            store.add_entry("leaf", KeyStoreEntry::PrivateKeyChain(chain));
        }
        None => {
            for (i, cert) in certs.into_iter().enumerate() {
                store.add_entry(&format!("cert{i}"), KeyStoreEntry::Certificate(cert));
            }
        }
    }
    store.writer("").write().map_err(pfx_error)
}

fn pfx_error(e: p12_keystore::error::Error) -> PkiError {
    PkiError::Pkcs12(e.to_string())
}
