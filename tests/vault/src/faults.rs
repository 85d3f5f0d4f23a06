//! Fault injection: per route, optionally a limited number of times.
//!
//! For vault routes a fault applies only to requests that passed authentication, so the SDK's
//! unauthenticated challenge probe does not use it up; token routes are matched directly.

use std::time::Duration;

/// What to do instead of (or before) answering normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer with this status and an AKV-shaped error body, optionally with `Retry-After` (seconds).
    Status {
        status: u16,
        code: String,
        message: String,
        retry_after: Option<u32>,
    },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Send the headers with the full `Content-Length`, half the body, then close the connection.
    TruncateBody,
    /// Close the connection without any response.
    DropConnection,
    /// Answer with this response verbatim.
    Respond(RecordedResponse),
    /// Instead of the vault's own 401 challenge to a request without a valid token, answer with
    /// this response verbatim (e.g. a challenge recorded from the live service). Never used on
    /// requests that carry a valid token.
    Challenge(RecordedResponse),
}

/// A whole response: status, headers (names lowercase or not, as recorded) and body bytes, served
/// as given; the server only adds `x-ms-request-id` and computes `content-length`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl FaultAction {
    /// An arbitrary error status with an AKV error body.
    pub fn status(status: u16, code: &str, message: &str) -> FaultAction {
        FaultAction::Status {
            status,
            code: code.into(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429 with AKV's throttling body and `Retry-After: secs`.
    pub fn throttled(retry_after_secs: u32) -> FaultAction {
        FaultAction::Status {
            status: 429,
            code: "Throttled".into(),
            message: "Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached".into(),
            retry_after: Some(retry_after_secs),
        }
    }
}

/// A fault rule: method (`None` = any) and path pattern, e.g. `/keys/*/*/sign` or `/secrets/**`.
///
/// Patterns match path segments (empty segments ignored): `*` is one segment, a trailing `**`
/// is any rest (including nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    method: Option<String>,
    pattern: Vec<String>,
    remaining: Option<usize>,
    action: FaultAction,
}

impl Fault {
    /// A fault for every matching request until cleared; `method` `"*"` matches any method.
    pub fn on(method: &str, path_pattern: &str, action: FaultAction) -> Fault {
        Fault {
            method: (method != "*").then(|| method.to_ascii_uppercase()),
            pattern: segments(path_pattern).map(str::to_owned).collect(),
            remaining: None,
            action,
        }
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: usize) -> Fault {
        self.remaining = Some(n);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        if self.remaining == Some(0) {
            return false;
        }
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        let mut path = segments(path);
        for p in &self.pattern {
            if p == "**" {
                return true;
            }
            match path.next() {
                Some(s) if p == "*" || p == s => {}
                _ => return false,
            }
        }
        path.next().is_none()
    }
}

pub(crate) fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The installed faults, consulted in insertion order; the first match wins.
#[derive(Debug, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The action for this authenticated request, using up one of the fault's allowed hits.
    pub fn take(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        self.take_where(method, path, |a| !matches!(a, FaultAction::Challenge(_)))
    }

    /// The challenge to answer a request without a valid token with, if one is installed.
    pub fn take_challenge(&mut self, method: &str, path: &str) -> Option<RecordedResponse> {
        match self.take_where(method, path, |a| matches!(a, FaultAction::Challenge(_)))? {
            FaultAction::Challenge(r) => Some(r),
            _ => None,
        }
    }

    fn take_where(
        &mut self,
        method: &str,
        path: &str,
        applies: impl Fn(&FaultAction) -> bool,
    ) -> Option<FaultAction> {
        let fault = self
            .0
            .iter_mut()
            .find(|f| applies(&f.action) && f.matches(method, path))?;
        if let Some(n) = fault.remaining.as_mut() {
            *n -= 1;
        }
        Some(fault.action.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_segments() {
        let f = Fault::on("POST", "/keys/*/*/sign", FaultAction::DropConnection);
        assert!(f.matches("POST", "/keys/k/v1/sign"));
        assert!(!f.matches("POST", "/keys/k/sign"));
        assert!(!f.matches("GET", "/keys/k/v1/sign"));
        let any = Fault::on("*", "/secrets/**", FaultAction::TruncateBody);
        assert!(any.matches("GET", "/secrets/s/v"));
        assert!(any.matches("GET", "/secrets"));
        assert!(!any.matches("GET", "/keys/s"));
    }

    #[test]
    fn limited_faults_run_out() {
        let mut faults = Faults::default();
        faults.add(Fault::on("GET", "/keys/*", FaultAction::throttled(1)).times(2));
        assert!(faults.take("GET", "/keys/a").is_some());
        assert!(faults.take("GET", "/keys/a").is_some());
        assert!(faults.take("GET", "/keys/a").is_none());
    }

    #[test]
    fn challenges_are_only_for_requests_without_a_valid_token() {
        let recorded = RecordedResponse {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), "Bearer resource=\"x\"".into())],
            body: Vec::new(),
        };
        let mut faults = Faults::default();
        faults.add(Fault::on("GET", "/keys/**", FaultAction::Challenge(recorded.clone())).times(1));
        faults.add(Fault::on("GET", "/keys/**", FaultAction::DropConnection));
        assert_eq!(
            faults.take("GET", "/keys/a"),
            Some(FaultAction::DropConnection)
        );
        assert_eq!(faults.take_challenge("GET", "/keys/a"), Some(recorded));
        assert_eq!(faults.take_challenge("GET", "/keys/a"), None);
    }
}
