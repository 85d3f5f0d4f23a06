//! `notation-akv certificate rotate`: a new version with the current policy, linted first.

use super::create::{Issued, issue, report};
use super::{Args, Failure, Vault, block_on, finish, rfc3339, version_of};
use crate::policy::{self, Request, Severity};
use crate::{Env, Output, UsageError};
use notation_akv_keyvault::error::human_duration;
use notation_akv_x509::Certificate;
use serde_json::json;

/// `notation-akv certificate rotate …`.
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let args = Args::parse(args, &["--out"], &["--disable-old"])?;
    let disable_old = args.rest.iter().any(|(o, _)| o == "--disable-old");
    let vault = Vault::open(&args, env)?;
    let out = args.value("--out").map(str::to_string);
    let outcome = block_on(async {
        let current = vault.client.get_certificate(vault.name(), None).await?;
        let mut wire = vault.client.certificate_policy(vault.name()).await?;
        let problems: Vec<String> = policy::check(&wire.to_string())
            .into_iter()
            .filter(|p| p.severity == Severity::Error)
            .map(|p| format!("policy {}: {}. Fix: {}", p.field, p.found, p.fix))
            .collect();
        if !problems.is_empty() {
            let mut lines = problems;
            lines.push(
                "no version was created: the current policy would issue a certificate notation rejects; \
                 update it (az keyvault certificate set-policy, or `notation-akv policy` for a compliant one) \
                 and rotate again"
                    .to_string(),
            );
            return Err(Failure::NotCompliant(lines));
        }
        // Read-only fields of the policy the vault returned are not part of a create request.
        if let Some(o) = wire.as_object_mut() {
            o.remove("id");
            o.remove("attributes");
        }
        let issued = issue(&vault, &wire, out.as_deref()).await?;
        let old_leaf = Certificate::from_der(&current.der).ok();
        let old_kid = current.kid.clone().unwrap_or_default();
        let request = Request {
            issuer: wire["issuer"]["name"].as_str().map(str::to_string),
            ..Default::default()
        };
        let previous = json!({
            "kid": old_kid,
            "notAfter": old_leaf.as_ref().map(|l| rfc3339(l.not_after())),
        });
        let (mut text, mut doc, code) = report(&vault, &issued, &request, Some(&previous));
        let old_version = current.id.as_deref().map(version_of).unwrap_or_default();
        let disabled = match &issued {
            Issued::Certificate { .. } if disable_old && !old_version.is_empty() => {
                vault
                    .client
                    .set_certificate_enabled(vault.name(), &old_version, false)
                    .await?;
                true
            }
            _ => false,
        };
        let ttl = human_duration(vault.settings.cache.versionless_ttl);
        let until = old_leaf
            .as_ref()
            .map_or("?".to_string(), |l| rfc3339(l.not_after()));
        let new = match &issued {
            Issued::Certificate { kid, .. } => kid.clone(),
            Issued::Csr { .. } => "(pending: merge the CA's chain first)".into(),
        };
        text = format!(
            "rotated certificate {:?}\n  old: --id {old_kid}\n  new: --id {new}\n\n{text}",
            vault.name()
        );
        text.push_str(&format!(
            "\nVersionless ids ({}) sign with the new version once the signer's cache entry expires: \
             within cache_ttl ({ttl}) of the last sign on each machine (delete the cache or set cache_ttl to move sooner).\n\
             Old signatures keep verifying while the old leaf is valid (until {until}) and trusted; \
             keep its trust store entry until then.\n",
            vault.versionless_key_id()
        ));
        text.push_str(&if disabled {
            format!("The old version {old_version} is disabled: its key signs no more (pinned ids naming it fail).\n")
        } else {
            "The old version stays enabled; --disable-old disables it (certificates/update) once nothing pins it.\n".to_string()
        });
        doc["rotated"] = json!({
            "oldKid": old_kid,
            "newKid": new,
            "versionlessKid": vault.versionless_key_id(),
            "cacheTtl": ttl,
            "oldLeafValidUntil": until,
            "oldDisabled": disabled,
        });
        Ok((text, doc, code))
    })?;
    Ok(finish(args.json, outcome, "rotate"))
}
