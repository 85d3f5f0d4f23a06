//! What the engine reports: per-certificate statuses, where each answer came from, why an answer
//! is unknown, and the chain verdict.

use std::fmt;
use std::time::{Duration, SystemTime};

/// The RFC 5280 CRLReason codes (OCSP reuses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    CertificateHold,
    RemoveFromCrl,
    PrivilegeWithdrawn,
    AaCompromise,
}

impl RevocationReason {
    /// Maps the wire code; unassigned codes (7, > 10) give `None`.
    pub fn from_code(code: u32) -> Option<Self> {
        Some(match code {
            0 => Self::Unspecified,
            1 => Self::KeyCompromise,
            2 => Self::CaCompromise,
            3 => Self::AffiliationChanged,
            4 => Self::Superseded,
            5 => Self::CessationOfOperation,
            6 => Self::CertificateHold,
            8 => Self::RemoveFromCrl,
            9 => Self::PrivilegeWithdrawn,
            10 => Self::AaCompromise,
            _ => return None,
        })
    }

    /// The ASN.1 name used by RFC 5280 (`keyCompromise`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an answer (or a failed attempt) came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An OCSP responder reached over the network.
    Ocsp { url: String },
    /// A CRL distribution point (http, https or file), with the delta CRL when one was used.
    Crl {
        url: String,
        delta_url: Option<String>,
    },
    /// The disk cache; `origin` is where the cached object was first fetched from.
    Cache { origin: Box<Source> },
    /// A file of the offline bundle.
    Bundle { path: std::path::PathBuf },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ocsp { url } => write!(f, "OCSP {url}"),
            Self::Crl {
                url,
                delta_url: None,
            } => write!(f, "CRL {url}"),
            Self::Crl {
                url,
                delta_url: Some(delta),
            } => write!(f, "CRL {url} + delta {delta}"),
            Self::Cache { origin } => write!(f, "cache of {origin}"),
            Self::Bundle { path } => write!(f, "offline bundle {}", path.display()),
        }
    }
}

/// Why a source could not give a definitive status. Each variant names what a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("timed out after {}s at {url}", secs(*after))]
    Timeout { url: String, after: Duration },
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("HTTP {status} from {url}")]
    HttpStatus { url: String, status: u16 },
    #[error("response from {url} exceeds {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{scheme}:// sources are not allowed by the configuration ({url})")]
    SchemeNotAllowed { url: String, scheme: String },
    #[error("network access is disabled (offline bundle only) and the bundle has no answer")]
    Offline,
    #[error("cannot read {path}: {detail}")]
    File { path: String, detail: String },
    #[error("malformed {what}: {detail}")]
    Malformed { what: &'static str, detail: String },
    #[error("OCSP responder answered {0}")]
    ResponderStatus(String),
    #[error("OCSP response signature invalid: {0}")]
    OcspSignature(String),
    #[error("OCSP response is not for this certificate")]
    CertIdMismatch,
    #[error("OCSP nonce missing or not echoed by the responder")]
    NonceMismatch,
    #[error("OCSP responder reports status unknown for this certificate")]
    OcspStatusUnknown,
    #[error("{what} is stale: nextUpdate {} is past", rfc3339(*next_update))]
    Stale {
        what: &'static str,
        next_update: SystemTime,
    },
    #[error("{what} is not yet valid: thisUpdate {}", rfc3339(*this_update))]
    NotYetValid {
        what: &'static str,
        this_update: SystemTime,
    },
    #[error("OCSP response without nextUpdate is older than the maximum age ({}s)", secs(*max_age))]
    TooOld { max_age: Duration },
    #[error("OCSP response has no nextUpdate and no maximum age is configured")]
    NoNextUpdate,
    #[error("CRL has no nextUpdate")]
    CrlNoNextUpdate,
    #[error("CRL signature invalid: {0}")]
    CrlSignature(String),
    #[error("CRL issuer does not match the certificate issuer")]
    CrlIssuerMismatch,
    #[error("unsupported critical extension {oid} in {place}")]
    UnknownCriticalExtension { oid: String, place: &'static str },
    #[error("delta CRL: {0}")]
    Delta(String),
    #[error("delegated OCSP responder rejected: {0}")]
    Responder(String),
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s:.1}")
    }
}

/// RFC 3339 UTC rendering of a time, for messages.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("{t}"))
}

/// The status of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    Revoked {
        /// `None` when the source gave no reason code.
        reason: Option<RevocationReason>,
        time: SystemTime,
    },
    /// No definitive answer; every failed attempt, in order.
    Unknown {
        problems: Vec<(Source, Problem)>,
    },
    /// The certificate names no OCSP responder or CRL (and no bundle entry matched), or it is the root.
    NonRevokable,
}

/// The answer for one non-root certificate of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertResult {
    /// Position in the chain (0 = leaf).
    pub index: usize,
    /// The subject as notation renders it (`CN=leaf,O=Contoso,C=US`).
    pub subject: String,
    /// Serial number in lower-case hex, without the zero byte DER adds to keep it positive.
    pub serial: String,
    pub status: CertStatus,
    /// The source of a definitive status (`Good`/`Revoked`).
    pub source: Option<Source>,
}

impl fmt::Display for CertResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate #{} \"{}\" (serial {}): ",
            self.index, self.subject, self.serial
        )?;
        match &self.status {
            CertStatus::Good => write!(f, "good")?,
            CertStatus::NonRevokable => write!(f, "no revocation source")?,
            CertStatus::Revoked { reason, time } => {
                write!(f, "revoked at {}", rfc3339(*time))?;
                if let Some(r) = reason {
                    write!(f, " ({r})")?;
                }
            }
            CertStatus::Unknown { problems } => {
                write!(f, "status unknown")?;
                for (i, (src, p)) in problems.iter().enumerate() {
                    write!(f, "{} {src}: {p}", if i == 0 { ":" } else { ";" })?;
                }
            }
        }
        if let Some(s) = &self.source {
            write!(f, " [{s}]")?;
        }
        Ok(())
    }
}

/// notation's chain verdict: revoked if any certificate is revoked; ok if all are good or
/// non-revokable; otherwise unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Revoked,
    Unknown,
}

/// The engine's answer for one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainResult {
    /// One entry per non-root certificate, leaf first.
    pub certificates: Vec<CertResult>,
    pub verdict: Verdict,
}

impl ChainResult {
    pub(crate) fn new(certificates: Vec<CertResult>) -> Self {
        let verdict = if certificates
            .iter()
            .any(|c| matches!(c.status, CertStatus::Revoked { .. }))
        {
            Verdict::Revoked
        } else if certificates
            .iter()
            .all(|c| matches!(c.status, CertStatus::Good | CertStatus::NonRevokable))
        {
            Verdict::Ok
        } else {
            Verdict::Unknown
        };
        Self {
            certificates,
            verdict,
        }
    }
}

impl fmt::Display for ChainResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.verdict {
            Verdict::Ok => "not revoked",
            Verdict::Revoked => "revoked",
            Verdict::Unknown => "revocation status is unknown",
        };
        write!(f, "{v}")?;
        for c in &self.certificates {
            write!(f, "; {c}")?;
        }
        Ok(())
    }
}
