//! `notation-akv certificate merge`: a CA-issued chain for the pending CSR, checked first.

use super::{Args, Failure, Vault, block_on, finish, rfc3339, version_of};
use crate::{Env, Output, UsageError, exit};
use der::Decode;
use notation_akv_x509::{Certificate, build_chain, parse_bundle, validate_code_signing_chain};
use serde_json::json;
use std::time::SystemTime;

/// The rule id of a leaf that does not hold the pending key.
pub const RULE_WRONG_KEY: &str = "leaf.key.not-pending";

/// `notation-akv certificate merge …`.
pub fn main(args: &[String], env: &Env) -> Result<Output, UsageError> {
    let args = Args::parse(args, &["--file"], &[])?;
    let file = args.value("--file").ok_or_else(|| {
        UsageError(
            "--file <chain.pem> is required: the leaf your CA issued and its CA certificates"
                .into(),
        )
    })?;
    let bytes =
        std::fs::read(file).map_err(|e| UsageError(format!("cannot read --file {file}: {e}")))?;
    let bundle = parse_bundle(&bytes).map_err(|e| UsageError(format!("--file {file}: {e}")))?;
    if bundle.had_private_key {
        return Err(UsageError(format!(
            "--file {file} holds a private key: merge takes certificates only (the key never leaves the vault); remove the key block"
        )));
    }
    let vault = Vault::open(&args, env)?;
    let outcome = block_on(async {
        let op = vault.client.certificate_operation(vault.name()).await?;
        let csr = match (&op.csr, op.in_progress()) {
            (Some(csr), true) => csr.clone(),
            _ => {
                return Err(Failure::Refused(format!(
                    "certificate {:?} has no pending CSR to merge (operation status {}); start with \
                     `notation-akv certificate create --issuer Unknown`",
                    vault.name(),
                    op.status
                )));
            }
        };
        let chain = check(bundle.certificates, &csr)?;
        let der: Vec<Vec<u8>> = chain.iter().map(|c| c.der().to_vec()).collect();
        let info = vault.client.merge_certificate(vault.name(), &der).await?;
        let version = info.id.as_deref().map(version_of).unwrap_or_default();
        let kid = info.kid.clone().unwrap_or_default();
        let leaf = &chain[0];
        let vault_url = vault.url();
        let text = format!(
            "merged the chain into certificate {:?} version {version} in {vault_url}\n\
             leaf \"{}\" issued by \"{}\", valid to {}; {} certificate(s), meets the Notary Project requirements\n\
             key id for notation sign:\n  --id {kid}   (this version)\n  --id {}   (versionless: follows rotation)\n\
             Verifiers trust your CA's root: notation cert add --type ca --store <store> root.pem\n",
            vault.name(),
            leaf.subject(),
            leaf.issuer(),
            rfc3339(leaf.not_after()),
            chain.len(),
            vault.versionless_key_id(),
        );
        let doc = json!({
            "ok": true,
            "name": vault.name(),
            "vault": vault_url,
            "version": version,
            "kid": kid,
            "versionlessKid": vault.versionless_key_id(),
            "chain": chain.iter().map(|c| c.subject()).collect::<Vec<_>>(),
        });
        Ok((text, doc, exit::OK))
    })?;
    Ok(finish(args.json, outcome, "merge"))
}

/// Orders the chain and checks what notation checks, plus that the leaf holds the CSR's key.
fn check(certificates: Vec<Certificate>, csr: &[u8]) -> Result<Vec<Certificate>, Failure> {
    let chain = build_chain(certificates, None).map_err(|e| {
        Failure::NotCompliant(vec![format!(
            "[chain] {e}. Fix: give the leaf and every CA certificate up to the root, one chain"
        )])
    })?;
    let mut problems = Vec::new();
    let request = x509_cert::request::CertReq::from_der(csr)
        .map_err(|e| Failure::Refused(format!("the vault's CSR is unreadable: {e}")))?;
    let pending = request.info.public_key.subject_public_key.raw_bytes();
    let leaf_key = chain[0].public_key().subject_public_key.raw_bytes();
    if pending != leaf_key {
        problems.push(format!(
            "[{RULE_WRONG_KEY}] certificate \"{}\": its public key is not the pending key of the CSR, \
             so the vault could never sign for it. Fix: have the CA issue the certificate for this \
             certificate's CSR (notation-akv certificate create --issuer Unknown wrote it), not another request",
            chain[0].subject()
        ));
    }
    for v in validate_code_signing_chain(&chain, Some(SystemTime::now())) {
        if v.rule.enforced_by_notation() {
            problems.push(v.to_string());
        }
    }
    if problems.is_empty() {
        Ok(chain)
    } else {
        problems
            .push("nothing was merged: notation would reject signatures from this chain".into());
        Err(Failure::NotCompliant(problems))
    }
}
