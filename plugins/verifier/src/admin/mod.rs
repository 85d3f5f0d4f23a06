//! The operator's commands, for people rather than for notation.
//!
//! notation runs the binary with exactly one protocol command (`get-plugin-metadata`,
//! `verify-signature`); these commands have their own first argument, so the two modes never
//! meet and the protocol's stdout is untouched. [`main`] returns `None` for anything that is not
//! an operator command, and the binary then hands the arguments to the protocol runner unchanged.
//!
//! | module | command |
//! |---|---|
//! | [`bundle`] | `bundle fetch` builds and refreshes an offline revocation bundle; `bundle check` says until when it covers each chain |
//! | [`doctor`] | explains a verification of an artifact step by step through `verify-signature`'s own code |
//! | [`chains`] | certificate chains from PEM files or from an artifact's signatures (via `oras`) |
//! | [`trust`] | notation's trust policy and trust stores, read as notation reads them |
//!
//! Settings (timeouts, `tls_ca_file`, `offline_bundle`, …) come from the same three sources as
//! for `verify-signature`: `--plugin-config key=value`, `NOTATION_AKV_VERIFIER_<KEY>` and the
//! config file. Exit codes: 0 all good, 1 something the report marks ✗, 2 a bad command line.

pub mod bundle;
pub mod chains;
pub mod doctor;
pub mod trust;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use crate::config::Environment;

/// The operator part of `notation-akv-verifier --help`.
pub const HELP: &str = "\nFor operators (not called by notation):
  notation-akv-verifier bundle fetch --chain <PEM file or directory> [--chain …]
        [--artifact <reference> [--plain-http]] --out <dir> [--plugin-config key=value]...
      fetches OCSP responses and base/delta CRLs for every non-root certificate of each chain,
      verifies them as verification will, writes them atomically into <dir> with manifest.json,
      refreshes in place and prunes files no chain needs; --artifact reads the signatures'
      chains with `oras` (on PATH); exit code 1 when a chain cannot be covered
  notation-akv-verifier bundle check --dir <dir> [--within 24h] [--chain <PEM>]...
        [--plugin-config key=value]...
      for each chain of the manifest (or given), whether the bundle covers it now and until
      when; reports corrupt or truncated files; exit code 1 when a chain is not covered or its
      coverage ends within the window
  notation-akv-verifier doctor --artifact <reference> [--policy <trustpolicy.json>]
        [--plugin-config key=value]... [--plain-http] [--json]
      explains a verification step by step (trust policy, trust store, each signature, chain,
      trusted identity, revocation sources, expiry horizon, AKV status) with ✓/✗ and the fix;
      reads signatures with `oras` (on PATH) and the trust store from $NOTATION_CONFIG (else
      $XDG_CONFIG_HOME/notation); exit code 1 when verification would fail
";

use notation_akv_admin::cli::{self, Options};
pub use notation_akv_admin::cli::{Output, UsageError};

/// Runs an operator command if `args` (without the program name) names one; `None` otherwise.
pub fn main(args: &[OsString]) -> Option<ExitCode> {
    let command = args.first()?.to_str()?;
    if !matches!(command, "bundle" | "doctor") {
        return None;
    }
    let rest = cli::utf8_args(&args[1..]);
    if rest
        .as_ref()
        .is_ok_and(|r| r.iter().any(|a| a == "--help" || a == "-h"))
    {
        let _ = std::io::stdout().write_all(HELP.trim_start().as_bytes());
        return Some(ExitCode::SUCCESS);
    }
    let env = Environment::from_process();
    let outcome = rest.and_then(|rest| run(command, &rest, &env));
    Some(cli::finish(
        "notation-akv-verifier",
        command,
        outcome,
        "notation-akv-verifier --help",
    ))
}

/// Runs `command` with its arguments in `env` (the testable core of [`main`]).
pub fn run(command: &str, args: &[String], env: &Environment) -> Result<Output, UsageError> {
    match command {
        "bundle" => bundle::main(args, env),
        "doctor" => doctor::main(args, env),
        other => Err(UsageError(format!("unknown command {other:?}"))),
    }
}

/// The verifier settings for an operator command: a bad value is a usage error naming it.
fn settings(options: &Options, env: &Environment) -> Result<crate::config::Settings, UsageError> {
    crate::config::load(&options.plugin_config()?, env)
        .map_err(|e| UsageError(format!("invalid verifier configuration: {e}")))
}

/// A current-thread runtime for the engine's async API.
fn runtime() -> Result<tokio::runtime::Runtime, UsageError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))
}
