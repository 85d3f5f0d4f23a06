//! An RFC 3161 timestamp authority on 127.0.0.1: answers `application/timestamp-query` POSTs with
//! `TimeStampResp`s signed by a TSA certificate (critical EKU timeStamping) issued by its own
//! test root, the way production TSAs build them: SignedData with the TSA certificate, signed
//! attributes content-type, message-digest and ESS signing-certificate-v2.
//!
//! [`Behaviour`] injects the faults a client must catch: a rejection status, a wrong nonce, a
//! wrong imprint, a token without certificates or without the ESS signing-certificate attribute, a
//! genTime shift, a body that is not DER.

use std::sync::{Arc, Mutex};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912::ID_SHA_256;
use der::asn1::{GeneralizedTime, Int, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use rcgen::{CertificateParams, CustomExtension, DnType, IsCa, KeyUsagePurpose};
use sha2::Digest as _;
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_tsp::{TimeStampReq, TimeStampResp, TspVersion, TstInfo};

use crate::FixtureError;
use crate::http::{Handler, Reply, Server};
use crate::pki::TestCa;
use crate::sign::{Key, KeySpec};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");

/// What the TSA does wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// Answer with PKIStatus rejection (2) and no token.
    pub reject: bool,
    /// Echo a different nonce.
    pub wrong_nonce: bool,
    /// Timestamp a different hash.
    pub wrong_imprint: bool,
    /// Leave the certificates out of the token.
    pub no_certificates: bool,
    /// Leave out the ESS signing-certificate-v2 attribute.
    pub no_signing_certificate: bool,
    /// Shift genTime by this many seconds.
    pub gen_time_shift: i64,
    /// Answer these bytes instead of a response.
    pub garbage: Option<Vec<u8>>,
}

/// A running TSA; stops when dropped.
#[derive(Debug)]
pub struct Tsa {
    server: Server,
    root: Arc<TestCa>,
    cert_der: Vec<u8>,
    behaviour: Arc<Mutex<Behaviour>>,
}

struct Signer {
    key: Key,
    cert_der: Vec<u8>,
    cert: x509_cert::Certificate,
}

/// A TSA certificate for `key`, issued by `root`: critical EKU timeStamping only, as RFC 3161
/// section 2.3 and notation require.
pub fn tsa_certificate(root: &TestCa, key: &Key, cn: &str) -> Result<Vec<u8>, FixtureError> {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "notation-akv tests");
    params.distinguished_name.push(DnType::CommonName, cn);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(365);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // SEQUENCE { id-kp-timeStamping }
    let eku = vec![
        0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
    ];
    let mut extension = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku);
    extension.set_criticality(true);
    params.custom_extensions.push(extension);
    root.sign_params(&params, key)
}

impl Tsa {
    /// A TSA with an EC P-256 key under a fresh root named `cn`.
    pub async fn start(cn: &str) -> Result<Tsa, FixtureError> {
        let root = Arc::new(TestCa::root(&format!("{cn} Root"))?);
        let key = Key::generate(KeySpec::Ec256)?;
        let cert_der = tsa_certificate(&root, &key, cn)?;
        let signer = Arc::new(Signer {
            cert: x509_cert::Certificate::from_der(&cert_der)?,
            cert_der: cert_der.clone(),
            key,
        });
        let behaviour = Arc::new(Mutex::new(Behaviour::default()));
        let handler: Handler = {
            let behaviour = behaviour.clone();
            Arc::new(move |request| {
                let behaviour = behaviour.lock().map(|b| b.clone()).unwrap_or_default();
                if request.method != "POST"
                    || request.header("content-type") != Some("application/timestamp-query")
                {
                    return Reply::status(400);
                }
                if let Some(garbage) = behaviour.garbage {
                    return Reply::ok("application/timestamp-reply", garbage);
                }
                match respond(&signer, &request.body, &behaviour) {
                    Ok(body) => Reply::ok("application/timestamp-reply", body),
                    Err(_) => Reply::status(400),
                }
            })
        };
        let server = Server::start(handler, None).await?;
        Ok(Tsa {
            server,
            root,
            cert_der,
            behaviour,
        })
    }

    /// The URL to POST queries to.
    pub fn url(&self) -> String {
        self.server.url("/tsa")
    }

    /// The root the tokens chain to, PEM.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    pub fn root(&self) -> &TestCa {
        &self.root
    }

    /// The TSA certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        if let Ok(mut b) = self.behaviour.lock() {
            *b = behaviour;
        }
    }

    /// The underlying server (faults such as delays, request counters).
    pub fn server(&self) -> &Server {
        &self.server
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, FixtureError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The DER `TimeStampResp` for the DER `TimeStampReq` `query`.
fn respond(signer: &Signer, query: &[u8], behaviour: &Behaviour) -> Result<Vec<u8>, FixtureError> {
    let request = TimeStampReq::from_der(query)?;
    let status = |status| cmpv2::status::PkiStatusInfo {
        status,
        status_string: None,
        fail_info: None,
    };
    if behaviour.reject {
        return Ok(TimeStampResp {
            status: status(cmpv2::status::PkiStatus::Rejection),
            time_stamp_token: None,
        }
        .to_der()?);
    }
    let mut imprint = request.message_imprint.clone();
    if behaviour.wrong_imprint {
        let mut hashed = imprint.hashed_message.as_bytes().to_vec();
        if let Some(first) = hashed.first_mut() {
            *first ^= 0xff;
        }
        imprint.hashed_message = OctetString::new(hashed)?;
    }
    let mut nonce = request.nonce.clone();
    if behaviour.wrong_nonce {
        nonce = Some(Int::new(&[0x01, 0x02, 0x03])?);
    }
    let now = std::time::SystemTime::now();
    let gen_time = if behaviour.gen_time_shift >= 0 {
        now + std::time::Duration::from_secs(behaviour.gen_time_shift.unsigned_abs())
    } else {
        now - std::time::Duration::from_secs(behaviour.gen_time_shift.unsigned_abs())
    };
    let serial: [u8; 8] = sha2::Sha256::digest(query)[..8]
        .try_into()
        .unwrap_or_default();
    let tst = TstInfo {
        version: TspVersion::V1,
        policy: TSA_POLICY,
        message_imprint: imprint,
        serial_number: Int::new(&[&[0x01][..], &serial[..]].concat())?,
        gen_time: GeneralizedTime::from_system_time(gen_time)?,
        accuracy: None,
        ordering: false,
        nonce,
        tsa: None,
        extensions: None,
    }
    .to_der()?;
    // ESS SigningCertificateV2 { certs { ESSCertIDv2 { certHash } } } (hash algorithm: default SHA-256).
    let cert_hash = OctetString::new(sha2::Sha256::digest(&signer.cert_der).to_vec())?;
    // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } }: three nested
    // SEQUENCEs (the hash algorithm is the default, SHA-256).
    let signing_certificate_der = vec![vec![vec![cert_hash]]].to_der()?;
    let mut attributes = vec![
        attribute(ID_CONTENT_TYPE, Any::encode_from(&ID_CT_TST_INFO)?)?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(sha2::Sha256::digest(&tst).to_vec())?)?,
        )?,
    ];
    if !behaviour.no_signing_certificate {
        attributes.push(attribute(
            ID_SIGNING_CERTIFICATE_V2,
            Any::from_der(&signing_certificate_der)?,
        )?);
    }
    let attributes = SetOfVec::try_from(attributes)?;
    let signature = signer.key.sign(&attributes.to_der()?)?;
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.cert.tbs_certificate.issuer.clone(),
            serial_number: signer.cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256.clone(),
        signed_attrs: Some(attributes),
        signature_algorithm: signer.key.signature_algorithm(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let certificates = if behaviour.no_certificates {
        None
    } else {
        Some(CertificateSet(SetOfVec::try_from(vec![
            CertificateChoices::Certificate(signer.cert.clone()),
        ])?))
    };
    let signed = SignedData {
        version: CmsVersion::V3,
        digest_algorithms: SetOfVec::try_from(vec![sha256])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_CT_TST_INFO,
            econtent: Some(Any::encode_from(&OctetString::new(tst)?)?),
        },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    Ok(TimeStampResp {
        status: status(cmpv2::status::PkiStatus::Accepted),
        time_stamp_token: Some(ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed)?,
        }),
    }
    .to_der()?)
}
