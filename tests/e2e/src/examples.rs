//! Writing captured requests into `spec/examples/` as the project's reference wire examples.
//!
//! Opt-in: only when `NOTATION_AKV_WRITE_EXAMPLES` names a directory (relative paths are taken from
//! the repository root), e.g. `NOTATION_AKV_WRITE_EXAMPLES=spec/examples` — see
//! `tests/capture-examples.sh`. Each file holds the request bytes exactly as notation sent them,
//! plus a final newline.

use std::fs;
use std::path::PathBuf;

use crate::error::{HarnessError, Result};
use crate::locate;

/// The variable that turns example writing on.
pub const WRITE_EXAMPLES_ENV: &str = "NOTATION_AKV_WRITE_EXAMPLES";

/// The target directory, if example writing is on.
pub fn examples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(WRITE_EXAMPLES_ENV).filter(|v| !v.is_empty())?);
    Some(if dir.is_absolute() {
        dir
    } else {
        locate::repo_root().join(dir)
    })
}

/// Writes `(file name, raw request)` pairs when example writing is on; returns what it wrote.
pub fn write_examples(files: &[(String, String)]) -> Result<Vec<PathBuf>> {
    let Some(dir) = examples_dir() else {
        return Ok(Vec::new());
    };
    fs::create_dir_all(&dir).map_err(HarnessError::io("create", &dir))?;
    files
        .iter()
        .map(|(name, request)| {
            let path = dir.join(name);
            fs::write(&path, format!("{request}\n")).map_err(HarnessError::io("write", &path))?;
            Ok(path)
        })
        .collect()
}
