//! RFC 3161 timestamps for Notary Project signatures, requested and checked the way notation
//! (notation-core-go with tspclient-go) does for the envelopes it builds itself.
//!
//! notation timestamps the raw signature value of a `notary.x509` envelope with the hash of the
//! signature algorithm, asks for the TSA certificate (`certReq`) and sends a random nonce. It
//! embeds the token only after checking it, so a token notation's verifier would reject never
//! reaches a registry. This crate does the same for the signer's envelope mode:
//!
//! | module | concept |
//! |---|---|
//! | [`request`] | the `TimeStampReq`: message imprint, nonce, `certReq` |
//! | [`token`] | the `TimeStampResp` checks: status granted, imprint and nonce echoed, CMS signature of the TSA, TSA chain to the configured root, timeStamping EKU, genTime inside the signing chain's validity |
//! | [`http`] | the POST to the TSA, under one deadline |
//!
//! [`Timestamper::timestamp`] runs all three and returns the DER `TimeStampToken` exactly as the
//! TSA sent it (notation embeds the token's original bytes).

pub mod http;
pub mod request;
pub mod token;

use notation_akv_protocol::HashAlgorithm;
use notation_akv_x509::{Certificate, parse_bundle};
use std::time::Duration;

pub use request::Request;
pub use token::Token;
pub use url::Url;

/// Why no timestamp could be had. Every message names the TSA URL.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    /// The TSA did not answer within the deadline.
    #[error("timestamp authority {url} did not answer within {after:?}")]
    Timeout { url: String, after: Duration },
    /// No HTTP exchange: connection refused, TLS failure, bad status, oversized body.
    #[error("timestamp authority {url}: {detail}")]
    Transport { url: String, detail: String },
    /// The TSA answered but did not grant a timestamp.
    #[error("timestamp authority {url} refused the request: {detail}")]
    Rejected { url: String, detail: String },
    /// The answer is not a timestamp for this request (malformed, wrong imprint, wrong nonce).
    #[error("timestamp authority {url} sent an unusable response: {detail}")]
    Invalid { url: String, detail: String },
    /// The token is well formed but not trustworthy: signature, TSA chain, EKU, or times.
    #[error("the timestamp from {url} is not trusted: {detail}")]
    Untrusted { url: String, detail: String },
}

/// A TSA and the root its tokens must chain to.
#[derive(Clone, Debug)]
pub struct Timestamper {
    url: url::Url,
    roots: Vec<Certificate>,
}

/// Why a TSA URL or root file is unusable; the message says what to change.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// Checks a TSA URL: absolute http or https with a host, as notation's `--timestamp-url`.
pub fn parse_url(text: &str) -> Result<url::Url, SetupError> {
    let url = url::Url::parse(text).map_err(|e| {
        SetupError(format!(
            "timestamp_url {text:?} is not a URL ({e}); give the TSA's http or https URL, e.g. http://timestamp.digicert.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(SetupError(format!(
            "timestamp_url {text:?} must be an http or https URL with a host, e.g. http://timestamp.digicert.com"
        )));
    }
    Ok(url)
}

/// Reads the TSA root certificate(s) of a PEM or DER file's contents; `what` names the file.
pub fn parse_roots(bytes: &[u8], what: &str) -> Result<Vec<Certificate>, SetupError> {
    let bundle = parse_bundle(bytes).map_err(|e| {
        SetupError(format!(
            "timestamp_root_cert {what}: {e}; give the PEM file of the TSA's root certificate"
        ))
    })?;
    if bundle.certificates.is_empty() {
        return Err(SetupError(format!(
            "timestamp_root_cert {what} holds no certificate; give the PEM file of the TSA's root certificate"
        )));
    }
    if let Some(not_root) = bundle.certificates.iter().find(|c| !c.is_self_issued()) {
        return Err(SetupError(format!(
            "timestamp_root_cert {what}: \"{}\" is not a root (self-signed) certificate; give the TSA's root, as for notation's --timestamp-root-cert",
            not_root.subject()
        )));
    }
    Ok(bundle.certificates)
}

impl Timestamper {
    pub fn new(url: url::Url, roots: Vec<Certificate>) -> Timestamper {
        Timestamper { url, roots }
    }

    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Timestamps `content` (a raw signature value) hashed with `hash`, and checks the token:
    /// its TSA chain must end at one of the roots and its genTime must lie within the validity
    /// of every certificate of `signing_chain` (leaf first). `timeout` bounds the whole exchange.
    pub async fn timestamp(
        &self,
        content: &[u8],
        hash: HashAlgorithm,
        signing_chain: &[Certificate],
        timeout: Duration,
    ) -> Result<Token, TimestampError> {
        let request = Request::new(content, hash).map_err(|detail| TimestampError::Invalid {
            url: self.url().to_string(),
            detail,
        })?;
        let body = http::post(&self.url, request.to_der(), timeout).await?;
        self.check_reply(&body, &request, signing_chain)
    }

    /// Checks the DER `TimeStampResp` this TSA sent for `request` (the [`token`] checks), as
    /// [`Timestamper::timestamp`] does after the exchange; errors name this TSA's URL.
    pub fn check_reply(
        &self,
        reply: &[u8],
        request: &Request,
        signing_chain: &[Certificate],
    ) -> Result<Token, TimestampError> {
        token::check(reply, request, &self.roots, signing_chain).map_err(|e| e.at(self.url()))
    }
}
