//! `notation-akv-admin`: the key administrator's commands of the `notation-akv` binary.
//!
//! notation runs `notation-akv` with exactly one protocol command; the commands here take their
//! own first argument (`doctor`, `policy`, `certificate`), so the two modes never meet and the
//! protocol's stdout is untouched. [`main`] returns `None` for anything that is not an admin
//! command, and the binary then hands its arguments to the protocol runner unchanged.
//!
//! # Design
//!
//! Every command is a function from its arguments to an [`Output`] (stdout, stderr, exit code),
//! or a [`UsageError`] (exit code 2), so tests call them in-process and the binary only prints.
//! Output is for people by default; `--json` prints one JSON document for scripts. Exit codes are
//! part of the interface (see [`exit`]) so a pipeline can gate on them.
//!
//! - [`policy`]: a Notary-compliant AKV certificate policy, and a linter for existing ones;
//! - [`certificate`]: `create`, `merge`, `rotate` and `show` against a vault, with the policy
//!   generator's rules before the vault is asked and the x509 crate's Notary rules (by rule id)
//!   on what it issued;
//! - [`report`]: the ✓/!/✗/- marks the diagnosing commands share (the verifier's `doctor` too);
//! - [`cli`]: options, output and usage errors, shared with the verifier's operator commands;
//! - `doctor` runs the signer's own code paths, so it lives in the signer crate and is handed to
//!   [`main`] by the binary ([`Doctor`]); everything here uses only the crates below the plugins
//!   (keyvault, x509, protocol), and nothing below depends on this crate.
//!
//! Vault access uses the keyvault crate exactly as the signer does: the same credential chain
//! and plugin config keys (`--plugin-config k=v` or `NOTATION_AKV_*`), one total deadline per
//! command (`timeout`), and the same error mapping, so a 403 names the missing permission as an
//! access-policy permission and as the RBAC role (Key Vault Certificates Officer for
//! `certificates/create`, `certificates/update` and `certificates/list`).

pub mod certificate;
pub mod cli;
pub mod policy;
pub mod report;

pub use cli::{Output, UsageError, parse_options, plugin_config};

use std::ffi::OsString;
use std::process::ExitCode;

/// Looks up environment variables (the process environment, or a fixed map in tests).
pub type Env = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The `doctor` command, provided by the signer crate (it runs the signer's code paths).
pub type Doctor = fn(&[String], &Env) -> Result<Output, UsageError>;

/// Exit codes of the admin commands.
pub mod exit {
    /// Done; for `show`, every check passed.
    pub const OK: u8 = 0;
    /// A check failed or the vault refused: `doctor` found a failing step, `policy --check`
    /// found an error, a vault request failed (access denied, not found, timeout, …).
    pub const FAILED: u8 = 1;
    /// The command line cannot run (unknown option, missing value, invalid policy option).
    pub const USAGE: u8 = crate::cli::USAGE;
    /// Refused before changing the vault because notation would reject the result (`merge`,
    /// `rotate`), or (`show`) the version a versionless id signs with is not compliant,
    /// disabled or expired.
    pub const NOT_COMPLIANT: u8 = 3;
    /// `show`: the signing version expires within the horizon (`--warn-days`).
    pub const EXPIRES_SOON: u8 = 4;
}

/// The admin part of `notation-akv --help`.
pub const HELP: &str = "\nFor key administrators (not called by notation):
  notation-akv doctor --id <key or certificate id> [--plugin-config key=value]... [--json]
      step-by-step diagnosis of what `notation sign --plugin akv --id …` would hit: id, settings,
      credentials, vault permissions, certificate chain, a test signature, cache; exit code 1
      when a step fails
  notation-akv policy [--key-type RSA|EC] [--key-size 2048|3072|4096] [--curve P-256|P-384|P-521]
      --subject \"CN=…,O=…,ST=…,C=…\" [--validity-months N] [--issuer Self|Unknown|<issuer>]
      [--exportable false]
      prints a Notary-compliant certificate policy for `az keyvault certificate create -p @policy.json`
  notation-akv policy --check <policy.json>
      lists each problem of an existing policy (e.g. from `az keyvault certificate get-default-policy`)
      with its fix
  notation-akv certificate create|merge|rotate|show --vault <url> --name <name> …
      creates, merges (CA-issued), rotates and shows AKV signing certificates that notation
      accepts; `notation-akv certificate --help` for the options and exit codes
";

/// Runs an admin command if `args` (without the program name) names one; `None` otherwise.
pub fn main(args: &[OsString], doctor: Doctor) -> Option<ExitCode> {
    let command = args.first()?.to_str()?;
    if !matches!(command, "doctor" | "policy" | "certificate") {
        return None;
    }
    let env = notation_akv_keyvault::settings::process_env;
    let outcome = cli::utf8_args(&args[1..]).and_then(|rest| run(command, &rest, &env, doctor));
    let help = if command == "certificate" {
        "notation-akv certificate --help"
    } else {
        "notation-akv --help"
    };
    Some(cli::finish("notation-akv", command, outcome, help))
}

/// Runs one admin command in-process (what [`main`] prints).
pub fn run(
    command: &str,
    args: &[String],
    env: &Env,
    doctor: Doctor,
) -> Result<Output, UsageError> {
    let wants_help = args.iter().any(|a| a == "--help" || a == "-h");
    match command {
        "certificate" => certificate::main(args, env),
        _ if wants_help => Ok(Output {
            stdout: HELP.trim_start().to_string(),
            ..Default::default()
        }),
        "doctor" => doctor(args, env),
        "policy" => policy::main(args),
        other => Err(UsageError(format!("unknown command {other:?}"))),
    }
}
