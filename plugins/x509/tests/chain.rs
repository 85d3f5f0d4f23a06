//! Building leaf → root chains from unordered bags, and reading bundles.

mod common;

use akv_test_pki::{BundleOrder, ChainBuilder, KeySpec};
use common::*;
use notation_akv_x509::{Certificate, ChainError, build_chain, parse_bundle};

fn subjects(chain: &[Certificate]) -> Vec<String> {
    chain.iter().map(|c| c.subject()).collect()
}

/// root → a → b → leaf
fn four() -> Vec<Certificate> {
    let root = self_signed(ca_params("root"), p256());
    let a = issued(ca_params("a"), p256(), &root);
    let b = issued(ca_params("b"), p256(), &a);
    let leaf = issued(leaf_params("leaf"), p256(), &b);
    vec![leaf.cert, b.cert, a.cert, root.cert]
}

#[test]
fn every_permutation_of_four_certificates_is_ordered() {
    let ordered = four();
    let mut idx = [0usize, 1, 2, 3];
    // Heap's algorithm over all 24 orders.
    let mut c = [0usize; 4];
    let mut seen = 0;
    let mut check = |idx: &[usize; 4]| {
        let bag: Vec<Certificate> = idx.iter().map(|&i| ordered[i].clone()).collect();
        assert_eq!(build_chain(bag, None).unwrap(), ordered, "{idx:?}");
        seen += 1;
    };
    check(&idx);
    let mut i = 0;
    while i < 4 {
        if c[i] < i {
            if i % 2 == 0 {
                idx.swap(0, i)
            } else {
                idx.swap(c[i], i)
            }
            check(&idx);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    assert_eq!(seen, 24);
}

#[test]
fn test_pki_bundles_in_any_order_for_every_key_spec() {
    for spec in KeySpec::ALL {
        let chain = ChainBuilder::new(spec).build().unwrap();
        let expected: Vec<Certificate> = chain.der_chain().iter().map(|d| cert(d)).collect();
        for order in [
            BundleOrder::LeafFirst,
            BundleOrder::RootFirst,
            BundleOrder::Scrambled,
        ] {
            let bundle = parse_bundle(chain.pem_bundle(order).as_bytes()).unwrap();
            assert!(!bundle.had_private_key);
            assert_eq!(
                build_chain(bundle.certificates, None).unwrap(),
                expected,
                "{spec} {order:?}"
            );
        }
    }
}

#[test]
fn single_self_signed_leaf_is_a_chain() {
    let ss = self_signed(leaf_params("solo"), p256());
    let chain = build_chain(vec![ss.cert.clone()], None).unwrap();
    assert_eq!(chain, std::slice::from_ref(&ss.cert));
    // The leaf may come only as the hint.
    assert_eq!(build_chain(vec![], Some(&ss.cert)).unwrap(), [ss.cert]);
}

#[test]
fn leaf_hint_may_also_be_in_the_bag() {
    let (leaf, int, root) = compliant_chain();
    let expected = vec![leaf.cert.clone(), int.cert.clone(), root.cert.clone()];
    let with = build_chain(
        vec![root.cert.clone(), leaf.cert.clone(), int.cert.clone()],
        Some(&leaf.cert),
    );
    assert_eq!(with.unwrap(), expected);
    let without = build_chain(vec![root.cert.clone(), int.cert.clone()], Some(&leaf.cert));
    assert_eq!(without.unwrap(), expected);
}

#[test]
fn missing_issuer_names_the_certificate_and_ca_certs() {
    let (leaf, int, _root) = compliant_chain();
    let err = build_chain(vec![int.cert.clone(), leaf.cert], None).unwrap_err();
    assert!(matches!(err, ChainError::MissingIssuer { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the issuer of \"CN=intermediate,O=x509 tests,ST=WA,C=US\" (\"CN=root,O=x509 tests,ST=WA,C=US\") is not in the bundle; add it to ca_certs (the chain must end with a self-signed root)"
    );
    // A lone CA-issued leaf.
    let (leaf, _, _) = compliant_chain();
    assert!(matches!(
        build_chain(vec![leaf.cert], None),
        Err(ChainError::MissingIssuer { .. })
    ));
}

#[test]
fn same_name_but_other_key_is_not_the_issuer() {
    let (leaf, _int, root) = compliant_chain();
    // Same subject as the real intermediate, different key.
    let impostor = issued(ca_params("intermediate"), p256(), &root);
    let err = build_chain(vec![leaf.cert, impostor.cert, root.cert], None).unwrap_err();
    assert!(
        matches!(err, ChainError::IssuerSignatureInvalid { .. }),
        "{err:?}"
    );
}

#[test]
fn duplicates_are_reported() {
    let (leaf, int, root) = compliant_chain();
    let err =
        build_chain(vec![leaf.cert, int.cert.clone(), root.cert, int.cert], None).unwrap_err();
    assert!(
        matches!(&err, ChainError::Duplicate { subject } if subject == "CN=intermediate,O=x509 tests,ST=WA,C=US"),
        "{err:?}"
    );
}

#[test]
fn unrelated_certificates_are_reported() {
    let (leaf, int, root) = compliant_chain();
    let stranger = self_signed(ca_params("stranger"), p256());
    // Without a hint the stranger is a second "leaf".
    let bag = vec![
        leaf.cert.clone(),
        int.cert.clone(),
        root.cert.clone(),
        stranger.cert.clone(),
    ];
    let err = build_chain(bag.clone(), None).unwrap_err();
    assert!(
        matches!(&err, ChainError::SeveralLeaves { subjects } if subjects.len() == 2),
        "{err:?}"
    );
    // With the hint it is unrelated.
    let err = build_chain(bag, Some(&leaf.cert)).unwrap_err();
    assert!(
        matches!(&err, ChainError::Unrelated { subjects, .. } if subjects == &["CN=stranger,O=x509 tests,ST=WA,C=US".to_string()]),
        "{err:?}"
    );
    // Two complete chains in one bundle.
    let (leaf2, int2, root2) = compliant_chain();
    let err = build_chain(
        vec![
            leaf.cert, int.cert, root.cert, leaf2.cert, int2.cert, root2.cert,
        ],
        None,
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::SeveralLeaves { .. }), "{err:?}");
}

#[test]
fn cross_signed_loops_are_reported() {
    // A and B issue each other; neither is self-signed.
    let (ka, kb) = (p256(), p256());
    let a_as_issuer = rcgen::Issuer::new(ca_params("A"), copy(&ka));
    let b_as_issuer = rcgen::Issuer::new(ca_params("B"), copy(&kb));
    let a = cert(ca_params("A").signed_by(&ka, &b_as_issuer).unwrap().der());
    let b = cert(ca_params("B").signed_by(&kb, &a_as_issuer).unwrap().der());
    let leaf = cert(
        leaf_params("leaf")
            .signed_by(&p256(), &a_as_issuer)
            .unwrap()
            .der(),
    );
    let err = build_chain(vec![a.clone(), b.clone(), leaf], None).unwrap_err();
    assert!(matches!(err, ChainError::Loop { .. }), "{err:?}");
    let err = build_chain(vec![a, b], None).unwrap_err();
    assert!(matches!(err, ChainError::Loop { .. }), "{err:?}");
}

#[test]
fn several_issuers_are_reported() {
    let root = self_signed(ca_params("root"), p256());
    let key = p256();
    // The same intermediate key certified twice (different serials, same name and key).
    let int1 = issued(ca_params("intermediate"), copy(&key), &root);
    let int2 = issued(ca_params("intermediate"), copy(&key), &root);
    let leaf = issued(leaf_params("leaf"), p256(), &int1);
    let err = build_chain(vec![leaf.cert, int1.cert, int2.cert, root.cert], None).unwrap_err();
    assert!(
        matches!(&err, ChainError::SeveralIssuers { issuers, .. } if issuers.len() == 2),
        "{err:?}"
    );
}

#[test]
fn empty_input_is_an_error() {
    assert!(matches!(build_chain(vec![], None), Err(ChainError::Empty)));
    assert!(parse_bundle(b"").is_err());
    assert!(parse_bundle(b"no pem here").is_err());
}

#[test]
fn pem_bundle_with_private_key_reports_it_and_drops_it() {
    let chain = ChainBuilder::new(KeySpec::Ec384).build().unwrap();
    // AKV PEM secrets put the key first; add text between blocks as openssl does.
    let pem = format!(
        "{}subject=CN=x\n{}",
        chain.leaf().key().pkcs8_pem(),
        chain.pem_bundle(BundleOrder::RootFirst)
    );
    let bundle = parse_bundle(pem.as_bytes()).unwrap();
    assert!(bundle.had_private_key);
    assert_eq!(bundle.certificates.len(), 3);
    assert!(!format!("{bundle:?}").contains("PRIVATE"));
}

#[test]
fn der_input_one_or_concatenated() {
    let chain = ChainBuilder::new(KeySpec::Ec256).build().unwrap();
    let ders = chain.der_chain();
    assert_eq!(parse_bundle(&ders[0]).unwrap().certificates.len(), 1);
    let all: Vec<u8> = ders.concat();
    let bundle = parse_bundle(&all).unwrap();
    assert_eq!(
        subjects(&bundle.certificates),
        subjects(&ders.iter().map(|d| cert(d)).collect::<Vec<_>>())
    );
    assert!(parse_bundle(&all[..all.len() - 1]).is_err());
}

#[test]
fn certificate_facts() {
    let chain = ChainBuilder::self_signed(KeySpec::Ec256)
        .serial(&[0x01, 0xAB, 0xCD])
        .build()
        .unwrap();
    let c = cert(chain.leaf().der());
    assert_eq!(c.serial_hex(), "01ABCD");
    assert_eq!(c.sha256_fingerprint().len(), 64);
    assert_eq!(c.sha1_fingerprint().len(), 40);
    assert!(c.is_self_issued());
    assert!(c.is_valid_at(std::time::SystemTime::now()));
    assert_eq!(c.subject(), c.issuer());
    assert!(c.subject().starts_with("CN="), "{}", c.subject());
    assert!(
        c.subject().ends_with(",L=Seattle,ST=WA,C=US"),
        "{}",
        c.subject()
    );
}
