//! Benchmark: what revocation checking by `akv-verifier` costs, compared like for like with
//! notation 1.3.2's native revocation, against the same OCSP responder and CRL server on
//! 127.0.0.1, in one run. Run it with `tests/bench-verifier.sh [--release]`. It prints tables of
//! wall and CPU (user + sys) medians; it asserts only what must hold (warm runs of our verifier
//! make no network request, cold ones one fetch per non-root certificate).
//!
//! 1. The plugin process alone (`verify-signature` through the protocol), cold (empty cache)
//!    and warm, with the OCSP nonce off and on; then the plugin's peak RSS and binary size.
//! 2. Whole `notation verify` runs of the same chain (root → intermediate → leaf, each non-root
//!    pointing at the responders):
//!    - an envelope signature that names `akv-verifier` (notation runs the plugin, which does the
//!      identity and revocation checks),
//!    - a RAW signature (`notation sign --key`) checked by notation's native revocation,
//!    - the RAW signature with `revocation: skip`, the floor both stand on,
//!
//!    cold (every cache emptied before each run) and warm, and the ratio plugin ÷ native.

mod verifier_support;

use akv_test_responders::crl::CrlBuilder;
use akv_test_responders::http::FileServer;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa};
use notation_akv_e2e::bench::{self, Samples, ratio};
use notation_akv_e2e::{NotationEnv, Registry, locate};
use verifier_support::*;

const RUNS: usize = 11;
const REPOSITORY: &str = "bench";
const STORE: &str = "bench";

/// One method's chain, registered with notation, and the two signed artifacts.
struct Case {
    method: &'static str,
    chain: Vec<Vec<u8>>,
    envelope: String,
    raw: String,
}

fn policy(env: &NotationEnv, registry: &Registry, revocation_skipped: bool) {
    let mut verification = serde_json::json!({"level": "strict"});
    if revocation_skipped {
        verification["override"] = serde_json::json!({"revocation": "skip"});
    }
    env.import_trust_policy(&serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "bench",
            "registryScopes": [registry.repository(REPOSITORY)],
            "signatureVerification": verification,
            "trustStores": [format!("ca:{STORE}")],
            "trustedIdentities": ["*"],
        }]
    }))
    .unwrap();
}

fn row<S: AsRef<str>>(cells: &[S]) {
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    println!("| {} |", cells.join(" | "));
}

fn cell(samples: &Samples) -> String {
    format!(
        "{} / {}",
        bench::ms(samples.wall()).trim(),
        bench::ms(samples.cpu()).trim()
    )
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
    let requests = || ocsp.requests() + files.server.requests();
    let scratch = tempfile::tempdir().unwrap();

    // The chains first, and the plugin process alone, before any notation or oras process
    // runs: the peak RSS printed after these rows is then the plugin's own.
    let mut chains = Vec::new();
    for method in ["OCSP", "CRL"] {
        let root = TestCa::root(&format!("bench root {method}")).unwrap();
        let pointer = |tag: &str| match method {
            "OCSP" => CertOptions::ocsp(ocsp.url()),
            _ => CertOptions::crl(files.url(&format!("/{method}-{tag}.crl"))),
        };
        let intermediate = root
            .intermediate(&format!("bench intermediate {method}"), &pointer("root"))
            .unwrap();
        let leaf = intermediate
            .issue(&format!("bench leaf {method}"), &pointer("int"))
            .unwrap();
        ocsp.add_ca(&root).unwrap();
        ocsp.add_ca(&intermediate).unwrap();
        ocsp.set_status(intermediate.serial(), Status::Good);
        ocsp.set_status(&leaf.serial, Status::Good);
        files.files.put(
            &format!("/{method}-root.crl"),
            CrlBuilder::default().sign(&root).unwrap(),
        );
        files.files.put(
            &format!("/{method}-int.crl"),
            CrlBuilder::default().sign(&intermediate).unwrap(),
        );
        chains.push((method, root, intermediate, leaf));
    }

    println!(
        "\nverifier benchmark ({} build, medians of {RUNS} runs, servers on 127.0.0.1; wall / cpu ms, cpu = user+sys)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("\n1. the akv-verifier process alone (verify-signature through the protocol)\n");
    row(&[
        "method",
        "OCSP nonce",
        "cold",
        "cold requests/run",
        "warm",
        "warm requests/run",
    ]);
    row(&["---"; 6]);
    let current = locate::workspace_binary("notation-akv-verifier")
        .expect("build it: cargo build -p notation-akv-verifier");
    let builds = bench::builds(current, "notation-akv-verifier");
    for ((method, root, intermediate, leaf), (build, binary)) in chains
        .iter()
        .flat_map(|c| builds.iter().map(move |b| (c, b)))
    {
        let chain = vec![
            leaf.der.clone(),
            intermediate.der().to_vec(),
            root.der().to_vec(),
        ];
        let nonces: &[bool] = if *method == "OCSP" {
            &[false, true]
        } else {
            &[false]
        };
        for &nonce in nonces {
            let home = scratch
                .path()
                .join(format!("{method}-{nonce}-{}", build.len()));
            let mut env = verifier_env(&home);
            env.push(("NOTATION_AKV_VERIFIER_OCSP_NONCE".into(), nonce.to_string()));
            let body = request(&chain, &["*"], &[IDENTITY, REVOCATION]);
            let (mut cold, mut warm) = (Samples::default(), Samples::default());
            let before = requests();
            for _ in 0..RUNS {
                let _ = std::fs::remove_dir_all(home.join("verifier-cache"));
                let run = verify_with(binary, &body, REVOCATION, &env);
                assert!(run.success, "{}", run.reason);
                cold.push(run.elapsed, run.cpu);
            }
            let cold_requests = requests() - before;
            assert_eq!(
                cold_requests,
                2 * RUNS as u64,
                "{method}: one fetch per non-root certificate when cold"
            );
            let before = requests();
            for _ in 0..RUNS {
                let run = verify_with(binary, &body, REVOCATION, &env);
                assert!(run.success, "{}", run.reason);
                warm.push(run.elapsed, run.cpu);
            }
            let warm_requests = requests() - before;
            assert_eq!(
                warm_requests, 0,
                "{method}: warm runs must be answered from the cache"
            );
            row(&[
                format!("{method}{build}"),
                if *method == "OCSP" {
                    if nonce { "on" } else { "off" }.into()
                } else {
                    "-".into()
                },
                cell(&cold),
                format!("{:.1}", cold_requests as f64 / RUNS as f64),
                cell(&warm),
                "0".into(),
            ]);
        }
    }
    println!(
        "\npeak RSS of the verifier processes above: {:.1} MiB",
        bench::peak_rss_mib()
    );
    for (build, binary) in &builds {
        println!("{}{build}", bench::binary_size(binary));
    }

    // 2. Whole `notation verify` runs.
    let registry = Registry::start().unwrap();
    let env = NotationEnv::new().unwrap();
    let mut cases = Vec::new();
    for (method, root, intermediate, leaf) in &chains {
        let name = format!("bench-{}", method.to_ascii_lowercase());
        let key = local_key(&env, &name, leaf, intermediate, root);
        let root_pem = env
            .write_file(&format!("{name}-root.crt"), root.pem())
            .unwrap();
        env.add_ca_cert(STORE, &root_pem).unwrap();
        let envelope = signed_artifact(
            &env,
            &registry,
            REPOSITORY,
            &format!("{name}-envelope"),
            &key,
            &[("io.cncf.notary.verificationPlugin", "akv-verifier")],
        );
        let raw = env
            .push_artifact(&registry, REPOSITORY, &format!("{name}-raw"), b"raw")
            .unwrap();
        env.notation_ok(&["sign", "--key", &name, &raw.by_digest()])
            .unwrap();
        cases.push(Case {
            method,
            chain: key.chain().to_vec(),
            envelope: envelope.by_digest(),
            raw: raw.by_digest(),
        });
    }
    let caches = [
        env.root().join("xdg-cache"), // akv-verifier's revocation cache
        env.root().join("cache"),     // notation's CRL cache (NOTATION_CACHE)
    ];
    let clear = || {
        for dir in &caches {
            let _ = std::fs::remove_dir_all(dir);
        }
    };
    // Cold: every cache emptied before each run; warm: the runs after one untimed run.
    let measure = |reference: &str| {
        let (mut cold, mut warm) = (Samples::default(), Samples::default());
        let before = requests();
        for _ in 0..RUNS {
            clear();
            cold.push_measured(&bench::notation(&env, &["verify", reference]));
        }
        let cold_requests = (requests() - before) as f64 / RUNS as f64;
        bench::notation(&env, &["verify", reference]);
        let before = requests();
        for _ in 0..RUNS {
            warm.push_measured(&bench::notation(&env, &["verify", reference]));
        }
        let warm_requests = (requests() - before) as f64 / RUNS as f64;
        (cold, cold_requests, warm, warm_requests)
    };

    println!("\n2. whole `notation verify` runs of the same chain, same responders\n");
    row(&[
        "method",
        "what",
        "cold",
        "cold requests/run",
        "warm",
        "warm requests/run",
    ]);
    row(&["---"; 6]);
    let mut ratios = Vec::new();
    for case in &cases {
        assert_eq!(case.chain.len(), 3);
        policy(&env, &registry, false);
        let mut plugin = Vec::new();
        for (build, binary) in &builds {
            env.install_plugin(binary).unwrap();
            plugin.push((*build, measure(&case.envelope)));
        }
        let native = measure(&case.raw);
        policy(&env, &registry, true);
        let floor = measure(&case.raw);
        let mut rows = Vec::new();
        for (build, measured) in &plugin {
            assert_eq!(
                measured.3, 0.0,
                "{}: warm plugin runs are cached",
                case.method
            );
            rows.push((format!("envelope naming akv-verifier{build}"), measured));
        }
        rows.push(("RAW, native revocation".into(), &native));
        rows.push(("RAW, revocation skipped (floor)".into(), &floor));
        for (what, (cold, cold_requests, warm, warm_requests)) in rows {
            row(&[
                case.method.to_string(),
                what,
                cell(cold),
                format!("{cold_requests:.1}"),
                cell(warm),
                format!("{warm_requests:.1}"),
            ]);
        }
        for (build, plugin) in &plugin {
            ratios.push(format!(
                "{}: akv-verifier{build} ÷ native, wall: cold {:.2}, warm {:.2}; cpu: cold {:.2}, warm {:.2}",
                case.method,
                ratio(plugin.0.wall(), native.0.wall()),
                ratio(plugin.2.wall(), native.2.wall()),
                ratio(plugin.0.cpu(), native.0.cpu()),
                ratio(plugin.2.cpu(), native.2.cpu()),
            ));
        }
    }
    println!();
    for line in ratios {
        println!("{line}");
    }
}
