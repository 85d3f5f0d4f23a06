//! Shared by the `verifier_*` end-to-end tests: the verifier binary driven through the protocol,
//! local signing keys (custom leaf certificates) registered with the real notation CLI, and
//! test-only JWS envelopes that name `akv-verifier`, attached to artifacts with oras.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use akv_test_pki::{ChainBuilder, KeySpec, TestKey};
use akv_test_responders::crl::Reason;
use akv_test_responders::ocsp::{OcspResponder, Status};
use akv_test_responders::pki::{CertOptions, Issued, TestCa};
use akv_test_vault::run_plugin;
use base64::Engine as _;
use notation_akv_e2e::local_key::LocalKey;
use notation_akv_e2e::{Artifact, NotationEnv, Registry, locate};
use notation_akv_envelope::{Attribute, EnvelopeType, SignRequest};
use notation_akv_protocol::SigningAlgorithm;
use notation_akv_protocol::generate_envelope::PAYLOAD_TYPE_NOTARY;
use serde_json::{Value, json};

pub const IDENTITY: &str = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY";
pub const REVOCATION: &str = "SIGNATURE_VERIFIER.REVOCATION_CHECK";

/// The signer's key id an envelope-mode signature carries.
pub const KEY_ID: &str =
    "https://myvault.vault.azure.net/keys/signer/0123456789abcdef0123456789abcdef";
pub const KEY_ID_ATTRIBUTE: &str = "io.github.notation-akv.keyId";
/// The critical extended attributes of an envelope-mode signature: notation runs `akv-verifier`
/// for it, and the verifier processes the key id.
pub const ENVELOPE_ATTRIBUTES: [(&str, &str); 2] = [
    ("io.cncf.notary.verificationPlugin", "akv-verifier"),
    (KEY_ID_ATTRIBUTE, KEY_ID),
];

/// Installs the built `notation-akv-verifier` into `env` as plugin `akv-verifier`.
pub fn install_verifier(env: &NotationEnv) {
    let binary = locate::workspace_binary("notation-akv-verifier")
        .expect("build it: cargo build -p notation-akv-verifier");
    env.install_plugin(&binary).unwrap();
}

/// Imports a trust policy named `envelope` for `scope`: the `ca:<store>` trust store, the
/// verification `level` and the trusted identities.
pub fn envelope_policy(
    env: &NotationEnv,
    scope: &str,
    store: &str,
    level: &str,
    identities: &[&str],
) {
    env.import_trust_policy(&json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "envelope",
            "registryScopes": [scope],
            "signatureVerification": {"level": level},
            "trustStores": [format!("ca:{store}")],
            "trustedIdentities": identities,
        }]
    }))
    .unwrap();
}

/// A `verify-signature` request as notation 1.3.2 marshals it for a signature without extended
/// attributes (RAW-signed: `unprocessedAttributes` is null, `expiry` Go's zero time).
pub fn request(chain: &[Vec<u8>], identities: &[&str], capabilities: &[&str]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({
        "contractVersion": "1.0",
        "signature": {
            "criticalAttributes": {
                "contentType": "application/vnd.cncf.notary.payload.v1+json",
                "signingScheme": "notary.x509",
                "expiry": "0001-01-01T00:00:00Z",
            },
            "unprocessedAttributes": null,
            "certificateChain": chain.iter().map(|c| b64.encode(c)).collect::<Vec<_>>(),
        },
        "trustPolicy": {
            "trustedIdentities": identities,
            "signatureVerification": capabilities,
        },
    })
}

/// The verifier's answer for one capability: `(success, reason)`, plus the whole response.
#[derive(Debug)]
pub struct Verdict {
    pub success: bool,
    pub reason: String,
    pub elapsed: Duration,
    /// CPU time (user + sys) of the plugin process.
    pub cpu: Duration,
}

/// Runs the built `notation-akv-verifier verify-signature` with `request` on stdin and only
/// `env` in its environment; panics (fails the test) on a non-zero exit or a missing result.
pub fn verify(request: &Value, capability: &str, env: &[(String, String)]) -> Verdict {
    let binary = locate::workspace_binary("notation-akv-verifier")
        .expect("build it: cargo build -p notation-akv-verifier");
    verify_with(&binary, request, capability, env)
}

/// [`verify`] with a given build of the verifier.
pub fn verify_with(
    binary: &Path,
    request: &Value,
    capability: &str,
    env: &[(String, String)],
) -> Verdict {
    let output = run_plugin(
        binary,
        "verify-signature",
        env,
        request.to_string().as_bytes(),
        Duration::from_secs(60),
    );
    let elapsed = output.elapsed;
    assert!(
        output.exit_code == 0,
        "verifier exited {}: {}",
        output.exit_code,
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_slice(&output.stdout).expect("one JSON response");
    let result = &response["verificationResults"][capability];
    Verdict {
        success: result["success"]
            .as_bool()
            .expect("a result for the capability"),
        reason: result["reason"].as_str().unwrap_or_default().to_string(),
        elapsed,
        cpu: output.cpu,
    }
}

/// A private HOME/XDG world for the verifier binary.
pub fn verifier_env(root: &Path) -> Vec<(String, String)> {
    let root = root.to_str().expect("utf-8 path");
    vec![
        ("HOME".into(), root.into()),
        ("XDG_CONFIG_HOME".into(), format!("{root}/verifier-config")),
        ("XDG_CACHE_HOME".into(), format!("{root}/verifier-cache")),
    ]
}

/// A leaf with an arbitrary subject, issued by the test PKI's EC-256 intermediate, registered
/// with notation as a local signing key.
pub struct LocalSigner {
    pub name: String,
    pub chain: Vec<Vec<u8>>,
    pub root_pem_path: PathBuf,
}

/// Issues a code-signing leaf with `subject` (attribute type, value pairs in order) under a
/// chain of the test PKI, writes its key and chain for notation and adds it to
/// `signingkeys.json` (replacing the file: one key, the default).
pub fn local_signer(
    env: &NotationEnv,
    name: &str,
    subject: &[(rcgen::DnType, &str)],
    ca: &akv_test_pki::Chain,
) -> LocalSigner {
    let intermediate = ca.intermediate().expect("a CA-issued chain");
    let issuer = intermediate.rcgen_issuer().expect("issuer");
    let key = TestKey::cached(KeySpec::Ec256, 7).expect("leaf key");
    let key_pair = key.key_pair().expect("key pair");
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    for (kind, value) in subject {
        dn.push(kind.clone(), *value);
    }
    params.distinguished_name = dn;
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    // rcgen's default validity (1975 to 4096) keeps the leaf valid whenever the test runs.
    let mut serial = [0u8; 16];
    serial[..name.len().min(15)].copy_from_slice(&name.as_bytes()[..name.len().min(15)]);
    serial[0] = 0x11;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let leaf = params.signed_by(&key_pair, &issuer).expect("leaf");
    let mut chain = vec![leaf.der().to_vec()];
    chain.extend(ca.certs().iter().skip(1).map(|c| c.der().to_vec()));
    register_local_key(env, name, &key.pkcs8_pem(), chain)
}

/// Writes `key_pem` and `chain` (leaf first) for notation and makes them the only, default
/// signing key `name` in `signingkeys.json`.
pub fn register_local_key(
    env: &NotationEnv,
    name: &str,
    key_pem: &str,
    chain: Vec<Vec<u8>>,
) -> LocalSigner {
    let pem_chain: String = chain
        .iter()
        .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())))
        .collect();
    let key_path = env
        .write_file(&format!("{name}.key"), key_pem)
        .expect("key file");
    let cert_path = env
        .write_file(&format!("{name}.crt"), pem_chain)
        .expect("chain file");
    let root_pem_path = env
        .write_file(
            &format!("{name}-root.crt"),
            pem::encode(&pem::Pem::new(
                "CERTIFICATE",
                chain.last().expect("root").clone(),
            )),
        )
        .expect("root file");
    let keys = json!({
        "default": name,
        "keys": [{"name": name, "keyPath": key_path, "certPath": cert_path}],
    });
    std::fs::write(env.config_dir().join("signingkeys.json"), keys.to_string())
        .expect("signingkeys.json");
    LocalSigner {
        name: name.to_string(),
        chain,
        root_pem_path,
    }
}

/// The EC-256 root → intermediate pair every verifier e2e test signs under.
pub fn test_ca() -> akv_test_pki::Chain {
    ChainBuilder::new(KeySpec::Ec256)
        .build()
        .expect("test CA chain")
}

pub fn sha256_hex(der: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JWS Notary envelope for `artifact`, signed by `key`, with the given critical extended
/// attributes (besides the signing scheme).
pub fn envelope(
    env: &NotationEnv,
    artifact: &Artifact,
    key: &LocalKey,
    extended: &[(&str, &str)],
) -> Vec<u8> {
    let descriptor: Value = serde_json::from_str(
        &env.oras_ok(&[
            "manifest",
            "fetch",
            "--plain-http",
            "--descriptor",
            &artifact.by_digest(),
        ])
        .unwrap()
        .stdout,
    )
    .unwrap();
    let payload = json!({"targetArtifact": {
        "mediaType": descriptor["mediaType"],
        "digest": descriptor["digest"],
        "size": descriptor["size"],
    }});
    let attributes: Vec<Attribute> = extended
        .iter()
        .map(|(key, value)| Attribute {
            key: key.to_string(),
            value: json!(value),
            critical: true,
        })
        .collect();
    let payload = payload.to_string();
    let unsigned = notation_akv_envelope::prepare(
        EnvelopeType::Jws,
        &SignRequest {
            payload: payload.as_bytes(),
            content_type: PAYLOAD_TYPE_NOTARY,
            algorithm: SigningAlgorithm::EcdsaSha256,
            signing_time: time::OffsetDateTime::now_utc() - Duration::from_secs(60),
            expiry: None,
            extended_attributes: &attributes,
            certificate_chain: key.chain(),
            signing_agent: "notation-akv e2e test envelope",
        },
    )
    .unwrap();
    let signature = key.sign("SHA-256", unsigned.signing_input()).unwrap();
    unsigned.finish(signature).unwrap()
}

/// Pushes an artifact to `repository` and attaches a JWS envelope of it, signed by `key` with the
/// `extended` critical attributes, as its Notary signature.
pub fn signed_artifact(
    env: &NotationEnv,
    registry: &Registry,
    repository: &str,
    tag: &str,
    key: &LocalKey,
    extended: &[(&str, &str)],
) -> Artifact {
    let artifact = env
        .push_artifact(registry, repository, tag, tag.as_bytes())
        .unwrap();
    let file = format!("{tag}.sig.jws");
    env.write_file(&file, envelope(env, &artifact, key, extended))
        .unwrap();
    let thumbprints: Vec<String> = key.chain().iter().map(|c| sha256_hex(c)).collect();
    env.oras_ok(&[
        "attach",
        "--plain-http",
        "--artifact-type",
        "application/vnd.cncf.notary.signature",
        "--annotation",
        &format!(
            "io.cncf.notary.x509chain.thumbprint#S256={}",
            serde_json::to_string(&thumbprints).unwrap()
        ),
        &artifact.by_digest(),
        &format!("{file}:application/jose+json"),
    ])
    .unwrap();
    artifact
}

/// Registers `leaf` (under `intermediate` and `root`) as notation's local signing key `name`
/// and loads it for signing envelopes.
pub fn local_key(
    env: &NotationEnv,
    name: &str,
    leaf: &Issued,
    intermediate: &TestCa,
    root: &TestCa,
) -> LocalKey {
    let chain = vec![
        leaf.der.clone(),
        intermediate.der().to_vec(),
        root.der().to_vec(),
    ];
    register_local_key(env, name, &leaf.key.pkcs8_pem(), chain);
    let work = env.work_dir();
    LocalKey::load(
        &work.join(format!("{name}.key")),
        &work.join(format!("{name}.crt")),
    )
    .unwrap()
}

/// root → intermediate → two leaves answered by one OCSP responder: `good` is good, `revoked`
/// was revoked ten minutes ago for keyCompromise.
pub struct OcspPki {
    pub root: TestCa,
    pub intermediate: TestCa,
    pub good: Issued,
    pub revoked: Issued,
}

impl OcspPki {
    /// Certificates named `<prefix> root`, `<prefix> intermediate`, `<prefix> leaf` and
    /// `<prefix> revoked leaf`, registered with `responder`.
    pub fn new(responder: &OcspResponder, prefix: &str) -> OcspPki {
        let root = TestCa::root(&format!("{prefix} root")).unwrap();
        let intermediate = root
            .intermediate(
                &format!("{prefix} intermediate"),
                &CertOptions::ocsp(responder.url()),
            )
            .unwrap();
        let good = intermediate
            .issue(
                &format!("{prefix} leaf"),
                &CertOptions::ocsp(responder.url()),
            )
            .unwrap();
        let revoked = intermediate
            .issue(
                &format!("{prefix} revoked leaf"),
                &CertOptions::ocsp(responder.url()),
            )
            .unwrap();
        responder.add_ca(&root).unwrap();
        responder.add_ca(&intermediate).unwrap();
        responder.set_status(intermediate.serial(), Status::Good);
        responder.set_status(&good.serial, Status::Good);
        responder.set_status(
            &revoked.serial,
            Status::revoked(
                SystemTime::now() - Duration::from_secs(600),
                Some(Reason::KeyCompromise),
            ),
        );
        OcspPki {
            root,
            intermediate,
            good,
            revoked,
        }
    }

    /// Local signing keys `good` and `revoked` for notation, with their chains.
    pub fn keys(&self, env: &NotationEnv) -> (LocalKey, LocalKey) {
        (
            local_key(env, "good", &self.good, &self.intermediate, &self.root),
            local_key(
                env,
                "revoked",
                &self.revoked,
                &self.intermediate,
                &self.root,
            ),
        )
    }
}
