//! Certificate and CRL extensions that point at revocation sources or qualify them.

use const_oid::db::{rfc5280, rfc6960};
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Decode;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage, FreshestCrl,
};

/// A DER GeneralizedTime (the value of an invalidityDate extension).
pub(crate) fn generalized_time(der_bytes: &[u8]) -> Result<std::time::SystemTime, der::Error> {
    use der::Decode as _;
    Ok(der::asn1::GeneralizedTime::from_der(der_bytes)?.to_system_time())
}

pub(crate) fn find(exts: Option<&[Extension]>, oid: ObjectIdentifier) -> Option<&Extension> {
    exts?.iter().find(|e| e.extn_id == oid)
}

fn cert_ext(cert: &Certificate, oid: ObjectIdentifier) -> Option<&Extension> {
    find(cert.tbs_certificate.extensions.as_deref(), oid)
}

/// OCSP responder URLs from the authorityInfoAccess extension, in certificate order.
pub(crate) fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    let Some(ext) = cert_ext(cert, AuthorityInfoAccessSyntax::OID) else {
        return Vec::new();
    };
    let Ok(aia) = AuthorityInfoAccessSyntax::from_der(ext.extn_value.as_bytes()) else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|ad| ad.access_method == rfc5280::ID_AD_OCSP)
        .filter_map(|ad| uri(&ad.access_location))
        .collect()
}

/// URIs of the full names of distribution points (CDP or FreshestCRL syntax). Points named
/// relative to the issuer, or only through a cRLIssuer, carry no URL and are skipped.
pub(crate) fn dp_urls(points: &[DistributionPoint]) -> Vec<String> {
    points
        .iter()
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names.iter().filter_map(uri)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// CRL distribution point URLs of a certificate.
pub(crate) fn crl_urls(cert: &Certificate) -> Vec<String> {
    cert_ext(cert, CrlDistributionPoints::OID)
        .and_then(|e| CrlDistributionPoints::from_der(e.extn_value.as_bytes()).ok())
        .map(|c| dp_urls(&c.0))
        .unwrap_or_default()
}

/// Delta CRL locations from a FreshestCRL extension (in a certificate or a base CRL).
pub(crate) fn freshest_urls(exts: Option<&[Extension]>) -> Result<Vec<String>, String> {
    match find(exts, FreshestCrl::OID) {
        None => Ok(Vec::new()),
        Some(e) => FreshestCrl::from_der(e.extn_value.as_bytes())
            .map(|f| dp_urls(&f.0))
            .map_err(|e| format!("FreshestCRL extension: {e}")),
    }
}

pub(crate) fn cert_freshest_urls(cert: &Certificate) -> Result<Vec<String>, String> {
    freshest_urls(cert.tbs_certificate.extensions.as_deref())
}

fn uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    }
}

/// True when the certificate's extendedKeyUsage lists id-kp-OCSPSigning.
pub(crate) fn has_ocsp_signing_eku(cert: &Certificate) -> bool {
    cert_ext(cert, ExtendedKeyUsage::OID)
        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|eku| eku.0.contains(&rfc5280::ID_KP_OCSP_SIGNING))
}

/// True when the (responder) certificate carries id-pkix-ocsp-nocheck.
pub(crate) fn has_ocsp_nocheck(cert: &Certificate) -> bool {
    cert_ext(cert, rfc6960::ID_PKIX_OCSP_NOCHECK).is_some()
}

/// The subject as notation renders it (Go's `pkix.Name.String()`), like every other message of the
/// plugins.
pub(crate) fn subject(cert: &Certificate) -> String {
    notation_akv_x509::name::render_like_go(&cert.tbs_certificate.subject)
}

/// Serial number in lower-case hex, without the sign padding byte DER may add.
pub(crate) fn serial_hex(serial: &[u8]) -> String {
    let trimmed = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    trimmed.iter().map(|b| format!("{b:02x}")).collect()
}

/// Integer value of a DER INTEGER's content bytes as an unsigned big-endian number, with
/// leading zero bytes removed so values compare by length then bytes.
pub(crate) fn normalized_uint(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// OIDs this crate interprets in CRLs, their entries and OCSP responses.
pub(crate) mod known {
    use super::*;
    pub(crate) const CRL_NUMBER: ObjectIdentifier = rfc5280::ID_CE_CRL_NUMBER;
    pub(crate) const DELTA_CRL_INDICATOR: ObjectIdentifier = rfc5280::ID_CE_DELTA_CRL_INDICATOR;
    pub(crate) const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
        rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT;
    pub(crate) const CRL_REASON: ObjectIdentifier = rfc5280::ID_CE_CRL_REASONS;
    pub(crate) const INVALIDITY_DATE: ObjectIdentifier = rfc5280::ID_CE_INVALIDITY_DATE;
}

#[cfg(test)]
mod tests {
    use super::{normalized_uint, serial_hex};

    #[test]
    fn serials_are_shown_without_the_sign_byte() {
        assert_eq!(serial_hex(&[0x00, 0x80, 0x01]), "8001");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0x12, 0x34]), "1234");
        assert_eq!(normalized_uint(&[0, 0, 5]), &[5]);
    }
}
