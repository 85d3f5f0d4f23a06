//! `bundle fetch` and `bundle check` through the built binary against real OCSP responders and
//! CRL servers on 127.0.0.1, and `verify-signature` reading the result with `offline_mode=only`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use akv_test_responders::crl::{CrlBuilder, Entry, Reason};
use akv_test_responders::http::unreachable_url;
use akv_test_responders::ocsp::{Behaviour, OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, TestCa, pem_block};
use common::*;
use serde_json::Value;

/// A chain, leaf first, with the serial of its leaf.
struct Chain {
    der: Vec<Vec<u8>>,
    leaf_serial: Vec<u8>,
}

impl Chain {
    fn write_pem(&self, path: &Path) {
        let pem: String = self
            .der
            .iter()
            .map(|der| pem_block("CERTIFICATE", der))
            .collect();
        std::fs::write(path, pem).unwrap();
    }

    /// `verify-signature` for revocation only, from the bundle alone.
    fn verify_offline(&self, sandbox: &Sandbox, bundle: &Path) -> (bool, String) {
        sandbox
            .verify(
                &Request::new(self.der.clone())
                    .capabilities(&[REVOCATION])
                    .config("offline_bundle", bundle.to_str().unwrap())
                    .config("offline_mode", "only")
                    .json(),
            )
            .result(REVOCATION)
    }
}

/// root → intermediate → leaf, both answered by `responder`.
fn ocsp_chain(responder: &OcspResponder, name: &str) -> Chain {
    let root = TestCa::root(&format!("{name} root")).unwrap();
    let intermediate = root
        .intermediate(
            &format!("{name} intermediate"),
            &CertOptions::ocsp(responder.url()),
        )
        .unwrap();
    let leaf = intermediate
        .issue(&format!("{name} leaf"), &CertOptions::ocsp(responder.url()))
        .unwrap();
    responder.add_ca(&root).unwrap();
    responder.add_ca(&intermediate).unwrap();
    responder.set_status(intermediate.serial(), Status::Good);
    responder.set_status(&leaf.serial, Status::Good);
    Chain {
        der: vec![leaf.der, intermediate.der().to_vec(), root.der().to_vec()],
        leaf_serial: leaf.serial,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn manifest(bundle: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap()
}

/// The bundle file answering for `serial` (an OCSP response).
fn ocsp_file_for(bundle: &Path, serial: &[u8]) -> PathBuf {
    let manifest = manifest(bundle);
    let entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["serial"] == hex(serial).as_str())
        .unwrap_or_else(|| panic!("no OCSP entry for {}: {manifest}", hex(serial)));
    bundle.join(entry["file"].as_str().unwrap())
}

fn fetch(sandbox: &Sandbox, chains: &Path, bundle: &Path) -> Run {
    sandbox.admin(&[
        "bundle",
        "fetch",
        "--chain",
        chains.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ])
}

#[test]
fn bundles_for_ocsp_crl_and_delta_chains_verify_with_the_network_cut() {
    let world = World::new();
    let responder = world.ocsp();
    let files = world.files();
    let ocsp = ocsp_chain(&responder, "ocsp");

    // CRL only: the root's CRL covers the intermediate, the intermediate's the leaf.
    let root = TestCa::root("crl root").unwrap();
    let intermediate = root
        .intermediate(
            "crl intermediate",
            &CertOptions::crl(files.url("/root.crl")),
        )
        .unwrap();
    let leaf = intermediate
        .issue(
            "crl leaf",
            &CertOptions::crl(files.url("/intermediate.crl")),
        )
        .unwrap();
    files
        .files
        .put("/root.crl", CrlBuilder::default().sign(&root).unwrap());
    files.files.put(
        "/intermediate.crl",
        CrlBuilder::default().sign(&intermediate).unwrap(),
    );
    let crl = Chain {
        der: vec![leaf.der, intermediate.der().to_vec(), root.der().to_vec()],
        leaf_serial: leaf.serial,
    };

    // Base + delta: the leaf's revocation is only in the delta CRL.
    let delta_root = TestCa::root("delta root").unwrap();
    let delta_intermediate = delta_root
        .intermediate(
            "delta intermediate",
            &CertOptions::crl(files.url("/delta-root.crl")),
        )
        .unwrap();
    let delta_leaf = delta_intermediate
        .issue(
            "delta leaf",
            &CertOptions {
                crl_urls: vec![files.url("/base.crl")],
                freshest_urls: vec![files.url("/delta.crl")],
                ..CertOptions::default()
            },
        )
        .unwrap();
    files.files.put(
        "/delta-root.crl",
        CrlBuilder::default().sign(&delta_root).unwrap(),
    );
    files.files.put(
        "/base.crl",
        CrlBuilder::default().sign(&delta_intermediate).unwrap(),
    );
    files.files.put(
        "/delta.crl",
        CrlBuilder {
            number: 2,
            delta_of: Some(1),
            ..CrlBuilder::default()
        }
        .revoke(Entry::new(&delta_leaf.serial, Some(Reason::KeyCompromise)))
        .sign(&delta_intermediate)
        .unwrap(),
    );
    let delta = Chain {
        der: vec![
            delta_leaf.der,
            delta_intermediate.der().to_vec(),
            delta_root.der().to_vec(),
        ],
        leaf_serial: delta_leaf.serial,
    };

    let sandbox = Sandbox::new();
    let chains = sandbox.path().join("chains");
    std::fs::create_dir_all(&chains).unwrap();
    ocsp.write_pem(&chains.join("ocsp.pem"));
    crl.write_pem(&chains.join("crl.pem"));
    delta.write_pem(&chains.join("delta.pem"));
    let bundle = sandbox.path().join("bundle");

    let run = fetch(&sandbox, &chains, &bundle);
    assert_eq!(run.exit_code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("wrote"), "{}", run.stdout);
    assert!(
        run.stdout.contains("REVOKED (keyCompromise)"),
        "{}",
        run.stdout
    );

    // The manifest: every kind, its source, times and a SHA-256 that matches the file.
    let manifest = manifest(&bundle);
    assert_eq!(manifest["format"], "notation-akv-revocation-bundle/1");
    assert_eq!(manifest["chains"].as_array().unwrap().len(), 3);
    let entries = manifest["files"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = entries
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["crl", "delta-crl", "ocsp"].into_iter().collect(),
        "{manifest}"
    );
    // OCSP for the leaf and the intermediate; CRLs of 2 roots + 2 intermediates + 1 delta.
    assert_eq!(entries.len(), 2 + 4 + 1, "{manifest}");
    for entry in entries {
        let bytes = std::fs::read(bundle.join(entry["file"].as_str().unwrap())).unwrap();
        assert_eq!(entry["size"], bytes.len());
        let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        assert_eq!(entry["sha256"], hex(sha.as_ref()).as_str());
        assert!(
            entry["url"]
                .as_str()
                .unwrap()
                .starts_with("http://127.0.0.1:")
        );
        assert!(entry["this_update"].is_string() && entry["next_update"].is_string());
    }
    ocsp_file_for(&bundle, &ocsp.leaf_serial);

    // Offline: answers come from the bundle alone.
    let requests = (responder.requests(), files.server.requests());
    let (ok, reason) = ocsp.verify_offline(&sandbox, &bundle);
    assert!(ok, "{reason}");
    let (ok, reason) = crl.verify_offline(&sandbox, &bundle);
    assert!(ok, "{reason}");
    let (ok, reason) = delta.verify_offline(&sandbox, &bundle);
    assert!(!ok);
    assert!(reason.contains("keyCompromise"), "{reason}");
    assert!(reason.contains("offline bundle"), "{reason}");
    assert_eq!(
        (responder.requests(), files.server.requests()),
        requests,
        "offline verification must not touch the network"
    );

    // `bundle check` agrees, chain by chain.
    let run = sandbox.admin(&["bundle", "check", "--dir", bundle.to_str().unwrap()]);
    assert_eq!(run.exit_code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("✓ chain ocsp.pem: covered"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("✓ chain crl.pem: covered"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("! chain delta.pem"), "{}", run.stdout);
}

#[test]
fn check_flags_an_entry_about_to_expire() {
    let world = World::new();
    let responder = world.ocsp();
    responder.set_behaviour(Behaviour {
        validity: Some(Duration::from_secs(2 * 3600)),
        ..Behaviour::default()
    });
    let chain = ocsp_chain(&responder, "expiring");
    let sandbox = Sandbox::new();
    let pem = sandbox.path().join("expiring.pem");
    chain.write_pem(&pem);
    let bundle = sandbox.path().join("bundle");
    assert_eq!(fetch(&sandbox, &pem, &bundle).exit_code, 0);

    let check = |within: &str| {
        sandbox.admin(&[
            "bundle",
            "check",
            "--dir",
            bundle.to_str().unwrap(),
            "--within",
            within,
        ])
    };
    let run = check("1h");
    assert_eq!(run.exit_code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("covered, not revoked, until"),
        "{}",
        run.stdout
    );
    let run = check("24h");
    assert_eq!(run.exit_code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("✗ chain expiring.pem: coverage ends at")
            && run.stdout.contains("within 1d"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_refresh_after_a_revocation_fails_the_next_offline_verification() {
    let world = World::new();
    let responder = world.ocsp();
    let chain = ocsp_chain(&responder, "refresh");
    let sandbox = Sandbox::new();
    let pem = sandbox.path().join("refresh.pem");
    chain.write_pem(&pem);
    let bundle = sandbox.path().join("bundle");
    assert_eq!(fetch(&sandbox, &pem, &bundle).exit_code, 0);
    let (ok, reason) = chain.verify_offline(&sandbox, &bundle);
    assert!(ok, "{reason}");
    let old = ocsp_file_for(&bundle, &chain.leaf_serial);

    responder.set_status(
        &chain.leaf_serial,
        Status::revoked(
            SystemTime::now() - Duration::from_secs(600),
            Some(Reason::KeyCompromise),
        ),
    );
    let run = fetch(&sandbox, &pem, &bundle);
    assert_eq!(run.exit_code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("pruned"), "{}", run.stdout);
    assert!(!old.exists(), "the superseded response is pruned");
    assert_ne!(ocsp_file_for(&bundle, &chain.leaf_serial), old);

    let (ok, reason) = chain.verify_offline(&sandbox, &bundle);
    assert!(!ok);
    assert!(
        reason.contains("revoked") && reason.contains("keyCompromise"),
        "{reason}"
    );
}

#[test]
fn corrupt_or_truncated_files_are_reported_and_never_trusted() {
    let world = World::new();
    let responder = world.ocsp();
    let chain = ocsp_chain(&responder, "integrity");
    let sandbox = Sandbox::new();
    let pem = sandbox.path().join("integrity.pem");
    chain.write_pem(&pem);
    let bundle = sandbox.path().join("bundle");
    assert_eq!(fetch(&sandbox, &pem, &bundle).exit_code, 0);

    // Today's hand-made bundles (no manifest) keep working: the same files alone.
    let plain = sandbox.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    for entry in std::fs::read_dir(&bundle).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ocsp") {
            std::fs::copy(&path, plain.join(path.file_name().unwrap())).unwrap();
        }
    }
    let (ok, reason) = chain.verify_offline(&sandbox, &plain);
    assert!(ok, "{reason}");

    // Truncate the leaf's response: reported, and the verifier does not use it.
    let leaf_file = ocsp_file_for(&bundle, &chain.leaf_serial);
    let bytes = std::fs::read(&leaf_file).unwrap();
    std::fs::write(&leaf_file, &bytes[..bytes.len() / 2]).unwrap();
    let run = sandbox.admin(&["bundle", "check", "--dir", bundle.to_str().unwrap()]);
    assert_eq!(run.exit_code, 1, "{}", run.stdout);
    let name = leaf_file.file_name().unwrap().to_str().unwrap();
    assert!(
        run.stdout.contains(name) && run.stdout.contains("truncated or corrupt"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("✗ chain integrity.pem: not covered now"),
        "{}",
        run.stdout
    );
    let (ok, reason) = chain.verify_offline(&sandbox, &bundle);
    assert!(!ok, "a truncated file must not be trusted");
    assert!(reason.contains("status unknown"), "{reason}");

    // Same size, one byte flipped: the SHA-256 catches it.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    std::fs::write(&leaf_file, &flipped).unwrap();
    let run = sandbox.admin(&["bundle", "check", "--dir", bundle.to_str().unwrap()]);
    assert_eq!(run.exit_code, 1);
    assert!(run.stdout.contains("SHA-256"), "{}", run.stdout);
    assert!(!chain.verify_offline(&sandbox, &bundle).0);

    // A corrupt manifest vouches for nothing.
    std::fs::write(&leaf_file, &bytes).unwrap();
    assert!(chain.verify_offline(&sandbox, &bundle).0);
    std::fs::write(bundle.join("manifest.json"), b"{\"format\": ").unwrap();
    let run = sandbox.admin(&[
        "bundle",
        "check",
        "--dir",
        bundle.to_str().unwrap(),
        "--chain",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(run.exit_code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("manifest.json"), "{}", run.stdout);
    assert!(!chain.verify_offline(&sandbox, &bundle).0);
}

#[test]
fn a_fetch_that_cannot_reach_a_source_writes_nothing() {
    let root = TestCa::root("unreachable root").unwrap();
    let dead = unreachable_url("/ocsp").unwrap();
    let intermediate = root
        .intermediate("unreachable intermediate", &CertOptions::ocsp(&dead))
        .unwrap();
    let leaf = intermediate
        .issue("unreachable leaf", &CertOptions::ocsp(&dead))
        .unwrap();
    let chain = Chain {
        der: vec![leaf.der, intermediate.der().to_vec(), root.der().to_vec()],
        leaf_serial: leaf.serial,
    };
    let sandbox = Sandbox::new();
    let pem = sandbox.path().join("dead.pem");
    chain.write_pem(&pem);
    let bundle = sandbox.path().join("bundle");
    let run = fetch(&sandbox, &pem, &bundle);
    assert_eq!(run.exit_code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("not written") && run.stdout.contains(&dead),
        "{}",
        run.stdout
    );
    assert!(!bundle.join("manifest.json").exists());

    // A bad command line is exit code 2 with the fix.
    let run = sandbox.admin(&["bundle", "fetch", "--chain", pem.to_str().unwrap()]);
    assert_eq!(run.exit_code, 2);
    assert!(
        run.stderr.contains("--out <dir> is required"),
        "{}",
        run.stderr
    );
}
