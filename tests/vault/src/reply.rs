//! A response before it meets hyper, and AKV's error body.

use crate::faults::RecordedResponse;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: value.to_string().into_bytes(),
        }
    }

    /// `{"error":{"code":…,"message":…}}`, AKV's error shape.
    pub fn akv_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        )
    }

    /// AKV's error with an `innererror` code (e.g. `KeyDisabled`).
    pub fn akv_error_inner(status: u16, code: &str, message: &str, inner: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": code, "message": message, "innererror": {"code": inner}}}),
        )
    }

    /// Entra's token-endpoint error shape.
    pub fn entra_error(status: u16, error: &str, aadsts: u32, description: &str) -> Reply {
        Reply::json(
            status,
            &json!({
                "error": error,
                "error_description": format!("AADSTS{aadsts}: {description}"),
                "error_codes": [aadsts],
                "timestamp": time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            }),
        )
    }

    /// A response exactly as given (e.g. one recorded from the live service).
    pub fn verbatim(response: &RecordedResponse) -> Reply {
        Reply {
            status: response.status,
            headers: response.headers.clone(),
            body: response.body.clone(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name.into(), value));
        self
    }
}
