//! The signer's envelope mode through the real notation 1.3.2: `notation sign --plugin akv
//! --plugin-config verification_plugin=akv-verifier` makes notation call `generate-envelope`, and
//! the envelope it stores names `akv-verifier`, so `notation verify` runs our verifier, which pins
//! the vault key that signed (`akv.key:`). JWS and COSE, EC and RSA (COSE checks the PSS salt),
//! with and without `--expiry`.
//!
//! Proof that our verifier ran: its log file records the matched identity, a policy pinning
//! another vault key fails with the verifier's own message, and without the plugin installed
//! notation refuses the signature. notation's own `--timestamp-url` is ignored on this path (RAW
//! mode honours it); the plugin's `timestamp_url`/`timestamp_root_cert` config timestamps instead,
//! and `notation verify` checks that timestamp against a `tsa:` trust store, accepting the
//! signature even after the signing certificate expired.

use akv_test_pki::KeySpec;
use akv_test_vault::fixtures::names;
use akv_test_vault::shared_with_fixtures;
use notation_akv_e2e::locate::workspace_binary;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, trust_policy};

mod signer_support;

use signer_support::STORE;

const REPOSITORY: &str = "envelope-signed";

struct World {
    env: NotationEnv,
    registry: Registry,
}

impl World {
    /// Both plugins installed, the signer pointed at the test vault, the verifier logging.
    fn new() -> World {
        let mut env = signer_support::signer_env();
        env.set_env(
            "NOTATION_AKV_VERIFIER_LOG_FILE",
            env.root().join("verifier.log"),
        );
        env.install_plugin(&workspace_binary("notation-akv-verifier").unwrap())
            .unwrap();
        World {
            env,
            registry: Registry::start().unwrap(),
        }
    }

    fn trust(&self, fixture: &str) {
        signer_support::trust_fixture(&self.env, fixture);
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
        signer_support::read_log(&self.env, name)
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

/// notation does not timestamp an envelope plugin's output: its `--timestamp-url` flag is accepted
/// and ignored (here it points at a closed port), and the signature carries no timestamp. The
/// plugin config `timestamp_url` is the way to timestamp in envelope mode (next tests).
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

/// A test TSA on 127.0.0.1 (its own runtime serves it while notation runs) whose root is in the
/// `tsa:tsa` trust store.
struct TestTsa {
    tsa: akv_test_responders::tsa::Tsa,
    root_file: String,
    _runtime: tokio::runtime::Runtime,
}

const TSA_STORE: &str = "tsa";

impl TestTsa {
    fn start(w: &World, name: &str) -> TestTsa {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tsa = runtime
            .block_on(akv_test_responders::tsa::Tsa::start(name))
            .unwrap();
        let root_file = w
            .env
            .write_file(&format!("{name}-root.pem"), tsa.root_pem())
            .unwrap()
            .display()
            .to_string();
        TestTsa {
            tsa,
            root_file,
            _runtime: runtime,
        }
    }

    /// The `--plugin-config` flags that make the plugin timestamp with this TSA.
    fn flags(&self) -> Vec<String> {
        vec![
            "--plugin-config".into(),
            format!("timestamp_url={}", self.tsa.url()),
            "--plugin-config".into(),
            format!("timestamp_root_cert={}", self.root_file),
        ]
    }
}

impl World {
    /// `notation cert add --type tsa --store tsa <root>`.
    fn trust_tsa(&self, tsa: &TestTsa) {
        self.env
            .notation_ok(&[
                "cert",
                "add",
                "--type",
                "tsa",
                "--store",
                TSA_STORE,
                &tsa.root_file,
            ])
            .unwrap();
    }

    /// A strict policy over `ca:akv` and `tsa:tsa`.
    fn policy_with_tsa(&self, identities: &[&str]) {
        let mut policy = trust_policy(&self.registry.repository(REPOSITORY), STORE, identities);
        policy["trustPolicies"][0]["trustStores"] =
            serde_json::json!([format!("ca:{STORE}"), format!("tsa:{TSA_STORE}")]);
        self.env.import_trust_policy(&policy).unwrap();
    }

    fn unsigned_attributes(&self, artifact: &Artifact) -> serde_json::Value {
        let inspect = self
            .env
            .notation_ok(&["inspect", "--output", "json", &artifact.by_digest()])
            .unwrap();
        let inspect: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
        inspect["Signatures"][0]["unsignedAttributes"].clone()
    }
}

/// `--plugin-config timestamp_url=… timestamp_root_cert=…`: the envelope carries an RFC 3161
/// timestamp that notation shows and verifies against the `tsa:` store (JWS and COSE, EC and RSA);
/// with another TSA root in that store notation refuses it.
#[test]
fn plugin_config_timestamps_envelopes_and_notation_verifies_the_timestamp() {
    let w = World::new();
    let tsa = TestTsa::start(&w, "E2E TSA");
    w.trust_tsa(&tsa);
    let flags = tsa.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    for (spec, format) in [(KeySpec::Ec256, "jws"), (KeySpec::Rsa3072, "cose")] {
        let fixture = names::ca_issued(spec);
        w.trust(&fixture);
        let artifact = w.push(&format!("timestamped-{format}"));
        w.sign(&artifact, &fixture, format, &flags);
        let unsigned = w.unsigned_attributes(&artifact);
        let timestamp = &unsigned["timestampSignature"];
        assert!(timestamp.is_object(), "{format}: no timestamp: {unsigned}");
        assert!(
            timestamp.to_string().contains("E2E TSA"),
            "notation reads the TSA certificate: {timestamp}"
        );

        let pin = format!("akv.key:{}", key_url(&fixture));
        w.policy_with_tsa(&[&pin]);
        let out = w.verify(&artifact);
        assert!(out.success(), "{spec:?} {format}: {}", out.stderr);
        assert!(out.stdout.contains("Successfully verified"), "{out:?}");
    }
    assert_eq!(tsa.tsa.server().posts(), 2);

    // notation really checks the token: with another TSA's root in the store it refuses.
    let artifact = w.push("timestamped-other-root");
    w.sign(&artifact, &names::ca_issued(KeySpec::Ec256), "jws", &flags);
    let other = TestTsa::start(&w, "Other TSA");
    w.env
        .notation_ok(&[
            "cert", "delete", "--type", "tsa", "--store", TSA_STORE, "--all", "--yes",
        ])
        .unwrap();
    w.trust_tsa(&other);
    w.policy_with_tsa(&["*"]);
    let out = w.verify(&artifact);
    assert!(
        !out.success(),
        "a TSA outside the tsa: store must not verify"
    );
    assert!(out.stderr.contains("timestamp"), "{}", out.stderr);
}

/// The point of a timestamp: after the signing certificate expires, notation still accepts the
/// timestamped signature (the chain is checked at the TSA's genTime) and refuses an untimestamped
/// one made with the same certificate.
#[test]
fn a_timestamped_envelope_verifies_after_the_signing_certificate_expired() {
    use akv_test_pki::{ChainBuilder, Validity};
    let w = World::new();
    let tsa = TestTsa::start(&w, "Expiry TSA");
    w.trust_tsa(&tsa);
    let now = time::OffsetDateTime::now_utc();
    // Long enough for two signatures and a verification on a loaded CI machine (a few seconds),
    // short enough that the test does not idle a test slot for long.
    let lifetime = time::Duration::seconds(15);
    let chain = ChainBuilder::new(KeySpec::Ec256)
        .common_name("short-lived")
        .validity(Validity::Explicit {
            not_before: now - time::Duration::hours(1),
            not_after: now + lifetime,
        })
        .build()
        .unwrap();
    let name = format!("short-lived-{}", std::process::id());
    let version = shared_with_fixtures()
        .vault
        .add_certificate(&name, &chain, Default::default())
        .unwrap();
    let root = w
        .env
        .write_file("short-lived-root.pem", chain.root().unwrap().pem())
        .unwrap();
    w.env.add_ca_cert(STORE, &root).unwrap();
    let flags = tsa.flags();
    let sign = |artifact: &Artifact, extra: &[String]| {
        let mut args = vec![
            "sign",
            "--plugin",
            "akv",
            "--id",
            &version.id,
            "--plugin-config",
            "verification_plugin=akv-verifier",
        ];
        args.extend(extra.iter().map(String::as_str));
        let reference = artifact.by_digest();
        args.push(&reference);
        w.env
            .notation_ok(&args)
            .unwrap_or_else(|e| panic!("sign: {e}\nlog:\n{}", w.log("akv.log")));
    };
    let timestamped = w.push("expiring-timestamped");
    sign(&timestamped, &flags);
    let untimestamped = w.push("expiring-untimestamped");
    sign(&untimestamped, &[]);
    w.policy_with_tsa(&["*"]);
    assert!(w.verify(&timestamped).success(), "valid now");

    let expired_at = now + lifetime + time::Duration::seconds(2);
    let wait = expired_at - time::OffsetDateTime::now_utc();
    assert!(
        wait.is_positive(),
        "signing took longer than the certificate's {lifetime} lifetime"
    );
    std::thread::sleep(wait.unsigned_abs());

    let out = w.verify(&timestamped);
    assert!(out.success(), "timestamped, after expiry: {}", out.stderr);
    let out = w.verify(&untimestamped);
    assert!(!out.success(), "untimestamped, after expiry must fail");
    // notation 1.3.2: an expired signing certificate needs a timestamp countersignature.
    assert!(
        out.stderr
            .contains("no timestamp countersignature was found in the signature envelope"),
        "{}",
        out.stderr
    );
}
