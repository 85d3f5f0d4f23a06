//! Small rcgen helpers for certificates the test PKI does not make (odd extensions, loops, …).
#![allow(dead_code)]

use notation_akv_x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

pub fn p256() -> KeyPair {
    KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap()
}

pub fn copy(key: &KeyPair) -> KeyPair {
    KeyPair::try_from(key.serialize_der().as_slice()).unwrap()
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "US");
    dn.push(DnType::StateOrProvinceName, "WA");
    dn.push(DnType::OrganizationName, "x509 tests");
    dn.push(DnType::CommonName, cn);
    dn
}

fn base(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(365);
    p
}

/// A compliant CA: critical basicConstraints cA=true, critical keyUsage keyCertSign + cRLSign.
pub fn ca_params(cn: &str) -> CertificateParams {
    let mut p = base(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// A compliant leaf: critical keyUsage digitalSignature, EKU codeSigning.
pub fn leaf_params(cn: &str) -> CertificateParams {
    let mut p = base(cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p
}

/// An extension given as raw DER content.
pub fn raw_extension(oid: &[u64], content: &[u8], critical: bool) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(oid, content.to_vec());
    ext.set_criticality(critical);
    ext
}

pub const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
pub const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];

pub fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

/// A certificate and what is needed to issue more certificates with it.
pub struct Made {
    pub cert: Certificate,
    pub issuer: Issuer<'static, KeyPair>,
}

pub fn self_signed(params: CertificateParams, key: KeyPair) -> Made {
    let c = params.self_signed(&key).unwrap();
    Made {
        cert: cert(c.der()),
        issuer: Issuer::new(params, key),
    }
}

pub fn issued(params: CertificateParams, key: KeyPair, by: &Made) -> Made {
    let c = params.signed_by(&key, &by.issuer).unwrap();
    Made {
        cert: cert(c.der()),
        issuer: Issuer::new(params, key),
    }
}

/// root → intermediate → leaf, all compliant, P-256.
pub fn compliant_chain() -> (Made, Made, Made) {
    let root = self_signed(ca_params("root"), p256());
    let int = issued(ca_params("intermediate"), p256(), &root);
    let leaf = issued(leaf_params("leaf"), p256(), &int);
    (leaf, int, root)
}
