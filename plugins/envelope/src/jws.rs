//! `application/jose+json`: the JWS JSON serialization notation-core-go writes.
//!
//! ```text
//! {"payload": b64url(payload), "protected": b64url(header JSON),
//!  "header": {"io.cncf.notary.timestampSignature": std-b64(DER TimeStampToken), when timestamped,
//!             "x5c": [std-b64(DER)…], "io.cncf.notary.signingAgent": "…"},
//!  "signature": b64url(raw signature)}
//! ```
//!
//! The protected header holds `alg`, `cty`, `crit`, the signing scheme, the signing time (RFC 3339),
//! the expiry when set, and the extended attributes as top-level members. Its keys are written in
//! byte order, as Go's `encoding/json` writes a map. Inside the envelope base64url has no padding;
//! `x5c` is padded standard base64 because Go encodes `[]byte` that way.

use crate::{
    AUTHENTIC_SIGNING_TIME, Attribute, EXPIRY, Envelope, EnvelopeError, SIGNING_SCHEME,
    SIGNING_SCHEME_X509, SIGNING_TIME, SignRequest, algorithm_from, check_critical, whole_seconds,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The envelope's JSON members, in notation-core-go's order.
#[derive(Serialize, Deserialize)]
struct Json {
    payload: String,
    protected: String,
    header: Unprotected,
    signature: String,
}

#[derive(Serialize, Deserialize)]
struct Unprotected {
    #[serde(
        rename = "io.cncf.notary.timestampSignature",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    timestamp_signature: Option<String>,
    #[serde(default)]
    x5c: Vec<String>,
    #[serde(
        rename = "io.cncf.notary.signingAgent",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    signing_agent: Option<String>,
}

/// A JWS envelope up to its signature.
#[derive(Debug)]
pub struct Unsigned {
    protected: String,
    payload: String,
    x5c: Vec<String>,
    signing_agent: Option<String>,
}

impl Unsigned {
    /// `b64url(protected) "." b64url(payload)`, the JWS signing input.
    pub fn signing_input(&self) -> Vec<u8> {
        format!("{}.{}", self.protected, self.payload).into_bytes()
    }

    /// The envelope JSON with `signature` and, when given, the DER RFC 3161 token over it.
    pub fn finish(self, signature: &[u8], timestamp: Option<&[u8]>) -> Vec<u8> {
        let json = Json {
            payload: self.payload,
            protected: self.protected,
            header: Unprotected {
                // Go encodes the token's []byte as padded standard base64.
                timestamp_signature: timestamp.map(|der| STANDARD.encode(der)),
                x5c: self.x5c,
                signing_agent: self.signing_agent,
            },
            signature: URL_SAFE_NO_PAD.encode(signature),
        };
        // Serializing strings and a string list cannot fail.
        serde_json::to_vec(&json).unwrap_or_default()
    }
}

fn rfc3339(t: OffsetDateTime) -> Result<String, EnvelopeError> {
    whole_seconds(t)
        .format(&Rfc3339)
        .map_err(|e| EnvelopeError::Request(format!("time {t} cannot be written as RFC 3339: {e}")))
}

/// The protected header: Notary headers, then extended attributes, in byte order of their names.
pub(crate) fn prepare(request: &SignRequest<'_>) -> Result<Unsigned, EnvelopeError> {
    let mut header: BTreeMap<String, Value> = BTreeMap::new();
    // notation-core-go's crit order: the scheme, critical extended attributes, then the expiry.
    let mut crit = vec![SIGNING_SCHEME.to_string()];
    for Attribute {
        key,
        value,
        critical,
    } in request.extended_attributes
    {
        header.insert(key.clone(), value.clone());
        if *critical {
            crit.push(key.clone());
        }
    }
    header.insert("alg".into(), request.algorithm.jws_name().into());
    header.insert("cty".into(), request.content_type.into());
    header.insert(SIGNING_SCHEME.into(), SIGNING_SCHEME_X509.into());
    header.insert(SIGNING_TIME.into(), rfc3339(request.signing_time)?.into());
    if let Some(expiry) = request.expiry {
        header.insert(EXPIRY.into(), rfc3339(expiry)?.into());
        crit.push(EXPIRY.into());
    }
    header.insert("crit".into(), crit.into());
    let protected = serde_json::to_vec(&header)
        .map_err(|e| EnvelopeError::Request(format!("protected header: {e}")))?;
    Ok(Unsigned {
        protected: URL_SAFE_NO_PAD.encode(protected),
        payload: URL_SAFE_NO_PAD.encode(request.payload),
        x5c: request
            .certificate_chain
            .iter()
            .map(|der| STANDARD.encode(der))
            .collect(),
        signing_agent: (!request.signing_agent.is_empty()).then(|| request.signing_agent.into()),
    })
}

fn malformed(what: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(format!("JWS: {what}"))
}

fn take_string(
    header: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<String, EnvelopeError> {
    match header.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(malformed(format!("{key} is not a string: {other}"))),
        None => Err(malformed(format!("{key} is missing"))),
    }
}

fn take_time(
    header: &mut serde_json::Map<String, Value>,
    key: &str,
) -> Result<Option<OffsetDateTime>, EnvelopeError> {
    if !header.contains_key(key) {
        return Ok(None);
    }
    let text = take_string(header, key)?;
    OffsetDateTime::parse(&text, &Rfc3339)
        .map(Some)
        .map_err(|e| malformed(format!("{key} {text:?} is not RFC 3339: {e}")))
}

/// Reads a JWS envelope back, with notation-core-go's header checks.
pub(crate) fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let json: Json = serde_json::from_slice(bytes).map_err(malformed)?;
    let protected_json = URL_SAFE_NO_PAD
        .decode(&json.protected)
        .map_err(|e| malformed(format!("protected header is not base64url: {e}")))?;
    let mut header: serde_json::Map<String, Value> = serde_json::from_slice(&protected_json)
        .map_err(|e| malformed(format!("protected header: {e}")))?;
    let alg = take_string(&mut header, "alg")?;
    let algorithm = algorithm_from(|a| a.jws_name() == alg)
        .ok_or_else(|| malformed(format!("unsupported alg {alg:?}")))?;
    let content_type = take_string(&mut header, "cty")?;
    let critical: Vec<String> = match header.remove("crit") {
        Some(value) => serde_json::from_value(value)
            .map_err(|e| malformed(format!("crit is not a list of names: {e}")))?,
        None => Vec::new(),
    };
    let signing_scheme = take_string(&mut header, SIGNING_SCHEME)?;
    if signing_scheme != SIGNING_SCHEME_X509 {
        return Err(malformed(format!(
            "signing scheme {signing_scheme:?} is not {SIGNING_SCHEME_X509}"
        )));
    }
    if header.contains_key(AUTHENTIC_SIGNING_TIME) {
        return Err(malformed(format!(
            "{AUTHENTIC_SIGNING_TIME} must not be present for {SIGNING_SCHEME_X509}"
        )));
    }
    let signing_time = take_time(&mut header, SIGNING_TIME)?
        .ok_or_else(|| malformed(format!("{SIGNING_TIME} is missing")))?;
    let expiry = take_time(&mut header, EXPIRY)?;
    check_critical(&critical, expiry.is_some(), |name| {
        header.contains_key(name) || name == SIGNING_SCHEME || name == EXPIRY
    })?;
    let extended_attributes = header
        .into_iter()
        .map(|(key, value)| Attribute {
            critical: critical.contains(&key),
            key,
            value,
        })
        .collect();
    let certificate_chain = json
        .header
        .x5c
        .iter()
        .map(|c| STANDARD.decode(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed(format!("x5c is not standard base64: {e}")))?;
    if certificate_chain.is_empty() {
        return Err(malformed("the certificate chain (x5c) is missing"));
    }
    Ok(Envelope {
        payload: URL_SAFE_NO_PAD
            .decode(&json.payload)
            .map_err(|e| malformed(format!("payload is not base64url: {e}")))?,
        content_type,
        algorithm,
        signing_scheme,
        signing_time,
        expiry,
        extended_attributes,
        critical,
        certificate_chain,
        signing_agent: json.header.signing_agent,
        timestamp: json
            .header
            .timestamp_signature
            .map(|t| STANDARD.decode(t))
            .transpose()
            .map_err(|e| {
                malformed(format!(
                    "the timestamp signature is not standard base64: {e}"
                ))
            })?,
        signing_input: format!("{}.{}", json.protected, json.payload).into_bytes(),
        signature: URL_SAFE_NO_PAD
            .decode(&json.signature)
            .map_err(|e| malformed(format!("signature is not base64url: {e}")))?,
    })
}
