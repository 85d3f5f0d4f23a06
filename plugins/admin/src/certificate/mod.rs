//! `notation-akv certificate create|merge|rotate|show`: AKV signing certificates that notation
//! accepts, from the first version on.

use crate::{Env, Output, UsageError};

/// `notation-akv certificate --help`.
pub const HELP: &str = "notation-akv certificate: AKV signing certificates that notation accepts\n";

/// `notation-akv certificate …`.
pub fn main(args: &[String], _env: &Env) -> Result<Output, UsageError> {
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Output {
            stdout: HELP.to_string(),
            ..Default::default()
        });
    }
    Err(UsageError(format!(
        "unknown certificate command {:?}",
        args[0]
    )))
}
