//! `notation-akv certificate create`: a new certificate with a Notary-compliant policy.

use super::{
    Args, Failure, Vault, block_on, finish, leaf_violations, pem, rfc3339, version_of, wire_policy,
    write_file,
};
use crate::policy::{self, Request};
use crate::{Env, Output, UsageError, exit};
use notation_akv_x509::{Certificate, key_spec};
use serde_json::{Value, json};
use std::time::SystemTime;

/// `notation-akv certificate create …`.
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let valued: Vec<&str> = policy::GENERATOR_OPTIONS
        .iter()
        .copied()
        .chain(["--out"])
        .collect();
    let args = Args::parse(args, &valued, &["--force"])?;
    let mut policy_args: Vec<String> = Vec::new();
    for (option, value) in &args.rest {
        if option == "--out" {
            continue;
        }
        policy_args.push(option.clone());
        if let Some(v) = value {
            policy_args.push(v.clone());
        }
    }
    let request = policy::request(&policy_args)?;
    let (policy, warnings) = policy::generate(&request)?;
    let wire = wire_policy(&policy);
    let vault = Vault::open(&args, env)?;
    let out = args.value("--out").map(str::to_string);
    let outcome = block_on(async {
        let issued = issue(&vault, &wire, out.as_deref()).await?;
        Ok(report(&vault, &issued, &request, None))
    })?;
    let mut output = finish(args.json, outcome, "create");
    output.stderr = warnings
        .iter()
        .map(|w| format!("warning: {w}\n"))
        .collect::<String>()
        + &output.stderr;
    Ok(output)
}

/// What the vault made of a create request.
pub(crate) enum Issued {
    /// Issued (self-signed or by an integrated CA): the version, its key id and leaf, and the
    /// file the leaf's PEM went to.
    Certificate {
        version: String,
        kid: String,
        leaf: Box<Certificate>,
        pem_file: String,
    },
    /// Awaiting a CA (`Unknown` issuer): the CSR's file.
    Csr { csr_file: String },
}

/// Creates a version from `wire` and follows it until it is issued or its CSR is ready.
pub(crate) async fn issue(
    vault: &Vault,
    wire: &Value,
    out: Option<&str>,
) -> Result<Issued, Failure> {
    let unknown = wire["issuer"]["name"]
        .as_str()
        .is_some_and(|i| i.eq_ignore_ascii_case("Unknown"));
    let op = vault.client.create_certificate(vault.name(), wire).await?;
    let op = vault.wait(op, unknown).await?;
    if !op.completed() {
        let csr = op.csr.clone().unwrap_or_default();
        let csr_file = out
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}.csr", vault.name()));
        write_file(&csr_file, &pem("CERTIFICATE REQUEST", &csr))?;
        return Ok(Issued::Csr { csr_file });
    }
    let version = op.target.as_deref().map(version_of).unwrap_or_default();
    let info = vault
        .client
        .get_certificate(
            vault.name(),
            Some(&version).filter(|v| !v.is_empty()).map(|v| v.as_str()),
        )
        .await?;
    let leaf = Certificate::from_der(&info.der)
        .map_err(|e| Failure::Refused(format!("the vault's certificate is unreadable: {e}")))?;
    let version = info.id.as_deref().map(version_of).unwrap_or(version);
    let pem_file = out
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.pem", vault.name()));
    write_file(&pem_file, &pem("CERTIFICATE", leaf.der()))?;
    Ok(Issued::Certificate {
        version,
        kid: info.kid.unwrap_or_default(),
        leaf: Box::new(leaf),
        pem_file,
    })
}

/// The text and JSON of a created (or rotated, with `previous`) certificate.
pub(crate) fn report(
    vault: &Vault,
    issued: &Issued,
    request: &Request,
    previous: Option<&Value>,
) -> (String, Value, u8) {
    let name = vault.name();
    let vault_url = vault.url();
    match issued {
        Issued::Csr { csr_file } => {
            let text = format!(
                "created certificate {name:?} in {vault_url}: pending, awaiting your CA\n\
                 CSR written to {csr_file}\n\n\
                 Next steps:\n\
                 1. Have your CA issue a code-signing certificate for the CSR: keyUsage digitalSignature \
                 (critical), extendedKeyUsage codeSigning (1.3.6.1.5.5.7.3.3) only, not a CA; e.g.\n   \
                 openssl x509 -req -in {csr_file} -CA ca.pem -CAkey ca.key -days 365 -copy_extensions copy -out leaf.pem\n\
                 2. Put the leaf and its CA certificates (leaf first) in one file: cat leaf.pem ca.pem > chain.pem\n\
                 3. notation-akv certificate merge --vault {vault_url} --name {name} --file chain.pem\n",
            );
            let doc = json!({
                "ok": true,
                "name": name,
                "vault": vault_url,
                "status": "pending",
                "csrFile": csr_file,
                "next": format!("notation-akv certificate merge --vault {vault_url} --name {name} --file chain.pem"),
                "previous": previous,
            });
            (text, doc, exit::OK)
        }
        Issued::Certificate {
            version,
            kid,
            leaf,
            pem_file,
        } => {
            let spec =
                key_spec(leaf.public_key()).map_or_else(|e| e.to_string(), |s| s.to_string());
            let violations = leaf_violations(leaf, SystemTime::now());
            let self_signed = leaf.is_self_issued();
            let mut text = format!(
                "created certificate {name:?} version {version} in {vault_url}\n\
                 subject \"{}\", key {spec}, valid {} to {}\n\
                 key id for notation sign:\n  \
                 --id {kid}   (this version)\n  \
                 --id {}   (versionless: follows rotation)\n\
                 certificate written to {pem_file}\n",
                leaf.subject(),
                rfc3339(leaf.not_before()),
                rfc3339(leaf.not_after()),
                vault.versionless_key_id(),
            );
            if self_signed {
                text.push_str(&format!(
                    "\nTrust it where signatures are verified (self-signed: the certificate is its own root):\n  \
                     notation cert add --type ca --store {name} {pem_file}\n\
                     and name it in the trust policy: \"trustStores\": [\"ca:{name}\"], \
                     \"trustedIdentities\": [\"x509.subject: {}\"]\n",
                    leaf.subject()
                ));
            }
            if violations.is_empty() {
                text.push_str("meets the Notary Project certificate requirements\n");
            } else {
                for v in &violations {
                    text.push_str(&format!("✗ {v}\n"));
                }
            }
            let doc = json!({
                "ok": violations.is_empty(),
                "name": name,
                "vault": vault_url,
                "status": "issued",
                "version": version,
                "kid": kid,
                "versionlessKid": vault.versionless_key_id(),
                "subject": leaf.subject(),
                "keySpec": spec,
                "notBefore": rfc3339(leaf.not_before()),
                "notAfter": rfc3339(leaf.not_after()),
                "certificateFile": pem_file,
                "trust": self_signed.then(|| format!("notation cert add --type ca --store {name} {pem_file}")),
                "violations": violations.iter().map(|v| json!({"rule": v.rule.id(), "found": v.found, "fix": v.fix})).collect::<Vec<_>>(),
                "issuer": request.issuer.clone().unwrap_or_else(|| "Self".into()),
                "previous": previous,
            });
            let code = if violations.is_empty() {
                exit::OK
            } else {
                exit::NOT_COMPLIANT
            };
            (text, doc, code)
        }
    }
}
