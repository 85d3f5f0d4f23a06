//! Running a plugin binary the way notation does: one argument (the command), the request JSON on
//! stdin, a cleared environment (typically [`crate::TestVault::credential_env`] plus a private
//! HOME), with a deadline so a hung plugin fails the test instead of hanging the suite.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What one plugin process did.
#[derive(Debug)]
pub struct PluginRun {
    /// The exit code; -1 when killed by a signal.
    pub exit_code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

/// Runs `binary command` with exactly `env`, writes `request` to its stdin and closes it.
/// Panics (failing the test) if the binary cannot start or is still running after `timeout`.
pub fn run_plugin(
    binary: &Path,
    command: &str,
    env: &[(String, String)],
    request: &[u8],
    timeout: Duration,
) -> PluginRun {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg(command)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    // Readers on their own threads, so a chatty plugin never blocks on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin that exits without reading its request shows in its output, not here.
        let _ = stdin.write_all(request);
    }
    let deadline = started + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the plugin") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{} {command} did not finish within {timeout:?}",
                binary.display()
            );
        }
        thread::sleep(Duration::from_millis(1));
    };
    let elapsed = started.elapsed();
    PluginRun {
        exit_code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed,
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}
