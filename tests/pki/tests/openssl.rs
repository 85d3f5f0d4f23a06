//! The generated PKI as openssl sees it: chains verify, key sizes and extensions are right, PFX opens.

use akv_test_pki::{BundleOrder, Chain, ChainBuilder, Eku, KeySpec, LeafKeyUsage, Validity};
use std::path::Path;
use std::process::{Command, Output};

fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn x509_text(pem: &str, dir: &Path) -> String {
    std::fs::write(dir.join("c.pem"), pem).unwrap();
    let out = openssl(&["x509", "-in", "c.pem", "-noout", "-text"], dir);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

/// `openssl verify` of a root → intermediate → leaf chain, written into `dir`.
fn openssl_verify(chain: &Chain, dir: &Path) -> Output {
    std::fs::write(dir.join("root.pem"), chain.root().unwrap().pem()).unwrap();
    std::fs::write(dir.join("inter.pem"), chain.intermediate().unwrap().pem()).unwrap();
    std::fs::write(dir.join("leaf.pem"), chain.leaf().pem()).unwrap();
    let args = [
        "verify",
        "-purpose",
        "any",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "inter.pem",
        "leaf.pem",
    ];
    openssl(&args, dir)
}

fn key_size_line(spec: KeySpec) -> String {
    format!("Public-Key: ({} bit)", spec.bits())
}

#[test]
fn every_compliant_chain_verifies_with_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for spec in KeySpec::ALL {
        let chain = ChainBuilder::new(spec)
            .leaf_ocsp_url("http://127.0.0.1:1/ocsp")
            .leaf_crl_url("http://127.0.0.1:1/leaf.crl")
            .intermediate_crl_url("http://127.0.0.1:1/inter.crl")
            .build()
            .unwrap();
        assert!(chain.is_notary_compliant());
        let out = openssl_verify(&chain, d);
        assert!(out.status.success(), "{spec}: {}", text(&out));

        for cert in chain.certs() {
            let t = x509_text(&cert.pem(), d);
            assert!(t.contains(&key_size_line(spec)), "{spec}: {t}");
        }
        let leaf = x509_text(&chain.leaf().pem(), d);
        assert!(
            leaf.contains("X509v3 Key Usage: critical\n                Digital Signature\n"),
            "{leaf}"
        );
        assert!(leaf.contains("Code Signing"), "{leaf}");
        assert!(
            leaf.contains("OCSP - URI:http://127.0.0.1:1/ocsp"),
            "{leaf}"
        );
        assert!(leaf.contains("URI:http://127.0.0.1:1/leaf.crl"), "{leaf}");
        assert!(
            leaf.contains("C = US, ST = WA, L = Seattle, O = notation-akv test"),
            "{leaf}"
        );
        let inter = x509_text(&chain.intermediate().unwrap().pem(), d);
        assert!(
            inter
                .contains("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0"),
            "{inter}"
        );
        assert!(
            inter
                .contains("X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign"),
            "{inter}"
        );
        assert!(
            inter.contains("URI:http://127.0.0.1:1/inter.crl"),
            "{inter}"
        );
    }
}

#[test]
fn non_compliant_options_show_in_the_leaf() {
    let dir = tempfile::tempdir().unwrap();
    let chain = ChainBuilder::self_signed(KeySpec::Ec384)
        .akv_default_policy()
        .serial(&[0x12, 0x34])
        .build()
        .unwrap();
    assert!(!chain.is_notary_compliant());
    assert_eq!(
        chain.key_usage(),
        LeafKeyUsage::DigitalSignatureKeyEncipherment
    );
    let t = x509_text(&chain.leaf().pem(), dir.path());
    assert!(t.contains("Digital Signature, Key Encipherment"), "{t}");
    assert!(
        t.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{t}"
    );
    assert!(t.contains("Serial Number: 4660 (0x1234)"), "{t}");

    let no_eku = ChainBuilder::self_signed(KeySpec::Ec256)
        .eku(Eku::None)
        .build()
        .unwrap();
    let t = x509_text(&no_eku.leaf().pem(), dir.path());
    assert!(!t.contains("Extended Key Usage"), "{t}");
}

#[test]
fn expired_leaf_fails_openssl_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .validity(Validity::Expired)
        .build()
        .unwrap();
    assert!(chain.leaf().not_after() < time::OffsetDateTime::now_utc());
    let out = openssl_verify(&chain, d);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("certificate has expired"),
        "{}",
        text(&out)
    );
}

#[test]
fn pkcs12_opens_with_an_empty_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let chain = ChainBuilder::new(KeySpec::Rsa2048).build().unwrap();

    std::fs::write(d.join("certs.pfx"), chain.pkcs12(false).unwrap()).unwrap();
    let out = openssl(
        &["pkcs12", "-in", "certs.pfx", "-passin", "pass:", "-nokeys"],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert_eq!(t.matches("BEGIN CERTIFICATE").count(), 3, "{t}");
    assert!(!t.contains("PRIVATE KEY"));
    for cert in chain.certs() {
        let body: String = cert
            .pem()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let got: String = t.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(got.contains(&body));
    }

    std::fs::write(d.join("key.pfx"), chain.pkcs12(true).unwrap()).unwrap();
    let out = openssl(
        &[
            "pkcs12", "-in", "key.pfx", "-passin", "pass:", "-nodes", "-nocerts",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("BEGIN PRIVATE KEY"), "{}", text(&out));
}

#[test]
fn bundles_and_keys_are_consistent() {
    let chain = ChainBuilder::new(KeySpec::Ec521).build().unwrap();
    let leaf_first = chain.pem_bundle(BundleOrder::LeafFirst);
    let root_first = chain.pem_bundle(BundleOrder::RootFirst);
    assert!(leaf_first.starts_with(&chain.leaf().pem()));
    assert!(root_first.starts_with(&chain.root().unwrap().pem()));
    assert_ne!(chain.pem_bundle(BundleOrder::Scrambled), leaf_first);
    // Cached keys: the same slot gives the same key, another slot a different one.
    let again = ChainBuilder::new(KeySpec::Ec521).build().unwrap();
    assert_eq!(again.leaf().key(), chain.leaf().key());
    let other = ChainBuilder::new(KeySpec::Ec521)
        .key_slot(1)
        .build()
        .unwrap();
    assert_ne!(other.leaf().key(), chain.leaf().key());
    assert!(chain.root().unwrap().rcgen_issuer().is_ok());
}
