//! Shared by the recipe tests (`recipes_github.rs`, `recipes_ratify.rs`): reading the YAML of
//! `deploy/`, and the names the recipes may use, taken from the code itself (the plugins' metadata
//! and their config key tables), so a renamed key or plugin fails the recipe test.
#![allow(dead_code)] // each test binary uses a different part

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notation_akv_e2e::locate::{self, repo_root};
use serde::Deserialize;
use serde_json::Value;

/// `deploy/<sub>` of the repository under test.
pub fn deploy_dir(sub: &str) -> PathBuf {
    repo_root().join("deploy").join(sub)
}

/// Every YAML document of a file, as JSON values (`---` separates documents).
pub fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|document| {
            Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()))
        })
        .filter(|document| !document.is_null())
        .collect()
}

/// The single YAML document of a file.
pub fn yaml(path: &Path) -> Value {
    let mut documents = yaml_documents(path);
    assert_eq!(documents.len(), 1, "{}: one document", path.display());
    documents.remove(0)
}

/// A JSON file.
pub fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The keys `--plugin-config` accepts for the signer (`notation-akv`).
pub fn signer_keys() -> BTreeSet<&'static str> {
    notation_akv::config::valid_keys().into_iter().collect()
}

/// The verifier's keys (`notation-akv-verifier`), each also `NOTATION_AKV_VERIFIER_<KEY>`.
pub fn verifier_keys() -> BTreeSet<&'static str> {
    notation_akv_verifier::config::KEYS
        .iter()
        .map(|key| key.name)
        .collect()
}

/// Whether `name` is a variable the verifier reads: `NOTATION_AKV_VERIFIER_<KEY>` for one of its
/// keys, or the config-file variable.
pub fn is_verifier_variable(name: &str) -> bool {
    use notation_akv_verifier::config::{CONFIG_FILE_ENV, ENV_PREFIX};
    name == CONFIG_FILE_ENV
        || name
            .strip_prefix(ENV_PREFIX)
            .is_some_and(|key| verifier_keys().contains(key.to_ascii_lowercase().as_str()))
}

/// Whether `name` is `NOTATION_AKV_<KEY>` for a key of the signer.
pub fn is_signer_variable(name: &str) -> bool {
    name.strip_prefix(notation_akv_keyvault::settings::ENV_PREFIX)
        .is_some_and(|key| signer_keys().contains(key.to_ascii_lowercase().as_str()))
}

/// The `NOTATION_AKV_*` names (either plugin's prefix) that occur in `text`, whole words.
pub fn notation_akv_variables_in(text: &str) -> BTreeSet<String> {
    let prefix = notation_akv_keyvault::settings::ENV_PREFIX.trim_end_matches('_');
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let word: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + word.len().max(1)..];
        names.insert(word);
    }
    names
}

/// The plugin name `notation-<binary>` (the debug build) reports in `get-plugin-metadata`.
pub fn plugin_name(binary: &str) -> String {
    let path = locate::workspace_binary(binary)
        .unwrap_or_else(|e| panic!("{e}: run `cargo build --workspace --bins`"));
    let run = akv_test_vault::run_plugin(
        &path,
        "get-plugin-metadata",
        &[],
        br#"{"contractVersion":"1.0"}"#,
        Duration::from_secs(60),
    );
    assert_eq!(run.exit_code, 0, "{}", String::from_utf8_lossy(&run.stderr));
    let metadata: Value = serde_json::from_slice(&run.stdout).unwrap();
    metadata["name"].as_str().unwrap().to_string()
}

/// The release archive names `bash install.sh --dist` wrote (`target/release-dist`).
pub fn dist_archive_names(dist: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dist)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run `bash install.sh --dist --out target/release-dist` first",
                dist.display()
            )
        })
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The release asset names (`notation-akv…_<version>_<os>_<arch>.tar.gz|.zip`) in `text`.
pub fn archive_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in text.match_indices("notation-akv") {
        let word: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        let word = word.trim_end_matches('.');
        if word.ends_with(".tar.gz") || word.ends_with(".zip") {
            names.insert(word.to_string());
        }
    }
    names
}

// ---- the Ratify guide (deploy/ratify)

/// A file of `deploy/ratify/` (one YAML document).
pub fn doc(name: &str) -> Value {
    yaml(&deploy_dir("ratify").join(name))
}

/// `env:` entries (`- name: … value: …`) as pairs.
pub fn env_list(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The trust policy statements of a notation Verifier resource.
pub fn statements(verifier: &Value) -> &Vec<Value> {
    verifier["spec"]["parameters"]["trustPolicyDoc"]["trustPolicies"]
        .as_array()
        .unwrap()
}

/// The guide's config file (the ConfigMap's `verifier.json`) and the path the Deployment patch
/// mounts it at and names in `NOTATION_AKV_VERIFIER_CONFIG`.
pub fn config_file() -> (Value, String) {
    let map = doc("verifier-config-file.yaml");
    assert_eq!(map["kind"], "ConfigMap");
    let (file_name, contents) = map["data"].as_object().unwrap().iter().next().unwrap();
    let file: Value = serde_json::from_str(contents.as_str().unwrap()).unwrap();
    let patch = doc("ratify-config-file-patch.yaml");
    let pod = &patch["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["name"], "ratify");
    let (name, path) = env_list(&container["env"]).remove(0);
    assert_eq!(name, notation_akv_verifier::config::CONFIG_FILE_ENV);
    let mount = &container["volumeMounts"][0];
    assert_eq!(
        path,
        format!("{}/{file_name}", mount["mountPath"].as_str().unwrap())
    );
    assert_eq!(pod["volumes"][0]["name"], mount["name"]);
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        map["metadata"]["name"]
    );
    (file, path)
}

/// The `verify-signature` request notation 1.3.2 sent for an envelope-mode signature
/// (`spec/examples/`, no `pluginConfig`, as Ratify's notation verifier sends it too), with the
/// guide's `akv.key:` pin pointed at the vault and key that signed it; and that key's URL.
pub fn ratify_guide_request() -> (Value, String) {
    let mut request = json(&repo_root().join("spec/examples/verify-signature.request.json"));
    assert!(request.get("pluginConfig").is_none());
    let key_id = request["signature"]["criticalAttributes"]["extendedAttributes"]
        ["io.github.notation-akv.keyId"]
        .as_str()
        .unwrap()
        .to_string();
    let signing_key = key_id.rsplit_once('/').unwrap().0.to_string();
    let guide_pin = statements(&doc("verifier-envelope.yaml"))[0]["trustedIdentities"][0]
        .as_str()
        .unwrap()
        .to_string();
    let guide_key = guide_pin.strip_prefix("akv.key:").unwrap();
    let pin = guide_pin.replace(guide_key, &signing_key);
    request["trustPolicy"]["trustedIdentities"] = serde_json::json!([pin]);
    (request, signing_key)
}
