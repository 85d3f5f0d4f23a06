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
pub mod policy;
pub mod report;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
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
    pub const USAGE: u8 = 2;
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

/// A command line the admin commands cannot run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What an admin command prints and how it exits.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: u8,
}

/// Runs an admin command if `args` (without the program name) names one; `None` otherwise.
pub fn main(args: &[OsString], doctor: Doctor) -> Option<ExitCode> {
    let command = args.first()?.to_str()?;
    if !matches!(command, "doctor" | "policy" | "certificate") {
        return None;
    }
    let rest: Result<Vec<String>, _> = args[1..]
        .iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| UsageError(format!("argument {a:?} is not UTF-8")))
        })
        .collect();
    let env = notation_akv_keyvault::settings::process_env;
    let outcome = rest.and_then(|rest| run(command, &rest, &env, doctor));
    Some(match outcome {
        Ok(output) => {
            let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
            let _ = std::io::stderr().write_all(output.stderr.as_bytes());
            ExitCode::from(output.exit_code)
        }
        Err(e) => {
            let help = if command == "certificate" {
                "notation-akv certificate --help"
            } else {
                "notation-akv --help"
            };
            let _ = writeln!(
                std::io::stderr(),
                "notation-akv {command}: {e}\nRun `{help}` for the admin commands."
            );
            ExitCode::from(exit::USAGE)
        }
    })
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

/// Splits `--name value` and `--name=value` options; flags (no value) are listed in `flags`.
pub fn parse_options(
    args: &[String],
    valued: &[&str],
    flags: &[&str],
) -> Result<Vec<(String, Option<String>)>, UsageError> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if flags.contains(&name) {
            if inline.is_some() {
                return Err(UsageError(format!("{name} takes no value")));
            }
            out.push((name.to_string(), None));
        } else if valued.contains(&name) {
            let value = match inline {
                Some(v) => v,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| UsageError(format!("{name} needs a value")))?,
            };
            out.push((name.to_string(), Some(value)));
        } else {
            let mut known: Vec<&str> = valued.to_vec();
            known.extend_from_slice(flags);
            return Err(UsageError(format!(
                "unknown argument {arg:?}; expected {}",
                known.join(", ")
            )));
        }
    }
    Ok(out)
}

/// `k=v` pairs of repeated `--plugin-config` options, as notation passes them.
pub fn plugin_config(pairs: &[String]) -> Result<BTreeMap<String, String>, UsageError> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(UsageError(format!(
                "--plugin-config {pair:?} is not key=value"
            ))),
        })
        .collect()
}
