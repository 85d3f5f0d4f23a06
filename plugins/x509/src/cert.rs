//! Certificates: parsing DER and PEM bundles, fingerprints, names, serials and validity.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use der::{Decode, Encode};
use ring::digest;
use spki::SubjectPublicKeyInfoOwned;

use crate::name;

/// Why bytes could not be read as certificates.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("no certificate found in the input")]
    Empty,
    #[error("certificate #{index} in the input is not valid DER X.509: {reason}")]
    Der { index: usize, reason: String },
    #[error("PEM block #{index} (\"{label}\") is malformed: {reason}")]
    Pem {
        index: usize,
        label: String,
        reason: String,
    },
}

/// A parsed X.509 certificate that keeps its exact DER encoding.
///
/// The DER is kept because everything that hashes or compares certificates (fingerprints, duplicate
/// detection, the plugin wire format) must use the bytes as received, not a re-encoding.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    x509: x509_cert::Certificate,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate; trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let x509 = x509_cert::Certificate::from_der(der).map_err(|e| CertError::Der {
            index: 0,
            reason: e.to_string(),
        })?;
        Ok(Self {
            der: der.to_vec(),
            x509,
        })
    }

    /// The DER encoding exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed structure, for callers that need extensions this crate does not interpret
    /// (AIA, CRL distribution points, …).
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.x509
    }

    /// The subject public key.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.x509.tbs_certificate.subject_public_key_info
    }

    /// Subject rendered the way notation renders it (Go `pkix.Name.String()`), e.g.
    /// `CN=signer,O=Contoso,ST=WA,C=US`; used in every message so users see the same text as in
    /// notation's own errors.
    pub fn subject(&self) -> String {
        name::render_like_go(&self.x509.tbs_certificate.subject)
    }

    /// Issuer rendered like [`Certificate::subject`].
    pub fn issuer(&self) -> String {
        name::render_like_go(&self.x509.tbs_certificate.issuer)
    }

    /// Serial number as uppercase hex without separators (the form Azure and OpenSSL print).
    pub fn serial_hex(&self) -> String {
        crate::hex::upper(self.x509.tbs_certificate.serial_number.as_bytes())
    }

    /// SHA-256 of the DER, lowercase hex (the form notation trust stores and `notation cert` use).
    pub fn sha256_fingerprint(&self) -> String {
        crate::hex::lower(digest::digest(&digest::SHA256, &self.der).as_ref())
    }

    /// SHA-1 of the DER, lowercase hex (Azure Key Vault's `x5t` is its base64url form).
    pub fn sha1_fingerprint(&self) -> String {
        crate::hex::lower(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &self.der).as_ref())
    }

    pub fn not_before(&self) -> SystemTime {
        self.x509
            .tbs_certificate
            .validity
            .not_before
            .to_system_time()
    }

    pub fn not_after(&self) -> SystemTime {
        self.x509
            .tbs_certificate
            .validity
            .not_after
            .to_system_time()
    }

    /// Whether `at` lies in `[notBefore, notAfter]` (both ends inclusive, as in RFC 5280 and Go).
    pub fn is_valid_at(&self, at: SystemTime) -> bool {
        at >= self.not_before() && at <= self.not_after()
    }

    /// Subject and issuer are the same name (compared as DER, like Go's `RawSubject`/`RawIssuer`).
    pub fn is_self_issued(&self) -> bool {
        same_name(
            &self.x509.tbs_certificate.subject,
            &self.x509.tbs_certificate.issuer,
        )
    }

    /// Whether this certificate's issuer name is `issuer`'s subject name.
    pub fn names_issuer(&self, issuer: &Certificate) -> bool {
        same_name(
            &self.x509.tbs_certificate.issuer,
            &issuer.x509.tbs_certificate.subject,
        )
    }

    /// A short reference for messages: `"<subject>" (serial <hex>)`.
    pub fn reference(&self) -> CertRef {
        CertRef {
            subject: self.subject(),
            serial: self.serial_hex(),
        }
    }
}

/// Identifies a certificate in errors and violations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertRef {
    pub subject: String,
    pub serial: String,
}

impl fmt::Display for CertRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\" (serial {})", self.subject, self.serial)
    }
}

fn same_name(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Certificates read from a bundle, in input order.
#[derive(Debug)]
pub struct Bundle {
    pub certificates: Vec<Certificate>,
    /// A private key block was present (and discarded). For an Azure Key Vault secret this means the
    /// key is exportable, which the signer should warn about.
    pub had_private_key: bool,
}

/// Reads certificates from PEM text (any number of `CERTIFICATE` blocks, other text ignored) or DER
/// (one certificate or several concatenated).
///
/// Private key blocks (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`)
/// are skipped without being decoded, and only their presence is reported. Other PEM labels are
/// ignored.
pub fn parse_bundle(input: &[u8]) -> Result<Bundle, CertError> {
    let bundle = if looks_like_pem(input) {
        parse_pem(input)?
    } else {
        Bundle {
            certificates: parse_der_concatenated(input)?,
            had_private_key: false,
        }
    };
    if bundle.certificates.is_empty() {
        return Err(CertError::Empty);
    }
    Ok(bundle)
}

fn looks_like_pem(input: &[u8]) -> bool {
    input.windows(11).any(|w| w == b"-----BEGIN ")
}

fn parse_der_concatenated(mut input: &[u8]) -> Result<Vec<Certificate>, CertError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let index = out.len();
        let der_err = |e: der::Error| CertError::Der {
            index,
            reason: e.to_string(),
        };
        // The outer header says how long this certificate is, so several can be split without a
        // container.
        let total = der_element_len(input).map_err(der_err)?;
        let Some(one) = input.get(..total) else {
            return Err(CertError::Der {
                index,
                reason: "truncated".into(),
            });
        };
        let cert = Certificate::from_der(one).map_err(|e| match e {
            CertError::Der { reason, .. } => CertError::Der { index, reason },
            other => other,
        })?;
        out.push(cert);
        input = &input[total..];
    }
    Ok(out)
}

fn der_element_len(input: &[u8]) -> der::Result<usize> {
    let mut reader = der::SliceReader::new(input)?;
    let header = der::Header::decode(&mut reader)?;
    usize::try_from((header.encoded_len()? + header.length)?)
}

fn parse_pem(input: &[u8]) -> Result<Bundle, CertError> {
    let text = String::from_utf8_lossy(input);
    let mut certificates = Vec::new();
    let mut had_private_key = false;
    let mut rest: &str = &text;
    let mut index = 0;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_string();
        let body_and_rest = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_marker) else {
            return Err(CertError::Pem {
                index,
                label,
                reason: "no matching END line".into(),
            });
        };
        let body = &body_and_rest[..body_end];
        rest = &body_and_rest[body_end + end_marker.len()..];

        if label.contains("PRIVATE KEY") {
            // Never decode secret material; remembering that it was there is enough.
            had_private_key = true;
        } else if label == "CERTIFICATE" {
            let der = decode_pem_body(body).map_err(|reason| CertError::Pem {
                index,
                label: label.clone(),
                reason,
            })?;
            let cert = Certificate::from_der(&der).map_err(|e| CertError::Pem {
                index,
                label: label.clone(),
                reason: e.to_string(),
            })?;
            certificates.push(cert);
        }
        index += 1;
    }
    Ok(Bundle {
        certificates,
        had_private_key,
    })
}

/// Base64 body of a PEM block; lines may have any width (Azure and OpenSSL use 64, some tools 76).
fn decode_pem_body(body: &str) -> Result<Vec<u8>, String> {
    if body.lines().any(|l| l.contains(':')) {
        return Err("encapsulated headers are not supported".into());
    }
    let compact: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("invalid base64: {e}"))
}
