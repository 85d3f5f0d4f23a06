//! An isolated notation/oras environment per test.
//!
//! Every command runs with a cleared environment: `HOME`, `XDG_*`, `NOTATION_CONFIG`,
//! `NOTATION_CACHE`, `DOCKER_CONFIG` and `TMPDIR` all point into one temporary directory, so
//! nothing reads or leaks into the user's `~/.config`, and parallel tests never share state.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::error::{HarnessError, Result};
use crate::locate;
use crate::process::{self, DEFAULT_TIMEOUT, Output};

/// A private notation configuration, plugin directory, cache and home.
#[derive(Debug)]
pub struct NotationEnv {
    dir: TempDir,
    notation: PathBuf,
    oras: PathBuf,
    extra_env: Vec<(OsString, OsString)>,
    timeout: Duration,
}

impl NotationEnv {
    /// Creates the directories and locates notation and oras (failing if they are missing).
    pub fn new() -> Result<Self> {
        let notation = locate::tool("notation")?;
        let oras = locate::tool("oras")?;
        let dir = tempfile::Builder::new()
            .prefix("notation-akv-env")
            .tempdir()
            .map_err(HarnessError::io("create temp dir in", std::env::temp_dir()))?;
        let env = NotationEnv {
            dir,
            notation,
            oras,
            extra_env: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        };
        for sub in [
            "home",
            "xdg-config/notation",
            "xdg-cache",
            "xdg-data",
            "cache",
            "docker",
            "tmp",
            "work",
        ] {
            let path = env.root().join(sub);
            fs::create_dir_all(&path).map_err(HarnessError::io("create", &path))?;
        }
        Ok(env)
    }

    /// The temporary root of this environment.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// notation's configuration directory (`$NOTATION_CONFIG`).
    pub fn config_dir(&self) -> PathBuf {
        self.root().join("xdg-config/notation")
    }

    /// Where notation installs plugins: `<config>/plugins/<name>/notation-<name>`.
    pub fn plugins_dir(&self) -> PathBuf {
        self.config_dir().join("plugins")
    }

    /// A scratch directory for test files (artifacts, policies, keys); also the commands' cwd.
    pub fn work_dir(&self) -> PathBuf {
        self.root().join("work")
    }

    /// Writes a file into the work directory and returns its path.
    pub fn write_file(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf> {
        let path = self.work_dir().join(name);
        fs::write(&path, contents).map_err(HarnessError::io("write", &path))?;
        Ok(path)
    }

    /// Adds a variable to every later command (e.g. the recording plugin's settings).
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) {
        let key = key.as_ref().to_owned();
        self.extra_env.retain(|(existing, _)| *existing != key);
        self.extra_env.push((key, value.as_ref().to_owned()));
    }

    /// Changes the per-command deadline (default 60 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Runs `notation <args>`; the caller inspects the exit status.
    pub fn notation<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        process::run(self.command(&self.notation, args), self.timeout)
    }

    /// The `notation <args>` command of this world, for callers that run it themselves (the
    /// benchmarks time it to the exit).
    pub fn notation_command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        self.command(&self.notation, args)
    }

    /// Runs `notation <args>` and requires exit 0.
    pub fn notation_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        self.notation(args)?.ok()
    }

    /// Runs `oras <args>`; the caller inspects the exit status.
    pub fn oras<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        process::run(self.command(&self.oras, args), self.timeout)
    }

    /// Runs `oras <args>` and requires exit 0.
    pub fn oras_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        self.oras(args)?.ok()
    }

    /// Runs another program (e.g. a harness built from `tests/`) in this environment, with its
    /// variables; the caller inspects the exit status.
    pub fn run<S: AsRef<OsStr>>(&self, program: &Path, args: &[S]) -> Result<Output> {
        process::run(self.command(program, args), self.timeout)
    }

    /// Runs a bash script (`set -euo pipefail`) in the same environment, with notation and oras
    /// first on `PATH`: documented command lines run as a user types them.
    pub fn shell(&self, script: &str) -> Result<Output> {
        let mut command = self.command(Path::new("bash"), &["-euo", "pipefail", "-c", script]);
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let mut tools: Vec<PathBuf> = [&self.notation, &self.oras]
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .collect();
        tools.extend(std::env::split_paths(&inherited));
        if let Ok(path) = std::env::join_paths(tools) {
            command.env("PATH", path);
        }
        process::run(command, self.timeout)
    }

    fn command<S: AsRef<OsStr>>(&self, program: &Path, args: &[S]) -> Command {
        let root = self.root();
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.work_dir())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("xdg-config"))
            .env("XDG_CACHE_HOME", root.join("xdg-cache"))
            .env("XDG_DATA_HOME", root.join("xdg-data"))
            .env("NOTATION_CONFIG", self.config_dir())
            .env("NOTATION_CACHE", root.join("cache"))
            .env("DOCKER_CONFIG", root.join("docker"))
            .env("TMPDIR", root.join("tmp"))
            .envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        command
    }
}
