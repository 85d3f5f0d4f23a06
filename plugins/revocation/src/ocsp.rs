//! OCSP (RFC 6960): building requests, choosing GET or POST, and judging responses from any
//! origin (responder, cache, offline bundle) with the same rules.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use const_oid::db::rfc5912;
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der::asn1::OctetString;
use der::{Decode, Encode};
use sha1::Digest as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::builder::OcspRequestBuilder;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, OcspResponse, OcspResponseStatus, Request, ResponderId, Version,
};

use crate::config::CertIdHash;
use crate::extensions;
use crate::result::{Problem, RevocationReason};
use crate::signed;

/// MIME type of a POSTed request (RFC 6960 appendix A.1).
pub(crate) const REQUEST_CONTENT_TYPE: &str = "application/ocsp-request";

/// A request ready to send, with what the answer must echo.
pub(crate) struct PreparedRequest {
    pub der: Vec<u8>,
    pub nonce: Option<Nonce>,
}

/// Builds the request for `cert` issued by `issuer`.
pub(crate) fn request(
    cert: &Certificate,
    issuer: &Certificate,
    hash: CertIdHash,
    with_nonce: bool,
) -> Result<PreparedRequest, Problem> {
    let malformed = |e: String| Problem::Malformed {
        what: "OCSP request",
        detail: e,
    };
    let cert_id = cert_id(cert, issuer, hash).map_err(|e| malformed(e.to_string()))?;
    let mut builder = OcspRequestBuilder::new(Version::V1).with_request(Request::new(cert_id));
    let nonce = if with_nonce {
        let mut bytes = [0u8; 16];
        notation_akv_http::fill_random(&mut bytes)
            .map_err(|_| malformed("no randomness".into()))?;
        let nonce = Nonce::new(bytes.to_vec()).map_err(|e| malformed(e.to_string()))?;
        builder = builder
            .with_extension(nonce.clone())
            .map_err(|e| malformed(e.to_string()))?;
        Some(nonce)
    } else {
        None
    };
    let der = builder
        .build()
        .to_der()
        .map_err(|e| malformed(e.to_string()))?;
    Ok(PreparedRequest { der, nonce })
}

/// The GET URL for `request_der` at `server`, or `None` when the request is too long for GET
/// (escaped base64 of `limit` characters or more; notation's limit is 255) and must be POSTed.
pub(crate) fn get_url(server: &str, request_der: &[u8], limit: usize) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(request_der);
    let escaped: String = url::form_urlencoded::byte_serialize(b64.as_bytes()).collect();
    if escaped.len() >= limit {
        return None;
    }
    let sep = if server.ends_with('/') { "" } else { "/" };
    Some(format!("{server}{sep}{escaped}"))
}

/// A CertID for `cert` with `hash`.
pub(crate) fn cert_id(
    cert: &Certificate,
    issuer: &Certificate,
    hash: CertIdHash,
) -> Result<CertId, der::Error> {
    let oid = match hash {
        CertIdHash::Sha1 => rfc5912::ID_SHA_1,
        CertIdHash::Sha256 => rfc5912::ID_SHA_256,
    };
    cert_id_with(cert.tbs_certificate.serial_number.as_bytes(), issuer, oid)
        .ok_or(der::Tag::ObjectIdentifier.value_error())?
}

fn digest(oid: const_oid::ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match oid {
        rfc5912::ID_SHA_1 => sha1::Sha1::digest(data).to_vec(),
        rfc5912::ID_SHA_256 => sha2::Sha256::digest(data).to_vec(),
        rfc5912::ID_SHA_384 => sha2::Sha384::digest(data).to_vec(),
        rfc5912::ID_SHA_512 => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// CertID of `serial` under `issuer` with the hash named by `oid`; `None` for an unknown hash.
fn cert_id_with(
    serial: &[u8],
    issuer: &Certificate,
    oid: const_oid::ObjectIdentifier,
) -> Option<Result<CertId, der::Error>> {
    let name = match issuer.tbs_certificate.subject.to_der() {
        Ok(n) => n,
        Err(e) => return Some(Err(e)),
    };
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    let name_hash = digest(oid, &name)?;
    let key_hash = digest(oid, key)?;
    Some((|| {
        Ok(CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: Some(der::asn1::Null.into()),
            },
            issuer_name_hash: OctetString::new(name_hash)?,
            issuer_key_hash: OctetString::new(key_hash)?,
            serial_number: x509_cert::serial_number::SerialNumber::new(serial)?,
        })
    })())
}

/// True when `id` (with any supported hash) names `serial` under `issuer`. Parameters of the hash
/// algorithm (NULL or absent) are not compared: responders differ.
fn cert_id_matches(id: &CertId, serial: &[u8], issuer: &Certificate) -> bool {
    match cert_id_with(serial, issuer, id.hash_algorithm.oid) {
        Some(Ok(expected)) => {
            expected.issuer_name_hash == id.issuer_name_hash
                && expected.issuer_key_hash == id.issuer_key_hash
                && extensions::normalized_uint(expected.serial_number.as_bytes())
                    == extensions::normalized_uint(id.serial_number.as_bytes())
        }
        _ => false,
    }
}

/// The status a valid response gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OcspStatus {
    Good,
    Revoked {
        reason: Option<RevocationReason>,
        time: SystemTime,
        /// The singleExtensions' invalidityDate (RFC 5280 §5.3.2), when present.
        invalid_from: Option<SystemTime>,
    },
}

/// Who signed a valid response.
#[derive(Debug, Clone)]
pub(crate) enum Signer {
    Issuer,
    /// A delegated responder certificate (issued by the issuer, OCSPSigning EKU).
    Delegated {
        cert: Box<Certificate>,
        nocheck: bool,
    },
}

/// A response that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub status: OcspStatus,
    pub signer: Signer,
}

/// The rules a response is judged by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub now: SystemTime,
    pub skew: Duration,
    pub max_age: Option<Duration>,
    /// The nonce sent with the request, when one was.
    pub nonce: Option<&'a Nonce>,
}

/// Judges `response_der` for `cert` issued by `issuer`. An OCSP "unknown" status is returned as
/// [`Problem::OcspStatusUnknown`], which callers treat as a definitive answer from that server.
pub(crate) fn verify(
    response_der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    rules: &Rules<'_>,
) -> Result<Verified, Problem> {
    let malformed = |e: String| Problem::Malformed {
        what: "OCSP response",
        detail: e,
    };
    let response = OcspResponse::from_der(response_der).map_err(|e| malformed(e.to_string()))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(Problem::ResponderStatus(
            status_name(response.response_status).into(),
        ));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| malformed("successful status without responseBytes".into()))?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(malformed(format!(
            "unsupported response type {}",
            bytes.response_type
        )));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der).map_err(|e| malformed(e.to_string()))?;
    let tbs = signed::tbs_bytes(basic_der).map_err(malformed)?;

    let data = &basic.tbs_response_data;
    let serial = cert.tbs_certificate.serial_number.as_bytes();
    let single = data
        .responses
        .iter()
        .find(|r| cert_id_matches(&r.cert_id, serial, issuer))
        .ok_or(Problem::CertIdMismatch)?;

    let signer = find_signer(&basic, issuer, rules)?;
    let key = match &signer {
        Signer::Issuer => &issuer.tbs_certificate.subject_public_key_info,
        Signer::Delegated { cert, .. } => &cert.tbs_certificate.subject_public_key_info,
    };
    let signature = basic
        .signature
        .as_bytes()
        .ok_or_else(|| Problem::OcspSignature("signature has unused bits".into()))?;
    signed::verify(
        key,
        &basic.signature_algorithm,
        tbs,
        signature,
        notation_akv_x509::Sha1::Allow,
    )
    .map_err(Problem::OcspSignature)?;

    if let Some(sent) = rules.nonce
        && data.nonce().as_ref() != Some(sent)
    {
        return Err(Problem::NonceMismatch);
    }

    let this_update = single.this_update.0.to_system_time();
    if this_update > rules.now + rules.skew {
        return Err(Problem::NotYetValid {
            what: "OCSP response",
            this_update,
        });
    }
    let valid_until = match (&single.next_update, rules.max_age) {
        (Some(next), _) => next.0.to_system_time(),
        (None, Some(age)) => this_update + age,
        (None, None) => return Err(Problem::NoNextUpdate),
    };
    if rules.now > valid_until + rules.skew {
        return Err(match (&single.next_update, rules.max_age) {
            (None, Some(max_age)) => Problem::TooOld { max_age },
            _ => Problem::Stale {
                what: "OCSP response",
                next_update: valid_until,
            },
        });
    }

    let status = match &single.cert_status {
        x509_ocsp::CertStatus::Good(_) => OcspStatus::Good,
        x509_ocsp::CertStatus::Revoked(info) => OcspStatus::Revoked {
            reason: info
                .revocation_reason
                .and_then(|r| RevocationReason::from_code(r as u32)),
            time: info.revocation_time.0.to_system_time(),
            invalid_from: extensions::find(
                single.single_extensions.as_deref(),
                extensions::known::INVALIDITY_DATE,
            )
            .map(|ext| extensions::generalized_time(ext.extn_value.as_bytes()))
            .transpose()
            .map_err(|e| Problem::Malformed {
                what: "OCSP response",
                detail: format!("invalidityDate: {e}"),
            })?,
        },
        x509_ocsp::CertStatus::Unknown(_) => return Err(Problem::OcspStatusUnknown),
    };
    Ok(Verified { status, signer })
}

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

fn names_cert(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => *name == cert.tbs_certificate.subject,
        ResponderId::ByKey(hash) => {
            let key = cert
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes();
            hash.as_bytes() == &sha1::Sha1::digest(key)[..]
        }
    }
}

/// RFC 6960 §4.2.2.2: the issuer itself, or a certificate the issuer issued for OCSP signing.
/// Delegated certificates must also be within their validity period (x/crypto/ocsp does not check).
fn find_signer(
    basic: &BasicOcspResponse,
    issuer: &Certificate,
    rules: &Rules<'_>,
) -> Result<Signer, Problem> {
    let id = &basic.tbs_response_data.responder_id;
    if names_cert(id, issuer) {
        return Ok(Signer::Issuer);
    }
    let candidates = basic.certs.as_deref().unwrap_or_default();
    let responder = candidates
        .iter()
        .find(|c| names_cert(id, c))
        .ok_or_else(|| {
            Problem::Responder(
                "the responder is neither the issuer nor a certificate included in the response"
                    .into(),
            )
        })?;
    if responder.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(Problem::Responder(format!(
            "responder certificate \"{}\" is not issued by the certificate's issuer",
            responder.tbs_certificate.subject
        )));
    }
    let der = responder
        .to_der()
        .map_err(|e| Problem::Responder(e.to_string()))?;
    signed::verify_certificate(
        &der,
        responder,
        &issuer.tbs_certificate.subject_public_key_info,
    )
    .map_err(|e| Problem::Responder(format!("responder certificate: {e}")))?;
    if !extensions::has_ocsp_signing_eku(responder) {
        return Err(Problem::Responder(
            "responder certificate lacks the OCSPSigning extended key usage".into(),
        ));
    }
    let validity = &responder.tbs_certificate.validity;
    let (from, to) = (
        validity.not_before.to_system_time(),
        validity.not_after.to_system_time(),
    );
    if rules.now + rules.skew < from || rules.now > to + rules.skew {
        return Err(Problem::Responder(
            "responder certificate is outside its validity period".into(),
        ));
    }
    Ok(Signer::Delegated {
        nocheck: extensions::has_ocsp_nocheck(responder),
        cert: Box::new(responder.clone()),
    })
}

/// thisUpdate and nextUpdate of the single response about `cert` (for bundle manifests; the
/// response has already been verified).
pub(crate) fn validity(
    response_der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
) -> Option<(SystemTime, Option<SystemTime>)> {
    let response = OcspResponse::from_der(response_der).ok()?;
    let basic = BasicOcspResponse::from_der(response.response_bytes?.response.as_bytes()).ok()?;
    let serial = cert.tbs_certificate.serial_number.as_bytes();
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| cert_id_matches(&r.cert_id, serial, issuer))?;
    Some((
        single.this_update.0.to_system_time(),
        single.next_update.as_ref().map(|t| t.0.to_system_time()),
    ))
}

/// CertIDs of a response's single responses, for indexing bundle files.
pub(crate) fn serials_in(response_der: &[u8]) -> Vec<Vec<u8>> {
    let Ok(response) = OcspResponse::from_der(response_der) else {
        return Vec::new();
    };
    let Some(bytes) = response.response_bytes else {
        return Vec::new();
    };
    let Ok(basic) = BasicOcspResponse::from_der(bytes.response.as_bytes()) else {
        return Vec::new();
    };
    basic
        .tbs_response_data
        .responses
        .iter()
        .map(|r| extensions::normalized_uint(r.cert_id.serial_number.as_bytes()).to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::get_url;

    #[test]
    fn get_is_used_below_255_escaped_characters_like_notation() {
        // 3 bytes → 4 base64 characters; 0xfb 0xff 0xbf encodes to "+/+/" which escapes to 12.
        let url = get_url("http://r.example/ocsp", &[0xfb, 0xff, 0xbf], 255).unwrap();
        assert_eq!(url, "http://r.example/ocsp/%2B%2F%2B%2F");
        assert_eq!(
            get_url("http://r.example/", &[0, 0, 0], 255).unwrap(),
            "http://r.example/AAAA"
        );
        // 189 bytes → 252 plain characters: GET. 192 bytes → 256: POST.
        assert!(get_url("http://r", &[0u8; 189], 255).is_some());
        assert!(get_url("http://r", &[0u8; 192], 255).is_none());
        // Escaping counts: 63 × "+/+/" = 252 characters, 756 once escaped.
        assert!(get_url("http://r", &[0xfb, 0xff, 0xbf].repeat(63), 255).is_none());
    }
}
