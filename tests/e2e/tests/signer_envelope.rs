//! The signer's envelope mode through the real notation 1.3.2: `notation sign --plugin akv
//! --plugin-config verification_plugin=akv-verifier` makes notation call `generate-envelope`, and
//! the envelope it stores names `akv-verifier`, so `notation verify` runs our verifier, which pins
//! the vault key that signed (`akv.key:`). JWS and COSE, EC and RSA (COSE checks the PSS salt),
//! with and without `--expiry`.
//!
//! Proof that our verifier ran: its log file records the matched identity, a policy pinning
//! another vault key fails with the verifier's own message, and without the plugin installed
//! notation refuses the signature. `--timestamp-url` is ignored on this path (RAW mode honours it).

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::{CredentialKind, shared_with_fixtures};
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, trust_policy};

const STORE: &str = "akv";
const REPOSITORY: &str = "envelope-signed";

struct World {
    env: NotationEnv,
    registry: Registry,
}

impl World {
    /// Both plugins installed, the signer pointed at the test vault, the verifier logging.
    fn new() -> World {
        let s = shared_with_fixtures();
        let mut env = NotationEnv::new().unwrap();
        for (k, v) in s.vault.credential_env(CredentialKind::ClientSecret) {
            env.set_env(k, v);
        }
        env.set_env("NOTATION_AKV_INSECURE_SKIP_CHALLENGE_RESOURCE_CHECK", "1");
        env.set_env("NOTATION_AKV_LOG_FILE", env.root().join("akv.log"));
        env.set_env(
            "NOTATION_AKV_VERIFIER_LOG_FILE",
            env.root().join("verifier.log"),
        );
        env.install_plugin(&workspace_binary("notation-akv").unwrap())
            .unwrap();
        env.install_plugin(&workspace_binary("notation-akv-verifier").unwrap())
            .unwrap();
        World {
            env,
            registry: Registry::start().unwrap(),
        }
    }

    fn trust(&self, fixture: &str) {
        let chain = &shared_with_fixtures().fixtures.get(fixture).chain;
        let root = chain.root().unwrap_or_else(|| chain.leaf());
        let file = self
            .env
            .write_file(&format!("{fixture}-root.pem"), root.pem())
            .unwrap();
        self.env.add_ca_cert(STORE, &file).unwrap();
    }

    fn push(&self, tag: &str) -> Artifact {
        self.env
            .push_artifact(&self.registry, REPOSITORY, tag, tag.as_bytes())
            .unwrap()
    }

    fn sign(&self, artifact: &Artifact, fixture: &str, format: &str, extra: &[&str]) {
        let id = &shared_with_fixtures().fixtures.get(fixture).version.id;
        let mut args = vec![
            "sign",
            "--plugin",
            "akv",
            "--id",
            id,
            "--signature-format",
            format,
            "--plugin-config",
            "verification_plugin=akv-verifier",
        ];
        args.extend_from_slice(extra);
        let reference = artifact.by_digest();
        args.push(&reference);
        let out = self.env.notation_ok(&args).unwrap_or_else(|e| {
            panic!(
                "sign {fixture} ({format}): {e}\nlog:\n{}",
                self.log("akv.log")
            )
        });
        assert!(out.stdout.contains("Successfully signed"), "{out:?}");
    }

    fn policy(&self, identities: &[&str]) {
        self.env
            .import_trust_policy(&trust_policy(
                &self.registry.repository(REPOSITORY),
                STORE,
                identities,
            ))
            .unwrap();
    }

    fn verify(&self, artifact: &Artifact) -> notation_akv_e2e::Output {
        self.env
            .notation(&["verify", "-v", &artifact.by_digest()])
            .unwrap()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.env.root().join(name)).unwrap_or_default()
    }
}

/// The versionless vault key URL behind a certificate fixture.
fn key_url(fixture: &str) -> String {
    let kid = &shared_with_fixtures().fixtures.get(fixture).version.kid;
    kid.rsplit_once('/').unwrap().0.to_string()
}

#[test]
fn envelope_signatures_name_akv_verifier_which_pins_the_vault_key() {
    let w = World::new();
    for spec in [KeySpec::Ec256, KeySpec::Rsa3072] {
        w.trust(&names::ca_issued(spec));
    }
    let cases = [
        (KeySpec::Ec256, "jws", &["--expiry", "24h"][..]),
        (KeySpec::Ec256, "cose", &[][..]),
        (KeySpec::Rsa3072, "jws", &[][..]),
        (KeySpec::Rsa3072, "cose", &["--expiry", "1h"][..]),
    ];
    for (spec, format, extra) in cases {
        let fixture = names::ca_issued(spec);
        let artifact = w.push(&format!("{fixture}-{format}"));
        w.sign(&artifact, &fixture, format, extra);

        // The stored envelope carries our critical attributes (and the expiry, when asked).
        let inspect = w
            .env
            .notation_ok(&["inspect", "--output", "json", &artifact.by_digest()])
            .unwrap();
        let inspect: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
        let signature = &inspect["Signatures"][0];
        let media_type = if format == "jws" {
            "application/jose+json"
        } else {
            "application/cose"
        };
        assert_eq!(signature["mediaType"], media_type, "{inspect}");
        let signed = &signature["signedAttributes"];
        assert_eq!(signed["io.cncf.notary.verificationPlugin"], "akv-verifier");
        assert_eq!(
            signed["io.github.notation-akv.keyId"],
            shared_with_fixtures()
                .fixtures
                .get(&fixture)
                .version
                .kid
                .as_str()
        );
        assert_eq!(signed["signingScheme"], "notary.x509");
        assert_eq!(
            signed.get("expiry").is_some(),
            !extra.is_empty(),
            "expiry only with --expiry: {signed}"
        );
        assert_eq!(
            signature["unsignedAttributes"]["signingAgent"],
            format!("notation-akv/{}", env!("CARGO_PKG_VERSION"))
        );

        // Pinned to its own vault key: notation runs akv-verifier, which accepts.
        let pin = format!("akv.key:{}", key_url(&fixture));
        w.policy(&[&pin]);
        let out = w.verify(&artifact);
        assert!(out.success(), "{spec:?} {format}: {}", out.stderr);
        assert!(out.stdout.contains("Successfully verified"), "{out:?}");
        assert!(
            w.log("verifier.log")
                .contains(&format!("trusted identity \"{pin}\" matched")),
            "the verifier ran: {}",
            w.log("verifier.log")
        );

        // Pinned to another vault key: our verifier's refusal, enforced by strict.
        let other = format!("akv.key:{}", key_url(&names::ca_issued(KeySpec::Ec521)));
        w.policy(&[&other]);
        let out = w.verify(&artifact);
        assert!(
            !out.success(),
            "{spec:?} {format}: another key must not verify"
        );
        assert!(
            out.stderr
                .contains("matches none of the trusted identities"),
            "{}",
            out.stderr
        );
    }
    assert!(
        w.log("akv.log").contains("generate-envelope"),
        "{}",
        w.log("akv.log")
    );
    assert!(!w.log("akv.log").contains("generate-signature"));

    // Without akv-verifier installed, notation cannot verify a signature that names it.
    let artifact = w.push("no-verifier");
    let fixture = names::ca_issued(KeySpec::Ec256);
    w.sign(&artifact, &fixture, "jws", &[]);
    w.env
        .notation_ok(&["plugin", "uninstall", "--yes", "akv-verifier"])
        .unwrap();
    w.policy(&["*"]);
    let out = w.verify(&artifact);
    assert!(!out.success());
    assert!(
        out.stderr.contains("akv-verifier")
            && out.stderr.contains("make sure the plugin is installed"),
        "{}",
        out.stderr
    );
}

/// notation does not timestamp an envelope plugin's output: `--timestamp-url` is accepted and
/// ignored (here it points at a closed port), and the signature carries no timestamp.
#[test]
fn timestamp_url_is_ignored_in_envelope_mode() {
    let w = World::new();
    let fixture = names::ca_issued(KeySpec::Ec256);
    w.trust(&fixture);
    let chain = &shared_with_fixtures().fixtures.get(&fixture).chain;
    let tsa_root = w
        .env
        .write_file("tsa-root.pem", chain.root().unwrap().pem())
        .unwrap();
    let artifact = w.push("timestamp-ignored");
    let tsa_root = tsa_root.display().to_string();
    w.sign(
        &artifact,
        &fixture,
        "jws",
        &[
            "--timestamp-url",
            "http://127.0.0.1:9/tsa",
            "--timestamp-root-cert",
            &tsa_root,
        ],
    );
    let inspect = w
        .env
        .notation_ok(&["inspect", "--output", "json", &artifact.by_digest()])
        .unwrap();
    let inspect: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    let unsigned = &inspect["Signatures"][0]["unsignedAttributes"];
    assert!(
        unsigned.get("timestampSignature").is_none(),
        "no timestamp: {unsigned}"
    );
    // The same flags in RAW mode: notation itself asks the (closed) TSA, and fails.
    let raw = w.push("timestamp-raw");
    let id = &shared_with_fixtures().fixtures.get(&fixture).version.id;
    let out = w
        .env
        .notation(&[
            "sign",
            "--plugin",
            "akv",
            "--id",
            id,
            "--timestamp-url",
            "http://127.0.0.1:9/tsa",
            "--timestamp-root-cert",
            &tsa_root,
            &raw.by_digest(),
        ])
        .unwrap();
    assert!(!out.success(), "RAW mode timestamps: {out:?}");
    assert!(out.stderr.contains("timestamp"), "{}", out.stderr);
}
