//! The optional request log (`log_file` / `NOTATION_AKV_LOG_FILE`).
//!
//! notation reads a plugin's stdout as the response and its stderr as the error, so nothing may be
//! printed there; diagnostics go to this file instead, appended one line per event. Only
//! non-secret facts are written: method, path (never the query), status, duration and
//! `x-ms-request-id` for each HTTP exchange, plus notes such as which credential worked. Header
//! values (tokens) and bodies (secret values, signatures) are never recorded.

use notation_akv_protocol::log::LogFile;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Appends lines to the log file; a `None` log discards everything at no cost.
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    inner: Option<Arc<LogFile>>,
}

/// One HTTP exchange as logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    /// `None` when no response arrived (connection error, timeout).
    pub status: Option<u16>,
    pub duration: Duration,
    pub request_id: Option<&'a str>,
    /// The request carried no bearer token: the SDK's first vault call, which fetches the auth
    /// challenge, or a token-endpoint call.
    pub unauthenticated: bool,
}

impl RequestLog {
    /// Opens (creating, mode 0600 on Unix) the file for appending. A log that cannot be opened is
    /// reported to the caller, which decides whether that is fatal.
    pub fn open(path: &Path) -> std::io::Result<RequestLog> {
        Ok(RequestLog {
            inner: Some(Arc::new(LogFile::open(path, "notation-akv")?)),
        })
    }

    /// A log that writes nothing.
    pub fn disabled() -> RequestLog {
        RequestLog::default()
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub fn path(&self) -> Option<&Path> {
        self.inner.as_deref().map(LogFile::path)
    }

    /// Records one HTTP exchange.
    pub fn exchange(&self, e: &Exchange<'_>) {
        if !self.is_enabled() {
            return;
        }
        let status = e
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "no-response".to_string());
        let mut line = format!(
            "http {} https://{}{} status={} duration_ms={}",
            e.method,
            e.host,
            e.path,
            status,
            e.duration.as_millis()
        );
        if let Some(id) = e.request_id {
            line.push_str(&format!(" x-ms-request-id={}", sanitize(id)));
        }
        if e.unauthenticated {
            line.push_str(" auth=none");
        }
        self.write(&line);
    }

    /// Records a free-form note. Callers pass only non-secret text.
    pub fn note(&self, text: &str) {
        if self.is_enabled() {
            self.write(&format!("note {}", sanitize(text)));
        }
    }

    fn write(&self, line: &str) {
        if let Some(file) = &self.inner {
            // Logging must never fail a command.
            let _ = file.write_lines(&[line]);
        }
    }
}

/// Keeps one event on one line and strips anything that looks like a bearer token.
fn sanitize(text: &str) -> String {
    let single: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    redact_bearer(&single)
}

/// Replaces the value after `Bearer ` (and JWT-shaped words) with `<redacted>`.
pub fn redact_bearer(text: &str) -> String {
    let mut out = Vec::new();
    let mut after_bearer = false;
    for word in text.split(' ') {
        let jwt = word.starts_with("eyJ") && word.matches('.').count() >= 2;
        if after_bearer || jwt {
            out.push("<redacted>");
        } else {
            out.push(word);
        }
        after_bearer = word.eq_ignore_ascii_case("bearer");
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_request_facts_and_no_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("akv.log");
        let log = RequestLog::open(&path).unwrap();
        log.exchange(&Exchange {
            method: "POST",
            host: "v.vault.azure.net",
            path: "/keys/k/1/sign",
            status: Some(200),
            duration: Duration::from_millis(12),
            request_id: Some("abc-123"),
            unauthenticated: false,
        });
        log.note("token from Bearer eyJhbGciOi.eyJzdWIi.c2ln\nnext");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].ends_with(
            "http POST https://v.vault.azure.net/keys/k/1/sign status=200 duration_ms=12 x-ms-request-id=abc-123"
        ));
        assert!(
            lines[1].ends_with("note token from Bearer <redacted> next"),
            "{}",
            lines[1]
        );
        assert!(!text.contains("eyJ"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn disabled_log_writes_nothing() {
        let log = RequestLog::disabled();
        log.note("x");
        assert!(!log.is_enabled());
    }
}
