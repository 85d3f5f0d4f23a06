use super::*;

fn plugin_config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// An environment whose config dir is a fresh temp dir, so no real user file leaks in.
fn isolated(dir: &Path, extra: &[(&str, &str)]) -> Environment {
    let home = dir.to_str().unwrap();
    let mut pairs = vec![("XDG_CONFIG_HOME", home), ("XDG_CACHE_HOME", home)];
    pairs.extend_from_slice(extra);
    Environment::from_pairs(pairs)
}

fn write_default_file(dir: &Path, json: &str) {
    let path = dir.join("notation-akv");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("verifier.json"), json).unwrap();
}

#[test]
fn defaults_without_any_source() {
    let dir = tempfile::tempdir().unwrap();
    let settings = load(&BTreeMap::new(), &isolated(dir.path(), &[])).unwrap();
    assert_eq!(settings.ocsp_timeout, Duration::from_secs(5));
    assert_eq!(settings.ocsp_certid_hash, CertIdHash::Sha1);
    assert!(settings.cache);
    assert_eq!(
        settings.cache_dir,
        Some(dir.path().join("notation-akv/revocation"))
    );
    assert_eq!(settings.expiry_horizon, None);
    assert!(!settings.akv_status);
}

#[test]
fn plugin_config_beats_environment_beats_file() {
    let dir = tempfile::tempdir().unwrap();
    write_default_file(
        dir.path(),
        r#"{"ocsp_timeout":"1s","crl_timeout":"2s","expiry_horizon":"3d","ocsp_nonce":true}"#,
    );
    let env = isolated(
        dir.path(),
        &[
            ("NOTATION_AKV_VERIFIER_OCSP_TIMEOUT", "10s"),
            ("NOTATION_AKV_VERIFIER_CRL_TIMEOUT", "20s"),
        ],
    );
    let settings = load(&plugin_config(&[("ocsp_timeout", "100s")]), &env).unwrap();
    assert_eq!(settings.ocsp_timeout, Duration::from_secs(100));
    assert_eq!(settings.crl_timeout, Duration::from_secs(20));
    assert_eq!(
        settings.expiry_horizon,
        Some(Duration::from_secs(3 * 86_400))
    );
    assert!(settings.ocsp_nonce);
}

#[test]
fn config_file_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("custom.json");
    std::fs::write(
        &file,
        r#"{"akv_status":"true","akv_certificates":{"AB:CD":"x"}}"#,
    )
    .unwrap();
    let env = isolated(
        dir.path(),
        &[("NOTATION_AKV_VERIFIER_CONFIG", file.to_str().unwrap())],
    );
    let err = load(&BTreeMap::new(), &env).unwrap_err();
    assert!(
        err.to_string().contains("not a SHA-256 fingerprint"),
        "{err}"
    );
    let thumb = "ab".repeat(32);
    std::fs::write(
        &file,
        format!(r#"{{"akv_status":true,"akv_certificates":{{"{thumb}":"https://v.vault.azure.net/certificates/c/1"}}}}"#),
    )
    .unwrap();
    let settings = load(&BTreeMap::new(), &env).unwrap();
    assert!(settings.akv_status);
    assert_eq!(
        settings.akv_certificates.get(&thumb).map(String::as_str),
        Some("https://v.vault.azure.net/certificates/c/1")
    );
}

#[test]
fn a_missing_named_file_is_an_error_but_a_missing_default_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let env = isolated(
        dir.path(),
        &[("NOTATION_AKV_VERIFIER_CONFIG", "/nonexistent/verifier.json")],
    );
    let err = load(&BTreeMap::new(), &env).unwrap_err();
    assert!(matches!(err, ConfigError::File { .. }), "{err}");
    assert!(load(&BTreeMap::new(), &isolated(dir.path(), &[])).is_ok());
}

#[test]
fn errors_name_the_key_and_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let err = load(
        &plugin_config(&[("ocsp_timout", "5s")]),
        &isolated(dir.path(), &[]),
    )
    .unwrap_err();
    assert!(err.is_from_plugin_config());
    assert!(
        err.to_string()
            .starts_with("--plugin-config: unknown key \"ocsp_timout\"")
    );

    let err = load(
        &BTreeMap::new(),
        &isolated(
            dir.path(),
            &[("NOTATION_AKV_VERIFIER_OCSP_TIMEOUT", "soon")],
        ),
    )
    .unwrap_err();
    assert!(!err.is_from_plugin_config());
    assert_eq!(
        err.to_string(),
        "environment variable NOTATION_AKV_VERIFIER_OCSP_TIMEOUT: ocsp_timeout: \"soon\" is not a duration; expected a duration such as 500ms, 5s, 2m, 12h, 30d or 1h30m"
    );

    write_default_file(dir.path(), r#"{"offline_mode":"sometimes"}"#);
    let err = load(&BTreeMap::new(), &isolated(dir.path(), &[])).unwrap_err();
    assert!(err.to_string().contains("config file"), "{err}");
    assert!(err.to_string().contains("prefer, only"), "{err}");
}

#[test]
fn zero_timeouts_are_refused_and_zero_horizon_means_off() {
    let dir = tempfile::tempdir().unwrap();
    let env = isolated(dir.path(), &[]);
    assert!(load(&plugin_config(&[("crl_timeout", "0")]), &env).is_err());
    let settings = load(&plugin_config(&[("expiry_horizon", "0")]), &env).unwrap();
    assert_eq!(settings.expiry_horizon, None);
}

#[test]
fn every_documented_key_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let env = isolated(dir.path(), &[]);
    let samples = [
        ("ocsp_timeout", "1s"),
        ("crl_timeout", "1s"),
        ("ocsp_nonce", "true"),
        ("ocsp_certid_hash", "sha256"),
        ("ocsp_max_age", "0"),
        ("clock_skew", "30s"),
        ("tls_ca_file", "/tmp/ca.pem"),
        ("cache", "false"),
        ("cache_dir", "/tmp/x"),
        ("offline_bundle", "/tmp/b"),
        ("offline_mode", "only"),
        ("expiry_horizon", "30d"),
        ("expiry_horizon_mode", "warn"),
        ("akv_status", "on"),
        ("akv_certificates", ""),
        ("akv_timeout", "3s"),
        ("akv_credential_type", "azurecli"),
        ("akv_client_id", "c"),
        ("akv_tenant_id", "t"),
        ("akv_authority_host", "https://login.microsoftonline.us"),
        ("log_file", "/tmp/log"),
    ];
    let documented: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    let sampled: Vec<&str> = samples.iter().map(|(k, _)| *k).collect();
    assert_eq!(documented, sampled);
    let settings = load(&plugin_config(&samples), &env).unwrap();
    assert_eq!(settings.offline_mode, BundleMode::Only);
    assert_eq!(settings.expiry_horizon_mode, HorizonMode::Warn);
    assert_eq!(settings.ocsp_certid_hash, CertIdHash::Sha256);
    assert_eq!(
        settings
            .akv_vault
            .get("credential_type")
            .map(String::as_str),
        Some("azurecli")
    );
}

/// The table's literal defaults are what an unset key reads, and every example is accepted.
#[test]
fn the_key_table_matches_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let env = isolated(dir.path(), &[]);
    let unset = load(&BTreeMap::new(), &env).unwrap();
    let literal = [
        "ocsp_timeout",
        "crl_timeout",
        "ocsp_nonce",
        "ocsp_certid_hash",
        "ocsp_max_age",
        "clock_skew",
        "cache",
        "offline_mode",
        "expiry_horizon_mode",
        "akv_status",
        "akv_timeout",
    ];
    for key in KEYS {
        if literal.contains(&key.name) {
            let set = load(&plugin_config(&[(key.name, key.default)]), &env);
            assert_eq!(set.as_ref(), Ok(&unset), "{}={}", key.name, key.default);
        }
        let example = load(&plugin_config(&[(key.name, key.example)]), &env);
        assert!(example.is_ok(), "{}={}: {example:?}", key.name, key.example);
        assert!(!key.description.is_empty() && !key.value.is_empty());
    }
    assert_eq!(unset.expiry_horizon, None, "expiry_horizon: off");
    assert_eq!(unset.log_file, None);
}

/// Every variable of [`ENVIRONMENT`] is read by this module, and every variable it reads is there.
#[test]
fn the_environment_table_matches_the_code() {
    let code = include_str!("mod.rs").split("#[cfg(test)]").next().unwrap();
    let read: Vec<&str> = code
        .split("self.get(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .chain([CONFIG_FILE_ENV])
        .collect();
    let mut read = read;
    read.sort();
    read.dedup();
    let mut documented: Vec<&str> = ENVIRONMENT.iter().map(|v| v.name).collect();
    documented.sort();
    assert_eq!(read, documented);
}
