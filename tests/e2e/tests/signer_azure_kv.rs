//! Drop-in parity with azure-kv through the real notation 1.3.2 CLI: the cases of azure-kv's own
//! end-to-end suite (self-signed PEM and PKCS#12 secrets; imported CA-issued chains as PEM and
//! PKCS#12, ordered and unordered; CSR-merged chains; partial chains completed by `ca_certs`;
//! its failure cases) for both id forms — the `/keys/` id that
//! `az keyvault certificate show --query kid` prints, and the `/certificates/` id — versioned,
//! versionless and versionless with a trailing slash, each signature verified by
//! `notation verify`. Then Microsoft's tutorial command lines run verbatim in bash with only the
//! vault host and `--plugin` changed, and a versionless `/keys/` id across a rotation.

use akv_test_pki::{BundleOrder, KeySpec};
use akv_test_vault::fixtures::names;
use akv_test_vault::{CertificateOptions, CertificateVersion, SecretFormat, shared_with_fixtures};
use notation_akv_e2e::trust_policy;

mod signer_support;

use signer_support::{STORE, World};

/// One vault certificate as azure-kv's suite stores it, and the plugin config it signs with.
struct Case {
    /// Vault name of the certificate (and its key and secret).
    name: &'static str,
    /// The shared fixture whose chain it holds (its root is what the verifier trusts).
    fixture: String,
    options: CertificateOptions,
    /// `ca_certs` holds the fixture's issuers in this order.
    ca_certs: Option<BundleOrder>,
    self_signed: bool,
}

fn cases() -> Vec<Case> {
    let case = |name, fixture: String, options| Case {
        name,
        fixture,
        options,
        ca_certs: None,
        self_signed: false,
    };
    let pkcs12 = |order| CertificateOptions {
        secret_format: SecretFormat::Pkcs12,
        secret_order: order,
        ..Default::default()
    };
    let pem = |order| CertificateOptions {
        secret_order: order,
        ..Default::default()
    };
    vec![
        Case {
            self_signed: true,
            ..case(
                "azkv-self-signed-pem",
                names::self_signed(KeySpec::Ec256),
                pem(BundleOrder::LeafFirst),
            )
        },
        Case {
            self_signed: true,
            ..case(
                "azkv-self-signed-pkcs12",
                names::self_signed(KeySpec::Rsa2048),
                pkcs12(BundleOrder::LeafFirst),
            )
        },
        case(
            "azkv-imported-ca-issued-pem",
            names::ca_issued(KeySpec::Ec384),
            pem(BundleOrder::LeafFirst),
        ),
        case(
            "azkv-imported-ca-issued-pem-unordered",
            names::ca_issued(KeySpec::Rsa3072),
            pem(BundleOrder::Scrambled),
        ),
        case(
            "azkv-imported-ca-issued-pkcs12",
            names::ca_issued(KeySpec::Ec256),
            pkcs12(BundleOrder::LeafFirst),
        ),
        // A PKCS#12 import keeps (and .NET reverses) the import order: root first here.
        case(
            "azkv-imported-ca-issued-pkcs12-unordered",
            names::ca_issued(KeySpec::Ec521),
            pkcs12(BundleOrder::RootFirst),
        ),
        // After a CSR merge the vault serves the leaf with the merged chain, leaf first.
        case(
            "azkv-csr-ca-issued-pem-chain",
            names::ca_issued(KeySpec::Rsa2048),
            pem(BundleOrder::LeafFirst),
        ),
        case(
            "azkv-csr-ca-issued-pkcs12-chain",
            names::ca_issued(KeySpec::Rsa2048),
            pkcs12(BundleOrder::LeafFirst),
        ),
        Case {
            ca_certs: Some(BundleOrder::RootFirst),
            ..case(
                "azkv-partial-pem-cert-chain",
                names::ca_issued(KeySpec::Ec256),
                CertificateOptions {
                    without_root: true,
                    ..Default::default()
                },
            )
        },
        Case {
            ca_certs: Some(BundleOrder::Scrambled),
            ..case(
                "azkv-partial-pkcs12-cert-chain",
                names::ca_issued(KeySpec::Ec384),
                CertificateOptions {
                    secret_format: SecretFormat::Pkcs12,
                    leaf_only: true,
                    ..Default::default()
                },
            )
        },
    ]
}

/// The issuers of fixture `fixture` in `order`, as a `ca_certs` bundle holds them.
fn issuers(fixture: &str, order: BundleOrder) -> String {
    shared_with_fixtures()
        .fixtures
        .get(fixture)
        .chain
        .issuers_pem(order)
}

/// Stores `case` in the shared vault (once per test process and name).
fn store(case: &Case) -> CertificateVersion {
    static STORED: std::sync::Mutex<Vec<(String, CertificateVersion)>> =
        std::sync::Mutex::new(Vec::new());
    let mut stored = STORED.lock().unwrap();
    if let Some((_, v)) = stored.iter().find(|(n, _)| n == case.name) {
        return v.clone();
    }
    let s = shared_with_fixtures();
    let version = s
        .vault
        .add_certificate(
            case.name,
            &s.fixtures.get(&case.fixture).chain,
            case.options.clone(),
        )
        .unwrap();
    stored.push((case.name.to_string(), version.clone()));
    version
}

/// Signs every case with the id `form` makes of its certificate, in COSE as azure-kv's suite
/// does, and verifies each signature with notation.
fn sign_every_case(form: impl Fn(&CertificateVersion) -> String) {
    let w = World::new();
    let mut trusted = Vec::new();
    for case in cases() {
        if !trusted.contains(&case.fixture) {
            w.trust(&case.fixture);
            trusted.push(case.fixture.clone());
        }
    }
    for case in cases() {
        let id = form(&store(&case));
        let mut config = Vec::new();
        if case.self_signed {
            config.push("self_signed=true".to_string());
        }
        if let Some(order) = case.ca_certs {
            let file = w
                .env
                .write_file(
                    &format!("{}-bundle.pem", case.name),
                    issuers(&case.fixture, order),
                )
                .unwrap();
            config.push(format!("ca_certs={}", file.display()));
        }
        let config: Vec<&str> = config.iter().map(String::as_str).collect();
        let artifact = w.push(case.name);
        w.sign(&artifact, &id, "cose", &config);
        w.verify(&artifact);
    }
}

fn vault_url() -> &'static str {
    shared_with_fixtures().vault.url()
}

#[test]
fn versioned_key_ids_from_the_certificates_kid() {
    sign_every_case(|v| v.kid.clone());
}

#[test]
fn versionless_key_ids_with_and_without_a_trailing_slash() {
    sign_every_case(|v| format!("{}/keys/{}", vault_url(), v.name));
    sign_every_case(|v| format!("{}/keys/{}/", vault_url(), v.name));
}

#[test]
fn certificate_ids_versioned_and_versionless() {
    sign_every_case(|v| v.id.clone());
    sign_every_case(|v| format!("{}/certificates/{}", vault_url(), v.name));
}

/// azure-kv's failure cases: each fails, with our message naming the fix.
#[test]
fn azure_kv_failure_cases_fail_with_the_fix() {
    let w = World::new();
    let all = cases();
    let by_name = |name: &str| all.iter().find(|c| c.name == name).unwrap();
    let self_signed = store(by_name("azkv-self-signed-pem"));
    let partial = by_name("azkv-partial-pem-cert-chain");
    let partial_id = store(partial).kid;
    let imported = store(by_name("azkv-imported-ca-issued-pem")).kid;
    let a = w.push("fails");
    // An invalid certificate version.
    let invalid = format!("{}/keys/{}/invalid", vault_url(), self_signed.name);
    let err = w.sign_fails(&a, &invalid, &["self_signed=true"]);
    assert!(err.contains("check the name and version in --id"), "{err}");
    // A partial chain with a bundle that holds only the root.
    let chain = &shared_with_fixtures().fixtures.get(&partial.fixture).chain;
    let root_only = w
        .env
        .write_file("root.pem", chain.root().unwrap().pem())
        .unwrap();
    let err = w.sign_fails(
        &a,
        &partial_id,
        &[&format!("ca_certs={}", root_only.display())],
    );
    assert!(err.contains("ca_certs"), "{err}");
    // A partial chain without a bundle.
    let err = w.sign_fails(&a, &partial_id, &[]);
    assert!(err.contains("ca_certs=<bundle.pem>"), "{err}");
    // A CA-issued chain signed as self-signed.
    let err = w.sign_fails(&a, &imported, &["self_signed=true"]);
    assert!(err.contains("self_signed=true, but certificate"), "{err}");
    // self_signed together with ca_certs.
    let bundle = w
        .env
        .write_file(
            "bundle.pem",
            issuers(&partial.fixture, BundleOrder::LeafFirst),
        )
        .unwrap();
    let err = w.sign_fails(
        &a,
        &imported,
        &[
            "self_signed=true",
            &format!("ca_certs={}", bundle.display()),
        ],
    );
    assert!(err.contains("remove one of them"), "{err}");
}

#[test]
fn key_add_with_a_key_id_then_sign_with_the_key() {
    let w = World::new();
    let all = cases();
    let case = all
        .iter()
        .find(|c| c.name == "azkv-self-signed-pkcs12")
        .unwrap();
    let version = store(case);
    w.trust(&case.fixture);
    w.env
        .notation_ok(&[
            "key",
            "add",
            "akv-kid",
            "--plugin",
            "akv",
            "--id",
            &version.kid,
            "--plugin-config",
            "self_signed=true",
        ])
        .unwrap();
    let a = w.push("by-key");
    w.env
        .notation_ok(&["sign", "--key", "akv-kid", &a.by_digest()])
        .unwrap();
    w.verify(&a);
}

/// Microsoft's "sign container images with Notation and Azure Key Vault" tutorials (self-signed
/// and CA-issued), their command lines as written, with `--plugin akv` and the test vault's host.
/// `az keyvault certificate show --query kid` is what sets `KEY_ID` there; here the same value
/// comes from the vault's certificate bundle.
#[test]
fn microsoft_tutorial_command_lines_run_verbatim() {
    let w = World::new();
    let all = cases();
    let self_signed = all
        .iter()
        .find(|c| c.name == "azkv-self-signed-pem")
        .unwrap();
    let ca = all
        .iter()
        .find(|c| c.name == "azkv-csr-ca-issued-pem-chain")
        .unwrap();
    let partial = all
        .iter()
        .find(|c| c.name == "azkv-partial-pem-cert-chain")
        .unwrap();
    let chain_of = |c: &Case| &shared_with_fixtures().fixtures.get(&c.fixture).chain;
    let subject = |c: &Case| {
        let s = chain_of(c).leaf().subject();
        format!(
            "CN={},O={},L={},ST={},C={}",
            s.common_name,
            s.organization,
            s.locality.clone().unwrap_or_default(),
            s.state,
            s.country
        )
    };
    let root_of = |c: &Case| {
        let chain = chain_of(c);
        chain.root().unwrap_or_else(|| chain.leaf()).pem()
    };
    w.env
        .write_file("self-signed.pem", root_of(self_signed))
        .unwrap();
    w.env.write_file("ca-root.pem", root_of(ca)).unwrap();
    w.env
        .write_file(
            "cert-bundle.pem",
            issuers(&partial.fixture, BundleOrder::LeafFirst),
        )
        .unwrap();
    let image = w.push("tutorial");
    let script = format!(
        r#"
REGISTRY={registry}
REPO=signed
IMAGE={image}
# KEY_ID=$(az keyvault certificate show -n $CERT_NAME --vault-name $AKV_NAME --query 'kid' -o tsv)
KEY_ID={self_signed_kid}
CERT_SUBJECT="{self_signed_subject}"
CERT_PATH=./self-signed.pem
STORE_TYPE="ca"
STORE_NAME="wabbit-networks.io"

# Self-signed tutorial: sign, list, trust, verify.
notation sign --signature-format cose --id $KEY_ID --plugin akv --plugin-config self_signed=true $IMAGE
notation ls $IMAGE
notation cert add --type $STORE_TYPE --store $STORE_NAME $CERT_PATH
cat <<EOF > ./trustpolicy.json
{{
    "version": "1.0",
    "trustPolicies": [
        {{
            "name": "wabbit-networks-images",
            "registryScopes": [ "$REGISTRY/$REPO" ],
            "signatureVerification": {{
                "level" : "strict"
            }},
            "trustStores": [ "$STORE_TYPE:$STORE_NAME" ],
            "trustedIdentities": [
                "x509.subject: $CERT_SUBJECT"
            ]
        }}
    ]
}}
EOF
notation policy import ./trustpolicy.json --force
notation policy show
notation verify $IMAGE
echo "self-signed tutorial: verified"

# CA-issued tutorial: the chain merged into the vault, then a chain completed by a bundle.
KEY_ID={ca_kid}
CERT_SUBJECT="{ca_subject}"
notation cert add --type $STORE_TYPE --store $STORE_NAME ./ca-root.pem
notation sign $IMAGE --id $KEY_ID --plugin akv
KEY_ID={partial_kid}
CERT_BUNDLE_PATH=./cert-bundle.pem
notation sign $IMAGE --id $KEY_ID --plugin akv --plugin-config ca_certs=$CERT_BUNDLE_PATH
echo "ca-issued tutorial: signed twice"
"#,
        registry = w.registry.host(),
        image = image.by_digest(),
        self_signed_kid = store(self_signed).kid,
        self_signed_subject = subject(self_signed),
        ca_kid = store(ca).kid,
        ca_subject = subject(ca),
        partial_kid = store(partial).kid,
    );
    let out = w
        .env
        .shell(&script)
        .unwrap_or_else(|e| panic!("tutorial script: {e}\nlog:\n{}", w.log()));
    assert!(out.success(), "{out:?}\nlog:\n{}", w.log());
    assert!(
        out.stdout.contains("self-signed tutorial: verified"),
        "{out:?}"
    );
    assert!(out.stdout.contains("Successfully verified"), "{out:?}");
    assert!(
        out.stdout.contains("ca-issued tutorial: signed twice"),
        "{out:?}"
    );
    // The CA-issued signatures verify against their roots with the subject identities.
    let policy = trust_policy(
        &w.registry.repository("signed"),
        STORE,
        &[
            &format!("x509.subject: {}", subject(ca)),
            &format!("x509.subject: {}", subject(partial)),
        ],
    );
    w.trust(&ca.fixture);
    w.trust(&partial.fixture);
    w.env.import_trust_policy(&policy).unwrap();
    let verified = w.env.notation_ok(&["verify", &image.by_digest()]).unwrap();
    assert!(
        verified.stdout.contains("Successfully verified"),
        "{verified:?}"
    );
}

#[test]
fn a_versionless_key_id_follows_rotation_and_old_signatures_still_verify() {
    let mut w = World::new();
    w.env.set_env("NOTATION_AKV_CACHE_TTL", "1s");
    let s = shared_with_fixtures();
    let old_fixture = names::self_signed(KeySpec::Ec256);
    let new_fixture = names::self_signed(KeySpec::Ec384);
    w.trust(&old_fixture);
    w.trust(&new_fixture);
    let name = "azkv-rotating";
    let first = s
        .vault
        .add_certificate(
            name,
            &s.fixtures.get(&old_fixture).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    let id = format!("{}/keys/{name}", vault_url());
    let before = w.push("before-rotation");
    w.sign(&before, &id, "jws", &["self_signed=true"]);
    let second = s
        .vault
        .add_certificate(
            name,
            &s.fixtures.get(&new_fixture).chain,
            CertificateOptions::default(),
        )
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let after = w.push("after-rotation");
    w.sign(&after, &id, "jws", &["self_signed=true"]);
    w.verify(&before);
    w.verify(&after);
    let inspect = w
        .env
        .notation_ok(&["inspect", "--output", "json", &after.by_digest()])
        .unwrap();
    assert!(
        inspect.stdout.contains("ECDSA-SHA-384") || inspect.stdout.contains("ECDSA_SHA_384"),
        "the new version's EC-384 key signed: {}",
        inspect.stdout
    );
    let signs: Vec<String> = s
        .vault
        .requests()
        .iter()
        .filter(|r| r.bearer && r.path.ends_with("/sign") && r.path.contains("/azkv-rotating/"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        signs,
        [
            format!("/keys/{name}/{}/sign", first.version),
            format!("/keys/{name}/{}/sign", second.version)
        ]
    );
}
