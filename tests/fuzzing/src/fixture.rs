//! The fixed material targets check inputs against: `fuzz/fixture/` (see `akv-fuzz-seeds`).

use notation_akv_x509::{Certificate, parse_bundle};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The CRL distribution points of the fixture chain, leaf's first (never fetched: the targets
/// allow no network; the revocation cache names its files after them).
pub fn crl_urls() -> &'static [String] {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        let path = dir().join("crl-urls.txt");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .map(str::to_string)
            .collect()
    })
}

pub fn dir() -> PathBuf {
    crate::fuzz_dir().join("fixture")
}

fn read_pem(name: &str) -> Vec<Certificate> {
    let path = dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with `cargo run -p akv-fuzz-targets --bin akv-fuzz-seeds`",
            path.display()
        )
    });
    parse_bundle(&bytes).unwrap().certificates
}

/// root → intermediate → leaf (leaf first), with OCSP and CRL URLs on both non-roots.
pub fn chain() -> &'static [Certificate] {
    static CHAIN: OnceLock<Vec<Certificate>> = OnceLock::new();
    CHAIN.get_or_init(|| read_pem("chain.pem"))
}

pub fn chain_der() -> &'static [Vec<u8>] {
    static DER: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    DER.get_or_init(|| chain().iter().map(|c| c.der().to_vec()).collect())
}

pub fn leaf() -> &'static Certificate {
    &chain()[0]
}

/// The root of the fixture TSA.
pub fn tsa_root() -> &'static [Certificate] {
    static ROOT: OnceLock<Vec<Certificate>> = OnceLock::new();
    ROOT.get_or_init(|| read_pem("tsa-root.pem"))
}

/// One runtime for the async entry points (the plugins run one per process, too).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A private scratch folder for targets that read files, one per target and process.
pub fn scratch(name: &str) -> PathBuf {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    let root = ROOT.get_or_init(|| tempfile::tempdir().unwrap());
    let dir = root.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
