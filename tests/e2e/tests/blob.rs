//! Blobs: files signed with `akv` into detached signatures and verified, through notation-go
//! 1.3.2 (the library of the notation 1.3.2 CLI, which has no `blob` command) driven by the
//! harness in `tests/blob` the way notation 2's `notation blob sign` / `blob verify` do.
//!
//! The harness is built offline from the Debian packages `tests/provision.sh` unpacks into
//! `tools/go` (`tests/blob/build.sh`); the plugin is the built `notation-akv`, installed by the real
//! notation CLI into the environment's plugin directory, which the harness's plugin manager reads.
//! Verification uses a blob trust policy over the environment's trust store (`ca:akv` holding the
//! fixture root).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::shared_with_fixtures;
use notation_akv_e2e::NotationEnv;
use notation_akv_e2e::locate::{repo_root, tools_dir};
use notation_akv_e2e::process::{DEFAULT_TIMEOUT, Output, run};
use serde_json::json;

mod signer_support;

use signer_support::{STORE, plugin_args, read_log, signer_env, trust_fixture};

/// Builds `tools/bin/notation-blob` once per test binary (offline; about a second when cached).
fn harness() -> &'static Path {
    static HARNESS: OnceLock<PathBuf> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let mut build = std::process::Command::new("bash");
        build.arg(repo_root().join("tests/blob/build.sh"));
        let out = run(build, DEFAULT_TIMEOUT * 3).unwrap();
        assert!(
            out.success(),
            "the blob harness did not build; run `bash tests/provision.sh` first \
             (it fetches Go and notation-go from Debian sid):\n{}\n{}",
            out.stdout,
            out.stderr
        );
        tools_dir().join("bin/notation-blob")
    })
}

/// A notation environment with `akv` installed and pointed at the test vault, the roots of
/// fixtures `names` in `ca:akv`, and a blob trust policy whose global statement trusts them.
fn blob_env(names: &[&str]) -> NotationEnv {
    let env = signer_env();
    for name in names {
        trust_fixture(&env, name);
    }
    env.write_file(
        "trustpolicy.blob.json",
        json!({
            "version": "1.0",
            "trustPolicies": [{
                "name": "akv-blobs",
                "signatureVerification": { "level": "strict" },
                "trustStores": [format!("ca:{STORE}")],
                "trustedIdentities": ["*"],
                "globalPolicy": true,
            }]
        })
        .to_string(),
    )
    .unwrap();
    env
}

fn sign(env: &NotationEnv, blob: &Path, id: &str, format: &str, config: &[&str]) -> Output {
    let plugins = env.plugins_dir();
    let signature = blob.with_extension(format!("{format}.sig"));
    let mut args: Vec<String> = vec![
        "sign".into(),
        "--plugin-dir".into(),
        plugins.display().to_string(),
        "--signature".into(),
        signature.display().to_string(),
    ];
    args.extend(plugin_args(id, format, config));
    args.push(blob.display().to_string());
    env.run(harness(), &args).unwrap()
}

fn verify(env: &NotationEnv, blob: &Path, signature: &Path) -> Output {
    let config = env.config_dir();
    let policy = env.work_dir().join("trustpolicy.blob.json");
    let args = [
        "verify".as_ref(),
        "--trust-store".as_ref(),
        config.as_os_str(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "--signature".as_ref(),
        signature.as_os_str(),
        blob.as_os_str(),
    ];
    env.run(harness(), &args).unwrap()
}

fn cert_id(name: &str) -> String {
    shared_with_fixtures().fixtures.get(name).version.id.clone()
}

fn kid(name: &str) -> String {
    shared_with_fixtures()
        .fixtures
        .get(name)
        .version
        .kid
        .clone()
}

/// Signs `blob` in both formats with `id`, verifies each signature, then checks that the
/// tampered blob fails verification with notation-go's descriptor check.
fn signs_and_verifies(env: &NotationEnv, id: &str, blob: &Path) {
    for format in ["jws", "cose"] {
        let out = sign(env, blob, id, format, &[]);
        assert!(
            out.success() && out.stdout.contains("Successfully signed"),
            "sign {id} ({format}): {out:?}\nlog:\n{}",
            read_log(env, "akv.log")
        );
        let signature = blob.with_extension(format!("{format}.sig"));
        let out = verify(env, blob, &signature);
        assert!(
            out.success() && out.stdout.contains("Successfully verified"),
            "verify ({format}): {out:?}"
        );
        assert!(out.stdout.contains("\"akv-blobs\""), "{out:?}");

        let original = std::fs::read(blob).unwrap();
        let mut tampered = original.clone();
        tampered[0] ^= 1;
        std::fs::write(blob, &tampered).unwrap();
        let out = verify(env, blob, &signature);
        std::fs::write(blob, &original).unwrap();
        assert!(
            !out.success(),
            "a tampered blob must fail ({format}): {out:?}"
        );
        assert!(
            out.stderr.contains("content descriptor mismatch"),
            "({format}): {out:?}"
        );
    }
}

/// One test, so the vault's fixtures are made once (each test process makes its own).
#[test]
fn blobs_sign_and_verify_fail_when_tampered_and_envelope_mode_refuses_them() {
    harness(); // fails first, naming tests/provision.sh, when the Go tree is missing
    let rsa = names::ca_issued(KeySpec::Rsa2048);
    let ec = names::ca_issued(KeySpec::Ec384);
    let env = blob_env(&[&rsa, &ec]);

    // A certificate id (RSA-2048: SHA-256).
    let blob = env
        .write_file("release.tar.gz", b"release artifact\n".repeat(1000))
        .unwrap();
    signs_and_verifies(&env, &cert_id(&rsa), &blob);

    // A /keys/ id, the certificate's kid. EC-384: the blob's digest is SHA-384, the hash of the
    // key spec, as notation 2 computes it.
    let blob = env
        .write_file("sbom.spdx.json", br#"{"spdxVersion":"SPDX-2.3"}"#)
        .unwrap();
    signs_and_verifies(&env, &kid(&ec), &blob);
    let out = sign(&env, &blob, &kid(&ec), "jws", &[]);
    assert!(out.stdout.contains("(sha384:"), "{out:?}");

    // Envelope mode refuses a blob, naming RAW mode; the same blob signs in RAW mode.
    let blob = env.write_file("model.bin", [7u8; 4096]).unwrap();
    for format in ["jws", "cose"] {
        let out = sign(
            &env,
            &blob,
            &cert_id(&rsa),
            format,
            &["verification_plugin=akv-verifier"],
        );
        assert!(!out.success(), "envelope mode must refuse a blob: {out:?}");
        for part in [
            "envelope mode (verification_plugin) signs registry artifacts only",
            "\"application/octet-stream\"",
            "Sign blobs in RAW mode: remove verification_plugin",
        ] {
            assert!(out.stderr.contains(part), "{part:?} missing: {out:?}");
        }
        assert!(
            !blob.with_extension(format!("{format}.sig")).exists(),
            "no signature is written"
        );
    }
    let out = sign(&env, &blob, &cert_id(&rsa), "jws", &[]);
    assert!(out.success(), "{out:?}");
}
