//! `notation-akv certificate create|merge|rotate|show`: AKV signing certificates that notation
//! accepts, from the first version on.
//!
//! - [`create`]: a policy from the same generator as `notation-akv policy`, the create request,
//!   the pending operation followed within the deadline; a self-signed certificate's PEM and the
//!   `notation cert add` that trusts it, or an `Unknown` issuer's CSR and the next steps;
//! - [`merge`]: a CA-issued chain, checked against the Notary Project rules and against the
//!   pending key before the vault sees it;
//! - [`rotate`]: a new version with the current policy, linted first;
//! - [`show`]: every version, its state, validity, key spec and compliance, and which version a
//!   versionless id signs with now.
//!
//! Each command builds one [`VaultClient`] the way the signer does (same plugin config keys and
//! `NOTATION_AKV_*` variables, credential chain, one deadline), so its errors read the same.

pub mod create;
pub mod merge;
pub mod rotate;
pub mod show;

use crate::policy::Policy;
use crate::{Env, Output, UsageError, exit, parse_options, plugin_config};
use notation_akv_keyvault::certificates::OperationInfo;
use notation_akv_keyvault::settings::{ConfigReader, VaultSettings};
use notation_akv_keyvault::{Deadline, ObjectId, RequestLog, VaultClient, VaultError};
use notation_akv_x509::{Certificate, Violation, validate_code_signing_chain};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

/// `notation-akv certificate --help`.
pub const HELP: &str = "notation-akv certificate: Azure Key Vault signing certificates that notation accepts

  notation-akv certificate create --vault <url> --name <name> --subject \"CN=…,O=…,ST=…,C=…\"
        [--key-type RSA|EC] [--key-size 2048|3072|4096] [--curve P-256|P-384|P-521]
        [--validity-months N] [--issuer Self|Unknown|<issuer>] [--out <file>] [common options]
      creates the certificate with a Notary-compliant policy (the one `notation-akv policy` prints)
      and waits for the vault to issue it. Self (the default): prints the key id for
      `notation sign --id`, writes the certificate's PEM to --out (default <name>.pem) and prints
      the `notation cert add` command that trusts it. Unknown: writes the CSR (PEM) to --out
      (default <name>.csr) for your CA, then `certificate merge`.
  notation-akv certificate merge --vault <url> --name <name> --file <chain.pem> [common options]
      merges the chain your CA issued for the pending CSR (leaf first or in any order), after
      checking it against the Notary Project rules and that the leaf holds the pending key;
      refuses, naming the rule and the fix, what notation would reject. Prints the key id.
  notation-akv certificate rotate --vault <url> --name <name> [--out <file>] [--disable-old]
        [common options]
      creates a new version with the certificate's current policy, linted first. Prints the old
      and new key ids, when versionless ids move to the new version (the signer's cache_ttl) and
      what happens to old signatures; --disable-old then disables the old version.
  notation-akv certificate show --vault <url> --name <name> [--warn-days N] [common options]
      lists every version: enabled, validity and days left, key spec, Notary compliance (rule
      ids), and which version a versionless id signs with now; warns when that version expires
      within --warn-days (default 30).

Common options:
  --plugin-config key=value   the signer's settings (credential_type, client_id, tenant_id,
                              timeout, …; or their NOTATION_AKV_* variables), see `notation-akv --help`
  --json                      one JSON document on stdout for scripts, instead of text

Exit codes:
  0  done (show: the signing version is compliant and not expiring soon)
  1  the vault refused or failed (access denied, not found, timeout, …): the message says what to fix
  2  the command line cannot run (unknown option, a policy option notation would reject)
  3  refused: the chain or policy would give a certificate notation rejects (merge, rotate);
     show: the signing version is not compliant, disabled or expired
  4  show: the signing version expires within --warn-days

Permissions (access policy / RBAC): create, merge and rotate need certificates/create, show needs
certificates/list and certificates/get; rotate --disable-old needs certificates/update. The RBAC
role Key Vault Certificates Officer grants them all.
";

/// `notation-akv certificate …`.
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let Some(command) = args.first() else {
        return Ok(help());
    };
    let rest = &args[1..];
    if command == "--help" || command == "-h" || rest.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(help());
    }
    match command.as_str() {
        "create" => create::main(rest, env),
        "merge" => merge::main(rest, env),
        "rotate" => rotate::main(rest, env),
        "show" => show::main(rest, env),
        other => Err(UsageError(format!(
            "unknown certificate command {other:?}; expected create, merge, rotate or show"
        ))),
    }
}

fn help() -> Output {
    Output {
        stdout: HELP.to_string(),
        ..Default::default()
    }
}

/// The options every certificate command takes.
const COMMON_VALUED: &[&str] = &["--vault", "--name", "--plugin-config"];
const COMMON_FLAGS: &[&str] = &["--json"];

/// Parsed options: the common ones, and the command's own in order.
pub(crate) struct Args {
    pub vault: String,
    pub name: String,
    pub config: std::collections::BTreeMap<String, String>,
    pub json: bool,
    pub rest: Vec<(String, Option<String>)>,
}

impl Args {
    pub fn parse(args: &[String], valued: &[&str], flags: &[&str]) -> Result<Args, UsageError> {
        let all_valued: Vec<&str> = COMMON_VALUED.iter().chain(valued).copied().collect();
        let all_flags: Vec<&str> = COMMON_FLAGS.iter().chain(flags).copied().collect();
        let mut vault = None;
        let mut name = None;
        let mut pairs = Vec::new();
        let mut json = false;
        let mut rest = Vec::new();
        for (option, value) in parse_options(args, &all_valued, &all_flags)? {
            match (option.as_str(), value) {
                ("--vault", Some(v)) => vault = Some(v),
                ("--name", Some(v)) => name = Some(v),
                ("--plugin-config", Some(v)) => pairs.push(v),
                ("--json", None) => json = true,
                (o, v) => rest.push((o.to_string(), v)),
            }
        }
        let vault = vault.ok_or_else(|| {
            UsageError(
                "--vault <url> is required, e.g. --vault https://myvault.vault.azure.net".into(),
            )
        })?;
        let name = name.ok_or_else(|| {
            UsageError("--name <certificate name> is required (letters, digits and -)".into())
        })?;
        Ok(Args {
            vault,
            name,
            config: plugin_config(&pairs)?,
            json,
            rest,
        })
    }

    pub fn value(&self, option: &str) -> Option<&str> {
        self.rest
            .iter()
            .rev()
            .find(|(o, _)| o == option)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// One command's vault access, set up as the signer sets up its own.
pub(crate) struct Vault {
    pub id: ObjectId,
    pub settings: VaultSettings,
    pub client: VaultClient,
}

impl Vault {
    pub fn open(args: &Args, env: &Env) -> Result<Vault, UsageError> {
        let url = format!(
            "{}/certificates/{}",
            args.vault.trim_end_matches('/'),
            args.name
        );
        let id = ObjectId::parse(&url).map_err(|e| {
            UsageError(format!(
                "--vault {:?} --name {:?}: {e}",
                args.vault, args.name
            ))
        })?;
        let reader = ConfigReader::new(&args.config, env);
        reader
            .reject_unknown(&VaultSettings::key_names())
            .map_err(|e| UsageError(e.0))?;
        let settings = VaultSettings::read(&reader).map_err(|e| UsageError(e.0))?;
        let log = match &settings.log_file {
            Some(path) => RequestLog::open(path).map_err(|e| {
                UsageError(format!(
                    "log_file {}: cannot open it for appending: {e}",
                    path.display()
                ))
            })?,
            None => RequestLog::disabled(),
        };
        let client = VaultClient::new(
            id.endpoint(),
            id.cloud(),
            &settings,
            Deadline::new(settings.timeout),
            log,
            env,
        );
        Ok(Vault {
            id,
            settings,
            client,
        })
    }

    pub fn name(&self) -> &str {
        self.id.name()
    }

    /// `https://vault` (no trailing slash).
    pub fn url(&self) -> String {
        self.id
            .endpoint()
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// `https://vault/keys/<name>`: the versionless key id.
    pub fn versionless_key_id(&self) -> String {
        format!("{}keys/{}", self.id.endpoint().as_str(), self.id.name())
    }

    /// Follows the pending operation until it completes (or, with `until_csr`, until the CSR
    /// is there), within the command's deadline.
    pub async fn wait(
        &self,
        mut op: OperationInfo,
        until_csr: bool,
    ) -> Result<OperationInfo, Failure> {
        let mut pause = Duration::from_millis(200);
        loop {
            if op.completed() || (until_csr && op.csr.is_some()) {
                return Ok(op);
            }
            if !op.in_progress() {
                return Err(Failure::Refused(format!(
                    "the vault's certificate operation for {:?} ended {}{}",
                    self.name(),
                    op.status,
                    op.error
                        .as_deref()
                        .or(op.status_details.as_deref())
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )));
            }
            let left = self.client.deadline().remaining();
            if left <= pause {
                return Err(Failure::Refused(format!(
                    "the vault did not finish issuing {:?} within the {}s deadline (status {}); \
                     raise timeout=… with --plugin-config, or look again with `notation-akv certificate show`",
                    self.name(),
                    self.client.deadline().total().as_secs(),
                    op.status
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
            op = self.client.certificate_operation(self.name()).await?;
        }
    }
}

/// Why a certificate command stopped.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The vault answered an error (exit 1), in the signer's words.
    Vault(Box<VaultError>),
    /// The vault's operation went wrong (exit 1).
    Refused(String),
    /// Notation would reject the result (exit 3): one line per rule, with its fix.
    NotCompliant(Vec<String>),
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Failure {
        Failure::Vault(Box::new(e))
    }
}

/// Runs `work` on a single-threaded runtime (one command, one vault).
pub(crate) fn block_on<T>(work: impl Future<Output = T>) -> Result<T, UsageError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| UsageError(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(work))
}

/// The output of a finished command: `text` for people, `document` for `--json`.
pub(crate) fn finish(
    json: bool,
    outcome: Result<(String, Value, u8), Failure>,
    command: &str,
) -> Output {
    match outcome {
        Ok((text, document, code)) => Output {
            stdout: if json { pretty(&document) } else { text },
            stderr: String::new(),
            exit_code: code,
        },
        Err(failure) => {
            let (code, lines, error_code) = match failure {
                Failure::Vault(e) => {
                    let error = e.to_plugin_error();
                    (
                        exit::FAILED,
                        vec![error.error_message],
                        format!("{:?}", error.error_code),
                    )
                }
                Failure::Refused(m) => (exit::FAILED, vec![m], "ERROR".into()),
                Failure::NotCompliant(lines) => {
                    (exit::NOT_COMPLIANT, lines, "NOT_COMPLIANT".into())
                }
            };
            if json {
                Output {
                    stdout: pretty(&json!({
                        "ok": false,
                        "error": {"code": error_code, "messages": lines},
                    })),
                    stderr: String::new(),
                    exit_code: code,
                }
            } else {
                Output {
                    stdout: String::new(),
                    stderr: lines
                        .iter()
                        .map(|l| format!("notation-akv certificate {command}: {l}\n"))
                        .collect(),
                    exit_code: code,
                }
            }
        }
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A generated policy in the REST API's wire form (what `certificates/create` takes).
pub fn wire_policy(policy: &Policy) -> Value {
    let key = &policy.key_properties;
    let mut key_props = json!({
        "kty": key.key_type,
        "exportable": key.exportable,
        "reuse_key": key.reuse_key,
    });
    if let Some(size) = key.key_size {
        key_props["key_size"] = size.into();
    }
    if let Some(curve) = &key.curve {
        key_props["crv"] = curve.clone().into();
    }
    let x509 = &policy.x509_certificate_properties;
    json!({
        "key_props": key_props,
        "secret_props": {"contentType": policy.secret_properties.content_type},
        "x509_props": {
            "subject": x509.subject,
            "ekus": x509.ekus,
            "key_usage": x509.key_usage,
            "validity_months": x509.validity_in_months,
        },
        "lifetime_actions": policy.lifetime_actions.iter().map(|a| json!({
            "trigger": {"lifetime_percentage": a.trigger.lifetime_percentage},
            "action": {"action_type": a.action.action_type},
        })).collect::<Vec<_>>(),
        "issuer": {"name": policy.issuer_parameters.name},
    })
}

/// The version part of a vault id (`…/certificates/<name>/<version>`).
pub(crate) fn version_of(id: &str) -> String {
    notation_akv_keyvault::id::version_of(id).unwrap_or_default()
}

/// Notation's rules for one certificate version's leaf (the chain's CAs live in the secret):
/// violations notation enforces, as `[rule] found. Fix: …`.
pub(crate) fn leaf_violations(leaf: &Certificate, at: SystemTime) -> Vec<Violation> {
    validate_code_signing_chain(std::slice::from_ref(leaf), Some(at))
        .into_iter()
        .filter(|v| {
            // A CA-issued leaf alone is not a whole chain; those rules are merge's.
            leaf.is_self_issued() || !v.rule.id().starts_with("chain.")
        })
        .collect()
}

/// `2026-12-01T12:00:00Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "?".into())
}

/// PEM armour (64-column base64).
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes `text` to `path`, as a usage error if it cannot.
pub(crate) fn write_file(path: &str, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| Failure::Refused(format!("cannot write {path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Request, check, generate};

    #[test]
    fn the_wire_form_of_generated_policies_passes_the_linter() {
        for (curve, size, issuer) in [
            (Some("P-384"), None, "Self"),
            (None, Some(3072), "Unknown"),
            (None, None, "Self"),
        ] {
            let (policy, _) = generate(&Request {
                curve: curve.map(str::to_string),
                key_size: size,
                subject: Some("CN=a,O=b,ST=c,C=US".into()),
                issuer: Some(issuer.into()),
                ..Default::default()
            })
            .unwrap();
            let wire = wire_policy(&policy);
            assert_eq!(check(&wire.to_string()), Vec::new(), "{wire}");
            assert_eq!(wire["issuer"]["name"], issuer);
            assert_eq!(wire["x509_props"]["key_usage"], json!(["digitalSignature"]));
            assert_eq!(wire["x509_props"]["ekus"], json!(["1.3.6.1.5.5.7.3.3"]));
        }
    }

    #[test]
    fn the_wire_form_fits_the_sdk_model() {
        let (policy, _) = generate(&Request {
            subject: Some("CN=a,O=b,ST=c,C=US".into()),
            ..Default::default()
        })
        .unwrap();
        let wire = wire_policy(&policy);
        let model: azure_security_keyvault_certificates::models::CertificatePolicy =
            serde_json::from_value(wire.clone()).unwrap();
        // What the SDK sends is what the generator made.
        let sent = serde_json::to_value(&model).unwrap();
        assert_eq!(sent, wire);
    }
}
