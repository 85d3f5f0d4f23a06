//! `SIGNATURE_VERIFIER.REVOCATION_CHECK`: everything about the *status* of the signing chain.
//!
//! Three findings feed the one result notation has room for:
//! 1. OCSP/CRL revocation of every non-root certificate, by the revocation crate's engine
//!    (cache, offline bundle, timeouts from the settings); a revoked certificate or an unknown
//!    status fails the check, and the reason names each certificate, its source and, when
//!    revoked, the reason code and time;
//! 2. the expiry horizon ([`crate::horizon`]), a failure in `fail` mode and a log line in `warn`
//!    mode;
//! 3. with `akv_status`, the signing certificate's version in Azure Key Vault
//!    ([`crate::akv_status`]); disabled, expired or deleted counts as revoked.
//!
//! The check passes only when every enabled finding is clean; the reason lists every problem, so
//! one run tells the user everything that is wrong.

use std::time::SystemTime;

use notation_akv_protocol::VerificationResult;
use notation_akv_x509::Certificate;

use crate::config::{Environment, HorizonMode, Settings};
use crate::horizon;
use crate::identity::SignerKey;
use crate::log::Log;

/// Runs every status check the settings enable.
pub fn evaluate(
    chain: &[Certificate],
    signing_time: Option<SystemTime>,
    signer_key: &SignerKey,
    settings: &Settings,
    env: &Environment,
    now: SystemTime,
    log: &Log,
) -> VerificationResult {
    let mut problems = Vec::new();

    if let Err(reason) = crate::revocation::check(chain, signing_time, settings, env, now, log) {
        problems.push(reason);
    }

    if let Some(window) = settings.expiry_horizon {
        for expiring in horizon::check(chain, window, now) {
            let text = expiring.describe(window);
            match settings.expiry_horizon_mode {
                HorizonMode::Fail => problems.push(text),
                HorizonMode::Warn => log.line(format!("warning: {text}")),
            }
        }
    }

    if settings.akv_status {
        match crate::akv_status::check(chain, signer_key, settings, env, now) {
            Ok(summary) => log.line(format!("AKV status: {summary}")),
            Err(reason) => problems.push(reason),
        }
    }

    if problems.is_empty() {
        VerificationResult::passed()
    } else {
        VerificationResult::failed(problems.join("; "))
    }
}
