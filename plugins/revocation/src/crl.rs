//! CRLs (RFC 5280 §5): parsing DER or PEM, validating base and delta CRLs against the issuer, and
//! looking a serial number up with notation's certificateHold / removeFromCRL rule.

use std::time::{Duration, SystemTime};

use der::Decode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::pkix::crl::{BaseCrlNumber, CrlNumber};

use crate::extensions::{self, known};
use crate::result::{Problem, RevocationReason};
use crate::signed;

/// A parsed CRL that keeps its bytes (for the cache and for signature checks).
#[derive(Debug, Clone)]
pub(crate) struct Crl {
    pub der: Vec<u8>,
    pub list: CertificateList,
    /// cRLNumber, normalised (no leading zeros).
    pub number: Option<Vec<u8>>,
    /// deltaCRLIndicator (the minimum base CRL number), normalised; `Some` for a delta CRL.
    pub delta_base: Option<Vec<u8>>,
}

fn malformed(detail: impl ToString) -> Problem {
    Problem::Malformed {
        what: "CRL",
        detail: detail.to_string(),
    }
}

impl Crl {
    /// Parses a DER CRL, or a PEM `X509 CRL` block.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, Problem> {
        let der = if bytes.starts_with(b"-----BEGIN") {
            let (label, der) = der::pem::decode_vec(bytes).map_err(malformed)?;
            if label != "X509 CRL" {
                return Err(malformed(format!("PEM label \"{label}\" is not X509 CRL")));
            }
            der
        } else {
            bytes.to_vec()
        };
        let list = CertificateList::from_der(&der).map_err(malformed)?;
        let exts = list.tbs_cert_list.crl_extensions.as_deref();
        let number = match extensions::find(exts, known::CRL_NUMBER) {
            Some(e) => Some(
                CrlNumber::from_der(e.extn_value.as_bytes())
                    .map_err(|e| malformed(format!("cRLNumber: {e}")))?
                    .0
                    .as_bytes()
                    .to_vec(),
            ),
            None => None,
        };
        let delta_base = match extensions::find(exts, known::DELTA_CRL_INDICATOR) {
            Some(e) => Some(
                BaseCrlNumber::from_der(e.extn_value.as_bytes())
                    .map_err(|e| malformed(format!("deltaCRLIndicator: {e}")))?
                    .0
                    .as_bytes()
                    .to_vec(),
            ),
            None => None,
        };
        let norm = |v: Option<Vec<u8>>| v.map(|b| extensions::normalized_uint(&b).to_vec());
        Ok(Self {
            der,
            number: norm(number),
            delta_base: norm(delta_base),
            list,
        })
    }

    pub(crate) fn next_update(&self) -> Option<SystemTime> {
        self.list
            .tbs_cert_list
            .next_update
            .map(|t| t.to_system_time())
    }

    pub(crate) fn is_delta(&self) -> bool {
        self.delta_base.is_some()
    }

    /// True when this CRL names `issuer` as its issuer (indirect CRLs are not supported).
    pub(crate) fn issued_by(&self, issuer: &Certificate) -> bool {
        self.list.tbs_cert_list.issuer == issuer.tbs_certificate.subject
    }

    /// Signature, issuer name, nextUpdate and critical extensions (in the CRL and in every entry:
    /// RFC 5280 §5.3 forbids using a CRL with an entry extension we cannot process).
    pub(crate) fn validate(
        &self,
        issuer: &Certificate,
        now: SystemTime,
        skew: Duration,
    ) -> Result<(), Problem> {
        if !self.issued_by(issuer) {
            return Err(Problem::CrlIssuerMismatch);
        }
        let tbs = signed::tbs_bytes(&self.der).map_err(malformed)?;
        let signature = self
            .list
            .signature
            .as_bytes()
            .ok_or_else(|| Problem::CrlSignature("signature has unused bits".into()))?;
        signed::verify(
            &issuer.tbs_certificate.subject_public_key_info,
            &self.list.signature_algorithm,
            tbs,
            signature,
            notation_akv_x509::Sha1::Reject,
        )
        .map_err(Problem::CrlSignature)?;

        let this_update = self.list.tbs_cert_list.this_update.to_system_time();
        if this_update > now + skew {
            return Err(Problem::NotYetValid {
                what: "CRL",
                this_update,
            });
        }
        let next_update = self.next_update().ok_or(Problem::CrlNoNextUpdate)?;
        if now > next_update + skew {
            return Err(Problem::Stale {
                what: "CRL",
                next_update,
            });
        }

        for ext in self.list.tbs_cert_list.crl_extensions.iter().flatten() {
            let understood = [
                known::ISSUING_DISTRIBUTION_POINT,
                known::DELTA_CRL_INDICATOR,
                known::CRL_NUMBER,
            ];
            if ext.critical && !understood.contains(&ext.extn_id) {
                return Err(Problem::UnknownCriticalExtension {
                    oid: ext.extn_id.to_string(),
                    place: "CRL",
                });
            }
        }
        for entry in self
            .list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
        {
            for ext in entry.crl_entry_extensions.iter().flatten() {
                let understood = [known::CRL_REASON, known::INVALIDITY_DATE];
                if ext.critical && !understood.contains(&ext.extn_id) {
                    return Err(Problem::UnknownCriticalExtension {
                        oid: ext.extn_id.to_string(),
                        place: "CRL entry",
                    });
                }
            }
        }
        Ok(())
    }

    /// RFC 5280 §5.2.4 as notation applies it: the delta's number is greater than the base's and
    /// its indicator is not greater than the base's number.
    pub(crate) fn validate_delta_against(&self, base: &Crl) -> Result<(), Problem> {
        let (Some(indicator), Some(delta_number)) = (&self.delta_base, &self.number) else {
            return Err(Problem::Delta(
                "the delta CRL lacks a deltaCRLIndicator or cRLNumber".into(),
            ));
        };
        let base_number = base
            .number
            .as_ref()
            .ok_or_else(|| Problem::Delta("the base CRL has no cRLNumber".into()))?;
        if cmp_uint(delta_number, base_number) != std::cmp::Ordering::Greater {
            return Err(Problem::Delta(format!(
                "delta CRL number {} is not greater than the base CRL number {}",
                extensions::serial_hex(delta_number),
                extensions::serial_hex(base_number)
            )));
        }
        if cmp_uint(indicator, base_number) == std::cmp::Ordering::Greater {
            return Err(Problem::Delta(format!(
                "delta CRL needs base CRL number {} or later, the base is {}",
                extensions::serial_hex(indicator),
                extensions::serial_hex(base_number)
            )));
        }
        Ok(())
    }
}

/// Compares normalised big-endian unsigned integers.
pub(crate) fn cmp_uint(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// What a validated base CRL (and optional delta) says about one serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrlStatus {
    Good,
    Revoked {
        reason: Option<RevocationReason>,
        time: SystemTime,
    },
}

/// notation's rule: any entry whose reason is not certificateHold / removeFromCRL revokes at once;
/// otherwise the hold-or-remove entry with the latest revocation date decides (ties: first seen,
/// base before delta), and a hold means revoked. With a known `signing_time`, an entry whose
/// invalidityDate is later than it is passed over (the invalidityDate rule).
pub(crate) fn lookup(
    serial: &[u8],
    base: &Crl,
    delta: Option<&Crl>,
    signing_time: Option<SystemTime>,
) -> Result<CrlStatus, Problem> {
    let serial = extensions::normalized_uint(serial);
    let entries = base
        .list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .chain(
            delta
                .into_iter()
                .flat_map(|d| d.list.tbs_cert_list.revoked_certificates.iter().flatten()),
        );
    let mut latest_temporary: Option<(RevocationReason, SystemTime)> = None;
    for entry in entries {
        if extensions::normalized_uint(entry.serial_number.as_bytes()) != serial {
            continue;
        }
        if let Some(signed) = signing_time
            && let Some(ext) = extensions::find(
                entry.crl_entry_extensions.as_deref(),
                known::INVALIDITY_DATE,
            )
        {
            let invalid_from = extensions::generalized_time(ext.extn_value.as_bytes())
                .map_err(|e| malformed(format!("invalidityDate: {e}")))?;
            if signed < invalid_from {
                continue;
            }
        }
        let time = entry.revocation_date.to_system_time();
        let reason =
            match extensions::find(entry.crl_entry_extensions.as_deref(), known::CRL_REASON) {
                Some(ext) => {
                    let r = CrlReason::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| malformed(format!("reasonCode: {e}")))?;
                    RevocationReason::from_code(r as u32)
                }
                None => None,
            };
        match reason {
            Some(r @ (RevocationReason::CertificateHold | RevocationReason::RemoveFromCrl)) => {
                if latest_temporary.is_none_or(|(_, t)| t < time) {
                    latest_temporary = Some((r, time));
                }
            }
            _ => return Ok(CrlStatus::Revoked { reason, time }),
        }
    }
    Ok(match latest_temporary {
        Some((RevocationReason::CertificateHold, time)) => CrlStatus::Revoked {
            reason: Some(RevocationReason::CertificateHold),
            time,
        },
        _ => CrlStatus::Good,
    })
}

#[cfg(test)]
mod tests {
    use super::cmp_uint;
    use std::cmp::Ordering;

    #[test]
    fn crl_numbers_compare_as_integers() {
        assert_eq!(cmp_uint(&[0x01, 0x00], &[0xff]), Ordering::Greater);
        assert_eq!(cmp_uint(&[0x0a], &[0x0a]), Ordering::Equal);
        assert_eq!(cmp_uint(&[0x09], &[0x0a]), Ordering::Less);
    }
}
