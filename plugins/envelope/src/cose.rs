//! `application/cose`: the `COSE_Sign1_Tagged` message notation-core-go writes.
//!
//! | where | label | value |
//! |---|---|---|
//! | protected | 1 (`alg`) | the COSE algorithm id (-37…-39 PSS, -7/-35/-36 ECDSA) |
//! | protected | 2 (`crit`) | text labels: the signing scheme, the expiry if set, critical extended attributes |
//! | protected | 3 (content type) | `application/vnd.cncf.notary.payload.v1+json` as text |
//! | protected | `io.cncf.notary.signingScheme` | `notary.x509` |
//! | protected | `io.cncf.notary.signingTime`, `io.cncf.notary.expiry` | CBOR tag 1 around integer epoch seconds (notation-core-go decodes them with the tag required) |
//! | protected | extended attribute keys | always text labels: notation passes only those to a verification plugin |
//! | unprotected | 33 (`x5chain`) | an array of DER certificates, even for one certificate (notation-core-go reads only an array) |
//! | unprotected | `io.cncf.notary.signingAgent` | text |
//! | unprotected | `io.cncf.notary.timestampSignature` | bstr: the DER RFC 3161 TimeStampToken over the signature, when timestamped |
//!
//! The payload is embedded and the external AAD is empty.

use crate::{
    AUTHENTIC_SIGNING_TIME, Attribute, EXPIRY, Envelope, EnvelopeError, SIGNING_AGENT,
    SIGNING_SCHEME, SIGNING_SCHEME_X509, SIGNING_TIME, SignRequest, TIMESTAMP_SIGNATURE,
    algorithm_from, check_critical, whole_seconds,
};
use coset::cbor::Value;
use coset::iana::{self, EnumI64};
use coset::{
    CborSerializable, ContentType, CoseSign1, CoseSign1Builder, Header, HeaderBuilder, Label,
    ProtectedHeader, RegisteredLabelWithPrivate, TaggedCborSerializable,
};
use time::OffsetDateTime;

/// The COSE header label of the certificate chain (RFC 9360).
pub const X5CHAIN: i64 = 33;
/// CBOR tag of an epoch-based date/time.
const EPOCH_TIME_TAG: u64 = 1;

fn malformed(what: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(format!("COSE: {what}"))
}

fn text_label(name: &str) -> RegisteredLabelWithPrivate<iana::HeaderParameter> {
    RegisteredLabelWithPrivate::Text(name.to_string())
}

fn epoch_time(t: OffsetDateTime) -> Value {
    Value::Tag(
        EPOCH_TIME_TAG,
        Box::new(Value::Integer(whole_seconds(t).unix_timestamp().into())),
    )
}

/// The message with an empty signature; its protected header bytes are fixed here so that the
/// bytes signed and the bytes sent are the same.
pub(crate) fn prepare(request: &SignRequest<'_>) -> Result<CoseSign1, EnvelopeError> {
    let algorithm = iana::Algorithm::from_i64(request.algorithm.cose_id()).ok_or_else(|| {
        EnvelopeError::Request(format!("no COSE algorithm for {}", request.algorithm))
    })?;
    // notation-core-go's crit order: the scheme, the expiry, then critical extended attributes.
    let mut builder = HeaderBuilder::new()
        .algorithm(algorithm)
        .content_type(request.content_type.to_string())
        .add_critical_label(text_label(SIGNING_SCHEME))
        .text_value(
            SIGNING_SCHEME.into(),
            Value::Text(SIGNING_SCHEME_X509.into()),
        )
        .text_value(SIGNING_TIME.into(), epoch_time(request.signing_time));
    if let Some(expiry) = request.expiry {
        builder = builder
            .add_critical_label(text_label(EXPIRY))
            .text_value(EXPIRY.into(), epoch_time(expiry));
    }
    for attribute in request.extended_attributes {
        if attribute.critical {
            builder = builder.add_critical_label(text_label(&attribute.key));
        }
        builder = builder.text_value(attribute.key.clone(), json_to_cbor(&attribute.value));
    }
    let header = builder.build();
    let original = header
        .clone()
        .to_vec()
        .map_err(|e| EnvelopeError::Request(format!("protected header: {e}")))?;
    let mut unprotected = HeaderBuilder::new().value(
        X5CHAIN,
        Value::Array(
            request
                .certificate_chain
                .iter()
                .map(|der| Value::Bytes(der.clone()))
                .collect(),
        ),
    );
    if !request.signing_agent.is_empty() {
        unprotected = unprotected.text_value(
            SIGNING_AGENT.into(),
            Value::Text(request.signing_agent.into()),
        );
    }
    Ok(CoseSign1Builder::new()
        .protected(header)
        .unprotected(unprotected.build())
        .payload(request.payload.to_vec())
        .build())
    .map(|mut sign1| {
        sign1.protected = ProtectedHeader {
            original_data: Some(original),
            header: sign1.protected.header,
        };
        sign1
    })
}

pub(crate) fn finish(
    mut sign1: CoseSign1,
    signature: Vec<u8>,
    timestamp: Option<Vec<u8>>,
) -> Result<Vec<u8>, EnvelopeError> {
    sign1.signature = signature;
    if let Some(token) = timestamp {
        sign1
            .unprotected
            .rest
            .push((Label::Text(TIMESTAMP_SIGNATURE.into()), Value::Bytes(token)));
    }
    sign1
        .to_tagged_vec()
        .map_err(|e| EnvelopeError::Request(format!("encoding COSE_Sign1: {e}")))
}

fn epoch_seconds(label: &str, value: &Value) -> Result<OffsetDateTime, EnvelopeError> {
    let Value::Tag(EPOCH_TIME_TAG, inner) = value else {
        return Err(malformed(format!("{label} is not a tag-1 date/time")));
    };
    let seconds = match inner.as_ref() {
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        // Fractions are allowed by the tag; notation writes whole seconds.
        Value::Float(f) if f.is_finite() => Some(f.trunc() as i64),
        _ => None,
    }
    .ok_or_else(|| malformed(format!("{label} is not epoch seconds")))?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|e| malformed(format!("{label} is out of range: {e}")))
}

/// Reads a `COSE_Sign1_Tagged` envelope back, with notation-core-go's header checks.
pub(crate) fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let sign1 = CoseSign1::from_tagged_slice(bytes).map_err(malformed)?;
    let header = &sign1.protected.header;
    let algorithm = match &header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(a)) => {
            algorithm_from(|s| s.cose_id() == a.to_i64())
        }
        _ => None,
    }
    .ok_or_else(|| malformed(format!("unsupported alg {:?}", header.alg)))?;
    let content_type = match &header.content_type {
        Some(ContentType::Text(t)) => t.clone(),
        other => return Err(malformed(format!("content type {other:?} is not text"))),
    };
    let critical = header
        .crit
        .iter()
        .map(|label| match label {
            RegisteredLabelWithPrivate::Text(t) => Ok(t.clone()),
            other => Err(malformed(format!(
                "critical label {other:?}: only text labels are used by notation"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (mut signing_scheme, mut signing_time, mut expiry) = (None, None, None);
    let mut extended_attributes = Vec::new();
    for (label, value) in &header.rest {
        let Label::Text(key) = label else {
            return Err(malformed(format!(
                "protected header label {label:?}: extended attribute keys must be text"
            )));
        };
        match key.as_str() {
            SIGNING_SCHEME => match value {
                Value::Text(t) => signing_scheme = Some(t.clone()),
                _ => return Err(malformed("invalid signingScheme")),
            },
            SIGNING_TIME => signing_time = Some(epoch_seconds(key, value)?),
            EXPIRY => expiry = Some(epoch_seconds(key, value)?),
            AUTHENTIC_SIGNING_TIME => {
                return Err(malformed(format!(
                    "{AUTHENTIC_SIGNING_TIME} is only for notary.x509.signingAuthority"
                )));
            }
            _ => extended_attributes.push(Attribute {
                key: key.clone(),
                value: cbor_to_json(value).map_err(|e| malformed(format!("{key}: {e}")))?,
                critical: critical.contains(key),
            }),
        }
    }
    let signing_scheme = signing_scheme.ok_or_else(|| malformed("invalid signingScheme"))?;
    if signing_scheme != SIGNING_SCHEME_X509 {
        return Err(malformed(format!(
            "signing scheme {signing_scheme:?} is not {SIGNING_SCHEME_X509}"
        )));
    }
    let signing_time =
        signing_time.ok_or_else(|| malformed(format!("{SIGNING_TIME} is missing")))?;
    check_critical(&critical, expiry.is_some(), |name| {
        header
            .rest
            .iter()
            .any(|(l, _)| matches!(l, Label::Text(t) if t == name))
    })?;
    let (certificate_chain, signing_agent, timestamp) = unprotected(&sign1.unprotected)?;
    let payload = sign1
        .payload
        .clone()
        .ok_or_else(|| malformed("the payload is detached"))?;
    Ok(Envelope {
        signing_input: sign1.tbs_data(&[]),
        signature: sign1.signature,
        payload,
        content_type,
        algorithm,
        signing_scheme,
        signing_time,
        expiry,
        extended_attributes,
        critical,
        certificate_chain,
        signing_agent,
        timestamp,
    })
}

type Unprotected = (Vec<Vec<u8>>, Option<String>, Option<Vec<u8>>);

fn unprotected(header: &Header) -> Result<Unprotected, EnvelopeError> {
    let mut chain = None;
    let mut agent = None;
    let mut timestamp = None;
    for (label, value) in &header.rest {
        match (label, value) {
            (Label::Int(X5CHAIN), Value::Array(certs)) => {
                chain = Some(
                    certs
                        .iter()
                        .map(|c| match c {
                            Value::Bytes(der) => Ok(der.clone()),
                            _ => Err(malformed("x5chain holds a non-bstr item")),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                )
            }
            (Label::Int(X5CHAIN), _) => return Err(malformed("x5chain is not an array")),
            (Label::Text(t), Value::Text(a)) if t == SIGNING_AGENT => agent = Some(a.clone()),
            (Label::Text(t), Value::Bytes(token)) if t == TIMESTAMP_SIGNATURE => {
                timestamp = Some(token.clone())
            }
            (Label::Text(t), _) if t == TIMESTAMP_SIGNATURE => {
                return Err(malformed("the timestamp signature is not a bstr"));
            }
            _ => {}
        }
    }
    match chain {
        Some(chain) if !chain.is_empty() => Ok((chain, agent, timestamp)),
        _ => Err(malformed("certificate chain is not present")),
    }
}

/// An extended attribute's JSON value as CBOR.
pub fn json_to_cbor(value: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Integer(i.into()),
            (None, Some(u)) => Value::Integer(u.into()),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Text(s.clone()),
        J::Array(items) => Value::Array(items.iter().map(json_to_cbor).collect()),
        J::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::Text(k.clone()), json_to_cbor(v)))
                .collect(),
        ),
    }
}

/// A CBOR header value as JSON, for the values JSON can hold.
pub fn cbor_to_json(value: &Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Integer(i) => {
            let wide = i128::from(*i);
            if let Ok(v) = i64::try_from(wide) {
                J::from(v)
            } else if let Ok(v) = u64::try_from(wide) {
                J::from(v)
            } else {
                return Err(format!("integer {wide} does not fit JSON"));
            }
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("float {f} does not fit JSON"))?,
        Value::Text(t) => J::String(t.clone()),
        Value::Array(items) => J::Array(items.iter().map(cbor_to_json).collect::<Result<_, _>>()?),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| match k {
                    Value::Text(k) => Ok((k.clone(), cbor_to_json(v)?)),
                    _ => Err("map key is not text".to_string()),
                })
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("{other:?} has no JSON form")),
    })
}
