//! Timestamping against real TSAs on 127.0.0.1: the project's test TSA (with faults) and
//! `openssl ts -reply`, run per request behind a test HTTP handler.

use akv_test_responders::http::{Faults, Handler, Reply, Server, unreachable_url};
use akv_test_responders::pki::{CertOptions, TestCa};
use akv_test_responders::sign::{Key, KeySpec};
use akv_test_responders::tsa::{Behaviour, Tsa, tsa_certificate};
use notation_akv_protocol::HashAlgorithm;
use notation_akv_timestamp::{TimestampError, Timestamper, parse_roots, parse_url};
use notation_akv_x509::Certificate;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const SIGNATURE: &[u8] = b"raw signature value";
const TIMEOUT: Duration = Duration::from_secs(10);

fn signing_chain(expired: bool) -> Vec<Certificate> {
    let ca = TestCa::root("Signing Root").unwrap();
    let leaf = ca
        .issue(
            "Signer",
            &CertOptions {
                expired,
                ..CertOptions::default()
            },
        )
        .unwrap();
    vec![
        Certificate::from_der(&leaf.der).unwrap(),
        Certificate::from_der(ca.der()).unwrap(),
    ]
}

fn timestamper(url: &str, root_pem: &str) -> Timestamper {
    Timestamper::new(
        parse_url(url).unwrap(),
        parse_roots(root_pem.as_bytes(), "root.pem").unwrap(),
    )
}

async fn stamp(
    t: &Timestamper,
    hash: HashAlgorithm,
) -> Result<notation_akv_timestamp::Token, TimestampError> {
    t.timestamp(SIGNATURE, hash, &signing_chain(false), TIMEOUT)
        .await
}

#[tokio::test]
async fn a_granted_token_is_checked_and_returned_as_sent() {
    let tsa = Tsa::start("Test TSA").await.unwrap();
    let t = timestamper(&tsa.url(), &tsa.root_pem());
    for hash in [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ] {
        let token = stamp(&t, hash).await.unwrap();
        let age = SystemTime::now()
            .duration_since(token.gen_time)
            .unwrap_or_default();
        assert!(age < Duration::from_secs(60), "{age:?}");
        assert_eq!(token.tsa_chain.len(), 2);
        assert_eq!(token.tsa_chain[0].der(), tsa.cert_der());
        assert_eq!(token.tsa_chain[1].der(), tsa.root().der());
        // A CMS ContentInfo (SEQUENCE) holding signedData.
        assert_eq!(token.der[0], 0x30);
    }
    assert_eq!(tsa.server().posts(), 3);
}

async fn failure(behaviour: Behaviour) -> String {
    let tsa = Tsa::start("Faulty TSA").await.unwrap();
    tsa.set_behaviour(behaviour);
    let t = timestamper(&tsa.url(), &tsa.root_pem());
    stamp(&t, HashAlgorithm::Sha256)
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn responses_that_do_not_answer_this_request_are_refused() {
    let err = failure(Behaviour {
        wrong_nonce: true,
        ..Behaviour::default()
    })
    .await;
    assert!(
        err.contains("unusable response") && err.contains("nonce is not the request's nonce"),
        "{err}"
    );
    let err = failure(Behaviour {
        wrong_imprint: true,
        ..Behaviour::default()
    })
    .await;
    assert!(
        err.contains("message imprint") && err.contains("timestamps something else"),
        "{err}"
    );
    let err = failure(Behaviour {
        reject: true,
        ..Behaviour::default()
    })
    .await;
    assert!(
        err.contains("refused the request: status Rejection"),
        "{err}"
    );
    let err = failure(Behaviour {
        no_certificates: true,
        ..Behaviour::default()
    })
    .await;
    assert!(err.contains("certificate is not in the token"), "{err}");
    let err = failure(Behaviour {
        no_signing_certificate: true,
        ..Behaviour::default()
    })
    .await;
    assert!(
        err.contains("neither signing-certificate nor signing-certificate-v2"),
        "{err}"
    );
    let err = failure(Behaviour {
        garbage: Some(b"not DER".to_vec()),
        ..Behaviour::default()
    })
    .await;
    assert!(err.contains("not a DER TimeStampResp"), "{err}");
}

#[tokio::test]
async fn tokens_from_another_root_or_outside_the_signing_validity_are_untrusted() {
    let tsa = Tsa::start("Test TSA").await.unwrap();
    let other = TestCa::root("Some Other Root").unwrap();
    let t = timestamper(&tsa.url(), &other.pem());
    let err = stamp(&t, HashAlgorithm::Sha256).await.unwrap_err();
    assert!(matches!(err, TimestampError::Untrusted { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("does not chain to timestamp_root_cert")
            && text.contains("CN=Some Other Root"),
        "{text}"
    );

    let t = timestamper(&tsa.url(), &tsa.root_pem());
    let err = t
        .timestamp(
            SIGNATURE,
            HashAlgorithm::Sha256,
            &signing_chain(true),
            TIMEOUT,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("outside the validity of signing certificate") && err.contains("CN=Signer"),
        "{err}"
    );

    tsa.set_behaviour(Behaviour {
        gen_time_shift: -2 * 86_400,
        ..Behaviour::default()
    });
    let err = stamp(&t, HashAlgorithm::Sha256)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not valid at the timestamp's genTime")
            || err.contains("outside the validity"),
        "{err}"
    );
}

#[tokio::test]
async fn a_down_or_slow_tsa_fails_within_the_deadline() {
    let t = timestamper(
        &unreachable_url("/tsa").unwrap(),
        &TestCa::root("R").unwrap().pem(),
    );
    let err = stamp(&t, HashAlgorithm::Sha256).await.unwrap_err();
    assert!(matches!(err, TimestampError::Transport { .. }), "{err:?}");

    let tsa = Tsa::start("Slow TSA").await.unwrap();
    tsa.server().set_faults(Faults {
        delay: Some(Duration::from_secs(5)),
        ..Faults::default()
    });
    let t = timestamper(&tsa.url(), &tsa.root_pem());
    let started = std::time::Instant::now();
    let err = t
        .timestamp(
            SIGNATURE,
            HashAlgorithm::Sha256,
            &signing_chain(false),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, TimestampError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    tsa.server().set_faults(Faults {
        status: Some(503),
        ..Faults::default()
    });
    let err = stamp(&t, HashAlgorithm::Sha256)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP status 503"), "{err}");
}

#[test]
fn bad_urls_and_root_files_say_what_to_give() {
    for url in ["ftp://tsa.example", "tsa.example", "http://"] {
        let err = parse_url(url).unwrap_err().to_string();
        assert!(err.contains("http or https"), "{url}: {err}");
    }
    assert!(parse_url("https://tsa.example/tsr").is_ok());
    let err = parse_roots(b"no certificate here", "r.pem")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("timestamp_root_cert r.pem") && err.contains("PEM file of the TSA's root"),
        "{err}"
    );
    let ca = TestCa::root("Root").unwrap();
    let leaf = ca.issue("Leaf", &CertOptions::default()).unwrap();
    let pem = akv_test_responders::pki::pem_block("CERTIFICATE", &leaf.der);
    let err = parse_roots(pem.as_bytes(), "leaf.pem")
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not a root"), "{err}");
}

/// `openssl ts -reply` answering each query in a temporary directory, behind a test handler.
fn openssl_handler(dir: Arc<tempfile::TempDir>) -> Handler {
    Arc::new(move |request| {
        let path = |name: &str| dir.path().join(name);
        let run = || -> Result<Vec<u8>, String> {
            std::fs::write(path("query.tsq"), &request.body).map_err(|e| e.to_string())?;
            let output = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(path("tsa.cnf"))
                .arg("-queryfile")
                .arg(path("query.tsq"))
                .arg("-out")
                .arg(path("reply.tsr"))
                .output()
                .map_err(|e| format!("openssl: {e}"))?;
            if !output.status.success() {
                return Err(String::from_utf8_lossy(&output.stderr).into_owned());
            }
            std::fs::read(path("reply.tsr")).map_err(|e| e.to_string())
        };
        match run() {
            Ok(body) => Reply::ok("application/timestamp-reply", body),
            Err(e) => {
                eprintln!("openssl ts -reply failed: {e}");
                Reply::status(500)
            }
        }
    })
}

/// `openssl ts -reply` with a fresh RSA TSA; `ess_v2` picks signing-certificate-v2 (SHA-256)
/// over OpenSSL's default signing-certificate (SHA-1).
async fn openssl_tsa(ess_v2: bool) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let root = TestCa::root_with("OpenSSL TSA Root", KeySpec::Rsa2048).unwrap();
    let key = Key::generate(KeySpec::Rsa2048).unwrap();
    let cert = tsa_certificate(&root, &key, "OpenSSL TSA").unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("tsa.pem"),
        akv_test_responders::pki::pem_block("CERTIFICATE", &cert),
    )
    .unwrap();
    std::fs::write(d.join("tsa.key"), key.pkcs8_pem()).unwrap();
    std::fs::write(d.join("serial"), "01\n").unwrap();
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {dir}/serial\nsigner_cert = {dir}/tsa.pem\n\
         signer_key = {dir}/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
         digests = sha256, sha384, sha512\n{ess}",
        dir = d.display(),
        ess = if ess_v2 {
            "ess_cert_id_alg = sha256\n"
        } else {
            ""
        }
    );
    std::fs::write(d.join("tsa.cnf"), config).unwrap();
    let server = Server::start(openssl_handler(dir.clone()), None)
        .await
        .unwrap();
    let t = timestamper(&server.url("/tsr"), &root.pem());
    for hash in [HashAlgorithm::Sha256, HashAlgorithm::Sha512] {
        let token = stamp(&t, hash).await.unwrap();
        assert_eq!(token.tsa_chain[0].der(), cert.as_slice());
    }
}

#[tokio::test]
async fn openssl_ts_reply_tokens_are_accepted_with_either_ess_attribute() {
    openssl_tsa(true).await;
    openssl_tsa(false).await;
}
