//! notation's trust policy and trust stores, read as notation 1.x reads them, for the doctor.
//!
//! - the policy file: `--policy <file>`, else `trustpolicy.oci.json`, else `trustpolicy.json` in
//!   notation's config folder (`$NOTATION_CONFIG`, else `$XDG_CONFIG_HOME/notation`, else
//!   `~/.config/notation`);
//! - the statement for a repository: the one whose `registryScopes` names it exactly, else the
//!   one with the `*` scope (notation's rule);
//! - trust stores: `truststore/x509/<type>/<name>/` in the config folder, every PEM or DER file;
//!   `notary.x509` signatures use `ca` stores, `notary.x509.signingAuthority` ones
//!   `signingAuthority` stores.
//! - levels: which checks a level enforces and which it only logs, with `override`.

use std::path::{Path, PathBuf};

use notation_akv_x509::{Certificate, parse_bundle};
use serde::Deserialize;

use crate::config::Environment;

/// notation's config folder.
pub fn config_dir(env: &Environment) -> Option<PathBuf> {
    if let Some(dir) = env.get("NOTATION_CONFIG").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = env.get("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("notation"));
    }
    env.get("HOME")
        .map(|home| PathBuf::from(home).join(".config").join("notation"))
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrustPolicyDocument {
    pub version: String,
    #[serde(rename = "trustPolicies")]
    pub trust_policies: Vec<Statement>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    pub name: String,
    #[serde(rename = "registryScopes", default)]
    pub registry_scopes: Vec<String>,
    #[serde(rename = "signatureVerification")]
    pub signature_verification: SignatureVerification,
    #[serde(rename = "trustStores", default)]
    pub trust_stores: Vec<String>,
    #[serde(rename = "trustedIdentities", default)]
    pub trusted_identities: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SignatureVerification {
    pub level: String,
    #[serde(default, rename = "override")]
    pub overrides: std::collections::BTreeMap<String, String>,
}

/// What a level does with a failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enforce,
    Log,
    Skip,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforced",
            Action::Log => "logged only",
            Action::Skip => "skipped",
        }
    }
}

impl SignatureVerification {
    /// What the level (and its override) does with a failed `check` (`authenticity`,
    /// `revocation`, `expiry`, `integrity`), as notation's built-in levels define it.
    pub fn action(&self, check: &str) -> Action {
        if let Some(o) = self.overrides.get(check) {
            return match o.as_str() {
                "enforce" => Action::Enforce,
                "log" => Action::Log,
                _ => Action::Skip,
            };
        }
        match (self.level.as_str(), check) {
            ("skip", _) => Action::Skip,
            (_, "integrity") => Action::Enforce,
            ("strict", _) => Action::Enforce,
            ("permissive", "authenticity") => Action::Enforce,
            _ => Action::Log,
        }
    }
}

/// The policy file to read.
pub fn policy_path(explicit: Option<&Path>, env: &Environment) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    let dir = config_dir(env)?;
    ["trustpolicy.oci.json", "trustpolicy.json"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .or_else(|| Some(dir.join("trustpolicy.json")))
}

pub fn read_policy(path: &Path) -> Result<TrustPolicyDocument, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a notation trust policy: {e}", path.display()))
}

/// The statement for `repository` and why: an exact scope, else the `*` statement.
pub fn statement_for<'a>(
    document: &'a TrustPolicyDocument,
    repository: &str,
) -> Option<(&'a Statement, String)> {
    document
        .trust_policies
        .iter()
        .find(|s| s.registry_scopes.iter().any(|scope| scope == repository))
        .map(|s| (s, format!("its registryScopes name {repository} exactly")))
        .or_else(|| {
            document
                .trust_policies
                .iter()
                .find(|s| s.registry_scopes.iter().any(|scope| scope == "*"))
                .map(|s| {
                    (
                        s,
                        "no statement names the repository; this one has the \"*\" scope".into(),
                    )
                })
        })
}

/// One named trust store and its certificates.
#[derive(Debug, Clone)]
pub struct Store {
    /// As written in the policy: `ca:name`.
    pub reference: String,
    pub kind: String,
    pub path: PathBuf,
    pub certificates: Result<Vec<(String, Certificate)>, String>,
}

/// Reads the store `reference` (`type:name`).
pub fn read_store(reference: &str, env: &Environment) -> Store {
    let (kind, name) = reference.split_once(':').unwrap_or(("", reference));
    let path = config_dir(env)
        .unwrap_or_default()
        .join("truststore")
        .join("x509")
        .join(kind)
        .join(name);
    let certificates = (|| {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let bundle = parse_bundle(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.extend(bundle.certificates.into_iter().map(|c| (name.clone(), c)));
        }
        Ok(out)
    })();
    Store {
        reference: reference.to_string(),
        kind: kind.to_string(),
        path,
        certificates,
    }
}
