//! The TLS client configuration every connection uses on Linux and the BSDs: built once per
//! process, verifying against the system roots of [`crate::roots`] (plus a caller's extra roots).
//!
//! Handing reqwest the roots as certificates (`tls_certs_only`) made it parse each one again
//! into a root store for every client a process built (the vault's, the token endpoint's, a
//! responder's). Here the anchors are parsed once, the root store and its verifier are shared
//! by every client through an `Arc`, and reqwest gets the finished configuration
//! (`use_preconfigured_tls`).
//!
//! # The certificate directories are a fallback, as in OpenSSL
//!
//! [`SystemVerifier`] first verifies a server's chain against the bundle file's roots. Only when
//! that fails does it read the certificate directories (once per process) and verify again
//! against the bundle, the directories and the extra roots together, whose answer is final. So a
//! chain is accepted exactly when it verifies against the same union of roots as before, and a
//! process whose servers chain to the bundle (the usual case: on Debian every root of
//! `/etc/ssl/certs` is in its bundle) never reads the ~300 directory entries. Nor is the bundle
//! read before the first TLS handshake: a process that fetches only `http://` URLs (OCSP
//! responders, CRL distribution points and timestamp authorities mostly are) reads no root.

use crate::roots::{SystemRoots, system_roots};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

/// Extra roots a caller trusts besides the system's (the verifier's `tls_ca_file`), parsed
/// when the setting is read so a bad one is reported there.
#[derive(Debug, Clone, Default)]
pub struct ExtraRoots(Vec<TrustAnchor<'static>>);

impl ExtraRoots {
    /// Parses each DER certificate as a trust anchor.
    pub fn from_der(certificates: &[Vec<u8>]) -> Result<ExtraRoots, String> {
        certificates
            .iter()
            .map(|der| {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                    .map(|anchor| anchor.to_owned())
                    .map_err(|e| format!("not a usable trust anchor: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ExtraRoots)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The client configuration for the system roots plus `extra`: shared for the process when
/// `extra` is empty.
pub fn client_config(extra: &ExtraRoots) -> rustls::ClientConfig {
    static SYSTEM_ONLY: OnceLock<rustls::ClientConfig> = OnceLock::new();
    if extra.is_empty() {
        return SYSTEM_ONLY
            .get_or_init(|| build(&ExtraRoots::default()))
            .clone();
    }
    build(extra)
}

fn build(extra: &ExtraRoots) -> rustls::ClientConfig {
    let provider = Arc::new(crate::crypto_provider());
    let verifier = SystemVerifier::new(system_roots, extra.clone(), provider.clone());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the crypto provider supports TLS 1.2 and 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // What reqwest offers without its http2 feature.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

fn webpki_verifier(
    anchors: impl IntoIterator<Item = TrustAnchor<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Option<Arc<WebPkiServerVerifier>> {
    let mut store = RootCertStore::empty();
    store.extend(anchors);
    // An empty store cannot build a verifier; no roots means nothing verifies.
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
        .build()
        .ok()
}

/// Verifies against the bundle (and extra roots) first, then against everything: see the
/// module doc. Nothing is read before the first TLS handshake, so a process that only fetches
/// `http://` URLs (most OCSP responders, CRL distribution points and timestamp authorities)
/// never reads a root.
#[derive(Debug)]
pub struct SystemVerifier {
    system: fn() -> &'static SystemRoots,
    extra: ExtraRoots,
    provider: Arc<rustls::crypto::CryptoProvider>,
    first: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
    everything: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl SystemVerifier {
    fn new(
        system: fn() -> &'static SystemRoots,
        extra: ExtraRoots,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> SystemVerifier {
        SystemVerifier {
            system,
            extra,
            provider,
            first: OnceLock::new(),
            everything: OnceLock::new(),
        }
    }

    /// The verifier over the bundle and the extra roots.
    fn first(&self) -> Option<&Arc<WebPkiServerVerifier>> {
        self.first
            .get_or_init(|| {
                webpki_verifier(
                    (self.system)().file().iter().chain(&self.extra.0).cloned(),
                    self.provider.clone(),
                )
            })
            .as_ref()
    }

    /// The verifier over the bundle, the directories and the extra roots, once the directories
    /// add anything; `None` when they add nothing (the first answer stands).
    fn everything(&self) -> Option<&Arc<WebPkiServerVerifier>> {
        self.everything
            .get_or_init(|| {
                let system = (self.system)();
                if system.directories().is_empty() {
                    return None;
                }
                webpki_verifier(
                    system
                        .file()
                        .iter()
                        .chain(system.directories())
                        .chain(&self.extra.0)
                        .cloned(),
                    self.provider.clone(),
                )
            })
            .as_ref()
    }
}

fn no_roots() -> rustls::Error {
    rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
}

impl ServerCertVerifier for SystemVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verify = |v: &Arc<WebPkiServerVerifier>| {
            v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        };
        let first = self.first().map(verify);
        match first {
            Some(Ok(verified)) => Ok(verified),
            Some(Err(error)) => match self.everything() {
                Some(everything) => verify(everything),
                None => Err(error),
            },
            None => self
                .everything()
                .map(verify)
                .unwrap_or_else(|| Err(no_roots())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roots::RootLocations;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

    /// A CA's PEM and a `localhost` server certificate it issued.
    fn ca_and_server(name: &str) -> (String, CertificateDer<'static>) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&key).unwrap();
        let issuer = Issuer::new(params, key);
        let server = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap();
        (ca.pem(), server.der().clone())
    }

    fn verify(v: &SystemVerifier, server: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("localhost").unwrap();
        v.verify_server_cert(server, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn the_directories_are_read_only_when_the_bundle_does_not_verify() {
        let tmp = tempfile::tempdir().unwrap();
        let (bundle_ca, bundle_server) = ca_and_server("in the bundle");
        let (dir_ca, dir_server) = ca_and_server("in the directory");
        let (late_ca, late_server) = ca_and_server("added to the directory later");
        let (_, unknown_server) = ca_and_server("trusted nowhere");
        let (extra_ca, extra_server) = ca_and_server("an extra root");
        let bundle = tmp.path().join("bundle.pem");
        let dir = tmp.path().join("certs");
        std::fs::create_dir(&dir).unwrap();
        // The directory repeats the bundle's root, as Debian's does.
        std::fs::write(dir.join("bundle-copy.pem"), &bundle_ca).unwrap();
        std::fs::write(dir.join("dir.pem"), &dir_ca).unwrap();
        static LOCATIONS: OnceLock<RootLocations> = OnceLock::new();
        static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
        fn system() -> &'static SystemRoots {
            ROOTS.get_or_init(|| SystemRoots::read(LOCATIONS.get().unwrap().clone()))
        }
        LOCATIONS
            .set(RootLocations {
                file: Some(bundle.clone()),
                dirs: vec![dir.clone()],
            })
            .unwrap();
        let provider = Arc::new(crate::crypto_provider());
        let extra = ExtraRoots::from_der(&[rustls::pki_types::pem::PemObject::from_pem_slice(
            extra_ca.as_bytes(),
        )
        .map(|c: CertificateDer<'static>| c.to_vec())
        .unwrap()])
        .unwrap();
        let verifier = SystemVerifier::new(system, extra, provider);
        // Nothing is read before the first handshake: the bundle written now is the one used.
        std::fs::write(&bundle, &bundle_ca).unwrap();

        verify(&verifier, &bundle_server).expect("a server under the bundle's root");
        verify(&verifier, &extra_server).expect("a server under an extra root");
        // Nothing has read the directory yet: a root written there now is still found.
        std::fs::write(dir.join("late.pem"), &late_ca).unwrap();
        verify(&verifier, &late_server).expect("a server under a root added to the directory");
        verify(&verifier, &dir_server).expect("a server under the directory's root");
        let err = verify(&verifier, &unknown_server).unwrap_err();
        assert_eq!(
            err,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
        // The directory adds its own two roots, not the copy of the bundle's.
        assert_eq!(system().directories().len(), 2);
    }

    #[test]
    fn without_any_root_nothing_verifies() {
        fn system() -> &'static SystemRoots {
            static ROOTS: OnceLock<SystemRoots> = OnceLock::new();
            ROOTS.get_or_init(|| {
                SystemRoots::read(RootLocations {
                    file: None,
                    dirs: vec![],
                })
            })
        }
        let verifier = SystemVerifier::new(
            system,
            ExtraRoots::default(),
            Arc::new(crate::crypto_provider()),
        );
        let (_, server) = ca_and_server("trusted nowhere");
        assert!(verify(&verifier, &server).is_err());
    }

    #[test]
    fn a_bad_extra_root_is_reported() {
        let err = ExtraRoots::from_der(&[b"not a certificate".to_vec()]).unwrap_err();
        assert!(err.contains("not a usable trust anchor"), "{err}");
    }
}
