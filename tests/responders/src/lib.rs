//! Real revocation servers for the project's tests, all on 127.0.0.1.
//!
//! - [`pki::TestCa`]: CAs and certificates (rcgen) with OCSP (AIA), CRL distribution point and
//!   FreshestCRL URLs, delegated OCSP responders; the private keys sign CRLs and OCSP responses.
//! - [`sign::Key`]: keys of the six Notary key specs from `akv-test-pki` (fresh or process-wide
//!   cached), signing with the hash their size implies.
//! - [`crl::CrlBuilder`]: base and delta CRLs, hold / removeFromCRL entries, unknown critical
//!   extensions, missing nextUpdate.
//! - [`ocsp::OcspResponder`]: an RFC 6960 responder (GET and POST) answering from a status table,
//!   signed by the issuer, a delegated responder or a wrong key, with faults (stale, no
//!   nextUpdate, unsigned, garbage, tryLater, nonce dropped, canned bytes).
//! - [`http::Server`]: the HTTP/1.1 (optionally TLS) server under both, serving files for CRLs,
//!   with global faults (slow, HTTP status) and request counters; [`http::unreachable_url`].
//! - [`tsa::Tsa`]: an RFC 3161 timestamp authority (its own root, TSA certificate with critical
//!   EKU timeStamping) with faults (rejection, wrong nonce or imprint, no certificates, genTime
//!   shift, garbage).
//! - [`proxy::ForwardProxy`]: a counting forward proxy for plain http.
//!
//! The servers answer one request per connection (`Connection: close`), which keeps the counters
//! exact: one counted request is one request the client sent.

pub mod crl;
pub mod http;
pub mod ocsp;
pub mod pki;
pub mod proxy;
pub mod sign;
pub mod tls;
pub mod tsa;

/// Why a fixture could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("rcgen: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Other(String),
}
