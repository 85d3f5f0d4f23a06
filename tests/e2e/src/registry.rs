//! A throw-away OCI registry: `docker-registry serve` (distribution 2.8) on a free 127.0.0.1 port
//! with its storage in a temporary directory, killed when dropped.
//!
//! distribution 2.8 has no Referrers API, so notation and oras fall back to the referrers tag
//! schema; notation and oras treat `localhost:PORT` as plain http.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{HarnessError, Result};
use crate::locate;

/// How long the registry may take to answer `/v2/`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts with a fresh port, in case another process grabs the probed port first.
const START_ATTEMPTS: usize = 3;

/// A running registry. Dropping it kills the process and deletes its storage.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Registry {
    /// Starts a registry and waits until it answers `GET /v2/`.
    pub fn start() -> Result<Self> {
        let program = locate::tool("docker-registry")?;
        let dir = tempfile::Builder::new()
            .prefix("notation-akv-registry")
            .tempdir()
            .map_err(HarnessError::io("create temp dir in", std::env::temp_dir()))?;
        let log_path = dir.path().join("registry.log");
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let config = write_config(&dir, port)?;
            let log = File::create(&log_path).map_err(HarnessError::io("create", &log_path))?;
            let log_err = log
                .try_clone()
                .map_err(HarnessError::io("open", &log_path))?;
            let mut child = Command::new(&program)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .spawn()
                .map_err(|source| HarnessError::Spawn {
                    program: program.display().to_string(),
                    source,
                })?;
            match wait_ready(&mut child, port) {
                Ok(()) => return Ok(Registry { child, port, dir }),
                Err(reason) => {
                    stop(&mut child);
                    last_error = Some(HarnessError::RegistryNotReady {
                        reason,
                        log: log_tail(&log_path),
                    });
                }
            }
        }
        Err(
            last_error.unwrap_or_else(|| HarnessError::RegistryNotReady {
                reason: "no start attempt made".into(),
                log: String::new(),
            }),
        )
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `localhost:PORT`, the host part of references (plain http for notation and oras).
    pub fn host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `localhost:PORT/<repository>`.
    pub fn repository(&self, name: &str) -> String {
        format!("{}/{name}", self.host())
    }

    /// What the registry printed so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The last few KiB of the registry log, enough for an error message.
fn log_tail(path: &std::path::Path) -> String {
    const MAX: usize = 4096;
    let log = fs::read_to_string(path).unwrap_or_default();
    let start = log.len().saturating_sub(MAX);
    let start = (start..log.len())
        .find(|&i| log.is_char_boundary(i))
        .unwrap_or(log.len());
    log[start..].to_owned()
}

fn stop(child: &mut Child) {
    // Errors mean it already exited; wait reaps it either way.
    let _ = child.kill();
    let _ = child.wait();
}

/// Polls until `/v2/` answers, the process exits, or the deadline passes.
fn wait_ready(child: &mut Child, port: u16) -> std::result::Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}"));
        }
        if probe_v2(port) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "no answer on 127.0.0.1:{port} within {READY_TIMEOUT:?}"
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// `GET /v2/` over plain HTTP/1.1; a 200 or 401 status means means the API is up.
fn probe_v2(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(2));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 16];
    let mut read = 0;
    while read < head.len() {
        match stream.read(&mut head[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    // "HTTP/1.x 200 …": the code is the second word.
    let status = String::from_utf8_lossy(&head[..read]);
    matches!(status.split(' ').nth(1), Some("200" | "401"))
}

/// Asks the kernel for a free port on 127.0.0.1 (released again before the registry binds it).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(HarnessError::io("bind a probe port on", "127.0.0.1"))?;
    let port = listener
        .local_addr()
        .map_err(HarnessError::io("read the probe port of", "127.0.0.1"))?
        .port();
    Ok(port)
}

fn write_config(dir: &TempDir, port: u16) -> Result<PathBuf> {
    let data = dir.path().join("data");
    fs::create_dir_all(&data).map_err(HarnessError::io("create", &data))?;
    let config = format!(
        "version: 0.1\n\
         log: {{ level: warn }}\n\
         storage: {{ filesystem: {{ rootdirectory: {data} }}, delete: {{ enabled: true }} }}\n\
         http: {{ addr: 127.0.0.1:{port} }}\n",
        data = data.display()
    );
    let path = dir.path().join("config.yml");
    fs::write(&path, config).map_err(HarnessError::io("write", &path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_answers_until_dropped() {
        let registry = Registry::start().unwrap();
        let port = registry.port();
        assert!(probe_v2(port));
        assert_eq!(registry.repository("a/b"), format!("localhost:{port}/a/b"));
        drop(registry);
        assert!(
            !probe_v2(port),
            "registry still answers on {port} after drop"
        );
    }
}
