//! Client-certificate authentication for the `environment` credential.
//!
//! `azure_identity`'s own `ClientCertificateCredential` needs OpenSSL (its `client_certificate`
//! feature), which would stop the plugin being a static binary. A certificate credential is only
//! a client assertion: an RS256 JWT with the certificate's SHA-1 thumbprint (`x5t`), addressed to
//! the token endpoint, signed with the private key. [`CertificateAssertion`] builds that with
//! ring (a private-key operation needs randomness for RSA blinding, and ring takes it from the
//! OS, see `notation_akv_http`) and hands it to the SDK's `ClientAssertionCredential`.
//!
//! Inputs (as in other Azure SDKs): `AZURE_CLIENT_CERTIFICATE_PATH` names a PEM file with the
//! certificate and its PKCS#8 or PKCS#1 RSA key, or a PKCS#12 file, whose password is
//! `AZURE_CLIENT_CERTIFICATE_PASSWORD` (empty if unset). The key stays in memory for the one
//! command; the file bytes are wiped after parsing, and nothing about the key is logged.

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use sha1::Digest;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// Lifetime of one assertion; Entra allows up to 10 minutes.
const LIFETIME_SECS: u64 = 600;

/// Signs client assertions with a certificate's key.
pub struct CertificateAssertion {
    key: RsaKeyPair,
    x5t: String,
    client_id: String,
    audience: String,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("x5t", &self.x5t)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    /// Loads the certificate and key from `path`. `token_endpoint` is the JWT audience:
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    pub fn load(
        path: &Path,
        password: Option<&str>,
        client_id: &str,
        token_endpoint: &str,
    ) -> Result<CertificateAssertion, String> {
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        );
        let (key, certificate) =
            if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
                from_pem(&bytes)
            } else {
                from_pkcs12(&bytes, password.unwrap_or(""))
            }
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let thumbprint = sha1::Sha1::digest(&certificate);
        Ok(CertificateAssertion {
            key,
            x5t: URL_SAFE_NO_PAD.encode(thumbprint),
            client_id: client_id.to_string(),
            audience: token_endpoint.to_string(),
        })
    }

    /// A fresh signed assertion.
    pub fn assertion(&self) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut jti = [0u8; 16];
        notation_akv_http::fill_random(&mut jti).map_err(|_| "no randomness".to_string())?;
        let jti: String = jti.iter().map(|b| format!("{b:02x}")).collect();
        let header = serde_json::json!({"alg":"RS256","typ":"JWT","x5t":self.x5t});
        let claims = serde_json::json!({
            "aud": self.audience, "iss": self.client_id, "sub": self.client_id,
            "jti": jti, "nbf": now, "exp": now + LIFETIME_SECS,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the client assertion failed".to_string())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        self.assertion().map_err(|e| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e)
        })
    }
}

fn from_pem(bytes: &[u8]) -> Result<(RsaKeyPair, Vec<u8>), String> {
    let blocks = pem::parse_many(bytes).map_err(|e| format!("not a valid PEM file ({e})"))?;
    let certificate = blocks
        .iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .map(|b| b.contents().to_vec())
        .ok_or("no CERTIFICATE block")?;
    let key = blocks
        .iter()
        .find_map(|b| match b.tag() {
            "PRIVATE KEY" => Some(RsaKeyPair::from_pkcs8(b.contents())),
            "RSA PRIVATE KEY" => Some(RsaKeyPair::from_der(b.contents())),
            _ => None,
        })
        .ok_or("no PRIVATE KEY or RSA PRIVATE KEY block (encrypted keys are not supported)")?
        .map_err(|e| format!("the private key is not a usable RSA key ({e})"))?;
    Ok((key, certificate))
}

fn from_pkcs12(bytes: &[u8], password: &str) -> Result<(RsaKeyPair, Vec<u8>), String> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password)
        .map_err(|e| format!("not a PEM file, and not a PKCS#12 file this password opens ({e})"))?;
    let bag = archive
        .keys
        .first()
        .ok_or("the PKCS#12 file has no private key")?;
    let key = RsaKeyPair::from_pkcs8(bag.key.as_der())
        .map_err(|e| format!("the private key is not a usable RSA key ({e})"))?;
    let certificate = archive
        .certs
        .iter()
        .find(|c| {
            c.local_key_id.is_some()
                && c.local_key_id.as_deref() == bag.local_key_id.as_ref().map(|id| id.0.as_slice())
        })
        .or_else(|| archive.certs.first())
        .map(|c| c.cert.as_der().to_vec())
        .ok_or("the PKCS#12 file has no certificate")?;
    Ok((key, certificate))
}
