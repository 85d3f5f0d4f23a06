//! Signer benchmark (prints figures; not a timed test). Run with
//! `cargo bench -p notation-akv --bench signer` (needs `tests/provision.sh` for notation/oras
//! and the registry).
//!
//! Prints, in one run against the local test vault:
//! 1. HTTP requests per signature (describe-key + generate-signature, as notation runs them),
//!    cold (empty cache) and warm, split into authenticated vault calls, unauthenticated challenge
//!    probes and token requests;
//! 2. whole-process wall time of each plugin command (median and p90);
//! 3. `notation sign` through the plugin vs. with a local key of the same spec, and the ratio.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::{
    CredentialKind, RequestRecord, RouteKind, SharedVault, TestVault, run_plugin,
    shared_with_fixtures,
};
use base64::Engine;
use notation_akv_e2e::{NotationEnv, Registry};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

struct Bench {
    vault: &'static TestVault,
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Bench {
    fn run(&self, command: &str, request: &Value) -> Duration {
        let out = run_plugin(
            Path::new(env!("CARGO_BIN_EXE_notation-akv")),
            command,
            &self.env,
            request.to_string().as_bytes(),
            Duration::from_secs(60),
        );
        assert!(
            out.exit_code == 0,
            "{command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.elapsed
    }

    fn clear_cache(&self) {
        let _ = std::fs::remove_dir_all(self.home.path().join(".cache"));
    }
}

fn describe(id: &str) -> Value {
    json!({"contractVersion":"1.0","keyId":id})
}

fn sign(id: &str) -> Value {
    let payload = base64::engine::general_purpose::STANDARD.encode(b"eyJhbGciOiJFUzI1NiJ9.e30");
    json!({"contractVersion":"1.0","keyId":id,"keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":payload})
}

fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:7.1} ms   p90 {:7.1} ms   (n={})",
        ms(samples[samples.len() / 2]),
        ms(samples[(samples.len() * 9 / 10).min(samples.len() - 1)]),
        samples.len()
    )
}

fn split(records: &[RequestRecord]) -> (usize, usize, usize) {
    let vault = records
        .iter()
        .filter(|r| r.route != RouteKind::Token && r.bearer)
        .count();
    let challenges = records
        .iter()
        .filter(|r| r.route != RouteKind::Token && !r.bearer)
        .count();
    let tokens = records
        .iter()
        .filter(|r| r.route == RouteKind::Token)
        .count();
    (vault, challenges, tokens)
}

fn main() {
    let SharedVault { vault, fixtures } = shared_with_fixtures();
    let home = tempfile::tempdir().expect("temp home");
    let mut env = vault.credential_env(CredentialKind::ClientSecret);
    env.push((
        "NOTATION_AKV_INSECURE_SKIP_CHALLENGE_RESOURCE_CHECK".into(),
        "1".into(),
    ));
    env.push(("HOME".into(), home.path().display().to_string()));
    let bench = Bench { vault, home, env };
    let id = fixtures
        .get(&names::ca_issued(KeySpec::Ec256))
        .version
        .id
        .clone();

    println!("== vault requests per signature (describe-key + generate-signature) ==");
    for (label, cold) in [("cold", true), ("warm", false)] {
        if cold {
            bench.clear_cache();
        }
        bench.vault.clear_requests();
        bench.run("describe-key", &describe(&id));
        bench.run("generate-signature", &sign(&id));
        let records = bench.vault.requests();
        let (vault_calls, challenges, tokens) = split(&records);
        let routes: Vec<String> = records
            .iter()
            .filter(|r| r.bearer)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        println!(
            "{label}: {vault_calls} vault request(s) [{}], plus {challenges} auth-challenge probe(s) and {tokens} token request(s)",
            routes.join(", ")
        );
    }

    println!("\n== whole-process time per plugin command (release build, warm OS caches) ==");
    let metadata: Vec<Duration> = (0..RUNS)
        .map(|_| bench.run("get-plugin-metadata", &json!({})))
        .collect();
    println!("get-plugin-metadata        {}", stats(metadata));
    let cold_describe: Vec<Duration> = (0..RUNS)
        .map(|_| {
            bench.clear_cache();
            bench.run("describe-key", &describe(&id))
        })
        .collect();
    println!("describe-key (cold cache)  {}", stats(cold_describe));
    let warm_describe: Vec<Duration> = (0..RUNS)
        .map(|_| bench.run("describe-key", &describe(&id)))
        .collect();
    println!("describe-key (warm cache)  {}", stats(warm_describe));
    let cold_sign: Vec<Duration> = (0..RUNS)
        .map(|_| {
            bench.clear_cache();
            bench.run("generate-signature", &sign(&id))
        })
        .collect();
    println!("generate-signature (cold)  {}", stats(cold_sign));
    let warm_sign: Vec<Duration> = (0..RUNS)
        .map(|_| bench.run("generate-signature", &sign(&id)))
        .collect();
    println!("generate-signature (warm)  {}", stats(warm_sign));

    println!("\n== notation sign: plugin vs local key (RSA-2048, JWS) ==");
    let rsa_id = fixtures
        .get(&names::ca_issued(KeySpec::Rsa2048))
        .version
        .id
        .clone();
    let registry = Registry::start().expect("registry (run tests/provision.sh)");
    let mut notation = NotationEnv::new().expect("notation (run tests/provision.sh)");
    for (k, v) in &bench.env {
        if k != "HOME" {
            notation.set_env(k, v);
        }
    }
    notation
        .install_plugin(std::path::Path::new(env!("CARGO_BIN_EXE_notation-akv")))
        .expect("plugin installs");
    notation
        .generate_test_key("local.example", true)
        .expect("local test key");
    let artifact = notation
        .push_artifact(&registry, "bench", "v1", b"benchmark artifact")
        .expect("push");
    let reference = artifact.by_digest();
    let time = |args: &[&str]| {
        let started = Instant::now();
        notation.notation_ok(args).expect("notation sign");
        started.elapsed()
    };
    // One untimed round each: the plugin's cache and notation's own caches get warm.
    time(&["sign", "--plugin", "akv", "--id", &rsa_id, &reference]);
    time(&["sign", &reference]);
    let mut plugin = Vec::new();
    let mut local = Vec::new();
    for _ in 0..RUNS {
        plugin.push(time(&[
            "sign", "--plugin", "akv", "--id", &rsa_id, &reference,
        ]));
        local.push(time(&["sign", &reference]));
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (p, l) = (median(plugin.clone()), median(local.clone()));
    println!("notation sign --plugin akv (warm)  {}", stats(plugin));
    println!("notation sign (local key)          {}", stats(local));
    println!(
        "ratio plugin/local (medians): {:.2}",
        p.as_secs_f64() / l.as_secs_f64()
    );
}
