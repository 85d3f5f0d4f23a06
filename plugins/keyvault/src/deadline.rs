//! The command's total deadline and bounded retries inside it.
//!
//! notation sets no timeout on a plugin, so the plugin owns one: every vault call runs under
//! what is left of a single deadline (`timeout`, default 30 s). Transient failures (429, 5xx,
//! dropped connections, truncated bodies) are retried at most [`MAX_ATTEMPTS`] times, honouring
//! `Retry-After` for 429/503, and never past the deadline: when the next wait would cross it,
//! the last failure is reported (429 as `THROTTLED`).

use crate::error::{ServiceDetail, Target, VaultError};
use azure_core::error::ErrorKind;
use std::future::Future;
use std::time::{Duration, Instant};

/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// A fixed point in time that every call of a command must finish by.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    start: Instant,
    total: Duration,
}

impl Deadline {
    pub fn new(total: Duration) -> Deadline {
        Deadline {
            start: Instant::now(),
            total,
        }
    }

    pub fn total(&self) -> Duration {
        self.total
    }

    /// Time left; zero once passed.
    pub fn remaining(&self) -> Duration {
        self.total.saturating_sub(self.start.elapsed())
    }
}

/// How one failed attempt is classified.
enum Failure {
    Retry {
        error: VaultError,
        retry_after: Option<Duration>,
    },
    Fatal(VaultError),
}

/// Runs `attempt` until it succeeds, fails for good, runs out of attempts or the deadline passes.
pub async fn call<T, F, Fut>(
    deadline: &Deadline,
    target: &Target,
    mut attempt: F,
) -> Result<T, VaultError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = azure_core::Result<T>>,
{
    let timeout = || VaultError::Timeout {
        target: target.clone(),
        after: deadline.total(),
    };
    let mut number = 0;
    loop {
        number += 1;
        let remaining = deadline.remaining();
        if remaining.is_zero() {
            return Err(timeout());
        }
        let result = match tokio::time::timeout(remaining, attempt()).await {
            Err(_) => return Err(timeout()),
            Ok(result) => result,
        };
        let error = match result {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let (error, retry_after) = match classify(target, error, number) {
            Failure::Fatal(error) => return Err(error),
            Failure::Retry { error, retry_after } => (error, retry_after),
        };
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << (number - 1).min(8))
            .min(MAX_BACKOFF);
        let wait = retry_after.unwrap_or(backoff);
        if number >= MAX_ATTEMPTS || wait >= deadline.remaining() {
            return Err(give_up(error, number, retry_after));
        }
        tokio::time::sleep(wait).await;
    }
}

/// The error to report once retrying stops.
fn give_up(error: VaultError, attempts: u32, retry_after: Option<Duration>) -> VaultError {
    match error {
        VaultError::Http { target, detail } if detail.status == 429 => VaultError::Throttled {
            target,
            attempts,
            retry_after,
            detail,
        },
        VaultError::Transport {
            target, message, ..
        } => VaultError::Transport {
            target,
            attempts,
            message,
        },
        other => other,
    }
}

fn classify(target: &Target, error: azure_core::Error, attempt: u32) -> Failure {
    match error.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => {
            let status = u16::from(*status);
            let mut detail = ServiceDetail {
                status,
                // azure_core falls back to the status ("403") when the body names no code.
                azure_code: error_code
                    .clone()
                    .filter(|c| !c.bytes().all(|b| b.is_ascii_digit())),
                ..Default::default()
            };
            let mut retry_after = None;
            if let Some(raw) = raw_response {
                let headers = raw.headers();
                detail.request_id = headers
                    .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                        "x-ms-request-id",
                    ))
                    .map(str::to_string);
                retry_after = retry_after_of(headers);
                let body = raw.body();
                detail.message = service_message(body);
                if detail.azure_code.is_none() {
                    detail.azure_code = service_code(body);
                }
                detail.inner_code = inner_code(body);
                let content_type = headers
                    .get_optional_str(&azure_core::http::headers::CONTENT_TYPE)
                    .unwrap_or("");
                if !body.is_empty() && !content_type.to_ascii_lowercase().contains("json") {
                    detail.foreign_content_type = Some(
                        content_type
                            .split(';')
                            .next()
                            .unwrap_or_default()
                            .trim()
                            .chars()
                            .take(80)
                            .collect(),
                    )
                    .filter(|t: &String| !t.is_empty());
                }
            }
            let http = VaultError::Http {
                target: target.clone(),
                detail,
            };
            if matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
                Failure::Retry {
                    error: http,
                    retry_after: if matches!(status, 429 | 503) {
                        retry_after
                    } else {
                        None
                    },
                }
            } else {
                Failure::Fatal(http)
            }
        }
        ErrorKind::Credential => Failure::Fatal(VaultError::Credential {
            message: root_message(&error),
        }),
        ErrorKind::Io | ErrorKind::Connection => Failure::Retry {
            error: VaultError::Transport {
                target: target.clone(),
                attempts: attempt,
                message: root_message(&error),
            },
            retry_after: None,
        },
        ErrorKind::DataConversion => Failure::Retry {
            error: VaultError::Response {
                target: target.clone(),
                message: format!("the body could not be decoded ({})", root_message(&error)),
                detail: ServiceDetail::default(),
            },
            retry_after: None,
        },
        _ => {
            let message = root_message(&error);
            match foreign_challenge_resource(&message) {
                Some(resource) => Failure::Fatal(VaultError::ForeignChallenge {
                    target: target.clone(),
                    resource,
                }),
                None => Failure::Fatal(VaultError::Response {
                    target: target.clone(),
                    message,
                    detail: ServiceDetail::default(),
                }),
            }
        }
    }
}

/// The resource of an auth challenge the Key Vault SDK refused because it does not name the
/// vault's domain (its `challenge resource '…' doesn't match the requested domain` error).
fn foreign_challenge_resource(message: &str) -> Option<String> {
    let rest = message.strip_prefix("challenge resource '")?;
    let (resource, tail) = rest.split_once('\'')?;
    tail.contains("doesn't match the requested domain")
        .then(|| resource.to_string())
}

/// `Retry-After` (seconds) or `x-ms-retry-after-ms`/`retry-after-ms` (milliseconds).
fn retry_after_of(headers: &azure_core::http::headers::Headers) -> Option<Duration> {
    use azure_core::http::headers::HeaderName;
    for (name, millis) in [
        ("x-ms-retry-after-ms", true),
        ("retry-after-ms", true),
        ("retry-after", false),
    ] {
        let value = headers.get_optional_str(&HeaderName::from_static(name));
        if let Some(n) = value.and_then(|v| v.trim().parse::<u64>().ok()) {
            return Some(if millis {
                Duration::from_millis(n)
            } else {
                Duration::from_secs(n)
            });
        }
    }
    None
}

/// `error.message` of Key Vault's `{"error":{"code","message"}}` body, if it has one.
fn service_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.get("code")?.as_str()?;
    Some(code.chars().take(80).collect())
}

fn service_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let message = value.get("error")?.get("message")?.as_str()?;
    Some(message.chars().take(500).collect())
}

/// `innererror.code`, found by its text so a body cut short (as proxies and log excerpts cut
/// them) still yields it.
fn inner_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = &compact[compact.find("\"innererror\":{\"code\":\"")? + 22..];
    let code = &rest[..rest.find('"')?];
    (!code.is_empty() && code.len() <= 80 && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| code.to_string())
}

/// The error text with its source chain, on one line, without the SDK's troubleshooting footer.
fn root_message(error: &azure_core::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    let text = text.split("\nTo troubleshoot").next().unwrap_or_default();
    text.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Operation;
    use azure_core::http::headers::Headers;
    use azure_core::http::{RawResponse, StatusCode};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn target() -> Target {
        Target {
            operation: Operation::Sign,
            vault: "v".into(),
            name: "k".into(),
            version: None,
        }
    }

    fn http_error(status: StatusCode, headers: &[(&'static str, &str)]) -> azure_core::Error {
        let mut h = Headers::new();
        h.insert("x-ms-request-id", "rid");
        for (name, value) in headers {
            h.insert(*name, value.to_string());
        }
        let body = br#"{"error":{"code":"Throttled","message":"slow down"}}"#.to_vec();
        azure_core::Error::with_message(
            ErrorKind::HttpResponse {
                status,
                error_code: Some("Throttled".into()),
                raw_response: Some(Box::new(RawResponse::from_bytes(status, h, body))),
            },
            "failed",
        )
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_retried_honouring_retry_after_then_reported() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::new(Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = call(&deadline, &target(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err(http_error(
                    StatusCode::TooManyRequests,
                    &[("retry-after", "2")],
                ))
            }
        })
        .await;
        let err = result.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), MAX_ATTEMPTS);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(6),
            "three waits of Retry-After"
        );
        let VaultError::Throttled {
            attempts, detail, ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*attempts, MAX_ATTEMPTS);
        assert_eq!(detail.request_id.as_deref(), Some("rid"));
        assert_eq!(detail.message.as_deref(), Some("slow down"));
        let plugin = err.to_plugin_error();
        assert_eq!(
            plugin.error_code,
            notation_akv_protocol::ErrorCode::Throttled
        );
    }

    #[tokio::test]
    async fn a_retry_after_past_the_deadline_stops_at_once() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::new(Duration::from_secs(5));
        let result: Result<(), _> = call(&deadline, &target(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async {
                Err(http_error(
                    StatusCode::TooManyRequests,
                    &[("retry-after", "60")],
                ))
            }
        })
        .await;
        assert!(matches!(
            result,
            Err(VaultError::Throttled { attempts: 1, .. })
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_call_times_out_at_the_deadline() {
        let deadline = Deadline::new(Duration::from_secs(3));
        let result: Result<(), _> = call(&deadline, &target(), || async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert!(matches!(result, Err(VaultError::Timeout { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn server_errors_recover() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::new(Duration::from_secs(30));
        let result = call(&deadline, &target(), || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Err(http_error(StatusCode::InternalServerError, &[]))
                } else {
                    Ok(7)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
    }

    #[tokio::test]
    async fn not_found_is_not_retried() {
        let calls = AtomicU32::new(0);
        let deadline = Deadline::new(Duration::from_secs(30));
        let result: Result<(), _> = call(&deadline, &target(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(http_error(StatusCode::NotFound, &[])) }
        })
        .await;
        assert!(matches!(result, Err(VaultError::Http { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
