//! Envelopes built for every key spec in both formats decode to what was asked for and verify
//! with the leaf certificate (`notation_akv_x509::verify_plugin_signature`); the wire shapes
//! notation-core-go depends on are pinned.

use akv_test_pki::{Chain, ChainBuilder, KeySpec, TestKey};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use notation_akv_envelope::{
    Attribute, Envelope, EnvelopeError, EnvelopeType, SignRequest, build, cose, parse, prepare,
};
use notation_akv_protocol::generate_envelope::PAYLOAD_TYPE_NOTARY;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

const PAYLOAD: &[u8] = br#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0b","size":7}}"#;
const SIGNED_AT: OffsetDateTime = datetime!(2026-11-28 10:00:00.75 UTC);
const EXPIRES: OffsetDateTime = datetime!(2026-11-29 10:00:00 UTC);

/// Signs like the vault does: ECDSA fixed-width r||s, RSASSA-PSS with salt = hash length.
fn sign_with(key: &TestKey, message: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let rng = SystemRandom::new();
    let der = key.pkcs8_der();
    let ecdsa = match key.spec() {
        KeySpec::Ec256 => Some(&lc::ECDSA_P256_SHA256_FIXED_SIGNING),
        KeySpec::Ec384 => Some(&lc::ECDSA_P384_SHA384_FIXED_SIGNING),
        KeySpec::Ec521 => Some(&lc::ECDSA_P521_SHA512_FIXED_SIGNING),
        _ => None,
    };
    if let Some(alg) = ecdsa {
        let pair = EcdsaKeyPair::from_pkcs8(alg, der).unwrap();
        return Ok(pair.sign(&rng, message).unwrap().as_ref().to_vec());
    }
    let padding = match key.spec() {
        KeySpec::Rsa2048 => &lc::RSA_PSS_SHA256,
        KeySpec::Rsa3072 => &lc::RSA_PSS_SHA384,
        _ => &lc::RSA_PSS_SHA512,
    };
    let pair = RsaKeyPair::from_pkcs8(der).unwrap();
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(padding, &rng, message, &mut signature).unwrap();
    Ok(signature)
}

fn ours() -> Vec<Attribute> {
    vec![
        Attribute {
            key: "io.cncf.notary.verificationPlugin".into(),
            value: json!("akv-verifier"),
            critical: true,
        },
        Attribute {
            key: "io.github.notation-akv.keyId".into(),
            value: json!("https://v.vault.azure.net/keys/k/0123"),
            critical: true,
        },
        Attribute {
            key: "com.example.note".into(),
            value: json!({"n": 1, "list": [true, null, "x"]}),
            critical: false,
        },
    ]
}

fn request<'a>(
    chain: &'a [Vec<u8>],
    attributes: &'a [Attribute],
    spec: KeySpec,
) -> SignRequest<'a> {
    SignRequest {
        payload: PAYLOAD,
        content_type: PAYLOAD_TYPE_NOTARY,
        algorithm: spec.signing_algorithm(),
        signing_time: SIGNED_AT,
        expiry: Some(EXPIRES),
        extended_attributes: attributes,
        certificate_chain: chain,
        signing_agent: "notation-akv/0.1.0",
    }
}

fn chain(spec: KeySpec) -> Chain {
    ChainBuilder::self_signed(spec).build().unwrap()
}

fn build_and_parse(kind: EnvelopeType, spec: KeySpec, chain: &Chain) -> (Vec<u8>, Envelope) {
    let der = chain.der_chain();
    let attributes = ours();
    let bytes = build(kind, &request(&der, &attributes, spec), |input| {
        sign_with(chain.leaf().key(), input)
    })
    .unwrap();
    let envelope = parse(kind, &bytes).unwrap();
    (bytes, envelope)
}

#[test]
fn every_key_spec_in_both_formats_decodes_and_verifies() {
    for spec in KeySpec::ALL {
        let chain = chain(spec);
        for kind in [EnvelopeType::Jws, EnvelopeType::Cose] {
            let (_, envelope) = build_and_parse(kind, spec, &chain);
            envelope
                .verify()
                .unwrap_or_else(|e| panic!("{spec} {kind:?}: {e}"));
            assert_eq!(envelope.payload, PAYLOAD);
            assert_eq!(envelope.content_type, PAYLOAD_TYPE_NOTARY);
            assert_eq!(envelope.algorithm, spec.signing_algorithm());
            assert_eq!(envelope.signing_scheme, "notary.x509");
            assert_eq!(
                envelope.signing_time,
                datetime!(2026-11-28 10:00:00 UTC),
                "whole seconds"
            );
            assert_eq!(envelope.expiry, Some(EXPIRES));
            assert_eq!(envelope.certificate_chain, chain.der_chain());
            assert_eq!(
                envelope.signing_agent.as_deref(),
                Some("notation-akv/0.1.0")
            );
            let mut attributes = envelope.extended_attributes.clone();
            attributes.sort_by(|a, b| a.key.cmp(&b.key));
            let mut expected = ours();
            expected.sort_by(|a, b| a.key.cmp(&b.key));
            assert_eq!(attributes, expected, "{kind:?}");

            // A flipped signature bit, or a signature from another key, fails.
            let mut tampered = envelope.clone();
            let last = tampered.signature.len() - 1;
            tampered.signature[last] ^= 1;
            assert!(matches!(
                tampered.verify(),
                Err(EnvelopeError::Signature(_))
            ));
        }
    }
}

#[test]
fn a_signature_by_another_key_does_not_verify() {
    let chain = chain(KeySpec::Ec256);
    let other = TestKey::cached(KeySpec::Ec256, 7).unwrap();
    let der = chain.der_chain();
    let attributes = ours();
    for kind in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let bytes = build(kind, &request(&der, &attributes, KeySpec::Ec256), |input| {
            sign_with(&other, input)
        })
        .unwrap();
        let err = parse(kind, &bytes).unwrap().verify().unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
    }
}

#[test]
fn jws_is_written_as_notation_core_go_writes_it() {
    let chain = chain(KeySpec::Ec256);
    let (bytes, _) = build_and_parse(EnvelopeType::Jws, KeySpec::Ec256, &chain);
    let text = String::from_utf8(bytes).unwrap();
    let positions: Vec<usize> = [
        "\"payload\"",
        "\"protected\"",
        "\"header\"",
        "\"signature\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing")))
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "member order {text}"
    );
    let json: Value = serde_json::from_str(&text).unwrap();
    for member in ["payload", "protected", "signature"] {
        let value = json[member].as_str().unwrap();
        assert!(!value.contains('=') && !value.contains('+') && !value.contains('/'));
    }
    assert_eq!(
        json["header"]["x5c"][0].as_str().unwrap(),
        STANDARD.encode(chain.leaf().der()),
        "x5c is padded standard base64"
    );
    assert_eq!(
        json["header"]["io.cncf.notary.signingAgent"],
        "notation-akv/0.1.0"
    );
    let protected = String::from_utf8(
        URL_SAFE_NO_PAD
            .decode(json["protected"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    insta::assert_snapshot!(protected, @r#"{"alg":"ES256","com.example.note":{"list":[true,null,"x"],"n":1},"crit":["io.cncf.notary.signingScheme","io.cncf.notary.verificationPlugin","io.github.notation-akv.keyId","io.cncf.notary.expiry"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.expiry":"2026-11-29T10:00:00Z","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2026-11-28T10:00:00Z","io.cncf.notary.verificationPlugin":"akv-verifier","io.github.notation-akv.keyId":"https://v.vault.azure.net/keys/k/0123"}"#);
}

#[test]
fn cose_is_written_as_notation_core_go_writes_it() {
    use coset::cbor::Value as C;
    use coset::{CoseSign1, Label, TaggedCborSerializable};
    let chain = chain(KeySpec::Ec384);
    let (bytes, _) = build_and_parse(EnvelopeType::Cose, KeySpec::Ec384, &chain);
    assert_eq!(bytes[0], 0xd2, "COSE_Sign1_Tagged (tag 18)");
    let sign1 = CoseSign1::from_tagged_slice(&bytes).unwrap();
    let protected = &sign1.protected.header;
    let summary = format!(
        "alg={:?}\ncrit={:?}\ncty={:?}\n{}",
        protected.alg,
        protected.crit,
        protected.content_type,
        protected
            .rest
            .iter()
            .map(|(l, v)| format!("{l:?} = {v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    insta::assert_snapshot!(summary, @r#"
    alg=Some(Assigned(ES384))
    crit=[Text("io.cncf.notary.signingScheme"), Text("io.cncf.notary.expiry"), Text("io.cncf.notary.verificationPlugin"), Text("io.github.notation-akv.keyId")]
    cty=Some(Text("application/vnd.cncf.notary.payload.v1+json"))
    Text("io.cncf.notary.signingScheme") = Text("notary.x509")
    Text("io.cncf.notary.signingTime") = Tag(1, Integer(Integer(1795860000)))
    Text("io.cncf.notary.expiry") = Tag(1, Integer(Integer(1795946400)))
    Text("io.cncf.notary.verificationPlugin") = Text("akv-verifier")
    Text("io.github.notation-akv.keyId") = Text("https://v.vault.azure.net/keys/k/0123")
    Text("com.example.note") = Map([(Text("list"), Array([Bool(true), Null, Text("x")])), (Text("n"), Integer(Integer(1)))])
    "#);
    // A one-certificate chain is still an array; the signing agent is unprotected text.
    let x5chain = sign1
        .unprotected
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(cose::X5CHAIN))
        .map(|(_, v)| v.clone());
    assert_eq!(
        x5chain,
        Some(C::Array(vec![C::Bytes(chain.leaf().der().to_vec())]))
    );
    assert_eq!(sign1.payload.as_deref(), Some(PAYLOAD));
}

#[test]
fn without_expiry_nothing_marks_it() {
    let chain = chain(KeySpec::Ec256);
    let der = chain.der_chain();
    for kind in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let mut req = request(&der, &[], KeySpec::Ec256);
        req.expiry = None;
        req.signing_agent = "";
        let bytes = build(kind, &req, |i| sign_with(chain.leaf().key(), i)).unwrap();
        let envelope = parse(kind, &bytes).unwrap();
        envelope.verify().unwrap();
        assert_eq!(envelope.expiry, None);
        assert_eq!(envelope.critical, ["io.cncf.notary.signingScheme"]);
        assert_eq!(envelope.signing_agent, None);
    }
}

#[test]
fn requests_that_cannot_make_a_valid_envelope_are_refused() {
    let chain = chain(KeySpec::Ec256);
    let der = chain.der_chain();
    let reserved = [Attribute {
        key: "io.cncf.notary.signingTime".into(),
        value: json!("x"),
        critical: false,
    }];
    let twice = [ours()[0].clone(), ours()[0].clone()];
    for (attributes, chain, why) in [
        (&reserved[..], &der[..], "reserved"),
        (&twice[..], &der[..], "twice"),
        (&[][..], &[][..], "chain is empty"),
    ] {
        let err = prepare(
            EnvelopeType::Jws,
            &request(chain, attributes, KeySpec::Ec256),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn parse_applies_notations_crit_rules() {
    // A JWS whose expiry is not critical, and one naming a critical header that is absent.
    let jws = |header: Value| {
        json!({
            "payload": URL_SAFE_NO_PAD.encode(PAYLOAD),
            "protected": URL_SAFE_NO_PAD.encode(header.to_string()),
            "header": {"x5c": ["AA=="]},
            "signature": "AA",
        })
        .to_string()
    };
    let base = json!({
        "alg": "ES256", "cty": PAYLOAD_TYPE_NOTARY,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": "2026-11-28T10:00:00Z",
    });
    let mut no_crit_expiry = base.clone();
    no_crit_expiry["io.cncf.notary.expiry"] = json!("2026-11-29T10:00:00Z");
    no_crit_expiry["crit"] = json!(["io.cncf.notary.signingScheme"]);
    let mut absent = base.clone();
    absent["crit"] = json!(["io.cncf.notary.signingScheme", "com.example.absent"]);
    let mut missing = base;
    missing.as_object_mut().unwrap().remove("crit");
    for (header, why) in [
        (
            no_crit_expiry,
            "\"io.cncf.notary.expiry\" is not marked critical",
        ),
        (
            absent,
            "\"com.example.absent\" is marked critical but not present",
        ),
        (missing, "missing \"crit\""),
    ] {
        let err = parse(EnvelopeType::Jws, jws(header).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{err}");
    }

    // A COSE envelope with an integer-labelled attribute: notation cannot pass it to a plugin.
    let chain = chain(KeySpec::Ec256);
    let der = chain.der_chain();
    let bytes = build(
        EnvelopeType::Cose,
        &request(&der, &[], KeySpec::Ec256),
        |i| sign_with(chain.leaf().key(), i),
    )
    .unwrap();
    use coset::{CoseSign1, Label, TaggedCborSerializable};
    let mut sign1 = CoseSign1::from_tagged_slice(&bytes).unwrap();
    sign1.protected.original_data = None;
    sign1
        .protected
        .header
        .rest
        .push((Label::Int(-70000), cose::json_to_cbor(&json!("x"))));
    let err = parse(EnvelopeType::Cose, &sign1.to_tagged_vec().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be text"), "{err}");
}

#[test]
fn a_timestamp_token_sits_in_the_unprotected_header_where_notation_reads_it() {
    let chain = chain(KeySpec::Ec256);
    let der = chain.der_chain();
    let attributes = ours();
    let token = vec![0x30, 0x03, 0x02, 0x01, 0x07];
    for kind in [EnvelopeType::Jws, EnvelopeType::Cose] {
        let unsigned =
            notation_akv_envelope::prepare(kind, &request(&der, &attributes, KeySpec::Ec256))
                .unwrap();
        let signature = sign_with(chain.leaf().key(), unsigned.signing_input()).unwrap();
        let bytes = unsigned
            .finish_timestamped(signature.clone(), Some(token.clone()))
            .unwrap();
        let envelope = parse(kind, &bytes).unwrap();
        envelope.verify().unwrap();
        assert_eq!(envelope.timestamp.as_deref(), Some(token.as_slice()));
        assert_eq!(envelope.signature, signature);
        if kind == EnvelopeType::Jws {
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            // Go's []byte: padded standard base64 of the DER token.
            assert_eq!(
                json["header"]["io.cncf.notary.timestampSignature"],
                "MAMCAQc="
            );
        } else {
            use coset::TaggedCborSerializable;
            let sign1 = coset::CoseSign1::from_tagged_slice(&bytes).unwrap();
            assert!(sign1.unprotected.rest.iter().any(|(label, value)| {
                *label == coset::Label::Text("io.cncf.notary.timestampSignature".into())
                    && *value == coset::cbor::Value::Bytes(token.clone())
            }));
        }
    }
    let (_, plain) = build_and_parse(EnvelopeType::Cose, KeySpec::Ec256, &chain);
    assert_eq!(plain.timestamp, None);
}
