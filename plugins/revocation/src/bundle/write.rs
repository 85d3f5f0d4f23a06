//! Writing a bundle folder: each object under a name derived from its SHA-256, then
//! `manifest.json`, then removal of the files the previous manifest listed and the new one does
//! not (files the tool never wrote are left alone).
//!
//! Every file is written to a temporary name in the folder and renamed over its target, and the
//! manifest last: a verifier reading the folder during a refresh sees the old manifest (whose
//! files are still there) or the new one (whose files are already there), never a torn file.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;
use std::time::SystemTime;

use base64::Engine as _;

use super::manifest::{
    FORMAT, MANIFEST_FILE, Manifest, ManifestChain, ManifestFile, format_time, sha256_hex,
};
use super::{Fetched, FetchedKind};

/// What a write changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written (new content).
    pub written: Vec<String>,
    /// Files already present with the same content.
    pub unchanged: Vec<String>,
    /// Files of the previous manifest that no chain needs any more, removed.
    pub pruned: Vec<String>,
    pub manifest: Manifest,
}

/// The file name of an object: its kind and the start of its SHA-256.
pub fn file_name(object: &Fetched) -> String {
    let hash = sha256_hex(&object.der);
    let (prefix, ext) = match object.kind {
        FetchedKind::Ocsp => ("ocsp", "ocsp"),
        FetchedKind::Crl => ("crl", "crl"),
        FetchedKind::DeltaCrl => ("delta", "crl"),
    };
    format!("{prefix}-{}.{ext}", &hash[..32])
}

/// Writes `objects` and a manifest naming `chains` (name, DER leaf first) into `dir`, creating
/// it if needed, and prunes what the previous manifest listed and this one does not.
pub fn write_bundle(
    dir: &Path,
    chains: &[(String, Vec<Vec<u8>>)],
    objects: &[Fetched],
    now: SystemTime,
) -> std::io::Result<WriteReport> {
    std::fs::create_dir_all(dir)?;
    let previous: BTreeSet<String> = Manifest::read(dir)
        .map(|m| m.files.into_iter().map(|f| f.file).collect())
        .unwrap_or_default();
    let mut report = WriteReport::default();
    let mut files = Vec::new();
    let mut names = BTreeSet::new();
    for object in objects {
        let name = file_name(object);
        if !names.insert(name.clone()) {
            continue;
        }
        let target = dir.join(&name);
        if std::fs::read(&target).is_ok_and(|b| b == object.der) {
            report.unchanged.push(name.clone());
        } else {
            write_atomic(dir, &name, &object.der)?;
            report.written.push(name.clone());
        }
        files.push(ManifestFile {
            file: name,
            kind: object.kind.as_str().to_string(),
            covers: object.covers.clone(),
            issuer: object.issuer.clone(),
            serial: object.serial.clone(),
            url: object.url.clone(),
            this_update: format_time(object.this_update),
            next_update: object.next_update.map(format_time),
            expires: object.expires.map(format_time),
            sha256: sha256_hex(&object.der),
            size: object.der.len() as u64,
        });
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let manifest = Manifest {
        format: FORMAT.to_string(),
        generated: format_time(now),
        chains: chains
            .iter()
            .map(|(name, certs)| ManifestChain {
                name: name.clone(),
                certificates: certs.iter().map(|c| b64.encode(c)).collect(),
            })
            .collect(),
        files,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    json.push(b'\n');
    write_atomic(dir, MANIFEST_FILE, &json)?;
    for old in previous.difference(&names) {
        if super::manifest::safe_name(old).is_ok() {
            match std::fs::remove_file(dir.join(old)) {
                Ok(()) => report.pruned.push(old.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    report.manifest = manifest;
    Ok(report)
}

/// Writes `bytes` to `dir/.name.tmp-<pid>` and renames it to `dir/name`.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
