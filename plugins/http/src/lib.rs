//! The HTTP client setup under every outbound connection of both plugins: the vault and token
//! endpoints (`notation-akv-keyvault`), OCSP responders and CRL servers
//! (`notation-akv-revocation`) and timestamp authorities (`notation-akv-timestamp`).
//!
//! notation starts a plugin process for every command, so what a process pays once at start-up
//! is paid on every `notation sign` and `notation verify`. Two such costs are settled here.
//!
//! # Randomness never comes from aws-lc
//!
//! aws-lc (under `aws-lc-rs`) seeds its DRBG on the first random number a process asks for, and
//! by default it seeds from CPU-jitter entropy: about 30 ms of CPU per process, five times the
//! rest of a warm signature. Seeding from the OS instead (`getrandom(2)`) takes microseconds.
//!
//! The jitter source can only be switched off when aws-lc-sys is compiled (the
//! `AWS_LC_SYS_NO_JITTER_ENTROPY` build variable); aws-lc-sys has no cargo feature for it. A
//! variable is not part of the package: a `.cargo/config.toml` `[env]` entry reaches builds run
//! inside this repository, but not `cargo install --path` run from elsewhere, nor a packager's
//! own build, and a build that misses it is correct but 30 ms slower per process with nothing to
//! show it. So the fix is structural and holds for every build: **no code path asks aws-lc for
//! a random number.**
//!
//! - TLS: [`crypto_provider`] is rustls' *ring* provider (key exchange, record ciphers and the
//!   random numbers a handshake needs; ring reads them from the OS) with aws-lc-rs' *signature
//!   verification* algorithms, the same ones that check signatures everywhere else in the
//!   plugins (so a P-521 server certificate verifies as before). Verifying needs no randomness.
//!   [`client_builder`] installs it as the process's rustls default before any client is built;
//!   reqwest, its platform verifier and the Azure SDK transport all take it from there.
//! - Nonces (OCSP request nonce, RFC 3161 nonce, the client assertion's `jti`): [`fill_random`],
//!   straight from the OS.
//! - The one private-key operation done locally, the RS256 client assertion of certificate
//!   credentials, signs with ring, whose RSA blinding draws from the OS.
//!
//! aws-lc-rs stays for hashing and signature verification (chains, envelopes, OCSP responses,
//! CRLs, timestamp tokens), none of which touches its DRBG. The price: ring offers no
//! post-quantum hybrid key exchange (X25519MLKEM768), so TLS uses X25519 or the NIST curves.
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

/// rustls' ring provider with aws-lc-rs' signature verification algorithms: see the crate doc.
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::CryptoProvider {
        signature_verification_algorithms: rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms,
        ..rustls::crypto::ring::default_provider()
    }
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
    fn the_provider_keeps_aws_lc_verification_and_takes_the_rest_from_ring() {
        let ours = crypto_provider();
        let ring = rustls::crypto::ring::default_provider();
        let aws = rustls::crypto::aws_lc_rs::default_provider();
        let names = |p: &rustls::crypto::CryptoProvider| {
            p.kx_groups.iter().map(|g| g.name()).collect::<Vec<_>>()
        };
        assert_eq!(names(&ours), names(&ring));
        let schemes = ours.signature_verification_algorithms.supported_schemes();
        assert_eq!(
            schemes,
            aws.signature_verification_algorithms.supported_schemes()
        );
        assert!(schemes.contains(&rustls::SignatureScheme::ECDSA_NISTP521_SHA512));
        assert!(ours.fips() == ring.fips());
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
