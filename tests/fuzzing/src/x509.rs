//! Certificates: PEM/DER bundles, PKCS#12 secrets, chains, distinguished names.

use crate::fixture;
use notation_akv_x509::name::render_like_go;
use notation_akv_x509::{
    Certificate, Sha1, build_chain, is_subset, key_spec, parse_bundle, parse_distinguished_name,
    validate_code_signing_chain, verify_x509_trusted_identities,
};
use std::time::SystemTime;

fn inspect(cert: &Certificate) {
    let _ = (cert.subject(), cert.issuer(), cert.serial_hex());
    let _ = (cert.sha256_fingerprint(), cert.sha1_fingerprint());
    let _ = (cert.not_before(), cert.not_after(), cert.is_self_issued());
    let _ = cert.reference().to_string();
    let _ = key_spec(cert.public_key());
    let _ = render_like_go(&cert.x509().tbs_certificate.subject);
}

/// `ca_certs` files, PEM secrets, `timestamp_root_cert` and the verifier's trust files.
pub fn certificate_bundle(data: &[u8]) {
    if let Ok(bundle) = parse_bundle(data) {
        bundle.certificates.iter().for_each(inspect);
    }
    let _ = notation_akv_timestamp::parse_roots(data, "fuzz.pem");
}

/// The `application/x-pkcs12` secret of an AKV certificate (empty password).
pub fn pkcs12(data: &[u8]) {
    if let Ok(found) = notation_akv::pfx::certificates(data) {
        for der in &found.certificates {
            if let Ok(cert) = Certificate::from_der(der) {
                inspect(&cert);
            }
        }
    }
}

/// A bag of certificates (a signature's chain, a secret's chain): chain building, the Notary
/// code-signing rules and the signatures between neighbours.
pub fn certificate_chain(data: &[u8]) {
    let Ok(bundle) = parse_bundle(data) else {
        return;
    };
    let certificates = bundle.certificates;
    certificates.iter().for_each(inspect);
    let leaf = certificates.first().cloned();
    for pinned in [None, leaf.as_ref()] {
        if let Ok(chain) = build_chain(certificates.clone(), pinned) {
            let _ = validate_code_signing_chain(&chain, Some(SystemTime::now()));
            for pair in chain.windows(2) {
                let _ = pair[0].verify_signed_by(&pair[1], Sha1::Reject);
            }
        }
    }
    let _ = validate_code_signing_chain(&certificates, None);
}

/// `x509.subject:` trusted identities of a trust policy.
pub fn distinguished_name(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dn) = parse_distinguished_name(text) {
        let _ = is_subset(&dn, &dn);
        let _: Vec<_> = dn.iter().collect();
    }
    let subject = &fixture::leaf().x509().tbs_certificate.subject;
    let _ = verify_x509_trusted_identities(&[format!("x509.subject:{text}")], subject);
    let _ = verify_x509_trusted_identities(&[text.to_string()], subject);
}
