//! An RFC 6960 OCSP responder answering GET (`/ocsp/<base64>`) and POST (`/ocsp`) from a status
//! table, with the faults real responders show.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::asn1::{BitString, GeneralizedTime};
use der::{Decode, Encode};
use sha1::Digest as _;
use x509_cert::Certificate;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::FixtureError;
use crate::crl::Reason;
use crate::http::{Handler, Reply, Request, Server};
use crate::pki::TestCa;
use crate::sign::Key;

/// What the responder says about a serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked {
        time: SystemTime,
        reason: Option<Reason>,
        /// The invalidityDate (RFC 5280 §5.3.2) in the SingleResponse's singleExtensions: the key
        /// is known or suspected to be compromised from this time (as CRL `Entry::invalid_from`).
        invalid_from: Option<SystemTime>,
    },
    Unknown,
}

impl Status {
    /// Revoked at `time` for `reason`, without an invalidityDate.
    pub fn revoked(time: SystemTime, reason: Option<Reason>) -> Self {
        Self::Revoked {
            time,
            reason,
            invalid_from: None,
        }
    }
}

/// Who signs the responses.
#[derive(Debug, Clone)]
pub enum Signer {
    /// The CA that issued the certificate asked about.
    Issuer,
    /// A delegated responder certificate (included in the response) and its key.
    Delegated { cert_der: Vec<u8>, key: Arc<Key> },
    /// The issuer's name as responder id, but another key.
    WrongKey(Arc<Key>),
}

/// Which certificate a SingleResponse names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CertIdAnswer {
    /// The CertID of the request (a correct responder).
    #[default]
    AsAsked,
    /// The requested issuer with another serial number.
    OtherSerial,
    /// The requested serial under another issuer (other name and key hashes).
    OtherIssuer,
}

/// How the responder behaves; the default is a correct responder.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub signer: Signer,
    /// nextUpdate = now + this; `None` omits nextUpdate.
    pub validity: Option<Duration>,
    /// thisUpdate two days ago and nextUpdate one day ago.
    pub stale: bool,
    /// thisUpdate this far in the past (for max-age tests without nextUpdate).
    pub age: Duration,
    /// Zeroed signature bytes.
    pub corrupt_signature: bool,
    /// Echo the request nonce (a conforming responder does).
    pub echo_nonce: bool,
    /// An OCSP error status instead of a response (tryLater, …).
    pub error_status: Option<x509_ocsp::OcspResponseStatus>,
    /// Status for serials not in the table.
    pub default_status: Status,
    /// Serve these bytes verbatim (e.g. a response made by `openssl ocsp`).
    pub canned: Option<Vec<u8>>,
    /// Answer for another certificate than the one asked about (signed correctly all the same).
    pub cert_id: CertIdAnswer,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            signer: Signer::Issuer,
            validity: Some(Duration::from_secs(24 * 3600)),
            stale: false,
            age: Duration::from_secs(60),
            corrupt_signature: false,
            echo_nonce: true,
            error_status: None,
            default_status: Status::Unknown,
            canned: None,
            cert_id: CertIdAnswer::AsAsked,
        }
    }
}

/// What the last request looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub had_nonce: bool,
    pub hash: ObjectIdentifier,
}

struct State {
    cas: Vec<(Certificate, Arc<Key>)>,
    statuses: HashMap<Vec<u8>, Status>,
    behaviour: Behaviour,
    seen: Vec<Seen>,
}

/// A running responder.
pub struct OcspResponder {
    state: Arc<Mutex<State>>,
    pub server: Server,
}

impl std::fmt::Debug for OcspResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspResponder")
            .field("server", &self.server)
            .finish()
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn norm(serial: &[u8]) -> Vec<u8> {
    let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
    serial[start..].to_vec()
}

impl OcspResponder {
    /// Starts a responder for certificates issued by any of `cas`.
    pub async fn start(
        cas: &[&TestCa],
        tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Result<Self, FixtureError> {
        let cas = cas
            .iter()
            .map(|ca| Ok((ca.cert()?, Arc::new(ca.key().duplicate()?))))
            .collect::<Result<Vec<_>, FixtureError>>()?;
        let state = Arc::new(Mutex::new(State {
            cas,
            statuses: HashMap::new(),
            behaviour: Behaviour::default(),
            seen: Vec::new(),
        }));
        let handler: Handler = {
            let state = state.clone();
            Arc::new(move |req: &Request| respond(&state, req))
        };
        let server = Server::start(handler, tls).await?;
        Ok(Self { state, server })
    }

    /// Answers for certificates issued by `ca` too (CAs are usually made after the responder, so
    /// that their certificates can carry its URL).
    pub fn add_ca(&self, ca: &TestCa) -> Result<(), FixtureError> {
        let entry = (ca.cert()?, Arc::new(ca.key().duplicate()?));
        lock(&self.state).cas.push(entry);
        Ok(())
    }

    /// The responder URL to put in certificates.
    pub fn url(&self) -> String {
        self.server.url("/ocsp")
    }

    pub fn set_status(&self, serial: &[u8], status: Status) {
        lock(&self.state).statuses.insert(norm(serial), status);
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        lock(&self.state).behaviour = behaviour;
    }

    /// Requests seen so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.state).seen.clone()
    }

    pub fn requests(&self) -> u64 {
        self.server.requests()
    }
}

fn respond(state: &Mutex<State>, req: &Request) -> Reply {
    let der = match req.method.as_str() {
        "POST" => Some(req.body.clone()),
        "GET" => req
            .path()
            .strip_prefix("/ocsp/")
            .and_then(|enc| {
                url::form_urlencoded::parse(format!("x={enc}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            })
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok()),
        _ => None,
    };
    let Some(request) = der.and_then(|d| OcspRequest::from_der(&d).ok()) else {
        return ocsp_reply(
            OcspResponse::malformed_request()
                .to_der()
                .unwrap_or_default(),
        );
    };
    let mut state = lock(state);
    let nonce = request.nonce();
    if let Some(first) = request.tbs_request.request_list.first() {
        state.seen.push(Seen {
            method: req.method.clone(),
            had_nonce: nonce.is_some(),
            hash: first.req_cert.hash_algorithm.oid,
        });
    }
    let b = state.behaviour.clone();
    if let Some(canned) = b.canned {
        return ocsp_reply(canned);
    }
    if let Some(status) = b.error_status {
        let r = OcspResponse {
            response_status: status,
            response_bytes: None,
        };
        return ocsp_reply(r.to_der().unwrap_or_default());
    }
    match build(&state, &request, nonce, &b) {
        Ok(bytes) => ocsp_reply(bytes),
        Err(_) => ocsp_reply(OcspResponse::internal_error().to_der().unwrap_or_default()),
    }
}

fn ocsp_reply(body: Vec<u8>) -> Reply {
    Reply::ok("application/ocsp-response", body)
}

fn hash(oid: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    match oid {
        rfc5912::ID_SHA_1 => Some(sha1::Sha1::digest(data).to_vec()),
        rfc5912::ID_SHA_256 => Some(sha2::Sha256::digest(data).to_vec()),
        _ => None,
    }
}

fn issued_by(id: &CertId, ca: &Certificate) -> bool {
    let oid = id.hash_algorithm.oid;
    let Ok(name) = ca.tbs_certificate.subject.to_der() else {
        return false;
    };
    let key = ca
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    hash(oid, &name).as_deref() == Some(id.issuer_name_hash.as_bytes())
        && hash(oid, key).as_deref() == Some(id.issuer_key_hash.as_bytes())
}

/// The CertID a response names for request `id`.
fn answered_id(id: &CertId, answer: CertIdAnswer) -> Result<CertId, FixtureError> {
    let mut id = id.clone();
    match answer {
        CertIdAnswer::AsAsked => {}
        CertIdAnswer::OtherSerial => {
            let mut serial = norm(id.serial_number.as_bytes());
            serial.push(0x01);
            id.serial_number = x509_cert::serial_number::SerialNumber::new(&serial)?;
        }
        CertIdAnswer::OtherIssuer => {
            let other = |h: &der::asn1::OctetString| {
                let flipped: Vec<u8> = h.as_bytes().iter().map(|b| !b).collect();
                der::asn1::OctetString::new(flipped)
            };
            id.issuer_name_hash = other(&id.issuer_name_hash)?;
            id.issuer_key_hash = other(&id.issuer_key_hash)?;
        }
    }
    Ok(id)
}

fn gtime(t: SystemTime) -> Result<OcspGeneralizedTime, FixtureError> {
    Ok(OcspGeneralizedTime(GeneralizedTime::from_system_time(t)?))
}

fn build(
    state: &State,
    request: &OcspRequest,
    nonce: Option<Nonce>,
    b: &Behaviour,
) -> Result<Vec<u8>, FixtureError> {
    let now = SystemTime::now();
    let mut responses = Vec::new();
    let mut ca_for_response = None;
    for r in &request.tbs_request.request_list {
        let id = &r.req_cert;
        let Some((ca, key)) = state.cas.iter().find(|(ca, _)| issued_by(id, ca)) else {
            return Ok(OcspResponse::unauthorized().to_der()?);
        };
        ca_for_response.get_or_insert((ca.clone(), key.clone()));
        let status = state
            .statuses
            .get(&norm(id.serial_number.as_bytes()))
            .copied()
            .unwrap_or(b.default_status);
        let mut single_extensions = None;
        let cert_status = match status {
            Status::Good => CertStatus::good(),
            Status::Unknown => CertStatus::unknown(),
            Status::Revoked {
                time,
                reason,
                invalid_from,
            } => {
                if let Some(t) = invalid_from {
                    single_extensions = Some(vec![crate::crl::invalidity_date(t)?]);
                }
                CertStatus::revoked(RevokedInfo {
                    revocation_time: gtime(time)?,
                    revocation_reason: reason,
                })
            }
        };
        let (this_update, next_update) = if b.stale {
            (
                now - Duration::from_secs(2 * 86400),
                Some(now - Duration::from_secs(86400)),
            )
        } else {
            (now - b.age, b.validity.map(|v| now + v))
        };
        responses.push(SingleResponse {
            cert_id: answered_id(id, b.cert_id)?,
            cert_status,
            this_update: gtime(this_update)?,
            next_update: next_update.map(gtime).transpose()?,
            single_extensions,
        });
    }
    let Some((ca, ca_key)) = ca_for_response else {
        return Ok(OcspResponse::malformed_request().to_der()?);
    };
    let (responder_name, key, certs) = match &b.signer {
        Signer::Issuer => (ca.tbs_certificate.subject.clone(), ca_key, None),
        Signer::WrongKey(k) => (ca.tbs_certificate.subject.clone(), k.clone(), None),
        Signer::Delegated { cert_der, key } => {
            let cert = Certificate::from_der(cert_der)?;
            (
                cert.tbs_certificate.subject.clone(),
                key.clone(),
                Some(vec![cert]),
            )
        }
    };
    let response_extensions = match nonce {
        Some(n) if b.echo_nonce => {
            use x509_cert::ext::AsExtension;
            Some(vec![n.to_extension(&responder_name, &[])?])
        }
        _ => None,
    };
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByName(responder_name),
        produced_at: gtime(now)?,
        responses,
        response_extensions,
    };
    let mut signature = key.sign(&data.to_der()?)?;
    if b.corrupt_signature {
        signature.iter_mut().for_each(|x| *x = 0);
    }
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm: key.signature_algorithm(),
        signature: BitString::from_bytes(&signature)?,
        certs,
    };
    Ok(OcspResponse::successful(basic)?.to_der()?)
}
