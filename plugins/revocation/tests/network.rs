//! Unreachable, slow and failing servers, responder fallback and proxies.

mod common;

use std::time::{Duration, Instant};

use akv_test_responders::http::{Faults, unreachable_url};
use akv_test_responders::ocsp::OcspResponder;
use akv_test_responders::pki::CertOptions;
use akv_test_responders::proxy::ForwardProxy;
use common::*;
use notation_akv_revocation::{Problem, ProxyConfig, RevocationConfig, Source, Verdict};

#[tokio::test]
async fn unreachable_responder_is_unknown_with_the_url() {
    let dead = unreachable_url("/ocsp").unwrap();
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let url = dead.clone();
    let c = OcspChain::with(
        responder,
        |r| CertOptions::ocsp(r.url()),
        move |_| CertOptions::ocsp(url.clone()),
    )
    .await;
    let result = check(&checker(config()), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Unknown);
    let p = problems(&result, 0);
    assert_eq!(p[0].0, Source::Ocsp { url: dead.clone() });
    assert!(
        matches!(&p[0].1, Problem::Unreachable { url, .. } if *url == dead),
        "{result}"
    );
    assert!(
        result.to_string().contains(&format!("cannot reach {dead}")),
        "{result}"
    );
}

#[tokio::test]
async fn second_responder_answers_when_the_first_is_down() {
    let dead = unreachable_url("/ocsp").unwrap();
    let responder = OcspResponder::start(&[], None).await.unwrap();
    let c = OcspChain::with(
        responder,
        |r| CertOptions::ocsp(r.url()),
        move |r| CertOptions {
            ocsp_urls: vec![dead.clone(), r.url()],
            ..CertOptions::default()
        },
    )
    .await;
    let result = check(&checker(config()), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(
        result.certificates[0].source,
        Some(Source::Ocsp {
            url: c.responder.url()
        })
    );
}

#[tokio::test]
async fn slow_responder_times_out_at_the_configured_deadline() {
    let c = OcspChain::new().await;
    c.responder.server.set_faults(Faults {
        delay: Some(Duration::from_secs(10)),
        ..Faults::default()
    });
    let cfg = RevocationConfig {
        ocsp_timeout: Duration::from_millis(500),
        ..config()
    };
    let started = Instant::now();
    let result = check(&checker(cfg), &c.chain()).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "deadline not respected: {took:?}"
    );
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert_eq!(
        problems(&result, 0)[0].1,
        Problem::Timeout {
            url: c.responder.url(),
            after: Duration::from_millis(500)
        }
    );
    assert!(
        result
            .to_string()
            .contains("timed out after 0.5s at http://127.0.0.1:"),
        "{result}"
    );
}

#[tokio::test]
async fn slow_crl_server_times_out() {
    let c = CrlChain::new().await;
    c.files.server.set_faults(Faults {
        delay: Some(Duration::from_secs(10)),
        ..Faults::default()
    });
    let cfg = RevocationConfig {
        crl_timeout: Duration::from_secs(1),
        ..config()
    };
    let started = Instant::now();
    let result = check(&checker(cfg), &c.chain()).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        matches!(problems(&result, 0)[0].1, Problem::Timeout { after, .. } if after == Duration::from_secs(1))
    );
}

#[tokio::test]
async fn http_error_status_is_reported() {
    let c = OcspChain::new().await;
    c.responder.server.set_faults(Faults {
        status: Some(503),
        ..Faults::default()
    });
    let result = check(&checker(config()), &c.chain()).await;
    assert_eq!(
        problems(&result, 0)[0].1,
        Problem::HttpStatus {
            url: c.responder.url(),
            status: 503
        }
    );
    assert!(result.to_string().contains("HTTP 503 from"));
}

#[tokio::test]
async fn oversized_response_is_refused() {
    let c = OcspChain::new().await;
    c.responder.server.set_faults(Faults {
        body: Some(vec![0x30; 100_000]),
        ..Faults::default()
    });
    let result = check(&checker(config()), &c.chain()).await;
    assert!(matches!(
        problems(&result, 0)[0].1,
        Problem::TooLarge { limit: 65536, .. }
    ));
}

#[tokio::test]
async fn http_proxy_is_used_and_no_proxy_bypasses_it() {
    let c = OcspChain::new().await;
    let proxy = ForwardProxy::start().await.unwrap();
    let via_proxy = RevocationConfig {
        proxy: ProxyConfig {
            http: Some(proxy.url()),
            ..ProxyConfig::default()
        },
        ..config()
    };
    let result = check(&checker(via_proxy), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(proxy.forwarded(), 2);
    assert_eq!(c.responder.requests(), 2);

    let bypass = RevocationConfig {
        proxy: ProxyConfig {
            http: Some(proxy.url()),
            https: None,
            no_proxy: Some("127.0.0.1".into()),
        },
        ..config()
    };
    assert_eq!(
        check(&checker(bypass), &c.chain()).await.verdict,
        Verdict::Ok
    );
    assert_eq!(proxy.forwarded(), 2, "NO_PROXY must bypass the proxy");
    assert_eq!(c.responder.requests(), 4);
}

#[tokio::test]
async fn dead_proxy_makes_the_status_unknown() {
    let c = OcspChain::new().await;
    let cfg = RevocationConfig {
        proxy: ProxyConfig {
            http: Some(unreachable_url("").unwrap()),
            ..ProxyConfig::default()
        },
        ..config()
    };
    let result = check(&checker(cfg), &c.chain()).await;
    assert_eq!(result.verdict, Verdict::Unknown);
    assert_eq!(c.responder.requests(), 0);
}

#[test]
fn proxy_settings_come_from_the_standard_variables() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let p = ProxyConfig::from_lookup(env(&[
        ("HTTPS_PROXY", "http://secure:3128"),
        ("http_proxy", "http://plain:3128"),
        ("NO_PROXY", "localhost,.internal"),
    ]));
    assert_eq!(p.https.as_deref(), Some("http://secure:3128"));
    assert_eq!(p.http.as_deref(), Some("http://plain:3128"));
    assert_eq!(p.no_proxy.as_deref(), Some("localhost,.internal"));

    let upper_wins = ProxyConfig::from_lookup(env(&[
        ("HTTP_PROXY", "http://upper:1"),
        ("http_proxy", "http://lower:1"),
        ("HTTPS_PROXY", ""),
        ("https_proxy", "http://lower-secure:1"),
    ]));
    assert_eq!(upper_wins.http.as_deref(), Some("http://upper:1"));
    assert_eq!(
        upper_wins.https.as_deref(),
        Some("http://lower-secure:1"),
        "empty counts as unset"
    );
    assert_eq!(ProxyConfig::from_lookup(|_| None), ProxyConfig::default());
}

#[test]
fn bad_proxy_url_is_a_setup_error_without_credentials() {
    let cfg = RevocationConfig {
        proxy: ProxyConfig {
            https: Some("http://user:s3cret@exa mple:99999".into()),
            ..ProxyConfig::default()
        },
        ..config()
    };
    let err = notation_akv_revocation::RevocationChecker::new(cfg).unwrap_err();
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

#[tokio::test]
async fn redirects_follow_the_scheme_rules() {
    let c = CrlChain::new().await;
    let mirror = akv_test_responders::http::FileServer::start(None)
        .await
        .unwrap();
    mirror.files.put(
        "/inter.crl",
        akv_test_responders::crl::CrlBuilder::default()
            .sign(&c.inter)
            .unwrap(),
    );
    // A leaf whose distribution point redirects to the mirror; the root's CRL stays put.
    let redirecting = akv_test_responders::http::FileServer::start(None)
        .await
        .unwrap();
    redirecting.server.set_faults(Faults {
        redirect: Some(mirror.url("/inter.crl")),
        ..Faults::default()
    });
    let leaf = c
        .inter
        .issue(
            "Redirected Leaf",
            &CertOptions::crl(redirecting.url("/inter.crl")),
        )
        .unwrap();
    let chain = vec![
        leaf.der.clone(),
        c.inter.der().to_vec(),
        c.root.der().to_vec(),
    ];
    let result = check(&checker(config()), &chain).await;
    assert_eq!(result.verdict, Verdict::Ok, "{result}");
    assert_eq!(mirror.server.requests(), 1);

    let tls = akv_test_responders::tls::TlsIdentity::new().unwrap();
    let https_mirror = akv_test_responders::http::FileServer::start(Some(tls.server_config()))
        .await
        .unwrap();
    redirecting.server.set_faults(Faults {
        redirect: Some(https_mirror.url("/inter.crl")),
        ..Faults::default()
    });
    let no_https = RevocationConfig {
        allow_https: false,
        ..config()
    };
    let result = check(&checker(no_https), &chain).await;
    assert!(
        matches!(&problems(&result, 0)[0].1, Problem::Unreachable { detail, .. } if detail.contains("disallowed")),
        "{result}"
    );
    assert_eq!(https_mirror.server.requests(), 0);
}
