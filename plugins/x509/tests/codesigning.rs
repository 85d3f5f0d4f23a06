//! Every Notary Project rule fires on its own, and only it.

mod common;

use std::time::SystemTime;

use akv_test_pki::{ChainBuilder, KeySpec, Validity};
use common::*;
use notation_akv_x509::{
    Certificate, Rule, revalidate_accepted_chain, validate_code_signing_chain,
};
use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, PKCS_ED25519};

fn rules(chain: &[&Certificate], at: Option<SystemTime>) -> Vec<Rule> {
    let chain: Vec<Certificate> = chain.iter().map(|c| (*c).clone()).collect();
    validate_code_signing_chain(&chain, at)
        .into_iter()
        .map(|v| v.rule)
        .collect()
}

/// Checks `leaf` under a compliant intermediate and root at the current time.
fn leaf_rules(params: rcgen::CertificateParams) -> Vec<Rule> {
    leaf_rules_with_key(params, p256())
}

fn leaf_rules_with_key(params: rcgen::CertificateParams, key: rcgen::KeyPair) -> Vec<Rule> {
    let (_, int, root) = compliant_chain();
    let leaf = issued(params, key, &int);
    rules(
        &[&leaf.cert, &int.cert, &root.cert],
        Some(SystemTime::now()),
    )
}

/// Checks a chain whose intermediate is made from `params`.
fn intermediate_rules(params: rcgen::CertificateParams) -> Vec<Rule> {
    let root = self_signed(ca_params("root"), p256());
    let int = issued(params, p256(), &root);
    let leaf = issued(leaf_params("leaf"), p256(), &int);
    rules(
        &[&leaf.cert, &int.cert, &root.cert],
        Some(SystemTime::now()),
    )
}

#[test]
fn compliant_chains_have_no_violations() {
    let (leaf, int, root) = compliant_chain();
    assert_eq!(
        rules(
            &[&leaf.cert, &int.cert, &root.cert],
            Some(SystemTime::now())
        ),
        []
    );
    let single = self_signed(leaf_params("self-signed leaf"), p256());
    assert_eq!(rules(&[&single.cert], Some(SystemTime::now())), []);
}

#[test]
fn every_key_spec_from_the_test_pki_is_compliant() {
    for spec in KeySpec::ALL {
        for chain in [
            ChainBuilder::new(spec).build().unwrap(),
            ChainBuilder::self_signed(spec).build().unwrap(),
        ] {
            let certs: Vec<Certificate> = chain.der_chain().iter().map(|d| cert(d)).collect();
            let violations = validate_code_signing_chain(&certs, Some(SystemTime::now()));
            assert!(violations.is_empty(), "{spec}: {violations:?}");
        }
    }
}

#[test]
fn leaf_key_usage_missing() {
    let mut p = leaf_params("leaf");
    p.key_usages.clear();
    assert_eq!(leaf_rules(p), [Rule::LeafKeyUsageMissing]);
}

#[test]
fn leaf_key_usage_not_critical() {
    let mut p = leaf_params("leaf");
    p.key_usages.clear();
    // BIT STRING, 7 unused bits, digitalSignature
    p.custom_extensions
        .push(raw_extension(KEY_USAGE, &[0x03, 0x02, 0x07, 0x80], false));
    assert_eq!(leaf_rules(p), [Rule::LeafKeyUsageNotCritical]);
}

#[test]
fn leaf_key_usage_without_digital_signature() {
    let mut p = leaf_params("leaf");
    p.key_usages = vec![KeyUsagePurpose::ContentCommitment];
    assert_eq!(leaf_rules(p), [Rule::LeafKeyUsageNoDigitalSignature]);
}

#[test]
fn leaf_key_usage_forbidden_bits_are_all_named() {
    let mut p = leaf_params("leaf");
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DataEncipherment,
    ];
    let (_, int, root) = compliant_chain();
    let leaf = issued(p, p256(), &int);
    let v = validate_code_signing_chain(&[leaf.cert, int.cert, root.cert], None);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].rule, Rule::LeafKeyUsageForbidden);
    assert_eq!(v[0].rule.id(), "leaf.key-usage.forbidden");
    assert_eq!(
        v[0].found,
        "keyUsage includes keyEncipherment, dataEncipherment"
    );
    assert!(
        v[0].fix
            .contains("x509_props.key_usage to [\"digitalSignature\"]"),
        "{}",
        v[0].fix
    );
}

#[test]
fn leaf_eku_forbidden() {
    for (eku, name) in [
        (ExtendedKeyUsagePurpose::ServerAuth, "serverAuth"),
        (ExtendedKeyUsagePurpose::ClientAuth, "clientAuth"),
        (ExtendedKeyUsagePurpose::EmailProtection, "emailProtection"),
        (ExtendedKeyUsagePurpose::TimeStamping, "timeStamping"),
        (ExtendedKeyUsagePurpose::OcspSigning, "OCSPSigning"),
    ] {
        let mut p = leaf_params("leaf");
        p.extended_key_usages.push(eku);
        let (_, int, root) = compliant_chain();
        let leaf = issued(p, p256(), &int);
        let v = validate_code_signing_chain(&[leaf.cert, int.cert, root.cert], None);
        assert_eq!(
            v.iter().map(|v| v.rule).collect::<Vec<_>>(),
            [Rule::LeafEkuForbidden]
        );
        assert_eq!(v[0].found, format!("extendedKeyUsage includes {name}"));
        assert!(
            v[0].fix
                .contains("x509_props.ekus to [\"1.3.6.1.5.5.7.3.3\"]")
        );
    }
}

#[test]
fn leaf_any_eku_is_reported_but_not_enforced_by_notation() {
    let mut p = leaf_params("leaf");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
    assert_eq!(leaf_rules(p), [Rule::LeafEkuAny]);
    assert!(!Rule::LeafEkuAny.enforced_by_notation());
}

#[test]
fn leaf_that_is_a_ca() {
    let mut p = leaf_params("leaf");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    assert_eq!(leaf_rules(p), [Rule::LeafBasicConstraintsCa]);
    // cA=false present is fine.
    let mut p = leaf_params("leaf");
    p.is_ca = IsCa::ExplicitNoCa;
    assert_eq!(leaf_rules(p), []);
}

#[test]
fn leaf_key_not_a_notary_key_spec() {
    let key = rcgen::KeyPair::generate_for(&PKCS_ED25519).unwrap();
    assert_eq!(
        leaf_rules_with_key(leaf_params("leaf"), key),
        [Rule::LeafKeyUnsupported]
    );
}

#[test]
fn ca_without_basic_constraints_or_with_ca_false() {
    let mut p = ca_params("intermediate");
    p.is_ca = IsCa::NoCa;
    assert_eq!(intermediate_rules(p), [Rule::CaBasicConstraintsNotCa]);
    let mut p = ca_params("intermediate");
    p.is_ca = IsCa::ExplicitNoCa;
    assert_eq!(intermediate_rules(p), [Rule::CaBasicConstraintsNotCa]);
}

#[test]
fn ca_basic_constraints_not_critical_is_spec_only() {
    let mut p = ca_params("intermediate");
    p.is_ca = IsCa::NoCa;
    // SEQUENCE { BOOLEAN TRUE }
    p.custom_extensions.push(raw_extension(
        BASIC_CONSTRAINTS,
        &[0x30, 0x03, 0x01, 0x01, 0xFF],
        false,
    ));
    assert_eq!(intermediate_rules(p), [Rule::CaBasicConstraintsNotCritical]);
    assert!(!Rule::CaBasicConstraintsNotCritical.enforced_by_notation());
}

#[test]
fn ca_path_length_exceeded() {
    let mut rp = ca_params("root");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = self_signed(rp, p256());
    let int = issued(ca_params("intermediate"), p256(), &root);
    let leaf = issued(leaf_params("leaf"), p256(), &int);
    assert_eq!(
        rules(&[&leaf.cert, &int.cert, &root.cert], None),
        [Rule::CaPathLenExceeded]
    );
    // pathLen 0 directly above the leaf is fine.
    let mut ip = ca_params("intermediate");
    ip.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let root = self_signed(ca_params("root"), p256());
    let int = issued(ip, p256(), &root);
    let leaf = issued(leaf_params("leaf"), p256(), &int);
    assert_eq!(rules(&[&leaf.cert, &int.cert, &root.cert], None), []);
}

#[test]
fn ca_key_usage_rules() {
    let mut p = ca_params("intermediate");
    p.key_usages.clear();
    assert_eq!(intermediate_rules(p), [Rule::CaKeyUsageMissing]);

    let mut p = ca_params("intermediate");
    p.key_usages.clear();
    // BIT STRING, 1 unused bit, keyCertSign + cRLSign
    p.custom_extensions
        .push(raw_extension(KEY_USAGE, &[0x03, 0x02, 0x01, 0x06], false));
    assert_eq!(intermediate_rules(p), [Rule::CaKeyUsageNotCritical]);

    let mut p = ca_params("intermediate");
    p.key_usages = vec![KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    assert_eq!(intermediate_rules(p), [Rule::CaKeyUsageNoCertSign]);
}

#[test]
fn validity_is_checked_only_when_a_time_is_given() {
    for (validity, rule) in [
        (Validity::Expired, Rule::ValidityExpired),
        (Validity::NotYetValid, Rule::ValidityNotYetValid),
    ] {
        let chain = ChainBuilder::new(KeySpec::Ec256)
            .validity(validity)
            .build()
            .unwrap();
        let certs: Vec<Certificate> = chain.der_chain().iter().map(|d| cert(d)).collect();
        let v = validate_code_signing_chain(&certs, Some(SystemTime::now()));
        assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), [rule]);
        assert_eq!(v[0].certificate.as_ref().unwrap(), &certs[0].reference());
        assert!(validate_code_signing_chain(&certs, None).is_empty());
    }
}

#[test]
fn an_accepted_chain_is_rechecked_for_its_validity_only() {
    for (validity, rules) in [
        (Validity::Valid, vec![]),
        (Validity::Expired, vec![Rule::ValidityExpired]),
        (Validity::NotYetValid, vec![Rule::ValidityNotYetValid]),
    ] {
        let chain = ChainBuilder::new(KeySpec::Ec256)
            .validity(validity)
            .build()
            .unwrap();
        let certs: Vec<Certificate> = chain.der_chain().iter().map(|d| cert(d)).collect();
        let v = revalidate_accepted_chain(&certs, SystemTime::now());
        assert_eq!(v.iter().map(|v| v.rule).collect::<Vec<_>>(), rules);
    }
    // The rules that depend only on the bytes are not looked at again: a chain whose shape the
    // full check refuses is the caller's to never pass here.
    let (leaf, _, root) = compliant_chain();
    let broken = [leaf.cert.clone(), root.cert.clone()];
    assert!(!validate_code_signing_chain(&broken, None).is_empty());
    assert!(revalidate_accepted_chain(&broken, SystemTime::now()).is_empty());
}

#[test]
fn chain_shape_rules() {
    let (leaf, int, root) = compliant_chain();
    // Missing intermediate: the leaf is not issued by the next certificate.
    assert_eq!(
        rules(&[&leaf.cert, &root.cert], None),
        [Rule::ChainNotIssuedByNext]
    );
    // Missing root.
    assert_eq!(
        rules(&[&leaf.cert, &int.cert], None),
        [Rule::ChainRootNotSelfSigned]
    );
    // A CA-issued leaf alone.
    assert_eq!(rules(&[&leaf.cert], None), [Rule::ChainRootNotSelfSigned]);
    // A self-signed leaf followed by a root.
    let ss = self_signed(leaf_params("self-signed"), p256());
    assert_eq!(
        rules(&[&ss.cert, &root.cert], None),
        [Rule::ChainSelfSignedNotRoot]
    );
    // Nothing at all.
    assert_eq!(rules(&[], None), [Rule::ChainEmpty]);
}

#[test]
fn akv_default_policy_leaf_names_the_policy_fields_to_change() {
    let chain = ChainBuilder::self_signed(KeySpec::Rsa2048)
        .akv_default_policy()
        .build()
        .unwrap();
    let certs: Vec<Certificate> = chain.der_chain().iter().map(|d| cert(d)).collect();
    let v = validate_code_signing_chain(&certs, Some(SystemTime::now()));
    assert_eq!(
        v.iter().map(|v| v.rule.id()).collect::<Vec<_>>(),
        ["leaf.key-usage.forbidden", "leaf.eku.forbidden"]
    );
    let text = v
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("keyUsage includes keyEncipherment"), "{text}");
    assert!(
        text.contains("extendedKeyUsage includes serverAuth, clientAuth"),
        "{text}"
    );
    assert!(text.contains("x509_props.key_usage"), "{text}");
    assert!(text.contains("x509_props.ekus"), "{text}");
    assert!(text.contains(&certs[0].serial_hex()), "{text}");
}
