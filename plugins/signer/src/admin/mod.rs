//! The key administrator's commands, for people rather than for notation.
//!
//! notation runs the binary with exactly one protocol command; these commands take their own
//! first argument (`doctor`, `policy`), so the two modes never meet and the protocol's stdout is
//! untouched. [`main`] returns `None` for anything that is not an admin command, and the binary
//! then hands the arguments to the protocol runner unchanged.
//!
//! - [`doctor`]: what a `notation sign --plugin akv --id …` would hit, step by step, through the
//!   signer's own code paths (id, settings, credential chain, vault, material, signing);
//! - [`policy`]: a Notary-compliant AKV certificate policy, and a linter for existing ones.

pub mod doctor;
pub mod policy;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

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
";

/// A command line the admin commands cannot run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs an admin command if `args` (without the program name) names one; `None` otherwise.
pub fn main(args: &[OsString]) -> Option<ExitCode> {
    let command = args.first()?.to_str()?;
    if !matches!(command, "doctor" | "policy") {
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
    if rest
        .as_ref()
        .is_ok_and(|r| r.iter().any(|a| a == "--help" || a == "-h"))
    {
        let _ = std::io::stdout().write_all(HELP.trim_start().as_bytes());
        return Some(ExitCode::SUCCESS);
    }
    let env = notation_akv_keyvault::settings::process_env;
    let outcome = rest.and_then(|rest| match command {
        "doctor" => doctor::main(&rest, &env),
        _ => policy::main(&rest),
    });
    Some(match outcome {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(output.stdout.as_bytes());
            let _ = std::io::stderr().write_all(output.stderr.as_bytes());
            ExitCode::from(output.exit_code)
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "notation-akv {command}: {e}\nRun `notation-akv --help` for the admin commands."
            );
            ExitCode::from(2)
        }
    })
}

/// What an admin command prints and how it exits.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: u8,
}

/// Splits `--name value` and `--name=value` options; flags (no value) are listed in `flags`.
fn parse_options(
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
fn plugin_config(pairs: &[String]) -> Result<BTreeMap<String, String>, UsageError> {
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
