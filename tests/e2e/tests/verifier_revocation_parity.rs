//! Revocation parity: for chains both can check (http OCSP and CRL), the real notation 1.3.2 CLI's
//! native revocation check (local-key signature, strict policy, no plugin) and our verifier's
//! `REVOCATION_CHECK` through the protocol reach the same verdict.
//!
//! Every row gets its own root → intermediate → leaf from `akv-test-responders`, pointing at one
//! shared OCSP responder and CRL file server on 127.0.0.1. A row records notation's verdict (`ok`,
//! `revoked` or `unknown`, from `notation verify -v`), ours (from the reason), and the verdict the
//! scenario must have.

mod verifier_support;

use std::time::{Duration, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::http::{FileServer, unreachable_url};
use akv_test_responders::ocsp::{Behaviour, OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use notation_akv_e2e::{NotationEnv, Registry, trust_policy};
use verifier_support::*;

/// Where a certificate's status comes from in a scenario.
#[derive(Clone, Copy, Debug)]
enum Via {
    Ocsp(Status),
    /// OCSP answers unknown; a good CRL is the fallback.
    OcspUnknownCrlGood,
    Crl(CrlCase),
    Unreachable,
    Nothing,
}

#[derive(Clone, Copy, Debug)]
enum CrlCase {
    Good,
    Revoked(Reason),
    Expired,
    DeltaRevokes,
}

struct Case {
    name: &'static str,
    leaf: Via,
    intermediate: Via,
    /// Answer from a second responder with this behaviour instead of the shared one.
    responder: Option<fn() -> Behaviour>,
    /// `ok`, `revoked` or `unknown`.
    expected: &'static str,
}

fn revoked(reason: Reason) -> Status {
    Status::revoked(SystemTime::now() - Duration::from_secs(3600), Some(reason))
}

fn cases() -> Vec<Case> {
    use Via::*;
    let good = Ocsp(Status::Good);
    vec![
        Case {
            name: "ocsp good",
            leaf: good,
            intermediate: good,
            responder: None,
            expected: "ok",
        },
        Case {
            name: "ocsp revoked leaf",
            leaf: Ocsp(revoked(Reason::KeyCompromise)),
            intermediate: good,
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "ocsp revoked intermediate",
            leaf: good,
            intermediate: Ocsp(revoked(Reason::CaCompromise)),
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "ocsp unknown, no CRL",
            leaf: Ocsp(Status::Unknown),
            intermediate: good,
            responder: None,
            expected: "unknown",
        },
        Case {
            name: "ocsp unknown, CRL good",
            leaf: OcspUnknownCrlGood,
            intermediate: good,
            responder: None,
            expected: "ok",
        },
        Case {
            name: "ocsp stale response",
            leaf: good,
            intermediate: Nothing,
            responder: Some(|| Behaviour {
                stale: true,
                ..Behaviour::default()
            }),
            expected: "unknown",
        },
        Case {
            name: "ocsp corrupt signature",
            leaf: good,
            intermediate: Nothing,
            responder: Some(|| Behaviour {
                corrupt_signature: true,
                ..Behaviour::default()
            }),
            expected: "unknown",
        },
        Case {
            name: "crl good",
            leaf: Crl(CrlCase::Good),
            intermediate: Crl(CrlCase::Good),
            responder: None,
            expected: "ok",
        },
        Case {
            name: "crl revoked leaf",
            leaf: Crl(CrlCase::Revoked(Reason::KeyCompromise)),
            intermediate: Crl(CrlCase::Good),
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "crl revoked intermediate",
            leaf: Crl(CrlCase::Good),
            intermediate: Crl(CrlCase::Revoked(Reason::Superseded)),
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "crl certificateHold",
            leaf: Crl(CrlCase::Revoked(Reason::CertificateHold)),
            intermediate: Nothing,
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "crl expired",
            leaf: Crl(CrlCase::Expired),
            intermediate: Nothing,
            responder: None,
            expected: "unknown",
        },
        Case {
            name: "delta crl revokes",
            leaf: Crl(CrlCase::DeltaRevokes),
            intermediate: Nothing,
            responder: None,
            expected: "revoked",
        },
        Case {
            name: "unreachable responder",
            leaf: Unreachable,
            intermediate: Nothing,
            responder: None,
            expected: "unknown",
        },
        Case {
            name: "no revocation info",
            leaf: Nothing,
            intermediate: Nothing,
            responder: None,
            expected: "ok",
        },
    ]
}

struct Servers {
    runtime: tokio::runtime::Runtime,
    ocsp: OcspResponder,
    files: FileServer,
}

impl Servers {
    fn start() -> Servers {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let ocsp = runtime.block_on(OcspResponder::start(&[], None)).unwrap();
        let files = runtime.block_on(FileServer::start(None)).unwrap();
        Servers {
            runtime,
            ocsp,
            files,
        }
    }
}

/// The pointers a certificate carries for `via`, with `tag` keeping CRL paths apart.
fn pointers(via: Via, ocsp_url: &str, servers: &Servers, tag: &str) -> CertOptions {
    match via {
        Via::Ocsp(_) => CertOptions::ocsp(ocsp_url),
        Via::OcspUnknownCrlGood => CertOptions {
            ocsp_urls: vec![ocsp_url.to_string()],
            crl_urls: vec![servers.files.url(&format!("/{tag}.crl"))],
            ..CertOptions::default()
        },
        Via::Crl(_) => CertOptions::crl(servers.files.url(&format!("/{tag}.crl"))),
        Via::Unreachable => CertOptions::ocsp(unreachable_url("/ocsp").unwrap()),
        Via::Nothing => CertOptions::default(),
    }
}

/// Publishes what `via` says about `serial` (issued by `issuer`).
fn publish(
    via: Via,
    serial: &[u8],
    issuer: &TestCa,
    responder: &OcspResponder,
    servers: &Servers,
    tag: &str,
) {
    let now = SystemTime::now();
    let path = format!("/{tag}.crl");
    match via {
        Via::Ocsp(status) => responder.set_status(serial, status),
        Via::OcspUnknownCrlGood => {
            responder.set_status(serial, Status::Unknown);
            servers
                .files
                .files
                .put(&path, CrlBuilder::default().sign(issuer).unwrap());
        }
        Via::Crl(CrlCase::Good) => servers
            .files
            .files
            .put(&path, CrlBuilder::default().sign(issuer).unwrap()),
        Via::Crl(CrlCase::Revoked(reason)) => servers.files.files.put(
            &path,
            CrlBuilder::default()
                .revoke(Entry::new(serial, Some(reason)))
                .sign(issuer)
                .unwrap(),
        ),
        Via::Crl(CrlCase::Expired) => servers.files.files.put(
            &path,
            CrlBuilder {
                this_update: now - Duration::from_secs(2 * 86_400),
                next_update: Some(now - Duration::from_secs(86_400)),
                ..CrlBuilder::default()
            }
            .sign(issuer)
            .unwrap(),
        ),
        Via::Crl(CrlCase::DeltaRevokes) => {
            let delta_path = format!("/{tag}-delta.crl");
            servers.files.files.put(
                &path,
                CrlBuilder {
                    freshest_urls: vec![servers.files.url(&delta_path)],
                    ..CrlBuilder::default()
                }
                .sign(issuer)
                .unwrap(),
            );
            servers.files.files.put(
                &delta_path,
                CrlBuilder {
                    number: 2,
                    delta_of: Some(1),
                    ..CrlBuilder::default()
                }
                .revoke(Entry::new(serial, Some(Reason::KeyCompromise)))
                .sign(issuer)
                .unwrap(),
            );
        }
        Via::Unreachable | Via::Nothing => {}
    }
}

#[test]
fn revocation_verdicts_match_notation_native() {
    let servers = Servers::start();
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let verifier_home = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    let mut problems = Vec::new();

    for (i, case) in cases().into_iter().enumerate() {
        let tag = format!("case{i}");
        // A per-case responder when the scenario needs a misbehaving one; it must outlive the row.
        let own = case.responder.map(|behaviour| {
            let responder = servers
                .runtime
                .block_on(OcspResponder::start(&[], None))
                .unwrap();
            responder.set_behaviour(behaviour());
            responder
        });
        let responder = own.as_ref().unwrap_or(&servers.ocsp);
        let url = responder.url();
        let root = TestCa::root(&format!("parity root {i}")).unwrap();
        let intermediate = root
            .intermediate(
                &format!("parity intermediate {i}"),
                &pointers(case.intermediate, &url, &servers, &format!("{tag}-root")),
            )
            .unwrap();
        let leaf = intermediate
            .issue(
                &format!("parity leaf {i}"),
                &pointers(case.leaf, &url, &servers, &format!("{tag}-int")),
            )
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&intermediate).unwrap();
        publish(
            case.leaf,
            &leaf.serial,
            &intermediate,
            responder,
            &servers,
            &format!("{tag}-int"),
        );
        publish(
            case.intermediate,
            intermediate.serial(),
            &root,
            responder,
            &servers,
            &format!("{tag}-root"),
        );

        let chain = vec![
            leaf.der.clone(),
            intermediate.der().to_vec(),
            root.der().to_vec(),
        ];
        let signer = register_local_key(&env, &tag, &leaf.key.pkcs8_pem(), chain.clone());
        env.add_ca_cert("revocation", &signer.root_pem_path)
            .unwrap();
        let artifact = env
            .push_artifact(&registry, "rp", &tag, tag.as_bytes())
            .unwrap();
        env.notation_ok(&["sign", "--key", &tag, &artifact.by_digest()])
            .unwrap();
        env.import_trust_policy(&trust_policy(
            &registry.repository("rp"),
            "revocation",
            &["*"],
        ))
        .unwrap();

        let native = env
            .notation(&["verify", "-v", &artifact.by_digest()])
            .unwrap();
        let ours = verify(
            &request(&chain, &["*"], &[REVOCATION]),
            REVOCATION,
            &verifier_env(&verifier_home.path().join(&tag)),
        );
        let native_verdict = if native.success() {
            "ok"
        } else if !native.stderr.contains("revocation validation failed") {
            "other failure"
        } else if native.stderr.contains("is revoked") {
            "revoked"
        } else {
            "unknown"
        };
        let our_verdict = if ours.success {
            "ok"
        } else if ours.reason.starts_with("revoked") {
            "revoked"
        } else if ours.reason.starts_with("revocation status is unknown") {
            "unknown"
        } else {
            "other failure"
        };
        rows.push(format!(
            "| {} | {native_verdict} | {our_verdict} | {} |",
            case.name, case.expected
        ));
        if native_verdict != case.expected {
            problems.push(format!(
                "{}: notation {native_verdict}: {}",
                case.name,
                native.stderr.trim()
            ));
        }
        if our_verdict != case.expected {
            problems.push(format!(
                "{}: ours {our_verdict}: {}",
                case.name, ours.reason
            ));
        }
    }
    println!("| scenario | notation 1.3.2 native | akv-verifier | expected |");
    println!("|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
    assert!(
        problems.is_empty(),
        "verdicts differ:\n{}",
        problems.join("\n")
    );
}
