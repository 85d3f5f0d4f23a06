//! Shared by the release tests (`release.rs`, `first_run.rs`) and the recipe tests: the archives
//! `bash install.sh --dist` wrote for this run, running a shell script or a binary with a
//! deadline, and linting a GitHub workflow.
//!
//! `bash tests/run` builds the static release binaries once per run and packages them with
//! `bash install.sh --dist --out target/release-dist`; the tests read that directory (or
//! `$NOTATION_AKV_RELEASE_DIST`) and never build them, so the expensive release build is paid once.
#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use notation_akv_e2e::locate::{self, repo_root};
use notation_akv_e2e::process::{self, Output};

/// The workspace version, which the archives are named with.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The two plugins, by plugin name.
pub const PLUGINS: [&str; 2] = ["akv", "akv-verifier"];

/// The cargo target directory (`$CARGO_TARGET_DIR` or `<repo>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// Where this run's release archives are.
pub fn dist_dir() -> PathBuf {
    std::env::var_os("NOTATION_AKV_RELEASE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("release-dist"))
}

/// `notation-<plugin>_<version>_linux_amd64.tar.gz` in [`dist_dir`]; fails the test, saying how to
/// make it, when it is missing.
pub fn archive(plugin: &str) -> PathBuf {
    let path = dist_dir().join(format!("notation-{plugin}_{VERSION}_linux_amd64.tar.gz"));
    assert!(
        path.is_file(),
        "{} is missing: run `bash install.sh --dist --out target/release-dist` first \
         (bash tests/run does)",
        path.display()
    );
    path
}

/// The checksums file next to the archives.
pub fn checksums_file() -> PathBuf {
    dist_dir().join(format!("notation-akv_{VERSION}_checksums.txt"))
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Unpacks `archive` into `dir` with tar and returns the path of `notation-<plugin>` in it.
pub fn extract(archive: &Path, plugin: &str, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let mut tar = Command::new("tar");
    tar.arg("-xzf").arg(archive).arg("-C").arg(dir);
    run_ok(tar, Duration::from_secs(60));
    dir.join(format!("notation-{plugin}"))
}

/// Runs `command` (stdin closed) and requires exit 0, printing both streams otherwise.
pub fn run_ok(command: Command, timeout: Duration) -> Output {
    let out = process::run(command, timeout).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.success(),
        "{} exited {}\nstdout:\n{}\nstderr:\n{}",
        out.command,
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

/// `bash install.sh <args>` of the repository under test, from `dir`.
pub fn install_sh(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(root.join("install.sh"))
        .args(args)
        .current_dir(root);
    command
}

/// A GitHub workflow passes actionlint, and `zizmor --offline` reports no finding at all (its
/// default persona reports every severity; the command fails on any). Both come from
/// `tools/py/bin`, which `tests/provision.sh` fills.
pub fn lint_workflow(workflow: &Path) {
    let linter = |name: &str| {
        let path = locate::tools_dir().join("py/bin").join(name);
        assert!(
            path.is_file(),
            "{} missing: run `bash tests/provision.sh`",
            path.display()
        );
        path
    };
    let mut actionlint = Command::new(linter("actionlint"));
    actionlint.arg(workflow);
    run_ok(actionlint, Duration::from_secs(60));
    let mut zizmor = Command::new(linter("zizmor"));
    zizmor.arg("--offline").arg(workflow);
    let out = run_ok(zizmor, Duration::from_secs(60));
    assert!(
        out.stdout.contains("No findings to report"),
        "{}: {}\n{}",
        workflow.display(),
        out.stdout,
        out.stderr
    );
}

/// A TLS file server on 127.0.0.1 (release downloads): its CA, the runtime that serves it (keep
/// both alive as long as the server) and the server.
pub fn https_file_server() -> (
    akv_test_responders::tls::TlsIdentity,
    tokio::runtime::Runtime,
    akv_test_responders::http::FileServer,
) {
    let tls = akv_test_responders::tls::TlsIdentity::new().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime
        .block_on(akv_test_responders::http::FileServer::start(Some(
            tls.server_config(),
        )))
        .unwrap();
    (tls, runtime, server)
}
