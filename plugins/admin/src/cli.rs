//! The command-line plumbing both binaries' people-facing commands share: the signer's `doctor`,
//! `policy` and `certificate`, and the verifier's `bundle` and `doctor`.
//!
//! A command is a function from its arguments (already checked to be UTF-8, see [`utf8_args`])
//! to an [`Output`] or a [`UsageError`]; [`finish`] prints either and turns it into the exit
//! code, so every command reports a bad command line the same way: exit code 2 and a line that
//! says which `--help` to read. Options are `--name value`, `--name=value` or flags
//! ([`parse_options`], in command-line order; [`Options`], grouped by name).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// A command line a command cannot run (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What a command prints and how it exits.
#[derive(Debug, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: u8,
}

/// The exit code of a command line that cannot run.
pub const USAGE: u8 = 2;

/// The arguments as strings; a command line with a non-UTF-8 argument cannot run.
pub fn utf8_args(args: &[OsString]) -> Result<Vec<String>, UsageError> {
    args.iter()
        .map(|a| {
            a.to_str()
                .map(str::to_string)
                .ok_or_else(|| UsageError(format!("argument {a:?} is not UTF-8")))
        })
        .collect()
}

/// Prints what `program command` produced and returns its exit code. A usage error goes to
/// stderr with the `--help` command that explains the options (`help`), and exits with
/// [`USAGE`].
pub fn finish(
    program: &str,
    command: &str,
    outcome: Result<Output, UsageError>,
    help: &str,
) -> ExitCode {
    match outcome {
        Ok(output) => {
            // Nothing more to do if a stream is closed: the exit code still tells.
            let _ = std::io::stdout().lock().write_all(output.stdout.as_bytes());
            let _ = std::io::stderr().write_all(output.stderr.as_bytes());
            ExitCode::from(output.exit_code)
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "{program} {command}: {e}\nRun `{help}` for the options."
            );
            ExitCode::from(USAGE)
        }
    }
}

/// Splits `--name value` and `--name=value` options, in command-line order; flags (no value)
/// are listed in `flags`.
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
            let known: Vec<&str> = valued.iter().chain(flags).copied().collect();
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

/// A command's options grouped by name: every value of a repeatable option, and the flags.
#[derive(Debug, Default)]
pub struct Options {
    values: BTreeMap<String, Vec<String>>,
    flags: Vec<String>,
}

impl Options {
    /// [`parse_options`], grouped.
    pub fn parse(args: &[String], valued: &[&str], flags: &[&str]) -> Result<Options, UsageError> {
        let mut options = Options::default();
        for (name, value) in parse_options(args, valued, flags)? {
            match value {
                Some(value) => options.values.entry(name).or_default().push(value),
                None => options.flags.push(name),
            }
        }
        Ok(options)
    }

    /// Every value of `name`, in command-line order.
    pub fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The value of an option that may be given at most once.
    pub fn one(&self, name: &str) -> Result<Option<&str>, UsageError> {
        match self.all(name) {
            [] => Ok(None),
            [v] => Ok(Some(v)),
            _ => Err(UsageError(format!("{name} may be given once"))),
        }
    }

    /// Whether the flag `name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    /// The repeated `--plugin-config k=v` options as a map.
    pub fn plugin_config(&self) -> Result<BTreeMap<String, String>, UsageError> {
        plugin_config(self.all("--plugin-config"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_take_both_spellings_and_keep_repeats_in_order() {
        let o = Options::parse(
            &args(&["--chain", "a.pem", "--chain=b.pem", "--json", "--out=d"]),
            &["--chain", "--out"],
            &["--json"],
        )
        .unwrap();
        assert_eq!(o.all("--chain"), ["a.pem", "b.pem"]);
        assert_eq!(o.one("--out").unwrap(), Some("d"));
        assert!(o.flag("--json"));
        assert!(!o.flag("--plain-http"));
        assert!(o.one("--chain").is_err());
    }

    #[test]
    fn mistakes_name_the_option_and_what_is_expected() {
        let err = |list: &[&str]| {
            Options::parse(&args(list), &["--out"], &["--json"])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(&["--out"]), "--out needs a value");
        assert_eq!(err(&["--json=yes"]), "--json takes no value");
        assert_eq!(
            err(&["--outt", "x"]),
            "unknown argument \"--outt\"; expected --out, --json"
        );
        let pairs = plugin_config(&args(&["=v"])).unwrap_err().to_string();
        assert_eq!(pairs, "--plugin-config \"=v\" is not key=value");
    }
}
