//! Notary Project signature envelopes, built by the signer's ENVELOPE mode and checked before
//! they leave it.
//!
//! notation runs a verification plugin only when the envelope carries the *critical* extended
//! attribute `io.cncf.notary.verificationPlugin`, and with `SIGNATURE_GENERATOR.RAW` notation
//! builds the envelope itself and never adds one. So a signer that wants its signatures checked
//! by `akv-verifier` has to write the whole envelope: that is this crate.
//!
//! Both formats are written the way notation-core-go writes them and read back with the checks
//! notation-core-go applies when it validates them:
//!
//! | module | media type | shape |
//! |---|---|---|
//! | [`jws`] | `application/jose+json` | JWS JSON serialization; protected header keys sorted, base64url without padding inside, `x5c` in padded standard base64 |
//! | [`cose`] | `application/cose` | `COSE_Sign1_Tagged`; notation's text labels, signing time and expiry as CBOR tag-1 epoch seconds, `x5chain` always an array |
//! | [`payload`] | — | the Notary payload `{"targetArtifact":…}` rules notation-go enforces on an envelope plugin's output |
//!
//! Signing is split in two so the caller can sign asynchronously (a vault round trip):
//! [`prepare`] returns an [`Unsigned`] envelope whose [`Unsigned::signing_input`] is signed and
//! handed back to [`Unsigned::finish`]; [`build`] does both with a callback. Signatures are raw:
//! ECDSA fixed-width `r‖s`, RSASSA-PSS with a salt of the hash length. [`parse`] decodes an
//! envelope (checking `crit` as notation-core-go does) and [`Envelope::verify`] checks its
//! signature with the leaf certificate exactly as notation's verifiers do.

pub mod cose;
pub mod jws;
pub mod payload;

use notation_akv_protocol::SigningAlgorithm;
use notation_akv_protocol::generate_envelope::{ENVELOPE_TYPE_COSE, ENVELOPE_TYPE_JWS};
use notation_akv_x509::{Certificate, SignatureError, verify_plugin_signature};
use time::OffsetDateTime;

/// The only signing scheme an AKV signer produces (the signing time is the signer's clock).
pub const SIGNING_SCHEME_X509: &str = "notary.x509";
/// Header names notation-core-go reserves; extended attributes may not use them.
pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
pub const EXPIRY: &str = "io.cncf.notary.expiry";
pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

/// The two envelope formats notation knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeType {
    Jws,
    Cose,
}

impl EnvelopeType {
    /// The format named by a `signatureEnvelopeType`, if notation knows it.
    pub fn from_media_type(media_type: &str) -> Option<EnvelopeType> {
        match media_type {
            ENVELOPE_TYPE_JWS => Some(EnvelopeType::Jws),
            ENVELOPE_TYPE_COSE => Some(EnvelopeType::Cose),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeType::Jws => ENVELOPE_TYPE_JWS,
            EnvelopeType::Cose => ENVELOPE_TYPE_COSE,
        }
    }
}

/// A signed extended attribute: a protected header with a JSON value, critical when the verifier
/// must understand it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub key: String,
    pub value: serde_json::Value,
    pub critical: bool,
}

/// What goes into an envelope.
#[derive(Clone, Debug)]
pub struct SignRequest<'a> {
    /// The Notary payload JSON, signed as is.
    pub payload: &'a [u8],
    /// The payload's media type (`cty`); notation requires the Notary payload type.
    pub content_type: &'a str,
    /// Must be the algorithm the leaf key's spec pairs with.
    pub algorithm: SigningAlgorithm,
    /// Written with whole seconds (COSE cannot carry more; JWS follows for symmetry).
    pub signing_time: OffsetDateTime,
    /// Marked critical when present.
    pub expiry: Option<OffsetDateTime>,
    pub extended_attributes: &'a [Attribute],
    /// DER certificates, leaf first.
    pub certificate_chain: &'a [Vec<u8>],
    /// Unsigned; empty leaves it out.
    pub signing_agent: &'a str,
}

/// Why an envelope could not be built, read or verified.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The request cannot make a valid envelope (reserved or repeated attribute, empty chain…).
    #[error("cannot build the signature envelope: {0}")]
    Request(String),
    /// The bytes are not an envelope notation would accept.
    #[error("malformed signature envelope: {0}")]
    Malformed(String),
    /// The envelope's signature does not verify with its leaf certificate.
    #[error("the envelope signature does not verify with the leaf certificate: {0}")]
    Signature(#[from] SignatureError),
}

/// An envelope waiting for its signature.
#[derive(Debug)]
pub struct Unsigned {
    signing_input: Vec<u8>,
    body: UnsignedBody,
}

#[derive(Debug)]
enum UnsignedBody {
    Jws(jws::Unsigned),
    Cose(Box<coset::CoseSign1>),
}

impl Unsigned {
    /// The exact bytes to sign: the JWS signing input or the COSE `Sig_structure`.
    pub fn signing_input(&self) -> &[u8] {
        &self.signing_input
    }

    /// The complete envelope with `signature` (raw: ECDSA `r‖s`, or RSASSA-PSS).
    pub fn finish(self, signature: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        self.finish_timestamped(signature, None)
    }

    /// The complete envelope with `signature` and `timestamp`, the DER RFC 3161 TimeStampToken
    /// over that signature, in the unprotected header `io.cncf.notary.timestampSignature` where
    /// notation-core-go puts it (see [`timestamp_content`] for what it must cover).
    pub fn finish_timestamped(
        self,
        signature: Vec<u8>,
        timestamp: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, EnvelopeError> {
        match self.body {
            UnsignedBody::Jws(unsigned) => Ok(unsigned.finish(&signature, timestamp.as_deref())),
            UnsignedBody::Cose(sign1) => cose::finish(*sign1, signature, timestamp),
        }
    }
}

/// What a notary.x509 envelope's RFC 3161 timestamp covers, as notation-core-go requests it for
/// both formats: the raw signature value (JWS: the decoded `signature`; COSE: the Sign1
/// signature), hashed with the hash of the signature algorithm.
pub fn timestamp_content(
    algorithm: SigningAlgorithm,
    signature: &[u8],
) -> (notation_akv_protocol::HashAlgorithm, &[u8]) {
    (algorithm.hash(), signature)
}

/// Builds the envelope up to the signature.
pub fn prepare(kind: EnvelopeType, request: &SignRequest<'_>) -> Result<Unsigned, EnvelopeError> {
    check_request(request)?;
    match kind {
        EnvelopeType::Jws => {
            let unsigned = jws::prepare(request)?;
            Ok(Unsigned {
                signing_input: unsigned.signing_input(),
                body: UnsignedBody::Jws(unsigned),
            })
        }
        EnvelopeType::Cose => {
            let sign1 = cose::prepare(request)?;
            Ok(Unsigned {
                signing_input: sign1.tbs_data(&[]),
                body: UnsignedBody::Cose(Box::new(sign1)),
            })
        }
    }
}

/// Builds and signs an envelope: `sign` gets the signing input and returns the raw signature.
pub fn build<E: From<EnvelopeError>>(
    kind: EnvelopeType,
    request: &SignRequest<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, E> {
    let unsigned = prepare(kind, request)?;
    let signature = sign(unsigned.signing_input())?;
    Ok(unsigned.finish(signature)?)
}

/// The headers notation-core-go itself writes; an extended attribute may not take their names.
const RESERVED: &[&str] = &[
    "alg",
    "cty",
    "crit",
    SIGNING_SCHEME,
    SIGNING_TIME,
    AUTHENTIC_SIGNING_TIME,
    EXPIRY,
    SIGNING_AGENT,
    TIMESTAMP_SIGNATURE,
    "x5c",
];

fn check_request(request: &SignRequest<'_>) -> Result<(), EnvelopeError> {
    if request.certificate_chain.is_empty() {
        return Err(EnvelopeError::Request(
            "the certificate chain is empty".into(),
        ));
    }
    for (i, attribute) in request.extended_attributes.iter().enumerate() {
        if attribute.key.is_empty() || RESERVED.contains(&attribute.key.as_str()) {
            return Err(EnvelopeError::Request(format!(
                "extended attribute name {:?} is empty or reserved",
                attribute.key
            )));
        }
        if request.extended_attributes[..i]
            .iter()
            .any(|a| a.key == attribute.key)
        {
            return Err(EnvelopeError::Request(format!(
                "extended attribute {:?} is given twice",
                attribute.key
            )));
        }
    }
    Ok(())
}

/// An envelope as read back: what notation-core-go would hand its verifier.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub payload: Vec<u8>,
    pub content_type: String,
    pub algorithm: SigningAlgorithm,
    pub signing_scheme: String,
    pub signing_time: OffsetDateTime,
    pub expiry: Option<OffsetDateTime>,
    /// Every protected header that is not a Notary Project header, in the order read.
    pub extended_attributes: Vec<Attribute>,
    /// The `crit` list as written.
    pub critical: Vec<String>,
    pub certificate_chain: Vec<Vec<u8>>,
    pub signing_agent: Option<String>,
    /// The DER RFC 3161 TimeStampToken from `io.cncf.notary.timestampSignature`, if any.
    pub timestamp: Option<Vec<u8>>,
    /// The bytes the signature covers.
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Envelope {
    /// The extended attribute named `key`, if present.
    pub fn attribute(&self, key: &str) -> Option<&Attribute> {
        self.extended_attributes.iter().find(|a| a.key == key)
    }

    /// Checks the signature with the leaf certificate, as notation does before anything else:
    /// the algorithm must be the one the leaf key's spec pairs with.
    pub fn verify(&self) -> Result<(), EnvelopeError> {
        let leaf = self
            .certificate_chain
            .first()
            .ok_or_else(|| EnvelopeError::Malformed("the certificate chain is empty".into()))?;
        let leaf = Certificate::from_der(leaf)
            .map_err(|e| EnvelopeError::Malformed(format!("leaf certificate: {e}")))?;
        verify_plugin_signature(
            leaf.public_key(),
            self.algorithm,
            &self.signing_input,
            &self.signature,
        )?;
        Ok(())
    }
}

/// Decodes an envelope and checks its headers as notation-core-go does (not its signature: see
/// [`Envelope::verify`]).
pub fn parse(kind: EnvelopeType, bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    match kind {
        EnvelopeType::Jws => jws::parse(bytes),
        EnvelopeType::Cose => cose::parse(bytes),
    }
}

/// The `crit` rules both formats share (notation-core-go `validateCriticalHeaders` and
/// `validateCritHeaders`): the signing scheme is critical, so is the expiry when present, and
/// every critical name is present.
fn check_critical(
    critical: &[String],
    expiry: bool,
    present: impl Fn(&str) -> bool,
) -> Result<(), EnvelopeError> {
    if critical.is_empty() {
        return Err(EnvelopeError::Malformed("missing \"crit\" header".into()));
    }
    let mut required = vec![SIGNING_SCHEME];
    if expiry {
        required.push(EXPIRY);
    }
    for name in required {
        if !critical.iter().any(|c| c == name) {
            return Err(EnvelopeError::Malformed(format!(
                "{name:?} is not marked critical"
            )));
        }
    }
    for name in critical {
        if !present(name) {
            return Err(EnvelopeError::Malformed(format!(
                "{name:?} is marked critical but not present"
            )));
        }
    }
    Ok(())
}

/// A signing time truncated to whole seconds, in UTC.
fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
}

/// The signing algorithm a JWS `alg` or COSE algorithm id names.
fn algorithm_from(matches: impl Fn(SigningAlgorithm) -> bool) -> Option<SigningAlgorithm> {
    SigningAlgorithm::ALL.into_iter().find(|a| matches(*a))
}
