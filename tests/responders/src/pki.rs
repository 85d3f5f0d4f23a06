//! Test certificate authorities whose certificates point at the test responders.
//!
//! Built on rcgen directly (not `akv-test-pki`'s chain builder) because revocation tests need what
//! a signing PKI does not: AIA OCSP URLs and CRL distribution points on intermediates, FreshestCRL
//! in certificates, and delegated OCSP responder certificates with and without
//! id-pkix-ocsp-nocheck. The keys are `akv-test-pki`'s ([`Key`]), of any of the six Notary key
//! specs; each certificate is signed with the hash its issuer's key size implies.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SerialNumber,
};
use sha2::Digest as _;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax, FreshestCrl};

use crate::FixtureError;
use crate::sign::{Key, KeySpec};

/// What to put in a certificate besides its name and key.
#[derive(Debug, Clone, Default)]
pub struct CertOptions {
    /// AIA id-ad-ocsp URLs, in order.
    pub ocsp_urls: Vec<String>,
    /// CRL distribution point URLs (one distribution point each).
    pub crl_urls: Vec<String>,
    /// FreshestCRL (delta CRL) URLs in the certificate.
    pub freshest_urls: Vec<String>,
    /// A delegated OCSP responder: EKU id-kp-OCSPSigning.
    pub ocsp_signing: bool,
    /// id-pkix-ocsp-nocheck.
    pub ocsp_nocheck: bool,
    /// Validity already over (for responder certificates).
    pub expired: bool,
    /// Spec of a freshly generated key (EC P-256 unless set); ignored when `key` is set.
    pub spec: Option<KeySpec>,
    /// Exactly this key, e.g. a [`Key::cached`] one shared by several certificates.
    pub key: Option<Arc<Key>>,
}

impl CertOptions {
    /// The certificate's key: `key` if set, else a fresh one of `spec`.
    fn make_key(&self) -> Result<Key, FixtureError> {
        match &self.key {
            Some(key) => key.duplicate(),
            None => Key::generate(self.spec.unwrap_or(KeySpec::Ec256)),
        }
    }

    pub fn ocsp(url: impl Into<String>) -> Self {
        Self {
            ocsp_urls: vec![url.into()],
            ..Self::default()
        }
    }

    pub fn crl(url: impl Into<String>) -> Self {
        Self {
            crl_urls: vec![url.into()],
            ..Self::default()
        }
    }
}

/// An end-entity (or responder) certificate with its key.
#[derive(Debug)]
pub struct Issued {
    pub der: Vec<u8>,
    pub key: Key,
    /// Serial number content bytes (positive, no padding byte).
    pub serial: Vec<u8>,
}

/// A CA that can issue certificates, CRLs and OCSP responses.
#[derive(Debug)]
pub struct TestCa {
    params: CertificateParams,
    key: Key,
    der: Vec<u8>,
    serial: Vec<u8>,
}

static SERIALS: AtomicU64 = AtomicU64::new(1);

/// A fresh positive 16-byte serial, unique within and across processes.
fn new_serial() -> Vec<u8> {
    let mut seed = Vec::new();
    seed.extend_from_slice(&std::process::id().to_be_bytes());
    seed.extend_from_slice(&SERIALS.fetch_add(1, Ordering::Relaxed).to_be_bytes());
    seed.extend_from_slice(
        &std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_be_bytes(),
    );
    let mut serial = sha2::Sha256::digest(&seed)[..16].to_vec();
    serial[0] = (serial[0] & 0x7f) | 0x10;
    serial
}

fn base_params(cn: &str, serial: &[u8], expired: bool) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CountryName, "US");
    params
        .distinguished_name
        .push(DnType::StateOrProvinceName, "WA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "notation-akv tests");
    params.distinguished_name.push(DnType::CommonName, cn);
    let now = OffsetDateTime::now_utc();
    if expired {
        params.not_before = now - Duration::days(30);
        params.not_after = now - Duration::days(1);
    } else {
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
    }
    params.serial_number = Some(SerialNumber::from_slice(serial));
    params
}

fn uri(u: &str) -> Result<GeneralName, FixtureError> {
    Ok(GeneralName::UniformResourceIdentifier(
        der::asn1::Ia5String::new(u)?,
    ))
}

fn apply(params: &mut CertificateParams, opts: &CertOptions) -> Result<(), FixtureError> {
    if !opts.ocsp_urls.is_empty() {
        let aia = AuthorityInfoAccessSyntax(
            opts.ocsp_urls
                .iter()
                .map(|u| {
                    Ok(AccessDescription {
                        access_method: const_oid::db::rfc5280::ID_AD_OCSP,
                        access_location: uri(u)?,
                    })
                })
                .collect::<Result<_, FixtureError>>()?,
        );
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                aia.to_der()?,
            ));
    }
    params.crl_distribution_points = opts
        .crl_urls
        .iter()
        .map(|u| CrlDistributionPoint {
            uris: vec![u.clone()],
        })
        .collect();
    if !opts.freshest_urls.is_empty() {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[2, 5, 29, 46],
                freshest_crl_der(&opts.freshest_urls)?,
            ));
    }
    if opts.ocsp_signing {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::OcspSigning);
    }
    if opts.ocsp_nocheck {
        // id-pkix-ocsp-nocheck: extnValue is an encoded NULL.
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5],
                vec![0x05, 0x00],
            ));
    }
    Ok(())
}

/// DER of a FreshestCRL (or CRLDistributionPoints) value listing `urls` as one full name each.
pub fn freshest_crl_der(urls: &[String]) -> Result<Vec<u8>, FixtureError> {
    let points = urls
        .iter()
        .map(|u| {
            Ok(DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(u)?])),
                reasons: None,
                crl_issuer: None,
            })
        })
        .collect::<Result<Vec<_>, FixtureError>>()?;
    Ok(FreshestCrl(points).to_der()?)
}

impl TestCa {
    /// A self-signed root CA with an EC P-256 key.
    pub fn root(cn: &str) -> Result<Self, FixtureError> {
        Self::root_with(cn, KeySpec::Ec256)
    }

    /// A self-signed root CA with a fresh key of `spec`.
    pub fn root_with(cn: &str, spec: KeySpec) -> Result<Self, FixtureError> {
        Self::root_with_key(cn, Key::generate(spec)?)
    }

    /// A self-signed root CA with exactly this key (e.g. a [`Key::cached`] one).
    pub fn root_with_key(cn: &str, key: Key) -> Result<Self, FixtureError> {
        let serial = new_serial();
        let mut params = base_params(cn, &serial, false);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let der = params.self_signed(key.pair())?.der().to_vec();
        Ok(Self {
            params,
            key,
            der,
            serial,
        })
    }

    /// An intermediate CA issued by this CA; `opts` places its own revocation pointers.
    pub fn intermediate(&self, cn: &str, opts: &CertOptions) -> Result<TestCa, FixtureError> {
        let key = opts.make_key()?;
        let serial = new_serial();
        let mut params = base_params(cn, &serial, false);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        apply(&mut params, opts)?;
        let issuer = Issuer::from_params(&self.params, self.key.pair());
        let der = params.signed_by(key.pair(), &issuer)?.der().to_vec();
        // rcgen keeps the extensions in `params`; the issuer view only needs name and key.
        params.custom_extensions.clear();
        params.crl_distribution_points.clear();
        Ok(TestCa {
            params,
            key,
            der,
            serial,
        })
    }

    /// A code-signing leaf (or, with `ocsp_signing`, a responder certificate) issued by this CA.
    pub fn issue(&self, cn: &str, opts: &CertOptions) -> Result<Issued, FixtureError> {
        let key = opts.make_key()?;
        let serial = new_serial();
        let mut params = base_params(cn, &serial, opts.expired);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if !opts.ocsp_signing {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::CodeSigning);
        }
        apply(&mut params, opts)?;
        let issuer = Issuer::from_params(&self.params, self.key.pair());
        let der = params.signed_by(key.pair(), &issuer)?.der().to_vec();
        Ok(Issued { der, key, serial })
    }

    /// Signs arbitrary rcgen parameters with this CA (for TLS server certificates and the like).
    pub fn sign_params(
        &self,
        params: &CertificateParams,
        key: &Key,
    ) -> Result<Vec<u8>, FixtureError> {
        let issuer = Issuer::from_params(&self.params, self.key.pair());
        Ok(params.signed_by(key.pair(), &issuer)?.der().to_vec())
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn pem(&self) -> String {
        pem_block("CERTIFICATE", &self.der)
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The parsed certificate.
    pub fn cert(&self) -> Result<x509_cert::Certificate, FixtureError> {
        Ok(x509_cert::Certificate::from_der(&self.der)?)
    }

    /// The subject name (the issuer name of what this CA signs).
    pub fn name(&self) -> Result<x509_cert::name::Name, FixtureError> {
        Ok(self.cert()?.tbs_certificate.subject)
    }
}

/// A PEM block with 64-column base64.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
