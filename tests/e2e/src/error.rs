//! The harness's error type: every failure names what is missing or what a command printed, so a
//! failing end-to-end test says how to fix the machine rather than just "No such file".

use std::path::PathBuf;
use std::time::Duration;

/// Why a harness step failed.
///
/// `Debug` prints the same message as `Display`, so that `unwrap()` in a test shows what to do
/// (e.g. "run `bash tests/provision.sh` first") and the commands' real output, not a struct dump.
#[derive(thiserror::Error)]
pub enum HarnessError {
    /// A real component (notation, oras, docker-registry) is not installed.
    #[error("{tool} not found (looked in {looked_in}); run `bash tests/provision.sh` first")]
    ToolMissing {
        /// The executable name.
        tool: String,
        /// Where the harness looked, for the message.
        looked_in: String,
    },
    /// A binary of this workspace has not been built.
    #[error("{} not found; run `cargo build --workspace --bins` first", path.display())]
    BinaryMissing {
        /// The expected path in the cargo target directory.
        path: PathBuf,
    },
    /// A command could not be started or waited for.
    #[error("could not run {program}: {source}")]
    Spawn {
        /// The program that was started.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A command ran longer than its deadline and was killed.
    #[error(
        "{command} did not finish within {timeout:?} and was killed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    )]
    Timeout {
        /// The command line.
        command: String,
        /// The deadline that passed.
        timeout: Duration,
        /// What it printed before it was killed.
        stdout: String,
        /// What it printed on stderr before it was killed.
        stderr: String,
    },
    /// A command exited non-zero where success was required.
    #[error("{command} failed with {status}\nstdout:\n{stdout}\nstderr:\n{stderr}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// The exit status, as printed by std.
        status: String,
        /// Its stdout.
        stdout: String,
        /// Its stderr.
        stderr: String,
    },
    /// The OCI registry did not start or answer.
    #[error("docker-registry did not become ready: {reason}\nregistry log:\n{log}")]
    RegistryNotReady {
        /// What went wrong.
        reason: String,
        /// The registry's own output.
        log: String,
    },
    /// A command's output was not what the harness expected (e.g. oras JSON without a digest).
    #[error("unexpected output from {command}: {reason}\n{output}")]
    UnexpectedOutput {
        /// The command line.
        command: String,
        /// What was wrong.
        reason: String,
        /// The output in question.
        output: String,
    },
    /// File system trouble in the test's temporary directories.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What the harness was doing.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl std::fmt::Debug for HarnessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl HarnessError {
    /// Wraps an I/O error with the action and path it concerns.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| HarnessError::Io {
            action,
            path,
            source,
        }
    }
}

/// Result alias for harness operations.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
