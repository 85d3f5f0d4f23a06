//! Benchmark: revocation checking by `akv-verifier` (through the protocol, cold and warm cache)
//! beside `notation verify` with notation 1.3.2's native revocation, against the same OCSP
//! responder and CRL server on 127.0.0.1, in one run. Prints a table; asserts only what must hold
//! (warm runs of our verifier make no network request). Run it with `tests/bench-verifier.sh`.
//!
//! `notation verify` times include the registry round trips and envelope checks, so a second
//! notation row with `override.revocation: skip` gives the baseline; the difference is what
//! notation's revocation costs.

mod verifier_support;

use std::time::{Duration, Instant};

use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use notation_akv_e2e::{NotationEnv, Registry, trust_policy};
use verifier_support::*;

const WARM_RUNS: usize = 11;

/// `notation <args>` in `env`'s world, timed precisely (the harness polls every 20 ms, too coarse
/// for a benchmark); the variables are the harness's isolation set.
fn timed_notation(env: &NotationEnv, args: &[&str]) -> Duration {
    let root = env.root();
    let start = Instant::now();
    let output = std::process::Command::new(notation_akv_e2e::locate::tool("notation").unwrap())
        .args(args)
        .current_dir(env.work_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root.join("home"))
        .env("XDG_CONFIG_HOME", root.join("xdg-config"))
        .env("XDG_CACHE_HOME", root.join("xdg-cache"))
        .env("XDG_DATA_HOME", root.join("xdg-data"))
        .env("NOTATION_CONFIG", env.config_dir())
        .env("NOTATION_CACHE", root.join("cache"))
        .env("DOCKER_CONFIG", root.join("docker"))
        .env("TMPDIR", root.join("tmp"))
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "notation {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

#[test]
fn verifier_cold_and_warm_beside_notation_native() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ocsp = runtime.block_on(OcspResponder::start(&[], None)).unwrap();
    let files = runtime.block_on(FileServer::start(None)).unwrap();
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let scratch = tempfile::tempdir().unwrap();

    let mut rows = Vec::new();
    for method in ["OCSP", "CRL"] {
        let root = TestCa::root(&format!("bench root {method}")).unwrap();
        let pointer = |tag: &str| match method {
            "OCSP" => CertOptions::ocsp(ocsp.url()),
            _ => CertOptions::crl(files.url(&format!("/{tag}.crl"))),
        };
        let intermediate = root
            .intermediate("bench intermediate", &pointer("root"))
            .unwrap();
        let leaf = intermediate.issue("bench leaf", &pointer("int")).unwrap();
        ocsp.add_ca(&root).unwrap();
        ocsp.add_ca(&intermediate).unwrap();
        ocsp.set_status(intermediate.serial(), Status::Good);
        ocsp.set_status(&leaf.serial, Status::Good);
        files
            .files
            .put("/root.crl", CrlBuilder::default().sign(&root).unwrap());
        files.files.put(
            "/int.crl",
            CrlBuilder::default().sign(&intermediate).unwrap(),
        );
        let requests = || ocsp.requests() + files.server.requests();

        let chain = vec![
            leaf.der.clone(),
            intermediate.der().to_vec(),
            root.der().to_vec(),
        ];
        let name = format!("bench-{}", method.to_ascii_lowercase());
        let signer = register_local_key(&env, &name, &leaf.key.pkcs8_pem(), chain.clone());
        env.add_ca_cert(&name, &signer.root_pem_path).unwrap();
        let artifact = env
            .push_artifact(&registry, "bench", &name, name.as_bytes())
            .unwrap();
        env.notation_ok(&["sign", "--key", &name, &artifact.by_digest()])
            .unwrap();

        // notation, native revocation (CRLs cached under NOTATION_CACHE; OCSP never cached).
        let mut policy = trust_policy(&registry.repository("bench"), &name, &["*"]);
        env.import_trust_policy(&policy).unwrap();
        let mut native = |label: &str| {
            let before = requests();
            let cold = timed_notation(&env, &["verify", &artifact.by_digest()]);
            let cold_requests = requests() - before;
            let mut warm = Vec::new();
            let before = requests();
            for _ in 0..WARM_RUNS {
                warm.push(timed_notation(&env, &["verify", &artifact.by_digest()]));
            }
            let warm_requests = (requests() - before) as f64 / WARM_RUNS as f64;
            rows.push(format!(
                "| {method} | {label} | {} | {cold_requests} | {} | {warm_requests:.1} |",
                ms(cold),
                ms(median(warm))
            ));
        };
        native("notation verify, native revocation");
        policy["trustPolicies"][0]["signatureVerification"]["override"] =
            serde_json::json!({"revocation": "skip"});
        env.import_trust_policy(&policy).unwrap();
        native("notation verify, revocation skipped (baseline)");

        // Ours, through the protocol: a fresh cache, then warm processes reusing it.
        let verifier_env = verifier_env(&scratch.path().join(&name));
        let body = request(&chain, &["*"], &[IDENTITY, REVOCATION]);
        let before = requests();
        let cold = verify(&body, REVOCATION, &verifier_env);
        assert!(cold.success, "{}", cold.reason);
        let cold_requests = requests() - before;
        let before = requests();
        let mut warm = Vec::new();
        for _ in 0..WARM_RUNS {
            let run = verify(&body, REVOCATION, &verifier_env);
            assert!(run.success, "{}", run.reason);
            warm.push(run.elapsed);
        }
        let warm_requests = requests() - before;
        rows.push(format!(
            "| {method} | akv-verifier verify-signature (process) | {} | {cold_requests} | {} | {:.1} |",
            ms(cold.elapsed),
            ms(median(warm)),
            warm_requests as f64 / WARM_RUNS as f64
        ));
        assert_eq!(
            warm_requests, 0,
            "{method}: warm runs must be answered from the cache"
        );
        assert_eq!(
            cold_requests, 2,
            "{method}: one fetch per non-root certificate when cold"
        );
    }
    println!(
        "\nverifier benchmark ({} build, median of {WARM_RUNS} warm runs, servers on 127.0.0.1)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("| method | what | cold ms | cold requests | warm ms | warm requests/run |");
    println!("|---|---|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
}
