//! Where the real components and this workspace's binaries live.
//!
//! Tools come from the git-ignored `tools/` folder that `tests/provision.sh` fills (or
//! `$NOTATION_AKV_TOOLS`), then from `PATH`. A missing tool is an error, never a skipped test.

use std::env;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The folder `tests/provision.sh` provisions into.
pub fn tools_dir() -> PathBuf {
    env::var_os("NOTATION_AKV_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("tools"))
}

/// Finds an executable in `tools/bin`, then on `PATH`.
pub fn tool(name: &str) -> Result<PathBuf> {
    let mut dirs = vec![tools_dir().join("bin")];
    if let Some(path) = env::var_os("PATH") {
        dirs.extend(env::split_paths(&path));
    }
    dirs.iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| HarnessError::ToolMissing {
            tool: name.to_owned(),
            looked_in: format!("{} and PATH", tools_dir().join("bin").display()),
        })
}

/// Finds a binary built from this workspace (`cargo build --workspace --bins`).
///
/// The profile directory is taken from the running test executable (`target/<profile>/deps/…`),
/// which follows `CARGO_TARGET_DIR` and `--release` automatically; `$CARGO_TARGET_DIR/debug` and
/// `<repo>/target/debug` are the fallbacks.
pub fn workspace_binary(name: &str) -> Result<PathBuf> {
    let candidates = binary_dirs();
    candidates
        .iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| HarnessError::BinaryMissing {
            path: candidates
                .first()
                .map(|dir| dir.join(name))
                .unwrap_or_else(|| PathBuf::from(name)),
        })
}

fn binary_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(exe) = env::current_exe() {
        // target/<profile>/deps/<test-binary>
        if let Some(deps) = exe.parent().filter(|dir| dir.ends_with("deps")) {
            dirs.extend(deps.parent().map(Path::to_path_buf));
        }
    }
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(target).join("debug"));
    }
    dirs.push(repo_root().join("target").join("debug"));
    dirs
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tool_fails_and_names_the_provision_script() {
        let err = tool("notation-akv-no-such-tool").unwrap_err();
        assert!(
            err.to_string()
                .contains("run `bash tests/provision.sh` first"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_workspace_binary_fails_and_says_how_to_build_it() {
        let err = workspace_binary("notation-akv-no-such-binary").unwrap_err();
        assert!(
            err.to_string()
                .contains("run `cargo build --workspace --bins` first"),
            "{err}"
        );
    }
}
