//! `notation-akv certificate show`: every version as notation would see it.

use super::{Args, Failure, Vault, block_on, finish, leaf_violations, rfc3339, version_of};
use crate::report::Status;
use crate::{Env, Output, UsageError, exit};
use notation_akv_x509::{Certificate, key_spec};
use serde_json::{Value, json};
use std::time::SystemTime;

const DEFAULT_WARN_DAYS: i64 = 30;

/// `notation-akv certificate show …`.
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let args = Args::parse(args, &["--warn-days"], &[])?;
    let warn_days = match args.value("--warn-days") {
        None => DEFAULT_WARN_DAYS,
        Some(v) => v.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
            UsageError(format!("--warn-days {v:?} is not a whole number of days"))
        })?,
    };
    let vault = Vault::open(&args, env)?;
    let outcome = block_on(async {
        let mut versions = vault.client.certificate_versions(vault.name()).await?;
        let current = vault.client.get_certificate(vault.name(), None).await?;
        let current_version = current.id.as_deref().map(version_of).unwrap_or_default();
        versions.sort_by_key(|v| v.created.unwrap_or(0));
        let now = SystemTime::now();
        let mut rows = Vec::new();
        for v in &versions {
            let version = version_of(&v.id);
            let info = vault
                .client
                .get_certificate(vault.name(), Some(&version))
                .await?;
            rows.push(row(
                &version,
                &info,
                version == current_version,
                now,
                warn_days,
            ));
        }
        Ok::<_, Failure>(render(&vault, rows, &current_version, warn_days))
    })?;
    Ok(finish(args.json, outcome, "show"))
}

struct Row {
    status: Status,
    doc: Value,
    lines: Vec<String>,
    current: bool,
}

fn row(
    version: &str,
    info: &notation_akv_keyvault::CertificateInfo,
    current: bool,
    now: SystemTime,
    warn_days: i64,
) -> Row {
    let enabled = info.enabled.unwrap_or(true);
    let leaf = Certificate::from_der(&info.der);
    let mut lines = Vec::new();
    let (spec, violations, not_before, not_after, days_left, subject) = match &leaf {
        Ok(leaf) => {
            let left = leaf
                .not_after()
                .duration_since(now)
                .map(|d| (d.as_secs() / 86_400) as i64)
                .unwrap_or_else(|e| -((e.duration().as_secs() / 86_400) as i64) - 1);
            (
                key_spec(leaf.public_key())
                    .map_or_else(|e| format!("unsupported ({e})"), |s| s.to_string()),
                leaf_violations(leaf, now),
                rfc3339(leaf.not_before()),
                rfc3339(leaf.not_after()),
                left,
                leaf.subject(),
            )
        }
        Err(e) => (
            format!("unreadable certificate ({e})"),
            Vec::new(),
            "?".into(),
            "?".into(),
            0,
            "?".into(),
        ),
    };
    let expired = leaf.is_err() || days_left < 0;
    let compliant = leaf.is_ok() && violations.is_empty();
    let mut status = if !enabled || expired || !compliant {
        Status::Fail
    } else if days_left < warn_days {
        Status::Warn
    } else {
        Status::Pass
    };
    if !current && status == Status::Fail && !enabled {
        // A disabled old version is a state, not a problem.
        status = Status::Skip;
    }
    lines.push(format!(
        "{}, valid {not_before} to {not_after} ({}), key {spec}",
        if enabled { "enabled" } else { "disabled" },
        if days_left < 0 {
            "expired".to_string()
        } else {
            format!("{days_left} days left")
        }
    ));
    lines.push(format!("subject \"{subject}\""));
    if compliant {
        lines.push("meets the Notary Project certificate requirements".into());
    }
    for v in &violations {
        lines.push(format!("✗ {v}"));
    }
    if enabled && !expired && days_left < warn_days {
        lines.push(format!(
            "! expires within {warn_days} days: rotate it (notation-akv certificate rotate)"
        ));
    }
    let doc = json!({
        "version": version,
        "kid": info.kid,
        "enabled": enabled,
        "current": current,
        "notBefore": not_before,
        "notAfter": not_after,
        "daysLeft": days_left,
        "keySpec": spec,
        "subject": subject,
        "compliant": compliant,
        "violations": violations.iter().map(|v| json!({"rule": v.rule.id(), "found": v.found, "fix": v.fix})).collect::<Vec<_>>(),
        "status": status,
    });
    Row {
        status,
        doc,
        lines,
        current,
    }
}

fn render(
    vault: &Vault,
    rows: Vec<Row>,
    current_version: &str,
    warn_days: i64,
) -> (String, Value, u8) {
    let vault_url = vault.url();
    let mut text = format!(
        "certificate {:?} in {vault_url}: {} version(s), oldest first\n",
        vault.name(),
        rows.len()
    );
    for r in &rows {
        let version = r.doc["version"].as_str().unwrap_or_default();
        text.push_str(&format!(
            "\n{} {version}{}\n",
            r.status.mark(),
            if r.current {
                "  ← versionless ids sign with this version now"
            } else {
                ""
            }
        ));
        for l in &r.lines {
            text.push_str(&format!("    {l}\n"));
        }
    }
    let current = rows.iter().find(|r| r.current);
    let code = match current.map(|r| r.status) {
        Some(Status::Pass) => exit::OK,
        Some(Status::Warn) => exit::EXPIRES_SOON,
        _ => exit::NOT_COMPLIANT,
    };
    text.push_str(&format!(
        "\nversionless id {} signs with version {current_version}: {}\n",
        vault.versionless_key_id(),
        match code {
            exit::OK => "ready".to_string(),
            exit::EXPIRES_SOON => format!("expires within {warn_days} days; rotate soon"),
            _ => "notation sign would fail or be rejected; rotate (or enable a compliant version)"
                .to_string(),
        }
    ));
    let doc = json!({
        "ok": code == exit::OK,
        "name": vault.name(),
        "vault": vault_url,
        "versionlessKid": vault.versionless_key_id(),
        "currentVersion": current_version,
        "warnDays": warn_days,
        "versions": rows.iter().map(|r| r.doc.clone()).collect::<Vec<_>>(),
    });
    (text, doc, code)
}
