//! `notation-akv doctor`: what a `notation sign --plugin akv --id …` would hit, step by step.
//!
//! Every step runs the signer's own code: [`ObjectId::parse`], [`SignerConfig::read`],
//! [`Session::open`] (credential chain, vault client, cache), [`Resolver::fetch`] (the same vault
//! reads as describe-key), [`sign_checked`] (vault signing plus the local check with the leaf) and
//! the x509 crate's Notary rules. Failures are reported with the message the signer would give
//! notation, so the fix shown here is the fix notation's user would see. Unlike the signer, the
//! doctor does not stop at the first problem within a step, and it reads the vault even when the
//! cache holds material, so the report describes the vault as it is now.
//!
//! Nothing secret is printed: no tokens, no secret values (the chain is public), and settings are
//! config values only.

use crate::config::{ChainSource, SignerConfig, valid_keys};
use crate::error::SignError;
use crate::material::{Material, Origin, Resolver};
use crate::session::{Env, Session, block_on};
use crate::sign::sign_checked;
use notation_akv_admin::report::Status;
use notation_akv_admin::{Output, UsageError, parse_options, plugin_config};
use notation_akv_keyvault::error::human_duration;
use notation_akv_keyvault::id::ObjectKind;
use notation_akv_keyvault::settings::{ConfigReader, CredentialType, env_name};
use notation_akv_keyvault::{Cloud, ObjectId, Operation, VaultError};
use notation_akv_x509::{Certificate, key_spec, validate_code_signing_chain};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One step of the diagnosis.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub number: u8,
    pub title: &'static str,
    pub status: Status,
    /// What was found, one fact per line.
    pub details: Vec<String>,
    /// What to change, one fix per line (empty when the step passed).
    pub fixes: Vec<String>,
}

/// The whole diagnosis.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub id: String,
    /// `true` when no step failed.
    pub ok: bool,
    pub steps: Vec<Step>,
}

const TITLES: [&str; 7] = [
    "key id",
    "settings",
    "credentials",
    "vault access and permissions",
    "certificate chain",
    "test signature",
    "cache",
];

/// The payload of the throwaway signature.
const TEST_MESSAGE: &[u8] = b"notation-akv doctor: throwaway test payload";

/// `notation-akv doctor …` (handed to the admin commands by the binary).
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let options = parse_options(args, &["--id", "--plugin-config"], &["--json"])?;
    let mut id = None;
    let mut pairs = Vec::new();
    let mut json = false;
    for (name, value) in options {
        match (name.as_str(), value) {
            ("--id", Some(v)) => id = Some(v),
            ("--plugin-config", Some(v)) => pairs.push(v),
            _ => json = true,
        }
    }
    let id = id.ok_or_else(|| {
        UsageError(
            "--id <key or certificate id> is required (the id given to notation sign)".into(),
        )
    })?;
    let report = diagnose(&id, &plugin_config(&pairs)?, env);
    let stdout = if json {
        let mut text = serde_json::to_string_pretty(&report)
            .map_err(|e| UsageError(format!("cannot write the report: {e}")))?;
        text.push('\n');
        text
    } else {
        human(&report)
    };
    Ok(Output {
        stdout,
        stderr: String::new(),
        exit_code: if report.ok { 0 } else { 1 },
    })
}

/// Runs every step it can; a step whose inputs an earlier failure withheld is skipped.
pub fn diagnose(key_id: &str, config: &BTreeMap<String, String>, env: &Env) -> Report {
    let mut steps = Steps::default();
    run(key_id, config, env, &mut steps);
    let steps: Vec<Step> = TITLES
        .iter()
        .enumerate()
        .map(|(i, title)| {
            steps.0.remove(&i).unwrap_or_else(|| Step {
                number: i as u8 + 1,
                title,
                status: Status::Skip,
                details: vec!["not checked: an earlier step failed".into()],
                fixes: Vec::new(),
            })
        })
        .collect();
    Report {
        id: key_id.to_string(),
        ok: steps.iter().all(|s| s.status != Status::Fail),
        steps,
    }
}

#[derive(Default)]
struct Steps(BTreeMap<usize, Step>);

impl Steps {
    fn put(&mut self, number: usize, status: Status, details: Vec<String>, fixes: Vec<String>) {
        self.0.insert(
            number - 1,
            Step {
                number: number as u8,
                title: TITLES[number - 1],
                status,
                details,
                fixes,
            },
        );
    }
}

fn run(key_id: &str, config: &BTreeMap<String, String>, env: &Env, steps: &mut Steps) {
    // 1. Key id.
    let id = match ObjectId::parse(key_id) {
        Ok(id) => id,
        Err(e) => {
            steps.put(
                1,
                Status::Fail,
                vec![format!("{key_id:?} is not a key id")],
                vec![e.to_string()],
            );
            return;
        }
    };
    steps.put(1, Status::Pass, describe_id(&id), Vec::new());

    // 2. Settings.
    let signer_config = match SignerConfig::read(config, env) {
        Ok(c) => c,
        Err(e) => {
            steps.put(2, Status::Fail, Vec::new(), vec![e.to_string()]);
            return;
        }
    };
    let session = match Session::open("doctor", key_id, config, env) {
        Ok(s) => s,
        Err(e) => {
            steps.put(
                2,
                Status::Fail,
                describe_settings(config, env, &signer_config),
                vec![e.to_string()],
            );
            return;
        }
    };
    let mut settings_status = Status::Pass;
    let mut settings_fixes = Vec::new();
    if id.is_managed_hsm() && !matches!(signer_config.chain, ChainSource::CaCerts(_)) {
        settings_status = Status::Fail;
        settings_fixes.push(
            "a Managed HSM holds keys only: give the certificate chain (leaf and CAs) with ca_certs=<bundle.pem>"
                .into(),
        );
    }
    steps.put(
        2,
        settings_status,
        describe_settings(config, env, &signer_config),
        settings_fixes,
    );

    let resolver = Resolver {
        id: &session.id,
        source: &session.config.chain,
        vault: &session.vault,
        cache: None,
        log: &session.log,
    };
    let bundle = match resolver.read_bundle() {
        Ok(b) => b,
        Err(e) => {
            steps.put(5, Status::Fail, Vec::new(), vec![e.to_string()]);
            return;
        }
    };
    let cache_key = resolver.cache_key(bundle.as_deref());
    // Read before anything below can drop the entry.
    let cached: Option<Material> = session.cache.as_ref().and_then(|c| c.get(&cache_key));

    // 3 and 4. Credentials, then the vault reads describe-key makes.
    let reads = reads_for(&id, &session.config.chain);
    let material = match block_on(resolver.fetch(bundle.as_deref())).and_then(|r| r) {
        Ok(material) => {
            credential_step(&session, None, steps);
            material
        }
        Err(SignError::Vault(e)) => {
            if credential_step(&session, Some(&e), steps) {
                let mut details = vec![format!(
                    "describe-key reads {}",
                    reads
                        .iter()
                        .map(|o| o.permission())
                        .collect::<Vec<_>>()
                        .join(" and ")
                )];
                if let Some(status) = e.status() {
                    details.push(format!("the vault answered HTTP {status}"));
                }
                steps.put(
                    4,
                    Status::Fail,
                    details,
                    vec![e.to_plugin_error().error_message],
                );
            }
            return;
        }
        Err(e) => {
            if session.vault.exchanges() == 0 {
                // Refused before asking the vault (a Managed HSM key without ca_certs, say).
                for n in [3, 4] {
                    steps.put(
                        n,
                        Status::Skip,
                        vec![
                            "not checked: the chain source cannot work, so the vault was not asked"
                                .into(),
                        ],
                        Vec::new(),
                    );
                }
            } else {
                // The vault answered; what it holds is unusable as a chain (or, for a /keys/
                // id, there is no certificate of that name).
                credential_step(&session, None, steps);
                let details = if let SignError::NoCertificate(_) = e {
                    reads
                        .iter()
                        .map(|o| {
                            format!(
                                "{} {}: not found (HTTP 404), so this is a key without a certificate",
                                o.permission(),
                                id.name()
                            )
                        })
                        .collect()
                } else {
                    reads
                        .iter()
                        .map(|o| format!("✓ {} ({})", o.permission(), o.rbac_role()))
                        .collect()
                };
                steps.put(4, Status::Pass, details, Vec::new());
            }
            steps.put(
                5,
                Status::Fail,
                vec![describe_source(&session.config.chain)],
                vec![e.to_string()],
            );
            return;
        }
    };
    // 4 (sign) and 6: one throwaway signature, signed and checked exactly as generate-signature does.
    let sign_result = block_on(sign_checked(
        &session,
        &material,
        Origin::Vault,
        &cache_key,
        TEST_MESSAGE,
    ))
    .and_then(|r| r)
    .map(drop);
    let mut access: Vec<String> = reads
        .iter()
        .map(|o| format!("✓ {} ({})", o.permission(), o.rbac_role()))
        .collect();
    let sign = Operation::Sign;
    match &sign_result {
        Err(SignError::Vault(e)) => {
            access.push(format!("✗ {} ({})", sign.permission(), sign.rbac_role()));
            steps.put(
                4,
                Status::Fail,
                access,
                vec![e.to_plugin_error().error_message],
            );
        }
        _ => {
            access.push(format!(
                "✓ {} ({}): signed a throwaway digest with key {}/{}",
                sign.permission(),
                sign.rbac_role(),
                material.key_name,
                material.key_version
            ));
            steps.put(4, Status::Pass, access, Vec::new());
        }
    }

    // 5. The chain.
    chain_step(&session, &material, steps);

    // 6. The local verification.
    match sign_result {
        Ok(()) => steps.put(
            6,
            Status::Pass,
            vec![format!(
                "the vault's {} signature verifies with the leaf certificate's public key: the leaf holds vault key {}/{}",
                material.key_spec.signing_algorithm(),
                material.key_name,
                material.key_version
            )],
            Vec::new(),
        ),
        Err(SignError::Vault(_)) => {}
        Err(e) => steps.put(
            6,
            Status::Fail,
            vec![format!(
                "the vault signed with key {}/{}, but the signature does not verify with the leaf certificate",
                material.key_name, material.key_version
            )],
            vec![e.to_string()],
        ),
    }

    // 7. Cache.
    cache_step(&session, cached.as_ref(), &material, steps);
}

fn describe_id(id: &ObjectId) -> Vec<String> {
    let kind = match id.kind() {
        ObjectKind::Certificate => "certificate",
        ObjectKind::Key => "key",
    };
    let version = match id.version() {
        Some(v) => format!("version {v} (pinned)"),
        None => "latest version (versionless: follows rotation)".to_string(),
    };
    let cloud = match id.cloud() {
        Cloud::Public => "Azure public cloud",
        Cloud::China => "Azure China",
        Cloud::UsGovernment => "Azure US Government",
        Cloud::Custom => "not an Azure Key Vault domain (custom endpoint)",
    };
    let mut lines = vec![
        format!("{kind} {:?}, {version}", id.name()),
        format!("vault {} ({cloud})", id.vault()),
        if id.is_managed_hsm() {
            "Managed HSM: keys only, the chain comes from ca_certs".to_string()
        } else {
            "Key Vault (not Managed HSM)".to_string()
        },
    ];
    if id.kind() == ObjectKind::Key && !id.is_managed_hsm() {
        lines.push(format!(
            "a /keys/ id signs with the vault certificate of the same name and version (as azure-kv does): \
             certificates/{0} or its secret secrets/{0}; a key without a certificate needs its certificate \
             and CAs in ca_certs",
            id.name()
        ));
    }
    lines
}

/// Each valid key with its effective value and where it came from.
fn describe_settings(
    config: &BTreeMap<String, String>,
    env: &Env,
    effective: &SignerConfig,
) -> Vec<String> {
    let reader = ConfigReader::new(config, env);
    let vault = &effective.vault;
    let mut lines: Vec<String> = valid_keys()
        .into_iter()
        .map(|key| {
            let raw = reader.raw(key);
            let value = match key {
                "self_signed" => (effective.chain == ChainSource::SelfSigned).to_string(),
                "timeout" => human_duration(vault.timeout),
                "cache" => vault.cache.enabled.to_string(),
                "cache_ttl" => human_duration(vault.cache.versionless_ttl),
                "cache_dir" => match &vault.cache.dir {
                    Some(d) => d.display().to_string(),
                    None => "none (no HOME): the cache is off".to_string(),
                },
                "credential_type" => raw
                    .as_ref()
                    .map_or("default".to_string(), |(v, _)| v.clone()),
                _ => raw.as_ref().map_or("unset".to_string(), |(v, _)| v.clone()),
            };
            let origin = match raw {
                Some((_, false)) => "plugin config".to_string(),
                Some((_, true)) => format!("environment {}", env_name(key)),
                None => "default".to_string(),
            };
            format!("{key} = {value} ({origin})")
        })
        .collect();
    lines.push(describe_source(&effective.chain));
    lines
}

fn describe_source(chain: &ChainSource) -> String {
    match chain {
        ChainSource::Secret => {
            "chain source: the certificate's secret (PEM or PKCS#12)".to_string()
        }
        ChainSource::CaCerts(path) => format!("chain source: ca_certs {}", path.display()),
        ChainSource::SelfSigned => {
            "chain source: the vault certificate alone (self_signed)".to_string()
        }
    }
}

/// The vault reads describe-key makes for this id and chain source.
fn reads_for(id: &ObjectId, chain: &ChainSource) -> Vec<Operation> {
    // A /keys/ id reads the certificate of the same name like a /certificates/ id; only Managed
    // HSM keys (and keys without a certificate, found by a 404) read the key itself.
    match chain {
        _ if id.is_managed_hsm() => vec![Operation::GetKey],
        ChainSource::Secret => vec![Operation::GetSecret],
        _ => vec![Operation::GetCertificate],
    }
}

/// Step 3 from the first vault exchange's outcome; `true` when a credential worked.
fn credential_step(session: &Session, error: Option<&VaultError>, steps: &mut Steps) -> bool {
    let tried = format!("credential_type = {}", credential_type_name(session));
    let attempts = session.vault.credential_attempts();
    match (error, session.vault.credential_used()) {
        (Some(e @ VaultError::Credential { .. }), _) => {
            let mut details = vec![tried, "no credential source produced a token:".into()];
            details.extend(attempts.iter().map(|a| format!("✗ {a}")));
            steps.put(
                3,
                Status::Fail,
                details,
                vec![e.to_plugin_error().error_message],
            );
            false
        }
        (_, Some(winner)) => {
            let mut details = vec![tried];
            details.extend(attempts.iter().map(|a| format!("✗ {a}")));
            details.push(format!(
                "✓ {winner}: token acquired (the first source in the chain that works)"
            ));
            steps.put(3, Status::Pass, details, Vec::new());
            true
        }
        (Some(e), None) => {
            // The vault never asked for a token: it did not answer at all.
            steps.put(
                3,
                Status::Skip,
                vec![
                    tried,
                    "not reached: no vault answer to authenticate against".into(),
                ],
                Vec::new(),
            );
            steps.put(
                4,
                Status::Fail,
                vec![format!("vault {} did not answer", session.id.vault())],
                vec![e.to_plugin_error().error_message],
            );
            false
        }
        (None, None) => {
            steps.put(3, Status::Pass, vec![tried], Vec::new());
            true
        }
    }
}

fn credential_type_name(session: &Session) -> &'static str {
    match session.config.vault.credential_type {
        CredentialType::Default => {
            "default (environment, workloadid, azurepipelines, managedid, azurecli)"
        }
        CredentialType::Environment => "environment",
        CredentialType::WorkloadIdentity => "workloadid",
        CredentialType::ManagedIdentity => "managedid",
        CredentialType::AzureCli => "azurecli",
        CredentialType::AzurePipelines => "azurepipelines",
    }
}

fn chain_step(session: &Session, material: &Material, steps: &mut Steps) {
    let mut details = vec![describe_source(&session.config.chain)];
    let certificates = match material.certificates() {
        Ok(c) => c,
        Err(e) => {
            steps.put(5, Status::Fail, details, vec![e.to_string()]);
            return;
        }
    };
    details.push(format!(
        "{} certificate(s), leaf first; the leaf's key spec is {}",
        certificates.len(),
        material.key_spec
    ));
    for (i, c) in certificates.iter().enumerate() {
        details.push(describe_certificate(i, certificates.len(), c));
    }
    let violations = validate_code_signing_chain(&certificates, Some(SystemTime::now()));
    let mut status = Status::Pass;
    let mut fixes = Vec::new();
    for v in &violations {
        let enforced = v.rule.enforced_by_notation();
        if enforced {
            status = Status::Fail;
        } else if status == Status::Pass {
            status = Status::Warn;
        }
        let what = match &v.certificate {
            Some(c) => format!("[{}] certificate {c}: {}", v.rule, v.found),
            None => format!("[{}] {}", v.rule, v.found),
        };
        details.push(if enforced {
            format!("✗ {what}")
        } else {
            format!("! {what} (the specification's rule; notation does not enforce it)")
        });
        fixes.push(format!("[{}] {}", v.rule, v.fix));
    }
    if violations.is_empty() {
        details.push("meets the Notary Project certificate requirements".into());
    }
    steps.put(5, status, details, fixes);
}

fn describe_certificate(index: usize, len: usize, c: &Certificate) -> String {
    let role = match index {
        0 => "leaf",
        i if i + 1 == len => "root",
        _ => "intermediate",
    };
    let spec = key_spec(c.public_key())
        .map_or_else(|e| format!("unsupported key ({e})"), |s| s.to_string());
    format!(
        "{role}: subject \"{}\", serial {}, valid {} to {}, key {spec}",
        c.subject(),
        c.serial_hex(),
        rfc3339(c.not_before()),
        rfc3339(c.not_after())
    )
}

fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

fn cache_step(session: &Session, cached: Option<&Material>, fresh: &Material, steps: &mut Steps) {
    let settings = &session.config.vault.cache;
    let Some(cache) = &session.cache else {
        let why = if settings.enabled {
            "no cache directory (set cache_dir or HOME)"
        } else {
            "cache=false"
        };
        steps.put(
            7,
            Status::Pass,
            vec![format!(
                "off ({why}): every notation sign reads the chain from the vault"
            )],
            Vec::new(),
        );
        return;
    };
    let dir = cache.dir().display().to_string();
    let ttl = if session.id.version().is_some() {
        "pinned version: entries do not expire".to_string()
    } else {
        format!(
            "versionless id: entries live {}",
            human_duration(settings.versionless_ttl)
        )
    };
    match cached {
        None => steps.put(
            7,
            Status::Pass,
            vec![format!("directory {dir}; {ttl}"), "no entry for this id: the next sign reads the vault".into()],
            Vec::new(),
        ),
        Some(c) if c.same_as(fresh) => steps.put(
            7,
            Status::Pass,
            vec![format!("directory {dir}; {ttl}"), "the entry for this id matches the vault".into()],
            Vec::new(),
        ),
        Some(c) => steps.put(
            7,
            Status::Warn,
            vec![
                format!("directory {dir}; {ttl}"),
                format!(
                    "the entry for this id differs from the vault (cached key version {}, vault {})",
                    c.key_version, fresh.key_version
                ),
            ],
            vec![format!(
                "the entry is refreshed when it expires; to use the vault's material now, delete the files in {dir}"
            )],
        ),
    }
}

/// The report as people read it.
pub fn human(report: &Report) -> String {
    let mut out = format!("notation-akv doctor {}\n", report.id);
    for step in &report.steps {
        out.push_str(&format!(
            "\n{} {}. {}\n",
            step.status.mark(),
            step.number,
            step.title
        ));
        for d in &step.details {
            out.push_str(&format!("    {d}\n"));
        }
        for f in &step.fixes {
            out.push_str(&format!("    Fix: {f}\n"));
        }
    }
    let failed: Vec<String> = report
        .steps
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{} ({})", s.number, s.title))
        .collect();
    if failed.is_empty() {
        out.push_str("\nAll checks passed: notation sign --plugin akv --id … should work.\n");
    } else {
        out.push_str(&format!("\nFailed: step {}.\n", failed.join(", step ")));
    }
    out
}
