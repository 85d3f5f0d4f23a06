//! Certificate chains for the operator commands: from PEM (or DER) files, from a folder of them,
//! or from the Notary signatures attached to an artifact in a registry.
//!
//! Signatures are read with the `oras` CLI found on `PATH` (`oras discover`, `oras manifest
//! fetch`, `oras blob fetch`), which uses the same registry credentials as notation's users
//! already set up (`oras login` / docker config). Only the public chain in each envelope is
//! taken; nothing here decides trust. `--plain-http` is passed through for registries without
//! TLS.

use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use notation_akv_envelope::{Envelope, EnvelopeType};
use notation_akv_x509::{Certificate, build_chain, parse_bundle};
use serde_json::Value;

use super::UsageError;

/// The artifact type of Notary Project signatures.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";

/// A named chain, leaf first.
#[derive(Debug, Clone)]
pub struct NamedChain {
    pub name: String,
    pub certificates: Vec<Certificate>,
}

impl NamedChain {
    pub fn der(&self) -> Vec<Vec<u8>> {
        self.certificates.iter().map(|c| c.der().to_vec()).collect()
    }
}

/// Chains from `path`: one per file, or one per `*.pem`/`*.crt`/`*.cer` file of a folder.
pub fn from_path(path: &Path) -> Result<Vec<NamedChain>, UsageError> {
    if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| UsageError(format!("--chain {}: {e}", path.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "pem" | "crt" | "cer"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(UsageError(format!(
                "--chain {}: the folder has no *.pem, *.crt or *.cer file",
                path.display()
            )));
        }
        files.iter().map(|f| from_file(f)).collect()
    } else {
        Ok(vec![from_file(path)?])
    }
}

fn from_file(path: &Path) -> Result<NamedChain, UsageError> {
    let bytes =
        std::fs::read(path).map_err(|e| UsageError(format!("--chain {}: {e}", path.display())))?;
    let bundle =
        parse_bundle(&bytes).map_err(|e| UsageError(format!("--chain {}: {e}", path.display())))?;
    let certificates = build_chain(bundle.certificates, None).map_err(|e| {
        UsageError(format!(
            "--chain {}: not one chain from leaf to root: {e}",
            path.display()
        ))
    })?;
    Ok(NamedChain {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string()),
        certificates,
    })
}

/// One signature attached to an artifact.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The signature manifest's digest.
    pub digest: String,
    /// The envelope's media type (`application/jose+json`, `application/cose`).
    pub media_type: String,
    pub envelope: Result<Envelope, String>,
}

/// The artifact and its signatures, as read from the registry.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// `registry/repository` (what trust policy scopes name).
    pub repository: String,
    /// `sha256:…` of the artifact's manifest.
    pub digest: String,
    pub signatures: Vec<Signature>,
}

/// Splits a reference into `registry/repository` and tag or digest.
pub fn repository_of(reference: &str) -> &str {
    if let Some((repo, _)) = reference.split_once('@') {
        return repo;
    }
    match reference.rfind(':') {
        Some(colon) if !reference[colon..].contains('/') => &reference[..colon],
        _ => reference,
    }
}

/// Reads `reference`'s Notary signatures with oras.
pub fn artifact(reference: &str, plain_http: bool) -> Result<Artifact, UsageError> {
    let repository = repository_of(reference).to_string();
    let descriptor = oras_json(
        &["manifest", "fetch", "--descriptor", reference],
        plain_http,
    )?;
    let digest = descriptor["digest"]
        .as_str()
        .ok_or_else(|| UsageError(format!("oras gave no digest for {reference}")))?
        .to_string();
    let by_digest = format!("{repository}@{digest}");
    let referrers = oras_json(
        &[
            "discover",
            "--format",
            "json",
            "--artifact-type",
            SIGNATURE_ARTIFACT_TYPE,
            &by_digest,
        ],
        plain_http,
    )?;
    let list = referrers["referrers"]
        .as_array()
        .or_else(|| referrers["manifests"].as_array())
        .cloned()
        .unwrap_or_default();
    let mut signatures = Vec::new();
    for referrer in list {
        if referrer["artifactType"].as_str() != Some(SIGNATURE_ARTIFACT_TYPE) {
            continue;
        }
        let Some(sig_digest) = referrer["digest"].as_str() else {
            continue;
        };
        let manifest = oras_json(
            &["manifest", "fetch", &format!("{repository}@{sig_digest}")],
            plain_http,
        )?;
        let layer = &manifest["layers"][0];
        let media_type = layer["mediaType"].as_str().unwrap_or_default().to_string();
        let envelope = match (
            layer["digest"].as_str(),
            EnvelopeType::from_media_type(&media_type),
        ) {
            (Some(blob), Some(kind)) => oras(
                &[
                    "blob",
                    "fetch",
                    "--output",
                    "-",
                    &format!("{repository}@{blob}"),
                ],
                plain_http,
            )
            .and_then(|bytes| {
                notation_akv_envelope::parse(kind, &bytes)
                    .map_err(|e| UsageError(format!("the envelope cannot be read: {e}")))
            })
            .map_err(|e| e.0),
            (None, _) => Err("the signature manifest has no layer".to_string()),
            (_, None) => Err(format!(
                "envelope media type {media_type:?} is not JWS or COSE"
            )),
        };
        signatures.push(Signature {
            digest: sig_digest.to_string(),
            media_type,
            envelope,
        });
    }
    Ok(Artifact {
        repository,
        digest,
        signatures,
    })
}

/// The chains of every readable signature of `reference`.
pub fn from_artifact(reference: &str, plain_http: bool) -> Result<Vec<NamedChain>, UsageError> {
    let artifact = artifact(reference, plain_http)?;
    let mut chains = Vec::new();
    for signature in &artifact.signatures {
        let Ok(envelope) = &signature.envelope else {
            continue;
        };
        let certificates = envelope
            .certificate_chain
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| UsageError(format!("signature {}: {e}", signature.digest)))?;
        chains.push(NamedChain {
            name: format!(
                "{}@{} (signature {})",
                artifact.repository, artifact.digest, signature.digest
            ),
            certificates,
        });
    }
    if chains.is_empty() {
        return Err(UsageError(format!(
            "{reference} has no readable Notary signature"
        )));
    }
    Ok(chains)
}

fn oras_json(args: &[&str], plain_http: bool) -> Result<Value, UsageError> {
    let out = oras(args, plain_http)?;
    serde_json::from_slice(&out)
        .map_err(|e| UsageError(format!("oras {} did not print JSON: {e}", args.join(" "))))
}

/// Runs `oras` from PATH with a deadline.
fn oras(args: &[&str], plain_http: bool) -> Result<Vec<u8>, UsageError> {
    let mut all: Vec<&str> = args.to_vec();
    if plain_http {
        // Before the reference, which every call passes last.
        all.insert(all.len().saturating_sub(1), "--plain-http");
    }
    let mut child = Command::new("oras")
        .args(&all)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            UsageError(format!(
                "cannot run `oras` ({e}): reading signatures from a registry needs the oras CLI on PATH (https://oras.land)"
            ))
        })?;
    // Drain both pipes while waiting, so a large blob cannot block the child.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(UsageError(format!(
                    "oras {} did not finish within 60s",
                    all.join(" ")
                )));
            }
        }
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    if !out.status.success() {
        return Err(UsageError(format!(
            "oras {} failed: {}",
            all.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}
