//! The Ratify v1 guide of `deploy/ratify/`: its Helm values and resources parse, agree with each
//! other and name our binary, plugin and settings as the code does; and the release verifier runs
//! the way Ratify runs it: a flat plugin directory holding `notation-akv-verifier` (mode 0700, as
//! Ratify's plugin download writes it), a `verify-signature` request without plugin config (a
//! request notation 1.3.2 sent, `spec/examples/`), and the settings from the guide's environment
//! variables or from its config file. The static binary in a distroless-like root as 65532 is
//! `release_chroot.rs`'s test.

mod recipes_support;
mod release_support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use notation_akv_e2e::locate::repo_root;
use recipes_support::*;
use release_support::{VERSION, archive, dist_dir, extract};
use serde_json::Value;

const RATIFY_API: &str = "config.ratify.deislabs.io/v1beta1";
const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
const IDENTITY: &str = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY";

#[test]
fn the_manifests_parse_agree_and_name_our_binary_plugin_and_settings() {
    let dir = deploy_dir("ratify");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            assert!(!yaml_documents(&path).is_empty(), "{}", path.display());
            names.push(path.file_name().unwrap().to_str().unwrap().to_string());
        }
    }
    assert!(names.len() >= 9, "{names:?}");
    let plugin = plugin_name("notation-akv-verifier");
    let binary = format!("notation-{plugin}");

    // The download-only Verifier: our binary's file name, at the release version, and never run
    // as a Ratify verifier plugin (an artifact type no artifact has).
    let download = doc("verifier-plugin-download.yaml");
    assert_eq!(download["apiVersion"], RATIFY_API);
    assert_eq!(download["spec"]["name"], binary.as_str());
    let types = download["spec"]["artifactTypes"].as_str().unwrap();
    assert!(
        types != NOTARY_SIGNATURE && types != "*",
        "{types}: Ratify would run notation-akv-verifier as its own kind of plugin"
    );
    assert!(
        download["spec"]["source"]["artifact"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{binary}:{VERSION}"))
    );
    let text = std::fs::read_to_string(dir.join("verifier-plugin-download.yaml")).unwrap();
    let archives = archive_names_in(&text);
    assert!(!archives.is_empty());
    let dist = dist_archive_names(&dist_dir());
    for name in &archives {
        assert!(
            dist.contains(name),
            "{name} is not a release asset: {dist:?}"
        );
    }
    extract(
        &archive(&plugin),
        &plugin,
        tempfile::tempdir().unwrap().path(),
    );

    // The KeyManagementProvider both Verifiers read.
    let kmp = doc("keymanagementprovider-akv.yaml");
    assert_eq!(kmp["kind"], "KeyManagementProvider");
    assert_eq!(kmp["spec"]["type"], "azurekeyvault");
    let kmp_name = kmp["metadata"]["name"].as_str().unwrap();
    assert_eq!(doc("store-oras.yaml")["kind"], "Store");

    for (file, values, prefix) in [
        ("verifier-raw.yaml", "values-raw.yaml", "x509.subject:"),
        ("verifier-envelope.yaml", "values-envelope.yaml", "akv.key:"),
    ] {
        let verifier = doc(file);
        assert_eq!(verifier["kind"], "Verifier", "{file}");
        assert_eq!(verifier["spec"]["name"], "notation", "{file}");
        assert_eq!(verifier["spec"]["artifactTypes"], NOTARY_SIGNATURE);
        let stores = &verifier["spec"]["parameters"]["verificationCertStores"];
        for statement in statements(&verifier) {
            for store in statement["trustStores"].as_array().unwrap() {
                let (kind, name) = store.as_str().unwrap().split_once(':').unwrap();
                let providers = stores[kind][name].as_array().unwrap();
                assert!(providers.iter().all(|p| p == kmp_name), "{file}: {store}");
            }
            for identity in statement["trustedIdentities"].as_array().unwrap() {
                assert!(identity.as_str().unwrap().starts_with(prefix), "{file}");
            }
        }
        // The Helm values say the same: the chart renders this Verifier.
        let values = doc(values);
        assert_eq!(values["notation"]["enabled"], true);
        assert_eq!(values["azurekeyvault"]["enabled"], true);
        assert_eq!(
            values["azurekeyvault"]["certificates"],
            kmp["spec"]["parameters"]["certificates"]
        );
        let helm = &values["notation"]["trustPolicies"][0];
        let resource = &statements(&verifier)[0];
        assert_eq!(helm["trustStores"][0], "ca:azurekeyvault", "{values}");
        for key in ["name", "registryScopes", "trustedIdentities"] {
            assert_eq!(helm[key], resource[key], "{file}: {key}");
        }
        assert_eq!(helm["level"], resource["signatureVerification"]["level"]);
    }
    let pin = statements(&doc("verifier-envelope.yaml"))[0]["trustedIdentities"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(pin.contains(".vault.azure.net/keys/"), "{pin}");

    // Envelope route: dynamic plugins on, and every variable is a verifier setting.
    let values = doc("values-envelope.yaml");
    assert_eq!(
        values["featureFlags"]["RATIFY_EXPERIMENTAL_DYNAMIC_PLUGINS"],
        true
    );
    let env = env_list(&values["env"]);
    assert!(!env.is_empty());
    for (name, _) in &env {
        assert!(
            is_verifier_variable(name),
            "{name} is not a verifier setting"
        );
    }
    // And in the offline-bundle patch of deploy/kubernetes, which the guide points to.
    let offline = yaml(&repo_root().join("deploy/kubernetes/ratify-offline-bundle.yaml"));
    for (name, _) in env_list(&offline["spec"]["template"]["spec"]["containers"][0]["env"]) {
        assert!(is_verifier_variable(&name), "{name}");
    }

    // The config file: only verifier keys, mounted where NOTATION_AKV_VERIFIER_CONFIG points.
    let (file, path) = config_file();
    let keys = verifier_keys();
    for key in file.as_object().unwrap().keys() {
        assert!(keys.contains(key.as_str()), "{key} is not a verifier key");
    }
    assert!(path.starts_with('/'), "{path}");
}

/// Runs `<plugins>/notation-akv-verifier verify-signature` with exactly `env` and returns the
/// trusted-identity verdict (success, reason).
fn identity_verdict(
    binary: &Path,
    request: &Value,
    env: &[(String, String)],
) -> (bool, String, Value) {
    let run = akv_test_vault::run_plugin(
        binary,
        "verify-signature",
        env,
        request.to_string().as_bytes(),
        Duration::from_secs(60),
    );
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let response: Value = serde_json::from_slice(&run.stdout).expect("one JSON response");
    let result = &response["verificationResults"][IDENTITY];
    (
        result["success"].as_bool().unwrap(),
        result["reason"].as_str().unwrap_or_default().to_string(),
        response,
    )
}

#[test]
fn the_verifier_runs_as_ratify_runs_it_with_the_guides_settings() {
    // Ratify's plugin directory: flat, the file named notation-<plugin>, mode 0700.
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path();
    let unpacked = extract(
        &archive("akv-verifier"),
        "akv-verifier",
        &root.join("unpacked"),
    );
    let plugins = root.join(".ratify/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let binary = plugins.join("notation-akv-verifier");
    std::fs::copy(&unpacked, &binary).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A request notation 1.3.2 sent, no pluginConfig, with the guide's pin.
    let (request, signing_key) = ratify_guide_request();

    // The pod's environment: HOME (not writable in Ratify's image) and the guide's variables;
    // its paths moved under the scratch directory.
    let home = root.join("home/nonroot");
    std::fs::create_dir_all(&home).unwrap();
    let local = |value: &str| {
        if value.starts_with('/') {
            root.join(value.trim_start_matches('/'))
                .display()
                .to_string()
        } else {
            value.to_string()
        }
    };
    let base = vec![("HOME".to_string(), home.display().to_string())];
    let mut from_env = base.clone();
    for (name, value) in env_list(&doc("values-envelope.yaml")["env"]) {
        from_env.push((name, local(&value)));
    }
    let (ok, reason, response) = identity_verdict(&binary, &request, &from_env);
    assert!(
        ok,
        "identity by the guide's pin, settings from env: {reason}\n{response}"
    );
    assert!(
        response["verificationResults"]["SIGNATURE_VERIFIER.REVOCATION_CHECK"].is_object(),
        "{response}"
    );

    // Another key is refused.
    let mut other = request.clone();
    other["trustPolicy"]["trustedIdentities"] =
        serde_json::json!([format!("akv.key:{signing_key}-other")]);
    assert!(!identity_verdict(&binary, &other, &from_env).0);

    // The variables are read: a bad one fails the verification, naming it.
    let mut bad = from_env.clone();
    bad.push(("NOTATION_AKV_VERIFIER_OCSP_TIMEOUT".into(), "2".into()));
    let (ok, reason, _) = identity_verdict(&binary, &request, &bad);
    assert!(
        !ok && reason.contains("NOTATION_AKV_VERIFIER_OCSP_TIMEOUT"),
        "{reason}"
    );

    // The same settings from the config file, where the patch mounts it.
    let (mut file, path) = config_file();
    let settings: BTreeMap<String, Value> = file
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = match v.as_str() {
                Some(s) => Value::String(local(s)),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    file = serde_json::to_value(settings).unwrap();
    let file_path = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file_path.parent().unwrap()).unwrap();
    std::fs::write(&file_path, file.to_string()).unwrap();
    let mut from_file = base.clone();
    from_file.push((
        notation_akv_verifier::config::CONFIG_FILE_ENV.to_string(),
        file_path.display().to_string(),
    ));
    let (ok, reason, _) = identity_verdict(&binary, &request, &from_file);
    assert!(ok, "settings from the file: {reason}");

    // The file is read: a misspelt key fails, naming it.
    let mut typo = file.clone();
    typo["ocsp_timout"] = Value::String("2s".into());
    std::fs::write(&file_path, typo.to_string()).unwrap();
    let (ok, reason, _) = identity_verdict(&binary, &request, &from_file);
    assert!(!ok && reason.contains("ocsp_timout"), "{reason}");
}

/// Ratify's built-in notation verifier is notation-go, as is the notation CLI: the guide's RAW
/// trust policy document, given to notation 1.3.2 as it is (the registry scope moved to the
/// local registry), verifies a RAW signature by `akv` with the `x509.subject` identity the guide
/// names, and trusts the chain through the store the KeyManagementProvider fills.
#[test]
fn the_raw_route_trust_policy_verifies_an_akv_raw_signature_with_notation_go() {
    use akv_test_pki::{ChainBuilder, KeySpec, Subject};
    use akv_test_vault::{CertificateOptions, CredentialKind, TestVault};
    use notation_akv_e2e::{NotationEnv, Registry};

    let verifier = doc("verifier-raw.yaml");
    let identity = statements(&verifier)[0]["trustedIdentities"][0]
        .as_str()
        .unwrap()
        .to_string();
    // The guide's subject, as the signing certificate has it.
    let subject = Subject {
        country: "US".into(),
        state: "WA".into(),
        locality: None,
        organization: "Contoso".into(),
        common_name: "image-signer".into(),
    };
    assert_eq!(
        identity,
        format!("x509.subject: {}", subject.to_dn_string())
    );

    let vault = TestVault::start().unwrap();
    let chain = ChainBuilder::new(KeySpec::Rsa3072)
        .subject(subject)
        .build()
        .unwrap();
    let cert = vault
        .add_certificate("image-signer", &chain, CertificateOptions::default())
        .unwrap();
    let registry = Registry::start().unwrap();
    let mut env = NotationEnv::new().unwrap();
    for (key, value) in vault.credential_env(CredentialKind::ClientSecret) {
        env.set_env(key, value);
    }
    let signer = extract(&archive("akv"), "akv", &env.root().join("unpacked"));
    env.install_plugin(&signer).unwrap();
    let artifact = env
        .push_artifact(&registry, "base/runtime", "v1", b"a base image")
        .unwrap();
    env.notation_ok(&[
        "sign",
        "--plugin",
        "akv",
        "--id",
        &cert.kid,
        &artifact.by_digest(),
    ])
    .unwrap();

    // The chain's root in the store the policy names (Ratify fills it from kmprovider-akv).
    let mut policy = verifier["spec"]["parameters"]["trustPolicyDoc"].clone();
    let statement = &mut policy["trustPolicies"][0];
    let (_, store) = statement["trustStores"][0]
        .as_str()
        .unwrap()
        .split_once(':')
        .unwrap();
    let root = env
        .write_file("akv-root.pem", chain.root().unwrap().pem())
        .unwrap();
    env.add_ca_cert(store, &root).unwrap();
    let scopes: Vec<String> = statement["registryScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap()
                .replace("contoso.azurecr.io", &registry.host())
        })
        .collect();
    statement["registryScopes"] = serde_json::json!(scopes);
    env.import_trust_policy(&policy).unwrap();
    let out = env.notation_ok(&["verify", &artifact.by_digest()]).unwrap();
    assert!(out.stdout.contains("Successfully verified"), "{out:?}");
}
