//! CRLs served over http, https and file://, with delta CRLs and notation's hold rule.

mod common;

use std::time::{Duration, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason, UNKNOWN_OID};
use akv_test_responders::pki::CertOptions;
use akv_test_responders::sign::{Key, KeySpec};
use common::*;
use notation_akv_revocation::{
    CertStatus, Problem, RevocationConfig, RevocationReason, Source, Verdict,
};

/// A base CRL numbered `number` whose freshest-CRL extension names `/inter-delta.crl`.
fn base_with_delta(c: &CrlChain, number: u64) -> CrlBuilder {
    CrlBuilder {
        number,
        freshest_urls: vec![c.files.url("/inter-delta.crl")],
        ..CrlBuilder::default()
    }
}

#[tokio::test]
async fn good_chain_from_crls() {
    let c = CrlChain::new().await;
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Crl {
            url: c.files.url("/inter.crl"),
            delta_url: None
        })
    );
    assert_eq!(c.files.server.requests(), 2);
}

#[tokio::test]
async fn revoked_leaf_and_intermediate() {
    let c = CrlChain::new().await;
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let leaf_crl = CrlBuilder::default()
        .revoke(Entry::new(&c.leaf.serial, Some(Reason::Superseded)).at(when))
        .sign(&c.inter)
        .unwrap();
    c.files.files.put("/inter.crl", leaf_crl);
    let root_crl = CrlBuilder::default()
        .revoke(Entry::new(c.inter.serial(), None))
        .sign(&c.root)
        .unwrap();
    c.files.files.put("/root.crl", root_crl);
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked);
    assert_eq!(
        result.certificates[0].status,
        CertStatus::Revoked {
            reason: Some(RevocationReason::Superseded),
            time: when
        }
    );
    assert!(matches!(
        result.certificates[1].status,
        CertStatus::Revoked { reason: None, .. }
    ));
}

#[tokio::test]
async fn delta_crl_from_the_base_crl() {
    let c = CrlChain::new().await;
    let base = base_with_delta(&c, 10);
    c.publish("/inter.crl", &base);
    let delta = CrlBuilder {
        number: 11,
        delta_of: Some(10),
        ..CrlBuilder::default()
    }
    .revoke(Entry::new(&c.leaf.serial, Some(Reason::KeyCompromise)));
    c.publish("/inter-delta.crl", &delta);
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Crl {
            url: c.files.url("/inter.crl"),
            delta_url: Some(c.files.url("/inter-delta.crl"))
        })
    );
}

#[tokio::test]
async fn delta_crl_named_only_in_the_certificate() {
    let c = CrlChain::with_leaf(|files| CertOptions {
        freshest_urls: vec![files.url("/inter-delta.crl")],
        ..CertOptions::default()
    })
    .await;
    let base = CrlBuilder {
        number: 3,
        ..CrlBuilder::default()
    };
    c.publish("/inter.crl", &base);
    let delta = CrlBuilder {
        number: 4,
        delta_of: Some(3),
        ..CrlBuilder::default()
    }
    .revoke(Entry::new(
        &c.leaf.serial,
        Some(Reason::CessationOfOperation),
    ));
    c.publish("/inter-delta.crl", &delta);
    let result = c.check().await;
    assert!(
        matches!(
            result.certificates[0].status,
            CertStatus::Revoked {
                reason: Some(RevocationReason::CessationOfOperation),
                ..
            }
        ),
        "notation-core-go gives unknown here; RFC 5280 allows it: {result}"
    );
}

#[tokio::test]
async fn delta_crl_number_must_exceed_the_base() {
    let c = CrlChain::new().await;
    let base = base_with_delta(&c, 10);
    c.publish("/inter.crl", &base);
    let stale_delta = CrlBuilder {
        number: 10,
        delta_of: Some(9),
        ..CrlBuilder::default()
    };
    c.publish("/inter-delta.crl", &stale_delta);
    let result = c.check().await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Delta(m) if m.contains("not greater")),
        "{result}"
    );

    let needs_newer_base = CrlBuilder {
        number: 12,
        delta_of: Some(11),
        ..CrlBuilder::default()
    };
    c.publish("/inter-delta.crl", &needs_newer_base);
    let result = c.check().await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Delta(m) if m.contains("needs base CRL number")),
        "{result}"
    );
}

#[tokio::test]
async fn hold_then_release() {
    let c = CrlChain::new().await;
    let held_at = SystemTime::now() - Duration::from_secs(7200);
    let base = base_with_delta(&c, 20)
        .revoke(Entry::new(&c.leaf.serial, Some(Reason::CertificateHold)).at(held_at));
    c.publish("/inter.crl", &base);
    let empty_delta = CrlBuilder {
        number: 21,
        delta_of: Some(20),
        ..CrlBuilder::default()
    };
    c.publish("/inter-delta.crl", &empty_delta);
    let result = c.check().await;
    assert_eq!(
        result.certificates[0].status,
        CertStatus::Revoked {
            reason: Some(RevocationReason::CertificateHold),
            time: truncate(held_at)
        }
    );

    let release = empty_delta.revoke(
        Entry::new(&c.leaf.serial, Some(Reason::RemoveFromCRL))
            .at(SystemTime::now() - Duration::from_secs(60)),
    );
    c.publish("/inter-delta.crl", &release);
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
}

#[tokio::test]
async fn release_dated_before_the_hold_does_not_release() {
    let c = CrlChain::new().await;
    let now = SystemTime::now();
    let crl = CrlBuilder::default()
        .revoke(
            Entry::new(&c.leaf.serial, Some(Reason::RemoveFromCRL))
                .at(now - Duration::from_secs(7200)),
        )
        .revoke(
            Entry::new(&c.leaf.serial, Some(Reason::CertificateHold))
                .at(now - Duration::from_secs(60)),
        );
    c.publish("/inter.crl", &crl);
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked);
}

fn truncate(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

#[tokio::test]
async fn expired_crl_and_crl_without_next_update() {
    let c = CrlChain::new().await;
    let expired = CrlBuilder {
        this_update: SystemTime::now() - Duration::from_secs(3 * 86400),
        next_update: Some(SystemTime::now() - Duration::from_secs(86400)),
        ..CrlBuilder::default()
    };
    c.publish("/inter.crl", &expired);
    let result = c.check().await;
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::Stale { what: "CRL", .. }
    ));

    let open_ended = CrlBuilder {
        next_update: None,
        ..CrlBuilder::default()
    };
    c.publish("/inter.crl", &open_ended);
    let result = c.check().await;
    assert_eq!(problems(&result, 0)[0].1, Problem::CrlNoNextUpdate);
}

#[tokio::test]
async fn unknown_critical_extensions_are_refused() {
    let c = CrlChain::new().await;
    let in_crl = CrlBuilder {
        unknown_critical: true,
        ..CrlBuilder::default()
    };
    c.publish("/inter.crl", &in_crl);
    let result = c.check().await;
    assert_eq!(
        problems(&result, 0)[0].1,
        Problem::UnknownCriticalExtension {
            oid: UNKNOWN_OID.into(),
            place: "CRL"
        }
    );

    // Another certificate's entry: RFC 5280 §5.3 still forbids using the CRL.
    let mut entry = Entry::new(&[0x42], Some(Reason::KeyCompromise));
    entry.unknown_critical = true;
    let in_entry = CrlBuilder::default().revoke(entry);
    c.publish("/inter.crl", &in_entry);
    let result = c.check().await;
    assert_eq!(
        problems(&result, 0)[0].1,
        Problem::UnknownCriticalExtension {
            oid: UNKNOWN_OID.into(),
            place: "CRL entry"
        }
    );
}

#[tokio::test]
async fn crl_signed_by_another_key_is_refused() {
    let c = CrlChain::new().await;
    let forged = CrlBuilder::default()
        .sign_with(&c.inter, &Key::generate(KeySpec::Ec256).unwrap())
        .unwrap();
    c.files.files.put("/inter.crl", forged);
    let result = c.check().await;
    assert!(
        matches!(problems(&result, 0)[0].1, Problem::CrlSignature(_)),
        "{result}"
    );
}

#[tokio::test]
async fn crl_of_another_issuer_is_refused() {
    let c = CrlChain::new().await;
    c.files
        .files
        .put("/inter.crl", CrlBuilder::default().sign(&c.root).unwrap());
    let result = c.check().await;
    assert_eq!(problems(&result, 0)[0].1, Problem::CrlIssuerMismatch);
}

#[tokio::test]
async fn every_distribution_point_is_consulted() {
    let files2 = akv_test_responders::http::FileServer::start(None)
        .await
        .unwrap();
    let second = files2.url("/second.crl");
    let c = CrlChain::with_leaf(|_| CertOptions {
        crl_urls: vec![second.clone()],
        ..CertOptions::default()
    })
    .await;
    files2.files.put(
        "/second.crl",
        CrlBuilder::default()
            .revoke(Entry::new(&c.leaf.serial, Some(Reason::AffiliationChanged)))
            .sign(&c.inter)
            .unwrap(),
    );
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked, "{result}");
    assert_eq!(files2.server.requests(), 1);

    files2.files.remove("/second.crl");
    let result = c.check().await;
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::HttpStatus { status: 404, .. }
    ));
}

#[tokio::test]
async fn file_and_https_distribution_points() {
    let dir = tempfile::tempdir().unwrap();
    let tls = akv_test_responders::tls::TlsIdentity::new().unwrap();
    let https = akv_test_responders::http::FileServer::start(Some(tls.server_config()))
        .await
        .unwrap();
    let root = akv_test_responders::pki::TestCa::root("File Root").unwrap();
    let file_url = url::Url::from_file_path(dir.path().join("root.crl"))
        .unwrap()
        .to_string();
    let inter = root
        .intermediate("File Intermediate", &CertOptions::crl(file_url))
        .unwrap();
    let leaf = inter
        .issue("Https Leaf", &CertOptions::crl(https.url("/inter.crl")))
        .unwrap();
    std::fs::write(
        dir.path().join("root.crl"),
        akv_test_responders::pki::pem_block(
            "X509 CRL",
            &CrlBuilder::default().sign(&root).unwrap(),
        ),
    )
    .unwrap();
    https
        .files
        .put("/inter.crl", CrlBuilder::default().sign(&inter).unwrap());
    let chain = vec![leaf.der.clone(), inter.der().to_vec(), root.der().to_vec()];
    let cfg = RevocationConfig {
        extra_tls_roots: vec![tls.ca_der()],
        ..config()
    };
    let result = check(&checker(cfg), &chain).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");

    let no_file = RevocationConfig {
        allow_file: false,
        extra_tls_roots: vec![tls.ca_der()],
        ..config()
    };
    let result = check(&checker(no_file), &chain).await;
    assert!(
        matches!(&problems(&result, 1)[0].1, Problem::SchemeNotAllowed { scheme, .. } if scheme == "file")
    );
}

#[tokio::test]
async fn certificate_without_sources_is_non_revokable() {
    let root = akv_test_responders::pki::TestCa::root("Bare Root").unwrap();
    let leaf = root.issue("Bare Leaf", &CertOptions::default()).unwrap();
    let result = check(&checker(config()), &[leaf.der.clone(), root.der().to_vec()]).await;
    assert_eq!(result.verdict, Verdict::Ok);
    assert_eq!(result.certificates[0].status, CertStatus::NonRevokable);
}
