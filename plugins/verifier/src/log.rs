//! The optional log file (`log_file`), written through the protocol crate's shared
//! [`LogFile`]. A verification buffers its lines and appends them in one write at the end, so
//! concurrent verifications (a cluster admitting many images) do not interleave. Logging must never
//! change a verdict: a write error is returned for the caller to mention, not to act on.

use notation_akv_protocol::log::LogFile;
use std::path::PathBuf;
use std::sync::Mutex;

/// Appends timestamped lines to a file, or does nothing when no file is configured.
#[derive(Debug, Default)]
pub struct Log {
    path: Option<PathBuf>,
    lines: Mutex<Vec<String>>,
}

impl Log {
    pub fn new(path: Option<PathBuf>) -> Self {
        Log {
            path,
            lines: Mutex::new(Vec::new()),
        }
    }

    /// Buffers one line; [`Log::flush`] writes them all with one append.
    pub fn line(&self, text: impl Into<String>) {
        if self.path.is_none() {
            return;
        }
        if let Ok(mut lines) = self.lines.lock() {
            lines.push(text.into());
        }
    }

    /// Appends the buffered lines; an error is returned for the caller to mention, not to act on.
    pub fn flush(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let lines = match self.lines.lock() {
            Ok(mut lines) => std::mem::take(&mut *lines),
            Err(_) => return Ok(()),
        };
        if lines.is_empty() {
            return Ok(());
        }
        LogFile::open(path, "akv-verifier")
            .and_then(|file| file.write_lines(&lines))
            .map_err(|e| format!("cannot append to log file {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_only_on_flush() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.log");
        let log = Log::new(Some(path.clone()));
        log.line("first");
        assert!(!path.exists());
        log.flush().unwrap();
        log.line("second");
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("akv-verifier[") && lines[0].ends_with("] first"));
        assert!(lines[1].ends_with("] second"));
    }

    #[test]
    fn an_unwritable_log_is_reported_not_fatal() {
        let log = Log::new(Some(PathBuf::from("/nonexistent-dir/v.log")));
        log.line("x");
        assert!(log.flush().unwrap_err().contains("/nonexistent-dir/v.log"));
        Log::new(None).flush().unwrap();
    }
}
