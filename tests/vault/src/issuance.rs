//! Certificate issuance as AKV does it from a certificate policy: `POST
//! /certificates/{name}/create` makes a new key of the policy's type and size or curve, then
//! either a self-signed certificate (`issuer.name` `Self`) with the policy's subject, EKUs, key
//! usage and validity, or (`Unknown`) a CSR that waits for `pending/merge`.

use akv_test_pki::{KeySpec, TestKey};
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyUsagePurpose, SerialNumber,
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// A policy the vault refuses (AKV answers 400 BadParameter).
#[derive(Debug)]
pub(crate) struct PolicyError(pub String);

/// What a policy asks for, as the vault reads it (wire names of the REST API).
pub(crate) struct Request {
    pub spec: KeySpec,
    pub subject: String,
    pub ekus: Vec<String>,
    pub key_usage: Vec<String>,
    pub validity_months: i64,
    pub issuer: String,
}

impl Request {
    pub fn from_policy(policy: &Value) -> Result<Request, PolicyError> {
        let key = &policy["key_props"];
        let kty = key["kty"].as_str().unwrap_or("RSA");
        let spec = match kty {
            "RSA" | "RSA-HSM" => match key["key_size"].as_u64().unwrap_or(2048) {
                2048 => KeySpec::Rsa2048,
                3072 => KeySpec::Rsa3072,
                4096 => KeySpec::Rsa4096,
                other => return Err(PolicyError(format!("Invalid RSA key size {other}."))),
            },
            "EC" | "EC-HSM" => match key["crv"].as_str().unwrap_or("P-256") {
                "P-256" => KeySpec::Ec256,
                "P-384" => KeySpec::Ec384,
                "P-521" => KeySpec::Ec521,
                other => {
                    return Err(PolicyError(format!(
                        "The test vault does not issue for curve {other}."
                    )));
                }
            },
            other => return Err(PolicyError(format!("Invalid key type {other}."))),
        };
        let x509 = &policy["x509_props"];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let subject = x509["subject"]
            .as_str()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| PolicyError("Property x509_props.subject is required.".into()))?
            .to_string();
        Ok(Request {
            spec,
            subject,
            ekus: strings(&x509["ekus"]),
            key_usage: strings(&x509["key_usage"]),
            validity_months: x509["validity_months"].as_i64().unwrap_or(12),
            issuer: policy["issuer"]["name"]
                .as_str()
                .unwrap_or("Self")
                .to_string(),
        })
    }

    /// The certificate parameters (subject, EKUs, key usage, validity) of the policy.
    pub fn params(&self) -> Result<CertificateParams, PolicyError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = distinguished_name(&self.subject)?;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + Duration::days(30 * self.validity_months.max(1));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = self
            .key_usage
            .iter()
            .map(|u| key_usage(u))
            .collect::<Result<_, _>>()?;
        for eku in &self.ekus {
            params.extended_key_usages.push(match eku.as_str() {
                "1.3.6.1.5.5.7.3.1" => ExtendedKeyUsagePurpose::ServerAuth,
                "1.3.6.1.5.5.7.3.2" => ExtendedKeyUsagePurpose::ClientAuth,
                "1.3.6.1.5.5.7.3.3" => ExtendedKeyUsagePurpose::CodeSigning,
                "1.3.6.1.5.5.7.3.4" => ExtendedKeyUsagePurpose::EmailProtection,
                "1.3.6.1.5.5.7.3.8" => ExtendedKeyUsagePurpose::TimeStamping,
                "1.3.6.1.5.5.7.3.9" => ExtendedKeyUsagePurpose::OcspSigning,
                "2.5.29.37.0" => ExtendedKeyUsagePurpose::Any,
                other => ExtendedKeyUsagePurpose::Other(
                    other
                        .split('.')
                        .map(|p| p.parse::<u64>())
                        .collect::<Result<_, _>>()
                        .map_err(|_| PolicyError(format!("Invalid EKU {other}.")))?,
                ),
            });
        }
        let mut serial = [0u8; 16];
        let _ = aws_lc_rs::rand::fill(&mut serial);
        serial[0] &= 0x7f;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        Ok(params)
    }

    /// A fresh key of the policy's type (AKV makes a new key per version unless `reuse_key`).
    pub fn key(&self) -> Result<TestKey, PolicyError> {
        TestKey::generate(self.spec).map_err(|e| PolicyError(e.to_string()))
    }

    /// A self-signed certificate for `key`.
    pub fn self_signed(&self, key: &TestKey) -> Result<Vec<u8>, PolicyError> {
        let pair = key.key_pair().map_err(|e| PolicyError(e.to_string()))?;
        let cert = self
            .params()?
            .self_signed(&pair)
            .map_err(|e| PolicyError(e.to_string()))?;
        Ok(cert.der().to_vec())
    }

    /// The CSR (DER) AKV hands out for an `Unknown` issuer: subject, key, EKUs and key usage.
    pub fn csr(&self, key: &TestKey) -> Result<Vec<u8>, PolicyError> {
        let pair = key.key_pair().map_err(|e| PolicyError(e.to_string()))?;
        let mut params = self.params()?;
        // rcgen puts requested extensions in the CSR; basic constraints stay with the CA.
        params.is_ca = IsCa::NoCa;
        params.serial_number = None;
        params.custom_extensions = Vec::<CustomExtension>::new();
        let csr = params
            .serialize_request(&pair)
            .map_err(|e| PolicyError(e.to_string()))?;
        Ok(csr.der().to_vec())
    }
}

fn key_usage(name: &str) -> Result<KeyUsagePurpose, PolicyError> {
    Ok(match name {
        "digitalSignature" => KeyUsagePurpose::DigitalSignature,
        "nonRepudiation" => KeyUsagePurpose::ContentCommitment,
        "keyEncipherment" => KeyUsagePurpose::KeyEncipherment,
        "dataEncipherment" => KeyUsagePurpose::DataEncipherment,
        "keyAgreement" => KeyUsagePurpose::KeyAgreement,
        "keyCertSign" => KeyUsagePurpose::KeyCertSign,
        "cRLSign" => KeyUsagePurpose::CrlSign,
        "encipherOnly" => KeyUsagePurpose::EncipherOnly,
        "decipherOnly" => KeyUsagePurpose::DecipherOnly,
        other => return Err(PolicyError(format!("Invalid key usage {other}."))),
    })
}

/// `CN=a, O=b, ST=c, C=US` in the order given.
fn distinguished_name(subject: &str) -> Result<DistinguishedName, PolicyError> {
    let mut dn = DistinguishedName::new();
    for part in subject.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| PolicyError(format!("Invalid subject {subject:?}.")))?;
        let kind = match k.trim().to_ascii_uppercase().as_str() {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "L" => DnType::LocalityName,
            "ST" | "S" => DnType::StateOrProvinceName,
            "C" => DnType::CountryName,
            other => {
                return Err(PolicyError(format!(
                    "Invalid subject attribute {other} in {subject:?}."
                )));
            }
        };
        dn.push(kind, v.trim());
    }
    Ok(dn)
}
