//! `doctor`: explains a verification of an artifact step by step, through the code
//! `verify-signature` runs.
//!
//! The doctor reads what notation would read — the trust policy statement for the artifact's
//! repository, its trust stores, each Notary signature attached to the artifact (with `oras`) —
//! and then runs, per signature, the checks notation and this plugin make: the envelope's
//! signature and payload ([`notation_akv_envelope`]), the chain and the trust store certificate
//! that anchors it, each trusted identity on its own and the whole list ([`crate::identity`]),
//! the revocation engine with the verifier's settings ([`crate::revocation::run`]: bundle, cache
//! and network, every source tried), the expiry horizon ([`crate::horizon`]) and the AKV status
//! ([`crate::akv_status`]).
//!
//! Each step is ✓ (passed), ! (failed, but the policy level only logs it, or worth attention),
//! ✗ (makes verification fail, with the fix) or - (not reached). As notation, the artifact
//! verifies when one signature passes every enforced check; the exit code is 1 otherwise.

use std::path::Path;
use std::time::SystemTime;

use notation_akv_envelope::Envelope;
use notation_akv_protocol::attributes::{AKV_KEY_ID, VERIFICATION_PLUGIN};
use notation_akv_revocation::{CertStatus, Verdict};
use notation_akv_x509::{Certificate, Sha1};
use serde::Serialize;

use super::chains::{self, Signature};
use super::trust::{self, Action, Statement, Store};
use super::{Options, Output, UsageError};
use crate::config::{Environment, Settings};
use crate::identity::{self, SignerKey};
use crate::log::Log;
use crate::{PLUGIN_NAME, horizon};

/// The outcome of one step (the marks every admin command prints).
pub use notation_akv_admin::report::Status;

/// One step of the explanation.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// A stable name: `trust policy`, `trust stores`, `signatures`, then per signature
    /// `envelope`, `chain`, `trusted identity`, `revocation`, `expiry horizon`, `AKV status`.
    pub title: String,
    /// 1-based signature number for per-signature steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<usize>,
    pub status: Status,
    pub details: Vec<String>,
    pub fixes: Vec<String>,
}

/// The whole explanation.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub artifact: String,
    /// `true` when notation would accept the artifact.
    pub ok: bool,
    pub steps: Vec<Step>,
}

impl Report {
    /// The step named `title` (of signature `signature`, when given).
    pub fn step(&self, title: &str, signature: Option<usize>) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.title == title && s.signature == signature)
    }
}

pub(super) fn main(args: &[String], env: &Environment) -> Result<Output, UsageError> {
    let options = Options::parse(
        args,
        &["--artifact", "--policy", "--plugin-config"],
        &["--json", "--plain-http"],
    )?;
    let reference = options.one("--artifact")?.ok_or_else(|| {
        UsageError("--artifact <reference> is required (what notation verify is given)".into())
    })?;
    let plugin_config = options.plugin_config()?;
    let report = diagnose(&Inputs {
        reference,
        policy: options.one("--policy")?.map(Path::new),
        plugin_config: &plugin_config,
        plain_http: options.flag("--plain-http"),
        env,
        now: SystemTime::now(),
    });
    let stdout = if options.flag("--json") {
        let mut text = serde_json::to_string_pretty(&report)
            .map_err(|e| UsageError(format!("cannot write the report: {e}")))?;
        text.push('\n');
        text
    } else {
        human(&report)
    };
    Ok(Output {
        stdout,
        exit_code: if report.ok { 0 } else { 1 },
        ..Output::default()
    })
}

fn step(title: &str, signature: Option<usize>) -> Step {
    Step {
        title: title.to_string(),
        signature,
        status: Status::Pass,
        details: Vec::new(),
        fixes: Vec::new(),
    }
}

impl Step {
    fn detail(&mut self, text: impl Into<String>) -> &mut Self {
        self.details.push(text.into());
        self
    }

    /// A failure the policy treats with `action`: ✗ when enforced, ! otherwise.
    fn failed(&mut self, action: Action, fix: impl Into<String>) -> &mut Self {
        let status = match action {
            Action::Enforce => Status::Fail,
            _ => Status::Warn,
        };
        if self.status != Status::Fail {
            self.status = status;
        }
        self.fixes.push(fix.into());
        self
    }
}

/// What the doctor is asked to explain.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The artifact reference, as given to `notation verify`.
    pub reference: &'a str,
    /// `--policy`; `None` reads notation's config folder.
    pub policy: Option<&'a Path>,
    pub plugin_config: &'a std::collections::BTreeMap<String, String>,
    pub plain_http: bool,
    pub env: &'a Environment,
    pub now: SystemTime,
}

/// Runs every step it can.
pub fn diagnose(inputs: &Inputs<'_>) -> Report {
    let mut steps = Vec::new();
    let ok = run(inputs, &mut steps);
    Report {
        artifact: inputs.reference.to_string(),
        ok,
        steps,
    }
}

fn run(inputs: &Inputs<'_>, steps: &mut Vec<Step>) -> bool {
    let Inputs {
        reference,
        policy,
        plugin_config,
        plain_http,
        env,
        now,
    } = *inputs;
    let repository = chains::repository_of(reference);

    // 1. The trust policy statement.
    let mut s = step("trust policy", None);
    let statement = match trust::policy_path(policy, env) {
        None => {
            s.failed(
                Action::Enforce,
                "set NOTATION_CONFIG or HOME, or pass --policy <trustpolicy.json>",
            );
            None
        }
        Some(path) => match trust::read_policy(&path) {
            Err(e) => {
                s.failed(
                    Action::Enforce,
                    format!("{e}; import one with `notation policy import <file>`"),
                );
                None
            }
            Ok(document) => {
                s.detail(format!("policy file {}", path.display()));
                match trust::statement_for(&document, repository) {
                    Some((statement, why)) => {
                        s.detail(format!(
                            "statement {:?} applies to {repository}: {why}",
                            statement.name
                        ));
                        let sv = &statement.signature_verification;
                        s.detail(format!(
                            "level {}: authenticity {}, revocation {}, expiry {}",
                            sv.level,
                            sv.action("authenticity").as_str(),
                            sv.action("revocation").as_str(),
                            sv.action("expiry").as_str()
                        ));
                        Some(statement.clone())
                    }
                    None => {
                        let scopes: Vec<String> = document
                            .trust_policies
                            .iter()
                            .map(|p| format!("{:?}: {}", p.name, p.registry_scopes.join(", ")))
                            .collect();
                        s.detail(format!(
                            "statements and their scopes: {}",
                            scopes.join("; ")
                        ));
                        s.failed(
                            Action::Enforce,
                            format!(
                                "{repository} is outside every registryScopes: add it to a statement's registryScopes (or add a statement with the \"*\" scope) and run `notation policy import`"
                            ),
                        );
                        None
                    }
                }
            }
        },
    };
    steps.push(s);
    let Some(statement) = statement else {
        return false;
    };
    if statement.signature_verification.level == "skip" {
        steps
            .last_mut()
            .map(|s| s.detail("level skip: notation verifies nothing for this scope"));
        return true;
    }

    // 2. Trust stores.
    let mut s = step("trust stores", None);
    let stores: Vec<Store> = statement
        .trust_stores
        .iter()
        .map(|r| trust::read_store(r, env))
        .collect();
    if stores.is_empty() {
        s.failed(
            Action::Enforce,
            "the statement names no trustStores: add \"ca:<name>\"",
        );
    }
    for store in &stores {
        match &store.certificates {
            Ok(certs) if !certs.is_empty() => {
                s.detail(format!("{} ({}):", store.reference, store.path.display()));
                for (file, cert) in certs {
                    s.detail(format!(
                        "  {file}: \"{}\" sha256 {} valid until {}",
                        cert.subject(),
                        cert.sha256_fingerprint(),
                        rfc3339(cert.not_after())
                    ));
                }
            }
            Ok(_) | Err(_) => {
                let why = store
                    .certificates
                    .as_ref()
                    .err()
                    .cloned()
                    .unwrap_or_else(|| format!("{} holds no certificate", store.path.display()));
                s.failed(
                    Action::Enforce,
                    format!(
                        "trust store {}: {why}; add the root with `notation cert add --type {} --store {} <root.pem>`",
                        store.reference,
                        store.kind,
                        store.reference.split_once(':').map(|(_, n)| n).unwrap_or("")
                    ),
                );
            }
        }
    }
    steps.push(s);

    // 3. The signatures.
    let mut s = step("signatures", None);
    let artifact = match chains::artifact(reference, plain_http) {
        Ok(a) => a,
        Err(e) => {
            s.failed(Action::Enforce, e.0);
            steps.push(s);
            return false;
        }
    };
    s.detail(format!(
        "{}@{}: {} signature(s)",
        artifact.repository,
        artifact.digest,
        artifact.signatures.len()
    ));
    if artifact.signatures.is_empty() {
        s.failed(
            Action::Enforce,
            "the artifact has no Notary signature: sign it with `notation sign`",
        );
    }
    steps.push(s);

    // 4. Settings, as verify-signature loads them.
    let settings = match crate::config::load(plugin_config, env) {
        Ok(settings) => settings,
        Err(e) => {
            let mut s = step("settings", None);
            s.failed(
                Action::Enforce,
                format!("invalid verifier configuration: {e}"),
            );
            steps.push(s);
            return false;
        }
    };

    let mut any_passes = false;
    for (i, signature) in artifact.signatures.iter().enumerate() {
        let before = steps.len();
        let context = Context {
            artifact_digest: &artifact.digest,
            statement: &statement,
            stores: &stores,
            settings: &settings,
            env,
            now,
        };
        signature_steps(i + 1, signature, &context, steps);
        if steps[before..].iter().all(|s| s.status != Status::Fail) {
            any_passes = true;
        }
    }
    any_passes
}

/// What every signature of the artifact is judged against.
struct Context<'a> {
    artifact_digest: &'a str,
    statement: &'a Statement,
    stores: &'a [Store],
    settings: &'a Settings,
    env: &'a Environment,
    now: SystemTime,
}

fn signature_steps(n: usize, signature: &Signature, context: &Context<'_>, steps: &mut Vec<Step>) {
    let Context {
        artifact_digest,
        statement,
        stores,
        settings,
        env,
        now,
    } = *context;
    let sv = &statement.signature_verification;
    let sig = Some(n);
    let mut s = step("envelope", sig);
    s.detail(format!("signature manifest {}", signature.digest));
    s.detail(format!("envelope type {}", signature.media_type));
    let envelope: &Envelope = match &signature.envelope {
        Ok(e) => e,
        Err(why) => {
            s.failed(Action::Enforce, format!("{why}: re-sign the artifact"));
            steps.push(s);
            return;
        }
    };
    s.detail(format!("signing scheme {}", envelope.signing_scheme));
    s.detail(format!(
        "signing time {}",
        rfc3339(envelope.signing_time.into())
    ));
    if let Some(expiry) = envelope.expiry {
        s.detail(format!("expiry {}", rfc3339(expiry.into())));
        if SystemTime::from(expiry) < now {
            s.failed(
                sv.action("expiry"),
                "the signature has expired: sign the artifact again",
            );
        }
    }
    s.detail(match &envelope.timestamp {
        Some(_) => "timestamp: RFC 3161 countersignature present".to_string(),
        None => "timestamp: none".to_string(),
    });
    let plugin = envelope
        .attribute(VERIFICATION_PLUGIN)
        .and_then(|a| a.value.as_str().map(str::to_string));
    let names_us = plugin.as_deref() == Some(PLUGIN_NAME);
    match &plugin {
        Some(p) if names_us => {
            s.detail(format!("names verification plugin {p}: notation runs it"));
        }
        Some(p) => {
            s.detail(format!("names verification plugin {p}, not {PLUGIN_NAME}"));
            s.status = Status::Warn;
            s.fixes.push(format!(
                "notation runs {p} for this signature; the steps below show what {PLUGIN_NAME} would say"
            ));
        }
        None => {
            s.detail(
                "names no verification plugin: notation checks identity and revocation itself",
            );
            s.status = Status::Warn;
            s.fixes.push(format!(
                "to have {PLUGIN_NAME} verify, sign in envelope mode (notation-akv verification_plugin={PLUGIN_NAME}); the steps below show what it would say"
            ));
        }
    }
    if let Err(e) = envelope.verify() {
        s.failed(
            Action::Enforce,
            format!("the envelope's signature does not verify with its leaf ({e}): the signature is corrupt; sign again"),
        );
    }
    match serde_json::from_slice::<serde_json::Value>(&envelope.payload) {
        Ok(payload) if payload["targetArtifact"]["digest"].as_str() == Some(artifact_digest) => {
            s.detail(format!("payload names {artifact_digest}"));
        }
        Ok(payload) => {
            s.failed(
                Action::Enforce,
                format!(
                    "the payload names {}, not the artifact {artifact_digest}",
                    payload["targetArtifact"]["digest"]
                ),
            );
        }
        Err(e) => {
            s.failed(Action::Enforce, format!("the payload is not JSON: {e}"));
        }
    }
    steps.push(s);

    // The chain and its anchor.
    let mut s = step("chain", sig);
    let chain: Vec<Certificate> = match envelope
        .certificate_chain
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(c) => c,
        Err(e) => {
            s.failed(
                Action::Enforce,
                format!("a chain certificate cannot be read: {e}"),
            );
            steps.push(s);
            return;
        }
    };
    for (i, cert) in chain.iter().enumerate() {
        s.detail(format!(
            "#{i} \"{}\" serial {} valid {} to {}",
            cert.subject(),
            cert.serial_hex(),
            rfc3339(cert.not_before()),
            rfc3339(cert.not_after())
        ));
        if !cert.is_valid_at(now) {
            s.failed(
                sv.action("expiry"),
                format!("certificate #{i} is outside its validity period: renew it and sign again"),
            );
        }
    }
    for i in 1..chain.len() {
        if let Err(e) = chain[i - 1].verify_signed_by(&chain[i], Sha1::Reject) {
            s.failed(
                Action::Enforce,
                format!("certificate #{} is not signed by #{i}: {e}", i - 1),
            );
        }
    }
    let store_kind = if envelope.signing_scheme == "notary.x509.signingAuthority" {
        "signingAuthority"
    } else {
        "ca"
    };
    let anchor = stores
        .iter()
        .filter(|st| st.kind == store_kind)
        .filter_map(|st| st.certificates.as_ref().ok().map(|c| (st, c)))
        .flat_map(|(st, certs)| certs.iter().map(move |(f, c)| (st, f, c)))
        .find(|(_, _, c)| chain.iter().any(|link| link.der() == c.der()));
    match anchor {
        Some((store, file, cert)) => {
            s.detail(format!(
                "anchored by {} {file} \"{}\"",
                store.reference,
                cert.subject()
            ));
        }
        None => {
            let root = chain.last().map(Certificate::subject).unwrap_or_default();
            s.failed(
                sv.action("authenticity"),
                format!(
                    "no certificate of the chain is in the {store_kind} trust stores {}: add the root \"{root}\" with `notation cert add --type {store_kind} --store <name> <root.pem>`",
                    statement.trust_stores.join(", ")
                ),
            );
        }
    }
    steps.push(s);

    // Trusted identity, each entry on its own, then the list as verify-signature judges it.
    let mut s = step("trusted identity", sig);
    let signer_key = SignerKey::from_attribute(envelope.attribute(AKV_KEY_ID).map(|a| &a.value));
    for entry in &statement.trusted_identities {
        match identity::evaluate(std::slice::from_ref(entry), &chain, &signer_key) {
            Ok(matched) => s.detail(format!("✓ {entry}: {matched}")),
            Err(why) => s.detail(format!("✗ {entry}: {why}")),
        };
    }
    if let Err(why) = identity::evaluate(&statement.trusted_identities, &chain, &signer_key) {
        let leaf = chain.first().map(Certificate::subject).unwrap_or_default();
        s.failed(
            sv.action("authenticity"),
            format!(
                "{why}; add the signer to trustedIdentities (leaf subject \"{leaf}\") and run `notation policy import`"
            ),
        );
    }
    steps.push(s);

    // Revocation through the engine, with the verifier's settings.
    let mut s = step("revocation", sig);
    let log = Log::new(settings.log_file.clone());
    match (&settings.offline_bundle, settings.offline_mode) {
        (Some(dir), mode) => s.detail(format!(
            "offline bundle {} (offline_mode={})",
            dir.display(),
            match mode {
                notation_akv_revocation::BundleMode::Only => "only",
                notation_akv_revocation::BundleMode::Prefer => "prefer",
            }
        )),
        (None, _) => s.detail("no offline bundle; cache and network"),
    };
    // As notation: the signing time counts (invalidityDate rule) for signingAuthority only.
    let signing_time = (envelope.signing_scheme == "notary.x509.signingAuthority")
        .then(|| SystemTime::from(envelope.signing_time));
    match crate::revocation::run(&chain, signing_time, settings, env, now, &log) {
        Err(e) => {
            s.failed(sv.action("revocation"), e);
        }
        Ok(result) => {
            for cert in &result.certificates {
                s.detail(cert.to_string());
            }
            let bundle_problem = result.certificates.iter().any(|c| {
                matches!(&c.status, CertStatus::Unknown { problems }
                    if problems.iter().any(|(src, _)| matches!(src, notation_akv_revocation::Source::Bundle { .. })))
            });
            if result.verdict == Verdict::Unknown && bundle_problem {
                s.failed(
                    sv.action("revocation"),
                    "the offline bundle has no usable answer: refresh it with `notation-akv-verifier bundle fetch` and `bundle check`",
                );
            }
            if result.verdict != Verdict::Ok {
                // The same advice as the reason verify-signature gives.
                for fix in crate::revocation::remedies(&result) {
                    s.failed(sv.action("revocation"), fix);
                }
            }
        }
    }
    let _ = log.flush();
    steps.push(s);

    // Expiry horizon.
    let mut s = step("expiry horizon", sig);
    match settings.expiry_horizon {
        None => {
            s.detail("off (expiry_horizon unset)");
        }
        Some(window) => {
            s.detail(format!("horizon {}", horizon::human(window)));
            for expiring in horizon::check(&chain, window, now) {
                let text = expiring.describe(window);
                match settings.expiry_horizon_mode {
                    crate::config::HorizonMode::Fail => {
                        s.detail(text);
                        s.failed(
                            sv.action("revocation"),
                            "renew the certificate and sign again, or lower expiry_horizon",
                        );
                    }
                    crate::config::HorizonMode::Warn => {
                        s.detail(format!("{text} (expiry_horizon_mode=warn: logged only)"));
                        if s.status == Status::Pass {
                            s.status = Status::Warn;
                        }
                    }
                }
            }
        }
    }
    steps.push(s);

    // AKV status.
    let mut s = step("AKV status", sig);
    if settings.akv_status {
        match crate::akv_status::check(&chain, &signer_key, settings, env, now) {
            Ok(summary) => {
                s.detail(summary);
            }
            Err(why) => {
                s.detail(why.clone());
                s.failed(
                    sv.action("revocation"),
                    "see the reason: enable the certificate version, or grant certificates/get",
                );
            }
        }
    } else {
        s.detail("off (akv_status unset)");
    }
    steps.push(s);
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The report as text, one mark per step.
pub fn human(report: &Report) -> String {
    let mut out = format!("notation-akv-verifier doctor: {}\n", report.artifact);
    for s in &report.steps {
        let title = match s.signature {
            Some(n) => format!("signature {n}: {}", s.title),
            None => s.title.clone(),
        };
        out.push_str(&format!("{} {title}\n", s.status.mark()));
        for d in &s.details {
            out.push_str(&format!("    {d}\n"));
        }
        for f in &s.fixes {
            out.push_str(&format!("    fix: {f}\n"));
        }
    }
    out.push_str(if report.ok {
        "verification would succeed\n"
    } else {
        "verification would FAIL\n"
    });
    out
}
