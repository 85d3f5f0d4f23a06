//! Signature envelopes as read back (the signer reads what it built; the e2e tests read what
//! notation stored): JWS JSON and COSE_Sign1.

use notation_akv_envelope::{EnvelopeType, parse};

fn read(kind: EnvelopeType, data: &[u8]) {
    if let Ok(envelope) = parse(kind, data) {
        let _ = envelope.verify();
        let _ = envelope.attribute("io.cncf.notary.verificationPlugin");
    }
}

pub fn jws(data: &[u8]) {
    read(EnvelopeType::Jws, data);
}

pub fn cose(data: &[u8]) {
    read(EnvelopeType::Cose, data);
}
