//! What the verifier reads about revocation: OCSP responses and CRLs (as offline bundle files),
//! its cache files, and the bundle's `manifest.json`. Each goes through `RevocationChecker`, the
//! verifier's engine, against the fixture chain, with every network scheme off.

use crate::fixture;
use notation_akv_revocation::{
    BundleConfig, BundleMode, ProxyConfig, RevocationChecker, RevocationConfig,
};
use sha2::Digest as _;
use std::path::Path;
use std::time::SystemTime;

fn config(cache: Option<&Path>, bundle: Option<&Path>) -> RevocationConfig {
    RevocationConfig {
        cache_dir: cache.map(Path::to_path_buf),
        bundle: bundle.map(|dir| BundleConfig {
            dir: dir.to_path_buf(),
            mode: BundleMode::Only,
        }),
        allow_http: false,
        allow_https: false,
        allow_file: false,
        proxy: ProxyConfig::default(),
        ..RevocationConfig::default()
    }
}

fn check(config: RevocationConfig) {
    let Ok(checker) = RevocationChecker::new(config) else {
        return;
    };
    let _ = checker.bundle_skipped();
    let chain = fixture::chain_der();
    let result = fixture::runtime().block_on(checker.check(chain, SystemTime::now()));
    if let Ok(result) = result {
        let _ = format!("{result:?}");
    }
}

/// A bundle folder holding just `name` with `data`.
fn bundle_of(target: &str, name: &str, data: &[u8]) -> std::path::PathBuf {
    let dir = fixture::scratch(target);
    std::fs::write(dir.join(name), data).unwrap();
    dir
}

pub fn ocsp_response(data: &[u8]) {
    check(config(None, Some(&bundle_of("ocsp", "fuzz.ocsp", data))));
}

pub fn crl(data: &[u8]) {
    check(config(None, Some(&bundle_of("crl", "fuzz.crl", data))));
}

/// A CRL cache file (format line, origin line, DER) under the name the cache gives the fixture
/// chain's distribution points.
pub fn cache_entry(data: &[u8]) {
    let root = fixture::scratch("revocation-cache");
    let dir = root.join("crl");
    std::fs::create_dir_all(&dir).unwrap();
    for url in fixture::crl_urls() {
        let name: String = sha2::Sha256::digest(url.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(dir.join(name), data).unwrap();
    }
    check(config(Some(&root), None));
}

/// `manifest.json` beside the fixture bundle's files.
pub fn bundle_manifest(data: &[u8]) {
    let dir = fixture::scratch("bundle");
    let source = fixture::dir().join("bundle");
    if !dir.join(".copied").exists() {
        for entry in std::fs::read_dir(&source).unwrap().filter_map(Result::ok) {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        std::fs::write(dir.join(".copied"), b"").unwrap();
    }
    std::fs::write(
        dir.join(notation_akv_revocation::bundle::MANIFEST_FILE),
        data,
    )
    .unwrap();
    check(config(None, Some(&dir)));
}
