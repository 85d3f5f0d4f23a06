//! OCSP/CRL revocation of the chain through the revocation crate's engine.
//!
//! This module only translates: settings into the engine's configuration, and the engine's chain
//! result into a reason a user can act on. The reason names each certificate, its source and
//! every failed attempt, then ends with `what to do:` and one piece of advice per kind of
//! trouble ([`remedies`], also what `doctor` prints), naming the setting (`ocsp_timeout`,
//! `crl_timeout`, `clock_skew`, `offline_bundle`, …) or the party (the CA, a proxy) that can fix
//! it. `docs/fault-matrix.md` lists the advice per fault, as the e2e test produces it. Everything about OCSP and CRLs lives in
//! `notation-akv-revocation`.

use std::time::SystemTime;

use notation_akv_revocation::{
    BundleConfig, CertStatus, ChainResult, Problem, ProxyConfig, RevocationChecker,
    RevocationConfig, Source, Verdict,
};
use notation_akv_x509::{Certificate, parse_bundle};

use crate::config::{Environment, Settings};
use crate::log::Log;

/// The engine configuration the settings ask for; proxies come from the standard variables.
pub fn engine_config(settings: &Settings, env: &Environment) -> Result<RevocationConfig, String> {
    let extra_tls_roots = match &settings.tls_ca_file {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("tls_ca_file {}: cannot be read: {e}", path.display()))?;
            parse_bundle(&bytes)
                .map_err(|e| format!("tls_ca_file {}: {e}", path.display()))?
                .certificates
                .iter()
                .map(|c| c.der().to_vec())
                .collect()
        }
        None => Vec::new(),
    };
    Ok(RevocationConfig {
        ocsp_timeout: settings.ocsp_timeout,
        crl_timeout: settings.crl_timeout,
        ocsp_nonce: settings.ocsp_nonce,
        cert_id_hash: settings.ocsp_certid_hash,
        cache_dir: settings.cache.then(|| settings.cache_dir.clone()).flatten(),
        bundle: settings.offline_bundle.clone().map(|dir| BundleConfig {
            dir,
            mode: settings.offline_mode,
        }),
        ocsp_max_age: settings.ocsp_max_age,
        max_clock_skew: settings.clock_skew,
        extra_tls_roots,
        proxy: ProxyConfig::from_lookup(|name| env.get(name).map(str::to_string)),
        ..RevocationConfig::default()
    })
}

/// Builds the engine; a cache that cannot be opened is dropped (the check still works without
/// it), anything else is a reason to fail.
fn checker(config: RevocationConfig, log: &Log) -> Result<RevocationChecker, String> {
    match RevocationChecker::new(config.clone()) {
        Ok(checker) => Ok(checker),
        Err(e) if config.cache_dir.is_some() => {
            log.line(format!(
                "revocation cache unusable, checking without it: {e}"
            ));
            RevocationChecker::new(RevocationConfig {
                cache_dir: None,
                ..config
            })
            .map_err(|e| format!("cannot set up revocation checking: {e}"))
        }
        Err(e) => Err(format!("cannot set up revocation checking: {e}")),
    }
}

/// Runs the engine on the chain. `Ok(summary)` when nothing is revoked and every status is known;
/// `Err(reason)` naming each revoked or unknown certificate otherwise.
pub fn check(
    chain: &[Certificate],
    signing_time: Option<SystemTime>,
    settings: &Settings,
    env: &Environment,
    now: SystemTime,
    log: &Log,
) -> Result<ChainResult, String> {
    let result = run(chain, signing_time, settings, env, now, log)?;
    match result.verdict {
        Verdict::Ok => Ok(result),
        Verdict::Revoked | Verdict::Unknown => Err(failure(&result)),
    }
}

/// The engine's whole answer for the chain, whatever the verdict; `Err` only when the chain
/// cannot be checked at all (setup, malformed chain). `signing_time` is the signature's
/// authentic signing time (signingAuthority scheme only), which turns on the invalidityDate rule
/// (`RevocationConfig::signing_time`).
pub fn run(
    chain: &[Certificate],
    signing_time: Option<SystemTime>,
    settings: &Settings,
    env: &Environment,
    now: SystemTime,
    log: &Log,
) -> Result<ChainResult, String> {
    let config = RevocationConfig {
        signing_time,
        ..engine_config(settings, env)?
    };
    let checker = checker(config, log)?;
    for (path, why) in checker.bundle_skipped() {
        log.line(format!(
            "offline bundle file {} ignored: {why}",
            path.display()
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the revocation runtime: {e}"))?;
    let der: Vec<&[u8]> = chain.iter().map(Certificate::der).collect();
    let result = runtime
        .block_on(checker.check(&der, now))
        .map_err(|e| format!("the chain cannot be checked for revocation: {e}"))?;
    for certificate in &result.certificates {
        log.line(format!("revocation: {certificate}"));
    }
    log.line(format!(
        "revocation: {} network request(s)",
        checker.network_requests()
    ));
    Ok(result)
}

/// The verdict followed by only the certificates that caused it, then what to do about each
/// kind of trouble met ([`remedies`]).
fn failure(result: &ChainResult) -> String {
    let verdict = match result.verdict {
        Verdict::Revoked => "revoked",
        _ => "revocation status is unknown",
    };
    let culprits: Vec<String> = result
        .certificates
        .iter()
        .filter(|c| !matches!(c.status, CertStatus::Good | CertStatus::NonRevokable))
        .map(ToString::to_string)
        .collect();
    format!(
        "{verdict}: {}; what to do: {}",
        culprits.join("; "),
        remedies(result).join("; ")
    )
}

/// What to do about each kind of trouble in `result` (a revoked certificate, each failed
/// attempt of an unknown status), once each, in chain order: the advice the verifier's reason
/// ends with and the doctor prints.
pub fn remedies(result: &ChainResult) -> Vec<String> {
    let mut remedies: Vec<String> = Vec::new();
    for certificate in &result.certificates {
        let found: Vec<String> = match &certificate.status {
            CertStatus::Revoked { .. } => vec![REVOKED.to_string()],
            CertStatus::Unknown { problems } => problems
                .iter()
                .map(|(source, problem)| remedy(source, problem))
                .collect(),
            CertStatus::Good | CertStatus::NonRevokable => Vec::new(),
        };
        for r in found {
            if !remedies.contains(&r) {
                remedies.push(r);
            }
        }
    }
    remedies
}

/// What to do about a revoked certificate in the chain.
const REVOKED: &str = "the CA revoked a certificate of the signing chain: do not trust artifacts signed with it, re-sign with a valid certificate";

/// The setting that bounds a fetch from `source`, and what to call the source in advice.
fn kind(source: &Source) -> (&'static str, &'static str) {
    match source {
        Source::Crl { .. } => ("crl_timeout", "CRL distribution point"),
        Source::Ocsp { .. } => ("ocsp_timeout", "OCSP responder"),
        Source::Cache { origin } => kind(origin),
        Source::Bundle { .. } => ("ocsp_timeout", "offline bundle file"),
    }
}

/// What a user can do about one failed attempt, naming the setting or party that can fix it.
fn remedy(source: &Source, problem: &Problem) -> String {
    let (timeout, what) = kind(source);
    let not_the_cas = format!(
        "the {what} answered for another certificate or with another CA's signature (a misconfigured server, a wrong URL in the certificate or an interception): tell the CA that runs it"
    );
    match problem {
        Problem::Timeout { .. } => format!(
            "the {what} is too slow: check the network path and proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) or raise {timeout}"
        ),
        Problem::Unreachable { .. } => format!(
            "the {what} cannot be reached: check DNS, firewall and proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) from this host, or use an offline bundle (offline_bundle)"
        ),
        Problem::HttpStatus { .. } | Problem::ResponderStatus(_) => format!(
            "the {what} failed: retry later; if it persists, tell the CA that runs it or use an offline bundle (offline_bundle)"
        ),
        Problem::Malformed { .. } | Problem::TooLarge { .. } => format!(
            "the {what} did not send a usable answer (a proxy or captive portal page?): check proxies and the URL in the certificate"
        ),
        Problem::CertIdMismatch
        | Problem::OcspSignature(_)
        | Problem::CrlSignature(_)
        | Problem::CrlIssuerMismatch
        | Problem::Responder(_) => not_the_cas,
        Problem::Stale { .. }
        | Problem::NotYetValid { .. }
        | Problem::TooOld { .. }
        | Problem::NoNextUpdate
        | Problem::CrlNoNextUpdate => format!(
            "the {what} serves out-of-date revocation data: check this host's clock (clock_skew), retry later, or tell the CA to publish a fresh one"
        ),
        Problem::OcspStatusUnknown => format!(
            "the {what} does not know this certificate: check that the chain is the CA's, or ask the CA to publish its status"
        ),
        Problem::NonceMismatch => {
            "the OCSP responder does not echo nonces: turn ocsp_nonce off".to_string()
        }
        Problem::SchemeNotAllowed { .. } | Problem::Offline => {
            "the configuration forbids this source: allow it, or add its answer to the offline bundle (offline_bundle)".to_string()
        }
        Problem::File { .. } => {
            "a file:// CRL cannot be read: check that its path is mounted and readable".to_string()
        }
        Problem::UnknownCriticalExtension { .. } | Problem::Delta(_) => format!(
            "the {what} uses a CRL feature the Notary Project rules refuse: tell the CA"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// One problem of every kind (the `match` in [`remedy`] makes a new kind need its remedy).
    fn every_problem() -> Vec<Problem> {
        let url = || "http://ca.example/x".to_string();
        let at = SystemTime::UNIX_EPOCH;
        vec![
            Problem::Timeout {
                url: url(),
                after: Duration::from_secs(2),
            },
            Problem::Unreachable {
                url: url(),
                detail: "refused".into(),
            },
            Problem::HttpStatus {
                url: url(),
                status: 500,
            },
            Problem::TooLarge {
                url: url(),
                limit: 1,
            },
            Problem::SchemeNotAllowed {
                url: url(),
                scheme: "https".into(),
            },
            Problem::Offline,
            Problem::File {
                path: "/x".into(),
                detail: "gone".into(),
            },
            Problem::Malformed {
                what: "CRL",
                detail: "tag".into(),
            },
            Problem::ResponderStatus("tryLater".into()),
            Problem::OcspSignature("bad".into()),
            Problem::CertIdMismatch,
            Problem::NonceMismatch,
            Problem::OcspStatusUnknown,
            Problem::Stale {
                what: "CRL",
                next_update: at,
            },
            Problem::NotYetValid {
                what: "CRL",
                this_update: at,
            },
            Problem::TooOld {
                max_age: Duration::from_secs(1),
            },
            Problem::NoNextUpdate,
            Problem::CrlNoNextUpdate,
            Problem::CrlSignature("bad".into()),
            Problem::CrlIssuerMismatch,
            Problem::UnknownCriticalExtension {
                oid: "1.2".into(),
                place: "CRL",
            },
            Problem::Delta("x".into()),
            Problem::Responder("x".into()),
        ]
    }

    /// Every remedy names only settings that exist, so a renamed key cannot leave advice that
    /// no longer works.
    #[test]
    fn remedies_name_only_existing_settings() {
        let sources = [
            Source::Ocsp {
                url: "http://ocsp.example".into(),
            },
            Source::Crl {
                url: "http://crl.example".into(),
                delta_url: None,
            },
        ];
        let mut named = std::collections::BTreeSet::new();
        for source in &sources {
            for problem in every_problem() {
                let text = remedy(source, &problem);
                for word in text.split(|c: char| !(c.is_ascii_lowercase() || c == '_')) {
                    if word.contains('_') && word.starts_with(|c: char| c.is_ascii_lowercase()) {
                        assert!(
                            crate::config::KEYS.iter().any(|k| k.name == word),
                            "{problem:?}: remedy names {word}, which is not a setting: {text}"
                        );
                        named.insert(word.to_string());
                    }
                }
            }
        }
        for key in [
            "ocsp_timeout",
            "crl_timeout",
            "offline_bundle",
            "clock_skew",
        ] {
            assert!(named.contains(key), "no remedy names {key}");
        }
    }
}
