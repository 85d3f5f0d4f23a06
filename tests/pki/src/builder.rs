//! `ChainBuilder`: one leaf, self-signed or issued by a root → intermediate pair of the same key spec.

use crate::chain::{Chain, IssuedCert};
use crate::key::{INTERMEDIATE_SLOT, ROOT_SLOT};
use crate::profile::{Eku, LeafKeyUsage, Subject, Validity, whole_seconds};
use crate::{PkiError, TestKey};
use der::Encode;
use notation_akv_protocol::KeySpec;
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};

const ID_PE_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const ID_AD_OCSP: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_AD_CA_ISSUERS: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");

/// Revocation pointers written into one certificate.
#[derive(Clone, Debug, Default)]
struct Pointers {
    ocsp: Vec<String>,
    ca_issuers: Vec<String>,
    crl: Vec<String>,
}

/// Builds a [`Chain`]. Defaults give a Notary-compliant, currently valid, CA-issued chain.
#[derive(Clone, Debug)]
pub struct ChainBuilder {
    spec: KeySpec,
    self_signed: bool,
    subject: Subject,
    eku: Eku,
    key_usage: LeafKeyUsage,
    validity: Validity,
    serial: Option<Vec<u8>>,
    leaf_key: Option<TestKey>,
    key_slot: u32,
    leaf_pointers: Pointers,
    intermediate_pointers: Pointers,
}

impl ChainBuilder {
    /// root → intermediate → leaf, all keys of `spec`.
    pub fn new(spec: KeySpec) -> ChainBuilder {
        ChainBuilder {
            spec,
            self_signed: false,
            subject: Subject::new(format!("akv-test leaf {spec}")),
            eku: Eku::default(),
            key_usage: LeafKeyUsage::default(),
            validity: Validity::default(),
            serial: None,
            leaf_key: None,
            key_slot: 0,
            leaf_pointers: Pointers::default(),
            intermediate_pointers: Pointers::default(),
        }
    }

    /// A single self-signed leaf.
    pub fn self_signed(spec: KeySpec) -> ChainBuilder {
        let mut b = ChainBuilder::new(spec);
        b.self_signed = true;
        b.subject = Subject::new(format!("akv-test self-signed {spec}"));
        b
    }

    pub fn subject(mut self, subject: Subject) -> Self {
        self.subject = subject;
        self
    }

    /// Keeps the default C/ST/L/O and sets only the CN.
    pub fn common_name(mut self, cn: impl Into<String>) -> Self {
        self.subject.common_name = cn.into();
        self
    }

    pub fn eku(mut self, eku: Eku) -> Self {
        self.eku = eku;
        self
    }

    pub fn key_usage(mut self, key_usage: LeafKeyUsage) -> Self {
        self.key_usage = key_usage;
        self
    }

    /// AKV's default policy: serverAuth+clientAuth EKU and keyEncipherment (non-compliant).
    pub fn akv_default_policy(self) -> Self {
        self.eku(Eku::ServerClientAuth)
            .key_usage(LeafKeyUsage::DigitalSignatureKeyEncipherment)
    }

    pub fn validity(mut self, validity: Validity) -> Self {
        self.validity = validity;
        self
    }

    /// Leaf serial number, big-endian and positive. Default: 16 random bytes.
    pub fn serial(mut self, serial: &[u8]) -> Self {
        self.serial = Some(serial.to_vec());
        self
    }

    /// Use the cached key of this slot for the leaf (default 0); a different slot gives a different key.
    pub fn key_slot(mut self, slot: u32) -> Self {
        self.key_slot = slot;
        self
    }

    /// Use exactly this key for the leaf.
    pub fn leaf_key(mut self, key: TestKey) -> Self {
        self.leaf_key = Some(key);
        self
    }

    /// Adds an OCSP responder URL (AIA) to the leaf.
    pub fn leaf_ocsp_url(mut self, url: impl Into<String>) -> Self {
        self.leaf_pointers.ocsp.push(url.into());
        self
    }

    /// Adds a caIssuers URL (AIA) to the leaf.
    pub fn leaf_ca_issuers_url(mut self, url: impl Into<String>) -> Self {
        self.leaf_pointers.ca_issuers.push(url.into());
        self
    }

    /// Adds a CRL distribution point URL to the leaf.
    pub fn leaf_crl_url(mut self, url: impl Into<String>) -> Self {
        self.leaf_pointers.crl.push(url.into());
        self
    }

    /// Adds an OCSP responder URL (AIA) to the intermediate (ignored when self-signed).
    pub fn intermediate_ocsp_url(mut self, url: impl Into<String>) -> Self {
        self.intermediate_pointers.ocsp.push(url.into());
        self
    }

    /// Adds a CRL distribution point URL to the intermediate (ignored when self-signed).
    pub fn intermediate_crl_url(mut self, url: impl Into<String>) -> Self {
        self.intermediate_pointers.crl.push(url.into());
        self
    }

    pub fn build(self) -> Result<Chain, PkiError> {
        let leaf_key = match &self.leaf_key {
            Some(k) => k.clone(),
            None => TestKey::cached(self.spec, self.key_slot)?,
        };
        let (not_before, not_after) = self.validity.window();
        let mut leaf_params = CertificateParams::default();
        leaf_params.distinguished_name = self.subject.to_rcgen();
        leaf_params.not_before = not_before;
        leaf_params.not_after = not_after;
        leaf_params.is_ca = IsCa::NoCa;
        leaf_params.key_usages = match self.key_usage {
            LeafKeyUsage::DigitalSignature => vec![KeyUsagePurpose::DigitalSignature],
            LeafKeyUsage::DigitalSignatureKeyEncipherment => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
        };
        leaf_params.extended_key_usages = match self.eku {
            Eku::CodeSigning => vec![ExtendedKeyUsagePurpose::CodeSigning],
            Eku::ServerClientAuth => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
            Eku::None => vec![],
        };
        let leaf_serial = match &self.serial {
            Some(s) => s.clone(),
            None => random_serial()?,
        };
        leaf_params.serial_number = Some(SerialNumber::from_slice(&leaf_serial));
        self.leaf_pointers.apply(&mut leaf_params)?;
        let leaf_pair = leaf_key.key_pair()?;

        if self.self_signed {
            let cert = leaf_params.self_signed(&leaf_pair)?;
            let leaf = issued(cert, leaf_key, leaf_serial, &self.subject, &leaf_params);
            return Ok(self.chain(leaf, None, None));
        }

        let root_key = TestKey::cached(self.spec, ROOT_SLOT)?;
        let root_subject = ca_subject(format!("akv-test root CA {}", self.spec));
        let root_params = ca_params(&root_subject, None, random_serial()?);
        let root_pair = root_key.key_pair()?;
        let root_cert = root_params.self_signed(&root_pair)?;
        let root_serial = serial_of(&root_params);
        let root = issued(
            root_cert,
            root_key,
            root_serial,
            &root_subject,
            &root_params,
        );
        let root_issuer = Issuer::new(root_params, root_pair);

        let inter_key = TestKey::cached(self.spec, INTERMEDIATE_SLOT)?;
        let inter_subject = ca_subject(format!("akv-test intermediate CA {}", self.spec));
        let mut inter_params = ca_params(&inter_subject, Some(0), random_serial()?);
        self.intermediate_pointers.apply(&mut inter_params)?;
        let inter_pair = inter_key.key_pair()?;
        let inter_cert = inter_params.signed_by(&inter_pair, &root_issuer)?;
        let inter_serial = serial_of(&inter_params);
        let inter = issued(
            inter_cert,
            inter_key,
            inter_serial,
            &inter_subject,
            &inter_params,
        );
        let inter_issuer = Issuer::new(inter_params, inter_pair);

        leaf_params.use_authority_key_identifier_extension = true;
        let leaf_cert = leaf_params.signed_by(&leaf_pair, &inter_issuer)?;
        let leaf = issued(
            leaf_cert,
            leaf_key,
            leaf_serial,
            &self.subject,
            &leaf_params,
        );
        Ok(self.chain(leaf, Some(inter), Some(root)))
    }

    fn chain(
        &self,
        leaf: IssuedCert,
        inter: Option<IssuedCert>,
        root: Option<IssuedCert>,
    ) -> Chain {
        Chain {
            spec: self.spec,
            leaf,
            intermediate: inter,
            root,
            eku: self.eku,
            key_usage: self.key_usage,
        }
    }
}

impl Pointers {
    fn apply(&self, params: &mut CertificateParams) -> Result<(), PkiError> {
        if !self.crl.is_empty() {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: self.crl.clone(),
            }];
        }
        let access = |method, urls: &[String]| {
            urls.iter()
                .map(move |u| {
                    Ok(AccessDescription {
                        access_method: method,
                        access_location: GeneralName::UniformResourceIdentifier(
                            der::asn1::Ia5String::new(u)
                                .map_err(|e| PkiError::Der(e.to_string()))?,
                        ),
                    })
                })
                .collect::<Result<Vec<_>, PkiError>>()
        };
        let mut descriptions = access(ID_AD_OCSP, &self.ocsp)?;
        descriptions.extend(access(ID_AD_CA_ISSUERS, &self.ca_issuers)?);
        if !descriptions.is_empty() {
            let content = AuthorityInfoAccessSyntax(descriptions)
                .to_der()
                .map_err(|e| PkiError::Der(e.to_string()))?;
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(
                    ID_PE_AUTHORITY_INFO_ACCESS,
                    content,
                ));
        }
        Ok(())
    }
}

fn ca_subject(cn: String) -> Subject {
    Subject {
        locality: None,
        ..Subject::new(cn)
    }
}

/// basicConstraints critical cA=true (pathLen for intermediates), keyUsage critical keyCertSign+cRLSign.
fn ca_params(subject: &Subject, path_len: Option<u8>, serial: Vec<u8>) -> CertificateParams {
    let now = OffsetDateTime::now_utc();
    let mut p = CertificateParams::default();
    p.distinguished_name = subject.to_rcgen();
    p.not_before = whole_seconds(now - Duration::days(3650));
    p.not_after = whole_seconds(now + Duration::days(3650));
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.use_authority_key_identifier_extension = path_len.is_some();
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    p
}

fn serial_of(params: &CertificateParams) -> Vec<u8> {
    params
        .serial_number
        .as_ref()
        .map(|s| s.as_ref().to_vec())
        .unwrap_or_default()
}

fn issued(
    cert: rcgen::Certificate,
    key: TestKey,
    serial: Vec<u8>,
    subject: &Subject,
    params: &CertificateParams,
) -> IssuedCert {
    IssuedCert {
        der: cert.der().to_vec(),
        key,
        serial,
        subject: subject.clone(),
        not_before: params.not_before,
        not_after: params.not_after,
    }
}

/// 16 random bytes with the top bit clear and a non-zero first byte: positive, minimal DER.
fn random_serial() -> Result<Vec<u8>, PkiError> {
    let mut s = vec![0u8; 16];
    aws_lc_rs::rand::fill(&mut s).map_err(|_| PkiError::Random)?;
    s[0] = (s[0] & 0x7f) | 0x01;
    Ok(s)
}
