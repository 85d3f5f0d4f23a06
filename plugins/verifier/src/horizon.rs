//! The expiry horizon: a chain certificate that expires within a configured window.
//!
//! notation itself checks only that the chain is valid now (or at the timestamp). A certificate
//! that lapses next week still verifies today, and every signature made with it then stops
//! verifying at once; the horizon turns that into an early, visible failure.
//!
//! It is reported under `SIGNATURE_VERIFIER.REVOCATION_CHECK`: the only other slot,
//! `TRUSTED_IDENTITY`, is an *authenticity* failure that notation enforces even under the
//! `permissive` level, while an approaching expiry says nothing about who signed. Under
//! REVOCATION_CHECK the trust policy treats it like certificate status: enforced under `strict`,
//! logged under `permissive`/`audit`, switched off with `override.revocation: skip`.

use notation_akv_x509::Certificate;
use std::time::{Duration, SystemTime};

/// One certificate that expires too soon (or already has).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiring {
    pub subject: String,
    pub serial: String,
    /// Time left before notAfter; zero when already expired.
    pub remaining: Duration,
}

impl Expiring {
    pub fn describe(&self, horizon: Duration) -> String {
        format!(
            "certificate {} (serial {}) expires in {}, inside the expiry horizon of {}",
            self.subject,
            self.serial,
            human(self.remaining),
            human(horizon)
        )
    }
}

/// Every chain certificate whose notAfter is within `horizon` of `now`, root included: an expiring
/// root stops verification as surely as an expiring leaf.
pub fn check(chain: &[Certificate], horizon: Duration, now: SystemTime) -> Vec<Expiring> {
    chain
        .iter()
        .filter_map(|cert| {
            let remaining = cert
                .not_after()
                .duration_since(now)
                .unwrap_or(Duration::ZERO);
            (remaining <= horizon).then(|| Expiring {
                subject: cert.subject(),
                serial: cert.serial_hex(),
                remaining,
            })
        })
        .collect()
}

/// Days and hours are what a person plans with; seconds only matter below a minute.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, _) => format!("{h}h"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(human(Duration::from_secs(86_400 + 7200)), "1d2h");
        assert_eq!(human(Duration::from_secs(7200 + 59)), "2h");
        assert_eq!(human(Duration::from_secs(59)), "59s");
        assert_eq!(human(Duration::ZERO), "0s");
    }
}
