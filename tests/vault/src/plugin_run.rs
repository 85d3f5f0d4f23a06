//! Running a plugin binary the way notation does: one argument (the command), the request JSON on
//! stdin, a cleared environment (typically [`crate::TestVault::credential_env`] plus a private
//! HOME), with a deadline so a hung plugin fails the test instead of hanging the suite.
//!
//! Benchmarks also read what a finished child cost: wall time from spawn to exit, and CPU time
//! (user + sys) as `getrusage(RUSAGE_CHILDREN)` counts it, including the child's own children.
//! The CPU figure is the difference of the process-wide counter around one child, so it is
//! exact when a process reaps one child at a time (the benchmarks) and an upper bound when tests
//! run plugins concurrently.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
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
    /// CPU time (user + sys) of the process; see the module doc.
    pub cpu: Duration,
}

/// Resource use of every child this process has reaped so far.
#[derive(Debug, Clone, Copy)]
pub struct ChildrenUsage {
    /// User + sys CPU time, summed over the children.
    pub cpu: Duration,
    /// The largest peak resident set size of any one child, in KiB.
    pub max_rss_kib: u64,
}

/// `getrusage(RUSAGE_CHILDREN)`.
pub fn children_usage() -> ChildrenUsage {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(usage) => {
            let micros = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec().max(0) as u64)
                    + Duration::from_micros(t.tv_usec().max(0) as u64)
            };
            ChildrenUsage {
                cpu: micros(usage.user_time()) + micros(usage.system_time()),
                max_rss_kib: usage.max_rss().max(0) as u64,
            }
        }
        Err(_) => ChildrenUsage {
            cpu: Duration::ZERO,
            max_rss_kib: 0,
        },
    }
}

/// One measured run of any command (stdin closed, output captured).
#[derive(Debug)]
pub struct Measured {
    pub output: Output,
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// CPU time (user + sys) of the command and the children it waited for.
    pub cpu: Duration,
}

/// Runs `command` to completion, measuring wall and CPU time; panics if it cannot start.
pub fn measure(command: &mut Command) -> Measured {
    let before = children_usage().cpu;
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
    let wall = started.elapsed();
    Measured {
        output,
        wall,
        cpu: children_usage().cpu.saturating_sub(before),
    }
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
    let before = children_usage().cpu;
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
    // Waiting on a thread (instead of polling) stops the clock the moment the plugin exits.
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (sender, exited) = mpsc::channel::<std::io::Result<ExitStatus>>();
    let waiter = thread::spawn(move || {
        let _ = sender.send(child.wait());
    });
    let status = match exited.recv_timeout(timeout) {
        Ok(status) => status.expect("wait for the plugin"),
        Err(_) => {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waiter.join();
            panic!(
                "{} {command} did not finish within {timeout:?}",
                binary.display()
            );
        }
    };
    let elapsed = started.elapsed();
    let cpu = children_usage().cpu.saturating_sub(before);
    let _ = waiter.join();
    PluginRun {
        exit_code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed,
        cpu,
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

/// Writes an executable script `dir/in-mount-namespace.sh` that runs `binary` with its arguments
/// after `/bin/sh` snippet `setup`, in a private mount namespace (`unshare --mount`, root only):
/// a test mounts filesystems (a read-only or full tmpfs over a cache) that only this run sees.
/// Run the returned script in place of the binary.
pub fn in_mount_namespace(dir: &Path, binary: &Path, setup: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let script = dir.join("in-mount-namespace.sh");
    let quoted = setup.replace('\'', "'\\''");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec /usr/bin/unshare --mount --propagation private /bin/sh -ec '{quoted}\nexec \"$0\" \"$@\"' {} \"$@\"\n",
            binary.display()
        ),
    )
    .expect("write the mount-namespace wrapper");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .expect("make the wrapper executable");
    script
}
