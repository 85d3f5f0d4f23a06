//! `bundle fetch` and `bundle check`: the offline revocation bundle an air-gapped cluster reads
//! through `offline_bundle` (and `offline_mode=only`).
//!
//! **fetch** asks, for every non-root certificate of each chain, each OCSP responder *and* each
//! CRL distribution point (with its delta) through the revocation engine's own fetch and
//! verification code ([`RevocationChecker::collector`]), so only objects that verification
//! accepts are kept. It writes them with `manifest.json` ([`notation_akv_revocation::bundle`]),
//! then reads the folder back as the verifier will (`offline_mode=only`) and reports each chain's
//! answer. A chain with a certificate that no source answered for is an error (exit 1) and
//! nothing is written, so a failed refresh never replaces a working bundle.
//!
//! **check** reads the folder as the verifier does, reports every file the verifier would ignore
//! (corrupt, truncated, unlisted), and verifies each chain of the manifest now and at the end of
//! `--within`: a chain not covered now, or not covered any more then, is exit code 1, so a
//! CronJob or pipeline refreshes in time.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use notation_akv_revocation::bundle::manifest::{format_time, parse_time};
use notation_akv_revocation::{
    BundleConfig, BundleMode, CertStatus, ChainResult, Manifest, RevocationChecker, Source,
    Verdict, write_bundle,
};
use notation_akv_x509::Certificate;

use super::chains::{self, NamedChain};
use super::{Options, Output, UsageError, runtime, settings};
use crate::config::{Environment, Settings};
use crate::revocation::engine_config;

pub(super) fn main(args: &[String], env: &Environment) -> Result<Output, UsageError> {
    match args.first().map(String::as_str) {
        Some("fetch") => fetch(&args[1..], env, SystemTime::now()),
        Some("check") => check(&args[1..], env, SystemTime::now()),
        _ => Err(UsageError(
            "bundle needs a subcommand: `bundle fetch …` or `bundle check …`".into(),
        )),
    }
}

/// `bundle fetch` at time `now`.
pub fn fetch(args: &[String], env: &Environment, now: SystemTime) -> Result<Output, UsageError> {
    let options = Options::parse(
        args,
        &["--chain", "--artifact", "--out", "--plugin-config"],
        &["--plain-http"],
    )?;
    let out = PathBuf::from(options.one("--out")?.ok_or_else(|| {
        UsageError("--out <dir> is required (the folder offline_bundle will name)".into())
    })?);
    let mut named = Vec::new();
    for path in options.all("--chain") {
        named.extend(chains::from_path(path.as_ref())?);
    }
    for reference in options.all("--artifact") {
        named.extend(chains::from_artifact(
            reference,
            options.flag("--plain-http"),
        )?);
    }
    if named.is_empty() {
        return Err(UsageError(
            "give at least one --chain <PEM file or folder> or --artifact <reference>".into(),
        ));
    }
    let settings = settings(&options, env)?;
    let config = engine_config(&settings, env).map_err(UsageError)?;
    let collector = RevocationChecker::collector(config)
        .map_err(|e| UsageError(format!("cannot set up fetching: {e}")))?;
    let runtime = runtime()?;

    let mut text = String::new();
    let mut objects = Vec::new();
    let mut uncovered = Vec::new();
    for chain in &named {
        text.push_str(&format!("chain {}\n", chain.name));
        let collected = runtime
            .block_on(collector.collect(&chain.der(), now))
            .map_err(|e| UsageError(format!("chain {}: {e}", chain.name)))?;
        for cert in &collected.certificates {
            let label = format!(
                "#{} \"{}\" (serial {})",
                cert.index, cert.subject, cert.serial
            );
            if cert.sources.is_empty() {
                text.push_str(&format!("  - {label}: names no OCSP responder or CRL\n"));
                continue;
            }
            let mut any = false;
            for source in &cert.sources {
                match source {
                    Ok((status, source)) => {
                        any = true;
                        text.push_str(&format!(
                            "  ✓ {label}: {} from {source}\n",
                            status_word(status)
                        ));
                    }
                    Err(problems) => {
                        for (source, problem) in problems {
                            text.push_str(&format!("  ✗ {label}: {source}: {problem}\n"));
                        }
                    }
                }
            }
            if !any {
                uncovered.push(format!("{} {label}", chain.name));
            }
        }
        objects = collected.objects;
    }
    if !uncovered.is_empty() {
        text.push_str(&format!(
            "✗ not written: no source answered for {}; fix the network path (proxy, tls_ca_file, timeouts) and run again; {} is unchanged\n",
            uncovered.join(", "),
            out.display()
        ));
        return Ok(Output {
            stdout: text,
            exit_code: 1,
            ..Output::default()
        });
    }
    let chain_der: Vec<(String, Vec<Vec<u8>>)> =
        named.iter().map(|c| (c.name.clone(), c.der())).collect();
    let report = write_bundle(&out, &chain_der, &objects, now)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", out.display())))?;
    text.push_str(&format!(
        "wrote {}: {} file(s) new, {} unchanged, {} pruned\n",
        out.display(),
        report.written.len(),
        report.unchanged.len(),
        report.pruned.len()
    ));
    // Read it back exactly as verification will.
    let (coverage, exit_code) = verify_chains(&out, &named, &settings, env, now, None)?;
    text.push_str(&coverage);
    Ok(Output {
        stdout: text,
        exit_code,
        ..Output::default()
    })
}

/// `bundle check` at time `now`.
pub fn check(args: &[String], env: &Environment, now: SystemTime) -> Result<Output, UsageError> {
    let options = Options::parse(
        args,
        &["--dir", "--within", "--chain", "--plugin-config"],
        &[],
    )?;
    let dir = PathBuf::from(
        options
            .one("--dir")?
            .ok_or_else(|| UsageError("--dir <bundle folder> is required".into()))?,
    );
    let within = match options.one("--within")? {
        Some(text) => crate::config::value::duration(text)
            .map_err(|e| UsageError(format!("--within {text:?}: {e}")))?,
        None => Duration::ZERO,
    };
    let settings = settings(&options, env)?;
    let mut named = Vec::new();
    for path in options.all("--chain") {
        named.extend(chains::from_path(path.as_ref())?);
    }
    let mut text = String::new();
    let manifest = Manifest::read(&dir);
    match &manifest {
        Ok(m) => text.push_str(&format!(
            "bundle {} generated {} with {} file(s)\n",
            dir.display(),
            m.generated,
            m.files.len()
        )),
        Err(e) => text.push_str(&format!("✗ {}: {e}\n", dir.display())),
    }
    if named.is_empty() {
        let m = manifest.as_ref().map_err(|e| {
            UsageError(format!(
                "{}: {e}; give the chains with --chain or rewrite the bundle with `bundle fetch`",
                dir.display()
            ))
        })?;
        for chain in &m.chains {
            named.push(chain_of_manifest(chain)?);
        }
    }
    let (coverage, exit_code) = verify_chains(&dir, &named, &settings, env, now, Some(within))?;
    text.push_str(&coverage);
    Ok(Output {
        stdout: text,
        exit_code,
        ..Output::default()
    })
}

fn chain_of_manifest(
    chain: &notation_akv_revocation::ManifestChain,
) -> Result<NamedChain, UsageError> {
    use base64::Engine as _;
    let certificates = chain
        .certificates
        .iter()
        .map(|b64| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| e.to_string())?;
            Certificate::from_der(&der).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| UsageError(format!("manifest chain {}: {e}", chain.name)))?;
    Ok(NamedChain {
        name: chain.name.clone(),
        certificates,
    })
}

/// Reads `dir` as `offline_mode=only` verification does and reports, for each chain, whether it
/// is covered now and until when; with `within`, also whether it still is at `now + within`.
/// Exit code 1 when a file is unusable or a chain is (or will be) uncovered.
fn verify_chains(
    dir: &std::path::Path,
    named: &[NamedChain],
    settings: &Settings,
    env: &Environment,
    now: SystemTime,
    within: Option<Duration>,
) -> Result<(String, u8), UsageError> {
    let mut config = engine_config(settings, env).map_err(UsageError)?;
    config.cache_dir = None;
    config.bundle = Some(BundleConfig {
        dir: dir.to_path_buf(),
        mode: BundleMode::Only,
    });
    let checker = RevocationChecker::new(config)
        .map_err(|e| UsageError(format!("cannot read the bundle: {e}")))?;
    let manifest = Manifest::read(dir).ok();
    let runtime = runtime()?;
    let mut text = String::new();
    let mut exit_code = 0;
    for (path, why) in checker.bundle_skipped() {
        exit_code = 1;
        text.push_str(&format!(
            "✗ file {}: {why}; the verifier ignores it — run `bundle fetch` again\n",
            path.display()
        ));
    }
    for chain in named {
        let result = runtime
            .block_on(checker.check(&chain.der(), now))
            .map_err(|e| UsageError(format!("chain {}: {e}", chain.name)))?;
        let until = covered_until(&result, manifest.as_ref());
        let until_text = until.map(format_time).unwrap_or_else(|| "no expiry".into());
        match result.verdict {
            Verdict::Ok => text.push_str(&format!(
                "✓ chain {}: covered, not revoked, until {until_text}\n",
                chain.name
            )),
            Verdict::Revoked => text.push_str(&format!(
                "! chain {}: covered until {until_text}, and REVOKED: {result}\n",
                chain.name
            )),
            Verdict::Unknown => {
                exit_code = 1;
                text.push_str(&format!(
                    "✗ chain {}: not covered now: {result}; run `bundle fetch` for it\n",
                    chain.name
                ));
                continue;
            }
        }
        if let Some(window) = within {
            let later = runtime
                .block_on(checker.check(&chain.der(), now + window))
                .map_err(|e| UsageError(format!("chain {}: {e}", chain.name)))?;
            if later.verdict == Verdict::Unknown {
                exit_code = 1;
                text.push_str(&format!(
                    "✗ chain {}: coverage ends at {until_text}, within {}: refresh the bundle with `bundle fetch` before then\n",
                    chain.name,
                    crate::horizon::human(window)
                ));
            }
        }
    }
    Ok((text, exit_code))
}

/// The earliest expiry among the bundle files that answered for the chain.
fn covered_until(result: &ChainResult, manifest: Option<&Manifest>) -> Option<SystemTime> {
    let manifest = manifest?;
    result
        .certificates
        .iter()
        .filter_map(|c| match &c.source {
            Some(Source::Bundle { path }) => {
                let name = path.file_name()?.to_str()?;
                let file = manifest.file(name)?;
                file.expires_at()
                    .or_else(|| parse_time(file.next_update.as_deref()?))
            }
            _ => None,
        })
        .min()
}

fn status_word(status: &CertStatus) -> String {
    match status {
        CertStatus::Good => "good".into(),
        CertStatus::Revoked { reason, .. } => match reason {
            Some(r) => format!("REVOKED ({r})"),
            None => "REVOKED".into(),
        },
        CertStatus::NonRevokable => "no revocation source".into(),
        CertStatus::Unknown { .. } => "unknown".into(),
    }
}
