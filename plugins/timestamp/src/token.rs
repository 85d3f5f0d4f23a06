//! Checking a `TimeStampResp` before its token goes into an envelope, as notation-core-go does
//! when it timestamps (and as its verifier will later):
//!
//! 1. the status is granted (or granted with modifications) and a token is present;
//! 2. the token is CMS SignedData over a `TSTInfo` whose message imprint and nonce are the
//!    request's;
//! 3. the signer's certificate is in the token (`certReq`) and is the one the ESS
//!    signing-certificate(-v2) attribute names by hash (tspclient-go requires the attribute), the
//!    signed attributes carry the `TSTInfo` content type and digest, and their signature verifies
//!    with that certificate;
//! 4. that certificate has a key usage with digitalSignature and a critical extended key usage of
//!    timeStamping alone (notation-core-go's timestamping leaf rules), and chains,
//!    through the token's other certificates, to one of the configured roots, every certificate
//!    valid at genTime;
//! 5. genTime lies within the validity of every certificate of the signing chain: a timestamp
//!    outside it proves nothing, and notation's verifier rejects it.

use crate::TimestampError;
use crate::request::{Request, digest, hash_of};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ECDSA_WITH_SHA_512, ID_EC_PUBLIC_KEY, RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::asn1::{Null, OctetString};
use der::{Any, AnyRef, Decode, Encode, Sequence};
use notation_akv_protocol::HashAlgorithm;
use notation_akv_x509::{Certificate, Sha1, verify_signed_data};
use sha1::Digest as _;
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier};
use x509_tsp::TstInfo;

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const ID_CE_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const ID_CE_SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// Longest TSA chain followed (leaf, intermediates, root).
const MAX_DEPTH: usize = 8;

/// A checked timestamp.
#[derive(Clone, Debug)]
pub struct Token {
    /// The DER `TimeStampToken` (a CMS `ContentInfo`) as the TSA sent it.
    pub der: Vec<u8>,
    /// The TSA's genTime.
    pub gen_time: SystemTime,
    /// The TSA certificate, then its issuers up to the configured root.
    pub tsa_chain: Vec<Certificate>,
}

/// The response with the token left as raw bytes, so the exact bytes can be embedded.
#[derive(Sequence)]
struct RawResponse<'a> {
    status: cmpv2::status::PkiStatusInfo<'a>,
    #[asn1(optional = "true")]
    token: Option<AnyRef<'a>>,
}

/// ESSCertIDv2 (RFC 5035): the hash algorithm defaults to SHA-256.
#[derive(Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// SigningCertificateV2 (RFC 5035), and SigningCertificate (RFC 2634, SHA-1 hashes) below.
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// A check failure, before the URL is known.
#[derive(Debug)]
pub(crate) enum Failure {
    Rejected(String),
    Invalid(String),
    Untrusted(String),
}

impl Failure {
    pub(crate) fn at(self, url: &str) -> TimestampError {
        let url = url.to_string();
        match self {
            Failure::Rejected(detail) => TimestampError::Rejected { url, detail },
            Failure::Invalid(detail) => TimestampError::Invalid { url, detail },
            Failure::Untrusted(detail) => TimestampError::Untrusted { url, detail },
        }
    }
}

fn invalid(what: impl std::fmt::Display) -> Failure {
    Failure::Invalid(what.to_string())
}

fn untrusted(what: impl std::fmt::Display) -> Failure {
    Failure::Untrusted(what.to_string())
}

/// Checks the DER `TimeStampResp` `body` against `request`; see the module documentation.
pub(crate) fn check(
    body: &[u8],
    request: &Request,
    roots: &[Certificate],
    signing_chain: &[Certificate],
) -> Result<Token, Failure> {
    let response = RawResponse::from_der(body)
        .map_err(|e| invalid(format!("not a DER TimeStampResp: {e}")))?;
    let status = &response.status;
    use cmpv2::status::PkiStatus;
    if !matches!(
        status.status,
        PkiStatus::Accepted | PkiStatus::GrantedWithMods
    ) {
        let text = status
            .status_string
            .as_ref()
            .map(|texts| {
                texts
                    .iter()
                    .map(|t| t.as_str().to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        return Err(Failure::Rejected(format!(
            "status {:?}{}{}",
            status.status,
            status
                .fail_info
                .as_ref()
                .map(|f| format!(", failure info {f:?}"))
                .unwrap_or_default(),
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        )));
    }
    let token_der = response
        .token
        .ok_or_else(|| invalid("the status is granted but there is no token"))?
        .to_der()
        .map_err(invalid)?;
    let content_info = ContentInfo::from_der(&token_der)
        .map_err(|e| invalid(format!("the token is not a CMS ContentInfo: {e}")))?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(invalid(format!(
            "the token's content type is {}, not SignedData",
            content_info.content_type
        )));
    }
    let signed: SignedData = content_info
        .content
        .decode_as()
        .map_err(|e| invalid(format!("the token's SignedData: {e}")))?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(invalid(format!(
            "the token holds {}, not a TSTInfo",
            signed.encap_content_info.econtent_type
        )));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| invalid("the token's TSTInfo is missing"))?;
    let tst_der = econtent
        .decode_as::<OctetString>()
        .map_err(|e| invalid(format!("the TSTInfo is not in an OCTET STRING: {e}")))?;
    let tst =
        TstInfo::from_der(tst_der.as_bytes()).map_err(|e| invalid(format!("the TSTInfo: {e}")))?;
    check_tst_info(&tst, request)?;
    let gen_time = tst.gen_time.to_system_time();

    let certificates = token_certificates(&signed)?;
    let [signer_info] = signed.signer_infos.0.as_slice() else {
        return Err(invalid(format!(
            "the token has {} signers; a timestamp token has exactly one",
            signed.signer_infos.0.len()
        )));
    };
    let tsa = signer_certificate(signer_info, &certificates)?;
    check_signature(signer_info, tst_der.as_bytes(), tsa)?;
    check_signing_certificate_attribute(signer_info, tsa)?;
    check_time_stamping_usage(tsa)?;
    let tsa_chain = chain_to_root(tsa, &certificates, roots, gen_time)?;
    check_signing_chain(signing_chain, gen_time)?;
    Ok(Token {
        der: token_der,
        gen_time,
        tsa_chain,
    })
}

fn check_tst_info(tst: &TstInfo, request: &Request) -> Result<(), Failure> {
    let imprint = &tst.message_imprint;
    if imprint.hash_algorithm.oid != request.imprint.hash_algorithm.oid
        || imprint.hashed_message != request.imprint.hashed_message
    {
        return Err(invalid(format!(
            "the token's message imprint ({} over {} bytes) is not the one requested: it timestamps something else",
            imprint.hash_algorithm.oid,
            imprint.hashed_message.as_bytes().len()
        )));
    }
    match &tst.nonce {
        Some(nonce) if *nonce == request.nonce => Ok(()),
        Some(_) => Err(invalid(
            "the token's nonce is not the request's nonce (a replayed or misrouted response)",
        )),
        None => Err(invalid("the token has no nonce; the request sent one")),
    }
}

fn token_certificates(signed: &SignedData) -> Result<Vec<Certificate>, Failure> {
    let Some(set) = &signed.certificates else {
        return Ok(Vec::new());
    };
    set.0
        .iter()
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert),
            CertificateChoices::Other(_) => None,
        })
        .map(|cert| {
            let der = cert.to_der().map_err(invalid)?;
            Certificate::from_der(&der)
                .map_err(|e| invalid(format!("a certificate in the token: {e}")))
        })
        .collect()
}

fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    cert.x509()
        .tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)
        .and_then(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
        .map(|ski| ski.0.as_bytes().to_vec())
}

fn signer_certificate<'a>(
    signer: &SignerInfo,
    certificates: &'a [Certificate],
) -> Result<&'a Certificate, Failure> {
    certificates
        .iter()
        .find(|cert| match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                let tbs = &cert.x509().tbs_certificate;
                tbs.issuer == id.issuer && tbs.serial_number == id.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(id) => {
                subject_key_identifier(cert).as_deref() == Some(id.0.as_bytes())
            }
        })
        .ok_or_else(|| {
            invalid("the TSA's certificate is not in the token, although the request set certReq")
        })
}

/// The `AlgorithmIdentifier` of an X.509-style signature for a CMS signer's digest and signature
/// algorithms (CMS often names only the key type: rsaEncryption, id-ecPublicKey).
fn signature_algorithm(
    digest: HashAlgorithm,
    signature: &AlgorithmIdentifierOwned,
) -> AlgorithmIdentifierOwned {
    let oid = match signature.oid {
        o if o == RSA_ENCRYPTION => match digest {
            HashAlgorithm::Sha256 => SHA_256_WITH_RSA_ENCRYPTION,
            HashAlgorithm::Sha384 => SHA_384_WITH_RSA_ENCRYPTION,
            HashAlgorithm::Sha512 => SHA_512_WITH_RSA_ENCRYPTION,
        },
        o if o == ID_EC_PUBLIC_KEY => match digest {
            HashAlgorithm::Sha256 => ECDSA_WITH_SHA_256,
            HashAlgorithm::Sha384 => ECDSA_WITH_SHA_384,
            HashAlgorithm::Sha512 => ECDSA_WITH_SHA_512,
        },
        _ => return signature.clone(),
    };
    let rsa = oid == SHA_256_WITH_RSA_ENCRYPTION
        || oid == SHA_384_WITH_RSA_ENCRYPTION
        || oid == SHA_512_WITH_RSA_ENCRYPTION;
    AlgorithmIdentifierOwned {
        oid,
        parameters: rsa.then(|| Any::from(Null)),
    }
}

fn check_signature(signer: &SignerInfo, tst_info: &[u8], tsa: &Certificate) -> Result<(), Failure> {
    let digest_alg = hash_of(signer.digest_alg.oid).ok_or_else(|| {
        untrusted(format!(
            "the TSA signed with digest {}; only SHA-256, SHA-384 and SHA-512 are accepted",
            signer.digest_alg.oid
        ))
    })?;
    let attributes = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| invalid("the token's signer has no signed attributes"))?;
    let value = |oid: ObjectIdentifier| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let content_type = value(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| invalid("the signed attributes lack the content type"))?;
    if content_type != ID_CT_TST_INFO {
        return Err(invalid(format!(
            "the signed content type is {content_type}, not TSTInfo"
        )));
    }
    let message_digest = value(ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| invalid("the signed attributes lack the message digest"))?;
    if message_digest.as_bytes() != digest(digest_alg, tst_info).1 {
        return Err(untrusted(
            "the TSTInfo does not match the digest the TSA signed",
        ));
    }
    let signed_attributes = attributes.to_der().map_err(invalid)?;
    verify_signed_data(
        tsa.public_key(),
        &signature_algorithm(digest_alg, &signer.signature_algorithm),
        &signed_attributes,
        signer.signature.as_bytes(),
        Sha1::Reject,
    )
    .map_err(|e| {
        untrusted(format!(
            "the token's signature does not verify with the TSA certificate \"{}\": {e}",
            tsa.subject()
        ))
    })
}

/// The first certificate the ESS signing-certificate-v2 (preferred) or signing-certificate
/// attribute names must hash to the TSA certificate, as tspclient-go requires.
fn check_signing_certificate_attribute(
    signer: &SignerInfo,
    tsa: &Certificate,
) -> Result<(), Failure> {
    let attribute = |oid: ObjectIdentifier| {
        signer
            .signed_attrs
            .as_ref()
            .and_then(|attributes| attributes.iter().find(|a| a.oid == oid))
            .and_then(|a| a.values.iter().next())
    };
    let (expected, actual) = if let Some(value) = attribute(ID_SIGNING_CERTIFICATE_V2) {
        let v2: SigningCertificateV2 = value
            .decode_as()
            .map_err(|e| invalid(format!("the signing-certificate-v2 attribute: {e}")))?;
        let first = v2
            .certs
            .first()
            .ok_or_else(|| invalid("the signing-certificate-v2 attribute names no certificate"))?;
        let hash = match &first.hash_algorithm {
            None => HashAlgorithm::Sha256,
            Some(algorithm) => hash_of(algorithm.oid).ok_or_else(|| {
                untrusted(format!(
                    "the signing-certificate-v2 attribute hashes with {}; SHA-256, SHA-384 or SHA-512 expected",
                    algorithm.oid
                ))
            })?,
        };
        (
            first.cert_hash.as_bytes().to_vec(),
            digest(hash, tsa.der()).1,
        )
    } else if let Some(value) = attribute(ID_SIGNING_CERTIFICATE) {
        let v1: SigningCertificate = value
            .decode_as()
            .map_err(|e| invalid(format!("the signing-certificate attribute: {e}")))?;
        let first = v1
            .certs
            .first()
            .ok_or_else(|| invalid("the signing-certificate attribute names no certificate"))?;
        (
            first.cert_hash.as_bytes().to_vec(),
            sha1::Sha1::digest(tsa.der()).to_vec(),
        )
    } else {
        return Err(invalid(
            "the token's signed attributes have neither signing-certificate nor signing-certificate-v2; notation requires one",
        ));
    };
    if expected != actual {
        return Err(untrusted(format!(
            "the TSA certificate \"{}\" is not the one the token's signing-certificate attribute names",
            tsa.subject()
        )));
    }
    Ok(())
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
    cert.x509()
        .tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id == oid))
}

fn check_time_stamping_usage(tsa: &Certificate) -> Result<(), Failure> {
    let digital_signature = extension(tsa, ID_CE_KEY_USAGE)
        .and_then(|e| KeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|ku| ku.digital_signature());
    if !digital_signature {
        return Err(untrusted(format!(
            "the TSA certificate \"{}\" must have a key usage with digitalSignature",
            tsa.subject()
        )));
    }
    let extension = extension(tsa, ID_CE_EXT_KEY_USAGE);
    let usages = extension
        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .map(|eku| eku.0)
        .unwrap_or_default();
    if !extension.is_some_and(|e| e.critical) || usages != [ID_KP_TIME_STAMPING] {
        return Err(untrusted(format!(
            "the TSA certificate \"{}\" must have a critical extended key usage of timeStamping only (RFC 3161 section 2.3)",
            tsa.subject()
        )));
    }
    Ok(())
}

/// The TSA certificate's chain up to a configured root, each link's signature checked and each
/// certificate valid at genTime.
fn chain_to_root(
    tsa: &Certificate,
    pool: &[Certificate],
    roots: &[Certificate],
    gen_time: SystemTime,
) -> Result<Vec<Certificate>, Failure> {
    let issued = |child: &Certificate, issuer: &Certificate| {
        child.names_issuer(issuer) && child.verify_signed_by(issuer, Sha1::Reject).is_ok()
    };
    let mut chain = vec![tsa.clone()];
    loop {
        let current = chain.last().cloned().unwrap_or_else(|| tsa.clone());
        if !current.is_valid_at(gen_time) {
            return Err(untrusted(format!(
                "the TSA chain certificate \"{}\" is not valid at the timestamp's genTime",
                current.subject()
            )));
        }
        if roots.contains(&current) {
            return Ok(chain);
        }
        if let Some(root) = roots.iter().find(|root| issued(&current, root)) {
            if !root.is_valid_at(gen_time) {
                return Err(untrusted(format!(
                    "the TSA root \"{}\" is not valid at the timestamp's genTime",
                    root.subject()
                )));
            }
            chain.push(root.clone());
            return Ok(chain);
        }
        let next = pool
            .iter()
            .find(|c| !chain.contains(c) && !c.is_self_issued() && issued(&current, c));
        match next {
            Some(next) if chain.len() < MAX_DEPTH => chain.push(next.clone()),
            _ => {
                return Err(untrusted(format!(
                    "the TSA certificate \"{}\" does not chain to timestamp_root_cert ({}); \
                     give the root of this TSA",
                    tsa.subject(),
                    roots
                        .iter()
                        .map(|r| format!("\"{}\"", r.subject()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
}

fn check_signing_chain(signing_chain: &[Certificate], gen_time: SystemTime) -> Result<(), Failure> {
    for cert in signing_chain {
        if !cert.is_valid_at(gen_time) {
            return Err(untrusted(format!(
                "the timestamp's genTime {} is outside the validity of signing certificate \"{}\"; \
                 check the TSA's and this machine's clocks",
                rfc3339(gen_time),
                cert.subject()
            )));
        }
    }
    Ok(())
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("{t:?}"))
}
