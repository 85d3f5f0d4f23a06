//! Configuration: the signer's `pluginConfig`, the verifier's values, keys and config file.

use crate::fixture;
use notation_akv::config::SignerConfig;
use notation_akv_verifier::config::{CONFIG_FILE_ENV, Environment, load, value};
use std::collections::BTreeMap;

/// `key=value` lines, as `notation sign --plugin-config key=value` passes them.
fn pairs(data: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn signer_config(data: &[u8]) {
    let config = pairs(data);
    let _ = SignerConfig::read(&config, &|_| None);
    // The same values from the environment (the AZURE_* and NOTATION_AKV_* variables).
    let _ = SignerConfig::read(&BTreeMap::new(), &|name| config.get(name).cloned());
}

pub fn verifier_config_values(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = value::duration(&text) {
        // What is accepted is a usable duration.
        let _ = std::time::Instant::now().checked_add(d);
    }
    let _ = value::boolean(&text);
    let _ = value::sha256_hex(&text);
    let _ = value::choice(&text, &[("a", 1), ("b", 2)]);
    let _ = load(&pairs(data), &Environment::default());
}

/// The verifier's JSON config file (`NOTATION_AKV_VERIFIER_CONFIG` or the default path).
pub fn verifier_config_file(data: &[u8]) {
    let path = fixture::scratch("verifier-config").join("verifier.json");
    std::fs::write(&path, data).unwrap();
    let path = path.to_str().unwrap().to_string();
    let env = Environment::from_pairs([(CONFIG_FILE_ENV, path.as_str())]);
    let _ = load(&BTreeMap::new(), &env);
}
