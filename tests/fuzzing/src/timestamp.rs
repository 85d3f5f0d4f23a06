//! A TSA's reply (`TimeStampResp`), checked as the signer checks it before embedding the token.

use crate::fixture;
use notation_akv_protocol::HashAlgorithm;
use notation_akv_timestamp::{Request, Timestamper, Url};

/// The nonce is random, so a reply from the seeds gets past the DER, status, imprint and
/// structure checks and stops at the nonce; the signature and chain checks past it are reached
/// by the TSA tests (`plugins/timestamp/tests`).
pub fn reply(data: &[u8]) {
    let tsa = Timestamper::new(
        Url::parse("http://127.0.0.1:9/tsa").unwrap(),
        fixture::tsa_root().to_vec(),
    );
    let request = Request::new(b"signature value", HashAlgorithm::Sha256).unwrap();
    if let Ok(token) = tsa.check_reply(data, &request, fixture::chain()) {
        let _ = token.der.len();
    }
}
