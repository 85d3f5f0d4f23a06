//! OCSP/CRL revocation of the chain through the revocation crate's engine.
//!
//! This module only translates: settings into the engine's configuration, and the engine's chain
//! result into a reason a user can act on. Everything about OCSP and CRLs lives in
//! `notation-akv-revocation`.

use std::time::SystemTime;

use notation_akv_revocation::{
    BundleConfig, CertStatus, ChainResult, ProxyConfig, RevocationChecker, RevocationConfig,
    Verdict,
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

/// The verdict followed by only the certificates that caused it.
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
    format!("{verdict}: {}", culprits.join("; "))
}
