//! The HTTP client setup under every outbound connection of both plugins: the vault and token
//! endpoints (`notation-akv-keyvault`), OCSP responders and CRL servers
//! (`notation-akv-revocation`) and timestamp authorities (`notation-akv-timestamp`).
//!
//! notation starts a plugin process for every command, so what a process pays once at start-up
//! is paid on every `notation sign` and `notation verify`. Two such costs are settled here.
//!
//! # One crypto library for TLS: ring
//!
//! Every TLS connection uses rustls' *ring* provider ([`crypto_provider`]): key exchange, record
//! ciphers, the random numbers a handshake needs (ring reads them from the OS) and the checks of
//! server certificates and handshake signatures. [`client_builder`] installs it as the process's
//! rustls default before any client is built; reqwest and the Azure SDK are built without a
//! provider of their own (reqwest's `rustls-no-provider`, no SDK default features), so no other
//! TLS stack is linked. Nonces (OCSP request nonce, RFC 3161 nonce, the client assertion's `jti`)
//! come from [`fill_random`], straight from the OS.
//!
//! Two costs this avoids, both measured: aws-lc, the other rustls provider, seeds its DRBG from
//! CPU-jitter entropy on a process's first random number (about 30 ms of CPU per process, five
//! times a whole warm signature; only a build variable of aws-lc-sys turns that off, which
//! `cargo install` and packagers' builds would not set), and it links as one block of about
//! 2 MB per binary. The price: ring offers no post-quantum hybrid key exchange
//! (X25519MLKEM768), so TLS uses X25519 or the NIST curves, and it has no P-521, so a server
//! whose certificate chain is signed with P-521 is refused (the Azure endpoints, public CAs and
//! TSAs use RSA, P-256 and P-384). Signatures inside certificates, envelopes, OCSP responses,
//! CRLs and timestamp tokens, P-521 included, are checked by `notation-akv-x509`.
//!
//! # Root certificates are read once, fast
//!
//! On Linux and the BSDs [`client_builder`] hands reqwest a TLS configuration built once per
//! process by [`tls`] over the system roots read by [`roots`] (same files, same `SSL_CERT_FILE` /
//! `SSL_CERT_DIR` precedence as the platform verifier it replaces there): each root is parsed
//! once, the certificate directories are read only when a chain does not verify against the
//! bundle, and all the process's clients share the result; see those modules.
//!
//! # TCP_NODELAY
//!
//! Requests here are small and answered at once, so Nagle's algorithm only ever delays them: a
//! write that follows an unacknowledged one waits for the peer's delayed ACK (40 ms on Linux).
//! [`client_builder`] sets `TCP_NODELAY` explicitly (it is reqwest's default today; the setting
//! here keeps it whatever that default becomes).

use std::sync::Once;

pub use reqwest;

pub mod roots;
#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
pub mod tls;

/// rustls' ring provider: see the crate doc.
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Installs [`crypto_provider`] as the process's rustls default, once. A provider installed
/// earlier by the embedding program is kept.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = crypto_provider().install_default();
    });
}

/// A reqwest client builder for every outbound connection: [`crypto_provider`] for TLS,
/// `TCP_NODELAY` on, and (on Linux and the BSDs) the system roots from [`roots`]. Callers add
/// their own timeouts, redirects and proxies; extra roots go through [`client_builder_with`].
pub fn client_builder() -> reqwest::ClientBuilder {
    client_builder_with(&ExtraRoots::default())
}

/// [`client_builder`] that also trusts `extra` roots.
pub fn client_builder_with(extra: &ExtraRoots) -> reqwest::ClientBuilder {
    install_crypto_provider();
    with_roots(reqwest::Client::builder().tcp_nodelay(true), extra)
}

#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
pub use tls::ExtraRoots;

#[cfg(all(unix, not(target_vendor = "apple"), not(target_os = "android")))]
fn with_roots(builder: reqwest::ClientBuilder, extra: &ExtraRoots) -> reqwest::ClientBuilder {
    builder.use_preconfigured_tls(tls::client_config(extra))
}

/// Extra roots a caller trusts besides the platform's.
#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
#[derive(Debug, Clone, Default)]
pub struct ExtraRoots(Vec<reqwest::Certificate>);

#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
impl ExtraRoots {
    /// Each DER certificate as a root.
    pub fn from_der(certificates: &[Vec<u8>]) -> Result<ExtraRoots, String> {
        certificates
            .iter()
            .map(|der| reqwest::Certificate::from_der(der).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map(ExtraRoots)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// macOS, iOS, Windows and Android: the platform verifier asks the OS.
#[cfg(not(all(unix, not(target_vendor = "apple"), not(target_os = "android"))))]
fn with_roots(builder: reqwest::ClientBuilder, extra: &ExtraRoots) -> reqwest::ClientBuilder {
    builder.tls_certs_merge(extra.0.iter().cloned())
}

/// Fills `bytes` with random bytes from the operating system (`getrandom(2)` on Linux).
pub fn fill_random(bytes: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_rings_with_its_key_exchanges_and_rsa_and_ecdsa_checks() {
        let ours = crypto_provider();
        let names: Vec<_> = ours.kx_groups.iter().map(|g| g.name()).collect();
        assert!(names.contains(&rustls::NamedGroup::X25519), "{names:?}");
        let schemes = ours.signature_verification_algorithms.supported_schemes();
        for scheme in [
            rustls::SignatureScheme::RSA_PKCS1_SHA256,
            rustls::SignatureScheme::RSA_PSS_SHA256,
            rustls::SignatureScheme::ECDSA_NISTP256_SHA256,
            rustls::SignatureScheme::ECDSA_NISTP384_SHA384,
        ] {
            assert!(schemes.contains(&scheme), "{scheme:?} in {schemes:?}");
        }
    }

    #[test]
    fn the_provider_is_the_process_default_once_a_client_is_built() {
        client_builder().build().expect("client");
        let installed = rustls::crypto::CryptoProvider::get_default().expect("installed");
        let ring = rustls::crypto::ring::default_provider();
        assert_eq!(installed.cipher_suites.len(), ring.cipher_suites.len());
    }

    #[test]
    fn random_bytes_differ() {
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        fill_random(&mut a).unwrap();
        fill_random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
