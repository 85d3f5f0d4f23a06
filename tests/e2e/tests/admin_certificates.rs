//! The key administrator's certificate commands with the real notation 1.3.2 CLI: a certificate
//! created by `notation-akv certificate create` signs through its versionless id, `rotate` moves
//! the next sign to the new version once the signer's cache entry expires (`cache_ttl` 1 s here),
//! and both signatures verify; the CA flow (`create --issuer Unknown`, the CSR signed by an
//! openssl CA, `merge`) gives a chain notation signs and verifies with; `show` tells the truth
//! after the rotation and a disable.

use akv_test_vault::shared_with_fixtures;
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{Artifact, trust_policy};
use serde_json::Value;
use std::path::Path;

mod signer_support;

use signer_support::World;

const SUBJECT: &str = "CN=e2e admin,O=Notary,ST=WA,C=US";

fn vault_url() -> String {
    shared_with_fixtures().vault.url().to_string()
}

/// Runs `notation-akv certificate <command> --vault … --name <name> <extra>` in the notation
/// environment (its working directory receives the PEM and CSR files).
fn certificate(w: &World, command: &str, name: &str, extra: &[&str]) -> (i32, String, String) {
    let binary = workspace_binary("notation-akv").unwrap();
    let vault = vault_url();
    let mut args = vec!["certificate", command, "--vault", &vault, "--name", name];
    args.extend_from_slice(extra);
    let out = w.env.run(&binary, &args).unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

fn certificate_json(w: &World, command: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.push("--json");
    let (code, stdout, stderr) = certificate(w, command, name, &args);
    assert_eq!(code, 0, "certificate {command}: {stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

/// Verifies `artifact` with trust store `ca:<store>`.
fn verify(w: &World, artifact: &Artifact, store: &str) {
    w.env
        .import_trust_policy(&trust_policy(
            &w.registry.repository("signed"),
            store,
            &["*"],
        ))
        .unwrap();
    let out = w
        .env
        .notation_ok(&["verify", &artifact.by_digest()])
        .unwrap_or_else(|e| panic!("verify: {e}"));
    assert!(out.stdout.contains("Successfully verified"), "{out:?}");
}

fn signed_versions(name: &str) -> Vec<String> {
    shared_with_fixtures()
        .vault
        .requests()
        .iter()
        .filter(|r| {
            r.bearer && r.path.ends_with("/sign") && r.path.contains(&format!("/keys/{name}/"))
        })
        .map(|r| r.path.split('/').nth(3).unwrap_or_default().to_string())
        .collect()
}

#[test]
fn create_sign_rotate_sign_show() {
    let mut w = World::new();
    w.env.set_env("NOTATION_AKV_CACHE_TTL", "1s");
    let name = "e2e-admin-rotate";
    let created = certificate_json(
        &w,
        "create",
        name,
        &["--subject", SUBJECT, "--curve", "P-256"],
    );
    let first = created["version"].as_str().unwrap().to_string();
    // The printed trust command, run as printed.
    let trust = created["trust"].as_str().unwrap();
    w.env.shell(trust).unwrap().ok().unwrap();
    let id = created["versionlessKid"].as_str().unwrap().to_string();
    assert_eq!(id, format!("{}/keys/{name}", vault_url()));

    let before = w.push("before-rotation");
    w.sign(&before, &id, "jws", &[]);

    let rotated = certificate_json(&w, "rotate", name, &["--out", "rotated.pem"]);
    let second = rotated["version"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(rotated["rotated"]["cacheTtl"], "1s");
    w.env
        .shell(&format!(
            "notation cert add --type ca --store {name} rotated.pem"
        ))
        .unwrap()
        .ok()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let after = w.push("after-rotation");
    w.sign(&after, &id, "jws", &[]);
    assert_eq!(signed_versions(name), vec![first.clone(), second.clone()]);
    verify(&w, &before, name);
    verify(&w, &after, name);

    // A disabled old version: show lists both, truthfully.
    shared_with_fixtures()
        .vault
        .set_certificate_enabled(name, &first, false)
        .unwrap();
    let shown = certificate_json(&w, "show", name, &["--warn-days", "0"]);
    let versions = shown["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{shown}");
    assert_eq!(versions[0]["version"], first.as_str());
    assert_eq!(versions[0]["enabled"], false);
    assert_eq!(versions[1]["version"], second.as_str());
    assert_eq!(versions[1]["current"], true);
    assert_eq!(versions[1]["compliant"], true);
    assert_eq!(shown["currentVersion"], second.as_str());
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ca_flow_csr_openssl_ca_merge_sign_verify() {
    let w = World::new();
    let dir = w.env.work_dir();
    let name = "e2e-admin-ca";
    let created = certificate_json(
        &w,
        "create",
        name,
        &[
            "--subject",
            SUBJECT,
            "--key-type",
            "RSA",
            "--key-size",
            "2048",
            "--issuer",
            "Unknown",
        ],
    );
    assert_eq!(created["status"], "pending");
    let csr = created["csrFile"].as_str().unwrap();
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/C=US/ST=WA/O=Notary/CN=e2e admin CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    std::fs::write(
        dir.join("leaf.cnf"),
        "[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "20",
            "-sha256",
            "-extfile",
            "leaf.cnf",
            "-extensions",
            "leaf",
            "-out",
            "leaf.pem",
        ],
    );
    let chain = std::fs::read_to_string(dir.join("leaf.pem")).unwrap()
        + &std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
    let merged = certificate_json(&w, "merge", name, &["--file", "chain.pem"]);
    let kid = merged["kid"].as_str().unwrap().to_string();

    // notation signs with the chain from the certificate's secret and verifies against the CA.
    w.env
        .add_ca_cert("e2e-admin-ca", &dir.join("ca.pem"))
        .unwrap();
    let artifact = w.push("ca-issued");
    w.sign(&artifact, &kid, "cose", &[]);
    verify(&w, &artifact, "e2e-admin-ca");
}
