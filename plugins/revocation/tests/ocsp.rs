//! OCSP against a real responder on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use akv_test_responders::crl::Reason;
use akv_test_responders::ocsp::{Behaviour, OcspResponder, Signer, Status};
use akv_test_responders::pki::CertOptions;
use akv_test_responders::sign::{Key, KeySpec};
use common::*;
use const_oid::db::rfc5912;
use notation_akv_revocation::{
    CertIdHash, CertStatus, ChainResult, Problem, RevocationConfig, RevocationReason, Source,
    Verdict,
};

/// Checks a fresh [`OcspChain`] whose responder answers every request with `behaviour`.
async fn check_answering(behaviour: Behaviour) -> ChainResult {
    let c = OcspChain::new().await;
    c.responder.set_behaviour(behaviour);
    c.check().await
}

#[tokio::test]
async fn good_chain_names_each_certificate_and_the_responder() {
    let c = OcspChain::new().await;
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(result.certificates.len(), 2, "the root is not checked");
    let leaf = &result.certificates[0];
    assert_eq!(leaf.status, CertStatus::Good);
    assert_eq!(
        leaf.subject,
        "CN=Revocation Test Leaf,O=notation-akv tests,ST=WA,C=US"
    );
    assert_eq!(leaf.serial, hex(&c.leaf.serial));
    assert_eq!(
        leaf.source,
        Some(Source::Ocsp {
            url: c.responder.url()
        })
    );
    let seen = c.responder.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.method == "GET" && !s.had_nonce));
    assert!(
        seen.iter().all(|s| s.hash == rfc5912::ID_SHA_1),
        "SHA-1 CertID by default"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn revoked_leaf_reports_reason_and_time() {
    let c = OcspChain::new().await;
    let when = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    c.responder.set_status(
        &c.leaf.serial,
        Status::revoked(when, Some(Reason::KeyCompromise)),
    );
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked);
    assert_eq!(
        result.certificates[0].status,
        CertStatus::Revoked {
            reason: Some(RevocationReason::KeyCompromise),
            time: when
        }
    );
    assert!(is_good(&result, 1));
    let text = result.to_string();
    assert!(
        text.contains("revoked at 2023-11-14T22:13:20Z (keyCompromise)"),
        "{text}"
    );
}

#[tokio::test]
async fn revoked_intermediate_revokes_the_chain() {
    let c = OcspChain::new().await;
    c.responder.set_status(
        c.inter.serial(),
        Status::revoked(SystemTime::now() - Duration::from_secs(10), None),
    );
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Revoked);
    assert!(is_good(&result, 0));
    assert!(matches!(
        result.certificates[1].status,
        CertStatus::Revoked { reason: None, .. }
    ));
}

#[tokio::test]
async fn unknown_status_is_unknown_and_stops_at_that_responder() {
    let c = OcspChain::new().await;
    c.responder.set_status(&c.leaf.serial, Status::Unknown);
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Unknown);
    let p = problems(&result, 0);
    assert_eq!(
        p,
        vec![(
            Source::Ocsp {
                url: c.responder.url()
            },
            Problem::OcspStatusUnknown
        )]
    );
}

#[tokio::test]
async fn unknown_status_falls_back_to_the_crl() {
    let files = akv_test_responders::http::FileServer::start(None)
        .await
        .unwrap();
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let crl_url = files.url("/inter.crl");
    let c = OcspChain::with(
        responder,
        |r| CertOptions::ocsp(r.url()),
        |r| CertOptions {
            crl_urls: vec![crl_url.clone()],
            ..CertOptions::ocsp(r.url())
        },
    )
    .await;
    c.responder.set_status(&c.leaf.serial, Status::Unknown);
    files.files.put(
        "/inter.crl",
        akv_test_responders::crl::CrlBuilder::default()
            .sign(&c.inter)
            .unwrap(),
    );
    let result = c.check().await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Crl {
            url: crl_url,
            delta_url: None
        })
    );
}

#[tokio::test]
async fn stale_response_is_unknown() {
    let result = check_answering(Behaviour {
        stale: true,
        ..Behaviour::default()
    })
    .await;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::Stale {
            what: "OCSP response",
            ..
        }
    ));
}

#[tokio::test]
async fn response_without_next_update_uses_the_max_age() {
    let c = OcspChain::new().await;
    c.responder.set_behaviour(Behaviour {
        validity: None,
        age: Duration::from_secs(2 * 3600),
        ..Behaviour::default()
    });
    let young_enough = RevocationConfig {
        ocsp_max_age: Some(Duration::from_secs(3 * 3600)),
        ..config()
    };
    assert_eq!(
        check(&checker(young_enough), &c.chain()).await.verdict,
        Verdict::Ok
    );

    let too_old = RevocationConfig {
        ocsp_max_age: Some(Duration::from_secs(3600)),
        ..config()
    };
    let result = check(&checker(too_old), &c.chain()).await;
    assert!(
        matches!(problems(&result, 0)[0].1, Problem::TooOld { .. }),
        "{result}"
    );

    let like_notation = RevocationConfig {
        ocsp_max_age: None,
        ..config()
    };
    let result = check(&checker(like_notation), &c.chain()).await;
    assert_eq!(problems(&result, 0)[0].1, Problem::NoNextUpdate);
}

#[tokio::test]
async fn unsigned_response_is_refused() {
    let result = check_answering(Behaviour {
        corrupt_signature: true,
        ..Behaviour::default()
    })
    .await;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert!(
        matches!(problems(&result, 0)[0].1, Problem::OcspSignature(_)),
        "{result}"
    );
}

#[tokio::test]
async fn garbage_response_is_malformed() {
    let c = OcspChain::new().await;
    c.responder
        .server
        .set_faults(akv_test_responders::http::Faults {
            body: Some(b"<html>not OCSP</html>".to_vec()),
            ..Default::default()
        });
    let result = c.check().await;
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::Malformed {
            what: "OCSP response",
            ..
        }
    ));
}

#[tokio::test]
async fn responder_error_status_is_reported() {
    let result = check_answering(Behaviour {
        error_status: Some(x509_ocsp::OcspResponseStatus::TryLater),
        ..Behaviour::default()
    })
    .await;
    assert_eq!(
        problems(&result, 0)[0].1,
        Problem::ResponderStatus("tryLater".into())
    );
}

#[tokio::test]
async fn response_signed_with_a_wrong_key_is_refused() {
    let result = check_answering(Behaviour {
        signer: Signer::WrongKey(Arc::new(Key::generate(KeySpec::Ec256).unwrap())),
        ..Behaviour::default()
    })
    .await;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::OcspSignature(_)
    ));
    assert!(matches!(
        problems(&result, 1)[0].1,
        Problem::OcspSignature(_)
    ));
}

#[tokio::test]
async fn delegated_responder_with_nocheck_is_accepted() {
    let c = OcspChain::new().await;
    let responder_cert = c
        .inter
        .issue(
            "Delegated OCSP Responder",
            &CertOptions {
                ocsp_signing: true,
                ocsp_nocheck: true,
                ..CertOptions::default()
            },
        )
        .unwrap();
    c.responder.set_behaviour(Behaviour {
        signer: Signer::Delegated {
            cert_der: responder_cert.der.clone(),
            key: Arc::new(responder_cert.key),
        },
        ..Behaviour::default()
    });
    let result = c.check().await;
    assert!(is_good(&result, 0), "{result}");
    // The intermediate's answer is signed by a certificate the root did not issue.
    assert!(
        matches!(&problems(&result, 1)[0].1, Problem::Responder(m) if m.contains("not issued by")),
        "{result}"
    );
}

#[tokio::test]
async fn delegated_responder_needs_the_ocsp_signing_eku() {
    let c = OcspChain::new().await;
    let not_a_responder = c
        .inter
        .issue("Just A Leaf", &CertOptions::default())
        .unwrap();
    c.responder.set_behaviour(Behaviour {
        signer: Signer::Delegated {
            cert_der: not_a_responder.der.clone(),
            key: Arc::new(not_a_responder.key),
        },
        ..Behaviour::default()
    });
    let result = c.check().await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Responder(m) if m.contains("OCSPSigning")),
        "{result}"
    );
}

#[tokio::test]
async fn delegated_responder_without_nocheck_is_itself_checked_by_crl() {
    let files = akv_test_responders::http::FileServer::start(None)
        .await
        .unwrap();
    let c = OcspChain::new().await;
    let responder_cert = c
        .inter
        .issue(
            "Checked OCSP Responder",
            &CertOptions {
                ocsp_signing: true,
                crl_urls: vec![files.url("/inter.crl")],
                ..CertOptions::default()
            },
        )
        .unwrap();
    c.responder.set_behaviour(Behaviour {
        signer: Signer::Delegated {
            cert_der: responder_cert.der.clone(),
            key: Arc::new(responder_cert.key),
        },
        ..Behaviour::default()
    });
    let revoked = akv_test_responders::crl::CrlBuilder::default()
        .revoke(akv_test_responders::crl::Entry::new(
            &responder_cert.serial,
            Some(Reason::KeyCompromise),
        ))
        .sign(&c.inter)
        .unwrap();
    files.files.put("/inter.crl", revoked);
    let result = c.check().await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Responder(m) if m.contains("is revoked")),
        "{result}"
    );

    files.files.put(
        "/inter.crl",
        akv_test_responders::crl::CrlBuilder::default()
            .sign(&c.inter)
            .unwrap(),
    );
    let result = c.check().await;
    assert!(is_good(&result, 0), "{result}");
    assert_eq!(files.server.requests_to("/inter.crl"), 2);
}

#[tokio::test]
async fn nonce_is_sent_and_must_be_echoed() {
    let c = OcspChain::new().await;
    let with_nonce = RevocationConfig {
        ocsp_nonce: true,
        ..config()
    };
    let result = check(&checker(with_nonce.clone()), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert!(c.responder.seen().iter().all(|s| s.had_nonce));

    c.responder.set_behaviour(Behaviour {
        echo_nonce: false,
        ..Behaviour::default()
    });
    let result = check(&checker(with_nonce), &c.chain()).await;
    assert_eq!(problems(&result, 0)[0].1, Problem::NonceMismatch);
}

#[tokio::test]
async fn sha256_cert_id_on_request() {
    let c = OcspChain::new().await;
    let cfg = RevocationConfig {
        cert_id_hash: CertIdHash::Sha256,
        ..config()
    };
    assert_eq!(check(&checker(cfg), &c.chain()).await.verdict, Verdict::Ok);
    assert!(
        c.responder
            .seen()
            .iter()
            .all(|s| s.hash == rfc5912::ID_SHA_256)
    );
}

#[tokio::test]
async fn https_responder_with_a_private_ca() {
    let tls = akv_test_responders::tls::TlsIdentity::new().unwrap();
    let responder = OcspResponder::start(&[], Some(tls.server_config()))
        .await
        .unwrap();
    let c = OcspChain::with(
        responder,
        |r| CertOptions::ocsp(r.url()),
        |r| CertOptions::ocsp(r.url()),
    )
    .await;
    assert!(c.responder.url().starts_with("https://"));

    let trusting = RevocationConfig {
        extra_tls_roots: vec![tls.ca_der()],
        ..config()
    };
    let result = check(&checker(trusting), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");

    let result = c.check().await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Unreachable { .. }),
        "an untrusted TLS certificate must fail: {result}"
    );

    let no_https = RevocationConfig {
        allow_https: false,
        extra_tls_roots: vec![tls.ca_der()],
        ..config()
    };
    let result = check(&checker(no_https), &c.chain()).await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::SchemeNotAllowed { scheme, .. } if scheme == "https")
    );
}

#[tokio::test]
async fn long_requests_are_posted() {
    let c = OcspChain::new().await;
    let post_all = RevocationConfig {
        ocsp_get_limit: 0,
        ocsp_nonce: true,
        ..config()
    };
    let result = check(&checker(post_all), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(c.responder.server.posts(), 2);
    assert_eq!(c.responder.server.gets(), 0);
    assert!(
        c.responder
            .seen()
            .iter()
            .all(|s| s.method == "POST" && s.had_nonce)
    );
}
