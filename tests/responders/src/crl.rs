//! Signed CRLs built field by field, so tests can make every case a CA could publish: base and
//! delta, hold and removeFromCRL, unknown critical extensions, no nextUpdate, wrong signer.

use std::time::{Duration, SystemTime};

use der::asn1::{BitString, OctetString};
use der::{Encode, asn1::GeneralizedTime};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::FixtureError;
use crate::pki::TestCa;
use crate::sign::Key;

/// RFC 5280 CRLReason codes used in tests.
pub use x509_cert::ext::pkix::CrlReason as Reason;

/// One revoked certificate.
#[derive(Debug, Clone)]
pub struct Entry {
    pub serial: Vec<u8>,
    pub time: SystemTime,
    pub reason: Option<Reason>,
    /// An entry extension nobody understands, marked critical.
    pub unknown_critical: bool,
    /// The invalidityDate entry extension (RFC 5280 §5.3.2).
    pub invalid_from: Option<SystemTime>,
}

impl Entry {
    pub fn new(serial: &[u8], reason: Option<Reason>) -> Self {
        Self {
            serial: serial.to_vec(),
            time: SystemTime::now() - Duration::from_secs(3600),
            reason,
            unknown_critical: false,
            invalid_from: None,
        }
    }

    /// With an invalidityDate: the key is known or suspected to be compromised from `time`.
    pub fn invalid_from(mut self, time: SystemTime) -> Self {
        self.invalid_from = Some(time);
        self
    }

    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }
}

/// Builder of one CRL.
#[derive(Debug, Clone)]
pub struct CrlBuilder {
    pub this_update: SystemTime,
    /// `None` omits nextUpdate.
    pub next_update: Option<SystemTime>,
    pub number: u64,
    /// `Some(base)` makes a delta CRL with deltaCRLIndicator = base.
    pub delta_of: Option<u64>,
    pub freshest_urls: Vec<String>,
    pub entries: Vec<Entry>,
    /// Adds a critical CRL extension with an unassigned OID.
    pub unknown_critical: bool,
}

impl Default for CrlBuilder {
    fn default() -> Self {
        let now = SystemTime::now();
        Self {
            this_update: now - Duration::from_secs(60),
            next_update: Some(now + Duration::from_secs(24 * 3600)),
            number: 1,
            delta_of: None,
            freshest_urls: Vec::new(),
            entries: Vec::new(),
            unknown_critical: false,
        }
    }
}

fn time(t: SystemTime) -> Result<Time, FixtureError> {
    Ok(Time::GeneralTime(GeneralizedTime::from_system_time(t)?))
}

fn uint_der(n: u64) -> Result<Vec<u8>, FixtureError> {
    let bytes = n.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    Ok(der::asn1::Uint::new(&bytes[start..])?.to_der()?)
}

fn ext(oid: &str, critical: bool, value: Vec<u8>) -> Result<Extension, FixtureError> {
    Ok(Extension {
        extn_id: const_oid::ObjectIdentifier::new(oid)
            .map_err(|e| FixtureError::Other(e.to_string()))?,
        critical,
        extn_value: OctetString::new(value)?,
    })
}

/// The invalidityDate extension (RFC 5280 §5.3.2, non-critical), used by CRL entries and OCSP
/// singleExtensions alike.
pub(crate) fn invalidity_date(t: SystemTime) -> Result<Extension, FixtureError> {
    let date = GeneralizedTime::from_system_time(t)?;
    ext("2.5.29.24", false, date.to_der()?)
}

/// An OID under the documentation arc that no implementation understands.
pub const UNKNOWN_OID: &str = "1.3.6.1.4.1.99999.1.1";

impl CrlBuilder {
    pub fn revoke(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Signs with `ca`'s key under `ca`'s name.
    pub fn sign(&self, ca: &TestCa) -> Result<Vec<u8>, FixtureError> {
        self.sign_with(ca, ca.key())
    }

    /// Signs under `ca`'s name with any key (a wrong key makes an invalid signature).
    pub fn sign_with(&self, ca: &TestCa, key: &Key) -> Result<Vec<u8>, FixtureError> {
        let mut exts = vec![ext("2.5.29.20", false, uint_der(self.number)?)?];
        if let Some(base) = self.delta_of {
            exts.push(ext("2.5.29.27", true, uint_der(base)?)?);
        }
        if !self.freshest_urls.is_empty() {
            exts.push(ext(
                "2.5.29.46",
                false,
                crate::pki::freshest_crl_der(&self.freshest_urls)?,
            )?);
        }
        if self.unknown_critical {
            exts.push(ext(UNKNOWN_OID, true, vec![0x05, 0x00])?);
        }
        let revoked = self
            .entries
            .iter()
            .map(|e| {
                let mut entry_exts = Vec::new();
                if let Some(r) = e.reason {
                    entry_exts.push(ext("2.5.29.21", false, r.to_der()?)?);
                }
                if e.unknown_critical {
                    entry_exts.push(ext(UNKNOWN_OID, true, vec![0x05, 0x00])?);
                }
                if let Some(t) = e.invalid_from {
                    entry_exts.push(invalidity_date(t)?);
                }
                Ok(RevokedCert {
                    serial_number: SerialNumber::new(&e.serial)?,
                    revocation_date: time(e.time)?,
                    crl_entry_extensions: (!entry_exts.is_empty()).then_some(entry_exts),
                })
            })
            .collect::<Result<Vec<_>, FixtureError>>()?;
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: key.signature_algorithm(),
            issuer: ca.name()?,
            this_update: time(self.this_update)?,
            next_update: self.next_update.map(time).transpose()?,
            revoked_certificates: (!revoked.is_empty()).then_some(revoked),
            crl_extensions: Some(exts),
        };
        let signature = key.sign(&tbs.to_der()?)?;
        let list = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: key.signature_algorithm(),
            signature: BitString::from_bytes(&signature)?,
        };
        Ok(list.to_der()?)
    }
}
