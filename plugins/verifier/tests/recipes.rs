//! The Kubernetes recipes in `deploy/kubernetes/` run as written: the CronJob's
//! `notation-akv-verifier` lines build and check a bundle against a real OCSP responder, and the
//! Ratify patch's environment makes `verify-signature` answer from that bundle alone.

mod common;

use std::path::{Path, PathBuf};

use akv_test_responders::ocsp::Status;
use akv_test_responders::pki::{CertOptions, TestCa, pem_block};
use common::*;

fn recipe(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/kubernetes")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `name: X` / `value: Y` pairs of the container's `env`.
fn env_of(yaml: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = yaml.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter_map(|w| {
            let name = w[0].strip_prefix("- name: ")?;
            let value = w[1].strip_prefix("value: ")?;
            Some((name.to_string(), value.trim_matches('"').to_string()))
        })
        .collect()
}

#[test]
fn the_cronjob_and_ratify_recipes_work_as_written() {
    let world = World::new();
    let responder = world.ocsp();
    let root = TestCa::root("recipe root").unwrap();
    let intermediate = root
        .intermediate("recipe intermediate", &CertOptions::ocsp(responder.url()))
        .unwrap();
    let leaf = intermediate
        .issue("recipe leaf", &CertOptions::ocsp(responder.url()))
        .unwrap();
    responder.add_ca(&root).unwrap();
    responder.add_ca(&intermediate).unwrap();
    responder.set_status(intermediate.serial(), Status::Good);
    responder.set_status(&leaf.serial, Status::Good);
    let chain = vec![leaf.der, intermediate.der().to_vec(), root.der().to_vec()];

    let mut sandbox = Sandbox::new();
    let chains: PathBuf = sandbox.path().join("chains");
    let bundle: PathBuf = sandbox.path().join("bundle");
    std::fs::create_dir_all(&chains).unwrap();
    let pem: String = chain.iter().map(|d| pem_block("CERTIFICATE", d)).collect();
    std::fs::write(chains.join("signer.pem"), pem).unwrap();

    // The CronJob's two verifier lines, with its mount paths mapped to temp folders.
    let cronjob = recipe("revocation-bundle-cronjob.yaml");
    let commands: Vec<Vec<String>> = cronjob
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("notation-akv-verifier "))
        .map(|l| {
            l.split_whitespace()
                .map(|a| match a {
                    "/chains" => chains.display().to_string(),
                    "/bundle" => bundle.display().to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(commands.len(), 2, "fetch and check: {cronjob}");
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = sandbox.admin(&args);
        assert_eq!(run.exit_code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    assert!(bundle.join("manifest.json").is_file());

    // The Ratify patch: its environment, with the mount path mapped to the bundle.
    let ratify = recipe("ratify-offline-bundle.yaml");
    assert!(
        ratify.contains("mountPath: /etc/notation-akv/bundle"),
        "the bundle is mounted where the variable points"
    );
    let variables = env_of(&ratify);
    assert_eq!(variables.len(), 3, "{variables:?}");
    for (name, value) in variables {
        let value = value.replace("/etc/notation-akv/bundle", bundle.to_str().unwrap());
        sandbox.set(&name, &value);
    }
    let requests = responder.requests();
    let (ok, reason) = sandbox
        .verify(&Request::new(chain).capabilities(&[REVOCATION]).json())
        .result(REVOCATION);
    assert!(ok, "{reason}");
    assert_eq!(
        responder.requests(),
        requests,
        "no network inside the air gap"
    );
}
