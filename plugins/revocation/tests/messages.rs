//! The exact reasons users read (the verifier forwards them in `verificationResults`).

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use notation_akv_revocation::{
    CertResult, CertStatus, ChainResult, Problem, RevocationReason, Source, Verdict,
};

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn every_problem_reads_well() {
    let url = || "http://ocsp.example/".to_string();
    let problems = vec![
        Problem::Timeout {
            url: url(),
            after: Duration::from_millis(2500),
        },
        Problem::Unreachable {
            url: url(),
            detail: "Connection refused (os error 111)".into(),
        },
        Problem::HttpStatus {
            url: url(),
            status: 503,
        },
        Problem::TooLarge {
            url: url(),
            limit: 65536,
        },
        Problem::SchemeNotAllowed {
            url: "https://crl.example/ca.crl".into(),
            scheme: "https".into(),
        },
        Problem::Offline,
        Problem::File {
            path: "/mnt/crl/ca.crl".into(),
            detail: "No such file or directory (os error 2)".into(),
        },
        Problem::Malformed {
            what: "OCSP response",
            detail: "unexpected ASN.1 tag".into(),
        },
        Problem::ResponderStatus("tryLater".into()),
        Problem::OcspSignature("the signature does not verify with the given public key".into()),
        Problem::CertIdMismatch,
        Problem::NonceMismatch,
        Problem::OcspStatusUnknown,
        Problem::Stale {
            what: "CRL",
            next_update: at(1_700_000_000),
        },
        Problem::NotYetValid {
            what: "OCSP response",
            this_update: at(1_800_000_000),
        },
        Problem::TooOld {
            max_age: Duration::from_secs(86400),
        },
        Problem::NoNextUpdate,
        Problem::CrlNoNextUpdate,
        Problem::CrlSignature("the signature does not verify with the given public key".into()),
        Problem::CrlIssuerMismatch,
        Problem::UnknownCriticalExtension {
            oid: "1.3.6.1.4.1.99999.1.1".into(),
            place: "CRL entry",
        },
        Problem::Delta("delta CRL number 0a is not greater than the base CRL number 0a".into()),
        Problem::Responder("responder certificate lacks the OCSPSigning extended key usage".into()),
    ];
    let lines: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn chain_result_names_certificates_sources_and_attempts() {
    let cert = |index, status, source| CertResult {
        index,
        subject: format!("CN=cert {index},O=Example,C=US"),
        serial: format!("{index:02x}ab"),
        status,
        source,
    };
    let result = ChainResult {
        certificates: vec![
            cert(
                0,
                CertStatus::Revoked {
                    reason: Some(RevocationReason::KeyCompromise),
                    time: at(1_700_000_000),
                },
                Some(Source::Cache {
                    origin: Box::new(Source::Ocsp {
                        url: "http://ocsp.example/".into(),
                    }),
                }),
            ),
            cert(
                1,
                CertStatus::Unknown {
                    problems: vec![
                        (
                            Source::Ocsp {
                                url: "http://ocsp.example/".into(),
                            },
                            Problem::Timeout {
                                url: "http://ocsp.example/".into(),
                                after: Duration::from_secs(2),
                            },
                        ),
                        (
                            Source::Crl {
                                url: "http://crl.example/ca.crl".into(),
                                delta_url: Some("http://crl.example/delta.crl".into()),
                            },
                            Problem::HttpStatus {
                                url: "http://crl.example/delta.crl".into(),
                                status: 404,
                            },
                        ),
                    ],
                },
                None,
            ),
            cert(
                2,
                CertStatus::Good,
                Some(Source::Bundle {
                    path: PathBuf::from("/bundle/ca.crl"),
                }),
            ),
            cert(3, CertStatus::NonRevokable, None),
        ],
        verdict: Verdict::Revoked,
    };
    insta::assert_snapshot!(result.to_string().replace("; ", ";\n"));
}
