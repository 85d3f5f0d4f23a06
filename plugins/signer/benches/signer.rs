//! Signer benchmark (prints figures; not a timed test). Run with
//! `cargo bench -p notation-akv --bench signer` (needs `tests/provision.sh` for notation/oras
//! and the registry).
//!
//! Prints, in one run against the local test vault, every time as wall *and* CPU (user + sys):
//! 1. HTTP requests per signature (describe-key + generate-signature, as notation runs them),
//!    cold (empty cache) and warm, split into authenticated vault calls, unauthenticated challenge
//!    probes and token requests;
//! 2. whole-process time of each plugin command (median and p90), the plugin's peak RSS and its
//!    binary size;
//! 3. `notation sign` through the plugin vs. with a local key holding the same key and chain
//!    (RSA-3072 and EC-256; RAW and envelope mode), interleaved, and the ratios of the medians.
//!
//! The plugin reaches the vault under its Key Vault host name through the test vault's `CONNECT`
//! proxy (`akv_test_vault::hosts`), which runs on a thread of this process: the CPU figures are
//! the plugin's own, and its wall time includes one loopback proxy round trip per connection.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::{
    CredentialKind, Fixtures, PluginRun, RequestRecord, RouteKind, SharedVault, TestVault,
    run_plugin, shared_with_fixtures,
};
use base64::Engine;
use notation_akv_e2e::bench::{self, Samples, ratio};
use notation_akv_e2e::{NotationEnv, Registry};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 15;

struct Bench {
    vault: &'static TestVault,
    /// The plugin builds measured (see `bench::builds`); the first is the workspace's.
    builds: Vec<(&'static str, PathBuf)>,
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Bench {
    fn run(&self, command: &str, request: &Value) -> PluginRun {
        self.run_build(&self.builds[0].1, command, request)
    }

    fn run_build(&self, binary: &Path, command: &str, request: &Value) -> PluginRun {
        self.run_build_env(binary, &self.env, command, request)
    }

    fn run_build_env(
        &self,
        binary: &Path,
        env: &[(String, String)],
        command: &str,
        request: &Value,
    ) -> PluginRun {
        let out = run_plugin(
            binary,
            command,
            env,
            request.to_string().as_bytes(),
            Duration::from_secs(60),
        );
        assert!(
            out.exit_code == 0,
            "{command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn clear_cache(&self) {
        let _ = std::fs::remove_dir_all(self.home.path().join(".cache"));
    }
}

/// The bench's environment with the roots a Debian host reads by default: the ca-certificates
/// bundle as SSL_CERT_FILE and a copy of /etc/ssl/certs as SSL_CERT_DIR (what openssl-probe finds
/// when neither is set), each with the test vault's CA added.
fn debian_like_roots(bench: &Bench) -> Vec<(String, String)> {
    let root = bench.home.path().join("system-roots");
    let dir = root.join("certs");
    std::fs::create_dir_all(&dir).expect("roots dir");
    let test_ca = std::fs::read(bench.vault.ca_file()).expect("test CA");
    let mut bundle = std::fs::read("/etc/ssl/certs/ca-certificates.crt")
        .expect("Debian's ca-certificates bundle");
    bundle.extend_from_slice(&test_ca);
    let file = root.join("ca-certificates.crt");
    std::fs::write(&file, bundle).expect("bundle");
    for entry in std::fs::read_dir("/etc/ssl/certs")
        .expect("/etc/ssl/certs")
        .flatten()
    {
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "pem") {
            std::fs::copy(&path, dir.join(entry.file_name())).expect("copy a root");
        }
    }
    std::fs::write(dir.join("akv-test-vault.pem"), &test_ca).expect("test CA copy");
    let mut env: Vec<(String, String)> = bench
        .env
        .iter()
        .filter(|(k, _)| k != "SSL_CERT_FILE")
        .cloned()
        .collect();
    env.push(("SSL_CERT_FILE".into(), file.display().to_string()));
    env.push(("SSL_CERT_DIR".into(), dir.display().to_string()));
    env
}

fn describe(id: &str) -> Value {
    json!({"contractVersion":"1.0","keyId":id})
}

fn sign(id: &str) -> Value {
    let payload = base64::engine::general_purpose::STANDARD.encode(b"eyJhbGciOiJFUzI1NiJ9.e30");
    json!({"contractVersion":"1.0","keyId":id,"keySpec":"EC-256","hashAlgorithm":"SHA-256","payload":payload})
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
    env.push(("HOME".into(), home.path().display().to_string()));
    let builds = bench::builds(
        PathBuf::from(env!("CARGO_BIN_EXE_notation-akv")),
        "notation-akv",
    );
    let bench = Bench {
        vault,
        builds,
        home,
        env,
    };
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

    println!(
        "\n== whole-process cost per plugin command (release build, warm OS caches; cpu = user+sys) =="
    );
    // What a Debian host trusts by default (the ca-certificates bundle and /etc/ssl/certs, both
    // read when no SSL_CERT_* variable is set), with the test vault's CA added to both.
    let system_roots = debian_like_roots(&bench);
    type Command<'a> = Box<dyn Fn(&Path) -> PluginRun + 'a>;
    let rows: [(&str, Command); 6] = [
        (
            "get-plugin-metadata",
            Box::new(|b| bench.run_build(b, "get-plugin-metadata", &json!({}))),
        ),
        (
            "describe-key (cold cache)",
            Box::new(|b| {
                bench.clear_cache();
                bench.run_build(b, "describe-key", &describe(&id))
            }),
        ),
        (
            "describe-key (warm cache)",
            Box::new(|b| bench.run_build(b, "describe-key", &describe(&id))),
        ),
        (
            "generate-signature (cold)",
            Box::new(|b| {
                bench.clear_cache();
                bench.run_build(b, "generate-signature", &sign(&id))
            }),
        ),
        (
            "generate-signature (warm)",
            Box::new(|b| bench.run_build(b, "generate-signature", &sign(&id))),
        ),
        (
            "generate-signature (warm, system roots)",
            Box::new(|b| bench.run_build_env(b, &system_roots, "generate-signature", &sign(&id))),
        ),
    ];
    for (label, command) in &rows {
        // The builds take turns, run by run, so they see the same machine load.
        let mut samples = vec![Samples::default(); bench.builds.len()];
        for _ in 0..RUNS {
            for (i, (_, binary)) in bench.builds.iter().enumerate() {
                samples[i].push_run(&command(binary));
            }
        }
        for ((build, _), samples) in bench.builds.iter().zip(&samples) {
            println!("{:40} {}", format!("{label}{build}"), samples.summary());
        }
    }
    println!(
        "peak RSS of the plugin processes above: {:.1} MiB",
        bench::peak_rss_mib()
    );
    for (build, binary) in &bench.builds {
        println!("{}{build}", bench::binary_size(binary));
    }

    notation_sign_beside_local_key(&bench, fixtures);
}

/// `notation sign` through the plugin and with a local key that holds the same key and chain,
/// interleaved run by run so both see the same machine load.
fn notation_sign_beside_local_key(bench: &Bench, fixtures: &Fixtures) {
    println!(
        "\n== notation sign: through akv (warm) vs a local key with the same key and chain, {RUNS} interleaved runs =="
    );
    let registry = Registry::start().expect("registry (run tests/provision.sh)");
    let mut notation = NotationEnv::new().expect("notation (run tests/provision.sh)");
    for (k, v) in &bench.env {
        if k != "HOME" {
            notation.set_env(k, v);
        }
    }
    let specs = [KeySpec::Rsa3072, KeySpec::Ec256];
    let mut keys = Vec::new();
    for spec in specs {
        let chain = &fixtures.get(&names::ca_issued(spec)).chain;
        let name = format!("local-{spec:?}").to_ascii_lowercase();
        let key_path = notation
            .write_file(&format!("{name}.key"), chain.leaf().key().pkcs8_pem())
            .expect("key file");
        let pem: String = chain
            .der_chain()
            .iter()
            .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())))
            .collect();
        let cert_path = notation
            .write_file(&format!("{name}.crt"), pem)
            .expect("chain file");
        keys.push(json!({"name": name, "keyPath": key_path, "certPath": cert_path}));
    }
    std::fs::write(
        notation.config_dir().join("signingkeys.json"),
        json!({"keys": keys}).to_string(),
    )
    .expect("signingkeys.json");

    println!(
        "| key | mode | akv wall / cpu ms | local key wall / cpu ms | ratio wall | ratio cpu |"
    );
    println!("|---|---|---|---|---|---|");
    for (build, binary) in &bench.builds {
        notation.install_plugin(binary).expect("plugin installs");
        sign_rows(&notation, &registry, fixtures, build);
    }
}

/// One row per key spec and mode, with the plugin build installed in `notation`.
fn sign_rows(notation: &NotationEnv, registry: &Registry, fixtures: &Fixtures, build: &str) {
    for spec in [KeySpec::Rsa3072, KeySpec::Ec256] {
        let id = fixtures.get(&names::ca_issued(spec)).version.id.clone();
        let local = format!("local-{spec:?}").to_ascii_lowercase();
        for (mode, config) in [
            ("RAW", None),
            ("envelope", Some("verification_plugin=akv-verifier")),
        ] {
            let tag = format!("{local}-{mode}{}", build.len()).to_ascii_lowercase();
            let artifact = notation
                .push_artifact(registry, "bench", &tag, tag.as_bytes())
                .expect("push");
            let reference = artifact.by_digest();
            let mut through_akv = vec!["sign", "--plugin", "akv", "--id", &id];
            if let Some(config) = config {
                through_akv.extend(["--plugin-config", config]);
            }
            through_akv.push(&reference);
            let with_local_key = ["sign", "--key", &local, &reference];
            // One untimed round each: the plugin's cache and notation's own caches get warm.
            bench::notation(notation, &through_akv);
            bench::notation(notation, &with_local_key);
            let (mut akv, mut local_key) = (Samples::default(), Samples::default());
            for _ in 0..RUNS {
                akv.push_measured(&bench::notation(notation, &through_akv));
                local_key.push_measured(&bench::notation(notation, &with_local_key));
            }
            println!(
                "| {spec:?} | {mode}{build} | {} / {} | {} / {} | {:.2} | {:.2} |",
                bench::ms(akv.wall()).trim(),
                bench::ms(akv.cpu()).trim(),
                bench::ms(local_key.wall()).trim(),
                bench::ms(local_key.cpu()).trim(),
                ratio(akv.wall(), local_key.wall()),
                ratio(akv.cpu(), local_key.cpu()),
            );
        }
    }
}
