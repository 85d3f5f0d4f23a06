//! The marks the diagnosing commands print beside each finding (`doctor`, `certificate show`).

use serde::Serialize;

/// The outcome of one step or check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Works, but something deserves attention (not a failure).
    Warn,
    Fail,
    /// Not reached because an earlier step failed.
    Skip,
}

impl Status {
    /// `✓`, `!`, `✗` or `-`.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }
}
