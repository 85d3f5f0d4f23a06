//! The verifier's fault matrix through the real notation CLI: every way an OCSP responder or a
//! CRL distribution point can fail (down, slower than the deadline, garbage, HTTP 500, an answer
//! for another certificate, a stale answer), served by real servers on 127.0.0.1, for an
//! envelope-mode signature that names `akv-verifier` (so revocation is ours). Each row checks
//! what `notation verify` ends with (exit status and the fragment of its message that names the
//! fix), the `REVOCATION_CHECK` result of the verifier run alone with the same environment, and
//! that both finish within the configured deadline plus one second. Besides the faults: the
//! reference rows (good, revoked), the OCSP → CRL fallback, and what the trust policy levels do
//! with an unknown status. The table is also the "Verifier fault matrix" of
//! `docs/fault-matrix.md`: this test fails when a row of one is missing from the other.

mod verifier_support;

use std::time::{Duration, Instant, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::http::{Faults, FileServer, unreachable_url};
use akv_test_responders::ocsp::{Behaviour, CertIdAnswer, OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use akv_test_responders::sign::{Key, KeySpec};
use notation_akv_e2e::doc_table;
use notation_akv_e2e::{NotationEnv, Registry};
use verifier_support::*;

/// `ocsp_timeout` and `crl_timeout` of the verifier in this test.
const DEADLINE_SECS: u64 = 2;
const STORE: &str = "faults";
const REPOSITORY: &str = "faults";

/// What goes wrong at one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Good,
    Revoked,
    /// Connection refused.
    Down,
    /// Answers after 10 s.
    Slow,
    /// 200 with bytes that are no OCSP response / CRL.
    Garbage,
    /// 200 with an HTML page (a captive portal or proxy), `text/html`.
    Html,
    Http500,
    /// OCSP: a response for another serial of the same issuer.
    OtherSerial,
    /// OCSP: the serial asked about under another issuer's CertID.
    OtherIssuer,
    /// CRL: a CRL of another CA.
    OtherCa,
    /// CRL: the issuer's name, signed by another key.
    OtherKey,
    /// nextUpdate in the past.
    Stale,
}

/// Which sources the leaf names, and how each behaves.
#[derive(Clone, Copy, Debug)]
enum Sources {
    Ocsp(Fault),
    Crl(Fault),
    /// Both, OCSP first (the leaf names a responder and a distribution point).
    Both(Fault, Fault),
}

/// The tests that run the rows, so that nextest runs them in parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Ocsp,
    Crl,
    FallbackAndLevels,
}

/// One row: what goes wrong, and what the user gets.
struct Row {
    symptom: &'static str,
    /// The `REVOCATION_CHECK` result: `success`, `revoked` or `unknown` (`success: false`).
    result: &'static str,
    /// A fragment of what notation prints (the verifier's reason): what it names and the fix.
    fix: &'static str,
    /// The trust policy's verification level.
    level: &'static str,
    sources: Sources,
    group: Group,
}

fn rows() -> Vec<Row> {
    use Fault::*;
    use Sources::*;
    let row = |symptom, result, fix, sources, group| Row {
        symptom,
        result,
        fix,
        level: "strict",
        sources,
        group,
    };
    let ocsp = |symptom, result, fix, fault| row(symptom, result, fix, Ocsp(fault), Group::Ocsp);
    let crl = |symptom, result, fix, fault| row(symptom, result, fix, Crl(fault), Group::Crl);
    let fallback = |symptom, result, fix, sources| {
        row(symptom, result, fix, sources, Group::FallbackAndLevels)
    };
    vec![
        ocsp("OCSP: good", "success", "Successfully verified", Good),
        ocsp(
            "OCSP: revoked",
            "revoked",
            "re-sign with a valid certificate",
            Revoked,
        ),
        ocsp(
            "OCSP responder down (connection refused)",
            "unknown",
            "cannot be reached: check DNS, firewall and proxies",
            Down,
        ),
        ocsp(
            "OCSP responder slower than `ocsp_timeout`",
            "unknown",
            "raise ocsp_timeout",
            Slow,
        ),
        ocsp(
            "OCSP responder returns garbage",
            "unknown",
            "did not send a usable answer",
            Garbage,
        ),
        ocsp(
            "OCSP responder returns an HTML page (text/html)",
            "unknown",
            "captive portal",
            Html,
        ),
        ocsp(
            "OCSP responder returns HTTP 500",
            "unknown",
            "the OCSP responder failed: retry later",
            Http500,
        ),
        ocsp(
            "OCSP response for another serial",
            "unknown",
            "answered for another certificate",
            OtherSerial,
        ),
        ocsp(
            "OCSP response for another issuer's CertID",
            "unknown",
            "answered for another certificate",
            OtherIssuer,
        ),
        ocsp(
            "OCSP response stale (nextUpdate past)",
            "unknown",
            "out-of-date revocation data: check this host's clock",
            Stale,
        ),
        crl("CRL: good", "success", "Successfully verified", Good),
        crl(
            "CRL: revoked",
            "revoked",
            "re-sign with a valid certificate",
            Revoked,
        ),
        crl(
            "CRL server down (connection refused)",
            "unknown",
            "cannot be reached: check DNS, firewall and proxies",
            Down,
        ),
        crl(
            "CRL server slower than `crl_timeout`",
            "unknown",
            "raise crl_timeout",
            Slow,
        ),
        crl(
            "CRL server returns garbage",
            "unknown",
            "did not send a usable answer",
            Garbage,
        ),
        crl(
            "CRL server returns HTTP 500",
            "unknown",
            "the CRL distribution point failed: retry later",
            Http500,
        ),
        crl(
            "CRL from another CA",
            "unknown",
            "another CA's signature",
            OtherCa,
        ),
        crl(
            "CRL signed by another key",
            "unknown",
            "another CA's signature",
            OtherKey,
        ),
        crl(
            "CRL stale (nextUpdate past)",
            "unknown",
            "out-of-date revocation data: check this host's clock",
            Stale,
        ),
        fallback(
            "OCSP down, CRL good",
            "success",
            "Successfully verified",
            Both(Down, Good),
        ),
        fallback(
            "OCSP down, CRL revoked",
            "revoked",
            "re-sign with a valid certificate",
            Both(Down, Revoked),
        ),
        fallback(
            "OCSP slower than `ocsp_timeout`, CRL good",
            "success",
            "Successfully verified",
            Both(Slow, Good),
        ),
        fallback(
            "OCSP response for another serial, CRL good",
            "success",
            "Successfully verified",
            Both(OtherSerial, Good),
        ),
        fallback(
            "OCSP down, CRL down",
            "unknown",
            "cannot be reached",
            Both(Down, Down),
        ),
        Row {
            level: "permissive",
            ..fallback(
                "OCSP down, policy `permissive`",
                "unknown",
                "cannot be reached",
                Ocsp(Down),
            )
        },
        Row {
            level: "audit",
            ..fallback(
                "OCSP down, policy `audit`",
                "unknown",
                "cannot be reached",
                Ocsp(Down),
            )
        },
        Row {
            level: "permissive",
            ..fallback(
                "OCSP: revoked, policy `permissive`",
                "revoked",
                "re-sign with a valid certificate",
                Ocsp(Revoked),
            )
        },
    ]
}

impl Row {
    /// Whether `notation verify` succeeds: revocation failures are enforced under `strict`
    /// only; `permissive` and `audit` log them.
    fn notation_succeeds(&self) -> bool {
        self.result == "success" || self.level != "strict"
    }

    /// The longest the check may take: each source's deadline (the leaf's sources are asked one
    /// after the other), plus one second.
    fn budget(&self) -> Duration {
        let sources = match self.sources {
            Sources::Both(..) => 2,
            _ => 1,
        };
        Duration::from_secs(DEADLINE_SECS * sources + 1)
    }
}

/// The shared CA (root → intermediate; the intermediate names no revocation source, so only
/// the leaf is checked) and a notation environment with the verifier installed and the root in
/// the trust store.
struct World {
    runtime: tokio::runtime::Runtime,
    registry: Registry,
    env: NotationEnv,
    root: TestCa,
    intermediate: TestCa,
    verifier_env: Vec<(String, String)>,
}

impl World {
    fn new() -> World {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let registry = Registry::start().unwrap();
        let mut env = NotationEnv::new().unwrap();
        let settings = [
            (
                "NOTATION_AKV_VERIFIER_OCSP_TIMEOUT",
                format!("{DEADLINE_SECS}s"),
            ),
            (
                "NOTATION_AKV_VERIFIER_CRL_TIMEOUT",
                format!("{DEADLINE_SECS}s"),
            ),
            // Every row is a cold check, as after a fault.
            ("NOTATION_AKV_VERIFIER_CACHE", "false".to_string()),
        ];
        let mut verifier_env = verifier_env(&env.root().join("alone"));
        for (key, value) in settings {
            env.set_env(key, &value);
            verifier_env.push((key.to_string(), value));
        }
        install_verifier(&env);
        let root = TestCa::root("fault matrix root").unwrap();
        let intermediate = root
            .intermediate("fault matrix intermediate", &CertOptions::default())
            .unwrap();
        let root_pem = env.write_file("fault-root.crt", root.pem()).unwrap();
        env.add_ca_cert(STORE, &root_pem).unwrap();
        World {
            runtime,
            registry,
            env,
            root,
            intermediate,
            verifier_env,
        }
    }

    /// An OCSP responder behaving as `fault` says about `serial` (None for `Down`), and its URL.
    fn ocsp(&self, fault: Fault) -> (Option<OcspResponder>, String) {
        if fault == Fault::Down {
            return (None, unreachable_url("/ocsp").unwrap());
        }
        let responder = self
            .runtime
            .block_on(OcspResponder::start(&[], None))
            .unwrap();
        responder.add_ca(&self.intermediate).unwrap();
        let behaviour = match fault {
            Fault::OtherSerial => Behaviour {
                cert_id: CertIdAnswer::OtherSerial,
                ..Behaviour::default()
            },
            Fault::OtherIssuer => Behaviour {
                cert_id: CertIdAnswer::OtherIssuer,
                ..Behaviour::default()
            },
            Fault::Stale => Behaviour {
                stale: true,
                ..Behaviour::default()
            },
            _ => Behaviour::default(),
        };
        responder.set_behaviour(behaviour);
        responder.server.set_faults(server_faults(fault));
        let url = responder.url();
        (Some(responder), url)
    }

    /// A CRL server whose `/leaf.crl` behaves as `fault` says about `serial` (None for `Down`),
    /// and the CRL's URL.
    fn crl(&self, fault: Fault) -> (Option<FileServer>, String) {
        if fault == Fault::Down {
            return (None, unreachable_url("/leaf.crl").unwrap());
        }
        let server = self.runtime.block_on(FileServer::start(None)).unwrap();
        server.server.set_faults(server_faults(fault));
        let url = server.url("/leaf.crl");
        (Some(server), url)
    }

    /// Publishes what `fault` says about `serial` at the CRL server.
    fn publish_crl(&self, server: &FileServer, fault: Fault, serial: &[u8]) {
        let now = SystemTime::now();
        let crl = match fault {
            Fault::Revoked => CrlBuilder::default()
                .revoke(Entry::new(serial, Some(Reason::KeyCompromise)))
                .sign(&self.intermediate),
            Fault::OtherCa => {
                let other = TestCa::root("another CA").unwrap();
                CrlBuilder::default().sign(&other)
            }
            Fault::OtherKey => CrlBuilder::default()
                .sign_with(&self.intermediate, &Key::generate(KeySpec::Ec256).unwrap()),
            Fault::Stale => CrlBuilder {
                this_update: now - Duration::from_secs(2 * 86_400),
                next_update: Some(now - Duration::from_secs(86_400)),
                ..CrlBuilder::default()
            }
            .sign(&self.intermediate),
            _ => CrlBuilder::default().sign(&self.intermediate),
        };
        server.files.put("/leaf.crl", crl.unwrap());
    }
}

/// The http server's faults for `fault` (the same for OCSP and CRL servers).
fn server_faults(fault: Fault) -> Faults {
    match fault {
        Fault::Slow => Faults {
            delay: Some(Duration::from_secs(10)),
            ..Faults::default()
        },
        Fault::Garbage => Faults {
            body: Some(b"\x30\x03garbage, not DER".to_vec()),
            ..Faults::default()
        },
        Fault::Html => Faults {
            body: Some(b"<html><body>Sign in to the network</body></html>".to_vec()),
            content_type: Some("text/html".into()),
            ..Faults::default()
        },
        Fault::Http500 => Faults {
            status: Some(500),
            ..Faults::default()
        },
        _ => Faults::default(),
    }
}

fn status(fault: Fault) -> Status {
    match fault {
        Fault::Revoked => Status::revoked(
            SystemTime::now() - Duration::from_secs(600),
            Some(Reason::KeyCompromise),
        ),
        _ => Status::Good,
    }
}

/// `success`, `revoked` or `unknown`, from the verifier's reason.
fn verdict(success: bool, reason: &str) -> &'static str {
    if success {
        "success"
    } else if reason.starts_with("revoked") {
        "revoked"
    } else if reason.starts_with("revocation status is unknown") {
        "unknown"
    } else {
        "other failure"
    }
}

/// Runs every row of `group` through notation and through the verifier alone.
fn run_group(group: Group) {
    let world = World::new();
    let mut failures = Vec::new();
    for (i, row) in rows().into_iter().enumerate() {
        if row.group != group {
            continue;
        }
        let tag = format!("row{i}");
        let (ocsp, crl) = match row.sources {
            Sources::Ocsp(o) => (Some(o), None),
            Sources::Crl(c) => (None, Some(c)),
            Sources::Both(o, c) => (Some(o), Some(c)),
        };
        // The servers live until the end of the row.
        let ocsp = ocsp.map(|fault| (fault, world.ocsp(fault)));
        let crl = crl.map(|fault| (fault, world.crl(fault)));
        let options = CertOptions {
            ocsp_urls: ocsp.iter().map(|(_, (_, url))| url.clone()).collect(),
            crl_urls: crl.iter().map(|(_, (_, url))| url.clone()).collect(),
            ..CertOptions::default()
        };
        let leaf = world
            .intermediate
            .issue(&format!("fault matrix leaf {i}"), &options)
            .unwrap();
        if let Some((fault, (Some(responder), _))) = &ocsp {
            responder.set_status(&leaf.serial, status(*fault));
        }
        if let Some((fault, (Some(server), _))) = &crl {
            world.publish_crl(server, *fault, &leaf.serial);
        }
        let key = local_key(&world.env, &tag, &leaf, &world.intermediate, &world.root);
        let artifact = signed_artifact(
            &world.env,
            &world.registry,
            REPOSITORY,
            &tag,
            &key,
            &ENVELOPE_ATTRIBUTES,
        );
        envelope_policy(
            &world.env,
            &world.registry.repository(REPOSITORY),
            STORE,
            row.level,
            &["*"],
        );

        let started = Instant::now();
        let printed = world
            .env
            .notation(&["verify", "-v", &artifact.by_digest()])
            .unwrap();
        let notation_time = started.elapsed();
        let chain = vec![
            leaf.der.clone(),
            world.intermediate.der().to_vec(),
            world.root.der().to_vec(),
        ];
        let alone = verify(
            &request(&chain, &["*"], &[REVOCATION]),
            REVOCATION,
            &world.verifier_env,
        );

        let symptom = row.symptom;
        let got = verdict(alone.success, &alone.reason);
        let names_fix = row.result == "success" || alone.reason.contains(row.fix);
        if got != row.result || !names_fix {
            failures.push(format!(
                "{symptom}: the verifier alone answered {got} (want {}, naming {:?}): {}",
                row.result, row.fix, alone.reason
            ));
        }
        let output = format!("{}{}", printed.stdout, printed.stderr);
        // Under permissive and audit notation accepts and prints the failure as a warning.
        let logged = row.result == "success"
            || row.level == "strict"
            || output.contains("Warning: revocation was set to \"log\" and failed");
        if printed.success() != row.notation_succeeds() || !output.contains(row.fix) || !logged {
            failures.push(format!(
                "{symptom}: notation verify exited {:?} (want {}, naming {:?}): {output}",
                printed.code(),
                if row.notation_succeeds() { "0" } else { "1" },
                row.fix
            ));
        }
        for (what, took) in [
            ("notation verify", notation_time),
            ("the verifier", alone.elapsed),
        ] {
            if took > row.budget() {
                failures.push(format!(
                    "{symptom}: {what} took {took:?}, over the {:?} budget",
                    row.budget()
                ));
            }
        }
        eprintln!(
            "{symptom}: notation {:?} in {notation_time:?}, verifier {got} in {:?}",
            printed.code(),
            alone.elapsed
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn ocsp_faults_end_with_their_result_and_fix_within_the_deadline() {
    run_group(Group::Ocsp);
}

#[test]
fn crl_faults_end_with_their_result_and_fix_within_the_deadline() {
    run_group(Group::Crl);
}

#[test]
fn fallback_to_crl_and_the_policy_levels() {
    run_group(Group::FallbackAndLevels);
}

#[test]
fn the_docs_table_is_the_tested_matrix() {
    let rows = rows()
        .into_iter()
        .map(|row| format!("| {} | `{}` | {} |", row.symptom, row.result, row.fix));
    doc_table::assert_matches("fault-matrix.md", "# Verifier fault matrix", rows);
}
