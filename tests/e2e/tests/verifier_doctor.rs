//! `notation-akv-verifier doctor` on artifacts signed with envelopes that name `akv-verifier`,
//! beside the real `notation verify` (1.3.2): for each way a verification fails, the doctor marks
//! the right step ✗, exits 1, and notation agrees that verification fails; on a good artifact
//! every step passes and both succeed.
//!
//! The doctor reads the signatures with the real oras CLI from the local registry, and the trust
//! policy and trust store notation was given (`NOTATION_CONFIG`).

mod verifier_support;

use std::time::Duration;

use akv_test_responders::ocsp::{Behaviour, OcspResponder};
use akv_test_responders::pki::TestCa;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, locate};
use serde_json::{Value, json};
use verifier_support::*;

const KEY_ID: &str = "https://myvault.vault.azure.net/keys/signer/0123456789abcdef0123456789abcdef";
const PIN: &str = "akv.key:https://myvault.vault.azure.net/keys/signer";
const STORE: &str = "doctor";

/// An artifact signed by a good leaf and one by a revoked leaf, under one OCSP responder, with
/// notation, its trust store and the verifier plugin set up.
struct Setup {
    /// Runs the responder.
    _runtime: tokio::runtime::Runtime,
    responder: OcspResponder,
    registry: Registry,
    env: NotationEnv,
    good: Artifact,
    revoked: Artifact,
    /// A root that anchors nothing here, in its own trust store.
    stranger_store: String,
}

impl Setup {
    fn new() -> Setup {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let responder = runtime.block_on(OcspResponder::start(&[], None)).unwrap();
        let registry = Registry::start().unwrap();
        let env = NotationEnv::new().unwrap();
        env.install_plugin(&locate::workspace_binary("notation-akv-verifier").unwrap())
            .unwrap();
        let pki = OcspPki::new(&responder, "doctor");
        let attributes = [
            ("io.cncf.notary.verificationPlugin", "akv-verifier"),
            ("io.github.notation-akv.keyId", KEY_ID),
        ];
        let (good_key, revoked_key) = pki.keys(&env);
        let good = signed_artifact(&env, &registry, "envelope", "good", &good_key, &attributes);
        let revoked = signed_artifact(
            &env,
            &registry,
            "envelope",
            "revoked",
            &revoked_key,
            &attributes,
        );
        let root = &pki.root;
        env.add_ca_cert(STORE, &env.write_file("root.crt", root.pem()).unwrap())
            .unwrap();
        let stranger = TestCa::root("stranger root").unwrap();
        env.add_ca_cert(
            "stranger",
            &env.write_file("stranger.crt", stranger.pem()).unwrap(),
        )
        .unwrap();
        Setup {
            _runtime: runtime,
            responder,
            registry,
            env,
            good,
            revoked,
            stranger_store: "stranger".into(),
        }
    }

    /// One strict statement for `scope` with `store` and `identities`, imported into notation.
    fn policy(&self, scope: &str, store: &str, identities: &[&str]) {
        self.env
            .import_trust_policy(&json!({
                "version": "1.0",
                "trustPolicies": [{
                    "name": "doctor",
                    "registryScopes": [scope],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": [format!("ca:{store}")],
                    "trustedIdentities": identities,
                }]
            }))
            .unwrap();
    }

    fn scope(&self) -> String {
        self.registry.repository("envelope")
    }

    /// `notation verify` with `config` as `--plugin-config`: did it succeed?
    fn notation_verifies(&self, artifact: &Artifact, config: &[&str]) -> bool {
        let mut args = vec!["verify".to_string()];
        for pair in config {
            args.extend(["--plugin-config".to_string(), pair.to_string()]);
        }
        args.push(artifact.by_digest());
        self.env.notation(&args).unwrap().success()
    }

    /// `doctor` on `artifact` (with `--json` when asked).
    fn doctor_run(&self, artifact: &Artifact, config: &[&str], json: bool) -> std::process::Output {
        self.doctor_args(artifact, config, json, &[])
    }

    /// `doctor` with `extra` arguments too.
    fn doctor_args(
        &self,
        artifact: &Artifact,
        config: &[&str],
        json: bool,
        extra: &[&str],
    ) -> std::process::Output {
        let mut args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        args.splice(
            0..0,
            [
                "doctor".to_string(),
                "--artifact".to_string(),
                artifact.by_digest(),
                "--plain-http".to_string(),
            ],
        );
        if json {
            args.push("--json".to_string());
        }
        for pair in config {
            args.extend(["--plugin-config".to_string(), pair.to_string()]);
        }
        self.run_verifier(&args)
    }

    /// `doctor --json` on `artifact`: (exit code, report).
    fn doctor(&self, artifact: &Artifact, config: &[&str]) -> (i32, Value) {
        let out = self.doctor_run(artifact, config, true);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "doctor printed no JSON ({e}): {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }

    /// Runs the verifier binary with `args` in a private environment that sees notation's
    /// config folder and has oras on PATH.
    fn run_verifier(&self, args: &[String]) -> std::process::Output {
        let oras = locate::tool("oras").expect("oras: run tests/provision.sh");
        let path = format!(
            "{}:{}",
            oras.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let root = self.env.root().join("doctor-home");
        let mut command =
            std::process::Command::new(locate::workspace_binary("notation-akv-verifier").unwrap());
        command
            .args(args)
            .env_clear()
            .envs(verifier_env(&root))
            .env("PATH", path)
            .env("NOTATION_CONFIG", self.env.config_dir())
            .env("DOCKER_CONFIG", self.env.root().join("docker"))
            .stdin(std::process::Stdio::null());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(command.output());
        });
        rx.recv_timeout(Duration::from_secs(120))
            .expect("the verifier finishes within 2 minutes")
            .expect("the verifier runs")
    }
}

/// The titles of the steps marked ✗ (`signature N: title` for per-signature steps).
fn failed(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "fail")
        .map(|s| match s["signature"].as_u64() {
            Some(n) => format!("signature {n}: {}", s["title"].as_str().unwrap()),
            None => s["title"].as_str().unwrap().to_string(),
        })
        .collect()
}

fn step<'a>(report: &'a Value, title: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == title)
        .unwrap_or_else(|| panic!("no step {title}: {report}"))
}

fn text(step: &Value) -> String {
    format!("{} {}", step["details"], step["fixes"])
}

#[test]
fn doctor_marks_policy_trust_store_and_identity_failures() {
    let s = Setup::new();

    // A good artifact: every step passes, and notation agrees.
    s.policy(&s.scope(), STORE, &[PIN]);
    let (code, report) = s.doctor(&s.good, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(failed(&report), Vec::<String>::new(), "{report:#}");
    assert!(
        text(step(&report, "trust policy")).contains("exactly"),
        "{report:#}"
    );
    let envelope = text(step(&report, "envelope"));
    assert!(
        envelope.contains("application/jose+json")
            && envelope.contains("notary.x509")
            && envelope.contains("names verification plugin akv-verifier")
            && envelope.contains("signing time")
            && envelope.contains("timestamp: none"),
        "{envelope}"
    );
    assert!(text(step(&report, "chain")).contains("anchored by ca:doctor root.crt"));
    assert!(text(step(&report, "trusted identity")).contains(&format!("✓ {PIN}")));
    assert!(s.notation_verifies(&s.good, &[]));

    // Outside every scope.
    s.policy(&s.registry.repository("elsewhere"), STORE, &[PIN]);
    let (code, report) = s.doctor(&s.good, &[]);
    assert_eq!(code, 1);
    assert_eq!(failed(&report), ["trust policy"], "{report:#}");
    assert!(text(step(&report, "trust policy")).contains("outside every registryScopes"));
    assert!(!s.notation_verifies(&s.good, &[]));
    // The same as text: one mark per step, the fix under it, the verdict last.
    let out = s.doctor_run(&s.good, &[], false);
    assert_eq!(out.status.code(), Some(1));
    let text_report = String::from_utf8(out.stdout).unwrap();
    assert!(
        text_report.contains("✗ trust policy\n")
            && text_report.contains("    fix: ")
            && text_report.ends_with("verification would FAIL\n"),
        "{text_report}"
    );
    // --policy explains with another policy file than the one notation has.
    let file = s
        .env
        .write_file(
            "in-scope.json",
            json!({"version": "1.0", "trustPolicies": [{
                "name": "file", "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": [format!("ca:{STORE}")], "trustedIdentities": [PIN],
            }]})
            .to_string(),
        )
        .unwrap();
    let out = s.doctor_args(&s.good, &[], false, &["--policy", file.to_str().unwrap()]);
    let text_report = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text_report}");
    assert!(text_report.contains("\"*\" scope"), "{text_report}");

    // A trust store whose root anchors nothing of the chain.
    s.policy(&s.scope(), &s.stranger_store, &[PIN]);
    let (code, report) = s.doctor(&s.good, &[]);
    assert_eq!(code, 1);
    assert_eq!(failed(&report), ["signature 1: chain"], "{report:#}");
    assert!(
        text(step(&report, "chain")).contains("notation cert add --type ca"),
        "{report:#}"
    );
    assert!(!s.notation_verifies(&s.good, &[]));

    // An identity that does not match, next to one that is malformed.
    let other = "akv.key:https://myvault.vault.azure.net/keys/other";
    s.policy(&s.scope(), STORE, &[other]);
    let (code, report) = s.doctor(&s.good, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        failed(&report),
        ["signature 1: trusted identity"],
        "{report:#}"
    );
    let identity = text(step(&report, "trusted identity"));
    assert!(identity.contains(&format!("✗ {other}")), "{identity}");
    assert!(!s.notation_verifies(&s.good, &[]));
}

#[test]
fn doctor_marks_revocation_bundle_and_horizon_failures() {
    let s = Setup::new();
    s.policy(&s.scope(), STORE, &["*"]);

    // A revoked leaf: the revocation step names the source and the reason.
    let (code, report) = s.doctor(&s.revoked, &[]);
    assert_eq!(code, 1);
    assert_eq!(failed(&report), ["signature 1: revocation"], "{report:#}");
    let revocation = text(step(&report, "revocation"));
    assert!(
        revocation.contains("keyCompromise") && revocation.contains(&s.responder.url()),
        "{revocation}"
    );
    assert!(!s.notation_verifies(&s.revoked, &[]));

    // A certificate inside the expiry horizon (the leaves live a year).
    let horizon = ["expiry_horizon=400d"];
    let (code, report) = s.doctor(&s.good, &horizon);
    assert_eq!(code, 1);
    assert_eq!(
        failed(&report),
        ["signature 1: expiry horizon"],
        "{report:#}"
    );
    assert!(text(step(&report, "expiry horizon")).contains("inside the expiry horizon of 400d"));
    assert!(!s.notation_verifies(&s.good, &horizon));

    // An offline bundle whose OCSP responses have expired.
    s.responder.set_behaviour(Behaviour {
        validity: Some(Duration::from_secs(2)),
        ..Behaviour::default()
    });
    let fetched = s.run_verifier(&[
        "bundle".into(),
        "fetch".into(),
        "--artifact".into(),
        s.good.by_digest(),
        "--plain-http".into(),
        "--out".into(),
        s.env.root().join("bundle").display().to_string(),
    ]);
    assert!(
        fetched.status.success(),
        "{}{}",
        String::from_utf8_lossy(&fetched.stdout),
        String::from_utf8_lossy(&fetched.stderr)
    );
    std::thread::sleep(Duration::from_secs(3));
    let bundle = s.env.root().join("bundle");
    let offline = [
        &format!("offline_bundle={}", bundle.display()) as &str,
        "offline_mode=only",
        "clock_skew=0",
        // The earlier runs cached good network answers; only the bundle may answer here.
        "cache=false",
    ];
    let (code, report) = s.doctor(&s.good, &offline);
    assert_eq!(code, 1);
    assert_eq!(failed(&report), ["signature 1: revocation"], "{report:#}");
    let revocation = text(step(&report, "revocation"));
    assert!(
        revocation.contains("stale")
            && revocation.contains("offline bundle")
            && revocation.contains("bundle fetch"),
        "{revocation}"
    );
    assert!(!s.notation_verifies(&s.good, &offline));
}
