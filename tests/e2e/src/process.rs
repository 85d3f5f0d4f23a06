//! Running a real component with captured output and a deadline, so a hung CLI fails the test
//! with what it printed instead of hanging the suite.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};

/// Default deadline for one CLI invocation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    /// The exit status.
    pub status: ExitStatus,
    /// Captured stdout (lossy UTF-8).
    pub stdout: String,
    /// Captured stderr (lossy UTF-8).
    pub stderr: String,
}

impl Output {
    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, `None` when killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Turns a non-zero exit into [`HarnessError::CommandFailed`] carrying both streams.
    pub fn ok(self) -> Result<Self> {
        if self.success() {
            Ok(self)
        } else {
            Err(HarnessError::CommandFailed {
                command: self.command,
                status: self.status.to_string(),
                stdout: self.stdout,
                stderr: self.stderr,
            })
        }
    }
}

/// Runs `command` with stdin closed, capturing both streams; kills it after `timeout`.
pub fn run(command: Command, timeout: Duration) -> Result<Output> {
    run_with_input(command, None, timeout)
}

/// Like [`run`], feeding `input` on stdin (then closing it), as notation does for a plugin.
pub fn run_with_input(
    mut command: Command,
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output> {
    let line = describe(&command);
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| HarnessError::Spawn {
            program: line.clone(),
            source,
        })?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let (Some(mut pipe), Some(input)) = (child.stdin.take(), input) {
        let input = input.to_vec();
        // Written from a thread so a child that never reads cannot block us past the deadline;
        // dropping the pipe afterwards is the end of input.
        thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut pipe, &input);
        });
    }
    let waited = wait_until(&mut child, Instant::now() + timeout);
    // A grandchild that inherited the pipes could keep them open after the child is gone; give
    // the readers a short grace period rather than blocking forever.
    let grace = Instant::now() + Duration::from_secs(5);
    let stdout = join(stdout, grace);
    let stderr = join(stderr, grace);
    match waited {
        Ok(Some(status)) => Ok(Output {
            command: line,
            status,
            stdout,
            stderr,
        }),
        Ok(None) => Err(HarnessError::Timeout {
            command: line,
            timeout,
            stdout,
            stderr,
        }),
        Err(source) => Err(HarnessError::Spawn {
            program: line,
            source,
        }),
    }
}

/// Polls until the child exits; on the deadline kills it and returns `None`.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            // Already-exited races are fine: kill errors are ignored, wait reaps.
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn drain(stream: Option<impl Read + Send + 'static>) -> Option<JoinHandle<Vec<u8>>> {
    stream.map(|mut stream| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            // A read error just truncates the capture; the exit status still tells the story.
            let _ = stream.read_to_end(&mut buf);
            buf
        })
    })
}

fn join(handle: Option<JoinHandle<Vec<u8>>>, deadline: Instant) -> String {
    let Some(handle) = handle else {
        return String::new();
    };
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            // Detach the reader: the capture is lost, the test is not hung.
            return "<output still open after the process exited; not captured>".into();
        }
        thread::sleep(Duration::from_millis(10));
    }
    handle
        .join()
        .ok()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// `program arg arg…` for messages.
pub(crate) fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}
