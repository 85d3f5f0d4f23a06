//! `notation-akv certificate create|merge|rotate|show` of the built binary against the test
//! vault: self-signed creation and rotation, the CA flow with the openssl CLI as the CA
//! (including the chains notation would reject), `show` after a rotation and a disable, and a
//! 403 naming the permission and the role.

use akv_test_vault::{Fault, FaultAction, shared_with_fixtures};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

mod common;

use common::admin::{Admin, Run};

impl Admin {
    fn certificate(&self, command: &str, name: &str, extra: &[&str]) -> Run {
        let vault = shared_with_fixtures().vault.url().to_string();
        let mut args = vec!["certificate", command, "--vault", &vault, "--name", name];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr))
}

const SUBJECT: &str = "CN=admin test,O=Notary,ST=WA,C=US";

#[test]
fn create_rotate_disable_show() {
    let admin = Admin::new().set("NOTATION_AKV_TIMEOUT", "30s");
    let name = "admin-rotate";
    let created = admin.certificate(
        "create",
        name,
        &["--subject", SUBJECT, "--curve", "P-256", "--json"],
    );
    assert_eq!(created.code, 0, "{}{}", created.stdout, created.stderr);
    let doc = json(&created);
    let first = doc["kid"].as_str().unwrap().to_string();
    assert!(first.contains(&format!("/keys/{name}/")), "{doc}");
    assert_eq!(doc["keySpec"], "EC-256");
    assert_eq!(doc["violations"], serde_json::json!([]));
    let pem = std::fs::read_to_string(admin.dir().join(format!("{name}.pem"))).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(
        doc["trust"]
            .as_str()
            .unwrap()
            .starts_with("notation cert add --type ca")
    );

    // Text mode teaches the next step.
    let rotated = admin.certificate("rotate", name, &[]);
    assert_eq!(rotated.code, 0, "{}{}", rotated.stdout, rotated.stderr);
    assert!(
        rotated.stdout.contains(&format!("old: --id {first}")),
        "{}",
        rotated.stdout
    );
    assert!(rotated.stdout.contains("cache_ttl"), "{}", rotated.stdout);
    assert!(
        rotated.stdout.contains("Old signatures keep verifying"),
        "{}",
        rotated.stdout
    );

    let shown = json(&admin.certificate("show", name, &["--json"]));
    let versions = shown["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{shown}");
    assert_eq!(versions[0]["kid"], first.as_str());
    assert_eq!(versions[0]["current"], false);
    assert_eq!(versions[1]["current"], true);
    assert!(
        versions
            .iter()
            .all(|v| v["compliant"] == true && v["enabled"] == true)
    );

    // Disable the old version through the vault; show tells the truth.
    let old_version = versions[0]["version"].as_str().unwrap();
    shared_with_fixtures()
        .vault
        .set_certificate_enabled(name, old_version, false)
        .unwrap();
    let run = admin.certificate("show", name, &["--warn-days", "0"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("disabled, valid"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("← versionless ids sign with this version now")
    );

    // A second rotation that disables the version it replaces.
    let second = versions[1]["version"].as_str().unwrap().to_string();
    let run = admin.certificate("rotate", name, &["--disable-old", "--out", "third.pem"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("The old version {second} is disabled")),
        "{}",
        run.stdout
    );
    let shown = json(&admin.certificate("show", name, &["--json"]));
    let enabled: Vec<bool> = shown["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["enabled"].as_bool().unwrap())
        .collect();
    assert_eq!(enabled, [false, false, true], "{shown}");

    // Inside the expiry horizon the exit code says so.
    let run = admin.certificate("show", name, &["--warn-days", "4000"]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("expires within 4000 days"),
        "{}",
        run.stdout
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
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

/// A root CA made with the openssl CLI in `dir`: ca.key, ca.pem.
fn openssl_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/C=US/ST=WA/O=Notary/CN=admin test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// The CA signs `csr` with the extensions in `ext` (an openssl extfile section).
fn issue(dir: &Path, csr: &str, ext: &str, out: &str) {
    std::fs::write(dir.join("ext.cnf"), format!("[leaf]\n{ext}\n")).unwrap();
    openssl(
        dir,
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
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            out,
        ],
    );
    let chain = std::fs::read_to_string(dir.join(out)).unwrap()
        + &std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    std::fs::write(dir.join(out), chain).unwrap();
}

const GOOD_EXT: &str = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning";

#[test]
fn ca_flow_refuses_what_notation_rejects_then_merges() {
    let admin = Admin::new().set("NOTATION_AKV_TIMEOUT", "30s");
    let dir = admin.dir();
    let name = "admin-ca";
    let created = admin.certificate(
        "create",
        name,
        &[
            "--subject",
            SUBJECT,
            "--curve",
            "P-256",
            "--issuer",
            "Unknown",
        ],
    );
    assert_eq!(created.code, 0, "{}{}", created.stdout, created.stderr);
    assert!(
        created.stdout.contains("certificate merge"),
        "{}",
        created.stdout
    );
    let csr = std::fs::read_to_string(dir.join(format!("{name}.csr"))).unwrap();
    assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
    openssl_ca(dir);
    let csr_file = format!("{name}.csr");

    // serverAuth EKU and keyEncipherment: refused with the rules and the fix.
    issue(
        dir,
        &csr_file,
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth",
        "bad.pem",
    );
    let refused = admin.certificate("merge", name, &["--file", "bad.pem"]);
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    for rule in [
        "[leaf.eku.forbidden]",
        "[leaf.key-usage.forbidden]",
        "Fix:",
        "nothing was merged",
    ] {
        assert!(refused.stderr.contains(rule), "{rule}: {}", refused.stderr);
    }

    // A compliant certificate for another key: refused, naming the pending key.
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.csr",
            "-subj",
            "/C=US/ST=WA/O=Notary/CN=other",
        ],
    );
    issue(dir, "other.csr", GOOD_EXT, "wrong-key.pem");
    let refused = admin.certificate("merge", name, &["--file", "wrong-key.pem", "--json"]);
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.contains("leaf.key.not-pending"),
        "{}",
        refused.stdout
    );

    // The right one merges.
    issue(dir, &csr_file, GOOD_EXT, "chain.pem");
    let merged = admin.certificate("merge", name, &["--file", "chain.pem", "--json"]);
    assert_eq!(merged.code, 0, "{}{}", merged.stdout, merged.stderr);
    let doc = json(&merged);
    assert!(
        doc["kid"]
            .as_str()
            .unwrap()
            .contains(&format!("/keys/{name}/"))
    );
    let shown = admin.certificate("show", name, &["--warn-days", "0"]);
    assert_eq!(shown.code, 0, "{}{}", shown.stdout, shown.stderr);
}

#[test]
fn forbidden_create_names_permission_and_role() {
    let admin = Admin::new().set("NOTATION_AKV_TIMEOUT", "30s");
    shared_with_fixtures().vault.inject(
        Fault::on(
            "POST",
            "/certificates/admin-forbidden/create",
            FaultAction::status(
                403,
                "Forbidden",
                "Caller is not authorized to perform action on resource.",
            ),
        )
        .times(1),
    );
    let run = admin.certificate(
        "create",
        "admin-forbidden",
        &["--subject", SUBJECT, "--curve", "P-256"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for needle in [
        "certificates/create",
        "Key Vault Certificates Officer",
        "--certificate-permissions create",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    let run = admin.run(&["certificate", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("Exit codes:"));
}

#[test]
fn rotate_refuses_a_policy_notation_would_reject_and_show_flags_the_version() {
    let admin = Admin::new().set("NOTATION_AKV_TIMEOUT", "30s");
    let name = "admin-default-policy";
    common::private_copy(akv_test_vault::fixtures::names::AKV_DEFAULT_POLICY, name);
    let run = admin.certificate("rotate", name, &[]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    for needle in [
        "[leaf.eku.forbidden]",
        "[leaf.key-usage.forbidden]",
        "Fix:",
        "no version was created",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    let versions = shared_with_fixtures()
        .vault
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.contains(&format!("/certificates/{name}/create")))
        .count();
    assert_eq!(versions, 0, "nothing was created");
    let shown = admin.certificate("show", name, &["--json"]);
    assert_eq!(shown.code, 3, "{}{}", shown.stdout, shown.stderr);
    let doc = json(&shown);
    let rules: Vec<&str> = doc["versions"][0]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"leaf.eku.forbidden"), "{doc}");
}
