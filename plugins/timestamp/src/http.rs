//! The TSA exchange: one POST of `application/timestamp-query`, answered with
//! `application/timestamp-reply`, as tspclient-go's HTTP timestamper sends it. One deadline covers
//! connect, headers and body, so a trickling TSA cannot hold the signer past its own deadline.

use crate::TimestampError;
use std::time::Duration;

/// Largest reply read; real tokens are a few KiB.
const LIMIT: usize = 1 << 20;

const QUERY: &str = "application/timestamp-query";
const REPLY: &str = "application/timestamp-reply";

/// POSTs `body` to `url` and returns the reply body.
pub async fn post(
    url: &url::Url,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, TimestampError> {
    let transport = |detail: String| TimestampError::Transport {
        url: url.to_string(),
        detail,
    };
    let client = notation_akv_http::client_builder()
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("notation-akv/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| transport(format!("cannot build the HTTP client: {e}")))?;
    let exchange = async {
        let mut response = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, QUERY)
            .body(body)
            .send()
            .await
            .map_err(|e| transport(describe(&e)))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(transport(format!("HTTP status {status}")));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if content_type != REPLY {
            return Err(transport(format!(
                "the reply's content type is {content_type:?}, not {REPLY}; is the URL a RFC 3161 timestamp service?"
            )));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport(describe(&e)))?
        {
            if bytes.len() + chunk.len() > LIMIT {
                return Err(transport(format!("the reply is larger than {LIMIT} bytes")));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| TimestampError::Timeout {
            url: url.to_string(),
            after: timeout,
        })?
}

/// reqwest's error with its causes (the top level alone says only "error sending request").
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
