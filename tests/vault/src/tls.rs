//! The vault's TLS identity: one test CA per process, one server certificate per vault.
//!
//! One CA per process matters because clients find it through `SSL_CERT_FILE`, which is read when
//! an HTTP client is built: every vault in a test process must chain to the same file.
//! The server certificate names `127.0.0.1`, `localhost` and any extra DNS names asked for.

use crate::VaultError;
use akv_test_pki::{KeySpec, TestKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SanType,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use time::{Duration, OffsetDateTime};
use tokio_rustls::rustls::{self, pki_types};

/// The process-wide test CA: its PEM and the file it was written to.
pub(crate) struct TestCa {
    pub pem: String,
    pub file: PathBuf,
    params: CertificateParams,
    key: TestKey,
}

/// The CA, created on first use. Its file, `$TMPDIR/akv-test-vault-<pid>/ca.pem`, exists while a
/// [`CaFileGuard`] does.
pub(crate) fn test_ca() -> Result<&'static TestCa, VaultError> {
    static CA: OnceLock<Result<TestCa, String>> = OnceLock::new();
    CA.get_or_init(|| make_ca().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| VaultError::Tls(e.clone()))
}

fn make_ca() -> Result<TestCa, VaultError> {
    let key = TestKey::generate(KeySpec::Ec256)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "akv-test-vault TLS CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    let cert = params.self_signed(&key.key_pair()?).map_err(tls_err)?;
    let pem = cert.pem();
    let dir = std::env::temp_dir().join(format!("akv-test-vault-{}", std::process::id()));
    let file = dir.join("ca.pem");
    Ok(TestCa {
        pem,
        file,
        params,
        key,
    })
}

/// Vaults alive in this process: the CA directory is written by the first and removed with the last,
/// so test runs leave nothing behind in the temp directory.
static LIVE_VAULTS: Mutex<usize> = Mutex::new(0);

/// Keeps the CA file (and its directory, which also holds per-vault files) on disk.
#[derive(Debug)]
pub(crate) struct CaFileGuard;

pub(crate) fn hold_ca_file() -> Result<CaFileGuard, VaultError> {
    let ca = test_ca()?;
    let mut live = LIVE_VAULTS.lock().unwrap_or_else(|e| e.into_inner());
    if *live == 0 || !ca.file.exists() {
        if let Some(dir) = ca.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&ca.file, &ca.pem)?;
    }
    *live += 1;
    Ok(CaFileGuard)
}

impl Drop for CaFileGuard {
    fn drop(&mut self) {
        let mut live = LIVE_VAULTS.lock().unwrap_or_else(|e| e.into_inner());
        *live = live.saturating_sub(1);
        if *live == 0
            && let Ok(ca) = test_ca()
            && let Some(dir) = ca.file.parent()
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn tls_err(e: impl std::fmt::Display) -> VaultError {
    VaultError::Tls(e.to_string())
}

/// A rustls server config with a fresh server certificate issued by the test CA.
pub(crate) fn server_config(
    extra_dns: &[String],
    key_spec: KeySpec,
) -> Result<Arc<rustls::ServerConfig>, VaultError> {
    let ca = test_ca()?;
    let issuer = Issuer::new(ca.params.clone(), ca.key.key_pair()?);
    let key = TestKey::generate(key_spec)?;
    let mut names = vec!["localhost".to_string()];
    names.extend(extra_dns.iter().cloned());
    let mut params = CertificateParams::new(names).map_err(tls_err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params
        .distinguished_name
        .push(DnType::CommonName, "akv-test-vault");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(30);
    let cert = params
        .signed_by(&key.key_pair()?, &issuer)
        .map_err(tls_err)?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let chain = vec![pki_types::CertificateDer::from(cert.der().to_vec())];
    let private = pki_types::PrivateKeyDer::Pkcs8(key.pkcs8_der().to_vec().into());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
