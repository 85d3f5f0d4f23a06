//! TLS for the https responders: a test CA (its DER goes into the client's extra roots, so no
//! process-wide `SSL_CERT_FILE` is needed) and a server certificate for 127.0.0.1.

use std::sync::Arc;

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, SanType};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::FixtureError;
use crate::pki::TestCa;
use crate::sign::{Key, KeySpec};

/// A TLS server identity chained to its own test CA.
#[derive(Debug)]
pub struct TlsIdentity {
    ca: TestCa,
    server_config: Arc<rustls::ServerConfig>,
}

impl TlsIdentity {
    pub fn new() -> Result<Self, FixtureError> {
        let ca = TestCa::root("akv-test-responders TLS CA")?;
        let key = Key::generate(KeySpec::Ec256)?;
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "127.0.0.1");
        params.subject_alt_names = vec![
            SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])),
            SanType::DnsName("localhost".try_into()?),
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(30);
        let cert = CertificateDer::from(ca.sign_params(&params, &key)?);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FixtureError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(
                vec![cert, CertificateDer::from(ca.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der())),
            )
            .map_err(|e| FixtureError::Tls(e.to_string()))?;
        Ok(Self {
            ca,
            server_config: Arc::new(server_config),
        })
    }

    /// DER of the CA clients must trust.
    pub fn ca_der(&self) -> Vec<u8> {
        self.ca.der().to_vec()
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config.clone()
    }
}
